-- Every error condition has a specific SQLSTATE.
CREATE FUNCTION pg_temp.sqlstate_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SET migrate.progress_level = 'debug1';

SELECT migrate.register('1', 'one', 'CREATE TABLE er_one (id int);', 'DROP TABLE er_one;');
SELECT migrate.register('2', 'two', E'-- @dependencies: 1\nSELECT 1;');
SELECT version FROM migrate.apply();
SELECT migrate.register('3', 'three', 'SELECT 3');

SELECT condition, pg_temp.sqlstate_of(sql) AS result FROM (VALUES
    ('invalid version',          $$SELECT migrate.register('a b', 'x', 'SELECT 1')$$),
    ('null argument',            $$SELECT migrate.register('3', 'x', NULL)$$),
    ('empty name',               $$SELECT migrate.register('3', '', 'SELECT 1')$$),
    ('empty verify script',      $$SELECT migrate.register('3', 'three', 'SELECT 3', NULL, '-- nothing')$$),
    ('syntax error',             $$SELECT migrate.register('3', 'x', 'SELEC 1')$$),
    ('transaction control',      $$SELECT migrate.register('3', 'x', 'SELECT 1; COMMIT; SELECT 2')$$),
    ('copy from stdin',          $$SELECT migrate.register('3', 'x', 'COPY er_one FROM STDIN')$$),
    ('bad header value',         $$SELECT migrate.register('3', 'x', E'-- @zero-downtime: perhaps\nSELECT 1')$$),
    ('unknown header key',       $$SELECT migrate.register('3', 'x', E'-- @owner: me\nSELECT 1')$$),
    ('self dependency',          $$SELECT migrate.register('3', 'x', E'-- @dependencies: 3\nSELECT 1')$$),
    ('transaction: true + CIC',  $$SELECT migrate.register('3', 'x', E'-- @transaction: true\nCREATE INDEX CONCURRENTLY ON er_one (id)')$$),
    ('duplicate version',        $$SELECT migrate.register('01', 'one', 'CREATE TABLE er_one (id int);', 'DROP TABLE er_one;')$$),
    ('duplicate name',           $$SELECT migrate.register('1', 'uno', 'SELECT 1')$$),
    ('edit of applied',          $$SELECT migrate.register('1', 'one', 'CREATE TABLE er_one (id bigint);', 'DROP TABLE er_one;')$$),
    ('unknown migration',        $$SELECT migrate.repair('9')$$),
    ('unknown target',           $$SELECT * FROM migrate.apply(target => '9')$$),
    ('revert not applied',       $$SELECT * FROM migrate.revert(target => '3')$$),
    ('has dependants',           $$SELECT * FROM migrate.revert(migration => '1')$$),
    ('no down script',           $$SELECT * FROM migrate.revert()$$),
    ('bad steps',                $$SELECT * FROM migrate.revert(steps => -1)$$),
    ('require not applied',      $$SELECT migrate.require('3')$$),
    ('require unknown',          $$SELECT migrate.require('9')$$),
    ('history is append-only',   $$DELETE FROM migrate.event$$),
    ('migration SQL error',      $$SELECT migrate.register('8', 'x', 'SELECT 1/0') || (SELECT count(*) FROM migrate.apply())$$)
) AS t(condition, sql);

SELECT migrate.register('4', 'x', E'-- @dependencies: 5\nSELECT 1');
SELECT migrate.register('5', 'y', E'-- @dependencies: 4\nSELECT 1');
SELECT migrate.register('6', 'z', E'-- @dependencies: 7\nSELECT 1');
SELECT 'missing dependency' AS condition, pg_temp.sqlstate_of('SELECT * FROM migrate.apply()') AS result;
SELECT migrate.register('6', 'z', 'SELECT 1');
SELECT 'dependency cycle' AS condition, pg_temp.sqlstate_of('SELECT * FROM migrate.apply()') AS result;
SELECT migrate.register('5', 'y', 'SELECT 1');
SELECT migrate.register('7', 'w', 'CREATE INDEX CONCURRENTLY ON er_one (id)');
SELECT 'non-transactional' AS condition, pg_temp.sqlstate_of('SELECT * FROM migrate.apply()') AS result;

-- messages in full, with DETAIL and HINT
SELECT migrate.register('1', 'one', 'CREATE TABLE er_one (id bigint);', 'DROP TABLE er_one;');
SELECT * FROM migrate.revert(migration => '1');
SELECT * FROM migrate.revert();
SELECT migrate.register('01', 'one', 'CREATE TABLE er_one (id int);', 'DROP TABLE er_one;');
SELECT migrate.register('3', 'x', E'-- @owner: me\nSELECT 1');
BEGIN;
SELECT * FROM migrate.apply();
ROLLBACK;

DROP TABLE er_one;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
