/*-------------------------------------------------------------------------
 *
 * destructive.c
 *	  Which statements destroy data, from the raw parse tree.
 *
 * A statement destroys data when running it loses values that no later
 * statement can bring back from the database itself:
 *
 *	 DROP TABLE t				every row of t
 *	 TRUNCATE t [CASCADE]		every row of t (and, with CASCADE, of the
 *								tables whose foreign keys reference it:
 *								the executor finds those)
 *	 DELETE FROM t				(no WHERE) every row of t
 *	 DROP SCHEMA s CASCADE		every table in s (the executor lists them)
 *	 ALTER TABLE t DROP COLUMN c	the values of c
 *	 ALTER TABLE t ALTER COLUMN c TYPE ...	the values of c as they were
 *	 UPDATE t SET c = ...		(no WHERE) the old values of c
 *	 MERGE INTO t ... WHEN MATCHED THEN DELETE | UPDATE	every row of t
 *	 DROP TABLE t CASCADE		also the tables inheriting from t (the
 *								executor finds those)
 *	 DROP TYPE|DOMAIN d CASCADE	the columns of type d (or of an array or
 *								domain over it: the executor finds those)
 *
 * A DELETE or UPDATE in a WITH clause counts as well (of a SELECT, an
 * INSERT, CREATE TABLE AS or COPY's query), and so does one under EXPLAIN
 * ANALYZE, which runs it.  A WHERE clause of any form,
 * even WHERE true, makes a DELETE or UPDATE a filtered one: it is not
 * reported.  What a statement does indirectly (a function it calls, a DO
 * block, EXECUTE, a rule or trigger, ON DELETE CASCADE) is not seen: only
 * the statement's own parse tree is read.
 *
 * Pure: it walks PostgreSQL's node types and never looks at the catalog
 * or at the statement's text; the executor (exec/backup.c) resolves the
 * names it returns, in the statement's search_path.
 *
 * IDENTIFICATION
 *	  src/model/destructive.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

/* for makeRangeVarFromNameList() only, which looks nothing up */
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"

#include "compat.h"
#include "model/destructive.h"

/* a new target of "kind" on "relation" */
static MigrateDestructiveTarget *
new_target(MigrateDestructiveKind kind, const char *what, RangeVar *relation)
{
	MigrateDestructiveTarget *target = palloc0(sizeof(MigrateDestructiveTarget));

	target->kind = kind;
	target->what = what;
	target->relation = relation;
	return target;
}

/*
 * DROP TABLE (each table it names), DROP TYPE or DROP DOMAIN ... CASCADE
 * (each type: the columns of that type go) and DROP SCHEMA ... CASCADE
 * (each schema).  A DROP SCHEMA without CASCADE fails on a schema that still
 * holds a table, so it destroys no data.  A table name of more than three
 * parts is left to fail when the statement runs (as in classify.c).
 */
static List *
drop_targets(DropStmt *stmt)
{
	List	   *targets = NIL;
	ListCell   *lc;

	if (stmt->removeType == OBJECT_TABLE)
	{
		foreach(lc, stmt->objects)
		{
			List	   *names = lfirst(lc);

			MigrateDestructiveTarget *target;

			if (list_length(names) > 3)
				continue;
			target = new_target(DESTROYS_TABLE, "DROP TABLE", makeRangeVarFromNameList(names));
			/* CASCADE drops the tables inheriting from it too */
			target->cascade = stmt->behavior == DROP_CASCADE;
			targets = lappend(targets, target);
		}
	}
	else if ((stmt->removeType == OBJECT_TYPE || stmt->removeType == OBJECT_DOMAIN) &&
			 stmt->behavior == DROP_CASCADE)
	{
		foreach(lc, stmt->objects)
		{
			MigrateDestructiveTarget *target =
				new_target(DESTROYS_TYPE, stmt->removeType == OBJECT_TYPE ?
						   "DROP TYPE CASCADE" : "DROP DOMAIN CASCADE", NULL);

			target->type = lfirst_node(TypeName, lc);
			targets = lappend(targets, target);
		}
	}
	else if (stmt->removeType == OBJECT_SCHEMA && stmt->behavior == DROP_CASCADE)
	{
		foreach(lc, stmt->objects)
		{
			MigrateDestructiveTarget *target = new_target(DESTROYS_SCHEMA,
														  "DROP SCHEMA CASCADE", NULL);

			target->schema = strVal(lfirst(lc));
			targets = lappend(targets, target);
		}
	}
	return targets;
}

/* TRUNCATE: each table it names */
static List *
truncate_targets(TruncateStmt *stmt)
{
	List	   *targets = NIL;
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		MigrateDestructiveTarget *target = new_target(DESTROYS_TABLE, "TRUNCATE",
													  lfirst_node(RangeVar, lc));

		target->cascade = stmt->behavior == DROP_CASCADE;
		targets = lappend(targets, target);
	}
	return targets;
}

/* "name" added to a list of String column names, once */
static List *
add_column(List *columns, const char *name)
{
	ListCell   *lc;

	foreach(lc, columns)
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return columns;
	return lappend(columns, makeString(pstrdup(name)));
}

/*
 * ALTER TABLE: one target for the columns it drops, one for those whose
 * type it changes (each the subcommands' columns, in order, once).
 * ALTER FOREIGN TABLE destroys no data of this database.
 */
static List *
alter_table_targets(AlterTableStmt *stmt)
{
	MigrateDestructiveTarget *dropped = NULL;
	MigrateDestructiveTarget *retyped = NULL;
	List	   *targets = NIL;
	ListCell   *lc;

	if (migrate_alter_table_objtype(stmt) != OBJECT_TABLE)
		return NIL;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		MigrateDestructiveTarget **target;

		if (cmd->subtype == AT_DropColumn)
			target = &dropped;
		else if (cmd->subtype == AT_AlterColumnType)
			target = &retyped;
		else
			continue;
		if (*target == NULL)
			*target = new_target(DESTROYS_COLUMNS,
								 cmd->subtype == AT_DropColumn ? "DROP COLUMN" : "ALTER COLUMN TYPE",
								 stmt->relation);
		(*target)->columns = add_column((*target)->columns, cmd->name);
	}
	if (dropped)
		targets = lappend(targets, dropped);
	if (retyped)
		targets = lappend(targets, retyped);
	return targets;
}

/* the columns an UPDATE sets (SET a = ..., SET (b, c) = ..., SET d[1] = ...) */
static List *
update_columns(UpdateStmt *stmt)
{
	List	   *columns = NIL;
	ListCell   *lc;

	foreach(lc, stmt->targetList)
		columns = add_column(columns, lfirst_node(ResTarget, lc)->name);
	return columns;
}

#if PG_VERSION_NUM >= 150000
/*
 * Whether a MERGE deletes or updates rows: its join condition is no
 * WHERE a reader can judge, so any WHEN MATCHED THEN DELETE or UPDATE
 * counts, and the whole target table is copied.
 */
static bool
merge_changes_rows(MergeStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->mergeWhenClauses)
	{
		MergeWhenClause *clause = lfirst_node(MergeWhenClause, lc);

		if (clause->commandType == CMD_DELETE || clause->commandType == CMD_UPDATE)
			return true;
	}
	return false;
}
#endif

/*
 * The walker over a data-modifying statement and everything below it
 * (WITH clauses, subqueries): each DELETE or UPDATE without WHERE it
 * finds is a target.  raw_expression_tree_walker() knows every node of a
 * raw SELECT, INSERT, UPDATE or DELETE.
 */
static bool
unfiltered_dml_walker(Node *node, List **targets)
{
	if (node == NULL)
		return false;
	if (IsA(node, DeleteStmt) && ((DeleteStmt *) node)->whereClause == NULL)
		*targets = lappend(*targets, new_target(DESTROYS_TABLE, "DELETE",
												((DeleteStmt *) node)->relation));
	else if (IsA(node, UpdateStmt) && ((UpdateStmt *) node)->whereClause == NULL)
	{
		MigrateDestructiveTarget *target = new_target(DESTROYS_COLUMNS, "UPDATE",
													  ((UpdateStmt *) node)->relation);

		target->columns = update_columns((UpdateStmt *) node);
		*targets = lappend(*targets, target);
	}
#if PG_VERSION_NUM >= 150000
	else if (IsA(node, MergeStmt) && merge_changes_rows((MergeStmt *) node))
		*targets = lappend(*targets, new_target(DESTROYS_TABLE, "MERGE",
												((MergeStmt *) node)->relation));
#endif
	return raw_expression_tree_walker(node, unfiltered_dml_walker, (void *) targets);
}

/* whether EXPLAIN runs its statement (ANALYZE) */
static bool
explain_runs(ExplainStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "analyze") == 0)
			return defGetBoolean(opt);
	}
	return false;
}

/*
 * What the statement (a raw parse tree: RawStmt or its stmt) destroys;
 * NIL when nothing.
 */
List *
migrate_destructive_targets(Node *parsetree)
{
	List	   *targets = NIL;

	if (parsetree == NULL)
		return NIL;
	if (IsA(parsetree, RawStmt))
		parsetree = ((RawStmt *) parsetree)->stmt;

	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			return drop_targets((DropStmt *) parsetree);
		case T_TruncateStmt:
			return truncate_targets((TruncateStmt *) parsetree);
		case T_AlterTableStmt:
			return alter_table_targets((AlterTableStmt *) parsetree);
		case T_ExplainStmt:
			if (!explain_runs((ExplainStmt *) parsetree))
				return NIL;
			return migrate_destructive_targets(((ExplainStmt *) parsetree)->query);
		case T_CreateTableAsStmt:
			/* CREATE TABLE ... AS WITH d AS (DELETE ...) SELECT ... */
			(void) unfiltered_dml_walker(((CreateTableAsStmt *) parsetree)->query, &targets);
			return targets;
		case T_CopyStmt:
			/* COPY (DELETE ... RETURNING ...) TO ... */
			(void) unfiltered_dml_walker(((CopyStmt *) parsetree)->query, &targets);
			return targets;
#if PG_VERSION_NUM >= 150000
		case T_MergeStmt:
#endif
		case T_SelectStmt:
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
			(void) unfiltered_dml_walker(parsetree, &targets);
			return targets;
		default:
			return NIL;
	}
}
