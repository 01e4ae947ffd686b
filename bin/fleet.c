/*-------------------------------------------------------------------------
 *
 * fleet.c
 *		One command against many databases, --jobs at a time (stub: wp10-4).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

int
run_fleet(const ClientOptions *opts, char **dbnames, int ndbnames)
{
	int			worst = EXIT_OK;

	for (int i = 0; i < ndbnames; i++)
	{
		int			rc = run_command(opts, dbnames[i]);

		if (rc > worst)
			worst = rc;
	}
	return worst;
}
