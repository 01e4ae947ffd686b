-- test/pgtap/catalog.sql: the shape of migrate's catalog.
--
-- Schema, tables and keys (the migration registry with its precondition
-- and verify scripts, the event log, the schedules and the scheduler's
-- pause switch, which starts empty), the five views (the narrow status,
-- the wide status_detail, and that neither exposes script text), every
-- function with its signature and return type (apply, revert and
-- revert_all with their eight columns, revert's with_dependents and
-- schedule's maintenance_window with the old names kept last; plan, rehearse, the schema fingerprint functions,
-- verify_integrity and calling_role), which functions are SECURITY
-- DEFINER (exactly the seven scheduler and monitoring functions that run
-- no user SQL, each with a pinned search_path; never one that runs a
-- migration's SQL or reads user tables), the pinned search_path of the
-- fingerprint and integrity functions, the append-only trigger on
-- migrate.event (and its pinned search_path), the actions and outcomes
-- the event log accepts, and pg_dump registration of the tables and
-- sequences.
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
SELECT plan(240);

-- ---------------------------------------------------------------------------
-- schema, tables, keys
-- ---------------------------------------------------------------------------
SELECT has_schema('migrate', 'schema migrate exists');
SELECT has_extension('migrate', 'extension migrate is installed');
SELECT has_table('migrate', 'migration', 'table migrate.migration exists');
SELECT has_table('migrate', 'event', 'table migrate.event exists');
SELECT col_is_pk('migrate', 'migration', 'version', 'migrate.migration is keyed by version');
SELECT col_is_pk('migrate', 'event', 'id', 'migrate.event is keyed by id');
SELECT col_is_unique('migrate', 'migration', 'version_key',
                     'two versions that compare equal cannot both be registered');
SELECT has_column('migrate', 'migration', 'up_script', 'migrate.migration keeps the up script');
SELECT has_column('migrate', 'migration', 'down_script', 'migrate.migration keeps the down script');
SELECT has_column('migrate', 'migration', c, format('migrate.migration has column %s', c))
FROM unnest(ARRAY['dirty_statement', 'resume_statement', 'approved_at', 'approved_by']) AS c;
SELECT col_type_is('migrate', 'migration', c, t, format('migrate.migration.%s is %s', c, t))
FROM (VALUES ('dirty_statement', 'integer'), ('resume_statement', 'integer'),
             ('approved_at', 'timestamp with time zone'), ('approved_by', 'name')) AS v(c, t);
-- the checks around the up script
SELECT has_column('migrate', 'migration', c, format('migrate.migration has column %s', c))
FROM unnest(ARRAY['precondition_script', 'precondition_mode', 'verify_script'])
     WITH ORDINALITY AS v(c, n)
ORDER BY n;
SELECT col_type_is('migrate', 'migration', c, 'text', format('migrate.migration.%s is text', c))
FROM unnest(ARRAY['precondition_script', 'precondition_mode', 'verify_script'])
     WITH ORDINALITY AS v(c, n)
ORDER BY n;
SELECT col_is_null('migrate', 'migration', c, format('migrate.migration.%s is nullable', c))
FROM unnest(ARRAY['precondition_script', 'verify_script']) WITH ORDINALITY AS v(c, n)
ORDER BY n;
SELECT col_not_null('migrate', 'migration', 'precondition_mode',
                    'migrate.migration.precondition_mode is NOT NULL');
SELECT col_default_is('migrate', 'migration', 'precondition_mode', 'fail'::text,
                      'migrate.migration.precondition_mode defaults to fail');
SELECT col_is_null('migrate', 'event', 'version',
                   'migrate.event.version is nullable (scheduler runs, pause and resume have none)');
SELECT has_sequence('migrate', 'event_id_seq', 'sequence migrate.event_id_seq exists');
SELECT has_sequence('migrate', 'apply_seq', 'sequence migrate.apply_seq exists');

SELECT has_table('migrate', 'schedule', 'table migrate.schedule exists');
SELECT col_is_pk('migrate', 'schedule', 'name', 'migrate.schedule is keyed by name');
SELECT columns_are('migrate', 'schedule',
                   ARRAY['name', 'every', 'cron', 'window_start', 'window_end', 'timezone',
                         'target', 'environment', 'require_approval', 'enabled',
                         'next_run_at', 'last_run_at', 'last_outcome', 'created_at',
                         'created_by', 'waiting_for'],
                   'migrate.schedule has exactly the expected columns');
SELECT has_table('migrate', 'scheduler_state', 'table migrate.scheduler_state exists');
SELECT col_is_pk('migrate', 'scheduler_state', 'singleton',
                 'migrate.scheduler_state is keyed by its singleton flag');
SELECT columns_are('migrate', 'scheduler_state',
                   ARRAY['singleton', 'paused', 'changed_at', 'changed_by'],
                   'migrate.scheduler_state has exactly the expected columns');
-- no row until the first pause() or resume() (this suite runs in a fresh
-- database, and nothing in test/pgtap commits a pause)
SELECT is((SELECT count(*) FROM migrate.scheduler_state), 0::bigint,
          'migrate.scheduler_state starts empty');
SELECT col_default_is('migrate', 'scheduler_state', 'paused', 'false'::text,
                      'a row of migrate.scheduler_state is not paused unless told');

-- ---------------------------------------------------------------------------
-- views
-- ---------------------------------------------------------------------------
SELECT has_view('migrate', 'status', 'view migrate.status exists');
SELECT has_view('migrate', 'status_detail', 'view migrate.status_detail exists');
SELECT has_view('migrate', 'history', 'view migrate.history exists');
SELECT has_view('migrate', 'schedules', 'view migrate.schedules exists');
SELECT has_view('migrate', 'progress', 'view migrate.progress exists');
SELECT columns_are('migrate', 'schedules',
                   ARRAY['name', 'every', 'cron', 'maintenance_window', 'timezone', 'target', 'environment',
                         'require_approval', 'enabled', 'paused', 'next_run_at', 'last_run_at',
                         'last_outcome', 'waiting_for', 'created_by'],
                   'migrate.schedules has exactly the expected columns');
SELECT columns_are('migrate', 'progress',
                   ARRAY['pid', 'database', 'role', 'action', 'version', 'name', 'schedule',
                         'migration', 'migrations', 'statement', 'statements', 'statement_text',
                         'migration_started', 'statement_started', 'retries', 'state',
                         'wait_event_type', 'wait_event', 'blocked_by'],
                   'migrate.progress has exactly the expected columns');

-- the narrow view a DBA reads first, and the wide one with every column
-- 1.0's status had (same names), and more
SELECT columns_are('migrate', 'status',
                   ARRAY['version', 'name', 'state', 'applied_at', 'applied_by', 'changed', 'error'],
                   'migrate.status has exactly the expected columns');
SELECT columns_are('migrate', 'status_detail',
                   ARRAY['version', 'name', 'state', 'checksum', 'checksum_ok',
                         'applied_at', 'applied_by', 'duration', 'dependencies',
                         'description', 'author', 'created', 'risk_level',
                         'zero_downtime', 'estimated_duration', 'environments',
                         'transactional', 'statements', 'revertible',
                         'registered_at', 'last_error', 'registered_by', 'approved_at',
                         'approved_by', 'dirty_statement', 'resume_statement',
                         'precondition_mode', 'has_precondition', 'has_verify'],
                   'migrate.status_detail has exactly the expected columns');

SELECT hasnt_column('migrate', 'status', 'up_script', 'migrate.status exposes no up script');
SELECT hasnt_column('migrate', 'status', 'down_script', 'migrate.status exposes no down script');
SELECT is(count(*), 0::bigint, 'no column of migrate.status, status_detail or history holds script text')
FROM information_schema.columns
WHERE table_schema = 'migrate' AND table_name IN ('status', 'status_detail', 'history')
  AND column_name ~ '_script$';

SELECT has_column('migrate', 'history', c, format('migrate.history has column %s', c))
FROM unnest(ARRAY['id', 'action', 'version', 'name', 'role', 'started_at',
                  'duration', 'outcome', 'error', 'checksum', 'detail']) AS c;

-- ---------------------------------------------------------------------------
-- functions: signature, return type, SECURITY DEFINER only where no user
-- SQL runs
-- ---------------------------------------------------------------------------
SELECT has_function('migrate', 'version_key', ARRAY['text'], 'migrate.version_key(text) exists');
SELECT function_returns('migrate', 'version_key', ARRAY['text'], 'bytea',
                        'migrate.version_key(text) returns bytea');
SELECT has_function('migrate', 'version_cmp', ARRAY['text', 'text'], 'migrate.version_cmp(text, text) exists');
SELECT function_returns('migrate', 'version_cmp', ARRAY['text', 'text'], 'integer',
                        'migrate.version_cmp(text, text) returns integer');
SELECT has_function('migrate', 'checksum', ARRAY['text'], 'migrate.checksum(text) exists');
SELECT function_returns('migrate', 'checksum', ARRAY['text'], 'text',
                        'migrate.checksum(text) returns text');
SELECT has_function('migrate', 'header', ARRAY['text'], 'migrate.header(text) exists');
SELECT function_returns('migrate', 'header', ARRAY['text'], 'jsonb',
                        'migrate.header(text) returns jsonb');
SELECT has_function('migrate', 'statements', ARRAY['text'], 'migrate.statements(text) exists');
SELECT function_returns('migrate', 'statements', ARRAY['text'], 'setof record',
                        'migrate.statements(text) returns a set');
SELECT has_function('migrate', 'register', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean'],
                    'migrate.register(text, text, text, text, text, text, text, boolean) exists');
SELECT function_returns('migrate', 'register', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean'],
                        'text', 'migrate.register() returns text');
SELECT hasnt_function('migrate', 'register', ARRAY['text', 'text', 'text', 'text'],
                      'the four-argument migrate.register() is gone (no ambiguous overload)');
SELECT has_function('migrate', 'apply', ARRAY['text', 'boolean', 'boolean', 'boolean', 'text'],
                    'migrate.apply(text, boolean, boolean, boolean, text) exists');
SELECT function_returns('migrate', 'apply', ARRAY['text', 'boolean', 'boolean', 'boolean', 'text'], 'setof record',
                        'migrate.apply() returns a set');
SELECT hasnt_function('migrate', 'apply', ARRAY['text'],
                      'the one-argument migrate.apply() is gone (no ambiguous overload)');
SELECT has_function('migrate', 'revert', ARRAY['text', 'integer', 'text', 'boolean', 'boolean', 'boolean', 'boolean', 'boolean'],
                    'migrate.revert(text, integer, text, boolean, boolean, boolean, boolean, boolean) exists');
SELECT hasnt_function('migrate', 'revert', ARRAY['integer', 'text', 'text', 'boolean', 'boolean'],
                      'migrate.revert() no longer takes a count first (revert(''003'') is a version)');
SELECT function_returns('migrate', 'revert', ARRAY['text', 'integer', 'text', 'boolean', 'boolean', 'boolean', 'boolean', 'boolean'],
                        'setof record', 'migrate.revert() returns a set');
SELECT hasnt_function('migrate', 'revert', ARRAY['integer', 'text', 'text', 'boolean'],
                      'the four-argument migrate.revert() is gone (no ambiguous overload)');
SELECT has_function('migrate', 'revert_all', ARRAY['boolean', 'boolean'], 'migrate.revert_all(boolean, boolean) exists');
SELECT function_returns('migrate', 'revert_all', ARRAY['boolean', 'boolean'], 'setof record',
                        'migrate.revert_all() returns a set');
SELECT has_function('migrate', 'repair', ARRAY['text', 'text', 'text'],
                    'migrate.repair(text, text, text) exists');
SELECT function_returns('migrate', 'repair', ARRAY['text', 'text', 'text'], 'text',
                        'migrate.repair() returns text');
SELECT has_function('migrate', 'require', ARRAY['text'], 'migrate.require(text) exists');
SELECT function_returns('migrate', 'require', ARRAY['text'], 'text',
                        'migrate.require(text) returns text (the version it found)');
SELECT has_function('migrate', 'event_is_append_only', ARRAY[]::text[],
                    'migrate.event_is_append_only() exists');
SELECT function_returns('migrate', 'event_is_append_only', ARRAY[]::text[], 'trigger',
                        'migrate.event_is_append_only() is a trigger function');

-- planning, rehearsal, the schema fingerprint and integrity checks
SELECT has_function('migrate', f, args, format('migrate.%s(%s) exists', f, array_to_string(args, ', ')))
FROM (VALUES (1, 'plan', ARRAY['text']),
             (2, 'rehearse', ARRAY['text', 'text', 'boolean']),
             (3, 'schema_objects', ARRAY[]::text[]),
             (4, 'fingerprint', ARRAY[]::text[]),
             (5, 'table_data', ARRAY[]::text[]),
             (6, 'verify_integrity', ARRAY[]::text[]),
             (7, 'calling_role', ARRAY[]::text[])) AS v(n, f, args)
ORDER BY n;
SELECT function_returns('migrate', f, args, r, format('migrate.%s() returns %s', f, r))
FROM (VALUES (1, 'plan', ARRAY['text'], 'setof record'),
             (2, 'rehearse', ARRAY['text', 'text', 'boolean'], 'setof record'),
             (3, 'schema_objects', ARRAY[]::text[], 'setof record'),
             (4, 'fingerprint', ARRAY[]::text[], 'text'),
             (5, 'table_data', ARRAY[]::text[], 'setof record'),
             (6, 'verify_integrity', ARRAY[]::text[], 'setof record'),
             (7, 'calling_role', ARRAY[]::text[], 'name')) AS v(n, f, args, r)
ORDER BY n;
SELECT function_lang_is('migrate', 'calling_role', ARRAY[]::text[], 'c',
                        'migrate.calling_role() is written in C');

-- the scheduler, its helpers and monitoring
SELECT has_function('migrate', f, args, format('migrate.%s(%s) exists', f, array_to_string(args, ', ')))
FROM (VALUES (1, 'acquire_lock', ARRAY[]::text[]),
             (2, 'wake', ARRAY[]::text[]),
             (3, 'progress_slots', ARRAY[]::text[]),
             (4, 'scheduler_info', ARRAY[]::text[]),
             (5, 'window_end_at', ARRAY['timestamp with time zone', 'time without time zone',
                                        'time without time zone', 'text']),
             (6, 'cron_next', ARRAY['text', 'timestamp with time zone', 'text']),
             (7, 'schedule', ARRAY['text', 'interval', 'text', 'text', 'text', 'text', 'text', 'boolean', 'text']),
             (8, 'unschedule', ARRAY['text']),
             (9, 'pause', ARRAY[]::text[]),
             (10, 'resume', ARRAY[]::text[]),
             (11, 'approve', ARRAY['text']),
             (12, 'resolve', ARRAY['text', 'text']),
             (13, 'health', ARRAY[]::text[])) AS v(n, f, args)
ORDER BY n;
SELECT function_returns('migrate', f, args, r, format('migrate.%s() returns %s', f, r))
FROM (VALUES (1, 'acquire_lock', ARRAY[]::text[], 'void'),
             (2, 'wake', ARRAY[]::text[], 'void'),
             (3, 'progress_slots', ARRAY[]::text[], 'setof record'),
             (4, 'scheduler_info', ARRAY[]::text[], 'record'),
             (5, 'window_end_at', ARRAY['timestamp with time zone', 'time without time zone',
                                        'time without time zone', 'text'],
                 'timestamp with time zone'),
             (6, 'cron_next', ARRAY['text', 'timestamp with time zone', 'text'],
                 'timestamp with time zone'),
             (7, 'schedule', ARRAY['text', 'interval', 'text', 'text', 'text', 'text', 'text', 'boolean', 'text'],
                 'setof record'),
             (8, 'unschedule', ARRAY['text'], 'text'),
             (9, 'pause', ARRAY[]::text[], 'text'),
             (10, 'resume', ARRAY[]::text[], 'text'),
             (11, 'approve', ARRAY['text'], 'setof record'),
             (12, 'resolve', ARRAY['text', 'text'], 'text'),
             (13, 'health', ARRAY[]::text[], 'record')) AS v(n, f, args, r)
ORDER BY n;

-- the result columns of apply, revert and revert_all
SELECT is(pg_get_function_result(p.oid),
          'TABLE(version text, name text, action text, state text, duration interval, '
          'statements integer, rows_affected bigint, note text)',
          format('migrate.%s() returns (version, name, action, state, duration, statements, '
                 'rows_affected, note)', p.proname))
FROM pg_proc p
WHERE p.pronamespace = 'migrate'::regnamespace
  AND p.proname IN ('apply', 'revert', 'revert_all')
ORDER BY p.proname;
SELECT is((SELECT count(*) FROM pg_proc p
           WHERE p.pronamespace = 'migrate'::regnamespace
             AND p.proname IN ('apply', 'revert', 'revert_all')),
          3::bigint, 'apply, revert and revert_all have one signature each');

-- the result columns of plan and rehearse
SELECT is(pg_get_function_result('migrate.plan(text)'::regprocedure),
          'TABLE(ordinal integer, version text, name text, action text, reason text, '
          'statements integer, risk_level text, estimated_duration interval, '
          'zero_downtime boolean, transactional boolean, runs_in text, approved boolean, '
          'checks text[], skip boolean, skip_reason text, precondition_checked_as name, '
          'derived_risk text, risk_reasons text[], findings text[], locks text[])',
          'migrate.plan() returns (ordinal, version, name, action, reason, statements, risk_level, '
          'estimated_duration, zero_downtime, transactional, runs_in, approved, checks, skip, skip_reason, '
          'precondition_checked_as, derived_risk, risk_reasons, findings, locks)');
SELECT is(pg_get_function_result('migrate.rehearse(text, text, boolean)'::regprocedure),
          'TABLE(ordinal integer, version text, name text, ok boolean, failed_step text, '
          'differences jsonb, error text, not_rehearsed jsonb)',
          'migrate.rehearse() returns (ordinal, version, name, ok, failed_step, differences, error, not_rehearsed)');
-- the OUT columns of the fingerprint and integrity functions
SELECT is(pg_get_function_arguments('migrate.schema_objects()'::regprocedure),
          'OUT kind text, OUT identity text, OUT definition text, OUT hash text',
          'migrate.schema_objects() returns (kind, identity, definition, hash)');
SELECT is(pg_get_function_arguments('migrate.table_data()'::regprocedure),
          'OUT identity text, OUT definition text',
          'migrate.table_data() returns (identity, definition)');
SELECT is(pg_get_function_arguments('migrate.verify_integrity()'::regprocedure),
          'OUT severity text, OUT check_name text, OUT object text, OUT detail text, OUT hint text',
          'migrate.verify_integrity() returns (severity, check_name, object, detail, hint)');

-- parameter names and defaults callers rely on
SELECT is(pg_get_function_arguments('migrate.register(text, text, text, text, text, text, text, boolean)'::regprocedure),
          'version text, name text, up text, down text DEFAULT NULL::text, '
          'verify text DEFAULT NULL::text, precondition text DEFAULT NULL::text, '
          'precondition_mode text DEFAULT ''fail''::text, generate_down boolean DEFAULT false',
          'migrate.register(version, name, up, down, verify, precondition DEFAULT NULL, precondition_mode DEFAULT fail, generate_down DEFAULT false)');
SELECT is(pg_get_function_arguments('migrate.apply(text, boolean, boolean, boolean, text)'::regprocedure),
          'target text DEFAULT NULL::text, dry_run boolean DEFAULT false, force boolean DEFAULT false, '
          'skip_backup boolean DEFAULT false, expect_fingerprint text DEFAULT NULL::text',
          'migrate.apply(target DEFAULT NULL, dry_run DEFAULT false, force DEFAULT false, skip_backup DEFAULT false, expect_fingerprint DEFAULT NULL)');
SELECT is(pg_get_function_arguments('migrate.revert(text, integer, text, boolean, boolean, boolean, boolean, boolean)'::regprocedure),
          'target text DEFAULT NULL::text, steps integer DEFAULT NULL::integer, '
          'migration text DEFAULT NULL::text, with_dependents boolean DEFAULT NULL::boolean, '
          'dry_run boolean DEFAULT false, cascade boolean DEFAULT NULL::boolean, '
          'force boolean DEFAULT false, skip_backup boolean DEFAULT false',
          'migrate.revert(target, steps, migration, with_dependents, dry_run, "cascade", force, skip_backup) all defaulted');
SELECT is(pg_get_function_arguments('migrate.plan(text)'::regprocedure),
          'target text DEFAULT NULL::text',
          'migrate.plan(target DEFAULT NULL)');
SELECT is(pg_get_function_arguments('migrate.rehearse(text, text, boolean)'::regprocedure),
          'from_version text DEFAULT NULL::text, to_version text DEFAULT NULL::text, '
          'data boolean DEFAULT false',
          'migrate.rehearse(from_version, to_version, data) all defaulted');
SELECT is(pg_get_function_arguments('migrate.repair(text, text, text)'::regprocedure),
          'version text, up text DEFAULT NULL::text, down text DEFAULT NULL::text',
          'migrate.repair(version, up DEFAULT NULL, down DEFAULT NULL)');
SELECT is(pg_get_function_arguments('migrate.schedule(text, interval, text, text, text, text, text, boolean, text)'::regprocedure),
          'name text, every interval DEFAULT NULL::interval, cron text DEFAULT NULL::text, '
          'maintenance_window text DEFAULT NULL::text, timezone text DEFAULT ''UTC''::text, '
          'target text DEFAULT NULL::text, environment text DEFAULT NULL::text, '
          'require_approval boolean DEFAULT true, "window" text DEFAULT NULL::text',
          'migrate.schedule(name, every, cron, maintenance_window, timezone DEFAULT UTC, target, environment, require_approval DEFAULT true, "window"), the old name last');
-- the answers of schedule(), approve() and require()
SELECT is(pg_get_function_result('migrate.schedule(text, interval, text, text, text, text, text, boolean, text)'::regprocedure),
          'TABLE(schedule text, next_run_at timestamp with time zone, require_approval boolean, waiting_for text[])',
          'migrate.schedule() returns (schedule, next_run_at, require_approval, waiting_for)');
SELECT is(pg_get_function_result('migrate.approve(text)'::regprocedure),
          'TABLE(version text, name text, runs_as name, approved_by name, approved_at timestamp with time zone)',
          'migrate.approve() returns (version, name, runs_as, approved_by, approved_at)');
SELECT is(pg_get_function_arguments('migrate.cron_next(text, timestamptz, text)'::regprocedure),
          'expression text, after timestamp with time zone DEFAULT now(), timezone text DEFAULT ''UTC''::text',
          'migrate.cron_next(expression, after DEFAULT now(), timezone DEFAULT UTC)');
SELECT is(pg_get_function_arguments('migrate.resolve(text, text)'::regprocedure),
          'version text, action text',
          'migrate.resolve(version, action)');
SELECT is(pg_get_function_arguments('migrate.health()'::regprocedure),
          'OUT pending integer, OUT failed integer, OUT dirty integer, '
          'OUT last_apply_at timestamp with time zone, OUT last_apply_outcome text, '
          'OUT lock_held boolean, OUT lock_holder_pid integer, OUT scheduler text, '
          'OUT scheduler_pid integer, OUT awaiting_approval integer',
          'migrate.health() returns one row of the expected columns');

-- SECURITY DEFINER only for the functions that change the owner's tables
-- on migrate_admin's behalf (or read them for monitoring) and run no user
-- SQL; the functions that run a migration's SQL run it as the caller
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace = 'migrate'::regnamespace AND p.prosecdef$$,
              ARRAY['migrate.schedule(text,interval,text,text,text,text,text,boolean,text)',
                    'migrate.store_schedule(text,interval,text,text,text,text,text,boolean,text)',
                    'migrate.unschedule(text)', 'migrate.pause()', 'migrate.resume()',
                    'migrate.approve(text)', 'migrate.store_approval(text)',
                    'migrate.unapprove(text)', 'migrate.store_unapproval(text)',
                    'migrate.resolve(text,text)', 'migrate.health()',
                    'migrate.configure(text,interval,interval,integer,interval,boolean,boolean,text,interval,interval,text,boolean,boolean,text[])'],
              'the SECURITY DEFINER functions are exactly schedule, unschedule, pause, resume, approve, unapprove, resolve, health and configure (and the three that do the work of schedule, approve and unapprove)');

SELECT ok(EXISTS (SELECT FROM pg_proc p, unnest(p.proconfig) AS c
                  WHERE p.oid = f::regprocedure
                    AND c ~ '^search_path=pg_catalog(,|$)'),
          format('%s pins search_path, pg_catalog first', f))
FROM unnest(ARRAY['migrate.schedule(text,interval,text,text,text,text,text,boolean,text)',
                  'migrate.store_schedule(text,interval,text,text,text,text,text,boolean,text)',
                  'migrate.unschedule(text)', 'migrate.pause()', 'migrate.resume()',
                  'migrate.approve(text)', 'migrate.store_approval(text)',
                  'migrate.resolve(text,text)',
                  'migrate.health()']) WITH ORDINALITY AS v(f, n)
ORDER BY n;

-- pg_temp is searched first unless it is named: a definer function must
-- name it, last
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL,
          'every SECURITY DEFINER function in schema migrate puts pg_temp last in its search_path')
FROM pg_proc p
WHERE p.pronamespace = 'migrate'::regnamespace AND p.prosecdef
  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) AS c
                  WHERE c ~ '^search_path=pg_catalog(, *[a-z_]+)*, *pg_temp$');

SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), NULL,
          'every SECURITY DEFINER function in schema migrate is owned by the extension owner')
FROM pg_proc p
WHERE p.pronamespace = 'migrate'::regnamespace AND p.prosecdef
  AND p.proowner <> (SELECT extowner FROM pg_extension WHERE extname = 'migrate');

SELECT isnt_definer('migrate', f, args, format('migrate.%s() is not SECURITY DEFINER', f))
FROM (VALUES (1, 'register', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean']),
             (2, 'apply', ARRAY['text', 'boolean', 'boolean', 'boolean', 'text']),
             (3, 'revert', ARRAY['text', 'integer', 'text', 'boolean', 'boolean', 'boolean', 'boolean', 'boolean']),
             (4, 'revert_all', ARRAY['boolean', 'boolean']),
             (5, 'repair', ARRAY['text', 'text', 'text']),
             (6, 'require', ARRAY['text']),
             -- run migration SQL (rehearse) or precondition checks (plan)
             -- as the caller
             (7, 'plan', ARRAY['text']),
             (8, 'rehearse', ARRAY['text', 'text', 'boolean']),
             -- read the catalogs and user tables with the caller's privileges
             (9, 'verify_integrity', ARRAY[]::text[]),
             (10, 'schema_objects', ARRAY[]::text[]),
             (11, 'fingerprint', ARRAY[]::text[]),
             (12, 'table_data', ARRAY[]::text[]),
             (13, 'calling_role', ARRAY[]::text[])) AS v(n, f, args)
ORDER BY n;

-- SECURITY INVOKER, but with search_path pinned all the same: what they
-- resolve must not depend on (or be hijacked through) the caller's path
SELECT ok(EXISTS (SELECT FROM pg_proc p, unnest(p.proconfig) AS c
                  WHERE p.oid = f::regprocedure
                    AND c ~ '^search_path=pg_catalog(,|$)'),
          format('%s pins search_path, pg_catalog first', f))
FROM unnest(ARRAY['migrate.schema_objects()', 'migrate.fingerprint()',
                  'migrate.table_data()', 'migrate.verify_integrity()',
                  'migrate.window_end_at(timestamptz,time,time,text)'])
     WITH ORDINALITY AS v(f, n)
ORDER BY n;

SELECT is(count(*), 0::bigint, 'every function in schema migrate belongs to the extension')
FROM pg_proc p
WHERE p.pronamespace = 'migrate'::regnamespace
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                    AND d.refclassid = 'pg_extension'::regclass
                    AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrate')
                    AND d.deptype = 'e');

SELECT volatility_is('migrate', 'checksum', ARRAY['text'], 'immutable',
                     'migrate.checksum(text) is immutable');
SELECT volatility_is('migrate', 'version_key', ARRAY['text'], 'immutable',
                     'migrate.version_key(text) is immutable (it backs a unique index)');
SELECT volatility_is('migrate', 'apply', ARRAY['text', 'boolean', 'boolean', 'boolean', 'text'], 'volatile',
                     'migrate.apply(text, boolean, boolean, boolean, text) is volatile');
SELECT volatility_is('migrate', 'register', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'boolean'],
                     'volatile', 'migrate.register() is volatile');
SELECT volatility_is('migrate', f, args, v, format('migrate.%s() is %s', f, v))
FROM (VALUES (1, 'plan', ARRAY['text'], 'volatile'),
             (2, 'rehearse', ARRAY['text', 'text', 'boolean'], 'volatile'),
             (3, 'schema_objects', ARRAY[]::text[], 'stable'),
             (4, 'fingerprint', ARRAY[]::text[], 'stable'),
             (5, 'table_data', ARRAY[]::text[], 'stable'),
             (6, 'verify_integrity', ARRAY[]::text[], 'stable'),
             (7, 'calling_role', ARRAY[]::text[], 'stable')) AS v(n, f, args, v)
ORDER BY n;

-- ---------------------------------------------------------------------------
-- migrate.event is append-only
-- ---------------------------------------------------------------------------
SELECT has_trigger('migrate', 'event', 'event_is_append_only',
                   'migrate.event has trigger event_is_append_only');
SELECT trigger_is('migrate', 'event', 'event_is_append_only', 'migrate', 'event_is_append_only',
                  'the trigger runs migrate.event_is_append_only()');
SELECT is((SELECT tgtype::int & (2 | 8 | 16 | 32)  -- BEFORE, DELETE, UPDATE, TRUNCATE
           FROM pg_trigger
           WHERE tgrelid = 'migrate.event'::regclass AND tgname = 'event_is_append_only'),
          2 | 8 | 16 | 32,
          'the trigger fires BEFORE UPDATE, DELETE and TRUNCATE');
SELECT is((SELECT tgenabled FROM pg_trigger
           WHERE tgrelid = 'migrate.event'::regclass AND tgname = 'event_is_append_only'),
          'O'::"char", 'the trigger is enabled');
SELECT ok((SELECT proconfig @> ARRAY['search_path=pg_catalog']
           FROM pg_proc WHERE oid = 'migrate.event_is_append_only()'::regprocedure),
          'migrate.event_is_append_only() pins search_path to pg_catalog');

-- a row to refuse to change (the superuser may insert; only the functions do)
INSERT INTO migrate.event (action, version, name, outcome, role, started_at)
VALUES ('register', 'tap-catalog-1', 'tap', 'success', current_user, now());

SELECT throws_ok($$UPDATE migrate.event SET name = 'changed' WHERE version = 'tap-catalog-1'$$,
                 '42501', 'migration history is append-only',
                 'even the superuser cannot UPDATE migrate.event');
SELECT throws_ok($$DELETE FROM migrate.event WHERE version = 'tap-catalog-1'$$,
                 '42501', 'migration history is append-only',
                 'even the superuser cannot DELETE FROM migrate.event');
SELECT throws_ok($$TRUNCATE migrate.event$$,
                 '42501', 'migration history is append-only',
                 'even the superuser cannot TRUNCATE migrate.event');
SELECT throws_ok($$UPDATE migrate.event SET name = 'changed' WHERE false$$,
                 '42501', 'migration history is append-only',
                 'an UPDATE of migrate.event is refused even when it matches no row');
SELECT is((SELECT name FROM migrate.event WHERE version = 'tap-catalog-1'), 'tap',
          'the row is unchanged');

-- the actions of the scheduler era, without a version where none applies
SELECT lives_ok(format($$INSERT INTO migrate.event (action, version, outcome, role, started_at)
                         VALUES (%L, NULL, 'success', current_user, now())$$, a),
                format('migrate.event accepts action %s without a version', a))
FROM unnest(ARRAY['resolve', 'approve', 'run', 'pause', 'resume']) WITH ORDINALITY AS v(a, n)
ORDER BY n;
SELECT throws_ok($$INSERT INTO migrate.event (action, version, outcome, role, started_at)
                   VALUES ('drop', NULL, 'success', current_user, now())$$,
                 '23514', NULL,
                 'migrate.event refuses an unknown action');
-- dry runs, and migrations skipped because their precondition did not hold
SELECT lives_ok($$INSERT INTO migrate.event (action, version, name, outcome, role, started_at)
                  VALUES ('dry run', 'tap-catalog-1', 'tap', 'success', current_user, now())$$,
                'migrate.event accepts action dry run');
SELECT lives_ok($$INSERT INTO migrate.event (action, version, name, outcome, role, started_at)
                  VALUES ('apply', 'tap-catalog-1', 'tap', 'skipped', current_user, now())$$,
                'migrate.event accepts outcome skipped');
SELECT throws_ok($$INSERT INTO migrate.event (action, version, outcome, role, started_at)
                   VALUES ('apply', 'tap-catalog-1', 'maybe', current_user, now())$$,
                 '23514', NULL,
                 'migrate.event refuses an unknown outcome');
SELECT throws_ok($$INSERT INTO migrate.event (action, version, outcome, role, started_at)
                   VALUES ('dry_run', 'tap-catalog-1', 'success', current_user, now())$$,
                 '23514', NULL,
                 'migrate.event refuses dry_run (the action is spelt dry run)');

-- precondition_mode is one of fail, skip and warn
SELECT lives_ok(format($$INSERT INTO migrate.migration (version, version_key, name, up_script, checksum,
                                                          checksum_version, statements, transactional,
                                                          precondition_script, precondition_mode)
                         VALUES (%L, migrate.version_key(%L), 'tap', 'SELECT 1;',
                                 migrate.checksum('SELECT 1;'), 1, 1, true, 'SELECT true;', %L)$$,
                       'tap-catalog-' || mode, 'tap-catalog-' || mode, mode),
                format('migrate.migration accepts precondition_mode %s', mode))
FROM unnest(ARRAY['fail', 'skip', 'warn']) WITH ORDINALITY AS v(mode, n)
ORDER BY n;
SELECT throws_ok($$INSERT INTO migrate.migration (version, version_key, name, up_script, checksum,
                                                  checksum_version, statements, transactional,
                                                  precondition_mode)
                   VALUES ('tap-catalog-x', migrate.version_key('tap-catalog-x'), 'tap', 'SELECT 1;',
                           migrate.checksum('SELECT 1;'), 1, 1, true, 'ignore')$$,
                 '23514', NULL,
                 'migrate.migration refuses precondition_mode ignore');
SELECT is((SELECT precondition_mode FROM migrate.migration WHERE version = 'tap-catalog-fail'), 'fail',
          'precondition_mode is stored as given');
SELECT throws_ok($$INSERT INTO migrate.migration (version, version_key, name, up_script, checksum,
                                                  checksum_version, statements, transactional,
                                                  precondition_mode)
                   VALUES ('tap-catalog-n', migrate.version_key('tap-catalog-n'), 'tap', 'SELECT 1;',
                           migrate.checksum('SELECT 1;'), 1, 1, true, NULL)$$,
                 '23502', NULL,
                 'migrate.migration refuses a NULL precondition_mode');

-- ---------------------------------------------------------------------------
-- pg_dump keeps the catalog's rows and sequence positions
-- ---------------------------------------------------------------------------
SELECT ok((SELECT extconfig @> ARRAY[c]::oid[] FROM pg_extension WHERE extname = 'migrate'),
          format('pg_extension_config_dump registered %s', c::regclass))
FROM unnest(ARRAY['migrate.migration'::regclass, 'migrate.event'::regclass,
                  'migrate.event_id_seq'::regclass, 'migrate.apply_seq'::regclass,
                  'migrate.schedule'::regclass, 'migrate.scheduler_state'::regclass]) AS c;
SELECT is((SELECT array_length(extconfig, 1) FROM pg_extension WHERE extname = 'migrate'),
          array_length(extcondition, 1),
          'every dumped relation has a (dump everything) condition')
FROM pg_extension WHERE extname = 'migrate';

-- ---------------------------------------------------------------------------
-- ownership and the roles the extension creates
-- ---------------------------------------------------------------------------
SELECT has_role('migrate_admin', 'role migrate_admin exists');
SELECT has_role('migrate_reader', 'role migrate_reader exists');
SELECT is_member_of('migrate_reader', 'migrate_admin', 'migrate_admin is a member of migrate_reader');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'migrate_admin'), false,
          'migrate_admin cannot log in');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'migrate_reader'), false,
          'migrate_reader cannot log in');
SELECT is((SELECT relowner FROM pg_class WHERE oid = c),
          (SELECT extowner FROM pg_extension WHERE extname = 'migrate'),
          format('%s is owned by the extension owner', c::regclass))
FROM unnest(ARRAY['migrate.migration'::regclass, 'migrate.event'::regclass,
                  'migrate.status'::regclass, 'migrate.status_detail'::regclass,
                  'migrate.history'::regclass,
                  'migrate.schedule'::regclass, 'migrate.scheduler_state'::regclass,
                  'migrate.schedules'::regclass, 'migrate.progress'::regclass]) AS c;

SELECT * FROM finish();
ROLLBACK;
