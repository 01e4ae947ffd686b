/*-------------------------------------------------------------------------
 *
 * layout_flyway.c
 *		Flyway: V<version>__<description>.sql, undone by
 *		U<version>__<description>.sql, and repeatable R__<description>.sql.
 *
 * As in Flyway, "_" in a version separates its parts like ".", so V1_1 is
 * version 1.1; the description starts after the first "__".  A repeatable
 * migration has no version in Flyway; here it gets the version
 * "R__<description>", which the server accepts, which stays the same
 * while the file keeps its name, and which sorts after every numeric
 * version (a letter sorts after a digit), as Flyway runs repeatables after
 * the versioned migrations.  Its up script gets "-- @repeatable: true", so
 * that the server applies it again when its content changes.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

#define REPEATABLE_PREFIX "R__"

static FileRole
parse_name(const char *filename, char **version, char **name)
{
	size_t		stem = strlen(filename) - strlen(".sql");
	const char *sep;
	FileRole	role;

	if (!has_suffix(filename, ".sql") || has_suffix(filename, ".up.sql") ||
		has_suffix(filename, ".down.sql"))
		return FILE_OTHER;
	if (strncmp(filename, REPEATABLE_PREFIX, 3) == 0)
	{
		if (stem <= 3)
			return FILE_OTHER;
		*version = pnstrdup(filename, stem);
		*name = pnstrdup(filename + 3, stem - 3);
		return FILE_UP;
	}
	if (filename[0] == 'V')
		role = FILE_UP;
	else if (filename[0] == 'U')
		role = FILE_DOWN;
	else
		return FILE_OTHER;
	sep = strstr(filename + 1, "__");
	if (sep == NULL || !isdigit((unsigned char) filename[1]) ||
		(size_t) (sep - filename) + 2 >= stem ||
		strspn(filename + 1, "0123456789._") < (size_t) (sep - filename - 1))
		return FILE_OTHER;
	*version = pnstrdup(filename + 1, sep - filename - 1);
	for (char *p = *version; *p; p++)
		if (*p == '_')
			*p = '.';
	*name = pnstrdup(sep + 2, stem - (sep - filename) - 2);
	return role;
}

static bool
flyway_claims(LayoutContext *ctx, DirEntry *entry)
{
	return entry_parses(entry, parse_name);
}

static bool
flyway_read(LayoutContext *ctx)
{
	MigrationSet *set = ctx->set;

	if (!read_named_files(ctx, "flyway", parse_name,
						  "V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql"))
		return false;
	for (int i = 0; i < set->nfiles; i++)
	{
		MigrationFile *m = &set->files[i];

		if (strncmp(m->version, REPEATABLE_PREFIX, 3) != 0)
			continue;
		m->repeatable = true;
		if (!inject_header(ctx, &m->up, m->up_path, "repeatable", "true"))
			return false;
	}
	return true;
}

const LayoutDef layout_flyway = {"flyway", flyway_claims, flyway_read};
