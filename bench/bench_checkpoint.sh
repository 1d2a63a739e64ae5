#!/usr/bin/env bash
# What `make bench` runs for checkpoints: fractfs's first checkpoint, its
# incremental checkpoints (10 files changed, nothing changed) taken by a
# running holder, and a full restore, against `cp -a` and `rsync -a` of the
# same tree, in one run. Report: BUILD/bench/checkpoint.md and a chart,
# BUILD/bench/checkpoint.png (also kept as checkpoint-<N>files.md/.png, so
# runs of two sizes can sit side by side).
# Builds nothing: `make bench` builds fractfs, fractfs-run and the library first.
#
#   bash bench/bench_checkpoint.sh [--files N] [--dirs N] [--reps N] [--big N] [--big-mib M] [BUILD]
#   SCALE=10                    10 x the small files (default 10,000 -> 100,000)
#   BENCH_CHECKPOINT_DIR=DIR    where the (large) scratch data goes (default $TMPDIR or /tmp)
#   BENCH_CHECKPOINT_REPS=N     rounds of the full copies (default 4; 1 from 50,000 files)
#   BENCH_CHECKPOINT_CHEAP=N    rounds of the incremental checkpoints (default 9)
#   BENCH_CHECKPOINT_STRACE=1   also save `strace -c -w -f` summaries (wall time per
#                               call) into BUILD/bench/checkpoint-strace-*: the holder
#                               over one more 10-file checkpoint, a restore, a first
#                               checkpoint
#
# Tree: N files of 4 KiB over --dirs directories (default 100) plus --big
# files (default 20) of --big-mib MiB (default 20), random content. All data
# lives in one temporary directory, removed on exit, failure or interruption.
set -euo pipefail
cd "$(dirname "$0")/.."

files=$((10000 * ${SCALE:-1}))
dirs=100
reps=${BENCH_CHECKPOINT_REPS:-}
cheap=${BENCH_CHECKPOINT_CHEAP:-9}
nbig=20
bigsize=$((20 << 20))
build=${BUILD:-build}
while (($#)); do
  case $1 in
    --files) files=$2; shift 2 ;;
    --dirs) dirs=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --big) nbig=$2; shift 2 ;;
    --big-mib) bigsize=$(($2 << 20)); shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "bench_checkpoint.sh: unknown option $1" >&2; exit 64 ;;
    *) build=$1; shift ;;
  esac
done
[[ -n $reps ]] || reps=$((files >= 50000 ? 1 : 4))
((files >= 1000 && files <= 999999 && dirs >= 10 && dirs <= 1000 && reps >= 1 && cheap >= 1 &&
  nbig >= 0 && nbig <= 99 && bigsize > 0)) ||
  { echo "bench_checkpoint.sh: want 1000 <= --files <= 999999, 10 <= --dirs <= 1000, --reps >= 1, 0 <= --big <= 99, --big-mib >= 1" >&2; exit 64; }

out=$build/bench
HELPER=$PWD/bench/bench_checkpoint.py
for f in "$build/bin/fractfs" "$build/bin/fractfs-run" "$build/lib/libfractfs.so"; do
  [[ -f $f ]] || { echo "bench_checkpoint.sh: $f is missing (run make first)" >&2; exit 1; }
done
for c in rsync python3; do
  command -v $c >/dev/null || { echo "bench_checkpoint.sh: $c is missing (make deps)" >&2; exit 1; }
done
mkdir -p "$out"
unset LD_PRELOAD FRACTFS_ROOT FRACTFS_CONFIG FRACTFS_REMOTE_ROOT FRACTFS_VOLUME_ROOT FRACTFS_SCRATCH

# Nothing is deleted while measuring (see "deletions" below), so every copy
# stays until the end: per round of full copies cp -a, rsync -a, two stores
# (fractfs sync, the holder's), a restored root and a copy back; one
# fractfs-run root.
tree_bytes=$((files * 4096 + nbig * bigsize))
copies=$((6 * reps + 2))
parent=${BENCH_CHECKPOINT_DIR:-${TMPDIR:-/tmp}}
need_kb=$((tree_bytes / 1024 * (copies + 1) * 11 / 10))
avail_kb=$(df -Pk "$parent" | awk 'NR == 2 { print $4 }')
((avail_kb > need_kb)) ||
  { echo "bench_checkpoint.sh: $parent has $((avail_kb >> 10)) MiB free, the bench needs $((need_kb >> 10)) MiB ($copies copies of the tree)" >&2; exit 1; }

WORK=$(mktemp -d "$parent/fractfs-bench-ckpt.XXXXXX")
ROOT=$WORK/root        # the app root: the tree, nothing else
REMOTE=$WORK/remote    # the holder's remote_root; its store is REMOTE/_checkpoint/.fractfs
SCRATCH=$WORK/scratch  # the holder's node-local state (FRACTFS_SCRATCH overrides it)
STOP=$WORK/stop
SAMPLES=$WORK/samples.tsv
META=$WORK/meta
holder_pid=""
strace_pid=""
t_start=${EPOCHREALTIME/./}

say() { printf '[bench_checkpoint] %s\n' "$*" >&2; }

stop_holder() {
  [[ -n $holder_pid ]] || return 0
  touch "$STOP"
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$holder_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$holder_pid" 2>/dev/null && kill "$holder_pid" 2>/dev/null
  wait "$holder_pid" 2>/dev/null || true
  holder_pid=""
  rm -f "$STOP"
}
cleanup() {
  local rc=$?
  trap - INT TERM
  stop_holder
  [[ -n $strace_pid ]] && kill "$strace_pid" 2>/dev/null
  if [[ -d $WORK ]]; then
    say "removing $WORK ($(du -sh "$WORK" 2>/dev/null | cut -f1); slow where every unlink waits for a discard)"
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The programs measured, copied first: a rebuild during the run changes
# nothing. fractfs-run finds the library beside itself (../lib).
mkdir -p "$WORK/bin" "$WORK/lib"
cp "$build/bin/fractfs" "$build/bin/fractfs-run" "$WORK/bin/"
cp "$build/lib/libfractfs.so" "$WORK/lib/"
FRACTFS=$WORK/bin/fractfs
FRACTFS_RUN=$WORK/bin/fractfs-run
LIB=$WORK/lib/libfractfs.so

# ---------------------------------------------------------------- set-up

# Outside the root, so the root holds the tree alone. Rounds that need an
# empty store or a fresh node override remote_root / scratch through
# FRACTFS_REMOTE_ROOT / FRACTFS_SCRATCH.
cat >"$WORK/fractfs.toml" <<EOF
backend = "mount"
remote_root = "$REMOTE"
scratch = "$SCRATCH"
sync_interval = 0
reconcile_every = 0
auto_ignore_bundle = false
keep_generations = 3
content_hash = false
EOF
export FRACTFS_CONFIG=$WORK/fractfs.toml
mkdir -p "$ROOT" "$REMOTE"

say "tree: $files x 4 KiB in $dirs dirs + $nbig x $((bigsize >> 20)) MiB = $((tree_bytes / 1000000)) MB under $WORK"
python3 "$HELPER" tree "$ROOT" "$files" "$dirs" "$nbig" "$bigsize"
sync
# One read of everything, not timed: round 1 finds the caches as later rounds do.
find "$ROOT" -type f -exec cat {} + >/dev/null

# The file system: ext4 without a journal frees blocks (and discards them,
# with -o discard) synchronously in unlink(2), and skips inodes deleted in the
# last 30 s when it allocates new ones.
fsinfo=$(stat -f -c %T "$WORK")
dev=$(df -P "$WORK" | awk 'NR == 2 { print $1 }')
devname=${dev##*/}
if [[ -r /proc/fs/ext4/$devname/options ]]; then
  fsinfo="ext4 ($dev"
  grep -qx discard "/proc/fs/ext4/$devname/options" && fsinfo+=", -o discard"
  if compgen -G "/proc/fs/jbd2/$devname-*" >/dev/null; then fsinfo+=", journal)"; else fsinfo+=", no journal)"; fi
fi

{
  echo "nsmall=$files"
  echo "ndirs=$dirs"
  echo "nbig=$nbig"
  echo "bigsize=$bigsize"
  echo "bytes=$tree_bytes"
  echo "files=$((files + nbig))"
  echo "reps=$reps"
  echo "cheap=$cheap"
  echo "work=$WORK"
  echo "fstype=$fsinfo"
  echo "nproc=$(nproc)"
  echo "mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel=Linux $(uname -r)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "fractfs=$build/bin/fractfs"
  echo "rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- sync cli shim resolver 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
} >"$META"

# ---------------------------------------------------------------- timing

usec() { echo "${EPOCHREALTIME/./}"; }
secs() { awk -v u="$1" 'BEGIN { printf "%.6f", u / 1e6 }'; }
sample() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >>"$SAMPLES"; }
last() { awk -v k="$1" '$1 == k { v = $3 } END { printf "%.3f", v }' "$SAMPLES"; }

# timed KEY REP CMD...: the wall time into KEY; with TIMED_CPU=1 also the
# CPU time (user + sys, children included) into KEY_cpu. The command's
# output goes to $WORK/last.out.
timed() {
  local key=$1 rep=$2
  shift 2
  local t0 t1 TIMEFORMAT='%3U %3S'
  t0=$(usec)
  { time "$@" >"$WORK/last.out" 2>&1; } 2>"$WORK/last.time" ||
    { say "failed: $*"; cat "$WORK/last.out" >&2; exit 1; }
  t1=$(usec)
  sample "$key" "$rep" "$(secs $((t1 - t0)))"
  [[ ${TIMED_CPU:-0} == 1 ]] && sample "${key}_cpu" "$rep" "$(awk '{ printf "%.3f", $1 + $2 }' "$WORK/last.time")"
  return 0
}

# The seconds a `fractfs sync` or `fractfs restore` printed for itself.
self_seconds() { sed -nE 's/.* in ([0-9.]+) s.*/\1/p; s/.*stays current \(([0-9.]+) s\).*/\1/p' "$WORK/last.out" | head -1; }

# The holder's status file: SCRATCH/<root id>/status (sync/state_dir.hpp).
status_file() { local f; for f in "${FRACTFS_SCRATCH:-$SCRATCH}"/*/status; do echo "$f"; return; done; }
status_field() { awk -v k="$1" '$1 == k { print $2 }' "$(status_file)" 2>/dev/null; }

# start_holder KEY REP: fractfs-run holding an app that waits for $STOP; its
# start-up checkpoint (a full walk) timed twice: as the holder measures it
# (KEY_self) and from the start of fractfs-run until its status shows it
# (KEY_wall).
start_holder() {
  local key=$1 rep=$2 i f t0 t1
  t0=$(usec)
  "$FRACTFS_RUN" --root "$ROOT" -- sh -c 'while [ ! -e "$1" ]; do sleep 0.1; done' sh "$STOP" \
    >>"$WORK/holder.log" 2>&1 &
  holder_pid=$!
  # Done when its status names it with one checkpoint.
  for ((i = 0; ; i++)); do
    f=$(status_file)
    if [[ -n $f && -f $f ]] && [[ $(status_field holder_pid) == "$holder_pid" ]] &&
       (($(status_field checkpoints) >= 1)); then
      break
    fi
    kill -0 "$holder_pid" 2>/dev/null || { say "fractfs-run ended:"; cat "$WORK/holder.log" >&2; exit 1; }
    ((i < 60000)) || { say "no first checkpoint from the holder after 10 min"; exit 1; }
    sleep 0.01
  done
  t1=$(usec)
  sample "${key}_wall" "$rep" "$(secs $((t1 - t0)))"
  sample "${key}_self" "$rep" "$(status_field duration)" "generation $(status_field generation), $(status_field files) files"
}

# ---------------------------------------------------------------- 1. full copies

# Deletions: nothing is deleted until the end. On ext4 without a journal
# (this bench's usual home) an unlink waits for its blocks to be freed (and
# discarded), and inodes deleted in the last 30 s are skipped, one by one,
# when new ones are allocated: a copy made just after another was removed
# pays for that removal. So every round writes into new directories.
#
# Each round: cp -a into an empty directory (then `sync -f` of it, timed on
# its own: cp -a + sync is what a durable copy costs), rsync -a into an
# empty directory, and the first checkpoint: `fractfs sync` (no holder) into
# an empty store. The node must have "restored" first (fractfs refuses to
# checkpoint a node that never did): `fractfs restore` of the empty store,
# not timed.
# The four steps of a round, in ABBA order: odd rounds start with the
# copies, even rounds with fractfs, so neither side always goes first.
step_cp() {
  sync
  TIMED_CPU=1 timed cp_first "$r" cp -a "$ROOT" "$WORK/cp-$r"
  timed cp_sync "$r" sync -f "$WORK/cp-$r"
  sample cpsync_first "$r" "$(awk -v a="$(last cp_first)" -v b="$(last cp_sync)" 'BEGIN { printf "%.6f", a + b }')"
}
step_rsync() {
  sync
  timed rsync_first "$r" rsync -a "$ROOT/" "$WORK/rs-$r/"
}
step_fractfs() {
  export FRACTFS_REMOTE_ROOT=$WORK/remote-$r FRACTFS_SCRATCH=$WORK/scratch-$r
  mkdir -p "$FRACTFS_REMOTE_ROOT"  # fractfs never creates a missing remote_root
  "$FRACTFS" restore --root "$ROOT" >/dev/null
  sync
  TIMED_CPU=1 timed fr_first_wall "$r" "$FRACTFS" sync --root "$ROOT"
  unset FRACTFS_REMOTE_ROOT FRACTFS_SCRATCH
  grep -q 'generation 1 committed' "$WORK/last.out" || { say "unexpected: $(cat "$WORK/last.out")"; exit 1; }
  sample fr_first_self "$r" "$(self_seconds)"
}
# The holder's start-up checkpoint into an empty store (round 1: the
# default remote and scratch, which part 2 goes on with).
step_holder() {
  ((r == 1)) || export FRACTFS_REMOTE_ROOT=$WORK/remote-holder-$r FRACTFS_SCRATCH=$WORK/scratch-holder-$r
  mkdir -p "${FRACTFS_REMOTE_ROOT:-$REMOTE}"
  sync
  start_holder holder_first "$r"
  stop_holder
  unset FRACTFS_REMOTE_ROOT FRACTFS_SCRATCH
}

say "full copies: $reps round(s) of cp -a (+ sync -f), rsync -a, fractfs sync and a holder start into empty stores"
for ((r = 1; r <= reps; r++)); do
  if ((r % 2)); then
    step_cp; step_rsync; step_fractfs; step_holder
  else
    step_holder; step_fractfs; step_rsync; step_cp
  fi
  say "  round $r: cp -a $(last cp_first) s (+ sync -f $(last cp_sync) s), rsync -a $(last rsync_first) s," \
    "fractfs sync $(last fr_first_wall) s, holder start-up $(last holder_first_self) s"
done

# ---------------------------------------------------------------- 2. the holder

# fractfs-run again on round 1's holder store: its start-up checkpoint is a
# full walk that finds nothing changed. Then checkpoints through it.
sync
say "holder: fractfs-run on the store of round 1"
start_holder holder_restart 1
say "  start-up walk: $(last holder_restart_self) s (holder)"

# A holder checkpoint through `fractfs sync`: wall time here, the holder's
# own measure from its status (microseconds; the command prints ms).
holder_sync() {
  local key=$1 rep=$2
  shift 2
  timed "${key}_wall" "$rep" "$FRACTFS" sync --root "$ROOT" "$@"
  sample "${key}_self" "$rep" "$(status_field duration)" "$(head -1 "$WORK/last.out" | sed 's/^checkpoint: //')"
}

say "holder: nothing changed x $cheap"
for ((r = 1; r <= cheap; r++)); do holder_sync fr_nochange "$r"; done

# 10 files, each in a different directory, rewritten by a process under
# the shim (so the journal records them); different files each round.
per_dir=$((files / dirs))
change10() {
  local r=$1 k d j p paths=()
  for ((k = 0; k < 10; k++)); do
    d=$(((k * dirs / 10 + r) % dirs))
    j=$(((r * 13 + k * 7) % per_dir))
    paths+=("$ROOT/small/$(printf 'd%03d/f%06d' "$d" $((j * dirs + d)))")
  done
  for p in "${paths[@]}"; do [[ -f $p ]] || { say "no file $p"; exit 1; }; done
  # The writer stays until the checkpoint is measured: the app's last
  # process asks the holder for a checkpoint as it exits, which would
  # commit the change before `fractfs sync` asks.
  rm -f "$WORK/written" "$WORK/go"
  LD_PRELOAD=$LIB FRACTFS_ROOT=$ROOT \
    sh -c 'w=$1 go=$2; shift 2; for f; do head -c 4096 /dev/urandom >"$f"; done; : >"$w"
           while [ ! -e "$go" ]; do sleep 0.05; done' sh "$WORK/written" "$WORK/go" "${paths[@]}" &
  writer_pid=$!
  while [[ ! -e $WORK/written ]]; do kill -0 "$writer_pid" 2>/dev/null || { say "the writer ended early"; exit 1; }; sleep 0.01; done
}
release_writer() { : >"$WORK/go"; wait "$writer_pid"; }

say "holder: 10 files changed x $cheap (and rsync -a of the same change)"
for ((r = 1; r <= cheap; r++)); do
  change10 "$r"
  sync
  holder_sync fr_change10 "$r"
  release_writer
  grep -q committed "$WORK/last.out" || { say "no new generation: $(cat "$WORK/last.out")"; exit 1; }
  sync
  timed rsync_change10 "$r" rsync -a "$ROOT/" "$WORK/rs-$reps/"
done
say "  10 files changed: holder $(last fr_change10_self) s, rsync -a $(last rsync_change10) s (last round)"
say "holder: nothing changed x $cheap (after the changes)"
for ((r = 1; r <= cheap; r++)); do holder_sync fr_nochange_after "$r"; done
say "holder: full walk, nothing changed x 3"
for ((r = 1; r <= 3; r++)); do holder_sync fr_full "$r" --full; done

strace_ok=0
[[ ${BENCH_CHECKPOINT_STRACE:-0} == 1 ]] && command -v strace >/dev/null && strace_ok=1
if ((strace_ok)); then
  say "strace -c -w -f of the holder over one more 10-file checkpoint"
  change10 $((cheap + 1))
  sync
  strace -c -w -f -o "$out/checkpoint-strace-holder-${files}files.txt" -p "$holder_pid" 2>/dev/null &
  strace_pid=$!
  sleep 1
  "$FRACTFS" sync --root "$ROOT" >"$WORK/last.out"
  release_writer
  kill -INT "$strace_pid"
  wait "$strace_pid" 2>/dev/null || true
  strace_pid=""
fi
stop_holder
grep -v '^$' "$WORK/holder.log" >&2 || true

# ---------------------------------------------------------------- 3. restore

# Each round: `fractfs restore` into a new empty root (a fresh scratch, so
# nothing is known locally) from the holder's store, and `cp -a` of a copy of
# the tree (the first round's cp -a destination) into a new directory. Once:
# `fractfs-run --root EMPTY -- true` (restore, start-up walk, final
# checkpoint: nothing to commit).
step_back() {
  sync
  TIMED_CPU=1 timed cp_back "$r" cp -a "$WORK/cp-1" "$WORK/back-$r"
}
say "restore: $reps round(s) of fractfs restore and cp -a back (ABBA); fractfs-run -- true once"
for ((r = 1; r <= reps; r++)); do
  ((r % 2)) || step_back
  mkdir "$WORK/restored-$r"
  sync
  TIMED_CPU=1 FRACTFS_SCRATCH=$WORK/scratch-restored-$r timed fr_restore_wall "$r" "$FRACTFS" restore --root "$WORK/restored-$r"
  sample fr_restore_self "$r" "$(self_seconds)" "$(head -1 "$WORK/last.out" | sed 's/ in [0-9.]* s//')"
  ((r % 2 == 0)) || step_back
  say "  round $r: fractfs restore $(last fr_restore_wall) s, cp -a back $(last cp_back) s"
done
if diff -r "$ROOT" "$WORK/restored-1" >"$WORK/diff.out" 2>&1; then
  echo "verify=the first restored root matches the tree (\`diff -r\`: identical)." >>"$META"
else
  say "the restored tree differs:"
  head -20 "$WORK/diff.out" >&2
  exit 1
fi
mkdir "$WORK/run-true"
sync
FRACTFS_SCRATCH=$WORK/scratch-run-true timed run_true_wall 1 "$FRACTFS_RUN" --root "$WORK/run-true" -- true

if ((strace_ok)); then
  say "strace -c -w -f of a restore and of a first checkpoint"
  mkdir "$WORK/restored-strace"
  FRACTFS_SCRATCH=$WORK/scratch-restored-strace strace -c -w -f -o "$out/checkpoint-strace-restore-${files}files.txt" \
    "$FRACTFS" restore --root "$WORK/restored-strace" >/dev/null
  export FRACTFS_REMOTE_ROOT=$WORK/remote-strace FRACTFS_SCRATCH=$WORK/scratch-strace
  mkdir -p "$FRACTFS_REMOTE_ROOT"
  "$FRACTFS" restore --root "$ROOT" >/dev/null
  sync
  strace -c -w -f -o "$out/checkpoint-strace-first-${files}files.txt" "$FRACTFS" sync --root "$ROOT" >/dev/null
  unset FRACTFS_REMOTE_ROOT FRACTFS_SCRATCH
fi

# ---------------------------------------------------------------- report

t_end=$(usec)
{
  echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "elapsed=$(((t_end - t_start) / 1000000))"
} >>"$META"
md=$out/checkpoint.md
dat=$out/checkpoint.dat
python3 "$HELPER" report "$SAMPLES" "$META" "$md" "$dat"
cp "$SAMPLES" "$out/checkpoint-samples-${files}files.tsv"
if command -v gnuplot >/dev/null; then
  gnuplot -e "datafile='$dat'; outfile='$out/checkpoint.png'" bench/bench_checkpoint.gp
  cp "$out/checkpoint.png" "$out/checkpoint-${files}files.png"
  chart=$out/checkpoint.png
else
  chart="(none: gnuplot missing; apt-get install gnuplot-nox)"
fi
cp "$md" "$out/checkpoint-${files}files.md"
cat "$md"
echo
echo "report: $md (and $out/checkpoint-${files}files.md)"
echo "data:   $dat"
echo "chart:  $chart"
