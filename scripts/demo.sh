#!/usr/bin/env bash
# scripts/demo.sh - the main demo (`make demo`): 100,000 sleeping pthreads,
# natively and under greenrun, side by side.
#
#   scripts/demo.sh [N]      (N threads, default 100000)
#
# Compiles compat/spawn100k.c (a plain pthread program that knows nothing of
# greenrun: N threads that each sleep 1 s, then are joined and checked) into
# build/spawn100k and runs it twice:
#   1. natively, where every thread is an OS thread: on a machine with
#      kernel.pid_max = 32768 pthread_create fails near 32k threads.  That is
#      the point of the demo.  The run is capped with `timeout 60`.
#   2. under build/greenrun, where the threads are green threads on a few OS
#      threads (capped with `timeout 120` so that a broken build cannot hang).
# Then prints a summary table.  Exit status: that of the greenrun run (0 when
# all N threads were created, ran and were joined).
#
# Stack size: the program keeps the default (no pthread_attr_setstacksize),
# like an unmodified application: natively that is glibc's default (the
# `ulimit -s` size, 8 MiB of address space, only touched pages use memory);
# under greenrun it is GREENRUN_STACK (default 256K, committed lazily).
# While the native run is at its peak the machine is out of PIDs for a second
# or two: other processes that fork at that moment may fail with EAGAIN.
set -euo pipefail

cd "$(dirname "$(realpath "$0")")/.."

N=${1:-100000}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/demo.sh [N]" >&2; exit 2; }

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

exit "$green_rc"
