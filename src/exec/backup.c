/*-------------------------------------------------------------------------
 *
 * backup.c
 *	  Backups before destructive statements.
 *
 * CONTRACT STUB (issue 11): wp11-4 replaces it.
 *
 * IDENTIFICATION
 *	  src/exec/backup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "exec/backup.h"

void
migrate_backup_before_statement(MigrateRunState *state)
{
}
