-- Every lint rule proves itself: for each row of migrate.lint_rules, its
-- bad example, linted, reports the rule, and its safe rewrite does not
-- (other rules may report on either: only the rule's own id counts).  The
-- examples are what doc/lint.md shows, so this keeps the documentation
-- honest.  The last query lists the rules that fail; its expected result
-- is empty.
--
-- The examples are linted in a database that holds a populated table
-- public.orders (so that lock and rewrite rules see an existing table
-- that is not empty) and, where environments have the settings, in an
-- environment whose large-table threshold (lint_large_table) is one byte,
-- so that large-table sees orders as large, and that requires timeouts
-- (lint_require_timeouts), so that require-timeout-settings is on.  The
-- examples of rules that only the catalog decides name public.orders.
CREATE TABLE public.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    status text NOT NULL DEFAULT 'new',
    total numeric(12, 2),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO public.orders (customer_id, total)
SELECT g % 100, g FROM generate_series(1, 1000) g;
ANALYZE public.orders;

BEGIN;
-- the environment of the examples, where the server has the columns:
-- a large-table threshold of one byte, timeouts required; silent either way
DO $$
DECLARE
    cols text := '';
    vals text := '';
BEGIN
    IF EXISTS (SELECT FROM pg_attribute
               WHERE attrelid = 'migrate.environment_setting'::regclass
                 AND attname = 'lint_large_table' AND NOT attisdropped) THEN
        cols := cols || ', lint_large_table';
        vals := vals || ', 1';
    END IF;
    IF EXISTS (SELECT FROM pg_attribute
               WHERE attrelid = 'migrate.environment_setting'::regclass
                 AND attname = 'lint_require_timeouts' AND NOT attisdropped) THEN
        cols := cols || ', lint_require_timeouts';
        vals := vals || ', true';
    END IF;
    IF cols <> '' THEN
        EXECUTE format('INSERT INTO migrate.environment_setting (environment%s) VALUES (%L%s)',
                       cols, 'lint_rules_test', vals);
        PERFORM set_config('migrate.environment', 'lint_rules_test', true);
    END IF;
EXCEPTION WHEN OTHERS THEN
    NULL;
END
$$;

-- what migrate.lint() says of a script about one rule: reports, silent,
-- empty (no example), or why it could not lint it
CREATE FUNCTION pg_temp.rule_verdict(script text, rule_id text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(btrim(script), '') = '' THEN
        RETURN 'empty';
    END IF;
    IF EXISTS (SELECT FROM migrate.lint(script) l WHERE l.rule = rule_id) THEN
        RETURN 'reports';
    END IF;
    RETURN 'silent';
EXCEPTION WHEN OTHERS THEN
    RETURN 'does not lint: ' || SQLERRM;
END
$$;

-- the rules are there, once each, with a known severity and their texts
SELECT count(*) >= 34 AS all_rules, count(DISTINCT id) = count(*) AS unique_ids
FROM migrate.lint_rules;
SELECT id, severity, category
FROM migrate.lint_rules
WHERE severity NOT IN ('error', 'warning', 'info')
   OR id !~ '^[a-z]+(-[a-z]+)*$'
   OR coalesce(btrim(summary), '') = '' OR coalesce(btrim(hint), '') = ''
   OR coalesce(btrim(category), '') = ''
ORDER BY id;

-- the failing rules: none (identifier-truncated's examples make the
-- parser say that it truncates: not what this test is about)
SET client_min_messages = warning;
SELECT v.id, v.bad, v.safe
FROM (SELECT r.id,
             pg_temp.rule_verdict(r.bad_example, r.id) AS bad,
             pg_temp.rule_verdict(r.safe_example, r.id) AS safe
      FROM migrate.lint_rules r) v
WHERE v.bad <> 'reports' OR v.safe <> 'silent'
ORDER BY v.id;
ROLLBACK;

DROP TABLE public.orders;
RESET client_min_messages;
