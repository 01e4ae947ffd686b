/*-------------------------------------------------------------------------
 *
 * layout_golang.c
 *		golang-migrate: <version>_<name>.up.sql and <version>_<name>.down.sql.
 *
 * The version is the run of digits before the first "_" (a sequence
 * number such as 000001 or a timestamp).  A name starting with "_" would
 * make the file "<version>__<name>", the project's own layout, so it is
 * left to that layout; so is any name holding "__" when the layout is
 * detected ("2_1__x.up.sql" is version 2_1 there).
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

static FileRole
parse_name(const char *filename, char **version, char **name)
{
	int			ndigits = digit_prefix(filename);
	FileRole	role;
	size_t		stem;

	role = up_down_suffix(filename, &stem);
	if (role == FILE_OTHER)
		return FILE_OTHER;
	if (ndigits == 0 || filename[ndigits] != '_' ||
		filename[ndigits + 1] == '_' || (size_t) ndigits + 1 >= stem)
		return FILE_OTHER;
	*version = pnstrdup(filename, ndigits);
	*name = pnstrdup(filename + ndigits + 1, stem - ndigits - 1);
	return role;
}

static bool
golang_claims(LayoutContext *ctx, DirEntry *entry)
{
	if (!entry_parses(entry, parse_name))
		return false;
	/* "2_1__x.up.sql" is version 2_1 of the project's own layout */
	return strstr(entry->name, "__") == NULL;
}

static bool
golang_read(LayoutContext *ctx)
{
	return read_named_files(ctx, "golang", parse_name,
							"<version>_<name>.up.sql or <version>_<name>.down.sql");
}

const LayoutDef layout_golang = {"golang", golang_claims, golang_read};
