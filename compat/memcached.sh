#!/usr/bin/env bash
# compat/memcached.sh - memcached under greenrun, checked by three clients.
#
# memcached's 4 worker threads each block in epoll_wait on their own epoll
# fd (libevent), the listener thread hands connections over through pipes:
# the pattern greenrun's netpoller must carry for epoll fds of the program.
# Checks:
#   - memcping answers;
#   - memccapable (libmemcached-tools): the protocol conformance suite,
#     ASCII and binary, must end with "All tests passed";
#   - compat/mc_check.py: 64 connections x 1,000 keys of 1..8,000 bytes,
#     every get / multi-get / incr / decr / cas / add / delete answer checked
#     exactly;
#   - flush_all (memcflush), then memcaslap, 2 threads x 64 connections for $SECS s with --verify=1.0
#     (every get's data checked): verify_misses and verify_failed must be 0;
#   - memcached still runs afterwards; its OS threads are sampled.
# PASS: all of the above.
source "$(dirname "$0")/lib.sh"

SECS=${SECS:-6}
compat_need memcached memcached memccapable libmemcached-tools /usr/bin/python3 python3
compat_build

port=$(compat_free_port)
user=()
[ "$(id -u)" -eq 0 ] && user=(-u root)
compat_bg "$COMPAT_OUT/memcached.server.log" "$GREENRUN" -- memcached "${user[@]}" \
	-l 127.0.0.1 -p "$port" -U 0 -t 4 -c 4096 -m 1024
pid=$COMPAT_BG_PID
compat_wait_port "$port" "$pid" 20 || { tail -5 "$COMPAT_OUT/memcached.server.log"; compat_result FAIL "memcached did not start"; }
ok=1
memcping --servers="127.0.0.1:$port" || { compat_log "memcping failed"; ok=0; }
timeout 60 memccapable -h 127.0.0.1 -p "$port" >"$COMPAT_OUT/memccapable.out" 2>&1 || true
ncap=$(grep -c '\[pass\]' "$COMPAT_OUT/memccapable.out" || true)
if grep -q "All tests passed" "$COMPAT_OUT/memccapable.out"; then
	compat_log "memccapable: all $ncap tests passed"
else
	compat_log "memccapable failed:"; grep -v '\[pass\]' "$COMPAT_OUT/memccapable.out" | tail -5; ok=0
fi
t0=$EPOCHREALTIME
if timeout 90 /usr/bin/python3 "$COMPAT_ROOT/compat/mc_check.py" "$port" 64 1000 >"$COMPAT_OUT/mc_check.out" 2>&1; then
	compat_log "mc_check: $(cat "$COMPAT_OUT/mc_check.out") ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}') s)"
else
	compat_log "mc_check failed:"; tail -5 "$COMPAT_OUT/mc_check.out"; ok=0
fi
memcflush --servers="127.0.0.1:$port" || { compat_log "memcflush failed"; ok=0; }
(sleep $((SECS / 2)); compat_threads "$pid" >"$COMPAT_OUT/memcached.threads") &
sampler=$!
timeout $((SECS + 30)) memcaslap -s "127.0.0.1:$port" -T 2 -c 64 -t "${SECS}s" --verify=1.0 \
	>"$COMPAT_OUT/memcaslap.out" 2>&1 || true
wait "$sampler" || true
tps=$(sed -n 's/.*TPS: \([0-9]*\).*/\1/p' "$COMPAT_OUT/memcaslap.out" | tail -1)
vmiss=$(awk '/^verify_misses:/ {print $2}' "$COMPAT_OUT/memcaslap.out" | tail -1)
vfail=$(awk '/^verify_failed:/ {print $2}' "$COMPAT_OUT/memcaslap.out" | tail -1)
gets=$(awk '/^cmd_get:/ {print $2}' "$COMPAT_OUT/memcaslap.out" | tail -1)
compat_log "memcaslap: ${tps:-?} ops/s, ${gets:-?} gets verified, verify_misses=${vmiss:-?} verify_failed=${vfail:-?}"
[ -n "$tps" ] && [ "${vmiss:-1}" = 0 ] && [ "${vfail:-1}" = 0 ] || { tail -5 "$COMPAT_OUT/memcaslap.out"; ok=0; }
kill -0 "$pid" 2>/dev/null || { compat_log "memcached died"; ok=0; }
memcping --servers="127.0.0.1:$port" || ok=0
threads=$(cat "$COMPAT_OUT/memcached.threads" 2>/dev/null || echo "?")
fig="memccapable $ncap/$ncap, mc_check 64k sets+gets exact, memcaslap ${tps:-?} ops/s with ${gets:-?} verified gets (${vfail:-?} failed), $threads OS threads"
[ "$ok" = 1 ] && compat_result PASS "$fig"
compat_result FAIL "$fig"
