#!/usr/bin/env bash
# test/scenario/worker_privileges.sh: the scheduler gives nobody more
# privileges than they have.
#
# The scheduler is a superuser process.  Without migrate.worker_role, each
# scheduled migration runs as the role that registered it: a member of
# migrate_admin who registers, approves and schedules
#   1. a migration creating a table: it is applied, and the table is owned
#      by that member, and history names the member;
#   2. a migration trying ALTER ROLE ... SUPERUSER on itself: it fails with
#      the member's own privileges, the member does not become superuser,
#      and the failed migration is then held back (not retried every run)
#      until it is registered again;
#   3. a migration that first tries RESET ROLE (to get back to the
#      scheduler's superuser identity): refused, and still no superuser.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_privileges
ADMIN=migrate_privileges_admin
scenario_init worker_privileges "$DB"
require_preload
_drop_role() { psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ADMIN" >/dev/null 2>&1 || true; }
scenario_on_exit _drop_role

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $ADMIN;
CREATE ROLE $ADMIN LOGIN;
GRANT migrate_admin TO $ADMIN;
GRANT CREATE ON SCHEMA public TO $ADMIN;
SET ROLE $ADMIN;
SELECT migrate.register('1', 'own_table', 'CREATE TABLE priv_t (id int);');
SELECT migrate.register('2', 'escalate', 'ALTER ROLE $ADMIN SUPERUSER;');
SELECT migrate.approve('1');
SELECT migrate.approve('2');
SELECT migrate.schedule('often', every => '1 second');
SQL

wait_value 30 "failed" "$DB" "SELECT state FROM migrate.status WHERE version = '2'" ||
    fail "the escalating migration did not fail (state: $WAIT_LAST)"
expect "1 is applied by the scheduler as $ADMIN" \
    "$(val "$DB" -c "SELECT state || ' ' || applied_by FROM migrate.status WHERE version = '1'")" \
    "applied $ADMIN"
expect "the table 1 created belongs to $ADMIN" \
    "$(val "$DB" -c "SELECT tableowner FROM pg_tables WHERE tablename = 'priv_t'")" "$ADMIN"
expect "2 failed with $ADMIN's own privileges (42501)" \
    "$(val "$DB" -c "SELECT last_error->>'sqlstate' FROM migrate.status WHERE version = '2'")" "42501"
expect "$ADMIN is not a superuser" \
    "$(val postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$ADMIN'")" "f"
expect "history names $ADMIN for both attempts" \
    "$(val "$DB" -c "SELECT string_agg(DISTINCT role, ',') FROM migrate.history WHERE action = 'apply'")" "$ADMIN"

# a failed migration waits for a fix instead of failing on every firing
failures="$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE version = '2' AND outcome = 'failure'")"
sleep 3
expect "2 is not retried while it is failed" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.history WHERE version = '2' AND outcome = 'failure'")" \
    "$failures"
sql "$DB" -c "SET ROLE $ADMIN" \
    -c "SELECT migrate.register('2', 'escalate', 'SELECT 2;')" \
    -c "SELECT migrate.approve('2')" >/dev/null
wait_value 30 "applied" "$DB" "SELECT state FROM migrate.status WHERE version = '2'" ||
    fail "2 was not applied after it was registered again (state: $WAIT_LAST)"
pass "a failed migration registered again is pending, and the schedule applies it"

sql "$DB" -c "SET ROLE $ADMIN" \
    -c "SELECT migrate.register('3', 'reset_role', 'RESET ROLE; ALTER ROLE $ADMIN SUPERUSER;')" \
    -c "SELECT migrate.approve('3')" >/dev/null
wait_value 30 "failed" "$DB" "SELECT state FROM migrate.status WHERE version = '3'" ||
    fail "the RESET ROLE migration did not fail (state: $WAIT_LAST)"
expect "RESET ROLE inside a scheduled migration is refused" \
    "$(val "$DB" -c "SELECT last_error->>'statement' || ': ' || (last_error->>'message') FROM migrate.status WHERE version = '3'")" \
    "1: cannot set parameter \"role\" within security-definer function"
expect "$ADMIN is still not a superuser" \
    "$(val postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$ADMIN'")" "f"

scenario_finish
