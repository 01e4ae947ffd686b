#!/usr/bin/env bash
# test/scenario/worker_commits.sh: the worker path costs one transaction per
# migration (issue 8, item 10).
#
# A plan with a CREATE INDEX CONCURRENTLY migration goes to the apply
# worker.  With N one-statement migrations before it:
#   1. apply() applies all N + 1;
#   2. each transactional migration's schema change, its row in
#      migrate.migration (marked applied) and its history row were written
#      by one and the same transaction (equal xmin): the bookkeeping
#      commits with the migration, not after it;
#   3. the database committed at most 2N transactions for the whole call
#      (pg_stat_database.xact_commit; before the change it was about four
#      per migration: a re-read of the registry, the migration, and two to
#      reset the worker's session).  The count also holds what the
#      database's scheduler (naptime 1 s in the test cluster) and
#      autovacuum commit meanwhile: about 77 on an idle machine, 91 on a
#      loaded one, so the bound is 2N, not N + N/2, and still far below the
#      4N of a regression.
#
# Needs a cluster with migrate preloaded (scripts/test.sh).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_commits
N=60
scenario_init worker_commits "$DB"
require_preload

{
    echo "SET client_min_messages = warning;"
    echo "CREATE EXTENSION migrate;"
    echo "BEGIN;"
    for i in $(seq 1 "$N"); do
        printf "SELECT migrate.register('%03d', 't%03d', 'CREATE TABLE public.wc_%03d (id int, label text);');\n" \
            "$i" "$i" "$i"
    done
    printf "SELECT migrate.register('%03d', 'index', 'CREATE INDEX CONCURRENTLY wc_001_label ON public.wc_001 (label);');\n" \
        $(( N + 1 ))
    echo "COMMIT;"
} | sql "$DB" >/dev/null

commits() {
    val "$DB" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
}
before=$(commits)
applied=$(PGOPTIONS="-c client_min_messages=warning" val "$DB" -c "SELECT count(*) FROM migrate.apply()")
expect "apply() ran the plan through the apply worker" "$applied" "$(( N + 1 ))"
# the worker flushes its statistics when it exits, before apply() returns
after=$(commits)
delta=$(( after - before ))
note "transactions committed for $(( N + 1 )) migrations: $delta"
if [ "$delta" -le $(( 2 * N )) ]; then
    pass "the worker path committed about one transaction per migration ($delta for $(( N + 1 )))"
else
    fail "the worker path committed $delta transactions for $(( N + 1 )) migrations (at most $(( 2 * N )) expected)"
fi

expect "each migration's change, row and history row share one transaction" \
    "$(val "$DB" -c "
        SELECT count(*) FROM migrate.migration m
        JOIN pg_class c ON c.relname = 'wc_' || m.version AND c.relnamespace = 'public'::regnamespace
        JOIN migrate.event e ON e.version = m.version AND e.action = 'apply' AND e.outcome = 'success'
        WHERE m.xmin = c.xmin AND e.xmin = c.xmin")" "$N"

scenario_finish
