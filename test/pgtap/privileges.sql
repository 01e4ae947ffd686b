-- test/pgtap/privileges.sql: who may do what with migrate.
--
-- First the grants as the extension script makes them; then three login
-- roles, created inside the test transaction (and so rolled back with it):
--   app       member of migrate_reader: reads status and history, calls
--             require(), and nothing else;
--   deployer  member of migrate_admin, with CREATE on schema app_schema:
--             registers and applies migrations, whose SQL runs with the
--             deployer's own privileges (never the extension owner's);
--   stranger  no grants at all.
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
SELECT plan(113);

SET LOCAL migrate.progress_level = 'debug1';
-- the superuser running the tests, whatever its name
SELECT set_config('tap.superuser', current_user, true) IS NOT NULL AS superuser_noted \gset

-- ---------------------------------------------------------------------------
-- grants made by the extension script
-- ---------------------------------------------------------------------------
SELECT function_privs_are('migrate', f, args, 'public', ARRAY[]::text[],
                          format('PUBLIC cannot execute migrate.%s()', f))
FROM (VALUES (1, 'register', ARRAY['text', 'text', 'text', 'text']),
             (2, 'apply', ARRAY['text']),
             (3, 'revert', ARRAY['integer', 'text', 'text', 'boolean']),
             (4, 'revert_all', ARRAY[]::text[]),
             (5, 'repair', ARRAY['text', 'text', 'text'])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', f, args, 'migrate_admin', ARRAY['EXECUTE'],
                          format('migrate_admin can execute migrate.%s()', f))
FROM (VALUES (1, 'register', ARRAY['text', 'text', 'text', 'text']),
             (2, 'apply', ARRAY['text']),
             (3, 'revert', ARRAY['integer', 'text', 'text', 'boolean']),
             (4, 'revert_all', ARRAY[]::text[]),
             (5, 'repair', ARRAY['text', 'text', 'text'])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', f, args, 'migrate_reader', ARRAY[]::text[],
                          format('migrate_reader cannot execute migrate.%s()', f))
FROM (VALUES (1, 'register', ARRAY['text', 'text', 'text', 'text']),
             (2, 'apply', ARRAY['text']),
             (3, 'revert', ARRAY['integer', 'text', 'text', 'boolean']),
             (4, 'revert_all', ARRAY[]::text[]),
             (5, 'repair', ARRAY['text', 'text', 'text'])) AS v(n, f, args)
ORDER BY n;

SELECT function_privs_are('migrate', 'event_is_append_only', ARRAY[]::text[], 'public', ARRAY[]::text[],
                          'PUBLIC cannot execute migrate.event_is_append_only()');
SELECT function_privs_are('migrate', 'require', ARRAY['text'], 'migrate_reader', ARRAY['EXECUTE'],
                          'migrate_reader can execute migrate.require()');

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
SELECT table_privs_are('migrate', 'history', 'public', ARRAY[]::text[],
                       'PUBLIC has no privilege on migrate.history');
SELECT table_privs_are('migrate', 'status', 'migrate_reader', ARRAY['SELECT'],
                       'migrate_reader may SELECT migrate.status');
SELECT table_privs_are('migrate', 'history', 'migrate_reader', ARRAY['SELECT'],
                       'migrate_reader may SELECT migrate.history');
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

-- ---------------------------------------------------------------------------
-- app (migrate_reader): read, require, nothing else
-- ---------------------------------------------------------------------------
SET ROLE app;

SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-priv-1'), 'applied',
          'app reads migrate.status');
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
SELECT throws_ok($$SELECT * FROM migrate.history$$, '42501', NULL,
                 'stranger cannot read migrate.history');
SELECT throws_ok($$SELECT migrate.require('tap-priv-1')$$, '42501', NULL,
                 'stranger cannot call migrate.require()');
SELECT throws_ok($$SELECT * FROM migrate.apply()$$, '42501', NULL,
                 'stranger cannot apply');
SELECT throws_ok($$SELECT migrate.register('tap-priv-9', 'stranger_try', 'SELECT 1;')$$, '42501', NULL,
                 'stranger cannot register');

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
                  $$VALUES ('tap-priv-2', 'revert', 'rolled_back')$$,
                  'deployer reverts tap-priv-2');
SELECT hasnt_table('app_schema', 'widget', 'app_schema.widget is gone');
SELECT is((SELECT role FROM migrate.history
           WHERE version = 'tap-priv-2' AND action = 'revert' AND outcome = 'success'),
          'deployer'::name, 'migrate.history records role deployer for the revert');

-- The functions run their bookkeeping statements as the extension owner.
-- Those statements must not resolve anything through the caller's
-- search_path: an operator deployer puts ahead of pg_catalog would
-- otherwise run with the owner's (superuser's) rights (the CVE-2018-1058
-- pattern).  The trap below only records who runs it; spi_as_owner in
-- src/catalog.c pins search_path to pg_catalog, pg_temp to prevent this.
SELECT is(migrate.register('tap-priv-3', 'deployer_escalate', 'SELECT 1;'),
          'updated', 'deployer makes tap-priv-3 harmless');
CREATE TABLE app_schema.seen (who name);
CREATE FUNCTION app_schema.trap_texteq(a text, b text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app_schema.seen VALUES (current_user);
    RETURN a OPERATOR(pg_catalog.=) b;
END
$$;
CREATE FUNCTION app_schema.trap_byteaeq(a bytea, b bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app_schema.seen VALUES (current_user);
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
