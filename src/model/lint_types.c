/*-------------------------------------------------------------------------
 *
 * lint_types.c
 *	  Lint rules about types, keys, names and re-runnable scripts.
 *
 * Types: char(n) and varchar(n) where text serves, integer and smallint
 * keys where bigint serves, serial where identity serves, timestamp
 * without time zone, and domains with constraints.  They read the column
 * definitions of CREATE TABLE and ALTER TABLE (ADD COLUMN, ALTER COLUMN
 * TYPE) and the base type of CREATE DOMAIN.  A column is a key when it is
 * a PRIMARY KEY or UNIQUE column, an identity or serial column, or a
 * FOREIGN KEY's referencing column, as far as the statement itself says:
 * the catalog is not asked which columns of an existing table are keys.
 *
 * Safety: require-timeout-settings (only when the environment asks for
 * the timeouts: state->options), prefer-robust-stmts (only when the
 * header says @idempotent: true), identifier-truncated (the token text,
 * rescanned with PostgreSQL's core scanner: the parse tree only holds the
 * name already truncated to NAMEDATALEN - 1 bytes), and
 * foreign-key-without-index, decided at the end of the script: an index
 * created by any statement of the script counts, and for a table the
 * script did not create, the catalog's indexes (state->facts).
 *
 * Type names are matched as the grammar writes them: "char(2)" is
 * pg_catalog.bpchar, "integer" pg_catalog.int4, "timestamp"
 * pg_catalog.timestamp; "serial" is kept as written until parse analysis,
 * so it is seen here.  A type named through a domain or a search_path
 * alias is not recognised (text only).
 *
 * IDENTIFICATION
 *	  src/model/lint_types.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/tablecmds.h"
#include "common/keywords.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/scanner.h"
#include "utils/elog.h"

#include "compat.h"
#include "model/lint.h"

static void check_types(MigrateLintState *state);
static void finish_types(MigrateLintState *state);

static const MigrateLintRule type_rules[] = {
	/* blank-padded values surprise comparisons and clients, for no saving */
	{"ban-char-field", LINT_WARNING, "types",
		"char(n) pads with blanks and saves no space over text.",
		"Use text (with a CHECK on length if the length matters).",
		"CREATE TABLE country (code char(2) NOT NULL);",
	"CREATE TABLE country (code text NOT NULL CHECK (length(code) = 2));", false},
	/* a limit in the type costs a rewrite to lower; a CHECK does not */
	{"prefer-text-field", LINT_INFO, "types",
		"varchar(n) puts the limit in the type: lowering it rewrites the table, where a CHECK on text is replaced without a rewrite.",
		"Use text, with a CHECK (length(col) <= n) if the limit matters.",
		"CREATE TABLE customer (name varchar(100) NOT NULL);",
	"CREATE TABLE customer (name text NOT NULL CHECK (length(name) <= 100));", false},
	/* running out of key values is an outage, widening later a rewrite */
	{"prefer-bigint-over-int", LINT_WARNING, "types",
		"An integer key runs out at 2^31; changing it later rewrites the table.",
		"Use bigint for primary keys, identity columns and the columns that reference them.",
		"CREATE TABLE account (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
	"CREATE TABLE account (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);", false},
	{"prefer-bigint-over-smallint", LINT_WARNING, "types",
		"A smallint key runs out at 32767; changing it later rewrites the table.",
		"Use bigint for primary keys, identity columns and the columns that reference them.",
		"CREATE TABLE category (id smallint PRIMARY KEY);",
	"CREATE TABLE category (id bigint PRIMARY KEY);", false},
	/* a serial's sequence is a separate object with grants of its own */
	{"prefer-identity", LINT_WARNING, "types",
		"serial columns own a sequence with loose permissions and odd dump behaviour; identity columns are the standard.",
		"Use bigint GENERATED ALWAYS AS IDENTITY (or BY DEFAULT).",
		"CREATE TABLE invoice (id bigserial PRIMARY KEY);",
	"CREATE TABLE invoice (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);", false},
	/* a wall-clock value without a zone means different instants to different sessions */
	{"prefer-timestamptz", LINT_WARNING, "types",
		"timestamp without time zone stores wall-clock time with no zone: values shift when the session's zone differs.",
		"Use timestamptz.",
		"CREATE TABLE event (happened_at timestamp NOT NULL);",
	"CREATE TABLE event (happened_at timestamptz NOT NULL);", false},
	/* a domain CHECK cannot be added NOT VALID per table later */
	{"ban-create-domain-with-constraint", LINT_WARNING, "types",
		"A domain's CHECK constraint is checked on every column of the domain, and changing it scans them all under lock.",
		"Put the CHECK on the table's column instead.",
		"CREATE DOMAIN percent AS integer CHECK (VALUE BETWEEN 0 AND 100);",
	"CREATE TABLE score (percent integer NOT NULL CHECK (percent BETWEEN 0 AND 100));", false},
	/* checks every column of the domain, each table locked against writes */
	{"ban-alter-domain-with-add-constraint", LINT_WARNING, "types",
		"ALTER DOMAIN ... ADD CONSTRAINT scans every column of the domain in every table.",
		"Add the CHECK to each table's column, NOT VALID, then VALIDATE it.",
		"ALTER DOMAIN percent ADD CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100);",
		"ALTER TABLE score ADD CONSTRAINT score_range CHECK (percent BETWEEN 0 AND 100) NOT VALID;\n"
	"ALTER TABLE score VALIDATE CONSTRAINT score_range;", false},
	/* a lock wait without lock_timeout queues all traffic of the table behind it */
	{"require-timeout-settings", LINT_WARNING, "locking",
		"A statement that takes a strong lock runs without lock_timeout or statement_timeout, although the environment asks for them.",
		"SET lock_timeout and statement_timeout first, or give @lock-timeout and @statement-timeout in the header.",
		"ALTER TABLE orders ADD COLUMN note text;",
		"SET lock_timeout = '2s';\nSET statement_timeout = '1min';\n"
	"ALTER TABLE orders ADD COLUMN note text;", false},
	/* the header promises the script may run again */
	{"prefer-robust-stmts", LINT_WARNING, "safety",
		"The migration says @idempotent: true, but this statement fails when run a second time.",
		"Use IF NOT EXISTS / IF EXISTS / OR REPLACE, or drop the @idempotent claim.",
		"-- @idempotent: true\nCREATE TABLE audit_log (id bigint);",
	"-- @idempotent: true\nCREATE TABLE IF NOT EXISTS audit_log (id bigint);", false},
	/* PostgreSQL truncates with only a NOTICE, and names may collide */
	{"identifier-truncated", LINT_ERROR, "naming",
		"An identifier longer than 63 bytes is silently truncated, and two long names may collide.",
		"Use a name of at most 63 bytes.",
		"CREATE TABLE account (customer_billing_address_verification_status_last_changed_by_user_id bigint);",
	"CREATE TABLE account (billing_address_verified_by bigint);", false},
	/* every delete of a referenced row scans the referencing table */
	{"foreign-key-without-index", LINT_WARNING, "catalog",
		"The referencing columns of a foreign key have no index: every DELETE or key UPDATE on the referenced table scans this one.",
		"CREATE INDEX CONCURRENTLY on the referencing columns.",
		"CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id));",
		"CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id));\n"
	"CREATE INDEX orders_customer_id ON orders (customer_id);", true},
};

const MigrateLintModule migrate_lint_module_types = {
	type_rules, lengthof(type_rules), check_types, finish_types
};

/* a foreign key of the script, checked for an index at the end */
typedef struct PendingForeignKey
{
	RangeVar   *relation;		/* the referencing table */
	List	   *columns;		/* String: its referencing columns */
	int			statement;		/* where it was written */
	bool		table_created_here; /* the script created the table first */
} PendingForeignKey;

/* an index some statement of the script creates: its leading columns */
typedef struct ScriptIndex
{
	RangeVar   *relation;
	List	   *columns;		/* String: key columns, in order, up to the
								 * first expression */
} ScriptIndex;

/* what this module remembers across statements (state->types_private) */
typedef struct TypesPrivate
{
	List	   *foreign_keys;	/* PendingForeignKey * */
	List	   *indexes;		/* ScriptIndex * */
	List	   *created_domains;	/* List * of String: domains the script
									 * created */
} TypesPrivate;

static TypesPrivate *
types_private(MigrateLintState *state)
{
	if (state->types_private == NULL)
		state->types_private = palloc0(sizeof(TypesPrivate));
	return state->types_private;
}

/* "schema.table" or "table", as written */
static char *
relation_name(const RangeVar *relation)
{
	if (relation->schemaname != NULL)
		return psprintf("%s.%s", relation->schemaname, relation->relname);
	return pstrdup(relation->relname);
}

/* ---------------------------------------------------------------------
 * Types
 * ---------------------------------------------------------------------
 */

/*
 * Whether "type" names pg_catalog's type "name" as the grammar writes it:
 * qualified (char(n) is pg_catalog.bpchar) or bare.
 */
static bool
type_is(const TypeName *type, const char *name)
{
	int			n = list_length(type->names);

	if (type->names == NIL || n > 2)
		return false;
	if (n == 2 && strcmp(strVal(linitial(type->names)), "pg_catalog") != 0)
		return false;
	return strcmp(strVal(llast(type->names)), name) == 0;
}

/* a serial type as written (the grammar leaves it unqualified) */
static const char *
serial_kind(const TypeName *type)
{
	const char *name;

	if (type == NULL || list_length(type->names) != 1 || type->arrayBounds != NIL)
		return NULL;
	name = strVal(linitial(type->names));
	if (strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0)
		return "serial";
	if (strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0)
		return "bigserial";
	if (strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0)
		return "smallserial";
	return NULL;
}

/*
 * ban-char-field, prefer-text-field, prefer-timestamptz: the type itself,
 * wherever a column or domain gets it.  "what" says where, e.g. 'column
 * "code" of table "t"'.
 */
static void
check_type_name(MigrateLintState *state, const TypeName *type, const char *what)
{
	if (type == NULL)
		return;
	if (type_is(type, "bpchar"))
		migrate_lint_report(state, "ban-char-field", NULL, "%s is char(n)", what);
	else if (type_is(type, "varchar") && type->typmods != NIL)
		migrate_lint_report(state, "prefer-text-field", NULL, "%s is varchar(n)", what);
	else if (type_is(type, "timestamp"))
		migrate_lint_report(state, "prefer-timestamptz", NULL,
							"%s is timestamp without time zone", what);
}

static bool
name_in(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return true;
	}
	return false;
}

/* the columns a table constraint makes keys: PRIMARY KEY, UNIQUE, FOREIGN KEY */
static List *
constraint_key_columns(const Constraint *constraint)
{
	switch (constraint->contype)
	{
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			return constraint->keys;
		case CONSTR_FOREIGN:
			return constraint->fk_attrs;
		default:
			return NIL;
	}
}

/* a column constraint that makes its column a key */
static bool
column_is_key(const ColumnDef *column, List *table_keys)
{
	ListCell   *lc;

	if (serial_kind(column->typeName) != NULL || name_in(table_keys, column->colname))
		return true;
	foreach(lc, column->constraints)
	{
		Constraint *constraint = lfirst(lc);

		if (constraint->contype == CONSTR_PRIMARY || constraint->contype == CONSTR_UNIQUE ||
			constraint->contype == CONSTR_IDENTITY || constraint->contype == CONSTR_FOREIGN)
			return true;
	}
	return false;
}

/*
 * Every type rule on a column definition of "relation": its type, serial,
 * and an integer or smallint key.
 */
static void
check_column(MigrateLintState *state, const RangeVar *relation, const ColumnDef *column,
			 List *table_keys)
{
	const TypeName *type = column->typeName;
	char	   *what = psprintf("column \"%s\" of table \"%s\"", column->colname,
								relation_name(relation));
	const char *serial = serial_kind(type);

	if (type == NULL)			/* a column of CREATE TABLE ... PARTITION OF */
		return;
	check_type_name(state, type, what);
	if (serial != NULL)
		migrate_lint_report(state, "prefer-identity", NULL, "%s is %s", what, serial);
	if (!column_is_key(column, table_keys) || type->arrayBounds != NIL)
		return;
	if (type_is(type, "int4") || (serial != NULL && strcmp(serial, "serial") == 0))
		migrate_lint_report(state, "prefer-bigint-over-int", NULL,
							"key %s is %s", what, serial ? serial : "integer");
	else if (type_is(type, "int2") || (serial != NULL && strcmp(serial, "smallserial") == 0))
		migrate_lint_report(state, "prefer-bigint-over-smallint", NULL,
							"key %s is %s", what, serial ? serial : "smallint");
}

/* ---------------------------------------------------------------------
 * Foreign keys and the indexes that serve them
 * ---------------------------------------------------------------------
 */

static void
remember_foreign_key(MigrateLintState *state, RangeVar *relation, List *columns,
					 bool table_created_here)
{
	TypesPrivate *types = types_private(state);
	PendingForeignKey *fk = palloc0(sizeof(PendingForeignKey));

	if (columns == NIL)
		return;
	fk->relation = relation;
	fk->columns = columns;
	fk->statement = state->statement->number;
	fk->table_created_here = table_created_here;
	types->foreign_keys = lappend(types->foreign_keys, fk);
}

static void
remember_index(MigrateLintState *state, RangeVar *relation, List *columns)
{
	TypesPrivate *types = types_private(state);
	ScriptIndex *index = palloc0(sizeof(ScriptIndex));

	if (columns == NIL)
		return;
	index->relation = relation;
	index->columns = columns;
	types->indexes = lappend(types->indexes, index);
}

/*
 * A table constraint's index (PRIMARY KEY, UNIQUE) or foreign key.  A
 * constraint USING INDEX names an index whose columns the text does not
 * show: it is not remembered.
 */
static void
remember_table_constraint(MigrateLintState *state, RangeVar *relation,
						  const Constraint *constraint, bool table_created_here)
{
	if (constraint->contype == CONSTR_PRIMARY || constraint->contype == CONSTR_UNIQUE)
		remember_index(state, relation, constraint->keys);
	else if (constraint->contype == CONSTR_FOREIGN)
		remember_foreign_key(state, relation, constraint->fk_attrs, table_created_here);
}

/* a column constraint's index or foreign key: the column alone */
static void
remember_column_constraints(MigrateLintState *state, RangeVar *relation,
							const ColumnDef *column, bool table_created_here)
{
	ListCell   *lc;

	foreach(lc, column->constraints)
	{
		Constraint *constraint = lfirst(lc);
		List	   *columns = list_make1(makeString(column->colname));

		if (constraint->contype == CONSTR_PRIMARY || constraint->contype == CONSTR_UNIQUE)
			remember_index(state, relation, columns);
		else if (constraint->contype == CONSTR_FOREIGN)
			remember_foreign_key(state, relation, columns, table_created_here);
	}
}

/*
 * CREATE INDEX: its key columns up to the first expression.  A partial
 * index serves only the rows of its predicate, not every lookup of a
 * foreign key.
 */
static void
remember_create_index(MigrateLintState *state, const IndexStmt *index)
{
	List	   *columns = NIL;
	ListCell   *lc;

	if (index->whereClause != NULL)
		return;
	foreach(lc, index->indexParams)
	{
		IndexElem  *elem = lfirst(lc);

		if (elem->name == NULL)
			break;
		columns = lappend(columns, makeString(elem->name));
	}
	remember_index(state, index->relation, columns);
}

/* whether "name" is one of the first n names of "names" */
static bool
name_in_first(List *names, int n, const char *name)
{
	for (int i = 0; i < n && i < list_length(names); i++)
	{
		if (strcmp(strVal(list_nth(names, i)), name) == 0)
			return true;
	}
	return false;
}

/*
 * Whether the first list_length(wanted) columns of "leading" are the
 * columns "wanted", in any order.
 */
static bool
leading_columns_are(List *leading, List *wanted)
{
	int			n = list_length(wanted);
	ListCell   *lc;

	if (list_length(leading) < n)
		return false;
	foreach(lc, wanted)
	{
		if (!name_in_first(leading, n, strVal(lfirst(lc))))
			return false;
	}
	foreach(lc, leading)
	{
		if (foreach_current_index(lc) >= n)
			break;
		if (!name_in(wanted, strVal(lfirst(lc))))
			return false;
	}
	return true;
}

static bool
script_indexes(const TypesPrivate *types, const PendingForeignKey *fk)
{
	ListCell   *lc;

	foreach(lc, types->indexes)
	{
		ScriptIndex *index = lfirst(lc);

		if (migrate_lint_same_relation(index->relation, fk->relation) &&
			leading_columns_are(index->columns, fk->columns))
			return true;
	}
	return false;
}

static char *
column_list(List *columns)
{
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	foreach(lc, columns)
		appendStringInfo(&out, "%s%s", out.len > 0 ? ", " : "", strVal(lfirst(lc)));
	return out.data;
}

/*
 * foreign-key-without-index, at the end of the script, so that an index
 * created after the foreign key counts.  On a table the script created,
 * the script's indexes are all there is; on another, the catalog decides,
 * and where it cannot (text-only lint, table not found) the rule is
 * silent.
 */
static void
finish_types(MigrateLintState *state)
{
	TypesPrivate *types = state->types_private;
	ListCell   *lc;

	if (types == NULL)
		return;
	foreach(lc, types->foreign_keys)
	{
		PendingForeignKey *fk = lfirst(lc);

		if (script_indexes(types, fk))
			continue;
		if (!fk->table_created_here)
		{
			if (state->facts == NULL || state->facts->columns_indexed == NULL ||
				state->facts->columns_indexed(fk->relation, fk->columns) != FACT_NO)
				continue;
		}
		/* report on the foreign key's statement, so that its suppressions apply */
		state->statement = &state->parsed->statements[fk->statement - 1];
		migrate_lint_report(state, "foreign-key-without-index", NULL,
							"no index of table \"%s\" leads with the foreign key's columns (%s)",
							relation_name(fk->relation), column_list(fk->columns));
	}
	state->statement = NULL;
}

/* ---------------------------------------------------------------------
 * The statements that define columns and constraints
 * ---------------------------------------------------------------------
 */

static void
check_create_table(MigrateLintState *state, CreateStmt *create)
{
	List	   *table_keys = NIL;
	ListCell   *lc;

	foreach(lc, create->tableElts)
	{
		if (IsA(lfirst(lc), Constraint))
			table_keys = list_concat(table_keys,
									 constraint_key_columns(lfirst(lc)));
	}
	foreach(lc, create->constraints)
		table_keys = list_concat(table_keys, constraint_key_columns(lfirst(lc)));

	foreach(lc, create->tableElts)
	{
		Node	   *element = lfirst(lc);

		if (IsA(element, ColumnDef))
		{
			check_column(state, create->relation, (ColumnDef *) element, table_keys);
			remember_column_constraints(state, create->relation, (ColumnDef *) element, true);
		}
		else if (IsA(element, Constraint))
			remember_table_constraint(state, create->relation, (Constraint *) element, true);
	}
	foreach(lc, create->constraints)
		remember_table_constraint(state, create->relation, lfirst(lc), true);
}

/*
 * ALTER TABLE: ADD COLUMN, ALTER COLUMN TYPE, ADD CONSTRAINT.  A column
 * added and made a key by the same statement is a key.
 */
static void
check_alter_table(MigrateLintState *state, AlterTableStmt *alter)
{
	bool		created_here = migrate_lint_table_created_here(state, alter->relation);
	List	   *table_keys = NIL;
	ListCell   *lc;

	if (migrate_alter_table_objtype(alter) != OBJECT_TABLE)
		return;
	foreach(lc, alter->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AddConstraint && IsA(cmd->def, Constraint))
			table_keys = list_concat(table_keys,
									 constraint_key_columns((Constraint *) cmd->def));
	}
	foreach(lc, alter->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (cmd->subtype == AT_AddColumn && IsA(cmd->def, ColumnDef))
		{
			check_column(state, alter->relation, (ColumnDef *) cmd->def, table_keys);
			remember_column_constraints(state, alter->relation, (ColumnDef *) cmd->def,
										created_here);
		}
		else if (cmd->subtype == AT_AlterColumnType && IsA(cmd->def, ColumnDef))
			check_type_name(state, ((ColumnDef *) cmd->def)->typeName,
							psprintf("column \"%s\" of table \"%s\"", cmd->name,
									 relation_name(alter->relation)));
		else if (cmd->subtype == AT_AddConstraint && IsA(cmd->def, Constraint))
			remember_table_constraint(state, alter->relation, (Constraint *) cmd->def,
									  created_here);
	}
}

static bool
domain_created_here(MigrateLintState *state, List *names)
{
	TypesPrivate *types = types_private(state);
	const char *name = strVal(llast(names));
	ListCell   *lc;

	foreach(lc, types->created_domains)
	{
		List	   *created = lfirst(lc);

		if (strcmp(strVal(llast(created)), name) == 0 &&
			(list_length(created) == 1 || list_length(names) == 1 ||
			 strcmp(strVal(linitial(created)), strVal(linitial(names))) == 0))
			return true;
	}
	return false;
}

static void
check_create_domain(MigrateLintState *state, CreateDomainStmt *domain)
{
	char	   *name = NameListToString(domain->domainname);
	ListCell   *lc;

	check_type_name(state, domain->typeName, psprintf("domain \"%s\"", name));
	foreach(lc, domain->constraints)
	{
		Constraint *constraint = lfirst(lc);

		if (constraint->contype == CONSTR_CHECK)
		{
			migrate_lint_report(state, "ban-create-domain-with-constraint", NULL,
								"domain \"%s\" has a CHECK constraint", name);
			break;
		}
	}
	types_private(state)->created_domains =
		lappend(types_private(state)->created_domains, domain->domainname);
}

/* ALTER DOMAIN ... ADD CONSTRAINT, unless the script created the domain */
static void
check_alter_domain(MigrateLintState *state, AlterDomainStmt *domain)
{
	if (domain->subtype != 'C' || domain_created_here(state, domain->typeName))
		return;
	migrate_lint_report(state, "ban-alter-domain-with-add-constraint", NULL,
						"ALTER DOMAIN \"%s\" ADD CONSTRAINT checks every column of the domain",
						NameListToString(domain->typeName));
}

/* ---------------------------------------------------------------------
 * require-timeout-settings
 * ---------------------------------------------------------------------
 */

/* the first relation of a list of names that the script did not create */
static RangeVar *
first_existing(MigrateLintState *state, List *relations)
{
	ListCell   *lc;

	foreach(lc, relations)
	{
		Node	   *item = lfirst(lc);
		RangeVar   *relation = IsA(item, RangeVar) ? (RangeVar *) item :
		makeRangeVarFromNameList((List *) item);

		if (!migrate_lint_table_created_here(state, relation))
			return relation;
	}
	return NULL;
}

/* the tables a CREATE TABLE's foreign keys reference (SHARE ROW EXCLUSIVE) */
static List *
referenced_tables(const CreateStmt *create)
{
	List	   *tables = NIL;
	ListCell   *lc;

	foreach(lc, create->tableElts)
	{
		Node	   *element = lfirst(lc);
		List	   *constraints = IsA(element, ColumnDef) ?
		((ColumnDef *) element)->constraints : list_make1(element);
		ListCell   *cc;

		foreach(cc, constraints)
		{
			Constraint *constraint = lfirst(cc);

			/* a key referencing the new table itself locks nobody else's */
			if (IsA(constraint, Constraint) && constraint->contype == CONSTR_FOREIGN &&
				!migrate_lint_same_relation(constraint->pktable, create->relation))
				tables = lappend(tables, constraint->pktable);
		}
	}
	return tables;
}

/*
 * The existing table on which "stmt" takes a lock that blocks writes
 * (SHARE or stronger), or NULL.  ALTER TABLE asks PostgreSQL's own
 * AlterTableGetLockLevel(); the other statements are listed in
 * doc/lint.md.  A table an earlier statement created is nobody else's
 * yet.
 */
static RangeVar *
write_blocking_target(MigrateLintState *state, Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *alter = (AlterTableStmt *) stmt;

				if (migrate_alter_table_objtype(alter) != OBJECT_TABLE ||
					AlterTableGetLockLevel(alter->cmds) < ShareLock)
					return NULL;
				return first_existing(state, list_make1(alter->relation));
			}
		case T_IndexStmt:
			if (((IndexStmt *) stmt)->concurrent)
				return NULL;
			return first_existing(state, list_make1(((IndexStmt *) stmt)->relation));
		case T_DropStmt:
			{
				DropStmt   *drop = (DropStmt *) stmt;

				if (drop->concurrent ||
					(drop->removeType != OBJECT_TABLE && drop->removeType != OBJECT_INDEX &&
					 drop->removeType != OBJECT_MATVIEW))
					return NULL;
				return first_existing(state, drop->objects);
			}
		case T_TruncateStmt:
			return first_existing(state, ((TruncateStmt *) stmt)->relations);
		case T_RenameStmt:
			{
				RenameStmt *rename = (RenameStmt *) stmt;

				if (rename->relation == NULL ||
					(rename->renameType != OBJECT_TABLE && rename->renameType != OBJECT_COLUMN &&
					 rename->renameType != OBJECT_TABCONSTRAINT &&
					 rename->renameType != OBJECT_TRIGGER))
					return NULL;
				return first_existing(state, list_make1(rename->relation));
			}
		case T_CreateTrigStmt:
			return first_existing(state, list_make1(((CreateTrigStmt *) stmt)->relation));
		case T_CreatePolicyStmt:
			return first_existing(state, list_make1(((CreatePolicyStmt *) stmt)->table));
		case T_LockStmt:
			if (((LockStmt *) stmt)->mode < ShareLock)
				return NULL;
			return first_existing(state, ((LockStmt *) stmt)->relations);
		case T_ClusterStmt:
			if (((ClusterStmt *) stmt)->relation == NULL)
				return NULL;
			return first_existing(state, list_make1(((ClusterStmt *) stmt)->relation));
		case T_RefreshMatViewStmt:
			if (((RefreshMatViewStmt *) stmt)->concurrent)
				return NULL;
			return first_existing(state, list_make1(((RefreshMatViewStmt *) stmt)->relation));
		case T_CreateStmt:
			return first_existing(state, referenced_tables((CreateStmt *) stmt));
		default:
			return NULL;
	}
}

/*
 * require-timeout-settings: without lock_timeout, a statement that waits
 * for its lock queues every later reader and writer of the table behind
 * it; without statement_timeout, a long scan or rewrite holds it.  Only
 * when the environment asks (options->require_timeouts), and only for
 * what neither a SET earlier in the script nor the header or environment
 * (options->*_given) covers.
 */
static void
check_timeouts(MigrateLintState *state)
{
	bool		lock_covered = state->lock_timeout_set || state->options->lock_timeout_given;
	bool		statement_covered = state->statement_timeout_set ||
		state->options->statement_timeout_given;
	RangeVar   *target;

	if (!state->options->require_timeouts || (lock_covered && statement_covered))
		return;
	target = write_blocking_target(state, state->stmt);
	if (target == NULL)
		return;
	migrate_lint_report(state, "require-timeout-settings", NULL,
						"%s locks \"%s\" against writes with no %s set",
						state->statement->classified.command, relation_name(target),
						!lock_covered && !statement_covered ? "lock_timeout and statement_timeout" :
						!lock_covered ? "lock_timeout" : "statement_timeout");
}

/* ---------------------------------------------------------------------
 * prefer-robust-stmts
 * ---------------------------------------------------------------------
 */

#define AGAIN "fails when the migration runs again"

/* why an ALTER TABLE subcommand fails the second time, or NULL */
static const char *
alter_table_not_rerunnable(const AlterTableCmd *cmd)
{
	switch (cmd->subtype)
	{
		case AT_AddColumn:
			return cmd->missing_ok ? NULL : "ADD COLUMN without IF NOT EXISTS " AGAIN;
		case AT_DropColumn:
			return cmd->missing_ok ? NULL : "DROP COLUMN without IF EXISTS " AGAIN;
		case AT_DropConstraint:
			return cmd->missing_ok ? NULL : "DROP CONSTRAINT without IF EXISTS " AGAIN;
		case AT_AddConstraint:
			return "ADD CONSTRAINT " AGAIN ": it has no IF NOT EXISTS";
		default:
			return NULL;
	}
}

/*
 * Why "stmt" fails (or does its work twice) when it runs a second time,
 * or NULL when it may.  Only DDL: what a data change does twice is the
 * author's to judge.
 */
static const char *
not_rerunnable(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_CreateStmt:
			return ((CreateStmt *) stmt)->if_not_exists ? NULL : "without IF NOT EXISTS " AGAIN;
		case T_CreateTableAsStmt:
			return ((CreateTableAsStmt *) stmt)->if_not_exists ? NULL : "without IF NOT EXISTS " AGAIN;
		case T_IndexStmt:
			if (((IndexStmt *) stmt)->idxname == NULL)
				return "without a name builds one more index each time the migration runs";
			return ((IndexStmt *) stmt)->if_not_exists ? NULL : "without IF NOT EXISTS " AGAIN;
		case T_CreateSeqStmt:
			return ((CreateSeqStmt *) stmt)->if_not_exists ? NULL : "without IF NOT EXISTS " AGAIN;
		case T_CreateSchemaStmt:
			return ((CreateSchemaStmt *) stmt)->if_not_exists ? NULL : "without IF NOT EXISTS " AGAIN;
		case T_CreateExtensionStmt:
			return ((CreateExtensionStmt *) stmt)->if_not_exists ? NULL : "without IF NOT EXISTS " AGAIN;
		case T_CreateFunctionStmt:
			return ((CreateFunctionStmt *) stmt)->replace ? NULL : "without OR REPLACE " AGAIN;
		case T_ViewStmt:
			return ((ViewStmt *) stmt)->replace ? NULL : "without OR REPLACE " AGAIN;
		case T_RuleStmt:
			return ((RuleStmt *) stmt)->replace ? NULL : "without OR REPLACE " AGAIN;
		case T_CreateTrigStmt:
			return migrate_trigger_replaces((CreateTrigStmt *) stmt) ? NULL :
				"without OR REPLACE " AGAIN;
		case T_CreateDomainStmt:
		case T_CompositeTypeStmt:
		case T_CreateEnumStmt:
		case T_CreateRangeStmt:
		case T_CreatePolicyStmt:
		case T_CreateRoleStmt:
			return AGAIN ": it has no IF NOT EXISTS";
		case T_DropStmt:
			return ((DropStmt *) stmt)->missing_ok ? NULL : "without IF EXISTS " AGAIN;
		case T_RenameStmt:
			return "... RENAME " AGAIN ": the old name is gone";
		case T_AlterEnumStmt:
			if (((AlterEnumStmt *) stmt)->oldVal != NULL)
				return "... RENAME VALUE " AGAIN ": the old value is gone";
			return ((AlterEnumStmt *) stmt)->skipIfNewValExists ? NULL :
				"... ADD VALUE without IF NOT EXISTS " AGAIN;
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterTableStmt *) stmt)->cmds)
				{
					const char *why = alter_table_not_rerunnable(lfirst(lc));

					if (why != NULL)
						return why;
				}
				return NULL;
			}
		default:
			return NULL;
	}
}

static void
check_robust(MigrateLintState *state)
{
	const char *why;

	if (state->header->idempotent != HEADER_TRUE)
		return;
	why = not_rerunnable(state->stmt);
	if (why != NULL)
		migrate_lint_report(state, "prefer-robust-stmts", NULL, "%s %s",
							state->statement->classified.command, why);
}

/* ---------------------------------------------------------------------
 * identifier-truncated
 * ---------------------------------------------------------------------
 */

static emit_log_hook_type previous_emit_log_hook = NULL;

/*
 * While the statement is scanned again, drop the scanner's "identifier
 * ... will be truncated" notices: parsing the script already gave them
 * once, and the finding says it again.
 */
static void
quiet_truncation_notices(ErrorData *edata)
{
	if (edata->elevel == NOTICE && edata->sqlerrcode == ERRCODE_NAME_TOO_LONG)
	{
		edata->output_to_client = false;
		edata->output_to_server = false;
	}
	if (previous_emit_log_hook != NULL)
		previous_emit_log_hook(edata);
}

/*
 * The bytes of the name an identifier token at "token" stands for, and in
 * *text_bytes the length of its text (quotes included); -1 when the token
 * is not an identifier that could be too long.  An ordinary identifier
 * starts with a letter, "_" or a byte of a multibyte character and goes on
 * with scan.l's ident_cont characters; in a quoted one, "" stands for one
 * quote.
 *
 * The token's number is not needed (parser/gram.h, which names it, is not
 * installed from PostgreSQL 16 on): a run of NAMEDATALEN or more such
 * characters at a token's start is always an identifier, since no keyword
 * is that long and the prefixes of E'', B'', X'', N'' and U& strings are
 * one letter.
 */
static int
identifier_bytes(const char *token, int *text_bytes)
{
	int			len = 0;
	const char *p = token;

	if (*p != '"')
	{
		if (!isalpha((unsigned char) *p) && *p != '_' && !IS_HIGHBIT_SET(*p))
			return -1;
		while (isalnum((unsigned char) p[len]) || p[len] == '_' || p[len] == '$' ||
			   IS_HIGHBIT_SET(p[len]))
			len++;
		*text_bytes = len;
		return len;
	}
	for (p++; *p != '\0'; p++)
	{
		if (*p == '"')
		{
			if (p[1] != '"')
				break;
			p++;
		}
		len++;
	}
	*text_bytes = (int) (p - token) + (*p == '"' ? 1 : 0);
	return len;
}

/*
 * Scan the statement's text and report every identifier token longer
 * than NAMEDATALEN - 1 bytes, once per name.  The scanner has already
 * truncated the token's value (yylval), so the length comes from the
 * text at the token's location.  U&"..." identifiers are left out: their
 * length is known only after their escapes are resolved.
 */
static void
scan_identifiers(MigrateLintState *state, const char *text)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	List	   *reported = NIL;

	scanner = scanner_init(text, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		int			text_bytes = 0;
		int			bytes;

		if (core_yylex(&yylval, &yylloc, scanner) == 0)
			break;
		bytes = identifier_bytes(text + yylloc, &text_bytes);
		if (bytes < NAMEDATALEN || list_member(reported, makeString(yylval.str)))
			continue;
		reported = lappend(reported, makeString(yylval.str));
		migrate_lint_report(state, "identifier-truncated", NULL,
							"identifier %.*s is %d bytes long: PostgreSQL truncates it to \"%s\"",
							text_bytes, text + yylloc, bytes, yylval.str);
	}
	scanner_finish(scanner);
}

static void
check_identifiers(MigrateLintState *state)
{
	char	   *text = migrate_parse_statement_text(state->parsed, state->statement);

	previous_emit_log_hook = emit_log_hook;
	emit_log_hook = quiet_truncation_notices;
	PG_TRY();
	{
		scan_identifiers(state, text);
	}
	PG_FINALLY();
	{
		emit_log_hook = previous_emit_log_hook;
	}
	PG_END_TRY();
}

/* ---------------------------------------------------------------------
 * The module's check: every rule on one statement
 * ---------------------------------------------------------------------
 */

static void
check_types(MigrateLintState *state)
{
	Node	   *stmt = state->stmt;

	if (IsA(stmt, CreateStmt))
		check_create_table(state, (CreateStmt *) stmt);
	else if (IsA(stmt, AlterTableStmt))
		check_alter_table(state, (AlterTableStmt *) stmt);
	else if (IsA(stmt, IndexStmt))
		remember_create_index(state, (IndexStmt *) stmt);
	else if (IsA(stmt, CreateDomainStmt))
		check_create_domain(state, (CreateDomainStmt *) stmt);
	else if (IsA(stmt, AlterDomainStmt))
		check_alter_domain(state, (AlterDomainStmt *) stmt);
	check_timeouts(state);
	check_robust(state);
	check_identifiers(state);
}
