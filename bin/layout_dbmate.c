/*-------------------------------------------------------------------------
 *
 * layout_dbmate.c
 *		dbmate: one file <version>_<name>.sql holding both scripts, the up
 *		script after a "-- migrate:up" line and the down script after a
 *		"-- migrate:down" line.
 *
 * The marker lines may carry options; dbmate knows one, transaction:false,
 * which becomes "-- @transaction: false" at the top of that script.  Text
 * before "-- migrate:up" belongs to neither script (the metadata header
 * therefore goes right after the marker line).  Without a
 * "-- migrate:down" line the migration is irreversible; with an empty
 * section it is reverted by running nothing, as dbmate does.
 *
 * The sections are found by this hand-written line scanner because no
 * library we link knows dbmate's format; it follows dbmate's own rule: a
 * marker is a line starting with "--", optional blanks, then
 * "migrate:up" or "migrate:down".
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

typedef enum Marker
{
	MARKER_NONE,
	MARKER_UP,
	MARKER_DOWN
} Marker;

/* which marker the line at "line" is; *options gets the rest of the line */
static Marker
marker_at(const char *line, const char **options)
{
	const char *p = line;

	if (strncmp(p, "--", 2) != 0)
		return MARKER_NONE;
	p += 2;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "migrate:up", 10) == 0)
	{
		*options = p + 10;
		return MARKER_UP;
	}
	if (strncmp(p, "migrate:down", 12) == 0)
	{
		*options = p + 12;
		return MARKER_DOWN;
	}
	return MARKER_NONE;
}

bool
has_dbmate_marker(const char *text)
{
	const char *options;

	for (const char *line = text; line != NULL;)
	{
		if (marker_at(line, &options) == MARKER_UP)
			return true;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

/*
 * Options of a marker line, up to its end: "transaction:false" sets
 * *notx; anything else is refused, so a typo is not silently ignored.
 */
static bool
read_options(LayoutContext *ctx, const char *path, const char *options,
			 bool *notx)
{
	const char *eol = strchr(options, '\n');
	char	   *copy = pnstrdup(options, eol ? eol - options : strlen(options));
	char	   *save = NULL;
	bool		ok = true;

	*notx = false;
	for (char *opt = strtok_r(copy, " \t\r", &save); opt && ok;
		 opt = strtok_r(NULL, " \t\r", &save))
	{
		if (strcmp(opt, "transaction:false") == 0)
			*notx = true;
		else if (strcmp(opt, "transaction:true") != 0)
			ok = layout_error(ctx, "file \"%s/%s\" has the unknown dbmate option \"%s\" (dbmate knows transaction:false)",
							  ctx->dir, path, opt);
	}
	free(copy);
	return ok;
}

/* the text after the marker line that starts at "line", up to "end" */
static char *
section(const char *line, const char *end)
{
	const char *start = strchr(line, '\n');

	if (start == NULL || start >= end)
		return pg_strdup("");
	start++;
	return pnstrdup(start, end - start);
}

static bool
read_one(LayoutContext *ctx, DirEntry *e)
{
	const char *text = entry_text(ctx, e);
	const char *up_line = NULL;
	const char *down_line = NULL;
	const char *up_opts = NULL;
	const char *down_opts = NULL;
	int			ndigits = digit_prefix(e->name);
	size_t		stem = strlen(e->name) - strlen(".sql");
	MigrationFile *m;
	char	   *version;
	char	   *name;
	bool		up_notx;
	bool		down_notx = false;

	if (text == NULL)
		return false;
	if (ndigits == 0 || e->name[ndigits] != '_' || (size_t) ndigits + 1 >= stem ||
		has_suffix(e->name, ".up.sql") || has_suffix(e->name, ".down.sql"))
		return layout_error(ctx, "file \"%s/%s\" is not a file of the dbmate layout (expected <version>_<name>.sql)",
							ctx->dir, e->name);
	for (const char *line = text; line != NULL;)
	{
		const char *options;
		Marker		mk = marker_at(line, &options);

		if (mk == MARKER_UP && up_line == NULL)
		{
			up_line = line;
			up_opts = options;
		}
		else if (mk == MARKER_DOWN && down_line == NULL)
		{
			down_line = line;
			down_opts = options;
		}
		else if (mk != MARKER_NONE)
			return layout_error(ctx, "file \"%s/%s\" has more than one \"-- migrate:%s\" line",
								ctx->dir, e->name, mk == MARKER_UP ? "up" : "down");
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (up_line == NULL)
		return layout_error(ctx, "file \"%s/%s\" has no \"-- migrate:up\" line",
							ctx->dir, e->name);
	if (down_line != NULL && down_line < up_line)
		return layout_error(ctx, "file \"%s/%s\" has its \"-- migrate:down\" section before its \"-- migrate:up\" section",
							ctx->dir, e->name);
	if (!read_options(ctx, e->name, up_opts, &up_notx) ||
		(down_line && !read_options(ctx, e->name, down_opts, &down_notx)))
		return false;

	version = pnstrdup(e->name, ndigits);
	name = pnstrdup(e->name + ndigits + 1, stem - ndigits - 1);
	m = layout_add(ctx, version, name,
				   section(up_line, down_line ? down_line : text + strlen(text)),
				   e->name);
	free(version);
	free(name);
	if (down_line != NULL)
	{
		m->down = section(down_line, text + strlen(text));
		m->down_path = pg_strdup(e->name);
	}
	if (up_notx && !inject_header(ctx, &m->up, e->name, "transaction", "false"))
		return false;
	if (down_notx && !inject_header(ctx, &m->down, e->name, "transaction", "false"))
		return false;
	return true;
}

static bool
dbmate_claims(LayoutContext *ctx, DirEntry *entry)
{
	int			ndigits = digit_prefix(entry->name);
	char	   *text;

	if (entry->is_dir || !has_suffix(entry->name, ".sql") ||
		has_suffix(entry->name, ".up.sql") ||
		has_suffix(entry->name, ".down.sql") ||
		ndigits == 0 || entry->name[ndigits] != '_')
		return false;
	text = entry_text(ctx, entry);
	return text != NULL && has_dbmate_marker(text);
}

static bool
dbmate_read(LayoutContext *ctx)
{
	for (int i = 0; i < ctx->nentries; i++)
	{
		DirEntry   *e = &ctx->entries[i];

		if (e->is_dir || ignored_file(e))
			continue;
		if (!read_one(ctx, e))
			return false;
	}
	return true;
}

const LayoutDef layout_dbmate = {"dbmate", dbmate_claims, dbmate_read};
