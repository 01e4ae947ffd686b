-- The safety net: fingerprint, plan, dry run, verify and preconditions,
-- integrity and health.
SET migrate.progress_level = 'debug1';
\set VERBOSITY terse

-- the fingerprint is stable, ignores OIDs and migrate's own objects
SELECT migrate.fingerprint() AS empty \gset
SELECT migrate.fingerprint() = :'empty' AS same_twice;
CREATE TABLE sf_t (id int PRIMARY KEY, note text DEFAULT 'x' NOT NULL);
SELECT migrate.fingerprint() <> :'empty' AS table_changes_it;
SELECT migrate.fingerprint() AS with_table \gset
DROP TABLE sf_t;
CREATE TABLE sf_t (id int PRIMARY KEY, note text DEFAULT 'x' NOT NULL);
SELECT migrate.fingerprint() = :'with_table' AS same_after_recreate;
ALTER TABLE sf_t ALTER COLUMN note SET DEFAULT 'y';
SELECT migrate.fingerprint() <> :'with_table' AS default_changes_it;
SELECT kind, identity, definition FROM migrate.schema_objects() ORDER BY kind, identity;
SELECT count(*) AS own_objects FROM migrate.schema_objects() WHERE identity LIKE 'migrate.%';
DROP TABLE sf_t;

-- plan(): what apply would do, without doing it
SELECT migrate.register('1', 'base', E'-- @risk-level: low\n-- @estimated-duration: 5 min\nCREATE TABLE sf_base (id int PRIMARY KEY);',
                        'DROP TABLE sf_base;',
                        verify => 'SELECT count(*) = 0 FROM sf_base;');
SELECT migrate.register('2', 'child', E'-- @dependencies: 1\n-- @zero-downtime: true\nCREATE TABLE sf_child (id int REFERENCES sf_base);',
                        'DROP TABLE sf_child;');
SELECT migrate.register('3', 'index', 'CREATE INDEX CONCURRENTLY sf_child_id ON sf_child (id);',
                        'DROP INDEX CONCURRENTLY sf_child_id;');
SELECT migrate.register('4', 'only_on_pg13', 'SELECT 1;',
                        precondition => 'SELECT current_setting(''server_version_num'')::int < 140000;',
                        precondition_mode => 'skip');
SELECT ordinal, version, reason, statements, risk_level, estimated_duration, zero_downtime,
       transactional, runs_in, checks, skip, skip_reason
FROM migrate.plan();
SELECT version FROM migrate.plan(target => '2');
SELECT count(*) AS nothing_applied FROM migrate.status WHERE state = 'applied';

-- dry run: run, measure, roll back; one history row says so
SELECT migrate.fingerprint() AS before_dry \gset
-- (the note starts with the short schema fingerprints before and after)
SELECT version, action, state, rows_affected,
       substring(note from '^schema ([0-9a-f]{8}) -> ') <> substring(note from '^schema [0-9a-f]{8} -> ([0-9a-f]{8})') AS changed,
       regexp_replace(note, '^schema [0-9a-f]{8} -> [0-9a-f]{8}(; )?', '') AS note
FROM migrate.apply(target => '2', dry_run => true);
SELECT migrate.fingerprint() = :'before_dry' AS unchanged, to_regclass('sf_base') AS no_table;
SELECT action, outcome, detail FROM migrate.history WHERE action = 'dry run';
SELECT version, state FROM migrate.status WHERE version IN ('1', '2');
-- a dry run stops before what only a worker can run
SELECT version, action, state,
       regexp_replace(note, '[0-9a-f]{8} -> [0-9a-f]{8}', 'xxxxxxxx -> yyyyyyyy') AS note
FROM migrate.apply(dry_run => true);

-- verify runs after up, inside the same all-or-nothing call
SELECT version, state FROM migrate.apply(target => '2');
INSERT INTO sf_base VALUES (1);
SELECT migrate.register('5', 'needs_empty_base', E'-- @dependencies: 2\nALTER TABLE sf_child ADD COLUMN extra int;',
                        'ALTER TABLE sf_child DROP COLUMN extra;',
                        verify => 'SELECT count(*) = 0 FROM sf_base;');
SELECT * FROM migrate.apply(target => '5');
SELECT version, state, last_error->>'sqlstate' AS sqlstate FROM migrate.status_detail WHERE version = '5';
SELECT count(*) AS extra_rolled_back FROM pg_attribute WHERE attrelid = 'sf_child'::regclass AND attname = 'extra';
DELETE FROM sf_base;

-- preconditions: fail, skip (recorded) or warn
SELECT migrate.register('6', 'fails_unless', E'-- @dependencies: 2\nSELECT 6;',
                        precondition => 'SELECT false;');
SELECT * FROM migrate.apply(target => '6');
SELECT migrate.register('6', 'fails_unless', E'-- @dependencies: 2\nSELECT 6;',
                        precondition => 'SELECT false;', precondition_mode => 'warn');
SELECT version, state FROM migrate.apply(target => '6');
SELECT version, state, note FROM migrate.apply(target => '4');
SELECT version, state FROM migrate.status WHERE version = '4';
SELECT action, version, outcome, detail->>'reason' AS reason FROM migrate.history
WHERE outcome = 'skipped';
SELECT migrate.register('7', 'bad_mode', 'SELECT 7;', precondition => 'SELECT true;',
                        precondition_mode => 'maybe');
SELECT migrate.register('7', 'bad_check', 'SELECT 7;', verify => 'SELEC 1;');

-- verify_integrity(): nothing to report, then each kind of finding
SELECT * FROM migrate.verify_integrity();
INSERT INTO sf_base VALUES (10);
CREATE TABLE sf_orders (id int, base_id int);
INSERT INTO sf_orders VALUES (1, 10), (2, 99), (3, NULL);
ALTER TABLE sf_orders ADD CONSTRAINT sf_orders_base FOREIGN KEY (base_id) REFERENCES sf_base NOT VALID;
ALTER TABLE sf_orders ADD CONSTRAINT sf_orders_id CHECK (id > 0) NOT VALID;
UPDATE migrate.migration SET up_script = up_script || ' ', checksum = migrate.checksum(up_script || ' ')
WHERE version = '1';
SELECT severity, check_name, object, detail, hint FROM migrate.verify_integrity();

-- health(): one row, cheap to poll
SELECT pending, failed, dirty, last_apply_outcome, lock_held, lock_holder_pid IS NULL AS no_holder,
       scheduler IN ('running', 'starting', 'idle (no enabled schedule)', 'off (migrate is not in shared_preload_libraries)') AS scheduler_known
FROM migrate.health();

DROP TABLE sf_orders, sf_child, sf_base;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
