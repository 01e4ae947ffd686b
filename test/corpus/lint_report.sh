#!/usr/bin/env bash
# test/corpus/lint_report.sh: lint the up scripts of the crates.io corpus
# and print, in markdown, how many findings each rule has and how many
# migrations they touch (the table of doc/lint.md's "Corpus" section).
#
#     bash test/corpus/lint_report.sh [--findings]
#
# Reads ${MIGRATE_CORPUS_DIR:-<repo>/../shared/corpus}/crates-io (285
# Diesel migrations, see its README.md; never copied into the repository);
# without it, prints SKIP and exits 0.  Each up script is linted with
# migrate.lint(), in the corpus's order (MANIFEST.tsv's seq), in a
# throwaway database whose catalog is empty: nothing of the corpus runs, so
# the rules that need an existing table stay silent and the text rules
# speak.  A migration the project marks as run outside a transaction
# (MANIFEST.tsv: no_tx 1, reason "tool", Diesel's run_in_transaction =
# false) gets the "-- @transaction: false" header pg_migrate's Diesel
# layout gives it.  A script migrate.lint() cannot lint is counted and
# named.  --findings adds a second table with every finding (seq, rule,
# statement, line, message), to read a sample of them.
#
# With PGHOST set, uses that running cluster (migrate installed);
# otherwise starts a throwaway cluster via scripts/lib.sh.  The report goes
# to stdout; progress and errors to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
all_findings=0
for arg in "$@"; do
    case "$arg" in
        --findings) all_findings=1 ;;
        -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

corpus="${MIGRATE_CORPUS_DIR:-$root/../shared/corpus}/crates-io"
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
    echo "SKIP: crates.io corpus not found at $corpus (set MIGRATE_CORPUS_DIR)"
    exit 0
fi
corpus="$(cd "$corpus" && pwd)"

DB=migrate_lint_corpus
work="$(mktemp -d)"
cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf -- "$work"
}
trap cleanup EXIT   # before lib.sh's cluster trap, which composes with it

if [ -z "${PGHOST:-}" ]; then
    # shellcheck source=scripts/lib.sh
    source "$root/scripts/lib.sh"
    migrate_start_cluster >&2
fi
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q -c "CREATE EXTENSION migrate" \
  -c "CREATE TABLE corpus_script (seq integer PRIMARY KEY, name text NOT NULL, script text NOT NULL)"

# --- the up scripts into a table --------------------------------------------------
# One psql script: each text as a dollar-quoted literal whose tag does not
# occur in it (awk reads the files; no shell interpolation).
list="$work/list.tsv"     # seq <TAB> name <TAB> no_tx by the tool <TAB> up file
: >"$list"
while IFS=$'\t' read -r seq _ name no_tx reason _; do
    [ "$seq" = seq ] && continue
    ups=("$corpus/$(printf '%04d' "$seq")_"*.up.sql)
    if [ "${#ups[@]}" -ne 1 ] || [ ! -f "${ups[0]}" ]; then
        echo "error: no single up script for seq $seq in $corpus" >&2
        exit 1
    fi
    tool=0
    [ "$no_tx" = 1 ] && [ "$reason" = tool ] && tool=1
    printf '%s\t%s\t%s\t%s\n' "$seq" "$name" "$tool" "${ups[0]}" >>"$list"
done <"$corpus/MANIFEST.tsv"

awk -F'\t' '
function slurp(f,    s, line, n) {
    s = ""; n = 0
    while ((getline line < f) > 0) s = s (n++ ? "\n" : "") line
    close(f)
    return s "\n"
}
function literal(s,    tag, i) {
    tag = "$corpus$"; i = 0
    while (index(s, tag) > 0) tag = "$corpus" (++i) "$"
    return tag s tag
}
function sqlstr(s) { gsub(/'\''/, "'\'''\''", s); return "'\''" s "'\''" }
{
    text = slurp($4)
    if ($3 == 1) text = "-- @transaction: false\n" text
    print "INSERT INTO corpus_script VALUES (" $1 ", " sqlstr($2) ", " literal(text) ");"
}' "$list" >"$work/load.sql"
q -f "$work/load.sql"

# --- lint ---------------------------------------------------------------------------
# a script migrate.lint() cannot lint (it does not parse) is kept apart
q <<'SQL'
CREATE TABLE corpus_finding AS
SELECT s.seq, l.*
FROM corpus_script s, migrate.lint(s.script) l
WHERE false;
CREATE TABLE corpus_failure (seq integer, error text);
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT * FROM corpus_script ORDER BY seq LOOP
        BEGIN
            INSERT INTO corpus_finding SELECT s.seq, l.* FROM migrate.lint(s.script) l;
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO corpus_failure VALUES (s.seq, SQLERRM);
        END;
    END LOOP;
END
$$;
SQL

md() { psql -X -q -A -t -F ' | ' -v ON_ERROR_STOP=1 -d "$DB" -c "$1" | sed 's/^/| /; s/$/ |/'; }

scripts=$(psql -X -A -t -d "$DB" -c "SELECT count(*) FROM corpus_script")
with=$(psql -X -A -t -d "$DB" -c "SELECT count(DISTINCT seq) FROM corpus_finding")
total=$(psql -X -A -t -d "$DB" -c "SELECT count(*) FROM corpus_finding")
failed=$(psql -X -A -t -d "$DB" -c "SELECT count(*) FROM corpus_failure")

echo "crates.io corpus ($corpus): $scripts up scripts linted, $total findings in $with migrations; $failed could not be linted."
echo
echo "| rule | severity | findings | migrations affected |"
echo "|---|---|---:|---:|"
md "SELECT rule, severity, count(*), count(DISTINCT seq)
    FROM corpus_finding GROUP BY rule, severity
    ORDER BY count(*) DESC, rule"
if [ "$failed" -gt 0 ]; then
    echo
    echo "Could not be linted:"
    echo
    psql -X -A -t -d "$DB" -c "SELECT '- ' || lpad(seq::text, 4, '0') || ': ' || error FROM corpus_failure ORDER BY seq"
fi
if [ "$all_findings" = 1 ]; then
    echo
    echo "| seq | migration | rule | statement | line | message |"
    echo "|---:|---|---|---:|---:|---|"
    md "SELECT lpad(f.seq::text, 4, '0'), s.name, f.rule, f.statement, f.line,
               replace(f.message, '|', '\\|')
        FROM corpus_finding f JOIN corpus_script s USING (seq)
        ORDER BY f.seq, f.statement, f.rule"
fi
