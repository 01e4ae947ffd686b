#!/usr/bin/env bash
# test/scenario/environment_schedule.sh: scheduled runs obey the
# database's environment (issue 11).  With migrate.environment set for the
# database (ALTER DATABASE ... SET, as the manual says to), a schedule
# (without an environment of its own) reaches a migration whose
# @environments leave that environment out: its worker records it as
# skipped, with the history row, and the schedule goes on to the next
# one, which depends on it.  The environment used has every rail off, so
# that only the skip is tested here.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_envsched
scenario_init environment_schedule "$DB"
require_preload
T=$(( 30 + 5 * NAPTIME ))

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.configure('ci');
ALTER DATABASE $DB SET migrate.environment = 'ci';
CREATE TABLE es_accounts (id int);
SELECT migrate.register('001', 'es_seed', E'-- @environments: development\nINSERT INTO es_accounts VALUES (1);');
SELECT migrate.register('002', 'es_index', E'-- @dependencies: 001\nCREATE INDEX es_accounts_id ON es_accounts (id);');
SQL
sql "$DB" -c "SET client_min_messages = warning" \
    -c "SELECT migrate.schedule('es', every => '1 second', require_approval => false)" >/dev/null
scenario_on_exit "val $DB -c \"SELECT migrate.unschedule('es')\" >/dev/null 2>&1 || true"

if wait_value "$T" "001 skipped,002 applied" "$DB" \
        "SELECT string_agg(version || ' ' || state, ',' ORDER BY version) FROM migrate.migration"; then
    pass "the schedule skipped 001 (not for environment ci) and applied 002, which depends on it"
else
    fail "the schedule did not skip 001 and apply 002 within ${T}s (states: $WAIT_LAST)"
fi
expect "the history says why 001 was skipped" \
    "$(val "$DB" -c "SELECT outcome || ' ' || (detail->>'reason') || ' ' || (detail->>'environment')
                     FROM migrate.event WHERE action = 'apply' AND version = '001'")" \
    "skipped not for this environment ci"
expect "nothing of 001 ran" "$(val "$DB" -c "SELECT count(*) FROM es_accounts")" 0

scenario_finish
