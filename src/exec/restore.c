/*-------------------------------------------------------------------------
 *
 * restore.c
 *	  migrate.restore_backup() and migrate.purge_backups(): what becomes of
 *	  a backup made before a destructive statement (exec/backup.c).
 *
 * restore_backup(id) puts a backup's data back into the table of the same
 * name as it exists now (a down script re-creates it, or re-adds the
 * column, then calls it):
 *
 *	 - rows (DROP TABLE, TRUNCATE, DELETE, DROP SCHEMA CASCADE) are
 *	   inserted again, into the columns the backup and the table share
 *	   (generated columns excepted; identity columns keep their values:
 *	   OVERRIDING SYSTEM VALUE).  Sequences are not moved;
 *	 - column values (DROP COLUMN, ALTER COLUMN TYPE, UPDATE) are written
 *	   back with an UPDATE matching rows by the backup's key columns, each
 *	   compared with its type's default equality operator.
 *
 * The writes run as the calling role, SECURITY INVOKER, so they need its
 * INSERT or UPDATE rights, and its row security and triggers apply; the
 * backup table, which only the extension's owner may read, is lent to it
 * for the one statement (store/backup.c).  The caller must also be able to
 * read the columns it restores, so that a restore never shows anybody data
 * they could not read from the table anyway, and have the privileges of
 * the role that made the backup (or be the extension's owner or a
 * superuser), so that another deploy role cannot re-create the table as
 * its own and pour the backup into it.  A backup made before a statement
 * that changed a key column holds whole rows and is refused: matching
 * them by key would write values onto other rows.  A backup is restored once;
 * restored_at and a history row (action "restore") say when and by whom.
 *
 * purge_backups(older_than) drops the backup tables made longer ago than
 * "older_than", by default the environment's backup_retention (no
 * retention: nothing is purged), marks their rows purged and leaves one
 * history row (action "purge").  It is for the extension's owner, or a
 * role it grants EXECUTE to: a deploy role must not be able to destroy
 * the backups of what it just destroyed.
 *
 * IDENTIFICATION
 *	  src/exec/restore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "errors.h"
#include "guc.h"
#include "ipc/xact.h"
#include "model/json.h"
#include "store/backup.h"
#include "store/catalog.h"
#include "store/environment.h"
#include "store/spi.h"

PG_FUNCTION_INFO_V1(migrate_restore_backup);
PG_FUNCTION_INFO_V1(migrate_purge_backups);

/* the backup "id", or an error saying why it cannot be restored */
static MigrateBackupRow *
restorable_backup(int64 id)
{
	MigrateBackupRow *row = migrate_backup_load(id);

	if (row == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("backup %lld does not exist", (long long) id),
				 errhint("migrate.backups lists the backups.")));
	if (row->skipped)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("backup %lld was skipped: there is no copy to restore", (long long) id),
				 errdetail("Migration \"%s\" ran with skip_backup => true before %s of table %s.",
						   row->version, row->kind, row->object)));
	if (row->purged)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("backup %lld was purged", (long long) id),
				 errdetail("migrate.purge_backups() dropped its table.")));
	if (row->restored)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("backup %lld has been restored already", (long long) id),
				 errdetail("Restoring it again would write its data a second time."),
				 errhint("migrate.backups shows when and by whom; pick a backup whose restored_at is null.")));
	return row;
}

/*
 * Only the role that made the backup (a role with its privileges), the
 * extension's owner or a superuser may restore it: a backup holds data
 * its maker could read, and the column checks of check_may_read() alone
 * would let another deploy role re-create the table as its own and pour
 * somebody else's backup into it.
 */
static void
check_may_restore(const MigrateBackupRow *row)
{
	Oid			maker = row->created_by ? get_role_oid(row->created_by, true) : InvalidOid;

	if (superuser() || has_privs_of_role(GetUserId(), migrate_catalog_extension_owner()) ||
		(OidIsValid(maker) && has_privs_of_role(GetUserId(), maker)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to restore backup %lld", (long long) row->id),
			 errdetail("Backup %lld was made by role \"%s\"; only a role with its privileges, the extension's owner or a superuser may restore it.",
					   (long long) row->id, row->created_by ? row->created_by : ""),
			 errhint("Restore it as \"%s\" (SET ROLE), or ask the extension's owner.",
					 row->created_by ? row->created_by : "")));
}

/*
 * A backup made before a statement that changed a key column (UPDATE ...
 * SET id = ..., ALTER COLUMN id TYPE ..., DROP COLUMN id) holds whole
 * rows: matching them by key would write values onto other rows.
 */
static void
refuse_key_changed(const MigrateBackupRow *row)
{
	if (!row->key_changed)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("backup %lld cannot be restored by key: %s changed the key of table %s",
					(long long) row->id, row->kind, row->object),
			 errdetail("The statement changed a column of the key rows are matched by, so the backup holds the whole rows as they were; writing them back by key would put values onto the wrong rows."),
			 errhint("Restore the values by hand from %s.%s, as the extension's owner.",
					 MIGRATE_BACKUP_SCHEMA, quote_identifier(row->backup_table))));
}

/* the table a backup came from, as it exists now, locked for writing */
static Oid
restore_target(const MigrateBackupRow *row)
{
	RangeVar   *rv = makeRangeVarFromNameList(textToQualifiedNameList(cstring_to_text(row->object)));
	Oid			relid = RangeVarGetRelid(rv, RowExclusiveLock, true);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s of backup %lld does not exist", row->object, (long long) row->id),
				 errhint("Create it again (a down script does so before it calls migrate.restore_backup()), then restore.")));
	return relid;
}

/* the attribute of "relid" named "name", or NULL (dropped or missing) */
static Form_pg_attribute
column_of(Oid relid, const char *name, HeapTuple *tuple)
{
	*tuple = SearchSysCacheAttName(relid, name);
	return HeapTupleIsValid(*tuple) ? (Form_pg_attribute) GETSTRUCT(*tuple) : NULL;
}

/*
 * The columns a row backup puts back: those of the backup table that the
 * target has, in the backup's order, but not the target's generated ones.
 */
static List *
shared_columns(Oid backup, Oid target)
{
	List	   *columns = NIL;
	Relation	rel = table_open(backup, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		char	   *name = NameStr(TupleDescAttr(desc, i)->attname);
		HeapTuple	tuple;
		Form_pg_attribute att;

		if (TupleDescAttr(desc, i)->attisdropped)
			continue;
		att = column_of(target, name, &tuple);
		if (att != NULL && att->attgenerated == '\0')
			columns = lappend(columns, pstrdup(name));
		if (att != NULL)
			ReleaseSysCache(tuple);
	}
	table_close(rel, AccessShareLock);
	return columns;
}

/* a comma-separated list of the quoted names, with a prefix before each */
static char *
name_list(List *names, const char *prefix)
{
	StringInfoData list;
	ListCell   *lc;

	initStringInfo(&list);
	foreach(lc, names)
		appendStringInfo(&list, "%s%s%s", foreach_current_index(lc) > 0 ? ", " : "", prefix,
						 quote_identifier(lfirst(lc)));
	return list.data;
}

/*
 * The value of column "name" of the backup (alias "b"), as the target's
 * column takes it: a backup keeps a value of a type of the database's
 * own as text (exec/backup.c), cast back here to the column's type; any
 * other value as it is (an assignment, as before).
 */
static char *
backup_value(Oid backup, Oid target, const char *name)
{
	HeapTuple	tuple;
	Form_pg_attribute att = column_of(target, name, &tuple);
	char	   *value = psprintf("b.%s", quote_identifier(name));
	Oid			typid;

	if (att == NULL)
		return value;
	typid = att->atttypid;
	if (getBaseType(typid) >= FirstNormalObjectId &&
		get_atttype(backup, get_attnum(backup, name)) == TEXTOID)
		value = psprintf("CAST(%s AS %s)", value,
						 format_type_extended(typid, att->atttypmod,
											  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY));
	ReleaseSysCache(tuple);
	return value;
}

/* the backup's values of "names", as backup_value() gives them, comma-separated */
static char *
value_list(Oid backup, Oid target, List *names)
{
	StringInfoData list;
	ListCell   *lc;

	initStringInfo(&list);
	foreach(lc, names)
		appendStringInfo(&list, "%s%s", foreach_current_index(lc) > 0 ? ", " : "",
						 backup_value(backup, target, lfirst(lc)));
	return list.data;
}

/* every column of "names" must exist in the target, or the restore cannot */
static void
require_columns(Oid target, List *names, const MigrateBackupRow *row)
{
	ListCell   *lc;

	foreach(lc, names)
		if (get_attnum(target, lfirst(lc)) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of table %s does not exist", (char *) lfirst(lc),
							row->object),
					 errdetail("Backup %lld writes the values of %s back into rows matched by %s.",
							   (long long) row->id, name_list(row->columns, ""),
							   name_list(row->key_columns, "")),
					 errhint("Add the column again (the down script does, before it calls migrate.restore_backup()), then restore.")));
}

/*
 * The caller must be able to read every column it restores (and the key
 * it matches by): a restore must show nobody data they could not read
 * from the table.
 */
static void
check_may_read(Oid target, List *names, const MigrateBackupRow *row)
{
	ListCell   *lc;

	if (pg_class_aclcheck(target, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
		return;
	foreach(lc, names)
	{
		AttrNumber	attnum = get_attnum(target, lfirst(lc));

		if (attnum <= 0 ||
			pg_attribute_aclcheck(target, attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to restore backup %lld into table %s",
							(long long) row->id, row->object),
					 errdetail("Restoring needs SELECT on every column it writes (here \"%s\"), so that it shows nobody data they could not read from the table.",
							   (char *) lfirst(lc))));
	}
}

/* "OPERATOR(schema.=)": the default equality operator of the column's type */
static char *
equality_operator(Oid relid, const char *column, char **cast_type)
{
	HeapTuple	tuple;
	Form_pg_attribute att = column_of(relid, column, &tuple);
	TypeCacheEntry *type;
	HeapTuple	op;
	char	   *result;

	type = lookup_type_cache(att->atttypid, TYPECACHE_EQ_OPR);
	*cast_type = format_type_extended(att->atttypid, att->atttypmod,
									  FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
	ReleaseSysCache(tuple);
	if (!OidIsValid(type->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify an equality operator for type %s of key column \"%s\"",
						*cast_type, column)));
	op = SearchSysCache1(OPEROID, ObjectIdGetDatum(type->eq_opr));
	result = psprintf("OPERATOR(%s.%s)",
					  quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(op))->oprnamespace)),
					  NameStr(((Form_pg_operator) GETSTRUCT(op))->oprname));
	ReleaseSysCache(op);
	return result;
}

/* the UPDATE that writes a column backup's values back by key */
static char *
update_by_key(Oid target, Oid backup_relid, const MigrateBackupRow *row, const char *backup)
{
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s AS t SET ", row->object);
	foreach(lc, row->columns)
		appendStringInfo(&sql, "%s%s = %s", foreach_current_index(lc) > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)),
						 backup_value(backup_relid, target, lfirst(lc)));
	appendStringInfo(&sql, " FROM %s AS b WHERE ", backup);
	foreach(lc, row->key_columns)
	{
		char	   *cast_type;
		char	   *op = equality_operator(target, lfirst(lc), &cast_type);

		appendStringInfo(&sql, "%st.%s %s CAST(b.%s AS %s)",
						 foreach_current_index(lc) > 0 ? " AND " : "",
						 quote_identifier(lfirst(lc)), op, quote_identifier(lfirst(lc)),
						 cast_type);
	}
	return sql.data;
}

/*
 * The history row of a restore or a purge ("action"): a success by the
 * current user, started at "started", with the detail built so far.
 */
static void
record_event(const char *action, const char *version, MigrateJsonBuilder *detail,
			 TimestampTz started)
{
	MigrateEvent event = {0};

	event.action = action;
	event.version = version;
	event.outcome = "success";
	event.role = migrate_catalog_current_role();
	event.started_at = started;
	event.duration_us = GetCurrentTimestamp() - started;
	event.detail = migrate_json_finish(detail);
	migrate_catalog_insert_event(&event);
}

/* the history row of a restore */
static void
record_restore(const MigrateBackupRow *row, uint64 rows, TimestampTz started)
{
	MigrateJsonBuilder detail = MIGRATE_JSON_BUILDER;

	migrate_json_begin_object(&detail, NULL);
	migrate_json_add_int(&detail, "backup", row->id);
	migrate_json_add_text(&detail, "kind", row->kind);
	migrate_json_add_text(&detail, "object", row->object);
	migrate_json_add_int(&detail, "rows", (int64) rows);
	migrate_json_end(&detail);
	record_event("restore", row->version, &detail, started);
}

/*
 * migrate.restore_backup(id bigint) RETURNS bigint: put backup "id" back
 * (see the file header); returns the rows it inserted or updated.
 */
Datum
migrate_restore_backup(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	TimestampTz started = GetCurrentTimestamp();
	MigrateBackupRow *row;
	Oid			target;
	Oid			backup;
	char	   *backup_name;
	char	   *object;
	List	   *written;
	char	   *sql;
	bool		lent;
	bool		lent_schema;
	uint64		rows;

	migrate_xact_spi_connect();
	row = restorable_backup(id);
	check_may_restore(row);
	refuse_key_changed(row);
	target = restore_target(row);
	backup = get_relname_relid(row->backup_table, get_namespace_oid(MIGRATE_BACKUP_SCHEMA, false));
	if (!OidIsValid(backup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the table of backup %lld is missing", (long long) id),
				 errdetail("Table %s.%s was dropped outside migrate.purge_backups().",
						   MIGRATE_BACKUP_SCHEMA, quote_identifier(row->backup_table))));
	backup_name = quote_qualified_identifier(MIGRATE_BACKUP_SCHEMA, row->backup_table);

	if (row->columns == NIL)
	{
		written = shared_columns(backup, target);
		if (written == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table %s has none of the columns of backup %lld", row->object,
							(long long) id)));
		sql = psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s AS b",
					   row->object, name_list(written, ""), value_list(backup, target, written),
					   backup_name);
	}
	else
	{
		if (row->key_columns == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("backup %lld cannot be restored by key", (long long) id),
					 errdetail("Table %s had no primary key or usable unique index when it was backed up, so the backup holds whole rows.",
							   row->object),
					 errhint("Restore the values by hand from %s, as the extension's owner.",
							 backup_name)));
		written = list_concat(list_copy(row->key_columns), row->columns);
		require_columns(target, written, row);
		sql = update_by_key(target, backup, row, backup_name);
	}
	check_may_read(target, written, row);

	/* the one backup table, lent for the one statement */
	object = psprintf("TABLE %s", backup_name);
	lent_schema = migrate_backup_grant_to_current_user("USAGE", "SCHEMA " MIGRATE_BACKUP_SCHEMA);
	lent = migrate_backup_grant_to_current_user("SELECT", object);
	migrate_spi_run_pinned(sql, 0, NULL, NULL, NULL, false,
						   row->columns == NIL ? SPI_OK_INSERT : SPI_OK_UPDATE);
	rows = SPI_processed;
	if (lent)
		migrate_backup_revoke_from_current_user("SELECT", object);
	if (lent_schema)
		migrate_backup_revoke_from_current_user("USAGE", "SCHEMA " MIGRATE_BACKUP_SCHEMA);

	migrate_backup_mark_restored(id);
	record_restore(row, rows, started);
	if (row->columns != NIL && row->rows >= 0 && rows < (uint64) row->rows)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%lld of the " INT64_FORMAT " rows of backup %lld matched no row of table %s",
						(long long) (row->rows - rows), row->rows, (long long) id, row->object),
				 errdetail("Their values of %s were not written back.", name_list(row->columns, ""))));
	SPI_finish();
	PG_RETURN_INT64((int64) rows);
}

/*
 * The retention purge_backups() applies by default: the environment's
 * backup_retention; false when there is none (no environment, or none
 * set), and nothing is to be purged.
 */
static bool
environment_retention(Datum *retention)
{
	const MigrateEnvironment *env = migrate_environment_current();	/* MG016 */
	Oid			schema = get_namespace_oid("migrate", false);
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull = true;

	if (env->name == NULL || !OidIsValid(get_relname_relid("environment_setting", schema)))
	{
		ereport(NOTICE,
				(errmsg("nothing purged: no environment is set and no older_than was given"),
				 errhint("Pass older_than, or set migrate.environment.")));
		return false;
	}
	values[0] = CStringGetTextDatum(env->name);
	migrate_spi_run_as_owner("SELECT s.backup_retention FROM migrate.environment_setting s"
							 " WHERE s.environment OPERATOR(pg_catalog.=) $1",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
		*retention = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
	{
		ereport(NOTICE,
				(errmsg("nothing purged: environment \"%s\" keeps backups until they are purged by age",
						env->name),
				 errhint("Pass older_than, or set its retention with migrate.configure('%s', backup_retention => ...).",
						 env->name)));
		return false;
	}
	*retention = PointerGetDatum(DatumGetIntervalP(*retention));
	return true;
}

/* the history row of a purge */
static void
record_purge(List *purged, Datum older_than, TimestampTz started)
{
	MigrateJsonBuilder detail = MIGRATE_JSON_BUILDER;
	ListCell   *lc;

	migrate_json_begin_object(&detail, NULL);
	migrate_json_add_text(&detail, "older_than",
						  DatumGetCString(DirectFunctionCall1(interval_out, older_than)));
	migrate_json_begin_array(&detail, "backups");
	foreach(lc, purged)
		migrate_json_add_int(&detail, NULL, ((MigrateBackupRow *) lfirst(lc))->id);
	migrate_json_end(&detail);
	migrate_json_end(&detail);
	record_event("purge", NULL, &detail, started);
}

/*
 * migrate.purge_backups(older_than interval DEFAULT NULL) RETURNS integer:
 * drop the backups made longer ago than "older_than" (see the file
 * header); returns how many.
 */
Datum
migrate_purge_backups(PG_FUNCTION_ARGS)
{
	TimestampTz started = GetCurrentTimestamp();
	Datum		older_than = (Datum) 0;
	List	   *expired;
	ListCell   *lc;

	migrate_xact_spi_connect();
	if (!PG_ARGISNULL(0))
		older_than = PG_GETARG_DATUM(0);
	else if (!environment_retention(&older_than))
	{
		SPI_finish();
		PG_RETURN_INT32(0);
	}
	if (DatumGetBool(DirectFunctionCall2(interval_lt, older_than,
										 DirectFunctionCall3(interval_in, CStringGetDatum("0"),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));

	expired = migrate_backup_expired(older_than);
	foreach(lc, expired)
	{
		MigrateBackupRow *row = lfirst(lc);

		if (row->backup_table != NULL)
			migrate_backup_drop_table(row->backup_table);
		migrate_backup_mark_purged(row->id);
	}
	if (expired != NIL)
		record_purge(expired, older_than, started);
	SPI_finish();
	PG_RETURN_INT32(list_length(expired));
}
