/*-------------------------------------------------------------------------
 *
 * sync.c
 *		Registered state, incremental batched registration, and up.
 *
 * "up" reads the migrations directory, fetches what the extension has
 * registered in one query, and sends only the files that register() would
 * not call "unchanged": new files, and files whose name, up or down
 * checksum or verify script differ from the registered ones (or whose
 * migration has a precondition, which register() would remove).  Those go
 * to the server in one transaction, pipelined (libpq pipeline mode): one
 * round trip per REGISTER_BATCH files, never one per file, so a deploy of
 * 10,000 unchanged files costs one query.  Any error rolls the whole
 * transaction back, so a bad file registers nothing.
 *
 * Then "up" calls migrate.apply().  A plan of more than --batch migrations
 * is applied in chunks, one transaction each, through
 * migrate.batch_target(), so that a long history deploys within the
 * server's lock table (max_locks_per_transaction).  Which migrations run,
 * and in which order, is decided by the extension alone.
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#include "pg_migrate.h"

#include "fe_utils/string_utils.h"

#include "portability/instr_time.h"
#include "pqexpbuffer.h"

/*
 * Files sent per pipeline sync: one round trip each.  Writing a whole
 * batch before reading its replies cannot deadlock: while libpq waits to
 * write, it reads what the server sends (pqSendSome), and the replies are
 * a short row per file anyway.  The batch bounds what the client holds of
 * the replies and what an error makes the server skip.
 */
#define REGISTER_BATCH			500

/*
 * Migrations applied per transaction by default.  Each one-table migration
 * takes a few locks that are held to commit; 1000 of them fit in the lock
 * table of a default cluster (max_locks_per_transaction = 64, 100
 * connections: 6400 slots, shared) with room to spare.
 */
#define DEFAULT_APPLY_BATCH		1000

/* the columns of apply()'s result that "up" shows */
#define APPLY_COLUMNS	"version, name, action, state, duration"
#define NAPPLY_COLUMNS	5

/*
 * One query, one scan: every registered migration with what register()
 * compares.  The client puts them in version order itself (ORDER BY
 * version_key sorted them on the server, which took longer than the scan
 * at 10,000 migrations).  "changed" is migrate.status.changed, spelled out
 * as the view defines it (joining the view doubled the query's time at
 * 10,000 migrations).  The verify script is hashed on the server, and
 * only its checksum travels.
 */
static const char *const fetch_sql =
"SELECT m.version, m.name, m.state, m.checksum, m.down_checksum,\n"
"       m.applied_checksum IS NOT NULL\n"
"         AND NOT (m.applied_checksum OPERATOR(pg_catalog.=) m.checksum\n"
"                  AND m.applied_down_checksum IS NOT DISTINCT FROM m.down_checksum)\n"
"         AS changed,\n"
"       m.applied_at,\n"
"       migrate.checksum(m.verify_script) AS verify_checksum,\n"
"       m.precondition_script IS NOT NULL\n"
"         OR m.precondition_mode OPERATOR(pg_catalog.<>) 'fail'\n"
"         AS has_precondition,\n"
"       m.repeatable\n"
"  FROM migrate.migration AS m";

static const char *const register_sql =
"SELECT migrate.register($1, $2, $3, $4, $5)";

/* ----------------------------------------------------------------
 * Registered state
 * ----------------------------------------------------------------
 */

static char *
value_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
		pg_strdup(PQgetvalue(res, row, col));
}

static int
compare_by_version(const void *a, const void *b)
{
	const RegisteredMigration *x = *(RegisteredMigration *const *) a;
	const RegisteredMigration *y = *(RegisteredMigration *const *) b;

	return strcmp(x->version, y->version);
}

static int
compare_in_version_order(const void *a, const void *b)
{
	return version_compare(((const RegisteredMigration *) a)->version,
						   ((const RegisteredMigration *) b)->version);
}

/*
 * The registry query is sent first and its rows read later, so that the
 * server works on it while the client reads the migrations directory.
 */
bool
send_fetch_registered(PGconn *conn)
{
	out_verbose("query: %s", fetch_sql);
	if (PQsendQueryParams(conn, fetch_sql, 0, NULL, NULL, NULL, NULL, 0) != 1)
	{
		out_error("could not read the registered migrations: %s",
				  PQerrorMessage(conn));
		return false;
	}
	return true;
}

/* the results of a sent query that is no longer wanted (an error came first) */
void
discard_results(PGconn *conn)
{
	PGresult   *res;

	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
}

bool
finish_fetch_registered(PGconn *conn, RegisteredSet *reg)
{
	PGresult   *res = PQgetResult(conn);

	memset(reg, 0, sizeof(*reg));
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_error("could not read the registered migrations");
		out_pg_error(conn, res);
		PQclear(res);
		discard_results(conn);
		return false;
	}
	discard_results(conn);

	reg->nitems = PQntuples(res);
	reg->items = pg_malloc0(sizeof(RegisteredMigration) * Max(reg->nitems, 1));
	reg->by_version = pg_malloc(sizeof(RegisteredMigration *) *
								Max(reg->nitems, 1));
	for (int i = 0; i < reg->nitems; i++)
	{
		RegisteredMigration *r = &reg->items[i];

		r->version = value_or_null(res, i, 0);
		r->name = value_or_null(res, i, 1);
		r->state = value_or_null(res, i, 2);
		r->checksum = value_or_null(res, i, 3);
		r->down_checksum = value_or_null(res, i, 4);
		r->changed = strcmp(PQgetvalue(res, i, 5), "t") == 0;
		r->applied_at = value_or_null(res, i, 6);
		r->verify_checksum = value_or_null(res, i, 7);
		r->has_precondition = strcmp(PQgetvalue(res, i, 8), "t") == 0;
		r->repeatable = strcmp(PQgetvalue(res, i, 9), "t") == 0;
	}
	PQclear(res);

	/* the server's version order (version_key), as version_compare() has it */
	qsort(reg->items, reg->nitems, sizeof(RegisteredMigration),
		  compare_in_version_order);
	for (int i = 0; i < reg->nitems; i++)
		reg->by_version[i] = &reg->items[i];
	qsort(reg->by_version, reg->nitems, sizeof(RegisteredMigration *),
		  compare_by_version);
	return true;
}

bool
fetch_registered(PGconn *conn, RegisteredSet *reg)
{
	return send_fetch_registered(conn) && finish_fetch_registered(conn, reg);
}

/*
 * The registry's stamp (see cache.c, "Databases found in sync"): which
 * database, since when the server runs, the extension's version, and the
 * count and a sum of 64-bit hashes of every row version of
 * migrate.migration.  A row inserted, updated or deleted changes the
 * stamp: its new version has a new (ctid, xmin), and a slot freed by
 * VACUUM is reused only by a row of another transaction.  Only system
 * columns are read, which is much cheaper than the rows' contents.
 * hashtidextended() exists from PostgreSQL 14 on.
 */
static const char *const stamp_sql =
"SELECT pg_catalog.concat_ws(' ', d.oid, pg_catalog.pg_postmaster_start_time(),\n"
"                            e.extversion, s.n, s.h)\n"
"  FROM pg_catalog.pg_database AS d, pg_catalog.pg_extension AS e,\n"
"       (SELECT pg_catalog.count(*) AS n,\n"
"               pg_catalog.sum(pg_catalog.hashtidextended(m.ctid,\n"
"                   m.xmin::pg_catalog.text::pg_catalog.int8)::pg_catalog.numeric) AS h\n"
"          FROM migrate.migration AS m) AS s\n"
" WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()\n"
"   AND e.extname OPERATOR(pg_catalog.=) 'migrate'";

/* the stamp's answer; NULL (the error printed) when it failed */
static bool
finish_stamp(PGconn *conn, char **stamp)
{
	PGresult   *res = PQgetResult(conn);
	bool		ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;

	*stamp = NULL;
	if (!ok)
	{
		out_error("could not read the registered migrations");
		out_pg_error(conn, res);
	}
	else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*stamp = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	discard_results(conn);
	return ok;
}

/* which database this connection reaches, as the in-sync records name it */
static char *
target_name(PGconn *conn)
{
	return psprintf("host=%s port=%s dbname=%s user=%s", PQhost(conn),
					PQport(conn), PQdb(conn), PQuser(conn));
}

/* every registered migration applied, and every file registered as it is */
static bool
nothing_to_do(const MigrationSet *set, const RegisteredSet *reg)
{
	for (int i = 0; i < reg->nitems; i++)
		if (strcmp(reg->items[i].state, "applied") != 0)
			return false;
	return files_to_send(set, reg) == 0;
}

/*
 * Read the migrations directory while the server answers a query, then
 * the registry.  Scripts come from the checksum cache unless --no-cache; a
 * set from the cache is read again from the files when anything must be
 * sent (the cache never decides what is sent, only that nothing needs to
 * be).
 *
 * With in_sync (up and status with nothing to do), the query sent first
 * is the registry's stamp: when the cache gave the read and this database
 * was found in sync with that very read at the same stamp, *in_sync is
 * set and the registry is not fetched (reg stays empty).  Otherwise the
 * registry is fetched, and a database found in sync is recorded.
 * false after printing why.
 */
bool
read_files_and_registry(PGconn *conn, const ClientOptions *opts, int flags,
						MigrationSet *set, RegisteredSet *reg, bool *in_sync)
{
	char	   *errmsg = NULL;
	bool		use_stamp = in_sync != NULL && !opts->no_cache &&
		PQserverVersion(conn) >= 140000;
	char	   *stamp = NULL;
	char	   *target = NULL;
	bool		sent;

	memset(reg, 0, sizeof(*reg));
	if (in_sync != NULL)
		*in_sync = false;
	if (use_stamp)
	{
		out_verbose("query: %s", stamp_sql);
		sent = PQsendQueryParams(conn, stamp_sql, 0, NULL, NULL, NULL, NULL,
								 0) == 1;
		if (!sent)
			out_error("could not read the registered migrations: %s",
					  PQerrorMessage(conn));
	}
	else
		sent = send_fetch_registered(conn);
	if (!sent)
		return false;

	if (!read_migrations_opts(opts->dir, opts->layout,
							  flags | (opts->no_cache ? 0 : READ_USE_CACHE),
							  set, &errmsg))
	{
		discard_results(conn);
		out_error("%s", errmsg);
		return false;
	}

	if (use_stamp)
	{
		if (!finish_stamp(conn, &stamp))
			return false;
		target = target_name(conn);
		if (cache_sync_matches(set, target, stamp))
		{
			out_verbose("in sync with the checksum cache's read at registry stamp %s: nothing to compare",
						stamp);
			*in_sync = true;
			return true;
		}
		if (!send_fetch_registered(conn))
			return false;
	}
	if (!finish_fetch_registered(conn, reg))
		return false;
	if (set->from_cache && files_to_send(set, reg) > 0 &&
		!reload_migrations(set, &errmsg))
	{
		out_error("%s", errmsg);
		return false;
	}
	/* the stamp was read before the registry: a change between them only
	 * makes the record useless, never wrong */
	if (use_stamp && stamp != NULL && nothing_to_do(set, reg))
		cache_sync_store(set, target, stamp);
	free(stamp);
	free(target);
	return true;
}

RegisteredMigration *
find_registered(const RegisteredSet *reg, const char *version)
{
	RegisteredMigration key;
	RegisteredMigration *keyp = &key;
	RegisteredMigration **found;

	if (reg->nitems == 0)
		return NULL;
	key.version = (char *) version;
	found = bsearch(&keyp, reg->by_version, reg->nitems,
					sizeof(RegisteredMigration *), compare_by_version);
	return found ? *found : NULL;
}

/* with fe_utils' appendPGArray(), the quoting pg_dump uses for arrays */
char *
text_array_literal(const char *const *items, int nitems)
{
	PQExpBufferData array;

	initPQExpBuffer(&array);
	appendPQExpBufferChar(&array, '{');
	for (int i = 0; i < nitems; i++)
		appendPGArray(&array, items[i]);
	appendPQExpBufferChar(&array, '}');
	return array.data;
}

/* ----------------------------------------------------------------
 * Incremental registration
 * ----------------------------------------------------------------
 */

/* NULL and "" (no script) equal each other; otherwise compare the text */
bool
same_checksum(const char *a, const char *b)
{
	if (a == NULL || a[0] == '\0')
		return b == NULL || b[0] == '\0';
	return b != NULL && strcmp(a, b) == 0;
}

/*
 * Would register() say anything but "unchanged" for this file?  It compares
 * the name (another one is an error), the up and down checksums, the
 * verify script and the precondition (the client registers none, so a
 * registered one would be removed).  When in doubt, send: the server
 * decides, and an unchanged file costs it nothing but a lookup.
 */
static bool
file_differs(const MigrationFile *file, const RegisteredMigration *r)
{
	if (r == NULL || r->has_precondition)
		return true;
	return strcmp(file->name, r->name) != 0 ||
		!same_checksum(file->checksum, r->checksum) ||
		!same_checksum(file->down_checksum, r->down_checksum) ||
		!same_checksum(file->verify_checksum, r->verify_checksum);
}

/* how many files register() would not call unchanged */
int
files_to_send(const MigrationSet *set, const RegisteredSet *reg)
{
	int			n = 0;

	for (int i = 0; i < set->nfiles; i++)
		if (file_differs(&set->files[i],
						 find_registered(reg, set->files[i].version)))
			n++;
	return n;
}

/*
 * Did this error end the session rather than come from the query?  An
 * administrator's pg_terminate_backend(), a server shutdown or crash
 * (SQLSTATE 57P01-57P05) or a broken connection (class 08, or libpq's own
 * CONNECTION_BAD) fails whatever query was running: naming the file being
 * registered then would blame an innocent one.  57014 (a statement
 * timeout or a cancel) is the query's own failure and stays blamed on it.
 */
static bool
connection_lost(PGconn *conn, const PGresult *res)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(conn) == CONNECTION_BAD)
		return true;
	return sqlstate != NULL &&
		(strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57P", 3) == 0);
}

/*
 * The server's error for one file, with its DETAIL and HINT, as psql shows
 * them; a lost connection is said as such, naming no file.
 */
static void
report_register_error(PGconn *conn, const MigrationFile *file,
					  const PGresult *res)
{
	if (connection_lost(conn, res))
	{
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		out_error("connection to the server was lost while registering migrations: %s",
				  primary ? primary : PQerrorMessage(conn));
		return;
	}
	/* the server's CONTEXT says which script (up, down, verify) it was */
	if (file->down_path != NULL)
		out_error("could not register version %s (%s, %s)", file->version,
				  file->up_path, file->down_path);
	else
		out_error("could not register version %s (%s)", file->version,
				  file->up_path);
	out_pg_error(NULL, res);
}

/*
 * Next result of a pipelined query, and the NULL that ends it.  NULL when
 * the connection has nothing more to give (it broke).
 */
static PGresult *
next_result(PGconn *conn)
{
	PGresult   *res = PQgetResult(conn);
	PGresult   *extra;

	if (res == NULL || PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		return res;
	while ((extra = PQgetResult(conn)) != NULL)
		PQclear(extra);
	return res;
}

typedef struct RegisterCounts
{
	int			added;			/* "registered" */
	int			updated;		/* "updated", or any other non-unchanged word */
	int			unchanged;
} RegisterCounts;

/*
 * Read the results of one synced batch: BEGIN first if it opened the
 * transaction, one per file, COMMIT last if it closed it, then the sync.
 * Returns false after reporting the first error; the results that follow
 * it (PGRES_PIPELINE_ABORTED) are read and dropped.
 */
static bool
read_batch(PGconn *conn, MigrationFile **files, int nfiles, bool with_begin,
		   bool with_commit, RegisterCounts *counts)
{
	int			nresults = nfiles + (with_begin ? 1 : 0) + (with_commit ? 1 : 0);
	bool		ok = true;
	PGresult   *res;

	for (int i = 0; i < nresults; i++)
	{
		int			file_index = i - (with_begin ? 1 : 0);
		bool		is_file = file_index >= 0 && file_index < nfiles;
		ExecStatusType status;

		res = next_result(conn);
		if (res == NULL)
		{
			/* the connection broke: said once, whatever was read before */
			if (ok && connection_lost(conn, NULL))
				out_error("connection to the server was lost while registering migrations: %s",
						  PQerrorMessage(conn));
			else if (ok)
				out_error("%s", PQerrorMessage(conn));
			return false;
		}
		status = PQresultStatus(res);
		if (status == PGRES_TUPLES_OK && is_file)
		{
			const char *word = PQgetvalue(res, 0, 0);

			if (strcmp(word, "registered") == 0)
				counts->added++;
			else if (strcmp(word, "unchanged") == 0)
				counts->unchanged++;
			else
				counts->updated++;
		}
		else if (status == PGRES_FATAL_ERROR && ok)
		{
			if (is_file)
				report_register_error(conn, files[file_index], res);
			else
				out_pg_error(conn, res);
			ok = false;
		}
		else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
				 status != PGRES_PIPELINE_ABORTED && ok)
		{
			out_pg_error(conn, res);
			ok = false;
		}
		PQclear(res);
	}

	res = PQgetResult(conn);
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
	{
		if (ok)
			out_error("unexpected reply to a batch of registrations: %s",
					  PQerrorMessage(conn));
		ok = false;
	}
	PQclear(res);
	return ok;
}

static bool
send_register(PGconn *conn, const MigrationFile *file)
{
	const char *values[5];

	/* a set from the checksum cache holds no scripts: never send NULL */
	if (file->up == NULL)
		return false;
	values[0] = file->version;
	values[1] = file->name;
	values[2] = file->up;
	values[3] = file->down;
	values[4] = file->verify;
	return PQsendQueryParams(conn, register_sql, 5, NULL, values, NULL, NULL,
							 0) == 1;
}

static bool
send_command(PGconn *conn, const char *sql)
{
	return PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0) == 1;
}

/*
 * Register the given files in one transaction: BEGIN, then batches of
 * register() calls each followed by one pipeline sync, COMMIT in the last
 * batch.  On an error, stop sending, roll back, and return false: nothing
 * is registered.  When the caller has opened a transaction (a dry run),
 * the files are registered in it, and the caller commits or rolls back.
 */
static bool
register_files(PGconn *conn, const ClientOptions *opts, MigrationFile **files,
			   int nfiles, RegisterCounts *counts)
{
	bool		ok = true;
	bool		own_xact = PQtransactionStatus(conn) == PQTRANS_IDLE;

	if (!own_xact && PQtransactionStatus(conn) != PQTRANS_INTRANS)
	{
		out_error("cannot register migrations: the connection's transaction is not usable");
		return false;
	}
	out_verbose("%s -- %d files, %d per round trip, in one transaction",
				register_sql, nfiles, REGISTER_BATCH);
	if (!PQenterPipelineMode(conn))
	{
		out_error("could not enter pipeline mode: %s", PQerrorMessage(conn));
		return false;
	}

	for (int start = 0; ok && start < nfiles; start += REGISTER_BATCH)
	{
		int			n = Min(REGISTER_BATCH, nfiles - start);
		bool		first = start == 0;
		bool		last = start + n == nfiles;

		if (first && own_xact)
			ok = send_command(conn, "BEGIN");
		for (int i = 0; ok && i < n; i++)
			ok = send_register(conn, files[start + i]);
		if (ok && last && own_xact)
			ok = send_command(conn, "COMMIT");
		if (ok)
			ok = PQpipelineSync(conn) == 1;
		if (!ok)
		{
			out_error("could not send migrations: %s", PQerrorMessage(conn));
			break;
		}
		ok = read_batch(conn, files + start, n, first && own_xact,
						last && own_xact, counts);
	}

	if (!PQexitPipelineMode(conn))
	{
		out_error("could not leave pipeline mode: %s", PQerrorMessage(conn));
		ok = false;
	}
	if (!ok)
	{
		/* an error inside the transaction block leaves it aborted */
		if (own_xact &&
			(PQtransactionStatus(conn) == PQTRANS_INERROR ||
			 PQtransactionStatus(conn) == PQTRANS_INTRANS))
			PQclear(exec_params(conn, "ROLLBACK", 0, NULL));
		out_error("nothing was registered (%d new or changed %s rolled back)",
				  nfiles, nfiles == 1 ? "file" : "files");
	}
	return ok;
}

int
sync_files(PGconn *conn, const ClientOptions *opts, const MigrationSet *set,
		   const RegisteredSet *reg)
{
	MigrationFile **todo;
	int			ntodo = 0;
	RegisterCounts counts = {0};
	int			total;

	todo = pg_malloc(sizeof(MigrationFile *) * Max(set->nfiles, 1));
	for (int i = 0; i < set->nfiles; i++)
	{
		MigrationFile *file = &set->files[i];

		if (file_differs(file, find_registered(reg, file->version)))
			todo[ntodo++] = file;
	}

	if (ntodo > 0 && !register_files(conn, opts, todo, ntodo, &counts))
	{
		free(todo);
		return -1;
	}
	free(todo);

	total = counts.added + counts.updated;
	if (total > 0)
	{
		const char *verb = opts->dry_run ? "would register" : "registered";
		const char *noun = total == 1 ? "migration" : "migrations";

		/* the noun counts them all: "1 new and 1 changed migrations" */
		if (counts.updated == 0)
			out_info("%s %d new %s", verb, counts.added, noun);
		else if (counts.added == 0)
			out_info("%s %d changed %s", verb, counts.updated, noun);
		else
			out_info("%s %d new and %d changed %s", verb, counts.added,
					 counts.updated, noun);
	}
	out_json_number("registered", total);
	return total;
}

/* ----------------------------------------------------------------
 * up
 * ----------------------------------------------------------------
 */

/* The rows of all batches, for one table at the end */
typedef struct AppliedRows
{
	char	  **cells;			/* nrows * NAPPLY_COLUMNS */
	int			nrows;
	int			capacity;
} AppliedRows;

static void
collect_rows(AppliedRows *rows, const PGresult *res)
{
	int			n = PQntuples(res);

	if (rows->nrows + n > rows->capacity)
	{
		rows->capacity = Max(rows->capacity * 2, rows->nrows + n);
		rows->cells = pg_realloc(rows->cells, sizeof(char *) *
								 rows->capacity * NAPPLY_COLUMNS);
	}
	for (int r = 0; r < n; r++)
		for (int c = 0; c < NAPPLY_COLUMNS; c++)
			rows->cells[(rows->nrows + r) * NAPPLY_COLUMNS + c] =
				value_or_null(res, r, c);
	rows->nrows += n;
}

static int
count_state(const PGresult *res, const char *state)
{
	int			n = 0;

	for (int r = 0; r < PQntuples(res); r++)
		if (strcmp(PQgetvalue(res, r, 3), state) == 0)
			n++;
	return n;
}

static void
print_applied(const ClientOptions *opts, const AppliedRows *rows)
{
	static const char *const headers[NAPPLY_COLUMNS] =
	{"version", "name", "action", "state", "duration"};

	/* with no rows, apply()'s NOTICE has said "nothing to apply" */
	if ((opts->quiet && !opts->json) || (rows->nrows == 0 && !opts->json))
		return;
	out_rows("migrations", NAPPLY_COLUMNS, headers, rows->nrows, rows->cells);
}

/* apply(target, dry_run) in one call: one transaction unless the plan
 * holds a non-transactional migration */
static int
apply_once(PGconn *conn, const ClientOptions *opts)
{
	const char *params[3] = {opts->to, opts->dry_run ? "true" : "false",
	opts->expect_fingerprint};
	PGresult   *res;
	AppliedRows rows = {0};
	PQExpBufferData sql;

	initPQExpBuffer(&sql);
	appendPQExpBufferStr(&sql, "SELECT " APPLY_COLUMNS " FROM migrate.apply($1, $2");
	append_guard_arguments(&sql, opts, false);
	if (opts->expect_fingerprint)
		appendPQExpBufferStr(&sql, ", expect_fingerprint => $3");
	appendPQExpBufferStr(&sql, ")");
	res = exec_migration_sql(conn, opts, sql.data,
							 opts->expect_fingerprint ? 3 : 2, params);
	termPQExpBuffer(&sql);
	if (res == NULL)
		return EXIT_ERROR;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return EXIT_ERROR;
	}
	collect_rows(&rows, res);
	PQclear(res);
	print_applied(opts, &rows);
	return EXIT_OK;
}

/* how many migrations apply(target) would run: -1 on error */
static int
count_plan(PGconn *conn, const ClientOptions *opts)
{
	const char *params[1] = {opts->to};
	PGresult   *res;
	int			n;

	/* plan() evaluates preconditions: scripts, with the caller's search_path */
	res = exec_migration_sql(conn, opts,
							 "SELECT pg_catalog.count(*) FROM migrate.plan($1)",
							 1, params);
	if (res == NULL)
		return -1;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return -1;
	}
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/*
 * The version that ends the next chunk of at most batch migrations, into
 * *version (NULL when nothing is left).  false on error.
 */
static bool
next_batch_target(PGconn *conn, const ClientOptions *opts, int batch,
				  char **version)
{
	char		batch_text[16];
	const char *params[2] = {opts->to, batch_text};
	PGresult   *res;

	snprintf(batch_text, sizeof(batch_text), "%d", batch);
	/* the plan behind it evaluates preconditions, as plan() does */
	res = exec_migration_sql(conn, opts, "SELECT migrate.batch_target($1, $2)",
							 2, params);
	if (res == NULL)
		return false;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return false;
	}
	*version = PQgetisnull(res, 0, 0) ? NULL : pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/*
 * "batch 2 of 4: migrations 3-4 of 7" before a chunk runs: the server's
 * own progress lines ("applying 1 of 2") count within the chunk, so this
 * says where the chunk stands in the whole deploy.  Another session may
 * apply some of the plan meanwhile: the numbers are what this run expects.
 */
static void
announce_batch(int nbatches, int batch, int napplied, int npending)
{
	int			total_batches = (npending + batch - 1) / batch;
	int			first = napplied + 1;
	int			last = Min(napplied + batch, npending);

	total_batches = Max(total_batches, nbatches + 1);
	if (first >= last)
		out_info("batch %d of %d: migration %d of %d", nbatches + 1,
				 total_batches, first, Max(first, npending));
	else
		out_info("batch %d of %d: migrations %d-%d of %d", nbatches + 1,
				 total_batches, first, last, npending);
}

/*
 * Apply the plan in chunks of at most batch migrations, each committed on
 * its own (autocommit: every call is its own transaction).  A failure
 * stops the loop; what earlier chunks applied stays applied.
 *
 * batch_target() and apply() run in separate transactions, so another
 * session (a second "up") may apply the chunk between the two: apply()
 * then finds nothing up to the target and returns no row.  That is not a
 * chunk whose migrations were skipped (rows, none applied): the loop asks
 * batch_target() again, until it says nothing is left.  A target that
 * comes back after yielding nothing would loop for ever: stop then.
 */
static int
apply_in_batches(PGconn *conn, const ClientOptions *opts, int npending,
				 int batch)
{
	AppliedRows rows = {0};
	int			napplied = 0;
	int			nbatches = 0;
	int			rc = EXIT_OK;
	char	   *empty_target = NULL;	/* last target that applied nothing */

	out_info("applying %d migrations in batches of %d, committing after each",
			 npending, batch);
	for (;;)
	{
		char	   *target;
		const char *params[2];
		PGresult   *res;
		PQExpBufferData sql;
		bool		with_fingerprint;
		int			applied_now;
		instr_time	start;
		instr_time	elapsed;

		if (!next_batch_target(conn, opts, batch, &target))
		{
			rc = EXIT_ERROR;
			break;
		}
		if (target == NULL)
			break;
		if (empty_target != NULL && strcmp(target, empty_target) == 0)
		{
			out_info("nothing left to apply up to version %s", target);
			free(target);
			break;
		}

		announce_batch(nbatches, batch, napplied, npending);
		params[0] = target;
		params[1] = opts->expect_fingerprint;
		initPQExpBuffer(&sql);
		appendPQExpBufferStr(&sql, "SELECT " APPLY_COLUMNS " FROM migrate.apply($1");
		append_guard_arguments(&sql, opts, false);

		/*
		 * The fingerprint is the schema's before the deploy: the first
		 * batch checks it, the later ones run on what the earlier made.
		 */
		with_fingerprint = opts->expect_fingerprint != NULL && nbatches == 0 &&
			empty_target == NULL;
		if (with_fingerprint)
			appendPQExpBufferStr(&sql, ", expect_fingerprint => $2");
		appendPQExpBufferStr(&sql, ")");
		INSTR_TIME_SET_CURRENT(start);
		res = exec_migration_sql(conn, opts, sql.data,
								 with_fingerprint ? 2 : 1, params);
		termPQExpBuffer(&sql);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			if (res != NULL)
				out_pg_error(conn, res);
			PQclear(res);
			out_error("batch %d (up to version %s) failed and was rolled back; "
					  "the %d %s applied by the %d %s before it %s committed",
					  nbatches + 1, target, napplied,
					  napplied == 1 ? "migration" : "migrations", nbatches,
					  nbatches == 1 ? "batch" : "batches",
					  napplied == 1 ? "stays" : "stay");
			free(target);
			rc = EXIT_ERROR;
			break;
		}
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);

		if (PQntuples(res) == 0)
		{
			/* another session applied this chunk first: look again */
			out_info("another session applied the migrations up to version %s; looking for what is left",
					 target);
			PQclear(res);
			free(empty_target);
			empty_target = target;
			continue;
		}
		applied_now = count_state(res, "applied");
		collect_rows(&rows, res);
		PQclear(res);
		nbatches++;
		napplied += applied_now;
		if (opts->verbose || opts->progress)
			out_info("batch %d: applied %d %s up to version %s in %.1f s (%d of %d)",
					 nbatches, applied_now,
					 applied_now == 1 ? "migration" : "migrations", target,
					 INSTR_TIME_GET_DOUBLE(elapsed), napplied, npending);
		free(target);

		/*
		 * A chunk whose migrations were all skipped by their preconditions
		 * would be offered again: stop.
		 */
		if (applied_now == 0)
		{
			out_info("stopped after batch %d: its migrations were all skipped by their preconditions; "
					 "%d of %d applied (a larger --batch gets past them)",
					 nbatches, napplied, npending);
			break;
		}
	}
	free(empty_target);
	print_applied(opts, &rows);
	return rc;
}

/*
 * up --dry-run: register and apply in one transaction, then roll it all
 * back, so that the plan sees the new files and nothing stays, not even
 * their registration.  One transaction, so no batches.
 */
static int
dry_run_up(PGconn *conn, const ClientOptions *opts, const MigrationSet *set,
		   const RegisteredSet *reg)
{
	PGresult   *res;
	int			rc;

	res = exec_params(conn, "BEGIN", 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		out_pg_error(conn, res);
		PQclear(res);
		return EXIT_ERROR;
	}
	PQclear(res);
	if (sync_files(conn, opts, set, reg) < 0)
		rc = EXIT_ERROR;
	else
		rc = apply_once(conn, opts);
	PQclear(exec_params(conn, "ROLLBACK", 0, NULL));
	return rc;
}

/*
 * The tags the files place (Sqitch's "@v1.0" after a change) on the
 * migrations they follow, once those are applied, in one query.  A tag
 * that exists is left as it is: tags do not move.
 */
static const char *const tag_sql =
"SELECT t.name, migrate.tag(t.name, t.version)\n"
"  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]),\n"
"                  pg_catalog.unnest($2::pg_catalog.text[])) AS t(name, version)\n"
" WHERE EXISTS (SELECT FROM migrate.migration AS m\n"
"                WHERE m.version_key OPERATOR(pg_catalog.=)\n"
"                      migrate.version_key(t.version)\n"
"                  AND m.state OPERATOR(pg_catalog.=) 'applied')\n"
"   AND NOT EXISTS (SELECT FROM migrate.tags AS g\n"
"                    WHERE g.tag OPERATOR(pg_catalog.=) t.name)";

static int
place_tags(PGconn *conn, const MigrationSet *set)
{
	const char **names = NULL;
	const char **versions = NULL;
	int			ntags = 0;
	const char *params[2];
	PGresult   *res;
	int			rc = EXIT_OK;

	for (int i = 0; i < set->nfiles; i++)
		for (int t = 0; t < set->files[i].ntags; t++)
		{
			names = pg_realloc(names, sizeof(char *) * (ntags + 1));
			versions = pg_realloc(versions, sizeof(char *) * (ntags + 1));
			names[ntags] = set->files[i].tags[t];
			versions[ntags++] = set->files[i].version;
		}
	if (ntags == 0)
		return EXIT_OK;

	params[0] = text_array_literal(names, ntags);
	params[1] = text_array_literal(versions, ntags);
	res = exec_params(conn, tag_sql, 2, params);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		out_pg_error(conn, res);
		rc = EXIT_ERROR;
	}
	else
		for (int r = 0; r < PQntuples(res); r++)
			out_info("tagged %s as %s", PQgetvalue(res, r, 1),
					 PQgetvalue(res, r, 0));
	PQclear(res);
	free((char *) params[0]);
	free((char *) params[1]);
	free(names);
	free(versions);
	return rc;
}

/*
 * Apply what is pending after nsent files were registered: nothing, one
 * apply(), or chunks.
 */
static int
apply_pending(PGconn *conn, const ClientOptions *opts,
			  const RegisteredSet *reg, int nsent)
{
	int			upper_bound;
	int			batch = opts->batch > 0 ? opts->batch : DEFAULT_APPLY_BATCH;
	int			npending;

	/*
	 * At most the migrations registered and not applied, plus those just
	 * registered, are pending.  Only when that bound passes the batch size
	 * does the server count the plan.
	 */
	upper_bound = nsent;
	for (int i = 0; i < reg->nitems; i++)
		if (strcmp(reg->items[i].state, "applied") != 0)
			upper_bound++;

	/*
	 * Nothing registered now and every migration applied: apply() would
	 * find nothing to do, after reading the whole registry (a third of a
	 * second at 10,000 migrations).  A --to the client cannot find is left
	 * to apply() to judge (it may be spelled differently, or unknown).
	 */
	if (upper_bound == 0 &&
		(opts->to == NULL || find_registered(reg, opts->to) != NULL))
	{
		AppliedRows none = {0};

		out_info("nothing to apply");
		print_applied(opts, &none);
		return EXIT_OK;
	}
	if (opts->single_transaction || upper_bound <= batch)
		return apply_once(conn, opts);

	npending = count_plan(conn, opts);
	if (npending < 0)
		return EXIT_ERROR;
	if (npending <= batch)
		return apply_once(conn, opts);
	return apply_in_batches(conn, opts, npending, batch);
}

int
cmd_up(PGconn *conn, const ClientOptions *opts)
{
	MigrationSet set;
	RegisteredSet reg;
	int			nsent;
	int			rc;
	bool		in_sync = false;

	if (!read_files_and_registry(conn, opts, 0, &set, &reg,
								 (opts->to == NULL && !opts->dry_run) ? &in_sync : NULL))
		return EXIT_ERROR;
	if (in_sync)
	{
		AppliedRows none = {0};

		out_json_number("registered", 0);	/* as sync_files() says it */
		out_info("nothing to apply");
		print_applied(opts, &none);
		return place_tags(conn, &set);
	}
	if (opts->dry_run)
		return dry_run_up(conn, opts, &set, &reg);
	nsent = sync_files(conn, opts, &set, &reg);
	if (nsent < 0)
		return EXIT_ERROR;
	rc = apply_pending(conn, opts, &reg, nsent);
	if (rc == EXIT_OK)
		rc = place_tags(conn, &set);
	return rc;
}
