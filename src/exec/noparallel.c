/*-------------------------------------------------------------------------
 *
 * noparallel.c
 *	  No parallel workers in a process that is a member of another's lock
 *	  group.
 *
 * The apply worker (handoff.c) and the scheduled-migration worker
 * (schedworker.c) join the lock group of the process that handed them the
 * work.  Starting parallel workers makes a process the leader of a lock
 * group of its own (LaunchParallelWorkers calls BecomeLockGroupLeader),
 * which a member of another group must never become: in an assert-enabled
 * server that is an assertion failure; otherwise it corrupts the shared
 * lock-group lists, the parallel workers wait forever for locks their
 * leader holds, and the next deadlock check loops forever holding every
 * lock-partition lock, which hangs the whole instance.
 *
 * Setting max_parallel_workers_per_gather and
 * max_parallel_maintenance_workers to 0 is not enough: the migration's own
 * SET (or set_config(), RESET, a function's SET clause) changes them back.
 * In PostgreSQL 13 to 17 three things start parallel workers: a parallel
 * query plan (Gather / Gather Merge, also under debug_parallel_query /
 * force_parallel_mode), a parallel B-tree build (CREATE INDEX, also
 * CONCURRENTLY, REINDEX, and the index builds of ALTER TABLE; the number of
 * workers comes from plan_create_index_workers()) and parallel VACUUM (the
 * number from parallel_vacuum_compute_workers()).  So, in these workers
 * only:
 *
 * - a planner hook takes CURSOR_OPT_PARALLEL_OK away from every planner
 *	 call, so standard_planner() never considers parallel mode;
 * - max_parallel_maintenance_workers is pinned to 0, which both index
 *	 builds and VACUUM read and which makes them serial: its check hook
 *	 turns every value assigned to it into 0 and its reset value is 0,
 *	 so no SET, set_config(), RESET or reload can raise it.
 *
 * IDENTIFICATION
 *	  src/exec/noparallel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "optimizer/planner.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "compat.h"
#include "exec/noparallel.h"

static planner_hook_type prev_planner_hook = NULL;
static GucIntCheckHook prev_maintenance_check_hook = NULL;
static bool forbidden = false;

/* plan as usual, but never in parallel mode */
static PlannedStmt *
serial_planner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	cursorOptions &= ~CURSOR_OPT_PARALLEL_OK;
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* whatever is assigned to max_parallel_maintenance_workers, it is 0 */
static bool
check_maintenance_workers(int *newval, void **extra, GucSource source)
{
	*newval = 0;
	if (prev_maintenance_check_hook)
		return prev_maintenance_check_hook(newval, extra, source);
	return true;
}

/* pin max_parallel_maintenance_workers to 0 in this process */
static void
pin_maintenance_workers(void)
{
	struct config_generic *gen = migrate_compat_find_guc("max_parallel_maintenance_workers");
	struct config_int *conf;

	if (gen == NULL || gen->vartype != PGC_INT)
		elog(ERROR, "max_parallel_maintenance_workers is not an integer setting");
	conf = (struct config_int *) gen;
	prev_maintenance_check_hook = conf->check_hook;
	conf->check_hook = check_maintenance_workers;
	/* what RESET and RESET ALL go back to, without calling the check hook */
	conf->reset_val = 0;
	SetConfigOption("max_parallel_maintenance_workers", "0", PGC_USERSET, PGC_S_OVERRIDE);
}

/*
 * Make parallel query and parallel maintenance impossible in this process,
 * for the rest of its life.  Call it in a worker that has joined another
 * process's lock group, once connected, outside any transaction.  The hooks
 * are installed in this process only: other backends are not affected.
 */
void
migrate_noparallel_forbid(void)
{
	if (forbidden)
		return;
	forbidden = true;
	prev_planner_hook = planner_hook;
	planner_hook = serial_planner;
	pin_maintenance_workers();
	/* also what SHOW says; the planner hook is what enforces it */
	SetConfigOption("max_parallel_workers_per_gather", "0", PGC_USERSET, PGC_S_OVERRIDE);
}
