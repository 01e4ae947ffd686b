#!/usr/bin/env bash
# test/scenario/worker_authorisation.sh: a scheduled run executes a
# migration as its registrant only when that is what was authorised.
#
#   A. (hostile review, finding A) alice, a LOGIN member of migrate_admin
#      owning schema dep, registers migration 100 whose deferred constraint
#      trigger calls migrate.register('900', ...) at commit, to swap the
#      script of the superuser's pending migration 900 for
#      ALTER ROLE alice SUPERUSER, and schedules it without approval.  The
#      register() at commit is refused ("cannot change migrations from
#      inside a migration"), 100 fails, 900 keeps its script and its
#      registrant, and alice stays an ordinary role.  Once 100 is fixed it
#      runs as alice, while 900 (the superuser's) is held back: alice's
#      schedule cannot run it as the superuser.  A superuser's schedule and
#      approval run it.
#   B. (finding B) mallory, with CREATE on public, plants public.lower(varchar)
#      for the superuser's pending migration 950 to resolve.  approve('950')
#      is refused (42501: mallory lacks the superuser's privileges); her
#      schedule without approval holds 950 back; an approval recorded as
#      hers (as one made before this check existed) holds it back too.
#      mallory stays an ordinary role and 950 never runs.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DBA=migrate_authorisation_a
DBB=migrate_authorisation_b
ALICE=migrate_authorisation_alice
MALLORY=migrate_authorisation_mallory
scenario_init worker_authorisation "$DBA" "$DBB"
require_preload
_drop_roles() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DBA WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS $DBB WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $ALICE, $MALLORY" >/dev/null 2>&1 || true
}
scenario_on_exit _drop_roles
SUPER="$(val postgres -c "SELECT current_user")"
is_super() { val postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$1'"; }

# --- A: swapping a planned migration's script from a deferred trigger ---
sql "$DBA" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $ALICE;
CREATE ROLE $ALICE LOGIN;
GRANT migrate_admin TO $ALICE;
CREATE SCHEMA dep AUTHORIZATION $ALICE;
SELECT migrate.register('900', 'dba_harmless', 'SELECT 1;');
SET ROLE $ALICE;
SELECT migrate.register('100', 'swap', \$s\$
CREATE TABLE dep.trig_t (x int);
CREATE FUNCTION dep.swap() RETURNS trigger LANGUAGE plpgsql AS \$f\$
BEGIN PERFORM migrate.register('900','dba_harmless','ALTER ROLE $ALICE SUPERUSER;'); RETURN NULL; END \$f\$;
CREATE CONSTRAINT TRIGGER swap AFTER INSERT ON dep.trig_t
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dep.swap();
INSERT INTO dep.trig_t VALUES (1);
\$s\$);
SELECT migrate.schedule('go', every => '1 second', require_approval => false);
SQL

wait_value 30 "failed" "$DBA" "SELECT state FROM migrate.status WHERE version = '100'" ||
    fail "100 did not fail at commit (state: $WAIT_LAST)"
expect "100 failed: its deferred register() was refused" \
    "$(val "$DBA" -c "SELECT last_error->>'message' FROM migrate.status_detail WHERE version = '100'")" \
    "cannot change migrations from inside a migration"
expect "900 keeps its script and its registrant" \
    "$(val "$DBA" -c "SELECT up_script || ' ' || registered_by || ' ' || state FROM migrate.migration WHERE version = '900'")" \
    "SELECT 1; $SUPER pending"
expect "$ALICE is not a superuser" "$(is_super "$ALICE")" "f"

sql "$DBA" >/dev/null <<SQL
SET ROLE $ALICE;
SELECT migrate.register('100', 'swap', 'CREATE TABLE dep.ok_t (x int);');
SQL
wait_value 30 "applied $ALICE" "$DBA" \
    "SELECT state || ' ' || applied_by FROM migrate.status WHERE version = '100'" ||
    fail "alice's own migration did not run as alice (got: $WAIT_LAST)"
want="held back: migration 900 would run as role \"$SUPER\", but it was scheduled by \"$ALICE\", who does not have the privileges of \"$SUPER\""
wait_value 30 "$want" "$DBA" "SELECT last_outcome FROM migrate.schedule WHERE name = 'go'" ||
    fail "900 was not held back as scheduled by $ALICE (last_outcome: $WAIT_LAST)"
expect "900 is still pending" \
    "$(val "$DBA" -c "SELECT state FROM migrate.status WHERE version = '900'")" "pending"
expect "the held-back run is in the history" \
    "$(val "$DBA" -c "SELECT count(*) FROM migrate.event WHERE action = 'run' AND detail->>'stopped_at' = '900' AND detail->>'reason' LIKE '%scheduled by%'")" "1"

sql "$DBA" >/dev/null <<SQL
SELECT migrate.unschedule('go');
SELECT migrate.approve('900');
SELECT migrate.schedule('dba', every => '1 second');
SQL
wait_value 30 "applied $SUPER" "$DBA" \
    "SELECT state || ' ' || applied_by FROM migrate.status WHERE version = '900'" ||
    fail "the superuser's migration approved by a superuser did not run (got: $WAIT_LAST)"
expect "$ALICE is still not a superuser" "$(is_super "$ALICE")" "f"
sql "$DBA" -c "SELECT migrate.unschedule('dba')" >/dev/null

# --- B: approving a superuser's migration in an environment one controls ---
sql "$DBB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $MALLORY;
CREATE ROLE $MALLORY LOGIN;
GRANT migrate_admin TO $MALLORY;
GRANT CREATE ON SCHEMA public TO $MALLORY;
SELECT migrate.register('950', 'dba_lower', 'CREATE TABLE public.b_t AS SELECT lower(''X''::varchar) AS v;');
SET ROLE $MALLORY;
CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE plpgsql AS
  \$f\$ BEGIN ALTER ROLE $MALLORY SUPERUSER; RETURN 'x'; END \$f\$;
SQL
out="$(val "$DBB" -v VERBOSITY=verbose -c "SET ROLE $MALLORY" -c "SELECT migrate.approve('950')" 2>&1 || true)"
case "$out" in
    *42501*"permission denied to approve migration \"950\""*) pass "approve() refuses mallory (42501)" ;;
    *) fail "approve() by $MALLORY: $out" ;;
esac
expect "950 is not approved" \
    "$(val "$DBB" -c "SELECT approved_by IS NULL FROM migrate.migration WHERE version = '950'")" "t"

sql "$DBB" >/dev/null <<SQL
SET ROLE $MALLORY;
SELECT migrate.schedule('m', every => '1 second', require_approval => false);
SQL
want="held back: migration 950 would run as role \"$SUPER\", but it was scheduled by \"$MALLORY\", who does not have the privileges of \"$SUPER\""
wait_value 30 "$want" "$DBB" "SELECT last_outcome FROM migrate.schedule WHERE name = 'm'" ||
    fail "950 was not held back as scheduled by $MALLORY (last_outcome: $WAIT_LAST)"

# an approval recorded as mallory's (made before approve() checked)
sql "$DBB" >/dev/null <<SQL
SELECT migrate.unschedule('m');
UPDATE migrate.migration SET approved_at = now(), approved_by = '$MALLORY' WHERE version = '950';
SET ROLE $MALLORY;
SELECT migrate.schedule('m2', every => '1 second');
SQL
want="held back: migration 950 would run as role \"$SUPER\", but it was approved by \"$MALLORY\", who does not have the privileges of \"$SUPER\""
wait_value 30 "$want" "$DBB" "SELECT last_outcome FROM migrate.schedule WHERE name = 'm2'" ||
    fail "950 was not held back as approved by $MALLORY (last_outcome: $WAIT_LAST)"
expect "950 never ran" \
    "$(val "$DBB" -c "SELECT state || ' ' || (to_regclass('public.b_t') IS NULL) FROM migrate.status WHERE version = '950'")" \
    "pending true"
expect "$MALLORY is not a superuser" "$(is_super "$MALLORY")" "f"
sql "$DBB" -c "SELECT migrate.unschedule('m2')" >/dev/null

scenario_finish
