-- test/pgtap/adopt_privileges.sql: who may adopt a database, and what
-- import_history() may read (issue 13, wp13-2).
--
-- Marking migrations applied without running them is as strong as
-- applying them, and reading another tool's history table must not read
-- more than the caller may.  So:
--   - baseline() and import_history() are granted to migrate_admin only;
--     a role without it gets 42501 and nothing is recorded;
--   - import_history() is not SECURITY DEFINER and reads the tool's table
--     as the caller: a member of migrate_admin who may not read it (or
--     any other table named as history_table) gets 42501, row-level
--     security hides from it what it hides from the caller, and nothing
--     is written when the read fails;
--   - migrate.imported_history and migrate.baseline_record are written
--     only through those functions (not even migrate_admin may write them
--     directly); migrate_reader may read them and
--     migrate.imported_unregistered.
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
SELECT plan(25);

CREATE ROLE adtap_deployer LOGIN;
GRANT migrate_admin TO adtap_deployer;
CREATE ROLE adtap_hostile LOGIN;
CREATE ROLE adtap_reader LOGIN;
GRANT migrate_reader TO adtap_reader;

-- Flyway's history (flyway-database-postgresql, createMetaDataTable.sql),
-- owned by the superuser running the test
CREATE SCHEMA adtap;
GRANT USAGE ON SCHEMA adtap TO adtap_deployer, adtap_hostile;
CREATE TABLE adtap.flyway_schema_history (
    "installed_rank" INT NOT NULL PRIMARY KEY,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
INSERT INTO adtap.flyway_schema_history VALUES
 (1, '1', 'first', 'SQL', 'V1__first.sql', 1, 'ann', '2024-01-01', 1, true),
 (2, '2', 'second', 'SQL', 'V2__second.sql', 2, 'ann', '2024-01-02', 1, true);
-- a table of secrets that happens to have a "version" column
CREATE TABLE adtap.secrets (version text, secret text);
INSERT INTO adtap.secrets VALUES ('s3cr3t', 'the password');
\o /dev/null
SELECT migrate.register('1', 'first', 'SELECT 1;');
SELECT migrate.register('2', 'second', 'SELECT 2;');
\o

-- ---------------------------------------------------------------------------
-- how the functions are declared
-- ---------------------------------------------------------------------------
SELECT ok(NOT (SELECT p.prosecdef FROM pg_proc p WHERE p.oid = 'migrate.import_history'::regproc),
          'import_history() is not SECURITY DEFINER: it reads as the caller');
SELECT ok(NOT (SELECT p.prosecdef FROM pg_proc p WHERE p.oid = 'migrate.baseline'::regproc),
          'baseline() is not SECURITY DEFINER');
SELECT ok(NOT has_function_privilege('public', 'migrate.import_history(text, text)', 'EXECUTE'),
          'PUBLIC may not execute import_history()');
SELECT ok(NOT has_function_privilege('public', 'migrate.baseline(text, text)', 'EXECUTE'),
          'PUBLIC may not execute baseline()');
SELECT ok(NOT has_function_privilege('migrate_reader', 'migrate.baseline(text, text)', 'EXECUTE'),
          'migrate_reader may not execute baseline()');
SELECT ok(has_function_privilege('migrate_admin', 'migrate.import_history(text, text)', 'EXECUTE'),
          'migrate_admin may execute import_history()');

-- ---------------------------------------------------------------------------
-- a role without migrate_admin
-- ---------------------------------------------------------------------------
GRANT SELECT ON adtap.flyway_schema_history TO adtap_hostile;
SET ROLE adtap_hostile;
SELECT throws_ok($$SELECT migrate.baseline('2')$$, '42501',
                 'permission denied for function baseline', 'a hostile role cannot baseline');
SELECT throws_ok($$SELECT * FROM migrate.import_history('flyway', 'adtap.flyway_schema_history')$$,
                 '42501', 'permission denied for function import_history',
                 'a hostile role cannot import, even a history it may read');
SELECT throws_ok($$INSERT INTO migrate.imported_history (tool, version, matches, imported_by)
                   VALUES ('flyway', '2', 'up to version', 'adtap_hostile')$$,
                 '42501', 'permission denied for table imported_history',
                 'nor write an imported history of its own');
SELECT throws_ok($$INSERT INTO migrate.baseline_record (version, version_key, fingerprint, created_by)
                   VALUES ('9', migrate.version_key('9'), 'x', 'adtap_hostile')$$,
                 '42501', 'permission denied for table baseline_record',
                 'nor a baseline');
SELECT throws_ok($$SELECT * FROM migrate.imported_unregistered$$, '42501',
                 'permission denied for view imported_unregistered',
                 'nor read what was imported');
RESET ROLE;
SELECT is((SELECT count(*) FROM migrate.migration WHERE state = 'applied'), 0::bigint,
          'nothing is applied');

-- ---------------------------------------------------------------------------
-- a member of migrate_admin reads only what it may read
-- ---------------------------------------------------------------------------
SET ROLE adtap_deployer;
SELECT throws_ok($$SELECT * FROM migrate.import_history('flyway', 'adtap.flyway_schema_history')$$,
                 '42501', 'permission denied for table flyway_schema_history',
                 'migrate_admin without SELECT on the history table gets 42501');
SELECT throws_ok($$SELECT * FROM migrate.import_history('dbmate', 'adtap.secrets')$$,
                 '42501', 'permission denied for table secrets',
                 'another table named as history_table is read as the caller too');
SELECT throws_ok($$INSERT INTO migrate.imported_history (tool, version, matches, imported_by)
                   VALUES ('flyway', '2', 'up to version', 'adtap_deployer')$$,
                 '42501', 'permission denied for table imported_history',
                 'migrate_admin writes imported histories only through import_history()');
SELECT throws_ok($$DELETE FROM migrate.baseline_record$$,
                 '42501', 'permission denied for table baseline_record',
                 'and baselines only through baseline()');
RESET ROLE;
SELECT is((SELECT count(*) FROM migrate.imported_history), 0::bigint,
          'a refused import records nothing');
SELECT is((SELECT count(*) FROM migrate.migration WHERE state = 'applied'), 0::bigint,
          'and marks nothing applied');

-- row-level security hides version 2 from the deployer
GRANT SELECT ON adtap.flyway_schema_history TO adtap_deployer;
ALTER TABLE adtap.flyway_schema_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY adtap_only_first ON adtap.flyway_schema_history FOR SELECT TO adtap_deployer
    USING (version = '1');
SET ROLE adtap_deployer;
SELECT results_eq($$SELECT version, status FROM migrate.import_history('flyway', 'adtap.flyway_schema_history')$$,
                  $$VALUES ('1'::text, 'adopted'::text)$$,
                  'with SELECT it imports, and sees only the rows row-level security shows it');
RESET ROLE;
SELECT results_eq($$SELECT version, state FROM migrate.migration ORDER BY version_key$$,
                  $$VALUES ('1'::text, 'applied'::text), ('2', 'pending')$$,
                  'only the visible row adopted its migration');
SELECT results_eq($$SELECT action, version, role FROM migrate.event WHERE action = 'import'$$,
                  $$VALUES ('import'::text, '1'::text, 'adtap_deployer'::name)$$,
                  'history names the role that imported');

-- a baseline by the deployer
SET ROLE adtap_deployer;
SELECT is(migrate.baseline('2', 'adopted'), 1, 'migrate_admin may baseline');
RESET ROLE;
SELECT results_eq($$SELECT version, created_by FROM migrate.baseline_record$$,
                  $$VALUES ('2'::text, 'adtap_deployer'::name)$$,
                  'the baseline names who set it');

-- ---------------------------------------------------------------------------
-- migrate_reader reads what was adopted
-- ---------------------------------------------------------------------------
SET ROLE adtap_reader;
SELECT is((SELECT count(*) FROM migrate.imported_history), 1::bigint,
          'migrate_reader reads the imported history');
SELECT is((SELECT count(*) FROM migrate.imported_unregistered), 0::bigint,
          'and the versions still waiting for their files');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
