/*-------------------------------------------------------------------------
 *
 * message.c
 *	  The messages a run of migrations emits: what it is about to do, what
 *	  it did, and what a failure left behind.
 *
 * apply(), revert(), revert_all(), deploy() and their dry runs say what
 * they do in the same few sentences, whichever path runs the plan:
 *
 *	 - before each migration, "applying 3 of 7: 003 orders" ("reverting",
 *	   "would apply", "would revert"), never "applied" for work that a
 *	   later failure or a dry run undoes;
 *	 - at the end, one summary: "applied 7 migrations in 41 ms", "dry run:
 *	   would apply 3 migrations, all rolled back", "nothing to apply";
 *	 - on failure, a CONTEXT line of the error saying what the failure left:
 *	   "nothing applied: 003 failed at statement 2; 001 and 002 were rolled
 *	   back" when the caller's transaction undoes everything, or, on the
 *	   worker path, which committed, "001 and 002 stay applied; 003 failed
 *	   at statement 2 and is dirty" (after a cancel: "003 was interrupted
 *	   at statement 2 and is dirty");
 *	 - a scheduled run, whose log nobody reads as a whole, says after each
 *	   migration "applied 3 of 7: 003 orders in 41 ms".
 *
 * All of them go out at migrate.progress_level.  The elapsed time is left
 * out when migrate.message_timing is off, so that the output can be
 * compared from run to run.  Messages follow PostgreSQL's style: lower
 * case, no period, singular and plural forms chosen by count.
 *
 * IDENTIFICATION
 *	  src/exec/message.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "exec/message.h"
#include "exec/plan.h"
#include "guc.h"

/* versions named one by one in a failure's CONTEXT line; more are a range */
#define MAX_LISTED_VERSIONS 3

/* "applying", "reverting", "would apply", "would revert" */
static const char *
doing_verb(MigrateDirection direction, bool dry_run)
{
	if (dry_run)
		return direction == DIRECTION_UP ? "would apply" : "would revert";
	return direction == DIRECTION_UP ? "applying" : "reverting";
}

/*
 * Before a migration runs: what the call is doing, and where it is in the
 * run ("applying 3 of 7: 003 orders").  "resume_at" is the statement a
 * dirty migration resumes at after resolve(..., 'retry'), or 0.
 */
void
migrate_message_starting(MigrateDirection direction, const MigrateRunInfo *info, int number,
						 const MigrateMigration *m, int resume_at)
{
	if (resume_at > 0)
		ereport(migrate_progress_level,
				(errmsg("%s %d of %d: %s %s, resuming at statement %d",
						doing_verb(direction, info->dry_run), number, info->total,
						m->version, m->name, resume_at)));
	else
		ereport(migrate_progress_level,
				(errmsg("%s %d of %d: %s %s", doing_verb(direction, info->dry_run),
						number, info->total, m->version, m->name)));
}

/* instead of the above, when the precondition says to skip it */
void
migrate_message_skipping(const MigrateRunInfo *info, int number, const MigrateMigration *m)
{
	ereport(migrate_progress_level,
			(errmsg("%s %d of %d: %s %s, its precondition does not hold",
					info->dry_run ? "would skip" : "skipping",
					number, info->total, m->version, m->name)));
}

/* likewise when its @environments leave out the current environment */
void
migrate_message_skipping_environment(const MigrateRunInfo *info, int number,
									 const MigrateMigration *m, const char *environment)
{
	ereport(migrate_progress_level,
			(errmsg("%s %d of %d: %s %s, not for environment %s",
					info->dry_run ? "would skip" : "skipping",
					number, info->total, m->version, m->name, environment)));
}

/* the plan is empty */
void
migrate_message_nothing_to_do(MigrateDirection direction)
{
	ereport(migrate_progress_level,
			(errmsg(direction == DIRECTION_UP ? "nothing to apply" : "nothing to revert")));
}

/* " in 41 ms", or "" when migrate.message_timing is off */
static char *
elapsed_text(TimestampTz started)
{
	if (!migrate_message_timing)
		return "";
	return psprintf(" in " INT64_FORMAT " ms",
					(GetCurrentTimestamp() - started + 500) / 1000);
}

/* "003 failed at statement 2", or "003 failed" outside any statement */
static char *
failure_text(const char *version, int statement)
{
	if (statement > 0)
		return psprintf("%s failed at statement %d", version, statement);
	return psprintf("%s failed", version);
}

/* migrations a run skipped, by reason */
typedef struct SkipCounts
{
	int			precondition;	/* their precondition did not hold (skip mode) */
	int			environment;	/* not for this environment (exec/skip.c) */
} SkipCounts;

/*
 * "1 migration would be skipped: its precondition does not hold.", then
 * "2 migrations would be skipped: they are not for this environment.",
 * the sentences of a DETAIL ("was"/"were" unless a dry run), or "" when
 * none was skipped
 */
static char *
skipped_text(SkipCounts skipped, bool dry_run)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (skipped.precondition == 1)
		appendStringInfo(&buf, "1 migration %s skipped: its precondition does not hold.",
						 dry_run ? "would be" : "was");
	else if (skipped.precondition > 1)
		appendStringInfo(&buf, "%d migrations %s skipped: their preconditions do not hold.",
						 skipped.precondition, dry_run ? "would be" : "were");
	if (skipped.environment == 1)
		appendStringInfo(&buf, "%s1 migration %s skipped: it is not for this environment.",
						 buf.len > 0 ? " " : "", dry_run ? "would be" : "was");
	else if (skipped.environment > 1)
		appendStringInfo(&buf, "%s%d migrations %s skipped: they are not for this environment.",
						 buf.len > 0 ? " " : "", skipped.environment,
						 dry_run ? "would be" : "were");
	return buf.data;
}

/* the blank between a DETAIL's sentence and skipped_text(), if any */
#define SKIPPED_SEPARATOR(skipped) \
	((skipped).precondition + (skipped).environment > 0 ? " " : "")

/*
 * The summary of a dry run: how many migrations it ran before rolling
 * everything back, or which one failed, or why it stopped early.
 */
static void
dry_run_summary(List *plan, MigrateDirection direction, const MigrateOutcome *outcomes,
				int done, SkipCounts skipped)
{
	int			cut = migrate_plan_first_nontransactional(plan, direction);
	const char *cut_version = cut >= 0 ? ((MigrateMigration *) list_nth(plan, cut))->version : NULL;

	for (int i = 0; i < list_length(plan); i++)
	{
		if (outcomes[i].failed)
		{
			ereport(migrate_progress_level,
					(errmsg("dry run: %s, all rolled back",
							failure_text(((MigrateMigration *) list_nth(plan, i))->version,
										 outcomes[i].failed_statement)),
					 errdetail("The error is in the note of its result row.")));
			return;
		}
	}
	if (done == 0 && cut_version != NULL)
	{
		ereport(migrate_progress_level,
				(errmsg("dry run: nothing could be run"),
				 errdetail("Migration %s cannot run inside a transaction block, so a dry run cannot roll it back.%s%s",
						   cut_version, SKIPPED_SEPARATOR(skipped), skipped_text(skipped, true))));
		return;
	}
	/* the DETAIL says where it stopped early and how many it skipped */
	ereport(migrate_progress_level,
			(direction == DIRECTION_UP ?
			 errmsg_plural("dry run: would apply %d migration, all rolled back",
						   "dry run: would apply %d migrations, all rolled back", done, done) :
			 errmsg_plural("dry run: would revert %d migration, all rolled back",
						   "dry run: would revert %d migrations, all rolled back", done, done),
			 cut_version != NULL ?
			 errdetail("It stopped before migration %s, which cannot run inside a transaction block, so a dry run cannot roll it back.%s%s",
					   cut_version, SKIPPED_SEPARATOR(skipped), skipped_text(skipped, true)) :
			 skipped.precondition + skipped.environment > 0 ?
			 errdetail("%s", skipped_text(skipped, true)) : 0));
}

/*
 * The closing message of a run that did not fail: "applied 7 migrations
 * in 41 ms", "reverted 1 migration in 5 ms", or a dry run's summary.
 * "started" is when the run began, for the elapsed time.
 */
void
migrate_message_summary(List *plan, MigrateDirection direction, bool dry_run,
						const MigrateOutcome *outcomes, TimestampTz started)
{
	int			done = 0;
	SkipCounts	skipped = {0, 0};
	char	   *elapsed = elapsed_text(started);

	for (int i = 0; i < list_length(plan); i++)
	{
		done += outcomes[i].done ? 1 : 0;
		if (outcomes[i].skipped_for_environment)
			skipped.environment++;
		else if (outcomes[i].skipped)
			skipped.precondition++;
	}
	if (dry_run)
	{
		dry_run_summary(plan, direction, outcomes, done, skipped);
		return;
	}
	ereport(migrate_progress_level,
			(direction == DIRECTION_UP ?
			 errmsg_plural("applied %d migration%s", "applied %d migrations%s", done, done, elapsed) :
			 errmsg_plural("reverted %d migration%s", "reverted %d migrations%s", done, done, elapsed),
			 skipped.precondition + skipped.environment > 0 ?
			 errdetail("%s", skipped_text(skipped, false)) : 0));
}

/*
 * "001 and 002", "001, 002 and 003", or "001 to 042 (42 migrations)": the
 * versions of the plan whose outcome is done.
 */
static char *
done_versions(List *versions, const MigrateOutcome *outcomes, int *count)
{
	StringInfoData buf;
	List	   *done = NIL;
	ListCell   *lc;

	foreach(lc, versions)
		if (outcomes != NULL && outcomes[foreach_current_index(lc)].done)
			done = lappend(done, lfirst(lc));
	*count = list_length(done);
	initStringInfo(&buf);
	if (*count > MAX_LISTED_VERSIONS)
	{
		appendStringInfo(&buf, "%s to %s (%d migrations)", (char *) linitial(done),
						 (char *) llast(done), *count);
		return buf.data;
	}
	foreach(lc, done)
	{
		int			i = foreach_current_index(lc);

		if (i > 0)
			appendStringInfoString(&buf, i == *count - 1 ? " and " : ", ");
		appendStringInfoString(&buf, lfirst(lc));
	}
	return buf.data;
}

/*
 * The CONTEXT line of a failed run in the caller's transaction, which
 * undoes the whole plan: "nothing applied: 003 failed at statement 2; 001
 * and 002 were rolled back", or for a revert "nothing reverted: 002 failed
 * at statement 2; 003 stays applied" (its revert was rolled back).  Only
 * the migrations that ran before the failure are named, not those the
 * failure kept from running.  "versions" are the plan's, "failed" the
 * index of the one that failed, "outcomes" (or NULL) one per version.
 */
char *
migrate_message_rolled_back(List *versions, MigrateDirection direction,
							const MigrateOutcome *outcomes, int failed, int statement)
{
	StringInfoData buf;
	int			ndone;
	char	   *done = done_versions(versions, outcomes, &ndone);

	initStringInfo(&buf);
	appendStringInfo(&buf, "nothing %s: %s",
					 direction == DIRECTION_UP ? "applied" : "reverted",
					 failure_text(list_nth(versions, failed), statement));
	if (ndone > 0 && direction == DIRECTION_UP)
		appendStringInfo(&buf, "; %s %s rolled back", done, ndone == 1 ? "was" : "were");
	else if (ndone > 0)
		appendStringInfo(&buf, "; %s %s applied", done, ndone == 1 ? "stays" : "stay");
	return buf.data;
}

/* "001 stays applied; " or "001 and 002 stay reverted; ", "" for none */
static char *
what_stays(List *versions, MigrateDirection direction, const MigrateOutcome *outcomes)
{
	int			ndone;
	char	   *done = done_versions(versions, outcomes, &ndone);

	if (ndone == 0)
		return "";
	return psprintf("%s %s %s; ", done, ndone == 1 ? "stays" : "stay",
					direction == DIRECTION_UP ? "applied" : "reverted");
}

/* "; 1 more was not run", "; 3 more were not run", or "" */
static char *
not_run_text(int rest)
{
	if (rest <= 0)
		return "";
	if (rest == 1)
		return "; 1 more was not run";
	return psprintf("; %d more were not run", rest);
}

/*
 * The CONTEXT line of a failed run on the worker path, which commits each
 * migration on its own: what stays applied, how the failed migration was
 * left, and how many were not run.  "001 and 002 stay applied; 003 failed
 * at statement 2 and is dirty; 1 more was not run".  NULL when no
 * migration of "versions" (one outcome each) failed.
 */
char *
migrate_message_worker_failure(List *versions, MigrateDirection direction,
							   const MigrateOutcome *outcomes)
{
	StringInfoData buf;
	int			failed = -1;

	for (int i = 0; i < list_length(versions) && failed < 0; i++)
		if (outcomes[i].failed)
			failed = i;
	if (failed < 0)
		return NULL;

	initStringInfo(&buf);
	appendStringInfoString(&buf, what_stays(versions, direction, outcomes));
	appendStringInfo(&buf, "%s %s",
					 failure_text(list_nth(versions, failed), outcomes[failed].failed_statement),
					 outcomes[failed].left_dirty ? "and is dirty" : "and was rolled back");
	appendStringInfoString(&buf, not_run_text(list_length(versions) - failed - 1));
	return buf.data;
}

/*
 * The CONTEXT line of a worker-path run that was stopped from outside (a
 * cancel, a statement timeout, the worker terminated) rather than by a
 * failing migration: what the worker committed, the migration it was
 * running, which its rollback undid or which is left dirty, and how many
 * were not run.  "001 and 002 stay applied; 003 was interrupted at
 * statement 2 and is dirty; 1 more was not run", or "nothing was applied".
 * The worker keeps "outcomes" up to date as it goes (worker_run.c).
 */
char *
migrate_message_worker_interrupted(List *versions, MigrateDirection direction,
								   const MigrateOutcome *outcomes)
{
	StringInfoData buf;
	int			running = -1;
	int			rest = 0;

	for (int i = 0; i < list_length(versions); i++)
	{
		if (outcomes[i].attempted && !outcomes[i].done && !outcomes[i].skipped && running < 0)
			running = i;
		else if (!outcomes[i].attempted && !outcomes[i].done && !outcomes[i].skipped)
			rest++;
	}
	initStringInfo(&buf);
	appendStringInfoString(&buf, what_stays(versions, direction, outcomes));
	if (running >= 0 && outcomes[running].left_dirty)
		appendStringInfo(&buf, "%s was interrupted at statement %d and is dirty",
						 (char *) list_nth(versions, running),
						 outcomes[running].running_statement);
	else if (running >= 0)
		appendStringInfo(&buf, "%s was interrupted and was rolled back",
						 (char *) list_nth(versions, running));
	else if (buf.len == 0)
		appendStringInfoString(&buf, direction == DIRECTION_UP ?
							   "nothing was applied" : "nothing was reverted");
	else
		buf.data[buf.len -= 2] = '\0';		/* no "; " after what stays */
	appendStringInfoString(&buf, not_run_text(rest));
	return buf.data;
}

/*
 * A scheduled run's line after each migration it completed ("applied 3 of
 * 7: 003 orders in 41 ms"): its worker runs one migration and leaves, and
 * nobody waits for a closing summary, so the server log says it here.
 */
void
migrate_message_completed(MigrateDirection direction, const MigrateRunInfo *info,
						  const MigrateMigration *m, TimestampTz started)
{
	ereport(migrate_progress_level,
			(errmsg("%s %d of %d: %s %s%s", direction == DIRECTION_UP ? "applied" : "reverted",
					info->first, info->total, m->version, m->name, elapsed_text(started))));
}
