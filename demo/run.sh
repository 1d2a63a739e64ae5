#!/usr/bin/env bash
# `make demo`: runs demo/app.py, an app that knows nothing about fractfs,
# under fractfs-run with a local folder standing in for the remote store,
# then shows what the app saw and where each file physically landed; then
# wipes the node (everything local but the deploy bundle) and runs it again:
# the checkpoint brings its local state back before it starts.
set -euo pipefail
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../$BUILD/bin
base=${DEMO_DIR:-/tmp/fractfs-demo}
rm -rf "$base" && mkdir -p "$base/app" "$base/remote"
sed -e "s|@REMOTE@|$base/remote|" -e "s|@SCRATCH@|$base/scratch|" "$here/fractfs.toml" > "$base/app/.fractfs.toml"
cp "$here/app.py" "$base/app/"
cd "$base/app"

echo "== the configuration ($base/app/.fractfs.toml)"
grep -v '^#' .fractfs.toml
echo
echo "== running: fractfs-run -- python3 app.py"
"$bin/fractfs-run" -- python3 app.py
echo
echo "== where the files physically are"
echo "-- node-local disk ($base/app):"
(cd "$base/app" && find . -type f ! -name app.py ! -name .fractfs.toml | sort | sed 's|^\./|   |')
echo "-- remote store ($base/remote), besides the checkpoints in _checkpoint/:"
(cd "$base/remote" && find . -path ./_checkpoint -prune -o -type f -print | sort | sed 's|^\./|   |')
echo
echo "== why (fractfs check -v)"
"$bin/fractfs" check -v data/blobs/part-0.parquet data/blobs/manifest.json data/blobs/.locks/writer.lock \
  data/blobs/catalog.sqlite data/blobs/catalog.sqlite-wal exports/report.csv state/counter.txt
echo
symlinks=$(find "$base" -type l | wc -l)
echo "symlinks created anywhere: $symlinks"
echo
echo "== the checkpoints (fractfs log)"
"$bin/fractfs" log
echo
echo "== the node is wiped: only the deploy bundle (app.py, .fractfs.toml) is left"
find "$base/app" -mindepth 1 ! -name app.py ! -name .fractfs.toml -delete
rm -rf "$base/scratch"
echo "== running again: fractfs-run -- python3 app.py"
"$bin/fractfs-run" -- python3 app.py
echo
echo "== status (fractfs status)"
"$bin/fractfs" status
