#!/usr/bin/env bash
# test/scenario/worker_slots.sh: a scheduled migration whose worker cannot
# start waits for a slot, and runs once there is one.
#
# An own cluster with max_worker_processes = 3 (lowered on purpose: the
# logical replication launcher, migrate's launcher and the one scheduler
# take every slot) serves one database with a schedule every second and a
# migration:
#   1. the scheduler cannot start the migration's worker: last_outcome and
#      waiting_for say 'waiting for a background worker slot', the schedule
#      stays due (next_run_at is not moved on), nothing is applied, no
#      failure is recorded, and it never falls back to running the
#      migration itself;
#   2. after a restart with one more slot, the same schedule applies it.
#
# Needs migrate installed (it starts its own cluster).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
scenario_init worker_slots
scenario_own_cluster 3 "shared_preload_libraries = 'migrate'" "migrate.naptime = 1" \
    "max_worker_processes = 3" "migrate.databases = 'slots'"
own() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$OWN_HOST" -p "$OWN_PORT" "$@"; }
T=30

own -d postgres -c "CREATE DATABASE slots" >/dev/null
own -d slots >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.register('1', 'needs_a_worker', 'CREATE TABLE needs_a_worker (id int);');
SELECT migrate.schedule('often', every => '1 second', require_approval => false);
SQL
own_value() { WAIT_LAST="$(own -d slots -c "$2" 2>/dev/null)"; [ "$WAIT_LAST" = "$1" ]; }
if wait_until "$T" own_value "waiting for a background worker slot|a background worker slot" \
        "SELECT last_outcome || '|' || waiting_for FROM migrate.schedules"; then
    pass "no slot: last_outcome and waiting_for say so"
else
    fail "no slot: last_outcome|waiting_for is '$WAIT_LAST'"
fi
sleep 2
expect "no slot: the schedule stays due" \
    "$(own -d slots -c "SELECT next_run_at <= now() FROM migrate.schedule")" t
expect "no slot: nothing applied, by nobody" \
    "$(own -d slots -c "SELECT state || ' ' || (to_regclass('needs_a_worker') IS NULL) FROM migrate.status")" "pending true"
expect "no slot: no history row but the registration" \
    "$(own -d slots -c "SELECT string_agg(action, ',') FROM migrate.history")" "register"

echo "max_worker_processes = 4" >> "$OWN_DIR/data/postgresql.conf"
as_pg "$MIGRATE_PG_BINDIR/pg_ctl" -D "$OWN_DIR/data" -l "$OWN_DIR/log" -w -m fast restart >/dev/null
if wait_until "$T" own_value "applied" "SELECT state FROM migrate.status WHERE version = '1'"; then
    pass "with a slot free, the same schedule applies it"
else
    fail "not applied after the restart (state '$WAIT_LAST')"
fi
expect "... and the wait is over" \
    "$(own -d slots -c "SELECT last_outcome || '|' || coalesce(waiting_for, '') FROM migrate.schedules")" "success|"

scenario_finish
