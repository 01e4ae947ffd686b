/*-------------------------------------------------------------------------
 *
 * validate.c
 *		validate: migration files compared with the database.
 *
 * Reads the directory (keeping duplicate versions, to report them) and the
 * registered state (fetch_registered(), one query) and prints one finding
 * per difference:
 *
 *	edited			an applied migration whose file differs from what is
 *					registered, or whose registered scripts differ from the
 *					applied ones (migrate.status.changed)
 *	missing			a registered migration with no file
 *	pending			a file not applied, newer than the newest applied one
 *	out-of-order	a file not applied, older than the newest applied one
 *					(repeatable migrations left out of "newest applied")
 *	duplicate		two or more files with one version
 *
 * Exit 3 when there is any finding, 0 when files and database agree.
 * Nothing is registered.  Versions are compared by the server
 * (migrate.version_cmp), in one query, so that "older" means what it means
 * to apply().
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include "pqexpbuffer.h"

#define NFINDING_COLUMNS	5

typedef struct Findings
{
	char	  **cells;			/* nrows * NFINDING_COLUMNS */
	int			nrows;
	int			capacity;
	int			count_by_kind[5];	/* indexed like kinds[] */
} Findings;

static const char *const kinds[] =
{"edited", "missing", "pending", "out-of-order", "duplicate"};

enum
{
	EDITED, MISSING, PENDING, OUT_OF_ORDER, DUPLICATE
};

static void
add_finding(Findings *f, int kind, const char *version, const char *name,
			const char *file, char *detail)
{
	char	  **row;

	if (f->nrows == f->capacity)
	{
		f->capacity = Max(16, f->capacity * 2);
		f->cells = pg_realloc(f->cells, sizeof(char *) * f->capacity *
							  NFINDING_COLUMNS);
	}
	row = &f->cells[f->nrows++ * NFINDING_COLUMNS];
	row[0] = pg_strdup(kinds[kind]);
	row[1] = pg_strdup(version);
	row[2] = name ? pg_strdup(name) : NULL;
	row[3] = file ? pg_strdup(file) : NULL;
	row[4] = detail;
	f->count_by_kind[kind]++;
}

/* the first 12 digits of a checksum, enough to tell two apart in a table */
static const char *
short_checksum(const char *checksum)
{
	static char buf[2][16];
	static int	which = 0;

	if (checksum == NULL || checksum[0] == '\0')
		return "(none)";
	which = 1 - which;
	snprintf(buf[which], sizeof(buf[which]), "%.12s", checksum);
	return buf[which];
}

/* a file of an applied migration: edited in the file or in the database? */
static void
check_applied(Findings *f, const MigrationFile *file,
			  const RegisteredMigration *r)
{
	const char *file_down = file->down_checksum;

	if (strcmp(file->version, r->version) != 0)
		add_finding(f, EDITED, file->version, file->name, file->up_path,
					psprintf("registered as version %s; up refuses another spelling",
							 r->version));
	else if (!same_checksum(file->checksum, r->checksum))
		add_finding(f, EDITED, file->version, file->name, file->up_path,
					psprintf("up script differs from the registered one (registered %s, file %s)%s",
							 short_checksum(r->checksum),
							 short_checksum(file->checksum),
							 file->repeatable || r->repeatable ?
							 "; repeatable: up applies the new content again" : ""));
	else if (!same_checksum(file_down, r->down_checksum))
		add_finding(f, EDITED, file->version, file->name,
					file->down_path ? file->down_path : file->up_path,
					psprintf("down script differs from the registered one (registered %s, file %s)",
							 short_checksum(r->down_checksum),
							 short_checksum(file_down)));
	else if (strcmp(file->name, r->name) != 0)
		add_finding(f, EDITED, file->version, file->name, file->up_path,
					psprintf("registered with name \"%s\"", r->name));
	else if (r->changed)
		add_finding(f, EDITED, file->version, file->name, file->up_path,
					pg_strdup("the registered scripts differ from the applied ones (changed in the database; see migrate.repair)"));
}

/*
 * What the server says about each file, in one query: the registered
 * migration of the same version (naturally: "01" is "1"), whether the file
 * is older than the newest applied migration, and whether it has the
 * version of the file before it (the reader keeps duplicates next to
 * each other).  Versions are the server's to compare.  Repeatable
 * migrations (Flyway's R__name) do not count as the newest applied: their
 * versions sort after every number, so once one is applied every new
 * versioned file would look out of order.
 */
typedef struct FileMatch
{
	char	   *registered;		/* registered version, NULL: none */
	bool		older;			/* than the newest applied */
	bool		duplicate;		/* same version as the file before */
} FileMatch;

static const char *const match_sql =
"SELECT m.version, n.version,\n"
"       migrate.version_cmp(u.v, n.version) OPERATOR(pg_catalog.<) 0,\n"
"       migrate.version_cmp(u.v, pg_catalog.lag(u.v) OVER (ORDER BY u.i))\n"
"         OPERATOR(pg_catalog.=) 0\n"
"  FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS u(v, i)\n"
"  LEFT JOIN migrate.migration AS m\n"
"    ON m.version_key OPERATOR(pg_catalog.=) migrate.version_key(u.v)\n"
"  LEFT JOIN (SELECT a.version FROM migrate.migration AS a\n"
"              WHERE a.state OPERATOR(pg_catalog.=) 'applied'\n"
"                AND NOT a.repeatable\n"
"              ORDER BY a.version_key DESC LIMIT 1) AS n ON true\n"
" ORDER BY u.i";

static bool
match_files(PGconn *conn, const MigrationSet *set, FileMatch *match,
			char **newest_applied)
{
	const char **versions = pg_malloc(sizeof(char *) * Max(set->nfiles, 1));
	const char *params[1];
	PGresult   *res;

	for (int i = 0; i < set->nfiles; i++)
		versions[i] = set->files[i].version;
	params[0] = text_array_literal(versions, set->nfiles);
	free(versions);
	res = exec_params(conn, match_sql, 1, params);
	free((char *) params[0]);
	if (PQresultStatus(res) != PGRES_TUPLES_OK ||
		PQntuples(res) != set->nfiles)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	*newest_applied = NULL;
	for (int i = 0; i < set->nfiles; i++)
	{
		match[i].registered = PQgetisnull(res, i, 0) ? NULL :
			pg_strdup(PQgetvalue(res, i, 0));
		if (!PQgetisnull(res, i, 1) && *newest_applied == NULL)
			*newest_applied = pg_strdup(PQgetvalue(res, i, 1));
		match[i].older = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		match[i].duplicate = strcmp(PQgetvalue(res, i, 3), "t") == 0;
	}
	PQclear(res);
	return true;
}

/* a file not applied: pending, or out of order when older than the newest applied */
static void
check_unapplied(Findings *f, const MigrationFile *file,
				const RegisteredMigration *r, bool older,
				const char *newest_applied)
{
	const char *state;

	if (r == NULL)
		state = "not registered";
	else if (strcmp(r->state, "pending") == 0)
		state = "registered, not applied";
	else
		state = psprintf("registered, %s", r->state);

	if (r != NULL &&
		(!same_checksum(file->checksum, r->checksum) ||
		 !same_checksum(file->down_checksum,
						r->down_checksum)))
		state = psprintf("%s; the file differs from the registered content (up registers it again)",
						 state);

	if (older)
		add_finding(f, OUT_OF_ORDER, file->version, file->name, file->up_path,
					psprintf("%s; older than the newest applied version %s",
							 state, newest_applied));
	else
		add_finding(f, PENDING, file->version, file->name, file->up_path,
					pg_strdup(state));
}

/* versions that several files share: all their files in one finding */
static void
check_duplicates(Findings *f, const MigrationSet *set, const FileMatch *match)
{
	for (int i = 0; i < set->nfiles;)
	{
		int			j = i + 1;
		PQExpBufferData paths;

		while (j < set->nfiles && match[j].duplicate)
			j++;
		if (j - i > 1)
		{
			initPQExpBuffer(&paths);
			for (int k = i; k < j; k++)
				appendPQExpBuffer(&paths, "%s%s", k > i ? ", " : "",
								  set->files[k].up_path);
			add_finding(f, DUPLICATE, set->files[i].version,
						set->files[i].name, paths.data,
						psprintf("%d files have version %s", j - i,
								 set->files[i].version));
		}
		i = j;
	}
}

static void
print_findings(const ClientOptions *opts, const Findings *f, int nfiles)
{
	static const char *const headers[NFINDING_COLUMNS] =
	{"kind", "version", "name", "file", "detail"};
	PQExpBufferData summary;

	if (f->nrows == 0)
	{
		if (opts->json)
			out_rows("findings", NFINDING_COLUMNS, headers, 0, NULL);
		out_info("files and database agree: %d %s", nfiles,
				 nfiles == 1 ? "migration" : "migrations");
		return;
	}
	out_rows("findings", NFINDING_COLUMNS, headers, f->nrows, f->cells);

	initPQExpBuffer(&summary);
	for (int k = 0; k < lengthof(kinds); k++)
		if (f->count_by_kind[k] > 0)
			appendPQExpBuffer(&summary, "%s%d %s", summary.len ? ", " : "",
							  f->count_by_kind[k], kinds[k]);
	out_info("%d %s: %s", f->nrows, f->nrows == 1 ? "finding" : "findings",
			 summary.data);
	termPQExpBuffer(&summary);
}

int
cmd_validate(PGconn *conn, const ClientOptions *opts)
{
	MigrationSet set;
	RegisteredSet reg;
	Findings	findings = {0};
	char	   *newest_applied;
	FileMatch  *match;
	bool	   *has_file;

	if (!read_files_and_registry(conn, opts, READ_KEEP_DUPLICATES, &set, &reg,
								 NULL))
		return EXIT_ERROR;
	match = pg_malloc0(sizeof(FileMatch) * Max(set.nfiles, 1));
	if (!match_files(conn, &set, match, &newest_applied))
		return EXIT_ERROR;

	check_duplicates(&findings, &set, match);

	has_file = pg_malloc0(sizeof(bool) * Max(reg.nitems, 1));
	for (int i = 0; i < set.nfiles; i++)
	{
		const MigrationFile *file = &set.files[i];
		RegisteredMigration *r = NULL;

		if (match[i].registered != NULL)
			r = find_registered(&reg, match[i].registered);
		if (r != NULL)
			has_file[r - reg.items] = true;
		/* the files of a duplicate version are reported as such only */
		if (match[i].duplicate ||
			(i + 1 < set.nfiles && match[i + 1].duplicate))
			continue;
		if (r != NULL && strcmp(r->state, "applied") == 0)
			check_applied(&findings, file, r);
		else
			check_unapplied(&findings, file, r, match[i].older,
							newest_applied);
	}

	for (int i = 0; i < reg.nitems; i++)
		if (!has_file[i])
			add_finding(&findings, MISSING, reg.items[i].version,
						reg.items[i].name, NULL,
						psprintf("%s, no file", reg.items[i].state));

	print_findings(opts, &findings, set.nfiles);
	return findings.nrows > 0 ? EXIT_FOUND : EXIT_OK;
}
