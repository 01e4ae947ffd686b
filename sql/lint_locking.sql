-- Lint rules about locks, rewrites and destructive DDL (src/model/lint_locking.c).
--
-- Lock and rewrite rules stay silent on a table that is new: created
-- earlier in the same script, or an existing table whose heap has no
-- block yet.  Fixtures: "orders" and "customers" hold rows, "empty_orders"
-- exists but never held one, "nowhere" does not exist (text-only rules
-- report, the catalog rule changing-column-type stays silent).
\set VERBOSITY terse
CREATE SCHEMA lint_locking;
SET search_path = lint_locking, public;

CREATE TABLE customers (id bigint PRIMARY KEY);
INSERT INTO customers SELECT g FROM generate_series(1, 10) g;
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    total integer,
    note varchar(20),
    amount numeric(10, 2),
    email text
);
INSERT INTO orders SELECT g, g, g, 'n', g FROM generate_series(1, 10) g;
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE empty_orders (LIKE orders INCLUDING ALL);
CREATE TABLE measurements (taken date, value integer) PARTITION BY RANGE (taken);
CREATE TABLE measurements_2023 PARTITION OF measurements
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
INSERT INTO measurements VALUES ('2023-05-01', 1);
CREATE TABLE empty_measurements (taken date) PARTITION BY RANGE (taken);
CREATE TABLE empty_measurements_2023 PARTITION OF empty_measurements
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE FUNCTION roll() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 4';
CREATE FUNCTION four() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 4';

-- this module's rules (src/model/lint_locking.c)
CREATE TABLE module_rules (id text PRIMARY KEY);
INSERT INTO module_rules VALUES
    ('require-concurrent-index-creation'), ('require-concurrent-index-deletion'),
    ('require-concurrent-reindex'), ('require-concurrent-detach-partition'),
    ('ban-concurrent-index-creation-in-transaction'), ('constraint-missing-not-valid'),
    ('disallowed-unique-constraint'), ('adding-not-nullable-field'),
    ('adding-field-with-default'), ('adding-required-field'),
    ('adding-serial-primary-key-field'), ('changing-column-type'),
    ('renaming-column'), ('renaming-table'), ('ban-drop-column'), ('ban-drop-table'),
    ('ban-drop-database'), ('ban-drop-not-null'), ('ban-truncate-cascade');

-- the findings of this module's rules and of unused-suppression only
-- (other modules lint the same scripts for other things)
CREATE FUNCTION findings(script text)
RETURNS TABLE (rule text, statement integer, line integer, message text)
LANGUAGE sql AS $f$
    SELECT f.rule, f.statement, f.line, f.message
    FROM migrate.lint(script) f
    WHERE f.rule IN (SELECT id FROM lint_locking.module_rules)
       OR f.rule = 'unused-suppression'
$f$;

-- the rules, as migrate.lint_rules lists them
SELECT r.id, r.severity, r.category, r.catalog
FROM migrate.lint_rules r JOIN module_rules USING (id)
ORDER BY r.id;

-- every rule's bad example reports it; its safe example does not, and is
-- clean of this module's rules altogether
SELECT r.id,
       (SELECT count(*) FROM findings(r.bad_example) f WHERE f.rule = r.id) AS bad,
       (SELECT count(*) FROM findings(r.safe_example) f WHERE f.rule = r.id) AS safe,
       (SELECT count(*) FROM findings(r.safe_example)) AS safe_all
FROM migrate.lint_rules r JOIN module_rules USING (id)
ORDER BY r.id;

-- ---- require-concurrent-index-creation ----
-- an existing table with rows: reported, with the rule's hint
SELECT rule, statement, line, message, hint
FROM migrate.lint('CREATE INDEX orders_total_idx ON orders (total);')
WHERE rule = 'require-concurrent-index-creation';
-- a table the catalog does not know: reported (text only)
SELECT * FROM findings('CREATE INDEX ON nowhere (id);');
-- CONCURRENTLY: clean
SELECT * FROM findings('CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);');
-- a table created earlier in the script: clean
SELECT * FROM findings($$CREATE TABLE fresh (id bigint, total integer);
CREATE INDEX fresh_total_idx ON fresh (total);$$);
-- an existing empty table: clean
SELECT * FROM findings('CREATE INDEX ON empty_orders (total);');
-- a materialized view created earlier in the script: clean
SELECT * FROM findings($$CREATE MATERIALIZED VIEW totals AS SELECT id, total FROM orders;
CREATE UNIQUE INDEX totals_id_idx ON totals (id);$$);
-- a partitioned table with rows: reported, with the partitioned pattern as hint
SELECT rule, message, hint FROM migrate.lint('CREATE INDEX ON measurements (value);')
WHERE rule = 'require-concurrent-index-creation';

-- ---- require-concurrent-index-deletion ----
SELECT * FROM findings('DROP INDEX orders_customer_id_idx;');
SELECT * FROM findings('DROP INDEX CONCURRENTLY orders_customer_id_idx;');
-- two indexes in one statement: CONCURRENTLY takes one, the hint says so
SELECT rule, message, hint FROM migrate.lint('DROP INDEX orders_customer_id_idx, orders_pkey;')
WHERE rule = 'require-concurrent-index-deletion';
-- an index this script built on a table it created: clean
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
CREATE INDEX fresh_id_idx ON fresh (id);
DROP INDEX fresh_id_idx;$$);

-- ---- require-concurrent-reindex ----
SELECT * FROM findings('REINDEX INDEX orders_customer_id_idx;');
SELECT * FROM findings('REINDEX TABLE orders;');
SELECT * FROM findings('REINDEX SCHEMA lint_locking;');
SELECT * FROM findings('REINDEX DATABASE postgres;');
SELECT * FROM findings('REINDEX INDEX CONCURRENTLY orders_customer_id_idx;');
SELECT * FROM findings('REINDEX TABLE CONCURRENTLY orders;');
-- an existing empty table, and an index built on a new table: clean
SELECT * FROM findings('REINDEX TABLE empty_orders;');
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
CREATE INDEX fresh_id_idx ON fresh (id);
REINDEX INDEX fresh_id_idx;$$);

-- ---- require-concurrent-detach-partition ----
SELECT * FROM findings('ALTER TABLE measurements DETACH PARTITION measurements_2023;');
SELECT * FROM findings('ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;');
-- a partitioned table whose partitions are all empty: clean
SELECT * FROM findings('ALTER TABLE empty_measurements DETACH PARTITION empty_measurements_2023;');
-- created earlier in the script: clean
SELECT * FROM findings($$CREATE TABLE m (taken date) PARTITION BY RANGE (taken);
CREATE TABLE m_2023 PARTITION OF m FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
ALTER TABLE m DETACH PARTITION m_2023;$$);

-- ---- ban-concurrent-index-creation-in-transaction ----
-- the header insists on a transaction: reported for each CONCURRENTLY form
SELECT * FROM findings($$-- @transaction: true
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);$$);
SELECT * FROM findings($$-- @transaction: true
DROP INDEX CONCURRENTLY orders_customer_id_idx;$$);
SELECT * FROM findings($$-- @transaction: true
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;$$);
SELECT * FROM findings($$-- @transaction: true
ALTER TABLE measurements DETACH PARTITION measurements_2023 CONCURRENTLY;$$);
-- no header, or @transaction: false: it runs statement by statement: clean
SELECT * FROM findings('CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);');
SELECT * FROM findings($$-- @transaction: false
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);$$);

-- ---- constraint-missing-not-valid ----
SELECT * FROM findings('ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);');
SELECT * FROM findings('ALTER TABLE orders ADD CHECK (total > 0);');
-- a CHECK or REFERENCES on a column added to a table with rows scans it too
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN parent bigint REFERENCES orders (id);');
-- NOT VALID: clean; an empty table and a table created in the script: clean
SELECT * FROM findings('ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;');
SELECT * FROM findings('ALTER TABLE empty_orders ADD CONSTRAINT total_positive CHECK (total > 0);');
SELECT * FROM findings($$CREATE TABLE fresh (id bigint, total integer);
ALTER TABLE fresh ADD CONSTRAINT total_positive CHECK (total > 0);$$);
-- VALIDATE in the same transaction as the NOT VALID ADD: reported
SELECT rule, statement, line, message, hint FROM migrate.lint($$ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT total_positive;$$)
WHERE rule = 'constraint-missing-not-valid';
-- the same in a non-transactional migration (statement by statement): clean
SELECT * FROM findings($$-- @transaction: false
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT total_positive;$$);
-- VALIDATE alone (its ADD was an earlier migration): clean
SELECT * FROM findings('ALTER TABLE orders VALIDATE CONSTRAINT total_positive;');

-- ---- disallowed-unique-constraint ----
SELECT * FROM findings('ALTER TABLE orders ADD CONSTRAINT orders_email_key UNIQUE (email);');
SELECT * FROM findings('ALTER TABLE nowhere ADD PRIMARY KEY (id);');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN code text UNIQUE;');
-- EXCLUDE builds its index too, and has no USING INDEX form
SELECT * FROM findings('ALTER TABLE orders ADD CONSTRAINT orders_no_overlap EXCLUDE USING gist (id WITH =);');
SELECT * FROM findings('ALTER TABLE orders ADD EXCLUDE USING btree (email WITH =);');
SELECT * FROM findings('ALTER TABLE empty_orders ADD EXCLUDE USING btree (email WITH =);');
-- USING INDEX, an empty table, a table created in the script: clean
SELECT * FROM findings('ALTER TABLE orders ADD CONSTRAINT orders_email_key UNIQUE USING INDEX orders_email_idx;');
SELECT * FROM findings('ALTER TABLE empty_orders ADD CONSTRAINT empty_orders_email_key UNIQUE (email);');
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
ALTER TABLE fresh ADD PRIMARY KEY (id);$$);

-- ---- adding-not-nullable-field ----
SELECT * FROM findings('ALTER TABLE orders ALTER COLUMN email SET NOT NULL;');
-- an empty table, a table created in the script: clean
SELECT * FROM findings('ALTER TABLE empty_orders ALTER COLUMN email SET NOT NULL;');
SELECT * FROM findings($$CREATE TABLE fresh (id bigint, email text);
ALTER TABLE fresh ALTER COLUMN email SET NOT NULL;$$);
-- a validated CHECK (email IS NOT NULL) earlier in the script proves it: clean
SELECT * FROM findings($$-- @transaction: false
ALTER TABLE orders ADD CONSTRAINT email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT email_not_null;
ALTER TABLE orders ALTER COLUMN email SET NOT NULL;$$);
-- ... also inside an AND
SELECT * FROM findings($$-- @transaction: false
ALTER TABLE orders ADD CONSTRAINT email_ok CHECK (email IS NOT NULL AND email <> '') NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT email_ok;
ALTER TABLE orders ALTER COLUMN email SET NOT NULL;$$);
-- a CHECK that is not validated yet, or proves another column: reported
SELECT * FROM findings($$ALTER TABLE orders ADD CONSTRAINT email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE orders ALTER COLUMN email SET NOT NULL;$$);
SELECT * FROM findings($$-- @transaction: false
ALTER TABLE orders ADD CONSTRAINT note_not_null CHECK (note IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT note_not_null;
ALTER TABLE orders ALTER COLUMN email SET NOT NULL;$$);

-- ---- adding-field-with-default ----
-- volatile defaults, as the catalog says: builtin, qualified, user-defined, nested
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN seen timestamptz DEFAULT pg_catalog.clock_timestamp();');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN dice integer DEFAULT roll();');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN dice integer DEFAULT (1 + floor(random() * 6))::integer;');
-- serial, identity and stored generated columns compute a value per row
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN seq bigserial;');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN double_total integer GENERATED ALWAYS AS (total * 2) STORED;');
-- constant, stable and immutable defaults are stored once: clean
SELECT * FROM findings($$ALTER TABLE orders ADD COLUMN state text DEFAULT 'new';
ALTER TABLE orders ADD COLUMN created timestamptz DEFAULT now();
ALTER TABLE orders ADD COLUMN four integer DEFAULT four();
ALTER TABLE orders ADD COLUMN token uuid;$$);
-- a function the catalog does not know (a later statement may create it): clean
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN x integer DEFAULT not_there();');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN x integer DEFAULT no_schema.roll();');
-- ... unless the name is one PostgreSQL declares volatile everywhere
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN x uuid DEFAULT no_schema.uuid_generate_v4();');
-- an empty table, a table created in the script: clean
SELECT * FROM findings('ALTER TABLE empty_orders ADD COLUMN token uuid DEFAULT gen_random_uuid();');
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
ALTER TABLE fresh ADD COLUMN token uuid DEFAULT gen_random_uuid();$$);

-- a domain with constraints checks every row: a rewrite, with or without a
-- DEFAULT; a domain without constraints and an array of the domain: clean
CREATE DOMAIN lint_positive AS integer CHECK (VALUE > 0);
CREATE DOMAIN lint_plain AS integer;
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN p lint_positive DEFAULT 1;');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN p lint_locking.lint_positive;');
SELECT * FROM findings($$ALTER TABLE orders ADD COLUMN q lint_plain DEFAULT 1;
ALTER TABLE orders ADD COLUMN r lint_positive[];$$);
SELECT * FROM findings('ALTER TABLE empty_orders ADD COLUMN p lint_positive DEFAULT 1;');
DROP DOMAIN lint_positive, lint_plain;

-- a schema the caller may not use: its functions are unknown, and the lint
-- does not fail (the migration would, with its own error)
CREATE SCHEMA lint_hidden;
CREATE FUNCTION lint_hidden.roll() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 4';
CREATE ROLE lint_locking_deployer IN ROLE migrate_admin;
GRANT USAGE ON SCHEMA lint_locking TO lint_locking_deployer;
GRANT SELECT ON lint_locking.module_rules TO lint_locking_deployer;
SET ROLE lint_locking_deployer;
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN x integer DEFAULT lint_hidden.roll();');
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN x integer DEFAULT lint_hidden.random();');
RESET ROLE;
DROP SCHEMA lint_hidden CASCADE;

-- ---- adding-required-field ----
SELECT * FROM findings('ALTER TABLE orders ADD COLUMN state text NOT NULL;');
SELECT * FROM findings('ALTER TABLE nowhere ADD COLUMN state text NOT NULL;');
-- with a default, an empty table, a table created in the script: clean
SELECT * FROM findings($$ALTER TABLE orders ADD COLUMN state text NOT NULL DEFAULT 'new';$$);
SELECT * FROM findings('ALTER TABLE empty_orders ADD COLUMN state text NOT NULL;');
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
ALTER TABLE fresh ADD COLUMN state text NOT NULL;$$);

-- ---- adding-serial-primary-key-field ----
SELECT * FROM findings('ALTER TABLE customers ADD COLUMN number serial PRIMARY KEY;');
SELECT * FROM findings('ALTER TABLE customers ADD COLUMN number bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY;');
-- an empty table, a table created in the script: clean
SELECT * FROM findings('ALTER TABLE empty_orders ADD COLUMN number bigserial PRIMARY KEY;');
SELECT * FROM findings($$CREATE TABLE fresh (name text);
ALTER TABLE fresh ADD COLUMN id bigserial PRIMARY KEY;$$);

-- ---- changing-column-type (the catalog decides) ----
-- a rewrite: another representation, a shorter varchar, another numeric scale
SELECT * FROM findings('ALTER TABLE orders ALTER COLUMN total TYPE bigint;');
SELECT * FROM findings('ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);');
SELECT * FROM findings('ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12, 3);');
SELECT * FROM findings('ALTER TABLE orders ALTER COLUMN email TYPE varchar(100);');
-- a USING expression that computes: a rewrite whatever the types
SELECT * FROM findings('ALTER TABLE nowhere ALTER COLUMN total TYPE bigint USING total::bigint;');
-- binary-coercible: a longer varchar, text, more numeric precision, same type: clean
SELECT * FROM findings($$ALTER TABLE orders ALTER COLUMN note TYPE varchar(40);
ALTER TABLE orders ALTER COLUMN note TYPE text;
ALTER TABLE orders ALTER COLUMN note TYPE varchar;
ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12, 2);
ALTER TABLE orders ALTER COLUMN amount TYPE numeric;
ALTER TABLE orders ALTER COLUMN total TYPE int4 USING total;$$);
-- unknown table, column or type, and a bad type modifier: silent (the
-- migration reports those itself when it runs)
SELECT * FROM findings($$ALTER TABLE nowhere ALTER COLUMN total TYPE bigint;
ALTER TABLE orders ALTER COLUMN missing TYPE bigint;
ALTER TABLE orders ALTER COLUMN total TYPE no_such_type;
ALTER TABLE orders ALTER COLUMN note TYPE varchar(0);$$);
-- an empty table, a table created in the script: clean
SELECT * FROM findings('ALTER TABLE empty_orders ALTER COLUMN total TYPE bigint;');
SELECT * FROM findings($$CREATE TABLE fresh (total integer);
ALTER TABLE fresh ALTER COLUMN total TYPE bigint;$$);

-- ---- renaming-column, renaming-table ----
SELECT * FROM findings('ALTER TABLE orders RENAME COLUMN note TO remark;');
SELECT * FROM findings('ALTER TABLE orders RENAME TO purchases;');
-- an existing empty table still has clients: reported
SELECT * FROM findings('ALTER TABLE empty_orders RENAME TO empty_purchases;');
-- a table created in the script has none yet: clean
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
ALTER TABLE fresh RENAME COLUMN id TO fresh_id;
ALTER TABLE fresh RENAME TO fresher;$$);
-- other renames: clean
SELECT * FROM findings('ALTER INDEX orders_customer_id_idx RENAME TO orders_customer_idx;');

-- ---- ban-drop-column, ban-drop-table, ban-drop-not-null, ban-drop-database ----
SELECT * FROM findings('ALTER TABLE orders DROP COLUMN note;');
SELECT * FROM findings('DROP TABLE orders, empty_orders;');
SELECT * FROM findings('ALTER TABLE orders ALTER COLUMN id DROP NOT NULL;');
SELECT * FROM findings('DROP DATABASE IF EXISTS analytics;');
-- a table created in the script: clean
SELECT * FROM findings($$CREATE TABLE fresh (id bigint NOT NULL, note text);
ALTER TABLE fresh ALTER COLUMN id DROP NOT NULL;
ALTER TABLE fresh DROP COLUMN note;
DROP TABLE fresh;$$);
-- other drops: clean
SELECT * FROM findings('DROP VIEW IF EXISTS some_view;');

-- ---- ban-truncate-cascade ----
SELECT * FROM findings('TRUNCATE customers CASCADE;');
SELECT * FROM findings('TRUNCATE orders, customers;');

-- ---- several findings: statement numbers and lines ----
SELECT * FROM findings($$-- Description: several
CREATE INDEX ON orders (total);

ALTER TABLE orders
    ADD COLUMN state text NOT NULL,
    ALTER COLUMN email SET NOT NULL;
DROP TABLE customers;$$);

-- ---- suppression ----
-- before a statement: that statement only
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
-- @lint-ignore: require-concurrent-index-creation
CREATE INDEX ON orders (total);
CREATE INDEX ON customers (id);$$);
-- in the header: the whole script
SELECT * FROM findings($$-- @lint-ignore: ban-drop-table, ban-drop-column
ALTER TABLE orders DROP COLUMN note;
DROP TABLE customers;$$);
-- a suppression that silenced nothing is reported
SELECT * FROM findings($$CREATE TABLE fresh (id bigint);
-- @lint-ignore: ban-drop-table
CREATE INDEX CONCURRENTLY ON orders (total);$$);

-- lint runs nothing and stores nothing
SELECT count(*) AS orders_rows FROM orders;
SELECT count(*) AS indexes FROM pg_indexes WHERE schemaname = 'lint_locking';

RESET search_path;
DROP SCHEMA lint_locking CASCADE;
DROP ROLE lint_locking_deployer;
