-- test/fuzz/seeds.sql: the seed corpus of the fuzzer (test/fuzz/driver.sql).
-- Valid and nearly valid inputs; the driver mutates them.  The scenario
-- (test/scenario/fuzz.sh) adds the example migrations of examples/ too.

SET search_path = migrate_fuzz, pg_catalog;

-- headers: every key, both spellings, odd spacing and the documented errors
INSERT INTO seed (fn, input) VALUES
('header', $s$-- Description: Create orders and order items
-- Author: Omar Haddad
-- Created: 2025-01-03
-- Orders reference users and products.
-- @dependencies: 20250101090000, 20250102100000
-- @risk-level: medium
-- @zero-downtime: true
-- @estimated-duration: 10 seconds
-- @environments: development, staging, production
-- @transaction: true

CREATE TABLE orders (id bigint PRIMARY KEY);
$s$),
('header', $s$--@description: lower case key
--@author:someone
--@created:2024-02-29
--@RISK-LEVEL:HIGH
--@Zero-Downtime: of
--@estimated-duration: 1h30m, 15 s 500 ms
--@transaction: no
SELECT 1;
$s$),
('header', $s$   -- Description: indented
	--- Author: three dashes
-- @estimated-duration: 2.5h
-- @estimated-duration: 1 min
$s$),
('header', $s$-- @dependencies: a,,b
-- @environments: ,
$s$),
('header', $s$-- @rollback: none
$s$),
('header', $s$-- @risk-level
$s$),
('header', $s$-- risk-level: high
-- Transaction: false
-- Dependencies: 001
$s$),
('header', $s$-- Created: 2023-02-29
-- Created: 2023-2-3
$s$),
('header', $s$-- Note: free text: with colons
-- TODO : spaced colon
-- @estimated-duration: 36h 1d 1 day 1 days 1 hr 1 hrs 1 ms 1 msec 1 msecs
-- @zero-downtime: 1
/* a block comment ends the header
-- @transaction: false */
$s$),
('header', E'\uFEFF-- Description: byte-order mark\r\n-- @transaction: off\r\n\r\nCREATE INDEX CONCURRENTLY i ON t (x);\r\n'),
('header', $s$-- @estimated-duration: 99999999999999999999 days
-- @estimated-duration: 0.000000000000000000001 ms
$s$),
('header', $s$-- @dependencies: 1.2.3, v1_0-rc, 20250101090000, 0001
-- @environments: prod
-- @environments: prod
$s$),
('header', ''),
('header', E'\n\n\n-- Description:\n--\n-- :\n-- @:\n-- @ :x\n');

-- scripts: what real migrations contain
INSERT INTO seed (fn, input) VALUES
('statements', $s$-- Description: users
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,        -- login; a ; inside a comment
    note text DEFAULT 'it''s; fine'
);
COMMENT ON TABLE users IS E'people\'s accounts; really';
$s$),
('statements', $s$BEGIN;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.updated_at := now();   -- ; inside a body
    RETURN NEW;
END
$fn$;
CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
COMMIT;
$s$),
('statements', $s$/* a /* nested */ comment; */
START TRANSACTION;
DO $$ BEGIN RAISE NOTICE 'x;y'; END $$;
END;
$s$),
('statements', $s$-- @transaction: false
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
DROP INDEX CONCURRENTLY IF EXISTS old_idx;
REINDEX INDEX CONCURRENTLY orders_pkey;
VACUUM (ANALYZE) orders;
ALTER TYPE mood ADD VALUE 'meh';
$s$),
('statements', $s$COPY users (email) FROM STDIN;
a@example.com
\.
$s$),
('statements', $s$COPY (SELECT 1) TO STDOUT;
COPY t FROM '/tmp/data.csv' WITH (FORMAT csv);
COPY t TO PROGRAM 'cat';
$s$),
('statements', $s$CREATE FUNCTION add(a int, b int) RETURNS int
LANGUAGE sql
BEGIN ATOMIC
    SELECT a + b;
    SELECT 1;
END;
CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;
CALL p();
$s$),
('statements', $s$SAVEPOINT a; RELEASE a; ROLLBACK; PREPARE TRANSACTION 'x';
BEGIN ISOLATION LEVEL SERIALIZABLE; COMMIT AND CHAIN;
$s$),
('statements', $s$SELECT U&'d\0061t\+000061', B'1010', X'1F', $tag$ $$ nested $$ $tag$,
       "quoted ""ident""", 1.5e10, .5, 0x1F, 1_000_000, $1;
$s$),
('statements', $s$WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3)
SELECT * FROM r; ; ;
EXPLAIN (COSTS off) SELECT 1;
SET search_path = x, pg_catalog; SET LOCAL lock_timeout = '1s'; RESET ALL;
$s$),
('statements', $s$CREATE DATABASE d; ALTER SYSTEM SET work_mem = '1MB'; CREATE TABLESPACE s LOCATION '/x';
DISCARD ALL; LISTEN c; NOTIFY c; CHECKPOINT; CLUSTER t; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;
$s$),
('statements', E'SELECT 1 -- no newline at the end'),
('statements', E'SELECT ''unterminated'),
('statements', E'/* unterminated comment'),
('statements', E'SELECT $$unterminated'),
('statements', '-- only a comment'),
('statements', ''),
('statements', E'CREATE TABLE "t\u00e9" ("\U0001F600" int);\r\nINSERT INTO "t\u00e9" VALUES (1);\r\n');

-- versions
INSERT INTO seed (fn, input)
SELECT 'version', v FROM unnest(ARRAY[
    '001', '1', '2', '10', '1.9', '1.10', '1.2.3', '20250101090000', 'v1_0-rc',
    '0', '000', 'a', 'A.b-C_d', repeat('9', 128), repeat('0', 128) || '1',
    'x' || repeat('0', 127), '-1', '.1', '_a', 'a b', '', 'é', '1' || U&'\FF11']) AS v;

-- cron expressions
INSERT INTO seed (fn, input)
SELECT 'cron', e FROM unnest(ARRAY[
    '* * * * *', '0 0 * * *', '*/15 * * * *', '0 9-17/2 * * mon-fri',
    '30 2 1,15 * *', '0 0 13 * 5', '0 0 29 2 *', '0 0 31 4 *', '0 0 30 2 *',
    '5 4 * jan-mar,dec sun', '0 12 * * 7', '0 0 1 1 *', '59 23 31 12 6',
    '1-59/58 0-23/23 1-31/30 1-12/11 0-7/7', '5/10 * * * *', '0 0 * * SUN,sat',
    '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight',
    '@hourly', '@reboot', '@daily 5', '  @HOURLY  ', '0 0 * * * *', '0 0 * *',
    'fri-mon', '60 24 32 13 8', '*/0 * * * *', '0-0 0 1 1 0', '',
    E'0\t0\t*\t*\t*', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 * * * *']) AS e;
