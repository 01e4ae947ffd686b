-- test/pgtap/integrity.sql: verify_integrity() runs no table owner's code.
--
-- The orphan check of verify_integrity() reads tables that any role may
-- create.  A role with no migrate privilege at all (integ_owner) creates a
-- table with a NOT VALID foreign key and a row-level security policy that
-- calls its own function, and lets PUBLIC read it: a migrate_reader
-- (integ_reader) calling verify_integrity() must not run that function
-- (the table is reported as not checked), and must still find the rows
-- that break an unvalidated foreign key of an ordinary table, compared with
-- the constraint's own operators (across types, enums, several columns).
--
-- Everything is created inside the test transaction and rolled back.
--
-- Run with: pg_prove --ext .sql -v test/pgtap/

\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS migrate;
RESET client_min_messages;

BEGIN;
SELECT plan(8);

CREATE ROLE integ_owner;
CREATE ROLE integ_reader;
GRANT migrate_reader TO integ_reader;
CREATE SCHEMA integ AUTHORIZATION integ_owner;
GRANT USAGE ON SCHEMA integ TO PUBLIC;

SET ROLE integ_owner;
-- who ran the spy: anyone may write here, only integ_owner reads it back
CREATE TABLE integ.spied (who name NOT NULL);
GRANT INSERT ON integ.spied TO PUBLIC;
CREATE FUNCTION integ.m_spy() RETURNS boolean
LANGUAGE plpgsql VOLATILE AS
$$
BEGIN
    INSERT INTO integ.spied VALUES (current_user);
    RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION integ.m_spy() TO PUBLIC;
CREATE TABLE integ.m_parent (id int PRIMARY KEY);
CREATE TABLE integ.m_child (parent_id int);
INSERT INTO integ.m_child VALUES (1), (2);
ALTER TABLE integ.m_child ADD CONSTRAINT m_child_fk
    FOREIGN KEY (parent_id) REFERENCES integ.m_parent NOT VALID;
ALTER TABLE integ.m_child ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON integ.m_child USING (integ.m_spy());
GRANT SELECT ON integ.m_parent, integ.m_child TO PUBLIC;

-- ordinary tables with unvalidated foreign keys and real orphans: a
-- cross-type key (int4 referencing int8), an enum key, two text columns
CREATE TABLE integ.wide (id bigint PRIMARY KEY);
INSERT INTO integ.wide VALUES (1);
CREATE TABLE integ.narrow (wide_id int);
INSERT INTO integ.narrow VALUES (1), (7), (8), (NULL);
ALTER TABLE integ.narrow ADD CONSTRAINT narrow_fk
    FOREIGN KEY (wide_id) REFERENCES integ.wide NOT VALID;
CREATE TYPE integ.colour AS ENUM ('red', 'green');
CREATE TABLE integ.paint (c integ.colour PRIMARY KEY);
INSERT INTO integ.paint VALUES ('red');
CREATE TABLE integ.wall (c integ.colour);
INSERT INTO integ.wall VALUES ('red'), ('green');
ALTER TABLE integ.wall ADD CONSTRAINT wall_fk FOREIGN KEY (c) REFERENCES integ.paint NOT VALID;
CREATE TABLE integ.city (country text, name text, PRIMARY KEY (country, name));
INSERT INTO integ.city VALUES ('fr', 'Paris');
CREATE TABLE integ.visit (country text, city text);
INSERT INTO integ.visit VALUES ('fr', 'Paris'), ('fr', 'Lyon'), ('de', 'Paris'), ('de', NULL);
ALTER TABLE integ.visit ADD CONSTRAINT visit_fk
    FOREIGN KEY (country, city) REFERENCES integ.city NOT VALID;
GRANT SELECT ON integ.wide, integ.narrow, integ.paint, integ.wall, integ.city, integ.visit TO PUBLIC;
-- an equality of integ_owner's own for the cross-type key, which would
-- hide the orphans (and record its caller) if a caller's search_path
-- resolved it
CREATE FUNCTION integ.m_spy_eq(bigint, int) RETURNS boolean
LANGUAGE sql VOLATILE AS 'INSERT INTO integ.spied VALUES (current_user) RETURNING true';
CREATE FUNCTION integ.m_spy_eq(int, bigint) RETURNS boolean
LANGUAGE sql VOLATILE AS 'INSERT INTO integ.spied VALUES (current_user) RETURNING true';
CREATE OPERATOR integ.= (FUNCTION = integ.m_spy_eq, LEFTARG = bigint, RIGHTARG = int);
CREATE OPERATOR integ.= (FUNCTION = integ.m_spy_eq, LEFTARG = int, RIGHTARG = bigint);
RESET ROLE;

SET ROLE integ_reader;
SELECT results_eq($$SELECT severity, check_name FROM migrate.verify_integrity()
                    WHERE object = 'integ.m_child.m_child_fk'$$,
                  $$VALUES ('warning', 'not checked')$$,
                  'a table whose row-level security would apply is reported as not checked');
SELECT matches((SELECT detail FROM migrate.verify_integrity()
                WHERE object = 'integ.m_child.m_child_fk'),
               'row-level security',
               'the detail says why: row-level security');
SELECT is(current_setting('row_security'), 'on',
          'verify_integrity() leaves the caller''s row_security setting alone');
SELECT results_eq($$SELECT object, detail FROM migrate.verify_integrity()
                    WHERE check_name = 'orphaned rows' AND object LIKE 'integ.%' ORDER BY object$$,
                  $$VALUES ('integ.narrow.narrow_fk',
                            '2 row(s) of integ.narrow break foreign key narrow_fk, which was never validated.'),
                           ('integ.visit.visit_fk',
                            '2 row(s) of integ.visit break foreign key visit_fk, which was never validated.'),
                           ('integ.wall.wall_fk',
                            '1 row(s) of integ.wall break foreign key wall_fk, which was never validated.')$$,
                  'the reader still finds the orphans of ordinary tables (cross-type, enum, two columns)');
-- the caller's search_path plays no part: integ_owner's operators in a
-- schema ahead of pg_catalog are not used
SET search_path = integ, pg_catalog, public;
SELECT is((SELECT count(*)::int FROM migrate.verify_integrity()
           WHERE check_name = 'orphaned rows' AND object LIKE 'integ.%'), 3,
          'the same findings with the caller''s search_path changed');
RESET search_path;
RESET ROLE;

SELECT is((SELECT count(*)::int FROM integ.spied), 0,
          'the policy function of integ_owner never ran');

-- a superuser, whom no policy binds, gets the table checked, and still
-- runs no policy
SELECT results_eq($$SELECT severity, check_name FROM migrate.verify_integrity()
                    WHERE object = 'integ.m_child.m_child_fk'$$,
                  $$VALUES ('error', 'orphaned rows')$$,
                  'a superuser, whom row-level security does not bind, gets the orphans counted');
SELECT is((SELECT count(*)::int FROM integ.spied), 0,
          'still no run of the policy function');

SELECT * FROM finish();
ROLLBACK;
