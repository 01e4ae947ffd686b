/*-------------------------------------------------------------------------
 *
 * adopt.c
 *	  Baselines and imported histories (issue 13).
 *
 * CONTRACT STUB (issue 13): wp13-2 writes it.
 *
 * IDENTIFICATION
 *	  src/store/adopt.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "store/adopt.h"

void
migrate_adopt_registered(const char *version)
{
}
