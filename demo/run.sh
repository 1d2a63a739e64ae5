#!/usr/bin/env bash
# `make demo`: sets up a sample app root with a local folder as the remote
# store, shows the effective configuration and where sample paths belong.
set -euo pipefail
BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../$BUILD/bin
base=${DEMO_DIR:-/tmp/fractfs-demo}
rm -rf "$base" && mkdir -p "$base/app" "$base/remote"
sed -e "s|@REMOTE@|$base/remote|" -e "s|@SCRATCH@|$base/scratch|" "$here/fractfs.toml" > "$base/app/.fractfs.toml"
cd "$base/app"

echo "== effective configuration ($base/app/.fractfs.toml)"
"$bin/fractfs" config
echo "== tiers of sample paths (fractfs check -v)"
"$bin/fractfs" check -v data/blobs/part-0.parquet data/blobs/manifest.json data/blobs/.locks/w.lock \
  data/blobs/db.sqlite-wal data/staging.tmp exports/report.csv src/app.py
