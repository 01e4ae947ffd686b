/*-------------------------------------------------------------------------
 *
 * layout_diesel.c
 *		Diesel: one directory <version>_<name>/ per migration, holding
 *		up.sql, down.sql and optionally metadata.toml.
 *
 * The version is the directory name before its first "_" (Diesel writes
 * 2017-07-23-163208 or 20170723163208; 00000000000000 for its initial
 * setup), the name the rest.  metadata.toml's run_in_transaction = false
 * becomes "-- @transaction: false" at the top of both scripts, since
 * Diesel runs neither in a transaction then.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

static bool
diesel_dir_name(const char *name, char **version, char **mname)
{
	const char *sep = strchr(name, '_');

	if (!isdigit((unsigned char) name[0]) || sep == NULL || sep[1] == '\0')
		return false;
	*version = pnstrdup(name, sep - name);
	*mname = pg_strdup(sep + 1);
	return true;
}

static bool
diesel_claims(LayoutContext *ctx, DirEntry *entry)
{
	char	   *version;
	char	   *name;
	char	   *up;
	bool		found;

	if (!entry->is_dir || !diesel_dir_name(entry->name, &version, &name))
		return false;
	up = psprintf("%s/up.sql", entry->name);
	found = path_exists(ctx, up, NULL);
	free(up);
	free(version);
	free(name);
	return found;
}

/*
 * run_in_transaction from metadata.toml.  Diesel's metadata.toml has one
 * key, so this reads "key = value" lines rather than TOML (no TOML reader
 * is linked): blanks and "#" comments are skipped, and the value may be
 * true or false.  Any other key is left to Diesel.
 */
static bool
read_metadata(LayoutContext *ctx, const char *path, bool *in_transaction)
{
	char	   *text = layout_read_file(ctx, path);
	char	   *save = NULL;
	bool		ok = true;

	*in_transaction = true;
	if (text == NULL)
		return false;
	for (char *line = strtok_r(text, "\n", &save); line && ok;
		 line = strtok_r(NULL, "\n", &save))
	{
		char	   *hash = strchr(line, '#');
		char	   *eq;
		char	   *key = line;
		char	   *value;
		char	   *end;

		if (hash)
			*hash = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		value = eq + 1;
		while (isspace((unsigned char) *key))
			key++;
		for (end = key + strlen(key); end > key && isspace((unsigned char) end[-1]);)
			*--end = '\0';
		while (isspace((unsigned char) *value))
			value++;
		for (end = value + strlen(value); end > value && isspace((unsigned char) end[-1]);)
			*--end = '\0';
		if (strcmp(key, "run_in_transaction") != 0)
			continue;
		if (strcmp(value, "false") == 0)
			*in_transaction = false;
		else if (strcmp(value, "true") != 0)
			ok = layout_error(ctx, "file \"%s/%s\" gives run_in_transaction the value \"%s\" (expected true or false)",
							  ctx->dir, path, value);
	}
	free(text);
	return ok;
}

static bool
read_one(LayoutContext *ctx, DirEntry *e, const char *version,
		 const char *name)
{
	char	   *up_path = psprintf("%s/up.sql", e->name);
	char	   *down_path = psprintf("%s/down.sql", e->name);
	char	   *meta_path = psprintf("%s/metadata.toml", e->name);
	bool		in_transaction = true;
	MigrationFile *m;
	char	   *up;

	if (!path_exists(ctx, up_path, NULL))
	{
		if (path_exists(ctx, down_path, NULL))
			return layout_error(ctx, "down file \"%s/%s\" has no up file (\"%s/%s\" is missing)",
								ctx->dir, down_path, ctx->dir, up_path);
		return layout_error(ctx, "directory \"%s/%s\" has no up.sql", ctx->dir, e->name);
	}
	if (path_exists(ctx, meta_path, NULL) &&
		!read_metadata(ctx, meta_path, &in_transaction))
		return false;
	up = layout_read_file(ctx, up_path);
	if (up == NULL)
		return false;
	m = layout_add(ctx, version, name, up, up_path);
	if (path_exists(ctx, down_path, NULL))
	{
		m->down = layout_read_file(ctx, down_path);
		if (m->down == NULL)
			return false;
		m->down_path = down_path;
	}
	if (!in_transaction &&
		(!inject_header(ctx, &m->up, up_path, "transaction", "false") ||
		 (m->down && !inject_header(ctx, &m->down, down_path, "transaction", "false"))))
		return false;
	free(up_path);
	free(meta_path);
	return true;
}

static bool
diesel_read(LayoutContext *ctx)
{
	for (int i = 0; i < ctx->nentries; i++)
	{
		DirEntry   *e = &ctx->entries[i];
		char	   *version;
		char	   *name;
		bool		ok;

		if (!e->is_dir)
		{
			if (ignored_file(e))
				continue;
			return layout_error(ctx, "file \"%s/%s\" is not part of the diesel layout (expected <version>_<name>/up.sql and down.sql)",
								ctx->dir, e->name);
		}
		if (!diesel_dir_name(e->name, &version, &name))
			continue;			/* not a migration directory */
		ok = read_one(ctx, e, version, name);
		free(version);
		free(name);
		if (!ok)
			return false;
	}
	return true;
}

const LayoutDef layout_diesel = {"diesel", diesel_claims, diesel_read};
