/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading and writing migrate's own tables.
 *
 * Only the extension owner has privileges on migrate.migration and
 * migrate.event.  Callers (members of migrate_admin) reach them through the
 * SQL functions, which run their bookkeeping statements here as the owner,
 * with search_path pinned (store/spi.c).  Users' migration SQL never runs
 * as the owner.
 *
 * The statements run once per migration during apply are prepared once per
 * backend and kept (SPI_keepplan); the plan cache replans them if the
 * tables change.
 *
 * IDENTIFICATION
 *	  src/store/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "store/catalog.h"
#include "store/spi.h"
#include "compat.h"
#include "model/version.h"

/* statements prepared once per backend */
typedef enum KeptQuery
{
	Q_LOAD_SCRIPT_UP,
	Q_LOAD_SCRIPT_DOWN,
	Q_MARK_APPLIED,
	Q_MARK_REVERTED,
	Q_INSERT_EVENT,
	Q_MARK_DIRTY,
	Q_LOAD_VERIFY,
	Q_LOAD_PRECONDITION,
	Q_LOAD_MIGRATION,
	Q_LOAD_MIGRATION_1_1,
	Q_MARK_SKIPPED,
	NUM_KEPT_QUERIES
} KeptQuery;

static SPIPlanPtr kept_plans[NUM_KEPT_QUERIES];

/*
 * Owner of the migrate extension.  Cached for the current local
 * transaction, since apply asks for it several times per migration.
 */
Oid
migrate_catalog_extension_owner(void)
{
	static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
	static Oid	cached_owner = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (cached_lxid == migrate_local_xid() && OidIsValid(cached_owner))
		return cached_owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("migrate"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"migrate\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION migrate.")));
	cached_owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	cached_lxid = migrate_local_xid();
	return cached_owner;
}

bool
migrate_catalog_is_applied_state(const char *state)
{
	return strcmp(state, "applied") == 0;
}

/* reverted, by its 1.1 name or its 1.0 one (see migrate_catalog_mark_reverted) */
bool
migrate_catalog_is_reverted_state(const char *state)
{
	return strcmp(state, "reverted") == 0 || strcmp(state, "rolled_back") == 0;
}

bool
migrate_catalog_is_applied(const MigrateMigration *m)
{
	return migrate_catalog_is_applied_state(m->state);
}

/*
 * Done in the up direction: applied, or skipped because it is not meant
 * for this environment (@environments).  A skipped migration is never
 * applied here, so apply() passes over it and so does revert(), which
 * reverts applied ones only.
 */
bool
migrate_catalog_is_done_state(const char *state)
{
	return migrate_catalog_is_applied_state(state) || strcmp(state, "skipped") == 0;
}

bool
migrate_catalog_is_done(const MigrateMigration *m)
{
	return migrate_catalog_is_done_state(m->state);
}

PG_FUNCTION_INFO_V1(migrate_calling_role);

/*
 * migrate.calling_role(): in a SECURITY DEFINER function the current user
 * is the owner, but the outer user is still whoever called it (after any
 * SET ROLE): that is who history names.
 */
Datum
migrate_calling_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false))));
}

/* name of the current user, for applied_by and history */
char *
migrate_catalog_current_role(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

Datum
migrate_catalog_interval_datum(int64 usecs)
{
	Interval   *interval = palloc0(sizeof(Interval));

	interval->time = usecs;
	return IntervalPGetDatum(interval);
}

/* an SPI text argument, NULL when the string is NULL */
void
migrate_catalog_set_text_arg(Datum *values, char *nulls, int i, const char *str)
{
	values[i] = str ? CStringGetTextDatum(str) : (Datum) 0;
	nulls[i] = str ? ' ' : 'n';
}

/* the same for a bool-style nulls array (tuplestore_putvalues) */
void
migrate_catalog_set_text_arg_bool(Datum *values, bool *nulls, int i, const char *str)
{
	values[i] = str ? CStringGetTextDatum(str) : (Datum) 0;
	nulls[i] = (str == NULL);
}

/* an SPI jsonb argument, NULL when the document is NULL */
static void
set_jsonb_arg(Datum *values, char *nulls, int i, Jsonb *document)
{
	values[i] = document ? JsonbPGetDatum(document) : (Datum) 0;
	nulls[i] = document ? ' ' : 'n';
}

static char *
spi_text(HeapTuple tuple, int column)
{
	return SPI_getvalue(tuple, SPI_tuptable->tupdesc, column);
}

/* a text[] column as a List of C strings (empty list for NULL) */
static List *
spi_text_array(HeapTuple tuple, int column)
{
	bool		isnull;
	Datum		datum = SPI_getbinval(tuple, SPI_tuptable->tupdesc, column, &isnull);
	Datum	   *elems;
	bool	   *elem_nulls;
	int			nelems;
	List	   *result = NIL;

	if (isnull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(datum), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elem_nulls, &nelems);
	for (int i = 0; i < nelems; i++)
		result = lappend(result, TextDatumGetCString(elems[i]));
	return result;
}

static int
spi_int_or_zero(HeapTuple tuple, int column)
{
	bool		isnull;
	Datum		datum = SPI_getbinval(tuple, SPI_tuptable->tupdesc, column, &isnull);

	return isnull ? 0 : DatumGetInt32(datum);
}

static int
compare_migration_keys(const void *a, const void *b)
{
	return migrate_version_compare_keys(((const MigrateMigration *) a)->key,
										((const MigrateMigration *) b)->key);
}

/*
 * What a MigrateMigration is read from: one row of migrate.migration m.
 * The last two columns say whether it is repeatable (a column 1.1 adds:
 * MIGRATION_REPEATABLE_1_0 stands in for it on a catalog not yet updated)
 * and whether it was applied before (the applied checksum a re-queued
 * repeatable migration keeps).
 */
#define MIGRATION_COLUMNS_WITH(repeatable) \
	"SELECT version, version_key, name, state, dependencies, transactional," \
	" statements, apply_seq, down_script IS NOT NULL, checksum, down_checksum," \
	" down_transactional IS NOT FALSE," \
	" (SELECT count(*) FROM migrate.event e WHERE e.version = m.version" \
	"  AND e.action = 'apply' AND e.outcome = 'failure')::integer," \
	" dirty_statement, resume_statement, approved_at IS NOT NULL," \
	" environments, estimated_duration, risk_level," \
	" CASE zero_downtime WHEN true THEN 1 WHEN false THEN 0 ELSE -1 END," \
	" verify_script IS NOT NULL, precondition_script IS NOT NULL, precondition_mode," \
	" registered_by, " repeatable ", applied_checksum IS NOT NULL" \
	" FROM migrate.migration m"
#define MIGRATION_COLUMNS_1_1	MIGRATION_COLUMNS_WITH("m.repeatable")
#define MIGRATION_COLUMNS_1_0	MIGRATION_COLUMNS_WITH("false")

/*
 * Whether migrate.migration has the column "repeatable", which the update
 * to 1.1 adds: this library also runs on a 1.0 catalog (until ALTER
 * EXTENSION migrate UPDATE), where a migration cannot be repeatable.
 */
bool
migrate_catalog_has_repeatable(void)
{
	Oid			schema = get_namespace_oid("migrate", true);
	Oid			relid = OidIsValid(schema) ? get_relname_relid("migration", schema) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, "repeatable") != InvalidAttrNumber;
}

/* fill "m" from row "i" of the SPI result of a MIGRATION_COLUMNS query */
static void
decode_migration(uint64 i, MigrateMigration *m)
{
	HeapTuple	tuple = SPI_tuptable->vals[i];
	TupleDesc	desc = SPI_tuptable->tupdesc;
	bool		isnull;
	Datum		seq;

	m->version = spi_text(tuple, 1);
	m->key = DatumGetByteaPCopy(SPI_getbinval(tuple, desc, 2, &isnull));
	m->name = spi_text(tuple, 3);
	m->state = spi_text(tuple, 4);
	m->dependencies = spi_text_array(tuple, 5);
	m->transactional = DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull));
	m->statements = DatumGetInt32(SPI_getbinval(tuple, desc, 7, &isnull));
	seq = SPI_getbinval(tuple, desc, 8, &isnull);
	m->apply_seq = isnull ? 0 : DatumGetInt64(seq);
	m->has_down = DatumGetBool(SPI_getbinval(tuple, desc, 9, &isnull));
	m->checksum = spi_text(tuple, 10);
	m->down_checksum = spi_text(tuple, 11);
	m->down_transactional = DatumGetBool(SPI_getbinval(tuple, desc, 12, &isnull));
	m->failures = DatumGetInt32(SPI_getbinval(tuple, desc, 13, &isnull));
	m->dirty_statement = spi_int_or_zero(tuple, 14);
	m->resume_statement = spi_int_or_zero(tuple, 15);
	m->approved = DatumGetBool(SPI_getbinval(tuple, desc, 16, &isnull));
	m->environments = spi_text_array(tuple, 17);
	seq = SPI_getbinval(tuple, desc, 18, &isnull);
	m->estimated_duration = isnull ? NULL : DatumGetIntervalP(datumCopy(seq, false, sizeof(Interval)));
	m->risk_level = spi_text(tuple, 19);
	m->zero_downtime = DatumGetInt32(SPI_getbinval(tuple, desc, 20, &isnull));
	m->has_verify = DatumGetBool(SPI_getbinval(tuple, desc, 21, &isnull));
	m->has_precondition = DatumGetBool(SPI_getbinval(tuple, desc, 22, &isnull));
	m->precondition_mode = spi_text(tuple, 23);
	m->registered_by = spi_text(tuple, 24);
	m->repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 25, &isnull));
	m->requeued = m->repeatable && strcmp(m->state, "pending") == 0 &&
		DatumGetBool(SPI_getbinval(tuple, desc, 26, &isnull));
}

/*
 * Every registered migration, in natural version order, allocated in the
 * current memory context.
 */
MigrateMigration *
migrate_catalog_load_registry(int *count)
{
	MigrateMigration *registry;

	migrate_spi_run_as_owner(migrate_catalog_has_repeatable() ?
							 MIGRATION_COLUMNS_1_1 : MIGRATION_COLUMNS_1_0,
							 0, NULL, NULL, NULL, SPI_OK_SELECT);

	*count = SPI_processed;
	registry = palloc0(sizeof(MigrateMigration) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
		decode_migration(i, &registry[i]);
	SPI_freetuptable(SPI_tuptable);

	qsort(registry, *count, sizeof(MigrateMigration), compare_migration_keys);
	return registry;
}

/*
 * One migration, by its exact registered version, as the current snapshot
 * sees it; NULL if it is not registered.  A worker re-reads each migration
 * of its plan this way, in the migration's own transaction, instead of the
 * whole registry (which counts every migration's failures).
 */
MigrateMigration *
migrate_catalog_load_migration(const char *version)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(version)};
	MigrateMigration *m = NULL;

	if (migrate_catalog_has_repeatable())
		migrate_spi_run_kept_as_owner(&kept_plans[Q_LOAD_MIGRATION_1_1],
									  MIGRATION_COLUMNS_1_1 " WHERE m.version OPERATOR(pg_catalog.=) $1",
									  1, argtypes, values, NULL, SPI_OK_SELECT);
	else
		migrate_spi_run_kept_as_owner(&kept_plans[Q_LOAD_MIGRATION],
									  MIGRATION_COLUMNS_1_0 " WHERE m.version OPERATOR(pg_catalog.=) $1",
									  1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		m = palloc0(sizeof(MigrateMigration));
		decode_migration(0, m);
	}
	SPI_freetuptable(SPI_tuptable);
	return m;
}

/*
 * Find a migration by version (compared naturally, so "001" finds "1");
 * NULL if it is not registered.
 */
MigrateMigration *
migrate_catalog_find_migration(MigrateMigration *registry, int count, const char *version)
{
	MigrateMigration probe = {0};

	probe.key = migrate_version_make_key(version);
	return bsearch(&probe, registry, count, sizeof(MigrateMigration),
				   compare_migration_keys);
}

/* the up or down script of a migration, copied into the current context */
char *
migrate_catalog_load_script(const char *version, bool down)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(version)};
	char	   *script;

	if (down)
		migrate_spi_run_kept_as_owner(&kept_plans[Q_LOAD_SCRIPT_DOWN],
									  "SELECT down_script FROM migrate.migration WHERE version = $1",
									  1, argtypes, values, NULL, SPI_OK_SELECT);
	else
		migrate_spi_run_kept_as_owner(&kept_plans[Q_LOAD_SCRIPT_UP],
									  "SELECT up_script FROM migrate.migration WHERE version = $1",
									  1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "migration \"%s\" vanished while it was being run", version);
	script = spi_text(SPI_tuptable->vals[0], 1);
	SPI_freetuptable(SPI_tuptable);
	return script;
}

/* the verify_script or precondition_script of a migration, or NULL */
char *
migrate_catalog_load_check(const char *version, const char *column)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(version)};
	char	   *script;

	if (strcmp(column, "verify_script") == 0)
		migrate_spi_run_kept_as_owner(&kept_plans[Q_LOAD_VERIFY],
									  "SELECT verify_script FROM migrate.migration WHERE version = $1",
									  1, argtypes, values, NULL, SPI_OK_SELECT);
	else
		migrate_spi_run_kept_as_owner(&kept_plans[Q_LOAD_PRECONDITION],
									  "SELECT precondition_script FROM migrate.migration WHERE version = $1",
									  1, argtypes, values, NULL, SPI_OK_SELECT);
	script = SPI_processed == 1 ? spi_text(SPI_tuptable->vals[0], 1) : NULL;
	SPI_freetuptable(SPI_tuptable);
	return script;
}

/*
 * Mark a migration applied: its place in the order of application, the
 * checksums it was applied with, when, by whom and how long it took.
 */
void
migrate_catalog_mark_applied(const char *version, TimestampTz started_at,
							 int64 duration_us, const char *role)
{
	Oid			argtypes[4] = {TEXTOID, TIMESTAMPTZOID, INTERVALOID, NAMEOID};
	Datum		values[4];

	values[0] = CStringGetTextDatum(version);
	values[1] = TimestampTzGetDatum(started_at);
	values[2] = migrate_catalog_interval_datum(duration_us);
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(role));
	migrate_spi_run_kept_as_owner(&kept_plans[Q_MARK_APPLIED],
								  "UPDATE migrate.migration SET state = 'applied',"
								  " apply_seq = nextval('migrate.apply_seq'),"
								  " applied_checksum = checksum, applied_down_checksum = down_checksum,"
								  " applied_at = $2, applied_by = $4, duration = $3,"
								  " last_error = NULL, dirty_statement = NULL, resume_statement = NULL"
								  " WHERE version = $1",
								  4, argtypes, values, NULL, SPI_OK_UPDATE);
}

/*
 * Mark a migration reverted and forget what applying it recorded.
 *
 * 1.1 calls that state "reverted", 1.0 called it "rolled_back".  The
 * library of 1.1 may run on a database whose catalog is still 1.0's
 * (before ALTER EXTENSION migrate UPDATE), whose CHECK constraint allows
 * only the old name: the state written is "reverted" when the installed
 * constraint accepts it (1.1's accepts both names, for restored 1.0
 * dumps).  Readers accept both (migrate_catalog_is_reverted_state).
 */
void
migrate_catalog_mark_reverted(const char *version)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(version)};

	migrate_spi_run_kept_as_owner(&kept_plans[Q_MARK_REVERTED],
								  "UPDATE migrate.migration SET state ="
								  " CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_constraint c"
								  "  WHERE c.conrelid OPERATOR(pg_catalog.=) 'migrate.migration'::pg_catalog.regclass"
								  "   AND c.contype OPERATOR(pg_catalog.=) 'c'"
								  "   AND pg_catalog.pg_get_constraintdef(c.oid) OPERATOR(pg_catalog.~~) '%''reverted''%')"
								  "  THEN 'reverted' ELSE 'rolled_back' END,"
								  " apply_seq = NULL, applied_checksum = NULL,"
								  " applied_down_checksum = NULL, applied_at = NULL,"
								  " applied_by = NULL, duration = NULL, last_error = NULL,"
								  " dirty_statement = NULL, resume_statement = NULL"
								  " WHERE version = $1",
								  1, argtypes, values, NULL, SPI_OK_UPDATE);
}

/*
 * Mark a migration skipped in this environment (exec/skip.c): done without
 * running, in its place in the order of application (apply_seq), with
 * when and by whom.  Only a 1.1 catalog accepts the state, and only a 1.1
 * catalog has environments, so the 1.0 catalog never gets here.
 */
void
migrate_catalog_mark_skipped(const char *version, TimestampTz started_at, const char *role)
{
	Oid			argtypes[3] = {TEXTOID, TIMESTAMPTZOID, NAMEOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(version);
	values[1] = TimestampTzGetDatum(started_at);
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(role));
	migrate_spi_run_kept_as_owner(&kept_plans[Q_MARK_SKIPPED],
								  "UPDATE migrate.migration SET state = 'skipped',"
								  " apply_seq = pg_catalog.nextval('migrate.apply_seq'),"
								  " applied_checksum = NULL, applied_down_checksum = NULL,"
								  " applied_at = $2, applied_by = $3, duration = NULL,"
								  " last_error = NULL, dirty_statement = NULL, resume_statement = NULL"
								  " WHERE version OPERATOR(pg_catalog.=) $1",
								  3, argtypes, values, NULL, SPI_OK_UPDATE);
}

/*
 * Add one row to the history (migrate.event), as the extension owner.
 */
void
migrate_catalog_insert_event(const MigrateEvent *event)
{
	Oid			argtypes[10] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID,
	TIMESTAMPTZOID, INTERVALOID, TEXTOID, JSONBOID, JSONBOID};
	Datum		values[10];
	char		nulls[10];

	memset(nulls, ' ', sizeof(nulls));
	migrate_catalog_set_text_arg(values, nulls, 0, event->action);
	migrate_catalog_set_text_arg(values, nulls, 1, event->version);
	migrate_catalog_set_text_arg(values, nulls, 2, event->name);
	migrate_catalog_set_text_arg(values, nulls, 3, event->outcome);
	values[4] = DirectFunctionCall1(namein, CStringGetDatum(event->role));
	values[5] = TimestampTzGetDatum(event->started_at);
	values[6] = migrate_catalog_interval_datum(event->duration_us);
	if (event->duration_us < 0)
		nulls[6] = 'n';
	migrate_catalog_set_text_arg(values, nulls, 7, event->checksum);
	set_jsonb_arg(values, nulls, 8, event->detail);
	set_jsonb_arg(values, nulls, 9, event->error);
	migrate_spi_run_kept_as_owner(&kept_plans[Q_INSERT_EVENT],
								  "INSERT INTO migrate.event (action, version, name, outcome,"
								  " role, started_at, duration, checksum, detail, error)"
								  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
								  10, argtypes, values, nulls, SPI_OK_INSERT);
}

/*
 * A non-transactional migration is about to run statement "statement", or
 * stopped there: state dirty, so that nothing runs past it until resolved.
 * "error" is NULL while it runs; last_error then says only which script
 * ("up" or "down") it is in, for resolve().
 */
void
migrate_catalog_mark_dirty(const char *version, const char *script, int statement, Jsonb *error)
{
	Oid			argtypes[4] = {TEXTOID, INT4OID, JSONBOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(version);
	values[1] = Int32GetDatum(statement);
	set_jsonb_arg(values, nulls, 2, error);
	values[3] = CStringGetTextDatum(script);
	migrate_spi_run_kept_as_owner(&kept_plans[Q_MARK_DIRTY],
								  "UPDATE migrate.migration SET state = 'dirty', dirty_statement = $2,"
								  " resume_statement = NULL,"
								  " last_error = coalesce($3, jsonb_build_object('script', $4))"
								  " WHERE version = $1",
								  4, argtypes, values, nulls, SPI_OK_UPDATE);
}

static char *
copy_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/* a List of C strings, each string copied */
static List *
copy_strings(const List *strings)
{
	List	   *copy = NIL;
	ListCell   *lc;

	foreach(lc, strings)
		copy = lappend(copy, pstrdup(lfirst(lc)));
	return copy;
}

/*
 * A deep copy of a migration: every string, list and value it points to
 * is copied into the current memory context, so that the copy outlives
 * the transaction (and SPI connection) it was read in.  The version key
 * is binary (see version.c): copied as bytes, whatever they contain.
 */
MigrateMigration *
migrate_catalog_copy_migration(const MigrateMigration *m)
{
	MigrateMigration *copy = palloc(sizeof(MigrateMigration));

	*copy = *m;
	copy->version = pstrdup(m->version);
	/* the key is binary (its length word holds zero bytes): copy it whole */
	copy->key = DatumGetByteaPCopy(PointerGetDatum(m->key));
	copy->name = pstrdup(m->name);
	copy->state = pstrdup(m->state);
	copy->dependencies = copy_strings(m->dependencies);
	copy->checksum = pstrdup(m->checksum);
	copy->down_checksum = copy_or_null(m->down_checksum);
	copy->environments = copy_strings(m->environments);
	if (m->estimated_duration)
	{
		copy->estimated_duration = palloc(sizeof(Interval));
		*copy->estimated_duration = *m->estimated_duration;
	}
	copy->risk_level = copy_or_null(m->risk_level);
	copy->precondition_mode = copy_or_null(m->precondition_mode);
	copy->registered_by = copy_or_null(m->registered_by);
	return copy;
}
