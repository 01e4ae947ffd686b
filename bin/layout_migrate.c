/*-------------------------------------------------------------------------
 *
 * layout_migrate.c
 *		The project's own layout: <version>__<name>.up.sql and an optional
 *		<version>__<name>.down.sql (examples/, scripts/lib.sh).
 *
 * The version is everything before the first "__" and may be any version
 * the server accepts (20250101090000, 001, 1.2.3); one it does not accept
 * is reported by layout.c with the file's name.  This is the layout
 * "pg_migrate new" writes in an empty directory.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

static FileRole
parse_name(const char *filename, char **version, char **name)
{
	const char *sep = strstr(filename, "__");
	FileRole	role;
	size_t		stem;

	role = up_down_suffix(filename, &stem);
	if (role == FILE_OTHER)
		return FILE_OTHER;
	if (sep == NULL || sep == filename || (size_t) (sep - filename) + 2 >= stem)
		return FILE_OTHER;
	*version = pnstrdup(filename, sep - filename);
	*name = pnstrdup(sep + 2, stem - (sep - filename) - 2);
	return role;				/* an invalid version is reported later */
}

static bool
migrate_claims(LayoutContext *ctx, DirEntry *entry)
{
	return entry_parses(entry, parse_name);
}

static bool
migrate_read(LayoutContext *ctx)
{
	return read_named_files(ctx, "migrate", parse_name,
							"<version>__<name>.up.sql or <version>__<name>.down.sql");
}

const LayoutDef layout_migrate = {"migrate", migrate_claims, migrate_read};
