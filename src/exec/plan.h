/*-------------------------------------------------------------------------
 *
 * plan.h
 *	  Which migrations apply and revert run, and in which order.
 *
 * IDENTIFICATION
 *	  src/exec/plan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_PLAN_H
#define MIGRATE_PLAN_H

#include "exec/run.h"
#include "store/catalog.h"

/* what revert was asked to do; exactly one of the three is set */
typedef struct MigrateRevertRequest
{
	int			steps;			/* 0 when not given */
	const char *target;			/* revert everything applied after it */
	const char *migration;		/* revert just this one (and dependants) */
	bool		all;			/* revert everything applied */
	bool		cascade;		/* also revert applied dependants */
} MigrateRevertRequest;

extern List *migrate_plan_apply(MigrateMigration *registry, int count,
								const char *target);
extern List *migrate_plan_revert(MigrateMigration *registry, int count,
								 const MigrateRevertRequest *request);
extern int	migrate_plan_first_nontransactional(List *plan, MigrateDirection direction);
extern MigrateMigration *migrate_plan_batch_end(List *plan, int batch_size, List *passed);

#endif							/* MIGRATE_PLAN_H */
