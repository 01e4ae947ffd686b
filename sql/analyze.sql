-- migrate.analyze(script, measure): per statement and relation, the lock
-- mode, the effect (catalog, scan, build, rewrite), the size; measure =>
-- true runs the script in a rolled-back subtransaction and reads the
-- locks it took.  Also plan()'s derived_risk, risk_reasons, findings and
-- locks columns.  (Findings of the lock and type rules come from other
-- modules: where they would raise a level the queries below leave the
-- "statement N: warning finding ..." reasons out, so that this file tests the lock facts.)
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS migrate;
CREATE EXTENSION migrate;
CREATE TABLE an_orders (id int PRIMARY KEY, note text, amount numeric(10,2));
INSERT INTO an_orders SELECT g, 'note ' || g, g FROM generate_series(1, 1000) g;
CREATE TABLE an_customer (id int PRIMARY KEY);
INSERT INTO an_customer VALUES (1);
CREATE TABLE an_empty (id int);
CREATE MATERIALIZED VIEW an_totals AS SELECT sum(amount) AS total FROM an_orders;
CREATE TABLE an_parted (id int) PARTITION BY RANGE (id);
CREATE TABLE an_p1 (id int);
RESET client_min_messages;

-- every statement kind of the table in doc/migrate.md: nothing runs
SELECT statement, line, command, relation, lock_mode, effect, detail
FROM migrate.analyze($$
CREATE INDEX an_orders_note ON an_orders (note);
CREATE INDEX CONCURRENTLY an_orders_amount ON an_orders (amount);
DROP INDEX an_orders_pkey;
DROP INDEX CONCURRENTLY an_orders_pkey;
ALTER TABLE an_orders ALTER COLUMN note TYPE varchar(20) USING note::varchar(20);
ALTER TABLE an_orders ADD COLUMN serial_no bigserial;
ALTER TABLE an_orders ADD COLUMN flag boolean DEFAULT false, ADD COLUMN flag2 int DEFAULT 0;
ALTER TABLE an_orders ADD COLUMN ident bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE an_orders ADD COLUMN required int NOT NULL;
ALTER TABLE an_orders ALTER COLUMN note SET NOT NULL;
ALTER TABLE an_orders ALTER COLUMN note DROP NOT NULL;
ALTER TABLE an_orders ADD CONSTRAINT positive CHECK (amount > 0);
ALTER TABLE an_orders ADD CONSTRAINT positive2 CHECK (amount > 0) NOT VALID;
ALTER TABLE an_orders VALIDATE CONSTRAINT positive2;
ALTER TABLE an_orders ADD CONSTRAINT cust FOREIGN KEY (id) REFERENCES an_customer (id);
ALTER TABLE an_orders ADD CONSTRAINT cust2 FOREIGN KEY (id) REFERENCES an_customer (id) NOT VALID;
ALTER TABLE an_orders ADD CONSTRAINT uq UNIQUE (note);
ALTER TABLE an_orders ADD CONSTRAINT uq2 UNIQUE USING INDEX an_orders_note;
ALTER TABLE an_orders SET UNLOGGED;
ALTER TABLE an_orders SET ACCESS METHOD heap;
ALTER TABLE an_orders ALTER COLUMN note SET DEFAULT 'x';
ALTER TABLE an_orders DROP COLUMN amount;
ALTER TABLE an_orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE an_orders RENAME TO an_orders2;
ALTER TABLE an_orders RENAME COLUMN note TO remark;
ALTER INDEX an_orders_pkey RENAME TO an_orders_pk;
COMMENT ON TABLE an_orders IS 'orders';
COMMENT ON COLUMN an_orders.note IS 'a note';
GRANT SELECT ON an_orders, an_customer TO PUBLIC;
CREATE TRIGGER an_t BEFORE INSERT ON an_orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
DROP TRIGGER an_t ON an_orders;
TRUNCATE an_empty, an_customer;
REINDEX TABLE an_orders;
REINDEX INDEX CONCURRENTLY an_orders_pkey;
CLUSTER an_orders USING an_orders_pkey;
VACUUM FULL an_orders;
VACUUM an_orders;
REFRESH MATERIALIZED VIEW an_totals;
REFRESH MATERIALIZED VIEW CONCURRENTLY an_totals;
INSERT INTO an_orders VALUES (5000, 'x', 1);
UPDATE an_orders SET note = 'y' WHERE id = 1;
DELETE FROM an_orders WHERE id = 2;
LOCK TABLE an_orders IN SHARE MODE;
CREATE TABLE an_new (id int REFERENCES an_customer, PRIMARY KEY (id));
CREATE INDEX ON an_new (id);
ALTER TABLE an_new ALTER COLUMN id TYPE bigint USING id::bigint;
DROP TABLE an_empty;
CREATE FUNCTION an_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
SET lock_timeout = '1s';
DO $d$ BEGIN PERFORM 1; END $d$;
SELECT 1;
ALTER TABLE an_nosuch ADD COLUMN x int;
$$)
ORDER BY statement, relation NULLS FIRST;

-- where the text cannot decide, the catalog is asked (store/relfacts_column.c):
-- is the type change binary-coercible (text: yes, no rewrite; bigint: no),
-- is the default volatile (now() is stable: no rewrite; random() is
-- volatile); "unknown" counts as the worse case
SELECT statement, effect, detail
FROM migrate.analyze($$
ALTER TABLE an_orders ALTER COLUMN note TYPE text;
ALTER TABLE an_orders ALTER COLUMN id TYPE bigint;
ALTER TABLE an_orders ADD COLUMN created timestamptz DEFAULT now();
ALTER TABLE an_orders ADD COLUMN lottery float8 DEFAULT random();
ALTER TABLE an_nosuch ALTER COLUMN id TYPE bigint;
$$);

-- ADD COLUMN ... PRIMARY KEY: builds the index, and the key's NOT NULL
-- without a default checks every row; with a default, only the index
SELECT statement, lock_mode, effect, detail
FROM migrate.analyze($$
ALTER TABLE an_orders ADD COLUMN k int PRIMARY KEY;
ALTER TABLE an_orders ADD COLUMN k int DEFAULT 0 UNIQUE;
$$);

-- partitions: ATTACH locks the parent SHARE UPDATE EXCLUSIVE and checks
-- the partition's rows under ACCESS EXCLUSIVE; DETACH CONCURRENTLY blocks
-- no writes
SELECT statement, relation, lock_mode, effect, detail
FROM migrate.analyze($$
ALTER TABLE an_parted ATTACH PARTITION an_p1 FOR VALUES FROM (1) TO (100);
ALTER TABLE an_parted DETACH PARTITION an_p1 CONCURRENTLY;
ALTER TABLE an_parted DETACH PARTITION an_p1;
CREATE TABLE an_p2 PARTITION OF an_parted FOR VALUES FROM (100) TO (200);
$$)
ORDER BY statement, relation;

-- sizes come from the catalog: the table's total size, as
-- pg_total_relation_size() and pg_size_pretty() give it; relation is the
-- catalog's schema-qualified name whatever the script wrote
SELECT a.relation, a.relation_bytes = pg_total_relation_size('an_orders') AS bytes_match,
       a.relation_size = pg_size_pretty(pg_total_relation_size('an_orders')) AS size_match
FROM migrate.analyze('ALTER TABLE public.an_orders ALTER COLUMN note SET NOT NULL;') a;
SELECT relation, relation_bytes, relation_size, effect, detail
FROM migrate.analyze('CREATE INDEX ON an_empty (id); CREATE TABLE an_x (id int); CREATE INDEX ON an_x (id);');

-- measure => true: a DO block the text cannot read; its ALTER TABLE is seen
-- in this backend's locks while the subtransaction still holds them
SELECT statement, command, relation, lock_mode, effect, detail
FROM migrate.analyze($$
DO $d$ BEGIN EXECUTE 'ALTER TABLE an_orders ADD COLUMN measured int'; END $d$;
CREATE TABLE an_m (id int);
CREATE INDEX an_m_id ON an_m (id);
INSERT INTO an_customer VALUES (2);
CREATE INDEX CONCURRENTLY an_orders_c ON an_orders (note);
SELECT * FROM an_nosuch;
$$, measure => true)
ORDER BY statement, relation NULLS FIRST;

-- nothing of the measured run persists
SELECT count(*) AS measured_columns FROM pg_attribute
WHERE attrelid = 'an_orders'::regclass AND attname = 'measured';
SELECT to_regclass('an_m') AS an_m, to_regclass('an_m_id') AS an_m_id;
SELECT count(*) AS customers FROM an_customer;
SHOW lock_timeout;

-- (a lock another session holds, which makes the measured statement give
-- up after lock_timeout = 100ms: test/isolation/specs/analyze-measure.spec)

-- a statement that fails is reported, not raised; the others still measured
SELECT statement, relation, lock_mode, detail
FROM migrate.analyze('ALTER TABLE an_nosuch ADD COLUMN x int; INSERT INTO an_customer VALUES (3);', true);
SELECT count(*) AS customers FROM an_customer;

-- errors: a NULL script; a script that does not parse
SELECT * FROM migrate.analyze(NULL);
SELECT * FROM migrate.analyze('ALTER TABLE;');
-- measure NULL is false
SELECT count(*) FROM migrate.analyze('INSERT INTO an_customer VALUES (9);', NULL);
-- a long measured script (300 statements): what each statement's run
-- found is kept in the caller's memory, not in SPI's, which SPI_finish frees
SELECT count(*) AS rows, count(*) FILTER (WHERE detail LIKE '%measured%') AS measured,
       count(DISTINCT statement) AS statements
FROM migrate.analyze((SELECT string_agg(format('CREATE TABLE an_m%s (id int PRIMARY KEY); CREATE INDEX ON an_m%s (id);', i, i), E'\n')
                      FROM generate_series(0, 149) i), true);
SELECT count(*) AS left_behind FROM pg_class WHERE relname LIKE 'an\_m%';
-- measured locks are matched to the rows by relation oid: a relation the
-- statement drops has no name left when its locks are read (DROP TABLE,
-- DROP INDEX), and REINDEX INDEX keeps the index's own lock though it
-- also locks the index's table
CREATE TABLE an_drop (id int PRIMARY KEY, v int);
CREATE TABLE an_drop2 (id int);
CREATE INDEX an_drop_v ON an_drop (v);
SELECT statement, command, relation, lock_mode, detail
FROM migrate.analyze('REINDEX INDEX an_drop_pkey; DROP INDEX an_drop_v; DROP TABLE an_drop2;', true);
DROP TABLE an_drop, an_drop2;

-- the other table of a foreign key: dropping or changing a foreign key
-- drops or recreates its triggers on both tables under ACCESS EXCLUSIVE;
-- the static facts name the same locks as the measured ones (each
-- statement alone: the measured run of a script applies the earlier ones)
CREATE TABLE an_big (id int PRIMARY KEY);
CREATE TABLE an_fkt (r int REFERENCES an_big (id), other int);
SELECT s.n, a.relation, a.lock_mode, a.effect, a.detail
FROM (VALUES (1, 'ALTER TABLE an_fkt DROP CONSTRAINT an_fkt_r_fkey;'),
             (2, 'DROP TABLE an_fkt;'),
             (3, 'ALTER TABLE an_fkt DROP COLUMN r;'),
             (4, 'ALTER TABLE an_fkt ALTER COLUMN r TYPE bigint;'),
             (5, 'DROP TABLE an_big CASCADE;'),
             (6, 'ALTER TABLE an_big DROP CONSTRAINT an_big_pkey CASCADE;'),
             (7, 'ALTER TABLE an_big ALTER COLUMN id TYPE bigint;')) s(n, script),
     LATERAL migrate.analyze(s.script, measure => true) a
ORDER BY s.n, a.relation;
-- a column or a constraint outside the foreign key leaves the other table alone
SELECT relation, lock_mode FROM migrate.analyze('ALTER TABLE an_fkt DROP COLUMN other;')
ORDER BY relation;
DROP TABLE an_fkt, an_big;

-- ADD COLUMN of a domain with constraints checks every row: a rewrite
CREATE DOMAIN an_positive AS int CHECK (VALUE > 0);
CREATE DOMAIN an_plain AS int;
SELECT relation, lock_mode, effect, detail
FROM migrate.analyze('ALTER TABLE an_orders ADD COLUMN p an_positive DEFAULT 1;
ALTER TABLE an_orders ADD COLUMN q an_plain DEFAULT 1;
ALTER TABLE an_orders ADD COLUMN r an_positive[];')
ORDER BY statement;
DROP DOMAIN an_positive, an_plain;

-- plan(): derived risk, its reasons, findings and locks per migration
SELECT migrate.register('an1', 'rewrite orders', $$-- @risk-level: low
CREATE INDEX an_orders_note ON an_orders (note);
ALTER TABLE an_orders ALTER COLUMN note TYPE varchar(30) USING note::varchar(30);
$$);
SELECT migrate.register('an2', 'new table', $$-- @risk-level: low
CREATE TABLE an_t2 (id bigint PRIMARY KEY);
CREATE INDEX an_t2_id ON an_t2 (id);
$$);
SELECT migrate.register('an3', 'catalog only', $$-- @risk-level: low
COMMENT ON TABLE an_orders IS 'orders';
ALTER TABLE an_orders ALTER COLUMN note SET DEFAULT 'none';
$$);
SELECT migrate.register('an4', 'empty table', $$
CREATE INDEX an_empty_id ON an_empty (id);
$$);
SELECT version, risk_level, derived_risk,
       array(SELECT r FROM unnest(risk_reasons) r WHERE r !~ '^statement \d+: \w+ finding ') AS reasons,
       array(SELECT regexp_replace(f, 'risk is (\w+) .*', 'risk is \1') FROM unnest(findings) f
             WHERE f LIKE '% risk-understated %' OR f LIKE '% large-table %') AS own_findings,
       locks
FROM migrate.plan() ORDER BY ordinal;
-- applied, they leave the plan, and plan() analyses nothing
SET client_min_messages = warning;
SELECT version, action FROM migrate.apply();
RESET client_min_messages;
SELECT count(*) FROM migrate.plan();
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
DROP TABLE an_orders, an_customer, an_empty, an_parted, an_p1 CASCADE;

-- a name the caller cannot resolve is unknown, never an error: a table in a
-- schema the caller has no USAGE on (RangeVarGetRelid raised 42501) and a
-- three-part name (it raised 0A000); lint, analyze, inversions and plan()
-- of the whole history keep working
CREATE SCHEMA an_private;
CREATE TABLE an_private.t (id int, note text DEFAULT 'n');
COMMENT ON TABLE an_private.t IS 'private';
CREATE FUNCTION an_private.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
COMMENT ON FUNCTION an_private.f() IS 'private f';
CREATE TYPE an_private.ty AS (a int);
CREATE ROLE an_outsider;
GRANT migrate_admin TO an_outsider;
SELECT migrate.register('an5', 'names a private schema', $$
CREATE INDEX an_private_t_id ON an_private.t (id);
ALTER TABLE an_private.t ALTER COLUMN note TYPE varchar(10);
$$);
SET ROLE an_outsider;
SELECT rule, statement FROM migrate.lint($$
CREATE INDEX ON an_private.t (id);
ALTER TABLE an_private.t ALTER COLUMN note TYPE varchar(10);
ALTER TABLE an_private.t ADD FOREIGN KEY (id) REFERENCES an_private.t (id);
COMMENT ON TABLE an_private.t IS 'x';
ALTER TABLE an_private.t ALTER COLUMN note SET DEFAULT 'x';
$$) ORDER BY statement, rule;
SELECT rule, statement FROM migrate.lint('CREATE INDEX ON otherdb.public.t (id); ALTER TABLE otherdb.public.t ALTER COLUMN note TYPE text;')
ORDER BY statement, rule;
SELECT statement, relation, lock_mode, effect, relation_bytes, detail
FROM migrate.analyze('CREATE INDEX ON an_private.t (id); CREATE INDEX ON otherdb.public.t (id);');
-- the previous comment and default are read though the caller may not use
-- the schema (pg_description and pg_attrdef are readable by every role),
-- and the table is found: CREATE TABLE IF NOT EXISTS has nothing to undo
-- (never a DROP TABLE IF EXISTS of the table that was there)
SELECT statement, coalesce(down, reason) AS inverse FROM migrate.inversions($$
COMMENT ON TABLE an_private.t IS 'x';
ALTER TABLE an_private.t ALTER COLUMN note SET DEFAULT 'y';
CREATE TABLE IF NOT EXISTS an_private.t (id int);
$$);
-- the same for a function and a type there (looked up as the bootstrap
-- superuser, as no 42501 may stop it), and a name in another database
SELECT statement, coalesce(down, reason) AS inverse FROM migrate.inversions($$
COMMENT ON FUNCTION an_private.f() IS 'x';
CREATE OR REPLACE FUNCTION an_private.f() RETURNS int LANGUAGE sql AS 'SELECT 2';
COMMENT ON TYPE an_private.ty IS 'x';
COMMENT ON FUNCTION otherdb.public.f() IS 'x';
$$);
SELECT version, derived_risk, locks FROM migrate.plan();
RESET ROLE;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
DROP SCHEMA an_private CASCADE;
DROP ROLE an_outsider;
