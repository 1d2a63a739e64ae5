#!/usr/bin/env bash
# The mapping differential test (tests/shim/mapping_differential.cpp): the
# shim's placement of random (dirfd, path, kind) against the pure resolver
# and path normalizer, on a root reached through a symlink.
#   MAPPING_CASES=200000 BUILD=build bash tests/shim/mapping.sh
source "$(dirname "$0")/../lib.sh"
prog=$OUT/tests/mapping_differential
[[ -x $prog ]] || fail "$prog not built (run make)"
mkdir -p "$T/real" "$T/outside" "$T/remote"
ln -s real "$T/root"
cat >"$T/real/.fractfs.toml" <<TOML
remote_root = "$T/remote"
scratch = "$T/scratch"
auto_ignore_bundle = false
[dirs]
paths = ["data", "b/deep"]
[ignore]
patterns = ["*.tmp", ".cache"]
[local]
patterns = ["*.lock", "data/a/**"]
TOML
for seed in 1 2; do
  (cd "$T/root" && FRACTFS_ROOT=$T/root "$prog" "$T/root" "$T/real" "$T/outside" "${MAPPING_CASES:-150000}" "$seed") ||
    fail "mapping differential, seed $seed"
done
