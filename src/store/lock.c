/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  The per-database migrate lock.
 *
 * Locking protocol.  Every function that changes the state or content of
 * migrations (register, apply, revert, repair) first takes one heavyweight
 * lock per database, in ExclusiveLock mode, at transaction level.  It is
 * held until the caller's transaction ends, so two callers can never apply
 * the same migration, and a registration can never slip in between the
 * moment apply reads the registry and the moment it commits.  Being a
 * regular lock it shows in pg_locks, takes part in deadlock detection and
 * is released by commit, abort or backend exit.  Taking it again in the
 * same transaction is free.
 *
 * The lock tag.  The lock is an object lock on the extension itself, with
 * a sub-object number no core command uses: (pg_extension, oid of
 * extension migrate, objsubid 1), seen in pg_locks as locktype 'object'.
 * No SQL function takes object locks with a chosen sub-object: core
 * commands lock an extension with objsubid 0 (get_object_address), and
 * the advisory-lock functions build advisory tags, a different lock type.
 * So no role can take the lock, or hold it to block migrations, except by
 * calling migrate's own functions.  (The first release used an advisory
 * key, which pg_advisory_lock() could take.)  The tag belongs to the user
 * lock method, as advisory locks do, because a run holds the lock at
 * session level across transactions, some of which fail: an abort
 * releases the default method's session locks too (that is how CREATE
 * INDEX CONCURRENTLY's are cleaned up), the user method's only at exit.
 *
 * Waiting.  A second caller waits up to migrate.lock_timeout, in the lock
 * manager's own queue, with lock_timeout set for the duration of the wait
 * only; the wait runs in a subtransaction so that a timeout can be caught,
 * cleaned up by the subtransaction abort, and reported with the holder's
 * pid and query.  The wait is cut into slices shorter than
 * deadlock_timeout, for the reason below.
 *
 * Statements outside a transaction.  A run that executes CREATE INDEX
 * CONCURRENTLY (and its kind) at top level holds the lock at session level
 * (an apply worker, a scheduler) and, while it runs such statements, a
 * second object lock, objsubid 2, the "run marker".  Those statements wait
 * for every transaction whose snapshot is older than theirs, and a session
 * queued for the migrate lock is inside SELECT migrate.apply() and so holds
 * a snapshot: the index build waits for the waiter, which waits for the
 * lock the build's run holds.  The deadlock detector would then cancel one
 * of them, possibly the index build, leaving its migration dirty.  So a
 * waiter never waits while the marker is held: it checks the marker before
 * queueing and after every slice, and then fails at once with 55P03
 * naming the running migration.  A slice is at most a quarter of
 * deadlock_timeout, so a run that starts while a waiter is queued sees the
 * waiter leave well before its own deadlock check runs, which then finds
 * no cycle.  Checking the marker is a conditional ShareLock request,
 * released at once; the run holds the marker in ExclusiveLock.  A caller
 * that holds no snapshot (CALL migrate.deploy(), deploy.c) is invisible to
 * those statements and waits in one piece instead.
 *
 * Lock groups.  The apply worker (handoff.c) joins the lock group of the
 * backend that handed it a run and that holds the lock.  A member's
 * no-wait request is refused whenever another backend is queued for the
 * lock (a new request must not overtake conflicting waiters), but a
 * waiting request is granted at once when the group already holds the
 * lock: the lock manager puts a process in front of waiters that conflict
 * with locks its group holds, and grants it there if nothing ahead
 * conflicts (ProcSleep in PostgreSQL 15, JoinWaitQueue in later
 * releases).  So a group member asks with a short wait, which does not
 * depend on the queue.
 *
 * IDENTIFICATION
 *	  src/store/lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "fmgr.h"

#include "guc.h"
#include "store/lock.h"
#include "ipc/xact.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_acquire_lock);

/* true while migrations run: their own SQL must not change migrations */
static bool migrations_running = false;

/* the locks this process holds at session level (valid when held) */
static bool holding_session_lock = false;
static LOCKTAG session_lock_tag;
static bool holding_run_marker = false;
static LOCKTAG run_marker_tag;

void
migrate_lock_set_running(bool running)
{
	migrations_running = running;
}

/* the tag of one of migrate's locks (objsubid) in this database */
static void
set_migrate_locktag(LOCKTAG *tag, uint16 objsubid)
{
	Oid			extension = get_extension_oid("migrate", false);

	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, ExtensionRelationId, extension, objsubid);
	/* session-level holds must survive a failed transaction of their run */
	tag->locktag_lockmethodid = USER_LOCKMETHOD;
}

/* a query that describes the lock holder, and what it found */
typedef struct Description
{
	const char *query;
	MemoryContext keep;
	char	   *text;			/* NULL: nothing to say */
} Description;

/* run the query (as the caller, who may see only what it may see) */
static void
run_description(void *arg)
{
	Description *d = arg;
	Oid			argtypes[3] = {OIDOID, OIDOID, OIDOID};
	Datum		values[3];

	values[0] = ObjectIdGetDatum(MyDatabaseId);
	values[1] = ObjectIdGetDatum(ExtensionRelationId);
	values[2] = ObjectIdGetDatum(get_extension_oid("migrate", false));
	migrate_xact_spi_connect();
	migrate_spi_run_pinned(d->query, 3, argtypes, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		char	   *text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (text)
			d->text = MemoryContextStrdup(d->keep, text);
	}
	SPI_finish();
}

/*
 * Run a query that describes a lock holder, as text, in a subtransaction:
 * a description is a courtesy, and whatever goes wrong while building it
 * (the holder exits, a prepared transaction has no session, the caller
 * may not read something) must never replace the 55P03 the caller is
 * owed.  Returns NULL when there is nothing to say.
 */
static char *
describe(const char *query)
{
	Description d = {query, CurrentMemoryContext, NULL};

	/* pg_stat_activity as it is now, not as this transaction first read it */
	pgstat_clear_snapshot();

	if (migrate_xact_run_subxact(run_description, &d, true, NULL) != NULL)
		return NULL;
	return d.text;
}

/*
 * Who holds the lock: "process 123 (role "x", active for 00:00:05):
 * SELECT ...", or "prepared transaction "gid" (role "x", prepared at
 * ...)" for a prepared transaction, which holds locks with no process.
 * Every part may be missing (the holder is exiting, its pg_stat_activity
 * row is gone or hidden), so nothing here can fail on a NULL.  Returns
 * NULL if the holder is already gone.
 */
static char *
describe_lock_holder(void)
{
	return describe("SELECT CASE WHEN l.pid IS NOT NULL THEN"
					"   pg_catalog.format('process %s (role %s, %s for %s): %s', l.pid,"
					"     COALESCE(pg_catalog.quote_ident(a.usename::pg_catalog.text), 'unknown'),"
					"     COALESCE(a.state, 'state unknown'),"
					"     COALESCE(pg_catalog.date_trunc('second',"
					"       pg_catalog.now() OPERATOR(pg_catalog.-) a.xact_start)::pg_catalog.text, 'unknown time'),"
					"     COALESCE(pg_catalog.left(a.query, 200), 'query unknown'))"
					" ELSE"
					"   pg_catalog.format('prepared transaction %s (role %s, prepared at %s)',"
					"     COALESCE(pg_catalog.quote_literal(p.gid), 'unknown'),"
					"     COALESCE(pg_catalog.quote_ident(p.owner::pg_catalog.text), 'unknown'),"
					"     COALESCE(p.prepared::pg_catalog.text, 'unknown time'))"
					" END"
					" FROM pg_catalog.pg_locks l"
					" LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid"
					" LEFT JOIN pg_catalog.pg_prepared_xacts p"
					"   ON l.pid IS NULL AND p.transaction OPERATOR(pg_catalog.=)"
					"     (SELECT t.transactionid FROM pg_catalog.pg_locks t"
					"       WHERE t.locktype OPERATOR(pg_catalog.=) 'transactionid' AND t.pid IS NULL"
					"         AND t.virtualtransaction OPERATOR(pg_catalog.=) l.virtualtransaction LIMIT 1)"
					" WHERE l.locktype OPERATOR(pg_catalog.=) 'object' AND l.granted"
					"   AND l.database OPERATOR(pg_catalog.=) $1"
					"   AND l.classid OPERATOR(pg_catalog.=) $2 AND l.objid OPERATOR(pg_catalog.=) $3"
					"   AND l.objsubid OPERATOR(pg_catalog.=) " CppAsString2(MIGRATE_LOCK_OBJSUBID)
					" ORDER BY l.pid NULLS LAST LIMIT 1");
}

/*
 * Which process runs statements outside a transaction, and which
 * migration: "process 123 is running migration "004"".  The version comes
 * from the progress slots (preloaded library), else from the migration
 * marked dirty while its statements run.
 */
static char *
describe_running_run(void)
{
	return describe("SELECT pg_catalog.format('process %s is running migration %s', l.pid,"
					"   COALESCE(pg_catalog.quote_literal(COALESCE("
					"     (SELECT p.version FROM migrate.progress_slots() p"
					"       WHERE p.pid OPERATOR(pg_catalog.=) l.pid LIMIT 1),"
					"     (SELECT m.version FROM migrate.migration m"
					"       WHERE m.state OPERATOR(pg_catalog.=) 'dirty'"
					"       ORDER BY m.version_key LIMIT 1))), '(unknown)'))"
					" FROM pg_catalog.pg_locks l"
					" WHERE l.locktype OPERATOR(pg_catalog.=) 'object' AND l.granted"
					"   AND l.database OPERATOR(pg_catalog.=) $1"
					"   AND l.classid OPERATOR(pg_catalog.=) $2 AND l.objid OPERATOR(pg_catalog.=) $3"
					"   AND l.objsubid OPERATOR(pg_catalog.=) " CppAsString2(MIGRATE_RUN_OBJSUBID)
					" LIMIT 1");
}

/* waited: how long the caller waited, limit: the setting that said so */
pg_attribute_noreturn()
static void
report_lock_busy(int waited, const char *limit)
{
	char	   *holder = describe_lock_holder();

	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not obtain migrate lock on database \"%s\"",
					get_database_name(MyDatabaseId)),
			 holder ? errdetail("It is held by %s.", holder) :
			 errdetail("Another session held it."),
			 waited == 0 ?
			 errhint("Set %s to wait for the other session.", limit) :
			 errhint("Waited %d ms (%s). Retry when the other session has finished.",
					 waited, limit)));
}

/*
 * Refuse to wait for the migrate lock while its holder runs a statement
 * outside a transaction: waiting would deadlock with it (55P03).
 */
pg_attribute_noreturn()
static void
report_run_in_progress(void)
{
	char	   *run = describe_running_run();

	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("could not obtain migrate lock on database \"%s\"",
					get_database_name(MyDatabaseId)),
			 run ? errdetail("The lock is held by a run that executes statements outside a transaction: %s. Such a statement (CREATE INDEX CONCURRENTLY and its kind) waits for every older snapshot, this session's included, so waiting here would deadlock with it.", run) :
			 errdetail("The lock is held by a run that executes statements outside a transaction. Such a statement (CREATE INDEX CONCURRENTLY and its kind) waits for every older snapshot, this session's included, so waiting here would deadlock with it."),
			 errhint("Retry when that migration has finished; migrate.progress shows how far it is.")));
}

/*
 * Whether a run is executing statements outside a transaction in this
 * database: its marker cannot be shared.  The probe lock is released at
 * once.
 */
static bool
nontransactional_run_in_progress(void)
{
	LOCKTAG		tag;

	set_migrate_locktag(&tag, MIGRATE_RUN_OBJSUBID);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, ShareLock, false);
	return false;
}

/*
 * How long one slice of a wait may last: well under deadlock_timeout (see
 * the header), at least 10 ms.
 */
static int
wait_slice_ms(void)
{
	return Max(10, Min(DeadlockTimeout / 4, 250));
}

/*
 * Wait for the lock in the lock manager's queue for at most timeout_ms.
 * Returns false on timeout; any other error (a cancel, a deadlock) goes
 * on up.
 */
/* one slice of a wait for the lock: what wait_for_lock() asks for */
typedef struct LockWait
{
	LOCKTAG    *tag;
	bool		session_lock;
	int			timeout_ms;
} LockWait;

/* wait in the lock manager's queue, with lock_timeout set for this wait */
static void
wait_in_queue(void *arg)
{
	LockWait   *wait = arg;
	int			nestlevel = NewGUCNestLevel();
	char		timeout[32];

	snprintf(timeout, sizeof(timeout), "%d", wait->timeout_ms);
	(void) set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) LockAcquire(wait->tag, ExclusiveLock, wait->session_lock, false);
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Wait for the migrate lock in a subtransaction, up to "timeout_ms"; true
 * when it was granted, false on timeout.  Any other error is re-thrown.
 */
static bool
wait_for_lock(LOCKTAG *tag, bool session_lock, int timeout_ms)
{
	LockWait	wait = {tag, session_lock, timeout_ms};
	ErrorData  *edata;

	/* a catalog snapshot would hold back CREATE INDEX CONCURRENTLY too */
	InvalidateCatalogSnapshot();

	/* committing the subtransaction hands a transaction lock to the parent */
	edata = migrate_xact_run_subxact(wait_in_queue, &wait, true, NULL);
	if (edata == NULL)
		return true;
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		ReThrowError(edata);
	FreeErrorData(edata);
	return false;
}

/*
 * Refuse to change migrations from inside a migration, and under a
 * transaction snapshot, where what is read after the wait would be stale.
 */
static void
check_may_change_migrations(void)
{
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
}

/*
 * Take the migrate lock of the current database for the rest of the
 * transaction, waiting up to migrate.lock_timeout, in slices, and never
 * while a run executes statements outside a transaction (see the header).
 */
void
migrate_lock_acquire(void)
{
	LOCKTAG		tag;
	TimestampTz deadline;

	check_may_change_migrations();

	set_migrate_locktag(&tag, MIGRATE_LOCK_OBJSUBID);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	if (nontransactional_run_in_progress())
		report_run_in_progress();
	if (migrate_lock_timeout == 0)
		report_lock_busy(0, "migrate.lock_timeout");

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), migrate_lock_timeout);
	for (;;)
	{
		long		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);

		if (remaining <= 0)
			report_lock_busy(migrate_lock_timeout, "migrate.lock_timeout");
		if (wait_for_lock(&tag, false, (int) Min(remaining, wait_slice_ms())))
			return;
		if (nontransactional_run_in_progress())
			report_run_in_progress();
	}
}

/*
 * Take the migrate lock for the rest of the transaction, waiting in the
 * lock manager's queue for up to timeout_ms, in one piece and whatever
 * runs meanwhile.  Only for a caller that holds no snapshot (deploy.c):
 * CREATE INDEX CONCURRENTLY ignores a backend without one, so waiting
 * cannot deadlock with it.  limit names the setting for the message.
 */
void
migrate_lock_acquire_without_snapshot(int timeout_ms, const char *limit)
{
	LOCKTAG		tag;

	check_may_change_migrations();
	Assert(!ActiveSnapshotSet());

	set_migrate_locktag(&tag, MIGRATE_LOCK_OBJSUBID);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	if (timeout_ms <= 0 || !wait_for_lock(&tag, false, timeout_ms))
		report_lock_busy(timeout_ms, limit);
}

/*
 * Background workers hold the lock for a whole run, across the many
 * transactions it commits: take it at session level.  Call inside a
 * transaction.  Returns false if somebody else holds it.
 *
 * A process that is a member of another backend's lock group (the apply
 * worker, see handoff.c) asks with a short wait instead of none: when its
 * group holds the lock, that wait is granted at once even if other
 * sessions are queued, while a no-wait request would be refused because
 * of them (see the header).
 */
bool
migrate_lock_session_try(void)
{
	LOCKTAG		tag;
	bool		acquired;

	set_migrate_locktag(&tag, MIGRATE_LOCK_OBJSUBID);
	acquired = LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
	if (!acquired && MyProc->lockGroupLeader != NULL && MyProc->lockGroupLeader != MyProc)
		acquired = wait_for_lock(&tag, true, wait_slice_ms());
	if (acquired)
	{
		session_lock_tag = tag;
		holding_session_lock = true;
	}
	return acquired;
}

/* release the session-level lock, and the run marker if still held */
void
migrate_lock_session_release(void)
{
	migrate_lock_nontransactional_end();
	if (holding_session_lock)
		LockRelease(&session_lock_tag, ExclusiveLock, true);
	holding_session_lock = false;
}

/*
 * A run holding the lock at session level is about to execute statements
 * outside a transaction: set the run marker, so that no session waits for
 * the lock meanwhile (see the header).  Call with or without a
 * transaction.  The marker is only ever shared for an instant by the
 * sessions that check it, so the wait here is short.
 */
void
migrate_lock_nontransactional_begin(void)
{
	bool		own_transaction = !IsTransactionState();

	if (holding_run_marker)
		return;
	if (own_transaction)
		StartTransactionCommand();
	set_migrate_locktag(&run_marker_tag, MIGRATE_RUN_OBJSUBID);
	(void) LockAcquire(&run_marker_tag, ExclusiveLock, true, false);
	holding_run_marker = true;
	if (own_transaction)
		CommitTransactionCommand();
}

void
migrate_lock_nontransactional_end(void)
{
	if (holding_run_marker)
		LockRelease(&run_marker_tag, ExclusiveLock, true);
	holding_run_marker = false;
}

/* migrate.acquire_lock(): for the SQL functions that change migrations */
Datum
migrate_acquire_lock(PG_FUNCTION_ARGS)
{
	migrate_lock_acquire();
	PG_RETURN_VOID();
}
