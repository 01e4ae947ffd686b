#!/usr/bin/env bash
# test/scenario/message_timing.sh: the closing message of a run says how
# long it took unless migrate.message_timing is off (the regress suite turns
# it off, so its expected output cannot show the time; this checks it).
#
#   1. apply() of two migrations: "applied 2 migrations in N ms";
#   2. the same through the apply worker (CREATE INDEX CONCURRENTLY):
#      "applied 1 migration in N ms", singular;
#   3. with migrate.message_timing = off (SET, or the database's setting)
#      revert_all() says "reverted 3 migrations", with no time.
#
# Needs a cluster with migrate preloaded (scripts/test.sh).
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_msgtime
scenario_init message_timing "$DB"

sql "$DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrate;
SELECT migrate.register('1', 'one', 'CREATE TABLE mt_t (x int);', 'DROP TABLE mt_t;');
SELECT migrate.register('2', 'two', 'ALTER TABLE mt_t ADD COLUMN y int;', 'ALTER TABLE mt_t DROP COLUMN y;');
SQL

# messages SQL...: what psql prints on stderr for the commands (the NOTICEs)
messages() {
    local args=() c
    for c in "$@"; do args+=(-c "$c"); done
    sql "$DB" "${args[@]}" 2>&1 >/dev/null
}

out="$(messages "SELECT count(*) FROM migrate.apply()")"
expect "default: migrate.message_timing is on" "$(val "$DB" -c "SHOW migrate.message_timing")" on
if printf '%s\n' "$out" | grep -Eq '^NOTICE:  applied 2 migrations in [0-9]+ ms$'; then
    pass "apply(): the closing message has the elapsed time"
else
    fail "apply(): no 'applied 2 migrations in N ms' in: $out"
fi

sql "$DB" -c "SELECT migrate.register('3', 'index', 'CREATE INDEX CONCURRENTLY mt_t_x ON mt_t (x);', 'DROP INDEX CONCURRENTLY mt_t_x;')" >/dev/null
out="$(messages "SELECT count(*) FROM migrate.apply()")"
if printf '%s\n' "$out" | grep -Eq '^NOTICE:  applied 1 migration in [0-9]+ ms$'; then
    pass "apply() through the apply worker: the closing message has the elapsed time"
else
    fail "worker path: no 'applied 1 migration in N ms' in: $out"
fi

out="$(messages "SET migrate.message_timing = off" "SELECT count(*) FROM migrate.revert(steps => 1)")"
expect "SET migrate.message_timing = off: no elapsed time" \
    "$(printf '%s\n' "$out" | grep -c '^NOTICE:  reverted 1 migration$')" 1

sql "$DB" -c "ALTER DATABASE $DB SET migrate.message_timing = off" >/dev/null
out="$(messages "SELECT count(*) FROM migrate.revert_all()")"
expect "the database's migrate.message_timing = off: no elapsed time" \
    "$(printf '%s\n' "$out" | grep -c '^NOTICE:  reverted 2 migrations$')" 1
if printf '%s\n' "$out" | grep -q ' ms$'; then
    fail "a message still has a time: $out"
else
    pass "no message has a time"
fi

scenario_finish
