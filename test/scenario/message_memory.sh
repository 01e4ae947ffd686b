#!/usr/bin/env bash
# test/scenario/message_memory.sh: the run's error callback adds a CONTEXT
# line to every message a migration raises, NOTICEs included, and runs in
# ErrorContext, which only an ERROR resets.  What it formats must not stay
# there: a migration raising 20,000 NOTICEs (a DO block) leaves
# ErrorContext small (pg_backend_memory_contexts in the same session).
# Before the fix each NOTICE left its CONTEXT line and a copy of the
# statement behind (27 MB for 20,000).
#
# Needs a cluster with migrate preloaded (scripts/test.sh).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_msgmem
scenario_init message_memory "$DB"

sql "$DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.register('001', 'noisy', $$
DO $do$
BEGIN
    FOR i IN 1 .. 20000 LOOP
        RAISE NOTICE 'row % of a migration that talks a lot', i;
    END LOOP;
END
$do$;$$);
SQL

# the NOTICEs go to the client (and are thrown away here): a message that
# goes nowhere is not formatted at all, and would prove nothing
bytes="$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" \
           -c "SET client_min_messages = notice" \
           -c "SELECT count(*) FROM migrate.apply()" \
           -c "SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'ErrorContext'" \
           2>/dev/null | tail -n 1)"
note "ErrorContext after 20,000 NOTICEs in a migration: $bytes bytes"
# generous: a few blocks of the server's own; the leak was megabytes
if [ -n "$bytes" ] && [ "$bytes" -lt 1048576 ]; then
    pass "ErrorContext stays below 1 MB"
else
    fail "ErrorContext holds '$bytes' bytes after 20,000 NOTICEs"
fi
expect "the migration was applied" "$(val "$DB" -c "SELECT state FROM migrate.status WHERE version = '001'")" applied

scenario_finish
