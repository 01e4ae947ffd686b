/*-------------------------------------------------------------------------
 *
 * relfacts_previous.c
 *	  What an object has now that a statement would replace: its comment,
 *	  a column's default.  For the inverses of COMMENT ON and SET DEFAULT
 *	  (model/invert.c), and for whether the object of a CREATE ... IF NOT
 *	  EXISTS exists ("found").
 *
 * Neither raises an error for a missing object: it answers "not found".
 * Neither waits for a lock.  generate_down() and register() ask these
 * while a migration or a long transaction may hold an ACCESS EXCLUSIVE
 * lock on the table; waiting there would make a read-only question hang
 * behind it.  Names resolve without a lock (RangeVarGetRelid with
 * NoLock), then an AccessShareLock is taken only if it is free at once
 * (ConditionalLockRelationOid): it keeps the table, its columns and
 * defaults from changing while we read them and deparse them.  When the
 * lock is not free, the answer is "not found", and the statement is
 * reported as not invertible rather than inverted from a guess.  Objects
 * that are not relations (schemas, types, functions, extensions) are
 * looked up without any lock: their comment is read from the catalog
 * snapshot.  get_object_address() locks every object it finds, and for
 * these it cannot do so conditionally: they get the weakest lock,
 * AccessShareLock, which conflicts only with the lock DROP (or a
 * concurrent ALTER) takes on that very object, so the wait, if any, is
 * for a transaction that is dropping or changing the object in question.
 *
 * IDENTIFICATION
 *	  src/store/relfacts_previous.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/tupdesc.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "commands/comment.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "store/relfacts.h"

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
 * Lock the relation these names resolve to with AccessShareLock if that
 * lock is free now; false when the relation does not exist or its lock
 * is not free.  The lock is kept until the end of the transaction, as a
 * lookup's lock is.
 */
static bool
lock_relation_now(List *names)
{
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);

	return OidIsValid(relid) && ConditionalLockRelationOid(relid, AccessShareLock);
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
		/* once we hold it, get_object_address() taking it again does not wait */
		if (!lock_relation_now(relnames))
			return NULL;
	}
	address = get_object_address(objtype, object, &relation, AccessShareLock, true);
	if (relation != NULL)
		relation_close(relation, NoLock);
	if (!OidIsValid(address.objectId))
		return NULL;
	*found = true;
	return GetComment(address.objectId, address.classId, address.objectSubId);
}

char *
migrate_relfacts_column_default(const RangeVar *relation, const char *column, bool *found)
{
	Oid			relid = RangeVarGetRelid(relation, NoLock, true);
	AttrNumber	attnum;
	Relation	rel;
	TupleConstr *constr;
	char	   *deparsed = NULL;

	*found = false;
	if (!OidIsValid(relid) || !ConditionalLockRelationOid(relid, AccessShareLock))
		return NULL;
	attnum = get_attnum(relid, column);
	if (attnum == InvalidAttrNumber)
		return NULL;
	*found = true;

	rel = relation_open(relid, NoLock);	/* locked above */
	constr = RelationGetDescr(rel)->constr;
	for (int i = 0; constr != NULL && i < constr->num_defval; i++)
	{
		if (constr->defval[i].adnum != attnum)
			continue;
		/* pg_get_expr() deparses it as pg_dump and \d show it */
		deparsed = TextDatumGetCString(DirectFunctionCall2(pg_get_expr,
														   CStringGetTextDatum(constr->defval[i].adbin),
														   ObjectIdGetDatum(relid)));
	}
	relation_close(rel, NoLock);
	return deparsed;
}
