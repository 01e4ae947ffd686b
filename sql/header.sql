\set VERBOSITY terse
-- every key, parsed into typed values
SELECT jsonb_pretty(migrate.header($$-- Description: Add user preferences
-- Author: Jane Doe <jane@example.com>
-- Created: 2025-05-28
-- @dependencies: 20250101090000, 1.2.3
-- @risk-level: medium
-- @zero-downtime: true
-- @estimated-duration: 1 hour 30 minutes
-- @environments: development, staging
-- @transaction: true
CREATE TABLE prefs (id int);$$));

-- no header at all: every key is null
SELECT migrate.header('CREATE TABLE t (id int);');

-- free-text comments are allowed; keys are case-insensitive; plain keys
-- may carry "@"; blank lines and "---" comments are part of the header
SELECT migrate.header($$
--- Migration for the shop
-- This adds a table.  Note: nothing else.
-- @DESCRIPTION: Upper-case key
-- @Risk-Level: HIGH

-- @estimated-duration: 90s
CREATE TABLE t (id int);$$);

-- the header ends at the first SQL line: later comments are not keys
SELECT migrate.header($$-- @risk-level: low
CREATE TABLE t (id int);
-- @risk-level: nonsense
-- @not-a-key: x$$) ->> 'risk_level' AS risk_level;

-- duration units
SELECT d, migrate.header('-- @estimated-duration: ' || d || E'\nSELECT 1') ->> 'estimated_duration' AS parsed
FROM unnest(ARRAY['250 ms', '30 seconds', '30s', '5 min', '2h', '1 day', '1.5 hours', '1 hour, 30 minutes']) AS d;

-- malformed values name the line and the key
SELECT migrate.header(E'-- Description: x\n-- @risk-level: extreme\nSELECT 1');
SELECT migrate.header(E'-- @zero-downtime: maybe\nSELECT 1');
SELECT migrate.header(E'-- @transaction: nope\nSELECT 1');
SELECT migrate.header(E'-- Created: 2025-02-30\nSELECT 1');
SELECT migrate.header(E'-- Created: 28/05/2025\nSELECT 1');
SELECT migrate.header(E'-- @estimated-duration: soon\nSELECT 1');
SELECT migrate.header(E'-- @estimated-duration: 5 fortnights\nSELECT 1');
SELECT migrate.header(E'-- @estimated-duration:\nSELECT 1');
SELECT migrate.header(E'-- @dependencies: 1,,2\nSELECT 1');
SELECT migrate.header(E'-- @dependencies: 1, bad version\nSELECT 1');
SELECT migrate.header(E'-- @environments: dev,\nSELECT 1');
-- unknown "@" keys are errors, so that a typo cannot change behaviour
SELECT migrate.header(E'-- @risk_level: low\nSELECT 1');
SELECT migrate.header(E'-- @transactional: false\nSELECT 1');
-- an "@" key written without "@" would silently be a comment: refused
SELECT migrate.header(E'-- risk-level: high\nSELECT 1');
-- a leading byte-order mark is removed before the header is read
SELECT migrate.header(convert_from('\xefbbbf'::bytea, 'UTF8') || E'-- @risk-level: low\nSELECT 1') ->> 'risk_level' AS after_bom;
-- a key without a value, and a key given twice
SELECT migrate.header(E'-- @zero-downtime\nSELECT 1');
SELECT migrate.header(E'-- @risk-level: low\n-- @risk-level: high\nSELECT 1');
-- values are read by PostgreSQL's own parsers (date_in, interval_in,
-- SplitGUCList): a leap day is a date only in a leap year; a duration is
-- kept as days and time whatever its form, and one in months, or a
-- negative one, is refused; list items keep their case and may be
-- double-quoted; the date form does not depend on DateStyle
SELECT migrate.header(E'-- Created: 2024-02-29\nSELECT 1') ->> 'created' AS leap_day;
SELECT migrate.header(E'-- Created: 2023-02-29\nSELECT 1');
SELECT d, migrate.header('-- @estimated-duration: ' || d || E'\nSELECT 1') ->> 'estimated_duration' AS parsed
FROM unnest(ARRAY['36 hours', '1 day 2 hours', '01:30', 'P1DT2H', '2 hrs 15 mins']) AS d;
SELECT migrate.header(E'-- @estimated-duration: 1 month\nSELECT 1');
SELECT migrate.header(E'-- @estimated-duration: -5 min\nSELECT 1');
SELECT migrate.header(E'-- @environments: Staging, "eu, west", prod\n-- @dependencies: "001", 1.2\nSELECT 1') -> 'environments' AS environments;
SELECT migrate.header(E'-- @dependencies: "001", 1.2\nSELECT 1') -> 'dependencies' AS dependencies;
SELECT migrate.header(E'-- @dependencies: "bad version"\nSELECT 1');
SET DateStyle = 'SQL, DMY';
SELECT migrate.header(E'-- Created: 2025-05-28\nSELECT 1') ->> 'created' AS created_dmy;
SELECT migrate.header(E'-- Created: 28/05/2025\nSELECT 1');
RESET DateStyle;
