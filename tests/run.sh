#!/usr/bin/env bash
# Runs every test and ends with one summary line. Used by `make test`.
#   BUILD=build bash tests/run.sh [NAME-FILTER]
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
filter=${1:-}
logdir=$BUILD/test-logs
mkdir -p "$logdir"
passed=0 failed=0 failures=()

run() {  # run NAME CMD...
  local name=$1; shift
  [[ -n $filter && $name != *$filter* ]] && return
  local log=$logdir/${name//\//_}.log start=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); printf 'PASS  %-32s %3ss  %s\n' "$name" $((SECONDS - start)) "$(grep -v "^\s*$" "$log" | tail -n 1)"
  else
    failed=$((failed + 1)); failures+=("$name")
    printf 'FAIL  %-32s %3ss  (log: %s)\n' "$name" $((SECONDS - start)) "$log"
    tail -n 30 "$log" | sed 's/^/      | /'
  fi
}

run unit "$BUILD/tests/unit_tests"
for seed in 1 2 3; do
  run "git-differential/seed-$seed" "$BUILD/tests/git_differential" --sets 400 --seed "$seed"
done
for t in tests/cli/test_*.sh; do run "cli/$(basename "$t" .sh)" bash "$t"; done
# Checkpoint and restore. Under TSan, the scripts skip what needs a program
# under the shim and still run what the fractfs command does alone.
for t in tests/sync/test_*.sh; do run "sync/$(basename "$t" .sh)" bash "$t"; done
run stress bash tests/stress.sh
run shim/mapping bash tests/shim/mapping.sh
# The store backends against real servers (Ceph RGW, nginx WebDAV). The
# sanitizer builds run the conformance cases only (no faults, credentials,
# TLS or commands): the same code, a fraction of the time.
run store/mount bash tests/store/run.sh mount
if [[ -z ${SAN:-} ]]; then
  run store/servers bash tests/store/run.sh servers
else
  run store/quick bash tests/store/run.sh quick
fi
# Real programs under the shim. TSan cannot be preloaded into programs that
# were not built with it: the TSan build covers the shim through the stress
# test, which links it in.
if [[ ${SAN:-} != thread ]]; then
  for t in tests/shim/test_*.sh; do run "shim/$(basename "$t" .sh)" bash "$t"; done
fi
# Install, Debian package, man pages, completion, container recipe.
for t in tests/install/test_*.sh; do run "install/$(basename "$t" .sh)" bash "$t"; done

echo "==== fractfs tests: $passed passed, $failed failed${failures:+ (${failures[*]})} ===="
[[ $failed == 0 ]]
