/*-------------------------------------------------------------------------
 *
 * analyze.c
 *	  migrate.analyze(script, measure): per statement, the relations it
 *	  locks, in which mode, what it does to them, and their size.
 *
 * Without measure, nothing runs: the modes and effects are read from the
 * parse tree (model/lockfacts.c) and the sizes from the catalog
 * (store/relfacts.c, which waits for no lock).  One row per statement and
 * relation; a statement that names no relation has one row whose relation
 * is NULL.
 *
 * measure => true runs the script, as the caller, to see what the text
 * cannot say (a DO block, a function, a lock a trigger takes).  It runs in
 * a subtransaction that is always rolled back, each statement in a
 * subtransaction of its own inside it (released, so that later statements
 * see what earlier ones created), with lock_timeout set to 100ms before
 * each statement so that no statement waits long for a lock another
 * session holds; a lock timeout or another error is reported in the rows'
 * detail, not raised.  Right after each statement this backend's locks
 * are read with GetLockStatusData(), the function behind the pg_locks
 * view, while the subtransaction still holds them; what the statement
 * added (a relation, or a stronger mode on it, that it did not hold
 * before) is its measured lock.  A statement that cannot run in a
 * transaction block (CONCURRENTLY, VACUUM) is not run.
 *
 * IDENTIFICATION
 *	  src/exec/analyze.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "errors.h"
#include "ipc/migrating.h"
#include "ipc/xact.h"
#include "model/checksum.h"
#include "model/lockfacts.h"
#include "model/parse.h"
#include "model/risk.h"
#include "store/relfacts.h"
#include "store/relname.h"

PG_FUNCTION_INFO_V1(migrate_analyze);

/* the lock_timeout each measured statement runs under */
#define ANALYZE_MEASURE_LOCK_TIMEOUT "100ms"

/* one result row */
typedef struct AnalyzeRow
{
	const MigrateStatement *statement;
	const RangeVar *written;	/* the relation as written, or NULL */
	char	   *relation;		/* the catalog's name, or as written */
	Oid			relid;			/* in the catalog before the run, or InvalidOid */
	LOCKMODE	mode;			/* NoLock: NULL */
	int			effect;			/* MigrateLockEffect; -1: NULL */
	int64		bytes;			/* -1: NULL */
	char	   *detail;
	bool		measured;		/* a measured lock matched it */
} AnalyzeRow;

/* a relation lock this backend holds: which modes */
typedef struct HeldLock
{
	Oid			relid;
	LOCKMASK	mask;
} HeldLock;

/* a lock a statement was seen to take */
typedef struct MeasuredLock
{
	Oid			relid;
	char	   *nspname;
	char	   *relname;
	char		relkind;
	Oid			table;			/* an index's table, else InvalidOid */
	LOCKMODE	mode;			/* the strongest mode it added */
} MeasuredLock;

/* what the measuring of one statement found */
typedef struct Measurement
{
	bool		attempted;
	char	   *not_measured;	/* why not, or NULL */
	List	   *locks;			/* MeasuredLock * */
} Measurement;

typedef struct MeasureRun
{
	const MigrateParsedScript *parsed;
	Measurement *results;		/* one per statement */
	List	   *held;			/* HeldLock *, before the current statement */
	int			current;
	MemoryContext memory;		/* the caller's: what the run finds lives there */
} MeasureRun;

/* the relation locks this backend holds now, in this database */
static List *
held_locks(void)
{
	LockData   *data = GetLockStatusData();
	List	   *held = NIL;

	for (int i = 0; i < data->nelements; i++)
	{
		LockInstanceData *lock = &data->locks[i];
		HeldLock   *h = NULL;
		ListCell   *lc;

		if (lock->pid != MyProcPid || lock->holdMask == 0 ||
			lock->locktag.locktag_type != LOCKTAG_RELATION ||
			lock->locktag.locktag_field1 != MyDatabaseId)
			continue;
		foreach(lc, held)
		{
			if (((HeldLock *) lfirst(lc))->relid == lock->locktag.locktag_field2)
				h = lfirst(lc);
		}
		if (h == NULL)
		{
			h = palloc0(sizeof(HeldLock));
			h->relid = lock->locktag.locktag_field2;
			held = lappend(held, h);
		}
		h->mask |= lock->holdMask;
	}
	return held;
}

static LOCKMASK
held_mask(List *held, Oid relid)
{
	ListCell   *lc;

	foreach(lc, held)
	{
		if (((HeldLock *) lfirst(lc))->relid == relid)
			return ((HeldLock *) lfirst(lc))->mask;
	}
	return 0;
}

/*
 * What the statement added to the locks held before it: per relation, the
 * strongest mode it did not hold before.  Catalogs and toast tables are
 * left out (every DDL writes the catalog).  A relation the statement
 * dropped has no name any more (relname NULL): it is kept, for the row
 * that names it by oid (DROP TABLE, DROP INDEX).
 */
static List *
added_locks(List *before, List *after)
{
	List	   *added = NIL;
	ListCell   *lc;

	foreach(lc, after)
	{
		HeldLock   *h = lfirst(lc);
		LOCKMASK	fresh = h->mask & ~held_mask(before, h->relid);
		MeasuredLock *m;
		char	   *relname;

		if (fresh == 0 || h->relid < FirstNormalObjectId)
			continue;
		relname = get_rel_name(h->relid);
		if (relname != NULL && IsToastNamespace(get_rel_namespace(h->relid)))
			continue;
		m = palloc0(sizeof(MeasuredLock));
		m->relid = h->relid;
		m->relname = relname;
		if (relname != NULL)
		{
			m->nspname = get_namespace_name(get_rel_namespace(h->relid));
			m->relkind = get_rel_relkind(h->relid);
			if (m->relkind == RELKIND_INDEX || m->relkind == RELKIND_PARTITIONED_INDEX)
				m->table = IndexGetRelation(h->relid, true);
		}
		for (LOCKMODE mode = MaxLockMode; mode > NoLock; mode--)
		{
			if (fresh & LOCKBIT_ON(mode))
			{
				m->mode = mode;
				break;
			}
		}
		added = lappend(added, m);
	}
	return added;
}

/*
 * An index whose table the statement also locked: opening a table opens
 * its indexes, so its lock says nothing of its own unless a row names it.
 */
static bool
index_of_locked_table(const MeasuredLock *m, List *locks)
{
	ListCell   *lc;

	if (!OidIsValid(m->table))
		return false;
	foreach(lc, locks)
	{
		if (((MeasuredLock *) lfirst(lc))->relid == m->table)
			return true;
	}
	return false;
}

/* run one statement (its own subtransaction) and see what it locked */
static void
measure_statement(void *arg)
{
	MeasureRun *run = arg;
	const MigrateStatement *stmt = &run->parsed->statements[run->current];
	char	   *sql = migrate_parse_statement_text(run->parsed, stmt);
	int			rc;

	rc = SPI_execute(sql, false, 0);
	if (rc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("statement %d cannot be run through SPI: %s", stmt->number,
						SPI_result_code_string(rc))));
	/* SPI_execute() left us in SPI's memory, which SPI_finish() frees */
	MemoryContextSwitchTo(run->memory);
	run->results[run->current].locks = added_locks(run->held, held_locks());
}

/* the whole script, in the subtransaction that is rolled back */
static void
measure_script(void *arg)
{
	MeasureRun *run = arg;

	MemoryContextSwitchTo(run->memory);
	run->held = held_locks();
	for (int i = 0; i < run->parsed->nstatements; i++)
	{
		const MigrateStatement *stmt = &run->parsed->statements[i];
		Measurement *result = &run->results[i];
		ErrorData  *edata;

		CHECK_FOR_INTERRUPTS();
		result->attempted = true;
		if (!stmt->classified.transactional)
		{
			result->not_measured = pstrdup("not measured: cannot run in a transaction block");
			continue;
		}
		/* again before each: the script may SET its own */
		(void) set_config_option("lock_timeout", ANALYZE_MEASURE_LOCK_TIMEOUT, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
		run->current = i;
		edata = migrate_xact_run_subxact(measure_statement, run, true, NULL);
		if (edata != NULL && edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
			result->not_measured = psprintf("not measured: lock timeout (%s): %s",
											ANALYZE_MEASURE_LOCK_TIMEOUT, edata->message);
		else if (edata != NULL)
			result->not_measured = psprintf("not measured: error: %s", edata->message);
		else
		{
			MemoryContextSwitchTo(run->memory);
			run->held = held_locks();
		}
	}
}

static AnalyzeRow *
new_row(const MigrateStatement *stmt)
{
	AnalyzeRow *row = palloc0(sizeof(AnalyzeRow));

	row->statement = stmt;
	row->mode = NoLock;
	row->effect = -1;
	row->bytes = -1;
	return row;
}

/* the rows the text gives, per statement (List * of AnalyzeRow *) */
static List **
static_rows(const MigrateParsedScript *parsed)
{
	List	  **rows = palloc0(sizeof(List *) * Max(parsed->nstatements, 1));
	ListCell   *lc;

	foreach(lc, migrate_risk_script_facts(parsed, &migrate_live_catalog_facts))
	{
		MigrateSizedLockFact *sized = lfirst(lc);
		const MigrateStatement *stmt = &parsed->statements[sized->statement - 1];
		AnalyzeRow *row = new_row(stmt);
		const RangeVar *rv = sized->fact->relation;

		row->written = rv;
		if (sized->qualified != NULL)
			row->relid = migrate_relname_lookup(rv);
		if (sized->qualified != NULL)
			row->relation = sized->qualified;
		else if (rv != NULL)
			row->relation = quote_qualified_identifier(rv->schemaname, rv->relname);
		row->mode = sized->fact->mode;
		row->effect = sized->fact->effect;
		row->bytes = sized->qualified != NULL ? sized->bytes : -1;
		row->detail = sized->created_here ?
			psprintf("%s (created earlier in this script)", sized->fact->reason) :
			rv != NULL && sized->qualified == NULL && !sized->creates ?
			psprintf("%s (not in the catalog)", sized->fact->reason) :
			pstrdup(sized->fact->reason);
		rows[sized->statement - 1] = lappend(rows[sized->statement - 1], row);
	}
	for (int i = 0; i < parsed->nstatements; i++)
	{
		if (rows[i] == NIL)
		{
			AnalyzeRow *row = new_row(&parsed->statements[i]);

			row->effect = LOCK_EFFECT_NONE;
			row->detail = pstrdup("takes no relation lock");
			rows[i] = list_make1(row);
		}
	}
	return rows;
}

/*
 * Whether a measured lock is on the relation a row names: by oid when the
 * relation was in the catalog before the run (it may be gone now), else by
 * name (created earlier in the script).
 */
static bool
measured_matches(const MeasuredLock *m, const AnalyzeRow *row)
{
	char	   *name;

	if (OidIsValid(row->relid))
		return row->relid == m->relid;
	if (m->relname == NULL)
		return false;
	name = quote_qualified_identifier(m->nspname, m->relname);
	if (row->relation != NULL && strcmp(row->relation, name) == 0)
		return true;
	return row->written != NULL && strcmp(row->written->relname, m->relname) == 0 &&
		(row->written->schemaname == NULL || strcmp(row->written->schemaname, m->nspname) == 0);
}

static void
append_detail(AnalyzeRow *row, const char *text)
{
	row->detail = row->detail ? psprintf("%s; %s", row->detail, text) : pstrdup(text);
}

/* fold a statement's measurement into its rows */
static List *
apply_measurement(List *rows, const Measurement *result)
{
	ListCell   *lc;
	ListCell   *r;
	const MigrateStatement *stmt = ((AnalyzeRow *) linitial(rows))->statement;

	if (result->not_measured != NULL)
	{
		foreach(r, rows)
			append_detail(lfirst(r), result->not_measured);
		return rows;
	}
	foreach(lc, result->locks)
	{
		MeasuredLock *m = lfirst(lc);
		AnalyzeRow *match = NULL;

		foreach(r, rows)
		{
			if (measured_matches(m, lfirst(r)))
				match = lfirst(r);
		}
		if (match != NULL)
		{
			if (match->mode != m->mode)
				append_detail(match, psprintf("measured %s (the text says %s)",
											  migrate_lock_mode_name(m->mode),
											  match->mode == NoLock ? "no lock" : migrate_lock_mode_name(match->mode)));
			else
				append_detail(match, "measured");
			match->mode = m->mode;
			match->measured = true;
		}
		else if (m->relname != NULL && !index_of_locked_table(m, result->locks))
		{
			AnalyzeRow *row = new_row(stmt);
			MigrateRelationFacts facts;

			row->relation = quote_qualified_identifier(m->nspname, m->relname);
			row->mode = m->mode;
			/* its size as it is outside the rolled-back run */
			if (migrate_relfacts_relation(makeRangeVar(m->nspname, m->relname, -1), &facts) &&
				facts.exists && facts.relid == m->relid)
				row->bytes = facts.total_bytes;
			row->detail = pstrdup(row->bytes >= 0 ? "measured (the text does not name it)" :
								  "measured (the text does not name it; created by the script)");
			row->measured = true;
			rows = lappend(rows, row);
		}
	}
	foreach(r, rows)
	{
		AnalyzeRow *row = lfirst(r);

		if (!row->measured && row->mode != NoLock)
			append_detail(row, "measured: no new lock (not taken, or held since an earlier statement)");
	}
	return rows;
}

static void
put_row(ReturnSetInfo *rsinfo, const AnalyzeRow *row)
{
	Datum		values[9];
	bool		nulls[9] = {0};

	values[0] = Int32GetDatum(row->statement->number);
	values[1] = Int32GetDatum(row->statement->line);
	values[2] = CStringGetTextDatum(row->statement->classified.command);
	if (row->relation != NULL)
		values[3] = CStringGetTextDatum(row->relation);
	nulls[3] = row->relation == NULL;
	if (row->mode != NoLock)
		values[4] = CStringGetTextDatum(migrate_lock_mode_name(row->mode));
	nulls[4] = row->mode == NoLock;
	if (row->effect >= 0)
		values[5] = CStringGetTextDatum(migrate_lock_effect_name(row->effect));
	nulls[5] = row->effect < 0;
	values[6] = Int64GetDatum(row->bytes);
	nulls[6] = row->bytes < 0;
	if (row->bytes >= 0)
		values[7] = CStringGetTextDatum(migrate_risk_pretty_size(row->bytes));
	nulls[7] = row->bytes < 0;
	if (row->detail != NULL)
		values[8] = CStringGetTextDatum(row->detail);
	nulls[8] = row->detail == NULL;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * migrate.analyze(script text, measure boolean DEFAULT false) returns
 * setof (statement, line, command, relation, lock_mode, effect,
 * relation_bytes, relation_size, detail)
 */
Datum
migrate_analyze(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		measure = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	char	   *script;
	MigrateParsedScript *parsed;
	List	  **rows;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("script must not be null")));
	migrate_materialize_srf(fcinfo);
	script = migrate_checksum_normalise(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	parsed = migrate_parse_script(script, "script");
	rows = static_rows(parsed);

	if (measure && parsed->nstatements > 0)
	{
		MemoryContext caller = CurrentMemoryContext;
		MeasureRun	run = {parsed, NULL, NIL, 0, caller};
		ErrorData  *edata;

		run.results = palloc0(sizeof(Measurement) * parsed->nstatements);
		migrate_xact_spi_connect();
		/* what the run finds must outlive SPI_finish(), which frees SPI's memory */
		MemoryContextSwitchTo(caller);
		/* migrate runs these statements, and rolls them back: not drift */
		migrate_migrating_set(true);
		edata = migrate_xact_run_subxact(measure_script, &run, false, NULL);
		migrate_migrating_set(false);
		SPI_finish();
		if (edata != NULL)
			ReThrowError(edata);
		for (int i = 0; i < parsed->nstatements; i++)
			rows[i] = apply_measurement(rows[i], &run.results[i]);
	}

	for (int i = 0; i < parsed->nstatements; i++)
	{
		ListCell   *lc;

		foreach(lc, rows[i])
			put_row(rsinfo, lfirst(lc));
	}
	PG_RETURN_VOID();
}
