/*-------------------------------------------------------------------------
 *
 * relfacts_index.c
 *	  Catalog facts about indexes: do a table's columns lead some index.
 *
 * CONTRACT STUB (issue 12): wp12-2 writes it; until then "unknown".
 *
 * IDENTIFICATION
 *	  src/store/relfacts_index.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "store/relfacts.h"

MigrateFact
migrate_relfacts_columns_indexed(const RangeVar *relation, List *columns)
{
	return FACT_UNKNOWN;
}
