#!/usr/bin/env bash
# test/scenario/concurrency_mix.sh: the migrate lock under concurrency.
#
#   1. a prepared transaction holds the migrate lock (own cluster with
#      max_prepared_transactions = 2): apply() gets 55P03 whose DETAIL names
#      the prepared transaction, never 22004; health() shows the lock held
#      by no process
#   2. the apply worker's lock hand-off does not depend on the wait queue
#      (finding 17): H holds the lock for 2 s, A calls apply() on a plan
#      with CREATE INDEX CONCURRENTLY 0.1 s later, B calls apply() 0.3 s
#      after A.  A applies its plan (never XX000); B either waits and
#      applies nothing, or, if it is still queued when A's index build
#      starts, returns at once with 55P03; nobody gets 40P01, nothing is
#      dirty.  HANDOFF_TRIES times (default 3)
#   3. the mix: MIX_ROUNDS rounds (default: as many as fit in MIX_SECONDS,
#      default 35 s) in which 3 to 6 concurrent psql sessions run 1 or 2
#      random calls each among register, apply, apply(target),
#      revert(steps), revert(target), revert(migration, with_dependents),
#      revert_all and CALL deploy(max_wait => 0-3 s), with
#      migrate.lock_timeout between 0 and 3 s; every
#      third migration is a CREATE INDEX CONCURRENTLY (its down script a
#      DROP INDEX CONCURRENTLY), so those plans go through the apply worker.
#      After every round: no migration is dirty or failed, each registered
#      migration's table or index exists (and is valid) iff it is applied,
#      the last successful apply/revert in history agrees with the state,
#      and there is no INVALID index.  Every call's SQLSTATE is counted.
#      Allowed outcomes:
#        success
#        55P03  lock busy, or held by a run executing statements outside a
#               transaction (doc/migrate.md, Locking)
#        55000  revert(migration => v) of a migration that is not applied
#               (not applied yet, or another session reverted it first)
#        53400  no background worker slot for the apply worker (a
#               documented error that depends on what else holds slots;
#               counted and reported, with default max_worker_processes
#               and the schedulers of other test databases it can occur)
#      Failures: 40P01 (deadlock), XX000 (internal error), and any other
#      SQLSTATE, a hung call (CALL_TIMEOUT, default 120 s), or a round whose
#      checks fail.  The figures are printed at the end (NOTE lines).
#
# Run long:  MIX_ROUNDS=200 test/scenario/concurrency_mix.sh
# Needs a cluster with migrate preloaded (scripts/test.sh).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_mix
HDB=migrate_mix_handoff
scenario_init concurrency_mix "$DB" "$HDB"
require_preload
MIX_SECONDS="${MIX_SECONDS:-35}"
MIX_ROUNDS="${MIX_ROUNDS:-0}"
HANDOFF_TRIES="${HANDOFF_TRIES:-3}"
CALL_TIMEOUT="${CALL_TIMEOUT:-120}"
POOL=12            # migrations 001..012; 003, 006, 009, 012 build indexes
ALLOWED="55P03 55000 53400"

# run one SQL call as its own psql session; print "ok" or the SQLSTATE
# (psql's verbose error line "ERROR:  XXXXX: ..."), "hung" on timeout
call() {   # call LOCK_TIMEOUT SQL [DB]
    local out rc=0
    out="$(timeout "$CALL_TIMEOUT" psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
            -d "${3:-$DB}" -c "SET migrate.lock_timeout = '$1'" \
            -c "SET migrate.progress_level = 'warning'" -c "$2" 2>&1 >/dev/null)" || rc=$?
    if [ "$rc" = 0 ]; then
        echo ok
    elif [ "$rc" = 124 ]; then
        echo hung
    else
        sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' <<<"$out" | head -1 | grep . || echo "other"
        printf '%s\n' "$out" >>"$SCENARIO_WORK/errors.log"
    fi
}

# --- 1. a prepared transaction holds the lock ---------------------------------
scenario_own_cluster 7 "max_prepared_transactions = 2"
own() { psql -X -q -A -t -h "$OWN_HOST" -p "$OWN_PORT" -d postgres -v VERBOSITY=verbose "$@"; }
own -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate" >/dev/null
own -c "BEGIN" -c "SELECT migrate.register('001', 'prepared_holder', 'SELECT 1;')" \
    -c "PREPARE TRANSACTION 'mix_holder'" >/dev/null
out="$(own -c "SET migrate.lock_timeout = 0" -c "SELECT * FROM migrate.apply()" 2>&1 || true)"
case "$out" in
    *"ERROR:  55P03: could not obtain migrate lock"*"DETAIL:  It is held by prepared transaction 'mix_holder' (role postgres, prepared at "*)
        pass "prepared transaction holding the lock: 55P03 naming it" ;;
    *) fail "prepared transaction holding the lock: got: $out" ;;
esac
out="$(own -c "SET migrate.lock_timeout = '300ms'" -c "SELECT * FROM migrate.apply()" 2>&1 || true)"
case "$out" in
    *"ERROR:  55P03: "*"It is held by prepared transaction 'mix_holder'"*"HINT:  Waited 300 ms"*)
        pass "prepared transaction holding the lock, after waiting: 55P03" ;;
    *) fail "prepared transaction holding the lock, after waiting: got: $out" ;;
esac
expect "health() with a prepared holder: lock held, by no process" \
    "$(own -c "SELECT lock_held, lock_holder_pid IS NULL FROM migrate.health()")" "t|t"
own -c "ROLLBACK PREPARED 'mix_holder'" >/dev/null
expect "after ROLLBACK PREPARED the lock is free" \
    "$(own -c "SET migrate.lock_timeout = 0" -c "SET client_min_messages = warning" \
           -c "SELECT count(*) FROM migrate.apply()")" 0

# --- setup of the databases -----------------------------------------------------
setup_db() {
sql "$1" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE mix_base (id int PRIMARY KEY, c3 int, c6 int, c9 int, c12 int, c90 int);
INSERT INTO mix_base SELECT g, g, g, g, g, g FROM generate_series(1, 20000) g;
VACUUM ANALYZE mix_base;
-- the script of migration N: a table, or every third one an index built
-- concurrently (non-transactional: the apply worker runs it)
CREATE FUNCTION mix_up(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n % 3 = 0
                THEN format('CREATE INDEX CONCURRENTLY mix_i%s ON mix_base (c%s);', n, n)
                ELSE format('CREATE TABLE mix_t%s (id int);', n) END
$$;
CREATE FUNCTION mix_down(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n % 3 = 0
                THEN format('DROP INDEX CONCURRENTLY mix_i%s;', n)
                ELSE format('DROP TABLE mix_t%s;', n) END
$$;
-- register the lowest migration not registered yet (the same script as
-- anyone else registering it, so a race only finds it unchanged)
CREATE FUNCTION mix_register_next() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n int;
BEGIN
    SELECT min(g) INTO n FROM generate_series(1, 12) g
    WHERE NOT EXISTS (SELECT 1 FROM migrate.migration m WHERE m.version = lpad(g::text, 3, '0'));
    IF n IS NOT NULL THEN
        PERFORM migrate.register(lpad(n::text, 3, '0'), 'mix_' || n, mix_up(n), mix_down(n));
    END IF;
END
$$;
-- rows that break the invariants
CREATE VIEW mix_broken AS
WITH m AS (
    SELECT m.version, m.state, m.version::int AS n,
           CASE WHEN m.version::int % 3 = 0
                THEN EXISTS (SELECT 1 FROM pg_index i
                             WHERE i.indexrelid = to_regclass('mix_i' || m.version::int)
                               AND i.indisvalid)
                ELSE to_regclass('mix_t' || m.version::int) IS NOT NULL END AS object_exists,
           (SELECT e.action FROM migrate.event e
            WHERE e.version = m.version AND e.action IN ('apply', 'revert')
              AND e.outcome = 'success'
            ORDER BY e.id DESC LIMIT 1) AS last_action
    FROM migrate.migration m
    WHERE m.version ~ '^[0-9]+$')
SELECT version, state, object_exists, last_action,
       CASE WHEN state NOT IN ('applied', 'pending', 'reverted') THEN 'state ' || state
            WHEN (state = 'applied') <> object_exists THEN 'object does not match state'
            ELSE 'history does not match state' END AS problem
FROM m
WHERE state NOT IN ('applied', 'pending', 'reverted')
   OR (state = 'applied') <> object_exists
   OR (state = 'applied') <> (last_action IS NOT DISTINCT FROM 'apply')
UNION ALL
SELECT c.relname, 'INVALID', true, NULL, 'invalid index'
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE NOT i.indisvalid;
SQL
}
# one database with the extension at a time: each has a scheduler, which
# holds a background worker slot, and the apply worker needs one too
setup_db "$HDB"

# check the invariants; print the broken rows, if any
broken() { val "${1:-$DB}" -c "SELECT version || ' ' || state || ': ' || problem FROM mix_broken"; }

# --- 2. the apply worker's hand-off with a queue (finding 17) ------------------
handoff_ok=0
holder_holds_lock() {
    [ "$(val "$HDB" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                         WHERE a.query LIKE '%handoff_hold_%' AND a.pid <> pg_backend_pid()
                           AND l.locktype = 'object' AND l.objsubid = 1 AND l.granted
                           AND l.classid = 'pg_extension'::regclass")" = 1 ]
}
for try in $(seq 1 "$HANDOFF_TRIES"); do
    n=$((90 + try))
    sql "$HDB" >/dev/null -c "SELECT migrate.register('h$try', 'handoff_$try',
        'CREATE INDEX CONCURRENTLY mix_h$try ON mix_base (c90);', 'DROP INDEX CONCURRENTLY mix_h$try;')"
    ( call 5s "BEGIN; SELECT migrate.register('h${try}x', 'handoff_hold_$try', 'SELECT $n;'); SELECT pg_sleep(2); COMMIT;" "$HDB" \
        >"$SCENARIO_WORK/h.out" ) &
    h=$!
    # A starts only once H holds the lock (connecting can be slow under load)
    wait_until 30 holder_holds_lock || fail "hand-off try $try: the holder did not get the lock"
    sleep 0.1
    ( call 10s "SELECT count(*) FROM migrate.apply()" "$HDB" >"$SCENARIO_WORK/a.out" ) &
    a=$!
    sleep 0.3
    ( call 10s "SELECT count(*) FROM migrate.apply()" "$HDB" >"$SCENARIO_WORK/b.out" ) &
    b=$!
    wait "$h" "$a" "$b" || true
    ra="$(cat "$SCENARIO_WORK/a.out")" rb="$(cat "$SCENARIO_WORK/b.out")" rh="$(cat "$SCENARIO_WORK/h.out")"
    state="$(val "$HDB" -c "SELECT state FROM migrate.migration WHERE version = 'h$try'")"
    if [ "$rh" = ok ] && [ "$state" = applied ] && { [ "$ra" = ok ] || [ "$rb" = ok ]; } &&
       { [ "$ra" = ok ] || [ "$ra" = 55P03 ]; } && { [ "$rb" = ok ] || [ "$rb" = 55P03 ]; } &&
       [ -z "$(broken "$HDB")" ]; then
        handoff_ok=$((handoff_ok + 1))
    else
        fail "hand-off try $try: holder $rh, A $ra, B $rb, h$try $state; broken: $(broken "$HDB")"
    fi
    note "hand-off try $try: holder $rh, A $ra, B $rb"
done
expect "hand-off with sessions queued: the worker got the lock every time (no XX000, no 40P01)" \
    "$handoff_ok" "$HANDOFF_TRIES"
# its scheduler holds a background worker slot
PGOPTIONS="-c client_min_messages=warning" \
    sql postgres -c "DROP DATABASE $HDB WITH (FORCE)"

# --- 3. the mix -----------------------------------------------------------------
setup_db "$DB"
ops=(register register apply apply apply apply_target apply_target revert_steps revert_steps
     revert_target revert_migration revert_all deploy)
random_version() { printf '%03d' $(( RANDOM % POOL + 1 )); }
op_sql() {
    local op="$1"
    # a target must be registered: before anything is, register instead
    case "$op" in apply_target|revert_target|revert_migration)
        [ "$POOL" -gt 0 ] || op=register ;;
    esac
    case "$op" in
        register)         echo "SELECT mix_register_next()" ;;
        apply)            echo "SELECT count(*) FROM migrate.apply()" ;;
        apply_target)     echo "SELECT count(*) FROM migrate.apply(target => '$(random_version)')" ;;
        revert_steps)     echo "SELECT count(*) FROM migrate.revert(steps => $(( RANDOM % 3 + 1 )))" ;;
        revert_target)    echo "SELECT count(*) FROM migrate.revert(target => '$(random_version)')" ;;
        revert_migration) echo "SELECT count(*) FROM migrate.revert(migration => '$(random_version)', with_dependents => true)" ;;
        revert_all)       echo "SELECT count(*) FROM migrate.revert_all()" ;;
        deploy)           echo "CALL migrate.deploy(max_wait => '$(( RANDOM % 4 ))s')" ;;
    esac
}
# apply(target)/revert(target) of a version not registered yet: a call
# error, not a concurrency one; only registered versions are picked
registered_max() { val "$DB" -c "SELECT coalesce(max(version::int), 0) FROM migrate.migration WHERE version ~ '^[0-9]+$'"; }

session() {   # session ID ROUND: 1 or 2 random calls, "op sqlstate" lines
    local i op timeout_ms
    for i in $(seq 1 $(( RANDOM % 2 + 1 ))); do
        op="${ops[$(( RANDOM % ${#ops[@]} ))]}"
        timeout_ms=$(( (RANDOM % 4) * 1000 ))
        echo "$op $(call "${timeout_ms}ms" "$(op_sql "$op")")"
    done >"$SCENARIO_WORK/s$1.out"
}

: >"$SCENARIO_WORK/calls.log"
started=$(now_ms)
round=0
bad_rounds=0
while :; do
    if [ "$MIX_ROUNDS" -gt 0 ]; then
        [ "$round" -lt "$MIX_ROUNDS" ] || break
    else
        [ $(( $(now_ms) - started )) -lt $(( MIX_SECONDS * 1000 )) ] || break
    fi
    round=$((round + 1))
    POOL="$(registered_max)"
    nsessions=$(( RANDOM % 4 + 3 ))
    pids=()
    for s in $(seq 1 "$nsessions"); do
        session "$s" &
        pids+=("$!")
    done
    wait "${pids[@]}" || true
    for s in $(seq 1 "$nsessions"); do
        cat "$SCENARIO_WORK/s$s.out" >>"$SCENARIO_WORK/calls.log"
    done
    problems="$(broken)"
    if [ -n "$problems" ]; then
        bad_rounds=$((bad_rounds + 1))
        fail "round $round: $(tr '\n' ';' <<<"$problems")"
        # let the next rounds go on from a clean state
        sql "$DB" >/dev/null -c "SELECT migrate.resolve(version, 'mark_reverted')
                                 FROM migrate.migration WHERE state IN ('dirty', 'failed')" 2>/dev/null || true
    fi
done

calls=$(wc -l <"$SCENARIO_WORK/calls.log")
note "mix: $round rounds, $calls calls in $(( ($(now_ms) - started) / 1000 )) s"
note "mix: outcomes: $(awk '{print $2}' "$SCENARIO_WORK/calls.log" | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')"
note "mix: calls per operation: $(awk '{print $1}' "$SCENARIO_WORK/calls.log" | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')"
note "mix: 55P03 because a run was executing statements outside a transaction: $(grep -c '^DETAIL:  The lock is held by a run that executes statements outside a transaction' "$SCENARIO_WORK/errors.log" || true)"
note "mix: migrations run through the apply worker (CREATE/DROP INDEX CONCURRENTLY): $(val "$DB" -c "SELECT count(*) FROM migrate.event WHERE outcome = 'success' AND action IN ('apply', 'revert') AND version ~ '^[0-9]+$' AND version::int % 3 = 0")"
note "mix: applied now: $(val "$DB" -c "SELECT count(*) FROM migrate.migration WHERE state = 'applied'") of $(val "$DB" -c "SELECT count(*) FROM migrate.migration"); history rows: $(val "$DB" -c "SELECT count(*) FROM migrate.event")"
unexpected="$(awk -v allowed=" ok $ALLOWED " 'index(allowed, " " $2 " ") == 0 {print}' "$SCENARIO_WORK/calls.log" | sort | uniq -c)"
if [ -z "$unexpected" ]; then
    pass "mix: every call succeeded or failed with a documented SQLSTATE ($ALLOWED)"
else
    fail "mix: unexpected outcomes: $(tr '\n' ';' <<<"$unexpected")"
    grep -A3 "^ERROR:  \(40P01\|XX000\)" "$SCENARIO_WORK/errors.log" | head -40 || true
fi
expect "mix: no 40P01 (deadlock)" "$(grep -c ' 40P01$' "$SCENARIO_WORK/calls.log" || true)" 0
expect "mix: no XX000" "$(grep -c ' XX000$' "$SCENARIO_WORK/calls.log" || true)" 0
expect "mix: rounds whose states, objects and history disagree (dirty migrations included)" "$bad_rounds" 0
expect "mix: dirty or failed migrations at the end" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.migration WHERE state IN ('dirty', 'failed')")" 0

scenario_finish
