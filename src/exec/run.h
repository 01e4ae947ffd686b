/*-------------------------------------------------------------------------
 *
 * run.h
 *	  Types shared by every run: direction, run context, outcomes.
 *
 * IDENTIFICATION
 *	  src/exec/run.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RUN_H
#define MIGRATE_RUN_H

#include "funcapi.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef enum Direction
{
	DIRECTION_UP,
	DIRECTION_DOWN
} Direction;

/* how one migration of a run went, for result rows */
typedef struct MigrateOutcome
{
	bool		done;			/* it ran to the end */
	bool		attempted;		/* it started (dry run: also when it failed) */
	bool		skipped;		/* its precondition did not hold (skip mode) */
	int64		duration_us;
	int			statements;
	int64		rows_affected;	/* dry run: rows the statements processed */
	char	   *fingerprint_before; /* dry run only */
	char	   *fingerprint_after;	/* dry run only */
	char	   *note;			/* dry run or skipped: what happened */
} MigrateOutcome;

/* who runs the plan, for history and progress */
typedef struct RunContext
{
	const char *schedule;		/* schedule name, or NULL */
	const char *worker;			/* "scheduler", "apply worker", or NULL */
	int			first;			/* number of the first migration (1-based) */
	int			total;			/* migrations in the whole run */
	bool		dry_run;		/* roll everything back at the end */
} RunContext;

extern void migrate_run_plan(List *plan, Direction direction, const RunContext *context,
							 MigrateOutcome *outcomes);
extern Jsonb *migrate_run_detail(const RunContext *context);
extern void migrate_add_result_row(ReturnSetInfo *rsinfo, const char *version,
								   const char *name, Direction direction,
								   const MigrateOutcome *outcome);
extern char *migrate_fingerprint(void);
extern int	migrate_first_nontransactional(List *plan, Direction direction);

#endif							/* MIGRATE_RUN_H */
