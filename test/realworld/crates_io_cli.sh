#!/usr/bin/env bash
# test/realworld/crates_io_cli.sh: crates.io's schema history deployed with
# the pg_migrate client.
#
# Reads the crates.io corpus (285 Diesel migrations, see its README.md) from
# ${MIGRATE_CORPUS_DIR:-<repo>/../shared/corpus}/crates-io; without it, prints
# SKIP and exits 0.  It:
#
#   1. builds, in a temporary directory, the Diesel layout crates.io itself
#      uses: one directory per migration, <seq>_<name>/up.sql and down.sql,
#      and metadata.toml with run_in_transaction = false where MANIFEST.tsv
#      says no_tx = 1.  Diesel rather than the golang layout the flat files
#      already have, because the corpus IS a Diesel project: metadata.toml
#      is how it marks its non-transactional migrations ("tool" in the
#      manifest), which the golang layout cannot say.  The directories are
#      named by the 4-digit seq of MANIFEST.tsv, not by the original
#      version, whose formats are mixed (14 and 18 digits): the project's own
#      order, and the versions test/realworld/crates_io.sh registers;
#   2. registers and applies the same scripts through the SQL API
#      (migrate.register(), migrate.apply()) in a database of its own,
#      registering a migration whose down script register() refuses (it does
#      not parse: 0132) without it, as crates_io.sh does;
#   3. `pg_migrate up` of the directory as it is must refuse it (exit 1, a
#      message naming that migration, NOTHING registered: registration is one
#      transaction); then, with the refused down.sql removed from the
#      temporary copy (what a user would do), `pg_migrate up` deploys all
#      285 and the schema equals the SQL API's (migrate.fingerprint());
#   4. `pg_migrate down --all` is refused (a migration has no down script)
#      or stops at a down script that fails; then `pg_migrate down --to` the
#      newest migration without a down script stops at the down script known
#      to fail: exit 1, a message naming it, and a consistent catalog (what
#      is rolled back is exactly the newest part of the history, nothing
#      failed; a non-transactional down script that failed leaves its
#      migration dirty, which `pg_migrate resolve --action mark_applied`
#      settles when its first statement failed);
#   5. `pg_migrate up` deploys again (all 285 applied, exit 0), and one more
#      `up` with nothing changed writes no history.
#
# Until the client's parts are merged (a stub reader or up), prints SKIP.
#
# Expects PGHOST/PGPORT/PGUSER of a running cluster with migrate installed
# and pg_migrate in PATH (scripts/test.sh provides them); without PGHOST it
# starts a throwaway cluster via scripts/lib.sh.  MIGRATE_CRATES_DB names
# the database prefix (default migrate_crates_cli; the databases are dropped
# at the end unless MIGRATE_KEEP_DATABASE=1).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
corpus="${MIGRATE_CORPUS_DIR:-$root/../shared/corpus}/crates-io"
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
    echo "SKIP: crates.io corpus not found at $corpus"
    exit 0
fi
corpus="$(cd "$corpus" && pwd)"

DB="${MIGRATE_CRATES_DB:-migrate_crates_cli}"
DB_SQL="${DB}_sql"
work="$(mktemp -d)"

cleanup() {
    if [ "${MIGRATE_KEEP_DATABASE:-0}" != 1 ]; then
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
             -c "DROP DATABASE IF EXISTS \"$DB_SQL\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT   # before lib.sh's cluster trap, which composes with it

if [ -z "${PGHOST:-}" ]; then
    # shellcheck source=scripts/lib.sh
    source "$root/scripts/lib.sh"
    migrate_start_cluster "shared_preload_libraries = 'migrate'" "migrate.naptime = 1"
else
    bindir="${MIGRATE_PG_BINDIR:-$(/usr/lib/postgresql/15/bin/pg_config --bindir 2>/dev/null || true)}"
    if [ -n "$bindir" ]; then export PATH="$bindir:$PATH"; fi
fi
if ! command -v pg_migrate >/dev/null; then
    echo "SKIP: pg_migrate is not installed (make install)"
    exit 0
fi

failed=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failed=1; }
note() { printf 'NOTE: %s\n' "$*"; }
section() { printf '\n==== %s ====\n' "$*"; }
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
val() { local db="$1"; shift; psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" "$@"; }
pgm() { pg_migrate -d "dbname=$DB" --dir "$dir" "$@"; }
now_ns() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f s", ns / 1e9 }'; }
timings=()
timed() {   # timed LABEL T0: record the time since T0
    local t=$(( $(now_ns) - $2 ))
    timings+=("$(printf '%-34s %10s' "$1" "$(secs "$t")")")
    printf 'time: %s\n' "$(secs "$t")"
}

# --- the Diesel directory ------------------------------------------------------
section "Diesel layout from $corpus"
dir="$work/migrations"
mkdir -p "$dir"
expected=0 no_tx=0
while IFS=$'\t' read -r seq _ _ flag _; do
    [ "$seq" = seq ] && continue
    expected=$((expected + 1))
    v="$(printf '%04d' "$seq")"
    ups=("$corpus/${v}_"*.up.sql)
    if [ "${#ups[@]}" -ne 1 ] || [ ! -f "${ups[0]}" ]; then
        fail "no single up script for seq $v in $corpus"
        continue
    fi
    # the name as a directory name: what the flat file names already use
    base="$(basename "${ups[0]}" .up.sql)"
    m="$dir/${v}_${base#"${v}"_*_}"
    mkdir "$m"
    cp "${ups[0]}" "$m/up.sql"
    [ ! -f "${ups[0]%.up.sql}.down.sql" ] || cp "${ups[0]%.up.sql}.down.sql" "$m/down.sql"
    if [ "$flag" = 1 ]; then
        printf 'run_in_transaction = false\n' >"$m/metadata.toml"
        no_tx=$((no_tx + 1))
    fi
done <"$corpus/MANIFEST.tsv"
echo "$expected migrations, $(find "$dir" -name down.sql | wc -l) with down.sql," \
     "$no_tx with metadata.toml run_in_transaction = false"

# the client's parts may not be merged yet: say so and stop
if ! pg_migrate --dir "$dir" files >"$work/files.out" 2>"$work/files.err"; then
    if grep -q 'not implemented\|unknown command' "$work/files.err"; then
        echo "SKIP: the pg_migrate layout readers are not merged yet"
        exit 0
    fi
    cat "$work/files.err"
    fail "pg_migrate files cannot read the Diesel directory"
fi

psql -X -q -d postgres -v ON_ERROR_STOP=1 \
     -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" \
     -c "DROP DATABASE IF EXISTS \"$DB_SQL\" WITH (FORCE)" -c "CREATE DATABASE \"$DB_SQL\""
val "$DB" -c "CREATE EXTENSION migrate"
val "$DB_SQL" -c "CREATE EXTENSION migrate"

# --- the SQL API: what register() refuses, and the schema it gives ------------
section "the SQL API: register() and apply() of the same scripts"
# One psql script, as in crates_io.sh: each script's text as a dollar-quoted
# literal whose tag does not occur in it (awk reads the files; nothing is
# interpolated by a shell); ON_ERROR_ROLLBACK puts each register() in a
# savepoint, so that a down script register() refuses is reported and the
# migration registered without it.  A run_in_transaction = false migration
# gets "-- @transaction: false", which is what metadata.toml means.
register_sql="$work/register.sql"
find "$dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort |
awk -v dir="$dir" '
function slurp(f,    s, line, n) {
    s = ""; n = 0
    while ((getline line < f) > 0) { s = s (n++ ? "\n" : "") line }
    close(f)
    return s
}
function literal(s,    tag, i) {
    tag = "$crates$"; i = 0
    while (index(s, tag) > 0) tag = "$crates" (++i) "$"
    return tag s tag
}
function exists(f,    line) { if ((getline line < f) >= 0) { close(f); return 1 } return 0 }
BEGIN { print "\\set ON_ERROR_ROLLBACK on"; print "\\set QUIET on"; print "BEGIN;" }
{
    v = "\x27" substr($0, 1, 4) "\x27"; n = "\x27" substr($0, 6) "\x27"
    up = slurp(dir "/" $0 "/up.sql")
    if (exists(dir "/" $0 "/metadata.toml")) up = "-- @transaction: false\n" up
    up = literal(up)
    if (exists(dir "/" $0 "/down.sql")) {
        print "SELECT migrate.register(" v ", " n ", " up ", " literal(slurp(dir "/" $0 "/down.sql")) ") \\g /dev/null"
        print "\\if :ERROR"
        print "\\echo REFUSED-DOWN " $0 " :LAST_ERROR_MESSAGE"
        print "SELECT migrate.register(" v ", " n ", " up ") \\g /dev/null"
        print "\\endif"
    } else {
        print "SELECT migrate.register(" v ", " n ", " up ") \\g /dev/null"
    }
}
END { print "COMMIT;" }' >"$register_sql"
t0=$(now_ns)
psql -X -q -d "$DB_SQL" -f "$register_sql" >"$work/register.out" 2>"$work/register.err" || true
refused=$(sed -n 's/^REFUSED-DOWN \([^ ]*\) .*/\1/p' "$work/register.out")
if applied=$(val "$DB_SQL" -c "SELECT count(*) FROM migrate.apply()" 2>>"$work/register.err"); then
    pass "the SQL API applied $applied migrations"
else
    sed -n 1,20p "$work/register.err"
    fail "the SQL API did not deploy the corpus"
fi
timed "register() + apply() (SQL API)" "$t0"
if [ -n "$refused" ]; then
    echo "down scripts that migrate.register() refuses:"
    sed -n 's/^REFUSED-DOWN /  /p' "$work/register.out"
fi

# --- pg_migrate up of the corpus as it is -------------------------------------------
section "pg_migrate up, the corpus as it is"
t0=$(now_ns)
set +e
pgm up >"$work/up.out" 2>"$work/up.err"
rc=$?
set -e
timed "pg_migrate up (as it is)" "$t0"
if [ "$rc" = 1 ] && [ ! -s "$work/up.out" ] && [ ! -s "$work/up.err" ]; then
    echo "SKIP: pg_migrate up is not merged yet (the stub exits 1 silently)"
    exit 0
fi
if [ -n "$refused" ]; then
    # one transaction: a refused down script registers nothing at all
    first="${refused%%$'\n'*}"
    sed -n 1,6p "$work/up.err" | sed 's/^/    /'
    n=$(val "$DB" -c "SELECT count(*) FROM migrate.migration")
    [ "$rc" = 1 ] && pass "pg_migrate up refuses the corpus as it is (exit 1)" ||
        fail "pg_migrate up exited $rc with a down script register() refuses"
    grep -q "${first:0:4}" "$work/up.err" &&
        pass "the message names migration ${first:0:4}, whose down script does not parse" ||
        fail "the message does not name migration ${first:0:4}"
    [ "$n" = 0 ] && pass "nothing registered" || fail "$n migrations registered after the refusal"
    # what a user does: the migration stays irreversible (crates_io.sh
    # registers it without its down script, too)
    for m in $refused; do rm -f "$dir/$m/down.sql"; done
    note "removed the down.sql of: $(echo $refused) (in the temporary copy only)"

    section "pg_migrate up, without the down scripts register() refuses"
    t0=$(now_ns)
    set +e
    pgm up >"$work/up.out" 2>"$work/up.err"
    rc=$?
    set -e
    timed "pg_migrate up (all)" "$t0"
fi
tail -n 3 "$work/up.out"
n=$(val "$DB" -c "SELECT count(*) FROM migrate.status WHERE state = 'applied'")
if [ "$rc" = 0 ] && [ "$n" = "$expected" ]; then
    pass "pg_migrate up applied all $n migrations"
else
    fail "pg_migrate up exited $rc; $n of $expected migrations are applied"
    sed -n 1,20p "$work/up.err"
fi
nt=$(val "$DB" -c "SELECT count(*) FROM migrate.migration WHERE NOT transactional")
if [ "$nt" -ge "$no_tx" ]; then
    pass "every run_in_transaction = false migration is non-transactional ($nt)"
else
    fail "only $nt migrations are non-transactional, metadata.toml marks $no_tx"
fi
fp_cli=$(val "$DB" -c "SELECT migrate.fingerprint()")
fp_sql=$(val "$DB_SQL" -c "SELECT migrate.fingerprint()")
if [ "$fp_cli" = "$fp_sql" ]; then
    pass "pg_migrate up gives the schema the SQL API gives (fingerprint $fp_cli)"
else
    fail "the schemas differ: pg_migrate $fp_cli, SQL API $fp_sql"
    val "$DB" -F $'\t' -c "SELECT kind, identity, hash FROM migrate.schema_objects()" | sort >"$work/schema.cli"
    val "$DB_SQL" -F $'\t' -c "SELECT kind, identity, hash FROM migrate.schema_objects()" | sort >"$work/schema.sql"
    diff "$work/schema.cli" "$work/schema.sql" | head -n 20 || true
fi

# --- pg_migrate down --all ---------------------------------------------------------------
section "pg_migrate down --all"
# consistent after a revert: what is rolled back is exactly the newest part
# of the application order, nothing is failed, and at most one migration is
# dirty: the one whose non-transactional down script stopped the revert,
# right below the rolled-back part
consistent() {
    val "$DB" -c "WITH m AS (SELECT version, state, row_number() OVER (ORDER BY version_key DESC) AS pos
                            FROM migrate.migration),
                      r AS (SELECT count(*) FILTER (WHERE state = 'reverted') AS reverted FROM m)
                 SELECT coalesce(max(pos) FILTER (WHERE state = 'reverted'), 0) = r.reverted
                        AND count(*) FILTER (WHERE state NOT IN ('applied', 'reverted', 'dirty')) = 0
                        AND count(*) FILTER (WHERE state = 'dirty') <= 1
                        AND coalesce(bool_and(pos = r.reverted + 1) FILTER (WHERE state = 'dirty'), true)
                 FROM m, r GROUP BY r.reverted"
}
# down_stops ARGS...: run pg_migrate down, check exit 1, a pg_migrate: error:
# line and a consistent catalog
down_stops() {
    local rc reverted
    t0=$(now_ns)
    set +e
    pgm down "$@" >"$work/down.out" 2>"$work/down.err"
    rc=$?
    set -e
    timed "pg_migrate down $*" "$t0"
    reverted=$(val "$DB" -c "SELECT count(*) FROM migrate.status WHERE state = 'reverted'")
    echo "exit $rc; rolled back now: $reverted of $expected"
    sed -n 1,6p "$work/down.err" | sed 's/^/    /'
    [ "$rc" = 1 ] && pass "pg_migrate down $* exits 1" || fail "pg_migrate down $* exited $rc, expected 1"
    grep -q '^pg_migrate: error: ' "$work/down.err" &&
        pass "pg_migrate down $*: a pg_migrate: error: line says why" ||
        fail "pg_migrate down $*: no pg_migrate: error: line on stderr"
    if [ "$(consistent)" = t ]; then
        pass "pg_migrate down $*: the catalog is consistent (rolled back: the newest $reverted)"
    else
        fail "pg_migrate down $*: the catalog is inconsistent"
        val "$DB" -c "SELECT state, count(*), min(version), max(version) FROM migrate.status GROUP BY state"
    fi
}
failing_down() {
    val "$DB" -c "SELECT string_agg(version, ' ' ORDER BY version) FROM migrate.status_detail
                  WHERE state IN ('applied', 'dirty') AND last_error->>'script' = 'down'"
}
down_stops --all
if grep -q 'no down script' "$work/down.err"; then
    # refused before anything ran; revert what lies after the newest
    # migration without a down script, as crates_io.sh does
    stop=$(val "$DB" -c "SELECT version FROM migrate.status_detail WHERE state = 'applied' AND NOT revertible
                         ORDER BY version DESC LIMIT 1")
    note "down --all was refused: $stop has no down script; reverting to $stop"
    down_stops --to "$stop"
fi
failing=$(failing_down)
if [ -n "$failing" ]; then
    if grep -q "${failing%% *}" "$work/down.err"; then
        pass "the message names the failing down script's migration ($failing)"
    else
        fail "the message does not name the failing migration ($failing)"
    fi
else
    fail "no failing down script recorded in last_error"
fi
# a non-transactional down script that failed leaves its migration dirty;
# the operator settles it (here: its first statement failed, so nothing of
# it ran and the migration is still applied)
dirty=$(val "$DB" -c "SELECT string_agg(version, ' ') FROM migrate.migration WHERE state = 'dirty'")
for v in $dirty; do
    stmt=$(val "$DB" -c "SELECT dirty_statement FROM migrate.migration WHERE version = '$v'")
    note "$v is dirty (its non-transactional down script stopped at statement $stmt)"
    if [ "$stmt" = 1 ] && pgm resolve "$v" --action mark_applied >"$work/resolve.out" 2>&1; then
        pass "pg_migrate resolve $v --action mark_applied settled it"
    else
        cat "$work/resolve.out"
        fail "pg_migrate resolve $v --action mark_applied failed (or it is dirty at statement $stmt)"
    fi
done

# --- pg_migrate up again -----------------------------------------------------------------
section "pg_migrate up again"
t0=$(now_ns)
set +e
pgm up >"$work/up2.out" 2>"$work/up2.err"
rc=$?
set -e
timed "pg_migrate up (again)" "$t0"
n=$(val "$DB" -c "SELECT count(*) FROM migrate.status WHERE state = 'applied'")
if [ "$rc" = 0 ] && [ "$n" = "$expected" ]; then
    pass "pg_migrate up deployed again: all $n applied"
else
    fail "pg_migrate up again exited $rc; $n of $expected applied"
    sed -n 1,20p "$work/up2.err"
fi

# --- nothing to do ------------------------------------------------------------------------
events=$(val "$DB" -c "SELECT count(*) FROM migrate.event")
t0=$(now_ns)
pgm up >/dev/null 2>&1 || fail "pg_migrate up with nothing to do failed"
timed "pg_migrate up (nothing to do)" "$t0"
if [ "$(val "$DB" -c "SELECT count(*) FROM migrate.event")" = "$events" ]; then
    pass "an up with nothing changed writes no history"
else
    fail "an up with nothing changed wrote history"
fi

section "timings"
printf '%s\n' "${timings[@]}"
echo "PostgreSQL $(val "$DB" -c 'SHOW server_version'), databases $DB and $DB_SQL"
if [ "$failed" = 0 ]; then
    echo "PASS: crates_io_cli"
else
    echo "FAIL: crates_io_cli"
    exit 1
fi
