/*-------------------------------------------------------------------------
 *
 * skip.c
 *	  Migrations meant for other environments (@environments).
 *
 * A migration whose header says "@environments: development" runs only
 * where migrate.environment is development.  Elsewhere apply() does not
 * leave it pending, which would hold back every later migration or make
 * each environment's history different: it records it as skipped, in its
 * place in the order, with a history row (outcome "skipped") saying why.
 * "skipped" is a done state: the plan passes over it (plan.c counts it as
 * done), and revert(), which reverts applied migrations only, leaves it
 * alone.  That is how seed data for one environment is written.
 *
 * Without an environment (the setting empty, or a 1.0 catalog) every
 * migration is meant for it, as in 1.0: @environments then only filters
 * schedules.
 *
 * IDENTIFICATION
 *	  src/exec/skip.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "exec/message.h"
#include "exec/skip.h"
#include "model/json.h"
#include "store/environment.h"

/* "development, staging": the migration's @environments, for messages */
static char *
environments_text(const MigrateMigration *m)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, m->environments)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", (char *) lfirst(lc));
	return buf.data;
}

/* the history row's detail: why, in which environment, and the list */
static Jsonb *
skip_detail(const MigrateEnvironment *env, const MigrateMigration *m)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;
	ListCell   *lc;

	migrate_json_begin_object(&b, NULL);
	migrate_json_add_text(&b, "reason", "not for this environment");
	migrate_json_add_text(&b, "environment", env->name);
	migrate_json_begin_array(&b, "environments");
	foreach(lc, m->environments)
		migrate_json_add_text(&b, NULL, lfirst(lc));
	migrate_json_end(&b);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}

/*
 * Record the current migration as skipped for "env": its row, a history
 * row, the NOTICE and the outcome for apply()'s result row.
 */
static void
record_skip(MigrateRunState *state, const MigrateEnvironment *env, MigrateOutcome *outcome)
{
	MigrateMigration *m = state->current;
	MigrateEvent event = migrate_engine_failure_event(state, NULL);

	migrate_catalog_mark_skipped(m->version, state->started_at, state->role);
	event.outcome = "skipped";
	event.detail = skip_detail(env, m);
	migrate_catalog_insert_event(&event);
	migrate_message_skipping_environment(state->info, state->number, m, env->name);
	if (outcome)
	{
		outcome->attempted = true;
		outcome->skipped = true;
		outcome->skipped_for_environment = true;
		outcome->note = MemoryContextStrdup(state->memory,
											psprintf("skipped: not for environment %s (@environments: %s)",
													 env->name, environments_text(m)));
	}
}

/*
 * Skip the current migration of an up run if its @environments leave out
 * the current environment (see exec/skip.h).  The environment is read for
 * every migration of an up run, also one without @environments, so that
 * an environment without settings (MG016) stops the run before anything
 * runs in it.
 */
bool
migrate_skip_for_environment(MigrateRunState *state, MigrateOutcome *outcome)
{
	const MigrateEnvironment *env;

	if (state->direction != DIRECTION_UP)
		return false;
	env = migrate_environment_current();
	if (migrate_environment_allows(env, state->current))
		return false;
	record_skip(state, env, outcome);
	return true;
}

/* the note of a result row for a skipped outcome whose own note is gone */
const char *
migrate_skip_note(const MigrateOutcome *outcome)
{
	return outcome->skipped_for_environment ?
		"skipped: not for this environment" : "skipped: precondition does not hold";
}
