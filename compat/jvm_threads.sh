#!/usr/bin/env bash
# compat/jvm_threads.sh - the JVM (OpenJDK 17) with 10,000 platform threads.
#
# compat/JvmThreads.java: 10,000 platform threads alive at once (count and
# sum exact), synchronized/wait/notify, an executor with exceptions through
# Future.get, a parallel stream, StackOverflowError caught in 16 threads,
# allocation beside System.gc().
#
# greenrun refuses to run a JVM (shim/refuse.c): the JVM's SIGSEGV handling
# needs per-thread signal masks inside signal handlers that greenrun does
# not keep yet (tests/pending/signal_handler_mask.c), and it would die at
# random.  So this script checks:
#   - the program passes natively (sanity);
#   - `greenrun -- java ...` is refused before main() with greenrun's
#     message naming why (exit status 127);
#   - for information, the same run with GREENRUN_ALLOW_JVM=1: which parts
#     pass (the known failure is the StackOverflowError part: the process
#     dies of SIGSEGV).  Its outcome does not change the result.
# REFUSED: refused as designed, with the message.  FAIL otherwise.
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
timeout 60 "$GREENRUN" -- java "${jargs[@]}" >"$COMPAT_OUT/jvm.greenrun.out" 2>&1 || st=$?
msg=$(grep -m1 '^greenrun: ' "$COMPAT_OUT/jvm.greenrun.out" || true)
compat_log "greenrun: status $st: ${msg:-no message}"

ast=0
GREENRUN_ALLOW_JVM=1 timeout 100 "$GREENRUN" -- java "${jargs[@]}" >"$COMPAT_OUT/jvm.allowed.out" 2>&1 || ast=$?
sed 's/^/    allowed| /' "$COMPAT_OUT/jvm.allowed.out" | head -12
nok=$(grep -c '^ok ' "$COMPAT_OUT/jvm.allowed.out" || true)
live=$(sed -n 's/.*OS threads while alive: //p' "$COMPAT_OUT/jvm.allowed.out")
case $ast in
0) allowed="all 6 parts passed this time (${live:-?} OS threads for $N live threads)" ;;
139) allowed="$nok of 6 parts passed, then died of SIGSEGV (${live:-?} OS threads for $N live threads)" ;;
*) allowed="$nok of 6 parts passed, status $ast" ;;
esac
compat_log "GREENRUN_ALLOW_JVM=1: $allowed"

if [ "$st" -eq 127 ] && [[ $msg == *"Java virtual machine is not supported yet"* ]]; then
	compat_result REFUSED "greenrun refuses the JVM with a message (signal masks in handlers: tests/pending/signal_handler_mask.c); with GREENRUN_ALLOW_JVM=1: $allowed"
fi
compat_result FAIL "greenrun did not refuse the JVM (status $st); with GREENRUN_ALLOW_JVM=1: $allowed"
