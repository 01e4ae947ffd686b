/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Definitions of every migrate.* configuration parameter.
 *
 * They are defined whenever the library is loaded, preloaded or not,
 * because the SQL functions need them in every session.
 *
 * IDENTIFICATION
 *	  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "utils/guc.h"

#include "compat.h"
#include "guc.h"

/* how long apply/revert/register wait for the migrate lock, in ms */
int			migrate_lock_timeout = 30000;

/* level of the per-migration progress message */
int			migrate_progress_level = NOTICE;

/* whether a run's closing message says how long it took */
bool		migrate_message_timing = true;

/*
 * Most per-database schedulers the launcher runs at once.  Only databases
 * with an enabled schedule keep one; with PostgreSQL's default
 * max_worker_processes (8) this leaves room for the launcher, an apply
 * worker, a failure recorder and the logical replication launcher.
 */
int			migrate_max_workers = 4;

/* longest sleep of the launcher and the schedulers, in seconds */
int			migrate_naptime = 5;

/* databases the launcher serves; empty means all that allow connections */
char	   *migrate_databases = NULL;

/* role scheduled migrations run as; empty means each one's registrant */
char	   *migrate_worker_role = NULL;

/*
 * The environment whose guard rails apply (a row of
 * migrate.environment_setting); empty means none: 1.0's behaviour.
 * Superuser-only (PGC_SUSET), so that a deploy role cannot leave
 * production's rules by SETting it: a DBA sets it with ALTER DATABASE ...
 * SET, ALTER ROLE ... SET or postgresql.conf, or GRANTs SET on it.
 */
char	   *migrate_environment_name = NULL;

/* largest backup copy before a destructive statement, in kB; -1: no limit */
int			migrate_backup_max_kb = 1024 * 1024;

/* record DDL run outside migrate in migrate.drift_log (issue 13) */
bool		migrate_capture_drift = true;

/* the same choices client_min_messages offers, minus the ones above it */
static const struct config_enum_entry progress_level_options[] = {
	{"debug5", DEBUG5, false},
	{"debug4", DEBUG4, false},
	{"debug3", DEBUG3, false},
	{"debug2", DEBUG2, false},
	{"debug1", DEBUG1, false},
	{"debug", DEBUG2, true},
	{"log", LOG, false},
	{"info", INFO, true},
	{"notice", NOTICE, false},
	{"warning", WARNING, false},
	{NULL, 0, false}
};

/*
 * Define every migrate.* setting.  Called from _PG_init, whether the
 * library is preloaded or loaded by the first SQL function.
 */
void
migrate_guc_define_all(void)
{
	DefineCustomIntVariable("migrate.lock_timeout",
							gettext_noop("Sets how long to wait for the migrate lock of the database."),
							gettext_noop("0 means fail at once when another session holds it."),
							&migrate_lock_timeout,
							30000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("migrate.progress_level",
							 gettext_noop("Sets the message level of the messages a run of migrations emits."),
							 gettext_noop("They are the message before each migration of apply(), revert(), "
										  "revert_all(), deploy() and dry runs, and the closing summary."),
							 &migrate_progress_level,
							 NOTICE,
							 progress_level_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("migrate.message_timing",
							 gettext_noop("Shows how long a run took in the closing message of migrate.apply() and migrate.revert()."),
							 gettext_noop("When off, the closing message of migrate.apply(), migrate.revert(), "
										  "migrate.revert_all() and migrate.deploy() leaves out the elapsed time "
										  "(\"applied 7 migrations\" instead of \"applied 7 migrations in 41 ms\"), "
										  "so that their output is the same from one run to the next, as "
										  "EXPLAIN (TIMING OFF) does for plans.  The durations in the result rows "
										  "and in migrate.history are not affected."),
							 &migrate_message_timing,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/* a PGC_POSTMASTER setting can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("migrate.max_workers",
							gettext_noop("Sets the maximum number of per-database migrate schedulers."),
								gettext_noop("Each database with an enabled schedule needs one; they count against max_worker_processes, which needs room for 4 more."),
								&migrate_max_workers,
								4, 0, MAX_BACKENDS,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.naptime",
							gettext_noop("Sets the longest time the migrate launcher and schedulers sleep."),
							gettext_noop("They wake earlier when a schedule is due or the extension is created."),
							&migrate_naptime,
							5, 1, 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("migrate.databases",
							   gettext_noop("Lists the databases the migrate launcher serves."),
							   gettext_noop("Comma-separated names; empty means every database that allows connections."),
							   &migrate_databases,
							   "",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("migrate.worker_role",
							   gettext_noop("Sets the role scheduled migrations run as."),
							   gettext_noop("Empty means each migration runs as the role that registered it."),
							   &migrate_worker_role,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("migrate.environment",
							   gettext_noop("Sets the environment whose guard rails apply to migrations."),
							   gettext_noop("Names a row of migrate.environment_setting (development, staging, production, ...); "
											"empty means no environment: no guard rails."),
							   &migrate_environment_name,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.backup_max_bytes",
							gettext_noop("Sets the largest table data a backup before a destructive statement may copy."),
							gettext_noop("A larger copy is refused (MG015) unless the setting is raised or the backup skipped; -1 means no limit."),
							&migrate_backup_max_kb,
							1024 * 1024, -1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	/* superuser only: a role must not hide its own DDL from the log */
	DefineCustomBoolVariable("migrate.capture_drift",
							 gettext_noop("Records DDL run outside migrate in migrate.drift_log."),
							 gettext_noop("The event triggers migrate_drift_ddl and migrate_drift_drop do nothing while it is off."),
							 &migrate_capture_drift,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	migrate_reserve_guc_prefix("migrate");
}
