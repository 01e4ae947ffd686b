-- test/pgtap/lock.sql: nobody can take or block the migrate lock except
-- through migrate's own functions, and a busy lock is always reported as
-- 55P03.
--
-- Two extra sessions, opened with dblink (skipped when dblink is not
-- available), as committed login roles created here and dropped at the
-- end:
--   tap_lock_hostile  no migrate privileges at all.  In one session it
--                     holds, in an open transaction, every advisory lock a
--                     role could guess: the key of the first release,
--                     (1835624306, 1), in the two-int4 and the bigint form,
--                     session and transaction level, exclusive and shared,
--                     and keys made of pg_extension's and the extension's
--                     oids.  In a second session it tries the other ways
--                     in: migrate.acquire_lock(), migrate.deploy(), LOCK TABLE on migrate's
--                     tables, COMMENT ON / ALTER / DROP EXTENSION (all
--                     refused, and nothing of theirs stays held).
--   tap_lock_holder   member of migrate_admin: holds the real migrate lock
--                     in an open transaction (register()), so that the
--                     55P03 DETAIL can be checked, also once the holder has
--                     no pg_stat_activity role (its role is dropped in this
--                     transaction): the description must never fail, with
--                     22004 or anything else (finding 19).
-- Then, with the hostile locks still held, apply() takes the lock at once
-- (migrate.lock_timeout = 0), and pg_locks and health() show it as an
-- object lock on the extension, objsubid 1.
--
-- A prepared transaction holding the lock is the other way to have no
-- pg_stat_activity row; it needs max_prepared_transactions > 0 and is
-- tested here only when the server allows it (the scenario
-- concurrency_mix.sh runs it on a cluster of its own).
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
SELECT count(*) > 0 AS have_dblink FROM pg_available_extensions WHERE name = 'dblink' \gset
SELECT current_setting('max_prepared_transactions')::int > 0 AS have_2pc \gset
\if :have_dblink
CREATE EXTENSION IF NOT EXISTS dblink;
DROP ROLE IF EXISTS tap_lock_hostile;
DROP ROLE IF EXISTS tap_lock_holder;
CREATE ROLE tap_lock_hostile LOGIN;
CREATE ROLE tap_lock_holder LOGIN IN ROLE migrate_admin;
\endif
RESET client_min_messages;

-- connection string for a session of ROLE on this server and database
CREATE FUNCTION pg_temp.conninfo(role text) RETURNS text LANGUAGE sql AS $$
    SELECT format('host=%s port=%s dbname=%s user=%s',
                  split_part(current_setting('unix_socket_directories'), ',', 1),
                  current_setting('port'), current_database(), role)
$$;

-- SQLSTATE and DETAIL of a call (pid and timing masked), or 'ok'
CREATE FUNCTION pg_temp.outcome(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    detail text;
BEGIN
    EXECUTE call;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
    RETURN state || ': ' || regexp_replace(
        regexp_replace(detail, 'process [0-9]+', 'process <pid>'),
        ' for [0-9:]+\)', ' for <time>)');
END
$$;

-- the status of a command run in a dblink session: 'ok' or its SQLSTATE
CREATE FUNCTION pg_temp.remote(conn text, command text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
BEGIN
    PERFORM dblink_exec(conn, command);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
    RETURN state;
END
$$;

\if :have_dblink

BEGIN;
SELECT plan(25 + CASE WHEN :'have_2pc' THEN 4 ELSE 0 END);

-- ---------------------------------------------------------------------------
-- the hostile role holds every advisory key it could guess
-- ---------------------------------------------------------------------------
SELECT dblink_connect('hostile', pg_temp.conninfo('tap_lock_hostile')) = 'OK' AS connected \gset
SELECT oid AS ext_oid FROM pg_extension WHERE extname = 'migrate' \gset
SELECT is(pg_temp.remote('hostile', format($$
    BEGIN;
    DO $d$ BEGIN
    PERFORM pg_advisory_lock(1835624306, 1);
    PERFORM pg_advisory_xact_lock(1835624306, 1);
    PERFORM pg_advisory_lock((1835624306::bigint << 32) | 1);
    PERFORM pg_advisory_xact_lock((1835624306::bigint << 32) | 1);
    PERFORM pg_advisory_lock(1835624306, 2);
    PERFORM pg_advisory_lock(3079, %1$s);
    PERFORM pg_advisory_xact_lock((3079::bigint << 32) | %1$s);
    PERFORM pg_advisory_lock(%1$s, 1);
    PERFORM pg_advisory_lock(%1$s, 2);
    PERFORM pg_advisory_lock(%1$s);
    END $d$;
    $$, :ext_oid)), 'ok', 'the hostile role takes advisory locks on every key it could guess');
SELECT is(pg_temp.remote('hostile', format($$
    DO $d$ BEGIN
    PERFORM pg_advisory_lock_shared(1835624306, 3);
    PERFORM pg_advisory_xact_lock_shared(%1$s, 3);
    END $d$;
    $$, :ext_oid)), 'ok', 'and shared ones');
SELECT cmp_ok((SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.usename = 'tap_lock_hostile' AND l.locktype = 'advisory' AND l.granted),
              '>=', 10::bigint, 'the hostile session holds its advisory locks, in an open transaction');

-- ... and tries every other way in, from a second session
SELECT dblink_connect('hostile2', pg_temp.conninfo('tap_lock_hostile')) = 'OK' AS connected \gset
SELECT is(pg_temp.remote('hostile2', 'SELECT migrate.acquire_lock()'), '42501',
          'the hostile role cannot call migrate.acquire_lock()');
SELECT is(pg_temp.remote('hostile2', 'CALL migrate.deploy(max_wait => $$0$$)'), '42501',
          'the hostile role cannot CALL migrate.deploy()');
SELECT is(pg_temp.remote('hostile2', 'BEGIN; LOCK TABLE migrate.migration IN ACCESS SHARE MODE'), '42501',
          'the hostile role cannot lock migrate.migration');
SELECT is(pg_temp.remote('hostile2', 'ROLLBACK'), 'ok', 'rolled back');
SELECT is(pg_temp.remote('hostile2', 'BEGIN; LOCK TABLE migrate.event IN ACCESS SHARE MODE'), '42501',
          'the hostile role cannot lock migrate.event');
SELECT is(pg_temp.remote('hostile2', 'ROLLBACK'), 'ok', 'rolled back');
SELECT is(pg_temp.remote('hostile2', 'COMMENT ON EXTENSION migrate IS $$mine$$'), '42501',
          'the hostile role cannot COMMENT ON EXTENSION migrate');
SELECT is(pg_temp.remote('hostile2', 'ALTER EXTENSION migrate UPDATE'), '42501',
          'the hostile role cannot ALTER EXTENSION migrate');
SELECT is(pg_temp.remote('hostile2', 'DROP EXTENSION migrate'), '42501',
          'the hostile role cannot DROP EXTENSION migrate');
SELECT is((SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
           WHERE a.usename = 'tap_lock_hostile' AND l.locktype = 'object'),
          0::bigint, 'no hostile session holds an object lock');

-- ---------------------------------------------------------------------------
-- a real holder: 55P03 with a DETAIL that names it, whatever its state
-- ---------------------------------------------------------------------------
SELECT dblink_connect('holder', pg_temp.conninfo('tap_lock_holder')) = 'OK' AS connected \gset
SELECT is(pg_temp.remote('holder', $$
    SET migrate.lock_timeout = 0;
    BEGIN;
    DO $d$ BEGIN
    PERFORM migrate.register('tap-lock-1', 'tap_lock_one', 'CREATE TABLE tap_lock_one (id int);');
    END $d$;
    $$), 'ok', 'a migrate_admin session takes the migrate lock despite the hostile advisory locks');
SELECT pg_stat_clear_snapshot();
SELECT pid AS holder_pid FROM pg_stat_activity WHERE usename = 'tap_lock_holder' \gset

SET migrate.lock_timeout = 0;
SELECT matches(pg_temp.outcome('SELECT migrate.apply()'),
               '^55P03: It is held by process <pid> \(role tap_lock_holder, idle in transaction for <time>\): ',
               'apply() while it holds the lock: 55P03 naming the holder');
SELECT is(pg_temp.outcome('SELECT migrate.register($$tap-lock-2$$, $$tap_lock_two$$, $$SELECT 1;$$)'),
          (SELECT pg_temp.outcome('SELECT migrate.apply()')),
          'register() gets the same');
SELECT results_eq($$SELECT lock_held, lock_holder_pid FROM migrate.health()$$,
                  format('VALUES (true, %s)', :holder_pid),
                  'health() shows the holder');

-- finding 19: the holder no longer has a role in pg_stat_activity
SET client_min_messages = warning;
DROP ROLE tap_lock_holder;
RESET client_min_messages;
SELECT pg_stat_clear_snapshot();
SELECT is((SELECT usename FROM pg_stat_activity WHERE pid = :holder_pid), NULL,
          'the holder''s pg_stat_activity row has no role (dropped in this transaction)');
SELECT matches(pg_temp.outcome('SELECT migrate.apply()'),
               '^55P03: It is held by process <pid> \(role unknown, idle in transaction for <time>\): ',
               'apply(): still 55P03, the role described as unknown (was 22004 from format(%I, NULL))');

SELECT is(pg_temp.remote('holder', 'ROLLBACK'), 'ok', 'the holder rolls back');

-- a prepared transaction holds the lock with no process at all
\if :have_2pc
SELECT is(pg_temp.remote('holder', $$
    BEGIN;
    DO $d$ BEGIN
    PERFORM migrate.register('tap-lock-1', 'tap_lock_one', 'CREATE TABLE tap_lock_one (id int);');
    END $d$;
    PREPARE TRANSACTION 'tap_lock_prepared';
    $$), 'ok', 'a prepared transaction holds the migrate lock');
SELECT matches(pg_temp.outcome('SELECT migrate.apply()'),
               $re$^55P03: It is held by prepared transaction 'tap_lock_prepared' \(role unknown, prepared at [^)]+\)\.$$re$,
               'apply(): 55P03 naming the prepared transaction');
SELECT results_eq($$SELECT lock_held, lock_holder_pid FROM migrate.health()$$,
                  $$VALUES (true, NULL::int)$$,
                  'health(): the lock is held, by no process');
SELECT is(pg_temp.remote('holder', $$ROLLBACK PREPARED 'tap_lock_prepared'$$), 'ok',
          'the prepared transaction is rolled back');
\endif

-- ---------------------------------------------------------------------------
-- with the hostile locks still held, apply() takes the lock at once
-- ---------------------------------------------------------------------------
SET LOCAL migrate.progress_level = 'debug1';
SELECT is(pg_temp.outcome($$SELECT migrate.register('tap-lock-3', 'tap_lock_three', 'CREATE TABLE tap_lock_three (id int);')$$),
          'ok', 'register() while the hostile role holds its advisory locks');
SELECT is(pg_temp.outcome('SELECT migrate.apply()'), 'ok',
          'apply() while the hostile role holds its advisory locks (migrate.lock_timeout = 0)');
SELECT has_table('tap_lock_three', 'the migration ran');
SELECT results_eq($$SELECT l.locktype, l.classid::regclass::text, l.objsubid::int, l.mode, l.granted
                    FROM pg_locks l
                    WHERE l.pid = pg_backend_pid() AND l.objid = $$ || :ext_oid,
                  $$VALUES ('object', 'pg_extension', 1, 'ExclusiveLock', true)$$,
                  'the migrate lock: an object lock on the extension, objsubid 1');
SELECT results_eq($$SELECT lock_held, lock_holder_pid FROM migrate.health()$$,
                  $$VALUES (true, pg_backend_pid())$$,
                  'health() shows this session as the holder');

SELECT * FROM finish();
ROLLBACK;

SELECT dblink_disconnect('holder') = 'OK' AS disconnected \gset
SELECT dblink_disconnect('hostile2') = 'OK' AS disconnected \gset
SELECT dblink_disconnect('hostile') = 'OK' AS disconnected \gset
SET client_min_messages = warning;
DROP ROLE tap_lock_hostile;
DROP ROLE tap_lock_holder;
RESET client_min_messages;

\else

BEGIN;
SELECT plan(1);
SELECT skip('dblink is not available: the hostile sessions cannot be opened', 1);
SELECT * FROM finish();
ROLLBACK;

\endif
