# Chart of bench_checkpoint.sh's results: left, full copies as throughput
# (MB/s; first checkpoint and restore vs cp -a and rsync -a, black tick =
# 0.8 x cp -a, the target); right, incremental checkpoints in ms on a log
# scale (black tick = target). Same style as bench/chart.gp.
#
#   gnuplot -e "datafile='build/bench/checkpoint.dat'; outfile='build/bench/checkpoint.png'" bench/bench_checkpoint.gp

if (!exists("datafile")) datafile = 'build/bench/checkpoint.dat'
if (!exists("outfile")) outfile = 'build/bench/checkpoint.png'

if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
  set terminal pngcairo size 1400,720 font "sans,10"
} else {
  set terminal png size 1400,720 font "sans,10"
}
set output outfile

array colors[5] = [0x4477aa, 0xbbbbbb, 0x228833, 0xee7733, 0xaa3377]
stats datafile index 2 using 1 nooutput
subtitle = ""
stats datafile index 2 using (subtitle = strcol(3), 0) nooutput

set multiplot layout 1,2 title "fractfs checkpoints vs cp -a / rsync -a\n" . subtitle
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics lc rgb "#dddddd"
set xtics scale 0 font ",9"
set bmargin 4
set key off

# Left: throughput, higher is better.
stats datafile index 0 using 2 nooutput
set title "full copies: MB/s (higher is better; black tick = target, 0.8 x cp -a)"
set ylabel "MB/s"
set yrange [0 : STATS_max * 1.18]
stats datafile index 0 using 1 nooutput
set xrange [STATS_min - 0.6 : STATS_max + 0.6]
plot datafile index 0 using 1:2:(colors[int($4) + 1]) : xtic(3) with boxes lc rgb variable, \
     datafile index 0 using 1:2:(sprintf("%.0f", $2)) with labels offset 0,0.7 font ",9", \
     datafile index 0 using ($1 - 0.35):($5):(0.7):(0) with vectors nohead lw 3 lc rgb "black"

# Right: latency on a log scale, lower is better. (Stats first: with a log
# y axis, stats of one column would drop x = 0.)
stats datafile index 1 using 1 nooutput
set xrange [STATS_min - 0.6 : STATS_max + 0.6]
stats datafile index 1 using 2 nooutput
set title "incremental checkpoints: ms, log scale (lower is better; black tick = target)"
set ylabel "ms"
set logscale y
ybottom = 10.0 ** floor(log10(STATS_min / 2))
set yrange [ybottom : STATS_max * 4]
# Boxes from the bottom of the axis (plain boxes start at y = 0, nowhere on a log scale).
plot datafile index 1 using 1:2:($1 - 0.35):($1 + 0.35):(ybottom):2:(colors[int($4) + 1]) : xtic(3) \
       with boxxyerror lc rgb variable, \
     datafile index 1 using 1:2:($2 < 0.1 ? sprintf("%.0f µs", $2 * 1000) : $2 < 10 ? sprintf("%.2f", $2) : sprintf("%.1f", $2)) with labels offset 0,0.7 font ",9", \
     datafile index 1 using ($1 - 0.35):($5):(0.7):(0) with vectors nohead lw 3 lc rgb "black"
unset multiplot
