#!/usr/bin/env bash
# scripts/demo.sh: build and install migrate, start a throwaway PostgreSQL 15
# cluster, and walk through register -> apply -> status -> history -> revert
# -> apply with the migrations in examples/.
#
# Run as root (or with sudo): it installs Debian packages when missing,
# installs the extension into PostgreSQL 15 and runs the server as the
# postgres OS user.  The cluster and its directory are removed on exit.
#
#     sudo bash scripts/demo.sh            # everything
#     bash scripts/demo.sh --no-setup      # skip apt-get and the build
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"

setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) migrate_die "unknown argument: $arg" ;;
    esac
done

if [ "$setup" = 1 ]; then
    migrate_install_deps
    migrate_build_install
fi
migrate_start_cluster

export PGDATABASE=migrate_demo
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE migrate_demo'

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() {
    printf '\n%s### %s%s\n' "$bold" "$*" "$plain"
}

# psql with the demo's settings; SQL comes from the arguments via -c
q() {
    psql -X -v ON_ERROR_STOP=1 -P pager=off -P null='(null)' "$@"
}

# the narrow view a DBA reads first; migrate.status_detail has every column
STATUS="SELECT * FROM migrate.status"

step "CREATE EXTENSION migrate"
q -c 'CREATE EXTENSION migrate' -c '\dx migrate'

step "Register examples/ (one transaction, files passed as psql variables)"
migrate_register_dir "$MIGRATE_ROOT/examples"

step "Status: everything registered, nothing applied"
q -c "$STATUS"

step "Header fields and dependencies are in migrate.status_detail"
q -c "SELECT version, risk_level, dependencies, revertible FROM migrate.status_detail"

step "SELECT * FROM migrate.apply()   -- apply all pending migrations"
q -c 'SELECT * FROM migrate.apply()'

step "Status after apply"
q -c "$STATUS"

step "The shop schema now exists"
q -c '\dt public.*'

step "History (append-only)"
q -c 'SELECT id, action, version, name, outcome, role,
             started_at::timestamp(0) AS started_at, duration, left(checksum, 12) AS checksum
        FROM migrate.history'

step "SELECT * FROM migrate.revert(steps => 1)   -- undo the latest migration"
q -c 'SELECT * FROM migrate.revert(steps => 1)'

step "Status after revert"
q -c "$STATUS"

step "SELECT * FROM migrate.apply()   -- re-apply it"
q -c 'SELECT * FROM migrate.apply()'

step "Final status"
q -c "$STATUS"

printf '\ndemo finished: the throwaway cluster is removed now.\n'
