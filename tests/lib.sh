# Shared helpers for the shell tests. Source it; it sets up $T (a scratch
# directory removed on exit), $OUT (the build directory), $BIN and $LIB.
set -euo pipefail
BUILD=${BUILD:-build}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/$BUILD
BIN=$OUT/bin
LIB=$OUT/lib
T=$(mktemp -d /tmp/fractfs-test-XXXXXX)
# rm -rf that waits out a helper process still leaving (it writes its last
# status in the state directory for a moment after the app has ended).
rm_tree() {
  local i
  for i in $(seq 50); do rm -rf "$@" 2>/dev/null && return 0; sleep 0.1; done
  rm -rf "$@"
}
trap 'rm_tree "$T"' EXIT
unset $(env | grep -i '^fractfs_' | cut -d= -f1) 2>/dev/null || true

# The ASan build's library is instrumented: every program run under it gets
# the ASan runtime preloaded too (fractfs-run puts the library first, hence
# the link-order check is off). Leaks of those programs are not ours.
PRELOAD_FIRST=
if [[ ${SAN:-} == address ]]; then
  PRELOAD_FIRST="$(gcc -print-file-name=libasan.so) "
  export LD_PRELOAD=$PRELOAD_FIRST
  export ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:abort_on_error=1
fi

fail() { echo "FAIL: $*" >&2; exit 1; }

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
  [[ "$1" == "$2" ]] || fail "${3:-value}: expected [$1], got [$2]"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
  [[ "$1" == *"$2"* ]] || fail "${3:-output} does not contain [$2]: [$1]"
}

# expect_status N CMD...: runs CMD, fails unless it exits with N; output in $OUT.
expect_status() {
  local want=$1; shift
  set +e; OUT=$("$@" 2>&1); local got=$?; set -e
  [[ $got == "$want" ]] || fail "'$*' exited $got, expected $want: $OUT"
}
