-- surface: the SQL surface of 1.1 as psql shows it (issue 9).
--
-- The narrow migrate.status and the wide migrate.status_detail, the state
-- "reverted", history.started_at and durations rounded to the millisecond,
-- the eight result columns of apply() and revert(), the parameters that
-- need no quoting (with_dependents, maintenance_window) and their old
-- names still accepted, and the functions that answer: schedule(),
-- approve(), require(), pause(), resume() and unschedule().
SET migrate.progress_level = 'debug1';  -- progress NOTICEs hold timings

SELECT migrate.register('1', 'customers', 'CREATE TABLE su_customers (id int PRIMARY KEY);',
                        'DROP TABLE su_customers;');
SELECT migrate.register('2', 'orders',
                        E'-- @dependencies: 1\nCREATE TABLE su_orders (id int, customer int REFERENCES su_customers);',
                        'DROP TABLE su_orders;');
SELECT migrate.register('3', 'audit', 'CREATE TABLE su_audit (id int);', 'DROP TABLE su_audit;');

-- the columns of the two views
SELECT attname, format_type(atttypid, atttypmod) AS type
FROM pg_attribute WHERE attrelid = 'migrate.status'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod) AS type
FROM pg_attribute WHERE attrelid = 'migrate.status_detail'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname FROM pg_attribute
WHERE attrelid = 'migrate.history'::regclass AND attnum > 0 AND attname IN ('time', 'started_at');
SELECT attname FROM pg_attribute
WHERE attrelid = 'migrate.schedules'::regclass AND attnum > 0 AND attname IN ('window', 'maintenance_window');

-- apply(): eight columns, durations in whole milliseconds
SELECT version, name, action, state, duration = date_trunc('milliseconds', duration) AS whole_ms,
       statements, rows_affected, note
FROM migrate.apply(target => '2');

-- status: applied_at in whole seconds, changed is NULL until applied; a
-- row of it fits an 80-column terminal
SELECT version, name, state, applied_at = date_trunc('second', applied_at) AS whole_seconds,
       applied_by = current_user AS applied_by_me, changed, error
FROM migrate.status;
SELECT max(length(s::text)) < 80 AS fits FROM migrate.status s;
SELECT version, checksum_ok, duration = date_trunc('milliseconds', duration) AS whole_ms,
       revertible, registered_by = current_user AS registered_by_me, approved_at, approved_by,
       dirty_statement, resume_statement, precondition_mode, has_precondition, has_verify
FROM migrate.status_detail;
SELECT action, version, started_at IS NOT NULL AS has_started_at,
       duration = date_trunc('milliseconds', duration) AS whole_ms
FROM migrate.history WHERE action = 'apply' ORDER BY id;

-- changed: the script was edited after it was applied
UPDATE migrate.migration SET checksum = repeat('0', 64) WHERE version = '1';
SELECT version, changed FROM migrate.status;
SELECT version, checksum_ok FROM migrate.status_detail;
SELECT migrate.repair('1');
SELECT version, changed FROM migrate.status WHERE version = '1';

-- error: the message of the last error only, which readers see too
SELECT migrate.register('4', 'broken', 'CREATE TABLE su_broken (id int); SELECT 1/0;');
\set VERBOSITY terse
SELECT version FROM migrate.apply();
\set VERBOSITY default
SELECT version, state, error FROM migrate.status WHERE version = '4';
CREATE ROLE su_reader IN ROLE migrate_reader;
SET ROLE su_reader;
SELECT version, state, error FROM migrate.status WHERE version = '4';
SELECT last_error->>'message' AS message, last_error ? 'statement_text' AS statement_text
FROM migrate.status_detail WHERE version = '4';
RESET ROLE;

-- a dry run leaves every state as it was, and its rows say so (not
-- "applied" for work it rolls back); the row of the migration that failed
-- in it has no state, its note says why
\set VERBOSITY terse
SELECT version, action, state, regexp_replace(note, '[0-9a-f]{8}', 'xxxxxxxx', 'g') AS note
FROM migrate.apply(dry_run => true);
\set VERBOSITY default

-- reverted, everywhere
SELECT version, action, state, statements FROM migrate.revert();
SELECT version, state, applied_at IS NULL AS no_applied_at, applied_by, changed FROM migrate.status;
SELECT version, state, checksum_ok, duration FROM migrate.status_detail WHERE version = '2';
SELECT version, reason FROM migrate.plan();
SELECT pending FROM migrate.health();

-- revert(): with_dependents, and its old name "cascade"
SELECT version FROM migrate.apply(target => '2');
SELECT * FROM migrate.revert(migration => '1');
SELECT version, action, state,
       regexp_replace(note, '[0-9a-f]{8} -> [0-9a-f]{8}', 'xxxxxxxx -> yyyyyyyy') AS note
FROM migrate.revert(migration => '1', with_dependents => true, dry_run => true);
SELECT version, action, state FROM migrate.revert(migration => '1', "cascade" => true, dry_run => true);
SELECT * FROM migrate.revert(migration => '1', with_dependents => true, "cascade" => true);
SELECT * FROM migrate.revert(migration => '1', with_dependents => false, "cascade" => true);
SELECT version, action, state FROM migrate.revert(migration => '1', "cascade" => true);
SELECT version, state FROM migrate.status;

-- require(): the applied version it found, as registered
SELECT version FROM migrate.apply(target => '1');
SELECT migrate.require('1');
SELECT migrate.require('01') AS found;
SELECT migrate.require('2');

-- the scheduler's functions answer (paused first, so that no scheduled
-- run starts while this test looks)
SELECT migrate.pause();
SELECT schedule, next_run_at > now() AS next_run_later, require_approval, waiting_for
FROM migrate.schedule('su_nightly', cron => '0 2 * * *', maintenance_window => '01:00-05:00');
SELECT name, cron, maintenance_window, require_approval, waiting_for FROM migrate.schedules;
SELECT version, name, runs_as = current_user AS runs_as_me, approved_by = current_user AS approved_by_me,
       approved_at IS NOT NULL AS has_approved_at
FROM migrate.approve('03');
SELECT version, approved_by = current_user AS approved_by_me FROM migrate.status_detail WHERE approved_at IS NOT NULL;
-- ... the old parameter name "window" still works, and a target limits
-- what the schedule waits for
SELECT schedule, require_approval, waiting_for
FROM migrate.schedule('su_nightly', cron => '0 3 * * *', "window" => '02:00-04:00', target => '2');
SELECT name, cron, maintenance_window, target FROM migrate.schedules;
-- ... waiting_for is what the scheduler waits for: apply(target)'s plan,
-- so a dependency above the target too (7, before 5), and approval comes
-- before the environment, so a migration meant for another environment
-- (6) is waited for as well; a failed one (4) waits for a fix instead
SELECT migrate.register('7', 'above', 'CREATE TABLE su_above (id int);', 'DROP TABLE su_above;');
SELECT migrate.register('5', 'needs_above', E'-- @dependencies: 7\nCREATE TABLE su_needs (id int);',
                        'DROP TABLE su_needs;');
SELECT migrate.register('6', 'staging_only', E'-- @environments: staging\nCREATE TABLE su_staging (id int);',
                        'DROP TABLE su_staging;');
SELECT version, approved FROM migrate.plan('5');
SELECT schedule, waiting_for
FROM migrate.schedule('su_nightly', cron => '0 3 * * *', target => '5');
SELECT schedule, waiting_for
FROM migrate.schedule('su_nightly', cron => '0 3 * * *', target => '6', environment => 'production');
SELECT migrate.unschedule('su_nightly');
DELETE FROM migrate.migration WHERE version IN ('5', '6', '7');
SELECT schedule, require_approval, waiting_for
FROM migrate.schedule('su_nightly', cron => '0 3 * * *', require_approval => false);
SELECT * FROM migrate.schedule('su_bad', cron => '0 3 * * *', maintenance_window => '02:00-04:00',
                               "window" => '02:00-04:00');
SELECT * FROM migrate.schedule('su_bad', cron => '0 3 * * *', maintenance_window => '04:00');
-- both names given: invalid_parameter_value
\set VERBOSITY sqlstate
SELECT * FROM migrate.revert(migration => '1', with_dependents => true, "cascade" => true);
SELECT * FROM migrate.schedule('su_bad', cron => '0 3 * * *', maintenance_window => '02:00-04:00',
                               "window" => '02:00-04:00');
\set VERBOSITY default
SELECT migrate.unschedule('su_nightly');
SELECT migrate.unschedule('su_nightly');
-- next_run_at is the first check that falls inside the maintenance
-- window (the scheduler skips the others): now when the window is open
-- now ...
SELECT schedule, next_run_at = now() AS runs_now
FROM migrate.schedule('su_window', every => '1 hour', require_approval => false, timezone => 'UTC',
                      maintenance_window => to_char(now() AT TIME ZONE 'UTC' - interval '1 hour', 'HH24:MI')
                                            || '-' || to_char(now() AT TIME ZONE 'UTC' + interval '1 hour', 'HH24:MI'));
-- ... the third hourly check when the window opens in two hours ...
SELECT schedule, next_run_at = now() + interval '2 hours' AS runs_in_two_hours
FROM migrate.schedule('su_window', every => '1 hour', require_approval => false, timezone => 'UTC',
                      maintenance_window => to_char(now() AT TIME ZONE 'UTC' + interval '2 hours', 'HH24:MI')
                                            || '-' || to_char(now() AT TIME ZONE 'UTC' + interval '4 hours', 'HH24:MI'));
-- ... (the stored next check stays now: the scheduler checks, and skips)
SELECT name, next_run_at <= now() AS checked_now FROM migrate.schedules WHERE name = 'su_window';
-- ... a cron time inside the window: the next one ...
SELECT schedule, next_run_at = migrate.cron_next('30 3 * * 0', now(), 'UTC') AS next_sunday
FROM migrate.schedule('su_window', cron => '30 3 * * 0', maintenance_window => '03:00-04:00',
                      require_approval => false);
-- ... the first cron time inside the window, not the first cron time ...
SELECT schedule,
       next_run_at = (date_trunc('day', now() AT TIME ZONE 'UTC')
                      + CASE WHEN (now() AT TIME ZONE 'UTC')::time < '04:00' THEN interval '4 hours'
                             ELSE interval '28 hours' END) AT TIME ZONE 'UTC' AS next_four_oclock
FROM migrate.schedule('su_window', cron => '0 */2 * * *', maintenance_window => '03:00-05:00',
                      require_approval => false);
-- ... and NULL, with a WARNING, when no check ever falls inside it (the
-- schedule is stored all the same): a daily check at another time of day
\set VERBOSITY terse
SELECT schedule, next_run_at
FROM migrate.schedule('su_window', every => '1 day', require_approval => false, timezone => 'UTC',
                      maintenance_window => to_char(now() AT TIME ZONE 'UTC' + interval '1 hour', 'HH24:MI')
                                            || '-' || to_char(now() AT TIME ZONE 'UTC' + interval '2 hours', 'HH24:MI'));
\set VERBOSITY default
SELECT schedule, next_run_at
FROM migrate.schedule('su_window', cron => '0 12 * * *', maintenance_window => '02:00-04:00',
                      timezone => 'Europe/Berlin', require_approval => false);
SELECT name, cron, maintenance_window, next_run_at IS NOT NULL AS stored FROM migrate.schedules;
SELECT migrate.unschedule('su_window');
SELECT * FROM migrate.approve('99');
SELECT migrate.resume();
SELECT action, outcome FROM migrate.history WHERE action IN ('approve', 'pause', 'resume') ORDER BY id;

SELECT version FROM migrate.revert_all();
DROP ROLE su_reader;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- rows_affected counts the rows a script's statements processed in every
-- run, not only in dry runs: 0 for DDL, the rows of a data migration
SELECT migrate.register('90', 'seed', $s$CREATE TABLE su_seed (id int);
INSERT INTO su_seed SELECT generate_series(1, 3);
UPDATE su_seed SET id = id + 10 WHERE id > 1;$s$, 'DROP TABLE su_seed;');
SELECT version, action, statements, rows_affected FROM migrate.apply(target => '90');
SELECT version, action, statements, rows_affected FROM migrate.revert();
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
