/*-------------------------------------------------------------------------
 *
 * relfacts_column.c
 *	  Catalog facts about column changes: binary-coercible type changes
 *	  and volatile defaults.
 *
 * ALTER COLUMN TYPE rewrites the table (and rebuilds its indexes) unless
 * the old values are valid bit for bit in the new type: the cast is
 * binary-coercible (IsBinaryCoercible(), PostgreSQL's own test) and the
 * type modifier does not make a value invalid.  The modifier rules here
 * are the ones PostgreSQL's length-coercion support functions apply:
 * varchar(n) to varchar(m >= n), to unbounded varchar or to text, and
 * numeric(p, s) to numeric(q >= p, s) or to unconstrained numeric, need
 * no rewrite; any other change of modifier is counted as a rewrite (the
 * server knows a few more, such as a wider timestamp precision: the lint
 * then reports a rewrite that will not happen, never the other way).
 *
 * ADD COLUMN with a DEFAULT stores the default once in the catalog (no
 * rewrite) unless the expression is volatile: then every row needs its
 * own value.  A raw expression names functions, not OIDs, so every
 * function it calls is looked up by name (FuncnameGetCandidates, in the
 * caller's search_path) and the expression counts as volatile when a
 * candidate is.
 *
 * Both answer FACT_UNKNOWN rather than raise an error: a missing table,
 * column, type, function or schema, a type modifier the type refuses or a
 * schema the caller may not use makes the migration fail later, not the
 * lint now.  The lookups run in a subtransaction so that such an error is
 * caught (a cancel is passed on).  Nothing here takes a lock: names are
 * resolved with NoLock and the catalog is read through the syscache.
 *
 * IDENTIFICATION
 *	  src/store/relfacts_column.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "ipc/xact.h"
#include "store/relfacts.h"
#include "store/relname.h"

/* one question and its answer, for the subtransaction's body */
typedef struct CoercibleQuestion
{
	const RangeVar *relation;
	const char *column;
	const TypeName *newtype;
	MigrateFact answer;
} CoercibleQuestion;

typedef struct VolatileQuestion
{
	Node	   *expression;
	bool		volatile_found;
	bool		unknown_found;	/* a function that is not in the catalog */
} VolatileQuestion;

/*
 * Run body(arg) so that an error in it is an "unknown", not the lint's
 * failure; false when it raised one.  A cancel or a shutdown is not a
 * fact about the script: it is raised again.
 */
static bool
run_caught(MigrateSubxactBody body, void *arg)
{
	ErrorData  *edata = migrate_xact_run_subxact(body, arg, false, NULL);

	if (edata == NULL)
		return true;
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		ReThrowError(edata);
	FreeErrorData(edata);
	return false;
}

/* the precision and scale a numeric type modifier encodes (numeric.c) */
static int
numeric_typmod_precision(int32 typmod)
{
	return ((typmod - VARHDRSZ) >> 16) & 0xffff;
}

static int
numeric_typmod_scale(int32 typmod)
{
	/* 11 bits, signed: PostgreSQL 15 allows a negative scale */
	return (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
}

/*
 * Whether a column of the same type keeps every value valid under the new
 * type modifier (-1: none), without a rewrite.
 */
static bool
same_type_keeps_values(Oid type, int32 oldtypmod, int32 newtypmod)
{
	if (newtypmod == oldtypmod)
		return true;
	switch (type)
	{
		case VARCHAROID:
			/* a longer limit or none: every value still fits */
			return newtypmod < 0 || (oldtypmod >= 0 && newtypmod >= oldtypmod);
		case NUMERICOID:
			if (newtypmod < 0)
				return true;
			return oldtypmod >= 0 &&
				numeric_typmod_scale(newtypmod) == numeric_typmod_scale(oldtypmod) &&
				numeric_typmod_precision(newtypmod) >= numeric_typmod_precision(oldtypmod);
		default:
			return false;
	}
}

/*
 * Whether a column of oldtype(oldtypmod) becomes newtype(newtypmod)
 * without a rewrite.  Another type must be binary-coercible and carry no
 * modifier: a modifier means a length coercion that checks every value.
 */
static bool
change_keeps_values(Oid oldtype, int32 oldtypmod, Oid newtype, int32 newtypmod)
{
	if (oldtype == newtype)
		return same_type_keeps_values(oldtype, oldtypmod, newtypmod);
	return newtypmod < 0 && IsBinaryCoercible(oldtype, newtype);
}

static void
answer_binary_coercible(void *arg)
{
	CoercibleQuestion *q = arg;
	Oid			relid;
	HeapTuple	tuple;
	Oid			oldtype;
	int32		oldtypmod;
	Type		newtype;
	int32		newtypmod = -1;
	Oid			newtypid;

	q->answer = FACT_UNKNOWN;
	relid = migrate_relname_lookup(q->relation);
	if (!OidIsValid(relid))
		return;
	tuple = SearchSysCacheAttName(relid, q->column);
	if (!HeapTupleIsValid(tuple))
		return;
	oldtype = ((Form_pg_attribute) GETSTRUCT(tuple))->atttypid;
	oldtypmod = ((Form_pg_attribute) GETSTRUCT(tuple))->atttypmod;
	ReleaseSysCache(tuple);

	newtype = LookupTypeName(NULL, q->newtype, &newtypmod, true);
	if (newtype == NULL)
		return;
	newtypid = typeTypeId(newtype);
	ReleaseSysCache(newtype);
	q->answer = change_keeps_values(oldtype, oldtypmod, newtypid, newtypmod) ?
		FACT_YES : FACT_NO;
}

MigrateFact
migrate_relfacts_binary_coercible(const RangeVar *relation, const char *column,
								  const TypeName *newtype)
{
	CoercibleQuestion q = {relation, column, newtype, FACT_UNKNOWN};

	if (relation == NULL || column == NULL || newtype == NULL)
		return FACT_UNKNOWN;
	if (!run_caught(answer_binary_coercible, &q))
		return FACT_UNKNOWN;
	return q.answer;
}

/* whether some function of this name and argument count is volatile */
static void
look_up_function(FuncCall *call, VolatileQuestion *q)
{
	FuncCandidateList candidates;

	/* catalog.schema.name is refused when the migration runs */
	if (list_length(call->funcname) > 2)
	{
		q->unknown_found = true;
		return;
	}
	candidates = migrate_funcname_candidates(call->funcname, list_length(call->args));
	if (candidates == NULL)
		q->unknown_found = true;
	for (; candidates != NULL; candidates = candidates->next)
	{
		if (func_volatile(candidates->oid) == PROVOLATILE_VOLATILE)
			q->volatile_found = true;
	}
}

static bool
volatile_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
		look_up_function((FuncCall *) node, context);
	/* the arguments may call functions too */
	return raw_expression_tree_walker(node, volatile_walker, context);
}

static void
answer_expression_volatile(void *arg)
{
	VolatileQuestion *q = arg;

	(void) volatile_walker(q->expression, q);
}

MigrateFact
migrate_relfacts_expression_volatile(Node *raw_expression)
{
	VolatileQuestion q = {raw_expression, false, false};

	if (raw_expression == NULL)
		return FACT_NO;
	if (!run_caught(answer_expression_volatile, &q))
		return FACT_UNKNOWN;
	if (q.volatile_found)
		return FACT_YES;
	return q.unknown_found ? FACT_UNKNOWN : FACT_NO;
}
