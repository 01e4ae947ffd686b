/*-------------------------------------------------------------------------
 *
 * sync.c
 *		Registered state, incremental batched registration, and up (stub: wp10-5).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

bool
fetch_registered(PGconn *conn, RegisteredSet *reg)
{
	memset(reg, 0, sizeof(*reg));
	return false;
}

int
sync_files(PGconn *conn, const ClientOptions *opts, const MigrationSet *set,
		   const RegisteredSet *reg)
{
	return -1;
}

int
cmd_up(PGconn *conn, const ClientOptions *opts)
{
	return EXIT_ERROR;
}
