#!/usr/bin/env bash
# test/scenario/upgrade.sh: the upgrade chain from the released 1.0.
#
#   0. migrate--1.0.sql (in the working tree and installed) is the released
#      1.0, byte for byte (its SHA-256 is recorded below: 1.0 was frozen at
#      commit cf7c21e); META.json's version is the control file's
#   1. in migrate_upg_old: CREATE EXTENSION migrate VERSION '1.0' (with the
#      current library), register four migrations with down scripts (one
#      depending on another, one CREATE INDEX CONCURRENTLY, which goes
#      through the apply worker), apply them, revert the latest; register a
#      REINDEX SCHEMA migration with the flags 1.0's classifier gave it
#      (transactional: forced, 1.1's library says otherwise); the site's
#      own privileges: grants on rehearse() (to a role WITH GRANT OPTION, to
#      PUBLIC, by that role to another), 1.0's grant to migrate_admin
#      revoked, a grant on plan(); grants on objects 1.1 drops and creates
#      again (the view status, apply(), require() with PUBLIC's EXECUTE
#      revoked), column grants on status (one on a column 1.1 drops: a
#      WARNING names it) and settings of apply() (ALTER FUNCTION ... SET)
#   2. ALTER EXTENSION migrate UPDATE, run by another superuser than the
#      extension's owner: every member is the owner's, no ACL or initial
#      privilege names the other; extversion and migrate.version() are
#      the control file's default_version; the rows of migrate.migration
#      and migrate.event, and of the status and history views, are the same
#      as before the update (the columns 1.0 had, read through 1.1's
#      status_detail, the narrow status and history.started_at, with the
#      state rolled_back named reverted and durations rounded to the
#      millisecond, as 1.1 shows them), except the flags of the REINDEX
#      SCHEMA migration, now non-transactional; no event was added;
#      schema_objects(), fingerprint() and table_data() of a schema with
#      every kind of object they describe give what they gave under 1.0;
#      the site's privileges are as before, not recorded as the
#      extension's initial ones, and pg_dump still dumps them
#   3. the updated database goes on working: revert (the concurrent index
#      too), apply, register and apply a new migration; the new rehearse()
#      reports the REINDEX SCHEMA migration in not_rehearsed, and apply()
#      applies it (through the apply worker) instead of failing
#   4. in migrate_upg_new a fresh CREATE EXTENSION migrate, then the same
#      site privileges: the catalog shape of both databases (every member
#      of the extension: functions with signature, result, volatility,
#      security, settings, body and ACL; tables with columns, defaults,
#      constraints, indexes, triggers, ACL and policies; views with their
#      definition; sequences; comments; pg_dump registration; initial
#      privileges (pg_init_privs); the schema) is identical
#   5. in migrate_upg_dep, a 1.0 database with a view and a function over
#      rehearse(): ALTER EXTENSION migrate UPDATE fails with SQLSTATE 2BP01
#      naming them and changes nothing; once they are dropped it succeeds
#   6. in migrate_upg_dep2, the same for a view over migrate.status, which
#      1.1 drops and creates again with fewer columns (issue 9)
#
# Needs a cluster with migrate preloaded (scripts/test.sh): the concurrent
# index build runs in the apply worker.
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
OLD=migrate_upg_old
NEW=migrate_upg_new
DEP=migrate_upg_dep
DEP2=migrate_upg_dep2
ENVDB=migrate_upg_env
scenario_init upgrade "$OLD" "$NEW" "$DEP" "$DEP2" "$ENVDB"
require_preload

# roles the site grants privileges to (roles are the cluster's: dropped on
# exit, after their privileges in the databases of the scenario)
SITE=migrate_upg_site SITE2=migrate_upg_site2
# a second superuser, who runs the update (the extension's owner is the
# superuser who created it)
SUPER=migrate_upg_super
drop_site_roles() {
    local db
    for db in "$OLD" "$NEW" "$DEP" "$DEP2"; do
        PGOPTIONS="-c client_min_messages=warning" \
            psql -X -q -d "$db" -c "DROP OWNED BY $SITE, $SITE2, $SUPER" >/dev/null 2>&1 || true
    done
    PGOPTIONS="-c client_min_messages=warning" \
        psql -X -q -d postgres -c "DROP ROLE IF EXISTS $SITE, $SITE2, $SUPER" >/dev/null 2>&1 || true
}
drop_site_roles
sql postgres -c "CREATE ROLE $SITE" -c "CREATE ROLE $SITE2" -c "CREATE ROLE $SUPER SUPERUSER"
scenario_on_exit drop_site_roles
# what a DBA may have changed on the functions of the extension: run on the
# 1.0 database before the update and on the fresh install after CREATE
# EXTENSION, so that both must end up with the same privileges
REHEARSE='migrate.rehearse(text, text, boolean)'
site_privileges() {   # site_privileges DB
    sql "$1" >/dev/null <<SQL
GRANT EXECUTE ON FUNCTION $REHEARSE TO $SITE WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION $REHEARSE TO PUBLIC;
SET ROLE $SITE;
GRANT EXECUTE ON FUNCTION $REHEARSE TO $SITE2;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION $REHEARSE FROM migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.plan(text) TO $SITE;
-- objects 1.1 drops and creates again (issue 9): a view, a function with
-- 1.0's default privileges, one that 1.0 left executable by PUBLIC
GRANT SELECT ON migrate.status TO $SITE;
GRANT EXECUTE ON FUNCTION migrate.apply TO $SITE;   -- one signature, 1.0's or 1.1's
REVOKE EXECUTE ON FUNCTION migrate.require(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.require(text) TO $SITE2;
-- column grants on the view, and settings of a function, both of which
-- 1.1 drops and creates again
GRANT SELECT (version, state) ON migrate.status TO $SITE2;
ALTER FUNCTION migrate.apply SET lock_timeout = '5s';
ALTER FUNCTION migrate.apply SET search_path = public, "upg schema";
-- a procedure 1.1 drops and creates again with a new parameter (issue 10)
GRANT EXECUTE ON PROCEDURE migrate.deploy TO $SITE;
SQL
}
# "column acl" of the columns of RELATION that have one
column_acls() {   # column_acls DB RELATION
    val "$1" -c "SELECT string_agg(attname || ' ' || attacl::text, ',' ORDER BY attname)
                 FROM pg_attribute WHERE attrelid = '$2'::regclass AND attacl IS NOT NULL"
}
# the ACL of a view or table, as stored
relacl() {   # relacl DB RELATION
    val "$1" -c "SELECT relacl FROM pg_class WHERE oid = '$2'::regclass"
}
# "grantee grantor grantable" of every privilege on FUNCTION in DB
privileges() {   # privileges DB FUNCTION
    val "$1" -c "SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
                                   || ' ' || a.grantor::regrole || ' ' || a.is_grantable, ','
                                   ORDER BY a.grantee::regrole::text COLLATE \"C\",
                                            a.grantor::regrole::text COLLATE \"C\")
                 FROM pg_proc p, aclexplode(p.proacl) a WHERE p.oid = '$2'::regprocedure"
}

# sha256sum of migrate--1.0.sql as released (git show cf7c21e:migrate--1.0.sql)
RELEASED_1_0_SHA256=d909e9f03bab2a6525be7d2e9153c3f401240c7720188e6ff0f927a4393bcba7
CURRENT="$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" \
               "$SCENARIO_ROOT/migrate.control")"

# --- 0. the released 1.0 -----------------------------------------------------
expect "migrate--1.0.sql in the working tree is the released 1.0" \
    "$(sha256sum <"$SCENARIO_ROOT/migrate--1.0.sql" | cut -d' ' -f1)" "$RELEASED_1_0_SHA256"
sharedir="$(val postgres -c "SELECT setting FROM pg_catalog.pg_config WHERE name = 'SHAREDIR'")"
expect "the installed migrate--1.0.sql is the released 1.0" \
    "$(sha256sum <"$sharedir/extension/migrate--1.0.sql" | cut -d' ' -f1)" "$RELEASED_1_0_SHA256"
expect "META.json's version is the control file's default_version ($CURRENT)" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
           "$SCENARIO_ROOT/META.json")" "$CURRENT.0"

# --- 1. a 1.0 database with a history ----------------------------------------
# run CALL (apply(...) or revert(...)) in $OLD: "version state" of each row
run() {
    val "$OLD" -c "SET client_min_messages = warning" \
        -c "SELECT string_agg(version || ' ' || state, ',' ORDER BY ordinality)
            FROM migrate.$1 WITH ORDINALITY"
}
V1=20250901000001 V2=20250901000002 V3=20250901000003 V4=20250901000004 V5=20250901000005
sql "$OLD" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate VERSION '1.0';
SELECT migrate.register('$V1', 'create_upg_a',
    'CREATE TABLE upg_a (id int PRIMARY KEY, note text);', 'DROP TABLE upg_a;');
SELECT migrate.register('$V2', 'create_upg_b',
\$up\$-- Description: upg_b refers to upg_a
-- @dependencies: $V1
CREATE TABLE upg_b (id int PRIMARY KEY, a_id int REFERENCES upg_a);
\$up\$, 'DROP TABLE upg_b;');
SELECT migrate.register('$V3', 'upg_b_a_idx',
    'CREATE INDEX CONCURRENTLY upg_b_a_idx ON upg_b (a_id);',
    'DROP INDEX CONCURRENTLY upg_b_a_idx;');
SELECT migrate.register('$V4', 'upg_a_extra',
    'ALTER TABLE upg_a ADD COLUMN extra int;', 'ALTER TABLE upg_a DROP COLUMN extra;');
SQL
expect "1.0: extversion" "$(val "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")" 1.0
expect "1.0: the concurrent index migration is non-transactional" \
    "$(val "$OLD" -c "SELECT transactional FROM migrate.migration WHERE version = '$V3'")" f
expect "1.0: apply() applies all four (the index through the apply worker)" \
    "$(run "apply()")" \
    "$V1 applied,$V2 applied,$V3 applied,$V4 applied"
expect "1.0: revert() reverts the latest (1.1's library writes 1.0's state name on 1.0's catalog)" \
    "$(run "revert()")" \
    "$V4 rolled_back"
# REINDEX SCHEMA cannot run inside a transaction block, but 1.0's classifier
# said it could: a migration registered under 1.0 has transactional = true
# (and down_transactional) stored, and failed whenever it was applied.  The
# library is 1.1's, whose register() classifies it right, so 1.0's flags
# are put in by hand (migrate.migration has no trigger to get past).
VR=20250901000009
sql "$OLD" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE SCHEMA upg_r;
CREATE TABLE upg_r.t (id int PRIMARY KEY);
SELECT migrate.register('$VR', 'reindex_upg_r', 'REINDEX SCHEMA upg_r;', 'REINDEX SCHEMA upg_r;');
UPDATE migrate.migration SET transactional = true, down_transactional = true WHERE version = '$VR';
SQL
expect "1.0: the REINDEX SCHEMA migration has 1.0's flags (transactional up and down)" \
    "$(val "$OLD" -c "SELECT transactional || ' ' || down_transactional FROM migrate.migration WHERE version = '$VR'")" \
    "true true"
# 1.0's deploy() on 1.1's library (its own symbol), and a repeatable
# migration, which 1.0's catalog has no column for, refused
expect "1.0: CALL migrate.deploy() runs 1.0's procedure on 1.1's library" \
    "$(psql -X -q -d "$OLD" -c "CALL migrate.deploy(target => '$V2')" 2>&1)" "NOTICE:  nothing to apply"
expect "1.0: a repeatable migration is refused until the update (0A000)" \
    "$({ psql -X -q -d "$OLD" -c '\set VERBOSITY verbose' \
            -c "SELECT migrate.register('$V5', 'repeatable', E'-- @repeatable: true\nSELECT 1;')" 2>&1 || true; } | head -1)" \
    "ERROR:  0A000: migration \"$V5\" cannot be repeatable before extension migrate is updated"
site_privileges "$OLD"
deploy_privileges="$(privileges "$OLD" "migrate.deploy(text, interval)")"
rehearse_privileges="$(privileges "$OLD" "$REHEARSE")"
plan_privileges="$(privileges "$OLD" "migrate.plan(text)")"
apply_privileges="$(privileges "$OLD" "migrate.apply(text, boolean)")"
require_privileges="$(privileges "$OLD" "migrate.require(text)")"
status_acl="$(relacl "$OLD" migrate.status)"
status_column_acls="$(column_acls "$OLD" migrate.status)"
apply_config="$(val "$OLD" -c "SELECT proconfig FROM pg_proc WHERE oid = 'migrate.apply(text, boolean)'::regprocedure")"
# a grant on a column that 1.1's narrow status no longer has
sql "$OLD" -c "GRANT SELECT (checksum_ok) ON migrate.status TO $SITE"
expect "1.0: require() returns void (1.0's symbol, on 1.1's library)" \
    "$(val "$OLD" -c "SELECT pg_typeof(migrate.require('$V1'))")" void
expect "1.0: the reverted migration is rolled_back in 1.0's catalog" \
    "$(val "$OLD" -c "SELECT state FROM migrate.migration WHERE version = '$V4'")" rolled_back
expect "1.0: the site's privileges on rehearse()" "$rehearse_privileges" \
    "PUBLIC postgres false,$SITE postgres true,$SITE2 $SITE false,postgres postgres false"

# the columns 1.0 has: a later version may add columns, never change these;
# the transactional flags apart, which the update may correct (flags())
columns() {   # columns DB RELATION
    val "$1" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                 WHERE attrelid = '$2'::regclass AND attnum > 0 AND NOT attisdropped
                   AND attname NOT IN ('transactional', 'down_transactional')"
}
flags() {   # "version transactional down_transactional" of every migration
    val "$OLD" -c "SELECT string_agg(version || ' ' || transactional || ' ' || coalesce(down_transactional::text, '-'),
                                     ',' ORDER BY version) FROM migrate.migration"
}
# 1.1 shows the same data under new names (issue 9): a reverted migration's
# state is reverted (1.0: rolled_back), 1.0's wide status is status_detail,
# the narrow status is 1.0's version, name, state, applied_at (whole
# seconds), applied_by, NOT checksum_ok and the last error's message;
# history's "time" is started_at; durations in the views are rounded to the
# millisecond.  So the rows read before the update are renamed and rounded
# the same way, and compared with what the new views show.
state_1_1() {   # state_1_1 COLUMNS: a 1.0 column list with 1.1's name of the state
    sed -E -e "s/(^|, )state(,|$)/\1CASE state WHEN 'rolled_back' THEN 'reverted' ELSE state END\2/" <<<"$1"
}
as_1_1() {   # as_1_1 COLUMNS: ... and durations as 1.1's views show them
    sed -E -e "s/(^|, )duration(,|$)/\1date_trunc('milliseconds', duration + interval '0.5 ms')\2/" \
        <<<"$(state_1_1 "$1")"
}
NARROW_1_0="version, name, CASE state WHEN 'rolled_back' THEN 'reverted' ELSE state END,
            date_trunc('second', applied_at), applied_by, NOT checksum_ok, last_error->>'message'"
snapshot() {   # snapshot FILE before|after: the rows of the catalog and of the views, as text
    {
        if [ "$2" = before ]; then
            echo "-- migrate.migration"; val "$OLD" -c "SELECT $(state_1_1 "$mig_cols") FROM migrate.migration ORDER BY version"
        else
            echo "-- migrate.migration"; val "$OLD" -c "SELECT $mig_cols FROM migrate.migration ORDER BY version"
        fi
        echo "-- migrate.event"; val "$OLD" -c "SELECT $ev_cols FROM migrate.event ORDER BY id"
        if [ "$2" = before ]; then
            echo "-- migrate.status"; val "$OLD" -c "SELECT $NARROW_1_0 FROM migrate.status"
            echo "-- migrate.status_detail"; val "$OLD" -c "SELECT $(as_1_1 "$st_cols") FROM migrate.status"
            echo "-- migrate.history"; val "$OLD" -c "SELECT $(as_1_1 "$hi_cols") FROM migrate.history"
        else
            # 1.1's columns, without the lint findings (issue 12), which a
            # migration registered before the update does not have
            echo "-- migrate.status"; val "$OLD" -c "SELECT version, name, state, applied_at, applied_by, changed, error FROM migrate.status"
            echo "-- migrate.status_detail"; val "$OLD" -c "SELECT $st_cols FROM migrate.status_detail"
            echo "-- migrate.history"; val "$OLD" -c "SELECT $(sed 's/"time"/started_at/' <<<"$hi_cols") FROM migrate.history"
        fi
        echo "-- sequences"; val "$OLD" -c "SELECT last_value, is_called FROM migrate.event_id_seq" \
                                        -c "SELECT last_value, is_called FROM migrate.apply_seq"
    } >"$1"
}
mig_cols="$(columns "$OLD" migrate.migration)"
ev_cols="$(columns "$OLD" migrate.event)"
st_cols="$(columns "$OLD" migrate.status)"
hi_cols="$(columns "$OLD" migrate.history)"
expect "1.0: history has the column \"time\", renamed by 1.1" \
    "$(grep -o '"time"' <<<"$hi_cols")" '"time"'
snapshot "$SCENARIO_WORK/before" before
flags_before="$(flags)"
# user objects of every kind the fingerprint describes: the update redefines
# schema_objects(), fingerprint() and table_data() (qualified names), and
# fingerprints recorded before it must stay comparable with later ones
sql "$OLD" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA upg_s;
CREATE TYPE upg_s.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN upg_s.pos AS int NOT NULL DEFAULT 1 CHECK (VALUE > 0);
CREATE TYPE upg_s.span AS RANGE (subtype = int4);
CREATE TYPE upg_s.pair AS (a int, b text);
CREATE SEQUENCE upg_s.seq INCREMENT 5 CACHE 2;
CREATE TABLE upg_s.parent (id int GENERATED ALWAYS AS IDENTITY, k text COLLATE "C", m upg_s.mood,
                           twice int GENERATED ALWAYS AS (id * 2) STORED, p upg_s.pos)
    PARTITION BY LIST (m);
CREATE TABLE upg_s.part_ok PARTITION OF upg_s.parent FOR VALUES IN ('ok');
CREATE UNLOGGED TABLE upg_s.base (id int PRIMARY KEY) WITH (fillfactor = 70);
CREATE TABLE upg_s.child (extra text) INHERITS (upg_s.base);
ALTER TABLE upg_s.child ADD CONSTRAINT child_fk FOREIGN KEY (id) REFERENCES upg_a NOT VALID;
ALTER TABLE upg_s.base ENABLE ROW LEVEL SECURITY;
CREATE POLICY base_read ON upg_s.base FOR SELECT TO migrate_reader USING (id > 0);
CREATE VIEW upg_s.v AS SELECT id, id + 1 AS next FROM upg_s.base;
CREATE MATERIALIZED VIEW upg_s.mv AS SELECT count(*) AS n FROM upg_s.base;
CREATE FUNCTION upg_s.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER base_touch BEFORE INSERT ON upg_s.base FOR EACH ROW EXECUTE FUNCTION upg_s.touch();
CREATE INDEX base_brin ON upg_s.base USING brin (id);
COMMENT ON TABLE upg_s.base IS 'fingerprinted';
COMMENT ON COLUMN upg_s.child.extra IS 'also';
INSERT INTO upg_s.base VALUES (1), (2);
INSERT INTO upg_a VALUES (1, 'one');
SQL
fingerprint_queries=(-c "SELECT kind, identity, definition, hash FROM migrate.schema_objects()"
                     -c "SELECT migrate.fingerprint()"
                     -c "SELECT identity, definition FROM migrate.table_data()")
val "$OLD" "${fingerprint_queries[@]}" >"$SCENARIO_WORK/fingerprint.before"
events_before="$(val "$OLD" -c "SELECT count(*) FROM migrate.event")"

# --- 2. ALTER EXTENSION migrate UPDATE ---------------------------------------
# run by another superuser than the one who created the extension: what
# the update creates is the extension owner's all the same
if sql "$OLD" -c "SET ROLE $SUPER" -c "ALTER EXTENSION migrate UPDATE" >"$SCENARIO_WORK/update.out" 2>&1; then
    pass "ALTER EXTENSION migrate UPDATE (run by another superuser, $SUPER)"
else
    cat "$SCENARIO_WORK/update.out"
    fail "ALTER EXTENSION migrate UPDATE"
    scenario_finish
fi
expect "updated by $SUPER: every member of the extension is owned by the extension's owner" \
    "$(val "$OLD" -c "SELECT coalesce(string_agg(pg_describe_object(d.classid, d.objid, 0) || ' owned by ' || o.owner::regrole, ', '
                                                 ORDER BY 1), 'none other')
                      FROM pg_depend d
                      JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'migrate'
                      CROSS JOIN LATERAL (SELECT p.proowner FROM pg_proc p WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid
                                          UNION ALL
                                          SELECT c.relowner FROM pg_class c WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid
                                          UNION ALL
                                          SELECT t.typowner FROM pg_type t WHERE d.classid = 'pg_type'::regclass AND t.oid = d.objid) o(owner)
                      WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND o.owner <> x.extowner")" \
    "none other"
expect "updated by $SUPER: no privilege names $SUPER (ACLs and initial privileges)" \
    "$(val "$OLD" -c "SELECT (SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a
                              WHERE p.pronamespace = 'migrate'::regnamespace AND '$SUPER'::regrole IN (a.grantor, a.grantee))
                           + (SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
                              WHERE c.relnamespace = 'migrate'::regnamespace AND '$SUPER'::regrole IN (a.grantor, a.grantee))
                           + (SELECT count(*) FROM pg_init_privs ip, aclexplode(ip.initprivs) a
                              WHERE '$SUPER'::regrole IN (a.grantor, a.grantee))")" 0
expect "updated: extversion is $CURRENT" \
    "$(val "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")" "$CURRENT"
expect "updated: migrate.version() is $CURRENT" "$(val "$OLD" -c "SELECT migrate.version()")" "$CURRENT"
snapshot "$SCENARIO_WORK/after" after
expect "updated: migrations registered before the update have no lint findings nor derived risk" \
    "$(val "$OLD" -c "SELECT count(*) FROM migrate.status s JOIN migrate.status_detail d USING (version)
                      WHERE s.findings IS NOT NULL OR d.derived_risk IS NOT NULL")" 0
if [ "$(grep -c . "$SCENARIO_WORK/before")" -gt 20 ] &&
        diff -u "$SCENARIO_WORK/before" "$SCENARIO_WORK/after" >"$SCENARIO_WORK/rows.diff"; then
    pass "updated: catalog rows, status, status_detail and history show what 1.0's showed ($(grep -c . "$SCENARIO_WORK/before") lines)"
else
    fail "updated: catalog rows, status, status_detail or history changed"
    cat "$SCENARIO_WORK/rows.diff"
fi
val "$OLD" "${fingerprint_queries[@]}" >"$SCENARIO_WORK/fingerprint.after"
if [ "$(grep -c . "$SCENARIO_WORK/fingerprint.before")" -gt 40 ] &&
        diff -u "$SCENARIO_WORK/fingerprint.before" "$SCENARIO_WORK/fingerprint.after" \
            >"$SCENARIO_WORK/fingerprint.diff"; then
    pass "updated: schema_objects(), fingerprint() and table_data() give what 1.0 gave ($(grep -c . "$SCENARIO_WORK/fingerprint.before") lines)"
else
    fail "updated: schema_objects(), fingerprint() or table_data() changed"
    cat "$SCENARIO_WORK/fingerprint.diff"
fi
expect "updated: the update wrote no event" \
    "$(val "$OLD" -c "SELECT count(*) FROM migrate.event")" "$events_before"
expect "updated: the REINDEX SCHEMA migration is non-transactional now (up and down), no other flag changed" \
    "$(flags)" "${flags_before/"$VR true true"/"$VR false false"}"
expect "updated: the site's privileges on rehearse() are as before" \
    "$(privileges "$OLD" "$REHEARSE")" "$rehearse_privileges"
expect "updated: the site's privileges on plan() are as before" \
    "$(privileges "$OLD" "migrate.plan(text)")" "$plan_privileges"
expect "updated: the site's privileges on apply() (dropped and created again) are as before" \
    "$(privileges "$OLD" "migrate.apply(text, boolean, boolean, boolean, text)")" "$apply_privileges"
expect "updated: the site's privileges on require() (dropped and created again) are as before" \
    "$(privileges "$OLD" "migrate.require(text)")" "$require_privileges"
expect "updated: the site's privileges on deploy() (dropped and created again with batch_size) are as before" \
    "$(privileges "$OLD" "migrate.deploy(text, interval, integer, boolean, boolean, text)")" "$deploy_privileges"
expect "updated: the site's privileges on deploy() were as the test expects" \
    "$deploy_privileges" "migrate_admin postgres false,$SITE postgres false,postgres postgres false"
expect "updated: the site's privileges on the view status (dropped and created again) are as before" \
    "$(relacl "$OLD" migrate.status)" "$status_acl"
expect "updated: the column grants on the view status (dropped and created again) are as before" \
    "$(column_acls "$OLD" migrate.status)" "$status_column_acls"
expect "updated: the column grants were as the test expects (version and state)" \
    "$(echo "$status_column_acls" | sed 's/ {[^}]*}//g')" "state,version"
expect "updated: the settings of apply() (dropped and created again) are as before" \
    "$(val "$OLD" -c "SELECT proconfig FROM pg_proc WHERE oid = 'migrate.apply(text, boolean, boolean, boolean, text)'::regprocedure")" \
    "$apply_config"
expect "updated: the settings of apply() were as the test expects" \
    "$apply_config" '{lock_timeout=5s,"search_path=public, \"upg schema\""}'
expect "updated: a WARNING names the grant on a column 1.1's status no longer has" \
    "$(grep -c 'WARNING:  the grants on columns of migrate.status that version 1.1 drops are not carried over: checksum_ok ({migrate_upg_site=r/postgres})' "$SCENARIO_WORK/update.out" || true)" 1
expect "updated: the reverted migration's state is reverted, in the catalog and the views" \
    "$(val "$OLD" -c "SELECT m.state || ' ' || s.state || ' ' || d.state FROM migrate.migration m
                      JOIN migrate.status s USING (version) JOIN migrate.status_detail d USING (version)
                      WHERE version = '$V4'")" "reverted reverted reverted"
# (the CHECK still accepts rolled_back, for a 1.0 dump restored into 1.1,
# and stores it as reverted: test/scenario/dump_restore.sh)
expect "updated: no state is rolled_back any more, and one written is stored as reverted" \
    "$(val "$OLD" -c "SELECT count(*) FROM migrate.migration WHERE state = 'rolled_back'" \
                  -c "UPDATE migrate.migration SET state = 'rolled_back' WHERE version = '$V4' RETURNING state")" "0
reverted"
expect "updated: require() returns the version it found" \
    "$(val "$OLD" -c "SELECT migrate.require('0$V1')")" "$V1"
expect "updated: the initial privileges of rehearse() are 1.0's defaults, not the site's" \
    "$(val "$OLD" -c "SELECT initprivs FROM pg_init_privs WHERE objoid = '$REHEARSE'::regprocedure")" \
    "{postgres=X/postgres,migrate_admin=X/postgres}"
# pg_dump leaves out the initial privileges of an extension's members (CREATE
# EXTENSION makes them), and dumps the difference: the site's changes
# (the grant by $SITE under SET SESSION AUTHORIZATION $SITE)
pg_dump -s -d "$OLD" >"$SCENARIO_WORK/dump.sql"
dumped_rehearse='migrate.rehearse(from_version text, to_version text, data boolean)'
expect "updated: pg_dump dumps the site's privileges on rehearse()" \
    "$(grep -E '^(GRANT|REVOKE) .* ON FUNCTION migrate\.rehearse\(' "$SCENARIO_WORK/dump.sql" | LC_ALL=C sort | tr '\n' '|')" \
    "$(printf '%s|' "GRANT ALL ON FUNCTION $dumped_rehearse TO PUBLIC;" \
                    "GRANT ALL ON FUNCTION $dumped_rehearse TO $SITE WITH GRANT OPTION;" \
                    "GRANT ALL ON FUNCTION $dumped_rehearse TO $SITE2;" \
                    "REVOKE ALL ON FUNCTION $dumped_rehearse FROM migrate_admin;")"

# --- 3. it goes on working ---------------------------------------------------
expect "updated: apply('$V4') applies the reverted migration" \
    "$(run "apply('$V4')")" \
    "$V4 applied"
expect "updated: revert(steps => 2) reverts it and the concurrent index (apply worker)" \
    "$(run "revert(steps => 2)")" \
    "$V4 reverted,$V3 reverted"
expect "updated: the index is gone" \
    "$(val "$OLD" -c "SELECT count(*) FROM pg_class WHERE relname = 'upg_b_a_idx'")" 0
sql "$OLD" >/dev/null <<SQL
SET client_min_messages = warning;
SELECT migrate.register('$V5', 'create_upg_c',
\$up\$-- @dependencies: $V2
CREATE TABLE upg_c (id int PRIMARY KEY, b_id int REFERENCES upg_b);
\$up\$, 'DROP TABLE upg_c;');
SQL
expect "updated: apply('$V5') applies the rest and a newly registered one" \
    "$(run "apply('$V5')")" \
    "$V3 applied,$V4 applied,$V5 applied"
expect "updated: the concurrent index is valid again" \
    "$(val "$OLD" -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'upg_b_a_idx'::regclass")" t
expect "updated: history recorded the new actions (register, 1 + 2 + 3 runs)" \
    "$(val "$OLD" -c "SELECT count(*) FROM migrate.event WHERE id > (SELECT max(id) - 7 FROM migrate.event)
                                                           AND action IN ('register', 'apply', 'revert')
                                                           AND outcome = 'success'")" 7
expect "updated: the new rehearse() says it could not rehearse the REINDEX SCHEMA migration" \
    "$(val "$OLD" -c "SELECT r.version || ' ' || r.ok || ' ' || (n->>'script') || ' ' || (n->>'reason')
                      FROM migrate.rehearse() r, jsonb_array_elements(r.not_rehearsed) n
                      ORDER BY n->>'script' DESC")" \
    "$VR true up REINDEX SCHEMA cannot run inside a transaction block
$VR true down REINDEX SCHEMA cannot run inside a transaction block"
expect "updated: apply() applies the REINDEX SCHEMA migration (apply worker)" \
    "$(run "apply()")" \
    "$VR applied"
expect "updated: status" \
    "$(val "$OLD" -c "SELECT string_agg(version || ' ' || state || ' ' || checksum_ok, ',') FROM migrate.status_detail")" \
    "$V1 applied true,$V2 applied true,$V3 applied true,$V4 applied true,$V5 applied true,$VR applied true"

expect "updated: deploy(batch_size => 1) has nothing to apply" \
    "$(psql -X -q -d "$OLD" -c "CALL migrate.deploy(batch_size => 1)" 2>&1)" "NOTICE:  nothing to apply"
expect "updated: a tag names the migration applied last, and tag_version() returns it" \
    "$(val "$OLD" -c "SELECT migrate.tag('upgraded')" -c "SELECT migrate.tag_version('upgraded')")" "$VR
$VR"

# --- 4. the same catalog as a fresh install -----------------------------------
sql "$NEW" -c "SET client_min_messages = warning" -c "CREATE EXTENSION migrate" >/dev/null
expect "fresh: extversion is $CURRENT" \
    "$(val "$NEW" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")" "$CURRENT"
site_privileges "$NEW"

# One line per property of every object of the extension, sorted; OIDs
# never appear (objects are named), the rows of the tables never either.
cat >"$SCENARIO_WORK/shape.sql" <<'SQL'
SET search_path = pg_catalog;
WITH ext AS (
    SELECT e.oid, e.extname, e.extversion, e.extrelocatable, e.extowner::regrole::text AS owner,
           e.extnamespace::regnamespace::text AS nsp, e.extconfig, e.extcondition
    FROM pg_extension e WHERE e.extname = 'migrate'
),
members AS (
    SELECT d.classid, d.objid
    FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
rels AS (
    SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
),
lines(line) AS (
    SELECT format('extension %s version %s relocatable %s owner %s schema %s', extname, extversion,
                  extrelocatable, owner, nsp) FROM ext
  UNION ALL
    SELECT format('extension config %s condition %L', c::regclass, cond)
    FROM ext, unnest(ext.extconfig, ext.extcondition) AS x(c, cond)
  UNION ALL
    SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) FROM members m
  UNION ALL
    SELECT format('function %s: kind %s, args (%s), returns %s%s, language %s, volatility %s, strict %s, '
                  'security definer %s, leakproof %s, parallel %s, cost %s, rows %s, config %s, '
                  'owner %s, acl %s, bin %s, src %s',
                  p.oid::regprocedure, p.prokind, pg_get_function_arguments(p.oid),
                  CASE WHEN p.proretset THEN 'setof ' ELSE '' END, p.prorettype::regtype,
                  l.lanname, p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof, p.proparallel,
                  p.procost, p.prorows, p.proconfig, p.proowner::regrole, p.proacl, p.probin,
                  replace(replace(p.prosrc, E'\\', E'\\\\'), E'\n', E'\\n'))
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    JOIN pg_language l ON l.oid = p.prolang
  UNION ALL
    SELECT format('function %s: result %s', p.oid::regprocedure, pg_get_function_result(p.oid))
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
  UNION ALL
    SELECT format('relation %s: kind %s, persistence %s, owner %s, acl %s, row security %s, forced %s, '
                  'options %s, replica identity %s, has triggers %s',
                  c.oid::regclass, c.relkind, c.relpersistence, c.relowner::regrole, c.relacl,
                  c.relrowsecurity, c.relforcerowsecurity, c.reloptions, c.relreplident, c.relhastriggers)
    FROM rels c
  UNION ALL
    SELECT format('column %s.%s #%s: %s, not null %s, default %s, identity %s, generated %s, '
                  'collation %s, dropped %s, acl %s',
                  c.oid::regclass, quote_ident(a.attname), a.attnum, format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  a.attcollation::regcollation, a.attisdropped, a.attacl)
    FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  UNION ALL
    SELECT format('constraint %s.%s: %s, deferrable %s, deferred %s, validated %s',
                  c.oid::regclass, quote_ident(con.conname), pg_get_constraintdef(con.oid),
                  con.condeferrable, con.condeferred, con.convalidated)
    FROM rels c JOIN pg_constraint con ON con.conrelid = c.oid
  UNION ALL
    SELECT format('index %s: %s, valid %s, clustered %s', i.indexrelid::regclass,
                  pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisclustered)
    FROM rels c JOIN pg_index i ON i.indrelid = c.oid
  UNION ALL
    SELECT format('trigger %s.%s: %s, enabled %s', c.oid::regclass, quote_ident(t.tgname),
                  pg_get_triggerdef(t.oid), t.tgenabled)
    FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
  UNION ALL
    SELECT format('policy %s.%s: cmd %s, permissive %s, roles %s, using %s, check %s',
                  c.oid::regclass, quote_ident(pol.polname), pol.polcmd, pol.polpermissive,
                  (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY 1)
                   FROM unnest(pol.polroles) AS r),
                  pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid))
    FROM rels c JOIN pg_policy pol ON pol.polrelid = c.oid
  UNION ALL
    SELECT format('view %s: %s', c.oid::regclass,
                  replace(pg_get_viewdef(c.oid, true), E'\n', E'\\n'))
    FROM rels c WHERE c.relkind IN ('v', 'm')
  UNION ALL
    SELECT format('sequence %s: %s start %s increment %s min %s max %s cache %s cycle %s, owned by %s',
                  c.oid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                  s.seqcache, s.seqcycle,
                  (SELECT d.refobjid::regclass || '.' || quote_ident(a.attname)
                   FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'))
    FROM rels c JOIN pg_sequence s ON s.seqrelid = c.oid
  UNION ALL
    -- comments on the members, their columns and the schema
    SELECT format('comment on %s: %s', pg_describe_object(ds.classoid, ds.objoid, ds.objsubid),
                  replace(ds.description, E'\n', E'\\n'))
    FROM pg_description ds
    WHERE EXISTS (SELECT FROM members m WHERE m.classid = ds.classoid AND m.objid = ds.objoid)
       OR (ds.classoid = 'pg_namespace'::regclass AND ds.objoid = (SELECT extnamespace FROM pg_extension
                                                                   WHERE extname = 'migrate'))
       OR (ds.classoid = 'pg_trigger'::regclass
           AND ds.objoid IN (SELECT t.oid FROM pg_trigger t JOIN rels c ON c.oid = t.tgrelid))
       OR (ds.classoid = 'pg_constraint'::regclass
           AND ds.objoid IN (SELECT con.oid FROM pg_constraint con JOIN rels c ON c.oid = con.conrelid))
  UNION ALL
    SELECT format('schema %s: owner %s, acl %s', n.nspname, n.nspowner::regrole, n.nspacl)
    FROM pg_namespace n WHERE n.oid = (SELECT extnamespace FROM pg_extension WHERE extname = 'migrate')
  UNION ALL
    SELECT format('default acl in schema %s for %s: %s %s', d.defaclnamespace::regnamespace,
                  d.defaclrole::regrole, d.defaclobjtype, d.defaclacl)
    FROM pg_default_acl d
    WHERE d.defaclnamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'migrate')
  UNION ALL
    -- the privileges CREATE EXTENSION gives, which pg_dump leaves out
    SELECT format('initial privileges (%s) of %s: %s', ip.privtype,
                  pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), ip.initprivs)
    FROM pg_init_privs ip
    WHERE EXISTS (SELECT FROM members m WHERE m.classid = ip.classoid AND m.objid = ip.objoid)
       OR (ip.classoid = 'pg_namespace'::regclass
           AND ip.objoid = (SELECT extnamespace FROM pg_extension WHERE extname = 'migrate'))
  -- no roles (migrate_admin, migrate_reader) nor their memberships: they are
  -- the cluster's, so two databases of one cluster always see the same
)
SELECT line FROM lines ORDER BY line COLLATE "C";
SQL
val "$OLD" -f "$SCENARIO_WORK/shape.sql" >"$SCENARIO_WORK/shape.old"
val "$NEW" -f "$SCENARIO_WORK/shape.sql" >"$SCENARIO_WORK/shape.new"
lines="$(grep -c . "$SCENARIO_WORK/shape.new" || true)"
if [ "$lines" -lt 200 ]; then
    fail "catalog shape: only $lines lines from the fresh install"
elif diff -u --label "$OLD (1.0, updated)" --label "$NEW (fresh + site privileges)" \
        "$SCENARIO_WORK/shape.old" "$SCENARIO_WORK/shape.new" >"$SCENARIO_WORK/shape.diff"; then
    pass "catalog shape of the updated and the fresh install is identical ($lines lines)"
else
    fail "catalog shape of the updated and the fresh install differs"
    cat "$SCENARIO_WORK/shape.diff"
fi
expect "catalog shape: initial privileges compared ($(grep -c '^initial privileges' "$SCENARIO_WORK/shape.new" || true) lines)" \
    "$(grep -c "^initial privileges (e) of function migrate.rehearse(text,text,boolean): {postgres=X/postgres,migrate_admin=X/postgres}$" \
           "$SCENARIO_WORK/shape.new" || true)" 1

# --- 5. objects over rehearse() stop the update, which says so ------------------
# DROP FUNCTION would fail on them anyway (and the whole update roll back):
# the update says which they are and what to do, and changes nothing
sql "$DEP" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate VERSION '1.0';
CREATE VIEW upg_rehearsal AS SELECT * FROM migrate.rehearse();
CREATE FUNCTION upg_rehearsals() RETURNS bigint LANGUAGE sql
BEGIN ATOMIC SELECT count(*) FROM migrate.rehearse(); END;
SQL
val "$DEP" -f "$SCENARIO_WORK/shape.sql" >"$SCENARIO_WORK/shape.dep.before"
if sql "$DEP" -v VERBOSITY=verbose -c "ALTER EXTENSION migrate UPDATE" >"$SCENARIO_WORK/dep.out" 2>&1; then
    fail "dependants: ALTER EXTENSION migrate UPDATE succeeded over a view of rehearse()"
else
    expect "dependants: the update fails with 2BP01, naming the view and the function" \
        "$(sed -n 's/^ERROR: *//p' "$SCENARIO_WORK/dep.out")" \
        "2BP01: cannot update extension migrate: function migrate.rehearse() is used by function public.upg_rehearsals(), view public.upg_rehearsal"
    expect "dependants: the hint says what to do" \
        "$(sed -n 's/^HINT: *//p' "$SCENARIO_WORK/dep.out")" \
        "Drop those objects, run ALTER EXTENSION migrate UPDATE, then create them again (a SELECT * over rehearse() then returns the new column too)."
fi
val "$DEP" -f "$SCENARIO_WORK/shape.sql" >"$SCENARIO_WORK/shape.dep.after"
if [ "$(grep -c . "$SCENARIO_WORK/shape.dep.before")" -gt 200 ] &&
        diff -u "$SCENARIO_WORK/shape.dep.before" "$SCENARIO_WORK/shape.dep.after" >"$SCENARIO_WORK/dep.diff"; then
    pass "dependants: the failed update changed nothing (catalog shape, $(grep -c . "$SCENARIO_WORK/shape.dep.before") lines)"
else
    fail "dependants: the failed update changed the catalog"
    cat "$SCENARIO_WORK/dep.diff"
fi
expect "dependants: the view is still there, with 1.0's seven columns" \
    "$(val "$DEP" -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'upg_rehearsal'::regclass AND attnum > 0")" 7
sql "$DEP" >/dev/null <<'SQL'
DROP VIEW upg_rehearsal;
DROP FUNCTION upg_rehearsals();
ALTER EXTENSION migrate UPDATE;
CREATE VIEW upg_rehearsal AS SELECT * FROM migrate.rehearse();
SQL
expect "dependants: once they are dropped the update succeeds, and a view created again has not_rehearsed" \
    "$(val "$DEP" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")
$(val "$DEP" -c "SELECT attname FROM pg_attribute WHERE attrelid = 'upg_rehearsal'::regclass AND attnum = 8")" \
    "$CURRENT
not_rehearsed"

# --- 6. a view over migrate.status stops the update too ------------------------
# 1.1 drops the view migrate.status (it loses columns) and creates it again:
# a site's view over it must go first, as with rehearse()
sql "$DEP2" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate VERSION '1.0';
CREATE VIEW upg_unverified AS SELECT version FROM migrate.status WHERE NOT checksum_ok;
SQL
if sql "$DEP2" -v VERBOSITY=verbose -c "ALTER EXTENSION migrate UPDATE" >"$SCENARIO_WORK/dep2.out" 2>&1; then
    fail "status dependants: ALTER EXTENSION migrate UPDATE succeeded over a view of migrate.status"
else
    expect "status dependants: the update fails with 2BP01, naming the view" \
        "$(sed -n 's/^ERROR: *//p' "$SCENARIO_WORK/dep2.out")" \
        "2BP01: cannot update extension migrate: view migrate.status is used by view public.upg_unverified"
    expect "status dependants: the hint says what to do" \
        "$(sed -n 's/^HINT: *//p' "$SCENARIO_WORK/dep2.out")" \
        "Drop those objects, run ALTER EXTENSION migrate UPDATE, then create them again."
fi
sql "$DEP2" >/dev/null <<'SQL'
DROP VIEW upg_unverified;
ALTER EXTENSION migrate UPDATE;
CREATE VIEW upg_unverified AS SELECT version FROM migrate.status WHERE changed;
SQL
expect "status dependants: once it is dropped the update succeeds, and it is created again over changed" \
    "$(val "$DEP2" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")" "$CURRENT"

# --- 7. environments (issue 11) on a 1.0 catalog --------------------------------
# 1.0 has no migrate.environment_setting: with migrate.environment set (for
# the database, so that the apply worker has it too) the 1.1 library sees no
# environment there, and @environments filters nothing, as in 1.0; after
# the update the same setting selects production's row
VE1=20250901000001 VE2=20250901000002 VE3=20250901000003
sql "$ENVDB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate VERSION '1.0';
ALTER DATABASE $ENVDB SET migrate.environment = 'production';
SQL
sql "$ENVDB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE upg_env (id int);
SELECT migrate.register('$VE1', 'dev_seed', E'-- @environments: development\nINSERT INTO upg_env VALUES (1);');
SELECT migrate.register('$VE2', 'dev_index', E'-- @environments: development\nCREATE INDEX CONCURRENTLY upg_env_idx ON upg_env (id);');
SQL
expect "environments on 1.0: apply() applies what @environments leaves out (both paths), no error" \
    "$(val "$ENVDB" -c "SET client_min_messages = warning" \
        -c "SELECT string_agg(version || ' ' || state, ',' ORDER BY ordinality) FROM migrate.apply() WITH ORDINALITY")" \
    "$VE1 applied,$VE2 applied"
sql "$ENVDB" >/dev/null <<SQL
SET client_min_messages = warning;
ALTER EXTENSION migrate UPDATE;
SELECT migrate.register('$VE3', 'dev_seed_2', E'-- @environments: development\nINSERT INTO upg_env VALUES (3);');
-- production requires approval
SELECT migrate.approve('$VE3');
SQL
expect "environments after the update: the same setting selects production, which skips it (approved)" \
    "$(val "$ENVDB" -c "SELECT environment FROM migrate.effective_settings")
$(val "$ENVDB" -c "SET client_min_messages = warning" \
        -c "SELECT string_agg(version || ' ' || state, ',' ORDER BY ordinality) FROM migrate.apply() WITH ORDINALITY")" \
    "production
$VE3 skipped"

scenario_finish
