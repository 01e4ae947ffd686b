-- revert(): order, steps, targets, dependants, durable failures.
\set VERBOSITY terse

SELECT migrate.register('1', 'customers', 'CREATE TABLE rv_customers (id int PRIMARY KEY);', 'DROP TABLE rv_customers;');
SELECT migrate.register('2', 'products', 'CREATE TABLE rv_products (id int PRIMARY KEY);', 'DROP TABLE rv_products;');
SELECT migrate.register('3', 'orders', E'-- @dependencies: 1\nCREATE TABLE rv_orders (id int, customer int REFERENCES rv_customers);', 'DROP TABLE rv_orders;');
SELECT migrate.register('4', 'prices', E'-- @dependencies: 2\nALTER TABLE rv_products ADD COLUMN price numeric DEFAULT 0;', 'ALTER TABLE rv_products DROP COLUMN price;');
SELECT migrate.register('5', 'audit', 'CREATE TABLE rv_audit (id int);', 'DROP TABLE rv_audit;');
SELECT version FROM migrate.apply();

-- one step by default: the most recently applied
SELECT version, name, action, state, statements FROM migrate.revert();
SELECT version, state, applied_at IS NULL AS no_applied_at, checksum_ok FROM migrate.status_detail;
SELECT to_regclass('rv_audit') AS audit;

-- n steps, in reverse order of application
SELECT version, state FROM migrate.revert(steps => 2);
-- apply again: the rolled back migrations are pending once more
SELECT version, state FROM migrate.apply();

-- everything applied after a target; the target stays applied
SELECT version, state FROM migrate.revert(target => '2');
SELECT version, state FROM migrate.status;
SELECT version, state FROM migrate.apply();

-- a single migration: refused while an applied migration depends on it ...
SELECT * FROM migrate.revert(migration => '1');
-- ... unless with_dependents, which reverts the dependants first
SELECT version, state FROM migrate.revert(migration => '1', with_dependents => true);
SELECT version, state FROM migrate.status;
SELECT version, state FROM migrate.apply();


-- errors before anything runs
SELECT * FROM migrate.revert(steps => 0);
SELECT * FROM migrate.revert(steps => 1, target => '2');
SELECT * FROM migrate.revert(target => '42');
SELECT * FROM migrate.revert(migration => '42');
SELECT migrate.register('6', 'no_down', 'CREATE TABLE rv_no_down (id int);');
SELECT version FROM migrate.apply();
SELECT * FROM migrate.revert();
SELECT * FROM migrate.revert(target => '6');

-- a failing down script: nothing of the call stays, the failure is kept,
-- and the migration stays applied
SELECT migrate.repair('6', down => 'DROP TABLE rv_no_down; DROP TABLE rv_missing;');
SELECT * FROM migrate.revert(steps => 2);
SELECT to_regclass('rv_no_down') AS still_there;
SELECT version, state, last_error->>'message' AS message, last_error->>'statement' AS statement,
       last_error->>'script' AS script
FROM migrate.status_detail WHERE version = '6';
SELECT action, version, outcome FROM migrate.history WHERE outcome = 'failure';

-- revert everything in one call
SELECT migrate.repair('6', down => 'DROP TABLE rv_no_down;');
SELECT version, state FROM migrate.revert_all();
SELECT version, state FROM migrate.status;
SELECT count(*) AS tables_left FROM pg_class WHERE relname LIKE 'rv\_%';
SELECT * FROM migrate.revert_all();

-- the whole story is in the history
SELECT action, version, outcome FROM migrate.history WHERE action IN ('apply', 'revert') ORDER BY id;

DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- the first positional argument is a version, as for apply(target):
-- revert('003') reverts what was applied after 003, never three migrations
SELECT migrate.register(v, 'table ' || v, format('CREATE TABLE rv_%s (id int);', v),
                        format('DROP TABLE rv_%s;', v))
FROM unnest(ARRAY['001', '002', '003', '004', '005']) AS v;
SELECT version FROM migrate.apply();
SELECT version, state FROM migrate.revert('003');
SELECT version, state FROM migrate.status;
-- apply(target) is the mirror image, and the target may be named
SELECT version, state FROM migrate.apply('004');
SELECT version, state FROM migrate.revert(target => '003');
-- a count only by name: revert(3) matches no function, so it cannot
-- silently mean three steps
SELECT * FROM migrate.revert(3);
SELECT version, state FROM migrate.revert(steps => 2);
SELECT version, state FROM migrate.status;
SELECT version FROM migrate.revert_all();

DROP EXTENSION migrate;
CREATE EXTENSION migrate;
