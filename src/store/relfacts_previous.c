/*-------------------------------------------------------------------------
 *
 * relfacts_previous.c
 *	  What an object has now that a statement would replace: its comment,
 *	  a column's default.  For the inverses of COMMENT ON and SET DEFAULT
 *	  (model/invert.c), and for whether the object of a CREATE ... IF NOT
 *	  EXISTS exists ("found").
 *
 * Neither raises an error for a missing object: it answers "not found".
 * Neither waits for a table's lock: generate_down() and register() ask
 * these while a migration or a long transaction may hold an ACCESS
 * EXCLUSIVE lock on the table, and a read-only question must not hang
 * behind it.  Names resolve without a lock and without raising (relname.c).
 *
 * A relation and its column, trigger, policy, rule or constraint are
 * looked up by name in the catalog snapshot, without a lock (what
 * get_object_address() would find, without its lock and without its
 * privilege check on the schema: comments are in pg_description, which
 * every role may read).  Objects that are not relations (schemas, types,
 * functions, domains, extensions) are looked up by name without any lock
 * (get_object_address()'s AccessShareLock would wait behind an open ALTER
 * or DROP of that very object); the rarer kinds (operators, collations,
 * domain constraints, ...) still go through get_object_address().
 *
 * A column's default takes no lock on the table at all (see
 * migrate_relfacts_column_default).
 *
 * IDENTIFICATION
 *	  src/store/relfacts_previous.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_attrdef.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_trigger.h"
#include "commands/comment.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "commands/policy.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "rewrite/rewriteSupport.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "store/relfacts.h"
#include "store/relname.h"

/*
 * The relation an object of this type names, for the types whose lookup
 * opens a relation: a relation itself, or one of its columns, triggers,
 * rules, policies or constraints (the relation's names are all but the
 * last).  NULL for every other type.
 */
static List *
relation_names_of(ObjectType objtype, Node *object)
{
	List	   *names;

	switch (objtype)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_INDEX:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			return castNode(List, object);
		case OBJECT_COLUMN:
		case OBJECT_TRIGGER:
		case OBJECT_RULE:
		case OBJECT_POLICY:
		case OBJECT_TABCONSTRAINT:
			names = castNode(List, object);
			if (list_length(names) < 2)
				return NULL;
			return list_truncate(list_copy(names), list_length(names) - 1);
		default:
			return NULL;
	}
}

/*
 * The address of a relation or of one of its parts, looked up without a
 * lock; objectId is InvalidOid when it does not exist.
 */
static ObjectAddress
address_without_lock(ObjectType objtype, List *object, Oid relid)
{
	const char *name = strVal(llast(object));
	ObjectAddress address = {RelationRelationId, relid, 0};

	switch (objtype)
	{
		case OBJECT_COLUMN:
			address.objectSubId = get_attnum(relid, name);
			if (address.objectSubId == InvalidAttrNumber)
				address.objectId = InvalidOid;
			break;
		case OBJECT_TRIGGER:
			address.classId = TriggerRelationId;
			address.objectId = get_trigger_oid(relid, name, true);
			break;
		case OBJECT_POLICY:
			address.classId = PolicyRelationId;
			address.objectId = get_relation_policy_oid(relid, name, true);
			break;
		case OBJECT_RULE:
			address.classId = RewriteRelationId;
			address.objectId = get_rewrite_oid(relid, name, true);
			break;
		case OBJECT_TABCONSTRAINT:
			address.classId = ConstraintRelationId;
			address.objectId = get_relation_constraint_oid(relid, name, true);
			break;
		default:
			break;				/* the relation itself */
	}
	return address;
}

/*
 * The address of a function, type, domain, schema or extension, looked up
 * by name without a lock (object_without_lock): get_object_address() would take AccessShareLock
 * on the object and wait behind an open ALTER or DROP of it.  The comment
 * is then read from the catalog snapshot, as for a busy relation.  False
 * for the other kinds, which get_object_address() looks up.
 */
static bool
look_up_object(ObjectType objtype, Node *object, ObjectAddress *address)
{
	Oid			type;

	address->objectSubId = 0;
	switch (objtype)
	{
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			address->classId = ProcedureRelationId;
			address->objectId = LookupFuncWithArgs(objtype, castNode(ObjectWithArgs, object), true);
			return true;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			address->classId = TypeRelationId;
			type = LookupTypeNameOid(NULL, castNode(TypeName, object), true);
			/* a domain's comment is asked of a domain, as get_object_address() checks */
			if (OidIsValid(type) && objtype == OBJECT_DOMAIN && get_typtype(type) != TYPTYPE_DOMAIN)
				type = InvalidOid;
			address->objectId = type;
			return true;
		case OBJECT_SCHEMA:
			address->classId = NamespaceRelationId;
			address->objectId = get_namespace_oid(strVal(object), true);
			return true;
		case OBJECT_EXTENSION:
			address->classId = ExtensionRelationId;
			address->objectId = get_extension_oid(strVal(object), true);
			return true;
		default:
			return false;
	}
}

/* the name of a function or type: its parts */
static List *
object_names(ObjectType objtype, Node *object)
{
	switch (objtype)
	{
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			return castNode(ObjectWithArgs, object)->objname;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			return castNode(TypeName, object)->names;
		default:
			return NIL;
	}
}

/*
 * A name in another database (PostgreSQL raises 0A000 for it), or in a
 * schema the caller has no USAGE on (it raises 42501): the lint and the
 * inverter never fail on a name, and a "not found" for an object that
 * exists would let CREATE OR REPLACE invert to a DROP of it.  The catalog
 * rows read are readable by every role, so the lookup of such a name runs
 * as the bootstrap superuser (no user code runs: no typmod is read).
 */
static bool
object_without_lock(ObjectType objtype, Node *object, ObjectAddress *address)
{
	List	   *names = object_names(objtype, object);
	Oid			namespace = InvalidOid;
	Oid			save_userid;
	int			save_sec_context;
	bool		known;

	if (list_length(names) >= 3 &&
		strcmp(strVal(linitial(names)), get_database_name(MyDatabaseId)) != 0)
	{
		address->classId = InvalidOid;
		address->objectId = InvalidOid;
		address->objectSubId = 0;
		return true;
	}
	if (list_length(names) >= 2)
		namespace = get_namespace_oid(strVal(list_nth(names, list_length(names) - 2)), true);
	if (!OidIsValid(namespace) ||
		pg_namespace_aclcheck(namespace, GetUserId(), ACL_USAGE) == ACLCHECK_OK)
		return look_up_object(objtype, object, address);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		known = look_up_object(objtype, object, address);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return known;
}

char *
migrate_relfacts_comment_of(ObjectType objtype, Node *object, bool *found)
{
	List	   *relnames = relation_names_of(objtype, object);
	ObjectAddress address;
	Relation	relation = NULL;

	*found = false;
	if (relnames != NULL)
	{
		Oid			relid = migrate_relname_lookup(makeRangeVarFromNameList(relnames));

		if (!OidIsValid(relid))
			return NULL;
		/* not get_object_address(): it would raise 42501 without USAGE */
		address = address_without_lock(objtype, castNode(List, object), relid);
	}
	else if (!object_without_lock(objtype, object, &address))
		address = get_object_address(objtype, object, &relation, AccessShareLock, true);
	if (!OidIsValid(address.objectId))
		return NULL;
	*found = true;
	return GetComment(address.objectId, address.classId, address.objectSubId);
}

/*
 * The stored default expression (pg_attrdef.adbin) of a column, or NULL.
 * Read from the catalog, not from the table's relcache entry, which would
 * need the table's lock.
 */
static char *
stored_default(Oid relid, AttrNumber attnum)
{
	Relation	attrdef = table_open(AttrDefaultRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *adbin = NULL;

	ScanKeyInit(&keys[0], Anum_pg_attrdef_adrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_attrdef_adnum, BTEqualStrategyNumber, F_INT2EQ,
				Int16GetDatum(attnum));
	scan = systable_beginscan(attrdef, AttrDefaultIndexId, true, NULL, 2, keys);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, Anum_pg_attrdef_adbin,
										 RelationGetDescr(attrdef), &isnull);

		if (!isnull)
			adbin = TextDatumGetCString(value);
	}
	systable_endscan(scan);
	table_close(attrdef, AccessShareLock);
	return adbin;
}

/*
 * pg_get_expr() deparses as pg_dump and \d show it, but qualifies only
 * what the search_path does not find: under the caller's path a default
 * s2.dflt() would come out as dflt(), and the down script would then
 * depend on the path at revert time.  Under the pinned path every user
 * object is schema-qualified.
 */
static char *
deparse_default(const char *adbin)
{
	int			nestlevel = NewGUCNestLevel();
	char	   *deparsed;

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	deparsed = TextDatumGetCString(DirectFunctionCall2(pg_get_expr, CStringGetTextDatum(adbin),
												   ObjectIdGetDatum(InvalidOid)));
	AtEOXact_GUC(true, nestlevel);
	return deparsed;
}

/*
 * No lock on the table at all: its column and the column's default are
 * read from the catalog (pg_attribute, pg_attrdef), and the default is
 * deparsed without the table (pg_get_expr() with no relation: a default
 * cannot refer to a column, so it needs none, and with one ruleutils
 * would open the table under AccessShareLock).
 */
char *
migrate_relfacts_column_default(const RangeVar *relation, const char *column, bool *found)
{
	Oid			relid = migrate_relname_lookup(relation);
	AttrNumber	attnum;
	char	   *adbin;

	*found = false;
	if (!OidIsValid(relid))
		return NULL;
	attnum = get_attnum(relid, column);
	if (attnum == InvalidAttrNumber)
		return NULL;
	*found = true;
	adbin = stored_default(relid, attnum);
	if (adbin == NULL)
		return NULL;
	return deparse_default(adbin);
}
