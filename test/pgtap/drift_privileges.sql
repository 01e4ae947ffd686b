-- test/pgtap/drift_privileges.sql: who may read, write, silence and
-- acknowledge the drift capture (issue 13, wp13-1).
--
-- The drift log is only worth something if the roles whose DDL it records
-- cannot hide, change or read more of it than they should.  So:
--   - migrate.drift_log and migrate.schema_state belong to the extension
--     owner: nobody else may INSERT, UPDATE, DELETE or TRUNCATE them;
--     migrate_reader reads the log without the statement text,
--     migrate_admin reads it all; a role with no migrate privilege reads
--     nothing (42501);
--   - the capture writes as the extension owner, so the DDL of a role
--     without any access to schema migrate is logged under its name, and
--     a search_path full of its own operators changes nothing;
--   - migrate.capture_drift and session_replication_role (which would
--     stop the event triggers) are superuser settings; the event triggers
--     can be disabled or dropped by a superuser only;
--   - acknowledge_drift() and drift_script() are for migrate_admin;
--     record_schema_state() and the capture functions for nobody.
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
SELECT plan(39);

CREATE ROLE drifttap_hostile LOGIN;
CREATE ROLE drifttap_reader LOGIN IN ROLE migrate_reader;
CREATE ROLE drifttap_admin LOGIN IN ROLE migrate_admin;
CREATE SCHEMA drifttap AUTHORIZATION drifttap_hostile;

-- ---------------------------------------------------------------------------
-- how it is declared
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM pg_event_trigger e
            WHERE e.evtname IN ('migrate_drift_ddl', 'migrate_drift_drop') AND e.evtenabled = 'O'),
          2, 'both event triggers exist and are enabled');
SELECT ok((SELECT bool_and(r.rolsuper) FROM pg_event_trigger e JOIN pg_roles r ON r.oid = e.evtowner
            WHERE e.evtname IN ('migrate_drift_ddl', 'migrate_drift_drop')),
          'the event triggers are owned by a superuser');
SELECT ok(NOT has_function_privilege('public', 'migrate.drift_capture_ddl()', 'EXECUTE')
          AND NOT has_function_privilege('public', 'migrate.drift_capture_drop()', 'EXECUTE'),
          'PUBLIC may not execute the capture functions');
SELECT ok(NOT has_function_privilege('migrate_admin', 'migrate.record_schema_state(text, jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('migrate_admin', 'migrate.schema_state_before()', 'EXECUTE')
          AND NOT has_function_privilege('migrate_admin', 'migrate.schema_state_now()', 'EXECUTE'),
          'migrate_admin may not execute record_schema_state(), schema_state_before(), schema_state_now()');
SELECT ok((SELECT p.prosecdef AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)
             FROM pg_proc p WHERE p.oid = 'migrate.acknowledge_drift(text)'::regprocedure),
          'acknowledge_drift() is SECURITY DEFINER with search_path pinned');
SELECT ok((SELECT p.prosecdef AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)
             FROM pg_proc p WHERE p.oid = 'migrate.drift_script()'::regprocedure),
          'drift_script() is SECURITY DEFINER with search_path pinned');
SELECT is((SELECT context FROM pg_settings WHERE name = 'migrate.capture_drift'),
          'superuser', 'migrate.capture_drift is a superuser setting');

-- nothing is logged before migrate recorded a schema: record one
SELECT matches(migrate.acknowledge_drift('drift_privileges.sql starts'), '^acknowledged: ',
               'a first record of the schema: drift is measured from here');

-- ---------------------------------------------------------------------------
-- a role with no migrate privilege: its DDL is logged, it cannot look
-- ---------------------------------------------------------------------------
SET ROLE drifttap_hostile;
-- its own operators first on the path: the capture's queries never see them
CREATE FUNCTION drifttap.no(text, text) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hostile operator called'; END $$;
CREATE OPERATOR drifttap.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = drifttap.no);
CREATE OPERATOR drifttap.= (LEFTARG = text, RIGHTARG = text, FUNCTION = drifttap.no);
-- (plain statements: pgTAP's own queries would call these operators; a
-- failure stops the file, ON_ERROR_STOP)
SET search_path = drifttap, pg_catalog;
CREATE TABLE drifttap.mine (a int);
ALTER TABLE drifttap.mine ADD COLUMN b text;
DROP TABLE drifttap.mine;
-- a query string of several statements, one of them setting its password
CREATE VIEW drifttap.v AS SELECT 1 AS one\; ALTER ROLE drifttap_hostile PASSWORD 'tap-secret-1'\; DROP VIEW drifttap.v;
RESET search_path;
SELECT throws_ok($$SELECT * FROM migrate.drift_log$$, '42501', NULL, 'it cannot read the log');
SELECT throws_ok($$SELECT * FROM migrate.drift$$, '42501', NULL, 'it cannot read the drift');
SELECT throws_ok($$INSERT INTO migrate.drift_log (role, session_role, pid, command_tag, event)
                   VALUES ('someone', 'someone', 1, 'CREATE TABLE', 'ddl_command_end')$$,
                 '42501', NULL, 'it cannot write the log');
SELECT throws_ok($$DELETE FROM migrate.drift_log$$, '42501', NULL, 'it cannot delete from the log');
SELECT throws_ok($$TRUNCATE migrate.drift_log$$, '42501', NULL, 'it cannot truncate the log');
SELECT throws_ok($$UPDATE migrate.schema_state SET fingerprint = 'x'$$, '42501', NULL,
                 'it cannot change the recorded schema');
SELECT throws_ok($$SET migrate.capture_drift = off$$, '42501', NULL, 'it cannot turn the capture off');
SELECT throws_ok($$SELECT set_config('migrate.capture_drift', 'off', true)$$, '42501', NULL,
                 'nor with set_config()');
SELECT throws_ok($$ALTER ROLE drifttap_hostile SET migrate.capture_drift = off$$, '42501', NULL,
                 'nor for its later sessions');
SELECT throws_ok($$SET session_replication_role = replica$$, '42501', NULL,
                 'it cannot stop event triggers with session_replication_role');
SELECT throws_ok($$ALTER EVENT TRIGGER migrate_drift_ddl DISABLE$$, '42501', NULL,
                 'it cannot disable the event trigger');
SELECT throws_ok($$DROP EVENT TRIGGER migrate_drift_drop$$, '42501', NULL,
                 'it cannot drop the event trigger');
SELECT throws_ok($$SELECT migrate.acknowledge_drift('nothing to see')$$, '42501', NULL,
                 'it cannot acknowledge drift');
SELECT throws_ok($$SELECT migrate.drift_script()$$, '42501', NULL, 'it cannot read the statements');
SELECT throws_ok($$SELECT migrate.record_schema_state('acknowledge')$$, '42501', NULL,
                 'it cannot record the schema');
SELECT throws_ok($$SELECT migrate.drift_capture_ddl()$$, '42501', NULL,
                 'it cannot call the capture function');
RESET ROLE;

SELECT is((SELECT array_agg(l.command_tag || ' ' || l.object_identity ORDER BY l.id)
             FROM migrate.drift_log l WHERE l.role = 'drifttap_hostile' AND l.schema_name = 'drifttap'
              AND l.object_type = 'table'),
          ARRAY['CREATE TABLE drifttap.mine', 'ALTER TABLE drifttap.mine', 'DROP TABLE drifttap.mine'],
          'its DDL is logged under its name');
SELECT is((SELECT count(*)::int FROM migrate.drift_log l
            WHERE l.role = 'drifttap_hostile'
              AND l.statement IN ('CREATE TABLE drifttap.mine (a int)',
                                  'ALTER TABLE drifttap.mine ADD COLUMN b text',
                                  'DROP TABLE drifttap.mine')),
          3, 'with the statements as the session sent them (its own operators first on its path)');
SELECT is((SELECT count(*)::int FROM migrate.drift_log l
            WHERE l.role = 'drifttap_hostile' AND l.statement LIKE '%tap-secret%'),
          0, 'never the password another statement of the query string set');

-- ---------------------------------------------------------------------------
-- migrate_reader: the log without its statements; migrate_admin: all of it
-- ---------------------------------------------------------------------------
SET ROLE drifttap_reader;
SELECT lives_ok($$SELECT id, captured_at, role, command_tag, object_identity FROM migrate.drift_log$$,
                'migrate_reader reads the log');
SELECT throws_ok($$SELECT statement FROM migrate.drift_log$$, '42501', NULL,
                 'migrate_reader cannot read the statements');
SELECT lives_ok($$SELECT statement_note FROM migrate.drift_log$$,
                'migrate_reader reads why a statement was not recorded');
SELECT lives_ok($$SELECT * FROM migrate.drift$$, 'migrate_reader reads the drift');
SELECT throws_ok($$SELECT objects FROM migrate.schema_state$$, '42501', NULL,
                 'migrate_reader cannot read the recorded objects');
SELECT throws_ok($$SELECT migrate.acknowledge_drift('reader')$$, '42501', NULL,
                 'migrate_reader cannot acknowledge drift');
SELECT throws_ok($$DELETE FROM migrate.drift_log$$, '42501', NULL, 'migrate_reader cannot delete from the log');
RESET ROLE;

SET ROLE drifttap_admin;
SELECT lives_ok($$SELECT statement FROM migrate.drift_log$$, 'migrate_admin reads the statements');
SELECT throws_ok($$DELETE FROM migrate.drift_log$$, '42501', NULL, 'migrate_admin cannot delete from the log');
SELECT throws_ok($$SET migrate.capture_drift = off$$, '42501', NULL, 'migrate_admin cannot turn the capture off');
SELECT matches(migrate.acknowledge_drift('reviewed by the admin'), '^acknowledged: ',
               'migrate_admin acknowledges drift');
RESET ROLE;
SELECT is((SELECT role::text || ': ' || (detail->>'comment') FROM migrate.event
            WHERE action = 'acknowledge drift' ORDER BY id DESC LIMIT 1),
          'drifttap_admin: reviewed by the admin', 'history names who acknowledged, and why');

SELECT * FROM finish();
ROLLBACK;
