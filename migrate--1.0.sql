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
    approved_by        name
);

COMMENT ON TABLE migrate.migration IS 'registered migrations, one row per version';

CREATE SEQUENCE migrate.event_id_seq;

CREATE TABLE migrate.event (
    id          bigint PRIMARY KEY DEFAULT pg_catalog.nextval('migrate.event_id_seq'),
    action      text NOT NULL
                CHECK (action IN ('register', 'apply', 'revert', 'repair')),
    version     text NOT NULL,
    name        text,
    outcome     text NOT NULL CHECK (outcome IN ('success', 'failure')),
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

CREATE FUNCTION migrate.cron_next(expression text,
                                  after timestamptz DEFAULT pg_catalog.now(),
                                  timezone text DEFAULT 'UTC')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'migrate_cron_next'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION migrate.cron_next(text, timestamptz, text) IS
    'next time after "after" at which a 5-field cron expression fires, in the given time zone';

/* ---------------------------------------------------------------------
 * Administration: migrate_admin only.
 * --------------------------------------------------------------------- */

CREATE FUNCTION migrate.register(version text, name text, up text,
                                 down text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_register'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate.apply(target text DEFAULT NULL)
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer)
AS 'MODULE_PATHNAME', 'migrate_apply'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate.revert(steps integer DEFAULT NULL,
                               target text DEFAULT NULL,
                               migration text DEFAULT NULL,
                               "cascade" boolean DEFAULT false)
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer)
AS 'MODULE_PATHNAME', 'migrate_revert'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate.revert_all()
RETURNS TABLE (version text, name text, action text, state text,
               duration interval, statements integer)
AS 'MODULE_PATHNAME', 'migrate_revert_all'
LANGUAGE C VOLATILE;

CREATE FUNCTION migrate.repair(version text, up text DEFAULT NULL,
                               down text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migrate_repair'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION migrate.register(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.apply(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.revert(integer, text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.revert_all() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.repair(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.register(text, text, text, text) TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.apply(text) TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.revert(integer, text, text, boolean) TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.revert_all() TO migrate_admin;
GRANT EXECUTE ON FUNCTION migrate.repair(text, text, text) TO migrate_admin;
REVOKE ALL ON FUNCTION migrate.event_is_append_only() FROM PUBLIC;

/* ---------------------------------------------------------------------
 * Views for monitoring and for applications: no script text.
 * --------------------------------------------------------------------- */

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
       m.last_error
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
       e.error,
       e.checksum,
       e.detail
FROM migrate.event e
ORDER BY e.id;

REVOKE ALL ON migrate.status, migrate.history FROM PUBLIC;
GRANT SELECT ON migrate.status, migrate.history TO migrate_reader;

CREATE FUNCTION migrate.require(version text) RETURNS void
AS 'MODULE_PATHNAME', 'migrate_require'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate.require(text) IS
    'raise an error unless the migration is applied (reads migrate.status as the caller)';
