#!/usr/bin/env bash
# Restore against a damaged or malicious store, and local symlinks in the
# way: a corrupt or missing object is refused with a message naming it,
# nothing half-written is left in the root, fractfs-run does not start the
# app; names that would leave the root ('..', '.', '/', their escapes) are
# refused; a local symlink where the checkpoint has a directory or a file
# never leads a write outside the root.
#
# Stores are crafted from a real one: objects are named by their XXH3-128,
# computed by a small C program on the system's xxhash.h.
source "$(dirname "$0")/lib.sh"
remote_on_shm

new_root safe 'sync_interval = 0'
st 0 ff restore --root "$ROOT"  # first: files there before would be the deploy bundle
mkdir -p "$ROOT/dir" "$ROOT/d/sub"
echo "file a" > "$ROOT/a.txt"
echo "file b" > "$ROOT/dir/b.txt"
echo "inner" > "$ROOT/d/inner.txt"
echo "deep" > "$ROOT/d/sub/deep.txt"
echo "checkpointed f" > "$ROOT/f.txt"
head -c $((9 * 1024 * 1024 + 77)) /dev/urandom > "$ROOT/big.bin"   # three chunks
st 0 ff sync --root "$ROOT"
cp -a "$STORE" "$T/store.orig"
reset_store() { rm -rf "$STORE"; cp -a "$T/store.orig" "$STORE"; }
paths=$(h gen-paths "$STORE")
id_of() { grep -P "\t$1\t" <<<"$paths" | cut -f6; }   # id_of REL: its chunk ids (or tree id)
obj() { echo "$STORE/objects/${1:0:2}/${1:2}"; }

# The app fractfs-run would start: touch FILE (a static stand-in under TSan).
if shim_ok; then MARK=/usr/bin/touch
elif static_prog mark '#include <stdio.h>
int main(int c, char **v) { return fopen(v[1], "w") ? 0 : 1; }'; then MARK=$T/mark
else MARK=; fi

# refused NAME WHAT-IN-MESSAGE...: restore into a fresh root fails (exit 1)
# naming the trouble, and leaves no temporary.
refused() {
  local name=$1; shift
  fresh_root "$name"
  st 1 ff restore --root "$FROOT"
  local m
  for m in "$@"; do contains "$OUT" "$m" "$name: restore's message"; done
  no_restore_temps "$FROOT"
}

# ---------------------------------------------------------------- a corrupt chunk
big_ids=$(id_of big.bin)
second=$(cut -d, -f2 <<<"$big_ids")
ok "big.bin has three chunks" test "$(tr ',' '\n' <<<"$big_ids" | wc -l)" -eq 3
h poke-obj "$STORE" "$second" 1000 XXXX
refused corrupt-chunk "objects/${second:0:2}/${second:2}: corrupt, its content does not match its id (content of 'big.bin')"
absent "$FROOT/big.bin"
if [[ -n $MARK ]]; then
  fresh_root corrupt-run
  rm -f "$T/started"
  st 1 bash -c "cd '$FROOT' && exec '$BIN/fractfs-run' --root '$FROOT' -- '$MARK' '$T/started'"
  contains "$OUT" "fractfs-run: error: cannot restore the checkpoint, so the app is not started" "fractfs-run on a corrupt store"
  contains "$OUT" "objects/${second:0:2}/${second:2}: corrupt" "fractfs-run names the object"
  absent "$T/started" "$FROOT/big.bin"
  no_restore_temps "$FROOT"
  ok "no 'restored' marker after a failed restore" bash -c "! ls '$FSCRATCH'/*/restored 2>/dev/null"
  # Once the store is repaired, the next start restores and runs the app.
  reset_store
  st 0 bash -c "cd '$FROOT' && exec '$BIN/fractfs-run' --root '$FROOT' -- '$MARK' '$T/started'"
  ok "the app started once the store was repaired" test -e "$T/started"
  same_files "$ROOT/big.bin" "$FROOT/big.bin" "big.bin restored after the repair"
fi
reset_store

# ---------------------------------------------------------------- a missing chunk, a corrupt tree
a_id=$(id_of a.txt)
h drop-obj "$STORE" "$a_id"
refused missing-chunk "objects/${a_id:0:2}/${a_id:2}: missing (content of 'a.txt')"
absent "$FROOT/a.txt"
reset_store
dir_tree=$(id_of dir)
h poke-obj "$STORE" "$dir_tree" "$(( $(h write-obj "$STORE" "$dir_tree" "$T/tree" && grep -bo 'b\.txt$' "$T/tree" | cut -d: -f1) ))" c
refused corrupt-tree "objects/${dir_tree:0:2}/${dir_tree:2}: corrupt (content does not match its id)"
eq ".fractfs.toml" "$(ls -A "$FROOT")" "nothing restored from a store with a corrupt tree"
reset_store
echo "garbage" > "$STORE/CURRENT"
refused bad-current "$STORE/CURRENT"
reset_store

# ---------------------------------------------------------------- crafted trees
if printf '#define XXH_INLINE_ALL\n#include <xxhash.h>\n#include <stdio.h>\n#include <stdlib.h>
int main(int c, char **v) { FILE *f = fopen(v[1], "rb"); static char b[1 << 24]; size_t n = fread(b, 1, sizeof b, f);
XXH128_hash_t h = XXH3_128bits(b, n); printf("%%016llx%%016llx\\n", (unsigned long long)h.high64, (unsigned long long)h.low64); return 0; }\n' > "$T/xxh.c" &&
   cc -O1 -o "$T/xxh" "$T/xxh.c" 2>/dev/null; then
  # The helper agrees with fractfs on a real object.
  h write-obj "$T/store.orig" "$a_id" "$T/a.obj"
  eq "$a_id" "$("$T/xxh" "$T/a.obj")" "XXH3-128 of a real object"
  # put FILE: stores FILE as an object; its id.
  put() { local id; id=$("$T/xxh" "$1"); mkdir -p "$STORE/objects/${id:0:2}"; cp "$1" "$(obj "$id")"; echo "$id"; }
  # make_current TREE-ID: a new generation with that root tree, made
  # current, in format 1 (an untagged record; format 2 is read the same way).
  make_current() {
    local cur n tag
    cur=$(store_current); n=$((cur + 1))
    tag=$(sed -n 's/^tag \([0-9a-f]*\)$/-\1/p' "$STORE/CURRENT")
    sed -e "s/^generation .*/generation $n/" -e "s/^parent .*/parent $cur/" -e "s/^root .*/root $1/" \
      -e "/^tag /d" -e "/^parent_tag /d" \
      "$STORE/generations/$(printf %012d "$cur")$tag" > "$STORE/generations/$(printf %012d "$n")"
    printf 'fractfs-current 1\ngeneration %d\nroot %s\n' "$n" "$1" > "$STORE/CURRENT"
  }
  printf 'owned\n' > "$T/evil"
  evil=$(put "$T/evil")
  printf 'fractfs-tree 1\nf 644 1600000000000000000 6 %s escaped.txt\n' "$evil" > "$T/inner"
  inner=$(put "$T/inner")
  craft() {  # craft LINE: a root tree of that one entry, current (with the objects above)
    put "$T/evil" >/dev/null; put "$T/inner" >/dev/null
    printf 'fractfs-tree 1\n%s\n' "$1" > "$T/root"
    make_current "$(put "$T/root")"
  }
  # A well-formed crafted store restores (the crafting itself is right).
  craft "d 755 1600000000000000000 0 $inner okdir"
  fresh_root crafted-ok
  st 0 ff restore --root "$FROOT"
  eq "owned" "$(cat "$FROOT/okdir/escaped.txt")" "a crafted, valid generation restores"
  reset_store
  n=0
  for bad in "d 755 1600000000000000000 0 $inner .." \
             "d 755 1600000000000000000 0 $inner ." \
             "d 755 1600000000000000000 0 $inner %2e%2e" \
             "d 755 1600000000000000000 0 $inner %2E%2E" \
             "f 644 1600000000000000000 6 $evil ../escaped.txt" \
             "f 644 1600000000000000000 6 $evil %2e%2e%2fescaped.txt" \
             "f 644 1600000000000000000 6 $evil x/y" \
             "f 644 1600000000000000000 6 $evil a%2fb" \
             "f 644 1600000000000000000 6 $evil nul%00byte" \
             "f 644 1600000000000000000 6 $evil "; do
    n=$((n + 1))
    craft "$bad"
    refused "bad-name-$n" "bad name"
    eq ".fractfs.toml" "$(ls -A "$FROOT")" "nothing restored from a tree with the entry [$bad]"
    absent "$(dirname "$FROOT")/escaped.txt" "$(dirname "$(dirname "$FROOT")")/escaped.txt" "$FSCRATCH/escaped.txt"
    reset_store
  done
  # The same name twice (a symlink out of the root, then a directory).
  put "$T/evil" >/dev/null; put "$T/inner" >/dev/null
  printf 'fractfs-tree 1\nd 755 1600000000000000000 0 %s twice\nl 777 1600000000000000000 %d %s twice\n' "$inner" ${#T} "$T" > "$T/root"
  make_current "$(put "$T/root")"
  refused twice "entries out of order or repeated"
  eq ".fractfs.toml" "$(ls -A "$FROOT")" "nothing restored from a tree with a repeated name"
  reset_store
  # Chunks that do not add up to the size.
  craft "f 644 1600000000000000000 10 $evil short.txt"
  refused short "the checkpoint's chunks of 'short.txt' hold 6 bytes, not 10"
  absent "$FROOT/short.txt"
  reset_store
else
  echo "note: no xxhash.h / C compiler: the crafted-tree checks are skipped"
fi

# ---------------------------------------------------------------- local symlinks in the way
# The checkpoint has directories d/ (d/inner.txt, d/sub/deep.txt) and dir/
# (dir/b.txt) and a file f.txt; the new node has symlinks of those names
# pointing outside the root.
mkdir -p "$T/elsewhere" "$T/elsewhere2"
echo "outside file" > "$T/outside.txt"
links() {
  ln -s "$T/elsewhere" "$1/d"
  ln -s "$T/elsewhere2" "$1/dir"
  ln -s "$T/outside.txt" "$1/f.txt"
}
check_outside() {
  eq "" "$(ls -A "$T/elsewhere" "$T/elsewhere2" | grep -v ':$' | sed '/^$/d')" "$1: nothing written into the symlinked directories"
  eq "outside file" "$(cat "$T/outside.txt")" "$1: the file a symlink points to"
}
fresh_root links
links "$FROOT"
st 0 ff restore --root "$FROOT" --overwrite
contains "$OUT" "d: not restored, a file of that name is here" "restore over a symlinked directory"
check_outside "restore --overwrite"
eq "$T/elsewhere" "$(readlink "$FROOT/d")" "the local symlink d is left alone"
same_files "$ROOT/a.txt" "$FROOT/a.txt" "a.txt restored beside the symlinks"
same_files "$ROOT/big.bin" "$FROOT/big.bin" "big.bin restored beside the symlinks"
if [[ -L $FROOT/f.txt ]]; then eq "$T/outside.txt" "$(readlink "$FROOT/f.txt")" "f.txt: the symlink kept"
else same_files "$ROOT/f.txt" "$FROOT/f.txt" "f.txt: the symlink replaced by the checkpoint's file"; fi
no_restore_temps "$FROOT"
if [[ -n $MARK ]]; then
  fresh_root links-run
  links "$FROOT"
  rm -f "$T/started"
  st 0 bash -c "cd '$FROOT' && exec '$BIN/fractfs-run' --root '$FROOT' -- '$MARK' '$T/started'"
  ok "fractfs-run started the app" test -e "$T/started"
  check_outside "fractfs-run"
  no_restore_temps "$FROOT"
fi
finish restore_safety
