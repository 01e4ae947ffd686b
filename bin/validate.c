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
	int			count_by_kind[5];
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

static bool
same_checksum(const char *a, const char *b)
{
	if (a == NULL || a[0] == '\0')
		return b == NULL || b[0] == '\0';
	return b != NULL && strcmp(a, b) == 0;
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
	const char *file_down = file->down ? file->down_checksum : NULL;

	if (!same_checksum(file->checksum, r->checksum))
		add_finding(f, EDITED, file->version, file->name, file->up_path,
					psprintf("up script differs from the registered one (registered %s, file %s)%s",
							 short_checksum(r->checksum),
							 short_checksum(file->checksum),
							 file->repeatable ? "; repeatable: up applies it again" : ""));
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
 * Which of the unapplied files are older than the newest applied version?
 * One query; older[i] answers for versions[i].
 */
static bool
compare_with_newest(PGconn *conn, const char *newest, const char **versions,
					int n, bool *older)
{
	PQExpBufferData array;
	const char *params[2];
	PGresult   *res;

	/* a text[] literal: every element double-quoted, \ and " escaped */
	initPQExpBuffer(&array);
	appendPQExpBufferChar(&array, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendPQExpBufferChar(&array, ',');
		appendPQExpBufferChar(&array, '"');
		for (const char *p = versions[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendPQExpBufferChar(&array, '\\');
			appendPQExpBufferChar(&array, *p);
		}
		appendPQExpBufferChar(&array, '"');
	}
	appendPQExpBufferChar(&array, '}');

	params[0] = array.data;
	params[1] = newest;
	res = PQexecParams(conn,
					   "SELECT migrate.version_cmp(v, $2) OPERATOR(pg_catalog.<) 0\n"
					   "  FROM pg_catalog.unnest($1::pg_catalog.text[])\n"
					   "       WITH ORDINALITY AS u(v, i)\n"
					   " ORDER BY i",
					   2, NULL, params, NULL, NULL, 0);
	termPQExpBuffer(&array);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != n)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	for (int i = 0; i < n; i++)
		older[i] = strcmp(PQgetvalue(res, i, 0), "t") == 0;
	PQclear(res);
	return true;
}

/* files not applied: pending, or out of order when older than the newest applied */
static bool
check_unapplied(PGconn *conn, Findings *f, const MigrationFile **files,
				const RegisteredMigration **regs, int n, const char *newest)
{
	bool	   *older = pg_malloc0(sizeof(bool) * Max(n, 1));
	const char **versions = pg_malloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
		versions[i] = files[i]->version;
	if (n > 0 && newest != NULL &&
		!compare_with_newest(conn, newest, versions, n, older))
		return false;

	for (int i = 0; i < n; i++)
	{
		const MigrationFile *file = files[i];
		const RegisteredMigration *r = regs[i];
		const char *state;
		char	   *detail;

		if (r == NULL)
			state = "not registered";
		else if (strcmp(r->state, "pending") == 0)
			state = "registered, not applied";
		else
			state = psprintf("registered, %s", r->state);

		if (r != NULL &&
			(!same_checksum(file->checksum, r->checksum) ||
			 !same_checksum(file->down ? file->down_checksum : NULL,
							r->down_checksum)))
			state = psprintf("%s; the file differs from the registered content (up registers it again)",
							 state);

		if (older[i])
			detail = psprintf("%s; older than the newest applied version %s",
							  state, newest);
		else
			detail = pg_strdup(state);
		add_finding(f, older[i] ? OUT_OF_ORDER : PENDING, file->version,
					file->name, file->up_path, detail);
	}
	free(older);
	free(versions);
	return true;
}

/* versions that several files share; all their files in one finding */
static void
check_duplicates(Findings *f, const MigrationSet *set)
{
	for (int i = 0; i < set->nfiles;)
	{
		int			j = i + 1;
		PQExpBufferData paths;

		while (j < set->nfiles &&
			   strcmp(set->files[j].version, set->files[i].version) == 0)
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
	char	   *errmsg = NULL;
	Findings	findings = {0};
	const char *newest_applied = NULL;
	const MigrationFile **unapplied;
	const RegisteredMigration **unapplied_reg;
	int			nunapplied = 0;
	bool	   *has_file;

	if (!read_migrations_opts(opts->dir, opts->layout, READ_KEEP_DUPLICATES,
							  &set, &errmsg))
	{
		out_error("%s", errmsg);
		return EXIT_ERROR;
	}
	if (!fetch_registered(conn, &reg))
		return EXIT_ERROR;

	/* registered rows are in version order: the last applied is the newest */
	for (int i = 0; i < reg.nitems; i++)
		if (strcmp(reg.items[i].state, "applied") == 0)
			newest_applied = reg.items[i].version;

	check_duplicates(&findings, &set);

	has_file = pg_malloc0(sizeof(bool) * Max(reg.nitems, 1));
	unapplied = pg_malloc(sizeof(MigrationFile *) * Max(set.nfiles, 1));
	unapplied_reg = pg_malloc(sizeof(RegisteredMigration *) * Max(set.nfiles, 1));
	for (int i = 0; i < set.nfiles; i++)
	{
		const MigrationFile *file = &set.files[i];
		RegisteredMigration *r = find_registered(&reg, file->version);

		/* the second file of a duplicate version is reported as such only */
		if (i > 0 && strcmp(file->version, set.files[i - 1].version) == 0)
			continue;
		if (r != NULL)
			has_file[r - reg.items] = true;
		if (r != NULL && strcmp(r->state, "applied") == 0)
			check_applied(&findings, file, r);
		else
		{
			unapplied[nunapplied] = file;
			unapplied_reg[nunapplied++] = r;
		}
	}
	if (!check_unapplied(conn, &findings, unapplied, unapplied_reg, nunapplied,
						 newest_applied))
		return EXIT_ERROR;

	for (int i = 0; i < reg.nitems; i++)
		if (!has_file[i])
			add_finding(&findings, MISSING, reg.items[i].version,
						reg.items[i].name, NULL,
						psprintf("%s, no file", reg.items[i].state));

	print_findings(opts, &findings, set.nfiles);
	return findings.nrows > 0 ? EXIT_FOUND : EXIT_OK;
}
