/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Reading and writing migrate's own tables.
 *
 * IDENTIFICATION
 *	  src/store/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CATALOG_H
#define MIGRATE_CATALOG_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "model/migration.h"


extern Oid	migrate_catalog_extension_owner(void);
extern bool migrate_catalog_is_applied_state(const char *state);
extern bool migrate_catalog_is_reverted_state(const char *state);
extern bool migrate_catalog_is_applied(const MigrateMigration *m);
extern bool migrate_catalog_is_done_state(const char *state);
extern bool migrate_catalog_is_done(const MigrateMigration *m);
extern char *migrate_catalog_current_role(void);
extern bool migrate_catalog_has_repeatable(void);

extern MigrateMigration *migrate_catalog_load_registry(int *count);
extern MigrateMigration *migrate_catalog_load_migration(const char *version);
extern MigrateMigration *migrate_catalog_find_migration(MigrateMigration *registry, int count,
														const char *version);
extern char *migrate_catalog_load_script(const char *version, bool down);
extern char *migrate_catalog_load_check(const char *version, const char *column);
extern void migrate_catalog_mark_applied(const char *version, TimestampTz started_at,
										 int64 duration_us, const char *role);
extern void migrate_catalog_mark_reverted(const char *version);
extern void migrate_catalog_mark_skipped(const char *version, TimestampTz started_at,
										 const char *role);
extern void migrate_catalog_mark_dirty(const char *version, const char *script, int statement,
									   Jsonb *error);
extern MigrateMigration *migrate_catalog_copy_migration(const MigrateMigration *m);
extern void migrate_catalog_insert_event(const MigrateEvent *event);

extern Datum migrate_catalog_interval_datum(int64 usecs);
extern void migrate_catalog_set_text_arg(Datum *values, char *nulls, int i, const char *str);
extern void migrate_catalog_set_text_arg_bool(Datum *values, bool *nulls, int i, const char *str);

#endif							/* MIGRATE_CATALOG_H */
