/*-------------------------------------------------------------------------
 *
 * lint.c
 *		lint: every migration file through the extension's migrate.lint().
 *
 * The client lints nothing itself: each up script, as the layout reads it
 * (the text register() would get, header lines and the headers a layout
 * adds included, so that @lint-ignore and @transaction count as they will
 * at registration), goes to migrate.lint(), which lints it with the live
 * catalog and the session's environment.  All the calls go in ONE round
 * trip: libpq's pipeline mode, each call followed by its own sync point,
 * so that a script the server cannot parse fails alone and the others are
 * still linted.
 *
 * With FILE arguments only those files are linted: a file of the
 * directory's migrations as the layout reads it (its up script, or its
 * down script when the argument names the down file), any other file as
 * its text stands.
 *
 * Exit 3 when a finding is at or above --fail-on (default error), 1 when a
 * file could not be read or linted, 0 otherwise.  Nothing is registered.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <limits.h>
#include <sys/stat.h>

#include "pqexpbuffer.h"

/* one script to lint */
typedef struct LintTarget
{
	const char *file;			/* as shown: relative to the directory, or as
								 * given */
	const char *version;		/* NULL: not a migration of the directory */
	const char *script;
} LintTarget;

/* the columns of a finding, in the table and in --json */
enum
{
	COL_FILE, COL_VERSION, COL_STATEMENT, COL_LINE, COL_SEVERITY, COL_RULE,
	COL_MESSAGE, COL_HINT, NCOLUMNS
};

static const char *const column_names[NCOLUMNS] = {
	"file", "version", "statement", "line", "severity", "rule", "message",
	"hint"
};

typedef struct LintFindings
{
	char	  **cells;			/* nrows * NCOLUMNS */
	int			nrows;
	int			count[4];		/* by lint_severity_rank() */
	int			nfailed;		/* scripts the server could not lint */
} LintFindings;

static const char *const lint_sql =
"SELECT l.statement, l.line, l.severity, l.rule, l.message, l.hint"
" FROM migrate.lint($1) AS l";

int
lint_severity_rank(const char *severity)
{
	if (strcmp(severity, "info") == 0)
		return 1;
	if (strcmp(severity, "warning") == 0)
		return 2;
	if (strcmp(severity, "error") == 0)
		return 3;
	return 0;
}

/* a whole file as text; NULL after printing why */
static char *
read_text_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	PQExpBufferData buf;
	char		chunk[8192];
	size_t		n;

	if (f == NULL)
	{
		out_error("could not open file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	initPQExpBuffer(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		appendBinaryPQExpBuffer(&buf, chunk, n);
	if (ferror(f))
	{
		out_error("could not read file \"%s\": %s", path, strerror(errno));
		fclose(f);
		termPQExpBuffer(&buf);
		return NULL;
	}
	fclose(f);
	if (strlen(buf.data) != buf.len)
	{
		out_error("file \"%s\" contains a zero byte", path);
		termPQExpBuffer(&buf);
		return NULL;
	}
	return buf.data;
}

/* whether two paths name the same file (device and inode) */
static bool
same_file(const struct stat *st, const char *dir, const char *relpath)
{
	char	   *path;
	struct stat other;
	bool		same;

	if (relpath == NULL)
		return false;
	path = psprintf("%s/%s", dir, relpath);
	same = stat(path, &other) == 0 && other.st_dev == st->st_dev &&
		other.st_ino == st->st_ino;
	free(path);
	return same;
}

/*
 * The target of one FILE argument: the migration of the directory it is
 * the up (or down) file of, or the file's own text.  false after printing
 * why.
 */
static bool
file_target(const char *arg, const MigrationSet *set, LintTarget *target)
{
	struct stat st;

	if (stat(arg, &st) != 0)
	{
		out_error("could not read file \"%s\": %s", arg, strerror(errno));
		return false;
	}
	for (int i = 0; set != NULL && i < set->nfiles; i++)
	{
		const MigrationFile *m = &set->files[i];

		if (same_file(&st, set->dir ? set->dir : ".", m->up_path))
		{
			target->file = m->up_path;
			target->version = m->version;
			target->script = m->up;
			return true;
		}
		if (m->down != NULL &&
			same_file(&st, set->dir ? set->dir : ".", m->down_path))
		{
			target->file = m->down_path;
			target->version = m->version;
			target->script = m->down;
			return true;
		}
	}
	target->file = arg;
	target->version = NULL;
	target->script = read_text_file(arg);
	return target->script != NULL;
}

/*
 * What to lint: every up script of the directory, or the FILE arguments.
 * With FILE arguments a directory that does not exist is no error (the
 * files are then linted as they stand).  NULL after printing why.
 */
static LintTarget *
collect_targets(const ClientOptions *opts, int *ntargets)
{
	MigrationSet *set = pg_malloc0(sizeof(MigrationSet));
	char	   *errmsg = NULL;
	struct stat st;
	LintTarget *targets;
	bool		have_set = true;

	if (opts->nargs > 0 && stat(opts->dir, &st) != 0 && errno == ENOENT)
		have_set = false;
	else if (!read_migrations(opts->dir, opts->layout, set, &errmsg))
	{
		out_error("%s", errmsg);
		return NULL;
	}
	if (have_set && set->dir == NULL)
		set->dir = opts->dir;

	if (opts->nargs == 0)
	{
		targets = pg_malloc0(sizeof(LintTarget) * Max(set->nfiles, 1));
		for (int i = 0; i < set->nfiles; i++)
		{
			targets[i].file = set->files[i].up_path;
			targets[i].version = set->files[i].version;
			targets[i].script = set->files[i].up;
		}
		*ntargets = set->nfiles;
		out_verbose("linting %d %s of %s (layout %s)", set->nfiles,
					set->nfiles == 1 ? "migration" : "migrations", set->dir,
					set->layout ? set->layout : "?");
		return targets;
	}

	targets = pg_malloc0(sizeof(LintTarget) * opts->nargs);
	for (int i = 0; i < opts->nargs; i++)
		if (!file_target(opts->args[i], have_set ? set : NULL, &targets[i]))
			return NULL;
	*ntargets = opts->nargs;
	return targets;
}

/* the rows of one script's result, appended to the findings */
static void
add_findings(LintFindings *f, const LintTarget *t, const PGresult *res)
{
	int			n = PQntuples(res);

	f->cells = pg_realloc(f->cells, sizeof(char *) * NCOLUMNS *
						  (f->nrows + n + 1));
	for (int r = 0; r < n; r++)
	{
		char	  **row = &f->cells[(f->nrows + r) * NCOLUMNS];

		row[COL_FILE] = pg_strdup(t->file);
		row[COL_VERSION] = t->version ? pg_strdup(t->version) : NULL;
		/* the query's columns are COL_STATEMENT .. COL_HINT, in order */
		for (int c = 0; c < NCOLUMNS - COL_STATEMENT; c++)
			row[COL_STATEMENT + c] = PQgetisnull(res, r, c) ? NULL :
				pg_strdup(PQgetvalue(res, r, c));
		f->count[lint_severity_rank(row[COL_SEVERITY])]++;
	}
	f->nrows += n;
}

/*
 * The replies of the pipeline, one script at a time: its rows (or its
 * error), then the sync point.  false when the connection itself failed.
 */
static bool
read_replies(PGconn *conn, const LintTarget *targets, int ntargets,
			 LintFindings *f)
{
	for (int i = 0; i < ntargets; i++)
	{
		PGresult   *res = PQgetResult(conn);

		if (res == NULL)
		{
			out_error("lost the connection while linting: %s",
					  PQerrorMessage(conn));
			return false;
		}
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			add_findings(f, &targets[i], res);
		else
		{
			const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			out_error("could not lint %s", targets[i].file);
			out_pg_error(conn, res);
			/* a server whose migrate predates lint: say so once */
			if (sqlstate && strcmp(sqlstate, "42883") == 0 && i == 0)
				out_hint("This server's migrate has no migrate.lint(): ALTER EXTENSION migrate UPDATE.");
			f->nfailed++;
		}
		PQclear(res);
		/* the end of this query's results, then its sync point */
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
		res = PQgetResult(conn);
		if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		{
			out_error("unexpected reply while linting: %s",
					  PQerrorMessage(conn));
			PQclear(res);
			return false;
		}
		PQclear(res);
	}
	return true;
}

/* every script to migrate.lint(), in one round trip (pipeline mode) */
static bool
lint_targets(PGconn *conn, const LintTarget *targets, int ntargets,
			 LintFindings *f)
{
	bool		ok = true;

	out_verbose("%s -- %d %s, one round trip", lint_sql, ntargets,
				ntargets == 1 ? "script" : "scripts");
	if (!PQenterPipelineMode(conn))
	{
		out_error("could not enter pipeline mode: %s", PQerrorMessage(conn));
		return false;
	}
	for (int i = 0; ok && i < ntargets; i++)
	{
		const char *values[1] = {targets[i].script};

		ok = PQsendQueryParams(conn, lint_sql, 1, NULL, values, NULL, NULL,
							   0) == 1 && PQpipelineSync(conn) == 1;
	}
	if (!ok)
		out_error("could not send the scripts: %s", PQerrorMessage(conn));
	else
		ok = read_replies(conn, targets, ntargets, f);
	if (!PQexitPipelineMode(conn))
	{
		out_error("could not leave pipeline mode: %s", PQerrorMessage(conn));
		ok = false;
	}
	return ok;
}

/* the table (hints with --verbose), the summary line, the --json keys */
static void
print_findings(const ClientOptions *opts, const LintFindings *f,
			   int ntargets)
{
	static const bool numeric[NCOLUMNS] = {false, false, true, true};
	PQExpBufferData summary;
	char	   *counts;

	if (opts->json)
		out_rows_typed("findings", NCOLUMNS, column_names, numeric, f->nrows,
					   f->cells);
	else if (f->nrows > 0)
	{
		/* file, statement, line, severity, rule, message [, hint] */
		int			ncols = opts->verbose ? 7 : 6;
		const char *headers[7] = {"file", "stmt", "line", "severity", "rule",
		"message", "hint"};
		bool		right[7] = {false, true, true};
		char	  **cells = pg_malloc(sizeof(char *) * (f->nrows * ncols + 1));

		for (int r = 0; r < f->nrows; r++)
		{
			char	  **src = &f->cells[r * NCOLUMNS];
			char	  **dst = &cells[r * ncols];

			dst[0] = src[COL_FILE];
			for (int c = 0; c < ncols - 1; c++)
				dst[1 + c] = src[COL_STATEMENT + c];
		}
		out_rows_typed("findings", ncols, headers, right, f->nrows, cells);
		free(cells);
	}

	out_json_number("files", ntargets);
	counts = psprintf("{\"error\": %d, \"warning\": %d, \"info\": %d}",
					  f->count[3], f->count[2], f->count[1]);
	out_json_raw("severities", counts);
	free(counts);
	initPQExpBuffer(&summary);
	appendPQExpBuffer(&summary, "%d %s linted: ", ntargets,
					  ntargets == 1 ? "file" : "files");
	if (f->nrows == 0)
		appendPQExpBufferStr(&summary, "no findings");
	else
		appendPQExpBuffer(&summary, "%d %s, %d %s, %d info",
						  f->count[3], f->count[3] == 1 ? "error" : "errors",
						  f->count[2], f->count[2] == 1 ? "warning" : "warnings",
						  f->count[1]);
	if (f->nfailed > 0)
		appendPQExpBuffer(&summary, "; %d could not be linted", f->nfailed);
	out_info("%s", summary.data);
	termPQExpBuffer(&summary);
}

int
cmd_lint(PGconn *conn, const ClientOptions *opts)
{
	int			fail_on = lint_severity_rank(opts->fail_on ? opts->fail_on : "error");
	LintFindings findings = {0};
	LintTarget *targets;
	int			ntargets = 0;

	targets = collect_targets(opts, &ntargets);
	if (targets == NULL)
		return EXIT_ERROR;
	if (ntargets > 0 && !lint_targets(conn, targets, ntargets, &findings))
		return EXIT_ERROR;
	print_findings(opts, &findings, ntargets);
	if (findings.nfailed > 0)
		return EXIT_ERROR;
	for (int rank = fail_on; rank <= 3; rank++)
		if (findings.count[rank] > 0)
			return EXIT_FOUND;
	return EXIT_OK;
}
