/*-------------------------------------------------------------------------
 *
 * gendown.c
 *	  migrate.generate_down(), migrate.inversions(), and the generated
 *	  down script of register(..., generate_down => true).
 *
 * CONTRACT STUB (issue 12): wp12-4 writes it.
 *
 * IDENTIFICATION
 *	  src/store/gendown.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "errors.h"
#include "store/gendown.h"

PG_FUNCTION_INFO_V1(migrate_generate_down);
PG_FUNCTION_INFO_V1(migrate_inversions);

char *
migrate_gendown_for_register(const char *version, const char *up)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_NOT_INVERTIBLE),
			 errmsg("the up script of migration \"%s\" cannot be inverted", version),
			 errdetail("Down scripts are not generated yet.")));
	return NULL;
}

void
migrate_gendown_mark(const char *version, bool generated)
{
}

Datum
migrate_generate_down(PG_FUNCTION_ARGS)
{
	PG_RETURN_NULL();
}

Datum
migrate_inversions(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("migrate.inversions() is not implemented yet")));
	PG_RETURN_NULL();
}
