#!/usr/bin/env bash
# bench/echo.sh - one echo-server measurement, for bench/run.sh.
#
#   bench/echo.sh MODE CONNS SECONDS      (MODE: native, greenrun or go)
#
# Starts compat/echo_server (a plain thread-per-connection pthread server),
# natively or under $GREENRUN, or its Go twin (build/bench/go/echo_server,
# goroutine per connection, built by bench/run.sh), drives it with compat/loadgen (our epoll
# load generator, always native) from CONNS connections to 127.0.0.1 for
# SECONDS, and prints loadgen's figures as KEY=VALUE lines (req_per_s,
# p50_us, p99_us, errors, connections, cpu_pct of the load generator).
# Both processes get the hard RLIMIT_NOFILE (20,000 here) as soft limit.  The server is killed by PID on
# exit; everything is capped with timeouts.  Exit status: loadgen's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=$1 conns=$2 secs=$3
GREENRUN=${GREENRUN:-build/greenrun}
CC=${CC:-cc}
out=build/bench
mkdir -p "$out"
[ "$out/echo_server" -nt compat/echo_server.c ] ||
	"$CC" -std=gnu11 -O2 -g -pthread -Wall compat/echo_server.c -o "$out/echo_server"
[ "$out/loadgen" -nt compat/loadgen.c ] ||
	"$CC" -std=gnu11 -O2 -g -Wall compat/loadgen.c -o "$out/loadgen"

ulimit -n "$(ulimit -Hn)"
log=$(mktemp)
pid=""
cleanup() {
	[ -z "$pid" ] || { kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
	rm -f "$log"
}
trap cleanup EXIT INT TERM
case $mode in
native) "$out/echo_server" >"$log" 2>&1 & ;;
greenrun) "$GREENRUN" -- "$out/echo_server" >"$log" 2>&1 & ;;
go) "$out/go/echo_server" >"$log" 2>&1 & ;;
*) echo "bench/echo.sh: MODE is native, greenrun or go" >&2; exit 2 ;;
esac
pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -n 's/^listening on //p' "$log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "bench/echo.sh: server did not start" >&2; exit 1; }
rc=0
res=$(timeout -k 5 $((secs + 90)) "$out/loadgen" "$port" "$conns" "$secs" 2>/dev/null) || rc=$?
printf '%s\n' "$res" | sed -n 's/^\([a-z0-9_]*\): /\1=/p'
exit "$rc"
