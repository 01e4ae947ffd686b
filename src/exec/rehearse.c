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
 * their transactional form (classify.c): CREATE INDEX CONCURRENTLY as
 * CREATE INDEX, DROP INDEX CONCURRENTLY as DROP INDEX, DETACH PARTITION
 * CONCURRENTLY as DETACH PARTITION; the schema they leave is the same.
 * The others (VACUUM, REINDEX, CREATE DATABASE, ALTER SYSTEM ...) cannot
 * be run here at all: 1.1's rehearse() lists each in its not_rehearsed
 * column with the reason and whether it changes the schema, so that a
 * rehearsal that proved less than it seems says so.
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
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"

#include "store/catalog.h"
#include "compat.h"
#include "exec/engine.h"
#include "errors.h"
#include "store/lock.h"
#include "exec/plan.h"
#include "exec/topstmt.h"
#include "model/classify.h"
#include "model/version.h"
#include "ipc/migrating.h"
#include "ipc/xact.h"
#include "model/json.h"

PG_FUNCTION_INFO_V1(migrate_rehearse);
PG_FUNCTION_INFO_V1(migrate_rehearse_1_1);

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

/* a statement the rehearsal could not run */
typedef struct NotRehearsed
{
	const char *script;			/* "up" or "down" */
	int			statement;		/* its number in the script */
	int			line;
	char	   *command;		/* command tag */
	char	   *reason;			/* why it cannot run in a transaction */
	bool		changes_schema; /* so the comparison misses its effect */
} NotRehearsed;

/* what one migration's rehearsal found */
typedef struct Finding
{
	const char *failed_step;	/* NULL when ok */
	Jsonb	   *differences;	/* array of differences, or NULL */
	char	   *error;			/* message of a failed step, or NULL */
	List	   *not_rehearsed;	/* of NotRehearsed, in the order met */
	bool		noted[2];		/* up, down: its statements were noted */
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
		" ORDER BY kind COLLATE pg_catalog.\"C\", identity COLLATE pg_catalog.\"C\"" :
		"SELECT kind, identity, definition, hash FROM migrate.schema_objects()"
		" ORDER BY kind COLLATE pg_catalog.\"C\", identity COLLATE pg_catalog.\"C\"";

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

/* one element of the differences array */
static void
add_difference(MigrateJsonBuilder *b, const char *change, const SnapObject *o,
			   const char *before, const char *after)
{
	migrate_json_begin_object(b, NULL);
	migrate_json_add_text(b, "change", change);
	migrate_json_add_text(b, "kind", o->kind);
	migrate_json_add_text(b, "identity", o->identity);
	migrate_json_add_text(b, "expected", before);
	migrate_json_add_text(b, "found", after);
	migrate_json_end(b);
}

/*
 * What differs between the expected snapshot and the one found, as a jsonb
 * array; NULL when they are the same.  Both are sorted, so one merge pass.
 */
static Jsonb *
diff_snapshots(const SchemaSnapshot *expected, const SchemaSnapshot *found)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;
	int			i = 0,
				j = 0;
	bool		differ = false;

	migrate_json_begin_array(&b, NULL);
	while (i < expected->count || j < found->count)
	{
		int			cmp = i >= expected->count ? 1 : j >= found->count ? -1 :
			compare_objects(&expected->objects[i], &found->objects[j]);

		if (cmp < 0)
		{
			add_difference(&b, "missing", &expected->objects[i],
						   expected->objects[i].definition, NULL);
			differ = true;
			i++;
		}
		else if (cmp > 0)
		{
			add_difference(&b, "extra", &found->objects[j], NULL,
						   found->objects[j].definition);
			differ = true;
			j++;
		}
		else
		{
			if (strcmp(expected->objects[i].hash, found->objects[j].hash) != 0)
			{
				add_difference(&b, "changed", &expected->objects[i],
							   expected->objects[i].definition,
							   found->objects[j].definition);
				differ = true;
			}
			i++;
			j++;
		}
	}
	migrate_json_end(&b);
	return differ ? migrate_json_finish(&b) : NULL;
}

/*
 * Where rehearse_statement() notes a statement it could not run.  The
 * engine's script runner calls an executor with the script and statement
 * only, so rehearse_script() says here, for the one script it runs, which
 * finding the statements belong to, which script it is, and the memory
 * context that outlives the rehearsal's subtransactions.
 */
typedef struct Noting
{
	Finding    *finding;		/* NULL outside rehearse_script() */
	MigrateDirection	direction;
	MemoryContext keep;
} Noting;

static Noting noting;

/*
 * Note a statement the rehearsal could not run, unless this script's
 * statements were noted already (the up script runs twice).
 */
static void
note_not_rehearsed(const MigrateStatement *stmt)
{
	MemoryContext old;
	NotRehearsed *entry;

	Assert(noting.finding != NULL);
	if (noting.finding->noted[noting.direction == DIRECTION_DOWN])
		return;
	old = MemoryContextSwitchTo(noting.keep);
	entry = palloc(sizeof(NotRehearsed));
	entry->script = migrate_engine_script_name(noting.direction);
	entry->statement = stmt->number;
	entry->line = stmt->line;
	entry->command = pstrdup(stmt->classified.command);
	entry->reason = pstrdup(stmt->classified.nontransactional_reason);
	entry->changes_schema = stmt->classified.changes_schema;
	noting.finding->not_rehearsed = lappend(noting.finding->not_rehearsed, entry);
	MemoryContextSwitchTo(old);
}

/*
 * Run one statement as the rehearsal does: through SPI, or, for a
 * statement that cannot run in a transaction block, in its transactional
 * form (classify.c).  A statement with no such form is not run: it is
 * noted as not rehearsed (see Noting).  The rehearsal's
 * MigrateStatementExecutor (engine.c); it counts no rows.
 */
static uint64
rehearse_statement(const MigrateParsedScript *script, const MigrateStatement *stmt)
{
	Node	   *tree;
	RawStmt    *raw;
	char	   *text = migrate_parse_statement_text(script, stmt);

	if (stmt->classified.transactional)
	{
		if (SPI_execute(text, false, 0) < 0)
			elog(ERROR, "SPI_execute failed");
		SPI_freetuptable(SPI_tuptable);
		return 0;
	}

	tree = migrate_classify_transactional_form(stmt->parsetree);
	if (tree == NULL)
	{
		note_not_rehearsed(stmt);
		return 0;
	}
	raw = makeNode(RawStmt);
	raw->stmt = tree;
	raw->stmt_location = -1;
	raw->stmt_len = 0;
	migrate_topstmt_exec_raw(raw, text, false);
	return 0;
}

/*
 * Run the up or down script of a migration as the rehearsal does, through
 * the engine's script runner, as apply() would: its settings last until
 * it ends, a SET in one script reaches neither the next script nor the
 * caller, and an error names the migration and statement.  Statements it
 * could not run are noted in the finding, once per script (the up script
 * runs twice).
 */
static void
rehearse_script(MigrateRunState *state, Finding *finding, MemoryContext keep)
{
	state->script = migrate_engine_load_parsed(state);
	noting.finding = finding;
	noting.direction = state->direction;
	noting.keep = keep;
	/* the record points into the caller's frame: never leave it behind */
	PG_TRY();
	{
		(void) migrate_engine_run_script(state, rehearse_statement);
		finding->noted[state->direction == DIRECTION_DOWN] = true;
	}
	PG_FINALLY();
	{
		noting.finding = NULL;
	}
	PG_END_TRY();
}

/*
 * Run one step in a subtransaction of its own (migrate_xact_run_subxact): when
 * it succeeds its work is kept ("keep") or rolled back; when it fails it is
 * rolled back, and the message (with where it happened) is returned, in
 * the caller's memory context.  NULL when it succeeded.
 */
static char *
try_step(MigrateSubxactBody step, void *arg, bool keep)
{
	ErrorData  *edata = migrate_xact_run_subxact(step, arg, keep, NULL);

	if (edata == NULL)
		return NULL;
	/* a cancel or statement timeout stops the rehearsal: it is no finding */
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	return edata->context ?
		psprintf("%s (%s)", edata->message, edata->context) : pstrdup(edata->message);
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
	rehearse_script(args->state, args->finding, args->keep);
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
	rehearse_script(args->state, args->finding, args->keep);
	snap = take_snapshot(args->data, args->keep);
	args->finding->differences = diff_snapshots(args->before_up, snap);
	if (args->finding->differences)
	{
		args->finding->failed_step = "down does not restore the state before up";
		return;
	}

	args->finding->failed_step = "up after down";
	args->state->direction = DIRECTION_UP;
	rehearse_script(args->state, args->finding, args->keep);
	snap = take_snapshot(args->data, args->keep);
	args->finding->differences = diff_snapshots(args->after_up, snap);
	args->finding->failed_step = args->finding->differences ?
		"up after down gives a different state" : NULL;
}

/*
 * Up, kept; then, in a nested subtransaction that is always rolled back,
 * down and up again.  A failure of down or of up again is the finding; a
 * failure of the first up is an error of the whole step.
 */
static void
step_up_down_up(void *arg)
{
	StepArgs   *args = arg;
	char	   *error;

	step_up(args);
	if (!args->state->current->has_down)
	{
		args->finding->failed_step = "no down script";
		return;
	}
	error = try_step(step_down_and_up, args, false);
	if (error)
		args->finding->error = error;
}

/*
 * Rehearse one migration; the state is left as after its up script.
 * Returns false when its up script failed (nothing after it can run).
 */
static bool
rehearse_one(MigrateMigration *m, bool data, MemoryContext keep, Finding *finding)
{
	MigrateRunState state;
	StepArgs	args = {&state, data, keep, NULL, NULL, finding, NULL};
	ErrorContextCallback errcallback;
	char	   *error;

	migrate_engine_init_state(&state, DIRECTION_UP, NULL);
	state.current = m;
	migrate_engine_push_errcallback(&state, &errcallback);
	args.before_up = take_snapshot(data, keep);

	error = try_step(step_up_down_up, &args, true);
	error_context_stack = errcallback.previous;
	if (error)
	{
		if (finding->failed_step == NULL)
			finding->failed_step = "up";
		finding->error = error;
		return false;
	}
	return true;
}

/*
 * The statements a rehearsal could not run, as the jsonb array of the
 * not_rehearsed column: [{"script", "statement", "line", "command",
 * "reason", "changes_schema"}, ...].
 */
static Datum
not_rehearsed_jsonb(List *entries)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;
	ListCell   *lc;

	migrate_json_begin_array(&b, NULL);
	foreach(lc, entries)
	{
		NotRehearsed *entry = lfirst(lc);

		migrate_json_begin_object(&b, NULL);
		migrate_json_add_text(&b, "script", entry->script);
		migrate_json_add_int(&b, "statement", entry->statement);
		migrate_json_add_int(&b, "line", entry->line);
		migrate_json_add_text(&b, "command", entry->command);
		migrate_json_add_text(&b, "reason", entry->reason);
		migrate_json_add_bool(&b, "changes_schema", entry->changes_schema);
		migrate_json_end(&b);
	}
	migrate_json_end(&b);
	return JsonbPGetDatum(migrate_json_finish(&b));
}

/*
 * One result row.  "with_not_rehearsed" adds the eighth column of 1.1's
 * rehearse(); 1.0's has seven.
 */
static void
add_row(ReturnSetInfo *rsinfo, int position, const MigrateMigration *m, const Finding *f,
		bool with_not_rehearsed)
{
	Datum		values[8];
	bool		nulls[8] = {0};

	values[0] = Int32GetDatum(position);
	values[1] = CStringGetTextDatum(m->version);
	values[2] = CStringGetTextDatum(m->name);
	values[3] = BoolGetDatum(f->failed_step == NULL);
	migrate_catalog_set_text_arg_bool(values, nulls, 4, f->failed_step);
	values[5] = f->differences ? JsonbPGetDatum(f->differences) : (Datum) 0;
	nulls[5] = f->differences == NULL;
	migrate_catalog_set_text_arg_bool(values, nulls, 6, f->error);
	if (with_not_rehearsed)
	{
		values[7] = f->not_rehearsed ? not_rehearsed_jsonb(f->not_rehearsed) : (Datum) 0;
		nulls[7] = f->not_rehearsed == NIL;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Run the up script of a migration before the rehearsed range, to bring
 * the schema to where the range starts.  Returns an error message, or NULL.
 */
static char *
apply_before_range(MigrateMigration *m, MemoryContext keep)
{
	MigrateRunState state;
	Finding		finding = {NULL, NULL, NULL};
	StepArgs	args = {&state, false, keep, NULL, NULL, &finding, NULL};

	migrate_engine_init_state(&state, DIRECTION_UP, NULL);
	state.current = m;
	return try_step(step_up, &args, true);
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
	MigrateMigration *m = args->state->current;
	char	   *failed = migrate_engine_run_check(m->version, "precondition_script", "precondition");

	args->failed_check = failed ? MemoryContextStrdup(args->keep, failed) : NULL;
}

/*
 * Whether the rehearsal goes on to rehearse migration "m": its precondition
 * (if any) is evaluated in a rolled-back subtransaction, as apply() would.
 * When it does not hold, the finding says so and *stop says whether the
 * mode (fail) ends the rehearsal.
 */
static bool
rehearsal_precondition_allows(MigrateMigration *m, MemoryContext keep, Finding *finding, bool *stop)
{
	MigrateRunState state;
	StepArgs	args = {&state, false, keep, NULL, NULL, finding, NULL};
	char	   *error;

	*stop = false;
	if (!m->has_precondition)
		return true;

	/* the check runs in a subtransaction of its own, rolled back after */
	migrate_engine_init_state(&state, DIRECTION_UP, NULL);
	state.current = m;
	error = try_step(step_precondition, &args, false);
	if (error)
	{
		finding->failed_step = "precondition";
		finding->error = error;
		*stop = true;
		return false;
	}

	if (args.failed_check == NULL || strcmp(m->precondition_mode, "warn") == 0)
		return true;
	finding->failed_step = strcmp(m->precondition_mode, "skip") == 0 ?
		"skipped: precondition does not hold" : "precondition does not hold";
	finding->error = psprintf("Check: %s", args.failed_check);
	*stop = strcmp(m->precondition_mode, "fail") == 0;
	return false;
}

/* a whole rehearsal: the plan, and where its rows go */
typedef struct Rehearsal
{
	ReturnSetInfo *rsinfo;
	List	   *plan;
	bytea	   *from_key;		/* NULL: rehearse the whole plan */
	bool		data;
	bool		with_not_rehearsed; /* 1.1's result row, see add_row() */
	MemoryContext keep;
} Rehearsal;

/* rehearse every migration of the plan, a row for each, until one stops it */
static void
rehearse_plan(void *arg)
{
	Rehearsal  *r = arg;
	ListCell   *lc;

	foreach(lc, r->plan)
	{
		MigrateMigration *m = lfirst(lc);
		Finding		finding = {NULL, NULL, NULL};
		bool		stop = false;

		if (r->from_key && migrate_version_compare_keys(m->key, r->from_key) < 0)
		{
			/* before the range: applied, not rehearsed */
			finding.error = apply_before_range(m, r->keep);
			if (finding.error == NULL)
				continue;
			finding.failed_step = "up (before the rehearsed range)";
			stop = true;
		}
		else if (rehearsal_precondition_allows(m, r->keep, &finding, &stop))
			stop = !rehearse_one(m, r->data, r->keep, &finding);

		add_row(r->rsinfo, foreach_current_index(lc) + 1, m, &finding,
				r->with_not_rehearsed);
		if (stop)
			break;
	}
}

/*
 * migrate.rehearse(from_version, to_version, data), for both SQL
 * signatures: "with_not_rehearsed" for 1.1's, which has the
 * not_rehearsed column.
 */
static Datum
rehearse(FunctionCallInfo fcinfo, bool with_not_rehearsed)
{
	char	   *from = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *to = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Rehearsal	r;
	MigrateMigration *registry;
	int			count;
	ErrorData  *edata;

	migrate_materialize_srf(fcinfo);
	migrate_lock_acquire();
	migrate_xact_spi_connect();
	r.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	r.data = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	r.with_not_rehearsed = with_not_rehearsed;
	r.keep = CurrentMemoryContext;
	registry = migrate_catalog_load_registry(&count);
	r.plan = migrate_plan_apply(registry, count, to);
	r.from_key = from ? migrate_version_make_key(from) : NULL;
	migrate_engine_warn_foreign_scripts(r.plan, "rehearsal");

	/* everything happens in here, and is rolled back at the end */
	migrate_lock_set_running(true);
	migrate_migrating_set(true);
	edata = migrate_xact_run_subxact(rehearse_plan, &r, false, NULL);
	migrate_lock_set_running(false);
	migrate_migrating_set(false);
	if (edata != NULL)
		ReThrowError(edata);

	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * 1.0's migrate.rehearse(): seven columns; what could not be rehearsed is
 * not reported.  Kept for a 1.0 catalog running this library.
 */
Datum
migrate_rehearse(PG_FUNCTION_ARGS)
{
	return rehearse(fcinfo, false);
}

/*
 * 1.1's migrate.rehearse(): the 1.0 columns and not_rehearsed, the
 * statements it could not run and why.
 */
Datum
migrate_rehearse_1_1(PG_FUNCTION_ARGS)
{
	return rehearse(fcinfo, true);
}
