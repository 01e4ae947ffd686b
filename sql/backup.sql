-- Backups before destructive statements (issue 11, item 4): where the
-- environment's strategy is 'copy', the data a statement of a migration
-- destroys is copied into schema migrate_backup first; restore_backup()
-- puts it back, purge_backups() drops old copies.
\set VERBOSITY terse

-- a fresh catalog, so that backup ids start at 1 whatever ran before
SELECT migrate.purge_backups(older_than => '0') >= 0 AS purged_earlier_backups;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- staging backs up (strategy copy) without approval gates
SET migrate.environment = 'staging';
SELECT environment, backup, backup_retention FROM migrate.effective_settings;

-- a deploy role that owns the tables; a reader
CREATE ROLE bk_deployer;
GRANT migrate_admin TO bk_deployer;
GRANT CREATE ON SCHEMA public TO bk_deployer;
SELECT current_database() AS db \gset
GRANT CREATE ON DATABASE :"db" TO bk_deployer;
CREATE ROLE bk_reader;
GRANT migrate_reader TO bk_reader;
SET ROLE bk_deployer;

-- 1. A migration that drops a column; its down script adds the column
-- again and restores its values: reverting brings back the data, row by
-- row, exactly as before the migration.
CREATE TABLE bk_customer (id int PRIMARY KEY, name text, email text, score numeric(6,2));
INSERT INTO bk_customer
SELECT g, 'name ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'c' || g || '@example.com' END, g * 1.25
FROM generate_series(1, 1000) g;
CREATE TABLE bk_customer_before AS SELECT * FROM bk_customer;

SELECT migrate.register('bk1', 'drop email',
    'ALTER TABLE bk_customer DROP COLUMN email;',
    E'ALTER TABLE bk_customer ADD COLUMN email text;\n'
    'SELECT migrate.restore_backup(id) FROM migrate.backups'
    ' WHERE migration = ''bk1'' AND direction = ''up'' AND NOT skipped AND restored_at IS NULL'
    ' ORDER BY statement DESC, id;');
SELECT version, action FROM migrate.apply();
SELECT migration, direction, statement, kind, object, columns, key_columns, rows, skipped,
       backup_table IS NOT NULL AS has_table, created_by, restored_at IS NULL AS not_restored
FROM migrate.backups;

-- the copy is the extension owner's alone: not the deployer's, not PUBLIC's
SELECT backup_table AS bk1_table FROM migrate.backups WHERE migration = 'bk1' \gset
SELECT count(*) FROM :bk1_table;
RESET ROLE;
SELECT t.tableowner::regrole = x.extowner::regrole AS owned_by_extension_owner,
       has_table_privilege('bk_deployer', :'bk1_table', 'SELECT') AS deployer_reads,
       has_table_privilege('migrate_admin', :'bk1_table', 'SELECT') AS admin_reads,
       has_table_privilege('bk_reader', :'bk1_table', 'SELECT') AS reader_reads,
       has_schema_privilege('bk_deployer', 'migrate_backup', 'CREATE') AS deployer_creates
FROM pg_tables t, pg_extension x
WHERE x.extname = 'migrate' AND format('%I.%I', t.schemaname, t.tablename) = :'bk1_table';
-- the copy has the key and the dropped column, nothing else
SELECT count(*) AS rows, count(email) AS emails FROM :bk1_table;
SELECT attname FROM pg_attribute WHERE attrelid = :'bk1_table'::regclass AND attnum > 0 ORDER BY attnum;
SET ROLE bk_deployer;

SELECT version, action FROM migrate.revert();
-- row by row, the same data as before the migration
SELECT count(*) AS differences FROM (
    (SELECT id, name, email, score FROM bk_customer EXCEPT SELECT * FROM bk_customer_before)
    UNION ALL
    (SELECT * FROM bk_customer_before EXCEPT SELECT id, name, email, score FROM bk_customer)) d;
SELECT count(*) AS rows, count(email) AS emails FROM bk_customer;
SELECT migration, restored_at IS NOT NULL AS restored, restored_by FROM migrate.backups;
SELECT action, version, outcome, role, detail FROM migrate.history WHERE action = 'restore';
-- a backup is restored once
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 'bk1';
SELECT migrate.restore_backup(-1);
-- applied again: a new backup, the restored one stays as it was
SELECT version, action FROM migrate.apply();
SELECT migration, direction, restored_at IS NOT NULL AS restored FROM migrate.backups ORDER BY id;

-- 2. What counts as destructive, from the parse tree: TRUNCATE ... CASCADE
-- (and the tables it reaches), UPDATE and DELETE without WHERE (also in a
-- WITH clause), ALTER COLUMN ... TYPE, DROP COLUMN of a table without a
-- key (whole rows), DROP TABLE, DROP SCHEMA ... CASCADE (every table in
-- it).  Not: a filtered UPDATE, DROP TABLE IF EXISTS of a missing table,
-- EXPLAIN without ANALYZE.
CREATE TABLE bk_order (id int PRIMARY KEY, total numeric);
INSERT INTO bk_order SELECT g, g * 10.5 FROM generate_series(1, 20) g;
CREATE TABLE bk_order_line (order_id int REFERENCES bk_order, line int, sku text,
                            PRIMARY KEY (order_id, line));
INSERT INTO bk_order_line SELECT o, l, 'sku' || l FROM generate_series(1, 20) o, generate_series(1, 3) l;
CREATE TABLE bk_price (sku text PRIMARY KEY, price numeric, currency text);
INSERT INTO bk_price SELECT 'sku' || g, g * 0.99, 'USD' FROM generate_series(1, 30) g;
CREATE TABLE bk_amount (id int PRIMARY KEY, amount numeric(10,3));
INSERT INTO bk_amount SELECT g, g / 8.0 FROM generate_series(1, 40) g;
CREATE TABLE bk_log (at int, msg text);
INSERT INTO bk_log SELECT g, 'message ' || g FROM generate_series(1, 5) g;
CREATE TABLE bk_event (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text);
INSERT INTO bk_event (kind) SELECT 'kind ' || g FROM generate_series(1, 12) g;
CREATE TABLE bk_scratch (id int, note text);
INSERT INTO bk_scratch VALUES (1, 'one'), (2, NULL);
CREATE SCHEMA bk_archive;
CREATE TABLE bk_archive.a (id int PRIMARY KEY);
CREATE TABLE bk_archive.b (id int, v text);
INSERT INTO bk_archive.a SELECT generate_series(1, 7);
INSERT INTO bk_archive.b VALUES (1, 'x'), (1, 'x'), (2, NULL);
CREATE TABLE bk_snapshot AS
SELECT 'order' AS t, to_jsonb(x) AS r FROM bk_order x
UNION ALL SELECT 'order_line', to_jsonb(x) FROM bk_order_line x
UNION ALL SELECT 'price', to_jsonb(x) FROM bk_price x
UNION ALL SELECT 'amount', to_jsonb(x) FROM bk_amount x
UNION ALL SELECT 'event', to_jsonb(x) FROM bk_event x
UNION ALL SELECT 'scratch', to_jsonb(x) FROM bk_scratch x
UNION ALL SELECT 'archive.a', to_jsonb(x) FROM bk_archive.a x
UNION ALL SELECT 'archive.b', to_jsonb(x) FROM bk_archive.b x;

SELECT migrate.register('bk2', 'destructive statements', $up$
-- production blocks ban-truncate-cascade (issue 12): this script means it
-- @lint-ignore: ban-truncate-cascade
TRUNCATE bk_order CASCADE;
UPDATE bk_price SET price = 0;
UPDATE bk_price SET currency = 'EUR' WHERE sku = 'sku1';
ALTER TABLE bk_amount ALTER COLUMN amount TYPE int;
ALTER TABLE bk_log DROP COLUMN msg;
WITH gone AS (DELETE FROM bk_event RETURNING id) SELECT count(*) FROM gone;
DROP TABLE IF EXISTS bk_never_there;
DROP TABLE bk_scratch;
DROP SCHEMA bk_archive CASCADE;
EXPLAIN DELETE FROM bk_price;
$up$, $down$
CREATE SCHEMA bk_archive;
CREATE TABLE bk_archive.a (id int PRIMARY KEY);
CREATE TABLE bk_archive.b (id int, v text);
CREATE TABLE bk_scratch (id int, note text);
ALTER TABLE bk_log ADD COLUMN msg text;
ALTER TABLE bk_amount ALTER COLUMN amount TYPE numeric(10,3);
UPDATE bk_price SET currency = 'USD' WHERE sku = 'sku1';
-- restore what the up script destroyed (this down script's own ALTER TYPE
-- is backed up too), in reverse statement order, within one statement in
-- id order (TRUNCATE ... CASCADE: the referenced table first)
SELECT migrate.restore_backup(id) FROM migrate.backups
 WHERE migration = 'bk2' AND direction = 'up' AND NOT skipped AND restored_at IS NULL
   AND (columns IS NULL OR key_columns IS NOT NULL)
 ORDER BY statement DESC, id;
$down$);
SELECT version, action FROM migrate.apply();
SELECT statement, kind, object, columns, key_columns, rows
FROM migrate.backups WHERE migration = 'bk2' ORDER BY id;

SELECT version, action FROM migrate.revert();
-- every table is back as it was, row by row
SELECT s.t, count(*) AS differences
FROM ((SELECT * FROM bk_snapshot
       EXCEPT ALL (SELECT 'order', to_jsonb(x) FROM bk_order x
               UNION ALL SELECT 'order_line', to_jsonb(x) FROM bk_order_line x
               UNION ALL SELECT 'price', to_jsonb(x) FROM bk_price x
               UNION ALL SELECT 'amount', to_jsonb(x) FROM bk_amount x
               UNION ALL SELECT 'event', to_jsonb(x) FROM bk_event x
               UNION ALL SELECT 'scratch', to_jsonb(x) FROM bk_scratch x
               UNION ALL SELECT 'archive.a', to_jsonb(x) FROM bk_archive.a x
               UNION ALL SELECT 'archive.b', to_jsonb(x) FROM bk_archive.b x))
      UNION ALL
      ((SELECT 'order', to_jsonb(x) FROM bk_order x
        UNION ALL SELECT 'order_line', to_jsonb(x) FROM bk_order_line x
        UNION ALL SELECT 'price', to_jsonb(x) FROM bk_price x
        UNION ALL SELECT 'amount', to_jsonb(x) FROM bk_amount x
        UNION ALL SELECT 'event', to_jsonb(x) FROM bk_event x
        UNION ALL SELECT 'scratch', to_jsonb(x) FROM bk_scratch x
        UNION ALL SELECT 'archive.a', to_jsonb(x) FROM bk_archive.a x
        UNION ALL SELECT 'archive.b', to_jsonb(x) FROM bk_archive.b x)
       EXCEPT ALL SELECT * FROM bk_snapshot)) s (t, r)
GROUP BY s.t ORDER BY s.t;
SELECT (SELECT count(*) FROM bk_snapshot) AS snapshot_rows,
       (SELECT count(*) FROM bk_order) + (SELECT count(*) FROM bk_order_line)
       + (SELECT count(*) FROM bk_price) + (SELECT count(*) FROM bk_amount)
       + (SELECT count(*) FROM bk_event) + (SELECT count(*) FROM bk_scratch)
       + (SELECT count(*) FROM bk_archive.a) + (SELECT count(*) FROM bk_archive.b) AS rows_now;
-- a table without a key: its copy holds whole rows, which restore_backup()
-- cannot match back; the copy keeps them for a restore by hand
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 'bk2' AND kind = 'DROP COLUMN';
SELECT count(msg) AS messages FROM bk_log;
SELECT version, action FROM migrate.apply();

-- the same in the apply worker, which runs a non-transactional migration
-- one statement per transaction: the copy is made in the statement's own
CREATE TABLE bk_price_before AS SELECT * FROM bk_price;
SELECT migrate.register('bk2w', 'drop currency in the apply worker',
    E'CREATE INDEX CONCURRENTLY bk_price_price ON bk_price (price);\n'
    'ALTER TABLE bk_price DROP COLUMN currency;',
    E'ALTER TABLE bk_price ADD COLUMN currency text;\n'
    'SELECT migrate.restore_backup(id) FROM migrate.backups'
    ' WHERE migration = ''bk2w'' AND direction = ''up'' AND NOT skipped AND restored_at IS NULL'
    ' ORDER BY statement DESC, id;\n'
    'DROP INDEX bk_price_price;');
SELECT version, action FROM migrate.apply();
SELECT statement, kind, object, columns, key_columns, rows
FROM migrate.backups WHERE migration = 'bk2w' ORDER BY id;
SELECT version, action FROM migrate.revert();
SELECT count(*) AS differences FROM (
    (SELECT sku, price, currency FROM bk_price EXCEPT SELECT * FROM bk_price_before)
    UNION ALL
    (SELECT * FROM bk_price_before EXCEPT SELECT sku, price, currency FROM bk_price)) d;
SELECT version, action FROM migrate.apply();

-- 3. The size guard: a copy larger than migrate.backup_max_bytes is refused
-- before anything is copied, and the statement does not run
CREATE TABLE bk_big WITH (autovacuum_enabled = off) AS
SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 2000) g;
SELECT migrate.register('bk3', 'drop big', 'DROP TABLE bk_big;', 'CREATE TABLE bk_big (id int, pad text);');
SET migrate.backup_max_bytes = '64kB';
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT version, action FROM migrate.apply();
\set VERBOSITY terse
SELECT to_regclass('bk_big') IS NOT NULL AS still_there;
SELECT count(*) AS backups_of_bk3 FROM migrate.backups WHERE migration = 'bk3';
-- a dry run meets the guard too
SELECT version, action, note LIKE '%dry run failed: backup before DROP TABLE of table "bk_big"%' AS refused
FROM migrate.apply(dry_run => true);

-- skip_backup => true runs it without a copy, and says so in migrate.backups
SELECT version, action FROM migrate.apply(skip_backup => true);
SELECT migration, kind, object, skipped, backup_table, rows, bytes > 0 AS sized
FROM migrate.backups WHERE migration = 'bk3';
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 'bk3';
RESET migrate.backup_max_bytes;

-- 4. Who may see, restore and purge: migrate_admin lists and restores,
-- migrate_reader neither; purging is the extension owner's (or a role it
-- grants EXECUTE to)
SET ROLE bk_reader;
SELECT count(*) FROM migrate.backups;
SELECT migrate.restore_backup(1);
SET ROLE bk_deployer;
SELECT migrate.purge_backups('0');
RESET ROLE;

-- the copy reads with the rights of the role running the migration: a
-- table it may empty but not read cannot be backed up, and is not locked
CREATE TABLE bk_secret (id int PRIMARY KEY, secret text);
INSERT INTO bk_secret VALUES (1, 'hush');
GRANT TRUNCATE ON bk_secret TO bk_deployer;
SET ROLE bk_deployer;
SELECT migrate.register('bk4', 'empty the secrets', 'TRUNCATE bk_secret;');
SELECT version, action FROM migrate.apply();
SELECT count(*) AS backups_of_bk4 FROM migrate.backups WHERE migration = 'bk4';
SELECT version, action FROM migrate.apply(skip_backup => true);
SELECT migration, kind, object, skipped FROM migrate.backups WHERE migration = 'bk4';
RESET ROLE;
SELECT count(*) AS secrets_left FROM bk_secret;
DROP TABLE bk_secret;

-- backups keep the extension: DROP EXTENSION refuses while copies exist
DROP EXTENSION migrate;

-- 5. Purge: by default the environment's retention (staging keeps 3 days:
-- nothing is that old), or older_than
SELECT migrate.purge_backups();
SELECT count(*) AS unpurged FROM migrate.backups WHERE backup_table IS NOT NULL AND purged_at IS NULL \gset
SELECT migrate.purge_backups(older_than => '0') AS purged,
       :unpurged + (SELECT count(*) FROM migrate.backups WHERE backup_table IS NULL) AS expected;
SELECT count(*) AS backup_tables FROM pg_tables WHERE schemaname = 'migrate_backup';
SELECT count(*) FILTER (WHERE purged_at IS NULL) AS unpurged, count(*) AS backups FROM migrate.backups;
SELECT action, outcome, role, jsonb_array_length(detail -> 'backups') AS backups, detail ->> 'older_than' AS older_than
FROM migrate.history WHERE action = 'purge';
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 'bk1';
SELECT migrate.purge_backups('-1 day');

-- the extension can go now; a fresh one for whatever follows
RESET migrate.environment;
DROP OWNED BY bk_deployer, bk_reader;
REVOKE CREATE ON DATABASE :"db" FROM bk_deployer;
DROP ROLE bk_deployer, bk_reader;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
