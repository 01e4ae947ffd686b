/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The guard rails that decide whether a migration may run: approvals
 *	  everywhere, the risk gate, the revert window, fingerprint-bound plans
 *	  (issue 11).
 *
 * The rules come from the environment (store/environment.c: the row of
 * migrate.environment_setting that migrate.environment names; with no
 * environment every rail is off, as in 1.0).  The decisions are pure
 * functions of (environment, migration, facts), so that apply(), revert(),
 * deploy(), plan() and the scheduler decide alike; the catalog is read in
 * one place (migrate_guard_load_facts) and only for what a rail needs.
 *
 *	- require_approval: apply() by hand runs only approved migrations; a
 *	  call whose plan holds unapproved ones is refused whole (MG011), naming
 *	  every one, before anything runs.  Scheduled runs hold such a
 *	  migration back.  force never overrides an approval.
 *	- four_eyes: an approval by the migration's registrant does not count
 *	  (approve() refuses to give one: migrate--1.0--1.1.sql).
 *	- the risk gate: @risk-level above max_risk_level (an undeclared level
 *	  passes), or @zero-downtime: false where require_zero_downtime, needs
 *	  an approval or force => true (MG012).  Applying only: a revert is
 *	  bounded by the revert window instead.
 *	- the revert window: reverting a migration applied longer ago than
 *	  revert_window needs force => true (MG013).
 *	- expect_fingerprint: apply() runs only on the schema a plan was
 *	  reviewed against (MG014), checked after the migrate lock is taken, so
 *	  that no other run can change the schema between check and run.
 *	- the lint gate (issue 12): a migration with a stored lint finding
 *	  (migrate.lint_finding, written by register(): store/lintstore.c) of
 *	  a rule the environment lists in lint_blocking needs force => true
 *	  (MG017).  An approval does not open it: an approval accepts a
 *	  risk, a blocking finding says the script will fail or destroy what
 *	  it should not; the remedy is a fixed script, force the recorded
 *	  exception.  Applying only.
 *
 * Migrations that the environment's @environments rule leaves out are
 * skipped (exec/skip.c) and need nothing here.  What force overrode is
 * remembered for the rest of the transaction and added to the history
 * detail of each such migration's event ("forced": [...], the names of
 * the settings it overrode).
 *
 * IDENTIFICATION
 *	  src/exec/guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "exec/drift.h"
#include "exec/guard.h"
#include "ipc/xact.h"
#include "model/json.h"
#include "store/environment.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_four_eyes_required);

/* the risk levels @risk-level accepts, lowest first (model/header.c) */
static const char *const risk_levels[] = {"low", "medium", "high"};

/* rank of a risk level, 0 for one not known */
static int
risk_rank(const char *level)
{
	for (int i = 0; i < lengthof(risk_levels); i++)
	{
		if (pg_strcasecmp(level, risk_levels[i]) == 0)
			return i + 1;
	}
	return 0;
}

/*
 * Whether a declared risk level is above the ceiling.  No ceiling, or no
 * declared level, passes; a level this release does not know counts as
 * above any ceiling (unknown risk is not low risk).
 */
bool
migrate_guard_risk_above(const char *risk_level, const char *ceiling)
{
	int			rank;

	if (ceiling == NULL || risk_level == NULL)
		return false;
	rank = risk_rank(risk_level);
	return rank == 0 || rank > risk_rank(ceiling);
}

/* whether the environment requires an approval that the migration lacks */
bool
migrate_guard_needs_approval(const MigrateEnvironment *env, const MigrateGuardFacts *facts)
{
	return env->require_approval && !facts->approved;
}

/*
 * The gates that refuse the migration in this direction unless forced
 * (MIGRATE_GATE_* bits; 0 when it may run).  An approval opens the risk
 * gate, not the lint gate nor the revert window.
 */
int
migrate_guard_gates(const MigrateEnvironment *env, const MigrateMigration *m,
					MigrateDirection direction, const MigrateGuardFacts *facts,
					TimestampTz now)
{
	int			gates = 0;

	if (direction == DIRECTION_UP)
	{
		if (facts->lint_blocked > 0)
			gates |= MIGRATE_GATE_LINT;
		if (facts->approved)
			return gates;
		if (migrate_guard_risk_above(m->risk_level, env->max_risk_level))
			gates |= MIGRATE_GATE_RISK_LEVEL;
		if (env->require_zero_downtime && m->zero_downtime == 0)
			gates |= MIGRATE_GATE_ZERO_DOWNTIME;
	}
	else if (env->has_revert_window && facts->has_applied_at &&
			 now - facts->applied_at > env->revert_window_us)
		gates |= MIGRATE_GATE_REVERT_WINDOW;
	return gates;
}

/* an interval of microseconds as PostgreSQL writes it ("7 days 02:00:00") */
static char *
interval_text(int64 usecs)
{
	Interval   *interval = palloc0(sizeof(Interval));

	interval->time = usecs;
	return DatumGetCString(DirectFunctionCall1(interval_out,
											   DirectFunctionCall1(interval_justify_hours,
																   IntervalPGetDatum(interval))));
}

/* the gates, in words, for plan() and error details */
char *
migrate_guard_describe_gates(const MigrateEnvironment *env, const MigrateMigration *m, int gates,
							 const MigrateGuardFacts *facts)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (gates & MIGRATE_GATE_LINT)
		appendStringInfo(&buf, "lint rule %s, which lint_blocking lists, found at statement %d, line %d (%s)%s",
						 facts->lint_rule, facts->lint_statement, facts->lint_line,
						 facts->lint_message,
						 facts->lint_blocked > 1 ?
						 psprintf(", and %d more finding%s of blocking rules",
								  facts->lint_blocked - 1, facts->lint_blocked == 2 ? "" : "s") : "");
	if (gates & MIGRATE_GATE_RISK_LEVEL)
		appendStringInfo(&buf, "%s@risk-level %s is above max_risk_level %s",
						 buf.len ? "; " : "", m->risk_level, env->max_risk_level);
	if (gates & MIGRATE_GATE_ZERO_DOWNTIME)
		appendStringInfo(&buf, "%s@zero-downtime: false where require_zero_downtime is on",
						 buf.len ? "; " : "");
	if (gates & MIGRATE_GATE_REVERT_WINDOW)
		appendStringInfo(&buf, "%sapplied longer ago than revert_window %s",
						 buf.len ? "; " : "", interval_text(env->revert_window_us));
	return buf.data;
}

/*
 * What opens a set of gates, for plan(): an approval opens the risk gate,
 * not the lint gate, and force opens every one.
 */
const char *
migrate_guard_gate_remedy(int gates)
{
	if (gates & MIGRATE_GATE_LINT)
		return "needs a fixed script or force => true";
	if (gates & MIGRATE_GATE_REVERT_WINDOW)
		return "needs force => true";
	return "needs approve() or force => true";
}

/* the names of the settings a set of gates stands for, for "forced" */
static void
add_gate_names(MigrateJsonBuilder *b, int gates)
{
	if (gates & MIGRATE_GATE_RISK_LEVEL)
		migrate_json_add_text(b, NULL, "max_risk_level");
	if (gates & MIGRATE_GATE_ZERO_DOWNTIME)
		migrate_json_add_text(b, NULL, "require_zero_downtime");
	if (gates & MIGRATE_GATE_REVERT_WINDOW)
		migrate_json_add_text(b, NULL, "revert_window");
	if (gates & MIGRATE_GATE_LINT)
		migrate_json_add_text(b, NULL, "lint_blocking");
}

/* kept for the backend: read once per migration of every plan */
static SPIPlanPtr lint_facts_plan = NULL;

/*
 * The stored lint findings of the migration whose rules the environment
 * lists in lint_blocking: how many, and the first of them.  A migration
 * registered before 1.1 has none.  lint_blocking is a column of the
 * same update as migrate.lint_finding, so the table exists when it is
 * not empty.
 */
static void
load_lint_facts(const MigrateEnvironment *env, const MigrateMigration *m,
				MigrateGuardFacts *facts)
{
	Oid			argtypes[2] = {TEXTOID, TEXTARRAYOID};
	Datum		values[2];
	Datum	   *rules = palloc(sizeof(Datum) * list_length(env->lint_blocking));
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	ListCell   *lc;

	foreach(lc, env->lint_blocking)
		rules[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	values[0] = CStringGetTextDatum(m->version);
	values[1] = PointerGetDatum(construct_array(rules, list_length(env->lint_blocking),
												TEXTOID, -1, false, TYPALIGN_INT));
	migrate_spi_run_kept_as_owner(&lint_facts_plan,
								  "SELECT f.rule, f.statement, f.line, f.message,"
								  " pg_catalog.count(*) OVER ()::integer"
								  " FROM migrate.lint_finding f"
								  " WHERE f.version OPERATOR(pg_catalog.=) $1"
								  " AND f.rule OPERATOR(pg_catalog.=) ANY ($2)"
								  " ORDER BY f.ordinal LIMIT 1",
								  2, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return;
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	facts->lint_rule = SPI_getvalue(tuple, desc, 1);
	facts->lint_statement = DatumGetInt32(SPI_getbinval(tuple, desc, 2, &isnull));
	facts->lint_line = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
	facts->lint_message = SPI_getvalue(tuple, desc, 4);
	facts->lint_blocked = DatumGetInt32(SPI_getbinval(tuple, desc, 5, &isnull));
}

/*
 * What the rails need from the catalog about the migration: who approved
 * it (four-eyes), when it was applied (revert window) and its findings of
 * blocking lint rules, read only when a rail that needs it is on.  Needs
 * an SPI connection; the strings are allocated in its memory.
 */
MigrateGuardFacts
migrate_guard_load_facts(const MigrateEnvironment *env, const MigrateMigration *m,
						 MigrateDirection direction)
{
	MigrateGuardFacts facts = {0};
	bool		want_approver = env->four_eyes && m->approved;
	bool		want_applied_at = direction == DIRECTION_DOWN && env->has_revert_window;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;

	facts.approved = m->approved;
	if (direction == DIRECTION_UP && env->lint_blocking != NIL)
		load_lint_facts(env, m, &facts);
	if (!want_approver && !want_applied_at)
		return facts;

	values[0] = CStringGetTextDatum(m->version);
	migrate_spi_run_as_owner("SELECT m.approved_by::pg_catalog.text, m.applied_at"
							 " FROM migrate.migration m"
							 " WHERE m.version OPERATOR(pg_catalog.=) $1",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return facts;
	if (want_approver)
	{
		char	   *approver = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (approver != NULL && m->registered_by != NULL &&
			strcmp(approver, m->registered_by) == 0)
		{
			facts.approved = false;
			facts.approved_by_registrant = true;
		}
	}
	if (want_applied_at)
	{
		Datum		at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		facts.has_applied_at = !isnull;
		if (!isnull)
			facts.applied_at = DatumGetTimestampTz(at);
	}
	return facts;
}

/*
 * apply(expect_fingerprint => ...): refuse unless the schema's fingerprint
 * (migrate.fingerprint()) is the one expected.  The caller holds the
 * migrate lock, so no other run changes the schema before this one runs.
 */
void
migrate_guard_check_fingerprint(const char *expected)
{
	char	   *actual;

	if (expected == NULL)
		return;
	migrate_spi_run_pinned("SELECT migrate.fingerprint()", 0, NULL, NULL, NULL,
						   true, SPI_OK_SELECT);
	actual = SPI_processed == 1 ?
		SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
	if (actual != NULL && strcmp(actual, expected) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_FINGERPRINT_MISMATCH),
			 errmsg("the schema's fingerprint is not the expected one"),
			 errdetail("Expected fingerprint %s, the schema's is %s. Nothing was applied.",
					   expected, actual ? actual : "unknown"),
			 errhint("The schema changed since the plan was reviewed: review the plan again against this schema (migrate.fingerprint() and migrate.plan()).")));
}

/*
 * What force overrode in the current transaction: version -> gates, kept
 * in TopTransactionContext and forgotten when it goes (a reset callback),
 * for migrate_guard_event_detail().
 */
typedef struct ForcedGate
{
	char	   *version;
	int			gates;
} ForcedGate;

static List *forced_in_xact = NIL;
static bool forget_registered = false;

/* TopTransactionContext goes at the end of the transaction: forget with it */
static void
forget_forced(void *arg)
{
	forced_in_xact = NIL;
	forget_registered = false;
}

/* force => true opened these gates for this migration in this transaction */
static void
remember_forced(const char *version, int gates)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ForcedGate *f = palloc(sizeof(ForcedGate));

	if (!forget_registered)
	{
		MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));

		cb->func = forget_forced;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(TopTransactionContext, cb);
		forget_registered = true;
	}
	f->version = pstrdup(version);
	f->gates = gates;
	forced_in_xact = lappend(forced_in_xact, f);
	MemoryContextSwitchTo(old);
}

/* add a version (and a note about it) to a comma-separated list */
static void
append_version(StringInfo buf, const char *version, const char *note)
{
	appendStringInfo(buf, "%s%s%s", buf->len ? ", " : "", version, note);
}

/* MG011: the whole call is refused, naming every unapproved migration */
static void
refuse_unapproved(const MigrateEnvironment *env, int count, const char *first,
				  const char *versions, bool by_registrant)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_NOT_APPROVED),
			 count == 1 ?
			 errmsg("migration \"%s\" is not approved", first) :
			 errmsg("%d migrations are not approved", count),
			 errdetail("Environment \"%s\" requires approval before a migration is applied%s. Not approved: %s. Nothing was applied.",
					   env->name,
					   env->four_eyes ? ", by a role other than its registrant" : "",
					   versions),
			 by_registrant ?
			 errhint("Have them approved with SELECT migrate.approve(version) by a role other than the one that registered them, then apply again.") :
			 errhint("Have them approved with SELECT migrate.approve(version), then apply again.")));
}

/*
 * MG013 for a revert past the window, MG012 for the risk gate: the first
 * gated migration of the plan, with how many more there are.
 */
static void
refuse_gated(const MigrateEnvironment *env, const MigrateMigration *m, int gates,
			 MigrateDirection direction, const MigrateGuardFacts *facts, int others)
{
	char	   *why = migrate_guard_describe_gates(env, m, gates & ~MIGRATE_GATE_LINT, facts);
	char	   *more = others > 0 ? psprintf(" %d more migration%s of the plan %s gated too.",
											 others, others == 1 ? "" : "s",
											 others == 1 ? "is" : "are") : "";

	if (gates & MIGRATE_GATE_LINT)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_LINT_BLOCKED),
				 errmsg("migration \"%s\" is blocked by lint rule \"%s\" at statement %d, line %d",
						m->version, facts->lint_rule, facts->lint_statement, facts->lint_line),
				 errdetail("The finding: %s. Environment \"%s\" lists the rule in lint_blocking.%s%s%s Nothing was applied.",
						   facts->lint_message, env->name,
						   facts->lint_blocked > 1 ?
						   psprintf(" The migration has %d more finding%s of blocking rules (migrate.lint_findings).",
									facts->lint_blocked - 1, facts->lint_blocked == 2 ? "" : "s") : "",
						   why[0] ? psprintf(" It is gated too: %s.", why) : "",
						   more),
				 errhint("Fix the script and register it again, or pass force => true to apply it anyway (the history records it).")));

	if (gates & MIGRATE_GATE_REVERT_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_REVERT_WINDOW),
				 errmsg("migration \"%s\" was applied longer ago than the revert window of environment \"%s\"",
						m->version, env->name),
				 errdetail("It was applied at %s; revert_window is %s.%s Nothing was reverted.",
						   timestamptz_to_str(facts->applied_at),
						   interval_text(env->revert_window_us), more),
				 errhint("Pass force => true to revert it anyway (the history records it), or register a new migration that undoes it.")));
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_RISK_GATE),
			 errmsg("migration \"%s\" needs an approval or force in environment \"%s\"",
					m->version, env->name),
			 errdetail("Its %s.%s Nothing was applied.", why, more),
			 errhint("Have it approved with SELECT migrate.approve('%s'), or pass force => true (the history records it).",
					 m->version)));
}

/*
 * Check a plan against the environment's rails before anything of it
 * runs: unapproved migrations first (force does not help), then the gates
 * (force opens them, and what it opened is remembered for the history).
 * Returns when the plan may run; ERROR otherwise.
 */
void
migrate_guard_check_plan(const MigrateEnvironment *env, List *plan,
						 MigrateDirection direction, bool force)
{
	TimestampTz now = GetCurrentTimestamp();
	StringInfoData unapproved;
	int			nunapproved = 0;
	const char *first_unapproved = NULL;
	bool		by_registrant = false;
	const MigrateMigration *gated = NULL;
	MigrateGuardFacts gated_facts = {0};
	int			gated_gates = 0;
	int			other_gated = 0;
	ListCell   *lc;

	if (env->name == NULL)
		return;
	migrate_drift_check_plan(env, plan, direction);
	initStringInfo(&unapproved);
	foreach(lc, plan)
	{
		const MigrateMigration *m = lfirst(lc);
		MigrateGuardFacts facts;
		int			gates;

		if (direction == DIRECTION_UP && !migrate_environment_allows(env, m))
			continue;			/* skipped for this environment: runs nothing */
		facts = migrate_guard_load_facts(env, m, direction);
		if (direction == DIRECTION_UP && migrate_guard_needs_approval(env, &facts))
		{
			append_version(&unapproved, m->version,
						   facts.approved_by_registrant ? " (approved by its registrant)" : "");
			if (nunapproved++ == 0)
				first_unapproved = m->version;
			by_registrant |= facts.approved_by_registrant;
		}
		gates = migrate_guard_gates(env, m, direction, &facts, now);
		if (gates == 0)
			continue;
		if (force)
			remember_forced(m->version, gates);
		else if (gated == NULL)
		{
			gated = m;
			gated_facts = facts;
			gated_gates = gates;
		}
		else
			other_gated++;
	}
	if (nunapproved > 0)
		refuse_unapproved(env, nunapproved, first_unapproved, unapproved.data, by_registrant);
	if (gated != NULL)
		refuse_gated(env, gated, gated_gates, direction, &gated_facts, other_gated);
}

/*
 * Why a scheduled run must hold the migration back for want of an
 * approval (the schedule's or the environment's, four-eyes counted) or
 * under the environment's gates, or NULL when it may run; *waiting_for
 * says what would let it go on.  A scheduled run never forces: a gated
 * migration waits for an approval.  One the environment skips needs none.
 */
const char *
migrate_guard_held_back(const MigrateEnvironment *env, const MigrateMigration *m,
						bool schedule_requires_approval, char **waiting_for)
{
	MigrateGuardFacts facts;
	int			gates;
	const char *drifted;

	if (!migrate_environment_allows(env, m))
		return NULL;
	if ((drifted = migrate_drift_held_back(env, waiting_for)) != NULL)
		return drifted;
	facts = migrate_guard_load_facts(env, m, DIRECTION_UP);
	if ((schedule_requires_approval || env->require_approval) && !facts.approved)
	{
		*waiting_for = facts.approved_by_registrant ?
			psprintf("approval of %s by a role other than its registrant", m->version) :
			psprintf("approval of %s", m->version);
		if (facts.approved_by_registrant)
			return psprintf("not approved: approved by its registrant, and environment %s requires four eyes",
							env->name);
		if (!schedule_requires_approval)
			return psprintf("not approved (environment %s requires approval)", env->name);
		return "not approved";
	}
	gates = migrate_guard_gates(env, m, DIRECTION_UP, &facts, GetCurrentTimestamp());
	if (gates == 0)
		return NULL;
	*waiting_for = facts.approved_by_registrant ?
		psprintf("approval of %s by a role other than its registrant", m->version) :
		psprintf("approval of %s", m->version);
	if (gates & MIGRATE_GATE_LINT)
		*waiting_for = psprintf("a fixed script of %s (lint rule %s), or apply() with force => true",
								m->version, facts.lint_rule);
	return psprintf("gated in environment %s: %s", env->name,
					migrate_guard_describe_gates(env, m, gates, &facts));
}

/*
 * What force => true let through in the caller's session, for a plan
 * handed to the apply worker: the worker (handoff.c) adopts it for its
 * session, which runs that one plan.  Version -> gates, in
 * TopMemoryContext.
 */
static List *forced_by_caller = NIL;

/* the gates force => true opened for this migration in this transaction */
int
migrate_guard_forced_gates(const char *version)
{
	ListCell   *lc;

	foreach(lc, forced_in_xact)
	{
		ForcedGate *f = lfirst(lc);

		if (strcmp(f->version, version) == 0)
			return f->gates;
	}
	return 0;
}

/* the apply worker: the caller's force => true opened these gates */
void
migrate_guard_adopt_forced(const char *version, int gates)
{
	MemoryContext old;
	ForcedGate *f;

	if (gates == 0)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	f = palloc(sizeof(ForcedGate));
	f->version = pstrdup(version);
	f->gates = gates;
	forced_by_caller = lappend(forced_by_caller, f);
	MemoryContextSwitchTo(old);
}

/*
 * The detail of the history row of the current migration's event: the
 * engine's detail, plus "forced": [setting, ...] when force => true
 * overrode a gate for it, in this transaction or, on the worker path, in
 * the caller's.
 */
Jsonb *
migrate_guard_event_detail(const MigrateRunState *state, Jsonb *detail)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;
	ListCell   *lc;
	int			gates = 0;

	if (state->current == NULL)
		return detail;
	if (state->info != NULL && state->info->force)
		gates = migrate_guard_forced_gates(state->current->version);
	foreach(lc, forced_by_caller)
	{
		ForcedGate *f = lfirst(lc);

		if (strcmp(f->version, state->current->version) == 0)
			gates |= f->gates;
	}
	if (gates == 0)
		return detail;
	migrate_json_begin_object(&b, NULL);
	if (detail != NULL)
		migrate_json_add_fields(&b, detail);
	migrate_json_begin_array(&b, "forced");
	add_gate_names(&b, gates);
	migrate_json_end(&b);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}

/*
 * migrate.four_eyes_required(): whether the environment requires
 * approvals by a role other than the registrant, for approve()
 * (store_approval() in migrate--1.0--1.1.sql), from the same row apply()
 * reads.
 */
Datum
migrate_four_eyes_required(PG_FUNCTION_ARGS)
{
	bool		four_eyes;

	migrate_xact_spi_connect();
	four_eyes = migrate_environment_current()->four_eyes;
	SPI_finish();
	PG_RETURN_BOOL(four_eyes);
}
