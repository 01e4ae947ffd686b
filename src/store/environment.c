/*-------------------------------------------------------------------------
 *
 * environment.c
 *	  The current environment's guard rails (migrate.environment_setting)
 *	  and migrate.configure().
 *
 * CONTRACT STUB (issue 11): wp11-1 replaces it.  Until then every rail is
 * off, which is 1.0's behaviour.
 *
 * IDENTIFICATION
 *	  src/store/environment.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "store/environment.h"

static const MigrateEnvironment no_environment = {0};

const MigrateEnvironment *
migrate_environment_current(void)
{
	return &no_environment;
}

bool
migrate_environment_allows(const MigrateEnvironment *env, const MigrateMigration *m)
{
	return true;
}
