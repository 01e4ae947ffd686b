/*-------------------------------------------------------------------------
 *
 * lintrun.c
 *	  The lint as register(), plan() and migrate.lint() run it: with the
 *	  session's environment and the live catalog.
 *
 * IDENTIFICATION
 *	  src/store/lintrun.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "store/lintrun.h"
#include "store/relfacts.h"

List *
migrate_lint_live(const MigrateParsedScript *parsed, const MigrateHeader *header,
				  const MigrateEnvironment *env)
{
	MigrateLintOptions options;

	migrate_lint_options_init(&options, parsed, header, env);
	return migrate_lint_script(parsed, header, &options, &migrate_live_catalog_facts);
}

/* whether the environment makes findings of this rule block apply */
bool
migrate_lint_rule_blocks(const MigrateEnvironment *env, const char *rule_id)
{
	ListCell   *lc;

	if (env == NULL)
		return false;
	foreach(lc, env->lint_blocking)
	{
		if (strcmp(lfirst(lc), rule_id) == 0)
			return true;
	}
	return false;
}

