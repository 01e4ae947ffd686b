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

#endif							/* MIGRATE_RELFACTS_H */
