# Shared helpers for the checkpoint/restore tests (tests/sync/test_*.sh).
#
#   BUILD=build bash tests/sync/test_X.sh
#
# Each test makes app roots under $T with their own remote and scratch
# (never the default /tmp/fractfs), runs fractfs and real programs, and
# checks WITHOUT the shim what physically landed where: manifests of
# (path, type, mode, size, mtime, sha256 or symlink target) computed by
# tests/sync/helpers.py, and the store itself.
#
# Under SAN=thread, programs cannot run under the (TSan-built) shim: the
# parts that need it are skipped with `shim_ok || ...`, the CLI-only parts
# (fractfs sync/restore/log/status on trees written without the shim) run.

# tests/lib.sh unsets every FRACTFS_* variable: keep the library choice.
_fractfs_lib_env=${FRACTFS_LIB:-}
_sync_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$_sync_dir/../lib.sh"
export LC_ALL=C TZ=UTC

SHIMLIB=${_fractfs_lib_env:-$LIB/libfractfs.so}
[[ -x $BIN/fractfs ]] || fail "$BIN/fractfs not built (run make, or set BUILD)"
[[ -x $BIN/fractfs-run ]] || fail "$BIN/fractfs-run not built (run make, or set BUILD)"
[[ -r $SHIMLIB ]] || fail "shim library $SHIMLIB not found (run make, or set FRACTFS_LIB)"
export FRACTFS_LIB=$SHIMLIB
HELPERS=$_sync_dir/helpers.py
SHM_DIRS=()
BG_PIDS=()
# bg_track PID...: background processes to end (SIGTERM, then SIGKILL) if
# the test stops early.
bg_track() { BG_PIDS+=("$@"); }
cleanup() {
  local p live=()
  for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do kill -0 "$p" 2>/dev/null && live+=("$p"); done
  if ((${#live[@]})); then
    kill -TERM "${live[@]}" 2>/dev/null || true
    sleep 0.5
    kill -KILL "${live[@]}" 2>/dev/null || true
  fi
  # KEEP_T=1: leave $T (and the /dev/shm directories) for a post-mortem.
  if [[ -n ${KEEP_T:-} ]]; then echo "kept $T ${SHM_DIRS[*]}" >&2; else rm_tree "$T" "${SHM_DIRS[@]}"; fi
}
trap cleanup EXIT
PY=/usr/bin/python3
CHECKS=0

# True when programs can run under the shim (not under TSan: a program not
# built with TSan cannot preload a TSan library).
shim_ok() { [[ ${SAN:-} != thread ]]; }

# ---------------------------------------------------------------- checks

pass() { CHECKS=$((CHECKS + 1)); }
check_fail() { echo "FAIL: $*" >&2; exit 1; }
# eq EXPECTED ACTUAL WHAT
eq() {
  if [[ "$1" == "$2" ]]; then pass; else
    # The diff first: a report that keeps only a test's first lines shows it.
    check_fail "$3:"$'\n'"--- diff (expected vs actual)"$'\n'"$(diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | head -n 40 || true)"$'\n'"--- expected"$'\n'"$1"$'\n'"--- actual"$'\n'"$2"
  fi
}
contains() { if [[ "$1" == *"$2"* ]]; then pass; else check_fail "$3: [$2] not in [$1]"; fi; }
not_contains() { if [[ "$1" != *"$2"* ]]; then pass; else check_fail "$3: [$2] unexpectedly in [$1]"; fi; }
# ok WHAT CMD...: CMD must succeed (a test, not an action).
ok() { local what=$1; shift; if "$@"; then pass; else check_fail "$what"; fi; }
# same_files EXPECTED-FILE ACTUAL-FILE WHAT: byte for byte, with a diff on failure.
same_files() {
  if cmp -s "$1" "$2"; then pass; else
    check_fail "$3: $1 and $2 differ:"$'\n'"$(diff "$1" "$2" | head -n 40)"
  fi
}
# absent PATH...: nothing there, not even a dangling symlink.
absent() {
  local p
  for p in "$@"; do if [[ -e $p || -L $p ]]; then check_fail "$p should not exist"; else pass; fi; done
}
# no_restore_temps DIR: no half-written restore temporary anywhere below DIR.
no_restore_temps() {
  local left
  left=$(find "$1" -name '*.fractfs-restore-*' 2>/dev/null | head -n 5)
  eq "" "$left" "restore temporaries left below $1"
}

# st_fail STATUS CMD...: CMD (not under the shim) exits with STATUS; its
# stdout+stderr in $OUT.
st() {
  local want=$1; shift
  local rc=0
  OUT=$("$@" 2>&1) || rc=$?
  if [[ $rc != "$want" ]]; then check_fail "'$*' exited $rc, expected $want: $OUT"; else pass; fi
}

# session_of PID: its session id, from /proc (not ps: procps deadlocks with
# the ASan runtime preloaded, as every program is in that build's tests).
session_of() {
  local s
  s=$(<"/proc/$1/stat") || return 1
  s=${s##*) }
  read -r _ _ _ s _ <<<"$s"
  echo "$s"
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; false on timeout.
wait_until() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------- roots

# remote_on_shm: the remotes new_root makes from now on are on /dev/shm (a
# tmpfs: the store's syncfs costs nothing there, and the remote is on
# another file system than the root, as a real mount would be). Nothing
# changes when /dev/shm is not usable.
REMOTE_BASE=
remote_on_shm() {
  local d
  d=$(mktemp -d /dev/shm/fractfs-test-XXXXXX 2>/dev/null) || return 0
  SHM_DIRS+=("$d")
  REMOTE_BASE=$d
}

# new_root NAME [CONFIG-LINES]: $ROOT, $REMOTE, $SCRATCH and $STORE under
# $T/NAME, or $ROOT_BASE/NAME if set (REMOTE under /dev/shm after
# remote_on_shm), and
# ROOT/.fractfs.toml: remote_root, scratch, then the lines (top-level keys
# first, then tables).
new_root() {
  local base=${ROOT_BASE:-$T}/$1
  ROOT=$base/app REMOTE=${REMOTE_BASE:-$base}/$1-remote SCRATCH=$base/scratch
  STORE=$REMOTE/_checkpoint/.fractfs
  mkdir -p "$ROOT" "$REMOTE"
  { printf 'remote_root = "%s"\nscratch = "%s"\n' "$REMOTE" "$SCRATCH"; printf '%s\n' "${2:-}"; } > "$ROOT/.fractfs.toml"
}

# fresh_root NAME: $FROOT, an empty root on the same remote with a scratch
# of its own ($FSCRATCH): the configuration copied, only `scratch` changed.
# (Under /dev/shm after remote_on_shm: many restores of big files cost
# less there.)
fresh_root() {
  local base=${REMOTE_BASE:-$T}/$1
  rm -rf "$base"
  mkdir -p "$base/app"
  FROOT=$base/app FSCRATCH=$base/scratch
  sed "s|^scratch = .*|scratch = \"$FSCRATCH\"|" "$ROOT/.fractfs.toml" > "$FROOT/.fractfs.toml"
}

# The node-local state directory of ROOT (SCRATCH/<root-id>), or "".
state_dir() { local d; for d in "${1:-$SCRATCH}"/*/; do [[ -d $d ]] && { echo "${d%/}"; return; }; done; echo ""; }

ff() { "$BIN/fractfs" "$@"; }

# wait_helper_gone: the root's holder (helper or fractfs-run) has ended, so
# nothing of the app's is still checkpointing: a wipe now is a wipe after
# the app. (After the app's exit the helper may still take its last look;
# slowly under the sanitizers.)
wait_helper_gone() {
  local lock
  lock="$(state_dir)/holder.lock"
  wait_until 30 bash -c "! kill -0 \$(cat '$lock' 2>/dev/null) 2>/dev/null" || check_fail "the helper did not end"
}

# ---------------------------------------------------------------- running apps

# app DIR CMD...: CMD under fractfs-run (root DIR, cwd DIR); must exit 0.
# stdout in $OUT, stderr in $ERR; a shim message (fractfs[pid]) fails.
app() {
  local dir=$1; shift
  local rc=0
  OUT=$(cd "$dir" && "$BIN/fractfs-run" --root "$dir" -- "$@" 2>"$T/stderr") || rc=$?
  ERR=$(<"$T/stderr")
  [[ $rc == 0 ]] || check_fail "under fractfs-run: '$*' exited $rc; stderr: $ERR"
  [[ $ERR != *"fractfs["* ]] || check_fail "shim message from '$*': $ERR"
  pass
}
# preload DIR CMD...: CMD with a bare LD_PRELOAD and FRACTFS_ROOT=DIR, cwd DIR.
preload() {
  local dir=$1; shift
  local rc=0
  OUT=$(cd "$dir" && LD_PRELOAD="$PRELOAD_FIRST$SHIMLIB" FRACTFS_ROOT=$dir "$@" 2>"$T/stderr") || rc=$?
  ERR=$(<"$T/stderr")
  [[ $rc == 0 ]] || check_fail "under LD_PRELOAD: '$*' exited $rc; stderr: $ERR"
  [[ $ERR != *"fractfs["*"error"* ]] || check_fail "shim error from '$*': $ERR"
  pass
}

# start_app MODE ERRFILE CMD...: CMD in $ROOT, in the background and in a
# session of its own (its pid, in $APP_PGID, is the group id), under
# fractfs-run (MODE run) or a bare LD_PRELOAD (MODE preload); stderr to
# ERRFILE; ended by cleanup if the test stops early.
start_app() {
  local mode=$1 err=$2; shift 2
  if [[ $mode == run ]]; then
    (cd "$ROOT" && exec setsid "$BIN/fractfs-run" --root "$ROOT" -- "$@") 2>"$err" &
  else
    (cd "$ROOT" && LD_PRELOAD="$PRELOAD_FIRST$SHIMLIB" FRACTFS_ROOT=$ROOT exec setsid "$@") 2>"$err" &
  fi
  APP_PGID=$!
  bg_track "$APP_PGID"
}

# static_prog NAME C-SOURCE: builds $T/NAME, statically linked (LD_PRELOAD
# does not apply to it: under TSan it can stand in for an app under
# fractfs-run); false when that cannot be done here.
static_prog() { printf '%s\n' "$2" > "$T/$1.c" && cc -static -O1 -o "$T/$1" "$T/$1.c" 2>/dev/null; }

# ---------------------------------------------------------------- manifests

# h [-o FILE] CMD ARGS...: a helpers.py command, run by one Python process
# started once (a start costs ~70 ms on a slow machine); output on stdout,
# or in FILE with -o; its status. Not in a pipeline (bash does not give
# the coprocess to a pipeline's subshells): use $(h ...) or -o.
coproc HELPER { exec "$PY" "$HELPERS" serve; }
h() {
  local line
  printf '%q ' "$@" >&"${HELPER[1]}"
  printf '\n' >&"${HELPER[1]}"
  while IFS= read -r line <&"${HELPER[0]}"; do
    [[ $line == $'\x1e'* ]] && return "${line#$'\x1e'}"
    printf '%s\n' "$line"
  done
  check_fail "the helper process (helpers.py serve) died"
}

# manifest DIR [ARGS...]: what a checkpoint of DIR covers (see helpers.py).
manifest() { local d=$1; shift; h manifest "$d" --fractfs "$BIN/fractfs" "$@"; }
# manifest_to FILE DIR [ARGS...]: the same into FILE.
manifest_to() { local f=$1 d=$2; shift 2; h -o "$f" manifest "$d" --fractfs "$BIN/fractfs" "$@" || check_fail "manifest of $d failed"; }
# restore_fresh NAME [ARGS...]: `fractfs restore ARGS` into a fresh root
# ($FROOT) on the same remote; must succeed and leave no temporary.
restore_fresh() {
  local name=$1; shift
  fresh_root "$name"
  st 0 ff restore --root "$FROOT" "$@"
  no_restore_temps "$FROOT"
}
# The store's current generation (0: none), read from the store itself.
store_current() { h current "$STORE"; }
# json_field JSON KEY[.KEY...]: one value of a JSON text (objects, arrays
# by index); strings bare, anything else as JSON (null, true, [..]).
json_field() {
  "$PY" -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[k] if isinstance(v, dict) else v[int(k)]
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}
# fsck: the store check of helpers.py (JSON) for $STORE.
fsck() { h fsck "$STORE"; }

# finish NAME: the summary line.
finish() { echo "$1: ok ($CHECKS checks)"; }
