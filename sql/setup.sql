-- Installing the extension creates its schema, catalog, views, functions
-- and the two group roles.
CREATE EXTENSION migrate;

SELECT c.relname, c.relkind
FROM pg_class c
WHERE c.relnamespace = 'migrate'::regnamespace AND c.relkind IN ('r', 'v', 'S')
ORDER BY c.relname;

SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
FROM pg_proc p
WHERE p.pronamespace = 'migrate'::regnamespace
ORDER BY p.proname;

SELECT rolname, rolcanlogin FROM pg_roles
WHERE rolname IN ('migrate_admin', 'migrate_reader') ORDER BY rolname;

-- the catalog starts empty
SELECT count(*) FROM migrate.status;
SELECT count(*) FROM migrate.history;

-- the migrate.* prefix is reserved: a typo in a setting is refused
SET migrate.lock_timout = 10;
SHOW migrate.lock_timeout;
SHOW migrate.progress_level;

-- the closing message of a run says how long it took; the regress suite
-- leaves that out (as EXPLAIN (TIMING OFF) does) in every later session
-- of this database, so that the messages are the same from run to run
SHOW migrate.message_timing;
SELECT format('ALTER DATABASE %I SET migrate.message_timing = off', current_database()) \gexec
