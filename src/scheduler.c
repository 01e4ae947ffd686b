/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *	  The per-database scheduler: applies approved migrations when a
 *	  schedule fires inside its maintenance window.
 *
 * The launcher (launcher.c) starts one scheduler per database.  It exits
 * at once if the extension is not installed, and within migrate.naptime
 * after DROP EXTENSION.  Otherwise it sleeps on its latch until the next
 * schedule is due (at most migrate.naptime, so that it notices catalog
 * changes; schedule(), resume() and CREATE EXTENSION wake it at once), and
 * uses no CPU in between.
 *
 * A due schedule (migrate.schedule.next_run_at has passed) runs if the
 * scheduler is not paused and the current time, in the schedule's time
 * zone, is inside its window; otherwise it is just moved to its next time.
 * A run takes the migrate lock for the session (or, if someone holds it,
 * leaves the schedule due and tries again after naptime), builds the same
 * plan apply(target) would, keeps the leading part of it that is allowed
 * (approved, when the schedule requires approval, and meant for the
 * schedule's environment), and hands it to the runner (runner.c), which
 * commits one migration at a time and never starts one whose
 * @estimated-duration would run past the window's end.  Every run that
 * applied something or failed is a 'run' row in the history, naming the
 * schedule, and so is the first run that stops at the window's end (a run
 * with nothing it may apply, or that stops where the previous one stopped,
 * is not, or an every-minute schedule would fill the history); each
 * migration it applied has its own 'apply' row, by the scheduler.
 *
 * Migrations run as migrate.worker_role or, when that is empty, each as the
 * role that registered it: the scheduler itself is a superuser, and a
 * member of migrate_admin must not gain privileges by scheduling SQL.
 *
 * IDENTIFICATION
 *	  src/scheduler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "durable.h"
#include "guc.h"
#include "lock.h"
#include "plan.h"
#include "progress.h"
#include "runner.h"
#include "shmem.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(migrate_wake);
PG_FUNCTION_INFO_V1(migrate_scheduler_info);

PGDLLEXPORT void migrate_scheduler_main(Datum main_arg);

/* a due schedule, as read from migrate.schedule */
typedef struct DueSchedule
{
	char	   *name;
	char	   *target;			/* NULL: everything */
	char	   *environment;	/* NULL: any */
	bool		require_approval;
	char	   *last_outcome;	/* of the previous run, or NULL */
	bool		in_window;
	TimestampTz window_end;		/* 0 without a window */
} DueSchedule;

static int	my_slot = -1;

/* whether this scheduler holds the migrate lock for a run */
static bool holding_lock = false;

/* lappend in a given context: SPI calls leave us in SPI's own context */
static List *
lappend_in(MemoryContext context, List *list, void *datum)
{
	MemoryContext old = MemoryContextSwitchTo(context);

	list = lappend(list, datum);
	MemoryContextSwitchTo(old);
	return list;
}

static void
spi_exec(const char *sql, int nargs, Oid *argtypes, Datum *values, const char *nulls,
		 int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "scheduler query failed: %s", SPI_result_code_string(rc));
}

static char *
spi_text_copy(int row, int column, MemoryContext keep)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column);

	return value ? MemoryContextStrdup(keep, value) : NULL;
}

/*
 * Due schedules, unless the scheduler is paused.  Also returns, through
 * *sleep_ms, how long to sleep until the next one is due.
 */
static List *
read_due_schedules(MemoryContext keep, long *sleep_ms)
{
	List	   *due = NIL;
	bool		isnull;

	*sleep_ms = migrate_naptime * 1000L;
	spi_exec("SELECT s.name, s.target, s.environment, s.require_approval,"
			 " migrate.window_end_at(now(), s.window_start, s.window_end, s.timezone),"
			 " s.window_start IS NULL, s.next_run_at <= now(),"
			 " GREATEST(0, ceil(extract(epoch FROM s.next_run_at - now()) * 1000))::bigint,"
			 " s.last_outcome"
			 " FROM migrate.schedule s"
			 " WHERE s.enabled"
			 " AND NOT EXISTS (SELECT FROM migrate.scheduler_state st WHERE st.paused)"
			 " ORDER BY s.next_run_at, s.name",
			 0, NULL, NULL, NULL, SPI_OK_SELECT);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		window_end = SPI_getbinval(tuple, desc, 5, &isnull);
		bool		no_window = DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull));
		int64		wait = DatumGetInt64(SPI_getbinval(tuple, desc, 8, &isnull));
		DueSchedule *s;

		if (!DatumGetBool(SPI_getbinval(tuple, desc, 7, &isnull)))
		{
			*sleep_ms = Min(*sleep_ms, (long) Max(wait, 1));
			continue;
		}
		s = MemoryContextAllocZero(keep, sizeof(DueSchedule));
		s->name = spi_text_copy(i, 1, keep);
		s->target = spi_text_copy(i, 2, keep);
		s->environment = spi_text_copy(i, 3, keep);
		s->require_approval = DatumGetBool(SPI_getbinval(tuple, desc, 4, &isnull));
		s->last_outcome = spi_text_copy(i, 9, keep);
		s->in_window = no_window || window_end != (Datum) 0;
		if (!no_window && window_end != (Datum) 0)
			s->window_end = DatumGetTimestampTz(window_end);
		due = lappend_in(keep, due, s);
		*sleep_ms = 0;
	}
	return due;
}

/* move a schedule to its next time, noting how this one ended */
static void
advance_schedule(const char *name, const char *outcome)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(name), CStringGetTextDatum(outcome)};

	spi_exec("UPDATE migrate.schedule SET last_run_at = now(), last_outcome = $2,"
			 " next_run_at = CASE WHEN every IS NOT NULL THEN now() + every"
			 "                    ELSE migrate.cron_next(cron, now(), timezone) END"
			 " WHERE name = $1",
			 2, argtypes, values, NULL, SPI_OK_UPDATE);
}

/*
 * Why a schedule may not apply this migration, or NULL when it may.  A
 * failed one waits for a human (a new version of it, registered, is
 * pending again): retrying it on every firing would only fail again.
 */
static const char *
held_back_because(const DueSchedule *s, const MigrationInfo *m)
{
	ListCell   *lc;

	if (strcmp(m->state, "failed") == 0)
		return "failed: waiting for a fix";
	if (s->require_approval && !m->approved)
		return "not approved";
	if (s->environment == NULL || m->environments == NIL)
		return NULL;
	foreach(lc, m->environments)
		if (strcmp(lfirst(lc), s->environment) == 0)
			return NULL;
	return "not for this environment";
}

/*
 * The versions this run applies: the leading part of apply(target)'s plan
 * that the schedule allows.  *held_back names the first one it stops at,
 * and *reason says why.
 */
static List *
plan_run(const DueSchedule *s, MemoryContext keep, char **held_back, const char **reason)
{
	MigrationInfo *registry;
	int			count;
	List	   *plan;
	List	   *versions = NIL;
	ListCell   *lc;

	registry = migrate_load_registry(&count);
	plan = migrate_plan_apply(registry, count, s->target);
	*held_back = NULL;
	foreach(lc, plan)
	{
		MigrationInfo *m = lfirst(lc);

		*reason = held_back_because(s, m);
		if (*reason != NULL)
		{
			*held_back = MemoryContextStrdup(keep, m->version);
			break;
		}
		versions = lappend_in(keep, versions, MemoryContextStrdup(keep, m->version));
	}
	return versions;
}

/* the history row of a scheduled run */
static void
record_run(const DueSchedule *s, const char *role, const char *outcome, int applied,
		   const char *stopped_at, const char *reason, const ErrorData *error,
		   TimestampTz started)
{
	MigrationEvent event = {0};
	StringInfoData detail;
	StringInfoData errjson;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"by\": \"scheduler\", \"schedule\": ");
	escape_json(&detail, s->name);
	appendStringInfo(&detail, ", \"applied\": %d", applied);
	if (stopped_at)
	{
		appendStringInfoString(&detail, ", \"stopped_at\": ");
		escape_json(&detail, stopped_at);
	}
	if (reason)
	{
		appendStringInfoString(&detail, ", \"reason\": ");
		escape_json(&detail, reason);
	}
	appendStringInfoChar(&detail, '}');

	event.action = "run";
	event.outcome = outcome;
	event.role = role;
	event.started_at = started;
	event.duration_us = GetCurrentTimestamp() - started;
	event.detail = detail.data;
	if (error)
	{
		initStringInfo(&errjson);
		appendStringInfoString(&errjson, "{\"sqlstate\": ");
		escape_json(&errjson, unpack_sql_state(error->sqlerrcode));
		appendStringInfoString(&errjson, ", \"message\": ");
		escape_json(&errjson, error->message ? error->message : "");
		appendStringInfoChar(&errjson, '}');
		event.error = errjson.data;
	}
	migrate_insert_event(&event);
}

/* the run outcome that a window too short for the next migration leaves */
#define WINDOW_CLOSING "waiting for a longer window"

/* a run that stops at the same place as the one before needs no new row */
static bool
last_outcome_was(const DueSchedule *s, const char *outcome)
{
	return s->last_outcome != NULL && strcmp(s->last_outcome, outcome) == 0;
}

/*
 * Scheduled migrations run as migrate.worker_role, or each as the role that
 * registered it (runner.c switches per migration), so that migrate_admin
 * cannot use the superuser scheduler to run SQL with more privileges than
 * its own.  Returns the name history shows for the run.
 */
static char *
worker_role_for(RunContext *context, MemoryContext keep)
{
	context->as_registrant = true;
	if (migrate_worker_role == NULL || migrate_worker_role[0] == '\0')
		return MemoryContextStrdup(keep, migrate_current_role());
	(void) get_role_oid(migrate_worker_role, false);	/* unknown: a failed run */
	context->run_as = MemoryContextStrdup(keep, migrate_worker_role);
	return MemoryContextStrdup(keep, migrate_worker_role);
}

/*
 * Run one due schedule.  Errors in planning (a dirty migration, a cycle)
 * are recorded as a failed run.
 */
static bool
run_schedule(const DueSchedule *s, MemoryContext keep)
{
	TimestampTz started = GetCurrentTimestamp();
	RunContext	context = {s->name, "scheduler", 1, 0, false, false, NULL};
	List	   *versions = NIL;
	char	   *held_back = NULL;
	const char *held_reason = NULL;
	char	   *volatile role = "";
	ErrorData  *plan_error = NULL;
	RunnerResult result = {RUNNER_DONE, 0, NULL, NULL};

	/* lock for the whole run, or try again after naptime */
	StartTransactionCommand();
	holding_lock = migrate_lock_session_try();
	CommitTransactionCommand();
	MemoryContextSwitchTo(keep);
	if (!holding_lock)
		return false;

	pgstat_report_activity(STATE_RUNNING, psprintf("running schedule %s", s->name));
	PG_TRY();
	{
		migrate_begin_work();
		role = worker_role_for(&context, keep);
		versions = plan_run(s, keep, &held_back, &held_reason);
		migrate_end_work(keep);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(keep);
		plan_error = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(keep);
	}
	PG_END_TRY();

	if (plan_error == NULL && versions != NIL)
	{
		context.total = list_length(versions);
		result = migrate_runner_run(versions, DIRECTION_UP, &context, NULL, s->window_end);
	}
	if (result.error)
		ereport(LOG,
				(errmsg("migrate schedule \"%s\" stopped: %s", s->name, result.error->message)));

	migrate_begin_work();
	if (plan_error)
		record_run(s, role, "failure", 0, NULL, "could not plan", plan_error, started);
	else if (result.stop == RUNNER_FAILED)
		record_run(s, role, "failure", result.done, result.stopped_at, "migration failed",
				   result.error, started);
	else if (result.stop == RUNNER_WINDOW_CLOSING &&
			 (result.done > 0 || !last_outcome_was(s, WINDOW_CLOSING)))
		record_run(s, role, "success", result.done, result.stopped_at,
				   "its estimated duration would overrun the window", NULL, started);
	else if (result.done > 0)
		record_run(s, role, "success", result.done, held_back, held_reason, NULL, started);
	advance_schedule(s->name, plan_error || result.error ? "failure" :
					 result.stop == RUNNER_WINDOW_CLOSING ? WINDOW_CLOSING : "success");
	migrate_end_work(keep);

	migrate_lock_session_release();
	holding_lock = false;
	pgstat_report_activity(STATE_IDLE, NULL);
	return true;
}

/* a due schedule outside its window only moves on */
static void
skip_schedule(const DueSchedule *s, MemoryContext keep)
{
	migrate_begin_work();
	advance_schedule(s->name, "outside window");
	migrate_end_work(keep);
}

static bool
extension_installed(void)
{
	bool		installed;

	/*
	 * A CREATE EXTENSION, schedule() or resume() committed after this check
	 * has a later generation: the launcher then ignores our "idle" answer.
	 * The schedule check below runs later still, so this covers it too.
	 */
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	if (my_slot >= 0)
		migrate_shared->schedulers[my_slot].generation = migrate_shared->wake_generation;
	LWLockRelease(migrate_shared->lock);

	StartTransactionCommand();
	installed = OidIsValid(get_extension_oid("migrate", true));
	CommitTransactionCommand();
	return installed;
}

static void
forget_scheduler(int code, Datum arg)
{
	if (my_slot < 0)
		return;
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	migrate_shared->schedulers[my_slot].pid = 0;
	if (migrate_shared->launcher_latch)
		SetLatch(migrate_shared->launcher_latch);
	LWLockRelease(migrate_shared->lock);
}

/* claim the slot the launcher prepared for this database */
static void
claim_slot(Oid database)
{
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
		if (migrate_shared->schedulers[i].database == database)
		{
			my_slot = i;
			migrate_shared->schedulers[i].pid = MyProcPid;
			break;
		}
	LWLockRelease(migrate_shared->lock);
	before_shmem_exit(forget_scheduler, (Datum) 0);
}

/*
 * Whether this database needs a scheduler beyond this round: a schedule is
 * enabled (a paused scheduler stays, so that pause() and resume() are
 * seen within naptime).  Says so in the slot, which makes this scheduler
 * count as running rather than as a probe.
 */
static bool
has_enabled_schedule(void)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		found;
	bool		isnull;

	migrate_begin_work();
	spi_exec("SELECT EXISTS (SELECT FROM migrate.schedule s WHERE s.enabled)",
			 0, NULL, NULL, NULL, SPI_OK_SELECT);
	found = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
									   &isnull));
	migrate_end_work(caller);

	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	if (my_slot >= 0)
		migrate_shared->schedulers[my_slot].active = found;
	LWLockRelease(migrate_shared->lock);
	return found;
}

/*
 * Leave with nothing to do (no extension, or no enabled schedule): the
 * launcher frees the slot and starts no scheduler here again until this
 * database asks for one (migrate_request_wakeup) or its next probe.
 */
static void
exit_without_extension(void)
{
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	if (my_slot >= 0)
		migrate_shared->schedulers[my_slot].idle = true;
	LWLockRelease(migrate_shared->lock);
	proc_exit(0);
}

/*
 * One round: exit if the extension is gone or no schedule is enabled
 * (after writing failure records spooled by durable.c), run or skip every
 * due schedule.  Returns how long to sleep.
 */
static long
scheduler_round(MemoryContext keep)
{
	List	   *due;
	long		sleep_ms;
	ListCell   *lc;

	if (!extension_installed())
		exit_without_extension();
	MemoryContextSwitchTo(keep);
	migrate_replay_spooled_failures();
	if (!has_enabled_schedule())
		exit_without_extension();
	MemoryContextSwitchTo(keep);

	migrate_begin_work();
	due = read_due_schedules(keep, &sleep_ms);
	migrate_end_work(keep);

	foreach(lc, due)
	{
		DueSchedule *s = lfirst(lc);

		if (!s->in_window)
			skip_schedule(s, keep);
		else if (!run_schedule(s, keep))
			sleep_ms = migrate_naptime * 1000L;	/* someone holds the lock */
	}
	return sleep_ms;
}

/*
 * Entry point of a per-database scheduler.
 */
void
migrate_scheduler_main(Datum main_arg)
{
	Oid			database = DatumGetObjectId(main_arg);
	MemoryContext loop_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
	claim_slot(database);

	loop_context = AllocSetContextCreate(TopMemoryContext, "migrate scheduler loop",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		sleep_ms = migrate_naptime * 1000L;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(loop_context);
		MemoryContextSwitchTo(loop_context);

		/* an error in one round is logged; the scheduler carries on */
		PG_TRY();
		{
			sleep_ms = scheduler_round(loop_context);
		}
		PG_CATCH();
		{
			HOLD_INTERRUPTS();
			EmitErrorReport();
			AbortOutOfAnyTransaction();
			FlushErrorState();
			if (holding_lock)
				migrate_lock_session_release();
			holding_lock = false;
			migrate_progress_end();
			pgstat_report_activity(STATE_IDLE, NULL);
			RESUME_INTERRUPTS();
		}
		PG_END_TRY();

		if (sleep_ms > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 sleep_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}

/* set at commit: wake the launcher and this database's scheduler */
static bool wakeup_pending = false;

static void
wake_at_commit(XactEvent event, void *arg)
{
	if (!wakeup_pending)
		return;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wakeup_pending = false;
	if (event != XACT_EVENT_COMMIT)
		return;
	wakeup_pending = false;

	migrate_ask_for_scheduler(MyDatabaseId);
	LWLockAcquire(migrate_shared->lock, LW_SHARED);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
	{
		MigrateSchedulerSlot *slot = &migrate_shared->schedulers[i];
		PGPROC	   *proc;

		if (slot->database != MyDatabaseId || slot->pid == 0)
			continue;
		proc = BackendPidGetProc(slot->pid);
		if (proc)
			SetLatch(&proc->procLatch);
	}
	LWLockRelease(migrate_shared->lock);
}

/*
 * Ask the launcher for a scheduler in this database, and its scheduler (if
 * running) to look again, once the current transaction commits (a new
 * extension, schedule or resume is not visible to them before).  The
 * request names this database only: the launcher probes no other.  A no-op
 * without the launcher.
 */
void
migrate_request_wakeup(void)
{
	static bool registered = false;

	if (migrate_shared == NULL)
		return;
	if (!registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		registered = true;
	}
	wakeup_pending = true;
}

/* migrate.wake(): see migrate_request_wakeup */
Datum
migrate_wake(PG_FUNCTION_ARGS)
{
	migrate_request_wakeup();
	PG_RETURN_VOID();
}

/*
 * migrate.scheduler_info(): whether the library is preloaded, and the pids
 * of the launcher and of this database's scheduler (NULL when none).
 */
Datum
migrate_scheduler_info(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, true, true};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = BoolGetDatum(migrate_shared != NULL);
	if (migrate_shared != NULL)
	{
		LWLockAcquire(migrate_shared->lock, LW_SHARED);
		if (migrate_shared->launcher_pid != 0)
		{
			values[1] = Int32GetDatum(migrate_shared->launcher_pid);
			nulls[1] = false;
		}
		for (int i = 0; i < migrate_shared->nschedulers; i++)
		{
			MigrateSchedulerSlot *slot = &migrate_shared->schedulers[i];

			if (slot->database == MyDatabaseId && slot->pid != 0)
			{
				values[2] = Int32GetDatum(slot->pid);
				nulls[2] = false;
			}
		}
		LWLockRelease(migrate_shared->lock);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
