/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  Live progress of the migration this backend is running.
 *
 * IDENTIFICATION
 *	  src/ipc/progress.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_PROGRESS_H
#define MIGRATE_PROGRESS_H

#include "model/migration.h"

extern void migrate_progress_start(const char *action, const MigrateMigration *m,
								   int migration, int migrations,
								   int statements, const char *schedule);
extern void migrate_progress_statement(int statement, const char *text);
extern void migrate_progress_end(void);

#endif							/* MIGRATE_PROGRESS_H */
