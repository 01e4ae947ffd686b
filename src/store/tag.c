/*-------------------------------------------------------------------------
 *
 * tag.c
 *	  migrate.tag(), migrate.untag() and migrate.tag_version(): named
 *	  points in the history of applied migrations.
 *
 * A tag names an applied migration (by default the one applied last), so
 * that "return to the last known good state" is one call:
 * migrate.revert(target => migrate.tag_version('good')) reverts everything
 * applied after that migration, in reverse order of application, as
 * revert(target) always does.  Tags live in migrate.tag, which only the
 * extension owner may touch (dumped with the other tables); readers see
 * them through the view migrate.tags.  Setting and removing one is
 * recorded in history (actions "tag" and "untag"), under the migrate lock
 * like every other change of the catalog, so that "the migration applied
 * last" cannot change under a tag being set.
 *
 * IDENTIFICATION
 *	  src/store/tag.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "ipc/xact.h"
#include "model/json.h"
#include "model/version.h"
#include "store/catalog.h"
#include "store/lock.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_tag);
PG_FUNCTION_INFO_V1(migrate_untag);
PG_FUNCTION_INFO_V1(migrate_tag_version);

/* an applied migration a tag may name */
typedef struct TaggedMigration
{
	char	   *version;		/* as registered */
	char	   *name;
} TaggedMigration;

/*
 * A tag name: not null, not blank, no control characters (names are
 * printed as they are, in messages and by the client).
 */
static char *
tag_name_arg(FunctionCallInfo fcinfo)
{
	char	   *name;
	int			position = 1;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tag name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (name[strspn(name, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tag name must not be empty")));
	for (const char *p = name; *p; p += pg_mblen(p), position++)
	{
		if (iscntrl((unsigned char) *p))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tag name must not contain control characters"),
					 errdetail("Character %d of the name is the control character 0x%02X.",
							   position, (unsigned char) *p)));
	}
	return name;
}

/* first row of the last SPI result: column n as text, or NULL */
static char *
first_value(int column)
{
	return SPI_processed == 0 ? NULL :
		SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column);
}

/* the migration applied last; an error when none is */
static TaggedMigration
latest_applied(void)
{
	TaggedMigration m;

	migrate_spi_run_as_owner("SELECT version, name FROM migrate.migration"
							 " WHERE state OPERATOR(pg_catalog.=) 'applied'"
							 " ORDER BY apply_seq DESC LIMIT 1",
							 0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_NOT_APPLIED),
				 errmsg("no migration is applied"),
				 errdetail("Without a version, a tag names the migration applied last."),
				 errhint("Apply migrations first, or name the version to tag.")));
	m.version = first_value(1);
	m.name = first_value(2);
	return m;
}

/* the migration "version" names (compared naturally); it must be applied */
static TaggedMigration
applied_migration(const char *version)
{
	Oid			argtypes[1] = {BYTEAOID};
	Datum		values[1] = {PointerGetDatum(migrate_version_make_key(version))};
	TaggedMigration m;
	char	   *state;

	migrate_spi_run_as_owner("SELECT version, name, state FROM migrate.migration"
							 " WHERE version_key OPERATOR(pg_catalog.=) $1",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", version)));
	m.version = first_value(1);
	m.name = first_value(2);
	state = first_value(3);
	if (!migrate_catalog_is_applied_state(state))
		ereport(ERROR,
				(errcode(ERRCODE_MIGRATE_NOT_APPLIED),
				 errmsg("migration \"%s\" is not applied", m.version),
				 errdetail("Its state is \"%s\"; a tag names an applied migration, a point that revert() can return to.",
						   migrate_catalog_is_reverted_state(state) ? "reverted" : state),
				 errhint("Apply it first, or tag another version.")));
	return m;
}

/* the version tag "name" names, or NULL when there is no such tag */
static char *
find_tag(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};

	migrate_spi_run_as_owner("SELECT version FROM migrate.tag WHERE name OPERATOR(pg_catalog.=) $1",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	return first_value(1);
}

pg_attribute_noreturn()
static void
no_such_tag(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("tag \"%s\" does not exist", name),
			 errhint("The view migrate.tags lists the tags.")));
}

/* history: a tag was set or removed */
static void
record_tag_event(const char *action, const char *tag, const TaggedMigration *m,
				 const char *comment)
{
	MigrateEvent event = {0};
	MigrateJsonBuilder detail = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&detail, NULL);
	migrate_json_add_text(&detail, "tag", tag);
	if (comment != NULL)
		migrate_json_add_text(&detail, "comment", comment);
	migrate_json_end(&detail);

	event.action = action;
	event.version = m->version;
	event.name = m->name;
	event.outcome = "success";
	event.role = migrate_catalog_current_role();
	event.started_at = GetCurrentTimestamp();
	event.duration_us = -1;
	event.detail = migrate_json_finish(&detail);
	migrate_catalog_insert_event(&event);
}

/* a result, made in the caller's memory: SPI_finish releases SPI's */
static text *
text_for_caller(MemoryContext caller, const char *str)
{
	MemoryContext old = MemoryContextSwitchTo(caller);
	text	   *result = cstring_to_text(str);

	MemoryContextSwitchTo(old);
	return result;
}

/*
 * migrate.tag(name, version, comment) returns text: tag an applied
 * migration (by default the one applied last) and return its version as
 * registered.  Tagging the same version again under the same name changes
 * nothing; a name that already tags another version is an error.
 */
Datum
migrate_tag(PG_FUNCTION_ARGS)
{
	char	   *name = tag_name_arg(fcinfo);
	char	   *version = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *comment = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	MemoryContext caller = CurrentMemoryContext;
	TaggedMigration m;
	char	   *existing;
	text	   *result;

	if (version != NULL)
		migrate_version_check(version);
	migrate_lock_acquire();
	migrate_xact_spi_connect();

	m = version != NULL ? applied_migration(version) : latest_applied();
	existing = find_tag(name);
	if (existing != NULL && strcmp(existing, m.version) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("tag \"%s\" already exists", name),
				 errdetail("It tags migration \"%s\".", existing),
				 errhint("Remove it first with migrate.untag('%s'), or choose another name.", name)));
	if (existing == NULL)
	{
		Oid			argtypes[4] = {TEXTOID, TEXTOID, NAMEOID, TEXTOID};
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};

		values[0] = CStringGetTextDatum(name);
		values[1] = CStringGetTextDatum(m.version);
		values[2] = DirectFunctionCall1(namein, CStringGetDatum(migrate_catalog_current_role()));
		migrate_catalog_set_text_arg(values, nulls, 3, comment);
		migrate_spi_run_as_owner("INSERT INTO migrate.tag (name, version, created_by, comment)"
								 " VALUES ($1, $2, $3, $4)",
								 4, argtypes, values, nulls, SPI_OK_INSERT);
		record_tag_event("tag", name, &m, comment);
	}

	result = text_for_caller(caller, m.version);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

/*
 * migrate.untag(name) returns text: remove a tag, returning the version it
 * tagged.  The migrations stay as they are.
 */
Datum
migrate_untag(PG_FUNCTION_ARGS)
{
	char	   *name = tag_name_arg(fcinfo);
	MemoryContext caller = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	TaggedMigration m;
	text	   *result;

	migrate_lock_acquire();
	migrate_xact_spi_connect();
	migrate_spi_run_as_owner("DELETE FROM migrate.tag t WHERE t.name OPERATOR(pg_catalog.=) $1"
							 " RETURNING t.version,"
							 " (SELECT m.name FROM migrate.migration m"
							 "   WHERE m.version OPERATOR(pg_catalog.=) t.version)",
							 1, argtypes, values, NULL, SPI_OK_DELETE_RETURNING);
	if (SPI_processed == 0)
		no_such_tag(name);
	m.version = first_value(1);
	m.name = first_value(2);
	record_tag_event("untag", name, &m, NULL);

	result = text_for_caller(caller, m.version);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

/*
 * migrate.tag_version(name) returns text: the version a tag names, for
 * migrate.revert(target => migrate.tag_version('good')).
 */
Datum
migrate_tag_version(PG_FUNCTION_ARGS)
{
	char	   *name = tag_name_arg(fcinfo);
	MemoryContext caller = CurrentMemoryContext;
	char	   *version;
	text	   *result;

	migrate_xact_spi_connect();
	version = find_tag(name);
	if (version == NULL)
		no_such_tag(name);
	result = text_for_caller(caller, version);
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}
