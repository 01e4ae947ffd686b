-- The extension as a whole: migrate.version() is the version the library
-- was built for (default_version of migrate.control), and a fresh install
-- is at that version; every object of the extension has a comment.

SELECT migrate.version() = (SELECT extversion FROM pg_extension WHERE extname = 'migrate')
       AS version_is_extversion;
SELECT migrate.version() ~ '^\d+\.\d+$' AS version_is_major_minor;

-- anybody may ask, like the other helpers that read no catalog
SELECT has_function_privilege('migrate_reader', 'migrate.version()', 'EXECUTE') AS reader,
       has_function_privilege('public', 'migrate.version()', 'EXECUTE') AS public;

-- objects of the extension without a comment (none: a new function, view,
-- table or sequence gets its COMMENT ON in the upgrade script that adds it)
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS uncommented
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrate')
  AND d.deptype = 'e'
  AND NOT EXISTS (SELECT FROM pg_description ds
                  WHERE ds.classoid = d.classid AND ds.objoid = d.objid
                    AND ds.objsubid = 0)
ORDER BY 1;

-- and the check sees every kind of member there is
SELECT DISTINCT (pg_identify_object(d.classid, d.objid, d.objsubid)).type AS member_kind
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrate')
  AND d.deptype = 'e'
ORDER BY 1;

-- schema_objects(), fingerprint() and table_data() pin search_path =
-- pg_catalog, which still looks up relations and types in pg_temp first:
-- they name the catalogs and types with their schema, so that a caller's
-- temporary tables cannot change what they report
CREATE TABLE extversion_t (id int PRIMARY KEY);
CREATE TEMP TABLE extversion_before AS
    SELECT migrate.fingerprint() AS fingerprint,
           (SELECT count(*) FROM migrate.schema_objects()) AS objects,
           (SELECT count(*) FROM migrate.table_data()) AS tables;
CREATE TEMP TABLE pg_namespace (oid oid, nspname name);
CREATE TEMP TABLE pg_class (oid oid, relname name, relnamespace oid, relkind "char");
CREATE TEMP TABLE text (t int);
SELECT migrate.fingerprint() = b.fingerprint AS same_fingerprint,
       (SELECT count(*) FROM migrate.schema_objects()) = b.objects AS same_objects,
       (SELECT count(*) FROM migrate.table_data()) = b.tables AS same_tables
FROM extversion_before b;
DROP TABLE pg_temp.pg_namespace, pg_temp.pg_class, pg_temp.text, extversion_before;
DROP TABLE extversion_t;
