-- test/pgtap/guard_rails_hostile.sql: roles that try to get round the
-- production guard rails (issue 11).
--
-- The rails are only worth something if the role that deploys cannot
-- lower them.  Three roles try every forbidden action of the guard rails'
-- surface, and each attempt must fail with the documented SQLSTATE:
--   gr_nobody   no migrate role at all;
--   gr_app      migrate_reader (an application, monitoring);
--   gr_dep      migrate_admin (the deploy role).
-- They try to leave the environment (SET, SET LOCAL, RESET, set_config,
-- ALTER ROLE ... SET, a function with a SET clause, a migration script
-- that sets it), to change its rules (configure(), writing
-- migrate.environment_setting), to read or tamper with backups
-- (migrate.backup, migrate.backups, the copies in schema migrate_backup,
-- restore_backup(), purge_backups()), to approve their own migration under
-- four_eyes, to withdraw an approval without migrate_admin, and to get an
-- unapproved migration applied with force.  Afterwards the superuser
-- checks that nothing of it changed anything.
--
-- A superuser (the test's own role) sets the scene: migrate.environment =
-- 'production' (SET LOCAL, as ALTER DATABASE ... SET would for a real
-- production database), backups 'copy', a migration that dropped a column
-- of a table only the superuser may read (so a backup copy of that column
-- exists), then require_approval and four_eyes on.  Everything is done
-- inside the test transaction and rolled back with it.
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
SELECT plan(94);

SET LOCAL migrate.progress_level = 'debug1';
-- loads the library, so that migrate.environment is defined (without
-- shared_preload_libraries it is not before the first call)
SELECT migrate.version() IS NOT NULL AS library_loaded \gset

CREATE ROLE gr_nobody LOGIN;
CREATE ROLE gr_app LOGIN;
GRANT migrate_reader TO gr_app;
CREATE ROLE gr_dep LOGIN;
GRANT migrate_admin TO gr_dep;
-- a second person: approve() wants the approver to have the privileges of
-- the role the migration runs as (its registrant), four_eyes wants another
-- role than the registrant
CREATE ROLE gr_approver LOGIN;
GRANT migrate_admin TO gr_approver;
GRANT gr_dep TO gr_approver;
CREATE SCHEMA gr_schema;
GRANT USAGE, CREATE ON SCHEMA gr_schema TO gr_nobody, gr_app, gr_dep, gr_approver;

-- data only the superuser may read
CREATE TABLE gr_schema.payroll (id int PRIMARY KEY, salary int NOT NULL);
INSERT INTO gr_schema.payroll SELECT i, 1000 * i FROM generate_series(1, 5) i;

-- ---------------------------------------------------------------------------
-- production, as a DBA sets it up: backups first, approvals once the
-- backup exists (the superuser applies gr-1 itself)
-- ---------------------------------------------------------------------------
SELECT lives_ok($$SELECT migrate.configure('production', backup => 'copy',
                                           require_approval => false, four_eyes => false)$$,
                'the superuser configures production: backups copy, no approvals yet');
SET LOCAL migrate.environment = 'production';
SELECT is(current_setting('migrate.environment'), 'production',
          'the superuser sets migrate.environment = production');

SELECT is(migrate.register('gr-1', 'drop_salary',
                           'ALTER TABLE gr_schema.payroll DROP COLUMN salary;',
                           'ALTER TABLE gr_schema.payroll ADD COLUMN salary int;'),
          'registered', 'the superuser registers gr-1, which drops payroll.salary');
SET LOCAL client_min_messages = warning;   -- the NOTICE of the backup
SELECT results_eq($$SELECT version, state FROM migrate.apply('gr-1')$$,
                  $$VALUES ('gr-1', 'applied')$$,
                  'the superuser applies gr-1');
RESET client_min_messages;
SELECT is((SELECT count(*) FROM migrate.backups WHERE migration = 'gr-1' AND NOT skipped), 1::bigint,
          'applying gr-1 in production made one backup');
SELECT set_config('tap.backup_id', (SELECT id::text FROM migrate.backups WHERE migration = 'gr-1'), true)
       IS NOT NULL AS backup_id_noted \gset
SELECT set_config('tap.backup_table', (SELECT backup_table FROM migrate.backups WHERE migration = 'gr-1'), true)
       IS NOT NULL AS backup_table_noted \gset
SELECT is((SELECT count(*) FROM pg_catalog.pg_class
           WHERE oid = current_setting('tap.backup_table')::regclass), 1::bigint,
          'the backup copy of gr-1 is a table in schema migrate_backup');

SELECT lives_ok($$SELECT migrate.configure('production', require_approval => true, four_eyes => true)$$,
                'the superuser turns on require_approval and four_eyes');
SELECT results_eq($$SELECT environment, require_approval, four_eyes, backup FROM migrate.effective_settings$$,
                  $$VALUES ('production'::text, true, true, 'copy'::text)$$,
                  'migrate.effective_settings shows production''s rails');

-- the column is back (as gr-1's down script would put it back), empty:
-- what restore_backup() would fill, if the caller may; gr_dep may write
-- it but not read it
ALTER TABLE gr_schema.payroll ADD COLUMN salary int;
GRANT UPDATE ON gr_schema.payroll TO gr_dep;

-- what the rails look like before the attack, to compare with afterwards
CREATE TABLE gr_schema.rails_before AS SELECT * FROM migrate.environment_setting;
CREATE TABLE gr_schema.backup_before AS
    SELECT id, migration, object, rows, bytes, restored_at, purged_at FROM migrate.backups;

-- ---------------------------------------------------------------------------
-- every attempt, tried by each role named in refused_for; each must fail
-- with sqlstate (and message, when given)
-- ---------------------------------------------------------------------------
CREATE TABLE gr_schema.attempts (n int, what text, stmt text, sqlstate text, message text,
                                 refused_for name[]);
INSERT INTO gr_schema.attempts
VALUES
    -- leaving production
    (1, 'SET migrate.environment', $$SET migrate.environment = 'development'$$,
     '42501', 'permission denied to set parameter "migrate.environment"', '{gr_nobody,gr_app,gr_dep}'),
    (2, 'SET LOCAL migrate.environment to none', $$SET LOCAL migrate.environment = ''$$,
     '42501', 'permission denied to set parameter "migrate.environment"', '{gr_nobody,gr_app,gr_dep}'),
    (3, 'RESET migrate.environment', $$RESET migrate.environment$$,
     '42501', 'permission denied to set parameter "migrate.environment"', '{gr_nobody,gr_app,gr_dep}'),
    (4, 'set_config(''migrate.environment'', ...)',
     $$SELECT pg_catalog.set_config('migrate.environment', '', true)$$,
     '42501', 'permission denied to set parameter "migrate.environment"', '{gr_nobody,gr_app,gr_dep}'),
    (5, 'ALTER ROLE CURRENT_USER SET migrate.environment',
     $$ALTER ROLE CURRENT_USER SET migrate.environment = ''$$,
     '42501', 'permission denied to set parameter "migrate.environment"', '{gr_nobody,gr_app,gr_dep}'),
    (6, 'create a function that sets migrate.environment',
     $$CREATE FUNCTION gr_schema.no_rails() RETURNS int LANGUAGE sql
       SET migrate.environment = '' AS 'SELECT 1'$$,
     '42501', 'permission denied to set parameter "migrate.environment"', '{gr_nobody,gr_app,gr_dep}'),
    -- changing production's rules
    (7, 'call configure() to lower a rail',
     $$SELECT migrate.configure('production', require_approval => false)$$,
     '42501', 'permission denied for function configure', '{gr_nobody,gr_app,gr_dep}'),
    (8, 'call configure() to create an environment',
     $$SELECT migrate.configure('lax')$$,
     '42501', 'permission denied for function configure', '{gr_nobody,gr_app,gr_dep}'),
    (9, 'UPDATE migrate.environment_setting',
     $$UPDATE migrate.environment_setting SET require_approval = false, four_eyes = false, backup = 'off'$$,
     '42501', 'permission denied for table environment_setting', '{gr_nobody,gr_app,gr_dep}'),
    (10, 'INSERT INTO migrate.environment_setting',
     $$INSERT INTO migrate.environment_setting (environment) VALUES ('lax')$$,
     '42501', 'permission denied for table environment_setting', '{gr_nobody,gr_app,gr_dep}'),
    (11, 'DELETE FROM migrate.environment_setting',
     $$DELETE FROM migrate.environment_setting WHERE environment = 'production'$$,
     '42501', 'permission denied for table environment_setting', '{gr_nobody,gr_app,gr_dep}'),
    (12, 'read migrate.effective_settings',
     $$SELECT * FROM migrate.effective_settings$$,
     '42501', 'permission denied for view effective_settings', '{gr_nobody}'),
    -- backups: the data of a column only the superuser could read
    (13, 'read migrate.backup',
     $$SELECT * FROM migrate.backup$$,
     '42501', 'permission denied for table backup', '{gr_nobody,gr_app,gr_dep}'),
    (14, 'read migrate.backups',
     $$SELECT * FROM migrate.backups$$,
     '42501', 'permission denied for view backups', '{gr_nobody,gr_app}'),
    (15, 'read the backup copy in schema migrate_backup',
     format('SELECT * FROM %s', current_setting('tap.backup_table')),
     '42501', NULL, '{gr_nobody,gr_app,gr_dep}'),
    (16, 'create a table in schema migrate_backup',
     $$CREATE TABLE migrate_backup.planted (id int)$$,
     '42501', 'permission denied for schema migrate_backup', '{gr_nobody,gr_app,gr_dep}'),
    (17, 'forge a row of migrate.backup',
     format('UPDATE migrate.backup SET restored_at = now() WHERE id = %s', current_setting('tap.backup_id')),
     '42501', 'permission denied for table backup', '{gr_nobody,gr_app,gr_dep}'),
    (18, 'delete a row of migrate.backup',
     $$DELETE FROM migrate.backup$$,
     '42501', 'permission denied for table backup', '{gr_nobody,gr_app,gr_dep}'),
    (19, 'restore_backup()',
     format('SELECT migrate.restore_backup(%s)', current_setting('tap.backup_id')),
     '42501', 'permission denied for function restore_backup', '{gr_nobody,gr_app}'),
    (20, 'restore_backup() of a superuser''s backup, into a column it may write but not read',
     format('SELECT migrate.restore_backup(%s)', current_setting('tap.backup_id')),
     '42501', format('permission denied to restore backup %s',
                     current_setting('tap.backup_id')), '{gr_dep}'),
    (21, 'purge_backups()',
     $$SELECT migrate.purge_backups()$$,
     '42501', 'permission denied for function purge_backups', '{gr_nobody,gr_app,gr_dep}'),
    (22, 'purge_backups(older_than => 0)',
     $$SELECT migrate.purge_backups(older_than => '0 seconds')$$,
     '42501', 'permission denied for function purge_backups', '{gr_nobody,gr_app,gr_dep}'),
    -- approvals
    (23, 'unapprove()',
     $$SELECT migrate.unapprove('gr-1')$$,
     '42501', 'permission denied for function unapprove', '{gr_nobody,gr_app}');
GRANT SELECT ON gr_schema.attempts TO PUBLIC;

SET ROLE gr_nobody;
SELECT throws_ok(stmt, sqlstate, message, format('a role without migrate privileges cannot %s', what))
FROM gr_schema.attempts WHERE 'gr_nobody' = ANY (refused_for) ORDER BY n;
SELECT is(current_setting('migrate.environment'), 'production',
          'the role without migrate privileges is still in production');
RESET ROLE;

SET ROLE gr_app;
SELECT throws_ok(stmt, sqlstate, message, format('migrate_reader cannot %s', what))
FROM gr_schema.attempts WHERE 'gr_app' = ANY (refused_for) ORDER BY n;
SELECT is(current_setting('migrate.environment'), 'production',
          'migrate_reader is still in production');
RESET ROLE;

SET ROLE gr_dep;
SELECT throws_ok(stmt, sqlstate, message, format('migrate_admin cannot %s', what))
FROM gr_schema.attempts WHERE 'gr_dep' = ANY (refused_for) ORDER BY n;
SELECT is(current_setting('migrate.environment'), 'production',
          'migrate_admin is still in production');
SELECT results_eq($$SELECT environment, require_approval, four_eyes FROM migrate.effective_settings$$,
                  $$VALUES ('production'::text, true, true)$$,
                  'migrate_admin reads production''s rails in migrate.effective_settings');

-- ---------------------------------------------------------------------------
-- four eyes: the deploy role cannot approve its own migration, force does
-- not stand in for an approval, and a script cannot leave the environment
-- ---------------------------------------------------------------------------
SELECT is(migrate.register('gr-2', 'harmless', 'SELECT 2;', 'SELECT 2;'), 'registered',
          'migrate_admin registers gr-2');
SELECT throws_ok($$SELECT migrate.approve('gr-2')$$, '42501',
                 'permission denied to approve migration "gr-2"',
                 'migrate_admin cannot approve its own gr-2 under four_eyes');
SELECT throws_ok($$SELECT * FROM migrate.apply('gr-2')$$, 'MG011', 'migration "gr-2" is not approved',
                 'migrate_admin cannot apply the unapproved gr-2');
SELECT throws_ok($$SELECT * FROM migrate.apply('gr-2', force => true)$$, 'MG011',
                 'migration "gr-2" is not approved',
                 'force => true does not stand in for an approval');
RESET ROLE;

SET ROLE gr_approver;
SELECT lives_ok($$SELECT migrate.approve('gr-2')$$,
                'another role with the registrant''s privileges approves gr-2');
RESET ROLE;

SET ROLE gr_dep;
SELECT is(migrate.register('gr-3', 'leave_production',
                           'SELECT pg_catalog.set_config(''migrate.environment'', '''', false);',
                           'SELECT 3;'),
          'registered', 'migrate_admin registers gr-3, whose script leaves the environment');
RESET ROLE;
SET ROLE gr_approver;
SELECT lives_ok($$SELECT migrate.approve('gr-3')$$, 'the approver approves gr-3 without reading it');
RESET ROLE;
SET ROLE gr_dep;
SELECT throws_ok($$SELECT * FROM migrate.apply('gr-3')$$, '42501',
                 'permission denied to set parameter "migrate.environment"',
                 'the script of gr-3, run by migrate_admin, cannot leave the environment either');
SELECT is(current_setting('migrate.environment'), 'production',
          'migrate_admin is still in production after gr-3 failed');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- nothing of it changed anything
-- ---------------------------------------------------------------------------
SELECT is(current_setting('migrate.environment'), 'production',
          'the superuser''s session is still in production');
SELECT set_eq($$SELECT * FROM migrate.environment_setting$$,
              $$SELECT * FROM gr_schema.rails_before$$,
              'migrate.environment_setting is unchanged');
SELECT is((SELECT count(*) FROM pg_catalog.pg_db_role_setting s
           JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
           WHERE r.rolname LIKE 'gr\_%'), 0::bigint,
          'no role got a setting of its own');
SELECT hasnt_function('gr_schema', 'no_rails', 'no function that leaves the environment was created');
SELECT hasnt_table('migrate_backup', 'planted', 'nothing was planted in schema migrate_backup');
SELECT is((SELECT count(*) FROM migrate.event WHERE action = 'configure'
           AND role::text LIKE 'gr\_%'), 0::bigint,
          'no configure event by any of the three roles');
SELECT set_eq($$SELECT id, migration, object, rows, bytes, restored_at, purged_at FROM migrate.backups$$,
              $$SELECT * FROM gr_schema.backup_before$$,
              'migrate.backups is unchanged: nothing restored, purged or forged');
SELECT is((SELECT count(salary) FROM gr_schema.payroll), 0::bigint,
          'no salary was restored');
SELECT is((SELECT count(*) FROM pg_catalog.pg_class
           WHERE oid = current_setting('tap.backup_table')::regclass), 1::bigint,
          'the backup copy is still there');
SELECT results_eq($$SELECT version, state FROM migrate.status WHERE version IN ('gr-1', 'gr-2', 'gr-3')
                    ORDER BY version$$,
                  $$VALUES ('gr-1', 'applied'), ('gr-2', 'pending'), ('gr-3', 'pending')$$,
                  'gr-1 is applied, gr-2 and gr-3 are not');
SELECT is((SELECT approved_by FROM migrate.migration WHERE version = 'gr-2'), 'gr_approver'::name,
          'gr-2''s approval is the approver''s');

SELECT * FROM finish();
ROLLBACK;
