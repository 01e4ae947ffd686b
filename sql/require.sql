-- require(): an application's start-up check.
SET migrate.progress_level = 'debug1';  -- progress DETAIL holds timings
SELECT migrate.register('20250101', 'base', 'CREATE TABLE rq_base (id int);', 'DROP TABLE rq_base;');
SELECT migrate.register('20250102', 'later', 'SELECT 1;');
SELECT version FROM migrate.apply(target => '20250101');

SELECT migrate.require('20250101');
SELECT migrate.require('20250102');
SELECT migrate.require('20991231');
SELECT migrate.require('not a version');
SELECT migrate.require(NULL);
-- versions compare naturally here too
SELECT migrate.require('020250101');

-- it reads migrate.status with the caller's privileges
CREATE ROLE rq_app;
SET ROLE rq_app;
SELECT migrate.require('20250101');
RESET ROLE;
GRANT migrate_reader TO rq_app;
SET ROLE rq_app;
SELECT migrate.require('20250101');
RESET ROLE;
DROP ROLE rq_app;

DROP TABLE rq_base;
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
