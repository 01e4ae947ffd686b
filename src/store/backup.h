/*-------------------------------------------------------------------------
 *
 * backup.h
 *	  The rows of migrate.backup and the backup tables' ownership: what
 *	  exec/backup.c (the copy) and exec/restore.c (restore, purge) share.
 *
 * IDENTIFICATION
 *	  src/store/backup.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_STORE_BACKUP_H
#define MIGRATE_STORE_BACKUP_H

#include "nodes/pg_list.h"

/* the schema every backup table lives in */
#define MIGRATE_BACKUP_SCHEMA "migrate_backup"

/* one row of migrate.backup */
typedef struct MigrateBackupRow
{
	int64		id;
	const char *version;		/* the migration whose statement it precedes */
	const char *direction;		/* "up" or "down" */
	int			statement;		/* its number in the script */
	const char *kind;			/* "DROP TABLE", "DROP COLUMN", ... */
	const char *object;			/* the table, schema-qualified and quoted */
	List	   *columns;		/* the columns it destroys (char *); NIL: rows */
	List	   *key_columns;	/* (char *); NIL: no key, whole rows copied */
	const char *backup_table;	/* in MIGRATE_BACKUP_SCHEMA; NULL if skipped */
	int64		rows;			/* -1: unknown (skipped) */
	int64		bytes;			/* of the copy, or the table's when skipped */
	bool		skipped;		/* skip_backup => true: no copy made */
	bool		key_changed;	/* the statement changed a key column: whole
								 * rows copied, restore_backup() refuses */
	const char *created_by;		/* the role that ran the migration */
	bool		restored;		/* restored_at is set */
	bool		purged;			/* purged_at is set: the table is gone */
} MigrateBackupRow;

extern bool migrate_backup_catalog_exists(void);
extern int64 migrate_backup_next_id(void);
extern void migrate_backup_insert(const MigrateBackupRow *row);
extern MigrateBackupRow *migrate_backup_load(int64 id);
extern void migrate_backup_mark_restored(int64 id);
extern List *migrate_backup_expired(Datum older_than);
extern void migrate_backup_mark_purged(int64 id);

extern bool migrate_backup_grant_to_current_user(const char *privilege, const char *object);
extern void migrate_backup_revoke_from_current_user(const char *privilege, const char *object);
extern void migrate_backup_take_over(const char *table);
extern void migrate_backup_drop_table(const char *table);

#endif							/* MIGRATE_STORE_BACKUP_H */
