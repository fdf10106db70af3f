#!/usr/bin/env bash
# tests/run-progs.sh - greenrun's integration test runner (`make progs`).
#
# Builds every tests/prog/*.c and tests/prog/*.cc into build/tests/ and runs
# each one under build/greenrun, checking its exit status and output.
#
#   tests/run-progs.sh [--no-native] [NAME...]
#
#   NAME         run only these tests (file name without .c/.cc; a path or
#                a name with its extension is accepted too)
#   --no-native  skip the native sanity runs
#
# Contract with the test writer: each test is a self-checking program that
# knows nothing of greenrun (exit status 0 = pass; it prints its own
# diagnostics).  C is built with `cc -std=gnu11 -O2 -g -pthread -Wall`, C++
# with `c++ -std=c++17 -O2 -g -pthread`.  Optional directives, one per comment
# line anywhere in the source:
#
#   // greenrun-test: env=VAR=VAL [VAR=VAL...]  one run with these variables;
#                                   several env= lines = several runs; none =
#                                   one run with no extra variables
#   // greenrun-test: expect-status=N        exit status (default 0)
#   // greenrun-test: expect-signal=NAME     must die of signal NAME (SEGV,
#                                   SIGSEGV or a number); checked as the
#                                   status 128+signo a shell shows
#   // greenrun-test: expect-stderr=REGEX    extended regex that must match a
#                                   line of stderr (several lines: all must)
#   // greenrun-test: expect-stdout=REGEX    the same for stdout
#   // greenrun-test: native=no             no native sanity run
#   // greenrun-test: timeout=SECONDS       per run (default 120), then killed
#   // greenrun-test: lib=NAME              link build/tests/libNAME.so, built
#                                   from tests/prog/lib/NAME.c (repeatable)
#   // greenrun-test: args=...              command-line arguments
#   // greenrun-test: cflags=...            extra compiler/linker flags
#
# env=, args= and cflags= values are split into words like xargs does:
# on blanks, with '...', "..." and backslash quoting (never evaluated).
#
# Unless --no-native or native=no, each test first runs once natively (with
# the first env= set) and must meet the same expectations; a failure there
# means the test itself is wrong on this machine: it is reported as
# NATIVE-FAIL, counted as one failure, and the greenrun runs are skipped.
# A passing native run prints nothing and is not counted.
#
# Output: one line per run, `PASS name [env] (time)` or
# `FAIL name [env]: reason` followed by the last 20 lines of stderr and
# stdout, and a command to reproduce it.  Run output is kept in
# build/tests/NAME.<run>.out/.err (<run> = 1, 2, ... or native).  The last
# line is exactly `N passed, N failed` (CI parses it); the exit status is
# non-zero when anything failed or nothing ran.
#
# Environment: CC, CXX (compilers, default cc / c++), GREENRUN (launcher,
# default build/greenrun).
set -euo pipefail

# All paths are relative to the repository root, where the tests also run.
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/.."

CC=${CC:-cc}
CXX=${CXX:-c++}
GREENRUN=${GREENRUN:-build/greenrun}
OUT=build/tests
SRC=tests/prog
CFLAGS_C=(-std=gnu11 -O2 -g -pthread -Wall)
CFLAGS_CXX=(-std=c++17 -O2 -g -pthread)
CFLAGS_LIB=(-std=gnu11 -shared -fPIC -O2 -g -pthread -Wall)
DEFAULT_TIMEOUT=120
KILL_GRACE=5          # seconds between SIGTERM and SIGKILL on timeout
TAIL_LINES=20

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"
}

native=1
filters=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-native) native=0 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; filters+=("$@"); break ;;
	-*) echo "run-progs.sh: unknown option '$1'" >&2; exit 2 ;;
	*) filters+=("$1") ;;
	esac
	shift
done

mkdir -p "$OUT"
# No core files from tests that are meant to crash.
ulimit -c 0 2>/dev/null || true

passed=0
failed=0

# split_words STRING: print STRING's words NUL-terminated (xargs quoting).
split_words() {
	printf '%s' "$1" | xargs -r printf '%s\0'
}

# now: wall clock in seconds with microseconds.
now() {
	printf '%s\n' "${EPOCHREALTIME:-$(date +%s.%N)}"
}

# show_tail LABEL FILE: the last lines of FILE, indented, if it has any.
show_tail() {
	if [ -s "$2" ]; then
		echo "    --- $1 (last $TAIL_LINES lines of $2) ---"
		tail -n "$TAIL_LINES" "$2" | sed 's/^/    | /'
	fi
}

# fail_build NAME REASON [LOG]: report a test that could not be built.
fail_build() {
	echo "FAIL $1: $2"
	[ $# -lt 3 ] || show_tail "build log" "$3"
	failed=$((failed + 1))
}

# Per-test settings, filled by parse_directives.
envs=() args="" cflags="" libs=() expect_status=0 expect_signal=""
expect_stderr=() expect_stdout=() run_native=1 tmo=$DEFAULT_TIMEOUT
parse_error=""

# parse_directives FILE: read the `greenrun-test:` comment lines.
parse_directives() {
	local line key val re='^[[:space:]]*(//+|/\*+|\*+)[[:space:]]*greenrun-test:[[:space:]]*([A-Za-z-]+)=(.*)$'
	envs=() args="" cflags="" libs=() expect_status=0 expect_signal=""
	expect_stderr=() expect_stdout=() run_native=1 tmo=$DEFAULT_TIMEOUT
	parse_error=""
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line == *greenrun-test:* ]] || continue
		if ! [[ $line =~ $re ]]; then
			parse_error="bad directive: $line"
			return
		fi
		key=${BASH_REMATCH[2]}
		val=${BASH_REMATCH[3]}
		val=${val%"*/"}                     # a /* ... */ comment's end
		val=${val%"${val##*[![:space:]]}"}  # trailing blanks
		case $key in
		env)
			# Every word must be VAR=VALUE (env(1) would run anything else).
			local w
			local -a ws=()
			mapfile -d '' -t ws < <(split_words "$val")
			for w in "${ws[@]}"; do
				[[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || { parse_error="env: not VAR=VALUE: $w"; return; }
			done
			envs+=("$val")
			;;
		args) args=$val ;;
		cflags) cflags=$val ;;
		lib) libs+=("$val") ;;
		expect-status)
			[[ $val =~ ^[0-9]+$ ]] || { parse_error="expect-status: not a number: $val"; return; }
			expect_status=$((10#$val))
			;;
		expect-signal)
			local num
			if [[ $val =~ ^[0-9]+$ ]]; then
				num=$((10#$val))
			else
				num=$(kill -l "${val#SIG}" 2>/dev/null) || { parse_error="expect-signal: unknown signal: $val"; return; }
			fi
			expect_signal=$num
			;;
		expect-stderr) expect_stderr+=("$val") ;;
		expect-stdout) expect_stdout+=("$val") ;;
		native)
			case $val in
			no) run_native=0 ;;
			yes) run_native=1 ;;
			*) parse_error="native: want yes or no: $val"; return ;;
			esac
			;;
		timeout)
			if ! [[ $val =~ ^[0-9]+$ ]] || [ "$((10#$val))" -eq 0 ]; then
				parse_error="timeout: not a positive number: $val"
				return
			fi
			tmo=$((10#$val))
			;;
		*) parse_error="unknown directive '$key'"; return ;;
		esac
	done <"$1"
	[ ${#envs[@]} -gt 0 ] || envs=("")
}

# build_test NAME SRCFILE: compile the test (and its libs) if out of date.
# Returns non-zero after reporting a FAIL.
build_test() {
	local name=$1 src=$2 exe=$OUT/$1 log=$OUT/$1.build.log lib lsrc
	local -a link=() extra=() cmd=()
	for lib in "${libs[@]}"; do
		lsrc=$SRC/lib/$lib.c
		if [ ! -f "$lsrc" ]; then
			fail_build "$name" "lib=$lib: no $lsrc"
			return 1
		fi
		if [ ! -f "$OUT/lib$lib.so" ] || [ "$lsrc" -nt "$OUT/lib$lib.so" ] || [ "$SELF" -nt "$OUT/lib$lib.so" ]; then
			if ! "$CC" "${CFLAGS_LIB[@]}" "$lsrc" -o "$OUT/lib$lib.so" >"$log" 2>&1; then
				fail_build "$name" "building lib$lib.so failed" "$log"
				return 1
			fi
		fi
		link+=("-l$lib")
	done
	# $ORIGIN is for the dynamic linker, hence single quotes.
	# shellcheck disable=SC2054,SC2016
	[ ${#link[@]} -eq 0 ] || link=(-L"$OUT" "${link[@]}" -Wl,-rpath,'$ORIGIN')
	mapfile -d '' -t extra < <(split_words "$cflags")

	# Up to date: newer than its source, its libraries and this script.
	local stale=0
	if [ ! -x "$exe" ] || [ "$src" -nt "$exe" ] || [ "$SELF" -nt "$exe" ]; then
		stale=1
	else
		for lib in "${libs[@]}"; do
			if [ "$OUT/lib$lib.so" -nt "$exe" ]; then
				stale=1
			fi
		done
	fi
	[ "$stale" -eq 1 ] || return 0

	case $src in
	*.cc) cmd=("$CXX" "${CFLAGS_CXX[@]}") ;;
	*) cmd=("$CC" "${CFLAGS_C[@]}") ;;
	esac
	# Extra flags after the source so that -l flags work; -D/-f/-W apply
	# to the whole command line anyway.
	cmd+=(-o "$exe" "$src" "${extra[@]}" "${link[@]}")
	if ! "${cmd[@]}" >"$log" 2>&1; then
		rm -f "$exe"
		fail_build "$name" "build failed: ${cmd[*]}" "$log"
		return 1
	fi
	return 0
}

# run_one NAME RUN ENVSTRING MODE: one run (MODE = native or greenrun);
# sets $reason to "" on pass or to why it failed, and $elapsed.
reason="" elapsed="" repro=""
run_one() {
	local name=$1 run=$2 envstr=$3 mode=$4
	local out=$OUT/$name.$run.out err=$OUT/$name.$run.err
	local -a envv=() argv=() cmd=()
	mapfile -d '' -t envv < <(split_words "$envstr")
	mapfile -d '' -t argv < <(split_words "$args")
	cmd=(env "${envv[@]}" timeout -k "$KILL_GRACE" "$tmo")
	if [ "$mode" = greenrun ]; then
		cmd+=("$GREENRUN" -- "$OUT/$name")
	else
		cmd+=("$OUT/$name")
	fi
	cmd+=("${argv[@]}")
	# The same command without timeout(1), shell-quoted, for the report.
	repro=$(printf '%q ' "${envv[@]}" "${cmd[@]:$((${#envv[@]} + 5))}")
	repro=${repro% }

	local t0 t1 rc=0
	t0=$(now)
	# The braces keep bash's own "Segmentation fault" notices off our output.
	{ "${cmd[@]}" </dev/null >"$out" 2>"$err"; } 2>/dev/null || rc=$?
	t1=$(now)
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1fs", b - a }')

	reason=""
	# timeout(1) exits 124 after SIGTERM, 137 after the SIGKILL that
	# follows; 137 within the time limit is the program's own SIGKILL.
	if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } &&
		awk -v a="$t0" -v b="$t1" -v t="$tmo" 'BEGIN { exit !(b - a >= t) }'; then
		reason="timed out after ${tmo}s"
		return
	fi
	if [ -n "$expect_signal" ]; then
		if [ "$rc" -ne $((128 + expect_signal)) ]; then
			reason="expected death by SIG$(kill -l "$expect_signal"), got $(describe_status "$rc")"
			return
		fi
	elif [ "$rc" -ne "$expect_status" ]; then
		reason="expected exit status $expect_status, got $(describe_status "$rc")"
		return
	fi
	local re
	for re in "${expect_stderr[@]}"; do
		grep -aEq -- "$re" "$err" || { reason="stderr does not match /$re/"; return; }
	done
	for re in "${expect_stdout[@]}"; do
		grep -aEq -- "$re" "$out" || { reason="stdout does not match /$re/"; return; }
	done
}

# describe_status RC: "status N" or "SIGNAME (status N)".
describe_status() {
	local rc=$1 sig
	if [ "$rc" -gt 128 ] && sig=$(kill -l $((rc - 128)) 2>/dev/null); then
		echo "SIG$sig (status $rc)"
	else
		echo "status $rc"
	fi
}

# report_failure WORD NAME LABEL RUN: print a failed run with its output.
report_failure() {
	local word=$1 name=$2 label=$3 run=$4
	echo "$word $name$label: $reason"
	show_tail stderr "$OUT/$name.$run.err"
	show_tail stdout "$OUT/$name.$run.out"
	echo "    repro: $repro"
	failed=$((failed + 1))
}

# ---- collect the tests ------------------------------------------------------
shopt -s nullglob
declare -A srcof=()
names=()
for f in "$SRC"/*.c "$SRC"/*.cc; do
	n=$(basename "$f")
	n=${n%.*}
	if [ -n "${srcof[$n]-}" ]; then
		echo "run-progs.sh: two tests named $n: ${srcof[$n]} and $f" >&2
		exit 2
	fi
	srcof[$n]=$f
	names+=("$n")
done
mapfile -t names < <(printf '%s\n' "${names[@]}" | LC_ALL=C sort)
[ -n "${names[*]}" ] || names=()

if [ ${#filters[@]} -gt 0 ]; then
	selected=()
	for n in "${filters[@]}"; do
		n=$(basename "$n")
		n=${n%.c}
		n=${n%.cc}
		if [ -n "${srcof[$n]-}" ]; then
			selected+=("$n")
		else
			echo "FAIL $n: no such test ($SRC/$n.c or .cc)"
			failed=$((failed + 1))
		fi
	done
	names=("${selected[@]}")
fi

# ---- build and run ----------------------------------------------------------
for name in "${names[@]}"; do
	src=${srcof[$name]}
	parse_directives "$src"
	if [ -n "$parse_error" ]; then
		fail_build "$name" "$src: $parse_error"
		continue
	fi
	build_test "$name" "$src" || continue

	if [ "$native" -eq 1 ] && [ "$run_native" -eq 1 ]; then
		run_one "$name" native "${envs[0]}" native
		if [ -n "$reason" ]; then
			report_failure NATIVE-FAIL "$name" " [native]" native
			continue
		fi
	fi

	i=0
	for e in "${envs[@]}"; do
		i=$((i + 1))
		label=${e:+ [$e]}
		run_one "$name" "$i" "$e" greenrun
		if [ -n "$reason" ]; then
			report_failure FAIL "$name" "$label" "$i"
		else
			echo "PASS $name$label ($elapsed)"
			passed=$((passed + 1))
		fi
	done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
