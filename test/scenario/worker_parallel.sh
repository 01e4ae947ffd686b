#!/usr/bin/env bash
# test/scenario/worker_parallel.sh: the apply worker and the scheduled-
# migration worker never start parallel workers, whatever the migration SETs.
#
# Both join another process's lock group; a process that has, and then
# starts parallel workers (and so makes itself a lock group leader), used to
# corrupt the shared lock-group lists: its parallel workers waited forever,
# and the next deadlock check hung the whole instance.
#
#   1. apply() of "SET max_parallel_maintenance_workers = 2; CREATE INDEX
#      CONCURRENTLY" on a table large enough for a parallel build completes
#      and the index is valid
#   4. meanwhile, a second session's register() with migrate.lock_timeout =
#      3000 fails or succeeds, and a new connection still gets SELECT 1
#   2. a @transaction: false migration that turns parallel query on (and
#      resets max_parallel_maintenance_workers, then builds an index)
#      completes its CREATE TABLE AS SELECT count(*); while it sleeps after
#      that, a LOCK TABLE migrate.migration (waiting for the migration's
#      lock group, so a deadlock check walks the group) returns and the
#      instance keeps answering
#   3. the same, and a parallel-enabled CREATE INDEX CONCURRENTLY, through a
#      scheduled run complete
#
# Every psql call is bounded; a server that stops answering is a failure.
# Needs a cluster with migrate preloaded (scripts/test.sh).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_par
# a hung server also hangs new connections (in authentication): give up
export PGCONNECT_TIMEOUT=10
scenario_init worker_parallel "$DB"
require_preload
ROWS=600000

tsql() { timeout 60 psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
tval() { timeout 60 psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

# the instance answers a new connection within 10 s, or the scenario stops
alive() {   # alive LABEL
    if [ "$(timeout 10 psql -X -q -A -t -d postgres -c 'SELECT 1' 2>/dev/null)" = 1 ]; then
        pass "$1: a new connection still gets SELECT 1"
    else
        fail "$1: the instance no longer answers (SELECT 1 from a new connection timed out)"
        scenario_finish
    fi
}

tsql >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE big (id int, x int);
INSERT INTO big SELECT g, (g::bigint * 7919 % 100003)::int FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE big;
SELECT migrate.register('200', 'parallel_cic', \$up\$SET max_parallel_maintenance_workers = 2;
CREATE INDEX CONCURRENTLY big_x ON big (x);
\$up\$);
SQL
expect "setup: 200 is non-transactional" \
    "$(tval -c "SELECT transactional FROM migrate.migration WHERE version = '200'")" f
alive "setup"

# A session waiting for a lock that the migration's lock group holds: its
# deadlock check (after deadlock_timeout) walks that group, which looped
# forever when a member had made itself a leader, holding every lock-partition
# lock.  Either outcome of the LOCK is fine; a hang is not.
probe_lock() {   # probe_lock LABEL
    local rc=0 out
    out="$(timeout 30 psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -c "BEGIN" \
           -c "SET LOCAL lock_timeout = '3s'" \
           -c "LOCK TABLE migrate.migration IN ACCESS EXCLUSIVE MODE" -c "ROLLBACK" 2>&1)" || rc=$?
    case "$rc" in
        0) pass "$1: a lock on migrate.migration was granted" ;;
        1) pass "$1: a lock on migrate.migration failed ($(printf '%s' "$out" | head -n 1))" ;;
        *) fail "$1: LOCK TABLE migrate.migration did not return (status $rc)" ;;
    esac
    alive "$1"
}
_t_exists() {   # _t_exists TABLE: TABLE has been created (and committed)
    [ "$(timeout 10 psql -X -q -A -t -d "$DB" -c "SELECT to_regclass('$1') IS NOT NULL" 2>/dev/null)" = t ]
}

# --- 1 and 4. parallel CIC through apply(), a register() waiting meanwhile ------
timeout 90 psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" \
    -c "SELECT version || ':' || state FROM migrate.apply()" >"$SCENARIO_WORK/apply.out" 2>&1 &
applier=$!
scenario_child "$applier"
_worker_running() {
    [ "$(timeout 10 psql -X -q -A -t -d postgres -c "SELECT count(*) FROM pg_stat_activity
            WHERE datname = '$DB' AND backend_type = 'migrate apply worker'" 2>/dev/null)" = 1 ]
}
wait_until 20 _worker_running || note "the apply worker was not seen (finished already?)"
rc=0
out="$(timeout 30 psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -c "SET migrate.lock_timeout = 3000" \
       -c "SELECT migrate.register('201', 'while_applying', 'CREATE TABLE during (id int);')" 2>&1)" || rc=$?
case "$rc" in
    0) pass "register during apply: succeeded" ;;
    1) pass "register during apply: failed with an error ($(printf '%s' "$out" | head -n 1))" ;;
    *) fail "register during apply: psql did not return (status $rc)" ;;
esac
alive "during apply"

rc=0
wait "$applier" || rc=$?
if [ "$rc" = 0 ]; then
    expect "apply: 200 applied" "$(grep '^200:' "$SCENARIO_WORK/apply.out")" "200:applied"
else
    sed 's/^/    | /' "$SCENARIO_WORK/apply.out"
    fail "apply: migrate.apply() of the parallel CREATE INDEX CONCURRENTLY failed or hung (status $rc)"
fi
alive "after apply"
expect "apply: big_x is valid and ready" \
    "$(tval -c "SELECT indisvalid AND indisready FROM pg_index WHERE indexrelid = 'big_x'::regclass")" t

# --- 2. parallel query in a non-transactional migration -------------------------
tsql -c "SELECT migrate.register('202', 'parallel_ctas', \$up\$-- @transaction: false
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
CREATE TABLE t2 AS SELECT count(*) FROM big;
SELECT pg_catalog.pg_sleep(6);
RESET max_parallel_maintenance_workers;
CREATE INDEX big_id ON big (id);
\$up\$)" >/dev/null
timeout 90 psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" \
    -c "SELECT version || ':' || state FROM migrate.apply()" >"$SCENARIO_WORK/apply2.out" 2>&1 &
applier=$!
scenario_child "$applier"
if wait_until 60 _t_exists t2; then
    probe_lock "ctas: while the worker sleeps after its CREATE TABLE AS"
else
    fail "ctas: t2 was not created within 60 s"
fi
rc=0
wait "$applier" || rc=$?
out="$(cat "$SCENARIO_WORK/apply2.out")"
alive "after the parallel-query migration"
if [ "$rc" = 0 ]; then
    expect "ctas: apply() returns the applied migrations" "$(printf '%s\n' "$out" | grep -c ':applied$')" \
        "$(tval -c "SELECT count(*) FROM migrate.migration WHERE version IN ('201', '202')")"
else
    printf '%s\n' "$out" | sed 's/^/    | /'
    fail "ctas: migrate.apply() failed or hung (status $rc)"
fi
expect "ctas: t2 counted every row" "$(tval -c "SELECT count FROM t2" 2>&1)" "$ROWS"
expect "ctas: big_id is valid" \
    "$(tval -c "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('big_id')")" t

# --- 3. the same through a scheduled run ----------------------------------------
tsql >/dev/null <<SQL
SELECT migrate.register('203', 'scheduled_parallel_ctas', \$up\$-- @transaction: false
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
CREATE TABLE t3 AS SELECT count(*) FROM big;
SELECT pg_catalog.pg_sleep(6);
\$up\$);
SELECT migrate.register('204', 'scheduled_parallel_cic', \$up\$SET max_parallel_maintenance_workers = 2;
CREATE INDEX CONCURRENTLY big_x_id ON big (x, id);
\$up\$);
SELECT migrate.schedule('par', every => '1 second', require_approval => false);
SQL
_scheduled_done() {
    [ "$(timeout 10 psql -X -q -A -t -d "$DB" -c "SELECT count(*) FROM migrate.migration
            WHERE version IN ('203', '204') AND state = 'applied'" 2>/dev/null)" = 2 ]
}
if wait_until 60 _t_exists t3; then
    probe_lock "scheduled: while the worker sleeps after its CREATE TABLE AS"
else
    fail "scheduled: t3 was not created within 60 s"
fi
if wait_until 90 _scheduled_done; then
    pass "scheduled: 203 and 204 applied by the scheduled run"
else
    fail "scheduled: 203 and 204 not applied within 90 s ($(tval -c "SELECT string_agg(version || '=' || state, ', ' ORDER BY version) FROM migrate.migration WHERE version IN ('203', '204')" 2>&1); last outcome: $(tval -c "SELECT last_outcome FROM migrate.schedule WHERE name = 'par'" 2>&1))"
fi
alive "after the scheduled run"
expect "scheduled: t3 counted every row" "$(tval -c "SELECT count FROM t3" 2>&1)" "$ROWS"
expect "scheduled: big_x_id is valid" \
    "$(tval -c "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('big_x_id')")" t
tsql -c "SELECT migrate.unschedule('par')" >/dev/null

scenario_finish
