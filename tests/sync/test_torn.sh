#!/usr/bin/env bash
# A file rewritten in place while checkpoints read it: each checkpoint must
# keep a whole version of it (one it was retried into, or the previous one,
# counted as dirty), never a mix of two. The file's versions are uniform
# (see hot.py below), so a torn copy shows in the store.
#
# No program runs under the shim (the writer changes the file behind it;
# `fractfs sync` walks the whole root): this test runs under TSan too.
#
#   SECONDS_OF_WRITING=8 BUILD=build bash tests/sync/test_torn.sh
source "$(dirname "$0")/lib.sh"
remote_on_shm
DURATION=${SECONDS_OF_WRITING:-8}

new_root torn 'sync_interval = 0'
# Version V of hot.bin: the 4-byte number V over and over, written in
# place from the start of the file to its end, a piece at a time. At any
# instant the file is V everywhere, or V then V-1 (helpers.py torn-check):
# a copy with an older part before a newer one, or three versions, was
# read while it changed.
cat > "$T/hot.py" <<'PY'
import os, struct, sys, time
name, size, piece, seconds, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
end = time.monotonic() + seconds
v = 0
with open(name, "wb") as f:
    f.write(struct.pack("<I", 0) * (size // 4))
while time.monotonic() < end and not os.path.exists(stop):
    v += 1
    block = struct.pack("<I", v) * (piece // 4)
    with open(name, "r+b", buffering=0) as f:   # in place: the size never changes
        for i in range(size // piece):
            f.write(block)
    time.sleep(0.002)  # a moment between versions: a checkpoint may get a whole one
PY
st 0 ff restore --root "$ROOT"
echo "steady" > "$ROOT/steady.txt"
# Two writers: a small file (one chunk, read at once) and a big one (two
# chunks: a checkpoint reads, hashes and stores one before the next).
(cd "$ROOT" && exec /usr/bin/python3 "$T/hot.py" hot.bin $((256 * 1024)) 4096 "$DURATION" "$T/stop") &
writer=$!
(cd "$ROOT" && exec /usr/bin/python3 "$T/hot.py" hotbig.bin $((6 * 1024 * 1024)) 65536 "$DURATION" "$T/stop") &
writer2=$!
bg_track "$writer" "$writer2"
wait_until 30 test -s "$ROOT/hot.bin" || check_fail "the writer did not start"
wait_until 30 test -s "$ROOT/hotbig.bin" || check_fail "the writer did not start"
syncs=0 committed=0 dirty=0 torn=()
while kill -0 "$writer" 2>/dev/null; do
  st 0 ff sync --root "$ROOT"
  syncs=$((syncs + 1))
  [[ $OUT == *"committed"* ]] && committed=$((committed + 1))
  if [[ $OUT == *"changed while being read"* ]]; then
    dirty=$((dirty + 1))
    n=$(sed -n 's/^note: \([0-9]*\) file(s) changed while being read.*/\1/p' <<<"$OUT")
    st 0 ff status --root "$ROOT" --json
    printf '%s\n' "$OUT" > "$T/status.json"
    eq "$n" "$(h json-field "$T/status.json" dirty_kept)" "status: files kept at their previous version by the last checkpoint"
  fi
  for f in hot.bin hotbig.bin; do
    r=$(h torn-check "$STORE" $f)
    [[ $r != TORN* ]] || torn+=("$f in generation $(store_current): $r")
  done
done
wait "$writer" || check_fail "the writer failed"
wait "$writer2" || check_fail "the writer failed"
echo "$syncs checkpoints while hot.bin and hotbig.bin were rewritten in place: $committed committed, $dirty with a file kept at its previous version, ${#torn[@]} torn"
ok "some checkpoints ran while the files were written" test "$syncs" -ge 3
# Once the writer has stopped, the checkpoint has the file as it is.
st 0 ff sync --root "$ROOT"
restore_fresh fresh
same_files "$ROOT/hot.bin" "$FROOT/hot.bin" "hot.bin once the writer stopped"
same_files "$ROOT/hotbig.bin" "$FROOT/hotbig.bin" "hotbig.bin once the writer stopped"
same_files "$ROOT/steady.txt" "$FROOT/steady.txt" "steady.txt"
eq "" "$(printf '%s\n' "${torn[@]+"${torn[@]}"}" | head -n 5)" "torn copies in the committed generations"
finish torn
