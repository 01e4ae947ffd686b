/*-------------------------------------------------------------------------
 *
 * relfacts_column.c
 *	  Catalog facts about column changes: binary-coercible type changes
 *	  and volatile defaults.
 *
 * CONTRACT STUB (issue 12): wp12-1 writes it; until then "unknown".
 *
 * IDENTIFICATION
 *	  src/store/relfacts_column.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "store/relfacts.h"

MigrateFact
migrate_relfacts_binary_coercible(const RangeVar *relation, const char *column,
								  const TypeName *newtype)
{
	return FACT_UNKNOWN;
}

MigrateFact
migrate_relfacts_expression_volatile(Node *raw_expression)
{
	return FACT_UNKNOWN;
}
