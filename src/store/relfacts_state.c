/*-------------------------------------------------------------------------
 *
 * relfacts_state.c
 *	  The catalog's state of the objects around a statement: the tables on
 *	  the other side of a foreign key, whether a type is a domain with
 *	  constraints, a trigger's enabled state, a table's row level security.
 *
 * Lock facts need the foreign-key partners (dropping or changing a
 * foreign key changes the triggers on BOTH tables, under ACCESS
 * EXCLUSIVE) and the domain's constraints (ADD COLUMN of such a domain
 * rewrites the table); generated down scripts need the state a statement
 * changes, to undo exactly that and nothing more.
 *
 * Nothing here takes a lock on a user relation or raises an error: names
 * resolve without permission checks (a schema the caller cannot use is
 * simply looked into, as the catalog is readable by everyone) and a
 * missing object is "unknown" or "none".
 *
 * IDENTIFICATION
 *	  src/store/relfacts_state.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "store/relfacts.h"

/* a relation's oid without a lock and without a permission check; invalid when absent */
static Oid
relation_oid(const RangeVar *relation)
{
	Oid			nspid;

	if (relation == NULL || relation->relname == NULL)
		return InvalidOid;
	if (relation->schemaname == NULL)
		return RelnameGetRelid(relation->relname);
	nspid = get_namespace_oid(relation->schemaname, true);
	if (!OidIsValid(nspid))
		return InvalidOid;
	return get_relname_relid(relation->relname, nspid);
}

/* how a script would name a relation: unqualified when the search_path finds it */
static RangeVar *
relation_name(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	Oid			nspid = get_rel_namespace(relid);

	if (relname == NULL)
		return NULL;
	if (RelationIsVisible(relid))
		return makeRangeVar(NULL, relname, -1);
	return makeRangeVar(get_namespace_name(nspid), relname, -1);
}

/* whether an int2[] column of a constraint tuple holds attnum */
static bool
key_has_attnum(HeapTuple tuple, TupleDesc desc, AttrNumber column, AttrNumber attnum)
{
	bool		isnull;
	Datum		datum = heap_getattr(tuple, column, desc, &isnull);
	ArrayType  *keys;
	int16	   *values;
	int			n;

	if (isnull)
		return false;
	keys = DatumGetArrayTypeP(datum);
	values = (int16 *) ARR_DATA_PTR(keys);
	n = ARR_DIMS(keys)[0];
	for (int i = 0; i < n; i++)
		if (values[i] == attnum)
			return true;
	return false;
}

static List *
add_partner(List *partners, List **seen, Oid partner)
{
	RangeVar   *rv;

	if (list_member_oid(*seen, partner))
		return partners;
	rv = relation_name(partner);
	if (rv == NULL)
		return partners;
	*seen = lappend_oid(*seen, partner);
	return lappend(partners, rv);
}

/*
 * The tables on the other side of the foreign keys of "relation" (those
 * it has and those that reference it), restricted to the foreign keys on
 * "column" (either side) or to the constraint named "constraint" of
 * "relation", when given (a foreign key, or a key that foreign keys
 * reference).  A self-reference has no other side.
 */
List *
migrate_relfacts_foreign_key_partners(const RangeVar *relation, const char *column,
									  const char *constraint)
{
	Oid			relid = relation_oid(relation);
	AttrNumber	attnum = InvalidAttrNumber;
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	List	   *partners = NIL;
	List	   *seen = NIL;
	Oid			keyindex = InvalidOid;	/* the named key's index */

	if (!OidIsValid(relid))
		return NIL;
	if (column != NULL)
	{
		attnum = get_attnum(relid, column);
		if (attnum == InvalidAttrNumber)
			return NIL;
	}
	conrel = table_open(ConstraintRelationId, AccessShareLock);

	/* its own foreign keys: the referenced tables */
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);

		if (constraint != NULL && strcmp(NameStr(con->conname), constraint) != 0)
			continue;
		if (constraint != NULL && con->contype != CONSTRAINT_FOREIGN)
			keyindex = con->conindid;
		if (con->contype != CONSTRAINT_FOREIGN || con->confrelid == relid)
			continue;
		if (column != NULL &&
			!key_has_attnum(tuple, RelationGetDescr(conrel), Anum_pg_constraint_conkey, attnum))
			continue;
		partners = add_partner(partners, &seen, con->confrelid);
	}
	systable_endscan(scan);

	/*
	 * The foreign keys that reference it: the referencing tables; for a
	 * named key (DROP CONSTRAINT ... CASCADE of a primary key), those that
	 * reference its index.
	 */
	if (constraint == NULL || OidIsValid(keyindex))
	{
		ScanKeyInit(&key, Anum_pg_constraint_confrelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(relid));
		scan = systable_beginscan(conrel, InvalidOid, false, NULL, 1, &key);
		while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		{
			Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tuple);

			if (con->contype != CONSTRAINT_FOREIGN || con->conrelid == relid)
				continue;
			if (OidIsValid(keyindex) && con->conindid != keyindex)
				continue;
			if (column != NULL &&
				!key_has_attnum(tuple, RelationGetDescr(conrel), Anum_pg_constraint_confkey, attnum))
				continue;
			partners = add_partner(partners, &seen, con->conrelid);
		}
		systable_endscan(scan);
	}
	table_close(conrel, AccessShareLock);
	return partners;
}

/* a type name's oid without a permission check; invalid when absent or not simple */
static Oid
type_oid(const TypeName *type)
{
	char	   *schema = NULL;
	char	   *name = NULL;
	Oid			nspid;

	if (type == NULL || type->pct_type || type->names == NIL)
		return InvalidOid;
	if (OidIsValid(type->typeOid))
		return type->typeOid;
	switch (list_length(type->names))
	{
		case 1:
			name = strVal(linitial(type->names));
			break;
		case 2:
			schema = strVal(linitial(type->names));
			name = strVal(lsecond(type->names));
			break;
		default:
			return InvalidOid;
	}
	if (schema == NULL)
		return TypenameGetTypid(name);
	nspid = get_namespace_oid(schema, true);
	if (!OidIsValid(nspid))
		return InvalidOid;
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
						   ObjectIdGetDatum(nspid));
}

/*
 * Whether "type" is a domain with constraints (its own or its base
 * domain's): ADD COLUMN of it rewrites the table to check every row.  An
 * array of it is not a domain.  FACT_UNKNOWN when the type is absent.
 */
MigrateFact
migrate_relfacts_type_has_constraints(const TypeName *type)
{
	Oid			typid;

	if (type != NULL && type->arrayBounds != NIL)
		return FACT_NO;
	typid = type_oid(type);
	if (!OidIsValid(typid))
		return FACT_UNKNOWN;
	if (get_typtype(typid) != TYPTYPE_DOMAIN)
		return FACT_NO;
	return DomainHasConstraints(typid) ? FACT_YES : FACT_NO;
}

/*
 * A trigger's pg_trigger.tgenabled (TRIGGER_FIRES_*), 0 when the table or
 * the trigger is absent.
 */
char
migrate_relfacts_trigger_state(const RangeVar *relation, const char *trigger)
{
	Oid			relid = relation_oid(relation);
	Relation	tgrel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tuple;
	char		state = 0;

	if (!OidIsValid(relid) || trigger == NULL)
		return 0;
	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(trigger));
	scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL, 2, keys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		state = ((Form_pg_trigger) GETSTRUCT(tuple))->tgenabled;
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
	return state;
}

/*
 * Whether a table has row level security enabled now (force false) or
 * forced on its owner (force true); FACT_UNKNOWN when it is absent.
 */
MigrateFact
migrate_relfacts_row_security(const RangeVar *relation, bool force)
{
	Oid			relid = relation_oid(relation);
	HeapTuple	tuple;
	bool		on;

	if (!OidIsValid(relid))
		return FACT_UNKNOWN;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return FACT_UNKNOWN;
	on = force ? ((Form_pg_class) GETSTRUCT(tuple))->relforcerowsecurity :
		((Form_pg_class) GETSTRUCT(tuple))->relrowsecurity;
	ReleaseSysCache(tuple);
	return on ? FACT_YES : FACT_NO;
}
