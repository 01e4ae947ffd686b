#!/usr/bin/env bash
# test/bench/pickup.sh: how soon does the scheduler apply a due schedule?
#
# Two cases, REPS times each (default 5), in a fresh database:
#   new schedule   register + approve a trivial migration, then create a
#                  schedule (every => '1 hour'; schedule() wakes the
#                  scheduler at commit) and wait until status says applied.
#                  pickup = applied_at - the schedule's created_at (server
#                  clock), and the wall time one session sees from before
#                  schedule() to seeing 'applied' (polled every 2 ms).
#   due schedule   a schedule every '3 seconds' already exists; register and
#                  approve a trivial migration, note the next_run_at it is due
#                  at (read in the same transaction as approve(), which holds
#                  the migrate lock so no run can slip in between), and wait
#                  until it is applied.  lateness = applied_at - that
#                  next_run_at.
# Reports min/median/max in ms; it does not fail on the numbers.
#
# Usage: test/bench/pickup.sh [--no-setup]      (BENCH_REPS=K for K reps)
#   With PGHOST set, uses that running cluster (migrate must be installed and
#   in shared_preload_libraries; its migrate.naptime is reported).
#   Otherwise starts a throwaway preloaded cluster via scripts/lib.sh with the
#   default migrate.naptime (5 s), after installing dependencies and building
#   unless --no-setup is given.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REPS="${BENCH_REPS:-5}"
DB=bench_pickup
setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

bench_cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap bench_cleanup EXIT   # set before lib.sh's trap, which composes with it

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
migrate_bench_cluster "$setup" "shared_preload_libraries = 'migrate'"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
q() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
v() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

libs="$(psql -X -A -t -d postgres -c 'SHOW shared_preload_libraries')"
case ",${libs// /}," in
    *,migrate,*) ;;
    *) echo "error: migrate is not in shared_preload_libraries of this cluster" >&2; exit 1 ;;
esac
naptime="$(psql -X -A -t -d postgres -c "SELECT setting FROM pg_settings WHERE name = 'migrate.naptime'")"

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
q -c "CREATE EXTENSION migrate"
# polls with fresh snapshots (one per statement) every 2 ms, at most 60 s
q <<'SQL'
CREATE FUNCTION public.pickup_wait_applied(v text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..30000 LOOP
        IF (SELECT state FROM migrate.status WHERE version = v) = 'applied' THEN
            RETURN;
        END IF;
        PERFORM pg_sleep(0.002);
    END LOOP;
    RAISE EXCEPTION 'migration % not applied within 60 s', v;
END $$;
SQL
# the scheduler of the new database, so that its start is not measured (a
# database keeps a scheduler only while it has an enabled schedule: keep one
# that is not due for a day)
q -c "SELECT migrate.schedule('pickup_keep', every => '1 day')" >/dev/null
for _ in $(seq 1 300); do
    [ "$(v -c "SELECT scheduler FROM migrate.health()")" = running ] && break
    sleep 0.1
done
echo "scheduler: $(v -c "SELECT scheduler FROM migrate.health()"), migrate.naptime = ${naptime}s, $REPS reps"

median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
stats() { # stats VALUES...: min/median/max
    local sorted
    sorted="$(printf '%s\n' "$@" | sort -n)"
    printf 'min %s  median %s  max %s' "$(head -1 <<<"$sorted")" "$(median "$@")" "$(tail -1 <<<"$sorted")"
}
wait_applied() {   # wait_applied VERSION: poll every 20 ms, at most 60 s
    local i
    for i in $(seq 1 3000); do
        [ "$(v -c "SELECT state FROM migrate.status WHERE version = '$1'")" = applied ] && return 0
        sleep 0.02
    done
    echo "error: migration $1 not applied within 60 s" >&2
    return 1
}
register() {   # register VERSION
    q -c "SELECT migrate.register('$1', 'pickup_$1', 'CREATE TABLE pickup_$1 (id int);', NULL)" >/dev/null
}

# --- new schedule: schedule() wakes the scheduler ------------------------------------
new_server=() new_wall=()
for i in $(seq 1 "$REPS"); do
    ver=$(printf '1%04d' "$i")
    register "$ver"
    q -c "SELECT migrate.approve('$ver')" >/dev/null
    # one session: time from just before schedule() to seeing 'applied'
    wall="$(v -v ver="$ver" -v sched="new_$i" <<'SQL' | tail -1
SELECT clock_timestamp() AS t0 \gset
SELECT migrate.schedule(:'sched', every => '1 hour');
SELECT public.pickup_wait_applied(:'ver');
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000);
SQL
)"
    ms="$(v -c "SELECT round(extract(epoch FROM m.applied_at - s.created_at) * 1000)
                FROM migrate.migration m, migrate.schedule s
                WHERE m.version = '$ver' AND s.name = 'new_$i'")"
    new_server+=("$ms")
    new_wall+=("$wall")
    printf 'new schedule %d: applied %s ms after schedule() (server), a session saw it after %s ms\n' \
        "$i" "$ms" "${new_wall[-1]}"
    q -c "SELECT migrate.unschedule('new_$i')" >/dev/null
done

# --- due schedule: one that exists already and comes due ---------------------------
due_ms=()
q -c "SELECT migrate.schedule('every_3s', every => '3 seconds')" >/dev/null
for i in $(seq 1 "$REPS"); do
    ver=$(printf '2%04d' "$i")
    register "$ver"
    # a run with nothing to apply comes and goes between reps; start each
    # rep at a random point of the 3 s cycle
    sleep "0.$(( RANDOM % 10 ))"
    due="$(v -1 -c "SELECT migrate.approve('$ver')" \
                -c "SELECT next_run_at FROM migrate.schedule WHERE name = 'every_3s'" | tail -1)"
    wait_applied "$ver"
    ms="$(v -c "SELECT round(extract(epoch FROM applied_at - '$due'::timestamptz) * 1000)
                FROM migrate.migration WHERE version = '$ver'")"
    due_ms+=("$ms")
    printf 'due schedule %d: due at %s, applied %s ms late\n' "$i" "$due" "$ms"
done
q -c "SELECT migrate.unschedule('every_3s')" >/dev/null

echo
echo "PostgreSQL:          $(psql -X -A -t -d postgres -c 'SHOW server_version')"
echo "migrate.naptime:     ${naptime}s"
echo "new schedule, server (applied_at - created_at) ms: $(stats "${new_server[@]}")"
echo "new schedule, session wall (2 ms polling) ms:      $(stats "${new_wall[@]}")"
echo "due schedule, lateness (applied_at - next_run_at) ms: $(stats "${due_ms[@]}")"
