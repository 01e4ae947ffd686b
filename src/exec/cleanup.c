/*-------------------------------------------------------------------------
 *
 * cleanup.c
 *	  What a failed CREATE INDEX / REINDEX CONCURRENTLY leaves behind.
 *
 * A concurrent index build that fails part way leaves an INVALID index:
 * it costs every write to the table and is never used by queries.  Before
 * such a statement runs, the worker path notes the invalid indexes its table
 * already has; after a failure, any new one is the statement's.  One left
 * by CREATE INDEX CONCURRENTLY is dropped (DROP INDEX CONCURRENTLY, at top
 * level); one left by REINDEX CONCURRENTLY (the _ccnew/_ccold copies) is
 * reported with the exact command to drop it, since which copy to keep is
 * the DBA's call.  Either way the failure record lists them.
 *
 * A statement resumed after the worker running it was killed is prepared
 * by migrate_cleanup_prepare_resume(): the INVALID index of a killed
 * CREATE INDEX CONCURRENTLY is dropped before the build runs again, and a
 * build or DROP INDEX CONCURRENTLY that had in fact finished is not run
 * again.
 *
 * Each function runs in a transaction of its own except
 * migrate_cleanup_drop_leftovers and migrate_cleanup_prepare_resume, which
 * must be called outside one (their DROP INDEX CONCURRENTLY commits).
 *
 * IDENTIFICATION
 *	  src/exec/cleanup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "exec/cleanup.h"
#include "exec/topstmt.h"
#include "model/classify.h"
#include "ipc/xact.h"
#include "model/json.h"
#include "store/spi.h"

/*
 * The one statement of "sql", classified; false when "sql" does not hold
 * exactly one statement.  *tree is set to its raw parse tree.
 */
static bool
classify_single_statement(const char *sql, Node **tree, MigrateStatementClass *result)
{
	List	   *parsed = pg_parse_query(sql);

	if (list_length(parsed) != 1)
		return false;
	*tree = linitial_node(RawStmt, parsed)->stmt;
	migrate_classify_statement(*tree, result);
	return true;
}

/*
 * The table a concurrent index build (CREATE INDEX CONCURRENTLY, REINDEX
 * CONCURRENTLY of a table or an index) works on, or InvalidOid when the
 * statement is not one, as the classifier says.  Sets *creates for CREATE
 * INDEX CONCURRENTLY.  A REINDEX without CONCURRENTLY is not one: it runs
 * in one transaction, and when it fails that rolls back and leaves no
 * INVALID index behind.
 */
static Oid
concurrent_build_table(const char *sql, bool *creates)
{
	MigrateStatementClass classified;
	Node	   *tree;
	Oid			relid;

	*creates = false;
	if (!classify_single_statement(sql, &tree, &classified) ||
		classified.relation == NULL ||
		(classified.concurrent_index != MIGRATE_CONCURRENT_CREATE &&
		 classified.concurrent_index != MIGRATE_CONCURRENT_REINDEX))
		return InvalidOid;
	*creates = classified.concurrent_index == MIGRATE_CONCURRENT_CREATE;
	relid = RangeVarGetRelid(classified.relation, NoLock, true);
	if (OidIsValid(relid) && classified.relation_is_index)
		return IndexGetRelation(relid, true);
	return relid;
}

/* OIDs of the invalid indexes of a table (SPI must be connected) */
static List *
invalid_indexes_of(Oid table)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(table)};
	List	   *result = NIL;

	migrate_spi_run_pinned("SELECT indexrelid FROM pg_catalog.pg_index"
						   " WHERE indrelid OPERATOR(pg_catalog.=) $1 AND NOT indisvalid",
						   1, argtypes, values, NULL, true, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		result = lappend_oid(result,
							 DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return result;
}

/*
 * Invalid indexes the statement's table has before it runs; NIL for a
 * statement that builds no index concurrently.  Call outside a transaction;
 * the list is allocated in the caller's memory context.
 */
List *
migrate_cleanup_invalid_indexes(const char *sql)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *before = NIL;
	bool		creates;
	Oid			table;

	migrate_xact_begin_work(MIGRATE_WORK_SNAPSHOT);
	table = concurrent_build_table(sql, &creates);
	if (OidIsValid(table))
	{
		migrate_xact_spi_connect();
		before = invalid_indexes_of(table);
		MemoryContextSwitchTo(caller);
		before = list_copy(before);
		SPI_finish();
	}
	migrate_xact_end_work(caller);
	return before;
}

/*
 * The invalid indexes that appeared since migrate_cleanup_invalid_indexes().
 * Call outside a transaction, after the failed one was aborted.
 */
List *
migrate_cleanup_find_leftovers(const char *sql, List *before)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *leftovers = NIL;
	bool		creates;
	Oid			table;

	migrate_xact_begin_work(MIGRATE_WORK_SNAPSHOT);
	table = concurrent_build_table(sql, &creates);
	if (OidIsValid(table))
	{
		List	   *now;
		ListCell   *lc;

		migrate_xact_spi_connect();
		now = invalid_indexes_of(table);
		foreach(lc, now)
		{
			Oid			index = lfirst_oid(lc);
			MemoryContext old;
			MigrateLeftoverIndex *leftover;
			char	   *schema;
			char	   *relname;
			char	   *name;

			if (list_member_oid(before, index))
				continue;
			schema = get_namespace_name(get_rel_namespace(index));
			relname = get_rel_name(index);
			if (schema == NULL || relname == NULL)
				continue;		/* dropped meanwhile: nothing left over */
			name = quote_qualified_identifier(schema, relname);
			old = MemoryContextSwitchTo(caller);
			leftover = palloc0(sizeof(MigrateLeftoverIndex));
			leftover->name = pstrdup(name);
			leftover->command = psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s;", name);
			leftovers = lappend(leftovers, leftover);
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
	}
	migrate_xact_end_work(caller);
	return leftovers;
}

/*
 * Drop the indexes a failed CREATE INDEX CONCURRENTLY left, each with a
 * top-level DROP INDEX CONCURRENTLY.  A drop that fails is reported, and
 * the index stays listed with its command.  Call outside a transaction.
 */
void
migrate_cleanup_drop_leftovers(const char *sql, List *leftovers)
{
	MemoryContext caller = CurrentMemoryContext;
	ListCell   *lc;
	bool		creates;

	migrate_xact_begin_work(MIGRATE_WORK_PLAIN);
	(void) concurrent_build_table(sql, &creates);
	migrate_xact_end_work(caller);
	if (!creates)
		return;

	foreach(lc, leftovers)
	{
		MigrateLeftoverIndex *leftover = lfirst(lc);

		PG_TRY();
		{
			StartTransactionCommand();
			migrate_topstmt_exec(leftover->command);
			CommitTransactionCommand();
			leftover->dropped = true;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			/* a warning: the migration's own error is what the caller gets */
			edata = migrate_xact_abort_work(caller);
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("could not drop index %s: %s", leftover->name, edata->message)));
		}
		PG_END_TRY();
		MemoryContextSwitchTo(caller);
	}
}

/*
 * The index a resumed CREATE INDEX CONCURRENTLY names, if it exists on
 * the statement's table: its OID, with *valid and *qualified (quoted
 * schema.name) set.  InvalidOid when it does not exist, the statement
 * names no index, or the name belongs to something else (then the
 * statement runs and fails as it would have).  In a transaction.
 */
static Oid
named_index_of_build(IndexStmt *stmt, bool *valid, char **qualified)
{
	Oid			table;
	Oid			index;
	HeapTuple	tuple;

	if (stmt->idxname == NULL)
		return InvalidOid;
	table = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(table))
		return InvalidOid;
	index = get_relname_relid(stmt->idxname, get_rel_namespace(table));
	if (!OidIsValid(index))
		return InvalidOid;
	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;		/* not an index */
	if (((Form_pg_index) GETSTRUCT(tuple))->indrelid != table)
	{
		ReleaseSysCache(tuple);
		return InvalidOid;
	}
	*valid = ((Form_pg_index) GETSTRUCT(tuple))->indisvalid;
	ReleaseSysCache(tuple);
	*qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(table)),
											stmt->idxname);
	return index;
}

/*
 * Whether every index a DROP INDEX names is gone already (in a
 * transaction).  A name of more than three parts is not a relation name:
 * the statement is run again, and the server reports it.
 */
static bool
dropped_indexes_gone(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv;

		if (list_length(lfirst(lc)) > 3)
			return false;
		rv = makeRangeVarFromNameList(lfirst(lc));

		if (OidIsValid(RangeVarGetRelid(rv, NoLock, true)))
			return false;
	}
	return true;
}

/*
 * Prepare the statement a non-transactional migration is resumed at after
 * resolve(..., 'retry'), when the worker running it was killed or the
 * server stopped: it may have left its work half done, or done it all
 * without its completion being recorded.
 *
 *  - CREATE INDEX CONCURRENTLY whose named index exists INVALID: the index
 *	  is the killed build's; it is dropped (DROP INDEX CONCURRENTLY, at top
 *	  level) so that the statement can build it again.
 *  - the same, but the index exists VALID: the build finished; the
 *	  statement is done.
 *  - DROP INDEX CONCURRENTLY whose indexes are all gone: done.
 *  - anything else, REINDEX CONCURRENTLY included, runs again as it is;
 *	  REINDEX leftovers (_ccnew, _ccold) are reported if it fails.
 *
 * Returns true when the statement is done and must not run.  Call outside
 * a transaction; errors (from the drop) propagate.
 */
bool
migrate_cleanup_prepare_resume(const char *sql)
{
	MemoryContext caller = CurrentMemoryContext;
	MigrateStatementClass classified;
	Node	   *stmt = NULL;
	char	   *drop = NULL;
	char	   *index_name = NULL;
	bool		done = false;

	migrate_xact_begin_work(MIGRATE_WORK_SNAPSHOT);
	if (!classify_single_statement(sql, &stmt, &classified))
		classified.concurrent_index = MIGRATE_CONCURRENT_NONE;
	if (classified.concurrent_index == MIGRATE_CONCURRENT_CREATE)
	{
		bool		valid = false;
		char	   *qualified = NULL;

		if (OidIsValid(named_index_of_build(castNode(IndexStmt, stmt), &valid, &qualified)))
		{
			index_name = MemoryContextStrdup(caller, qualified);
			if (valid)
				done = true;
			else
				drop = MemoryContextStrdup(caller,
										   psprintf("DROP INDEX CONCURRENTLY %s", qualified));
		}
	}
	else if (classified.concurrent_index == MIGRATE_CONCURRENT_DROP &&
			 !castNode(DropStmt, stmt)->missing_ok)
		done = dropped_indexes_gone(castNode(DropStmt, stmt));
	migrate_xact_end_work(caller);

	if (drop != NULL)
	{
		StartTransactionCommand();
		migrate_topstmt_exec(drop);
		CommitTransactionCommand();
		MemoryContextSwitchTo(caller);
		ereport(NOTICE,
				(errmsg("dropped index %s, left INVALID by the interrupted statement", index_name),
				 errdetail("The statement builds it again.")));
	}
	else if (done && index_name != NULL)
		ereport(NOTICE,
				(errmsg("index %s is valid already: the interrupted statement had finished", index_name)));
	else if (done)
		ereport(NOTICE,
				(errmsg("the interrupted DROP INDEX CONCURRENTLY had finished")));
	return done;
}

/*
 * The leftovers for the failure record: {"invalid_indexes": [{"index",
 * "dropped", "command"}, ...]}, whose key the record takes over.
 */
Jsonb *
migrate_cleanup_leftovers_json(List *leftovers)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;
	ListCell   *lc;

	migrate_json_begin_object(&b, NULL);
	migrate_json_begin_array(&b, "invalid_indexes");
	foreach(lc, leftovers)
	{
		MigrateLeftoverIndex *leftover = lfirst(lc);

		migrate_json_begin_object(&b, NULL);
		migrate_json_add_text(&b, "index", leftover->name);
		migrate_json_add_bool(&b, "dropped", leftover->dropped);
		migrate_json_add_text(&b, "command", leftover->command);
		migrate_json_end(&b);
	}
	migrate_json_end(&b);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}
