-- Versions are compared naturally: runs of digits compare as numbers.
SELECT v FROM unnest(ARRAY['10', '2', '1', '001a', '1.10.0', '1.2.3', '1.9',
                           '20250528120000', '20240101000000', 'V2', 'V10',
                           'v1_alpha', '1.2', '1-rc'])
    AS v ORDER BY migrate.version_key(v), v;

SELECT migrate.version_cmp('2', '10') AS two_vs_ten,
       migrate.version_cmp('1.10', '1.9') AS minor,
       migrate.version_cmp('001', '1') AS leading_zeros,
       migrate.version_cmp('1', '1.0') AS prefix,
       migrate.version_cmp('20250528120000', '20250528120000') AS same;

-- numbers longer than any integer type still compare correctly
SELECT migrate.version_cmp('123456789012345678901234567890', '99999999999999999999') AS big;

-- invalid versions
SELECT migrate.version_key('');
SELECT migrate.version_key('1 2');
SELECT migrate.version_key('-1');
SELECT migrate.version_key('v1;drop');
SELECT migrate.version_key(repeat('1', 129));
SELECT length(migrate.version_key(repeat('1', 128))) > 0 AS longest_ok;
