#!/usr/bin/env bash
# scripts/demo.sh: build and install migrate, start a throwaway PostgreSQL 15
# cluster, and deploy the migrations in examples/ with the pg_migrate client:
# up -> status -> validate -> down -> history -> up.
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

# the client, installed with the extension; it reads examples/ as they are
pgm() {
    printf '%s$ pg_migrate %s%s\n' "$bold" "$*" "$plain"
    "$MIGRATE_PG_BINDIR/pg_migrate" --dir "$MIGRATE_ROOT/examples" "$@"
}

step "pg_migrate init   -- CREATE EXTENSION migrate"
pgm init

step "pg_migrate up   -- register the files, apply what is pending"
pgm up

step "pg_migrate status"
pgm status

step "pg_migrate validate   -- files and database agree (exit 0; 3 when they do not)"
pgm validate

step "The shop schema now exists"
q -c '\dt public.*'

step "pg_migrate down   -- revert the newest migration"
pgm down

step "pg_migrate history"
pgm history

step "pg_migrate up   -- apply it again (nothing else is sent: the files are unchanged)"
pgm up

step "The same state, read with SQL"
q -c "$STATUS"

printf '\ndemo finished: the throwaway cluster is removed now.\n'
