/*-------------------------------------------------------------------------
 *
 * worker_run.h
 *	  The worker path: running migrations from a background worker, one
 *	  transaction per migration.
 *
 * IDENTIFICATION
 *	  src/exec/worker_run.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_WORKER_RUN_H
#define MIGRATE_WORKER_RUN_H

#include "exec/run.h"
#include "nodes/pg_list.h"
#include "utils/timestamp.h"

/* why a run stopped early without an error */
typedef enum MigrateWorkerStop
{
	MIGRATE_WORKER_DONE,		/* everything ran */
	MIGRATE_WORKER_FAILED,		/* a migration failed: see the error */
	MIGRATE_WORKER_WINDOW_CLOSING	/* the next one would overrun the window */
} MigrateWorkerStop;

typedef struct MigrateWorkerResult
{
	MigrateWorkerStop stop;
	int			done;			/* migrations completed */
	ErrorData  *error;			/* MIGRATE_WORKER_FAILED: what went wrong */
	const char *stopped_at;		/* version it stopped before or at */
} MigrateWorkerResult;

extern MigrateWorkerResult migrate_worker_run_plan(List *versions, MigrateDirection direction,
												   const MigrateRunInfo *info,
												   MigrateOutcome *outcomes,
												   TimestampTz window_end,
												   void (*session_reset) (void));

#endif							/* MIGRATE_WORKER_RUN_H */
