/*-------------------------------------------------------------------------
 *
 * lockfacts.h
 *	  Which relations a statement locks, in which mode, and what it does
 *	  to them (catalog only, scan, rewrite, index build), from the raw
 *	  parse tree.
 *
 * The lock modes are PostgreSQL's own: AlterTableGetLockLevel() for ALTER
 * TABLE, and the modes the server's utility code takes for the other
 * statements.  What the text cannot decide (is a cast binary-coercible,
 * is a default volatile) is asked of the catalog facts when given, and
 * otherwise reported as the worse case with "unknown" in the reason.
 *
 * IDENTIFICATION
 *	  src/model/lockfacts.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LOCKFACTS_H
#define MIGRATE_LOCKFACTS_H

#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"

#include "model/catalogfacts.h"

/* what a statement does to a relation, from the cheapest to the dearest */
typedef enum MigrateLockEffect
{
	LOCK_EFFECT_NONE = 0,		/* reads or writes rows, no DDL work */
	LOCK_EFFECT_CATALOG,		/* changes the catalog only */
	LOCK_EFFECT_SCAN,			/* reads every row (SET NOT NULL, VALIDATE,
								 * ADD CONSTRAINT without NOT VALID) */
	LOCK_EFFECT_BUILD,			/* builds an index */
	LOCK_EFFECT_REWRITE			/* rewrites the table (and its indexes) */
} MigrateLockEffect;

typedef struct MigrateLockFact
{
	RangeVar   *relation;		/* as written (NULL: a database-wide or
								 * non-relation object) */
	LOCKMODE	mode;			/* NoLock when it takes none on a relation */
	MigrateLockEffect effect;
	const char *reason;			/* why, e.g. "ALTER COLUMN TYPE: not
								 * binary-coercible" */
} MigrateLockFact;

/* the lock facts of one statement (a RawStmt's stmt); NIL when none */
extern List *migrate_lock_facts(Node *stmt, const MigrateCatalogFacts *facts);

/* "ACCESS EXCLUSIVE", ... as pg_locks writes them without "Lock" */
extern const char *migrate_lock_mode_name(LOCKMODE mode);
extern const char *migrate_lock_effect_name(MigrateLockEffect effect);

/* whether a mode blocks plain writes (INSERT/UPDATE/DELETE) */
extern bool migrate_lock_blocks_writes(LOCKMODE mode);

#endif							/* MIGRATE_LOCKFACTS_H */
