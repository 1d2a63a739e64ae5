#!/usr/bin/env bash
# fractfs-run: validation before start, exit statuses, signal forwarding,
# the child's environment, warnings about programs LD_PRELOAD cannot see.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/app" "$T/remote"
cat > "$T/app/.fractfs.toml" <<TOML
remote_root = "$T/remote"
[dirs]
paths = ["data"]
TOML
run() { (cd "$T/app" && "$BIN/fractfs-run" "$@"); }

# A bad configuration: exit 2, the message, and the app never starts.
sed -i '1i sync_interval = "soon"' "$T/app/.fractfs.toml"
expect_status 2 run -- touch "$T/started"
assert_contains "$OUT" ".fractfs.toml:1:17: 'sync_interval' must be a number"
[[ ! -e $T/started ]] || fail "the app ran despite a bad configuration"
sed -i '1d' "$T/app/.fractfs.toml"
expect_status 2 env FRACTFS_BACKEND=s3 FRACTFS_REMOTE_ROOT=s3://b/p bash -c "cd '$T/app' && '$BIN/fractfs-run' -- true"
assert_contains "$OUT" "FRACTFS_REMOTE_ROOT: remote_root 's3://b/p': 'b' is not a bucket name"
expect_status 2 env FRACTFS_BACKEND=s3 FRACTFS_REMOTE_ROOT=s3://bucket/p bash -c "cd '$T/app' && '$BIN/fractfs-run' -- true"
assert_contains "$OUT" "[dirs] path 'data': backend 's3' cannot hold remote-tier directories yet"

# Exit statuses: the app's own, 128+N for a signal, 127 for a missing command.
expect_status 7 run -- sh -c 'exit 7'
expect_status 143 run -- sh -c 'kill -TERM $$'
expect_status 127 run -- no-such-command-anywhere
expect_status 64 run
expect_status 0 run --help
assert_contains "$OUT" "usage: fractfs-run"

# The child's environment.
out=$(run -- env)
assert_contains "$out" "LD_PRELOAD=$LIB/libfractfs.so"
assert_contains "$out" "FRACTFS_ROOT=$T/app"
assert_contains "$out" "UV_USE_IO_URING=0"
out=$(LD_PRELOAD=/nonexistent/other.so run -- env 2>/dev/null | grep '^LD_PRELOAD=')
assert_eq "LD_PRELOAD=$LIB/libfractfs.so:/nonexistent/other.so" "$out" "library first, existing preloads kept"

# Files land by tier through fractfs-run.
run -- sh -c 'echo x > data/x.bin && echo y > top.txt'
[[ -f $T/remote/data/x.bin && ! -e $T/app/data/x.bin && -f $T/app/top.txt ]] || fail "placement through fractfs-run"

# SIGTERM (and INT, HUP, QUIT) sent to fractfs-run reach the app, which
# decides what to do with it; fractfs-run exits with its status.
(cd "$T/app" && exec "$BIN/fractfs-run" -- sh -c \
  "trap 'echo got >\"$T/sig\"; exit 3' TERM; echo ready >\"$T/ready\"; while :; do sleep 0.05; done") &
pid=$!
for _ in $(seq 100); do [[ -e $T/ready ]] && break; sleep 0.05; done
kill -TERM "$pid"
set +e; wait "$pid"; status=$?; set -e
assert_eq 3 "$status" "exit status after a forwarded SIGTERM"
assert_eq got "$(cat "$T/sig")" "the app received SIGTERM"

# Programs no LD_PRELOAD library can see are named before they start.
if printf 'int main(void){return 0;}\n' > "$T/st.c" && gcc -static -o "$T/static-prog" "$T/st.c" 2>/dev/null; then
  expect_status 0 run -- "$T/static-prog"
  assert_contains "$OUT" "is statically linked"
fi

# No remote_root: passthrough, said once, nothing redirected.
mkdir -p "$T/plain/data"
printf '[dirs]\npaths = ["data"]\n' > "$T/plain/.fractfs.toml"
expect_status 0 bash -c "cd '$T/plain' && '$BIN/fractfs-run' -- sh -c 'echo z > data/z.bin'"
assert_contains "$OUT" "passthrough mode"
[[ -f $T/plain/data/z.bin ]] || fail "passthrough wrote elsewhere"
echo "run: ok"
