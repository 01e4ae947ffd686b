-- Adoption: migrate.baseline(), migrate.import_history() for six tools,
-- and registration marking applied what a baseline or an import covers.
\set VERBOSITY terse

-- a fresh catalog, whatever ran before
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS migrate CASCADE;
RESET client_min_messages;
CREATE EXTENSION migrate;
SET migrate.progress_level = 'debug1';  -- no per-migration NOTICEs

-- -------------------------------------------------------------------------
-- baseline: an existing database, built before migrate
-- -------------------------------------------------------------------------
CREATE TABLE adopt_users (id int PRIMARY KEY);
CREATE TABLE adopt_orders (id int PRIMARY KEY, user_id int REFERENCES adopt_users);

SELECT migrate.register('a001', 'create_users', 'CREATE TABLE adopt_users (id int PRIMARY KEY);',
                        'DROP TABLE adopt_users;');
SELECT migrate.register('a002', 'create_orders',
                        'CREATE TABLE adopt_orders (id int PRIMARY KEY, user_id int REFERENCES adopt_users);',
                        'DROP TABLE adopt_orders;');
SELECT migrate.register('a004', 'add_email', 'ALTER TABLE adopt_users ADD COLUMN email text;',
                        'ALTER TABLE adopt_users DROP COLUMN email;');

-- a003 is not registered yet: the baseline covers it all the same
SELECT migrate.baseline('a003', 'production as of the switch');
SELECT version, state, applied_by = current_user AS by_me, applied_checksum = checksum AS content
FROM migrate.migration WHERE version LIKE 'a%' ORDER BY version_key;
SELECT action, version, name, outcome, detail - 'fingerprint' AS detail,
       detail->>'fingerprint' = migrate.fingerprint() AS fingerprint_recorded
FROM migrate.event WHERE action = 'baseline' ORDER BY id;
SELECT version, description, fingerprint = migrate.fingerprint() AS fingerprint_now, created_by = current_user AS by_me
FROM migrate.baseline_record;

-- registered later, a003 is adopted at registration; a004 is above it
SELECT migrate.register('a003', 'add_index', 'CREATE INDEX adopt_orders_user ON adopt_orders (user_id);',
                        'DROP INDEX adopt_orders_user;');
SELECT version, state FROM migrate.migration WHERE version LIKE 'a%' ORDER BY version_key;
SELECT action, version, detail - 'fingerprint' AS detail FROM migrate.event
WHERE version = 'a003' ORDER BY id;
-- apply runs only what is above the baseline
SELECT version, action FROM migrate.apply();
-- once migrate has applied a migration above the baseline, the baseline no
-- longer adopts at registration: a new migration below it is out of order
-- and must run (before, it was marked applied without running)
SELECT migrate.register('a000', 'new_below', 'CREATE TABLE adopt_new_below (a int);',
                        'DROP TABLE adopt_new_below;');
SELECT version, state FROM migrate.migration WHERE version = 'a000';
SELECT version, action FROM migrate.apply(target => 'a000');
SELECT version, state FROM migrate.migration WHERE version = 'a000';

-- a baseline again changes nothing already applied; a bad version is refused
SELECT migrate.baseline('a004');
SELECT migrate.baseline('not a version');
SELECT migrate.baseline(NULL);

-- the baseline stays (it covers every version up to a003, "1" and
-- "20240101" too): the imports below start from a fresh catalog
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- -------------------------------------------------------------------------
-- Flyway.  The table as flyway-database-postgresql creates it:
-- org/flywaydb/database/postgresql/createMetaDataTable.sql (installed_rank
-- ... success, primary key installed_rank, index on success).  version is
-- NULL for repeatable (R__) migrations; success false for failed ones;
-- type BASELINE for "flyway baseline", SCHEMA for the schema it created.
-- -------------------------------------------------------------------------
CREATE SCHEMA fly;
CREATE TABLE fly.flyway_schema_history (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE fly.flyway_schema_history ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON fly.flyway_schema_history ("success");
INSERT INTO fly.flyway_schema_history VALUES
 (0, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', '"fly"', NULL, 'ann', '2024-01-01 10:00', 0, true),
 (1, '1', 'create accounts', 'SQL', 'V1__create_accounts.sql', 1234567, 'ann', '2024-01-01 10:00:01', 12, true),
 (2, '1.1', 'add balance', 'SQL', 'V1_1__add_balance.sql', -7654321, 'bob', '2024-02-01 09:30', 8, true),
 (3, '2', 'broken', 'SQL', 'V2__broken.sql', 42, 'bob', '2024-02-02 09:30', 3, false),
 (4, NULL, 'account view', 'SQL', 'R__account_view.sql', 99, 'bob', '2024-02-03 08:00', 5, true),
 (5, '1.2', 'later undone', 'SQL', 'V1_2__later_undone.sql', 5, 'bob', '2024-02-04 08:00', 5, true),
 (6, '1.2', 'later undone', 'UNDO_SQL', 'U1_2__later_undone.sql', 6, 'bob', '2024-02-05 08:00', 5, true);

-- V1 is registered (the client registers the directory first), V1_1 not yet
SELECT migrate.register('1', 'create_accounts', 'CREATE TABLE fly_accounts (id int);');
SELECT migrate.register('R__account_view', 'account_view', '-- @repeatable: true
CREATE OR REPLACE VIEW fly_account_view AS SELECT 1 AS one;');

-- not in the search_path: named
SELECT * FROM migrate.import_history('flyway');
SELECT * FROM migrate.import_history('flyway', 'fly.flyway_schema_history');
SELECT tool, version, version_key IS NOT NULL AS is_version, matches, description, applied_at, applied_by,
       checksum, detail, imported_by = current_user AS by_me
FROM migrate.imported_history ORDER BY tool, version;
SELECT version, state, applied_at FROM migrate.migration WHERE version IN ('1', '1.1', 'R__account_view')
ORDER BY version_key;
SELECT action, version, name, detail FROM migrate.event WHERE action = 'import' ORDER BY id;
-- waiting for its file
SELECT * FROM migrate.imported_unregistered;
-- registering V1_1 adopts it, with the tool's timestamp
SELECT migrate.register('1.1', 'add_balance', 'ALTER TABLE fly_accounts ADD COLUMN balance int;');
SELECT version, state, applied_at FROM migrate.migration WHERE version = '1.1';
SELECT action, version, detail FROM migrate.event WHERE version = '1.1' ORDER BY id;
SELECT * FROM migrate.imported_unregistered;
-- importing again: everything is already applied
SELECT version, status, adopted FROM migrate.import_history('flyway', 'fly.flyway_schema_history');
-- a repeatable migration made pending by new content is not adopted again,
-- at registration or by another import
SELECT migrate.register('R__account_view', 'account_view', '-- @repeatable: true
CREATE OR REPLACE VIEW fly_account_view AS SELECT 2 AS two;');
SELECT version, state FROM migrate.migration WHERE version = 'R__account_view';
SELECT version, status, adopted FROM migrate.import_history('flyway', 'fly.flyway_schema_history')
WHERE version = 'R__account_view';
SELECT version, state FROM migrate.migration WHERE version = 'R__account_view';

-- a Flyway baseline row covers every version up to it
TRUNCATE fly.flyway_schema_history;
INSERT INTO fly.flyway_schema_history VALUES
 (1, '5', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'ann', '2024-03-01 10:00', 0, true);
SELECT migrate.register('3', 'three', 'SELECT 3;');
SELECT migrate.register('6', 'six', 'SELECT 6;');
SELECT version, status, adopted FROM migrate.import_history('flyway', 'fly.flyway_schema_history');
SELECT version, state FROM migrate.migration WHERE version IN ('3', '6') ORDER BY version_key;
-- an "up to version" row stands for every version up to it: it waits for
-- no file of its own once the registry reaches it (6 is registered)
SELECT tool, version FROM migrate.imported_unregistered WHERE tool = 'flyway';
SELECT migrate.register('4', 'four', 'SELECT 4;');
SELECT version, state FROM migrate.migration WHERE version = '4';

-- each tool from a fresh catalog
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- -------------------------------------------------------------------------
-- Liquibase.  DATABASECHANGELOG as liquibase-standard creates it
-- (liquibase/sqlgenerator/core/CreateDatabaseChangeLogTableGenerator.java;
-- unquoted, so lower case in PostgreSQL): ID, AUTHOR, FILENAME,
-- DATEEXECUTED, ORDEREXECUTED, EXECTYPE (EXECUTED, FAILED, SKIPPED, RERAN,
-- MARK_RAN), MD5SUM, DESCRIPTION, COMMENTS, TAG, LIQUIBASE, CONTEXTS,
-- LABELS, DEPLOYMENT_ID.  No primary key.
-- -------------------------------------------------------------------------
CREATE TABLE DATABASECHANGELOG (
    ID VARCHAR(255) NOT NULL,
    AUTHOR VARCHAR(255) NOT NULL,
    FILENAME VARCHAR(255) NOT NULL,
    DATEEXECUTED TIMESTAMP NOT NULL,
    ORDEREXECUTED INT NOT NULL,
    EXECTYPE VARCHAR(10) NOT NULL,
    MD5SUM VARCHAR(35),
    DESCRIPTION VARCHAR(255),
    COMMENTS VARCHAR(255),
    TAG VARCHAR(255),
    LIQUIBASE VARCHAR(20),
    CONTEXTS VARCHAR(255),
    LABELS VARCHAR(255),
    DEPLOYMENT_ID VARCHAR(10)
);
INSERT INTO databasechangelog VALUES
 ('lb1', 'ann', 'db/changelog.xml', '2024-04-01 10:00', 1, 'EXECUTED', '9:abc', 'createTable tableName=lb_users', '', NULL, '4.25.0', NULL, NULL, '1234567890'),
 ('lb2', 'ann', 'db/changelog.xml', '2024-04-01 10:00', 2, 'MARK_RAN', '9:def', 'sql', '', NULL, '4.25.0', NULL, NULL, '1234567890'),
 ('lb3', 'bob', 'db/changelog.xml', '2024-04-02 10:00', 3, 'FAILED', '9:fed', 'sql', '', NULL, '4.25.0', NULL, NULL, '1234567891');
SELECT migrate.register('lb1', 'lb_users', 'CREATE TABLE lb_users (id int);');
SELECT * FROM migrate.import_history('liquibase');
SELECT version, checksum, detail FROM migrate.imported_history WHERE tool = 'liquibase' ORDER BY version;

-- each tool from a fresh catalog
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- -------------------------------------------------------------------------
-- golang-migrate.  database/postgres/postgres.go, ensureVersionTable():
-- CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null
-- primary key, dirty boolean not null): one row, the current version.
-- -------------------------------------------------------------------------
CREATE SCHEMA gm;
CREATE TABLE gm.schema_migrations (version bigint not null primary key, dirty boolean not null);
INSERT INTO gm.schema_migrations VALUES (20240105, true);
SELECT migrate.register('20240101', 'gm_one', 'SELECT 1;');
SELECT migrate.register('20240105', 'gm_five', 'SELECT 5;');
SELECT migrate.register('20240109', 'gm_nine', 'SELECT 9;');
-- dirty: refused, nothing recorded
SELECT * FROM migrate.import_history('golang-migrate', 'gm.schema_migrations');
SELECT count(*) FROM migrate.imported_history WHERE tool = 'golang-migrate';
UPDATE gm.schema_migrations SET dirty = false;
SELECT * FROM migrate.import_history('golang-migrate', 'gm.schema_migrations');
SELECT version, state FROM migrate.migration WHERE version LIKE '2024010_' ORDER BY version_key;
-- dbmate's table is no golang-migrate table
SELECT * FROM migrate.import_history('dbmate', 'gm.schema_migrations');

-- each tool from a fresh catalog
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- -------------------------------------------------------------------------
-- dbmate.  pkg/driver/postgres/postgres.go, CreateMigrationsTable():
-- create table if not exists schema_migrations (version varchar(128)
-- primary key).  Versions only.
-- -------------------------------------------------------------------------
CREATE SCHEMA dbm;
CREATE TABLE dbm.schema_migrations (version varchar(128) primary key);
INSERT INTO dbm.schema_migrations VALUES ('20240201120000'), ('20240202120000');
SELECT migrate.register('20240201120000', 'dbm_first', 'SELECT 1;');
SELECT * FROM migrate.import_history('dbmate', 'dbm.schema_migrations');
-- golang-migrate's is no dbmate table either
SELECT * FROM migrate.import_history('golang-migrate', 'dbm.schema_migrations');

-- each tool from a fresh catalog
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- -------------------------------------------------------------------------
-- Sqitch.  The registry as lib/App/Sqitch/Engine/pg.sql creates it (schema
-- "sqitch"; projects, changes and tags, with the foreign keys; releases,
-- dependencies and events are left out: import_history() does not read
-- them).  sqitch.changes holds the changes deployed now.
-- -------------------------------------------------------------------------
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.projects (
    project         TEXT        PRIMARY KEY,
    uri             TEXT            NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    creator_name    TEXT        NOT NULL,
    creator_email   TEXT        NOT NULL
);
CREATE TABLE sqitch.changes (
    change_id       TEXT        PRIMARY KEY,
    script_hash     TEXT            NULL,
    change          TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES sqitch.projects(project) ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    UNIQUE(project, script_hash)
);
CREATE TABLE sqitch.tags (
    tag_id          TEXT        PRIMARY KEY,
    tag             TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES sqitch.projects(project) ON UPDATE CASCADE,
    change_id       TEXT        NOT NULL REFERENCES sqitch.changes(change_id) ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    UNIQUE(project, tag)
);
INSERT INTO sqitch.projects VALUES ('flipr', NULL, '2024-05-01', 'Ann', 'ann@example.com');
INSERT INTO sqitch.changes VALUES
 ('c1', 'h1', 'appschema', 'flipr', 'Add schema', '2024-05-01 10:00+00', 'Ann', 'ann@example.com', '2024-04-30', 'Ann', 'ann@example.com'),
 ('c2', 'h2', 'users', 'flipr', '', '2024-05-01 10:01+00', 'Ann', 'ann@example.com', '2024-04-30', 'Ann', 'ann@example.com');
INSERT INTO sqitch.tags VALUES
 ('t1', '@v1.0', 'flipr', 'c2', '', '2024-05-01 10:02+00', 'Ann', 'ann@example.com', '2024-04-30', 'Ann', 'ann@example.com');
-- the client numbers Sqitch's changes by their place in the plan
SELECT migrate.register('0001', 'appschema', 'SELECT 1;');
SELECT migrate.register('0002', 'users', 'SELECT 2;');
SELECT * FROM migrate.import_history('sqitch');
SELECT version, applied_by, detail FROM migrate.imported_history WHERE tool = 'sqitch' ORDER BY version;

-- each tool from a fresh catalog
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- -------------------------------------------------------------------------
-- Diesel.  diesel_migrations/src/setup_migration_table.sql: CREATE TABLE
-- IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) PRIMARY
-- KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP).
-- Diesel records a version without the dashes of its directory name.
-- -------------------------------------------------------------------------
CREATE TABLE __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO __diesel_schema_migrations VALUES
 ('00000000000000', '2024-06-01 10:00'), ('20240601100000', '2024-06-01 10:00:01');
SELECT migrate.register('2024-06-01-100000', 'create_posts', 'SELECT 1;');
SELECT * FROM migrate.import_history('diesel');
SELECT * FROM migrate.imported_unregistered WHERE tool = 'diesel';
SELECT migrate.register('00000000000000', 'diesel_initial_setup', 'SELECT 0;');
SELECT version, state FROM migrate.migration WHERE version IN ('00000000000000', '2024-06-01-100000')
ORDER BY version_key;

-- -------------------------------------------------------------------------
-- bad calls
-- -------------------------------------------------------------------------
SELECT * FROM migrate.import_history('rails');
SELECT * FROM migrate.import_history(NULL);
SELECT * FROM migrate.import_history('flyway', 'no_such_table');

-- history of adoption, in one place
SELECT action, count(*) FROM migrate.event WHERE action IN ('baseline', 'import') GROUP BY action ORDER BY action;

DROP SCHEMA fly, gm, dbm, sqitch CASCADE;
DROP TABLE databasechangelog, __diesel_schema_migrations, adopt_orders, adopt_users, adopt_new_below;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- -------------------------------------------------------------------------
-- NULLs where the tool's own DDL forbids them (a table created by hand,
-- an older tool version): never a crash, the row is skipped or refused
-- -------------------------------------------------------------------------
CREATE TABLE public.databasechangelog (id text, author text, filename text,
    dateexecuted timestamp, orderexecuted int, exectype text, md5sum text,
    description text, comments text);
INSERT INTO public.databasechangelog VALUES
 ('ln1', 'ann', 'c.xml', '2024-04-01 10:00', 1, NULL, NULL, NULL, NULL),
 (NULL, 'ann', 'c.xml', '2024-04-01 10:00', 2, 'EXECUTED', NULL, NULL, NULL);
SELECT * FROM migrate.import_history('liquibase');
DROP TABLE public.databasechangelog;
CREATE TABLE public.schema_migrations (version bigint, dirty boolean);
INSERT INTO public.schema_migrations VALUES (7, NULL);
SELECT * FROM migrate.import_history('golang-migrate');
DROP TABLE public.schema_migrations;
CREATE TABLE public.flyway_schema_history (installed_rank int, version text,
    description text, type text, script text, checksum int, installed_by text,
    installed_on timestamp, success boolean);
INSERT INTO public.flyway_schema_history VALUES
 (1, '1', 'a', NULL, NULL, NULL, NULL, NULL, NULL),
 (2, NULL, 'r', 'SQL', NULL, NULL, NULL, NULL, true);
SELECT * FROM migrate.import_history('flyway');
DROP TABLE public.flyway_schema_history;

-- -------------------------------------------------------------------------
-- Flyway undo: the last row of a version (by installed_rank) decides; a
-- version applied and then undone is not adopted, one undone and applied
-- again is
-- -------------------------------------------------------------------------
CREATE TABLE public.flyway_schema_history (installed_rank int, version text,
    description text, type text, script text, checksum int, installed_by text,
    installed_on timestamp, success boolean);
INSERT INTO public.flyway_schema_history VALUES
 (1, '7', 'seven', 'SQL', 'V7__seven.sql', 7, 'ann', '2024-05-01 10:00', true),
 (2, '8', 'eight', 'SQL', 'V8__eight.sql', 8, 'ann', '2024-05-01 10:01', true),
 (3, '7', 'seven', 'UNDO_SQL', 'U7__seven.sql', 70, 'ann', '2024-05-02 10:00', true),
 (4, '8', 'eight', 'UNDO_SQL', 'U8__eight.sql', 80, 'ann', '2024-05-02 10:01', true),
 (5, '8', 'eight', 'SQL', 'V8__eight.sql', 8, 'bob', '2024-05-03 10:00', true);
SELECT migrate.register('7', 'seven', 'SELECT 7;');
SELECT migrate.register('8', 'eight', 'SELECT 8;');
SELECT version, applied_by, status, adopted FROM migrate.import_history('flyway');
SELECT version, state FROM migrate.migration WHERE version IN ('7', '8') ORDER BY version_key;
SELECT version, applied_by FROM migrate.imported_history WHERE tool = 'flyway' ORDER BY version;
DROP TABLE public.flyway_schema_history;
