#!/usr/bin/env bash
# test/doc/selftest.sh: the doc test must catch drift.  Runs test/doc/run.sh
# on small documents and checks its verdict: a document that matches passes
# (times, durations, pids and column widths normalised away), and one word
# changed in an expected block, an ERROR nobody shows, an unterminated block
# all fail; a document without sql blocks is skipped.
#
#     bash test/doc/selftest.sh      (cluster as for test/doc/run.sh)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
# before migrate_start_cluster, whose own EXIT trap composes with this one
trap 'rm -rf -- "$work"' EXIT

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
if [ -z "${PGHOST:-}" ]; then
    migrate_start_cluster "shared_preload_libraries = 'migrate'" "migrate.naptime = 1" || exit 1
fi
failed=0

# check NAME WANT_STATUS WANT_TEXT: run run.sh on $work/NAME.md; its exit
# status must be WANT_STATUS and its output must contain WANT_TEXT
check() {
    local name="$1" want_status="$2" want_text="$3" out status
    out="$(bash "$here/run.sh" "$work/$name.md" 2>&1)"
    status=$?
    if [ "$status" -eq "$want_status" ] && grep -qF -- "$want_text" <<<"$out"; then
        echo "PASS: doc selftest $name"
    else
        echo "FAIL: doc selftest $name: exit status $status (expected $want_status), output:"
        printf '%s\n' "$out"
        failed=1
    fi
}

# a block whose output varies (times, pids, widths) but matches once normalised
cat >"$work/matches.md" <<'EOF'
Volatile values are normalised:

```sql
DO $$BEGIN RAISE NOTICE 'applied 7 migrations in % ms', 41 + (random() * 1000)::int; END$$;
SELECT now() AS at, pg_backend_pid() AS pid, now() - pg_postmaster_start_time() > '0' AS up,
       make_interval(secs => random()) AS duration;
```

```text
NOTICE:  applied 7 migrations in 41 ms
DO
              at               |  pid  | up |   duration
-------------------------------+-------+----+--------------
 2026-11-30 21:30:02.123456+00 | 12345 | t  | 00:00:00.041
(1 row)
```

Text between a block and a text block unties them:

```sql
SELECT 1 AS one;
```

so this block is not compared:

```text
anything
```

<!-- doctest: SELECT 2; -->
EOF
check matches 0 "PASS: $work/matches.md"

# the same document with one word of the expected output changed
sed 's/^NOTICE:  applied 7 migrations/NOTICE:  applied 8 migrations/' \
    "$work/matches.md" >"$work/drift.md"
check drift 1 "-NOTICE: applied 8 migrations in <duration>"

# an ERROR in a block without a text block, and in a hidden block
cat >"$work/error.md" <<'EOF'
```sql
SELECT 1 / 0;
```
EOF
check error 1 'an ERROR, and no ```text block shows it'
cat >"$work/hidden.md" <<'EOF'
<!-- doctest: SELECT nosuch; -->
```sql
SELECT 1;
```
EOF
check hidden 1 'doctest comment): an ERROR'

# an ERROR that the text block shows is expected output
cat >"$work/shown_error.md" <<'EOF'
```sql
SELECT 1 / 0;
```

```text
ERROR:  division by zero
```
EOF
check shown_error 0 "PASS: $work/shown_error.md"

# a block whose last statement has no semicolon
cat >"$work/unterminated.md" <<'EOF'
```sql
SELECT 1
```
EOF
check unterminated 1 'does not end with a semicolon'

# nothing to run
# shellcheck disable=SC2016  # backquotes of a fence, not a command
printf '# Title\n\n```sh\nls\n```\n' >"$work/nosql.md"
check nosql 0 "SKIP: $work/nosql.md has no"

exit "$failed"
