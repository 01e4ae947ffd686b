#!/usr/bin/env bash
# test/scenario/guard_schedule.sh: scheduled runs obey the environment's
# guard rails (issue 11, wp11-2), not only the schedule's own settings.
#
#   1. an environment that requires approval holds back an unapproved
#      migration even for a schedule with require_approval => false;
#      last_outcome and waiting_for say why; approve() lets it run
#   2. the risk gate: a migration above max_risk_level is held back (a
#      scheduled run never forces) until it is approved
#   3. the database's environment changed while the scheduler runs (it
#      read the old one when it connected): the migration's worker, a new
#      session, checks the rails again and holds the migration back
#
# The database's migrate.environment is set with ALTER DATABASE (the
# scheduler reads it when it connects).  Needs a cluster with migrate
# preloaded (scripts/test.sh: naptime 1).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_guard_sched
scenario_init guard_schedule "$DB"
require_preload
T=$(( 30 + 5 * NAPTIME ))

sql "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate"
sql "$DB" -c "SELECT migrate.configure('gs_prod', require_approval => true, max_risk_level => 'medium')" >/dev/null
sql "$DB" -c "ALTER DATABASE $DB SET migrate.environment = 'gs_prod'"

register() {   # register VERSION NAME UP
    sql "$DB" -c "SELECT migrate.register('$1', '$2', \$up\$$3\$up\$, NULL)" >/dev/null
}
state() { val "$DB" -c "SELECT state FROM migrate.migration WHERE version = '$1'"; }
runs_after() {   # wait for two more runs of the schedule
    local mark
    mark="$(val "$DB" -c "SELECT clock_timestamp() + interval '$((2 * NAPTIME)) seconds'")"
    wait_value "$T" t "$DB" "SELECT last_run_at > '$mark' FROM migrate.schedule WHERE name = 'gs'"
}

V1=20250501000001 V2=20250501000002 V3=20250501000003
register $V1 gs_one "CREATE TABLE gs_one (id int);"
register $V2 gs_two "CREATE TABLE gs_two (id int);"
register $V3 gs_three "-- @risk-level: high
CREATE TABLE gs_three (id int);"
last_run() {   # stopped_at|reason of the latest 'run' row
    val "$DB" -c "SELECT detail->>'applied' || '|' || (detail->>'stopped_at') || '|' || (detail->>'reason')
                  FROM migrate.history WHERE action = 'run' ORDER BY id DESC LIMIT 1"
}

# --- 1. the environment requires approval, the schedule does not --------------
sql "$DB" -c "SELECT migrate.schedule('gs', every => '1 second', require_approval => false)" >/dev/null
if runs_after; then
    expect "environment requires approval: unapproved $V1 held back" "$(state $V1)" pending
else
    fail "the schedule did not run (last_run_at stuck)"
fi
expect "last_outcome and waiting_for name the approval" \
    "$(val "$DB" -c "SELECT last_outcome || '|' || waiting_for FROM migrate.schedule WHERE name = 'gs'")" \
    "waiting for approval of $V1|approval of $V1"
sql "$DB" -c "SELECT migrate.approve('$V1')" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V1'"; then
    pass "approved $V1 applied by the scheduler"
else
    fail "$V1 not applied within ${T}s of approve() (state '$WAIT_LAST')"
fi
expect "the 'run' row: $V1 applied, stopped at unapproved $V2, why" "$(last_run)" \
    "1|$V2|not approved (environment gs_prod requires approval)"

# --- 2. the risk gate, approvals no longer required ----------------------------
sql "$DB" -c "SELECT migrate.configure('gs_prod', require_approval => false)" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V2'"; then
    pass "no approval required: $V2 applied by the scheduler"
else
    fail "$V2 not applied within ${T}s (state '$WAIT_LAST')"
fi
runs_after || fail "the schedule did not run again (last_run_at stuck)"
expect "risk gate: $V3 (@risk-level high) held back" "$(state $V3)" pending
expect "the 'run' row: $V2 applied, stopped at $V3, the gate named" "$(last_run)" \
    "1|$V3|gated in environment gs_prod: @risk-level high is above max_risk_level medium"
expect "waiting_for names the approval that opens the gate" \
    "$(val "$DB" -c "SELECT waiting_for FROM migrate.schedule WHERE name = 'gs'")" "approval of $V3"
sql "$DB" -c "SELECT migrate.approve('$V3')" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V3'"; then
    pass "approved $V3 passes the gate and is applied by the scheduler"
else
    fail "$V3 not applied within ${T}s of approve() (state '$WAIT_LAST')"
fi
expect "nothing was forced" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE detail ? 'forced'")" 0

# --- 3. a new environment for the database, the scheduler still running -------
sql "$DB" -c "SELECT migrate.configure('gs_strict', require_approval => true)" >/dev/null
sql "$DB" -c "ALTER DATABASE $DB SET migrate.environment = 'gs_strict'"
V4=20250501000004
register $V4 gs_four "CREATE TABLE gs_four (id int);"
if wait_value "$T" "held back: migration $V4 is held back by the environment's guard rails: not approved (environment gs_strict requires approval)" \
        "$DB" "SELECT last_outcome FROM migrate.schedule WHERE name = 'gs'"; then
    pass "the worker holds $V4 back under the database's new environment"
else
    fail "$V4 not held back by the worker (last_outcome '$WAIT_LAST')"
fi
expect "$V4 is still pending" "$(state $V4)" pending
sql "$DB" -c "SELECT migrate.approve('$V4')" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V4'"; then
    pass "approved $V4 applied by the scheduler"
else
    fail "$V4 not applied within ${T}s of approve() (state '$WAIT_LAST')"
fi
sql "$DB" -c "SELECT migrate.unschedule('gs')" >/dev/null

scenario_finish
