/*-------------------------------------------------------------------------
 *
 * lint_types.c
 *	  Lint rules about types, keys, names and re-runnable scripts.
 *
 * CONTRACT STUB (issue 12): the rule table is agreed; wp12-2 writes the
 * checks, the examples, and the comment that says why each rule exists.
 *
 * IDENTIFICATION
 *	  src/model/lint_types.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"

#include "model/lint.h"

static void check_types(MigrateLintState *state);

static const MigrateLintRule type_rules[] = {
	{"ban-char-field", LINT_WARNING, "types",
		"char(n) pads with blanks and saves no space over text.",
		"Use text (with a CHECK on length if the length matters).",
	"", "", false},
	{"prefer-text-field", LINT_INFO, "types",
		"varchar(n) needs a table rewrite or scan to change its limit; text with a CHECK does not.",
		"Use text, with a CHECK (length(col) <= n) if the limit matters.",
	"", "", false},
	{"prefer-bigint-over-int", LINT_WARNING, "types",
		"An integer key runs out at 2^31; changing it later rewrites the table.",
		"Use bigint for primary keys, identity columns and the columns that reference them.",
	"", "", false},
	{"prefer-bigint-over-smallint", LINT_WARNING, "types",
		"A smallint key runs out at 32767; changing it later rewrites the table.",
		"Use bigint for primary keys, identity columns and the columns that reference them.",
	"", "", false},
	{"prefer-identity", LINT_WARNING, "types",
		"serial columns own a sequence with loose permissions and odd dump behaviour; identity columns are the standard.",
		"Use bigint GENERATED ALWAYS AS IDENTITY (or BY DEFAULT).",
	"", "", false},
	{"prefer-timestamptz", LINT_WARNING, "types",
		"timestamp without time zone stores wall-clock time with no zone: values shift when the session's zone differs.",
		"Use timestamptz.",
	"", "", false},
	{"ban-create-domain-with-constraint", LINT_WARNING, "types",
		"A domain's CHECK constraint is checked on every column of the domain, and changing it scans them all under lock.",
		"Put the CHECK on the table's column instead.",
	"", "", false},
	{"ban-alter-domain-with-add-constraint", LINT_WARNING, "types",
		"ALTER DOMAIN ... ADD CONSTRAINT scans every column of the domain in every table.",
		"Add the CHECK to each table's column, NOT VALID, then VALIDATE it.",
	"", "", false},
	{"require-timeout-settings", LINT_WARNING, "locking",
		"A statement that takes a strong lock runs without lock_timeout or statement_timeout, although the environment asks for them.",
		"SET lock_timeout and statement_timeout first, or give @lock-timeout and @statement-timeout in the header.",
	"", "", false},
	{"prefer-robust-stmts", LINT_WARNING, "safety",
		"The migration says @idempotent: true, but this statement fails when run a second time.",
		"Use IF NOT EXISTS / IF EXISTS / OR REPLACE, or drop the @idempotent claim.",
	"", "", false},
	{"identifier-truncated", LINT_ERROR, "naming",
		"An identifier longer than 63 bytes is silently truncated, and two long names may collide.",
		"Use a name of at most 63 bytes.",
	"", "", false},
	{"foreign-key-without-index", LINT_WARNING, "catalog",
		"The referencing columns of a foreign key have no index: every DELETE or key UPDATE on the referenced table scans this one.",
		"CREATE INDEX CONCURRENTLY on the referencing columns.",
	"", "", true},
};

const MigrateLintModule migrate_lint_module_types = {
	type_rules, lengthof(type_rules), check_types, NULL
};

static void
check_types(MigrateLintState *state)
{
	/* wp12-2 */
}
