#!/usr/bin/env bash
# scripts/demo.sh - the main demo (`make demo`).
#
#   scripts/demo.sh [CONNS [SECONDS]]     (default 10000 connections, 10 s)
#
# Part 1, the echo server: compat/echo_server.c is a plain
# thread-per-connection pthread echo server (blocking accept/read/write, one
# pthread per connection).  It runs twice, natively (one OS thread per
# connection) and under build/greenrun (green threads parked in the
# netpoller), each driven by compat/loadgen.c (our epoll load generator, a
# separate process, always native) with CONNS connections to 127.0.0.1 doing
# request/response for SECONDS.  Printed side by side: requests/s, p50/p99
# latency, errors, and the server's OS thread count and RSS sampled from
# /proc/PID/status while all connections are open.  Server and load
# generator are separate processes, so each stays under RLIMIT_NOFILE.
# Everything is capped with timeouts and the server is killed by PID at the
# end (also on Ctrl-C), so the demo cannot hang.
#
# Part 2, 100,000 sleeping pthreads: compat/spawn100k.c natively (fails
# near kernel.pid_max threads: the point) and under greenrun.  Skip it with
# DEMO_SPAWN=0.
#
# Exit status: 0 when both greenrun runs succeeded.
set -euo pipefail

cd "$(dirname "$(realpath "$0")")/.."

CONNS=${1:-10000}
SECS=${2:-10}
N=${DEMO_THREADS:-100000}
for v in "$CONNS" "$SECS" "$N"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/demo.sh [CONNS [SECONDS]]" >&2; exit 2; }
done

CC=${CC:-cc}
BUILD=build
PROG=$BUILD/spawn100k
NATIVE_TIMEOUT=60
GREEN_TIMEOUT=120

# The library and launcher come from `make` (`make demo` builds them first).
if [ ! -x "$BUILD/greenrun" ] || [ ! -f "$BUILD/libgreenrun.so" ]; then
	make --no-print-directory all
fi

mkdir -p "$BUILD"
"$CC" -std=gnu11 -O2 -g -pthread -Wall -o "$PROG" compat/spawn100k.c
"$CC" -std=gnu11 -O2 -g -pthread -Wall -o "$BUILD/echo_server" compat/echo_server.c
"$CC" -std=gnu11 -O2 -g -Wall -o "$BUILD/loadgen" compat/loadgen.c

# ---- part 1: echo server ---------------------------------------------------
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}
trap cleanup EXIT INT TERM

# status_field PID KEY: a field of /proc/PID/status ("-" if gone).
status_field() {
	awk -v k="$2:" '$1 == k { print $2 ($3 ? " " $3 : ""); f = 1 } END { if (!f) print "-" }' \
		"/proc/$1/status" 2>/dev/null || echo "-"
}

# echo_run LABEL OUTFILE CMD...: start the server with CMD, drive it,
# sample its threads and RSS in the middle of the run, stop it.
echo_run() {
	local label=$1 out=$2
	shift 2
	echo "== echo server, $label: $* ($CONNS connections, $SECS s)"
	: >"$out"
	"$@" >"$out.server" 2>&1 &
	server_pid=$!
	local port="" i
	for i in $(seq 100); do
		port=$(sed -n 's/^listening on //p' "$out.server" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		echo "   server did not start:"; sed 's/^/   | /' "$out.server"
		cleanup
		return
	fi
	timeout -k 5 $((SECS + 90)) "$BUILD/loadgen" "$port" "$CONNS" "$SECS" >"$out" 2>"$out.err" &
	local lg=$!
	# Sample once every connection is open and traffic flows.
	local t
	for t in $(seq 600); do
		sleep 0.1
		kill -0 "$lg" 2>/dev/null || break
		[ "$(ls /proc/"$server_pid"/fd 2>/dev/null | wc -l)" -ge "$CONNS" ] && break
	done
	sleep "$(awk -v s="$SECS" 'BEGIN { print s / 2 }')"
	{
		echo "server_threads: $(status_field "$server_pid" Threads)"
		echo "server_rss: $(status_field "$server_pid" VmRSS)"
	} >"$out.sample"
	local lrc=0
	wait "$lg" || lrc=$?
	cat "$out.sample" >>"$out"
	echo "loadgen_status: $lrc" >>"$out"
	cleanup
	sed 's/^/   /' "$out"
	head -n 5 "$out.err" | sed 's/^/   stderr: /'
	echo
}

echo_run native "$BUILD/demo-echo-native.out" "$BUILD/echo_server"
echo_run greenrun "$BUILD/demo-echo-greenrun.out" "$BUILD/greenrun" -- "$BUILD/echo_server"

ef() { # ef FILE KEY
	local v
	v=$(sed -n "s/^$2: //p" "$1" 2>/dev/null | head -n 1)
	printf '%s\n' "${v:--}"
}
en=$BUILD/demo-echo-native.out
eg=$BUILD/demo-echo-greenrun.out
erow() { printf '  %-22s %-16s %s\n' "$1" "$2" "$3"; }
echo "== summary: echo server, $CONNS connections x $SECS s, 64-byte request/response"
erow "" "native" "greenrun"
erow "connections" "$(ef "$en" connections)" "$(ef "$eg" connections)"
erow "requests/s" "$(ef "$en" req_per_s)" "$(ef "$eg" req_per_s)"
erow "p50 latency (us)" "$(ef "$en" p50_us)" "$(ef "$eg" p50_us)"
erow "p99 latency (us)" "$(ef "$en" p99_us)" "$(ef "$eg" p99_us)"
erow "errors" "$(ef "$en" errors)" "$(ef "$eg" errors)"
erow "server OS threads" "$(ef "$en" server_threads)" "$(ef "$eg" server_threads)"
erow "server RSS" "$(ef "$en" server_rss)" "$(ef "$eg" server_rss)"
echo
echo_rc=$(ef "$eg" loadgen_status)
[ "$echo_rc" = 0 ] || echo_rc=1

if [ "${DEMO_SPAWN:-1}" = 0 ]; then
	exit "$echo_rc"
fi

# ---- part 2: 100,000 sleeping pthreads --------------------------------------

echo "== machine: $(nproc) CPUs, kernel.pid_max=$(cat /proc/sys/kernel/pid_max)," \
	"kernel.threads-max=$(cat /proc/sys/kernel/threads-max), ulimit -u $(ulimit -u)"
echo

# run LABEL OUTFILE TIMEOUT CMD...: run CMD with a time cap, showing and
# saving its output; sets $rc (124 or 137: timed out).
run() {
	local label=$1 outfile=$2 tmo=$3
	shift 3
	echo "== $label: $*"
	rc=0
	# The outer braces keep bash's "Killed" notices off the terminal.
	{ timeout -k 5 "$tmo" "$@" 2>&1 | tee "$outfile"; } 2>/dev/null || rc=$?
	echo "   (exit status $rc)"
	echo
}

run "native (expected to fail near pid_max threads)" "$BUILD/demo-native.out" \
	"$NATIVE_TIMEOUT" "$PROG" "$N"
native_rc=$rc
run "greenrun" "$BUILD/demo-greenrun.out" "$GREEN_TIMEOUT" \
	"$BUILD/greenrun" -- "$PROG" "$N"
green_rc=$rc

# field FILE KEY: the value of "KEY: value" in FILE, or "-".
field() {
	local v
	v=$(sed -n "s/^$2: //p" "$1" 2>/dev/null | head -n 1)
	printf '%s\n' "${v:--}"
}

# verdict RC FILE: a one-word summary of a run.
verdict() {
	case $1 in
	0) echo "OK" ;;
	124 | 137) echo "timed out" ;;
	*)
		if [ "$1" -gt 128 ]; then
			echo "killed (SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo "?"))"
		elif grep -q '^pthread_create failed' "$2" 2>/dev/null; then
			echo "FAILED: pthread_create"
		else
			echo "FAILED (status $1)"
		fi
		;;
	esac
}

nat=$BUILD/demo-native.out
grn=$BUILD/demo-greenrun.out
row() { printf '  %-18s %-24s %s\n' "$1" "$2" "$3"; }
echo "== summary: $N threads that each sleep 1 s"
row "" "native" "greenrun"
row "threads created" "$(field "$nat" "threads created")" "$(field "$grn" "threads created")"
row "peak OS threads" "$(field "$nat" "peak OS threads")" "$(field "$grn" "peak OS threads")"
row "elapsed" "$(field "$nat" elapsed)" "$(field "$grn" elapsed)"
row "VmRSS at peak" "$(field "$nat" "VmRSS at peak")" "$(field "$grn" "VmRSS at peak")"
row "result" "$(verdict "$native_rc" "$nat")" "$(verdict "$green_rc" "$grn")"

[ "$green_rc" = 0 ] || exit "$green_rc"
exit "$echo_rc"
