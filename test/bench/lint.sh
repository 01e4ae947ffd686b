#!/usr/bin/env bash
# test/bench/lint.sh: how long do migrate.lint() and migrate.analyze() take
# on a long script, against migrate.statements(), which only parses it?
#
# Generates one script of N statements (default 10,000) in a mix a real
# history has, ten kinds in turn:
#   CREATE TABLE (identity key, text, timestamptz), CREATE INDEX and
#   ALTER TABLE ADD COLUMN / ADD CONSTRAINT CHECK / COMMENT ON / CREATE VIEW
#   on the tables the script creates; ALTER TABLE ADD COLUMN, CREATE INDEX,
#   ADD FOREIGN KEY ... NOT VALID and UPDATE on 50 tables that exist
#   before it (1,000 rows each), so that the catalog is asked too.
# The script is stored once in a table; one session then runs, after a
# warm-up of each, K times in turn (default 5):
#   statements  SELECT count(*) FROM migrate.statements(script)   (the floor)
#   lint        SELECT count(*) FROM migrate.lint(script)
#   analyze     SELECT count(*) FROM migrate.analyze(script)
# and reports the median of each (psql's \timing), lint and analyze as a
# ratio against statements, and the target of issue 12 (lint and analyze
# of 10,000 statements under 1 s each).  Nothing of the script runs.  It
# reports; it does not fail on the target.
#
# Usage: test/bench/lint.sh [N] [--no-setup]      (or BENCH_N=N)
#   BENCH_REPS=K measures K times instead of 5.
#   With PGHOST set, uses that running cluster (migrate installed already).
#   Otherwise starts a throwaway cluster via scripts/lib.sh, after installing
#   dependencies and building unless --no-setup is given.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_N:-10000}"
REPS="${BENCH_REPS:-5}"
DB=bench_lint
setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}"; exit 0 ;;
        ''|*[!0-9]*) echo "unknown argument: $arg" >&2; exit 2 ;;
        *) N="$arg" ;;
    esac
done
[ "$N" -ge 1 ] || { echo "N must be at least 1" >&2; exit 2; }
[ "$REPS" -ge 1 ] || { echo "BENCH_REPS must be at least 1" >&2; exit 2; }

work="$(mktemp -d)"
bench_cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf -- "$work"
}
trap bench_cleanup EXIT   # set before lib.sh's trap, which composes with it

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
migrate_bench_cluster "$setup"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# --- the database: 50 existing tables with rows ---------------------------------
q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q -d "$DB" -c "CREATE EXTENSION migrate"
q -d "$DB" <<'SQL'
DO $$
BEGIN
    FOR k IN 1..50 LOOP
        EXECUTE format('CREATE TABLE bench_existing_%s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint NOT NULL, status text NOT NULL DEFAULT %L)', k, 'new');
        EXECUTE format('INSERT INTO bench_existing_%s (account_id) SELECT g FROM generate_series(1, 1000) g', k);
    END LOOP;
END
$$;
VACUUM ANALYZE;
CREATE TABLE bench_script (script text NOT NULL);
SQL

# --- the script -------------------------------------------------------------------
script="$work/script.sql"
awk -v n="$N" 'BEGIN {
    for (i = 0; i < n; i++) {
        g = int(i / 10); t = sprintf("bench_t%05d", g); e = "bench_existing_" (g % 50 + 1)
        k = i % 10
        if (k == 0) print "CREATE TABLE " t " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());"
        else if (k == 1) print "CREATE INDEX " t "_name_idx ON " t " (name);"
        else if (k == 2) print "ALTER TABLE " t " ADD COLUMN note text;"
        else if (k == 3) print "ALTER TABLE " e " ADD COLUMN c" g " bigint;"
        else if (k == 4) print "CREATE INDEX " e "_c" g "_idx ON " e " (c" g ");"
        else if (k == 5) print "ALTER TABLE " t " ADD CONSTRAINT " t "_name_check CHECK (name <> '\'''\'');"
        else if (k == 6) print "COMMENT ON TABLE " t " IS '\''generated for the lint benchmark'\'';"
        else if (k == 7) print "CREATE VIEW " t "_v AS SELECT id, name FROM " t ";"
        else if (k == 8) print "ALTER TABLE " e " ADD CONSTRAINT " e "_c" g "_fk FOREIGN KEY (c" g ") REFERENCES " t " (id) NOT VALID;"
        else print "UPDATE " e " SET status = '\''old'\'' WHERE id = " g ";"
    }
}' >"$script"
echo "generated $N statements ($(wc -c <"$script") bytes) in $script"
# the script into the table, as one value (psql reads it from the file)
q -d "$DB" -v script_file="$script" <<'SQL'
\set script `cat :script_file`
INSERT INTO bench_script VALUES (:'script');
SQL
q -d "$DB" -A -t -c "SELECT 'statements: ' || count(*) FROM bench_script b, migrate.statements(b.script)"

# --- measure ------------------------------------------------------------------------
# One session; the three take turns, so that a shared machine's load falls
# on each alike; psql's \timing gives each statement's time.
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
queries=(
    "statements|SELECT count(*) FROM bench_script b, migrate.statements(b.script);"
    "lint|SELECT count(*) FROM bench_script b, migrate.lint(b.script);"
    "analyze|SELECT count(*) FROM bench_script b, migrate.analyze(b.script);"
)
{
    for qq in "${queries[@]}"; do echo "${qq#*|}"; done     # warm-up
    printf '%s\n' '\timing on'
    for _ in $(seq 1 "$REPS"); do
        for qq in "${queries[@]}"; do
            printf '%s\n' "\\echo ${qq%%|*}" "${qq#*|}"
        done
    done
} >"$work/measure.sql"
psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" -f "$work/measure.sql" >"$work/measure.out"

# the lines are: label, result, "Time: X ms"
times_of() {
    awk -v label="$1" '$0 == label { want = 1; next }
                       want && /^Time: / { print $2; want = 0 }' "$work/measure.out"
}
mapfile -t st_ms < <(times_of statements)
mapfile -t li_ms < <(times_of lint)
mapfile -t an_ms < <(times_of analyze)
if [ "${#st_ms[@]}" != "$REPS" ] || [ "${#li_ms[@]}" != "$REPS" ] || [ "${#an_ms[@]}" != "$REPS" ]; then
    echo "error: could not read the timings" >&2
    cat "$work/measure.out" >&2
    exit 1
fi
st=$(median "${st_ms[@]}")
li=$(median "${li_ms[@]}")
an=$(median "${an_ms[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
verdict() { awk -v m="$1" 'BEGIN { print (m < 1000) ? "within target" : "ABOVE target" }'; }
findings=$(psql -X -A -t -d "$DB" -c "SELECT coalesce(sum(n), 0) || ' (' || coalesce(string_agg(rule || ' ' || n, ', ' ORDER BY rule), 'none') || ')'
                                       FROM (SELECT l.rule, count(*) AS n FROM bench_script b, migrate.lint(b.script) l
                                             GROUP BY l.rule) r")
rows=$(psql -X -A -t -d "$DB" -c "SELECT count(*) FROM bench_script b, migrate.analyze(b.script)")

echo
echo "PostgreSQL:          $(psql -X -A -t -d postgres -c 'SHOW server_version')"
echo "statements (N):      $N  (10 kinds in turn; 50 existing tables of 1,000 rows)"
echo "findings:            $findings"
echo "analyze rows:        $rows"
echo "statements():        $st ms  median of $REPS  (runs: ${st_ms[*]})"
echo "lint():              $li ms  median of $REPS  (runs: ${li_ms[*]})  ratio $(ratio "$li" "$st")"
echo "analyze():           $an ms  median of $REPS  (runs: ${an_ms[*]})  ratio $(ratio "$an" "$st")"
echo "target:              lint() < 1000 ms: $(verdict "$li"); analyze() < 1000 ms: $(verdict "$an")"
