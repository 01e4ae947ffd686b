/*-------------------------------------------------------------------------
 *
 * gendown.c
 *	  migrate.generate_down(), migrate.inversions(), and the generated
 *	  down script of register(..., generate_down => true).
 *
 * The inverses come from model/invert.c, asked with the live catalog
 * (store/relfacts.c): the comment or default a statement replaces is the
 * one the catalog holds when the down script is generated, that is at
 * registration.  A migration registered again with the same up script
 * keeps the down script generated the first time: by then the catalog
 * may have changed, by the migration itself if it is applied (its COMMENT
 * is the current comment, its CREATE ... IF NOT EXISTS found the object),
 * and generating again would give another down script, or none, for the
 * same migration.
 *
 * IDENTIFICATION
 *	  src/store/gendown.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "compat.h"
#include "errors.h"
#include "ipc/xact.h"
#include "model/checksum.h"
#include "model/invert.h"
#include "model/parse.h"
#include "model/version.h"
#include "store/catalog.h"
#include "store/gendown.h"
#include "store/relfacts.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_generate_down);
PG_FUNCTION_INFO_V1(migrate_inversions);

/* the inversions of a script (normalised first, as register() stores it) */
static List *
invert_text(const char *script, const char *what)
{
	char	   *normalised = migrate_checksum_normalise(script);

	return migrate_invert_script(migrate_parse_script(normalised, what),
								 &migrate_live_catalog_facts);
}

/* whether migrate.migration has the column down_generated (1.1) */
static bool
catalog_has_down_generated(void)
{
	Oid			schema = get_namespace_oid("migrate", true);
	Oid			relid = OidIsValid(schema) ? get_relname_relid("migration", schema) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, "down_generated") != InvalidAttrNumber;
}

/*
 * The down script generated for this version and up script when it was
 * registered, or NULL when it is not registered with this up script and a
 * generated down script.
 */
static char *
registered_generated_down(const char *version, const char *up)
{
	Oid			argtypes[2] = {BYTEAOID, TEXTOID};
	Datum		values[2];
	char	   *down = NULL;
	MemoryContext caller = CurrentMemoryContext;

	values[0] = PointerGetDatum(migrate_version_make_key(version));
	values[1] = CStringGetTextDatum(migrate_checksum_compute(up));
	migrate_xact_spi_connect();
	migrate_spi_run_as_owner("SELECT down_script FROM migrate.migration"
							 " WHERE version_key OPERATOR(pg_catalog.=) $1"
							 " AND checksum OPERATOR(pg_catalog.=) $2"
							 " AND down_generated AND down_script IS NOT NULL",
							 2, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		char	   *found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		down = MemoryContextStrdup(caller, found);
	}
	SPI_finish();
	return down;
}

/* "Statement 3 (line 5, DROP TABLE): reason" for each irreversible statement */
static char *
irreversible_list(List *inversions)
{
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	foreach(lc, inversions)
	{
		MigrateInversion *inv = lfirst(lc);

		if (inv->invertible)
			continue;
		appendStringInfo(&out, "%sStatement %d (line %d, %s): %s.",
						 out.len > 0 ? "\n" : "",
						 inv->statement, inv->line, inv->command, inv->reason);
	}
	return out.data;
}

char *
migrate_gendown_for_register(const char *version, const char *up)
{
	List	   *inversions;
	char	   *kept = registered_generated_down(version, up);

	if (kept != NULL)
		return kept;
	inversions = invert_text(up, psprintf("up script of migration \"%s\"", version));
	if (migrate_invert_count_irreversible(inversions) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_NOT_INVERTIBLE),
				 errmsg("the up script of migration \"%s\" cannot be inverted", version),
				 errdetail("%s", irreversible_list(inversions)),
				 errhint("Write the down script by hand and pass it as down, or move the statements that cannot be inverted into a migration of their own.")));
	return migrate_invert_down_script(inversions);
}

/* SPI is connected (register() stores the migration) */
void
migrate_gendown_mark(const char *version, bool generated)
{
	Oid			argtypes[2] = {TEXTOID, BOOLOID};
	Datum		values[2];

	if (!catalog_has_down_generated())
		return;
	values[0] = CStringGetTextDatum(version);
	values[1] = BoolGetDatum(generated);
	migrate_spi_run_as_owner("UPDATE migrate.migration SET down_generated = $2"
							 " WHERE version OPERATOR(pg_catalog.=) $1"
							 " AND down_generated IS DISTINCT FROM $2",
							 2, argtypes, values, NULL, SPI_OK_UPDATE);
}

/* migrate.generate_down(script text) returns text */
Datum
migrate_generate_down(PG_FUNCTION_ARGS)
{
	List	   *inversions = invert_text(text_to_cstring(PG_GETARG_TEXT_PP(0)), "script");

	PG_RETURN_TEXT_P(cstring_to_text(migrate_invert_down_script(inversions)));
}

/*
 * migrate.inversions(script text) returns setof (statement, line,
 * command, invertible, down, reason): one row per statement of the up
 * script, in its order
 */
Datum
migrate_inversions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *inversions;
	ListCell   *lc;

	migrate_materialize_srf(fcinfo);
	inversions = invert_text(text_to_cstring(PG_GETARG_TEXT_PP(0)), "script");
	foreach(lc, inversions)
	{
		MigrateInversion *inv = lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = Int32GetDatum(inv->statement);
		values[1] = Int32GetDatum(inv->line);
		values[2] = CStringGetTextDatum(inv->command);
		values[3] = BoolGetDatum(inv->invertible);
		migrate_catalog_set_text_arg_bool(values, nulls, 4, inv->down);
		migrate_catalog_set_text_arg_bool(values, nulls, 5, inv->reason);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
