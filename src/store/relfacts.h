/*-------------------------------------------------------------------------
 *
 * relfacts.h
 *	  The live catalog's answers to the model's questions
 *	  (model/catalogfacts.h).
 *
 * IDENTIFICATION
 *	  src/store/relfacts.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RELFACTS_H
#define MIGRATE_RELFACTS_H

#include "model/catalogfacts.h"

/* every callback answered from the live catalog */
extern const MigrateCatalogFacts migrate_live_catalog_facts;

/* relfacts.c */
extern bool migrate_relfacts_relation(const RangeVar *relation, MigrateRelationFacts *facts);

/* relfacts_column.c (wp12-1) */
extern MigrateFact migrate_relfacts_binary_coercible(const RangeVar *relation,
													 const char *column,
													 const TypeName *newtype);
extern MigrateFact migrate_relfacts_expression_volatile(Node *raw_expression);

/* relfacts_index.c (wp12-2) */
extern MigrateFact migrate_relfacts_columns_indexed(const RangeVar *relation, List *columns);

/* relfacts_previous.c (wp12-4) */
extern char *migrate_relfacts_comment_of(ObjectType objtype, Node *object, bool *found);
extern char *migrate_relfacts_column_default(const RangeVar *relation, const char *column,
											 bool *found);

/* relfacts_state.c */
extern List *migrate_relfacts_foreign_key_partners(const RangeVar *relation,
												   const char *column,
												   const char *constraint);
extern MigrateFact migrate_relfacts_type_has_constraints(const TypeName *type);
extern char migrate_relfacts_trigger_state(const RangeVar *relation, const char *trigger);
extern MigrateFact migrate_relfacts_row_security(const RangeVar *relation, bool force);

#endif							/* MIGRATE_RELFACTS_H */
