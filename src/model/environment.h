/*-------------------------------------------------------------------------
 *
 * environment.h
 *	  The guard rails of an environment (issue 11): one row of
 *	  migrate.environment_setting, as the rest of the code reads it.
 *
 * migrate.environment (guc.c) names the environment; store/environment.c
 * loads its row.  When the setting is empty, or the installed SQL is 1.0
 * (no migrate.environment_setting), every rail is off: 1.0's behaviour.
 *
 * IDENTIFICATION
 *	  src/model/environment.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_MODEL_ENVIRONMENT_H
#define MIGRATE_MODEL_ENVIRONMENT_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

typedef struct MigrateEnvironment
{
	const char *name;			/* NULL: no environment, every rail off */
	int			lock_timeout_ms;	/* DDL lock_timeout per migration; 0: none */
	int			statement_timeout_ms;	/* per migration; 0: none */
	int			lock_retries;	/* further attempts after a lock timeout */
	int			lock_retry_backoff_ms;	/* first wait; doubles, with jitter */
	bool		require_approval;	/* apply() by hand runs approved ones only */
	bool		four_eyes;		/* the approver may not be the registrant */
	bool		backup_copy;	/* backup strategy "copy" (else "off") */
	bool		has_revert_window;
	int64		revert_window_us;	/* revert only what was applied this recently */
	const char *max_risk_level; /* "low", "medium", "high", or NULL: no ceiling */
	bool		require_zero_downtime;	/* @zero-downtime: false needs force */
	bool		drift_blocks_apply; /* unacknowledged drift blocks apply (issue 13) */
	/* lint (issue 12) */
	List	   *lint_blocking;	/* rule ids (char *) whose findings block apply */
	int64		lint_large_table_bytes; /* a table this big is "large"; < 0: never */
	bool		lint_require_timeouts;	/* rule require-timeout-settings applies */
} MigrateEnvironment;

/* the size from which a table is "large" where no environment says */
#define MIGRATE_LINT_DEFAULT_LARGE_TABLE_BYTES	(INT64CONST(100) * 1024 * 1024)

#endif							/* MIGRATE_MODEL_ENVIRONMENT_H */
