/* migrate--1.0--1.1.sql: upgrade migrate from 1.0 to 1.1 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrate UPDATE TO '1.1'" to load this file. \quit

-- 1.0 is released and migrate--1.0.sql never changes again.  Every change
-- of the SQL surface since goes here (and later into 1.1--1.2, ...).  A
-- fresh CREATE EXTENSION runs migrate--1.0.sql and then this script, so a
-- fresh install and an upgraded one are built by the same statements;
-- test/scenario/upgrade.sh checks that they end up identical.
--
-- Each section below says which change it belongs to.

/* ---------------------------------------------------------------------
 * WP1 (issue 8, items 8 and 9): migrate.version(), a comment on every
 * object of the extension, builtins schema-qualified in the bodies of the
 * SQL and PL/pgSQL functions.
 * --------------------------------------------------------------------- */

-- default_version of migrate.control, compiled into the library: equal to
-- pg_extension.extversion unless ALTER EXTENSION migrate UPDATE is due
CREATE FUNCTION migrate.version() RETURNS text
AS 'MODULE_PATHNAME', 'migrate_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate.version() IS
    'version of migrate the installed library was built for (default_version of migrate.control)';
-- like the other helpers it reads nothing from the catalog: anybody may
-- call it (EXECUTE stays granted to PUBLIC, hence to migrate_reader)

-- every object of the extension has a comment (test/pgtap/catalog.sql
-- fails on one without)
COMMENT ON TABLE migrate.scheduler_state IS
    'at most one row: whether the scheduler of this database is paused, since when and by whom';
COMMENT ON SEQUENCE migrate.apply_seq IS
    'order in which migrations were applied (migrate.migration.apply_seq)';
COMMENT ON SEQUENCE migrate.event_id_seq IS
    'ids of migrate.event (history) rows';

COMMENT ON VIEW migrate.status IS
    'every registered migration, in version order: state, checksum check, metadata, last error (no script text)';
COMMENT ON VIEW migrate.history IS
    'every attempt to change a migration, oldest first (script text only for migrate_admin)';
COMMENT ON VIEW migrate.schedules IS
    'schedules of the background worker, with their next and last run and what they wait for';
COMMENT ON VIEW migrate.progress IS
    'live progress of every session and worker applying or reverting migrations now, in any database';

COMMENT ON FUNCTION migrate.version_cmp(text, text) IS
    'compare two versions in natural order: -1, 0 or 1';
COMMENT ON FUNCTION migrate.window_end_at(timestamptz, time, time, text) IS
    'end of the maintenance window "at" falls in (local times in the time zone), or NULL when outside it';
COMMENT ON FUNCTION migrate.table_data() IS
    'row count and content hash of every user table, for rehearse(data => true)';
COMMENT ON FUNCTION migrate.register(text, text, text, text, text, text, text) IS
    'register a migration: version, name, up script, optional down, verify and precondition scripts';
COMMENT ON FUNCTION migrate.apply(text, boolean) IS
    'apply the pending migrations in dependency order, up to target; dry_run rolls back';
COMMENT ON FUNCTION migrate.revert(text, integer, text, boolean, boolean) IS
    'revert applied migrations: the latest, those after target, a number of steps, or one migration (with cascade)';
COMMENT ON FUNCTION migrate.revert_all() IS
    'revert every applied migration, newest first';
COMMENT ON FUNCTION migrate.repair(text, text, text) IS
    'record the current checksums of a migration (optionally new up and down scripts) after an intended change';
COMMENT ON FUNCTION migrate.plan(text) IS
    'what apply(target) would do, in order, without doing it';
COMMENT ON FUNCTION migrate.rehearse(text, text, boolean) IS
    'apply, revert and re-apply each pending migration in a rolled-back transaction, and compare the schemas';
COMMENT ON FUNCTION migrate.event_is_append_only() IS
    'trigger function: refuses UPDATE, DELETE and TRUNCATE of migrate.event';
COMMENT ON FUNCTION migrate.acquire_lock() IS
    'internal: take the migrate lock of this database until the end of the transaction';
COMMENT ON FUNCTION migrate.wake() IS
    'internal: wake the launcher and this database''s scheduler when the transaction commits';
COMMENT ON FUNCTION migrate.schedule(text, interval, text, text, text, text, text, boolean) IS
    'create or replace a schedule: apply approved migrations every interval or on a cron expression, within a window';
COMMENT ON FUNCTION migrate.unschedule(text) IS
    'drop a schedule';
COMMENT ON FUNCTION migrate.pause() IS
    'pause the scheduler of this database (recorded in the history)';
COMMENT ON FUNCTION migrate.resume() IS
    'resume the scheduler of this database after pause() (recorded in the history)';
COMMENT ON FUNCTION migrate.approve(text) IS
    'approve a migration for scheduled runs (as the role that registered it)';
COMMENT ON FUNCTION migrate.resolve(text, text) IS
    'decide about a dirty migration: retry, mark_applied or mark_reverted';
COMMENT ON FUNCTION migrate.progress_slots() IS
    'internal: the live progress slots in shared memory, behind the view migrate.progress';
COMMENT ON FUNCTION migrate.scheduler_info() IS
    'internal: whether the library is preloaded, and the pids of the launcher and of this database''s scheduler';
COMMENT ON FUNCTION migrate.health() IS
    'one row for monitoring: pending, failed and dirty migrations, last apply, lock holder, scheduler state';
COMMENT ON FUNCTION migrate.verify_integrity() IS
    'what is wrong that a migration may have caused: invalid indexes, unvalidated constraints, changed scripts, failed or dirty migrations';
