/*-------------------------------------------------------------------------
 *
 * engine.c
 *	  The in-transaction path: running transactional migrations in the
 *	  caller's transaction, all or nothing; and the pieces of a run that
 *	  the worker path and rehearsals share with it.
 *
 * migrate_engine_run_plan() runs a plan (see plan.c) of migrations in the current
 * transaction.  apply() and revert() call it for a plan without a
 * non-transactional migration, and for every dry run; the worker path
 * (worker_run.c) calls it for each transactional migration, one plan of
 * one migration in a transaction of its own:
 *
 *	 1. it opens one subtransaction for the whole plan;
 *	 2. for each migration it splits the script with PostgreSQL's parser,
 *		executes each statement through SPI as the current user (never as
 *		the owner), then updates the migration's row and adds a history row
 *		(as the owner, see catalog.c);
 *	 3. on success it releases the subtransaction: the caller's COMMIT
 *		makes everything durable at once.
 *
 * Each migration runs with the lock_timeout and statement_timeout of its
 * environment or header (lockretry.c).  Where the environment allows lock
 * retries, each migration runs in a subtransaction of its own inside the
 * plan's; when a statement of it waits longer than lock_timeout, that
 * subtransaction is rolled back, which releases every lock the migration
 * took (the locks of earlier migrations of the plan stay with the plan's
 * subtransaction), and it is tried again after a backoff, up to
 * lock_retries (run_with_retries).  Without retries a migration needs no
 * subtransaction of its own (a failure rolls back the plan's anyway), and
 * gets none: a subtransaction per migration costs a transaction ID lock
 * each, held to the end of the caller's transaction, and more than 64 of
 * them overflow the snapshot's cache of subtransactions, which slows down
 * every other session's visibility checks while the transaction lasts.
 *
 * On failure the subtransaction is rolled back, which undoes every
 * migration of the plan and cleans up after the error; then the failure is
 * recorded by a worker that commits on its own (durable.c), and the
 * original error is re-thrown so that the caller's transaction aborts and
 * psql with ON_ERROR_STOP stops.  An error callback (errcallback) names the
 * migration, the statement and its line on every error raised while a
 * statement runs.
 *
 * Each migration runs in its own SPI connection, whose memory is freed
 * when it finishes, so a long run does not accumulate memory.
 *
 * The shared pieces: the run state and its error callback, loading and
 * running a script (migrate_engine_run_script, which rehearse.c uses with
 * its own statement executor), verify and precondition checks, and the
 * bookkeeping of a success or a failure (row, history, progress).
 *
 * IDENTIFICATION
 *	  src/exec/engine.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "store/durable.h"
#include "exec/backup.h"
#include "exec/drift.h"
#include "exec/engine.h"
#include "exec/guard.h"
#include "exec/lockretry.h"
#include "exec/skip.h"
#include "exec/message.h"
#include "errors.h"
#include "guc.h"
#include "store/lock.h"
#include "ipc/migrating.h"
#include "ipc/progress.h"
#include "ipc/xact.h"
#include "model/json.h"

/* longest statement text shown in a CONTEXT line */
#define CONTEXT_TEXT_LEN 80

/* "up" or "down": which script runs, for messages and history */
const char *
migrate_engine_script_name(MigrateDirection direction)
{
	return direction == DIRECTION_UP ? "up" : "down";
}

/* microseconds since "start", for durations in history */
int64
migrate_engine_usecs_since(TimestampTz start)
{
	return GetCurrentTimestamp() - start;
}

/*
 * Start the state of a run: who runs it ("info", or a plain interactive
 * call when NULL) and the role that history names.
 */
void
migrate_engine_init_state(MigrateRunState *state, MigrateDirection direction, const MigrateRunInfo *info)
{
	static const MigrateRunInfo interactive = {NULL, NULL, 1, 0, false};
	static const MigrateLockPolicy no_policy = MIGRATE_LOCK_POLICY_NONE;

	memset(state, 0, sizeof(MigrateRunState));
	state->policy = no_policy;
	state->attempt = 1;
	state->direction = direction;
	state->info = info ? info : &interactive;
	state->role = migrate_catalog_current_role();
}

/* line of an error position inside the current statement, or its first line */
static int
error_line(const MigrateRunState *state, int internalpos)
{
	const MigrateStatement *stmt = state->statement;
	const char *text = state->script->script + stmt->start;
	int			offset = 0;

	if (internalpos <= 0)
		return stmt->line;
	for (int i = 1; i < internalpos && offset < stmt->end - stmt->start; i++)
		offset += pg_mblen(text + offset);
	return stmt->line + migrate_parse_line_at(text, offset) - 1;
}

/*
 * The statement on one line, shortened for a CONTEXT line, in a copy the
 * caller frees: the error callback runs for every NOTICE a migration
 * raises, in ErrorContext, which only an ERROR resets.
 */
static char *
short_statement_text(const MigrateRunState *state)
{
	char	   *text = migrate_parse_statement_text(state->script, state->statement);
	int			len;

	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	len = strlen(text);
	if (len > CONTEXT_TEXT_LEN)
	{
		char	   *shortened;

		len = pg_mbcliplen(text, len, CONTEXT_TEXT_LEN);
		shortened = psprintf("%.*s...", len, text);
		pfree(text);
		return shortened;
	}
	return text;
}

/*
 * The CONTEXT line naming the script and migration and, while a statement
 * runs, the statement, its line (that of the error position "internalpos"
 * in it, if any) and its text.
 */
static char *
context_line(const MigrateRunState *state, int internalpos)
{
	char	   *text;
	char	   *line;

	if (state->statement == NULL)
		return psprintf("%s script of migration \"%s\" (\"%s\")",
						migrate_engine_script_name(state->direction), state->current->version,
						state->current->name);
	text = short_statement_text(state);
	line = psprintf("%s script of migration \"%s\" (\"%s\"), statement %d at line %d: %s",
					migrate_engine_script_name(state->direction), state->current->version,
					state->current->name, state->statement->number,
					error_line(state, internalpos), text);
	pfree(text);
	return line;
}

/*
 * The error callback of a run: a CONTEXT line naming the script and
 * migration and, while a statement runs, the statement, its line and its
 * text.  Nothing between migrations.  It runs in ErrorContext for every
 * NOTICE a migration raises too, and ErrorContext is reset by an ERROR
 * only, so it frees what it formats.  It keeps the error position, from
 * which a failed run builds its line again (describe_plan_failure).
 */
static void
run_error_callback(void *arg)
{
	MigrateRunState *state = (MigrateRunState *) arg;
	char	   *line;

	if (state->current == NULL)
		return;
	state->context_internalpos = getinternalerrposition();
	line = context_line(state, state->context_internalpos);
	errcontext("%s", line);
	pfree(line);
}

/*
 * Push the error callback that adds the CONTEXT line naming the migration
 * and statement; the caller pops it (error_context_stack =
 * errcallback->previous).
 */
void
migrate_engine_push_errcallback(MigrateRunState *state, ErrorContextCallback *errcallback)
{
	errcallback->callback = run_error_callback;
	errcallback->arg = state;
	errcallback->previous = error_context_stack;
	error_context_stack = errcallback;
}

/*
 * Load the current migration's script for this direction and split it
 * with PostgreSQL's parser, in the current memory context.
 */
MigrateParsedScript *
migrate_engine_load_parsed(MigrateRunState *state)
{
	MigrateMigration *m = state->current;
	char	   *script = migrate_catalog_load_script(m->version, state->direction == DIRECTION_DOWN);

	return migrate_parse_script(script,
								psprintf("%s script of migration \"%s\"",
										 migrate_engine_script_name(state->direction), m->version));
}

/*
 * What history says about who ran it and, for a success, the attempts
 * that ran into lock_timeout before ("retries"); NULL for a plain call
 * without retries.  A failure keeps its retries in its error (the
 * failure record, see migrate_engine_error_json).
 */
static Jsonb *
run_detail(const MigrateRunInfo *info, List *retries)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;
	bool		by = info != NULL && (info->schedule != NULL || info->worker != NULL);

	if (!by && retries == NIL)
		return NULL;
	migrate_json_begin_object(&b, NULL);
	if (by)
		migrate_json_add_text(&b, "by", info->worker ? info->worker : "scheduler");
	if (by && info->schedule)
		migrate_json_add_text(&b, "schedule", info->schedule);
	if (retries != NIL)
		migrate_lockretry_add_json(&b, retries);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}

/*
 * Record a successful step: the migration's row, a history row and the
 * outcome for the result row.  No message: the run announced the
 * migration before it ran (message.c) and sums up at its end.
 */
void
migrate_engine_record_success(MigrateRunState *state, int64 duration_us, MigrateOutcome *outcome)
{
	MigrateMigration *m = state->current;
	MigrateEvent event = {0};

	if (state->direction == DIRECTION_UP)
		migrate_catalog_mark_applied(m->version, state->started_at, duration_us, state->role);
	else
		migrate_catalog_mark_reverted(m->version);

	event.action = state->direction == DIRECTION_UP ? "apply" : "revert";
	event.version = m->version;
	event.name = m->name;
	event.outcome = "success";
	event.role = state->role;
	event.started_at = state->started_at;
	event.duration_us = duration_us;
	event.checksum = state->direction == DIRECTION_UP ? m->checksum : m->down_checksum;
	event.detail = migrate_guard_event_detail(state, run_detail(state->info, state->retries));
	migrate_catalog_insert_event(&event);

	if (outcome)
	{
		outcome->done = true;
		outcome->duration_us = duration_us;
		outcome->statements = state->script ? state->script->nstatements : m->statements;
	}
}

/*
 * The failed attempt, for migrate.event.error and last_error: the error,
 * where in the script it happened, and the earlier attempts that ran into
 * lock_timeout ("retries").  "extra" is an object whose keys are added,
 * or NULL.
 */
Jsonb *
migrate_engine_error_json(const MigrateRunState *state, const ErrorData *edata, const Jsonb *extra)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&b, NULL);
	migrate_json_add_error(&b, edata->sqlerrcode, edata->message, edata->detail, edata->hint);
	migrate_json_add_text(&b, "script", migrate_engine_script_name(state->direction));
	if (state->statement)
	{
		migrate_json_add_int(&b, "statement", state->statement->number);
		migrate_json_add_int(&b, "line", error_line(state, edata->internalpos));
		migrate_json_add_text(&b, "statement_text",
							  migrate_parse_statement_text(state->script, state->statement));
	}
	if (extra)
		migrate_json_add_fields(&b, extra);
	if (state->retries != NIL)
		migrate_lockretry_add_json(&b, state->retries);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}

/* the history row of a failed attempt */
MigrateEvent
migrate_engine_failure_event(const MigrateRunState *state, Jsonb *error)
{
	MigrateEvent event = {0};

	event.action = state->direction == DIRECTION_UP ? "apply" : "revert";
	event.version = state->current->version;
	event.name = state->current->name;
	event.outcome = "failure";
	event.role = state->role;
	event.started_at = state->started_at;
	event.duration_us = migrate_engine_usecs_since(state->started_at);
	event.checksum = state->direction == DIRECTION_UP ?
		state->current->checksum : state->current->down_checksum;
	event.detail = migrate_guard_event_detail(state, run_detail(state->info, NIL));
	event.error = error;
	return event;
}

/*
 * Run one statement of a migration through SPI, the in-transaction path's
 * MigrateStatementExecutor; returns the rows it processed.
 */
static uint64
execute_statement(const MigrateParsedScript *script, const MigrateStatement *stmt)
{
	char	   *text = migrate_parse_statement_text(script, stmt);
	uint64		processed;
	int			rc;

	migrate_progress_statement(stmt->number, text);
	rc = SPI_execute(text, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	processed = SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	return processed;
}

/* the schema fingerprint, as the caller sees the catalog */
static char *
fingerprint(void)
{
	char	   *fingerprint;

	if (SPI_execute("SELECT migrate.fingerprint()", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not compute the schema fingerprint");
	fingerprint = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return fingerprint;
}

/*
 * Run a verify or precondition script: every statement must run, and a
 * statement that returns a boolean column must return only true.  Returns
 * the failing statement's text, or NULL when the check holds.
 */
char *
migrate_engine_run_check(const char *version, const char *column, const char *what)
{
	char	   *script = migrate_catalog_load_check(version, column);
	MigrateParsedScript *parsed;
	int			nest_level;
	char	   *failed = NULL;

	if (script == NULL)
		return NULL;
	parsed = migrate_parse_script(script, psprintf("%s script of migration \"%s\"",
												   what, version));
	/* a SET in the check lasts for the check only, as for scripts */
	nest_level = NewGUCNestLevel();
	for (int i = 0; i < parsed->nstatements && failed == NULL; i++)
	{
		char	   *text = migrate_parse_statement_text(parsed, &parsed->statements[i]);
		int			rc = SPI_execute(text, false, 0);
		bool		holds = true;

		if (rc < 0)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		if (SPI_tuptable != NULL && SPI_tuptable->tupdesc->natts == 1 &&
			SPI_gettypeid(SPI_tuptable->tupdesc, 1) == BOOLOID)
		{
			for (uint64 row = 0; row < SPI_processed; row++)
			{
				bool		isnull;
				Datum		value = SPI_getbinval(SPI_tuptable->vals[row],
												  SPI_tuptable->tupdesc, 1, &isnull);

				if (isnull || !DatumGetBool(value))
					holds = false;
			}
		}
		SPI_freetuptable(SPI_tuptable);
		if (!holds)
			failed = text;
	}
	AtEOXact_GUC(false, nest_level);
	return failed;
}

/* a precondition that did not hold in skip mode: history says so */
static void
record_skipped(MigrateRunState *state, const char *statement, MigrateOutcome *outcome)
{
	MigrateEvent event = migrate_engine_failure_event(state, NULL);
	MigrateJsonBuilder detail = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&detail, NULL);
	migrate_json_add_text(&detail, "reason", "precondition does not hold");
	migrate_json_add_text(&detail, "statement", statement);
	migrate_json_end(&detail);
	event.outcome = "skipped";
	event.detail = migrate_json_finish(&detail);
	migrate_catalog_insert_event(&event);
	migrate_message_skipping(state->info, state->number, state->current);
	if (outcome)
	{
		outcome->attempted = true;
		outcome->skipped = true;
		outcome->note = "skipped: precondition does not hold";
	}
}

/*
 * The precondition of the current migration (up only).  Returns false
 * when it does not hold and the migration is to be skipped.
 */
static bool
precondition_allows(MigrateRunState *state, MigrateOutcome *outcome)
{
	MigrateMigration *m = state->current;
	char	   *failed;

	if (state->direction != DIRECTION_UP || !m->has_precondition)
		return true;
	failed = migrate_engine_run_check(m->version, "precondition_script", "precondition");
	if (failed == NULL)
		return true;
	if (strcmp(m->precondition_mode, "skip") == 0)
	{
		record_skipped(state, failed, outcome);
		return false;
	}
	if (strcmp(m->precondition_mode, "warn") == 0)
	{
		ereport(WARNING,
				(errcode(ERRCODE_MIGRATE_PRECONDITION_FAILED),
				 errmsg("precondition of migration \"%s\" does not hold", m->version),
				 errdetail("Check: %s", failed),
				 errhint("It is applied anyway (precondition_mode warn).")));
		return true;
	}
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_PRECONDITION_FAILED),
			 errmsg("precondition of migration \"%s\" does not hold", m->version),
			 errdetail("Check: %s", failed)));
}

/*
 * The verify script of the current migration (up only) must hold, or
 * ERRCODE_MIGRATE_VERIFY_FAILED names the check that returned false.
 * apply() and rehearse() both run it right after the up script;
 * rehearse() passes "failed_step", set to "verify" just before that error
 * (and only for it), to tell a check that does not hold from a check
 * script that fails.
 */
void
migrate_engine_verify(MigrateRunState *state, const char **failed_step)
{
	MigrateMigration *m = state->current;
	char	   *failed;

	if (state->direction != DIRECTION_UP || !m->has_verify)
		return;
	failed = migrate_engine_run_check(m->version, "verify_script", "verify");
	if (failed == NULL)
		return;
	if (failed_step != NULL)
		*failed_step = "verify";
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_VERIFY_FAILED),
			 errmsg("verification of migration \"%s\" failed", m->version),
			 errdetail("Check returned false: %s", failed)));
}

/*
 * Whether the migration's transaction commits as soon as its script and
 * bookkeeping are done: on the worker path (the apply worker, a scheduled
 * run), which commits each migration on its own.  Not in the caller's
 * transaction, not in a dry run, not in a rehearsal (no run info).
 */
static bool
commits_after_script(const MigrateRunState *state)
{
	return state->info != NULL && state->info->worker != NULL && !state->info->dry_run;
}

/*
 * Fire the deferred triggers (deferred constraints) of the migration's
 * transaction now, inside its script's settings scope, rather than at the
 * COMMIT that follows.  A set_config(..., false) in such a trigger is then
 * undone with the script's other settings instead of reaching the next
 * migration of the worker's run (as another role, or with another
 * search_path), and a deferred constraint that fails is the script's
 * failure, reported like any other.  SET CONSTRAINTS ALL IMMEDIATE is the
 * server's way of firing them early; nothing but the bookkeeping runs
 * after it in that transaction.
 */
static void
fire_deferred_triggers(void)
{
	if (SPI_execute("SET CONSTRAINTS ALL IMMEDIATE", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed: SET CONSTRAINTS ALL IMMEDIATE");
}

/*
 * Run the current statement with "execute", under the statement timeout
 * of the migration's policy (the server arms none for statements run
 * through SPI: lockretry.c), which is put back whether it succeeds or not.
 * The backup before a destructive statement (backup.c) runs under the same
 * timer: its copy holds the statement's lock, and a timeout meant to bound
 * how long the table is locked must bound the copy too.
 */
static uint64
execute_timed(MigrateRunState *state, MigrateStatementExecutor execute)
{
	MigrateStatementTimer timer;
	uint64		rows = 0;

	migrate_lockretry_timer_start(&timer, &state->policy);
	PG_TRY();
	{
		migrate_backup_before_statement(state);
		rows = execute(state->script, state->statement);
	}
	PG_FINALLY();
	{
		migrate_lockretry_timer_stop(&timer);
	}
	PG_END_TRY();
	return rows;
}

/*
 * Run every statement of the current migration's parsed script
 * (state->script) with "execute", keeping state->statement on the one
 * that runs, for the error callback; returns the rows they processed.
 * apply() and dry runs execute through SPI (execute_statement), rehearse()
 * in the statements' transactional forms; both come through here, so that
 * what they run and how an error names it is the same.
 *
 * The script's settings are scoped to it: a SET in the script
 * (lock_timeout, search_path, ...) lasts until the script ends, as if it
 * had been SET LOCAL in a transaction of its own, and reaches neither the
 * next migration nor the caller's session.  The GUC nest level is the one
 * functions with SET clauses use; on error, the rollback of the enclosing
 * subtransaction undoes the settings as well.  Verify and precondition
 * scripts run with the caller's settings, their own SETs scoped the same
 * way (migrate_engine_run_check).  The migration's lock_timeout and
 * statement_timeout (state->policy, lockretry.c) are set at that level
 * before the first statement, as a function's SET clause would set them.
 */
uint64
migrate_engine_run_script(MigrateRunState *state, MigrateStatementExecutor execute)
{
	int			nest_level = NewGUCNestLevel();
	uint64		rows = 0;

	/* as a SET clause would: the script's own SETs come later and win */
	migrate_lockretry_set_timeouts(&state->policy, GUC_ACTION_SAVE);
	for (int i = 0; i < state->script->nstatements; i++)
	{
		state->statement = &state->script->statements[i];
		rows += execute_timed(state, execute);
	}
	state->statement = NULL;
	if (commits_after_script(state))
		fire_deferred_triggers();
	AtEOXact_GUC(false, nest_level);
	return rows;
}

/*
 * Say which migration starts (message.c), outside the run's error
 * callback: the message names the migration itself, and a CONTEXT line
 * naming its script would only repeat it in the server log.
 */
static void
announce(MigrateRunState *state)
{
	MigrateMigration *m = state->current;

	state->current = NULL;		/* the callback adds nothing */
	migrate_message_starting(state->direction, state->info, state->number, m, 0);
	state->current = m;
}

/*
 * The progress slot of an attempt: its earlier attempts count as failed
 * ones ("retries" in migrate.progress).
 */
static void
start_progress(MigrateRunState *state)
{
	MigrateMigration shown = *state->current;

	shown.failures += state->attempt - 1;
	migrate_progress_start(state->direction == DIRECTION_UP ? "apply" : "revert",
						   &shown, state->number, state->info->total,
						   state->script->nstatements, state->info->schedule);
}

/*
 * Run one attempt of one migration (in a subtransaction of its own where
 * lock retries are allowed, see run_with_retries), in an SPI connection of
 * its own so that its memory goes away with it.  History's start time is
 * the first attempt's.
 */
static void
run_migration(MigrateRunState *state, MigrateOutcome *outcome)
{
	bool		dry_run = state->info->dry_run;
	uint64		rows;

	migrate_xact_spi_connect();
	state->attempt_started = GetCurrentTimestamp();
	if (state->attempt == 1)
		state->started_at = state->attempt_started;
	if (migrate_skip_for_environment(state, outcome))
	{
		SPI_finish();
		return;
	}
	if (!precondition_allows(state, outcome))
	{
		SPI_finish();
		return;
	}
	if (state->attempt == 1)
		announce(state);
	if (outcome)
		outcome->attempted = true;
	if (dry_run && outcome)
		outcome->fingerprint_before = MemoryContextStrdup(state->memory, fingerprint());

	state->script = migrate_engine_load_parsed(state);
	migrate_lockretry_from_header(&state->policy, state->script->script);
	start_progress(state);
	rows = migrate_engine_run_script(state, execute_statement);
	migrate_engine_verify(state, NULL);

	if (outcome)
		outcome->rows_affected = rows;
	if (dry_run && outcome)
	{
		outcome->fingerprint_after = MemoryContextStrdup(state->memory, fingerprint());
		outcome->note = "dry run: rolled back";
	}
	migrate_engine_record_success(state, migrate_engine_usecs_since(state->started_at), outcome);
	state->script = NULL;
	SPI_finish();
}

/*
 * A dry run or a rehearsal runs each migration's scripts exactly as apply()
 * would, that is with the caller's privileges: that is what makes it a
 * faithful rehearsal.  Say so, once per call, when some of those scripts
 * were registered by another role, so that nobody runs someone else's code
 * with their own rights without being told.  "what" names the call.
 */
void
migrate_engine_warn_foreign_scripts(List *plan, const char *what)
{
	const char *me = migrate_catalog_current_role();
	StringInfoData foreign;
	ListCell   *lc;

	initStringInfo(&foreign);
	foreach(lc, plan)
	{
		MigrateMigration *m = lfirst(lc);

		if (m->registered_by == NULL || strcmp(m->registered_by, me) == 0)
			continue;
		appendStringInfo(&foreign, "%s%s (registered by \"%s\")",
						 foreign.len > 0 ? ", " : "", m->version, m->registered_by);
	}
	if (foreign.len == 0)
		return;
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("the %s runs scripts registered by other roles, with your privileges", what),
			 errdetail("Migrations: %s.", foreign.data),
			 errhint("Read those scripts before running this, or leave it to the roles that registered them.")));
}

/* the one history row a dry run leaves */
static void
record_dry_run(const MigrateRunState *state, List *plan, const ErrorData *edata)
{
	MigrateEvent event = {0};
	MigrateJsonBuilder detail = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&detail, NULL);
	migrate_json_add_text(&detail, "direction", migrate_engine_script_name(state->direction));
	migrate_json_add_int(&detail, "migrations", list_length(plan));
	if (edata)
	{
		migrate_json_add_text(&detail, "failed_at",
							  state->current ? state->current->version : "");
		migrate_json_add_text(&detail, "error", edata->message ? edata->message : "");
	}
	migrate_json_end(&detail);
	event.action = "dry run";
	event.outcome = edata ? "failure" : "success";
	event.role = state->role;
	event.started_at = GetCurrentTransactionStartTimestamp();
	event.duration_us = -1;
	event.detail = migrate_json_finish(&detail);
	migrate_catalog_insert_event(&event);
}

/* a plan run in one subtransaction (migrate_engine_run_plan), and how it failed */
typedef struct PlanRun
{
	List	   *plan;
	MigrateRunState   *state;
	MigrateOutcome *outcomes;	/* or NULL */
	ErrorContextCallback *errcallback;
	int			failed_index;	/* the migration running when it failed */
	int			failed_statement;	/* its statement that failed, or 0 */
	char	   *context;		/* the CONTEXT line the run's callback gave it */
	Jsonb	   *failure;		/* its failure record, or NULL */
	MigrateOutcome *outcome;	/* of the migration running, or NULL */
	MigrateLockRetry *retry;	/* its failed attempt is tried again, or NULL */
	char	   *retry_statement;	/* the text of the statement that waited */
} PlanRun;

/*
 * Describe a failure while the parsed script still exists: its failure
 * record, its statement and the CONTEXT line the run's callback gave it.
 */
static void
describe_failure(PlanRun *run, ErrorData *edata)
{
	MigrateRunState *state = run->state;

	if (state->current == NULL || run->failure != NULL)
		return;
	run->failure = migrate_engine_error_json(state, edata, NULL);
	if (state->statement != NULL)
		run->failed_statement = state->statement->number;
	run->context = context_line(state, state->context_internalpos);
}

/* one attempt of the current migration, in its own subtransaction */
static void
run_attempt(void *arg)
{
	PlanRun    *run = arg;

	run_migration(run->state, run->outcome);
}

/*
 * An attempt failed; before its subtransaction's rollback frees the parsed
 * script and undoes its settings (lock_timeout), decide whether it is
 * tried again and note what the retry or the failure needs.
 */
static void
describe_attempt_failure(void *arg, ErrorData *edata)
{
	PlanRun    *run = arg;
	MigrateRunState *state = run->state;

	if (migrate_lockretry_may_retry(&state->policy, edata, state->attempt))
	{
		MemoryContext old = MemoryContextSwitchTo(state->memory);
		const MigrateStatement *stmt = state->statement;

		run->retry = migrate_lockretry_plan(&state->policy, state->attempt,
											stmt ? stmt->number : 0,
											stmt ? error_line(state, edata->internalpos) : 0,
											state->attempt_started);
		run->retry_statement = stmt ? short_statement_text(state) : NULL;
		MemoryContextSwitchTo(old);
	}
	else
	{
		migrate_lockretry_explain(edata, &state->policy, state->retries);
		describe_failure(run, edata);
	}
	/* the rollback frees the script: nothing may look at it afterwards */
	state->script = NULL;
	state->statement = NULL;
}

/*
 * Say that an attempt ran into lock_timeout and when the next one starts,
 * outside the run's error callback (the message names the migration).
 */
static void
announce_retry(MigrateRunState *state, const PlanRun *run)
{
	MigrateMigration *m = state->current;

	state->current = NULL;
	migrate_lockretry_notice(run->retry, m->version, &state->policy, run->retry_statement, true);
	state->current = m;
}

/* the current environment's lock policy, for the migration about to run */
static void
load_policy(MigrateRunState *state)
{
	migrate_xact_spi_connect();
	migrate_lockretry_from_environment(&state->policy);
	SPI_finish();
}

/*
 * Run the current migration.  Where the environment allows lock retries,
 * run it in a subtransaction of its own, inside the plan's, and try it
 * again while it fails on lock_timeout and retries are left: its
 * subtransaction is rolled back (releasing every lock it took), it sleeps
 * (lockretry.c) and starts over, with its outcome as it was before the
 * first attempt.  It is announced once; history keeps the first attempt's
 * start and each retry.  Any other error, or the last retry's, goes on to
 * the plan's subtransaction.  Without retries it runs right in the plan's
 * subtransaction (see the header).
 */
static void
run_with_retries(PlanRun *run, MigrateOutcome *outcome)
{
	MigrateRunState *state = run->state;
	MigrateOutcome before = {0};
	ErrorData  *edata;

	load_policy(state);
	state->retries = NIL;
	state->attempt = 1;
	if (state->policy.retries == 0)
	{
		run_migration(state, outcome);
		return;
	}
	if (outcome)
		before = *outcome;
	run->outcome = outcome;
	for (;; state->attempt++)
	{
		MemoryContext old;

		run->retry = NULL;
		edata = migrate_xact_run_subxact(run_attempt, run, true, describe_attempt_failure);
		if (edata == NULL)
			break;
		if (run->retry == NULL)
			ReThrowError(edata);
		old = MemoryContextSwitchTo(state->memory);
		state->retries = lappend(state->retries, run->retry);
		MemoryContextSwitchTo(old);
		announce_retry(state, run);
		FreeErrorData(edata);
		migrate_lockretry_sleep(run->retry->backoff_ms);
		if (outcome)
			*outcome = before;
	}
	state->attempt = 1;
	state->retries = NIL;
}

/* run every migration of the plan, in the plan's subtransaction */
static void
run_plan_migrations(void *arg)
{
	PlanRun    *run = arg;
	MigrateRunState   *state = run->state;
	ListCell   *lc;

	foreach(lc, run->plan)
	{
		state->current = lfirst(lc);
		state->number = state->info->first + foreach_current_index(lc);
		run->failed_index = foreach_current_index(lc);
		run_with_retries(run, run->outcomes ? &run->outcomes[foreach_current_index(lc)] : NULL);
		state->current = NULL;
	}
	migrate_lock_set_running(false);
	migrate_migrating_set(false);
	migrate_progress_end();
}

/*
 * On error in the plan's subtransaction, before its rollback.  A failed
 * attempt of a migration with a subtransaction of its own was described
 * there (describe_attempt_failure); the failure of one without, or an
 * error between attempts (a cancel while waiting to retry), is described
 * here.
 */
static void
describe_plan_failure(void *arg, ErrorData *edata)
{
	PlanRun    *run = arg;

	migrate_lock_set_running(false);
	migrate_migrating_set(false);
	migrate_progress_end();
	if (run->state->current != NULL)
		migrate_lockretry_explain(edata, &run->state->policy, run->state->retries);
	describe_failure(run, edata);
	error_context_stack = run->errcallback->previous;
	run->state->script = NULL;
	run->state->statement = NULL;
}

/*
 * Add to the error of a failed interactive run the CONTEXT line that says
 * the caller's transaction undoes all of it ("nothing applied: 003
 * failed at statement 2; 001 and 002 were rolled back"), right after the line of the run's callback
 * ("own"), before the lines of whatever called apply() (an SQL statement
 * of deploy() or of a function).  It is added to the caught error, which
 * is known to be the ERROR that ends the run, rather than by the run's
 * error callback: a callback cannot tell such an ERROR from a NOTICE a
 * statement raises, and the error is re-thrown as it was caught
 * (ReThrowError runs no callbacks).
 */
static void
add_rollback_context(ErrorData *edata, const char *own, const PlanRun *run,
					 const MigrateOutcome *outcomes)
{
	List	   *versions = NIL;
	ListCell   *lc;
	char	   *line;
	char	   *at = (edata->context && own) ? strstr(edata->context, own) : NULL;

	foreach(lc, run->plan)
		versions = lappend(versions, ((MigrateMigration *) lfirst(lc))->version);
	line = migrate_message_rolled_back(versions, run->state->direction, outcomes,
									   run->failed_index, run->failed_statement);

	if (at != NULL && (at[strlen(own)] == '\n' || at[strlen(own)] == '\0'))
	{
		int			end = (at - edata->context) + strlen(own);

		edata->context = psprintf("%.*s\n%s%s", end, edata->context, line, edata->context + end);
	}
	else
		edata->context = edata->context ? psprintf("%s\n%s", edata->context, line) : line;
}

/*
 * Run a plan of transactional migrations in one subtransaction; on error
 * roll it back, record the failure durably and re-throw.  "outcomes", if
 * not NULL, has one entry per migration of the plan.  A dry run rolls the
 * subtransaction back even on success, reports an error in the outcome of
 * the migration that raised it instead of re-throwing it, and leaves one
 * history row.
 */
void
migrate_engine_run_plan(List *plan, MigrateDirection direction, const MigrateRunInfo *info,
						MigrateOutcome *outcomes)
{
	MemoryContext fncontext = CurrentMemoryContext;
	MigrateRunState *state = palloc(sizeof(MigrateRunState));
	ErrorData  *edata;
	ErrorContextCallback errcallback;
	bool		dry_run = info && info->dry_run;
	PlanRun		run = {plan, state, outcomes, &errcallback, -1, 0, NULL, NULL, NULL, NULL, NULL};
	char	   *drift_before = NULL;

	migrate_engine_init_state(state, direction, info);
	state->memory = fncontext;
	if (dry_run)
		migrate_engine_warn_foreign_scripts(plan, "dry run");

	migrate_engine_push_errcallback(state, &errcallback);
	/* drift that exists now is kept in the record after the run */
	if (!dry_run && plan != NIL)
		drift_before = migrate_drift_before_run();
	migrate_lock_set_running(true);
	migrate_migrating_set(true);
	edata = migrate_xact_run_subxact(run_plan_migrations, &run, !dry_run, describe_plan_failure);
	error_context_stack = errcallback.previous;

	/* a cancel or statement timeout stops a dry run too: it is no finding */
	if (dry_run && edata != NULL && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	/* which migration failed where, for the messages (message.c) */
	if (edata != NULL && outcomes != NULL && run.failed_index >= 0)
	{
		outcomes[run.failed_index].failed = true;
		outcomes[run.failed_index].failed_statement = run.failed_statement;
	}
	if (dry_run)
	{
		if (edata != NULL && outcomes != NULL && run.failed_index >= 0)
		{
			outcomes[run.failed_index].attempted = true;
			outcomes[run.failed_index].note = psprintf("dry run failed: %s", edata->message);
		}
		record_dry_run(state, plan, edata);
		return;
	}
	if (edata != NULL)
	{
		if (info != NULL && info->worker == NULL && run.failed_index >= 0)
			add_rollback_context(edata, run.context, &run, outcomes);
		if (run.failure != NULL)
		{
			MigrateEvent event = migrate_engine_failure_event(state, run.failure);

			migrate_durable_record_failure(&event);
		}
		ReThrowError(edata);
	}
	/* the schema as this run left it: what migrate.drift compares with */
	if (plan != NIL)
		migrate_drift_record_after_run(direction, drift_before);
}
