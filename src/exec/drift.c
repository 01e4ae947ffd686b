/*-------------------------------------------------------------------------
 *
 * drift.c
 *	  What the executor does about drift (issue 13).
 *
 * After a run that changed the schema (apply(), revert(), revert_all(),
 * deploy(), the apply worker, a scheduled run; not a dry run or a
 * rehearsal, which roll back), the schema is recorded
 * (migrate.schema_state, store/driftlog.c): what migrate.drift compares
 * with.  Once per run of a plan, in the run's transaction, not once per
 * migration: the record is one scan of schema_objects(), and a plan of a
 * hundred migrations needs only the last.  Drift that existed before the
 * run is kept, not taken into the record (migrate_drift_before_run()):
 * it stays in migrate.drift until somebody acknowledges it.
 *
 * Where the environment sets drift_blocks_apply, a plan that would apply
 * migrations is refused (MG019) while the schema differs from the one
 * recorded last; a scheduled run holds its migration back, waiting for
 * acknowledge_drift().  force => true does not open this gate: the
 * remedy, acknowledge_drift(comment), is one call and says in history who
 * accepted which schema; a forced apply on a schema nobody looked at is
 * what the setting exists to prevent.  Reverts are not gated (the setting
 * names apply; a revert is how a bad change is undone).
 *
 * IDENTIFICATION
 *	  src/exec/drift.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "errors.h"
#include "exec/drift.h"
#include "store/driftlog.h"

/*
 * Before a run: when the schema has drifted from the last record, its
 * objects, so that the record after the run keeps that drift (it records
 * the last record changed by what the run changed) instead of taking it
 * in; NULL otherwise.  Costs a scan of schema_objects() only when DDL was
 * logged since the last record.
 */
char *
migrate_drift_before_run(void)
{
	return migrate_driftlog_state_before();
}

void
migrate_drift_record_after_run(MigrateDirection direction, const char *before)
{
	migrate_driftlog_record_state(direction == DIRECTION_UP ? "apply" : "revert", before);
}

/* whether the environment's gate applies at all */
static bool
gate_applies(const MigrateEnvironment *env)
{
	return env != NULL && env->name != NULL && env->drift_blocks_apply;
}

/*
 * Refuse a plan that would apply migrations while unacknowledged drift
 * exists and the environment says drift blocks apply.
 */
void
migrate_drift_check_plan(const MigrateEnvironment *env, List *plan, MigrateDirection direction)
{
	char	   *first;
	int			count;

	if (direction != DIRECTION_UP || plan == NIL || !gate_applies(env))
		return;
	count = migrate_driftlog_differences(&first);
	if (count == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_DRIFT_BLOCKED),
			 errmsg("cannot apply migrations: the schema drifted since migrate last recorded it"),
			 errdetail_plural("%d object differs (%s%s), and environment %s sets drift_blocks_apply. Nothing was applied.",
							  "%d objects differ (%s%s), and environment %s sets drift_blocks_apply. Nothing was applied.",
							  count, count, first ? first : "", count > 5 ? ", ..." : "", env->name),
			 errhint("See SELECT * FROM migrate.drift; register the change as a migration (migrate.drift_script()) or accept it with SELECT migrate.acknowledge_drift('why').")));
}

/*
 * Why a scheduled run must hold its migrations back for drift, or NULL;
 * *waiting_for says what lets it go on.
 */
const char *
migrate_drift_held_back(const MigrateEnvironment *env, char **waiting_for)
{
	char	   *first;
	int			count;

	if (!gate_applies(env))
		return NULL;
	count = migrate_driftlog_differences(&first);
	if (count == 0)
		return NULL;
	*waiting_for = "acknowledge_drift()";
	return psprintf("schema drift in environment %s (%d object%s differ%s: %s%s); drift_blocks_apply",
					env->name, count, count == 1 ? "" : "s", count == 1 ? "s" : "",
					first ? first : "", count > 5 ? ", ..." : "");
}
