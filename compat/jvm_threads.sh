#!/usr/bin/env bash
# compat/jvm_threads.sh - the JVM (OpenJDK 17) with 10,000 platform threads.
#
# compat/JvmThreads.java: 10,000 platform threads alive at once (count and
# sum exact), synchronized/wait/notify, an executor with exceptions through
# Future.get, a parallel stream, StackOverflowError caught in 16 threads,
# allocation beside System.gc().
#
# The JVM under greenrun: the program passes natively (sanity), then under
# greenrun every part must pass with exact results.  (greenrun refused the
# JVM until signal masks inside handlers were per thread: its SIGSEGV
# handler unblocks SIGSEGV and may park; tests/prog/signal_handler_mask.c.)
# PASS: all 6 parts.  FAIL otherwise.
source "$(dirname "$0")/lib.sh"

N=${N:-10000}
compat_need javac openjdk-17-jdk-headless java openjdk-17-jdk-headless
compat_build

cls=$COMPAT_OUT/java
mkdir -p "$cls"
javac -d "$cls" "$COMPAT_ROOT/compat/JvmThreads.java"
jargs=(-Xmx512m -cp "$cls" JvmThreads "$N")

nst=0
timeout 100 java "${jargs[@]}" >"$COMPAT_OUT/jvm.native.out" 2>&1 || nst=$?
compat_log "native: status $nst, $(grep -c '^ok ' "$COMPAT_OUT/jvm.native.out") of 6 parts ok"
[ "$nst" -eq 0 ] || { tail -5 "$COMPAT_OUT/jvm.native.out"; compat_result FAIL "native run failed: the program is wrong here"; }

st=0
timeout 100 "$GREENRUN" -- java "${jargs[@]}" >"$COMPAT_OUT/jvm.greenrun.out" 2>&1 || st=$?
sed 's/^/    greenrun| /' "$COMPAT_OUT/jvm.greenrun.out" | head -12
nok=$(grep -c '^ok ' "$COMPAT_OUT/jvm.greenrun.out" || true)
live=$(sed -n 's/.*OS threads while alive: //p' "$COMPAT_OUT/jvm.greenrun.out")
if [ "$st" -eq 0 ] && [ "$nok" -eq 6 ]; then
	compat_result PASS "all 6 parts exact: $N platform threads alive at once on ${live:-?} OS threads; monitors, executor exceptions, fork/join, StackOverflowErrors in 16 threads, GC"
fi
compat_result FAIL "$nok of 6 parts passed, status $st (${live:-?} OS threads)"
