/*-------------------------------------------------------------------------
 *
 * lintrun.h
 *	  The lint with the live catalog and the session's environment.
 *
 * IDENTIFICATION
 *	  src/store/lintrun.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LINTRUN_H
#define MIGRATE_LINTRUN_H

#include "model/environment.h"
#include "model/lint.h"

/* the findings of a parsed script under env (NULL: no environment) */
extern List *migrate_lint_live(const MigrateParsedScript *parsed, const MigrateHeader *header,
							   const MigrateEnvironment *env);

/* whether env makes the findings of rule_id block apply */
extern bool migrate_lint_rule_blocks(const MigrateEnvironment *env, const char *rule_id);

#endif							/* MIGRATE_LINTRUN_H */
