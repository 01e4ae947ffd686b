/*-------------------------------------------------------------------------
 *
 * invert.c
 *	  Generating a down script from an up script.
 *
 * Every statement of the up script is inverted from its raw parse tree,
 * never from its text: a CREATE becomes the DROP of what it names, an
 * ADD COLUMN or ADD CONSTRAINT the DROP of the column or constraint, a
 * RENAME the rename back, ENABLE the DISABLE, and so on.  Names are
 * deparsed with PostgreSQL's quoting helpers (quote_identifier,
 * quote_qualified_identifier, NameListToQuotedString, quote_literal_cstr),
 * so the inverse names exactly the object the up script names, however
 * it was spelt.
 *
 * Some inverses need to know what the catalog holds before the up script
 * runs: the comment a COMMENT ON replaces, the default a SET DEFAULT
 * replaces, whether the object of a CREATE ... IF NOT EXISTS or CREATE OR
 * REPLACE exists already.  Those questions go through the catalog facts
 * (model/catalogfacts.h); without facts, the statements are not
 * invertible.  A CREATE ... IF NOT EXISTS or CREATE OR REPLACE is
 * invertible only when the object does not exist now: then the up script
 * creates it, and DROP ... IF EXISTS undoes exactly that; when it exists,
 * the up script leaves it alone or replaces a definition nobody wrote
 * down, so there is nothing exact to go back to.
 *
 * A statement that only changes an object created earlier in the same up
 * script (a COMMENT ON or SET DEFAULT on a new table, rows inserted into
 * it, a value added to a new enum) has nothing to undo: the inverse of
 * the statement that created the object runs later in the down script and
 * drops the object with everything done to it since.  Such a statement is
 * invertible, its inverse is empty, and "reason" says why.
 *
 * The rest has no exact inverse, and each is reported with the reason:
 * DROP, DELETE, UPDATE, INSERT and TRUNCATE destroy or add what the down
 * script cannot know; ALTER COLUMN TYPE, ADD VALUE, DO, GRANT/REVOKE and
 * anything not listed here have no inverse we know to be exact.
 *
 * IDENTIFICATION
 *	  src/model/invert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/formatting.h"

#include "compat.h"
#include "model/invert.h"

/* what kind of object a statement earlier in the script created */
typedef enum CreatedKind
{
	CREATED_RELATION,			/* table, view, index, sequence, ... */
	CREATED_TYPE,				/* enum, composite, range type, domain */
	CREATED_FUNCTION,			/* function or procedure (by name) */
	CREATED_SCHEMA,
	CREATED_EXTENSION,
	CREATED_COLUMN,				/* names: relation's names, then column */
	CREATED_SUBOBJECT,			/* trigger, policy, constraint: relation's
								 * names, then its name */
	CHANGED_DEFAULT,			/* a column's default was set or dropped:
								 * relation's names, then column */
	CHANGED_COMMENT				/* a comment was set: "KEYWORD object" */
} CreatedKind;

typedef struct CreatedObject
{
	CreatedKind kind;
	List	   *names;			/* String, as written: [schema,] name */
	int			statement;
} CreatedObject;

/* the state of one script's inversion */
typedef struct InvertState
{
	const MigrateCatalogFacts *facts;
	List	   *created;		/* CreatedObject *, earlier statements */
	MigrateInversion *inv;		/* the statement being inverted */
	int			statement;
	List	   *states;			/* ChangedState *, set by earlier statements */
} InvertState;

/*
 * The state an earlier statement of the script left a trigger or a
 * table's row level security in: the state the next statement changes
 * is that one, not the catalog's.
 */
typedef struct ChangedState
{
	List	   *names;			/* relation's names, then the trigger's name,
								 * or "row security" / "force row security" */
	char		state;			/* tgenabled, or 'y' / 'n' */
} ChangedState;

static void invert_statement(InvertState *st, Node *stmt);

/* ----------------------------------------------------------------------
 * Outcomes
 * ---------------------------------------------------------------------- */

/* the statement's inverse is "down" */
static void
inverse(InvertState *st, char *down)
{
	st->inv->invertible = true;
	st->inv->down = down;
	st->inv->reason = NULL;
}

/* the statement has no inverse, because of "reason" */
static void
irreversible(InvertState *st, char *reason)
{
	st->inv->invertible = false;
	st->inv->down = NULL;
	st->inv->reason = reason;
}

/* the statement needs no inverse, because of "reason" */
static void
nothing_to_undo(InvertState *st, char *reason)
{
	st->inv->invertible = true;
	st->inv->down = NULL;
	st->inv->reason = psprintf("nothing to undo: %s", reason);
}

/* the generic refusal */
static void
no_inverse_known(InvertState *st)
{
	irreversible(st, psprintf("no inverse is known for %s", st->inv->command));
}

/* ----------------------------------------------------------------------
 * Deparsing names
 * ---------------------------------------------------------------------- */

/* a relation's name as written, quoted */
static char *
rangevar_sql(const RangeVar *rv)
{
	if (rv->catalogname)
		return psprintf("%s.%s", quote_identifier(rv->catalogname),
						quote_qualified_identifier(rv->schemaname, rv->relname));
	return quote_qualified_identifier(rv->schemaname, rv->relname);
}

/*
 * "ONLY " when the statement names the relation with ONLY (not its
 * inheritance children or partitions): the inverse must not recurse
 * either.
 */
static const char *
only_sql(ObjectType objtype, const RangeVar *rv)
{
	if (objtype != OBJECT_TABLE && objtype != OBJECT_FOREIGN_TABLE)
		return "";				/* no ONLY in ALTER TYPE, VIEW, INDEX... */
	return rv->inh ? "" : "ONLY ";
}

/* the names of a RangeVar as a List of String, for the created list */
static List *
rangevar_names(const RangeVar *rv)
{
	List	   *names = NIL;

	if (rv->schemaname)
		names = lappend(names, makeString(rv->schemaname));
	return lappend(names, makeString(rv->relname));
}

/* "name" in the schema of "names" (all but its last element), quoted */
static char *
sibling_sql(List *names, const char *name)
{
	List	   *sibling = list_copy(names);

	sibling = list_truncate(sibling, list_length(names) - 1);
	sibling = lappend(sibling, makeString(pstrdup(name)));
	return NameListToQuotedString(sibling);
}

/*
 * A type name as written, quoted.  TypeNameToString() does not quote the
 * names, so a type called "Order Status" would come out unusable; this
 * quotes each part and keeps %TYPE and array bounds (type modifiers do not
 * identify a type: DROP FUNCTION ignores them).
 */
static char *
type_sql(const TypeName *type)
{
	StringInfoData out;

	if (type->names == NIL)
		return TypeNameToString(type);
	initStringInfo(&out);
	if (type->setof)
		appendStringInfoString(&out, "SETOF ");
	appendStringInfoString(&out, NameListToQuotedString(type->names));
	if (type->pct_type)
		appendStringInfoString(&out, "%TYPE");
	for (int i = 0; i < list_length(type->arrayBounds); i++)
		appendStringInfoString(&out, "[]");
	return out.data;
}

/* "name(type, type)" of a function whose argument types are TypeNames */
static char *
signature_sql(List *funcname, List *argtypes)
{
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	appendStringInfo(&out, "%s(", NameListToQuotedString(funcname));
	foreach(lc, argtypes)
		appendStringInfo(&out, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 type_sql(lfirst(lc)));
	appendStringInfoChar(&out, ')');
	return out.data;
}

/* a function of an ALTER, COMMENT or RENAME: its name and, if given, its arguments */
static char *
object_with_args_sql(const ObjectWithArgs *owa)
{
	if (owa->args_unspecified)
		return NameListToQuotedString(owa->objname);
	return signature_sql(owa->objname, owa->objargs);
}

/*
 * The input argument types of CREATE FUNCTION or PROCEDURE: what
 * identifies it for DROP.  OUT and TABLE parameters do not count.
 */
static List *
input_argument_types(List *parameters)
{
	List	   *types = NIL;
	ListCell   *lc;

	foreach(lc, parameters)
	{
		FunctionParameter *p = lfirst(lc);

		if (p->mode != FUNC_PARAM_OUT && p->mode != FUNC_PARAM_TABLE)
			types = lappend(types, p->argType);
	}
	return types;
}

/* the keyword an object type is written with in DROP, ALTER and COMMENT ON */
static const char *
object_keyword(ObjectType type)
{
	switch (type)
	{
		case OBJECT_TABLE:
			return "TABLE";
		case OBJECT_VIEW:
			return "VIEW";
		case OBJECT_MATVIEW:
			return "MATERIALIZED VIEW";
		case OBJECT_INDEX:
			return "INDEX";
		case OBJECT_SEQUENCE:
			return "SEQUENCE";
		case OBJECT_FOREIGN_TABLE:
			return "FOREIGN TABLE";
		case OBJECT_COLUMN:
			return "COLUMN";
		case OBJECT_TYPE:
			return "TYPE";
		case OBJECT_DOMAIN:
			return "DOMAIN";
		case OBJECT_FUNCTION:
			return "FUNCTION";
		case OBJECT_PROCEDURE:
			return "PROCEDURE";
		case OBJECT_ROUTINE:
			return "ROUTINE";
		case OBJECT_SCHEMA:
			return "SCHEMA";
		case OBJECT_EXTENSION:
			return "EXTENSION";
		case OBJECT_TRIGGER:
			return "TRIGGER";
		case OBJECT_POLICY:
			return "POLICY";
		case OBJECT_RULE:
			return "RULE";
		case OBJECT_TABCONSTRAINT:
		case OBJECT_DOMCONSTRAINT:
			return "CONSTRAINT";
		case OBJECT_COLLATION:
			return "COLLATION";
		case OBJECT_CONVERSION:
			return "CONVERSION";
		case OBJECT_STATISTIC_EXT:
			return "STATISTICS";
		case OBJECT_TSCONFIGURATION:
			return "TEXT SEARCH CONFIGURATION";
		case OBJECT_TSDICTIONARY:
			return "TEXT SEARCH DICTIONARY";
		case OBJECT_ROLE:
			return "ROLE";
		case OBJECT_EVENT_TRIGGER:
			return "EVENT TRIGGER";
		case OBJECT_PUBLICATION:
			return "PUBLICATION";
		case OBJECT_FOREIGN_SERVER:
			return "SERVER";
		case OBJECT_FDW:
			return "FOREIGN DATA WRAPPER";
		default:
			return NULL;
	}
}

/*
 * The object of a COMMENT ON, as it is written after the keyword: "t",
 * "s.t.c", "f(integer)", "trg ON s.t", "c ON DOMAIN d".  NULL for kinds
 * this does not deparse (their comments are not inverted).
 */
static char *
comment_object_sql(ObjectType type, Node *object)
{
	List	   *names;

	switch (type)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_INDEX:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
		case OBJECT_COLUMN:
		case OBJECT_COLLATION:
		case OBJECT_CONVERSION:
		case OBJECT_STATISTIC_EXT:
		case OBJECT_TSCONFIGURATION:
		case OBJECT_TSDICTIONARY:
			return NameListToQuotedString(castNode(List, object));
		case OBJECT_SCHEMA:
		case OBJECT_EXTENSION:
		case OBJECT_ROLE:
		case OBJECT_EVENT_TRIGGER:
		case OBJECT_PUBLICATION:
		case OBJECT_FOREIGN_SERVER:
		case OBJECT_FDW:
			return pstrdup(quote_identifier(strVal(object)));
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			return type_sql(castNode(TypeName, object));
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
			return object_with_args_sql(castNode(ObjectWithArgs, object));
		case OBJECT_TRIGGER:
		case OBJECT_POLICY:
		case OBJECT_RULE:
		case OBJECT_TABCONSTRAINT:
			names = castNode(List, object);
			return psprintf("%s ON %s", quote_identifier(strVal(llast(names))),
							NameListToQuotedString(list_truncate(list_copy(names),
																 list_length(names) - 1)));
		case OBJECT_DOMCONSTRAINT:
			names = castNode(List, object);
			return psprintf("%s ON DOMAIN %s", quote_identifier(strVal(lsecond(names))),
							type_sql(linitial_node(TypeName, names)));
		default:
			return NULL;
	}
}

/* ----------------------------------------------------------------------
 * What earlier statements of the script created
 * ---------------------------------------------------------------------- */

/*
 * Whether two names written in the script may name the same object: the
 * last parts are equal, and so are the schemas where both are written (an
 * unqualified name resolves in the search_path, as the script's own
 * statements do).
 */
static bool
same_name(List *a, List *b)
{
	if (strcmp(strVal(llast(a)), strVal(llast(b))) != 0)
		return false;
	if (list_length(a) < 2 || list_length(b) < 2)
		return true;
	return strcmp(strVal(list_nth(a, list_length(a) - 2)),
				  strVal(list_nth(b, list_length(b) - 2))) == 0;
}

static void
remember_created(InvertState *st, CreatedKind kind, List *names)
{
	CreatedObject *c = palloc(sizeof(CreatedObject));

	c->kind = kind;
	c->names = names;
	c->statement = st->statement;
	st->created = lappend(st->created, c);
}

/*
 * The statement of this script that created an object of this kind with
 * these names, or 0.
 */
static int
created_exactly_by(InvertState *st, CreatedKind kind, List *names)
{
	ListCell   *lc;

	foreach(lc, st->created)
	{
		CreatedObject *c = lfirst(lc);

		if (c->kind == kind && same_name(c->names, names))
			return c->statement;
	}
	return 0;
}

/*
 * The same, and failing that the statement that created the schema the
 * names are qualified with: an object in a schema this script created is
 * new too.
 */
static int
created_by(InvertState *st, CreatedKind kind, List *names)
{
	int			by = created_exactly_by(st, kind, names);

	if (by == 0 && list_length(names) >= 2 &&
		(kind == CREATED_RELATION || kind == CREATED_TYPE || kind == CREATED_FUNCTION))
		by = created_exactly_by(st, CREATED_SCHEMA,
								list_make1(list_nth(names, list_length(names) - 2)));
	return by;
}

/* the relation names of a column's or sub-object's names (all but the last) */
static List *
owner_names(List *names)
{
	return list_truncate(list_copy(names), list_length(names) - 1);
}

/*
 * The statement that created the object a COMMENT ON names (or the
 * relation it belongs to), or 0.
 */
static int
comment_object_created_by(InvertState *st, ObjectType type, Node *object)
{
	List	   *names;
	int			by;

	switch (type)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_INDEX:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			return created_by(st, CREATED_RELATION, castNode(List, object));
		case OBJECT_COLUMN:
		case OBJECT_TRIGGER:
		case OBJECT_POLICY:
		case OBJECT_TABCONSTRAINT:
			names = castNode(List, object);
			by = created_by(st, CREATED_RELATION, owner_names(names));
			if (by == 0)
				by = created_by(st, type == OBJECT_COLUMN ? CREATED_COLUMN : CREATED_SUBOBJECT,
								names);
			return by;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			return created_by(st, CREATED_TYPE, castNode(TypeName, object)->names);
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
			return created_by(st, CREATED_FUNCTION, castNode(ObjectWithArgs, object)->objname);
		case OBJECT_SCHEMA:
			return created_by(st, CREATED_SCHEMA, list_make1(object));
		case OBJECT_EXTENSION:
			return created_by(st, CREATED_EXTENSION, list_make1(object));
		default:
			return 0;
	}
}

/* "the table is created by statement 3 of this script, whose inverse drops it" */
static char *
created_reason(const char *what, int statement)
{
	return psprintf("%s is created by statement %d of this script, whose inverse drops it",
					what, statement);
}

/* ----------------------------------------------------------------------
 * CREATE ... IF NOT EXISTS and CREATE OR REPLACE
 * ---------------------------------------------------------------------- */

/* whether a relation exists now, per the catalog */
static MigrateFact
relation_exists(InvertState *st, const RangeVar *rv)
{
	MigrateRelationFacts rf;

	if (st->facts == NULL || st->facts->relation == NULL)
		return FACT_UNKNOWN;
	return st->facts->relation(rv, &rf) && rf.exists ? FACT_YES : FACT_NO;
}

/* whether an object exists now, per the catalog (comment_of's "found") */
static MigrateFact
object_exists(InvertState *st, ObjectType type, Node *object)
{
	bool		found = false;

	if (st->facts == NULL || st->facts->comment_of == NULL)
		return FACT_UNKNOWN;
	(void) st->facts->comment_of(type, object, &found);
	return found ? FACT_YES : FACT_NO;
}

/*
 * The inverse of a CREATE: "drop" (a DROP without IF EXISTS) when the
 * statement always creates the object; when it is conditional (IF NOT
 * EXISTS, OR REPLACE), DROP ... IF EXISTS if the object does not exist
 * now, else no inverse.  An object a statement earlier in the script
 * created already is left to that statement's inverse.  What the
 * statement does create is remembered for the statements after it.
 */
static void
invert_create(InvertState *st, const char *drop, bool conditional, bool or_replace,
			  MigrateFact exists, CreatedKind kind, List *names)
{
	int			by = conditional ? created_exactly_by(st, kind, names) : 0;

	if (by > 0)
		nothing_to_undo(st, psprintf("the object exists already when it runs: statement %d of this script creates it",
									 by));
	else if (!conditional || exists == FACT_NO)
	{
		inverse(st, psprintf("DROP %s", drop));
		remember_created(st, kind, names);
	}
	else if (exists == FACT_UNKNOWN)
		irreversible(st, pstrdup("whether the object exists before the statement runs is known only from the catalog"));
	else if (or_replace)
		irreversible(st, pstrdup("CREATE OR REPLACE of an object that exists already: its previous definition is not known"));
	else
		irreversible(st, pstrdup("IF NOT EXISTS and the object exists already: the statement leaves it as it is, and dropping it would destroy what was there before"));
}

/* "TABLE IF EXISTS s.t" or "TABLE s.t" */
static char *
drop_target(const char *keyword, bool if_exists, const char *name)
{
	return psprintf("%s %s%s", keyword, if_exists ? "IF EXISTS " : "", name);
}

/* ----------------------------------------------------------------------
 * CREATE statements
 * ---------------------------------------------------------------------- */

/*
 * The inverse of a CREATE of a relation: DROP <keyword> of it, as
 * invert_create() decides; "conditional" is IF NOT EXISTS or OR REPLACE.
 */
static void
invert_create_relation(InvertState *st, const char *keyword, RangeVar *rel,
					   bool conditional, bool or_replace)
{
	invert_create(st, drop_target(keyword, conditional, rangevar_sql(rel)),
				  conditional, or_replace,
				  conditional ? relation_exists(st, rel) : FACT_UNKNOWN,
				  CREATED_RELATION, rangevar_names(rel));
}


static void
invert_create_table(InvertState *st, CreateStmt *stmt, const char *keyword)
{
	bool		cond = stmt->if_not_exists;

	invert_create_relation(st, keyword, stmt->relation, cond, false);
}

static void
invert_create_table_as(InvertState *st, CreateTableAsStmt *stmt)
{
	RangeVar   *rel = stmt->into->rel;
	bool		cond = stmt->if_not_exists;
	const char *keyword = migrate_ctas_objtype(stmt) == OBJECT_MATVIEW ?
		"MATERIALIZED VIEW" : "TABLE";

	invert_create_relation(st, keyword, rel, cond, false);
}

/* SELECT ... INTO t: CREATE TABLE AS by another name */
static void
invert_select_into(InvertState *st, RangeVar *rel)
{
	invert_create_relation(st, "TABLE", rel, false, false);
}

/* an index lives in its table's schema */
static void
invert_create_index(InvertState *st, IndexStmt *stmt)
{
	RangeVar   *index;
	bool		cond = stmt->if_not_exists;

	if (stmt->idxname == NULL)
	{
		irreversible(st, pstrdup("the index has no name: name it"));
		return;
	}
	index = makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1);
	invert_create_relation(st, stmt->concurrent ? "INDEX CONCURRENTLY" : "INDEX", index,
						   cond, false);
}

static void
invert_create_view(InvertState *st, ViewStmt *stmt)
{
	bool		cond = stmt->replace;

	invert_create_relation(st, "VIEW", stmt->view, cond, true);
}

static void
invert_create_sequence(InvertState *st, CreateSeqStmt *stmt)
{
	bool		cond = stmt->if_not_exists;

	invert_create_relation(st, "SEQUENCE", stmt->sequence, cond, false);
}

/*
 * CREATE SCHEMA: its name, or its owner's name when it has none.  A
 * schema created with elements (CREATE SCHEMA s CREATE TABLE ...) is not
 * inverted: dropping it would need CASCADE, which would also drop
 * whatever else is in the schema by then.
 */
static void
invert_create_schema(InvertState *st, CreateSchemaStmt *stmt)
{
	const char *name = stmt->schemaname;
	bool		cond = stmt->if_not_exists;

	if (name == NULL && stmt->authrole && stmt->authrole->roletype == ROLESPEC_CSTRING)
		name = stmt->authrole->rolename;
	if (name == NULL)
	{
		irreversible(st, pstrdup("the schema is named after the current role: write its name"));
		return;
	}
	if (stmt->schemaElts != NIL)
	{
		irreversible(st, pstrdup("the schema is created with objects in it: create them in statements of their own"));
		return;
	}
	invert_create(st, drop_target("SCHEMA", cond, quote_identifier(name)), cond, false,
				  cond ? object_exists(st, OBJECT_SCHEMA, (Node *) makeString(pstrdup(name))) : FACT_UNKNOWN,
				  CREATED_SCHEMA, list_make1(makeString(pstrdup(name))));
}

/* CREATE TYPE ... AS ENUM / AS RANGE / AS (composite), CREATE DOMAIN */
static void
invert_create_type(InvertState *st, List *names, const char *keyword)
{
	inverse(st, psprintf("DROP %s %s", keyword, NameListToQuotedString(names)));
	remember_created(st, CREATED_TYPE, names);
}

static void
invert_create_function(InvertState *st, CreateFunctionStmt *stmt)
{
	List	   *argtypes = input_argument_types(stmt->parameters);
	ObjectType	type = stmt->is_procedure ? OBJECT_PROCEDURE : OBJECT_FUNCTION;
	MigrateFact exists = FACT_UNKNOWN;

	if (stmt->replace)
	{
		ObjectWithArgs *owa = makeNode(ObjectWithArgs);

		owa->objname = stmt->funcname;
		owa->objargs = argtypes;
		exists = object_exists(st, type, (Node *) owa);
	}
	invert_create(st, drop_target(object_keyword(type), stmt->replace,
								  signature_sql(stmt->funcname, argtypes)),
				  stmt->replace, true, exists, CREATED_FUNCTION, stmt->funcname);
}

/* the names of a sub-object of a relation: the relation's, then its own */
static List *
subobject_names(const RangeVar *rel, const char *name)
{
	return lappend(rangevar_names(rel), makeString(pstrdup(name)));
}

static void
invert_create_trigger(InvertState *st, CreateTrigStmt *stmt)
{
	bool		cond = migrate_trigger_replaces(stmt);
	List	   *names = subobject_names(stmt->relation, stmt->trigname);

	invert_create(st, psprintf("TRIGGER %s%s ON %s", cond ? "IF EXISTS " : "",
							   quote_identifier(stmt->trigname), rangevar_sql(stmt->relation)),
				  cond, true, cond ? object_exists(st, OBJECT_TRIGGER, (Node *) names) : FACT_UNKNOWN,
				  CREATED_SUBOBJECT, names);
}

static void
invert_create_policy(InvertState *st, CreatePolicyStmt *stmt)
{
	inverse(st, psprintf("DROP POLICY %s ON %s", quote_identifier(stmt->policy_name),
						 rangevar_sql(stmt->table)));
	remember_created(st, CREATED_SUBOBJECT, subobject_names(stmt->table, stmt->policy_name));
}

/*
 * CREATE EXTENSION ... CASCADE may install other extensions it needs too,
 * which DROP EXTENSION would leave behind: not inverted.
 */
static void
invert_create_extension(InvertState *st, CreateExtensionStmt *stmt)
{
	ListCell   *lc;
	bool		cond = stmt->if_not_exists;

	foreach(lc, stmt->options)
	{
		if (strcmp(lfirst_node(DefElem, lc)->defname, "cascade") == 0 &&
			defGetBoolean(lfirst(lc)))
		{
			irreversible(st, pstrdup("CASCADE may install other extensions too, which DROP EXTENSION would leave behind"));
			return;
		}
	}
	invert_create(st, drop_target("EXTENSION", cond, quote_identifier(stmt->extname)), cond, false,
				  cond ? object_exists(st, OBJECT_EXTENSION, (Node *) makeString(stmt->extname)) : FACT_UNKNOWN,
				  CREATED_EXTENSION, list_make1(makeString(stmt->extname)));
}

/* ----------------------------------------------------------------------
 * ALTER TABLE
 * ---------------------------------------------------------------------- */

/* what one subcommand of ALTER TABLE names, for messages */
static const char *
subcommand_name(AlterTableType type)
{
	switch (type)
	{
		case AT_AddColumn:
			return "ADD COLUMN";
		case AT_ColumnDefault:
			return "ALTER COLUMN SET/DROP DEFAULT";
		case AT_DropNotNull:
			return "ALTER COLUMN DROP NOT NULL";
		case AT_SetNotNull:
			return "ALTER COLUMN SET NOT NULL";
		case AT_DropColumn:
			return "DROP COLUMN";
		case AT_AddConstraint:
			return "ADD CONSTRAINT";
		case AT_ValidateConstraint:
			return "VALIDATE CONSTRAINT";
		case AT_DropConstraint:
			return "DROP CONSTRAINT";
		case AT_AlterColumnType:
			return "ALTER COLUMN TYPE";
		case AT_ChangeOwner:
			return "OWNER TO";
		case AT_SetStatistics:
			return "ALTER COLUMN SET STATISTICS";
		case AT_SetStorage:
			return "ALTER COLUMN SET STORAGE";
		case AT_SetLogged:
			return "SET LOGGED";
		case AT_SetUnLogged:
			return "SET UNLOGGED";
		case AT_SetTableSpace:
			return "SET TABLESPACE";
		case AT_SetRelOptions:
			return "SET (...)";
		case AT_ResetRelOptions:
			return "RESET (...)";
		case AT_ReplicaIdentity:
			return "REPLICA IDENTITY";
		case AT_DetachPartition:
			return "DETACH PARTITION";
		case AT_AddIdentity:
			return "ALTER COLUMN ADD IDENTITY";
		case AT_DropIdentity:
			return "ALTER COLUMN DROP IDENTITY";
		case AT_AddInherit:
			return "INHERIT";
		case AT_DropInherit:
			return "NO INHERIT";
		default:
			return "this subcommand";
	}
}

/* the ALTER TABLE being inverted, and what its earlier subcommands added */
typedef struct AlterTableInversion
{
	InvertState *st;
	AlterTableStmt *stmt;
	List	   *added_columns;	/* String, by earlier subcommands */
	List	   *inverses;		/* char *, in the order of the subcommands */
	char	   *reason;			/* why not, set by the first that has none */
	bool		cascades;		/* a subcommand says CASCADE */
	bool		unchanged;		/* a subcommand sets a state that is set
								 * already */
} AlterTableInversion;

/* whether a column of the altered table is new: added in this script */
static bool
column_is_new(AlterTableInversion *ati, const char *column)
{
	ListCell   *lc;

	foreach(lc, ati->added_columns)
	{
		if (strcmp(strVal(lfirst(lc)), column) == 0)
			return true;
	}
	return created_by(ati->st, CREATED_RELATION, rangevar_names(ati->stmt->relation)) > 0 ||
		created_by(ati->st, CREATED_COLUMN,
				   subobject_names(ati->stmt->relation, column)) > 0;
}

/* ALTER COLUMN SET/DROP DEFAULT: the default the column has now */
static char *
invert_column_default(AlterTableInversion *ati, AlterTableCmd *cmd)
{
	const MigrateCatalogFacts *facts = ati->st->facts;
	char	   *previous;
	bool		found = false;

	List	   *key = subobject_names(ati->stmt->relation, cmd->name);

	if (column_is_new(ati, cmd->name))
		return pstrdup("");		/* the column's inverse drops its default too */
	/* the inverse of the first change restores the default from before */
	if (created_exactly_by(ati->st, CHANGED_DEFAULT, key) > 0)
		return pstrdup("");
	if (facts == NULL || facts->column_default == NULL)
	{
		ati->reason = pstrdup("the previous default is known only from the catalog");
		return NULL;
	}
	previous = facts->column_default(ati->stmt->relation, cmd->name, &found);
	if (!found)
	{
		ati->reason = psprintf("column %s is not in the catalog, so its previous default is not known",
							   quote_identifier(cmd->name));
		return NULL;
	}
	remember_created(ati->st, CHANGED_DEFAULT, key);
	if (previous == NULL)
		return psprintf("ALTER COLUMN %s DROP DEFAULT", quote_identifier(cmd->name));
	return psprintf("ALTER COLUMN %s SET DEFAULT %s", quote_identifier(cmd->name), previous);
}

/* ADD COLUMN [IF NOT EXISTS]: DROP COLUMN (DROP ATTRIBUTE of a composite type) */
static char *
invert_add_column(AlterTableInversion *ati, AlterTableCmd *cmd)
{
	ColumnDef  *def = castNode(ColumnDef, cmd->def);
	const char *what = migrate_alter_table_objtype(ati->stmt) == OBJECT_TYPE ?
		"ATTRIBUTE" : "COLUMN";
	bool		found = false;

	ati->added_columns = lappend(ati->added_columns, makeString(def->colname));
	if (!cmd->missing_ok)
		return psprintf("DROP %s %s", what, quote_identifier(def->colname));
	if (ati->st->facts == NULL || ati->st->facts->column_default == NULL)
	{
		ati->reason = pstrdup("whether the column exists before the statement runs is known only from the catalog");
		return NULL;
	}
	(void) ati->st->facts->column_default(ati->stmt->relation, def->colname, &found);
	if (found)
	{
		ati->reason = psprintf("IF NOT EXISTS and column %s exists already: dropping it would destroy what was there before",
							   quote_identifier(def->colname));
		return NULL;
	}
	return psprintf("DROP %s IF EXISTS %s", what, quote_identifier(def->colname));
}

/* ADD CONSTRAINT name: DROP CONSTRAINT name */
static char *
invert_add_constraint(AlterTableInversion *ati, AlterTableCmd *cmd)
{
	Constraint *con = castNode(Constraint, cmd->def);

	if (con->conname == NULL)
	{
		ati->reason = pstrdup("the constraint has no name: name it (ADD CONSTRAINT name ...)");
		return NULL;
	}
	if (con->indexname != NULL)
	{
		ati->reason = pstrdup("USING INDEX makes the index the constraint's: dropping the constraint would drop the index too");
		return NULL;
	}
	return psprintf("DROP CONSTRAINT %s", quote_identifier(con->conname));
}

/* the state an earlier statement of the script left it in, or 0 */
static char
changed_state(InvertState *st, List *names)
{
	ListCell   *lc;
	char		state = 0;

	foreach(lc, st->states)
	{
		ChangedState *c = lfirst(lc);

		if (same_name(c->names, names))
			state = c->state;
	}
	return state;
}

static void
remember_state(InvertState *st, List *names, char state)
{
	ChangedState *c = palloc(sizeof(ChangedState));

	c->names = names;
	c->state = state;
	st->states = lappend(st->states, c);
}

/* the subcommand that puts a trigger back into pg_trigger.tgenabled "state" */
static char *
trigger_state_sql(char state, const char *trigger)
{
	switch (state)
	{
		case TRIGGER_FIRES_ON_ORIGIN:
			return psprintf("ENABLE TRIGGER %s", trigger);
		case TRIGGER_DISABLED:
			return psprintf("DISABLE TRIGGER %s", trigger);
		case TRIGGER_FIRES_ALWAYS:
			return psprintf("ENABLE ALWAYS TRIGGER %s", trigger);
		case TRIGGER_FIRES_ON_REPLICA:
			return psprintf("ENABLE REPLICA TRIGGER %s", trigger);
		default:
			return NULL;
	}
}

/*
 * ENABLE [ALWAYS|REPLICA] / DISABLE TRIGGER name: back into the state the
 * trigger had before (the catalog's, or the one an earlier statement of
 * the script set); nothing to undo when the state does not change.  ALL
 * and USER change triggers whose states may differ: no inverse.
 */
static char *
invert_trigger_state(AlterTableInversion *ati, AlterTableCmd *cmd)
{
	InvertState *st = ati->st;
	List	   *names;
	char		after;
	char		before;
	char	   *sql;

	switch (cmd->subtype)
	{
		case AT_EnableTrig:
			after = TRIGGER_FIRES_ON_ORIGIN;
			break;
		case AT_DisableTrig:
			after = TRIGGER_DISABLED;
			break;
		case AT_EnableAlwaysTrig:
			after = TRIGGER_FIRES_ALWAYS;
			break;
		case AT_EnableReplicaTrig:
			after = TRIGGER_FIRES_ON_REPLICA;
			break;
		default:
			ati->reason = pstrdup("TRIGGER ALL and TRIGGER USER change triggers whose states before the statement may differ: name each trigger");
			return NULL;
	}
	names = subobject_names(ati->stmt->relation, cmd->name);
	before = changed_state(st, names);
	if (before == 0 && created_by(st, CREATED_SUBOBJECT, names) > 0)
		before = TRIGGER_FIRES_ON_ORIGIN;	/* a new trigger fires on origin */
	if (before == 0 && st->facts != NULL && st->facts->trigger_state != NULL)
		before = st->facts->trigger_state(ati->stmt->relation, cmd->name);
	sql = trigger_state_sql(before, quote_identifier(cmd->name));
	if (sql == NULL)
	{
		ati->reason = psprintf("the state of trigger %s before the statement is not known (it is known only from the catalog)",
							   quote_identifier(cmd->name));
		return NULL;
	}
	remember_state(st, names, after);
	ati->unchanged = ati->unchanged || before == after;
	return before == after ? pstrdup("") : sql;
}

/*
 * ENABLE/DISABLE/FORCE/NO FORCE ROW LEVEL SECURITY: back to the state
 * before; nothing to undo when it does not change.
 */
static char *
invert_row_security(AlterTableInversion *ati, AlterTableCmd *cmd)
{
	InvertState *st = ati->st;
	bool		force = cmd->subtype == AT_ForceRowSecurity ||
		cmd->subtype == AT_NoForceRowSecurity;
	bool		after = cmd->subtype == AT_EnableRowSecurity ||
		cmd->subtype == AT_ForceRowSecurity;
	List	   *names = subobject_names(ati->stmt->relation,
										force ? "force row security" : "row security");
	char		known = changed_state(st, names);
	MigrateFact before = known ? (known == 'y' ? FACT_YES : FACT_NO) : FACT_UNKNOWN;

	if (before == FACT_UNKNOWN && created_by(st, CREATED_RELATION, rangevar_names(ati->stmt->relation)) > 0)
		before = FACT_NO;		/* a new table has neither */
	if (before == FACT_UNKNOWN && st->facts != NULL && st->facts->row_security != NULL)
		before = st->facts->row_security(ati->stmt->relation, force);
	if (before == FACT_UNKNOWN)
	{
		ati->reason = psprintf("whether the table's row level security is %s before the statement is not known (it is known only from the catalog)",
							   force ? "forced" : "enabled");
		return NULL;
	}
	remember_state(st, names, after ? 'y' : 'n');
	if ((before == FACT_YES) == after)
	{
		ati->unchanged = true;
		return pstrdup("");
	}
	if (force)
		return pstrdup(after ? "NO FORCE ROW LEVEL SECURITY" : "FORCE ROW LEVEL SECURITY");
	return pstrdup(after ? "DISABLE ROW LEVEL SECURITY" : "ENABLE ROW LEVEL SECURITY");
}

/*
 * The inverse of one subcommand, "" when it needs none, or NULL with
 * ati->reason set.
 */
static char *
invert_subcommand(AlterTableInversion *ati, AlterTableCmd *cmd)
{
	if (cmd->behavior == DROP_CASCADE)
		ati->cascades = true;
	switch (cmd->subtype)
	{
		case AT_AddColumn:
			return invert_add_column(ati, cmd);
		case AT_AddConstraint:
			return invert_add_constraint(ati, cmd);
		case AT_ColumnDefault:
			return invert_column_default(ati, cmd);
		case AT_EnableTrig:
		case AT_DisableTrig:
		case AT_EnableTrigAll:
		case AT_DisableTrigAll:
		case AT_EnableTrigUser:
		case AT_DisableTrigUser:
		case AT_EnableAlwaysTrig:
		case AT_EnableReplicaTrig:
			return invert_trigger_state(ati, cmd);
		case AT_EnableRowSecurity:
		case AT_DisableRowSecurity:
		case AT_ForceRowSecurity:
		case AT_NoForceRowSecurity:
			return invert_row_security(ati, cmd);
		case AT_AttachPartition:
			return psprintf("DETACH PARTITION %s",
							rangevar_sql(castNode(PartitionCmd, cmd->def)->name));
		case AT_DropColumn:
			ati->reason = psprintf("DROP COLUMN destroys column %s and its data",
								   quote_identifier(cmd->name));
			return NULL;
		case AT_DropConstraint:
			ati->reason = psprintf("the definition of the dropped constraint %s is not in the up script",
								   quote_identifier(cmd->name));
			return NULL;
		case AT_AlterColumnType:
			ati->reason = psprintf("the previous type of column %s is not known, and changing it back may fail or lose data",
								   quote_identifier(cmd->name));
			return NULL;
		case AT_ValidateConstraint:
			ati->reason = pstrdup("a validated constraint cannot be made NOT VALID again");
			return NULL;
		default:
			ati->reason = psprintf("no inverse is known for ALTER %s ... %s",
								   object_keyword(migrate_alter_table_objtype(ati->stmt)) ?
								   object_keyword(migrate_alter_table_objtype(ati->stmt)) : "TABLE",
								   subcommand_name(cmd->subtype));
			return NULL;
	}
}

/*
 * ALTER TABLE: one ALTER TABLE whose subcommands are the inverses of the
 * statement's in reverse order, or no inverse if one subcommand has none.
 * On a table created earlier in the script, a statement without an
 * inverse needs none (unless it cascades to other objects).
 */
static void
invert_alter_table(InvertState *st, AlterTableStmt *stmt)
{
	AlterTableInversion ati = {st, stmt, NIL, NIL, NULL, false, false};
	ListCell   *lc;
	StringInfoData down;
	int			by;
	ObjectType	objtype = migrate_alter_table_objtype(stmt);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		char	   *inv = invert_subcommand(&ati, cmd);

		if (inv == NULL)
			break;
		if (cmd->subtype == AT_AddColumn)
			remember_created(st, CREATED_COLUMN,
							 subobject_names(stmt->relation, castNode(ColumnDef, cmd->def)->colname));
		else if (cmd->subtype == AT_AddConstraint && castNode(Constraint, cmd->def)->conname)
			remember_created(st, CREATED_SUBOBJECT,
							 subobject_names(stmt->relation, castNode(Constraint, cmd->def)->conname));
		if (inv[0] != '\0')
			ati.inverses = lcons(inv, ati.inverses);
	}
	if (ati.reason != NULL)
	{
		by = created_by(st, CREATED_RELATION, rangevar_names(stmt->relation));
		if (by > 0 && !ati.cascades)
			nothing_to_undo(st, created_reason("the table", by));
		else
			irreversible(st, ati.reason);
		return;
	}
	if (ati.inverses == NIL && ati.unchanged)
	{
		nothing_to_undo(st, pstrdup("the trigger or row level security is in that state already, or this script set it earlier"));
		return;
	}
	if (ati.inverses == NIL)
	{
		nothing_to_undo(st, pstrdup("it changes only what this script creates or changes earlier, whose inverses drop it or restore it"));
		return;
	}
	initStringInfo(&down);
	appendStringInfo(&down, "ALTER %s %s%s%s ",
					 object_keyword(objtype) ? object_keyword(objtype) : "TABLE",
					 stmt->missing_ok ? "IF EXISTS " : "", only_sql(objtype, stmt->relation),
					 rangevar_sql(stmt->relation));
	foreach(lc, ati.inverses)
		appendStringInfo(&down, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 (char *) lfirst(lc));
	inverse(st, down.data);
}

/* ALTER DOMAIN ... ADD CONSTRAINT name: DROP CONSTRAINT name */
static void
invert_alter_domain(InvertState *st, AlterDomainStmt *stmt)
{
	Constraint *con;

	if (stmt->subtype != 'C')
	{
		int			by = created_by(st, CREATED_TYPE, stmt->typeName);

		if (by > 0 && stmt->behavior != DROP_CASCADE)
			nothing_to_undo(st, created_reason("the domain", by));
		else
			no_inverse_known(st);
		return;
	}
	con = castNode(Constraint, stmt->def);
	if (con->conname == NULL)
		irreversible(st, pstrdup("the constraint has no name: name it (ADD CONSTRAINT name ...)"));
	else
		inverse(st, psprintf("ALTER DOMAIN %s DROP CONSTRAINT %s",
							 NameListToQuotedString(stmt->typeName),
							 quote_identifier(con->conname)));
}

/* ----------------------------------------------------------------------
 * RENAME
 * ---------------------------------------------------------------------- */

/*
 * A rename back.  The renamed object keeps its schema: "ALTER TABLE s.a
 * RENAME TO b" is undone by "ALTER TABLE s.b RENAME TO a".
 */
static void
invert_rename(InvertState *st, RenameStmt *stmt)
{
	const char *kw = object_keyword(stmt->renameType);
	const char *ifx = stmt->missing_ok ? "IF EXISTS " : "";
	const char *newname = quote_identifier(stmt->newname);
	List	   *names;

	switch (stmt->renameType)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_INDEX:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			inverse(st, psprintf("ALTER %s %s%s RENAME TO %s", kw, ifx,
								 quote_qualified_identifier(stmt->relation->schemaname, stmt->newname),
								 quote_identifier(stmt->relation->relname)));
			return;
		case OBJECT_COLUMN:
		case OBJECT_ATTRIBUTE:
		case OBJECT_TABCONSTRAINT:
			{
				const char *owner = stmt->renameType == OBJECT_ATTRIBUTE ? "TYPE" :
					object_keyword(stmt->relationType) ? object_keyword(stmt->relationType) : "TABLE";
				const char *what = stmt->renameType == OBJECT_ATTRIBUTE ? "ATTRIBUTE" :
					stmt->renameType == OBJECT_COLUMN ? "COLUMN" : "CONSTRAINT";

				if (stmt->renameType == OBJECT_TABCONSTRAINT)
					owner = "TABLE";
				inverse(st, psprintf("ALTER %s %s%s%s RENAME %s %s TO %s", owner, ifx,
									 only_sql(stmt->renameType == OBJECT_ATTRIBUTE ? OBJECT_TYPE :
										  stmt->renameType == OBJECT_TABCONSTRAINT ? OBJECT_TABLE :
										  stmt->relationType, stmt->relation),
									 rangevar_sql(stmt->relation),
									 what, newname, quote_identifier(stmt->subname)));
				return;
			}
		case OBJECT_DOMCONSTRAINT:
			inverse(st, psprintf("ALTER DOMAIN %s RENAME CONSTRAINT %s TO %s",
								 NameListToQuotedString(castNode(List, stmt->object)),
								 newname, quote_identifier(stmt->subname)));
			return;
		case OBJECT_TRIGGER:
		case OBJECT_POLICY:
		case OBJECT_RULE:
			inverse(st, psprintf("ALTER %s %s ON %s RENAME TO %s", kw, newname,
								 rangevar_sql(stmt->relation), quote_identifier(stmt->subname)));
			return;
		case OBJECT_SCHEMA:
		case OBJECT_ROLE:
			inverse(st, psprintf("ALTER %s %s RENAME TO %s", kw, newname,
								 quote_identifier(stmt->subname)));
			return;
		case OBJECT_EVENT_TRIGGER:
		case OBJECT_PUBLICATION:
		case OBJECT_FOREIGN_SERVER:
		case OBJECT_FDW:
			inverse(st, psprintf("ALTER %s %s RENAME TO %s", kw, newname,
								 quote_identifier(strVal(stmt->object))));
			return;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
		case OBJECT_COLLATION:
		case OBJECT_CONVERSION:
		case OBJECT_STATISTIC_EXT:
		case OBJECT_TSCONFIGURATION:
		case OBJECT_TSDICTIONARY:
			names = castNode(List, stmt->object);
			inverse(st, psprintf("ALTER %s %s%s RENAME TO %s", kw, ifx,
								 sibling_sql(names, stmt->newname),
								 quote_identifier(strVal(llast(names)))));
			return;
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
			{
				ObjectWithArgs *owa = castNode(ObjectWithArgs, stmt->object);
				ObjectWithArgs *renamed = copyObject(owa);

				renamed->objname = list_truncate(list_copy(owa->objname),
												 list_length(owa->objname) - 1);
				renamed->objname = lappend(renamed->objname, makeString(stmt->newname));
				inverse(st, psprintf("ALTER %s %s RENAME TO %s", kw,
									 object_with_args_sql(renamed),
									 quote_identifier(strVal(llast(owa->objname)))));
				return;
			}
		default:
			no_inverse_known(st);
			return;
	}
}

/* ALTER TYPE ... RENAME VALUE: back; ADD VALUE: PostgreSQL cannot remove one */
static void
invert_alter_enum(InvertState *st, AlterEnumStmt *stmt)
{
	int			by;

	if (stmt->oldVal != NULL)
	{
		inverse(st, psprintf("ALTER TYPE %s RENAME VALUE %s TO %s",
							 NameListToQuotedString(stmt->typeName),
							 quote_literal_cstr(stmt->newVal), quote_literal_cstr(stmt->oldVal)));
		return;
	}
	by = created_by(st, CREATED_TYPE, stmt->typeName);
	if (by > 0)
		nothing_to_undo(st, created_reason("the type", by));
	else
		irreversible(st, pstrdup("a value cannot be removed from an enum: PostgreSQL has no ALTER TYPE ... DROP VALUE"));
}

/* ----------------------------------------------------------------------
 * COMMENT ON
 * ---------------------------------------------------------------------- */

static void
invert_comment(InvertState *st, CommentStmt *stmt)
{
	const char *kw = object_keyword(stmt->objtype);
	char	   *object = comment_object_sql(stmt->objtype, stmt->object);
	char	   *previous;
	bool		found = false;
	List	   *key;
	int			by = comment_object_created_by(st, stmt->objtype, stmt->object);

	if (by > 0)
	{
		nothing_to_undo(st, created_reason("the object", by));
		return;
	}
	if (kw == NULL || object == NULL)
	{
		irreversible(st, pstrdup("no inverse is known for COMMENT on this kind of object"));
		return;
	}
	key = list_make1(makeString(psprintf("%s %s", kw, object)));
	by = created_exactly_by(st, CHANGED_COMMENT, key);
	if (by > 0)
	{
		nothing_to_undo(st, psprintf("statement %d of this script changes the comment first, and its inverse restores the one from before",
									 by));
		return;
	}
	if (st->facts == NULL || st->facts->comment_of == NULL)
	{
		irreversible(st, pstrdup("the previous comment is known only from the catalog"));
		return;
	}
	previous = st->facts->comment_of(stmt->objtype, stmt->object, &found);
	if (!found)
	{
		irreversible(st, pstrdup("the object is not in the catalog, so its previous comment is not known"));
		return;
	}
	inverse(st, psprintf("COMMENT ON %s %s IS %s", kw, object,
						 previous ? quote_literal_cstr(previous) : "NULL"));
	remember_created(st, CHANGED_COMMENT, key);
}

/* ----------------------------------------------------------------------
 * Statements without an inverse
 * ---------------------------------------------------------------------- */

/*
 * Rows written into a table created earlier in the script go with it;
 * rows of any other table cannot be told from those that were there (a
 * WITH clause may write to other tables: then not).
 */
static void
invert_dml(InvertState *st, RangeVar *rel, WithClause *with, const char *reason)
{
	int			by = created_by(st, CREATED_RELATION, rangevar_names(rel));

	if (by > 0 && with == NULL)
		nothing_to_undo(st, created_reason("the table", by));
	else
		irreversible(st, pstrdup(reason));
}

static void
invert_truncate(InvertState *st, TruncateStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		if (stmt->behavior == DROP_CASCADE ||
			created_by(st, CREATED_RELATION, rangevar_names(lfirst(lc))) == 0)
		{
			irreversible(st, pstrdup("TRUNCATE destroys every row of the table"));
			return;
		}
	}
	nothing_to_undo(st, pstrdup("every table it empties is created earlier in this script, and dropped by its inverse"));
}

static void
invert_drop(InvertState *st, DropStmt *stmt)
{
	const char *kw = object_keyword(stmt->removeType);

	irreversible(st, psprintf("DROP destroys the %s: %s not in the up script",
							  kw ? asc_tolower(kw, strlen(kw)) : "object",
							  stmt->removeType == OBJECT_TABLE ?
							  "its definition and data are" : "its definition is"));
}

/*
 * SET changes the session, not the schema, except that names written
 * after SET search_path (or SET ROLE) resolve differently: the down
 * script runs their inverses first, under other settings.
 */
static void
invert_set(InvertState *st, VariableSetStmt *stmt)
{
	if (stmt->kind == VAR_RESET_ALL ||
		(stmt->name && (strcmp(stmt->name, "search_path") == 0 ||
						strcmp(stmt->name, "role") == 0 ||
						strcmp(stmt->name, "session_authorization") == 0)))
		irreversible(st, pstrdup("the statements after it depend on the setting, but the down script runs their inverses before: qualify names instead"));
	else
		nothing_to_undo(st, pstrdup("it changes a setting of the session, not the schema"));
}

/* GRANT/REVOKE on objects the script creates go with them */
static void
invert_grant(InvertState *st, GrantStmt *stmt)
{
	ListCell   *lc;

	if (stmt->targtype == ACL_TARGET_OBJECT &&
		(stmt->objtype == OBJECT_TABLE || stmt->objtype == OBJECT_SEQUENCE) &&
		stmt->objects != NIL)
	{
		bool		all_new = true;

		foreach(lc, stmt->objects)
			all_new = all_new &&
				created_by(st, CREATED_RELATION, rangevar_names(lfirst(lc))) > 0;
		if (all_new)
		{
			nothing_to_undo(st, pstrdup("its objects are created earlier in this script, and dropped by their inverses"));
			return;
		}
	}
	irreversible(st, psprintf("whether the roles held the privileges before %s is not known",
							  stmt->is_grant ? "the GRANT" : "the REVOKE"));
}

static void
invert_refresh(InvertState *st, RefreshMatViewStmt *stmt)
{
	int			by = created_by(st, CREATED_RELATION, rangevar_names(stmt->relation));

	if (by > 0)
		nothing_to_undo(st, created_reason("the materialized view", by));
	else
		irreversible(st, pstrdup("the previous contents of the materialized view are not known"));
}

/* ----------------------------------------------------------------------
 * The dispatcher
 * ---------------------------------------------------------------------- */

static void
invert_statement(InvertState *st, Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_CreateStmt:
			invert_create_table(st, (CreateStmt *) stmt, "TABLE");
			break;
		case T_CreateForeignTableStmt:
			invert_create_table(st, (CreateStmt *) stmt, "FOREIGN TABLE");
			break;
		case T_CreateTableAsStmt:
			invert_create_table_as(st, (CreateTableAsStmt *) stmt);
			break;
		case T_IndexStmt:
			invert_create_index(st, (IndexStmt *) stmt);
			break;
		case T_ViewStmt:
			invert_create_view(st, (ViewStmt *) stmt);
			break;
		case T_CreateSeqStmt:
			invert_create_sequence(st, (CreateSeqStmt *) stmt);
			break;
		case T_CreateSchemaStmt:
			invert_create_schema(st, (CreateSchemaStmt *) stmt);
			break;
		case T_CreateEnumStmt:
			invert_create_type(st, ((CreateEnumStmt *) stmt)->typeName, "TYPE");
			break;
		case T_CreateRangeStmt:
			invert_create_type(st, ((CreateRangeStmt *) stmt)->typeName, "TYPE");
			break;
		case T_CompositeTypeStmt:
			invert_create_type(st, rangevar_names(((CompositeTypeStmt *) stmt)->typevar), "TYPE");
			break;
		case T_CreateDomainStmt:
			invert_create_type(st, ((CreateDomainStmt *) stmt)->domainname, "DOMAIN");
			break;
		case T_CreateFunctionStmt:
			invert_create_function(st, (CreateFunctionStmt *) stmt);
			break;
		case T_CreateTrigStmt:
			invert_create_trigger(st, (CreateTrigStmt *) stmt);
			break;
		case T_CreatePolicyStmt:
			invert_create_policy(st, (CreatePolicyStmt *) stmt);
			break;
		case T_CreateExtensionStmt:
			invert_create_extension(st, (CreateExtensionStmt *) stmt);
			break;
		case T_AlterTableStmt:
			invert_alter_table(st, (AlterTableStmt *) stmt);
			break;
		case T_AlterDomainStmt:
			invert_alter_domain(st, (AlterDomainStmt *) stmt);
			break;
		case T_RenameStmt:
			invert_rename(st, (RenameStmt *) stmt);
			break;
		case T_AlterEnumStmt:
			invert_alter_enum(st, (AlterEnumStmt *) stmt);
			break;
		case T_CommentStmt:
			invert_comment(st, (CommentStmt *) stmt);
			break;
		case T_InsertStmt:
			invert_dml(st, ((InsertStmt *) stmt)->relation, ((InsertStmt *) stmt)->withClause,
					   "the rows it inserts cannot be told from the rows that were there before");
			break;
		case T_UpdateStmt:
			invert_dml(st, ((UpdateStmt *) stmt)->relation, ((UpdateStmt *) stmt)->withClause,
					   "UPDATE overwrites values the down script cannot know");
			break;
		case T_DeleteStmt:
			invert_dml(st, ((DeleteStmt *) stmt)->relation, ((DeleteStmt *) stmt)->withClause,
					   "DELETE destroys rows the down script cannot know");
			break;
		case T_TruncateStmt:
			invert_truncate(st, (TruncateStmt *) stmt);
			break;
		case T_DropStmt:
			invert_drop(st, (DropStmt *) stmt);
			break;
		case T_DoStmt:
			irreversible(st, pstrdup("a DO block runs code whose effects are not known"));
			break;
		case T_CallStmt:
			irreversible(st, pstrdup("CALL runs code whose effects are not known"));
			break;
		case T_GrantStmt:
			invert_grant(st, (GrantStmt *) stmt);
			break;
		case T_VariableSetStmt:
			invert_set(st, (VariableSetStmt *) stmt);
			break;
		case T_RefreshMatViewStmt:
			invert_refresh(st, (RefreshMatViewStmt *) stmt);
			break;
		case T_SelectStmt:
			if (((SelectStmt *) stmt)->intoClause != NULL)
				invert_select_into(st, ((SelectStmt *) stmt)->intoClause->rel);
			else
				no_inverse_known(st);
			break;
		case T_AlterOwnerStmt:
			irreversible(st, pstrdup("the previous owner is not known"));
			break;
		default:
			no_inverse_known(st);
			break;
	}
}

List *
migrate_invert_script(const MigrateParsedScript *parsed, const MigrateCatalogFacts *facts)
{
	InvertState st = {facts, NIL, NULL, 0, NIL};
	List	   *result = NIL;

	for (int i = 0; i < parsed->nstatements; i++)
	{
		const MigrateStatement *stmt = &parsed->statements[i];
		MigrateInversion *inv = palloc0(sizeof(MigrateInversion));

		inv->statement = stmt->number;
		inv->line = stmt->line;
		inv->command = stmt->classified.command;
		st.inv = inv;
		st.statement = stmt->number;
		invert_statement(&st, stmt->parsetree);
		result = lappend(result, inv);
	}
	return result;
}

/*
 * Inverses in reverse order.  A statement with nothing to undo, or
 * without an inverse, is a comment line, so that a reader sees every
 * statement of the up script accounted for.
 */
char *
migrate_invert_down_script(List *inversions)
{
	StringInfoData out;

	initStringInfo(&out);
	for (int i = list_length(inversions) - 1; i >= 0; i--)
	{
		MigrateInversion *inv = list_nth(inversions, i);

		if (inv->invertible && inv->down != NULL)
			appendStringInfo(&out, "%s;\n", inv->down);
		else if (inv->invertible)
			appendStringInfo(&out, "-- statement %d (line %d, %s): %s\n",
							 inv->statement, inv->line, inv->command, inv->reason);
		else
			appendStringInfo(&out, "-- statement %d (line %d, %s) cannot be inverted: %s\n",
							 inv->statement, inv->line, inv->command, inv->reason);
	}
	return out.data;
}

int
migrate_invert_count_irreversible(List *inversions)
{
	ListCell   *lc;
	int			count = 0;

	foreach(lc, inversions)
		count += ((MigrateInversion *) lfirst(lc))->invertible ? 0 : 1;
	return count;
}
