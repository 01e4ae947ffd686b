-- migrate.cron_next: five-field cron expressions evaluated in a time zone.
-- Every "after" is a fixed timestamp, and the session zone is UTC, so the
-- output does not depend on when or where the test runs.
SET timezone = 'UTC';

-- the next n firing times, shown as local wall time (with the weekday)
-- in the expression's zone
CREATE FUNCTION pg_temp.fires(expr text, after timestamptz, n int,
                              tz text DEFAULT 'UTC')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz := after;
    result text[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        t := migrate.cron_next(expr, t, tz);
        result := result || to_char(t AT TIME ZONE tz, 'YYYY-MM-DD Dy HH24:MI');
    END LOOP;
    RETURN array_to_string(result, ', ');
END
$$;

-- every syntax form of a field; 2025-01-15 is a Wednesday
SELECT e AS expression, pg_temp.fires(e, '2025-01-15 10:17:30+00', 4) AS fires
FROM (VALUES ('* * * * *'),             -- every minute
             ('5 * * * *'),             -- a value
             ('5,20,45 * * * *'),       -- a list
             ('10-12 * * * *'),         -- a range
             ('*/20 * * * *'),          -- a step over the whole field
             ('10-40/15 * * * *'),      -- a step over a range
             ('50/4 * * * *'),          -- "a/n": from a to the end of the field
             ('1,3-4,55/2 * * * *'),    -- a list of all three
             ('05 09 * * *'),           -- leading zeros
             ('0 9-17/4 * * *'),        -- steps in the hour field
             ('30 8 1,15 * *'),         -- days of the month
             ('0 0 1 */5 *'),           -- every fifth month: jan, jun, nov
             ('0 12 * * 1-5'),          -- weekdays
             ('0 12 * * */3')           -- sun, wed, sat
     ) AS v(e);

-- fields are separated by any run of white space, leading and trailing
-- white space is ignored
SELECT migrate.cron_next(E'\t 30   9 *\t* *  \n', '2025-01-15 10:17:30+00');

-- "strictly after": an exact match is not the answer, a microsecond less is
SELECT migrate.cron_next('30 10 * * *', '2025-01-15 10:30:00+00') AS exact,
       migrate.cron_next('30 10 * * *', '2025-01-15 10:29:59.999999+00') AS just_before,
       migrate.cron_next('30 10 * * *', '2025-01-15 10:30:00.000001+00') AS just_after;

-- names of months and days, in any case, alone, in lists and in ranges,
-- and mixed with numbers
SELECT e AS expression, pg_temp.fires(e, '2025-01-15 10:17:30+00', 4) AS fires
FROM (VALUES ('0 9 * * MON'),
             ('0 9 * * mon-fri'),
             ('0 9 * * Sat,sun'),
             ('0 9 * * tue-thu/2'),
             ('0 9 * * 1-fri'),
             ('0 9 1 feb *'),
             ('0 9 1 JAN-mar,Oct *'),
             ('0 9 1 jun/3 *'),
             ('0 9 1 2-apr *')
     ) AS v(e);

-- Sunday is 0 or 7; 7 works in a range, and "a/n" starting at 7 starts
-- on Sunday
SELECT e AS expression, pg_temp.fires(e, '2025-01-15 10:17:30+00', 3) AS fires
FROM (VALUES ('0 0 * * 0'), ('0 0 * * 7'), ('0 0 * * sun'),
             ('0 0 * * 5-7'), ('0 0 * * 7/3')) AS v(e);

-- macros, in any case, with white space around them
SELECT e AS expression, pg_temp.fires(e, '2025-01-15 10:17:30+00', 3) AS fires
FROM (VALUES ('@yearly'), ('@annually'), ('@monthly'), ('@weekly'),
             ('@daily'), ('@midnight'), ('@hourly'), ('  @DAILY  '),
             ('@Weekly')) AS v(e);

-- day of month and day of week: when both are restricted a day matches
-- if EITHER matches (the 13th, and every Friday) ...
SELECT pg_temp.fires('0 0 13 * 5', '2025-07-01 00:00+00', 6);
SELECT pg_temp.fires('0 0 1,15 * mon', '2025-09-01 00:00+00', 6);
-- ... but when one field starts with "*", a day must match both; as in
-- Vixie cron, that includes "*" with a step: "*/2" with "5" is the odd
-- days that are Fridays, and "13" with "*/1" is just the 13th
SELECT pg_temp.fires('0 0 * * 5', '2025-07-01 00:00+00', 3);
SELECT pg_temp.fires('0 0 13 * *', '2025-07-01 00:00+00', 3);
SELECT pg_temp.fires('0 0 */2 * 5', '2025-07-01 00:00+00', 4);
SELECT pg_temp.fires('0 0 13 * */1', '2025-07-01 00:00+00', 3);
-- with the month field too: the 1st of January, April, July and October,
-- and every Monday in those months
SELECT pg_temp.fires('0 6 1 1,4,7,10 mon', '2025-03-15 00:00+00', 6);

-- rollover into the next hour, day, month and year
SELECT pg_temp.fires('58-59 * * * *', '2025-12-31 22:58:00+00', 4) AS hour_and_year;
SELECT pg_temp.fires('0 0 1 * *', '2025-11-15 00:00+00', 3) AS months;
SELECT pg_temp.fires('59 23 31 12 *', '2025-12-31 23:59:00+00', 2) AS exact_year_end;
-- the 31st only in months that have one
SELECT pg_temp.fires('0 0 31 * *', '2025-01-31 12:00+00', 4) AS thirty_first;
-- February 29: the next one after 2025 is in 2028, and 2100 is not a leap year
SELECT pg_temp.fires('0 0 29 2 *', '2025-01-01 00:00+00', 2) AS leap_day;
SELECT pg_temp.fires('0 0 29 2 *', '2096-03-01 00:00+00', 1) AS after_2096;

-- time zones: 02:00 in Berlin is midnight UTC in summer, 01:00 UTC in
-- winter; zone names are case-insensitive
SELECT tz, migrate.cron_next('0 2 * * *', '2025-06-10 12:00+00', tz) AS summer,
       migrate.cron_next('0 2 * * *', '2025-01-10 12:00+00', tz) AS winter
FROM (VALUES ('UTC'), ('Europe/Berlin'), ('europe/berlin'),
             ('America/New_York'), ('Asia/Kolkata'), ('Australia/Lord_Howe'),
             ('EST5EDT')) AS v(tz);
-- a weekly Sunday 02:00 job in Berlin and in UTC
SELECT migrate.cron_next('0 2 * * 0', '2025-06-10 12:00+00', 'Europe/Berlin') AS berlin,
       migrate.cron_next('0 2 * * 0', '2025-06-10 12:00+00', 'UTC') AS utc;
-- the default zone is UTC, whatever the session's
SET timezone = 'Asia/Tokyo';
SELECT migrate.cron_next('0 2 * * *', '2025-06-10 12:00+00') AT TIME ZONE 'UTC' AS utc_default;
SET timezone = 'UTC';
-- the day of week is the local one: Monday 00:30 in Tokyo is Sunday in UTC
SELECT migrate.cron_next('30 0 * * mon', '2025-06-10 12:00+00', 'Asia/Tokyo');

-- spring forward in Berlin, 2025-03-30: 02:00 CET jumps to 03:00 CEST.
-- 02:30 does not exist that day, so a daily 02:30 job skips it ...
SELECT pg_temp.fires('30 2 * * *', '2025-03-28 12:00+00', 3, 'Europe/Berlin') AS local,
       migrate.cron_next('30 2 * * *', '2025-03-29 12:00+00', 'Europe/Berlin') AS utc;
-- ... hourly and per-minute jobs go straight from 01:xx to 03:00
SELECT pg_temp.fires('0 * * * *', '2025-03-30 00:30+01', 3, 'Europe/Berlin') AS hourly;
SELECT pg_temp.fires('* * * * *', '2025-03-30 01:58+01', 3, 'Europe/Berlin') AS every_minute;
-- New York, 2025-03-09: 02:00 EST jumps to 03:00 EDT
SELECT pg_temp.fires('30 2 * * *', '2025-03-08 12:00+00', 2, 'America/New_York') AS new_york;

-- fall back in Berlin, 2025-10-26: 03:00 CEST goes back to 02:00 CET, so
-- 02:30 happens twice: at 00:30 and at 01:30 UTC.  It fires once, at the
-- first, and the next firing is the following day ...
SELECT migrate.cron_next('30 2 * * *', '2025-10-25 12:00+00', 'Europe/Berlin') AS first,
       migrate.cron_next('30 2 * * *', '2025-10-26 00:30+00', 'Europe/Berlin') AS next;
-- ... also when asked from between the two occurrences
SELECT migrate.cron_next('30 2 * * *', '2025-10-26 01:00+00', 'Europe/Berlin') AS from_between,
       migrate.cron_next('30 2 * * *', '2025-10-26 01:30+00', 'Europe/Berlin') AS from_second;
-- an hourly job fires at 02:00 CEST and then 03:00 CET, two hours apart,
-- because 02:00 CET repeats a time that has already fired
SELECT t AS utc, t AT TIME ZONE 'Europe/Berlin' AS berlin
FROM (SELECT migrate.cron_next('0 * * * *', a, 'Europe/Berlin') AS t
      FROM (VALUES ('2025-10-25 23:30+00'::timestamptz),
                   ('2025-10-26 00:00+00'), ('2025-10-26 00:59+00'),
                   ('2025-10-26 01:00+00'), ('2025-10-26 01:30+00')) AS v(a)) AS s;
-- every minute: after 02:59 CEST comes 03:00 CET, an hour later
SELECT migrate.cron_next('* * * * *', '2025-10-26 00:59+00', 'Europe/Berlin') AS every_minute;
-- New York, 2025-11-02: 01:30 EDT (05:30 UTC) then 01:30 EST (06:30 UTC)
SELECT a AS after, migrate.cron_next('30 1 * * *', a, 'America/New_York') AS next
FROM (VALUES ('2025-11-02 04:00+00'::timestamptz), ('2025-11-02 05:30+00'),
             ('2025-11-02 06:00+00')) AS v(a);
-- Lord Howe Island changes by half an hour
SELECT migrate.cron_next('45 1 * * *', '2025-04-05 12:00+00', 'Australia/Lord_Howe') AS first,
       migrate.cron_next('45 1 * * *', '2025-04-05 14:45+00', 'Australia/Lord_Howe') AS next;

-- Samoa skipped 2011-12-30 entirely when it crossed the date line
SELECT pg_temp.fires('0 12 * * *', '2011-12-29 00:00-10', 3, 'Pacific/Apia') AS apia;
-- before time zones, Amsterdam ran 19 minutes 32 seconds ahead of UTC
SELECT migrate.cron_next('0 12 * * *', '1890-06-01 00:00+00', 'Europe/Amsterdam') AS lmt;

-- null arguments give null (the function is strict)
SELECT migrate.cron_next(NULL, '2025-01-01 00:00+00') IS NULL AS null_expression,
       migrate.cron_next('* * * * *', NULL) IS NULL AS null_after,
       migrate.cron_next('* * * * *', '2025-01-01 00:00+00', NULL) IS NULL AS null_zone;

-- errors, each naming the field and the bad item
-- the number of fields
SELECT migrate.cron_next('', '2025-01-01 00:00+00');
SELECT migrate.cron_next('   ', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('0 0 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('0 0 0 * * * 2025', '2025-01-01 00:00+00');
-- values out of range, in each field and at both ends
SELECT migrate.cron_next('60 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* 24 * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * 0 * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * 32 * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * 0 *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * 13 *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * * 8', '2025-01-01 00:00+00');
SELECT migrate.cron_next('0-60 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('99999999999999 * * * *', '2025-01-01 00:00+00');
-- names: unknown, too long, or in a field without names
SELECT migrate.cron_next('* * * foo *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * * monday', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * * jan', '2025-01-01 00:00+00');
SELECT migrate.cron_next('jan * * * *', '2025-01-01 00:00+00');
-- empty list items
SELECT migrate.cron_next('1,,2 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next(',1 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * * 1,', '2025-01-01 00:00+00');
-- steps: zero, too large, missing, not a number
SELECT migrate.cron_next('*/0 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* */25 * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('*/ * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * * */x', '2025-01-01 00:00+00');
-- reversed ranges: ranges never wrap around
SELECT migrate.cron_next('* 22-2 * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * dec-jan *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * * fri-sun', '2025-01-01 00:00+00');
SELECT migrate.cron_next('* * * * 7-5', '2025-01-01 00:00+00');
-- trailing or misplaced characters
SELECT migrate.cron_next('5x * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('1-5-7 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('*/2/3 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('*-5 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('-5 * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('5- * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('? * * * *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('0 0 L * *', '2025-01-01 00:00+00');
-- macros: unknown, not supported, or not alone
SELECT migrate.cron_next('@weekdays', '2025-01-01 00:00+00');
SELECT migrate.cron_next('@reboot', '2025-01-01 00:00+00');
SELECT migrate.cron_next('@daily 5', '2025-01-01 00:00+00');
SELECT migrate.cron_next('@', '2025-01-01 00:00+00');
-- expressions that never fire
SELECT migrate.cron_next('0 0 30 2 *', '2025-01-01 00:00+00');
SELECT migrate.cron_next('0 0 31 4,6,9,11 *', '2025-01-01 00:00+00');
-- a time zone that does not exist
SELECT migrate.cron_next('* * * * *', '2025-01-01 00:00+00', 'Mars/Olympus_Mons');
SELECT migrate.cron_next('* * * * *', '2025-01-01 00:00+00', '');
-- the end of the timestamp range
SELECT migrate.cron_next('* * * * *', '294276-12-31 23:58:00+00') AS last_minute;
SELECT migrate.cron_next('* * * * *', '294276-12-31 23:59:00+00');
-- no "next" after infinity
SELECT migrate.cron_next('* * * * *', 'infinity');
SELECT migrate.cron_next('* * * * *', '-infinity');
-- a syntax error is reported before a bad zone
SELECT migrate.cron_next('61 * * * *', '2025-01-01 00:00+00', 'Mars/Olympus_Mons');
