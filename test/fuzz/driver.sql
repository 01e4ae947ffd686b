-- test/fuzz/driver.sql: a fuzzer for migrate's hand-written and parser-facing
-- entry points, run inside the server in PL/pgSQL.
--
-- Loaded into a scratch database that has the extension, by
-- test/scenario/fuzz.sh (which also loads test/fuzz/seeds.sql and runs the
-- rounds).  Objects live in schema migrate_fuzz:
--
--   run_round(budget_ms, seed, log)      one round: generate and run inputs
--                                        for budget_ms, deterministic given
--                                        seed (everything random comes from
--                                        random() after setseed)
--   tally                                inputs per function and SQLSTATE
--   finding                              XX000 errors and broken properties
--   slowest                              the slowest input per function
--
-- Targets and the properties checked besides "no crash, no XX000":
--   header(text)              result is jsonb (by its type)
--   statements(text)          statements are numbered 1..n, lines >= 1
--   version_key(text)         -
--   version_cmp(text, text)   cmp(a,a) = 0, cmp(a,b) = -cmp(b,a), and the
--                             sign agrees with comparing the version_key()s
--   cron_next(text, timestamptz, text)
--                             result > after; the next one after the result
--                             is later still
--
-- Inputs: random token soups in each function's alphabet (including odd
-- Unicode: text cannot hold invalid UTF-8 or NUL, so characters outside
-- ASCII take their place) and mutations of the seed corpus (migrate_fuzz.seed):
-- character flips, insertions, deletions, truncations, splices of two seeds,
-- repeated fragments, deep nesting and huge lengths.
--
-- Every call runs in its own BEGIN ... EXCEPTION block catching every error
-- (WHEN OTHERS), so an input can end the round only by crashing the backend,
-- which the caller sees as a lost connection, or by running past the
-- caller's statement_timeout (query_canceled is not caught, so that a hang
-- stops the round instead of being counted).

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS migrate_fuzz CASCADE;
CREATE SCHEMA migrate_fuzz;
SET search_path = migrate_fuzz, pg_catalog;

CREATE TABLE seed (fn text NOT NULL, input text NOT NULL);
CREATE TABLE tally (fn text, sqlstate text, n bigint NOT NULL,
                    PRIMARY KEY (fn, sqlstate));
CREATE TABLE finding (fn text, sqlstate text, message text, seed float8,
                      input text, input2 text, at timestamptz DEFAULT now());
CREATE TABLE slowest (fn text PRIMARY KEY, ms float8, len integer, input text,
                      seed float8);

-- a random integer in [0, n)
CREATE FUNCTION rnd(n integer) RETURNS integer LANGUAGE sql AS
$body$ SELECT pg_catalog.floor(pg_catalog.random() * n)::integer $body$;

CREATE FUNCTION pick(a text[]) RETURNS text LANGUAGE sql AS
$body$ SELECT a[1 + migrate_fuzz.rnd(pg_catalog.cardinality(a))] $body$;

-- characters that are not ASCII: byte-level code that treats a signed char
-- as an index or calls isdigit() on it is what these are for
CREATE FUNCTION odd_char() RETURNS text LANGUAGE sql AS $body$
SELECT migrate_fuzz.pick(ARRAY[
    U&'\FEFF', U&'\00A0', U&'\2028', U&'\2029', U&'\0301', U&'\202E',
    U&'\FFFD', U&'\FF11', U&'\0663', U&'\00B2', U&'\00E9', U&'\00FF',
    U&'\0080', U&'\07FF', U&'\0800', U&'\FFFF', U&'\+01F600', U&'\+10FFFF',
    U&'\+01D7D9', U&'\2003', U&'\3000', U&'\0130', U&'\0131', U&'\1E9E',
    U&'\FF0D', U&'\2212', U&'\FE6B', U&'\FF20', U&'\FF1A', U&'\02BC',
    U&'\0001', U&'\0007', U&'\001B', U&'\007F', U&'\000B', U&'\000C'])
$body$;

-- one random character: mostly ASCII that means something to a parser
CREATE FUNCTION rand_char() RETURNS text LANGUAGE plpgsql AS $body$
DECLARE
    r integer := migrate_fuzz.rnd(100);
BEGIN
    IF r < 10 THEN
        RETURN migrate_fuzz.odd_char();
    ELSIF r < 45 THEN
        RETURN substr(E'-*/$''";:@,.()[]{}\\ \t\n\r\n#=<>+!?%^&|~`_E', 1 + migrate_fuzz.rnd(45), 1);
    ELSIF r < 70 THEN
        RETURN chr(48 + migrate_fuzz.rnd(10));
    ELSE
        RETURN chr(32 + migrate_fuzz.rnd(95));
    END IF;
END $body$;

CREATE FUNCTION rand_chars(n integer) RETURNS text LANGUAGE plpgsql AS $body$
DECLARE
    s text := '';
BEGIN
    FOR i IN 1 .. n LOOP
        s := s || migrate_fuzz.rand_char();
    END LOOP;
    RETURN s;
END $body$;

-- tokens of each target's language, for token soups and insertions
CREATE FUNCTION tokens(fn text) RETURNS text[] LANGUAGE sql AS $body$
SELECT CASE fn
    WHEN 'header' THEN ARRAY[
        '-- ', '--', '---', E'\n', E'\r\n', ' ', ':', ',', '@', '-- @',
        'Description', 'Author', 'Created', '@description', '@author',
        '@created', '@dependencies', '@risk-level', '@zero-downtime',
        '@estimated-duration', '@environments', '@transaction', '@rollback',
        'dependencies', 'risk-level', 'transaction', 'low', 'medium', 'high',
        'true', 'false', 'yes', 'no', 'on', 'off', '1', '0', 't', 'of',
        '2025-01-03', '2024-02-29', '2023-02-29', '9999-12-31', '0000-00-00',
        '30 seconds', '500 ms', '2.5h', '1h30m', '1 min, 15 s', '36h',
        '99999999999999999999 days', '1e308 s', '.5 s', '0.0000001 ms',
        'development', 'staging', 'production', '001', '20250101090000',
        '1.2.3', 'a,,b', 'v1, v2', '/*', '*/', 'SELECT 1;', 'CREATE TABLE t ();']
    WHEN 'statements' THEN ARRAY[
        ';', ' ', E'\n', '--', '/*', '*/', '$$', '$fn$', '$a$', '''', '"',
        'E''', '\''', 'U&''', 'B''', 'X''', '(', ')', '[', ']', ',', '.', '::',
        'BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT s', 'RELEASE s',
        'START TRANSACTION', 'BEGIN ISOLATION LEVEL SERIALIZABLE',
        'COMMIT AND CHAIN', 'PREPARE TRANSACTION ''x''', 'BEGIN ATOMIC',
        'COPY t FROM STDIN', 'COPY t TO STDOUT', 'COPY t FROM ''/tmp/x''',
        'CREATE INDEX CONCURRENTLY i ON t (x)', 'DROP INDEX CONCURRENTLY i',
        'REINDEX INDEX CONCURRENTLY i', 'VACUUM', 'VACUUM FULL t',
        'CREATE DATABASE d', 'ALTER SYSTEM SET x = 1', 'CALL p()',
        'CREATE TABLE t (x int)', 'SELECT 1', 'INSERT INTO t VALUES (1)',
        'DO $$ BEGIN NULL; END $$', 'CREATE FUNCTION f() RETURNS int',
        'LANGUAGE sql', 'AS', 'RETURN 1', 'EXPLAIN', 'WITH x AS (', 'SET x = 1',
        'ALTER TYPE e ADD VALUE ''v''', 'CREATE TYPE e AS ENUM', 'LISTEN c',
        'DISCARD ALL', 'CHECKPOINT', '\copy', '\i', 'GRANT', 'SET ROLE r']
    WHEN 'version' THEN ARRAY[
        '0', '1', '9', '00', '001', '010', '10', '99', '0000000000',
        '18446744073709551616', '.', '_', '-', 'a', 'z', 'A', 'Z', 'v', 'rc',
        '20250101090000', '1.2.3', '1.10', '1.9', U&'\00E9', ' ', '/', '+']
    ELSE ARRAY[
        ' ', ' ', E'\t', '*', '/', '-', ',', '0', '1', '5', '7', '12', '13',
        '23', '24', '31', '32', '59', '60', '99', '4294967296', '-1',
        'jan', 'feb', 'dec', 'JAN', 'sun', 'mon', 'fri', 'sat', 'SUN', 'foo',
        '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight',
        '@hourly', '@reboot', '@', '?', 'L', 'W', '#']
    END
$body$;

CREATE FUNCTION token_soup(fn text, n integer) RETURNS text LANGUAGE plpgsql AS $body$
DECLARE
    t text[] := migrate_fuzz.tokens(fn);
    s text := '';
BEGIN
    FOR i IN 1 .. n LOOP
        IF migrate_fuzz.rnd(8) = 0 THEN
            s := s || migrate_fuzz.rand_char();
        ELSE
            s := s || migrate_fuzz.pick(t);
        END IF;
    END LOOP;
    RETURN s;
END $body$;

CREATE FUNCTION any_seed(fn text) RETURNS text LANGUAGE sql AS $body$
SELECT input FROM migrate_fuzz.seed WHERE seed.fn = any_seed.fn
ORDER BY input OFFSET migrate_fuzz.rnd(
    (SELECT count(*)::integer FROM migrate_fuzz.seed s WHERE s.fn = any_seed.fn))
LIMIT 1
$body$;

-- one mutation of s; max_len bounds the "huge" ones
CREATE FUNCTION mutate(fn text, s text, max_len integer) RETURNS text
LANGUAGE plpgsql AS $body$
DECLARE
    len integer := length(s);
    pos integer := 1 + migrate_fuzz.rnd(len + 1);
    n integer;
    frag text;
BEGIN
    CASE migrate_fuzz.rnd(13)
    WHEN 0 THEN     -- flip one character
        RETURN overlay(s PLACING migrate_fuzz.rand_char() FROM pos FOR 1);
    WHEN 1 THEN     -- insert random characters
        RETURN overlay(s PLACING migrate_fuzz.rand_chars(1 + migrate_fuzz.rnd(8)) FROM pos FOR 0);
    WHEN 2 THEN     -- delete a range
        RETURN overlay(s PLACING '' FROM pos FOR 1 + migrate_fuzz.rnd(16));
    WHEN 3 THEN     -- truncate
        RETURN left(s, pos - 1);
    WHEN 4 THEN     -- splice with another seed
        frag := coalesce(migrate_fuzz.any_seed(fn), '');
        RETURN left(s, pos - 1) || substr(frag, 1 + migrate_fuzz.rnd(length(frag) + 1));
    WHEN 5 THEN     -- repeat a fragment in place
        frag := substr(s, pos, 1 + migrate_fuzz.rnd(12));
        RETURN overlay(s PLACING repeat(frag, 2 + migrate_fuzz.rnd(20)) FROM pos FOR 0);
    WHEN 6 THEN     -- repeat the whole input
        RETURN repeat(s, 2 + migrate_fuzz.rnd(4));
    WHEN 7 THEN     -- huge: a fragment repeated up to max_len characters
        frag := coalesce(nullif(substr(s, pos, 1 + migrate_fuzz.rnd(40)), ''),
                         migrate_fuzz.pick(migrate_fuzz.tokens(fn)));
        n := greatest(1, (1 + migrate_fuzz.rnd(max_len)) / greatest(length(frag), 1));
        RETURN overlay(s PLACING repeat(frag, n) FROM pos FOR 0);
    WHEN 8 THEN     -- insert a token of the language
        RETURN overlay(s PLACING migrate_fuzz.pick(migrate_fuzz.tokens(fn)) FROM pos FOR 0);
    WHEN 9 THEN     -- deep nesting or long runs of an opener
        frag := migrate_fuzz.pick(ARRAY['/*', '(', '$$', '''', '"', '--', '@',
                                        '0', '9', ',', ' ', '-', '*/', 'BEGIN ']);
        RETURN overlay(s PLACING repeat(frag, 1 + migrate_fuzz.rnd(least(max_len / 2, 5000)))
                       FROM pos FOR 0);
    WHEN 10 THEN    -- a number that overflows everything
        RETURN overlay(s PLACING migrate_fuzz.pick(ARRAY['2147483648', '-2147483649',
                       '9223372036854775808', '1e400', '-0', '00000000000000000000001',
                       repeat('9', 40), '0x10', '1_000'])
                       FROM pos FOR 0);
    WHEN 11 THEN    -- change letter case
        RETURN CASE migrate_fuzz.rnd(2) WHEN 0 THEN upper(s) ELSE lower(s) END;
    ELSE            -- an odd character somewhere
        RETURN overlay(s PLACING migrate_fuzz.odd_char() FROM pos FOR migrate_fuzz.rnd(2));
    END CASE;
END $body$;

-- an input for target fn ('header', 'statements', 'version', 'cron')
CREATE FUNCTION gen(fn text, max_len integer) RETURNS text LANGUAGE plpgsql AS $body$
DECLARE
    s text;
    r integer := migrate_fuzz.rnd(100);
BEGIN
    IF r < 8 THEN
        s := migrate_fuzz.rand_chars(migrate_fuzz.rnd(64));
    ELSIF r < 25 THEN
        s := migrate_fuzz.token_soup(fn, 1 + migrate_fuzz.rnd(30));
    ELSE
        s := coalesce(migrate_fuzz.any_seed(fn), '');
        -- 5 % of seeds run as they are (20 % of cron expressions, whose
        -- short grammar most mutations break)
        IF r >= (CASE fn WHEN 'cron' THEN 45 ELSE 30 END) THEN
            FOR i IN 1 .. 1 + migrate_fuzz.rnd(CASE fn WHEN 'cron' THEN 2 ELSE 4 END) LOOP
                s := migrate_fuzz.mutate(fn, s, max_len);
            END LOOP;
        END IF;
    END IF;
    RETURN left(s, max_len);
END $body$;

CREATE FUNCTION rand_after() RETURNS timestamptz LANGUAGE sql AS $body$
SELECT CASE migrate_fuzz.rnd(12)
    WHEN 0 THEN 'infinity'::timestamptz
    WHEN 1 THEN '-infinity'::timestamptz
    WHEN 2 THEN '4713-01-01 00:00:00+00 BC'::timestamptz
    WHEN 3 THEN '294276-12-31 23:59:59+00'::timestamptz
    WHEN 4 THEN '294270-01-01 00:00:00+00'::timestamptz
    WHEN 5 THEN timestamptz '2026-03-29 00:59:59.999999+00'
                + pg_catalog.make_interval(mins => migrate_fuzz.rnd(180) - 90)
    WHEN 6 THEN timestamptz '2026-11-01 05:30:00+00'
                + pg_catalog.make_interval(mins => migrate_fuzz.rnd(180) - 90)
    ELSE timestamptz '1900-01-01 00:00:00+00'
         + pg_catalog.make_interval(secs => pg_catalog.random() * 300 * 365.25 * 86400)
    END
$body$;

CREATE FUNCTION rand_zone() RETURNS text LANGUAGE sql AS $body$
SELECT migrate_fuzz.pick(ARRAY[
    'UTC', 'UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe',
    'Pacific/Chatham', 'Asia/Kathmandu', 'America/St_Johns', 'Pacific/Apia',
    'Africa/Casablanca', 'Antarctica/Troll', 'EST5EDT', 'PST8PDT',
    'EST5EDT,M3.2.0,M11.1.0', '<+0545>-5:45', 'XXX-13:59', 'UTC+14', '+25:00',
    '-12', 'Z', 'EST', 'CEST', 'MSK', 'posix/Europe/Paris', 'localtime',
    'Etc/GMT+12', 'Etc/GMT-14', '', ' ', 'Nowhere/City', '../../etc/passwd',
    '/etc/localtime', repeat('A', 300), 'Europe/Berlin' || U&'\00E9',
    migrate_fuzz.rand_chars(migrate_fuzz.rnd(12))])
$body$;

-- a version-like string: tokens, sometimes mutated
CREATE FUNCTION rand_version() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
    IF migrate_fuzz.rnd(4) = 0 THEN
        RETURN migrate_fuzz.gen('version', 200);
    END IF;
    RETURN migrate_fuzz.token_soup('version', 1 + migrate_fuzz.rnd(8));
END $body$;

/*
 * One round: run generated inputs against the four targets for budget_ms,
 * starting from setseed(seed).  With log_inputs every input is written to
 * the server log (LOG) before its call, so that a crash can be traced to
 * the input that caused it.  Returns the number of inputs run.
 */
CREATE FUNCTION run_round(budget_ms integer, seed float8, log_inputs boolean DEFAULT false,
                      max_len integer DEFAULT 65536)
RETURNS bigint LANGUAGE plpgsql AS $body$
DECLARE
    deadline timestamptz := clock_timestamp() + make_interval(secs => budget_ms / 1000.0);
    fns text[] := ARRAY[]::text[];
    states text[] := ARRAY[]::text[];
    counts bigint[] := ARRAY[]::bigint[];
    slow_ms float8[] := ARRAY[0, 0, 0, 0, 0];
    slow_in text[] := ARRAY[NULL, NULL, NULL, NULL, NULL]::text[];
    targets CONSTANT text[] := ARRAY['header', 'statements', 'version_key',
                                     'version_cmp', 'cron_next'];
    total bigint := 0;
    t integer;
    fn text;
    a text;
    b text;
    zone text;
    after timestamptz;
    st text;
    msg text;
    started timestamptz;
    elapsed float8;
    i integer;
    k1 bytea;
    k2 bytea;
    c1 integer;
    c2 integer;
    c0 integer;
    n integer;
    nmax integer;
    badline boolean;
    nxt timestamptz;
    nxt2 timestamptz;
    problem text;
BEGIN
    PERFORM setseed(seed);
    WHILE clock_timestamp() < deadline LOOP
        -- weights: statements and header are the biggest parsers
        t := migrate_fuzz.rnd(100);
        t := CASE WHEN t < 30 THEN 1 WHEN t < 60 THEN 2 WHEN t < 72 THEN 3
                  WHEN t < 80 THEN 4 ELSE 5 END;
        fn := targets[t];
        b := NULL;
        zone := NULL;
        after := NULL;
        CASE fn
        WHEN 'header' THEN a := migrate_fuzz.gen('header', max_len);
        WHEN 'statements' THEN a := migrate_fuzz.gen('statements', max_len);
        WHEN 'version_key' THEN a := migrate_fuzz.rand_version();
        WHEN 'version_cmp' THEN
            a := migrate_fuzz.rand_version();
            b := CASE migrate_fuzz.rnd(3) WHEN 0 THEN a
                 WHEN 1 THEN migrate_fuzz.mutate('version', a, 200)
                 ELSE migrate_fuzz.rand_version() END;
        ELSE
            a := migrate_fuzz.gen('cron', 4096);
            after := migrate_fuzz.rand_after();
            zone := migrate_fuzz.rand_zone();
        END CASE;
        IF log_inputs THEN
            RAISE LOG 'migrate fuzz input % (%): a=% b=% after=% zone=%', total + 1, fn,
                quote_nullable(a), quote_nullable(b), after, quote_nullable(zone);
        END IF;
        st := 'ok';
        problem := NULL;
        started := clock_timestamp();
        BEGIN
            CASE fn
            WHEN 'header' THEN
                PERFORM migrate.header(a);
            WHEN 'statements' THEN
                SELECT count(*), coalesce(max(s.statement), 0), coalesce(bool_or(s.line < 1), false)
                  INTO n, nmax, badline
                  FROM migrate.statements(a) AS s;
                IF n <> nmax OR badline THEN
                    problem := format('statements numbered 1..%s expected, max %s, a line < 1: %s',
                                      n, nmax, badline);
                END IF;
            WHEN 'version_key' THEN
                PERFORM migrate.version_key(a);
            WHEN 'version_cmp' THEN
                c1 := migrate.version_cmp(a, b);
                c2 := migrate.version_cmp(b, a);
                c0 := migrate.version_cmp(a, a);
                k1 := migrate.version_key(a);
                k2 := migrate.version_key(b);
                IF c0 <> 0 OR c1 <> -c2
                   OR c1 <> (CASE WHEN k1 < k2 THEN -1 WHEN k1 > k2 THEN 1 ELSE 0 END) THEN
                    problem := format('version_cmp(a,b) = %s, (b,a) = %s, (a,a) = %s, keys %s %s',
                                      c1, c2, c0, k1, k2);
                END IF;
            ELSE
                nxt := migrate.cron_next(a, after, zone);
                IF nxt IS NOT NULL AND NOT nxt > after THEN
                    problem := format('cron_next returned %s, not after %s', nxt, after);
                ELSIF nxt IS NOT NULL AND nxt < 'infinity' THEN
                    nxt2 := migrate.cron_next(a, nxt, zone);
                    IF nxt2 IS NOT NULL AND NOT nxt2 > nxt THEN
                        problem := format('cron_next after %s returned %s', nxt, nxt2);
                    END IF;
                END IF;
            END CASE;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            IF st = 'XX000' THEN
                INSERT INTO migrate_fuzz.finding (fn, sqlstate, message, seed, input, input2)
                VALUES (fn, st, msg || coalesce(' (after ' || after || ', zone ' || zone || ')', ''),
                        seed, a, b);
            END IF;
        END;
        elapsed := extract(epoch FROM clock_timestamp() - started) * 1000;
        IF problem IS NOT NULL THEN
            st := 'PROPERTY';
            INSERT INTO migrate_fuzz.finding (fn, sqlstate, message, seed, input, input2)
            VALUES (fn, st, problem, seed, a, coalesce(b, zone));
        END IF;
        IF elapsed > slow_ms[t] THEN
            slow_ms[t] := elapsed;
            slow_in[t] := a;
        END IF;
        -- tally (fn, st); a handful of distinct pairs, so a linear search
        i := NULL;
        FOR j IN 1 .. coalesce(array_length(fns, 1), 0) LOOP
            IF fns[j] = fn AND states[j] = st THEN
                i := j;
                EXIT;
            END IF;
        END LOOP;
        IF i IS NULL THEN
            fns := fns || fn;
            states := states || st;
            counts := counts || 1::bigint;
        ELSE
            counts[i] := counts[i] + 1;
        END IF;
        total := total + 1;
    END LOOP;

    INSERT INTO migrate_fuzz.tally AS x (fn, sqlstate, n)
    SELECT * FROM unnest(fns, states, counts)
    ON CONFLICT ON CONSTRAINT tally_pkey DO UPDATE SET n = x.n + excluded.n;
    FOR j IN 1 .. 5 LOOP
        IF slow_in[j] IS NOT NULL THEN
            INSERT INTO migrate_fuzz.slowest AS x (fn, ms, len, input, seed)
            VALUES (targets[j], slow_ms[j], length(slow_in[j]), slow_in[j], run_round.seed)
            ON CONFLICT ON CONSTRAINT slowest_pkey DO UPDATE SET ms = excluded.ms, len = excluded.len,
                input = excluded.input, seed = excluded.seed
            WHERE excluded.ms > x.ms;
        END IF;
    END LOOP;
    RETURN total;
END $body$;
