/*-------------------------------------------------------------------------
 *
 * engine.h
 *	  The in-transaction path (migrate_engine_run_plan) and the pieces of a run
 *	  that the worker path (worker_run.c) and rehearsals share with it.
 *
 * IDENTIFICATION
 *	  src/exec/engine.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_ENGINE_H
#define MIGRATE_ENGINE_H

#include "exec/lockretry.h"
#include "exec/run.h"
#include "store/catalog.h"
#include "model/parse.h"

/*
 * Where a run is, for the error callback (errcallback), progress and the
 * failure record.  Lives outside any subtransaction the run opens.
 */
typedef struct MigrateRunState
{
	MigrateDirection	direction;
	const MigrateRunInfo *info; /* schedule, worker, position in the run */
	const char *role;			/* who runs it, for history */
	MigrateMigration *current;		/* NULL between migrations */
	int			number;			/* of current, 1-based within the run */
	TimestampTz started_at;		/* of the current migration */
	const MigrateParsedScript *script; /* NULL until parsed */
	const MigrateStatement *statement;	/* NULL between statements */
	MemoryContext memory;		/* outlives the run, for outcomes */
	int			context_internalpos;	/* of the error its CONTEXT line named */
	MigrateLockPolicy policy;	/* current's timeouts and lock retries */
	int			attempt;		/* of current, 1-based (lock retries) */
	TimestampTz attempt_started;	/* of that attempt */
	List	   *retries;		/* of current: MigrateLockRetry, in memory */
} MigrateRunState;

/* runs one statement of a script; returns the rows it processed */
typedef uint64 (*MigrateStatementExecutor) (const MigrateParsedScript *script,
											const MigrateStatement *stmt);

/* the in-transaction path */
extern void migrate_engine_run_plan(List *plan, MigrateDirection direction, const MigrateRunInfo *info,
									MigrateOutcome *outcomes);

/* pieces of a run, shared with the worker path and rehearsals */
extern const char *migrate_engine_script_name(MigrateDirection direction);
extern void migrate_engine_init_state(MigrateRunState *state, MigrateDirection direction,
									  const MigrateRunInfo *info);
extern void migrate_engine_push_errcallback(MigrateRunState *state,
											ErrorContextCallback *errcallback);
extern MigrateParsedScript *migrate_engine_load_parsed(MigrateRunState *state);
extern void migrate_engine_record_success(MigrateRunState *state, int64 duration_us,
										  MigrateOutcome *outcome);
extern Jsonb *migrate_engine_error_json(const MigrateRunState *state, const ErrorData *edata,
										const Jsonb *extra);
extern MigrateEvent migrate_engine_failure_event(const MigrateRunState *state, Jsonb *error);
extern int64 migrate_engine_usecs_since(TimestampTz start);
extern uint64 migrate_engine_run_script(MigrateRunState *state,
										MigrateStatementExecutor execute);
extern void migrate_engine_verify(MigrateRunState *state, const char **failed_step);
extern char *migrate_engine_run_check(const char *version, const char *column, const char *what);
extern void migrate_engine_warn_foreign_scripts(List *plan, const char *what);

#endif							/* MIGRATE_ENGINE_H */
