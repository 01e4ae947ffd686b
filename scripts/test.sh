#!/usr/bin/env bash
# scripts/test.sh: run every test of migrate against a throwaway cluster.
#
#   1. install missing Debian packages, build with -Werror, make install
#   2. start a private PostgreSQL 15 cluster (scripts/lib.sh) with migrate
#      preloaded (shared_preload_libraries = 'migrate', migrate.naptime = 1),
#      so every suite runs with the launcher and schedulers up
#   3. run, collecting failures instead of stopping at the first:
#        structure  test/check_layers.sh: no upward include between layers
#        regress    make installcheck, pg_regress part  (sql/, expected/)
#        isolation  make installcheck, isolation part   (test/isolation/)
#        pgtap      make installcheck-pgtap in database migrate_pgtap (test/pgtap/)
#        tap        the pg_migrate client: each t/*.pl (prove, through
#                   scripts/tap.sh; as root it runs as the postgres OS user),
#                   with clusters of its own (PostgreSQL::Test::Cluster)
#        doc        test/doc/run.sh: the SQL examples of README.md,
#                   doc/tutorial.md and doc/troubleshooting.md, run and
#                   compared with what they show; test/doc/lint_rules.sh:
#                   every lint rule has its section in doc/lint.md
#        scenario   every executable test/scenario/*.sh and test/realworld/*.sh
#                   (the real-world checks skip, saying so, without their corpus)
#   4. print a summary; exit status 1 if anything failed
#
# Usage: bash scripts/test.sh [--no-setup]
#   --no-setup   skip apt-get and the build (quick reruns after make install)
# Environment: MIGRATE_TEST_PORT (default 54329), MIGRATE_SCENARIO_TIMEOUT
# (seconds per scenario script, default 300), MIGRATE_TEST_VERBOSE=1 (show
# the output of passing scenario scripts too), MIGRATE_TAP_PORT (port of the
# TAP tests' clusters, default MIGRATE_TEST_PORT + 50).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
cd "$MIGRATE_ROOT" || exit 1

setup=1
for arg in "$@"; do
    case "$arg" in
        --no-setup) setup=0 ;;
        -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [ "$setup" = 1 ]; then
    migrate_install_deps || { echo "FAIL: could not install dependencies" >&2; exit 1; }
    migrate_build_install || { echo "FAIL: build (warnings are errors) or install failed" >&2; exit 1; }
fi

# preloaded, so the background worker is part of every run; a short naptime
# keeps the scheduler scenarios quick
migrate_start_cluster "shared_preload_libraries = 'migrate'" \
                      "migrate.naptime = 1" || exit 1

results=()   # "STATUS<TAB>name" lines for the summary
failures=0
record() {   # record STATUS NAME
    results+=("$1"$'\t'"$2")
    [ "$1" = FAIL ] && failures=$((failures + 1))
    printf '%s: %s\n' "$1" "$2"
}
section() { printf '\n==================== %s ====================\n' "$*"; }
show_file() {
    if [ -s "$1" ]; then
        printf -- '---- %s ----\n' "$1"
        cat "$1"
        printf -- '---- end of %s ----\n' "$1"
    fi
}

make_vars=(PG_CONFIG="$MIGRATE_PG_CONFIG")

# wait_for_scheduler DB: up to 15 s for the scheduler of DB to start
wait_for_scheduler() {
    local i
    for i in $(seq 1 150); do
        [ -n "$(psql -X -A -t -d "$1" -c "SELECT pid FROM pg_stat_activity
                WHERE backend_type = 'migrate scheduler' AND datname = '$1'")" ] && return 0
        sleep 0.1
    done
    echo "no scheduler started in database $1 within 15 s" >&2
    return 1
}

# --- structure --------------------------------------------------------------
section "structure (test/check_layers.sh)"
if bash test/check_layers.sh; then
    record PASS "layering of src/ (no upward include)"
else
    record FAIL "layering of src/ (test/check_layers.sh)"
fi

# --- pg_regress -------------------------------------------------------------
section "pg_regress (sql/, expected/)"
rm -f regression.diffs regression.out
if make installcheck "${make_vars[@]}" ISOLATION=; then
    record PASS "regress"
else
    show_file regression.diffs
    record FAIL "regress (see regression.diffs)"
fi

# --- isolation tests --------------------------------------------------------
section "isolation (test/isolation/)"
rm -f output_iso/regression.diffs output_iso/regression.out
if make installcheck "${make_vars[@]}" REGRESS=; then
    record PASS "isolation"
else
    show_file output_iso/regression.diffs
    record FAIL "isolation (see output_iso/regression.diffs)"
fi

# --- pgTAP ------------------------------------------------------------------
section "pgTAP (test/pgtap/)"
if compgen -G "test/pgtap/*.sql" >/dev/null; then
    if psql -X -q -v ON_ERROR_STOP=1 -d postgres \
            -c 'SET client_min_messages = warning' \
            -c 'DROP DATABASE IF EXISTS migrate_pgtap' \
            -c 'CREATE DATABASE migrate_pgtap' \
            -c 'DROP DATABASE IF EXISTS migrate_pgtap_scheduled' \
            -c 'CREATE DATABASE migrate_pgtap_scheduled' &&
       # a database with an enabled schedule keeps a scheduler running, so
       # that hostile.sql can try to signal one (a database without
       # schedules has none)
       psql -X -q -v ON_ERROR_STOP=1 -d migrate_pgtap_scheduled \
            -c 'SET client_min_messages = warning' \
            -c 'CREATE EXTENSION migrate' \
            -c "SELECT migrate.schedule('keep_a_scheduler', every => '1 day')" &&
       wait_for_scheduler migrate_pgtap_scheduled &&
       PGDATABASE=migrate_pgtap make installcheck-pgtap "${make_vars[@]}"; then
        record PASS "pgtap"
    else
        record FAIL "pgtap"
    fi
else
    record SKIP "pgtap (no test/pgtap/*.sql)"
fi

# --- TAP tests of the pg_migrate client ------------------------------------
section "TAP (t/: the pg_migrate client, scripts/tap.sh)"
# each test file makes its own cluster; the port sits beside this suite's
# (MIGRATE_TAP_PORT), so that parallel sandboxes keep to their own ports
export MIGRATE_TAP_PORT="${MIGRATE_TAP_PORT:-$(( ${MIGRATE_TEST_PORT:-54329} + 50 ))}"
found=0
for t in t/*.pl; do
    [ -e "$t" ] || continue
    found=1
    log="$(mktemp)"
    start=$(date +%s)
    timeout --kill-after=10 "${MIGRATE_SCENARIO_TIMEOUT:-300}" \
        bash scripts/tap.sh "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ "$rc" -eq 0 ]; then
        [ "${MIGRATE_TEST_VERBOSE:-0}" = 1 ] && cat "$log"
        record PASS "tap $t (${secs}s)"
    else
        cat "$log"
        record FAIL "tap $t (exit $rc; logs in tmp_check/log)"
    fi
    rm -f "$log"
done
[ "$found" = 1 ] || record SKIP "tap (no t/*.pl)"

# --- doc examples -----------------------------------------------------------
section "doc (test/doc/run.sh: README.md, doc/tutorial.md, doc/troubleshooting.md)"
# selftest.sh: the doc test itself catches drift; run.sh: the documents
if bash test/doc/selftest.sh && bash test/doc/run.sh; then
    record PASS "doc"
else
    record FAIL "doc (examples of README.md, doc/tutorial.md, doc/troubleshooting.md)"
fi
# every rule of migrate.lint_rules has its "### id" section in doc/lint.md
if bash test/doc/lint_rules.sh; then
    record PASS "doc: every lint rule documented in doc/lint.md"
else
    record FAIL "doc: lint rules without a section in doc/lint.md (test/doc/lint_rules.sh)"
fi

# --- scenario scripts -------------------------------------------------------
section "scenarios (test/scenario/, test/realworld/)"
timeout_s="${MIGRATE_SCENARIO_TIMEOUT:-300}"
found=0
for script in test/scenario/*.sh test/realworld/*.sh; do
    [ -e "$script" ] || continue
    found=1
    if [ ! -x "$script" ]; then
        record FAIL "scenario $script is not executable (chmod +x)"
        continue
    fi
    log="$(mktemp)"
    start=$(date +%s)
    PGDATABASE=postgres timeout --kill-after=10 "$timeout_s" "$script" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ "$rc" -eq 0 ]; then
        # the real-world checks' findings are the point: always show them
        case "$script" in
            test/realworld/*) cat "$log" ;;
            *) [ "${MIGRATE_TEST_VERBOSE:-0}" = 1 ] && cat "$log" ;;
        esac
        record PASS "scenario $script (${secs}s)"
    else
        cat "$log"
        if [ "$rc" -eq 124 ]; then
            record FAIL "scenario $script (timed out after ${timeout_s}s)"
        else
            record FAIL "scenario $script (exit $rc)"
        fi
    fi
    rm -f "$log"
done
[ "$found" = 1 ] || record SKIP "scenarios (no test/scenario/*.sh)"

# --- summary ----------------------------------------------------------------
if [ "$failures" -gt 0 ]; then
    section "server log (warnings and errors)"
    migrate_cluster_log | tail -n 200
fi
section "summary"
passed=0 skipped=0
for r in "${results[@]}"; do
    printf '  %-5s %s\n' "${r%%$'\t'*}" "${r#*$'\t'}"
    case "$r" in
        PASS*) passed=$((passed + 1)) ;;
        SKIP*) skipped=$((skipped + 1)) ;;
    esac
done
# the plain closing line CI reads: suites and scenarios, not assertions
printf '\nchecks: %d passed, %d failed, %d skipped\n' "$passed" "$failures" "$skipped"
if [ "$failures" -gt 0 ]; then
    printf '%d check(s) FAILED\n' "$failures"
    exit 1
fi
printf 'all checks passed\n'
