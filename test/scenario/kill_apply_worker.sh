#!/usr/bin/env bash
# test/scenario/kill_apply_worker.sh: kill -9 of the apply worker during a
# concurrent index build or drop, then resolve(v, 'retry') finishes the job.
#
# On a cluster of its own (a kill -9 of a backend makes the postmaster
# restart every session of its cluster), KILL_TRIALS trials (default 10;
# raise it for long runs), each:
#
#   1. apply() of a migration whose up script is CREATE INDEX CONCURRENTLY
#      on a table of ROWS rows, in the background; once the apply worker
#      shows in pg_stat_activity (backend_type 'migrate apply worker'), it
#      is killed with kill -9 after a random delay within about the time
#      the build takes;
#   2. the server recovers; the migration is dirty (killed while a
#      statement ran), pending (killed before it started) or applied
#      (killed after it finished); a dirty one gets resolve(v, 'retry');
#      then apply() must succeed: the migration is applied, the index
#      exists once and is valid, no INVALID index is left;
#   3. the same for revert(), whose down script is DROP INDEX
#      CONCURRENTLY (in every other trial a reader holding a lock on the
#      table makes it wait part way, with the index already marked
#      INVALID): after the kill and resolve(v, 'retry') where needed,
#      revert() must succeed, the migration is rolled back and the index
#      is gone.
#
# The verdict lists how many kills hit the worker, in which state they
# left the migration, and how many retries succeeded (target: all).
#
# Needs migrate installed (scripts/test.sh); starts its own cluster.
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
scenario_init kill_apply_worker
TRIALS="${KILL_TRIALS:-10}"
ROWS="${KILL_ROWS:-200000}"
DB=migrate_kill
V=20250601000001

# synchronous_commit: the throwaway clusters turn it off for speed, and then
# a kill -9 (a crash restart) loses the commits of the last moments: the
# state a trial finds would be older than what the worker had recorded
scenario_own_cluster 7 "shared_preload_libraries = 'migrate'" "migrate.naptime = 1" \
    "restart_after_crash = on" "synchronous_commit = on"
own() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$OWN_HOST" -p "$OWN_PORT" -d "$DB" "$@"; }
own_up() { psql -X -q -A -t -h "$OWN_HOST" -p "$OWN_PORT" -d "$DB" -c 'SELECT 1' >/dev/null 2>&1; }

psql -X -q -h "$OWN_HOST" -p "$OWN_PORT" -d postgres -c "CREATE DATABASE $DB"
own >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE ka_t (id bigint PRIMARY KEY, v text NOT NULL);
INSERT INTO ka_t SELECT g, md5(g::text) FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE ka_t;
SELECT migrate.register('$V', 'ka_index', 'CREATE INDEX CONCURRENTLY ka_t_v_idx ON ka_t (v);',
                        'DROP INDEX CONCURRENTLY ka_t_v_idx;');
SQL

state() { own -c "SELECT state FROM migrate.migration WHERE version = '$V'"; }
# indexes of ka_t other than its primary key, as name:valid
indexes() {
    own -c "SELECT coalesce(string_agg(c.relname || ':' || i.indisvalid, ',' ORDER BY c.relname), '')
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'ka_t'::regclass AND NOT i.indisprimary"
}
worker_pid() {
    psql -X -q -A -t -h "$OWN_HOST" -p "$OWN_PORT" -d postgres -c \
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'migrate apply worker' LIMIT 1" 2>/dev/null || true
}

# time one undisturbed apply and revert, to aim the kills
t0=$(now_ms)
own -c "SELECT count(*) FROM migrate.apply()" >/dev/null
t1=$(now_ms)
own -c "SELECT count(*) FROM migrate.revert()" >/dev/null
t2=$(now_ms)
UP_MS=$(( t1 - t0 )) DOWN_MS=$(( t2 - t1 ))
note "undisturbed: apply ${UP_MS} ms, revert ${DOWN_MS} ms (kills aimed within them)"

declare -A seen=()
kills=0 retries=0 retried_ok=0 finished=0 bad=0 rebuilt=0 already=0

# one trial of CALL (apply or revert), killed after a random delay within
# AIM_MS of the worker's start; then finish it and check WANT_STATE
kill_trial() {
    local call="$1" aim_ms="$2" want_state="$3" label="$4" hold_ms="${5:-0}"
    local bg pid="" delay st out
    if [ "$hold_ms" -gt 0 ]; then
        # a reader of ka_t that the concurrent drop must wait for
        own -c "BEGIN; LOCK TABLE ka_t IN ACCESS SHARE MODE;
                SELECT pg_sleep($hold_ms / 1000.0); COMMIT;" >/dev/null 2>&1 &
        scenario_child "$!"
        sleep 0.05
    fi
    own -c "SELECT count(*) FROM migrate.$call" >"$SCENARIO_WORK/bg.out" 2>&1 &
    bg=$!
    scenario_child "$bg"
    for _ in $(seq 1 300); do
        pid="$(worker_pid)"
        [ -n "$pid" ] && break
        kill -0 "$bg" 2>/dev/null || break
        sleep 0.01
    done
    delay=$(( RANDOM % (aim_ms + 1) ))
    sleep "$(( delay / 1000 )).$(printf '%03d' "$(( delay % 1000 ))")"
    if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
        kills=$(( kills + 1 ))
    fi
    wait "$bg" 2>/dev/null || true
    # the postmaster restarts every session; wait until it accepts again
    sleep 0.2
    if ! wait_until 60 own_up; then
        fail "$label: the server did not come back after the kill"
        return
    fi
    st="$(state)"
    seen["$label:$st"]=$(( ${seen["$label:$st"]:-0} + 1 ))
    if [ "$st" = dirty ]; then
        retries=$(( retries + 1 ))
        own -c "SELECT migrate.resolve('$V', 'retry')" >/dev/null
    fi
    if ! out="$(own -c "SELECT count(*) FROM migrate.$call" 2>&1)"; then
        bad=$(( bad + 1 ))
        fail "$label: $call after the kill (state was $st) failed: $out"
        return
    fi
    case "$out" in
        *"left INVALID by the interrupted statement"*) rebuilt=$(( rebuilt + 1 )) ;;
        *"is valid already"*|*"DROP INDEX CONCURRENTLY had finished"*) already=$(( already + 1 )) ;;
    esac
    st="$(state)"
    if [ "$st" != "$want_state" ]; then
        bad=$(( bad + 1 ))
        fail "$label: state is $st after $call, expected $want_state"
        return
    fi
    finished=$(( finished + 1 ))
}

for trial in $(seq 1 "$TRIALS"); do
    before_retries=$retries before_bad=$bad
    kill_trial "apply()" "$UP_MS" applied up
    idx="$(indexes)"
    if [ "$idx" != "ka_t_v_idx:true" ]; then
        bad=$(( bad + 1 ))
        fail "trial $trial: after apply the indexes of ka_t are '$idx', expected ka_t_v_idx:true"
        own -c "SELECT migrate.resolve('$V', 'mark_reverted')" >/dev/null 2>&1 || true
    fi
    # every other trial, a reader makes the drop wait part way
    hold=0
    [ $(( trial % 2 )) = 0 ] || hold=$(( 100 + RANDOM % 300 ))
    kill_trial "revert()" "$(( DOWN_MS + hold ))" reverted down "$hold"
    idx="$(indexes)"
    if [ -n "$idx" ]; then
        bad=$(( bad + 1 ))
        fail "trial $trial: after revert the indexes of ka_t are '$idx', expected none"
        own -c "DROP INDEX IF EXISTS ka_t_v_idx" >/dev/null 2>&1 || true
    fi
    if [ "$bad" = "$before_bad" ]; then
        retried_ok=$(( retried_ok + retries - before_retries ))
    fi
done

summary=""
for k in "${!seen[@]}"; do summary+=" $k=${seen[$k]}"; done
note "trials: $TRIALS (apply and revert each); kills that hit the worker: $kills; states after the kill:$summary"
note "retries (resolve 'retry'): $retries, of which succeeded: $retried_ok; calls finished: $finished of $(( 2 * TRIALS ))"
note "retries that dropped a killed build's INVALID index and built again: $rebuilt; found the statement done already: $already"
expect "every killed apply or revert finished after resolve(retry)" "$finished" "$(( 2 * TRIALS ))"
expect "every retry succeeded" "$retried_ok" "$retries"
[ "$kills" -gt 0 ] || fail "no kill hit the apply worker (aim: ${UP_MS} ms / ${DOWN_MS} ms)"
scenario_finish
