#!/usr/bin/env bash
# compat/sysbench.sh - sysbench's thread benchmarks under greenrun.
#
#   sysbench threads --threads=64 --events=10000 --time=0: each event is
#     8 x (lock one of 8 mutexes, sched_yield, unlock); the run must end
#     with exactly 10,000 events;
#   sysbench mutex --threads=64 --mutex-locks=20000 --time=0: each thread
#     does 20,000 random lock/unlock pairs on 4,096 mutexes as its one
#     event; exactly 64 events.
# Both natively and under greenrun; sysbench (LuaJIT-driven) exits non-zero
# on errors.  PASS: both greenrun runs exit 0 with the exact event counts.
# The figure gives each test's time natively and under greenrun (a native
# run still going after 45 s is stopped and shown as ">45s": 64 threads
# calling sched_yield natively on two shared cores can take minutes).
source "$(dirname "$0")/lib.sh"

compat_need sysbench sysbench
compat_build

ok=1 fig=""
# bench NAME WANT_EVENTS ARGS...
bench() {
	local name=$1 want=$2 mode st ev t
	shift 2
	local line="$name:"
	for mode in native greenrun; do
		local -a pre=()
		[ "$mode" = greenrun ] && pre=("$GREENRUN" --)
		st=0
		timeout 45 "${pre[@]}" sysbench "$name" "$@" run >"$COMPAT_OUT/sysbench.$name.$mode.out" 2>&1 || st=$?
		ev=$(awk '/total number of events:/ {print $5}' "$COMPAT_OUT/sysbench.$name.$mode.out")
		t=$(awk '/total time:/ {print $3}' "$COMPAT_OUT/sysbench.$name.$mode.out")
		[ "$st" -eq 124 ] && t=">45s"
		compat_log "$name $mode: status $st, events ${ev:-?} (want $want), total time ${t:-?}"
		if [ "$mode" = greenrun ] && { [ "$st" -ne 0 ] || [ "$ev" != "$want" ]; }; then
			ok=0
			tail -5 "$COMPAT_OUT/sysbench.$name.$mode.out" | sed 's/^/    /'
		fi
		line="$line $mode ${t:-?}"
	done
	fig="$fig$line ($want events exact)  "
}
bench threads 10000 --threads=64 --events=10000 --time=0
bench mutex 64 --threads=64 --mutex-locks=20000 --time=0
[ "$ok" = 1 ] && compat_result PASS "$fig"
compat_result FAIL "$fig"
