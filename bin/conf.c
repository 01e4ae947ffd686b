/*-------------------------------------------------------------------------
 *
 * conf.c
 *		pg_migrate.conf environments and PGMIGRATE_* variables (stub: wp10-4).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

bool
load_config(ClientOptions *opts, char ***dbnames, int *ndbnames, char **errmsg)
{
	*dbnames = opts->dbnames;
	*ndbnames = opts->ndbnames;
	return true;
}
