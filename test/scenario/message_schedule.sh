#!/usr/bin/env bash
# test/scenario/message_schedule.sh: what a scheduled run says in the
# server log with migrate.progress_level = log.  Each migration of a
# scheduled run runs in a worker of its own and nobody waits for a
# closing summary, so the log says after each migration that it
# completed ("applied 1 of 2: 001 ms_one in N ms"); the "applying" line
# before it carries no CONTEXT line repeating the migration's name.
#
# Needs a cluster with migrate preloaded (scripts/test.sh: naptime 1), and
# its server log in $PGHOST/log (scripts/lib.sh); without it, it says so.
# shellcheck disable=SC2317  # helpers are called through wait_until
set -euo pipefail

# shellcheck source=test/scenario/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
DB=migrate_msgsched
scenario_init message_schedule "$DB"
require_preload
T=$(( 30 + 5 * NAPTIME ))
LOG="${PGHOST:-}/log"
# only what the log gets from here on counts (a run before this one may
# have logged the same names)
LOG_START=0
[ ! -r "$LOG" ] || LOG_START="$(stat -c %s "$LOG")"
new_log() { tail -c +$((LOG_START + 1)) "$LOG"; }

sql "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migrate;
ALTER DATABASE $DB SET migrate.progress_level = log;
SELECT migrate.register('001', 'ms_one', 'CREATE TABLE ms_one (id int);');
SELECT migrate.register('002', 'ms_two', 'CREATE TABLE ms_two (id int);');
SQL
sql "$DB" -c "SET client_min_messages = warning" \
    -c "SELECT migrate.schedule('ms', every => '1 second', require_approval => false)" >/dev/null
scenario_on_exit "val $DB -c \"SELECT migrate.unschedule('ms')\" >/dev/null 2>&1 || true"

if wait_value "$T" 2 "$DB" "SELECT count(*) FROM migrate.migration WHERE state = 'applied'"; then
    pass "the schedule applied both migrations"
else
    fail "the schedule did not apply both within ${T}s ($WAIT_LAST applied)"
fi

if [ ! -r "$LOG" ]; then
    note "no readable server log at $LOG: the log lines are not checked"
    scenario_finish
fi

# log lines of the two workers: "<time> [<pid>] <appname> LEVEL:  text"
has_log() { new_log | grep -Eq "$1"; }
for k in 1 2; do
    v="00$k"; name=$([ "$k" = 1 ] && echo ms_one || echo ms_two)
    if wait_until 10 has_log "LOG:  applied $k of [0-9]+: $v $name in [0-9]+ ms$"; then
        pass "the log says $v completed (applied $k of n ... in N ms)"
    else
        fail "no 'applied $k of n: $v $name in N ms' line in the server log"
    fi
    # the line after "applying" must not be a CONTEXT line of the run
    after="$(new_log | grep -A1 -E "LOG:  applying $k of [0-9]+: $v $name$" | sed -n 2p)"
    if has_log "LOG:  applying $k of [0-9]+: $v $name$" && [[ "$after" != *"CONTEXT:  up script"* ]]; then
        pass "'applying $k of n: $v $name' has no CONTEXT line repeating it"
    else
        fail "'applying' line of $v missing or followed by its CONTEXT: $after"
    fi
done

scenario_finish
