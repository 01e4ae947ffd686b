/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Reading and writing migrate's own tables.
 *
 * IDENTIFICATION
 *	  src/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CATALOG_H
#define MIGRATE_CATALOG_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* what the engine needs to know about each registered migration */
typedef struct MigrationInfo
{
	char	   *version;
	bytea	   *key;			/* natural sort key, see version.c */
	char	   *name;
	char	   *state;			/* pending, applied, failed, rolled_back */
	List	   *dependencies;	/* of char *, versions as written */
	bool		transactional;	/* the up script may run in a transaction */
	bool		down_transactional; /* likewise the down script */
	int			statements;
	int64		apply_seq;		/* order of application; 0 unless applied */
	bool		has_down;
	char	   *checksum;
	char	   *down_checksum;	/* NULL without a down script */
	int			failures;		/* failed attempts so far, for progress */
	int			dirty_statement;	/* state dirty: where it stopped */
	int			resume_statement;	/* retry of a dirty one starts here */
	bool		approved;
	List	   *environments;	/* of char *; NIL means every environment */
	Interval   *estimated_duration; /* NULL when not given */
	char	   *risk_level;		/* NULL when not given */
	int			zero_downtime;	/* -1 unknown, 0 false, 1 true */
	bool		has_verify;
	bool		has_precondition;
	char	   *precondition_mode;	/* fail, skip or warn */
	char	   *registered_by;	/* role that registered (or last replaced) it */
} MigrationInfo;

/* an event row for migrate.event */
typedef struct MigrationEvent
{
	const char *action;			/* register, apply, revert, repair */
	const char *version;
	const char *name;
	const char *outcome;		/* success, failure */
	const char *role;
	TimestampTz started_at;
	int64		duration_us;	/* negative: unknown */
	const char *checksum;
	const char *detail;			/* JSON text or NULL */
	const char *error;			/* JSON text or NULL */
} MigrationEvent;

extern Oid	migrate_extension_owner(void);
extern bool migrate_is_applied_state(const char *state);
extern bool migrate_is_applied(const MigrationInfo *m);
extern char *migrate_current_role(void);

extern MigrationInfo *migrate_load_registry(int *count);
extern MigrationInfo *migrate_find_migration(MigrationInfo *registry, int count,
											 const char *version);
extern char *migrate_load_script(const char *version, bool down);
extern char *migrate_load_check(const char *version, const char *column);
extern void migrate_mark_applied(const char *version, TimestampTz started_at,
								 int64 duration_us, const char *role);
extern void migrate_mark_reverted(const char *version);
extern void migrate_mark_dirty(const char *version, const char *script, int statement,
							   const char *error);
extern MigrationInfo *migrate_copy_migration(const MigrationInfo *m);
extern void migrate_insert_event(const MigrationEvent *event);

extern Datum migrate_interval_datum(int64 usecs);
extern void migrate_set_text_arg(Datum *values, char *nulls, int i, const char *str);
extern void migrate_set_text_arg_bool(Datum *values, bool *nulls, int i, const char *str);
extern void migrate_spi_as_owner(const char *sql, int nargs, Oid *argtypes,
								 Datum *values, const char *nulls, int expected);

#endif							/* MIGRATE_CATALOG_H */
