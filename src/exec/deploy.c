/*-------------------------------------------------------------------------
 *
 * deploy.c
 *	  CALL migrate.deploy(): wait for the migrate lock holding no snapshot,
 *	  then apply what is pending.
 *
 * A session that calls apply() while another session holds the migrate
 * lock waits inside a statement, and so holds a snapshot.  A run that
 * executes CREATE INDEX CONCURRENTLY waits for every older snapshot, so
 * lock.c makes such a caller fail at once with 55P03 rather than wait
 * into a deadlock.  A procedure can do better: it ends the transaction
 * that CALL started, which drops the statement's snapshot, and waits for
 * the lock in the next transaction before reading anything.  A backend
 * without a snapshot is invisible to CREATE INDEX CONCURRENTLY's wait, so
 * this wait may last as long as the run does (up to max_wait), in the
 * lock manager's queue, first come, first served.  With the lock taken it
 * calls apply() in the same transaction, which then sees everything the
 * previous holder committed.
 *
 * IDENTIFICATION
 *	  src/exec/deploy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "store/lock.h"
#include "ipc/xact.h"

PG_FUNCTION_INFO_V1(migrate_deploy);

/* max_wait in milliseconds, clamped to what lock_timeout accepts */
static int
max_wait_ms(Interval *max_wait)
{
	double		ms = (double) max_wait->time / 1000.0 +
		((double) max_wait->day + (double) max_wait->month * DAYS_PER_MONTH) *
		SECS_PER_DAY * 1000.0;

	if (ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_wait must not be negative")));
	return ms > INT_MAX ? INT_MAX : (int) ms;
}

/*
 * migrate.deploy(target text, max_wait interval): a procedure.
 */
Datum
migrate_deploy(PG_FUNCTION_ARGS)
{
	Datum		target = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	int			timeout_ms = max_wait_ms(PG_GETARG_INTERVAL_P(1));
	CallContext *call = (CallContext *) fcinfo->context;
	Oid			argtypes[1] = {TEXTOID};
	char		nulls[1] = {PG_ARGISNULL(0) ? 'n' : ' '};
	int			rc;

	if (call == NULL || !IsA(call, CallContext) || call->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("migrate.deploy() cannot run inside a transaction block"),
				 errdetail("It waits for the migrate lock between transactions, holding no snapshot."),
				 errhint("Run CALL migrate.deploy() on its own, outside BEGIN ... COMMIT and outside functions.")));

	migrate_xact_spi_connect_ext(SPI_OPT_NONATOMIC);

	/* end CALL's transaction: from here on this backend holds no snapshot */
	SPI_commit();
	migrate_lock_acquire_without_snapshot(timeout_ms, "max_wait of migrate.deploy()");

	/* apply() says what it does and sums up: deploy() adds no message */
	rc = SPI_execute_with_args("SELECT pg_catalog.count(*) FROM migrate.apply($1)",
							   1, argtypes, &target, nulls, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "migrate.apply() returned no count");
	SPI_finish();
	PG_RETURN_VOID();
}
