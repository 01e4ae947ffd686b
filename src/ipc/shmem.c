/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Shared memory of migrate: the launcher, per-database schedulers and
 *	  live progress of every migration being applied or reverted.
 *
 * The area exists only when the library is in shared_preload_libraries.
 * Without it every SQL function except the scheduler still works, and
 * migrate_shared stays NULL: progress reporting is then a no-op and the
 * progress view is empty.
 *
 * Locking protocol.  One LWLock (tranche "migrate") protects the whole
 * struct.  Each backend writes only the progress slot of its own PGPROC
 * (indexed by pgprocno), taking the lock exclusively for the few
 * microseconds of a copy, once per statement; readers take it shared and
 * copy the slots out before formatting anything.  The scheduler slots are
 * written by the launcher (database, started_at) and by each scheduler
 * (its pid, active, idle, generation), always under the lock.  The wake
 * set is appended to by any backend whose transaction asks for a
 * scheduler (schedule(), resume(), CREATE EXTENSION) as it commits, and
 * emptied by the launcher.  The launcher's latch is set, under the lock,
 * to wake it: on such a commit, and when a scheduler exits.
 *
 * IDENTIFICATION
 *	  src/ipc/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "guc.h"
#include "ipc/shmem.h"

MigrateShared *migrate_shared = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* one progress slot per PGPROC that can run SQL */
static int
progress_slot_count(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

static Size
migrate_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(MigrateShared));

	size = add_size(size, mul_size(migrate_max_workers, sizeof(MigrateSchedulerSlot)));
	size = add_size(size, mul_size(progress_slot_count(), sizeof(MigrateProgress)));
	return size;
}

static void
migrate_shmem_request(void)
{
#if PG_VERSION_NUM >= 150000
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(migrate_shmem_size());
	RequestNamedLWLockTranche("migrate", 1);
}

/*
 * shmem_startup_hook: create (or attach to) migrate's shared memory area
 * and, the first time, initialise its lock, scheduler slots and progress
 * slots.
 */
static void
migrate_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	migrate_shared = ShmemInitStruct("migrate", migrate_shmem_size(), &found);
	if (!found)
	{
		char	   *p = (char *) migrate_shared;

		memset(migrate_shared, 0, migrate_shmem_size());
		migrate_shared->lock = &(GetNamedLWLockTranche("migrate"))->lock;
		migrate_shared->nschedulers = migrate_max_workers;
		migrate_shared->nprogress = progress_slot_count();
		p += MAXALIGN(sizeof(MigrateShared));
		migrate_shared->schedulers = (MigrateSchedulerSlot *) p;
		p += mul_size(migrate_max_workers, sizeof(MigrateSchedulerSlot));
		migrate_shared->progress = (MigrateProgress *) p;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Install the hooks; called from _PG_init while preloading only.
 */
void
migrate_shmem_init(void)
{
#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = migrate_shmem_request;
#else
	migrate_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = migrate_shmem_startup;
}

/*
 * Ask the launcher for a scheduler in this database: add it to the wake
 * set with a new generation (which also outdates an "idle" answer its
 * scheduler gave before now) and wake the launcher.  If the set is full
 * the launcher looks at every database instead.  A no-op without the
 * launcher's shared memory.
 */
void
migrate_shmem_ask_for_scheduler(Oid database)
{
	uint64		generation;
	int			i;

	if (migrate_shared == NULL)
		return;
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	generation = ++migrate_shared->wake_generation;
	for (i = 0; i < migrate_shared->nwake; i++)
		if (migrate_shared->wake[i].database == database)
			break;
	if (i < migrate_shared->nwake)
		migrate_shared->wake[i].generation = generation;
	else if (migrate_shared->nwake < MIGRATE_WAKE_SET_SIZE)
	{
		migrate_shared->wake[i].database = database;
		migrate_shared->wake[i].generation = generation;
		migrate_shared->nwake++;
	}
	else
		migrate_shared->rescan = true;
	if (migrate_shared->launcher_latch)
		SetLatch(migrate_shared->launcher_latch);
	LWLockRelease(migrate_shared->lock);
}
