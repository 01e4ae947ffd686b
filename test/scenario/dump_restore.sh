#!/usr/bin/env bash
# test/scenario/dump_restore.sh: migrate's catalog survives pg_dump/pg_restore.
#
# Builds a history in migrate_dump_src (register 3, apply 2, revert 1,
# re-apply it; a tag and an applied repeatable migration, issue 10), dumps
# it with pg_dump -Fc, restores into migrate_dump_dst and
# checks that the catalog rows, the history rows, the applied tables and the
# sequence positions came across, and that the restored database goes on
# working (applies exactly the remaining migration, new events get new ids).
#
# Expects PGHOST/PGPORT/PGUSER of a running cluster with migrate installed
# (scripts/test.sh provides them).  Without PGHOST it starts a throwaway
# cluster itself via scripts/lib.sh (migrate must be installed already).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC=migrate_dump_src
DST=migrate_dump_dst
work="$(mktemp -d)"

cleanup() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $SRC WITH (FORCE)" \
                          -c "DROP DATABASE IF EXISTS $DST WITH (FORCE)" \
                          -c "DROP DATABASE IF EXISTS migrate_dump_old WITH (FORCE)" \
                          -c "DROP DATABASE IF EXISTS migrate_dump_old_dst WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf -- "$work"
}
# before lib.sh's cluster trap, which composes with it
trap cleanup EXIT

if [ -z "${PGHOST:-}" ]; then
    # shellcheck source=scripts/lib.sh
    source "$root/scripts/lib.sh"
    migrate_start_cluster
else
    bindir="$(/usr/lib/postgresql/15/bin/pg_config --bindir 2>/dev/null || true)"
    if [ -n "$bindir" ]; then export PATH="$bindir:$PATH"; fi
fi

V1=20250301000001 V2=20250301000002 V3=20250301000003
failed=0

pass() { printf 'PASS: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failed=1; }
expect() {   # expect LABEL ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}
sql()  { local db="$1"; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
val()  { local db="$1"; shift; psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" "$@"; }

cleanup_dbs_first() {
    PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" sql postgres -c "DROP DATABASE IF EXISTS $SRC WITH (FORCE)" \
                 -c "DROP DATABASE IF EXISTS $DST WITH (FORCE)"
}
cleanup_dbs_first

# --- build a history in the source database ---------------------------------
sql postgres -c "CREATE DATABASE $SRC"
sql "$SRC" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.register('$V1', 'create_dr_alpha',
    'CREATE TABLE dr_alpha (id int PRIMARY KEY, note text);',
    'DROP TABLE dr_alpha;');
SELECT migrate.register('$V2', 'create_dr_beta',
    'CREATE TABLE dr_beta (id int PRIMARY KEY, alpha_id int REFERENCES dr_alpha);',
    'DROP TABLE dr_beta;');
SELECT migrate.register('$V3', 'create_dr_gamma',
    'CREATE TABLE dr_gamma (id int PRIMARY KEY);',
    'DROP TABLE dr_gamma;');
SQL

n=$(val "$SRC" -c "SELECT count(*) FROM migrate.apply(target => '$V2')")
expect "src: apply(target => V2) applies 2 migrations" "$n" 2

n=$(val "$SRC" -c "SELECT string_agg(version, ',') FROM migrate.revert(steps => 1)")
expect "src: revert(steps => 1) reverts V2" "$n" "$V2"

n=$(val "$SRC" -c "SELECT count(*) FROM migrate.apply(target => '$V2')")
expect "src: apply(target => V2) re-applies 1 migration" "$n" 1

sql "$SRC" -c "INSERT INTO dr_alpha VALUES (1, 'kept across dump')"
# a tag (issue 10), and a repeatable migration that is applied
val "$SRC" -o /dev/null -c "SELECT migrate.tag('before-dump', '$V1', 'kept across dump')" \
    -c "SELECT migrate.register('10', 'dr_view_repeatable', E'-- @repeatable: true\nCREATE OR REPLACE VIEW dr_view AS SELECT 1 AS x;')" \
    -c "SELECT count(*) FROM migrate.apply('10')"

# --- dump and restore -------------------------------------------------------
pg_dump -Fc -d "$SRC" -f "$work/src.dump"
sql postgres -c "CREATE DATABASE $DST"
if pg_restore --exit-on-error -d "$DST" "$work/src.dump" 2>"$work/restore.err"; then
    pass "pg_restore into $DST"
else
    cat "$work/restore.err"
    fail "pg_restore into $DST"
fi

# --- compare ----------------------------------------------------------------
same() {   # same LABEL QUERY
    val "$SRC" -c "$2" >"$work/a" 2>&1 || true
    val "$DST" -c "$2" >"$work/b" 2>&1 || true
    if [ ! -s "$work/a" ]; then
        fail "$1: no rows in $SRC"
    elif cmp -s "$work/a" "$work/b"; then
        pass "$1: identical ($(wc -l <"$work/a") rows)"
    else
        fail "$1 differ"
        diff -u --label "$SRC" --label "$DST" "$work/a" "$work/b" || true
    fi
}
same "migrate.migration" \
    "SELECT version, name, state, checksum, applied_checksum FROM migrate.migration ORDER BY version"
same "migrate.event" \
    "SELECT id, action, version, outcome FROM migrate.event ORDER BY id"
same "migrate.tags" \
    "SELECT tag, version, created_at, created_by, comment FROM migrate.tags"
same "repeatable migrations" \
    "SELECT version, repeatable FROM migrate.migration ORDER BY version"
same "migrate.status_detail" \
    "SELECT version, state, checksum_ok, applied_at FROM migrate.status_detail"

n=$(val "$SRC" -c "SELECT count(*) FROM migrate.event")
if [ "$n" -ge 7 ]; then pass "src: history has $n events"; else fail "src: history has $n events, expected at least 7"; fi

t=$(val "$DST" -c "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
                   WHERE c.relname IN ('dr_alpha', 'dr_beta', 'dr_gamma') AND c.relkind = 'r'")
expect "dst: applied tables exist (dr_alpha, dr_beta), dr_gamma does not" "$t" "dr_alpha,dr_beta"
t=$(val "$DST" -c "SELECT note FROM dr_alpha WHERE id = 1")
expect "dst: user data restored" "$t" "kept across dump"

t=$(val "$DST" -c "SELECT migrate.tag_version('before-dump')")
expect "dst: tag_version() finds the restored tag" "$t" "$V1"

# --- the restored database keeps working -------------------------------------
max_id=$(val "$DST" -c "SELECT max(id) FROM migrate.event")

n=$(val "$DST" -c "SELECT string_agg(version || ':' || action, ',') FROM migrate.apply()")
expect "dst: apply() applies exactly the remaining migration" "$n" "$V3:apply"

t=$(val "$DST" -c "SELECT count(*) FROM pg_class WHERE relname = 'dr_gamma' AND relkind = 'r'")
expect "dst: dr_gamma created" "$t" 1

t=$(val "$DST" -c "SELECT count(*) FROM migrate.migration WHERE state = 'applied'")
expect "dst: 4 migrations applied (3 and the repeatable one)" "$t" 4

sql "$DST" -c "SELECT migrate.register('20250301000004', 'create_dr_delta',
                   'CREATE TABLE dr_delta (id int);', 'DROP TABLE dr_delta;')" >/dev/null
t=$(val "$DST" -c "SELECT min(id) FROM migrate.event WHERE id > $max_id")
bad=$(val "$DST" -c "SELECT count(*) FROM (SELECT id FROM migrate.event GROUP BY id HAVING count(*) > 1) d")
new_reg=$(val "$DST" -c "SELECT id FROM migrate.event WHERE action = 'register' AND version = '20250301000004'")
if [ -n "$t" ] && [ "$bad" = 0 ] && [ -n "$new_reg" ] && [ "$new_reg" -gt "$max_id" ]; then
    pass "dst: new history ids continue after the restored ones (restored max $max_id, new register id $new_reg)"
else
    fail "dst: event ids did not continue (restored max $max_id, new register id '$new_reg', duplicates $bad)"
fi

# apply_seq continued too: the newly applied migration sorts after the others
t=$(val "$DST" -c "SELECT version FROM migrate.migration WHERE apply_seq IS NOT NULL ORDER BY apply_seq DESC LIMIT 1")
expect "dst: apply sequence continued (V3 applied last)" "$t" "$V3"

# --- a 1.0 database restored where 1.1 is installed -------------------------
# pg_dump writes CREATE EXTENSION without a version, so the restore installs
# 1.1 and then copies 1.0's rows, one of them in state rolled_back (1.0's
# name of reverted): every row must come back, that one as reverted.
OLD=migrate_dump_old OLD_DST=migrate_dump_old_dst
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" sql postgres \
    -c "DROP DATABASE IF EXISTS $OLD WITH (FORCE)" -c "DROP DATABASE IF EXISTS $OLD_DST WITH (FORCE)"
sql postgres -c "CREATE DATABASE $OLD" -c "CREATE DATABASE $OLD_DST"
sql "$OLD" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate VERSION '1.0';
SELECT migrate.register('$V1', 'create_dr_old_alpha',
    'CREATE TABLE dr_old_alpha (id int);', 'DROP TABLE dr_old_alpha;');
SELECT migrate.register('$V2', 'create_dr_old_beta',
    'CREATE TABLE dr_old_beta (id int);', 'DROP TABLE dr_old_beta;');
SELECT count(*) FROM migrate.apply();
SELECT count(*) FROM migrate.revert(steps => 1);
SQL
t=$(val "$OLD" -c "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate.migration")
expect "1.0 source: one migration applied, one rolled_back" "$t" "$V1:applied,$V2:rolled_back"
old_events=$(val "$OLD" -c "SELECT string_agg(id || ':' || action || ':' || coalesce(version, '') || ':' || outcome, ',' ORDER BY id) FROM migrate.event")
pg_dump -Fc -d "$OLD" -f "$work/old.dump"
if pg_restore --exit-on-error -d "$OLD_DST" "$work/old.dump" 2>"$work/restore_old.err"; then
    pass "pg_restore of a 1.0 dump into a 1.1 install"
else
    cat "$work/restore_old.err"
    fail "pg_restore of a 1.0 dump into a 1.1 install"
fi
t=$(val "$OLD_DST" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")
expect "1.0 dump restored: extension is 1.1" "$t" "1.1"
t=$(val "$OLD_DST" -c "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate.migration")
expect "1.0 dump restored: every migration row, rolled_back stored as reverted" "$t" "$V1:applied,$V2:reverted"
t=$(val "$OLD_DST" -c "SELECT string_agg(version || ':' || state, ',') FROM migrate.status")
expect "1.0 dump restored: migrate.status says reverted" "$t" "$V1:applied,$V2:reverted"
t=$(val "$OLD_DST" -c "SELECT string_agg(id || ':' || action || ':' || coalesce(version, '') || ':' || outcome, ',' ORDER BY id) FROM migrate.event")
expect "1.0 dump restored: history intact" "$t" "$old_events"
n=$(val "$OLD_DST" -c "SELECT string_agg(version || ':' || action, ',') FROM migrate.apply()")
expect "1.0 dump restored: apply() applies the reverted migration again" "$n" "$V2:apply"
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" sql postgres \
    -c "DROP DATABASE IF EXISTS $OLD WITH (FORCE)" -c "DROP DATABASE IF EXISTS $OLD_DST WITH (FORCE)"

if [ "$failed" = 0 ]; then
    echo "PASS: dump_restore"
else
    echo "FAIL: dump_restore"
    exit 1
fi
