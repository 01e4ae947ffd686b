/*-------------------------------------------------------------------------
 *
 * relfacts.c
 *	  Facts about a relation from the live catalog: does it exist, how big
 *	  is it, has it ever held a row.
 *
 * Lint, analyze and plan() ask this for every statement, possibly while
 * a migration or a long transaction holds an ACCESS EXCLUSIVE lock on the
 * table, so nothing here waits for a lock: the size is measured under an
 * AccessShareLock taken only if it is free at once (and released again);
 * otherwise the planner's relpages stand in for the size and the table is
 * not called empty.  "Empty" means the heap has no block at all, which
 * no table that ever held a row has until it is truncated: relpages and
 * reltuples cannot say that (they are 0 for a table never vacuumed).
 *
 * Names resolve in the caller's search_path, as the migration's would.
 *
 * IDENTIFICATION
 *	  src/store/relfacts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "store/relfacts.h"
#include "store/relname.h"

const MigrateCatalogFacts migrate_live_catalog_facts = {
	migrate_relfacts_relation,
	migrate_relfacts_binary_coercible,
	migrate_relfacts_expression_volatile,
	migrate_relfacts_columns_indexed,
	migrate_relfacts_comment_of,
	migrate_relfacts_column_default,
	migrate_relfacts_foreign_key_partners,
	migrate_relfacts_type_has_constraints,
	migrate_relfacts_trigger_state,
	migrate_relfacts_row_security,
};

/* the planner's idea of a relation's size: relpages of it, its toast and indexes */
static int64
estimated_bytes(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int64		pages = 0;

	if (HeapTupleIsValid(tuple))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);

		pages = form->relpages;
		if (OidIsValid(form->reltoastrelid))
			pages += estimated_bytes(form->reltoastrelid) / BLCKSZ;
		ReleaseSysCache(tuple);
	}
	return pages * BLCKSZ;
}

/*
 * Measure one relation that has storage: total size and whether its heap
 * has blocks.  False when its lock is not free at once.
 */
static bool
measure(Oid relid, int64 *total_bytes, bool *empty)
{
	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return false;
	/* it may have been dropped while we did not hold the lock */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
	{
		UnlockRelationOid(relid, AccessShareLock);
		return false;
	}
	*total_bytes = DatumGetInt64(DirectFunctionCall1(pg_total_relation_size,
													 ObjectIdGetDatum(relid)));
	*empty = DatumGetInt64(DirectFunctionCall2(pg_relation_size, ObjectIdGetDatum(relid),
											   CStringGetTextDatum("main"))) == 0;
	UnlockRelationOid(relid, AccessShareLock);
	return true;
}

/* a partitioned table: the sum over its partitions (it has no storage itself) */
static void
measure_partitioned(Oid relid, MigrateRelationFacts *facts)
{
	List	   *members = find_all_inheritors(relid, NoLock, NULL);
	ListCell   *lc;

	facts->total_bytes = 0;
	facts->empty = true;
	foreach(lc, members)
	{
		Oid			member = lfirst_oid(lc);
		int64		bytes = 0;
		bool		empty = false;

		if (get_rel_relkind(member) == RELKIND_PARTITIONED_TABLE)
			continue;
		if (!measure(member, &bytes, &empty))
		{
			bytes = estimated_bytes(member);
			empty = false;
		}
		facts->total_bytes += bytes;
		facts->empty = facts->empty && empty;
	}
}

bool
migrate_relfacts_relation(const RangeVar *relation, MigrateRelationFacts *facts)
{
	Oid			relid;
	HeapTuple	tuple;
	Form_pg_class form;

	memset(facts, 0, sizeof(*facts));
	facts->reltuples = -1;
	relid = migrate_relname_lookup(relation);
	if (!OidIsValid(relid))
		return false;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return false;
	form = (Form_pg_class) GETSTRUCT(tuple);
	facts->exists = true;
	facts->relid = relid;
	facts->relkind = form->relkind;
	facts->reltuples = form->reltuples;
	facts->qualified = quote_qualified_identifier(get_namespace_name(form->relnamespace),
												  NameStr(form->relname));
	ReleaseSysCache(tuple);

	if (facts->relkind == RELKIND_PARTITIONED_TABLE)
		measure_partitioned(relid, facts);
	else if (!RELKIND_HAS_STORAGE(facts->relkind))
	{
		facts->total_bytes = 0;
		facts->empty = false;	/* a view or foreign table: not ours to call empty */
	}
	else if (!measure(relid, &facts->total_bytes, &facts->empty))
	{
		facts->total_bytes = estimated_bytes(relid);
		facts->empty = false;
	}
	return true;
}
