/*-------------------------------------------------------------------------
 *
 * schedworker.h
 *	  Running one scheduled migration in a worker of its own, connected as
 *	  the role the migration runs as.
 *
 * IDENTIFICATION
 *	  src/bgw/schedworker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SCHEDWORKER_H
#define MIGRATE_SCHEDWORKER_H

#include "datatype/timestamp.h"

/* how a scheduled migration's worker ended */
typedef enum MigrateSchedRunStatus
{
	SCHEDRUN_NO_RESULT = 0,		/* exited without a word (e.g. FATAL at connect) */
	SCHEDRUN_DONE,				/* applied, or found already applied */
	SCHEDRUN_SKIPPED,			/* nothing to do: someone else applied it */
	SCHEDRUN_WINDOW_CLOSING,	/* its estimate would overrun the window */
	SCHEDRUN_FAILED,			/* it failed: sqlstate and message say how */
	SCHEDRUN_LOCK_BUSY,			/* the worker could not share the migrate lock */
	SCHEDRUN_READ_ONLY,			/* the database is read-only for new sessions */
	SCHEDRUN_NO_SLOT,			/* no background worker slot was free */
	SCHEDRUN_CHANGED			/* the migration changed since it was planned */
} MigrateSchedRunStatus;

/* what the scheduler learns from one worker */
typedef struct MigrateSchedRunResult
{
	MigrateSchedRunStatus status;
	int			sqlerrcode;		/* SCHEDRUN_FAILED */
	char	   *message;		/* SCHEDRUN_FAILED, SCHEDRUN_CHANGED */
} MigrateSchedRunResult;

/* what the scheduler planned for one migration; the worker checks it */
typedef struct MigrateSchedPlanned
{
	const char *version;
	Oid			role;			/* the role its worker connects as */
	bool		by_registrant;	/* ... being its registrant (no worker_role) */
	const char *checksum;		/* its up script's checksum */
	bool		approval_required;	/* the schedule requires approval */
} MigrateSchedPlanned;

extern MigrateSchedRunResult migrate_schedworker_run(const MigrateSchedPlanned *planned,
													 const char *schedule, int number,
													 int total, TimestampTz window_end);

#endif							/* MIGRATE_SCHEDWORKER_H */
