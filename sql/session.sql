-- What a migration leaves in the caller's session: nothing.  Its SETs last
-- for that migration only, in apply(), revert(), dry runs, rehearsals and
-- the apply worker.  And apply()/revert() refuse a read-only transaction.
\set VERBOSITY terse

SET lock_timeout = '5s';
CREATE ROLE regress_se_role NOLOGIN;
-- migration 2 sees what migration 1 SET only if it leaked: with 1's
-- search_path it would try to create its table in pg_catalog; its verify
-- script SETs too
SELECT migrate.register('1', 'sets', $$
SET lock_timeout = '1s';
SET search_path = pg_catalog;
CREATE TABLE public.se_one (t text DEFAULT pg_catalog.current_setting('lock_timeout'));
SET ROLE regress_se_role;
$$, $$
SET lock_timeout = '2s';
DROP TABLE public.se_one;
$$);
SELECT migrate.register('2', 'sees', $$
CREATE TABLE se_two AS
SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('search_path') AS search_path,
       current_user = session_user AS as_caller;
$$, 'DROP TABLE se_two;', $$SET lock_timeout = '7s'; SELECT true$$);

SELECT version FROM migrate.apply();
SHOW lock_timeout;
SHOW search_path;
SELECT current_user = session_user AS as_caller;
SELECT * FROM se_two;
SELECT version FROM migrate.revert_all();
SHOW lock_timeout;

-- dry runs and rehearsals
SELECT version, regexp_replace(note, '[0-9a-f]{8} -> [0-9a-f]{8}', 'xxxxxxxx -> yyyyyyyy') AS note
FROM migrate.apply(dry_run => true);
SHOW lock_timeout;
SELECT version, ok, failed_step FROM migrate.rehearse();
SHOW lock_timeout;
SHOW search_path;

-- the apply worker: a non-transactional migration runs one transaction
-- per statement, so its SETs last across them; not into the next one
SELECT migrate.register('3', 'index', $$
SET lock_timeout = '3s';
SET search_path = pg_catalog;
CREATE INDEX CONCURRENTLY se_one_t ON public.se_one (t);
SET ROLE regress_se_role;
$$, $$
SET lock_timeout = '3s';
SET search_path = pg_catalog;
DROP INDEX CONCURRENTLY public.se_one_t;
$$);
SELECT migrate.register('4', 'sees too', $$
CREATE TABLE se_four AS
SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('search_path') AS search_path,
       current_user = session_user AS as_caller;
$$, 'DROP TABLE se_four;');
SELECT version FROM migrate.apply();
SELECT * FROM se_two;
-- the worker does not take the caller's lock_timeout, only its search_path
SELECT * FROM se_four;
SHOW lock_timeout;
SHOW search_path;

-- a read-only transaction: refused before anything starts (25006)
BEGIN READ ONLY;
SELECT * FROM migrate.apply();
ROLLBACK;
SET default_transaction_read_only = on;
SELECT * FROM migrate.revert();
RESET default_transaction_read_only;

-- a database whose default is read-only: a caller who runs read-write
-- gets an apply worker that runs read-write too
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database());
END
$$;
SELECT version, state FROM migrate.revert(target => '2');
SELECT version, state FROM migrate.apply();
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I RESET default_transaction_read_only', current_database());
END
$$;
SELECT action, version, outcome FROM migrate.history WHERE outcome <> 'success';

SELECT version FROM migrate.revert_all();
RESET lock_timeout;
DROP ROLE regress_se_role;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
