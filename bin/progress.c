/*-------------------------------------------------------------------------
 *
 * progress.c
 *		Live progress of a running command over a second connection (stub: wp10-4).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

PGresult *
exec_with_progress(PGconn *conn, const ClientOptions *opts, const char *sql,
				   int nparams, const char *const *params)
{
	return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
}
