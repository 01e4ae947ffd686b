/*-------------------------------------------------------------------------
 *
 * risk.c
 *	  Derived risk: low, medium or high, with the reasons.
 *
 * CONTRACT STUB (issue 12): a first rule (the worst finding decides:
 * error high, warning medium, else low) until wp12-3 weighs the lock
 * facts and sizes too.
 *
 * IDENTIFICATION
 *	  src/model/risk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "model/lint.h"
#include "model/lockfacts.h"
#include "model/risk.h"

int
migrate_risk_rank(const char *level)
{
	if (level == NULL)
		return 0;
	if (strcmp(level, "low") == 0)
		return 1;
	if (strcmp(level, "medium") == 0)
		return 2;
	if (strcmp(level, "high") == 0)
		return 3;
	return 0;
}

MigrateDerivedRisk
migrate_risk_derive(List *findings, List *sized_facts, int64 large_table_bytes)
{
	MigrateDerivedRisk risk = {"low", NIL};
	ListCell   *lc;

	foreach(lc, findings)
	{
		MigrateLintFinding *f = lfirst(lc);
		const char *level = f->rule->severity == LINT_ERROR ? "high" :
			f->rule->severity == LINT_WARNING ? "medium" : "low";

		if (migrate_risk_rank(level) > migrate_risk_rank(risk.level))
			risk.level = level;
		if (f->rule->severity >= LINT_WARNING)
			risk.reasons = lappend(risk.reasons,
								   psprintf("statement %d: %s", f->statement, f->rule->id));
	}
	return risk;
}
