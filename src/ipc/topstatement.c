/*-------------------------------------------------------------------------
 *
 * topstatement.c
 *	  Which statement of the client's query string runs now.
 *
 * The drift capture (store/driftlog.c) records the text of the statement
 * that ran a DDL command.  The event trigger has the command's parse
 * tree, but no location in the query string, and the query string
 * (debug_query_string) may hold many statements: another one may set a
 * password (ALTER ROLE ... PASSWORD) or change data, and a string of n
 * statements stored n times would grow as n squared.  PostgreSQL does
 * know where each top-level statement is: exec_simple_query() gives every
 * PlannedStmt the stmt_location and stmt_len of its RawStmt.  This
 * ProcessUtility hook keeps them while a utility statement runs, so the
 * event triggers, which fire inside it, can cut out exactly that text.
 *
 * A utility statement a function, procedure or DO block runs (context
 * PROCESS_UTILITY_QUERY or _QUERY_NONATOMIC) has no text of its own in the
 * query string: it is marked nested while it runs.  Sub-commands (the
 * elements of CREATE SCHEMA, ALTER TABLE's expansions) belong to the
 * statement that runs them.  The state is restored on the way out, by
 * error too.
 *
 * The hook is installed whenever the library is loaded, preloaded or not.
 * When the library is loaded by the event trigger itself (the first DDL
 * of a session that did not preload it), the hook was not there when the
 * statement began: the state is then "unknown" and the caller decides.
 *
 * IDENTIFICATION
 *	  src/ipc/topstatement.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parser/scansup.h"
#include "tcop/utility.h"

#include "compat.h"
#include "ipc/topstatement.h"

static ProcessUtility_hook_type prev_hook = NULL;

/* the state now; UNKNOWN until the hook has seen a statement begin */
static MigrateTopStatement current = MIGRATE_TOP_UNKNOWN;
static const char *current_query = NULL;
static int	current_location = 0;
static int	current_length = 0;

static void
topstatement_hook(MIGRATE_UTILITY_PARAMS)
{
	MigrateTopStatement saved = current;
	const char *saved_query = current_query;
	int			saved_location = current_location;
	int			saved_length = current_length;

	if (context == PROCESS_UTILITY_TOPLEVEL)
	{
		/* no location (-1): where it is in the string is not known */
		if (queryString == NULL)
			current = MIGRATE_TOP_NESTED;
		else if (pstmt->stmt_location < 0)
			current = MIGRATE_TOP_UNKNOWN;
		else
			current = MIGRATE_TOP_STATEMENT;
		current_query = queryString;
		current_location = pstmt->stmt_location;
		current_length = pstmt->stmt_len;
	}
	else if (context == PROCESS_UTILITY_QUERY || context == PROCESS_UTILITY_QUERY_NONATOMIC)
		current = MIGRATE_TOP_NESTED;

	PG_TRY();
	{
		if (prev_hook)
			prev_hook(MIGRATE_UTILITY_ARGS);
		else
			standard_ProcessUtility(MIGRATE_UTILITY_ARGS);
	}
	PG_FINALLY();
	{
		/* a statement that began before the hook leaves NONE, not UNKNOWN */
		current = saved == MIGRATE_TOP_UNKNOWN ? MIGRATE_TOP_NONE : saved;
		current_query = saved_query;
		current_location = saved_location;
		current_length = saved_length;
	}
	PG_END_TRY();
}

void
migrate_topstatement_init(void)
{
	prev_hook = ProcessUtility_hook;
	ProcessUtility_hook = topstatement_hook;
}

/*
 * The state now, and with MIGRATE_TOP_STATEMENT the statement's text (a
 * palloc'd copy, without the white space before it) in *text.
 */
MigrateTopStatement
migrate_topstatement_current(char **text)
{
	const char *start;
	int			length;

	*text = NULL;
	if (current != MIGRATE_TOP_STATEMENT)
		return current;
	start = current_query + current_location;
	length = current_length > 0 ? current_length : (int) strlen(start);
	while (length > 0 && scanner_isspace(*start))
	{
		start++;
		length--;
	}
	*text = pnstrdup(start, length);
	return current;
}
