-- test/pgtap/environment_privileges.sql: who may change an environment's
-- guard rails (issue 11).
--
-- The rails of production are only worth something if the role that
-- deploys cannot lower them.  So:
--   - migrate.configure() is SECURITY DEFINER with search_path pinned,
--     EXECUTE revoked from PUBLIC and NOT granted to migrate_admin: a
--     member of migrate_admin (the deploy role) and a role with no
--     migrate privilege at all are refused (42501), and nothing of the
--     attempt survives; the extension owner may GRANT it to a policy
--     role, whose changes history names;
--   - migrate.environment is a superuser setting (PGC_SUSET): a
--     non-superuser cannot leave production's rules by SET, set_config(),
--     SET LOCAL or ALTER ROLE ... SET (42501);
--   - the table itself is read-only for everybody but its owner;
--   - migrate_reader reads migrate.effective_settings and
--     migrate.environment_setting (the rules are no secret).
--
-- The roles are created inside the test transaction and rolled back with
-- it.
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
SELECT plan(29);

CREATE ROLE envtap_deployer LOGIN;
GRANT migrate_admin TO envtap_deployer;
CREATE ROLE envtap_hostile LOGIN;
CREATE ROLE envtap_reader LOGIN;
GRANT migrate_reader TO envtap_reader;
CREATE ROLE envtap_policy LOGIN;

-- ---------------------------------------------------------------------------
-- how configure() is declared
-- ---------------------------------------------------------------------------
SELECT ok((SELECT p.prosecdef FROM pg_proc p WHERE p.oid = 'migrate.configure'::regproc),
          'configure() is SECURITY DEFINER');
SELECT ok((SELECT 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)
           FROM pg_proc p WHERE p.oid = 'migrate.configure'::regproc),
          'configure() pins search_path to pg_catalog, pg_temp');
SELECT ok(NOT has_function_privilege('public', 'migrate.configure'::regproc, 'EXECUTE'),
          'PUBLIC may not execute configure()');
SELECT ok(NOT has_function_privilege('migrate_admin', 'migrate.configure'::regproc, 'EXECUTE'),
          'migrate_admin may not execute configure()');
SELECT ok(NOT has_function_privilege('migrate_reader', 'migrate.configure'::regproc, 'EXECUTE'),
          'migrate_reader may not execute configure()');

-- ---------------------------------------------------------------------------
-- the deploy role and a hostile role cannot change the rules
-- ---------------------------------------------------------------------------
SET ROLE envtap_deployer;
SELECT throws_ok($$SELECT migrate.configure('production', require_approval => false)$$,
                 '42501', 'permission denied for function configure',
                 'a member of migrate_admin cannot lower production''s rails with configure()');
SELECT throws_ok($$SELECT migrate.configure('production', reset => '{require_approval,backup}')$$,
                 '42501', 'permission denied for function configure',
                 'nor reset them');
SELECT throws_ok($$SELECT migrate.configure('lax')$$,
                 '42501', 'permission denied for function configure',
                 'nor create an environment of its own');
SELECT throws_ok($$UPDATE migrate.environment_setting SET require_approval = false$$,
                 '42501', 'permission denied for table environment_setting',
                 'a member of migrate_admin cannot update the table');
SELECT throws_ok($$INSERT INTO migrate.environment_setting (environment) VALUES ('lax')$$,
                 '42501', 'permission denied for table environment_setting',
                 'nor insert into it');
SELECT throws_ok($$DELETE FROM migrate.environment_setting$$,
                 '42501', 'permission denied for table environment_setting',
                 'nor delete from it');
RESET ROLE;

SET ROLE envtap_hostile;
SELECT throws_ok($$SELECT migrate.configure('production', require_approval => false)$$,
                 '42501', 'permission denied for function configure',
                 'a role without migrate privileges cannot call configure()');
SELECT throws_ok($$SELECT * FROM migrate.environment_setting$$,
                 '42501', 'permission denied for table environment_setting',
                 'nor read the table');
SELECT throws_ok($$SELECT * FROM migrate.effective_settings$$,
                 '42501', 'permission denied for view effective_settings',
                 'nor the view');
RESET ROLE;

SELECT results_eq($$SELECT require_approval, backup, lock_retries FROM migrate.environment_setting
                    WHERE environment = 'production'$$,
                  $$VALUES (true, 'copy', 5)$$,
                  'production''s rails are unchanged');
SELECT is((SELECT count(*) FROM migrate.environment_setting WHERE environment = 'lax'), 0::bigint,
          'no environment was created');
SELECT is((SELECT count(*) FROM migrate.event WHERE action = 'configure'), 0::bigint,
          'no configure event was recorded');

-- ---------------------------------------------------------------------------
-- migrate.environment: only a superuser (or a role granted SET on it)
-- ---------------------------------------------------------------------------
SET ROLE envtap_deployer;
SELECT throws_ok($$SET migrate.environment = 'development'$$,
                 '42501', 'permission denied to set parameter "migrate.environment"',
                 'the deploy role cannot SET migrate.environment');
SELECT throws_ok($$SET LOCAL migrate.environment = ''$$,
                 '42501', 'permission denied to set parameter "migrate.environment"',
                 'nor SET LOCAL it (to no environment)');
SELECT throws_ok($$SELECT set_config('migrate.environment', 'development', true)$$,
                 '42501', 'permission denied to set parameter "migrate.environment"',
                 'nor set_config() it');
SELECT throws_ok($$ALTER ROLE envtap_deployer SET migrate.environment = 'development'$$,
                 '42501', NULL,
                 'nor ALTER ROLE ... SET it for itself');
RESET ROLE;
SET ROLE envtap_hostile;
SELECT throws_ok($$SET migrate.environment = 'development'$$,
                 '42501', 'permission denied to set parameter "migrate.environment"',
                 'a hostile role cannot SET migrate.environment');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- migrate_reader reads the rules
-- ---------------------------------------------------------------------------
SET LOCAL migrate.environment = 'production';
SET ROLE envtap_reader;
SELECT results_eq($$SELECT environment, configured, require_approval, backup
                    FROM migrate.effective_settings$$,
                  $$VALUES ('production', true, true, 'copy')$$,
                  'migrate_reader reads the session''s effective settings');
SELECT is((SELECT count(*) FROM migrate.environment_setting), 3::bigint,
          'migrate_reader reads every environment''s settings');
SELECT throws_ok($$UPDATE migrate.environment_setting SET backup = 'off'$$,
                 '42501', 'permission denied for table environment_setting',
                 'migrate_reader cannot change them');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- the extension owner grants configure() to a policy role
-- ---------------------------------------------------------------------------
GRANT EXECUTE ON FUNCTION migrate.configure(text, interval, interval, integer, interval, boolean,
    boolean, text, interval, interval, text, boolean, boolean, text[], bigint, boolean,
    text[]) TO envtap_policy;
SET ROLE envtap_policy;
SELECT is((SELECT lock_retries FROM migrate.configure('production', lock_retries => 2)), 2,
          'a policy role granted configure() changes production''s rails');
SELECT throws_ok($$SELECT * FROM migrate.environment_setting$$,
                 '42501', 'permission denied for table environment_setting',
                 'without any privilege on the table itself');
RESET ROLE;
SELECT results_eq($$SELECT role, detail->'old'->'lock_retries', detail->'new'->'lock_retries'
                    FROM migrate.event WHERE action = 'configure'$$,
                  $$VALUES ('envtap_policy'::name, '5'::jsonb, '2'::jsonb)$$,
                  'history names the policy role and the old and new values');
SELECT is((SELECT changed_by FROM migrate.environment_setting WHERE environment = 'production'),
          'envtap_policy'::name, 'the row names who changed it last');

SELECT * FROM finish();
ROLLBACK;
