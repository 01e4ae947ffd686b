#!/usr/bin/env bash
# test/bench/drift.sh: what does drift capture cost?
#
# Case "trigger": N CREATE TABLE statements (3 columns and a primary key,
# each in its own transaction, synchronous_commit off so that the disk's
# flushes do not drown the difference) on three fresh databases, in
# chunks of 100 that take turns between the databases (so that a change
# in the machine's load hits all three alike):
#   none  migrate not installed (no event trigger at all)
#   off   migrate installed, migrate.capture_drift = off (the triggers fire
#         and return at once)
#   on    migrate installed, capture on: one drift_log row per object
# and reports the medians and the ratios on/off and on/none.
#
# Case "snapshot": M small migrations (CREATE TABLE, CREATE INDEX,
# COMMENT) applied with one SELECT migrate.apply(), on two fresh databases:
# one as installed (apply() records the schema in migrate.schema_state at
# its end) and one whose migrate.schema_state is renamed away (the record
# is skipped, as on a 1.0 catalog); reports apply()'s medians and ratio,
# and the time of one record (migrate.record_schema_state()) on the
# resulting schema.  The record scans schema_objects() once: its cost
# grows with the whole schema, not with the number of migrations.
#
# It reports; it does not fail on any ratio.
#
# Usage: test/bench/drift.sh [--no-setup]
#   BENCH_N (1000) statements, BENCH_M (100) migrations, BENCH_REPS (3).
#   BENCH_CASES="trigger snapshot" chooses the cases (default both).
#   With PGHOST set, uses that running cluster; otherwise starts a
#   throwaway cluster via scripts/lib.sh (building first unless
#   --no-setup).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_N:-1000}"
M="${BENCH_M:-100}"
REPS="${BENCH_REPS:-3}"
CASES="${BENCH_CASES:-trigger snapshot}"
setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

work="$(mktemp -d)"
dbs=(bench_drift_none bench_drift_off bench_drift_on bench_snap_on bench_snap_off)
bench_cleanup() {
    local db
    for db in "${dbs[@]}"; do
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    done
    rm -rf -- "$work"
}
trap bench_cleanup EXIT   # set before lib.sh's trap, which composes with it

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
migrate_bench_cluster "$setup"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# time_ns COMMAND...: run it after a checkpoint; its duration in LAST_NS
time_ns() {
    local t0
    q -d postgres -c CHECKPOINT
    t0=$(now_ns)
    "$@"
    LAST_NS=$(( $(now_ns) - t0 ))
}

fresh_db() {   # fresh_db NAME [with_migrate]
    q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
    if [ "${2:-}" = with_migrate ]; then
        q -d "$1" -c 'CREATE EXTENSION migrate'
    fi
}

# --- case "trigger" -------------------------------------------------------------
CHUNK=100
chunks=$(( (N + CHUNK - 1) / CHUNK ))
for c in $(seq 1 "$chunks"); do
    for i in $(seq $(( (c - 1) * CHUNK + 1 )) $(( c * CHUNK < N ? c * CHUNK : N ))); do
        printf 'CREATE TABLE bench_d%05d (id bigint PRIMARY KEY, label text NOT NULL, at timestamptz);\n' "$i"
    done >"$work/ddl_$c.sql"
done

# run_chunk DB SETTING C: chunk C in DB; its duration in LAST_NS
run_chunk() {
    local t0
    t0=$(now_ns)
    env PGOPTIONS="$PGOPTIONS -c synchronous_commit=off $2" \
        psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$work/ddl_$3.sql"
    LAST_NS=$(( $(now_ns) - t0 ))
}

# run_ddl_turns: every chunk in the three databases, in turns; the sums in
# NONE_NS, OFF_NS, ON_NS
run_ddl_turns() {
    local c
    NONE_NS=0 OFF_NS=0 ON_NS=0
    q -d postgres -c CHECKPOINT
    for c in $(seq 1 "$chunks"); do
        run_chunk bench_drift_none "" "$c"; NONE_NS=$(( NONE_NS + LAST_NS ))
        run_chunk bench_drift_off "-c migrate.capture_drift=off" "$c"; OFF_NS=$(( OFF_NS + LAST_NS ))
        run_chunk bench_drift_on "" "$c"; ON_NS=$(( ON_NS + LAST_NS ))
    done
}

trigger_case() {
    local i none=() off=() on=() rows
    for i in $(seq 1 "$REPS"); do
        fresh_db bench_drift_none
        fresh_db bench_drift_off with_migrate
        fresh_db bench_drift_on with_migrate
        # nothing is logged before migrate recorded a schema: record one
        q -d bench_drift_on -c "SELECT migrate.acknowledge_drift('bench')" >/dev/null
        q -d bench_drift_off -c "SELECT migrate.acknowledge_drift('bench')" >/dev/null
        run_ddl_turns
        none+=("$NONE_NS") off+=("$OFF_NS") on+=("$ON_NS")
        rows=$(psql -X -A -t -d bench_drift_on -c 'SELECT count(*) FROM migrate.drift_log')
        [ "$rows" -ge "$N" ] || { echo "error: only $rows drift_log rows for $N statements" >&2; exit 1; }
        printf 'run %d: none %s ms, off %s ms, on %s ms (%s log rows)\n' "$i" \
            "$(ms "${none[-1]}")" "$(ms "${off[-1]}")" "$(ms "${on[-1]}")" "$rows"
    done
    local n f o
    n=$(median "${none[@]}") f=$(median "${off[@]}") o=$(median "${on[@]}")
    echo
    echo "CREATE TABLE x $N, one transaction each, in turns of $CHUNK (median of $REPS runs):"
    echo "  no extension:        $(ms "$n") ms"
    echo "  capture_drift = off: $(ms "$f") ms"
    echo "  capture_drift = on:  $(ms "$o") ms"
    echo "  ratio on/off:        $(ratio_of "$o" "$f")"
    echo "  ratio on/none:       $(ratio_of "$o" "$n")"
}

# --- case "snapshot" ------------------------------------------------------------
register_sql="$work/register.sql"
{
    printf 'SET client_min_messages = warning;\nBEGIN;\n'
    for i in $(seq 1 "$M"); do
        t=$(printf 'bench_s%04d' "$i")
        printf "SELECT migrate.register('%s', '%s', \$m\$CREATE TABLE %s (id bigint PRIMARY KEY, label text NOT NULL); CREATE INDEX %s_label ON %s (label); COMMENT ON TABLE %s IS 'bench';\$m\$, \$m\$DROP TABLE %s;\$m\$);\n" \
            "$(printf '2025%06d' "$i")" "create_$t" "$t" "$t" "$t" "$t" "$t"
    done
    echo "COMMIT;"
} >"$register_sql"

apply_all() {
    local applied
    applied=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" \
                   -c "SET migrate.progress_level = 'debug1'" -c 'SELECT count(*) FROM migrate.apply()')
    [ "$applied" = "$M" ] || { echo "error: apply() applied $applied, expected $M" >&2; exit 1; }
}

snapshot_case() {
    local i with=() without=() record=() t0
    for i in $(seq 1 "$REPS"); do
        fresh_db bench_snap_on with_migrate
        fresh_db bench_snap_off with_migrate
        # without the table the executor skips the record (as on 1.0)
        q -d bench_snap_off -c 'ALTER TABLE migrate.schema_state RENAME TO schema_state_away'
        q -d bench_snap_on -f "$register_sql" >/dev/null
        q -d bench_snap_off -f "$register_sql" >/dev/null
        if [ $(( i % 2 )) -eq 1 ]; then
            time_ns apply_all bench_snap_on; with+=("$LAST_NS")
            time_ns apply_all bench_snap_off; without+=("$LAST_NS")
        else
            time_ns apply_all bench_snap_off; without+=("$LAST_NS")
            time_ns apply_all bench_snap_on; with+=("$LAST_NS")
        fi
        t0=$(now_ns)
        q -d bench_snap_on -c "SELECT migrate.record_schema_state('apply')" >/dev/null
        record+=($(( $(now_ns) - t0 )))
        printf 'run %d: apply with record %s ms, without %s ms; one record %s ms\n' "$i" \
            "$(ms "${with[-1]}")" "$(ms "${without[-1]}")" "$(ms "${record[-1]}")"
    done
    local w wo r objects fp t0
    w=$(median "${with[@]}") wo=$(median "${without[@]}") r=$(median "${record[@]}")
    objects=$(psql -X -A -t -d bench_snap_on -c 'SELECT count(*) FROM migrate.schema_objects()')
    t0=$(now_ns)
    q -d bench_snap_on -c 'SELECT migrate.fingerprint()' >/dev/null
    fp=$(( $(now_ns) - t0 ))
    echo
    echo "apply() of $M migrations (median of $REPS runs):"
    echo "  with the schema record:    $(ms "$w") ms"
    echo "  without:                   $(ms "$wo") ms"
    echo "  ratio with/without:        $(ratio_of "$w" "$wo")"
    echo "  one record_schema_state(): $(ms "$r") ms ($objects objects in schema_objects())"
    echo "  one fingerprint():         $(ms "$fp") ms (the same scan, for comparison)"
}

echo "PostgreSQL: $(psql -X -A -t -d postgres -c 'SHOW server_version')"
for c in $CASES; do
    case "$c" in
        trigger) trigger_case ;;
        snapshot) snapshot_case ;;
        *) echo "unknown case: $c" >&2; exit 2 ;;
    esac
done
