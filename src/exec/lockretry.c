/*-------------------------------------------------------------------------
 *
 * lockretry.c
 *	  DDL lock timeouts with retries (issue 11).
 *
 * A migration that queues for a lock behind a long transaction stalls
 * every query that queues behind it: its ACCESS EXCLUSIVE request, first
 * in the lock manager's queue, blocks even plain SELECTs.  So each
 * migration runs with a lock_timeout (and a statement_timeout): the
 * environment's (migrate.environment_setting, store/environment.c),
 * overridden by the script's own header keys @lock-timeout and
 * @statement-timeout (model/header.c).  0 means none; without either,
 * the session's settings stay untouched, as in 1.0.
 *
 * The timeouts are set like a function's SET clause, at the GUC nest
 * level that scopes the script's settings (engine.c's
 * migrate_engine_run_script), so a SET in the script itself still wins and
 * nothing reaches the next migration or the caller.  lock_timeout the
 * server reads at each lock wait.  statement_timeout it arms only when a
 * client's statement starts, which statements run through SPI or by a
 * background worker never do; so the timer is armed here, before each
 * statement of the script, for the statement_timeout then in force (the
 * script's own SET included), and only where it would fire before the
 * caller's own statement timeout, which is put back after the statement.
 *
 * When a statement fails because of lock_timeout (55P03, "canceling
 * statement due to lock timeout"; not NOWAIT, not migrate's own lock), the
 * engine rolls back the migration's own subtransaction, which releases
 * every lock the attempt took, says so in a NOTICE, sleeps and tries
 * again, up to the environment's lock_retries.  The n-th wait is
 * lock_retry_backoff * 2^(n-1), capped at MAX_BACKOFF_MS, with "equal
 * jitter": a random point in its upper half, so that two deploys that
 * collided do not collide again in step.  It sleeps on the process latch,
 * holding none of the attempt's locks, and a cancel or the caller's
 * statement_timeout ends it like any statement.  The worker path does the
 * same for a statement of a non-transactional migration, in a new
 * transaction (worker_run.c).
 *
 * The server does not say which lock timed out, and after the error its
 * wait state is gone; what remains is the mode of the last wait
 * (MyProc->waitLockMode), which with the statement that waited names the
 * lock well enough to find its holder in pg_locks.
 *
 * IDENTIFICATION
 *	  src/exec/lockretry.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <stdlib.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "exec/lockretry.h"
#include "model/header.h"
#include "store/environment.h"

/* the longest wait between two attempts, however many came before */
#define MAX_BACKOFF_MS (10 * 60 * 1000)

/*
 * The environment's timeouts and retries (0 timeouts: none, so the
 * session's stay).  Needs an SPI connection (store/environment.c).
 */
void
migrate_lockretry_from_environment(MigrateLockPolicy *policy)
{
	const MigrateEnvironment *env = migrate_environment_current();

	policy->lock_timeout_ms = env->lock_timeout_ms > 0 ? env->lock_timeout_ms : -1;
	policy->statement_timeout_ms = env->statement_timeout_ms > 0 ? env->statement_timeout_ms : -1;
	policy->retries = env->lock_retries > 0 ? env->lock_retries : 0;
	policy->backoff_ms = env->lock_retry_backoff_ms > 0 ? env->lock_retry_backoff_ms : 0;
}

/* the script's @lock-timeout and @statement-timeout win (0: none at all) */
void
migrate_lockretry_from_header(MigrateLockPolicy *policy, const char *script)
{
	MigrateHeaderTimeouts timeouts = migrate_header_timeouts(script);

	if (timeouts.lock_timeout_ms >= 0)
		policy->lock_timeout_ms = timeouts.lock_timeout_ms;
	if (timeouts.statement_timeout_ms >= 0)
		policy->statement_timeout_ms = timeouts.statement_timeout_ms;
}

/* whether the policy sets anything at all (else: 1.0's behaviour) */
bool
migrate_lockretry_manages(const MigrateLockPolicy *policy)
{
	return policy->lock_timeout_ms >= 0 || policy->statement_timeout_ms >= 0 ||
		policy->retries > 0;
}

static void
set_timeout_setting(const char *name, int ms, GucAction action)
{
	char		value[32];

	snprintf(value, sizeof(value), "%d", ms);
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, action, true, 0, false);
}

/*
 * Set the policy's timeouts: GUC_ACTION_SAVE right after NewGUCNestLevel()
 * (a function's SET clause: undone at that level's end), GUC_ACTION_SET for
 * the statements of a non-transactional migration, which the worker path
 * resets after it.
 */
void
migrate_lockretry_set_timeouts(const MigrateLockPolicy *policy, GucAction action)
{
	if (policy->lock_timeout_ms >= 0)
		set_timeout_setting("lock_timeout", policy->lock_timeout_ms, action);
	if (policy->statement_timeout_ms >= 0)
		set_timeout_setting("statement_timeout", policy->statement_timeout_ms, action);
}

/*
 * Before a statement of a migration whose policy sets a statement timeout:
 * arm the server's statement timer for the statement_timeout in force now
 * (a SET in the script wins), unless the caller's own statement timer
 * fires first.  migrate_lockretry_timer_stop() puts the caller's back.
 */
void
migrate_lockretry_timer_start(MigrateStatementTimer *timer, const MigrateLockPolicy *policy)
{
	TimestampTz due;

	timer->armed = false;
	if (policy->statement_timeout_ms < 0 || StatementTimeout <= 0)
		return;
	timer->outer_active = get_timeout_active(STATEMENT_TIMEOUT);
	timer->outer_finish = timer->outer_active ? get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	due = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), StatementTimeout);
	if (timer->outer_active && timer->outer_finish <= due)
		return;
	enable_timeout_at(STATEMENT_TIMEOUT, due);
	timer->armed = true;
}

/* after the statement, whether it succeeded or failed */
void
migrate_lockretry_timer_stop(MigrateStatementTimer *timer)
{
	if (!timer->armed)
		return;
	if (timer->outer_active)
		enable_timeout_at(STATEMENT_TIMEOUT, timer->outer_finish);
	else
		disable_timeout(STATEMENT_TIMEOUT, false);
	timer->armed = false;
}

/*
 * Whether the error is a lock wait that ran out of lock_timeout, told
 * from NOWAIT and migrate's own lock (also 55P03) by its message before
 * translation.
 */
bool
migrate_lockretry_is_lock_timeout(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && edata->message_id != NULL &&
		strcmp(edata->message_id, "canceling statement due to lock timeout") == 0;
}

/* whether attempt "attempt" (1-based), which failed with "edata", gets another */
bool
migrate_lockretry_may_retry(const MigrateLockPolicy *policy, const ErrorData *edata, int attempt)
{
	return attempt <= policy->retries && migrate_lockretry_is_lock_timeout(edata);
}

/* lock_retry_backoff * 2^(attempt-1), capped, at a random point of its upper half */
static int
backoff_ms(const MigrateLockPolicy *policy, int attempt)
{
	int64		delay = Max(policy->backoff_ms, 0);

	for (int i = 1; i < attempt && delay < MAX_BACKOFF_MS; i++)
		delay *= 2;
	delay = Min(delay, MAX_BACKOFF_MS);
	if (delay < 2)
		return (int) delay;
	return (int) (delay - delay / 2 + random() % (delay / 2 + 1));
}

/*
 * The record of a failed attempt that is tried again, in the current
 * memory context (the run's, which outlives the attempt), with the wait
 * before the next attempt chosen.  Call right after the lock timeout,
 * before anything else waits for a lock: the mode of the last wait is the
 * lock it could not get.
 */
MigrateLockRetry *
migrate_lockretry_plan(const MigrateLockPolicy *policy, int attempt, int statement, int line,
					   TimestampTz attempt_start)
{
	MigrateLockRetry *retry = palloc0(sizeof(MigrateLockRetry));

	retry->attempt = attempt;
	retry->statement = statement;
	retry->line = line;
	retry->lock_mode = pstrdup(GetLockmodeName(DEFAULT_LOCKMETHOD, MyProc->waitLockMode));
	retry->lock_timeout_ms = LockTimeout;
	retry->attempt_ms = (GetCurrentTimestamp() - attempt_start) / 1000;
	retry->backoff_ms = backoff_ms(policy, attempt);
	return retry;
}

/*
 * The NOTICE of a retry: which attempt failed on which lock (the message,
 * the same every time) and how long it now waits (the detail).
 */
void
migrate_lockretry_notice(const MigrateLockRetry *retry, const char *version,
						 const MigrateLockPolicy *policy, const char *statement_text,
						 bool in_subtransaction)
{
	ereport(NOTICE,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("attempt %d of %d of migration \"%s\" could not get %s at statement %d within lock_timeout (%d ms)",
					retry->attempt, policy->retries + 1, version, retry->lock_mode,
					retry->statement, retry->lock_timeout_ms),
			 errdetail("Statement %d (line %d): %s. %s rolled back, releasing its locks; attempt %d starts in %d ms.",
					   retry->statement, retry->line, statement_text ? statement_text : "",
					   in_subtransaction ? "The attempt was" : "Its transaction was",
					   retry->attempt + 1, retry->backoff_ms)));
}

/*
 * Sleep "ms" milliseconds on the process latch, holding no lock of the
 * attempt: a cancel, the caller's statement_timeout or a shutdown ends it
 * (CHECK_FOR_INTERRUPTS raises the error), as does the postmaster's death.
 */
void
migrate_lockretry_sleep(int ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		CHECK_FOR_INTERRUPTS();
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* "retries": one object per attempt that was tried again (history, failure record) */
void
migrate_lockretry_add_json(MigrateJsonBuilder *b, List *retries)
{
	ListCell   *lc;

	migrate_json_begin_array(b, "retries");
	foreach(lc, retries)
	{
		const MigrateLockRetry *retry = lfirst(lc);

		migrate_json_begin_object(b, NULL);
		migrate_json_add_int(b, "attempt", retry->attempt);
		migrate_json_add_int(b, "statement", retry->statement);
		migrate_json_add_int(b, "line", retry->line);
		migrate_json_add_text(b, "lock_mode", retry->lock_mode);
		migrate_json_add_int(b, "lock_timeout_ms", retry->lock_timeout_ms);
		migrate_json_add_int(b, "attempt_ms", retry->attempt_ms);
		migrate_json_add_int(b, "backoff_ms", retry->backoff_ms);
		migrate_json_end(b);
	}
	migrate_json_end(b);
}

/*
 * The last attempt ran into lock_timeout too (or there were no retries):
 * say in the error how often it was tried and what to do, where the
 * policy set a timeout or retries (a lock timeout of the session's own
 * settings stays the server's bare error, as in 1.0).
 */
void
migrate_lockretry_explain(ErrorData *edata, const MigrateLockPolicy *policy, List *retries)
{
	if (!migrate_lockretry_is_lock_timeout(edata) || !migrate_lockretry_manages(policy))
		return;
	if (edata->detail == NULL && retries == NIL)
		edata->detail = psprintf("It waited for %s longer than lock_timeout (%d ms).",
								 GetLockmodeName(DEFAULT_LOCKMETHOD, MyProc->waitLockMode),
								 LockTimeout);
	else if (edata->detail == NULL)
		edata->detail = psprintf("It waited for %s longer than lock_timeout (%d ms), on each of its %d attempts.",
								 GetLockmodeName(DEFAULT_LOCKMETHOD, MyProc->waitLockMode),
								 LockTimeout, list_length(retries) + 1);
	if (edata->hint == NULL)
		edata->hint = pstrdup("Find what holds the lock (pg_locks, pg_blocking_pids()) and apply again, "
							  "or give the migration more time with @lock-timeout or the environment's "
							  "lock_retries and lock_retry_backoff.");
}
