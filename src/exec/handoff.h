/*-------------------------------------------------------------------------
 *
 * handoff.h
 *	  The worker path's hand-off: apply() handing a plan with
 *	  non-transactional migrations to the apply worker, and that worker.
 *
 * IDENTIFICATION
 *	  src/exec/handoff.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_HANDOFF_H
#define MIGRATE_HANDOFF_H

#include "exec/run.h"
#include "nodes/pg_list.h"

extern void migrate_handoff_run_plan(List *plan, MigrateDirection direction,
									 const MigrateRunInfo *info, MigrateOutcome *outcomes);

#endif							/* MIGRATE_HANDOFF_H */
