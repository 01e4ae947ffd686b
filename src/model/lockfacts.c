/*-------------------------------------------------------------------------
 *
 * lockfacts.c
 *	  Lock modes and effects of statements, from the raw parse tree.
 *
 * For ALTER TABLE the mode is PostgreSQL's own AlterTableGetLockLevel()
 * on the raw subcommands, the very call utility.c makes before it runs
 * them; the effect is decided per subcommand (table alter_effects below).
 * For the other statements the modes are those the server's commands
 * take (PostgreSQL 15):
 *
 *	statement							relation			mode					effect
 *	-----------------------------------	-------------------	-----------------------	-------
 *	CREATE TABLE [AS], CREATE VIEW, ...	the new relation	ACCESS EXCLUSIVE		catalog
 *	  ... PARTITION OF parent			the parent			ACCESS EXCLUSIVE		catalog
 *	  ... INHERITS (parent)				the parent			SHARE UPDATE EXCLUSIVE	catalog
 *	  ... REFERENCES t					t					SHARE ROW EXCLUSIVE		catalog
 *	CREATE INDEX						the table			SHARE					build
 *	CREATE INDEX CONCURRENTLY			the table			SHARE UPDATE EXCLUSIVE	build
 *	DROP INDEX							the index (+table)	ACCESS EXCLUSIVE		catalog
 *	DROP INDEX CONCURRENTLY				the index (+table)	SHARE UPDATE EXCLUSIVE	catalog
 *	DROP TABLE, VIEW, SEQUENCE, ...		each relation		ACCESS EXCLUSIVE		catalog
 *	DROP TRIGGER, POLICY, RULE			the table			ACCESS EXCLUSIVE		catalog
 *	TRUNCATE							each table			ACCESS EXCLUSIVE		catalog
 *	REINDEX TABLE / INDEX				the table / index	SHARE / ACCESS EXCL.	build
 *	REINDEX ... CONCURRENTLY			the table / index	SHARE UPDATE EXCLUSIVE	build
 *	CLUSTER, VACUUM FULL				the table			ACCESS EXCLUSIVE		rewrite
 *	VACUUM, ANALYZE						the table			SHARE UPDATE EXCLUSIVE	scan
 *	REFRESH MATERIALIZED VIEW			the view			ACCESS EXCLUSIVE		rewrite
 *	  ... CONCURRENTLY					the view			EXCLUSIVE				rewrite
 *	ALTER ... RENAME (table, column,	the table			ACCESS EXCLUSIVE		catalog
 *	  constraint, trigger, policy)
 *	ALTER INDEX ... RENAME				the index			SHARE UPDATE EXCLUSIVE	catalog
 *	ALTER ... SET SCHEMA (relations)	the relation		ACCESS EXCLUSIVE		catalog
 *	COMMENT ON (relation, column, ...)	the relation		SHARE UPDATE EXCLUSIVE	catalog
 *	GRANT, REVOKE						each relation		none of note			catalog
 *	CREATE TRIGGER						the table			SHARE ROW EXCLUSIVE		catalog
 *	CREATE / ALTER POLICY, CREATE RULE	the table			ACCESS EXCLUSIVE		catalog
 *	CREATE STATISTICS					the table			SHARE UPDATE EXCLUSIVE	catalog
 *	ALTER SEQUENCE						the sequence		SHARE ROW EXCLUSIVE		catalog
 *	LOCK TABLE							each table			the mode it names		none
 *	INSERT, UPDATE, DELETE, MERGE,		the target			ROW EXCLUSIVE			none
 *	  COPY FROM
 *	COPY TO								the table			ACCESS SHARE			none
 *	other DDL (functions, types, ...)	-					-						catalog
 *	DO, CALL, SELECT					-					what the code takes		none
 *
 * A foreign key (ALTER TABLE ADD, or REFERENCES in ADD COLUMN) also takes
 * SHARE ROW EXCLUSIVE on the referenced table.  What the text cannot
 * decide (is a cast binary-coercible, is a default volatile) is asked of
 * the catalog facts when given, and otherwise counted as the worse case,
 * with "unknown" in the reason.  DO blocks and functions cannot be read at
 * all: migrate.analyze(measure => true) runs them instead.
 *
 * Facts are per relation as written: several subcommands of one ALTER
 * TABLE make one fact (the strongest mode, the dearest effect, every
 * reason).
 *
 * IDENTIFICATION
 *	  src/model/lockfacts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "storage/lock.h"
#include "utils/builtins.h"

#include "compat.h"
#include "model/classify.h"
#include "model/lockfacts.h"

/* the effect of one ALTER TABLE subcommand that needs no look inside */
typedef struct AlterEffect
{
	AlterTableType subtype;
	MigrateLockEffect effect;
	const char *reason;
} AlterEffect;

static const AlterEffect alter_effects[] = {
	{AT_ColumnDefault, LOCK_EFFECT_CATALOG, "SET/DROP DEFAULT: catalog only"},
	{AT_DropNotNull, LOCK_EFFECT_CATALOG, "DROP NOT NULL: catalog only"},
	{AT_SetNotNull, LOCK_EFFECT_SCAN,
	"SET NOT NULL: scans the table unless a validated CHECK (col IS NOT NULL) proves it"},
	{AT_DropExpression, LOCK_EFFECT_CATALOG, "DROP EXPRESSION: catalog only"},
	{AT_SetStatistics, LOCK_EFFECT_CATALOG, "SET STATISTICS: catalog only"},
	{AT_SetStorage, LOCK_EFFECT_CATALOG, "SET STORAGE: catalog only"},
	{AT_SetCompression, LOCK_EFFECT_CATALOG, "SET COMPRESSION: catalog only"},
	{AT_DropColumn, LOCK_EFFECT_CATALOG, "DROP COLUMN: catalog only (the space is reclaimed by later rewrites)"},
	{AT_AlterConstraint, LOCK_EFFECT_CATALOG, "ALTER CONSTRAINT: catalog only"},
	{AT_ValidateConstraint, LOCK_EFFECT_SCAN, "VALIDATE CONSTRAINT: scans the table"},
	{AT_DropConstraint, LOCK_EFFECT_CATALOG, "DROP CONSTRAINT: catalog only"},
	{AT_ChangeOwner, LOCK_EFFECT_CATALOG, "OWNER TO: catalog only"},
	{AT_SetLogged, LOCK_EFFECT_REWRITE, "SET LOGGED: rewrites the table"},
	{AT_SetUnLogged, LOCK_EFFECT_REWRITE, "SET UNLOGGED: rewrites the table"},
#if PG_VERSION_NUM >= 150000
	{AT_SetAccessMethod, LOCK_EFFECT_REWRITE, "SET ACCESS METHOD: rewrites the table"},
#endif
	{AT_SetTableSpace, LOCK_EFFECT_REWRITE, "SET TABLESPACE: copies the table's files"},
	{AT_AddInherit, LOCK_EFFECT_CATALOG, "INHERIT: catalog only"},
	{AT_DropInherit, LOCK_EFFECT_CATALOG, "NO INHERIT: catalog only"},
	{AT_AddIdentity, LOCK_EFFECT_CATALOG, "ADD IDENTITY: catalog only"},
	{AT_SetIdentity, LOCK_EFFECT_CATALOG, "SET identity option: catalog only"},
	{AT_DropIdentity, LOCK_EFFECT_CATALOG, "DROP IDENTITY: catalog only"},
#ifdef MIGRATE_HAVE_DETACH_CONCURRENTLY
	{AT_DetachPartitionFinalize, LOCK_EFFECT_CATALOG, "DETACH PARTITION FINALIZE: catalog only"},
#endif
};

/* the relation-naming object types, and the mode DROP takes on them */
static bool
objtype_is_relation(ObjectType objtype)
{
	switch (objtype)
	{
		case OBJECT_TABLE:
		case OBJECT_INDEX:
		case OBJECT_SEQUENCE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
			return true;
		default:
			return false;
	}
}

/* objects named "[schema.]table.name": triggers, policies, rules, columns */
static bool
objtype_is_on_relation(ObjectType objtype)
{
	switch (objtype)
	{
		case OBJECT_COLUMN:
		case OBJECT_TABCONSTRAINT:
		case OBJECT_TRIGGER:
		case OBJECT_POLICY:
		case OBJECT_RULE:
			return true;
		default:
			return false;
	}
}

/* the relation of a qualified name list; without its last part when "on" */
static RangeVar *
relation_of_names(List *names, bool on)
{
	if (!IsA(names, List))
		return NULL;
	if (on)
	{
		if (list_length(names) < 2)
			return NULL;
		names = list_truncate(list_copy(names), list_length(names) - 1);
	}
	if (list_length(names) > 3)
		return NULL;
	return makeRangeVarFromNameList(names);
}

static bool
same_relation(const RangeVar *a, const RangeVar *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (strcmp(a->relname, b->relname) != 0)
		return false;
	if ((a->schemaname == NULL) != (b->schemaname == NULL))
		return false;
	return a->schemaname == NULL || strcmp(a->schemaname, b->schemaname) == 0;
}

/*
 * Add a fact, or merge it into the fact of the same relation: the
 * stronger mode, the dearer effect, both reasons.
 */
static void
add_fact(List **facts, RangeVar *relation, LOCKMODE mode, MigrateLockEffect effect,
		 const char *reason)
{
	ListCell   *lc;
	MigrateLockFact *fact;

	foreach(lc, *facts)
	{
		fact = lfirst(lc);
		if (!same_relation(fact->relation, relation))
			continue;
		fact->mode = Max(fact->mode, mode);
		fact->effect = Max(fact->effect, effect);
		if (reason != NULL)
			fact->reason = fact->reason ? psprintf("%s; %s", fact->reason, reason) : reason;
		return;
	}
	fact = palloc0(sizeof(MigrateLockFact));
	fact->relation = relation;
	fact->mode = mode;
	fact->effect = effect;
	fact->reason = reason;
	*facts = lappend(*facts, fact);
}

/*
 * The tables on the other side of the foreign keys a statement drops or
 * changes: PostgreSQL drops or recreates the foreign key's triggers on
 * them too, under ACCESS EXCLUSIVE.  The referenced table is usually the
 * busy one.
 */
static void
foreign_key_partner_facts(List **facts, const MigrateCatalogFacts *cf,
						  const RangeVar *relation, const char *column,
						  const char *constraint)
{
	ListCell   *lc;

	if (cf == NULL || cf->foreign_key_partners == NULL || relation == NULL)
		return;
	foreach(lc, cf->foreign_key_partners(relation, column, constraint))
	{
		RangeVar   *partner = lfirst(lc);

		add_fact(facts, partner, AccessExclusiveLock, LOCK_EFFECT_CATALOG,
				 psprintf("drops or changes the foreign key's triggers on %s",
						  quote_qualified_identifier(partner->schemaname, partner->relname)));
	}
}

/* whether a raw expression is a constant, so that no catalog need be asked */
static bool
expression_is_constant(Node *expr)
{
	while (expr != NULL && IsA(expr, TypeCast))
		expr = ((TypeCast *) expr)->arg;
	return expr != NULL && IsA(expr, A_Const);
}

static MigrateFact
default_volatile(Node *expr, const MigrateCatalogFacts *facts)
{
	if (expression_is_constant(expr))
		return FACT_NO;
	if (facts == NULL || facts->expression_volatile == NULL)
		return FACT_UNKNOWN;
	return facts->expression_volatile(expr);
}

static bool
type_is_serial(const TypeName *type)
{
	static const char *const serials[] = {
		"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"
	};
	const char *name;

	if (type == NULL || type->names == NIL || list_length(type->names) != 1)
		return false;
	name = strVal(llast(type->names));
	for (int i = 0; i < lengthof(serials); i++)
		if (strcmp(name, serials[i]) == 0)
			return true;
	return false;
}

/*
 * A new constraint: its effect on the table, and the referenced table's
 * lock for a foreign key.  "what" names the subcommand in the reasons.
 */
static MigrateLockEffect
constraint_effect(List **facts, Constraint *con, const char *what, const char **reason)
{
	switch (con->contype)
	{
		case CONSTR_CHECK:
			*reason = con->skip_validation ? psprintf("%s CHECK NOT VALID: catalog only", what) :
				psprintf("%s CHECK: scans the table to validate it", what);
			return con->skip_validation ? LOCK_EFFECT_CATALOG : LOCK_EFFECT_SCAN;
		case CONSTR_FOREIGN:
			add_fact(facts, con->pktable, ShareRowExclusiveLock,
					 con->skip_validation ? LOCK_EFFECT_CATALOG : LOCK_EFFECT_SCAN,
					 "referenced by a new foreign key");
			*reason = con->skip_validation ?
				psprintf("%s FOREIGN KEY NOT VALID: catalog only", what) :
				psprintf("%s FOREIGN KEY: scans the table to validate it", what);
			return con->skip_validation ? LOCK_EFFECT_CATALOG : LOCK_EFFECT_SCAN;
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			if (con->indexname != NULL)
			{
				*reason = psprintf("%s %s USING INDEX: catalog only", what,
								   con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE");
				return LOCK_EFFECT_CATALOG;
			}
			*reason = psprintf("%s %s: builds its index", what,
							   con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE");
			return LOCK_EFFECT_BUILD;
		case CONSTR_EXCLUSION:
			*reason = psprintf("%s EXCLUDE: builds its index", what);
			return LOCK_EFFECT_BUILD;
		default:
			*reason = NULL;
			return LOCK_EFFECT_CATALOG;
	}
}

/* ADD COLUMN: a rewrite for a volatile default, serial, identity, stored generated */
static MigrateLockEffect
add_column_effect(List **facts, ColumnDef *def, const MigrateCatalogFacts *cf,
				  const char **reason)
{
	MigrateLockEffect effect = LOCK_EFFECT_CATALOG;
	bool		has_default = false;
	bool		not_null = def->is_not_null;
	StringInfoData why;
	ListCell   *lc;

	initStringInfo(&why);
	if (type_is_serial(def->typeName))
	{
		effect = LOCK_EFFECT_REWRITE;
		appendStringInfoString(&why, "ADD COLUMN serial: rewrites the table (each row takes a value of the sequence)");
		has_default = true;
	}
	if (def->raw_default != NULL)
		has_default = true;
	if (cf != NULL && cf->type_has_constraints != NULL &&
		cf->type_has_constraints(def->typeName) == FACT_YES)
	{
		/* PostgreSQL checks every row against the domain's constraints */
		effect = LOCK_EFFECT_REWRITE;
		appendStringInfo(&why, "%sADD COLUMN of domain %s with constraints: rewrites the table",
						 why.len ? "; " : "", TypeNameToString(def->typeName));
	}
	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst(lc);
		MigrateLockEffect e = LOCK_EFFECT_CATALOG;
		const char *r = NULL;

		switch (con->contype)
		{
			case CONSTR_DEFAULT:
				{
					MigrateFact vol = default_volatile(con->raw_expr, cf);

					has_default = true;
					if (vol == FACT_YES)
						r = "ADD COLUMN with a volatile DEFAULT: rewrites the table";
					else if (vol == FACT_UNKNOWN)
						r = "ADD COLUMN with a DEFAULT whose volatility is unknown: may rewrite the table";
					e = vol == FACT_NO ? LOCK_EFFECT_CATALOG : LOCK_EFFECT_REWRITE;
				}
				break;
			case CONSTR_IDENTITY:
				has_default = true;
				e = LOCK_EFFECT_REWRITE;
				r = "ADD COLUMN identity: rewrites the table (each row takes a value)";
				break;
			case CONSTR_GENERATED:
				has_default = true;
				e = LOCK_EFFECT_REWRITE;
				r = "ADD COLUMN GENERATED STORED: rewrites the table";
				break;
			case CONSTR_NOTNULL:
				not_null = true;
				break;
			case CONSTR_PRIMARY:
				/* a primary key is NOT NULL too */
				not_null = true;
				e = constraint_effect(facts, con, "ADD COLUMN", &r);
				break;
			default:
				e = constraint_effect(facts, con, "ADD COLUMN", &r);
				break;
		}
		effect = Max(effect, e);
		if (r != NULL)
			appendStringInfo(&why, "%s%s", why.len ? "; " : "", r);
	}
	if (not_null && !has_default)
	{
		effect = Max(effect, LOCK_EFFECT_SCAN);
		appendStringInfo(&why, "%sADD COLUMN NOT NULL without DEFAULT: checks every row (fails if the table has rows)",
						 why.len ? "; " : "");
	}
	*reason = why.len ? why.data : "ADD COLUMN: catalog only";
	return effect;
}

/* ALTER COLUMN TYPE: a rewrite unless the catalog says binary-coercible */
static MigrateLockEffect
alter_type_effect(const RangeVar *relation, AlterTableCmd *cmd,
				  const MigrateCatalogFacts *cf, const char **reason)
{
	ColumnDef  *def = (ColumnDef *) cmd->def;
	MigrateFact coercible = FACT_UNKNOWN;

	if (def->raw_default != NULL)
	{
		*reason = "ALTER COLUMN TYPE ... USING: rewrites the table";
		return LOCK_EFFECT_REWRITE;
	}
	if (cf != NULL && cf->binary_coercible != NULL && cmd->name != NULL)
		coercible = cf->binary_coercible(relation, cmd->name, def->typeName);
	if (coercible == FACT_YES)
	{
		*reason = "ALTER COLUMN TYPE: binary-coercible, no rewrite";
		return LOCK_EFFECT_CATALOG;
	}
	*reason = coercible == FACT_NO ?
		"ALTER COLUMN TYPE: not binary-coercible, rewrites the table and its indexes" :
		"ALTER COLUMN TYPE: binary-coercible unknown, may rewrite the table";
	return LOCK_EFFECT_REWRITE;
}

/* one subcommand's effect on the altered relation */
static MigrateLockEffect
subcommand_effect(List **facts, AlterTableStmt *stmt, AlterTableCmd *cmd,
				  const MigrateCatalogFacts *cf, const char **reason)
{
	for (int i = 0; i < lengthof(alter_effects); i++)
	{
		if (alter_effects[i].subtype == cmd->subtype)
		{
			*reason = alter_effects[i].reason;
			return alter_effects[i].effect;
		}
	}
	switch (cmd->subtype)
	{
		case AT_AddColumn:
			return add_column_effect(facts, (ColumnDef *) cmd->def, cf, reason);
		case AT_AlterColumnType:
			return alter_type_effect(stmt->relation, cmd, cf, reason);
		case AT_AddConstraint:
			if (cmd->def != NULL && IsA(cmd->def, Constraint))
				return constraint_effect(facts, (Constraint *) cmd->def, "ADD", reason);
			break;
		case AT_AttachPartition:
			{
				PartitionCmd *part = (PartitionCmd *) cmd->def;

				add_fact(facts, part->name, AccessExclusiveLock, LOCK_EFFECT_SCAN,
						 "ATTACH PARTITION: the partition's rows are checked against its bound unless a CHECK proves it");
				*reason = "ATTACH PARTITION: catalog only on the parent";
				return LOCK_EFFECT_CATALOG;
			}
		case AT_DetachPartition:
			{
				PartitionCmd *part = (PartitionCmd *) cmd->def;

#ifdef MIGRATE_HAVE_DETACH_CONCURRENTLY
				bool		concurrent = part->concurrent;
#else
				bool		concurrent = false;
#endif

				add_fact(facts, part->name,
						 concurrent ? ShareUpdateExclusiveLock : AccessExclusiveLock,
						 LOCK_EFFECT_CATALOG, "DETACH PARTITION: catalog only");
				*reason = "DETACH PARTITION: catalog only";
				return LOCK_EFFECT_CATALOG;
			}
		default:
			break;
	}
	*reason = NULL;
	return LOCK_EFFECT_CATALOG;
}

/*
 * ALTER TABLE (and ALTER INDEX, VIEW, ... that share its node): the mode
 * is AlterTableGetLockLevel()'s, the effect the dearest subcommand's.
 */
static void
alter_table_facts(List **facts, AlterTableStmt *stmt, const MigrateCatalogFacts *cf)
{
	LOCKMODE	mode = AlterTableGetLockLevel(stmt->cmds);
	MigrateLockEffect effect = LOCK_EFFECT_CATALOG;
	StringInfoData why;
	List	   *others = NIL;
	ListCell   *lc;

	initStringInfo(&why);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		const char *reason = NULL;
		MigrateLockEffect e = subcommand_effect(&others, stmt, cmd, cf, &reason);

		if (cmd->subtype == AT_DropConstraint)
			foreign_key_partner_facts(&others, cf, stmt->relation, NULL, cmd->name);
		else if (cmd->subtype == AT_DropColumn || cmd->subtype == AT_AlterColumnType)
			foreign_key_partner_facts(&others, cf, stmt->relation, cmd->name, NULL);

		effect = Max(effect, e);
		/* ADD COLUMN a ..., ADD COLUMN b ...: one reason once */
		if (reason != NULL && strstr(why.data, reason) == NULL)
			appendStringInfo(&why, "%s%s", why.len ? "; " : "", reason);
	}
	add_fact(facts, stmt->relation, mode, effect, why.len ? why.data : "catalog only");
	foreach(lc, others)
	{
		MigrateLockFact *other = lfirst(lc);

		add_fact(facts, other->relation, other->mode, other->effect, other->reason);
	}
}

/* CREATE TABLE: the new table, its parents, the tables its keys reference */
static void
create_table_facts(List **facts, CreateStmt *stmt)
{
	ListCell   *lc;

	add_fact(facts, stmt->relation, AccessExclusiveLock, LOCK_EFFECT_CATALOG,
			 "creates the table");
	foreach(lc, stmt->inhRelations)
		add_fact(facts, lfirst(lc),
				 stmt->partbound ? AccessExclusiveLock : ShareUpdateExclusiveLock,
				 LOCK_EFFECT_CATALOG,
				 stmt->partbound ? "PARTITION OF: a new partition of it" : "INHERITS: a new child of it");
	foreach(lc, stmt->tableElts)
	{
		Node	   *elt = lfirst(lc);
		List	   *constraints = NIL;
		ListCell   *c;

		if (IsA(elt, Constraint))
			constraints = list_make1(elt);
		else if (IsA(elt, ColumnDef))
			constraints = ((ColumnDef *) elt)->constraints;
		foreach(c, constraints)
		{
			Constraint *con = lfirst(c);

			if (con->contype == CONSTR_FOREIGN)
				add_fact(facts, con->pktable, ShareRowExclusiveLock, LOCK_EFFECT_CATALOG,
						 "referenced by a foreign key of the new table");
		}
	}
}

/* DROP: relations and what hangs on them; other objects: the catalog */
static void
drop_facts(List **facts, DropStmt *stmt, const MigrateCatalogFacts *cf)
{
	bool		relation = objtype_is_relation(stmt->removeType);
	bool		on = objtype_is_on_relation(stmt->removeType);
	LOCKMODE	mode = stmt->concurrent ? ShareUpdateExclusiveLock : AccessExclusiveLock;
	ListCell   *lc;

	if (!relation && !on)
	{
		add_fact(facts, NULL, NoLock, LOCK_EFFECT_CATALOG,
				 stmt->behavior == DROP_CASCADE ? "drops the object and, CASCADE, what depends on it" :
				 "catalog only");
		return;
	}
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = relation_of_names(lfirst(lc), on);

		if (rv == NULL)
			continue;
		add_fact(facts, rv, mode, LOCK_EFFECT_CATALOG,
				 stmt->removeType == OBJECT_INDEX ?
				 (stmt->concurrent ? "DROP INDEX CONCURRENTLY: waits for transactions using the index, blocks no writes" :
				  "DROP INDEX: its table is locked in the same mode") :
				 on ? "drops an object of the table" : "drops the relation");
		if (stmt->removeType == OBJECT_TABLE)
			foreign_key_partner_facts(facts, cf, rv, NULL, NULL);
	}
}

static void
rename_facts(List **facts, RenameStmt *stmt)
{
	if (stmt->relation == NULL ||
		!(objtype_is_relation(stmt->renameType) || objtype_is_on_relation(stmt->renameType) ||
		  stmt->renameType == OBJECT_ATTRIBUTE))
	{
		add_fact(facts, NULL, NoLock, LOCK_EFFECT_CATALOG, "RENAME: catalog only");
		return;
	}
	add_fact(facts, stmt->relation,
			 stmt->renameType == OBJECT_INDEX ? ShareUpdateExclusiveLock : AccessExclusiveLock,
			 LOCK_EFFECT_CATALOG, "RENAME: catalog only");
}

static void
comment_facts(List **facts, CommentStmt *stmt)
{
	RangeVar   *rv = NULL;

	if (objtype_is_relation(stmt->objtype))
		rv = relation_of_names((List *) stmt->object, false);
	else if (objtype_is_on_relation(stmt->objtype))
		rv = relation_of_names((List *) stmt->object, true);
	add_fact(facts, rv, rv ? ShareUpdateExclusiveLock : NoLock, LOCK_EFFECT_CATALOG,
			 "COMMENT: catalog only");
}

static void
grant_facts(List **facts, GrantStmt *stmt)
{
	ListCell   *lc;

	if (stmt->targtype == ACL_TARGET_OBJECT && stmt->objtype == OBJECT_TABLE)
	{
		foreach(lc, stmt->objects)
			add_fact(facts, lfirst(lc), NoLock, LOCK_EFFECT_CATALOG,
					 "privileges: catalog only, no lock of note");
		return;
	}
	add_fact(facts, NULL, NoLock, LOCK_EFFECT_CATALOG, "privileges: catalog only");
}

/* an option given as a DefElem ("(FULL)", "(CONCURRENTLY false)"), or not */
static bool
option_is_on(List *options, const char *name)
{
	DefElem    *option = migrate_classify_find_option(options, name);

	return option != NULL && defGetBoolean(option);
}

/* REINDEX ... CONCURRENTLY: a DefElem since PostgreSQL 14, a flag before */
static bool
reindex_is_concurrent(ReindexStmt *stmt)
{
#ifdef MIGRATE_REINDEX_HAS_PARAMS
	return option_is_on(stmt->params, "concurrently");
#else
	return stmt->concurrent;
#endif
}

static void
reindex_facts(List **facts, ReindexStmt *stmt)
{
	bool		concurrent = reindex_is_concurrent(stmt);
	LOCKMODE	mode;

	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			mode = concurrent ? ShareUpdateExclusiveLock : AccessExclusiveLock;
			add_fact(facts, stmt->relation, mode, LOCK_EFFECT_BUILD,
					 concurrent ? "REINDEX CONCURRENTLY: builds a new index beside the old one" :
					 "REINDEX INDEX: rebuilds it, its table locked in SHARE mode");
			break;
		case REINDEX_OBJECT_TABLE:
			mode = concurrent ? ShareUpdateExclusiveLock : ShareLock;
			add_fact(facts, stmt->relation, mode, LOCK_EFFECT_BUILD,
					 concurrent ? "REINDEX CONCURRENTLY: builds new indexes beside the old ones" :
					 "REINDEX TABLE: rebuilds every index of the table");
			break;
		default:
			add_fact(facts, NULL, concurrent ? ShareUpdateExclusiveLock : ShareLock,
					 LOCK_EFFECT_BUILD, "REINDEX: every table of the schema or database, one after the other");
			break;
	}
}

static void
vacuum_facts(List **facts, VacuumStmt *stmt)
{
	bool		full = option_is_on(stmt->options, "full");
	LOCKMODE	mode = full ? AccessExclusiveLock : ShareUpdateExclusiveLock;
	MigrateLockEffect effect = full ? LOCK_EFFECT_REWRITE : LOCK_EFFECT_SCAN;
	const char *reason = full ? "VACUUM FULL: rewrites the table" :
		stmt->is_vacuumcmd ? "VACUUM: reads the table, blocks no writes" :
		"ANALYZE: samples the table, blocks no writes";
	ListCell   *lc;

	if (stmt->rels == NIL)
		add_fact(facts, NULL, mode, effect, psprintf("%s (every table of the database)", reason));
	foreach(lc, stmt->rels)
	{
		VacuumRelation *rel = lfirst(lc);

		add_fact(facts, rel->relation, mode, effect, reason);
	}
}

static void
relations_facts(List **facts, List *relations, LOCKMODE mode, MigrateLockEffect effect,
				const char *reason)
{
	ListCell   *lc;

	foreach(lc, relations)
		add_fact(facts, lfirst(lc), mode, effect, reason);
}

List *
migrate_lock_facts(Node *stmt, const MigrateCatalogFacts *cf)
{
	List	   *facts = NIL;

	if (stmt == NULL)
		return NIL;
	switch (nodeTag(stmt))
	{
		case T_AlterTableStmt:
			alter_table_facts(&facts, (AlterTableStmt *) stmt, cf);
			break;
		case T_AlterTableMoveAllStmt:
			add_fact(&facts, NULL, AccessExclusiveLock, LOCK_EFFECT_REWRITE,
					 "SET TABLESPACE: copies every relation it moves");
			break;
		case T_CreateStmt:
			create_table_facts(&facts, (CreateStmt *) stmt);
			break;
		case T_CreateTableAsStmt:
			add_fact(&facts, ((CreateTableAsStmt *) stmt)->into->rel, AccessExclusiveLock,
					 LOCK_EFFECT_CATALOG, "creates and fills a new relation");
			break;
		case T_ViewStmt:
			add_fact(&facts, ((ViewStmt *) stmt)->view, AccessExclusiveLock,
					 LOCK_EFFECT_CATALOG, "creates or replaces the view");
			break;
		case T_CreateSeqStmt:
			add_fact(&facts, ((CreateSeqStmt *) stmt)->sequence, AccessExclusiveLock,
					 LOCK_EFFECT_CATALOG, "creates the sequence");
			break;
		case T_AlterSeqStmt:
			add_fact(&facts, ((AlterSeqStmt *) stmt)->sequence, ShareRowExclusiveLock,
					 LOCK_EFFECT_CATALOG, "ALTER SEQUENCE: catalog only");
			break;
		case T_IndexStmt:
			{
				IndexStmt  *index = (IndexStmt *) stmt;

				add_fact(&facts, index->relation,
						 index->concurrent ? ShareUpdateExclusiveLock : ShareLock,
						 LOCK_EFFECT_BUILD,
						 index->concurrent ? "CREATE INDEX CONCURRENTLY: builds the index, blocks no writes" :
						 "CREATE INDEX: builds the index, blocks writes");
			}
			break;
		case T_DropStmt:
			drop_facts(&facts, (DropStmt *) stmt, cf);
			break;
		case T_TruncateStmt:
			relations_facts(&facts, ((TruncateStmt *) stmt)->relations, AccessExclusiveLock,
							LOCK_EFFECT_CATALOG, "TRUNCATE: new empty storage, the rows are gone");
			break;
		case T_ReindexStmt:
			reindex_facts(&facts, (ReindexStmt *) stmt);
			break;
		case T_ClusterStmt:
			add_fact(&facts, ((ClusterStmt *) stmt)->relation, AccessExclusiveLock,
					 LOCK_EFFECT_REWRITE, "CLUSTER: rewrites the table in index order");
			break;
		case T_VacuumStmt:
			vacuum_facts(&facts, (VacuumStmt *) stmt);
			break;
		case T_RefreshMatViewStmt:
			{
				RefreshMatViewStmt *refresh = (RefreshMatViewStmt *) stmt;

				add_fact(&facts, refresh->relation,
						 refresh->concurrent ? ExclusiveLock : AccessExclusiveLock,
						 LOCK_EFFECT_REWRITE,
						 refresh->concurrent ? "REFRESH CONCURRENTLY: recomputes the view, reads go on" :
						 "REFRESH: recomputes the view, blocks reads");
			}
			break;
		case T_RenameStmt:
			rename_facts(&facts, (RenameStmt *) stmt);
			break;
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *move = (AlterObjectSchemaStmt *) stmt;

				add_fact(&facts, move->relation, move->relation ? AccessExclusiveLock : NoLock,
						 LOCK_EFFECT_CATALOG, "SET SCHEMA: catalog only");
			}
			break;
		case T_CommentStmt:
			comment_facts(&facts, (CommentStmt *) stmt);
			break;
		case T_GrantStmt:
			grant_facts(&facts, (GrantStmt *) stmt);
			break;
		case T_CreateTrigStmt:
			add_fact(&facts, ((CreateTrigStmt *) stmt)->relation, ShareRowExclusiveLock,
					 LOCK_EFFECT_CATALOG, "CREATE TRIGGER: catalog only");
			break;
		case T_CreatePolicyStmt:
			add_fact(&facts, ((CreatePolicyStmt *) stmt)->table, AccessExclusiveLock,
					 LOCK_EFFECT_CATALOG, "CREATE POLICY: catalog only");
			break;
		case T_AlterPolicyStmt:
			add_fact(&facts, ((AlterPolicyStmt *) stmt)->table, AccessExclusiveLock,
					 LOCK_EFFECT_CATALOG, "ALTER POLICY: catalog only");
			break;
		case T_RuleStmt:
			add_fact(&facts, ((RuleStmt *) stmt)->relation, AccessExclusiveLock,
					 LOCK_EFFECT_CATALOG, "CREATE RULE: catalog only");
			break;
		case T_CreateStatsStmt:
			{
				ListCell   *lc;

				foreach(lc, ((CreateStatsStmt *) stmt)->relations)
					if (IsA(lfirst(lc), RangeVar))
						add_fact(&facts, lfirst(lc), ShareUpdateExclusiveLock,
								 LOCK_EFFECT_CATALOG, "CREATE STATISTICS: catalog only");
			}
			break;
		case T_LockStmt:
			relations_facts(&facts, ((LockStmt *) stmt)->relations,
							((LockStmt *) stmt)->mode, LOCK_EFFECT_NONE, "LOCK TABLE");
			break;
		case T_InsertStmt:
			add_fact(&facts, ((InsertStmt *) stmt)->relation, RowExclusiveLock,
					 LOCK_EFFECT_NONE, "INSERT: writes rows");
			break;
		case T_UpdateStmt:
			add_fact(&facts, ((UpdateStmt *) stmt)->relation, RowExclusiveLock,
					 LOCK_EFFECT_NONE, "UPDATE: writes rows (locks each row it changes)");
			break;
		case T_DeleteStmt:
			add_fact(&facts, ((DeleteStmt *) stmt)->relation, RowExclusiveLock,
					 LOCK_EFFECT_NONE, "DELETE: removes rows (locks each row it removes)");
			break;
#if PG_VERSION_NUM >= 150000
		case T_MergeStmt:
			add_fact(&facts, ((MergeStmt *) stmt)->relation, RowExclusiveLock,
					 LOCK_EFFECT_NONE, "MERGE: writes rows");
			break;
#endif
		case T_CopyStmt:
			{
				CopyStmt   *copy = (CopyStmt *) stmt;

				if (copy->relation != NULL)
					add_fact(&facts, copy->relation,
							 copy->is_from ? RowExclusiveLock : AccessShareLock,
							 LOCK_EFFECT_NONE, copy->is_from ? "COPY FROM: writes rows" : "COPY TO: reads rows");
				else
					add_fact(&facts, NULL, NoLock, LOCK_EFFECT_NONE, "COPY (query): reads what the query reads");
			}
			break;
		case T_DoStmt:
		case T_CallStmt:
			add_fact(&facts, NULL, NoLock, LOCK_EFFECT_NONE,
					 "runs code: its locks cannot be read from the text (measure => true runs it)");
			break;
		case T_SelectStmt:
			add_fact(&facts, NULL, NoLock, LOCK_EFFECT_NONE,
					 "a query: ACCESS SHARE on what it reads; a function it calls may take more (measure => true runs it)");
			break;
		default:
			{
				MigrateStatementClass class;

				migrate_classify_statement(stmt, &class);
				if (class.changes_schema)
					add_fact(&facts, NULL, NoLock, LOCK_EFFECT_CATALOG, "catalog only");
			}
			break;
	}
	return facts;
}

const char *
migrate_lock_mode_name(LOCKMODE mode)
{
	static const char *const names[] = {
		"none",
		"ACCESS SHARE",
		"ROW SHARE",
		"ROW EXCLUSIVE",
		"SHARE UPDATE EXCLUSIVE",
		"SHARE",
		"SHARE ROW EXCLUSIVE",
		"EXCLUSIVE",
		"ACCESS EXCLUSIVE",
	};

	if (mode < 0 || mode >= lengthof(names))
		return "none";
	return names[mode];
}

const char *
migrate_lock_effect_name(MigrateLockEffect effect)
{
	switch (effect)
	{
		case LOCK_EFFECT_NONE:
			return "none";
		case LOCK_EFFECT_CATALOG:
			return "catalog";
		case LOCK_EFFECT_SCAN:
			return "scan";
		case LOCK_EFFECT_BUILD:
			return "build";
		case LOCK_EFFECT_REWRITE:
			return "rewrite";
	}
	return "none";
}

bool
migrate_lock_blocks_writes(LOCKMODE mode)
{
	return mode >= ShareLock;
}
