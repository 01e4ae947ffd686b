/*-------------------------------------------------------------------------
 *
 * handoff.h
 *	  apply() handing a plan with non-transactional migrations to a
 *	  background worker, and that worker.
 *
 * IDENTIFICATION
 *	  src/exec/handoff.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_HANDOFF_H
#define MIGRATE_HANDOFF_H

#include "exec/run.h"

extern void migrate_handoff(List *plan, Direction direction, MigrateOutcome *outcomes);

#endif							/* MIGRATE_HANDOFF_H */
