/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  The apply and revert engine, and its SQL functions.
 *
 * One call runs a plan (see plan.c) of migrations in the caller's
 * transaction, all or nothing:
 *
 *	 1. take the migrate lock (lock.c), load the registry, build the plan and
 *		check it (dependencies, down scripts, transactional) before anything
 *		runs;
 *	 2. open one subtransaction for the whole run;
 *	 3. for each migration: split its script with PostgreSQL's parser,
 *		execute each statement through SPI as the caller (never as the
 *		owner), then update its row and add a history row (as the owner);
 *	 4. on success release the subtransaction: the caller's COMMIT makes
 *		everything durable at once.
 *
 * On failure the subtransaction is rolled back, which undoes every
 * migration of this call and cleans up after the error, then the failure
 * is recorded by a worker that commits on its own (durable.c), and the
 * original error is re-thrown so that the caller's transaction aborts and
 * psql with ON_ERROR_STOP stops.  An error context callback names the
 * migration, the statement and its line on every error raised while a
 * statement runs.
 *
 * Each migration runs in its own SPI connection, whose memory is freed
 * when it finishes, so a long run does not accumulate memory.
 *
 * IDENTIFICATION
 *	  src/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "compat.h"
#include "durable.h"
#include "guc.h"
#include "lock.h"
#include "parse.h"
#include "plan.h"

PG_FUNCTION_INFO_V1(migrate_apply);
PG_FUNCTION_INFO_V1(migrate_revert);
PG_FUNCTION_INFO_V1(migrate_revert_all);

/* longest statement text shown in a CONTEXT line */
#define CONTEXT_TEXT_LEN 80

typedef enum Direction
{
	DIRECTION_UP,
	DIRECTION_DOWN
} Direction;

/*
 * Where the run is, for the error context callback and the failure record.
 * Lives in the function's memory, outside the subtransaction.
 */
typedef struct RunState
{
	Direction	direction;
	const char *role;
	MigrationInfo *current;		/* NULL between migrations */
	TimestampTz started_at;		/* of the current migration */
	const ParsedScript *script; /* NULL until parsed */
	const ScriptStatement *statement;	/* NULL between statements */
} RunState;

static const char *
script_name(Direction direction)
{
	return direction == DIRECTION_UP ? "up" : "down";
}

/* line of an error position inside the current statement, or its first line */
static int
error_line(const RunState *state, int internalpos)
{
	const ScriptStatement *stmt = state->statement;
	const char *text = state->script->script + stmt->start;
	int			offset = 0;

	if (internalpos <= 0)
		return stmt->line;
	for (int i = 1; i < internalpos && offset < stmt->end - stmt->start; i++)
		offset += pg_mblen(text + offset);
	return stmt->line + migrate_line_at(text, offset) - 1;
}

/* the statement on one line, shortened for a CONTEXT line */
static char *
short_statement_text(const RunState *state)
{
	char	   *text = migrate_statement_text(state->script, state->statement);
	int			len;

	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	len = strlen(text);
	if (len > CONTEXT_TEXT_LEN)
	{
		len = pg_mbcliplen(text, len, CONTEXT_TEXT_LEN);
		text[len] = '\0';
		return psprintf("%s...", text);
	}
	return text;
}

static void
run_error_callback(void *arg)
{
	RunState   *state = (RunState *) arg;

	if (state->current == NULL)
		return;
	if (state->statement == NULL)
		errcontext("%s script of migration \"%s\" (\"%s\")",
				   script_name(state->direction), state->current->version,
				   state->current->name);
	else
		errcontext("%s script of migration \"%s\" (\"%s\"), statement %d at line %d: %s",
				   script_name(state->direction), state->current->version,
				   state->current->name, state->statement->number,
				   error_line(state, getinternalerrposition()),
				   short_statement_text(state));
}

static void
execute_statement(const ParsedScript *script, const ScriptStatement *stmt)
{
	int			rc = SPI_execute(migrate_statement_text(script, stmt), false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_freetuptable(SPI_tuptable);
}

static int64
usecs_since(TimestampTz start)
{
	return GetCurrentTimestamp() - start;
}

/*
 * Record a successful step: the migration's row and a history row.
 */
static void
record_success(RunState *state, int64 duration_us)
{
	MigrationInfo *m = state->current;
	MigrationEvent event = {0};

	if (state->direction == DIRECTION_UP)
		migrate_mark_applied(m->version, state->started_at, duration_us, state->role);
	else
		migrate_mark_reverted(m->version);

	event.action = state->direction == DIRECTION_UP ? "apply" : "revert";
	event.version = m->version;
	event.name = m->name;
	event.outcome = "success";
	event.role = state->role;
	event.started_at = state->started_at;
	event.duration_us = duration_us;
	event.checksum = state->direction == DIRECTION_UP ? m->checksum : m->down_checksum;
	migrate_insert_event(&event);
}

static void
report_progress(const RunState *state, int n, int total, int64 duration_us)
{
	ereport(migrate_progress_level,
			(errmsg("%s migration %s \"%s\" (%d of %d)",
					state->direction == DIRECTION_UP ? "applied" : "reverted",
					state->current->version, state->current->name, n, total),
			 errdetail("Took %.3f ms.", duration_us / 1000.0)));
}

static void
add_result_row(ReturnSetInfo *rsinfo, const RunState *state, int64 duration_us)
{
	Datum		values[6];
	bool		nulls[6] = {0};

	values[0] = CStringGetTextDatum(state->current->version);
	values[1] = CStringGetTextDatum(state->current->name);
	values[2] = CStringGetTextDatum(state->direction == DIRECTION_UP ? "apply" : "revert");
	values[3] = CStringGetTextDatum(state->direction == DIRECTION_UP ? "applied" : "rolled_back");
	values[4] = migrate_interval_datum(duration_us);
	values[5] = Int32GetDatum(state->script->nstatements);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Run one migration inside the run's subtransaction, in an SPI connection
 * of its own so that its memory goes away with it.
 */
static void
run_migration(RunState *state, ReturnSetInfo *rsinfo, int n, int total)
{
	MigrationInfo *m = state->current;
	char	   *script;
	int64		duration_us;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	state->started_at = GetCurrentTimestamp();

	script = migrate_load_script(m->version, state->direction == DIRECTION_DOWN);
	state->script = migrate_parse_script(script,
										 psprintf("%s script of migration \"%s\"",
												  script_name(state->direction), m->version));
	for (int i = 0; i < state->script->nstatements; i++)
	{
		state->statement = &state->script->statements[i];
		execute_statement(state->script, state->statement);
	}
	state->statement = NULL;

	duration_us = usecs_since(state->started_at);
	record_success(state, duration_us);
	report_progress(state, n, total, duration_us);
	add_result_row(rsinfo, state, duration_us);

	state->script = NULL;
	SPI_finish();
}

/* the failed attempt as JSON, for migrate.event.error and last_error */
static char *
error_json(const RunState *state, const ErrorData *edata)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"sqlstate\": ");
	escape_json(&buf, unpack_sql_state(edata->sqlerrcode));
	appendStringInfoString(&buf, ", \"message\": ");
	escape_json(&buf, edata->message ? edata->message : "");
	if (edata->detail)
	{
		appendStringInfoString(&buf, ", \"detail\": ");
		escape_json(&buf, edata->detail);
	}
	if (edata->hint)
	{
		appendStringInfoString(&buf, ", \"hint\": ");
		escape_json(&buf, edata->hint);
	}
	appendStringInfo(&buf, ", \"script\": \"%s\"", script_name(state->direction));
	if (state->statement)
	{
		appendStringInfo(&buf, ", \"statement\": %d, \"line\": %d, \"statement_text\": ",
						 state->statement->number,
						 error_line(state, edata->internalpos));
		escape_json(&buf, migrate_statement_text(state->script, state->statement));
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static void
record_failure(const RunState *state, const char *error)
{
	MigrationEvent event = {0};

	event.action = state->direction == DIRECTION_UP ? "apply" : "revert";
	event.version = state->current->version;
	event.name = state->current->name;
	event.outcome = "failure";
	event.role = state->role;
	event.started_at = state->started_at;
	event.duration_us = usecs_since(state->started_at);
	event.checksum = state->direction == DIRECTION_UP ?
		state->current->checksum : state->current->down_checksum;
	event.error = error;
	migrate_record_failure(&event);
}

/*
 * Run the plan in one subtransaction; on error roll it back, record the
 * failure durably and re-throw.
 */
static void
run_plan(ReturnSetInfo *rsinfo, List *plan, Direction direction)
{
	MemoryContext fncontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	RunState   *state = palloc0(sizeof(RunState));
	ErrorData  *volatile edata = NULL;
	char	   *volatile failure = NULL;
	ErrorContextCallback errcallback;

	state->direction = direction;
	state->role = migrate_current_role();

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(fncontext);

	errcallback.callback = run_error_callback;
	errcallback.arg = state;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	migrate_set_running(true);
	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, plan)
		{
			state->current = lfirst(lc);
			run_migration(state, rsinfo, foreach_current_index(lc) + 1, list_length(plan));
			state->current = NULL;
		}
		migrate_set_running(false);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(fncontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		migrate_set_running(false);
		MemoryContextSwitchTo(fncontext);
		edata = CopyErrorData();
		FlushErrorState();
		/* describe the failure while the parsed script still exists */
		if (state->current != NULL)
			failure = error_json(state, edata);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(fncontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();

	error_context_stack = errcallback.previous;

	if (edata != NULL)
	{
		if (failure != NULL)
			record_failure(state, failure);
		ReThrowError(edata);
	}
}

/*
 * Refuse, before anything runs, a plan with a migration that cannot run in
 * a transaction block.
 */
static void
check_transactional(List *plan, Direction direction)
{
	ListCell   *lc;

	/* TODO(issue 3): hand these to a background worker instead */
	foreach(lc, plan)
	{
		MigrationInfo *m = lfirst(lc);

		if (!(direction == DIRECTION_UP ? m->transactional : m->down_transactional))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("migration \"%s\" cannot run inside a transaction block", m->version),
					 errdetail("It is marked \"@transaction: false\" or contains a statement such as CREATE INDEX CONCURRENTLY."),
					 errhint("This version of migrate applies only transactional migrations; nothing was %s.",
							 direction == DIRECTION_UP ? "applied" : "reverted")));
	}
}

/*
 * Shared body of apply and revert: lock, plan, check, run.
 */
static void
apply_or_revert(FunctionCallInfo fcinfo, Direction direction,
				const char *target, const RevertRequest *request)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrationInfo *registry;
	int			count;
	List	   *plan;

	migrate_materialize_srf(fcinfo);
	migrate_lock_acquire();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	registry = migrate_load_registry(&count);
	if (direction == DIRECTION_UP)
		plan = migrate_plan_apply(registry, count, target);
	else
		plan = migrate_plan_revert(registry, count, request);
	check_transactional(plan, direction);

	if (plan == NIL)
		ereport(migrate_progress_level,
				(errmsg("no migrations to %s", direction == DIRECTION_UP ? "apply" : "revert")));
	else
		run_plan(rsinfo, plan, direction);
	SPI_finish();
}

static char *
text_arg_or_null(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* migrate.apply(target text DEFAULT NULL) */
Datum
migrate_apply(PG_FUNCTION_ARGS)
{
	apply_or_revert(fcinfo, DIRECTION_UP, text_arg_or_null(fcinfo, 0), NULL);
	PG_RETURN_VOID();
}

/* migrate.revert(steps, target, migration, cascade) */
Datum
migrate_revert(PG_FUNCTION_ARGS)
{
	RevertRequest request = {0};
	int			given = 0;

	request.steps = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0);
	request.target = text_arg_or_null(fcinfo, 1);
	request.migration = text_arg_or_null(fcinfo, 2);
	request.cascade = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);

	given = !PG_ARGISNULL(0) + (request.target != NULL) + (request.migration != NULL);
	if (given > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("only one of steps, target and migration may be given")));
	if (!PG_ARGISNULL(0) && request.steps < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("steps must be at least 1"),
				 errhint("To revert every applied migration, call migrate.revert_all().")));
	if (given == 0)
		request.steps = 1;

	apply_or_revert(fcinfo, DIRECTION_DOWN, NULL, &request);
	PG_RETURN_VOID();
}

/* migrate.revert_all() */
Datum
migrate_revert_all(PG_FUNCTION_ARGS)
{
	RevertRequest request = {0};

	request.all = true;
	apply_or_revert(fcinfo, DIRECTION_DOWN, NULL, &request);
	PG_RETURN_VOID();
}
