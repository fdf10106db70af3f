#!/usr/bin/env bash
# compat/ruby_threads.sh - 10,000 Ruby threads (compat/ruby_threads.rb:
# Thread.new, all alive at once, sleep, join through Thread#value, count
# and values exact), natively and under greenrun.
# PASS: the greenrun run exits 0.  The figure compares time and OS threads.
source "$(dirname "$0")/lib.sh"

N=${N:-10000}
compat_need ruby ruby
compat_build

nst=0 st=0
timeout 100 ruby "$COMPAT_ROOT/compat/ruby_threads.rb" "$N" >"$COMPAT_OUT/ruby_threads.native.out" 2>&1 || nst=$?
timeout 100 "$GREENRUN" -- ruby "$COMPAT_ROOT/compat/ruby_threads.rb" "$N" >"$COMPAT_OUT/ruby_threads.greenrun.out" 2>&1 || st=$?
sed 's/^/  /' "$COMPAT_OUT/ruby_threads.greenrun.out"
val() { sed -n "s/^$2: //p" "$COMPAT_OUT/ruby_threads.$1.out"; }
fig="$(val greenrun joined)/$N joined, values exact, $(val greenrun 'alive at once') alive at once on $(val greenrun 'os threads while alive') OS threads, $(val greenrun 'total seconds') s; native $(val native 'total seconds') s on $(val native 'os threads while alive') OS threads"
[ "$nst" -eq 0 ] || compat_log "native run failed (status $nst)"
[ "$st" -eq 0 ] && compat_result PASS "$fig"
compat_result FAIL "status $st; $fig"
