/*-------------------------------------------------------------------------
 *
 * validate.c
 *		validate: migration files compared with the database (stub: wp10-5).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

int
cmd_validate(PGconn *conn, const ClientOptions *opts)
{
	return EXIT_ERROR;
}
