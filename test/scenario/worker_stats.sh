#!/usr/bin/env bash
# test/scenario/worker_stats.sh: the scheduler reports its table statistics
# while it runs, so that autovacuum sees the rows it changes.
#
#   a schedule every second with nothing to apply: each run of the
#   scheduler updates the schedule's row (next_run_at, last_run_at), and
#   within a few seconds pg_stat_user_tables counts those updates for
#   migrate.schedule, while the same scheduler is still running (a
#   background worker flushes its statistics only when it asks to, or when
#   it exits)
#
# Needs a cluster with migrate preloaded (scripts/test.sh).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_wstats
scenario_init worker_stats "$DB"
require_preload

sql "$DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.schedule('often', every => '1 second', require_approval => false);
SQL

if wait_until $((10 * NAPTIME + 10)) test -n "$(scheduler_pid "$DB")"; then
    pass "the scheduler of $DB started"
else
    fail "no scheduler for $DB"
    scenario_finish
fi
pid="$(scheduler_pid "$DB")"
if wait_value $((5 * NAPTIME + 10)) t "$DB" \
        "SELECT last_run_at IS NOT NULL FROM migrate.schedule"; then
    pass "the scheduler ran the schedule"
else
    fail "the schedule did not run (last value '$WAIT_LAST')"
fi
# schedule() inserted the row; only the scheduler updates it
if wait_value $((5 * NAPTIME + 10)) t "$DB" \
        "SELECT n_tup_upd > 0 FROM pg_stat_user_tables WHERE relid = 'migrate.schedule'::regclass"; then
    pass "pg_stat_user_tables counts the scheduler's updates of migrate.schedule"
else
    fail "the scheduler's updates of migrate.schedule are not in pg_stat_user_tables (n_tup_upd > 0: '$WAIT_LAST')"
fi
expect "the same scheduler is still running (its statistics were not flushed by an exit)" \
    "$(scheduler_pid "$DB")" "$pid"

scenario_finish
