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

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif

#include "compat.h"

/*
 * Call a type's input function (interval_in, date_in ...) on "text" and
 * say whether the text was valid input, setting *result if so.  The
 * header parser uses it to turn an invalid value into its own error,
 * which names the header line.
 *
 * PG16 and later: the soft-error protocol, no error is raised at all.
 *
 * Before PG16 the error is caught.  That is safe without a subtransaction
 * because of what these input functions are: they raise their errors with
 * ereport(ERROR) while holding no lock, buffer pin, file, snapshot or
 * other resource and without changing any transaction state, and all they
 * leave behind is memory in the caller's context.  So once the error
 * state is flushed there is nothing a subtransaction abort would have had
 * to clean up.  Only data exceptions (SQLSTATE class 22, which is what
 * bad input raises) are taken as "invalid"; anything else, such as out of
 * memory or a cancel, is thrown on unchanged.
 *
 * So "func" must be such a function: a type input function that only
 * parses and allocates memory (interval_in, date_in and the like), never
 * one that reads the catalog, takes a lock, opens a file or enters a
 * critical section; for anything else use a subtransaction
 * (BeginInternalSubTransaction) instead.  errfinish() zeroes
 * InterruptHoldoffCount and QueryCancelHoldoffCount before it jumps here,
 * which is right for the abort it expects but wrong when the error is
 * swallowed: they are put back to what they were at the call, and the
 * assertion documents that a caller holding interrupts or inside a
 * critical section must not be here at all.
 */
bool
migrate_compat_call_input(PGFunction func, const char *text, Datum *result)
{
#if PG_VERSION_NUM >= 160000
	ErrorSaveContext escontext = {T_ErrorSaveContext};

	return DirectInputFunctionCallSafe(func, (char *) text, InvalidOid, -1,
									   (Node *) &escontext, result);
#else
	MemoryContext caller = CurrentMemoryContext;
	uint32		interrupt_holdoff = InterruptHoldoffCount;
	uint32		cancel_holdoff = QueryCancelHoldoffCount;
	volatile bool valid = true;

	Assert(InterruptHoldoffCount == 0 && CritSectionCount == 0);
	PG_TRY();
	{
		*result = DirectFunctionCall3(func, CStringGetDatum(text),
									  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(edata);
		InterruptHoldoffCount = interrupt_holdoff;
		QueryCancelHoldoffCount = cancel_holdoff;
		valid = false;
	}
	PG_END_TRY();
	return valid;
#endif
}

/*
 * The definition of a built-in setting, or NULL: a linear search, for the
 * rare caller that must change how a setting behaves in its own process
 * (noparallel.c).  PG16 turned get_guc_variables() into a sorted copy
 * whose length it returns.
 */
struct config_generic *
migrate_compat_find_guc(const char *name)
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
