#!/usr/bin/env bash
# The shim's envelope: errno untouched by successful calls, clean errors
# for bad arguments, and internal faults passing calls through with one
# log line per process instead of crashing or hanging the app.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/app" "$T/remote"
printf 'remote_root = "%s"\n[dirs]\npaths = ["data"]\n[ignore]\npatterns = ["*.tmp"]\n' "$T/remote" > "$T/app/.fractfs.toml"
g++ -std=c++20 -O1 -o "$T/errno_probe" "$REPO/tests/shim/progs/errno_probe.cpp" || fail "cannot build errno_probe"
under() { (cd "$T/app" && LD_PRELOAD="$PRELOAD_FIRST$LIB/libfractfs.so" "$@"); }

out=$(under "$T/errno_probe") || fail "errno probe: $out"
assert_eq ok "$out" "errno probe"

# Injected internal faults: every guarded operation throws inside the shim.
# Those calls pass through to libc (acting on natural paths), the app runs
# to its end, and the shim says so once per process.
err=$(under env FRACTFS_INTERNAL_FAULT=1 FRACTFS_LOG_FILE="$T/fault.log" \
      sh -c 'mkdir data/a && echo x > data/a/f && mv data/a/f data/a/g && rm data/a/g && rmdir data/a' 2>&1) ||
  fail "app under injected faults failed: $err"
[[ -s $T/fault.log ]] || fail "no fault logged"
# Metadata, stat, links and special files under injected faults behave as
# libc's: the same script's output as in a copy of the root without the shim.
script='mkdir -p data/m && echo hi >data/m/f && chmod 640 data/m/f && touch -c data/m/f &&
  ln -s f data/m/l && mkfifo data/m/p && truncate -s 7 data/m/f && ln data/m/f data/m/h &&
  stat -c "%n %s %a %h %F" data/m/f data/m/l data/m/p && readlink data/m/l && ls data/m && rm -r data/m'
mkdir -p "$T/native" && cp "$T/app/.fractfs.toml" "$T/native/"
want=$(cd "$T/native" && sh -c "$script" 2>&1) || fail "the script failed natively: $want"
got=$(under env FRACTFS_INTERNAL_FAULT=1 FRACTFS_LOG_FILE="$T/fault2.log" sh -c "$script" 2>&1) ||
  fail "the script failed under injected faults: $got"
assert_eq "$want" "$got" "metadata calls under injected faults"
grep -q "internal fault in utimensat" "$T/fault2.log" || fail "touch's fault not logged: $(cat "$T/fault2.log")"
per_process=$(sed -n 's/^fractfs\[\([0-9]*\)\].*internal fault.*/\1/p' "$T/fault.log" | sort | uniq -d)
[[ -z $per_process ]] || fail "a process logged its fault more than once: $per_process"
grep -q "passing such calls through to libc" "$T/fault.log" || fail "fault message: $(cat "$T/fault.log")"

# A long-running loop of short processes stays cheap and quiet.
out=$(under sh -c 'i=0; while [ $i -lt 300 ]; do /bin/true || exit 1; i=$((i+1)); done; echo done' 2>&1)
assert_eq done "$out" "300 short processes under the shim"
echo "robust: ok"
