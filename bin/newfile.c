/*-------------------------------------------------------------------------
 *
 * newfile.c
 *		The "new" command: an up and a down file in the directory's layout (stub: wp10-3).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

int
cmd_new(const ClientOptions *opts)
{
	return EXIT_ERROR;
}
