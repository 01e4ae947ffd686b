/*-------------------------------------------------------------------------
 *
 * catalogfacts.h
 *	  What the pure model may ask of the live catalog, as callbacks.
 *
 * The model (lint rules, lock facts, down-script generation) reads parse
 * trees and never the catalog (test/check_layers.sh).  Some questions can
 * only be answered by the catalog: does the table exist and how big is
 * it, is a cast binary-coercible, is a function volatile, which comment
 * or default does an object have now.  The store layer answers them
 * (store/relfacts.c fills migrate_live_catalog_facts); a caller that
 * wants text-only answers passes NULL, and every rule then decides from
 * the text alone, leaving out what only the catalog can tell.
 *
 * Every callback resolves names in the caller's search_path, as the
 * migration itself would, never takes a lock stronger than AccessShareLock,
 * never raises an error for a missing object (it answers "unknown"), and
 * reads only the catalog (never a user table's rows).
 *
 * IDENTIFICATION
 *	  src/model/catalogfacts.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CATALOGFACTS_H
#define MIGRATE_CATALOGFACTS_H

#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"

/* a tri-state answer */
typedef enum MigrateFact
{
	FACT_UNKNOWN = -1,
	FACT_NO = 0,
	FACT_YES = 1
} MigrateFact;

/* what the catalog says about one relation */
typedef struct MigrateRelationFacts
{
	bool		exists;
	Oid			relid;			/* InvalidOid when it does not exist */
	char		relkind;		/* RELKIND_* */
	char	   *qualified;		/* schema-qualified, quoted name */
	int64		total_bytes;	/* heap, toast and indexes, as
								 * pg_total_relation_size() */
	bool		empty;			/* its heap has no blocks: no row was ever
								 * stored (an empty table may still have
								 * blocks after a DELETE) */
	double		reltuples;		/* the planner's estimate; -1 unknown */
} MigrateRelationFacts;

typedef struct MigrateCatalogFacts
{
	/* facts about a relation; false (facts->exists false) when it is absent */
	bool		(*relation) (const RangeVar *relation, MigrateRelationFacts *facts);

	/*
	 * Whether changing column "column" of "relation" to "newtype" needs no
	 * rewrite (the cast is binary-coercible and the type modifier does
	 * not shrink).  FACT_UNKNOWN when the table, column or type is absent.
	 */
	MigrateFact (*binary_coercible) (const RangeVar *relation, const char *column,
									 const TypeName *newtype);

	/*
	 * Whether an expression of a column DEFAULT calls a volatile function
	 * (FACT_UNKNOWN when a function it names is not found): a volatile
	 * default makes ADD COLUMN rewrite the table.
	 */
	MigrateFact (*expression_volatile) (Node *raw_expression);

	/*
	 * Whether some valid index of "relation" has "columns" (a List of
	 * String) as its leading columns, in any order.
	 */
	MigrateFact (*columns_indexed) (const RangeVar *relation, List *columns);

	/*
	 * The comment an object has now, or NULL (also when it has none: *found
	 * says whether the object exists).  For COMMENT ON's inverse.
	 */
	char	   *(*comment_of) (ObjectType objtype, Node *object, bool *found);

	/*
	 * The default expression of a column now, deparsed, or NULL when it has
	 * none (*found says whether the column exists).  For SET DEFAULT's
	 * inverse.
	 */
	char	   *(*column_default) (const RangeVar *relation, const char *column,
								   bool *found);

	/*
	 * The tables on the other side of the foreign keys of "relation" (a
	 * List of RangeVar): those it references and those that reference it;
	 * only the foreign keys on "column" or the one named "constraint" when
	 * given.  Dropping or changing a foreign key changes its triggers on
	 * both tables under ACCESS EXCLUSIVE.  NIL when none or unknown.
	 */
	List	   *(*foreign_key_partners) (const RangeVar *relation, const char *column,
										 const char *constraint);

	/*
	 * Whether a type is a domain with constraints: ADD COLUMN of it
	 * rewrites the table.  FACT_UNKNOWN when the type is absent.
	 */
	MigrateFact (*type_has_constraints) (const TypeName *type);

	/*
	 * A trigger's state now (pg_trigger.tgenabled: 'O', 'D', 'R', 'A'), 0
	 * when unknown.  For ENABLE/DISABLE TRIGGER's inverse.
	 */
	char		(*trigger_state) (const RangeVar *relation, const char *trigger);

	/*
	 * Whether a table's row level security is enabled (force false) or
	 * forced (force true) now.  For ENABLE/DISABLE/FORCE ROW LEVEL
	 * SECURITY's inverse.
	 */
	MigrateFact (*row_security) (const RangeVar *relation, bool force);
} MigrateCatalogFacts;

#endif							/* MIGRATE_CATALOGFACTS_H */
