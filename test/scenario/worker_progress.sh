#!/usr/bin/env bash
# test/scenario/worker_progress.sh: migrate.progress shows what is running.
#
#   1. apply() in a background psql of a 4-statement migration whose
#      statement 3 is SELECT pg_sleep(3): a second session sees one row for
#      that backend with action 'apply', the version and name, migration 1 of
#      1, statement 3 of 4 with its text, wait event PgSleep; an application
#      role that is only granted migrate_reader reads the same row; a role
#      without it cannot read the view; the row is gone once apply() returns
#   2. the same for a non-transactional migration: the row belongs to the
#      "migrate apply worker"
#   3. the same for a scheduled run: the row belongs to the worker the
#      scheduler started for that migration (migrate scheduled migration) and
#      names the schedule
#   4. an own cluster WITHOUT shared_preload_libraries: migrate.progress
#      returns no rows with a NOTICE, and health().scheduler says off
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_progress
APP=migrate_progress_app
NOBODY=migrate_progress_nobody
scenario_init worker_progress "$DB"
require_preload
_drop_roles() {
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $APP" -c "DROP ROLE IF EXISTS $NOBODY" >/dev/null 2>&1 || true
}
scenario_on_exit _drop_roles

V1=20250601000001 V2=20250601000002 V3=20250601000003
sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $APP;
DROP ROLE IF EXISTS $NOBODY;
CREATE ROLE $APP LOGIN;
CREATE ROLE $NOBODY LOGIN;
GRANT migrate_reader TO $APP;
SELECT migrate.register('$V1', 'slow_transactional', \$up\$
CREATE TABLE prog_one (id int);
INSERT INTO prog_one SELECT generate_series(1, 1000);
SELECT pg_sleep(3);
CREATE INDEX prog_one_id_idx ON prog_one (id);
\$up\$, 'DROP TABLE prog_one;');
SELECT migrate.register('$V2', 'slow_nontransactional', \$up\$-- @transaction: false
CREATE TABLE prog_two (id int);
INSERT INTO prog_two SELECT generate_series(1, 1000);
SELECT pg_sleep(3);
CREATE INDEX CONCURRENTLY prog_two_id_idx ON prog_two (id);
\$up\$, NULL);
SELECT migrate.register('$V3', 'slow_scheduled', \$up\$
CREATE TABLE prog_three (id int);
INSERT INTO prog_three SELECT generate_series(1, 1000);
SELECT pg_sleep(3);
CREATE INDEX prog_three_id_idx ON prog_three (id);
\$up\$, NULL);
SQL

PROGRESS="SELECT p.action, p.version, p.name, p.migration || '/' || p.migrations,
                 p.statement || '/' || p.statements, p.statement_text, p.database, p.role,
                 coalesce(p.schedule, '-'), p.wait_event, a.backend_type
          FROM migrate.progress p LEFT JOIN pg_stat_activity a ON a.pid = p.pid
          WHERE p.database = '$DB'"
_at_statement_3() {
    WAIT_LAST="$(val "$DB" -c "SELECT p.pid FROM migrate.progress p WHERE p.database = '$DB' AND p.statement = 3")"
    [ -n "$WAIT_LAST" ]
}

# watch VERSION NAME BACKEND_TYPE SCHEDULE: check the progress row while
# statement 3 runs
watch() {
    local version="$1" name="$2" backend="$3" schedule="$4" pid row
    if ! wait_until 30 _at_statement_3; then
        fail "$version: no progress row at statement 3 within 30 s"
        return
    fi
    pid="$WAIT_LAST"
    row="$(val "$DB" -c "$PROGRESS")"
    expect "$version: progress row while statement 3 runs" "$row" \
        "apply|$version|$name|1/1|3/4|SELECT pg_sleep(3)|$DB|postgres|$schedule|PgSleep|$backend"
    expect "$version: progress pid is a $backend" \
        "$(val postgres -c "SELECT backend_type FROM pg_stat_activity WHERE pid = $pid")" "$backend"
    row="$(psql -X -q -A -t -v ON_ERROR_STOP=1 -U "$APP" -d "$DB" \
           -c "SELECT action, version, statement, statements FROM migrate.progress WHERE pid = $pid" 2>&1)"
    expect "$version: role $APP (granted migrate_reader) reads the row" "$row" "apply|$version|3|4"
    started="$(val "$DB" -c "SELECT statement_started >= migration_started AND migration_started <= now() FROM migrate.progress WHERE pid = $pid")"
    expect "$version: migration_started <= statement_started" "$started" t
}

# --- 1. apply() in a client backend ----------------------------------------------
psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -c "SET client_min_messages = warning" \
     -c "SELECT version || ':' || state FROM migrate.apply(target => '$V1')" >"$SCENARIO_WORK/one.out" 2>&1 &
bg=$!
scenario_child "$bg"
watch "$V1" slow_transactional "client backend" -
if out="$(psql -X -q -A -t -U "$NOBODY" -d "$DB" -c "SELECT count(*) FROM migrate.progress" 2>&1)"; then
    fail "$V1: role $NOBODY without migrate_reader read migrate.progress ($out)"
else
    pass "$V1: role $NOBODY without migrate_reader cannot read migrate.progress"
fi
wait "$bg" || true
expect "$V1: apply() result" "$(cat "$SCENARIO_WORK/one.out")" "$V1:applied"
expect "$V1: no progress row once apply() has returned" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.progress WHERE database = '$DB'")" 0

# --- 2. apply() handing over to the apply worker -----------------------------------
psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -c "SET client_min_messages = warning" \
     -c "SELECT version || ':' || state FROM migrate.apply(target => '$V2')" >"$SCENARIO_WORK/two.out" 2>&1 &
bg=$!
scenario_child "$bg"
watch "$V2" slow_nontransactional "migrate apply worker" -
wait "$bg" || true
expect "$V2: apply() result" "$(cat "$SCENARIO_WORK/two.out")" "$V2:applied"
expect "$V2: no progress row once apply() has returned" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.progress WHERE database = '$DB'")" 0

# --- 3. a scheduled run ------------------------------------------------------------
sql "$DB" -c "SELECT migrate.schedule('progress_now', every => '1 hour', require_approval => false)" >/dev/null
watch "$V3" slow_scheduled "migrate scheduled migration" progress_now
if wait_value 30 applied "$DB" "SELECT state FROM migrate.migration WHERE version = '$V3'"; then
    pass "$V3: applied by the scheduler"
else
    fail "$V3: not applied by the scheduler (state '$WAIT_LAST')"
fi
if wait_value 10 0 "$DB" "SELECT count(*) FROM migrate.progress WHERE database = '$DB'"; then
    pass "$V3: no progress row once the run has ended"
else
    fail "$V3: a progress row stayed after the run ($WAIT_LAST)"
fi

# --- 4. without shared_preload_libraries -------------------------------------------
scenario_own_cluster 2
own() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$OWN_HOST" -p "$OWN_PORT" "$@"; }
own -d postgres -c "CREATE DATABASE plain" >/dev/null
own -d plain -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate" >/dev/null
expect "no preload: shared_preload_libraries is empty" "$(own -d plain -c 'SHOW shared_preload_libraries')" ""
out="$(own -d plain -c "SELECT count(*) FROM migrate.progress" 2>"$SCENARIO_WORK/notice")"
expect "no preload: migrate.progress returns 0 rows" "$out" 0
if grep -q "NOTICE:  migrate is not in shared_preload_libraries, so no progress is recorded" "$SCENARIO_WORK/notice"; then
    pass "no preload: migrate.progress raises the NOTICE"
else
    fail "no preload: no NOTICE from migrate.progress (got: $(cat "$SCENARIO_WORK/notice"))"
fi
expect "no preload: health().scheduler" \
    "$(own -d plain -c "SELECT scheduler || '/' || coalesce(scheduler_pid::text, '-') FROM migrate.health()")" \
    "off (migrate is not in shared_preload_libraries)/-"
n="$(own -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'migrate %'")"
expect "no preload: no migrate workers" "$n" 0
# and apply() still works, transactional migrations in the session itself
own -d plain -c "SELECT migrate.register('1', 'plain_table', 'CREATE TABLE plain_t (id int);', NULL)" >/dev/null
expect "no preload: apply() of a transactional migration" \
    "$(own -d plain -c "SET client_min_messages = warning" -c "SELECT version || ':' || state FROM migrate.apply()")" "1:applied"

scenario_finish
