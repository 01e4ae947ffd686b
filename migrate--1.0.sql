/* migrate--1.0.sql: catalog, views, functions and role model of migrate 1.0 */

\echo Use "CREATE EXTENSION migrate" to load this file. \quit

/*
 * Role model.  Roles are cluster-wide, so another database may already have
 * created them; they are not members of the extension and survive DROP
 * EXTENSION on purpose (grants elsewhere may refer to them).
 *   migrate_admin   may register, apply, revert and repair migrations, and
 *                   read script text.
 *   migrate_reader  may read the status and history views and call require().
 */
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'migrate_reader') THEN
        CREATE ROLE migrate_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'migrate_admin') THEN
        CREATE ROLE migrate_admin NOLOGIN;
    END IF;
    IF NOT pg_catalog.pg_has_role('migrate_admin', 'migrate_reader', 'MEMBER') THEN
        GRANT migrate_reader TO migrate_admin;
    END IF;
END
$roles$;

/* ---------------------------------------------------------------------
 * Catalog.  Only the extension owner may touch these tables; everybody
 * else goes through the functions (which switch to the owner for their
 * bookkeeping) and the views.
 * --------------------------------------------------------------------- */

CREATE SEQUENCE migrate.apply_seq;

CREATE TABLE migrate.migration (
    version            text PRIMARY KEY,
    version_key        bytea NOT NULL UNIQUE,
    name               text NOT NULL CHECK (name <> ''),
    up_script          text NOT NULL,
    down_script        text,
    checksum           text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    down_checksum      text CHECK (down_checksum ~ '^[0-9a-f]{64}$'),
    checksum_version   smallint NOT NULL,
    applied_checksum   text CHECK (applied_checksum ~ '^[0-9a-f]{64}$'),
    applied_down_checksum text CHECK (applied_down_checksum ~ '^[0-9a-f]{64}$'),
    state              text NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'applied', 'failed', 'rolled_back', 'dirty')),
    statements         integer NOT NULL,
    transactional      boolean NOT NULL,
    down_transactional boolean,
    description        text,
    author             text,
    created            date,
    dependencies       text[] NOT NULL DEFAULT '{}',
    risk_level         text CHECK (risk_level IN ('low', 'medium', 'high')),
    zero_downtime      boolean,
    estimated_duration interval,
    environments       text[],
    registered_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    registered_by      name NOT NULL DEFAULT CURRENT_USER,
    apply_seq          bigint UNIQUE,
    applied_at         timestamptz,
    applied_by         name,
    duration           interval,
    last_error         jsonb,
    -- non-transactional migrations: the statement that failed or was
    -- interrupted (state dirty), and where a retry resumes
    dirty_statement    integer,
    resume_statement   integer,
    -- scheduled runs apply only approved migrations (see migrate.approve)
    approved_at        timestamptz,
    approved_by        name,
    -- checks around the up script: the precondition runs before it (fail,
    -- skip or warn when it does not hold), verify after it (fail)
    precondition_script text,
    precondition_mode  text NOT NULL DEFAULT 'fail'
                       CHECK (precondition_mode IN ('fail', 'skip', 'warn')),
    verify_script      text
);

COMMENT ON TABLE migrate.migration IS 'registered migrations, one row per version';

CREATE SEQUENCE migrate.event_id_seq;

CREATE TABLE migrate.event (
    id          bigint PRIMARY KEY DEFAULT pg_catalog.nextval('migrate.event_id_seq'),
    action      text NOT NULL
                CHECK (action IN ('register', 'apply', 'revert', 'repair', 'resolve',
                                  'approve', 'run', 'pause', 'resume', 'dry run')),
    version     text,           -- NULL for scheduler runs, pause and resume
    name        text,
    outcome     text NOT NULL CHECK (outcome IN ('success', 'failure', 'skipped')),
    role        name NOT NULL,
    started_at  timestamptz NOT NULL,
    duration    interval,
    checksum    text,
    detail      jsonb,
    error       jsonb
);
ALTER SEQUENCE migrate.event_id_seq OWNED BY migrate.event.id;

CREATE INDEX event_version_idx ON migrate.event (version, id);

COMMENT ON TABLE migrate.event IS 'append-only history of every attempt to change a migration';

CREATE FUNCTION migrate.event_is_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS
$$
BEGIN
    RAISE EXCEPTION 'migration history is append-only'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Rows of migrate.event are never updated or deleted.';
END
$$;

CREATE TRIGGER event_is_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON migrate.event
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.event_is_append_only();

/* keep the rows (and sequence positions) across pg_dump and pg_restore */
SELECT pg_catalog.pg_extension_config_dump('migrate.migration', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.event', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.apply_seq', '');

/* ---------------------------------------------------------------------
 * Schedules for the background worker (needs shared_preload_libraries).
 * --------------------------------------------------------------------- */

CREATE TABLE migrate.schedule (
    name             text PRIMARY KEY CHECK (name <> ''),
    every            interval CHECK (every > interval '0'),
    cron             text,
    window_start     time,
    window_end       time,
    timezone         text NOT NULL DEFAULT 'UTC',
    target           text,
    environment      text,
    require_approval boolean NOT NULL DEFAULT true,
    enabled          boolean NOT NULL DEFAULT true,
    next_run_at      timestamptz NOT NULL,
    last_run_at      timestamptz,
    last_outcome     text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by       name NOT NULL,
    -- what the last run stopped for ('approval of 001'), NULL if nothing
    waiting_for      text,
    CHECK ((every IS NULL) <> (cron IS NULL)),
    CHECK ((window_start IS NULL) = (window_end IS NULL)),
    CHECK (window_start IS DISTINCT FROM window_end OR window_start IS NULL)
);
COMMENT ON TABLE migrate.schedule IS 'when the background worker applies migrations';

-- at most one row: whether the scheduler of this database is paused (no
-- row: not paused; it starts empty so that pg_dump can keep the row)
CREATE TABLE migrate.scheduler_state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    paused     boolean NOT NULL DEFAULT false,
    changed_at timestamptz,
    changed_by name
);

SELECT pg_catalog.pg_extension_config_dump('migrate.schedule', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.scheduler_state', '');

REVOKE ALL ON ALL TABLES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migrate FROM PUBLIC;
GRANT SELECT ON migrate.migration TO migrate_admin;
-- anybody may call the helpers; the tables and views stay closed
GRANT USAGE ON SCHEMA migrate TO PUBLIC;

/* ---------------------------------------------------------------------
 * Helpers that anybody may call: they read nothing from the catalog.
 * --------------------------------------------------------------------- */

CREATE FUNCTION migrate.version_key(version text) RETURNS bytea
AS 'MODULE_PATHNAME', 'migrate_version_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate.version_key(text) IS
    'sort key that orders versions naturally (numeric runs compare as numbers)';

CREATE FUNCTION migrate.version_cmp(a text, b text) RETURNS integer
AS 'MODULE_PATHNAME', 'migrate_version_cmp'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION migrate.checksum(script text) RETURNS text
AS 'MODULE_PATHNAME', 'migrate_checksum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate.checksum(text) IS
    'SHA-256 of a script after normalisation (CRLF to LF, leading byte-order mark removed)';

CREATE FUNCTION migrate.header(script text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'migrate_header'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate.header(text) IS
    'metadata header of a migration script, validated, as jsonb';

CREATE FUNCTION migrate.statements(script text,
    OUT statement integer, OUT line integer, OUT command text,
    OUT transactional boolean, OUT sql text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migrate_statements'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION migrate.statements(text) IS
    'statements of a script as PostgreSQL''s parser splits them';

/*
 * End of the window that "at" falls in, or NULL when it is outside it;
 * times are local to the time zone, and a window may span midnight
 * ('22:00'-'02:00').
 */
CREATE FUNCTION migrate.window_end_at(at timestamptz, window_start time,
                                      window_end time, timezone text)
RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS
-- the scheduler calls it as a superuser: every operator is qualified
$$
    SELECT CASE
        WHEN window_start IS NULL THEN NULL
        WHEN window_start OPERATOR(pg_catalog.<) window_end THEN
            CASE WHEN local.t OPERATOR(pg_catalog.>=) window_start
                      AND local.t OPERATOR(pg_catalog.<) window_end
                 THEN (local.d OPERATOR(pg_catalog.+) window_end) AT TIME ZONE timezone END
        WHEN local.t OPERATOR(pg_catalog.>=) window_start
            THEN ((local.d OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.+) window_end)
                 AT TIME ZONE timezone
        WHEN local.t OPERATOR(pg_catalog.<) window_end
            THEN (local.d OPERATOR(pg_catalog.+) window_end) AT TIME ZONE timezone
    END
    FROM (SELECT (at AT TIME ZONE timezone)::time AS t,
                 (at AT TIME ZONE timezone)::date AS d) AS local
$$;

CREATE FUNCTION migrate.cron_next(expression text,
                                  after timestamptz DEFAULT pg_catalog.now(),
                                  timezone text DEFAULT 'UTC')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'migrate_cron_next'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION migrate.cron_next(text, timestamptz, text) IS
    'next time after "after" at which a 5-field cron expression fires, in the given time zone';

/* ---------------------------------------------------------------------
 * Schema fingerprint: the user-visible schema as rows, and their hash.
 * Objects are named, never identified by OID, and nothing depends on
 * physical order, so two databases (or two moments) with the same schema
 * give the same rows.  migrate's own schema, system schemas, temporary
 * schemas and objects that belong to extensions are left out.
 * --------------------------------------------------------------------- */

CREATE FUNCTION migrate.schema_objects(
    OUT kind text, OUT identity text, OUT definition text, OUT hash text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog AS
$fp$
WITH user_ns AS (
    SELECT n.oid, n.nspname
    FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'migrate')
      AND n.nspname NOT LIKE 'pg\_toast%'
      AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d
                      WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                        AND d.deptype = 'e')
),
ext_member AS (
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.deptype = 'e'
),
rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions,
           c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
           ns.nspname, quote_ident(ns.nspname) || '.' || quote_ident(c.relname) AS ident
    FROM pg_class c JOIN user_ns ns ON ns.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
      AND NOT EXISTS (SELECT FROM ext_member e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
),
objects(kind, identity, definition) AS (
    SELECT 'extension', e.extname::text, 'version ' || e.extversion || ' in schema ' || n.nspname
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname NOT IN ('plpgsql', 'migrate')
  UNION ALL
    SELECT 'schema', quote_ident(ns.nspname), 'schema' FROM user_ns ns
  UNION ALL
    SELECT CASE r.relkind WHEN 'p' THEN 'table' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
           r.ident,
           concat_ws(' ', CASE r.relkind WHEN 'p' THEN 'partitioned' END,
                     CASE r.relpersistence WHEN 'u' THEN 'unlogged' END,
                     CASE WHEN r.relkind = 'p' THEN 'partition by ' || pg_get_partkeydef(r.oid) END,
                     CASE WHEN r.relispartition
                          THEN 'partition of ' || (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = r.oid)
                               || ' ' || pg_get_expr((SELECT c.relpartbound FROM pg_class c WHERE c.oid = r.oid), r.oid) END,
                     CASE WHEN r.relrowsecurity THEN 'row security' END,
                     CASE WHEN r.relforcerowsecurity THEN 'forced row security' END,
                     'with ' || array_to_string(r.reloptions, ','),
                     (SELECT 'inherits ' || string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhparent::regclass::text)
                      FROM pg_inherits i WHERE i.inhrelid = r.oid AND NOT r.relispartition))
    FROM rels r WHERE r.relkind IN ('r', 'p', 'f')
  UNION ALL
    SELECT 'column', r.ident || '.' || quote_ident(a.attname),
           concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                     CASE WHEN a.attnotnull THEN 'not null' END,
                     CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
                          THEN 'collate ' || (SELECT quote_ident(co.collname) FROM pg_collation co WHERE co.oid = a.attcollation) END,
                     CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
                                        WHEN 'd' THEN 'generated by default as identity' END,
                     CASE WHEN a.attgenerated = 's' THEN 'generated always as (' || pg_get_expr(ad.adbin, ad.adrelid) || ') stored'
                          WHEN ad.adbin IS NOT NULL THEN 'default ' || pg_get_expr(ad.adbin, ad.adrelid) END)
    FROM rels r
    JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE r.relkind IN ('r', 'p', 'f', 'v', 'm', 'c')
  UNION ALL
    SELECT 'constraint',
           coalesce(r.ident, quote_ident(tn.nspname) || '.' || quote_ident(ty.typname)) || '.' || quote_ident(con.conname),
           pg_get_constraintdef(con.oid) || CASE WHEN con.convalidated THEN '' ELSE ' (not validated)' END
    FROM pg_constraint con
    LEFT JOIN rels r ON r.oid = con.conrelid
    LEFT JOIN pg_type ty ON ty.oid = con.contypid
    LEFT JOIN pg_namespace tn ON tn.oid = ty.typnamespace
    WHERE (r.oid IS NOT NULL OR (con.contypid <> 0 AND tn.oid IN (SELECT oid FROM user_ns)))
  UNION ALL
    SELECT 'index', quote_ident(ns.nspname) || '.' || quote_ident(ic.relname),
           pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN user_ns ns ON ns.oid = ic.relnamespace
    WHERE NOT EXISTS (SELECT FROM ext_member e WHERE e.classid = 'pg_class'::regclass AND e.objid = i.indrelid)
  UNION ALL
    SELECT CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, r.ident,
           pg_get_viewdef(r.oid, true)
    FROM rels r WHERE r.relkind IN ('v', 'm')
  UNION ALL
    SELECT 'sequence', r.ident,
           format('%s increment %s min %s max %s start %s cache %s%s',
                  format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax,
                  s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END)
    FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    WHERE r.relkind = 'S'
  UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
           quote_ident(ns.nspname) || '.' || quote_ident(p.proname)
               || '(' || pg_get_function_identity_arguments(p.oid) || ')',
           CASE WHEN p.prokind = 'a'
                THEN 'aggregate returning ' || format_type(p.prorettype, NULL)
                ELSE pg_get_functiondef(p.oid) END
    FROM pg_proc p JOIN user_ns ns ON ns.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT FROM ext_member e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
  UNION ALL
    SELECT 'trigger', r.ident || '.' || quote_ident(tg.tgname),
           pg_get_triggerdef(tg.oid) || CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' ELSE '' END
    FROM pg_trigger tg JOIN rels r ON r.oid = tg.tgrelid
    WHERE NOT tg.tgisinternal
  UNION ALL
    SELECT CASE ty.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range'
                           ELSE 'type' END,
           quote_ident(ns.nspname) || '.' || quote_ident(ty.typname),
           CASE ty.typtype
               WHEN 'e' THEN (SELECT string_agg(quote_literal(en.enumlabel), ', ' ORDER BY en.enumsortorder)
                              FROM pg_enum en WHERE en.enumtypid = ty.oid)
               WHEN 'd' THEN concat_ws(' ', format_type(ty.typbasetype, ty.typtypmod),
                                       CASE WHEN ty.typnotnull THEN 'not null' END,
                                       'default ' || ty.typdefault)
               WHEN 'r' THEN (SELECT 'range of ' || format_type(rg.rngsubtype, NULL)
                              FROM pg_range rg WHERE rg.rngtypid = ty.oid)
               ELSE 'composite'
           END
    FROM pg_type ty JOIN user_ns ns ON ns.oid = ty.typnamespace
    WHERE (ty.typtype IN ('e', 'd', 'r')
           OR (ty.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = ty.typrelid) = 'c'))
      AND NOT EXISTS (SELECT FROM ext_member e WHERE e.classid = 'pg_type'::regclass AND e.objid = ty.oid)
  UNION ALL
    SELECT 'policy', r.ident || '.' || quote_ident(pol.polname),
           concat_ws(' ', CASE WHEN pol.polpermissive THEN 'permissive' ELSE 'restrictive' END,
                     'for ' || CASE pol.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                                               WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END,
                     'to ' || (SELECT string_agg(CASE WHEN ro = 0 THEN 'public' ELSE quote_ident(ro::regrole::text) END, ', ' ORDER BY ro)
                               FROM unnest(pol.polroles) AS ro),
                     'using (' || pg_get_expr(pol.polqual, pol.polrelid) || ')',
                     'with check (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')')
    FROM pg_policy pol JOIN rels r ON r.oid = pol.polrelid
  UNION ALL
    SELECT 'comment', o.type || ' ' || o.identity, d.description
    FROM pg_description d
    CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
    WHERE o.schema IN (SELECT nspname FROM user_ns)
       OR (d.classoid = 'pg_namespace'::regclass AND d.objoid IN (SELECT oid FROM user_ns))
)
SELECT o.kind, o.identity, o.definition,
       encode(sha256(convert_to(o.kind || E'\n' || o.identity || E'\n' || coalesce(o.definition, ''), 'UTF8')), 'hex')
FROM objects o
ORDER BY o.kind COLLATE "C", o.identity COLLATE "C"
$fp$;
COMMENT ON FUNCTION migrate.schema_objects() IS
    'the user-visible schema, one row per object, for diffs and the fingerprint';

CREATE FUNCTION migrate.fingerprint() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS
$$
    SELECT encode(sha256(convert_to(coalesce(string_agg(o.hash, '' ORDER BY o.kind COLLATE "C",
                                                              o.identity COLLATE "C"), ''), 'UTF8')), 'hex')
    FROM migrate.schema_objects() o
$$;
/*
 * Row count and content hash of every user table, for rehearsals with
 * data => true.  Reads the tables with the caller's privileges.
 */
CREATE FUNCTION migrate.table_data(OUT identity text, OUT definition text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS
$$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS ident
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'migrate')
          AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 2
    LOOP
        identity := t.ident;
        EXECUTE format('SELECT format(''%%s rows, content %%s'', count(*),'
                       ' md5(coalesce(string_agg(r::text, E''\n'' ORDER BY r::text), '''')))'
                       ' FROM ONLY %s AS r', t.oid::regclass)
            INTO definition;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION migrate.fingerprint() IS
    'SHA-256 over migrate.schema_objects(): equal schemas give equal fingerprints';

/* ---------------------------------------------------------------------
 * Administration: migrate_admin only.
 * --------------------------------------------------------------------- */

CREATE FUNCTION migrate.register(version text, name text, up text,
                                 down text DEFAULT NULL,
                                 verify text DEFAULT NULL,
                                 precondition text DEFAULT NULL,
                                 precondition_mode text DEFAULT 'fail')
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_register'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate.apply(target text DEFAULT NULL, dry_run boolean DEFAULT false)
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer, rows_affected bigint,
               fingerprint_before text, fingerprint_after text, note text)
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate.revert(target text DEFAULT NULL,
                               steps integer DEFAULT NULL,
                               migration text DEFAULT NULL,
                               "cascade" boolean DEFAULT false,
                               dry_run boolean DEFAULT false)
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer, rows_affected bigint,
               fingerprint_before text, fingerprint_after text, note text)
AS 'MODULE_PATHNAME', 'migrate_revert'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate.revert_all()
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer, rows_affected bigint,
               fingerprint_before text, fingerprint_after text, note text)
AS 'MODULE_PATHNAME', 'migrate_revert_all'
LANGUAGE C VOLATILE;

/*
 * deploy(): apply() for a session that must wait for the migrate lock:
 * waits between transactions, holding no snapshot, so that a running
 * CREATE INDEX CONCURRENTLY does not deadlock with the wait (src/deploy.c).
 */
CREATE PROCEDURE migrate.deploy(target text DEFAULT NULL,
                                max_wait interval DEFAULT '1 hour')
AS 'MODULE_PATHNAME', 'migrate_deploy'
LANGUAGE C;
COMMENT ON PROCEDURE migrate.deploy(text, interval) IS
    'wait (up to max_wait, holding no snapshot) for the migrate lock, then apply what is pending, up to target';
REVOKE ALL ON PROCEDURE migrate.deploy(text, interval) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE migrate.deploy(text, interval) TO migrate_admin;

CREATE FUNCTION migrate.repair(version text, up text DEFAULT NULL,
                               down text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_repair'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION migrate.register(text, text, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.apply(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.revert(text, integer, text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.revert_all() FROM PUBLIC;

-- what apply(target) would do, in order, without doing it
CREATE FUNCTION migrate.plan(target text DEFAULT NULL)
RETURNS TABLE (ordinal integer, version text, name text, action text, reason text,
               statements integer, risk_level text, estimated_duration interval,
               zero_downtime boolean, transactional boolean, runs_in text,
               approved boolean, checks text[], skip boolean, skip_reason text,
               precondition_checked_as name)
AS 'MODULE_PATHNAME', 'migrate_plan'
LANGUAGE C VOLATILE;

-- apply, revert, re-apply each pending migration, compare, roll back
CREATE FUNCTION migrate.rehearse(from_version text DEFAULT NULL,
                                 to_version text DEFAULT NULL,
                                 data boolean DEFAULT false)
RETURNS TABLE (ordinal integer, version text, name text, ok boolean,
               failed_step text, differences jsonb, error text)
AS 'MODULE_PATHNAME', 'migrate_rehearse'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION migrate.plan(text), migrate.rehearse(text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.plan(text), migrate.rehearse(text, text, boolean) TO migrate_admin;
REVOKE ALL ON FUNCTION migrate.repair(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.register(text, text, text, text, text, text, text) TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.apply(text, boolean) TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.revert(text, integer, text, boolean, boolean) TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.revert_all() TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.repair(text, text, text) TO migrate_admin;
REVOKE ALL ON FUNCTION migrate.event_is_append_only() FROM PUBLIC;

/* internal: the migrate lock, and waking the launcher and scheduler */
CREATE FUNCTION migrate.acquire_lock() RETURNS void
AS 'MODULE_PATHNAME', 'migrate_acquire_lock'
LANGUAGE C VOLATILE;
CREATE FUNCTION migrate.wake() RETURNS void
AS 'MODULE_PATHNAME', 'migrate_wake'
LANGUAGE C VOLATILE;
CREATE FUNCTION migrate.calling_role() RETURNS name
AS 'MODULE_PATHNAME', 'migrate_calling_role'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate.calling_role() IS
    'the role that called a SECURITY DEFINER function (after SET ROLE), for history';
REVOKE ALL ON FUNCTION migrate.acquire_lock() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.wake() FROM PUBLIC;

/*
 * The functions below are SECURITY DEFINER so that migrate_admin can
 * change the owner's tables through them and only through them.  They run
 * no user SQL, and pin search_path.
 */

CREATE FUNCTION migrate.schedule(name text,
                                 every interval DEFAULT NULL,
                                 cron text DEFAULT NULL,
                                 "window" text DEFAULT NULL,
                                 timezone text DEFAULT 'UTC',
                                 target text DEFAULT NULL,
                                 environment text DEFAULT NULL,
                                 require_approval boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
-- the scheduler reads time zones with these abbreviations (scheduler.c)
SET timezone_abbreviations = 'Default' AS
$$
DECLARE
    bounds text[];
    w_start time;
    w_end time;
    first_run timestamptz;
BEGIN
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
                  DETAIL = format('%s is longer than the scheduler can count.', every);
    END IF;
    -- rejects a zone unknown to the scheduler (which uses the Default
    -- abbreviations, whatever this session's timezone_abbreviations say)
    PERFORM now() AT TIME ZONE timezone;
    IF "window" IS NOT NULL THEN
        bounds := regexp_match("window",
            '^\s*((?:[01]?\d|2[0-3]):[0-5]\d)\s*-\s*((?:[01]?\d|2[0-3]):[0-5]\d)\s*$');
        IF bounds IS NULL THEN
            RAISE EXCEPTION 'invalid window "%"', "window"
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A window is written HH:MM-HH:MM, for example 02:00-04:00.';
        END IF;
        w_start := bounds[1]::time;
        w_end := bounds[2]::time;
        IF w_start = w_end THEN
            RAISE EXCEPTION 'window "%" is empty', "window"
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    first_run := CASE WHEN every IS NOT NULL THEN now()
                      ELSE migrate.cron_next(cron, now(), timezone) END;
    PERFORM migrate.window_end_at(now(), w_start, w_end, timezone);
    IF target IS NOT NULL AND NOT EXISTS (
            SELECT FROM migrate.migration m
            WHERE m.version_key = migrate.version_key(target)) THEN
        RAISE EXCEPTION 'migration "%" is not registered', target
            USING ERRCODE = 'undefined_object';
    END IF;

    INSERT INTO migrate.schedule AS s (name, every, cron, window_start, window_end,
        timezone, target, environment, require_approval, next_run_at, created_by)
    VALUES (schedule.name, every, cron, w_start, w_end, timezone, target,
            environment, require_approval, first_run, migrate.calling_role())
    ON CONFLICT ON CONSTRAINT schedule_pkey DO UPDATE SET
        every = EXCLUDED.every, cron = EXCLUDED.cron,
        window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
        timezone = EXCLUDED.timezone, target = EXCLUDED.target,
        environment = EXCLUDED.environment,
        require_approval = EXCLUDED.require_approval,
        next_run_at = EXCLUDED.next_run_at, enabled = true, waiting_for = NULL;
    IF require_approval
       AND EXISTS (SELECT FROM migrate.migration m WHERE m.state IN ('pending', 'rolled_back'))
       AND NOT EXISTS (SELECT FROM migrate.migration m
                       WHERE m.state IN ('pending', 'rolled_back') AND m.approved_at IS NOT NULL) THEN
        RAISE NOTICE 'schedule "%" will apply nothing until a pending migration is approved', name
            USING DETAIL = 'The schedule requires approval, and no pending migration is approved.',
                  HINT = 'Approve them with SELECT migrate.approve(version), or schedule with require_approval => false.';
    END IF;
    PERFORM migrate.wake();
END
$$;

CREATE FUNCTION migrate.unschedule(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
    DELETE FROM migrate.schedule s WHERE s.name = unschedule.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schedule "%" does not exist', name
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;

CREATE FUNCTION migrate.pause() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
    INSERT INTO migrate.scheduler_state AS st (paused, changed_at, changed_by)
    VALUES (true, now(), migrate.calling_role())
    ON CONFLICT (singleton) DO UPDATE SET paused = true, changed_at = EXCLUDED.changed_at,
        changed_by = EXCLUDED.changed_by;
    INSERT INTO migrate.event (action, outcome, role, started_at)
    VALUES ('pause', 'success', migrate.calling_role(), now());
END
$$;

CREATE FUNCTION migrate.resume() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
    INSERT INTO migrate.scheduler_state AS st (paused, changed_at, changed_by)
    VALUES (false, now(), migrate.calling_role())
    ON CONFLICT (singleton) DO UPDATE SET paused = false, changed_at = EXCLUDED.changed_at,
        changed_by = EXCLUDED.changed_by;
    INSERT INTO migrate.event (action, outcome, role, started_at)
    VALUES ('resume', 'success', migrate.calling_role(), now());
    PERFORM migrate.wake();
END
$$;

-- scheduled runs apply a migration only once it is approved (unless the
-- schedule says require_approval => false)
CREATE FUNCTION migrate.approve(version text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    found_version text;
    run_as name;
    can_login boolean;
BEGIN
    PERFORM migrate.acquire_lock();
    -- a scheduled run connects as this role (scheduler.c), and PostgreSQL 15
    -- refuses a worker connection without LOGIN: say so now, not at 2 am
    SELECT coalesce(nullif(current_setting('migrate.worker_role', true), ''), m.registered_by)
      INTO run_as
      FROM migrate.migration m WHERE m.version_key = migrate.version_key(approve.version);
    IF FOUND THEN
        SELECT r.rolcanlogin INTO can_login FROM pg_roles r WHERE r.rolname = run_as;
        IF can_login IS NOT TRUE THEN
            RAISE EXCEPTION 'migration "%" would run as role "%", which cannot log in', version, run_as
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Scheduled runs connect as the role that registered a migration (or as migrate.worker_role), and PostgreSQL refuses that connection to a role without LOGIN or that does not exist.',
                      HINT = 'Register the migration as a role with LOGIN, or set migrate.worker_role to one.';
        END IF;
        -- approving has the scheduler run it as that role: only someone
        -- with its privileges may (migrate.worker_role is a superuser's
        -- choice, and needs no such check)
        IF nullif(current_setting('migrate.worker_role', true), '') IS NULL
           AND NOT pg_has_role(migrate.calling_role(), run_as, 'USAGE') THEN
            RAISE EXCEPTION 'permission denied to approve migration "%"', version
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('Scheduled runs would run it as role %I, its registrant, and role %I does not have the privileges of that role.', run_as, migrate.calling_role()),
                      HINT = format('Have it approved by role %I or a role with its privileges, or register it again as yourself.', run_as);
        END IF;
    END IF;
    UPDATE migrate.migration m SET approved_at = now(), approved_by = migrate.calling_role()
    WHERE m.version_key = migrate.version_key(approve.version)
    RETURNING m.version INTO found_version;
    IF found_version IS NULL THEN
        RAISE EXCEPTION 'migration "%" is not registered', version
            USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO migrate.event (action, version, outcome, role, started_at)
    VALUES ('approve', found_version, 'success', migrate.calling_role(), now());
END
$$;

/*
 * A dirty migration (non-transactional, stopped part way) blocks apply and
 * revert until a human decides: retry from the statement it stopped at,
 * or declare it applied or reverted after finishing or undoing it by hand.
 */
CREATE FUNCTION migrate.resolve(version text, action text) RETURNS text
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
                  DETAIL = format('Its state is "%s".', m.state);
    END IF;
    direction := coalesce(m.last_error->>'script', 'up');

    IF action = 'retry' THEN
        UPDATE migrate.migration SET
            state = CASE WHEN direction = 'up' THEN 'pending' ELSE 'applied' END,
            resume_statement = m.dirty_statement, dirty_statement = NULL
        WHERE migration.version = m.version;
    ELSIF action = 'mark_applied' THEN
        UPDATE migrate.migration SET state = 'applied',
            apply_seq = coalesce(apply_seq, nextval('migrate.apply_seq')),
            applied_checksum = checksum, applied_down_checksum = down_checksum,
            applied_at = coalesce(applied_at, now()), applied_by = coalesce(applied_by, migrate.calling_role()),
            dirty_statement = NULL, resume_statement = NULL
        WHERE migration.version = m.version;
    ELSIF action = 'mark_reverted' THEN
        UPDATE migrate.migration SET state = 'rolled_back', apply_seq = NULL,
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
    VALUES ('resolve', m.version, m.name, 'success', migrate.calling_role(), now(),
            jsonb_build_object('action', action, 'statement', m.dirty_statement,
                               'script', direction));
    RETURN CASE WHEN action = 'retry' AND direction = 'up' THEN 'pending: apply() resumes it'
                WHEN action = 'retry' THEN 'applied: revert() resumes it'
                WHEN action = 'mark_applied' THEN 'applied' ELSE 'rolled_back' END;
END
$$;

REVOKE ALL ON FUNCTION migrate.schedule(text, interval, text, text, text, text, text, boolean),
    migrate.unschedule(text), migrate.pause(), migrate.resume(), migrate.approve(text),
    migrate.resolve(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.schedule(text, interval, text, text, text, text, text, boolean),
    migrate.unschedule(text), migrate.pause(), migrate.resume(), migrate.approve(text),
    migrate.resolve(text, text) TO migrate_admin;

/* ---------------------------------------------------------------------
 * Views for monitoring and for applications: no script text.
 * --------------------------------------------------------------------- */

/*
 * Script text is for migrate_admin.  An application role (migrate_reader)
 * reads the error objects and history details without any key that can
 * hold script text: the failing statement's text, the DETAIL (a failed
 * precondition quotes its check there), the cleanup commands of leftover
 * indexes, and a skipped migration's failing check.  The error object is
 * filtered by a list of keys it may keep, so that a key added later stays
 * hidden until it is known to be safe.
 */
CREATE FUNCTION migrate.error_for_reader(error jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS
$$
SELECT CASE WHEN pg_catalog.jsonb_typeof(error) OPERATOR(pg_catalog.=) 'object' THEN
    (SELECT pg_catalog.jsonb_object_agg(e.key,
                CASE WHEN e.key OPERATOR(pg_catalog.=) 'invalid_indexes'
                          AND pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.=) 'array'
                     THEN (SELECT pg_catalog.jsonb_agg(i OPERATOR(pg_catalog.-) 'command'::text)
                           FROM pg_catalog.jsonb_array_elements(e.value) AS i)
                     ELSE e.value END)
     FROM pg_catalog.jsonb_each(error) AS e
     WHERE e.key OPERATOR(pg_catalog.=) ANY
           (ARRAY['sqlstate', 'message', 'hint', 'script', 'statement', 'line', 'invalid_indexes']))
END
$$;
COMMENT ON FUNCTION migrate.error_for_reader(jsonb) IS
    'an error object (last_error, history.error) without the keys that can hold script text';

CREATE FUNCTION migrate.detail_for_reader(detail jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS
$$
SELECT CASE WHEN pg_catalog.jsonb_typeof(detail) OPERATOR(pg_catalog.<>) 'object' THEN detail
            WHEN pg_catalog.jsonb_typeof(detail OPERATOR(pg_catalog.->) 'statement')
                 OPERATOR(pg_catalog.=) 'string'
            THEN detail OPERATOR(pg_catalog.-) 'statement'::text
                        OPERATOR(pg_catalog.-) 'statement_text'::text
            ELSE detail OPERATOR(pg_catalog.-) 'statement_text'::text
       END
$$;
COMMENT ON FUNCTION migrate.detail_for_reader(jsonb) IS
    'a history detail without the keys that can hold script text';

REVOKE ALL ON FUNCTION migrate.error_for_reader(jsonb), migrate.detail_for_reader(jsonb) FROM PUBLIC;
-- a view checks function privileges as its reader, so readers need this
GRANT EXECUTE ON FUNCTION migrate.error_for_reader(jsonb), migrate.detail_for_reader(jsonb)
    TO migrate_reader;

CREATE VIEW migrate.status AS
SELECT m.version,
       m.name,
       m.state,
       m.checksum,
       CASE WHEN m.applied_checksum IS NULL THEN NULL
            ELSE m.applied_checksum = m.checksum
                 AND m.applied_down_checksum IS NOT DISTINCT FROM m.down_checksum
       END AS checksum_ok,
       m.applied_at,
       m.applied_by,
       m.duration,
       m.dependencies,
       m.description,
       m.author,
       m.created,
       m.risk_level,
       m.zero_downtime,
       m.estimated_duration,
       m.environments,
       m.transactional,
       m.statements,
       m.down_script IS NOT NULL AS revertible,
       m.registered_at,
       -- the view runs as its owner, but current_user is the reader
       CASE WHEN pg_catalog.pg_has_role('migrate_admin', 'USAGE') THEN m.last_error
            ELSE migrate.error_for_reader(m.last_error)
       END AS last_error
FROM migrate.migration m
ORDER BY m.version_key;

CREATE VIEW migrate.history AS
SELECT e.id,
       e.action,
       e.version,
       e.name,
       e.role,
       e.started_at AS "time",
       e.duration,
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

REVOKE ALL ON migrate.status, migrate.history FROM PUBLIC;
GRANT SELECT ON migrate.status, migrate.history TO migrate_reader;

CREATE VIEW migrate.schedules AS
SELECT s.name, s.every, s.cron,
       CASE WHEN s.window_start IS NOT NULL
            THEN to_char(s.window_start, 'HH24:MI') || '-' || to_char(s.window_end, 'HH24:MI')
       END AS "window",
       s.timezone, s.target, s.environment, s.require_approval, s.enabled,
       coalesce(st.paused, false) AS paused, s.next_run_at, s.last_run_at, s.last_outcome,
       s.waiting_for, s.created_by
FROM migrate.schedule s LEFT JOIN migrate.scheduler_state st ON true
ORDER BY s.name;

CREATE FUNCTION migrate.progress_slots(
    OUT pid integer, OUT database oid, OUT role oid, OUT action text,
    OUT version text, OUT name text, OUT schedule text,
    OUT migration integer, OUT migrations integer,
    OUT statement integer, OUT statements integer, OUT statement_text text,
    OUT migration_started timestamptz, OUT statement_started timestamptz,
    OUT retries integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migrate_progress_slots'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.progress_slots() FROM PUBLIC;
-- a view checks function privileges as its reader, so readers need this
GRANT EXECUTE ON FUNCTION migrate.progress_slots() TO migrate_reader;

-- live progress of every session and worker applying or reverting now
CREATE VIEW migrate.progress AS
SELECT p.pid, d.datname AS database, r.rolname AS role, p.action, p.version,
       p.name, p.schedule, p.migration, p.migrations, p.statement, p.statements,
       p.statement_text, p.migration_started, p.statement_started, p.retries,
       a.state, a.wait_event_type, a.wait_event,
       pg_catalog.pg_blocking_pids(p.pid) AS blocked_by
FROM migrate.progress_slots() p
LEFT JOIN pg_catalog.pg_database d ON d.oid = p.database
LEFT JOIN pg_catalog.pg_roles r ON r.oid = p.role
LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid;

CREATE FUNCTION migrate.scheduler_info(OUT preloaded boolean, OUT launcher_pid integer,
                                       OUT scheduler_pid integer)
AS 'MODULE_PATHNAME', 'migrate_scheduler_info'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.scheduler_info() FROM PUBLIC;

-- one row for monitoring; cheap enough to poll every few seconds
CREATE FUNCTION migrate.health(
    OUT pending integer, OUT failed integer, OUT dirty integer,
    OUT last_apply_at timestamptz, OUT last_apply_outcome text,
    OUT lock_held boolean, OUT lock_holder_pid integer,
    OUT scheduler text, OUT scheduler_pid integer, OUT awaiting_approval integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    info record;
    is_paused boolean;
BEGIN
    SELECT count(*) FILTER (WHERE m.state IN ('pending', 'rolled_back')),
           count(*) FILTER (WHERE m.state = 'failed'),
           count(*) FILTER (WHERE m.state = 'dirty')
      INTO pending, failed, dirty
      FROM migrate.migration m;
    SELECT e.started_at, e.outcome INTO last_apply_at, last_apply_outcome
      FROM migrate.event e WHERE e.action = 'apply' ORDER BY e.id DESC LIMIT 1;
    -- the migrate lock is an object lock on this extension, objsubid 1
    -- (src/lock.c); a prepared transaction holds it with no pid
    SELECT true, l.pid INTO lock_held, lock_holder_pid
      FROM pg_locks l
     WHERE l.locktype = 'object' AND l.granted
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = 'pg_catalog.pg_extension'::regclass
       AND l.objid = (SELECT x.oid FROM pg_extension x WHERE x.extname = 'migrate')
       AND l.objsubid = 1
     ORDER BY l.pid NULLS LAST LIMIT 1;
    lock_held := coalesce(lock_held, false);
    info := migrate.scheduler_info();
    SELECT coalesce(bool_or(st.paused), false) INTO is_paused FROM migrate.scheduler_state st;
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
    SELECT count(*) INTO awaiting_approval FROM migrate.migration m
     WHERE m.state IN ('pending', 'rolled_back') AND m.approved_at IS NULL
       AND EXISTS (SELECT FROM migrate.schedule s WHERE s.enabled AND s.require_approval);
END
$$;
REVOKE ALL ON FUNCTION migrate.health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.health() TO migrate_reader;


/*
 * What is wrong with the database that a migration may have caused:
 * invalid indexes, constraints never validated (with the rows that break
 * unvalidated foreign keys), applied migrations whose script changed, and
 * failed or dirty migrations.  Reads with the caller's privileges; a table
 * it may not read is reported as not checked.
 *
 * The orphan check reads tables that any role may have created, and must
 * run none of their owners' code with the caller's rights: row_security is
 * off (a table whose policies would apply raises 42501 and is reported as
 * not checked), the comparison uses the constraint's own equality
 * operators (pg_constraint.conpfeqop, schema-qualified, as PostgreSQL's
 * own validation does), and a key whose operator or column types are not
 * built-in (a user-defined operator, or a type whose comparison or cast
 * may call user-defined functions) is reported as not checked too.
 */
CREATE FUNCTION migrate.verify_integrity(
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
        detail := format('Index %s on %s is INVALID: every write maintains it, no query uses it.',
                         r.idx, r.tbl);
        hint := format('DROP INDEX CONCURRENTLY %s; then build it again.', r.idx);
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
        object := r.tbl || '.' || quote_ident(r.conname);
        hint := format('ALTER TABLE %s VALIDATE CONSTRAINT %I;', r.tbl, r.conname);
        IF r.contype = 'f' THEN
            -- "p.key OPERATOR(ns.op) c.key" with the constraint's operator,
            -- each side cast to the operator's input type where it differs
            -- (not to a polymorphic one), as RI_Initial_Check writes it; and
            -- whether the operator or a column type is not built-in (an
            -- enum, or a domain over a built-in type or an enum, compares
            -- with built-in code only)
            SELECT string_agg(format('p.%I%s OPERATOR(%I.%s) c.%I%s',
                                     pa.attname,
                                     CASE WHEN pa.atttypid OPERATOR(pg_catalog.=) o.oprleft
                                               OR lt.typtype OPERATOR(pg_catalog.=) 'p' THEN ''
                                          ELSE '::' || format_type(o.oprleft, NULL) END,
                                     ons.nspname, o.oprname,
                                     ca.attname,
                                     CASE WHEN ca.atttypid OPERATOR(pg_catalog.=) o.oprright
                                               OR rt.typtype OPERATOR(pg_catalog.=) 'p' THEN ''
                                          ELSE '::' || format_type(o.oprright, NULL) END),
                              ' AND ' ORDER BY k.n),
                   string_agg(format('c.%I IS NOT NULL', ca.attname), ' AND ' ORDER BY k.n),
                   bool_or(o.oid IS NULL OR o.oid OPERATOR(pg_catalog.>=) 16384
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
              FROM unnest(r.conkey, r.confkey, r.conpfeqop) WITH ORDINALITY AS k(child, parent, op, n)
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
                detail := format('Foreign key %I was never validated, and its rows were not checked: '
                                 'it compares with a user-defined operator or type, whose code this '
                                 'check does not run with this role''s rights.', r.conname);
                RETURN NEXT;
                CONTINUE;
            END IF;
            BEGIN
                EXECUTE format('SELECT count(*) FROM ONLY %s c WHERE NOT EXISTS '
                               '(SELECT FROM ONLY %s p WHERE %s) AND %s',
                               r.conrelid::regclass, r.confrelid::regclass, conditions, not_null)
                    INTO orphans;
            EXCEPTION WHEN insufficient_privilege THEN
                severity := 'warning';
                check_name := 'not checked';
                IF EXISTS (SELECT FROM pg_class t
                           WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY[r.conrelid, r.confrelid])
                             AND t.relrowsecurity
                             AND has_table_privilege(t.oid, 'SELECT')) THEN
                    detail := format('Foreign key %I was never validated, and its rows were not checked: '
                                     '%s or %s has row-level security, whose policies this check does '
                                     'not run with this role''s rights.',
                                     r.conname, r.conrelid::regclass, r.confrelid::regclass);
                ELSE
                    detail := format('Foreign key %I was never validated, and this role may not read %s or %s.',
                                     r.conname, r.conrelid::regclass, r.confrelid::regclass);
                END IF;
                RETURN NEXT;
                CONTINUE;
            END;
            IF orphans > 0 THEN
                severity := 'error';
                check_name := 'orphaned rows';
                detail := format('%s row(s) of %s break foreign key %I, which was never validated.',
                                 orphans, r.tbl, r.conname);
                hint := 'Fix or delete them, then ' || hint;
            ELSE
                severity := 'warning';
                check_name := 'not valid constraint';
                detail := format('Foreign key %I was added NOT VALID and never validated; no row breaks it.',
                                 r.conname);
            END IF;
        ELSE
            severity := 'warning';
            check_name := 'not valid constraint';
            detail := format('Constraint %I was added NOT VALID and never validated.', r.conname);
        END IF;
        RETURN NEXT;
    END LOOP;

    FOR r IN
        SELECT s.version, s.name, s.state, s.checksum_ok, s.last_error->>'message' AS message
        FROM migrate.status s
        WHERE s.checksum_ok = false OR s.state IN ('failed', 'dirty')
    LOOP
        object := format('migration %s (%s)', r.version, r.name);
        IF r.checksum_ok = false THEN
            severity := 'error';
            check_name := 'checksum mismatch';
            detail := 'The registered script is not the one that was applied.';
            hint := format('If the change is intended, SELECT migrate.repair(%L);', r.version);
            RETURN NEXT;
        END IF;
        IF r.state = 'failed' THEN
            severity := 'error';
            check_name := 'failed migration';
            detail := format('Its last attempt failed: %s', r.message);
            hint := 'Fix the cause or the script, then apply again.';
            RETURN NEXT;
        ELSIF r.state = 'dirty' THEN
            severity := 'error';
            check_name := 'dirty migration';
            detail := format('It stopped part way outside a transaction: %s', coalesce(r.message, 'interrupted'));
            hint := format('Inspect it, then SELECT migrate.resolve(%L, ''retry'');', r.version);
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION migrate.verify_integrity() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.verify_integrity() TO migrate_reader;

CREATE FUNCTION migrate.require(version text) RETURNS void
AS 'MODULE_PATHNAME', 'migrate_require'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate.require(text) IS
    'raise an error unless the migration is applied (reads migrate.status as the caller)';

REVOKE ALL ON migrate.schedules, migrate.progress FROM PUBLIC;
GRANT SELECT ON migrate.schedules, migrate.progress TO migrate_reader;

-- tell the launcher (if preloaded) that this database has the extension now
SELECT migrate.wake();
