/*-------------------------------------------------------------------------
 *
 * relfacts_previous.c
 *	  What an object has now that a statement would replace: its comment,
 *	  a column's default.  For the inverses of COMMENT ON and SET DEFAULT.
 *
 * CONTRACT STUB (issue 12): wp12-4 writes it; until then "not found".
 *
 * IDENTIFICATION
 *	  src/store/relfacts_previous.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "store/relfacts.h"

char *
migrate_relfacts_comment_of(ObjectType objtype, Node *object, bool *found)
{
	*found = false;
	return NULL;
}

char *
migrate_relfacts_column_default(const RangeVar *relation, const char *column, bool *found)
{
	*found = false;
	return NULL;
}
