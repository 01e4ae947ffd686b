/*-------------------------------------------------------------------------
 *
 * layout_sqitch.c
 *		Sqitch: sqitch.plan lists the changes in order, each with
 *		deploy/<change>.sql, revert/<change>.sql and verify/<change>.sql.
 *
 * The plan is read by a hand-written line parser (Sqitch's plan format
 * has no library in C; sqitch-plan(5) describes it):
 *
 *	 %syntax-version=1.0.0			pragmas, ignored
 *	 %project=flipr
 *	 users 2024-01-01T00:00:00Z Ann <ann@example.com> # a note
 *	 flips [users !oldflips] 2024-01-02T00:00:00Z Ann <ann@example.com>
 *	 @v1.0 2024-01-03T00:00:00Z Ann <ann@example.com> # a tag
 *
 * A change becomes the migration whose version is its position in the
 * plan, zero-padded to four digits (0001, 0002, ..., 9999, 10000, ...),
 * and whose name is the change's name.  The padding never depends on the
 * length of the plan: a version is registered for good, and the server
 * refuses 00001 as another spelling of a registered 0001, so a plan that
 * grows past 9,999 changes must keep the versions it already gave.
 *
 * What the change requires becomes a "-- @dependencies:" line at the top
 * of its up script, with the versions of the required changes ("users"
 * is the newest "users" planned before it, "users@v1.0" the newest one
 * planned before tag v1.0); a change required twice is one dependency.
 * Conflicts ("!oldflips") and requirements on other projects
 * ("other:users") cannot be expressed in the server's header: they are
 * left out with a warning on stderr, so that the user knows they are not
 * enforced.  A tag is kept with the change it follows
 * (MigrationFile.tags).  A change planned again after a tag ("reworked")
 * has its earlier scripts in deploy/<change>@<tag>.sql, as Sqitch keeps
 * them, where <tag> is the first tag after the earlier entry.
 *
 * Sqitch wraps scripts in BEGIN; ... COMMIT;, which the server accepts and
 * ignores.  Verify scripts end with ROLLBACK; instead: the server runs a
 * verify script inside the migration's transaction and refuses
 * transaction control, so a BEGIN; line at the start and a ROLLBACK; line
 * at the end are turned into comments; a verify script that then holds
 * nothing but comments (Sqitch's template) is no verify script at all.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

#define PLAN_FILE "sqitch.plan"

typedef struct PlanChange
{
	char	   *name;
	char	  **requires;
	int			nrequires;
	int			lineno;
	char	   *next_tag;		/* first tag after this entry, or NULL */
	char	  **tags;			/* tags right after it */
	int			ntags;
	int			tag_count;		/* tags planned before this change */
} PlanChange;

typedef struct PlanTag
{
	char	   *name;
	int			after;			/* index of the change it follows */
} PlanTag;

typedef struct Plan
{
	PlanChange *changes;
	int			nchanges;
	PlanTag    *tags;
	int			ntags;
} Plan;

static void
add_string(char ***list, int *n, const char *s, size_t len)
{
	*list = pg_realloc(*list, sizeof(char *) * (*n + 1));
	(*list)[(*n)++] = pnstrdup(s, len);
}

/*
 * One item of a change's [...] list: a requirement is kept once; a
 * conflict ("!name") or a requirement on another project ("project:name")
 * has no equivalent on the server, so it is dropped with a warning rather
 * than silently.
 */
static void
add_requirement(LayoutContext *ctx, PlanChange *c, const char *item,
				size_t len)
{
	if (*item == '!')
	{
		layout_warning(ctx, "%s/%s line %d: change \"%s\" conflicts with \"%.*s\": conflicts are not enforced",
					   ctx->dir, PLAN_FILE, c->lineno, c->name,
					   (int) len - 1, item + 1);
		return;
	}
	if (memchr(item, ':', len) != NULL)
	{
		layout_warning(ctx, "%s/%s line %d: change \"%s\" requires \"%.*s\" of another project: requirements on other projects are not enforced",
					   ctx->dir, PLAN_FILE, c->lineno, c->name,
					   (int) len, item);
		return;
	}
	for (int r = 0; r < c->nrequires; r++)
		if (strlen(c->requires[r]) == len &&
			strncmp(c->requires[r], item, len) == 0)
			return;
	add_string(&c->requires, &c->nrequires, item, len);
}

/* one change line of the plan: name, then [requires], then metadata */
static bool
parse_change(LayoutContext *ctx, Plan *plan, char *p, int lineno)
{
	PlanChange *c;
	size_t		len;

	if (*p == '-')
		return layout_error(ctx, "%s/%s line %d: revert entries (\"-change\") are not supported",
							ctx->dir, PLAN_FILE, lineno);
	if (*p == '+')
		p++;
	len = strcspn(p, " \t[");
	if (len == 0)
		return layout_error(ctx, "%s/%s line %d: a change has no name",
							ctx->dir, PLAN_FILE, lineno);
	plan->changes = pg_realloc(plan->changes, sizeof(PlanChange) * (plan->nchanges + 1));
	c = &plan->changes[plan->nchanges++];
	memset(c, 0, sizeof(*c));
	c->name = pnstrdup(p, len);
	c->lineno = lineno;
	c->tag_count = plan->ntags;
	p += len;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '[')
		return true;
	p++;
	for (;;)
	{
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ']')
			return true;
		if (*p == '\0')
			return layout_error(ctx, "%s/%s line %d: \"[\" without \"]\"",
								ctx->dir, PLAN_FILE, lineno);
		len = strcspn(p, " \t]");
		add_requirement(ctx, c, p, len);
		p += len;
	}
}

static bool
parse_plan(LayoutContext *ctx, char *text, Plan *plan)
{
	char	   *save = NULL;
	int			lineno = 0;
	char	   *next;

	memset(plan, 0, sizeof(*plan));
	for (char *line = text; line != NULL; line = next)
	{
		char	   *p = line;
		char	   *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		end = line + strlen(line);
		while (end > line && isspace((unsigned char) end[-1]))
			*--end = '\0';
		while (isspace((unsigned char) *p))
			p++;
		if (*p == '\0' || *p == '#' || *p == '%')
			continue;
		if (*p == '@')
		{
			size_t		len = strcspn(p + 1, " \t");
			PlanChange *last;

			if (plan->nchanges == 0)
				return layout_error(ctx, "%s/%s line %d: tag \"%.*s\" comes before any change",
									ctx->dir, PLAN_FILE, lineno, (int) len + 1, p);
			last = &plan->changes[plan->nchanges - 1];
			add_string(&last->tags, &last->ntags, p + 1, len);
			plan->tags = pg_realloc(plan->tags, sizeof(PlanTag) * (plan->ntags + 1));
			plan->tags[plan->ntags].name = pnstrdup(p + 1, len);
			plan->tags[plan->ntags].after = plan->nchanges - 1;
			plan->ntags++;
			continue;
		}
		if (!parse_change(ctx, plan, p, lineno))
			return false;
	}
	(void) save;

	/* the first tag after each entry, for the file names of reworked changes */
	for (int i = 0, t = 0; i < plan->nchanges; i++)
	{
		while (t < plan->ntags && plan->tags[t].after < i)
			t++;
		plan->changes[i].next_tag = t < plan->ntags ? plan->tags[t].name : NULL;
	}
	return true;
}

/* index of the change a "requires" item names, as seen from change "from" */
static int
resolve_requirement(const Plan *plan, int from, const char *req)
{
	const char *at = strchr(req, '@');
	size_t		len = at ? (size_t) (at - req) : strlen(req);
	int			limit = from;	/* search changes before this index */

	if (at != NULL)
	{
		int			t;

		for (t = 0; t < plan->ntags; t++)
			if (strcmp(plan->tags[t].name, at + 1) == 0)
				break;
		if (t == plan->ntags || plan->tags[t].after >= from)
			return -1;
		limit = plan->tags[t].after + 1;
	}
	for (int i = limit - 1; i >= 0; i--)
		if (strlen(plan->changes[i].name) == len &&
			strncmp(plan->changes[i].name, req, len) == 0)
			return i;
	return -1;
}

/* is "name" planned again after entry i? (then i's scripts carry a tag) */
static bool
reworked_later(const Plan *plan, int i)
{
	for (int j = i + 1; j < plan->nchanges; j++)
		if (strcmp(plan->changes[j].name, plan->changes[i].name) == 0)
			return true;
	return false;
}

static bool
is_line(const char *line, size_t len, const char *word)
{
	size_t		wlen = strlen(word);

	while (len > 0 && isspace((unsigned char) line[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char) *line))
	{
		line++;
		len--;
	}
	return len == wlen && pg_strncasecmp(line, word, wlen) == 0;
}

/* a line holding something other than blanks and a "--" comment */
static bool
is_statement_line(const char *line, size_t len)
{
	while (len > 0 && isspace((unsigned char) *line))
	{
		line++;
		len--;
	}
	return len > 0 && !(len >= 2 && strncmp(line, "--", 2) == 0);
}

/*
 * Turn Sqitch's "BEGIN; ... ROLLBACK;" verify script into one the server
 * accepts (see the file header); NULL when no check is left.
 */
static char *
adapt_verify(char *text)
{
	const char *first = NULL;
	const char *last = NULL;
	size_t		first_len = 0;
	size_t		last_len = 0;
	int			nstatements = 0;
	PQExpBufferData buf;

	for (const char *line = text; *line;)
	{
		const char *eol = strchr(line, '\n');
		size_t		len = eol ? (size_t) (eol - line) : strlen(line);

		if (is_statement_line(line, len))
		{
			if (first == NULL)
			{
				first = line;
				first_len = len;
			}
			last = line;
			last_len = len;
			nstatements++;
		}
		line += len + (eol ? 1 : 0);
	}
	if (first == NULL)
	{
		free(text);
		return NULL;
	}
	if (first == last || !is_line(first, first_len, "BEGIN;") ||
		!is_line(last, last_len, "ROLLBACK;"))
		return text;
	if (nstatements == 2)
	{
		free(text);
		return NULL;
	}
	initPQExpBuffer(&buf);
	appendBinaryPQExpBuffer(&buf, text, first - text);
	appendPQExpBufferStr(&buf, "-- BEGIN; (pg_migrate: checks run in the migration's transaction)");
	appendBinaryPQExpBuffer(&buf, first + first_len, last - (first + first_len));
	appendPQExpBufferStr(&buf, "-- ROLLBACK; (pg_migrate: checks run in the migration's transaction)");
	appendPQExpBufferStr(&buf, last + last_len);
	free(text);
	return buf.data;
}

/* deploy/<change>.sql, or deploy/<change>@<tag>.sql for a reworked entry */
static char *
script_path(const Plan *plan, int i, const char *kind)
{
	const PlanChange *c = &plan->changes[i];

	if (reworked_later(plan, i) && c->next_tag != NULL)
		return psprintf("%s/%s@%s.sql", kind, c->name, c->next_tag);
	return psprintf("%s/%s.sql", kind, c->name);
}

/* the version of the i-th change (from 0): see the file header */
static char *
change_version(int i)
{
	return psprintf("%04d", i + 1);
}

static bool
read_change(LayoutContext *ctx, const Plan *plan, int i)
{
	const PlanChange *c = &plan->changes[i];
	char	   *version = change_version(i);
	char	   *deploy = script_path(plan, i, "deploy");
	char	   *revert = script_path(plan, i, "revert");
	char	   *verify = script_path(plan, i, "verify");
	MigrationFile *m;
	char	   *up;

	if (!path_exists(ctx, deploy, NULL))
		return layout_error(ctx, "%s/%s line %d: change \"%s\" has no deploy script \"%s/%s\"",
							ctx->dir, PLAN_FILE, c->lineno, c->name,
							ctx->dir, deploy);
	up = layout_read_file(ctx, deploy);
	if (up == NULL)
		return false;
	m = layout_add(ctx, version, c->name, up, deploy);
	m->tags = c->tags;
	m->ntags = c->ntags;
	if (path_exists(ctx, revert, NULL))
	{
		m->down = layout_read_file(ctx, revert);
		if (m->down == NULL)
			return false;
		m->down_path = revert;
	}
	if (path_exists(ctx, verify, NULL))
	{
		char	   *text = layout_read_file(ctx, verify);

		if (text == NULL)
			return false;
		m->verify = adapt_verify(text);
	}
	if (c->nrequires > 0)
	{
		PQExpBufferData deps;

		initPQExpBuffer(&deps);
		for (int r = 0; r < c->nrequires; r++)
		{
			int			dep = resolve_requirement(plan, i, c->requires[r]);
			char	   *dep_version;
			bool		seen = false;

			if (dep < 0)
				return layout_error(ctx, "%s/%s line %d: change \"%s\" requires \"%s\", which is not planned before it",
									ctx->dir, PLAN_FILE, c->lineno, c->name,
									c->requires[r]);

			/* "users" and "users@v1.0" may name the same entry */
			for (int q = 0; q < r && !seen; q++)
				seen = (resolve_requirement(plan, i, c->requires[q]) == dep);
			if (seen)
				continue;
			dep_version = change_version(dep);
			appendPQExpBuffer(&deps, "%s%s", deps.len ? ", " : "", dep_version);
			free(dep_version);
		}
		if (!inject_header(ctx, &m->up, deploy, "dependencies", deps.data))
			return false;
		termPQExpBuffer(&deps);
	}
	free(version);
	free(verify);
	return true;
}

static bool
sqitch_claims(LayoutContext *ctx, DirEntry *entry)
{
	if (entry->is_dir)
		return strcmp(entry->name, "deploy") == 0 ||
			strcmp(entry->name, "revert") == 0 ||
			strcmp(entry->name, "verify") == 0;
	return strcmp(entry->name, PLAN_FILE) == 0;
}

static bool
sqitch_read(LayoutContext *ctx)
{
	char	   *text;
	Plan		plan;

	for (int i = 0; i < ctx->nentries; i++)
		if (!ctx->entries[i].is_dir && !ignored_file(&ctx->entries[i]))
			return layout_error(ctx, "file \"%s/%s\" is not part of the sqitch layout (scripts belong in deploy/, revert/ and verify/)",
								ctx->dir, ctx->entries[i].name);
	if (find_entry(ctx, PLAN_FILE) == NULL)
		return layout_error(ctx, "directory \"%s\" has no %s", ctx->dir, PLAN_FILE);
	text = layout_read_file(ctx, PLAN_FILE);
	if (text == NULL || !parse_plan(ctx, text, &plan))
		return false;
	for (int i = 0; i < plan.nchanges; i++)
		if (!read_change(ctx, &plan, i))
			return false;
	return true;
}

const LayoutDef layout_sqitch = {"sqitch", sqitch_claims, sqitch_read};
