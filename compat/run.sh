#!/usr/bin/env bash
# compat/run.sh - `make compat`: run every real-program check and print a
# table.
#
#   compat/run.sh [NAME...]     (default: all, in the order below)
#
# Each NAME is a compat/NAME.sh script (see compat/lib.sh for the
# contract).  Each runs with a hard limit of $COMPAT_TIMEOUT seconds
# (default 170), its output going to build/compat/NAME.log and the screen.
# Then a Markdown table: program, result (PASS, FAIL, KNOWN = a known
# failure with a pending test, REFUSED = greenrun refused the program on
# purpose and said why), the key figure, the wall time.  The table is also
# written to build/compat/results.md.
# Exit status: 0 when no script FAILed (or died without a RESULT line).
set -euo pipefail
cd "$(dirname "$(realpath "$0")")/.."

ALL=(python_http python_threads cxx_threads memcached stress_ng sysbench ruby_threads jvm_threads)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
COMPAT_TIMEOUT=${COMPAT_TIMEOUT:-170}
mkdir -p build/compat
make --no-print-directory all >/dev/null

declare -A prog=(
	[python_http]="python3 -m http.server + wrk"
	[python_threads]="CPython, 100,000 threading.Thread"
	[cxx_threads]="C++20 threads (compat/cxx_threads.cc)"
	[memcached]="memcached + memccapable/memcaslap/client"
	[stress_ng]="stress-ng --pthread/--mutex/--sem/--futex"
	[sysbench]="sysbench threads + mutex"
	[ruby_threads]="Ruby, 10,000 Thread.new"
	[jvm_threads]="OpenJDK 17, 10,000 platform threads"
)
rows=()
failed=0
for n in "${names[@]}"; do
	[ -x "compat/$n.sh" ] || { echo "compat: no compat/$n.sh" >&2; exit 2; }
	echo "== $n"
	t0=$EPOCHREALTIME
	st=0
	timeout -k 10 "$COMPAT_TIMEOUT" "compat/$n.sh" 2>&1 | tee "build/compat/$n.log" || st=$?
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')
	line=$(grep '^RESULT: ' "build/compat/$n.log" | tail -1 || true)
	if [ -z "$line" ]; then
		res=FAIL fig="no RESULT line (exit status $st; timed out after ${COMPAT_TIMEOUT}s?)"
	else
		line=${line#RESULT: }
		res=${line%% *} fig=${line#* }
	fi
	[ "$res" = FAIL ] && failed=$((failed + 1))
	rows+=("| ${prog[$n]:-$n} | $res | ${fig//|//} | ${secs} s |")
done
{
	echo "| program | result | key figure | time |"
	echo "| --- | --- | --- | ---: |"
	printf '%s\n' "${rows[@]}"
} >build/compat/results.md
echo
cat build/compat/results.md
echo
echo "compat: ${#names[@]} programs, $failed failed"
[ "$failed" -eq 0 ]
