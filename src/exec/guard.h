/*-------------------------------------------------------------------------
 *
 * guard.h
 *	  The guard rails of an environment that decide whether a migration may
 *	  run (issue 11): approvals (require_approval, four_eyes), the risk gate
 *	  (max_risk_level, require_zero_downtime), the revert window, and
 *	  fingerprint-bound plans (expect_fingerprint); and the lint gate
 *	  (issue 12: lint_blocking).  One place for the
 *	  checks: apply(), revert(), revert_all(), deploy(), plan() and the
 *	  scheduler all ask here.
 *
 * IDENTIFICATION
 *	  src/exec/guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_GUARD_H
#define MIGRATE_GUARD_H

#include "exec/engine.h"
#include "model/environment.h"

/* the gates force => true overrides (never an approval): a set of bits */
#define MIGRATE_GATE_RISK_LEVEL		(1 << 0)	/* @risk-level above max_risk_level */
#define MIGRATE_GATE_ZERO_DOWNTIME	(1 << 1)	/* @zero-downtime: false, require_zero_downtime */
#define MIGRATE_GATE_REVERT_WINDOW	(1 << 2)	/* applied longer ago than revert_window */
#define MIGRATE_GATE_LINT			(1 << 3)	/* a stored finding of a rule in lint_blocking */

/*
 * What the checks need to know about a migration beyond MigrateMigration:
 * read from the catalog by migrate_guard_load_facts(), or made up by a
 * test.
 */
typedef struct MigrateGuardFacts
{
	bool		approved;		/* approved, by a role that counts (four-eyes) */
	bool		approved_by_registrant; /* approved, but by its registrant */
	bool		has_applied_at;
	TimestampTz applied_at;		/* when it was applied (revert window) */
	/* the stored lint findings of rules the environment blocks (apply) */
	int			lint_blocked;	/* how many; 0: none */
	char	   *lint_rule;		/* the first of them: its rule, where, what */
	int			lint_statement;
	int			lint_line;
	char	   *lint_message;
} MigrateGuardFacts;

/* pure decisions: functions of (environment, migration, facts) only */
extern bool migrate_guard_risk_above(const char *risk_level, const char *ceiling);
extern bool migrate_guard_needs_approval(const MigrateEnvironment *env,
										 const MigrateGuardFacts *facts);
extern int	migrate_guard_gates(const MigrateEnvironment *env, const MigrateMigration *m,
								MigrateDirection direction, const MigrateGuardFacts *facts,
								TimestampTz now);
extern char *migrate_guard_describe_gates(const MigrateEnvironment *env,
										  const MigrateMigration *m, int gates,
										  const MigrateGuardFacts *facts);
extern const char *migrate_guard_gate_remedy(int gates);

/* the catalog's part */
extern MigrateGuardFacts migrate_guard_load_facts(const MigrateEnvironment *env,
												  const MigrateMigration *m,
												  MigrateDirection direction);

/* the checks: ERROR, or return (and remember what force overrode) */
extern void migrate_guard_check_fingerprint(const char *expected);
extern void migrate_guard_check_plan(const MigrateEnvironment *env, List *plan,
									 MigrateDirection direction, bool force);
extern const char *migrate_guard_held_back(const MigrateEnvironment *env,
										   const MigrateMigration *m,
										   bool schedule_requires_approval,
										   char **waiting_for);

/* the history detail of a migration's event, with "forced" when force overrode a gate */
extern Jsonb *migrate_guard_event_detail(const MigrateRunState *state, Jsonb *detail);
extern int	migrate_guard_forced_gates(const char *version);
extern void migrate_guard_adopt_forced(const char *version, int gates);

#endif							/* MIGRATE_GUARD_H */
