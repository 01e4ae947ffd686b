/*-------------------------------------------------------------------------
 *
 * layout.c
 *		Reading every supported file layout into a MigrationSet (stub: wp10-3).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

static const char *const names[] = {NULL};

const char *const *
layout_names(void)
{
	return names;
}

bool
read_migrations(const char *dir, const char *layout, MigrationSet *set,
				char **errmsg)
{
	memset(set, 0, sizeof(*set));
	*errmsg = pg_strdup("not implemented");
	return false;
}

bool
read_migrations_opts(const char *dir, const char *layout, int flags,
					 MigrationSet *set, char **errmsg)
{
	return read_migrations(dir, layout, set, errmsg);
}
