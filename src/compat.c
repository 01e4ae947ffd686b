/*-------------------------------------------------------------------------
 *
 * compat.c
 *	  Fallbacks for APIs that older supported PostgreSQL versions lack.
 *
 * IDENTIFICATION
 *	  src/compat.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "compat.h"

/*
 * The definition of a built-in setting, or NULL: a linear search, for the
 * rare caller that must change how a setting behaves in its own process
 * (noparallel.c).  PG16 turned get_guc_variables() into a sorted copy
 * whose length it returns.
 */
struct config_generic *
migrate_find_guc(const char *name)
{
	struct config_generic **vars;
	int			n;

#if PG_VERSION_NUM >= 160000
	vars = get_guc_variables(&n);
#else
	vars = get_guc_variables();
	n = GetNumConfigOptions();
#endif
	for (int i = 0; i < n; i++)
		if (vars[i] != NULL && strcmp(vars[i]->name, name) == 0)
			return vars[i];
	return NULL;
}

#if PG_VERSION_NUM < 150000
#include "miscadmin.h"
#include "utils/tuplestore.h"

/*
 * PG13/14 have no SetSingleFuncCall: set up a materialised SRF by hand, the
 * way contrib modules did before it existed.
 */
void
migrate_materialize_srf_compat(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcontext;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	oldcontext = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcontext);
}
#endif
