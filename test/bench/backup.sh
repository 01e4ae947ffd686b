#!/usr/bin/env bash
# test/bench/backup.sh: what does the backup before a destructive statement
# cost, per GB, against CREATE TABLE AS of the same table (the floor)?
#
# Fills a table of about MB megabytes (default 300: id bigint primary key,
# a 64-character text, a numeric, a timestamptz), then, once (a ratio from
# one run; BENCH_REPS=K repeats and reports the medians):
#   floor    CREATE TABLE copy AS SELECT * FROM ONLY t, committed (psql -c)
#   backup   SELECT count(*) FROM migrate.apply() of a migration whose up
#            script is TRUNCATE t, in an environment whose backup strategy
#            is copy (migrate.environment = staging, migrate.backup_max_bytes
#            = -1): the copy into migrate_backup, the bookkeeping and the
#            (instant) TRUNCATE
#   restore  SELECT count(*) FROM migrate.revert(), whose down script calls
#            migrate.restore_backup(): the rows inserted back (reported, not
#            part of the ratio; it has the table's indexes to maintain)
# with a CHECKPOINT before each, and reports seconds, seconds per GB and
# the ratio backup/floor (expected close to 1: the copy is an INSERT ...
# SELECT into a table created empty in the same transaction).  It reports; it does not fail on the ratio.
#
# Scaling: the cost is linear in the table's size; MB = 1024 or more gives
# a per-GB figure measured on a GB (needs about 3x MB of free disk: the
# table, the floor's copy, the backup).  Keep MB above shared_buffers, or
# the floor and the backup both read from memory.
#
# Usage: test/bench/backup.sh [MB] [--no-setup]      (or BENCH_MB=MB)
#   With PGHOST set, uses that running cluster (migrate installed already,
#   the session a superuser, so that it may SET migrate.environment).
#   Otherwise starts a throwaway cluster via scripts/lib.sh, after installing
#   dependencies and building unless --no-setup is given.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MB="${BENCH_MB:-300}"
REPS="${BENCH_REPS:-1}"
DB=bench_backup
setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}"; exit 0 ;;
        ''|*[!0-9]*) echo "unknown argument: $arg" >&2; exit 2 ;;
        *) MB="$arg" ;;
    esac
done
[ "$MB" -ge 1 ] || { echo "MB must be at least 1" >&2; exit 2; }
[ "$REPS" -ge 1 ] || { echo "BENCH_REPS must be at least 1" >&2; exit 2; }

bench_cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap bench_cleanup EXIT   # set before lib.sh's trap, which composes with it

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
migrate_bench_cluster "$setup"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning -c migrate.environment=staging -c migrate.backup_max_bytes=-1"
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
now_ns() { date +%s%N; }
# time_ms SQL: milliseconds the statement takes, client side, one session
time_ms() {
    local start end
    start=$(now_ns)
    q -c "$1" >/dev/null
    end=$(now_ns)
    echo $(( (end - start) / 1000000 ))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q -c "CREATE EXTENSION migrate"
backup=$(q -At -c "SELECT backup FROM migrate.effective_settings")
[ "$backup" = copy ] || { echo "environment staging does not back up (backup = $backup)" >&2; exit 1; }

# about 120 bytes a row on disk
rows=$(( MB * 1024 * 1024 / 120 ))
echo "filling a table of about $MB MB ($rows rows)"
q -c "CREATE TABLE t (id bigint PRIMARY KEY, label text, amount numeric, at timestamptz)"
q -c "INSERT INTO t SELECT g, md5(g::text) || md5((g + 1)::text), g * 1.25,
             timestamptz '2026-01-01' + g * interval '1 s'
      FROM generate_series(1, $rows) g"
q -c "VACUUM ANALYZE t"
bytes=$(q -At -c "SELECT pg_table_size('t')")
echo "table: $(q -At -c "SELECT pg_size_pretty($bytes::bigint)") ($bytes bytes)"

q -c "SELECT migrate.register('b1', 'truncate t', 'TRUNCATE t;',
      'SELECT migrate.restore_backup(id) FROM migrate.backups WHERE migration = ''b1''
         AND direction = ''up'' AND NOT skipped AND restored_at IS NULL ORDER BY statement DESC, id;')" >/dev/null

floor=(); copy=(); restore=()
for i in $(seq 1 "$REPS"); do
    q -c "CHECKPOINT"
    floor+=("$(time_ms "CREATE TABLE floor_copy AS SELECT * FROM ONLY t")")
    q -c "DROP TABLE floor_copy"
    q -c "CHECKPOINT"
    copy+=("$(time_ms "SELECT count(*) FROM migrate.apply()")")
    copied=$(q -At -c "SELECT rows FROM migrate.backups ORDER BY id DESC LIMIT 1")
    [ "$copied" = "$rows" ] || { echo "the backup holds $copied rows, not $rows" >&2; exit 1; }
    q -c "CHECKPOINT"
    restore+=("$(time_ms "SELECT count(*) FROM migrate.revert()")")
    [ "$(q -At -c "SELECT count(*) FROM t")" = "$rows" ] || { echo "the restore lost rows" >&2; exit 1; }
    q -c "SELECT migrate.purge_backups('0')" >/dev/null
done

floor_ms=$(printf '%s\n' "${floor[@]}" | median)
copy_ms=$(printf '%s\n' "${copy[@]}" | median)
restore_ms=$(printf '%s\n' "${restore[@]}" | median)
per_gb() { awk -v ms="$1" -v b="$bytes" 'BEGIN { printf "%.2f", ms / 1000 / (b / 1073741824) }'; }
echo
printf '%-9s %10s %10s\n' "" "seconds" "s per GB"
printf '%-9s %10.2f %10s\n' floor "$(awk -v ms="$floor_ms" 'BEGIN { print ms / 1000 }')" "$(per_gb "$floor_ms")"
printf '%-9s %10.2f %10s\n' backup "$(awk -v ms="$copy_ms" 'BEGIN { print ms / 1000 }')" "$(per_gb "$copy_ms")"
printf '%-9s %10.2f %10s\n' restore "$(awk -v ms="$restore_ms" 'BEGIN { print ms / 1000 }')" "$(per_gb "$restore_ms")"
echo "ratio backup/floor: $(awk -v a="$copy_ms" -v b="$floor_ms" 'BEGIN { printf "%.2f", a / b }') ($REPS run(s), $MB MB asked, $bytes bytes)"
