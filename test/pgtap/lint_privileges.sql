-- test/pgtap/lint_privileges.sql: who may read the stored lint findings,
-- who may change the rules that make them block apply, and who can get a
-- blocked migration applied (issue 12, wp12-5).
--
--   - migrate.lint_finding is the owner's: nobody else may read or write
--     it, so no role can delete a finding to open the gate;
--   - migrate.lint_findings (rule, severity, statement, line, message,
--     hint; no script text) and migrate.status's findings column are for
--     migrate_reader, and so for migrate_admin;
--   - lint_blocking, lint_large_table and lint_require_timeouts are
--     columns of migrate.environment_setting: only configure() changes
--     them, and configure() is not granted to migrate_admin;
--   - a migration with a finding of a blocking rule is refused (MG017)
--     to migrate_admin too: an approval does not open the gate, nor does
--     registering the same script again; force => true does, and the
--     history records it.
--
-- The superuser (the test's own role) sets the scene inside the test
-- transaction, which rolls everything back.
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
SELECT plan(43);

CREATE ROLE lp_hostile LOGIN;
CREATE ROLE lp_reader LOGIN IN ROLE migrate_reader;
CREATE ROLE lp_deployer LOGIN IN ROLE migrate_admin;
GRANT CREATE ON SCHEMA public TO lp_deployer;

-- an environment that blocks rule unused-suppression, which reports from
-- the text alone; the deployer's migration has such a finding
SELECT migrate.configure('lp_env', lint_blocking => '{unused-suppression}');
SET LOCAL migrate.environment = 'lp_env';
SET ROLE lp_deployer;
SELECT migrate.register('lp-1', 'suppressed nothing',
                        E'-- @lint-ignore: ban-drop-table\nCREATE TABLE lp_t (id bigint);');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------
SELECT ok(NOT has_table_privilege(r, 'migrate.lint_finding', p),
          format('%s has no %s on migrate.lint_finding', r, p))
FROM unnest(ARRAY['public', 'migrate_reader', 'migrate_admin']) AS r,
     unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p
WHERE r = 'public' OR p IN ('SELECT', 'DELETE');
SELECT ok(has_table_privilege('migrate_reader', 'migrate.lint_findings', 'SELECT'),
          'migrate_reader may read migrate.lint_findings');
SELECT ok(NOT has_table_privilege('public', 'migrate.lint_findings', 'SELECT'),
          'PUBLIC may not read migrate.lint_findings');
SELECT ok(NOT has_table_privilege('migrate_admin', 'migrate.environment_setting', 'UPDATE'),
          'migrate_admin may not write migrate.environment_setting');
SELECT is((SELECT count(*)::int FROM pg_attribute
           WHERE attrelid = 'migrate.lint_findings'::regclass AND attnum > 0
             AND attname ~ 'script'),
          0, 'migrate.lint_findings has no script column');

-- ---------------------------------------------------------------------------
-- a role without migrate privileges
-- ---------------------------------------------------------------------------
SET ROLE lp_hostile;
SELECT throws_ok($$SELECT * FROM migrate.lint_findings$$, '42501', NULL,
                 'a role without migrate privileges cannot read migrate.lint_findings');
SELECT throws_ok($$SELECT * FROM migrate.lint_finding$$, '42501', NULL,
                 'a role without migrate privileges cannot read migrate.lint_finding');
SELECT throws_ok($$SELECT findings FROM migrate.status$$, '42501', NULL,
                 'a role without migrate privileges cannot read migrate.status');
SELECT throws_ok($$INSERT INTO migrate.lint_finding VALUES ('lp-1', 9, 'x', 'info', 0, 1, 'm', NULL)$$,
                 '42501', NULL, 'a role without migrate privileges cannot write migrate.lint_finding');
SELECT throws_ok($$DELETE FROM migrate.lint_finding$$, '42501', NULL,
                 'a role without migrate privileges cannot delete findings');
SELECT throws_ok($$SELECT migrate.configure('lp_env', lint_blocking => '{}')$$, '42501', NULL,
                 'a role without migrate privileges cannot change lint_blocking');
SELECT throws_ok($$UPDATE migrate.environment_setting SET lint_blocking = '{}'$$, '42501', NULL,
                 'a role without migrate privileges cannot write lint_blocking');
SELECT throws_ok($$SELECT * FROM migrate.apply(force => true)$$, '42501', NULL,
                 'a role without migrate privileges cannot apply, even with force');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- migrate_reader
-- ---------------------------------------------------------------------------
SET ROLE lp_reader;
SELECT is((SELECT string_agg(format('%s %s %s:%s', version, rule, statement, line), ', ')
           FROM migrate.lint_findings),
          'lp-1 unused-suppression 0:1', 'migrate_reader reads the findings');
SELECT is((SELECT findings FROM migrate.status WHERE version = 'lp-1'), '1 warning',
          'migrate_reader reads the findings summary in migrate.status');
SELECT is((SELECT blocks FROM migrate.lint_findings WHERE version = 'lp-1'), true,
          'migrate_reader sees that the environment blocks it');
SELECT throws_ok($$SELECT * FROM migrate.lint_finding$$, '42501', NULL,
                 'migrate_reader cannot read migrate.lint_finding directly');
SELECT throws_ok($$DELETE FROM migrate.lint_finding$$, '42501', NULL,
                 'migrate_reader cannot delete findings');
SELECT throws_ok($$SELECT migrate.configure('lp_env', lint_blocking => '{}')$$, '42501', NULL,
                 'migrate_reader cannot change lint_blocking');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- migrate_admin: the deploy role
-- ---------------------------------------------------------------------------
SET ROLE lp_deployer;
SELECT throws_ok($$SELECT migrate.configure('lp_env', lint_blocking => '{}')$$, '42501', NULL,
                 'migrate_admin cannot change lint_blocking through configure()');
SELECT throws_ok($$SELECT migrate.configure('lp_env', reset => '{lint_blocking}')$$, '42501', NULL,
                 'migrate_admin cannot reset lint_blocking');
SELECT throws_ok($$UPDATE migrate.environment_setting SET lint_blocking = '{}'$$, '42501', NULL,
                 'migrate_admin cannot write lint_blocking');
SELECT throws_ok($$DELETE FROM migrate.lint_finding WHERE version = 'lp-1'$$, '42501', NULL,
                 'migrate_admin cannot delete the finding that blocks');
SELECT throws_ok($$UPDATE migrate.lint_finding SET rule = 'x'$$, '42501', NULL,
                 'migrate_admin cannot rename the finding''s rule');
SELECT throws_ok($$SET migrate.environment = 'development'$$, '42501', NULL,
                 'migrate_admin cannot leave the environment');
SELECT throws_ok($$SELECT * FROM migrate.apply()$$, 'MG017',
                 'migration "lp-1" is blocked by lint rule "unused-suppression" at statement 0, line 1',
                 'migrate_admin: apply() refuses the blocked migration');
SELECT throws_ok($$SELECT * FROM migrate.apply(dry_run => true)$$, 'MG017', NULL,
                 'migrate_admin: a dry run is refused too');
SELECT is((SELECT action FROM migrate.plan() WHERE version = 'lp-1'), 'gated',
          'migrate_admin: plan() shows it gated');
-- registering the same script again changes nothing
SELECT is(migrate.register('lp-1', 'suppressed nothing',
                           E'-- @lint-ignore: ban-drop-table\nCREATE TABLE lp_t (id bigint);'),
          'unchanged', 'migrate_admin: the same script again is unchanged');
RESET ROLE;
-- an approval does not open the gate (the superuser approves: four eyes)
SELECT is((SELECT version FROM migrate.approve('lp-1')), 'lp-1', 'the superuser approves it');
SET ROLE lp_deployer;
SELECT throws_ok($$SELECT * FROM migrate.apply()$$, 'MG017', NULL,
                 'migrate_admin: an approval does not open the gate');
SELECT is((SELECT state FROM migrate.status WHERE version = 'lp-1'), 'pending',
          'nothing was applied');
-- force does, and says so in the history
SELECT is((SELECT string_agg(version || ' ' || state, ', ') FROM migrate.apply(force => true)),
          'lp-1 applied', 'migrate_admin: force => true applies it');
RESET ROLE;
SELECT is((SELECT detail -> 'forced' FROM migrate.history
           WHERE action = 'apply' AND version = 'lp-1' ORDER BY id DESC LIMIT 1),
          '["lint_blocking"]'::jsonb, 'the history records the forced lint gate');
SELECT is((SELECT lint_blocking FROM migrate.environment_setting WHERE environment = 'lp_env'),
          '{unused-suppression}'::text[], 'lint_blocking is unchanged');

SELECT * FROM finish();
ROLLBACK;
