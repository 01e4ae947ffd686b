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


extern Oid	migrate_extension_owner(void);
extern bool migrate_is_applied_state(const char *state);
extern bool migrate_is_applied(const MigrationInfo *m);
extern char *migrate_current_role(void);

extern MigrationInfo *migrate_load_registry(int *count);
extern MigrationInfo *migrate_load_migration(const char *version);
extern MigrationInfo *migrate_find_migration(MigrationInfo *registry, int count,
											 const char *version);
extern char *migrate_load_script(const char *version, bool down);
extern char *migrate_load_check(const char *version, const char *column);
extern void migrate_mark_applied(const char *version, TimestampTz started_at,
								 int64 duration_us, const char *role);
extern void migrate_mark_reverted(const char *version);
extern void migrate_mark_dirty(const char *version, const char *script, int statement,
							   Jsonb *error);
extern MigrationInfo *migrate_copy_migration(const MigrationInfo *m);
extern void migrate_insert_event(const MigrationEvent *event);

extern Datum migrate_interval_datum(int64 usecs);
extern void migrate_set_text_arg(Datum *values, char *nulls, int i, const char *str);
extern void migrate_set_text_arg_bool(Datum *values, bool *nulls, int i, const char *str);
extern void migrate_set_jsonb_arg(Datum *values, char *nulls, int i, Jsonb *document);

#endif							/* MIGRATE_CATALOG_H */
