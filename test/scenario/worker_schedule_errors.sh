#!/usr/bin/env bash
# test/scenario/worker_schedule_errors.sh: bad schedules are refused or
# isolated, and a schedule says what it waits for (issue 7, findings 7 and
# 15, and the scheduler's part of finding 21).
#
#   1. schedule() validates against what the scheduler uses: a time zone
#      abbreviation known only under the caller's timezone_abbreviations
#      ('SAT' under 'Australia') and an interval that would overflow are
#      refused with 22023;
#   2. rows that are bad anyway (changed behind schedule()'s back): one
#      with an unknown time zone in its window, one whose every overflows
#      when added to now, and a good one in the same database.  The good
#      one applies its migration; each bad one has one failed 'run' row with
#      its error, and last_outcome says 'failure: <error>';
#   3. approvals: schedule() warns (NOTICE) when approval is required and
#      nothing pending is approved; the run says 'waiting for approval of
#      2' (last_outcome, waiting_for) and health().awaiting_approval counts
#      it; once approved it is applied and the wait is over;
#   4. a database whose new sessions are read-only: the scheduler starts no
#      migration, says 'database is read-only' (last_outcome, one 'run'
#      row), and applies it once the database is writable again.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_sched_errors
scenario_init worker_schedule_errors "$DB"
require_preload
T=$(( 20 + 5 * NAPTIME ))

sql "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate" >/dev/null
outcome() { val "$DB" -c "SELECT coalesce(last_outcome, '(null)') FROM migrate.schedules WHERE name = '$1'"; }
run_rows() {   # outcome|sqlstate|message of the 'run' rows of schedule $1
    val "$DB" -c "SELECT coalesce(string_agg(outcome || '|' || coalesce(error->>'sqlstate', '') || '|' ||
                                             coalesce(error->>'message', ''), '; ' ORDER BY id), '')
                  FROM migrate.history WHERE action = 'run' AND detail->>'schedule' = '$1'"
}

# --- 1. refused by schedule() -------------------------------------------------
expect "the session knows 'SAT' under timezone_abbreviations = Australia" \
    "$(val "$DB" -c "SET timezone_abbreviations = 'Australia'" -c "SELECT (now() AT TIME ZONE 'SAT') IS NOT NULL")" t
out="$(sql "$DB" -c "SET timezone_abbreviations = 'Australia'" \
    -c "SELECT migrate.schedule('sat', every => '1 hour', timezone => 'SAT')" 2>&1 || true)"
case "$out" in
    *'ERROR:  time zone "SAT" not recognized'*) pass "schedule() refuses 'SAT', which the scheduler would not know" ;;
    *) fail "schedule() with timezone 'SAT' under Australia abbreviations: $out" ;;
esac
out="$(sql "$DB" -c "SELECT migrate.schedule('huge', every => '1000000 years')" 2>&1 || true)"
case "$out" in
    *'ERROR:  every must be at most 100 years'*) pass "schedule() refuses an every that would overflow" ;;
    *) fail "schedule() with every => '1000000 years': $out" ;;
esac
expect "nothing was stored" "$(val "$DB" -c "SELECT count(*) FROM migrate.schedules")" 0

# --- 2. one bad row does not stop the others ----------------------------------
sql "$DB" -c "SELECT migrate.register('1', 'good_one', 'CREATE TABLE good_one (id int);')" >/dev/null
far="$(val "$DB" -c "SELECT to_char((now() AT TIME ZONE 'UTC') + interval '2 hours', 'HH24:MI') || '-' ||
                            to_char((now() AT TIME ZONE 'UTC') + interval '3 hours', 'HH24:MI')")"
sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
SELECT migrate.pause();
SELECT migrate.schedule('bad_zone', every => '1 second', "window" => '00:00-23:59');
SELECT migrate.schedule('bad_every', every => '1 second', "window" => '$far');
SELECT migrate.schedule('good', every => '1 second', require_approval => false);
-- behind schedule()'s back, as the owner could
UPDATE migrate.schedule SET timezone = 'SAT' WHERE name = 'bad_zone';
UPDATE migrate.schedule SET every = '300000 years' WHERE name = 'bad_every';
UPDATE migrate.schedule SET next_run_at = now() - interval '1 hour' WHERE name LIKE 'bad%';
SELECT migrate.resume();
SQL
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.status WHERE version = '1'"; then
    pass "the good schedule applies its migration beside two bad ones"
else
    fail "the good schedule did not apply (state '$WAIT_LAST'; good: $(outcome good))"
fi
expect "good: last_outcome" "$(outcome good)" success
wait_value "$T" 't' "$DB" "SELECT last_outcome IS NOT NULL FROM migrate.schedules WHERE name = 'bad_every'" || true
expect "bad_zone: last_outcome names its error" "$(outcome bad_zone)" 'failure: time zone "SAT" not recognized'
expect "bad_every: last_outcome names its error" "$(outcome bad_every)" 'failure: timestamp out of range'
sleep 2
expect "bad_zone: one failed 'run' row with the error" "$(run_rows bad_zone)" 'failure|22023|time zone "SAT" not recognized'
expect "bad_every: one failed 'run' row with the error" "$(run_rows bad_every)" 'failure|22008|timestamp out of range'
expect "the bad ones are retried a minute later, not every round" \
    "$(val "$DB" -c "SELECT bool_and(next_run_at > now() + interval '40 seconds') FROM migrate.schedule WHERE name LIKE 'bad%'")" t
sql "$DB" -c "SELECT migrate.unschedule('bad_zone')" -c "SELECT migrate.unschedule('bad_every')" \
    -c "SELECT migrate.unschedule('good')" >/dev/null

# --- 3. waiting for approval --------------------------------------------------
sql "$DB" -c "SELECT migrate.register('2', 'needs_approval', 'CREATE TABLE needs_approval (id int);')" >/dev/null
out="$(sql "$DB" -c "SELECT migrate.schedule('approvals', every => '1 second')" 2>&1)"
case "$out" in
    *'NOTICE:  schedule "approvals" will apply nothing until a pending migration is approved'*)
        pass "schedule() warns that nothing pending is approved" ;;
    *) fail "no NOTICE from schedule(): $out" ;;
esac
if wait_value "$T" 'waiting for approval of 2' "$DB" "SELECT last_outcome FROM migrate.schedules WHERE name = 'approvals'"; then
    pass "approvals: last_outcome is 'waiting for approval of 2'"
else
    fail "approvals: last_outcome '$WAIT_LAST'"
fi
expect "approvals: waiting_for" \
    "$(val "$DB" -c "SELECT waiting_for FROM migrate.schedules WHERE name = 'approvals'")" "approval of 2"
expect "health() counts one migration awaiting approval" \
    "$(val "$DB" -c "SELECT awaiting_approval FROM migrate.health()")" 1
sql "$DB" -c "SELECT migrate.approve('2')" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.status WHERE version = '2'"; then
    pass "approvals: 2 is applied once approved"
else
    fail "approvals: 2 not applied after approve() (state '$WAIT_LAST')"
fi
wait_value "$T" 'success|' "$DB" "SELECT last_outcome || '|' || coalesce(waiting_for, '') FROM migrate.schedules WHERE name = 'approvals'" ||
    fail "approvals: after the run, last_outcome|waiting_for is '$WAIT_LAST'"
expect "health() counts none awaiting approval" \
    "$(val "$DB" -c "SELECT awaiting_approval FROM migrate.health()")" 0

# --- 4. a read-only database --------------------------------------------------
sql "$DB" -c "SELECT migrate.register('3', 'read_only', 'CREATE TABLE read_only_t (id int);')" >/dev/null
sql postgres -c "ALTER DATABASE $DB SET default_transaction_read_only = on" >/dev/null
PGOPTIONS="-c default_transaction_read_only=off" sql "$DB" -c "SELECT migrate.approve('3')" >/dev/null
if wait_value "$T" 'database is read-only' "$DB" "SELECT last_outcome FROM migrate.schedules WHERE name = 'approvals'"; then
    pass "read-only: last_outcome is 'database is read-only'"
else
    fail "read-only: last_outcome '$WAIT_LAST'"
fi
sleep 2
expect "read-only: 3 was not started" "$(val "$DB" -c "SELECT state FROM migrate.status WHERE version = '3'")" pending
expect "read-only: one 'run' row says so" \
    "$(val "$DB" -c "SELECT count(*) || ' ' || min(detail->>'reason') FROM migrate.history WHERE action = 'run' AND detail->>'reason' = 'database is read-only'")" \
    "1 database is read-only"
sql postgres -c "ALTER DATABASE $DB RESET default_transaction_read_only" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.status WHERE version = '3'"; then
    pass "read-only: 3 is applied once the database is writable"
else
    fail "read-only: 3 not applied after RESET (state '$WAIT_LAST')"
fi
sql "$DB" -c "SELECT migrate.unschedule('approvals')" >/dev/null

scenario_finish
