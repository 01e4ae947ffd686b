-- test/pgtap/catalog.sql: the shape of migrate's catalog.
--
-- Schema, tables and keys, the two views (and that status exposes no script
-- text), every function with its signature and return type, no SECURITY
-- DEFINER anywhere, the append-only trigger on migrate.event (and its
-- pinned search_path), and pg_dump registration of the tables and
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
SELECT plan(115);

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
SELECT has_sequence('migrate', 'event_id_seq', 'sequence migrate.event_id_seq exists');
SELECT has_sequence('migrate', 'apply_seq', 'sequence migrate.apply_seq exists');

-- ---------------------------------------------------------------------------
-- views
-- ---------------------------------------------------------------------------
SELECT has_view('migrate', 'status', 'view migrate.status exists');
SELECT has_view('migrate', 'history', 'view migrate.history exists');

SELECT has_column('migrate', 'status', c, format('migrate.status has column %s', c))
FROM unnest(ARRAY['version', 'name', 'state', 'checksum', 'checksum_ok',
                  'applied_at', 'applied_by', 'duration', 'dependencies',
                  'description', 'author', 'created', 'risk_level',
                  'zero_downtime', 'estimated_duration', 'environments',
                  'transactional', 'statements', 'revertible',
                  'registered_at', 'last_error']) AS c;

SELECT hasnt_column('migrate', 'status', 'up_script', 'migrate.status exposes no up script');
SELECT hasnt_column('migrate', 'status', 'down_script', 'migrate.status exposes no down script');
SELECT is(count(*), 0::bigint, 'no column of migrate.status or migrate.history holds script text')
FROM information_schema.columns
WHERE table_schema = 'migrate' AND table_name IN ('status', 'history')
  AND column_name ~ '_script$';

SELECT has_column('migrate', 'history', c, format('migrate.history has column %s', c))
FROM unnest(ARRAY['id', 'action', 'version', 'name', 'role', 'time',
                  'duration', 'outcome', 'error', 'checksum', 'detail']) AS c;

-- ---------------------------------------------------------------------------
-- functions: signature, return type, never SECURITY DEFINER
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
SELECT has_function('migrate', 'register', ARRAY['text', 'text', 'text', 'text'],
                    'migrate.register(text, text, text, text) exists');
SELECT function_returns('migrate', 'register', ARRAY['text', 'text', 'text', 'text'], 'text',
                        'migrate.register() returns text');
SELECT has_function('migrate', 'apply', ARRAY['text'], 'migrate.apply(text) exists');
SELECT function_returns('migrate', 'apply', ARRAY['text'], 'setof record',
                        'migrate.apply() returns a set');
SELECT has_function('migrate', 'revert', ARRAY['integer', 'text', 'text', 'boolean'],
                    'migrate.revert(integer, text, text, boolean) exists');
SELECT function_returns('migrate', 'revert', ARRAY['integer', 'text', 'text', 'boolean'], 'setof record',
                        'migrate.revert() returns a set');
SELECT has_function('migrate', 'revert_all', ARRAY[]::text[], 'migrate.revert_all() exists');
SELECT function_returns('migrate', 'revert_all', ARRAY[]::text[], 'setof record',
                        'migrate.revert_all() returns a set');
SELECT has_function('migrate', 'repair', ARRAY['text', 'text', 'text'],
                    'migrate.repair(text, text, text) exists');
SELECT function_returns('migrate', 'repair', ARRAY['text', 'text', 'text'], 'text',
                        'migrate.repair() returns text');
SELECT has_function('migrate', 'require', ARRAY['text'], 'migrate.require(text) exists');
SELECT function_returns('migrate', 'require', ARRAY['text'], 'void',
                        'migrate.require(text) returns void');
SELECT has_function('migrate', 'event_is_append_only', ARRAY[]::text[],
                    'migrate.event_is_append_only() exists');
SELECT function_returns('migrate', 'event_is_append_only', ARRAY[]::text[], 'trigger',
                        'migrate.event_is_append_only() is a trigger function');

-- the result columns of apply, revert and revert_all
SELECT is(pg_get_function_result(p.oid),
          'TABLE(version text, name text, action text, state text, duration interval, statements integer)',
          format('migrate.%s() returns (version, name, action, state, duration, statements)', p.proname))
FROM pg_proc p
WHERE p.pronamespace = 'migrate'::regnamespace
  AND p.proname IN ('apply', 'revert', 'revert_all')
ORDER BY p.proname;

-- parameter names and defaults callers rely on
SELECT is(pg_get_function_arguments('migrate.register(text, text, text, text)'::regprocedure),
          'version text, name text, up text, down text DEFAULT NULL::text',
          'migrate.register(version, name, up, down DEFAULT NULL)');
SELECT is(pg_get_function_arguments('migrate.apply(text)'::regprocedure),
          'target text DEFAULT NULL::text',
          'migrate.apply(target DEFAULT NULL)');
SELECT is(pg_get_function_arguments('migrate.revert(integer, text, text, boolean)'::regprocedure),
          'steps integer DEFAULT NULL::integer, target text DEFAULT NULL::text, '
          'migration text DEFAULT NULL::text, cascade boolean DEFAULT false',
          'migrate.revert(steps, target, migration, cascade) all defaulted');
SELECT is(pg_get_function_arguments('migrate.repair(text, text, text)'::regprocedure),
          'version text, up text DEFAULT NULL::text, down text DEFAULT NULL::text',
          'migrate.repair(version, up DEFAULT NULL, down DEFAULT NULL)');

SELECT is(count(*), 0::bigint, 'no function in schema migrate is SECURITY DEFINER')
FROM pg_proc
WHERE pronamespace = 'migrate'::regnamespace AND prosecdef;

SELECT isnt_definer('migrate', f, args, format('migrate.%s() is not SECURITY DEFINER', f))
FROM (VALUES ('register', ARRAY['text', 'text', 'text', 'text']),
             ('apply', ARRAY['text']),
             ('revert', ARRAY['integer', 'text', 'text', 'boolean']),
             ('revert_all', ARRAY[]::text[]),
             ('repair', ARRAY['text', 'text', 'text']),
             ('require', ARRAY['text'])) AS v(f, args);

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
SELECT volatility_is('migrate', 'apply', ARRAY['text'], 'volatile',
                     'migrate.apply(text) is volatile');
SELECT volatility_is('migrate', 'register', ARRAY['text', 'text', 'text', 'text'], 'volatile',
                     'migrate.register() is volatile');

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

-- ---------------------------------------------------------------------------
-- pg_dump keeps the catalog's rows and sequence positions
-- ---------------------------------------------------------------------------
SELECT ok((SELECT extconfig @> ARRAY[c]::oid[] FROM pg_extension WHERE extname = 'migrate'),
          format('pg_extension_config_dump registered %s', c::regclass))
FROM unnest(ARRAY['migrate.migration'::regclass, 'migrate.event'::regclass,
                  'migrate.event_id_seq'::regclass, 'migrate.apply_seq'::regclass]) AS c;
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
                  'migrate.status'::regclass, 'migrate.history'::regclass]) AS c;

SELECT * FROM finish();
ROLLBACK;
