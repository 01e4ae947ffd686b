#!/usr/bin/env bash
# test/scenario/drift_schedule.sh: scheduled runs and the apply worker
# under drift capture (issue 13, wp13-1).
#
#   1. where the environment sets drift_blocks_apply, a scheduled run
#      holds its migration back while the schema drifted from the last
#      record (last_outcome and waiting_for say so); acknowledge_drift()
#      lets it run, and the scheduled run records the schema it left
#   2. the DDL a scheduled run and the apply worker (a non-transactional
#      migration: CREATE INDEX CONCURRENTLY) run is not drift: nothing is
#      logged, migrate.drift stays empty
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_drift_sched
scenario_init drift_schedule "$DB"
require_preload
T=$(( 30 + 5 * NAPTIME ))

sql "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate"
sql "$DB" -c "SELECT migrate.configure('ds_prod', drift_blocks_apply => true)" >/dev/null
sql "$DB" -c "ALTER DATABASE $DB SET migrate.environment = 'ds_prod'"
sql "$DB" -c "SELECT migrate.acknowledge_drift('start')" >/dev/null

register() {   # register VERSION NAME UP
    sql "$DB" -c "SELECT migrate.register('$1', '$2', \$up\$$3\$up\$, NULL)" >/dev/null
}
state() { val "$DB" -c "SELECT state FROM migrate.migration WHERE version = '$1'"; }
logged() { val "$DB" -c "SELECT count(*) FROM migrate.drift_log"; }

V1=20250601000001 V2=20250601000002
register $V1 ds_one "CREATE TABLE ds_one (id int);"
register $V2 ds_two "-- @transaction: false
CREATE INDEX CONCURRENTLY ds_one_id ON ds_one (id);"

# --- 1. drift holds the scheduled run back -------------------------------------
sql "$DB" -c "CREATE TABLE ds_hotfix (id int)"
expect "the hotfix is logged" "$(logged)" 1
sql "$DB" -c "SELECT migrate.schedule('ds', every => '1 second', require_approval => false)" >/dev/null
if wait_value "$T" t "$DB" "SELECT last_outcome LIKE 'waiting for acknowledge_drift()%' FROM migrate.schedule WHERE name = 'ds'"; then
    pass "the schedule waits for acknowledge_drift()"
else
    fail "the schedule does not wait for acknowledge_drift() (last_outcome '$WAIT_LAST')"
fi
expect "$V1 held back" "$(state $V1)" pending
expect "last_outcome and waiting_for say why" \
    "$(val "$DB" -c "SELECT last_outcome || '|' || waiting_for FROM migrate.schedule WHERE name = 'ds'")" \
    "waiting for acknowledge_drift()|acknowledge_drift()"

# --- 2. acknowledged: the scheduled runs apply, and log nothing ------------------
sql "$DB" -c "SELECT migrate.acknowledge_drift('ds_hotfix is wanted')" >/dev/null
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V2'"; then
    pass "after acknowledge_drift() the scheduler applied $V1 and $V2"
else
    fail "$V2 not applied within ${T}s of acknowledge_drift() (state '$WAIT_LAST')"
fi
expect "nothing the scheduled runs did is logged" "$(logged)" 1
expect "no drift after the scheduled runs" "$(val "$DB" -c "SELECT count(*) FROM migrate.drift")" 0
expect "the last record is the scheduled run's" \
    "$(val "$DB" -c "SELECT reason FROM migrate.schema_state ORDER BY id DESC LIMIT 1")" apply
sql "$DB" -c "SELECT migrate.unschedule('ds')" >/dev/null

scenario_finish
