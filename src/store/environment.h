/*-------------------------------------------------------------------------
 *
 * environment.h
 *	  The current environment's guard rails, read from
 *	  migrate.environment_setting; migrate.configure().
 *
 * IDENTIFICATION
 *	  src/store/environment.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_STORE_ENVIRONMENT_H
#define MIGRATE_STORE_ENVIRONMENT_H

#include "model/environment.h"
#include "model/migration.h"

/*
 * The settings of the environment migrate.environment names, loaded (SPI,
 * pinned search_path) in the current memory context.  Every rail off when
 * the setting is empty or the catalog is 1.0's; ERROR MG016 when it names
 * an environment without a row.  Needs an SPI connection, and runs a
 * query in it (SPI_tuptable and SPI_processed are the query's afterwards).
 * Read anew on each call: configure() may change the row between two
 * migrations of a session.
 */
extern const MigrateEnvironment *migrate_environment_current(void);

/*
 * The same, but an environment without a row gives every rail off
 * instead of MG016: for register()'s lint (store/lintstore.c), which
 * registered under such a name before 1.1 linted and must go on doing so;
 * apply() refuses there anyway.
 */
extern const MigrateEnvironment *migrate_environment_current_or_none(void);

/* whether the migration's @environments lets it run in "env" (no list, or no environment: yes) */
extern bool migrate_environment_allows(const MigrateEnvironment *env, const MigrateMigration *m);

#endif							/* MIGRATE_STORE_ENVIRONMENT_H */
