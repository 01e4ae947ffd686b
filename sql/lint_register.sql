-- Lint findings at registration, their display, and blocking rules (issue
-- 12, wp12-5): register() lints the up script and stores the findings
-- (migrate.lint_finding, read through migrate.lint_findings) and the
-- derived risk; migrate.status counts the findings, status_detail shows
-- the derived risk and down_generated; an environment's lint_blocking
-- makes apply(), deploy() and the worker path refuse a migration with a
-- finding of a listed rule (MG017) unless forced, and plan() says so.
--
-- The findings here are those of rule unused-suppression (model/lint.c),
-- which reports from the text alone, and every other statement is one no
-- rule reports on, so that the expected output does not depend on the
-- rule modules of the other packages.
\set VERBOSITY default
SET migrate.progress_level = 'debug1';  -- no per-migration NOTICEs

-- the SQLSTATE, message, detail and hint of a statement's error
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message
        || coalesce(E'\nDETAIL: ' || nullif(detail, ''), '')
        || coalesce(E'\nHINT: ' || nullif(hint, ''), '');
END
$$;

-- ---------------------------------------------------------------------------
-- findings stored at registration
-- ---------------------------------------------------------------------------
-- l1: a header suppression that suppresses nothing (statement 0, the
-- migration as a whole) and one before statement 2 that names no rule
SELECT migrate.register('l1', 'suppressions', $$-- @lint-ignore: ban-drop-table
CREATE TABLE lr_a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
-- @lint-ignore: no-such-rule
SELECT 1;
$$, 'DROP TABLE lr_a;');
-- l2: clean
SELECT migrate.register('l2', 'clean', 'CREATE TABLE lr_clean (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);',
                        'DROP TABLE lr_clean;');

SELECT version, name, ordinal, rule, severity, statement, line, message, blocks
FROM migrate.lint_findings;
SELECT DISTINCT hint FROM migrate.lint_findings;
SELECT version, state, findings FROM migrate.status;
-- derived from the findings (model/risk.c): a warning is medium; no
-- finding and no lock on an existing table is low
SELECT version, risk_level, derived_risk, cardinality(risk_reasons) > 0 AS has_reasons,
       down_generated
FROM migrate.status_detail;

-- identical content again: unchanged, the findings stay
SELECT migrate.register('l1', 'suppressions', $$-- @lint-ignore: ban-drop-table
CREATE TABLE lr_a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
-- @lint-ignore: no-such-rule
SELECT 1;
$$, 'DROP TABLE lr_a;');
SELECT version, ordinal, rule, statement FROM migrate.lint_findings;

-- new content replaces them: one finding left, numbered from 1 again
SELECT migrate.register('l1', 'suppressions', $$CREATE TABLE lr_a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
-- @lint-ignore: no-such-rule
SELECT 1;
$$, 'DROP TABLE lr_a;');
SELECT version, ordinal, rule, statement, line, message FROM migrate.lint_findings;
SELECT version, findings FROM migrate.status WHERE version = 'l1';

-- a clean script clears them, and the derived risk with them
SELECT migrate.register('l3', 'fixed later', E'-- @lint-ignore: ban-drop-table\nSELECT 1;', 'SELECT 1;');
SELECT version, findings FROM migrate.status WHERE version = 'l3';
SELECT migrate.register('l3', 'fixed later', 'SELECT 1;', 'SELECT 1;');
SELECT version, findings FROM migrate.status WHERE version = 'l3';
SELECT version, derived_risk, risk_reasons FROM migrate.status_detail WHERE version = 'l3';

-- repair() with a new up script lints it again
SELECT migrate.repair('l3', up => E'-- @lint-ignore: ban-drop-table\nSELECT 2;');
SELECT version, findings FROM migrate.status WHERE version = 'l3';
SELECT migrate.repair('l3', up => 'SELECT 1;');
SELECT version, findings FROM migrate.status WHERE version = 'l3';

-- the summary counts each severity as migrate_lint_summary() does: rows
-- written here by hand stand for findings of the other rule modules
INSERT INTO migrate.lint_finding (version, ordinal, rule, severity, statement, line, message, hint)
VALUES ('l2', 1, 'ban-drop-database', 'error', 1, 1, 'by hand', NULL),
       ('l2', 2, 'ban-drop-column', 'warning', 1, 1, 'by hand', NULL),
       ('l2', 3, 'ban-drop-table', 'warning', 1, 1, 'by hand', NULL),
       ('l2', 4, 'prefer-text-field', 'info', 1, 1, 'by hand', NULL);
SELECT version, findings FROM migrate.status WHERE version = 'l2';
DELETE FROM migrate.lint_finding WHERE version = 'l2' AND ordinal > 2;
SELECT version, findings FROM migrate.status WHERE version = 'l2';
DELETE FROM migrate.lint_finding WHERE version = 'l2';
SELECT version, findings FROM migrate.status WHERE version = 'l2';

-- the table keeps its rows honest
SELECT pg_temp.try($$INSERT INTO migrate.lint_finding VALUES ('nope', 1, 'r', 'error', 1, 1, 'm', NULL)$$);
SELECT pg_temp.try($$INSERT INTO migrate.lint_finding VALUES ('l2', 1, 'r', 'fatal', 1, 1, 'm', NULL)$$);

-- ---------------------------------------------------------------------------
-- configure(): lint_blocking, lint_large_table, lint_require_timeouts
-- ---------------------------------------------------------------------------
-- the rows the extension creates
SELECT environment, lint_blocking, lint_large_table, lint_require_timeouts
FROM migrate.environment_setting ORDER BY environment;

SELECT environment, lint_blocking, lint_large_table, lint_require_timeouts
FROM migrate.configure('lr_env', lint_blocking => '{unused-suppression}',
                       lint_large_table => 1048576, lint_require_timeouts => true);
SELECT detail FROM migrate.history WHERE action = 'configure' ORDER BY id DESC LIMIT 1;

-- refused, and nothing changes
SELECT pg_temp.try($$SELECT migrate.configure('lr_env', lint_blocking => '{unused-suppression, no-such-rule, ban-everything}')$$);
SELECT pg_temp.try($$SELECT migrate.configure('lr_env', lint_blocking => '{unused-suppression, NULL}')$$);
SELECT pg_temp.try($$SELECT migrate.configure('lr_env', lint_large_table => -1)$$);
SELECT pg_temp.try($$SELECT migrate.configure('lr_env', lint_blocking => '{}', reset => '{lint_blocking}')$$);
SELECT pg_temp.try($$SELECT migrate.configure('lr_env', reset => '{lint_blockers}')$$);
SELECT environment, lint_blocking, lint_large_table, lint_require_timeouts
FROM migrate.environment_setting WHERE environment = 'lr_env';

-- a new environment's rule check runs once its row exists, so that
-- migrate.lint_rules may read it even when the session is in it already
SET migrate.environment = 'lr_new';
SELECT environment, lint_blocking FROM migrate.configure('lr_new', lint_blocking => '{ban-drop-database}');
SELECT id, blocks_apply FROM migrate.lint_rules WHERE id IN ('ban-drop-database', 'ban-drop-table') ORDER BY id;
SELECT environment, lint_blocking, lint_large_table, lint_require_timeouts
FROM migrate.configure('lr_new', reset => '{lint_blocking, lint_large_table, lint_require_timeouts}');

-- effective_settings: the environment's values; without one, nothing
-- blocks and the threshold is the default
SET migrate.environment = 'lr_env';
SELECT environment, lint_blocking, lint_large_table, lint_require_timeouts FROM migrate.effective_settings;
RESET migrate.environment;
SELECT environment, lint_blocking, lint_large_table, lint_require_timeouts FROM migrate.effective_settings;

-- ---------------------------------------------------------------------------
-- the gate (MG017)
-- ---------------------------------------------------------------------------
SET migrate.environment = 'lr_env';
SELECT version, rule, blocks FROM migrate.lint_findings;
SELECT ordinal, version, action, reason FROM migrate.plan();

-- refused whole: nothing runs, l1 and l2 stay pending
SELECT pg_temp.try($$SELECT * FROM migrate.apply()$$);
SELECT pg_temp.try($$SELECT * FROM migrate.apply(dry_run => true)$$);
CALL migrate.deploy();
SELECT version, state FROM migrate.status;

-- an approval does not open it
SELECT version FROM migrate.approve('l1');
SELECT pg_temp.try($$SELECT * FROM migrate.apply()$$);

-- force does, and the history says so for l1 only
SELECT version, action, state FROM migrate.apply(force => true);
SELECT version, action, detail -> 'forced' AS forced FROM migrate.history
WHERE action = 'apply' ORDER BY id;

-- reverting is not gated
SELECT version, action, state FROM migrate.revert_all();

-- the worker path (a plan with a non-transactional migration): refused
-- the same way, naming the first gated migration; forced, the worker's
-- history rows record it
SELECT migrate.register('l4', 'concurrently', $$-- @lint-ignore: no-such-rule
CREATE INDEX CONCURRENTLY lr_a_id ON lr_a (id);
$$, 'DROP INDEX CONCURRENTLY lr_a_id;');
SELECT version, transactional FROM migrate.status_detail WHERE version = 'l4';
SELECT pg_temp.try($$SELECT * FROM migrate.apply()$$);
SELECT version, action, state FROM migrate.apply(force => true);
SELECT version, action, detail -> 'forced' AS forced FROM migrate.history
WHERE action = 'apply' ORDER BY id DESC LIMIT 4;

-- fixed and registered again (reverted, so new content is accepted): no
-- finding, no gate
SELECT version, action, state FROM migrate.revert(target => 'l3');
SELECT migrate.register('l4', 'concurrently', 'CREATE INDEX CONCURRENTLY lr_a_id ON lr_a (id);',
                        'DROP INDEX CONCURRENTLY lr_a_id;');
SELECT version, findings FROM migrate.status WHERE version = 'l4';
SELECT ordinal, version, action FROM migrate.plan();
SELECT version, action, state FROM migrate.apply();

-- no environment: nothing blocks
SELECT migrate.register('l5', 'unblocked', E'-- @lint-ignore: no-such-rule\nSELECT 5;');
RESET migrate.environment;
SELECT version, findings FROM migrate.status WHERE version = 'l5';
SELECT version, action, state FROM migrate.apply();
SELECT version, action, detail -> 'forced' AS forced FROM migrate.history
WHERE action = 'apply' ORDER BY id DESC LIMIT 1;

RESET migrate.environment;
DROP EXTENSION migrate;
DROP TABLE lr_a, lr_clean;
CREATE EXTENSION migrate;

-- "@lint-ignore: unused-suppression" silences the unused suppressions of
-- its scope, and is not itself reported as unused: no finding here
SELECT rule, statement, message FROM migrate.lint($$-- @lint-ignore: unused-suppression, ban-drop-table
CREATE TABLE lr_quiet (id bigint);
$$);
