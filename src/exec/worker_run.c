/*-------------------------------------------------------------------------
 *
 * worker_run.c
 *	  The worker path: running migrations from a background worker, outside
 *	  any transaction block, one transaction per migration.
 *
 * Used by the worker of a scheduled migration (bgw/schedworker.c) and by
 * the apply worker that runs a plan handed over by migrate.apply()
 * (handoff.c).  The in-transaction path, where apply() runs a whole plan
 * in the caller's transaction, is engine.c; this file reuses its pieces.
 * It is entered outside any transaction and runs each migration of the
 * list in turn:
 *
 *  - a transactional migration runs in ONE transaction of its own: the
 *	  re-read of its row (is it still pending?), its statements through
 *	  the same engine as apply() (engine.c), its bookkeeping (row marked
 *	  applied, history row, progress) and its commit.  That transaction is
 *	  the migration: it commits with its bookkeeping or not at all, so a
 *	  failure stops the run with everything before it kept;
 *  - a migration that cannot run in a transaction block runs statement by
 *	  statement at top level (topstmt.c), each in its own transaction
 *	  command.  It cannot be atomic, so its row is marked dirty with the
 *	  statement number before each statement (the first mark in the
 *	  transaction that re-read it); a crash or failure leaves it dirty, and
 *	  apply()/revert() refuse to go past it until resolve().  A failed
 *	  CREATE INDEX CONCURRENTLY has its INVALID index dropped, or reported
 *	  with the command to drop it (cleanup.c).  After resolve(..., 'retry')
 *	  the run resumes at the statement it stopped at, which cleanup.c first
 *	  checks for what a kill left: the INVALID index of a killed concurrent
 *	  build is dropped, and a build or drop that had finished is not run
 *	  again.
 *
 * Lock timeouts (lockretry.c): a transactional migration gets them, and
 * its retries, from the engine.  A non-transactional one gets its
 * lock_timeout and statement_timeout set at session level before its
 * first statement (its own SETs come later and win; the reset below
 * clears them), and a statement of it that runs into lock_timeout is
 * tried again in a new transaction, after the same backoff, up to the
 * environment's lock_retries, once what it left (an INVALID index) is
 * dropped.  Only when the retries run out is the migration marked dirty
 * with the error.
 *
 * A non-transactional migration's SETs last across its statements, which
 * commit one by one; after such a migration the session gets its settings
 * back (the "session_reset" callback; the apply worker restores the
 * caller's), so they do not reach the next migration.  A transactional
 * migration needs no reset, which saves two transactions per migration:
 * the engine scopes its script's SETs to the script
 * (migrate_engine_run_script), and the whole transaction rolls back on
 * failure.  Its commit-time code cannot leave settings behind either: the
 * engine fires its deferred triggers inside the script's settings scope,
 * before the bookkeeping and the commit (fire_deferred_triggers), so a
 * set_config(..., false) in one of them is undone with the script's SETs.
 *
 * Before starting a migration the worker path checks, in the migration's
 * own transaction, that it is still pending (or still applied, for a
 * revert): another session may have done it in the meantime.  With a
 * window end, it never starts a migration whose @estimated-duration would
 * run past it.
 *
 * IDENTIFICATION
 *	  src/exec/worker_run.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "exec/backup.h"
#include "exec/cleanup.h"
#include "exec/drift.h"
#include "exec/engine.h"
#include "exec/lockretry.h"
#include "exec/message.h"
#include "exec/topstmt.h"
#include "exec/worker_run.h"
#include "ipc/migrating.h"
#include "ipc/progress.h"
#include "ipc/xact.h"
#include "model/json.h"
#include "store/environment.h"
#include "store/lock.h"
#include "store/spi.h"

/* longest statement text in the NOTICE of a retry */
#define RETRY_TEXT_LEN 80

/*
 * The migration, copied into "keep", if it still needs to run in this
 * direction; NULL if somebody else has done it meanwhile (or it is dirty).
 * Runs in the migration's own transaction, which the caller has begun
 * (migrate_xact_begin_work), so the check and the run see the same row.
 */
static MigrateMigration *
load_if_still_needed(const char *version, MigrateDirection direction, MemoryContext keep)
{
	MigrateMigration *m = migrate_catalog_load_migration(version);
	MigrateMigration *copy = NULL;

	if (m != NULL && strcmp(m->state, "dirty") != 0 &&
		migrate_catalog_is_applied(m) == (direction == DIRECTION_DOWN))
	{
		MemoryContext old = MemoryContextSwitchTo(keep);

		copy = migrate_catalog_copy_migration(m);
		MemoryContextSwitchTo(old);
	}
	return copy;
}

/* would the migration, started now, still run at the window's end? */
static bool
would_overrun(const MigrateMigration *m, TimestampTz window_end)
{
	int64		estimate;

	if (window_end == 0 || m->estimated_duration == NULL)
		return false;
	estimate = m->estimated_duration->time +
		(int64) m->estimated_duration->day * USECS_PER_DAY;
	return estimate > window_end - GetCurrentTimestamp();
}

/*
 * In a PG_CATCH block around a migration's own work: the error, copied
 * into "keep", and the transaction aborted, so that the run can record the
 * failure in a transaction of its own and stop.
 */
static ErrorData *
abort_with_error(MemoryContext keep)
{
	ErrorData  *edata;

	migrate_lock_set_running(false);
	migrate_migrating_set(false);
	edata = migrate_xact_abort_work(keep);
	return edata;
}

/*
 * A transactional migration that failed at commit (a deferred constraint
 * or trigger, a WITH HOLD cursor): the engine saw it succeed, so nothing
 * recorded the failure.  Record it now, in a transaction of its own, as
 * the engine would: a history row, and the migration failed (an up
 * script) with the error, so that a scheduled run does not retry it.
 */
static void
record_commit_failure(MigrateMigration *m, MigrateDirection direction, const MigrateRunInfo *info,
					  const ErrorData *edata, TimestampTz started, MemoryContext keep)
{
	MigrateRunState state;
	MigrateEvent event;
	MigrateJsonBuilder at = MIGRATE_JSON_BUILDER;
	Jsonb	   *error;
	Oid			argtypes[3] = {TEXTOID, JSONBOID, BOOLOID};
	Datum		values[3];

	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	migrate_engine_init_state(&state, direction, info);
	state.current = m;
	state.started_at = started;
	migrate_json_begin_object(&at, NULL);
	migrate_json_add_text(&at, "at", "commit");
	migrate_json_end(&at);
	error = migrate_engine_error_json(&state, edata, migrate_json_finish(&at));
	event = migrate_engine_failure_event(&state, error);
	migrate_catalog_insert_event(&event);

	values[0] = CStringGetTextDatum(m->version);
	values[1] = JsonbPGetDatum(error);
	values[2] = BoolGetDatum(direction == DIRECTION_UP);
	migrate_spi_run_as_owner("UPDATE migrate.migration SET last_error = $2,"
							 " state = CASE WHEN $3 THEN 'failed' ELSE state END"
							 " WHERE version OPERATOR(pg_catalog.=) $1",
							 3, argtypes, values, NULL, SPI_OK_UPDATE);
	migrate_xact_end_work(keep);
}

/*
 * A transactional migration, in the transaction of its own that the
 * caller has begun: its statements and its bookkeeping (engine.c) and the
 * commit, so that one commit makes the migration and its record durable
 * together.  Returns the error, or NULL.  The engine has recorded a
 * failure of the script durably already; a failure at commit is recorded
 * here.
 */
static ErrorData *
run_transactional(MigrateMigration *m, MigrateDirection direction, const MigrateRunInfo *info,
				  MigrateOutcome *outcome, MemoryContext keep)
{
	ErrorData  *edata = NULL;
	volatile bool committing = false;
	TimestampTz started = GetCurrentTimestamp();

	PG_TRY();
	{
		migrate_engine_run_plan(list_make1(m), direction, info, outcome);
		committing = true;

		/*
		 * Deferred triggers and other commit-time code of the migration run
		 * now: they may not change migrations either (a deferred register()
		 * could swap the script of a migration planned to run as another
		 * role).
		 */
		migrate_lock_set_running(true);
		migrate_migrating_set(true);
		migrate_xact_end_work(keep);
		migrate_lock_set_running(false);
		migrate_migrating_set(false);
	}
	PG_CATCH();
	{
		edata = abort_with_error(keep);
	}
	PG_END_TRY();

	if (edata != NULL && committing)
	{
		if (outcome)
		{
			outcome->done = false;
			outcome->failed = true;
			outcome->failed_statement = 0;
		}
		record_commit_failure(m, direction, info, edata, started, keep);
	}
	return edata;
}

/*
 * Set up the run state of a non-transactional migration in "keep": load
 * and split its script, set its timeouts for the session (the caller's
 * "session_reset" clears them after it), and mark it dirty at the first
 * statement it runs.  Runs in the transaction that re-read the migration,
 * and commits it.
 */
static void
prepare_nontransactional(MigrateRunState *state, MigrateMigration *m, MigrateDirection direction,
						 const MigrateRunInfo *info, int first, MemoryContext keep)
{
	char	   *script;

	MemoryContextSwitchTo(keep);
	migrate_engine_init_state(state, direction, info);	/* history names the role */
	state->current = m;
	state->number = info->first;
	state->started_at = GetCurrentTimestamp();

	script = migrate_catalog_load_script(m->version, direction == DIRECTION_DOWN);
	MemoryContextSwitchTo(keep);
	state->script = migrate_parse_script(pstrdup(script),
										 psprintf("%s script of migration \"%s\"",
												  migrate_engine_script_name(direction), m->version));
	migrate_lockretry_from_environment(&state->policy);
	migrate_lockretry_from_header(&state->policy, state->script->script);
	migrate_lockretry_set_timeouts(&state->policy, GUC_ACTION_SET);
	migrate_catalog_mark_dirty(m->version, migrate_engine_script_name(direction), first, NULL);
	migrate_xact_end_work(keep);
}

/* note, durably, which statement a non-transactional migration reached */
static void
mark_reached(const MigrateRunState *state, MemoryContext keep)
{
	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	migrate_catalog_mark_dirty(state->current->version, migrate_engine_script_name(state->direction),
							   state->statement->number, NULL);
	migrate_xact_end_work(keep);
}

/*
 * A statement of a non-transactional migration failed: clean up what it
 * left, keep the migration dirty with the error, add the history row,
 * record the schema, and warn about any INVALID index that is still there.
 * The statements before the failed one committed: what they did is
 * migrate's, not drift, and the record says so (keeping the drift that
 * existed before the migration began, drift_before), so that the retry
 * is not refused under drift_blocks_apply for migrate's own DDL.
 */
static void
record_nontransactional_failure(MigrateRunState *state, ErrorData *edata, const char *sql,
								List *before, const char *drift_before, MemoryContext keep)
{
	List	   *leftovers = migrate_cleanup_find_leftovers(sql, before);
	Jsonb	   *error;
	MigrateEvent event;
	ListCell   *lc;

	/* migrate's own DDL, not drift (ipc/migrating.c) */
	migrate_migrating_set(true);
	migrate_cleanup_drop_leftovers(sql, leftovers);
	migrate_migrating_set(false);
	error = migrate_engine_error_json(state, edata, leftovers ? migrate_cleanup_leftovers_json(leftovers) : NULL);

	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	migrate_catalog_mark_dirty(state->current->version, migrate_engine_script_name(state->direction),
							   state->statement->number, error);
	event = migrate_engine_failure_event(state, error);
	migrate_catalog_insert_event(&event);
	migrate_drift_record_after_run(state->direction, drift_before);
	migrate_xact_end_work(keep);

	foreach(lc, leftovers)
	{
		MigrateLeftoverIndex *leftover = lfirst(lc);

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
 * Run the current statement of a non-transactional migration at top level,
 * in a transaction command of its own, under the migration's statement
 * timeout.  Returns the error, or NULL; on error the transaction is
 * aborted.
 */
static ErrorData *
run_top_statement(MigrateRunState *state, const char *sql, MemoryContext keep)
{
	ErrorData  *edata = NULL;
	ErrorContextCallback errcallback;
	MigrateStatementTimer timer = {0};

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		migrate_engine_push_errcallback(state, &errcallback);
		migrate_lock_set_running(true);
		migrate_migrating_set(true);
		/* the backup's copy holds the statement's lock: timed with it */
		migrate_lockretry_timer_start(&timer, &state->policy);
		migrate_backup_before_statement(state);
		migrate_topstmt_exec(sql);
		migrate_lockretry_timer_stop(&timer);
		error_context_stack = errcallback.previous;
		/* its commit-time code may not change migrations either */
		CommitTransactionCommand();
		migrate_lock_set_running(false);
		migrate_migrating_set(false);
	}
	PG_CATCH();
	{
		migrate_lockretry_timer_stop(&timer);
		edata = abort_with_error(keep);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(keep);
	return edata;
}

/*
 * A statement ran into lock_timeout and may be tried again: note the
 * retry, drop what it left (the INVALID index of CREATE INDEX
 * CONCURRENTLY), say so and sleep.  The migration stays dirty at this
 * statement meanwhile, as while it runs.
 */
static void
prepare_retry(MigrateRunState *state, const char *sql, List *before, int attempt,
			  TimestampTz attempt_start, MemoryContext keep)
{
	MigrateLockRetry *retry;
	char	   *text = pstrdup(sql);

	retry = migrate_lockretry_plan(&state->policy, attempt, state->statement->number,
								   state->statement->line, attempt_start);
	state->retries = lappend(state->retries, retry);
	migrate_migrating_set(true);
	migrate_cleanup_drop_leftovers(sql, migrate_cleanup_find_leftovers(sql, before));
	migrate_migrating_set(false);
	MemoryContextSwitchTo(keep);
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	if (strlen(text) > RETRY_TEXT_LEN)
		text = psprintf("%.*s...", pg_mbcliplen(text, strlen(text), RETRY_TEXT_LEN), text);
	migrate_lockretry_notice(retry, state->current->version, &state->policy, text, false);
	migrate_lockretry_sleep(retry->backoff_ms);
}

/*
 * A migration that cannot run in a transaction block: statement by
 * statement, at top level.  Entered in the transaction that re-read the
 * migration (prepare_nontransactional commits it).  Returns the error, or
 * NULL.
 */
static ErrorData *
run_nontransactional(MigrateMigration *m, MigrateDirection direction, const MigrateRunInfo *info,
					 MigrateOutcome *outcome, const char *drift_before, MemoryContext keep)
{
	MigrateRunState *state = MemoryContextAllocZero(keep, sizeof(MigrateRunState));
	int			first = m->resume_statement > 0 ? m->resume_statement : 1;
	ErrorData  *edata = NULL;

	migrate_lock_nontransactional_begin();	/* no waiting for the lock now */
	prepare_nontransactional(state, m, direction, info, first, keep);
	/* it is dirty from here on: what the caller says after a cancel */
	if (outcome)
	{
		outcome->attempted = true;
		outcome->left_dirty = true;
	}
	migrate_message_starting(direction, info, state->number, m, m->resume_statement);
	migrate_progress_start(direction == DIRECTION_UP ? "apply" : "revert", m,
						   state->number, info->total,
						   state->script->nstatements, info->schedule);

	for (int i = first - 1; i < state->script->nstatements && edata == NULL; i++)
	{
		char	   *sql;
		List	   *before;
		bool		resumed = i == first - 1 && m->resume_statement > 0;
		bool		done_before;

		state->statement = &state->script->statements[i];
		if (outcome)
			outcome->running_statement = state->statement->number;
		sql = migrate_parse_statement_text(state->script, state->statement);
		migrate_progress_statement(state->statement->number, sql);
		if (i > first - 1)
			mark_reached(state, keep);
		before = migrate_cleanup_invalid_indexes(sql);

		/* after a kill, the statement may be half done, or done */
		migrate_migrating_set(resumed);
		done_before = resumed && migrate_cleanup_prepare_resume(sql);
		migrate_migrating_set(false);
		if (!done_before)
		{
			for (int attempt = 1;; attempt++)
			{
				TimestampTz attempt_start = GetCurrentTimestamp();

				edata = run_top_statement(state, sql, keep);
				if (edata == NULL || !migrate_lockretry_may_retry(&state->policy, edata, attempt))
					break;
				prepare_retry(state, sql, before, attempt, attempt_start, keep);
				FreeErrorData(edata);
				edata = NULL;
			}
			if (edata != NULL)
				migrate_lockretry_explain(edata, &state->policy, state->retries);
		}

		if (edata != NULL)
		{
			record_nontransactional_failure(state, edata, sql, before, drift_before, keep);
			if (outcome)
			{
				outcome->failed = true;
				outcome->failed_statement = state->statement->number;
				outcome->left_dirty = true;
			}
		}
	}

	if (edata == NULL)
	{
		state->statement = NULL;
		migrate_xact_begin_work(MIGRATE_WORK_SPI);
		migrate_engine_record_success(state, migrate_engine_usecs_since(state->started_at), outcome);
		migrate_drift_record_after_run(direction, drift_before);
		migrate_xact_end_work(keep);
		if (outcome)
			outcome->left_dirty = false;
	}
	migrate_progress_end();
	migrate_lock_nontransactional_end();
	return edata;
}

/* how one migration of the list went */
typedef enum StepResult
{
	STEP_RAN,					/* it ran to the end */
	STEP_NOT_NEEDED,			/* somebody else did it meanwhile */
	STEP_WINDOW_CLOSING,		/* it would overrun the window: not started */
	STEP_FAILED					/* it failed: see the error */
} StepResult;

/*
 * One migration of the list: begin its transaction, re-read its row there,
 * and run it by the path its kind needs.  A non-transactional migration
 * leaves session state behind (its SETs outlive its statements), which
 * "session_reset", if given, clears.  A scheduled run, whose worker leaves
 * after one migration and has nobody to sum up for, says in the server
 * log that the migration completed.
 */
static StepResult
run_step(const char *version, MigrateDirection direction, const MigrateRunInfo *info,
		 MigrateOutcome *outcome, TimestampTz window_end, void (*session_reset) (void),
		 MemoryContext keep, ErrorData **edata)
{
	MigrateMigration *m;
	MigrateOutcome own = {0};
	TimestampTz started = GetCurrentTimestamp();

	/* whether it was skipped, for the line of a scheduled run */
	if (outcome == NULL)
		outcome = &own;
	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	m = load_if_still_needed(version, direction, keep);
	if (m == NULL || would_overrun(m, window_end))
	{
		migrate_xact_end_work(keep);
		return m == NULL ? STEP_NOT_NEEDED : STEP_WINDOW_CLOSING;
	}
	/* one meant for another environment runs nothing: the engine skips it */
	if (direction == DIRECTION_UP ? (m->transactional ||
									 !migrate_environment_allows(migrate_environment_current(), m))
		: m->down_transactional)
		*edata = run_transactional(m, direction, info, outcome, keep);
	else
	{
		/* drift that exists now is kept in the record after it */
		char	   *before = migrate_drift_before_run();

		if (before != NULL)
			before = MemoryContextStrdup(keep, before);
		*edata = run_nontransactional(m, direction, info, outcome, before, keep);
		if (session_reset != NULL)
			session_reset();
	}
	if (*edata == NULL && outcome->done && info->schedule != NULL)
		migrate_message_completed(direction, info, m, started);
	return *edata != NULL ? STEP_FAILED : STEP_RAN;
}

/*
 * Run the given migrations (versions, in order) one transaction each, and
 * say how far it got.  Call outside a transaction, with the migrate lock
 * held for the session.  "outcomes", if not NULL, has one entry per
 * version; "window_end", if not 0, is when no migration may still run;
 * "session_reset", if not NULL, gives the session its settings back after
 * a non-transactional migration.
 */
MigrateWorkerResult
migrate_worker_run_plan(List *versions, MigrateDirection direction, const MigrateRunInfo *info,
						MigrateOutcome *outcomes, TimestampTz window_end,
						void (*session_reset) (void))
{
	MemoryContext keep = AllocSetContextCreate(CurrentMemoryContext, "migrate worker run",
											   ALLOCSET_DEFAULT_SIZES);
	MemoryContext caller = MemoryContextSwitchTo(keep);
	MigrateWorkerResult result = {MIGRATE_WORKER_DONE, 0, NULL, NULL};
	ListCell   *lc;

	foreach(lc, versions)
	{
		const char *version = lfirst(lc);
		int			index = foreach_current_index(lc);
		MigrateRunInfo *one = palloc(sizeof(MigrateRunInfo));
		ErrorData  *edata = NULL;
		StepResult	step;

		*one = *info;
		one->first = info->first + index;
		step = run_step(version, direction, one, outcomes ? &outcomes[index] : NULL,
						window_end, session_reset, keep, &edata);
		if (step == STEP_NOT_NEEDED)
			continue;
		if (step == STEP_WINDOW_CLOSING || step == STEP_FAILED)
		{
			result.stop = step == STEP_FAILED ?
				MIGRATE_WORKER_FAILED : MIGRATE_WORKER_WINDOW_CLOSING;
			result.error = edata;
			result.stopped_at = version;
			break;
		}
		result.done++;
	}
	MemoryContextSwitchTo(caller);
	return result;
}
