#!/usr/bin/env bash
# A fault injected into each entry point of shim/functions.def in turn
# (FRACTFS_INTERNAL_FAULT=NAME): the call still behaves as libc's (the
# probe's output and the tree it leaves equal a run without the shim), and
# the shim says once that it passed NAME through, which proves the fault
# guard covers NAME. FNH entries (calls on a stream) have no fault point:
# they are run the same way and must behave as libc's.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/app" "$T/native" "$T/remote"
printf 'remote_root = "%s"\n[dirs]\npaths = ["data"]\n[ignore]\npatterns = ["*.tmp"]\n' "$T/remote" > "$T/app/.fractfs.toml"
g++ -std=c++20 -O1 -I"$REPO" -o "$T/probe" "$REPO/tests/shim/progs/entry_probe.cpp" 2>/dev/null ||
  fail "cannot build entry_probe"

def() { g++ -E -P -x c++ "$@" "$REPO/shim/functions.def" | tr ' ' '\n' | grep -v '^$' | sort; }
all=$(def -D'FN(n)=n' -D'FNV(n,v)=n' -D'FNH(n)=n')
guarded=$(def -D'FN(n)=n' -D'FNV(n,v)=n' -D'FNH(n)=')
missing=$(comm -23 <(echo "$all") <("$T/probe" --list | sort))
[[ -z $missing ]] || fail "entry_probe has no case for: $missing"

# run DIR [ENV...]: the probe for $name in DIR, on a fresh tree.
run() {
  local dir=$1; shift
  rm -rf "$dir/w"
  (cd "$dir" && env "$@" "$T/probe" "$name" 2>&1; echo "exit $?")
}

# KEEP_GOING=1 lists every failing entry point instead of the first.
check() { if [[ -n ${KEEP_GOING:-} ]]; then ( "$@" ) || bad+=" $name"; else "$@"; fi; }
n=0 faulted=0 bad=
for name in $all; do
  want=$(run "$T/native")
  rm -f "$T/fault.log"
  got=$(run "$T/app" LD_PRELOAD="$PRELOAD_FIRST$LIB/libfractfs.so" FRACTFS_INTERNAL_FAULT="$name" \
        FRACTFS_LOG_FILE="$T/fault.log")
  check assert_eq "$want" "$got" "$name with a fault injected"
  if grep -qx "$name" <<<"$guarded"; then
    grep -q "internal fault in $name (injected fault)" "$T/fault.log" 2>/dev/null ||
      check fail "$name: no fault reached its guard; log: $(cat "$T/fault.log" 2>/dev/null)"
    faulted=$((faulted + 1))
  fi
  n=$((n + 1))
done
[[ -z $bad ]] || fail "failing entry points:$bad"

# An app's C++ exception leaving its nftw callback unwinds through the
# shim's walk as through libc's.
name=nftw_throw
assert_eq "$(run "$T/native")" "$(run "$T/app" LD_PRELOAD="$PRELOAD_FIRST$LIB/libfractfs.so")" \
  "an exception thrown from an nftw callback"
# And from scandir's filter, called once as by libc (not again by a
# pass-through), in a union directory too.
name=scandir_throw
rm -rf "$T/native/data" "$T/app/data" "$T/remote/data"
assert_eq "$(run "$T/native")" "$(run "$T/app" LD_PRELOAD="$PRELOAD_FIRST$LIB/libfractfs.so" FRACTFS_LOG_FILE="$T/throw.log")" \
  "an exception thrown from scandir's callbacks"
[[ ! -s $T/throw.log ]] || fail "scandir_throw: the shim logged: $(cat "$T/throw.log")"

# A thread cancelled while blocked in a call inside the shim unwinds
# through the guard (which must not swallow the unwind) as it does in libc.
# Not under ASan: there this unwind, which starts in the SIGCANCEL handler,
# makes GCC 12's runtime report a stack-buffer-overflow inside its own
# sigaltstack interceptor (__asan_handle_no_return at the shim's landing
# pad); the release build checks it.
name=pthread_cancel
if [[ ${SAN:-} != address ]]; then
  assert_eq "$(run "$T/native")" "$(run "$T/app" LD_PRELOAD="$PRELOAD_FIRST$LIB/libfractfs.so")" \
    "a thread cancelled in open"
fi
echo "faults: ok ($n entry points, $faulted with a fault point, each faulted alone)"
