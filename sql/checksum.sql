-- SHA-256 after normalisation: 64 lowercase hex digits
SELECT migrate.checksum('SELECT 1;') ~ '^[0-9a-f]{64}$' AS is_hex;
-- it is the plain SHA-256 of the normalised text
SELECT migrate.checksum('SELECT 1;') = encode(sha256('SELECT 1;'::bytea), 'hex') AS plain_sha256;
-- CRLF and LF give the same checksum
SELECT migrate.checksum(E'SELECT 1;\r\nSELECT 2;\r\n') = migrate.checksum(E'SELECT 1;\nSELECT 2;\n') AS crlf;
-- a leading byte-order mark is ignored
SELECT migrate.checksum(convert_from('\xefbbbf'::bytea, 'UTF8') || 'SELECT 1;') = migrate.checksum('SELECT 1;') AS bom;
-- a byte-order mark elsewhere, a lone CR, or any other edit is a change
SELECT migrate.checksum('SELECT 1;' || convert_from('\xefbbbf'::bytea, 'UTF8')) = migrate.checksum('SELECT 1;') AS bom_at_end;
SELECT migrate.checksum(E'SELECT 1;\r') = migrate.checksum(E'SELECT 1;\n') AS lone_cr;
SELECT migrate.checksum('SELECT 1;') = migrate.checksum('SELECT 1; ') AS trailing_space;
SELECT migrate.checksum('SELECT 1;') = migrate.checksum('select 1;') AS case_change;
