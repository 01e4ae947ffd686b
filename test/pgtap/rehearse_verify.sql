-- test/pgtap/rehearse_verify.sql: rehearse() runs a migration's verify
-- script through the same engine entry point as apply()
-- (migrate_engine_verify), and still tells its two failures apart:
--   - a check that returns false is the step "verify", with apply()'s
--     message;
--   - a verify script that raises an error fails the step "up";
-- and a check that holds passes.  Everything runs in one transaction,
-- rolled back (apply() is not called: it records its failures durably,
-- outside the transaction; sql/safety.sql checks its message).
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
SELECT plan(4);
SET LOCAL client_min_messages = warning;

\o /dev/null
SELECT migrate.register('9001', 'verify_holds', 'CREATE TABLE public.rv_holds (id int);',
                        'DROP TABLE public.rv_holds;',
                        verify => 'SELECT count(*) = 0 FROM public.rv_holds');
SELECT migrate.register('9002', 'verify_false', 'CREATE TABLE public.rv_false (id int);',
                        'DROP TABLE public.rv_false;',
                        verify => 'SELECT false AS never');
\o

SELECT results_eq($$SELECT version, ok, failed_step FROM migrate.rehearse()
                    WHERE version IN ('9001', '9002') ORDER BY version$$,
                  $$VALUES ('9001', true, NULL::text), ('9002', false, 'verify')$$,
                  'a verify check that holds passes; one that returns false fails the step "verify"');
SELECT ok((SELECT error FROM migrate.rehearse() WHERE version = '9002')
          LIKE 'verification of migration "9002" failed (%',
          '... with the message apply() gives for it');

-- a verify script that fails (rather than returns false) fails the up step
\o /dev/null
SELECT migrate.register('9002', 'verify_false', 'CREATE TABLE public.rv_false (id int);',
                        'DROP TABLE public.rv_false;',
                        verify => 'SELECT 1 / 0 = 1');
\o
SELECT is((SELECT failed_step FROM migrate.rehearse() WHERE version = '9002'), 'up',
          'a verify script that raises an error fails the step "up"');
SELECT is((SELECT count(*)::int FROM migrate.status WHERE state <> 'pending'), 0,
          'rehearse() applied nothing');

SELECT * FROM finish();
ROLLBACK;
