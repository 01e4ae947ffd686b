#!/usr/bin/env bash
# test/bench/apply.sh: how much does migrate.apply() cost over plain psql?
#
# Generates N small migrations (CREATE TABLE with 3 columns, CREATE INDEX,
# COMMENT; a different table each) and measures, 3 times each on fresh
# databases:
#   floor    the same SQL concatenated into one file, psql -X -q -1 -f file
#   migrate  SELECT count(*) FROM migrate.apply() after registering all N
#            (registration is timed separately and not part of the ratio)
# and reports the medians and the ratio migrate/floor (target: <= 1.25 at
# N = 1000).
#
# A second case measures the worker path (a plan with a non-transactional
# migration goes to the apply worker, which commits each migration on its
# own): W one-statement migrations (CREATE TABLE) plus one CREATE INDEX
# CONCURRENTLY migration, against
#   floor    psql running the same scripts in one session, each wrapped in
#            BEGIN; ... COMMIT; (the concurrent build on its own)
#   migrate  SELECT count(*) FROM migrate.apply()
# and reports the ratio (target: <= 1.3 at W = 300).  It reports; it does
# not fail on either ratio.
#
# Usage: test/bench/apply.sh [N] [--no-setup]      (or BENCH_N=N)
#   BENCH_REPS=K repeats K times instead of 3.
#   BENCH_WORKER_N=W one-statement migrations in the worker case (300).
#   BENCH_CASES="bulk worker" chooses the cases (default both).
#   With PGHOST set, uses that running cluster (migrate installed already).
#   Otherwise starts a throwaway cluster via scripts/lib.sh, after installing
#   dependencies and building unless --no-setup is given.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_N:-1000}"
REPS="${BENCH_REPS:-3}"
W="${BENCH_WORKER_N:-300}"
CASES="${BENCH_CASES:-bulk worker}"
setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}"; exit 0 ;;
        ''|*[!0-9]*) echo "unknown argument: $arg" >&2; exit 2 ;;
        *) N="$arg" ;;
    esac
done
[ "$N" -ge 1 ] || { echo "N must be at least 1" >&2; exit 2; }

work="$(mktemp -d)"
bench_cleanup() {
    local i
    for i in $(seq 1 "$REPS"); do
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS bench_floor_$i" \
             -c "DROP DATABASE IF EXISTS bench_migrate_$i" \
             -c "DROP DATABASE IF EXISTS bench_wfloor_$i" \
             -c "DROP DATABASE IF EXISTS bench_wmigrate_$i" >/dev/null 2>&1 || true
    done
    rm -rf -- "$work"
}
trap bench_cleanup EXIT   # set before lib.sh's trap, which composes with it

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# one transaction takes ~5 relation locks per migration (table, primary
# key, toast table and index, second index): size the lock table for it
migrate_bench_cluster "$setup" "max_locks_per_transaction = $(( N / 10 + 64 ))"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
now_ns() { date +%s%N; }

# --- generate the migrations --------------------------------------------------
# The script controls this text completely, so dollar quoting is safe here.
echo "generating $N migrations in $work"
# start_files FLOOR_SQL REGISTER_SQL: an empty floor script, and a
# registration script that opens its transaction
start_files() {
    : >"$1"
    printf 'SET client_min_messages = warning;\nBEGIN;\n' >"$2"
}
# register_call VERSION NAME UP DOWN: the migrate.register() call
register_call() {
    printf "SELECT migrate.register('%s', '%s', \$mig\$%s\$mig\$, \$mig\$%s\$mig\$);\n" "$@"
}

floor_sql="$work/floor.sql"
register_sql="$work/register.sql"
start_files "$floor_sql" "$register_sql"
for i in $(seq 1 "$N"); do
    t=$(printf 'bench_t%05d' "$i")
    v=$(printf '2025%010d' "$i")
    up="CREATE TABLE $t (
    id         bigint PRIMARY KEY,
    label      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ${t}_label_idx ON $t (label);
COMMENT ON TABLE $t IS 'benchmark table $i of $N';
"
    printf '%s' "$up" >>"$floor_sql"
    register_call "$v" "create_$t" "$up" "DROP TABLE $t;"$'\n' >>"$register_sql"
done
echo "COMMIT;" >>"$register_sql"

# --- measure ------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }

# time_ns COMMAND...: run it after a checkpoint; its duration in LAST_NS
time_ns() {
    local t0
    q -d postgres -c CHECKPOINT
    t0=$(now_ns)
    "$@"
    LAST_NS=$(( $(now_ns) - t0 ))
}

# apply_all DB EXPECTED: SELECT count(*) FROM migrate.apply(), which must
# apply EXPECTED migrations
apply_all() {
    local applied
    applied=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" \
                   -c "SET migrate.progress_level = 'debug1'" \
                   -c 'SELECT count(*) FROM migrate.apply()')
    if [ "$applied" != "$2" ]; then
        echo "error: migrate.apply() applied $applied migrations, expected $2" >&2
        exit 1
    fi
}

# ratio_of M F: M / F with two decimals; verdict M F TARGET: against it
ratio_of() { awk -v m="$1" -v f="$2" 'BEGIN { printf "%.2f", m / f }'; }
verdict() {
    awk -v m="$1" -v f="$2" -v t="$3" 'BEGIN { print (m / f <= t) ? "within target" : "ABOVE target" }'
}

# repeat_case TAG FLOOR_FN MIGRATE_FN REPORT_FN: REPS times, on fresh
# databases bench_TAGfloor_i and bench_TAGmigrate_i (migrate installed in
# the second), FLOOR_FN and MIGRATE_FN each given its database, in
# alternating order so that neither side always runs on a warmer cache;
# then REPORT_FN i
repeat_case() {
    local tag="$1" floor_fn="$2" migrate_fn="$3" report_fn="$4" i fdb mdb
    for i in $(seq 1 "$REPS"); do
        fdb="bench_${tag}floor_$i" mdb="bench_${tag}migrate_$i"
        q -d postgres -c "DROP DATABASE IF EXISTS $fdb" -c "DROP DATABASE IF EXISTS $mdb" \
                      -c "CREATE DATABASE $fdb" -c "CREATE DATABASE $mdb"
        q -d "$mdb" -c 'CREATE EXTENSION migrate'
        if [ $(( i % 2 )) -eq 1 ]; then
            "$floor_fn" "$fdb"; "$migrate_fn" "$mdb"
        else
            "$migrate_fn" "$mdb"; "$floor_fn" "$fdb"
        fi
        "$report_fn" "$i"
        q -d postgres -c "DROP DATABASE $fdb" -c "DROP DATABASE $mdb"
    done
}

# --- the bulk case: N migrations in one transaction ---------------------------
run_floor() {   # (a) the floor: plain psql, one transaction
    time_ns psql -X -q -1 -v ON_ERROR_STOP=1 -d "$1" -f "$floor_sql"
    floor_ns+=("$LAST_NS")
}

run_migrate() {   # (b) register (reported only), then apply (compared)
    local t0
    t0=$(now_ns)
    q -d "$1" -f "$register_sql" >/dev/null
    register_ns+=($(( $(now_ns) - t0 )))
    time_ns apply_all "$1" "$N"
    migrate_ns+=("$LAST_NS")
}

report_bulk_run() {
    printf 'run %d: floor %s ms, register %s ms, apply %s ms\n' "$1" \
        "$(ms "${floor_ns[-1]}")" "$(ms "${register_ns[-1]}")" "$(ms "${migrate_ns[-1]}")"
}

bulk_case() {
    local f m r
    floor_ns=() migrate_ns=() register_ns=()
    repeat_case "" run_floor run_migrate report_bulk_run
    f=$(median "${floor_ns[@]}")
    m=$(median "${migrate_ns[@]}")
    r=$(median "${register_ns[@]}")
    echo
    echo "PostgreSQL:        $(psql -X -A -t -d postgres -c 'SHOW server_version')"
    echo "migrations (N):    $N  (median of $REPS runs, fresh databases each)"
    echo "floor (psql -1):   $(ms "$f") ms"
    echo "migrate.apply():   $(ms "$m") ms"
    echo "register (all N):  $(ms "$r") ms  (not part of the ratio)"
    echo "ratio apply/floor: $(ratio_of "$m" "$f")  (target <= 1.25 at N = 1000: $(verdict "$m" "$f" 1.25))"
}

# --- the worker path ------------------------------------------------------------
# W one-statement migrations and one concurrent index build, which sends the
# whole plan to the apply worker; the floor is psql running the same scripts
# one transaction each, in one session.
worker_dir="$work/worker"
worker_floor_sql="$worker_dir/floor.sql"
worker_register_sql="$worker_dir/register.sql"
generate_worker_case() {
    local i t v up index
    mkdir -p "$worker_dir"
    start_files "$worker_floor_sql" "$worker_register_sql"
    for i in $(seq 1 "$W"); do
        t=$(printf 'bench_w%05d' "$i")
        v=$(printf '2025%010d' "$i")
        up="CREATE TABLE $t (id bigint, label text);"
        printf 'BEGIN;\n%s\nCOMMIT;\n' "$up" >>"$worker_floor_sql"
        register_call "$v" "create_$t" "$up" "DROP TABLE $t;" >>"$worker_register_sql"
    done
    index="CREATE INDEX CONCURRENTLY bench_w00001_label_idx ON bench_w00001 (label);"
    printf '%s\n' "$index" >>"$worker_floor_sql"
    register_call "$(printf '2025%010d' $(( W + 1 )))" index_bench_w00001 "$index" \
        "DROP INDEX CONCURRENTLY bench_w00001_label_idx;" >>"$worker_register_sql"
    echo "COMMIT;" >>"$worker_register_sql"
}

run_worker_floor() {   # (a) the floor: psql, one transaction per script
    time_ns q -d "$1" -f "$worker_floor_sql"
    wfloor_ns+=("$LAST_NS")
}

run_worker_migrate() {   # (b) register (not timed), then apply
    q -d "$1" -f "$worker_register_sql" >/dev/null
    time_ns apply_all "$1" $(( W + 1 ))
    wmigrate_ns+=("$LAST_NS")
}

report_worker_run() {
    wratio+=("$(ratio_of "${wmigrate_ns[-1]}" "${wfloor_ns[-1]}")")
    printf 'worker run %d: floor %s ms, apply %s ms, ratio %s\n' "$1" \
        "$(ms "${wfloor_ns[-1]}")" "$(ms "${wmigrate_ns[-1]}")" "${wratio[-1]}"
}

worker_case() {
    local f m r
    generate_worker_case
    wfloor_ns=() wmigrate_ns=() wratio=()
    repeat_case w run_worker_floor run_worker_migrate report_worker_run
    f=$(median "${wfloor_ns[@]}")
    m=$(median "${wmigrate_ns[@]}")
    # each run's ratio is against the floor measured beside it, which
    # keeps a loaded machine's drift between runs out of it
    r=$(median "${wratio[@]}")
    echo
    echo "worker path:       $W one-statement migrations + 1 CREATE INDEX CONCURRENTLY"
    echo "                   (median of $REPS runs, fresh databases each)"
    echo "floor (psql, BEGIN/COMMIT each, one session): $(ms "$f") ms"
    echo "migrate.apply() via the apply worker:         $(ms "$m") ms"
    echo "ratio apply/floor: $r  (median of the runs' ratios; target <= 1.3 at W = 300: $(verdict "$r" 1 1.3))"
}

for c in $CASES; do
    case "$c" in
        bulk) bulk_case ;;
        worker) worker_case ;;
        *) echo "unknown case: $c" >&2; exit 2 ;;
    esac
done
