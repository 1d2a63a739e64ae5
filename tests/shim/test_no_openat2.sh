#!/usr/bin/env bash
# Where openat2 is refused (Linux before 5.6, a container's seccomp filter),
# the shim proves a missing name absent the long way (shim/absent.hpp): the
# link and socket scenarios of test_paths and test_ipc run again so.
source "$(dirname "$0")/../lib.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
gcc -O1 -o "$T/no_openat2" "$REPO/tests/shim/progs/no_openat2.c" || fail "cannot build no_openat2"
probe='import ctypes, os; r = ctypes.CDLL(None, use_errno=True).syscall(437, -100, b"/", None, 0); print(r, os.strerror(ctypes.get_errno()))'
assert_eq "-1 Function not implemented" "$("$T/no_openat2" python3 -c "$probe")" "openat2 under no_openat2"
for t in test_paths test_ipc; do
  out=$("$T/no_openat2" bash "$REPO/tests/shim/$t.sh" 2>&1) || fail "$t without openat2: $(tail -n 5 <<<"$out")"
done
echo "no_openat2: ok (test_paths, test_ipc with openat2 refused)"
