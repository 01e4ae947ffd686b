/*-------------------------------------------------------------------------
 *
 * message.h
 *	  The messages a run of migrations emits: what it is about to do, what
 *	  it did, and what a failure left behind.
 *
 * IDENTIFICATION
 *	  src/exec/message.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_MESSAGE_H
#define MIGRATE_MESSAGE_H

#include "exec/run.h"
#include "nodes/pg_list.h"
#include "store/catalog.h"
#include "utils/timestamp.h"

extern void migrate_message_starting(MigrateDirection direction, const MigrateRunInfo *info,
									 int number, const MigrateMigration *m, int resume_at);
extern void migrate_message_skipping(const MigrateRunInfo *info, int number,
									 const MigrateMigration *m);
extern void migrate_message_skipping_environment(const MigrateRunInfo *info, int number,
												 const MigrateMigration *m,
												 const char *environment);
extern void migrate_message_nothing_to_do(MigrateDirection direction);
extern void migrate_message_summary(List *plan, MigrateDirection direction, bool dry_run,
									const MigrateOutcome *outcomes, TimestampTz started);
extern char *migrate_message_rolled_back(List *versions, MigrateDirection direction,
										 const MigrateOutcome *outcomes, int failed,
										 int statement);
extern char *migrate_message_worker_failure(List *versions, MigrateDirection direction,
											const MigrateOutcome *outcomes);

extern char *migrate_message_worker_interrupted(List *versions, MigrateDirection direction,
											   const MigrateOutcome *outcomes);
extern void migrate_message_completed(MigrateDirection direction, const MigrateRunInfo *info,
									  const MigrateMigration *m, TimestampTz started);

#endif							/* MIGRATE_MESSAGE_H */
