#!/usr/bin/env bash
# test/scenario/message_cancel.sh: a worker-path run (a plan with a
# migration that cannot run in a transaction block) that is stopped from
# outside says in its error what stays applied, like a run stopped by a
# failing migration does.  The apply worker commits each migration on its
# own, so a bare "canceling statement due to statement timeout" would hide
# that some of the run was committed.
#
#   1. statement_timeout while a non-transactional migration sleeps at its
#      statement 2: "001 and 002 stay applied; 003 was interrupted at
#      statement 2 and is dirty; 1 more was not run", and the catalog
#      agrees;
#   2. pg_cancel_backend() of the caller while a transactional migration
#      runs in the worker: "001 was interrupted and was rolled back; 1 more
#      was not run";
#   3. pg_terminate_backend() of the apply worker: its termination error
#      carries the same line.
#
# Each case waits at most a few seconds.  Needs a cluster with migrate
# preloaded (scripts/test.sh).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_msgcancel
scenario_init message_cancel "$DB"

sql "$DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.register('001', 'a', 'CREATE TABLE mc_a (x int);', 'DROP TABLE mc_a;');
SELECT migrate.register('002', 'b', 'CREATE TABLE mc_b (x int);', 'DROP TABLE mc_b;');
SELECT migrate.register('003', 'c', E'-- @transaction: false\nCREATE TABLE mc_c (x int);\nSELECT pg_sleep(5);', 'DROP TABLE mc_c;');
SELECT migrate.register('004', 'd', 'CREATE TABLE mc_d (x int);', 'DROP TABLE mc_d;');
SQL

# has LINE: the output contains this exact line
has_line() { printf '%s\n' "$1" | grep -Fxq -- "$2"; }

# --- 1. statement_timeout ----------------------------------------------------
out="$(sql "$DB" -c "SET statement_timeout = '2s'" -c "SELECT count(*) FROM migrate.apply()" 2>&1 || true)"
if has_line "$out" "ERROR:  canceling statement due to statement timeout" &&
   has_line "$out" "CONTEXT:  001 and 002 stay applied; 003 was interrupted at statement 2 and is dirty; 1 more was not run"; then
    pass "statement_timeout: the error says what stays applied and that 003 is dirty"
else
    fail "statement_timeout: no 'stay applied' CONTEXT line in: $out"
fi
expect "the catalog agrees" \
    "$(val "$DB" -c "SELECT string_agg(version || ' ' || state || coalesce(' ' || dirty_statement, ''), ', ' ORDER BY version) FROM migrate.status_detail")" \
    "001 applied, 002 applied, 003 dirty 2, 004 pending"

# --- 2. pg_cancel_backend() of the caller, a transactional migration running --
sql "$DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
DELETE FROM migrate.migration;
DROP TABLE mc_a, mc_b, mc_c;
SELECT migrate.register('011', 'slow', 'CREATE TABLE mc_slow (x int); SELECT pg_sleep(5);', 'DROP TABLE mc_slow;');
SELECT migrate.register('012', 'index', 'CREATE INDEX CONCURRENTLY mc_slow_x ON mc_slow (x);', 'DROP INDEX CONCURRENTLY mc_slow_x;');
SQL

# run_and_stop WHAT SQL: start apply() in the background, wait until the
# apply worker sleeps, run SQL (which stops it), print apply()'s output
run_and_stop() {
    local what="$1" stop="$2" outfile pid
    outfile="$SCENARIO_WORK/$what.out"
    # it fails, as it should: that is no error of this script
    { PGAPPNAME=mc_caller sql "$DB" -c "SELECT count(*) FROM migrate.apply()" >"$outfile" 2>&1 || true; } &
    pid=$!
    scenario_child "$pid"
    if ! wait_value 10 1 "$DB" "SELECT count(*) FROM pg_stat_activity
                                WHERE backend_type = 'migrate apply worker' AND wait_event = 'PgSleep'"; then
        fail "$what: the apply worker did not start sleeping"
    fi
    val "$DB" -c "$stop" >/dev/null
    wait "$pid" || true
    cat "$outfile"
}

out="$(run_and_stop cancel "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'mc_caller'")"
if has_line "$out" "ERROR:  canceling statement due to user request" &&
   has_line "$out" "CONTEXT:  011 was interrupted and was rolled back; 1 more was not run"; then
    pass "pg_cancel_backend(): the error says the running migration was rolled back"
else
    fail "pg_cancel_backend(): no 'was rolled back' CONTEXT line in: $out"
fi
expect "nothing of 011 stays" "$(val "$DB" -c "SELECT state FROM migrate.status WHERE version = '011'") $(val "$DB" -c "SELECT to_regclass('mc_slow') IS NULL")" "pending t"

# --- 3. pg_terminate_backend() of the apply worker -----------------------------
out="$(run_and_stop terminate "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'migrate apply worker'")"
# the worker's error has CONTEXT lines of its own: the line comes last
if has_line "$out" "011 was interrupted and was rolled back; 1 more was not run" &&
   printf '%s\n' "$out" | grep -q '^ERROR:  terminating background worker'; then
    pass "the apply worker terminated: its error says what the run left"
else
    fail "worker terminated: no 'was rolled back' CONTEXT line in: $out"
fi

scenario_finish
