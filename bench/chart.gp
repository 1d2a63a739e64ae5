# Chart of bench_shim's results: per operation, one bar per comparison (the
# median of the chunk-pair ratios, whiskers p25-p75) and a black tick at its
# target; process start in the footer.
#
#   gnuplot -e "datafile='build/bench/shim.dat'; outfile='build/bench/shim.png'" bench/chart.gp

if (!exists("datafile")) datafile = 'build/bench/shim.dat'
if (!exists("outfile")) outfile = 'build/bench/shim.png'

# pngcairo draws smoother text, but a gnuplot-nox build may lack it.
if (strstrt(GPVAL_TERMINALS, " pngcairo ") > 0) {
  set terminal pngcairo size 1280,720 font "sans,11"
} else {
  set terminal png size 1280,720 font "sans,11"
}
set output outfile

# Names and ranges from the data: index 0 the ratios, index 1 process start.
stats datafile index 0 using 2 nooutput
ncomp = int(STATS_max) + 1
stats datafile index 0 using 1 nooutput
nops = int(STATS_max) + 1
array comp[ncomp]
array opname[nops]
stats datafile index 0 using (comp[int($2)+1] = strcol(8), opname[int($1)+1] = strcol(7), $5) nooutput
ytop = STATS_max
stats datafile index 0 using 4 nooutput
ybottom = STATS_min
stats datafile index 0 using 6 nooutput
ytop = (STATS_max > ytop ? STATS_max : ytop)

# Process start rows: 0 no preload, 1 first process, 2 child; column 3 is
# the time added to row 0, column 4 the target.
stats datafile index 1 every ::0::0 using 2 nooutput name "NOPRELOAD"
stats datafile index 1 every ::1::1 using 3 nooutput name "FIRST"
stats datafile index 1 every ::2::2 using 3 nooutput name "CHILD"
stats datafile index 1 every ::1::1 using 4 nooutput name "STARTTARGET"

# Bars side by side around each operation's position.
bw = 0.8 / ncomp
xpos(op, c) = op + (c - (ncomp - 1) / 2.0) * bw

set title "libfractfs.so: cost per call as a ratio B/A " . \
    "(median of interleaved chunk pairs; whiskers p25-p75; black tick = target)"
set ylabel "ratio (1.0 = as fast as the baseline)"
set yrange [(ybottom < 0.9 ? ybottom - 0.05 : 0.85) : ytop + 0.1]
set xrange [-0.5 : nops - 0.5]
set xtics () scale 0
set for [i = 1:nops] xtics add (opname[i] i - 1)
set grid ytics lc rgb "#dddddd"
set key top left reverse Left box opaque
set style fill solid 0.85 border -1
set boxwidth bw * 0.9
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#666666" back

verdict(x) = x < STARTTARGET_max ? "met" : "NOT met"
set label 1 sprintf("process start of /bin/true (%.3f ms without the library): " . \
    "first process of a tree %+.3f ms (%s), child of a process under it %+.3f ms (%s); target < %.2f ms", \
    NOPRELOAD_max, FIRST_max, verdict(FIRST_max), CHILD_max, verdict(CHILD_max), STARTTARGET_max) \
    at screen 0.5, screen 0.025 center
set bmargin 5

array colors[5] = ["#4477aa", "#bbbbbb", "#ee7733", "#228833", "#aa3377"]

plot for [c = 0:ncomp - 1] datafile index 0 every ncomp::c \
       using (xpos($1, c)):3 with boxes lc rgb colors[(c % 5) + 1] title comp[c + 1], \
     datafile index 0 using (xpos($1, $2)):3:4:5 with yerrorbars pt 7 ps 0.5 lc rgb "#333333" notitle, \
     datafile index 0 using (xpos($1, $2) - bw / 2):($6 > 0 ? $6 : NaN):(bw):(0) \
       with vectors nohead lw 3 lc rgb "black" title "target"
