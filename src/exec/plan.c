/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  Which migrations apply and revert run, and in which order.
 *
 * Apply runs every migration that is not applied, in a topological order
 * of their @dependencies with ties broken by natural version order (the
 * sort itself is model/order.c).  A missing dependency or a cycle is
 * reported before anything runs.  With a target, the plan stops after the
 * target, which by construction comes after everything it depends on.
 *
 * Revert runs applied migrations in reverse order of application
 * (apply_seq).  The set is the last n applied, everything applied after a
 * target, one named migration, or all of them; a migration that another
 * applied migration depends on is refused unless cascade adds the
 * dependants to the set.
 *
 * IDENTIFICATION
 *	  src/exec/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "exec/engine.h"
#include "errors.h"
#include "exec/guard.h"
#include "exec/plan.h"
#include "model/header.h"
#include "model/lint.h"
#include "model/lockfacts.h"
#include "model/order.h"
#include "model/parse.h"
#include "model/risk.h"
#include "ipc/xact.h"
#include "store/environment.h"
#include "store/lintrun.h"
#include "store/relfacts.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_plan);
PG_FUNCTION_INFO_V1(migrate_plan_1_1);
PG_FUNCTION_INFO_V1(migrate_plan_awaiting_approval);
PG_FUNCTION_INFO_V1(migrate_batch_target);

/*
 * Positions (in the registry) of each migration's dependencies.  With
 * "strict", a migration that is not applied and depends on an unregistered
 * version is an error; otherwise unknown versions are ignored.
 */
static List **
resolve_dependencies(MigrateMigration *registry, int count, bool strict)
{
	List	  **deps = palloc0(sizeof(List *) * Max(count, 1));

	for (int i = 0; i < count; i++)
	{
		ListCell   *lc;

		foreach(lc, registry[i].dependencies)
		{
			const char *version = lfirst(lc);
			MigrateMigration *dep = migrate_catalog_find_migration(registry, count, version);

			if (dep != NULL)
				deps[i] = lappend_int(deps[i], dep - registry);
			else if (strict && !migrate_catalog_is_done(&registry[i]))
				ereport(ERROR,
						(errcode(ERRCODE_MIGRATE_MISSING_DEPENDENCY),
						 errmsg("migration \"%s\" depends on \"%s\", which is not registered",
								registry[i].version, version),
						 errhint("Register migration \"%s\" first, or correct the @dependencies header of \"%s\".",
								 version, registry[i].version)));
		}
	}
	return deps;
}

/*
 * A dirty migration stopped part way (it could not be atomic): nothing may
 * run past it until a human has looked and called resolve().
 */
static void
check_nothing_dirty(MigrateMigration *registry, int count)
{
	for (int i = 0; i < count; i++)
	{
		if (strcmp(registry[i].state, "dirty") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_MIGRATE_DIRTY),
					 errmsg("migration \"%s\" is dirty", registry[i].version),
					 errdetail("It runs outside a transaction block and stopped at statement %d, so it is partly done.",
							   registry[i].dirty_statement),
					 errhint("Inspect it, then call migrate.resolve('%s', action => 'retry'), 'mark_applied' or 'mark_reverted'.",
							 registry[i].version)));
	}
}

/*
 * The migrations apply() runs, in order: a List of MigrateMigration pointers.
 */
List *
migrate_plan_apply(MigrateMigration *registry, int count, const char *target)
{
	List	  **deps;
	bool	   *applied = palloc0(sizeof(bool) * Max(count, 1));
	MigrateMigration *target_m = NULL;
	List	   *order;

	check_nothing_dirty(registry, count);
	deps = resolve_dependencies(registry, count, true);

	if (target != NULL)
	{
		target_m = migrate_catalog_find_migration(registry, count, target);
		if (target_m == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("migration \"%s\" is not registered", target)));
	}

	/* skipped for the environment counts as done: later ones proceed */
	for (int i = 0; i < count; i++)
		applied[i] = migrate_catalog_is_done(&registry[i]);
	order = migrate_order_dependencies_first(registry, count, deps, applied);

	if (target_m != NULL)
	{
		int			keep = list_length(order);

		if (migrate_catalog_is_done(target_m))
			return NIL;
		for (int i = 0; i < list_length(order); i++)
			if (list_nth(order, i) == target_m)
				keep = i + 1;
		order = list_truncate(order, keep);
	}
	return order;
}

static int
latest_applied_first(const void *a, const void *b)
{
	int64		sa = (*(MigrateMigration *const *) a)->apply_seq;
	int64		sb = (*(MigrateMigration *const *) b)->apply_seq;

	return (sa < sb) - (sa > sb);
}

/*
 * The migration a revert names, which must be registered and applied.
 */
static MigrateMigration *
find_applied(MigrateMigration *registry, int count, const char *version)
{
	MigrateMigration *m = migrate_catalog_find_migration(registry, count, version);

	if (m == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", version)));
	if (!migrate_catalog_is_applied(m))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration \"%s\" is not applied", version),
				 errdetail("Its state is \"%s\".", m->state)));
	return m;
}

/*
 * Add to the set every applied migration that depends on a member, or
 * refuse if cascade is off.
 */
static void
close_over_dependants(MigrateMigration *registry, int count, List **deps,
					  bool *in_set, bool cascade)
{
	bool		changed = true;

	while (changed)
	{
		changed = false;
		for (int i = 0; i < count; i++)
		{
			ListCell   *lc;

			if (in_set[i] || !migrate_catalog_is_applied(&registry[i]))
				continue;
			foreach(lc, deps[i])
			{
				int			dep = lfirst_int(lc);

				if (!in_set[dep])
					continue;
				if (!cascade)
					ereport(ERROR,
							(errcode(ERRCODE_MIGRATE_HAS_DEPENDANTS),
							 errmsg("cannot revert migration \"%s\" because applied migration \"%s\" depends on it",
									registry[dep].version, registry[i].version),
							 errhint("Revert \"%s\" first, or pass with_dependents => true to revert it too.",
									 registry[i].version)));
				in_set[i] = changed = true;
				break;
			}
		}
	}
}

/*
 * Refuse a revert plan in which a migration has no down script, before
 * anything runs.
 */
static void
check_down_scripts(List *order)
{
	ListCell   *lc;

	foreach(lc, order)
	{
		MigrateMigration *m = lfirst(lc);

		if (!m->has_down)
			ereport(ERROR,
					(errcode(ERRCODE_MIGRATE_NO_DOWN_SCRIPT),
					 errmsg("migration \"%s\" has no down script", m->version),
					 errdetail("Nothing was reverted."),
					 errhint("Add a down script with migrate.repair('%s', down => ...).",
							 m->version)));
	}
}

/*
 * The migrations revert() runs, latest applied first.
 */
List *
migrate_plan_revert(MigrateMigration *registry, int count, const MigrateRevertRequest *request)
{
	List	  **deps;
	bool	   *in_set = palloc0(sizeof(bool) * Max(count, 1));
	MigrateMigration **applied = palloc(sizeof(MigrateMigration *) * Max(count, 1));
	int			napplied = 0;
	List	   *order = NIL;

	check_nothing_dirty(registry, count);
	deps = resolve_dependencies(registry, count, false);
	for (int i = 0; i < count; i++)
		if (migrate_catalog_is_applied(&registry[i]))
			applied[napplied++] = &registry[i];
	qsort(applied, napplied, sizeof(MigrateMigration *), latest_applied_first);

	if (request->migration != NULL)
		in_set[find_applied(registry, count, request->migration) - registry] = true;
	else if (request->target != NULL)
	{
		MigrateMigration *target = find_applied(registry, count, request->target);

		for (int i = 0; i < napplied; i++)
			if (applied[i]->apply_seq > target->apply_seq)
				in_set[applied[i] - registry] = true;
	}
	else
	{
		int			n = request->all ? napplied : Min(request->steps, napplied);

		for (int i = 0; i < n; i++)
			in_set[applied[i] - registry] = true;
	}

	close_over_dependants(registry, count, deps, in_set, request->cascade);

	for (int i = 0; i < napplied; i++)
		if (in_set[applied[i] - registry])
			order = lappend(order, applied[i]);
	check_down_scripts(order);
	return order;
}

/*
 * Position in the plan of the first migration that cannot run in a
 * transaction block in this direction, or -1.  Such a plan takes the
 * worker path (handoff.c), and a dry run stops before that migration.
 */
int
migrate_plan_first_nontransactional(List *plan, MigrateDirection direction)
{
	ListCell   *lc;

	foreach(lc, plan)
	{
		MigrateMigration *m = lfirst(lc);

		if (!(direction == DIRECTION_UP ? m->transactional : m->down_transactional))
			return foreach_current_index(lc);
	}
	return -1;
}

/* why a migration is in the plan, in words */
static char *
plan_reason(MigrateMigration *registry, int count, const MigrateMigration *m)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, m->dependencies)
	{
		MigrateMigration *dep = migrate_catalog_find_migration(registry, count, lfirst(lc));

		if (dep != NULL && !migrate_catalog_is_done(dep))
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "after ", dep->version);
	}
	if (m->resume_statement > 0)
		appendStringInfo(&buf, "%sresumes at statement %d", buf.len ? "; " : "",
						 m->resume_statement);
	else if (strcmp(m->state, "failed") == 0)
		appendStringInfo(&buf, "%sretry after a failure", buf.len ? "; " : "");
	else if (migrate_catalog_is_reverted_state(m->state))
		appendStringInfo(&buf, "%sapplied again after a revert", buf.len ? "; " : "");
	else if (m->requeued)
		appendStringInfo(&buf, "%srepeatable, changed", buf.len ? "; " : "");
	if (buf.len == 0)
		appendStringInfoString(&buf, "pending");
	return buf.data;
}

/*
 * What plan() found when it looked at a migration's precondition.
 */
typedef struct PreconditionLook
{
	const char *run_as;			/* role it ran as, or NULL if it did not run */
	char	   *not_holding;	/* why it does not hold, or NULL */
	char	   *not_checked;	/* why it was not run, or NULL */
} PreconditionLook;

/*
 * The role plan() may run a precondition as: the role that registered it.
 * InvalidOid, with *why set, when that role is gone or the caller lacks its
 * privileges.  The second case matters because the precondition would see
 * the caller's search_path and temporary objects: a caller who could not
 * act as the registrant could shadow a function or relation the script
 * uses and have its own code run with the registrant's rights.
 */
static Oid
precondition_role(const MigrateMigration *m, char **why)
{
	Oid			role = m->registered_by ? get_role_oid(m->registered_by, true) : InvalidOid;

	if (!OidIsValid(role))
	{
		*why = psprintf("precondition not checked: role \"%s\", which registered it, no longer exists",
						m->registered_by ? m->registered_by : "");
		return InvalidOid;
	}
	if (!has_privs_of_role(GetUserId(), role))
	{
		*why = psprintf("precondition not checked: it runs only as role \"%s\", which registered it, and you do not have that role's privileges",
						m->registered_by);
		return InvalidOid;
	}
	return role;
}

/* a precondition to run as its registrant, and what it said */
typedef struct PreconditionRun
{
	const MigrateMigration *m;
	Oid			role;
	MemoryContext keep;
	char	   *failed;			/* the statement that did not hold, or NULL */
} PreconditionRun;

/* run it as the role, security-restricted, its settings scoped to it */
static void
run_precondition_as_registrant(void *arg)
{
	PreconditionRun *run = arg;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	char	   *failed;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(run->role, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	failed = migrate_engine_run_check(run->m->version, "precondition_script", "precondition");
	if (failed)
		run->failed = MemoryContextStrdup(run->keep, failed);
	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * Whether the precondition holds now.  It runs with the privileges of the
 * role that registered it, never the caller's: looking must not run
 * someone else's code with your rights.  As for an index expression that
 * VACUUM evaluates, the switch is a security-restricted operation (no SET
 * ROLE, no temporary objects, nothing that outlives it), under a GUC nest
 * level, in a subtransaction that is rolled back whatever the check does
 * (its abort restores the user and the settings after an error too).
 */
static PreconditionLook
precondition_now(const MigrateMigration *m)
{
	PreconditionLook look = {NULL, NULL, NULL};
	PreconditionRun run = {m, InvalidOid, CurrentMemoryContext, NULL};
	ErrorData  *edata;

	if (!m->has_precondition)
		return look;
	run.role = precondition_role(m, &look.not_checked);
	if (!OidIsValid(run.role))
		return look;
	look.run_as = m->registered_by;

	edata = migrate_xact_run_subxact(run_precondition_as_registrant, &run, false, NULL);
	look.not_holding = edata ? psprintf("error: %s", edata->message) : run.failed;
	return look;
}

/*
 * What the environment's guard rails (guard.c) make of a migration of the
 * plan, for plan()'s action, reason, skip and skip_reason columns (its
 * result shape stays): "skip" for one the environment skips
 * (@environments), "await approval" for one it requires the approval of,
 * "gated" for one a gate would refuse without force => true or an
 * approval; NULL action when the rails let it run.
 */
typedef struct GuardLook
{
	const char *action;
	char	   *reason;			/* appended to the reason, or NULL */
	char	   *skip_reason;	/* skipped for the environment, or NULL */
} GuardLook;

static GuardLook
guard_look(const MigrateEnvironment *env, const MigrateMigration *m, TimestampTz now)
{
	GuardLook	look = {NULL, NULL, NULL};
	MigrateGuardFacts facts;
	int			gates;
	StringInfoData buf;

	if (env->name == NULL)
		return look;
	if (!migrate_environment_allows(env, m))
	{
		look.action = "skip";
		look.skip_reason = psprintf("not for environment %s (@environments)", env->name);
		return look;
	}
	facts = migrate_guard_load_facts(env, m, DIRECTION_UP);
	gates = migrate_guard_gates(env, m, DIRECTION_UP, &facts, now);
	initStringInfo(&buf);
	if (migrate_guard_needs_approval(env, &facts))
	{
		look.action = "await approval";
		appendStringInfo(&buf, "waits for approval (environment %s requires approval%s)",
						 env->name,
						 facts.approved_by_registrant ?
						 "; approved by its registrant, which four_eyes does not count" : "");
	}
	if (gates != 0)
	{
		if (look.action == NULL)
			look.action = "gated";
		appendStringInfo(&buf, "%sgated in environment %s: %s; %s",
						 buf.len ? "; " : "", env->name,
						 migrate_guard_describe_gates(env, m, gates, &facts),
						 migrate_guard_gate_remedy(gates));
	}
	if (buf.len > 0)
		look.reason = buf.data;
	return look;
}

/* the columns 1.1 adds to plan(): lint findings, locks, derived risk */
#define PLAN_COLUMNS_1_0	16
#define PLAN_COLUMNS_1_1	20

/* the up scripts of the plan's migrations, read at once (version, script) */
typedef struct PlanScripts
{
	int			count;
	char	  **versions;
	char	  **scripts;
} PlanScripts;

/*
 * The up scripts of every migration of the plan, in ONE query however
 * long the plan is (plan() of a long history must not cost a round trip
 * per migration).  Read as the extension owner, as the engine reads them:
 * plan() is for migrate_admin, who may read scripts.
 */
static PlanScripts *
plan_load_up_scripts(List *plan)
{
	PlanScripts *scripts = palloc0(sizeof(PlanScripts));
	Datum	   *versions = palloc(sizeof(Datum) * Max(list_length(plan), 1));
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	ListCell   *lc;

	if (plan == NIL)
		return scripts;
	foreach(lc, plan)
		versions[foreach_current_index(lc)] =
			CStringGetTextDatum(((MigrateMigration *) lfirst(lc))->version);
	values[0] = PointerGetDatum(construct_array(versions, list_length(plan), TEXTOID,
												-1, false, TYPALIGN_INT));
	migrate_spi_run_as_owner("SELECT version, up_script FROM migrate.migration"
							 " WHERE version OPERATOR(pg_catalog.=) ANY ($1)",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	scripts->count = (int) SPI_processed;
	scripts->versions = palloc(sizeof(char *) * Max(scripts->count, 1));
	scripts->scripts = palloc(sizeof(char *) * Max(scripts->count, 1));
	for (int i = 0; i < scripts->count; i++)
	{
		scripts->versions[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		scripts->scripts[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}
	SPI_freetuptable(SPI_tuptable);
	return scripts;
}

static const char *
plan_up_script(const PlanScripts *scripts, const char *version)
{
	for (int i = 0; i < scripts->count; i++)
		if (strcmp(scripts->versions[i], version) == 0)
			return scripts->scripts[i];
	return NULL;
}

static Datum
text_array(List *texts)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(texts), 1));
	ListCell   *lc;

	foreach(lc, texts)
		elems[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(texts), TEXTOID,
										   -1, false, TYPALIGN_INT));
}

/*
 * Fill plan()'s 1.1 columns for one migration: derived_risk,
 * risk_reasons, findings ("warning rule (statement 2, line 5): message")
 * and locks ("ALTER TABLE public.orders: ACCESS EXCLUSIVE, rewrite,
 * 12 MB"), from its up script linted as register() lints it (the live
 * catalog, the session's environment) and its lock facts.  Nothing of the
 * script runs.
 */
static void
plan_analysis(const MigrateMigration *m, const PlanScripts *scripts,
			  const MigrateEnvironment *env, Datum *values, bool *nulls)
{
	const char *script = plan_up_script(scripts, m->version);
	MigrateParsedScript *parsed;
	MigrateHeader *header;
	MigrateLintOptions options;
	MigrateDerivedRisk risk;
	List	   *findings;
	List	   *sized;
	List	   *finding_texts = NIL;
	List	   *lock_texts = NIL;
	ListCell   *lc;

	for (int i = PLAN_COLUMNS_1_0; i < PLAN_COLUMNS_1_1; i++)
		nulls[i] = true;
	if (script == NULL)
		return;
	header = migrate_header_parse(script);
	parsed = migrate_parse_script(script, "up script");
	migrate_lint_options_init(&options, parsed, header, env);
	findings = migrate_lint_live(parsed, header, env);
	sized = migrate_risk_script_facts(parsed, &migrate_live_catalog_facts);
	risk = migrate_risk_derive(findings, sized, options.large_table_bytes);

	foreach(lc, findings)
	{
		MigrateLintFinding *f = lfirst(lc);

		finding_texts = lappend(finding_texts,
								psprintf("%s %s (statement %d, line %d): %s",
										 migrate_lint_severity_name(f->rule->severity),
										 f->rule->id, f->statement, f->line, f->message));
	}
	foreach(lc, sized)
	{
		MigrateSizedLockFact *s = lfirst(lc);

		if (s->fact->mode == NoLock)
			continue;
		lock_texts = lappend(lock_texts,
							 migrate_risk_describe_fact(parsed->statements[s->statement - 1].classified.command,
														s));
	}
	values[16] = CStringGetTextDatum(risk.level);
	values[17] = text_array(risk.reasons);
	values[18] = text_array(finding_texts);
	values[19] = text_array(lock_texts);
	for (int i = PLAN_COLUMNS_1_0; i < PLAN_COLUMNS_1_1; i++)
		nulls[i] = false;
}

/*
 * migrate.plan(target): what apply(target) would do, in order, without
 * doing it.  "wide": 1.1's result, with the lint and lock columns.
 */
static Datum
plan_rows(FunctionCallInfo fcinfo, bool wide)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	MigrateMigration *registry;
	int			count;
	List	   *plan;
	ListCell   *lc;
	PlanScripts *scripts;

	const MigrateEnvironment *env;
	TimestampTz now = GetCurrentTimestamp();

	migrate_materialize_srf(fcinfo);
	migrate_xact_spi_connect();
	env = migrate_environment_current();
	registry = migrate_catalog_load_registry(&count);
	plan = migrate_plan_apply(registry, count, target);
	scripts = wide ? plan_load_up_scripts(plan) : NULL;

	foreach(lc, plan)
	{
		MigrateMigration *m = lfirst(lc);
		Datum		values[PLAN_COLUMNS_1_1];
		bool		nulls[PLAN_COLUMNS_1_1] = {0};
		Datum		checks[2];
		int			nchecks = 0;
		GuardLook	guard = guard_look(env, m, now);
		PreconditionLook look = {NULL, NULL, NULL};
		bool		skip_mode = m->has_precondition &&
			strcmp(m->precondition_mode, "skip") == 0;
		char	   *reason = plan_reason(registry, count, m);

		/* one the environment skips runs nothing, its precondition neither */
		if (guard.skip_reason == NULL)
			look = precondition_now(m);
		if (guard.reason != NULL)
			reason = psprintf("%s; %s", reason, guard.reason);
		values[0] = Int32GetDatum(foreach_current_index(lc) + 1);
		values[1] = CStringGetTextDatum(m->version);
		values[2] = CStringGetTextDatum(m->name);
		values[3] = CStringGetTextDatum(guard.action ? guard.action : "apply");
		values[4] = CStringGetTextDatum(reason);
		values[5] = Int32GetDatum(m->statements);
		migrate_catalog_set_text_arg_bool(values, nulls, 6, m->risk_level);
		values[7] = PointerGetDatum(m->estimated_duration);
		nulls[7] = m->estimated_duration == NULL;
		values[8] = BoolGetDatum(m->zero_downtime == 1);
		nulls[8] = m->zero_downtime < 0;
		values[9] = BoolGetDatum(m->transactional);
		values[10] = CStringGetTextDatum(m->transactional ? "transaction" : "background worker");
		values[11] = BoolGetDatum(m->approved);
		if (m->has_precondition)
			checks[nchecks++] = CStringGetTextDatum(psprintf("precondition (%s)", m->precondition_mode));
		if (m->has_verify)
			checks[nchecks++] = CStringGetTextDatum("verify");
		values[12] = PointerGetDatum(construct_array(checks, nchecks, TEXTOID, -1, false, TYPALIGN_INT));
		/* a skip-mode precondition that was not run: whether it skips is unknown */
		values[13] = BoolGetDatum(look.not_holding != NULL && skip_mode);
		nulls[13] = look.not_checked != NULL && skip_mode;
		if (look.not_holding != NULL)
			values[14] = CStringGetTextDatum(psprintf("precondition does not hold now (%s): %s",
													  m->precondition_mode, look.not_holding));
		else if (look.not_checked != NULL)
			values[14] = CStringGetTextDatum(look.not_checked);
		nulls[14] = look.not_holding == NULL && look.not_checked == NULL;
		if (look.run_as != NULL)
			values[15] = DirectFunctionCall1(namein, CStringGetDatum(look.run_as));
		nulls[15] = look.run_as == NULL;
		if (guard.skip_reason != NULL)
		{
			values[13] = BoolGetDatum(true);
			nulls[13] = false;
			values[14] = CStringGetTextDatum(guard.skip_reason);
			nulls[14] = false;
		}
		if (wide)
			plan_analysis(m, scripts, env, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	PG_RETURN_VOID();
}

/* 1.0: sixteen columns */
Datum
migrate_plan(PG_FUNCTION_ARGS)
{
	return plan_rows(fcinfo, false);
}

/* 1.1: and derived_risk, risk_reasons, findings, locks */
Datum
migrate_plan_1_1(PG_FUNCTION_ARGS)
{
	return plan_rows(fcinfo, true);
}

/*
 * migrate.awaiting_approval(target): the versions a schedule that requires
 * approval waits for the approval of, in the order it reaches them.  The
 * scheduler (bgw/scheduler.c, plan_run) walks apply(target)'s plan, so
 * that dependencies ordered before the target count too, and checks
 * approval before the environment, so that a migration meant for another
 * environment is waited for all the same; a failed one waits for a fix
 * first, not for an approval.  Under the environment's rails (guard.c), an
 * approval by the registrant does not count where it requires four eyes,
 * and a migration the environment skips (@environments) needs none.  Runs
 * no script (unlike plan(), which runs preconditions).
 */
Datum
migrate_plan_awaiting_approval(PG_FUNCTION_ARGS)
{
	char	   *target = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext caller = CurrentMemoryContext;
	MigrateMigration *registry;
	int			count;
	List	   *plan;
	ListCell   *lc;
	Datum	   *versions;
	int			nversions = 0;
	ArrayType  *result;
	const MigrateEnvironment *env;

	migrate_xact_spi_connect();
	env = migrate_environment_current();
	registry = migrate_catalog_load_registry(&count);
	plan = migrate_plan_apply(registry, count, target);
	versions = MemoryContextAlloc(caller, sizeof(Datum) * Max(list_length(plan), 1));
	foreach(lc, plan)
	{
		MigrateMigration *m = lfirst(lc);
		MemoryContext old;

		if (strcmp(m->state, "failed") == 0 || !migrate_environment_allows(env, m))
			continue;
		if (migrate_guard_load_facts(env, m, DIRECTION_UP).approved)
			continue;
		old = MemoryContextSwitchTo(caller);
		versions[nversions++] = CStringGetTextDatum(m->version);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	result = construct_array(versions, nversions, TEXTOID, -1, false, TYPALIGN_INT);
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * The last migration of the next chunk of at most batch_size migrations of
 * apply(target)'s plan that are not in "passed" (a List of versions), or
 * NULL when the plan holds none.  The migrations of "passed" are counted
 * out of the chunk, not out of the plan: they stay in it, before and among
 * the others (deploy.c passes the ones whose skip-mode precondition did
 * not hold, which stay pending and would otherwise fill every chunk).
 *
 * Why apply(the version returned) runs exactly the chunk: the plan is a
 * prefix of one order of every pending migration (dependencies first,
 * ties in version order), which does not depend on the target, and a
 * target only cuts that order after itself (migrate_plan_apply).  So the
 * plan of any migration of apply(target)'s plan is the part of that plan
 * up to it, dependencies included, whatever the dependencies are.  Once
 * the chunk is applied, the order of what remains is the rest of the same
 * order: the ordering (model/order.c) takes, at each step, the lowest
 * version whose dependencies are all placed or applied, and after the
 * chunk exactly the same migrations are ready as when the chunk had just
 * been placed.
 */
MigrateMigration *
migrate_plan_batch_end(List *plan, int batch_size, List *passed)
{
	MigrateMigration *end = NULL;
	int			counted = 0;
	ListCell   *lc;

	foreach(lc, plan)
	{
		MigrateMigration *m = lfirst(lc);
		ListCell   *p;
		bool		is_passed = false;

		foreach(p, passed)
		{
			if (strcmp(lfirst(p), m->version) == 0)
				is_passed = true;
		}
		if (is_passed)
			continue;
		end = m;
		if (++counted == batch_size)
			break;
	}
	return end;
}

/*
 * migrate.batch_target(target, batch_size): the version that ends the next
 * chunk of at most batch_size migrations of apply(target)'s plan, so that
 * apply(batch_target(target, n)) runs exactly the first n (or fewer, at
 * the end) and nothing else; NULL when nothing is pending.  Called until
 * it returns NULL, each apply() in a transaction of its own, it applies a
 * long history in chunks that each take a bounded number of locks.  Runs
 * nothing and takes no lock: apply() checks the plan again.
 */
Datum
migrate_batch_target(PG_FUNCTION_ARGS)
{
	char	   *target = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext caller = CurrentMemoryContext;
	MigrateMigration *registry;
	MigrateMigration *end;
	int			count;
	int			batch_size;
	text	   *result = NULL;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("batch_size must not be null")));
	batch_size = PG_GETARG_INT32(1);
	if (batch_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1"),
				 errdetail("batch_size was %d.", batch_size)));

	migrate_xact_spi_connect();
	registry = migrate_catalog_load_registry(&count);
	end = migrate_plan_batch_end(migrate_plan_apply(registry, count, target), batch_size, NIL);
	if (end != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		result = cstring_to_text(end->version);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(result);
}
