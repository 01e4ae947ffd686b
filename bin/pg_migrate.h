/*-------------------------------------------------------------------------
 *
 * pg_migrate.h
 *		Declarations shared by the modules of the pg_migrate client.
 *
 * pg_migrate holds no migration logic of its own: it reads migration files
 * (layout*.c), sends the new and changed ones to the extension
 * (sync.c), and calls the extension's SQL functions (commands.c), so that
 * psql users and client users get the same behaviour.  One file per
 * concern:
 *
 *	main.c			command line, --help, --version, dispatch, exit codes
 *	conf.c			pg_migrate.conf environments and PGMIGRATE_* variables
 *	connect.c		libpq connections, version check, init
 *	output.c		tables on a terminal, --json documents, colour, --quiet
 *	commands.c		one function per command, mapped onto the SQL API
 *	layout*.c		reading every supported file layout into a MigrationSet
 *	cache.c			the checksum cache: a read used again while its files
 *					are unchanged
 *	checksum.c		script normalisation and SHA-256, as the server does it
 *	sync.c			registered state, incremental batched registration, up
 *	validate.c		files compared with the database
 *	lint.c			the "lint" command: every file through migrate.lint()
 *	newfile.c		the "new" command: files in the detected layout
 *	progress.c		live progress of a running command, second connection
 *	fleet.c			one command against many databases, --jobs
 *	adopt.c			baseline and import: adopting an existing database
 *
 * Copyright (c) 2026, the migrate authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_MIGRATE_H
#define PG_MIGRATE_H

#include "postgres_fe.h"

#include "libpq-fe.h"
#include "pqexpbuffer.h"

#include <signal.h>

/* exit codes (documented in doc/cli.md) */
#define EXIT_OK			0
#define EXIT_ERROR		1
#define EXIT_USAGE		2
#define EXIT_FOUND		3		/* check modes: pending, edited, missing, drifted;
								 * lint: a finding at or above --fail-on */

/* the extension versions this client can drive */
#define CLIENT_MIN_EXTVERSION	"1.1"

/* --------------------------------------------------------------------
 * Options: command line over PGMIGRATE_* variables over pg_migrate.conf
 * --------------------------------------------------------------------
 */

/*
 * What differs from one target database to the next with --all-envs: each
 * environment (section of pg_migrate.conf) brings its own settings, already
 * resolved (command line over PGMIGRATE_* over the section over
 * [defaults]).  apply_target_settings() copies them into the options of the
 * process that works on that target.
 */
typedef struct TargetSettings
{
	char	   *env;			/* section name, NULL: not from a section */
	char	   *environment;
	char	   *dir;
	char	   *layout;
	char	   *lock_timeout;
	char	   *statement_timeout;
	int			batch;
} TargetSettings;

typedef struct ClientOptions
{
	/* connection: each -d is one target database (conninfo string or URI) */
	char	  **dbnames;
	int			ndbnames;
	char	   *host;
	char	   *port;
	char	   *username;
	int			prompt_password;	/* 0 default, 1 -W, -1 -w */

	/* configuration */
	char	   *config_file;	/* --config, default ./pg_migrate.conf */
	char	   *env;			/* --env NAME: section of the config file */
	bool		all_envs;		/* --all-envs: every section */
	char	   *dbs_from;		/* --dbs-from FILE: one conninfo per line */
	char	   *environment;	/* migrate.environment to set in the session */
	char	   *lock_timeout;	/* migrate.lock_timeout for the session */
	char	   *statement_timeout;

	/* files */
	char	   *dir;			/* --dir, default "migrations" */
	char	   *layout;			/* --layout NAME, NULL: detect */

	/* output */
	bool		json;
	bool		quiet;
	bool		verbose;
	bool		color;			/* decided in main: TTY and no NO_COLOR */
	bool		progress;		/* live progress line: TTY and not --quiet */
	int			jobs;			/* --jobs N, default 1 */

	/* command and its arguments */
	char	   *command;
	char	  **args;			/* positional arguments after the command */
	int			nargs;
	char	   *to;				/* --to V */
	char	   *to_tag;			/* --to-tag T */
	int			steps;			/* --steps N, 0: not given */
	bool		all;			/* --all */
	bool		dry_run;		/* --dry-run */
	bool		check;			/* status, plan: exit 3 when anything is pending */
	int			batch;			/* --batch N, 0: default */
	bool		single_transaction; /* --single-transaction */
	char	   *risk_level;		/* new --risk-level */
	bool		zero_downtime;	/* new --zero-downtime */
	char	   *estimated_duration; /* new --estimated-duration */
	char	  **depends_on;		/* new --depends-on V (repeatable) */
	int			ndepends_on;
	char	   *action;			/* resolve --action */
	bool		no_cache;		/* --no-cache: read every file */
	bool		force;			/* up, down --force */
	bool		skip_backup;	/* up, down --skip-backup */
	char	   *expect_fingerprint; /* up --expect-fingerprint FP */
	char	   *fail_on;		/* lint --fail-on error|warning|info */
	char	   *description;	/* baseline --description D */
	bool		generate;		/* baseline --generate */

	/* filled in by conf.c */
	bool		jobs_given;		/* --jobs was on the command line */
	TargetSettings *targets;	/* NULL, or one per target database */
} ClientOptions;

/* --------------------------------------------------------------------
 * Migration files, as read from a directory (layout*.c)
 * --------------------------------------------------------------------
 */
typedef struct MigrationFile
{
	char	   *version;		/* as registered: unique, orders the history */
	char	   *name;
	char	   *up;				/* up script text as registered */
	char	   *down;			/* NULL: irreversible */
	char	   *verify;			/* NULL: none (Sqitch verify/) */
	char	   *up_path;		/* for messages, relative to the directory */
	char	   *down_path;		/* NULL when there is no down file */
	bool		repeatable;		/* Flyway R__: re-applied when changed */
	char	  **tags;			/* Sqitch tags placed after this change */
	int			ntags;
	char		checksum[65];	/* of the normalised up script (checksum.c) */
	char		down_checksum[65];	/* "" without a down script */
	char		verify_checksum[65];	/* "" without a verify script */
} MigrationFile;

typedef struct MigrationSet
{
	const char *layout;			/* name of the layout read */
	char	   *dir;
	MigrationFile *files;		/* in version order */
	int			nfiles;

	/*
	 * From the checksum cache (cache.c): every field but the scripts' text
	 * (up, down and verify are NULL); reload_migrations() reads them.
	 */
	bool		from_cache;
	char	   *layout_option;	/* --layout as given, for a reload */
	int			read_flags;
	char	   *snapshot;		/* id of the cached read, NULL: not cached */
} MigrationSet;

/* layout.c: detect (or take --layout) and read; false + *errmsg on error */
extern bool read_migrations(const char *dir, const char *layout,
							MigrationSet *set, char **errmsg);
extern const char *const *layout_names(void);

/*
 * layout.c: read_migrations() with options.  READ_KEEP_DUPLICATES keeps
 * migrations that share a version (next to each other, in version order)
 * instead of refusing the directory, so that validate can report them.
 * read_migrations(d, l, s, e) is read_migrations_opts(d, l, 0, s, e).
 */
#define READ_KEEP_DUPLICATES	0x01

/*
 * READ_USE_CACHE: a checksum cache (cache.c) whose inputs are all
 * unchanged gives the set without reading the files (set->from_cache);
 * otherwise the files are read and the cache is written.  Only callers
 * that compare checksums may ask for it, and they call
 * reload_migrations() before they need a script's text.
 */
#define READ_USE_CACHE			0x02
#define READ_REFRESH_CACHE		0x04	/* read the files, write the cache */
extern bool read_migrations_opts(const char *dir, const char *layout,
								 int flags, MigrationSet *set, char **errmsg);
/* a set from the cache read again from the files, texts included */
extern bool reload_migrations(MigrationSet *set, char **errmsg);
/* cache.c: --no-cache */
extern void cache_disable(void);
/*
 * cache.c: records of a database (target: its connection) found in sync
 * with a cached read (every file registered as it is, every migration
 * applied) at a registry stamp.
 */
extern bool cache_sync_matches(const MigrationSet *set, const char *target,
							   const char *stamp);
extern void cache_sync_store(const MigrationSet *set, const char *target,
							 const char *stamp);

/* checksum.c: normalise (strip a UTF-8 BOM, CR LF -> LF) then SHA-256 hex */
extern bool script_checksum(const char *script, char out[65]);

/* layout.c: versions compared as the server does (1 = 001 < 1.9 < 1.10) */
extern int	version_compare(const char *a, const char *b);
extern bool version_is_valid(const char *version);

/* newfile.c: the "new" command */
extern int	cmd_new(const ClientOptions *opts);
/* newfile.c: a new migration with this up script and no down (baseline) */
extern int	new_migration_files(const ClientOptions *opts, const char *description,
								const char *up_body);

/* adopt.c: baseline VERSION | baseline --generate [FILE], import TOOL */
extern int	cmd_baseline(PGconn *conn, const ClientOptions *opts);
extern int	cmd_import(PGconn *conn, const ClientOptions *opts);

/* --------------------------------------------------------------------
 * Registered state, as read from the extension (sync.c)
 * --------------------------------------------------------------------
 */
typedef struct RegisteredMigration
{
	char	   *version;
	char	   *name;
	char	   *state;
	char	   *checksum;		/* registered up checksum */
	char	   *down_checksum;	/* NULL without a down script */
	bool		changed;		/* applied checksum differs from registered */
	char	   *applied_at;		/* NULL unless applied */
	char	   *verify_checksum;	/* of the verify script, NULL without one */
	bool		has_precondition;	/* a precondition or a mode other than fail */
	bool		repeatable;		/* @repeatable: new content runs it again */
} RegisteredMigration;

typedef struct RegisteredSet
{
	RegisteredMigration *items; /* in version order */
	int			nitems;
	RegisteredMigration **by_version;	/* sorted by version text, for
										 * find_registered() */
} RegisteredSet;

extern bool fetch_registered(PGconn *conn, RegisteredSet *reg);
/* the same in two steps, so that the client works while the server does */
extern bool send_fetch_registered(PGconn *conn);
extern bool finish_fetch_registered(PGconn *conn, RegisteredSet *reg);
extern void discard_results(PGconn *conn);
/*
 * The directory (read_migrations_opts() flags, the checksum cache unless
 * --no-cache) and the registry, read at the same time; a cached set is
 * read again when files must be sent.  With in_sync: set (and the
 * registry not fetched) when this database was found in sync with this
 * very read before and its registry is unchanged.  false after printing
 * why.
 */
extern bool read_files_and_registry(PGconn *conn, const ClientOptions *opts,
									int flags, MigrationSet *set,
									RegisteredSet *reg, bool *in_sync);
/* how many files of set register() would not call unchanged */
extern int	files_to_send(const MigrationSet *set, const RegisteredSet *reg);
/* the registered migration with exactly this version text, or NULL */
extern RegisteredMigration *find_registered(const RegisteredSet *reg,
											const char *version);
/* two checksums, NULL and "" (no script) counting as equal */
extern bool same_checksum(const char *a, const char *b);
/* a text[] literal of the strings, for a parameter ($1::text[]) */
extern char *text_array_literal(const char *const *items, int nitems);
/* register what is new or changed, in batches; returns count or -1 */
extern int	sync_files(PGconn *conn, const ClientOptions *opts,
					   const MigrationSet *set, const RegisteredSet *reg);
extern int	cmd_up(PGconn *conn, const ClientOptions *opts);

/* validate.c */
extern int	cmd_validate(PGconn *conn, const ClientOptions *opts);

/* lint.c */
extern int	cmd_lint(PGconn *conn, const ClientOptions *opts);
/* the rank of a severity name (info 1, warning 2, error 3), 0: not one */
extern int	lint_severity_rank(const char *severity);

/* --------------------------------------------------------------------
 * connect.c
 * --------------------------------------------------------------------
 */
extern PGconn *client_connect(const ClientOptions *opts, const char *dbname,
							  bool require_extension);
extern bool check_extension(PGconn *conn, bool quiet);
/* a -d value that is safe to print: without passwords; free() it */
extern char *redact_conninfo(const char *conninfo);
/* a conninfo string or URI, as libpq tells them from a database name */
extern bool is_connection_string(const char *s);
/*
 * PQconninfoParse() without libpq's error text (it quotes tokens, which may
 * be passwords); NULL on failure, then "invalid connection string in
 * <source>" is printed unless source is NULL.
 */
extern PQconninfoOption *parse_conninfo(const char *conninfo,
										const char *source);
/* " keyword=value", quoted as libpq's conninfo parser needs */
extern void append_conninfo_value(PQExpBuffer buf, const char *keyword,
								  const char *value);
/*
 * -W with many databases: prompt once, in the parent, before the fleet
 * forks; the children reuse the password and never prompt themselves.
 */
extern void prompt_password_once(const ClientOptions *opts);
/*
 * The session keeps the caller's search_path: migration scripts run with it
 * (as in psql), and every query of the client schema-qualifies all names.
 * exec_migration_sql() (commands.c) runs a call that runs scripts (apply,
 * revert, rehearse): logged with --verbose, with live progress.
 */
extern PGresult *exec_migration_sql(PGconn *conn, const ClientOptions *opts,
									const char *sql, int nparams,
									const char *const *params);
/* the init command: CREATE EXTENSION IF NOT EXISTS migrate */
extern int	cmd_init(PGconn *conn, const ClientOptions *opts);

/* --------------------------------------------------------------------
 * output.c
 * --------------------------------------------------------------------
 */
extern void out_init(const ClientOptions *opts);
/* a query result as a table (TTY, plain) or, with --json, under "key" */
extern void out_table(const PGresult *res, const char *key);
/* out_table() of the named columns the result has, in that order */
extern void out_table_columns(const PGresult *res, const char *key,
							  const char *const *names, int nnames);
/* a text[] literal's elements (NULL element: NULL); false if not one */
extern bool split_text_array(const char *s, char ***elems, int *nelems);
/* rows built by the client itself: cells[row * ncols + col], NULL = null */
extern void out_rows(const char *key, int ncols, const char *const *headers,
					 int nrows, char *const *cells);
/* the same with numeric columns (right-aligned, JSON numbers); NULL: none */
extern void out_rows_typed(const char *key, int ncols,
						   const char *const *headers, const bool *numeric,
						   int nrows, char *const *cells);
/* with --json: add "key": value to the one document printed at exit */
extern void out_json_field(const char *key, const char *value);
extern void out_json_flush(void);
extern void out_info(const char *fmt,...) pg_attribute_printf(1, 2);
extern void out_error(const char *fmt,...) pg_attribute_printf(1, 2);
extern void out_pg_error(PGconn *conn, const PGresult *res);
/* with --json: a number, or JSON text the caller built ("[...]", "{...}") */
extern void out_json_number(const char *key, long value);
/* append s to buf as a JSON string (RFC 8259; invalid UTF-8 -> U+FFFD) */
extern void json_escape(PQExpBuffer buf, const char *s);
/* seconds on a monotonic clock, for elapsed times */
extern double now_seconds(void);
extern void out_json_raw(const char *key, const char *json);
/* after out_error(): "pg_migrate: detail: ..." / "pg_migrate: hint: ..." */
extern void out_detail(const char *fmt,...) pg_attribute_printf(1, 2);
extern void out_hint(const char *fmt,...) pg_attribute_printf(1, 2);
/* --verbose only: what the client does, on stderr */
extern void out_verbose(const char *fmt,...) pg_attribute_printf(1, 2);
/* libpq notice receiver: progress lines, or "messages" in --json */
extern void out_notice(void *arg, const PGresult *res);
/*
 * The --json document has one part per database: run_command() calls
 * out_begin_database() (connection: a description from redact_conninfo(),
 * or NULL) and out_end_database(exit code); main calls out_finish(exit
 * code), which prints the document.  Not thread-safe: one command at a
 * time per process.
 */
extern void out_begin_database(const char *connection);
extern void out_end_database(int exit_code);
extern void out_finish(int exit_code);

/* --------------------------------------------------------------------
 * progress.c: run one query while showing what the server does
 * --------------------------------------------------------------------
 */
/* set while a status line is on stderr: SIGINT clears it (connect.c) */
extern volatile sig_atomic_t status_line_drawn;
extern PGresult *exec_with_progress(PGconn *conn, const ClientOptions *opts,
									const char *sql, int nparams,
									const char *const *params);

/* --------------------------------------------------------------------
 * commands.c: run one command against one database; returns an exit code
 * --------------------------------------------------------------------
 */
extern int	run_command(const ClientOptions *opts, const char *dbname);
extern bool command_needs_database(const char *command);
/* usage errors (unknown command, wrong arguments): message, exit 2 */
extern void check_command_usage(const ClientOptions *opts);
/* a query with parameters, logged with --verbose (never string-built) */
extern PGresult *exec_params(PGconn *conn, const char *sql, int nparams,
							 const char *const *params);

/* commands.c: ", force => true, skip_backup => true" as the options say */
extern void append_guard_arguments(PQExpBuffer sql, const ClientOptions *opts,
								   bool first);

/* fleet.c: run_command against many databases, --jobs at a time */
extern int	run_fleet(const ClientOptions *opts, char **dbnames, int ndbnames);

/* conf.c: fill opts from pg_migrate.conf and PGMIGRATE_*; false on error */
extern bool load_config(ClientOptions *opts, char ***dbnames, int *ndbnames,
						char **errmsg);
/* conf.c: use target i's settings (opts->targets) in these options */
extern void apply_target_settings(ClientOptions *opts, int target);

#endif							/* PG_MIGRATE_H */
