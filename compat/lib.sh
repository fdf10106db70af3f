# compat/lib.sh - helpers sourced by every compat/*.sh real-program run.
#
# Contract of a compat script (compat/run.sh relies on it):
#   - it installs what it needs with compat_need (Debian packages, skipped
#     when already installed), builds greenrun if needed, runs one real,
#     unmodified program under build/greenrun on 127.0.0.1 and drives it
#     with a real client for a bounded time;
#   - it checks results, not only survival, and prints its findings;
#   - its last line is "RESULT: PASS|FAIL|KNOWN|REFUSED <key figure>",
#     printed by compat_result, which also sets the exit status (0 unless
#     FAIL).  KNOWN: a failure that has a pending test in tests/pending/
#     and is named in the figure; REFUSED: greenrun refused the program on
#     purpose (shim/refuse.c) and said why;
#   - everything it starts is killed by PID when it exits (compat_bg).
# Scripts run from anywhere; paths are absolute.  Root is needed only to
# install packages.
set -euo pipefail

COMPAT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GREENRUN=$COMPAT_ROOT/build/greenrun
COMPAT_OUT=$COMPAT_ROOT/build/compat
mkdir -p "$COMPAT_OUT"

# compat_log MSG...: a progress line on stdout.
compat_log() {
	printf '  %s\n' "$*"
}

# compat_need CMD PKG [CMD PKG]...: make sure each command CMD exists,
# installing Debian package PKG when it does not (apt-get update first only
# when apt knows no candidate for it).  Fails with the apt-get command to
# run when not root.
compat_need() {
	local missing=() cmd pkg p cand
	while [ $# -ge 2 ]; do
		cmd=$1 pkg=$2
		shift 2
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "compat: missing ${missing[*]}; as root run:" >&2
		echo "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
		return 1
	fi
	compat_log "installing ${missing[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	for p in "${missing[@]}"; do
		cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
		if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
			apt-get update -qq
			break
		fi
	done
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$COMPAT_OUT/apt.log" 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
}

# compat_build: build/libgreenrun.so and build/greenrun, if missing.
compat_build() {
	if [ ! -x "$GREENRUN" ] || [ ! -f "$COMPAT_ROOT/build/libgreenrun.so" ]; then
		make -C "$COMPAT_ROOT" --no-print-directory all >/dev/null
	fi
}

# Background processes started with compat_bg, killed on exit.
COMPAT_PIDS=()
compat_cleanup() {
	local pid
	for pid in "${COMPAT_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	COMPAT_PIDS=()
}
trap compat_cleanup EXIT
trap 'exit 130' INT TERM

# compat_bg LOG CMD...: start CMD in the background, output to LOG; sets
# COMPAT_BG_PID.
compat_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	COMPAT_BG_PID=$!
	COMPAT_PIDS+=("$COMPAT_BG_PID")
}

# compat_stop PID: SIGTERM, then SIGKILL after 5 s; returns the exit status.
compat_stop() {
	local pid=$1 i st=0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || st=$?
	return "$st"
}

# compat_free_port: print a TCP port nobody listens on (from 20000 up).
compat_free_port() {
	/usr/bin/python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

# compat_wait_port PORT PID SECONDS: wait until 127.0.0.1:PORT accepts a
# connection; fails early when PID died.
compat_wait_port() {
	local port=$1 pid=$2 secs=$3 i
	for i in $(seq $((secs * 10))); do
		if /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# compat_threads PID: the OS thread count of PID ("Threads:" in status).
compat_threads() {
	awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"
}

# compat_result PASS|FAIL|KNOWN|REFUSED FIGURE...: the last line; exits.
compat_result() {
	local res=$1
	shift
	echo "RESULT: $res $*"
	compat_cleanup
	[ "$res" != FAIL ]
	exit $?
}
