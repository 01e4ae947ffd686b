/* migrate--1.0--1.1.sql: upgrade migrate from 1.0 to 1.1 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrate UPDATE TO '1.1'" to load this file. \quit

-- 1.0 is released and migrate--1.0.sql never changes again.  Every change
-- of the SQL surface since goes here (and later into 1.1--1.2, ...).  A
-- fresh CREATE EXTENSION runs migrate--1.0.sql and then this script, so a
-- fresh install and an upgraded one are built by the same statements;
-- test/scenario/upgrade.sh checks that they end up identical.
--
-- Each section below says which change it belongs to.

/* ---------------------------------------------------------------------
 * WP1 (issue 8, items 8 and 9): migrate.version(), a comment on every
 * object of the extension, builtins schema-qualified in the bodies of the
 * SQL and PL/pgSQL functions.
 * --------------------------------------------------------------------- */

-- default_version of migrate.control, compiled into the library: equal to
-- pg_extension.extversion unless ALTER EXTENSION migrate UPDATE is due.
-- STABLE, like pg_catalog.version(): installing another library changes it
CREATE FUNCTION migrate.version() RETURNS text
AS 'MODULE_PATHNAME', 'migrate_version'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate.version() IS
    'version of migrate the installed library was built for (default_version of migrate.control)';
-- like the other helpers it reads nothing from the catalog: anybody may
-- call it (EXECUTE stays granted to PUBLIC, hence to migrate_reader)

-- every object of the extension has a comment (test/pgtap/catalog.sql
-- fails on one without)
COMMENT ON TABLE migrate.scheduler_state IS
    'at most one row: whether the scheduler of this database is paused, since when and by whom';
COMMENT ON SEQUENCE migrate.apply_seq IS
    'order in which migrations were applied (migrate.migration.apply_seq)';
COMMENT ON SEQUENCE migrate.event_id_seq IS
    'ids of migrate.event (history) rows';

COMMENT ON VIEW migrate.status IS
    'every registered migration, in version order: state, checksum check, metadata, last error (no script text)';
COMMENT ON VIEW migrate.history IS
    'every attempt to change a migration, oldest first (script text only for migrate_admin)';
COMMENT ON VIEW migrate.schedules IS
    'schedules of the background worker, with their next and last run and what they wait for';
COMMENT ON VIEW migrate.progress IS
    'live progress of every session and worker applying or reverting migrations now, in any database';

COMMENT ON FUNCTION migrate.version_cmp(text, text) IS
    'compare two versions in natural order: -1, 0 or 1';
COMMENT ON FUNCTION migrate.window_end_at(timestamptz, time, time, text) IS
    'end of the maintenance window "at" falls in (local times in the time zone), or NULL when outside it';
COMMENT ON FUNCTION migrate.table_data() IS
    'row count and content hash of every user table, for rehearse(data => true)';
COMMENT ON FUNCTION migrate.register(text, text, text, text, text, text, text) IS
    'register a migration: version, name, up script, optional down, verify and precondition scripts';
COMMENT ON FUNCTION migrate.apply(text, boolean) IS
    'apply the pending migrations in dependency order, up to target; dry_run rolls back';
COMMENT ON FUNCTION migrate.revert(text, integer, text, boolean, boolean) IS
    'revert applied migrations: the latest, those after target, a number of steps, or one migration (with cascade)';
COMMENT ON FUNCTION migrate.revert_all() IS
    'revert every applied migration, newest first';
COMMENT ON FUNCTION migrate.repair(text, text, text) IS
    'record the current checksums of a migration (optionally new up and down scripts) after an intended change';
COMMENT ON FUNCTION migrate.plan(text) IS
    'what apply(target) would do, in order, without doing it';
COMMENT ON FUNCTION migrate.rehearse(text, text, boolean) IS
    'apply, revert and re-apply each pending migration in a rolled-back transaction, and compare the schemas';
COMMENT ON FUNCTION migrate.event_is_append_only() IS
    'trigger function: refuses UPDATE, DELETE and TRUNCATE of migrate.event';
COMMENT ON FUNCTION migrate.acquire_lock() IS
    'internal: take the migrate lock of this database until the end of the transaction';
COMMENT ON FUNCTION migrate.wake() IS
    'internal: wake the launcher and this database''s scheduler when the transaction commits';
COMMENT ON FUNCTION migrate.schedule(text, interval, text, text, text, text, text, boolean) IS
    'create or replace a schedule: apply approved migrations every interval or on a cron expression, within a window';
COMMENT ON FUNCTION migrate.unschedule(text) IS
    'drop a schedule';
COMMENT ON FUNCTION migrate.pause() IS
    'pause the scheduler of this database (recorded in the history)';
COMMENT ON FUNCTION migrate.resume() IS
    'resume the scheduler of this database after pause() (recorded in the history)';
COMMENT ON FUNCTION migrate.approve(text) IS
    'approve a migration for scheduled runs (as the role that registered it)';
COMMENT ON FUNCTION migrate.resolve(text, text) IS
    'decide about a dirty migration: retry, mark_applied or mark_reverted';
COMMENT ON FUNCTION migrate.progress_slots() IS
    'internal: the live progress slots in shared memory, behind the view migrate.progress';
COMMENT ON FUNCTION migrate.scheduler_info() IS
    'internal: whether the library is preloaded, and the pids of the launcher and of this database''s scheduler';
COMMENT ON FUNCTION migrate.health() IS
    'one row for monitoring: pending, failed and dirty migrations, last apply, lock holder, scheduler state';
COMMENT ON FUNCTION migrate.verify_integrity() IS
    'what is wrong that a migration may have caused: invalid indexes, unvalidated constraints, changed scripts, failed or dirty migrations';

/*
 * Builtins schema-qualified in the bodies of the SQL and PL/pgSQL
 * functions (same signatures, settings, security and behaviour: CREATE OR
 * REPLACE keeps their ACLs and comments).  Every one of them pins its
 * search_path, under which no function or operator of pg_temp is ever
 * found, so an unqualified operator there is safe and stays as it is; the
 * functions are qualified all the same, so that a body reads the same
 * wherever it is copied to.  schema_objects(), fingerprint() and
 * table_data() pin search_path = pg_catalog only, which leaves pg_temp
 * implicitly FIRST for relations, types and collations: there the catalog
 * relations, the regclass literals, the casts and the "C" collation are
 * qualified too, so that a caller's temporary table named pg_class (or a
 * temporary type named text) cannot change the fingerprint.
 * window_end_at(), error_for_reader() and detail_for_reader() were written
 * qualified in 1.0; event_is_append_only() and unschedule() call no
 * builtin.  The views are not redefined: a view stores its query with the
 * functions and operators resolved when it was created (by this script,
 * under the extension's search_path), so a reader's search_path never
 * reaches them, and a redefinition with qualified names stores the same
 * query.
 */

CREATE OR REPLACE FUNCTION migrate.schema_objects(
    OUT kind text, OUT identity text, OUT definition text, OUT hash text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog AS
$fp$

WITH user_ns AS (
    SELECT n.oid, n.nspname
    FROM pg_catalog.pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'migrate')
      AND n.nspname NOT LIKE 'pg\_toast%'
      AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid = n.oid
                        AND d.deptype = 'e')
),
ext_member AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d WHERE d.deptype = 'e'
),
rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions,
           c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
           ns.nspname, pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS ident
    FROM pg_catalog.pg_class c JOIN user_ns ns ON ns.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
      AND NOT EXISTS (SELECT FROM ext_member e
                      WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = c.oid)
),
objects(kind, identity, definition) AS (
    SELECT 'extension', e.extname::pg_catalog.text, 'version ' || e.extversion || ' in schema ' || n.nspname
    FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname NOT IN ('plpgsql', 'migrate')
  UNION ALL
    SELECT 'schema', pg_catalog.quote_ident(ns.nspname), 'schema' FROM user_ns ns
  UNION ALL
    SELECT CASE r.relkind WHEN 'p' THEN 'table' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
           r.ident,
           pg_catalog.concat_ws(' ', CASE r.relkind WHEN 'p' THEN 'partitioned' END,
                     CASE r.relpersistence WHEN 'u' THEN 'unlogged' END,
                     CASE WHEN r.relkind = 'p' THEN 'partition by ' || pg_catalog.pg_get_partkeydef(r.oid) END,
                     CASE WHEN r.relispartition
                          THEN 'partition of ' || (SELECT i.inhparent::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_inherits i WHERE i.inhrelid = r.oid)
                               || ' ' || pg_catalog.pg_get_expr((SELECT c.relpartbound FROM pg_catalog.pg_class c WHERE c.oid = r.oid), r.oid) END,
                     CASE WHEN r.relrowsecurity THEN 'row security' END,
                     CASE WHEN r.relforcerowsecurity THEN 'forced row security' END,
                     'with ' || pg_catalog.array_to_string(r.reloptions, ','),
                     (SELECT 'inherits ' || pg_catalog.string_agg(i.inhparent::pg_catalog.regclass::pg_catalog.text, ',' ORDER BY i.inhparent::pg_catalog.regclass::pg_catalog.text)
                      FROM pg_catalog.pg_inherits i WHERE i.inhrelid = r.oid AND NOT r.relispartition))
    FROM rels r WHERE r.relkind IN ('r', 'p', 'f')
  UNION ALL
    SELECT 'column', r.ident || '.' || pg_catalog.quote_ident(a.attname),
           pg_catalog.concat_ws(' ', pg_catalog.format_type(a.atttypid, a.atttypmod),
                     CASE WHEN a.attnotnull THEN 'not null' END,
                     CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
                          THEN 'collate ' || (SELECT pg_catalog.quote_ident(co.collname) FROM pg_catalog.pg_collation co WHERE co.oid = a.attcollation) END,
                     CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
                                        WHEN 'd' THEN 'generated by default as identity' END,
                     CASE WHEN a.attgenerated = 's' THEN 'generated always as (' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) || ') stored'
                          WHEN ad.adbin IS NOT NULL THEN 'default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END)
    FROM rels r
    JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE r.relkind IN ('r', 'p', 'f', 'v', 'm', 'c')
  UNION ALL
    SELECT 'constraint',
           coalesce(r.ident, pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(ty.typname)) || '.' || pg_catalog.quote_ident(con.conname),
           pg_catalog.pg_get_constraintdef(con.oid) || CASE WHEN con.convalidated THEN '' ELSE ' (not validated)' END
    FROM pg_catalog.pg_constraint con
    LEFT JOIN rels r ON r.oid = con.conrelid
    LEFT JOIN pg_catalog.pg_type ty ON ty.oid = con.contypid
    LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = ty.typnamespace
    WHERE (r.oid IS NOT NULL OR (con.contypid <> 0 AND tn.oid IN (SELECT oid FROM user_ns)))
  UNION ALL
    SELECT 'index', pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(ic.relname),
           pg_catalog.pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN user_ns ns ON ns.oid = ic.relnamespace
    WHERE NOT EXISTS (SELECT FROM ext_member e WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = i.indrelid)
  UNION ALL
    SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.ident,
           pg_catalog.pg_get_viewdef(r.oid, true)
    FROM rels r WHERE r.relkind IN ('v', 'm')
  UNION ALL
    SELECT 'sequence', r.ident,
           pg_catalog.format('%s increment %s min %s max %s start %s cache %s%s',
                  pg_catalog.format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax,
                  s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END)
    FROM rels r JOIN pg_catalog.pg_sequence s ON s.seqrelid = r.oid
    WHERE r.relkind = 'S'
  UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
           pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(p.proname)
               || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
           CASE WHEN p.prokind = 'a'
                THEN 'aggregate returning ' || pg_catalog.format_type(p.prorettype, NULL)
                ELSE pg_catalog.pg_get_functiondef(p.oid) END
    FROM pg_catalog.pg_proc p JOIN user_ns ns ON ns.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT FROM ext_member e WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = p.oid)
  UNION ALL
    SELECT 'trigger', r.ident || '.' || pg_catalog.quote_ident(tg.tgname),
           pg_catalog.pg_get_triggerdef(tg.oid) || CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' ELSE '' END
    FROM pg_catalog.pg_trigger tg JOIN rels r ON r.oid = tg.tgrelid
    WHERE NOT tg.tgisinternal
  UNION ALL
    SELECT CASE ty.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range'
                           ELSE 'type' END,
           pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(ty.typname),
           CASE ty.typtype
               WHEN 'e' THEN (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(en.enumlabel), ', ' ORDER BY en.enumsortorder)
                              FROM pg_catalog.pg_enum en WHERE en.enumtypid = ty.oid)
               WHEN 'd' THEN pg_catalog.concat_ws(' ', pg_catalog.format_type(ty.typbasetype, ty.typtypmod),
                                       CASE WHEN ty.typnotnull THEN 'not null' END,
                                       'default ' || ty.typdefault)
               WHEN 'r' THEN (SELECT 'range of ' || pg_catalog.format_type(rg.rngsubtype, NULL)
                              FROM pg_catalog.pg_range rg WHERE rg.rngtypid = ty.oid)
               ELSE 'composite'
           END
    FROM pg_catalog.pg_type ty JOIN user_ns ns ON ns.oid = ty.typnamespace
    WHERE (ty.typtype IN ('e', 'd', 'r')
           OR (ty.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = ty.typrelid) = 'c'))
      AND NOT EXISTS (SELECT FROM ext_member e WHERE e.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND e.objid = ty.oid)
  UNION ALL
    SELECT 'policy', r.ident || '.' || pg_catalog.quote_ident(pol.polname),
           pg_catalog.concat_ws(' ', CASE WHEN pol.polpermissive THEN 'permissive' ELSE 'restrictive' END,
                     'for ' || CASE pol.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                                               WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END,
                     'to ' || (SELECT pg_catalog.string_agg(CASE WHEN ro = 0 THEN 'public' ELSE pg_catalog.quote_ident(ro::pg_catalog.regrole::pg_catalog.text) END, ', ' ORDER BY ro)
                               FROM pg_catalog.unnest(pol.polroles) AS ro),
                     'using (' || pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) || ')',
                     'with check (' || pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) || ')')
    FROM pg_catalog.pg_policy pol JOIN rels r ON r.oid = pol.polrelid
  UNION ALL
    SELECT 'comment', o.type || ' ' || o.identity, d.description
    FROM pg_catalog.pg_description d
    CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) o
    WHERE o.schema IN (SELECT nspname FROM user_ns)
       OR (d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objoid IN (SELECT oid FROM user_ns))
)
SELECT o.kind, o.identity, o.definition,
       pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(o.kind || E'\n' || o.identity || E'\n' || coalesce(o.definition, ''), 'UTF8')), 'hex')
FROM objects o
ORDER BY o.kind COLLATE pg_catalog."C", o.identity COLLATE pg_catalog."C"
$fp$;

CREATE OR REPLACE FUNCTION migrate.fingerprint() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS
$$

    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(coalesce(pg_catalog.string_agg(o.hash, '' ORDER BY o.kind COLLATE pg_catalog."C",
                                                              o.identity COLLATE pg_catalog."C"), ''), 'UTF8')), 'hex')
    FROM migrate.schema_objects() o
$$;

-- table_data() leaves out migrate_backup too (issue 11): the backup tables
-- an up script's destructive statements leave there are migrate's, not the
-- user's, so rehearse(data => true) of a down script that restores passes
CREATE OR REPLACE FUNCTION migrate.table_data(OUT identity text, OUT definition text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS
$$

DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.oid, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS ident
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'migrate', 'migrate_backup')
          AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 2
    LOOP
        identity := t.ident;
        EXECUTE pg_catalog.format('SELECT pg_catalog.format(''%%s rows, content %%s'', pg_catalog.count(*),'
                       ' pg_catalog.md5(coalesce(pg_catalog.string_agg(r::pg_catalog.text, E''\n'' ORDER BY r::pg_catalog.text), '''')))'
                       ' FROM ONLY %s AS r', t.oid::pg_catalog.regclass)
            INTO definition;
        RETURN NEXT;
    END LOOP;
END
$$;

-- schedule(), pause(), resume() and approve() are created again further
-- down (issue 9 changes their results), with their builtins qualified

CREATE OR REPLACE FUNCTION migrate.resolve(version text, action text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$

DECLARE
    m migrate.migration;
    direction text;
BEGIN
    PERFORM migrate.acquire_lock();
    SELECT * INTO m FROM migrate.migration mm
    WHERE mm.version_key = migrate.version_key(resolve.version) FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'migration "%" is not registered', version
            USING ERRCODE = 'undefined_object';
    END IF;
    IF m.state <> 'dirty' THEN
        RAISE EXCEPTION 'migration "%" is not dirty', m.version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('Its state is "%s".', m.state);
    END IF;
    direction := coalesce(m.last_error->>'script', 'up');

    IF action = 'retry' THEN
        UPDATE migrate.migration SET
            state = CASE WHEN direction = 'up' THEN 'pending' ELSE 'applied' END,
            resume_statement = m.dirty_statement, dirty_statement = NULL
        WHERE migration.version = m.version;
    ELSIF action = 'mark_applied' THEN
        UPDATE migrate.migration SET state = 'applied',
            apply_seq = coalesce(apply_seq, pg_catalog.nextval('migrate.apply_seq')),
            applied_checksum = checksum, applied_down_checksum = down_checksum,
            applied_at = coalesce(applied_at, pg_catalog.now()), applied_by = coalesce(applied_by, migrate.calling_role()),
            dirty_statement = NULL, resume_statement = NULL
        WHERE migration.version = m.version;
    ELSIF action = 'mark_reverted' THEN
        UPDATE migrate.migration SET state = 'reverted', apply_seq = NULL,
            applied_checksum = NULL, applied_down_checksum = NULL, applied_at = NULL,
            applied_by = NULL, duration = NULL,
            dirty_statement = NULL, resume_statement = NULL
        WHERE migration.version = m.version;
    ELSE
        RAISE EXCEPTION 'invalid resolve action "%"', action
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use retry, mark_applied or mark_reverted.';
    END IF;
    INSERT INTO migrate.event (action, version, name, outcome, role, started_at, detail)
    VALUES ('resolve', m.version, m.name, 'success', migrate.calling_role(), pg_catalog.now(),
            pg_catalog.jsonb_build_object('action', action, 'statement', m.dirty_statement,
                               'script', direction));
    RETURN CASE WHEN action = 'retry' AND direction = 'up' THEN 'pending: apply() resumes it'
                WHEN action = 'retry' THEN 'applied: revert() resumes it'
                WHEN action = 'mark_applied' THEN 'applied' ELSE 'reverted' END;
END
$$;

-- health() (reverted counts as pending, awaiting_approval, and the drift
-- column of issue 13) is defined once, in the issue 13 section: its
-- result gains a column there, which needs the drift tables

CREATE OR REPLACE FUNCTION migrate.verify_integrity(
    OUT severity text, OUT check_name text, OUT object text,
    OUT detail text, OUT hint text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off AS
$$

DECLARE
    r record;
    orphans bigint;
    conditions text;
    not_null text;
    user_code boolean;
BEGIN
    FOR r IN
        SELECT i.indexrelid::regclass::text AS idx, i.indrelid::regclass::text AS tbl
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1
    LOOP
        severity := 'error';
        check_name := 'invalid index';
        object := r.idx;
        detail := pg_catalog.format('Index %s on %s is INVALID: every write maintains it, no query uses it.',
                         r.idx, r.tbl);
        hint := pg_catalog.format('DROP INDEX CONCURRENTLY %s; then build it again.', r.idx);
        RETURN NEXT;
    END LOOP;

    FOR r IN
        SELECT con.conname, con.contype, con.conrelid, con.confrelid, con.conkey, con.confkey,
               con.conpfeqop, con.conrelid::regclass::text AS tbl
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT con.convalidated AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 8, 1
    LOOP
        object := r.tbl || '.' || pg_catalog.quote_ident(r.conname);
        hint := pg_catalog.format('ALTER TABLE %s VALIDATE CONSTRAINT %I;', r.tbl, r.conname);
        IF r.contype = 'f' THEN
            -- "p.key OPERATOR(ns.op) c.key" with the constraint's operator,
            -- each side cast to the operator's input type where it differs
            -- (not to a polymorphic one), as RI_Initial_Check writes it; and
            -- whether the operator or a column type is not built-in (an
            -- enum, or a domain over a built-in type or an enum, compares
            -- with built-in code only)
            SELECT pg_catalog.string_agg(pg_catalog.format('p.%I%s OPERATOR(%I.%s) c.%I%s',
                                     pa.attname,
                                     CASE WHEN pa.atttypid OPERATOR(pg_catalog.=) o.oprleft
                                               OR lt.typtype OPERATOR(pg_catalog.=) 'p' THEN ''
                                          ELSE '::' || pg_catalog.format_type(o.oprleft, NULL) END,
                                     ons.nspname, o.oprname,
                                     ca.attname,
                                     CASE WHEN ca.atttypid OPERATOR(pg_catalog.=) o.oprright
                                               OR rt.typtype OPERATOR(pg_catalog.=) 'p' THEN ''
                                          ELSE '::' || pg_catalog.format_type(o.oprright, NULL) END),
                              ' AND ' ORDER BY k.n),
                   pg_catalog.string_agg(pg_catalog.format('c.%I IS NOT NULL', ca.attname), ' AND ' ORDER BY k.n),
                   pg_catalog.bool_or(o.oid IS NULL OR o.oid OPERATOR(pg_catalog.>=) 16384
                           OR NOT EXISTS (SELECT FROM pg_type t
                                          LEFT JOIN pg_type b ON b.oid OPERATOR(pg_catalog.=) t.typbasetype
                                          WHERE t.oid OPERATOR(pg_catalog.=) pa.atttypid
                                            AND (t.oid OPERATOR(pg_catalog.<) 16384
                                                 OR t.typtype OPERATOR(pg_catalog.=) 'e'
                                                 OR (t.typtype OPERATOR(pg_catalog.=) 'd'
                                                     AND (b.oid OPERATOR(pg_catalog.<) 16384
                                                          OR b.typtype OPERATOR(pg_catalog.=) 'e'))))
                           OR NOT EXISTS (SELECT FROM pg_type t
                                          LEFT JOIN pg_type b ON b.oid OPERATOR(pg_catalog.=) t.typbasetype
                                          WHERE t.oid OPERATOR(pg_catalog.=) ca.atttypid
                                            AND (t.oid OPERATOR(pg_catalog.<) 16384
                                                 OR t.typtype OPERATOR(pg_catalog.=) 'e'
                                                 OR (t.typtype OPERATOR(pg_catalog.=) 'd'
                                                     AND (b.oid OPERATOR(pg_catalog.<) 16384
                                                          OR b.typtype OPERATOR(pg_catalog.=) 'e')))))
              INTO conditions, not_null, user_code
              -- unnest(a, b, c) is ROWS FROM (unnest(a), unnest(b), unnest(c)),
              -- which is what can be qualified
              FROM ROWS FROM (pg_catalog.unnest(r.conkey), pg_catalog.unnest(r.confkey),
                              pg_catalog.unnest(r.conpfeqop)) WITH ORDINALITY AS k(child, parent, op, n)
              JOIN pg_attribute ca ON ca.attrelid OPERATOR(pg_catalog.=) r.conrelid
                                  AND ca.attnum OPERATOR(pg_catalog.=) k.child
              JOIN pg_attribute pa ON pa.attrelid OPERATOR(pg_catalog.=) r.confrelid
                                  AND pa.attnum OPERATOR(pg_catalog.=) k.parent
              LEFT JOIN pg_operator o ON o.oid OPERATOR(pg_catalog.=) k.op
              LEFT JOIN pg_namespace ons ON ons.oid OPERATOR(pg_catalog.=) o.oprnamespace
              LEFT JOIN pg_type lt ON lt.oid OPERATOR(pg_catalog.=) o.oprleft
              LEFT JOIN pg_type rt ON rt.oid OPERATOR(pg_catalog.=) o.oprright;
            IF user_code THEN
                severity := 'warning';
                check_name := 'not checked';
                detail := pg_catalog.format('Foreign key %I was never validated, and its rows were not checked: '
                                 'it compares with a user-defined operator or type, whose code this '
                                 'check does not run with this role''s rights.', r.conname);
                RETURN NEXT;
                CONTINUE;
            END IF;
            BEGIN
                EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM ONLY %s c WHERE NOT EXISTS '
                               '(SELECT FROM ONLY %s p WHERE %s) AND %s',
                               r.conrelid::regclass, r.confrelid::regclass, conditions, not_null)
                    INTO orphans;
            EXCEPTION WHEN insufficient_privilege THEN
                severity := 'warning';
                check_name := 'not checked';
                IF EXISTS (SELECT FROM pg_class t
                           WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY[r.conrelid, r.confrelid])
                             AND t.relrowsecurity
                             AND pg_catalog.has_table_privilege(t.oid, 'SELECT')) THEN
                    detail := pg_catalog.format('Foreign key %I was never validated, and its rows were not checked: '
                                     '%s or %s has row-level security, whose policies this check does '
                                     'not run with this role''s rights.',
                                     r.conname, r.conrelid::regclass, r.confrelid::regclass);
                ELSE
                    detail := pg_catalog.format('Foreign key %I was never validated, and this role may not read %s or %s.',
                                     r.conname, r.conrelid::regclass, r.confrelid::regclass);
                END IF;
                RETURN NEXT;
                CONTINUE;
            END;
            IF orphans > 0 THEN
                severity := 'error';
                check_name := 'orphaned rows';
                detail := pg_catalog.format('%s row(s) of %s break foreign key %I, which was never validated.',
                                 orphans, r.tbl, r.conname);
                hint := 'Fix or delete them, then ' || hint;
            ELSE
                severity := 'warning';
                check_name := 'not valid constraint';
                detail := pg_catalog.format('Foreign key %I was added NOT VALID and never validated; no row breaks it.',
                                 r.conname);
            END IF;
        ELSE
            severity := 'warning';
            check_name := 'not valid constraint';
            detail := pg_catalog.format('Constraint %I was added NOT VALID and never validated.', r.conname);
        END IF;
        RETURN NEXT;
    END LOOP;

    FOR r IN
        SELECT s.version, s.name, s.state, NOT s.changed AS checksum_ok, s.error AS message
        FROM migrate.status s
        WHERE s.changed OR s.state IN ('failed', 'dirty')
    LOOP
        object := pg_catalog.format('migration %s (%s)', r.version, r.name);
        -- a repeatable migration re-queued by new content (issue 10) keeps
        -- the checksums it was applied with until it runs again, pending or
        -- failed: that is no mismatch
        IF r.checksum_ok = false AND r.state NOT IN ('pending', 'failed') THEN
            severity := 'error';
            check_name := 'checksum mismatch';
            detail := 'The registered script is not the one that was applied.';
            hint := pg_catalog.format('If the change is intended, SELECT migrate.repair(%L);', r.version);
            RETURN NEXT;
        END IF;
        IF r.state = 'failed' THEN
            severity := 'error';
            check_name := 'failed migration';
            detail := pg_catalog.format('Its last attempt failed: %s', r.message);
            hint := 'Fix the cause or the script, then apply again.';
            RETURN NEXT;
        ELSIF r.state = 'dirty' THEN
            severity := 'error';
            check_name := 'dirty migration';
            detail := pg_catalog.format('It stopped part way outside a transaction: %s', coalesce(r.message, 'interrupted'));
            hint := pg_catalog.format('Inspect it, then SELECT migrate.resolve(%L, ''retry'');', r.version);
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- WP2 (issue 8, item 2): rehearse() says which statements it could not
-- rehearse.  A statement that cannot run inside a transaction block and has
-- no transactional form (VACUUM, REINDEX, CREATE DATABASE, ALTER SYSTEM, ...)
-- cannot be run by a rehearsal, which happens inside one; 1.0 skipped such
-- statements silently.  The new last column not_rehearsed lists them.  The
-- result type changes, so the function is dropped and created again with a
-- new C symbol (1.0's symbol keeps 1.0's seven columns), with 1.0's grants
-- and then the site's own (WP5: the DO block below).
-- ---------------------------------------------------------------------------
/*
 * WP5 (issue 8, review of the upgrade): DROP and CREATE would give the new
 * function 1.0's default privileges only, and silently take away what the
 * site had granted (or revoked) on rehearse().  So, in one block:
 *
 *  1. refuse, with a clear error, when another object depends on the
 *     function (a view or a BEGIN ATOMIC function over it): DROP FUNCTION
 *     would fail anyway, with a message that does not say what to do, and
 *     the whole ALTER EXTENSION rolls back either way;
 *  2. remember its owner and ACL, drop it, create the new one, give it the
 *     old owner (the role running this update may be another superuser),
 *     then 1.0's default REVOKE/GRANT, exactly as a fresh install does;
 *  3. remember pg_init_privs of the new function at that point: the
 *     privileges a fresh install records as the extension's own;
 *  4. make the ACL the old one again: revoke the defaults the site had
 *     revoked, grant what the site had granted, in the old order (PUBLIC,
 *     WITH GRANT OPTION, and a grant made by another grantor as that
 *     grantor), and check that the result is the old ACL;
 *  5. put pg_init_privs back to what step 3 saw.  Every GRANT and REVOKE
 *     run inside an extension script is recorded in pg_init_privs as the
 *     extension's initial privileges, the ones pg_dump leaves out because
 *     CREATE EXTENSION makes them: without this step the site's grants
 *     would become "initial", and a dump and restore would lose them.
 *     There is no command for it, so pg_init_privs is updated directly;
 *     this script may do that because migrate is superuser = true (only a
 *     superuser runs it).  PostgreSQL 17 also records the roles named in
 *     pg_init_privs in pg_shdepend (deptype 'i'): those of the roles that
 *     step 5 removed from it are removed too, or DROP ROLE would refuse
 *     them for good (on 15 there are none).
 *
 * The result is exactly a fresh install's function plus the site's
 * changes, as test/scenario/upgrade.sh checks.  The block pins search_path
 * for itself and restores the caller's at the end (the statements after
 * it in this script run under the extension's).
 */
DO $rehearse$
DECLARE
    saved_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
    saved_role        pg_catalog.text := pg_catalog.current_setting('role');
    old_fn            pg_catalog.oid;
    fn                pg_catalog.oid;
    owner             pg_catalog.oid;
    old_acl           pg_catalog.aclitem[];
    fresh_initprivs   pg_catalog.aclitem[];
    used_by           pg_catalog.text;
    item              record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

    old_fn := to_regprocedure('migrate.rehearse(text, text, boolean)');
    SELECT p.proowner, coalesce(p.proacl, acldefault('f', p.proowner))
      INTO owner, old_acl
      FROM pg_proc p WHERE p.oid = old_fn;

    -- 1. objects that would make DROP FUNCTION fail (a view's dependency is
    -- its rewrite rule's: name the view)
    SELECT string_agg(s.what, ', ' ORDER BY s.what) INTO used_by
      FROM (SELECT DISTINCT
                   CASE WHEN d.classid = 'pg_rewrite'::regclass
                        THEN pg_describe_object('pg_class'::regclass, r.ev_class, 0)
                        ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END AS what
              FROM pg_depend d
              LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
             WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = old_fn
               AND d.deptype IN ('n', 'a')) s;
    IF used_by IS NOT NULL THEN
        RAISE EXCEPTION 'cannot update extension migrate: function migrate.rehearse() is used by %', used_by
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Version 1.1 adds the result column not_rehearsed to migrate.rehearse(), '
                           'so the update drops the function and creates it again, and a function '
                           'that other objects depend on cannot be dropped.',
                  HINT = 'Drop those objects, run ALTER EXTENSION migrate UPDATE, then create them '
                         'again (a SELECT * over rehearse() then returns the new column too).';
    END IF;

    -- 2. the new function, owned as the old one was, with 1.0's defaults
    DROP FUNCTION migrate.rehearse(text, text, boolean);
    CREATE FUNCTION migrate.rehearse(from_version text DEFAULT NULL,
                                     to_version text DEFAULT NULL,
                                     data boolean DEFAULT false)
    RETURNS TABLE (ordinal integer, version text, name text, ok boolean,
                   failed_step text, differences jsonb, error text,
                   not_rehearsed jsonb)
    AS 'MODULE_PATHNAME', 'migrate_rehearse_1_1'
    LANGUAGE C VOLATILE;
    fn := to_regprocedure('migrate.rehearse(text, text, boolean)');
    IF (SELECT p.proowner FROM pg_proc p WHERE p.oid = fn) <> owner THEN
        EXECUTE format('ALTER FUNCTION %s OWNER TO %s', fn::regprocedure, owner::regrole);
    END IF;
    REVOKE ALL ON FUNCTION migrate.rehearse(text, text, boolean) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION migrate.rehearse(text, text, boolean) TO migrate_admin;

    -- 3. the extension's own initial privileges, as a fresh install has them
    SELECT ip.initprivs INTO fresh_initprivs
      FROM pg_init_privs ip
     WHERE ip.classoid = 'pg_proc'::regclass AND ip.objoid = fn AND ip.objsubid = 0;

    -- 4. the site's changes: first the defaults it had revoked ...
    FOR item IN
        SELECT a.grantee
          FROM pg_proc p, aclexplode(p.proacl) a
         WHERE p.oid = fn
           AND NOT EXISTS (SELECT FROM aclexplode(old_acl) o
                            WHERE o.grantor = a.grantor AND o.grantee = a.grantee
                              AND o.is_grantable = a.is_grantable)
    LOOP
        -- run by a superuser, REVOKE acts as the owner, who granted the defaults
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %s', fn::regprocedure,
                       CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE item.grantee::regrole::text END);
    END LOOP;
    -- ... then what it had granted, in the order it had (a grantor's own
    -- grant option comes before its grants)
    FOR item IN
        SELECT o.grantor, o.grantee, o.is_grantable
          FROM aclexplode(old_acl) WITH ORDINALITY o(grantor, grantee, privilege_type, is_grantable, n)
         WHERE NOT EXISTS (SELECT FROM pg_proc p, aclexplode(p.proacl) a
                            WHERE p.oid = fn AND a.grantor = o.grantor AND a.grantee = o.grantee
                              AND a.is_grantable = o.is_grantable)
         ORDER BY o.n
    LOOP
        -- a superuser grants as the owner; anybody else's grant is replayed
        -- as that role, so that it stays theirs (and goes with their option)
        IF item.grantor <> owner THEN
            PERFORM set_config('role', item.grantor::regrole::text, true);
        END IF;
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s%s', fn::regprocedure,
                       CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE item.grantee::regrole::text END,
                       CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        PERFORM set_config('role', saved_role, true);
    END LOOP;
    IF EXISTS (SELECT o.grantor, o.grantee, o.is_grantable FROM aclexplode(old_acl) o
               EXCEPT
               SELECT a.grantor, a.grantee, a.is_grantable
                 FROM pg_proc p, aclexplode(p.proacl) a WHERE p.oid = fn)
    THEN
        RAISE EXCEPTION 'cannot update extension migrate: the privileges on migrate.rehearse() could not be carried over'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Before the update they were %s; the new function would have %s.',
                                  old_acl, (SELECT p.proacl FROM pg_proc p WHERE p.oid = fn)),
                  HINT = 'Revoke the grants on migrate.rehearse() that other grantors made, update, and grant them again.';
    END IF;

    -- 5. the site's grants stay the site's (see above)
    UPDATE pg_init_privs ip SET initprivs = fresh_initprivs
     WHERE ip.classoid = 'pg_proc'::regclass AND ip.objoid = fn AND ip.objsubid = 0
       AND fresh_initprivs IS NOT NULL;
    DELETE FROM pg_shdepend sd
     WHERE sd.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND sd.classid = 'pg_proc'::regclass AND sd.objid = fn AND sd.objsubid = 0
       AND sd.deptype = 'i'
       AND NOT EXISTS (SELECT FROM aclexplode(fresh_initprivs) a
                        WHERE sd.refobjid IN (a.grantor, a.grantee));

    PERFORM set_config('search_path', saved_search_path, true);
END
$rehearse$;
COMMENT ON FUNCTION migrate.rehearse(text, text, boolean) IS
    'apply, revert and re-apply each pending migration inside a rolled-back subtransaction and compare the schema (and with data, table contents); not_rehearsed lists the statements it could not run and why';

-- ---------------------------------------------------------------------------
-- WP5 (issue 8, review of the upgrade): the classification of migrations
-- registered under 1.0.  Whether a migration's up and down scripts may run
-- inside a transaction block is computed once, at registration, and stored
-- in migrate.migration.transactional and down_transactional.  1.1's
-- classifier corrects 1.0's on REINDEX SCHEMA, which cannot run inside one:
-- a migration registered under 1.0 with it would still be run inside a
-- transaction block, and fail, every time.  So the flags of the registered
-- migrations are recomputed here with the new library's classifier
-- (migrate.statements() is the one registration uses).
--
-- Only true -> false: that is the direction in which 1.0's flag makes a
-- migration fail.  A false flag stays false, because it may come from the
-- script's "@transaction: false" header, which the flag alone cannot tell
-- apart, and because a non-transactional run is correct for transactional
-- statements too (one commit each instead of one for the migration).  A
-- migration with a verify or precondition script keeps its flag: such
-- checks need the migration in one transaction, and registration today
-- refuses them on a non-transactional migration (it has to be registered
-- again in two parts, as it had to under 1.0 to run at all).
--
-- Nothing stands in the way: migrate.migration has no trigger and no
-- constraint on these columns, and the history (migrate.event) is not
-- touched.
-- ---------------------------------------------------------------------------
UPDATE migrate.migration m
   SET transactional = false
 WHERE m.transactional
   AND m.verify_script IS NULL AND m.precondition_script IS NULL
   AND EXISTS (SELECT FROM migrate.statements(m.up_script) s WHERE NOT s.transactional);
UPDATE migrate.migration m
   SET down_transactional = false
 WHERE m.down_transactional
   AND EXISTS (SELECT FROM migrate.statements(m.down_script) s WHERE NOT s.transactional);

/* ---------------------------------------------------------------------
 * WP-S (issue 9, items 1-10): a SQL surface that reads well in psql.
 *
 *  - migrate.status is narrow (what a DBA reads first); every column of
 *    1.0's status, and more, moves to migrate.status_detail;
 *  - a reverted migration's state is "reverted" (1.0: "rolled_back"),
 *    in the catalog, the views, resolve(), health() and the scheduler;
 *  - migrate.history: "time" is started_at, durations are rounded to the
 *    millisecond (there and in status_detail);
 *  - apply(), revert(), revert_all() return eight columns (the schema
 *    fingerprints of a dry run move, shortened, into its note);
 *  - no parameter or column needs quoting: revert()'s "cascade" is
 *    with_dependents, schedule()'s "window" is maintenance_window (the old
 *    names stay accepted as trailing parameters), migrate.schedules'
 *    "window" column is maintenance_window;
 *  - functions answer: schedule() and approve() return a row saying what
 *    they did, require() the version it found, pause(), resume() and
 *    unschedule() a word.
 *
 * A function whose result type or parameter names change, and a view that
 * loses columns, is dropped and created again.  migrate.upgrade_replace()
 * below does that for each of them the way the rehearse() block above
 * does it for rehearse(), and is dropped at the end of this section: the
 * update refuses, saying why, when another object depends on the old
 * one; the new one gets the old owner, 1.0's default privileges (so its
 * pg_init_privs are a fresh install's), then the site's own grants and
 * revokes again, its column grants (on the columns the new view still
 * has; a WARNING names the others) and its function settings (ALTER
 * FUNCTION ... SET).  A fresh install runs the same statements, so that it
 * ends up identical (test/scenario/upgrade.sh).
 * --------------------------------------------------------------------- */

CREATE FUNCTION migrate.upgrade_replace(kind text, old_identity text, new_identity text,
                                        change text, create_sql text, default_privileges text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$replace$
DECLARE
    saved_role      text := current_setting('role');
    is_view         boolean := kind = 'view';
    catalog         regclass := CASE WHEN kind = 'view' THEN 'pg_class' ELSE 'pg_proc' END;
    keyword         text := CASE kind WHEN 'view' THEN 'TABLE' WHEN 'procedure' THEN 'PROCEDURE' ELSE 'FUNCTION' END;
    old_oid         oid;
    new_oid         oid;
    new_name        text;
    owner           oid;
    new_owner       oid;
    old_acl         aclitem[];
    old_column_acls jsonb;      -- a view's column grants: {column: acl}
    old_config      text[];     -- a function's settings (ALTER FUNCTION ... SET)
    fresh_initprivs aclitem[];
    fresh_column_initprivs jsonb;
    used_by         text;
    lost            text;
    item            record;
    setting_name    text;
    setting_before  text;
BEGIN
    IF is_view THEN
        old_oid := to_regclass(old_identity);
        SELECT c.relowner, coalesce(c.relacl, acldefault('r', c.relowner))
          INTO owner, old_acl FROM pg_class c WHERE c.oid = old_oid;
        SELECT jsonb_object_agg(a.attname, a.attacl::text) INTO old_column_acls
          FROM pg_attribute a
         WHERE a.attrelid = old_oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL;
    ELSE
        old_oid := to_regprocedure(old_identity);
        SELECT p.proowner, coalesce(p.proacl, acldefault('f', p.proowner)), p.proconfig
          INTO owner, old_acl, old_config FROM pg_proc p WHERE p.oid = old_oid;
    END IF;
    IF old_oid IS NULL THEN
        RAISE EXCEPTION 'cannot update extension migrate: % % does not exist', kind, old_identity
            USING ERRCODE = 'undefined_object';
    END IF;

    -- objects that would make the DROP fail (a view's dependency is its
    -- rewrite rule's: name the view; a view's own rule is not one of them)
    SELECT string_agg(s.what, ', ' ORDER BY s.what) INTO used_by
      FROM (SELECT DISTINCT
                   CASE WHEN d.classid = 'pg_rewrite'::regclass
                        THEN pg_describe_object('pg_class'::regclass, r.ev_class, 0)
                        ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END AS what
              FROM pg_depend d
              LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
             WHERE d.refclassid = catalog AND d.refobjid = old_oid
               AND d.deptype IN ('n', 'a')
               AND r.ev_class IS DISTINCT FROM old_oid) s;
    IF used_by IS NOT NULL THEN
        RAISE EXCEPTION 'cannot update extension migrate: % % is used by %', kind, old_identity, used_by
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('Version 1.1 %s, so the update drops the %s and creates it again, '
                                  'and a %s that other objects depend on cannot be dropped.',
                                  change, kind, kind),
                  HINT = 'Drop those objects, run ALTER EXTENSION migrate UPDATE, then create them again.';
    END IF;

    -- the new object, owned as the old one was, with 1.0's defaults
    EXECUTE format('DROP %s %s', kind, old_identity);
    EXECUTE create_sql;
    IF is_view THEN
        new_oid := to_regclass(new_identity);
        new_name := new_oid::regclass::text;
    ELSE
        new_oid := to_regprocedure(new_identity);
        new_name := new_oid::regprocedure::text;
    END IF;
    IF is_view THEN
        SELECT c.relowner INTO new_owner FROM pg_class c WHERE c.oid = new_oid;
    ELSE
        SELECT p.proowner INTO new_owner FROM pg_proc p WHERE p.oid = new_oid;
    END IF;
    IF new_owner <> owner THEN
        EXECUTE format('ALTER %s %s OWNER TO %s', kind, new_name, owner::regrole);
    END IF;
    -- (NULL: 1.0 left them as PostgreSQL's, EXECUTE for PUBLIC)
    IF default_privileges IS NOT NULL THEN
        EXECUTE default_privileges;
    END IF;

    -- the extension's own initial privileges, as a fresh install has them
    SELECT ip.initprivs INTO fresh_initprivs
      FROM pg_init_privs ip
     WHERE ip.classoid = catalog AND ip.objoid = new_oid AND ip.objsubid = 0;
    SELECT jsonb_object_agg(ip.objsubid, ip.initprivs::text) INTO fresh_column_initprivs
      FROM pg_init_privs ip
     WHERE ip.classoid = catalog AND ip.objoid = new_oid AND ip.objsubid > 0;

    -- the site's changes: first the defaults it had revoked ...
    FOR item IN
        SELECT a.grantee, a.privilege_type
          FROM aclexplode(migrate.upgrade_acl(catalog, new_oid)) a
         WHERE NOT EXISTS (SELECT FROM aclexplode(old_acl) o
                            WHERE o.grantor = a.grantor AND o.grantee = a.grantee
                              AND o.privilege_type = a.privilege_type
                              AND o.is_grantable = a.is_grantable)
    LOOP
        -- run by a superuser, REVOKE acts as the owner, who granted the defaults
        EXECUTE format('REVOKE %s ON %s %s FROM %s', item.privilege_type, keyword, new_name,
                       CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE item.grantee::regrole::text END);
    END LOOP;
    -- ... then what it had granted, in the order it had
    FOR item IN
        SELECT o.grantor, o.grantee, o.privilege_type, o.is_grantable
          FROM aclexplode(old_acl) WITH ORDINALITY o(grantor, grantee, privilege_type, is_grantable, n)
         WHERE NOT EXISTS (SELECT FROM aclexplode(migrate.upgrade_acl(catalog, new_oid)) a
                            WHERE a.grantor = o.grantor AND a.grantee = o.grantee
                              AND a.privilege_type = o.privilege_type
                              AND a.is_grantable = o.is_grantable)
         ORDER BY o.n
    LOOP
        -- another grantor's grant is replayed as that role, so that it stays theirs
        IF item.grantor <> owner THEN
            PERFORM set_config('role', item.grantor::regrole::text, true);
        END IF;
        EXECUTE format('GRANT %s ON %s %s TO %s%s', item.privilege_type, keyword, new_name,
                       CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE item.grantee::regrole::text END,
                       CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        PERFORM set_config('role', saved_role, true);
    END LOOP;
    -- a view's column grants (GRANT SELECT (version, state) ON ...), for
    -- the columns the new view still has; the others are named
    FOR item IN
        SELECT c.key AS column_name, o.grantor, o.grantee, o.privilege_type, o.is_grantable
          FROM jsonb_each_text(old_column_acls) c,
               aclexplode(c.value::aclitem[]) WITH ORDINALITY o(grantor, grantee, privilege_type, is_grantable, n)
         WHERE EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = new_oid AND a.attname = c.key AND NOT a.attisdropped)
         ORDER BY c.key, o.n
    LOOP
        IF item.grantor <> owner THEN
            PERFORM set_config('role', item.grantor::regrole::text, true);
        END IF;
        EXECUTE format('GRANT %s (%I) ON TABLE %s TO %s%s', item.privilege_type, item.column_name, new_name,
                       CASE WHEN item.grantee = 0 THEN 'PUBLIC' ELSE item.grantee::regrole::text END,
                       CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        PERFORM set_config('role', saved_role, true);
    END LOOP;
    SELECT string_agg(format('%I (%s)', c.key, c.value), ', ' ORDER BY c.key) INTO lost
      FROM jsonb_each_text(old_column_acls) c
     WHERE NOT EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = new_oid AND a.attname = c.key AND NOT a.attisdropped);
    IF lost IS NOT NULL THEN
        RAISE WARNING 'the grants on columns of % that version 1.1 drops are not carried over: %', old_identity, lost
            USING DETAIL = format('Version 1.1 %s.', change),
                  HINT = 'Grant SELECT on those columns of migrate.status_detail instead, if the grantees still need them.';
    END IF;

    -- a function's settings (ALTER FUNCTION ... SET lock_timeout = '5s')
    -- that the new definition does not make itself: each is set for the
    -- moment as the old function had it and taken FROM CURRENT, which keeps
    -- its value as it was stored (lists such as search_path too)
    FOR item IN
        SELECT c.entry, split_part(c.entry, '=', 1) AS name,
               substr(c.entry, length(split_part(c.entry, '=', 1)) + 2) AS value
          FROM unnest(old_config) c(entry)
         WHERE NOT EXISTS (SELECT FROM pg_proc p, unnest(p.proconfig) n(entry)
                            WHERE p.oid = new_oid
                              AND split_part(n.entry, '=', 1) = split_part(c.entry, '=', 1))
    LOOP
        setting_name := item.name;
        setting_before := current_setting(setting_name, true);
        BEGIN
            PERFORM set_config(setting_name, item.value, true);
            EXECUTE format('ALTER %s %s SET %I FROM CURRENT', keyword, new_name, setting_name);
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'cannot update extension migrate: the setting % of % could not be carried over', item.entry, old_identity
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('Version 1.1 %s, so the update drops the function and creates it again; setting it failed: %s', change, SQLERRM),
                      HINT = format('Run ALTER FUNCTION %s RESET %s, update, and set it again.', old_identity, setting_name);
        END;
        PERFORM set_config(setting_name, coalesce(setting_before, ''), true);
    END LOOP;

    IF EXISTS (SELECT o.grantor, o.grantee, o.privilege_type, o.is_grantable FROM aclexplode(old_acl) o
               EXCEPT
               SELECT a.grantor, a.grantee, a.privilege_type, a.is_grantable
                 FROM aclexplode(migrate.upgrade_acl(catalog, new_oid)) a)
       OR EXISTS (SELECT c.key, o.grantor, o.grantee, o.privilege_type, o.is_grantable
                    FROM jsonb_each_text(old_column_acls) c, aclexplode(c.value::aclitem[]) o
                   WHERE EXISTS (SELECT FROM pg_attribute a
                                  WHERE a.attrelid = new_oid AND a.attname = c.key AND NOT a.attisdropped)
                  EXCEPT
                  SELECT a.attname::text, x.grantor, x.grantee, x.privilege_type, x.is_grantable
                    FROM pg_attribute a, aclexplode(a.attacl) x
                   WHERE a.attrelid = new_oid AND a.attnum > 0)
       OR EXISTS (SELECT FROM unnest(old_config) c(entry)
                   WHERE NOT EXISTS (SELECT FROM pg_proc p, unnest(p.proconfig) n(entry)
                                      WHERE p.oid = new_oid
                                        AND split_part(n.entry, '=', 1) = split_part(c.entry, '=', 1)))
    THEN
        RAISE EXCEPTION 'cannot update extension migrate: the privileges on % could not be carried over', old_identity
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Before the update they were %s (columns: %s, settings: %s); the new %s would have %s (columns: %s, settings: %s).',
                                  old_acl, coalesce(old_column_acls::text, 'none'), coalesce(old_config::text, 'none'),
                                  kind, migrate.upgrade_acl(catalog, new_oid),
                                  coalesce((SELECT jsonb_object_agg(a.attname, a.attacl::text) FROM pg_attribute a
                                             WHERE a.attrelid = new_oid AND a.attnum > 0 AND a.attacl IS NOT NULL)::text, 'none'),
                                  coalesce((SELECT p.proconfig FROM pg_proc p WHERE p.oid = new_oid)::text, 'none')),
                  HINT = format('Revoke the grants on %s that other grantors made, update, and grant them again.', old_identity);
    END IF;

    -- the site's grants stay the site's (see the rehearse() block above)
    UPDATE pg_init_privs ip SET initprivs = fresh_initprivs
     WHERE ip.classoid = catalog AND ip.objoid = new_oid AND ip.objsubid = 0
       AND fresh_initprivs IS NOT NULL;
    DELETE FROM pg_init_privs ip
     WHERE ip.classoid = catalog AND ip.objoid = new_oid AND ip.objsubid = 0
       AND fresh_initprivs IS NULL;
    -- and so do its column grants (a fresh install has the columns' own)
    DELETE FROM pg_init_privs ip
     WHERE ip.classoid = catalog AND ip.objoid = new_oid AND ip.objsubid > 0;
    INSERT INTO pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
    SELECT new_oid, catalog, f.key::integer, 'e', f.value::aclitem[]
      FROM jsonb_each_text(fresh_column_initprivs) f;
    DELETE FROM pg_shdepend sd
     WHERE sd.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND sd.classid = catalog AND sd.objid = new_oid AND sd.objsubid > 0
       AND sd.deptype = 'i' AND fresh_column_initprivs IS NULL;
    DELETE FROM pg_shdepend sd
     WHERE sd.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
       AND sd.classid = catalog AND sd.objid = new_oid AND sd.objsubid = 0
       AND sd.deptype = 'i'
       AND NOT EXISTS (SELECT FROM aclexplode(fresh_initprivs) a
                        WHERE sd.refobjid IN (a.grantor, a.grantee));
END
$replace$;

-- the ACL of a function or relation, its owner's default when it has none
CREATE FUNCTION migrate.upgrade_acl(catalog regclass, object oid) RETURNS aclitem[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS
$acl$
    SELECT CASE WHEN catalog = 'pg_class'::regclass
                THEN (SELECT coalesce(c.relacl, acldefault('r', c.relowner)) FROM pg_class c WHERE c.oid = object)
                ELSE (SELECT coalesce(p.proacl, acldefault('f', p.proowner)) FROM pg_proc p WHERE p.oid = object) END
$acl$;

-- 3. reverted, not rolled_back: stored rows, and the states allowed.
-- A dump of a 1.0 database restored here (pg_dump writes CREATE EXTENSION
-- without a version, so 1.1 is installed first) copies rows that say
-- rolled_back: the CHECK still accepts the old name and the trigger below
-- stores it as reverted, so that no row is lost and none keeps the old name.
ALTER TABLE migrate.migration DROP CONSTRAINT migration_state_check;
UPDATE migrate.migration SET state = 'reverted' WHERE state = 'rolled_back';
ALTER TABLE migrate.migration ADD CONSTRAINT migration_state_check
    CHECK (state IN ('pending', 'applied', 'failed', 'reverted', 'dirty', 'rolled_back'));

CREATE FUNCTION migrate.migration_state_renamed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$body$
BEGIN
    IF NEW.state OPERATOR(pg_catalog.=) 'rolled_back' THEN
        NEW.state := 'reverted';
    END IF;
    RETURN NEW;
END
$body$;
REVOKE ALL ON FUNCTION migrate.migration_state_renamed() FROM PUBLIC;
COMMENT ON FUNCTION migrate.migration_state_renamed() IS
    'internal: stores 1.0''s state rolled_back (a restored 1.0 dump, the 1.0 library) as reverted';
CREATE TRIGGER migration_state_renamed
    BEFORE INSERT OR UPDATE ON migrate.migration
    FOR EACH ROW EXECUTE FUNCTION migrate.migration_state_renamed();

-- 4. history: started_at (as in migrate.event), durations to the
-- millisecond.  Renaming keeps the view, its grants and the views a site
-- built on it (they refer to the column by number).
ALTER VIEW migrate.history RENAME COLUMN "time" TO started_at;
CREATE OR REPLACE VIEW migrate.history AS
SELECT e.id,
       e.action,
       e.version,
       e.name,
       e.role,
       e.started_at,
       pg_catalog.date_trunc('milliseconds', e.duration OPERATOR(pg_catalog.+) interval '0.5 ms') AS duration,
       e.outcome,
       CASE WHEN pg_catalog.pg_has_role('migrate_admin', 'USAGE') THEN e.error
            ELSE migrate.error_for_reader(e.error)
       END AS error,
       e.checksum,
       CASE WHEN pg_catalog.pg_has_role('migrate_admin', 'USAGE') THEN e.detail
            ELSE migrate.detail_for_reader(e.detail)
       END AS detail
FROM migrate.event e
ORDER BY e.id;

-- 7. the schedules view: maintenance_window, which needs no quoting
ALTER VIEW migrate.schedules RENAME COLUMN "window" TO maintenance_window;

-- 1. the narrow status and 2. the wide view (migrate.status_detail) are
-- created at the end of the issue 12 section (wp12-5): they show the lint
-- findings, the derived risk and whether the down script was generated,
-- whose table and columns that section creates.

-- 3. health() counts reverted migrations as pending, resolve(...,
-- 'mark_reverted') marks and says "reverted", and verify_integrity()
-- reads the narrow status (changed is 1.0's NOT checksum_ok): their
-- definitions earlier in this script say so already (1.1 is not released,
-- so each function is defined once here)

-- 5. apply(), revert(), revert_all(): eight columns.  New C symbols: the
-- 1.0 ones keep the 1.0 shape for a database not yet updated.
-- (issue 11, wp11-2: force, skip_backup and expect_fingerprint, the
-- environment's guard rails)
SELECT migrate.upgrade_replace('function', 'migrate.apply(text, boolean)',
    'migrate.apply(text, boolean, boolean, boolean, text)',
    'drops the fingerprint columns of the result of migrate.apply() and adds the parameters force, skip_backup and expect_fingerprint',
$create$
CREATE FUNCTION migrate.apply(target text DEFAULT NULL, dry_run boolean DEFAULT false,
                              force boolean DEFAULT false,
                              skip_backup boolean DEFAULT false,
                              expect_fingerprint text DEFAULT NULL)
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer, rows_affected bigint, note text)
AS 'MODULE_PATHNAME', 'migrate_apply_1_1'
LANGUAGE C VOLATILE
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.apply(text, boolean, boolean, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.apply(text, boolean, boolean, boolean, text) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.apply(text, boolean, boolean, boolean, text) IS
    'apply the pending migrations in dependency order, up to target; dry_run rolls back; force opens the environment''s risk gate (recorded), skip_backup skips backups (recorded), expect_fingerprint refuses to run on another schema';

-- 6. "cascade" is with_dependents; the old name stays accepted as a
-- trailing parameter (PostgreSQL has no parameter aliases), an error when
-- both are given
SELECT migrate.upgrade_replace('function', 'migrate.revert(text, integer, text, boolean, boolean)',
    'migrate.revert(text, integer, text, boolean, boolean, boolean, boolean, boolean)',
    'renames the parameter cascade of migrate.revert() to with_dependents, drops the fingerprint columns of its result and adds the parameters force and skip_backup',
$create$
CREATE FUNCTION migrate.revert(target text DEFAULT NULL,
                               steps integer DEFAULT NULL,
                               migration text DEFAULT NULL,
                               with_dependents boolean DEFAULT NULL,
                               dry_run boolean DEFAULT false,
                               "cascade" boolean DEFAULT NULL,
                               force boolean DEFAULT false,
                               skip_backup boolean DEFAULT false)
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer, rows_affected bigint, note text)
AS 'MODULE_PATHNAME', 'migrate_revert_1_1'
LANGUAGE C VOLATILE
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.revert(text, integer, text, boolean, boolean, boolean, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.revert(text, integer, text, boolean, boolean, boolean, boolean, boolean) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.revert(text, integer, text, boolean, boolean, boolean, boolean, boolean) IS
    'revert applied migrations: the latest, those after target, a number of steps, or one migration (with its dependents); "cascade" is the old name of with_dependents; force reverts past the environment''s revert window (recorded), skip_backup skips backups (recorded)';

SELECT migrate.upgrade_replace('function', 'migrate.revert_all()', 'migrate.revert_all(boolean, boolean)',
    'drops the fingerprint columns of the result of migrate.revert_all() and adds the parameters force and skip_backup',
$create$
CREATE FUNCTION migrate.revert_all(force boolean DEFAULT false,
                                   skip_backup boolean DEFAULT false)
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer, rows_affected bigint, note text)
AS 'MODULE_PATHNAME', 'migrate_revert_all_1_1'
LANGUAGE C VOLATILE
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.revert_all(boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.revert_all(boolean, boolean) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.revert_all(boolean, boolean) IS
    'revert every applied migration, newest first; force reverts past the environment''s revert window (recorded), skip_backup skips backups (recorded)';

-- 9. require() returns the applied version it found, as registered.  1.0
-- granted it to nobody explicitly (EXECUTE stays PUBLIC's): so here.
SELECT migrate.upgrade_replace('function', 'migrate.require(text)', 'migrate.require(text)',
    'has migrate.require() return the version it found',
$create$
CREATE FUNCTION migrate.require(version text) RETURNS text
AS 'MODULE_PATHNAME', 'migrate_require_1_1'
LANGUAGE C STABLE
$create$,
NULL);
COMMENT ON FUNCTION migrate.require(text) IS
    'the version of the migration, as registered; an error unless it is applied (reads migrate.status as the caller)';

-- 7a. The first check of a schedule that falls inside its maintenance
-- window, following the scheduler's own sequence (scheduler.c
-- advance_schedule: every is added to the time of each check, a cron
-- schedule moves to cron_next in its time zone); NULL when none of the
-- checks in the next year (at most 1000 of them) does.  For an every
-- schedule it is an estimate: the scheduler adds every to the moment it
-- actually checked, a little after the due time.
CREATE FUNCTION migrate.first_check_in_window(first_run timestamptz, every interval,
                                              cron text, window_start time,
                                              window_end time, timezone text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET timezone_abbreviations = 'Default' AS
$body$

DECLARE
    due timestamptz := first_run;
    horizon timestamptz := pg_catalog.now() OPERATOR(pg_catalog.+) '1 year'::pg_catalog.interval;
    opens timestamptz;
    skip bigint;
BEGIN
    FOR step IN 1..1000 LOOP
        EXIT WHEN due IS NULL OR due OPERATOR(pg_catalog.>) horizon;
        IF migrate.window_end_at(due, window_start, window_end, timezone) IS NOT NULL THEN
            RETURN due;
        END IF;
        IF every IS NULL THEN
            due := migrate.cron_next(cron, due, timezone);
            CONTINUE;
        END IF;
        -- every check before the window next opens is outside it: jump
        -- over them (one check short, for a DST change), so that a
        -- short every does not use up the steps
        opens := ((due AT TIME ZONE timezone)::date OPERATOR(pg_catalog.+) window_start)
                 AT TIME ZONE timezone;
        IF opens OPERATOR(pg_catalog.<=) due THEN
            opens := (((due AT TIME ZONE timezone)::date OPERATOR(pg_catalog.+) 1)
                      OPERATOR(pg_catalog.+) window_start) AT TIME ZONE timezone;
        END IF;
        skip := 0;
        IF pg_catalog.date_part('month', every) OPERATOR(pg_catalog.=) 0
           AND pg_catalog.date_part('year', every) OPERATOR(pg_catalog.=) 0 THEN
            skip := pg_catalog.floor(pg_catalog.date_part('epoch', opens OPERATOR(pg_catalog.-) due)
                                     OPERATOR(pg_catalog./) pg_catalog.date_part('epoch', every))::bigint
                    OPERATOR(pg_catalog.-) 1;
        END IF;
        IF skip OPERATOR(pg_catalog.>) 0 THEN
            due := due OPERATOR(pg_catalog.+) (every OPERATOR(pg_catalog.*) skip::float8);
        ELSE
            due := due OPERATOR(pg_catalog.+) every;
        END IF;
    END LOOP;
    RETURN NULL;
END
$body$;

REVOKE ALL ON FUNCTION migrate.first_check_in_window(timestamptz, interval, text, time, time, text) FROM PUBLIC;
COMMENT ON FUNCTION migrate.first_check_in_window(timestamptz, interval, text, time, time, text) IS
    'internal: the first check of a schedule from first_run that falls inside its maintenance window, or NULL (none in the next year)';

-- 7. schedule(): maintenance_window, and a result row.  PL/pgSQL refuses a
-- result column named like a parameter (require_approval), so the work is
-- done by migrate.store_schedule(), whose result columns are named
-- otherwise, and schedule() is a SQL function over it.
CREATE FUNCTION migrate.store_schedule(name text, every interval, cron text,
                                       maintenance_window text, timezone text,
                                       target text, environment text,
                                       require_approval boolean, old_window text,
                                       OUT schedule_name text, OUT first_run_at timestamptz,
                                       OUT approval_required boolean, OUT awaiting text[])
RETURNS SETOF record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
-- the scheduler reads time zones with these abbreviations (scheduler.c)
SET timezone_abbreviations = 'Default' AS
$body$

DECLARE
    given_window text;
    bounds text[];
    w_start time;
    w_end time;
    first_run timestamptz;
BEGIN
    -- given_window is 1.0's name of maintenance_window (see schedule() below)
    IF maintenance_window IS NOT NULL AND old_window IS NOT NULL THEN
        RAISE EXCEPTION 'maintenance_window and window cannot both be given'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'window is the old name of maintenance_window.',
                  HINT = 'Pass only maintenance_window => ''02:00-04:00''.';
    END IF;
    given_window := coalesce(maintenance_window, old_window);
    IF (every IS NULL) = (cron IS NULL) THEN
        RAISE EXCEPTION 'a schedule needs exactly one of every and cron'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use every => ''1 hour'' or cron => ''0 2 * * 0''.';
    END IF;
    IF every IS NOT NULL AND every <= interval '0' THEN
        RAISE EXCEPTION 'every must be a positive interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the scheduler adds every to now() after each run: keep that finite
    IF every IS NOT NULL AND every > interval '100 years' THEN
        RAISE EXCEPTION 'every must be at most 100 years'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('%s is longer than the scheduler can count.', every);
    END IF;
    -- rejects a zone unknown to the scheduler (which uses the Default
    -- abbreviations, whatever this session's timezone_abbreviations say)
    PERFORM pg_catalog.now() AT TIME ZONE timezone;
    IF given_window IS NOT NULL THEN
        bounds := pg_catalog.regexp_match(given_window,
            '^\s*((?:[01]?\d|2[0-3]):[0-5]\d)\s*-\s*((?:[01]?\d|2[0-3]):[0-5]\d)\s*$');
        IF bounds IS NULL THEN
            RAISE EXCEPTION 'invalid window "%"', given_window
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A window is written HH:MM-HH:MM, for example 02:00-04:00.';
        END IF;
        w_start := bounds[1]::time;
        w_end := bounds[2]::time;
        IF w_start = w_end THEN
            RAISE EXCEPTION 'window "%" is empty', given_window
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    first_run := CASE WHEN every IS NOT NULL THEN pg_catalog.now()
                      ELSE migrate.cron_next(cron, pg_catalog.now(), timezone) END;
    PERFORM migrate.window_end_at(pg_catalog.now(), w_start, w_end, timezone);
    IF target IS NOT NULL AND NOT EXISTS (
            SELECT FROM migrate.migration m
            WHERE m.version_key = migrate.version_key(target)) THEN
        RAISE EXCEPTION 'migration "%" is not registered', target
            USING ERRCODE = 'undefined_object';
    END IF;

    INSERT INTO migrate.schedule AS s (name, every, cron, window_start, window_end,
        timezone, target, environment, require_approval, next_run_at, created_by)
    VALUES (store_schedule.name, every, cron, w_start, w_end, timezone, target,
            environment, require_approval, first_run, migrate.calling_role())
    ON CONFLICT ON CONSTRAINT schedule_pkey DO UPDATE SET
        every = EXCLUDED.every, cron = EXCLUDED.cron,
        window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
        timezone = EXCLUDED.timezone, target = EXCLUDED.target,
        environment = EXCLUDED.environment,
        require_approval = EXCLUDED.require_approval,
        next_run_at = EXCLUDED.next_run_at, enabled = true, waiting_for = NULL;
    IF require_approval
       AND EXISTS (SELECT FROM migrate.migration m WHERE m.state IN ('pending', 'reverted'))
       AND NOT EXISTS (SELECT FROM migrate.migration m
                       WHERE m.state IN ('pending', 'reverted') AND m.approved_at IS NOT NULL) THEN
        RAISE NOTICE 'schedule "%" will apply nothing until a pending migration is approved', name
            USING DETAIL = 'The schedule requires approval, and no pending migration is approved.',
                  HINT = 'Approve them with SELECT migrate.approve(version), or schedule with require_approval => false.';
    END IF;
    PERFORM migrate.wake();

    -- the stored next_run_at is when the scheduler next checks; it runs
    -- only when a check falls inside the window: answer with that check
    first_run_at := first_run;
    IF w_start IS NOT NULL THEN
        first_run_at := migrate.first_check_in_window(first_run, every, cron,
                                                      w_start, w_end, timezone);
        IF first_run_at IS NULL THEN
            RAISE WARNING 'schedule "%" never runs inside its maintenance window', name
                USING DETAIL = pg_catalog.format(
                          'It is checked %s, and none of its checks in the next year falls inside its window %s-%s (%s).',
                          CASE WHEN every IS NOT NULL
                               THEN pg_catalog.format('every %s from %s', every,
                                        pg_catalog.to_char(first_run AT TIME ZONE timezone, 'HH24:MI'))
                               ELSE pg_catalog.format('at cron %L', cron) END,
                          pg_catalog.to_char(w_start, 'HH24:MI'),
                          pg_catalog.to_char(w_end, 'HH24:MI'), timezone),
                      HINT = pg_catalog.format(
                          'Use a cron expression whose times fall inside the window, such as cron => %L, or a shorter every.',
                          pg_catalog.format('%s %s * * *',
                              pg_catalog.date_part('minute', w_start),
                              pg_catalog.date_part('hour', w_start)));
        END IF;
    END IF;

    schedule_name := store_schedule.name;
    approval_required := require_approval;
    -- what a run would wait for the approval of, as the scheduler decides
    -- it (apply(target)'s plan, approval before environment); NULL when
    -- no plan can be made now (a dirty migration, a missing dependency),
    -- which stops the scheduler too
    awaiting := '{}';
    IF require_approval THEN
        BEGIN
            awaiting := migrate.awaiting_approval(target);
        EXCEPTION WHEN SQLSTATE 'MG008' OR SQLSTATE 'MG002' OR SQLSTATE 'MG003' THEN
            awaiting := NULL;
        END;
    END IF;
    RETURN NEXT;
END
$body$;

REVOKE ALL ON FUNCTION migrate.store_schedule(text, interval, text, text, text, text, text, boolean, text) FROM PUBLIC;
COMMENT ON FUNCTION migrate.store_schedule(text, interval, text, text, text, text, text, boolean, text) IS
    'internal: the work of migrate.schedule()';

-- 8. approve(): a result row (store_approval() does the work, for the
-- same reason as store_schedule())
CREATE FUNCTION migrate.store_approval(wanted text,
                                       OUT found_version text, OUT found_name text,
                                       OUT run_as name, OUT approver name,
                                       OUT approved_time timestamptz)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$

DECLARE
    can_login boolean;
    registrant name;
BEGIN
    PERFORM migrate.acquire_lock();
    -- four eyes (issue 11): where the environment says so, the approver
    -- is a role other than the registrant
    SELECT m.registered_by INTO registrant
      FROM migrate.migration m WHERE m.version_key = migrate.version_key(wanted);
    IF registrant OPERATOR(pg_catalog.=) migrate.calling_role() AND migrate.four_eyes_required() THEN
        RAISE EXCEPTION 'permission denied to approve migration "%"', wanted
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Environment "%s" requires four eyes: a migration is approved by a role other than the one that registered it, and role "%s" registered it.',
                                             pg_catalog.current_setting('migrate.environment'), registrant),
                  HINT = 'Have another role approve it.';
    END IF;
    -- a scheduled run connects as this role (scheduler.c), and PostgreSQL 15
    -- refuses a worker connection without LOGIN: say so now, not at 2 am
    SELECT coalesce(nullif(pg_catalog.current_setting('migrate.worker_role', true), ''), m.registered_by)
      INTO run_as
      FROM migrate.migration m WHERE m.version_key = migrate.version_key(wanted);
    IF FOUND THEN
        SELECT r.rolcanlogin INTO can_login FROM pg_roles r WHERE r.rolname = run_as;
        IF can_login IS NOT TRUE THEN
            RAISE EXCEPTION 'migration "%" would run as role "%", which cannot log in', wanted, run_as
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Scheduled runs connect as the role that registered a migration (or as migrate.worker_role), and PostgreSQL refuses that connection to a role without LOGIN or that does not exist.',
                      HINT = 'Register the migration as a role with LOGIN, or set migrate.worker_role to one.';
        END IF;
        -- approving has the scheduler run it as that role: only someone
        -- with its privileges may (migrate.worker_role is a superuser's
        -- choice, and needs no such check)
        IF nullif(pg_catalog.current_setting('migrate.worker_role', true), '') IS NULL
           AND NOT pg_catalog.pg_has_role(migrate.calling_role(), run_as, 'USAGE') THEN
            RAISE EXCEPTION 'permission denied to approve migration "%"', wanted
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('Scheduled runs would run it as role %I, its registrant, and role %I does not have the privileges of that role.', run_as, migrate.calling_role()),
                      HINT = pg_catalog.format('Have it approved by role %I or a role with its privileges, or register it again as yourself.', run_as);
        END IF;
    END IF;
    UPDATE migrate.migration m SET approved_at = pg_catalog.now(), approved_by = migrate.calling_role()
    WHERE m.version_key = migrate.version_key(wanted)
    RETURNING m.version, m.name, m.approved_by, m.approved_at
         INTO found_version, found_name, approver, approved_time;
    IF found_version IS NULL THEN
        RAISE EXCEPTION 'migration "%" is not registered', wanted
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO migrate.event (action, version, outcome, role, started_at)
    VALUES ('approve', found_version, 'success', migrate.calling_role(), pg_catalog.now());
    RETURN NEXT;
END
$body$;

REVOKE ALL ON FUNCTION migrate.store_approval(text) FROM PUBLIC;
COMMENT ON FUNCTION migrate.store_approval(text) IS
    'internal: the work of migrate.approve()';

SELECT migrate.upgrade_replace('function',
    'migrate.schedule(text, interval, text, text, text, text, text, boolean)',
    'migrate.schedule(text, interval, text, text, text, text, text, boolean, text)',
    'renames the parameter window of migrate.schedule() to maintenance_window and has it return a row',
$create$
CREATE FUNCTION migrate.schedule(name text,
                                 every interval DEFAULT NULL,
                                 cron text DEFAULT NULL,
                                 maintenance_window text DEFAULT NULL,
                                 timezone text DEFAULT 'UTC',
                                 target text DEFAULT NULL,
                                 environment text DEFAULT NULL,
                                 require_approval boolean DEFAULT true,
                                 "window" text DEFAULT NULL)
RETURNS TABLE (schedule text, next_run_at timestamptz, require_approval boolean,
               waiting_for text[])
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
    SELECT * FROM migrate.store_schedule($1, $2, $3, $4, $5, $6, $7, $8, $9)
$body$
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.schedule(text, interval, text, text, text, text, text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.schedule(text, interval, text, text, text, text, text, boolean, text) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.schedule(text, interval, text, text, text, text, text, boolean, text) IS
    'create or replace a schedule: apply approved migrations every interval or on a cron expression, within a maintenance window; returns its next run and the versions it waits for the approval of ("window" is the old name of maintenance_window)';

SELECT migrate.upgrade_replace('function', 'migrate.approve(text)', 'migrate.approve(text)',
    'has migrate.approve() return what it approved',
$create$
CREATE FUNCTION migrate.approve(version text)
RETURNS TABLE (version text, name text, runs_as name, approved_by name,
               approved_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
    SELECT * FROM migrate.store_approval($1)
$body$
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.approve(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.approve(text) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.approve(text) IS
    'approve a migration for scheduled runs; returns it and the role scheduled runs will run it as';

-- 10. pause(), resume() and unschedule() say what they did
SELECT migrate.upgrade_replace('function', 'migrate.pause()', 'migrate.pause()',
    'has migrate.pause() return ''paused''',
$create$
CREATE FUNCTION migrate.pause() RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
BEGIN
    INSERT INTO migrate.scheduler_state AS st (paused, changed_at, changed_by)
    VALUES (true, pg_catalog.now(), migrate.calling_role())
    ON CONFLICT (singleton) DO UPDATE SET paused = true, changed_at = EXCLUDED.changed_at,
        changed_by = EXCLUDED.changed_by;
    INSERT INTO migrate.event (action, outcome, role, started_at)
    VALUES ('pause', 'success', migrate.calling_role(), pg_catalog.now());
    RETURN 'paused';
END
$body$
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.pause() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.pause() TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.pause() IS
    'pause the scheduler of this database (recorded in the history); returns ''paused''';

SELECT migrate.upgrade_replace('function', 'migrate.resume()', 'migrate.resume()',
    'has migrate.resume() return ''resumed''',
$create$
CREATE FUNCTION migrate.resume() RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
BEGIN
    INSERT INTO migrate.scheduler_state AS st (paused, changed_at, changed_by)
    VALUES (false, pg_catalog.now(), migrate.calling_role())
    ON CONFLICT (singleton) DO UPDATE SET paused = false, changed_at = EXCLUDED.changed_at,
        changed_by = EXCLUDED.changed_by;
    INSERT INTO migrate.event (action, outcome, role, started_at)
    VALUES ('resume', 'success', migrate.calling_role(), pg_catalog.now());
    PERFORM migrate.wake();
    RETURN 'resumed';
END
$body$
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.resume() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.resume() TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.resume() IS
    'resume the scheduler of this database after pause() (recorded in the history); returns ''resumed''';

SELECT migrate.upgrade_replace('function', 'migrate.unschedule(text)', 'migrate.unschedule(text)',
    'has migrate.unschedule() return ''unscheduled''',
$create$
CREATE FUNCTION migrate.unschedule(name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
BEGIN
    DELETE FROM migrate.schedule s WHERE s.name = unschedule.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schedule "%" does not exist', name
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN 'unscheduled';
END
$body$
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.unschedule(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.unschedule(text) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.unschedule(text) IS
    'drop a schedule; returns ''unscheduled''';

-- (the helpers of this section, upgrade_replace() and upgrade_acl(), are
-- dropped at the end of the issue 10 section, which uses them too)

/* ---------------------------------------------------------------------
 * WP-S review fixes (issue 9): schedule()'s waiting_for as the scheduler
 * decides it.
 * --------------------------------------------------------------------- */
CREATE FUNCTION migrate.awaiting_approval(target text) RETURNS text[]
AS 'MODULE_PATHNAME', 'migrate_plan_awaiting_approval'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.awaiting_approval(text) FROM PUBLIC;
COMMENT ON FUNCTION migrate.awaiting_approval(text) IS
    'internal: the versions a schedule requiring approval waits for the approval of, in the order of apply(target)''s plan (migrate.schedule()''s waiting_for)';

/* ---------------------------------------------------------------------
 * WP10-1 (issue 10): what the pg_migrate client needs from the server,
 * for psql users as much as for the client.
 *
 *  - tags: named points in the history of applied migrations, which
 *    `pg_migrate down --to-tag T` returns to with
 *    migrate.revert(target => migrate.tag_version(T)): the table
 *    migrate.tag (dumped like the other tables), the view migrate.tags,
 *    tag(), untag(), tag_version(); history records them (actions "tag"
 *    and "untag");
 *  - large first deploys on default settings: batch_target() ends the next
 *    chunk of apply(target)'s plan, and deploy() gains batch_size, which
 *    commits after each chunk (one apply() of 10,000 CREATE TABLEs runs
 *    out of shared memory for locks).  deploy() is a C procedure whose
 *    signature changes: 1.1's has a symbol of its own (1.0's keeps
 *    working until the update), and upgrade_replace() above replaces it
 *    keeping the site's grants;
 *  - repeatable migrations (Flyway's R__ files, "@repeatable: true"): the
 *    column migrate.migration.repeatable.  The library checks that the
 *    column exists, so that it also works on a 1.0 catalog.
 * --------------------------------------------------------------------- */

-- history records tags being set and removed
ALTER TABLE migrate.event DROP CONSTRAINT event_action_check;
ALTER TABLE migrate.event ADD CONSTRAINT event_action_check
    CHECK (action IN ('register', 'apply', 'revert', 'repair', 'resolve',
                      'approve', 'run', 'pause', 'resume', 'dry run', 'tag', 'untag'));

-- the tags; only the owner touches the table (tag() and untag() write it)
CREATE TABLE migrate.tag (
    name       text PRIMARY KEY CHECK (name OPERATOR(pg_catalog.<>) ''),
    version    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by name NOT NULL,
    comment    text
);
COMMENT ON TABLE migrate.tag IS
    'tags: named applied migrations, points in history that revert(target => tag_version(name)) returns to';
SELECT pg_catalog.pg_extension_config_dump('migrate.tag', '');

CREATE VIEW migrate.tags AS
SELECT t.name AS tag,
       t.version,
       t.created_at,
       t.created_by,
       t.comment
FROM migrate.tag t
ORDER BY t.created_at, t.name;
REVOKE ALL ON migrate.tags FROM PUBLIC;
GRANT SELECT ON migrate.tags TO migrate_reader;
COMMENT ON VIEW migrate.tags IS
    'every tag, oldest first: the version it names, when, by whom, and its comment';

CREATE FUNCTION migrate.tag(name text, version text DEFAULT NULL, comment text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_tag'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.tag(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.tag(text, text, text) TO migrate_admin;
COMMENT ON FUNCTION migrate.tag(text, text, text) IS
    'tag an applied migration (by default the one applied last); returns its version as registered';

CREATE FUNCTION migrate.untag(name text) RETURNS text
AS 'MODULE_PATHNAME', 'migrate_untag'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.untag(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.untag(text) TO migrate_admin;
COMMENT ON FUNCTION migrate.untag(text) IS
    'remove a tag; returns the version it tagged';

CREATE FUNCTION migrate.tag_version(name text) RETURNS text
AS 'MODULE_PATHNAME', 'migrate_tag_version'
LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION migrate.tag_version(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.tag_version(text) TO migrate_admin;
COMMENT ON FUNCTION migrate.tag_version(text) IS
    'the version a tag names, for revert(target => tag_version(name))';

-- chunks of a plan
CREATE FUNCTION migrate.batch_target(target text, batch_size integer) RETURNS text
AS 'MODULE_PATHNAME', 'migrate_batch_target'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.batch_target(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.batch_target(text, integer) TO migrate_admin;
COMMENT ON FUNCTION migrate.batch_target(text, integer) IS
    'the version that ends the next chunk of at most batch_size migrations of apply(target)''s plan (apply(batch_target(t, n)) applies exactly those); NULL when nothing is pending';

SELECT migrate.upgrade_replace('procedure', 'migrate.deploy(text, interval)',
    'migrate.deploy(text, interval, integer, boolean, boolean, text)',
    'adds the parameters batch_size, force, skip_backup and expect_fingerprint to migrate.deploy()',
$create$
CREATE PROCEDURE migrate.deploy(target text DEFAULT NULL,
                                max_wait interval DEFAULT '1 hour',
                                batch_size integer DEFAULT NULL,
                                force boolean DEFAULT false,
                                skip_backup boolean DEFAULT false,
                                expect_fingerprint text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'migrate_deploy_1_1'
LANGUAGE C;
$create$,
$grant$
REVOKE ALL ON PROCEDURE migrate.deploy(text, interval, integer, boolean, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE migrate.deploy(text, interval, integer, boolean, boolean, text) TO migrate_admin;
$grant$);
COMMENT ON PROCEDURE migrate.deploy(text, interval, integer, boolean, boolean, text) IS
    'wait (up to max_wait, holding no snapshot) for the migrate lock, then apply what is pending, up to target; with batch_size, in chunks of at most that many migrations, committing after each; force, skip_backup and expect_fingerprint as for apply()';

-- repeatable migrations (the header decides; registration stores it)
ALTER TABLE migrate.migration ADD COLUMN repeatable boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN migrate.migration.repeatable IS
    '@repeatable: new content for it once applied makes it pending again, to be run again';

-- (the helpers of the issue 9 section, upgrade_replace() and
-- upgrade_acl(), are dropped at the end of the issue 12 section)

/* ---------------------------------------------------------------------
 * Issue 11: production guard rails.  Shared catalog changes first, then
 * one section per work package (wp11-1 environments and skips, wp11-2
 * approvals and gates, wp11-3 DDL lock timeouts, wp11-4 backups).
 * --------------------------------------------------------------------- */

-- history records configuration changes, withdrawn approvals, restored
-- and purged backups
ALTER TABLE migrate.event DROP CONSTRAINT event_action_check;
ALTER TABLE migrate.event ADD CONSTRAINT event_action_check
    CHECK (action IN ('register', 'apply', 'revert', 'repair', 'resolve',
                      'approve', 'run', 'pause', 'resume', 'dry run', 'tag', 'untag',
                      'configure', 'unapprove', 'restore', 'purge'));

-- a migration meant for other environments (@environments) is skipped in
-- this one: done, in order, without running
ALTER TABLE migrate.migration DROP CONSTRAINT migration_state_check;
ALTER TABLE migrate.migration ADD CONSTRAINT migration_state_check
    CHECK (state IN ('pending', 'applied', 'failed', 'reverted', 'dirty', 'rolled_back', 'skipped'));

-- ---- wp11-1: environments, configure(), skipped migrations ----

-- The guard rails of each environment; migrate.environment (a superuser
-- setting) names the row that applies.  Every column's default is "off"
-- (what an environment created by configure() starts with).
CREATE TABLE migrate.environment_setting (
    environment           text PRIMARY KEY
                          CHECK (environment OPERATOR(pg_catalog.<>) ''
                                 AND environment OPERATOR(pg_catalog.=) pg_catalog.btrim(environment)
                                 AND pg_catalog.octet_length(environment) OPERATOR(pg_catalog.<) 64),
    lock_timeout          interval NOT NULL DEFAULT '0'
                          CHECK (lock_timeout BETWEEN '0' AND '2147483647 ms'),
    statement_timeout     interval NOT NULL DEFAULT '0'
                          CHECK (statement_timeout BETWEEN '0' AND '2147483647 ms'),
    lock_retries          integer NOT NULL DEFAULT 0 CHECK (lock_retries BETWEEN 0 AND 100),
    lock_retry_backoff    interval NOT NULL DEFAULT '1s'
                          CHECK (lock_retry_backoff BETWEEN '0' AND '1 hour'),
    require_approval      boolean NOT NULL DEFAULT false,
    four_eyes             boolean NOT NULL DEFAULT false,
    backup                text NOT NULL DEFAULT 'off' CHECK (backup IN ('off', 'copy')),
    backup_retention      interval NOT NULL DEFAULT '7 days'
                          CHECK (backup_retention OPERATOR(pg_catalog.>) '0'),
    revert_window         interval CHECK (revert_window OPERATOR(pg_catalog.>=) '0'),
    max_risk_level        text CHECK (max_risk_level IN ('low', 'medium', 'high')),
    require_zero_downtime boolean NOT NULL DEFAULT false,
    drift_blocks_apply    boolean NOT NULL DEFAULT false,
    -- issue 12 (wp12-5): the lint's rules for this environment
    lint_blocking         text[] NOT NULL DEFAULT '{}'
                          CHECK (pg_catalog.array_position(lint_blocking, NULL) IS NULL),
    lint_large_table      bigint CHECK (lint_large_table OPERATOR(pg_catalog.>=) 0),
    lint_require_timeouts boolean NOT NULL DEFAULT false,
    changed_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    changed_by            name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE migrate.environment_setting IS
    'guard rails per environment; the setting migrate.environment selects a row, migrate.configure() changes them';
COMMENT ON COLUMN migrate.environment_setting.lock_timeout IS
    'lock_timeout each migration runs with (overridden by @lock-timeout); 0: none';
COMMENT ON COLUMN migrate.environment_setting.statement_timeout IS
    'statement_timeout each migration runs with (overridden by @statement-timeout); 0: none';
COMMENT ON COLUMN migrate.environment_setting.lock_retries IS
    'further attempts of a migration whose lock_timeout expired';
COMMENT ON COLUMN migrate.environment_setting.lock_retry_backoff IS
    'wait before the first retry; doubles for each further one, with jitter';
COMMENT ON COLUMN migrate.environment_setting.require_approval IS
    'apply() by hand, deploy() and scheduled runs run approved migrations only';
COMMENT ON COLUMN migrate.environment_setting.four_eyes IS
    'the approver of a migration may not be the role that registered it';
COMMENT ON COLUMN migrate.environment_setting.backup IS
    'off, or copy: copy the data a destructive statement destroys into schema migrate_backup first';
COMMENT ON COLUMN migrate.environment_setting.backup_retention IS
    'how long purge_backups() keeps backups by default';
COMMENT ON COLUMN migrate.environment_setting.revert_window IS
    'revert only migrations applied this recently, unless forced; NULL: no limit';
COMMENT ON COLUMN migrate.environment_setting.max_risk_level IS
    'highest @risk-level applied without force or approval; NULL: no ceiling';
COMMENT ON COLUMN migrate.environment_setting.require_zero_downtime IS
    'a migration whose header says @zero-downtime: false needs force or approval';
COMMENT ON COLUMN migrate.environment_setting.drift_blocks_apply IS
    'unacknowledged schema drift blocks apply (reserved for drift capture; no effect yet)';
COMMENT ON COLUMN migrate.environment_setting.lint_blocking IS
    'lint rule ids (migrate.lint_rules) whose stored findings block apply unless forced';
COMMENT ON COLUMN migrate.environment_setting.lint_large_table IS
    'size in bytes from which the lint counts a table as large; NULL: 100 MB';
COMMENT ON COLUMN migrate.environment_setting.lint_require_timeouts IS
    'the lint asks for lock_timeout and statement_timeout before statements that block writes (rule require-timeout-settings)';
SELECT pg_catalog.pg_extension_config_dump('migrate.environment_setting', '');

-- The three documented environments.  development: every rail off;
-- staging: production's timeouts, retries and backups, without the gates,
-- so that a deploy rehearses how production will take its locks;
-- production: all of it.  The lint (issue 12, wp12-5) blocks the rules of
-- severity error (a migration that will fail, or destroy what it should
-- not) in staging and production alike: a script production would refuse
-- is better refused in staging, before it is applied anywhere that needs
-- a new migration to undo it.
INSERT INTO migrate.environment_setting
    (environment, lock_timeout, statement_timeout, lock_retries, lock_retry_backoff,
     require_approval, four_eyes, backup, backup_retention, revert_window,
     max_risk_level, require_zero_downtime, drift_blocks_apply,
     lint_blocking, lint_large_table, lint_require_timeouts)
VALUES
    ('development', '0', '0', 0, '1s', false, false, 'off', '7 days', NULL, NULL, false, false,
     '{}', NULL, false),
    ('staging', '5s', '0', 5, '1s', false, false, 'copy', '3 days', NULL, NULL, false, false,
     '{ban-drop-database,ban-truncate-cascade,adding-required-field,identifier-truncated,ban-concurrent-index-creation-in-transaction}',
     NULL, true),
    ('production', '5s', '0', 5, '1s', true, false, 'copy', '7 days', '1 day', 'medium', true, false,
     '{ban-drop-database,ban-truncate-cascade,adding-required-field,identifier-truncated,ban-concurrent-index-creation-in-transaction}',
     NULL, true);

-- pg_dump writes the rows of this table after CREATE EXTENSION, which has
-- already made the three rows above: a dumped row whose environment exists
-- replaces it rather than failing the whole COPY, so that a restore keeps
-- the rules production had.
CREATE FUNCTION migrate.environment_setting_restore() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$body$
BEGIN
    DELETE FROM migrate.environment_setting s
     WHERE s.environment OPERATOR(pg_catalog.=) NEW.environment;
    RETURN NEW;
END
$body$;
REVOKE ALL ON FUNCTION migrate.environment_setting_restore() FROM PUBLIC;
COMMENT ON FUNCTION migrate.environment_setting_restore() IS
    'internal: a restored dump''s row for an environment replaces the row CREATE EXTENSION made';
CREATE TRIGGER environment_setting_restore
    BEFORE INSERT ON migrate.environment_setting
    FOR EACH ROW EXECUTE FUNCTION migrate.environment_setting_restore();

REVOKE ALL ON migrate.environment_setting FROM PUBLIC;
GRANT SELECT ON migrate.environment_setting TO migrate_reader;

-- one row: the session's environment and the rails apply() and revert()
-- obey in it; with no environment every rail is off
CREATE VIEW migrate.effective_settings AS
SELECT e.name AS environment,
       e.name IS NULL OR s.environment IS NOT NULL AS configured,
       coalesce(s.lock_timeout, '0') AS lock_timeout,
       coalesce(s.statement_timeout, '0') AS statement_timeout,
       coalesce(s.lock_retries, 0) AS lock_retries,
       coalesce(s.lock_retry_backoff, '0') AS lock_retry_backoff,
       coalesce(s.require_approval, false) AS require_approval,
       coalesce(s.four_eyes, false) AS four_eyes,
       coalesce(s.backup, 'off') AS backup,
       s.backup_retention,
       s.revert_window,
       s.max_risk_level,
       coalesce(s.require_zero_downtime, false) AS require_zero_downtime,
       coalesce(s.drift_blocks_apply, false) AS drift_blocks_apply,
       coalesce(s.lint_blocking, '{}') AS lint_blocking,
       -- the threshold the lint uses: the column, or its 100 MB default
       coalesce(s.lint_large_table, 104857600) AS lint_large_table,
       coalesce(s.lint_require_timeouts, false) AS lint_require_timeouts,
       s.changed_at,
       s.changed_by
FROM (SELECT NULLIF(pg_catalog.current_setting('migrate.environment', true), '') AS name
      -- calling into the library first loads it, which defines the setting:
      -- a value a non-superuser SET before (a placeholder) is then refused,
      -- as it is for apply(), instead of being shown here
      WHERE migrate.version() IS NOT NULL) e
LEFT JOIN migrate.environment_setting s ON s.environment OPERATOR(pg_catalog.=) e.name;
REVOKE ALL ON migrate.effective_settings FROM PUBLIC;
GRANT SELECT ON migrate.effective_settings TO migrate_reader;
COMMENT ON VIEW migrate.effective_settings IS
    'the environment migrate.environment names for this session and its guard rails (all off without one; configured false: no row, so apply() and revert() refuse)';

-- Change an environment's rails (creating it if need be): each argument
-- given replaces that setting, each name in "reset" puts the setting back
-- to its default (off).  SECURITY DEFINER for the table, and NOT granted
-- to migrate_admin: a deploy role must not be able to lower production's
-- rails; the extension owner grants it to a policy role.
CREATE FUNCTION migrate.configure(environment text,
                                  lock_timeout interval DEFAULT NULL,
                                  statement_timeout interval DEFAULT NULL,
                                  lock_retries integer DEFAULT NULL,
                                  lock_retry_backoff interval DEFAULT NULL,
                                  require_approval boolean DEFAULT NULL,
                                  four_eyes boolean DEFAULT NULL,
                                  backup text DEFAULT NULL,
                                  backup_retention interval DEFAULT NULL,
                                  revert_window interval DEFAULT NULL,
                                  max_risk_level text DEFAULT NULL,
                                  require_zero_downtime boolean DEFAULT NULL,
                                  drift_blocks_apply boolean DEFAULT NULL,
                                  lint_blocking text[] DEFAULT NULL,
                                  lint_large_table bigint DEFAULT NULL,
                                  lint_require_timeouts boolean DEFAULT NULL,
                                  reset text[] DEFAULT NULL)
RETURNS migrate.environment_setting
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
DECLARE
    settings CONSTANT text[] := ARRAY['lock_timeout', 'statement_timeout', 'lock_retries',
        'lock_retry_backoff', 'require_approval', 'four_eyes', 'backup', 'backup_retention',
        'revert_window', 'max_risk_level', 'require_zero_downtime', 'drift_blocks_apply',
        'lint_blocking', 'lint_large_table', 'lint_require_timeouts'];
    unknown  text;
    given    jsonb;
    before   jsonb;
    after    jsonb;
    created  boolean := false;
    setting  text;
    old_diff jsonb := '{}';
    new_diff jsonb := '{}';
    result   migrate.environment_setting;
BEGIN
    IF configure.environment IS NULL OR configure.environment OPERATOR(pg_catalog.=) ''
       OR configure.environment OPERATOR(pg_catalog.<>) pg_catalog.btrim(configure.environment)
       OR pg_catalog.octet_length(configure.environment) OPERATOR(pg_catalog.>=) 64 THEN
        RAISE EXCEPTION 'invalid environment name "%"', coalesce(configure.environment, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An environment name is not empty, at most 63 bytes long, and has no leading or trailing spaces.',
                  HINT = 'Name it as migrate.environment will, for example ''production''.';
    END IF;

    -- the arguments given, by setting (NULL: leave it as it is)
    given := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'lock_timeout', configure.lock_timeout,
        'statement_timeout', configure.statement_timeout,
        'lock_retries', configure.lock_retries,
        'lock_retry_backoff', configure.lock_retry_backoff,
        'require_approval', configure.require_approval,
        'four_eyes', configure.four_eyes,
        'backup', configure.backup,
        'backup_retention', configure.backup_retention,
        'revert_window', configure.revert_window,
        'max_risk_level', configure.max_risk_level,
        'require_zero_downtime', configure.require_zero_downtime,
        'drift_blocks_apply', configure.drift_blocks_apply,
        'lint_blocking', configure.lint_blocking,
        'lint_large_table', configure.lint_large_table,
        'lint_require_timeouts', configure.lint_require_timeouts));

    FOREACH setting IN ARRAY coalesce(configure.reset, '{}') LOOP
        IF setting IS NULL OR NOT setting OPERATOR(pg_catalog.=) ANY (settings) THEN
            RAISE EXCEPTION 'unknown setting "%" in reset', coalesce(setting, 'NULL')
                USING ERRCODE = 'undefined_object',
                      DETAIL = pg_catalog.format('The settings are %s.', pg_catalog.array_to_string(settings, ', ')),
                      HINT = 'Name settings as the columns of migrate.environment_setting.';
        END IF;
        IF given OPERATOR(pg_catalog.?) setting THEN
            RAISE EXCEPTION 'setting "%" is both given and reset', setting
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give a value or reset it, not both.';
        END IF;
    END LOOP;

    -- each value checked with a message saying what is allowed
    IF configure.lock_timeout NOT BETWEEN '0' AND '2147483647 ms' THEN
        RAISE EXCEPTION 'lock_timeout % is out of range', configure.lock_timeout
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is at least 0 (no timeout) and at most 2147483647 milliseconds, as PostgreSQL''s lock_timeout.';
    END IF;
    IF configure.statement_timeout NOT BETWEEN '0' AND '2147483647 ms' THEN
        RAISE EXCEPTION 'statement_timeout % is out of range', configure.statement_timeout
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is at least 0 (no timeout) and at most 2147483647 milliseconds, as PostgreSQL''s statement_timeout.';
    END IF;
    IF configure.lock_retries NOT BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'lock_retries % is out of range', configure.lock_retries
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is between 0 (no retry) and 100.';
    END IF;
    IF configure.lock_retry_backoff NOT BETWEEN '0' AND '1 hour' THEN
        RAISE EXCEPTION 'lock_retry_backoff % is out of range', configure.lock_retry_backoff
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is between 0 and 1 hour; it doubles for each further retry.';
    END IF;
    IF configure.backup NOT IN ('off', 'copy') THEN
        RAISE EXCEPTION 'invalid backup strategy "%"', configure.backup
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The strategies are ''off'' and ''copy''.';
    END IF;
    IF configure.backup_retention OPERATOR(pg_catalog.<=) '0' THEN
        RAISE EXCEPTION 'backup_retention % is out of range', configure.backup_retention
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Backups are kept for a positive interval.',
                  HINT = 'Set backup => ''off'' to take no backups.';
    END IF;
    IF configure.revert_window OPERATOR(pg_catalog.<) '0' THEN
        RAISE EXCEPTION 'revert_window % is out of range', configure.revert_window
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is 0 or more (0: no revert without force).',
                  HINT = 'Pass reset => ''{revert_window}'' for no revert window.';
    END IF;
    IF configure.max_risk_level NOT IN ('low', 'medium', 'high') THEN
        RAISE EXCEPTION 'invalid max_risk_level "%"', configure.max_risk_level
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The risk levels are ''low'', ''medium'' and ''high''.',
                  HINT = 'Pass reset => ''{max_risk_level}'' for no ceiling.';
    END IF;
    IF configure.lint_large_table OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'lint_large_table % is out of range', configure.lint_large_table
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'It is a size in bytes, 0 or more.',
                  HINT = 'Pass reset => ''{lint_large_table}'' for the default of 100 MB.';
    END IF;
    IF pg_catalog.array_position(configure.lint_blocking, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'lint_blocking must not contain NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name rules as migrate.lint_rules does, or pass ''{}'' to block none.';
    END IF;

    -- the row, locked against a concurrent configure(); created if missing
    SELECT pg_catalog.to_jsonb(s) INTO before FROM migrate.environment_setting s
     WHERE s.environment OPERATOR(pg_catalog.=) configure.environment FOR UPDATE;
    IF before IS NULL THEN
        INSERT INTO migrate.environment_setting AS s (environment, changed_by)
        VALUES (configure.environment, migrate.calling_role())
        ON CONFLICT ON CONSTRAINT environment_setting_pkey DO NOTHING;
        SELECT pg_catalog.to_jsonb(s) INTO before FROM migrate.environment_setting s
         WHERE s.environment OPERATOR(pg_catalog.=) configure.environment FOR UPDATE;
        created := true;
    END IF;

    -- the rules lint_blocking names must exist.  Checked once the row
    -- exists: migrate.lint_rules reads the session's environment, which
    -- may be the one this call creates.
    SELECT pg_catalog.string_agg(pg_catalog.format('"%s"', b.id), ', ' ORDER BY b.n) INTO unknown
      FROM pg_catalog.unnest(configure.lint_blocking) WITH ORDINALITY AS b(id, n)
     WHERE NOT EXISTS (SELECT FROM migrate.lint_rules r WHERE r.id OPERATOR(pg_catalog.=) b.id);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown lint rule in lint_blocking: %', unknown
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'lint_blocking names rules by their id, as migrate.lint_rules lists them.',
                  HINT = 'SELECT id, severity, summary FROM migrate.lint_rules;';
    END IF;

    -- reset first (a column's DEFAULT is "off"), then the values given
    FOREACH setting IN ARRAY coalesce(configure.reset, '{}') LOOP
        EXECUTE pg_catalog.format('UPDATE migrate.environment_setting s SET %I = DEFAULT'
                                  ' WHERE s.environment OPERATOR(pg_catalog.=) $1', setting)
          USING configure.environment;
    END LOOP;
    UPDATE migrate.environment_setting s SET
        lock_timeout = coalesce(configure.lock_timeout, s.lock_timeout),
        statement_timeout = coalesce(configure.statement_timeout, s.statement_timeout),
        lock_retries = coalesce(configure.lock_retries, s.lock_retries),
        lock_retry_backoff = coalesce(configure.lock_retry_backoff, s.lock_retry_backoff),
        require_approval = coalesce(configure.require_approval, s.require_approval),
        four_eyes = coalesce(configure.four_eyes, s.four_eyes),
        backup = coalesce(configure.backup, s.backup),
        backup_retention = coalesce(configure.backup_retention, s.backup_retention),
        revert_window = coalesce(configure.revert_window, s.revert_window),
        max_risk_level = coalesce(configure.max_risk_level, s.max_risk_level),
        require_zero_downtime = coalesce(configure.require_zero_downtime, s.require_zero_downtime),
        drift_blocks_apply = coalesce(configure.drift_blocks_apply, s.drift_blocks_apply),
        lint_blocking = coalesce(configure.lint_blocking, s.lint_blocking),
        lint_large_table = coalesce(configure.lint_large_table, s.lint_large_table),
        lint_require_timeouts = coalesce(configure.lint_require_timeouts, s.lint_require_timeouts),
        changed_at = pg_catalog.now(),
        changed_by = migrate.calling_role()
     WHERE s.environment OPERATOR(pg_catalog.=) configure.environment
    RETURNING * INTO result;

    -- history: the settings that changed, before and after
    after := pg_catalog.to_jsonb(result);
    FOREACH setting IN ARRAY settings LOOP
        IF before OPERATOR(pg_catalog.->) setting IS DISTINCT FROM after OPERATOR(pg_catalog.->) setting THEN
            old_diff := old_diff OPERATOR(pg_catalog.||)
                pg_catalog.jsonb_build_object(setting, before OPERATOR(pg_catalog.->) setting);
            new_diff := new_diff OPERATOR(pg_catalog.||)
                pg_catalog.jsonb_build_object(setting, after OPERATOR(pg_catalog.->) setting);
        END IF;
    END LOOP;
    INSERT INTO migrate.event (action, outcome, role, started_at, detail)
    VALUES ('configure', 'success', migrate.calling_role(), pg_catalog.now(),
            pg_catalog.jsonb_build_object('environment', configure.environment,
                                          'created', created,
                                          'old', old_diff, 'new', new_diff));
    RETURN result;
END
$body$;
REVOKE ALL ON FUNCTION migrate.configure(text, interval, interval, integer, interval, boolean,
    boolean, text, interval, interval, text, boolean, boolean, text[], bigint, boolean,
    text[]) FROM PUBLIC;
COMMENT ON FUNCTION migrate.configure(text, interval, interval, integer, interval, boolean,
    boolean, text, interval, interval, text, boolean, boolean, text[], bigint, boolean,
    text[]) IS
    'change the guard rails of an environment (created if missing): each argument given replaces that setting, reset names settings put back to their default; recorded in the history; not granted to migrate_admin';

-- ---- end of wp11-1 ----


-- ---- wp11-2: approvals everywhere, risk gate, revert window, expect_fingerprint ----
--
-- apply(), revert(), revert_all() and deploy() take force, skip_backup
-- (and apply() and deploy() expect_fingerprint): their 1.1 CREATEs above
-- (sections 5, 6 and "chunks of a plan") have the new parameters; the
-- 1.0 symbols keep 1.0's arguments.  approve() refuses the registrant
-- where the environment requires four eyes (store_approval() above).

-- whether the environment (migrate.environment) requires four eyes, for
-- store_approval(), read where apply() reads it (exec/guard.c)
CREATE FUNCTION migrate.four_eyes_required() RETURNS boolean
AS 'MODULE_PATHNAME', 'migrate_four_eyes_required'
LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION migrate.four_eyes_required() FROM PUBLIC;
COMMENT ON FUNCTION migrate.four_eyes_required() IS
    'internal: whether the environment migrate.environment names requires approvals by a role other than the registrant (four_eyes)';

-- unapprove(): withdraw an approval, recorded in the history (the work is
-- store_unapproval()'s, for the same reason as store_approval())
CREATE FUNCTION migrate.store_unapproval(wanted text,
                                         OUT found_version text, OUT found_name text,
                                         OUT previous_approver name,
                                         OUT previous_approved_at timestamptz)
RETURNS SETOF record
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
BEGIN
    PERFORM migrate.acquire_lock();
    SELECT m.version, m.name, m.approved_by, m.approved_at
      INTO found_version, found_name, previous_approver, previous_approved_at
      FROM migrate.migration m WHERE m.version_key = migrate.version_key(wanted);
    IF found_version IS NULL THEN
        RAISE EXCEPTION 'migration "%" is not registered', wanted
            USING ERRCODE = 'undefined_object';
    END IF;
    IF previous_approved_at IS NULL THEN
        RAISE EXCEPTION 'migration "%" is not approved', found_version
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'There is no approval to withdraw (a new checksum voids an approval too).',
                  HINT = 'See migrate.status_detail (approved_at, approved_by).';
    END IF;
    UPDATE migrate.migration m SET approved_at = NULL, approved_by = NULL
     WHERE m.version_key = migrate.version_key(wanted);
    INSERT INTO migrate.event (action, version, name, outcome, role, started_at, detail)
    VALUES ('unapprove', found_version, found_name, 'success', migrate.calling_role(), pg_catalog.now(),
            pg_catalog.jsonb_build_object('approved_by', previous_approver,
                                          'approved_at', previous_approved_at));
    RETURN NEXT;
END
$body$;
REVOKE ALL ON FUNCTION migrate.store_unapproval(text) FROM PUBLIC;
COMMENT ON FUNCTION migrate.store_unapproval(text) IS
    'internal: the work of migrate.unapprove()';

CREATE FUNCTION migrate.unapprove(version text)
RETURNS TABLE (version text, name text, approved_by name, approved_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$body$
    SELECT * FROM migrate.store_unapproval($1)
$body$;
REVOKE ALL ON FUNCTION migrate.unapprove(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.unapprove(text) TO migrate_admin;
COMMENT ON FUNCTION migrate.unapprove(text) IS
    'withdraw the approval of a migration (recorded in the history); returns the approval withdrawn';

-- ---- end of wp11-2 ----


-- ---- wp11-3: DDL lock timeouts with retries ----

-- ---- end of wp11-3 ----


-- ---- wp11-4: backups before destructive changes ----

-- Backups before destructive statements (src/exec/backup.c): where the
-- environment's strategy is 'copy', the data a statement of a migration is
-- about to destroy is copied into a table of the schema migrate_backup, in
-- the same transaction, and described by a row of migrate.backup.
--
-- Privileges: backup data is as sensitive as the tables it comes from.
-- The schema, migrate.backup and every backup table belong to the
-- extension's owner, with no grant to anybody: neither PUBLIC nor
-- migrate_reader can read them.  migrate_admin sees the list
-- (migrate.backups) and may restore a backup (restore_backup() refuses
-- one made by a role whose privileges the caller lacks, and writes as the
-- caller, who needs INSERT/UPDATE and SELECT on the table restored); only
-- the owner, or a role the owner grants EXECUTE to, may purge.  The owner
-- creates each backup table; the role running the migration is lent only
-- USAGE on the schema and INSERT on that table, for the copy.
-- (a new schema grants nothing to PUBLIC: no REVOKE, no initial privileges)
CREATE SCHEMA migrate_backup;
COMMENT ON SCHEMA migrate_backup IS
    'backup tables of migrate: data copied before destructive statements (migrate.backups lists them); the extension owner''s alone';

CREATE SEQUENCE migrate.backup_id_seq;
COMMENT ON SEQUENCE migrate.backup_id_seq IS 'ids of migrate.backup rows';

CREATE TABLE migrate.backup (
    id           bigint PRIMARY KEY DEFAULT pg_catalog.nextval('migrate.backup_id_seq'),
    version      text NOT NULL,            -- the migration whose statement it precedes
    direction    text NOT NULL CHECK (direction IN ('up', 'down')),
    statement    integer NOT NULL,         -- the statement's number in that script
    kind         text NOT NULL CHECK (kind IN ('DROP TABLE', 'TRUNCATE', 'DELETE',
                                               'DROP SCHEMA CASCADE', 'DROP COLUMN',
                                               'ALTER COLUMN TYPE', 'UPDATE', 'MERGE',
                                               'DROP TYPE CASCADE', 'DROP DOMAIN CASCADE')),
    object       text NOT NULL,            -- the table, schema-qualified and quoted
    columns      text[],                   -- the columns it destroys; NULL: whole rows
    key_columns  text[],                   -- the key rows are matched by; NULL: none
    backup_table text,                     -- in schema migrate_backup; NULL when skipped
    rows         bigint,
    bytes        bigint,                   -- of the copy (skipped: of the table)
    skipped      boolean NOT NULL DEFAULT false,  -- skip_backup => true: no copy
    key_changed  boolean NOT NULL DEFAULT false,  -- the statement changed a key
                                           -- column: whole rows, restore by hand
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by   name NOT NULL,
    restored_at  timestamptz,
    restored_by  name,
    purged_at    timestamptz,
    purged_by    name,
    CHECK (skipped OR backup_table IS NOT NULL)
);
-- not OWNED BY the table: the owner block at the end of this script gives
-- both to the extension's owner, which a linked sequence would refuse
CREATE INDEX backup_version_idx ON migrate.backup (version, id);
REVOKE ALL ON migrate.backup FROM PUBLIC;
REVOKE ALL ON SEQUENCE migrate.backup_id_seq FROM PUBLIC;
COMMENT ON TABLE migrate.backup IS
    'every backup made (or skipped) before a destructive statement of a migration, and its table in migrate_backup';
SELECT pg_catalog.pg_extension_config_dump('migrate.backup', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.backup_id_seq', '');

CREATE VIEW migrate.backups AS
SELECT b.id,
       b.version AS migration,
       m.name,
       b.direction,
       b.statement,
       b.kind,
       b.object,
       b.columns,
       b.key_columns,
       b.rows,
       b.bytes,
       b.skipped,
       CASE WHEN b.backup_table IS NOT NULL
            THEN pg_catalog.quote_ident('migrate_backup') OPERATOR(pg_catalog.||) '.'
                 OPERATOR(pg_catalog.||) pg_catalog.quote_ident(b.backup_table) END AS backup_table,
       b.created_at,
       b.created_by,
       b.restored_at,
       b.restored_by,
       b.purged_at,
       b.purged_by,
       b.key_changed
FROM migrate.backup b
LEFT JOIN migrate.migration m ON m.version OPERATOR(pg_catalog.=) b.version
ORDER BY b.id;
REVOKE ALL ON migrate.backups FROM PUBLIC;
GRANT SELECT ON migrate.backups TO migrate_admin;
COMMENT ON VIEW migrate.backups IS
    'backups made before destructive statements, oldest first: migration, statement, object, rows, bytes, when, restored or purged (migrate_admin only)';

CREATE FUNCTION migrate.restore_backup(id bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'migrate_restore_backup'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION migrate.restore_backup(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.restore_backup(bigint) TO migrate_admin;
COMMENT ON FUNCTION migrate.restore_backup(bigint) IS
    'put a backup''s data back into its table as it exists now (rows inserted, or column values updated by key), as the caller; returns the rows written';

CREATE FUNCTION migrate.purge_backups(older_than interval DEFAULT NULL) RETURNS integer
AS 'MODULE_PATHNAME', 'migrate_purge_backups'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.purge_backups(interval) FROM PUBLIC;
COMMENT ON FUNCTION migrate.purge_backups(interval) IS
    'drop the backup tables older than older_than (default: the environment''s backup_retention); returns how many (owner only unless granted)';

-- the owner block below covers functions, tables and types, not schemas:
-- migrate_backup is the extension owner's whoever runs the update
DO $backup_owner$
DECLARE
    ext_owner oid := (SELECT x.extowner FROM pg_catalog.pg_extension x
                       WHERE x.extname OPERATOR(pg_catalog.=) 'migrate');
BEGIN
    -- regrole's output is already quoted
    EXECUTE pg_catalog.format('ALTER SCHEMA migrate_backup OWNER TO %s',
                              ext_owner::pg_catalog.regrole::text);
END
$backup_owner$;


-- ---- end of wp11-4 ----


/* ---------------------------------------------------------------------
 * Issue 12: lint, lock and rewrite analysis, generated down scripts,
 * derived risk.  The contract first (every function's signature, the
 * shared columns), then one section per work package.
 * --------------------------------------------------------------------- */

-- lint a script as register() would (the session's environment, the live
-- catalog); stores nothing, runs nothing
CREATE FUNCTION migrate.lint(script text)
RETURNS TABLE (rule text, severity text, statement integer, line integer,
               message text, hint text)
AS 'MODULE_PATHNAME', 'migrate_lint'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION migrate.lint(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.lint(text) TO migrate_admin;
COMMENT ON FUNCTION migrate.lint(text) IS
    'lint findings of a script (rule, severity, statement, line, message, hint), with the live catalog and the session''s environment; runs nothing';

CREATE FUNCTION migrate.lint_rule_list()
RETURNS TABLE (id text, severity text, category text, catalog boolean,
               summary text, hint text, bad_example text, safe_example text,
               blocks_apply boolean)
AS 'MODULE_PATHNAME', 'migrate_lint_rule_list'
LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION migrate.lint_rule_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.lint_rule_list() TO migrate_reader;
COMMENT ON FUNCTION migrate.lint_rule_list() IS
    'every lint rule with its documentation (the rows of migrate.lint_rules)';

CREATE VIEW migrate.lint_rules AS
SELECT r.id, r.severity, r.category, r.catalog, r.summary, r.hint,
       r.bad_example, r.safe_example, r.blocks_apply
FROM migrate.lint_rule_list() r;
REVOKE ALL ON migrate.lint_rules FROM PUBLIC;
GRANT SELECT ON migrate.lint_rules TO migrate_reader;
COMMENT ON VIEW migrate.lint_rules IS
    'every lint rule: id, severity, category, whether only the catalog decides it, what it finds, the safe pattern, a bad example and its safe rewrite, whether the environment makes it block apply';

-- per statement and relation: lock mode, effect, size; measure => true
-- runs each statement in a rolled-back subtransaction and reads pg_locks
CREATE FUNCTION migrate.analyze(script text, measure boolean DEFAULT false)
RETURNS TABLE (statement integer, line integer, command text, relation text,
               lock_mode text, effect text, relation_bytes bigint,
               relation_size text, detail text)
AS 'MODULE_PATHNAME', 'migrate_analyze'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.analyze(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.analyze(text, boolean) TO migrate_admin;
COMMENT ON FUNCTION migrate.analyze(text, boolean) IS
    'per statement: the relations it locks, in which mode, whether it rewrites, scans, builds or only changes the catalog, and their size; measure => true runs it in a rolled-back subtransaction, as the caller, and reads pg_locks';

-- generated down scripts
CREATE FUNCTION migrate.inversions(script text)
RETURNS TABLE (statement integer, line integer, command text, invertible boolean,
               down text, reason text)
AS 'MODULE_PATHNAME', 'migrate_inversions'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION migrate.inversions(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.inversions(text) TO migrate_admin;
COMMENT ON FUNCTION migrate.inversions(text) IS
    'each statement of an up script with its inverse, or the reason it has none';

CREATE FUNCTION migrate.generate_down(script text) RETURNS text
AS 'MODULE_PATHNAME', 'migrate_generate_down'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION migrate.generate_down(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.generate_down(text) TO migrate_admin;
COMMENT ON FUNCTION migrate.generate_down(text) IS
    'the down script of an up script: the inverses in reverse order; a statement without one appears as a comment with the reason';

ALTER TABLE migrate.migration ADD COLUMN down_generated boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN migrate.migration.down_generated IS
    'the down script was generated from the up script (register(..., generate_down => true))';

SELECT migrate.upgrade_replace('function',
    'migrate.register(text, text, text, text, text, text, text)',
    'migrate.register(text, text, text, text, text, text, text, boolean)',
    'adds the parameter generate_down to migrate.register(), and lints the up script',
$create$
CREATE FUNCTION migrate.register(version text, name text, up text,
                                 down text DEFAULT NULL,
                                 verify text DEFAULT NULL,
                                 precondition text DEFAULT NULL,
                                 precondition_mode text DEFAULT 'fail',
                                 generate_down boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_register_1_1'
LANGUAGE C VOLATILE
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.register(text, text, text, text, text, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.register(text, text, text, text, text, text, text, boolean) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.register(text, text, text, text, text, text, text, boolean) IS
    'register a migration: version, name, up script, optional down, verify and precondition scripts; generate_down => true generates the down script (every statement must be invertible); the up script is linted and the findings stored';

SELECT migrate.upgrade_replace('function', 'migrate.plan(text)', 'migrate.plan(text)',
    'adds the columns derived_risk, risk_reasons, findings and locks to the result of migrate.plan()',
$create$
CREATE FUNCTION migrate.plan(target text DEFAULT NULL)
RETURNS TABLE (ordinal integer, version text, name text, action text, reason text,
               statements integer, risk_level text, estimated_duration interval,
               zero_downtime boolean, transactional boolean, runs_in text,
               approved boolean, checks text[], skip boolean, skip_reason text,
               precondition_checked_as name,
               derived_risk text, risk_reasons text[], findings text[], locks text[])
AS 'MODULE_PATHNAME', 'migrate_plan_1_1'
LANGUAGE C VOLATILE
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.plan(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.plan(text) TO migrate_admin;
$grant$);
COMMENT ON FUNCTION migrate.plan(text) IS
    'what apply(target) would do, in order, without doing it: actions, reasons, checks, and the lint findings, locks and derived risk of each migration';

-- ---- wp12-1: lock and rewrite rules ----
-- ---- end of wp12-1 ----

-- ---- wp12-2: type, naming and safety rules ----
-- ---- end of wp12-2 ----

-- ---- wp12-3: analyze(), derived risk, plan() ----
-- ---- end of wp12-3 ----

-- ---- wp12-4: generated down scripts ----
-- inversions(), generate_down(), migration.down_generated and
-- register(..., generate_down) are created by the contract above; a
-- statement may also need no inverse (it changes only what the script
-- creates), and inversions() says so
COMMENT ON FUNCTION migrate.inversions(text) IS
    'each statement of an up script with its inverse, the reason it has none, or why it needs none ("nothing to undo: ...")';
-- ---- end of wp12-4 ----

-- ---- wp12-5: findings at registration, status, blocking rules ----

-- The lint findings of each migration's up script, as register() linted
-- it (store/lintstore.c replaces a migration's rows each time it stores
-- new content).  Only the owner writes it; readers see it through
-- migrate.lint_findings.  Findings name rules, statements, lines and
-- objects, never the text of a statement.
CREATE TABLE migrate.lint_finding (
    version   text NOT NULL REFERENCES migrate.migration (version) ON DELETE CASCADE,
    ordinal   integer NOT NULL CHECK (ordinal OPERATOR(pg_catalog.>) 0),
    rule      text NOT NULL,
    severity  text NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    statement integer NOT NULL CHECK (statement OPERATOR(pg_catalog.>=) 0),
    line      integer NOT NULL CHECK (line OPERATOR(pg_catalog.>) 0),
    message   text NOT NULL,
    hint      text,
    PRIMARY KEY (version, ordinal)
);
COMMENT ON TABLE migrate.lint_finding IS
    'lint findings of each registered migration''s up script, stored by register(); read them in migrate.lint_findings';
COMMENT ON COLUMN migrate.lint_finding.ordinal IS
    'order of the findings of a migration: statement order, migration-wide ones (statement 0) first';
COMMENT ON COLUMN migrate.lint_finding.statement IS
    'the statement of the up script (1-based); 0: the migration as a whole';
SELECT pg_catalog.pg_extension_config_dump('migrate.lint_finding', '');
REVOKE ALL ON migrate.lint_finding FROM PUBLIC;

-- the risk derived from the findings and the locks and rewrites of the
-- statements (model/risk.c), beside the declared @risk-level
ALTER TABLE migrate.migration
    ADD COLUMN derived_risk text CHECK (derived_risk IN ('low', 'medium', 'high')),
    ADD COLUMN risk_reasons text[];
COMMENT ON COLUMN migrate.migration.derived_risk IS
    'risk derived at registration from the lint findings and the lock and rewrite facts: low, medium or high; NULL for a migration registered before 1.1';
COMMENT ON COLUMN migrate.migration.risk_reasons IS
    'why derived_risk is what it is, one short sentence per fact that raised it';

-- the findings, in version order; blocks: the session's environment lists
-- the rule in lint_blocking, so apply() refuses the migration unless forced
CREATE VIEW migrate.lint_findings AS
SELECT f.version,
       m.name,
       f.ordinal,
       f.rule,
       f.severity,
       f.statement,
       f.line,
       f.message,
       f.hint,
       f.rule OPERATOR(pg_catalog.=) ANY (e.lint_blocking) AS blocks
FROM migrate.lint_finding f
JOIN migrate.migration m ON m.version OPERATOR(pg_catalog.=) f.version
CROSS JOIN migrate.effective_settings e
ORDER BY m.version_key, f.ordinal;
REVOKE ALL ON migrate.lint_findings FROM PUBLIC;
GRANT SELECT ON migrate.lint_findings TO migrate_reader;
COMMENT ON VIEW migrate.lint_findings IS
    'the lint findings register() stored for each migration (rule, severity, statement, line, message, hint), and whether the session''s environment blocks them; no script text';

-- 1. the narrow status: what a DBA reads first (WP-S, issue 9; findings:
-- issue 12)
SELECT migrate.upgrade_replace('view', 'migrate.status', 'migrate.status',
    'keeps only the columns a DBA reads first in migrate.status (the others are in migrate.status_detail)',
$create$
CREATE VIEW migrate.status AS
SELECT m.version,
       m.name,
       m.state,
       pg_catalog.date_trunc('second', m.applied_at) AS applied_at,
       m.applied_by,
       -- 1.0's NOT checksum_ok: the up or down script was edited since
       CASE WHEN m.applied_checksum IS NULL THEN NULL
            ELSE NOT (m.applied_checksum OPERATOR(pg_catalog.=) m.checksum
                      AND m.applied_down_checksum IS NOT DISTINCT FROM m.down_checksum)
       END AS changed,
       -- the message only: it never holds script text, readers see it too
       m.last_error OPERATOR(pg_catalog.->>) 'message' AS error,
       -- the lint findings counted by severity, as migrate_lint_summary()
       -- writes them: "1 error, 2 warnings"; NULL when there are none
       (SELECT NULLIF(pg_catalog.concat_ws(', ',
                   CASE WHEN c.errors OPERATOR(pg_catalog.>) 0 THEN
                       pg_catalog.format('%s error%s', c.errors,
                                         CASE WHEN c.errors OPERATOR(pg_catalog.>) 1 THEN 's' ELSE '' END)
                   END,
                   CASE WHEN c.warnings OPERATOR(pg_catalog.>) 0 THEN
                       pg_catalog.format('%s warning%s', c.warnings,
                                         CASE WHEN c.warnings OPERATOR(pg_catalog.>) 1 THEN 's' ELSE '' END)
                   END,
                   CASE WHEN c.infos OPERATOR(pg_catalog.>) 0 THEN
                       pg_catalog.format('%s info%s', c.infos,
                                         CASE WHEN c.infos OPERATOR(pg_catalog.>) 1 THEN 's' ELSE '' END)
                   END), '')
        FROM (SELECT pg_catalog.count(*) FILTER (WHERE f.severity OPERATOR(pg_catalog.=) 'error') AS errors,
                     pg_catalog.count(*) FILTER (WHERE f.severity OPERATOR(pg_catalog.=) 'warning') AS warnings,
                     pg_catalog.count(*) FILTER (WHERE f.severity OPERATOR(pg_catalog.=) 'info') AS infos
              FROM migrate.lint_finding f
              WHERE f.version OPERATOR(pg_catalog.=) m.version) c) AS findings
FROM migrate.migration m
ORDER BY m.version_key
$create$,
$grant$
REVOKE ALL ON migrate.status FROM PUBLIC;
GRANT SELECT ON migrate.status TO migrate_reader;
$grant$);
COMMENT ON VIEW migrate.status IS
    'every registered migration, in version order: state, when and by whom applied, whether its script changed since, last error message, lint findings (more in migrate.status_detail and migrate.lint_findings)';

-- 2. the wide view: every column of 1.0's status, and more; no script text
CREATE VIEW migrate.status_detail AS
SELECT m.version,
       m.name,
       m.state,
       m.checksum,
       CASE WHEN m.applied_checksum IS NULL THEN NULL
            ELSE m.applied_checksum OPERATOR(pg_catalog.=) m.checksum
                 AND m.applied_down_checksum IS NOT DISTINCT FROM m.down_checksum
       END AS checksum_ok,
       m.applied_at,
       m.applied_by,
       pg_catalog.date_trunc('milliseconds', m.duration OPERATOR(pg_catalog.+) interval '0.5 ms') AS duration,
       m.dependencies,
       m.description,
       m.author,
       m.created,
       m.risk_level,
       m.derived_risk,
       m.risk_reasons,
       m.zero_downtime,
       m.estimated_duration,
       m.environments,
       m.transactional,
       m.statements,
       m.down_script IS NOT NULL AS revertible,
       m.down_generated,
       m.registered_at,
       -- the view runs as its owner, but current_user is the reader
       CASE WHEN pg_catalog.pg_has_role('migrate_admin', 'USAGE') THEN m.last_error
            ELSE migrate.error_for_reader(m.last_error)
       END AS last_error,
       m.registered_by,
       m.approved_at,
       m.approved_by,
       m.dirty_statement,
       m.resume_statement,
       m.precondition_mode,
       m.precondition_script IS NOT NULL AS has_precondition,
       m.verify_script IS NOT NULL AS has_verify
FROM migrate.migration m
ORDER BY m.version_key;
REVOKE ALL ON migrate.status_detail FROM PUBLIC;
GRANT SELECT ON migrate.status_detail TO migrate_reader;
COMMENT ON VIEW migrate.status_detail IS
    'every registered migration with all it records but script text: checksums, header fields, declared and derived risk, dependencies, approval, resume points, last error';

-- ---- end of wp12-5 ----

-- ---- wp12-6: client, corpus, benchmark ----
-- ---- end of wp12-6 ----

/* ---------------------------------------------------------------------
 * Issue 13: drift capture and adoption.  One section per work package
 * (wp13-1 drift capture, wp13-2 baseline and imported histories).
 * --------------------------------------------------------------------- */

-- ---- wp13-1: drift capture ----

/*
 * Drift capture (issue 13, items 1-3).  Two event triggers, on
 * ddl_command_end and sql_drop, record every DDL command that runs
 * outside migrate into migrate.drift_log (C: src/store/driftlog.c).
 * "Outside migrate" is a backend-local flag the executor sets while it
 * runs migration scripts (apply(), revert(), dry runs, rehearse(), the
 * apply worker: src/ipc/migrating.c), never a guess from the statement.
 * The trigger never makes DDL fail: its own errors become WARNINGs.  It
 * writes as the extension owner (the DDL's role cannot write the log),
 * with search_path pinned, and runs no function the DDL's role controls.
 * Setting migrate.capture_drift (superuser) turns it off.
 *
 * After every apply() and revert() (and acknowledge_drift(), baseline())
 * the schema is recorded in migrate.schema_state (fingerprint and the hash
 * of every object of schema_objects()); migrate.drift compares the schema
 * now with the last record, object by object, and names the log rows that
 * explain each difference.  Until the first record there is nothing to
 * drift from, and nothing is logged: that also keeps a pg_restore's own
 * DDL out of the restored log (its tables are created before the rows of
 * schema_state are restored).
 * --------------------------------------------------------------------- */

ALTER TABLE migrate.event DROP CONSTRAINT event_action_check;
ALTER TABLE migrate.event ADD CONSTRAINT event_action_check
    CHECK (action IN ('register', 'apply', 'revert', 'repair', 'resolve',
                      'approve', 'run', 'pause', 'resume', 'dry run', 'tag', 'untag',
                      'configure', 'unapprove', 'restore', 'purge', 'acknowledge drift'));

COMMENT ON COLUMN migrate.environment_setting.drift_blocks_apply IS
    'unacknowledged schema drift blocks apply(), deploy() and scheduled runs (MG019) until acknowledge_drift(); force does not override it';

CREATE SEQUENCE migrate.drift_log_id_seq;
CREATE TABLE migrate.drift_log (
    id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('migrate.drift_log_id_seq'),
    captured_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    role            name NOT NULL,
    session_role    name NOT NULL,
    pid             integer NOT NULL,
    transaction_id  xid8,
    command_tag     text NOT NULL,
    object_type     text,
    object_identity text,
    schema_name     text,
    event           text NOT NULL CHECK (event IN ('ddl_command_end', 'sql_drop')),
    statement       text,   -- the text of this statement only, not the query string
    statement_note  text,   -- why statement is NULL
    accounted_by    bigint  -- the schema_state record that took this row into account
);
-- the rows no record has accounted for yet: what migrate.drift and
-- drift_script() read
CREATE INDEX drift_log_unaccounted ON migrate.drift_log (id) WHERE accounted_by IS NULL;
-- not OWNED BY the table: the owner block at the end of this script gives
-- every member to the extension owner, and a linked sequence cannot be
-- given on its own
COMMENT ON SEQUENCE migrate.drift_log_id_seq IS 'ids of migrate.drift_log rows';
SELECT pg_catalog.pg_extension_config_dump('migrate.drift_log', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.drift_log_id_seq', '');
REVOKE ALL ON TABLE migrate.drift_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE migrate.drift_log_id_seq FROM PUBLIC;
-- the statement text may hold secrets (a literal in a DEFAULT or a
-- function body): migrate_admin reads it, migrate_reader every other
-- column.  The trigger stores only the text of the statement that ran the
-- command, never the rest of its query string (which may set a password
-- with ALTER ROLE, or change data), and never the text of CREATE/ALTER
-- USER MAPPING, SERVER, SUBSCRIPTION or ROLE, whose options may hold a
-- password (statement_note says so)
GRANT SELECT (id, captured_at, role, session_role, pid, transaction_id, command_tag,
              object_type, object_identity, schema_name, event, statement_note, accounted_by)
    ON TABLE migrate.drift_log TO migrate_reader;
GRANT SELECT ON TABLE migrate.drift_log TO migrate_admin;
COMMENT ON TABLE migrate.drift_log IS
    'every DDL command run outside migrate (event triggers migrate_drift_ddl and migrate_drift_drop): who, when, what, and the statement (migrate_admin only)';

CREATE SEQUENCE migrate.schema_state_id_seq;
CREATE TABLE migrate.schema_state (
    id          bigint PRIMARY KEY DEFAULT pg_catalog.nextval('migrate.schema_state_id_seq'),
    fingerprint text NOT NULL,
    objects     jsonb NOT NULL,     -- {kind: {identity: hash}} of schema_objects()
    recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    recorded_by name NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('apply', 'revert', 'acknowledge', 'baseline')),
    last_log_id bigint              -- the highest drift_log id this record accounted for (information only)
);
COMMENT ON SEQUENCE migrate.schema_state_id_seq IS 'ids of migrate.schema_state rows';
SELECT pg_catalog.pg_extension_config_dump('migrate.schema_state', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.schema_state_id_seq', '');
REVOKE ALL ON TABLE migrate.schema_state FROM PUBLIC;
REVOKE ALL ON SEQUENCE migrate.schema_state_id_seq FROM PUBLIC;
GRANT SELECT (id, fingerprint, recorded_at, recorded_by, reason, last_log_id)
    ON TABLE migrate.schema_state TO migrate_reader;
GRANT SELECT ON TABLE migrate.schema_state TO migrate_admin;
COMMENT ON TABLE migrate.schema_state IS
    'the schema as migrate left it: recorded after each apply() and revert(), at acknowledge_drift() and baseline(); the last ten are kept';

-- The schema now: its fingerprint (as fingerprint() computes it) and its
-- objects, {kind: {identity: hash}}, from one scan of schema_objects()
CREATE FUNCTION migrate.schema_state_now(OUT fingerprint text, OUT objects jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS
$$
    WITH o AS MATERIALIZED (
        SELECT so.kind, so.identity, so.hash FROM migrate.schema_objects() so
    ), by_kind AS (
        SELECT o.kind, pg_catalog.jsonb_object_agg(o.identity, o.hash) AS objects
          FROM o GROUP BY o.kind
    )
    SELECT (SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(coalesce(pg_catalog.string_agg(o.hash, ''
                        ORDER BY o.kind COLLATE pg_catalog."C", o.identity COLLATE pg_catalog."C"), ''), 'UTF8')), 'hex')
              FROM o),
           coalesce((SELECT pg_catalog.jsonb_object_agg(k.kind, k.objects) FROM by_kind k), '{}')
$$;
REVOKE ALL ON FUNCTION migrate.schema_state_now() FROM PUBLIC;
COMMENT ON FUNCTION migrate.schema_state_now() IS
    'internal: the fingerprint and the objects of the schema now, from one scan of schema_objects()';

-- Before a run: the objects of the schema, when it has drifted from the
-- last record (the fingerprint differs), so that the record after the run
-- keeps that drift; NULL otherwise.  Always one scan of schema_objects():
-- "nothing logged since the record" is no proof of "no drift" (DDL run
-- with the capture off, or whose row the capture could not write).
CREATE FUNCTION migrate.schema_state_before() RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    last_fingerprint text;
    now_state record;
BEGIN
    SELECT s.fingerprint INTO last_fingerprint
      FROM migrate.schema_state s ORDER BY s.id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    now_state := migrate.schema_state_now();
    IF now_state.fingerprint OPERATOR(pg_catalog.=) last_fingerprint THEN
        RETURN NULL;
    END IF;
    RETURN now_state.objects;
END
$$;
REVOKE ALL ON FUNCTION migrate.schema_state_before() FROM PUBLIC;
COMMENT ON FUNCTION migrate.schema_state_before() IS
    'internal: before a run, the objects of a schema that drifted from the last record (else NULL)';

-- Record the schema.  Without "before": the schema now.  With it (the
-- schema before a run, which had drifted): the last record changed by
-- what the run changed (now against before), so that the drift stays what
-- it was instead of being taken into the record.  Internal: called by the
-- executor as the extension owner, by acknowledge_drift() and baseline().
CREATE FUNCTION migrate.record_schema_state(reason text, before jsonb DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    now_state record;
    last_objects jsonb;
    fp text;
    objs jsonb;
    newest bigint;
    keeps_drift boolean;
    accounted bigint;
BEGIN
    SELECT s.objects INTO last_objects FROM migrate.schema_state s ORDER BY s.id DESC LIMIT 1;
    keeps_drift := before IS NOT NULL AND last_objects IS NOT NULL;
    newest := pg_catalog.nextval('migrate.schema_state_id_seq');
    -- The log rows this record accounts for: those visible now, marked
    -- BEFORE the scan of the schema, so that every marked row's DDL is in
    -- the scan (a row and its DDL commit together).  DDL that commits
    -- later stays unaccounted, whatever its id (ids are taken at insert,
    -- not at commit).  A record that keeps drift accounts for nothing:
    -- the rows go on explaining the drift.
    IF NOT keeps_drift THEN
        UPDATE migrate.drift_log l SET accounted_by = newest WHERE l.accounted_by IS NULL;
        SELECT pg_catalog.max(l.id) INTO accounted FROM migrate.drift_log l
         WHERE l.accounted_by OPERATOR(pg_catalog.=) newest;
    END IF;
    now_state := migrate.schema_state_now();
    fp := now_state.fingerprint;
    objs := now_state.objects;
    IF keeps_drift THEN
        WITH cur AS (
            SELECT k.key AS kind, i.key AS identity, i.value AS hash
              FROM pg_catalog.jsonb_each(now_state.objects) k, pg_catalog.jsonb_each_text(k.value) i
        ), bef AS (
            SELECT k.key AS kind, i.key AS identity, i.value AS hash
              FROM pg_catalog.jsonb_each(record_schema_state.before) k, pg_catalog.jsonb_each_text(k.value) i
        ), lst AS (
            SELECT k.key AS kind, i.key AS identity, i.value AS hash
              FROM pg_catalog.jsonb_each(last_objects) k, pg_catalog.jsonb_each_text(k.value) i
        ), delta AS (       -- what the run changed; hash NULL: it removed it
            SELECT coalesce(c.kind, b.kind) AS kind, coalesce(c.identity, b.identity) AS identity, c.hash
              FROM cur c FULL JOIN bef b
                ON b.kind OPERATOR(pg_catalog.=) c.kind AND b.identity OPERATOR(pg_catalog.=) c.identity
             WHERE c.hash IS DISTINCT FROM b.hash
        ), expected AS (
            SELECT l.kind, l.identity, l.hash FROM lst l
             WHERE NOT EXISTS (SELECT FROM delta d WHERE d.kind OPERATOR(pg_catalog.=) l.kind
                                                     AND d.identity OPERATOR(pg_catalog.=) l.identity)
            UNION ALL
            SELECT d.kind, d.identity, d.hash FROM delta d WHERE d.hash IS NOT NULL
        ), by_kind AS (
            SELECT e.kind, pg_catalog.jsonb_object_agg(e.identity, e.hash) AS objects
              FROM expected e GROUP BY e.kind
        )
        SELECT (SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(coalesce(pg_catalog.string_agg(e.hash, ''
                            ORDER BY e.kind COLLATE pg_catalog."C", e.identity COLLATE pg_catalog."C"), ''), 'UTF8')), 'hex')
                  FROM expected e),
               coalesce((SELECT pg_catalog.jsonb_object_agg(k.kind, k.objects) FROM by_kind k), '{}')
          INTO fp, objs;
    END IF;
    INSERT INTO migrate.schema_state (id, fingerprint, objects, recorded_by, reason, last_log_id)
    VALUES (newest, fp, objs, migrate.calling_role(), record_schema_state.reason,
            CASE WHEN keeps_drift
                 THEN (SELECT s.last_log_id FROM migrate.schema_state s ORDER BY s.id DESC LIMIT 1)
                 ELSE accounted END);
    DELETE FROM migrate.schema_state s WHERE s.id OPERATOR(pg_catalog.<=) (newest OPERATOR(pg_catalog.-) 10);
    RETURN fp;
END
$$;
REVOKE ALL ON FUNCTION migrate.record_schema_state(text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION migrate.record_schema_state(text, jsonb) IS
    'internal: record the schema in migrate.schema_state (after apply and revert, at acknowledge_drift() and baseline()); with before, keep the drift that existed before a run';

CREATE FUNCTION migrate.drift_capture_ddl() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'migrate_drift_capture_ddl'
LANGUAGE C;
CREATE FUNCTION migrate.drift_capture_drop() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'migrate_drift_capture_drop'
LANGUAGE C;
REVOKE ALL ON FUNCTION migrate.drift_capture_ddl() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.drift_capture_drop() FROM PUBLIC;
COMMENT ON FUNCTION migrate.drift_capture_ddl() IS
    'internal: event trigger function (ddl_command_end) that records DDL run outside migrate in migrate.drift_log';
COMMENT ON FUNCTION migrate.drift_capture_drop() IS
    'internal: event trigger function (sql_drop) that records objects dropped outside migrate in migrate.drift_log';
CREATE EVENT TRIGGER migrate_drift_ddl ON ddl_command_end
    EXECUTE FUNCTION migrate.drift_capture_ddl();
CREATE EVENT TRIGGER migrate_drift_drop ON sql_drop
    EXECUTE FUNCTION migrate.drift_capture_drop();
COMMENT ON EVENT TRIGGER migrate_drift_ddl IS
    'records DDL run outside migrate in migrate.drift_log (setting migrate.capture_drift)';
COMMENT ON EVENT TRIGGER migrate_drift_drop IS
    'records objects dropped outside migrate in migrate.drift_log (setting migrate.capture_drift)';

-- what differs from the last recorded schema, and the log rows since then
-- that name the object, one it belongs to (a column's table) or one that
-- belongs to it (a column of a table; not every object of a schema), or
-- for a comment the object commented on
CREATE VIEW migrate.drift AS
WITH snap AS (
    SELECT s.id, s.objects, s.recorded_at, s.last_log_id
      FROM migrate.schema_state s ORDER BY s.id DESC LIMIT 1
), was AS (
    SELECT k.key AS kind, i.key AS identity, i.value AS hash
      FROM snap, pg_catalog.jsonb_each(snap.objects) k, pg_catalog.jsonb_each_text(k.value) i
), cur AS (
    SELECT o.kind, o.identity, o.hash FROM migrate.schema_objects() o
     WHERE EXISTS (SELECT FROM snap)
), diff AS (
    SELECT CASE WHEN w.hash IS NULL THEN 'added' WHEN c.hash IS NULL THEN 'removed' ELSE 'changed' END AS change,
           coalesce(c.kind, w.kind) AS kind, coalesce(c.identity, w.identity) AS identity
      FROM cur c FULL JOIN was w ON w.kind OPERATOR(pg_catalog.=) c.kind AND w.identity OPERATOR(pg_catalog.=) c.identity
     WHERE c.hash IS DISTINCT FROM w.hash
)
SELECT d.change, d.kind, d.identity, snap.recorded_at AS since,
       l.log_ids, l.commands, l.roles, l.last_captured_at
  FROM diff d CROSS JOIN snap
  LEFT JOIN LATERAL (
      SELECT pg_catalog.array_agg(g.id ORDER BY g.id) AS log_ids,
             pg_catalog.array_agg(DISTINCT g.command_tag) AS commands,
             pg_catalog.array_agg(DISTINCT g.role) AS roles,
             pg_catalog.max(g.captured_at) AS last_captured_at
        FROM migrate.drift_log g
       WHERE g.accounted_by IS NULL
         AND (g.object_identity OPERATOR(pg_catalog.=) d.identity
              OR pg_catalog.starts_with(d.identity, g.object_identity OPERATOR(pg_catalog.||) '.')
              OR (d.kind OPERATOR(pg_catalog.<>) 'schema'
                  AND pg_catalog.starts_with(g.object_identity, d.identity OPERATOR(pg_catalog.||) '.'))
              OR (d.kind OPERATOR(pg_catalog.=) 'comment'
                  AND d.identity OPERATOR(pg_catalog.=) (g.object_type OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) g.object_identity)))
  ) l ON true
 ORDER BY d.kind, d.identity;
REVOKE ALL ON TABLE migrate.drift FROM PUBLIC;
GRANT SELECT ON TABLE migrate.drift TO migrate_reader;
COMMENT ON VIEW migrate.drift IS
    'objects added, removed or changed since the schema was last recorded (apply, revert, acknowledge_drift), with the drift_log rows that explain them';

-- the captured statements since the last record, in order, once each
-- (the rows of one statement are consecutive rows of its backend with the
-- same text: one island each; the same text again later is emitted again),
-- as the up script of a migration.  Each statement is followed by a line
-- of its own holding the ";", so that a statement ending in a "--"
-- comment still ends.  Rows without a text (DDL run by a function, a
-- command whose text may hold a password) become a comment naming them:
-- the script is then not the whole change, and says so.
CREATE FUNCTION migrate.drift_script() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
    WITH snap AS (
        SELECT s.last_log_id, s.recorded_at FROM migrate.schema_state s ORDER BY s.id DESC LIMIT 1
    ), rows AS (
        SELECT g.id, g.pid, g.captured_at, g.role, g.command_tag, g.object_identity, g.statement,
               coalesce(g.statement_note, 'text not recorded') AS note,
               CASE WHEN pg_catalog.lag(g.id) OVER w IS NOT NULL
                     AND pg_catalog.lag(g.statement) OVER w IS NOT DISTINCT FROM g.statement
                     AND pg_catalog.lag(g.statement_note) OVER w IS NOT DISTINCT FROM g.statement_note
                    THEN 0 ELSE 1 END AS starts
          FROM migrate.drift_log g
         WHERE g.accounted_by IS NULL
        WINDOW w AS (PARTITION BY g.pid ORDER BY g.id)
    ), islands AS (
        SELECT r.*, pg_catalog.sum(r.starts) OVER (PARTITION BY r.pid ORDER BY r.id) AS island
          FROM rows r
    ), st AS (
        SELECT pg_catalog.min(i.id) AS first_id, pg_catalog.min(i.captured_at) AS captured_at,
               pg_catalog.min(i.role::text) AS role,
               pg_catalog.string_agg(DISTINCT i.command_tag, ', ') AS commands,
               pg_catalog.string_agg(DISTINCT i.object_identity, ', ') AS objects,
               pg_catalog.min(i.statement) AS statement, pg_catalog.min(i.note) AS note
          FROM islands i
         GROUP BY i.pid, i.island
    )
    SELECT pg_catalog.format(E'-- drift captured since %s (migrate.drift_script())\n',
                             coalesce((SELECT pg_catalog.to_char(snap.recorded_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM snap),
                                      'the installation'))
           OPERATOR(pg_catalog.||)
           pg_catalog.string_agg(CASE WHEN st.statement IS NOT NULL
                                      THEN pg_catalog.format(E'\n-- %s by %s: %s\n%s\n;\n',
                                                             pg_catalog.to_char(st.captured_at, 'YYYY-MM-DD HH24:MI:SS TZ'),
                                                             st.role, st.commands,
                                                             pg_catalog.rtrim(st.statement, E' \t\r\n'))
                                      ELSE pg_catalog.format(E'\n-- %s by %s: %s %s\n-- (%s)\n',
                                                             pg_catalog.to_char(st.captured_at, 'YYYY-MM-DD HH24:MI:SS TZ'),
                                                             st.role, st.commands, coalesce(st.objects, ''), st.note)
                                 END,
                                 '' ORDER BY st.first_id)
      FROM st
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
$$;
REVOKE ALL ON FUNCTION migrate.drift_script() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.drift_script() TO migrate_admin;
COMMENT ON FUNCTION migrate.drift_script() IS
    'the DDL captured since the schema was last recorded, in order, as a migration script to register';

CREATE FUNCTION migrate.acknowledge_drift(comment text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    before   record;
    counts   record;
    fp       text;
    log_range jsonb;
BEGIN
    PERFORM migrate.acquire_lock();
    SELECT s.fingerprint, s.last_log_id, s.recorded_at INTO before
      FROM migrate.schema_state s ORDER BY s.id DESC LIMIT 1;
    SELECT pg_catalog.count(*) FILTER (WHERE d.change OPERATOR(pg_catalog.=) 'added') AS added,
           pg_catalog.count(*) FILTER (WHERE d.change OPERATOR(pg_catalog.=) 'removed') AS removed,
           pg_catalog.count(*) FILTER (WHERE d.change OPERATOR(pg_catalog.=) 'changed') AS changed
      INTO counts FROM migrate.drift d;
    fp := migrate.record_schema_state('acknowledge');
    SELECT pg_catalog.jsonb_build_array(pg_catalog.min(l.id), pg_catalog.max(l.id)) INTO log_range
      FROM migrate.drift_log l
     WHERE l.accounted_by OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(s.id) FROM migrate.schema_state s);
    INSERT INTO migrate.event (action, outcome, role, started_at, detail)
    VALUES ('acknowledge drift', 'success', migrate.calling_role(), pg_catalog.now(),
            pg_catalog.jsonb_build_object('comment', acknowledge_drift.comment,
                'fingerprint_before', before.fingerprint, 'fingerprint', fp,
                'added', counts.added, 'removed', counts.removed, 'changed', counts.changed,
                'log_ids', log_range));
    RETURN pg_catalog.format('acknowledged: %s added, %s removed, %s changed', counts.added, counts.removed, counts.changed);
END
$$;
REVOKE ALL ON FUNCTION migrate.acknowledge_drift(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.acknowledge_drift(text) TO migrate_admin;
COMMENT ON FUNCTION migrate.acknowledge_drift(text) IS
    'accept the schema as it is now: record it (history action "acknowledge drift", with the comment), so migrate.drift is empty and drift_blocks_apply lets apply run';

-- health() gains the column drift: the schema differs from the last one
-- recorded (NULL before the first record)
SELECT migrate.upgrade_replace('function', 'migrate.health()', 'migrate.health()',
    'adds the column drift to the result of migrate.health()',
$create$
CREATE FUNCTION migrate.health(
    OUT pending integer, OUT failed integer, OUT dirty integer,
    OUT last_apply_at timestamptz, OUT last_apply_outcome text,
    OUT lock_held boolean, OUT lock_holder_pid integer,
    OUT scheduler text, OUT scheduler_pid integer, OUT awaiting_approval integer,
    OUT drift boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$

DECLARE
    info record;
    is_paused boolean;
    recorded text;
BEGIN
    SELECT pg_catalog.count(*) FILTER (WHERE m.state IN ('pending', 'reverted')),
           pg_catalog.count(*) FILTER (WHERE m.state = 'failed'),
           pg_catalog.count(*) FILTER (WHERE m.state = 'dirty')
      INTO pending, failed, dirty
      FROM migrate.migration m;
    SELECT e.started_at, e.outcome INTO last_apply_at, last_apply_outcome
      FROM migrate.event e WHERE e.action = 'apply' ORDER BY e.id DESC LIMIT 1;
    -- the migrate lock is an object lock on this extension, objsubid 1
    -- (src/lock.c); a prepared transaction holds it with no pid
    SELECT true, l.pid INTO lock_held, lock_holder_pid
      FROM pg_locks l
     WHERE l.locktype = 'object' AND l.granted
       AND l.database = (SELECT oid FROM pg_database WHERE datname = pg_catalog.current_database())
       AND l.classid = 'pg_catalog.pg_extension'::regclass
       AND l.objid = (SELECT x.oid FROM pg_extension x WHERE x.extname = 'migrate')
       AND l.objsubid = 1
     ORDER BY l.pid NULLS LAST LIMIT 1;
    lock_held := coalesce(lock_held, false);
    info := migrate.scheduler_info();
    SELECT coalesce(pg_catalog.bool_or(st.paused), false) INTO is_paused FROM migrate.scheduler_state st;
    scheduler_pid := info.scheduler_pid;
    scheduler := CASE
        WHEN NOT info.preloaded THEN 'off (migrate is not in shared_preload_libraries)'
        WHEN is_paused THEN 'paused'
        WHEN info.scheduler_pid IS NOT NULL THEN 'running'
        WHEN NOT EXISTS (SELECT FROM migrate.schedule s WHERE s.enabled)
            THEN 'idle (no enabled schedule)'
        WHEN info.launcher_pid IS NOT NULL THEN 'starting'
        ELSE 'not running' END;
    -- pending migrations a schedule would apply once they are approved
    SELECT pg_catalog.count(*) INTO awaiting_approval FROM migrate.migration m
     WHERE m.state IN ('pending', 'reverted') AND m.approved_at IS NULL
       AND EXISTS (SELECT FROM migrate.schedule s WHERE s.enabled AND s.require_approval);
    -- drift: the schema is not the one recorded last (one fingerprint)
    SELECT s.fingerprint INTO recorded FROM migrate.schema_state s ORDER BY s.id DESC LIMIT 1;
    drift := CASE WHEN recorded IS NULL THEN NULL ELSE recorded <> migrate.fingerprint() END;
END
$$
$create$,
$grant$
REVOKE ALL ON FUNCTION migrate.health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.health() TO migrate_reader;
$grant$);
COMMENT ON FUNCTION migrate.health() IS
    'one row for monitoring: pending, failed and dirty migrations, last apply, lock holder, scheduler state, and whether the schema drifted from the one migrate recorded';

-- ---- end of wp13-1 ----

-- ---- wp13-2: baseline, import_history ----

/*
 * Adoption: a database that was built before migrate (by hand, or by
 * another tool) is adopted without running its old migrations again.
 *  - migrate.baseline(version, description) marks the registered
 *    migrations up to and including version applied without running them
 *    (history action "baseline"), records the baseline in
 *    migrate.baseline_record with the schema's fingerprint, and
 *    registration later marks a version the baseline covers applied too;
 *  - migrate.import_history(tool) reads another tool's history table AS
 *    THE CALLER (SECURITY INVOKER: a role that may not read it gets
 *    42501), keeps each applied migration in migrate.imported_history and
 *    marks the registered ones applied (history action "import");
 *    registration adopts the others when their files are registered, and
 *    the view migrate.imported_unregistered lists them until then.
 * The library (store/adopt.c, store/import.c) checks that the tables
 * exist, so that it also works on a 1.0 catalog.
 */

-- history: baselines and imported migrations (every action 1.1 has so far)
ALTER TABLE migrate.event DROP CONSTRAINT event_action_check;
ALTER TABLE migrate.event ADD CONSTRAINT event_action_check
    CHECK (action IN ('register', 'apply', 'revert', 'repair', 'resolve',
                      'approve', 'run', 'pause', 'resume', 'dry run', 'tag', 'untag',
                      'configure', 'unapprove', 'restore', 'purge', 'acknowledge drift',
                      'baseline', 'import'));

CREATE TABLE migrate.baseline_record (
    version     text NOT NULL,
    version_key bytea PRIMARY KEY,
    description text,
    fingerprint text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL
);
COMMENT ON TABLE migrate.baseline_record IS
    'baselines set by migrate.baseline() (the last call for a version wins): registered migrations up to the highest one are applied without running, also those registered later';
SELECT pg_catalog.pg_extension_config_dump('migrate.baseline_record', '');

CREATE TABLE migrate.imported_history (
    tool        text NOT NULL CHECK (tool IN ('flyway', 'liquibase', 'golang-migrate',
                                              'dbmate', 'sqitch', 'diesel')),
    version     text NOT NULL,
    version_key bytea,
    matches     text NOT NULL CHECK (matches IN ('version', 'version without dashes',
                                                 'name', 'up to version')),
    description text,
    applied_at  timestamptz,
    applied_by  text,
    checksum    text,
    detail      jsonb,
    imported_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    imported_by name NOT NULL,
    PRIMARY KEY (tool, version)
);
COMMENT ON TABLE migrate.imported_history IS
    'migrations another tool applied, as migrate.import_history() read them from its history table';
COMMENT ON COLUMN migrate.imported_history.version IS
    'the tool''s identifier: Flyway''s version (a repeatable: its script without .sql), Liquibase''s changeset id, golang-migrate''s, dbmate''s and Diesel''s version, Sqitch''s change name';
COMMENT ON COLUMN migrate.imported_history.matches IS
    'which registered migrations the row stands for: the same version, the same version once dashes are removed (Diesel), the same name (Sqitch), or every version up to it (golang-migrate, a Flyway baseline)';
SELECT pg_catalog.pg_extension_config_dump('migrate.imported_history', '');
GRANT SELECT ON migrate.baseline_record, migrate.imported_history TO migrate_reader;

CREATE VIEW migrate.imported_unregistered AS
SELECT i.tool, i.version, i.description, i.applied_at, i.applied_by
FROM migrate.imported_history i
WHERE NOT EXISTS (
    SELECT FROM migrate.migration m
    WHERE CASE i.matches
              WHEN 'version without dashes'
                  THEN i.version OPERATOR(pg_catalog.=) pg_catalog.replace(m.version, '-', '')
              WHEN 'name' THEN i.version OPERATOR(pg_catalog.=) m.name
              -- it stands for every version up to it (golang-migrate's
              -- current version, a Flyway BASELINE row): it waits for no
              -- file of its own once the registry reaches its version
              WHEN 'up to version' THEN m.version_key OPERATOR(pg_catalog.>=) i.version_key
              ELSE i.version_key OPERATOR(pg_catalog.=) m.version_key
          END)
ORDER BY i.tool, i.applied_at, i.version_key, i.version;
REVOKE ALL ON migrate.imported_unregistered FROM PUBLIC;
GRANT SELECT ON migrate.imported_unregistered TO migrate_reader;
COMMENT ON VIEW migrate.imported_unregistered IS
    'migrations another tool applied that have no registered script yet; registering the file marks it applied';

CREATE FUNCTION migrate.baseline(version text, description text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'migrate_baseline'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.baseline(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.baseline(text, text) TO migrate_admin;
COMMENT ON FUNCTION migrate.baseline(text, text) IS
    'adopt an existing database: mark the registered migrations up to and including version applied without running them (also those registered later), record the schema''s fingerprint; returns how many were marked';

CREATE FUNCTION migrate.import_history(tool text, history_table text DEFAULT NULL)
RETURNS TABLE (version text, description text, applied_at timestamptz, applied_by text,
               status text, adopted text[])
AS 'MODULE_PATHNAME', 'migrate_import_history'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.import_history(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.import_history(text, text) TO migrate_admin;
COMMENT ON FUNCTION migrate.import_history(text, text) IS
    'read the history table of flyway, liquibase, golang-migrate, dbmate, sqitch or diesel as the caller, keep what it applied in migrate.imported_history and mark the registered migrations applied; one row per history row with its status';

-- ---- end of wp13-2 ----

-- the helpers of the issue 9 section were for the update only
DROP FUNCTION migrate.upgrade_replace(text, text, text, text, text, text);
DROP FUNCTION migrate.upgrade_acl(regclass, oid);


/* ---------------------------------------------------------------------
 * WP-S review fixes (issue 9): what this script creates is the
 * extension owner's.
 *
 * ALTER EXTENSION UPDATE may be run by another superuser than the one who
 * created the extension, and a plain CREATE in this script makes that
 * role the owner (of store_schedule() and store_approval(), SECURITY
 * DEFINER, it would be the role they run as): give every member that role
 * owns to the extension's owner, as a fresh install has it.  ALTER ...
 * OWNER rewrites the ACL but not pg_init_privs (PostgreSQL 15), so the
 * initial privileges are set to the ACL as the owner now has it.
 *
 * Keep this the LAST statement of the script: an object created after it
 * is not covered.
 * --------------------------------------------------------------------- */
DO $owner$
DECLARE
    ext_oid   oid;
    ext_owner oid;
    runner    oid := (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user);
    item      record;
BEGIN
    SELECT x.oid, x.extowner INTO ext_oid, ext_owner
      FROM pg_catalog.pg_extension x WHERE x.extname OPERATOR(pg_catalog.=) 'migrate';
    IF ext_owner OPERATOR(pg_catalog.=) runner THEN
        RETURN;
    END IF;
    FOR item IN
        SELECT 'FUNCTION' AS keyword, 'pg_catalog.pg_proc'::pg_catalog.regclass AS catalog, p.oid,
               p.oid::pg_catalog.regprocedure::text AS name
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ext_oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND p.proowner OPERATOR(pg_catalog.=) runner
        UNION ALL
        SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
               'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, c.oid::pg_catalog.regclass::text
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ext_oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND c.relowner OPERATOR(pg_catalog.=) runner
        UNION ALL
        SELECT 'TYPE', 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, t.oid::pg_catalog.regtype::text
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ext_oid AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND t.typowner OPERATOR(pg_catalog.=) runner
    LOOP
        -- ROUTINE: a procedure (deploy()) is no FUNCTION to ALTER FUNCTION
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %I',
                                  CASE item.keyword WHEN 'FUNCTION' THEN 'ROUTINE' ELSE item.keyword END,
                                  item.name,
                                  ext_owner::pg_catalog.regrole::text);
        UPDATE pg_catalog.pg_init_privs ip
           SET initprivs = CASE item.keyword
                   WHEN 'FUNCTION' THEN (SELECT p.proacl FROM pg_catalog.pg_proc p
                                          WHERE p.oid OPERATOR(pg_catalog.=) item.oid)
                   WHEN 'TYPE' THEN (SELECT t.typacl FROM pg_catalog.pg_type t
                                      WHERE t.oid OPERATOR(pg_catalog.=) item.oid)
                   ELSE (SELECT c.relacl FROM pg_catalog.pg_class c
                          WHERE c.oid OPERATOR(pg_catalog.=) item.oid) END
         WHERE ip.classoid OPERATOR(pg_catalog.=) item.catalog
           AND ip.objoid OPERATOR(pg_catalog.=) item.oid AND ip.objsubid OPERATOR(pg_catalog.=) 0;
        -- the columns of a relation, whose grants are recorded one by one
        UPDATE pg_catalog.pg_init_privs ip SET initprivs = a.attacl
          FROM pg_catalog.pg_attribute a
         WHERE item.catalog OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND ip.classoid OPERATOR(pg_catalog.=) item.catalog
           AND ip.objoid OPERATOR(pg_catalog.=) item.oid AND ip.objsubid OPERATOR(pg_catalog.>) 0
           AND a.attrelid OPERATOR(pg_catalog.=) item.oid AND a.attnum OPERATOR(pg_catalog.=) ip.objsubid
           AND a.attacl IS NOT NULL;
        -- (PostgreSQL 16 and later) the initial privileges' references to
        -- the role that ran the update
        DELETE FROM pg_catalog.pg_shdepend sd
         WHERE sd.dbid OPERATOR(pg_catalog.=) (SELECT db.oid FROM pg_catalog.pg_database db
                                                WHERE db.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
           AND sd.classid OPERATOR(pg_catalog.=) item.catalog
           AND sd.objid OPERATOR(pg_catalog.=) item.oid
           AND sd.deptype OPERATOR(pg_catalog.=) 'i'
           AND sd.refobjid OPERATOR(pg_catalog.=) runner;
    END LOOP;
END
$owner$;
