/*-------------------------------------------------------------------------
 *
 * runner.c
 *	  Running migrations from a background worker, one transaction each.
 *
 * Used by the worker of a scheduled migration (schedworker.c) and by the
 * apply worker that runs a plan handed over by migrate.apply()
 * (handoff.c).  It is entered outside any transaction and runs each
 * migration of the list in turn:
 *
 *  - a transactional migration runs in a transaction of its own, through
 *	  the same engine as apply() (engine.c), and is committed before the
 *	  next one starts, so a failure stops the run with everything before it
 *	  kept;
 *  - a migration that cannot run in a transaction block runs statement by
 *	  statement at top level (topstmt.c), each in its own transaction
 *	  command.  It cannot be atomic, so before each statement its row is
 *	  marked dirty with the statement number; a crash or failure leaves it
 *	  dirty, and apply()/revert() refuse to go past it until resolve().  A
 *	  failed CREATE INDEX CONCURRENTLY has its INVALID index dropped, or
 *	  reported with the command to drop it (cleanup.c).  After
 *	  resolve(..., 'retry') the run resumes at the statement it stopped at,
 *	  which cleanup.c first checks for what a kill left: the INVALID index
 *	  of a killed concurrent build is dropped, and a build or drop that had
 *	  finished is not run again.
 *
 * A non-transactional migration's SETs last across its statements, which
 * commit one by one; after each migration the session gets its settings
 * back (migrate_runner_set_session_reset; the apply worker restores the
 * caller's), so they do not reach the next migration.
 *
 * Before starting a migration the runner checks that it is still pending
 * (or still applied, for a revert): another session may have done it in
 * the meantime.  With a window end, it never starts a migration whose
 * @estimated-duration would run past it.
 *
 * IDENTIFICATION
 *	  src/exec/runner.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "exec/cleanup.h"
#include "exec/engine.h"
#include "store/lock.h"
#include "store/spi.h"
#include "ipc/progress.h"
#include "ipc/xact.h"
#include "model/jsonbuild.h"
#include "exec/runner.h"
#include "exec/topstmt.h"

/*
 * Called outside a transaction after each migration, to give the session
 * back its settings (handoff.c sets it); NULL: nothing to do.
 */
static void (*session_reset) (void) = NULL;

void
migrate_runner_set_session_reset(void (*reset) (void))
{
	session_reset = reset;
}

/*
 * The migration, copied into "keep", if it still needs to run in this
 * direction; NULL if somebody else has done it meanwhile.
 */
static MigrationInfo *
load_if_still_needed(const char *version, Direction direction, MemoryContext keep)
{
	MigrationInfo *registry;
	MigrationInfo *m;
	MigrationInfo *copy = NULL;
	int			count;

	migrate_work_begin(MIGRATE_WORK_SPI);
	registry = migrate_load_registry(&count);
	m = migrate_find_migration(registry, count, version);
	if (m != NULL && strcmp(m->state, "dirty") != 0 &&
		migrate_is_applied(m) == (direction == DIRECTION_DOWN))
	{
		MemoryContext old = MemoryContextSwitchTo(keep);

		copy = migrate_copy_migration(m);
		MemoryContextSwitchTo(old);
	}
	migrate_work_end(keep);
	return copy;
}

/* would the migration, started now, still run at the window's end? */
static bool
would_overrun(const MigrationInfo *m, TimestampTz window_end)
{
	int64		estimate;

	if (window_end == 0 || m->estimated_duration == NULL)
		return false;
	estimate = m->estimated_duration->time +
		(int64) m->estimated_duration->day * USECS_PER_DAY;
	return estimate > window_end - GetCurrentTimestamp();
}

/*
 * A transactional migration that failed at commit (a deferred constraint
 * or trigger, a WITH HOLD cursor): the engine saw it succeed, so nothing
 * recorded the failure.  Record it now, in a transaction of its own, as
 * the engine would: a history row, and the migration failed (an up
 * script) with the error, so that a scheduled run does not retry it.
 */
static void
record_commit_failure(MigrationInfo *m, Direction direction, const RunContext *context,
					  const ErrorData *edata, TimestampTz started, MemoryContext keep)
{
	RunState	state;
	MigrationEvent event;
	MigrateJsonBuilder at = MIGRATE_JSON_BUILDER;
	Jsonb	   *error;
	Oid			argtypes[3] = {TEXTOID, JSONBOID, BOOLOID};
	Datum		values[3];

	migrate_work_begin(MIGRATE_WORK_SPI);
	migrate_run_state_init(&state, direction, context);
	state.current = m;
	state.started_at = started;
	migrate_json_begin_object(&at, NULL);
	migrate_json_add_text(&at, "at", "commit");
	migrate_json_end(&at);
	error = migrate_error_json(&state, edata, migrate_json_finish(&at));
	event = migrate_failure_event(&state, error);
	migrate_insert_event(&event);

	values[0] = CStringGetTextDatum(m->version);
	values[1] = JsonbPGetDatum(error);
	values[2] = BoolGetDatum(direction == DIRECTION_UP);
	migrate_spi_run_as_owner("UPDATE migrate.migration SET last_error = $2,"
						 " state = CASE WHEN $3 THEN 'failed' ELSE state END"
						 " WHERE version OPERATOR(pg_catalog.=) $1",
						 3, argtypes, values, NULL, SPI_OK_UPDATE);
	migrate_work_end(keep);
}

/*
 * A transactional migration, in a transaction of its own.  Returns the
 * error, or NULL.  The engine has recorded a failure of the script
 * durably already; a failure at commit is recorded here.
 */
static ErrorData *
run_transactional(MigrationInfo *m, Direction direction, const RunContext *context,
				  MigrateOutcome *outcome, MemoryContext keep)
{
	ErrorData  *edata = NULL;
	volatile bool committing = false;
	TimestampTz started = GetCurrentTimestamp();

	PG_TRY();
	{
		migrate_work_begin(MIGRATE_WORK_SPI);
		migrate_run_plan(list_make1(m), direction, context, outcome);
		committing = true;

		/*
		 * Deferred triggers and other commit-time code of the migration run
		 * now: they may not change migrations either (a deferred register()
		 * could swap the script of a migration planned to run as another
		 * role).
		 */
		migrate_set_running(true);
		migrate_work_end(keep);
		migrate_set_running(false);
	}
	PG_CATCH();
	{
		migrate_set_running(false);
		MemoryContextSwitchTo(keep);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(keep);
	}
	PG_END_TRY();

	if (edata != NULL && committing)
	{
		if (outcome)
			outcome->done = false;
		record_commit_failure(m, direction, context, edata, started, keep);
	}
	return edata;
}

/*
 * Set up the run state of a non-transactional migration in "keep": load
 * and split its script, and mark it dirty at the first statement it runs.
 */
static void
prepare_nontransactional(RunState *state, MigrationInfo *m, Direction direction,
						 const RunContext *context, int first, MemoryContext keep)
{
	char	   *script;

	migrate_work_begin(MIGRATE_WORK_SPI);
	MemoryContextSwitchTo(keep);
	migrate_run_state_init(state, direction, context);	/* history names the role */
	state->current = m;
	state->number = context->first;
	state->started_at = GetCurrentTimestamp();

	script = migrate_load_script(m->version, direction == DIRECTION_DOWN);
	MemoryContextSwitchTo(keep);
	state->script = migrate_parse_script(pstrdup(script),
										 psprintf("%s script of migration \"%s\"",
												  migrate_script_name(direction), m->version));
	migrate_mark_dirty(m->version, migrate_script_name(direction), first, NULL);
	migrate_work_end(keep);
}

/* note, durably, which statement a non-transactional migration reached */
static void
mark_reached(const RunState *state, MemoryContext keep)
{
	migrate_work_begin(MIGRATE_WORK_SPI);
	migrate_mark_dirty(state->current->version, migrate_script_name(state->direction),
					   state->statement->number, NULL);
	migrate_work_end(keep);
}

/*
 * A statement of a non-transactional migration failed: clean up what it
 * left, keep the migration dirty with the error, add the history row, and
 * warn about any INVALID index that is still there.
 */
static void
record_nontransactional_failure(RunState *state, ErrorData *edata, const char *sql,
								List *before, MemoryContext keep)
{
	List	   *leftovers = migrate_leftover_indexes(sql, before);
	Jsonb	   *error;
	MigrationEvent event;
	ListCell   *lc;

	migrate_drop_leftovers(sql, leftovers);
	error = migrate_error_json(state, edata, leftovers ? migrate_leftovers_json(leftovers) : NULL);

	migrate_work_begin(MIGRATE_WORK_SPI);
	migrate_mark_dirty(state->current->version, migrate_script_name(state->direction),
					   state->statement->number, error);
	event = migrate_failure_event(state, error);
	migrate_insert_event(&event);
	migrate_work_end(keep);

	foreach(lc, leftovers)
	{
		LeftoverIndex *leftover = lfirst(lc);

		if (leftover->dropped)
			ereport(NOTICE,
					(errmsg("dropped index %s, left INVALID by the failed statement", leftover->name)));
		else
			ereport(WARNING,
					(errmsg("index %s was left INVALID by the failed statement", leftover->name),
					 errhint("Drop it with: %s", leftover->command)));
	}
}

/*
 * A migration that cannot run in a transaction block: statement by
 * statement, at top level.  Returns the error, or NULL.
 */
static ErrorData *
run_nontransactional(MigrationInfo *m, Direction direction, const RunContext *context,
					 MigrateOutcome *outcome, MemoryContext keep)
{
	RunState   *state = palloc0(sizeof(RunState));
	int			first = m->resume_statement > 0 ? m->resume_statement : 1;
	ErrorData  *edata = NULL;

	migrate_lock_nontransactional_begin();	/* no waiting for the lock now */
	prepare_nontransactional(state, m, direction, context, first, keep);
	migrate_progress_start(direction == DIRECTION_UP ? "apply" : "revert", m,
						   state->number, context->total,
						   state->script->nstatements, context->schedule);

	for (int i = first - 1; i < state->script->nstatements && edata == NULL; i++)
	{
		char	   *sql;
		List	   *before;
		ErrorContextCallback errcallback;
		bool		resumed = i == first - 1 && m->resume_statement > 0;

		state->statement = &state->script->statements[i];
		sql = migrate_statement_text(state->script, state->statement);
		migrate_progress_statement(state->statement->number, sql);
		if (i > first - 1)
			mark_reached(state, keep);
		before = migrate_invalid_indexes_before(sql);

		PG_TRY();
		{
			/* after a kill, the statement may be half done, or done */
			if (!(resumed && migrate_prepare_resumed_statement(sql)))
			{
				SetCurrentStatementStartTimestamp();
				StartTransactionCommand();
				migrate_push_run_context(state, &errcallback);
				migrate_set_running(true);
				migrate_exec_toplevel(sql);
				error_context_stack = errcallback.previous;
				/* its commit-time code may not change migrations either */
				CommitTransactionCommand();
				migrate_set_running(false);
			}
		}
		PG_CATCH();
		{
			migrate_set_running(false);
			MemoryContextSwitchTo(keep);
			edata = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(keep);

		if (edata != NULL)
			record_nontransactional_failure(state, edata, sql, before, keep);
	}

	if (edata == NULL)
	{
		state->statement = NULL;
		migrate_work_begin(MIGRATE_WORK_SPI);
		migrate_record_success(state, migrate_usecs_since(state->started_at), outcome);
		migrate_work_end(keep);
	}
	migrate_progress_end();
	migrate_lock_nontransactional_end();
	return edata;
}

/*
 * Run the given migrations (versions, in order) one transaction each.
 * Call outside a transaction, with the migrate lock held for the session.
 */
RunnerResult
migrate_runner_run(List *versions, Direction direction, const RunContext *context,
				   MigrateOutcome *outcomes, TimestampTz window_end)
{
	MemoryContext keep = AllocSetContextCreate(CurrentMemoryContext, "migrate runner",
											   ALLOCSET_DEFAULT_SIZES);
	MemoryContext caller = MemoryContextSwitchTo(keep);
	RunnerResult result = {RUNNER_DONE, 0, NULL, NULL};
	ListCell   *lc;

	foreach(lc, versions)
	{
		const char *version = lfirst(lc);
		int			index = foreach_current_index(lc);
		RunContext *one = palloc(sizeof(RunContext));
		MigrationInfo *m = load_if_still_needed(version, direction, keep);
		ErrorData  *edata;

		if (m == NULL)
			continue;
		if (would_overrun(m, window_end))
		{
			result.stop = RUNNER_WINDOW_CLOSING;
			result.stopped_at = version;
			break;
		}

		*one = *context;
		one->first = context->first + index;
		if (direction == DIRECTION_UP ? m->transactional : m->down_transactional)
			edata = run_transactional(m, direction, one, outcomes ? &outcomes[index] : NULL, keep);
		else
			edata = run_nontransactional(m, direction, one, outcomes ? &outcomes[index] : NULL, keep);
		if (session_reset != NULL)
			session_reset();

		if (edata != NULL)
		{
			result.stop = RUNNER_FAILED;
			result.error = edata;
			result.stopped_at = version;
			break;
		}
		result.done++;
	}
	MemoryContextSwitchTo(caller);
	return result;
}
