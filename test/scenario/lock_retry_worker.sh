#!/usr/bin/env bash
# test/scenario/lock_retry_worker.sh: DDL lock timeouts with retries in the
# apply worker, for a migration that cannot run in a transaction block
# (issue 11, item 3).  Such a migration runs statement by statement, each
# in a transaction of its own; a statement that runs into lock_timeout is
# tried again in a new transaction, after a backoff, up to the
# environment's lock_retries, and the migration is marked dirty with the
# error only when the retries run out.
#
# Environment lrw allows 4 retries after 100 ms (lrw_once: 2); each
# migration says "@lock-timeout: 500ms".
#   1. a transaction holds SHARE UPDATE EXCLUSIVE on the table for 1.5 s:
#      CREATE INDEX CONCURRENTLY waits 500 ms per attempt, a NOTICE names
#      the attempt and the lock, a retry succeeds once the transaction
#      ends; history keeps the retries; the index is valid, the migration
#      applied (not dirty);
#   2. an old snapshot held for 1.2 s: the index build times out in its
#      wait for older snapshots, leaving an INVALID index, which is
#      dropped before the retry builds it again;
#   3. the lock is held throughout: after three attempts the migration is
#      dirty at the statement with 55P03 and its retries in last_error,
#      and the history row of the failure says the same.
#
# Needs a cluster with migrate preloaded (scripts/test.sh).  About 10 s.
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_lock_retry_worker
scenario_init lock_retry_worker "$DB"
require_preload

sql "$DB" -c "SET client_min_messages = warning" \
    -c "CREATE EXTENSION migrate" \
    -c "CREATE TABLE lrw_t (id int); INSERT INTO lrw_t SELECT generate_series(1, 1000)" \
    -c "CREATE TABLE lrw_other (id int)" \
    -c "SELECT FROM migrate.configure('lrw', lock_retries => 4, lock_retry_backoff => '100ms')" \
    -c "SELECT FROM migrate.configure('lrw_once', lock_retries => 2, lock_retry_backoff => '100ms')" >/dev/null

# hold LOCKSQL (run in an open transaction) for SECS seconds, in the
# background; returns once the transaction holds it
hold() {
    local locksql="$1" secs="$2"
    psql -X -q -d "$DB" -c "BEGIN" -c "$locksql" -c "SELECT pg_sleep($secs)" -c "COMMIT" \
        >/dev/null 2>&1 &
    scenario_child $!
    wait_value 10 1 "$DB" "SELECT count(*) FROM pg_stat_activity
                           WHERE datname = current_database()
                             AND query LIKE 'SELECT pg_sleep($secs)%' AND state = 'active'"
}

# apply() as the deploy role would run it, in environment ENV; its output
apply_in() {
    PGOPTIONS="-c migrate.environment=$1 -c migrate.message_timing=off" \
        psql -X -q -d "$DB" -v VERBOSITY=terse -c "SELECT version, action FROM migrate.apply()" 2>&1 || true
}

# --- 1. a lock held for 1.5 s: a retry succeeds ------------------------------
sql "$DB" -c "SELECT migrate.register('501', 'index', E'-- @lock-timeout: 500ms\nCREATE INDEX CONCURRENTLY lrw_idx ON lrw_t (id);')" >/dev/null
hold "LOCK lrw_t IN SHARE UPDATE EXCLUSIVE MODE" 1.5
started=$(now_ms)
out="$(apply_in lrw)"
took=$(( $(now_ms) - started ))
note "apply() took $took ms"
case "$out" in
    *'NOTICE:  attempt 1 of 5 of migration "501" could not get ShareUpdateExclusiveLock at statement 1 within lock_timeout (500 ms)'*)
        pass "a NOTICE names the attempt, the migration, the lock and the statement" ;;
    *) fail "no NOTICE of the first attempt's lock timeout: $out" ;;
esac
case "$out" in
    *"501"*"apply"*) pass "apply() succeeded on a retry" ;;
    *) fail "apply() did not apply 501: $out" ;;
esac
expect "the migration is applied, not dirty" \
    "$(val "$DB" -c "SELECT state FROM migrate.status WHERE version = '501'")" applied
expect "the index is valid" \
    "$(val "$DB" -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'lrw_idx'::regclass")" t
expect "history keeps each retry: the lock it waited for, no longer than the timeout" \
    "$(val "$DB" -c "SELECT count(*) >= 1 AND bool_and(r ->> 'lock_mode' = 'ShareUpdateExclusiveLock'
                                                      AND (r ->> 'attempt_ms')::int BETWEEN 500 AND 1000
                                                      AND (r ->> 'statement')::int = 1)
                     FROM migrate.history h, jsonb_array_elements(h.detail -> 'retries') r
                     WHERE h.version = '501' AND h.action = 'apply' AND h.outcome = 'success'")" t
expect "no failure was recorded" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE version = '501' AND outcome = 'failure'")" 0

# --- 2. an old snapshot: the INVALID index is dropped before the retry --------
sql "$DB" -c "SELECT migrate.register('502', 'index_again', E'-- @lock-timeout: 500ms\nCREATE INDEX CONCURRENTLY lrw_idx2 ON lrw_t (id);')" >/dev/null
psql -X -q -d "$DB" -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM lrw_other" \
    -c "SELECT pg_sleep(1.2)" -c "COMMIT" >/dev/null 2>&1 &
scenario_child $!
wait_value 10 1 "$DB" "SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database()
                         AND query LIKE 'SELECT pg_sleep(1.2)%' AND state = 'active'"
out="$(apply_in lrw)"
case "$out" in
    *'NOTICE:  attempt 1 of 5 of migration "502" could not get ShareLock at statement 1 within lock_timeout (500 ms)'*)
        pass "the wait for an older snapshot ran into the lock timeout and was retried" ;;
    *) fail "no NOTICE of the snapshot wait's lock timeout: $out" ;;
esac
expect "the migration is applied" \
    "$(val "$DB" -c "SELECT state FROM migrate.status WHERE version = '502'")" applied
expect "one index lrw_idx2, valid: the INVALID one of the failed attempt was dropped" \
    "$(val "$DB" -c "SELECT string_agg(c.relname || ' ' || i.indisvalid, ', ')
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE c.relname LIKE 'lrw_idx2%'")" "lrw_idx2 true"

# --- 3. the lock held throughout: 55P03, dirty, the failure record -----------
sql "$DB" -c "SELECT migrate.register('503', 'index_blocked', E'-- @lock-timeout: 500ms\nCREATE INDEX CONCURRENTLY lrw_idx3 ON lrw_t (id);')" >/dev/null
hold "LOCK lrw_t IN SHARE UPDATE EXCLUSIVE MODE" 8
out="$(apply_in lrw_once)"
notices=$(printf '%s\n' "$out" | grep -c 'could not get ShareUpdateExclusiveLock' || true)
expect "two retries, each with its NOTICE" "$notices" 2
case "$out" in
    *"ERROR:  canceling statement due to lock timeout"*) pass "apply() fails with the lock timeout once the retries are exhausted" ;;
    *) fail "apply() did not fail with the lock timeout: $out" ;;
esac
expect "the migration is dirty at the statement, 55P03 and both retries in last_error" \
    "$(val "$DB" -c "SELECT state || ' ' || dirty_statement || ' ' || (last_error ->> 'sqlstate') || ' '
                            || jsonb_array_length(last_error -> 'retries')
                     FROM migrate.status_detail WHERE version = '503'")" "dirty 1 55P03 2"
expect "the history row of the failure carries the retries too" \
    "$(val "$DB" -c "SELECT jsonb_array_length(error -> 'retries') FROM migrate.history
                     WHERE version = '503' AND action = 'apply' AND outcome = 'failure'")" 2
expect "no index was left behind" \
    "$(val "$DB" -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'lrw_idx3%'")" 0

scenario_finish
