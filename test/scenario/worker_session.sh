#!/usr/bin/env bash
# test/scenario/worker_session.sh: a scheduled migration runs in a session
# of its own, as its registrant, and leaves nothing behind (issue 7,
# findings 1 and 2, and the "Quality bar" scenario).
#
# One schedule runs four migrations in one round:
#   1. by alice (transactional): a deferred constraint trigger and a WITH
#      HOLD cursor (both run at commit), SET search_path to a schema with
#      its own now(), a temporary table, a prepared statement, SET ROLE
#      to a role alice is a member of, and RESET ROLE;
#   2. by alice: SET SESSION AUTHORIZATION postgres (refused: alice's
#      session has no superuser to become);
#   3. by alice (@transaction: false): a procedure that commits, SET
#      search_path, DISCARD ALL;
#   4. by bob: records what its session sees.
# Every piece of alice's code that runs (triggers, cursor query, procedure)
# notes current_user, session_user and whether that role is a superuser.
# None of it ran as a superuser or as anyone but alice (or the role she SET
# ROLE to), and bob's session has the default search_path, no temporary
# table, prepared statement or cursor of alice's, and never called
# alice's now().
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_session
ALICE=migrate_session_alice
HELPER=migrate_session_helper
BOB=migrate_session_bob
scenario_init worker_session "$DB"
require_preload
_drop_roles() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $ALICE, $HELPER, $BOB" >/dev/null 2>&1 || true
}
scenario_on_exit _drop_roles

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $ALICE, $HELPER, $BOB;
CREATE ROLE $ALICE LOGIN;
CREATE ROLE $HELPER NOLOGIN;
CREATE ROLE $BOB LOGIN;
GRANT migrate_admin TO $ALICE, $BOB;
GRANT $HELPER TO $ALICE;
GRANT CREATE ON DATABASE $DB TO $ALICE;
GRANT CREATE ON SCHEMA public TO $BOB;
-- who ran what: anybody may add a row, and the row says who did
CREATE TABLE public.seen (id serial, tag text, cur name, sess name, super boolean, path text);
GRANT INSERT ON public.seen TO PUBLIC;
GRANT USAGE ON SEQUENCE public.seen_id_seq TO PUBLIC;
CREATE FUNCTION public.note(tag text) RETURNS void LANGUAGE sql AS \$\$
    INSERT INTO public.seen (tag, cur, sess, super, path)
    SELECT tag, current_user, session_user, r.rolsuper, pg_catalog.current_setting('search_path')
    FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user
\$\$;
SET ROLE $ALICE;
SELECT migrate.register('1', 'commit_time_and_session_state', \$up\$
CREATE SCHEMA alice_s;
CREATE TABLE alice_s.t (id int);
CREATE FUNCTION alice_s.trg() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN
    PERFORM public.note('deferred trigger');
    RETURN NULL;
END
\$f\$;
CREATE CONSTRAINT TRIGGER t_deferred AFTER INSERT ON alice_s.t
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION alice_s.trg();
INSERT INTO alice_s.t VALUES (1);
DECLARE held CURSOR WITH HOLD FOR SELECT public.note('with hold cursor');
CREATE FUNCTION alice_s.now() RETURNS timestamptz LANGUAGE sql AS \$f\$
    SELECT public.note('alice_s.now() shadowing pg_catalog.now()');
    SELECT pg_catalog.now();
\$f\$;
SET search_path = alice_s, pg_catalog;
CREATE TEMP TABLE left_behind (x int);
PREPARE left_plan AS SELECT 1;
SET ROLE $HELPER;
SELECT public.note('set role');
RESET ROLE;
SELECT public.note('reset role');
\$up\$);
SELECT migrate.register('2', 'session_authorization', \$up\$
DO \$d\$
BEGIN
    SET SESSION AUTHORIZATION postgres;
    PERFORM public.note('set session authorization');
EXCEPTION WHEN insufficient_privilege THEN
    PERFORM public.note('set session authorization refused');
END
\$d\$;
\$up\$);
SELECT migrate.register('3', 'commits_and_discards', \$up\$
-- @transaction: false
CREATE PROCEDURE alice_s.committing() LANGUAGE plpgsql AS \$p\$
BEGIN
    PERFORM public.note('procedure before its commit');
    COMMIT;
    PERFORM public.note('procedure after its commit');
END
\$p\$;
CALL alice_s.committing();
SET search_path = alice_s, pg_catalog;
DISCARD ALL;
SELECT public.note('after discard all');
\$up\$);
SET ROLE $BOB;
SELECT migrate.register('4', 'next_one_sees', \$up\$
SELECT public.note('next migration');
CREATE TABLE public.bob_saw AS
SELECT current_setting('search_path') AS path,
       to_regclass('pg_temp.left_behind') IS NULL AS no_temp_table,
       (SELECT count(*) FROM pg_prepared_statements) AS prepared,
       (SELECT count(*) FROM pg_cursors) AS cursors,
       now() IS NOT NULL AS now_works;
\$up\$);
RESET ROLE;
SELECT migrate.schedule('session', every => '1 second', require_approval => false);
SQL

if wait_value 60 "applied applied applied applied" "$DB" \
        "SELECT string_agg(state, ' ' ORDER BY version) FROM migrate.status"; then
    pass "the four migrations are applied by the schedule"
else
    fail "not all applied: $WAIT_LAST ($(val "$DB" -c "SELECT string_agg(version || ': ' || coalesce(last_error->>'message', ''), '; ') FROM migrate.status_detail WHERE state <> 'applied'"))"
fi

seen() { val "$DB" -c "SELECT coalesce(string_agg(cur || '/' || sess || '/' || super, ' ' ORDER BY id), 'none') FROM public.seen WHERE tag = '$1'"; }
expect "the deferred trigger ran at commit as $ALICE" "$(seen 'deferred trigger')" "$ALICE/$ALICE/false"
expect "the WITH HOLD cursor's query ran as $ALICE" "$(seen 'with hold cursor')" "$ALICE/$ALICE/false"
expect "SET ROLE reached only a role $ALICE is a member of" "$(seen 'set role')" "$HELPER/$ALICE/false"
expect "RESET ROLE went back to $ALICE, not to a superuser" "$(seen 'reset role')" "$ALICE/$ALICE/false"
expect "SET SESSION AUTHORIZATION postgres is refused" "$(seen 'set session authorization')" "none"
expect "... and the refusal ran as $ALICE" "$(seen 'set session authorization refused')" "$ALICE/$ALICE/false"
expect "the procedure ran as $ALICE before its COMMIT" "$(seen 'procedure before its commit')" "$ALICE/$ALICE/false"
expect "the procedure ran as $ALICE after its COMMIT" "$(seen 'procedure after its commit')" "$ALICE/$ALICE/false"
expect "after DISCARD ALL, still $ALICE" "$(seen 'after discard all')" "$ALICE/$ALICE/false"
expect "the next migration runs as $BOB, in a session of its own" "$(seen 'next migration')" "$BOB/$BOB/false"
expect "$BOB's session: default search_path, none of $ALICE's temp table, prepared statement or cursor" \
    "$(val "$DB" -c "SELECT path || ' ' || no_temp_table || ' ' || prepared || ' ' || cursors || ' ' || now_works FROM public.bob_saw")" \
    '"$user", public true 0 0 true'
expect "nothing of $ALICE's ever ran as a superuser or as another role" \
    "$(val "$DB" -c "SELECT count(*) FROM public.seen WHERE super OR cur NOT IN ('$ALICE', '$HELPER', '$BOB') OR sess NOT IN ('$ALICE', '$BOB')")" 0
expect "nobody called alice_s.now() (not the scheduler, not $BOB)" \
    "$(seen 'alice_s.now() shadowing pg_catalog.now()')" "none"
expect "history: each apply row names its registrant" \
    "$(val "$DB" -c "SELECT string_agg(version || ' ' || role, ', ' ORDER BY version) FROM migrate.history WHERE action = 'apply' AND outcome = 'success'")" \
    "1 $ALICE, 2 $ALICE, 3 $ALICE, 4 $BOB"
expect "$ALICE and $BOB are not superusers" \
    "$(val postgres -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('$ALICE', '$BOB', '$HELPER') AND rolsuper")" 0

# the scheduler keeps working after all that, with its own settings
sql "$DB" -c "SET ROLE $BOB" -c "SELECT migrate.register('5', 'later', 'SELECT 5;')" >/dev/null
if wait_value 30 applied "$DB" "SELECT state FROM migrate.status WHERE version = '5'"; then
    pass "a later migration is applied by the same scheduler"
else
    fail "a later migration was not applied (state '$WAIT_LAST')"
fi
sql "$DB" -c "SELECT migrate.unschedule('session')" >/dev/null

scenario_finish
