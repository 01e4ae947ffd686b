#!/usr/bin/env bash
# test/scenario/worker_schedule.sh: the scheduler applies approved migrations
# when a schedule fires inside its window, and only then.
#
#   1. window covering now (UTC): a schedule every second applies the approved
#      migration and holds back the next one until approve(), then applies it;
#      the first run's 'run' row names where it stopped and why
#   2. window that excludes now (starts 2 hours from now, UTC, wrapping at
#      midnight): nothing is applied, next_run_at moves on, last_outcome says
#      'outside window', no 'run' row
#   3. pause(): nothing is applied while paused (several naptimes),
#      health().scheduler = 'paused'; resume() applies it
#   4. a window ending in 2-3 minutes: a migration with @estimated-duration
#      1 minute is applied, the next one (2 hours) is not started, and a
#      'run' row says so (detail->>'reason', stopped_at)
#   5. a cron schedule ('* * * * *') is next due at the start of the next minute
#   Every 'apply' row of the scheduler has detail by = scheduler and the
#   schedule's name.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_sched
scenario_init worker_schedule "$DB"
require_preload
T=$(( 30 + 5 * NAPTIME ))     # generous timeout for anything the scheduler does

sql "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate"

register() {   # register VERSION NAME UP
    sql "$DB" -c "SELECT migrate.register('$1', '$2', \$up\$$3\$up\$, NULL)" >/dev/null
}
state() { val "$DB" -c "SELECT state FROM migrate.migration WHERE version = '$1'"; }
utc_hhmm() {   # utc_hhmm INTERVAL: HH:MM (UTC) of now + INTERVAL, wrapping at midnight
    val "$DB" -c "SELECT to_char((now() AT TIME ZONE 'UTC') + interval '$1', 'HH24:MI')"
}
apply_detail() {   # by/schedule of the scheduler's apply row of VERSION
    val "$DB" -c "SELECT detail->>'by' || '/' || (detail->>'schedule')
                  FROM migrate.history WHERE action = 'apply' AND version = '$1'
                  AND outcome = 'success' ORDER BY id DESC LIMIT 1"
}

V1=20250401000001 V2=20250401000002 V3=20250401000003 V4=20250401000004 V5=20250401000005
register $V1 ws_one "-- Description: first scheduled table
CREATE TABLE ws_one (id int);"
register $V2 ws_two "CREATE TABLE ws_two (id int);"

# --- 1. inside the window: approved ones only ---------------------------------
win="$(utc_hhmm '-1 hour')-$(utc_hhmm '2 hours')"
sql "$DB" -c "SELECT migrate.approve('$V1')" >/dev/null
sql "$DB" -c "SELECT migrate.schedule('in_window', every => '1 second', maintenance_window => '$win', timezone => 'UTC')" >/dev/null
echo "window covering now: $win (UTC)"

if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V1'"; then
    pass "in window: approved $V1 applied by the scheduler"
else
    fail "in window: $V1 not applied within ${T}s (state '$WAIT_LAST')"
fi
expect "in window: apply row of $V1 is by the scheduler, schedule in_window" "$(apply_detail $V1)" "scheduler/in_window"

# at least two more runs of the schedule after V1 was applied
mark="$(val "$DB" -c "SELECT clock_timestamp() + interval '$((2 * NAPTIME)) seconds'")"
if wait_value "$T" t "$DB" "SELECT last_run_at > '$mark' FROM migrate.schedule WHERE name = 'in_window'"; then
    expect "in window: unapproved $V2 is held back over several runs" "$(state $V2)" pending
else
    fail "in window: the schedule did not run again (last_run_at stuck)"
fi
run="$(val "$DB" -c "SELECT outcome, detail->>'applied', detail->>'stopped_at', detail->>'reason'
                     FROM migrate.history WHERE action = 'run' AND detail->>'schedule' = 'in_window'
                     ORDER BY id LIMIT 1")"
expect "in window: 'run' row: success, 1 applied, stopped at $V2, not approved" \
    "$run" "success|1|$V2|not approved"
n="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE action = 'run' AND detail->>'schedule' = 'in_window'")"
expect "in window: runs that applied nothing leave no 'run' row" "$n" 1

sql "$DB" -c "SELECT migrate.approve('$V2')" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V2'"; then
    pass "in window: $V2 applied after approve()"
else
    fail "in window: $V2 not applied within ${T}s of approve() (state '$WAIT_LAST')"
fi
expect "in window: apply row of $V2 is by the scheduler, schedule in_window" "$(apply_detail $V2)" "scheduler/in_window"
t="$(val "$DB" -c "SELECT count(*) FROM pg_class WHERE relname IN ('ws_one', 'ws_two') AND relkind = 'r'")"
expect "in window: tables ws_one and ws_two exist" "$t" 2
sql "$DB" -c "SELECT migrate.unschedule('in_window')" >/dev/null

# --- 2. outside the window: nothing runs, next_run_at moves on ----------------
register $V3 ws_three "CREATE TABLE ws_three (id int);"
sql "$DB" -c "SELECT migrate.approve('$V3')" >/dev/null
win="$(utc_hhmm '2 hours')-$(utc_hhmm '3 hours')"
echo "window excluding now: $win (UTC)"
sql "$DB" -c "SELECT migrate.schedule('outside', every => '1 second', maintenance_window => '$win', timezone => 'UTC')" >/dev/null
first="$(val "$DB" -c "SELECT next_run_at FROM migrate.schedule WHERE name = 'outside'")"
if wait_value "$T" t "$DB" "SELECT next_run_at > '$first'::timestamptz + interval '$((2 * NAPTIME)) seconds'
                            FROM migrate.schedule WHERE name = 'outside'"; then
    pass "outside window: next_run_at advances ($first -> $(val "$DB" -c "SELECT next_run_at FROM migrate.schedule WHERE name = 'outside'"))"
else
    fail "outside window: next_run_at did not advance within ${T}s"
fi
expect "outside window: last_outcome" \
    "$(val "$DB" -c "SELECT last_outcome FROM migrate.schedule WHERE name = 'outside'")" "outside window"
expect "outside window: approved $V3 not applied" "$(state $V3)" pending
n="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE detail->>'schedule' = 'outside'")"
expect "outside window: no history row for the schedule" "$n" 0
sql "$DB" -c "SELECT migrate.unschedule('outside')" >/dev/null

# --- 3. pause and resume ------------------------------------------------------
sql "$DB" -c "SELECT migrate.pause()" >/dev/null
sql "$DB" -c "SELECT migrate.schedule('paused_sched', every => '1 second')" >/dev/null
expect "paused: health().scheduler" "$(val "$DB" -c "SELECT scheduler FROM migrate.health()")" paused
expect "paused: migrate.schedules shows paused" \
    "$(val "$DB" -c "SELECT paused FROM migrate.schedules WHERE name = 'paused_sched'")" t
# absence can only be shown by waiting: three naptimes, the schedule due all along
sleep $(( 3 * NAPTIME )).5
expect "paused: $V3 not applied after $((3 * NAPTIME)).5 s" "$(state $V3)" pending
if [ -n "$(scheduler_pid "$DB")" ]; then
    pass "paused: the scheduler is still running"
else
    fail "paused: no scheduler for $DB"
fi
sql "$DB" -c "SELECT migrate.resume()" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V3'"; then
    pass "resumed: $V3 applied"
else
    fail "resumed: $V3 not applied within ${T}s (state '$WAIT_LAST')"
fi
expect "resumed: apply row of $V3 is by the scheduler, schedule paused_sched" "$(apply_detail $V3)" "scheduler/paused_sched"
expect "resumed: health().scheduler" "$(val "$DB" -c "SELECT scheduler FROM migrate.health()")" running
n="$(val "$DB" -c "SELECT string_agg(action, ',' ORDER BY id) FROM migrate.history WHERE action IN ('pause', 'resume')")"
expect "pause and resume are in the history" "$n" "pause,resume"
sql "$DB" -c "SELECT migrate.unschedule('paused_sched')" >/dev/null

# --- 4. the window closes before the estimated duration -----------------------
register $V4 ws_four "-- @estimated-duration: 1 minute
CREATE TABLE ws_four (id int);"
register $V5 ws_five "-- @estimated-duration: 2 hours
CREATE TABLE ws_five (id int);"
sql "$DB" -c "SELECT migrate.approve('$V4')" -c "SELECT migrate.approve('$V5')" >/dev/null
# ends 2 to 3 minutes from now (minutes are floored)
win="$(utc_hhmm '-1 hour')-$(utc_hhmm '3 minutes')"
echo "window closing soon: $win (UTC), now $(val "$DB" -c "SELECT to_char(now() AT TIME ZONE 'UTC', 'HH24:MI:SS')")"
sql "$DB" -c "SELECT migrate.schedule('closing', every => '1 second', maintenance_window => '$win', timezone => 'UTC')" >/dev/null
if wait_value "$T" 1 "$DB" "SELECT count(*) FROM migrate.history WHERE action = 'run' AND detail->>'schedule' = 'closing'
                            AND detail->>'stopped_at' = '$V5'"; then
    pass "closing window: a 'run' row stops at $V5"
else
    fail "closing window: no 'run' row stopping at $V5 within ${T}s"
fi
sql "$DB" -c "SELECT migrate.unschedule('closing')" >/dev/null
run="$(val "$DB" -c "SELECT outcome, detail->>'by', detail->>'applied', detail->>'reason'
                     FROM migrate.history WHERE action = 'run' AND detail->>'schedule' = 'closing'
                     ORDER BY id LIMIT 1")"
expect "closing window: 'run' row: success, by scheduler, 1 applied, reason" \
    "$run" "success|scheduler|1|its estimated duration would overrun the window"
expect "closing window: $V4 (1 minute) applied" "$(state $V4)" applied
expect "closing window: apply row of $V4 is by the scheduler, schedule closing" "$(apply_detail $V4)" "scheduler/closing"
expect "closing window: $V5 (2 hours) not started" "$(state $V5)" pending
n="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE version = '$V5' AND action = 'apply'")"
expect "closing window: no apply row for $V5" "$n" 0
n="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE action = 'run' AND detail->>'schedule' = 'closing'")"
note "closing window: $n 'run' row(s) recorded while the every-second schedule kept stopping at $V5"

# --- a cron schedule is due at the next matching minute ------------------------
sql "$DB" -c "SELECT migrate.schedule('cron_minutely', cron => '* * * * *', timezone => 'UTC')" >/dev/null
expect "cron: next_run_at of '* * * * *' is the next minute" \
    "$(val "$DB" -c "SELECT next_run_at = date_trunc('minute', created_at) + interval '1 minute'
                      FROM migrate.schedule WHERE name = 'cron_minutely'")" t
sql "$DB" -c "SELECT migrate.unschedule('cron_minutely')" >/dev/null

# --- every apply by the scheduler names it and a schedule ----------------------
n="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE action = 'apply'
                   AND (detail->>'by' IS DISTINCT FROM 'scheduler' OR detail->>'schedule' IS NULL)")"
expect "every apply row in $DB is by the scheduler and names its schedule" "$n" 0
n="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE action = 'apply'")"
expect "apply rows: $V1 $V2 $V3 $V4" "$n" 4

scenario_finish
