#!/usr/bin/env bash
# compat/cxx_threads.sh - a C++20 threading program (compat/cxx_threads.cc:
# std::thread, std::async, thread_local, exceptions across threads through
# std::exception_ptr and future.get(), promise pipelines, condvar queue,
# shared_mutex, jthread/stop_token, latch, barrier, counting_semaphore,
# atomic wait, 10,000 threads blocked on one shared_future) built with g++
# and run natively and under greenrun.
# PASS: greenrun exits 0, every part printed "ok", and its output is line
# for line the native output (all figures are exact by construction).
source "$(dirname "$0")/lib.sh"

compat_need g++ g++
compat_build

bin=$COMPAT_OUT/cxx_threads
g++ -std=c++20 -O2 -g -pthread -Wall -Wextra -o "$bin" "$COMPAT_ROOT/compat/cxx_threads.cc"
nst=0 gst=0
timeout 100 "$bin" >"$COMPAT_OUT/cxx_threads.native.out" 2>&1 || nst=$?
t0=$EPOCHREALTIME
timeout 100 "$GREENRUN" -- "$bin" >"$COMPAT_OUT/cxx_threads.greenrun.out" 2>&1 || gst=$?
t1=$EPOCHREALTIME
sed 's/^/  /' "$COMPAT_OUT/cxx_threads.greenrun.out"
total=$(sed -n 's/^total: //p' "$COMPAT_OUT/cxx_threads.greenrun.out")
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
if [ "$nst" -ne 0 ]; then
	compat_result FAIL "native run failed (status $nst): the program is wrong here"
fi
if [ "$gst" -eq 0 ] && cmp -s "$COMPAT_OUT/cxx_threads.native.out" "$COMPAT_OUT/cxx_threads.greenrun.out"; then
	compat_result PASS "$total; output identical to native; ${secs} s"
fi
diff "$COMPAT_OUT/cxx_threads.native.out" "$COMPAT_OUT/cxx_threads.greenrun.out" | head -10 | sed 's/^/  /'
compat_result FAIL "status $gst; output differs from native"
