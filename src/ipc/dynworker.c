/*-------------------------------------------------------------------------
 *
 * dynworker.c
 *	  Starting migrate's dynamic background workers.
 *
 * The failure recorder, the apply worker and the schedulers are all
 * dynamic workers of this library with a database connection, never
 * restarted by the postmaster, and reporting their start and exit to the
 * process that starts them (so it can wait for them, or restart them).
 *
 * IDENTIFICATION
 *	  src/ipc/dynworker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "ipc/dynworker.h"
#include "ipc/shmem.h"

/*
 * Register a dynamic worker running "function" of this library; NULL when
 * no worker slot is free.
 */
BackgroundWorkerHandle *
migrate_dynworker_start(const char *function, const char *type, const char *name, Datum arg)
{
	BackgroundWorker worker = {0};
	BackgroundWorkerHandle *handle;

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "migrate");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker.bgw_type, BGW_MAXLEN, "%s", type);
	snprintf(worker.bgw_name, BGW_MAXLEN, "%s", name);
	worker.bgw_main_arg = arg;
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return NULL;
	return handle;
}

/*
 * As migrate_dynworker_start, but while no slot is free try again every
 * 100 ms for up to wait_ms: a slot is often freed within moments (a
 * scheduler probing a database, another call's worker).  Interruptible.
 */
BackgroundWorkerHandle *
migrate_dynworker_start_waiting(const char *function, const char *type, const char *name,
								Datum arg, int wait_ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms);

	for (;;)
	{
		BackgroundWorkerHandle *handle = migrate_dynworker_start(function, type, name, arg);

		if (handle != NULL || GetCurrentTimestamp() >= deadline)
			return handle;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * What uses the background worker slots, for an error message: migrate's
 * own schedulers (when preloaded) and the rest.
 */
char *
migrate_dynworker_describe_slots(void)
{
	int			schedulers = 0;

	if (migrate_shared == NULL)
		return psprintf("All %d max_worker_processes slots are taken, by parallel query, logical replication or other extensions' workers.",
						max_worker_processes);
	LWLockAcquire(migrate_shared->lock, LW_SHARED);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
		if (OidIsValid(migrate_shared->schedulers[i].database))
			schedulers++;
	LWLockRelease(migrate_shared->lock);
	return psprintf("All %d max_worker_processes slots are taken: migrate's launcher and %d scheduler(s) use %d, parallel query, logical replication and other extensions' workers the rest.",
					max_worker_processes, schedulers, schedulers + 1);
}

/*
 * First steps of such a worker: signals, then the DSM segment its starter
 * passed as the argument ("what" names it in the error).  There is no
 * resource owner yet, so the mapping lasts until the worker exits.
 */
void *
migrate_dynworker_attach(Datum main_arg, const char *what)
{
	dsm_segment *seg;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the %s", what)));
	return seg;
}

/*
 * The top of a long-lived worker's main loop (launcher, scheduler): handle
 * interrupts and a configuration reload (SIGHUP), then start the round in
 * "loop_context", emptied of what the previous round allocated.
 */
void
migrate_dynworker_begin_round(MemoryContext loop_context)
{
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
	MemoryContextReset(loop_context);
	MemoryContextSwitchTo(loop_context);
}
