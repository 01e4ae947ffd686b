#!/usr/bin/env bash
# test/scenario/worker_deferred_settings.sh: on the worker path each
# migration commits on its own, and a deferred trigger of one migration
# must not change the settings of the next (issue 8, review of the
# one-commit-per-migration worker path).
#
# A plan with a CREATE INDEX CONCURRENTLY goes to the apply worker.  Its
# first migration's deferred constraint trigger calls
# set_config('role', ..., false) and set_config('search_path', ..., false)
# when it fires; the second migration creates an unqualified table; the
# third builds the concurrent index.  All three must run as the caller
# (history, table owners), the table must land in public, and nothing may
# be left dirty.  A fourth pair checks that a deferred constraint that
# fails is that migration's failure: it is reported as failed, and the
# migrations before it stay applied.
#
# Needs a cluster with migrate preloaded (scripts/test.sh).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_deferred
LOW=migrate_deferred_low
scenario_init worker_deferred_settings "$DB"
require_preload
_drop_roles() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $LOW" >/dev/null 2>&1 || true
}
scenario_on_exit _drop_roles

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $LOW;
CREATE ROLE $LOW;
GRANT CREATE ON SCHEMA public TO $LOW;
CREATE SCHEMA other;
GRANT CREATE, USAGE ON SCHEMA other TO $LOW;
SELECT migrate.register('001', 'trap', \$m\$
CREATE TABLE public.t1 (id int);
CREATE FUNCTION public.trg() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN
    PERFORM pg_catalog.set_config('role', '$LOW', false);
    PERFORM pg_catalog.set_config('search_path', 'other', false);
    RETURN NULL;
END \$f\$;
CREATE CONSTRAINT TRIGGER tr AFTER INSERT ON public.t1
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.trg();
INSERT INTO public.t1 VALUES (1);
\$m\$);
SELECT migrate.register('002', 'victim', 'CREATE TABLE t2 (id int);');
SELECT migrate.register('003', 'concurrent index',
                        'CREATE INDEX CONCURRENTLY t1_id ON public.t1 (id);');
SQL

result="$(val "$DB" -c "SET client_min_messages = warning" -c "SELECT string_agg(version || ':' || state, ' ' ORDER BY version) FROM migrate.apply()" 2>&1 || true)"
expect "the worker path applies all three" "$result" "001:applied 002:applied 003:applied"
expect "002's unqualified table lands in public, not in the trigger's search_path" \
    "$(val "$DB" -c "SELECT string_agg(n.nspname, ',') FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 't2'")" \
    "public"
expect "002's table is the caller's, not the trigger's role's" \
    "$(val "$DB" -c "SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class WHERE relname = 't2'")" \
    "postgres"
expect "history names the caller for every migration" \
    "$(val "$DB" -c "SELECT string_agg(DISTINCT role::text, ',') FROM migrate.history WHERE action = 'apply'")" \
    "postgres"
expect "nothing is dirty" \
    "$(val "$DB" -c "SELECT count(*) FROM migrate.migration WHERE state = 'dirty'")" "0"

# a deferred constraint that fails is the failure of its own migration
sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE public.parent (id int PRIMARY KEY);
SELECT migrate.register('004', 'fine', 'CREATE TABLE public.t4 (id int);');
SELECT migrate.register('005', 'orphan', \$m\$
CREATE TABLE public.child (id int REFERENCES public.parent DEFERRABLE INITIALLY DEFERRED);
INSERT INTO public.child VALUES (42);
\$m\$);
SELECT migrate.register('006', 'another index',
                        'CREATE INDEX CONCURRENTLY t4_id ON public.t4 (id);');
SQL
err="$(val "$DB" -c "SELECT count(*) FROM migrate.apply()" 2>&1 || true)"
case "$err" in
    *"violates foreign key constraint"*) pass "the deferred foreign key's violation is reported" ;;
    *) fail "expected a foreign key violation, got: $err" ;;
esac
expect "the migration before it stays applied, the failing one is failed, the next did not run" \
    "$(val "$DB" -c "SELECT string_agg(version || ':' || state, ' ' ORDER BY version) FROM migrate.status WHERE version IN ('004', '005', '006')")" \
    "004:applied 005:failed 006:pending"

scenario_finish
