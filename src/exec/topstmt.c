/*-------------------------------------------------------------------------
 *
 * topstmt.c
 *	  Running a statement at top level, as a client's simple query would.
 *
 * CREATE INDEX CONCURRENTLY, VACUUM and the other statements that call
 * PreventInTransactionBlock() refuse to run through SPI, because SPI runs
 * them as part of a function ("cannot be executed from a function").  A
 * background worker can instead do what the backend does for a client's
 * simple query: parse, analyse, plan, and run the statement in a portal
 * with isTopLevel = true.  This is that sequence, after exec_simple_query()
 * in src/backend/tcop/postgres.c, reduced to one statement string and no
 * client: results go to DestNone.
 *
 * The caller starts the transaction command and commits it afterwards; a
 * statement such as CREATE INDEX CONCURRENTLY commits and starts
 * transactions of its own in between.  So the trees are kept in a memory
 * context of this file's that outlives transactions (see below), whatever
 * context the caller had.
 *
 * IDENTIFICATION
 *	  src/exec/topstmt.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "parser/analyze.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "exec/topstmt.h"

/*
 * Plan and run one raw statement in a portal of its own.  With top_level
 * false it runs as part of the current command, as a function's would.
 */
void
migrate_topstmt_exec_raw(RawStmt *parsetree, const char *sql, bool top_level)
{
	CommandTag	tag = CreateCommandTag(parsetree->stmt);
	bool		snapshot_set = false;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;

	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	querytrees = migrate_analyze_and_rewrite(parsetree, sql);
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();

	portal = CreateNewPortal();
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, tag, plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);

	receiver = CreateDestReceiver(DestNone);
	(void) PortalRun(portal, FETCH_ALL, top_level, true, receiver, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	CommandCounterIncrement();
}

/*
 * Memory for the statement being run at top level.  It must outlive the
 * transactions that CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY,
 * REINDEX CONCURRENTLY, VACUUM or a procedure that commits start and end
 * part way: parse and plan trees kept in a transaction's context would be
 * freed under the executor (the apply worker crashed that way when it
 * dropped a failed build's INVALID index).  It lives as long as the
 * process and is reset at each call, so nothing a caller allocated in its
 * own context is at risk either.
 */
static MemoryContext toplevel_context = NULL;

/*
 * Run every statement of "sql" at top level, in the current transaction
 * command.  On return the current memory context is the statement
 * context: the caller switches back to its own after committing.
 */
void
migrate_topstmt_exec(const char *sql)
{
	List	   *parsetrees;
	char	   *text;
	ListCell   *lc;

	if (toplevel_context == NULL)
		toplevel_context = AllocSetContextCreate(TopMemoryContext,
												 "migrate top-level statement",
												 ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(toplevel_context);
	MemoryContextSwitchTo(toplevel_context);

	text = pstrdup(sql);
	parsetrees = pg_parse_query(text);
	foreach(lc, parsetrees)
	{
		/* a statement that commits part way leaves another context current */
		MemoryContextSwitchTo(toplevel_context);
		migrate_topstmt_exec_raw(lfirst_node(RawStmt, lc), text, true);
	}
	MemoryContextSwitchTo(toplevel_context);
}
