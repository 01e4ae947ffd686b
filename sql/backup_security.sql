-- Backups before destructive statements: what a hostile review found
-- (issue 11, wp11-4b).  Who may restore a backup; what else destroys data
-- (DROP TABLE ... CASCADE of inheritance children, MERGE, a DELETE in
-- CREATE TABLE AS); a statement that changes the key; row-level security
-- hiding rows from the copy; user code running during the copy.
\set SHOW_CONTEXT never

-- a fresh catalog, so that backup ids start at 1 whatever ran before
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS migrate CASCADE;
RESET client_min_messages;
CREATE EXTENSION migrate;
SET migrate.environment = 'staging';

CREATE ROLE bks_deployer;
CREATE ROLE bks_other;
CREATE ROLE bks_deputy;
GRANT migrate_admin TO bks_deployer, bks_other;
GRANT bks_deployer TO bks_deputy;
GRANT CREATE ON SCHEMA public TO bks_deployer, bks_other;

-- 1. A backup is restored only by a role with the privileges of the role
-- that made it (or the extension's owner, a superuser): another deploy
-- role that re-creates the table as its own cannot pour the data into it.
SET ROLE bks_deployer;
CREATE TABLE bks_payroll (id int PRIMARY KEY, salary int);
INSERT INTO bks_payroll VALUES (1, 100000), (2, 250000);
SELECT migrate.register('s1', 'drop payroll', 'DROP TABLE bks_payroll;', NULL);
SELECT version, action FROM migrate.apply();
SET ROLE bks_other;
SELECT id, object, kind, rows, created_by FROM migrate.backups;
CREATE TABLE bks_payroll (id int, salary int);
SELECT migrate.restore_backup(1);
SELECT count(*) AS poured_into_other FROM bks_payroll;
SELECT restored_at IS NULL AS still_restorable FROM migrate.backups WHERE id = 1;
DROP TABLE bks_payroll;
-- a role with the maker's privileges may
SET ROLE bks_deputy;
CREATE TABLE bks_payroll (id int PRIMARY KEY, salary int);
SELECT migrate.restore_backup(1);
SELECT * FROM bks_payroll ORDER BY id;
SELECT restored_by FROM migrate.backups WHERE id = 1;
DROP TABLE bks_payroll;
RESET ROLE;

-- 2. More statements that destroy data: DROP TABLE ... CASCADE drops the
-- tables inheriting from it (each copied); DROP SCHEMA ... CASCADE reaches
-- children in other schemas; MERGE ... WHEN MATCHED THEN DELETE; a DELETE
-- in the query of CREATE TABLE AS.
CREATE TABLE bks_parent (id int);
CREATE TABLE bks_child (extra text) INHERITS (bks_parent);
INSERT INTO bks_parent VALUES (1);
INSERT INTO bks_child VALUES (2, 'child-only data');
CREATE SCHEMA bks_s;
CREATE TABLE bks_s.base (id int);
CREATE TABLE bks_heir (note text) INHERITS (bks_s.base);
INSERT INTO bks_heir VALUES (3, 'in another schema');
CREATE TABLE bks_stock (id int PRIMARY KEY, qty int);
INSERT INTO bks_stock SELECT g, g FROM generate_series(1, 5) g;
CREATE TABLE bks_b (id int);
INSERT INTO bks_b SELECT generate_series(1, 3);
SELECT migrate.register('s2', 'more destructive statements', $up$
DROP TABLE bks_parent CASCADE;
DROP SCHEMA bks_s CASCADE;
MERGE INTO bks_stock s USING (SELECT 1) x ON true WHEN MATCHED THEN DELETE;
CREATE TABLE bks_b_arch AS WITH d AS (DELETE FROM bks_b RETURNING *) SELECT * FROM d;
$up$, NULL);
SELECT version, action FROM migrate.apply();
SELECT id, statement, kind, object, rows FROM migrate.backups WHERE migration = 's2' ORDER BY id;
SELECT to_regclass('bks_child') AS child, to_regclass('bks_heir') AS heir,
       (SELECT count(*) FROM bks_stock) AS stock, (SELECT count(*) FROM bks_b) AS b;
-- the rows are there to restore
SELECT backup_table AS child_copy FROM migrate.backups WHERE object = 'public.bks_child' \gset
SELECT * FROM :child_copy;
SELECT backup_table AS heir_copy FROM migrate.backups WHERE object = 'public.bks_heir' \gset
SELECT * FROM :heir_copy;
-- a MERGE without DELETE or UPDATE destroys nothing
SELECT migrate.register('s2b', 'merge insert only',
    'MERGE INTO bks_stock s USING (SELECT 9 AS id) x ON s.id = x.id WHEN NOT MATCHED THEN INSERT VALUES (x.id, 0);',
    NULL);
SELECT version, action FROM migrate.apply();
SELECT count(*) AS backups_of_s2b FROM migrate.backups WHERE migration = 's2b';

-- DROP TYPE ... CASCADE drops the columns of the type, of its array type
-- and of a domain over it: they are backed up with the key, and restored
-- once the type and the columns exist again (as a down script would make them).
CREATE TYPE bks_mood AS ENUM ('sad', 'happy');
CREATE DOMAIN bks_good_mood AS bks_mood CHECK (VALUE <> 'sad');
CREATE TABLE bks_person (id int PRIMARY KEY, m bks_mood, ms bks_mood[], g bks_good_mood, name text);
INSERT INTO bks_person VALUES (1, 'happy', '{sad,happy}', 'happy', 'ann'), (2, 'sad', NULL, NULL, 'bo');
SELECT migrate.register('s2c', 'drop the mood type', 'DROP TYPE bks_mood CASCADE;', NULL);
SELECT version, action FROM migrate.apply();
SELECT kind, object, columns, key_columns, key_changed, rows FROM migrate.backups WHERE migration = 's2c';
SELECT attname FROM pg_attribute WHERE attrelid = 'bks_person'::regclass AND attnum > 0 AND NOT attisdropped;
-- the backup keeps the values as text: it depends on no user type
SELECT backup_table AS person_copy FROM migrate.backups WHERE migration = 's2c' \gset
SELECT attname, atttypid::regtype FROM pg_attribute WHERE attrelid = :'person_copy'::regclass AND attnum > 0;
CREATE TYPE bks_mood AS ENUM ('sad', 'happy');
CREATE DOMAIN bks_good_mood AS bks_mood CHECK (VALUE <> 'sad');
ALTER TABLE bks_person ADD COLUMN m bks_mood, ADD COLUMN ms bks_mood[], ADD COLUMN g bks_good_mood;
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 's2c';
SELECT id, m, ms, g, name FROM bks_person ORDER BY id;

-- 3. A statement that changes a key column (UPDATE ... SET id = ...,
-- ALTER COLUMN id TYPE ... USING): rows cannot be matched back by key, so
-- the backup holds whole rows, is marked key_changed, and restore_backup()
-- refuses instead of writing values onto the wrong rows.
CREATE TABLE bks_acct (id int PRIMARY KEY, owner text, balance int);
INSERT INTO bks_acct VALUES (3, 'carol', 300), (2, 'bob', 200), (1, 'alice', 100);
CREATE TABLE bks_code (code int PRIMARY KEY, label text);
INSERT INTO bks_code VALUES (1, 'one'), (2, 'two');
SELECT migrate.register('s3', 'renumber', $up$
UPDATE bks_acct SET id = id + 1, balance = 0;
ALTER TABLE bks_code ALTER COLUMN code TYPE bigint USING code * 10;
UPDATE bks_acct SET balance = 5;
$up$, NULL);
SELECT version, action FROM migrate.apply();
SELECT id, statement, kind, object, columns, key_columns, key_changed, rows
FROM migrate.backups WHERE migration = 's3' ORDER BY id;
SELECT backup_table AS acct_copy FROM migrate.backups WHERE migration = 's3' AND statement = 1 \gset
SELECT * FROM :acct_copy ORDER BY id;
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 's3' AND statement = 1;
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 's3' AND statement = 2;
-- the key did not change in statement 3: restored by key as before
SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = 's3' AND statement = 3;
SELECT * FROM bks_acct ORDER BY id;

-- 4. Row-level security that applies to the running role would hide rows
-- from the copy while the statement destroys them all: refused, nothing
-- applied, nothing locked.  The table's owner without FORCE bypasses it.
SET ROLE bks_deployer;
CREATE TABLE bks_orders (id int PRIMARY KEY, tenant text);
INSERT INTO bks_orders SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 10) g;
ALTER TABLE bks_orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE bks_orders FORCE ROW LEVEL SECURITY;
CREATE POLICY bks_p ON bks_orders USING (tenant = 'a');
SELECT migrate.register('s4', 'truncate orders', 'TRUNCATE bks_orders;', NULL);
SELECT version, action FROM migrate.apply();
SELECT count(*) AS backups_of_s4 FROM migrate.backups WHERE migration = 's4';
ALTER TABLE bks_orders NO FORCE ROW LEVEL SECURITY;
SELECT version, action FROM migrate.apply();
SELECT rows FROM migrate.backups WHERE migration = 's4';
RESET ROLE;

-- 5. The running role is never lent CREATE on migrate_backup: the owner
-- creates the empty backup table, the role only inserts into it.  No user
-- code runs during the copy: a domain column is kept as its base type, so
-- the domain's check function (which would try to plant a table in
-- migrate_backup and record what it could do) never runs.  A name taken
-- in migrate_backup does not stop a backup: the next free name is used.
CREATE TABLE bks_seen (can_create boolean, planted text);
GRANT INSERT ON bks_seen TO bks_deployer;
CREATE FUNCTION bks_plant(v int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    BEGIN
        EXECUTE 'CREATE TABLE migrate_backup."99_victim" (x int)';
        INSERT INTO public.bks_seen VALUES (has_schema_privilege('migrate_backup', 'CREATE'), 'yes');
    EXCEPTION WHEN insufficient_privilege THEN
        INSERT INTO public.bks_seen VALUES (has_schema_privilege('migrate_backup', 'CREATE'), SQLSTATE);
    END;
    RETURN true;
END $$;
CREATE DOMAIN bks_checked AS int CHECK (bks_plant(VALUE));
SET ROLE bks_deployer;
CREATE TABLE bks_junk (id bks_checked);
INSERT INTO bks_junk VALUES (1);
SELECT migrate.register('s5', 'drop junk', 'DROP TABLE bks_junk;', NULL);
RESET ROLE;
SELECT * FROM bks_seen;
TRUNCATE bks_seen;
SET ROLE bks_deployer;
SELECT version, action FROM migrate.apply();
RESET ROLE;
SELECT count(*) AS checks_run_by_the_copy FROM bks_seen;
SELECT c.relname, c.relowner::regrole = x.extowner::regrole AS owners
FROM pg_class c, pg_extension x
WHERE x.extname = 'migrate' AND c.relnamespace = 'migrate_backup'::regnamespace AND c.relkind = 'r'
  AND c.relname LIKE '%junk' ORDER BY 1;
SELECT has_schema_privilege('bks_deployer', 'migrate_backup', 'CREATE') AS deployer_creates,
       has_schema_privilege('bks_deployer', 'migrate_backup', 'USAGE') AS deployer_uses;
-- the next backup's name is taken (by a table, and so its row type)
SELECT last_value + 1 AS next_id FROM migrate.backup_id_seq \gset
SELECT format('migrate_backup.%I', :next_id || '_bks_victim') AS planted \gset
CREATE TABLE :planted (x int);
CREATE TABLE bks_victim (id int);
INSERT INTO bks_victim VALUES (42);
SELECT migrate.register('s6', 'drop victim', 'DROP TABLE bks_victim;', NULL);
SELECT version, action FROM migrate.apply();
SELECT id = :next_id AS same_id, backup_table, rows FROM migrate.backups WHERE migration = 's6';
DROP TABLE :planted;

-- clean up: a fresh extension for whatever follows
RESET migrate.environment;
SELECT migrate.purge_backups(older_than => '0') > 0 AS purged;
DROP TABLE bks_seen, bks_person, bks_stock, bks_b, bks_b_arch, bks_acct, bks_code;
DROP DOMAIN bks_checked, bks_good_mood;
DROP TYPE bks_mood;
DROP FUNCTION bks_plant(int);
DROP OWNED BY bks_deployer, bks_other, bks_deputy;
DROP ROLE bks_deployer, bks_other, bks_deputy;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
