/*-------------------------------------------------------------------------
 *
 * import.c
 *	  migrate.import_history(tool, history_table): adopt the history that
 *	  another migration tool kept in this database.
 *
 * Each tool keeps a table of what it applied.  import_history() reads it
 * AS THE CALLER (the function is not SECURITY DEFINER, and the query runs
 * under the caller's identity with search_path pinned): a role that may
 * not read the table gets permission denied (42501), whatever it may do
 * with migrate.  Only then, holding the migrate lock, does it write
 * migrate's own tables as the extension owner: every applied row of the
 * tool goes into migrate.imported_history (the tool's identifier, when,
 * by whom, its description and checksum where the tool has them, and the
 * tool's own facts as jsonb), and the registered migrations the row
 * stands for are marked applied (store/adopt.c).  The rest wait in
 * migrate.imported_unregistered until their files are registered.
 *
 * How a tool's row stands for migrate's migrations (the client reads the
 * tools' directory layouts, bin/layout_*.c, and gives these versions):
 *   flyway          version (V1_1 -> 1.1); a repeatable row (version NULL)
 *                   by its script without ".sql" (R__x); a BASELINE row
 *                   covers every version up to it; failed rows (success
 *                   false) and the schema-creation row are skipped; an
 *                   undo or delete row forgets the version again
 *   liquibase       changeset id; EXECUTED, RERAN and MARK_RAN rows
 *   golang-migrate  its one row is the current version and covers every
 *                   version up to it; a dirty row is refused
 *   dbmate          version
 *   sqitch          change name (the client numbers Sqitch's changes by
 *                   their place in the plan); sqitch.changes holds the
 *                   changes deployed now
 *   diesel          version, which Diesel records without the dashes of
 *                   the directory name (2017-07-23-163208 -> 20170723163208)
 *
 * The table is found in the caller's search_path (Sqitch's in its
 * registry schema, "sqitch"), or named by history_table.  Its columns are
 * checked first, so that a table of another shape (dbmate's and
 * golang-migrate's are both called schema_migrations) is refused with a
 * message that says so.
 *
 * IDENTIFICATION
 *	  src/store/import.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "compat.h"
#include "errors.h"
#include "ipc/xact.h"
#include "model/version.h"
#include "store/adopt.h"
#include "store/catalog.h"
#include "store/lock.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_import_history);

/*
 * A tool's history table: where it is by default, the columns the query
 * reads, and the query, which gives (version, description, applied_at,
 * applied_by, checksum, outcome, matches, detail) in the order the tool
 * applied them; %s is the table (Sqitch: then its tags table).
 */
typedef struct ToolHistory
{
	const char *tool;
	const char *default_table;
	const char *columns[10];
	const char *absent_column;	/* another tool's table of the same name has it */
	const char *query;
} ToolHistory;

static const ToolHistory tools[] = {
	{"flyway", "flyway_schema_history",
		{"installed_rank", "version", "description", "type", "script", "checksum",
		"installed_by", "installed_on", "success", NULL}, NULL,
		"SELECT coalesce(h.version, pg_catalog.regexp_replace(h.script, '\\.sql$', '')),"
		" h.description, h.installed_on::pg_catalog.timestamptz, h.installed_by,"
		" h.checksum::pg_catalog.text,"
		" CASE WHEN h.success IS NOT TRUE THEN 'failed'"
		"  WHEN h.type OPERATOR(pg_catalog.=) 'SCHEMA' THEN 'schema creation'"
		"  WHEN h.type OPERATOR(pg_catalog.=) 'DELETE'"
		"   OR h.type OPERATOR(pg_catalog.~~) 'UNDO%%' THEN 'undone'"
		"  ELSE 'applied' END,"
		" CASE WHEN h.type OPERATOR(pg_catalog.=) 'BASELINE' THEN 'up to version' ELSE 'version' END,"
		" pg_catalog.jsonb_build_object('installed_rank', h.installed_rank, 'type', h.type,"
		"  'script', h.script)"
		" FROM %s h ORDER BY h.installed_rank"},
	{"liquibase", "databasechangelog",
		{"id", "author", "filename", "dateexecuted", "orderexecuted", "exectype", "md5sum",
		"description", "comments", NULL}, NULL,
		"SELECT h.id, coalesce(h.description, h.comments), h.dateexecuted::pg_catalog.timestamptz,"
		" NULL::pg_catalog.text, h.md5sum::pg_catalog.text,"
		" CASE WHEN h.exectype IN ('EXECUTED', 'RERAN', 'MARK_RAN') THEN 'applied'"
		"  ELSE coalesce(pg_catalog.lower(h.exectype), 'no exectype') END,"
		" 'version',"
		" pg_catalog.jsonb_build_object('author', h.author, 'filename', h.filename,"
		"  'exectype', h.exectype, 'orderexecuted', h.orderexecuted)"
		" FROM %s h ORDER BY h.orderexecuted, h.dateexecuted"},
	{"golang-migrate", "schema_migrations",
		{"version", "dirty", NULL}, NULL,
		"SELECT h.version::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.timestamptz,"
		" NULL::pg_catalog.text, NULL::pg_catalog.text,"
		" CASE WHEN h.dirty IS NOT FALSE THEN 'dirty' ELSE 'applied' END, 'up to version',"
		" pg_catalog.jsonb_build_object('dirty', h.dirty)"
		" FROM %s h ORDER BY h.version"},
	{"dbmate", "schema_migrations",
		{"version", NULL}, "dirty",
		"SELECT h.version::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.timestamptz,"
		" NULL::pg_catalog.text, NULL::pg_catalog.text, 'applied', 'version', NULL::pg_catalog.jsonb"
		" FROM %s h ORDER BY h.version"},
	{"sqitch", "sqitch.changes",
		{"change_id", "script_hash", "change", "project", "note", "committed_at",
		"committer_name", "committer_email", NULL}, NULL,
		"SELECT c.change, NULLIF(c.note, ''), c.committed_at,"
		" c.committer_name OPERATOR(pg_catalog.||) ' <' OPERATOR(pg_catalog.||) c.committer_email"
		"  OPERATOR(pg_catalog.||) '>',"
		" c.script_hash, 'applied', 'name',"
		" pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('change_id', c.change_id,"
		"  'project', c.project, 'tags', (SELECT pg_catalog.jsonb_agg(t.tag ORDER BY t.committed_at)"
		"   FROM %s t WHERE t.change_id OPERATOR(pg_catalog.=) c.change_id)))"
		" FROM %s c ORDER BY c.committed_at, c.change_id"},
	{"diesel", "__diesel_schema_migrations",
		{"version", "run_on", NULL}, NULL,
		"SELECT h.version::pg_catalog.text, NULL::pg_catalog.text, h.run_on::pg_catalog.timestamptz,"
		" NULL::pg_catalog.text, NULL::pg_catalog.text, 'applied', 'version without dashes',"
		" NULL::pg_catalog.jsonb"
		" FROM %s h ORDER BY h.run_on, h.version"},
};

/* one row of the tool's history, copied out of SPI */
typedef struct HistoryRow
{
	char	   *version;
	char	   *description;
	TimestampTz applied_at;
	bool		has_applied_at;
	char	   *applied_by;
	char	   *checksum;
	char	   *outcome;
	char	   *matches;
	Jsonb	   *detail;
} HistoryRow;

static const ToolHistory *
find_tool(const char *name)
{
	for (int i = 0; i < lengthof(tools); i++)
	{
		if (strcmp(tools[i].tool, name) == 0)
			return &tools[i];
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown migration tool \"%s\"", name),
			 errhint("The tools are flyway, liquibase, golang-migrate, dbmate, sqitch and diesel.")));
	return NULL;				/* keep the compiler quiet */
}

/*
 * The history table, looked up in the caller's search_path unless the
 * name is qualified.
 */
static Oid
find_history_table(const ToolHistory *t, const char *name)
{
	List	   *names = stringToQualifiedNameList(name);
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("history table \"%s\" of %s does not exist", name, t->tool),
				 errdetail("An unqualified name is looked up in the search_path."),
				 errhint("Name the table: migrate.import_history('%s', history_table => 'schema.table').",
						 t->tool)));
	return relid;
}

/* the schema-qualified, quoted name of a relation */
static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* refuse a table that is not the tool's: a column the query reads is missing */
static void
check_columns(const ToolHistory *t, Oid relid)
{
	for (int i = 0; t->columns[i] != NULL; i++)
	{
		if (get_attnum(relid, t->columns[i]) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table \"%s\" is not a history table of %s", qualified_name(relid), t->tool),
					 errdetail("It has no column \"%s\".", t->columns[i]),
					 errhint("Check the tool's name, or name its history table with history_table.")));
	}
	if (t->absent_column != NULL && get_attnum(relid, t->absent_column) != InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is not a history table of %s", qualified_name(relid), t->tool),
				 errdetail("It has a column \"%s\", which %s's table has not.", t->absent_column, t->tool),
				 errhint("Check the tool's name: golang-migrate's table has the column \"dirty\".")));
}

/*
 * Sqitch keeps the tags of its changes beside its changes table, in the
 * registry schema.
 */
static char *
sqitch_tags_table(Oid changes)
{
	Oid			tags = get_relname_relid("tags", get_rel_namespace(changes));

	if (!OidIsValid(tags))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("history table \"%s\" of sqitch has no \"tags\" table beside it",
						qualified_name(changes)),
				 errhint("Name the changes table of the Sqitch registry with history_table.")));
	return qualified_name(tags);
}

static char *
nullable_text(HeapTuple tuple, TupleDesc desc, int column)
{
	return SPI_getvalue(tuple, desc, column);
}

/*
 * A text the rest of the import compares: the queries coalesce it, and a
 * NULL that gets through anyway (a table that is not quite the tool's)
 * becomes a word, never a NULL pointer.
 */
static char *
required_text(HeapTuple tuple, TupleDesc desc, int column, const char *if_null)
{
	char	   *value = SPI_getvalue(tuple, desc, column);

	return value != NULL ? value : pstrdup(if_null);
}

/*
 * Read the tool's history as the caller, read only, with search_path
 * pinned: the caller's privileges on the table decide (42501 otherwise).
 */
static HistoryRow *
read_history(const ToolHistory *t, Oid relid, int *count)
{
	char	   *table = qualified_name(relid);
	char	   *sql;
	HistoryRow *rows;
	TupleDesc	desc;

	if (strcmp(t->tool, "sqitch") == 0)
		sql = psprintf(t->query, sqitch_tags_table(relid), table);
	else
		sql = psprintf(t->query, table);
	migrate_spi_run_pinned(sql, 0, NULL, NULL, NULL, true, SPI_OK_SELECT);

	desc = SPI_tuptable->tupdesc;
	rows = palloc0(sizeof(HistoryRow) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		d;

		rows[i].version = nullable_text(tuple, desc, 1);
		rows[i].description = nullable_text(tuple, desc, 2);
		d = SPI_getbinval(tuple, desc, 3, &isnull);
		rows[i].has_applied_at = !isnull;
		rows[i].applied_at = isnull ? 0 : DatumGetTimestampTz(d);
		rows[i].applied_by = nullable_text(tuple, desc, 4);
		rows[i].checksum = nullable_text(tuple, desc, 5);
		rows[i].outcome = required_text(tuple, desc, 6, "no outcome");
		rows[i].matches = required_text(tuple, desc, 7, "version");
		d = SPI_getbinval(tuple, desc, 8, &isnull);
		rows[i].detail = isnull ? NULL : DatumGetJsonbPCopy(d);
	}
	*count = (int) SPI_processed;
	return rows;
}

/*
 * golang-migrate marks its one row dirty when a migration failed half
 * way: what the database holds is unknown, and adopting it would hide
 * that.
 */
static void
refuse_dirty(const ToolHistory *t, const HistoryRow *rows, int count)
{
	for (int i = 0; i < count; i++)
	{
		if (strcmp(rows[i].outcome, "dirty") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot import the history of %s because version %s is dirty",
							t->tool, rows[i].version ? rows[i].version : "(none)"),
					 errdetail("A migration failed part way; what the database holds is not known."),
					 errhint("Repair the database, clear the flag with \"migrate force %s\" (or the version before it), then import again.",
							 rows[i].version ? rows[i].version : "VERSION")));
	}
}

/* keep one applied row of the tool (the last one read for an identifier wins) */
static void
store_imported(const ToolHistory *t, const HistoryRow *row)
{
	Oid			argtypes[10] = {TEXTOID, TEXTOID, BYTEAOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, TEXTOID, TEXTOID, JSONBOID, NAMEOID};
	Datum		values[10];
	char		nulls[10];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(t->tool);
	values[1] = CStringGetTextDatum(row->version);
	/* an identifier that is no version of migrate's matches no version */
	if (migrate_version_validate(row->version) == NULL)
		values[2] = PointerGetDatum(migrate_version_make_key(row->version));
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(row->matches);
	migrate_catalog_set_text_arg(values, nulls, 4, row->description);
	values[5] = TimestampTzGetDatum(row->applied_at);
	nulls[5] = row->has_applied_at ? ' ' : 'n';
	migrate_catalog_set_text_arg(values, nulls, 6, row->applied_by);
	migrate_catalog_set_text_arg(values, nulls, 7, row->checksum);
	values[8] = PointerGetDatum(row->detail);
	nulls[8] = row->detail ? ' ' : 'n';
	values[9] = DirectFunctionCall1(namein, CStringGetDatum(migrate_catalog_current_role()));
	migrate_spi_run_as_owner("INSERT INTO migrate.imported_history AS i (tool, version, version_key,"
							 " matches, description, applied_at, applied_by, checksum, detail, imported_by)"
							 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
							 " ON CONFLICT (tool, version) DO UPDATE SET"
							 " version_key = EXCLUDED.version_key, matches = EXCLUDED.matches,"
							 " description = EXCLUDED.description, applied_at = EXCLUDED.applied_at,"
							 " applied_by = EXCLUDED.applied_by, checksum = EXCLUDED.checksum,"
							 " detail = EXCLUDED.detail, imported_at = pg_catalog.now(),"
							 " imported_by = EXCLUDED.imported_by",
							 10, argtypes, values, nulls, SPI_OK_INSERT);
}

/* the tool undid a version (Flyway's undo and delete rows): forget it */
static void
forget_imported(const ToolHistory *t, const HistoryRow *row)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	values[0] = CStringGetTextDatum(t->tool);
	values[1] = CStringGetTextDatum(row->version);
	migrate_spi_run_as_owner("DELETE FROM migrate.imported_history"
							 " WHERE tool OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
							 2, argtypes, values, NULL, SPI_OK_DELETE);
}

/* a row that applies or undoes its version (not failed, not skipped) */
static bool
decides_state(const HistoryRow *row)
{
	return strcmp(row->outcome, "applied") == 0 || strcmp(row->outcome, "undone") == 0;
}

/*
 * Whether a later row of the same version applies or undoes it again: the
 * version's final state is its last such row's (Flyway applies, undoes
 * and applies again in installed_rank order), and only that row counts.
 */
static bool
superseded(const HistoryRow *rows, int count, int i)
{
	for (int j = i + 1; j < count; j++)
	{
		if (rows[j].version != NULL && strcmp(rows[j].version, rows[i].version) == 0 &&
			decides_state(&rows[j]))
			return true;
	}
	return false;
}

/* what importing an applied row did, for the result */
static const char *
applied_status(const ToolHistory *t, const HistoryRow *row, List *adopted)
{
	int			covered;
	int			done;

	if (adopted != NIL)
		return "adopted";
	migrate_adopt_count_covered(t->tool, row->version, &covered, &done);
	if (covered == 0)
		return "not registered";
	return covered == done ? "already applied" : "registered, not adopted";
}

static Datum
text_array_datum(List *items)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(items), 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, items)
		elems[i++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/* one result row: the tool's row and what became of it */
static void
put_result(ReturnSetInfo *rsinfo, const HistoryRow *row, const char *status, List *adopted)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	migrate_catalog_set_text_arg_bool(values, nulls, 0, row->version);
	migrate_catalog_set_text_arg_bool(values, nulls, 1, row->description);
	values[2] = TimestampTzGetDatum(row->applied_at);
	nulls[2] = !row->has_applied_at;
	migrate_catalog_set_text_arg_bool(values, nulls, 3, row->applied_by);
	values[4] = CStringGetTextDatum(status);
	values[5] = text_array_datum(adopted);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * migrate.import_history(tool, history_table) returns one row per row of
 * the tool's history: its identifier, description, when and by whom, and
 * its status: "adopted" (registered migrations marked applied now, listed
 * in "adopted"), "already applied", "registered, not adopted" (reverted or
 * dirty here), "not registered" (registering its file adopts it),
 * "undone", "superseded: ..." (a later row of the same version applies or
 * undoes it again: the last one decides, so a version applied and then
 * undone is never adopted), or "skipped: <why>" (failed, schema creation,
 * ...).
 */
Datum
migrate_import_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const ToolHistory *t;
	char	   *table_name;
	Oid			relid;
	HistoryRow *rows;
	int			count;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tool must not be null"),
				 errhint("The tools are flyway, liquibase, golang-migrate, dbmate, sqitch and diesel.")));
	t = find_tool(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	table_name = PG_ARGISNULL(1) ? pstrdup(t->default_table) : text_to_cstring(PG_GETARG_TEXT_PP(1));
	migrate_materialize_srf(fcinfo);

	migrate_lock_acquire();
	migrate_xact_spi_connect();
	relid = find_history_table(t, table_name);
	check_columns(t, relid);
	rows = read_history(t, relid, &count);
	refuse_dirty(t, rows, count);

	for (int i = 0; i < count; i++)
	{
		HistoryRow *row = &rows[i];
		List	   *adopted = NIL;
		const char *status;

		if (row->version == NULL)
			status = "skipped: no version";
		else if (decides_state(row) && superseded(rows, count, i))
			status = "superseded: a later row of the version decides";
		else if (strcmp(row->outcome, "applied") == 0)
		{
			store_imported(t, row);
			adopted = migrate_adopt_imported(t->tool, row->version);
			status = applied_status(t, row, adopted);
		}
		else if (strcmp(row->outcome, "undone") == 0)
		{
			forget_imported(t, row);
			status = "undone";
		}
		else
			status = psprintf("skipped: %s", row->outcome);
		put_result(rsinfo, row, status, adopted);
	}
	SPI_finish();
	return (Datum) 0;
}
