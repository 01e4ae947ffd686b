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
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pqexpbuffer.h"

#define RC_NOT_RUN	(-1)		/* interrupted before it started */

/*
 * Descriptors the parent keeps for itself (stdio, libpq's for a prompt,
 * stdio's own), on top of the two temporary files of each running job
 */
#define FD_RESERVE	16

/* what start_job() did */
typedef enum StartResult
{
	JOB_STARTED,
	JOB_FAILED,					/* reported; the job counts as failed */
	JOB_RETRY					/* out of descriptors: wait for a job, retry */
} StartResult;

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
handle_fleet_sigint(SIGNAL_ARGS)
{
	fleet_interrupted = true;
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
run_child(const ClientOptions *opts, FleetJob *jobs, int njobs, int target)
{
	ClientOptions local = *opts;
	FleetJob   *job = &jobs[target];
	int			rc;

	/*
	 * The other running jobs' files are not ours: close them, so that each
	 * child holds only its own (and a job's file is not kept open, after
	 * the job ended, by a sibling started while it ran)
	 */
	for (int i = 0; i < njobs; i++)
	{
		if (i == target)
			continue;
		if (jobs[i].out)
			close(fileno(jobs[i].out));
		if (jobs[i].err)
			close(fileno(jobs[i].err));
	}
	signal(SIGINT, SIG_DFL);
	if (dup2(fileno(job->out), STDOUT_FILENO) < 0 ||
		dup2(fileno(job->err), STDERR_FILENO) < 0)
		_exit(EXIT_ERROR);
	local.progress = false;
	/* the parent prompted for -W; children reading the terminal at once
	 * would garble their prompts, so they never prompt (as with -w) */
	local.prompt_password = -1;
	apply_target_settings(&local, target);
	out_init(&local);
	rc = run_command(&local, job->dbname);
	out_finish(rc);				/* --json: this database's document */
	exit(rc);
}

/*
 * Start the job of target: two temporary files, then a child.  Out of
 * descriptors (EMFILE, ENFILE) while other jobs run is not a failure: the
 * caller waits for one of them to end and tries again.
 */
static StartResult
start_job(const ClientOptions *opts, FleetJob *jobs, int njobs, int target,
		  int running)
{
	FleetJob   *job = &jobs[target];

	job->out = tmpfile();
	job->err = job->out ? tmpfile() : NULL;
	job->started = now_seconds();
	if (job->out == NULL || job->err == NULL)
	{
		int			save_errno = errno;

		if (job->out)
			fclose(job->out);
		job->out = NULL;
		if ((save_errno == EMFILE || save_errno == ENFILE) && running > 0)
			return JOB_RETRY;
		fprintf(stderr, "pg_migrate: error: could not create a temporary file: %s\n",
				strerror(save_errno));
		job->rc = EXIT_ERROR;
		collect_output(job);
		return JOB_FAILED;
	}
	/* what stdio holds now must not be written twice, by both processes */
	fflush(stdout);
	fflush(stderr);
	job->pid = fork();
	if (job->pid == 0)
		run_child(opts, jobs, njobs, target);
	if (job->pid < 0)
	{
		fprintf(stderr, "pg_migrate: error: could not start a process: %s\n",
				strerror(errno));
		job->pid = 0;
		job->rc = EXIT_ERROR;
		collect_output(job);
		return JOB_FAILED;
	}
	return JOB_STARTED;
}

/*
 * --jobs, capped by the open-file limit: the parent holds two temporary
 * files per running job, and thousands of jobs would fail with EMFILE.
 */
static int
max_jobs(const ClientOptions *opts, int ndbnames)
{
	struct rlimit rl;
	int			jobs = Min(opts->jobs, ndbnames);
	long		fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return jobs;
	fit = ((long) rl.rlim_cur - FD_RESERVE) / 2;
	if (fit < 1)
		fit = 1;
	if (jobs > fit)
	{
		out_verbose("running %ld databases at a time instead of %d: the open-file limit (ulimit -n) is %ld",
					fit, opts->jobs, (long) rl.rlim_cur);
		jobs = (int) fit;
	}
	return jobs;
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
		char	   *description = redact_conninfo(job->dbname);

		printf("==> %s%s%s%s: %s (exit %d, %.1f s)\n",
			   description,
			   job->env ? " [" : "", job->env ? job->env : "",
			   job->env ? "]" : "",
			   result_name(job->rc), job->rc, job->seconds);
		free(description);
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

static void
append_json_string_or_null(PQExpBuffer buf, const char *s)
{
	if (s == NULL || s[0] == '\0')
		appendPQExpBufferStr(buf, "null");
	else
		json_escape(buf, s);
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
		json_escape(buf, output);
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
		char	   *description = redact_conninfo(jobs[i].dbname);

		appendPQExpBufferStr(&buf, i ? ",\n  {\"connection\": " : "\n  {\"connection\": ");
		json_escape(&buf, description);
		free(description);
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
	/* exit code and seconds are numbers: right-aligned */
	const bool	numeric_with_env[] = {false, false, true, false, true};
	const bool	numeric_without_env[] = {false, true, false, true};
	bool		envs = opts->targets != NULL;
	int			ncols = envs ? 5 : 4;
	char	  **cells = pg_malloc0(sizeof(char *) * n * ncols);

	for (int i = 0; i < n; i++)
	{
		char	  **row = &cells[i * ncols];

		*row++ = redact_conninfo(jobs[i].dbname);
		if (envs)
			*row++ = jobs[i].env ? pg_strdup(jobs[i].env) : NULL;
		*row++ = jobs[i].rc == RC_NOT_RUN ? NULL : psprintf("%d", jobs[i].rc);
		*row++ = pg_strdup(result_name(jobs[i].rc));
		*row++ = jobs[i].rc == RC_NOT_RUN ? NULL :
			psprintf("%.1f", jobs[i].seconds);
	}
	out_rows_typed("databases", ncols, envs ? with_env : without_env,
				   envs ? numeric_with_env : numeric_without_env, n, cells);
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
	int			njobs = max_jobs(opts, ndbnames);
	int			rc;

	for (int i = 0; i < ndbnames; i++)
	{
		jobs[i].dbname = dbnames[i];
		jobs[i].env = opts->targets ? opts->targets[i].env : NULL;
		jobs[i].rc = RC_NOT_RUN;
	}

	prompt_password_once(opts);

	/* SIGINT: start no more databases, report the ones that ran */
	memset(&action, 0, sizeof(action));
	action.sa_handler = handle_fleet_sigint;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, &previous);

	while (done < ndbnames)
	{
		while (next < ndbnames && running < njobs && !fleet_interrupted)
		{
			StartResult started = start_job(opts, jobs, ndbnames, next, running);

			if (started == JOB_RETRY)
				break;			/* reap a running job first */
			if (started == JOB_STARTED)
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
