#!/usr/bin/env bash
# Runs every shim integration test and ends with one summary line.
#   BUILD=build bash tests/shim/run_all.sh [NAME-FILTER]
# Each test's output goes to $BUILD/test-logs/shim_NAME.log.
set -uo pipefail
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
filter=${1:-}
logdir=$BUILD/test-logs
mkdir -p "$logdir"
passed=0 failed=0 failures=()
for t in tests/shim/test_*.sh; do
  name=$(basename "$t" .sh); name=${name#test_}
  [[ -n $filter && $name != *$filter* ]] && continue
  log=$logdir/shim_$name.log start=$SECONDS
  if bash "$t" >"$log" 2>&1; then
    passed=$((passed + 1)); printf 'PASS  %-10s %3ss  %s\n' "$name" $((SECONDS - start)) "$(tail -n 1 "$log")"
  else
    failed=$((failed + 1)); failures+=("$name")
    printf 'FAIL  %-10s %3ss  (log: %s)\n' "$name" $((SECONDS - start)) "$log"
    grep -m 3 '^FAIL' "$log" | cut -c1-300 | sed 's/^/      | /'
  fi
done
echo "==== shim integration tests: $passed passed, $failed failed${failures:+ (${failures[*]})} ===="
[[ $failed == 0 ]]
