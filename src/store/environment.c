/*-------------------------------------------------------------------------
 *
 * environment.c
 *	  The current environment's guard rails (migrate.environment_setting).
 *
 * The setting migrate.environment (guc.c, superuser-only) names a row of
 * migrate.environment_setting; every function that applies, reverts or
 * plans reads that row through migrate_environment_current() and obeys
 * it.  There is no environment, and so no rail, when the setting is empty
 * or when the installed SQL is 1.0's (the 1.1 library runs on a 1.0
 * catalog until ALTER EXTENSION migrate UPDATE, and 1.0 had no table for
 * it): that is 1.0's behaviour.  A name without a row is an error, MG016:
 * running production's migrations without production's rules because of
 * a typing error in a setting is what the rails are there to prevent.
 *
 * The row is read on every call, with a plan kept for the backend: the
 * rules may change between two migrations of one session (configure() is
 * a plain transactional UPDATE), and one indexed read per migration costs
 * little next to running it.
 *
 * migrate.configure() itself is SQL (migrate--1.0--1.1.sql): it only
 * updates the table and the history.
 *
 * IDENTIFICATION
 *	  src/store/environment.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "errors.h"
#include "guc.h"
#include "store/environment.h"
#include "store/spi.h"

/* the columns of migrate.environment_setting the rails are made of */
#define ENVIRONMENT_QUERY \
	"SELECT s.lock_timeout, s.statement_timeout, s.lock_retries, s.lock_retry_backoff," \
	" s.require_approval, s.four_eyes, s.backup, s.revert_window," \
	" s.max_risk_level, s.require_zero_downtime, s.drift_blocks_apply," \
	" s.lint_blocking, s.lint_large_table, s.lint_require_timeouts" \
	" FROM migrate.environment_setting s" \
	" WHERE s.environment OPERATOR(pg_catalog.=) $1"

static SPIPlanPtr environment_plan = NULL;

/*
 * Whether the installed catalog has migrate.environment_setting (1.1), by
 * a syscache lookup: no query, and no error on a 1.0 catalog.
 */
static bool
has_environment_table(void)
{
	Oid			schema = get_namespace_oid("migrate", true);

	return OidIsValid(schema) &&
		OidIsValid(get_relname_relid("environment_setting", schema));
}

/* the environment migrate.environment names, or NULL for none */
static const char *
environment_name(void)
{
	if (migrate_environment_name == NULL || migrate_environment_name[0] == '\0')
		return NULL;
	return migrate_environment_name;
}

/* an interval as microseconds, a month counted as 30 days (as EXTRACT(epoch) does) */
static int64
interval_usecs(Interval *interval)
{
	return interval->time +
		((int64) interval->month * DAYS_PER_MONTH + interval->day) * USECS_PER_DAY;
}

/*
 * An interval column in milliseconds, for the int fields of the rails;
 * the table's CHECK constraints keep them within int range.
 */
static int
column_ms(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);

	if (isnull)
		return 0;
	return (int) Min(interval_usecs(DatumGetIntervalP(value)) / 1000, (int64) PG_INT32_MAX);
}

static bool
column_bool(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);

	return !isnull && DatumGetBool(value);
}

/* a text[] column as a List of strings; NIL for NULL or an empty array */
static List *
column_text_list(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);
	Datum	   *elems;
	bool	   *elem_nulls;
	int			nelems;
	List	   *result = NIL;

	if (isnull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elem_nulls, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		if (!elem_nulls[i])
			result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

/* ERROR MG016: migrate.environment names an environment without a row */
static void
unknown_environment(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_UNKNOWN_ENVIRONMENT),
			 errmsg("environment \"%s\" is not configured", name),
			 errdetail("The setting migrate.environment names it, and migrate.environment_setting has no row for it."),
			 errhint("Create it with migrate.configure('%s', ...), or correct migrate.environment.",
					 name)));
}

/* fill the rails from the row the environment query returned */
static void
decode_environment(HeapTuple tuple, TupleDesc desc, MigrateEnvironment *env)
{
	bool		isnull;
	Datum		value;
	char	   *backup;

	env->lock_timeout_ms = column_ms(tuple, desc, 1);
	env->statement_timeout_ms = column_ms(tuple, desc, 2);
	value = SPI_getbinval(tuple, desc, 3, &isnull);
	env->lock_retries = isnull ? 0 : DatumGetInt32(value);
	env->lock_retry_backoff_ms = column_ms(tuple, desc, 4);
	env->require_approval = column_bool(tuple, desc, 5);
	env->four_eyes = column_bool(tuple, desc, 6);
	backup = SPI_getvalue(tuple, desc, 7);
	env->backup_copy = backup != NULL && strcmp(backup, "copy") == 0;
	value = SPI_getbinval(tuple, desc, 8, &isnull);
	env->has_revert_window = !isnull;
	env->revert_window_us = isnull ? 0 : interval_usecs(DatumGetIntervalP(value));
	env->max_risk_level = SPI_getvalue(tuple, desc, 9);
	env->require_zero_downtime = column_bool(tuple, desc, 10);
	env->drift_blocks_apply = column_bool(tuple, desc, 11);
	env->lint_blocking = column_text_list(tuple, desc, 12);
	/* NULL keeps the default threshold migrate_environment_current() set */
	value = SPI_getbinval(tuple, desc, 13, &isnull);
	if (!isnull)
		env->lint_large_table_bytes = DatumGetInt64(value);
	env->lint_require_timeouts = column_bool(tuple, desc, 14);
}

/*
 * The settings of the environment migrate.environment names, allocated in
 * the current memory context (see store/environment.h); an environment
 * without a row is MG016, or no environment when missing_ok.
 */
static const MigrateEnvironment *
load_environment(bool missing_ok)
{
	MigrateEnvironment *env = palloc0(sizeof(MigrateEnvironment));
	const char *name = environment_name();
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	env->lint_large_table_bytes = MIGRATE_LINT_DEFAULT_LARGE_TABLE_BYTES;

	if (name == NULL || !has_environment_table())
		return env;

	values[0] = CStringGetTextDatum(name);
	migrate_spi_run_kept_as_owner(&environment_plan, ENVIRONMENT_QUERY,
								  1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		if (missing_ok)
			return env;
		unknown_environment(name);
	}
	env->name = pstrdup(name);
	decode_environment(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, env);
	SPI_freetuptable(SPI_tuptable);
	return env;
}

const MigrateEnvironment *
migrate_environment_current(void)
{
	return load_environment(false);
}

const MigrateEnvironment *
migrate_environment_current_or_none(void)
{
	return load_environment(true);
}

/*
 * Whether the migration may run in "env": yes without an environment or
 * without @environments; otherwise only if the list names it (exactly,
 * as a schedule's environment is matched).
 */
bool
migrate_environment_allows(const MigrateEnvironment *env, const MigrateMigration *m)
{
	ListCell   *lc;

	if (env == NULL || env->name == NULL || m->environments == NIL)
		return true;
	foreach(lc, m->environments)
		if (strcmp(lfirst(lc), env->name) == 0)
			return true;
	return false;
}
