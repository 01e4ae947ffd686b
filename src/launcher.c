/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The launcher: one scheduler per database that has the extension.
 *
 * With migrate in shared_preload_libraries the postmaster starts this
 * worker (and restarts it after a crash).  It connects to no database, so
 * it reads only the shared catalog pg_database, and starts a scheduler
 * (scheduler.c) in each database that allows connections (or each one
 * listed in migrate.databases), up to migrate.max_workers at a time.  A
 * scheduler that finds no extension in its database says so in its slot
 * and exits; the launcher frees the slot and does not probe that database
 * again until it is told that an extension was created (CREATE EXTENSION
 * wakes it, see migrate_request_wakeup) or ten minutes have passed.  A scheduler that
 * exits for any other reason (a crash, pg_terminate_backend) is started
 * again on the next round.
 *
 * The launcher sleeps on its latch: it is woken by CREATE EXTENSION, by
 * the postmaster when one of its schedulers starts or stops (bgw_notify_pid),
 * by SIGHUP, or after migrate.naptime.
 *
 * IDENTIFICATION
 *	  src/launcher.c
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
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "dynworker.h"
#include "guc.h"
#include "shmem.h"
#include "worker.h"

/* how often databases without the extension are probed anyway */
#define REPROBE_INTERVAL_MS (10 * 60 * 1000)

/* a scheduler that ended is not started again sooner than this after its start */
#define RESTART_DELAY_MS (10 * 1000)

PGDLLEXPORT void migrate_launcher_main(Datum main_arg);

/* launcher-local: the handle of each slot's scheduler */
static BackgroundWorkerHandle **handles;

/* databases whose scheduler found no extension, until the next probe */
static List *without_extension = NIL;

/* "no free slot" was logged since the last probe */
static bool warned_full = false;

typedef struct DatabaseEntry
{
	Oid			oid;
	char		name[NAMEDATALEN];
} DatabaseEntry;

/*
 * Register the launcher; called from _PG_init while preloading.
 */
void
migrate_register_launcher(void)
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

	StartTransactionCommand();
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
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
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

static void
start_scheduler(int slot, const DatabaseEntry *db)
{
	char	   *name = psprintf("migrate scheduler for database %s", db->name);
	MemoryContext old;

	/* the handle must outlive this round's memory */
	old = MemoryContextSwitchTo(TopMemoryContext);
	handles[slot] = migrate_start_worker("migrate_scheduler_main", "migrate scheduler",
										 name, ObjectIdGetDatum(db->oid));
	MemoryContextSwitchTo(old);
	if (handles[slot] == NULL)
	{
		ereport(LOG,
				(errmsg("migrate launcher could not start a scheduler for database \"%s\"", db->name),
				 errhint("Raise max_worker_processes.")));
		return;
	}
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	migrate_shared->schedulers[slot].database = db->oid;
	migrate_shared->schedulers[slot].pid = 0;
	migrate_shared->schedulers[slot].no_extension = false;
	migrate_shared->schedulers[slot].hold_until = 0;
	migrate_shared->schedulers[slot].started_at = GetCurrentTimestamp();
	LWLockRelease(migrate_shared->lock);
}

/*
 * Is the scheduler of this slot still there?  One started by an earlier
 * incarnation of the launcher has no handle here: ask its process.
 */
static bool
scheduler_alive(int slot)
{
	pid_t		pid;

	if (handles[slot] != NULL)
		return GetBackgroundWorkerPid(handles[slot], &pid) != BGWH_STOPPED;
	pid = migrate_shared->schedulers[slot].pid;
	return pid != 0 && kill(pid, 0) == 0;
}

/*
 * Free the slot of every scheduler that has ended, remembering databases
 * without the extension.  A scheduler that ended otherwise (a crash,
 * pg_terminate_backend) keeps its slot for the restart delay, and one
 * kicked out by a database command until that is done.
 */
static bool
database_listed(List *databases, Oid database)
{
	ListCell   *lc;

	foreach(lc, databases)
		if (((DatabaseEntry *) lfirst(lc))->oid == database)
			return true;
	return false;
}

static void
collect_ended_schedulers(List *databases)
{
	for (int i = 0; i < migrate_shared->nschedulers; i++)
	{
		MigrateSchedulerSlot *slot = &migrate_shared->schedulers[i];
		MigrateSchedulerSlot copy;
		uint64		wake_generation;

		if (!OidIsValid(slot->database) || scheduler_alive(i))
			continue;
		/* schedulers and other backends write these under the lock */
		LWLockAcquire(migrate_shared->lock, LW_SHARED);
		copy = *slot;
		wake_generation = migrate_shared->wake_generation;
		LWLockRelease(migrate_shared->lock);

		/* no answer about the extension counts if one was created since */
		if (copy.no_extension && copy.generation == wake_generation)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			without_extension = lappend_oid(without_extension, copy.database);
			MemoryContextSwitchTo(old);
		}
		else if (database_listed(databases, copy.database) &&
				 (!TimestampDifferenceExceeds(copy.started_at, GetCurrentTimestamp(), RESTART_DELAY_MS) ||
				  GetCurrentTimestamp() < copy.hold_until))
			continue;			/* gone databases free their slot at once */
		LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
		slot->database = InvalidOid;
		slot->pid = 0;
		slot->no_extension = false;
		LWLockRelease(migrate_shared->lock);
		if (handles[i])
			pfree(handles[i]);
		handles[i] = NULL;
	}
}

/*
 * One round: collect schedulers that ended, then start one for every
 * wanted database that has neither a scheduler nor a known absence of the
 * extension.  "reprobe" forgets those absences.
 */
static void
launch_round(bool reprobe)
{
	List	   *databases = candidate_databases();
	ListCell   *lc;

	if (reprobe)
	{
		list_free(without_extension);
		without_extension = NIL;
		warned_full = false;
	}
	collect_ended_schedulers(databases);

	foreach(lc, databases)
	{
		DatabaseEntry *db = lfirst(lc);
		int			slot;

		if (list_member_oid(without_extension, db->oid) || slot_for(db->oid, false) >= 0)
			continue;
		slot = slot_for(db->oid, true);
		if (slot < 0)
		{
			if (!warned_full)
				ereport(LOG,
						(errmsg("migrate launcher has no free scheduler slot for database \"%s\"", db->name),
						 errhint("Raise migrate.max_workers.")));
			warned_full = true;
			break;
		}
		start_scheduler(slot, db);
	}
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
	TimestampTz last_probe = 0;

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

	loop_context = AllocSetContextCreate(TopMemoryContext, "migrate launcher loop",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		bool		reprobe;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
		reprobe = migrate_shared->rescan ||
			TimestampDifferenceExceeds(last_probe, GetCurrentTimestamp(), REPROBE_INTERVAL_MS);
		migrate_shared->rescan = false;
		LWLockRelease(migrate_shared->lock);
		if (reprobe)
			last_probe = GetCurrentTimestamp();

		MemoryContextReset(loop_context);
		MemoryContextSwitchTo(loop_context);
		pgstat_report_activity(STATE_RUNNING, "starting schedulers");
		launch_round(reprobe);
		pgstat_report_activity(STATE_IDLE, NULL);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 migrate_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
