#!/usr/bin/env bash
# test/doc/lint_rules.sh: doc/lint.md documents every lint rule.
#
#     bash test/doc/lint_rules.sh
#
# Every id of migrate.lint_rules must have a "### <id>" heading in
# doc/lint.md, and every "### " heading of its "## Rules" section must be a
# rule (a renamed or removed rule leaves no stale section).  The rule list
# comes from the server (a throwaway database, migrate_doctest_lint_rules,
# dropped afterwards), so that the check follows the code.  Connection:
# PGHOST/PGPORT/PGUSER as for test/doc/run.sh.  Exit 0 when they agree, 1
# otherwise, listing each difference.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
doc="$root/doc/lint.md"
db=migrate_doctest_lint_rules

psql_q() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || exit 1
trap 'psql_q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
rules="$(psql_q -d "$db" -c 'CREATE EXTENSION migrate' && \
         psql_q -A -t -d "$db" -c 'SELECT id FROM migrate.lint_rules ORDER BY id')" || exit 1

# the headings of the "## Rules" section (up to the next "## ")
headings="$(awk '/^## /{inrules = ($0 == "## Rules")} inrules && /^### /{sub(/^### +/, ""); sub(/ +$/, ""); print}' "$doc" | sort)"

status=0
missing="$(comm -23 <(printf '%s\n' "$rules" | sort) <(printf '%s\n' "$headings"))"
stale="$(comm -13 <(printf '%s\n' "$rules" | sort) <(printf '%s\n' "$headings"))"
if [ -n "$missing" ]; then
    echo "doc/lint.md has no \"### id\" section for these rules of migrate.lint_rules:"
    printf '  %s\n' $missing
    status=1
fi
if [ -n "$stale" ]; then
    echo "doc/lint.md documents rules that migrate.lint_rules does not have:"
    printf '  %s\n' $stale
    status=1
fi
[ "$status" = 0 ] && echo "doc/lint.md: all $(printf '%s\n' "$rules" | grep -c .) rules documented"
exit $status
