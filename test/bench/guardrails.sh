#!/usr/bin/env bash
# test/bench/guardrails.sh: what do the production guard rails cost apply()?
#
# Generates N small migrations (CREATE TABLE with 3 columns, CREATE INDEX,
# COMMENT; a different table each, nothing destructive) and applies them
# with SELECT count(*) FROM migrate.apply(target), in chunks of C (100),
# in two databases side by side, 3 times each on fresh databases:
#   off  no environment (migrate.environment empty): every rail off, 1.0's
#        behaviour
#   on   ALTER DATABASE ... SET migrate.environment = 'production', with
#        production configured as a careful team would: DDL lock_timeout
#        5s, statement_timeout 10min, 3 lock retries (backoff 100ms),
#        require_approval and four_eyes on (every migration approved
#        beforehand by a second superuser; not timed), backups 'copy'
#        (nothing is destructive, so each statement is only inspected),
#        retention 30 days, revert window 7 days, risk ceiling 'high',
#        zero-downtime required off
# Registration (and approval) happen before the clock starts.  The two
# databases take turns chunk by chunk (which one goes first alternates),
# so that a shared machine's load, which changes from second to second,
# falls on both alike; each side's time is the sum of its chunks.
# Reports each run's sums and their ratio, and as the result the median
# of the ratios of all chunks (on/off, each chunk against the one beside
# it: a burst of load spoils a chunk, not the result); it checks that the
# "on" database really ran under production's rails
# (migrate.effective_settings) and made no backup, but it does not fail
# on the ratio.
#
# Usage: test/bench/guardrails.sh [N] [--no-setup]      (or BENCH_N=N)
#   BENCH_REPS=K repeats K times instead of 3.
#   BENCH_CHUNK=C migrations per apply() call (100; N applies all at once).
#   With PGHOST set, uses that running cluster (migrate installed already).
#   Otherwise starts a throwaway cluster via scripts/lib.sh, after installing
#   dependencies and building unless --no-setup is given.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${BENCH_N:-1000}"
REPS="${BENCH_REPS:-3}"
CHUNK="${BENCH_CHUNK:-100}"
APPROVER=bench_guardrails_approver
setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,33p' "${BASH_SOURCE[0]}"; exit 0 ;;
        ''|*[!0-9]*) echo "unknown argument: $arg" >&2; exit 2 ;;
        *) N="$arg" ;;
    esac
done
[ "$N" -ge 1 ] || { echo "N must be at least 1" >&2; exit 2; }
[ "$REPS" -ge 1 ] || { echo "BENCH_REPS must be at least 1" >&2; exit 2; }
[ "$CHUNK" -ge 1 ] || { echo "BENCH_CHUNK must be at least 1" >&2; exit 2; }

work="$(mktemp -d)"
bench_cleanup() {
    local i
    for i in $(seq 1 "$REPS"); do
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS bench_rails_off_$i" \
             -c "DROP DATABASE IF EXISTS bench_rails_on_$i" >/dev/null 2>&1 || true
    done
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $APPROVER" >/dev/null 2>&1 || true
    rm -rf -- "$work"
}
trap bench_cleanup EXIT   # set before lib.sh's trap, which composes with it

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# one transaction takes ~5 relation locks per migration (table, primary
# key, toast table and index, second index): size the lock table for a chunk
migrate_bench_cluster "$setup" "max_locks_per_transaction = $(( CHUNK / 10 + 64 ))"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
v() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
now_ns() { date +%s%N; }

# four_eyes wants an approver other than the registrant (the benchmark's
# superuser), with the registrant's privileges: a second superuser
q -d postgres -c "DROP ROLE IF EXISTS $APPROVER" -c "CREATE ROLE $APPROVER SUPERUSER LOGIN"

# --- generate the migrations --------------------------------------------------
# The script controls this text completely, so dollar quoting is safe here.
echo "generating $N migrations in $work"
register_sql="$work/register.sql"
approve_sql="$work/approve.sql"
printf 'SET client_min_messages = warning;\nBEGIN;\n' >"$register_sql"
printf 'SET client_min_messages = warning;\nBEGIN;\n' >"$approve_sql"
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
    printf "SELECT migrate.register('%s', '%s', \$mig\$%s\$mig\$, \$mig\$%s\$mig\$);\n" \
        "$v" "create_$t" "$up" "DROP TABLE $t;"$'\n' >>"$register_sql"
    printf "SELECT FROM migrate.approve('%s');\n" "$v" >>"$approve_sql"
done
echo "COMMIT;" >>"$register_sql"
echo "COMMIT;" >>"$approve_sql"

# --- the two databases ----------------------------------------------------------
# make_off DB: migrate, the N migrations registered, no environment
make_off() {
    q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
    q -d "$1" -c 'CREATE EXTENSION migrate'
    q -d "$1" -f "$register_sql" >/dev/null
}

# make_on DB: the same, in production as a DBA sets it up (superuser:
# ALTER DATABASE ... SET and configure()), every migration approved by the
# second superuser (four eyes)
make_on() {
    make_off "$1"
    q -d postgres -c "ALTER DATABASE $1 SET migrate.environment = 'production'"
    q -d "$1" -o /dev/null -c "SELECT FROM migrate.configure('production',
                      lock_timeout => '5s', statement_timeout => '10min',
                      lock_retries => 3, lock_retry_backoff => '100ms',
                      require_approval => true, four_eyes => true,
                      backup => 'copy', backup_retention => '30 days',
                      revert_window => '7 days', max_risk_level => 'high',
                      require_zero_downtime => false)"
    q -d "$1" -U "$APPROVER" -f "$approve_sql" >/dev/null
}

# --- measure ------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
ratio_of() { awk -v m="$1" -v f="$2" 'BEGIN { printf "%.3f", m / f }'; }

# time_ns COMMAND...: run it after a checkpoint; its duration in LAST_NS
time_ns() {
    local t0
    q -d postgres -c CHECKPOINT
    t0=$(now_ns)
    "$@"
    LAST_NS=$(( $(now_ns) - t0 ))
}

# apply_to DB TARGET COUNT: SELECT count(*) FROM migrate.apply(TARGET),
# which must apply COUNT migrations
apply_to() {
    local applied
    applied=$(v -d "$1" -c "SET migrate.progress_level = 'debug1'" \
                        -c "SELECT count(*) FROM migrate.apply('$2')")
    if [ "$applied" != "$3" ]; then
        echo "error: migrate.apply('$2') in $1 applied $applied migrations, expected $3" >&2
        exit 1
    fi
}

# apply_chunk DB TARGET COUNT: apply_to after a checkpoint, timed; adds the
# time to the side's total (off_sum or on_sum, by DB's name) and notes it
# as the side's last chunk (off_last, on_last)
apply_chunk() {
    time_ns apply_to "$@"
    case "$1" in
        *_off_*) off_sum=$(( off_sum + LAST_NS )) off_last=$LAST_NS ;;
        *) on_sum=$(( on_sum + LAST_NS )) on_last=$LAST_NS ;;
    esac
}

# check_on DB: the "on" database ran in production, with its rails, and
# copied nothing (no statement was destructive)
check_on() {
    local rails backups
    rails=$(v -d "$1" -c "SELECT environment, require_approval, four_eyes, backup
                          FROM migrate.effective_settings")
    if [ "$rails" != "production|t|t|copy" ]; then
        echo "error: $1 did not run under production's rails: $rails" >&2
        exit 1
    fi
    backups=$(v -d "$1" -c "SELECT count(*) FROM migrate.backups")
    if [ "$backups" != 0 ]; then
        echo "error: $1 made $backups backups of non-destructive migrations" >&2
        exit 1
    fi
}

off_ns=() on_ns=() ratios=() chunk_ratios=()
for i in $(seq 1 "$REPS"); do
    off="bench_rails_off_$i" on="bench_rails_on_$i"
    make_off "$off"
    make_on "$on"
    off_sum=0 on_sum=0 done_n=0 k=0
    while [ "$done_n" -lt "$N" ]; do
        k=$(( k + 1 ))
        count=$(( N - done_n < CHUNK ? N - done_n : CHUNK ))
        done_n=$(( done_n + count ))
        target=$(printf '2025%010d' "$done_n")
        # alternate the order, so that neither side always runs first
        if [ $(( (i + k) % 2 )) -eq 0 ]; then
            apply_chunk "$off" "$target" "$count"; apply_chunk "$on" "$target" "$count"
        else
            apply_chunk "$on" "$target" "$count"; apply_chunk "$off" "$target" "$count"
        fi
        chunk_ratios+=("$(ratio_of "$on_last" "$off_last")")
    done
    off_ns+=("$off_sum") on_ns+=("$on_sum")
    check_on "$on"
    ratios+=("$(ratio_of "${on_ns[-1]}" "${off_ns[-1]}")")
    printf 'run %d: rails off %s ms, rails on %s ms, ratio %s\n' "$i" \
        "$(ms "${off_ns[-1]}")" "$(ms "${on_ns[-1]}")" "${ratios[-1]}"
    q -d postgres -c "DROP DATABASE $off" -c "DROP DATABASE $on"
done

echo
echo "PostgreSQL:             $(v -d postgres -c 'SHOW server_version')"
echo "migrations (N):         $N  (apply() of $CHUNK at a time; median of $REPS runs, fresh databases each)"
echo "apply(), rails off:     $(ms "$(median "${off_ns[@]}")") ms  (no environment)"
echo "apply(), rails on:      $(ms "$(median "${on_ns[@]}")") ms  (production: timeouts, retries, approvals, backup copy)"
echo "ratio of the sums:      $(median "${ratios[@]}")  (median of the runs' on/off ratios)"
echo "overhead ratio on/off:  $(median "${chunk_ratios[@]}")  (median of the ${#chunk_ratios[@]} chunks' on/off ratios)"
