/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  The per-database migrate lock.
 *
 * Locking protocol.  Every function that changes the state or content of
 * migrations (register, apply, revert, repair) first takes one heavyweight
 * advisory lock per database, in ExclusiveLock mode, at transaction level.
 * It is held until the caller's transaction ends, so two callers can never
 * apply the same migration, and a registration can never slip in between
 * the moment apply reads the registry and the moment it commits.  Being a
 * regular lock it shows in pg_locks, takes part in deadlock detection and
 * is released by commit, abort or backend exit.  Taking it again in the
 * same transaction is free.
 *
 * A second caller waits up to migrate.lock_timeout.  The wait happens in
 * the lock manager's own queue (fair, deadlock-checked) with lock_timeout
 * set to that value for the duration of the wait only; the wait runs in a
 * subtransaction so that a timeout can be caught, cleaned up by the
 * subtransaction abort, and reported with the holder's pid and query.
 *
 * IDENTIFICATION
 *	  src/lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "fmgr.h"

#include "guc.h"
#include "lock.h"

PG_FUNCTION_INFO_V1(migrate_acquire_lock);

/* true while migrations run: their own SQL must not change migrations */
static bool migrations_running = false;

void
migrate_set_running(bool running)
{
	migrations_running = running;
}

static void
set_migrate_locktag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, MIGRATE_LOCK_CLASSID,
						 MIGRATE_LOCK_OBJID, 2);
}

/*
 * Describe who holds the lock: "process 123 (role "x", running for 00:00:05):
 * SELECT ...".  Returns NULL if the holder is already gone.
 */
static char *
describe_lock_holder(void)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		values[2] = {ObjectIdGetDatum(MIGRATE_LOCK_CLASSID),
	ObjectIdGetDatum(MIGRATE_LOCK_OBJID)};
	char	   *description = NULL;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(
							   "SELECT pg_catalog.format('process %s (role %I, %s for %s): %s',"
							   " l.pid, a.usename, a.state,"
							   " pg_catalog.date_trunc('second', pg_catalog.now() - a.xact_start),"
							   " pg_catalog.left(a.query, 200))"
							   " FROM pg_catalog.pg_locks l"
							   " LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
							   " WHERE l.locktype = 'advisory' AND l.granted"
							   " AND l.database = (SELECT oid FROM pg_catalog.pg_database"
							   "                   WHERE datname = pg_catalog.current_database())"
							   " AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2"
							   " LIMIT 1",
							   2, argtypes, values, NULL, true, 1);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (text)
			description = MemoryContextStrdup(TopTransactionContext, text);
	}
	SPI_finish();
	return description;
}

pg_attribute_noreturn()
static void
report_lock_busy(void)
{
	char	   *holder = describe_lock_holder();

	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not obtain migrate lock on database \"%s\"",
					get_database_name(MyDatabaseId)),
			 holder ? errdetail("It is held by %s.", holder) :
			 errdetail("Another session held it."),
			 migrate_lock_timeout == 0 ?
			 errhint("Set migrate.lock_timeout to wait for the other session.") :
			 errhint("Waited %d ms (migrate.lock_timeout). Retry when the other session has finished.",
					 migrate_lock_timeout)));
}

/*
 * Wait for the lock in the lock manager's queue, for at most
 * migrate.lock_timeout.  Returns false on timeout.
 */
static bool
wait_for_lock(LOCKTAG *tag)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool acquired = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	PG_TRY();
	{
		int			nestlevel = NewGUCNestLevel();
		char		timeout[32];

		snprintf(timeout, sizeof(timeout), "%d", migrate_lock_timeout);
		(void) set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) LockAcquire(tag, ExclusiveLock, false, false);
		AtEOXact_GUC(true, nestlevel);

		/* committing the subtransaction hands the lock to the parent */
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		/* anything but the timeout (a cancel, a deadlock) goes on up */
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);
		acquired = false;
	}
	PG_END_TRY();

	return acquired;
}

/*
 * Take the migrate lock of the current database for the rest of the
 * transaction, waiting up to migrate.lock_timeout.
 */
void
migrate_lock_acquire(void)
{
	LOCKTAG		tag;

	/* the lock is re-entrant, so a migration calling apply() would recurse */
	if (migrations_running)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change migrations from inside a migration"),
				 errdetail("A migration script called register(), apply(), revert() or repair().")));

	/*
	 * With a transaction snapshot, what we read after waiting would be what
	 * the previous holder saw, not what it committed: a migration could be
	 * applied twice.
	 */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("migrations can only be changed in a READ COMMITTED transaction"),
				 errdetail("The transaction uses isolation level %s.",
						   IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errhint("Run it with SET TRANSACTION ISOLATION LEVEL READ COMMITTED.")));

	set_migrate_locktag(&tag);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	if (migrate_lock_timeout == 0 || !wait_for_lock(&tag))
		report_lock_busy();
}

/*
 * Background workers hold the lock for a whole run, across the many
 * transactions it commits: take it at session level, without waiting.
 * Returns false if somebody else holds it.  An apply worker is in the
 * lock group of the backend that handed it the run, so the lock that
 * backend holds does not conflict (see handoff.c).
 */
bool
migrate_lock_session_try(void)
{
	LOCKTAG		tag;

	set_migrate_locktag(&tag);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

void
migrate_lock_session_release(void)
{
	LOCKTAG		tag;

	set_migrate_locktag(&tag);
	LockRelease(&tag, ExclusiveLock, true);
}

/* migrate.acquire_lock(): for the SQL functions that change migrations */
Datum
migrate_acquire_lock(PG_FUNCTION_ARGS)
{
	migrate_lock_acquire();
	PG_RETURN_VOID();
}
