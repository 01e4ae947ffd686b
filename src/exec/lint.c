/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  migrate.lint(script) and migrate.lint_rule_list(): the lint's SQL
 *	  face.
 *
 * migrate.lint() lints a script as register() would: with the session's
 * environment (its size threshold, whether it asks for timeouts) and the
 * live catalog (store/relfacts.c), and reports every finding; it stores
 * nothing and runs none of the script.
 *
 * IDENTIFICATION
 *	  src/exec/lint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "compat.h"
#include "ipc/xact.h"
#include "model/checksum.h"
#include "store/environment.h"
#include "store/lintrun.h"

PG_FUNCTION_INFO_V1(migrate_lint);
PG_FUNCTION_INFO_V1(migrate_lint_rule_list);

/*
 * migrate.lint(script text) returns setof (rule, severity, statement,
 * line, message, hint)
 */
Datum
migrate_lint(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *script = migrate_checksum_normalise(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	MigrateParsedScript *parsed;
	MigrateHeader *header;
	const MigrateEnvironment *env;
	List	   *findings;
	ListCell   *lc;

	migrate_materialize_srf(fcinfo);
	header = migrate_header_parse(script);
	parsed = migrate_parse_script(script, "script");
	migrate_xact_spi_connect();
	/* the environment and the findings are in SPI's memory: SPI_finish() last */
	env = migrate_environment_current();
	findings = migrate_lint_live(parsed, header, env);

	foreach(lc, findings)
	{
		MigrateLintFinding *f = lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = CStringGetTextDatum(f->rule->id);
		values[1] = CStringGetTextDatum(migrate_lint_severity_name(f->rule->severity));
		values[2] = Int32GetDatum(f->statement);
		values[3] = Int32GetDatum(f->line);
		values[4] = CStringGetTextDatum(f->message);
		values[5] = CStringGetTextDatum(f->hint);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * migrate.lint_rule_list() returns setof (id, severity, category, catalog,
 * summary, hint, bad_example, safe_example, blocks_apply): the view
 * migrate.lint_rules
 */
Datum
migrate_lint_rule_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const MigrateEnvironment *env;
	int			count = migrate_lint_rule_count();

	migrate_materialize_srf(fcinfo);
	migrate_xact_spi_connect();
	/* allocated in SPI's memory: read it before SPI_finish() */
	env = migrate_environment_current();

	for (int i = 0; i < count; i++)
	{
		const MigrateLintRule *rule = migrate_lint_rule_at(i);
		Datum		values[9];
		bool		nulls[9] = {0};

		values[0] = CStringGetTextDatum(rule->id);
		values[1] = CStringGetTextDatum(migrate_lint_severity_name(rule->severity));
		values[2] = CStringGetTextDatum(rule->category);
		values[3] = BoolGetDatum(rule->catalog);
		values[4] = CStringGetTextDatum(rule->summary);
		values[5] = CStringGetTextDatum(rule->hint);
		values[6] = CStringGetTextDatum(rule->bad);
		values[7] = CStringGetTextDatum(rule->safe);
		values[8] = BoolGetDatum(migrate_lint_rule_blocks(env, rule->id));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	PG_RETURN_VOID();
}
