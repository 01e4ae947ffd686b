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

#include "model/catalogfacts.h"
#include "model/lockfacts.h"
#include "model/parse.h"

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
	bool		creates;		/* this very statement creates it */
	bool		empty;			/* the catalog says its heap has no block */
	char	   *qualified;		/* the catalog's schema-qualified name, or
								 * NULL when it does not exist */
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

/*
 * One lock fact with the catalog's size of its relation (facts NULL: text
 * only, size unknown).  "cache" (a List * the caller keeps, NIL at first;
 * or NULL) remembers the catalog's answer per relation name, so that a
 * script that touches one table ten thousand times asks once.
 */
extern MigrateSizedLockFact *migrate_risk_size_fact(int statement,
													struct MigrateLockFact *fact,
													bool created_here,
													const MigrateCatalogFacts *facts,
													List **cache);

/* the same without asking the catalog (size unknown) */
extern MigrateSizedLockFact *migrate_risk_unsized_fact(int statement,
													   struct MigrateLockFact *fact,
													   bool created_here);

/* whether a fact could weigh in the derived risk, whatever the table's size */
extern bool migrate_risk_fact_may_be_heavy(const struct MigrateLockFact *fact);

/* every statement's lock facts, sized, in statement order */
extern List *migrate_risk_script_facts(const MigrateParsedScript *parsed,
									   const MigrateCatalogFacts *facts);

/*
 * Whether a sized fact weighs in the derived risk: a lock that blocks
 * writes while it scans, builds or rewrites a table that exists and holds
 * rows (not created by the script, not empty).
 */
extern bool migrate_risk_fact_is_heavy(const MigrateSizedLockFact *sized);

/* "ALTER TABLE public.orders: ACCESS EXCLUSIVE, rewrite, 12 MB" (command first) */
extern char *migrate_risk_describe_fact(const char *command,
										const MigrateSizedLockFact *sized);

/* "scans", "builds an index on", "rewrites"; "changes" for the rest */
extern const char *migrate_risk_effect_verb(MigrateLockEffect effect);

/* the size as pg_size_pretty() writes it */
extern char *migrate_risk_pretty_size(int64 bytes);

#endif							/* MIGRATE_RISK_H */
