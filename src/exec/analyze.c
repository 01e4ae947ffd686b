/*-------------------------------------------------------------------------
 *
 * analyze.c
 *	  migrate.analyze(script, measure): per statement, the relations it
 *	  locks, in which mode, what it does to them, and their size.
 *
 * CONTRACT STUB (issue 12): wp12-3 writes it.
 *
 * IDENTIFICATION
 *	  src/exec/analyze.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(migrate_analyze);

Datum
migrate_analyze(PG_FUNCTION_ARGS)
{
	migrate_materialize_srf(fcinfo);
	PG_RETURN_VOID();
}
