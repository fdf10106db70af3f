#!/usr/bin/env bash
# scripts/trace-screenshot.sh - issue #5 acceptance 3: trace the echo demo,
# check the trace is valid JSON with the documented fields, turn it into the
# HTML timeline and screenshot it with headless Chromium.
#
#   scripts/trace-screenshot.sh [OUT.png]     (default build/trace-echo.png)
#
# Runs compat/echo_server.c under greenrun with GREENRUN_TRACE, drives it
# with compat/loadgen.c (CONNS=200 connections for SECS=1 s by default: the
# trace of the 10,000-connection demo would be gigabytes), then stops the
# server with SIGQUIT; GREENRUN_SIGQUIT_DUMP=1 makes greenrun print a thread
# dump and close the trace (flushing every buffer) before the process dies.
# Then:
#   - the trace must parse as JSON (python3 -m json.tool, or jq) and hold
#     run spans with args g/m/end/reason, syscall or netpoll spans, and
#     create/unblock instants (checked with jq when present, else grep);
#   - `build/greenrun trace FILE --html build/trace-echo.html`;
#   - chromium --headless --screenshot of that page (1600x900), which must
#     be a PNG of reasonable size.
# Needs Debian's chromium package (apt-get install chromium): not part of
# `make check`.  docs/trace-echo.png in the README was made by this script.
set -euo pipefail
cd "$(dirname "$(realpath "$0")")/.."

OUT=${1:-build/trace-echo.png}
CONNS=${CONNS:-200}
SECS=${SECS:-1}
BUILD=build
CC=${CC:-cc}
TRACE=$BUILD/trace-echo.json
HTML=$BUILD/trace-echo.html
ulimit -c 0 2>/dev/null || true

make -s all
"$CC" -std=gnu11 -O2 -g -pthread -Wall -o "$BUILD/echo_server" compat/echo_server.c
"$CC" -std=gnu11 -O2 -g -Wall -o "$BUILD/loadgen" compat/loadgen.c
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "trace-screenshot: chromium not found (apt-get install chromium)"; exit 1; }

rm -f "$TRACE"
# A background job of a script starts with SIGQUIT ignored, and greenrun
# only dumps on SIGQUIT when it has its default action: restore it.
GREENRUN_TRACE=$TRACE GREENRUN_SIGQUIT_DUMP=1 env --default-signal=QUIT \
	"$BUILD/greenrun" -- "$BUILD/echo_server" \
	>"$BUILD/trace-echo.server" 2>&1 &
server=$!
port=''
for _ in $(seq 100); do
	port=$(sed -n 's/^listening on //p' "$BUILD/trace-echo.server" 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "server did not start"; exit 1; }
"$BUILD/loadgen" "$port" "$CONNS" "$SECS" | sed 's/^/loadgen: /'
kill -QUIT "$server"
wait "$server" || true

echo "trace: $(wc -c <"$TRACE") bytes"
if command -v python3 >/dev/null; then
	python3 -m json.tool "$TRACE" >/dev/null && echo "trace: valid JSON (python3 -m json.tool)"
fi
if command -v jq >/dev/null; then
	jq -e 'type == "array"' "$TRACE" >/dev/null
	runs=$(jq '[.[] | select(.cat == "run" and .ph == "X" and (.args | has("g") and has("m") and has("end") and has("reason")))] | length' "$TRACE")
	sys=$(jq '[.[] | select(.cat == "syscall" or .cat == "netpoll")] | length' "$TRACE")
	inst=$(jq '[.[] | select(.ph == "i" and (.name == "create" or .name == "unblock"))] | length' "$TRACE")
	bad=$(jq '[.[] | select(has("ph") and has("pid") | not)] | length' "$TRACE")
	echo "trace: $runs run spans, $sys syscall/netpoll spans, $inst create/unblock events, $bad malformed"
	[ "$runs" -gt 0 ] && [ "$sys" -gt 0 ] && [ "$inst" -gt 0 ] && [ "$bad" -eq 0 ] ||
		{ echo "FAIL: trace lacks documented events"; exit 1; }
fi

"$BUILD/greenrun" trace "$TRACE" --html "$HTML"
echo "html: $HTML ($(wc -c <"$HTML") bytes)"
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1600,900 --virtual-time-budget=10000 \
	--screenshot="$(realpath -m "$OUT")" "file://$(realpath "$HTML")" 2>"$BUILD/trace-echo.chromium.log" || true
[ -s "$OUT" ] || { echo "FAIL: no screenshot (see $BUILD/trace-echo.chromium.log)"; exit 1; }
size=$(wc -c <"$OUT")
[ "$size" -gt 20000 ] || { echo "FAIL: screenshot suspiciously small ($size bytes)"; exit 1; }
echo "screenshot: $OUT ($size bytes)"
echo "PASS trace-screenshot"
