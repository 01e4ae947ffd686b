-- What the pg_migrate client uses (issue 10): tags, chunks of a plan
-- (batch_target(), deploy(batch_size)), repeatable migrations.
\set VERBOSITY default
SET migrate.progress_level = 'debug1';  -- no per-migration NOTICEs

-- ---------------------------------------------------------------------------
-- tags
-- ---------------------------------------------------------------------------
SELECT migrate.register('001', 'one', 'CREATE TABLE cs_one (id int);', 'DROP TABLE cs_one;');
SELECT migrate.register('002', 'two', 'CREATE TABLE cs_two (id int);', 'DROP TABLE cs_two;');
SELECT migrate.register('003', 'three', 'CREATE TABLE cs_three (id int);', 'DROP TABLE cs_three;');
SELECT migrate.register('004', 'four', 'CREATE TABLE cs_four (id int);', 'DROP TABLE cs_four;');

-- nothing applied yet: no default version to tag (MG006)
SELECT migrate.tag('empty');
-- a version that is not registered (42704), or not applied (MG006)
SELECT migrate.tag('nope', '099');
SELECT migrate.tag('pending', '002');
-- names: not null, not blank, no control characters
SELECT migrate.tag(NULL);
SELECT migrate.tag('  ');
SELECT migrate.tag(E'a\nb', '001');

SELECT version FROM migrate.apply(target => '002');
-- without a version: the migration applied last; returns it as registered
SELECT migrate.tag('good', comment => 'release 1.4');
-- a version compares naturally and comes back as registered
SELECT migrate.tag('first', '1');
-- the same tag for the same version again changes nothing
SELECT migrate.tag('good', '002');
-- for another version it is an error (42710)
SELECT migrate.tag('good', '001');
SELECT tag, version, created_by, comment FROM migrate.tags;
SELECT migrate.tag_version('good');
SELECT migrate.tag_version('missing');

-- down --to-tag: revert(target => tag_version(...)) reverts exactly what
-- was applied after the tagged migration, latest first, including a
-- migration older than it that was applied later (out of order)
SELECT version FROM migrate.apply();
SELECT migrate.register('0025', 'late', 'CREATE TABLE cs_late (id int);', 'DROP TABLE cs_late;');
SELECT version FROM migrate.apply();
SELECT version, state FROM migrate.revert(target => migrate.tag_version('good'));
SELECT version, state FROM migrate.status ORDER BY version;

-- a tag whose migration was reverted since cannot be returned to
SELECT version FROM migrate.revert(steps => 1);
SELECT version FROM migrate.revert(target => migrate.tag_version('good'));
SELECT version FROM migrate.apply();

-- untag returns the version; an unknown tag is 42704
SELECT migrate.untag('first');
SELECT migrate.untag('first');
SELECT tag, version FROM migrate.tags;

-- history records both
SELECT action, version, name, outcome, detail
FROM migrate.history WHERE action IN ('tag', 'untag') ORDER BY id;

-- only migrate_admin may tag; migrate_reader reads the view
CREATE ROLE cs_reader;
GRANT migrate_reader TO cs_reader;
SET ROLE cs_reader;
SELECT tag, version FROM migrate.tags;
SELECT migrate.tag('reader');
SELECT migrate.untag('good');
SELECT migrate.tag_version('good');
SELECT migrate.batch_target(NULL, 1);
RESET ROLE;
DROP ROLE cs_reader;

SELECT version FROM migrate.revert_all();

-- ---------------------------------------------------------------------------
-- batch_target(): chunks of apply(target)'s plan, dependencies included
-- ---------------------------------------------------------------------------
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- b2 waits for b5, b3 for b4 and b1; b6 for nothing
SELECT migrate.register('b1', 'b1', 'SELECT 1;');
SELECT migrate.register('b2', 'b2', '-- @dependencies: b5
SELECT 2;');
SELECT migrate.register('b3', 'b3', '-- @dependencies: b4, b1
SELECT 3;');
SELECT migrate.register('b4', 'b4', 'SELECT 4;');
SELECT migrate.register('b5', 'b5', 'SELECT 5;');
SELECT migrate.register('b6', 'b6', 'SELECT 6;');
SELECT ordinal, version, reason FROM migrate.plan();

-- the n-th migration of the plan ends the first chunk of n
SELECT n, migrate.batch_target(NULL, n) FROM generate_series(1, 7) n;
-- with a target, chunks of the target's plan
SELECT ordinal, version FROM migrate.plan('b3');
SELECT n, migrate.batch_target('b3', n) FROM generate_series(1, 4) n;
-- apply(batch_target(t, n)) applies exactly the first n of the plan, and
-- the plan of the rest is the rest of the plan
SELECT version FROM migrate.apply(migrate.batch_target(NULL, 3));
SELECT ordinal, version FROM migrate.plan();
SELECT version FROM migrate.apply(migrate.batch_target(NULL, 2));
SELECT version FROM migrate.apply(migrate.batch_target(NULL, 2));
-- nothing pending: NULL
SELECT migrate.batch_target(NULL, 2) IS NULL AS nothing_pending;
SELECT migrate.batch_target('b1', 2) IS NULL AS target_applied;
-- bad arguments
SELECT migrate.batch_target(NULL, 0);
SELECT migrate.batch_target(NULL, NULL);
SELECT migrate.batch_target('zz', 1);

-- deploy(batch_size): commits after each chunk
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
SELECT migrate.register('d' || g, 'd' || g, format('CREATE TABLE cs_d%s (id int);', g),
                        format('DROP TABLE cs_d%s;', g))
FROM generate_series(1, 5) g;
SET migrate.progress_level = 'notice';
CALL migrate.deploy(batch_size => 2);
SELECT count(DISTINCT xmin::text) AS transactions FROM migrate.migration;
CALL migrate.deploy(batch_size => 2);
CALL migrate.deploy(batch_size => 0);
-- inside a transaction block it cannot commit
BEGIN;
CALL migrate.deploy(batch_size => 2);
ROLLBACK;
-- a migration whose skip-mode precondition does not hold stays pending:
-- it is checked again with every chunk, but not counted, so the
-- procedure ends
SELECT migrate.register('d6', 'skipped', 'SELECT 1;',
                        precondition => 'SELECT false;', precondition_mode => 'skip');
SELECT migrate.register('d7', 'd7', 'CREATE TABLE cs_d7 (id int);', 'DROP TABLE cs_d7;');
SELECT migrate.register('d8', 'd8', 'CREATE TABLE cs_d8 (id int);', 'DROP TABLE cs_d8;');
CALL migrate.deploy(batch_size => 1);
SELECT version, state FROM migrate.status WHERE version IN ('d6', 'd7', 'd8');
-- without batch_size, 1.0's deploy()
SELECT migrate.register('d9', 'd9', 'SELECT 9;', 'SELECT 0;');
CALL migrate.deploy();
SET migrate.progress_level = 'debug1';
SELECT version FROM migrate.revert_all();

-- ---------------------------------------------------------------------------
-- repeatable migrations
-- ---------------------------------------------------------------------------
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
CREATE TABLE cs_items (id int);
SELECT migrate.header('-- @repeatable: true
CREATE VIEW v AS SELECT 1;') ->> 'repeatable' AS repeatable;
SELECT migrate.header('-- @repeatable: maybe
SELECT 1;');

SELECT migrate.register('R__items_view', 'items view', '-- @repeatable: true
CREATE OR REPLACE VIEW cs_items_view AS SELECT id FROM cs_items;');
SELECT migrate.register('010', 'plain', 'INSERT INTO cs_items VALUES (1);');
SELECT version FROM migrate.apply();
SELECT repeatable, state FROM migrate.migration ORDER BY version;

-- unchanged content: unchanged
SELECT migrate.register('R__items_view', 'items view', '-- @repeatable: true
CREATE OR REPLACE VIEW cs_items_view AS SELECT id FROM cs_items;');
-- changed content of the applied repeatable migration: pending again
SELECT migrate.register('R__items_view', 'items view', '-- @repeatable: true
CREATE OR REPLACE VIEW cs_items_view AS SELECT id, id * 2 AS twice FROM cs_items;');
SELECT version, state, changed FROM migrate.status WHERE version = 'R__items_view';
SELECT applied_checksum IS NOT NULL AS applied_checksum_kept, apply_seq
FROM migrate.migration WHERE version = 'R__items_view';
SELECT version, reason FROM migrate.plan();
-- verify_integrity() sees no checksum mismatch in it
SELECT count(*) AS mismatches FROM migrate.verify_integrity() WHERE check_name = 'checksum mismatch';
SELECT action, version, detail ->> 'requeued' AS requeued, detail ->> 'reason' AS reason
FROM migrate.history WHERE version = 'R__items_view' ORDER BY id;
-- the next apply runs it again
SELECT version, state FROM migrate.apply();
SELECT * FROM cs_items_view;
SELECT version, state, changed FROM migrate.status WHERE version = 'R__items_view';
-- a plain migration stays protected (XX001)
SELECT migrate.register('010', 'plain', 'INSERT INTO cs_items VALUES (2);');
-- and so does a repeatable one whose new content is not repeatable
SELECT migrate.register('R__items_view', 'items view',
                        'CREATE OR REPLACE VIEW cs_items_view AS SELECT id FROM cs_items;');
-- a down script is allowed: it undoes the current content
SELECT migrate.register('R__items_view', 'items view', '-- @repeatable: true
CREATE OR REPLACE VIEW cs_items_view AS SELECT id, id * 3 AS twice FROM cs_items;',
                        'DROP VIEW cs_items_view;');
SELECT version FROM migrate.apply();
SELECT version FROM migrate.revert(steps => 1);
SELECT to_regclass('cs_items_view') IS NULL AS view_dropped;
SELECT version FROM migrate.apply();
SELECT * FROM cs_items_view;

DROP VIEW cs_items_view;
DROP TABLE cs_items;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
