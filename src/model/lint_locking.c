/*-------------------------------------------------------------------------
 *
 * lint_locking.c
 *	  Lint rules about locks, rewrites and destructive DDL.
 *
 * Most migration outages come from a few statements that are correct but
 * hold a strong lock for as long as they scan or rewrite a table: every
 * query on the table queues behind them, and so does every query behind
 * those.  These rules find them in PostgreSQL's raw parse tree, one
 * statement at a time, and name the safe pattern: CONCURRENTLY, NOT
 * VALID and a later VALIDATE, a column added without a volatile default,
 * a type change that is binary-coercible.  The destructive and renaming
 * rules find statements that lose data or break clients that still use
 * the old shape.
 *
 * A lock costs nothing on a table nobody uses yet: lock and rewrite rules
 * stay silent on a table that migrate_lint_table_is_new() calls new
 * (created earlier in this script, or an empty heap in the catalog); the
 * destructive and renaming rules only on a table created earlier in this
 * script, because an empty table's clients still break.  A table the
 * catalog does not know is treated as existing: the text-only rules
 * report.  The catalog is asked only through state->facts.
 *
 * What the script did earlier is kept in state->locking_private: CHECK
 * constraints it added (a validated CHECK (col IS NOT NULL) lets SET NOT
 * NULL skip its scan; a VALIDATE in the same transaction as its NOT VALID
 * ADD scans under the lock the ADD took), indexes it built on new tables,
 * and materialized views it created.
 *
 * IDENTIFICATION
 *	  src/model/lint_locking.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"

#include "compat.h"
#include "model/lint.h"

static void check_locking(MigrateLintState *state);

static const MigrateLintRule locking_rules[] = {
	{"require-concurrent-index-creation", LINT_WARNING, "locking",
		"CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds.",
		"Use CREATE INDEX CONCURRENTLY in a migration of its own (it runs on the worker path).",
	"CREATE INDEX orders_customer_id_idx ON orders (customer_id);",
	"CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);", false},
	{"require-concurrent-index-deletion", LINT_WARNING, "locking",
		"DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.",
		"Use DROP INDEX CONCURRENTLY.",
	"DROP INDEX orders_customer_id_idx;",
	"DROP INDEX CONCURRENTLY orders_customer_id_idx;", false},
	{"require-concurrent-reindex", LINT_WARNING, "locking",
		"REINDEX without CONCURRENTLY blocks writes, and reads that use the index.",
		"Use REINDEX ... CONCURRENTLY.",
	"REINDEX INDEX orders_customer_id_idx;",
	"REINDEX INDEX CONCURRENTLY orders_customer_id_idx;", false},
	{"require-concurrent-detach-partition", LINT_WARNING, "locking",
		"DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the parent.",
		"Use ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY.",
	"ALTER TABLE measurements DETACH PARTITION measurements_2023;",
	"ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;", false},
	{"ban-concurrent-index-creation-in-transaction", LINT_ERROR, "locking",
		"A CONCURRENTLY operation in a migration that runs in one transaction fails.",
		"Put the CONCURRENTLY statement in a migration of its own and leave @transaction unset.",
	"-- @transaction: true\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
	"CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);", false},
	{"constraint-missing-not-valid", LINT_WARNING, "locking",
		"ADD CONSTRAINT (CHECK or FOREIGN KEY) without NOT VALID scans the table under its lock.",
		"Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later migration.",
	"ALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n    FOREIGN KEY (customer_id) REFERENCES customers (id);",
	"-- VALIDATE CONSTRAINT orders_customer_fk in a later migration\nALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;", false},
	{"disallowed-unique-constraint", LINT_WARNING, "locking",
		"ADD UNIQUE or PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock.",
		"CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.",
	"ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
	"-- an earlier migration ran CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email)\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;", false},
	{"adding-not-nullable-field", LINT_WARNING, "locking",
		"SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) proves it.",
		"ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL.",
	"ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
	"-- @transaction: false\nALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;", false},
	{"adding-field-with-default", LINT_WARNING, "rewrite",
		"ADD COLUMN with a volatile DEFAULT rewrites the table under an ACCESS EXCLUSIVE lock.",
		"Add the column without a default (or with a constant one), then backfill in batches.",
	"ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();",
	"ALTER TABLE orders ADD COLUMN token uuid;\nALTER TABLE orders ALTER COLUMN token SET DEFAULT gen_random_uuid();", false},
	{"adding-required-field", LINT_ERROR, "safety",
		"ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows.",
		"Add the column with a DEFAULT, or nullable, then backfill and SET NOT NULL.",
	"ALTER TABLE orders ADD COLUMN status text NOT NULL;",
	"ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';", false},
	{"adding-serial-primary-key-field", LINT_WARNING, "rewrite",
		"ADD COLUMN of a serial or identity PRIMARY KEY rewrites the table and builds the index under an ACCESS EXCLUSIVE lock.",
		"Add the column, backfill it, CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX.",
	"ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;",
	"-- @transaction: false\nALTER TABLE events ADD COLUMN id bigint;\n-- backfill events.id in batches here or in a job, then:\nCREATE UNIQUE INDEX CONCURRENTLY events_id_idx ON events (id);\nALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;", false},
	{"changing-column-type", LINT_WARNING, "rewrite",
		"ALTER COLUMN TYPE rewrites the table and its indexes unless the cast is binary-coercible.",
		"Add a new column, backfill, and switch readers over; or widen only to a binary-coercible type.",
	"ALTER TABLE orders ALTER COLUMN total TYPE bigint USING total::bigint;",
	"-- orders.note is varchar(200): varchar to text is binary-coercible\nALTER TABLE orders ALTER COLUMN note TYPE text;", true},
	{"renaming-column", LINT_WARNING, "safety",
		"Renaming a column breaks the clients that still use the old name.",
		"Add the new column, write both, move readers, then drop the old one later.",
	"ALTER TABLE users RENAME COLUMN name TO full_name;",
	"-- write both columns, backfill, move readers; drop name in a later release\nALTER TABLE users ADD COLUMN full_name text;", false},
	{"renaming-table", LINT_WARNING, "safety",
		"Renaming a table breaks the clients that still use the old name.",
		"Create the new name as a view or move clients first; rename when nothing uses the old name.",
	"ALTER TABLE users RENAME TO accounts;",
	"-- clients move to the new name first; rename once nothing uses users\nCREATE VIEW accounts AS SELECT * FROM users;", false},
	{"ban-drop-column", LINT_WARNING, "destructive",
		"Dropping a column loses its data and breaks clients that still select it.",
		"Stop using the column in every client first; keep a backup (the production rails make one).",
	"ALTER TABLE users DROP COLUMN legacy_flag;",
	"-- @lint-ignore: ban-drop-column\n-- no client has read users.legacy_flag since release 4.2\nALTER TABLE users DROP COLUMN legacy_flag;", false},
	{"ban-drop-table", LINT_WARNING, "destructive",
		"Dropping a table loses its data and breaks clients that still use it.",
		"Rename it away first and drop it in a later release, once nothing uses it.",
	"DROP TABLE legacy_orders;",
	"-- @lint-ignore: ban-drop-table\n-- legacy_orders was renamed away in release 4.1 and nothing used it since\nDROP TABLE legacy_orders_retired;", false},
	{"ban-drop-database", LINT_ERROR, "destructive",
		"DROP DATABASE in a migration destroys a whole database.",
		"Drop databases by hand, never from a migration.",
	"DROP DATABASE analytics;",
	"-- nobody connects any more; an administrator drops it by hand later\nREVOKE CONNECT ON DATABASE analytics FROM PUBLIC;", false},
	{"ban-drop-not-null", LINT_WARNING, "safety",
		"DROP NOT NULL lets NULLs in that clients may not expect.",
		"Make sure every reader handles NULL before dropping the constraint.",
	"ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
	"-- @lint-ignore: ban-drop-not-null\n-- every reader of users.email handles NULL since release 4.3\nALTER TABLE users ALTER COLUMN email DROP NOT NULL;", false},
	{"ban-truncate-cascade", LINT_ERROR, "destructive",
		"TRUNCATE ... CASCADE also empties every table whose foreign keys reference it, even ones added later.",
		"TRUNCATE the tables by name.",
	"TRUNCATE orders CASCADE;",
	"TRUNCATE order_items, orders;", false},
};


const MigrateLintModule migrate_lint_module_locking = {
	locking_rules, lengthof(locking_rules), check_locking, NULL
};

/* a CHECK constraint an earlier ALTER TABLE of this script added */
typedef struct ScriptCheck
{
	const RangeVar *relation;
	const char *name;			/* NULL: named by the server */
	const char *not_null_column;	/* the column it proves NOT NULL, or NULL */
	bool		validated;		/* added valid, or validated since */
	int			statement;		/* the statement that added it */
} ScriptCheck;

/* what this module remembers across statements (state->locking_private) */
typedef struct LockingMemory
{
	List	   *checks;			/* ScriptCheck * */
	List	   *new_indexes;	/* char *: indexes built on new tables */
	List	   *new_matviews;	/* RangeVar *: materialized views created */
} LockingMemory;

/*
 * Functions that are volatile in every PostgreSQL release we support (and
 * in uuid-ossp): what a text-only lint calls volatile in a DEFAULT.  With
 * the catalog, the functions' own provolatile decides.
 */
static const char *const known_volatile_functions[] = {
	"nextval", "random", "gen_random_uuid", "clock_timestamp", "timeofday",
	"uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
};

static LockingMemory *
memory_of(MigrateLintState *state)
{
	if (state->locking_private == NULL)
		state->locking_private = palloc0(sizeof(LockingMemory));
	return state->locking_private;
}

/* a relation's name as the script wrote it, quoted, for messages */
static const char *
relation_text(const RangeVar *relation)
{
	if (relation == NULL)
		return "?";
	if (relation->schemaname != NULL)
		return quote_qualified_identifier(relation->schemaname, relation->relname);
	return quote_identifier(relation->relname);
}

/*
 * The catalog's facts about a relation, or NULL when it does not know it
 * (lint.c measures each relation once per lint).
 */
static const MigrateRelationFacts *
relation_facts(MigrateLintState *state, const RangeVar *relation)
{
	MigrateRelationFacts *facts = palloc(sizeof(MigrateRelationFacts));

	return migrate_lint_relation(state, relation, facts) ? facts : NULL;
}

/*
 * Whether locking "relation" costs nothing: created earlier in this
 * script (a table or a materialized view) or empty in the catalog, as
 * migrate_lint_table_is_new() says, with the catalog asked once.
 */
static bool
is_new(MigrateLintState *state, const RangeVar *relation)
{
	LockingMemory *memory = memory_of(state);
	const MigrateRelationFacts *facts;
	ListCell   *lc;

	if (relation == NULL)
		return false;
	if (migrate_lint_table_created_here(state, relation))
		return true;
	facts = relation_facts(state, relation);
	if (facts != NULL && facts->empty)
		return true;
	foreach(lc, memory->new_matviews)
	{
		if (migrate_lint_same_relation(lfirst(lc), relation))
			return true;
	}
	return false;
}

/* whether an index of this name was built on a new table earlier */
static bool
is_new_index(MigrateLintState *state, const char *name)
{
	ListCell   *lc;

	foreach(lc, memory_of(state)->new_indexes)
	{
		if (strcmp(lfirst(lc), name) == 0)
			return true;
	}
	return false;
}

/* a column's name as the script wrote it, quoted */
static const char *
column_text(const char *column)
{
	return column != NULL ? quote_identifier(column) : "?";
}

/*
 * ban-concurrent-index-creation-in-transaction: a CONCURRENTLY statement
 * cannot run inside a transaction block; a migration that runs in one
 * fails there, after its earlier statements ran.  The parser marks every
 * such statement non-transactional, so a script with one is transactional
 * only when its header insists (register() refuses that; the lint says so
 * first).
 */
static void
check_concurrent_in_transaction(MigrateLintState *state)
{
	const MigrateStatementClass *class = &state->statement->classified;
	bool		concurrent = class->concurrent_index != MIGRATE_CONCURRENT_NONE;

#ifdef MIGRATE_HAVE_DETACH_CONCURRENTLY
	if (IsA(state->stmt, AlterTableStmt))
	{
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) state->stmt)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_DetachPartition &&
				((PartitionCmd *) cmd->def)->concurrent)
				concurrent = true;
		}
	}
#endif
	if (!concurrent)
		return;
	if (state->header->transactional == HEADER_TRUE)
		migrate_lint_report(state, "ban-concurrent-index-creation-in-transaction", NULL,
							"%s, but the header says @transaction: true",
							class->nontransactional_reason);
	else if (state->options->transactional)
		migrate_lint_report(state, "ban-concurrent-index-creation-in-transaction", NULL,
							"%s, but this migration runs in one transaction",
							class->nontransactional_reason);
}

/*
 * require-concurrent-index-creation: CREATE INDEX takes a SHARE lock, which
 * blocks every write for as long as the index builds.  A partitioned
 * table cannot be indexed CONCURRENTLY at all: its safe pattern differs.
 */
static void
check_create_index(MigrateLintState *state, IndexStmt *stmt)
{
	const MigrateRelationFacts *facts;
	const char *hint = NULL;

	if (is_new(state, stmt->relation))
	{
		/* dropping or rebuilding it later in this script is free too */
		if (stmt->idxname != NULL)
			memory_of(state)->new_indexes = lappend(memory_of(state)->new_indexes,
													pstrdup(stmt->idxname));
		return;
	}
	if (stmt->concurrent)
		return;
	facts = relation_facts(state, stmt->relation);
	if (facts != NULL && facts->relkind == RELKIND_PARTITIONED_TABLE)
		hint = "A partitioned table cannot be indexed CONCURRENTLY: CREATE INDEX ON ONLY the parent, CREATE INDEX CONCURRENTLY on each partition, then ALTER INDEX ... ATTACH PARTITION each one.";
	migrate_lint_report(state, "require-concurrent-index-creation", hint,
						"CREATE INDEX%s%s on table %s without CONCURRENTLY blocks writes to the table while the index builds",
						stmt->idxname ? " " : "",
						stmt->idxname ? quote_identifier(stmt->idxname) : "",
						relation_text(stmt->relation));
}

/*
 * ban-drop-table and require-concurrent-index-deletion: DROP TABLE loses
 * data (a table this script created holds none yet); DROP INDEX takes an
 * ACCESS EXCLUSIVE lock on the index's table.
 */
static void
check_drop(MigrateLintState *state, DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_TABLE && stmt->removeType != OBJECT_INDEX)
		return;
	foreach(lc, stmt->objects)
	{
		List	   *names = lfirst(lc);
		RangeVar   *relation;

		/* more than three parts: the server refuses it when it runs */
		if (list_length(names) > 3)
			continue;
		relation = makeRangeVarFromNameList(names);
		if (stmt->removeType == OBJECT_TABLE)
		{
			if (!migrate_lint_table_created_here(state, relation))
				migrate_lint_report(state, "ban-drop-table", NULL,
									"DROP TABLE %s loses its data and breaks the clients that still use it",
									relation_text(relation));
		}
		else if (!stmt->concurrent && !is_new_index(state, relation->relname))
			migrate_lint_report(state, "require-concurrent-index-deletion",
								list_length(stmt->objects) > 1 ?
								"Drop one index per statement, with DROP INDEX CONCURRENTLY (it takes one index only)." : NULL,
								"DROP INDEX %s without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table",
								relation_text(relation));
	}
}

/*
 * require-concurrent-reindex: REINDEX locks out writes to the table, and
 * every read that would use the index, until the rebuild ends.
 */
static void
check_reindex(MigrateLintState *state, ReindexStmt *stmt)
{
	if (state->statement->classified.concurrent_index == MIGRATE_CONCURRENT_REINDEX)
		return;
	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			if (!is_new_index(state, stmt->relation->relname))
				migrate_lint_report(state, "require-concurrent-reindex", NULL,
									"REINDEX INDEX %s without CONCURRENTLY blocks writes to its table, and the reads that use the index, until it is rebuilt",
									relation_text(stmt->relation));
			break;
		case REINDEX_OBJECT_TABLE:
			if (!is_new(state, stmt->relation))
				migrate_lint_report(state, "require-concurrent-reindex", NULL,
									"REINDEX TABLE %s without CONCURRENTLY blocks writes to the table, and the reads that use its indexes, until they are rebuilt",
									relation_text(stmt->relation));
			break;
		case REINDEX_OBJECT_SYSTEM:
			migrate_lint_report(state, "require-concurrent-reindex",
								"System catalogs cannot be reindexed CONCURRENTLY: do it by hand in a maintenance window, not in a migration.",
								"REINDEX SYSTEM locks the system catalogs that every session reads");
			break;
		default:
			migrate_lint_report(state, "require-concurrent-reindex", NULL,
								"REINDEX %s%s%s without CONCURRENTLY blocks writes to each of its tables in turn",
								stmt->kind == REINDEX_OBJECT_SCHEMA ? "SCHEMA" : "DATABASE",
								stmt->name ? " " : "",
								stmt->name ? quote_identifier(stmt->name) : "");
			break;
	}
}

/* the column a CHECK expression proves NOT NULL ("col IS NOT NULL [AND ...]") */
static const char *
not_null_column_of(Node *expr)
{
	if (expr == NULL)
		return NULL;
	if (IsA(expr, NullTest))
	{
		NullTest   *test = (NullTest *) expr;
		ColumnRef  *ref = (ColumnRef *) test->arg;

		if (test->nulltesttype != IS_NOT_NULL || test->arg == NULL ||
			!IsA(test->arg, ColumnRef) || list_length(ref->fields) != 1 ||
			!IsA(linitial(ref->fields), String))
			return NULL;
		return strVal(linitial(ref->fields));
	}
	if (IsA(expr, BoolExpr) && ((BoolExpr *) expr)->boolop == AND_EXPR)
	{
		/* PostgreSQL's proof (predicate_implied_by) sees through AND */
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
		{
			const char *column = not_null_column_of(lfirst(lc));

			if (column != NULL)
				return column;
		}
	}
	return NULL;
}

/* remember a CHECK constraint of ALTER TABLE ... ADD CONSTRAINT */
static void
remember_check(MigrateLintState *state, const RangeVar *relation, Constraint *constraint)
{
	LockingMemory *memory = memory_of(state);
	ScriptCheck *check = palloc0(sizeof(ScriptCheck));

	check->relation = relation;
	check->name = constraint->conname;
	check->not_null_column = not_null_column_of(constraint->raw_expr);
	check->validated = !constraint->skip_validation;
	check->statement = state->statement->number;
	memory->checks = lappend(memory->checks, check);
}

/*
 * constraint-missing-not-valid and disallowed-unique-constraint for ADD
 * CONSTRAINT: a CHECK or FOREIGN KEY checks every row under the
 * statement's lock unless NOT VALID; UNIQUE and PRIMARY KEY build their
 * index under an ACCESS EXCLUSIVE lock unless USING INDEX names one built
 * CONCURRENTLY before; EXCLUDE always does (it has no USING INDEX form).
 */
static void
check_add_constraint(MigrateLintState *state, const RangeVar *relation,
					 Constraint *constraint, bool table_is_new)
{
	const char *name = constraint->conname ? quote_identifier(constraint->conname) : "";

	if (constraint->contype == CONSTR_CHECK)
		remember_check(state, relation, constraint);
	if (table_is_new)
		return;
	switch (constraint->contype)
	{
		case CONSTR_CHECK:
		case CONSTR_FOREIGN:
			if (constraint->skip_validation)
				break;
			migrate_lint_report(state, "constraint-missing-not-valid", NULL,
								"ADD CONSTRAINT %s%s%s on table %s without NOT VALID checks every row while it holds the table's lock",
								name, *name ? " " : "",
								constraint->contype == CONSTR_CHECK ? "CHECK" : "FOREIGN KEY",
								relation_text(relation));
			break;
		case CONSTR_UNIQUE:
		case CONSTR_PRIMARY:
			if (constraint->indexname != NULL)
				break;
			migrate_lint_report(state, "disallowed-unique-constraint", NULL,
								"ADD CONSTRAINT %s%s%s on table %s builds its index under an ACCESS EXCLUSIVE lock",
								name, *name ? " " : "",
								constraint->contype == CONSTR_UNIQUE ? "UNIQUE" : "PRIMARY KEY",
								relation_text(relation));
			break;
		case CONSTR_EXCLUSION:
			/* no USING INDEX for EXCLUDE: its index is always built here */
			migrate_lint_report(state, "disallowed-unique-constraint",
								"An exclusion constraint cannot adopt an index built CONCURRENTLY: add it while the table is new or empty, or in a maintenance window.",
								"ADD CONSTRAINT %s%sEXCLUDE on table %s builds its index under an ACCESS EXCLUSIVE lock",
								name, *name ? " " : "", relation_text(relation));
			break;
		default:
			break;
	}
}

/*
 * VALIDATE CONSTRAINT takes only a SHARE UPDATE EXCLUSIVE lock, unless the
 * same transaction added the constraint: then the ACCESS EXCLUSIVE lock of
 * the ADD is still held and the scan runs under it, as if NOT VALID had
 * never been written.
 */
static void
check_validate_constraint(MigrateLintState *state, const RangeVar *relation,
						  const char *name)
{
	ListCell   *lc;

	foreach(lc, memory_of(state)->checks)
	{
		ScriptCheck *check = lfirst(lc);

		if (check->name == NULL || strcmp(check->name, name) != 0 ||
			!migrate_lint_same_relation(check->relation, relation))
			continue;
		if (!check->validated && state->options->transactional &&
			!is_new(state, relation))
			migrate_lint_report(state, "constraint-missing-not-valid",
								"VALIDATE CONSTRAINT in a later migration, or make this one @transaction: false.",
								"VALIDATE CONSTRAINT %s runs in the same transaction as the ADD CONSTRAINT ... NOT VALID of statement %d: it checks every row of table %s under that statement's ACCESS EXCLUSIVE lock",
								quote_identifier(name), check->statement,
								relation_text(relation));
		check->validated = true;
	}
}

/*
 * adding-not-nullable-field: SET NOT NULL scans the table under an ACCESS
 * EXCLUSIVE lock, unless a validated CHECK (col IS NOT NULL) proves it
 * (PostgreSQL 12 and later skip the scan then).
 */
static void
check_set_not_null(MigrateLintState *state, const RangeVar *relation, const char *column)
{
	ListCell   *lc;

	foreach(lc, memory_of(state)->checks)
	{
		ScriptCheck *check = lfirst(lc);

		if (check->validated && check->not_null_column != NULL &&
			strcmp(check->not_null_column, column) == 0 &&
			migrate_lint_same_relation(check->relation, relation))
			return;
	}
	migrate_lint_report(state, "adding-not-nullable-field", NULL,
						"SET NOT NULL on column %s of table %s scans the whole table under an ACCESS EXCLUSIVE lock",
						column_text(column), relation_text(relation));
}

/* whether a type name is serial, bigserial or smallserial (as the server reads it) */
static bool
is_serial_type(const TypeName *type)
{
	static const char *const serials[] = {
		"smallserial", "serial2", "serial", "serial4", "bigserial", "serial8"
	};
	const char *name;

	if (type == NULL || list_length(type->names) != 1 || type->pct_type)
		return false;
	name = strVal(linitial(type->names));
	for (int i = 0; i < lengthof(serials); i++)
		if (strcmp(name, serials[i]) == 0)
			return true;
	return false;
}

/* text only: whether a raw expression calls a function known to be volatile */
static bool
calls_known_volatile(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *call = (FuncCall *) node;
		const char *name = strVal(llast(call->funcname));

		for (int i = 0; i < lengthof(known_volatile_functions); i++)
			if (strcmp(name, known_volatile_functions[i]) == 0)
				return true;
	}
	return raw_expression_tree_walker(node, calls_known_volatile, context);
}

/* whether a DEFAULT is volatile: the catalog decides, else the known names */
static bool
default_is_volatile(MigrateLintState *state, Node *expression)
{
	MigrateFact fact = FACT_UNKNOWN;

	if (state->facts != NULL && state->facts->expression_volatile != NULL)
		fact = state->facts->expression_volatile(expression);
	if (fact != FACT_UNKNOWN)
		return fact == FACT_YES;
	return calls_known_volatile(expression, NULL);
}

/*
 * Whether the column's type is a domain with constraints: PostgreSQL
 * then rewrites the table to check each row's value, default or NULL.
 */
static bool
domain_has_constraints(MigrateLintState *state, const TypeName *type)
{
	return state->facts != NULL && state->facts->type_has_constraints != NULL &&
		state->facts->type_has_constraints(type) == FACT_YES;
}

/* what an ADD COLUMN's constraints say, in one pass */
typedef struct NewColumn
{
	Node	   *default_expr;	/* DEFAULT, or NULL */
	bool		identity;		/* GENERATED ... AS IDENTITY */
	bool		generated;		/* GENERATED ALWAYS AS (...) STORED */
	bool		not_null;		/* NOT NULL or PRIMARY KEY */
	Constraint *key;			/* PRIMARY KEY or UNIQUE, or NULL */
	Constraint *checked;		/* CHECK or REFERENCES, or NULL */
} NewColumn;

static void
read_new_column(ColumnDef *def, NewColumn *column)
{
	ListCell   *lc;

	memset(column, 0, sizeof(*column));
	column->default_expr = def->raw_default;
	foreach(lc, def->constraints)
	{
		Constraint *c = lfirst_node(Constraint, lc);

		switch (c->contype)
		{
			case CONSTR_DEFAULT:
				column->default_expr = c->raw_expr;
				break;
			case CONSTR_IDENTITY:
				column->identity = true;
				break;
			case CONSTR_GENERATED:
				column->generated = true;
				break;
			case CONSTR_NOTNULL:
				column->not_null = true;
				break;
			case CONSTR_PRIMARY:
				column->not_null = true;
				column->key = c;
				break;
			case CONSTR_UNIQUE:
				if (column->key == NULL)
					column->key = c;
				break;
			case CONSTR_CHECK:
			case CONSTR_FOREIGN:
				column->checked = c;
				break;
			default:
				break;
		}
	}
}

/*
 * ADD COLUMN: a column that needs a value per row (serial, identity,
 * a stored generated column, a volatile DEFAULT) rewrites the table; NOT
 * NULL without a DEFAULT fails on any row; a key builds an index and a
 * CHECK or REFERENCES scans, all under the ACCESS EXCLUSIVE lock.
 */
static void
check_add_column(MigrateLintState *state, const RangeVar *relation, ColumnDef *def)
{
	NewColumn	column;
	bool		serial = is_serial_type(def->typeName);
	bool		per_row;
	const char *name = column_text(def->colname);

	read_new_column(def, &column);
	if (is_new(state, relation))
		return;
	per_row = serial || column.identity || column.generated;

	if (per_row && column.key != NULL && column.key->contype == CONSTR_PRIMARY)
		migrate_lint_report(state, "adding-serial-primary-key-field", NULL,
							"ADD COLUMN %s %s PRIMARY KEY rewrites table %s to number every row and builds the key's index, under an ACCESS EXCLUSIVE lock",
							name, serial ? strVal(linitial(def->typeName->names)) : "GENERATED ... AS IDENTITY",
							relation_text(relation));
	else
	{
		if (per_row)
			migrate_lint_report(state, "adding-field-with-default", NULL,
								"ADD COLUMN %s (%s) computes a value for every row: it rewrites table %s under an ACCESS EXCLUSIVE lock",
								name, serial ? strVal(linitial(def->typeName->names)) :
								column.identity ? "identity" : "generated",
								relation_text(relation));
		else if (column.default_expr != NULL &&
				 default_is_volatile(state, column.default_expr))
			migrate_lint_report(state, "adding-field-with-default", NULL,
								"ADD COLUMN %s with a volatile DEFAULT rewrites table %s under an ACCESS EXCLUSIVE lock",
								name, relation_text(relation));
		else if (domain_has_constraints(state, def->typeName))
			migrate_lint_report(state, "adding-field-with-default",
								"Add the column as the domain's base type with the same CHECK added NOT VALID, then VALIDATE CONSTRAINT (changing its type to the domain later rewrites too).",
								"ADD COLUMN %s of domain %s with constraints checks every row: it rewrites table %s under an ACCESS EXCLUSIVE lock",
								name, TypeNameToString(def->typeName), relation_text(relation));
		if (column.key != NULL)
			migrate_lint_report(state, "disallowed-unique-constraint",
								"Add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX.",
								"ADD COLUMN %s %s builds its index on table %s under an ACCESS EXCLUSIVE lock",
								name, column.key->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
								relation_text(relation));
	}
	if (column.not_null && column.default_expr == NULL && !per_row)
		migrate_lint_report(state, "adding-required-field", NULL,
							"ADD COLUMN %s NOT NULL without a DEFAULT fails if table %s has any row",
							name, relation_text(relation));
	if (column.checked != NULL)
		migrate_lint_report(state, "constraint-missing-not-valid",
							"Add the column, then ADD CONSTRAINT ... NOT VALID and VALIDATE CONSTRAINT in a later migration.",
							"ADD COLUMN %s with %s checks every row of table %s under an ACCESS EXCLUSIVE lock",
							name, column.checked->contype == CONSTR_CHECK ? "a CHECK" : "REFERENCES",
							relation_text(relation));
}

/* whether a USING expression is the column itself, unchanged */
static bool
using_is_the_column(Node *expr, const char *column)
{
	ColumnRef  *ref = (ColumnRef *) expr;

	return expr != NULL && IsA(expr, ColumnRef) && list_length(ref->fields) == 1 &&
		IsA(linitial(ref->fields), String) &&
		strcmp(strVal(linitial(ref->fields)), column) == 0;
}

/*
 * changing-column-type: ALTER COLUMN TYPE rewrites the table and rebuilds
 * its indexes unless the change is binary-coercible, which only the
 * catalog knows (the column's current type is not in the script).  A
 * USING expression that computes something rewrites whatever the types.
 */
static void
check_alter_column_type(MigrateLintState *state, const RangeVar *relation,
						const char *column, ColumnDef *def)
{
	MigrateFact fact = FACT_UNKNOWN;

	if (is_new(state, relation))
		return;
	if (def->raw_default != NULL && !using_is_the_column(def->raw_default, column))
	{
		migrate_lint_report(state, "changing-column-type", NULL,
							"ALTER COLUMN %s TYPE ... USING computes every value anew: it rewrites table %s and rebuilds its indexes under an ACCESS EXCLUSIVE lock",
							column_text(column), relation_text(relation));
		return;
	}
	if (state->facts != NULL && state->facts->binary_coercible != NULL)
		fact = state->facts->binary_coercible(relation, column, def->typeName);
	if (fact == FACT_NO)
		migrate_lint_report(state, "changing-column-type", NULL,
							"ALTER COLUMN %s TYPE is not binary-coercible from the column's current type: it rewrites table %s and rebuilds its indexes under an ACCESS EXCLUSIVE lock",
							column_text(column), relation_text(relation));
}

/* every subcommand of ALTER TABLE on a table */
static void
check_alter_table(MigrateLintState *state, AlterTableStmt *stmt)
{
	const RangeVar *relation = stmt->relation;
	ListCell   *lc;

	if (migrate_alter_table_objtype(stmt) != OBJECT_TABLE)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				check_add_column(state, relation, (ColumnDef *) cmd->def);
				break;
			case AT_AddConstraint:
				check_add_constraint(state, relation, (Constraint *) cmd->def,
									 is_new(state, relation));
				break;
			case AT_ValidateConstraint:
				check_validate_constraint(state, relation, cmd->name);
				break;
			case AT_SetNotNull:
				if (!is_new(state, relation))
					check_set_not_null(state, relation, cmd->name);
				break;
			case AT_AlterColumnType:
				check_alter_column_type(state, relation, cmd->name, (ColumnDef *) cmd->def);
				break;
			case AT_DropColumn:
				if (!migrate_lint_table_created_here(state, relation))
					migrate_lint_report(state, "ban-drop-column", NULL,
										"DROP COLUMN %s of table %s loses its data and breaks the clients that still select it",
										column_text(cmd->name), relation_text(relation));
				break;
			case AT_DropNotNull:
				if (!migrate_lint_table_created_here(state, relation))
					migrate_lint_report(state, "ban-drop-not-null", NULL,
										"DROP NOT NULL on column %s of table %s lets in NULLs that clients may not expect",
										column_text(cmd->name), relation_text(relation));
				break;
			case AT_DetachPartition:
#ifdef MIGRATE_HAVE_DETACH_CONCURRENTLY
				if (!((PartitionCmd *) cmd->def)->concurrent && !is_new(state, relation))
					migrate_lint_report(state, "require-concurrent-detach-partition", NULL,
										"DETACH PARTITION %s without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on table %s",
										relation_text(((PartitionCmd *) cmd->def)->name),
										relation_text(relation));
#endif
				break;
			default:
				break;
		}
	}
}

/* renaming-table and renaming-column: the old name's clients break */
static void
check_rename(MigrateLintState *state, RenameStmt *stmt)
{
	if (stmt->relation == NULL || migrate_lint_table_created_here(state, stmt->relation))
		return;
	if (stmt->renameType == OBJECT_TABLE)
		migrate_lint_report(state, "renaming-table", NULL,
							"renaming table %s to %s breaks the clients that still use the old name",
							relation_text(stmt->relation), quote_identifier(stmt->newname));
	else if (stmt->renameType == OBJECT_COLUMN && stmt->relationType == OBJECT_TABLE)
		migrate_lint_report(state, "renaming-column", NULL,
							"renaming column %s of table %s to %s breaks the clients that still use the old name",
							column_text(stmt->subname), relation_text(stmt->relation),
							quote_identifier(stmt->newname));
}

/* ban-truncate-cascade: CASCADE empties every referencing table too */
static void
check_truncate(MigrateLintState *state, TruncateStmt *stmt)
{
	if (stmt->behavior != DROP_CASCADE || stmt->relations == NIL)
		return;
	migrate_lint_report(state, "ban-truncate-cascade", NULL,
						"TRUNCATE %s%s CASCADE also empties every table whose foreign keys reference it",
						relation_text(linitial(stmt->relations)),
						list_length(stmt->relations) > 1 ? ", ..." : "");
}

/* what a statement tells the later ones (beyond lint.c's created_tables) */
static void
remember_statement(MigrateLintState *state)
{
	if (IsA(state->stmt, CreateTableAsStmt) &&
		migrate_ctas_objtype((CreateTableAsStmt *) state->stmt) == OBJECT_MATVIEW)
	{
		LockingMemory *memory = memory_of(state);

		memory->new_matviews = lappend(memory->new_matviews,
									   ((CreateTableAsStmt *) state->stmt)->into->rel);
	}
}

static void
check_locking(MigrateLintState *state)
{
	Node	   *stmt = state->stmt;

	check_concurrent_in_transaction(state);
	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			check_create_index(state, (IndexStmt *) stmt);
			break;
		case T_DropStmt:
			check_drop(state, (DropStmt *) stmt);
			break;
		case T_ReindexStmt:
			check_reindex(state, (ReindexStmt *) stmt);
			break;
		case T_AlterTableStmt:
			check_alter_table(state, (AlterTableStmt *) stmt);
			break;
		case T_RenameStmt:
			check_rename(state, (RenameStmt *) stmt);
			break;
		case T_TruncateStmt:
			check_truncate(state, (TruncateStmt *) stmt);
			break;
		case T_DropdbStmt:
			migrate_lint_report(state, "ban-drop-database", NULL,
								"DROP DATABASE %s destroys a whole database",
								quote_identifier(((DropdbStmt *) stmt)->dbname));
			break;
		default:
			break;
	}
	remember_statement(state);
}
