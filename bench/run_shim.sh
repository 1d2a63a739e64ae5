#!/usr/bin/env bash
# What `make bench` runs for the shim: bench_shim (which builds its trees
# under /tmp and measures itself under the library), then the chart.
# Builds nothing: the Makefile has built the program, forwarder and library.
#
#   bash bench/run_shim.sh [BUILD]        BUILD defaults to $BUILD or build
#   BENCH_SHIM_LIB=/path/libfractfs.so    measure another build of the library
#   BENCH_SHIM_ARGS="--chunks 100"        extra arguments for bench_shim
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${BUILD:-build}}
out=$build/bench
lib=${BENCH_SHIM_LIB:-$build/lib/libfractfs.so}

for f in "$out/bench_shim" "$out/forwarder.so" "$lib"; do
  [[ -e $f ]] || { echo "run_shim.sh: $f is missing (make bench builds it)" >&2; exit 1; }
done

# The program sets LD_PRELOAD and FRACTFS_ROOT for its measuring half
# itself; an inherited preload would wrap the set-up half too.
# shellcheck disable=SC2086
env -u LD_PRELOAD "$out/bench_shim" --lib "$lib" --forwarder "$out/forwarder.so" \
  --out "$out/shim.md" --data "$out/shim.dat" ${BENCH_SHIM_ARGS:-}

if command -v gnuplot >/dev/null; then
  gnuplot -e "datafile='$out/shim.dat'; outfile='$out/shim.png'" bench/chart.gp
  chart="$out/shim.png"
else
  chart="(none: gnuplot missing; apt-get install gnuplot-nox)"
fi
echo
echo "report: $out/shim.md"
echo "data:   $out/shim.dat"
echo "chart:  $chart"
