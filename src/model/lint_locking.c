/*-------------------------------------------------------------------------
 *
 * lint_locking.c
 *	  Lint rules about locks, rewrites and destructive DDL.
 *
 * CONTRACT STUB (issue 12): the rule table is agreed; wp12-1 writes the
 * checks, the examples, and the comment that says why each rule exists.
 *
 * IDENTIFICATION
 *	  src/model/lint_locking.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"

#include "model/lint.h"

static void check_locking(MigrateLintState *state);

static const MigrateLintRule locking_rules[] = {
	{"require-concurrent-index-creation", LINT_WARNING, "locking",
		"CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds.",
		"Use CREATE INDEX CONCURRENTLY in a migration of its own (it runs on the worker path).",
	"", "", false},
	{"require-concurrent-index-deletion", LINT_WARNING, "locking",
		"DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.",
		"Use DROP INDEX CONCURRENTLY.",
	"", "", false},
	{"require-concurrent-reindex", LINT_WARNING, "locking",
		"REINDEX without CONCURRENTLY blocks writes, and reads that use the index.",
		"Use REINDEX ... CONCURRENTLY.",
	"", "", false},
	{"require-concurrent-detach-partition", LINT_WARNING, "locking",
		"DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the parent.",
		"Use ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY.",
	"", "", false},
	{"ban-concurrent-index-creation-in-transaction", LINT_ERROR, "locking",
		"A CONCURRENTLY operation in a migration that runs in one transaction fails.",
		"Put the CONCURRENTLY statement in a migration of its own and leave @transaction unset.",
	"", "", false},
	{"constraint-missing-not-valid", LINT_WARNING, "locking",
		"ADD CONSTRAINT (CHECK or FOREIGN KEY) without NOT VALID scans the table under its lock.",
		"Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later migration.",
	"", "", false},
	{"disallowed-unique-constraint", LINT_WARNING, "locking",
		"ADD UNIQUE or PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock.",
		"CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.",
	"", "", false},
	{"adding-not-nullable-field", LINT_WARNING, "locking",
		"SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) proves it.",
		"ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL.",
	"", "", false},
	{"adding-field-with-default", LINT_WARNING, "rewrite",
		"ADD COLUMN with a volatile DEFAULT rewrites the table under an ACCESS EXCLUSIVE lock.",
		"Add the column without a default (or with a constant one), then backfill in batches.",
	"", "", false},
	{"adding-required-field", LINT_ERROR, "safety",
		"ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows.",
		"Add the column with a DEFAULT, or nullable, then backfill and SET NOT NULL.",
	"", "", false},
	{"adding-serial-primary-key-field", LINT_WARNING, "rewrite",
		"ADD COLUMN of a serial or identity PRIMARY KEY rewrites the table and builds the index under an ACCESS EXCLUSIVE lock.",
		"Add the column, backfill it, CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX.",
	"", "", false},
	{"changing-column-type", LINT_WARNING, "rewrite",
		"ALTER COLUMN TYPE rewrites the table and its indexes unless the cast is binary-coercible.",
		"Add a new column, backfill, and switch readers over; or widen only to a binary-coercible type.",
	"", "", true},
	{"renaming-column", LINT_WARNING, "safety",
		"Renaming a column breaks the clients that still use the old name.",
		"Add the new column, write both, move readers, then drop the old one later.",
	"", "", false},
	{"renaming-table", LINT_WARNING, "safety",
		"Renaming a table breaks the clients that still use the old name.",
		"Create the new name as a view or move clients first; rename when nothing uses the old name.",
	"", "", false},
	{"ban-drop-column", LINT_WARNING, "destructive",
		"Dropping a column loses its data and breaks clients that still select it.",
		"Stop using the column in every client first; keep a backup (the production rails make one).",
	"", "", false},
	{"ban-drop-table", LINT_WARNING, "destructive",
		"Dropping a table loses its data and breaks clients that still use it.",
		"Rename it away first and drop it in a later release, once nothing uses it.",
	"", "", false},
	{"ban-drop-database", LINT_ERROR, "destructive",
		"DROP DATABASE in a migration destroys a whole database.",
		"Drop databases by hand, never from a migration.",
	"", "", false},
	{"ban-drop-not-null", LINT_WARNING, "safety",
		"DROP NOT NULL lets NULLs in that clients may not expect.",
		"Make sure every reader handles NULL before dropping the constraint.",
	"", "", false},
	{"ban-truncate-cascade", LINT_ERROR, "destructive",
		"TRUNCATE ... CASCADE also empties every table whose foreign keys reference it, even ones added later.",
		"TRUNCATE the tables by name.",
	"", "", false},
};

const MigrateLintModule migrate_lint_module_locking = {
	locking_rules, lengthof(locking_rules), check_locking, NULL
};

static void
check_locking(MigrateLintState *state)
{
	/* wp12-1 */
}
