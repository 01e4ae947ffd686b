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
 * With batch_size (1.1), it applies the plan in chunks of at most that
 * many migrations, each in a transaction of its own that it commits before
 * waiting for the lock again: a first deploy of a long history then takes
 * a bounded number of locks per transaction (one apply() of 10,000
 * CREATE TABLEs runs out of shared memory for locks on a default server).
 * Each chunk is apply(v) for the version v that ends it (plan.c,
 * migrate_plan_batch_end), so each runs exactly as apply() does.  A
 * migration whose skip-mode precondition did not hold stays pending and
 * is in every later chunk's plan: it is checked again with each, as
 * apply() would, but no longer counted, so that every chunk makes
 * progress and the procedure ends.
 *
 * The guard rails (issue 11, guard.c) hold for deploy() as for apply():
 * it passes force, skip_backup and expect_fingerprint on to apply().  In
 * batches, the whole plan is checked before the first chunk (approvals,
 * gates, the fingerprint), so that a migration refused at the end does
 * not leave the chunks before it committed.
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
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "exec/guard.h"
#include "exec/message.h"
#include "exec/plan.h"
#include "guc.h"
#include "ipc/xact.h"
#include "store/catalog.h"
#include "store/environment.h"
#include "store/lock.h"

PG_FUNCTION_INFO_V1(migrate_deploy);
PG_FUNCTION_INFO_V1(migrate_deploy_1_1);

/* what the procedure says while it waits, in lock errors */
#define DEPLOY_WAIT_LIMIT "max_wait of migrate.deploy()"

/* what deploy() passes on to apply() (1.1); the 1.0 procedure passes none */
typedef struct DeployOptions
{
	bool		force;
	bool		skip_backup;
	const char *expect_fingerprint;
} DeployOptions;

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

/* deploy() must be CALLed on its own: it ends and starts transactions */
static void
check_nonatomic_call(FunctionCallInfo fcinfo)
{
	CallContext *call = (CallContext *) fcinfo->context;

	if (call == NULL || !IsA(call, CallContext) || call->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("migrate.deploy() cannot run inside a transaction block"),
				 errdetail("It waits for the migrate lock between transactions, holding no snapshot."),
				 errhint("Run CALL migrate.deploy() on its own, outside BEGIN ... COMMIT and outside functions.")));
}

/*
 * Wait for the lock holding no snapshot, then apply(target) in the same
 * transaction.  apply() says what it does and sums up: no message here.
 */
static void
deploy_all(Datum target, bool target_null, int timeout_ms, const DeployOptions *options)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {target, 0};
	char		nulls[2] = {target_null ? 'n' : ' ', ' '};
	StringInfoData sql;
	int			nargs = 1;
	int			rc;

	/* the guard-rail arguments only when given, so that messages stay 1.0's */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT pg_catalog.count(*) FROM migrate.apply($1");
	if (options != NULL && options->force)
		appendStringInfoString(&sql, ", force => true");
	if (options != NULL && options->skip_backup)
		appendStringInfoString(&sql, ", skip_backup => true");
	if (options != NULL && options->expect_fingerprint != NULL)
	{
		appendStringInfoString(&sql, ", expect_fingerprint => $2");
		values[1] = CStringGetTextDatum(options->expect_fingerprint);
		nargs = 2;
	}
	appendStringInfoChar(&sql, ')');

	migrate_lock_acquire_without_snapshot(timeout_ms, DEPLOY_WAIT_LIMIT);
	rc = SPI_execute_with_args(sql.data, nargs, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "migrate.apply() returned no count");
}

/* how one chunk went */
typedef struct ChunkResult
{
	int			applied;		/* migrations apply() applied */
	int			newly_passed;	/* skipped ones it adds to "passed" */
} ChunkResult;

/*
 * apply(end) in the current transaction; the versions it skipped are
 * added to *passed, allocated in "keep" (which outlives the commits).
 */
static ChunkResult
apply_chunk(const char *end, List **passed, MemoryContext keep, const DeployOptions *options)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(end)};
	ChunkResult result = {0, 0};
	int			rc;

	/* the fingerprint was checked before the first chunk: see deploy_in_batches */
	rc = SPI_execute_with_args(psprintf("SELECT a.version, a.state FROM migrate.apply($1%s%s) a",
										options->force ? ", force => true" : "",
										options->skip_backup ? ", skip_backup => true" : ""),
							   1, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "migrate.apply() failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *state = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (state != NULL && strcmp(state, "applied") == 0)
			result.applied++;
		else if (state != NULL && strcmp(state, "skipped") == 0)
		{
			MemoryContext old = MemoryContextSwitchTo(keep);

			*passed = lappend(*passed, SPI_getvalue(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 1));
			MemoryContextSwitchTo(old);
			result.newly_passed++;
		}
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * The plan in chunks of at most batch_size migrations, one transaction
 * each, committed before the next waits for the lock.  A failure stops it
 * with that chunk rolled back; the chunks before it stay applied.
 */
static void
deploy_in_batches(const char *target, int batch_size, int timeout_ms,
				  const DeployOptions *options)
{
	MemoryContext keep = CurrentMemoryContext;	/* SPI's, survives commits */
	MemoryContext chunk_memory = AllocSetContextCreate(keep, "migrate deploy chunk",
													   ALLOCSET_DEFAULT_SIZES);
	List	   *passed = NIL;
	int			total = -1;
	int			applied = 0;
	int			chunks = 0;

	for (;;)
	{
		MemoryContext old;
		MigrateMigration *registry;
		MigrateMigration *end;
		int			count;
		List	   *plan;
		char	   *end_version = NULL;
		ChunkResult result;

		migrate_lock_acquire_without_snapshot(timeout_ms, DEPLOY_WAIT_LIMIT);

		MemoryContextReset(chunk_memory);
		old = MemoryContextSwitchTo(chunk_memory);
		registry = migrate_catalog_load_registry(&count);
		plan = migrate_plan_apply(registry, count, target);
		end = migrate_plan_batch_end(plan, batch_size, passed);
		if (end != NULL)
			end_version = end->version;
		/* the whole plan passes the guard rails, or nothing is applied */
		if (total < 0)
		{
			migrate_guard_check_fingerprint(options->expect_fingerprint);
			migrate_guard_check_plan(migrate_environment_current(), plan, DIRECTION_UP,
									 options->force);
		}
		MemoryContextSwitchTo(old);

		if (total < 0)
		{
			total = list_length(plan);
			if (end == NULL)
			{
				migrate_message_nothing_to_do(DIRECTION_UP);
				break;
			}
			ereport(migrate_progress_level,
					(errmsg("applying %d migrations in batches of %d, committing after each",
							total, batch_size)));
		}
		if (end == NULL)
			break;

		result = apply_chunk(end_version, &passed, keep, options);
		chunks++;
		applied += result.applied;
		/* every chunk holds a migration not passed yet: this cannot happen */
		if (result.applied == 0 && result.newly_passed == 0)
			break;
		SPI_commit();
		ereport(migrate_progress_level,
				(errmsg("batch %d committed: %d of %d migrations applied, up to \"%s\"",
						chunks, applied, total, end_version)));
	}
	MemoryContextDelete(chunk_memory);
}

/*
 * migrate.deploy(target text, max_wait interval): a procedure (1.0).
 */
Datum
migrate_deploy(PG_FUNCTION_ARGS)
{
	int			timeout_ms = max_wait_ms(PG_GETARG_INTERVAL_P(1));

	check_nonatomic_call(fcinfo);
	migrate_xact_spi_connect_ext(SPI_OPT_NONATOMIC);

	/* end CALL's transaction: from here on this backend holds no snapshot */
	SPI_commit();
	deploy_all(PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0), timeout_ms,
			   NULL);
	SPI_finish();
	PG_RETURN_VOID();
}

/* boolean argument n, false when it is NULL or not passed */
static bool
bool_arg(FunctionCallInfo fcinfo, int n)
{
	return n < PG_NARGS() && !PG_ARGISNULL(n) && PG_GETARG_BOOL(n);
}

/*
 * migrate.deploy(target text, max_wait interval, batch_size integer,
 * force boolean, skip_backup boolean, expect_fingerprint text): a
 * procedure (1.1); without batch_size it is 1.0's, plus the guard-rail
 * arguments apply() takes.
 */
Datum
migrate_deploy_1_1(PG_FUNCTION_ARGS)
{
	int			timeout_ms = max_wait_ms(PG_GETARG_INTERVAL_P(1));
	DeployOptions options = {bool_arg(fcinfo, 3), bool_arg(fcinfo, 4), NULL};

	check_nonatomic_call(fcinfo);
	if (!PG_ARGISNULL(2) && PG_GETARG_INT32(2) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1"),
				 errdetail("batch_size was %d.", PG_GETARG_INT32(2)),
				 errhint("Leave it out (NULL) to apply everything in one transaction.")));
	if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
		options.expect_fingerprint = text_to_cstring(PG_GETARG_TEXT_PP(5));
	migrate_xact_spi_connect_ext(SPI_OPT_NONATOMIC);

	/* end CALL's transaction: from here on this backend holds no snapshot */
	SPI_commit();
	if (PG_ARGISNULL(2))
		deploy_all(PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0), timeout_ms,
				   &options);
	else
		deploy_in_batches(PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0)),
						  PG_GETARG_INT32(2), timeout_ms, &options);
	SPI_finish();
	PG_RETURN_VOID();
}
