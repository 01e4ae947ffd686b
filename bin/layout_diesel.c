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

/* trim blanks at both ends, in place */
static char *
trim(char *s)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	for (end = s + strlen(s); end > s && isspace((unsigned char) end[-1]);)
		*--end = '\0';
	return s;
}

/* a TOML key: bare (letters, digits, "_", "-"), dotted, or quoted */
static bool
is_toml_key(const char *key)
{
	size_t		len = strlen(key);

	if (len >= 2 && (key[0] == '"' || key[0] == '\'') && key[len - 1] == key[0])
		return true;
	return len > 0 &&
		strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == len;
}

/*
 * The line where "key" of "section" was first given, or 0.  keys holds
 * "section]key" strings and their line numbers; a metadata.toml has a
 * handful of lines, so a linear search is enough.
 */
static int
first_given(char **keys, const int *lines, int nkeys, const char *qualified)
{
	for (int i = 0; i < nkeys; i++)
		if (strcmp(keys[i], qualified) == 0)
			return lines[i];
	return 0;
}

/*
 * run_in_transaction from metadata.toml.  Diesel's metadata.toml has one
 * key, so this reads "key = value" lines rather than TOML (no TOML reader
 * is linked).  It is still strict about what it does not understand: a
 * line must be blank, a "#" comment, a "[section]" header or "key =
 * value", and a key may not be given twice in a section, as TOML says;
 * anything else is refused with its line, since a garbled file would
 * otherwise silently run a migration in a transaction it was meant to run
 * without.  Only the top-level run_in_transaction is read (true or
 * false); other keys are left to Diesel.
 */
static bool
read_metadata(LayoutContext *ctx, const char *path, bool *in_transaction)
{
	char	   *text = layout_read_file(ctx, path);
	char	   *section = pg_strdup("");
	char	  **keys = NULL;
	int		   *lines = NULL;
	int			nkeys = 0;
	int			lineno = 0;
	bool		ok = true;
	char	   *next;

	*in_transaction = true;
	if (text == NULL)
		return false;
	for (char *line = text; line != NULL && ok; line = next)
	{
		char	   *hash;
		char	   *eq;
		char	   *key;
		char	   *bare;
		char	   *value;
		char	   *qualified;
		int			first;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		line = trim(line);
		if (*line == '\0')
			continue;
		if (line[0] == '[' && line[strlen(line) - 1] == ']')
		{
			line[strlen(line) - 1] = '\0';
			free(section);
			section = pg_strdup(trim(line + 1));
			continue;
		}

		/* "key = value": the line stays whole for the message */
		eq = strchr(line, '=');
		key = eq ? pnstrdup(line, eq - line) : NULL;
		bare = key ? trim(key) : NULL;
		value = eq ? trim(eq + 1) : NULL;
		if (key == NULL || *value == '\0' || !is_toml_key(bare))
		{
			ok = layout_error(ctx, "file \"%s/%s\" line %d: expected \"key = value\", \"[section]\" or a \"#\" comment, found \"%s\"",
							  ctx->dir, path, lineno, line);
			free(key);
			break;
		}
		qualified = psprintf("%s]%s", section, bare);
		first = first_given(keys, lines, nkeys, qualified);
		if (first > 0)
			ok = layout_error(ctx, "file \"%s/%s\" line %d: key \"%s\" is given twice (first at line %d)",
							  ctx->dir, path, lineno, bare, first);
		else if (section[0] == '\0' &&
				 strcmp(bare, "run_in_transaction") == 0 &&
				 strcmp(value, "true") != 0)
		{
			if (strcmp(value, "false") == 0)
				*in_transaction = false;
			else
				ok = layout_error(ctx, "file \"%s/%s\" line %d gives run_in_transaction the value \"%s\" (expected true or false)",
								  ctx->dir, path, lineno, value);
		}
		free(key);
		keys = pg_realloc(keys, sizeof(char *) * (nkeys + 1));
		lines = pg_realloc(lines, sizeof(int) * (nkeys + 1));
		keys[nkeys] = qualified;
		lines[nkeys++] = lineno;
	}
	for (int i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(lines);
	free(section);
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
