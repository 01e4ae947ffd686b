/*-------------------------------------------------------------------------
 *
 * lint_size.c
 *	  Lint rules that weigh a statement's lock against the table's size.
 *
 * CONTRACT STUB (issue 12): the rule table is agreed; wp12-3 writes the
 * checks (from lockfacts.c's lock facts and the catalog's sizes), the
 * examples, and the comment that says why each rule exists.
 *
 * IDENTIFICATION
 *	  src/model/lint_size.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"

#include "model/lint.h"

static void check_size(MigrateLintState *state);

static const MigrateLintRule size_rules[] = {
	{"large-table", LINT_WARNING, "catalog",
		"The statement rewrites or scans, or holds a lock that blocks writes on, a table above the environment's size threshold.",
		"Use the online pattern of the finding's rule, run it in a maintenance window, or raise @risk-level.",
	"", "", true},
	{"risk-understated", LINT_WARNING, "meta",
		"The header declares a lower @risk-level than the one derived from the script's locks, rewrites and findings.",
		"Raise @risk-level to the derived level, or make the migration safer.",
	"", "", true},
};

const MigrateLintModule migrate_lint_module_size = {
	size_rules, lengthof(size_rules), check_size, NULL
};

static void
check_size(MigrateLintState *state)
{
	/* wp12-3 */
}
