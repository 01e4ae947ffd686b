/*-------------------------------------------------------------------------
 *
 * relname.c
 *	  Resolve a relation name for lint and analysis without raising.
 *
 * RangeVarGetRelid(..., missing_ok = true) still raises when the caller
 * lacks USAGE on a named schema (42501) or the name has a database part
 * that is not the current database (0A000).  Lint never fails: a name the
 * caller cannot resolve is "unknown", as a name that does not exist.  So
 * the name is resolved here as the caller would see it -- a qualified name
 * in a schema the caller may use, an unqualified one through the caller's
 * search_path (which leaves out schemas without USAGE) -- and anything
 * else is InvalidOid.  No lock is taken and nothing waits.
 *
 * IDENTIFICATION
 *	  src/store/relname.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "store/relname.h"

/* the schema a qualified name names, if the caller may use it */
static Oid
usable_namespace(const char *schemaname)
{
	Oid			namespace;

	/* pg_temp is the session's own temporary schema: no privilege needed */
	if (strcmp(schemaname, "pg_temp") == 0)
		return LookupExplicitNamespace(schemaname, true);
	namespace = get_namespace_oid(schemaname, true);
	if (!OidIsValid(namespace) ||
		pg_namespace_aclcheck(namespace, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
		return InvalidOid;
	return namespace;
}

Oid
migrate_relname_lookup(const RangeVar *relation)
{
	Oid			namespace;

	if (relation == NULL || relation->relname == NULL)
		return InvalidOid;
	if (relation->catalogname != NULL)
	{
		char	   *current = get_database_name(MyDatabaseId);

		if (current == NULL || strcmp(relation->catalogname, current) != 0)
			return InvalidOid;
	}
	if (relation->schemaname == NULL)
		return RelnameGetRelid(relation->relname);
	namespace = usable_namespace(relation->schemaname);
	if (!OidIsValid(namespace))
		return InvalidOid;
	return get_relname_relid(relation->relname, namespace);
}
