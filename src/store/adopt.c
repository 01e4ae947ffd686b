/*-------------------------------------------------------------------------
 *
 * adopt.c
 *	  Adopting a database: migrate.baseline(), and marking migrations
 *	  applied that a baseline or another tool's imported history covers.
 *
 * A database built before migrate arrived (by hand, or by Flyway,
 * Liquibase, golang-migrate, dbmate, Sqitch or Diesel) already holds what
 * its old migrations create: running them again would fail.  Adopting it
 * marks those migrations applied without running them:
 *
 *  - migrate.baseline(version, description) marks every registered
 *	  migration up to and including "version" applied (history action
 *	  "baseline", one row per migration and one for the baseline itself,
 *	  which records the schema's fingerprint), and keeps the baseline in
 *	  migrate.baseline_record;
 *  - migrate.import_history(tool) (store/import.c) keeps what another tool
 *	  applied in migrate.imported_history and marks the registered
 *	  migrations applied that its rows stand for (action "import");
 *  - files are often registered after that (the client registers a
 *	  directory, then imports; a baseline comes before the old files are
 *	  registered): register() calls migrate_adopt_registered() after it
 *	  stored new content, and a version that a baseline or an imported row
 *	  covers is marked applied there, with its history row.
 *
 * Only a migration that was never applied is adopted: pending or failed,
 * with no checksum it was applied with.  A repeatable migration made
 * pending again by new content, a reverted or a dirty one, are left as
 * they are: the history of this database says more about them than the
 * other tool's.  A migration adopted is applied with the content
 * registered (applied_checksum), by the role that adopted it; imported
 * rows give it the tool's timestamp.
 *
 * Everything here writes migrate's tables as the extension owner
 * (store/spi.c); the functions that get here are granted to migrate_admin
 * only, and import_history() reads the tool's table as the caller before
 * anything is written.
 *
 * IDENTIFICATION
 *	  src/store/adopt.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "ipc/xact.h"
#include "model/json.h"
#include "model/version.h"
#include "store/adopt.h"
#include "store/driftlog.h"
#include "store/catalog.h"
#include "store/lock.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_baseline);

/*
 * Whether the imported row "i" stands for the registered migration "m":
 * see the comment of migrate.imported_history.matches.
 */
#define COVERS_SQL \
	"CASE i.matches" \
	" WHEN 'version without dashes'" \
	"  THEN i.version OPERATOR(pg_catalog.=) pg_catalog.replace(m.version, '-', '')" \
	" WHEN 'name' THEN i.version OPERATOR(pg_catalog.=) m.name" \
	" WHEN 'up to version' THEN i.version_key OPERATOR(pg_catalog.>=) m.version_key" \
	" ELSE i.version_key OPERATOR(pg_catalog.=) m.version_key END"

/* a migration that was never applied here (see the file header) */
#define ADOPTABLE_SQL \
	"m.state IN ('pending', 'failed') AND m.applied_checksum IS NULL"

/* the history detail of a migration adopted from an imported row */
#define IMPORT_DETAIL_SQL \
	"pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('tool', i.tool," \
	" 'tool_version', i.version, 'applied_at', i.applied_at, 'applied_by', i.applied_by," \
	" 'checksum', i.checksum, 'description', i.description))"

/* a migration to mark applied, copied out of an SPI result */
typedef struct Adoption
{
	char	   *version;
	char	   *name;
	char	   *action;			/* baseline or import */
	TimestampTz applied_at;		/* 0: now */
	Jsonb	   *detail;
} Adoption;

/*
 * Copy the rows of the last SPI result, columns (version, name, action,
 * applied_at, detail), before further queries replace it.
 */
static Adoption *
copy_adoptions(int *count)
{
	Adoption   *rows = palloc0(sizeof(Adoption) * Max(SPI_processed, 1));
	TupleDesc	desc = SPI_tuptable->tupdesc;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		d;

		rows[i].version = SPI_getvalue(tuple, desc, 1);
		rows[i].name = SPI_getvalue(tuple, desc, 2);
		rows[i].action = SPI_getvalue(tuple, desc, 3);
		d = SPI_getbinval(tuple, desc, 4, &isnull);
		rows[i].applied_at = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(tuple, desc, 5, &isnull);
		rows[i].detail = isnull ? NULL : DatumGetJsonbPCopy(d);
	}
	*count = (int) SPI_processed;
	return rows;
}

/*
 * Mark each migration applied without running it, with a history row
 * (outcome success, duration unknown: nothing ran).  Returns the versions.
 */
static List *
adopt_all(Adoption *rows, int count)
{
	TimestampTz now = GetCurrentTimestamp();
	char	   *role = migrate_catalog_current_role();
	List	   *versions = NIL;

	for (int i = 0; i < count; i++)
	{
		MigrateEvent event = {0};

		migrate_catalog_mark_applied(rows[i].version,
									 rows[i].applied_at != 0 ? rows[i].applied_at : now,
									 0, role);
		event.action = rows[i].action;
		event.version = rows[i].version;
		event.name = rows[i].name;
		event.outcome = "success";
		event.role = role;
		event.started_at = now;
		event.duration_us = -1;
		event.detail = rows[i].detail;
		migrate_catalog_insert_event(&event);
		versions = lappend(versions, rows[i].version);
	}
	return versions;
}

/* whether the catalog has the adoption tables (1.1; not during 1.0) */
static bool
catalog_has_adoption(void)
{
	Oid			schema = get_namespace_oid("migrate", true);

	return OidIsValid(schema) &&
		OidIsValid(get_relname_relid("imported_history", schema)) &&
		OidIsValid(get_relname_relid("baseline_record", schema));
}

/*
 * Registration stored new content for "version": adopt it when an
 * imported row or a baseline covers it (an imported row first: it knows
 * when the tool applied it).  One query per registration, prepared once:
 * a deploy registers thousands of files.
 *
 * A baseline adopts at registration only until migrate has applied a
 * migration above it: until then the files being registered are the old
 * ones the baseline stands for; afterwards a new version below the
 * baseline is an out-of-order migration written since, which must run.
 * Every adoption at registration says so in a NOTICE: nothing ran.
 */
void
migrate_adopt_registered(const char *version)
{
	static SPIPlanPtr kept = NULL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(version)};
	Adoption   *rows;
	int			count;
	char	   *covered_by;

	if (!catalog_has_adoption())
		return;
	migrate_spi_run_kept_as_owner(&kept,
								  "SELECT m.version, m.name, src.action, src.applied_at, src.detail, src.covered_by"
								  " FROM migrate.migration m,"
								  " LATERAL (SELECT * FROM ("
								  "   SELECT 1 AS preference, 'import' AS action, i.applied_at,"
								  "    " IMPORT_DETAIL_SQL " OPERATOR(pg_catalog.||)"
								  "    pg_catalog.jsonb_build_object('adopted', 'at registration') AS detail,"
								  "    pg_catalog.format('the imported history of %s (%s)', i.tool, i.version) AS covered_by"
								  "   FROM migrate.imported_history i WHERE " COVERS_SQL
								  "   UNION ALL"
								  "   SELECT 2, 'baseline', NULL::pg_catalog.timestamptz,"
								  "    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
								  "     'baseline', b.version, 'description', b.description,"
								  "     'adopted', 'at registration')),"
								  "    'baseline ' OPERATOR(pg_catalog.||) b.version"
								  "   FROM migrate.baseline_record b"
								  "   WHERE b.version_key OPERATOR(pg_catalog.>=) m.version_key"
								  "    AND NOT EXISTS (SELECT FROM migrate.event e"
								  "     JOIN migrate.migration a ON a.version OPERATOR(pg_catalog.=) e.version"
								  "     WHERE e.action OPERATOR(pg_catalog.=) 'apply'"
								  "      AND e.outcome OPERATOR(pg_catalog.=) 'success'"
								  "      AND e.started_at OPERATOR(pg_catalog.>=) b.created_at"
								  "      AND a.version_key OPERATOR(pg_catalog.>) b.version_key)) s"
								  "  ORDER BY s.preference LIMIT 1) src"
								  " WHERE m.version OPERATOR(pg_catalog.=) $1 AND " ADOPTABLE_SQL,
								  1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return;
	covered_by = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
	rows = copy_adoptions(&count);
	(void) adopt_all(rows, count);
	ereport(NOTICE,
			(errmsg("migration %s marked applied without running: %s covers it",
					version, covered_by ? covered_by : "an adoption")));
}

/* see adopt.h */
List *
migrate_adopt_imported(const char *tool, const char *tool_version)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	Adoption   *rows;
	int			count;

	values[0] = CStringGetTextDatum(tool);
	values[1] = CStringGetTextDatum(tool_version);
	migrate_spi_run_as_owner("SELECT m.version, m.name, 'import', i.applied_at, " IMPORT_DETAIL_SQL
							 " FROM migrate.imported_history i JOIN migrate.migration m ON " COVERS_SQL
							 " WHERE i.tool OPERATOR(pg_catalog.=) $1"
							 " AND i.version OPERATOR(pg_catalog.=) $2 AND " ADOPTABLE_SQL
							 " ORDER BY m.version_key",
							 2, argtypes, values, NULL, SPI_OK_SELECT);
	rows = copy_adoptions(&count);
	return adopt_all(rows, count);
}

/* see adopt.h */
void
migrate_adopt_count_covered(const char *tool, const char *tool_version, int *covered, int *done)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		isnull;

	values[0] = CStringGetTextDatum(tool);
	values[1] = CStringGetTextDatum(tool_version);
	migrate_spi_run_as_owner("SELECT pg_catalog.count(*)::pg_catalog.int4,"
							 " (pg_catalog.count(*) FILTER (WHERE m.state IN ('applied', 'skipped')))::pg_catalog.int4"
							 " FROM migrate.imported_history i JOIN migrate.migration m ON " COVERS_SQL
							 " WHERE i.tool OPERATOR(pg_catalog.=) $1"
							 " AND i.version OPERATOR(pg_catalog.=) $2",
							 2, argtypes, values, NULL, SPI_OK_SELECT);
	*covered = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*done = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
}

/* the fingerprint of the schema as it is now, read as the caller */
static char *
current_fingerprint(void)
{
	migrate_spi_run_pinned("SELECT migrate.fingerprint()", 0, NULL, NULL, NULL, true,
						   SPI_OK_SELECT);
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* keep the baseline; one baseline per version, the last call wins */
static void
store_baseline(const char *version, const char *description, const char *fingerprint)
{
	Oid			argtypes[5] = {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, NAMEOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(version);
	values[1] = PointerGetDatum(migrate_version_make_key(version));
	migrate_catalog_set_text_arg(values, nulls, 2, description);
	values[3] = CStringGetTextDatum(fingerprint);
	values[4] = DirectFunctionCall1(namein, CStringGetDatum(migrate_catalog_current_role()));
	migrate_spi_run_as_owner("INSERT INTO migrate.baseline_record AS b"
							 " (version, version_key, description, fingerprint, created_by)"
							 " VALUES ($1, $2, $3, $4, $5)"
							 " ON CONFLICT (version_key) DO UPDATE SET version = EXCLUDED.version,"
							 " description = EXCLUDED.description, fingerprint = EXCLUDED.fingerprint,"
							 " created_at = pg_catalog.now(), created_by = EXCLUDED.created_by",
							 5, argtypes, values, nulls, SPI_OK_INSERT);
}

/* the registered migrations up to the baseline that were never applied */
static Adoption *
covered_by_baseline(const char *version, const char *description, int *count)
{
	Oid			argtypes[3] = {BYTEAOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	values[0] = PointerGetDatum(migrate_version_make_key(version));
	values[1] = CStringGetTextDatum(version);
	migrate_catalog_set_text_arg(values, nulls, 2, description);
	migrate_spi_run_as_owner("SELECT m.version, m.name, 'baseline', NULL::pg_catalog.timestamptz,"
							 " pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
							 "  'baseline', $2, 'description', $3))"
							 " FROM migrate.migration m"
							 " WHERE m.version_key OPERATOR(pg_catalog.<=) $1 AND " ADOPTABLE_SQL
							 " ORDER BY m.version_key",
							 3, argtypes, values, nulls, SPI_OK_SELECT);
	return copy_adoptions(count);
}

/* history: the baseline itself, with the fingerprint it recorded */
static void
record_baseline_event(const char *version, const char *description, const char *fingerprint,
					  List *adopted)
{
	MigrateEvent event = {0};
	MigrateJsonBuilder detail = MIGRATE_JSON_BUILDER;
	ListCell   *lc;

	migrate_json_begin_object(&detail, NULL);
	migrate_json_add_text(&detail, "baseline", version);
	if (description != NULL)
		migrate_json_add_text(&detail, "description", description);
	migrate_json_add_text(&detail, "fingerprint", fingerprint);
	migrate_json_begin_array(&detail, "marked_applied");
	foreach(lc, adopted)
		migrate_json_add_text(&detail, NULL, lfirst(lc));
	migrate_json_end(&detail);
	migrate_json_end(&detail);

	event.action = "baseline";
	event.version = version;
	event.outcome = "success";
	event.role = migrate_catalog_current_role();
	event.started_at = GetCurrentTimestamp();
	event.duration_us = -1;
	event.detail = migrate_json_finish(&detail);
	migrate_catalog_insert_event(&event);
}

/*
 * migrate.baseline(version, description) returns integer: adopt the
 * database as it is.  Every registered migration up to and including
 * "version" that was never applied is marked applied without running;
 * the baseline is kept, so that those registered later are marked applied
 * too; the schema's fingerprint is recorded with it.  Returns how many
 * migrations were marked now.  "version" need not be registered.
 */
Datum
migrate_baseline(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *description;
	char	   *fingerprint;
	Adoption   *rows;
	int			count;
	List	   *adopted;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version must not be null"),
				 errhint("Name the version of the last migration the database already has.")));
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	description = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	migrate_version_check(version);

	migrate_lock_acquire();
	migrate_xact_spi_connect();
	fingerprint = current_fingerprint();
	store_baseline(version, description, fingerprint);
	/* the baseline accepts the schema as it is: drift is counted from here */
	migrate_driftlog_record_state("baseline", NULL);
	rows = covered_by_baseline(version, description, &count);
	adopted = adopt_all(rows, count);
	record_baseline_event(version, description, fingerprint, adopted);
	SPI_finish();
	PG_RETURN_INT32(count);
}
