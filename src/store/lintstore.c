/*-------------------------------------------------------------------------
 *
 * lintstore.c
 *	  Storing lint findings and the derived risk at registration.
 *
 * register() lints the up script it has just stored, as migrate.lint()
 * would (store/lintrun.c: the session's environment, the live catalog),
 * and keeps the result: the findings in migrate.lint_finding, replacing
 * the migration's earlier ones, and the risk derived from them and from
 * the lock facts of each statement (model/risk.c) in the migration's
 * derived_risk and risk_reasons.  migrate.status shows the findings
 * counted by severity, migrate.lint_findings each of them, and the
 * blocking rules of an environment (exec/guard.c) refuse a migration by
 * its stored findings.
 *
 * The risk is weighed with the size of each relation a statement locks,
 * as the catalog has it at registration: a table the script itself
 * creates is new, whatever the catalog says.
 *
 * IDENTIFICATION
 *	  src/store/lintstore.c
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

#include "model/lockfacts.h"
#include "model/risk.h"
#include "store/environment.h"
#include "store/lintrun.h"
#include "store/lintstore.h"
#include "store/relfacts.h"
#include "store/spi.h"

/* the columns of a finding as INSERT's unnest() takes them */
#define FINDING_COLUMNS 6

/*
 * Whether the installed catalog has migrate.lint_finding (1.1, by a
 * syscache lookup: no query, no error on a 1.0 catalog).  The columns
 * derived_risk and risk_reasons come with it, in the same update.
 */
static bool
has_lint_finding_table(void)
{
	Oid			schema = get_namespace_oid("migrate", true);

	return OidIsValid(schema) && OidIsValid(get_relname_relid("lint_finding", schema));
}

/* a List of strings as a text[] datum */
static Datum
text_array(List *items)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(items), 1));
	ListCell   *lc;

	foreach(lc, items)
		elems[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(items), TEXTOID,
										   -1, false, TYPALIGN_INT));
}

static Datum
int4_array(int *items, int count)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(count, 1));

	for (int i = 0; i < count; i++)
		elems[i] = Int32GetDatum(items[i]);
	return PointerGetDatum(construct_array(elems, count, INT4OID,
										   sizeof(int32), true, TYPALIGN_INT));
}

/*
 * Replace the stored findings of a migration with these, in their order
 * (ordinal 1, 2, ...): one DELETE, one INSERT of unnest()ed arrays.
 */
static void
store_findings(const char *version, List *findings)
{
	int			count = list_length(findings);
	List	   *rules = NIL;
	List	   *severities = NIL;
	List	   *messages = NIL;
	List	   *hints = NIL;
	int		   *statements = palloc(sizeof(int) * Max(count, 1));
	int		   *lines = palloc(sizeof(int) * Max(count, 1));
	Oid			argtypes[FINDING_COLUMNS + 1] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
		INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[FINDING_COLUMNS + 1];
	ListCell   *lc;

	values[0] = CStringGetTextDatum(version);
	migrate_spi_run_as_owner("DELETE FROM migrate.lint_finding f"
							 " WHERE f.version OPERATOR(pg_catalog.=) $1",
							 1, argtypes, values, NULL, SPI_OK_DELETE);
	if (count == 0)
		return;

	foreach(lc, findings)
	{
		MigrateLintFinding *f = lfirst(lc);
		int			i = foreach_current_index(lc);

		rules = lappend(rules, (char *) f->rule->id);
		severities = lappend(severities, (char *) migrate_lint_severity_name(f->rule->severity));
		statements[i] = f->statement;
		lines[i] = f->line;
		messages = lappend(messages, f->message);
		hints = lappend(hints, f->hint);
	}
	values[1] = text_array(rules);
	values[2] = text_array(severities);
	values[3] = int4_array(statements, count);
	values[4] = int4_array(lines, count);
	values[5] = text_array(messages);
	values[6] = text_array(hints);
	migrate_spi_run_as_owner("INSERT INTO migrate.lint_finding"
							 " (version, ordinal, rule, severity, statement, line, message, hint)"
							 " SELECT $1, u.ordinal, u.rule, u.severity, u.statement, u.line,"
							 " u.message, u.hint"
							 " FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3),"
							 " pg_catalog.unnest($4), pg_catalog.unnest($5),"
							 " pg_catalog.unnest($6), pg_catalog.unnest($7))"
							 " WITH ORDINALITY AS u(rule, severity, statement, line, message, hint,"
							 " ordinal)",
							 FINDING_COLUMNS + 1, argtypes, values, NULL, SPI_OK_INSERT);
}

/* store the derived risk and its reasons in the migration's row */
static void
store_risk(const char *version, const MigrateDerivedRisk *risk)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(risk->level);
	values[2] = text_array(risk->reasons);
	migrate_spi_run_as_owner("UPDATE migrate.migration m"
							 " SET derived_risk = $2, risk_reasons = $3"
							 " WHERE m.version OPERATOR(pg_catalog.=) $1",
							 3, argtypes, values, NULL, SPI_OK_UPDATE);
}

void
migrate_lint_record(const char *version, const char *up, const MigrateHeader *header)
{
	const MigrateEnvironment *env;
	MigrateParsedScript *parsed;
	List	   *findings;
	MigrateDerivedRisk risk;

	if (!has_lint_finding_table())
		return;
	/* register() validated it: this parse cannot fail */
	parsed = migrate_parse_script(up, psprintf("up script of migration \"%s\"", version));
	/* an environment without a row: lint without one, as before 1.1 */
	env = migrate_environment_current_or_none();
	findings = migrate_lint_live(parsed, header, env);
	risk = migrate_risk_derive(findings, migrate_risk_script_facts(parsed, &migrate_live_catalog_facts),
							   env->lint_large_table_bytes);
	store_findings(version, findings);
	store_risk(version, &risk);
}
