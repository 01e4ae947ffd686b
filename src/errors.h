/*-------------------------------------------------------------------------
 *
 * errors.h
 *	  SQLSTATEs of migrate's own error conditions.
 *
 * Where a standard SQLSTATE fits (unknown migration: 42704, duplicate
 * version: 42710, checksum mismatch: XX001, lock not available: 55P03,
 * transaction control in a script: 2D000, non-transactional statement:
 * 0A000) we use it.  The conditions below have no standard code, so they
 * get their own in class "MG", which doc/migrate.md lists.
 *
 * IDENTIFICATION
 *	  src/errors.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_ERRORS_H
#define MIGRATE_ERRORS_H

#include "utils/elog.h"

/* the metadata header of a script is malformed */
#define ERRCODE_MIGRATE_INVALID_HEADER			MAKE_SQLSTATE('M','G','0','0','1')
/* a migration depends on a version that is not registered */
#define ERRCODE_MIGRATE_MISSING_DEPENDENCY		MAKE_SQLSTATE('M','G','0','0','2')
/* the dependencies form a cycle */
#define ERRCODE_MIGRATE_DEPENDENCY_CYCLE		MAKE_SQLSTATE('M','G','0','0','3')
/* reverting would break an applied migration that depends on this one */
#define ERRCODE_MIGRATE_HAS_DEPENDANTS			MAKE_SQLSTATE('M','G','0','0','4')
/* revert asked for, but the migration has no down script */
#define ERRCODE_MIGRATE_NO_DOWN_SCRIPT			MAKE_SQLSTATE('M','G','0','0','5')
/* require() found the migration not applied */
#define ERRCODE_MIGRATE_NOT_APPLIED				MAKE_SQLSTATE('M','G','0','0','6')
/* the script is empty once the parser has split it */
#define ERRCODE_MIGRATE_EMPTY_SCRIPT			MAKE_SQLSTATE('M','G','0','0','7')
/* a non-transactional migration stopped part way and must be resolved */
#define ERRCODE_MIGRATE_DIRTY					MAKE_SQLSTATE('M','G','0','0','8')
/* a migration's precondition does not hold (precondition_mode fail) */
#define ERRCODE_MIGRATE_PRECONDITION_FAILED		MAKE_SQLSTATE('M','G','0','0','9')
/* a migration's verify script found the result wrong */
#define ERRCODE_MIGRATE_VERIFY_FAILED			MAKE_SQLSTATE('M','G','0','1','0')

/*
 * Production guard rails (issue 11).  A lock that cannot be had within the
 * DDL lock timeout, retries exhausted, keeps the standard 55P03; a
 * four-eyes approval by the registrant is 42501.
 */
/* apply() where the environment requires approval, of an unapproved migration */
#define ERRCODE_MIGRATE_NOT_APPROVED			MAKE_SQLSTATE('M','G','0','1','1')
/* a migration above the environment's risk ceiling (or not zero-downtime), without force or approval */
#define ERRCODE_MIGRATE_RISK_GATE				MAKE_SQLSTATE('M','G','0','1','2')
/* a revert of a migration applied longer ago than the revert window, without force */
#define ERRCODE_MIGRATE_REVERT_WINDOW			MAKE_SQLSTATE('M','G','0','1','3')
/* apply(expect_fingerprint => ...) on a schema with another fingerprint */
#define ERRCODE_MIGRATE_FINGERPRINT_MISMATCH	MAKE_SQLSTATE('M','G','0','1','4')
/* a backup copy larger than migrate.backup_max_bytes */
#define ERRCODE_MIGRATE_BACKUP_TOO_LARGE		MAKE_SQLSTATE('M','G','0','1','5')
/* migrate.environment names an environment migrate.environment_setting has no row for */
#define ERRCODE_MIGRATE_UNKNOWN_ENVIRONMENT		MAKE_SQLSTATE('M','G','0','1','6')
/* a lint finding of a rule the environment makes blocking (issue 12) */
#define ERRCODE_MIGRATE_LINT_BLOCKED			MAKE_SQLSTATE('M','G','0','1','7')
/* generate_down: a statement of the up script has no inverse (issue 12) */
#define ERRCODE_MIGRATE_NOT_INVERTIBLE			MAKE_SQLSTATE('M','G','0','1','8')
/* apply: the schema drifted and drift_blocks_apply waits for acknowledge_drift() (issue 13) */
#define ERRCODE_MIGRATE_DRIFT_BLOCKED			MAKE_SQLSTATE('M','G','0','1','9')

#endif							/* MIGRATE_ERRORS_H */
