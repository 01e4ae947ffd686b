/*-------------------------------------------------------------------------
 *
 * xact.c
 *	  Transaction plumbing for any migrate process: SPI connections, a
 *	  worker's unit of work, and subtransactions that hand back the error.
 *
 * Three patterns that every layer needs, written once.  None of them
 * knows anything of migrations, so they sit low (in ipc/, beside the
 * process plumbing), where the durable failure recorder of store/ can use
 * them as well as the workers of exec/ and bgw/.
 *
 *  - migrate_xact_spi_connect(): SPI_connect() with its result checked.  A
 *	  failure is an internal error (elog), never one a user can cause.
 *
 *  - migrate_xact_begin_work() / migrate_xact_end_work(): the unit of work of a
 *	  background worker (the launcher, the schedulers, the scheduled and
 *	  apply workers, the failure recorder, and the apply worker's cleanup
 *	  of leftover indexes), as worker_spi does it: the statement start
 *	  time, a transaction, and when asked for (flags) an active snapshot,
 *	  and SPI connected for queries; then SPI_finish, PopActiveSnapshot and
 *	  commit, back in a memory context that outlives the transaction.  MIGRATE_WORK_READ_WRITE makes the transaction
 *	  writable before its first snapshot, where the database defaults to
 *	  read only: migrate's own bookkeeping must not fail where a migration
 *	  did.  Units do not nest.  An error between the two is the caller's to
 *	  catch; aborting the transaction cleans up SPI and the snapshot, and
 *	  the next migrate_xact_begin_work() starts afresh.  Reporting the activity
 *	  (pgstat_report_activity) stays with the callers, since it spans
 *	  several units.
 *
 *  - migrate_xact_run_subxact(): run a function in an internal subtransaction
 *	  and give back the error it raised, if any, as plpgsql's EXCEPTION
 *	  blocks do: BeginInternalSubTransaction, then on success release (or
 *	  roll back, for code that only looks) and on error CopyErrorData,
 *	  FlushErrorState and RollbackAndReleaseCurrentSubTransaction; either
 *	  way the caller's memory context and resource owner are current
 *	  afterwards.  The error comes back copied into the caller's memory
 *	  context; whether to re-throw it (ReThrowError) is the caller's
 *	  decision.  A callback may look at the error before the rollback
 *	  frees what the body allocated.
 *
 * IDENTIFICATION
 *	  src/ipc/xact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "ipc/xact.h"

/* the flags of the unit of work begun last (see migrate_xact_end_work) */
static int	work_flags = MIGRATE_WORK_PLAIN;

/*
 * Connect to SPI, or fail with an internal error: the one copy of a check
 * that every SQL-callable function and worker needs.
 */
void
migrate_xact_spi_connect(void)
{
	migrate_xact_spi_connect_ext(0);
}

/* the same with SPI_connect_ext options (SPI_OPT_NONATOMIC for CALL) */
void
migrate_xact_spi_connect_ext(int options)
{
	int			rc = SPI_connect_ext(options);

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
}

/*
 * Begin a worker's unit of work: a transaction, writable if the flags say
 * so, with an active snapshot if they ask for one, and SPI connected if
 * they ask for SPI.
 */
void
migrate_xact_begin_work(int flags)
{
	/* units of work do not nest: each is a top-level transaction */
	Assert(!IsTransactionState());
	work_flags = flags;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* only before the first snapshot (check_transaction_read_only) */
	if (flags & MIGRATE_WORK_READ_WRITE)
		(void) set_config_option("transaction_read_only", "off", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	if (flags & MIGRATE_WORK_SNAPSHOT)
		PushActiveSnapshot(GetTransactionSnapshot());
	if ((flags & MIGRATE_WORK_SPI) == MIGRATE_WORK_SPI)
		migrate_xact_spi_connect();
}

/*
 * Commit the unit of work begun last and return to "keep", a memory
 * context that outlives the transaction.
 */
void
migrate_xact_end_work(MemoryContext keep)
{
	if ((work_flags & MIGRATE_WORK_SPI) == MIGRATE_WORK_SPI)
		SPI_finish();
	if (work_flags & MIGRATE_WORK_SNAPSHOT)
		PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(keep);
	work_flags = MIGRATE_WORK_PLAIN;
}

/*
 * In the PG_CATCH of a unit of work (migrate_xact_begin_work): copy the
 * error into "keep", clear it, and abort the transaction.  Returns the
 * error, with "keep" current, for the caller to log, record or re-throw;
 * the next unit of work starts afresh.
 */
ErrorData *
migrate_xact_abort_work(MemoryContext keep)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(keep);
	edata = CopyErrorData();
	FlushErrorState();
	/* every level: an error may come from inside a subtransaction */
	AbortOutOfAnyTransaction();
	MemoryContextSwitchTo(keep);
	work_flags = MIGRATE_WORK_PLAIN;
	return edata;
}

/*
 * on_error(arg, edata) of migrate_xact_run_subxact(), inside the failed
 * subtransaction.  Should it fail in turn (out of memory), the
 * subtransaction is rolled back and the caller's memory context and
 * resource owner restored before its error goes on, so that the caller is
 * not left inside a subtransaction it never began.
 */
static void
call_on_error(MigrateSubxactOnError on_error, void *arg, ErrorData *edata,
			  MemoryContext caller, ResourceOwner owner)
{
	PG_TRY();
	{
		on_error(arg, edata);
	}
	PG_CATCH();
	{
		ErrorData  *again;

		MemoryContextSwitchTo(caller);
		again = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		ReThrowError(again);
	}
	PG_END_TRY();
}

/*
 * Run body(arg) in an internal subtransaction.  When it returns, the
 * subtransaction is released ("commit": its work stays, part of the
 * enclosing transaction) or rolled back, and the result is NULL.  When it
 * raises an error, on_error(arg, error) runs first if given (the body's
 * memory still exists then), the subtransaction is rolled back, and the
 * error, copied into the caller's memory context, is returned.  Either way
 * the caller's memory context and resource owner are current again.
 */
ErrorData *
migrate_xact_run_subxact(MigrateSubxactBody body, void *arg, bool commit,
						 MigrateSubxactOnError on_error)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	/* the body allocates in the caller's context, as if it ran inline */
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		body(arg);
		if (commit)
			ReleaseCurrentSubTransaction();
		else
			RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		if (on_error)
			call_on_error(on_error, arg, edata, caller, owner);
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = owner;
	return edata;
}
