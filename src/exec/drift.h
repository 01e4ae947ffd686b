/*-------------------------------------------------------------------------
 *
 * drift.h
 *	  What the executor does about drift (issue 13): record the schema
 *	  after a run, and the gate of drift_blocks_apply (MG019).
 *
 * IDENTIFICATION
 *	  src/exec/drift.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DRIFT_H
#define MIGRATE_DRIFT_H

#include "exec/engine.h"
#include "model/environment.h"

extern char *migrate_drift_before_run(void);
extern void migrate_drift_record_after_run(MigrateDirection direction, const char *before);
extern void migrate_drift_check_plan(const MigrateEnvironment *env, List *plan,
									 MigrateDirection direction);
extern const char *migrate_drift_held_back(const MigrateEnvironment *env, char **waiting_for);

#endif							/* MIGRATE_DRIFT_H */
