-- resolve(v, 'retry') after the apply worker was killed (or the server
-- stopped) during a concurrent index build or drop: the resumed statement
-- finishes the job whatever state the kill left.  The kill is simulated:
-- the state it leaves is made by hand, and the migration marked dirty at
-- that statement as the worker had marked it before it died.
\set VERBOSITY terse
CREATE TABLE rs_t (x int);
INSERT INTO rs_t VALUES (1), (1), (2);
CREATE FUNCTION pg_temp.killed_at(v text, script text, statement int) RETURNS void
LANGUAGE sql AS $$
    UPDATE migrate.migration
    SET state = 'dirty', dirty_statement = statement, resume_statement = NULL,
        last_error = jsonb_build_object('script', script)
    WHERE version = v
$$;
CREATE FUNCTION pg_temp.indexes() RETURNS text
LANGUAGE sql AS $$
    SELECT coalesce(string_agg(c.relname || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END,
                               ', ' ORDER BY c.relname), 'none')
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'rs_t'::regclass
$$;

SELECT migrate.register('1', 'index', E'SELECT 1;\nCREATE INDEX CONCURRENTLY rs_t_x ON rs_t (x);',
                        'DROP INDEX CONCURRENTLY rs_t_x;');

-- killed during the build: its INVALID index is left (a failed unique
-- build leaves one the same way); the retry drops it and builds again
CREATE UNIQUE INDEX CONCURRENTLY rs_t_x ON rs_t (x);
SELECT pg_temp.indexes();
SELECT pg_temp.killed_at('1', 'up', 2);
SELECT * FROM migrate.apply();
SELECT migrate.resolve('1', 'retry');
SELECT version, state FROM migrate.apply();
SELECT pg_temp.indexes();

-- killed during the drop after the index was gone: the retry is done
DROP INDEX rs_t_x;
SELECT pg_temp.killed_at('1', 'down', 1);
SELECT migrate.resolve('1', 'retry');
SELECT version, state FROM migrate.revert();
SELECT pg_temp.indexes();

-- killed after the build finished, before its completion was recorded:
-- the index is valid, the statement is done
CREATE INDEX rs_t_x ON rs_t (x);
SELECT pg_temp.killed_at('1', 'up', 2);
SELECT migrate.resolve('1', 'retry');
SELECT version, state FROM migrate.apply();
SELECT pg_temp.indexes();

-- killed during the drop with the index marked INVALID: the drop runs again
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'rs_t_x'::regclass;
SELECT pg_temp.killed_at('1', 'down', 1);
SELECT migrate.resolve('1', 'retry');
SELECT version, state FROM migrate.revert();
SELECT pg_temp.indexes();

-- only the statement the migration resumes at is looked at: an index of
-- the same name made by hand is still refused when the build runs afresh
CREATE INDEX rs_t_x ON rs_t (x);
SELECT * FROM migrate.apply();
SELECT version, state, dirty_statement FROM migrate.migration;
SELECT migrate.resolve('1', 'mark_reverted');

SELECT action, version, outcome FROM migrate.history ORDER BY id;

-- a DROP INDEX CONCURRENTLY name of more than three parts is no relation
-- name: the retry runs the statement again, and the server says what is
-- wrong with it, in the migration's context
DROP INDEX rs_t_x;
SELECT migrate.register('2', 'bad name', E'SELECT 1;\nDROP INDEX CONCURRENTLY a.b.c.d;');
SELECT pg_temp.killed_at('2', 'up', 2);
SELECT migrate.resolve('2', 'retry');
SELECT version, state FROM migrate.apply();
SELECT version, state, dirty_statement, last_error->>'sqlstate' AS sqlstate,
       last_error->>'statement' AS statement
FROM migrate.migration WHERE version = '2';
DROP TABLE rs_t;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
