-- Lint rules about types, keys, names and re-runnable scripts (issue 12,
-- src/model/lint_types.c): a hit and a clean case for each rule, and for
-- foreign-key-without-index the catalog's indexes (src/store/relfacts_index.c).
-- Only this module's rules (and unused-suppression) are shown, so that the
-- lock and size rules of the other modules do not change this file.
\set VERBOSITY terse
-- PostgreSQL's own "identifier ... will be truncated" notices, which it
-- gives while parsing a script, are left out (the rule's findings say it)
SET client_min_messages = warning;

-- the rules of this module
CREATE FUNCTION lint_types_rules() RETURNS text[] LANGUAGE sql AS $$
    SELECT ARRAY['ban-char-field', 'prefer-text-field', 'prefer-bigint-over-int',
                 'prefer-bigint-over-smallint', 'prefer-identity', 'prefer-timestamptz',
                 'ban-create-domain-with-constraint', 'ban-alter-domain-with-add-constraint',
                 'require-timeout-settings', 'prefer-robust-stmts', 'identifier-truncated',
                 'foreign-key-without-index']
$$;
-- their findings (and unused-suppression's) on a script
CREATE FUNCTION lint_types(script text)
RETURNS TABLE (rule text, statement int, line int, message text)
LANGUAGE sql AS $$
    SELECT l.rule, l.statement, l.line, l.message
    FROM migrate.lint(script) l
    WHERE l.rule = ANY (lint_types_rules() || 'unused-suppression'::text)
$$;

-- the module's rules, as migrate.lint_rules lists them
SELECT id, severity, category, catalog FROM migrate.lint_rules
WHERE id = ANY (lint_types_rules());

-- every rule's bad example reports it and its safe rewrite does not
-- (require-timeout-settings only where the environment asks: below)
SELECT r.id,
       (SELECT count(*) FROM lint_types(r.bad_example) f WHERE f.rule = r.id) AS bad_hits,
       (SELECT count(*) FROM lint_types(r.safe_example) f WHERE f.rule = r.id) AS safe_hits
FROM migrate.lint_rules r
WHERE r.id = ANY (lint_types_rules())
ORDER BY r.id;

-- ---------------------------------------------------------------------------
-- ban-char-field: char(n), character(n), bare char (char(1)), bpchar, in
-- CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE and a domain's base type
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$
CREATE TABLE lt_country (code char(2), name character(30), flag char, raw pg_catalog.bpchar);
ALTER TABLE lt_country ADD COLUMN region char(3), ALTER COLUMN name TYPE character(40);
CREATE DOMAIN lt_code AS char(4);
$$);
-- clean: text, and "char" (quoted: the one-byte internal type, not char(n))
SELECT * FROM lint_types($$
CREATE TABLE lt_country (code text CHECK (length(code) = 2), kind "char");
$$);

-- ---------------------------------------------------------------------------
-- prefer-text-field: varchar(n) and character varying(n); an unlimited
-- varchar is text under another name
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$
CREATE TABLE lt_customer (name varchar(100), email character varying(200));
ALTER TABLE lt_customer ALTER COLUMN name TYPE varchar(200);
$$);
SELECT * FROM lint_types($$
CREATE TABLE lt_customer (name text CHECK (length(name) <= 100), email varchar);
$$);

-- ---------------------------------------------------------------------------
-- prefer-bigint-over-int and prefer-bigint-over-smallint: a key is a
-- PRIMARY KEY or UNIQUE column, an identity or serial column, or a
-- referencing column, declared on the column or as a table constraint
-- (the foreign keys of these tables have no index either)
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$
CREATE TABLE lt_account (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number int4 UNIQUE,
    owner_id int REFERENCES lt_person (id),
    tenant int,
    region int,
    kind smallint,
    UNIQUE (tenant),
    FOREIGN KEY (region) REFERENCES lt_region (id),
    UNIQUE (kind)
);
CREATE TABLE lt_category (id smallint PRIMARY KEY, parent smallserial);
$$);
-- a column added and made a key by the same ALTER TABLE
SELECT * FROM lint_types($$
ALTER TABLE lt_account ADD COLUMN team_id integer, ADD CONSTRAINT lt_team FOREIGN KEY (team_id) REFERENCES lt_team (id);
ALTER TABLE lt_account ADD COLUMN rank smallint UNIQUE;
$$);
-- clean: bigint keys; integer and smallint columns that are no keys; an
-- integer array
SELECT * FROM lint_types($$
CREATE TABLE lt_account (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint REFERENCES lt_person (id),
    quantity integer NOT NULL,
    priority smallint,
    scores integer[]
);
CREATE INDEX lt_account_owner ON lt_account (owner_id);
ALTER TABLE lt_account ADD COLUMN retries int;
$$);

-- ---------------------------------------------------------------------------
-- prefer-identity: serial, bigserial, smallserial and their aliases, as
-- written (a serial is a key: integer and smallint ones are also reported
-- by the bigint rules)
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$
CREATE TABLE lt_invoice (id bigserial PRIMARY KEY, number serial4, line serial2);
ALTER TABLE lt_invoice ADD COLUMN seq serial8;
$$);
SELECT * FROM lint_types($$
CREATE TABLE lt_invoice (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                         number bigint GENERATED BY DEFAULT AS IDENTITY);
$$);

-- ---------------------------------------------------------------------------
-- prefer-timestamptz: timestamp, with a precision, written out in full,
-- as a new column type and as a domain's base type
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$
CREATE TABLE lt_event (happened_at timestamp, logged_at timestamp(3) without time zone);
ALTER TABLE lt_event ALTER COLUMN happened_at TYPE timestamp(0);
CREATE DOMAIN lt_moment AS timestamp;
$$);
SELECT * FROM lint_types($$
CREATE TABLE lt_event (happened_at timestamptz, logged_at timestamp(3) with time zone, day date);
ALTER TABLE lt_event ALTER COLUMN happened_at TYPE timestamptz;
$$);

-- ---------------------------------------------------------------------------
-- ban-create-domain-with-constraint: a CHECK (one finding per domain);
-- NOT NULL and DEFAULT are not reported
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$
CREATE DOMAIN lt_percent AS integer CHECK (VALUE >= 0) CHECK (VALUE <= 100);
$$);
SELECT * FROM lint_types($$
CREATE DOMAIN lt_percent AS integer NOT NULL DEFAULT 0;
CREATE TABLE lt_score (percent integer NOT NULL CHECK (percent BETWEEN 0 AND 100));
$$);

-- ---------------------------------------------------------------------------
-- ban-alter-domain-with-add-constraint: on a domain that exists, CHECK or
-- NOT NULL, NOT VALID or not (VALIDATE scans just the same); silent on a
-- domain the script created, and for the other ALTER DOMAIN forms
-- ---------------------------------------------------------------------------
CREATE DOMAIN lt_existing_percent AS integer;
SELECT * FROM lint_types($$
ALTER DOMAIN lt_existing_percent ADD CONSTRAINT lt_range CHECK (VALUE BETWEEN 0 AND 100);
ALTER DOMAIN public.lt_existing_percent ADD CONSTRAINT lt_range2 CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN lt_existing_percent ADD CONSTRAINT lt_not_null NOT NULL;
$$);
SELECT * FROM lint_types($$
CREATE DOMAIN lt_new_percent AS integer;
ALTER DOMAIN lt_new_percent ADD CONSTRAINT lt_range CHECK (VALUE BETWEEN 0 AND 100);
ALTER DOMAIN lt_existing_percent SET DEFAULT 0;
ALTER DOMAIN lt_existing_percent VALIDATE CONSTRAINT lt_range;
$$);

-- ---------------------------------------------------------------------------
-- require-timeout-settings: only when the environment asks
-- (environment_setting.lint_require_timeouts); without an environment the
-- rule is silent, even on a script that sets no timeout at all
-- ---------------------------------------------------------------------------
SHOW migrate.environment;
SELECT * FROM lint_types($$
ALTER TABLE lt_order ADD COLUMN note text;
CREATE INDEX lt_order_note ON lt_order (note);
$$);
-- an environment that asks for them (where the installed SQL has the
-- setting: lint_types_1.out is this file's output without it)
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_attribute
               WHERE attrelid = 'migrate.environment_setting'::regclass
                 AND attname = 'lint_require_timeouts' AND NOT attisdropped) THEN
        EXECUTE $q$INSERT INTO migrate.environment_setting (environment, lint_require_timeouts)
                   VALUES ('lint_types', true)$q$;
    ELSE
        INSERT INTO migrate.environment_setting (environment) VALUES ('lint_types');
    END IF;
END
$$;
SET migrate.environment = 'lint_types';
SELECT r.id,
       (SELECT count(*) FROM lint_types(r.bad_example) f WHERE f.rule = r.id) AS bad_hits,
       (SELECT count(*) FROM lint_types(r.safe_example) f WHERE f.rule = r.id) AS safe_hits
FROM migrate.lint_rules r
WHERE r.id = 'require-timeout-settings';
-- hits: a lock that blocks writes on a table the script did not create
-- (ALTER TABLE by PostgreSQL's AlterTableGetLockLevel(), CREATE INDEX, a
-- foreign key's referenced table, RENAME, TRUNCATE, LOCK), naming what
-- is missing: a SET lock_timeout earlier covers the lock wait only
SELECT * FROM lint_types($$
ALTER TABLE lt_order ADD COLUMN note text;
CREATE INDEX lt_order_note ON lt_order (note);
CREATE TABLE lt_child (order_id bigint PRIMARY KEY REFERENCES lt_order (id));
SET lock_timeout = '2s';
ALTER TABLE lt_order RENAME COLUMN note TO remark;
TRUNCATE lt_order;
LOCK TABLE lt_order IN SHARE MODE;
$$);
-- clean: the timeouts set first; locks that let writes through (CREATE
-- INDEX CONCURRENTLY, VALIDATE CONSTRAINT, SET STATISTICS, LOCK ... ROW
-- EXCLUSIVE); a table created earlier in the script, or by this
-- statement (a key that references its own table)
SELECT * FROM lint_types($$
CREATE TABLE lt_new (id bigint PRIMARY KEY, parent_id bigint REFERENCES lt_new (id));
CREATE INDEX lt_new_parent ON lt_new (parent_id);
ALTER TABLE lt_new ADD COLUMN note text;
CREATE INDEX lt_new_note ON lt_new (note);
CREATE INDEX CONCURRENTLY lt_order_note ON lt_order (note);
ALTER TABLE lt_order VALIDATE CONSTRAINT lt_order_fk;
ALTER TABLE lt_order ALTER COLUMN note SET STATISTICS 500;
LOCK TABLE lt_order IN ROW EXCLUSIVE MODE;
$$);
SELECT * FROM lint_types($$
SET lock_timeout = '2s';
SET statement_timeout = '1min';
ALTER TABLE lt_order ADD COLUMN note text;
$$);
-- the header's timeouts cover every statement
SELECT * FROM lint_types($$-- @lock-timeout: 2s
-- @statement-timeout: 1min
ALTER TABLE lt_order ADD COLUMN note text;
$$);
RESET migrate.environment;
DELETE FROM migrate.environment_setting WHERE environment = 'lint_types';

-- ---------------------------------------------------------------------------
-- prefer-robust-stmts: only under @idempotent: true
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$-- @idempotent: true
CREATE TABLE lt_audit (id bigint);
CREATE INDEX lt_audit_id ON lt_audit (id);
CREATE INDEX ON lt_audit (id);
CREATE SEQUENCE lt_audit_seq;
CREATE SCHEMA lt_schema;
CREATE FUNCTION lt_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE VIEW lt_v AS SELECT 1 AS one;
CREATE TYPE lt_mood AS ENUM ('ok');
ALTER TYPE lt_mood ADD VALUE 'happy';
ALTER TYPE lt_mood RENAME VALUE 'ok' TO 'fine';
CREATE TRIGGER lt_audit_t BEFORE INSERT ON lt_audit FOR EACH ROW EXECUTE FUNCTION lt_tf();
ALTER TABLE lt_audit ADD COLUMN note text;
ALTER TABLE lt_audit ADD CONSTRAINT lt_audit_pk PRIMARY KEY (id);
ALTER TABLE lt_audit DROP COLUMN note;
ALTER TABLE lt_audit RENAME TO lt_audit_log;
DROP VIEW lt_v;
$$);
-- the same made re-runnable: clean
SELECT * FROM lint_types($$-- @idempotent: true
CREATE TABLE IF NOT EXISTS lt_audit (id bigint);
CREATE INDEX IF NOT EXISTS lt_audit_id ON lt_audit (id);
CREATE SEQUENCE IF NOT EXISTS lt_audit_seq;
CREATE SCHEMA IF NOT EXISTS lt_schema;
CREATE OR REPLACE FUNCTION lt_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE OR REPLACE VIEW lt_v AS SELECT 1 AS one;
ALTER TYPE lt_mood ADD VALUE IF NOT EXISTS 'happy';
CREATE OR REPLACE TRIGGER lt_audit_t BEFORE INSERT ON lt_audit FOR EACH ROW EXECUTE FUNCTION lt_tf();
ALTER TABLE lt_audit ADD COLUMN IF NOT EXISTS note text;
ALTER TABLE lt_audit DROP COLUMN IF EXISTS note, ALTER COLUMN id SET NOT NULL;
ALTER TABLE lt_audit DROP CONSTRAINT IF EXISTS lt_audit_pk;
DROP VIEW IF EXISTS lt_v;
COMMENT ON TABLE lt_audit IS 'audit';
INSERT INTO lt_audit VALUES (1);
$$);
-- without the claim, or with @idempotent: false, nothing is asked
SELECT * FROM lint_types($$CREATE TABLE lt_audit (id bigint);$$);
SELECT * FROM lint_types($$-- @idempotent: false
CREATE TABLE lt_audit (id bigint);$$);

-- ---------------------------------------------------------------------------
-- identifier-truncated: longer than 63 bytes, from the token text (the
-- parse tree holds the truncated name); quoted, with "" in it, multibyte;
-- each name once per statement
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$
CREATE TABLE lt_t (customer_billing_address_verification_status_last_changed_by_user_id bigint);
CREATE INDEX idx_order_line_items_on_customer_id_and_warehouse_id_and_created_at_x
    ON lt_t (customer_billing_address_verification_status_last_changed_by_user_id);
ALTER TABLE lt_t ADD COLUMN "Quoted ""Name"" That Is Far Too Long For PostgreSQL To Keep It Whole" int;
ALTER TABLE lt_t ADD COLUMN ééééééééééééééééééééééééééééééééé int;
$$);
-- clean: exactly 63 bytes (also quoted, and 31 two-byte characters and
-- one more byte); long string literals and function bodies are no
-- identifiers
SELECT * FROM lint_types($$
CREATE TABLE lt_t (abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefgh bigint);
ALTER TABLE lt_t ADD COLUMN "ABCDEFGHIJ_ABCDEFGHIJ_ABCDEFGHIJ_ABCDEFGHIJ_ABCDEFGHIJ_ABCDEFGH" int;
ALTER TABLE lt_t ADD COLUMN éééééééééééééééééééééééééééééééx int;
COMMENT ON TABLE lt_t IS 'a comment that is much longer than sixty-three bytes, which is fine for a string';
COMMENT ON COLUMN lt_t.x IS E'an_escaped_string_without_spaces_that_is_much_longer_than_sixty_three_bytes';
CREATE FUNCTION lt_g() RETURNS int LANGUAGE sql AS $f$ SELECT 1 AS a_column_alias_that_is_longer_than_sixty_three_bytes_in_a_function_body $f$;
$$);

-- ---------------------------------------------------------------------------
-- foreign-key-without-index
-- ---------------------------------------------------------------------------
CREATE TABLE lt_customer (id bigint PRIMARY KEY);
CREATE TABLE lt_order (id bigint PRIMARY KEY, customer_id bigint, region_id bigint,
                       warehouse_id bigint, note text);
CREATE INDEX lt_order_customer ON lt_order (customer_id, id);
CREATE INDEX lt_order_region_partial ON lt_order (region_id) WHERE note IS NULL;
CREATE INDEX lt_order_expression ON lt_order (lower(note), warehouse_id);
-- a table created by the script: its own indexes decide; a PRIMARY KEY
-- or UNIQUE constraint leads with its columns; an index created later
-- counts; columns in any order; (b) is not served by an index on (a, b)
SELECT * FROM lint_types($$
CREATE TABLE lt_line (order_id bigint REFERENCES lt_order (id), product_id bigint, seller_id bigint,
                      kind text, PRIMARY KEY (product_id, seller_id),
                      FOREIGN KEY (seller_id) REFERENCES lt_seller (id),
                      FOREIGN KEY (product_id) REFERENCES lt_product (id));
CREATE TABLE lt_pair (a bigint, b bigint, c bigint, FOREIGN KEY (a, b) REFERENCES lt_ab (a, b),
                      FOREIGN KEY (c) REFERENCES lt_c (id) );
CREATE INDEX lt_pair_ba ON lt_pair (b, a, c);
CREATE TABLE lt_unique (x bigint UNIQUE REFERENCES lt_x (id));
$$);
-- an existing table: the catalog's valid, complete indexes decide, or an
-- index the script creates before or after; a partial index or an index
-- whose first column is an expression does not count
SELECT * FROM lint_types($$
ALTER TABLE lt_order ADD FOREIGN KEY (customer_id) REFERENCES lt_customer (id) NOT VALID;
ALTER TABLE lt_order ADD CONSTRAINT lt_order_region FOREIGN KEY (region_id) REFERENCES lt_region (id) NOT VALID;
ALTER TABLE lt_order ADD CONSTRAINT lt_order_warehouse FOREIGN KEY (warehouse_id) REFERENCES lt_warehouse (id) NOT VALID;
ALTER TABLE lt_order ADD COLUMN seller_id bigint REFERENCES lt_seller (id);
$$);
SELECT * FROM lint_types($$
ALTER TABLE lt_order ADD CONSTRAINT lt_order_region FOREIGN KEY (region_id) REFERENCES lt_region (id) NOT VALID;
CREATE INDEX lt_order_region ON lt_order (region_id);
$$);
SELECT * FROM lint_types($$
CREATE INDEX lt_order_warehouse ON lt_order (warehouse_id, customer_id);
ALTER TABLE lt_order ADD CONSTRAINT lt_order_warehouse FOREIGN KEY (warehouse_id) REFERENCES lt_warehouse (id) NOT VALID;
$$);
-- the same key on a table that does not exist: the catalog cannot tell,
-- so the rule is silent
SELECT * FROM lint_types($$
ALTER TABLE lt_nowhere ADD FOREIGN KEY (customer_id) REFERENCES lt_customer (id);
$$);
-- suppressed before the statement: no finding, and the suppression is used
SELECT * FROM lint_types($$
CREATE TABLE lt_note (id bigint PRIMARY KEY);
-- @lint-ignore: foreign-key-without-index
ALTER TABLE lt_note ADD COLUMN order_id bigint REFERENCES lt_order (id);
$$);
-- (that reading the catalog's indexes waits for no lock:
-- test/isolation/specs/lint-no-wait.spec)

-- ---------------------------------------------------------------------------
-- the rules of this module in one script, suppressed in the header and
-- before a statement, with line numbers
-- ---------------------------------------------------------------------------
SELECT * FROM lint_types($$-- Description: everything at once
-- @lint-ignore: prefer-text-field
CREATE TABLE lt_mix (id serial PRIMARY KEY, name varchar(20), at timestamp);

-- @lint-ignore: prefer-timestamptz, ban-char-field
ALTER TABLE lt_mix ADD COLUMN seen timestamp;
$$);

DROP TABLE lt_order, lt_customer;
DROP DOMAIN lt_existing_percent;
DROP FUNCTION lint_types(text);
DROP FUNCTION lint_types_rules();
