/*-------------------------------------------------------------------------
 *
 * lint_size.c
 *	  Lint rules that weigh a statement's lock against the table's size.
 *
 * large-table: a lock that blocks writes is harmless on a small table and
 * an outage on a big one, because it is held while every row is read
 * (scan), rewritten, or indexed (build).  Only the catalog knows the size,
 * so the rule reports only with the live catalog, on a table that exists,
 * holds rows and is at least the environment's lint_large_table (100 MB
 * without an environment): never on a table the script created or that is
 * empty.
 *
 * risk-understated: the declared @risk-level is what the risk gate and the
 * people approving a migration go by; when the script's findings, locks
 * and sizes say more (model/risk.c), the declaration is wrong.  Checked
 * once the whole script has been seen (finish callback), so that the
 * derived risk covers every statement and every other rule's findings.
 *
 * IDENTIFICATION
 *	  src/model/lint_size.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"

#include "model/lint.h"
#include "model/lockfacts.h"
#include "model/risk.h"

static void check_size(MigrateLintState *state);
static void finish_size(MigrateLintState *state);

static const MigrateLintRule size_rules[] = {
	{"large-table", LINT_WARNING, "catalog",
		"The statement rewrites or scans, or holds a lock that blocks writes on, a table above the environment's size threshold.",
		"Use the online pattern of the finding's rule, run it in a maintenance window, or raise @risk-level.",
		"ALTER TABLE orders ALTER COLUMN total TYPE numeric(14, 4);",
	"ALTER TABLE orders ADD COLUMN total_new numeric(14, 4);", true},
	{"risk-understated", LINT_WARNING, "meta",
		"The header declares a lower @risk-level than the one derived from the script's locks, rewrites and findings.",
		"Raise @risk-level to the derived level, or make the migration safer.",
		"-- @risk-level: low\nALTER TABLE accounts DROP COLUMN legacy_code;",
	"-- @risk-level: medium\nALTER TABLE accounts DROP COLUMN legacy_code;", true},
};

const MigrateLintModule migrate_lint_module_size = {
	size_rules, lengthof(size_rules), check_size, finish_size
};

/* size_private: the sized lock facts of the statements seen so far */
typedef struct SizePrivate
{
	List	   *sized;			/* MigrateSizedLockFact * */
	List	   *cache;			/* the catalog's answers, per relation */
} SizePrivate;

static SizePrivate *
size_private(MigrateLintState *state)
{
	if (state->size_private == NULL)
		state->size_private = palloc0(sizeof(SizePrivate));
	return state->size_private;
}

static void
check_size(MigrateLintState *state)
{
	SizePrivate *priv = size_private(state);
	ListCell   *lc;

	foreach(lc, migrate_lock_facts(state->stmt, state->facts))
	{
		MigrateLockFact *fact = lfirst(lc);
		bool		created = migrate_lint_table_created_here(state, fact->relation);
		MigrateSizedLockFact *sized;

		/* only what may weigh is sized: the catalog is asked little */
		if (!migrate_risk_fact_may_be_heavy(fact))
		{
			priv->sized = lappend(priv->sized,
								  migrate_risk_unsized_fact(state->statement->number, fact, created));
			continue;
		}
		sized = migrate_risk_size_fact(state->statement->number, fact, created,
									   state->facts, &priv->cache);
		priv->sized = lappend(priv->sized, sized);
		if (state->options->large_table_bytes < 0 || !migrate_risk_fact_is_heavy(sized) ||
			sized->qualified == NULL || sized->bytes < state->options->large_table_bytes)
			continue;
		migrate_lint_report(state, "large-table", NULL,
							"%s %s (%s, at least the large-table threshold of %s) under %s, which blocks writes: %s",
							migrate_risk_effect_verb(fact->effect), sized->qualified,
							migrate_risk_pretty_size(sized->bytes),
							migrate_risk_pretty_size(state->options->large_table_bytes),
							migrate_lock_mode_name(fact->mode), fact->reason);
	}
}

static void
finish_size(MigrateLintState *state)
{
	SizePrivate *priv = size_private(state);
	MigrateDerivedRisk risk;
	StringInfoData why;
	ListCell   *lc;

	if (state->header == NULL || state->header->risk_level == NULL)
		return;
	risk = migrate_risk_derive(state->findings, priv->sized, state->options->large_table_bytes);
	if (migrate_risk_rank(state->header->risk_level) >= migrate_risk_rank(risk.level))
		return;
	initStringInfo(&why);
	foreach(lc, risk.reasons)
		appendStringInfo(&why, "%s%s", why.len ? "; " : "", (char *) lfirst(lc));
	migrate_lint_report(state, "risk-understated", psprintf("Declare @risk-level: %s, or make the migration safer.", risk.level),
						"@risk-level: %s, but the derived risk is %s (%s)",
						state->header->risk_level, risk.level, why.data);
}
