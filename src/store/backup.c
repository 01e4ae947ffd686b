/*-------------------------------------------------------------------------
 *
 * backup.c
 *	  The rows of migrate.backup and the backup tables' ownership.
 *
 * Who owns what (doc/migrate.md, "Backups before destructive changes"):
 * migrate.backup and the schema migrate_backup belong to the extension's
 * owner, and so does every backup table: the owner creates it empty.  The
 * copy itself reads the table with the rights of the role running the
 * migration (exec/backup.c): that role is lent USAGE on migrate_backup and
 * INSERT on the one backup table for the INSERT ... SELECT, inside the
 * migration's transaction (never CREATE on the schema: nothing it runs
 * may create objects there), and every grant on the table is then revoked
 * (the owner's default privileges may have added some), so that nobody
 * but the owner (and superusers) can read a backup.  A restore lends SELECT on the
 * one backup table to the restoring role the same way (exec/restore.c).
 * A loan and its return happen in the same transaction, with no user code
 * between them but what the copy or restore runs itself, so no other
 * session ever sees the grant.
 *
 * Every query runs with search_path pinned (store/spi.c); names are
 * quoted with quote_identifier().
 *
 * IDENTIFICATION
 *	  src/store/backup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "store/backup.h"
#include "store/catalog.h"
#include "store/spi.h"

/*
 * Whether the installed SQL has backups (1.1 with migrate.backup and the
 * schema migrate_backup): the library also runs on 1.0's SQL, where
 * nothing is backed up.
 */
bool
migrate_backup_catalog_exists(void)
{
	Oid			schema = get_namespace_oid("migrate", true);

	return OidIsValid(schema) && OidIsValid(get_relname_relid("backup", schema)) &&
		OidIsValid(get_namespace_oid(MIGRATE_BACKUP_SCHEMA, true));
}

/* the next backup id (migrate.backup_id_seq) */
int64
migrate_backup_next_id(void)
{
	bool		isnull;
	int64		id;

	migrate_spi_run_as_owner("SELECT pg_catalog.nextval('migrate.backup_id_seq')",
							 0, NULL, NULL, NULL, SPI_OK_SELECT);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return id;
}

/* a text[] of the strings of "list", or a null Datum (nulls[i] = 'n') for NIL */
static void
set_text_array_arg(Datum *values, char *nulls, int i, List *list)
{
	Datum	   *elems;
	ListCell   *lc;

	if (list == NIL)
	{
		values[i] = (Datum) 0;
		nulls[i] = 'n';
		return;
	}
	elems = palloc(sizeof(Datum) * list_length(list));
	foreach(lc, list)
		elems[foreach_current_index(lc)] = CStringGetTextDatum((char *) lfirst(lc));
	values[i] = PointerGetDatum(construct_array(elems, list_length(list), TEXTOID, -1, false,
												TYPALIGN_INT));
	nulls[i] = ' ';
}

/* the strings of a text[] column of the current SPI row; NIL when NULL */
static List *
text_array_column(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	List	   *list = NIL;

	if (isnull)
		return NIL;
	deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elem_nulls, &n);
	for (int i = 0; i < n; i++)
		if (!elem_nulls[i])
			list = lappend(list, TextDatumGetCString(elems[i]));
	return list;
}

/* record a backup (or a skipped one); created_by is the current user */
void
migrate_backup_insert(const MigrateBackupRow *row)
{
	Oid			argtypes[14] = {INT8OID, TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTOID, INT8OID, INT8OID, BOOLOID, NAMEOID, BOOLOID};
	Datum		values[14];
	char		nulls[14];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(row->id);
	migrate_catalog_set_text_arg(values, nulls, 1, row->version);
	migrate_catalog_set_text_arg(values, nulls, 2, row->direction);
	values[3] = Int32GetDatum(row->statement);
	migrate_catalog_set_text_arg(values, nulls, 4, row->kind);
	migrate_catalog_set_text_arg(values, nulls, 5, row->object);
	set_text_array_arg(values, nulls, 6, row->columns);
	set_text_array_arg(values, nulls, 7, row->key_columns);
	migrate_catalog_set_text_arg(values, nulls, 8, row->backup_table);
	values[9] = Int64GetDatum(row->rows);
	nulls[9] = row->rows < 0 ? 'n' : ' ';
	values[10] = Int64GetDatum(row->bytes);
	nulls[10] = row->bytes < 0 ? 'n' : ' ';
	values[11] = BoolGetDatum(row->skipped);
	values[12] = DirectFunctionCall1(namein, CStringGetDatum(migrate_catalog_current_role()));
	values[13] = BoolGetDatum(row->key_changed);
	migrate_spi_run_as_owner("INSERT INTO migrate.backup (id, version, direction, statement, kind,"
							 " object, columns, key_columns, backup_table, rows, bytes, skipped,"
							 " created_by, key_changed)"
							 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
							 " $14)",
							 14, argtypes, values, nulls, SPI_OK_INSERT);
}

/* text column "column" of the SPI row, or NULL */
static char *
text_column(HeapTuple tuple, TupleDesc desc, int column)
{
	return SPI_getvalue(tuple, desc, column);
}

/*
 * The backup "id", its row locked (FOR UPDATE: two restores of one backup
 * queue, and the second sees it restored); NULL when there is none.
 */
MigrateBackupRow *
migrate_backup_load(int64 id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	MigrateBackupRow *row;
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	Datum		value;

	migrate_spi_run_as_owner("SELECT b.version, b.direction, b.statement, b.kind, b.object,"
							 " b.columns, b.key_columns, b.backup_table, b.rows, b.bytes,"
							 " b.skipped, b.restored_at IS NOT NULL, b.purged_at IS NOT NULL,"
							 " b.key_changed, b.created_by"
							 " FROM migrate.backup b WHERE b.id OPERATOR(pg_catalog.=) $1"
							 " FOR UPDATE",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	row = palloc0(sizeof(MigrateBackupRow));
	row->id = id;
	row->version = text_column(tuple, desc, 1);
	row->direction = text_column(tuple, desc, 2);
	row->statement = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
	row->kind = text_column(tuple, desc, 4);
	row->object = text_column(tuple, desc, 5);
	row->columns = text_array_column(tuple, desc, 6);
	row->key_columns = text_array_column(tuple, desc, 7);
	row->backup_table = text_column(tuple, desc, 8);
	value = SPI_getbinval(tuple, desc, 9, &isnull);
	row->rows = isnull ? -1 : DatumGetInt64(value);
	value = SPI_getbinval(tuple, desc, 10, &isnull);
	row->bytes = isnull ? -1 : DatumGetInt64(value);
	row->skipped = DatumGetBool(SPI_getbinval(tuple, desc, 11, &isnull));
	row->restored = DatumGetBool(SPI_getbinval(tuple, desc, 12, &isnull));
	row->purged = DatumGetBool(SPI_getbinval(tuple, desc, 13, &isnull));
	row->key_changed = DatumGetBool(SPI_getbinval(tuple, desc, 14, &isnull));
	row->created_by = text_column(tuple, desc, 15);
	SPI_freetuptable(SPI_tuptable);
	return row;
}

/* the backup was put back, by the current user, now */
void
migrate_backup_mark_restored(int64 id)
{
	Oid			argtypes[2] = {INT8OID, NAMEOID};
	Datum		values[2];

	values[0] = Int64GetDatum(id);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(migrate_catalog_current_role()));
	migrate_spi_run_as_owner("UPDATE migrate.backup SET restored_at = pg_catalog.now(),"
							 " restored_by = $2 WHERE id OPERATOR(pg_catalog.=) $1",
							 2, argtypes, values, NULL, SPI_OK_UPDATE);
}

/*
 * The backups not purged yet that were made longer ago than "older_than"
 * (an interval Datum), oldest first, their rows locked: each a
 * MigrateBackupRow with id and backup_table only.
 */
List *
migrate_backup_expired(Datum older_than)
{
	Oid			argtypes[1] = {INTERVALOID};
	Datum		values[1] = {older_than};
	List	   *expired = NIL;

	migrate_spi_run_as_owner("SELECT b.id, b.backup_table FROM migrate.backup b"
							 " WHERE b.purged_at IS NULL"
							 " AND b.created_at OPERATOR(pg_catalog.<=)"
							 " (pg_catalog.now() OPERATOR(pg_catalog.-) $1)"
							 " ORDER BY b.id FOR UPDATE",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MigrateBackupRow *row = palloc0(sizeof(MigrateBackupRow));
		bool		isnull;

		row->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1,
											  &isnull));
		row->backup_table = text_column(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		expired = lappend(expired, row);
	}
	SPI_freetuptable(SPI_tuptable);
	return expired;
}

/* the backup's table is gone: purged by the current user, now */
void
migrate_backup_mark_purged(int64 id)
{
	Oid			argtypes[2] = {INT8OID, NAMEOID};
	Datum		values[2];

	values[0] = Int64GetDatum(id);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(migrate_catalog_current_role()));
	migrate_spi_run_as_owner("UPDATE migrate.backup SET purged_at = pg_catalog.now(),"
							 " purged_by = $2 WHERE id OPERATOR(pg_catalog.=) $1",
							 2, argtypes, values, NULL, SPI_OK_UPDATE);
}

/* run one utility statement as the extension owner */
static void
run_utility_as_owner(const char *sql)
{
	migrate_spi_run_as_owner(sql, 0, NULL, NULL, NULL, SPI_OK_UTILITY);
}

/*
 * Lend "privilege" on "object" (SQL: "SCHEMA migrate_backup", "TABLE
 * migrate_backup.x") to the current user, unless it has it already (a
 * superuser, the owner): returns whether it lent it, in which case the
 * caller returns it in the same transaction
 * (migrate_backup_revoke_from_current_user).
 */
bool
migrate_backup_grant_to_current_user(const char *privilege, const char *object)
{
	const char *check = strncmp(object, "SCHEMA ", 7) == 0 ?
		"SELECT pg_catalog.has_schema_privilege($1, $2)" :
		"SELECT pg_catalog.has_table_privilege($1, $2)";
	const char *name = strchr(object, ' ') + 1;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(name), CStringGetTextDatum(privilege)};
	bool		isnull;
	bool		has;

	migrate_spi_run_pinned(check, 2, argtypes, values, NULL, true, SPI_OK_SELECT);
	has = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	if (has)
		return false;
	run_utility_as_owner(psprintf("GRANT %s ON %s TO %s", privilege, object,
								  quote_identifier(migrate_catalog_current_role())));
	return true;
}

/* return what migrate_backup_grant_to_current_user() lent */
void
migrate_backup_revoke_from_current_user(const char *privilege, const char *object)
{
	run_utility_as_owner(psprintf("REVOKE %s ON %s FROM %s", privilege, object,
								  quote_identifier(migrate_catalog_current_role())));
}

/*
 * Make the backup table "table" (in migrate_backup, unquoted) the
 * extension owner's alone: give it to the owner and revoke every grant on
 * it, including those the creating role's default privileges added.
 */
void
migrate_backup_take_over(const char *table)
{
	char	   *qualified = quote_qualified_identifier(MIGRATE_BACKUP_SCHEMA, table);
	Oid			owner = migrate_catalog_extension_owner();
	Oid			relid = get_relname_relid(table, get_namespace_oid(MIGRATE_BACKUP_SCHEMA, false));
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	List	   *grantees = NIL;
	ListCell   *lc;

	if (get_rel_relkind(relid) == '\0')
		elog(ERROR, "backup table %s vanished", qualified);
	run_utility_as_owner(psprintf("ALTER TABLE %s OWNER TO %s", qualified,
								  quote_identifier(GetUserNameFromId(owner, false))));
	migrate_spi_run_as_owner("SELECT DISTINCT a.grantee FROM pg_catalog.pg_class c,"
							 " pg_catalog.aclexplode(c.relacl) a"
							 " WHERE c.oid OPERATOR(pg_catalog.=) $1"
							 " AND a.grantee OPERATOR(pg_catalog.<>) c.relowner",
							 1, argtypes, values, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			grantee = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 1, &isnull));

		grantees = lappend_oid(grantees, grantee);
	}
	SPI_freetuptable(SPI_tuptable);
	foreach(lc, grantees)
	{
		Oid			grantee = lfirst_oid(lc);

		run_utility_as_owner(psprintf("REVOKE ALL ON TABLE %s FROM %s", qualified,
									  OidIsValid(grantee) ?
									  quote_identifier(GetUserNameFromId(grantee, false)) :
									  "PUBLIC"));
	}
}

/* drop the backup table "table" (in migrate_backup, unquoted), if it is there */
void
migrate_backup_drop_table(const char *table)
{
	run_utility_as_owner(psprintf("DROP TABLE IF EXISTS %s",
								  quote_qualified_identifier(MIGRATE_BACKUP_SCHEMA, table)));
}
