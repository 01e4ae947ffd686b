-- Drift capture (issue 13, wp13-1): the event triggers record DDL run
-- outside migrate in migrate.drift_log; migrate.drift compares the schema
-- with the one recorded after the last apply, revert or acknowledgement
-- and names the log rows that explain each difference; health() says
-- whether drift exists; acknowledge_drift() accepts it; drift_script()
-- turns it into a migration; drift_blocks_apply refuses apply (MG019).
\set VERBOSITY default
SET migrate.progress_level = 'debug1';  -- no per-migration NOTICEs

-- the SQLSTATE, message, detail and hint of a statement's error
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message
        || coalesce(E'\nDETAIL: ' || nullif(detail, ''), '')
        || coalesce(E'\nHINT: ' || nullif(hint, ''), '');
END
$$;

-- the earlier tests applied migrations (each apply records the schema)
-- and changed the schema outside migrate since: accept that, so that this
-- file starts without drift
SELECT migrate.acknowledge_drift('drift.sql starts') LIKE 'acknowledged: %' AS acknowledged;
SELECT count(*) AS differences FROM migrate.drift;
SELECT drift FROM migrate.health();

-- the log rows written after this point, numbered (ids have gaps: a
-- rolled-back row takes one too)
SELECT set_config('drift_test.mark', coalesce(max(id), 0)::text, false) AS mark FROM migrate.drift_log \gset
CREATE FUNCTION pg_temp.logged() RETURNS TABLE (n bigint, role name, session_role name,
    command_tag text, object_type text, object_identity text, schema_name text, event text,
    statement text)
LANGUAGE sql AS $$
    SELECT row_number() OVER (ORDER BY l.id), l.role, l.session_role, l.command_tag,
           l.object_type, l.object_identity, l.schema_name, l.event, l.statement
    FROM migrate.drift_log l WHERE l.id > current_setting('drift_test.mark')::bigint ORDER BY l.id
$$;

-- ---------------------------------------------------------------------------
-- DDL outside migrate is logged: CREATE, ALTER, COMMENT, GRANT, DROP
-- ---------------------------------------------------------------------------
CREATE TABLE dr_t (id int PRIMARY KEY, v text);
ALTER TABLE dr_t ADD COLUMN w int;
COMMENT ON COLUMN dr_t.w IS 'added by hand';
GRANT SELECT ON dr_t TO migrate_reader;
CREATE INDEX dr_t_v ON dr_t (v);
DROP INDEX dr_t_v;
-- in another schema, several statements in one query string
CREATE SCHEMA dr_other\; CREATE TABLE dr_other.x (a int);
-- a DROP that cascades: the view goes with the table
CREATE TABLE dr_gone (a int);
CREATE VIEW dr_gone_v AS SELECT a FROM dr_gone;
DROP TABLE dr_gone CASCADE;
SELECT n, role, session_role, command_tag, object_type, object_identity, schema_name, event, statement
FROM pg_temp.logged();

-- not logged: DDL rolled back (the row goes with its transaction), a
-- savepoint rolled back, temporary objects
SELECT set_config('drift_test.mark', coalesce(max(id), 0)::text, false) AS mark FROM migrate.drift_log \gset
BEGIN;
CREATE TABLE dr_rolled_back (a int);
ROLLBACK;
BEGIN;
SAVEPOINT s;
CREATE TABLE dr_savepoint (a int);
ROLLBACK TO SAVEPOINT s;
CREATE TABLE dr_kept (a int);
COMMIT;
CREATE TEMP TABLE dr_temp (a int);
DROP TABLE dr_temp;
SELECT n, command_tag, object_identity FROM pg_temp.logged();

-- a role without access to migrate's schema: its DDL works and is logged,
-- under its name; it cannot read the log
CREATE ROLE dr_outsider;
GRANT CREATE, USAGE ON SCHEMA dr_other TO dr_outsider;
SET ROLE dr_outsider;
CREATE TABLE dr_other.y (a int);
ALTER TABLE dr_other.y ADD COLUMN b text;
SELECT pg_temp.try('SELECT count(*) FROM migrate.drift_log');
SELECT pg_temp.try('SET migrate.capture_drift = off');
DROP TABLE dr_other.y;
RESET ROLE;
SELECT n, role, session_role, command_tag, object_identity, event FROM pg_temp.logged() WHERE role = 'dr_outsider';

-- the trigger never makes DDL fail: when the log cannot be written (here
-- a constraint refuses the row), the DDL runs and a WARNING says why
SELECT set_config('drift_test.mark', coalesce(max(id), 0)::text, false) AS mark FROM migrate.drift_log \gset
ALTER TABLE migrate.drift_log ADD CONSTRAINT dr_refuse CHECK (command_tag <> 'CREATE VIEW') NOT VALID;
CREATE VIEW dr_view AS SELECT 1 AS one;
SELECT * FROM dr_view;
ALTER TABLE migrate.drift_log DROP CONSTRAINT dr_refuse;
SELECT count(*) AS logged FROM pg_temp.logged();
DROP VIEW dr_view;

-- a superuser may turn the capture off (for a session or the server)
SET migrate.capture_drift = off;
CREATE TABLE dr_unlogged (a int);
RESET migrate.capture_drift;
SELECT count(*) AS logged FROM migrate.drift_log WHERE object_identity = 'public.dr_unlogged';
DROP TABLE dr_unlogged;

-- ---------------------------------------------------------------------------
-- the drift: what differs, and the log rows that explain it
-- ---------------------------------------------------------------------------
SELECT change, kind, identity, commands, roles, log_ids IS NOT NULL AS explained
FROM migrate.drift;
SELECT drift FROM migrate.health();

-- the captured statements as a migration script (times masked)
SELECT regexp_replace(migrate.drift_script(), '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+', '<time>', 'g');

-- ---------------------------------------------------------------------------
-- DDL run by migrate is no drift: apply, revert, dry runs, rehearse()
-- ---------------------------------------------------------------------------
SELECT migrate.acknowledge_drift('hotfixes by hand, reviewed');
SELECT count(*) AS differences FROM migrate.drift;
SELECT drift FROM migrate.health();
SELECT action, outcome, detail->>'comment' AS comment, (detail->>'added')::int > 0 AS counted
FROM migrate.event WHERE action = 'acknowledge drift' ORDER BY id DESC LIMIT 1;

SELECT set_config('drift_test.mark', coalesce(max(id), 0)::text, false) AS mark FROM migrate.drift_log \gset
SELECT migrate.register('dr1', 'drift_table',
    'CREATE TABLE dr_m (id int PRIMARY KEY); CREATE INDEX dr_m_i ON dr_m (id); COMMENT ON TABLE dr_m IS ''m'';',
    'DROP TABLE dr_m;');
SELECT version, action, state FROM migrate.apply(dry_run => true);
SELECT count(*) AS rehearsed FROM migrate.rehearse();
SELECT version, action, state FROM migrate.apply();
SELECT reason FROM migrate.schema_state ORDER BY id DESC LIMIT 1;
SELECT count(*) AS differences FROM migrate.drift;
SELECT version, action, state FROM migrate.revert();
SELECT reason FROM migrate.schema_state ORDER BY id DESC LIMIT 1;
SELECT count(*) AS differences FROM migrate.drift;
SELECT count(*) AS logged FROM pg_temp.logged();

-- drift that exists when migrate applies or reverts is kept: the record
-- after the run is the last one changed by what the run changed
ALTER TABLE dr_t ADD COLUMN by_hand int;
SELECT version, action, state FROM migrate.apply(target => 'dr1');
SELECT change, kind, identity, commands FROM migrate.drift;
SELECT version, action, state FROM migrate.revert();
SELECT change, kind, identity, commands FROM migrate.drift;
SELECT drift FROM migrate.health();
-- undone by hand: the schema is the recorded one again
ALTER TABLE dr_t DROP COLUMN by_hand;
SELECT count(*) AS differences FROM migrate.drift;
SELECT drift FROM migrate.health();

-- ---------------------------------------------------------------------------
-- drift_blocks_apply: MG019 until the drift is acknowledged
-- ---------------------------------------------------------------------------
SELECT count(*) FROM migrate.configure('dr_env', drift_blocks_apply => true);
SET migrate.environment = 'dr_env';
SELECT migrate.register('dr2', 'drift_more', 'CREATE TABLE dr_m2 (id int);', 'DROP TABLE dr_m2;');
SELECT version, action, state FROM migrate.apply(target => 'dr1');
ALTER TABLE dr_t ADD COLUMN hotfix boolean;
SELECT change, kind, identity, commands FROM migrate.drift;
SELECT pg_temp.try('SELECT * FROM migrate.apply()');
-- force opens the risk gates, not this one
SELECT pg_temp.try('SELECT * FROM migrate.apply(force => true)');
-- deploy() asks the same gate (it must run outside a transaction block)
\set VERBOSITY terse
CALL migrate.deploy();
\set VERBOSITY default
-- nothing pending: nothing to refuse
SELECT count(*) FROM migrate.apply(target => 'dr1');
SELECT migrate.acknowledge_drift('dr_t.hotfix is wanted');
SELECT version, action, state FROM migrate.apply();
SELECT version, action, state FROM migrate.revert_all();
RESET migrate.environment;

-- only the event triggers may call the capture functions
SELECT pg_temp.try('SELECT migrate.drift_capture_ddl()');

-- DROP EXTENSION migrate: its own triggers do not get in the way
DROP EXTENSION migrate;
CREATE TABLE dr_after_drop (a int);
DROP TABLE dr_after_drop, dr_t, dr_kept;
DROP SCHEMA dr_other CASCADE;
DROP ROLE dr_outsider;
CREATE EXTENSION migrate;
-- a new installation has recorded no schema: no drift to speak of, and
-- nothing is logged until the first apply, revert or acknowledgement
SELECT count(*) AS records FROM migrate.schema_state;
SELECT drift FROM migrate.health();
CREATE TABLE dr_before_record (a int);
SELECT count(*) AS logged FROM migrate.drift_log;
SELECT migrate.acknowledge_drift('start measuring');
CREATE TABLE dr_after_record (a int);
SELECT command_tag, object_identity FROM migrate.drift_log;
SELECT change, kind, identity FROM migrate.drift;
DROP TABLE dr_before_record, dr_after_record;
SELECT migrate.acknowledge_drift('drift.sql ends');

-- ---------------------------------------------------------------------------
-- the statement text is the statement's own, never the whole query string
-- (another statement of it may set a password or change data), and never
-- the text of commands whose options may hold a password
-- ---------------------------------------------------------------------------
CREATE ROLE dr_eve;
CREATE TABLE dr_ds2 (a int);
SELECT set_config('drift_test.mark', coalesce(max(id), 0)::text, false) AS mark FROM migrate.drift_log \gset
CREATE TABLE dr_ds3 (a int)\; ALTER ROLE dr_eve PASSWORD 'dr-secret-1'\; DELETE FROM dr_ds2\; CREATE INDEX dr_ds3_a ON dr_ds3 (a);
-- the same statement twice in one string: the text of that statement
DROP INDEX dr_ds3_a\; CREATE INDEX dr_ds3_a ON dr_ds3 (a)\; DROP INDEX dr_ds3_a;
-- a DO block's DDL has no statement of its own in the query string
DO $$ BEGIN CREATE TABLE dr_ds4 (a int); ALTER ROLE dr_eve PASSWORD 'dr-secret-2'; END $$;
CREATE FOREIGN DATA WRAPPER dr_fdw;
CREATE SERVER dr_srv FOREIGN DATA WRAPPER dr_fdw OPTIONS (host 'h', password 'dr-secret-3');
ALTER SERVER dr_srv OPTIONS (SET password 'dr-secret-4');
CREATE USER MAPPING FOR dr_eve SERVER dr_srv OPTIONS (user 'eve', password 'dr-secret-5');
ALTER USER MAPPING FOR dr_eve SERVER dr_srv OPTIONS (SET password 'dr-secret-6');
SELECT l.command_tag, l.object_identity, l.statement, l.statement_note
FROM migrate.drift_log l WHERE l.id > current_setting('drift_test.mark')::bigint ORDER BY l.id;
SELECT count(*) AS leaks FROM migrate.drift_log
WHERE statement LIKE '%dr-secret%' OR statement LIKE '%DELETE%';
SELECT migrate.drift_script() LIKE '%dr-secret%' AS script_leaks;
DROP USER MAPPING FOR dr_eve SERVER dr_srv;
DROP SERVER dr_srv;
DROP FOREIGN DATA WRAPPER dr_fdw;
DROP TABLE dr_ds2, dr_ds3, dr_ds4;
DROP ROLE dr_eve;
SELECT migrate.acknowledge_drift('statement texts checked');

-- ---------------------------------------------------------------------------
-- drift_script(): every statement ends, even after a "--" comment; each
-- statement once, in order, also when the same text runs again; DDL
-- without a text is named in a comment
-- ---------------------------------------------------------------------------
CREATE TABLE dr_s1 (a int) -- a comment at the end of the statement
;
CREATE INDEX dr_s1_a ON dr_s1 (a)\; DROP INDEX dr_s1_a\; CREATE INDEX dr_s1_a ON dr_s1 (a)\; DROP INDEX dr_s1_a;
DO $$ BEGIN CREATE TABLE dr_s2 (a int); END $$;
SELECT regexp_replace(migrate.drift_script(), '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+', '<time>', 'g');
-- the script runs: it is valid SQL, and leaves what the statements left
SELECT set_config('drift_test.script', migrate.drift_script(), false) IS NOT NULL AS kept;
DROP TABLE dr_s1, dr_s2;
DO $$ BEGIN EXECUTE current_setting('drift_test.script'); END $$;
SELECT relname FROM pg_class WHERE relname IN ('dr_s1', 'dr_s1_a', 'dr_s2');
DROP TABLE dr_s1;
SELECT migrate.acknowledge_drift('drift_script checked');

-- ---------------------------------------------------------------------------
-- storage grows with the statements, not with statements times the string:
-- 100 CREATE TABLE in one query string store each one's text (twice: the
-- table and its primary key's index), not the whole string 200 times
-- ---------------------------------------------------------------------------
SELECT set_config('drift_test.mark', coalesce(max(id), 0)::text, false) AS mark FROM migrate.drift_log \gset
SELECT string_agg(format('CREATE TABLE dr_many_%s (id int PRIMARY KEY)', i), '; ') AS many
FROM generate_series(1, 100) i \gset
:many;
SELECT count(*) AS rows, sum(length(statement)) AS stored_bytes, length(:'many') AS string_bytes,
       sum(length(statement)) < 2 * length(:'many') AS linear
FROM migrate.drift_log WHERE id > current_setting('drift_test.mark')::bigint;
SELECT string_agg(format('DROP TABLE dr_many_%s', i), '; ') AS many_drop
FROM generate_series(1, 100) i \gset
:many_drop;
SELECT migrate.acknowledge_drift('storage checked');

-- ---------------------------------------------------------------------------
-- drift made with the capture off (nothing logged) is still drift: the
-- next apply keeps it instead of taking it into its record
-- ---------------------------------------------------------------------------
SELECT migrate.register('dr3', 'drift_three', 'CREATE TABLE dr_m3 (id int);', 'DROP TABLE dr_m3;');
SET migrate.capture_drift = off;
CREATE TABLE dr_unseen (a int);
RESET migrate.capture_drift;
SELECT version, action, state FROM migrate.apply();
SELECT change, kind, identity, log_ids IS NOT NULL AS explained FROM migrate.drift;
SELECT drift FROM migrate.health();
SELECT version, action, state FROM migrate.revert_all();
DROP TABLE dr_unseen;
SELECT count(*) AS differences FROM migrate.drift;
SELECT migrate.acknowledge_drift('capture off checked');

-- ---------------------------------------------------------------------------
-- a non-transactional migration that fails part way (the apply worker):
-- what its committed statements did is migrate's, not drift, so that
-- drift_blocks_apply lets the retry run
-- ---------------------------------------------------------------------------
CREATE TABLE dr_nt (id int);
INSERT INTO dr_nt VALUES (1), (1);
SELECT migrate.acknowledge_drift('dr_nt');
SELECT count(*) FROM migrate.configure('dr_env4', drift_blocks_apply => true);
SET migrate.environment = 'dr_env4';
SELECT migrate.register('dr4', 'drift_nontransactional', $$CREATE INDEX CONCURRENTLY dr_nt_a ON dr_nt (id);
CREATE UNIQUE INDEX CONCURRENTLY dr_nt_u ON dr_nt (id);$$,
    'DROP INDEX CONCURRENTLY dr_nt_u; DROP INDEX CONCURRENTLY dr_nt_a;');
\set VERBOSITY terse
SELECT version, action, state FROM migrate.apply();
\set VERBOSITY default
SELECT version, state FROM migrate.migration WHERE version = 'dr4';
SELECT change, kind, identity FROM migrate.drift;
DELETE FROM dr_nt;
SELECT migrate.resolve('dr4', 'retry');
SELECT version, action, state FROM migrate.apply();
SELECT count(*) AS differences FROM migrate.drift;
SELECT version, action, state FROM migrate.revert_all();
RESET migrate.environment;
DROP TABLE dr_nt;
SELECT migrate.acknowledge_drift('non-transactional checked');

-- ---------------------------------------------------------------------------
-- another extension: CREATE EXTENSION is one row (its script's objects are
-- the extension's), and DROP EXTENSION too (not one per member)
-- ---------------------------------------------------------------------------
SELECT set_config('drift_test.mark', coalesce(max(id), 0)::text, false) AS mark FROM migrate.drift_log \gset
CREATE EXTENSION cube;
DROP EXTENSION cube;
SELECT command_tag, object_type, object_identity, event
FROM migrate.drift_log WHERE id > current_setting('drift_test.mark')::bigint ORDER BY id;
SELECT migrate.acknowledge_drift('extension checked');
