#!/usr/bin/env bash
# scripts/tap.sh: run the TAP tests of the pg_migrate client (t/*.pl) with
# `make installcheck-tap`, as PostgreSQL runs its own TAP suites: prove,
# PostgreSQL::Test::Cluster making a throwaway cluster per test file, PATH
# starting with the installation's bindir (initdb, pg_ctl and pg_migrate).
#
# migrate and pg_migrate must be installed already (make install).  initdb
# refuses to run as root, and a root test could read a file the test made
# unreadable: as root, the tests run as the postgres OS user on a copy of
# the tree owned by it (the copy is removed afterwards; on failure the
# test logs are copied back to tmp_check/log, as a non-root run leaves them).
#
# Usage: bash scripts/tap.sh [t/00X_name.pl ...]
# Environment: MIGRATE_PG_CONFIG (as scripts/lib.sh), MIGRATE_TAP_PORT (the
# port of each test's cluster; default: PostgreSQL::Test::Cluster picks a
# free one), PROVE_FLAGS (e.g. --verbose).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
pg_config="${MIGRATE_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
bindir="$("$pg_config" --bindir)" || exit 1

if ! [ -x "$bindir/pg_migrate" ]; then
    echo "error: $bindir/pg_migrate is not installed (run make install)" >&2
    exit 1
fi
if ! perl -MIPC::Run -e 1 2>/dev/null; then
    echo "error: the TAP tests need IPC::Run (Debian: libipc-run-perl)" >&2
    exit 1
fi

# run_make DIR: make installcheck-tap in DIR (PT: the tests to run, or all)
export PGC="$pg_config" PF="${PROVE_FLAGS:-}" PT="$*"
run_make='make -s -C "$1" installcheck-tap PG_CONFIG="$PGC" PROVE_FLAGS="$PF" ${PT:+PROVE_TESTS="$PT"}'

if [ "$(id -u)" -ne 0 ]; then
    bash -c "$run_make" run_make "$root"
    exit $?
fi

# root: a copy of what the tests read (Makefile, control file, t/, the
# fixtures), owned by postgres, in a directory postgres can enter
copy="$(mktemp -d "${TMPDIR:-/tmp}/migrate-tap.XXXXXX")" || exit 1
cleanup() { rm -rf -- "$copy"; }
trap cleanup EXIT
mkdir -p "$copy/tree/test"
cp -a "$root/Makefile" "$root/migrate.control" "$root/t" "$copy/tree/"
cp -a "$root/test/fixtures" "$copy/tree/test/"
chown -R postgres:postgres "$copy"
chmod 0755 "$copy"

runuser -u postgres -- env PATH="$bindir:$PATH" PGC="$PGC" PF="$PF" PT="$PT" \
    MIGRATE_TAP_PORT="${MIGRATE_TAP_PORT:-}" \
    bash -c "$run_make" run_make "$copy/tree"
rc=$?
# the logs back into the tree, where a non-root run leaves them too
if [ -d "$copy/tree/tmp_check/log" ]; then
    rm -rf "$root/tmp_check/log"
    mkdir -p "$root/tmp_check"
    cp -a "$copy/tree/tmp_check/log" "$root/tmp_check/log"
    [ "$rc" -eq 0 ] || echo "test logs: $root/tmp_check/log" >&2
fi
exit "$rc"
