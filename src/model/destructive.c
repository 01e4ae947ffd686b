/*-------------------------------------------------------------------------
 *
 * destructive.c
 *	  Which statements destroy data, from the raw parse tree.
 *
 * CONTRACT STUB (issue 11): wp11-4 replaces it.
 *
 * IDENTIFICATION
 *	  src/model/destructive.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "model/destructive.h"

List *
migrate_destructive_targets(Node *parsetree)
{
	return NIL;
}
