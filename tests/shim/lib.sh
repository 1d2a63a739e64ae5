# Shared helpers for the shim integration tests (tests/shim/test_*.sh).
#
# Each test runs real programs under libfractfs.so, then checks WITHOUT the
# shim where every byte physically landed and what the app saw.
#
#   BUILD=build bash tests/shim/test_X.sh
#
# Environment:
#   BUILD          build directory relative to the repository root (default: build)
#   FRACTFS_LIB    the shim library to preload (default: $BUILD/lib/libfractfs.so)
#   REMOTE_FS      cross | same | both (default): REMOTE on another file system
#                  than ROOT (/dev/shm vs /tmp), on the same one, or each in turn
#   KEEP_GOING=1   report every failed check instead of stopping at the first
#                  (the script still exits non-zero)
#
# A test script defines a function per scenario and calls
#   run_modes NAME scenario_fn...
# which, for each REMOTE_FS mode and each scenario, makes a fresh ROOT and
# REMOTE, writes the standard configuration, runs the scenario, then checks
# that no symlink exists except the ones it registered with
# `deliberate_symlink`. ONLY=fn1,fn2 runs just those scenarios.

# tests/lib.sh unsets every FRACTFS_* variable: keep the library choice.
_fractfs_lib_env=${FRACTFS_LIB:-}
_shim_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$_shim_dir/../lib.sh"
REPO=$(cd "$_shim_dir/../.." && pwd)
export LC_ALL=C TZ=UTC

SHIMLIB=${_fractfs_lib_env:-$LIB/libfractfs.so}
[[ -x $BIN/fractfs-run ]] || fail "$BIN/fractfs-run not built (run make, or set BUILD)"
[[ -x $BIN/fractfs ]] || fail "$BIN/fractfs not built (run make, or set BUILD)"
[[ -r $SHIMLIB ]] || fail "shim library $SHIMLIB not found (run make, or set FRACTFS_LIB)"
export FRACTFS_LIB=$SHIMLIB


CHECKS=0
FAILS=0
KEEP_GOING=${KEEP_GOING:-}
SHM_DIRS=()
trap 'rm_tree "$T" "${SHM_DIRS[@]}"' EXIT

# A failed check: stop, or with KEEP_GOING=1 count it and go on.
check_fail() {
  echo "FAIL [$MODE] ${SCENARIO:-}: $*" >&2
  FAILS=$((FAILS + 1))
  [[ -n $KEEP_GOING ]] || exit 1
}
pass() { CHECKS=$((CHECKS + 1)); }

# eq EXPECTED ACTUAL WHAT
eq() {
  if [[ "$1" == "$2" ]]; then pass; else
    check_fail "$3:"$'\n'"--- expected"$'\n'"$1"$'\n'"--- actual"$'\n'"$2"$'\n'"--- diff (expected vs actual)"$'\n'"$(diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") || true)"
  fi
}
# contains HAYSTACK NEEDLE WHAT
contains() { if [[ "$1" == *"$2"* ]]; then pass; else check_fail "$3: [$2] not in [$1]"; fi; }
not_contains() { if [[ "$1" != *"$2"* ]]; then pass; else check_fail "$3: [$2] unexpectedly in [$1]"; fi; }

# ---------------------------------------------------------------- setup

# The standard configuration of the brief, for REMOTE.
write_config() {
  cat > "$ROOT/.fractfs.toml" <<TOML
remote_root = "$REMOTE"
scratch = "$(dirname "$ROOT")/scratch"
[dirs]
paths = ["data/blobs", "exports"]
[ignore]
patterns = ["*.tmp", "__pycache__/", ".locks/"]
[local]
patterns = ["manifest.json", "*.sqlite"]
TOML
}

# setup_mode MODE NAME: fresh $ROOT (under /tmp) and $REMOTE, $W a scratch
# dir outside both (captured outputs, reference files).
setup_mode() {
  MODE=$1
  local base=$T/$MODE/$2
  mkdir -p "$base/app" "$base/w"
  ROOT=$base/app
  W=$base/w
  if [[ $MODE == cross ]]; then
    local shm
    shm=$(mktemp -d /dev/shm/fractfs-test-XXXXXX)
    SHM_DIRS+=("$shm")
    REMOTE=$shm/remote
  else
    REMOTE=$base/remote
  fi
  mkdir -p "$REMOTE"
  write_config
  DELIBERATE=()
  # The shim creates both halves of each [dirs] root at start.
  x true
}

# run_modes NAME FN...: every scenario in every mode, then the final line.
run_modes() {
  local name=$1; shift
  local modes=${REMOTE_FS:-both}
  [[ $modes == both ]] && modes="cross same"
  for m in $modes; do
    if [[ $m == cross ]]; then
      local probe
      probe=$(mktemp -d /dev/shm/fractfs-probe-XXXXXX 2>/dev/null) || { echo "note: /dev/shm unusable, skipping cross mode" >&2; continue; }
      local d1 d2
      d1=$(stat -c %d "$probe"); d2=$(stat -c %d "$T"); rmdir "$probe"
      [[ $d1 != "$d2" ]] || { echo "note: /dev/shm is on the same file system as /tmp; skipping cross mode" >&2; continue; }
    fi
    local fn
    for fn in "$@"; do
      [[ -z ${ONLY:-} || ,$ONLY, == *",$fn,"* ]] || continue
      SCENARIO=$fn
      setup_mode "$m" "$fn"
      "$fn"
      check_symlinks
    done
  done
  if [[ $FAILS -gt 0 ]]; then
    echo "$name: FAILED ($FAILS of $((CHECKS + FAILS)) checks failed)" >&2
    exit 1
  fi
  echo "$name: ok ($CHECKS checks)"
}

# ---------------------------------------------------------------- running

# x CMD...: CMD under the shim (fractfs-run), cwd $ROOT. Its stdout lands in
# $OUT, stderr in $ERR. A non-zero exit, or a shim fault message, fails.
x() { xin "$ROOT" "$@"; }
# xin DIR CMD...: the same with cwd DIR.
xin() {
  local dir=$1; shift
  local rc=0
  OUT=$(cd "$dir" && "$BIN/fractfs-run" --root "$ROOT" -- "$@" 2>"$W/stderr") || rc=$?
  ERR=$(<"$W/stderr")
  if [[ $rc != 0 ]]; then check_fail "under the shim (cwd $dir): '$*' exited $rc; stderr: $ERR"; return 0; fi
  if [[ $ERR == *"fractfs["* ]]; then check_fail "shim message from '$*': $ERR"; return 0; fi
  pass
}
# xs STATUS CMD...: like x, but CMD must exit with STATUS.
xs() {
  local want=$1; shift
  local rc=0
  OUT=$(cd "$ROOT" && "$BIN/fractfs-run" --root "$ROOT" -- "$@" 2>"$W/stderr") || rc=$?
  ERR=$(<"$W/stderr")
  if [[ $rc != "$want" ]]; then check_fail "under the shim: '$*' exited $rc, expected $want; stderr: $ERR"; else pass; fi
}
# xp CMD...: with LD_PRELOAD and FRACTFS_ROOT directly (no fractfs-run).
xp() {
  local rc=0
  OUT=$(cd "$ROOT" && LD_PRELOAD="$PRELOAD_FIRST$SHIMLIB" FRACTFS_ROOT=$ROOT "$@" 2>"$W/stderr") || rc=$?
  ERR=$(<"$W/stderr")
  if [[ $rc != 0 ]]; then check_fail "under LD_PRELOAD: '$*' exited $rc; stderr: $ERR"; return 0; fi
  pass
}
# sh_x SCRIPT: a shell script under the shim (set -e inside).
sh_x() { x sh -ec "$1"; }

# ---------------------------------------------------------------- physical state

# The entries under DIR (physical, no shim): "TYPE RELPATH" per line, sorted;
# TYPE is find's %y (f d l p s ...).
phys_list() {
  [[ -e $1 ]] || { echo "(missing)"; return; }
  # The checkpoint store is not part of what the app sees.
  find "$1" -mindepth 1 \( -path "$REMOTE/_checkpoint" -prune \) -o -printf '%y %P\n' | sort
}

# expect_phys REL <<EOF
#   L f a/b      (ROOT/REL/a/b is a file)
#   R d c        (REMOTE/REL/c is a directory)
# EOF
# The exact physical contents of ROOT/REL and REMOTE/REL. "L (missing)" or
# "R (missing)" when that side must not exist at all.
expect_phys() {
  local rel=$1 spec
  spec=$(sed -e 's/^[[:space:]]*//' -e '/^$/d' | sort)
  local lroot=$ROOT rroot=$REMOTE
  [[ -n $rel ]] && lroot=$ROOT/$rel rroot=$REMOTE/$rel
  local want_l want_r got_l got_r
  want_l=$(grep '^L ' <<<"$spec" | cut -c3- | sort || true)
  want_r=$(grep '^R ' <<<"$spec" | cut -c3- | sort || true)
  got_l=$(phys_list "$lroot"); got_r=$(phys_list "$rroot")
  eq "$want_l" "$got_l" "physical contents of ROOT/$rel"
  eq "$want_r" "$got_r" "physical contents of REMOTE/$rel"
}

# expect_all <<EOF ... EOF: expect_phys of the whole ROOT and REMOTE, the
# configuration file and both halves of the [dirs] roots included for you.
SKELETON='L f .fractfs.toml
L d data
L d data/blobs
L d exports
R d data
R d data/blobs
R d exports'
expect_all() { { echo "$SKELETON"; cat; } | sort -u | expect_phys ""; }

# content L|R REL TEXT: the physical file holds exactly TEXT (plus newline).
content() {
  local side=$1 rel=$2 text=$3 p
  p=$([[ $side == L ]] && echo "$ROOT/$rel" || echo "$REMOTE/$rel")
  if [[ ! -f $p ]]; then check_fail "physical file $p missing"; return 0; fi
  if cmp -s <(printf '%s\n' "$text") "$p"; then pass; else check_fail "content of $p: expected [$text], got [$(head -c 300 "$p")]"; fi
}
# same_file L|R REL REFERENCE: cmp against a reference file.
same_file() {
  local side=$1 rel=$2 ref=$3 p
  p=$([[ $side == L ]] && echo "$ROOT/$rel" || echo "$REMOTE/$rel")
  if [[ ! -f $p ]]; then check_fail "physical file $p missing"; return 0; fi
  if cmp -s "$ref" "$p"; then pass; else check_fail "content of $p differs from $ref"; fi
}
# absent PATH...: nothing at these physical paths.
absent() {
  local p
  for p in "$@"; do if [[ -e $p || -L $p ]]; then check_fail "$p should not exist"; else pass; fi; done
}

# The tier fractfs assigns to ROOT/REL (the oracle).
tier() { "$BIN/fractfs" check --root "$ROOT" "$ROOT/$1" | cut -f1; }
# expect_tier TIER REL...
expect_tier() {
  local want=$1 rel; shift
  for rel in "$@"; do eq "$want" "$(tier "$rel")" "tier of $rel"; done
}

# deliberate_symlink PATH TARGET: a link a test made with ln -s on purpose.
deliberate_symlink() { DELIBERATE+=("$1 -> $2"); }

# No symlink anywhere under ROOT or REMOTE, except the deliberate ones,
# which must be exactly as created.
check_symlinks() {
  local found want="" d
  found=$(find "$ROOT" "$REMOTE" -type l -printf '%p -> %l\n' | sort)
  for d in "${DELIBERATE[@]+"${DELIBERATE[@]}"}"; do want+="$d"$'\n'; done
  want=$(printf '%s' "$want" | sed '/^$/d' | sort)
  eq "$want" "$found" "symlinks under ROOT and REMOTE"
}

# A small C program built once per run, in $T.
cc_build() {  # cc_build NAME SOURCE-TEXT
  local name=$1 src=$2
  printf '%s\n' "$src" > "$T/$name.c"
  cc -O1 -Wall -o "$T/$name" "$T/$name.c" || fail "cannot compile $name"
}

# mk L|R REL [TEXT]: a physical file made WITHOUT the shim (e.g. a remote-only
# entry another node wrote), parents included; TEXT defaults to REL.
mk() {
  local p
  p=$([[ $1 == L ]] && echo "$ROOT/$2" || echo "$REMOTE/$2")
  mkdir -p "$(dirname "$p")"
  printf '%s\n' "${3-$2}" > "$p"
}
# mkd L|R REL: a physical directory made without the shim.
mkd() { mkdir -p "$([[ $1 == L ]] && echo "$ROOT/$2" || echo "$REMOTE/$2")"; }

# py NAME <<'PY' ... PY: a Python script (stdin) run under the shim with
# /usr/bin/python3, cwd ROOT. It gets check(name, expected, actual) and
# ROOT/REMOTE-free helpers; each check becomes one of ours. argv[1] is ROOT.
PY=/usr/bin/python3
py() {
  local name=$1 f=$W/t_$1.py
  cat > "$f" <<'PRELUDE'
import os, sys, traceback
ROOT = sys.argv[1]
_n = 0
def check(name, expected, actual):
    global _n
    _n += 1
    if expected == actual:
        print("PASS " + name)
    else:
        print("FAIL %s: expected %r, got %r" % (name, expected, actual))
def raises(name, exc, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc:
        print("PASS " + name); return
    except Exception as e:
        print("FAIL %s: expected %s, got %r" % (name, exc.__name__, e)); return
    print("FAIL %s: expected %s, nothing raised" % (name, exc.__name__))
def put(p, data, mode="w"):
    with open(p, mode) as f:
        f.write(data)
def get(p, mode="r"):
    with open(p, mode) as f:
        return f.read()
PRELUDE
  cat >> "$f"
  local rc=0
  OUT=$(cd "$ROOT" && "$BIN/fractfs-run" --root "$ROOT" -- "$PY" "$f" "$ROOT" 2>"$W/stderr") || rc=$?
  ERR=$(<"$W/stderr")
  results "python $name"
  if [[ $rc != 0 ]]; then check_fail "python $name exited $rc: $ERR"; else pass; fi
  if [[ $ERR == *"fractfs["* ]]; then check_fail "shim message from python $name: $ERR"; fi
  return 0
}
# results WHAT: each "PASS ..." line of $OUT counts, a "FAIL ..." line fails.
results() {
  local line
  while IFS= read -r line; do
    case $line in
      PASS\ *) pass ;;
      FAIL\ *) check_fail "$1: ${line#FAIL }" ;;
    esac
  done <<<"$OUT"
}
# content_n L|R REL TEXT: exactly TEXT, no newline added.
content_n() {
  local side=$1 rel=$2 text=$3 p
  p=$([[ $side == L ]] && echo "$ROOT/$rel" || echo "$REMOTE/$rel")
  if [[ ! -f $p ]]; then check_fail "physical file $p missing"; return 0; fi
  if cmp -s <(printf '%s' "$text") "$p"; then pass; else check_fail "content of $p: expected [$text], got [$(head -c 300 "$p")]"; fi
}
