/*-------------------------------------------------------------------------
 *
 * register.c
 *	  migrate.register(), migrate.repair() and migrate.require().
 *
 * Registration validates everything it can before storing anything: the
 * version, the metadata header, and both scripts, which must parse and
 * must not contain transaction control.  Scripts are stored normalised
 * (checksum.c) with their SHA-256 checksums.  Registering identical content
 * again changes nothing; new content replaces the old while the migration
 * is not applied; once applied, a change is refused (XX001) until
 * migrate.repair() accepts it, and the repair is recorded in history.
 *
 * A repeatable migration ("@repeatable: true", Flyway's R__ files) is the
 * exception: new content for an applied one replaces the old and makes it
 * pending again (re-queued), so that the next apply() runs it again.  The
 * checksums it was applied with stay as a record until then, and history
 * says why it is pending.
 *
 * IDENTIFICATION
 *	  src/store/register.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "store/catalog.h"
#include "model/checksum.h"
#include "errors.h"
#include "model/header.h"
#include "store/lock.h"
#include "model/parse.h"
#include "model/version.h"
#include "ipc/xact.h"
#include "model/json.h"
#include "store/spi.h"
#include "store/gendown.h"
#include "store/lintstore.h"
#include "store/adopt.h"

PG_FUNCTION_INFO_V1(migrate_register);
PG_FUNCTION_INFO_V1(migrate_register_1_1);
PG_FUNCTION_INFO_V1(migrate_repair);
PG_FUNCTION_INFO_V1(migrate_require);
PG_FUNCTION_INFO_V1(migrate_require_1_1);

/* a migration's scripts after validation, ready to store */
typedef struct MigrationScripts
{
	const char *version;
	char	   *up;				/* normalised */
	char	   *down;			/* normalised, or NULL */
	char	   *checksum;
	char	   *down_checksum;	/* NULL without down */
	MigrateHeader *header;
	int			statements;
	bool		transactional;
	bool		down_transactional;
	char	   *verify;			/* normalised, or NULL */
	char	   *precondition;	/* normalised, or NULL */
	const char *precondition_mode;	/* fail, skip or warn */
} MigrationScripts;

/* the registered row of a version, as far as register and repair need it */
typedef struct RegisteredRow
{
	char	   *version;
	char	   *name;
	char	   *state;
	char	   *up;
	char	   *down;
	char	   *checksum;
	char	   *down_checksum;
	char	   *applied_checksum;
	char	   *applied_down_checksum;
	char	   *verify;
	char	   *precondition;
	char	   *precondition_mode;
	bool		repeatable;		/* false on a 1.0 catalog */
} RegisteredRow;

static void
check_not_null(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
}

static char *
text_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * Whether a parsed script may run in a transaction block, given what its
 * header says.  A header that insists on a transaction for a statement
 * that cannot have one is an error.
 */
static bool
script_is_transactional(const MigrateParsedScript *parsed, MigrateHeaderBool header_says,
						const char *what)
{
	const MigrateStatement *stmt = parsed->first_nontransactional;

	if (stmt != NULL && header_says == HEADER_TRUE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is marked \"@transaction: true\" but statement %d cannot run inside a transaction block",
						what, stmt->number),
				 errdetail("Statement %d at line %d is %s.", stmt->number, stmt->line, stmt->classified.command),
				 errhint("Remove the \"@transaction\" header; such migrations run outside a transaction block.")));
	return stmt == NULL && header_says != HEADER_FALSE;
}

/*
 * A migration's scripts normalised (checksum.c) with their checksums:
 * what identifies its content.  Nothing is validated yet.
 */
static MigrationScripts *
normalise_scripts(const char *version, const char *up, const char *down)
{
	MigrationScripts *s = palloc0(sizeof(MigrationScripts));

	s->version = version;
	s->up = migrate_checksum_normalise(up);
	s->checksum = migrate_checksum_compute(s->up);
	if (down != NULL)
	{
		s->down = migrate_checksum_normalise(down);
		s->down_checksum = migrate_checksum_compute(s->down);
	}
	return s;
}

/*
 * Validate normalised scripts: the header, both scripts parse, where they
 * may run, no dependency on itself.  Fills in what registration stores
 * besides the text.
 */
static void
validate_scripts(MigrationScripts *s)
{
	char	   *what = psprintf("up script of migration \"%s\"", s->version);
	MigrateParsedScript *parsed;
	ListCell   *lc;

	s->header = migrate_header_parse(s->up);
	/* an empty up script (or only comments) is a valid no-op migration */
	parsed = migrate_parse_script(s->up, what);
	s->statements = parsed->nstatements;
	s->transactional = script_is_transactional(parsed, s->header->transactional, what);

	foreach(lc, s->header->dependencies)
	{
		if (migrate_version_compare_keys(migrate_version_make_key(lfirst(lc)),
										 migrate_version_make_key(s->version)) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_MIGRATE_DEPENDENCY_CYCLE),
					 errmsg("migration \"%s\" depends on itself", s->version)));
	}

	if (s->down != NULL)
	{
		what = psprintf("down script of migration \"%s\"", s->version);
		parsed = migrate_parse_script(s->down, what);
		s->down_transactional = script_is_transactional(parsed,
														migrate_header_parse(s->down)->transactional,
														what);
	}
}

/* normalise and validate a migration's scripts */
static MigrationScripts *
analyse_scripts(const char *version, const char *up, const char *down)
{
	MigrationScripts *s = normalise_scripts(version, up, down);

	validate_scripts(s);
	return s;
}

/*
 * A verify or precondition script (normalised), split by the parser to
 * prove it parses and holds no transaction control.  Unlike an up or down
 * script it must hold a statement: a check is optional (NULL means none),
 * and one that checks nothing would be reported as holding.
 */
static void
validate_check(const char *version, const char *what, const char *normalised)
{
	if (normalised == NULL)
		return;
	if (migrate_parse_script(normalised, psprintf("%s script of migration \"%s\"",
												  what, version))->nstatements == 0)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_EMPTY_SCRIPT),
				 errmsg("%s script of migration \"%s\" contains no statements", what, version)));
}

/* a precondition mode: fail, skip or warn */
static void
check_precondition_mode(const char *mode)
{
	if (strcmp(mode, "fail") == 0 || strcmp(mode, "skip") == 0 || strcmp(mode, "warn") == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid precondition mode \"%s\"", mode),
			 errhint("Use fail, skip or warn.")));
}

/*
 * Validate the verify and precondition scripts and the precondition mode,
 * which only a migration that runs in a transaction block may have.
 */
static void
validate_checks(const MigrationScripts *s)
{
	validate_check(s->version, "verify", s->verify);
	validate_check(s->version, "precondition", s->precondition);
	check_precondition_mode(s->precondition_mode);
	if (!s->transactional && (s->verify || s->precondition))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("migration \"%s\" cannot have verify or precondition scripts", s->version),
				 errdetail("It runs outside a transaction block, so a failed check could not undo it."),
				 errhint("Move the statements that need a transaction block into a migration of their own.")));
}

static Datum
text_list_datum(List *items)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(items), 1));
	ListCell   *lc;

	foreach(lc, items)
		elems[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(items), TEXTOID,
										   -1, false, TYPALIGN_INT));
}

/*
 * Insert the migration, or replace the content of the registered one.
 */
static void
store_migration(const MigrationScripts *s, const char *name)
{
	const MigrateHeader *h = s->header;
	Oid			argtypes[23] = {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, INT2OID, INT4OID, BOOLOID,
		BOOLOID, TEXTOID, TEXTOID, DATEOID, TEXTARRAYOID,
		TEXTOID, BOOLOID, INTERVALOID, TEXTARRAYOID, NAMEOID,
	TEXTOID, TEXTOID, TEXTOID};
	Datum		values[23];
	char		nulls[23];

	memset(nulls, ' ', sizeof(nulls));
	migrate_catalog_set_text_arg(values, nulls, 0, s->version);
	values[1] = PointerGetDatum(migrate_version_make_key(s->version));
	migrate_catalog_set_text_arg(values, nulls, 2, name);
	migrate_catalog_set_text_arg(values, nulls, 3, s->up);
	migrate_catalog_set_text_arg(values, nulls, 4, s->down);
	migrate_catalog_set_text_arg(values, nulls, 5, s->checksum);
	migrate_catalog_set_text_arg(values, nulls, 6, s->down_checksum);
	values[7] = Int16GetDatum(MIGRATE_CHECKSUM_VERSION);
	values[8] = Int32GetDatum(s->statements);
	values[9] = BoolGetDatum(s->transactional);
	values[10] = BoolGetDatum(s->down_transactional);
	nulls[10] = s->down ? ' ' : 'n';
	migrate_catalog_set_text_arg(values, nulls, 11, h->description);
	migrate_catalog_set_text_arg(values, nulls, 12, h->author);
	values[13] = DateADTGetDatum(h->created);
	nulls[13] = h->has_created ? ' ' : 'n';
	values[14] = text_list_datum(h->dependencies);
	migrate_catalog_set_text_arg(values, nulls, 15, h->risk_level);
	values[16] = BoolGetDatum(h->zero_downtime == HEADER_TRUE);
	nulls[16] = h->zero_downtime == HEADER_UNSET ? 'n' : ' ';
	values[17] = PointerGetDatum(h->estimated_duration);
	nulls[17] = h->estimated_duration ? ' ' : 'n';
	values[18] = text_list_datum(h->environments);
	nulls[18] = h->environments ? ' ' : 'n';
	values[19] = DirectFunctionCall1(namein, CStringGetDatum(migrate_catalog_current_role()));
	migrate_catalog_set_text_arg(values, nulls, 20, s->verify);
	migrate_catalog_set_text_arg(values, nulls, 21, s->precondition);
	migrate_catalog_set_text_arg(values, nulls, 22, s->precondition_mode);

	migrate_spi_run_as_owner("INSERT INTO migrate.migration AS m (version, version_key, name,"
							 " up_script, down_script, checksum, down_checksum, checksum_version,"
							 " statements, transactional, down_transactional, description, author,"
							 " created, dependencies, risk_level, zero_downtime, estimated_duration,"
							 " environments, registered_by, verify_script, precondition_script,"
							 " precondition_mode)"
							 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
							 " $15, $16, $17, $18, $19, $20, $21, $22, $23)"
							 " ON CONFLICT (version) DO UPDATE SET"
							 " up_script = EXCLUDED.up_script, down_script = EXCLUDED.down_script,"
							 " checksum = EXCLUDED.checksum, down_checksum = EXCLUDED.down_checksum,"
							 " checksum_version = EXCLUDED.checksum_version,"
							 " statements = EXCLUDED.statements,"
							 " transactional = EXCLUDED.transactional,"
							 " down_transactional = EXCLUDED.down_transactional,"
							 " description = EXCLUDED.description, author = EXCLUDED.author,"
							 " created = EXCLUDED.created, dependencies = EXCLUDED.dependencies,"
							 " risk_level = EXCLUDED.risk_level,"
							 " zero_downtime = EXCLUDED.zero_downtime,"
							 " estimated_duration = EXCLUDED.estimated_duration,"
							 " environments = EXCLUDED.environments,"
							 " approved_at = CASE WHEN (m.checksum, m.down_checksum, m.verify_script,"
							 "     m.precondition_script, m.precondition_mode) IS NOT DISTINCT FROM"
							 "     (EXCLUDED.checksum, EXCLUDED.down_checksum, EXCLUDED.verify_script,"
							 "     EXCLUDED.precondition_script, EXCLUDED.precondition_mode)"
							 "     THEN m.approved_at END,"
							 " approved_by = CASE WHEN (m.checksum, m.down_checksum, m.verify_script,"
							 "     m.precondition_script, m.precondition_mode) IS NOT DISTINCT FROM"
							 "     (EXCLUDED.checksum, EXCLUDED.down_checksum, EXCLUDED.verify_script,"
							 "     EXCLUDED.precondition_script, EXCLUDED.precondition_mode)"
							 "     THEN m.approved_by END,"
							 " state = CASE WHEN m.state IN ('failed', 'skipped') THEN 'pending' ELSE m.state END,"
							 " apply_seq = CASE WHEN m.state = 'skipped' THEN NULL ELSE m.apply_seq END,"
							 " applied_at = CASE WHEN m.state = 'skipped' THEN NULL ELSE m.applied_at END,"
							 " applied_by = CASE WHEN m.state = 'skipped' THEN NULL ELSE m.applied_by END,"
							 " resume_statement = CASE WHEN m.checksum = EXCLUDED.checksum"
							 "     AND m.down_checksum IS NOT DISTINCT FROM EXCLUDED.down_checksum"
							 "     THEN m.resume_statement END,"
							 " last_error = CASE WHEN m.state = 'failed' THEN NULL ELSE m.last_error END,"
							 " registered_at = pg_catalog.now(),"
							 " registered_by = EXCLUDED.registered_by,"
							 " verify_script = EXCLUDED.verify_script,"
							 " precondition_script = EXCLUDED.precondition_script,"
							 " precondition_mode = EXCLUDED.precondition_mode",
							 23, argtypes, values, nulls, SPI_OK_INSERT);
}

/*
 * Store whether the migration is repeatable (its header says so), and
 * re-queue it: pending again, no longer in the order of application, the
 * checksums it was applied with kept until it is applied again (they tell
 * plan() and migrate.status that it changed since).  On a 1.0 catalog,
 * which has no column for it, a repeatable migration is refused.
 */
static void
store_repeatable(const char *version, const MigrateHeader *header, bool requeue)
{
	Oid			argtypes[3] = {TEXTOID, BOOLOID, BOOLOID};
	Datum		values[3];

	if (!migrate_catalog_has_repeatable())
	{
		if (header->repeatable == HEADER_TRUE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("migration \"%s\" cannot be repeatable before extension migrate is updated", version),
					 errdetail("The header says \"@repeatable: true\"; the installed catalog is version 1.0's, which has no place for it."),
					 errhint("Run ALTER EXTENSION migrate UPDATE first.")));
		return;
	}
	values[0] = CStringGetTextDatum(version);
	values[1] = BoolGetDatum(header->repeatable == HEADER_TRUE);
	values[2] = BoolGetDatum(requeue);
	migrate_spi_run_as_owner("UPDATE migrate.migration SET repeatable = $2,"
							 " state = CASE WHEN $3 THEN 'pending' ELSE state END,"
							 " apply_seq = CASE WHEN $3 THEN NULL ELSE apply_seq END"
							 " WHERE version OPERATOR(pg_catalog.=) $1",
							 3, argtypes, values, NULL, SPI_OK_UPDATE);
}

/* the registered migration whose version equals this one naturally */
static RegisteredRow *
find_registered(const char *version)
{
	Oid			argtypes[1] = {BYTEAOID};
	Datum		values[1] = {PointerGetDatum(migrate_version_make_key(version))};
	RegisteredRow *row;
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;

	migrate_spi_run_as_owner(migrate_catalog_has_repeatable() ?
							 "SELECT version, name, state, up_script, down_script, checksum,"
							 " down_checksum, applied_checksum, applied_down_checksum,"
							 " verify_script, precondition_script, precondition_mode, repeatable"
							 " FROM migrate.migration WHERE version_key = $1" :
							 "SELECT version, name, state, up_script, down_script, checksum,"
							 " down_checksum, applied_checksum, applied_down_checksum,"
							 " verify_script, precondition_script, precondition_mode, false"
							 " FROM migrate.migration WHERE version_key = $1",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;

	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row = palloc0(sizeof(RegisteredRow));
	row->version = SPI_getvalue(tuple, desc, 1);
	row->name = SPI_getvalue(tuple, desc, 2);
	row->state = SPI_getvalue(tuple, desc, 3);
	row->up = SPI_getvalue(tuple, desc, 4);
	row->down = SPI_getvalue(tuple, desc, 5);
	row->checksum = SPI_getvalue(tuple, desc, 6);
	row->down_checksum = SPI_getvalue(tuple, desc, 7);
	row->applied_checksum = SPI_getvalue(tuple, desc, 8);
	row->applied_down_checksum = SPI_getvalue(tuple, desc, 9);
	row->verify = SPI_getvalue(tuple, desc, 10);
	row->precondition = SPI_getvalue(tuple, desc, 11);
	row->precondition_mode = SPI_getvalue(tuple, desc, 12);
	row->repeatable = DatumGetBool(SPI_getbinval(tuple, desc, 13, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return row;
}

static bool
strings_equal(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_content(const RegisteredRow *row, const MigrationScripts *s)
{
	return strcmp(row->checksum, s->checksum) == 0 &&
		strings_equal(row->down_checksum, s->down_checksum);
}

/* verify and precondition are checks, not content: they may change any time */
static bool
same_checks(const RegisteredRow *row, const MigrationScripts *s)
{
	return strings_equal(row->verify, s->verify) &&
		strings_equal(row->precondition, s->precondition) &&
		strcmp(row->precondition_mode, s->precondition_mode) == 0;
}

/* whether "row" is this very migration: version as written, name, content */
static bool
registered_as(const RegisteredRow *row, const char *version, const char *name,
			  const MigrationScripts *s)
{
	return row != NULL && strcmp(row->version, version) == 0 &&
		strcmp(row->name, name) == 0 && same_content(row, s) && same_checks(row, s);
}

/* every check registration makes of new content */
static void
validate_all(MigrationScripts *s)
{
	validate_scripts(s);
	validate_checks(s);
}

/* true unless the migration is applied with content other than the registered */
static bool
applied_content_matches(const RegisteredRow *row)
{
	return !migrate_catalog_is_applied_state(row->state) ||
		(strings_equal(row->applied_checksum, row->checksum) &&
		 strings_equal(row->applied_down_checksum, row->down_checksum));
}

/* record a successful register or repair in history */
static void
record_change(const char *action, const RegisteredRow *row, const char *version,
			  const char *name, const char *checksum, Jsonb *detail)
{
	MigrateEvent event = {0};

	event.action = action;
	event.version = version;
	event.name = name;
	event.outcome = "success";
	event.role = migrate_catalog_current_role();
	event.started_at = GetCurrentTimestamp();
	event.duration_us = -1;
	event.checksum = checksum;
	event.detail = detail;
	migrate_catalog_insert_event(&event);
}

/*
 * The history detail of a content change: the checksums before and after,
 * and for a repeatable migration made pending again, that and why.
 */
static Jsonb *
change_detail(const RegisteredRow *row, const char *checksum, const char *down_checksum,
			  bool requeued)
{
	MigrateJsonBuilder b = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&b, NULL);
	if (requeued)
	{
		migrate_json_add_bool(&b, "requeued", true);
		migrate_json_add_text(&b, "reason",
							  "repeatable migration: its content changed, so it is pending again and the next apply runs it again");
	}
	migrate_json_add_text(&b, "previous_checksum", row ? row->checksum : NULL);
	migrate_json_add_text(&b, "previous_down_checksum", row ? row->down_checksum : NULL);
	if (row && row->applied_checksum)
		migrate_json_add_text(&b, "previous_applied_checksum", row->applied_checksum);
	migrate_json_add_text(&b, "checksum", checksum);
	migrate_json_add_text(&b, "down_checksum", down_checksum);
	migrate_json_end(&b);
	return migrate_json_finish(&b);
}

/* a dirty migration is half run: its scripts must not change under it */
static void
refuse_dirty_change(const RegisteredRow *row)
{
	if (strcmp(row->state, "dirty") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_DIRTY),
				 errmsg("cannot change migration \"%s\" because it is dirty", row->version),
				 errdetail("It stopped part way outside a transaction block; its scripts decide what the rest of it does."),
				 errhint("Resolve it first with migrate.resolve('%s', 'mark_applied') or 'mark_reverted'.",
						 row->version)));
}

/*
 * Refuse new content for an applied migration, naming both checksums: an
 * applied migration changes only through repair().  A repeatable one
 * whose new content dropped "@repeatable: true" is told how to keep it
 * repeatable.
 */
static void
refuse_applied_change(const RegisteredRow *row, const MigrationScripts *s)
{
	if (row->repeatable && s->header->repeatable != HEADER_TRUE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("cannot change migration \"%s\" because it is applied", row->version),
				 errdetail("It is repeatable, but the header of the new up script does not say \"@repeatable: true\"."),
				 errhint("Keep \"@repeatable: true\" in the header to have it applied again with the new content.")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("cannot change migration \"%s\" because it is applied", row->version),
			 strcmp(row->checksum, s->checksum) != 0 ?
			 errdetail("The registered up script has checksum %s; the new one has checksum %s.",
					   row->checksum, s->checksum) :
			 errdetail("The registered down script has checksum %s; the new one has checksum %s.",
					   row->down_checksum ? row->down_checksum : "(none)",
					   s->down_checksum ? s->down_checksum : "(none)"),
			 errhint("Register the change as a new migration, or accept the edit with migrate.repair('%s', up => ..., down => ...).",
					 row->version)));
}

/*
 * A new name may not hold control characters (a newline, a tab, an escape
 * sequence): the messages of a run print names as they are, and a newline
 * in one would forge lines of the server log.  A name already registered
 * (by 1.0, which did not check) stays accepted as it is, so that its
 * unchanged re-registration keeps working.
 */
static void
check_name_characters(const char *name, const char *version)
{
	RegisteredRow *row;
	int			position = 1;

	for (const char *p = name; *p; p += pg_mblen(p), position++)
	{
		if (!iscntrl((unsigned char) *p))
			continue;
		row = find_registered(version);
		if (row != NULL && strcmp(row->name, name) == 0)
			return;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration name must not contain control characters"),
				 errdetail("Character %d of the name is the control character 0x%02X.",
						   position, (unsigned char) *p)));
	}
}

/*
 * migrate.register(version, name, up, down, verify, precondition,
 * precondition_mode [, generate_down]) returns text: "registered",
 * "updated", "requeued" or "unchanged".  With generate_down (1.1) the
 * down script is generated from the up script (store/gendown.c) and
 * marked as generated; catalog_1_1 says the 1.1 columns exist.
 */
static Datum
register_migration(FunctionCallInfo fcinfo, bool generate_down, bool catalog_1_1)
{
	char	   *version;
	char	   *name;
	MigrationScripts *scripts;
	RegisteredRow *row;
	bool		validated;
	bool		requeue = false;
	const char *outcome;

	check_not_null(fcinfo, 0, "version");
	check_not_null(fcinfo, 1, "name");
	check_not_null(fcinfo, 2, "up");
	version = text_arg(fcinfo, 0);
	name = text_arg(fcinfo, 1);
	migrate_version_check(version);
	if (name[strspn(name, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration name must not be empty")));
	if (generate_down && !PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("register() takes a down script or generate_down => true, not both"),
				 errhint("Pass down => NULL to have the down script generated.")));
	if (generate_down)
		scripts = normalise_scripts(version, text_arg(fcinfo, 2),
									migrate_gendown_for_register(version,
																 migrate_checksum_normalise(text_arg(fcinfo, 2))));
	else
		scripts = normalise_scripts(version, text_arg(fcinfo, 2), text_arg(fcinfo, 3));
	scripts->verify = PG_ARGISNULL(4) ? NULL : migrate_checksum_normalise(text_arg(fcinfo, 4));
	scripts->precondition = PG_ARGISNULL(5) ? NULL : migrate_checksum_normalise(text_arg(fcinfo, 5));
	scripts->precondition_mode = PG_ARGISNULL(6) ? "fail" : text_arg(fcinfo, 6);
	migrate_xact_spi_connect();
	check_name_characters(name, version);

	/*
	 * Content identical to what is registered was validated when it was
	 * stored, and is not validated again: a later release may be stricter
	 * (1.1's header parser refuses a few forms 1.0 accepted), and a deploy
	 * that registers every file again must not fail on migrations that are
	 * registered, perhaps applied, and unchanged.  Anything else is
	 * validated before the lock is taken, so that a bad script never waits.
	 */
	validated = !registered_as(find_registered(version), version, name, scripts);
	if (validated)
		validate_all(scripts);

	migrate_lock_acquire();
	row = find_registered(version);
	if (row != NULL && strcmp(row->version, version) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("migration version \"%s\" is already registered as \"%s\"",
						version, row->version),
				 errdetail("Versions compare naturally, so \"%s\" and \"%s\" are the same version.",
						   version, row->version)));
	if (row != NULL && strcmp(row->name, name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("migration version \"%s\" is already registered with name \"%s\"",
						version, row->name),
				 errhint("Give the new migration a version of its own.")));

	if (registered_as(row, version, name, scripts))
		outcome = "unchanged";
	else
	{
		/* it changed while we waited for the lock */
		if (!validated)
			validate_all(scripts);
		if (row != NULL && !same_content(row, scripts))
		{
			refuse_dirty_change(row);
			/* applied: only a repeatable migration may change, to run again */
			if (migrate_catalog_is_applied_state(row->state))
			{
				if (row->repeatable && scripts->header->repeatable == HEADER_TRUE)
					requeue = true;
				else
					refuse_applied_change(row, scripts);
			}
		}
		store_migration(scripts, name);
		store_repeatable(version, scripts->header, requeue);
		if (catalog_1_1)
		{
			migrate_gendown_mark(version, generate_down);
			migrate_lint_record(version, scripts->up, scripts->header);
			migrate_adopt_registered(version);
		}
		record_change("register", row, version, name, scripts->checksum,
					  change_detail(row, scripts->checksum, scripts->down_checksum, requeue));
		outcome = requeue ? "requeued" : row ? "updated" : "registered";
	}

	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

/* the 1.0 symbol: no generated down scripts, no lint findings stored */
Datum
migrate_register(PG_FUNCTION_ARGS)
{
	return register_migration(fcinfo, false, false);
}

/* 1.1: register(..., generate_down boolean DEFAULT false) */
Datum
migrate_register_1_1(PG_FUNCTION_ARGS)
{
	return register_migration(fcinfo, !PG_ARGISNULL(7) && PG_GETARG_BOOL(7), true);
}

/* accept the registered content of an applied migration as applied */
static void
acknowledge_checksums(const char *version)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(version)};

	migrate_spi_run_as_owner("UPDATE migrate.migration SET applied_checksum = checksum,"
							 " applied_down_checksum = down_checksum"
							 " WHERE version = $1 AND state = 'applied'",
							 1, argtypes, values, NULL, SPI_OK_UPDATE);
}

/*
 * migrate.repair(version, up, down) returns text: "repaired" or
 * "unchanged".  Without scripts it accepts the registered content of an
 * applied migration (after an out-of-band edit or a restore); with scripts
 * it replaces the content, applied or not.  Either way history records the
 * checksums before and after.
 */
Datum
migrate_repair(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *up = text_arg(fcinfo, 1);
	char	   *down = text_arg(fcinfo, 2);
	RegisteredRow *row;
	MigrationScripts *scripts;
	const char *outcome = "repaired";

	check_not_null(fcinfo, 0, "version");
	version = text_arg(fcinfo, 0);
	migrate_version_check(version);

	migrate_lock_acquire();
	migrate_xact_spi_connect();

	row = find_registered(version);
	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", version)));

	if (up == NULL && down == NULL)
	{
		if (applied_content_matches(row))
			outcome = "unchanged";
		else
		{
			acknowledge_checksums(row->version);
			record_change("repair", row, row->version, row->name, row->checksum,
						  change_detail(row, row->checksum, row->down_checksum, false));
		}
	}
	else
	{
		refuse_dirty_change(row);
		scripts = analyse_scripts(row->version, up ? up : row->up, down ? down : row->down);
		scripts->verify = row->verify;
		scripts->precondition = row->precondition;
		scripts->precondition_mode = row->precondition_mode;
		if (same_content(row, scripts) && applied_content_matches(row))
			outcome = "unchanged";
		else
		{
			store_migration(scripts, row->name);
			store_repeatable(row->version, scripts->header, false);
			/* a new up script: its findings and risk are linted again */
			migrate_lint_record(row->version, scripts->up, scripts->header);
			/* a down script written by hand is no longer the generated one */
			if (down != NULL && !strings_equal(row->down_checksum, scripts->down_checksum))
				migrate_gendown_mark(row->version, false);
			acknowledge_checksums(row->version);
			record_change("repair", row, row->version, row->name, scripts->checksum,
						  change_detail(row, scripts->checksum, scripts->down_checksum, false));
		}
	}

	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

/*
 * The version of an applied migration, as registered; an error unless
 * it is applied, or skipped because it is not meant for this environment
 * (done here: an application that needs it finds the schema it expects).
 * Reads migrate.status with the caller's own privileges.
 */
static char *
require_applied(FunctionCallInfo fcinfo)
{
	char	   *version;
	Oid			argtypes[1] = {BYTEAOID};
	Datum		values[1];
	char	   *found;
	char	   *copy;
	char	   *state;

	check_not_null(fcinfo, 0, "version");
	version = text_arg(fcinfo, 0);
	values[0] = PointerGetDatum(migrate_version_make_key(version));
	migrate_xact_spi_connect();
	migrate_spi_run_pinned("SELECT version, state FROM migrate.status"
						   " WHERE migrate.version_key(version) OPERATOR(pg_catalog.=) $1",
						   1, argtypes, values, NULL, true, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", version),
				 errhint("The application needs a migration this database does not know about.")));
	found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (!migrate_catalog_is_done_state(state))
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_NOT_APPLIED),
				 errmsg("migration \"%s\" is not applied", version),
				 errdetail("Its state is \"%s\".", state),
				 errhint("Apply it with migrate.apply() before starting the application.")));
	/* into the caller's memory: SPI_finish releases SPI's */
	copy = SPI_palloc(strlen(found) + 1);
	strcpy(copy, found);
	SPI_finish();
	return copy;
}

/* migrate.require(version) of 1.0: returns nothing */
Datum
migrate_require(PG_FUNCTION_ARGS)
{
	(void) require_applied(fcinfo);
	PG_RETURN_VOID();
}

/*
 * migrate.require(version) of 1.1: the version it found, as registered
 * (require('13') returns '013'), so that an application can log it.
 */
Datum
migrate_require_1_1(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(require_applied(fcinfo)));
}
