/*-------------------------------------------------------------------------
 *
 * progress.c
 *		Live progress of a running command over a second connection.
 *
 * exec_with_progress() sends one query asynchronously and, while the server
 * works on it, waits on the connection's socket with a timeout.  On a
 * terminal, once the call has run for a second, it asks the view
 * migrate.progress, over a second connection to the same database, which
 * migration and which statement are running and what they wait for, and
 * redraws one status line on stderr twice a second.  The line is cleared
 * before anything else is printed (a NOTICE of the running query, the
 * result) and when the query ends.
 *
 * The second connection is opened lazily, only for calls that last, with
 * the parameters of the first one (PQconninfo), including a password the
 * first one used: it stays in memory and is never printed.
 *
 * SIGINT while the query runs sends a cancel request to the server, as
 * psql does (connect.c's handler, installed with the connection); the
 * query then ends with the server's error ("canceling statement due to
 * user request"), which the caller reports.
 *
 * The caller logs the query with --verbose (exec_migration_sql() in
 * commands.c does, as every query of the client is logged in one place).
 *
 * Copyright (c) 2026, the migrate authors
 *
 * IDENTIFICATION
 *	  bin/progress.c
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "pqexpbuffer.h"

#define REDRAW_INTERVAL		0.5		/* seconds between two status lines */
#define FIRST_REDRAW_AFTER	1.0		/* quick calls show no status line */
#define STATEMENT_CHARS		60		/* of the running statement's text */

/*
 * What the running migration does.  The row of our own backend, or, when
 * our backend waits for the apply worker it handed the plan to
 * (MessageQueueReceive), the newest unscheduled run of a background worker
 * in this database.  Our backend's own state comes along for the time
 * before a migration starts (waiting for the migrate lock, for example).
 */
static const char *const progress_query =
"SELECT p.migration, p.migrations, p.version, p.name, p.statement, "
"p.statements, p.statement_text, "
"pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp() "
"OPERATOR(pg_catalog.-) p.statement_started)), "
"COALESCE(p.wait_event_type, me.wait_event_type), "
"COALESCE(p.wait_event, me.wait_event), "
"pg_catalog.array_to_string(COALESCE(p.blocked_by, "
"pg_catalog.pg_blocking_pids(me.pid)), ', '), p.action "
"FROM pg_catalog.pg_stat_activity me "
"LEFT JOIN LATERAL (SELECT q.* FROM migrate.progress q "
" WHERE q.pid OPERATOR(pg_catalog.=) me.pid "
" OR (me.wait_event OPERATOR(pg_catalog.=) 'MessageQueueReceive' "
"  AND q.database OPERATOR(pg_catalog.=) me.datname AND q.schedule IS NULL "
"  AND EXISTS (SELECT FROM pg_catalog.pg_stat_activity w "
"   WHERE w.pid OPERATOR(pg_catalog.=) q.pid "
"   AND w.backend_type OPERATOR(pg_catalog.<>) 'client backend')) "
" ORDER BY q.pid OPERATOR(pg_catalog.=) me.pid DESC, q.migration_started DESC "
" LIMIT 1) p ON true "
"WHERE me.pid OPERATOR(pg_catalog.=) $1";

/* the same without migrate.progress (no privilege on it, for example) */
static const char *const activity_query =
"SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
"me.wait_event_type, me.wait_event, "
"pg_catalog.array_to_string(pg_catalog.pg_blocking_pids(me.pid), ', '), NULL "
"FROM pg_catalog.pg_stat_activity me WHERE me.pid OPERATOR(pg_catalog.=) $1";

typedef struct ProgressState
{
	PGconn	   *conn;			/* runs the query */
	PGconn	   *watch;			/* second connection, NULL until needed */
	bool		watch_failed;	/* could not connect: no more attempts */
	bool		use_view;		/* migrate.progress answered (or untried) */
	double		started;
	double		last_redraw;
} ProgressState;

/* seconds on a monotonic clock (fleet.c times its databases with it) */
double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
clear_status(void)
{
	if (status_line_drawn)
	{
		fputs("\r\033[K", stderr);
		fflush(stderr);
		status_line_drawn = false;
	}
}

static int
terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/*
 * Append at most max characters (not bytes: never cut a UTF-8 sequence) of
 * text with every run of white space made one blank, "..." when cut.
 */
static void
append_excerpt(PQExpBuffer buf, const char *text, int max)
{
	int			chars = 0;
	bool		blank = false;

	for (const unsigned char *c = (const unsigned char *) text; *c; c++)
	{
		if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r')
		{
			blank = chars > 0;
			continue;
		}
		if ((*c & 0xC0) != 0x80)
		{
			if (chars + blank >= max)
			{
				appendPQExpBufferStr(buf, "...");
				return;
			}
			if (blank)
			{
				appendPQExpBufferChar(buf, ' ');
				chars++;
			}
			blank = false;
			chars++;
		}
		appendPQExpBufferChar(buf, (char) *c);
	}
}

/* the status line from one row of progress_query */
static void
format_status(PQExpBuffer line, const PGresult *res, double elapsed)
{
#define COL(i) (PQgetisnull(res, 0, (i)) ? NULL : PQgetvalue(res, 0, (i)))
	const char *migration = COL(0),
			   *migrations = COL(1),
			   *version = COL(2),
			   *name = COL(3),
			   *statement = COL(4),
			   *statements = COL(5),
			   *text = COL(6),
			   *seconds = COL(7),
			   *wait_type = COL(8),
			   *wait = COL(9),
			   *blockers = COL(10),
			   *action = COL(11);
#undef COL

	if (version != NULL)
	{
		appendPQExpBuffer(line, "%s %s/%s %s %s", action ? action : "",
						  migration, migrations, version, name ? name : "");
		if (statement == NULL || strcmp(statement, "0") == 0)
			appendPQExpBufferStr(line, ": starting");
		else
		{
			appendPQExpBuffer(line, ": statement %s/%s", statement,
							  statements ? statements : "?");
			if (seconds != NULL)
				appendPQExpBuffer(line, ", %ss", seconds);
		}
	}
	else
		appendPQExpBuffer(line, "running for %.0fs", elapsed);
	/* what it waits for comes before the text, which the width may cut */
	if (wait_type != NULL)
		appendPQExpBuffer(line, ", waiting for %s:%s", wait_type,
						  wait ? wait : "?");
	if (blockers != NULL && blockers[0] != '\0')
		appendPQExpBuffer(line, " (blocked by pid %s)", blockers);
	if (version != NULL && text != NULL)
	{
		appendPQExpBufferStr(line, ": ");
		append_excerpt(line, text, STATEMENT_CHARS);
	}
}

/* cut the line to the terminal's width, so that \r goes back to its start */
static void
fit_to_terminal(PQExpBuffer line)
{
	int			width = terminal_width() - 1;
	int			chars = 0;

	for (size_t i = 0; i < line->len; i++)
	{
		if (((unsigned char) line->data[i] & 0xC0) != 0x80 && chars++ == width)
		{
			line->data[i] = '\0';
			line->len = i;
			return;
		}
	}
}

static void
quiet_notices(void *arg, const char *message)
{
}

/*
 * The second connection: the parameters of the first one, under its own
 * application_name, with short timeouts, so that a status query can never
 * hold up the client for long.
 */
static void
open_watch(ProgressState *ps)
{
	PQconninfoOption *info = PQconninfo(ps->conn);
	const char **keywords;
	const char **values;
	int			n = 0;
	PGresult   *res;

	ps->watch_failed = true;
	if (info == NULL)
		return;
	for (PQconninfoOption *o = info; o->keyword; o++)
		n++;
	keywords = pg_malloc0(sizeof(char *) * (n + 3));
	values = pg_malloc0(sizeof(char *) * (n + 3));
	n = 0;
	for (PQconninfoOption *o = info; o->keyword; o++)
	{
		if (o->val == NULL || o->val[0] == '\0' ||
			strcmp(o->keyword, "application_name") == 0 ||
			strcmp(o->keyword, "fallback_application_name") == 0)
			continue;
		keywords[n] = o->keyword;
		values[n++] = o->val;
	}
	keywords[n] = "application_name";
	values[n++] = "pg_migrate progress";
	ps->watch = PQconnectdbParams(keywords, values, 0);
	PQconninfoFree(info);
	free(keywords);
	free(values);
	if (PQstatus(ps->watch) != CONNECTION_OK)
	{
		PQfinish(ps->watch);
		ps->watch = NULL;
		return;
	}
	/* the view says why it is empty without preloading: once is enough */
	PQsetNoticeProcessor(ps->watch, quiet_notices, NULL);
	res = PQexec(ps->watch,
				 "SELECT pg_catalog.set_config('statement_timeout', '2000', false), "
				 "pg_catalog.set_config('lock_timeout', '1000', false)");
	PQclear(res);
	ps->watch_failed = false;
	ps->use_view = true;
}

/* ask the second connection and draw the status line */
static void
redraw_status(ProgressState *ps, double elapsed)
{
	char		pid[16];
	const char *params[1] = {pid};
	PGresult   *res;
	PQExpBufferData line;

	if (ps->watch == NULL && !ps->watch_failed)
		open_watch(ps);
	if (ps->watch == NULL)
		return;
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(ps->conn));
	res = PQexecParams(ps->watch, ps->use_view ? progress_query : activity_query,
					   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && ps->use_view)
	{
		/* no migrate.progress for this role: pg_stat_activity alone */
		PQclear(res);
		ps->use_view = false;
		res = PQexecParams(ps->watch, activity_query, 1, NULL, params,
						   NULL, NULL, 0);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		PQclear(res);
		return;
	}
	initPQExpBuffer(&line);
	format_status(&line, res, elapsed);
	PQclear(res);
	fit_to_terminal(&line);
	fprintf(stderr, "\r%s\033[K", line.data);
	fflush(stderr);
	status_line_drawn = true;
	termPQExpBuffer(&line);
}

/*
 * Keep what PQexecParams would return: the first error, else the last
 * result.
 */
static void
keep_result(PGresult **kept, PGresult *res)
{
	if (*kept != NULL && PQresultStatus(*kept) == PGRES_FATAL_ERROR)
		PQclear(res);
	else
	{
		PQclear(*kept);
		*kept = res;
	}
}

/*
 * Wait for the results of the query sent on ps->conn, drawing the status
 * line meanwhile.  Returns the result, or NULL with the connection's error
 * when the connection failed.
 */
static PGresult *
wait_for_result(ProgressState *ps, const ClientOptions *opts)
{
	PGresult   *kept = NULL;
	struct pollfd pfd;

	pfd.fd = PQsocket(ps->conn);
	pfd.events = POLLIN;
	for (;;)
	{
		double		now;
		int			rc = poll(&pfd, 1, (int) (REDRAW_INTERVAL * 1000));

		if (rc < 0 && errno != EINTR)
			break;
		if (rc > 0)
		{
			/* a NOTICE may come with the data: print it on a clean line */
			clear_status();
			if (!PQconsumeInput(ps->conn))
				break;
			while (!PQisBusy(ps->conn))
			{
				PGresult   *res = PQgetResult(ps->conn);

				if (res == NULL)
					return kept;
				keep_result(&kept, res);
			}
		}
		now = now_seconds();
		if (opts->progress && now - ps->started >= FIRST_REDRAW_AFTER &&
			now - ps->last_redraw >= REDRAW_INTERVAL)
		{
			redraw_status(ps, now - ps->started);
			ps->last_redraw = now;
		}
	}
	clear_status();
	PQclear(kept);
	return PQmakeEmptyPGresult(ps->conn, PGRES_FATAL_ERROR);
}

PGresult *
exec_with_progress(PGconn *conn, const ClientOptions *opts, const char *sql,
				   int nparams, const char *const *params)
{
	ProgressState ps;
	PGresult   *res;

	memset(&ps, 0, sizeof(ps));
	ps.conn = conn;
	ps.started = now_seconds();

	if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0))
		res = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
	else
		res = wait_for_result(&ps, opts);
	clear_status();
	if (ps.watch != NULL)
		PQfinish(ps.watch);
	return res;
}
