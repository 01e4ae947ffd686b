/*-------------------------------------------------------------------------
 *
 * runner.h
 *	  Running migrations from a background worker, one transaction each.
 *
 * IDENTIFICATION
 *	  src/exec/runner.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RUNNER_H
#define MIGRATE_RUNNER_H

#include "exec/run.h"

/* why a run stopped early without an error */
typedef enum RunnerStop
{
	RUNNER_DONE,				/* everything ran */
	RUNNER_FAILED,				/* a migration failed: see the error */
	RUNNER_WINDOW_CLOSING		/* the next one would overrun the window */
} RunnerStop;

typedef struct RunnerResult
{
	RunnerStop	stop;
	int			done;			/* migrations completed */
	ErrorData  *error;			/* RUNNER_FAILED: what went wrong */
	const char *stopped_at;		/* version it stopped before or at */
} RunnerResult;

extern void migrate_runner_set_session_reset(void (*reset) (void));
extern RunnerResult migrate_runner_run(List *versions, Direction direction,
									   const RunContext *context,
									   MigrateOutcome *outcomes,
									   TimestampTz window_end);

#endif							/* MIGRATE_RUNNER_H */
