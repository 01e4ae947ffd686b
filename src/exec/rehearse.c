/*-------------------------------------------------------------------------
 *
 * rehearse.c
 *	  migrate.rehearse(): prove that each down script undoes its up script.
 *
 * For each pending migration, in plan order, inside a subtransaction that
 * is rolled back at the end:
 *
 *	 1. snapshot the schema (schema_objects(), and with data => true the
 *		row count and content hash of every user table);
 *	 2. run up, snapshot;
 *	 3. run down, snapshot, compare with 1: the down script must restore
 *		the schema (and data) exactly;
 *	 4. run up again, snapshot, compare with 2: the migration must apply
 *		again after its revert;
 *	 5. roll back 3 and 4, keep 2, go on with the next migration.
 *
 * Steps 3-4 run in a nested subtransaction, so a down script that fails
 * outright is reported and the rehearsal goes on from the state after 2.
 * An up script that fails (or its verify script) stops the rehearsal: what
 * follows depends on it.  A precondition that does not hold skips the
 * migration (skip mode) or stops the rehearsal (fail mode), as apply()
 * would.  With from_version, pending migrations before it are applied
 * without being rehearsed, so that the range starts where it would.  One
 * row per migration says ok, or which step failed and which objects
 * differ.
 *
 * Statements that cannot run in a transaction block are rehearsed in
 * their transactional form: CREATE INDEX CONCURRENTLY as CREATE INDEX,
 * DROP INDEX CONCURRENTLY as DROP INDEX, DETACH PARTITION CONCURRENTLY as
 * DETACH PARTITION; the schema they leave is the same.  Maintenance
 * statements without a schema effect (VACUUM, REINDEX, CLUSTER ...) are
 * skipped.
 *
 * IDENTIFICATION
 *	  src/exec/rehearse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "store/catalog.h"
#include "compat.h"
#include "exec/engine.h"
#include "errors.h"
#include "store/lock.h"
#include "exec/plan.h"
#include "exec/topstmt.h"
#include "model/version.h"

PG_FUNCTION_INFO_V1(migrate_rehearse);

/* one object of a schema snapshot */
typedef struct SnapObject
{
	char	   *kind;
	char	   *identity;
	char	   *definition;
	char	   *hash;
} SnapObject;

typedef struct SchemaSnapshot
{
	int			count;
	SnapObject *objects;		/* sorted by kind, identity */
} SchemaSnapshot;

/* what one migration's rehearsal found */
typedef struct Finding
{
	const char *failed_step;	/* NULL when ok */
	char	   *differences;	/* JSON array, or NULL */
	char	   *error;			/* message of a failed step, or NULL */
} Finding;

/*
 * The schema (and with "data" the table contents) now, copied into
 * "keep".
 */
static SchemaSnapshot *
take_snapshot(bool data, MemoryContext keep)
{
	SchemaSnapshot   *snap;
	const char *sql = data ?
		"SELECT * FROM (SELECT kind, identity, definition, hash FROM migrate.schema_objects()"
		"               UNION ALL"
		"               SELECT 'data', identity, definition, definition FROM migrate.table_data()) o"
		" ORDER BY kind COLLATE \"C\", identity COLLATE \"C\"" :
		"SELECT kind, identity, definition, hash FROM migrate.schema_objects()"
		" ORDER BY kind COLLATE \"C\", identity COLLATE \"C\"";

	/* the C collation orders like strcmp, which diff_snapshots relies on */
	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not take a schema snapshot");
	snap = MemoryContextAllocZero(keep, sizeof(SchemaSnapshot));
	snap->count = SPI_processed;
	snap->objects = MemoryContextAllocZero(keep, sizeof(SnapObject) * Max(snap->count, 1));
	for (int i = 0; i < snap->count; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		SnapObject *o = &snap->objects[i];
		char	   *definition = SPI_getvalue(tuple, desc, 3);

		o->kind = MemoryContextStrdup(keep, SPI_getvalue(tuple, desc, 1));
		o->identity = MemoryContextStrdup(keep, SPI_getvalue(tuple, desc, 2));
		o->definition = definition ? MemoryContextStrdup(keep, definition) : NULL;
		o->hash = MemoryContextStrdup(keep, SPI_getvalue(tuple, desc, 4));
	}
	SPI_freetuptable(SPI_tuptable);
	return snap;
}

static int
compare_objects(const SnapObject *a, const SnapObject *b)
{
	int			cmp = strcmp(a->kind, b->kind);

	return cmp != 0 ? cmp : strcmp(a->identity, b->identity);
}

static void
append_difference(StringInfo buf, const char *change, const SnapObject *o,
				  const char *before, const char *after)
{
	appendStringInfo(buf, "%s{\"change\": \"%s\", \"kind\": ", buf->len > 1 ? ", " : "", change);
	escape_json(buf, o->kind);
	appendStringInfoString(buf, ", \"identity\": ");
	escape_json(buf, o->identity);
	appendStringInfoString(buf, ", \"expected\": ");
	if (before)
		escape_json(buf, before);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ", \"found\": ");
	if (after)
		escape_json(buf, after);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoChar(buf, '}');
}

/*
 * What differs between the expected snapshot and the one found, as a JSON
 * array; NULL when they are the same.  Both are sorted, so one merge pass.
 */
static char *
diff_snapshots(const SchemaSnapshot *expected, const SchemaSnapshot *found)
{
	StringInfoData buf;
	int			i = 0,
				j = 0;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	while (i < expected->count || j < found->count)
	{
		int			cmp = i >= expected->count ? 1 : j >= found->count ? -1 :
			compare_objects(&expected->objects[i], &found->objects[j]);

		if (cmp < 0)
		{
			append_difference(&buf, "missing", &expected->objects[i],
							  expected->objects[i].definition, NULL);
			i++;
		}
		else if (cmp > 0)
		{
			append_difference(&buf, "extra", &found->objects[j], NULL,
							  found->objects[j].definition);
			j++;
		}
		else
		{
			if (strcmp(expected->objects[i].hash, found->objects[j].hash) != 0)
				append_difference(&buf, "changed", &expected->objects[i],
								  expected->objects[i].definition,
								  found->objects[j].definition);
			i++;
			j++;
		}
	}
	appendStringInfoChar(&buf, ']');
	return buf.len > 2 ? buf.data : NULL;
}

/*
 * Run one statement as the rehearsal does: through SPI, or, for a
 * statement that cannot run in a transaction block, in its transactional
 * form (or not at all, for maintenance without a schema effect).  The
 * rehearsal's MigrateStatementExecutor (engine.c); it counts no rows.
 */
static uint64
rehearse_statement(const ParsedScript *script, const ScriptStatement *stmt)
{
	Node	   *tree;
	RawStmt    *raw;
	char	   *text = migrate_statement_text(script, stmt);

	if (stmt->transactional)
	{
		if (SPI_execute(text, false, 0) < 0)
			elog(ERROR, "SPI_execute failed");
		SPI_freetuptable(SPI_tuptable);
		return 0;
	}

	tree = copyObject(stmt->parsetree);
	if (IsA(tree, IndexStmt))
		((IndexStmt *) tree)->concurrent = false;
	else if (IsA(tree, DropStmt))
		((DropStmt *) tree)->concurrent = false;
#ifdef MIGRATE_HAVE_DETACH_CONCURRENTLY
	else if (IsA(tree, AlterTableStmt))
	{
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) tree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_DetachPartition)
				((PartitionCmd *) cmd->def)->concurrent = false;
		}
	}
#endif
	else
		return 0;				/* VACUUM, REINDEX, CLUSTER ...: no schema effect */

	raw = makeNode(RawStmt);
	raw->stmt = tree;
	raw->stmt_location = -1;
	raw->stmt_len = 0;
	migrate_exec_raw(raw, text, false);
	return 0;
}

/*
 * Run the up or down script of a migration as the rehearsal does, through
 * the engine's script runner, as apply() would: its settings last until
 * it ends, a SET in one script reaches neither the next script nor the
 * caller, and an error names the migration and statement.
 */
static void
rehearse_script(MigrateRunState *state)
{
	state->script = migrate_load_parsed(state);
	(void) migrate_engine_run_script(state, rehearse_statement);
}

/*
 * Run one step in the current subtransaction; on error, roll the
 * subtransaction back and return the message (else NULL, subtransaction
 * still open).
 */
typedef void (*StepFunction) (void *arg);

static char *
try_step(StepFunction step, void *arg, MemoryContext keep)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *volatile message = NULL;

	PG_TRY();
	{
		step(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(keep);
		edata = CopyErrorData();
		FlushErrorState();
		message = edata->context ?
			psprintf("%s (%s)", edata->message, edata->context) : pstrdup(edata->message);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	return message;
}

/* arguments of a rehearsal step */
typedef struct StepArgs
{
	MigrateRunState *state;
	bool		data;
	MemoryContext keep;
	SchemaSnapshot   *before_up;
	SchemaSnapshot   *after_up;
	Finding    *finding;
	char	   *failed_check;	/* precondition: the statement that failed */
} StepArgs;

/* up, with its verify script, as apply() would run it */
static void
step_up(void *arg)
{
	StepArgs   *args = arg;

	args->state->direction = DIRECTION_UP;
	rehearse_script(args->state);
	migrate_engine_verify(args->state, &args->finding->failed_step);
	args->after_up = take_snapshot(args->data, args->keep);
}

/* down, compare with before up; up again, compare with after up */
static void
step_down_and_up(void *arg)
{
	StepArgs   *args = arg;
	SchemaSnapshot   *snap;

	args->finding->failed_step = "down";
	args->state->direction = DIRECTION_DOWN;
	rehearse_script(args->state);
	snap = take_snapshot(args->data, args->keep);
	args->finding->differences = diff_snapshots(args->before_up, snap);
	if (args->finding->differences)
	{
		args->finding->failed_step = "down does not restore the state before up";
		return;
	}

	args->finding->failed_step = "up after down";
	args->state->direction = DIRECTION_UP;
	rehearse_script(args->state);
	snap = take_snapshot(args->data, args->keep);
	args->finding->differences = diff_snapshots(args->after_up, snap);
	args->finding->failed_step = args->finding->differences ?
		"up after down gives a different state" : NULL;
}

static void
begin_sub(void)
{
	MemoryContext oldcontext = CurrentMemoryContext;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
}

static void
end_sub(bool commit, MemoryContext context, ResourceOwner owner)
{
	if (commit)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
}

/*
 * Rehearse one migration; the state is left as after its up script.
 * Returns false when its up script failed (nothing after it can run).
 */
static bool
rehearse_one(MigrationInfo *m, bool data, MemoryContext keep, Finding *finding)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MigrateRunState state;
	StepArgs	args = {&state, data, keep, NULL, NULL, finding, NULL};
	ErrorContextCallback errcallback;
	char	   *error;

	migrate_run_state_init(&state, DIRECTION_UP, NULL);
	state.current = m;
	migrate_push_run_errcallback(&state, &errcallback);
	args.before_up = take_snapshot(data, keep);

	begin_sub();
	error = try_step(step_up, &args, keep);
	if (error)
	{
		error_context_stack = errcallback.previous;
		if (finding->failed_step == NULL)
			finding->failed_step = "up";
		finding->error = error;
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		return false;
	}

	if (!m->has_down)
		finding->failed_step = "no down script";
	else
	{
		begin_sub();
		error = try_step(step_down_and_up, &args, keep);
		if (error)
			finding->error = error;
		else
			end_sub(false, context, owner);
	}
	error_context_stack = errcallback.previous;
	end_sub(true, context, owner);
	return true;
}

static void
add_row(ReturnSetInfo *rsinfo, int position, const MigrationInfo *m, const Finding *f)
{
	Datum		values[7];
	bool		nulls[7] = {0};

	values[0] = Int32GetDatum(position);
	values[1] = CStringGetTextDatum(m->version);
	values[2] = CStringGetTextDatum(m->name);
	values[3] = BoolGetDatum(f->failed_step == NULL);
	migrate_set_text_arg_bool(values, nulls, 4, f->failed_step);
	values[5] = f->differences ?
		DirectFunctionCall1(jsonb_in, CStringGetDatum(f->differences)) : (Datum) 0;
	nulls[5] = f->differences == NULL;
	migrate_set_text_arg_bool(values, nulls, 6, f->error);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Run the up script of a migration before the rehearsed range, to bring
 * the schema to where the range starts.  Returns an error message, or NULL.
 */
static char *
apply_before_range(MigrationInfo *m, MemoryContext keep)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MigrateRunState state;
	Finding		finding = {NULL, NULL, NULL};
	StepArgs	args = {&state, false, keep, NULL, NULL, &finding, NULL};
	char	   *error;

	migrate_run_state_init(&state, DIRECTION_UP, NULL);
	state.current = m;
	begin_sub();
	error = try_step(step_up, &args, keep);
	if (error == NULL)
		end_sub(true, context, owner);
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	return error;
}

/*
 * A precondition that does not hold: in skip mode the migration is not
 * rehearsed (apply() would skip it), in fail mode the rehearsal stops, in
 * warn mode it goes on.  Returns false when the migration is not to be
 * rehearsed; *stop says whether to stop altogether.
 */
static void
step_precondition(void *arg)
{
	StepArgs   *args = arg;
	MigrationInfo *m = args->state->current;
	char	   *failed = migrate_run_check(m->version, "precondition_script", "precondition");

	args->failed_check = failed ? MemoryContextStrdup(args->keep, failed) : NULL;
}

static bool
precondition_allows(MigrationInfo *m, MemoryContext keep, Finding *finding, bool *stop)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MigrateRunState state;
	StepArgs	args = {&state, false, keep, NULL, NULL, finding, NULL};
	char	   *error;

	*stop = false;
	if (!m->has_precondition)
		return true;

	/* the check runs in a subtransaction of its own, rolled back after */
	migrate_run_state_init(&state, DIRECTION_UP, NULL);
	state.current = m;
	begin_sub();
	error = try_step(step_precondition, &args, keep);
	if (error)
	{
		finding->failed_step = "precondition";
		finding->error = error;
		*stop = true;
		return false;
	}
	end_sub(false, context, owner);

	if (args.failed_check == NULL || strcmp(m->precondition_mode, "warn") == 0)
		return true;
	finding->failed_step = strcmp(m->precondition_mode, "skip") == 0 ?
		"skipped: precondition does not hold" : "precondition does not hold";
	finding->error = psprintf("Check: %s", args.failed_check);
	*stop = strcmp(m->precondition_mode, "fail") == 0;
	return false;
}

/*
 * migrate.rehearse(from_version, to_version, data)
 */
Datum
migrate_rehearse(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *from = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *to = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		data = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	MemoryContext context;
	ResourceOwner owner = CurrentResourceOwner;
	MigrationInfo *registry;
	int			count;
	List	   *plan;
	bytea	   *from_key;
	int			level;
	ListCell   *lc;

	migrate_materialize_srf(fcinfo);
	migrate_lock_acquire();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	context = CurrentMemoryContext;
	registry = migrate_load_registry(&count);
	plan = migrate_plan_apply(registry, count, to);
	from_key = from ? migrate_make_version_key(from) : NULL;
	migrate_warn_foreign_scripts(plan, "rehearsal");

	/* everything happens in here, and is rolled back at the end */
	level = GetCurrentTransactionNestLevel();
	begin_sub();
	migrate_set_running(true);
	PG_TRY();
	{
		foreach(lc, plan)
		{
			MigrationInfo *m = lfirst(lc);
			Finding		finding = {NULL, NULL, NULL};
			bool		stop = false;

			if (from_key && migrate_compare_version_keys(m->key, from_key) < 0)
			{
				/* before the range: applied, not rehearsed */
				finding.error = apply_before_range(m, context);
				if (finding.error == NULL)
					continue;
				finding.failed_step = "up (before the rehearsed range)";
				stop = true;
			}
			else if (precondition_allows(m, context, &finding, &stop))
				stop = !rehearse_one(m, data, context, &finding);

			add_row(rsinfo, foreach_current_index(lc) + 1, m, &finding);
			if (stop)
				break;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		migrate_set_running(false);
		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		while (GetCurrentTransactionNestLevel() > level)
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	migrate_set_running(false);
	end_sub(false, context, owner);

	SPI_finish();
	PG_RETURN_VOID();
}
