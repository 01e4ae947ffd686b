#!/usr/bin/env bash
# test/scenario/worker_utility.sh: the utility hook makes a database's
# scheduler leave only for a command that PostgreSQL will run (issue 7,
# finding 6).
#
#   1. a CREATEDB-only role's CREATE DATABASE ... TEMPLATE appdb fails
#      (appdb is no template and not its own): appdb's scheduler keeps
#      running, same pid;
#   2. so do other commands that PostgreSQL refuses: CREATE DATABASE by
#      appdb's owner without CREATEDB, DROP DATABASE and RENAME by a role
#      that does not own appdb, RENAME by its owner without CREATEDB,
#      RENAME to a name that is taken, CREATE DATABASE with a name that is
#      taken;
#      and DROP DATABASE and RENAME by appdb's owner while another session
#      is connected to appdb (PostgreSQL refuses them after waiting);
#   3. CREATE DATABASE ... TEMPLATE DEFAULT works with migrate preloaded;
#   4. the superuser's CREATE DATABASE ... TEMPLATE appdb still succeeds
#      (the hook makes the scheduler leave), and the scheduler comes back;
#   5. DROP DATABASE of a database whose scheduled migration is running
#      succeeds: the scheduler and its worker count as nobody else.
#
# appdb gets an enabled schedule first, so that it has a scheduler however
# the launcher decides which databases need one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

DB=mig_utility_app
COPY=mig_utility_copy
DEFAULT_COPY=mig_utility_default
TAKEN=mig_utility_taken
CREATOR=mig_utility_creator
OWNER=mig_utility_owner
scenario_init worker_utility "$DB" "$TAKEN"
require_preload

cleanup_roles() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres \
        -c "DROP DATABASE IF EXISTS $COPY WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS $DEFAULT_COPY WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS mig_utility_busy WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $CREATOR" -c "DROP ROLE IF EXISTS $OWNER" >/dev/null 2>&1 || true
}
scenario_on_exit cleanup_roles
cleanup_roles
PGOPTIONS="-c client_min_messages=warning" sql postgres -q \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
    -c "CREATE ROLE $CREATOR LOGIN CREATEDB" \
    -c "CREATE ROLE $OWNER LOGIN NOCREATEDB" \
    -c "CREATE DATABASE $DB OWNER $OWNER"
sql "$DB" -q -c "CREATE EXTENSION migrate" \
    -c "SELECT migrate.schedule('util_daily', every => '1 day')" >/dev/null

wait_until 30 test -n "$(scheduler_pid "$DB")" ||
    { fail "no scheduler started in $DB within 30 s"; scenario_finish; }
pid="$(scheduler_pid "$DB")"
pass "setup: $DB (owned by $OWNER) has a schedule and its scheduler (pid $pid)"

# refused ROLE LABEL SQL...: the statements, as ROLE, fail; the scheduler stays
refused() {
    local role="$1" label="$2" out now
    shift 2
    if out="$(psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET ROLE $role" "$@" 2>&1)"; then
        fail "$label: the command succeeded, expected PostgreSQL to refuse it"
        return
    fi
    sleep 1
    now="$(scheduler_pid "$DB")"
    if [ "$now" = "$pid" ]; then
        pass "$label: refused (${out//$'\n'/ }), scheduler still pid $pid"
    else
        fail "$label: refused, but the scheduler of $DB is now '${now}' (was $pid)"
    fi
}

# --- 1. the CREATEDB-only role of the finding ---------------------------------
refused "$CREATOR" "CREATEDB-only role, CREATE DATABASE TEMPLATE $DB" \
    -c "CREATE DATABASE $COPY TEMPLATE $DB"

# --- 2. other commands PostgreSQL refuses -------------------------------------
refused "$OWNER" "owner without CREATEDB, CREATE DATABASE TEMPLATE $DB" \
    -c "CREATE DATABASE $COPY TEMPLATE $DB"
refused "$CREATOR" "non-owner, DROP DATABASE $DB" -c "DROP DATABASE $DB"
refused "$CREATOR" "non-owner, ALTER DATABASE $DB RENAME" -c "ALTER DATABASE $DB RENAME TO $COPY"
refused "$OWNER" "owner without CREATEDB, ALTER DATABASE $DB RENAME" \
    -c "ALTER DATABASE $DB RENAME TO $COPY"
refused "$CREATOR" "non-owner, ALTER DATABASE $DB SET TABLESPACE" \
    -c "ALTER DATABASE $DB SET TABLESPACE pg_default"
sql postgres -q -c "ALTER ROLE $OWNER CREATEDB"
refused "$OWNER" "owner, ALTER DATABASE $DB RENAME to a name that is taken" \
    -c "ALTER DATABASE $DB RENAME TO $TAKEN"
refused "$OWNER" "owner, CREATE DATABASE TEMPLATE $DB with a name that is taken" \
    -c "CREATE DATABASE $TAKEN TEMPLATE $DB"
refused "$OWNER" "owner without CREATE on the tablespace, ALTER DATABASE $DB SET TABLESPACE" \
    -c "ALTER DATABASE $DB SET TABLESPACE pg_default"

# --- 2b. the owner's commands while someone else is connected to the database:
# PostgreSQL refuses them after waiting ("being accessed by other users"),
# so the hook must leave the scheduler alone (issue 7: the owner may hold no
# migrate role, and would otherwise stop the scheduler, and a scheduled
# non-transactional migration with it)
PGAPPNAME=mig_utility_other psql -X -q -d "$DB" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
other=$!
wait_value 10 1 postgres "SELECT count(*) FROM pg_stat_activity
        WHERE application_name = 'mig_utility_other' AND datname = '$DB'" ||
    fail "the other session did not connect to $DB"
refused "$OWNER" "owner, DROP DATABASE $DB while another session is connected" \
    -c "DROP DATABASE $DB"
refused "$OWNER" "owner, ALTER DATABASE $DB RENAME while another session is connected" \
    -c "ALTER DATABASE $DB RENAME TO $COPY"
psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'mig_utility_other'" >/dev/null
wait "$other" 2>/dev/null || true
sql postgres -q -c "ALTER ROLE $OWNER NOCREATEDB"

# --- 3. TEMPLATE DEFAULT --------------------------------------------------------
if out="$(sql postgres -c "CREATE DATABASE $DEFAULT_COPY TEMPLATE DEFAULT" 2>&1)"; then
    pass "CREATE DATABASE ... TEMPLATE DEFAULT works with migrate preloaded"
else
    fail "CREATE DATABASE ... TEMPLATE DEFAULT: ${out//$'\n'/ }"
fi
expect "the scheduler of $DB was left alone by CREATE DATABASE ... TEMPLATE DEFAULT" \
    "$(scheduler_pid "$DB")" "$pid"

# --- 4. a command that runs still gets the scheduler out of its way -----------
if out="$(sql postgres -c "CREATE DATABASE $COPY TEMPLATE $DB" 2>&1)"; then
    pass "the superuser's CREATE DATABASE $COPY TEMPLATE $DB succeeds (its scheduler left)"
else
    fail "the superuser's CREATE DATABASE TEMPLATE $DB: ${out//$'\n'/ }"
fi
if wait_until 40 sh -c "p=\$(psql -X -A -t -d postgres -c \"SELECT pid FROM pg_stat_activity
        WHERE backend_type = 'migrate scheduler' AND datname = '$DB'\"); [ -n \"\$p\" ] && [ \"\$p\" != $pid ]"; then
    pass "the scheduler of $DB came back (pid $(scheduler_pid "$DB"))"
else
    fail "the scheduler of $DB did not come back within 40 s"
fi

# --- 5. ... also while a scheduled migration's worker runs: the scheduler and
# the worker it waits for do not count as other users -------------------------
BUSY=mig_utility_busy
PGOPTIONS="-c client_min_messages=warning" sql postgres -q -c "DROP DATABASE IF EXISTS $BUSY WITH (FORCE)" \
    -c "CREATE DATABASE $BUSY"
sql "$BUSY" -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate" \
    -c "SELECT migrate.register('1', 'sleepy', 'SELECT pg_sleep(60);')" \
    -c "SELECT migrate.schedule('now', every => '1 second', require_approval => false)" >/dev/null
if wait_value 40 1 postgres "SELECT count(*) FROM pg_stat_activity
        WHERE backend_type = 'migrate scheduled migration' AND datname = '$BUSY'"; then
    t0=$(now_ms)
    if out="$(sql postgres -c "DROP DATABASE $BUSY" 2>&1)"; then
        pass "DROP DATABASE $BUSY while its scheduled migration runs succeeds ($(( $(now_ms) - t0 )) ms)"
    else
        fail "DROP DATABASE $BUSY while its scheduled migration runs: ${out//$'\n'/ }"
    fi
else
    fail "no scheduled migration started in $BUSY within 40 s"
fi
PGOPTIONS="-c client_min_messages=warning" sql postgres -q -c "DROP DATABASE IF EXISTS $BUSY WITH (FORCE)"

scenario_finish
