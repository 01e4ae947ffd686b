/*-------------------------------------------------------------------------
 *
 * relname.c
 *	  Resolve a relation name for lint and analysis without raising.
 *
 * RangeVarGetRelid(..., missing_ok = true) still raises when the caller
 * lacks USAGE on a named schema (42501) or the name has a database part
 * that is not the current database (0A000).  Lint never fails, so the
 * name is resolved here without raising: an unqualified one through the
 * caller's search_path (which leaves out schemas without USAGE), a
 * qualified one in its schema whether or not the caller may use it -- what
 * is asked about it (size, comment, default, indexes, whether it exists)
 * is in catalogs every role may read, and a "not found" for a relation
 * that exists would turn CREATE ... IF NOT EXISTS into a DROP of it in a
 * generated down script.  A name in another database is InvalidOid.  No
 * lock is taken and nothing waits.
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
#include "utils/lsyscache.h"

#include "store/relname.h"

/* the schema a qualified name names, without a privilege check */
static Oid
named_namespace(const char *schemaname)
{
	/* pg_temp is the session's own temporary schema */
	if (strcmp(schemaname, "pg_temp") == 0)
		return LookupExplicitNamespace(schemaname, true);
	return get_namespace_oid(schemaname, true);
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
	namespace = named_namespace(relation->schemaname);
	if (!OidIsValid(namespace))
		return InvalidOid;
	return get_relname_relid(relation->relname, namespace);
}
