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
 * short lock_timeout bounds any other wait.  Then the caller re-throws the
 * original error.  If no worker slot is free the caller warns and goes on:
 * the error still reaches the user, only the durable record is missing.
 *
 * The worker needs no preloading: dynamic workers load the library by name.
 *
 * IDENTIFICATION
 *	  src/durable.c
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
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "catalog.h"
#include "durable.h"
#include "dynworker.h"

/* what the caller hands to the worker; strings follow the struct */
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

PGDLLEXPORT void migrate_failure_recorder_main(Datum main_arg);

static Size
append_string(char *strings, Size *used, const char *s)
{
	Size		off = *used;
	Size		len = strlen(s ? s : "") + 1;

	memcpy(strings + off, s ? s : "", len);
	*used += len;
	return off;
}

static dsm_segment *
make_failure_segment(const MigrationEvent *event)
{
	Size		strings_len = strlen(event->version) + strlen(event->name) +
		strlen(event->checksum ? event->checksum : "") + strlen(event->error) + 4;
	dsm_segment *seg = dsm_create(offsetof(FailureRecord, strings) + strings_len, 0);
	FailureRecord *rec = dsm_segment_address(seg);
	Size		used = 0;

	rec->database = MyDatabaseId;
	rec->owner = migrate_extension_owner();
	rec->started_at = event->started_at;
	rec->duration_us = event->duration_us;
	rec->recorded = false;
	strlcpy(rec->action, event->action, sizeof(rec->action));
	strlcpy(rec->role, event->role, sizeof(rec->role));
	rec->version_off = append_string(rec->strings, &used, event->version);
	rec->name_off = append_string(rec->strings, &used, event->name);
	rec->checksum_off = append_string(rec->strings, &used, event->checksum);
	rec->error_off = append_string(rec->strings, &used, event->error);
	return seg;
}

/*
 * Record a failed attempt durably, outside the current transaction.
 * event->error must be set.  Warns (and returns) if it cannot.
 */
void
migrate_record_failure(const MigrationEvent *event)
{
	dsm_segment *seg = make_failure_segment(event);
	FailureRecord *rec = dsm_segment_address(seg);
	BackgroundWorkerHandle *handle;

	handle = migrate_start_worker("migrate_failure_recorder_main", "migrate failure recorder",
								  psprintf("migrate failure recorder for PID %d", MyProcPid),
								  UInt32GetDatum(dsm_segment_handle(seg)));
	if (handle == NULL)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not record the failure of migration \"%s\" durably",
						event->version),
				 errdetail("No background worker slot is free."),
				 errhint("Raise max_worker_processes.")));
	else if (WaitForBackgroundWorkerShutdown(handle) != BGWH_STOPPED || !rec->recorded)
		ereport(WARNING,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not record the failure of migration \"%s\" durably",
						event->version),
				 errdetail("The recording worker did not finish; see the server log.")));
	dsm_detach(seg);
}

static void
insert_failure_event(FailureRecord *rec)
{
	MigrationEvent event = {0};

	event.action = rec->action;
	event.version = rec->strings + rec->version_off;
	event.name = rec->strings + rec->name_off;
	event.outcome = "failure";
	event.role = rec->role;
	event.started_at = rec->started_at;
	event.duration_us = rec->duration_us;
	event.checksum = rec->strings[rec->checksum_off] ? rec->strings + rec->checksum_off : NULL;
	event.error = rec->strings + rec->error_off;
	migrate_insert_event(&event);
}

/*
 * Keep the error on the migration's row; a failed apply also makes its
 * state "failed" (a failed revert leaves it applied).  Skipped when the
 * caller's transaction still holds the row: waiting would deadlock.
 */
static void
mark_failed(FailureRecord *rec)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(rec->strings + rec->version_off);
	values[1] = CStringGetTextDatum(rec->strings + rec->error_off);
	values[2] = CStringGetTextDatum(rec->action);
	migrate_spi_as_owner("UPDATE migrate.migration m"
						 " SET last_error = $2::jsonb,"
						 "     state = CASE WHEN $3 = 'apply' AND m.state <> 'applied'"
						 "                  THEN 'failed' ELSE m.state END"
						 " WHERE m.version = (SELECT version FROM migrate.migration"
						 "                    WHERE version = $1 FOR UPDATE SKIP LOCKED)",
						 3, argtypes, values, NULL, SPI_OK_UPDATE);
}

/*
 * Entry point of the failure-recording worker.
 */
void
migrate_failure_recorder_main(Datum main_arg)
{
	dsm_segment *seg;
	FailureRecord *rec;

	seg = migrate_worker_attach(main_arg, "migration failure record");
	rec = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(rec->database, rec->owner, 0);
	SetConfigOption("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "recording a failed migration");

	insert_failure_event(rec);
	mark_failed(rec);

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	rec->recorded = true;
	proc_exit(0);
}
