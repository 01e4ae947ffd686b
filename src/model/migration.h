/*-------------------------------------------------------------------------
 *
 * migration.h
 *	  What migrate knows about a migration and what it records about a run
 *	  of one: the in-memory forms of a row of migrate.migration and of an
 *	  event of migrate.event.
 *
 * The store layer reads and writes them; everything above passes them
 * around.  Plain data: no catalog access here.
 *
 * IDENTIFICATION
 *	  src/model/migration.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_MIGRATION_H
#define MIGRATE_MIGRATION_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

/* what the engine needs to know about each registered migration */
typedef struct MigrateMigration
{
	char	   *version;
	bytea	   *key;			/* natural sort key, see version.c */
	char	   *name;
	char	   *state;			/* pending, applied, failed, reverted (1.0: rolled_back), dirty,
								 * skipped (not for this environment) */
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
	bool		repeatable;		/* @repeatable: run again when its content
								 * changes (false on a 1.0 catalog) */
	bool		requeued;		/* repeatable, applied before, pending again
								 * because its content changed */
} MigrateMigration;

/* an event row for migrate.event */
typedef struct MigrateEvent
{
	const char *action;			/* register, apply, revert, repair */
	const char *version;
	const char *name;
	const char *outcome;		/* success, failure */
	const char *role;
	TimestampTz started_at;
	int64		duration_us;	/* negative: unknown */
	const char *checksum;
	Jsonb	   *detail;			/* or NULL (model/json.c builds them) */
	Jsonb	   *error;			/* or NULL */
} MigrateEvent;

#endif							/* MIGRATE_MIGRATION_H */
