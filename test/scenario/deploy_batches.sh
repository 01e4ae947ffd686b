#!/usr/bin/env bash
# test/scenario/deploy_batches.sh: a first deploy of a long history on a
# server with default settings (issue 10, item 5a).
#
# 10,000 migrations, each creating one table, are registered by one SQL
# statement.  Then:
#   1. a plain apply() of all of them fails with SQLSTATE 53200 (out of
#      shared memory: the locks of 10,000 new tables do not fit in the lock
#      table of a default server, max_locks_per_transaction = 64) and
#      leaves nothing half-applied: no table, no migration applied (the one
#      whose statement failed is recorded as failed, as every failure is);
#   2. batch_target(NULL, 1000) names the 1000th migration;
#   3. CALL migrate.deploy(batch_size => 1000) applies all 10,000, in 10
#      transactions (the rows of migrate.migration were last written by 10
#      different transactions), and says so;
#   4. nothing is pending afterwards: batch_target() returns NULL and a
#      second deploy has nothing to apply.
# Needs no background worker; runs on the cluster scripts/test.sh starts
# (PostgreSQL's default lock settings), in about a minute.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

DB=mig_deploy_batches
COUNT=10000
scenario_init deploy_batches "$DB"

locks="$(val postgres -c 'SHOW max_locks_per_transaction')"
conns="$(val postgres -c 'SHOW max_connections')"
if [ "$locks" != 64 ] || [ "$conns" -gt 100 ]; then
    note "max_locks_per_transaction = $locks, max_connections = $conns: not the defaults this scenario is about"
fi

sql "$DB" -c "CREATE EXTENSION migrate"
started=$(now_ms)
val "$DB" -o /dev/null -c "
    SELECT pg_catalog.count(migrate.register(pg_catalog.lpad(g::text, 5, '0'), 'table_' || g,
                                             pg_catalog.format('CREATE TABLE t%s (id int);', g),
                                             pg_catalog.format('DROP TABLE t%s;', g)))
    FROM pg_catalog.generate_series(1, $COUNT) g"
note "registered $COUNT migrations in $(( $(now_ms) - started )) ms"
expect "$COUNT migrations are registered and pending" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.status WHERE state = 'pending'")" "$COUNT"

# --- 1. one apply() runs out of lock table ----------------------------------
out="$(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" \
        -c "SET client_min_messages = warning" -c '\set VERBOSITY verbose' \
        -c "SELECT count(*) FROM migrate.apply()" 2>&1 || true)"
case "$out" in
    *"ERROR:  53200: out of shared memory"*) pass "apply() of $COUNT table-creating migrations fails with 53200 (out of shared memory)" ;;
    *) fail "apply() of $COUNT migrations did not fail with 53200: $(printf '%s' "$out" | head -3)" ;;
esac
expect "after the failed apply() no migration is applied" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.status WHERE state = 'applied'")" 0
expect "after the failed apply() no table exists" \
    "$(val "$DB" -c "SELECT count(*) FROM pg_class WHERE relname ~ '^t[0-9]+\$' AND relkind = 'r'")" 0
expect "the failure is recorded for the one migration that failed, the rest is pending" \
    "$(val "$DB" -c "SELECT string_agg(state || ' ' || n, ', ' ORDER BY state)
                     FROM (SELECT state, count(*) AS n FROM migrate.status GROUP BY state) s")" \
    "failed 1, pending $(( COUNT - 1 ))"

# --- 2. the first chunk ------------------------------------------------------
expect "batch_target(NULL, 1000) names the 1000th migration of the plan" \
    "$(val "$DB" -c "SELECT migrate.batch_target(NULL, 1000)")" "01000"

# --- 3. deploy in chunks ------------------------------------------------------
started=$(now_ms)
out="$(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" \
        -c "CALL migrate.deploy(batch_size => 1000)" 2>&1)" || fail "deploy(batch_size => 1000) failed: $(printf '%s' "$out" | grep ERROR)"
note "deployed in $(( $(now_ms) - started )) ms"
case "$out" in
    *"applying $COUNT migrations in batches of 1000, committing after each"*)
        pass "deploy() says it applies $COUNT migrations in batches of 1000" ;;
    *) fail "deploy() did not announce its batches: $(printf '%s' "$out" | head -2)" ;;
esac
case "$out" in
    *"batch 10 committed: 10000 of 10000 migrations applied, up to \"10000\""*)
        pass "deploy() reports the 10th batch committed" ;;
    *) fail "deploy() did not report 10 batches: $(printf '%s' "$out" | grep 'batch' | tail -2)" ;;
esac
expect "every migration is applied" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.status WHERE state = 'applied'")" "$COUNT"
expect "every table exists" \
    "$(val "$DB" -c "SELECT count(*) FROM pg_class WHERE relname ~ '^t[0-9]+\$' AND relkind = 'r'")" "$COUNT"
expect "the migrations were applied by 10 transactions, one per chunk" \
    "$(val "$DB" -c "SELECT count(DISTINCT xmin::text) FROM migrate.migration")" 10
expect "in the order of the plan" \
    "$(val "$DB" -c "SELECT bool_and(apply_seq < lead_seq) FROM (SELECT apply_seq, lead(apply_seq) OVER (ORDER BY version_key) AS lead_seq FROM migrate.migration) s WHERE lead_seq IS NOT NULL")" t

# --- 4. nothing left ----------------------------------------------------------
expect "batch_target() is NULL when nothing is pending" \
    "$(val "$DB" -c "SELECT coalesce(migrate.batch_target(NULL, 1000), 'null')")" null
out="$(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CALL migrate.deploy(batch_size => 1000)" 2>&1)"
expect "a second deploy has nothing to apply" "$out" "NOTICE:  nothing to apply"

scenario_finish
