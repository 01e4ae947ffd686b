-- Guard rails that decide whether a migration may run (issue 11, wp11-2):
-- approvals everywhere (require_approval, four_eyes, unapprove()), the risk
-- gate (max_risk_level, require_zero_downtime), the revert window, force
-- recorded in the history, expect_fingerprint, plan()'s view of all that.
-- Every refusal shows its SQLSTATE (pg_temp.try).
\set VERBOSITY default
SET migrate.progress_level = 'debug1';  -- no per-migration NOTICEs

-- the SQLSTATE, message, detail and hint of a statement's error (times and
-- fingerprints masked)
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
    detail := regexp_replace(detail, '\d{4}-\d\d-\d\d [0-9:.+-]+', '<time>', 'g');
    detail := regexp_replace(detail, '[0-9a-f]{64}', '<fingerprint>', 'g');
    RETURN state || ': ' || message
        || coalesce(E'\nDETAIL: ' || nullif(detail, ''), '')
        || coalesce(E'\nHINT: ' || nullif(hint, ''), '');
END
$$;

-- an author registers, a reviewer (with the author's privileges, as
-- approve() requires for scheduled runs) approves
CREATE ROLE gr_author LOGIN IN ROLE migrate_admin;
CREATE ROLE gr_reviewer LOGIN IN ROLE migrate_admin, gr_author;
SET ROLE gr_author;
SELECT migrate.register('g1', 'low', E'-- @risk-level: low\nCREATE TABLE gr_low (id int);', 'DROP TABLE gr_low;');
SELECT migrate.register('g2', 'high', E'-- @risk-level: high\nCREATE TABLE gr_high (id int);', 'DROP TABLE gr_high;');
SELECT migrate.register('g3', 'blocking', E'-- @zero-downtime: false\nCREATE TABLE gr_blocking (id int);', 'DROP TABLE gr_blocking;');
SELECT migrate.register('g4', 'undeclared', 'CREATE TABLE gr_undeclared (id int);', 'DROP TABLE gr_undeclared;');
RESET ROLE;

-- an environment with every rail of this package on
SELECT count(*) FROM migrate.configure('gr_prod', require_approval => true, four_eyes => true,
                                       max_risk_level => 'medium', require_zero_downtime => true,
                                       revert_window => '1 day');
SET migrate.environment = 'gr_prod';

-- ---------------------------------------------------------------------------
-- require_approval: the whole call is refused, naming every unapproved one
-- ---------------------------------------------------------------------------
SELECT pg_temp.try('SELECT * FROM migrate.apply()');
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g1'')');
-- a dry run says what the real call would do: refused too
SELECT pg_temp.try('SELECT * FROM migrate.apply(dry_run => true)');
-- force never overrides an approval
SELECT pg_temp.try('SELECT * FROM migrate.apply(force => true)');
SELECT version, state FROM migrate.status ORDER BY version;
-- plan() shows what waits, with its result shape unchanged
SELECT ordinal, version, action, reason, skip, skip_reason FROM migrate.plan();

-- ---------------------------------------------------------------------------
-- four_eyes: the registrant may not approve; another role may
-- ---------------------------------------------------------------------------
SET ROLE gr_author;
SELECT pg_temp.try('SELECT * FROM migrate.approve(''g1'')');
SET ROLE gr_reviewer;
SELECT version, approved_by FROM migrate.approve('g1');
RESET ROLE;
-- one approved, three not: still refused whole, g1 not applied
SELECT pg_temp.try('SELECT * FROM migrate.apply()');
SELECT version, state FROM migrate.status WHERE version = 'g1';
SELECT version, action, state FROM migrate.apply(target => 'g1');

-- an approval given by the registrant before four_eyes was on does not count
SELECT count(*) FROM migrate.configure('gr_prod', four_eyes => false);
SET ROLE gr_author;
SELECT version, approved_by FROM migrate.approve('g4');
RESET ROLE;
SELECT count(*) FROM migrate.configure('gr_prod', four_eyes => true);
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g4'')');
SELECT version, action, reason FROM migrate.plan() WHERE version = 'g4';
-- what a schedule waits for counts four eyes too
SELECT migrate.awaiting_approval(NULL);

-- ---------------------------------------------------------------------------
-- unapprove(): withdraws an approval, recorded in the history
-- ---------------------------------------------------------------------------
SELECT version, name, approved_by, approved_at IS NOT NULL AS had_time FROM migrate.unapprove('g4');
SELECT approved_by, approved_at FROM migrate.status_detail WHERE version = 'g4';
SELECT action, version, detail->>'approved_by' AS withdrawn, detail ? 'approved_at' AS with_time
FROM migrate.history WHERE action = 'unapprove';
SELECT pg_temp.try('SELECT * FROM migrate.unapprove(''g4'')');
SELECT pg_temp.try('SELECT * FROM migrate.unapprove(''nope'')');

-- ---------------------------------------------------------------------------
-- the risk gate: above max_risk_level, or not zero-downtime, needs force or
-- an approval (approvals no longer required, to see the gate alone)
-- ---------------------------------------------------------------------------
SELECT count(*) FROM migrate.configure('gr_prod', require_approval => false);
SELECT ordinal, version, action, reason FROM migrate.plan();
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g2'')');
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g2'', dry_run => true)');
SELECT version, action, state FROM migrate.apply(target => 'g2', force => true);
SELECT version, detail->'forced' AS forced FROM migrate.history
WHERE action = 'apply' AND version = 'g2';
-- an approval opens the gate without force
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g3'')');
SET ROLE gr_reviewer;
SELECT version FROM migrate.approve('g3');
RESET ROLE;
SELECT version, action, state FROM migrate.apply(target => 'g3');
SELECT version, detail->'forced' AS forced FROM migrate.history
WHERE action = 'apply' AND version = 'g3';
-- an undeclared @risk-level passes the ceiling
SELECT version, action, state FROM migrate.apply(target => 'g4');

-- ---------------------------------------------------------------------------
-- the revert window: applied longer ago needs force (recorded)
-- ---------------------------------------------------------------------------
UPDATE migrate.migration SET applied_at = applied_at - interval '2 days' WHERE version IN ('g1', 'g4');
SELECT pg_temp.try('SELECT * FROM migrate.revert()');
SELECT pg_temp.try('SELECT * FROM migrate.revert(dry_run => true)');
SELECT version, state FROM migrate.status WHERE version = 'g4';
SELECT version, action, state FROM migrate.revert(force => true);
SELECT version, detail->'forced' AS forced FROM migrate.history
WHERE action = 'revert' AND version = 'g4';
-- applied within the window: no force needed, nothing recorded as forced
SELECT version, action, state FROM migrate.revert(migration => 'g3');
SELECT version, detail->'forced' AS forced FROM migrate.history
WHERE action = 'revert' AND version = 'g3';
-- revert_all() obeys it too (g1 is old, g2 recent)
SELECT pg_temp.try('SELECT * FROM migrate.revert_all()');
SELECT version, state FROM migrate.status WHERE version IN ('g1', 'g2') ORDER BY version;
SELECT version, action, state FROM migrate.revert_all(force => true);
-- force is recorded only where it overrode something
SELECT version, detail->'forced' AS forced FROM migrate.history
WHERE action = 'revert' AND version IN ('g1', 'g2') ORDER BY version;

-- ---------------------------------------------------------------------------
-- expect_fingerprint: apply() runs only on the schema a plan was reviewed on
-- ---------------------------------------------------------------------------
SELECT count(*) FROM migrate.configure('gr_prod', max_risk_level => 'high', require_zero_downtime => false);
SELECT migrate.fingerprint() AS reviewed \gset
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g1'', expect_fingerprint => ''0000'')');
SELECT version, state FROM migrate.status WHERE version = 'g1';
SELECT version, action, state FROM migrate.apply(target => 'g1', expect_fingerprint => :'reviewed');
-- the schema changed since: the same fingerprint is refused now
SELECT pg_temp.try(format('SELECT * FROM migrate.apply(expect_fingerprint => %L)', :'reviewed'));
-- checked even with nothing to do
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g1'', expect_fingerprint => ''0000'')');

-- ---------------------------------------------------------------------------
-- deploy() obeys the same rules, and passes force and expect_fingerprint on
-- ---------------------------------------------------------------------------
SELECT count(*) FROM migrate.configure('gr_prod', require_approval => true, max_risk_level => 'medium');
\set VERBOSITY sqlstate
CALL migrate.deploy();
CALL migrate.deploy(batch_size => 1);
\set VERBOSITY default
SELECT version, state FROM migrate.status ORDER BY version;
SELECT count(*) FROM migrate.configure('gr_prod', require_approval => false);
\set VERBOSITY sqlstate
CALL migrate.deploy(batch_size => 1);
CALL migrate.deploy(expect_fingerprint => '0000');
\set VERBOSITY default
CALL migrate.deploy(batch_size => 1, force => true);
SELECT version, state FROM migrate.status ORDER BY version;
SELECT version, detail->'forced' AS forced FROM migrate.history
WHERE action = 'apply' AND version = 'g2' ORDER BY id DESC LIMIT 1;

-- ---------------------------------------------------------------------------
-- a migration the environment skips (@environments) needs no approval, and
-- plan() says it is skipped
-- ---------------------------------------------------------------------------
SET ROLE gr_author;
SELECT migrate.register('g5', 'dev_seed', E'-- @environments: development\nCREATE TABLE gr_seed (id int);', 'DROP TABLE gr_seed;');
RESET ROLE;
SELECT count(*) FROM migrate.configure('gr_prod', require_approval => true);
SELECT ordinal, version, action, reason, skip, skip_reason FROM migrate.plan();
SELECT version, action, state FROM migrate.apply();

-- ---------------------------------------------------------------------------
-- force on the worker path: a plan handed to the apply worker (it holds a
-- non-transactional migration) records what force let through as well
-- ---------------------------------------------------------------------------
SELECT count(*) FROM migrate.configure('gr_prod', require_approval => false);
CREATE TABLE gr_idx (i int);
SELECT migrate.register('g6', 'concurrent_index', E'-- @risk-level: high\nCREATE INDEX CONCURRENTLY gr_idx_i ON gr_idx (i);',
                        'DROP INDEX gr_idx_i;');
SELECT pg_temp.try('SELECT * FROM migrate.apply(target => ''g6'')');
SELECT version, action, state FROM migrate.apply(target => 'g6', force => true);
SELECT version, detail->'forced' AS forced FROM migrate.history
WHERE action = 'apply' AND version = 'g6';

-- ---------------------------------------------------------------------------
-- no environment: every rail off, as in 1.0
-- ---------------------------------------------------------------------------
RESET migrate.environment;
SELECT version, action, state FROM migrate.revert_all();
SELECT ordinal, version, action, reason FROM migrate.plan();
SELECT version, action, state FROM migrate.apply();
SELECT version, action, state FROM migrate.revert_all();

DROP EXTENSION migrate;
DROP TABLE gr_idx;
DROP ROLE gr_author;
DROP ROLE gr_reviewer;
CREATE EXTENSION migrate;
