/*-------------------------------------------------------------------------
 *
 * destructive.h
 *	  Which statements destroy data, from the raw parse tree: DROP TABLE,
 *	  DROP COLUMN, TRUNCATE, DROP SCHEMA ... CASCADE, ALTER COLUMN ... TYPE,
 *	  DELETE or UPDATE without WHERE, MERGE ... THEN DELETE/UPDATE.  Pure (no catalog access): the
 *	  executor (exec/backup.c) resolves the names it returns.
 *
 * IDENTIFICATION
 *	  src/model/destructive.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DESTRUCTIVE_H
#define MIGRATE_DESTRUCTIVE_H

#include "nodes/pg_list.h"
#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"

typedef enum MigrateDestructiveKind
{
	DESTROYS_TABLE,				/* DROP TABLE, TRUNCATE, DELETE without WHERE,
								 * MERGE that deletes or updates */
	DESTROYS_COLUMNS,			/* DROP COLUMN, ALTER COLUMN TYPE, UPDATE without WHERE */
	DESTROYS_SCHEMA,			/* DROP SCHEMA ... CASCADE: every table in it */
	DESTROYS_TYPE				/* DROP TYPE/DOMAIN ... CASCADE: the columns
								 * of that type (the executor finds them) */
} MigrateDestructiveKind;

/* one thing a statement destroys */
typedef struct MigrateDestructiveTarget
{
	MigrateDestructiveKind kind;
	const char *what;			/* "DROP TABLE", "DROP COLUMN", ... for messages
								 * and migrate.backup.kind */
	RangeVar   *relation;		/* the table, or NULL for a schema */
	const char *schema;			/* DESTROYS_SCHEMA: the schema's name */
	TypeName   *type;			/* DESTROYS_TYPE: the type's name */
	List	   *columns;		/* DESTROYS_COLUMNS: column names (String) */
	bool		cascade;		/* DROP TABLE ... CASCADE: its inheritance
								 * children go too; TRUNCATE ... CASCADE: the tables whose
								 * foreign keys reference it go too */
} MigrateDestructiveTarget;

/* what the statement (a raw parse tree: RawStmt or its stmt) destroys; NIL when nothing */
extern List *migrate_destructive_targets(Node *parsetree);

#endif							/* MIGRATE_DESTRUCTIVE_H */
