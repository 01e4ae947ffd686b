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

/*
 * Ctrl-C sends a cancel request for the running query, as psql does, with
 * psql's messages.  The client's one SIGINT handler: it is installed when
 * a connection is made, and progress.c's status line is cleared first (it
 * sets status_line_drawn) so that the message starts a line of its own.
 */
static PGcancel *volatile cancel_target = NULL;
volatile sig_atomic_t status_line_drawn = false;

/* write(2) a string from a signal handler (stdio is not safe there) */
static void
write_stderr(const char *str)
{
	ssize_t		rc = write(STDERR_FILENO, str, strlen(str));

	(void) rc;					/* nothing to do when stderr is gone */
}

static void
handle_sigint(SIGNAL_ARGS)
{
	int			save_errno = errno;
	char		errbuf[256];
	PGcancel   *cancel = cancel_target;

	if (status_line_drawn)
		write_stderr("\r\033[K");
	status_line_drawn = false;
	if (cancel != NULL && PQcancel(cancel, errbuf, sizeof(errbuf)))
		write_stderr("Cancel request sent\n");
	else if (cancel != NULL)
	{
		write_stderr("Could not send cancel request: ");
		write_stderr(errbuf);
		write_stderr("\n");
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

/*
 * The installed extension's version (NULL: not installed) and whether its
 * catalog holds the 1.1 objects this client calls: an install whose
 * migrate--1.0--1.1.sql predates this release says 1.1 but lacks them
 * (migrate.batch_target(), the column migrate.migration.repeatable).  The
 * first two columns of every query that checks the extension, so that the
 * check costs no round trip of its own.
 */
#define EXTENSION_STATE_COLUMNS \
	"(SELECT e.extversion FROM pg_catalog.pg_extension e" \
	" WHERE e.extname OPERATOR(pg_catalog.=) 'migrate')," \
	" pg_catalog.to_regprocedure('migrate.batch_target(pg_catalog.text, pg_catalog.int4)') IS NOT NULL" \
	" AND EXISTS (SELECT FROM pg_catalog.pg_attribute a" \
	"  WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('migrate.migration')" \
	"  AND a.attname OPERATOR(pg_catalog.=) 'repeatable' AND NOT a.attisdropped)"

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
 * connected database (NULL: not installed) whose catalog has, or not, the
 * objects this client needs; with messages unless quiet.
 */
static bool
check_version(PGconn *conn, const char *extversion, bool has_objects,
			  bool quiet)
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
	if (!has_objects)
	{
		if (!quiet)
		{
			out_error("the installed migrate %s in database \"%s\" predates this client: objects pg_migrate %s needs are missing",
					  extversion, PQdb(conn), MIGRATE_VERSION);
			out_hint("Reinstall the extension of this release, then run ALTER EXTENSION migrate UPDATE in that database.");
		}
		return false;
	}
	return true;
}

/* check_version() of a row whose first columns are EXTENSION_STATE_COLUMNS */
static bool
check_version_row(PGconn *conn, const PGresult *res, bool quiet)
{
	return check_version(conn,
						 PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0),
						 strcmp(PQgetvalue(res, 0, 1), "t") == 0, quiet);
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

	res = exec_params(conn, "SELECT " EXTENSION_STATE_COLUMNS, 0, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (!quiet)
			out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	ok = check_version_row(conn, res, quiet);
	PQclear(res);
	return ok;
}

/*
 * One round trip after connecting: make sure the progress NOTICEs arrive,
 * set the session settings the options ask for, and read the extension's
 * version.  Every value is a parameter.  migrate.environment is read, not
 * set (check_environment()).
 */
static bool check_environment(PGconn *conn, const PGresult *res,
							  const char *expected);
static bool environment_matches(const PGresult *res, int col,
								const char *expected);

static bool
setup_session(PGconn *conn, const ClientOptions *opts, bool require_extension)
{
	PQExpBuffer sql = createPQExpBuffer();
	const char *params[3];
	int			nparams = 0;
	PGresult   *res;
	bool		ok;

	appendPQExpBufferStr(sql,
						 "SELECT " EXTENSION_STATE_COLUMNS ","
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
		appendPQExpBufferStr(sql,
							 ", pg_catalog.current_setting('migrate.environment', true)"
							 " AS environment");
	res = exec_params(conn, sql->data, nparams, params);
	destroyPQExpBuffer(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	ok = !require_extension || check_version_row(conn, res, false);
	if (ok && opts->environment)
		ok = check_environment(conn, res, opts->environment);
	PQclear(res);
	return ok;
}

/*
 * The configuration's "environment" key asserts which rules the server
 * applies: migrate.environment is a superuser setting (issue 11), set by a
 * DBA with ALTER DATABASE or ALTER ROLE ... SET, so that a deploy role
 * cannot leave production's rules.  The client no longer sets it; it
 * refuses to work on a database whose environment is another one, which
 * is how a pg_migrate.conf section pointing at the wrong server is caught.
 */
static bool
check_environment(PGconn *conn, const PGresult *res, const char *expected)
{
	int			col = PQfnumber(res, "environment");
	PGresult   *again = NULL;
	bool		ok;

	if (col < 0)
		return true;

	/*
	 * NULL: the setting is not defined, perhaps only because the library
	 * is not loaded in this session yet (migrate not in
	 * shared_preload_libraries): a call of one of its C functions loads it.
	 */
	if (PQgetisnull(res, 0, col) && !PQgetisnull(res, 0, 0))
	{
		again = exec_params(conn,
							"SELECT migrate.checksum(''),"
							" pg_catalog.current_setting('migrate.environment', true)"
							" AS environment", 0, NULL);
		if (PQresultStatus(again) == PGRES_TUPLES_OK && PQntuples(again) == 1)
		{
			res = again;
			col = 1;
		}
	}
	ok = environment_matches(res, col, expected);
	PQclear(again);
	return ok;
}

static bool
environment_matches(const PGresult *res, int col, const char *expected)
{
	const char *actual;

	if (PQgetisnull(res, 0, col))
	{
		out_error("the configuration expects migrate.environment = '%s', but this server's migrate library has no environments",
				  expected);
		out_hint("Install a migrate library with production guard rails (1.1), or remove \"environment\" from the configuration.");
		return false;
	}
	actual = PQgetvalue(res, 0, col);
	if (strcmp(actual, expected) == 0)
		return true;
	if (actual[0] == '\0')
		out_error("the configuration expects migrate.environment = '%s', but the server sets no environment (every guard rail is off)",
				  expected);
	else
		out_error("the configuration expects migrate.environment = '%s', but the server's is '%s'",
				  expected, actual);
	out_detail("pg_migrate no longer sets migrate.environment: only a superuser may, so that a deploy role cannot leave an environment's rules.");
	out_hint("Check that the configuration section connects to the intended database; a superuser sets its environment with ALTER DATABASE ... SET migrate.environment = '%s'.",
			 expected);
	return false;
}

/*
 * -W: ask for the password before the first connection.  Called in the
 * parent before a fleet forks, so that the children (which inherit the
 * typed password) never prompt: several children reading the terminal at
 * once would garble the prompts and could echo what is typed.
 */
void
prompt_password_once(const ClientOptions *opts)
{
	char	   *prompt;

	if (opts->prompt_password != 1 || typed_password != NULL)
		return;
	prompt = opts->username ?
		psprintf("Password for user %s: ", opts->username) :
		pg_strdup("Password: ");
	typed_password = simple_prompt(prompt, false);
	free(prompt);
}

/* one PQconnectdbParams() with the options and a typed password */
static PGconn *
connect_once(const ClientOptions *opts, const char *dbname)
{
	const char *keywords[8];
	const char *values[8];
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
	return PQconnectdbParams(keywords, values, true);
}

/*
 * Connect, and when the server asks for a password that nothing supplied,
 * prompt (on a terminal, unless -w) and try once more, as psql does.
 */
static PGconn *
connect_with_prompt(const ClientOptions *opts, const char *dbname)
{
	char	   *description = dbname ? redact_conninfo(dbname) : NULL;
	PGconn	   *conn;

	out_verbose("connecting to %s",
				description ? description : "the default database");
	free(description);
	conn = connect_once(opts, dbname);
	if (conn != NULL && PQstatus(conn) == CONNECTION_BAD &&
		PQconnectionNeedsPassword(conn) && typed_password == NULL &&
		opts->prompt_password != -1 && isatty(fileno(stdin)))
	{
		char	   *prompt = psprintf("Password for user %s: ", PQuser(conn));

		PQfinish(conn);
		typed_password = simple_prompt(prompt, false);
		free(prompt);
		conn = connect_once(opts, dbname);
	}
	return conn;
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
	PGconn	   *conn;

	/* refused before libpq can print a token of it (a password, maybe) */
	if (dbname != NULL && is_connection_string(dbname))
	{
		PQconninfoOption *parsed = parse_conninfo(dbname, "-d");

		if (parsed == NULL)
			return NULL;
		PQconninfoFree(parsed);
	}
	prompt_password_once(opts);
	conn = connect_with_prompt(opts, dbname);
	if (conn == NULL)
	{
		out_error("out of memory");
		return NULL;
	}
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

/*
 * Whether a -d value (or a dbname setting) is a connection string rather
 * than a database name: libpq's own test (conninfo_uri_prefix_length() and
 * recognized_connection_string() in fe-connect.c, which it does not export).
 */
bool
is_connection_string(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
		strncmp(s, "postgres://", 11) == 0 ||
		strchr(s, '=') != NULL;
}

/*
 * PQconninfoParse() of a connection string, NULL when libpq cannot parse
 * it.  libpq's error text quotes the token it choked on, which may be a
 * password ("missing \"=\" after \"S3CRET\""), so it is dropped: with a
 * source ("-d", "PGMIGRATE_DBNAME", ...), the error printed names only
 * where the string came from.  Every connection string the client reads
 * goes through here before anything else looks at it.
 */
PQconninfoOption *
parse_conninfo(const char *conninfo, const char *source)
{
	PQconninfoOption *options;
	char	   *errmsg = NULL;

	options = PQconninfoParse(conninfo, &errmsg);
	if (errmsg)
		PQfreemem(errmsg);
	if (options == NULL && source != NULL)
		out_error("invalid connection string in %s", source);
	return options;
}

/*
 * "keyword=value", blank-separated from what buf holds, the value in single
 * quotes (\' and \\ escaped) when libpq's conninfo parser needs them: when
 * it is empty or holds white space, a quote or a backslash.
 */
void
append_conninfo_value(PQExpBuffer buf, const char *keyword, const char *value)
{
	bool		quote = value[0] == '\0' ||
		strpbrk(value, " \t\n\r\f\v'\\") != NULL;

	if (buf->len > 0)
		appendPQExpBufferChar(buf, ' ');
	appendPQExpBuffer(buf, "%s=", keyword);
	if (quote)
		appendPQExpBufferChar(buf, '\'');
	for (const char *c = value; *c; c++)
	{
		if (*c == '\'' || *c == '\\')
			appendPQExpBufferChar(buf, '\\');
		appendPQExpBufferChar(buf, *c);
	}
	if (quote)
		appendPQExpBufferChar(buf, '\'');
}

/*
 * A description of a -d value that is safe to print: a database name as it
 * is; a conninfo string or a URI as the key=value settings it holds,
 * without password and sslpassword.  Something libpq cannot parse is not
 * echoed at all (it might hold a password).  The result is allocated.
 */
char *
redact_conninfo(const char *conninfo)
{
	PQconninfoOption *options;
	PQExpBuffer buf;
	char	   *result;

	if (conninfo == NULL)
		return pg_strdup("");
	if (!is_connection_string(conninfo))
		return pg_strdup(conninfo);

	options = parse_conninfo(conninfo, NULL);
	if (options == NULL)
		return pg_strdup("(invalid connection string)");
	buf = createPQExpBuffer();
	for (PQconninfoOption *o = options; o->keyword; o++)
	{
		if (o->val == NULL || strcmp(o->keyword, "password") == 0 ||
			strcmp(o->keyword, "sslpassword") == 0)
			continue;
		append_conninfo_value(buf, o->keyword, o->val);
	}
	PQconninfoFree(options);
	result = pg_strdup(buf->data);
	destroyPQExpBuffer(buf);
	return result;
}

/* the EXTENSION_STATE_COLUMNS row; NULL after printing the error */
static PGresult *
query_extension_state(PGconn *conn)
{
	PGresult   *res = exec_params(conn, "SELECT " EXTENSION_STATE_COLUMNS, 0, NULL);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* CREATE EXTENSION, with a hint when the role may not; false on error */
static bool
create_extension(PGconn *conn)
{
	PGresult   *res = exec_params(conn, "CREATE EXTENSION IF NOT EXISTS migrate", 0, NULL);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		out_pg_error(conn, res);
		if (sqlstate && strcmp(sqlstate, "42501") == 0)
			out_hint("Ask a superuser to run \"pg_migrate init\" or CREATE EXTENSION migrate in database \"%s\".",
					 PQdb(conn));
		PQclear(res);
		return false;
	}
	PQclear(res);
	return true;
}

/*
 * init: create the extension (IF NOT EXISTS: running it twice is fine).
 * The connection was made without the extension check.  An installed
 * extension this client cannot drive is an error, and nothing that sounds
 * like success is printed before it.
 */
int
cmd_init(PGconn *conn, const ClientOptions *opts)
{
	PGresult   *res;
	bool		existed;
	bool		ok;

	if ((res = query_extension_state(conn)) == NULL)
		return EXIT_ERROR;
	existed = !PQgetisnull(res, 0, 0);
	if (!existed)
	{
		PQclear(res);
		if (!create_extension(conn) ||
			(res = query_extension_state(conn)) == NULL)
			return EXIT_ERROR;
	}
	/* an old version works with psql, not with this client: say so */
	ok = check_version_row(conn, res, false);
	out_json_field("extension_version", PQgetvalue(res, 0, 0));
	out_json_raw("created", existed ? "false" : "true");
	if (ok && existed)
		out_info("extension migrate %s is already installed in database \"%s\"",
				 PQgetvalue(res, 0, 0), PQdb(conn));
	else if (ok)
		out_info("created extension migrate %s in database \"%s\"",
				 PQgetvalue(res, 0, 0), PQdb(conn));
	PQclear(res);
	return ok ? EXIT_OK : EXIT_ERROR;
}
