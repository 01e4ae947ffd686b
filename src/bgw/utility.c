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
 * does so only outside a transaction block and only when PostgreSQL's own
 * checks of the command would pass (command_would_run() mirrors them), so
 * that a role cannot use a command it may not run to stop a scheduler:
 * CREATE DATABASE ... TEMPLATE t needs CREATEDB and t marked as a template
 * or owned by the caller; DROP DATABASE and ALTER DATABASE ... SET
 * TABLESPACE need ownership; RENAME needs ownership and CREATEDB.
 *
 * And only when nobody but migrate's scheduler, the scheduled migration's
 * worker it waits for, and autovacuum workers (which PostgreSQL itself asks
 * to leave) is connected to that database: otherwise the command fails
 * anyway ("being accessed by other users"), and the owner of a database,
 * who may hold no migrate role, could stop its scheduler and leave a
 * non-transactional scheduled migration dirty with a command that fails.
 *
 * IDENTIFICATION
 *	  src/bgw/utility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "catalog/pg_tablespace.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "ipc/shmem.h"
#include "model/classify.h"
#include "bgw/utility.h"

/* how long the launcher keeps away from the database */
#define HOLD_OFF_MS (10 * 1000)

static ProcessUtility_hook_type prev_utility_hook = NULL;

/* the value of an option, or NULL when absent or DEFAULT (no argument) */
static const char *
option_value(List *options, const char *name)
{
	DefElem    *option = migrate_classify_find_option(options, name);

	return option != NULL && option->arg != NULL ? defGetString(option) : NULL;
}

/*
 * The database a command needs to itself, or NULL.  CREATE DATABASE
 * without TEMPLATE, or with TEMPLATE DEFAULT, copies template1, which has
 * no scheduler of ours to make leave.
 */
static const char *
database_needing_exclusivity(Node *stmt)
{
	if (IsA(stmt, DropdbStmt))
		return ((DropdbStmt *) stmt)->dbname;
	if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
		return ((RenameStmt *) stmt)->subname;
	if (IsA(stmt, AlterDatabaseStmt))
		return option_value(((AlterDatabaseStmt *) stmt)->options, "tablespace") ?
			((AlterDatabaseStmt *) stmt)->dbname : NULL;
	if (IsA(stmt, CreatedbStmt))
		return option_value(((CreatedbStmt *) stmt)->options, "template");
	return NULL;
}

/* whether a database is marked datistemplate */
static bool
database_is_template(Oid database)
{
	HeapTuple	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
	bool		istemplate;

	if (!HeapTupleIsValid(tuple))
		return false;
	istemplate = ((Form_pg_database) GETSTRUCT(tuple))->datistemplate;
	ReleaseSysCache(tuple);
	return istemplate;
}

/* whether a database's default tablespace is "tablespace" */
static bool
database_is_in_tablespace(Oid database, Oid tablespace)
{
	HeapTuple	tuple = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(database));
	bool		same;

	if (!HeapTupleIsValid(tuple))
		return false;
	same = ((Form_pg_database) GETSTRUCT(tuple))->dattablespace == tablespace;
	ReleaseSysCache(tuple);
	return same;
}

/*
 * CREATE DATABASE ... TEMPLATE t, as createdb() checks it: CREATEDB, the
 * right to become the new database's owner, and t either marked
 * datistemplate or owned by the caller (superusers own everything); and a
 * name that is free, so that a command certain to fail does not act.
 */
/*
 * Whether the current role has CREATEDB, PostgreSQL's own rule.  Core's
 * have_createdb_privilege() is static in most PostgreSQL 15 minor releases
 * (some exported it later), so it cannot be called portably.
 */
static bool
may_create_databases(void)
{
	HeapTuple	tuple;
	bool		result;

	if (superuser())
		return true;
	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	if (!HeapTupleIsValid(tuple))
		return false;
	result = ((Form_pg_authid) GETSTRUCT(tuple))->rolcreatedb;
	ReleaseSysCache(tuple);
	return result;
}

/*
 * Whether CREATE DATABASE ... TEMPLATE would pass its permission checks
 * (CREATEDB, membership in the new owner, ownership of a non-template
 * source) and name a new database: only then may the hook ask the
 * template's scheduler to leave.
 */
static bool
createdb_would_run(CreatedbStmt *stmt, Oid template)
{
	const char *owner = option_value(stmt->options, "owner");
	Oid			owner_oid = owner ? get_role_oid(owner, true) : InvalidOid;

	if (!may_create_databases())
		return false;
	if (owner != NULL &&
		(!OidIsValid(owner_oid) || !is_member_of_role(GetUserId(), owner_oid)))
		return false;
	if (!database_is_template(template) &&
		!migrate_database_ownercheck(template, GetUserId()))
		return false;
	return !OidIsValid(get_database_oid(stmt->dbname, true));
}

/* DROP DATABASE, as dropdb() checks it: owner, not current, not a template */
static bool
dropdb_would_run(Oid database)
{
	return migrate_database_ownercheck(database, GetUserId()) &&
		database != MyDatabaseId &&
		!database_is_template(database);
}

/* ALTER DATABASE ... RENAME, as RenameDatabase() checks it */
static bool
renamedb_would_run(RenameStmt *stmt, Oid database)
{
	return migrate_database_ownercheck(database, GetUserId()) &&
		may_create_databases() &&
		database != MyDatabaseId &&
		!OidIsValid(get_database_oid(stmt->newname, true));
}

/*
 * ALTER DATABASE ... SET TABLESPACE, as movedb() checks it: owner, not
 * the current database, CREATE on a tablespace that is not pg_global; a
 * move to the tablespace it is already in does nothing and needs no one
 * to leave.
 */
static bool
movedb_would_run(AlterDatabaseStmt *stmt, Oid database)
{
	Oid			tablespace = get_tablespace_oid(option_value(stmt->options, "tablespace"), true);

	return migrate_database_ownercheck(database, GetUserId()) &&
		database != MyDatabaseId &&
		OidIsValid(tablespace) &&
		tablespace != GLOBALTABLESPACE_OID &&
		migrate_tablespace_aclcheck(tablespace, GetUserId(), ACL_CREATE) == ACLCHECK_OK &&
		!database_is_in_tablespace(database, tablespace);
}

/*
 * Whether PostgreSQL will let the current user run the command on
 * "database": the scheduler is made to leave only then, so that nobody
 * can use a command that is refused anyway to stop another database's
 * scheduler.  The checks mirror those of src/backend/commands/dbcommands.c
 * that come before the command waits for the database to be free.
 */
static bool
command_would_run(Node *stmt, Oid database)
{
	if (IsA(stmt, CreatedbStmt))
		return createdb_would_run((CreatedbStmt *) stmt, database);
	if (IsA(stmt, DropdbStmt))
		return dropdb_would_run(database);
	if (IsA(stmt, RenameStmt))
		return renamedb_would_run((RenameStmt *) stmt, database);
	if (IsA(stmt, AlterDatabaseStmt))
		return movedb_would_run((AlterDatabaseStmt *) stmt, database);
	return false;
}

/* the pid of the database's scheduler, or 0 */
static pid_t
scheduler_of(Oid database)
{
	pid_t		pid = 0;

	LWLockAcquire(migrate_shared->lock, LW_SHARED);
	for (int i = 0; i < migrate_shared->nschedulers; i++)
	{
		if (migrate_shared->schedulers[i].database == database &&
			migrate_shared->schedulers[i].pid != 0)
			pid = migrate_shared->schedulers[i].pid;
	}
	LWLockRelease(migrate_shared->lock);
	return pid;
}

/*
 * Whether the backend is the scheduler or a member of its lock group (the
 * worker of the scheduled migration it waits for joins it, see
 * schedworker.c).  lockGroupLeader is read without its lock: a stale
 * answer only makes the hook leave the scheduler alone.
 */
static bool
belongs_to_scheduler(pid_t pid, pid_t scheduler)
{
	PGPROC	   *proc;
	PGPROC	   *leader;

	if (scheduler == 0)
		return false;
	if (pid == scheduler)
		return true;
	proc = BackendPidGetProc(pid);
	if (proc == NULL)
		return false;
	leader = proc->lockGroupLeader;
	return leader != NULL && leader->pid == scheduler;
}

/*
 * Whether anyone but the scheduler, its scheduled migration's worker and
 * autovacuum workers is connected to the database: then PostgreSQL refuses
 * the command however the scheduler fares, and it is left alone.
 */
static bool
others_connected(Oid database)
{
	pid_t		scheduler = scheduler_of(database);
	int			n = pgstat_fetch_stat_numbackends();

	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = migrate_local_beentry(i);
		PgBackendStatus *status;

		if (local == NULL)
			continue;
		status = &local->backendStatus;
		if (status->st_databaseid != database ||
			status->st_procpid == MyProcPid ||
			status->st_backendType == B_AUTOVAC_WORKER)
			continue;
		if (!belongs_to_scheduler(status->st_procpid, scheduler))
			return true;
	}
	return false;
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

/*
 * The ProcessUtility hook: before a command that needs a database to
 * itself, make that database's scheduler leave, when the command would run
 * and the scheduler is the only other session; then run the command.
 */
static void
migrate_utility(MIGRATE_UTILITY_PARAMS)
{
	const char *dbname = database_needing_exclusivity(pstmt->utilityStmt);

	if (dbname != NULL && migrate_shared != NULL && !IsTransactionBlock())
	{
		Oid			database = get_database_oid(dbname, true);

		/*
		 * only for a command that will run, and only when the scheduler is
		 * all that stands in its way: nobody else kicks it out
		 */
		if (OidIsValid(database) && command_would_run(pstmt->utilityStmt, database) &&
			!others_connected(database))
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
