#!/usr/bin/env bash
# fractfs status / sync / log / restore: output (text and JSON), exit
# statuses, error messages, keep_generations and garbage collection,
# --dry-run, --generation, --overwrite, and the rules while the app runs.
#
# The trees are written without the shim. The running app is a program
# under fractfs-run (its holder); under TSan, where no ordinary program can
# run under the shim, a statically linked waiter stands in for it (LD_PRELOAD
# does not apply to static programs), and the parts needing a program under
# the shim are skipped.
source "$(dirname "$0")/lib.sh"
remote_on_shm

new_root cmd 'sync_interval = 0
keep_generations = 3
[dirs]
paths = ["data"]
[ignore]
patterns = ["*.tmp"]
[local]
patterns = ["*.sqlite"]'
J=$T/json
mkdir -p "$J"

# json NAME CMD...: CMD's stdout must be valid JSON (python3 -m json.tool); kept in $J/NAME.
json() {
  local name=$1; shift
  st 0 "$@"
  printf '%s\n' "$OUT" > "$J/$name"
  "$PY" -m json.tool "$J/$name" >/dev/null || check_fail "'$*' printed invalid JSON: $OUT"
  pass
}
jf() { h json-field "$J/$1" "$2"; }
# tree_state DIR: everything physical below DIR (type, mode, size, mtime, content hash).
tree_state() { (cd "$1" && find . -printf '%y %m %s %T@ %p -> %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# ---------------------------------------------------------------- before any checkpoint
st 0 ff status --root "$ROOT"
contains "$OUT" "generation        none yet" "status before any checkpoint"
contains "$OUT" "holder            none (the app is not running)" "status without an app"
contains "$OUT" "store             $STORE" "status names the store"
json status0 ff status --root "$ROOT" --json
eq null "$(jf status0 generation)" "JSON generation before any checkpoint"
eq null "$(jf status0 holder_pid)" "JSON holder_pid without an app"
eq "$ROOT" "$(jf status0 root)" "JSON root"
st 0 ff log --root "$ROOT"
contains "$OUT" "(no generations yet)" "log of an empty store"
json log0 ff log --root "$ROOT" --json
eq "[]" "$(<"$J/log0")" "JSON log of an empty store"

# A checkpoint before this node restored would drop the state it lacks.
echo local > "$ROOT/a.txt"
st 1 ff sync --root "$ROOT"
contains "$OUT" "fractfs: error: this node has not restored $ROOT yet" "sync before any restore"
absent "$STORE/CURRENT"
rm "$ROOT/a.txt"  # or it would be part of the deploy bundle, as .fractfs.toml is
st 0 ff restore --root "$ROOT"
contains "$OUT" "nothing to restore: no checkpoint yet" "restore of an empty store"
echo local > "$ROOT/a.txt"

# ---------------------------------------------------------------- sync, status, tiers
mkdir -p "$ROOT/dir/sub" "$ROOT/data" "$REMOTE/data"
echo b > "$ROOT/dir/sub/b.txt"
echo ignored > "$ROOT/x.tmp"
printf 'sqlite-ish' > "$ROOT/data/db.sqlite"
printf 'remote bytes' > "$REMOTE/data/r.bin"
echo "version 1" > "$ROOT/v.txt"
echo "only in generation 1" > "$ROOT/u1.txt"
st 0 ff sync --root "$ROOT"
contains "$OUT" "checkpoint: generation 1 committed in" "first sync"
st 0 ff sync --root "$ROOT"
contains "$OUT" "checkpoint: nothing changed, generation 1 stays current" "sync without changes"
eq 1 "$(store_current)" "no new generation without changes"
json status1 ff status --root "$ROOT" --json
eq 1 "$(jf status1 generation)" "JSON generation"
eq 5 "$(jf status1 files)" "JSON files of generation 1 (a, b, db.sqlite, v, u1; not the bundle's .fractfs.toml)"
eq 1 "$(jf status1 tiers.local_ignored.files)" "JSON local_ignored files (x.tmp)"
eq 12 "$(jf status1 tiers.remote.bytes)" "JSON remote bytes"
eq 1 "$(jf status1 tiers.remote.files)" "JSON remote files"
eq null "$(jf status1 last_error)" "JSON last_error"
ok "JSON last_checkpoint" test "$(jf status1 last_checkpoint)" != null
st 0 ff status --root "$ROOT"
contains "$OUT" "generation        1, " "status text: generation"
contains "$OUT" "local_ignored     1 file(s), 8 B" "status text: local_ignored"
contains "$OUT" "remote            1 file(s), 12 B" "status text: remote"
paths=$(h gen-paths "$STORE")
contains "$paths" $'f\tdata/db.sqlite' "generation 1 has the [local] file inside [dirs]"
not_contains "$paths" "x.tmp" "generation 1 and the ignored file"
not_contains "$paths" "r.bin" "generation 1 and the remote file"

# ---------------------------------------------------------------- log, keep_generations, GC
u1_id=$(grep $'\tu1.txt\t' <<<"$paths" | cut -f6)
ok "u1.txt has one chunk" test ${#u1_id} -eq 32
rm "$ROOT/u1.txt"
for v in 2 3 4 5 6; do
  echo "version $v" > "$ROOT/v.txt"
  st 0 ff sync --root "$ROOT"
  contains "$OUT" "generation $v committed" "sync of version $v"
  h gen-paths "$STORE" > "$T/gen$v.paths"
done
st 0 ff log --root "$ROOT"
eq "generation time (UTC)                files      bytes   uploaded   seconds" "$(head -n 1 <<<"$OUT")" "log header"
eq "6 5 4" "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | paste -sd' ')" "generations listed (keep_generations = 3)"
eq 1 "$(grep -c '(current)$' <<<"$OUT")" "one current generation in the log"
contains "$(sed -n 2p <<<"$OUT")" "(current)" "the newest generation is current"
json log1 ff log --root "$ROOT" --json
eq "6 true" "$(jf log1 0.generation) $(jf log1 0.current)" "JSON log: first entry"
eq "4 false" "$(jf log1 2.generation) $(jf log1 2.current)" "JSON log: last entry"
eq 4 "$(jf log1 0.files)" "JSON log: files of generation 6"
eq "000000000004 000000000004.changes 000000000005 000000000005.changes 000000000006 000000000006.changes" "$(ls "$STORE/generations" | sort | sed -E 's/-[0-9a-f]{16}//' | paste -sd' ')" "generation records in the store"
eq 6 "$(ls "$STORE/generations" | grep -cE '^[0-9]{12}-[0-9a-f]{16}(\.changes)?$')" "records are tagged (format 2)"
fsck > "$J/fsck1"
eq 0 "$(jf fsck1 missing_count)" "objects missing in kept generations: $(<"$J/fsck1")"
eq 0 "$(jf fsck1 unreferenced)" "loose objects no kept generation references: $(<"$J/fsck1")"
eq "$(jf fsck1 referenced)" "$(( $(jf fsck1 object_files) - $(jf fsck1 dead_in_packs) ))" "objects stored vs objects the kept trees reference (less the dead in packs kept)"
eq "0 0" "$(jf fsck1 sparse_packs) $(jf fsck1 unindexed_packs)" "packs under half live, packs without an index, after a sweep: $(<"$J/fsck1")"
ok "small objects are packed" test "$(jf fsck1 packs)" -ge 1
if h has-obj "$STORE" "$u1_id"; then
  ok "u1.txt's object, if still stored, is dead in a pack that is mostly live" test "$(jf fsck1 dead_in_packs)" -ge 1
else
  pass
fi

# ---------------------------------------------------------------- restore --dry-run
echo "newer local" > "$ROOT/dir/sub/b.txt"
before=$(tree_state "$ROOT"; tree_state "$REMOTE"; tree_state "$SCRATCH")
st 0 ff restore --root "$ROOT" --generation 4 --overwrite --dry-run
contains "$OUT" "would restore generation 4: 2 file(s), 12 B" "dry run output"
after=$(tree_state "$ROOT"; tree_state "$REMOTE"; tree_state "$SCRATCH")
eq "$before" "$after" "restore --dry-run changes nothing (root, remote, scratch)"
fresh_root dry
st 0 ff restore --root "$FROOT" --dry-run
contains "$OUT" "would restore generation 6: 4 file(s)" "dry run into an empty root"
eq ".fractfs.toml" "$(ls -A "$FROOT")" "dry run into an empty root writes nothing"

# ---------------------------------------------------------------- restore --generation N
restore_fresh old4 --generation 4
contains "$OUT" "restored generation 4:" "restore --generation 4"
contains "$OUT" "generation 4 is current again, as generation 7" "an older generation becomes current again"
eq "version 4" "$(cat "$FROOT/v.txt")" "v.txt of generation 4"
eq "b" "$(cat "$FROOT/dir/sub/b.txt")" "b.txt of generation 4"
absent "$FROOT/u1.txt" "$FROOT/x.tmp" "$FROOT/data/r.bin"
st 0 ff log --root "$ROOT"
eq "7 6 5" "$(tail -n +2 <<<"$OUT" | awk '{print $1}' | paste -sd' ')" "log after restoring generation 4"
contains "$(sed -n 2p <<<"$OUT")" "(current)" "generation 7 is current"
h -o "$T/gen7.paths" gen-paths "$STORE" 7
eq "$(grep $'\tv.txt\t' "$T/gen4.paths" | cut -f6)" "$(grep $'\tv.txt\t' "$T/gen7.paths" | cut -f6)" "generation 7 holds generation 4's v.txt"

# ---------------------------------------------------------------- newer local files, --overwrite
# In ROOT: v.txt ("version 6") and b.txt ("newer local") are newer than
# generation 7's copies: kept. An older, different copy is replaced. A
# file the generation does not have is left alone.
echo "older and different" > "$ROOT/a.txt"
touch -d '2001-01-01' "$ROOT/a.txt"
echo "mine" > "$ROOT/local-only.txt"
st 0 ff restore --root "$ROOT"
contains "$OUT" "newer local kept 2" "restore keeps newer local files"
contains "$OUT" "v.txt: kept, the local copy is newer than the checkpoint's" "restore names a kept file"
eq "version 6" "$(cat "$ROOT/v.txt")" "newer v.txt kept"
eq "newer local" "$(cat "$ROOT/dir/sub/b.txt")" "newer b.txt kept"
eq "local" "$(cat "$ROOT/a.txt")" "an older, different local file is replaced"
eq "mine" "$(cat "$ROOT/local-only.txt")" "a file the generation lacks is left alone"
no_restore_temps "$ROOT"
st 0 ff restore --root "$ROOT" --overwrite
eq "version 4" "$(cat "$ROOT/v.txt")" "--overwrite replaces a newer v.txt"
eq "b" "$(cat "$ROOT/dir/sub/b.txt")" "--overwrite replaces a newer b.txt"
eq "mine" "$(cat "$ROOT/local-only.txt")" "--overwrite deletes nothing"
g7_mtime=$(h gen-paths "$STORE" 7)
eq "$(grep $'\tv.txt\t' <<<"$g7_mtime" | cut -f5)" "$(stat -c %.9Y "$ROOT/v.txt" | tr -d .)" "restored v.txt has the checkpoint's mtime"
eq 7 "$(store_current)" "restoring the current generation makes no new one"

# ---------------------------------------------------------------- bad input
st 64 ff restore --root "$ROOT" --generation 0
contains "$OUT" "fractfs: error: --generation wants a generation number, got '0'" "--generation 0"
st 64 ff restore --root "$ROOT" --generation abc
contains "$OUT" "got 'abc'" "--generation abc"
st 64 ff restore --root "$ROOT" --generation
contains "$OUT" "option --generation needs a value" "--generation without a value"
st 1 ff restore --root "$ROOT" --generation 999
contains "$OUT" "generation 999 is missing: the current generation is" "a generation that does not exist"
st 1 ff restore --root "$ROOT" --generation 2
contains "$OUT" "generation 2 is missing: no longer kept" "a generation collected by keep_generations"
st 64 ff restore --root "$ROOT" extra
contains "$OUT" "restore takes no arguments" "restore with an argument"
for c in status sync log restore; do
  st 64 ff "$c" --root "$ROOT" --bogus
  contains "$OUT" "unknown option --bogus (see 'fractfs $c --help')" "$c --bogus"
  st 0 ff "$c" --help
  contains "$OUT" "usage: fractfs $c" "$c --help"
done
mkdir -p "$T/plain"
printf 'scratch = "%s"\n' "$T/plain-scratch" > "$T/plain/.fractfs.toml"
for c in status sync log restore; do
  st 2 ff "$c" --root "$T/plain"
  contains "$OUT" "no remote_root is configured for $T/plain: passthrough mode, nothing is checkpointed" "$c in passthrough mode"
done
absent "$T/plain-scratch"
printf 'remote_root = "%s"\nscratch = "%s"\nkeep_generations = 0\n' "$REMOTE" "$SCRATCH" > "$T/plain/.fractfs.toml"
st 2 ff sync --root "$T/plain"
contains "$OUT" "keep_generations" "keep_generations = 0 is refused"

# ---------------------------------------------------------------- while the app runs
# The app: under the shim it writes live.txt (tracked by the journal);
# under TSan a static waiter stands in.
APP_KIND=
if shim_ok; then APP_KIND=shim
elif static_prog waiter '#include <unistd.h>
int main(int c, char **v) { while (access(v[1], F_OK) != 0) usleep(20000); return 0; }'; then APP_KIND=static
fi
start_app() {
  rm -f "$T/stop"
  if [[ $APP_KIND == shim ]]; then
    (cd "$ROOT" && exec "$BIN/fractfs-run" --root "$ROOT" -- sh -c "echo live > live.txt; echo up > '$T/up'; while [ ! -e '$T/stop' ]; do sleep 0.05; done") >"$T/app.out" 2>&1 &
  else
    (cd "$ROOT" && echo up > "$T/up" && exec "$BIN/fractfs-run" --root "$ROOT" -- "$T/waiter" "$T/stop") >"$T/app.out" 2>&1 &
  fi
  APP_PID=$!
  bg_track "$APP_PID"
  wait_until 60 test -e "$T/up" || check_fail "the app did not start: $(cat "$T/app.out")"
  holder_is_up() { ff status --root "$ROOT" --json > "$J/st" 2>/dev/null && [[ $(jf st holder_pid) != null ]]; }
  wait_until 60 holder_is_up || check_fail "no holder while the app runs: $(cat "$J/st")"
}
stop_app() {
  touch "$T/stop"
  local rc=0; wait "$APP_PID" || rc=$?
  eq 0 "$rc" "the app's exit status ($(cat "$T/app.out"))"
  rm -f "$T/up"
}
if [[ -n $APP_KIND ]]; then
  start_app
  json status2 ff status --root "$ROOT" --json
  eq "$APP_PID" "$(jf status2 holder_pid)" "JSON holder_pid: fractfs-run is the holder"
  st 0 ff status --root "$ROOT"
  contains "$OUT" "holder            pid $APP_PID, since" "status text: holder"
  # The holder's start-up checkpoint (a full walk) is done once a sync
  # through it has answered.
  st 0 ff sync --root "$ROOT"
  g=$(store_current)
  # restore is refused while the app runs, and changes nothing.
  echo "version 8" > "$ROOT/v.txt"
  before=$(tree_state "$ROOT")
  st 1 ff restore --root "$ROOT" --overwrite
  contains "$OUT" "fractfs: error: the app is running (holder pid $APP_PID): stop it before restoring" "restore while the app runs"
  eq "$before" "$(tree_state "$ROOT")" "a refused restore changes nothing"
  st 0 ff restore --root "$ROOT" --dry-run
  contains "$OUT" "would restore generation" "restore --dry-run while the app runs"
  # sync asks the holder. What the app wrote is in its journal; v.txt
  # (changed behind the shim's back) needs --full.
  st 0 ff sync --root "$ROOT" --full
  contains "$OUT" "checkpoint: generation $((g + 1)) committed" "sync --full through the holder"
  st 0 ff sync --root "$ROOT"
  contains "$OUT" "nothing changed, generation $((g + 1)) stays current" "sync through the holder, nothing changed"
  paths=$(h gen-paths "$STORE")
  eq "$(sha256sum < "$ROOT/v.txt")" "$(h obj-sha256 "$STORE" "$(grep $'\tv.txt\t' <<<"$paths" | cut -f6)")" "v.txt in generation $((g + 1))"
  [[ $APP_KIND == static ]] || contains "$paths" $'f\tlive.txt' "the generation has what the app wrote"
  json status3 ff status --root "$ROOT" --json
  eq "$((g + 1))" "$(jf status3 generation)" "JSON generation while the app runs"
  stop_app
  json status4 ff status --root "$ROOT" --json
  eq null "$(jf status4 holder_pid)" "JSON holder_pid after the app ended"
else
  echo "note: no program can stand in for a running app here (no shim, no static link): skipped"
fi

# Known problem (reported): a negative --generation wraps around instead of
# being refused as bad input.
st 64 ff restore --root "$ROOT" --generation -1
contains "$OUT" "--generation wants a generation number, got '-1'" "--generation -1"
finish commands
