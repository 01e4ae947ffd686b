-- @lock-timeout and @statement-timeout (issue 11, item 3): the header
-- keys, and the settings each migration runs with.  Lock waits and
-- retries take two sessions: test/isolation/specs/lock_retry.spec and
-- test/scenario/lock_retry_worker.sh.
\set VERBOSITY terse

-- the keys, in the header document (interval text; 0: no timeout at all)
SELECT migrate.header(E'-- @lock-timeout: 5s\n-- @statement-timeout: 10min\nSELECT 1')
       - ARRAY['author', 'created', 'repeatable', 'risk_level', 'description', 'transaction',
               'dependencies', 'environments', 'zero_downtime', 'estimated_duration',
               'idempotent', 'lint_ignore'] AS timeouts;
SELECT v, migrate.header('-- @lock-timeout: ' || v || E'\nSELECT 1') ->> 'lock_timeout' AS lock_timeout,
       migrate.header('-- @STATEMENT-TIMEOUT: ' || v || E'\nSELECT 1') ->> 'statement_timeout' AS statement_timeout
FROM unnest(ARRAY['500ms', '5s', '1.5s', '10min', '1 hour', '2 days', '00:00:02', '0', '0s', '0.6 ms']) AS v;
-- absent: null
SELECT migrate.header('SELECT 1') -> 'lock_timeout' AS lock_timeout,
       migrate.header('SELECT 1') -> 'statement_timeout' AS statement_timeout;

-- refused, naming the line and the key (MG001): a bare number (the
-- settings would read milliseconds, interval_in seconds), months,
-- negative, below a millisecond, beyond what the settings take, nothing
SELECT migrate.header(E'-- Description: x\n-- @lock-timeout: 5000\nSELECT 1');
SELECT migrate.header(E'-- @lock-timeout: 1.5\nSELECT 1');
SELECT migrate.header(E'-- @statement-timeout: 1 month\nSELECT 1');
SELECT migrate.header(E'-- @statement-timeout: -5s\nSELECT 1');
SELECT migrate.header(E'-- @lock-timeout: 0.2ms\nSELECT 1');
SELECT migrate.header(E'-- @lock-timeout: 30 days\nSELECT 1');
SELECT migrate.header(E'-- @lock-timeout: soon\nSELECT 1');
SELECT migrate.header(E'-- @lock-timeout:\nSELECT 1');
SELECT migrate.header(E'-- @lock-timeout: 1s\n-- @lock-timeout: 2s\nSELECT 1');
SELECT migrate.header(E'-- lock-timeout: 1s\nSELECT 1');
DO $$
BEGIN
  PERFORM migrate.header(E'-- @lock-timeout: 5000\nSELECT 1');
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'sqlstate %', SQLSTATE;
END
$$;
-- registration refuses them too, in the down script's header as well
SELECT migrate.register('900', 'bad', E'-- @lock-timeout: 5000\nSELECT 1;');
SELECT migrate.register('900', 'bad', 'SELECT 1;', E'-- @statement-timeout: 2 months\nSELECT 1;');

-- each migration runs with its header's timeouts, set as a function's SET
-- clause would set them: the script's own SET wins, and neither reaches
-- the next migration nor the caller
CREATE TABLE lt_seen (version text, lock_timeout text, statement_timeout text);
SET lock_timeout = '42s';
SET statement_timeout = '43s';
SELECT migrate.register('901', 'own_set', E'-- @lock-timeout: 2s\nSET lock_timeout = ''7s'';\n'
  'INSERT INTO lt_seen SELECT ''901'', current_setting(''lock_timeout''), current_setting(''statement_timeout'');');
SELECT migrate.register('902', 'none',
  'INSERT INTO lt_seen SELECT ''902'', current_setting(''lock_timeout''), current_setting(''statement_timeout'');');
SELECT migrate.register('903', 'no_timeout', E'-- @lock-timeout: 0\n'
  'INSERT INTO lt_seen SELECT ''903'', current_setting(''lock_timeout''), current_setting(''statement_timeout'');');
SELECT migrate.register('904', 'both', E'-- @lock-timeout: 2s\n-- @statement-timeout: 3s\n'
  'INSERT INTO lt_seen SELECT ''904'', current_setting(''lock_timeout''), current_setting(''statement_timeout'');',
  E'-- @lock-timeout: 4s\n'
  'INSERT INTO lt_seen SELECT ''904 down'', current_setting(''lock_timeout''), current_setting(''statement_timeout'');');
SELECT version, action FROM migrate.apply();
-- the down script has a header of its own
SELECT version, action FROM migrate.revert(steps => 1);
SELECT * FROM lt_seen;
SHOW lock_timeout;
SHOW statement_timeout;
-- the statement timeout bounds each statement of the script, as the
-- setting does for a client's statements: three of 400 ms each pass a
-- timeout of 1 s; one of 3 s does not (57014), and nothing stays
SELECT migrate.register('905', 'three_sleeps', E'-- @statement-timeout: 1s\n'
  'SELECT pg_sleep(0.4); SELECT pg_sleep(0.4); SELECT pg_sleep(0.4);');
SELECT version, action FROM migrate.apply();
SELECT migrate.register('906', 'too_slow', E'-- @statement-timeout: 1s\n'
  'CREATE TABLE lt_slow (id int);\nSELECT pg_sleep(3);');
SELECT version, action FROM migrate.apply();
SELECT version, state, last_error ->> 'sqlstate' AS sqlstate, last_error ->> 'statement' AS statement
FROM migrate.status_detail WHERE version = '906';
SELECT to_regclass('lt_slow') AS lt_slow;
SELECT migrate.register('906', 'too_slow', 'SELECT 1;');

-- the caller's own statement_timeout still bounds the whole call: a
-- migration's longer one does not extend it ...
SET statement_timeout = '700ms';
SELECT migrate.register('907', 'longer', E'-- @statement-timeout: 1min\n'
  'SELECT pg_sleep(0.5); SELECT pg_sleep(0.5);');
SELECT version, action FROM migrate.apply();
SET statement_timeout = 0;
SELECT migrate.register('907', 'longer', 'SELECT 1;');
-- ... and a migration's shorter one gives it back after each statement:
-- 909, which sets nothing, is stopped by the caller's 1.5 s
SET statement_timeout = '1.5s';
SELECT migrate.register('908', 'shorter', E'-- @statement-timeout: 600ms\nSELECT 1;');
SELECT migrate.register('909', 'unbounded', 'SELECT pg_sleep(3);');
SELECT version, action FROM migrate.apply();
SET statement_timeout = 0;
SELECT version, state FROM migrate.status WHERE version IN ('907', '908', '909') ORDER BY version;

-- clean up for the next test
RESET lock_timeout;
RESET statement_timeout;
DROP TABLE lt_seen;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- the backup before a destructive statement (where the environment backs
-- up: staging) runs under the statement's timeout, because its copy holds
-- the statement's lock: 30 ms stop the copy of 500,000 rows, and nothing
-- is emptied or copied
CREATE TABLE lt_big AS SELECT g AS id, pg_catalog.repeat('x', 100) AS pad
  FROM pg_catalog.generate_series(1, 500000) AS g;
SET migrate.environment = 'staging';
SELECT migrate.register('910', 'empty big', E'-- @statement-timeout: 30ms\nTRUNCATE lt_big;');
SELECT version, action FROM migrate.apply();
RESET migrate.environment;
SELECT pg_catalog.count(*) FROM lt_big;
SELECT pg_catalog.count(*) AS backups FROM migrate.backups;
DROP TABLE lt_big;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
