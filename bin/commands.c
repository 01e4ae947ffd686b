/*-------------------------------------------------------------------------
 *
 * commands.c
 *		One function per command, mapped onto the extension's SQL API (stub: wp10-2).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

bool
command_needs_database(const char *command)
{
	return strcmp(command, "new") != 0 && strcmp(command, "files") != 0;
}

int
run_command(const ClientOptions *opts, const char *dbname)
{
	PGconn	   *conn;
	PGresult   *res;
	int			rc = EXIT_OK;

	if (strcmp(opts->command, "new") == 0)
		return cmd_new(opts);
	conn = client_connect(opts, dbname, true);
	if (conn == NULL)
		return EXIT_ERROR;
	if (strcmp(opts->command, "status") == 0)
	{
		res = PQexec(conn, "SELECT * FROM migrate.status");
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			out_table(res, "status");
		else
		{
			out_pg_error(conn, res);
			rc = EXIT_ERROR;
		}
		PQclear(res);
	}
	else if (strcmp(opts->command, "up") == 0)
		rc = cmd_up(conn, opts);
	else if (strcmp(opts->command, "validate") == 0)
		rc = cmd_validate(conn, opts);
	else
	{
		out_error("unknown command \"%s\"", opts->command);
		rc = EXIT_USAGE;
	}
	PQfinish(conn);
	return rc;
}
