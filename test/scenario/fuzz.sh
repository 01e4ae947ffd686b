#!/usr/bin/env bash
# test/scenario/fuzz.sh: fuzz the parsers that any role may call.
#
# Runs the in-server fuzzer of test/fuzz/ (driver.sql, seeds.sql, plus the
# scripts of examples/ as seeds) against migrate.header(), statements(),
# version_key(), version_cmp() and cron_next() for a fixed time budget, in
# rounds of a few seconds, each round one psql call with its own seed.
# Fails when
#   - a round loses its connection (psql exit status 2: the backend crashed)
#     or the server log shows "terminated by signal";
#   - any input raised XX000 (internal error);
#   - a property broke (see test/fuzz/driver.sql), or a round ended with an
#     error of its own (an input ran past the round's statement_timeout).
# After a crash the round is replayed with every input logged, and the last
# input before the crash is printed.  Prints the inputs run per function,
# the SQLSTATE histogram and the slowest input per function.
#
# Environment:
#   MIGRATE_FUZZ_SECONDS   total budget in seconds (default 36; CI)
#   MIGRATE_FUZZ_ROUND     seconds per round (default 6)
#   MIGRATE_FUZZ_SEED      integer base seed (default: from the clock);
#                          printed, so a run can be repeated
#   MIGRATE_FUZZ_MAX_LEN   longest generated input, in characters
#                          (default 16384: deeply nested comments make
#                          PostgreSQL's own scanner slow, and a 64 kB input
#                          of them takes tens of seconds)
# A long run: MIGRATE_FUZZ_SECONDS=600 test/scenario/fuzz.sh
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_fuzz
scenario_init fuzz "$DB"

budget="${MIGRATE_FUZZ_SECONDS:-36}"
round_s="${MIGRATE_FUZZ_ROUND:-6}"
base_seed="${MIGRATE_FUZZ_SEED:-$(( $(date +%s) % 1000000 ))}"
max_len="${MIGRATE_FUZZ_MAX_LEN:-16384}"
fuzz_dir="$SCENARIO_ROOT/test/fuzz"

# The server log: the one lib.sh started, or the postmaster's stderr.
server_log() {
    local datadir pid link
    if [ -n "${MIGRATE_CLUSTER_DIR:-}" ] && [ -f "$MIGRATE_CLUSTER_DIR/log" ]; then
        echo "$MIGRATE_CLUSTER_DIR/log"
        return
    fi
    datadir="$(val postgres -c 'SHOW data_directory' 2>/dev/null || true)"
    [ -n "$datadir" ] && [ -r "$datadir/postmaster.pid" ] || return 0
    pid="$(head -n 1 "$datadir/postmaster.pid")"
    link="$(readlink "/proc/$pid/fd/2" 2>/dev/null || true)"
    case "$link" in
        /*) [ -f "$link" ] && echo "$link" ;;
    esac
    return 0
}
LOG="$(server_log)"
log_size() { if [ -n "$LOG" ]; then stat -c %s "$LOG"; else echo 0; fi; }
log_since() { if [ -n "$LOG" ]; then tail -c +"$(( $1 + 1 ))" "$LOG"; fi; }
log_start="$(log_size)"
[ -n "$LOG" ] || note "server log not found: crashes are detected by lost connections only"

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
\i $fuzz_dir/driver.sql
\i $fuzz_dir/seeds.sql
SQL
# the example migrations are real-world seeds for header() and statements()
nseed=0
for f in "$SCENARIO_ROOT"/examples/*.sql; do
    [ -e "$f" ] || continue
    val "$DB" -v content="$(cat "$f")" >/dev/null <<'SQL'
INSERT INTO migrate_fuzz.seed (fn, input)
VALUES ('header', :'content'), ('statements', :'content');
SQL
    nseed=$((nseed + 1))
done
note "seeds: $(val "$DB" -c "SELECT string_agg(fn || ' ' || n, ', ' ORDER BY fn)
                             FROM (SELECT fn, count(*) n FROM migrate_fuzz.seed GROUP BY fn) s") ($nseed example files)"
note "budget ${budget}s in rounds of ${round_s}s, base seed $base_seed, inputs up to $max_len characters"

# the seed of round i, in [-1, 1] as setseed() wants
round_seed() { awk -v b="$base_seed" -v i="$1" 'BEGIN { x = (b * 0.6180339887 + i * 0.7548776662); x -= int(x); printf "%.10f", 2 * x - 1 }'; }

run_round() {   # run_round SEED MS LOG_INPUTS
    val "$DB" -c "SET statement_timeout = '$(( $2 / 1000 + 60 ))s'" \
              -c "SET client_min_messages = warning" \
              -c "SELECT migrate_fuzz.run_round($2, $1, $3, $max_len)"
}

deadline=$(( $(date +%s) + budget ))
i=0
crashed=0
while [ "$(date +%s)" -lt "$deadline" ]; do
    left=$(( deadline - $(date +%s) ))
    ms=$(( (left < round_s ? left : round_s) * 1000 ))
    [ "$ms" -ge 1000 ] || break
    seed="$(round_seed "$i")"
    i=$((i + 1))
    rc=0
    out="$(run_round "$seed" "$ms" false 2>&1)" || rc=$?
    if [ "$rc" = 0 ]; then
        continue
    fi
    if [ "$rc" = 2 ]; then
        crashed=1
        fail "round $i (seed $seed) lost its connection: the backend crashed ($out)"
        wait_until 60 val postgres -c 'SELECT 1' >/dev/null 2>&1 ||
            { fail "the server did not come back"; break; }
        # replay with every input logged, and show the last one
        before="$(log_size)"
        rc2=0
        run_round "$seed" "$ms" true >/dev/null 2>&1 || rc2=$?
        wait_until 60 val postgres -c 'SELECT 1' >/dev/null 2>&1 || true
        if [ "$rc2" = 2 ] && [ -n "$LOG" ]; then
            echo "---- last input before the crash (replay of seed $seed) ----"
            log_since "$before" | grep -a 'migrate fuzz input' | tail -n 1 | cut -c 1-4000
            log_since "$before" | grep -a -E 'terminated by signal|TRAP|PANIC' | head -n 3
            echo "---- end ----"
        else
            note "the replay of seed $seed did not crash again (exit $rc2): the crash depends on more than the input"
        fi
        wait_until 60 val "$DB" -c 'SELECT 1' >/dev/null 2>&1 || true
    else
        fail "round $i (seed $seed) failed with exit status $rc: $out"
    fi
done
note "rounds run: $i"

echo "---- inputs per function ----"
val "$DB" -F ' ' <<'SQL'
SELECT format('%-12s %10s', fn, sum(n)) FROM migrate_fuzz.tally GROUP BY fn
UNION ALL SELECT format('%-12s %10s', 'total', coalesce(sum(n), 0)) FROM migrate_fuzz.tally;
SQL
echo "---- SQLSTATE histogram (ok = returned normally) ----"
val "$DB" <<'SQL'
SELECT format('%-12s %-8s %10s', fn, sqlstate, n) FROM migrate_fuzz.tally ORDER BY fn, n DESC;
SQL
echo "---- slowest input per function ----"
val "$DB" <<'SQL'
SELECT format('%-12s %9s ms  %7s chars  %s', fn, round(ms::numeric, 1), len,
              left(regexp_replace(input, '\s+', ' ', 'g'), 60))
FROM migrate_fuzz.slowest ORDER BY fn;
SQL

slow="$(val "$DB" -c "SELECT string_agg(format('%s %s ms', fn, round(ms::numeric)), ', ')
                      FROM migrate_fuzz.slowest WHERE ms > 1000")"
[ -z "$slow" ] || note "inputs that took over a second: $slow"

total="$(val "$DB" -c 'SELECT coalesce(sum(n), 0) FROM migrate_fuzz.tally')"
if [ "$total" -gt 0 ]; then pass "$total inputs ran"; else fail "no input ran"; fi
for fn in header statements version_key version_cmp cron_next; do
    n="$(val "$DB" -c "SELECT coalesce(sum(n), 0) FROM migrate_fuzz.tally WHERE fn = '$fn'")"
    [ "$n" -gt 0 ] || fail "no input ran for $fn"
done

nfind="$(val "$DB" -c 'SELECT count(*) FROM migrate_fuzz.finding')"
if [ "$nfind" = 0 ]; then
    pass "no XX000 and no broken property"
else
    fail "$nfind finding(s): XX000 errors or broken properties"
    val "$DB" <<'SQL'
SELECT format(E'%s %s (seed %s): %s\n  input: %s\n  input2: %s', fn, sqlstate, seed, message,
              left(quote_literal(input), 2000), left(quote_nullable(input2), 500))
FROM migrate_fuzz.finding ORDER BY at LIMIT 10;
SQL
fi

if [ -n "$LOG" ]; then
    signals="$(log_since "$log_start" | grep -a -c 'terminated by signal' || true)"
    expect "server log: no process terminated by a signal" "$signals" 0
fi
if [ "$crashed" = 0 ]; then pass "no round lost its connection"; fi

scenario_finish
