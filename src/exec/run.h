/*-------------------------------------------------------------------------
 *
 * run.h
 *	  Types shared by every run of migrations, whichever path runs it (the
 *	  in-transaction path, engine.c, or the worker path, worker_run.c):
 *	  direction, who runs it (MigrateRunInfo), outcomes.
 *
 * In exec/, "context" means a memory context only; what describes a run
 * is its MigrateRunInfo, and what names the migration and statement in an
 * error is the run's error callback (errcallback).
 *
 * IDENTIFICATION
 *	  src/exec/run.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RUN_H
#define MIGRATE_RUN_H

typedef enum MigrateDirection
{
	DIRECTION_UP,
	DIRECTION_DOWN
} MigrateDirection;

/* how one migration of a run went, for result rows */
typedef struct MigrateOutcome
{
	bool		done;			/* it ran to the end */
	bool		attempted;		/* it started (dry run: also when it failed) */
	bool		skipped;		/* its precondition did not hold (skip mode),
								 * or not for this environment (below) */
	bool		skipped_for_environment;	/* @environments leave this one out */
	int64		duration_us;
	int			statements;
	int64		rows_affected;	/* rows the statements processed */
	char	   *fingerprint_before; /* dry run only */
	char	   *fingerprint_after;	/* dry run only */
	char	   *note;			/* dry run or skipped: what happened */
	bool		failed;			/* it failed (and stopped the run) */
	int			failed_statement;	/* the statement that failed, or 0 */
	bool		left_dirty;		/* it failed outside a transaction: dirty;
								 * worker path: also while such a migration
								 * runs (marked dirty), for a cancel */
	int			running_statement;	/* worker path: the statement running */
} MigrateOutcome;

/* who runs the plan, for history and progress */
typedef struct MigrateRunInfo
{
	const char *schedule;		/* schedule name, or NULL */
	const char *worker;			/* "scheduler", "apply worker", or NULL */
	int			first;			/* number of the first migration (1-based) */
	int			total;			/* migrations in the whole run */
	bool		dry_run;		/* roll everything back at the end */
	bool		force;			/* the caller passed force => true (guard.c) */
	bool		skip_backup;	/* the caller passed skip_backup => true (backup.c) */
} MigrateRunInfo;

#endif							/* MIGRATE_RUN_H */
