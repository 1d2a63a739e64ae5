#!/usr/bin/env bash
# Node wipe: an app (python3 and the sqlite3 CLI) writes files in every
# tier, is checkpointed, and the node is wiped (everything under the root
# but the deploy bundle, and the scratch directory). The next start must
# bring back every local_synced file byte for byte with its mode and
# mtime, the directories, the empty directory and the symlink, the SQLite
# database with its rows; not the local_ignored files; not a file deleted
# before the checkpoint; a renamed file only under its new name; the
# remote tier untouched; the bundle (left in place by the wipe) neither
# checkpointed nor overwritten.
# Once with fractfs-run, once with a bare LD_PRELOAD (the first process
# restores and holds).
source "$(dirname "$0")/lib.sh"
if ! shim_ok; then echo "wipe: skipped (programs cannot run under the TSan-built shim)"; exit 0; fi

SQLITE=$(command -v sqlite3) || fail "sqlite3 not installed"
MTIME=1600000000123456789      # secret.key
DIR_MTIME=1500000000987654321  # state/empty
LINK_MTIME=1400000000555555555 # the symlink 'current'

# The first run: files in every tier.
cat > "$T/app1.py" <<'PY'
import os, subprocess, random
rng = random.Random(7)
def put(p, data):
    os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
put("notes/a.txt", b"first version of a\n")
put("notes/b.txt", b"b" * 10000)
put("notes/old.txt", b"deleted by the second run\n")
put("notes/torename.txt", b"renamed by the second run\n")
put("state/deep/x/y.json", b'{"k": [1, 2, 3]}\n')
put("state/big.bin", rng.randbytes(5 * 1024 * 1024 + 123))   # two chunks
os.makedirs("state/empty")
put("secret.key", b"s3cr3t\n")
os.chmod("secret.key", 0o600)
os.symlink("state/deep/x/y.json", "current")
# local_ignored
put("work.tmp", b"scratch work\n")
put("cache/c1.bin", rng.randbytes(3000))
put("cache/sub/c2.bin", b"c2\n")
put("data/part.tmp", b"ignored inside [dirs]\n")
# remote
put("data/blob1.bin", rng.randbytes(1 << 20))
put("data/sub/blob2.bin", b"blob2\n")
put("exports/report.csv", b"a,b\n1,2\n")
# A bundle file the app changes: never checkpointed (the bundle caveat).
with open("config.json", "ab") as f:
    f.write(b"changed by the app\n")
subprocess.run([os.environ["SQLITE"], "data/app.sqlite",
                "create table t(id integer primary key, v text);"
                "insert into t(v) values ('one'), ('two'), ('three');"], check=True)
PY

# The second run: delete, rename, modify, more rows; mode and times set last.
cat > "$T/app2.py" <<'PY'
import os, subprocess, sys
os.unlink("notes/old.txt")
os.rename("notes/torename.txt", "state/renamed.txt")
with open("notes/a.txt", "ab") as f:
    f.write(b"second version\n")
subprocess.run([os.environ["SQLITE"], "data/app.sqlite",
                "insert into t(v) values ('four'); update t set v = 'TWO' where id = 2;"], check=True)
os.utime("secret.key", ns=(int(sys.argv[1]), int(sys.argv[1])))
os.utime("state/empty", ns=(int(sys.argv[2]), int(sys.argv[2])))
os.utime("current", ns=(int(sys.argv[3]), int(sys.argv[3])), follow_symlinks=False)
PY

# After the wipe, the app sees its state (through the shim).
cat > "$T/check.py" <<'PY'
import os, sys
print("a=" + open("notes/a.txt").read().replace("\n", "|"))
print("old=" + str(os.path.exists("notes/old.txt")))
print("torename=" + str(os.path.exists("notes/torename.txt")))
print("renamed=" + open("state/renamed.txt").read().strip())
print("current=" + os.readlink("current") + " " + open("current").read().strip())
print("blob1=" + str(os.path.getsize("data/blob1.bin")))
print("listing=" + ",".join(sorted(os.listdir("data"))))
print("empty=" + ",".join(os.listdir("state/empty")))
PY

CONFIG='sync_interval = 0
[dirs]
paths = ["data", "exports"]
[ignore]
patterns = ["*.tmp", "cache/"]
[local]
patterns = ["*.sqlite"]'

# launch MODE DIR CMD...: under fractfs-run, or with a bare LD_PRELOAD.
launch() {
  local mode=$1; shift
  if [[ $mode == run ]]; then app "$@"; else preload "$@"; fi
}

remote_listing() { (cd "$REMOTE" && find . -path ./_checkpoint -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum); }

scenario() {
  local mode=$1
  new_root "wipe-$mode" "$CONFIG"
  export SQLITE
  # The deploy bundle: there before the first start.
  local orig=$T/bundle-$mode
  mkdir -p "$orig/app/lib" "$orig/static"
  echo 'print("main")' > "$orig/app/main.py"
  echo 'def f(): pass' > "$orig/app/lib/util.py"
  head -c 100000 /dev/urandom > "$orig/static/logo.bin"
  echo '{"setting": 1}' > "$orig/config.json"
  cp "$ROOT/.fractfs.toml" "$orig/"
  touch -d '2020-01-02 03:04:05' "$orig/app/main.py"
  cp -a "$orig/." "$ROOT/"

  launch "$mode" "$ROOT" /usr/bin/python3 "$T/app1.py"
  launch "$mode" "$ROOT" /usr/bin/python3 "$T/app2.py" $MTIME $DIR_MTIME $LINK_MTIME
  local state; state=$(state_dir)
  [[ -n $state ]] || check_fail "$mode: no state directory under $SCRATCH"
  eq "$(cd "$orig" && find . -type f -printf '%P\n' | sort)" "$(sort "$state/bundle")" "$mode: the bundle list"

  # Where the files landed, before the wipe.
  ok "$mode: sqlite db local" test -f "$ROOT/data/app.sqlite"
  absent "$REMOTE/data/app.sqlite" "$ROOT/data/blob1.bin" "$ROOT/notes/old.txt"
  ok "$mode: blob remote" test -f "$REMOTE/data/blob1.bin"
  eq "1|one|2|TWO|3|three|4|four" "$("$SQLITE" "$ROOT/data/app.sqlite" 'select id, v from t order by id' | paste -sd'|')" "$mode: rows before the wipe"

  # What the checkpoint holds.
  local gen paths
  gen=$(store_current)
  ok "$mode: a generation exists" test "$gen" -ge 2
  paths=$(h gen-paths "$STORE")
  paths=$(cut -f1,2 <<<"$paths")
  for p in "f	notes/a.txt" "f	notes/b.txt" "f	state/renamed.txt" "f	state/big.bin" "f	secret.key" \
           "f	data/app.sqlite" "d	state/empty" "l	current" "f	state/deep/x/y.json"; do
    contains "$paths" "$p" "$mode: generation $gen has [$p]"
  done
  local line
  while IFS= read -r line; do
    case ${line#*	} in
      notes/old.txt|notes/torename.txt|work.tmp|cache|cache/*|data/part.tmp|data/blob1.bin|data/sub/blob2.bin|exports/report.csv|app/main.py|app/lib/util.py|static/logo.bin|config.json|.fractfs.toml)
        check_fail "$mode: generation $gen holds ${line#*	}" ;;
    esac
  done <<<"$paths"
  pass
  st 0 ff status --root "$ROOT" --json
  printf '%s\n' "$OUT" > "$T/status.json"
  eq 5 "$(h json-field "$T/status.json" tiers.bundle.files)" "$mode: bundle files in status"
  # The helper of a bare LD_PRELOAD app leaves once the app has (a second at most).
  no_holder() { ff status --root "$ROOT" --json > "$T/status.json" && [[ $(h json-field "$T/status.json" holder_pid) == null ]]; }
  wait_until 10 no_holder || check_fail "$mode: a holder is still there once the app is gone: $(cat "$T/status.json")"
  pass
  eq "$gen" "$(h json-field "$T/status.json" generation)" "$mode: generation in status"

  # References: the local_synced manifest, the remote store, the bundle.
  manifest_to "$T/pre-$mode" "$ROOT" --exclude-list "$state/bundle" --dir-mtime
  grep -q $'^f\tsecret.key\t0600\t7\t'"$MTIME"$'\t' "$T/pre-$mode" || check_fail "$mode: secret.key mode/mtime before the wipe: $(grep secret "$T/pre-$mode")"
  local remote_before; remote_before=$(remote_listing)
  ok "$mode: remote files listed" test "$(wc -l <<<"$remote_before")" -eq 3

  # The wipe: everything under ROOT but the bundle's files goes (the
  # bundle stays as it is now: config.json as the app changed it); the
  # node's scratch goes too.
  local kept=$T/bundle-at-wipe-$mode f
  mkdir -p "$kept"
  (cd "$ROOT" && cp -a --parents $(cd "$orig" && find . -type f -printf '%P\n') "$kept/")
  (cd "$ROOT" && find . -mindepth 1 \( -type f -o -type l \) -printf '%P\n') > "$T/all-$mode"
  while IFS= read -r f; do
    [[ -f $orig/$f ]] || rm -f "$ROOT/$f"
  done < "$T/all-$mode"
  find "$ROOT" -mindepth 1 -depth -type d -empty -delete
  rm -rf "$SCRATCH"
  eq "$(cd "$orig" && find . -printf '%P\n' | sort)" "$(cd "$ROOT" && find . -printf '%P\n' | sort)" "$mode: what the wipe left"

  launch "$mode" "$ROOT" bash -c "/usr/bin/python3 '$T/check.py' && '$SQLITE' data/app.sqlite 'select id, v from t order by id'"
  eq "a=first version of a|second version|
old=False
torename=False
renamed=renamed by the second run
current=state/deep/x/y.json {\"k\": [1, 2, 3]}
blob1=1048576
listing=app.sqlite,blob1.bin,sub
empty=
1|one
2|TWO
3|three
4|four" "$OUT" "$mode: what the app sees after the wipe"
  [[ $mode == preload ]] || contains "$ERR" "restored generation $gen" "$mode: fractfs-run says it restored"

  # Physically: the same local_synced tree, byte for byte, modes, mtimes.
  state=$(state_dir)
  manifest_to "$T/post-$mode" "$ROOT" --exclude-list "$state/bundle" --dir-mtime
  same_files "$T/pre-$mode" "$T/post-$mode" "$mode: local_synced manifest (with directory mtimes) after the wipe"
  eq "0600 $MTIME" "$(stat -c '%a' "$ROOT/secret.key" | sed 's/^/0/') $("$PY" -c 'import os,sys; print(os.stat(sys.argv[1]).st_mtime_ns)' "$ROOT/secret.key")" "$mode: secret.key mode and mtime"
  eq "$DIR_MTIME" "$("$PY" -c 'import os,sys; print(os.stat(sys.argv[1]).st_mtime_ns)' "$ROOT/state/empty")" "$mode: empty directory's mtime"
  eq "state/deep/x/y.json $LINK_MTIME" "$(readlink "$ROOT/current") $("$PY" -c 'import os,sys; print(os.lstat(sys.argv[1]).st_mtime_ns)' "$ROOT/current")" "$mode: symlink target and mtime"
  ok "$mode: empty dir is a directory" test -d "$ROOT/state/empty"
  eq "" "$(ls -A "$ROOT/state/empty")" "$mode: empty dir stays empty"
  ok "$mode: big file restored" cmp -s "$ROOT/state/big.bin" <("$PY" -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(r.randbytes(5*1024*1024+123))')
  absent "$ROOT/work.tmp" "$ROOT/cache" "$ROOT/data/part.tmp" "$ROOT/notes/old.txt" "$ROOT/notes/torename.txt" \
         "$ROOT/data/blob1.bin" "$ROOT/data/sub/blob2.bin" "$ROOT/exports/report.csv"
  eq "1|one|2|TWO|3|three|4|four" "$("$SQLITE" "$ROOT/data/app.sqlite" 'select id, v from t order by id' | paste -sd'|')" "$mode: sqlite rows (read without the shim)"
  eq ok "$("$SQLITE" "$ROOT/data/app.sqlite" 'pragma integrity_check')" "$mode: sqlite integrity"
  eq "$remote_before" "$(remote_listing)" "$mode: the remote tier is untouched"
  # The bundle: as the wipe left it (never overwritten by a restore).
  for f in app/main.py app/lib/util.py static/logo.bin config.json .fractfs.toml; do
    same_files "$kept/$f" "$ROOT/$f" "$mode: bundle file $f"
    eq "$(stat -c %.9Y "$kept/$f")" "$(stat -c %.9Y "$ROOT/$f")" "$mode: mtime of bundle file $f"
  done
  contains "$(cat "$ROOT/config.json")" "changed by the app" "$mode: config.json as the app left it"
  eq "$(cd "$orig" && find . -type f -printf '%P\n' | sort)" "$(sort "$state/bundle")" "$mode: the bundle list after the wipe"
  no_restore_temps "$ROOT"
}

scenario run
scenario preload

# A bare-LD_PRELOAD app whose first process is /bin/sh (dash, as in a
# container's shell-form CMD): the first process is the holder, and must
# not leave without checkpointing what the app wrote. dash ends with
# _exit(), which runs no destructor.
new_root wipe-sh "$CONFIG"
preload "$ROOT" sh -c "/usr/bin/python3 -c 'open(\"kept.txt\", \"w\").write(\"precious\\n\")'; true"
ok "sh: the app wrote kept.txt" test -f "$ROOT/kept.txt"
wait_helper_gone
rm -rf "$SCRATCH" "$ROOT/kept.txt"
preload "$ROOT" /usr/bin/python3 -c 'import os; print(os.path.exists("kept.txt"))'
eq True "$OUT" "sh: after 'LD_PRELOAD=libfractfs.so sh -c \"python3 app.py\"' and a wipe, the file the app wrote is back (generations: $(ff log --root "$ROOT" 2>&1 | tail -n +2 | wc -l))"
finish wipe
