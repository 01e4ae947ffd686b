# shellcheck shell=bash
# scripts/lib.sh: shared helpers for the migrate scripts.  Source it:
#
#     source "$(dirname "$0")/lib.sh"
#
# Functions:
#   migrate_install_deps            install the Debian packages we need (root)
#   migrate_build_install           make clean, build with -Werror, make install
#   migrate_start_cluster [LINE...] throwaway PostgreSQL 15 cluster, stopped and
#                                   removed on exit; extra postgresql.conf lines
#   migrate_register_dir DIR [DB]   register every migration file in DIR
#
# Environment (all optional):
#   MIGRATE_PG_CONFIG   pg_config to build against and whose bindir we use
#                       (default /usr/lib/postgresql/15/bin/pg_config); read
#                       when sourced and again by migrate_build_install and
#                       migrate_start_cluster, which set MIGRATE_PG_BINDIR
#                       from it (so it may also be given to them)
#   MIGRATE_TEST_PORT   port of the throwaway cluster (default 54329)
#   MIGRATE_KEEP_CLUSTER=1  do not stop/remove the throwaway cluster on exit

MIGRATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MIGRATE_DEB_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
                      libtap-parser-sourcehandler-pgtap-perl libipc-run-perl
                      libpq-dev make gcc libc6-dev)
export MIGRATE_ROOT

# _migrate_pg_env: derive MIGRATE_PG_BINDIR from MIGRATE_PG_CONFIG as it is
# NOW, and put that bindir first in PATH (version-matched psql, pg_dump, ...).
# Run when this file is sourced and again by every function that uses the
# installation, so that "MIGRATE_PG_CONFIG=... migrate_start_cluster" after
# sourcing uses the installation it names, not the one seen at source time.
# declare -g: a "VAR=value function" prefix assignment would otherwise be
# undone when the function returns, leaving MIGRATE_PG_CONFIG and
# MIGRATE_PG_BINDIR naming different installations.
_migrate_pg_env() {
    declare -gx MIGRATE_PG_CONFIG="${MIGRATE_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
    declare -gx MIGRATE_PG_BINDIR
    MIGRATE_PG_BINDIR="$(dirname "$MIGRATE_PG_CONFIG")"
    case ":$PATH:" in
        *":$MIGRATE_PG_BINDIR:"*) ;;
        *) export PATH="$MIGRATE_PG_BINDIR:$PATH" ;;
    esac
}
_migrate_pg_env

migrate_log() { printf '%s\n' "== $*" >&2; }
migrate_die() { printf '%s\n' "error: $*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
_migrate_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        migrate_die "need root (or sudo) to run: $*"
    fi
}

# Run a server-side command as the postgres OS user (the server refuses root).
_migrate_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# ---------------------------------------------------------------------------
# migrate_install_deps: install whatever is missing of the packages we need.
# ---------------------------------------------------------------------------
# Build and package output goes to a log file, not the terminal, so that the
# demo and the test summary stay readable; on failure the end of the log is
# shown.  MIGRATE_BUILD_LOG names the file (default build.log in the tree).
MIGRATE_BUILD_LOG="${MIGRATE_BUILD_LOG:-$MIGRATE_ROOT/build.log}"

# _migrate_logged CMD...: run CMD with its output appended to the build log;
# when it fails, print the last lines of the log and where it is
_migrate_logged() {
    printf '\n$ %s\n' "$*" >>"$MIGRATE_BUILD_LOG"
    "$@" >>"$MIGRATE_BUILD_LOG" 2>&1 && return 0
    local status=$?
    printf '%s\n' "== failed: $* (last lines of $MIGRATE_BUILD_LOG follow)" >&2
    tail -n 40 "$MIGRATE_BUILD_LOG" >&2
    return "$status"
}

migrate_install_deps() {
    local missing=() p status
    for p in "${MIGRATE_DEB_PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
        case "$status" in
            ii*) ;;
            *) missing+=("$p") ;;
        esac
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        migrate_log "dependencies present"
        return 0
    fi
    migrate_log "installing: ${missing[*]} (output in $MIGRATE_BUILD_LOG)"
    _migrate_logged _migrate_as_root apt-get update &&
        _migrate_logged _migrate_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------
# migrate_build_install: clean build with warnings as errors, then install.
# ---------------------------------------------------------------------------
migrate_build_install() {
    local jobs
    _migrate_pg_env
    jobs="$(nproc 2>/dev/null || echo 2)"
    migrate_log "building and installing migrate (COPT=-Werror; output in $MIGRATE_BUILD_LOG)"
    (
        cd "$MIGRATE_ROOT" || exit 1
        _migrate_logged make clean PG_CONFIG="$MIGRATE_PG_CONFIG" &&
            _migrate_logged make -j"$jobs" PG_CONFIG="$MIGRATE_PG_CONFIG" COPT='-Werror' &&
            _migrate_logged _migrate_as_root make install PG_CONFIG="$MIGRATE_PG_CONFIG"
    )
}

# ---------------------------------------------------------------------------
# migrate_start_cluster [extra postgresql.conf lines...]
#
# initdb + start a private cluster in a fresh temp directory, listening only on
# a Unix socket in that directory, and export PGHOST/PGPORT/PGUSER/PGDATABASE.
# The cluster is stopped and the directory removed when the shell exits.
# ---------------------------------------------------------------------------
MIGRATE_CLUSTER_DIR=""
MIGRATE_CLUSTER_BINDIR=""   # the bindir the cluster was started with

_migrate_stop_cluster() {
    local dir="$MIGRATE_CLUSTER_DIR"
    local bindir="${MIGRATE_CLUSTER_BINDIR:-$MIGRATE_PG_BINDIR}"
    [ -n "$dir" ] || return 0
    MIGRATE_CLUSTER_DIR=""
    if [ "${MIGRATE_KEEP_CLUSTER:-0}" = 1 ]; then
        migrate_log "keeping cluster in $dir (MIGRATE_KEEP_CLUSTER=1)"
        return 0
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then
        _migrate_as_pg "$bindir/pg_ctl" -D "$dir/data" \
            -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$dir"
}

# Cleanup on EXIT, composed with a trap that was installed before ours.
# Scripts that want their own EXIT trap must set it BEFORE migrate_start_cluster
# (a later "trap ... EXIT" would replace ours and leak the cluster).
_migrate_prev_exit_trap=""
_migrate_on_exit() {
    local rc=$?
    # the earlier trap first: it may still want to use the cluster
    if [ -n "$_migrate_prev_exit_trap" ]; then
        eval "$_migrate_prev_exit_trap"
    fi
    _migrate_stop_cluster
    return "$rc"
}

# shellcheck disable=SC2120  # set -- below re-splits the trap text, not our args
_migrate_install_trap() {
    local current
    current="$(trap -p EXIT)"
    case "$current" in
        *_migrate_on_exit*) return 0 ;;   # already ours
        "") ;;
        *)  # trap -p prints: trap -- 'COMMAND' EXIT ; let the shell unquote it
            eval "set -- $current"
            _migrate_prev_exit_trap="$3" ;;
    esac
    trap _migrate_on_exit EXIT
    # make INT/TERM/HUP run the EXIT trap too, unless somebody handles them
    local sig
    for sig in INT TERM HUP; do
        if [ -z "$(trap -p "$sig")" ]; then
            # shellcheck disable=SC2064
            trap "exit $((128 + $(kill -l "$sig")))" "$sig"
        fi
    done
}

# shellcheck disable=SC2120  # extra postgresql.conf lines are optional
migrate_start_cluster() {
    local port="${MIGRATE_TEST_PORT:-54329}" dir line
    [ -z "$MIGRATE_CLUSTER_DIR" ] || migrate_die "cluster already running in $MIGRATE_CLUSTER_DIR"
    _migrate_pg_env
    [ -x "$MIGRATE_PG_BINDIR/initdb" ] || migrate_die "no initdb in $MIGRATE_PG_BINDIR (run migrate_install_deps)"

    dir="$(mktemp -d "${TMPDIR:-/tmp}/migrate-test.XXXXXX")" || return 1
    MIGRATE_CLUSTER_DIR="$dir"
    MIGRATE_CLUSTER_BINDIR="$MIGRATE_PG_BINDIR"
    _migrate_install_trap
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir"
    fi
    chmod 0755 "$dir"

    migrate_log "initdb in $dir (port $port)"
    if ! _migrate_as_pg "$MIGRATE_PG_BINDIR/initdb" -D "$dir/data" -U postgres \
            --auth=trust --encoding=UTF8 --locale=C.UTF-8 --lc-collate=C \
            --lc-messages=C --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        migrate_die "initdb failed"
    fi

    {
        echo ""
        echo "# --- throwaway test cluster (scripts/lib.sh) ---"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir'"
        echo "port = $port"
        echo "max_connections = 100"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "log_min_messages = warning"
        echo "log_checkpoints = off"
        echo "log_min_error_statement = error"
        echo "log_line_prefix = '%m [%p] %q%a '"
        echo "timezone = 'UTC'"
        echo "log_timezone = 'UTC'"
        for line in "$@"; do
            echo "$line"
        done
    } >>"$dir/data/postgresql.conf"

    if ! _migrate_as_pg "$MIGRATE_PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" \
            -w -t 60 start >/dev/null; then
        echo "---- server log ($dir/log) ----" >&2
        cat "$dir/log" >&2 || true
        echo "-------------------------------" >&2
        migrate_die "could not start PostgreSQL on port $port (MIGRATE_TEST_PORT)"
    fi

    export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
    unset PGSERVICE
    migrate_log "PostgreSQL $("$MIGRATE_PG_BINDIR/psql" -X -A -t -c 'SHOW server_version') running: PGHOST=$PGHOST PGPORT=$PGPORT"
}

# Print the server log of the throwaway cluster (for diagnosing failures).
# migrate_bench_cluster SETUP [conf lines...]: what every benchmark does
# first: use the cluster PGHOST points at, or (after installing and building
# when SETUP is 1) start a throwaway one with the given configuration.
migrate_bench_cluster() {
    local setup="$1"; shift
    if [ -n "${PGHOST:-}" ]; then
        echo "using the running cluster at PGHOST=$PGHOST PGPORT=${PGPORT:-5432}"
        return 0
    fi
    if [ "$setup" = 1 ]; then
        migrate_install_deps
        migrate_build_install
    fi
    migrate_start_cluster "$@"
}

migrate_cluster_log() {
    [ -n "$MIGRATE_CLUSTER_DIR" ] && [ -f "$MIGRATE_CLUSTER_DIR/log" ] &&
        cat "$MIGRATE_CLUSTER_DIR/log"
}

# ---------------------------------------------------------------------------
# migrate_register_dir DIR [DB]
#
# Registers every migration in DIR, in version order, in one transaction.
# Layout (one pair per migration; anything else in DIR is ignored):
#
#     DIR/<version>__<name>.up.sql      required: the up script
#     DIR/<version>__<name>.down.sql    optional: the down script
#
# <version> is everything before the first "__" and must not be empty;
# <name> is the rest.  A missing down file registers down = NULL (the migration
# cannot be reverted); a present but empty down file registers '' verbatim and
# leaves the verdict to migrate.register().  Script text reaches the server as
# psql variables (:'up'), quoted by psql, and byte for byte as in the file
# (psql strips one trailing newline from `...`, so we append one).
# ---------------------------------------------------------------------------
migrate_register_dir() {
    local dir="${1:?usage: migrate_register_dir DIR [DB]}" db="${2:-}"
    local f base stem version name down i=0
    local args=() script
    [ -d "$dir" ] || migrate_die "migrate_register_dir: no such directory: $dir"
    dir="$(cd "$dir" && pwd)"

    # orphan down scripts are almost certainly a mistake
    for f in "$dir"/*.down.sql; do
        [ -e "$f" ] || continue
        [ -f "${f%.down.sql}.up.sql" ] ||
            migrate_die "migrate_register_dir: $f has no matching .up.sql"
    done

    script="\\set ON_ERROR_STOP on
\\pset tuples_only on
\\pset format unaligned
"
    while IFS= read -r base; do
        [ -n "$base" ] || continue
        stem="${base%.up.sql}"
        case "$stem" in
            ?*__?*) ;;
            *) migrate_die "migrate_register_dir: $base is not named <version>__<name>.up.sql" ;;
        esac
        version="${stem%%__*}"
        name="${stem#*__}"
        i=$((i + 1))
        args+=(-v "version_$i=$version" -v "name_$i=$name" -v "up_$i=$dir/$base")
        # the generated text contains nothing but the counter $i
        script+="\\set up \`cat -- :'up_$i' && echo\`
"
        down="$dir/$stem.down.sql"
        if [ -f "$down" ]; then
            args+=(-v "down_$i=$down")
            script+="\\set down \`cat -- :'down_$i' && echo\`
SELECT format('%-20s %-40s %s', :'version_$i', :'name_$i', migrate.register(:'version_$i', :'name_$i', :'up', :'down'));
"
        else
            script+="SELECT format('%-20s %-40s %s', :'version_$i', :'name_$i', migrate.register(:'version_$i', :'name_$i', :'up', NULL));
"
        fi
    done < <(cd "$dir" && find . -maxdepth 1 -type f -name '*.up.sql' -printf '%f\n' | LC_ALL=C sort -V)

    if [ "$i" -eq 0 ]; then
        migrate_log "migrate_register_dir: no *.up.sql files in $dir"
        return 0
    fi
    migrate_log "registering $i migration(s) from $dir"
    if [ -n "$db" ]; then
        args+=(-d "$db")
    fi
    printf '%s' "$script" | psql -X -q -1 -v ON_ERROR_STOP=1 "${args[@]}" -f -
}
