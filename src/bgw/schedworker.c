/*-------------------------------------------------------------------------
 *
 * schedworker.c
 *	  Running one scheduled migration in a worker of its own, connected as
 *	  the role the migration runs as.
 *
 * The scheduler (scheduler.c) is a superuser process and runs no migration
 * SQL itself.  For each migration a scheduled run applies, it starts one
 * dynamic background worker and waits for it to exit.  The protocol:
 *
 *	1. The scheduler holds the migrate lock at session level for the whole
 *	   run, makes itself a lock group leader, and creates a DSM segment
 *	   (ScheduledRun) naming the database, the role, the migration, the
 *	   schedule, its number in the run and the window's end.  It starts the
 *	   worker with the segment's handle and waits
 *	   (WaitForBackgroundWorkerShutdown).  No free slot: the scheduler is
 *	   told so at once (SCHEDRUN_NO_SLOT) and tries again on a later round.
 *	2. The worker maps the segment and joins the scheduler's lock group
 *	   before it takes any heavyweight lock (as the apply worker does, see
 *	   handoff.c), then connects with
 *	   BackgroundWorkerInitializeConnectionByOid(database, role): as the
 *	   role that registered the migration, or migrate.worker_role.  It is
 *	   an ordinary session of that role: it has no other identity to return
 *	   to, so SET ROLE, RESET ROLE and SET SESSION AUTHORIZATION give it no
 *	   more than that role's own rights, and deferred triggers, WITH HOLD
 *	   cursors and commit-time code run as that role too.
 *	3. It takes the migrate lock at session level (free inside the group),
 *	   checks that the migration is still what the scheduler planned (its
 *	   registrant is the role connected as, its up checksum and approval
 *	   unchanged) and that the environment's guard rails, read afresh in
 *	   this new session, still let it run (exec/guard.c: a database's
 *	   migrate.environment set since the scheduler connected takes effect
 *	   here), runs exactly one migration through the worker path
 *	   (exec/worker_run.c), which refuses to start it if its
 *	   @estimated-duration would overrun the window, and writes the
 *	   outcome into the segment: done, skipped (someone applied it
 *	   meanwhile), window closing, failed (SQLSTATE and message), lock
 *	   busy, database read-only, or changed since it was planned.
 *	4. It exits.  Whatever the migration changed in its session (settings,
 *	   temporary objects, prepared statements, LISTEN) ends with it; the
 *	   next migration gets a fresh session, possibly as another role.
 *
 * A worker that exits without writing an outcome (the role may not log
 * in, has no CONNECT privilege, or the worker crashed) leaves
 * SCHEDRUN_NO_RESULT; the scheduler records a failed run naming the role.
 * If the scheduler goes away while a worker runs (it is terminated, or its
 * wait is cancelled), it terminates the worker first, so that no migration
 * runs on without the scheduler that answers for it.
 *
 * IDENTIFICATION
 *	  src/bgw/schedworker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "store/catalog.h"
#include "store/environment.h"
#include "ipc/dynworker.h"
#include "store/lock.h"
#include "exec/guard.h"
#include "exec/noparallel.h"
#include "exec/worker_run.h"
#include "ipc/xact.h"
#include "bgw/schedworker.h"

#define RESULT_MESSAGE_LEN 1024

/* the DSM segment shared by the scheduler and one worker */
typedef struct ScheduledRun
{
	/* set by the scheduler */
	Oid			database;
	Oid			role;
	PGPROC	   *leader;
	pid_t		leader_pid;
	int			number;			/* k of total, for progress and history */
	int			total;
	TimestampTz window_end;		/* 0 without a window */
	Size		schedule_off;	/* into strings */
	Size		checksum_off;	/* into strings: the up checksum planned */
	bool		by_registrant;	/* role is the migration's registrant */
	bool		approval_required;	/* the schedule requires approval */

	/* set by the worker before it exits */
	MigrateSchedRunStatus status;
	int			sqlerrcode;
	char		message[RESULT_MESSAGE_LEN];

	char		strings[FLEXIBLE_ARRAY_MEMBER]; /* version, schedule, checksum */
} ScheduledRun;

PGDLLEXPORT void migrate_schedworker_main(Datum main_arg);

/* the worker this scheduler is waiting for, if any */
static BackgroundWorkerHandle *running_worker = NULL;

/* the scheduler exits (terminated): stop its worker too */
static void
stop_running_worker(int code, Datum arg)
{
	if (running_worker != NULL)
		TerminateBackgroundWorker(running_worker);
}

/*
 * The DSM segment that tells a scheduled-migration worker what to run: the
 * database, the role, the migration with the checksum it was planned with,
 * the schedule and the window's end.  The strings follow the struct.
 */
static dsm_segment *
make_run_segment(const MigrateSchedPlanned *planned, const char *schedule, int number,
				 int total, TimestampTz window_end)
{
	const char *version = planned->version;
	Size		version_len = strlen(version) + 1;
	Size		schedule_len = strlen(schedule) + 1;
	Size		checksum_len = strlen(planned->checksum) + 1;
	dsm_segment *seg = dsm_create(offsetof(ScheduledRun, strings) + version_len + schedule_len +
								  checksum_len, 0);
	ScheduledRun *run = dsm_segment_address(seg);

	memset(run, 0, offsetof(ScheduledRun, strings));
	run->database = MyDatabaseId;
	run->role = planned->role;
	run->by_registrant = planned->by_registrant;
	run->approval_required = planned->approval_required;
	run->leader = MyProc;
	run->leader_pid = MyProcPid;
	run->number = number;
	run->total = total;
	run->window_end = window_end;
	run->status = SCHEDRUN_NO_RESULT;
	memcpy(run->strings, version, version_len);
	run->schedule_off = version_len;
	memcpy(run->strings + version_len, schedule, schedule_len);
	run->checksum_off = version_len + schedule_len;
	memcpy(run->strings + run->checksum_off, planned->checksum, checksum_len);
	return seg;
}

/*
 * Run one planned migration of a scheduled run in a worker connected as
 * the role planned, and wait for it.  Call outside a transaction, holding
 * the migrate lock at session level.  The result is allocated in the
 * current context.
 */
MigrateSchedRunResult
migrate_schedworker_run(const MigrateSchedPlanned *planned, const char *schedule, int number,
						int total, TimestampTz window_end)
{
	const char *version = planned->version;
	static bool exit_callback = false;
	MigrateSchedRunResult result = {SCHEDRUN_NO_SLOT, 0, NULL};
	dsm_segment *seg;
	ScheduledRun *run;
	BackgroundWorkerHandle *handle;

	if (!exit_callback)
	{
		before_shmem_exit(stop_running_worker, (Datum) 0);
		exit_callback = true;
	}

	seg = make_run_segment(planned, schedule, number, total, window_end);
	run = dsm_segment_address(seg);

	/* the worker shares the lock this process holds for the run */
	BecomeLockGroupLeader();
	handle = migrate_dynworker_start("migrate_schedworker_main", "migrate scheduled migration",
									 psprintf("migrate scheduled migration %s", version),
									 UInt32GetDatum(dsm_segment_handle(seg)));
	if (handle == NULL)
	{
		dsm_detach(seg);
		return result;
	}

	running_worker = handle;
	PG_TRY();
	{
		(void) WaitForBackgroundWorkerShutdown(handle);
	}
	PG_CATCH();
	{
		/* cancelled while waiting: the worker must not go on alone */
		HOLD_INTERRUPTS();
		TerminateBackgroundWorker(handle);
		(void) WaitForBackgroundWorkerShutdown(handle);
		running_worker = NULL;
		dsm_detach(seg);
		RESUME_INTERRUPTS();
		PG_RE_THROW();
	}
	PG_END_TRY();
	running_worker = NULL;

	pg_read_barrier();
	result.status = run->status;
	result.sqlerrcode = run->sqlerrcode;
	if (run->status == SCHEDRUN_FAILED || run->status == SCHEDRUN_CHANGED)
		result.message = pstrdup(run->message);
	dsm_detach(seg);
	pfree(handle);
	return result;
}

/* write the outcome where the scheduler will read it after our exit */
static void
report(ScheduledRun *run, MigrateSchedRunStatus status, const ErrorData *edata)
{
	if (edata != NULL)
	{
		run->sqlerrcode = edata->sqlerrcode;
		strlcpy(run->message, edata->message ? edata->message : "", RESULT_MESSAGE_LEN);
	}
	pg_write_barrier();
	run->status = status;
}

/*
 * Why the migration is no longer the one the scheduler planned to run as
 * this role, or NULL when it still is (or is gone, or done: the worker path
 * skips it).  Read holding the migrate lock, so that nobody can change it
 * between this check and the run (the run itself may not: see
 * migrate_lock_set_running).  The scheduler chose the role from the row it
 * read; a register() since then may have replaced the script, or the
 * approval, under that role.
 */
static char *
changed_since_planned(const ScheduledRun *run)
{
	const char *version = run->strings;
	MigrateMigration *registry;
	MigrateMigration *m;
	int			count;
	char	   *why = NULL;

	migrate_xact_begin_work(MIGRATE_WORK_SPI);
	registry = migrate_catalog_load_registry(&count);
	m = migrate_catalog_find_migration(registry, count, version);
	if (m != NULL && !migrate_catalog_is_applied(m))
	{
		const char *connected = GetUserNameFromId(GetUserId(), false);

		if (run->by_registrant &&
			(m->registered_by == NULL || strcmp(m->registered_by, connected) != 0))
			why = psprintf("migration %s changed since it was planned: it was registered again by role \"%s\", and would have run as role \"%s\"",
						   version, m->registered_by ? m->registered_by : "", connected);
		else if (strcmp(m->checksum, run->strings + run->checksum_off) != 0)
			why = psprintf("migration %s changed since it was planned: its script is not the one planned",
						   version);
		else if (run->approval_required && !m->approved)
			why = psprintf("migration %s changed since it was planned: it is no longer approved",
						   version);
		else
		{
			char	   *waiting_for = NULL;
			const char *held = migrate_guard_held_back(migrate_environment_current(), m,
													   run->approval_required, &waiting_for);

			if (held != NULL)
				why = psprintf("migration %s is held back by the environment's guard rails: %s",
							   version, held);
		}
		if (why != NULL)
			why = MemoryContextStrdup(TopMemoryContext, why);
	}
	migrate_xact_end_work(TopMemoryContext);
	return why;
}

/* run the migration; an error in the worker path's bookkeeping is a failure */
static void
run_one(ScheduledRun *run)
{
	const char *version = run->strings;
	MigrateRunInfo info = {0};
	MemoryContext caller = CurrentMemoryContext;
	MigrateWorkerResult result;

	/* history and progress name the schedule, and "k of n" of its run */
	info.schedule = run->strings + run->schedule_off;
	info.worker = "scheduler";
	info.first = run->number;
	info.total = run->total;

	PG_TRY();
	{
		result = migrate_worker_run_plan(list_make1(pstrdup(version)), DIRECTION_UP, &info,
										 NULL, run->window_end, NULL);
		if (result.stop == MIGRATE_WORKER_FAILED)
			report(run, SCHEDRUN_FAILED, result.error);
		else if (result.stop == MIGRATE_WORKER_WINDOW_CLOSING)
			report(run, SCHEDRUN_WINDOW_CLOSING, NULL);
		else
			report(run, result.done > 0 ? SCHEDRUN_DONE : SCHEDRUN_SKIPPED, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		report(run, SCHEDRUN_FAILED, edata);
	}
	PG_END_TRY();
}

/* refuse (SCHEDRUN_CHANGED) a migration changed since it was planned */
static bool
refuse_if_changed(ScheduledRun *run)
{
	char	   *volatile why = NULL;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		why = changed_since_planned(run);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
	}
	PG_END_TRY();

	if (edata != NULL)
		report(run, SCHEDRUN_FAILED, edata);
	else if (why != NULL)
	{
		strlcpy(run->message, why, RESULT_MESSAGE_LEN);
		report(run, SCHEDRUN_CHANGED, NULL);
	}
	return edata != NULL || why != NULL;
}

/*
 * Entry point of a scheduled migration's worker.
 */
void
migrate_schedworker_main(Datum main_arg)
{
	dsm_segment *seg;
	ScheduledRun *run;
	bool		locked;

	seg = migrate_dynworker_attach(main_arg, "scheduled migration segment");
	run = dsm_segment_address(seg);

	/* join the scheduler's lock group before taking any heavyweight lock */
	if (!BecomeLockGroupMember(run->leader, run->leader_pid))
		proc_exit(0);			/* the scheduler is gone already */

	/* FATAL here (no LOGIN, no CONNECT) leaves SCHEDRUN_NO_RESULT */
	BackgroundWorkerInitializeConnectionByOid(run->database, run->role, 0);
	/* a lock group member must never start parallel workers */
	migrate_noparallel_forbid();
	pgstat_report_activity(STATE_RUNNING,
						   psprintf("running migration %s for schedule %s", run->strings,
									run->strings + run->schedule_off));

	/* the database's (or role's) default for new sessions says read-only */
	if (DefaultXactReadOnly)
	{
		report(run, SCHEDRUN_READ_ONLY, NULL);
		proc_exit(0);
	}

	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	locked = migrate_lock_session_try();
	migrate_xact_end_work(TopMemoryContext);
	if (!locked)
	{
		report(run, SCHEDRUN_LOCK_BUSY, NULL);
		proc_exit(0);
	}

	if (!refuse_if_changed(run))
		run_one(run);
	migrate_lock_session_release();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
