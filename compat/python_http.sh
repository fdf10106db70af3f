#!/usr/bin/env bash
# compat/python_http.sh - CPython's http.server under greenrun, driven by wrk.
#
# `python3 -m http.server` is a ThreadingHTTPServer: one Python thread per
# connection, blocking accept/recv/send (HTTP/1.0, so every request is a new
# connection and a new thread).  It serves a directory holding a 16 KiB
# file of known bytes.  Checks, natively and under greenrun:
#   - urllib: the file comes back byte for byte, a missing file gives 404,
#     the directory listing names the file;
#   - wrk, 2 threads x 64 connections for $SECS s with compat/wrk_verify.lua:
#     every response counted must be status 200 with the exact body; wrk's
#     socket errors (connect/read/write/timeout) are reported as they are
#     (http.server's listen backlog is 5, so some connects time out
#     natively too) and do not fail the run;
#   - afterwards the server still answers a verified request.
# Then the issue's acceptance shape, under greenrun only: wrk -c 1000 for
# 10 s with GREENRUN_LISTEN_BACKLOG=4096 (greenrun's knob that raises the
# 5-connection listen backlog; natively and by default SYNs are dropped
# when bursts overflow it, which wrk reports as timeouts).
# PASS: both greenrun runs have no bad response, at least 1,000 verified
# ones each, and pass the urllib checks before and after; the 1,000-
# connection run also has zero socket errors.  The figure compares
# requests/s and the server's OS threads (sampled during the load).
source "$(dirname "$0")/lib.sh"

SECS=${SECS:-8}
compat_need /usr/bin/python3 python3 wrk wrk
compat_build

WWW=$COMPAT_OUT/www
mkdir -p "$WWW"
/usr/bin/python3 -c "
import random
r = random.Random(8)
open('$WWW/data.bin', 'wb').write(bytes(r.getrandbits(8) for _ in range(16384)))"

# check_urllib PORT: the three urllib checks; prints why on failure.
check_urllib() {
	/usr/bin/python3 - "$1" "$WWW/data.bin" <<'EOF'
import sys, urllib.request, urllib.error
port, path = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}"
want = open(path, "rb").read()
with urllib.request.urlopen(base + "/data.bin", timeout=10) as r:
    body = r.read()
    assert r.status == 200 and body == want, f"data.bin: status {r.status}, {len(body)} bytes"
try:
    urllib.request.urlopen(base + "/missing.txt", timeout=10)
    raise AssertionError("missing file did not give 404")
except urllib.error.HTTPError as e:
    assert e.code == 404, f"missing file: status {e.code}"
with urllib.request.urlopen(base + "/", timeout=10) as r:
    assert b"data.bin" in r.read(), "listing does not name data.bin"
EOF
}

# run_one MODE [CONNS [SECS]]: serve and load; sets rps, good, bad, errs,
# threads, ok.  MODE: native, greenrun, or backlog (greenrun with
# GREENRUN_LISTEN_BACKLOG=4096).
run_one() {
	local mode=$1 conns=${2:-64} secs=${3:-$SECS} port log pid wout
	port=$(compat_free_port)
	log=$COMPAT_OUT/python_http.$mode.server.log
	wout=$COMPAT_OUT/python_http.$mode.wrk.txt
	local -a pre=()
	[ "$mode" = greenrun ] && pre=("$GREENRUN" --)
	[ "$mode" = backlog ] && pre=(env GREENRUN_LISTEN_BACKLOG=4096 "$GREENRUN" --)
	compat_bg "$log" "${pre[@]}" /usr/bin/python3 -m http.server "$port" \
		--bind 127.0.0.1 --directory "$WWW"
	pid=$COMPAT_BG_PID
	ok=1
	if ! compat_wait_port "$port" "$pid" 20; then
		compat_log "$mode: server did not start"; tail -5 "$log"; ok=0; return
	fi
	check_urllib "$port" || { compat_log "$mode: urllib checks failed before the load"; ok=0; }
	(sleep $((secs / 2)); compat_threads "$pid" >"$COMPAT_OUT/python_http.$mode.threads") &
	local sampler=$!
	timeout $((secs + 30)) wrk -t2 -c"$conns" -d"${secs}s" --timeout 2s -s "$COMPAT_ROOT/compat/wrk_verify.lua" \
		"http://127.0.0.1:$port/data.bin" -- "$WWW/data.bin" >"$wout" 2>&1 || true
	wait "$sampler" || true
	threads=$(cat "$COMPAT_OUT/python_http.$mode.threads" 2>/dev/null || echo "?")
	rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$wout")
	good=$(sed -n 's/^verify: good=\([0-9]*\) bad=.*/\1/p' "$wout")
	bad=$(sed -n 's/^verify: good=[0-9]* bad=\([0-9]*\)/\1/p' "$wout")
	errs=$(sed -n 's/^errors: //p' "$wout")
	compat_log "$mode: ${rps:-?} req/s, verified good=${good:-?} bad=${bad:-?}; socket errors: ${errs:-?}; server OS threads $threads"
	if ! kill -0 "$pid" 2>/dev/null; then
		compat_log "$mode: server died"; tail -5 "$log"; ok=0; return
	fi
	check_urllib "$port" || { compat_log "$mode: urllib checks failed after the load"; ok=0; }
	[ -n "$good" ] && [ "$good" -ge 1000 ] && [ "${bad:-1}" -eq 0 ] || ok=0
	compat_stop "$pid" || true
}

ulimit -n "$(ulimit -Hn)"
run_one native
n_rps=$rps n_errs=$errs n_threads=$threads
run_one greenrun
g_ok=$ok
fig="greenrun $rps req/s ($good verified, $bad bad, errors: $errs, $threads OS threads); native $n_rps req/s ($n_errs, $n_threads OS threads)"
run_one backlog 1000 10
[ "$errs" = "connect=0 read=0 write=0 status=0 timeout=0" ] || ok=0
fig="$fig; wrk -c 1000 -d 10s with GREENRUN_LISTEN_BACKLOG=4096: $rps req/s ($good verified, $bad bad, errors: $errs)"
[ "$ok" = 1 ] && [ "$g_ok" = 1 ] && compat_result PASS "$fig"
compat_result FAIL "$fig"
