#!/usr/bin/env bash
# test/bench/cli.sh: how fast is the pg_migrate client against its floors?
#
# Three cases, each reported as a ratio against a floor measured in the same
# run (never a pass/fail: this is a benchmark, not a test):
#
#   first   a first deploy of N files (default 1,000; the same small
#           migrations as apply.sh: CREATE TABLE with 3 columns, CREATE
#           INDEX, COMMENT), in the project's own layout:
#             floor       psql -X -q -1 -f of the up scripts concatenated
#             pg_migrate  pg_migrate up (reading, registering and applying)
#           target <= 1.3x; also dbmate up and sql-migrate up of the same
#           scripts when they are installed (see below)
#   noop    pg_migrate up with nothing to do, for 1,000 and 10,000 files
#           (everything registered and applied before), against the
#           connection floor psql -X -c 'SELECT 1'; target <= 1.5x at 10,000
#   status  pg_migrate status for the same databases, against the same floor
#   noop and status run three ways, each against the floor measured beside
#   it: with the checksum cache (the default: the runs after the first use
#   it), with --no-cache (every file read and hashed), and, when
#   BENCH_BASELINE names another pg_migrate binary (an older build), that
#   binary: before/after figures from one run.
#
# Medians of BENCH_REPS runs (default 3 for first, 7 for noop and status);
# fresh databases for each first-deploy run, floor and tool runs
# alternating so that neither always runs on a warmer cache.
#
# dbmate and sql-migrate: used when found in PATH (or dbmate in
# BENCH_DBMATE).  They install from the package registries:
#     apt-get install sql-migrate              (Debian bookworm: sql-migrate)
#     npm install --prefix /tmp/dbmate dbmate  (then BENCH_DBMATE=/tmp/dbmate/node_modules/.bin/dbmate)
# Without them the comparison is skipped with a note.
#
# Usage: test/bench/cli.sh [N] [--no-setup]   (or BENCH_N=N)
#   BENCH_BASELINE=/path/to/an/older/pg_migrate adds its noop and status
#   figures to the same run (before/after).
#   BENCH_CASES="first noop status" chooses the cases; BENCH_NOOP_SIZES
#   (default "1000 10000") the file counts of noop and status.
#   With PGHOST set, uses that running cluster (migrate and pg_migrate
#   installed already).  Otherwise starts a throwaway cluster via
#   scripts/lib.sh, after installing dependencies and building unless
#   --no-setup is given.
# Takes about 2-4 minutes on 2 cores (the 10,000-file deploy that noop
# prepares is most of it); not part of scripts/test.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_N:-1000}"
REPS="${BENCH_REPS:-3}"
QREPS="${BENCH_REPS:-7}"
CASES="${BENCH_CASES:-first noop status}"
SIZES="${BENCH_NOOP_SIZES:-1000 10000}"
setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,44p' "${BASH_SOURCE[0]}"; exit 0 ;;
        ''|*[!0-9]*) echo "unknown argument: $arg" >&2; exit 2 ;;
        *) N="$arg" ;;
    esac
done
[ "$N" -ge 1 ] || { echo "N must be at least 1" >&2; exit 2; }

work="$(mktemp -d)"
chmod 0755 "$work"
bench_cleanup() {
    local db
    for db in $(psql -X -A -t -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'bench_cli_%'" 2>/dev/null); do
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf -- "$work"
}
trap bench_cleanup EXIT   # set before lib.sh's trap, which composes with it

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# the floor runs N migrations in one transaction (~5 relation locks each):
# size the lock table for it, as apply.sh does
migrate_bench_cluster "$setup" "max_locks_per_transaction = $(( N / 10 + 64 ))"
command -v pg_migrate >/dev/null || { echo "pg_migrate is not installed (make install)" >&2; exit 1; }

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
ratio_of() { awk -v m="$1" -v f="$2" 'BEGIN { printf "%.2f", m / f }'; }
verdict() {
    awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "within target" : "ABOVE target" }'
}
# time_ns COMMAND...: its duration in LAST_NS (output discarded; a
# failure stops the benchmark, since its numbers would mean nothing)
time_ns() {
    local t0
    t0=$(now_ns)
    if ! "$@" >"$work/last.out" 2>"$work/last.err"; then
        echo "error: $* failed:" >&2
        tail -n 20 "$work/last.err" >&2
        exit 1
    fi
    LAST_NS=$(( $(now_ns) - t0 ))
}
fresh_db() {   # fresh_db NAME [extension]
    q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
    [ "${2:-}" != extension ] || q -d "$1" -c 'CREATE EXTENSION migrate'
}
conninfo() { echo "host=$PGHOST port=${PGPORT:-5432} dbname=$1"; }

# --- the migrations -------------------------------------------------------------
# generate DIR COUNT KIND: the project's own layout in DIR/migrations, the
# concatenation in DIR/floor.sql, dbmate's files in DIR/dbmate and
# sql-migrate's in DIR/sqlmigrate.  KIND table: apply.sh's migrations;
# KIND small: one CREATE TABLE of one column each (the noop case only needs
# many files registered and applied, quickly)
generate() {
    local dir="$1" count="$2" kind="$3" i t v up down
    mkdir -p "$dir/migrations" "$dir/dbmate" "$dir/sqlmigrate"
    : >"$dir/floor.sql"
    for i in $(seq 1 "$count"); do
        t=$(printf 'bench_t%05d' "$i")
        v=$(printf '2025%010d' "$i")
        if [ "$kind" = table ]; then
            up="CREATE TABLE $t (
    id         bigint PRIMARY KEY,
    label      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ${t}_label_idx ON $t (label);
COMMENT ON TABLE $t IS 'benchmark table $i of $count';
"
        else
            up="CREATE TABLE $t (id integer);
"
        fi
        down="DROP TABLE $t;
"
        printf '%s' "$up" >"$dir/migrations/${v}__create_$t.up.sql"
        printf '%s' "$down" >"$dir/migrations/${v}__create_$t.down.sql"
        printf '%s' "$up" >>"$dir/floor.sql"
        printf -- '-- migrate:up\n%s\n-- migrate:down\n%s' "$up" "$down" >"$dir/dbmate/${v}_create_$t.sql"
        printf -- '-- +migrate Up\n%s\n-- +migrate Down\n%s' "$up" "$down" >"$dir/sqlmigrate/${v}_create_$t.sql"
    done
}

# --- the other tools ---------------------------------------------------------------
DBMATE="${BENCH_DBMATE:-$(command -v dbmate || true)}"
SQLMIGRATE="$(command -v sql-migrate || true)"
run_dbmate() {   # run_dbmate DB DIR
    DATABASE_URL="postgres://${PGUSER:-postgres}@localhost:${PGPORT:-5432}/$1?socket=$PGHOST&sslmode=disable" \
        "$DBMATE" --migrations-dir "$2/dbmate" --no-dump-schema up
}
run_sqlmigrate() {   # run_sqlmigrate DB DIR
    cat >"$2/dbconfig.yml" <<YML
bench:
  dialect: postgres
  datasource: host=$PGHOST port=${PGPORT:-5432} user=${PGUSER:-postgres} dbname=$1 sslmode=disable
  dir: $2/sqlmigrate
  table: gorp_migrations
YML
    "$SQLMIGRATE" up -config="$2/dbconfig.yml" -env=bench
}

# --- first: a first deploy of N files ----------------------------------------------
first_case() {
    local dir="$work/first" i order f m d s r
    local floor_ns=() pgm_ns=() dbmate_ns=() sqlm_ns=()
    local pgm_ratio=() dbmate_ratio=() sqlm_ratio=()
    echo "generating $N migrations in $dir"
    generate "$dir" "$N" table
    for i in $(seq 1 "$REPS"); do
        fresh_db bench_cli_floor
        fresh_db bench_cli_pgm extension
        if [ $(( i % 2 )) -eq 1 ]; then order="floor pgm"; else order="pgm floor"; fi
        for f in $order; do
            q -d postgres -c CHECKPOINT
            case "$f" in
                floor) time_ns psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_cli_floor -f "$dir/floor.sql"
                       floor_ns+=("$LAST_NS") ;;
                pgm)   time_ns pg_migrate -d "$(conninfo bench_cli_pgm)" --dir "$dir/migrations" --quiet up
                       pgm_ns+=("$LAST_NS") ;;
            esac
        done
        [ "$(psql -X -A -t -d bench_cli_pgm -c "SELECT count(*) FROM migrate.migration WHERE state = 'applied'")" = "$N" ] ||
            { echo "error: pg_migrate up did not apply all $N migrations" >&2; exit 1; }
        pgm_ratio+=("$(ratio_of "${pgm_ns[-1]}" "${floor_ns[-1]}")")
        printf 'run %d: floor %s ms, pg_migrate up %s ms (%sx)\n' "$i" "$(ms "${floor_ns[-1]}")" \
            "$(ms "${pgm_ns[-1]}")" "${pgm_ratio[-1]}"
        if [ -n "$DBMATE" ]; then
            fresh_db bench_cli_dbmate
            q -d postgres -c CHECKPOINT
            time_ns run_dbmate bench_cli_dbmate "$dir"
            dbmate_ns+=("$LAST_NS")
            dbmate_ratio+=("$(ratio_of "$LAST_NS" "${floor_ns[-1]}")")
            printf '       dbmate up %s ms (%sx)\n' "$(ms "$LAST_NS")" "${dbmate_ratio[-1]}"
        fi
        if [ -n "$SQLMIGRATE" ]; then
            fresh_db bench_cli_sqlm
            q -d postgres -c CHECKPOINT
            time_ns run_sqlmigrate bench_cli_sqlm "$dir"
            sqlm_ns+=("$LAST_NS")
            sqlm_ratio+=("$(ratio_of "$LAST_NS" "${floor_ns[-1]}")")
            printf '       sql-migrate up %s ms (%sx)\n' "$(ms "$LAST_NS")" "${sqlm_ratio[-1]}"
        fi
    done
    # each run's ratio is against the floor measured beside it, which
    # keeps a loaded machine's drift between runs out of it
    f=$(median "${floor_ns[@]}")
    m=$(median "${pgm_ns[@]}")
    r=$(median "${pgm_ratio[@]}")
    echo
    echo "first deploy of $N files (median of $REPS runs, fresh databases each;"
    echo "ratios: the median of the runs' ratios against their own floor)"
    echo "  floor (psql -1 -f, concatenated): $(ms "$f") ms"
    echo "  pg_migrate up:                    $(ms "$m") ms  ratio $r  (target <= 1.3: $(verdict "$r" 1.3))"
    if [ -n "$DBMATE" ]; then
        d=$(median "${dbmate_ns[@]}")
        echo "  dbmate up:                        $(ms "$d") ms  ratio $(median "${dbmate_ratio[@]}")"
    else
        echo "  dbmate: not installed (npm install dbmate; BENCH_DBMATE=...): skipped"
    fi
    if [ -n "$SQLMIGRATE" ]; then
        s=$(median "${sqlm_ns[@]}")
        echo "  sql-migrate up:                   $(ms "$s") ms  ratio $(median "${sqlm_ratio[@]}")"
    else
        echo "  sql-migrate: not installed (apt-get install sql-migrate): skipped"
    fi
    echo
}

# --- noop and status: nothing to do, M files -------------------------------------------
prepared=""
prepare_noop() {   # prepare_noop M: a database with M files registered and applied
    local size="$1" dir="$work/noop_$1" t0
    case " $prepared " in *" $size "*) return 0 ;; esac
    echo "preparing: $size files registered and applied (pg_migrate up, not timed)"
    generate "$dir" "$size" small
    fresh_db "bench_cli_noop_$size" extension
    t0=$(now_ns)
    pg_migrate -d "$(conninfo "bench_cli_noop_$size")" --dir "$dir/migrations" --quiet up
    echo "  (deployed in $(ms $(( $(now_ns) - t0 ))) ms)"
    prepared="$prepared $size"
}

# the checksum cache of the benchmark's runs, not the user's
export PGMIGRATE_CACHE_DIR="$work/cache"
BASELINE="${BENCH_BASELINE:-}"

# quick_case LABEL COMMAND...: the median of QREPS runs of the floor and of
# pg_migrate COMMAND, for every size and every variant (cache, --no-cache,
# BENCH_BASELINE); the ratio of each run against the floor measured beside
# it.  One run of each variant first, untimed: it writes the cache the
# timed runs of the default variant use.
quick_case() {
    local label="$1" size i dir db r variant bin extra name
    shift
    for size in $SIZES; do
        prepare_noop "$size"
        dir="$work/noop_$size" db="bench_cli_noop_$size"
        # files younger than 2 s are not cached (bin/cache.c)
        sleep 2
        for variant in cache no-cache ${BASELINE:+baseline}; do
            case "$variant" in
                cache)    bin=pg_migrate extra=() name="pg_migrate $*" ;;
                no-cache) bin=pg_migrate extra=(--no-cache) name="pg_migrate $* --no-cache" ;;
                baseline) bin="$BASELINE" extra=() name="baseline $*" ;;
            esac
            time_ns "$bin" -d "$(conninfo "$db")" --dir "$dir/migrations" "${extra[@]}" "$@"
            local floor_ns=() pgm_ns=() ratios=()
            for i in $(seq 1 "$QREPS"); do
                time_ns psql -X -q -d "$db" -c 'SELECT 1'
                floor_ns+=("$LAST_NS")
                time_ns "$bin" -d "$(conninfo "$db")" --dir "$dir/migrations" "${extra[@]}" "$@"
                pgm_ns+=("$LAST_NS")
                ratios+=("$(ratio_of "${pgm_ns[-1]}" "${floor_ns[-1]}")")
            done
            r=$(median "${ratios[@]}")
            printf '%-32s %6d files: floor %7s ms, %8s ms, ratio %5s' \
                "$name" "$size" "$(ms "$(median "${floor_ns[@]}")")" \
                "$(ms "$(median "${pgm_ns[@]}")")" "$r"
            if [ "$size" = 10000 ] && [ "$variant" = cache ]; then
                printf '  (target <= 1.5 at 10,000: %s)' "$(verdict "$r" 1.5)"
            fi
            printf '\n'
        done
    done
    : "$label"
}

echo "PostgreSQL $(psql -X -A -t -d postgres -c 'SHOW server_version'), $(pg_migrate --version)"
for c in $CASES; do
    case "$c" in
        first) first_case ;;
        noop) echo "nothing to do (median of $QREPS runs; floor: psql -X -c 'SELECT 1', a connection)"
              quick_case noop up ;;
        status) quick_case status status ;;
        *) echo "unknown case: $c" >&2; exit 2 ;;
    esac
done
