/*-------------------------------------------------------------------------
 *
 * risk.h
 *	  The risk level of a migration, derived from its lint findings and
 *	  the locks and rewrites of its statements.
 *
 * IDENTIFICATION
 *	  src/model/risk.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RISK_H
#define MIGRATE_RISK_H

#include "nodes/pg_list.h"

typedef struct MigrateDerivedRisk
{
	const char *level;			/* "low", "medium" or "high" */
	List	   *reasons;		/* char *, one per fact that raised it */
} MigrateDerivedRisk;

/*
 * A statement's lock facts with the sizes the catalog gave (bytes; -1
 * unknown or absent), as migrate_risk_derive() weighs them.
 */
typedef struct MigrateSizedLockFact
{
	int			statement;
	struct MigrateLockFact *fact;
	int64		bytes;
	bool		created_here;	/* the script created the relation */
} MigrateSizedLockFact;

/*
 * Derive the risk of a migration from its findings (MigrateLintFinding *)
 * and sized lock facts (MigrateSizedLockFact *); large_table_bytes is the
 * size from which a table counts as large (< 0: sizes are not weighed).
 */
extern MigrateDerivedRisk migrate_risk_derive(List *findings, List *sized_facts,
											  int64 large_table_bytes);

/* the order of levels: low 1, medium 2, high 3; 0 for NULL or another text */
extern int	migrate_risk_rank(const char *level);

#endif							/* MIGRATE_RISK_H */
