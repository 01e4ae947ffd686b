#!/usr/bin/env bash
# test/scenario/event_documents.sh: the JSON documents migrate stores are
# exactly the documents it means, whatever the strings in them contain
# (issue 8, item 3: they are built as jsonb, never by concatenating text).
#
# Strings with double quotes, backslashes, tabs, newlines, a control
# character and non-ASCII letters go into every kind of document:
#   1. register(): the detail of the history row (checksums);
#   2. a failed apply(): the error of its history row, written by the
#      failure-recording worker (the document crosses to it through shared
#      memory), and the migration's last_error;
#   3. a dry run that fails: the detail of its one history row;
#   4. a precondition that does not hold, in skip mode: the detail of the
#      'skipped' row;
#   5. a non-transactional migration that fails: last_error and the error
#      and detail of its history row, written by the apply worker;
#   6. migrate.header(): the header document.
# Each is compared with the document jsonb_build_object() makes of the same
# values (a statement's text is stored without its semicolon).  Needs the
# library preloaded (the apply worker of 5).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

DB=mig_event_documents
scenario_init event_documents "$DB"

# every check is a query that returns exactly 't'
check() {   # check LABEL QUERY
    local got
    got="$(val "$DB" -c "$2" 2>&1 || true)"
    expect "$1" "$got" "t"
}
failing() { sql "$DB" -q -c "UPDATE public.mode SET failing = $1"; }
apply_fails() {   # apply_fails LABEL: apply() must raise an error
    if sql "$DB" -q -o /dev/null -c "SELECT * FROM migrate.apply()" 2>/dev/null; then
        fail "$1: apply() succeeded"
    fi
}

sql "$DB" -q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
CREATE TABLE public.t (id int);
CREATE TABLE public.mode (failing boolean);
INSERT INTO public.mode VALUES (true);
-- the hostile string, and a function that fails with it everywhere
CREATE FUNCTION public.hostile() RETURNS text LANGUAGE sql IMMUTABLE
    AS $$SELECT E'q"uo\\te\ttab\nline é ü \u0001 end'$$;
CREATE FUNCTION public.fail() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT failing FROM public.mode) THEN
        RAISE EXCEPTION '%', public.hostile()
            USING DETAIL = 'detail ' || public.hostile(), HINT = 'hint ' || public.hostile(),
                  ERRCODE = '22023';
    END IF;
END$$;
SELECT migrate.register('001', 'first', E'SELECT public.fail() AS "a""\\ é\tb";');
SQL

# --- 1. register(): the checksums in the detail ------------------------------
check "register detail" "
    SELECT e.detail = pg_catalog.jsonb_build_object(
               'previous_checksum', NULL, 'previous_down_checksum', NULL,
               'checksum', m.checksum, 'down_checksum', NULL)
    FROM migrate.event e JOIN migrate.migration m USING (version)
    WHERE e.action = 'register' AND e.version = '001'"

# --- 2. a failed apply(): history (by the failure recorder) and last_error ----
apply_fails "001"
EXPECTED="pg_catalog.jsonb_build_object(
        'sqlstate', '22023', 'message', public.hostile(),
        'detail', 'detail ' || public.hostile(), 'hint', 'hint ' || public.hostile(),
        'script', 'up', 'statement', 1, 'line', 1,
        'statement_text', E'SELECT public.fail() AS \"a\"\"\\\\ é\\tb\"')"
check "error of the failed apply's history row" "
    SELECT error = $EXPECTED AND detail IS NULL AND outcome = 'failure'
    FROM migrate.event WHERE version = '001' AND action = 'apply'"
check "last_error of the failed migration" "
    SELECT last_error = $EXPECTED AND state = 'failed'
    FROM migrate.migration WHERE version = '001'"
check "the message reads back as raised" "
    SELECT error->>'message' = public.hostile() FROM migrate.event
    WHERE version = '001' AND action = 'apply'"
failing false
sql "$DB" -q -o /dev/null -c "SELECT * FROM migrate.apply()"

# --- 3. a dry run that fails ----------------------------------------------------
failing true
sql "$DB" -q -o /dev/null -c "SELECT migrate.register('002', 'second', 'SELECT public.fail();')"
sql "$DB" -q -o /dev/null -c "SELECT * FROM migrate.apply(dry_run => true)" 2>/dev/null || true
check "detail of the failed dry run" "
    SELECT detail = pg_catalog.jsonb_build_object(
               'direction', 'up', 'migrations', 1, 'failed_at', '002',
               'error', public.hostile())
           AND error IS NULL AND outcome = 'failure'
    FROM migrate.event WHERE action = 'dry run'"
failing false
sql "$DB" -q -o /dev/null -c "SELECT * FROM migrate.apply()"

# --- 4. a precondition that does not hold, skip mode ----------------------------
sql "$DB" -q -o /dev/null <<'SQL'
SELECT migrate.register('003', 'third', 'SELECT 1;',
                        precondition => E'SELECT false AS "q""\\ é";',
                        precondition_mode => 'skip');
SELECT * FROM migrate.apply();
SQL
check "detail of the skipped migration" "
    SELECT pg_catalog.bool_and(detail = pg_catalog.jsonb_build_object(
               'reason', 'precondition does not hold',
               'statement', E'SELECT false AS \"q\"\"\\\\ é\"'))
    FROM migrate.event WHERE version = '003' AND outcome = 'skipped'"

# --- 5. a non-transactional migration that fails (apply worker) ----------------
failing true
sql "$DB" -q -o /dev/null -c "SELECT migrate.register('004', 'fourth',
    E'CREATE INDEX CONCURRENTLY t_idx ON public.t (id);\nSELECT public.fail();')"
apply_fails "004"
EXPECTED="pg_catalog.jsonb_build_object(
        'sqlstate', '22023', 'message', public.hostile(),
        'detail', 'detail ' || public.hostile(), 'hint', 'hint ' || public.hostile(),
        'script', 'up', 'statement', 2, 'line', 2,
        'statement_text', 'SELECT public.fail()')"
check "last_error of the dirty non-transactional migration" "
    SELECT last_error = $EXPECTED AND state = 'dirty'
    FROM migrate.migration WHERE version = '004'"
check "error of its history row, and the apply worker in its detail" "
    SELECT error = $EXPECTED
           AND detail = pg_catalog.jsonb_build_object('by', 'apply worker')
    FROM migrate.event WHERE version = '004' AND action = 'apply'"

# --- 6. migrate.header() ---------------------------------------------------------
check "header document" "
    SELECT migrate.header(E'-- @description: ' || pg_catalog.replace(public.hostile(), E'\n', ' ')
                          || E'\n-- @dependencies: 001, 002\n-- @zero-downtime: true\nSELECT 1;')
           = pg_catalog.jsonb_build_object(
               'description', pg_catalog.replace(public.hostile(), E'\n', ' '),
               'author', NULL, 'created', NULL,
               'dependencies', pg_catalog.jsonb_build_array('001', '002'),
               'risk_level', NULL, 'zero_downtime', true, 'estimated_duration', NULL,
               'environments', NULL, 'transaction', NULL, 'repeatable', NULL,
               'lock_timeout', NULL, 'statement_timeout', NULL,
               'idempotent', NULL, 'lint_ignore', NULL)"

scenario_finish
