#!/usr/bin/env bash
# compat/python_threads.sh - 100,000 CPython threading.Thread objects alive
# at once under greenrun (compat/py_threads.py: each sleeps, stores its
# index, is joined; the count and every slot are checked exactly).
# Natively this cannot run here: kernel.pid_max is 32,768.
# PASS: py_threads.py exits 0 (all joined, every slot exact).  The figure
# gives how many were alive at once, the OS threads then, time and RSS.
source "$(dirname "$0")/lib.sh"

N=${N:-100000}
compat_need /usr/bin/python3 python3 /usr/bin/time time
compat_build

out=$COMPAT_OUT/python_threads.out
st=0
/usr/bin/time -f "rss_kb: %M" -o "$COMPAT_OUT/python_threads.time" \
	timeout 110 "$GREENRUN" -- /usr/bin/python3 "$COMPAT_ROOT/compat/py_threads.py" "$N" >"$out" 2>&1 || st=$?
sed 's/^/  /' "$out"
val() { sed -n "s/^$1: //p" "$out"; }
rss=$(sed -n 's/^rss_kb: //p' "$COMPAT_OUT/python_threads.time" 2>/dev/null)
fig="$(val joined)/$N joined, $(val 'alive at once') alive at once on $(val 'os threads while alive') OS threads, $(val 'total seconds') s, RSS $((${rss:-0} / 1024)) MiB"
[ "$st" -eq 0 ] && compat_result PASS "$fig"
compat_result FAIL "exit status $st; $fig"
