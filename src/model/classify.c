/*-------------------------------------------------------------------------
 *
 * classify.c
 *	  The one statement classifier: what a parsed statement is and how it
 *	  must be run.
 *
 * Registration decides from it whether a script may run in a transaction
 * block; the executor hands a migration with such a statement to the apply
 * worker; the rehearsal runs a statement's transactional form, or reports
 * that it could not; the leftover-index cleanup looks only at concurrent
 * index operations and the relation they work on.  All of them ask
 * migrate_classify_statement(), so they cannot disagree.
 *
 * The statements that must run outside a transaction block are those
 * whose execution calls PreventInTransactionBlock(); the reason given is
 * the server's own message for it.  Whether a statement changes the
 * schema is what log_statement = 'ddl' logs (GetCommandLogLevel()), so
 * that one list, the server's, decides it.
 *
 * Pure: it looks at the raw parse tree only, never at the catalog.
 *
 * IDENTIFICATION
 *	  src/model/classify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

/* for makeRangeVarFromNameList() only, which looks nothing up */
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "tcop/utility.h"

#include "compat.h"
#include "model/classify.h"

/*
 * The option of that name in a list of DefElems (a statement's WITH or
 * parenthesised options), or NULL.  The utility hook reads CREATE and
 * ALTER DATABASE options with it too.
 */
DefElem *
migrate_classify_find_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, name) == 0)
			return opt;
	}
	return NULL;
}

/*
 * Whether ALTER SUBSCRIPTION refreshes the subscription, which cannot
 * happen in a transaction block: REFRESH PUBLICATION, and SET/ADD/DROP
 * PUBLICATION unless given refresh = false.  Before PostgreSQL 14 a
 * refresh ran inside the transaction block like the rest (compat.h).
 */
static bool
alter_subscription_refreshes(AlterSubscriptionStmt *stmt)
{
#ifdef MIGRATE_SUBSCRIPTION_REFRESH_NONTRANSACTIONAL
	DefElem    *refresh;

	if (stmt->kind == ALTER_SUBSCRIPTION_REFRESH)
		return true;
	if (stmt->kind != ALTER_SUBSCRIPTION_SET_PUBLICATION &&
		stmt->kind != ALTER_SUBSCRIPTION_ADD_PUBLICATION &&
		stmt->kind != ALTER_SUBSCRIPTION_DROP_PUBLICATION)
		return false;
	refresh = migrate_classify_find_option(stmt->options, "refresh");
	return refresh == NULL || defGetBoolean(refresh);
#else
	return false;
#endif
}

/*
 * The index DROP INDEX CONCURRENTLY drops (its first name; the server
 * refuses more than one), or NULL when the name has more than three
 * parts.  makeRangeVarFromNameList() raises a bare "improper relation
 * name" for those, which at registration would say nothing about where
 * it came from: leave the statement to fail when it runs, where the
 * error names the migration and the statement.
 */
static RangeVar *
index_name_of_drop(DropStmt *stmt)
{
	List	   *names = linitial(stmt->objects);

	if (list_length(names) > 3)
		return NULL;
	return makeRangeVarFromNameList(names);
}

/* whether REINDEX was given CONCURRENTLY (an option since PostgreSQL 14) */
static bool
reindex_is_concurrent(ReindexStmt *stmt)
{
#ifdef MIGRATE_REINDEX_HAS_PARAMS
	DefElem    *concurrently = migrate_classify_find_option(stmt->params, "concurrently");

	return concurrently != NULL && defGetBoolean(concurrently);
#else
	return stmt->concurrent;
#endif
}

/* whether ALTER TABLE holds DETACH PARTITION ... CONCURRENTLY */
static bool
alter_table_detaches_concurrently(AlterTableStmt *stmt)
{
#ifdef MIGRATE_HAVE_DETACH_CONCURRENTLY
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_DetachPartition &&
			((PartitionCmd *) cmd->def)->concurrent)
			return true;
	}
#endif
	return false;
}

/* whether ALTER DATABASE moves the database to another tablespace */
static bool
alter_database_moves(AlterDatabaseStmt *stmt)
{
	return migrate_classify_find_option(stmt->options, "tablespace") != NULL;
}

/*
 * Fill in what REINDEX is: concurrent or not, on which relation, and
 * whether it can run in a transaction block.
 */
static void
classify_reindex(ReindexStmt *stmt, MigrateStatementClass *result)
{
	bool		concurrent = reindex_is_concurrent(stmt);

	if (concurrent)
	{
		result->concurrent_index = MIGRATE_CONCURRENT_REINDEX;
		result->relation = stmt->relation;
		result->relation_is_index = stmt->kind == REINDEX_OBJECT_INDEX;
	}
	/* REINDEX SCHEMA too: it commits after each table, as DATABASE does */
	if (stmt->kind == REINDEX_OBJECT_SCHEMA)
		result->nontransactional_reason = "REINDEX SCHEMA cannot run inside a transaction block";
	else if (stmt->kind == REINDEX_OBJECT_SYSTEM)
		result->nontransactional_reason = "REINDEX SYSTEM cannot run inside a transaction block";
	else if (stmt->kind == REINDEX_OBJECT_DATABASE)
		result->nontransactional_reason = "REINDEX DATABASE cannot run inside a transaction block";
	else if (concurrent)
		result->nontransactional_reason = "REINDEX CONCURRENTLY cannot run inside a transaction block";
}

/*
 * Why a statement cannot run inside a transaction block, or NULL when it
 * can; fills in the concurrent index operation on the way.  These are the
 * statements whose execution calls PreventInTransactionBlock().
 */
static const char *
nontransactional_reason(Node *stmt, MigrateStatementClass *result)
{
	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			if (!((IndexStmt *) stmt)->concurrent)
				return NULL;
			result->concurrent_index = MIGRATE_CONCURRENT_CREATE;
			result->relation = ((IndexStmt *) stmt)->relation;
			return "CREATE INDEX CONCURRENTLY cannot run inside a transaction block";
		case T_DropStmt:
			/* the grammar allows CONCURRENTLY for DROP INDEX only */
			if (!((DropStmt *) stmt)->concurrent)
				return NULL;
			result->concurrent_index = MIGRATE_CONCURRENT_DROP;
			result->relation = index_name_of_drop((DropStmt *) stmt);
			result->relation_is_index = true;
			return "DROP INDEX CONCURRENTLY cannot run inside a transaction block";
		case T_ReindexStmt:
			classify_reindex((ReindexStmt *) stmt, result);
			return result->nontransactional_reason;
		case T_VacuumStmt:
			return ((VacuumStmt *) stmt)->is_vacuumcmd ?
				"VACUUM cannot run inside a transaction block" : NULL;
		case T_ClusterStmt:
			return ((ClusterStmt *) stmt)->relation == NULL ?
				"CLUSTER without a table name cannot run inside a transaction block" : NULL;
		case T_AlterDatabaseStmt:
			return alter_database_moves((AlterDatabaseStmt *) stmt) ?
				"ALTER DATABASE SET TABLESPACE cannot run inside a transaction block" : NULL;
		case T_AlterTableStmt:
			return alter_table_detaches_concurrently((AlterTableStmt *) stmt) ?
				"ALTER TABLE ... DETACH CONCURRENTLY cannot run inside a transaction block" : NULL;
		case T_AlterSubscriptionStmt:
			return alter_subscription_refreshes((AlterSubscriptionStmt *) stmt) ?
				"ALTER SUBSCRIPTION with refresh cannot run inside a transaction block" : NULL;
		case T_DiscardStmt:
			return ((DiscardStmt *) stmt)->target == DISCARD_ALL ?
				"DISCARD ALL cannot run inside a transaction block" : NULL;
		case T_CreatedbStmt:
			return "CREATE DATABASE cannot run inside a transaction block";
		case T_DropdbStmt:
			return "DROP DATABASE cannot run inside a transaction block";
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE cannot run inside a transaction block";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE cannot run inside a transaction block";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM cannot run inside a transaction block";
		case T_CreateSubscriptionStmt:
			return "CREATE SUBSCRIPTION may create a replication slot, which cannot happen inside a transaction block";
		case T_DropSubscriptionStmt:
			return "DROP SUBSCRIPTION may drop a replication slot, which cannot happen inside a transaction block";
		default:
			return NULL;
	}
}

/*
 * Classify one raw statement (the stmt of a RawStmt from
 * pg_parse_query()): its command tag, whether it may run inside a
 * transaction block and if not why, whether it is a concurrent index
 * operation and on which relation, and whether it changes the schema.
 * The RangeVar in the result points into the parse tree (or is built from
 * its names); nothing else is allocated except for DROP INDEX.
 */
void
migrate_classify_statement(Node *parsetree, MigrateStatementClass *result)
{
	memset(result, 0, sizeof(MigrateStatementClass));
	result->command = CreateCommandName(parsetree);
	result->nontransactional_reason = nontransactional_reason(parsetree, result);
	result->transactional = result->nontransactional_reason == NULL;
	result->changes_schema = GetCommandLogLevel(parsetree) == LOGSTMT_DDL;
}

/*
 * The form of a statement that may run inside a transaction block and
 * leaves the same schema, for the rehearsal: a copy without CONCURRENTLY
 * for CREATE INDEX, DROP INDEX and DETACH PARTITION.  NULL when the
 * statement has no such form (VACUUM, REINDEX, CREATE DATABASE, ...) or
 * is transactional already.
 */
Node *
migrate_classify_transactional_form(Node *parsetree)
{
	Node	   *copy;

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			if (!((IndexStmt *) parsetree)->concurrent)
				return NULL;
			copy = copyObject(parsetree);
			((IndexStmt *) copy)->concurrent = false;
			return copy;
		case T_DropStmt:
			if (!((DropStmt *) parsetree)->concurrent)
				return NULL;
			copy = copyObject(parsetree);
			((DropStmt *) copy)->concurrent = false;
			return copy;
#ifdef MIGRATE_HAVE_DETACH_CONCURRENTLY
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				if (!alter_table_detaches_concurrently((AlterTableStmt *) parsetree))
					return NULL;
				copy = copyObject(parsetree);
				foreach(lc, ((AlterTableStmt *) copy)->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_DetachPartition)
						((PartitionCmd *) cmd->def)->concurrent = false;
				}
				return copy;
			}
#endif
		default:
			return NULL;
	}
}
