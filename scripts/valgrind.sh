#!/usr/bin/env bash
# scripts/valgrind.sh: memory-check migrate by running the pg_regress suite
# against a PostgreSQL 15 server that runs under valgrind memcheck.
#
#   1. copy the working tree (Makefile, src/, sql/, expected/, ...) to a temp
#      dir and build it there with COPT='-O0 -g -Werror'
#   2. build a private, relocated PostgreSQL tree in the temp dir: a copy of
#      the postgres binary plus symlinks to the system lib/ and share/, with
#      the -O0 migrate installed into it (make install DESTDIR=...).  Neither
#      the repository nor the system-wide installation is touched, so this
#      can run while others build and test.
#   3. initdb a throwaway cluster (as the postgres OS user when run as root)
#      and start `postgres` under valgrind --tool=memcheck, one log file per
#      process (backends and the failure-recording background worker are
#      forked children, so they are covered)
#   4. run `make installcheck ISOLATION=` (pg_regress only) against it
#   5. stop the server (fast shutdown), read every valgrind log and print
#      each distinct error whose stack involves migrate (migrate.so or
#      src/*.c), with how often and in which logs it occurred
#
# Usage: bash scripts/valgrind.sh [TEST...]
#   TEST...   pg_regress tests to run instead of the Makefile's REGRESS list
#             (the first should be setup)
# Environment:
#   MIGRATE_VALGRIND_PORT           port (default 54410)
#   MIGRATE_VALGRIND_REV=REV        test git revision REV (git archive) instead
#                                   of the working tree
#   MIGRATE_VALGRIND_KEEP=1         keep the temp dir (cluster, valgrind logs)
#   MIGRATE_VALGRIND_START_TIMEOUT  seconds to wait for startup (default 600)
#   MIGRATE_VALGRIND_TIMEOUT        seconds for the whole pg_regress run
#                                   (default 7200)
#   MIGRATE_VALGRIND_ALL=1          also print the errors NOT involving migrate
#   MIGRATE_VALGRIND_CONF           extra postgresql.conf lines (newline-
#                                   separated), e.g.
#                                   "shared_preload_libraries = 'migrate'"
# Exit status: 0 clean; 1 valgrind errors involving migrate; 2 setup failed
# (build, start, ...); 3 no migrate errors but pg_regress failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
source "$here/lib.sh"
cd "$MIGRATE_ROOT" || exit 2

case "${1:-}" in
    -h|--help) sed -n '2,37p' "${BASH_SOURCE[0]}"; exit 0 ;;
esac
tests=("$@")

port="${MIGRATE_VALGRIND_PORT:-54410}"
start_timeout="${MIGRATE_VALGRIND_START_TIMEOUT:-600}"
run_timeout="${MIGRATE_VALGRIND_TIMEOUT:-7200}"

fail() { printf '%s\n' "error: $*" >&2; exit 2; }

command -v valgrind >/dev/null 2>&1 ||
    fail "valgrind is not installed (apt-get install valgrind)"
[ -x "$MIGRATE_PG_BINDIR/postgres" ] ||
    fail "no postgres in $MIGRATE_PG_BINDIR (run migrate_install_deps)"

pg_bindir="$("$MIGRATE_PG_CONFIG" --bindir)"
pg_pkglibdir="$("$MIGRATE_PG_CONFIG" --pkglibdir)"
pg_sharedir="$("$MIGRATE_PG_CONFIG" --sharedir)"

work="$(mktemp -d "${TMPDIR:-/tmp}/migrate-valgrind.XXXXXX")" || exit 2
chmod 0755 "$work"
server_pid=""

stop_server() {
    if [ -f "$work/data/postmaster.pid" ]; then
        migrate_log "stopping the server (fast shutdown; valgrind makes this slow)"
        _migrate_as_pg "$MIGRATE_PG_BINDIR/pg_ctl" -D "$work/data" -m fast \
            -w -t 600 stop >/dev/null 2>&1 ||
            _migrate_as_pg "$MIGRATE_PG_BINDIR/pg_ctl" -D "$work/data" \
                -m immediate -w -t 120 stop >/dev/null 2>&1 || true
    fi
    if [ -n "$server_pid" ]; then
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$?
    stop_server
    if [ "${MIGRATE_VALGRIND_KEEP:-0}" = 1 ]; then
        migrate_log "keeping $work (MIGRATE_VALGRIND_KEEP=1)"
    else
        rm -rf -- "$work"
    fi
    return "$rc"
}
trap cleanup EXIT
for sig in INT TERM HUP; do
    # shellcheck disable=SC2064
    trap "exit $((128 + $(kill -l "$sig")))" "$sig"
done

t0=$(date +%s)

# --- 1. private -O0 -g build --------------------------------------------------
build="$work/build"
mkdir -p "$build"
if [ -n "${MIGRATE_VALGRIND_REV:-}" ]; then
    git archive --format=tar "$MIGRATE_VALGRIND_REV" | tar -x -C "$build" ||
        fail "git archive $MIGRATE_VALGRIND_REV failed"
    migrate_log "testing $MIGRATE_VALGRIND_REV ($(git rev-parse --short "$MIGRATE_VALGRIND_REV"))"
else
    for f in Makefile migrate.control ./*.sql src bin sql expected doc; do
        [ -e "$f" ] && cp -a -- "$f" "$build/"
    done
    migrate_log "testing the working tree"
fi
(
    cd "$build" || exit 1
    make clean PG_CONFIG="$MIGRATE_PG_CONFIG" >/dev/null 2>&1
    make -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$MIGRATE_PG_CONFIG" \
        COPT='-O0 -g -Werror' >"$work/build.log" 2>&1
) || { cat "$work/build.log" >&2; fail "build with COPT='-O0 -g -Werror' failed"; }
migrate_log "built migrate with -O0 -g in $build"

# --- 2. private PostgreSQL tree ----------------------------------------------
# postgres finds $libdir and its share dir relative to its own executable, so
# a copy of the binary at $inst$pg_bindir uses $inst$pg_pkglibdir and
# $inst$pg_sharedir.
inst="$work/inst"
mkdir -p "$inst$pg_bindir" "$(dirname "$inst$pg_pkglibdir")" "$(dirname "$inst$pg_sharedir")"
cp -- "$pg_bindir/postgres" "$inst$pg_bindir/postgres"
cp -as -- "$pg_pkglibdir" "$inst$pg_pkglibdir"
cp -as -- "$pg_sharedir" "$inst$pg_sharedir"
# drop the symlinks to the system-wide migrate before installing ours, so
# that make install cannot write through them
find "$inst" -name '*migrate*' -prune -exec rm -rf -- {} +
make -C "$build" install PG_CONFIG="$MIGRATE_PG_CONFIG" DESTDIR="$inst" \
    >>"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; fail "make install DESTDIR=$inst failed"; }
if [ ! -f "$inst$pg_pkglibdir/migrate.so" ] || [ -L "$inst$pg_pkglibdir/migrate.so" ]; then
    fail "private migrate.so missing"
fi
postgres_bin="$inst$pg_bindir/postgres"

# --- 3. cluster under valgrind ------------------------------------------------
vgdir="$work/valgrind"
mkdir -p "$vgdir"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$work" "$vgdir"
fi

migrate_log "initdb in $work/data (port $port)"
_migrate_as_pg "$MIGRATE_PG_BINDIR/initdb" -D "$work/data" -U postgres \
    --auth=trust --encoding=UTF8 --locale=C.UTF-8 --lc-collate=C \
    --lc-messages=C --no-sync >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log" >&2; fail "initdb failed"; }

cat >>"$work/data/postgresql.conf" <<EOF

# --- throwaway valgrind cluster (scripts/valgrind.sh) ---
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
max_connections = 20
# max_worker_processes: PostgreSQL's default, as users run it
fsync = off
synchronous_commit = off
full_page_writes = off
huge_pages = off
jit = off
autovacuum = off
log_min_messages = debug1   # to count the failure-recorder workers started
log_checkpoints = off
log_min_error_statement = error
log_line_prefix = '%m [%p] %q%a '
timezone = 'UTC'
log_timezone = 'UTC'
EOF
if [ -n "${MIGRATE_VALGRIND_CONF:-}" ]; then
    printf '%s\n' "$MIGRATE_VALGRIND_CONF" >>"$work/data/postgresql.conf"
fi

# Suppressions for known false positives in postgres' own code, after
# postgres' src/tools/valgrind.supp: raw structures with padding bytes written
# to disk.  The Debian binary has no symbols for static functions (XLogWrite,
# write_relcache_init_file show up as ???), so they are anchored at the
# nearest exported caller.  None names a frame of migrate.so.  Caveat, as
# upstream: a suppression cannot see the origin of the bytes, so uninitialised
# bytes that migrate put into a WAL record would be suppressed too.
cat >"$work/valgrind.supp" <<'EOF'
{
   pg_padding_XLogWrite_from_XLogFlush
   Memcheck:Param
   pwrite64(buf)
   fun:pwrite*
   obj:*/postgres
   fun:XLogFlush
}
{
   pg_padding_XLogWrite_from_XLogBackgroundFlush
   Memcheck:Param
   pwrite64(buf)
   fun:pwrite*
   obj:*/postgres
   fun:XLogBackgroundFlush
}
{
   pg_padding_XLogWrite_from_XLogInsertRecord
   Memcheck:Param
   pwrite64(buf)
   fun:pwrite*
   ...
   fun:XLogInsertRecord
}
{
   pg_padding_relcache_init_file
   Memcheck:Param
   write(buf)
   ...
   obj:*/postgres
   fun:RelationCacheInitializePhase3
}
EOF

valgrind_opts=(
    --tool=memcheck --trace-children=yes --leak-check=no --track-origins=yes
    --read-var-info=yes --error-limit=no --num-callers=30
    "--fullpath-after=$build/"
    "--suppressions=$work/valgrind.supp"
    "--log-file=$vgdir/valgrind.%p.log"
)
migrate_log "starting postgres under valgrind (logs in $vgdir)"
_migrate_as_pg valgrind "${valgrind_opts[@]}" "$postgres_bin" -D "$work/data" \
    >"$work/server.log" 2>&1 &
server_pid=$!

export PGHOST="$work" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
unset PGSERVICE
waited=0
until "$MIGRATE_PG_BINDIR/pg_isready" -q -t 5; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$work/server.log" >&2
        fail "postgres under valgrind exited during startup"
    fi
    if [ "$waited" -ge "$start_timeout" ]; then
        cat "$work/server.log" >&2
        fail "postgres under valgrind did not accept connections within ${start_timeout}s"
    fi
    sleep 2
    waited=$((waited + 2))
done
migrate_log "server accepts connections after ~${waited}s"

# check that backends load the private -O0 migrate.so, not the system one
maps="$("$MIGRATE_PG_BINDIR/psql" -X -A -t -q -c "LOAD 'migrate'" \
        -c "SELECT pg_read_file('/proc/' || pg_backend_pid() || '/maps')" 2>&1)"
grep -q -- "$inst$pg_pkglibdir/migrate.so" <<<"$maps" || {
    printf '%s\n' "$maps" | grep -iE 'migrate|error|fatal|warning' >&2
    fail "the server did not load $inst$pg_pkglibdir/migrate.so"
}

# --- 4. pg_regress --------------------------------------------------------------
regress_args=(installcheck ISOLATION= PG_CONFIG="$MIGRATE_PG_CONFIG")
if [ "${#tests[@]}" -gt 0 ]; then
    regress_args+=("REGRESS=${tests[*]}")
fi
migrate_log "make ${regress_args[*]}"
t1=$(date +%s)
timeout --kill-after=30 "$run_timeout" make -C "$build" "${regress_args[@]}"
regress_rc=$?
regress_secs=$(( $(date +%s) - t1 ))
if [ "$regress_rc" -ne 0 ]; then
    [ "$regress_rc" -eq 124 ] && migrate_log "pg_regress timed out after ${run_timeout}s"
    [ -s "$build/regression.diffs" ] && {
        echo "---- regression.diffs ----"
        cat "$build/regression.diffs"
        echo "---- end of regression.diffs ----"
    }
fi
migrate_log "pg_regress finished in ${regress_secs}s (exit $regress_rc)"

# --- 5. stop, then read the valgrind logs ----------------------------------------
stop_server
if grep -qE 'PANIC|TRAP:|terminated by signal' "$work/server.log"; then
    echo "---- server log: crashes ----"
    grep -E -B2 -A2 'PANIC|TRAP:|terminated by signal' "$work/server.log"
fi

logs=("$vgdir"/valgrind.*.log)
[ -e "${logs[0]}" ] || fail "no valgrind logs in $vgdir"

# An error block is a run of non-empty lines (after the ==PID== prefix) that
# contains a stack ("at 0x" / "by 0x"), except valgrind's "Process
# terminating" notes.  Blocks involving migrate mention migrate.so or a
# src/*.c file (paths are relative to the build dir via --fullpath-after).
# Identical blocks (addresses masked) are printed once with a count.
report="$(awk -v all="${MIGRATE_VALGRIND_ALL:-0}" '
function flush(   key, is_mig, f) {
    if (nb > 0 && blk ~ /\n +(at|by) 0x/ && blk !~ /^Process terminating/) {
        total++
        is_mig = (blk ~ /migrate\.so|src\/([A-Za-z0-9_]+\/)?[A-Za-z0-9_]+\.[ch]:[0-9]/)
        if (is_mig) mig++
        if (is_mig || all == 1) {
            key = blk
            gsub(/0x[0-9A-Fa-f]+/, "0x_", key)
            if (!(key in cnt)) {
                order[++nkeys] = key
                first[key] = blk
                ismig[key] = is_mig
            }
            cnt[key]++
            f = FILENAME
            sub(/.*\//, "", f)
            if (!(key SUBSEP f in seen)) {
                seen[key SUBSEP f] = 1
                nf[key]++
                if (nf[key] <= 5) where[key] = where[key] " " f
            }
        }
    }
    blk = ""; nb = 0
}
FNR == 1 { flush(); nfiles++ }
/^--[0-9]+-- / { next }   # valgrind notes such as DWARF warnings
{
    line = $0
    sub(/^==[0-9]+== ?/, "", line)
    if (line ~ /^[ \t]*$/) { flush(); next }
    blk = (nb ? blk "\n" : "") line
    nb++
}
END {
    flush()
    umig = 0
    for (i = 1; i <= nkeys; i++) {
        k = order[i]
        if (ismig[k]) umig++
        printf "\n---- %s error (%d occurrence(s) in %d log(s):%s%s) ----\n", \
            ismig[k] ? "MIGRATE" : "postgres", cnt[k], nf[k], where[k], \
            (nf[k] > 5 ? " ..." : "")
        print first[k]
    }
    printf "\nSUMMARY: %d valgrind log file(s), %d error block(s), %d involving migrate (%d distinct)\n", \
        nfiles, total, mig, umig
    exit(mig > 0 ? 1 : 0)
}' "${logs[@]}")"
mig_rc=$?
printf '%s\n' "$report"

# valgrind's own per-process totals (every occurrence, also those of an
# already printed context, and those a child inherited from the postmaster)
printf 'valgrind ERROR SUMMARY lines: %s\n' "$(grep -h 'ERROR SUMMARY:' "${logs[@]}" |
    awk '{ e += $4; c += $7; s += $10; sc += $12 }
         END { printf "%d error(s) from %d context(s), suppressed %d from %d", e, c, s, sc }')"
printf 'failure-recorder background workers started: %s\n' \
    "$(grep -c 'starting background worker process "migrate failure recorder' "$work/server.log")"
printf 'pg_regress: %s in %ss; total %ss\n' \
    "$([ "$regress_rc" -eq 0 ] && echo passed || echo "FAILED (exit $regress_rc)")" \
    "$regress_secs" "$(( $(date +%s) - t0 ))"

if [ "$mig_rc" -ne 0 ]; then
    exit 1
fi
if [ "$regress_rc" -ne 0 ]; then
    exit 3
fi
exit 0
