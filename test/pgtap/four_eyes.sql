-- Four eyes and approvals everywhere (issue 11, wp11-2), against hostile
-- roles:
--   fe_author    member of migrate_admin: registers migrations, and would
--                like to approve (and so apply) its own
--   fe_reviewer  member of migrate_admin and of fe_author: approves
--   fe_stranger  no migrate role at all
--   fe_reader    member of migrate_reader only
-- Everything runs in one transaction that is rolled back.
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
SELECT plan(21);

SET LOCAL migrate.progress_level = 'debug1';

CREATE ROLE fe_author LOGIN IN ROLE migrate_admin;
CREATE ROLE fe_reviewer LOGIN IN ROLE migrate_admin, fe_author;
CREATE ROLE fe_stranger LOGIN;
CREATE ROLE fe_reader LOGIN IN ROLE migrate_reader;
GRANT CREATE ON SCHEMA public TO fe_author;

SELECT ok(count(*) = 1, 'an environment with four eyes and required approval')
FROM migrate.configure('fe_prod', require_approval => true, four_eyes => true);
SET LOCAL migrate.environment = 'fe_prod';

SET LOCAL ROLE fe_author;
SELECT is(migrate.register('fe1', 'mine', 'CREATE TABLE fe_mine (id int);', 'DROP TABLE fe_mine;'),
          'registered', 'the author registers a migration');

-- the author tries to get its own migration applied
SELECT throws_ok($$SELECT * FROM migrate.apply()$$, 'MG011', NULL,
                 'the author cannot apply it unapproved');
SELECT throws_ok($$SELECT * FROM migrate.apply(force => true)$$, 'MG011', NULL,
                 'force does not override a missing approval');
SELECT throws_ok($$SELECT * FROM migrate.approve('fe1')$$, '42501', 'permission denied to approve migration "fe1"',
                 'four eyes: the author cannot approve its own migration');
SELECT throws_ok($$SELECT * FROM migrate.store_approval('fe1')$$, '42501', NULL,
                 'the author cannot call store_approval() directly');
SELECT throws_ok($$UPDATE migrate.migration SET approved_at = now(), approved_by = 'fe_reviewer' WHERE version = 'fe1'$$,
                 '42501', NULL, 'the author cannot forge an approval in the table');
SELECT throws_ok($$SET migrate.environment = ''$$, '42501', NULL,
                 'the author cannot leave the environment''s rules with SET');
SELECT throws_ok($$SELECT migrate.four_eyes_required()$$, '42501', NULL,
                 'four_eyes_required() is internal');
SELECT throws_ok($$SELECT migrate.configure('fe_prod', four_eyes => false)$$, '42501', NULL,
                 'the author cannot turn four eyes off');
RESET ROLE;
SELECT is((SELECT approved_at FROM migrate.status_detail WHERE version = 'fe1'), NULL,
          'after all that, fe1 is not approved');

-- the reviewer approves; then the author may apply it
SET LOCAL ROLE fe_reviewer;
SELECT is((SELECT approved_by FROM migrate.approve('fe1')), 'fe_reviewer'::name,
          'another role approves it');
SET LOCAL ROLE fe_author;
SELECT is((SELECT state FROM migrate.apply()), 'applied', 'the author applies it once approved');
RESET ROLE;

-- withdrawing an approval: migrate_admin only
SET LOCAL ROLE fe_author;
SELECT is(migrate.register('fe2', 'next', 'CREATE TABLE fe_next (id int);'), 'registered',
          'the author registers a second migration');
SET LOCAL ROLE fe_reviewer;
SELECT is((SELECT version FROM migrate.approve('fe2')), 'fe2', 'the reviewer approves it');
SET LOCAL ROLE fe_stranger;
SELECT throws_ok($$SELECT * FROM migrate.unapprove('fe2')$$, '42501', 'permission denied for function unapprove',
                 'a role without migrate privileges cannot unapprove');
SELECT throws_ok($$SELECT * FROM migrate.store_unapproval('fe2')$$, '42501', NULL,
                 'nor call store_unapproval() directly');
SET LOCAL ROLE fe_reader;
SELECT throws_ok($$SELECT * FROM migrate.unapprove('fe2')$$, '42501', 'permission denied for function unapprove',
                 'migrate_reader cannot unapprove');
SET LOCAL ROLE fe_author;
SELECT is((SELECT approved_by FROM migrate.unapprove('fe2')), 'fe_reviewer'::name,
          'a member of migrate_admin withdraws the approval (the safe direction)');
SELECT throws_ok($$SELECT * FROM migrate.apply()$$, 'MG011', NULL,
                 'fe2 no longer applies');
RESET ROLE;
SELECT is((SELECT count(*) FROM migrate.history WHERE action = 'unapprove' AND version = 'fe2'),
          1::bigint, 'the withdrawal is in the history');

SELECT * FROM finish();
ROLLBACK;
