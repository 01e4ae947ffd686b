#!/usr/bin/env bash
# test/scenario/lint_schedule.sh: scheduled runs obey the environment's
# blocking lint rules (issue 12, wp12-5).
#
#   1. a migration with a stored finding of a rule the environment lists
#      in lint_blocking is held back; last_outcome and waiting_for say
#      what lets it go on (a fixed script);
#   2. an approval does not let it through (scheduled runs never force);
#   3. its script fixed and registered again, the scheduler applies it
#      and the next one; nothing was forced.
#
# The database's migrate.environment is set with ALTER DATABASE (the
# scheduler reads it when it connects).  Needs a cluster with migrate
# preloaded (scripts/test.sh: naptime 1).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_lint_sched
scenario_init lint_schedule "$DB"
require_preload
T=$(( 30 + 5 * NAPTIME ))

sql "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate"
sql "$DB" -c "SELECT migrate.configure('ls_prod', lint_blocking => '{unused-suppression}')" >/dev/null
sql "$DB" -c "ALTER DATABASE $DB SET migrate.environment = 'ls_prod'"

register() {   # register VERSION NAME UP
    sql "$DB" -c "SELECT migrate.register('$1', '$2', \$up\$$3\$up\$, NULL)" >/dev/null
}
state() { val "$DB" -c "SELECT state FROM migrate.migration WHERE version = '$1'"; }
runs_after() {   # wait for two more runs of the schedule
    local mark
    mark="$(val "$DB" -c "SELECT clock_timestamp() + interval '$((2 * NAPTIME)) seconds'")"
    wait_value "$T" t "$DB" "SELECT last_run_at > '$mark' FROM migrate.schedule WHERE name = 'ls'"
}

V1=20250601000001 V2=20250601000002
# statement 2 is preceded by a suppression that names no rule (a
# statement's line is where its leading comments start)
register $V1 ls_one "CREATE TABLE ls_one (id bigint);
-- @lint-ignore: no-such-rule
CREATE TABLE ls_two (id bigint);"
register $V2 ls_three "CREATE TABLE ls_three (id bigint);"
expect "the finding is stored and blocks" \
    "$(val "$DB" -c "SELECT string_agg(rule || ' ' || statement || ':' || line || ' ' || blocks, ', ') FROM migrate.lint_findings")" \
    "unused-suppression 2:2 true"

# --- 1. held back ---------------------------------------------------------------
sql "$DB" -c "SELECT migrate.schedule('ls', every => '1 second', require_approval => false)" >/dev/null
if runs_after; then
    expect "blocking finding: $V1 held back" "$(state $V1)" pending
else
    fail "the schedule did not run (last_run_at stuck)"
fi
expect "last_outcome and waiting_for: a fixed script, or force by hand" \
    "$(val "$DB" -c "SELECT last_outcome || '|' || waiting_for FROM migrate.schedule WHERE name = 'ls'")" \
    "waiting for a fixed script of $V1 (lint rule unused-suppression), or apply() with force => true|a fixed script of $V1 (lint rule unused-suppression), or apply() with force => true"

# --- 2. an approval does not open the gate --------------------------------------
sql "$DB" -c "SELECT migrate.approve('$V1')" >/dev/null
runs_after || fail "the schedule did not run again (last_run_at stuck)"
expect "approved, $V1 is still held back" "$(state $V1)" pending

# --- 3. the script fixed ----------------------------------------------------------
register $V1 ls_one "CREATE TABLE ls_one (id bigint);
CREATE TABLE ls_two (id bigint);"
if wait_value "$T" applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V2'"; then
    pass "fixed $V1 and then $V2 applied by the scheduler"
else
    fail "$V2 not applied within ${T}s of the fix (state '$WAIT_LAST')"
fi
expect "$V1 applied" "$(state $V1)" applied
expect "nothing was forced" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE detail ? 'forced'")" 0
sql "$DB" -c "SELECT migrate.unschedule('ls')" >/dev/null

scenario_finish
