#!/usr/bin/env bash
# compat/stress_ng.sh - stress-ng's thread stressors under greenrun.
#
# Four runs of $SECS s each, natively and under greenrun, with --verify
# and --metrics-brief: --pthread 2 (threads created and torn down in a
# loop: create, cond_wait handshakes, exit, join), --mutex 2 (pthread mutex
# contention), --sem 2 (POSIX semaphores between threads), --futex 2 (raw
# futex wait/wake).  Separate runs: together, natively, the mutex stressor
# starves the others on two cores.  stress-ng verifies its own results
# with --verify and exits 0 only on a "successful run".
# PASS: exit status 0, "successful run completed", no "fail" lines, every
# stressor reported bogo ops, and --pthread created 100% of its threads.
# KNOWN: the same, except for the one known failure below (gettid).
# The figure gives bogo ops/s per stressor next to a native run.
source "$(dirname "$0")/lib.sh"

SECS=${SECS:-4}
compat_need stress-ng stress-ng
compat_build

STRESSORS=(pthread mutex sem futex)
run() { # MODE STRESSOR -> build/compat/stress_ng.MODE.STRESSOR.out; status
	local -a pre=() extra=()
	[ "$1" = greenrun ] && pre=("$GREENRUN" --)
	[ "$2" = pthread ] && extra=(--pthread-max 256)
	timeout $((SECS + 60)) "${pre[@]}" stress-ng "--$2" 2 "${extra[@]}" -t "${SECS}s" \
		--verify --metrics-brief >"$COMPAT_OUT/stress_ng.$1.$2.out" 2>&1
}
rate() { # MODE STRESSOR: real-time bogo ops/s
	awk -v s="$2" '$2 == "metrc:" && $4 == s && $9 ~ /^[0-9.]+$/ {printf "%d", $9}' \
		"$COMPAT_OUT/stress_ng.$1.$2.out"
}
ok=1 nknown=0 created=""
for s in "${STRESSORS[@]}"; do
	run native "$s" || true
	st=0
	run greenrun "$s" || st=$?
	out=$COMPAT_OUT/stress_ng.greenrun.$s.out
	grep -E "fail|error|successful" "$out" | sed 's/^/  /'
	[ "$st" -eq 0 ] && grep -q "successful run completed" "$out" || { ok=0; compat_log "$s: status $st"; }
	# Failures stress-ng logged.  The only known one: --pthread --verify
	# checks that set_tid_address returns the tid gettid() gave at thread
	# start, and under greenrun gettid() is the current OS thread's
	# (tests/pending/gettid_stable.c): shown as KNOWN; any other fails.
	nf=$(grep -cE "stress-ng: (fail|error):" "$out" || true)
	nk=$(grep -cE "stress-ng: fail: .*set_tid_address failed, returned tid" "$out" || true)
	[ "$nf" -gt "$nk" ] && ok=0
	nknown=$((nknown + nk))
	[ "$s" = pthread ] && created=$(sed -n 's/.*pthread *\([0-9.]*\) % of .* pthreads created.*/\1/p' "$out")
done
[ "$created" = "100.00" ] || ok=0
fig=""
for s in "${STRESSORS[@]}"; do
	g=$(rate greenrun $s) n=$(rate native $s)
	[ -n "$g" ] || ok=0
	fig="$fig$s ${g:-?}/s (native ${n:-?}), "
done
fig="${fig}bogo ops/s; pthreads created ${created:-?}%"
[ "$ok" = 1 ] && [ "$nknown" -gt 0 ] &&
	compat_result KNOWN "$nknown x 'set_tid_address returned tid X, expecting Y' (gettid is per OS thread: tests/pending/gettid_stable.c); otherwise verified: $fig"
[ "$ok" = 1 ] && compat_result PASS "$fig"
compat_result FAIL "$fig"
