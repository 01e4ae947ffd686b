/*-------------------------------------------------------------------------
 *
 * utility.c
 *	  Getting the scheduler out of the way of database-level commands.
 *
 * A scheduler stays connected to its database, and DROP DATABASE, ALTER
 * DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE refuse to run while
 * anyone is connected to the database they name.  Autovacuum workers are
 * asked to leave in that case; our schedulers are too: this hook, installed
 * only when the library is preloaded, terminates the scheduler of the
 * database the command names (ALTER DATABASE only when it moves the
 * tablespace) and holds its slot for a few seconds, so that
 * the launcher does not start it again before the command has finished.
 * If the database still exists afterwards, the launcher restarts it.  It
 * does so only for a role that may run the command (the database's owner,
 * or for a template one that may create databases) and outside a
 * transaction block, so that a failing command cannot be used to keep a
 * scheduler down.
 *
 * IDENTIFICATION
 *	  src/utility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "shmem.h"
#include "utility.h"

/* how long the launcher keeps away from the database */
#define HOLD_OFF_MS (10 * 1000)

static ProcessUtility_hook_type prev_utility_hook = NULL;

/* the database a command needs to itself, or NULL */
static const char *
database_needing_exclusivity(Node *stmt)
{
	ListCell   *lc;

	if (IsA(stmt, DropdbStmt))
		return ((DropdbStmt *) stmt)->dbname;
	if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
		return ((RenameStmt *) stmt)->subname;
	if (IsA(stmt, AlterDatabaseStmt))
		foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
			if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
				return ((AlterDatabaseStmt *) stmt)->dbname;
	if (IsA(stmt, CreatedbStmt))
		foreach(lc, ((CreatedbStmt *) stmt)->options)
			if (strcmp(lfirst_node(DefElem, lc)->defname, "template") == 0)
				return defGetString(lfirst_node(DefElem, lc));
	return NULL;
}

/* terminate the scheduler of a database and keep it away for a while */
static void
make_scheduler_leave(Oid database)
{
	TimestampTz hold = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), HOLD_OFF_MS);

	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
	{
		MigrateSchedulerSlot *slot = &migrate_shared->schedulers[i];

		if (slot->database != database)
			continue;
		slot->hold_until = hold;
		if (slot->pid != 0)
			(void) kill(slot->pid, SIGTERM);
	}
	LWLockRelease(migrate_shared->lock);
}

static void
migrate_utility(MIGRATE_UTILITY_PARAMS)
{
	const char *dbname = database_needing_exclusivity(pstmt->utilityStmt);

	if (dbname != NULL && migrate_shared != NULL && !IsTransactionBlock())
	{
		Oid			database = get_database_oid(dbname, true);

		/* only for whoever may run the command: nobody else kicks it out */
		if (OidIsValid(database) &&
			(migrate_database_ownercheck(database, GetUserId()) ||
			 (IsA(pstmt->utilityStmt, CreatedbStmt) && have_createdb_privilege())))
			make_scheduler_leave(database);
	}

	if (prev_utility_hook)
		prev_utility_hook(MIGRATE_UTILITY_ARGS);
	else
		standard_ProcessUtility(MIGRATE_UTILITY_ARGS);
}

void
migrate_utility_init(void)
{
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = migrate_utility;
}
