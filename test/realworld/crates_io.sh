#!/usr/bin/env bash
# test/realworld/crates_io.sh: migrate on a real schema history, crates.io's.
#
# Reads the crates.io corpus (285 Diesel migrations, see its README.md) from
# ${MIGRATE_CORPUS_DIR:-<repo>/../shared/corpus}/crates-io; without it, prints
# SKIP and exits 0.  In a fresh database it:
#
#   1. registers every migration, version = the 4-digit seq of MANIFEST.tsv
#      (the project's own order), with its up and down scripts; a down script
#      that register() refuses (it does not parse) is reported, and the
#      migration is registered without one;
#   2. rehearses all of them (migrate.rehearse()) and prints which down
#      scripts are not exact inverses and what each leaves different, with
#      totals;
#   3. applies all of them (8 are non-transactional, so apply() hands the
#      plan to a background worker) and checks that all 285 are applied;
#   4. reverts everything with revert_all(); when that is refused or stops at
#      a failing down script, reports it, reverts what lies after the newest
#      migration without a down script, and reports how far that got;
#   5. applies again and checks that all 285 are applied; reports how the
#      schema after the revert/re-apply round trip differs from the first.
#
# Exits 0 when the machinery worked: the rehearsal ran to the end (or
# stopped only at an up script failure, which it reports), apply applied all
# 285, and the revert stopped only where a down script failed, leaving a
# consistent catalog; non-zero on anything unexpected.
#
# Expects PGHOST/PGPORT/PGUSER of a running cluster with migrate installed
# (scripts/test.sh provides them); without PGHOST it starts a throwaway
# cluster via scripts/lib.sh.  MIGRATE_CRATES_DB names the database
# (default migrate_crates_io, dropped at the end unless
# MIGRATE_KEEP_DATABASE=1).  MIGRATE_REHEARSE_DATA=1 also compares table
# contents in the rehearsal.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
corpus="${MIGRATE_CORPUS_DIR:-$root/../shared/corpus}/crates-io"
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
    echo "SKIP: crates.io corpus not found at $corpus"
    exit 0
fi
corpus="$(cd "$corpus" && pwd)"

DB="${MIGRATE_CRATES_DB:-migrate_crates_io}"
work="$(mktemp -d)"

cleanup() {
    if [ "${MIGRATE_KEEP_DATABASE:-0}" != 1 ]; then
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT   # before lib.sh's cluster trap, which composes with it

if [ -z "${PGHOST:-}" ]; then
    # shellcheck source=scripts/lib.sh
    source "$root/scripts/lib.sh"
    migrate_start_cluster
else
    bindir="$(/usr/lib/postgresql/15/bin/pg_config --bindir 2>/dev/null || true)"
    if [ -n "$bindir" ]; then export PATH="$bindir:$PATH"; fi
fi

failed=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failed=1; }
note() { printf 'NOTE: %s\n' "$*"; }
section() { printf '\n==== %s ====\n' "$*"; }
# quiet notices: the corpus's own scripts raise many ("... does not exist, skipping")
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning -c migrate.progress_level=debug1"
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
val() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
now_ns() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f s", ns / 1e9 }'; }
t_start=$(now_ns)
timings=()
timed() {   # timed LABEL T0: record the time since T0
    local t=$(( $(now_ns) - $2 ))
    timings+=("$(printf '%-34s %10s' "$1" "$(secs "$t")")")
    printf 'time: %s\n' "$(secs "$t")"
}

# --- the corpus --------------------------------------------------------------
# seq -> files: NNNN_<version>_<name>.{up,down}.sql; the name in the file is
# the manifest's name with unsafe characters replaced, so go by NNNN.
section "corpus $corpus"
list="$work/list.tsv"     # version <TAB> name <TAB> up file <TAB> down file
: >"$list"
expected=0
while IFS=$'\t' read -r seq _ name _; do
    [ "$seq" = seq ] && continue
    expected=$((expected + 1))
    v="$(printf '%04d' "$seq")"
    ups=("$corpus/${v}_"*.up.sql)
    if [ "${#ups[@]}" -ne 1 ] || [ ! -f "${ups[0]}" ]; then
        fail "no single up script for seq $v in $corpus"
        continue
    fi
    down="${ups[0]%.up.sql}.down.sql"
    [ -f "$down" ] || down=""
    printf '%s\t%s\t%s\t%s\n' "$v" "$name" "${ups[0]}" "$down" >>"$list"
done <"$corpus/MANIFEST.tsv"
echo "$expected migrations in MANIFEST.tsv, $(wc -l <"$list") with files," \
     "$(awk -F'\t' '$4 != ""' "$list" | wc -l) with a down script"
echo "non-transactional per the manifest: $(awk -F'\t' 'NR > 1 && $4 == 1 { printf "%04d ", $1 }' "$corpus/MANIFEST.tsv")"

# --- register ------------------------------------------------------------------
# One psql script: each script's text as a dollar-quoted literal whose tag
# does not occur in it (awk reads the files; nothing is interpolated by a
# shell).  ON_ERROR_ROLLBACK puts each register() in a savepoint, so a down
# script that register() refuses is reported and the migration is
# registered without it.
section "register"
register_sql="$work/register.sql"
awk -F'\t' '
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
function sqlstr(s) { gsub(/'\''/, "'\'''\''", s); return "'\''" s "'\''" }
BEGIN {
    print "\\set ON_ERROR_ROLLBACK on"
    print "\\set QUIET on"
    print "BEGIN;"
}
{
    v = sqlstr($1); n = sqlstr($2); up = literal(slurp($3))
    if ($4 != "") {
        print "SELECT migrate.register(" v ", " n ", " up ", " literal(slurp($4)) ") \\g /dev/null"
        print "\\if :ERROR"
        print "\\echo REFUSED-DOWN " $1 " :LAST_ERROR_MESSAGE"
        print "SELECT migrate.register(" v ", " n ", " up ") \\g /dev/null"
        print "\\if :ERROR"
        print "\\echo REFUSED-UP " $1 " :LAST_ERROR_MESSAGE"
        print "\\endif"
        print "\\endif"
    } else {
        print "SELECT migrate.register(" v ", " n ", " up ") \\g /dev/null"
        print "\\if :ERROR"
        print "\\echo REFUSED-UP " $1 " :LAST_ERROR_MESSAGE"
        print "\\endif"
    }
}
END { print "COMMIT;" }' "$list" >"$register_sql"

psql -X -q -d postgres -v ON_ERROR_STOP=1 \
     -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\""
sql -c "CREATE EXTENSION migrate"
t0=$(now_ns)
psql -X -q -d "$DB" -f "$register_sql" >"$work/register.out" 2>"$work/register.err"
timed "register" "$t0"
if grep -q '^REFUSED-DOWN' "$work/register.out"; then
    echo "down scripts that migrate.register() refused (registered without a down script):"
    sed -n 's/^REFUSED-DOWN /  /p' "$work/register.out"
fi
if grep -q '^REFUSED-UP' "$work/register.out"; then
    echo "up scripts that migrate.register() refused:"
    sed -n 's/^REFUSED-UP /  /p' "$work/register.out"
fi
n=$(val -c "SELECT count(*) FROM migrate.status")
if [ "$n" = "$expected" ]; then
    pass "registered all $n migrations"
else
    fail "registered $n migrations, expected $expected"
    sed -n 1,40p "$work/register.err"
fi
sql -c "SELECT count(*) AS migrations,
               count(*) FILTER (WHERE revertible) AS with_down_script,
               count(*) FILTER (WHERE NOT transactional) AS up_not_transactional,
               (SELECT count(*) FROM migrate.migration WHERE NOT down_transactional)
                   AS down_not_transactional,
               sum(statements) AS up_statements
        FROM migrate.status_detail"

# --- rehearse ------------------------------------------------------------------
section "rehearse: up, down, up again for each migration, all rolled back"
data=false
[ "${MIGRATE_REHEARSE_DATA:-0}" = 1 ] && data=true
fp_before=$(val -c "SELECT migrate.fingerprint()")
: >"$work/rehearsal.copy"
t0=$(now_ns)
if ! sql -c "CREATE TEMP TABLE rehearsal AS SELECT ordinal, version, name, ok, failed_step, differences, error FROM migrate.rehearse(data => $data)" \
         -c "\\copy rehearsal TO '$work/rehearsal.copy'" 2>"$work/rehearse.err"; then
    cat "$work/rehearse.err"
    fail "migrate.rehearse() raised an error"
fi
timed "rehearse (data => $data)" "$t0"
# a psql session of its own for the report (the temp table went with the last)
sql >"$work/rehearsal.txt" <<SQL
CREATE TEMP TABLE rehearsal (ordinal int, version text, name text, ok boolean,
                             failed_step text, differences jsonb, error text);
\\copy rehearsal FROM '$work/rehearsal.copy'
\\echo 'migrations whose down script is not an exact inverse (or failed, or is missing):'
\\pset footer off
SELECT r.version, r.name, r.failed_step,
       (SELECT string_agg(x.item, '; ' ORDER BY x.n)
        FROM (SELECT d->>'change' || ' ' || (d->>'kind') || ' ' || (d->>'identity') AS item,
                     row_number() OVER (ORDER BY d->>'kind', d->>'identity', d->>'change') AS n
              FROM jsonb_array_elements(r.differences) d) x
        WHERE x.n <= 6)
       || CASE WHEN jsonb_array_length(r.differences) > 6
               THEN format(' (+%s more)', jsonb_array_length(r.differences) - 6) ELSE '' END
       AS differences,
       left(split_part(r.error, E'\n', 1), 110) AS error
FROM rehearsal r WHERE NOT r.ok ORDER BY r.ordinal;
\\echo
\\echo 'totals:'
SELECT coalesce(failed_step, 'ok') AS outcome, count(*) AS migrations
FROM rehearsal GROUP BY 1 ORDER BY 2 DESC, 1;
\\echo 'differences by kind of object and change:'
SELECT d->>'kind' AS kind, d->>'change' AS change, count(*) AS objects,
       count(DISTINCT r.version) AS migrations
FROM rehearsal r, jsonb_array_elements(r.differences) d
GROUP BY 1, 2 ORDER BY 1, 2;
SQL
cat "$work/rehearsal.txt"
rows=$(wc -l <"$work/rehearsal.copy")
n_ok=$(awk -F'\t' '$4 == "t"' "$work/rehearsal.copy" | wc -l)
last_step=$(tail -n 1 "$work/rehearsal.copy" | cut -f5)
down_failed=$(awk -F'\t' '$5 == "down" { printf "%s%s", sep, $2; sep = " " }' "$work/rehearsal.copy")
echo
echo "rehearsed $rows of $expected migrations: $n_ok ok, $((rows - n_ok)) not"
if [ "$rows" = "$expected" ]; then
    pass "the rehearsal ran to the end (down scripts that failed outright: ${down_failed:-none})"
elif [ "$rows" -gt 0 ] && [ "$last_step" = up ]; then
    note "the rehearsal stopped at the up script of $(tail -n 1 "$work/rehearsal.copy" | cut -f2), as reported above"
    pass "the rehearsal ran until an up script failed"
else
    fail "the rehearsal returned $rows rows for $expected migrations"
fi
fp_after=$(val -c "SELECT migrate.fingerprint()")
pending=$(val -c "SELECT count(*) FROM migrate.status WHERE state = 'pending'")
if [ "$fp_before" = "$fp_after" ] && [ "$pending" = "$expected" ]; then
    pass "the rehearsal changed nothing (fingerprint equal, $pending pending)"
else
    fail "the rehearsal left changes (fingerprint $fp_before -> $fp_after, $pending pending)"
fi

# --- apply -----------------------------------------------------------------------
section "apply all"
t0=$(now_ns)
if applied=$(val -c "SELECT count(*) FROM migrate.apply()" 2>"$work/apply.err"); then :; else
    cat "$work/apply.err"
    applied="error"
fi
timed "apply (all)" "$t0"
n=$(val -c "SELECT count(*) FROM migrate.status WHERE state = 'applied'")
if [ "$applied" = "$expected" ] && [ "$n" = "$expected" ]; then
    pass "apply() applied all $n migrations"
else
    fail "apply() returned '$applied' rows, $n of $expected migrations are applied"
    sql -c "SELECT version, name, state, last_error->>'message' AS error FROM migrate.status_detail
            WHERE state <> 'applied' ORDER BY version LIMIT 5"
fi
sql -c "SELECT count(*) AS tables FROM pg_tables WHERE schemaname = 'public'"
val -F "$(printf '\t')" -c "SELECT kind, identity, hash FROM migrate.schema_objects()" >"$work/schema.first"
fp_applied=$(val -c "SELECT migrate.fingerprint()")

# --- revert ----------------------------------------------------------------------
section "revert all"
# consistent after a revert: what is rolled back is exactly the newest part
# of the application order, and nothing is failed or dirty
consistent() {
    val -c "WITH m AS (SELECT version, state, row_number() OVER (ORDER BY version_key DESC) AS pos
                       FROM migrate.migration)
            SELECT coalesce(max(pos) FILTER (WHERE state = 'reverted'), 0)
                       = count(*) FILTER (WHERE state = 'reverted')
                   AND count(*) FILTER (WHERE state NOT IN ('applied', 'reverted')) = 0
            FROM m"
}
report_revert() {   # report_revert ERRFILE: how far a revert call got
    local reverted stopped
    reverted=$(val -c "SELECT count(*) FROM migrate.status WHERE state = 'reverted'")
    echo "rolled back now: $reverted of $expected;" \
         "still applied: $(val -c "SELECT count(*) FROM migrate.status WHERE state = 'applied'")"
    if [ -s "$1" ]; then
        echo "the call stopped with:"
        sed 's/^/    /' "$1"
    fi
    stopped=$(val -c "SELECT version || ' ' || name || ': ' || (last_error->>'message')
                      FROM migrate.status_detail
                      WHERE state = 'applied' AND last_error->>'script' = 'down'
                      ORDER BY version DESC LIMIT 1")
    [ -z "$stopped" ] || echo "failing down script (recorded in last_error): $stopped"
}
t0=$(now_ns)
revert_ok=1
if val -c "SELECT count(*) FROM migrate.revert_all()" >"$work/revert.out" 2>"$work/revert.err"; then
    pass "revert_all() reverted $(cat "$work/revert.out") migrations"
else
    revert_ok=0
    note "revert_all() failed: $(grep -m1 ERROR "$work/revert.err" || head -n 1 "$work/revert.err")"
    report_revert "$work/revert.err"
fi
timed "revert_all" "$t0"

if [ "$revert_ok" = 0 ] && grep -q 'has no down script' "$work/revert.err"; then
    # revert_all() refuses before anything runs; revert what lies after the
    # newest migration that cannot be reverted
    stop=$(val -c "SELECT version FROM migrate.status_detail WHERE state = 'applied' AND NOT revertible
                   ORDER BY version DESC LIMIT 1")
    echo
    echo "reverting everything applied after $stop, the newest migration without a down script"
    t0=$(now_ns)
    if val -c "SELECT count(*) FROM migrate.revert(target => '$stop')" \
            >"$work/revert2.out" 2>"$work/revert2.err"; then
        pass "revert(target => '$stop') reverted $(cat "$work/revert2.out") migrations"
        report_revert /dev/null
    else
        note "revert(target => '$stop') stopped: $(grep -m1 ERROR "$work/revert2.err" || head -n 1 "$work/revert2.err")"
        report_revert "$work/revert2.err"
    fi
    timed "revert (target => $stop)" "$t0"
fi
failing=$(val -c "SELECT string_agg(version, ' ' ORDER BY version) FROM migrate.status_detail
                  WHERE state = 'applied' AND last_error->>'script' = 'down'")
if [ "$(consistent)" = t ]; then
    pass "the catalog is consistent after the revert (rolled back: the newest $(val -c "SELECT count(*) FROM migrate.status WHERE state = 'reverted'"), failing down: ${failing:-none})"
else
    fail "the catalog is inconsistent after the revert"
    sql -c "SELECT state, count(*), min(version), max(version) FROM migrate.status GROUP BY state"
fi
for v in $failing; do
    if awk -F'\t' -v v="$v" '$2 == v && $4 == "f" { found = 1 } END { exit !found }' "$work/rehearsal.copy"; then
        pass "the rehearsal had flagged $v, whose down script failed in the revert"
    else
        note "the rehearsal did not flag $v, whose down script failed in the revert (it ran after other down scripts)"
    fi
done

# --- re-apply --------------------------------------------------------------------
section "apply again"
t0=$(now_ns)
if reapplied=$(val -c "SELECT count(*) FROM migrate.apply()" 2>"$work/reapply.err"); then :; else
    cat "$work/reapply.err"
    reapplied="error"
fi
timed "apply (again)" "$t0"
n=$(val -c "SELECT count(*) FROM migrate.status WHERE state = 'applied'")
if [ "$n" = "$expected" ]; then
    pass "apply() applied $reapplied migrations again: all $n are applied"
else
    fail "after apply() again $n of $expected migrations are applied (apply returned '$reapplied')"
fi
fp_again=$(val -c "SELECT migrate.fingerprint()")
if [ "$fp_again" = "$fp_applied" ]; then
    echo "the schema after revert and re-apply is the same as after the first apply"
else
    val -F "$(printf '\t')" -c "SELECT kind, identity, hash FROM migrate.schema_objects()" >"$work/schema.again"
    echo "the schema after revert and re-apply differs from the first apply" \
         "(what the reverted down scripts did not undo, or the ups redid differently):"
    awk -F'\t' 'NR == FNR { first[$1 FS $2] = $3; next }
                { k = $1 FS $2; if (!(k in first)) print "extra   " $1 " " $2
                  else if (first[k] != $3) print "changed " $1 " " $2
                  delete first[k] }
                END { for (k in first) { split(k, p, FS); print "missing " p[1] " " p[2] } }' \
        "$work/schema.first" "$work/schema.again" | sort -k2 -k3 | sed 's/^/    /'
fi

# --- summary ---------------------------------------------------------------------
section "timings"
timed "total" "$t_start" >/dev/null
printf '%s\n' "${timings[@]}"
echo "PostgreSQL $(val -c 'SHOW server_version'), database $DB"
if [ "$failed" = 0 ]; then
    echo "PASS: crates_io"
else
    echo "FAIL: crates_io"
    exit 1
fi
