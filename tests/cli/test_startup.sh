#!/usr/bin/env bash
# Starting an app: a missing remote store (never created silently; `fractfs
# init`), an invalid configuration under a bare LD_PRELOAD (the app is not
# started, unless FRACTFS_ON_ERROR=passthrough), bad values accepted
# silently before, the final checkpoint's status, --version.
source "$(dirname "$0")/../lib.sh"

app=$T/app
mkdir -p "$app"
config() {
  cat > "$app/.fractfs.toml" <<TOML
remote_root = "$T/store/remote"
scratch = "$T/scratch"
$*
[dirs]
paths = ["data"]
TOML
}
run() { (cd "$app" && "$BIN/fractfs-run" "$@"); }
# Programs cannot run under the TSan-built library (not built with TSan).
shim_ok() { [[ ${SAN:-} != thread ]]; }
preload() { (cd "$app" && env LD_PRELOAD="${PRELOAD_FIRST}$LIB/libfractfs.so" "$@"); }

# ---- a missing remote_root: named, nothing started, nothing created
config
expect_status 2 run -- touch "$T/started"
assert_contains "$OUT" "remote_root '$T/store/remote' does not exist"
assert_contains "$OUT" "fractfs init"
[[ ! -e $T/started && ! -e $T/store ]] || fail "fractfs-run started the app or created the store"
if shim_ok; then
expect_status 2 preload touch "$T/started"
assert_contains "$OUT" "does not exist"
assert_contains "$OUT" "the app is not started"
[[ ! -e $T/started && ! -e $T/store ]] || fail "the preloaded library started the app or created the store"
fi
expect_status 2 bash -c "cd '$app' && '$BIN/fractfs' sync"
assert_contains "$OUT" "does not exist"
[[ ! -e $T/store ]] || fail "fractfs sync created the store"
# The opt-out: the app runs, without fractfs.
shim_ok && expect_status 0 env FRACTFS_ON_ERROR=passthrough bash -c "cd '$app' && LD_PRELOAD='${PRELOAD_FIRST}$LIB/libfractfs.so' sh -c 'mkdir -p data && echo x > data/x'"
if shim_ok; then
assert_contains "$OUT" "running without fractfs"
[[ -f $app/data/x && ! -e $T/store ]] || fail "FRACTFS_ON_ERROR=passthrough"
rm -rf "$app/data"
fi

# `fractfs init` creates it, once; then the app starts.
expect_status 0 "$BIN/fractfs" init --root "$app"
assert_contains "$OUT" "created remote store $T/store/remote"
[[ -d $T/store/remote/data && -d $app/data ]] || fail "fractfs init made no skeleton"
expect_status 0 "$BIN/fractfs" init --root "$app"
assert_contains "$OUT" "exists already"
if shim_ok; then
expect_status 0 run -- sh -c 'echo y > data/y'
[[ -f $T/store/remote/data/y ]] || fail "the app's file did not reach the store"
fi

# A remote_root reached through a symlink into the root: refused on the
# first run (before it exists) as on the second.
mkdir -p "$T/s2/app"
ln -s "$T/s2/app" "$T/s2/link"
printf 'remote_root = "%s"\n[dirs]\npaths = ["data"]\n' "$T/s2/link/store" > "$T/s2/app/.fractfs.toml"
expect_status 2 "$BIN/fractfs" init --root "$T/s2/app"
assert_contains "$OUT" "is inside the app root"
expect_status 2 bash -c "cd '$T/s2/app' && '$BIN/fractfs-run' -- true"
assert_contains "$OUT" "is inside the app root"
[[ ! -e $T/s2/app/store ]] || fail "a store was created inside the root"

# ---- an invalid configuration under a bare LD_PRELOAD
if shim_ok; then
config 'sync_interval = "soon"'
expect_status 2 preload touch "$T/started"
assert_contains "$OUT" ".fractfs.toml:3:17: 'sync_interval' must be a number"
assert_contains "$OUT" "the app is not started"
[[ ! -e $T/started ]] || fail "the app ran with an invalid configuration"
expect_status 0 env FRACTFS_ON_ERROR=passthrough bash -c "cd '$app' && LD_PRELOAD='${PRELOAD_FIRST}$LIB/libfractfs.so' touch '$T/started'"
[[ -e $T/started ]] || fail "FRACTFS_ON_ERROR=passthrough did not run the app"
rm -f "$T/started"
fi

# ---- values accepted silently before
refused() {  # refused EXPECTED-MESSAGE: the configuration on stdin is refused
  cat > "$app/.fractfs.toml"
  expect_status 2 "$BIN/fractfs" config --root "$app"
  assert_contains "$OUT" "$1"
}
refused "remote_root '$T/store' contains a NUL byte" <<TOML
remote_root = "$T/store\u0000x"
TOML
refused "[dirs] path 'data' contains a NUL byte" <<TOML
remote_root = "$T/store/remote"
[dirs]
paths = ["data\u0000x"]
TOML
refused "[dirs] path '.fractfs.toml' names the configuration file" <<TOML
remote_root = "$T/store/remote"
[dirs]
paths = [".fractfs.toml"]
TOML
refused "sync_interval must be >= 0 seconds, got inf" <<TOML
remote_root = "$T/store/remote"
sync_interval = inf
TOML
cat > "$app/.fractfs.toml" <<TOML
remote_root = "$T/store/remote"
[dirs]
paths = ["data"]
[local]
patterns = ["data/"]
TOML
expect_status 0 "$BIN/fractfs" config --root "$app"
assert_contains "$OUT" "[dirs] path 'data' is kept local as a whole by [local] 'data/'"
config
expect_status 2 env FRACTFS_LOG=verbose "$BIN/fractfs" config --root "$app"
assert_contains "$OUT" "FRACTFS_LOG: unknown log level 'verbose'"
expect_status 2 env FRACTFS_LOG_FILE=/nonexistent/dir/log "$BIN/fractfs" config --root "$app"
assert_contains "$OUT" "FRACTFS_LOG_FILE: cannot write the log file '/nonexistent/dir/log'"
if shim_ok; then
expect_status 2 env FRACTFS_LOG=verbose bash -c "cd '$app' && LD_PRELOAD='${PRELOAD_FIRST}$LIB/libfractfs.so' /bin/true"
assert_contains "$OUT" "unknown log level"
fi

# ---- no configuration at all, with the root at / or /tmp: nothing to do
shim_ok && for dir in / /tmp; do
  expect_status 0 bash -c "cd $dir && LD_PRELOAD='${PRELOAD_FIRST}$LIB/libfractfs.so' ls -d . >/dev/null"
  [[ $OUT != *fractfs* ]] || fail "a bare LD_PRELOAD in $dir without configuration said: $OUT"
done

# ---- a read-only remote store without the [dirs] path: the app sees what
# a read-only file system would show, EROFS for what it cannot create.
# (A private mount namespace: the read-only bind mount ends with it.)
if shim_ok && unshare -m --propagation private true 2>/dev/null; then
  ro=$T/ro
  mkdir -p "$ro/app" "$ro/store" "$ro/src"
  printf 'remote_root = "%s"\nscratch = "%s"\n[dirs]\npaths = ["data"]\n' "$ro/store" "$ro/scratch" > "$ro/app/.fractfs.toml"
  out=$(unshare -m --propagation private bash -c "
    mount --bind '$ro/src' '$ro/store' && mount -o remount,bind,ro '$ro/store' || exit 99
    cd '$ro/app'
    export LD_PRELOAD='${PRELOAD_FIRST}$LIB/libfractfs.so' FRACTFS_ON_ERROR=exit
    python3 -c '
import os
for what, fn in [(\"stat\", lambda: os.stat(\"data\")), (\"mkdir\", lambda: os.mkdir(\"data\")),
                 (\"create\", lambda: open(\"data/x\", \"w\")), (\"mkdir below\", lambda: os.mkdir(\"data/sub\"))]:
    try:
        fn(); print(what, \"ok\")
    except OSError as e:
        print(what, os.strerror(e.errno))
'" 2>&1) || true
  if [[ $out != *"exit 99"* && -n $out ]]; then
    assert_eq $'stat No such file or directory\nmkdir Read-only file system\ncreate Read-only file system\nmkdir below Read-only file system' \
      "$(grep -v '^fractfs' <<<"$out")" "a read-only remote store under a bare LD_PRELOAD"
  fi
fi

# ---- the first start names the deploy bundle
rm -rf "$T/store" "$T/scratch" "$app"
mkdir -p "$app/static" "$T/store/remote"
config
echo a > "$app/static/a.js"; echo b > "$app/static/b.css"
expect_status 0 run -- true
assert_contains "$OUT" "3 file(s) present before the first start on this node are the deploy bundle"
assert_contains "$OUT" "fractfs status"

# ---- the app succeeded, its final checkpoint failed: not 0
expect_status 0 run -- true
chmod 000 "$T/store/remote/_checkpoint/.fractfs" 2>/dev/null || true
if [[ $(id -u) == 0 ]]; then
  # root ignores modes: make the store's object and pack directories files instead.
  chmod 755 "$T/store/remote/_checkpoint/.fractfs"
  for d in objects packs; do
    rm -rf "$T/store/remote/_checkpoint/.fractfs/$d"
    echo x > "$T/store/remote/_checkpoint/.fractfs/$d"
  done
fi
expect_status 75 run -- sh -c 'echo new > new.txt'
assert_contains "$OUT" "final checkpoint failed"
# The same when a timed checkpoint failed first: its objects never reached
# the store, so the final one must store them again, not commit without them.
FRACTFS_SYNC_INTERVAL=1 expect_status 75 run -- sh -c 'echo newer > newer.txt; sleep 2.5'
assert_contains "$OUT" "final checkpoint failed"
expect_status 3 run -- sh -c 'echo again > new.txt; exit 3'

# ---- --version
expect_status 0 "$BIN/fractfs" --version
assert_contains "$OUT" "fractfs "
expect_status 0 "$BIN/fractfs-run" --version
assert_contains "$OUT" "fractfs-run "
echo "startup: ok"
