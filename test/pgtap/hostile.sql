-- test/pgtap/hostile.sql: roles that try what they may not.
--
-- privileges.sql checks the grants and what each role may do; this file
-- plays the attacker and checks that each attempt is refused with the
-- documented SQLSTATE (42501 unless said otherwise), and that nothing of
-- it survives.  It adds what privileges.sql does not try:
--   nobody    no migrate privilege at all: the scheduler and repair
--             functions, the catalog tables (script text, history);
--   app       migrate_reader: statement text through status, history and
--             progress (other databases' progress: progress_visibility.sh);
--   all       signalling migrate's launcher and schedulers (the apply
--             worker, which needs a committed run, is tried in
--             test/scenario/progress_visibility.sh); writing, deleting or
--             truncating history; creating objects in schema migrate
--             (shadowing its functions or operators);
--   dep       migrate_admin: a precondition that plan() evaluates for a
--             superuser runs with dep's rights, never the superuser's
--             (issue 7, finding 4), and plan() does not run a
--             precondition whose registrant's rights its caller lacks.
--
-- The roles and everything else are created inside the test transaction
-- and rolled back with it.  Error objects are written into the catalog
-- directly by the superuser (what a failed apply records), so that the
-- file needs no background worker and no committed failure.
--
-- Run with: pg_prove --ext .sql -v test/pgtap/

\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS migrate;
RESET client_min_messages;

BEGIN;
SELECT plan(100);

SET LOCAL migrate.progress_level = 'debug1';
SELECT set_config('tap.superuser', current_user, true) IS NOT NULL AS superuser_noted \gset

CREATE ROLE hostile_nobody LOGIN;
CREATE ROLE hostile_app LOGIN;
GRANT migrate_reader TO hostile_app;
CREATE ROLE hostile_dep LOGIN;
GRANT migrate_admin TO hostile_dep;
CREATE SCHEMA hostile_schema;
GRANT USAGE, CREATE ON SCHEMA hostile_schema TO hostile_dep;
GRANT USAGE ON SCHEMA hostile_schema TO hostile_app, hostile_nobody;
-- counts every run of a precondition that must not run; nextval() is not
-- undone by a rollback
CREATE SEQUENCE hostile_schema.ran;
CREATE SEQUENCE hostile_schema.ran_orphan;
GRANT USAGE ON SEQUENCE hostile_schema.ran, hostile_schema.ran_orphan TO PUBLIC;

-- the pids of migrate's own background processes, if the library is
-- preloaded ('' otherwise): the launcher, and a scheduler of any database
SELECT set_config('tap.launcher',
                  coalesce((SELECT launcher_pid::text FROM migrate.scheduler_info()), ''),
                  true) IS NOT NULL AS launcher_noted \gset
SELECT set_config('tap.scheduler',
                  coalesce((SELECT pid::text FROM pg_stat_activity
                            WHERE backend_type = 'migrate scheduler' LIMIT 1), ''),
                  true) IS NOT NULL AS scheduler_noted \gset

-- ---------------------------------------------------------------------------
-- a migration that failed, as apply() records it: status and history carry
-- the statement text, the DETAIL and the cleanup command of an index
-- ---------------------------------------------------------------------------
SELECT is(migrate.register('tap-host-9', 'failed_once', 'SELECT 1;'), 'registered',
          'the superuser registers tap-host-9');
SELECT '{"sqlstate": "42703", "message": "column \"secret_col\" does not exist",
         "detail": "Check: SELECT secret_col FROM payroll",
         "hint": "Perhaps you meant to reference the column \"payroll.col\".",
         "script": "up", "statement": 2, "line": 7,
         "statement_text": "CREATE INDEX CONCURRENTLY payroll_secret ON payroll (secret_col)",
         "invalid_indexes": [{"index": "public.payroll_secret", "dropped": true,
                              "command": "DROP INDEX CONCURRENTLY IF EXISTS public.payroll_secret;"}]}'
       AS failure \gset
UPDATE migrate.migration SET state = 'failed', last_error = :'failure'::jsonb
WHERE version = 'tap-host-9';
INSERT INTO migrate.event (action, version, name, outcome, role, started_at, error)
VALUES ('apply', 'tap-host-9', 'failed_once', 'failure', current_user, now(), :'failure'::jsonb);
-- a migration skipped by its precondition: history quotes the check
SELECT is(migrate.register('tap-host-2', 'skipped_once', 'SELECT 2;', NULL, NULL,
                           'SELECT count(*) = 42 FROM pg_catalog.pg_class WHERE relname = ''payroll'';',
                           'skip'),
          'registered', 'the superuser registers tap-host-2 with a precondition in skip mode');
SELECT results_eq($$SELECT version, state FROM migrate.apply('tap-host-2')$$,
                  $$VALUES ('tap-host-2', 'skipped')$$,
                  'applying tap-host-2 skips it: its precondition does not hold');

-- what migrate_admin sees: everything
SET ROLE hostile_dep;
SELECT is((SELECT last_error->>'statement_text' FROM migrate.status_detail WHERE version = 'tap-host-9'),
          'CREATE INDEX CONCURRENTLY payroll_secret ON payroll (secret_col)',
          'migrate_admin reads the failing statement in status.last_error');
SELECT is((SELECT error->>'detail' FROM migrate.history
           WHERE version = 'tap-host-9' AND outcome = 'failure'),
          'Check: SELECT secret_col FROM payroll',
          'migrate_admin reads the DETAIL in history.error');
SELECT is((SELECT detail->>'statement' FROM migrate.history
           WHERE version = 'tap-host-2' AND outcome = 'skipped'),
          'SELECT count(*) = 42 FROM pg_catalog.pg_class WHERE relname = ''payroll''',
          'migrate_admin reads the check that skipped tap-host-2 in history.detail');
RESET ROLE;

-- what an application role sees: versions, states, SQLSTATEs, messages
SET ROLE hostile_app;
SELECT is((SELECT last_error FROM migrate.status_detail WHERE version = 'tap-host-9'),
          '{"sqlstate": "42703", "message": "column \"secret_col\" does not exist",
            "hint": "Perhaps you meant to reference the column \"payroll.col\".",
            "script": "up", "statement": 2, "line": 7,
            "invalid_indexes": [{"index": "public.payroll_secret", "dropped": true}]}'::jsonb,
          'migrate_reader reads status.last_error without statement_text, detail or cleanup command');
SELECT is((SELECT error FROM migrate.history WHERE version = 'tap-host-9' AND outcome = 'failure'),
          (SELECT last_error FROM migrate.status_detail WHERE version = 'tap-host-9'),
          'migrate_reader reads the same reduced object in history.error');
SELECT is((SELECT detail FROM migrate.history WHERE version = 'tap-host-2' AND outcome = 'skipped'),
          '{"reason": "precondition does not hold"}'::jsonb,
          'migrate_reader reads the skip reason in history.detail, without the check');
SELECT is((SELECT state FROM migrate.status WHERE version = 'tap-host-9'), 'failed',
          'migrate_reader still reads the state');
SELECT is((SELECT count(*) FROM migrate.history
           WHERE error::text LIKE '%secret_col)%' OR detail::text LIKE '%relname%'), 0::bigint,
          'no history row shows migrate_reader any statement text');
SELECT throws_ok($$SELECT up_script FROM migrate.migration WHERE version = 'tap-host-9'$$,
                 '42501', 'permission denied for table migration',
                 'migrate_reader cannot read the script itself either');
SELECT throws_ok($$SELECT last_error FROM migrate.migration$$,
                 '42501', 'permission denied for table migration',
                 'migrate_reader cannot read the unreduced last_error from the table');
SELECT throws_ok($$SELECT error FROM migrate.event$$,
                 '42501', 'permission denied for table event',
                 'migrate_reader cannot read the unreduced error from the table');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- live progress: statement text only for migrate_admin (in its own
-- database).  A migration reads migrate.progress about itself through
-- SECURITY DEFINER functions owned by hostile_app and hostile_dep.
-- ---------------------------------------------------------------------------
CREATE TABLE hostile_schema.peeks (who text, statement_text text, rows_seen bigint);
CREATE FUNCTION hostile_schema.peek_as_app() RETURNS TABLE (statement_text text, rows_seen bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$SELECT max(statement_text), count(*) FROM migrate.progress WHERE pid = pg_backend_pid()$$;
ALTER FUNCTION hostile_schema.peek_as_app() OWNER TO hostile_app;
CREATE FUNCTION hostile_schema.peek_as_dep() RETURNS TABLE (statement_text text, rows_seen bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$SELECT max(statement_text), count(*) FROM migrate.progress WHERE pid = pg_backend_pid()$$;
ALTER FUNCTION hostile_schema.peek_as_dep() OWNER TO hostile_dep;
CREATE FUNCTION hostile_schema.slots_as_app() RETURNS TABLE (statement_text text, rows_seen bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$SELECT max(statement_text), count(*) FROM migrate.progress_slots() WHERE pid = pg_backend_pid()$$;
ALTER FUNCTION hostile_schema.slots_as_app() OWNER TO hostile_app;
SELECT is(migrate.register('tap-host-3', 'peeking',
                           $$INSERT INTO hostile_schema.peeks SELECT 'app', * FROM hostile_schema.peek_as_app();
                             INSERT INTO hostile_schema.peeks SELECT 'slots', * FROM hostile_schema.slots_as_app();
                             INSERT INTO hostile_schema.peeks SELECT 'dep', * FROM hostile_schema.peek_as_dep();$$),
          'registered', 'the superuser registers tap-host-3, which reads its own progress');
SELECT results_eq($$SELECT version, state FROM migrate.apply('tap-host-3') WHERE version = 'tap-host-3'$$,
                  $$VALUES ('tap-host-3', 'applied')$$,
                  'the superuser applies tap-host-3');
SELECT CASE WHEN (SELECT preloaded FROM migrate.scheduler_info())
    THEN results_eq($$SELECT who, statement_text IS NULL, rows_seen FROM hostile_schema.peeks ORDER BY who$$,
                    $$VALUES ('app', true, 1::bigint), ('dep', false, 1::bigint), ('slots', true, 1::bigint)$$,
                    'migrate.progress shows the running migration to both, its statement text only to migrate_admin')
    ELSE skip('migrate is not preloaded: no progress is recorded', 1) END;
SELECT CASE WHEN (SELECT preloaded FROM migrate.scheduler_info())
    THEN matches((SELECT statement_text FROM hostile_schema.peeks WHERE who = 'dep'),
                 '^INSERT INTO hostile_schema.peeks SELECT ''dep''',
                 'migrate_admin reads the statement running now in its own database')
    ELSE skip('migrate is not preloaded: no progress is recorded', 1) END;

-- ---------------------------------------------------------------------------
-- nobody: the functions privileges.sql does not try as a role without grants
-- ---------------------------------------------------------------------------
SET ROLE hostile_nobody;
SELECT throws_ok(format('SELECT %s', call), '42501', format('permission denied for function %s', f),
                 format('a role without migrate privileges cannot call migrate.%s()', f))
FROM (VALUES (1, 'revert', $$* FROM migrate.revert()$$),
             (2, 'revert_all', $$* FROM migrate.revert_all()$$),
             (3, 'repair', $$migrate.repair('tap-host-9')$$),
             (4, 'resolve', $$migrate.resolve('tap-host-9', 'mark_applied')$$),
             (5, 'schedule', $$migrate.schedule('tap-host', every => '1 minute')$$),
             (6, 'unschedule', $$migrate.unschedule('tap-host')$$),
             (7, 'approve', $$migrate.approve('tap-host-9')$$),
             (8, 'resume', $$migrate.resume()$$),
             (9, 'scheduler_info', $$* FROM migrate.scheduler_info()$$),
             (10, 'error_for_reader', $$migrate.error_for_reader('{}')$$),
             (11, 'tag', $$migrate.tag('hostile', 'tap-host-3')$$),
             (12, 'untag', $$migrate.untag('hostile')$$),
             (13, 'tag_version', $$migrate.tag_version('hostile')$$),
             (14, 'batch_target', $$migrate.batch_target(NULL, 1)$$)) AS v(n, f, call)
ORDER BY n;
SELECT throws_ok($$CALL migrate.deploy(batch_size => 1)$$, '42501', 'permission denied for procedure deploy',
                 'a role without migrate privileges cannot CALL migrate.deploy()');
SELECT throws_ok($$SELECT up_script, down_script, verify_script, precondition_script FROM migrate.migration$$,
                 '42501', 'permission denied for table migration',
                 'a role without migrate privileges cannot read scripts from migrate.migration');
SELECT throws_ok($$SELECT * FROM migrate.schedule$$, '42501', 'permission denied for table schedule',
                 'a role without migrate privileges cannot read migrate.schedule');
RESET ROLE;

-- a reader (not migrate_admin) cannot set, remove or use tags, nor apply in
-- chunks (issue 10); it reads migrate.tags
SELECT is(migrate.tag('tap-host-tag', 'tap-host-3'), 'tap-host-3', 'the superuser tags tap-host-3');
SET ROLE hostile_app;
SELECT throws_ok(format('SELECT %s', call), '42501', format('permission denied for function %s', f),
                 format('migrate_reader cannot call migrate.%s()', f))
FROM (VALUES (1, 'tag', $$migrate.tag('hostile', 'tap-host-3')$$),
             (2, 'untag', $$migrate.untag('tap-host-tag')$$),
             (3, 'tag_version', $$migrate.tag_version('tap-host-tag')$$),
             (4, 'batch_target', $$migrate.batch_target(NULL, 1)$$)) AS v(n, f, call)
ORDER BY n;
SELECT throws_ok($$CALL migrate.deploy(batch_size => 1)$$, '42501', 'permission denied for procedure deploy',
                 'migrate_reader cannot CALL migrate.deploy()');
SELECT throws_ok($$DELETE FROM migrate.tag$$, '42501', 'permission denied for table tag',
                 'migrate_reader cannot delete tags behind untag()''s back');
SELECT results_eq($$SELECT tag, version FROM migrate.tags$$, $$VALUES ('tap-host-tag', 'tap-host-3')$$,
                  'migrate_reader reads migrate.tags');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- every role below the owner, migrate_admin included: history is
-- append-only; migrate's background processes run as the superuser
-- (launcher, schedulers) or as a migration's registrant (workers), so
-- nobody below may stop or interrupt them; and nothing may be put in
-- schema migrate that could shadow its functions, operators or tables.
-- Each attempt is a row here (a NULL statement is skipped: the library is
-- not preloaded, or no scheduler runs), tried once by each role below.
-- ---------------------------------------------------------------------------
CREATE TABLE hostile_schema.attempts (n int, what text, stmt text, message text, why_skipped text);
INSERT INTO hostile_schema.attempts
VALUES (1, 'UPDATE migrate.event', $$UPDATE migrate.event SET outcome = 'success' WHERE version = 'tap-host-9'$$,
        'permission denied for table event', NULL),
       (2, 'DELETE FROM migrate.event', $$DELETE FROM migrate.event WHERE version = 'tap-host-9'$$,
        'permission denied for table event', NULL),
       (3, 'TRUNCATE migrate.event', $$TRUNCATE migrate.event$$,
        'permission denied for table event', NULL),
       (4, 'create a table in schema migrate', $$CREATE TABLE migrate.status_shadow (id int)$$,
        'permission denied for schema migrate', NULL),
       (5, 'create a function in schema migrate',
        $$CREATE FUNCTION migrate.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT pg_catalog.now()'$$,
        'permission denied for schema migrate', NULL),
       (6, 'create an operator in schema migrate',
        $$CREATE OPERATOR migrate.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_catalog.texteq)$$,
        'permission denied for schema migrate', NULL),
       (7, 'terminate the migrate launcher',
        nullif(format('SELECT pg_catalog.pg_terminate_backend(%s)', current_setting('tap.launcher')),
               'SELECT pg_catalog.pg_terminate_backend()'),
        NULL, 'migrate is not preloaded: no launcher'),
       (8, 'cancel the migrate launcher',
        nullif(format('SELECT pg_catalog.pg_cancel_backend(%s)', current_setting('tap.launcher')),
               'SELECT pg_catalog.pg_cancel_backend()'),
        NULL, 'migrate is not preloaded: no launcher'),
       (9, 'terminate a migrate scheduler',
        nullif(format('SELECT pg_catalog.pg_terminate_backend(%s)', current_setting('tap.scheduler')),
               'SELECT pg_catalog.pg_terminate_backend()'),
        NULL, 'no migrate scheduler is running'),
       (10, 'cancel a migrate scheduler',
        nullif(format('SELECT pg_catalog.pg_cancel_backend(%s)', current_setting('tap.scheduler')),
               'SELECT pg_catalog.pg_cancel_backend()'),
        NULL, 'no migrate scheduler is running');
GRANT SELECT ON hostile_schema.attempts TO PUBLIC;

SET ROLE hostile_nobody;
SELECT CASE WHEN stmt IS NULL THEN skip(why_skipped, 1)
            ELSE throws_ok(stmt, '42501', message, format('a role without migrate privileges cannot %s', what))
       END
FROM hostile_schema.attempts ORDER BY n;
RESET ROLE;
SET ROLE hostile_app;
SELECT CASE WHEN stmt IS NULL THEN skip(why_skipped, 1)
            ELSE throws_ok(stmt, '42501', message, format('migrate_reader cannot %s', what))
       END
FROM hostile_schema.attempts ORDER BY n;
RESET ROLE;
SET ROLE hostile_dep;
SELECT CASE WHEN stmt IS NULL THEN skip(why_skipped, 1)
            ELSE throws_ok(stmt, '42501', message, format('migrate_admin cannot %s', what))
       END
FROM hostile_schema.attempts ORDER BY n;
RESET ROLE;

SELECT is((SELECT count(*) FROM migrate.event WHERE version = 'tap-host-9' AND outcome = 'failure'),
          1::bigint, 'the failure row of tap-host-9 is still there');
SELECT CASE WHEN current_setting('tap.launcher') <> ''
    THEN is((SELECT launcher_pid FROM migrate.scheduler_info())::text, current_setting('tap.launcher'),
            'the launcher is still the same process')
    ELSE skip('migrate is not preloaded: no launcher', 1) END;
SELECT CASE WHEN current_setting('tap.scheduler') <> ''
    THEN is((SELECT count(*) FROM pg_stat_activity WHERE pid = nullif(current_setting('tap.scheduler'), '')::int),
            1::bigint, 'the scheduler is still running')
    ELSE skip('no migrate scheduler is running', 1) END;

-- ---------------------------------------------------------------------------
-- plan() evaluates preconditions as their registrant (finding 4): a
-- precondition migrate_admin wrote gets none of the superuser's rights
-- when the superuser looks at the plan, and leaves nothing behind
-- ---------------------------------------------------------------------------
SET ROLE hostile_dep;
SELECT is(migrate.register(v, n, 'SELECT 1;', NULL, NULL, p), 'registered',
          format('migrate_admin registers %s, whose precondition %s', v, what))
FROM (VALUES (1, 'tap-host-10', 'who_am_i',
              $p$DO $do$BEGIN RAISE EXCEPTION 'ran as %', current_user; END$do$;$p$,
              'reports the role it runs as'),
             (2, 'tap-host-11', 'become_superuser', 'ALTER ROLE hostile_dep SUPERUSER;',
              'makes its registrant superuser'),
             (3, 'tap-host-12', 'run_a_program',
              $p$COPY (SELECT 1) TO PROGRAM 'touch /tmp/migrate-hostile-plan-ran';$p$,
              'runs a program on the server'),
             (4, 'tap-host-13', 'switch_role', format('SET ROLE %I;', current_setting('tap.superuser')),
              'switches to the superuser'),
             (5, 'tap-host-14', 'temp_table', 'CREATE TEMP TABLE hostile_temp (id int);',
              'creates a temporary table that would outlive the check'),
             (6, 'tap-host-15', 'leave_a_table',
              'CREATE TABLE hostile_schema.left_behind (id int); SELECT true;',
              'creates a table and holds')) AS t(n0, v, n, p, what)
ORDER BY n0;
RESET ROLE;

SELECT results_eq($$SELECT version, precondition_checked_as FROM migrate.plan()
                    WHERE version LIKE 'tap-host-1_' ORDER BY version$$,
                  $$VALUES ('tap-host-10', 'hostile_dep'::name), ('tap-host-11', 'hostile_dep'),
                           ('tap-host-12', 'hostile_dep'), ('tap-host-13', 'hostile_dep'),
                           ('tap-host-14', 'hostile_dep'), ('tap-host-15', 'hostile_dep')$$,
                  'plan() called by the superuser says each precondition ran as hostile_dep');
SELECT is((SELECT skip_reason FROM migrate.plan() WHERE version = 'tap-host-10'),
          'precondition does not hold now (fail): error: ran as hostile_dep',
          'the precondition of tap-host-10 ran as hostile_dep (current_user), not as the superuser');
SELECT matches((SELECT skip_reason FROM migrate.plan() WHERE version = 'tap-host-11'),
               '^precondition does not hold now \(fail\): error: (must be superuser|permission denied)',
               'the precondition of tap-host-11 could not make hostile_dep superuser');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'hostile_dep'), false,
          'hostile_dep is not a superuser');
SELECT matches((SELECT skip_reason FROM migrate.plan() WHERE version = 'tap-host-12'),
               'pg_execute_server_program',
               'the precondition of tap-host-12 could not run a program');
SELECT is(pg_stat_file('/tmp/migrate-hostile-plan-ran', true), NULL,
          'no program ran: the file it would have touched does not exist');
SELECT matches((SELECT skip_reason FROM migrate.plan() WHERE version = 'tap-host-13'),
               'cannot set parameter "role"',
               'the precondition of tap-host-13 could not SET ROLE');
SELECT matches((SELECT skip_reason FROM migrate.plan() WHERE version = 'tap-host-14'),
               'cannot create temporary table within security-restricted operation',
               'the precondition of tap-host-14 could not create a temporary table');
SELECT results_eq($$SELECT skip, skip_reason FROM migrate.plan() WHERE version = 'tap-host-15'$$,
                  $$VALUES (false, NULL::text)$$,
                  'the precondition of tap-host-15 holds');
SELECT hasnt_table('hostile_schema', 'left_behind', 'the table it created was rolled back');
SELECT is(current_user, session_user, 'plan() left the session as the superuser');
SELECT is(current_setting('search_path'), (SELECT setting FROM pg_settings WHERE name = 'search_path'),
          'and with its own settings');

-- plan() by a role that lacks the registrant's rights does not run the
-- precondition at all: it would see that caller's search_path and
-- temporary objects, which could make the registrant run the caller's code
SELECT is(migrate.register('tap-host-16', 'superusers_check', 'SELECT 1;', NULL, NULL,
                           'SELECT pg_catalog.nextval(''hostile_schema.ran'') > 0;', 'skip'),
          'registered', 'the superuser registers tap-host-16 with a precondition in skip mode');
SET ROLE hostile_dep;
SELECT results_eq($$SELECT skip, skip_reason, precondition_checked_as FROM migrate.plan()
                    WHERE version = 'tap-host-16'$$,
                  $$VALUES (NULL::boolean,
                            format('precondition not checked: it runs only as role "%s", which registered it, and you do not have that role''s privileges',
                                   current_setting('tap.superuser')),
                            NULL::name)$$,
                  'plan() by migrate_admin does not run the superuser''s precondition, and says why');
RESET ROLE;
SELECT is((SELECT is_called FROM hostile_schema.ran), false,
          'the precondition of tap-host-16 did not run');

-- a registrant that no longer exists: nobody to run it as
CREATE ROLE hostile_gone;
GRANT migrate_admin TO hostile_gone;
SET ROLE hostile_gone;
SELECT is(migrate.register('tap-host-17', 'orphan_check', 'SELECT 1;', NULL, NULL,
                           'SELECT pg_catalog.nextval(''hostile_schema.ran_orphan'') > 0;'),
          'registered', 'hostile_gone registers tap-host-17 with a precondition');
RESET ROLE;
DROP ROLE hostile_gone;
SELECT results_eq($$SELECT skip, skip_reason, precondition_checked_as FROM migrate.plan()
                    WHERE version = 'tap-host-17'$$,
                  $$VALUES (false,
                            'precondition not checked: role "hostile_gone", which registered it, no longer exists',
                            NULL::name)$$,
                  'plan() does not run the precondition of a role that was dropped, and says so');
SELECT is((SELECT is_called FROM hostile_schema.ran_orphan), false,
          'the precondition of tap-host-17 did not run');

SELECT * FROM finish();
ROLLBACK;
