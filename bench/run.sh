#!/usr/bin/env bash
# bench/run.sh - greenrun benchmarks, native vs greenrun side by side.
#
# Builds bench/*.c into build/bench/ and runs each benchmark BENCH_RUNS times
# (default 5) natively and under build/greenrun, reporting medians:
#   - create+join of a trivial thread, ns/thread (sequential, and
#     create-all-then-join-all); native N=20000 (bounded time/memory),
#     greenrun N=100000;
#   - sched_yield ping-pong round trip, ns (native pinned with taskset -c 0,
#     greenrun with --procs 1);
#   - echo server (compat/echo_server.c, one pthread per connection) at
#     100, 1,000 and 10,000 connections driven by compat/loadgen.c:
#     requests/s and p99 latency (bench/echo.sh; one ECHO_SECS run each);
#   - tick: p99 lateness of a 10 ms ticker beside 4 pure-computation
#     threads (preemption), native vs greenrun --procs 2.
#   - steal: 10,000 threads x ~1 ms of arithmetic created by one thread,
#     wall ms; 1 CPU (native taskset -c 0 vs greenrun --procs 1) and
#     2 CPUs (native unpinned vs greenrun --procs 2);
#   - mutex: 4, 64 and 1,000 threads hammering one pthread mutex
#     (8,000,000 lock/increment/unlock in all), ns per lock; native vs
#     greenrun --procs 2 and --procs 1;
#   - condvar ping-pong round trip, ns: native unpinned vs greenrun
#     --procs 2, native taskset -c 0 vs greenrun --procs 1 (native 20,000
#     round trips, greenrun 200,000).
# Prints a markdown table and writes it to bench/results.md.
#
# Env: BENCH_RUNS (default 5), CC (default cc), GREENRUN (default build/greenrun),
#      BENCH_TIMEOUT (seconds per single run, default 300; a run that times
#      out or fails is reported as "fail").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
RUNS=${BENCH_RUNS:-5}
TMO=${BENCH_TIMEOUT:-300}
CC=${CC:-cc}
GREENRUN=${GREENRUN:-build/greenrun}
out=build/bench
mkdir -p "$out"

for b in create_join yield steal mutex condvar tick; do
    "$CC" -std=gnu11 -O2 -g -pthread -Wall "bench/$b.c" -o "$out/$b"
done

have_gr=0
gr_note=""
if [ -x "$GREENRUN" ]; then
    if timeout 30 "$GREENRUN" -- /bin/true >/dev/null 2>&1; then
        have_gr=1
    else
        gr_note="$GREENRUN -- /bin/true failed: greenrun columns skipped"
    fi
else
    gr_note="$GREENRUN not found (run make first): greenrun columns skipped"
fi
[ -n "$gr_note" ] && echo "bench: $gr_note" >&2

have_taskset=0
command -v taskset >/dev/null 2>&1 && taskset -c 0 /bin/true 2>/dev/null && have_taskset=1
PIN=()
[ "$have_taskset" = 1 ] && PIN=(taskset -c 0)

# median KEY CMD...: run CMD $RUNS times, print the median of KEY=VALUE from
# its stdout, or "fail" if any run fails or lacks the key.
median() {
    local key=$1; shift
    local vals=() i line v
    for ((i = 0; i < RUNS; i++)); do
        if ! line=$(timeout "$TMO" "$@" 2>/dev/null); then
            echo fail
            return
        fi
        v=$(printf '%s\n' "$line" | sed -n "s/^$key=//p" | head -n1)
        if [ -z "$v" ]; then
            echo fail
            return
        fi
        vals+=("$v")
    done
    printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR]=$1} END {
        if (NR % 2) m = a[(NR + 1) / 2]; else m = (a[NR / 2] + a[NR / 2 + 1]) / 2;
        printf "%.1f\n", m }'
}


num() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
# speed-up = native / greenrun (both are times: > 1 means greenrun is faster)
speedup() {
    if num "$1" && num "$2" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
    else
        echo "n/a"
    fi
}

NAT_N=20000
GR_N=100000
rows=()
row() { # label native greenrun
    rows+=("| $1 | $2 | $3 | $(speedup "$2" "$3") |")
    echo "  $1: native=$2 greenrun=$3" >&2
}
NA="n/a"

echo "bench: create+join ..." >&2
n_seq=$(median create_join_ns_per_thread "$out/create_join" $NAT_N seq)
n_all=$(median create_all_join_all_ns_per_thread "$out/create_join" $NAT_N all)
g_seq=$NA; g_all=$NA
if [ $have_gr = 1 ]; then
    g_seq=$(median create_join_ns_per_thread "$GREENRUN" -- "$out/create_join" $GR_N seq)
    g_all=$(median create_all_join_all_ns_per_thread "$GREENRUN" -- "$out/create_join" $GR_N all)
fi
row "create+join, ns/thread (native N=$NAT_N, greenrun N=$GR_N)" "$n_seq" "$g_seq"
row "create all then join all, ns/thread (native N=$NAT_N, greenrun N=$GR_N)" "$n_all" "$g_all"

echo "bench: yield ..." >&2
n_y=$(median yield_roundtrip_ns "${PIN[@]}" "$out/yield")
g_y=$NA
[ $have_gr = 1 ] && g_y=$(median yield_roundtrip_ns "$GREENRUN" --procs 1 -- "$out/yield")
row "sched_yield round trip, ns (native taskset -c 0, greenrun --procs 1)" "$n_y" "$g_y"

echo "bench: steal ..." >&2
n_s1=$(median wall_ms "${PIN[@]}" "$out/steal")
g_s1=$NA
[ $have_gr = 1 ] && g_s1=$(median wall_ms "$GREENRUN" --procs 1 -- "$out/steal")
row "steal 10k x 1 ms, wall ms, 1 CPU (native taskset -c 0, greenrun --procs 1)" "$n_s1" "$g_s1"
n_s2=$(median wall_ms "$out/steal")
g_s2=$NA
[ $have_gr = 1 ] && g_s2=$(median wall_ms "$GREENRUN" --procs 2 -- "$out/steal")
row "steal 10k x 1 ms, wall ms, 2 CPUs (native unpinned, greenrun --procs 2)" "$n_s2" "$g_s2"

echo "bench: tick ..." >&2
n_t=$(median tick_p99_ms "$out/tick")
g_t=$NA
[ $have_gr = 1 ] && g_t=$(median tick_p99_ms "$GREENRUN" --procs 2 -- "$out/tick")
row "10 ms ticker p99 lateness beside 4 CPU hogs, ms (native vs greenrun --procs 2)" "$n_t" "$g_t"

echo "bench: mutex ..." >&2
MUTEX_OPS=8000000
for nt in 4 64 1000; do
    it=$((MUTEX_OPS / nt))
    n_m=$(median mutex_ns_per_lock "$out/mutex" "$nt" "$it")
    g_m2=$NA; g_m1=$NA
    if [ $have_gr = 1 ]; then
        g_m2=$(median mutex_ns_per_lock "$GREENRUN" --procs 2 -- "$out/mutex" "$nt" "$it")
        g_m1=$(median mutex_ns_per_lock "$GREENRUN" --procs 1 -- "$out/mutex" "$nt" "$it")
    fi
    row "mutex, $nt threads x $it lock+unlock, ns/lock (native vs greenrun --procs 2)" "$n_m" "$g_m2"
    row "mutex, $nt threads x $it lock+unlock, ns/lock (native vs greenrun --procs 1)" "$n_m" "$g_m1"
done

echo "bench: condvar ..." >&2
CV_NAT=20000
CV_GR=200000
n_c=$(median condvar_roundtrip_ns "$out/condvar" $CV_NAT)
n_c1=$(median condvar_roundtrip_ns "${PIN[@]}" "$out/condvar" $CV_NAT)
g_c2=$NA; g_c1=$NA
if [ $have_gr = 1 ]; then
    g_c2=$(median condvar_roundtrip_ns "$GREENRUN" --procs 2 -- "$out/condvar" $CV_GR)
    g_c1=$(median condvar_roundtrip_ns "$GREENRUN" --procs 1 -- "$out/condvar" $CV_GR)
fi
row "condvar ping-pong round trip, ns (native unpinned, greenrun --procs 2)" "$n_c" "$g_c2"
row "condvar ping-pong round trip, ns (native taskset -c 0, greenrun --procs 1)" "$n_c1" "$g_c1"

echo "bench: echo server ..." >&2
# Echo server (compat/echo_server.c, thread per connection) driven by
# compat/loadgen.c: one run of ECHO_SECS per point (a point is a whole
# ~10 s run; medians of 5 would take minutes).  req/s: higher is better,
# so its speed-up column is greenrun / native.
ECHO_SECS=${ECHO_SECS:-5}
row_rate() { # label native greenrun (rates)
    local s="n/a"
    if num "$2" && num "$3" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
        s=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2fx", b / a }')
    fi
    rows+=("| $1 | $2 | $3 | $s |")
    echo "  $1: native=$2 greenrun=$3" >&2
}
for c in 100 1000 10000; do
    tmp_n=$(timeout "$TMO" bench/echo.sh native "$c" "$ECHO_SECS" 2>/dev/null) || true
    tmp_g=$NA
    [ $have_gr = 1 ] && { tmp_g=$(timeout "$TMO" bench/echo.sh greenrun "$c" "$ECHO_SECS" 2>/dev/null) || true; }
    pick() { local v; v=$(printf '%s\n' "$1" | sed -n "s/^$2=//p"); echo "${v:-fail}"; }
    gv() { [ "$tmp_g" = "$NA" ] && echo "$NA" || pick "$tmp_g" "$1"; }
    row_rate "echo $c connections, requests/s" "$(pick "$tmp_n" req_per_s)" "$(gv req_per_s)"
    row "echo $c connections, p99 latency, us" "$(pick "$tmp_n" p99_us)" "$(gv p99_us)"
done

p_scale=$NA
if num "$g_s1" && num "$g_s2"; then
    p_scale=$(awk -v a="$g_s1" -v b="$g_s2" 'BEGIN { printf "%.2fx", a / b }')
fi

{
    echo "# greenrun benchmarks"
    echo
    echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs, kernel $(uname -r)," \
         "$(ldd --version 2>/dev/null | head -n1 | sed 's/^ldd //'), medians of $RUNS runs." \
         "Times: lower is better; speed-up = native / greenrun (> 1: greenrun faster)."
    [ -n "$gr_note" ] && { echo; echo "Note: $gr_note."; }
    echo
    echo "| benchmark | native | greenrun | speed-up |"
    echo "| --- | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "steal scaling under greenrun, --procs 1 wall / --procs 2 wall: $p_scale"
} > bench/results.md

cat bench/results.md
