#!/usr/bin/env bash
# Multi-threaded stress of the shim (tests/shim/stress.cpp), with the remote
# store on the same file system as the root and on another one (/dev/shm),
# then a check of where every file physically landed. Sanitizer builds run
# the variant with the shim linked in, so ASan/TSan instrument its code.
source "$(dirname "$0")/lib.sh"

threads=${STRESS_THREADS:-8} iterations=${STRESS_ITERATIONS:-150}
remotes=("$T/remote")
if [[ -d /dev/shm && -w /dev/shm && $(stat -c %d /dev/shm) != $(stat -c %d "$T") ]]; then
  shm=$(mktemp -d /dev/shm/fractfs-stress-XXXXXX)
  trap 'rm_tree "$T" "$shm"' EXIT
  remotes+=("$shm")
fi

check_placement() {  # ROOT REMOTE
  local wrong
  wrong=$(find "$1/data" -name '*.parquet'; find "$2/data" -name '*.tmp'; find "$1" "$2" -type l)
  [[ -z $wrong ]] || fail "misplaced after stress: $wrong"
}

run_one() {  # NAME REMOTE CMD...
  local name=$1 remote=$2; shift 2
  local root=$T/root-$name
  # The previous run's helper may still be leaving (its last checkpoint,
  # the lease's release): rm_tree waits it out.
  rm_tree "$root" "${remote:?}/data" "$remote/_checkpoint" && mkdir -p "$root" "$remote"
  printf 'remote_root = "%s"\nscratch = "%s"\n[dirs]\npaths = ["data"]\n[ignore]\npatterns = ["*.tmp"]\n' \
    "$remote" "$T/scratch-$name" > "$root/.fractfs.toml"
  (cd "$root" && FRACTFS_ROOT=$root "$@" "$root" "$remote" "$threads" "$iterations") || fail "stress $name failed"
  check_placement "$root" "$remote"
}

n=0
for remote in "${remotes[@]}"; do
  n=$((n + 1))
  run_one "linked-$n" "$remote" "$OUT/tests/stress_linked"
  if [[ -z ${SAN:-} ]]; then
    run_one "preload-$n" "$remote" "$BIN/fractfs-run" -- "$OUT/tests/stress"
  fi
done
echo "stress: ok (${#remotes[@]} remote placements, $threads threads x $iterations iterations)"
