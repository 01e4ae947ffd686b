-- test/pgtap/privileges.sql: who may do what with migrate.
--
-- First the grants as the extension script makes them; then three login
-- roles, created inside the test transaction (and so rolled back with it):
--   app       member of migrate_reader: reads status, history, schedules
--             and progress, calls require(), health() and
--             verify_integrity(), and nothing else (not plan() nor
--             rehearse());
--   deployer  member of migrate_admin, with CREATE on schema app_schema:
--             registers, plans, rehearses and applies migrations, whose SQL
--             runs with the deployer's own privileges (never the extension
--             owner's), and schedules, pauses, resumes, approves and
--             resolves through the SECURITY DEFINER functions, which record
--             the calling role (the role after SET ROLE);
--   stranger  no grants at all: only the helpers PUBLIC may call (the
--             version, checksum, cron and fingerprint helpers and
--             calling_role()).
--
-- schedule() only stores a schedule (and wakes the scheduler if there is
-- one), so this file runs the same with or without the library preloaded;
-- nothing it schedules is committed, so no background run ever sees it.
--
-- A failing apply starts a background worker that commits a failure row to
-- migrate.event outside this transaction; that is by design, so nothing
-- here counts all history rows.
--
-- Run with: pg_prove --ext .sql -v test/pgtap/

\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS migrate;
RESET client_min_messages;

BEGIN;
SELECT plan(314);

SET LOCAL migrate.progress_level = 'debug1';
-- the superuser running the tests, whatever its name
SELECT set_config('tap.superuser', current_user, true) IS NOT NULL AS superuser_noted \gset

-- ---------------------------------------------------------------------------
-- grants made by the extension script
-- ---------------------------------------------------------------------------
SELECT function_privs_are('migrate', f, args, 'public', ARRAY[]::text[],
                          format('PUBLIC cannot execute migrate.%s()', f))
FROM (VALUES (1, 'register', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean']),
             (2, 'apply', ARRAY['text', 'boolean', 'boolean', 'boolean', 'text']),
             (3, 'revert', ARRAY['text', 'integer', 'text', 'boolean', 'boolean', 'boolean', 'boolean', 'boolean']),
             (4, 'revert_all', ARRAY['boolean', 'boolean']),
             (5, 'repair', ARRAY['text', 'text', 'text']),
             (6, 'plan', ARRAY['text']),
             (7, 'rehearse', ARRAY['text', 'text', 'boolean'])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', f, args, 'migrate_admin', ARRAY['EXECUTE'],
                          format('migrate_admin can execute migrate.%s()', f))
FROM (VALUES (1, 'register', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean']),
             (2, 'apply', ARRAY['text', 'boolean', 'boolean', 'boolean', 'text']),
             (3, 'revert', ARRAY['text', 'integer', 'text', 'boolean', 'boolean', 'boolean', 'boolean', 'boolean']),
             (4, 'revert_all', ARRAY['boolean', 'boolean']),
             (5, 'repair', ARRAY['text', 'text', 'text']),
             (6, 'plan', ARRAY['text']),
             (7, 'rehearse', ARRAY['text', 'text', 'boolean'])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', f, args, 'migrate_reader', ARRAY[]::text[],
                          format('migrate_reader cannot execute migrate.%s()', f))
FROM (VALUES (1, 'register', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean']),
             (2, 'apply', ARRAY['text', 'boolean', 'boolean', 'boolean', 'text']),
             (3, 'revert', ARRAY['text', 'integer', 'text', 'boolean', 'boolean', 'boolean', 'boolean', 'boolean']),
             (4, 'revert_all', ARRAY['boolean', 'boolean']),
             (5, 'repair', ARRAY['text', 'text', 'text']),
             (6, 'plan', ARRAY['text']),
             (7, 'rehearse', ARRAY['text', 'text', 'boolean'])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', 'event_is_append_only', ARRAY[]::text[], 'public', ARRAY[]::text[],
                          'PUBLIC cannot execute migrate.event_is_append_only()');
SELECT function_privs_are('migrate', 'require', ARRAY['text'], 'migrate_reader', ARRAY['EXECUTE'],
                          'migrate_reader can execute migrate.require()');

-- verify_integrity(): readers run it (with their own privileges), PUBLIC
-- does not
SELECT function_privs_are('migrate', 'verify_integrity', ARRAY[]::text[], 'public', ARRAY[]::text[],
                          'PUBLIC cannot execute migrate.verify_integrity()');
SELECT function_privs_are('migrate', 'verify_integrity', ARRAY[]::text[], r, ARRAY['EXECUTE'],
                          format('%s can execute migrate.verify_integrity()', r))
FROM unnest(ARRAY['migrate_reader', 'migrate_admin']) WITH ORDINALITY AS v(r, n)
ORDER BY n;

-- the scheduler's administration functions (SECURITY DEFINER), monitoring,
-- and the internal functions nobody but the owner calls directly
SELECT function_privs_are('migrate', f, args, 'public', ARRAY[]::text[],
                          format('PUBLIC cannot execute migrate.%s()', f))
FROM (VALUES (1, 'schedule', ARRAY['text', 'interval', 'text', 'text', 'text', 'text', 'text', 'boolean', 'text']),
             (2, 'unschedule', ARRAY['text']),
             (3, 'pause', ARRAY[]::text[]),
             (4, 'resume', ARRAY[]::text[]),
             (5, 'approve', ARRAY['text']),
             (6, 'resolve', ARRAY['text', 'text']),
             (7, 'health', ARRAY[]::text[]),
             (8, 'acquire_lock', ARRAY[]::text[]),
             (9, 'wake', ARRAY[]::text[]),
             (10, 'progress_slots', ARRAY[]::text[]),
             (11, 'scheduler_info', ARRAY[]::text[])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', f, args, 'migrate_admin', ARRAY['EXECUTE'],
                          format('migrate_admin can execute migrate.%s()', f))
FROM (VALUES (1, 'schedule', ARRAY['text', 'interval', 'text', 'text', 'text', 'text', 'text', 'boolean', 'text']),
             (2, 'unschedule', ARRAY['text']),
             (3, 'pause', ARRAY[]::text[]),
             (4, 'resume', ARRAY[]::text[]),
             (5, 'approve', ARRAY['text']),
             (6, 'resolve', ARRAY['text', 'text'])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', f, args, 'migrate_reader', ARRAY[]::text[],
                          format('migrate_reader cannot execute migrate.%s()', f))
FROM (VALUES (1, 'schedule', ARRAY['text', 'interval', 'text', 'text', 'text', 'text', 'text', 'boolean', 'text']),
             (2, 'unschedule', ARRAY['text']),
             (3, 'pause', ARRAY[]::text[]),
             (4, 'resume', ARRAY[]::text[]),
             (5, 'approve', ARRAY['text']),
             (6, 'resolve', ARRAY['text', 'text']),
             (7, 'acquire_lock', ARRAY[]::text[]),
             (8, 'wake', ARRAY[]::text[]),
             (9, 'scheduler_info', ARRAY[]::text[])) AS v(n, f, args)
ORDER BY n;
SELECT function_privs_are('migrate', f, ARRAY[]::text[], 'migrate_admin', ARRAY[]::text[],
                          format('migrate_admin cannot execute the internal migrate.%s()', f))
FROM unnest(ARRAY['acquire_lock', 'wake', 'scheduler_info']) WITH ORDINALITY AS v(f, n)
ORDER BY n;
-- migrate.progress calls progress_slots(), and a view checks function
-- privileges as its reader: readers (and so admins) must be able to run it
SELECT function_privs_are('migrate', 'progress_slots', ARRAY[]::text[], r, ARRAY['EXECUTE'],
                          format('%s can execute migrate.progress_slots() (for migrate.progress)', r))
FROM unnest(ARRAY['migrate_reader', 'migrate_admin']) WITH ORDINALITY AS v(r, n)
ORDER BY n;

SELECT function_privs_are('migrate', 'health', ARRAY[]::text[], 'migrate_reader', ARRAY['EXECUTE'],
                          'migrate_reader can execute migrate.health()');
SELECT function_privs_are('migrate', f, args, 'public', ARRAY['EXECUTE'],
                          format('PUBLIC can execute the helper migrate.%s()', f))
FROM (VALUES (1, 'window_end_at', ARRAY['timestamp with time zone', 'time without time zone',
                                        'time without time zone', 'text']),
             (2, 'cron_next', ARRAY['text', 'timestamp with time zone', 'text']),
             (3, 'schema_objects', ARRAY[]::text[]),
             (4, 'fingerprint', ARRAY[]::text[]),
             (5, 'table_data', ARRAY[]::text[]),
             (6, 'calling_role', ARRAY[]::text[])) AS v(n, f, args)
ORDER BY n;

-- what the pg_migrate client calls (issue 10): migrate_admin's only
SELECT function_privs_are('migrate', v.f, v.args, r.role, r.privs,
                          format('%s %s migrate.%s()', r.role,
                                 CASE WHEN r.privs = '{}' THEN 'cannot execute' ELSE 'can execute' END, v.f))
FROM (VALUES (1, 'tag', ARRAY['text', 'text', 'text']),
             (2, 'untag', ARRAY['text']),
             (3, 'tag_version', ARRAY['text']),
             (4, 'batch_target', ARRAY['text', 'integer']),
             (5, 'deploy', ARRAY['text', 'interval', 'integer', 'boolean', 'boolean', 'text'])) AS v(n, f, args),
     (VALUES (1, 'public', ARRAY[]::text[]),
             (2, 'migrate_reader', ARRAY[]::text[]),
             (3, 'migrate_admin', ARRAY['EXECUTE'])) AS r(n, role, privs)
ORDER BY v.n, r.n;

SELECT table_privs_are('migrate', 'migration', 'public', ARRAY[]::text[],
                       'PUBLIC has no privilege on migrate.migration');
SELECT table_privs_are('migrate', 'migration', 'migrate_reader', ARRAY[]::text[],
                       'migrate_reader has no privilege on migrate.migration (script text)');
SELECT table_privs_are('migrate', 'migration', 'migrate_admin', ARRAY['SELECT'],
                       'migrate_admin may only SELECT migrate.migration');
SELECT table_privs_are('migrate', 'event', 'public', ARRAY[]::text[],
                       'PUBLIC has no privilege on migrate.event');
SELECT table_privs_are('migrate', 'event', 'migrate_reader', ARRAY[]::text[],
                       'migrate_reader has no privilege on migrate.event');
SELECT table_privs_are('migrate', 'event', 'migrate_admin', ARRAY[]::text[],
                       'migrate_admin has no privilege on migrate.event');
SELECT table_privs_are('migrate', 'status', 'public', ARRAY[]::text[],
                       'PUBLIC has no privilege on migrate.status');
SELECT table_privs_are('migrate', 'status_detail', 'public', ARRAY[]::text[],
                       'PUBLIC has no privilege on migrate.status_detail');
SELECT table_privs_are('migrate', 'status_detail', 'migrate_reader', ARRAY['SELECT'],
                       'migrate_reader may SELECT migrate.status_detail');
SELECT table_privs_are('migrate', 'history', 'public', ARRAY[]::text[],
                       'PUBLIC has no privilege on migrate.history');
SELECT table_privs_are('migrate', 'status', 'migrate_reader', ARRAY['SELECT'],
                       'migrate_reader may SELECT migrate.status');
SELECT table_privs_are('migrate', 'history', 'migrate_reader', ARRAY['SELECT'],
                       'migrate_reader may SELECT migrate.history');
SELECT table_privs_are('migrate', t, r, ARRAY[]::text[],
                       format('%s has no privilege on migrate.%s', r, t))
FROM unnest(ARRAY['schedule', 'scheduler_state']) AS t,
     unnest(ARRAY['public', 'migrate_reader', 'migrate_admin']) AS r
ORDER BY t, r;
SELECT table_privs_are('migrate', v, 'public', ARRAY[]::text[],
                       format('PUBLIC has no privilege on migrate.%s', v))
FROM unnest(ARRAY['schedules', 'progress']) AS v
ORDER BY v;
SELECT table_privs_are('migrate', v, 'migrate_reader', ARRAY['SELECT'],
                       format('migrate_reader may SELECT migrate.%s', v))
FROM unnest(ARRAY['schedules', 'progress']) AS v
ORDER BY v;
SELECT table_privs_are('migrate', 'tag', r, ARRAY[]::text[],
                       format('%s has no privilege on migrate.tag', r))
FROM unnest(ARRAY['public', 'migrate_reader', 'migrate_admin']) WITH ORDINALITY AS v(r, n)
ORDER BY n;
SELECT table_privs_are('migrate', 'tags', 'public', ARRAY[]::text[],
                       'PUBLIC has no privilege on migrate.tags');
SELECT table_privs_are('migrate', 'tags', 'migrate_reader', ARRAY['SELECT'],
                       'migrate_reader may SELECT migrate.tags');
SELECT sequence_privs_are('migrate', s, r, ARRAY[]::text[],
                          format('%s has no privilege on sequence migrate.%s', r, s))
FROM unnest(ARRAY['event_id_seq', 'apply_seq']) AS s,
     unnest(ARRAY['public', 'migrate_reader', 'migrate_admin']) AS r
ORDER BY s, r;
SELECT schema_privs_are('migrate', 'public', ARRAY['USAGE'],
                        'PUBLIC has only USAGE on schema migrate (for the helper functions)');
SELECT schema_privs_are('migrate', 'migrate_reader', ARRAY['USAGE'],
                        'migrate_reader has USAGE on schema migrate');

-- ---------------------------------------------------------------------------
-- roles and a first migration, applied by the superuser
-- ---------------------------------------------------------------------------
CREATE ROLE app LOGIN;
GRANT migrate_reader TO app;
CREATE ROLE deployer LOGIN;
GRANT migrate_admin TO deployer;
CREATE ROLE stranger LOGIN;
CREATE SCHEMA app_schema;
GRANT USAGE, CREATE ON SCHEMA app_schema TO deployer;
GRANT USAGE ON SCHEMA app_schema TO app;

SELECT is(migrate.register('tap-priv-1', 'priv_base',
                           'CREATE TABLE app_schema.base (id int);',
                           'DROP TABLE app_schema.base;'),
          'registered', 'the superuser registers tap-priv-1');
SELECT results_eq($$SELECT version, action, state FROM migrate.apply('tap-priv-1')$$,
                  $$VALUES ('tap-priv-1', 'apply', 'applied')$$,
                  'the superuser applies tap-priv-1');
SELECT is(migrate.register('tap-priv-8', 'priv_pending', 'SELECT 1;'),
          'registered', 'the superuser registers tap-priv-8 and leaves it pending');
SELECT is(migrate.tag('tap-priv-good', comment => 'base'), 'tap-priv-1',
          'the superuser tags the migration applied last, tap-priv-1');

-- ---------------------------------------------------------------------------
-- app (migrate_reader): read, require, nothing else
-- ---------------------------------------------------------------------------
SET ROLE app;

SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-1'), 'applied',
          'app reads migrate.status');
SELECT is((SELECT checksum_ok FROM migrate.status_detail WHERE version = 'tap-priv-1'), true,
          'app reads migrate.status_detail');
SELECT is(migrate.require('tap-priv-1'), 'tap-priv-1',
          'migrate.require() returns the version it found to app');
SELECT is((SELECT role FROM migrate.history
           WHERE version = 'tap-priv-1' AND action = 'apply' AND outcome = 'success'),
          current_setting('tap.superuser')::name, 'app reads migrate.history');
SELECT lives_ok($$SELECT migrate.require('tap-priv-1')$$,
                'app calls migrate.require() for an applied migration');
SELECT throws_ok($$SELECT migrate.require('tap-priv-8')$$,
                 'MG006', 'migration "tap-priv-8" is not applied',
                 'app gets MG006 from migrate.require() for a pending migration');
SELECT throws_ok($$SELECT migrate.require('tap-priv-nonesuch')$$,
                 '42704', 'migration "tap-priv-nonesuch" is not registered',
                 'app gets 42704 from migrate.require() for an unknown migration');
SELECT lives_ok($$SELECT migrate.checksum('SELECT 1;'), migrate.version_cmp('1', '2')$$,
                'app calls the helper functions');
SELECT lives_ok($$SELECT migrate.cron_next('0 2 * * 0'),
                         migrate.window_end_at(now(), '00:00', '23:59', 'UTC')$$,
                'app calls the scheduling helpers');

SELECT results_eq($$SELECT tag, version, comment FROM migrate.tags$$,
                  $$VALUES ('tap-priv-good', 'tap-priv-1', 'base')$$,
                  'app reads migrate.tags');
SELECT lives_ok($$SELECT * FROM migrate.schedules$$, 'app reads migrate.schedules');
SELECT lives_ok($$SELECT * FROM migrate.progress$$, 'app reads migrate.progress');
SELECT lives_ok($$SELECT * FROM migrate.progress_slots()$$,
                'app calls migrate.progress_slots() (what migrate.progress reads)');
SELECT lives_ok($$SELECT * FROM migrate.verify_integrity()$$, 'app calls migrate.verify_integrity()');
SELECT lives_ok($$SELECT migrate.fingerprint(), (SELECT count(*) FROM migrate.schema_objects())$$,
                'app calls migrate.fingerprint() and migrate.schema_objects()');
SELECT is(migrate.calling_role(), 'app'::name, 'migrate.calling_role() names app under SET ROLE app');
SELECT lives_ok($$SELECT * FROM migrate.health()$$, 'app calls migrate.health()');
SELECT cmp_ok((SELECT pending FROM migrate.health()), '>=', 1,
              'health() counts tap-priv-8 as pending');

SELECT throws_ok(format('SELECT %s', call), '42501', format('permission denied for function %s', f),
                 format('app cannot call migrate.%s()', f))
FROM (VALUES (1, 'schedule', $$migrate.schedule('tap-priv-app', every => '1 hour')$$),
             (2, 'unschedule', $$migrate.unschedule('tap-priv-app')$$),
             (3, 'pause', $$migrate.pause()$$),
             (4, 'resume', $$migrate.resume()$$),
             (5, 'approve', $$migrate.approve('tap-priv-8')$$),
             (6, 'resolve', $$migrate.resolve('tap-priv-8', 'retry')$$),
             (7, 'acquire_lock', $$migrate.acquire_lock()$$),
             (8, 'wake', $$migrate.wake()$$),
             (9, 'scheduler_info', $$* FROM migrate.scheduler_info()$$),
             (10, 'plan', $$* FROM migrate.plan()$$),
             (11, 'rehearse', $$* FROM migrate.rehearse()$$),
             (12, 'tag', $$migrate.tag('tap-priv-app')$$),
             (13, 'untag', $$migrate.untag('tap-priv-good')$$),
             (14, 'tag_version', $$migrate.tag_version('tap-priv-good')$$),
             (15, 'batch_target', $$migrate.batch_target(NULL, 10)$$)) AS v(n, f, call)
ORDER BY n;
SELECT throws_ok($$CALL migrate.deploy(batch_size => 10)$$,
                 '42501', 'permission denied for procedure deploy',
                 'app cannot CALL migrate.deploy()');
SELECT throws_ok($$INSERT INTO migrate.tag (name, version, created_by) VALUES ('forged', 'tap-priv-8', 'app')$$,
                 '42501', 'permission denied for table tag',
                 'app cannot write migrate.tag behind tag()''s back');
SELECT throws_ok($$SELECT * FROM migrate.schedule$$,
                 '42501', 'permission denied for table schedule',
                 'app cannot read migrate.schedule directly');
SELECT throws_ok($$UPDATE migrate.scheduler_state SET paused = true$$,
                 '42501', 'permission denied for table scheduler_state',
                 'app cannot pause the scheduler behind pause()''s back');

SELECT throws_ok($$SELECT migrate.register('tap-priv-9', 'app_try', 'CREATE TABLE app_schema.x (id int);')$$,
                 '42501', 'permission denied for function register',
                 'app cannot register');
SELECT throws_ok($$SELECT * FROM migrate.apply()$$,
                 '42501', 'permission denied for function apply',
                 'app cannot apply');
SELECT throws_ok($$SELECT * FROM migrate.revert()$$,
                 '42501', 'permission denied for function revert',
                 'app cannot revert');
SELECT throws_ok($$SELECT * FROM migrate.revert_all()$$,
                 '42501', 'permission denied for function revert_all',
                 'app cannot revert_all');
SELECT throws_ok($$SELECT migrate.repair('tap-priv-1')$$,
                 '42501', 'permission denied for function repair',
                 'app cannot repair');
SELECT throws_ok($$SELECT up_script FROM migrate.migration$$,
                 '42501', 'permission denied for table migration',
                 'app cannot read script text from migrate.migration');
SELECT throws_ok($$SELECT * FROM migrate.event$$,
                 '42501', 'permission denied for table event',
                 'app cannot read migrate.event directly');
SELECT throws_ok($$INSERT INTO migrate.event (action, version, name, outcome, role, started_at)
                   VALUES ('apply', 'tap-priv-9', 'forged', 'success', 'app', now())$$,
                 '42501', 'permission denied for table event',
                 'app cannot forge history in migrate.event');
SELECT throws_ok($$UPDATE migrate.migration SET state = 'pending' WHERE version = 'tap-priv-1'$$,
                 '42501', 'permission denied for table migration',
                 'app cannot UPDATE migrate.migration');
SELECT throws_ok($$DELETE FROM migrate.migration$$,
                 '42501', 'permission denied for table migration',
                 'app cannot DELETE FROM migrate.migration');
SELECT throws_ok($$UPDATE migrate.status SET state = 'pending'$$,
                 '42501', 'permission denied for view status',
                 'app cannot write through migrate.status');
SELECT throws_ok($$SELECT nextval('migrate.apply_seq')$$,
                 '42501', 'permission denied for sequence apply_seq',
                 'app cannot advance migrate.apply_seq');

RESET ROLE;

-- ---------------------------------------------------------------------------
-- stranger: nothing at all
-- ---------------------------------------------------------------------------
SET ROLE stranger;

SELECT throws_ok($$SELECT * FROM migrate.status$$, '42501', NULL,
                 'stranger cannot read migrate.status');
SELECT throws_ok($$SELECT * FROM migrate.status_detail$$, '42501', NULL,
                 'stranger cannot read migrate.status_detail');
SELECT throws_ok($$SELECT * FROM migrate.history$$, '42501', NULL,
                 'stranger cannot read migrate.history');
SELECT throws_ok($$SELECT migrate.require('tap-priv-1')$$, '42501', NULL,
                 'stranger cannot call migrate.require()');
SELECT throws_ok($$SELECT * FROM migrate.apply()$$, '42501', NULL,
                 'stranger cannot apply');
SELECT throws_ok($$SELECT migrate.register('tap-priv-9', 'stranger_try', 'SELECT 1;')$$, '42501', NULL,
                 'stranger cannot register');
SELECT throws_ok($$SELECT * FROM migrate.health()$$, '42501', NULL,
                 'stranger cannot call migrate.health()');
SELECT throws_ok($$SELECT * FROM migrate.schedules$$, '42501', NULL,
                 'stranger cannot read migrate.schedules');
SELECT throws_ok($$SELECT * FROM migrate.progress$$, '42501', NULL,
                 'stranger cannot read migrate.progress');
SELECT throws_ok($$SELECT migrate.pause()$$, '42501', NULL,
                 'stranger cannot pause the scheduler');
SELECT throws_ok($$SELECT * FROM migrate.tags$$, '42501', NULL,
                 'stranger cannot read migrate.tags');
SELECT throws_ok(format('SELECT * FROM migrate.%s', call), '42501',
                 format('permission denied for function %s', f),
                 format('stranger cannot call migrate.%s()', f))
FROM (VALUES (1, 'progress_slots', 'progress_slots()'),
             (2, 'verify_integrity', 'verify_integrity()'),
             (3, 'plan', 'plan()'),
             (4, 'rehearse', 'rehearse()')) AS v(n, f, call)
ORDER BY n;
-- the fingerprint helpers are PUBLIC: they read the system catalogs, which
-- anybody may read; table_data() reads table contents as the caller
SELECT lives_ok($$SELECT migrate.fingerprint()$$, 'stranger calls migrate.fingerprint()');
SELECT is(migrate.calling_role(), 'stranger'::name,
          'migrate.calling_role() names stranger under SET ROLE stranger');
SELECT throws_ok($$SELECT * FROM migrate.table_data()$$, '42501', NULL,
                 'migrate.table_data() reads as the caller: stranger gets 42501, not the rows of app_schema.base');

RESET ROLE;

-- with USAGE on the schema but still no grant on the view, require()
-- reads migrate.status with the caller's privileges and is refused
GRANT USAGE ON SCHEMA migrate TO stranger;
SET ROLE stranger;

SELECT throws_ok($$SELECT migrate.require('tap-priv-1')$$,
                 '42501', 'permission denied for view status',
                 'require() reads migrate.status as the caller, not as the owner');
SELECT throws_ok($$SELECT * FROM migrate.apply()$$,
                 '42501', 'permission denied for function apply',
                 'schema USAGE alone does not allow apply');
SELECT lives_ok($$SELECT migrate.checksum('SELECT 1;')$$,
                'the helper functions need only schema USAGE');

RESET ROLE;
REVOKE USAGE ON SCHEMA migrate FROM stranger;

-- ---------------------------------------------------------------------------
-- deployer (migrate_admin): register and apply, with its own privileges
-- ---------------------------------------------------------------------------
SET ROLE deployer;

SELECT is(migrate.register('tap-priv-2', 'deployer_widget',
                           $$CREATE TABLE app_schema.widget (
                                 id int PRIMARY KEY,
                                 created_by name NOT NULL DEFAULT current_user);
                             INSERT INTO app_schema.widget (id) VALUES (1);$$,
                           'DROP TABLE app_schema.widget;'),
          'registered', 'deployer registers tap-priv-2');
SELECT results_eq($$SELECT version, action, state FROM migrate.apply('tap-priv-2')$$,
                  $$VALUES ('tap-priv-2', 'apply', 'applied')$$,
                  'deployer applies tap-priv-2');
SELECT table_owner_is('app_schema', 'widget', 'deployer',
                      'the table the migration created is owned by deployer, not the extension owner');
SELECT is((SELECT created_by FROM app_schema.widget WHERE id = 1), 'deployer'::name,
          'the migration''s SQL ran as deployer (current_user)');
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-2'), 'applied',
          'migrate.status shows tap-priv-2 applied');
SELECT is((SELECT applied_by FROM migrate.status WHERE version = 'tap-priv-2'), 'deployer'::name,
          'migrate.status shows it applied by deployer');
SELECT is((SELECT role FROM migrate.history
           WHERE version = 'tap-priv-2' AND action = 'apply' AND outcome = 'success'),
          'deployer'::name, 'migrate.history records role deployer for the apply');
SELECT is((SELECT role FROM migrate.history
           WHERE version = 'tap-priv-2' AND action = 'register' AND outcome = 'success'),
          'deployer'::name, 'migrate.history records role deployer for the registration');
SELECT is((SELECT up_script FROM migrate.migration WHERE version = 'tap-priv-2') LIKE 'CREATE TABLE app_schema.widget%',
          true, 'deployer reads script text from migrate.migration');
SELECT lives_ok($$SELECT migrate.require('tap-priv-2')$$,
                'deployer calls migrate.require() (migrate_admin includes migrate_reader)');

-- direct writes to the catalog stay forbidden
SELECT throws_ok($$UPDATE migrate.migration SET state = 'pending' WHERE version = 'tap-priv-2'$$,
                 '42501', 'permission denied for table migration',
                 'deployer cannot UPDATE migrate.migration directly');
SELECT throws_ok($$DELETE FROM migrate.event$$,
                 '42501', 'permission denied for table event',
                 'deployer cannot DELETE FROM migrate.event directly');
SELECT throws_ok($$INSERT INTO migrate.event (action, version, name, outcome, role, started_at)
                   VALUES ('apply', 'tap-priv-9', 'forged', 'success', session_user, now())$$,
                 '42501', 'permission denied for table event',
                 'deployer cannot forge history in migrate.event');
SELECT throws_ok($$INSERT INTO migrate.migration (version, version_key, name, up_script, checksum,
                                                  checksum_version, statements, transactional)
                   VALUES ('tap-priv-9', migrate.version_key('tap-priv-9'), 'forged', 'SELECT 1;',
                           migrate.checksum('SELECT 1;'), 1, 1, true)$$,
                 '42501', 'permission denied for table migration',
                 'deployer cannot register behind register()''s back');

-- a revert runs as the caller too: deployer may not drop the superuser's table
SELECT throws_ok($$SELECT * FROM migrate.revert(migration => 'tap-priv-1')$$,
                 '42501', 'must be owner of table base',
                 'deployer cannot revert a migration whose down script needs the owner''s rights');
SELECT has_table('app_schema', 'base', 'app_schema.base is still there');
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-1'), 'applied',
          'tap-priv-1 is still applied');

-- migrations that try to do what deployer may not: each fails with 42501,
-- re-registering the same pending migration with the next attempt
SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           'CREATE TABLE public.nope (id int);'),
          'registered', 'deployer registers a migration that creates a table in schema public');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', 'permission denied for schema public',
                 'it fails: PUBLIC has no CREATE on schema public, and neither has deployer');
SELECT hasnt_table('public', 'nope', 'public.nope was not created');

SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           'ALTER ROLE deployer SUPERUSER;'),
          'updated', 'deployer re-registers it to make itself superuser');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', NULL,
                 'it fails: ALTER ROLE ... SUPERUSER needs a superuser');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'deployer'), false,
          'deployer is still not a superuser');

SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           format('ALTER ROLE %I PASSWORD ''pwned'';', current_setting('tap.superuser'))),
          'updated', 'deployer re-registers it to change the superuser''s password');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', NULL,
                 'it fails: altering the superuser needs a superuser');

SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           'GRANT migrate_admin TO stranger;'),
          'updated', 'deployer re-registers it to grant migrate_admin to stranger');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', NULL,
                 'it fails: deployer has no ADMIN OPTION on migrate_admin');
SELECT is(pg_has_role('stranger', 'migrate_admin', 'MEMBER'), false,
          'stranger did not become a member of migrate_admin');

-- SET ROLE is checked against the session user, which SET ROLE deployer
-- leaves as the superuser; SET SESSION AUTHORIZATION makes this session
-- look like deployer's own login for this one attempt
RESET ROLE;
SET SESSION AUTHORIZATION deployer;
SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           format('SET ROLE %I;', current_setting('tap.superuser'))),
          'updated', 'deployer (logged in as itself) re-registers it to switch to the superuser');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', format('permission denied to set role "%s"', current_setting('tap.superuser')),
                 'it fails: deployer may not SET ROLE to the superuser');
SELECT is(current_user, 'deployer'::name, 'the session still runs as deployer');
RESET SESSION AUTHORIZATION;
SET ROLE deployer;

SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           'UPDATE migrate.migration SET state = ''pending'' WHERE version = ''tap-priv-2'';'),
          'updated', 'deployer re-registers it to tamper with the catalog');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', 'permission denied for table migration',
                 'it fails: the migration''s SQL does not run with the owner''s rights');

SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           'DELETE FROM migrate.event;'),
          'updated', 'deployer re-registers it to erase history');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', 'permission denied for table event',
                 'it fails: the migration cannot touch migrate.event');

SELECT is(migrate.register('tap-priv-3', 'deployer_escalate',
                           'INSERT INTO migrate.event (action, version, name, outcome, role, started_at)'
                           ' VALUES (''apply'', ''tap-priv-9'', ''forged'', ''success'', session_user, now());'),
          'updated', 'deployer re-registers it to forge history');
SELECT throws_ok($$SELECT * FROM migrate.apply('tap-priv-3')$$,
                 '42501', 'permission denied for table event',
                 'it fails: the migration cannot write migrate.event');
SELECT is((SELECT count(*) FROM migrate.history WHERE version = 'tap-priv-9'), 0::bigint,
          'no forged history row exists');

SELECT isnt((SELECT state FROM migrate.status WHERE version = 'tap-priv-3'), 'applied',
            'tap-priv-3 never got applied');
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-2'), 'applied',
          'tap-priv-2 is still applied');

-- deployer reverts its own migration (its down script drops its own table)
SELECT results_eq($$SELECT version, action, state FROM migrate.revert(migration => 'tap-priv-2')$$,
                  $$VALUES ('tap-priv-2', 'revert', 'reverted')$$,
                  'deployer reverts tap-priv-2');
SELECT hasnt_table('app_schema', 'widget', 'app_schema.widget is gone');
SELECT is((SELECT role FROM migrate.history
           WHERE version = 'tap-priv-2' AND action = 'revert' AND outcome = 'success'),
          'deployer'::name, 'migrate.history records role deployer for the revert');

-- The functions run their bookkeeping statements as the extension owner.
-- Those statements must not resolve anything through the caller's
-- search_path: an operator deployer puts ahead of pg_catalog would
-- otherwise run with the owner's (superuser's) rights (the CVE-2018-1058
-- pattern).  The trap below only records who runs it; run_pinned in
-- src/store/spi.c pins search_path to pg_catalog, pg_temp to prevent this.
SELECT is(migrate.register('tap-priv-3', 'deployer_escalate', 'SELECT 1;'),
          'updated', 'deployer makes tap-priv-3 harmless');
-- the trap: operators for text = text and bytea = bytea in app_schema,
-- which deployer puts ahead of pg_catalog; used again below for the
-- SECURITY DEFINER functions
CREATE TABLE app_schema.seen (who name);
-- calls by any other role are also counted in a sequence, which a rollback
-- does not undo (rehearse() and plan() roll back what they run)
CREATE SEQUENCE app_schema.foreign_calls;
CREATE FUNCTION app_schema.trap_texteq(a text, b text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app_schema.seen VALUES (current_user);
    IF current_user OPERATOR(pg_catalog.<>) 'deployer'::name THEN
        PERFORM pg_catalog.nextval('app_schema.foreign_calls');
    END IF;
    RETURN a OPERATOR(pg_catalog.=) b;
END
$$;
CREATE FUNCTION app_schema.trap_byteaeq(a bytea, b bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app_schema.seen VALUES (current_user);
    IF current_user OPERATOR(pg_catalog.<>) 'deployer'::name THEN
        PERFORM pg_catalog.nextval('app_schema.foreign_calls');
    END IF;
    RETURN a OPERATOR(pg_catalog.=) b;
END
$$;
CREATE OPERATOR app_schema.= (LEFTARG = text, RIGHTARG = text,
                              FUNCTION = app_schema.trap_texteq);
CREATE OPERATOR app_schema.= (LEFTARG = bytea, RIGHTARG = bytea,
                              FUNCTION = app_schema.trap_byteaeq);
SET search_path = app_schema, pg_catalog;
SELECT migrate.register('tap-priv-4', 'deployer_trap', 'SELECT 1;') AS trap_registered \gset
SELECT count(*) AS trap_applied FROM migrate.apply('tap-priv-4') \gset
RESET search_path;
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-4'), 'applied',
          'deployer applies tap-priv-4 with its operators first in search_path');
SELECT is((SELECT array_agg(DISTINCT who ORDER BY who) FROM app_schema.seen
           WHERE who <> 'deployer'), NULL,
          'none of the caller''s code ran as another role during register and apply');

-- ---------------------------------------------------------------------------
-- deployer (migrate_admin): plan and rehearse, as the caller
-- ---------------------------------------------------------------------------
SELECT is(migrate.register('tap-priv-5', 'deployer_rehearsed',
                           'CREATE TABLE app_schema.rehearsed (id int PRIMARY KEY);',
                           'DROP TABLE app_schema.rehearsed;'),
          'registered', 'deployer registers tap-priv-5, whose down script undoes its up script');
SELECT results_eq($$SELECT action, reason, statements, transactional, runs_in, approved, checks,
                           skip, skip_reason
                    FROM migrate.plan() WHERE version = 'tap-priv-5'$$,
                  $$VALUES ('apply', 'pending', 1, true, 'transaction', false, '{}'::text[],
                            false, NULL::text)$$,
                  'plan() lists the pending tap-priv-5: one statement in a transaction, no checks, not skipped');
SELECT is((SELECT version FROM migrate.plan('tap-priv-5') ORDER BY ordinal DESC LIMIT 1), 'tap-priv-5',
          'plan(target) ends at the target');
SELECT is((SELECT count(*) FROM migrate.plan()
           WHERE version IN ('tap-priv-1', 'tap-priv-2', 'tap-priv-3', 'tap-priv-4')), 0::bigint,
          'plan() leaves out the applied tap-priv-1 to tap-priv-4 (apply(''tap-priv-4'') applied 2 and 3 again)');
-- a precondition that reads what deployer may not: plan() runs it as its
-- registrant, deployer, so it fails (and in skip mode the migration would
-- be skipped); hostile.sql has the superuser look at deployer's checks
SELECT is(migrate.register('tap-priv-6', 'deployer_checked', 'SELECT 1;',
                           'SELECT 1;', 'SELECT true;',
                           'SELECT count(*) >= 0 FROM migrate.event;', 'skip'),
          'registered', 'deployer registers tap-priv-6 with a verify script and a precondition (skip)');
SELECT results_eq($$SELECT checks, skip FROM migrate.plan() WHERE version = 'tap-priv-6'$$,
                  $$VALUES ('{"precondition (skip)",verify}'::text[], true)$$,
                  'plan() lists the checks of tap-priv-6 and that its precondition does not hold now');
SELECT matches((SELECT skip_reason FROM migrate.plan() WHERE version = 'tap-priv-6'),
               'permission denied for table event',
               'the precondition ran as deployer, not as the extension owner');
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-5'), 'pending',
          'plan() applied nothing');

SELECT migrate.fingerprint() AS fingerprint_before_rehearsal \gset
SELECT results_eq($$SELECT ordinal, version, ok, failed_step, differences, error
                    FROM migrate.rehearse(from_version => 'tap-priv-5', to_version => 'tap-priv-5')$$,
                  $$VALUES (1, 'tap-priv-5', true, NULL::text, NULL::jsonb, NULL::text)$$,
                  'deployer rehearses tap-priv-5: up, down and up again, ok');
SELECT hasnt_table('app_schema', 'rehearsed', 'the rehearsal left no app_schema.rehearsed behind');
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-5'), 'pending',
          'tap-priv-5 is still pending after its rehearsal');
SELECT is(migrate.fingerprint(), :'fingerprint_before_rehearsal',
          'the schema fingerprint is the same as before the rehearsal');
SELECT is((SELECT count(*) FROM migrate.history WHERE version = 'tap-priv-5' AND action <> 'register'),
          0::bigint, 'the rehearsal recorded no apply or revert of tap-priv-5');

SELECT is(migrate.register('tap-priv-7', 'deployer_leftover',
                           'CREATE TABLE app_schema.leftover (id int);', 'SELECT 1;'),
          'registered', 'deployer registers tap-priv-7, whose down script forgets its table');
SELECT results_eq($$SELECT version, ok, failed_step,
                           differences @> '[{"change": "extra", "kind": "table",
                                             "identity": "app_schema.leftover"}]'
                    FROM migrate.rehearse(from_version => 'tap-priv-7', to_version => 'tap-priv-7')$$,
                  $$VALUES ('tap-priv-7', false, 'down does not restore the state before up', true)$$,
                  'rehearse() finds the table the down script of tap-priv-7 leaves behind');
SELECT hasnt_table('app_schema', 'leftover', 'that rehearsal left nothing behind either');
SELECT is(migrate.register('tap-priv-7', 'deployer_leftover', 'DELETE FROM migrate.event;', 'SELECT 1;'),
          'updated', 'deployer re-registers tap-priv-7 to erase history');
SELECT results_eq($$SELECT version, ok, failed_step, error ~ '^permission denied for table event'
                    FROM migrate.rehearse(from_version => 'tap-priv-7', to_version => 'tap-priv-7')$$,
                  $$VALUES ('tap-priv-7', false, 'up', true)$$,
                  'rehearse() runs the migration''s SQL as deployer: its up fails with permission denied');

-- plan() and rehearse() with deployer's operators ahead of pg_catalog:
-- none of them runs as anybody else, even inside what is rolled back
SELECT is(migrate.register('tap-priv-7', 'deployer_leftover', 'SELECT 1;', 'SELECT 1;'),
          'updated', 'deployer makes tap-priv-7 harmless');
SET search_path = app_schema, pg_catalog;
SELECT count(*) AS trap_planned FROM migrate.plan() \gset
SELECT count(*) AS trap_rehearsed FROM migrate.rehearse(from_version => 'tap-priv-5',
                                                       to_version => 'tap-priv-7') \gset
RESET search_path;
SELECT is((SELECT is_called FROM app_schema.foreign_calls), false,
          'none of the caller''s code ran as another role during plan and rehearse');

-- verify_integrity() reads with the caller's privileges: deployer sees the
-- rows that break a NOT VALID foreign key of its own tables, app (which
-- may not read them) is told they were not checked
CREATE TABLE app_schema.parent (id int PRIMARY KEY);
CREATE TABLE app_schema.child (parent_id int);
INSERT INTO app_schema.child VALUES (42);
ALTER TABLE app_schema.child ADD CONSTRAINT child_parent_fk
    FOREIGN KEY (parent_id) REFERENCES app_schema.parent NOT VALID;
SELECT results_eq($$SELECT severity, check_name FROM migrate.verify_integrity()
                    WHERE object = 'app_schema.child.child_parent_fk'$$,
                  $$VALUES ('error', 'orphaned rows')$$,
                  'verify_integrity() as deployer finds the orphaned row');
SET ROLE app;
SELECT results_eq($$SELECT severity, check_name FROM migrate.verify_integrity()
                    WHERE object = 'app_schema.child.child_parent_fk'$$,
                  $$VALUES ('warning', 'not checked')$$,
                  'verify_integrity() as app reports the foreign key not checked, and counts no rows');
SET ROLE deployer;

-- ---------------------------------------------------------------------------
-- deployer (migrate_admin): the scheduler's SECURITY DEFINER functions
-- ---------------------------------------------------------------------------
SELECT lives_ok($$SELECT migrate.schedule('tap-priv-nightly', cron => '0 2 * * 0',
                                          maintenance_window => '01:00-05:00', timezone => 'Europe/Paris',
                                          target => 'tap-priv-1')$$,
                'deployer schedules a nightly cron run');
SELECT results_eq($$SELECT name, every, cron, maintenance_window, timezone, target, require_approval, enabled
                    FROM migrate.schedules WHERE name = 'tap-priv-nightly'$$,
                  $$VALUES ('tap-priv-nightly', NULL::interval, '0 2 * * 0', '01:00-05:00',
                            'Europe/Paris', 'tap-priv-1', true, true)$$,
                  'migrate.schedules shows the schedule as given, approval required by default');
SELECT is((SELECT created_by FROM migrate.schedules WHERE name = 'tap-priv-nightly'), 'deployer'::name,
          'migrate.schedules records deployer (the role after SET ROLE) as its creator');
SELECT lives_ok($$SELECT migrate.schedule('tap-priv-nightly', every => '6 hours',
                                          require_approval => false)$$,
                'deployer replaces the schedule by scheduling the same name again');
SELECT results_eq($$SELECT every, cron, maintenance_window, timezone, target, require_approval
                    FROM migrate.schedules WHERE name = 'tap-priv-nightly'$$,
                  $$VALUES ('6 hours'::interval, NULL::text, NULL::text, 'UTC', NULL::text, false)$$,
                  'the schedule now runs every 6 hours, and nothing of the old one remains');

-- bad input never reaches the table
SELECT throws_ok(format('SELECT migrate.schedule(%s)', args), errcode, NULL, what)
FROM (VALUES (1, $$'tap-priv-bad', every => '1 hour', cron => '0 2 * * *'$$, '22023',
                 'schedule() refuses both every and cron'),
             (2, $$'tap-priv-bad'$$, '22023',
                 'schedule() refuses neither every nor cron'),
             (3, $$'tap-priv-bad', every => '-1 hour'$$, '22023',
                 'schedule() refuses a negative interval'),
             (4, $$'tap-priv-bad', every => '1 hour', "window" => '25:00-26:00'$$, '22023',
                 'schedule() refuses window 25:00-26:00 with 22023'),
             (5, $$'tap-priv-bad', every => '1 hour', "window" => 'x'$$, '22023',
                 'schedule() refuses window x'),
             (6, $$'tap-priv-bad', every => '1 hour', "window" => '02:00-02:00'$$, '22023',
                 'schedule() refuses an empty window'),
             (7, $$'tap-priv-bad', every => '1 hour', timezone => 'Nowhere/Atlantis'$$, '22023',
                 'schedule() refuses an unknown time zone (PostgreSQL''s own 22023)'),
             (8, $$'tap-priv-bad', cron => 'every night'$$, '22023',
                 'schedule() refuses a malformed cron expression'),
             (9, $$'tap-priv-bad', every => '1 hour', target => 'tap-priv-nonesuch'$$, '42704',
                 'schedule() refuses an unknown target version'),
             (10, $$'tap-priv-bad', every => '1 hour', "window" => '12:60-13:00'$$, '22023',
                 'schedule() refuses window 12:60-13:00 with 22023'),
             (11, $$'tap-priv-bad', every => '1 hour', maintenance_window => '25:00-26:00'$$, '22023',
                 'schedule() refuses maintenance_window 25:00-26:00 with 22023'),
             (12, $$'tap-priv-bad', every => '1 hour', maintenance_window => '01:00-02:00', "window" => '01:00-02:00'$$, '22023',
                 'schedule() refuses both maintenance_window and its old name window')) AS v(n, args, errcode, what)
ORDER BY n;
SELECT is((SELECT count(*) FROM migrate.schedules WHERE name = 'tap-priv-bad'), 0::bigint,
          'no rejected schedule was stored');

SELECT lives_ok($$SELECT migrate.schedule('tap-priv-gone', every => '1 day')$$,
                'deployer schedules a second run');
SELECT lives_ok($$SELECT migrate.unschedule('tap-priv-gone')$$,
                'deployer unschedules it');
SELECT is((SELECT count(*) FROM migrate.schedules WHERE name = 'tap-priv-gone'), 0::bigint,
          'it is gone from migrate.schedules');
SELECT throws_ok($$SELECT migrate.unschedule('tap-priv-gone')$$,
                 '42704', 'schedule "tap-priv-gone" does not exist',
                 'unscheduling it again is an error');

-- the pause switch has no row until the first pause() or resume(): no
-- row means not paused (emptied here in case an earlier run committed one)
RESET ROLE;
DELETE FROM migrate.scheduler_state;
SET ROLE deployer;
SELECT is((SELECT paused FROM migrate.schedules WHERE name = 'tap-priv-nightly'), false,
          'with no row in migrate.scheduler_state, migrate.schedules shows the scheduler not paused');
SELECT isnt((SELECT scheduler FROM migrate.health()), 'paused',
            'with no row in migrate.scheduler_state, health() does not report the scheduler paused');

-- pause and resume, each recorded in the history (without a version)
SELECT is(migrate.pause(), 'paused', 'deployer pauses the scheduler, and pause() says so');
SELECT is((SELECT paused FROM migrate.schedules WHERE name = 'tap-priv-nightly'), true,
          'migrate.schedules shows the scheduler paused');
SELECT ok((SELECT scheduler = 'paused' OR scheduler LIKE 'off%' FROM migrate.health()),
          'health() reports the scheduler paused (or off, without the library preloaded)');
SELECT results_eq($$SELECT version, outcome, role FROM migrate.history
                    WHERE action = 'pause' AND started_at = now()$$,
                  $$VALUES (NULL::text, 'success', 'deployer'::name)$$,
                  'pause() recorded one successful pause by deployer in migrate.history');
RESET ROLE;
SELECT results_eq($$SELECT paused, changed_by FROM migrate.scheduler_state$$,
                  $$VALUES (true, 'deployer'::name)$$,
                  'pause() inserted the one row of migrate.scheduler_state, paused by deployer');
SET ROLE deployer;
SELECT is(migrate.resume(), 'resumed', 'deployer resumes the scheduler, and resume() says so');
SELECT is((SELECT paused FROM migrate.schedules WHERE name = 'tap-priv-nightly'), false,
          'migrate.schedules shows the scheduler running again');
SELECT results_eq($$SELECT version, outcome, role FROM migrate.history
                    WHERE action = 'resume' AND started_at = now()$$,
                  $$VALUES (NULL::text, 'success', 'deployer'::name)$$,
                  'resume() recorded one successful resume by deployer in migrate.history');
RESET ROLE;
SELECT results_eq($$SELECT paused, changed_by FROM migrate.scheduler_state$$,
                  $$VALUES (false, 'deployer'::name)$$,
                  'resume() updated that same row: still one row, not paused');
-- resume() on an empty switch inserts the row as well
DELETE FROM migrate.scheduler_state;
SET ROLE deployer;
SELECT lives_ok($$SELECT migrate.resume()$$, 'deployer resumes a scheduler that was never paused');
RESET ROLE;
SELECT results_eq($$SELECT paused, changed_by FROM migrate.scheduler_state$$,
                  $$VALUES (false, 'deployer'::name)$$,
                  'resume() inserted the row, not paused');
SET ROLE deployer;

-- approve: recorded under the role that approved, like apply and revert
SELECT throws_ok($$SELECT migrate.approve('tap-priv-8')$$,
                 '42501', 'permission denied to approve migration "tap-priv-8"',
                 'deployer cannot approve the superuser''s tap-priv-8: a scheduled run would run it as the superuser');
SELECT lives_ok($$SELECT migrate.approve('tap-priv-4')$$, 'deployer approves its own tap-priv-4');
SELECT isnt((SELECT approved_at FROM migrate.migration WHERE version = 'tap-priv-4'), NULL,
            'tap-priv-4 is approved');
SELECT is((SELECT array_agg(role) FROM migrate.history
           WHERE version = 'tap-priv-4' AND action = 'approve' AND outcome = 'success'),
          ARRAY['deployer']::name[],
          'migrate.history records role deployer for the approval (as for apply under SET ROLE)');
SELECT throws_ok($$SELECT migrate.approve('tap-priv-nonesuch')$$,
                 '42704', 'migration "tap-priv-nonesuch" is not registered',
                 'approving an unknown migration is an error');

RESET ROLE;
SET SESSION AUTHORIZATION deployer;
SELECT lives_ok($$SELECT migrate.approve('tap-priv-4')$$,
                'deployer (logged in as itself) approves tap-priv-4 again');
SELECT is((SELECT role FROM migrate.history
           WHERE version = 'tap-priv-4' AND action = 'approve' AND outcome = 'success'
           ORDER BY id DESC LIMIT 1),
          'deployer'::name,
          'migrate.history records role deployer for the approval by deployer''s own session');
SELECT is((SELECT approved_by FROM migrate.migration WHERE version = 'tap-priv-4'), 'deployer'::name,
          'migrate.migration records deployer as the approver');
RESET SESSION AUTHORIZATION;

-- resolve: the superuser fakes a migration left dirty at its first
-- statement (only a non-transactional apply outside a transaction block
-- can really leave one), and deployer decides to retry it
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-8'), 'pending',
          'tap-priv-8 is pending before it is made dirty');
UPDATE migrate.migration
SET state = 'dirty', dirty_statement = 1, last_error = '{"script": "up"}'
WHERE version = 'tap-priv-8';
SET ROLE deployer;
SELECT is(migrate.resolve('tap-priv-8', 'retry'), 'pending: apply() resumes it',
          'deployer resolves the dirty tap-priv-8 with retry');
SELECT results_eq($$SELECT state, dirty_statement, resume_statement
                    FROM migrate.migration WHERE version = 'tap-priv-8'$$,
                  $$VALUES ('pending', NULL::integer, 1)$$,
                  'tap-priv-8 is pending again and resumes at statement 1');
SELECT is((SELECT detail->>'action' FROM migrate.history
           WHERE version = 'tap-priv-8' AND action = 'resolve' AND outcome = 'success'),
          'retry', 'migrate.history records the resolution');
SELECT is((SELECT role FROM migrate.history
           WHERE version = 'tap-priv-8' AND action = 'resolve' AND outcome = 'success'),
          'deployer'::name, 'migrate.history records role deployer (after SET ROLE) for the resolution');
SELECT throws_ok($$SELECT migrate.resolve('tap-priv-8', 'retry')$$,
                 '55000', 'migration "tap-priv-8" is not dirty',
                 'resolving a migration that is not dirty is an error');
SELECT throws_ok($$SELECT migrate.resolve('tap-priv-nonesuch', 'retry')$$,
                 '42704', 'migration "tap-priv-nonesuch" is not registered',
                 'resolving an unknown migration is an error');

-- the SECURITY DEFINER functions write the owner's tables for deployer,
-- but deployer still cannot write them directly
SELECT throws_ok($$INSERT INTO migrate.schedule (name, every, next_run_at, created_by)
                   VALUES ('tap-priv-forged', '1 minute', now(), 'deployer')$$,
                 '42501', 'permission denied for table schedule',
                 'deployer cannot write migrate.schedule directly');
SELECT throws_ok($$UPDATE migrate.scheduler_state SET paused = false$$,
                 '42501', 'permission denied for table scheduler_state',
                 'deployer cannot write migrate.scheduler_state directly');
SELECT throws_ok($$UPDATE migrate.migration SET approved_at = now() WHERE version = 'tap-priv-3'$$,
                 '42501', 'permission denied for table migration',
                 'deployer cannot approve behind approve()''s back');

-- the SECURITY DEFINER functions run as the owner: with deployer's
-- operators ahead of pg_catalog, their pinned search_path must keep them
-- from running deployer's code with the owner's rights
DELETE FROM app_schema.seen;
SET search_path = app_schema, pg_catalog;
SELECT migrate.schedule('tap-priv-trap', every => '1 hour', target => 'tap-priv-1') IS NULL AS trap_scheduled \gset
SELECT migrate.approve('tap-priv-4') IS NULL AS trap_approved \gset
SELECT migrate.unschedule('tap-priv-trap') IS NULL AS trap_unscheduled \gset
SELECT migrate.pause() IS NULL AS trap_paused \gset
SELECT migrate.resume() IS NULL AS trap_resumed \gset
SELECT count(*) AS trap_health FROM migrate.health() \gset
RESET search_path;
SELECT is((SELECT approved_at IS NOT NULL FROM migrate.migration WHERE version = 'tap-priv-4'), true,
          'deployer approved tap-priv-4 with its operators first in search_path');
SELECT is((SELECT array_agg(DISTINCT who ORDER BY who) FROM app_schema.seen
           WHERE who <> 'deployer'), NULL,
          'none of the caller''s code ran as the owner inside schedule, approve, unschedule, pause, resume or health');

RESET ROLE;

-- ---------------------------------------------------------------------------
-- after all that: the superuser's identity is intact, and the session is
-- back to the superuser
-- ---------------------------------------------------------------------------
SELECT is(current_user, session_user, 'the session is back to its own role');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'stranger'), false,
          'stranger is not a superuser');
SELECT is((SELECT count(*) FROM pg_auth_members m
           WHERE m.member = 'stranger'::regrole), 0::bigint,
          'stranger is a member of no role');

SELECT * FROM finish();
ROLLBACK;
