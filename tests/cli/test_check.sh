#!/usr/bin/env bash
# `fractfs check`: tiers, -v sources, directories, outside paths, exit codes.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/app/data/blobs/.locks" "$T/app/src" "$T/remote"
cat > "$T/app/.fractfs.toml" <<TOML
remote_root = "$T/remote"
[dirs]
paths = ["data/blobs", "exports"]
[ignore]
patterns = ["*.tmp", "__pycache__/", ".locks/", "!keep.tmp"]
[local]
patterns = ["manifest.json", "*.sqlite"]
TOML
cd "$T/app/data"

out=$("$BIN/fractfs" check blobs/part-0.parquet blobs/manifest.json blobs/x.tmp blobs/keep.tmp \
      blobs/.locks blobs/.locks/a ../src/m.py blobs/db.sqlite-wal /etc/passwd ..)
expected=$(printf '%s\n' \
  $'remote\tblobs/part-0.parquet' \
  $'local_synced\tblobs/manifest.json' \
  $'local_ignored\tblobs/x.tmp' \
  $'remote\tblobs/keep.tmp' \
  $'local_ignored\tblobs/.locks' \
  $'local_ignored\tblobs/.locks/a' \
  $'local_synced\t../src/m.py' \
  $'local_synced\tblobs/db.sqlite-wal' \
  $'outside\t/etc/passwd' \
  $'local_synced\t..')
assert_eq "$expected" "$out" "check output"

out=$("$BIN/fractfs" check -v blobs/x.tmp blobs/keep.tmp blobs/p blobs/db.sqlite-shm ../src/m.py)
expected=$(printf '%s\n' \
  $'local_ignored\t[ignore] \'*.tmp\'\tblobs/x.tmp' \
  $'remote\t[dirs] \'data/blobs\'\tblobs/keep.tmp' \
  $'remote\t[dirs] \'data/blobs\'\tblobs/p' \
  $'local_synced\t[local] \'*.sqlite\' (sidecar of \'data/blobs/db.sqlite\')\tblobs/db.sqlite-shm' \
  $'local_synced\tdefault\t../src/m.py')
assert_eq "$expected" "$out" "check -v output"

# A trailing '/' or an existing directory makes a directory: ".locks/" only matches those.
cd "$T/app"
assert_eq $'local_ignored\tdata/blobs/__pycache__/' "$("$BIN/fractfs" check --root "$T/app" data/blobs/__pycache__/)"
assert_eq $'remote\tdata/blobs/__pycache__' "$("$BIN/fractfs" check data/blobs/__pycache__)"
mkdir -p data/blobs/__pycache__ && touch data/blobs/__pycache__x
assert_eq $'local_ignored\tdata/blobs/__pycache__' "$("$BIN/fractfs" check data/blobs/__pycache__)"
assert_eq $'remote\tdata/blobs/__pycache__x' "$("$BIN/fractfs" check data/blobs/__pycache__x)"
touch data/blobs/pyc && assert_eq $'remote\tdata/blobs/pyc' "$("$BIN/fractfs" check data/blobs/pyc)"

# --root from elsewhere, absolute paths, --stdin.
cd /
assert_eq $'remote\t'"$T/app/exports/a" "$("$BIN/fractfs" check --root "$T/app" "$T/app/exports/a")"
out=$(printf 'exports/x\ndata/y.tmp\n' | (cd "$T/app" && "$BIN/fractfs" check --stdin))
assert_eq $'remote\texports/x\nlocal_ignored\tdata/y.tmp' "$out" "--stdin"

# FRACTFS_ROOT picks the root.
assert_eq $'remote\t'"$T/app/exports/a" "$(FRACTFS_ROOT=$T/app "$BIN/fractfs" check "$T/app/exports/a")"

# Errors: configuration -> 2, usage -> 64, --help -> 0.
sed -i '1a sync_interval = "x"' "$T/app/.fractfs.toml"
expect_status 2 "$BIN/fractfs" check --root "$T/app" a
assert_contains "$OUT" "$T/app/.fractfs.toml:2:17: 'sync_interval' must be a number, not a string"
expect_status 64 "$BIN/fractfs" check --root "$T/app"
expect_status 64 "$BIN/fractfs" check --bogus a
expect_status 64 "$BIN/fractfs" frobnicate
for cmd in check config; do expect_status 0 "$BIN/fractfs" $cmd --help; assert_contains "$OUT" "usage: fractfs $cmd"; done
expect_status 0 "$BIN/fractfs" --help
echo "check: ok"
