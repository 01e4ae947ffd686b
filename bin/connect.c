/*-------------------------------------------------------------------------
 *
 * connect.c
 *		libpq connections, the extension version check, init.
 *
 * Connections are made the psql way: each -d may be a database name, a
 * conninfo string or a URI (expand_dbname), -h/-p/-U fill in what it does
 * not say, and libpq adds the PG* variables, ~/.pgpass and the service
 * file.  -W prompts for a password before connecting, -w never prompts, and
 * by default the client prompts when the server asks for a password that
 * nothing supplied, and tries again, as psql does.  A password typed once
 * is used for every database of the invocation.
 *
 * Every session sets the client encoding to UTF8: the migration files are
 * UTF-8, and the --json document must be too.  It does NOT pin search_path:
 * migration SQL runs with the caller's search_path (doc/migrate.md, "Who
 * runs what"), so that an unqualified CREATE TABLE in a script goes where it
 * would go in psql, and apply() runs in this session.  A session pinned to
 * pg_catalog, pg_temp would create the script's tables in pg_catalog (or
 * fail), and wrapping every call that runs scripts is too easy to forget.
 * The client's own queries are safe without the pin: each schema-qualifies
 * every function, operator and relation, and passes values as parameters.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <signal.h>
#include <unistd.h>

#include "common/string.h"
#include "pqexpbuffer.h"

/* the password typed at a prompt, reused for the next databases */
static char *typed_password = NULL;

/* Ctrl-C sends a cancel request for the running query, as psql does */
static PGcancel *volatile cancel_target = NULL;

static void
handle_sigint(SIGNAL_ARGS)
{
	int			save_errno = errno;
	char		errbuf[256];
	static const char msg[] = "pg_migrate: cancel request sent\n";

	if (cancel_target != NULL && PQcancel(cancel_target, errbuf, sizeof(errbuf)))
	{
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		{
			/* nothing to do: stderr is gone */
		}
	}
	/* a second Ctrl-C ends the client at once */
	pqsignal(SIGINT, SIG_DFL);
	errno = save_errno;
}

static void
set_cancel_target(PGconn *conn)
{
	PGcancel   *old = cancel_target;

	cancel_target = NULL;
	if (old)
		PQfreeCancel(old);
	cancel_target = PQgetCancel(conn);
	pqsignal(SIGINT, handle_sigint);
}

/* "1.1" -> 1, 1; false when it is not major.minor */
static bool
parse_version(const char *v, int *major, int *minor)
{
	char	   *end;

	*major = (int) strtol(v, &end, 10);
	if (end == v || *end != '.')
		return false;
	v = end + 1;
	*minor = (int) strtol(v, &end, 10);
	return end != v;
}

/*
 * Whether this client can drive the extension version installed in the
 * connected database (NULL: not installed); with messages unless quiet.
 */
static bool
check_version(PGconn *conn, const char *extversion, bool quiet)
{
	int			have_major,
				have_minor,
				min_major,
				min_minor,
				client_major,
				client_minor;

	if (extversion == NULL)
	{
		if (!quiet)
		{
			out_error("extension \"migrate\" is not installed in database \"%s\"",
					  PQdb(conn));
			out_hint("Run \"pg_migrate init\", or CREATE EXTENSION migrate as a role that may create it.");
		}
		return false;
	}
	if (!parse_version(extversion, &have_major, &have_minor) ||
		!parse_version(CLIENT_MIN_EXTVERSION, &min_major, &min_minor) ||
		!parse_version(MIGRATE_VERSION, &client_major, &client_minor))
	{
		if (!quiet)
			out_error("extension \"migrate\" in database \"%s\" has version \"%s\", which this client cannot read",
					  PQdb(conn), extversion);
		return false;
	}
	if (have_major < min_major ||
		(have_major == min_major && have_minor < min_minor))
	{
		if (!quiet)
		{
			out_error("extension \"migrate\" in database \"%s\" is version %s, but pg_migrate %s needs %s or later",
					  PQdb(conn), extversion, MIGRATE_VERSION, CLIENT_MIN_EXTVERSION);
			out_hint("Run ALTER EXTENSION migrate UPDATE in that database.");
		}
		return false;
	}
	if (have_major > client_major)
	{
		if (!quiet)
		{
			out_error("extension \"migrate\" in database \"%s\" is version %s, newer than pg_migrate %s knows",
					  PQdb(conn), extversion, MIGRATE_VERSION);
			out_hint("Use the pg_migrate of the extension's release.");
		}
		return false;
	}
	return true;
}

/*
 * Whether the extension is installed at a version this client supports;
 * prints why not unless quiet.
 */
bool
check_extension(PGconn *conn, bool quiet)
{
	PGresult   *res;
	bool		ok;

	res = exec_params(conn,
					  "SELECT e.extversion FROM pg_catalog.pg_extension e"
					  " WHERE e.extname OPERATOR(pg_catalog.=) 'migrate'",
					  0, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (!quiet)
			out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	ok = check_version(conn, PQntuples(res) ? PQgetvalue(res, 0, 0) : NULL,
					   quiet);
	PQclear(res);
	return ok;
}

/*
 * One round trip after connecting: make sure the progress NOTICEs arrive,
 * set the session settings the options ask for, and read the extension's
 * version.  Every value is a parameter.  migrate.environment is set only
 * where the server defines it (a reserved prefix refuses an unknown
 * migrate.* setting).
 */
static bool
setup_session(PGconn *conn, const ClientOptions *opts, bool require_extension)
{
	PQExpBuffer sql = createPQExpBuffer();
	const char *params[3];
	int			nparams = 0;
	PGresult   *res;
	bool		ok;

	appendPQExpBufferStr(sql,
						 "SELECT (SELECT e.extversion FROM pg_catalog.pg_extension e"
						 " WHERE e.extname OPERATOR(pg_catalog.=) 'migrate'),"
	/* the progress lines: apply()'s NOTICEs, whatever the role's settings */
						 " pg_catalog.set_config('client_min_messages', 'notice', false),"
						 " pg_catalog.set_config('migrate.progress_level', 'notice', false)");
	if (opts->lock_timeout)
	{
		params[nparams++] = opts->lock_timeout;
		appendPQExpBuffer(sql, ", pg_catalog.set_config('migrate.lock_timeout', $%d, false)",
						  nparams);
	}
	if (opts->statement_timeout)
	{
		params[nparams++] = opts->statement_timeout;
		appendPQExpBuffer(sql, ", pg_catalog.set_config('statement_timeout', $%d, false)",
						  nparams);
	}
	if (opts->environment)
	{
		params[nparams++] = opts->environment;
		appendPQExpBuffer(sql,
						  ", CASE WHEN pg_catalog.current_setting('migrate.environment', true) IS NOT NULL"
						  " THEN pg_catalog.set_config('migrate.environment', $%d, false) END",
						  nparams);
	}
	res = exec_params(conn, sql->data, nparams, params);
	destroyPQExpBuffer(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	ok = !require_extension ||
		check_version(conn, PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0),
					  false);
	PQclear(res);
	return ok;
}

/*
 * Connect to one database (dbname: a name, a conninfo string, a URI, or
 * NULL for libpq's defaults), set the session up and, if asked, check the
 * extension.  NULL after printing why.
 */
PGconn *
client_connect(const ClientOptions *opts, const char *dbname,
			   bool require_extension)
{
	const char *keywords[8];
	const char *values[8];
	PGconn	   *conn;
	bool		retry;

	if (opts->prompt_password == 1 && typed_password == NULL)
	{
		char	   *prompt = opts->username ?
			psprintf("Password for user %s: ", opts->username) :
			pg_strdup("Password: ");

		typed_password = simple_prompt(prompt, false);
		free(prompt);
	}

	do
	{
		int			i = 0;

		/* psql's order: what dbname expands to overrides -h/-p/-U */
		keywords[i] = "host";
		values[i++] = opts->host;
		keywords[i] = "port";
		values[i++] = opts->port;
		keywords[i] = "user";
		values[i++] = opts->username;
		keywords[i] = "password";
		values[i++] = typed_password;
		keywords[i] = "dbname";
		values[i++] = dbname;
		keywords[i] = "fallback_application_name";
		values[i++] = "pg_migrate";
		keywords[i] = "client_encoding";
		values[i++] = "UTF8";
		keywords[i] = NULL;
		values[i] = NULL;

		out_verbose("connecting to %s",
					dbname ? redact_conninfo(dbname) : "the default database");
		conn = PQconnectdbParams(keywords, values, true);
		if (conn == NULL)
		{
			out_error("out of memory");
			return NULL;
		}
		retry = false;
		if (PQstatus(conn) == CONNECTION_BAD && PQconnectionNeedsPassword(conn) &&
			typed_password == NULL && opts->prompt_password != -1 &&
			isatty(fileno(stdin)))
		{
			char	   *prompt = psprintf("Password for user %s: ", PQuser(conn));

			PQfinish(conn);
			typed_password = simple_prompt(prompt, false);
			free(prompt);
			retry = true;
		}
	} while (retry);

	if (PQstatus(conn) != CONNECTION_OK)
	{
		/* libpq's message names the server, never the password */
		out_error("%s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeReceiver(conn, out_notice, NULL);
	set_cancel_target(conn);
	if (!setup_session(conn, opts, require_extension))
	{
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* a value of a key=value connection string, quoted when it needs to be */
static void
append_conninfo_value(PQExpBuffer buf, const char *value)
{
	bool		needs_quotes = (*value == '\0');

	for (const char *p = value; *p; p++)
		if (*p == ' ' || *p == '\'' || *p == '\\' || *p == '=')
			needs_quotes = true;
	if (!needs_quotes)
	{
		appendPQExpBufferStr(buf, value);
		return;
	}
	appendPQExpBufferChar(buf, '\'');
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			appendPQExpBufferChar(buf, '\\');
		appendPQExpBufferChar(buf, *p);
	}
	appendPQExpBufferChar(buf, '\'');
}

/*
 * A description of a -d value that is safe to print: a database name as it
 * is; a conninfo string or a URI as the key=value settings it holds,
 * without password and sslpassword.  Something libpq cannot parse is not
 * echoed at all (it might hold a password).  The result is allocated.
 */
const char *
redact_conninfo(const char *conninfo)
{
	PQconninfoOption *options;
	PQExpBuffer buf;
	char	   *errmsg = NULL;
	char	   *result;

	if (conninfo == NULL)
		return pg_strdup("");
	if (strchr(conninfo, '=') == NULL &&
		strncmp(conninfo, "postgresql://", 13) != 0 &&
		strncmp(conninfo, "postgres://", 11) != 0)
		return pg_strdup(conninfo);

	options = PQconninfoParse(conninfo, &errmsg);
	if (options == NULL)
	{
		PQfreemem(errmsg);
		return pg_strdup("(invalid connection string)");
	}
	buf = createPQExpBuffer();
	for (PQconninfoOption *o = options; o->keyword; o++)
	{
		if (o->val == NULL || strcmp(o->keyword, "password") == 0 ||
			strcmp(o->keyword, "sslpassword") == 0)
			continue;
		if (buf->len > 0)
			appendPQExpBufferChar(buf, ' ');
		appendPQExpBuffer(buf, "%s=", o->keyword);
		append_conninfo_value(buf, o->val);
	}
	PQconninfoFree(options);
	result = pg_strdup(buf->data);
	destroyPQExpBuffer(buf);
	return result;
}

/*
 * init: create the extension (IF NOT EXISTS: running it twice is fine).
 * The connection was made without the extension check.
 */
int
cmd_init(PGconn *conn, const ClientOptions *opts)
{
	PGresult   *res;
	bool		existed;
	char	   *version;

	res = exec_params(conn,
					  "SELECT e.extversion FROM pg_catalog.pg_extension e"
					  " WHERE e.extname OPERATOR(pg_catalog.=) 'migrate'",
					  0, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return EXIT_ERROR;
	}
	existed = PQntuples(res) > 0;
	PQclear(res);

	if (!existed)
	{
		res = exec_params(conn, "CREATE EXTENSION IF NOT EXISTS migrate", 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			out_pg_error(conn, res);
			if (sqlstate && strcmp(sqlstate, "42501") == 0)
				out_hint("Ask a superuser to run \"pg_migrate init\" or CREATE EXTENSION migrate in database \"%s\".",
						 PQdb(conn));
			PQclear(res);
			return EXIT_ERROR;
		}
		PQclear(res);
	}

	res = exec_params(conn,
					  "SELECT e.extversion FROM pg_catalog.pg_extension e"
					  " WHERE e.extname OPERATOR(pg_catalog.=) 'migrate'",
					  0, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return EXIT_ERROR;
	}
	version = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	out_json_field("extension_version", version);
	out_json_raw("created", existed ? "false" : "true");
	if (existed)
		out_info("extension migrate %s is already installed in database \"%s\"",
				 version, PQdb(conn));
	else
		out_info("created extension migrate %s in database \"%s\"",
				 version, PQdb(conn));
	/* an old version works with psql, not with this client: say so */
	if (existed && !check_version(conn, version, false))
		return EXIT_ERROR;
	return EXIT_OK;
}
