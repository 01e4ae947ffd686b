/*-------------------------------------------------------------------------
 *
 * driftlog.c
 *	  Drift capture (issue 13): the event trigger functions behind
 *	  migrate_drift_ddl (ddl_command_end) and migrate_drift_drop
 *	  (sql_drop), and the record of the schema after apply and revert.
 *
 * Every DDL command that runs outside migrate leaves rows in
 * migrate.drift_log: one per object pg_event_trigger_ddl_commands()
 * reports at ddl_command_end, one per object a DROP removed
 * (pg_event_trigger_dropped_objects(), the original and those CASCADE
 * took along, but not a view's rewrite rule or a column default) at
 * sql_drop.  What is not drift:
 *
 *  - what migrate runs itself: the executor sets a backend-local flag
 *	  (ipc/migrating.c) around migration scripts, dry runs, rehearsals and
 *	  the apply worker's statements;
 *  - CREATE and ALTER EXTENSION migrate (the script's own objects), and
 *	  the objects another extension's script creates (in_extension: the
 *	  CREATE EXTENSION command itself is logged);
 *  - objects in migrate's schemas (migrate, migrate_backup) and temporary
 *	  objects, which schema_objects() leaves out too;
 *  - anything while the superuser setting migrate.capture_drift is off;
 *  - anything before migrate recorded a schema for the first time (the
 *	  first apply, revert, acknowledge_drift() or baseline()): there is no
 *	  schema to drift from yet.  A pg_restore creates its tables before it
 *	  restores the rows of migrate.schema_state, so its own DDL is not
 *	  logged either (the indexes and constraints it creates after the data
 *	  are: restore with migrate.capture_drift = off).
 *
 * The capture must never make the DDL fail.  It runs in an internal
 * subtransaction; an error there (the log cannot be written) is rolled
 * back and becomes a WARNING, and the DDL goes on.  Only a cancel
 * (statement_timeout, pg_cancel_backend) goes on as the error it is: it
 * was meant for the command.
 *
 * The DDL's role can neither write the log nor read its statements: the
 * one INSERT runs as the extension owner (store/spi.c: search_path pinned
 * to pg_catalog, pg_temp, operators qualified, a plan kept per backend).
 * The INSERT calls only built-in functions and has no triggers; who ran
 * the command (current_user, session_user), the transaction, the pid and
 * the statement text are taken here, before the switch.  The row goes
 * with the DDL's transaction: DDL that is rolled back leaves no row.
 *
 * IDENTIFICATION
 *	  src/store/driftlog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scansup.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/xid8.h"

#include "errors.h"
#include "guc.h"
#include "ipc/migrating.h"
#include "ipc/topstatement.h"
#include "ipc/xact.h"
#include "store/driftlog.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_drift_capture_ddl);
PG_FUNCTION_INFO_V1(migrate_drift_capture_drop);

/*
 * the columns every row gets: $1 .. $5, $7 the note on the statement, and
 * $6 the command tag of a drop
 */
#define DRIFT_COLUMNS \
	"INSERT INTO migrate.drift_log (role, session_role, pid, transaction_id," \
	" command_tag, object_type, object_identity, schema_name, event, statement," \
	" statement_note) " \
	"SELECT $1::pg_catalog.name, $2::pg_catalog.name, $3, $4, "

/* not the user's schema (schema_objects() leaves them out as well) */
#define DRIFT_SCHEMA_FILTER(col) \
	"coalesce(" col ", '') OPERATOR(pg_catalog.<>) ALL ('{migrate,migrate_backup,pg_temp}'::pg_catalog.text[])"

/* nothing recorded yet: no schema to drift from (see the header) */
#define DRIFT_RECORDED " AND EXISTS (SELECT FROM migrate.schema_state)"

static const char *const ddl_sql =
DRIFT_COLUMNS
"c.command_tag, c.object_type, c.object_identity, c.schema_name, 'ddl_command_end', $5, $7 "
"FROM pg_catalog.pg_event_trigger_ddl_commands() c "
"WHERE NOT c.in_extension AND " DRIFT_SCHEMA_FILTER("c.schema_name") DRIFT_RECORDED;

static const char *const drop_sql =
DRIFT_COLUMNS
"$6, d.object_type, d.object_identity, d.schema_name, 'sql_drop', $5, $7 "
"FROM pg_catalog.pg_event_trigger_dropped_objects() d "
"WHERE (d.original OR (d.normal AND d.object_type OPERATOR(pg_catalog.<>) ALL ('{rule,default value}'::pg_catalog.text[])))"
/* DROP EXTENSION: the extension's row, not one per member */
" AND ($6 OPERATOR(pg_catalog.<>) 'DROP EXTENSION' OR d.object_type OPERATOR(pg_catalog.=) 'extension')"
" AND NOT d.is_temporary AND " DRIFT_SCHEMA_FILTER("d.schema_name") DRIFT_RECORDED;

static SPIPlanPtr ddl_plan = NULL;
static SPIPlanPtr drop_plan = NULL;
static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr before_plan = NULL;

/* what one capture inserts */
typedef struct DriftCapture
{
	SPIPlanPtr *plan;
	const char *sql;
	Datum		values[7];
	char		nulls[7];
} DriftCapture;

/* the one statement of a query string, when it is the command */
typedef struct OnlyStatement
{
	CommandTag	tag;
	char	   *text;
	MemoryContext caller;
} OnlyStatement;

/* why a row has no statement text */
#define NOTE_SECRET "text not recorded: may hold a password"
#define NOTE_NESTED "text not recorded: run by a function, procedure or DO block, not by a statement of the query string"
#define NOTE_UNKNOWN "text not recorded: the command loaded migrate's library, and the query string is not that one statement (put migrate in shared_preload_libraries)"

/* migrate's own table "name" exists (a 1.1 catalog; not being dropped) */
static bool
has_table(const char *name)
{
	Oid			schema = get_namespace_oid("migrate", true);

	return OidIsValid(schema) && OidIsValid(get_relname_relid(name, schema));
}

/*
 * Whether this command is drift to record at all: the cheap checks, before
 * any subtransaction or query.
 */
static bool
should_capture(bool drop)
{
	if (!migrate_capture_drift || migrate_migrating_now() || IsBinaryUpgrade)
		return false;
	/* CREATE or ALTER EXTENSION migrate: the script's own DDL */
	if (creating_extension &&
		CurrentExtensionObject == get_extension_oid("migrate", true))
		return false;

	/*
	 * Another extension's script: what it creates is skipped by
	 * in_extension, what it drops here (sql_drop has no such column); the
	 * CREATE or ALTER EXTENSION command is logged when it ends
	 */
	if (creating_extension && drop)
		return false;
	/* a 1.0 catalog, or DROP EXTENSION migrate has removed the tables */
	return has_table("drift_log") && has_table("schema_state");
}

/*
 * Commands whose text may hold a password: user mappings and servers
 * (their options; pg_user_mappings hides them from roles that are not the
 * user or the server's owner), subscriptions (the connection string), and
 * roles (no event trigger fires for them; listed so that no later
 * PostgreSQL makes them leak).  Their text is never recorded.
 */
static bool
may_hold_password(CommandTag tag)
{
	switch (tag)
	{
		case CMDTAG_CREATE_USER_MAPPING:
		case CMDTAG_ALTER_USER_MAPPING:
		case CMDTAG_CREATE_SERVER:
		case CMDTAG_ALTER_SERVER:
		case CMDTAG_CREATE_SUBSCRIPTION:
		case CMDTAG_ALTER_SUBSCRIPTION:
		case CMDTAG_CREATE_ROLE:
		case CMDTAG_ALTER_ROLE:
			return true;
		default:
			return false;
	}
}

/*
 * The body of a subtransaction: the text of a query string that is one
 * statement of the command's tag (it may not parse again: a SET earlier
 * in the session may have changed how), else NULL.
 */
static void
only_statement(void *arg)
{
	OnlyStatement *only = arg;
	List	   *statements = raw_parser(debug_query_string, RAW_PARSE_DEFAULT);
	RawStmt    *raw;
	const char *start;
	int			length;

	if (list_length(statements) != 1)
		return;
	raw = linitial_node(RawStmt, statements);
	if (CreateCommandTag(raw->stmt) != only->tag)
		return;
	start = debug_query_string + raw->stmt_location;
	length = raw->stmt_len > 0 ? raw->stmt_len : (int) strlen(start);
	while (length > 0 && scanner_isspace(*start))
	{
		start++;
		length--;
	}
	only->text = MemoryContextStrdup(only->caller, pnstrdup(start, length));
}

/*
 * The text of the statement that ran the command, or NULL.  The
 * ProcessUtility hook of ipc/topstatement.c knows where the running
 * top-level statement is in the query string.  When the library was
 * loaded by this very command, it does not: then only a query string that
 * is this one statement gives a text.  Never another statement's text.
 */
static char *
find_statement(EventTriggerData *trigdata, const char **note)
{
	char	   *text;
	OnlyStatement only;
	ErrorData  *edata;

	*note = NOTE_NESTED;
	switch (migrate_topstatement_current(&text))
	{
		case MIGRATE_TOP_STATEMENT:
			return text;
		case MIGRATE_TOP_UNKNOWN:
			break;
		default:
			return NULL;
	}
	*note = NOTE_UNKNOWN;
	if (debug_query_string == NULL)
		return NULL;
	only.tag = trigdata->tag;
	only.text = NULL;
	only.caller = CurrentMemoryContext;
	edata = migrate_xact_run_subxact(only_statement, &only, false, NULL);
	if (edata != NULL)
	{
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		FreeErrorData(edata);
		return NULL;
	}
	return only.text;
}

/*
 * The statement text of a row ($5) and, when there is none, why ($7):
 * only the statement's own text, never the whole query string (another
 * statement of it may set a password, and a string of n statements would
 * store n times its length).
 */
static void
statement_text(EventTriggerData *trigdata, Datum *text, char *text_null,
			   Datum *note, char *note_null)
{
	char	   *found;
	const char *why;

	*text_null = 'n';
	*note_null = ' ';
	if (may_hold_password(trigdata->tag))
	{
		*note = CStringGetTextDatum(NOTE_SECRET);
		return;
	}
	found = find_statement(trigdata, &why);
	if (found == NULL)
	{
		*note = CStringGetTextDatum(why);
		return;
	}
	*text = CStringGetTextDatum(found);
	*text_null = ' ';
	*note_null = 'n';
}

/*
 * How long the insert waits for a lock on the log (someone holds it for a
 * TRUNCATE or VACUUM FULL) before it gives up with the WARNING: without
 * it, the DDL would wait until its own statement_timeout cancels it.
 */
#define CAPTURE_LOCK_TIMEOUT_MS 1000

/* the body of the subtransaction: the one INSERT */
static void
insert_rows(void *arg)
{
	DriftCapture *capture = arg;
	Oid			types[7] = {TEXTOID, TEXTOID, INT4OID, XID8OID, TEXTOID, TEXTOID, TEXTOID};
	int			nargs = 7;

	int			nestlevel = NewGUCNestLevel();

	/*
	 * a lock_timeout of its own (shorter than the session's, if that is
	 * set), as a function's SET clause does: restored below, or by the
	 * subtransaction's abort
	 */
	if (LockTimeout == 0 || LockTimeout > CAPTURE_LOCK_TIMEOUT_MS)
		(void) set_config_option("lock_timeout", CppAsString2(CAPTURE_LOCK_TIMEOUT_MS),
								 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	migrate_xact_spi_connect();
	migrate_spi_run_kept_as_owner(capture->plan, capture->sql, nargs, types,
								  capture->values, capture->nulls, SPI_OK_INSERT);
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Record the rows of one event.  Who ran it is read here, as that role;
 * the insert runs in a subtransaction whose error becomes a WARNING.
 */
static void
capture(FunctionCallInfo fcinfo, SPIPlanPtr *plan, const char *sql, const char *event)
{
	EventTriggerData *trigdata;
	DriftCapture c;
	ErrorData  *edata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by an event trigger", event),
				 errhint("It records DDL for the event triggers of migrate's drift capture.")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!should_capture(plan == &drop_plan))
		return;

	c.plan = plan;
	c.sql = sql;
	memset(c.nulls, ' ', sizeof(c.nulls));
	c.values[0] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	c.values[1] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	c.values[2] = Int32GetDatum(MyProcPid);
	c.values[3] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	statement_text(trigdata, &c.values[4], &c.nulls[4], &c.values[6], &c.nulls[6]);
	c.values[5] = CStringGetTextDatum(GetCommandTagName(trigdata->tag));

	edata = migrate_xact_run_subxact(insert_rows, &c, true, NULL);
	if (edata == NULL)
		return;
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("could not record %s in migrate.drift_log: %s",
					GetCommandTagName(trigdata->tag), edata->message),
			 errdetail("The command ran; the drift capture of extension migrate did not record it."),
			 errhint("migrate.drift still shows what it changed, without a log row to explain it; apply() and revert() keep it as drift until acknowledge_drift().")));
	FreeErrorData(edata);
}

/* event trigger migrate_drift_ddl (ddl_command_end) */
Datum
migrate_drift_capture_ddl(PG_FUNCTION_ARGS)
{
	capture(fcinfo, &ddl_plan, ddl_sql, "migrate.drift_capture_ddl");
	PG_RETURN_VOID();
}

/* event trigger migrate_drift_drop (sql_drop) */
Datum
migrate_drift_capture_drop(PG_FUNCTION_ARGS)
{
	capture(fcinfo, &drop_plan, drop_sql, "migrate.drift_capture_drop");
	PG_RETURN_VOID();
}

char *
migrate_driftlog_state_before(void)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *before = NULL;

	if (!has_table("schema_state"))
		return NULL;
	migrate_xact_spi_connect();
	migrate_spi_run_kept_as_owner(&before_plan, "SELECT migrate.schema_state_before()::pg_catalog.text",
								  0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			before = MemoryContextStrdup(caller, value);
	}
	SPI_finish();
	return before;
}

void
migrate_driftlog_record_state(const char *reason, const char *before)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	if (!has_table("schema_state"))
		return;
	values[0] = CStringGetTextDatum(reason);
	if (before != NULL)
		values[1] = CStringGetTextDatum(before);
	else
		nulls[1] = 'n';
	migrate_xact_spi_connect();
	migrate_spi_run_kept_as_owner(&record_plan,
								  "SELECT migrate.record_schema_state($1, $2::pg_catalog.jsonb)",
								  2, types, values, nulls, SPI_OK_SELECT);
	SPI_finish();
}

int
migrate_driftlog_differences(char **first)
{
	MemoryContext caller = CurrentMemoryContext;
	int			count = 0;

	*first = NULL;
	if (!has_table("schema_state"))
		return 0;
	migrate_xact_spi_connect();
	migrate_spi_run_as_owner("SELECT pg_catalog.count(*)::pg_catalog.int4,"
							 " pg_catalog.string_agg(d.change OPERATOR(pg_catalog.||) ' '"
							 " OPERATOR(pg_catalog.||) d.kind OPERATOR(pg_catalog.||) ' '"
							 " OPERATOR(pg_catalog.||) d.identity, ', ' ORDER BY d.n)"
							 " FILTER (WHERE d.n OPERATOR(pg_catalog.<=) 5)"
							 " FROM (SELECT v.change, v.kind, v.identity,"
							 " pg_catalog.row_number() OVER (ORDER BY v.kind, v.identity) AS n"
							 " FROM migrate.drift v) d",
							 0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		n = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		char	   *list = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		count = isnull ? 0 : DatumGetInt32(n);
		if (list != NULL)
			*first = MemoryContextStrdup(caller, list);
	}
	SPI_finish();
	return count;
}
