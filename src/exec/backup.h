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
 * statement loop; the worker path's per-statement transaction).  Does
 * nothing unless the statement destroys data (model/destructive.h), the
 * environment's strategy is "copy", and the run is neither a dry run, a
 * rehearsal (no run info) nor told to skip backups (info->skip_backup).
 */
extern void migrate_backup_before_statement(MigrateRunState *state);

#endif							/* MIGRATE_BACKUP_H */
