#!/usr/bin/env bash
# `fractfs config`: the effective configuration, env overrides, errors.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/app" "$T/remote"
cat > "$T/app/.fractfs.toml" <<TOML
remote_root = "$T/remote"
sync_interval = 60
[dirs]
paths = ["data/blobs/"]
[ignore]
patterns = ["*.tmp"]
TOML

out=$(FRACTFS_SYNC_INTERVAL=5 fractfs_content_hash=true "$BIN/fractfs" config --root "$T/app")
assert_contains "$out" 'sync_interval = 5'
assert_contains "$out" '# sync_interval from FRACTFS_SYNC_INTERVAL'
assert_contains "$out" 'content_hash = true'
assert_contains "$out" "remote_root = \"$T/remote\""
assert_contains "$out" 'paths = [ "data/blobs" ]'
assert_contains "$out" 'patterns = [ "*.tmp" ]'

# The output is itself a valid configuration.
mkdir -p "$T/copy" && echo "$out" > "$T/copy/.fractfs.toml"
again=$("$BIN/fractfs" config --root "$T/copy" | grep -v '^#')
assert_eq "$(echo "$out" | grep -v '^#')" "$again" "config round trip"

# No remote_root: passthrough, said once on stderr.
mkdir -p "$T/bare"
expect_status 0 "$BIN/fractfs" config --root "$T/bare"
assert_contains "$OUT" "passthrough mode"
[[ $(grep -c passthrough <<<"$OUT") == 2 ]] || fail "passthrough said more than once: $OUT"

# Bad values name the variable or file position; exit 2.
expect_status 2 env FRACTFS_AUTO_IGNORE_BUNDLE=perhaps "$BIN/fractfs" config --root "$T/app"
assert_contains "$OUT" "FRACTFS_AUTO_IGNORE_BUNDLE: expected true/false"
expect_status 2 env FRACTFS_REMOTE_ROOT="$T/app/sub" "$BIN/fractfs" config --root "$T/app"
assert_contains "$OUT" "is inside the app root"
printf '[dirs]\npaths = ["/abs"]\n' > "$T/bare/.fractfs.toml"
expect_status 2 "$BIN/fractfs" config --root "$T/bare"
assert_contains "$OUT" "$T/bare/.fractfs.toml:2:10: [dirs] path '/abs' must be relative to the app root"
printf 'remote_root = "%s"\n[dir]\npaths = ["x"]\n' "$T/remote" > "$T/bare/.fractfs.toml"
expect_status 0 "$BIN/fractfs" config --root "$T/bare"
assert_contains "$OUT" "unknown table [dir] is ignored (did you mean [dirs]?)"
echo "config: ok"
