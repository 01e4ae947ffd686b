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

-- ---------------------------------------------------------------------------
-- WP2 (issue 8, item 2): rehearse() says which statements it could not
-- rehearse.  A statement that cannot run inside a transaction block and has
-- no transactional form (VACUUM, REINDEX, CREATE DATABASE, ALTER SYSTEM, ...)
-- cannot be run by a rehearsal, which happens inside one; 1.0 skipped such
-- statements silently.  The new last column not_rehearsed lists them.  The
-- result type changes, so the function is dropped and created again with a
-- new C symbol (1.0's symbol keeps 1.0's seven columns), with 1.0's grants.
-- ---------------------------------------------------------------------------
DROP FUNCTION migrate.rehearse(text, text, boolean);
CREATE FUNCTION migrate.rehearse(from_version text DEFAULT NULL,
                                 to_version text DEFAULT NULL,
                                 data boolean DEFAULT false)
RETURNS TABLE (ordinal integer, version text, name text, ok boolean,
               failed_step text, differences jsonb, error text,
               not_rehearsed jsonb)
AS 'MODULE_PATHNAME', 'migrate_rehearse_1_1'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION migrate.rehearse(text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate.rehearse(text, text, boolean) TO migrate_admin;
COMMENT ON FUNCTION migrate.rehearse(text, text, boolean) IS
    'apply, revert and re-apply each pending migration inside a rolled-back subtransaction and compare the schema (and with data, table contents); not_rehearsed lists the statements it could not run and why';
