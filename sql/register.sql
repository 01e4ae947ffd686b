-- Registration: checksums, headers, idempotence, replacement.
\set VERBOSITY terse

SELECT migrate.register(version => '20250101090000', name => 'create_users',
    up => $$-- Description: Create the users table
-- Author: Jane Doe
-- Created: 2025-01-01
-- @risk-level: low
-- @zero-downtime: true
-- @estimated-duration: 2 seconds
-- @environments: development, staging, production
CREATE TABLE reg_users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX reg_users_email ON reg_users (email);$$,
    down => 'DROP TABLE reg_users;');

SELECT s.version, s.name, s.state, s.checksum = migrate.checksum(m.up_script) AS checksum_matches,
       s.checksum_ok, s.applied_at, s.description, s.author, s.created, s.dependencies,
       s.risk_level, s.zero_downtime, s.estimated_duration, s.environments, s.transactional,
       s.statements, s.revertible, s.last_error
FROM migrate.status_detail s JOIN migrate.migration m USING (version);

-- the same content again changes nothing, even with CRLF line endings
SELECT migrate.register('20250101090000', 'create_users',
    replace((SELECT up_script FROM migrate.migration WHERE version = '20250101090000'), E'\n', E'\r\n'),
    'DROP TABLE reg_users;');

-- a down script is optional
SELECT migrate.register('20250102100000', 'seed_nothing', $$
-- @dependencies: 20250101090000
SELECT 1;$$);
SELECT version, dependencies, revertible FROM migrate.status_detail ORDER BY version;

-- changed content replaces the old one while the migration is not applied
SELECT migrate.register('20250102100000', 'seed_nothing', $$
-- @dependencies: 20250101090000
SELECT 2;$$, 'SELECT 3;');
SELECT version, statements, revertible FROM migrate.status_detail WHERE version = '20250102100000';
SELECT action, version, outcome, role, detail->>'previous_checksum' IS NOT NULL AS replaced
FROM migrate.history ORDER BY id;

-- a migration that cannot run inside a transaction block is recorded as such
SELECT migrate.register('20250103000000', 'concurrent_index',
    'CREATE INDEX CONCURRENTLY reg_users_id ON reg_users (id);', 'DROP INDEX CONCURRENTLY reg_users_id;');
SELECT migrate.register('20250103000001', 'marked_non_transactional', E'-- @transaction: false\nSELECT 1;');
SELECT version, transactional FROM migrate.status_detail WHERE version LIKE '20250103%';

-- versions compare naturally, so "1" and "001" are the same version
SELECT migrate.register('1', 'one', 'SELECT 1;');
SELECT migrate.register('001', 'one', 'SELECT 1;');
-- a version is one migration: another name is a duplicate
SELECT migrate.register('1', 'another', 'SELECT 1;');

-- refused before anything is stored
SELECT migrate.register(NULL, 'x', 'SELECT 1;');
SELECT migrate.register('2', NULL, 'SELECT 1;');
SELECT migrate.register('2', 'x', NULL);
SELECT migrate.register('2', '  ', 'SELECT 1;');
SELECT migrate.register('2 0', 'x', 'SELECT 1;');
SELECT migrate.register('2', 'x', 'SELECT 1;', NULL, '-- a verify script that checks nothing');
SELECT migrate.register('2', 'x', E'-- @dependencies: 02\nSELECT 1;');
SELECT migrate.register('2', 'x', E'-- @transaction: true\nVACUUM;');
SELECT migrate.register('2', 'x', 'SELECT 1; ROLLBACK;');
SELECT migrate.register('2', 'x', 'SELECT 1;', 'SELEC 1;');
SELECT migrate.register('2', 'x', E'-- @risk-level: catastrophic\nSELECT 1;');
SELECT count(*) FROM migrate.status WHERE version = '2';

-- clean up for the next test
DROP EXTENSION migrate;
CREATE EXTENSION migrate;

-- empty up or down scripts, or scripts of comments only, are no-op
-- migrations (one file per SQL dialect, placeholders that keep the
-- numbering); an empty down script is a no-op revert, unlike a missing one
SELECT migrate.register('10', 'placeholder', '');
SELECT migrate.register('11', 'mysql only', E'-- This change is for MySQL only.\n/* nothing to do here */\n', '-- nothing to undo');
SELECT migrate.register('12', 'no down script', '-- nothing');
SELECT migrate.register('13', 'wrapped', E'BEGIN;\n-- nothing\nCOMMIT;\n', '');
SELECT migrate.register('14', 'outside a transaction', E'-- @transaction: false\n-- nothing yet\n', E'-- @transaction: false\n');
SELECT version, statements, transactional, down_transactional,
       down_script IS NOT NULL AS has_down
FROM migrate.migration ORDER BY version_key;
SELECT version, action, state, statements FROM migrate.apply();
SELECT version, state, applied_at IS NOT NULL AS applied_at FROM migrate.status;
SELECT version, action, state FROM migrate.revert(migration => '14');
SELECT version, action, state FROM migrate.revert(migration => '13');
SELECT version, action, state FROM migrate.revert(migration => '11');
-- a missing down script still cannot be reverted
SELECT * FROM migrate.revert(migration => '12');
SELECT version, state FROM migrate.status;
SELECT action, version, outcome FROM migrate.history
WHERE action IN ('apply', 'revert') ORDER BY id;

-- content identical to what is registered is "unchanged" without being
-- validated again: a script that an earlier release accepted (1.0 took an
-- environment name with a blank, which 1.1's header parser refuses) must
-- not fail a deploy that registers every file again
SELECT migrate.register('20', 'registered by an earlier release', 'SELECT 1;');
UPDATE migrate.migration
   SET up_script = E'-- @environments: eu west\nSELECT 1;',
       checksum = migrate.checksum(E'-- @environments: eu west\nSELECT 1;')
 WHERE version = '20';
SELECT migrate.register('20', 'registered by an earlier release',
                        E'-- @environments: eu west\nSELECT 1;');
-- new content is validated as usual
SELECT migrate.register('20', 'registered by an earlier release',
                        E'-- @environments: eu west\nSELECT 2;');
SELECT migrate.register('21', 'new', E'-- @environments: eu west\nSELECT 1;');

-- a name may not hold control characters: messages print names as they
-- are, and a newline would forge a line of the server log
\set VERBOSITY default
SELECT migrate.register('22', E'orders\nLOG:  forged', 'SELECT 1;');
SELECT migrate.register('22', E'tab\there', 'SELECT 1;');
SELECT migrate.register('22', E'caf\u00e9\u001b[31m', 'SELECT 1;');
\set VERBOSITY terse
-- one registered before names were checked stays accepted unchanged,
-- and repair() works on it
SELECT migrate.register('22', 'legacy', 'SELECT 1;');
UPDATE migrate.migration SET name = E'legacy\tname' WHERE version = '22';
SELECT migrate.register('22', E'legacy\tname', 'SELECT 1;');
SELECT migrate.register('22', E'legacy\tname', 'SELECT 2;');
SELECT migrate.repair('22', up => 'SELECT 3;');

-- clean up for the next test
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
