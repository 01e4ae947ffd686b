/*-------------------------------------------------------------------------
 *
 * commands.c
 *		One function per command, mapped onto the extension's SQL API.
 *
 * The client decides nothing about migrations: each command is one or two
 * calls of the extension's functions and views, with every value passed as
 * a parameter and every name schema-qualified, so that a psql user who
 * types the same SQL gets the same result.  The table below says, for each
 * command, how many arguments it takes, which of the command options apply
 * to it, and whether it needs a database with the extension; usage errors
 * are found before connecting anywhere (exit 2).
 *
 * up and validate live in sync.c and validate.c, new in newfile.c, init in
 * connect.c.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include <stdarg.h>
#include <sys/stat.h>

#include "pqexpbuffer.h"

/* the command options, for the table of which command takes which */
#define CO_TO			(1 << 0)
#define CO_TO_TAG		(1 << 1)
#define CO_STEPS		(1 << 2)
#define CO_ALL			(1 << 3)
#define CO_DRY_RUN		(1 << 4)
#define CO_CHECK		(1 << 5)
#define CO_BATCH		(1 << 6)	/* --batch, --single-transaction */
#define CO_ACTION		(1 << 7)
#define CO_NEW			(1 << 8)	/* --risk-level, --zero-downtime, ... */
#define CO_GUARD		(1 << 9)	/* --force, --skip-backup */
#define CO_FINGERPRINT	(1 << 10)	/* --expect-fingerprint */

/* how a command reaches the database */
typedef enum CommandTarget
{
	TARGET_NONE,				/* files only */
	TARGET_SERVER,				/* a connection, no extension needed (init) */
	TARGET_EXTENSION			/* a connection to a database with migrate */
} CommandTarget;

typedef int (*CommandFunc) (PGconn *conn, const ClientOptions *opts);

typedef struct Command
{
	const char *name;
	int			min_args;
	int			max_args;		/* -1: no limit */
	const char *synopsis;		/* for the usage error */
	unsigned	options;		/* CO_* the command accepts */
	CommandTarget target;
	CommandFunc func;
} Command;

static int	cmd_status(PGconn *conn, const ClientOptions *opts);
static int	cmd_plan(PGconn *conn, const ClientOptions *opts);
static int	cmd_down(PGconn *conn, const ClientOptions *opts);
static int	cmd_redo(PGconn *conn, const ClientOptions *opts);
static int	cmd_rehearse(PGconn *conn, const ClientOptions *opts);
static int	cmd_history(PGconn *conn, const ClientOptions *opts);
static int	cmd_tag(PGconn *conn, const ClientOptions *opts);
static int	cmd_approve(PGconn *conn, const ClientOptions *opts);
static int	cmd_resolve(PGconn *conn, const ClientOptions *opts);
static int	cmd_unapprove(PGconn *conn, const ClientOptions *opts);
static int	cmd_settings(PGconn *conn, const ClientOptions *opts);
static bool server_has(PGconn *conn, const char *regexpr, const char *message);
static void say_awaiting_approval(PGconn *conn, const PGresult *plan);
static int	cmd_files(PGconn *conn, const ClientOptions *opts);
static int	run_new(PGconn *conn, const ClientOptions *opts);

static const Command commands[] = {
	{"status", 0, 0, "status [--check]", CO_CHECK, TARGET_EXTENSION, cmd_status},
	{"plan", 0, 0, "plan [--to VERSION] [--check]", CO_TO | CO_CHECK,
	TARGET_EXTENSION, cmd_plan},
	{"up", 0, 0, "up [--to VERSION] [--dry-run] [--batch N | --single-transaction] [--force] [--skip-backup] [--expect-fingerprint FP]",
	CO_TO | CO_DRY_RUN | CO_BATCH | CO_GUARD | CO_FINGERPRINT,
	TARGET_EXTENSION, cmd_up},
	{"down", 0, 0, "down [--steps N | --to VERSION | --to-tag TAG | --all] [--dry-run] [--force] [--skip-backup]",
	CO_TO | CO_TO_TAG | CO_STEPS | CO_ALL | CO_DRY_RUN | CO_GUARD,
	TARGET_EXTENSION, cmd_down},
	{"redo", 0, 0, "redo", 0, TARGET_EXTENSION, cmd_redo},
	{"validate", 0, 0, "validate", 0, TARGET_EXTENSION, cmd_validate},
	{"rehearse", 0, 0, "rehearse [--to VERSION]", CO_TO, TARGET_EXTENSION, cmd_rehearse},
	{"history", 0, 0, "history", 0, TARGET_EXTENSION, cmd_history},
	{"tag", 1, 2, "tag NAME [VERSION]", 0, TARGET_EXTENSION, cmd_tag},
	{"new", 1, -1, "new DESCRIPTION", CO_NEW, TARGET_NONE, run_new},
	{"approve", 1, 1, "approve VERSION", 0, TARGET_EXTENSION, cmd_approve},
	{"unapprove", 1, 1, "unapprove VERSION", 0, TARGET_EXTENSION, cmd_unapprove},
	{"settings", 0, 0, "settings", 0, TARGET_EXTENSION, cmd_settings},
	{"resolve", 1, 1, "resolve VERSION --action retry|mark_applied|mark_reverted",
	CO_ACTION, TARGET_EXTENSION, cmd_resolve},
	{"files", 0, 0, "files", 0, TARGET_NONE, cmd_files},
	{"init", 0, 0, "init", 0, TARGET_SERVER, cmd_init},
	{NULL}
};

static const Command *
find_command(const char *name)
{
	for (const Command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
usage_error(const char *fmt,...) pg_attribute_printf(1, 2);

static void
usage_error(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "pg_migrate: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"pg_migrate --help\" for more information.\n");
	exit(EXIT_USAGE);
}

/* a command option given to a command that does not take it */
static void
check_option(const Command *cmd, unsigned option, bool given, const char *name)
{
	if (given && (cmd->options & option) == 0)
		usage_error("option %s cannot be used with command \"%s\"", name,
					cmd->name);
}

/*
 * Usage errors, found before anything connects: an unknown command, the
 * wrong number of arguments, an option the command does not take, down's
 * choices.  Exits 2 with a message.
 */
void
check_command_usage(const ClientOptions *opts)
{
	const Command *cmd = find_command(opts->command);
	int			ndown;

	if (cmd == NULL)
		usage_error("unknown command \"%s\"", opts->command);
	if (opts->nargs < cmd->min_args ||
		(cmd->max_args >= 0 && opts->nargs > cmd->max_args))
	{
		if (opts->nargs < cmd->min_args)
			usage_error("missing argument of command \"%s\" (usage: pg_migrate %s)",
						cmd->name, cmd->synopsis);
		usage_error("too many arguments for command \"%s\": \"%s\" (usage: pg_migrate %s)",
					cmd->name, opts->args[cmd->max_args], cmd->synopsis);
	}
	check_option(cmd, CO_TO, opts->to != NULL, "--to");
	check_option(cmd, CO_TO_TAG, opts->to_tag != NULL, "--to-tag");
	check_option(cmd, CO_STEPS, opts->steps != 0, "--steps");
	check_option(cmd, CO_ALL, opts->all, "--all");
	check_option(cmd, CO_DRY_RUN, opts->dry_run, "--dry-run");
	check_option(cmd, CO_CHECK, opts->check, "--check");
	check_option(cmd, CO_BATCH, opts->batch != 0, "--batch");
	check_option(cmd, CO_BATCH, opts->single_transaction, "--single-transaction");
	check_option(cmd, CO_ACTION, opts->action != NULL, "--action");
	check_option(cmd, CO_NEW, opts->risk_level != NULL, "--risk-level");
	check_option(cmd, CO_NEW, opts->zero_downtime, "--zero-downtime");
	check_option(cmd, CO_NEW, opts->estimated_duration != NULL,
				 "--estimated-duration");
	check_option(cmd, CO_NEW, opts->ndepends_on > 0, "--depends-on");
	check_option(cmd, CO_GUARD, opts->force, "--force");
	check_option(cmd, CO_GUARD, opts->skip_backup, "--skip-backup");
	check_option(cmd, CO_FINGERPRINT, opts->expect_fingerprint != NULL,
				 "--expect-fingerprint");

	ndown = (opts->steps != 0) + (opts->to != NULL) + (opts->to_tag != NULL) +
		opts->all;
	if (strcmp(cmd->name, "down") == 0 && ndown > 1)
		usage_error("options --steps, --to, --to-tag and --all cannot be used together");
	if (strcmp(cmd->name, "resolve") == 0 && opts->action == NULL)
		usage_error("command \"resolve\" needs --action retry, mark_applied or mark_reverted");
	if (opts->batch != 0 && opts->single_transaction)
		usage_error("options --batch and --single-transaction cannot be used together");
}

bool
command_needs_database(const char *command)
{
	const Command *cmd = find_command(command);

	return cmd == NULL || cmd->target != TARGET_NONE;
}

/* --------------------------------------------------------------------
 * Queries
 * --------------------------------------------------------------------
 */

/* --verbose: the SQL and its parameters (long values cut short) */
static void
log_query(const char *sql, int nparams, const char *const *params)
{
	out_verbose("query: %s", sql);
	for (int i = 0; i < nparams; i++)
	{
		if (params[i] == NULL)
			out_verbose("  $%d = NULL", i + 1);
		else if (strlen(params[i]) > 60)
			out_verbose("  $%d = '%.57s...'", i + 1, params[i]);
		else
			out_verbose("  $%d = '%s'", i + 1, params[i]);
	}
}

/* a query with its values as parameters; the result must be PQclear()ed */
PGresult *
exec_params(PGconn *conn, const char *sql, int nparams,
			const char *const *params)
{
	log_query(sql, nparams, params);
	return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

/*
 * A call that runs migration scripts (apply, revert, revert_all, rehearse):
 * logged with --verbose, and with the live progress of progress.c.
 */
PGresult *
exec_migration_sql(PGconn *conn, const ClientOptions *opts, const char *sql,
				   int nparams, const char *const *params)
{
	log_query(sql, nparams, params);
	return exec_with_progress(conn, opts, sql, nparams, params);
}

/* the checks of a result of exec_migration_sql(): rows, or print the error */
static bool
migration_sql_ok(PGconn *conn, PGresult *res)
{
	if (res == NULL)
		return false;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	return true;
}

/* run a query expected to return rows; NULL after printing the error */
static PGresult *
query_rows(PGconn *conn, const char *sql, int nparams,
		   const char *const *params)
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

/* run a statement that returns no rows (BEGIN, COMMIT); false on error */
static bool
exec_command(PGconn *conn, const char *sql)
{
	PGresult   *res = exec_params(conn, sql, 0, NULL);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		out_pg_error(conn, res);
	PQclear(res);
	return ok;
}

static int
column(const PGresult *res, const char *name)
{
	return PQfnumber(res, name);
}

/* --------------------------------------------------------------------
 * status, plan, history: read-only
 * --------------------------------------------------------------------
 */

/*
 * Whether a file would be refused by registration: new content for a
 * migration that is applied (or dirty: half run), which only repair()
 * changes, unless it is repeatable and stays so (then registering makes it
 * pending again, as up would).
 */
static bool
refused_change(const MigrationFile *file, const RegisteredMigration *r)
{
	if (r == NULL ||
		(strcmp(r->state, "applied") != 0 && strcmp(r->state, "dirty") != 0))
		return false;
	if (same_checksum(file->checksum, r->checksum) &&
		same_checksum(file->down_checksum, r->down_checksum))
		return false;
	return !(r->repeatable && file->repeatable &&
			 strcmp(r->state, "applied") == 0);
}

/*
 * Register the directory's new and changed files as up does (sync.c), in
 * the transaction the caller may have opened.  A directory that does not
 * exist (the default "migrations" of someone who registers with psql)
 * leaves the registered migrations alone; files that cannot be read are an
 * error, as they are for up.  false after printing why.
 *
 * With nrefused (status), files whose new content registration would
 * refuse (edited after they were applied) are left out and counted
 * instead: status reports them rather than failing on the first.
 */
static bool
register_directory(PGconn *conn, const ClientOptions *opts, int *nrefused)
{
	MigrationSet set;
	RegisteredSet reg;
	struct stat st;
	int			kept = 0;
	bool		in_sync = false;

	if (stat(opts->dir, &st) != 0 && errno == ENOENT)
	{
		out_verbose("no directory \"%s\": only the registered migrations count",
					opts->dir);
		return true;
	}
	if (!read_files_and_registry(conn, opts, 0, &set, &reg, &in_sync))
		return false;
	if (in_sync)
	{
		/* nothing to register, nothing refused; the key sync_files() sets */
		out_json_number("registered", 0);
		return true;
	}
	for (int i = 0; nrefused != NULL && i < set.nfiles; i++)
	{
		if (refused_change(&set.files[i], find_registered(&reg, set.files[i].version)))
			(*nrefused)++;
		else
			set.files[kept++] = set.files[i];
	}
	if (nrefused != NULL)
		set.nfiles = kept;
	return sync_files(conn, opts, &set, &reg) >= 0;
}

/*
 * BEGIN, then register_directory() as a dry run ("would register 2 new
 * migrations"): the caller reads the registry as up would leave it, then
 * rolls back.  false after printing why (the connection then ends, which
 * rolls back too).
 */
static bool
begin_with_directory(PGconn *conn, const ClientOptions *opts, int *nrefused)
{
	ClientOptions dry = *opts;

	if (!exec_command(conn, "BEGIN"))
		return false;
	dry.dry_run = true;
	return register_directory(conn, &dry, nrefused);
}

/*
 * The summary line under the status table; returns how many migrations
 * need attention: not applied (pending, reverted, failed, dirty) or
 * changed since they were applied.
 */
static int
summarize_status(const PGresult *res)
{
	int			state_col = column(res, "state");
	int			changed_col = column(res, "changed");
	int			nrows = PQntuples(res);
	int			napplied = 0,
				nattention = 0,
				nchanged = 0;
	char		changed[64] = "";

	for (int r = 0; r < nrows; r++)
	{
		bool		applied = strcmp(PQgetvalue(res, r, state_col), "applied") == 0;
		bool		is_changed = strcmp(PQgetvalue(res, r, changed_col), "t") == 0;

		napplied += applied;
		nchanged += is_changed;
		if (!applied || is_changed)
			nattention++;
	}
	if (nchanged > 0)
		snprintf(changed, sizeof(changed), ", %d changed since applied", nchanged);
	if (nrows > 0)
		out_info("%d registered, %d applied, %d not applied%s",
				 nrows, napplied, nrows - napplied, changed);
	return nattention;
}

/*
 * Whether this role may register (migrate_admin): an application role that
 * only reads migrate.status (migrate_reader) gets the registry's view from
 * status, not a permission error for the directory it cannot deploy.
 */
static bool
may_register(PGconn *conn)
{
	PGresult   *res;
	bool		may;

	/* by name: the signature grows with releases (1.1 added generate_down) */
	res = query_rows(conn,
					 "SELECT coalesce(pg_catalog.bool_or(pg_catalog.has_function_privilege(p.oid, 'EXECUTE')), false)"
					 " FROM pg_catalog.pg_proc p"
					 " WHERE p.pronamespace OPERATOR(pg_catalog.=) 'migrate'::pg_catalog.regnamespace"
					 " AND p.proname OPERATOR(pg_catalog.=) 'register'", 0, NULL);
	may = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return may;
}

/*
 * status: every registered migration, and, when the migrations directory
 * exists, its files not registered yet or changed, as up would register
 * them (in a transaction rolled back, as plan does), so that --check sees
 * files that were not deployed.  With --check, exit 3 when any is not
 * applied (pending, reverted, failed, dirty) or was changed since it was
 * applied.
 */
static int
cmd_status(PGconn *conn, const ClientOptions *opts)
{
	PGresult   *res;
	int			nedited = 0;
	int			nattention;

	if (!may_register(conn))
	{
		out_verbose("this role may not register: status shows the registered migrations only");
		if (!exec_command(conn, "BEGIN"))
			return EXIT_ERROR;
	}
	else if (!begin_with_directory(conn, opts, &nedited))
		return EXIT_ERROR;
	res = query_rows(conn,
					 "SELECT s.version, s.name, s.state, s.applied_at, s.applied_by,"
					 " s.changed, s.error FROM migrate.status s",
					 0, NULL);
	PQclear(exec_params(conn, "ROLLBACK", 0, NULL));
	if (res == NULL)
		return EXIT_ERROR;

	if (PQntuples(res) == 0 && !opts->json)
		out_info("no migrations are registered in database \"%s\"", PQdb(conn));
	else
		out_table(res, "migrations");
	nattention = summarize_status(res);
	PQclear(res);
	if (nedited > 0)
	{
		out_info("%d applied %s differ%s from %s files (see \"pg_migrate validate\")",
				 nedited, nedited == 1 ? "migration" : "migrations",
				 nedited == 1 ? "s" : "", nedited == 1 ? "its" : "their");
		out_json_number("edited", nedited);
	}
	return opts->check && nattention + nedited > 0 ? EXIT_FOUND : EXIT_OK;
}

/*
 * plan: what up would do, in order: the directory's new and changed files
 * are registered in a transaction that is rolled back after
 * migrate.plan() ("would register 2 new migrations"), so that the plan
 * holds them as up will.  The table shows the columns a reviewer reads;
 * --json has every column of migrate.plan().
 */
static int
cmd_plan(PGconn *conn, const ClientOptions *opts)
{
	const char *params[1] = {opts->to};
	PGresult   *res;
	int			n;

	if (!begin_with_directory(conn, opts, NULL))
		return EXIT_ERROR;		/* the connection ends: rolled back */

	res = query_rows(conn, opts->json ?
					 "SELECT p.ordinal, p.version, p.name, p.action, p.reason,"
					 " p.statements, p.risk_level, p.estimated_duration,"
					 " p.zero_downtime, p.transactional, p.runs_in, p.approved,"
					 " p.checks, p.skip, p.skip_reason, p.precondition_checked_as"
					 " FROM migrate.plan($1) p" :
					 "SELECT p.ordinal AS \"#\", p.version, p.name, p.action,"
					 " p.statements, p.risk_level, p.runs_in, p.approved,"
					 " p.reason"
					 " FROM migrate.plan($1) p",
					 1, params);
	PQclear(exec_params(conn, "ROLLBACK", 0, NULL));
	if (res == NULL)
		return EXIT_ERROR;
	n = PQntuples(res);
	if (n == 0 && !opts->json)
		out_info("nothing to apply");
	else
		out_table(res, "plan");
	if (n > 0)
		say_awaiting_approval(conn, res);
	PQclear(res);
	return opts->check && n > 0 ? EXIT_FOUND : EXIT_OK;
}

/*
 * Where the session's environment requires approval (issue 11), how many
 * migrations of the plan wait for one: apply() refuses the whole call
 * while any does.  Nothing is said where approval is not required, or on a
 * server without environments (the question is then not asked).
 */
static void
say_awaiting_approval(PGconn *conn, const PGresult *plan)
{
	int			approved_col = PQfnumber(plan, "approved");
	int			waiting = 0;
	PGresult   *res;
	bool		required;

	if (approved_col < 0)
		return;
	res = exec_params(conn,
					  "SELECT e.require_approval FROM migrate.effective_settings e",
					  0, NULL);
	required = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!required)
		return;
	for (int r = 0; r < PQntuples(plan); r++)
		if (strcmp(PQgetvalue(plan, r, approved_col), "t") != 0)
			waiting++;
	out_json_number("awaiting_approval", waiting);
	if (waiting > 0)
		out_info("%d of %d %s wait%s for approval: this environment requires it (pg_migrate approve VERSION)",
				 waiting, PQntuples(plan),
				 PQntuples(plan) == 1 ? "migration" : "migrations",
				 waiting == 1 ? "s" : "");
}

/* history: every event, oldest first */
static int
cmd_history(PGconn *conn, const ClientOptions *opts)
{
	PGresult   *res;

	res = query_rows(conn, opts->json ?
					 "SELECT h.id, h.action, h.version, h.name, h.role, h.started_at,"
					 " h.duration, h.outcome, h.error, h.checksum, h.detail"
					 " FROM migrate.history h" :
					 "SELECT h.id, h.action, h.version, h.name, h.role,"
					 " pg_catalog.date_trunc('second', h.started_at) AS started_at,"
					 " h.duration, h.outcome,"
					 " h.error OPERATOR(pg_catalog.->>) 'message' AS error"
					 " FROM migrate.history h",
					 0, NULL);
	if (res == NULL)
		return EXIT_ERROR;
	if (PQntuples(res) == 0 && !opts->json)
		out_info("no history in database \"%s\"", PQdb(conn));
	else
		out_table(res, "history");
	PQclear(res);
	return EXIT_OK;
}

/* --------------------------------------------------------------------
 * down, redo, rehearse: long-running
 * --------------------------------------------------------------------
 */

/* the columns of apply(), revert() and revert_all() */
#define RUN_COLUMNS \
	"r.version, r.name, r.action, r.state, r.duration, r.statements," \
	" r.rows_affected, r.note"

/*
 * down: revert with exactly one of --steps N (default 1), --to VERSION,
 * --to-tag TAG, --all.  --all with --dry-run reverts every applied
 * migration by count, since revert_all() has no dry run.
 */
static int
cmd_down(PGconn *conn, const ClientOptions *opts)
{
	const char *params[2];
	const char *call;
	int			nparams = 2;
	PGresult   *res;
	char		steps[16];
	PQExpBufferData sql;

	params[1] = opts->dry_run ? "true" : "false";
	if (opts->all && !opts->dry_run)
	{
		call = "migrate.revert_all(";
		nparams = 0;
	}
	else if (opts->all)
	{
		call = "migrate.revert("
			"steps => (SELECT pg_catalog.count(*) FROM migrate.status s"
			" WHERE s.state OPERATOR(pg_catalog.=) 'applied')::pg_catalog.int4,"
			" dry_run => $1::pg_catalog.bool";
		params[0] = params[1];
		nparams = 1;
	}
	else if (opts->to_tag)
	{
		call = "migrate.revert("
			"target => migrate.tag_version($1), dry_run => $2::pg_catalog.bool";
		params[0] = opts->to_tag;
	}
	else if (opts->to)
	{
		call = "migrate.revert(target => $1, dry_run => $2::pg_catalog.bool";
		params[0] = opts->to;
	}
	else
	{
		snprintf(steps, sizeof(steps), "%d", opts->steps ? opts->steps : 1);
		call = "migrate.revert("
			"steps => $1::pg_catalog.int4, dry_run => $2::pg_catalog.bool";
		params[0] = steps;
	}
	initPQExpBuffer(&sql);
	appendPQExpBuffer(&sql, "SELECT " RUN_COLUMNS " FROM %s", call);
	append_guard_arguments(&sql, opts, nparams == 0);
	appendPQExpBufferStr(&sql, ") r");

	res = exec_migration_sql(conn, opts, sql.data, nparams, params);
	termPQExpBuffer(&sql);
	if (!migration_sql_ok(conn, res))
		return EXIT_ERROR;
	/*
	 * with no rows, revert()'s NOTICE has said "nothing to revert": no empty
	 * table under it (up prints none under "nothing to apply")
	 */
	if (PQntuples(res) > 0 || opts->json)
		out_table(res, "migrations");
	PQclear(res);
	return EXIT_OK;
}

/*
 * --force and --skip-backup as named arguments of apply(), revert() and
 * revert_all() (issue 11), only when given: a call without them works on
 * a server whose functions predate them.  first: no argument before them.
 */
void
append_guard_arguments(PQExpBuffer sql, const ClientOptions *opts, bool first)
{
	if (opts->force)
	{
		appendPQExpBuffer(sql, "%sforce => true", first ? "" : ", ");
		first = false;
	}
	if (opts->skip_backup)
		appendPQExpBuffer(sql, "%sskip_backup => true", first ? "" : ", ");
}

/*
 * The server refuses, before it changes anything, to run a migration that
 * cannot run in a transaction block inside one (SQLSTATE 25001): redo
 * cannot be atomic for it.  Say what to do instead.
 */
static void
hint_non_transactional(const PGresult *res, const char *version)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (sqlstate == NULL || strcmp(sqlstate, "25001") != 0)
		return;
	if (version)
		out_hint("redo reverts and applies in one transaction, which this migration cannot run in; run \"pg_migrate down\" and then \"pg_migrate up --to %s\".",
				 version);
	else
		out_hint("redo reverts and applies in one transaction, which this migration cannot run in; run \"pg_migrate down\" and then \"pg_migrate up --to\" its version.");
}

/* migration_sql_ok(), with the hint above after the server's error */
static bool
redo_sql_ok(PGconn *conn, PGresult *res, const char *version)
{
	if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		hint_non_transactional(res, version);
		PQclear(res);
		return false;
	}
	return migration_sql_ok(conn, res);
}

/*
 * The migration that redo reverted must be all that apply(version) would
 * apply: an older migration still pending (registered out of order) would
 * be applied with it.  false after printing why.
 */
static bool
redo_plan_is_only(PGconn *conn, const char *version)
{
	const char *params[1] = {version};
	PGresult   *res;
	bool		only;

	res = query_rows(conn,
					 "SELECT p.version FROM migrate.plan($1) p ORDER BY p.ordinal",
					 1, params);
	if (res == NULL)
		return false;
	only = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), version) == 0;
	if (!only)
	{
		out_error("redo of migration %s would also apply %d other pending migration%s",
				  version, PQntuples(res) - 1, PQntuples(res) == 2 ? "" : "s");
		out_detail("Migration %s is the first of the plan; redo re-applies exactly the migration it reverts.",
				   PQgetvalue(res, 0, 0));
		out_hint("Apply the pending migrations first with \"pg_migrate up\".");
	}
	PQclear(res);
	return only;
}

/*
 * The revert half of redo: the newest applied migration's version, or NULL
 * after printing why (nothing applied, or the server's error).
 */
static char *
redo_revert(PGconn *conn, const ClientOptions *opts)
{
	PGresult   *res;
	char	   *version;

	res = exec_migration_sql(conn, opts,
							 "SELECT " RUN_COLUMNS " FROM migrate.revert(steps => 1) r",
							 0, NULL);
	if (!redo_sql_ok(conn, res, NULL))
		return NULL;
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		out_error("nothing to redo: no migration is applied in database \"%s\"",
				  PQdb(conn));
		return NULL;
	}
	version = pg_strdup(PQgetvalue(res, 0, column(res, "version")));
	out_table(res, "reverted");
	PQclear(res);
	return version;
}

/*
 * redo: revert the newest applied migration and apply exactly it again, in
 * ONE transaction, so that a failing re-apply leaves it applied as it was
 * (two commands would leave it reverted).  Refused when apply() would take
 * other pending migrations along, and (by the server) for a migration that
 * cannot run inside a transaction block.
 */
static int
cmd_redo(PGconn *conn, const ClientOptions *opts)
{
	const char *params[1];
	PGresult   *res = NULL;
	char	   *version;
	bool		ok;

	if (!exec_command(conn, "BEGIN"))
		return EXIT_ERROR;
	version = redo_revert(conn, opts);
	ok = version != NULL && redo_plan_is_only(conn, version);
	if (ok)
	{
		params[0] = version;
		res = exec_migration_sql(conn, opts,
								 "SELECT " RUN_COLUMNS " FROM migrate.apply(target => $1) r",
								 1, params);
		ok = redo_sql_ok(conn, res, version);
	}
	if (ok)
	{
		out_table(res, "applied");
		PQclear(res);
		ok = exec_command(conn, "COMMIT");
	}
	else
	{
		PQclear(exec_params(conn, "ROLLBACK", 0, NULL));
		if (version != NULL)
			out_info("rolled back: migration %s is applied as before", version);
	}
	free(version);
	return ok ? EXIT_OK : EXIT_ERROR;
}

/*
 * rehearse: register the directory's new and changed files (as up does,
 * committed; none when the directory does not exist), then rehearse the
 * pending migrations in a transaction the server rolls back.  Exit 1 when
 * any rehearsal failed.
 */
static int
cmd_rehearse(PGconn *conn, const ClientOptions *opts)
{
	const char *params[1] = {opts->to};
	PGresult   *res;
	int			ok_col;
	int			nfailed = 0;
	int			nrows;

	if (!register_directory(conn, opts, NULL))
		return EXIT_ERROR;

	res = exec_migration_sql(conn, opts, opts->json ?
							 "SELECT r.ordinal, r.version, r.name, r.ok, r.failed_step,"
							 " r.differences, r.error, r.not_rehearsed"
							 " FROM migrate.rehearse(to_version => $1) r" :
	/* on a terminal, one line per difference and per statement not run */
							 "SELECT r.ordinal AS \"#\", r.version, r.name, r.ok, r.failed_step,"
							 " (SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ',"
							 "   d OPERATOR(pg_catalog.->>) 'change', d OPERATOR(pg_catalog.->>) 'kind',"
							 "   d OPERATOR(pg_catalog.->>) 'identity'), E'\\n')"
							 "  FROM pg_catalog.jsonb_array_elements(r.differences) d) AS differences,"
							 " r.error,"
							 " (SELECT pg_catalog.string_agg(pg_catalog.concat("
							 "   n OPERATOR(pg_catalog.->>) 'script', ' statement ',"
							 "   n OPERATOR(pg_catalog.->>) 'statement', ' (',"
							 "   n OPERATOR(pg_catalog.->>) 'command', '): ',"
							 "   n OPERATOR(pg_catalog.->>) 'reason'), E'\\n')"
							 "  FROM pg_catalog.jsonb_array_elements(r.not_rehearsed) n) AS not_rehearsed"
							 " FROM migrate.rehearse(to_version => $1) r",
							 1, params);
	if (!migration_sql_ok(conn, res))
		return EXIT_ERROR;
	ok_col = column(res, "ok");
	nrows = PQntuples(res);
	for (int r = 0; r < nrows; r++)
		if (strcmp(PQgetvalue(res, r, ok_col), "t") != 0)
			nfailed++;
	if (PQntuples(res) == 0 && !opts->json)
		out_info("nothing to rehearse");
	else
		out_table(res, "rehearsal");
	PQclear(res);
	if (nfailed > 0)
	{
		out_error("the rehearsal of %d of %d migrations failed", nfailed,
				  nrows);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* --------------------------------------------------------------------
 * tag, approve, resolve: one call each
 * --------------------------------------------------------------------
 */

/* tag NAME [VERSION]: the newest applied migration when no VERSION */
static int
cmd_tag(PGconn *conn, const ClientOptions *opts)
{
	const char *params[2] = {opts->args[0], opts->nargs > 1 ? opts->args[1] : NULL};
	PGresult   *res;

	res = query_rows(conn, "SELECT migrate.tag($1, $2)", 2, params);
	if (res == NULL)
		return EXIT_ERROR;
	out_json_field("tag", opts->args[0]);
	out_json_field("version", PQgetvalue(res, 0, 0));
	out_info("tagged %s as \"%s\"", PQgetvalue(res, 0, 0), opts->args[0]);
	PQclear(res);
	return EXIT_OK;
}

static int
cmd_approve(PGconn *conn, const ClientOptions *opts)
{
	const char *params[1] = {opts->args[0]};
	PGresult   *res;

	res = query_rows(conn,
					 "SELECT a.version, a.name, a.runs_as, a.approved_by, a.approved_at"
					 " FROM migrate.approve($1) a",
					 1, params);
	if (res == NULL)
		return EXIT_ERROR;
	out_table(res, "approved");
	PQclear(res);
	return EXIT_OK;
}

/*
 * unapprove: withdraw an approval (issue 11).  The result is shown as the
 * server returns it, whatever its columns.
 */
static int
cmd_unapprove(PGconn *conn, const ClientOptions *opts)
{
	const char *params[1] = {opts->args[0]};
	PGresult   *res;

	if (!server_has(conn, "pg_catalog.to_regprocedure('migrate.unapprove(pg_catalog.text)')",
					"this server's migrate has no unapprove() (it predates production guard rails)"))
		return EXIT_ERROR;
	res = query_rows(conn, "SELECT * FROM migrate.unapprove($1) u", 1, params);
	if (res == NULL)
		return EXIT_ERROR;
	if (PQnfields(res) == 1 && PQntuples(res) == 1 &&
		strcmp(PQfname(res, 0), "unapprove") == 0)
	{
		/* a scalar (or void) result: one line, not a table */
		out_json_field("version", opts->args[0]);
		out_info("approval of %s withdrawn", opts->args[0]);
	}
	else
		out_table(res, "unapproved");
	PQclear(res);
	return EXIT_OK;
}

/*
 * settings: the session's environment and its rails, as the server
 * applies them (migrate.effective_settings, one row).  Shown one setting
 * per line on a terminal, since the row is wide.
 */
static int
cmd_settings(PGconn *conn, const ClientOptions *opts)
{
	PGresult   *res;

	if (!server_has(conn, "pg_catalog.to_regclass('migrate.effective_settings')",
					"this server's migrate has no environments (migrate.effective_settings does not exist)"))
		return EXIT_ERROR;
	res = query_rows(conn, "SELECT * FROM migrate.effective_settings", 0, NULL);
	if (res == NULL)
		return EXIT_ERROR;
	if (opts->json || PQntuples(res) != 1)
		out_table(res, "settings");
	else
	{
		static const char *const headers[2] = {"setting", "value"};
		int			n = PQnfields(res);
		char	  **cells = pg_malloc(sizeof(char *) * 2 * Max(n, 1));

		for (int c = 0; c < n; c++)
		{
			cells[2 * c] = PQfname(res, c);
			cells[2 * c + 1] = PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
		}
		out_rows("settings", 2, headers, n, cells);
		free(cells);
	}
	PQclear(res);
	return EXIT_OK;
}

/*
 * Whether the server has an object (a query that is NULL without it);
 * prints "message" when not.
 */
static bool
server_has(PGconn *conn, const char *regexpr, const char *message)
{
	char	   *sql = psprintf("SELECT %s IS NOT NULL", regexpr);
	PGresult   *res = query_rows(conn, sql, 0, NULL);
	bool		has;

	free(sql);
	if (res == NULL)
		return false;
	has = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!has)
	{
		out_error("%s", message);
		out_hint("Update the extension: ALTER EXTENSION migrate UPDATE.");
	}
	return has;
}

static int
cmd_resolve(PGconn *conn, const ClientOptions *opts)
{
	const char *params[2] = {opts->args[0], opts->action};
	PGresult   *res;

	res = query_rows(conn, "SELECT migrate.resolve($1, $2)", 2, params);
	if (res == NULL)
		return EXIT_ERROR;
	out_json_field("version", opts->args[0]);
	out_json_field("action", opts->action);
	out_json_field("result", PQgetvalue(res, 0, 0));
	out_info("resolved %s (%s): %s", opts->args[0], opts->action,
			 PQgetvalue(res, 0, 0));
	PQclear(res);
	return EXIT_OK;
}

/* --------------------------------------------------------------------
 * files, new: no database
 * --------------------------------------------------------------------
 */

/* "repeatable verify @v1.0": the flags of a migration file, "" for none */
static char *
file_flags(const MigrationFile *f)
{
	PQExpBuffer buf = createPQExpBuffer();
	char	   *result;

	if (f->repeatable)
		appendPQExpBufferStr(buf, "repeatable");
	if (f->verify)
		appendPQExpBuffer(buf, "%sverify", buf->len ? " " : "");
	for (int i = 0; i < f->ntags; i++)
		appendPQExpBuffer(buf, "%s@%s", buf->len ? " " : "", f->tags[i]);
	result = pg_strdup(buf->data);
	destroyPQExpBuffer(buf);
	return result;
}

/*
 * files: what the directory holds, as the layout reader understood it.
 * The table shows the up script's checksum and the flags in one column;
 * --json has the down script's checksum too, and the flags as keys.
 */
static int
cmd_files(PGconn *conn, const ClientOptions *opts)
{
	static const char *const table_headers[] = {
		"version", "name", "up", "down", "flags", "checksum"
	};
	static const char *const json_headers[] = {
		"version", "name", "up", "down", "repeatable", "verify", "tags",
		"checksum", "down_checksum"
	};
	const int	ncols = opts->json ? lengthof(json_headers) : lengthof(table_headers);
	MigrationSet set;
	char	   *errmsg = NULL;
	char	  **cells;

	if (!read_migrations(opts->dir, opts->layout, &set, &errmsg))
	{
		out_error("%s", errmsg);
		return EXIT_ERROR;
	}
	cells = pg_malloc0(sizeof(char *) * (set.nfiles * ncols + 1));
	for (int i = 0; i < set.nfiles; i++)
	{
		const MigrationFile *f = &set.files[i];
		char	  **row = cells + i * ncols;

		row[0] = f->version;
		row[1] = f->name;
		row[2] = f->up_path;
		row[3] = f->down_path;
		if (opts->json)
		{
			PQExpBuffer tags = createPQExpBuffer();

			for (int t = 0; t < f->ntags; t++)
				appendPQExpBuffer(tags, "%s%s", t ? " " : "", f->tags[t]);
			row[4] = f->repeatable ? "yes" : "no";
			row[5] = f->verify ? "yes" : "no";
			row[6] = f->ntags ? pg_strdup(tags->data) : NULL;
			destroyPQExpBuffer(tags);
			row[7] = (char *) f->checksum;
			row[8] = f->down_checksum[0] ? (char *) f->down_checksum : NULL;
		}
		else
		{
			row[4] = file_flags(f);
			row[5] = (char *) f->checksum;
		}
	}
	out_json_field("directory", set.dir ? set.dir : opts->dir);
	out_json_field("layout", set.layout);
	out_info("%d migration%s in %s (layout %s)", set.nfiles,
			 set.nfiles == 1 ? "" : "s", set.dir ? set.dir : opts->dir,
			 set.layout ? set.layout : "?");
	out_rows("files", ncols, opts->json ? json_headers : table_headers,
			 set.nfiles, cells);
	free(cells);
	return EXIT_OK;
}

static int
run_new(PGconn *conn, const ClientOptions *opts)
{
	return cmd_new(opts);
}

/* --------------------------------------------------------------------
 * Dispatch
 * --------------------------------------------------------------------
 */

/*
 * Run one command against one database (dbname: as given with -d, or NULL
 * for libpq's defaults); returns the exit code.  check_command_usage() has
 * accepted the command line.
 */
int
run_command(const ClientOptions *opts, const char *dbname)
{
	const Command *cmd = find_command(opts->command);
	PGconn	   *conn;
	char	   *description;
	int			rc;

	Assert(cmd != NULL);
	out_begin_database(NULL);
	if (cmd->target == TARGET_NONE)
	{
		rc = cmd->func(NULL, opts);
		out_end_database(rc);
		return rc;
	}

	/* what -d said, without a password; null: libpq's defaults */
	description = dbname ? redact_conninfo(dbname) : NULL;
	out_json_field("connection", description);
	free(description);
	conn = client_connect(opts, dbname, cmd->target == TARGET_EXTENSION);
	if (conn == NULL)
	{
		out_end_database(EXIT_ERROR);
		return EXIT_ERROR;
	}
	out_json_field("database", PQdb(conn));
	out_json_field("host", PQhost(conn));
	out_json_field("port", PQport(conn));
	rc = cmd->func(conn, opts);
	PQfinish(conn);
	out_end_database(rc);
	return rc;
}
