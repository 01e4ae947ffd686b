/*-------------------------------------------------------------------------
 *
 * engine.c
 *	  Running transactional migrations, all or nothing.
 *
 * migrate_run_plan() runs a plan (see plan.c) of migrations in the current
 * transaction:
 *
 *	 1. it opens one subtransaction for the whole plan;
 *	 2. for each migration it splits the script with PostgreSQL's parser,
 *		executes each statement through SPI as the current user (never as
 *		the owner), then updates the migration's row and adds a history row
 *		(as the owner, see catalog.c);
 *	 3. on success it releases the subtransaction: the caller's COMMIT
 *		makes everything durable at once.
 *
 * On failure the subtransaction is rolled back, which undoes every
 * migration of the plan and cleans up after the error; then the failure is
 * recorded by a worker that commits on its own (durable.c), and the
 * original error is re-thrown so that the caller's transaction aborts and
 * psql with ON_ERROR_STOP stops.  An error context callback names the
 * migration, the statement and its line on every error raised while a
 * statement runs.
 *
 * Each migration runs in its own SPI connection, whose memory is freed
 * when it finishes, so a long run does not accumulate memory.
 *
 * IDENTIFICATION
 *	  src/engine.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "durable.h"
#include "engine.h"
#include "guc.h"
#include "lock.h"
#include "progress.h"

/* longest statement text shown in a CONTEXT line */
#define CONTEXT_TEXT_LEN 80

const char *
migrate_script_name(Direction direction)
{
	return direction == DIRECTION_UP ? "up" : "down";
}

int64
migrate_usecs_since(TimestampTz start)
{
	return GetCurrentTimestamp() - start;
}

void
migrate_run_state_init(RunState *state, Direction direction, const RunContext *context)
{
	static const RunContext interactive = {NULL, NULL, 1, 0};

	memset(state, 0, sizeof(RunState));
	state->direction = direction;
	state->context = context ? context : &interactive;
	state->role = migrate_current_role();
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
				   migrate_script_name(state->direction), state->current->version,
				   state->current->name);
	else
		errcontext("%s script of migration \"%s\" (\"%s\"), statement %d at line %d: %s",
				   migrate_script_name(state->direction), state->current->version,
				   state->current->name, state->statement->number,
				   error_line(state, getinternalerrposition()),
				   short_statement_text(state));
}

/* push the CONTEXT callback; the caller pops it (error_context_stack) */
void
migrate_push_run_context(RunState *state, ErrorContextCallback *callback)
{
	callback->callback = run_error_callback;
	callback->arg = state;
	callback->previous = error_context_stack;
	error_context_stack = callback;
}

/* load and split the current migration's script for this direction */
ParsedScript *
migrate_load_parsed(RunState *state)
{
	MigrationInfo *m = state->current;
	char	   *script = migrate_load_script(m->version, state->direction == DIRECTION_DOWN);

	return migrate_parse_script(script,
								psprintf("%s script of migration \"%s\"",
										 migrate_script_name(state->direction), m->version));
}

/* what history says about who ran it, or NULL for a plain call */
char *
migrate_run_detail(const RunContext *context)
{
	StringInfoData buf;

	if (context == NULL || (context->schedule == NULL && context->worker == NULL))
		return NULL;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"by\": ");
	escape_json(&buf, context->worker ? context->worker : "scheduler");
	if (context->schedule)
	{
		appendStringInfoString(&buf, ", \"schedule\": ");
		escape_json(&buf, context->schedule);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static void
report_progress(const RunState *state, int64 duration_us)
{
	ereport(migrate_progress_level,
			(errmsg("%s migration %s \"%s\" (%d of %d)",
					state->direction == DIRECTION_UP ? "applied" : "reverted",
					state->current->version, state->current->name,
					state->number, state->context->total),
			 errdetail("Took %.3f ms.", duration_us / 1000.0)));
}

/*
 * Record a successful step: the migration's row, a history row, the
 * progress message and the outcome for the result row.
 */
void
migrate_record_success(RunState *state, int64 duration_us, MigrateOutcome *outcome)
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
	event.detail = migrate_run_detail(state->context);
	migrate_insert_event(&event);

	report_progress(state, duration_us);
	if (outcome)
	{
		outcome->done = true;
		outcome->duration_us = duration_us;
		outcome->statements = state->script ? state->script->nstatements : m->statements;
	}
}

/*
 * The failed attempt as JSON, for migrate.event.error and last_error.
 * "extra_json" is more "key": value pairs to add, or NULL.
 */
char *
migrate_error_json(const RunState *state, const ErrorData *edata, const char *extra_json)
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
	appendStringInfo(&buf, ", \"script\": \"%s\"", migrate_script_name(state->direction));
	if (state->statement)
	{
		appendStringInfo(&buf, ", \"statement\": %d, \"line\": %d, \"statement_text\": ",
						 state->statement->number,
						 error_line(state, edata->internalpos));
		escape_json(&buf, migrate_statement_text(state->script, state->statement));
	}
	if (extra_json)
		appendStringInfo(&buf, ", %s", extra_json);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* the history row of a failed attempt */
MigrationEvent
migrate_failure_event(const RunState *state, const char *error)
{
	MigrationEvent event = {0};

	event.action = state->direction == DIRECTION_UP ? "apply" : "revert";
	event.version = state->current->version;
	event.name = state->current->name;
	event.outcome = "failure";
	event.role = state->role;
	event.started_at = state->started_at;
	event.duration_us = migrate_usecs_since(state->started_at);
	event.checksum = state->direction == DIRECTION_UP ?
		state->current->checksum : state->current->down_checksum;
	event.detail = migrate_run_detail(state->context);
	event.error = error;
	return event;
}

static void
execute_statement(const ParsedScript *script, const ScriptStatement *stmt)
{
	char	   *text = migrate_statement_text(script, stmt);
	int			rc;

	migrate_progress_statement(stmt->number, text);
	rc = SPI_execute(text, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Run one migration inside the plan's subtransaction, in an SPI connection
 * of its own so that its memory goes away with it.
 */
static void
run_migration(RunState *state, MigrateOutcome *outcome)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	state->started_at = GetCurrentTimestamp();
	state->script = migrate_load_parsed(state);
	migrate_progress_start(state->direction == DIRECTION_UP ? "apply" : "revert",
						   state->current, state->number, state->context->total,
						   state->script->nstatements, state->context->schedule);

	for (int i = 0; i < state->script->nstatements; i++)
	{
		state->statement = &state->script->statements[i];
		execute_statement(state->script, state->statement);
	}
	state->statement = NULL;

	migrate_record_success(state, migrate_usecs_since(state->started_at), outcome);
	state->script = NULL;
	SPI_finish();
}

/*
 * Run a plan of transactional migrations in one subtransaction; on error
 * roll it back, record the failure durably and re-throw.  "outcomes", if
 * not NULL, has one entry per migration of the plan.
 */
void
migrate_run_plan(List *plan, Direction direction, const RunContext *context,
				 MigrateOutcome *outcomes)
{
	MemoryContext fncontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	RunState   *state = palloc(sizeof(RunState));
	ErrorData  *volatile edata = NULL;
	char	   *volatile failure = NULL;
	ErrorContextCallback errcallback;

	migrate_run_state_init(state, direction, context);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(fncontext);
	migrate_push_run_context(state, &errcallback);

	migrate_set_running(true);
	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, plan)
		{
			state->current = lfirst(lc);
			state->number = state->context->first + foreach_current_index(lc);
			run_migration(state, outcomes ? &outcomes[foreach_current_index(lc)] : NULL);
			state->current = NULL;
		}
		migrate_set_running(false);
		migrate_progress_end();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(fncontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		migrate_set_running(false);
		migrate_progress_end();
		MemoryContextSwitchTo(fncontext);
		edata = CopyErrorData();
		FlushErrorState();
		/* describe the failure while the parsed script still exists */
		if (state->current != NULL)
			failure = migrate_error_json(state, edata, NULL);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(fncontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();

	error_context_stack = errcallback.previous;

	if (edata != NULL)
	{
		if (failure != NULL)
		{
			MigrationEvent event = migrate_failure_event(state, failure);

			migrate_record_failure(&event);
		}
		ReThrowError(edata);
	}
}
