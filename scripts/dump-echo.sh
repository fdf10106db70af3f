#!/usr/bin/env bash
# scripts/dump-echo.sh - issue #5 acceptance 2: `greenrun dump PID` on a live
# echo server holding 10,000 connections.
#
#   scripts/dump-echo.sh [CONNS] [SECONDS]      (defaults 10000, 20)
#
# Starts compat/echo_server.c under greenrun, drives it with compat/loadgen.c
# (CONNS connections for SECONDS s, a separate process), and once every
# connection is open takes three dumps a few seconds apart with
# `build/greenrun dump PID`, timing each.  Checks, and exits non-zero unless:
#   - every dump answered (exit 0) within 2 s;
#   - each dump has one entry grouping at least 90% of CONNS connection
#     threads ("N threads (...): IO wait" with serve() on the stack);
#   - loadgen finished with all CONNS connections and "errors: 0", i.e.
#     the server kept serving through the dumps.
# Not part of `make check` (it needs ~30 s of both CPUs); run by hand or by
# `make dump-echo`.  Output: the figures, and the first dump in
# build/dump-echo.1.txt.
set -euo pipefail
cd "$(dirname "$(realpath "$0")")/.."

CONNS=${1:-10000}
SECS=${2:-20}
BUILD=build
CC=${CC:-cc}
ulimit -n 20000 2>/dev/null || true

make -s all
"$CC" -std=gnu11 -O2 -g -pthread -Wall -o "$BUILD/echo_server" compat/echo_server.c
"$CC" -std=gnu11 -O2 -g -Wall -o "$BUILD/loadgen" compat/loadgen.c

server_pid='' lg=''
cleanup() {
	[ -z "$lg" ] || kill "$lg" 2>/dev/null || true
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$BUILD/greenrun" -- "$BUILD/echo_server" >"$BUILD/dump-echo.server" 2>&1 &
server_pid=$!
port=''
for _ in $(seq 100); do
	port=$(sed -n 's/^listening on //p' "$BUILD/dump-echo.server" 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "server did not start"; cat "$BUILD/dump-echo.server"; exit 1; }

"$BUILD/loadgen" "$port" "$CONNS" "$SECS" >"$BUILD/dump-echo.loadgen" 2>&1 &
lg=$!
# wait until the server holds every connection (its fd count)
for _ in $(seq 600); do
	[ "$(ls /proc/"$server_pid"/fd | wc -l)" -ge "$CONNS" ] && break
	sleep 0.1
done
echo "server pid $server_pid holds $(ls /proc/"$server_pid"/fd | wc -l) fds"

fail=0
for i in 1 2 3; do
	sleep 2
	t0=$(date +%s.%N)
	rc=0
	"$BUILD/greenrun" dump "$server_pid" >"$BUILD/dump-echo.$i.txt" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	big=$(awk '/^[0-9]+ threads .*IO wait/ { if ($1 > m) m = $1 } END { print m + 0 }' "$BUILD/dump-echo.$i.txt")
	hasserve=$(grep -c '^    serve+0x' "$BUILD/dump-echo.$i.txt" || true)
	head=$(sed -n 3p "$BUILD/dump-echo.$i.txt")
	echo "dump $i: exit $rc, ${secs} s, largest IO-wait group $big threads, $head"
	if [ "$rc" -ne 0 ] || awk -v s="$secs" 'BEGIN { exit !(s >= 2) }' ||
		[ "$big" -lt $((CONNS * 9 / 10)) ] || [ "$hasserve" -lt 1 ]; then
		echo "  FAIL: see $BUILD/dump-echo.$i.txt"
		fail=1
	fi
done

lrc=0
wait "$lg" || lrc=$?
lg=''
sed 's/^/loadgen: /' "$BUILD/dump-echo.loadgen"
if [ "$lrc" -ne 0 ] || ! grep -q '^errors: 0$' "$BUILD/dump-echo.loadgen" ||
	! grep -q "^connections: $CONNS\$" "$BUILD/dump-echo.loadgen"; then
	echo "FAIL: the load generator saw errors or lost connections (status $lrc)"
	fail=1
fi
kill -0 "$server_pid" 2>/dev/null || { echo "FAIL: the server died"; fail=1; }
echo "first dump: $BUILD/dump-echo.1.txt"
[ "$fail" -eq 0 ] && echo "PASS dump-echo" || echo "FAIL dump-echo"
exit "$fail"
