/*-------------------------------------------------------------------------
 *
 * durable.c
 *	  Recording a failed migration so that the record survives the abort.
 *
 * apply() and revert() run in the caller's transaction, and a failure must
 * abort it (so that nothing of the call stays), yet the failure itself must
 * be recorded: migrate.status shows the migration as failed and
 * migrate.history keeps the attempt.  A write in the caller's transaction
 * would be rolled back with everything else, so the record is written by a
 * short-lived dynamic background worker that commits on its own.
 *
 * Protocol: the caller (whose subtransaction holding the migration's work
 * has already been rolled back) copies the record into a DSM segment,
 * starts the worker with the segment's handle, and waits for it to exit.
 * The worker connects to the same database as the extension owner, inserts
 * the history row, marks the migration failed, commits and sets
 * "recorded".  It never waits on the caller: the row update is skipped if
 * the caller's transaction holds a lock on that row (SKIP LOCKED), and a
 * short lock_timeout bounds any other wait.  Its own transactions are read
 * write even where default_transaction_read_only is on: the bookkeeping
 * must not fail where the migration did.  Then the caller re-throws the
 * original error.
 *
 * The record never depends on a free worker slot.  While none is free the
 * caller tries again for SLOT_WAIT_MS; if there is still none (or the
 * worker did not record, or the wait was cancelled) the caller writes the
 * record to the spool: one file per failure in PG_MIGRATE_SPOOL under the
 * data directory, written under a temporary name, fsynced and renamed
 * (durable_rename) before the error reaches the user, so it survives a
 * crash.  A spooled record is written into the tables, in one transaction
 * with a plain row lock (no SKIP LOCKED: nobody waits on it), and its file
 * removed after the commit, by whichever comes first: the scheduler of
 * that database (the launcher starts one there when it sees the file,
 * within migrate.naptime of a free slot; needs shared_preload_libraries),
 * or the next failure recorder of that database.  Until then
 * migrate.status shows the migration in its earlier state.  A crash
 * between that commit and the removal would write it again: the history
 * row is then skipped as already there (same version, action and start).
 *
 * The worker needs no preloading: dynamic workers load the library by name.
 *
 * IDENTIFICATION
 *	  src/store/durable.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "store/catalog.h"
#include "store/durable.h"
#include "store/spi.h"
#include "ipc/dynworker.h"
#include "ipc/shmem.h"
#include "ipc/xact.h"

/*
 * What the caller hands to the worker; strings follow the struct.  The
 * error (jsonb) travels as its text form, the form spool files written by
 * earlier versions hold too.
 */
typedef struct FailureRecord
{
	Oid			database;
	Oid			owner;
	TimestampTz started_at;
	int64		duration_us;
	bool		recorded;		/* set by the worker after commit */
	char		action[16];
	char		role[NAMEDATALEN];
	Size		version_off;
	Size		name_off;
	Size		checksum_off;
	Size		error_off;
	char		strings[FLEXIBLE_ARRAY_MEMBER];
} FailureRecord;

/* how long to wait for a free worker slot before spooling, in ms */
#define SLOT_WAIT_MS (10 * 1000)

PGDLLEXPORT void migrate_durable_recorder_main(Datum main_arg);

static Size
append_string(char *strings, Size *used, const char *s)
{
	Size		off = *used;
	Size		len = strlen(s ? s : "") + 1;

	memcpy(strings + off, s ? s : "", len);
	*used += len;
	return off;
}

/*
 * The DSM segment that carries a failure record to the recorder worker: the
 * fixed fields in the struct, the strings (version, name, checksum, the
 * error as jsonb text) after it.
 */
static dsm_segment *
make_failure_segment(const MigrateEvent *event)
{
	char	   *error = JsonbToCString(NULL, &event->error->root, VARSIZE(event->error));
	Size		strings_len = strlen(event->version) + strlen(event->name) +
		strlen(event->checksum ? event->checksum : "") + strlen(error) + 4;
	dsm_segment *seg = dsm_create(offsetof(FailureRecord, strings) + strings_len, 0);
	FailureRecord *rec = dsm_segment_address(seg);
	Size		used = 0;

	rec->database = MyDatabaseId;
	rec->owner = migrate_catalog_extension_owner();
	rec->started_at = event->started_at;
	rec->duration_us = event->duration_us;
	rec->recorded = false;
	strlcpy(rec->action, event->action, sizeof(rec->action));
	strlcpy(rec->role, event->role, sizeof(rec->role));
	rec->version_off = append_string(rec->strings, &used, event->version);
	rec->name_off = append_string(rec->strings, &used, event->name);
	rec->checksum_off = append_string(rec->strings, &used, event->checksum);
	rec->error_off = append_string(rec->strings, &used, error);
	return seg;
}

/* the file of one spooled record: a header, then the FailureRecord */
typedef struct SpoolHeader
{
	uint32		magic;
	uint32		length;			/* of the FailureRecord that follows */
} SpoolHeader;

#define SPOOL_MAGIC 0x4D475346	/* "MGSF" */

/*
 * The size of a record in its segment: the struct and its strings, which
 * end with the NUL of the error (the last string).
 */
static Size
failure_record_size(const FailureRecord *rec)
{
	return offsetof(FailureRecord, strings) + rec->error_off +
		strlen(rec->strings + rec->error_off) + 1;
}

/*
 * Write the record to the spool, durably; false (after a WARNING) if the
 * file system refuses.  Runs after an error was caught, so it raises none.
 */
static bool
spool_failure(const FailureRecord *rec)
{
	static int	counter = 0;
	SpoolHeader header = {SPOOL_MAGIC, (uint32) failure_record_size(rec)};
	char		tmp[MAXPGPATH];
	char		path[MAXPGPATH];
	int			fd;
	bool		written;

	if (MakePGDirectory(PG_MIGRATE_SPOOL) == 0)
		(void) fsync_fname(".", true);	/* the new directory's entry */
	else if (errno != EEXIST)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", PG_MIGRATE_SPOOL)));
		return false;
	}
	snprintf(path, sizeof(path), "%s/%u-%d-%d-" INT64_FORMAT ".failure", PG_MIGRATE_SPOOL,
			 rec->database, MyProcPid, counter++, (int64) GetCurrentTimestamp());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = OpenTransientFile(tmp, O_CREAT | O_WRONLY | O_TRUNC | PG_BINARY);
	if (fd < 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", tmp)));
		return false;
	}
	written = write(fd, &header, sizeof(header)) == sizeof(header) &&
		write(fd, rec, header.length) == header.length;
	if (!written)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
	CloseTransientFile(fd);
	/* fsyncs the file, renames it and fsyncs the directory */
	if (!written || durable_rename(tmp, path, WARNING) != 0)
	{
		(void) unlink(tmp);
		return false;
	}
	return true;
}

/* no worker recorded it: spool it, and ask for a scheduler to write it */
static void
record_without_worker(const FailureRecord *rec, const char *version, const char *why,
					  const char *hint)
{
	if (!spool_failure(rec))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not record the failure of migration \"%s\" durably", version),
				 errdetail("%s", why),
				 errhint("%s", hint)));
		return;
	}
	migrate_shmem_ask_for_scheduler(rec->database);
	ereport(NOTICE,
			(errmsg("the failure of migration \"%s\" was spooled to be recorded later", version),
			 errdetail("%s migrate.status and migrate.history show it once the scheduler of this database (with shared_preload_libraries) or its next failure recorder has written it.",
					   why),
			 errhint("%s", hint)));
}

/*
 * Record a failed attempt durably, outside the current transaction.
 * event->error must be set.  Warns (and returns) only if neither a worker
 * nor the spool could take it.
 */
void
migrate_durable_record_failure(const MigrateEvent *event)
{
	dsm_segment *seg = make_failure_segment(event);
	FailureRecord *rec = dsm_segment_address(seg);
	BackgroundWorkerHandle *volatile handle = NULL;

	/* a cancel while we wait for a slot still leaves the record spooled */
	PG_TRY();
	{
		handle = migrate_dynworker_start_waiting("migrate_durable_recorder_main",
												 "migrate failure recorder",
												 psprintf("migrate failure recorder for PID %d", MyProcPid),
												 UInt32GetDatum(dsm_segment_handle(seg)),
												 SLOT_WAIT_MS);
	}
	PG_CATCH();
	{
		(void) spool_failure(rec);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (handle == NULL)
		record_without_worker(rec, event->version,
							  psprintf("No background worker slot was free for %d s.",
									   SLOT_WAIT_MS / 1000),
							  psprintf("Raise max_worker_processes (it needs migrate.max_workers + %d).",
									   MIGRATE_WORKERS_BESIDES_SCHEDULERS));
	else if (WaitForBackgroundWorkerShutdown(handle) != BGWH_STOPPED || !rec->recorded)
		record_without_worker(rec, event->version,
							  "The recording worker did not finish; see the server log.",
							  "The extension owner must be able to log in.");
	dsm_detach(seg);
}

/*
 * Write a failure record (from the segment or the spool) into the history.
 */
static void
insert_failure_event(FailureRecord *rec)
{
	MigrateEvent event = {0};

	event.action = rec->action;
	event.version = rec->strings + rec->version_off;
	event.name = rec->strings + rec->name_off;
	event.outcome = "failure";
	event.role = rec->role;
	event.started_at = rec->started_at;
	event.duration_us = rec->duration_us;
	event.checksum = rec->strings[rec->checksum_off] ? rec->strings + rec->checksum_off : NULL;
	event.error = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													 CStringGetDatum(rec->strings + rec->error_off)));
	migrate_catalog_insert_event(&event);
}

/*
 * Keep the error on the migration's row; a failed apply also makes its
 * state "failed" (a failed revert leaves it applied).  The worker skips
 * the row while the caller's transaction still holds it (waiting would
 * deadlock); a spooled record is written later, and waits ("wait").
 */
static void
mark_failed(FailureRecord *rec, bool wait)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(rec->strings + rec->version_off);
	values[1] = CStringGetTextDatum(rec->strings + rec->error_off);
	values[2] = CStringGetTextDatum(rec->action);
	migrate_spi_run_as_owner(psprintf("UPDATE migrate.migration m"
							 " SET last_error = $2::jsonb,"
							 "     state = CASE WHEN $3 = 'apply' AND m.state <> 'applied'"
							 "                  THEN 'failed' ELSE m.state END"
							 " WHERE m.version = (SELECT version FROM migrate.migration"
							 "                    WHERE version = $1 FOR UPDATE%s)",
							 wait ? "" : " SKIP LOCKED"),
							 3, argtypes, values, NULL, SPI_OK_UPDATE);
}

/* whether a spooled record's history row is there already (see above) */
static bool
already_recorded(FailureRecord *rec)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(rec->strings + rec->version_off);
	values[1] = CStringGetTextDatum(rec->action);
	values[2] = TimestampTzGetDatum(rec->started_at);
	migrate_spi_run_as_owner("SELECT FROM migrate.event e"
							 " WHERE e.version = $1 AND e.action = $2 AND e.started_at = $3"
							 " AND e.outcome = 'failure'",
							 3, argtypes, values, NULL, SPI_OK_SELECT);
	return SPI_processed > 0;
}

/* a spool file's record, or NULL (with a LOG line) if it is not one */
static FailureRecord *
read_spooled(const char *path)
{
	SpoolHeader header;
	FailureRecord *rec;
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	bool		ok;

	if (fd < 0)
		return NULL;
	ok = read(fd, &header, sizeof(header)) == sizeof(header) &&
		header.magic == SPOOL_MAGIC &&
		header.length > offsetof(FailureRecord, strings) && header.length < MaxAllocSize;
	rec = ok ? palloc(header.length) : NULL;
	ok = ok && read(fd, rec, header.length) == header.length &&
		rec->error_off < header.length - offsetof(FailureRecord, strings) &&
		((char *) rec)[header.length - 1] == '\0';
	CloseTransientFile(fd);
	if (!ok)
		ereport(LOG,
				(errmsg("migrate ignores the unreadable spooled failure record \"%s\"", path)));
	return ok ? rec : NULL;
}

/* whether a spool file name is a record of this database (or of any, if 0) */
static bool
spooled_for(const char *name, Oid database, Oid *of)
{
	unsigned int oid;
	size_t		len = strlen(name);

	if (len < 9 || strcmp(name + len - 8, ".failure") != 0 ||
		sscanf(name, "%u-", &oid) != 1)
		return false;
	*of = oid;
	return !OidIsValid(database) || oid == database;
}

/* for list_sort: names start with the database, then the writer's pid */
static int
compare_file_names(const ListCell *a, const ListCell *b)
{
	return strcmp(lfirst(a), lfirst(b));
}

/*
 * In the current transaction (SPI connected), write this database's
 * spooled records into its tables, oldest first; returns the files to
 * remove once that commits, allocated in "keep".
 */
static List *
write_spooled_records(MemoryContext keep)
{
	MemoryContext old;
	DIR		   *dir = AllocateDir(PG_MIGRATE_SPOOL);
	struct dirent *de;
	List	   *files = NIL;
	ListCell   *lc;

	if (dir == NULL)
		return NIL;				/* no spool yet */
	while ((de = ReadDir(dir, PG_MIGRATE_SPOOL)) != NULL)
	{
		Oid			of;

		if (!spooled_for(de->d_name, MyDatabaseId, &of))
			continue;
		old = MemoryContextSwitchTo(keep);
		files = lappend(files, psprintf("%s/%s", PG_MIGRATE_SPOOL, de->d_name));
		MemoryContextSwitchTo(old);
	}
	FreeDir(dir);
	list_sort(files, compare_file_names);
	foreach(lc, files)
	{
		FailureRecord *rec = read_spooled(lfirst(lc));

		if (rec == NULL)
			continue;			/* left in place for a human to look at */
		if (!already_recorded(rec))
			insert_failure_event(rec);
		mark_failed(rec, true);
	}
	return files;
}

/*
 * Remove spool files whose records are in the history now, and make the
 * removal durable.
 */
static void
remove_spooled_records(List *files)
{
	ListCell   *lc;

	foreach(lc, files)
		if (unlink(lfirst(lc)) != 0 && errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", (char *) lfirst(lc))));
	if (files != NIL)
		(void) fsync_fname(PG_MIGRATE_SPOOL, true);
}

/*
 * Our own bookkeeping writes even where the database defaults to read
 * only, and waits for no lock for long.
 */
static void
start_read_write_transaction(void)
{
	migrate_xact_begin_work(MIGRATE_WORK_SPI | MIGRATE_WORK_READ_WRITE);
	(void) set_config_option("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * The databases with spooled records, for the launcher (which connects to
 * no database).  Cheap: one directory read, usually of an empty or
 * missing directory.
 */
List *
migrate_durable_spooled_databases(void)
{
	DIR		   *dir = AllocateDir(PG_MIGRATE_SPOOL);
	struct dirent *de;
	List	   *databases = NIL;

	if (dir == NULL)
		return NIL;
	while ((de = ReadDir(dir, PG_MIGRATE_SPOOL)) != NULL)
	{
		Oid			of;

		if (spooled_for(de->d_name, InvalidOid, &of))
			databases = list_append_unique_oid(databases, of);
	}
	FreeDir(dir);
	return databases;
}

/*
 * Write this database's spooled failure records into its tables, in a
 * transaction of its own; for the scheduler, which calls it between
 * transactions with the extension installed.  An error (a lock wait that
 * timed out) is logged and leaves the files for the next round: the
 * scheduler's schedules must not wait for it.
 */
void
migrate_durable_replay_spool(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *volatile files = NIL;

	PG_TRY();
	{
		start_read_write_transaction();
		files = write_spooled_records(caller);
		migrate_xact_end_work(caller);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		edata = migrate_xact_abort_work(caller);
		ereport(LOG,
				(errmsg("migrate could not write the spooled failure records yet: %s",
						edata->message)));
		files = NIL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	remove_spooled_records(files);
}

/*
 * Entry point of the failure-recording worker.
 */
void
migrate_durable_recorder_main(Datum main_arg)
{
	dsm_segment *seg;
	FailureRecord *rec;
	List	   *spooled;

	seg = migrate_dynworker_attach(main_arg, "migration failure record");
	rec = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(rec->database, rec->owner, 0);

	start_read_write_transaction();
	pgstat_report_activity(STATE_RUNNING, "recording a failed migration");
	spooled = write_spooled_records(TopMemoryContext);
	insert_failure_event(rec);
	mark_failed(rec, false);
	migrate_xact_end_work(TopMemoryContext);
	remove_spooled_records(spooled);
	pgstat_report_activity(STATE_IDLE, NULL);

	rec->recorded = true;
	proc_exit(0);
}
