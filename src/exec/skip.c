/*-------------------------------------------------------------------------
 *
 * skip.c
 *	  Migrations meant for other environments (@environments).
 *
 * CONTRACT STUB (issue 11): wp11-1 replaces it.
 *
 * IDENTIFICATION
 *	  src/exec/skip.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "exec/skip.h"

bool
migrate_skip_for_environment(MigrateRunState *state, MigrateOutcome *outcome)
{
	return false;
}
