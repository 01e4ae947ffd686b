#!/usr/bin/env bash
# test/doc/run.sh: run the SQL examples of the documentation and compare
# their output with what the documents show, so that the docs cannot drift
# from the code.
#
#     bash test/doc/run.sh [DOCUMENT.md ...]
#         (default: README.md doc/tutorial.md doc/troubleshooting.md)
#
# The convention (see the end of this comment for details):
#   ```sql        a block psql runs, in order, one session per document
#   ```text       right after a ```sql block (only blank lines between): that
#                 block's expected output, exactly as psql prints it (stdout
#                 and stderr, NOTICEs included)
#   <!-- doctest: ... -->   SQL the test runs but readers do not see (waits,
#                 setup); one line or several, its output is not compared
# Other fences (```console, ```sh, ```ini, ```) are not run.
#
# Each document runs in a fresh database (migrate_doctest_<name>; databases
# it creates itself named migrate_doctest_<name>_* are dropped after it) as the
# superuser PGUSER, in one psql session (psql -X, default settings, input
# from stdin, so errors print as "ERROR:  ..." without a file prefix), with
# the repository root as working directory (so `cat examples/...` works in
# \set).  A document may create roles and SET ROLE; roles it creates with
# CREATE ROLE/USER are dropped before and after it runs (except
# migrate_admin and migrate_reader).
#
# A document fails when a block's normalised output differs from its
# ```text block (a unified diff is printed), when a block without a
# ```text block (or a hidden one) raises an ERROR, when a ```sql block does
# not end with a semicolon or a psql meta-command, or when psql fails.
# A document without ```sql blocks is skipped, saying so.
#
# Normalisation, applied to both sides before comparing: trailing blanks and
# blank lines at either end are dropped; timestamps become <timestamp>,
# times and intervals (00:00:00.041) <interval>, durations such as "41 ms"
# or "1.5 s" <duration>; database "x" in a message becomes database <name>
# (each document runs in a database of its own); "process 12345", "pid 12345"
# and the cells of columns named pid, *_pid or blocked_by become <pid>; runs
# of blanks become one blank and the dashes of a table's rule one dash, so
# column widths do not matter (the values do).
#
# Cluster: PGHOST/PGPORT/PGUSER of a running cluster started as
# scripts/test.sh starts it (migrate installed and preloaded,
# migrate.naptime = 1).  Without PGHOST it starts such a cluster itself
# (scripts/lib.sh; migrate must be installed, MIGRATE_PG_CONFIG says where).
# Environment: DOCTEST_TIMEOUT (seconds per document, default 300),
# DOCTEST_KEEP=1 (keep the work directory and the database),
# DOCTEST_VERBOSE=1 (print every block's output).  test/doc/selftest.sh checks
# that this script fails on drift (scripts/test.sh runs both).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
chmod 0755 "$work"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    if [ "${DOCTEST_KEEP:-0}" = 1 ]; then
        echo "doc: kept $work"
    else
        rm -rf -- "$work"
    fi
}
# before migrate_start_cluster, whose own EXIT trap composes with this one
trap cleanup EXIT

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
if [ -z "${PGHOST:-}" ]; then
    migrate_start_cluster "shared_preload_libraries = 'migrate'" "migrate.naptime = 1" || exit 1
fi
export PGUSER="${PGUSER:-postgres}"
cd "$root" || exit 1

if [ "$#" -eq 0 ]; then
    set -- README.md doc/tutorial.md doc/troubleshooting.md
fi

admin() {   # admin SQL...: a quiet superuser command in database postgres
    PGOPTIONS="-c client_min_messages=warning" \
        psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
}

drop_roles() {   # drop_roles FILE: drop the roles listed in FILE, if they exist
    local role
    while IFS= read -r role; do
        [ -n "$role" ] || continue
        admin -v role="$role" <<'SQL' || echo "doc: could not drop role $role (it may own objects elsewhere)"
SELECT format('DROP ROLE IF EXISTS %I', :'role') \gexec
SQL
    done <"$1"
}

failed=0
for doc in "$@"; do
    if [ ! -f "$doc" ]; then
        echo "FAIL: $doc: no such document"
        failed=1
        continue
    fi
    slug="$(basename "$doc" .md | tr -c 'a-zA-Z0-9\n' '_' | tr '[:upper:]' '[:lower:]')"
    dir="$work/$slug"
    mkdir -p "$dir"
    chmod 0755 "$dir"
    if ! perl "$here/doctest.pl" extract "$doc" "$dir"; then
        echo "FAIL: $doc: could not extract its examples"
        failed=1
        continue
    fi
    nblocks="$(grep -c . "$dir/manifest" || true)"
    if ! grep -q "	sql	" "$dir/manifest"; then
        echo "SKIP: $doc has no \`\`\`sql blocks"
        continue
    fi
    db="migrate_doctest_$slug"
    drop_roles "$dir/roles"
    admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" || {
        echo "FAIL: $doc: could not create database $db"
        failed=1
        continue
    }
    start=$(date +%s)
    timeout --kill-after=10 "${DOCTEST_TIMEOUT:-300}" \
        psql -X -P pager=off -d "$db" <"$dir/script.sql" >"$dir/output" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ "${DOCTEST_KEEP:-0}" != 1 ]; then
        admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" ||
            echo "doc: could not drop database $db"
        # and the databases a document made for itself, named ${db}_*
        admin -v prefix="${db}_" <<'SQL' || echo "doc: could not drop the databases ${db}_*"
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname) FROM pg_database
 WHERE left(datname, length(:'prefix')) = :'prefix' \gexec
SQL
        drop_roles "$dir/roles"
    fi
    if [ "$rc" -ne 0 ]; then
        cat "$dir/output"
        if [ "$rc" -eq 124 ]; then
            echo "FAIL: $doc: psql timed out after ${DOCTEST_TIMEOUT:-300}s"
        else
            echo "FAIL: $doc: psql exited with status $rc"
        fi
        failed=1
        continue
    fi
    if perl "$here/doctest.pl" compare "$doc" "$dir"; then
        echo "PASS: $doc ($nblocks blocks, ${secs}s)"
    else
        echo "FAIL: $doc (the diffs above: - the document, + the real output)"
        failed=1
    fi
done
exit "$failed"
