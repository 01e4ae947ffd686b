-- lint rules of lint_size.c: large-table (a lock that blocks writes held
-- while a table of at least the environment's lint_large_table, 100 MB
-- without an environment, is scanned, rewritten or indexed) and
-- risk-understated (the declared @risk-level is below the derived one)
SET client_min_messages = warning;
-- a table just above 100 MB that costs little to fill: fillfactor 10
-- leaves one 1 kB row per 8 kB page
CREATE TABLE ls_big (id int, pad text) WITH (fillfactor = 10);
INSERT INTO ls_big SELECT g, repeat('x', 1000) FROM generate_series(1, 12900) g;
CREATE TABLE ls_small (id int, note text);
INSERT INTO ls_small VALUES (1, 'a');
CREATE TABLE ls_empty (id int);
RESET client_min_messages;
SELECT pg_total_relation_size('ls_big') >= 100 * 1024 * 1024 AS big_enough;

-- large-table: hits (rewrite, scan, index build on the big table)
SELECT rule, severity, statement, line, message FROM migrate.lint($$
ALTER TABLE ls_big ALTER COLUMN id TYPE bigint USING id::bigint;
ALTER TABLE ls_big ALTER COLUMN id SET NOT NULL;
CREATE INDEX ls_big_id ON ls_big (id);
$$) WHERE rule = 'large-table';
-- large-table: clean (CONCURRENTLY blocks no writes; catalog-only changes;
-- a small table; an empty one; one created by the script; an unknown one)
SELECT rule, statement FROM migrate.lint($$
CREATE INDEX CONCURRENTLY ls_big_id ON ls_big (id);
$$) WHERE rule = 'large-table';
SELECT rule, statement FROM migrate.lint($$
ALTER TABLE ls_big ADD COLUMN note text;
COMMENT ON TABLE ls_big IS 'big';
ALTER TABLE ls_small ALTER COLUMN id TYPE bigint USING id::bigint;
CREATE INDEX ls_empty_id ON ls_empty (id);
CREATE TABLE ls_new (id int);
CREATE INDEX ls_new_id ON ls_new (id);
ALTER TABLE ls_nosuch ALTER COLUMN id TYPE bigint USING id::bigint;
$$) WHERE rule = 'large-table';
-- suppressed before the statement
SELECT rule, statement FROM migrate.lint($$
-- @lint-ignore: large-table
CREATE INDEX ls_big_id ON ls_big (id);
$$) WHERE rule IN ('large-table', 'unused-suppression');

-- risk-understated: hits (declared low, derived medium from a lock on an
-- existing table; declared medium, derived high from the large table)
SELECT rule, statement, line, regexp_replace(message, 'risk is (\w+) .*', 'risk is \1') AS message, hint
FROM migrate.lint($$-- @risk-level: low
ALTER TABLE ls_small ALTER COLUMN id TYPE bigint USING id::bigint;
$$) WHERE rule = 'risk-understated';
SELECT rule, statement, regexp_replace(message, 'risk is (\w+) .*', 'risk is \1') AS message
FROM migrate.lint($$-- @risk-level: medium
CREATE INDEX ls_big_id ON ls_big (id);
$$) WHERE rule = 'risk-understated';
-- the reason names the statement, the relation, its size and the lock
SELECT position('statement 1: rewrites public.ls_small' IN message) > 0 AS names_it,
       position('under ACCESS EXCLUSIVE' IN message) > 0 AS names_lock
FROM migrate.lint($$-- @risk-level: low
ALTER TABLE ls_small ALTER COLUMN id TYPE bigint USING id::bigint;
$$) WHERE rule = 'risk-understated';
-- risk-understated: clean (declared at or above the derived level; no
-- declaration; a new table only)
SELECT rule FROM migrate.lint($$-- @risk-level: medium
ALTER TABLE ls_small ALTER COLUMN id TYPE bigint USING id::bigint;
$$) WHERE rule = 'risk-understated';
SELECT rule FROM migrate.lint($$-- @risk-level: high
CREATE INDEX ls_big_id ON ls_big (id);
$$) WHERE rule = 'risk-understated';
SELECT rule FROM migrate.lint($$
ALTER TABLE ls_small ALTER COLUMN id TYPE bigint USING id::bigint;
$$) WHERE rule = 'risk-understated';
SELECT rule FROM migrate.lint($$-- @risk-level: low
CREATE TABLE ls_new (id bigint);
CREATE INDEX ls_new_id ON ls_new (id);
$$) WHERE rule = 'risk-understated';
-- suppressed in the header
SELECT rule FROM migrate.lint($$-- @risk-level: low
-- @lint-ignore: risk-understated
ALTER TABLE ls_small ALTER COLUMN id TYPE bigint USING id::bigint;
$$) WHERE rule IN ('risk-understated', 'unused-suppression');

-- analyze() and plan() weigh the big table the same way: high
SELECT relation, lock_mode, effect, relation_size
FROM migrate.analyze('CREATE INDEX ls_big_id ON ls_big (id);');
SELECT migrate.register('ls1', 'index the big table', $$-- @risk-level: medium
CREATE INDEX ls_big_id ON ls_big (id);
$$);
SELECT version, derived_risk,
       array(SELECT r FROM unnest(risk_reasons) r WHERE r !~ '^statement \d+: \w+ finding ') AS reasons, locks
FROM migrate.plan();
SELECT f LIKE 'warning large-table (statement 1, line 2): builds an index on public.ls_big (101 MB, at least the large-table threshold of 100 MB) under SHARE%' AS large_table,
       count(*) OVER () AS own
FROM migrate.plan() p, unnest(p.findings) f
WHERE f LIKE '% large-table %';

-- the rule table: both rules, with their examples
SELECT id, severity, category, catalog, bad_example <> '' AS has_bad, safe_example <> '' AS has_safe
FROM migrate.lint_rules WHERE id IN ('large-table', 'risk-understated') ORDER BY id;

DROP EXTENSION migrate;
CREATE EXTENSION migrate;
DROP TABLE ls_big, ls_small, ls_empty;
