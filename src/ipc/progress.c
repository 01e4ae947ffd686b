/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  Live progress of the migration this backend is running, in shared
 *	  memory, and the SQL function behind the migrate.progress view.
 *
 * Every backend or worker that applies or reverts writes its own slot
 * (see shmem.c for the locking protocol): which migration, statement k of
 * n with its text, when the migration and the statement started.  Any
 * session allowed to call progress_slots() (migrate_reader) reads all
 * slots, so a DBA can watch a long migration from a second psql and see,
 * through pg_stat_activity, what it waits on.  Script text is for
 * migrate_admin: the statement text of a slot is shown only to a member of
 * migrate_admin, and only for a migration of the database it is connected
 * to; everyone else gets NULL there.
 *
 * IDENTIFICATION
 *	  src/ipc/progress.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "ipc/progress.h"
#include "ipc/shmem.h"

PG_FUNCTION_INFO_V1(migrate_progress_slots);

static bool exit_callback_registered = false;

static MigrateProgress *
my_slot(void)
{
	return &migrate_shared->progress[migrate_my_procno()];
}

/* copy a string into a fixed buffer, cut on a character boundary */
static void
copy_clipped(char *dst, const char *src, int size)
{
	int			len = pg_mbcliplen(src, strlen(src), size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
clear_slot_at_exit(int code, Datum arg)
{
	migrate_progress_end();
}

/*
 * A migration starts: fill this backend's slot.
 */
void
migrate_progress_start(const char *action, const MigrateMigration *m,
					   int migration, int migrations, int statements,
					   const char *schedule)
{
	MigrateProgress *slot;

	if (migrate_shared == NULL)
		return;
	if (!exit_callback_registered)
	{
		on_shmem_exit(clear_slot_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}

	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	slot = my_slot();
	memset(slot, 0, sizeof(MigrateProgress));
	slot->pid = MyProcPid;
	slot->database = MyDatabaseId;
	slot->role = GetUserId();
	strlcpy(slot->action, action, sizeof(slot->action));
	strlcpy(slot->version, m->version, sizeof(slot->version));
	copy_clipped(slot->name, m->name, sizeof(slot->name));
	if (schedule)
		copy_clipped(slot->schedule, schedule, sizeof(slot->schedule));
	slot->migration = migration;
	slot->migrations = migrations;
	slot->statements = statements;
	slot->retries = m->failures;
	slot->migration_started = GetCurrentTimestamp();
	LWLockRelease(migrate_shared->lock);
}

/* statement k of the current migration starts */
void
migrate_progress_statement(int statement, const char *text)
{
	MigrateProgress *slot;

	if (migrate_shared == NULL)
		return;
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	slot = my_slot();
	slot->statement = statement;
	copy_clipped(slot->statement_text, text, sizeof(slot->statement_text));
	slot->statement_started = GetCurrentTimestamp();
	LWLockRelease(migrate_shared->lock);
}

/* the run is over (or failed): free the slot */
void
migrate_progress_end(void)
{
	if (migrate_shared == NULL)
		return;
	LWLockAcquire(migrate_shared->lock, LW_EXCLUSIVE);
	my_slot()->pid = 0;
	LWLockRelease(migrate_shared->lock);
}

/*
 * Whether the caller may read the statement text of migrations in its own
 * database: migrate_admin's privileges (superusers have them).  Text of
 * other databases' migrations is never shown, their scripts are not ours.
 */
static bool
may_read_script_text(void)
{
	Oid			admin = get_role_oid("migrate_admin", true);

	return OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
}

/*
 * migrate.progress_slots(): one row per backend now applying or reverting.
 * Without shared memory it returns nothing and says why.
 */
Datum
migrate_progress_slots(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrateProgress *copy;
	int			n = 0;
	bool		admin;

	migrate_materialize_srf(fcinfo);
	if (migrate_shared == NULL)
	{
		ereport(NOTICE,
				(errmsg("migrate is not in shared_preload_libraries, so no progress is recorded"),
				 errhint("Add migrate to shared_preload_libraries and restart the server.")));
		PG_RETURN_VOID();
	}

	/* copy the busy slots under the lock; format them after releasing it */
	copy = palloc(sizeof(MigrateProgress) * migrate_shared->nprogress);
	LWLockAcquire(migrate_shared->lock, LW_SHARED);
	for (int i = 0; i < migrate_shared->nprogress; i++)
		if (migrate_shared->progress[i].pid != 0)
			copy[n++] = migrate_shared->progress[i];
	LWLockRelease(migrate_shared->lock);

	admin = may_read_script_text();
	for (int i = 0; i < n; i++)
	{
		MigrateProgress *p = &copy[i];
		Datum		values[15];
		bool		nulls[15] = {0};

		values[0] = Int32GetDatum(p->pid);
		values[1] = ObjectIdGetDatum(p->database);
		values[2] = ObjectIdGetDatum(p->role);
		values[3] = CStringGetTextDatum(p->action);
		values[4] = CStringGetTextDatum(p->version);
		values[5] = CStringGetTextDatum(p->name);
		values[6] = CStringGetTextDatum(p->schedule);
		nulls[6] = p->schedule[0] == '\0';
		values[7] = Int32GetDatum(p->migration);
		values[8] = Int32GetDatum(p->migrations);
		values[9] = Int32GetDatum(p->statement);
		values[10] = Int32GetDatum(p->statements);
		values[11] = CStringGetTextDatum(p->statement_text);
		nulls[11] = p->statement == 0 || !admin || p->database != MyDatabaseId;
		values[12] = TimestampTzGetDatum(p->migration_started);
		values[13] = TimestampTzGetDatum(p->statement_started);
		nulls[13] = p->statement == 0;
		values[14] = Int32GetDatum(p->retries);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
