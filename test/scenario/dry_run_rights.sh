#!/usr/bin/env bash
# test/scenario/dry_run_rights.sh: whose rights plan(), rehearse() and dry
# runs use, and that they say so (issue 7, finding 4).
#
# A migrate_admin role (dep) registers two migrations whose scripts record
# current_user.  Then:
#   1. the superuser's plan() runs their preconditions as dep;
#   2. the superuser's apply(dry_run => true) and rehearse() run them as
#      the superuser, as apply() would, and each call warns once, naming
#      both migrations and dep;
#   3. the superuser's revert(dry_run => true) of dep's applied migration
#      warns the same way;
#   4. dep's own dry run and rehearsal warn about nothing.
# Nothing of it is left behind.  Needs no background worker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

DB=mig_dry_rights
DEP=mig_dry_rights_dep
scenario_init dry_run_rights "$DB"
drop_role() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres \
        -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP ROLE IF EXISTS $DEP" >/dev/null 2>&1 || true
}
scenario_on_exit drop_role
PGOPTIONS="-c client_min_messages=warning" sql postgres -q -c "DROP ROLE IF EXISTS $DEP" \
    -c "CREATE ROLE $DEP LOGIN"
sql "$DB" -q -c "CREATE EXTENSION migrate" -c "GRANT migrate_admin TO $DEP" \
    -c "CREATE TABLE public.seen (step text, who name)" \
    -c "GRANT INSERT, SELECT ON public.seen TO $DEP" \
    -c "GRANT CREATE ON SCHEMA public TO $DEP"
sql "$DB" -q -o /dev/null \
    -c "SET ROLE $DEP" \
    -c "SELECT migrate.register('001', 'first', \$\$INSERT INTO public.seen VALUES ('up 001', current_user);\$\$,
                                \$\$INSERT INTO public.seen VALUES ('down 001', current_user);\$\$,
                                precondition => \$\$INSERT INTO public.seen VALUES ('pre 001', current_user); SELECT true;\$\$)" \
    -c "SELECT migrate.register('002', 'second', \$\$INSERT INTO public.seen VALUES ('up 002', current_user);\$\$,
                                \$\$INSERT INTO public.seen VALUES ('down 002', current_user);\$\$)"

# --- 1. plan(): preconditions as their registrant -----------------------------
expect "the superuser's plan() ran the precondition of 001 as $DEP" \
    "$(val "$DB" -c "SELECT precondition_checked_as FROM migrate.plan() WHERE version = '001'")" "$DEP"
out="$(sql "$DB" -c "SELECT count(*) FROM migrate.plan()" 2>&1)"
case "$out" in
    *WARNING*) fail "plan() warned: $out" ;;
    *) pass "plan() does not warn: it runs nobody's code with the caller's rights" ;;
esac

# --- 2. dry run and rehearsal by the superuser ---------------------------------
check_warning() {   # check_warning LABEL OUTPUT
    local label="$1" out="$2" n
    n="$(grep -c '^WARNING: .*scripts registered by other roles, with your privileges' <<<"$out" || true)"
    expect "$label: one warning per call" "$n" 1
    if grep -q "^DETAIL:  Migrations: 001 (registered by \"$DEP\"), 002 (registered by \"$DEP\")\.$" <<<"$out"; then
        pass "$label: the warning names 001 and 002 and $DEP"
    else
        fail "$label: no DETAIL naming 001 and 002 and $DEP in: $out"
    fi
}
out="$(sql "$DB" -c "SELECT version, state, note FROM migrate.apply(dry_run => true)" 2>&1)"
check_warning "the superuser's apply(dry_run => true)" "$out"
out="$(sql "$DB" -c "SELECT version, ok FROM migrate.rehearse()" 2>&1)"
check_warning "the superuser's rehearse()" "$out"
expect "nothing the dry run or the rehearsal ran is left" \
    "$(val "$DB" -c "SELECT count(*) FROM public.seen")" 0

# --- 3. a dry-run revert of dep's applied migrations ---------------------------
PGOPTIONS="-c client_min_messages=warning" sql "$DB" -q -o /dev/null -c "SET ROLE $DEP" -c "SELECT * FROM migrate.apply()"
out="$(sql "$DB" -c "SELECT version, state FROM migrate.revert(steps => 2, dry_run => true)" 2>&1)"
n="$(grep -c 'scripts registered by other roles' <<<"$out" || true)"
expect "the superuser's revert(dry_run => true) warns once" "$n" 1
expect "the dry-run revert left both migrations applied" \
    "$(val "$DB" -c "SELECT string_agg(state, ',' ORDER BY version) FROM migrate.status")" "applied,applied"

# --- 4. dep's own calls warn about nothing -------------------------------------
out="$(sql "$DB" -c "SET ROLE $DEP" -c "SELECT version FROM migrate.revert(steps => 2, dry_run => true)" 2>&1)"
case "$out" in
    *WARNING*) fail "$DEP's own dry-run revert warned: $out" ;;
    *) pass "$DEP's own dry-run revert does not warn" ;;
esac
expect "$DEP's own migrations ran as $DEP when $DEP applied them" \
    "$(val "$DB" -c "SELECT string_agg(DISTINCT who::text, ',') FROM public.seen")" "$DEP"

scenario_finish
