#!/usr/bin/env bash
# test/scenario/worker_lifecycle.sh: the launcher starts, restarts and stops
# the per-database schedulers, which cost nothing while idle.
#
#   1. CREATE EXTENSION in a new database: the launcher probes it and, as it
#      has no enabled schedule, no scheduler stays (health() says "idle (no
#      enabled schedule)"); schedule(): a "migrate scheduler" for it shows
#      up in pg_stat_activity within a few seconds, and stays
#   2. idle CPU: with no schedule due, its utime+stime (/proc/<pid>/stat) grows
#      by at most IDLE_TICKS_MAX clock ticks over 10 s (it wakes once per
#      naptime); the exact CPU time (/proc/<pid>/schedstat) is reported.
#      And with a schedule due while another session holds the migrate lock,
#      at most 2 * IDLE_TICKS_MAX over 5 s (it retries once per naptime)
#   3. pg_terminate_backend(scheduler): the launcher starts a new one (at
#      once when the old one ran for more than 10 s; not sooner than 10 s
#      after the start of one that is killed again at once)
#   4. unschedule() of the last schedule: the scheduler exits within a few
#      naptimes, and schedule() brings it back, also when it commits while
#      the scheduler is deciding to leave (6 pairs); DROP EXTENSION: the
#      scheduler exits within a few naptimes
#   5. DROP DATABASE (without FORCE) succeeds while a scheduler is connected
#      (the database has a schedule)
#   6. an own preloaded cluster with a scheduler and an apply worker busy in
#      a non-transactional migration: pg_ctl stop -m fast completes, the
#      workers are gone, and the server log has no crash
#      ("terminated by signal", PANIC, TRAP) lines
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
# IDLE_TICKS_MAX (default 5 ticks = 50 ms at 100 Hz per 10 s) bounds the
# idle CPU use.  Measured on a 2-CPU VM with naptime 1: 18-22 ms of CPU per
# 10 s (about 2 ms per wakeup, 0.2 % of one CPU), which /proc/<pid>/stat
# shows as exactly 2 ticks, so a bound of 2 would fail on any tick boundary
# crossing; 5 leaves room for slower CI machines and is still two orders of
# magnitude below a scheduler that spins (about 100 ticks per second).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_life
DB2=migrate_life_drop
scenario_init worker_lifecycle "$DB" "$DB2"
require_preload
IDLE_TICKS_MAX="${IDLE_TICKS_MAX:-5}"

# --- 1. no scheduler without a schedule; the scheduler appears ---------------
sql "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate"
sleep $(( 2 * NAPTIME + 1 ))
expect "no schedule: no scheduler for $DB" "$(scheduler_pid "$DB")" ""
expect "no schedule: health() says idle" \
    "$(val "$DB" -c "SELECT scheduler || '/' || coalesce(scheduler_pid::text, '') FROM migrate.health()")" \
    "idle (no enabled schedule)/"
t0=$(now_ms)
sql "$DB" -c "SET client_min_messages = warning" -c "SELECT migrate.schedule('keep', every => '1 day')" >/dev/null
_scheduler_up() { pid1="$(scheduler_pid "$DB")"; [ -n "$pid1" ]; }
pid1=""
if wait_until 30 _scheduler_up; then
    ms=$(( $(now_ms) - t0 ))
    if [ "$ms" -le $(( 5000 + 1000 * NAPTIME )) ]; then
        pass "scheduler for $DB (pid $pid1) up ${ms} ms after schedule()"
    else
        fail "scheduler for $DB took ${ms} ms after schedule() (more than a few seconds)"
    fi
else
    fail "no scheduler for $DB within 30 s of schedule()"
    scenario_finish
fi
# a scheduler started before the extension was visible exits at once: make
# sure this one stays
sleep $(( 2 * NAPTIME ))
pid="$(scheduler_pid "$DB")"
if [ -n "$pid" ] && [ "$pid" = "$pid1" ]; then
    pass "scheduler pid $pid1 still running after $((2 * NAPTIME)) s"
else
    note "scheduler pid changed from $pid1 to '$pid' (the first one found no schedule)"
    pid1="$pid"
    [ -n "$pid1" ] || { fail "no scheduler for $DB after $((2 * NAPTIME)) s"; scenario_finish; }
fi
expect "health() says running with that pid" \
    "$(val "$DB" -c "SELECT scheduler || '/' || scheduler_pid FROM migrate.health()")" "running/$pid1"

# --- 2. idle CPU ----------------------------------------------------------------
ticks() {   # utime + stime of a process, in clock ticks
    local stat
    stat="$(cat "/proc/$1/stat")" || return 1
    stat="${stat##*) }"              # fields from 3 (state) on
    # shellcheck disable=SC2086
    set -- $stat
    echo $(( ${12} + ${13} ))        # fields 14 and 15
}
cpu_us() {   # CPU time of a process in microseconds (schedstat), or '?'
    local ns
    if read -r ns _ <"/proc/$1/schedstat" 2>/dev/null; then echo $(( ns / 1000 )); else echo '?'; fi
}
if [ -r "/proc/$pid1/stat" ]; then
    n="$(val "$DB" -c "SELECT count(*) FROM migrate.schedule WHERE next_run_at > now() + interval '1 minute'")"
    expect "idle: only a schedule that is not due in $DB" "$n" 1
    before="$(ticks "$pid1")" us0="$(cpu_us "$pid1")"
    t0=$(now_ms)
    sleep 10
    after="$(ticks "$pid1")" us1="$(cpu_us "$pid1")"
    secs=$(( ($(now_ms) - t0) / 1000 ))
    used=$(( after - before ))
    hz="$(getconf CLK_TCK)"
    exact=""
    [ "$us0" = '?' ] || exact=", $(( (us1 - us0) / 1000 )).$(( (us1 - us0) % 1000 / 100 )) ms by schedstat"
    if [ "$used" -le "$IDLE_TICKS_MAX" ]; then
        pass "idle: scheduler used $used clock tick(s) (1/$hz s) of CPU in ${secs} s$exact (bound $IDLE_TICKS_MAX ticks)"
    else
        fail "idle: scheduler used $used clock ticks (1/$hz s) of CPU in ${secs} s$exact, more than $IDLE_TICKS_MAX"
    fi

    # a due schedule while another session holds the migrate lock: the
    # scheduler tries again after naptime, it does not spin
    sql "$DB" -q -c "SELECT migrate.register('1', 'lock_wait', 'CREATE TABLE lock_wait (id int);', NULL)" \
              -c "SELECT migrate.approve('1')" >/dev/null
    psql -X -q -d "$DB" -c "BEGIN" -c "SELECT migrate.acquire_lock()" -c "SELECT pg_sleep(7)" \
         -c "COMMIT" >/dev/null 2>&1 &
    holder=$!
    scenario_child "$holder"
    _lock_held() { [ "$(val "$DB" -c "SELECT lock_held FROM migrate.health()")" = t ]; }
    wait_until 30 _lock_held || fail "lock held: the other session did not get the migrate lock"
    sql "$DB" -c "SELECT migrate.schedule('while_locked', every => '1 second')" >/dev/null
    sleep 0.5
    before="$(ticks "$pid1")"
    t0=$(now_ms)
    sleep 5
    after="$(ticks "$pid1")"
    ms=$(( $(now_ms) - t0 ))
    used=$(( after - before ))
    expect "lock held: migration not applied while another session holds the lock" \
        "$(val "$DB" -c "SELECT state FROM migrate.migration WHERE version = '1'")" pending
    if [ "$used" -le $(( 2 * IDLE_TICKS_MAX )) ]; then
        pass "lock held: scheduler used $used clock tick(s) in $ms ms with a schedule due and the lock taken (bound $(( 2 * IDLE_TICKS_MAX )))"
    else
        fail "lock held: scheduler used $used clock ticks (of $(( ms * hz / 1000 )) in $ms ms) with a schedule due and the migrate lock taken by another session: it busy-loops instead of retrying after naptime"
    fi
    wait "$holder" || true
    if wait_value 30 applied "$DB" "SELECT state FROM migrate.migration WHERE version = '1'"; then
        pass "lock held: applied once the lock was released"
    else
        fail "lock held: not applied within 30 s of the lock's release"
    fi
    sql "$DB" -c "SELECT migrate.unschedule('while_locked')" >/dev/null
else
    note "idle: /proc/$pid1/stat not readable (server on another host?); CPU checks skipped"
fi

# --- 3. pg_terminate_backend: the launcher restarts it ------------------------
_new_scheduler() { pid2="$(scheduler_pid "$DB")"; [ -n "$pid2" ] && [ "$pid2" != "$old" ]; }
old="$pid1" pid2=""
t0=$(now_ms)
expect "terminate: pg_terminate_backend($old)" "$(val postgres -c "SELECT pg_terminate_backend($old)")" t
if wait_until 30 _new_scheduler; then
    pass "terminate: new scheduler pid $pid2 after $(( $(now_ms) - t0 )) ms (old one ran > 10 s)"
else
    fail "terminate: no new scheduler within 30 s of terminating $old"
    scenario_finish
fi
# killed again at once: not restarted sooner than 10 s after its start
start2="$(val postgres -c "SELECT extract(epoch FROM backend_start) * 1000 FROM pg_stat_activity WHERE pid = $pid2")"
old="$pid2" pid2=""
t0=$(now_ms)
expect "terminate again: pg_terminate_backend($old)" "$(val postgres -c "SELECT pg_terminate_backend($old)")" t
if wait_until 30 _new_scheduler; then
    start3="$(val postgres -c "SELECT extract(epoch FROM backend_start) * 1000 FROM pg_stat_activity WHERE pid = $pid2")"
    gap=$(awk -v a="$start3" -v b="$start2" 'BEGIN { printf "%d", a - b }')
    if [ "$gap" -ge 9500 ]; then
        pass "terminate again: new scheduler pid $pid2 after $(( $(now_ms) - t0 )) ms, ${gap} ms after the previous start (>= 10 s backoff)"
    else
        fail "terminate again: restarted ${gap} ms after the previous start (expected a 10 s backoff)"
    fi
else
    fail "terminate again: no new scheduler within 30 s"
fi

# --- 4. unschedule(), then DROP EXTENSION: the scheduler leaves ---------------
_scheduler_gone() { [ -z "$(scheduler_pid "$DB")" ]; }
t0=$(now_ms)
sql "$DB" -c "SELECT migrate.unschedule('keep')" >/dev/null
if wait_until 30 _scheduler_gone; then
    ms=$(( $(now_ms) - t0 ))
    if [ "$ms" -le $(( 3000 * NAPTIME + 2000 )) ]; then
        pass "unschedule: scheduler gone after ${ms} ms"
    else
        fail "unschedule: scheduler took ${ms} ms to exit (naptime ${NAPTIME}s)"
    fi
else
    fail "unschedule: scheduler still there 30 s after unschedule() of the last schedule"
fi
t0=$(now_ms)
sql "$DB" -c "SET client_min_messages = warning" -c "SELECT migrate.schedule('keep', every => '1 day')" >/dev/null
if wait_until 30 _scheduler_up; then
    pass "schedule again: scheduler (pid $pid1) back $(( $(now_ms) - t0 )) ms after schedule()"
else
    fail "schedule again: no scheduler within 30 s of schedule()"
fi
# a schedule() that commits while the scheduler is deciding that there is
# none must win: unschedule and schedule again at different points of its
# naptime, and the scheduler must be there (and stay) each time
lost=0
for pause in 0 0.2 0.4 0.6 0.8 1.0; do
    sql "$DB" -c "SELECT migrate.unschedule('keep')" >/dev/null
    sleep "$pause"
    sql "$DB" -c "SET client_min_messages = warning" -c "SELECT migrate.schedule('keep', every => '1 day')" >/dev/null
    sleep $(( 2 * NAPTIME + 1 ))
    if [ -z "$(scheduler_pid "$DB")" ]; then
        lost=$(( lost + 1 ))
        note "race: no scheduler $(( 2 * NAPTIME + 1 )) s after schedule() ${pause} s after unschedule()"
    fi
done
expect "race: a scheduler after each of 6 unschedule()/schedule() pairs" "$lost" 0
t0=$(now_ms)
sql "$DB" -c "DROP EXTENSION migrate"
if wait_until 30 _scheduler_gone; then
    ms=$(( $(now_ms) - t0 ))
    if [ "$ms" -le $(( 3000 * NAPTIME + 2000 )) ]; then
        pass "drop extension: scheduler gone after ${ms} ms"
    else
        fail "drop extension: scheduler took ${ms} ms to exit (naptime ${NAPTIME}s)"
    fi
else
    fail "drop extension: scheduler still there 30 s after DROP EXTENSION"
fi
sleep "$NAPTIME"
expect "drop extension: not restarted in $DB" "$(scheduler_pid "$DB")" ""

# --- 5. DROP DATABASE while a scheduler is connected ---------------------------
sql "$DB2" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate" \
    -c "SELECT migrate.schedule('keep', every => '1 day')" >/dev/null
_scheduler2_up() { [ -n "$(scheduler_pid "$DB2")" ]; }
if wait_until 30 _scheduler2_up; then
    p="$(scheduler_pid "$DB2")"
    t0=$(now_ms)
    if out="$(sql postgres -c "DROP DATABASE $DB2" 2>&1)"; then
        pass "drop database: DROP DATABASE $DB2 with its scheduler (pid $p) connected took $(( $(now_ms) - t0 )) ms"
    else
        fail "drop database: DROP DATABASE $DB2 failed: $out"
    fi
    sleep "$NAPTIME"
    n="$(val postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migrate scheduler' AND datid IS NOT NULL
                           AND datid NOT IN (SELECT oid FROM pg_database)")"
    expect "drop database: no scheduler left for the dropped database" "$n" 0
else
    fail "drop database: no scheduler for $DB2 within 30 s"
fi

# --- 6. fast shutdown of a cluster with busy workers --------------------------
scenario_own_cluster 1 "shared_preload_libraries = 'migrate'" "migrate.naptime = 1"
own() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$OWN_HOST" -p "$OWN_PORT" "$@"; }
own -d postgres -c "CREATE DATABASE shut" >/dev/null
own -d shut -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate" \
    -c "SELECT migrate.register('1', 'long_nontransactional', '-- @transaction: false
SELECT pg_sleep(60);', NULL)" -c "SELECT migrate.schedule('keep', every => '1 day')" >/dev/null
_own_up() {
    own -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migrate scheduler' AND datname = 'shut'" |
        grep -qx 1
}
wait_until 30 _own_up || fail "fast shutdown: no scheduler in the own cluster"
own -d shut -c "SELECT * FROM migrate.apply()" >"$SCENARIO_WORK/apply.out" 2>&1 &
scenario_child $!
_own_worker() {
    own -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migrate apply worker'
                        AND wait_event = 'PgSleep'" | grep -qx 1
}
if wait_until 30 _own_worker; then
    pass "fast shutdown: apply worker busy in pg_sleep, scheduler and launcher running"
else
    fail "fast shutdown: the apply worker did not start"
fi
pids="$(own -d postgres -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type LIKE 'migrate %'")"
t0=$(now_ms)
if as_pg "$MIGRATE_PG_BINDIR/pg_ctl" -D "$OWN_DIR/data" -m fast -w -t 60 stop >/dev/null; then
    pass "fast shutdown: pg_ctl stop -m fast completed in $(( $(now_ms) - t0 )) ms"
else
    fail "fast shutdown: pg_ctl stop -m fast did not complete"
fi
alive=""
for p in $pids; do
    if kill -0 "$p" 2>/dev/null; then alive="$alive $p"; fi
done
expect "fast shutdown: migrate workers (pids $pids) have exited" "$alive" ""
log="$OWN_DIR/log"
if grep -E "terminated by signal|PANIC|TRAP|was terminated|server process .* exited with exit code [^01]" "$log"; then
    fail "fast shutdown: crash lines in the server log (above)"
else
    pass "fast shutdown: no crash lines in the server log"
fi
if grep -q "database system is shut down" "$log"; then
    pass "fast shutdown: server log says 'database system is shut down'"
else
    fail "fast shutdown: server log lacks 'database system is shut down'"
fi
echo "---- migrate lines of the server log ----"
grep -E "migrate|background worker" "$log" || true
echo "----"

scenario_finish
