#!/usr/bin/env bash
# A local tree nested deeper than a restore reads (1,024 directories): the
# checkpoint leaves the too-deep directory out, naming it, and every
# generation it commits restores. Runs without the shim (fractfs sync and
# restore on a tree written natively), so under TSan too.
source "$(dirname "$0")/lib.sh"

new_root deep
st 0 ff restore --root "$ROOT"           # a node that has "restored" (nothing yet)
deep() { printf 'd/%.0s' $(seq "$1"); }
mkdir -p "$ROOT/$(deep 1030)"
echo ten > "$ROOT/$(deep 10)ten.txt"
echo edge > "$ROOT/$(deep 1024)edge.txt"  # a file in the deepest directory kept
echo lost > "$ROOT/$(deep 1030)leaf.txt"
st 0 ff sync --root "$ROOT"
contains "$OUT" "$(deep 1024)d: directories nest deeper than 1024 levels" "the checkpoint names the directory it leaves out"
st 0 ff sync --root "$ROOT"                # and the next one works too
echo more > "$ROOT/$(deep 5)more.txt"
st 0 ff sync --root "$ROOT"
contains "$OUT" "committed" "a later checkpoint commits"

fresh_root deep-restored
st 0 ff restore --root "$FROOT"
eq ten "$(cat "$FROOT/$(deep 10)ten.txt")" "restored at depth 10"
eq more "$(cat "$FROOT/$(deep 5)more.txt")" "restored after the deep directory was left out"
eq edge "$(cat "$FROOT/$(deep 1024)edge.txt")" "restored at depth 1,025"
absent "$FROOT/$(deep 1025)"
finish deep
