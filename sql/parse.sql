-- Scripts are split by PostgreSQL's own parser.
\set VERBOSITY terse

-- dollar quoting, nested comments, E'' strings, function bodies and
-- BEGIN ATOMIC bodies, with the line each statement starts on
SELECT statement, line, command, transactional, sql FROM migrate.statements($script$
/* a /* nested */ comment; with a semicolon */
CREATE TABLE accounts (id int PRIMARY KEY, note text DEFAULT E'it''s; \' fine');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.note := 'changed; really';   -- a semicolon in a comment;
    RETURN NEW;
END
$fn$;
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT a + b;
END;
INSERT INTO accounts VALUES (1, $$a;b$$), (2, $tag$c;d$tag$);
-- trailing comment after the last statement
$script$);

-- the last statement needs no semicolon
SELECT statement, line, sql FROM migrate.statements(E'SELECT 1;\n\n  SELECT 2');

-- one BEGIN ... COMMIT pair around the whole script is ignored
SELECT statement, line, sql FROM migrate.statements(E'BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n');
SELECT statement, sql FROM migrate.statements(E'START TRANSACTION;\nSELECT 1;\nEND;');
SELECT statement, sql FROM migrate.statements(E'begin transaction;\nSELECT 1;\ncommit work;');

-- any other transaction control is refused
SELECT * FROM migrate.statements(E'SELECT 1;\nCOMMIT;\nSELECT 2;');
SELECT * FROM migrate.statements(E'BEGIN;\nSELECT 1;\nROLLBACK;');
SELECT * FROM migrate.statements(E'SELECT 1;\nSAVEPOINT s;\nSELECT 2;');
SELECT * FROM migrate.statements(E'SELECT 1;\nRELEASE SAVEPOINT s;');
SELECT * FROM migrate.statements(E'BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;');
SELECT * FROM migrate.statements(E'BEGIN;\nSELECT 1;\nCOMMIT AND CHAIN;');
SELECT * FROM migrate.statements(E'BEGIN;\nSELECT 1;');
SELECT * FROM migrate.statements(E'PREPARE TRANSACTION \'x\';');

-- COPY from the client cannot work inside the server
SELECT * FROM migrate.statements(E'COPY accounts FROM STDIN;');
SELECT * FROM migrate.statements(E'COPY accounts TO STDOUT;');

-- statements that cannot run inside a transaction block are detected
SELECT command, transactional, sql FROM migrate.statements($$
CREATE INDEX CONCURRENTLY i1 ON t (a);
CREATE INDEX i2 ON t (a);
DROP INDEX CONCURRENTLY i1;
DROP INDEX i2;
REINDEX (CONCURRENTLY) INDEX i3;
REINDEX INDEX CONCURRENTLY i3;
REINDEX INDEX i3;
VACUUM t;
ANALYZE t;
CLUSTER;
CLUSTER t USING i3;
CREATE DATABASE d;
DROP DATABASE d;
ALTER SYSTEM SET work_mem = '8MB';
DISCARD ALL;
DISCARD PLANS;
ALTER TYPE mood ADD VALUE 'meh';
ALTER SUBSCRIPTION sub SET PUBLICATION pub;
ALTER SUBSCRIPTION sub SET PUBLICATION pub WITH (refresh = false);
ALTER SUBSCRIPTION sub DISABLE;
ALTER TABLE parted DETACH PARTITION part CONCURRENTLY;
ALTER TABLE parted DETACH PARTITION part;
$$);
-- the other kinds, one each (REINDEX SCHEMA cannot run in a transaction
-- block either: 1.0 took it for transactional, and apply() failed on it)
SELECT command, transactional, sql FROM migrate.statements($$
REINDEX SCHEMA s;
REINDEX SCHEMA CONCURRENTLY s;
REINDEX TABLE CONCURRENTLY t;
REINDEX TABLE t;
REINDEX SYSTEM d;
REINDEX DATABASE d;
ALTER DATABASE d SET TABLESPACE ts;
ALTER DATABASE d SET work_mem = '8MB';
CREATE TABLESPACE ts LOCATION '/nowhere';
DROP TABLESPACE ts;
CREATE SUBSCRIPTION sub CONNECTION 'dbname=d' PUBLICATION pub;
DROP SUBSCRIPTION sub;
ALTER SUBSCRIPTION sub REFRESH PUBLICATION;
ALTER SUBSCRIPTION sub ADD PUBLICATION pub2;
ALTER SUBSCRIPTION sub DROP PUBLICATION pub2 WITH (refresh = false);
VACUUM (ANALYZE) t;
VACUUM (ANALYZE);
ANALYZE;
CLUSTER t;
$$);
-- DROP INDEX CONCURRENTLY of a name with more than three parts is still
-- classified (the server reports the bad name when the statement runs, in
-- the context of its migration); registration used to fail on it with a
-- bare "improper relation name"
SELECT command, transactional, sql FROM migrate.statements($$
DROP INDEX CONCURRENTLY a.b.c.d;
DROP INDEX CONCURRENTLY IF EXISTS d.s.i;
$$);

\set VERBOSITY default
-- syntax errors name the line of the script, and show the script under the cursor
SELECT * FROM migrate.statements(E'SELECT 1;\n\nCREATE TABLE (;\nSELECT 3;');

-- a long parse honours statement_timeout and cancel (57014)
SET statement_timeout = '50ms';
\set VERBOSITY terse
SELECT count(*) FROM migrate.statements(repeat(E'/* a comment */ SELECT 1;\n', 300000));
\set VERBOSITY default
-- nested comment starts without a space in between would keep PostgreSQL's
-- scanner busy for quadratic time, beyond any cancel: refused up front
SELECT count(*) FROM migrate.statements(repeat('/*', 50000));
SELECT count(*) FROM migrate.statements('SELECT 1 ' || repeat('/*', 50000) || repeat('*/', 50000));
RESET statement_timeout;
-- a long run below the limit is read as usual
SELECT count(*) FROM migrate.statements('SELECT 1 ' || repeat('/*', 2000) || repeat('*/', 2000));
