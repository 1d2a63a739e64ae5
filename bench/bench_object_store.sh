#!/usr/bin/env bash
# What `make bench` runs for the object stores: on one tree and one Ceph RGW
# on loopback, side by side in one run,
#   fractfs on S3      first checkpoint, 10 files changed, nothing changed,
#                      full restore into an empty root (`fractfs sync` and
#                      `fractfs restore`, each a whole command)
#   restic             `restic backup` first and again with 10 changed,
#                      `restic restore`, to an S3 repository in the same bucket
#   rclone             `rclone copy` up and down
#   fractfs on a mount first checkpoint and restore (a local directory)
# Report: BUILD/bench/object_store.md. Builds nothing (make bench does).
#
#   bash bench/bench_object_store.sh [--files N] [--big N] [--big-mib M] [BUILD]
# Tree: N files of 4 KiB (default 10,000; SCALE=10 for 100,000) over 100
# directories, plus --big files (default 20) of --big-mib MiB (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
files=$((10000 * ${SCALE:-1})) nbig=20 bigmib=20 build=${BUILD:-build}
while (($#)); do
  case $1 in
    --files) files=$2; shift 2 ;;
    --big) nbig=$2; shift 2 ;;
    --big-mib) bigmib=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "bench_object_store.sh: unknown option $1" >&2; exit 64 ;;
    *) build=$1; shift ;;
  esac
done
BIN=$REPO/$build/bin
for c in restic rclone radosgw; do
  command -v $c >/dev/null || { echo "bench_object_store.sh: $c is missing (make deps)" >&2; exit 1; }
done
[[ -x $BIN/fractfs ]] || { echo "bench_object_store.sh: $BIN/fractfs is missing (run make)" >&2; exit 1; }
source "$REPO/tests/store/servers.sh"
unset LD_PRELOAD $(env | grep -i '^fractfs_' | cut -d= -f1) AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE CURL_CA_BUNDLE 2>/dev/null || true

W=$(mktemp -d /tmp/fractfs-bench-os.XXXXXX)
trap 'stop_rgw "$W/rgw"; rm -rf "$W"' EXIT
start_rgw "$W/rgw" >/dev/null || { echo "bench_object_store.sh: Ceph RGW did not start" >&2; exit 1; }
BUCKET=bench
make_bucket "$BUCKET" || { echo "bench_object_store.sh: cannot make the bucket" >&2; exit 1; }
EP=http://127.0.0.1:$RGW_PORT
export AWS_ACCESS_KEY_ID=ACCESS AWS_SECRET_ACCESS_KEY=SECRET AWS_EC2_METADATA_DISABLED=true HOME=$W/home
export FRACTFS_S3_ENDPOINT=$EP RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$W/restic-cache
export RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph RCLONE_CONFIG_RGW_ENDPOINT=$EP \
  RCLONE_CONFIG_RGW_ACCESS_KEY_ID=ACCESS RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY=SECRET RCLONE_CONFIG=/dev/null
mkdir -p "$HOME"

# The tree, written once: small files over 100 directories, then big ones.
python3 - "$W/tree" "$files" "$nbig" "$bigmib" <<'PY'
import os, sys
root, n, nbig, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for d in range(100): os.makedirs("%s/d%02d" % (root, d))
for i in range(n):
    with open("%s/d%02d/f%06d" % (root, i % 100, i), "wb") as f: f.write(os.urandom(4096))
os.makedirs(root + "/big")
for i in range(nbig):
    with open("%s/big/b%02d" % (root, i), "wb") as f:
        for _ in range(mib): f.write(os.urandom(1 << 20))
PY
sync
bytes=$(du -sb "$W/tree" | cut -f1)

# secs CMD...: wall seconds of CMD (its output discarded; its failure stops the bench).
secs() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$W/last.out" 2>&1 || { echo "bench_object_store.sh: '$*' failed:" >&2; tail -n 20 "$W/last.out" >&2; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "print('%.3f' % ($t1 - $t0))"
}
change10() {  # DIR: 10 of the small files rewritten
  local i
  for i in $(seq 1 10); do head -c 4096 /dev/urandom >"$1/$(printf 'd%02d/f%06d' "$i" "$i")"; done
}

# fractfs on a backend: the tree copied into a root whose first restore saw
# an empty store (so nothing is deploy bundle), then sync, change, sync,
# sync, restore into an empty root.
fractfs_run() {  # NAME BACKEND REMOTE
  local name=$1 b=$2 remote=$3 app=$W/$1
  mkdir -p "$app" "$W/$1-fresh"
  printf 'backend = "%s"\nremote_root = "%s"\nscratch = "%s"\nauto_ignore_bundle = false\n' "$b" "$remote" "$W/$name-s" >"$app/.fractfs.toml"
  sed "s|^scratch = .*|scratch = \"$W/$name-fs\"|" "$app/.fractfs.toml" >"$W/$name-fresh/.fractfs.toml"
  "$BIN/fractfs" restore --root "$app" >/dev/null
  cp -a "$W/tree/." "$app/"
  sync
  R[$name.first]=$(secs "$BIN/fractfs" sync --root "$app")
  change10 "$app"
  R[$name.ten]=$(secs "$BIN/fractfs" sync --root "$app")
  R[$name.none]=$(secs "$BIN/fractfs" sync --root "$app")
  R[$name.restore]=$(secs "$BIN/fractfs" restore --root "$W/$name-fresh")
}

declare -A R
[[ -n ${BENCH_SKIP_FRACTFS:-} ]] || {
  fractfs_run s3 s3 "s3://$BUCKET/fractfs"
  mkdir -p "$W/mount-remote"
  fractfs_run mount mount "$W/mount-remote"
}
# restic: a repository in the same bucket.
restic -r "s3:$EP/$BUCKET/restic" init >/dev/null
cp -a "$W/tree" "$W/rtree"
R[restic.first]=$(secs restic -r "s3:$EP/$BUCKET/restic" backup "$W/rtree")
change10 "$W/rtree"
R[restic.ten]=$(secs restic -r "s3:$EP/$BUCKET/restic" backup "$W/rtree")
R[restic.none]=$(secs restic -r "s3:$EP/$BUCKET/restic" backup "$W/rtree")
R[restic.restore]=$(secs restic -r "s3:$EP/$BUCKET/restic" restore latest --target "$W/restic-out")
# rclone: the tree as objects, up and down.
R[rclone.first]=$(secs rclone copy --transfers 8 "$W/tree" "rgw:$BUCKET/rclone")
change10 "$W/tree"
R[rclone.ten]=$(secs rclone copy --transfers 8 "$W/tree" "rgw:$BUCKET/rclone")
R[rclone.none]=$(secs rclone copy --transfers 8 "$W/tree" "rgw:$BUCKET/rclone")
R[rclone.restore]=$(secs rclone copy --transfers 8 "rgw:$BUCKET/rclone" "$W/rclone-out")

out=$REPO/$build/bench/object_store.md
mkdir -p "$(dirname "$out")"
{
  echo "# fractfs on S3 against restic and rclone"
  echo
  echo "Tree: $files files of 4 KiB in 100 directories + $nbig × $bigmib MiB ($((bytes >> 20)) MiB in all)."
  echo "Store: one Ceph RGW (memstore OSD) on loopback; every figure a whole command's wall time, in seconds."
  echo "Machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(restic version | cut -d' ' -f1-2); $(rclone version | head -n 1)."
  echo
  echo "| tool | first | 10 files changed | nothing changed | full restore |"
  echo "|---|---|---|---|---|"
  for t in s3 restic rclone mount; do
    [[ -n ${R[$t.first]:-} ]] || continue
    name=$t
    [[ $t == s3 ]] && name="fractfs, S3"
    [[ $t == mount ]] && name="fractfs, mount (local dir)"
    echo "| $name | ${R[$t.first]} | ${R[$t.ten]} | ${R[$t.none]} | ${R[$t.restore]} |"
  done
  if [[ -n ${R[s3.first]:-} ]]; then
    echo
    for t in restic rclone; do
      echo "fractfs on S3 against $t: first $(python3 -c "print('%.2f' % (${R[$t.first]} / ${R[s3.first]}))")× as fast," \
        "restore $(python3 -c "print('%.2f' % (${R[$t.restore]} / ${R[s3.restore]}))")× (target ≥ 2)."
    done
  fi
} | tee "$out"
