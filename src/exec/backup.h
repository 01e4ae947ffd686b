/*-------------------------------------------------------------------------
 *
 * backup.h
 *	  Backups before destructive statements (issue 11): where the
 *	  environment's strategy is "copy", the data a statement is about to
 *	  destroy is copied into a backup table in the same transaction, just
 *	  before the statement runs.
 *
 * IDENTIFICATION
 *	  src/exec/backup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_BACKUP_H
#define MIGRATE_BACKUP_H

#include "exec/engine.h"

/*
 * Called by both paths for state->statement of state->current, inside the
 * transaction the statement runs in, right before it runs (the engine's
 * statement loop, which dry runs and rehearsals use too; the worker
 * path's per-statement transaction).  Does nothing unless the statement
 * destroys data (model/destructive.h), the installed SQL has backups (1.1)
 * and the environment's strategy is "copy"; told to skip backups
 * (info->skip_backup), it records the skip instead of copying.  Dry runs
 * and rehearsals back up like apply(), in the work they roll back (see
 * backup.c).
 */
extern void migrate_backup_before_statement(MigrateRunState *state);

#endif							/* MIGRATE_BACKUP_H */
