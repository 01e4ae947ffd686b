/*-------------------------------------------------------------------------
 *
 * relfacts_index.c
 *	  Catalog facts about indexes: do a table's columns lead some index.
 *
 * The lint rule foreign-key-without-index asks whether the referencing
 * columns of a foreign key lead some index of the table, in any order: an
 * index on (a, b) serves a foreign key on (b, a) and one on (a), not one
 * on (b).  Only a valid, complete (not partial) index counts: a partial
 * index serves only the rows of its predicate.
 *
 * Nothing here locks the table: pg_index is read by its indrelid index,
 * under the catalog snapshot, as pg_get_indexdef() reads it, so that a
 * migration holding the table's ACCESS EXCLUSIVE lock does not make the
 * lint wait.
 *
 * IDENTIFICATION
 *	  src/store/relfacts_index.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "store/relfacts.h"
#include "store/relname.h"

/*
 * Whether the first "n" key columns of the index are exactly "attnums"
 * (n of them, all different), in any order.
 */
static bool
index_leads_with(Form_pg_index index, const AttrNumber *attnums, int n)
{
	if (index->indnkeyatts < n)
		return false;
	for (int i = 0; i < n; i++)
	{
		bool		found = false;

		for (int j = 0; j < n && !found; j++)
			found = index->indkey.values[i] == attnums[j];
		if (!found)
			return false;
	}
	return true;
}

/*
 * The attribute numbers of "columns" (String) of relid; false when one is
 * not a column of it (then no index can have it).
 */
static bool
column_numbers(Oid relid, List *columns, AttrNumber *attnums)
{
	ListCell   *lc;

	foreach(lc, columns)
	{
		AttrNumber	attnum = get_attnum(relid, strVal(lfirst(lc)));

		if (attnum == InvalidAttrNumber)
			return false;
		for (int j = 0; j < foreach_current_index(lc); j++)
			if (attnums[j] == attnum)
				return false;	/* a column named twice: no foreign key has that */
		attnums[foreach_current_index(lc)] = attnum;
	}
	return true;
}

MigrateFact
migrate_relfacts_columns_indexed(const RangeVar *relation, List *columns)
{
	Oid			relid;
	int			n = list_length(columns);
	AttrNumber *attnums;
	Relation	pg_index;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	MigrateFact answer = FACT_NO;

	relid = migrate_relname_lookup(relation);
	if (!OidIsValid(relid) || n == 0)
		return FACT_UNKNOWN;
	attnums = palloc(sizeof(AttrNumber) * n);
	if (!column_numbers(relid, columns, attnums))
		return FACT_NO;

	pg_index = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_index, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (answer == FACT_NO && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_index index = (Form_pg_index) GETSTRUCT(tuple);

		if (!index->indisvalid || !index->indisready || !index->indislive ||
			!heap_attisnull(tuple, Anum_pg_index_indpred, NULL))
			continue;
		if (index_leads_with(index, attnums, n))
			answer = FACT_YES;
	}
	systable_endscan(scan);
	table_close(pg_index, AccessShareLock);
	return answer;
}
