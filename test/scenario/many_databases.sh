#!/usr/bin/env bash
# test/scenario/many_databases.sh: 50 databases with the extension on
# PostgreSQL's default settings (max_worker_processes = 8, migrate.max_workers
# at its default), 3 of them with schedules (issue 7, finding 11).
#
#   1. an own cluster on default settings (only migrate preloaded and
#      naptime 1 s); 50 databases made from a template with the extension
#   2. once the launcher has probed them, migrate's processes are the
#      launcher alone: a database without an enabled schedule has no
#      scheduler ("idle (no enabled schedule)" in health())
#   3. 3 databases register a migration and schedule it (every 1 second,
#      require_approval => false): each is applied within FIRE_MS of its
#      schedule() (bound below), and exactly those 3 have a scheduler
#   4. in every one of the 50 databases a failing apply() (10 at a time) is
#      recorded durably: status 'failed' with last_error, and a history row
#   5. a read-only database (default_transaction_read_only = on): the
#      failure recorder still records (its own transaction is read write)
#   6. no worker slot free at all (a parallel query holds every one): the
#      failing apply() waits 10 s for a slot, spools the record (NOTICE),
#      and the record reaches status and history once slots are free again;
#      apply() of a CREATE INDEX CONCURRENTLY plan fails after 5 s with a
#      clear error (53400) naming max_worker_processes, nothing applied
#   7. a cluster with migrate.max_workers = 6 on max_worker_processes = 8:
#      the launcher says at startup that it needs 10 slots
#
# FIRE_MS (default 5000): from schedule() to the migration applied.  It
# covers the wake-up (at once), a scheduler's start (a probe slot may be
# busy for a moment), the 1 s naptime and the run.  Measured on a 2-CPU VM:
# 0.1-1.5 s.  The whole scenario takes about 60-90 s (50 CREATE DATABASE
# from a template, and the 10 s wait of step 6).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
scenario_init many_databases
FIRE_MS="${FIRE_MS:-5000}"
N=50
SCHEDULED="03 25 48"

# --- 1. own cluster, default settings, 50 databases ----------------------------
scenario_own_cluster 2 "shared_preload_libraries = 'migrate'" "migrate.naptime = 1"
own() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$OWN_HOST" -p "$OWN_PORT" "$@"; }
expect "defaults: max_worker_processes" "$(own -d postgres -c "SHOW max_worker_processes")" 8
expect "defaults: migrate.max_workers" "$(own -d postgres -c "SHOW migrate.max_workers")" 4

own -d postgres -c "CREATE DATABASE many_tmpl"
own -d many_tmpl -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate"
own -d postgres -c "ALTER DATABASE many_tmpl IS_TEMPLATE true"
t0=$(now_ms)
for i in $(seq -w 1 "$N"); do
    own -d postgres -c "CREATE DATABASE many_$i TEMPLATE many_tmpl"
done
pass "created $N databases from a template with the extension in $(( $(now_ms) - t0 )) ms"

schedulers() {   # databases with a migrate scheduler, sorted
    own -d postgres -c "SELECT coalesce(string_agg(datname, ' ' ORDER BY datname), '')
                        FROM pg_stat_activity WHERE backend_type = 'migrate scheduler'"
}

# --- 2. no schedule anywhere: no scheduler anywhere --------------------------
# every database is probed (2 at a time) and found idle: wait until no
# scheduler has been seen for 3 s
QUIET_SINCE=""
_probed() {
    if [ -n "$(schedulers)" ]; then QUIET_SINCE=""; return 1; fi
    [ -n "$QUIET_SINCE" ] || QUIET_SINCE=$(now_ms)
    [ $(( $(now_ms) - QUIET_SINCE )) -ge 3000 ]
}
if wait_until 60 _probed; then
    pass "idle: no scheduler runs in any of the $N databases ($(( $(now_ms) - t0 )) ms after the first CREATE DATABASE)"
else
    fail "idle: schedulers still running after 60 s: $(schedulers)"
fi
expect "idle: health() in many_10" \
    "$(own -d many_10 -c "SELECT scheduler || '/' || coalesce(scheduler_pid::text, '') FROM migrate.health()")" \
    "idle (no enabled schedule)/"

# --- 3. three databases with schedules fire on time ----------------------------
for i in $SCHEDULED; do
    own -d "many_$i" -c "SELECT migrate.register('1', 'fired', 'CREATE TABLE fired (x int);', NULL)" >/dev/null
done
_applied() { [ "$(own -d "many_$1" -c "SELECT state FROM migrate.migration WHERE version = '1'")" = applied ]; }
for i in $SCHEDULED; do
    t0=$(now_ms)
    own -d "many_$i" -c "SET client_min_messages = warning" \
        -c "SELECT migrate.schedule('often', every => '1 second', target => '1', require_approval => false)" >/dev/null
    if wait_until 30 _applied "$i"; then
        ms=$(( $(now_ms) - t0 ))
        if [ "$ms" -le "$FIRE_MS" ]; then
            pass "schedule: many_$i applied its migration ${ms} ms after schedule() (bound $FIRE_MS ms)"
        else
            fail "schedule: many_$i applied its migration only ${ms} ms after schedule() (bound $FIRE_MS ms)"
        fi
    else
        fail "schedule: many_$i did not apply its migration within 30 s of schedule()"
    fi
done
want="$(for i in $SCHEDULED; do printf 'many_%s ' "$i"; done)"
want="${want% }"
sleep 2
expect "schedule: exactly the scheduled databases have a scheduler" "$(schedulers)" "$want"
expect "schedule: health() in many_25" "$(own -d many_25 -c "SELECT scheduler FROM migrate.health()")" running

# --- 4. a failing apply() is recorded durably in every database ----------------
for i in $(seq -w 1 "$N"); do
    own -d "many_$i" -c "SELECT migrate.register('2', 'fails', 'SELECT 1/0;', NULL)" >/dev/null
done
t0=$(now_ms)
spooled=0
for batch in 0 1 2 3 4; do
    pids=()
    for k in $(seq 1 10); do
        i=$(printf '%02d' $(( batch * 10 + k )))
        own -d "many_$i" -c "SELECT * FROM migrate.apply('2')" >"$SCENARIO_WORK/apply_$i.out" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
done
for i in $(seq -w 1 "$N"); do
    grep -q "division by zero" "$SCENARIO_WORK/apply_$i.out" ||
        fail "failure: apply() in many_$i did not report the error: $(cat "$SCENARIO_WORK/apply_$i.out")"
    if grep -q "spooled" "$SCENARIO_WORK/apply_$i.out"; then spooled=$(( spooled + 1 )); fi
done
note "failure: $N failing apply() calls took $(( $(now_ms) - t0 )) ms; $spooled record(s) went through the spool"
recorded_count() {
    local i n=0
    for i in $(seq -w 1 "$N"); do
        if [ "$(own -d "many_$i" -c "SELECT (SELECT state || '/' || (last_error IS NOT NULL)
                                              FROM migrate.migration WHERE version = '2')
                                         || '/' || (SELECT count(*) FROM migrate.event
                                                    WHERE version = '2' AND action = 'apply'
                                                      AND outcome = 'failure')")" = "failed/true/1" ]; then
            n=$(( n + 1 ))
        fi
    done
    echo "$n"
}
_all_recorded() { RECORDED="$(recorded_count)"; [ "$RECORDED" = "$N" ]; }
RECORDED=0
if wait_until 30 _all_recorded; then
    pass "failure: recorded in all $N databases (state failed, last_error, one history row)"
else
    fail "failure: recorded in $RECORDED of $N databases"
fi

# --- 5. a read-only database ----------------------------------------------------
own -d postgres -c "CREATE DATABASE many_ro TEMPLATE many_tmpl"
own -d many_ro -c "SELECT migrate.register('1', 'fails', 'SELECT 1/0;', NULL)" >/dev/null
own -d postgres -c "ALTER DATABASE many_ro SET default_transaction_read_only = on"
out="$(PGOPTIONS="-c default_transaction_read_only=off" own -d many_ro -c "SELECT * FROM migrate.apply()" 2>&1 || true)"
case "$out" in
    *"division by zero"*) pass "read-only: apply() reports the migration's error" ;;
    *) fail "read-only: apply() said: $out" ;;
esac
case "$out" in
    *"durably"*) fail "read-only: the failure recorder could not record: $out" ;;
esac
expect "read-only: failure recorded" \
    "$(own -d many_ro -c "SELECT m.state || '/' || (SELECT count(*) FROM migrate.event e
                          WHERE e.version = '1' AND e.outcome = 'failure')
                          FROM migrate.migration m WHERE m.version = '1'")" "failed/1"

# --- 6. no slot at all: the spool -----------------------------------------------
# a parallel query takes every free worker slot until a fixed deadline
own -d many_tmpl -c "CREATE TABLE filler AS SELECT g FROM generate_series(1, 20000) g" \
    -c "ALTER TABLE filler SET (parallel_workers = 8)" \
    -c "CREATE FUNCTION wait_until_ts(t timestamptz) RETURNS boolean LANGUAGE sql PARALLEL SAFE
        AS \$\$ SELECT pg_sleep(greatest(0, extract(epoch FROM t - clock_timestamp()))) IS NULL \$\$"
own -d postgres -c "CREATE DATABASE many_spool TEMPLATE many_tmpl" -c "CREATE DATABASE many_cic TEMPLATE many_tmpl"
own -d many_spool -c "SELECT migrate.register('1', 'fails', 'SELECT 1/0;', NULL)" >/dev/null
own -d many_cic -c "CREATE TABLE t (x int)" \
    -c "SELECT migrate.register('1', 'cic', 'CREATE INDEX CONCURRENTLY t_x ON t (x);', NULL)" >/dev/null
# the launcher probes new databases with a short-lived scheduler: let those
# probes come and go first, or one would free its slot while the filler
# below holds all the others, and the "no slot" checks would find one
scheduled_list="$(for i in $SCHEDULED; do printf "'many_%s'," "$i"; done)"
_no_probes() {
    [ "$(own -d postgres -c "SELECT count(*) FROM pg_stat_activity
            WHERE backend_type = 'migrate scheduler'
              AND datname NOT IN (${scheduled_list%,})")" = 0 ]
}
sleep 3
wait_until 20 _no_probes || fail "spool: probes of the new databases did not end"
own -d many_tmpl -c "SET max_parallel_workers_per_gather = 8" -c "SET parallel_setup_cost = 0" \
    -c "SET parallel_tuple_cost = 0" -c "SET min_parallel_table_scan_size = 0" \
    -c "SELECT count(*) FROM filler WHERE wait_until_ts(now() + interval '19 seconds')" \
    >"$SCENARIO_WORK/filler.out" 2>&1 &
filler=$!
scenario_child "$filler"
_filled() {
    [ "$(own -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'")" -gt 0 ]
}
wait_until 10 _filled || fail "spool: the parallel query started no worker"
sleep 0.5
workers="$(own -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'")"
t0=$(now_ms)
out="$(own -d many_spool -c "SELECT * FROM migrate.apply()" 2>&1 || true)"
ms=$(( $(now_ms) - t0 ))
case "$out" in
    *"division by zero"*"spooled"*|*"spooled"*"division by zero"*)
        pass "spool: with every slot taken ($workers parallel workers) apply() failed after ${ms} ms and spooled the record" ;;
    *) fail "spool: apply() with every slot taken ($workers parallel workers) said: $out" ;;
esac
spool_files() {   # how many spooled records the own cluster holds
    local f n=0
    for f in "$OWN_DIR"/data/pg_migrate_spool/*.failure; do
        if [ -e "$f" ]; then n=$(( n + 1 )); fi
    done
    echo "$n"
}
# the apply worker of a CREATE INDEX CONCURRENTLY plan: a clear error
t0=$(now_ms)
out="$(own -d many_cic -c "SELECT * FROM migrate.apply()" 2>&1 || true)"
ms=$(( $(now_ms) - t0 ))
case "$out" in
    *"could not start a background worker for non-transactional migrations"*"max_worker_processes"*)
        pass "apply worker: no slot for ${ms} ms: a clear error naming max_worker_processes" ;;
    *) fail "apply worker: with every slot taken apply() said: $out" ;;
esac
while IFS= read -r line; do printf '    %s\n' "$line"; done <<<"$out"
expect "apply worker: nothing applied" "$(own -d many_cic -c "SELECT state FROM migrate.migration")" pending
n="$(spool_files)"
if [ "$n" -ge 1 ]; then
    pass "spool: $n record file(s) in pg_migrate_spool"
else
    note "spool: no record file left (already written into the tables)"
fi
wait "$filler" || true
t0=$(now_ms)
LAST=""
_spool_recorded() {
    LAST="$(own -d many_spool -c "SELECT m.state || '/' || (SELECT count(*) FROM migrate.event e
                                  WHERE e.version = '1' AND e.outcome = 'failure')
                                  FROM migrate.migration m WHERE m.version = '1'")"
    [ "$LAST" = "failed/1" ]
}
if wait_until 30 _spool_recorded; then
    pass "spool: recorded $(( $(now_ms) - t0 )) ms after the slots were free again"
else
    fail "spool: not recorded 30 s after the slots were free again (got '$LAST')"
fi
expect "spool: emptied" "$(spool_files)" 0

log="$OWN_DIR/log"
main_own_dir="$OWN_DIR"

# --- 7. too few worker slots for migrate.max_workers: said at startup -----------
scenario_own_cluster 3 "shared_preload_libraries = 'migrate'" "migrate.max_workers = 6"
_budget_logged() { grep -q "max_worker_processes (8) is too small for migrate.max_workers (6)" "$OWN_DIR/log"; }
if wait_until 10 _budget_logged; then
    pass "budget: the launcher logs that max_worker_processes is too small for migrate.max_workers = 6"
    grep -A2 "is too small for migrate.max_workers" "$OWN_DIR/log" | sed -n 1,3p
else
    fail "budget: no startup LOG about max_worker_processes with migrate.max_workers = 6"
fi
OWN_DIR="$main_own_dir"

if grep -E "terminated by signal|PANIC|TRAP" "$log"; then
    fail "no crash lines in the server log (above)"
else
    pass "no crash lines in the server log"
fi
echo "---- migrate lines of the server log ----"
grep -E "migrate (launcher|schedule)|spool|max_worker_processes" "$log" | head -20 || true
echo "----"

scenario_finish
