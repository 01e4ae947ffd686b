-- apply(): ordering, targets, atomicity, durable failures, retries.
\set VERBOSITY terse

-- 003 is registered first but depends on 001 and 002; 004 depends on 010,
-- which sorts after it: dependencies win over version order.
SELECT migrate.register('003', 'orders', E'-- @dependencies: 001, 002\nCREATE TABLE ap_orders (id int PRIMARY KEY, customer int REFERENCES ap_customers, product int REFERENCES ap_products);', 'DROP TABLE ap_orders;');
SELECT migrate.register('001', 'customers', 'CREATE TABLE ap_customers (id int PRIMARY KEY);', 'DROP TABLE ap_customers;');
SELECT migrate.register('002', 'products', 'CREATE TABLE ap_products (id int PRIMARY KEY);', 'DROP TABLE ap_products;');
SELECT migrate.register('004', 'order_view', E'-- @dependencies: 010\nCREATE VIEW ap_order_view AS SELECT o.id, c.note FROM ap_orders o JOIN ap_customers c ON c.id = o.customer;', 'DROP VIEW ap_order_view;');
SELECT migrate.register('010', 'customer_note', E'-- @dependencies: 003\nALTER TABLE ap_customers ADD COLUMN note text;', 'ALTER TABLE ap_customers DROP COLUMN note;');

-- a target stops after it (and after what it needs)
SELECT version, name, action, state, statements FROM migrate.apply(target => '002');
SELECT version, state FROM migrate.status;
SELECT version, name, action, state, statements FROM migrate.apply();
SELECT version, state, checksum_ok, applied_by, applied_at IS NOT NULL AS has_time,
       duration IS NOT NULL AS has_duration
FROM migrate.status_detail;
SELECT to_regclass('ap_order_view') IS NOT NULL AS view_exists;

-- nothing left to do
SELECT * FROM migrate.apply();
SELECT * FROM migrate.apply(target => '001');
SELECT * FROM migrate.apply(target => '999');

-- a missing dependency or a cycle is reported before anything runs
SELECT migrate.register('020', 'needs_ghost', E'-- @dependencies: 019\nCREATE TABLE ap_ghost (id int);');
SELECT * FROM migrate.apply();
SELECT migrate.register('019', 'cycle_a', E'-- @dependencies: 021\nSELECT 1;');
SELECT migrate.register('021', 'cycle_b', E'-- @dependencies: 019\nSELECT 1;');
SELECT * FROM migrate.apply();
SELECT to_regclass('ap_ghost') AS nothing_ran;
-- break the cycle
SELECT migrate.register('021', 'cycle_b', 'SELECT 1;');
SELECT version, state FROM migrate.apply();

-- a failing migration: nothing from the call stays ...
SELECT migrate.register('030', 'widgets', 'CREATE TABLE ap_widgets (id int PRIMARY KEY);', 'DROP TABLE ap_widgets;');
SELECT migrate.register('031', 'broken', $$CREATE TABLE ap_gadgets (id int);
-- the next statement fails on line 4
INSERT INTO ap_gadgets
    VALUES (no_such_column);
CREATE TABLE ap_never (id int);$$, 'DROP TABLE ap_gadgets;');
SELECT migrate.register('032', 'after_broken', 'CREATE TABLE ap_after (id int);', 'DROP TABLE ap_after;');
\set VERBOSITY default
SET migrate.progress_level = 'debug1';  -- the notices' DETAIL holds timings
SELECT * FROM migrate.apply();
RESET migrate.progress_level;
\set VERBOSITY terse
SELECT to_regclass('ap_widgets') AS widgets, to_regclass('ap_gadgets') AS gadgets;
-- ... but the failure is recorded durably, with where it happened
SELECT version, state, last_error->>'sqlstate' AS sqlstate, last_error->>'message' AS message,
       last_error->>'statement' AS statement, last_error->>'line' AS line,
       last_error->>'statement_text' AS statement_text, last_error->>'script' AS script
FROM migrate.status_detail WHERE version >= '030';
SELECT action, version, outcome, error->>'sqlstate' AS sqlstate, duration IS NOT NULL AS has_duration
FROM migrate.history WHERE outcome = 'failure';

-- the same inside an explicit transaction that the caller rolls back
BEGIN;
SELECT * FROM migrate.apply();
ROLLBACK;
SELECT count(*) AS failures FROM migrate.history WHERE outcome = 'failure' AND version = '031';

-- after a fix, apply() retries from the same point
SELECT migrate.register('031', 'broken', $$CREATE TABLE ap_gadgets (id int);
INSERT INTO ap_gadgets VALUES (1);$$, 'DROP TABLE ap_gadgets;');
SELECT version, state FROM migrate.apply();
SELECT version, state, last_error FROM migrate.status_detail WHERE version >= '030';

-- a migration that must run outside a transaction block goes, with the
-- rest of the plan, to a background worker that runs it at top level; inside
-- a transaction block that is refused before anything runs
SELECT migrate.register('040', 'plain', 'CREATE TABLE ap_plain (id int);');
SELECT migrate.register('041', 'concurrent', 'CREATE INDEX CONCURRENTLY ap_plain_id ON ap_plain (id);',
                        'DROP INDEX CONCURRENTLY ap_plain_id;');
SELECT version, transactional FROM migrate.status_detail WHERE version IN ('040', '041');
BEGIN;
SELECT * FROM migrate.apply();
ROLLBACK;
SELECT to_regclass('ap_plain') AS nothing_ran;
SELECT version, name, action, state, statements FROM migrate.apply();
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'ap_plain'::regclass
ORDER BY indexrelid::regclass::text;
SELECT s.version, s.state, s.checksum_ok, m.dirty_statement FROM migrate.status_detail s
JOIN migrate.migration m USING (version) WHERE s.version IN ('040', '041')
ORDER BY s.version;
SELECT action, version, outcome, detail->>'by' AS by FROM migrate.history
WHERE version IN ('040', '041') AND action = 'apply';
-- and back, through the worker as well
SELECT version, action, state FROM migrate.revert();
SELECT count(*) AS indexes_left FROM pg_index WHERE indrelid = 'ap_plain'::regclass;

-- a failing CREATE INDEX CONCURRENTLY cannot be rolled back: the migration
-- is left dirty at the statement that failed, the INVALID index it left is
-- dropped, and nothing runs past it until resolve()
INSERT INTO ap_plain VALUES (1), (1);
SELECT migrate.register('042', 'unique_id', $$CREATE INDEX CONCURRENTLY ap_plain_a ON ap_plain (id);
CREATE UNIQUE INDEX CONCURRENTLY ap_plain_unique ON ap_plain (id);$$,
    'DROP INDEX CONCURRENTLY ap_plain_unique; DROP INDEX CONCURRENTLY ap_plain_a;');
SELECT migrate.register('043', 'after_dirty', 'SELECT 43;');
\set VERBOSITY default
SET migrate.progress_level = 'debug1';  -- the notices' DETAIL holds timings
SELECT * FROM migrate.apply();
RESET migrate.progress_level;
\set VERBOSITY terse
SELECT s.version, s.state, m.dirty_statement, s.last_error->>'sqlstate' AS sqlstate,
       s.last_error->'invalid_indexes' AS invalid_indexes
FROM migrate.status_detail s JOIN migrate.migration m USING (version) WHERE s.version >= '041'
ORDER BY s.version;
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'ap_plain'::regclass
ORDER BY indexrelid::regclass::text;
SELECT * FROM migrate.apply();
SELECT * FROM migrate.revert();
-- its scripts cannot change while it is half run
SELECT migrate.register('042', 'unique_id', 'CREATE INDEX CONCURRENTLY ap_plain_b ON ap_plain (id);');
-- fix the data, then retry from the statement that failed
DELETE FROM ap_plain;
SELECT migrate.resolve('042', 'bogus');
SELECT migrate.resolve('043', 'retry');
SELECT migrate.resolve('042', 'retry');
SELECT version, state, resume_statement FROM migrate.migration WHERE version = '042';
SELECT version, state FROM migrate.apply();
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index
WHERE indrelid = 'ap_plain'::regclass ORDER BY 1;
SELECT action, version, outcome, detail->>'action' AS resolved FROM migrate.history
WHERE version = '042' ORDER BY id;

-- under REPEATABLE READ the registry read after waiting for the lock would
-- be stale, so changing migrations needs READ COMMITTED
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM migrate.apply();
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT migrate.register('037', 'serializable', 'SELECT 37;');
ROLLBACK;

-- a migration cannot change migrations (the lock is re-entrant)
SELECT migrate.register('038', 'recursive', 'SELECT count(*) FROM migrate.apply();');
SELECT * FROM migrate.apply(target => '038');
SELECT version, state, last_error->>'message' AS message FROM migrate.status_detail WHERE version = '038';
SELECT migrate.register('038', 'recursive', 'SELECT 38;');

-- progress messages: one per migration, at migrate.progress_level
SELECT migrate.register('039', 'progress', 'SELECT 1;');
SET migrate.progress_level = 'warning';
SELECT version FROM migrate.apply(target => '039');
RESET migrate.progress_level;

-- clean up for the next test
DROP VIEW ap_order_view;
DROP TABLE ap_orders, ap_customers, ap_products, ap_widgets, ap_gadgets, ap_after, ap_plain, ap_ghost;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
