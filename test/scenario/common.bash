# shellcheck shell=bash
# test/scenario/common.bash: helpers shared by the background-worker scenarios
# (worker_*.sh).  Not a scenario itself (scripts/test.sh runs *.sh only).
#
#     source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
#     scenario_init NAME [DB...]       PATH, cluster (see below), cleanup of DBs
#     pass / fail / expect / note      PASS:/FAIL:/NOTE: lines, failures counted
#     sql DB ... / val DB ...          psql (val: unaligned, tuples only)
#     wait_until SECS CMD...           poll CMD every 0.1 s until it succeeds
#     wait_value SECS WANT DB QUERY    poll QUERY until it returns WANT
#     scheduler_pid DB                 pid of DB's "migrate scheduler", or ''
#     scenario_own_cluster N [LINE...] start an extra cluster (scripts/lib.sh)
#     scenario_child PID               kill background process PID on exit
#     scenario_on_exit CMD             eval CMD on exit
#     scenario_finish                  print the verdict, exit 1 on failure
#
# Cluster: the scenarios expect PGHOST/PGPORT/PGUSER of a running cluster
# started the way scripts/test.sh starts it (migrate installed and in
# shared_preload_libraries, migrate.naptime = 1).  Without PGHOST they start
# such a cluster themselves via scripts/lib.sh (migrate must be installed
# already).  Scenarios that need a different server configuration start an
# extra cluster with scenario_own_cluster, on port PGPORT + N and with its
# own socket directory, and leave PGHOST/PGPORT pointing at the main one.

SCENARIO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCENARIO_NAME=""
SCENARIO_DBS=()
SCENARIO_FAILED=0
SCENARIO_WORK=""
SCENARIO_CHILDREN=()

pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; SCENARIO_FAILED=1; }
note() { printf 'NOTE: %s\n' "$*"; }
expect() {   # expect LABEL ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}
sql() { local db="$1"; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
val() { local db="$1"; shift; psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" "$@"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_until SECS CMD...: run CMD every 0.1 s until it succeeds (status 0) or
# SECS seconds have passed (status 1).
wait_until() {
    local secs="$1" deadline
    shift
    deadline=$(( $(now_ms) + secs * 1000 ))
    while :; do
        if "$@"; then return 0; fi
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# wait_value SECS WANT DB QUERY: poll QUERY until it returns exactly WANT.
# Leaves the last value in $WAIT_LAST.
WAIT_LAST=""
_value_is() { WAIT_LAST="$(val "$2" -c "$3" 2>/dev/null)"; [ "$WAIT_LAST" = "$1" ]; }
wait_value() {
    local secs="$1"
    shift
    wait_until "$secs" _value_is "$@"
}

# pid of the scheduler connected to DB, or '' (pg_stat_activity of the main cluster)
scheduler_pid() {
    val postgres -c "SELECT pid FROM pg_stat_activity
                     WHERE backend_type = 'migrate scheduler' AND datname = '$1'
                     ORDER BY backend_start DESC LIMIT 1"
}

# scenario_on_exit CMD: run CMD (eval) on exit, before the databases are dropped
SCENARIO_ON_EXIT=()
scenario_on_exit() { SCENARIO_ON_EXIT+=("$1"); }

SCENARIO_DONE=0
SCENARIO_ERR_SHOWN=0
_scenario_err() {   # ERR trap: where set -e is about to stop us (once)
    local i where=""
    [ "$SCENARIO_ERR_SHOWN" = 0 ] || return 0
    SCENARIO_ERR_SHOWN=1
    for (( i = 1; i < ${#BASH_SOURCE[@]}; i++ )); do
        where+=" ${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]}"
    done
    printf 'FAIL: unexpected error (status %s) in: %s (at%s)\n' "$1" "$2" "$where"
}
_scenario_cleanup() {
    local rc=$? db pid dir cmd
    trap - ERR
    if [ "$SCENARIO_DONE" = 0 ] && [ -n "$SCENARIO_NAME" ]; then
        echo "FAIL: $SCENARIO_NAME (aborted, exit status $rc)"
    fi
    for cmd in "${SCENARIO_ON_EXIT[@]}"; do
        eval "$cmd" || true
    done
    for pid in "${SCENARIO_CHILDREN[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for db in "${SCENARIO_DBS[@]}"; do
        PGOPTIONS="-c client_min_messages=warning" \
            psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    for dir in "${SCENARIO_OWN_DIRS[@]}"; do
        if [ -f "$dir/data/postmaster.pid" ]; then
            _migrate_as_pg "$MIGRATE_PG_BINDIR/pg_ctl" -D "$dir/data" \
                -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf -- "$dir"
    done
    [ -z "$SCENARIO_WORK" ] || rm -rf -- "$SCENARIO_WORK"
    return "$rc"
}

# remember a background process, killed on exit if still running
scenario_child() { SCENARIO_CHILDREN+=("$1"); }

# scenario_init NAME [DB...]: set up PATH, the cluster, a work directory and
# the databases DB... (dropped and created afresh, dropped again on exit).
scenario_init() {
    SCENARIO_NAME="$1"
    shift
    SCENARIO_DBS=("$@")
    SCENARIO_WORK="$(mktemp -d)"
    chmod 0755 "$SCENARIO_WORK"
    # before lib.sh's cluster trap, which composes with it
    trap _scenario_cleanup EXIT
    # set -e stops at an unexpected error: say where (-E: inside functions too)
    set -E
    trap '_scenario_err "$?" "$BASH_COMMAND"' ERR
    # shellcheck source=scripts/lib.sh
    source "$SCENARIO_ROOT/scripts/lib.sh"
    if [ -z "${PGHOST:-}" ]; then
        migrate_start_cluster "shared_preload_libraries = 'migrate'" "migrate.naptime = 1"
    fi
    export PGUSER="${PGUSER:-postgres}"
    local db
    for db in "${SCENARIO_DBS[@]}"; do
        PGOPTIONS="-c client_min_messages=warning" \
            sql postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    done
}

# The main cluster must preload migrate; report its naptime in NAPTIME (s).
NAPTIME=1
require_preload() {
    local libs
    libs="$(val postgres -c 'SHOW shared_preload_libraries')"
    case ",${libs// /}," in
        *,migrate,*) ;;
        *) fail "migrate is not in shared_preload_libraries of the cluster at PGHOST=$PGHOST (start it like scripts/test.sh does)"
           scenario_finish ;;
    esac
    NAPTIME="$(val postgres -c "SELECT setting FROM pg_settings WHERE name = 'migrate.naptime'")"
    [ "$NAPTIME" = 1 ] ||
        note "migrate.naptime is ${NAPTIME}s (scripts/test.sh uses 1s); waits scale with it"
}

# scenario_own_cluster N [LINE...]: start an extra throwaway cluster on port
# PGPORT + N (or MIGRATE_TEST_PORT + N) with the given postgresql.conf lines,
# stopped and removed on exit.  Sets OWN_HOST, OWN_PORT, OWN_DIR (data
# directory is $OWN_DIR/data, server log $OWN_DIR/log); PGHOST/PGPORT keep
# pointing at the main cluster.
# shellcheck disable=SC2034  # used by the scenarios
OWN_HOST="" OWN_PORT="" OWN_DIR=""
SCENARIO_OWN_DIRS=()
scenario_own_cluster() {
    local offset="$1" main_host="${PGHOST:-}" main_port="${PGPORT:-}"
    local main_dir="$MIGRATE_CLUSTER_DIR"
    shift
    # lib.sh tracks one cluster per shell: let it start this one, then take
    # it over (stopped by _scenario_cleanup) and give back the main one
    MIGRATE_CLUSTER_DIR=""
    if ! MIGRATE_TEST_PORT=$(( ${main_port:-${MIGRATE_TEST_PORT:-54329}} + offset )) \
            migrate_start_cluster "$@" >&2; then
        MIGRATE_CLUSTER_DIR="$main_dir"
        return 1
    fi
    # shellcheck disable=SC2034  # used by the scenarios
    OWN_HOST="$PGHOST" OWN_PORT="$PGPORT" OWN_DIR="$MIGRATE_CLUSTER_DIR"
    SCENARIO_OWN_DIRS+=("$OWN_DIR")
    MIGRATE_CLUSTER_DIR="$main_dir"
    if [ -n "$main_host" ]; then
        export PGHOST="$main_host" PGPORT="$main_port"
    fi
}

# run the OS command as the server's OS user (pg_ctl refuses root)
as_pg() { _migrate_as_pg "$@"; }

scenario_finish() {
    SCENARIO_DONE=1
    trap - ERR
    if [ "$SCENARIO_FAILED" = 0 ]; then
        echo "PASS: $SCENARIO_NAME"
        exit 0
    fi
    echo "FAIL: $SCENARIO_NAME"
    exit 1
}
