/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  The SQL front end of a run: migrate.apply(), migrate.revert() and
 *	  migrate.revert_all().
 *
 * What follows is the dispatch between the two execution paths, and the
 * result rows.  A plan of transactional migrations (and every dry run)
 * takes the in-transaction path: engine.c runs it in the caller's
 * transaction, all or nothing.  A plan that holds a migration which
 * cannot run in a transaction block takes the worker path: handoff.c
 * hands it to the apply worker, which runs it one migration per
 * transaction (worker_run.c).  Calls go one way only: this file ->
 * engine.c / handoff.c -> worker_run.c -> engine.c's pieces; nothing
 * below calls back into the front end.
 *
 * Before anything runs, the migrate lock is taken (lock.c), the registry
 * loaded and the plan built and checked (plan.c): dependencies, dirty
 * migrations, down scripts; then the environment's guard rails (guard.c):
 * approvals, the risk gate, the revert window, expect_fingerprint.
 * Nothing runs if any check fails.
 *
 * IDENTIFICATION
 *	  src/exec/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "compat.h"
#include "exec/engine.h"
#include "exec/guard.h"
#include "exec/handoff.h"
#include "exec/message.h"
#include "exec/plan.h"
#include "ipc/xact.h"
#include "guc.h"
#include "store/catalog.h"
#include "store/environment.h"
#include "store/lock.h"

PG_FUNCTION_INFO_V1(migrate_apply);
PG_FUNCTION_INFO_V1(migrate_revert);
PG_FUNCTION_INFO_V1(migrate_revert_all);
PG_FUNCTION_INFO_V1(migrate_apply_1_1);
PG_FUNCTION_INFO_V1(migrate_revert_1_1);
PG_FUNCTION_INFO_V1(migrate_revert_all_1_1);

/*
 * The result rows of apply(), revert() and revert_all() come in two
 * shapes.  1.0's ten columns (the 1.0 symbols, which the released
 * migrate--1.0.sql names) keep the schema fingerprints in two columns of
 * their own; 1.1's eight columns (the *_1_1 symbols) put them, shortened,
 * into the note of a dry run, and say "would apply" there.
 */
typedef enum ResultShape
{
	RESULT_1_0,
	RESULT_1_1
} ResultShape;

/*
 * How the caller asked for the run: 1.0's arguments (dry_run) and 1.1's
 * guard-rail overrides (issue 11).  The 1.0 symbols leave the overrides
 * off; with the 1.0 SQL there is no environment, so no rail either.
 */
typedef struct RunOptions
{
	bool		dry_run;
	bool		force;			/* open the risk gate and the revert window */
	bool		skip_backup;	/* no backup before destructive statements */
	const char *expect_fingerprint; /* apply only on this schema, or NULL */
} RunOptions;

/* characters of a schema fingerprint that a 1.1 dry-run note shows */
#define SHORT_FINGERPRINT_LEN 8

/* the state a migration reached, as a result row names it */
static const char *
result_state(MigrateDirection direction, const MigrateOutcome *outcome, ResultShape shape)
{
	if (outcome->skipped)
		return "skipped";
	if (!outcome->done)
		return "not done";
	if (direction == DIRECTION_UP)
		return "applied";
	return shape == RESULT_1_0 ? "rolled_back" : "reverted";
}

/*
 * The state column of a 1.1 dry-run row: the migration's state after the
 * call, which a dry run leaves as it was (it rolls its work back), so that
 * no row says "applied" for work that was undone; NULL for the migration
 * whose failure stopped the dry run (its note says why).
 */
static const char *
dry_run_state(const MigrateMigration *m, const MigrateOutcome *outcome)
{
	if (outcome->failed)
		return NULL;
	if (migrate_catalog_is_reverted_state(m->state))
		return "reverted";
	return m->state;
}

/* a duration in microseconds, rounded to the millisecond */
static int64
round_to_ms(int64 usecs)
{
	return ((usecs + 500) / 1000) * 1000;
}

/*
 * 1.1's note: in a dry run, "schema a1b2c3d4 -> e5f6a7b8" (before and
 * after the migration), then what else happened; otherwise the note as
 * it is.  NULL when there is nothing to say.
 */
static char *
note_1_1(const MigrateOutcome *outcome)
{
	StringInfoData buf;

	if (outcome->fingerprint_before == NULL)
		return outcome->note;
	initStringInfo(&buf);
	appendStringInfo(&buf, "schema %.*s -> %.*s",
					 SHORT_FINGERPRINT_LEN, outcome->fingerprint_before,
					 SHORT_FINGERPRINT_LEN,
					 outcome->fingerprint_after ? outcome->fingerprint_after : "?");
	if (outcome->note != NULL)
		appendStringInfo(&buf, "; %s", outcome->note);
	return buf.data;
}

/*
 * One result row of apply() or revert(): what happened to the migration,
 * the rows its statements processed, and for a dry run the schema
 * fingerprints.
 */
static void
add_result_row(ReturnSetInfo *rsinfo, const MigrateMigration *m,
			   MigrateDirection direction, bool dry_run, ResultShape shape,
			   const MigrateOutcome *outcome)
{
	Datum		values[10];
	bool		nulls[10] = {0};
	const char *action = direction == DIRECTION_UP ? "apply" : "revert";
	const char *state = result_state(direction, outcome, shape);

	if (shape == RESULT_1_1 && dry_run)
	{
		/* the words of the dry run's NOTICE for it (message.c) */
		if (outcome->skipped)
			action = "would skip";
		else
			action = direction == DIRECTION_UP ? "would apply" : "would revert";
		state = dry_run_state(m, outcome);
	}
	values[0] = CStringGetTextDatum(m->version);
	values[1] = CStringGetTextDatum(m->name);
	values[2] = CStringGetTextDatum(action);
	migrate_catalog_set_text_arg_bool(values, nulls, 3, state);
	values[4] = migrate_catalog_interval_datum(shape == RESULT_1_1 ?
											   round_to_ms(outcome->duration_us) :
											   outcome->duration_us);
	nulls[4] = !outcome->done;
	values[5] = Int32GetDatum(outcome->statements);
	nulls[5] = !outcome->done;
	values[6] = Int64GetDatum(outcome->rows_affected);
	nulls[6] = !outcome->done;
	if (shape == RESULT_1_0)
	{
		migrate_catalog_set_text_arg_bool(values, nulls, 7, outcome->fingerprint_before);
		migrate_catalog_set_text_arg_bool(values, nulls, 8, outcome->fingerprint_after);
		migrate_catalog_set_text_arg_bool(values, nulls, 9, outcome->note);
	}
	else
		migrate_catalog_set_text_arg_bool(values, nulls, 7, note_1_1(outcome));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * A dry run can only rehearse what a transaction can roll back: cut the
 * plan before the first migration that needs a background worker, and
 * say so in that migration's row.
 */
static List *
dry_run_prefix(List *plan, MigrateDirection direction, MigrateOutcome *outcomes)
{
	int			first = migrate_plan_first_nontransactional(plan, direction);

	if (first < 0)
		return plan;
	outcomes[first].attempted = true;
	outcomes[first].note =
		"not run: it cannot run inside a transaction block, so a dry run cannot roll it back";
	return list_truncate(plan, first);
}

/*
 * Refuse up front in a read-only transaction (default_transaction_read_only
 * on the database or the role, BEGIN READ ONLY, a standby): no migration
 * could change the schema and no attempt could be recorded, and the apply
 * worker would fail on its own bookkeeping.
 */
static void
check_read_write(MigrateDirection direction)
{
	const char *verb = direction == DIRECTION_UP ? "apply" : "revert";

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s migrations during recovery", verb),
				 errdetail("This server is a standby; nothing was %s.",
						   direction == DIRECTION_UP ? "applied" : "reverted"),
				 errhint("Call migrate.%s() on the primary.", verb)));
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s migrations in a read-only transaction", verb),
				 errdetail("Nothing was %s and nothing was recorded: a read-only transaction can neither change the schema nor write the history.",
						   direction == DIRECTION_UP ? "applied" : "reverted"),
				 errhint("Run it in a read-write transaction: SET default_transaction_read_only = off, or BEGIN READ WRITE.")));
}

/*
 * Shared body of apply and revert: lock, plan, check, run.  A plan that
 * holds a migration which cannot run in a transaction block takes the
 * worker path (handoff.c); any other, and every dry run, takes the
 * in-transaction path (engine.c), all or nothing.  One result row per
 * migration that ran or was attempted.
 */
static void
apply_or_revert(FunctionCallInfo fcinfo, MigrateDirection direction,
				const char *target, const MigrateRevertRequest *request,
				const RunOptions *options, ResultShape shape)
{
	bool		dry_run = options->dry_run;
	const MigrateEnvironment *env;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrateMigration *registry;
	int			count;
	List	   *plan;
	MigrateOutcome *outcomes;
	ListCell   *lc;
	TimestampTz started;
	/* every path gets force (history) and skip_backup (backup.c) */
	MigrateRunInfo info = {NULL, NULL, 1, 0, options->dry_run,
	options->force, options->skip_backup};

	migrate_materialize_srf(fcinfo);
	check_read_write(direction);
	migrate_lock_acquire();
	started = GetCurrentTimestamp();	/* the closing message's elapsed time */

	migrate_xact_spi_connect();
	env = migrate_environment_current();
	/* with the lock held, the schema cannot change before the run */
	if (direction == DIRECTION_UP)
		migrate_guard_check_fingerprint(options->expect_fingerprint);
	registry = migrate_catalog_load_registry(&count);
	if (direction == DIRECTION_UP)
		plan = migrate_plan_apply(registry, count, target);
	else
		plan = migrate_plan_revert(registry, count, request);

	if (plan == NIL)
	{
		migrate_message_nothing_to_do(direction);
		SPI_finish();
		return;
	}
	migrate_guard_check_plan(env, plan, direction, options->force);

	outcomes = palloc0(sizeof(MigrateOutcome) * list_length(plan));
	info.total = list_length(plan);
	if (dry_run)
		migrate_engine_run_plan(dry_run_prefix(list_copy(plan), direction, outcomes),
								direction, &info, outcomes);
	else if (migrate_plan_first_nontransactional(plan, direction) < 0)
		migrate_engine_run_plan(plan, direction, &info, outcomes);
	else
		migrate_handoff_run_plan(plan, direction, &info, outcomes);
	migrate_message_summary(plan, direction, dry_run, outcomes, started);

	foreach(lc, plan)
	{
		MigrateMigration *m = lfirst(lc);
		MigrateOutcome *outcome = &outcomes[foreach_current_index(lc)];

		if (outcome->done || outcome->attempted)
			add_result_row(rsinfo, m, direction, dry_run, shape, outcome);
	}
	SPI_finish();
}

/* argument n as a C string, or NULL when it is NULL or not passed */
static char *
text_arg_or_null(FunctionCallInfo fcinfo, int n)
{
	if (n >= PG_NARGS() || PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* boolean argument n, false when it is NULL or not passed */
static bool
bool_arg(FunctionCallInfo fcinfo, int n)
{
	return n < PG_NARGS() && !PG_ARGISNULL(n) && PG_GETARG_BOOL(n);
}

/* migrate.apply(target, dry_run), 1.0's result shape */
Datum
migrate_apply(PG_FUNCTION_ARGS)
{
	RunOptions	options = {bool_arg(fcinfo, 1), false, false, NULL};

	apply_or_revert(fcinfo, DIRECTION_UP, text_arg_or_null(fcinfo, 0), NULL,
					&options, RESULT_1_0);
	PG_RETURN_VOID();
}

/*
 * migrate.apply(target, dry_run, force, skip_backup, expect_fingerprint),
 * 1.1's result shape.
 */
Datum
migrate_apply_1_1(PG_FUNCTION_ARGS)
{
	RunOptions	options = {bool_arg(fcinfo, 1), bool_arg(fcinfo, 2),
	bool_arg(fcinfo, 3), text_arg_or_null(fcinfo, 4)};

	apply_or_revert(fcinfo, DIRECTION_UP, text_arg_or_null(fcinfo, 0), NULL,
					&options, RESULT_1_1);
	PG_RETURN_VOID();
}

/*
 * What revert(target, steps, migration, ...) is asked to revert.
 *
 * The first positional argument is a version, as for apply(target): revert
 * everything applied after it.  A count is taken only by name (steps =>
 * n), so that revert('003') can never mean "the last three migrations";
 * revert(3) finds no function, since an integer does not convert to text
 * implicitly.
 */
static MigrateRevertRequest
revert_request(FunctionCallInfo fcinfo, bool with_dependents)
{
	MigrateRevertRequest request = {0};
	int			given = 0;

	request.target = text_arg_or_null(fcinfo, 0);
	request.steps = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
	request.migration = text_arg_or_null(fcinfo, 2);
	request.cascade = with_dependents;

	given = !PG_ARGISNULL(1) + (request.target != NULL) + (request.migration != NULL);
	if (given > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("only one of steps, target and migration may be given")));
	if (!PG_ARGISNULL(1) && request.steps < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("steps must be at least 1"),
				 errhint("To revert every applied migration, call migrate.revert_all().")));
	if (given == 0)
		request.steps = 1;
	return request;
}

/* migrate.revert(target, steps, migration, cascade, dry_run), 1.0's shape */
Datum
migrate_revert(PG_FUNCTION_ARGS)
{
	MigrateRevertRequest request;

	RunOptions	options = {bool_arg(fcinfo, 4), false, false, NULL};

	request = revert_request(fcinfo, bool_arg(fcinfo, 3));
	apply_or_revert(fcinfo, DIRECTION_DOWN, NULL, &request, &options, RESULT_1_0);
	PG_RETURN_VOID();
}

/*
 * migrate.revert(target, steps, migration, with_dependents, dry_run,
 * "cascade", force, skip_backup), 1.1's shape.  "cascade" is 1.0's name
 * of with_dependents, kept as a trailing parameter so that calls naming
 * it still work (PostgreSQL has no parameter aliases); naming both is
 * refused rather than guessed at.
 */
Datum
migrate_revert_1_1(PG_FUNCTION_ARGS)
{
	MigrateRevertRequest request;
	bool		with_dependents;
	RunOptions	options = {bool_arg(fcinfo, 4), bool_arg(fcinfo, 6),
	bool_arg(fcinfo, 7), NULL};

	if (!PG_ARGISNULL(3) && !PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("with_dependents and cascade cannot both be given"),
				 errdetail("cascade is the old name of with_dependents."),
				 errhint("Pass only with_dependents => true.")));
	if (!PG_ARGISNULL(3))
		with_dependents = PG_GETARG_BOOL(3);
	else
		with_dependents = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
	request = revert_request(fcinfo, with_dependents);
	apply_or_revert(fcinfo, DIRECTION_DOWN, NULL, &request, &options, RESULT_1_1);
	PG_RETURN_VOID();
}

/* migrate.revert_all(), 1.0's shape */
Datum
migrate_revert_all(PG_FUNCTION_ARGS)
{
	MigrateRevertRequest request = {0};
	RunOptions	options = {false, false, false, NULL};

	request.all = true;
	apply_or_revert(fcinfo, DIRECTION_DOWN, NULL, &request, &options, RESULT_1_0);
	PG_RETURN_VOID();
}

/* migrate.revert_all(force, skip_backup), 1.1's shape */
Datum
migrate_revert_all_1_1(PG_FUNCTION_ARGS)
{
	MigrateRevertRequest request = {0};
	RunOptions	options = {false, bool_arg(fcinfo, 0), bool_arg(fcinfo, 1), NULL};

	request.all = true;
	apply_or_revert(fcinfo, DIRECTION_DOWN, NULL, &request, &options, RESULT_1_1);
	PG_RETURN_VOID();
}
