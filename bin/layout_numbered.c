/*-------------------------------------------------------------------------
 *
 * layout_numbered.c
 *		Numbered files: NNN_name.sql, reverted by rollback/NNN_rollback.sql
 *		or NNN_name_rollback.sql; and the reader the timestamp layout
 *		shares (layout_timestamp.c).
 *
 * The version is the run of digits before the first "_", as written (so
 * "001" stays "001"; the server compares it as the number 1).  A down
 * file is found in three places, by version: NNN_name_rollback.sql beside
 * the up file, and rollback/NNN_rollback.sql or rollback/NNN_name*.sql in
 * the rollback/ subdirectory.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

#define ROLLBACK_SUFFIX "_rollback"

static FileRole
parse_name(const char *filename, char **version, char **name)
{
	int			ndigits = digit_prefix(filename);
	size_t		stem = strlen(filename) - strlen(".sql");
	FileRole	role = FILE_UP;

	if (!has_suffix(filename, ".sql") || has_suffix(filename, ".up.sql") ||
		has_suffix(filename, ".down.sql") || ndigits == 0 ||
		filename[ndigits] != '_' || (size_t) ndigits + 1 >= stem)
		return FILE_OTHER;
	if (stem >= strlen(ROLLBACK_SUFFIX) + ndigits &&
		strncmp(filename + stem - strlen(ROLLBACK_SUFFIX), ROLLBACK_SUFFIX,
				strlen(ROLLBACK_SUFFIX)) == 0)
	{
		role = FILE_DOWN;
		stem -= strlen(ROLLBACK_SUFFIX);
	}
	*version = pnstrdup(filename, ndigits);
	*name = pnstrdup(filename + ndigits + 1,
					 (size_t) ndigits + 1 < stem ? stem - ndigits - 1 : 0);
	return role;
}

/*
 * An up or rollback file of the numbered (timestamp false) or timestamp
 * layout: the two differ only in the 14 digits of YYYYMMDDHHMMSS, and a
 * file with a "-- migrate:up" line is dbmate's.
 */
bool
prefixed_claims(LayoutContext *ctx, DirEntry *entry, bool timestamp)
{
	char	   *text;

	if (!entry_parses(entry, parse_name))
		return false;
	if ((digit_prefix(entry->name) == 14) != timestamp)
		return false;
	text = entry_text(ctx, entry);
	return text != NULL && !has_dbmate_marker(text);
}

/* the down files of rollback/: NNN_rollback.sql, NNN_name_rollback.sql, NNN_name.sql */
static bool
read_rollback_dir(LayoutContext *ctx, const char *layout)
{
	LayoutContext sub;
	char	   *subdir = psprintf("%s/rollback", ctx->dir);
	bool		ok;

	memset(&sub, 0, sizeof(sub));
	ok = list_directory(&sub, subdir, true);
	for (int i = 0; i < sub.nentries && ok; i++)
	{
		DirEntry   *e = &sub.entries[i];
		int			ndigits = digit_prefix(e->name);
		char	   *version;
		char	   *path;
		char	   *text;

		if (e->is_dir || ignored_file(e))
			continue;
		if (ndigits == 0 || e->name[ndigits] != '_')
		{
			ok = layout_error(ctx, "file \"%s/%s\" is not a down file of the %s layout (expected rollback/<version>_rollback.sql)",
							  subdir, e->name, layout);
			break;
		}
		text = layout_read_file(&sub, e->name);
		if (text == NULL)
		{
			ok = layout_error(ctx, "%s", sub.errmsg);
			break;
		}
		version = pnstrdup(e->name, ndigits);
		path = psprintf("rollback/%s", e->name);
		ok = attach_down(ctx, version, text, path);
		free(version);
		free(path);
	}
	if (!ok && ctx->errmsg == NULL)
		layout_error(ctx, "%s", sub.errmsg);
	free(subdir);
	return ok;
}

bool
read_prefixed_layout(LayoutContext *ctx, const char *layout)
{
	DirEntry   *rollback = find_entry(ctx, "rollback");
	const char *expected = strcmp(layout, "timestamp") == 0 ?
		"YYYYMMDDHHMMSS_<name>.sql or YYYYMMDDHHMMSS_<name>_rollback.sql" :
		"<number>_<name>.sql or <number>_<name>_rollback.sql";

	if (!read_named_files(ctx, layout, parse_name, expected))
		return false;
	if (rollback != NULL && rollback->is_dir)
		return read_rollback_dir(ctx, layout);
	return true;
}

static bool
numbered_claims(LayoutContext *ctx, DirEntry *entry)
{
	return prefixed_claims(ctx, entry, false);
}

static bool
numbered_read(LayoutContext *ctx)
{
	return read_prefixed_layout(ctx, "numbered");
}

const LayoutDef layout_numbered = {"numbered", numbered_claims, numbered_read};
