#!/usr/bin/env bash
# test/scenario/progress_visibility.sh: who sees the statement text of a
# running migration in migrate.progress (issue 7, finding 8).
#
# A non-transactional migration in database A, which the superuser's
# apply() hands to the apply worker, sleeps in its third statement.  While
# it runs:
#   1. a migrate_reader member connected to A sees the row (version,
#      statement 3 of 3) but NULL statement text, through the view and
#      through progress_slots();
#   2. a migrate_admin member connected to A sees the text;
#   3. the superuser connected to database B sees A's row, without its
#      text: another database's scripts are not shown to anybody;
#   4. neither the reader nor the admin may terminate or cancel the apply
#      worker, which runs as the superuser who called apply() (42501).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

DBA=mig_progress_vis_a
DBB=mig_progress_vis_b
READER=mig_progress_vis_reader
ADMIN=mig_progress_vis_admin
scenario_init progress_visibility "$DBA" "$DBB"
require_preload
drop_roles() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres \
        -c "DROP DATABASE IF EXISTS $DBA WITH (FORCE)" -c "DROP DATABASE IF EXISTS $DBB WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $READER" -c "DROP ROLE IF EXISTS $ADMIN" >/dev/null 2>&1 || true
}
scenario_on_exit drop_roles
PGOPTIONS="-c client_min_messages=warning" sql postgres -q \
    -c "DROP ROLE IF EXISTS $READER" -c "DROP ROLE IF EXISTS $ADMIN" \
    -c "CREATE ROLE $READER LOGIN" -c "CREATE ROLE $ADMIN LOGIN"
for db in "$DBA" "$DBB"; do
    sql "$db" -q -c "CREATE EXTENSION migrate"
done
sql "$DBA" -q -c "GRANT migrate_reader TO $READER" -c "GRANT migrate_admin TO $ADMIN" \
    -c "SELECT migrate.register('001', 'sleepy', 'CREATE TABLE vis_t (x int);
        CREATE INDEX CONCURRENTLY vis_t_x ON vis_t (x); SELECT pg_sleep(6);')" >/dev/null

PGOPTIONS="-c client_min_messages=warning" psql -X -q -d "$DBA" -c "SELECT * FROM migrate.apply()" \
    >/dev/null 2>&1 &
scenario_child $!

row="SELECT version || ' ' || statement || '/' || statements || ' ' || coalesce(statement_text, '<null>')
     FROM migrate.progress WHERE version = '001'"
if ! wait_value 10 "001 3/3 SELECT pg_sleep(6)" "$DBA" "$row"; then
    fail "the superuser in $DBA did not see statement 2 of 001 running (last: '$WAIT_LAST')"
    scenario_finish
fi
pass "the superuser connected to $DBA sees statement 3 of 001 with its text"
expect "a migrate_reader member in $DBA sees the row without the text" \
    "$(val "$DBA" -c "SET ROLE $READER" -c "$row")" "001 3/3 <null>"
expect "a migrate_reader member in $DBA gets no text from progress_slots() either" \
    "$(val "$DBA" -c "SET ROLE $READER" \
        -c "SELECT count(*) FILTER (WHERE statement_text IS NOT NULL) FROM migrate.progress_slots()")" 0
expect "a migrate_admin member in $DBA sees the text" \
    "$(val "$DBA" -c "SET ROLE $ADMIN" -c "$row")" "001 3/3 SELECT pg_sleep(6)"
expect "the superuser connected to $DBB sees $DBA's row without its text" \
    "$(val "$DBB" -c "SELECT database || ' ' || version || ' ' || coalesce(statement_text, '<null>')
                      FROM migrate.progress WHERE version = '001'")" "$DBA 001 <null>"

# --- 4. the apply worker cannot be stopped by them ----------------------------
worker="$(val "$DBA" -c "SELECT pid FROM migrate.progress WHERE version = '001'")"
expect "001 runs in the apply worker, not in the calling session" \
    "$(val "$DBA" -c "SELECT backend_type FROM pg_stat_activity WHERE pid = $worker")" "migrate apply worker"
for role in "$READER" "$ADMIN"; do
    for f in pg_cancel_backend pg_terminate_backend; do
        if out="$(psql -X -q -v ON_ERROR_STOP=1 -d "$DBA" -c "SET ROLE $role" -c "SELECT $f($worker)" 2>&1)"; then
            fail "$role: $f(apply worker) was allowed: $out"
        elif grep -q 'must be a superuser' <<<"$out"; then
            pass "$role: $f(apply worker) refused (${out//$'\n'/ })"
        else
            fail "$role: $f(apply worker) failed otherwise: $out"
        fi
    done
done
wait
expect "001 was applied all the same" "$(val "$DBA" -c "SELECT state FROM migrate.status")" "applied"
scenario_finish
