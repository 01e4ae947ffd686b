-- Edits of applied migrations are refused until repair() accepts them.
SET migrate.progress_level = 'debug1';  -- progress DETAIL holds timings
SELECT migrate.register('1', 'users', 'CREATE TABLE rp_users (id int);', 'DROP TABLE rp_users;');
SELECT version FROM migrate.apply();

-- changed content of an applied migration: refused, showing both checksums
SELECT migrate.register('1', 'users', 'CREATE TABLE rp_users (id bigint);', 'DROP TABLE rp_users;');
SELECT migrate.register('1', 'users', 'CREATE TABLE rp_users (id int);', 'DROP TABLE rp_users CASCADE;');
-- nothing changed
SELECT state, checksum = migrate.checksum('CREATE TABLE rp_users (id int);') AS same, checksum_ok
FROM migrate.status_detail;

\set VERBOSITY terse
-- repair with new content accepts the edit and records it
SELECT migrate.repair('1', up => 'CREATE TABLE rp_users (id bigint);');
SELECT state, checksum = migrate.checksum('CREATE TABLE rp_users (id bigint);') AS new_content, checksum_ok
FROM migrate.status_detail;
SELECT action, version, outcome, role,
       detail->>'previous_checksum' = migrate.checksum('CREATE TABLE rp_users (id int);') AS old_recorded,
       detail->>'checksum' = migrate.checksum('CREATE TABLE rp_users (id bigint);') AS new_recorded
FROM migrate.history WHERE action = 'repair';
-- registering the repaired content is now a no-op; repairing again too
SELECT migrate.register('1', 'users', 'CREATE TABLE rp_users (id bigint);', 'DROP TABLE rp_users;');
SELECT migrate.repair('1', up => 'CREATE TABLE rp_users (id bigint);');

-- an out-of-band edit of the catalog shows as checksum_ok = false ...
UPDATE migrate.migration SET up_script = 'CREATE TABLE rp_users (id numeric);',
    checksum = migrate.checksum('CREATE TABLE rp_users (id numeric);') WHERE version = '1';
SELECT version, checksum_ok FROM migrate.status_detail;
-- ... until repair() without scripts acknowledges it
SELECT migrate.repair('1');
SELECT version, checksum_ok FROM migrate.status_detail;
SELECT migrate.repair('1');
SELECT count(*) AS repairs FROM migrate.history WHERE action = 'repair';

-- repair of a pending migration just replaces its content
SELECT migrate.register('2', 'pending', 'SELECT 1;');
SELECT migrate.repair('2', up => 'SELECT 2;', down => 'SELECT 3;');
SELECT version, state, revertible, checksum_ok FROM migrate.status_detail WHERE version = '2';

-- errors
SELECT migrate.repair('9');
SELECT migrate.repair(NULL);
SELECT migrate.repair('1', up => 'COMMIT;');

DROP TABLE rp_users;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
