/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The launcher: one scheduler per database that has the extension.
 *
 * With migrate in shared_preload_libraries the postmaster starts this
 * worker (and restarts it after a crash).  It connects to no database, so
 * it reads only the shared catalog pg_database, and starts a scheduler
 * (scheduler.c) in each database that allows connections (or each one
 * listed in migrate.databases) and may need one.  A database costs a
 * worker only while it has an enabled schedule: a scheduler that finds no
 * extension, or no enabled schedule, says so in
 * its slot ("idle") and exits, and the launcher frees the slot and starts
 * none there again until that database asks for one or the answer is ten
 * minutes old.
 *
 * Asking: schedule(), resume() and CREATE EXTENSION put their database in
 * a small wake set in shared memory as they commit (migrate_request_wakeup
 * in scheduler.c), so one database's schedule() makes the launcher start
 * a scheduler in that database only.  Each request carries a generation;
 * a scheduler records the generation before it looks, and its "idle"
 * answer does not count when a request of its database is newer: a
 * CREATE EXTENSION or schedule() committed while it looked wins.
 *
 * Probing: a database the launcher knows nothing about (after its own
 * start, a new database, a restore) or whose idle answer expired gets a
 * scheduler as a probe.  At most MAX_PROBES schedulers that have not found
 * an enabled schedule run at once, asked-for databases first, so probing
 * never takes the worker slots that apply() needs, and the ten-minute
 * re-probes rotate through the databases.  A scheduler that exits for any
 * other reason (a crash, pg_terminate_backend) is started again on the
 * next round, not sooner than RESTART_DELAY_MS after its start.
 *
 * The launcher sleeps on its latch: it is woken by those requests, by the
 * postmaster when one of its schedulers starts or stops (bgw_notify_pid),
 * by SIGHUP, or after migrate.naptime.
 *
 * IDENTIFICATION
 *	  src/bgw/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "store/durable.h"
#include "ipc/dynworker.h"
#include "guc.h"
#include "ipc/shmem.h"
#include "ipc/xact.h"
#include "bgw/launcher.h"

/* how long an "idle" answer (no extension, no schedule) is trusted */
#define REPROBE_INTERVAL_MS (10 * 60 * 1000)

/* a scheduler that ended is not started again sooner than this after its start */
#define RESTART_DELAY_MS (10 * 1000)

/* most schedulers at once that have not yet found an enabled schedule */
#define MAX_PROBES 2

PGDLLEXPORT void migrate_launcher_main(Datum main_arg);

/* launcher-local: the handle of each slot's scheduler */
static BackgroundWorkerHandle **handles;

/* what the launcher knows about each database it has seen */
typedef struct DatabaseState
{
	Oid			oid;			/* hash key */
	bool		idle;			/* needs no scheduler: do not start one */
	uint64		answered_generation;	/* wake_generation of that answer */
	TimestampTz answered_at;
	uint64		asked_generation;	/* its latest wake-up seen */
	bool		asked;			/* woken since its last start: served first */
} DatabaseState;

static HTAB *database_states = NULL;

/* "no free slot" was logged at this time (once per reprobe interval) */
static TimestampTz warned_full_at = 0;

/* "could not start a scheduler" was logged at this time (once a minute) */
static TimestampTz warned_no_worker_at = 0;

typedef struct DatabaseEntry
{
	Oid			oid;
	char		name[NAMEDATALEN];
} DatabaseEntry;

/*
 * Register the launcher; called from _PG_init while preloading.
 */
void
migrate_launcher_register(void)
{
	BackgroundWorker worker = {0};

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "migrate");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "migrate_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "migrate launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "migrate launcher");
	RegisterBackgroundWorker(&worker);
}

/* whether migrate.databases allows this database (empty: all) */
static bool
database_wanted(const char *name)
{
	char	   *list;
	List	   *names;
	ListCell   *lc;

	if (migrate_databases == NULL || migrate_databases[0] == '\0')
		return true;
	list = pstrdup(migrate_databases);
	if (!SplitIdentifierString(list, ',', &names))
		return false;
	foreach(lc, names)
		if (strcmp(lfirst(lc), name) == 0)
			return true;
	return false;
}

/* the databases a scheduler may serve, read from pg_database */
static List *
candidate_databases(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;

	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);
		MemoryContext old;
		DatabaseEntry *entry;

		if (!db->datallowconn || db->datistemplate || !database_wanted(NameStr(db->datname)))
			continue;
		old = MemoryContextSwitchTo(caller);
		entry = palloc(sizeof(DatabaseEntry));
		entry->oid = db->oid;
		strlcpy(entry->name, NameStr(db->datname), NAMEDATALEN);
		result = lappend(result, entry);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	migrate_xact_end_work(caller);
	return result;
}

/* the slot of a database, or of a free slot if "take" and none yet */
static int
slot_for(Oid database, bool take)
{
	int			free_slot = -1;

	for (int i = 0; i < migrate_shared->nschedulers; i++)
	{
		if (migrate_shared->schedulers[i].database == database)
			return i;
		if (free_slot < 0 && !OidIsValid(migrate_shared->schedulers[i].database))
			free_slot = i;
	}
	return take ? free_slot : -1;
}

/* fill or empty a slot, under the lock */
static void
set_slot(int slot, Oid database)
{
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	migrate_shared->schedulers[slot].database = database;
	migrate_shared->schedulers[slot].pid = 0;
	migrate_shared->schedulers[slot].active = false;
	migrate_shared->schedulers[slot].idle = false;
	migrate_shared->schedulers[slot].generation = 0;
	migrate_shared->schedulers[slot].hold_until = 0;
	migrate_shared->schedulers[slot].started_at = GetCurrentTimestamp();
	LWLockRelease(migrate_shared->lock);
}

/* the slot is filled first: the new scheduler looks for it at once */
static void
start_scheduler(int slot, const DatabaseEntry *db)
{
	char	   *name = psprintf("migrate scheduler for database %s", db->name);
	MemoryContext old;

	set_slot(slot, db->oid);
	/* the handle must outlive this round's memory */
	old = MemoryContextSwitchTo(TopMemoryContext);
	handles[slot] = migrate_dynworker_start("migrate_scheduler_main", "migrate scheduler",
											name, ObjectIdGetDatum(db->oid));
	MemoryContextSwitchTo(old);
	if (handles[slot] != NULL)
		return;
	set_slot(slot, InvalidOid);
	/* tried again every round: say so once a minute */
	if (TimestampDifferenceExceeds(warned_no_worker_at, GetCurrentTimestamp(), 60 * 1000))
	{
		ereport(LOG,
				(errmsg("migrate launcher could not start a scheduler for database \"%s\"", db->name),
				 errdetail("%s", migrate_dynworker_describe_slots()),
				 errhint("Raise max_worker_processes (it needs migrate.max_workers + %d).",
						 MIGRATE_WORKERS_BESIDES_SCHEDULERS)));
		warned_no_worker_at = GetCurrentTimestamp();
	}
}

/*
 * Is the scheduler of this slot still there?  The postmaster knows, through
 * the handle start_scheduler() kept.  A scheduler started by an earlier
 * incarnation of the launcher has no handle here (a handle cannot be had
 * for a worker one did not register): its slot's pid says, because the
 * scheduler clears it in a before_shmem_exit callback on every exit, and a
 * crash, which skips that, makes the postmaster reinitialise shared memory.
 * No signal probe: a pid may be reused.
 */
static bool
scheduler_alive(int slot)
{
	pid_t		pid;

	if (handles[slot] != NULL)
		return GetBackgroundWorkerPid(handles[slot], &pid) != BGWH_STOPPED;
	LWLockAcquire(migrate_shared->lock, LW_SHARED);
	pid = migrate_shared->schedulers[slot].pid;
	LWLockRelease(migrate_shared->lock);
	return pid != 0;
}

static bool
database_listed(List *databases, Oid database)
{
	ListCell   *lc;

	foreach(lc, databases)
		if (((DatabaseEntry *) lfirst(lc))->oid == database)
			return true;
	return false;
}

/* the launcher's knowledge of a database; unknown ones are not idle */
static DatabaseState *
database_state(Oid database)
{
	DatabaseState *state;
	bool		found;

	state = hash_search(database_states, &database, HASH_ENTER, &found);
	if (!found)
	{
		state->idle = false;
		state->answered_generation = 0;
		state->answered_at = 0;
		state->asked_generation = 0;
		state->asked = false;
	}
	return state;
}

/*
 * Empty the wake set: each database named there wants a scheduler (its
 * request is newer than any "idle" answer given before it).  An overflowed
 * set makes every database a candidate again.
 */
static void
take_wake_requests(void)
{
	MigrateWakeRequest requests[MIGRATE_WAKE_SET_SIZE];
	int			n;
	bool		rescan;

	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	n = migrate_shared->nwake;
	memcpy(requests, migrate_shared->wake, sizeof(MigrateWakeRequest) * n);
	migrate_shared->nwake = 0;
	rescan = migrate_shared->rescan;
	migrate_shared->rescan = false;
	LWLockRelease(migrate_shared->lock);

	if (rescan)
	{
		HASH_SEQ_STATUS seq;
		DatabaseState *state;

		hash_seq_init(&seq, database_states);
		while ((state = hash_seq_search(&seq)) != NULL)
			state->idle = false;
	}
	for (int i = 0; i < n; i++)
	{
		DatabaseState *state = database_state(requests[i].database);

		state->asked_generation = Max(state->asked_generation, requests[i].generation);
		state->asked = true;
		if (state->idle && requests[i].generation > state->answered_generation)
			state->idle = false;
	}
}

/*
 * An "idle" answer (no extension, no enabled schedule) counts unless the
 * database asked for a scheduler after the scheduler looked: a concurrent
 * CREATE EXTENSION or schedule() must not lose against it.  A request
 * that reaches the launcher only later is compared in take_wake_requests.
 */
static void
note_idle_answer(const MigrateSchedulerSlot *copy)
{
	DatabaseState *state = database_state(copy->database);

	if (state->asked_generation > copy->generation)
		return;
	state->idle = true;
	state->answered_generation = copy->generation;
	state->answered_at = GetCurrentTimestamp();
}

/*
 * Free the slot of every scheduler that has ended, remembering idle
 * answers.  A scheduler that ended otherwise (a crash,
 * pg_terminate_backend) keeps its slot for the restart delay, and one
 * kicked out by a database command until that is done.
 */
static void
collect_ended_schedulers(List *databases)
{
	for (int i = 0; i < migrate_shared->nschedulers; i++)
	{
		MigrateSchedulerSlot *slot = &migrate_shared->schedulers[i];
		MigrateSchedulerSlot copy;

		if (!OidIsValid(slot->database) || scheduler_alive(i))
			continue;
		/* schedulers and other backends write these under the lock */
		LWLockAcquire(migrate_shared->lock, LW_SHARED);
		copy = *slot;
		LWLockRelease(migrate_shared->lock);

		if (copy.idle)
			note_idle_answer(&copy);
		else if (database_listed(databases, copy.database) &&
				 (!TimestampDifferenceExceeds(copy.started_at, GetCurrentTimestamp(), RESTART_DELAY_MS) ||
				  GetCurrentTimestamp() < copy.hold_until))
			continue;			/* gone databases free their slot at once */
		set_slot(i, InvalidOid);
		if (handles[i])
			pfree(handles[i]);
		handles[i] = NULL;
	}
}

/*
 * Idle answers expire one by one, each REPROBE_INTERVAL_MS after it was
 * given, so that after a restart or a restore every database with
 * schedules is found; at most MAX_PROBES run at once, so the probes
 * rotate through the databases instead of all starting together.  A
 * database with a spooled failure record (durable.c) needs a scheduler to
 * write it into its tables.
 */
static void
expire_idle_answers(void)
{
	List	   *spooled = migrate_durable_spooled_databases();
	HASH_SEQ_STATUS seq;
	DatabaseState *state;
	ListCell   *lc;

	hash_seq_init(&seq, database_states);
	while ((state = hash_seq_search(&seq)) != NULL)
		if (state->idle &&
			TimestampDifferenceExceeds(state->answered_at, GetCurrentTimestamp(), REPROBE_INTERVAL_MS))
			state->idle = false;
	foreach(lc, spooled)
	{
		state = database_state(lfirst_oid(lc));
		state->idle = false;
		state->asked = true;
	}
}

/* schedulers running that have not (yet) found an enabled schedule */
static int
probes_running(void)
{
	int			n = 0;

	LWLockAcquire(migrate_shared->lock, LW_SHARED);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
		if (OidIsValid(migrate_shared->schedulers[i].database) &&
			!migrate_shared->schedulers[i].active)
			n++;
	LWLockRelease(migrate_shared->lock);
	return n;
}

/*
 * Start a scheduler in each database that may need one, asked-for ones
 * first, as long as slots are free and fewer than MAX_PROBES are probing.
 */
static void
start_schedulers(List *databases)
{
	for (int pass = 0; pass < 2; pass++)
	{
		ListCell   *lc;

		foreach(lc, databases)
		{
			DatabaseEntry *db = lfirst(lc);
			DatabaseState *state = database_state(db->oid);
			int			slot;

			if (slot_for(db->oid, false) >= 0)
			{
				state->asked = false;	/* its scheduler was woken directly */
				continue;
			}
			if (state->idle || (pass == 0 && !state->asked))
				continue;
			if (probes_running() >= MAX_PROBES)
				return;
			slot = slot_for(db->oid, true);
			if (slot < 0)
			{
				if (TimestampDifferenceExceeds(warned_full_at, GetCurrentTimestamp(), REPROBE_INTERVAL_MS))
				{
					ereport(LOG,
							(errmsg("migrate launcher has no free scheduler slot for database \"%s\"", db->name),
							 errdetail("All %d slots are taken by databases with enabled schedules.",
									   migrate_shared->nschedulers),
							 errhint("Raise migrate.max_workers (and max_worker_processes with it).")));
					warned_full_at = GetCurrentTimestamp();
				}
				return;
			}
			state->asked = false;
			start_scheduler(slot, db);
		}
	}
}

/*
 * One round: take the databases' requests, collect schedulers that ended,
 * then start one for every wanted database that is not known to be idle.
 */
static void
launch_round(void)
{
	List	   *databases = candidate_databases();

	take_wake_requests();
	collect_ended_schedulers(databases);
	expire_idle_answers();
	start_schedulers(databases);
}

/*
 * Say at startup when max_worker_processes leaves no room for what migrate
 * needs: the launcher, migrate.max_workers schedulers, an apply worker and
 * a failure recorder, besides PostgreSQL's logical replication launcher.
 */
static void
check_worker_budget(void)
{
	int			needed = migrate_max_workers + MIGRATE_WORKERS_BESIDES_SCHEDULERS;

	if (max_worker_processes < needed)
		ereport(LOG,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("max_worker_processes (%d) is too small for migrate.max_workers (%d)",
						max_worker_processes, migrate_max_workers),
				 errdetail("migrate needs %d background worker slots: one per scheduler, plus the launcher, an apply worker, a failure recorder and the logical replication launcher.",
						   needed),
				 errhint("Set max_worker_processes to at least %d, or lower migrate.max_workers.",
						 needed)));
}

static void
forget_launcher(int code, Datum arg)
{
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	migrate_shared->launcher_pid = 0;
	migrate_shared->launcher_latch = NULL;
	LWLockRelease(migrate_shared->lock);
}

/*
 * Entry point of the launcher.
 */
void
migrate_launcher_main(Datum main_arg)
{
	MemoryContext loop_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	handles = MemoryContextAllocZero(TopMemoryContext,
									 sizeof(BackgroundWorkerHandle *) * migrate_shared->nschedulers);
	/* schedulers of an earlier launcher keep their slots while they live */
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	migrate_shared->launcher_pid = MyProcPid;
	migrate_shared->launcher_latch = MyLatch;
	LWLockRelease(migrate_shared->lock);
	before_shmem_exit(forget_launcher, (Datum) 0);

	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(DatabaseState);
		database_states = hash_create("migrate launcher databases", 64, &ctl,
									  HASH_ELEM | HASH_BLOBS);
	}
	check_worker_budget();

	loop_context = AllocSetContextCreate(TopMemoryContext, "migrate launcher loop",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		migrate_dynworker_begin_round(loop_context);
		pgstat_report_activity(STATE_RUNNING, "starting schedulers");
		launch_round();
		pgstat_report_activity(STATE_IDLE, NULL);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 migrate_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
