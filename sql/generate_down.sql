-- Generated down scripts: migrate.inversions() (each statement's inverse
-- or the reason it has none), migrate.generate_down() (the down script),
-- register(..., generate_down => true) (stores it, or refuses with MG018),
-- round trips (fingerprint before = fingerprint after up and the generated
-- down), repair() and rehearse() with a generated down script.
\set VERBOSITY terse

-- objects that exist before any fixture: what ALTER, RENAME, COMMENT and
-- SET DEFAULT change, and what the conditional CREATEs find
CREATE TABLE gd_account (
    id int PRIMARY KEY,
    email text CONSTRAINT gd_account_email_check CHECK (email <> ''),
    status text DEFAULT 'active',
    score int
);
CREATE INDEX gd_account_email_idx ON gd_account (email);
CREATE VIEW gd_account_view AS SELECT id, email FROM gd_account;
CREATE SEQUENCE gd_ticket_seq;
CREATE SCHEMA gd_old;
CREATE TYPE gd_color AS ENUM ('red', 'green');
CREATE DOMAIN gd_positive AS int CONSTRAINT gd_positive_check CHECK (VALUE > 0);
CREATE FUNCTION gd_touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$;
CREATE FUNCTION gd_add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
CREATE TRIGGER gd_account_touch BEFORE UPDATE ON gd_account FOR EACH ROW EXECUTE FUNCTION gd_touch();
CREATE POLICY gd_account_own ON gd_account USING (true);
COMMENT ON TABLE gd_account IS 'customer accounts';

-- one row per statement, rendered compactly
CREATE FUNCTION pg_temp.inv(script text)
RETURNS TABLE (st integer, line integer, command text, inverse text)
LANGUAGE sql AS $$
    SELECT statement, line, command,
           CASE WHEN NOT invertible THEN 'IRREVERSIBLE: ' || reason
                WHEN down IS NULL THEN '(' || reason || ')'
                ELSE down END
    FROM migrate.inversions(script)
$$;

-- ---------------------------------------------------------------------------
-- 1. CREATE statements: the DROP of what they name, schema kept
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.inv($up$
CREATE TABLE gd_order (id bigint PRIMARY KEY, account int REFERENCES gd_account);
CREATE TABLE gd_old."Order Line" (id int);
CREATE TEMP TABLE gd_scratch (id int);
CREATE UNLOGGED TABLE gd_log (msg text);
CREATE TABLE gd_order_2025 PARTITION OF gd_parted FOR VALUES FROM (1) TO (10);
CREATE TABLE gd_summary AS SELECT 1 AS n;
SELECT 1 AS n INTO gd_selected;
CREATE INDEX gd_order_account_idx ON gd_order (account);
CREATE UNIQUE INDEX gd_line_idx ON gd_old."Order Line" (id);
CREATE INDEX CONCURRENTLY gd_account_score_idx ON gd_account (score);
CREATE INDEX ON gd_order (id, account);
CREATE VIEW gd_order_view AS SELECT id FROM gd_order;
CREATE RECURSIVE VIEW gd_numbers (n) AS SELECT 1 UNION ALL SELECT n + 1 FROM gd_numbers WHERE n < 3;
CREATE MATERIALIZED VIEW gd_order_counts AS SELECT count(*) FROM gd_order;
CREATE SEQUENCE gd_old.invoice_seq;
CREATE SCHEMA gd_new;
CREATE SCHEMA AUTHORIZATION postgres;
CREATE SCHEMA gd_with_objects CREATE TABLE t (id int);
$up$);

SELECT * FROM pg_temp.inv($up$
CREATE TYPE gd_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE gd_old."Address" AS (street text, city text);
CREATE TYPE gd_span AS RANGE (subtype = float8);
CREATE DOMAIN gd_email AS text CHECK (VALUE LIKE '%@%');
CREATE FUNCTION gd_total(account int, OUT total numeric, INOUT currency text) LANGUAGE sql AS $f$ SELECT 1::numeric, 'EUR' $f$;
CREATE FUNCTION gd_old.gd_join(sep text, VARIADIC parts text[]) RETURNS text LANGUAGE sql AS $f$ SELECT array_to_string(parts, sep) $f$;
CREATE FUNCTION gd_rows(n int) RETURNS TABLE (i int) LANGUAGE sql AS $f$ SELECT generate_series(1, n) $f$;
CREATE FUNCTION gd_typed(a gd_old."Address", b gd_account.id%TYPE, c int[]) RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE gd_archive(before date, OUT moved int) LANGUAGE sql AS $f$ SELECT 0 $f$;
CREATE TRIGGER gd_account_audit AFTER INSERT ON gd_account FOR EACH ROW EXECUTE FUNCTION gd_touch();
CREATE CONSTRAINT TRIGGER gd_account_check AFTER UPDATE ON gd_account FOR EACH ROW EXECUTE FUNCTION gd_touch();
CREATE POLICY gd_account_read ON gd_account FOR SELECT USING (status = 'active');
CREATE EXTENSION citext;
CREATE EXTENSION hstore SCHEMA gd_old;
CREATE EXTENSION earthdistance CASCADE;
$up$);

-- ---------------------------------------------------------------------------
-- 2. ALTER TABLE: each subcommand's inverse, in reverse order, in one
--    statement; one subcommand without an inverse makes the statement
--    irreversible
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.inv($up$
ALTER TABLE gd_account ADD COLUMN phone text;
ALTER TABLE gd_account ADD COLUMN a int, ADD COLUMN b int, ADD CONSTRAINT gd_account_ab CHECK (a < b);
ALTER TABLE gd_account ADD CONSTRAINT gd_account_email_key UNIQUE (email);
ALTER TABLE gd_account ADD CONSTRAINT gd_account_fk FOREIGN KEY (score) REFERENCES gd_account NOT VALID;
ALTER TABLE gd_account ADD CHECK (score > 0);
ALTER TABLE gd_account ADD CONSTRAINT gd_account_pk2 UNIQUE USING INDEX gd_account_email_idx;
ALTER TABLE gd_account DISABLE TRIGGER gd_account_touch;
ALTER TABLE gd_account ENABLE TRIGGER gd_account_touch;
ALTER TABLE gd_account DISABLE TRIGGER ALL;
ALTER TABLE gd_account ENABLE TRIGGER USER;
ALTER TABLE gd_account ENABLE ALWAYS TRIGGER gd_account_touch;
ALTER TABLE gd_account ENABLE ROW LEVEL SECURITY;
ALTER TABLE gd_account DISABLE ROW LEVEL SECURITY;
ALTER TABLE gd_account FORCE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS gd_account ADD COLUMN note text;
ALTER TABLE ONLY gd_account ADD CONSTRAINT gd_account_score_check CHECK (score >= 0);
ALTER TABLE gd_parted ATTACH PARTITION gd_part_1 FOR VALUES FROM (1) TO (10);
ALTER TYPE gd_old."Address" ADD ATTRIBUTE zip text;
ALTER DOMAIN gd_positive ADD CONSTRAINT gd_positive_small CHECK (VALUE < 100);
ALTER DOMAIN gd_positive ADD CHECK (VALUE < 1000);
$up$);

-- ---------------------------------------------------------------------------
-- 3. RENAME: back again; a renamed object keeps its schema
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.inv($up$
ALTER TABLE gd_account RENAME TO gd_customer;
ALTER TABLE gd_old.invoice RENAME TO "Invoice";
ALTER TABLE gd_account RENAME COLUMN score TO rating;
ALTER TABLE ONLY gd_account RENAME COLUMN score TO rating;
ALTER TABLE gd_account RENAME CONSTRAINT gd_account_email_check TO gd_account_email_present;
ALTER INDEX gd_account_email_idx RENAME TO gd_account_email_lookup;
ALTER VIEW gd_account_view RENAME TO gd_accounts;
ALTER VIEW gd_account_view RENAME COLUMN email TO mail;
ALTER MATERIALIZED VIEW gd_old.stats RENAME TO statistics;
ALTER SEQUENCE gd_ticket_seq RENAME TO gd_ticket_number_seq;
ALTER SCHEMA gd_old RENAME TO gd_legacy;
ALTER TYPE gd_color RENAME TO gd_colour;
ALTER TYPE gd_old."Address" RENAME ATTRIBUTE city TO town;
ALTER DOMAIN gd_positive RENAME TO gd_natural;
ALTER DOMAIN gd_positive RENAME CONSTRAINT gd_positive_check TO gd_positive_ok;
ALTER FUNCTION gd_add(int, int) RENAME TO gd_sum;
ALTER FUNCTION gd_touch RENAME TO gd_touch_row;
ALTER TRIGGER gd_account_touch ON gd_account RENAME TO gd_account_touched;
ALTER POLICY gd_account_own ON gd_account RENAME TO gd_account_mine;
ALTER TYPE gd_color RENAME VALUE 'green' TO 'Green';
$up$);

-- ---------------------------------------------------------------------------
-- 4. COMMENT ON and SET/DROP DEFAULT: the previous value from the catalog
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.inv($up$
COMMENT ON TABLE gd_account IS 'accounts of customers';
COMMENT ON COLUMN gd_account.email IS 'where we write';
COMMENT ON TABLE gd_account IS NULL;
COMMENT ON INDEX gd_account_email_idx IS 'lookups';
COMMENT ON VIEW gd_account_view IS 'it''s a view';
COMMENT ON SCHEMA gd_old IS 'old things';
COMMENT ON TYPE gd_color IS 'colors';
COMMENT ON DOMAIN gd_positive IS 'above zero';
COMMENT ON FUNCTION gd_add(int, int) IS 'adds';
COMMENT ON TRIGGER gd_account_touch ON gd_account IS 'touches';
COMMENT ON POLICY gd_account_own ON gd_account IS 'own rows';
COMMENT ON CONSTRAINT gd_account_email_check ON gd_account IS 'not empty';
COMMENT ON CONSTRAINT gd_positive_check ON DOMAIN gd_positive IS 'positive';
COMMENT ON TABLE gd_missing IS 'who?';
COMMENT ON COLUMN gd_account.missing IS 'who?';
COMMENT ON OPERATOR + (int, int) IS 'plus';
ALTER TABLE gd_account ALTER COLUMN status SET DEFAULT 'new';
ALTER TABLE gd_account ALTER COLUMN status DROP DEFAULT;
ALTER TABLE gd_account ALTER COLUMN score SET DEFAULT 0;
ALTER TABLE gd_account ALTER COLUMN missing SET DEFAULT 0;
$up$);

-- ---------------------------------------------------------------------------
-- 5. CREATE ... IF NOT EXISTS and CREATE OR REPLACE: DROP ... IF EXISTS
--    when the object does not exist now, else no inverse
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.inv($up$
CREATE TABLE IF NOT EXISTS gd_fresh (id int);
CREATE TABLE IF NOT EXISTS gd_account (id int);
CREATE INDEX IF NOT EXISTS gd_fresh_idx ON gd_fresh (id);
CREATE INDEX IF NOT EXISTS gd_account_email_idx ON gd_account (email);
CREATE SEQUENCE IF NOT EXISTS gd_ticket_seq;
CREATE SCHEMA IF NOT EXISTS gd_fresh_schema;
CREATE SCHEMA IF NOT EXISTS gd_old;
CREATE OR REPLACE VIEW gd_fresh_view AS SELECT 1 AS n;
CREATE OR REPLACE VIEW gd_account_view AS SELECT id, email FROM gd_account;
CREATE OR REPLACE FUNCTION gd_fresh_fn(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
CREATE OR REPLACE FUNCTION gd_add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b + 0';
CREATE OR REPLACE TRIGGER gd_account_touch BEFORE UPDATE ON gd_account FOR EACH ROW EXECUTE FUNCTION gd_touch();
CREATE EXTENSION IF NOT EXISTS plpgsql;
ALTER TABLE gd_account ADD COLUMN IF NOT EXISTS fresh int;
ALTER TABLE gd_account ADD COLUMN IF NOT EXISTS email text;
CREATE TABLE IF NOT EXISTS gd_fresh (id int);
$up$);

-- ---------------------------------------------------------------------------
-- 6. changes to objects created earlier in the same script: nothing to undo
--    (the inverse of the CREATE drops them with everything done to them)
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.inv($up$
CREATE TABLE gd_country (code text PRIMARY KEY, name text);
COMMENT ON TABLE gd_country IS 'ISO 3166 countries';
COMMENT ON COLUMN gd_country.name IS 'English name';
INSERT INTO gd_country VALUES ('FR', 'France'), ('DE', 'Germany');
UPDATE gd_country SET name = upper(name);
DELETE FROM gd_country WHERE code = 'DE';
ALTER TABLE gd_country ALTER COLUMN name SET DEFAULT 'unknown';
ALTER TABLE gd_country ALTER COLUMN name TYPE varchar(100);
ALTER TABLE gd_country DROP COLUMN name;
GRANT SELECT ON gd_country TO PUBLIC;
TRUNCATE gd_country;
ALTER TABLE gd_account ADD COLUMN region text;
ALTER TABLE gd_account ALTER COLUMN region SET DEFAULT 'EU';
COMMENT ON COLUMN gd_account.region IS 'sales region';
CREATE TYPE gd_size AS ENUM ('S', 'M');
ALTER TYPE gd_size ADD VALUE 'L';
CREATE MATERIALIZED VIEW gd_country_count AS SELECT count(*) FROM gd_country WITH NO DATA;
REFRESH MATERIALIZED VIEW gd_country_count;
SET lock_timeout = '2s';
SET LOCAL statement_timeout = '1min';
$up$);

-- ---------------------------------------------------------------------------
-- 7. statements without an inverse, each with its reason
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.inv($up$
DROP TABLE gd_account;
DROP INDEX gd_account_email_idx;
DROP VIEW IF EXISTS gd_account_view;
DROP FUNCTION gd_add(int, int);
DELETE FROM gd_account WHERE status = 'closed';
UPDATE gd_account SET status = 'active';
INSERT INTO gd_account (id) VALUES (1);
TRUNCATE gd_account;
ALTER TABLE gd_account DROP COLUMN score;
ALTER TABLE gd_account DROP CONSTRAINT gd_account_email_check;
ALTER TABLE gd_account ALTER COLUMN score TYPE bigint;
ALTER TABLE gd_account ALTER COLUMN score SET NOT NULL;
ALTER TABLE gd_account VALIDATE CONSTRAINT gd_account_email_check;
ALTER TABLE gd_account ADD COLUMN c int, DROP COLUMN score;
ALTER TYPE gd_color ADD VALUE 'blue';
DO $$ BEGIN PERFORM 1; END $$;
GRANT SELECT ON gd_account TO PUBLIC;
REVOKE ALL ON gd_account FROM PUBLIC;
ALTER TABLE gd_account OWNER TO postgres;
SET search_path = gd_old, public;
REFRESH MATERIALIZED VIEW gd_stats;
VACUUM gd_account;
CREATE STATISTICS gd_account_stats ON id, score FROM gd_account;
SELECT pg_catalog.setval('gd_ticket_seq', 10);
$up$);

-- an empty script inverts to an empty down script
SELECT * FROM migrate.inversions('-- only a comment');
SELECT migrate.generate_down('') = '' AS empty;

-- ---------------------------------------------------------------------------
-- 8. generate_down(): the inverses in reverse order, each statement
--    without one as a comment line
-- ---------------------------------------------------------------------------
SELECT migrate.generate_down($up$
CREATE TABLE gd_country (code text PRIMARY KEY);
INSERT INTO gd_country VALUES ('FR');
CREATE INDEX gd_country_idx ON gd_country (lower(code));
ALTER TABLE gd_account ADD COLUMN country text REFERENCES gd_country;
COMMENT ON TABLE gd_account IS 'with a country';
$up$);
SELECT migrate.generate_down($up$
-- Description: a header is not a statement
ALTER TABLE gd_account ADD COLUMN phone text;
DELETE FROM gd_account;
ALTER TABLE gd_account RENAME COLUMN phone TO telephone;
$up$);

-- ---------------------------------------------------------------------------
-- 9. round trips: register with generate_down => true, apply, revert;
--    the schema is as before (fingerprint() equal).  Each fixture has a
--    lower version than the one before, so that apply(target => v) applies
--    it alone, not the reverted (pending) fixtures before it.
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.round_trip(v text, fixture text, up text)
RETURNS TABLE (registered text, applied text, reverted text, down_generated boolean,
               same_fingerprint boolean)
LANGUAGE plpgsql AS $$
DECLARE
    before text := migrate.fingerprint();
BEGIN
    registered := migrate.register(v, fixture, up, generate_down => true);
    SELECT a.state INTO applied FROM migrate.apply(target => v) a WHERE a.version = v;
    SELECT m.down_generated INTO down_generated FROM migrate.migration m WHERE m.version = v;
    SELECT r.state INTO reverted FROM migrate.revert(migration => v) r WHERE r.version = v;
    same_fingerprint := migrate.fingerprint() = before;
    RETURN NEXT;
END
$$;
-- the generated down script a fixture was registered with
CREATE FUNCTION pg_temp.down_of(v text) RETURNS text LANGUAGE sql AS
$$ SELECT down_script FROM migrate.migration WHERE version = v $$;

-- tables, indexes, views, sequences
SELECT * FROM pg_temp.round_trip('80', 'rt01', $up$
CREATE TABLE gd_order (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                       account int NOT NULL REFERENCES gd_account, total numeric(10,2));
CREATE TABLE gd_old."Order Line" (id serial, order_id bigint REFERENCES gd_order);
CREATE INDEX gd_order_account_idx ON gd_order (account);
CREATE UNIQUE INDEX "gd Line Idx" ON gd_old."Order Line" (id);
CREATE VIEW gd_order_view AS SELECT id, total FROM gd_order;
CREATE MATERIALIZED VIEW gd_order_counts AS SELECT account, count(*) FROM gd_order GROUP BY account;
CREATE TABLE gd_summary AS SELECT 1 AS n;
CREATE SEQUENCE gd_old.invoice_seq START 1000;
$up$);
SELECT pg_temp.down_of('80');

-- types, domains, functions, procedures, triggers, policies, schemas, extensions
SELECT * FROM pg_temp.round_trip('70', 'rt02', $up$
CREATE SCHEMA gd_new;
CREATE TYPE gd_new.mood AS ENUM ('sad', 'ok');
CREATE TYPE gd_new."Address" AS (street text, city text);
CREATE TYPE gd_new.span AS RANGE (subtype = float8);
CREATE DOMAIN gd_new.email AS text CHECK (VALUE LIKE '%@%');
CREATE FUNCTION gd_new.total(account int, OUT total numeric, INOUT currency text) LANGUAGE sql AS $f$ SELECT 1::numeric, 'EUR' $f$;
CREATE FUNCTION gd_new.address_city(a gd_new."Address", VARIADIC rest text[]) RETURNS text LANGUAGE sql AS $f$ SELECT (a).city $f$;
CREATE PROCEDURE gd_new.archive(before date, OUT moved int) LANGUAGE sql AS $f$ SELECT 0 $f$;
CREATE TRIGGER gd_account_audit AFTER INSERT ON gd_account FOR EACH ROW EXECUTE FUNCTION gd_touch();
CREATE POLICY gd_account_read ON gd_account FOR SELECT USING (status = 'active');
CREATE EXTENSION citext SCHEMA gd_new;
$up$);
SELECT pg_temp.down_of('70');

-- ALTER TABLE on an existing table, ALTER DOMAIN
SELECT * FROM pg_temp.round_trip('60', 'rt03', $up$
ALTER TABLE gd_account ADD COLUMN phone text, ADD COLUMN a int,
    ADD CONSTRAINT gd_account_phone_check CHECK (phone <> '');
ALTER TABLE gd_account ADD CONSTRAINT gd_account_email_key UNIQUE (email);
ALTER TABLE gd_account ADD CONSTRAINT gd_account_fk FOREIGN KEY (a) REFERENCES gd_account NOT VALID;
ALTER TABLE gd_account DISABLE TRIGGER gd_account_touch;
ALTER TABLE gd_account ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER DOMAIN gd_positive ADD CONSTRAINT gd_positive_small CHECK (VALUE < 100);
$up$);
SELECT pg_temp.down_of('60');

-- renames of every kind, enum values
SELECT * FROM pg_temp.round_trip('50', 'rt04', $up$
ALTER TABLE gd_account RENAME COLUMN score TO rating;
ALTER TABLE gd_account RENAME CONSTRAINT gd_account_email_check TO gd_account_email_present;
ALTER INDEX gd_account_email_idx RENAME TO gd_account_email_lookup;
ALTER TRIGGER gd_account_touch ON gd_account RENAME TO gd_account_touched;
ALTER POLICY gd_account_own ON gd_account RENAME TO gd_account_mine;
ALTER TABLE gd_account RENAME TO gd_customer;
ALTER VIEW gd_account_view RENAME TO "gd Accounts";
ALTER SEQUENCE gd_ticket_seq RENAME TO gd_ticket_number_seq;
ALTER TYPE gd_color RENAME VALUE 'green' TO 'Green';
ALTER TYPE gd_color RENAME TO gd_colour;
ALTER DOMAIN gd_positive RENAME CONSTRAINT gd_positive_check TO gd_positive_ok;
ALTER DOMAIN gd_positive RENAME TO gd_natural;
ALTER FUNCTION gd_add(int, int) RENAME TO gd_sum;
ALTER SCHEMA gd_old RENAME TO gd_legacy;
$up$);
SELECT pg_temp.down_of('50');

-- comments and defaults replaced: the previous ones come back
COMMENT ON COLUMN gd_account.email IS 'primary address';
SELECT * FROM pg_temp.round_trip('40', 'rt05', $up$
COMMENT ON TABLE gd_account IS 'accounts of customers';
COMMENT ON COLUMN gd_account.email IS NULL;
COMMENT ON COLUMN gd_account.status IS 'lifecycle';
COMMENT ON TABLE gd_account IS 'accounts, changed twice';
COMMENT ON FUNCTION gd_add(int, int) IS 'it''s addition';
COMMENT ON TRIGGER gd_account_touch ON gd_account IS 'touches';
COMMENT ON CONSTRAINT gd_positive_check ON DOMAIN gd_positive IS 'positive';
ALTER TABLE gd_account ALTER COLUMN status SET DEFAULT 'new';
ALTER TABLE gd_account ALTER COLUMN score SET DEFAULT 0;
ALTER TABLE gd_account ALTER COLUMN status SET DEFAULT 'newer';
$up$);
SELECT pg_temp.down_of('40');
SELECT * FROM pg_temp.round_trip('35', 'rt06', $up$
ALTER TABLE gd_account ALTER COLUMN status DROP DEFAULT;
$up$);
SELECT pg_temp.down_of('35');

-- conditional creates of objects that do not exist, and new objects
-- changed in the same script
SELECT * FROM pg_temp.round_trip('30', 'rt07', $up$
CREATE TABLE IF NOT EXISTS gd_fresh (id int);
CREATE INDEX IF NOT EXISTS gd_fresh_idx ON gd_fresh (id);
CREATE SCHEMA IF NOT EXISTS gd_fresh_schema;
CREATE OR REPLACE VIEW gd_fresh_view AS SELECT 1 AS n;
CREATE OR REPLACE FUNCTION gd_fresh_fn(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
CREATE EXTENSION IF NOT EXISTS hstore;
ALTER TABLE gd_account ADD COLUMN IF NOT EXISTS fresh int;
CREATE TABLE gd_country (code text PRIMARY KEY, name text);
COMMENT ON TABLE gd_country IS 'ISO 3166 countries';
INSERT INTO gd_country VALUES ('FR', 'France');
ALTER TABLE gd_country ALTER COLUMN name SET DEFAULT 'unknown';
GRANT SELECT ON gd_country TO PUBLIC;
CREATE TYPE gd_size AS ENUM ('S', 'M');
ALTER TYPE gd_size ADD VALUE 'L';
SET lock_timeout = '2s';
$up$);
SELECT pg_temp.down_of('30');

-- CREATE INDEX CONCURRENTLY: the down script drops it concurrently, so both
-- run outside a transaction block (at top level, not in a function)
SELECT migrate.fingerprint() AS before_rt08 \gset
SELECT migrate.register('20', 'rt08',
    'CREATE INDEX CONCURRENTLY gd_account_score_idx ON gd_account (score);',
    generate_down => true);
SELECT version, down_script, down_transactional, down_generated
FROM migrate.migration WHERE version = '20';
SELECT version, state FROM migrate.apply(target => '20');
SELECT version, state FROM migrate.revert(migration => '20');
SELECT migrate.fingerprint() = :'before_rt08' AS same_fingerprint;

-- trigger states and row level security go back to what they were, as the
-- catalog says (or an earlier statement of the script set): a trigger
-- enabled already stays enabled, nothing to undo
SELECT * FROM pg_temp.round_trip('19', 'rt09',
    'ALTER TABLE gd_account ENABLE TRIGGER gd_account_touch;');
SELECT pg_temp.down_of('19');
SELECT tgenabled FROM pg_trigger WHERE tgname = 'gd_account_touch';
-- a disabled trigger, row level security enabled and not forced
ALTER TABLE gd_account DISABLE TRIGGER gd_account_touch, ENABLE ROW LEVEL SECURITY;
SELECT * FROM pg_temp.round_trip('18', 'rt10', $up$
ALTER TABLE gd_account ENABLE ALWAYS TRIGGER gd_account_touch;
ALTER TABLE gd_account ENABLE REPLICA TRIGGER gd_account_touch;
ALTER TABLE gd_account ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE gd_account NO FORCE ROW LEVEL SECURITY;
ALTER TABLE gd_account DISABLE ROW LEVEL SECURITY;
$up$);
SELECT pg_temp.down_of('18');
SELECT tgenabled FROM pg_trigger WHERE tgname = 'gd_account_touch';
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'gd_account'::regclass;
ALTER TABLE gd_account ENABLE REPLICA TRIGGER gd_account_touch, DISABLE ROW LEVEL SECURITY;
SELECT * FROM pg_temp.round_trip('17', 'rt11',
    'ALTER TABLE gd_account DISABLE TRIGGER gd_account_touch, DISABLE ROW LEVEL SECURITY;');
SELECT pg_temp.down_of('17');
SELECT tgenabled FROM pg_trigger WHERE tgname = 'gd_account_touch';
ALTER TABLE gd_account ENABLE TRIGGER gd_account_touch;
-- ALL and USER change triggers whose states may differ: refused
\set VERBOSITY default
SELECT migrate.register('16', 'all triggers',
    'ALTER TABLE gd_account DISABLE TRIGGER ALL;', generate_down => true);
\set VERBOSITY terse

DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- ---------------------------------------------------------------------------
-- 10. register() refuses what cannot be inverted: MG018, every statement
--     listed with its line, command and reason
-- ---------------------------------------------------------------------------
\set VERBOSITY default
SELECT migrate.register('1', 'cannot be inverted', $up$
CREATE TABLE gd_ok (id int);
DROP TABLE gd_account;
UPDATE gd_ok SET id = 1;
ALTER TABLE gd_old.t ALTER COLUMN id TYPE bigint;
CREATE INDEX ON gd_ok (id);
$up$, generate_down => true);
-- a down script and generate_down together
SELECT migrate.register('2', 'both', 'CREATE TABLE gd_both (id int);',
                        'DROP TABLE gd_both;', generate_down => true);
\set VERBOSITY terse
SELECT count(*) AS stored FROM migrate.migration WHERE version IN ('1', '2');
-- the SQLSTATE
DO $$
BEGIN
    PERFORM migrate.register('3', 'enum value', 'ALTER TYPE gd_color ADD VALUE ''blue'';',
                             generate_down => true);
EXCEPTION WHEN SQLSTATE 'MG018' THEN
    RAISE NOTICE 'MG018: %', SQLERRM;
END
$$;

-- ---------------------------------------------------------------------------
-- 11. down_generated: registered again unchanged, the generated down script
--     is kept (even after apply, when the catalog no longer holds what it was
--     generated from); repair() with a hand-written down script clears it;
--     register() without generate_down clears it
-- ---------------------------------------------------------------------------
SELECT migrate.register('1', 'comment', 'COMMENT ON TABLE gd_account IS ''v2'';',
                        generate_down => true);
SELECT version, state FROM migrate.apply(target => '1');
SELECT obj_description('gd_account'::regclass, 'pg_class') AS comment_now;
SELECT migrate.register('1', 'comment', 'COMMENT ON TABLE gd_account IS ''v2'';',
                        generate_down => true);
SELECT down_script, down_generated FROM migrate.migration WHERE version = '1';
SELECT migrate.repair('1', down => 'COMMENT ON TABLE gd_account IS ''customer accounts'';');
SELECT down_script, down_generated FROM migrate.migration WHERE version = '1';
SELECT version, state FROM migrate.revert(migration => '1');
SELECT obj_description('gd_account'::regclass, 'pg_class') AS comment_back;
SELECT migrate.register('2', 'phone', 'ALTER TABLE gd_account ADD COLUMN phone text;',
                        generate_down => true);
SELECT down_generated FROM migrate.migration WHERE version = '2';
SELECT migrate.register('2', 'phone', 'ALTER TABLE gd_account ADD COLUMN phone text;',
                        'ALTER TABLE gd_account DROP COLUMN phone;');
SELECT down_generated FROM migrate.migration WHERE version = '2';

DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- ---------------------------------------------------------------------------
-- 12. rehearse() proves generated down scripts: up, down, up again
-- ---------------------------------------------------------------------------
SELECT migrate.register('1', 'rehearsed table', $up$
CREATE TABLE gd_rehearsed (id int PRIMARY KEY, label text DEFAULT 'x');
CREATE INDEX gd_rehearsed_label_idx ON gd_rehearsed (label);
COMMENT ON TABLE gd_rehearsed IS 'rehearsed';
$up$, generate_down => true);
SELECT migrate.register('2', 'rehearsed changes', $up$
ALTER TABLE gd_rehearsed ADD COLUMN note text, ADD CONSTRAINT gd_rehearsed_note CHECK (note <> '');
ALTER TABLE gd_rehearsed RENAME COLUMN label TO tag;
COMMENT ON TABLE gd_account IS 'rehearsed comment';
$up$, generate_down => true);
SELECT version, ok, failed_step, differences FROM migrate.rehearse();
SELECT count(*) AS left_behind FROM pg_class WHERE relname = 'gd_rehearsed';

DROP EXTENSION migrate;
CREATE EXTENSION migrate;
DROP TABLE gd_account CASCADE;
DROP SEQUENCE gd_ticket_seq;
DROP SCHEMA gd_old CASCADE;
DROP TYPE gd_color;
DROP DOMAIN gd_positive;
DROP FUNCTION gd_touch();
DROP FUNCTION gd_add(int, int);

-- the previous default is deparsed under a pinned search_path: a default
-- calling gd_s2.gd_dflt() stays qualified even when gd_s2 is on the
-- caller's path, so the down script does not depend on the path at revert
CREATE SCHEMA gd_s2;
CREATE FUNCTION gd_s2.gd_dflt() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 7';
CREATE SEQUENCE gd_s2.gd_seq;
CREATE TABLE gd_s2.gd_t (a int DEFAULT gd_s2.gd_dflt(), b bigint DEFAULT nextval('gd_s2.gd_seq'));
SET search_path = gd_s2, public;
SELECT migrate.generate_down($up$
ALTER TABLE gd_s2.gd_t ALTER COLUMN a SET DEFAULT 1;
ALTER TABLE gd_s2.gd_t ALTER COLUMN b SET DEFAULT 2;
$up$);
RESET search_path;
DROP SCHEMA gd_s2 CASCADE;
