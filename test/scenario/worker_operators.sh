#!/usr/bin/env bash
# test/scenario/worker_operators.sh: operators created in public by an
# unprivileged role never run as the scheduler (issue 7, finding 3).
#
# A role with no migrate privileges at all, but CREATE on public, creates
#   public.*(numeric, integer)          (preferred over the built-in
#                                        numeric * numeric when an
#                                        unqualified "x * 1000" is resolved)
#   public.<=(timestamptz, timestamptz)
#   public.-(timestamptz, timestamptz)
# whose functions note who calls them and, when that is a superuser, make
# the attacker a superuser.  With a schedule enabled (with a window, so the
# window arithmetic runs too) the scheduler runs several rounds and applies
# a migration: the operators must never have run as a superuser, and the
# attacker is still an ordinary role.  The attacker calling its own
# operator shows that the trap is armed.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_operators
ATTACKER=migrate_operators_attacker
ADMIN=migrate_operators_admin
scenario_init worker_operators "$DB"
require_preload
_drop_roles() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $ATTACKER, $ADMIN" >/dev/null 2>&1 || true
}
scenario_on_exit _drop_roles

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
DROP ROLE IF EXISTS $ATTACKER, $ADMIN;
CREATE ROLE $ATTACKER LOGIN;
CREATE ROLE $ADMIN LOGIN;
GRANT migrate_admin TO $ADMIN;
GRANT CREATE ON SCHEMA public TO $ATTACKER, $ADMIN;
SET ROLE $ATTACKER;
CREATE TABLE public.op_log (who name, super boolean, op text);
GRANT INSERT ON public.op_log TO PUBLIC;
CREATE FUNCTION public.trap(op text) RETURNS void LANGUAGE plpgsql AS \$f\$
DECLARE
    is_super boolean;
BEGIN
    SELECT r.rolsuper INTO is_super FROM pg_catalog.pg_roles r
     WHERE r.rolname OPERATOR(pg_catalog.=) current_user;
    INSERT INTO public.op_log VALUES (current_user, is_super, op);
    IF is_super THEN
        EXECUTE 'ALTER ROLE $ATTACKER SUPERUSER';
    END IF;
END
\$f\$;
CREATE FUNCTION public.evil_mul(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS \$f\$
BEGIN
    PERFORM public.trap('*');
    RETURN \$1 OPERATOR(pg_catalog.*) \$2::numeric;
END
\$f\$;
CREATE OPERATOR public.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = public.evil_mul);
CREATE FUNCTION public.evil_le(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS \$f\$
BEGIN
    PERFORM public.trap('<=');
    RETURN pg_catalog.timestamptz_le(\$1, \$2);
END
\$f\$;
CREATE OPERATOR public.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.evil_le);
CREATE FUNCTION public.evil_mi(timestamptz, timestamptz) RETURNS interval LANGUAGE plpgsql AS \$f\$
BEGIN
    PERFORM public.trap('-');
    RETURN pg_catalog.timestamptz_mi(\$1, \$2);
END
\$f\$;
CREATE OPERATOR public.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.evil_mi);
-- the trap is armed: the attacker's own unqualified numeric * integer finds it
SELECT 1.5 * 2;
SQL
expect "the attacker's own 1.5 * 2 runs its operator" \
    "$(val "$DB" -c "SELECT string_agg(who || ' ' || op, ', ') FROM public.op_log")" "$ATTACKER *"

# from here on the test's own queries must not trip the trap either
export PGOPTIONS="-c search_path=pg_catalog,pg_temp"
win="$(val "$DB" -c "SELECT to_char((now() AT TIME ZONE 'UTC') - interval '1 hour', 'HH24:MI') || '-' ||
                            to_char((now() AT TIME ZONE 'UTC') + interval '2 hours', 'HH24:MI')")"
sql "$DB" -c "SET ROLE $ADMIN" \
    -c "SELECT migrate.register('1', 'after_the_trap', 'CREATE TABLE public.op_done (id int);')" \
    -c "SELECT migrate.approve('1')" \
    -c "SELECT migrate.schedule('trapped', every => '1 second', \"window\" => '$win')" \

if wait_value 30 applied "$DB" "SELECT state FROM migrate.status WHERE version = '1'"; then
    pass "the scheduler applies the migration with the attacker's operators in public"
else
    fail "the migration was not applied (state '$WAIT_LAST'): $(val "$DB" -c "SELECT last_outcome FROM migrate.schedules WHERE name = 'trapped'")"
fi
# a few more rounds: every query of the scheduler runs again each second
mark="$(val "$DB" -c "SELECT clock_timestamp() + interval '3 seconds'")"
wait_value 30 t "$DB" "SELECT last_run_at > '$mark' FROM migrate.schedule WHERE name = 'trapped'" ||
    fail "the schedule did not run again"
expect "no operator of the attacker ran as a superuser" \
    "$(val "$DB" -c "SELECT count(*) FROM public.op_log WHERE super OR who <> '$ATTACKER'")" 0
expect "the attacker is not a superuser" \
    "$(val postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$ATTACKER'")" f
sql "$DB" -c "SELECT migrate.unschedule('trapped')" >/dev/null

scenario_finish
