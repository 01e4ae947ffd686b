/*-------------------------------------------------------------------------
 *
 * lockretry.h
 *	  DDL lock timeouts with retries (issue 11): the lock_timeout and
 *	  statement_timeout each migration runs with, and what happens when a
 *	  statement cannot get its lock in time.
 *
 * IDENTIFICATION
 *	  src/exec/lockretry.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LOCKRETRY_H
#define MIGRATE_LOCKRETRY_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/elog.h"
#include "utils/guc.h"

#include "model/json.h"

/*
 * How one migration runs: its timeouts (-1: the session's own, untouched)
 * and how often and how late it is tried again after a lock timeout.
 */
typedef struct MigrateLockPolicy
{
	int			lock_timeout_ms;	/* -1: not set; 0: none */
	int			statement_timeout_ms;	/* -1: not set; 0: none */
	int			retries;		/* further attempts after a lock timeout */
	int			backoff_ms;		/* wait before the second attempt */
} MigrateLockPolicy;

/* nothing set: 1.0's behaviour */
#define MIGRATE_LOCK_POLICY_NONE {-1, -1, 0, 0}

/* one attempt that ran into lock_timeout and was tried again */
typedef struct MigrateLockRetry
{
	int			attempt;		/* 1-based */
	int			statement;		/* its statement that waited, or 0 */
	int			line;			/* that statement's line */
	const char *lock_mode;		/* the lock it waited for, e.g. AccessExclusiveLock */
	int			lock_timeout_ms;	/* how long it waited at most */
	int64		attempt_ms;		/* how long the attempt ran */
	int			backoff_ms;		/* how long it slept before the next */
} MigrateLockRetry;

/* the per-statement statement timeout (see migrate_lockretry_timer_start) */
typedef struct MigrateStatementTimer
{
	bool		armed;			/* we (re)armed STATEMENT_TIMEOUT */
	bool		outer_active;	/* the caller's timer ran before */
	TimestampTz outer_finish;	/* when it was due */
} MigrateStatementTimer;

extern void migrate_lockretry_from_environment(MigrateLockPolicy *policy);
extern void migrate_lockretry_from_header(MigrateLockPolicy *policy, const char *script);
extern bool migrate_lockretry_manages(const MigrateLockPolicy *policy);
extern void migrate_lockretry_set_timeouts(const MigrateLockPolicy *policy, GucAction action);

extern void migrate_lockretry_timer_start(MigrateStatementTimer *timer,
										  const MigrateLockPolicy *policy);
extern void migrate_lockretry_timer_stop(MigrateStatementTimer *timer);

extern bool migrate_lockretry_is_lock_timeout(const ErrorData *edata);
extern bool migrate_lockretry_may_retry(const MigrateLockPolicy *policy, const ErrorData *edata,
										int attempt);
extern MigrateLockRetry *migrate_lockretry_plan(const MigrateLockPolicy *policy, int attempt,
												int statement, int line, TimestampTz attempt_start);
extern void migrate_lockretry_notice(const MigrateLockRetry *retry, const char *version,
									 const MigrateLockPolicy *policy, const char *statement_text,
									 bool in_subtransaction);
extern void migrate_lockretry_sleep(int ms);
extern void migrate_lockretry_add_json(MigrateJsonBuilder *b, List *retries);
extern void migrate_lockretry_explain(ErrorData *edata, const MigrateLockPolicy *policy,
									  List *retries);

#endif							/* MIGRATE_LOCKRETRY_H */
