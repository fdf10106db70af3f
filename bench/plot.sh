#!/usr/bin/env bash
# bench/plot.sh - plots for bench/results.md, with gnuplot.
#
#   bench/plot.sh DATADIR OUTDIR
#
# Reads DATADIR/echo.dat (connections, then native, greenrun and Go
# requests/s) and DATADIR/bars.dat ("label", then native, greenrun and Go
# nanoseconds) as bench/run.sh writes them, and writes OUTDIR/echo.png,
# echo.svg (requests/s against connections) and OUTDIR/latency.png,
# latency.svg (grouped bars, log scale).  NaN marks a missing value.
set -euo pipefail
dat=$1 outdir=$2
mkdir -p "$outdir"
for fmt in png svg; do
    if [ $fmt = png ]; then term="pngcairo size 900,540 font 'sans,11'"; else term="svg size 900,540 font 'sans,11'"; fi
    gnuplot <<GP
set terminal $term
set output '$outdir/echo.$fmt'
set title 'Echo server, one thread (goroutine) per connection, 2 vCPUs'
set xlabel 'concurrent connections'
set ylabel 'requests/s (median)'
set logscale x
set xrange [70:27000]
set yrange [0:*]
set grid ytics
set key bottom left
set format y '%.0s%c'
set style data linespoints
plot '$dat/echo.dat' using 1:2 title 'native pthreads' lw 2 pt 7 lc rgb '#c0392b', \
     '' using 1:3 title 'greenrun' lw 2 pt 5 lc rgb '#27ae60', \
     '' using 1:4 title 'Go 1.19 goroutines' lw 2 pt 9 lc rgb '#2980b9'

set output '$outdir/latency.$fmt'
unset logscale
set title 'Thread create+join and ping-pong round trips (lower is better)'
set xlabel ''
set ylabel 'ns (median, log scale)'
set logscale y
set yrange [10:*]
set xrange [*:*]
set format y '%g'
set key top right
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics nomirror rotate by -20 offset -1,0
set bmargin 5
plot '$dat/bars.dat' using 2:xtic(1) title 'native pthreads' lc rgb '#c0392b', \
     '' using 3 title 'greenrun' lc rgb '#27ae60', \
     '' using 4 title 'Go 1.19' lc rgb '#2980b9'
GP
done
