#!/usr/bin/env bash
# A file rewritten in place all the time, on a file system with reflinks
# (XFS, made in a file and loop-mounted for the test): a checkpoint that
# finds it changing while read copies it from an instant reflink clone
# (FICLONE) instead of keeping its previous version. Every checkpoint then
# has the file as it was at one instant (never a mix of two: the writer's
# versions are checked as in test_torn.sh), and none keeps it old.
#
# Needs root and loop devices; says SKIP (and why) where it has neither.
source "$(dirname "$0")/lib.sh"
DURATION=${SECONDS_OF_WRITING:-5}

img=$T/xfs.img mnt=$T/xfs
mkdir -p "$mnt"
truncate -s 320M "$img"
if ! { command -v mkfs.xfs >/dev/null && mkfs.xfs -q -m reflink=1 "$img" 2>/dev/null &&
       mount -o loop "$img" "$mnt" 2>/dev/null; }; then
  echo "reflink: SKIP: cannot make and mount an XFS file system here (root, xfsprogs and loop devices needed)"
  exit 0
fi
unmount() { umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; }
trap 'unmount; cleanup' EXIT
remote_on_shm

ROOT_BASE=$mnt new_root reflink 'sync_interval = 0'
cat > "$T/hot.py" <<'PY'
import os, struct, sys, time
name, size, piece, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
end = time.monotonic() + seconds
v = 0
with open(name, "wb") as f:
    f.write(struct.pack("<I", 0) * (size // 4))
while time.monotonic() < end:
    v += 1
    block = struct.pack("<I", v) * (piece // 4)
    with open(name, "r+b", buffering=0) as f:
        for i in range(size // piece):
            f.write(block)
PY
st 0 ff restore --root "$ROOT"
(cd "$ROOT" && exec "$PY" "$T/hot.py" hot.bin $((2 * 1024 * 1024)) 4096 "$DURATION") &
writer=$!
bg_track "$writer"
wait_until 30 test -s "$ROOT/hot.bin" || check_fail "the writer did not start"
syncs=0 cloned=0 kept=0 torn=()
while kill -0 "$writer" 2>/dev/null; do
  st 0 ff sync --root "$ROOT"
  syncs=$((syncs + 1))
  st 0 ff status --root "$ROOT" --json
  printf '%s\n' "$OUT" > "$T/status.json"
  cloned=$((cloned + $(h json-field "$T/status.json" cloned)))
  kept=$((kept + $(h json-field "$T/status.json" dirty_kept)))
  r=$(h torn-check "$STORE" hot.bin)
  [[ $r != TORN* ]] || torn+=("generation $(store_current): $r")
done
wait "$writer" || check_fail "the writer failed"
echo "$syncs checkpoints while hot.bin was rewritten in place: $cloned read from a reflink clone, $kept kept it old"
ok "some checkpoints ran" test "$syncs" -ge 3
ok "a reflink clone was read (cloned: $cloned)" test "$cloned" -ge 1
eq "" "$(printf '%s\n' "${torn[@]+"${torn[@]}"}" | head -n 5)" "copies of two versions in the committed generations"
st 0 ff sync --root "$ROOT"
restore_fresh fresh
same_files "$ROOT/hot.bin" "$FROOT/hot.bin" "hot.bin once the writer stopped"
finish reflink
