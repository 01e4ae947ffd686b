/*-------------------------------------------------------------------------
 *
 * fleet.c
 *		One command against many databases, --jobs at a time.
 *
 * Each target database (-d repeated, --dbs-from, --all-envs) gets a child
 * process of its own that runs run_command() exactly as pg_migrate does for
 * one database, with its standard output and its standard error captured
 * in two temporary files.  When a child ends, its output is printed as one
 * block under a header naming the database (its connection string without
 * a password), its standard output on ours and its errors on our stderr
 * right after, so that the outputs of databases worked on at the same time
 * never interleave.  A table of every database, its exit code and result
 * (ok, found, failed, not run) follows, and the exit status is 1 if any
 * database failed, else 3 if a check found something in any, else 0.
 *
 * The databases are independent: one that fails does not stop the others.
 * SIGINT stops starting new ones; those running are cancelled by their
 * own SIGINT (progress.c) and reported.
 *
 * With --json each child's output is its own JSON document, which is
 * embedded as is in the "databases" array of the one document that main()
 * prints.
 *
 * Copyright (c) 2026, the migrate authors
 *
 * IDENTIFICATION
 *	  bin/fleet.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"

#define RC_NOT_RUN	(-1)		/* interrupted before it started */

typedef struct FleetJob
{
	const char *dbname;
	const char *env;			/* --all-envs: the section, else NULL */
	pid_t		pid;			/* 0: not started or finished */
	FILE	   *out;			/* captured stdout */
	FILE	   *err;			/* captured stderr */
	char	   *output;			/* once finished: what out held */
	char	   *errors;			/* once finished: what err held */
	int			rc;
	double		started;
	double		seconds;
} FleetJob;

static volatile sig_atomic_t fleet_interrupted = false;
static bool fleet_status_drawn = false;

static void
handle_fleet_sigint(int signo)
{
	fleet_interrupted = true;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *
result_name(int rc)
{
	switch (rc)
	{
		case EXIT_OK:
			return "ok";
		case EXIT_FOUND:
			return "found";
		case RC_NOT_RUN:
			return "not run";
		default:
			return "failed";
	}
}

/* one line on stderr, on a terminal: how far the fleet is */
static void
draw_fleet_status(const ClientOptions *opts, int done, int running, int total,
				  int failed)
{
	if (!opts->progress)
		return;
	fprintf(stderr, "\rpg_migrate: %d of %d databases done, %d running",
			done, total, running);
	if (failed > 0)
		fprintf(stderr, ", %d failed", failed);
	fputs("\033[K", stderr);
	fflush(stderr);
	fleet_status_drawn = true;
}

static void
clear_fleet_status(void)
{
	if (fleet_status_drawn)
	{
		fputs("\r\033[K", stderr);
		fflush(stderr);
		fleet_status_drawn = false;
	}
}

/* the whole content of a temporary file, which is closed */
static char *
slurp(FILE *f)
{
	PQExpBufferData buf;
	char		chunk[8192];
	size_t		n;

	initPQExpBuffer(&buf);
	if (f == NULL)
		return buf.data;
	rewind(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		appendBinaryPQExpBuffer(&buf, chunk, n);
	fclose(f);
	return buf.data;
}

/*
 * Read a finished job's temporary files into memory and close them: a
 * fleet of thousands of databases must not keep two files open for each.
 */
static void
collect_output(FleetJob *job)
{
	job->output = slurp(job->out);
	job->errors = slurp(job->err);
	job->out = job->err = NULL;
}

/*
 * The child: the options of this target (--all-envs), no progress line
 * (its output is a file), then the command as for a single database.
 * exit() and not return: the parent's loop is not ours to continue.
 */
static void
run_child(const ClientOptions *opts, FleetJob *job, int target)
{
	ClientOptions local = *opts;
	int			rc;

	signal(SIGINT, SIG_DFL);
	if (dup2(fileno(job->out), STDOUT_FILENO) < 0 ||
		dup2(fileno(job->err), STDERR_FILENO) < 0)
		_exit(EXIT_ERROR);
	local.progress = false;
	apply_target_settings(&local, target);
	out_init(&local);
	rc = run_command(&local, job->dbname);
	out_finish(rc);				/* --json: this database's document */
	exit(rc);
}

static void
start_job(const ClientOptions *opts, FleetJob *job, int target)
{
	job->out = tmpfile();
	job->err = job->out ? tmpfile() : NULL;
	job->started = now_seconds();
	if (job->out == NULL || job->err == NULL)
	{
		fprintf(stderr, "pg_migrate: error: could not create a temporary file: %s\n",
				strerror(errno));
		job->rc = EXIT_ERROR;
		collect_output(job);
		return;
	}
	/* what stdio holds now must not be written twice, by both processes */
	fflush(stdout);
	fflush(stderr);
	job->pid = fork();
	if (job->pid == 0)
		run_child(opts, job, target);
	if (job->pid < 0)
	{
		fprintf(stderr, "pg_migrate: error: could not start a process: %s\n",
				strerror(errno));
		job->pid = 0;
		job->rc = EXIT_ERROR;
		collect_output(job);
	}
}

static int
exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return EXIT_ERROR;			/* killed by a signal */
}

/* text output: a finished database's output, as one block */
static void
print_block(const ClientOptions *opts, const FleetJob *job, int status)
{
	const char *output = job->output;
	const char *errors = job->errors;

	if (!opts->quiet || output[0] != '\0' || errors[0] != '\0')
	{
		printf("==> %s%s%s%s: %s (exit %d, %.1f s)\n",
			   redact_conninfo(job->dbname),
			   job->env ? " [" : "", job->env ? job->env : "",
			   job->env ? "]" : "",
			   result_name(job->rc), job->rc, job->seconds);
		fputs(output, stdout);
		if (output[0] != '\0' && output[strlen(output) - 1] != '\n')
			putchar('\n');
		fflush(stdout);
		/* errors stay on stderr, right after the block they belong to */
		fputs(errors, stderr);
		if (errors[0] != '\0' && errors[strlen(errors) - 1] != '\n')
			putc('\n', stderr);
		if (WIFSIGNALED(status))
			fprintf(stderr, "pg_migrate: error: the process for this database was terminated by signal %d\n",
					WTERMSIG(status));
		fflush(stderr);
		putchar('\n');
		fflush(stdout);
	}
}

/*
 * A JSON string, escaped as RFC 8259 says, invalid UTF-8 replaced by
 * U+FFFD (libpq offers no JSON writer; output.c's is private to the
 * document it builds)
 */
static void
append_json_string(PQExpBuffer buf, const char *s)
{
	const unsigned char *c = (const unsigned char *) s;

	appendPQExpBufferChar(buf, '"');
	while (*c)
	{
		if (*c == '"' || *c == '\\')
			appendPQExpBuffer(buf, "\\%c", *c++);
		else if (*c == '\n')
		{
			appendPQExpBufferStr(buf, "\\n");
			c++;
		}
		else if (*c < 0x20)
			appendPQExpBuffer(buf, "\\u%04x", *c++);
		else if (*c < 0x80)
			appendPQExpBufferChar(buf, (char) *c++);
		else
		{
			int			len = pg_utf_mblen(c);

			if ((int) strnlen((const char *) c, len) == len &&
				pg_utf8_islegal(c, len))
			{
				appendBinaryPQExpBuffer(buf, (const char *) c, len);
				c += len;
			}
			else
			{
				appendPQExpBufferStr(buf, "\\ufffd");
				c++;
			}
		}
	}
	appendPQExpBufferChar(buf, '"');
}

static void
append_json_string_or_null(PQExpBuffer buf, const char *s)
{
	if (s == NULL || s[0] == '\0')
		appendPQExpBufferStr(buf, "null");
	else
		append_json_string(buf, s);
}

/* a child's stdout: its JSON document as is, else as a string, or null */
static void
append_json_output(PQExpBuffer buf, const char *output)
{
	const char *p = output;
	size_t		len;

	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	if (len == 0)
		appendPQExpBufferStr(buf, "null");
	else if (*p == '{' || *p == '[')
		appendBinaryPQExpBuffer(buf, p, len);
	else
		append_json_string(buf, output);
}

/*
 * --json: the "databases" array, one object per database in the order
 * given, each holding the document the database's process printed
 */
static char *
json_databases(const FleetJob *jobs, int n)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	appendPQExpBufferChar(&buf, '[');
	for (int i = 0; i < n; i++)
	{
		appendPQExpBufferStr(&buf, i ? ",\n  {\"connection\": " : "\n  {\"connection\": ");
		append_json_string(&buf, redact_conninfo(jobs[i].dbname));
		appendPQExpBufferStr(&buf, ", \"environment\": ");
		append_json_string_or_null(&buf, jobs[i].env);
		appendPQExpBuffer(&buf, ", \"exit_code\": %d, \"result\": \"%s\", \"seconds\": %.3f, \"output\": ",
						  jobs[i].rc, result_name(jobs[i].rc), jobs[i].seconds);
		append_json_output(&buf, jobs[i].output ? jobs[i].output : "");
		appendPQExpBufferStr(&buf, ", \"stderr\": ");
		append_json_string_or_null(&buf, jobs[i].errors);
		appendPQExpBufferChar(&buf, '}');
	}
	appendPQExpBufferStr(&buf, "\n]");
	return buf.data;
}

/*
 * text output: the table of every database, in the order given (with an
 * environment column for --all-envs)
 */
static void
print_summary(const ClientOptions *opts, const FleetJob *jobs, int n)
{
	const char *const with_env[] = {"database", "environment", "exit code",
	"result", "seconds"};
	const char *const without_env[] = {"database", "exit code", "result",
	"seconds"};
	bool		envs = opts->targets != NULL;
	int			ncols = envs ? 5 : 4;
	char	  **cells = pg_malloc0(sizeof(char *) * n * ncols);

	for (int i = 0; i < n; i++)
	{
		char	  **row = &cells[i * ncols];

		*row++ = pg_strdup(redact_conninfo(jobs[i].dbname));
		if (envs)
			*row++ = jobs[i].env ? pg_strdup(jobs[i].env) : NULL;
		*row++ = jobs[i].rc == RC_NOT_RUN ? NULL : psprintf("%d", jobs[i].rc);
		*row++ = pg_strdup(result_name(jobs[i].rc));
		*row++ = jobs[i].rc == RC_NOT_RUN ? NULL :
			psprintf("%.1f", jobs[i].seconds);
	}
	out_rows("databases", ncols, envs ? with_env : without_env, n, cells);
	for (int i = 0; i < n * ncols; i++)
		free(cells[i]);
	free(cells);
}

/* 1 if any database failed (or did not run), else 3 if any found, else 0 */
static int
fleet_exit_code(const FleetJob *jobs, int n)
{
	bool		found = false;

	for (int i = 0; i < n; i++)
	{
		if (jobs[i].rc == EXIT_FOUND)
			found = true;
		else if (jobs[i].rc != EXIT_OK)
			return EXIT_ERROR;
	}
	return found ? EXIT_FOUND : EXIT_OK;
}

/* wait for one child; false when there is none left or on SIGINT */
static bool
reap_one(const ClientOptions *opts, FleetJob *jobs, int n, int *running,
		 int *done, int *failed)
{
	int			status;
	pid_t		pid = waitpid(-1, &status, 0);

	if (pid < 0)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (jobs[i].pid != pid)
			continue;
		jobs[i].pid = 0;
		jobs[i].rc = exit_code_of(status);
		jobs[i].seconds = now_seconds() - jobs[i].started;
		collect_output(&jobs[i]);
		(*running)--;
		(*done)++;
		if (jobs[i].rc != EXIT_OK && jobs[i].rc != EXIT_FOUND)
			(*failed)++;
		if (!opts->json)
		{
			clear_fleet_status();
			print_block(opts, &jobs[i], status);
		}
		break;
	}
	return true;
}

int
run_fleet(const ClientOptions *opts, char **dbnames, int ndbnames)
{
	FleetJob   *jobs = pg_malloc0(sizeof(FleetJob) * ndbnames);
	struct sigaction action;
	struct sigaction previous;
	int			next = 0;
	int			running = 0;
	int			done = 0;
	int			failed = 0;
	int			rc;

	for (int i = 0; i < ndbnames; i++)
	{
		jobs[i].dbname = dbnames[i];
		jobs[i].env = opts->targets ? opts->targets[i].env : NULL;
		jobs[i].rc = RC_NOT_RUN;
	}

	/* SIGINT: start no more databases, report the ones that ran */
	memset(&action, 0, sizeof(action));
	action.sa_handler = handle_fleet_sigint;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, &previous);

	while (done < ndbnames)
	{
		while (next < ndbnames && running < opts->jobs && !fleet_interrupted)
		{
			start_job(opts, &jobs[next], next);
			if (jobs[next].pid > 0)
				running++;
			else
			{
				done++;
				failed++;
			}
			next++;
		}
		draw_fleet_status(opts, done, running, ndbnames, failed);
		if (running == 0)
			break;				/* interrupted: nothing left to wait for */
		if (!reap_one(opts, jobs, ndbnames, &running, &done, &failed) &&
			errno != EINTR)
			break;
	}
	clear_fleet_status();
	sigaction(SIGINT, &previous, NULL);
	if (fleet_interrupted && next < ndbnames)
		fprintf(stderr, "pg_migrate: interrupted: %d of %d databases were not started\n",
				ndbnames - next, ndbnames);

	rc = fleet_exit_code(jobs, ndbnames);
	if (opts->json)
	{
		/* into the one document main() prints (out_finish) */
		char	   *databases = json_databases(jobs, ndbnames);

		out_json_raw("databases", databases);
		free(databases);
	}
	else if (!opts->quiet)
		print_summary(opts, jobs, ndbnames);
	free(jobs);
	return rc;
}
