-- Environments (issue 11): migrate.environment selects a row of
-- migrate.environment_setting; migrate.effective_settings shows it;
-- migrate.configure() changes it, in history; a migration whose
-- @environments leave the environment out is recorded as skipped.
\set VERBOSITY terse

-- ---------------------------------------------------------------------------
-- the three environments the extension creates, and their defaults
-- ---------------------------------------------------------------------------
SELECT environment, lock_timeout, statement_timeout, lock_retries, lock_retry_backoff,
       require_approval, four_eyes, backup, backup_retention, revert_window,
       max_risk_level, require_zero_downtime, drift_blocks_apply
FROM migrate.environment_setting ORDER BY environment;

-- no environment (the default): every rail off
SHOW migrate.environment;
SELECT * FROM migrate.effective_settings;

-- production's rails
SET migrate.environment = 'production';
SELECT environment, configured, lock_timeout, lock_retries, require_approval, backup,
       revert_window, max_risk_level, require_zero_downtime
FROM migrate.effective_settings;

-- a name without a row: configured is false, and nothing applies (MG016)
SET migrate.environment = 'qa';
SELECT environment, configured, require_approval, backup FROM migrate.effective_settings;
SELECT migrate.register('e1', 'anything', 'CREATE TABLE env_anything (id int);');
SELECT * FROM migrate.apply();
SELECT to_regclass('env_anything') AS nothing_ran;
RESET migrate.environment;
SELECT version, state FROM migrate.apply();

-- ---------------------------------------------------------------------------
-- configure(): each argument given replaces its setting, reset puts a
-- setting back to its default (off); each call is a history row
-- ---------------------------------------------------------------------------
SELECT environment, lock_retries, revert_window, changed_by
FROM migrate.configure('production', lock_retries => 3, reset => '{revert_window}');
SELECT detail FROM migrate.history WHERE action = 'configure' ORDER BY id DESC LIMIT 1;
-- nothing given: nothing changes, still recorded
SELECT environment, lock_retries FROM migrate.configure('production');
SELECT detail FROM migrate.history WHERE action = 'configure' ORDER BY id DESC LIMIT 1;
-- an environment that does not exist is created, with every rail off
SELECT environment, lock_timeout, require_approval, backup, revert_window
FROM migrate.configure('qa', require_approval => true, lock_timeout => '2s');
SELECT detail FROM migrate.history WHERE action = 'configure' ORDER BY id DESC LIMIT 1;
SELECT action, outcome, role, version FROM migrate.history WHERE action = 'configure' ORDER BY id;
SET migrate.environment = 'qa';
SELECT environment, configured, lock_timeout, require_approval FROM migrate.effective_settings;
RESET migrate.environment;
-- reset of a setting that has no NULL: its default
SELECT environment, lock_timeout, require_approval
FROM migrate.configure('qa', reset => '{lock_timeout,require_approval}');

-- values are checked, each with a message saying what is allowed
\set VERBOSITY default
SELECT migrate.configure('', backup => 'copy');
SELECT migrate.configure(' qa', backup => 'copy');
SELECT migrate.configure(NULL, backup => 'copy');
SELECT migrate.configure('qa', backup => 'tape');
SELECT migrate.configure('qa', lock_timeout => '-1 s');
SELECT migrate.configure('qa', statement_timeout => '30 days');
SELECT migrate.configure('qa', lock_retries => 101);
SELECT migrate.configure('qa', lock_retry_backoff => '2 hours');
SELECT migrate.configure('qa', backup_retention => '0');
SELECT migrate.configure('qa', revert_window => '-1 day');
SELECT migrate.configure('qa', max_risk_level => 'extreme');
SELECT migrate.configure('qa', reset => '{lock_timout}');
SELECT migrate.configure('qa', backup => 'copy', reset => '{backup}');
\set VERBOSITY terse
-- none of them changed anything or left a history row
SELECT count(*) AS configure_events FROM migrate.history WHERE action = 'configure';
SELECT backup FROM migrate.environment_setting WHERE environment = 'qa';

-- a restored dump's row replaces the one CREATE EXTENSION made (pg_dump
-- writes the table's rows after CREATE EXTENSION)
INSERT INTO migrate.environment_setting (environment, lock_retries, backup)
VALUES ('staging', 9, 'off');
SELECT environment, lock_timeout, lock_retries, backup
FROM migrate.environment_setting WHERE environment = 'staging';

-- ---------------------------------------------------------------------------
-- @environments: skipped where it is not meant to run, in order, done
-- ---------------------------------------------------------------------------
SELECT migrate.register('e2', 'accounts', 'CREATE TABLE env_accounts (id int, name text);',
                        'DROP TABLE env_accounts;');
SELECT migrate.register('e3', 'seed_accounts',
                        E'-- @environments: development, staging\nINSERT INTO env_accounts VALUES (1, ''test'');',
                        'DELETE FROM env_accounts;');
SELECT migrate.register('e4', 'account_email',
                        E'-- @dependencies: e3\nALTER TABLE env_accounts ADD COLUMN email text;',
                        'ALTER TABLE env_accounts DROP COLUMN email;');
-- an environment of its own, every rail off, so that only the skip shows
SELECT environment, require_approval, backup FROM migrate.configure('ci');
SET migrate.environment = 'ci';
\set VERBOSITY default
-- a dry run says it would skip it, and leaves it pending
SELECT version, action, state, CASE WHEN action = 'would skip' THEN note END AS note
FROM migrate.apply(dry_run => true);
SELECT version, state FROM migrate.status WHERE version LIKE 'e_' ORDER BY version;
-- apply skips it and goes on: e4 depends on it, and runs
SELECT version, action, state, statements, note FROM migrate.apply();
\set VERBOSITY terse
-- skipped in its place in the order of application, with when and by whom
SELECT version, state, applied_at IS NOT NULL AS has_time, applied_by
FROM migrate.migration WHERE version IN ('e2', 'e3', 'e4') ORDER BY apply_seq;
SELECT count(*) AS seed_rows FROM env_accounts;
SELECT version, outcome, detail FROM migrate.history
WHERE action = 'apply' AND version IN ('e2', 'e3', 'e4') ORDER BY id;
-- done: nothing left to apply, and plan() shows nothing
SELECT * FROM migrate.apply();
SELECT count(*) AS planned FROM migrate.plan();
-- require(): a skipped migration is done in this environment
SELECT migrate.require('e3');
-- revert passes over it: it stays skipped
SELECT version, action, state FROM migrate.revert(steps => 2);
SELECT version, state FROM migrate.status WHERE version LIKE 'e_' ORDER BY version;
SELECT version, action, state FROM migrate.apply();
-- a skipped migration is not reverted by name
SELECT * FROM migrate.revert(migration => 'e3');

-- in development it would have run; new content for it (here its header)
-- makes it pending again, to be decided anew
SELECT migrate.register('e3', 'seed_accounts',
                        E'-- @environments: development, staging, ci\nINSERT INTO env_accounts VALUES (1, ''test'');',
                        'DELETE FROM env_accounts;');
SELECT version, state, applied_at FROM migrate.status WHERE version = 'e3';
SELECT version, action, state FROM migrate.apply();
SELECT count(*) AS seed_rows FROM env_accounts;

-- without an environment, @environments does not filter apply() (1.0)
RESET migrate.environment;
SELECT migrate.register('e5', 'dev_only', E'-- @environments: development\nCREATE TABLE env_dev_only (id int);');
SELECT version, action, state FROM migrate.apply();

-- the apply worker (a migration that cannot run in a transaction block)
-- obeys the caller's environment, also one SET in the session
SET migrate.environment = 'ci';
SELECT migrate.register('e8', 'dev_index',
                        E'-- @environments: development\nCREATE INDEX CONCURRENTLY env_dev_idx ON env_accounts (id);');
SELECT migrate.register('e9', 'index', 'CREATE INDEX CONCURRENTLY env_idx ON env_accounts (id);');
SELECT version, action, state, note FROM migrate.apply();
SELECT to_regclass('env_dev_idx') AS dev_index, to_regclass('env_idx') AS index;
SELECT version, outcome, detail->>'environment' AS environment FROM migrate.history
WHERE action = 'apply' AND version IN ('e8', 'e9') ORDER BY id;

-- a skip inside a run that fails is undone with the run
SELECT migrate.register('e6', 'dev_seed', E'-- @environments: development\nSELECT 1;');
SELECT migrate.register('e7', 'broken', 'SELECT * FROM env_missing;');
SELECT * FROM migrate.apply();
SELECT version, state FROM migrate.status WHERE version IN ('e6', 'e7') ORDER BY version;
RESET migrate.environment;

DROP EXTENSION migrate;
DROP TABLE env_anything, env_accounts, env_dev_only;
CREATE EXTENSION migrate;
