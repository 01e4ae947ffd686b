#!/usr/bin/env bash
# test/scenario/worker_privileges.sh: the scheduler gives nobody more
# privileges than they have.
#
# The scheduler is a superuser process, but it runs no migration SQL: each
# scheduled migration runs in a worker of its own, connected as the role
# that registered it (migrate.worker_role being empty).  A member of
# migrate_admin who registers, approves and schedules
#   1. a migration creating a table: it is applied, and the table is owned
#      by that member, and history names the member;
#   2. a migration trying ALTER ROLE ... SUPERUSER on itself: it fails with
#      the member's own privileges, the member does not become superuser,
#      and the failed migration is then held back (not retried every run)
#      until it is registered again;
#   3. a migration that first tries RESET ROLE (to get back to a superuser
#      identity): there is none to get back to, and still no superuser;
#   4. finding 1 of issue 7, as reproduced there: a role "dep" owning schema
#      dep registers a migration whose deferred constraint trigger runs
#      ALTER ROLE dep SUPERUSER when it fires (at the end of the script on
#      the worker path, before the commit).  It must run as dep (and fail),
#      never as the superuser: dep stays an ordinary role, the migration is
#      failed with the error, and it is not retried;
#   5. finding 9: pause(), resume() and schedule() called from a scheduled
#      migration are recorded as its registrant, not as the superuser;
#   6. a role without LOGIN: approve() refuses a migration that would run
#      as it (PostgreSQL 15 refuses the worker's connection), and one
#      approved while the role could still log in is held back by the
#      scheduler, with the reason in the history and in last_outcome,
#      never run as anyone else;
#   7. migrate.worker_role set (reload): the held-back migration runs as
#      that role instead;
#   8. a role that may log in but has no CONNECT on the database: its
#      worker exits (FATAL) without a result; the run fails once, naming
#      the role, and the migration runs once CONNECT is granted.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_privileges
ADMIN=migrate_privileges_admin
DEP=migrate_privileges_dep
NOLOGIN=migrate_privileges_nologin
NOCONNECT=migrate_privileges_noconnect
scenario_init worker_privileges "$DB"
require_preload
_drop_roles() {
    psql -X -q -d postgres -c "ALTER SYSTEM RESET migrate.worker_role" \
        -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $ADMIN, $DEP, $NOLOGIN, $NOCONNECT" >/dev/null 2>&1 || true
}
scenario_on_exit _drop_roles

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $ADMIN;
CREATE ROLE $ADMIN LOGIN;
GRANT migrate_admin TO $ADMIN;
GRANT CREATE ON SCHEMA public TO $ADMIN;
SET ROLE $ADMIN;
SELECT migrate.register('1', 'own_table', 'CREATE TABLE priv_t (id int);');
SELECT migrate.register('2', 'escalate', 'ALTER ROLE $ADMIN SUPERUSER;');
SELECT migrate.approve('1');
SELECT migrate.approve('2');
SELECT migrate.schedule('often', every => '1 second');
SQL

wait_value 30 "failed" "$DB" "SELECT state FROM migrate.status WHERE version = '2'" ||
    fail "the escalating migration did not fail (state: $WAIT_LAST)"
expect "1 is applied by the scheduler as $ADMIN" \
    "$(val "$DB" -c "SELECT state || ' ' || applied_by FROM migrate.status WHERE version = '1'")" \
    "applied $ADMIN"
expect "the table 1 created belongs to $ADMIN" \
    "$(val "$DB" -c "SELECT tableowner FROM pg_tables WHERE tablename = 'priv_t'")" "$ADMIN"
expect "2 failed with $ADMIN's own privileges (42501)" \
    "$(val "$DB" -c "SELECT last_error->>'sqlstate' FROM migrate.status_detail WHERE version = '2'")" "42501"
expect "$ADMIN is not a superuser" \
    "$(val postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$ADMIN'")" "f"
expect "history names $ADMIN for both attempts" \
    "$(val "$DB" -c "SELECT string_agg(DISTINCT role, ',') FROM migrate.history WHERE action = 'apply'")" "$ADMIN"

# a failed migration waits for a fix instead of failing on every firing
failures="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE version = '2' AND outcome = 'failure'")"
sleep 3
expect "2 is not retried while it is failed" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE version = '2' AND outcome = 'failure'")" \
    "$failures"
sql "$DB" -c "SET ROLE $ADMIN" \
    -c "SELECT migrate.register('2', 'escalate', 'SELECT 2;')" \
    -c "SELECT migrate.approve('2')" >/dev/null
wait_value 30 "applied" "$DB" "SELECT state FROM migrate.status WHERE version = '2'" ||
    fail "2 was not applied after it was registered again (state: $WAIT_LAST)"
pass "a failed migration registered again is pending, and the schedule applies it"

sql "$DB" -c "SET ROLE $ADMIN" \
    -c "SELECT migrate.register('3', 'reset_role', 'RESET ROLE; ALTER ROLE $ADMIN SUPERUSER;')" \
    -c "SELECT migrate.approve('3')" >/dev/null
wait_value 30 "failed" "$DB" "SELECT state FROM migrate.status WHERE version = '3'" ||
    fail "the RESET ROLE migration did not fail (state: $WAIT_LAST)"
expect "RESET ROLE in a scheduled migration goes back to $ADMIN itself: ALTER ROLE is refused" \
    "$(val "$DB" -c "SELECT last_error->>'statement' || ' ' || (last_error->>'sqlstate') FROM migrate.status_detail WHERE version = '3'")" \
    "2 42501"
expect "$ADMIN is still not a superuser" \
    "$(val postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$ADMIN'")" "f"
# a failed migration holds back everything after it: replace it
sql "$DB" -c "SET ROLE $ADMIN" -c "SELECT migrate.register('3', 'reset_role', 'SELECT 3;')" \
    -c "SELECT migrate.approve('3')" >/dev/null

# --- 4. finding 1: a deferred trigger runs as the registrant ----------------
sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
DROP ROLE IF EXISTS $DEP;
CREATE ROLE $DEP LOGIN;
GRANT migrate_admin TO $DEP;
CREATE SCHEMA dep AUTHORIZATION $DEP;
SET ROLE $DEP;
SELECT migrate.register('4', 'deferred_escalation', \$up\$
CREATE TABLE dep.t (id int);
CREATE FUNCTION dep.escalate() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN
    EXECUTE 'ALTER ROLE $DEP SUPERUSER';
    RETURN NULL;
END
\$f\$;
CREATE CONSTRAINT TRIGGER escalate AFTER INSERT ON dep.t
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dep.escalate();
INSERT INTO dep.t VALUES (1);
\$up\$);
SELECT migrate.approve('4');
SQL
wait_value 30 "failed" "$DB" "SELECT state FROM migrate.status WHERE version = '4'" ||
    fail "the deferred-trigger migration did not fail (state: $WAIT_LAST)"
expect "$DEP is not a superuser after its deferred trigger ran" \
    "$(val postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$DEP'")" "f"
expect "the deferred trigger failed with $DEP's privileges (42501)" \
    "$(val "$DB" -c "SELECT last_error->>'sqlstate' FROM migrate.status_detail WHERE version = '4'")" \
    "42501"
expect "history: the failed apply of 4 is $DEP's" \
    "$(val "$DB" -c "SELECT role || ' ' || outcome FROM migrate.history WHERE action = 'apply' AND version = '4'")" \
    "$DEP failure"
expect "dep.t does not exist (the migration was rolled back)" \
    "$(val "$DB" -c "SELECT to_regclass('dep.t') IS NULL")" "t"
sleep 2
expect "4 is not retried once failed" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE action = 'apply' AND version = '4'")" "1"
sql "$DB" -c "SET ROLE $DEP" -c "SELECT migrate.register('4', 'deferred_escalation', 'SELECT 4;')" \
    -c "SELECT migrate.approve('4')" >/dev/null
wait_value 30 "applied" "$DB" "SELECT state FROM migrate.status WHERE version = '4'" ||
    fail "4, registered again, was not applied (state: $WAIT_LAST)"

# --- 5. finding 9: calling_role() in a scheduled run is the registrant --------
sql "$DB" -c "SET ROLE $DEP" \
    -c "SELECT migrate.register('5', 'audit', \$up\$
CREATE TABLE dep.audit AS SELECT migrate.calling_role() AS calling, current_user AS cur, session_user AS sess;
SELECT migrate.schedule('from_a_migration', every => '1 day');
SELECT migrate.pause();
SELECT migrate.resume();
\$up\$)" -c "SELECT migrate.approve('5')" >/dev/null
wait_value 30 "applied" "$DB" "SELECT state FROM migrate.status WHERE version = '5'" ||
    fail "5 was not applied (state: $WAIT_LAST)"
expect "calling_role(), current_user and session_user in a scheduled migration are $DEP" \
    "$(val "$DB" -c "SELECT calling || ' ' || cur || ' ' || sess FROM dep.audit")" "$DEP $DEP $DEP"
expect "pause() and resume() from a scheduled migration are recorded as $DEP" \
    "$(val "$DB" -c "SELECT string_agg(action || ' ' || role, ', ' ORDER BY id) FROM migrate.history WHERE action IN ('pause', 'resume')")" \
    "pause $DEP, resume $DEP"
expect "schedule() from a scheduled migration is created_by $DEP" \
    "$(val "$DB" -c "SELECT created_by FROM migrate.schedules WHERE name = 'from_a_migration'")" "$DEP"
sql "$DB" -c "SELECT migrate.unschedule('from_a_migration')" >/dev/null

# --- 6. roles without LOGIN ---------------------------------------------------
sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
DROP ROLE IF EXISTS $NOLOGIN;
CREATE ROLE $NOLOGIN NOLOGIN;
GRANT migrate_admin TO $NOLOGIN;
GRANT CREATE ON SCHEMA public TO $NOLOGIN;
SET ROLE $NOLOGIN;
SELECT migrate.register('6', 'by_nologin', 'CREATE TABLE nologin_t (id int);');
SQL
out="$(sql "$DB" -c "SET ROLE $ADMIN" -c "SELECT migrate.approve('6')" 2>&1 || true)"
case "$out" in
    *'migration "6" would run as role "'$NOLOGIN'", which cannot log in'*'HINT:  Register the migration as a role with LOGIN, or set migrate.worker_role to one.'*)
        pass "approve() refuses a migration registered by a role without LOGIN, with a hint" ;;
    *) fail "approve() of a NOLOGIN role's migration: $out" ;;
esac
expect "6 is not approved" \
    "$(val "$DB" -c "SELECT approved_at IS NULL FROM migrate.migration WHERE version = '6'")" "t"
# approved while the role could log in, then LOGIN taken away
sql "$DB" -c "ALTER ROLE $NOLOGIN LOGIN" -c "SELECT migrate.approve('6')" \
    -c "ALTER ROLE $NOLOGIN NOLOGIN" >/dev/null
reason="migration 6 would run as role \"$NOLOGIN\", which cannot log in"
wait_value 30 "held back: $reason" "$DB" "SELECT last_outcome FROM migrate.schedules WHERE name = 'often'" ||
    fail "last_outcome of a run held back by a NOLOGIN role: '$WAIT_LAST'"
expect "the history says why 6 is held back" \
    "$(val "$DB" -c "SELECT detail->>'stopped_at' || ': ' || (detail->>'reason') FROM migrate.history WHERE action = 'run' ORDER BY id DESC LIMIT 1")" \
    "6: $reason"
expect "waiting_for names the missing LOGIN" \
    "$(val "$DB" -c "SELECT waiting_for FROM migrate.schedules WHERE name = 'often'")" \
    "LOGIN for role \"$NOLOGIN\""
sleep 2
expect "6 is not applied, by nobody" \
    "$(val "$DB" -c "SELECT state || ' ' || (to_regclass('public.nologin_t') IS NULL) FROM migrate.status WHERE version = '6'")" \
    "pending true"
expect "the held-back run is recorded once, not every second" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE action = 'run' AND detail->>'stopped_at' = '6'")" "1"

# --- 7. migrate.worker_role: the hint's other way out -------------------------
sql postgres -c "ALTER SYSTEM SET migrate.worker_role = '$ADMIN'" -c "SELECT pg_reload_conf()" >/dev/null
if wait_value 30 applied "$DB" "SELECT state FROM migrate.status WHERE version = '6'"; then
    pass "with migrate.worker_role set, the held-back migration runs"
else
    fail "6 not applied with migrate.worker_role = $ADMIN (state: $WAIT_LAST)"
fi
expect "... as migrate.worker_role, who owns what it created" \
    "$(val "$DB" -c "SELECT applied_by || ' ' || (SELECT tableowner FROM pg_tables WHERE tablename = 'nologin_t') FROM migrate.status WHERE version = '6'")" \
    "$ADMIN $ADMIN"
sql postgres -c "ALTER SYSTEM RESET migrate.worker_role" -c "SELECT pg_reload_conf()" >/dev/null

# --- 8. a worker that cannot connect: a failed run naming the role ------------
sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
DROP ROLE IF EXISTS $NOCONNECT;
CREATE ROLE $NOCONNECT LOGIN;
GRANT migrate_admin TO $NOCONNECT;
REVOKE CONNECT ON DATABASE $DB FROM PUBLIC;
SET ROLE $NOCONNECT;
SELECT migrate.register('7', 'no_connect', 'SELECT 7;');
SELECT migrate.approve('7');
SQL
msg="the worker for migration 7, connecting as role \"$NOCONNECT\", exited without a result (see the server log)"
wait_value 30 "failure: $msg" "$DB" "SELECT last_outcome FROM migrate.schedules WHERE name = 'often'" ||
    fail "last_outcome of a worker that could not connect: '$WAIT_LAST'"
sleep 2
expect "one failed 'run' row names the role, however many rounds fail" \
    "$(val "$DB" -c "SELECT count(*) || ' ' || min(error->>'message') FROM migrate.history WHERE action = 'run' AND outcome = 'failure' AND detail->>'stopped_at' = '7'")" \
    "1 $msg"
expect "7 did not run (it is still pending)" \
    "$(val "$DB" -c "SELECT state FROM migrate.status WHERE version = '7'")" pending
sql "$DB" -c "GRANT CONNECT ON DATABASE $DB TO $NOCONNECT" >/dev/null
if wait_value 30 "applied $NOCONNECT" "$DB" "SELECT state || ' ' || applied_by FROM migrate.status WHERE version = '7'"; then
    pass "with CONNECT granted, 7 runs as $NOCONNECT"
else
    fail "7 after GRANT CONNECT: '$WAIT_LAST'"
fi

scenario_finish
