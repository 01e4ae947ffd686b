-- The messages of a run: one NOTICE per migration before it runs, saying
-- what the call is doing; one closing NOTICE; and on failure a CONTEXT line
-- saying what the failure left.  migrate.message_timing is off in this
-- database (setup.sql), so the closing NOTICE has no elapsed time.
\set VERBOSITY default
SHOW migrate.message_timing;

SELECT migrate.register('m1', 'customers', 'CREATE TABLE msg_customers (id int);',
                        'DROP TABLE msg_customers;');
SELECT migrate.register('m2', 'products', 'CREATE TABLE msg_products (id int);',
                        'DROP TABLE msg_products;');
SELECT migrate.register('m3', 'orders',
                        E'CREATE TABLE msg_orders (id int);\nINSERT INTO msg_missing VALUES (1);',
                        'DROP TABLE msg_orders;');

-- a dry run says "would apply"; one that fails says where, and the note
-- of the failed migration's row carries the error
SELECT version FROM migrate.apply(dry_run => true);

-- a failure in the third of three: the caller's transaction undoes all
-- three, and the CONTEXT line says so
SELECT version FROM migrate.apply();
SELECT version, state FROM migrate.migration ORDER BY version;
-- through deploy(): the line comes before those of deploy()'s own query
CALL migrate.deploy();

-- apply of several: one NOTICE each before it runs, then the summary
SELECT migrate.repair('m3', up => 'CREATE TABLE msg_orders (id int);');
SELECT version FROM migrate.apply(dry_run => true);
SELECT version FROM migrate.apply();

-- nothing to do
SELECT count(*) FROM migrate.apply();
CALL migrate.deploy();

-- revert: one (singular), several (plural), a dry run, nothing left
SELECT version FROM migrate.revert();
SELECT version FROM migrate.revert(steps => 2, dry_run => true);
SELECT version FROM migrate.revert_all();
SELECT count(*) FROM migrate.revert();

-- deploy() says what apply() says
CALL migrate.deploy(target => 'm1');

-- a migration skipped by its precondition is announced as skipped and
-- counted in the summary's DETAIL
SELECT migrate.register('m4', 'only_if_missing', 'SELECT 4;',
                        precondition => 'SELECT false;', precondition_mode => 'skip');
SELECT version FROM migrate.apply();
DELETE FROM migrate.migration WHERE version = 'm4';

-- the worker path commits each migration on its own: when a migration
-- that cannot run in a transaction block fails, what ran before it stays
-- applied, and the CONTEXT line says so, and that the failed one is dirty
SELECT migrate.register('m5', 'items',
                        'CREATE TABLE msg_items (id int); INSERT INTO msg_items VALUES (1), (1);',
                        'DROP TABLE msg_items;');
SELECT migrate.register('m6', 'unique_id',
                        'SELECT 6; CREATE UNIQUE INDEX CONCURRENTLY msg_items_id ON msg_items (id);',
                        'DROP INDEX CONCURRENTLY msg_items_id;');
SELECT migrate.register('m7', 'after', 'SELECT 7; SELECT 1 / 0;', 'SELECT 7;');
SELECT version FROM migrate.apply();
SELECT version, state, dirty_statement FROM migrate.migration ORDER BY version;

-- resumed at the statement it stopped at; a transactional migration that
-- fails after it is rolled back, and the one before stays applied
DELETE FROM msg_items WHERE ctid <> (SELECT min(ctid) FROM msg_items);
SELECT migrate.resolve('m6', 'retry');
SELECT version FROM migrate.apply();
SELECT version, state FROM migrate.migration ORDER BY version;

SELECT migrate.repair('m7', up => 'SELECT 7;');
SELECT version FROM migrate.apply();

-- a dry run stops before a migration that cannot run in a transaction
-- block (the DROP INDEX CONCURRENTLY of m6's down script), and says so
SELECT version FROM migrate.revert(steps => 3, dry_run => true);
SELECT version FROM migrate.revert();
SELECT version FROM migrate.revert(dry_run => true);
SELECT version FROM migrate.revert_all();

DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- a failed interactive run names what it rolled back: the first migration
-- that fails has nothing to name; a failed revert leaves applied the ones
-- it had reverted before (their revert is rolled back)
SELECT migrate.register('r1', 'first', 'CREATE TABLE msg_r1 (id int);', 'DROP TABLE msg_r1;');
SELECT migrate.register('r2', 'second', 'CREATE TABLE msg_r2 (id int);',
                        'SELECT 2; DROP TABLE msg_no_such;');
SELECT migrate.register('r3', 'third', 'CREATE TABLE msg_r3 (id int);', 'DROP TABLE msg_r3;');
SELECT migrate.register('r4', 'fourth', 'CREATE TABLE msg_r4 (id int);', 'DROP TABLE msg_r4;');
SELECT version FROM migrate.apply();
SELECT version FROM migrate.revert_all();
SELECT migrate.register('r5', 'broken', 'SELECT 5; SELECT 1 / 0;');
SELECT version FROM migrate.apply();
SELECT version, state FROM migrate.migration ORDER BY version;
DROP TABLE msg_r1, msg_r2, msg_r3, msg_r4;
DELETE FROM migrate.migration;

-- a dry run says "would skip"; when it stops before a migration that
-- cannot run in a transaction block, it still counts the skipped ones
SELECT migrate.register('s1', 'skipped', 'SELECT 1;',
                        precondition => 'SELECT false;', precondition_mode => 'skip');
SELECT migrate.register('s3', 'concurrently', 'CREATE INDEX CONCURRENTLY msg_s3 ON msg_customers (id);');
SELECT version, action FROM migrate.apply(dry_run => true);
SELECT migrate.register('s2', 'plain', 'SELECT 2;');
SELECT version, action FROM migrate.apply(dry_run => true);
-- and without such a migration, the DETAIL is the skipped count alone
DELETE FROM migrate.migration WHERE version = 's3';
SELECT version, action FROM migrate.apply(dry_run => true);

DROP EXTENSION migrate;
CREATE EXTENSION migrate;
