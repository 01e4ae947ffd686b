/*-------------------------------------------------------------------------
 *
 * adopt.c
 *		Adopting an existing database: the baseline and import commands.
 *
 *	 pg_migrate baseline VERSION [--description TEXT]
 *		registers the directory's files (when it has any), then calls
 *		migrate.baseline(VERSION, TEXT): the migrations up to VERSION are
 *		marked applied without running, also those registered later.
 *
 *	 pg_migrate baseline --generate [FILE]
 *		writes a baseline migration from "pg_dump --schema-only" of the
 *		database: in the directory's layout as a new migration (as "new"
 *		does, without a down file: nothing undoes a whole schema), or into
 *		FILE.  pg_dump (--schema-only --no-owner, without the schemas
 *		migrate and migrate_backup, which are the tool's) runs as a child
 *		process with the same connection; no secret option goes on its
 *		command line (where every local user's ps sees it): each option
 *		libpq marks secret (dispchar "*": password, sslpassword, ...) goes
 *		in its environment variable, or, when libpq has none for it, in a
 *		service file readable only by us (PGSERVICEFILE), removed after.  Its output is cleaned:
 *		psql meta-commands (\restrict and \unrestrict of recent pg_dump
 *		releases, \connect) are removed, then the server's parser
 *		(migrate.statements()) splits the rest and the statements a
 *		migration must not run are left out: SET and set_config() of the
 *		dump's session, and CREATE/COMMENT ON EXTENSION migrate, which is
 *		the tool itself.  Comments of pg_dump go with them.
 *
 *	 pg_migrate import TOOL
 *		registers the directory's files, then calls
 *		migrate.import_history(TOOL) and prints what became of each row of
 *		the tool's history, then the versions still without a file.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* rows, or print the error and return NULL */
static PGresult *
rows_or_error(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = exec_params(conn, sql, nparams, params);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * Register the directory's new and changed files, as "up" does before it
 * applies; a missing or empty directory registers nothing when
 * allow_empty.  false after printing why.
 */
static bool
register_directory(PGconn *conn, const ClientOptions *opts, bool allow_empty)
{
	LayoutContext ctx;
	MigrationSet set;
	RegisteredSet reg;
	int			nsent;

	memset(&ctx, 0, sizeof(ctx));
	if (allow_empty && (!list_directory(&ctx, opts->dir, false) || ctx.nentries == 0))
	{
		out_verbose("directory \"%s\" has no files: nothing to register", opts->dir);
		return true;
	}
	if (!read_files_and_registry(conn, opts, 0, &set, &reg, NULL))
		return false;
	nsent = sync_files(conn, opts, &set, &reg);
	if (nsent < 0)
		return false;
	return true;
}

/* baseline VERSION: mark what the directory and the database hold applied */
static int
baseline_version(PGconn *conn, const ClientOptions *opts)
{
	const char *params[2] = {opts->args[0], opts->description};
	PGresult   *res;

	if (!register_directory(conn, opts, true))
		return EXIT_ERROR;
	res = rows_or_error(conn, "SELECT migrate.baseline($1, $2)", 2, params);
	if (res == NULL)
		return EXIT_ERROR;
	out_json_field("baseline", opts->args[0]);
	out_json_number("marked_applied", atol(PQgetvalue(res, 0, 0)));
	out_info("baseline %s: %s migration%s marked applied without running",
			 opts->args[0], PQgetvalue(res, 0, 0),
			 strcmp(PQgetvalue(res, 0, 0), "1") == 0 ? "" : "s");
	PQclear(res);
	return EXIT_OK;
}

/* pg_dump next to this program, else PGMIGRATE_PG_DUMP, else the PATH's */
static char *
pg_dump_path(void)
{
	const char *env = getenv("PGMIGRATE_PG_DUMP");
	char		self[MAXPGPATH];
	ssize_t		len;

	if (env != NULL && env[0] != '\0')
		return pg_strdup(env);
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0)
	{
		char	   *slash;
		char	   *candidate;

		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL)
		{
			*slash = '\0';
			candidate = psprintf("%s/pg_dump", self);
			if (access(candidate, X_OK) == 0)
				return candidate;
			free(candidate);
		}
	}
	return pg_strdup("pg_dump");
}

/* the service of the file that carries secret options without a variable */
#define DUMP_SERVICE "pg_migrate_dump"

/* what pg_dump gets besides its command line */
typedef struct DumpSecrets
{
	char	   *env_names[16];	/* variables to set in the child */
	char	   *env_values[16];
	int			nenv;
	char	   *service_file;	/* NULL: none */
} DumpSecrets;

/*
 * Write the secret options libpq has no environment variable for into a
 * service file of mode 0600 (mkstemp).  NULL after printing why.
 */
static char *
write_service_file(PQExpBuffer entries)
{
	const char *tmpdir = getenv("TMPDIR");
	char	   *path = psprintf("%s/pg_migrate_dump_XXXXXX",
								tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
	int			fd = mkstemp(path);
	ssize_t		len = (ssize_t) entries->len;

	if (fd < 0)
	{
		out_error("could not create a file for pg_dump's connection: %s", strerror(errno));
		return NULL;
	}
	if (write(fd, entries->data, len) != len || close(fd) != 0)
	{
		out_error("could not write \"%s\": %s", path, strerror(errno));
		unlink(path);
		return NULL;
	}
	return path;
}

/*
 * The connection of "conn" as a conninfo string for pg_dump -d, without
 * any option libpq marks secret: those go in "secrets" (environment
 * variables, or a service file).  NULL after printing why.
 */
static char *
dump_conninfo(PGconn *conn, DumpSecrets *secrets)
{
	PQconninfoOption *options = PQconninfo(conn);
	PQExpBufferData buf;
	PQExpBufferData service;

	memset(secrets, 0, sizeof(*secrets));
	initPQExpBuffer(&buf);
	initPQExpBuffer(&service);
	appendPQExpBufferStr(&service, "[" DUMP_SERVICE "]\n");
	for (PQconninfoOption *o = options; o != NULL && o->keyword != NULL; o++)
	{
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (o->dispchar != NULL && strchr(o->dispchar, '*') != NULL)
		{
			if (o->envvar != NULL && secrets->nenv < lengthof(secrets->env_names))
			{
				secrets->env_names[secrets->nenv] = pg_strdup(o->envvar);
				secrets->env_values[secrets->nenv++] = pg_strdup(o->val);
			}
			else
				appendPQExpBuffer(&service, "%s=%s\n", o->keyword, o->val);
			continue;
		}
		/* every option is explicit here: the user's service adds nothing */
		if (strcmp(o->keyword, "service") == 0)
			continue;
		append_conninfo_value(&buf, o->keyword, o->val);
	}
	PQconninfoFree(options);
	if (strchr(service.data, '=') != NULL)
	{
		secrets->service_file = write_service_file(&service);
		if (secrets->service_file == NULL)
		{
			termPQExpBuffer(&service);
			termPQExpBuffer(&buf);
			return NULL;
		}
		append_conninfo_value(&buf, "service", DUMP_SERVICE);
	}
	termPQExpBuffer(&service);
	return buf.data;
}

/*
 * Run pg_dump --schema-only as a child (no shell) and collect its output;
 * its errors go to our stderr.  NULL after printing why.
 */
static char *
run_pg_dump(PGconn *conn)
{
	DumpSecrets secrets;
	char	   *conninfo = dump_conninfo(conn, &secrets);
	char	   *program = pg_dump_path();
	char	   *argv[] = {program, "--schema-only", "--no-owner", "--exclude-schema=migrate",
		"--exclude-schema=migrate_backup", "-d", conninfo, NULL};
	int			pipefd[2];
	pid_t		pid;
	int			status;
	PQExpBufferData out;
	char		chunk[8192];
	ssize_t		n;

	if (conninfo == NULL)
		return NULL;
	out_verbose("running %s --schema-only --no-owner --exclude-schema=migrate --exclude-schema=migrate_backup",
				program);
	if (pipe(pipefd) != 0)
	{
		out_error("could not create a pipe: %s", strerror(errno));
		if (secrets.service_file != NULL)
			unlink(secrets.service_file);
		return NULL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
	{
		out_error("could not start pg_dump: %s", strerror(errno));
		if (secrets.service_file != NULL)
			unlink(secrets.service_file);
		return NULL;
	}
	if (pid == 0)
	{
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		for (int i = 0; i < secrets.nenv; i++)
			setenv(secrets.env_names[i], secrets.env_values[i], 1);
		if (secrets.service_file != NULL)
			setenv("PGSERVICEFILE", secrets.service_file, 1);
		execvp(program, argv);
		fprintf(stderr, "pg_migrate: error: could not run \"%s\": %s\n", program, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	initPQExpBuffer(&out);
	while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			appendBinaryPQExpBuffer(&out, chunk, n);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (secrets.service_file != NULL)
		unlink(secrets.service_file);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		out_error("pg_dump failed (%s)", WIFEXITED(status) ?
				  psprintf("exit code %d", WEXITSTATUS(status)) : "killed by a signal");
		out_hint("pg_dump must be of the server's major version or newer; PGMIGRATE_PG_DUMP names the one to use.");
		termPQExpBuffer(&out);
		return NULL;
	}
	return out.data;
}

/* psql meta-commands of a plain dump: lines that start with a backslash */
static char *
strip_meta_commands(const char *dump)
{
	PQExpBufferData buf;
	const char *line = dump;

	initPQExpBuffer(&buf);
	while (*line)
	{
		const char *end = strchr(line, '\n');
		size_t		len = end ? (size_t) (end - line + 1) : strlen(line);

		if (strncmp(line, "\\restrict ", 10) != 0 &&
			strncmp(line, "\\unrestrict ", 12) != 0 &&
			strncmp(line, "\\connect ", 9) != 0)
			appendBinaryPQExpBuffer(&buf, line, len);
		line += len;
	}
	return buf.data;
}

/* a statement of the dump that a migration must not run */
static bool
dump_session_statement(const char *command, const char *sql)
{
	if (strcmp(command, "SET") == 0)
		return true;
	if (strncmp(sql, "SELECT pg_catalog.set_config(", 29) == 0)
		return true;
	return strncmp(sql, "CREATE EXTENSION IF NOT EXISTS migrate ", 39) == 0 ||
		strncmp(sql, "COMMENT ON EXTENSION migrate ", 29) == 0;
}

/*
 * The dump as a migration's SQL: split by the server's parser, without
 * the statements of the dump's session.  NULL after printing why.
 */
static char *
clean_dump(PGconn *conn, const char *dump)
{
	char	   *text = strip_meta_commands(dump);
	const char *params[1] = {text};
	PGresult   *res;
	PQExpBufferData body;
	int			kept = 0;

	res = rows_or_error(conn, "SELECT s.command, s.sql FROM migrate.statements($1) s"
						" ORDER BY s.statement", 1, params);
	free(text);
	if (res == NULL)
		return NULL;
	initPQExpBuffer(&body);
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *sql = PQgetvalue(res, i, 1);
		size_t		len = strlen(sql);

		if (dump_session_statement(PQgetvalue(res, i, 0), sql))
			continue;
		appendPQExpBuffer(&body, "%s%s%s\n", kept ? "\n" : "", sql,
						  len > 0 && sql[len - 1] == ';' ? "" : ";");
		kept++;
	}
	PQclear(res);
	if (kept == 0)
		appendPQExpBufferStr(&body, "-- the database has no schema objects of its own\n");
	return body.data;
}

/* "2026-12-01 06:30 UTC" */
static char *
utc_now(void)
{
	char		stamp[64];
	time_t		now = time(NULL);

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	return pg_strdup(stamp);
}

/* write FILE, never over an existing one */
static bool
write_new_file(const char *path, const char *text)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	size_t		len = strlen(text);

	if (fd < 0)
	{
		out_error(errno == EEXIST ? "file \"%s\" already exists" : "could not create file \"%s\"", path);
		return false;
	}
	if (write(fd, text, len) != (ssize_t) len || close(fd) != 0)
	{
		out_error("could not write file \"%s\": %s", path, strerror(errno));
		return false;
	}
	return true;
}

/* baseline --generate [FILE] */
static int
baseline_generate(PGconn *conn, const ClientOptions *opts)
{
	const char *description = opts->description ? opts->description : "baseline";
	char	   *dump;
	char	   *body;
	char	   *up;
	int			rc;

	dump = run_pg_dump(conn);
	if (dump == NULL)
		return EXIT_ERROR;
	body = clean_dump(conn, dump);
	free(dump);
	if (body == NULL)
		return EXIT_ERROR;
	up = psprintf("-- The schema of database \"%s\" as pg_dump --schema-only gave it on %s\n"
				  "-- (written by pg_migrate baseline --generate).  Where the schema exists\n"
				  "-- already, mark it applied with: pg_migrate baseline VERSION\n\n%s",
				  PQdb(conn), utc_now(), body);
	free(body);

	if (opts->nargs == 1)
	{
		char	   *text = psprintf("-- Description: %s\n%s", description, up);

		rc = write_new_file(opts->args[0], text) ? EXIT_OK : EXIT_ERROR;
		if (rc == EXIT_OK)
		{
			out_json_field("file", opts->args[0]);
			out_info("%s", opts->args[0]);
		}
		free(text);
	}
	else
		rc = new_migration_files(opts, description, up);
	free(up);
	return rc;
}

int
cmd_baseline(PGconn *conn, const ClientOptions *opts)
{
	return opts->generate ? baseline_generate(conn, opts) : baseline_version(conn, opts);
}

/* import TOOL: register the files, adopt the tool's history */
int
cmd_import(PGconn *conn, const ClientOptions *opts)
{
	const char *params[1] = {opts->args[0]};
	PGresult   *res;
	int			adopted = 0;
	int			missing;

	if (!register_directory(conn, opts, true))
		return EXIT_ERROR;
	res = rows_or_error(conn,
						"SELECT i.version, i.description, i.applied_at, i.applied_by, i.status,"
						" pg_catalog.array_to_string(i.adopted, ', ') AS adopted"
						" FROM migrate.import_history($1) i", 1, params);
	if (res == NULL)
		return EXIT_ERROR;
	for (int i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 4), "adopted") == 0)
			adopted++;
	out_table(res, "history");
	PQclear(res);

	res = rows_or_error(conn,
						"SELECT u.version, u.description, u.applied_at, u.applied_by"
						" FROM migrate.imported_unregistered u WHERE u.tool OPERATOR(pg_catalog.=) $1",
						1, params);
	if (res == NULL)
		return EXIT_ERROR;
	missing = PQntuples(res);
	out_json_number("adopted", adopted);
	out_info("%d migration%s of %s adopted", adopted, adopted == 1 ? "" : "s", opts->args[0]);
	if (missing > 0)
	{
		out_info("%d version%s applied by %s without a file in \"%s\" (registering the file adopts it):",
				 missing, missing == 1 ? "" : "s", opts->args[0], opts->dir);
		out_table(res, "missing");
	}
	else
		out_json_raw("missing", "[]");
	PQclear(res);
	return EXIT_OK;
}
