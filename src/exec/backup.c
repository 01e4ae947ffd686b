/*-------------------------------------------------------------------------
 *
 * backup.c
 *	  Backups before destructive statements.
 *
 * Right before each statement of a migration (both paths, both
 * directions), migrate_backup_before_statement() asks model/destructive.c
 * whether the statement destroys data.  When it does and the environment's
 * backup strategy is "copy", it
 *
 *	 1. resolves the tables the statement names, in the statement's own
 *		search_path (a table that does not exist: nothing to back up; DROP
 *		SCHEMA ... CASCADE: every table in the schema and their inheritance
 *		children; DROP TABLE ... CASCADE: its children; TRUNCATE ...
 *		CASCADE: the tables referencing them too; DROP TYPE ... CASCADE:
 *		the tables with a column of the type), refuses a table the running
 *		role may not read or whose row security applies to it (the copy
 *		would miss rows the statement destroys), and locks each in the
 *		mode the statement will take anyway (ACCESS EXCLUSIVE), or, before
 *		DELETE or UPDATE without WHERE, in SHARE ROW EXCLUSIVE mode, which
 *		holds off concurrent writers so that the copy holds exactly the
 *		rows the statement changes;
 *	 2. adds up the tables' sizes and refuses (MG015) when they exceed
 *		migrate.backup_max_bytes, before copying anything;
 *	 3. copies into a table of the schema migrate_backup that the
 *		extension's owner creates empty (copy_item()), with an INSERT ...
 *		SELECT run with the rights of the role running the migration:
 *		whole rows for DROP TABLE, TRUNCATE, DELETE, MERGE and DROP SCHEMA;
 *		the key and the affected columns for DROP COLUMN, ALTER COLUMN
 *		TYPE, UPDATE and DROP TYPE ... CASCADE, or whole rows (key_changed)
 *		when the statement changes a key column itself.  The key is the
 *		primary key, else the replica identity index, else a unique,
 *		non-partial, immediate index on NOT NULL columns; a table without
 *		one gets whole rows (ctid is no key: an UPDATE, VACUUM FULL or the
 *		ALTER TYPE itself moves rows), which restore_backup() cannot match
 *		back, but which keep the data for a restore by hand;
 *	 4. revokes every grant on the table (store/backup.c) and records a
 *		row of migrate.backup.
 *
 * Everything happens in the statement's transaction: when the migration
 * fails, the copy goes with it.  With skip_backup => true nothing is
 * copied, and a row marked skipped says what was not backed up.
 *
 * Dry runs and rehearsals back up too: they run the statements as apply()
 * does, so a dry run meets the size guard where the real run would, and a
 * rehearsal of a down script that calls restore_backup() finds the copy
 * its up script made (all of it is rolled back with the rest).
 *
 * IDENTIFICATION
 *	  src/exec/backup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "parser/parse_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "errors.h"
#include "exec/backup.h"
#include "guc.h"
#include "ipc/xact.h"
#include "model/destructive.h"
#include "store/backup.h"
#include "store/catalog.h"
#include "store/environment.h"
#include "store/spi.h"

/* one table to copy before the statement */
typedef struct BackupItem
{
	Oid			relid;
	const char *what;			/* "DROP TABLE", ... (migrate.backup.kind) */
	List	   *columns;		/* the affected columns (char *); NIL: rows */
} BackupItem;

/* what resolving a statement's targets needs to know */
typedef struct Resolving
{
	bool		copy;			/* the data will be read (not skip_backup) */
	bool		columns;		/* only some columns will be read */
} Resolving;

/* whether a relation is a table whose data a backup keeps */
static bool
is_backed_up_kind(Oid relid)
{
	char		relkind = get_rel_relkind(relid);

	return (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE) &&
		get_rel_persistence(relid) != RELPERSISTENCE_TEMP &&
		get_rel_namespace(relid) != get_namespace_oid(MIGRATE_BACKUP_SCHEMA, true);
}

/* the permission error of a table the running role may not read */
static void
refuse_unreadable(Oid relid)
{
	char	   *table = get_rel_name(relid);
	char	   *role = migrate_catalog_current_role();

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to back up table \"%s\"", table),
			 errdetail("The backup before a destructive statement reads the table with the privileges of the role running the migration, \"%s\".",
					   role),
			 errhint("Grant that role SELECT on the table, or run the migration with skip_backup => true.")));
}

/*
 * The error of a table whose row security hides rows from the running
 * role: the copy would miss them while the statement destroys them all.
 */
static void
refuse_row_security(Oid relid)
{
	char	   *table = get_rel_name(relid);
	char	   *role = migrate_catalog_current_role();

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot back up table \"%s\": row-level security applies to role \"%s\"",
					table, role),
			 errdetail("The backup reads the table with the privileges of the role running the migration, so its policies would hide rows from the copy that the statement destroys."),
			 errhint("Run the migration as a role that bypasses row-level security (the table's owner without FORCE ROW LEVEL SECURITY, or a BYPASSRLS role), or with skip_backup => true.")));
}

/*
 * RangeVarGetRelidExtended() callback: before the table is locked, make
 * sure the running role may read it (the copy reads it with its rights),
 * and all of it (no row security hiding rows), so that a migration cannot
 * lock a table it could not back up.
 */
static void
check_readable(const RangeVar *relation, Oid relid, Oid oldrelid, void *arg)
{
	Resolving  *resolving = arg;

	if (!OidIsValid(relid) || !resolving->copy || !is_backed_up_kind(relid))
		return;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		!(resolving->columns &&
		  pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) == ACLCHECK_OK))
		refuse_unreadable(relid);
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		refuse_row_security(relid);
}

/*
 * The table "relation" names, in the current search_path, locked in
 * "lockmode"; InvalidOid when it does not exist or is no table a backup
 * keeps (a view, a foreign or temporary table, a backup table).
 */
static Oid
lock_table(RangeVar *relation, LOCKMODE lockmode, Resolving *resolving)
{
	Oid			relid = RangeVarGetRelidExtended(relation, lockmode, RVR_MISSING_OK,
												 check_readable, resolving);

	if (!OidIsValid(relid) || !is_backed_up_kind(relid))
		return InvalidOid;
	return relid;
}

/* "relid" locked in "lockmode", after the same check as check_readable() */
static void
lock_table_oid(Oid relid, LOCKMODE lockmode, Resolving *resolving)
{
	check_readable(NULL, relid, InvalidOid, resolving);
	LockRelationOid(relid, lockmode);
}

/* a BackupItem added to "items", unless a whole-row one of the table is there */
static List *
add_item(List *items, Oid relid, const char *what, List *columns)
{
	BackupItem *item;
	ListCell   *lc;

	foreach(lc, items)
	{
		BackupItem *other = lfirst(lc);

		if (other->relid == relid && other->columns == NIL && columns == NIL)
			return items;
	}
	item = palloc0(sizeof(BackupItem));
	item->relid = relid;
	item->what = what;
	item->columns = columns;
	return lappend(items, item);
}

/*
 * The tables of the schema DROP SCHEMA ... CASCADE drops, each once: a
 * partition is copied with the partitioned table above it when that is in
 * the schema too.
 */
static List *
schema_tables(Oid schema)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(schema)};
	List	   *tables = NIL;

	migrate_spi_run_pinned("SELECT c.oid FROM pg_catalog.pg_class c"
						   " WHERE c.relnamespace OPERATOR(pg_catalog.=) $1"
						   " AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog.\"char\"[])"
						   " AND NOT EXISTS (SELECT FROM pg_catalog.pg_partition_ancestors(c.oid) a"
						   "   JOIN pg_catalog.pg_class ac ON ac.oid OPERATOR(pg_catalog.=) a.relid"
						   "   WHERE a.relid OPERATOR(pg_catalog.<>) c.oid"
						   "   AND ac.relnamespace OPERATOR(pg_catalog.=) $1)"
						   " ORDER BY c.relname",
						   1, argtypes, values, NULL, true, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		tables = lappend_oid(tables, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1,
																	&isnull)));
	}
	SPI_freetuptable(SPI_tuptable);
	return tables;
}

/*
 * TRUNCATE ... CASCADE also empties every table whose foreign key
 * references one it empties, and so on: the tables of "relids" and
 * those, as ExecuteTruncate() finds them.
 */
static List *
truncate_cascade(List *relids, LOCKMODE lockmode, Resolving *resolving)
{
	List	   *all = list_copy(relids);

	for (;;)
	{
		List	   *more = heap_truncate_find_FKs(all);
		ListCell   *lc;

		if (more == NIL)
			return all;
		foreach(lc, more)
			lock_table_oid(lfirst_oid(lc), lockmode, resolving);
		all = list_concat(all, more);
	}
}

/* the columns of "columns" (String) that the table has, as C strings */
static List *
existing_columns(Oid relid, List *columns)
{
	List	   *existing = NIL;
	ListCell   *lc;

	foreach(lc, columns)
	{
		const char *name = strVal(lfirst(lc));

		if (get_attnum(relid, name) > 0)
			existing = lappend(existing, pstrdup(name));
	}
	return existing;
}

/*
 * The table and, when the statement reaches them (no ONLY) and it is no
 * partitioned table (whose copy reads its partitions already), the tables
 * inheriting from it, which TRUNCATE, DELETE, UPDATE, DROP COLUMN and
 * ALTER COLUMN TYPE change too; each is copied on its own (FROM ONLY).
 * DROP TABLE drops children only with CASCADE (which then drops them
 * all, ONLY or not): without it, the children stay and are not copied.
 */
static List *
with_inheritors(Oid relid, MigrateDestructiveTarget *target, LOCKMODE lockmode,
				Resolving *resolving)
{
	bool		drop = strcmp(target->what, "DROP TABLE") == 0;
	List	   *all;
	ListCell   *lc;

	if ((drop ? !target->cascade : !target->relation->inh) ||
		get_rel_relkind(relid) != RELKIND_RELATION || !has_subclass(relid))
		return list_make1_oid(relid);
	all = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, all)
		if (lfirst_oid(lc) != relid)
			lock_table_oid(lfirst_oid(lc), lockmode, resolving);
	return all;
}

/*
 * DROP TYPE or DROP DOMAIN ... CASCADE drops every table column of the
 * type, or of a type depending on it (its array type, a domain over it,
 * their arrays), as pg_depend records them: the items backing those
 * columns up, their tables locked.  A column of a composite type that
 * contains the type is not found (the cascade drops that attribute of
 * the composite type, not the table's column).
 */
static List *
type_columns(List *items, MigrateDestructiveTarget *target, Resolving *resolving)
{
	Oid			typid = LookupTypeNameOid(NULL, target->type, true);
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *relids = NIL;
	List	   *names = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	if (!OidIsValid(typid))
		return items;
	values[0] = ObjectIdGetDatum(typid);
	migrate_spi_run_pinned("WITH RECURSIVE t (oid) AS ("
						   "  SELECT $1"
						   "  UNION SELECT d.objid FROM pg_catalog.pg_depend d JOIN t"
						   "    ON d.refobjid OPERATOR(pg_catalog.=) t.oid"
						   "   WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass"
						   "   AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass)"
						   " SELECT a.attrelid, a.attname::pg_catalog.text"
						   " FROM t JOIN pg_catalog.pg_attribute a ON a.atttypid OPERATOR(pg_catalog.=) t.oid"
						   " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
						   " WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
						   " AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog.\"char\"[])"
						   " ORDER BY a.attrelid, a.attnum",
						   1, argtypes, values, NULL, true, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (relids == NIL || llast_oid(relids) != relid)
		{
			relids = lappend_oid(relids, relid);
			names = lappend(names, NIL);
		}
		llast(names) = lappend(llast(names), name);
	}
	SPI_freetuptable(SPI_tuptable);
	forboth(lc, relids, lc2, names)
	{
		lock_table_oid(lfirst_oid(lc), AccessExclusiveLock, resolving);
		if (is_backed_up_kind(lfirst_oid(lc)))
			items = add_item(items, lfirst_oid(lc), target->what, lfirst(lc2));
	}
	return items;
}

/* the tables (and columns) one target of the statement destroys */
static List *
resolve_target(List *items, MigrateDestructiveTarget *target, bool copy)
{
	Resolving	resolving = {copy, target->kind == DESTROYS_COLUMNS ||
		target->kind == DESTROYS_TYPE};
	LOCKMODE	lockmode = AccessExclusiveLock;
	Oid			relid;
	ListCell   *lc;

	if (strcmp(target->what, "DELETE") == 0 || strcmp(target->what, "UPDATE") == 0 ||
		strcmp(target->what, "MERGE") == 0)
		lockmode = copy ? ShareRowExclusiveLock : RowExclusiveLock;

	if (target->kind == DESTROYS_TYPE)
		return type_columns(items, target, &resolving);
	if (target->kind == DESTROYS_SCHEMA)
	{
		Oid			schema = get_namespace_oid(target->schema, true);

		if (!OidIsValid(schema))
			return items;
		foreach(lc, schema_tables(schema))
		{
			Oid			table = lfirst_oid(lc);
			List	   *family = list_make1_oid(table);
			ListCell   *lc2;

			lock_table_oid(table, lockmode, &resolving);
			/* the cascade drops inheritance children in other schemas too */
			if (get_rel_relkind(table) == RELKIND_RELATION && has_subclass(table))
				family = find_all_inheritors(table, lockmode, NULL);
			foreach(lc2, family)
			{
				if (lfirst_oid(lc2) != table)
					check_readable(NULL, lfirst_oid(lc2), InvalidOid, &resolving);
				if (is_backed_up_kind(lfirst_oid(lc2)))
					items = add_item(items, lfirst_oid(lc2), target->what, NIL);
			}
		}
		return items;
	}

	relid = lock_table(target->relation, lockmode, &resolving);
	if (!OidIsValid(relid))
		return items;
	if (target->kind == DESTROYS_COLUMNS)
	{
		ListCell   *lc;

		foreach(lc, with_inheritors(relid, target, lockmode, &resolving))
		{
			List	   *columns = existing_columns(lfirst_oid(lc), target->columns);

			if (columns != NIL)
				items = add_item(items, lfirst_oid(lc), target->what, columns);
		}
		return items;
	}
	if (target->cascade && strcmp(target->what, "TRUNCATE") == 0)
	{
		foreach(lc, truncate_cascade(list_make1_oid(relid), lockmode, &resolving))
			if (is_backed_up_kind(lfirst_oid(lc)))
				items = add_item(items, lfirst_oid(lc), target->what, NIL);
		return items;
	}
	foreach(lc, with_inheritors(relid, target, lockmode, &resolving))
		items = add_item(items, lfirst_oid(lc), target->what, NIL);
	return items;
}

/* whether every key column of the index is a plain NOT NULL column */
static bool
usable_key_index(Oid indexoid)
{
	HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index index;
	bool		usable;

	if (!HeapTupleIsValid(tuple))
		return false;
	index = (Form_pg_index) GETSTRUCT(tuple);
	usable = index->indisunique && index->indimmediate && index->indisvalid &&
		heap_attisnull(tuple, Anum_pg_index_indpred, NULL) &&
		heap_attisnull(tuple, Anum_pg_index_indexprs, NULL);
	for (int i = 0; usable && i < index->indnkeyatts; i++)
	{
		AttrNumber	attnum = index->indkey.values[i];
		HeapTuple	att = SearchSysCache2(ATTNUM, ObjectIdGetDatum(index->indrelid),
										  Int16GetDatum(attnum));

		usable = attnum > 0 && HeapTupleIsValid(att) &&
			((Form_pg_attribute) GETSTRUCT(att))->attnotnull;
		if (HeapTupleIsValid(att))
			ReleaseSysCache(att);
	}
	ReleaseSysCache(tuple);
	return usable;
}

/* the key columns of the index, by name */
static List *
index_columns(Oid indexoid)
{
	HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index index = (Form_pg_index) GETSTRUCT(tuple);
	List	   *columns = NIL;

	for (int i = 0; i < index->indnkeyatts; i++)
		columns = lappend(columns, get_attname(index->indrelid, index->indkey.values[i], false));
	ReleaseSysCache(tuple);
	return columns;
}

/*
 * The columns that identify a row of the table, by which a restore puts
 * column values back: the primary key, else the replica identity index,
 * else the first usable unique index (usable_key_index); NIL when there
 * is none.
 */
static List *
key_columns(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);	/* locked by the caller */
	List	   *indexes = RelationGetIndexList(rel);
	Oid			chosen = InvalidOid;
	ListCell   *lc;

	if (OidIsValid(rel->rd_pkindex))
		chosen = rel->rd_pkindex;
	else if (OidIsValid(rel->rd_replidindex) && usable_key_index(rel->rd_replidindex))
		chosen = rel->rd_replidindex;
	else
		foreach(lc, indexes)
			if (usable_key_index(lfirst_oid(lc)))
			{
				chosen = lfirst_oid(lc);
				break;
			}
	table_close(rel, NoLock);
	return OidIsValid(chosen) ? index_columns(chosen) : NIL;
}

/* "name" added to a list of C strings, once */
static List *
add_name(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(lfirst(lc), name) == 0)
			return names;
	return lappend(names, (char *) name);
}

/* the table's data in bytes (all its partitions for a partitioned one) */
static int64
table_bytes(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;
	int64		bytes;

	migrate_spi_run_pinned(get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ?
						   "SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_table_size(t.relid)), 0)::pg_catalog.int8"
						   " FROM pg_catalog.pg_partition_tree($1) t" :
						   "SELECT pg_catalog.pg_table_size($1)",
						   1, argtypes, values, NULL, true, SPI_OK_SELECT);
	bytes = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										&isnull));
	SPI_freetuptable(SPI_tuptable);
	return bytes;
}

/* "n" bytes as pg_size_pretty() shows them */
static char *
pretty_size(int64 n)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(n))));
}

/* the table's schema-qualified, quoted name, as migrate.backup.object keeps it */
static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * The size guard: refuse before copying anything when the tables the
 * statement destroys hold more than migrate.backup_max_bytes.  A column
 * backup copies less than its table, but the table's size is what is
 * known before reading it: the guard counts that, so it errs on the safe
 * side.
 */
static void
check_size(List *items, const MigrateRunState *state)
{
	int64		total = 0;
	int64		limit;
	BackupItem *first = linitial(items);
	const char *environment;
	char	   *table;
	char	   *more;
	char	   *total_pretty;
	char	   *limit_pretty;
	ListCell   *lc;

	if (migrate_backup_max_kb < 0)
		return;
	foreach(lc, items)
		total += table_bytes(((BackupItem *) lfirst(lc))->relid);
	limit = (int64) migrate_backup_max_kb * 1024;
	if (total <= limit)
		return;

	/* everything the message says, looked up before it is raised */
	environment = migrate_environment_current()->name;
	table = get_rel_name(first->relid);
	more = list_length(items) > 1 ? psprintf(" and %d more", list_length(items) - 1) : "";
	total_pretty = pretty_size(total);
	limit_pretty = pretty_size(limit);
	ereport(ERROR,
			(errcode(ERRCODE_MIGRATE_BACKUP_TOO_LARGE),
			 errmsg("backup before %s of table \"%s\"%s would copy %s, more than migrate.backup_max_bytes (%s)",
					first->what, table, more, total_pretty, limit_pretty),
			 errdetail("Statement %d of migration \"%s\" destroys data that the environment \"%s\" backs up first; the %s " INT64_FORMAT " bytes, the limit is " INT64_FORMAT " bytes.",
					   state->statement->number, state->current->version,
					   environment ? environment : "",
					   list_length(items) > 1 ? "tables hold" : "table holds", total, limit),
			 errhint("Raise migrate.backup_max_bytes above %s for the call, or pass skip_backup => true to run it without a backup.",
					 total_pretty)));
}

/* whether "name" is free in migrate_backup: no relation, no type */
static bool
backup_name_free(const char *name)
{
	Oid			schema = get_namespace_oid(MIGRATE_BACKUP_SCHEMA, false);

	return !OidIsValid(get_relname_relid(name, schema)) &&
		!OidIsValid(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
									ObjectIdGetDatum(schema)));
}

/*
 * The name of backup "id" of the table: "<id>_<table>", cut to fit a
 * name; when something else took it (only the extension's owner can
 * create in migrate_backup, but a restored dump or an owner's mistake
 * may have), "<id>_<n>_<table>" with the first n that is free.
 */
static char *
backup_table_name(int64 id, Oid relid)
{
	for (int n = 0;; n++)
	{
		char	   *name = n == 0 ?
			psprintf(INT64_FORMAT "_%s", id, get_rel_name(relid)) :
			psprintf(INT64_FORMAT "_%d_%s", id, n, get_rel_name(relid));

		name[pg_mbcliplen(name, strlen(name), NAMEDATALEN - 1)] = '\0';
		if (backup_name_free(name))
			return name;
		if (n >= 100)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("no free name for backup " INT64_FORMAT " of table \"%s\" in schema %s",
							id, get_rel_name(relid), MIGRATE_BACKUP_SCHEMA),
					 errdetail("Relations or types named \"%s\" and 100 variants exist already.",
							   name),
					 errhint("Drop what does not belong in schema %s, as the extension's owner.",
							 MIGRATE_BACKUP_SCHEMA)));
	}
}

/* a comma-separated list of the quoted names */
static char *
column_list(List *names)
{
	StringInfoData list;
	ListCell   *lc;

	initStringInfo(&list);
	foreach(lc, names)
		appendStringInfo(&list, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	return list.data;
}

/* the names of every column of the table, in order */
static List *
all_columns(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);	/* locked by the caller */
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *names = NIL;

	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			names = lappend(names, pstrdup(NameStr(TupleDescAttr(desc, i)->attname)));
	table_close(rel, NoLock);
	return names;
}

/*
 * The type a backup column keeps a value of "typid" (typmod "*typmod")
 * as: a built-in type as it is, a domain as its base type, and a type of
 * the database's own (an enum, a composite or range type, an extension's
 * type, an array of one) as its text.  A backup table then depends on no
 * user type: DROP TYPE (even a later one of the same migration) is never
 * blocked by a backup, DROP TYPE ... CASCADE drops no backup column, and
 * no domain check (user code) runs when the copy is made.
 * restore_backup() casts the text back to the column's type.
 */
static Oid
backup_column_type(Oid typid, int32 *typmod)
{
	Oid			base = getBaseTypeAndTypmod(typid, typmod);

	if (base >= FirstNormalObjectId)
	{
		*typmod = -1;
		return TEXTOID;
	}
	return base;
}

/*
 * The column definitions of the backup table: each of "names" with the
 * type backup_column_type() picks and the source column's collation, and
 * nothing else (no default, no constraint: creating it runs no user
 * code).
 */
static char *
column_definitions(Oid relid, List *names)
{
	StringInfoData defs;
	ListCell   *lc;

	initStringInfo(&defs);
	foreach(lc, names)
	{
		HeapTuple	tuple = SearchSysCacheAttName(relid, lfirst(lc));
		Form_pg_attribute att;
		Oid			type;
		int32		typmod;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "column \"%s\" of relation %u vanished", (char *) lfirst(lc), relid);
		att = (Form_pg_attribute) GETSTRUCT(tuple);
		typmod = att->atttypmod;
		type = backup_column_type(att->atttypid, &typmod);
		appendStringInfo(&defs, "%s%s %s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)),
						 format_type_extended(type, typmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
		if (OidIsValid(att->attcollation) && type_is_collatable(type) &&
			att->attcollation != get_typcollation(type))
			appendStringInfo(&defs, " COLLATE %s", generate_collation_name(att->attcollation));
		ReleaseSysCache(tuple);
	}
	return defs.data;
}

/* whether a name of "a" is in "b" (both lists of C strings) */
static bool
names_overlap(List *a, List *b)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, a)
		foreach(lc2, b)
			if (strcmp(lfirst(lc), lfirst(lc2)) == 0)
				return true;
	return false;
}

/* the row of migrate.backup describing "item" before the current statement */
static MigrateBackupRow
describe(const MigrateRunState *state, const BackupItem *item)
{
	MigrateBackupRow row = {0};

	row.version = state->current->version;
	row.direction = state->direction == DIRECTION_UP ? "up" : "down";
	row.statement = state->statement->number;
	row.kind = item->what;
	row.object = qualified_name(item->relid);
	row.columns = item->columns;
	row.rows = -1;
	row.bytes = -1;
	return row;
}

/*
 * Copy one table (or its key and affected columns) into a new backup
 * table, and record it.  The extension's owner creates the empty table
 * (from the catalog: no user code runs); the running role is lent USAGE
 * on migrate_backup and INSERT on that one table for the INSERT ...
 * SELECT, which reads with its rights, and never CREATE on the schema:
 * code of its own that the copy runs (a domain's check, a function a
 * column's type calls) can create nothing there.
 */
static void
copy_item(const MigrateRunState *state, const BackupItem *item)
{
	MigrateBackupRow row = describe(state, item);
	List	   *names = NIL;
	char	   *backup;
	char	   *object;
	bool		lent_schema;
	bool		lent;
	uint64		rows;
	ListCell   *lc;

	if (item->columns != NIL)
	{
		row.key_columns = key_columns(item->relid);

		/*
		 * A statement that changes a key column itself leaves nothing to
		 * match rows back by: whole rows, restored by hand
		 * (restore_backup() refuses).
		 */
		row.key_changed = names_overlap(row.key_columns, item->columns);
		/* without a key, whole rows: nothing is lost, a restore is by hand */
		if (row.key_columns != NIL && !row.key_changed)
		{
			foreach(lc, row.key_columns)
				names = add_name(names, lfirst(lc));
			foreach(lc, item->columns)
				names = add_name(names, lfirst(lc));
		}
	}
	if (names == NIL)
		names = all_columns(item->relid);
	row.id = migrate_backup_next_id();
	row.backup_table = backup_table_name(row.id, item->relid);
	backup = quote_qualified_identifier(MIGRATE_BACKUP_SCHEMA, row.backup_table);

	migrate_spi_run_as_owner(psprintf("CREATE TABLE %s (%s)", backup,
									  column_definitions(item->relid, names)),
							 0, NULL, NULL, NULL, SPI_OK_UTILITY);
	object = psprintf("TABLE %s", backup);
	lent_schema = migrate_backup_grant_to_current_user("USAGE", "SCHEMA " MIGRATE_BACKUP_SCHEMA);
	lent = migrate_backup_grant_to_current_user("INSERT", object);
	migrate_spi_run_pinned(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s%s", backup,
									column_list(names), column_list(names),
									get_rel_relkind(item->relid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
									row.object),
						   0, NULL, NULL, NULL, false, SPI_OK_INSERT);
	rows = SPI_processed;
	if (lent)
		migrate_backup_revoke_from_current_user("INSERT", object);
	if (lent_schema)
		migrate_backup_revoke_from_current_user("USAGE", "SCHEMA " MIGRATE_BACKUP_SCHEMA);
	migrate_backup_take_over(row.backup_table);

	row.rows = (int64) rows;
	row.bytes = table_bytes(get_relname_relid(row.backup_table,
											  get_namespace_oid(MIGRATE_BACKUP_SCHEMA, false)));
	migrate_backup_insert(&row);
	ereport(NOTICE,
			(errmsg("backup %lld: copied " UINT64_FORMAT " rows of table %s before %s",
					(long long) row.id, rows, row.object, item->what)));
}

/* skip_backup => true: record what was not backed up, and say so */
static void
record_skipped(const MigrateRunState *state, const BackupItem *item)
{
	MigrateBackupRow row = describe(state, item);

	row.id = migrate_backup_next_id();
	row.skipped = true;
	row.bytes = table_bytes(item->relid);
	migrate_backup_insert(&row);
	ereport(NOTICE,
			(errmsg("backup %lld skipped: table %s is not copied before %s",
					(long long) row.id, row.object, item->what),
			 errdetail("The call passed skip_backup => true.")));
}

/*
 * Back up what state->statement of state->current is about to destroy,
 * where the environment's strategy is "copy" (see the file header).
 */
void
migrate_backup_before_statement(MigrateRunState *state)
{
	List	   *targets;
	List	   *items = NIL;
	bool		copy;
	bool		pushed_snapshot = false;
	ListCell   *lc;

	if (state->current == NULL || state->statement == NULL)
		return;
	targets = migrate_destructive_targets(state->statement->parsetree);
	if (targets == NIL || !migrate_backup_catalog_exists())
		return;

	/* the worker path's per-statement transaction has neither yet */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed_snapshot = true;
	}
	migrate_xact_spi_connect();

	if (migrate_environment_current()->backup_copy)
	{
		copy = !state->info->skip_backup;
		foreach(lc, targets)
			items = resolve_target(items, lfirst(lc), copy);
		if (items != NIL && copy)
			check_size(items, state);
		foreach(lc, items)
		{
			if (copy)
				copy_item(state, lfirst(lc));
			else
				record_skipped(state, lfirst(lc));
		}
	}

	SPI_finish();
	if (pushed_snapshot)
		PopActiveSnapshot();
}
