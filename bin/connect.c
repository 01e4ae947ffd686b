/*-------------------------------------------------------------------------
 *
 * connect.c
 *		libpq connections, the extension version check, init (stub: wp10-2).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

PGconn *
client_connect(const ClientOptions *opts, const char *dbname,
			   bool require_extension)
{
	const char *keywords[] = {"host", "port", "user", "dbname",
	"fallback_application_name", NULL};
	const char *values[] = {opts->host, opts->port, opts->username, dbname,
	"pg_migrate", NULL};
	PGconn	   *conn = PQconnectdbParams(keywords, values, true);

	if (PQstatus(conn) != CONNECTION_OK)
	{
		out_error("%s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

bool
check_extension(PGconn *conn, bool quiet)
{
	return true;
}

const char *
redact_conninfo(const char *conninfo)
{
	return conninfo;
}
