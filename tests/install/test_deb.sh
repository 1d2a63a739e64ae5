#!/usr/bin/env bash
# make deb: the package's fields, files and computed dependencies; lintian
# finds no error; apt accepts it on this Debian (apt-get --simulate: it
# resolves the dependencies and changes nothing). Then the package is
# extracted into a scratch root (dpkg-deb -x: nothing touches this machine's
# dpkg database or /usr) and its own binaries run a node wipe: an app writes
# files under fractfs-run, the node's disk is wiped, the next start has
# them back, and the package's man pages render.
source "$(dirname "$0")/lib.sh"
if [[ -n ${SAN:-} ]]; then echo "deb: skipped under SAN=$SAN (the release build is packaged)"; exit 0; fi

version=$(sed -n 's/^VERSION := //p' "$REPO/Makefile")
arch=$(dpkg --print-architecture)
multiarch=$(${CXX:-g++} -print-multiarch)
start=$SECONDS
mk deb
deb=$OUT/deb/fractfs_${version}_$arch.deb
[[ -s $deb ]] || fail "make deb did not make $deb"

info=$(dpkg-deb --field "$deb")
assert_contains "$info" "Package: fractfs"
assert_contains "$info" "Version: $version"
assert_contains "$info" "Architecture: $arch"
depends=$(dpkg-deb --field "$deb" Depends)
for lib in libc6 libstdc++6 libgcc-s1; do assert_contains "$depends" "$lib (>= " "Depends"; done

files=$(dpkg-deb --contents "$deb" | awk '{ print $1, $NF }' | grep -v '/$' | sort)
expected=$(sort <<EOF
-rwxr-xr-x ./usr/bin/fractfs
-rwxr-xr-x ./usr/bin/fractfs-run
-rw-r--r-- ./usr/lib/$multiarch/fractfs/libfractfs.so
-rw-r--r-- ./usr/share/man/man1/fractfs.1.gz
-rw-r--r-- ./usr/share/man/man1/fractfs-run.1.gz
-rw-r--r-- ./usr/share/man/man5/fractfs.toml.5.gz
-rw-r--r-- ./usr/share/bash-completion/completions/fractfs
lrwxrwxrwx fractfs
-rw-r--r-- ./usr/share/doc/fractfs/README.md.gz
-rw-r--r-- ./usr/share/doc/fractfs/changelog.gz
-rw-r--r-- ./usr/share/doc/fractfs/copyright
-rw-r--r-- ./usr/share/doc/fractfs/examples/fractfs.toml
EOF
)
assert_eq "$expected" "$files" "the package's files"
owners=$(dpkg-deb --contents "$deb" | awk '{ print $2 }' | sort -u)
assert_eq "root/root" "$owners" "owners in the package"

# lintian: no error (warnings and notes are shown in the log).
lintian --fail-on error --tag-display-limit 0 "$deb" || fail "lintian reports errors"

# apt would install it here, dependencies resolved (nothing is changed).
out=$(apt-get install --simulate --no-install-recommends "$deb" 2>&1) || fail "apt-get --simulate: $out"
grep -q '^Inst fractfs\|^Conf fractfs\|fractfs is already the newest' <<<"$out" || fail "apt would not install it: $out"

# The package's binaries, from a scratch root, with no variable set.
dpkg-deb -x "$deb" "$T/root"
bin=$T/root/usr/bin
mkdir -p "$T/node/app" "$T/store"
cat > "$T/node/app/.fractfs.toml" <<TOML
remote_root = "$T/store"
scratch = "$T/node/scratch"
sync_interval = 0
[dirs]
paths = ["data"]
[ignore]
patterns = ["*.tmp"]
TOML
cp "$T/node/app/.fractfs.toml" "$T/config"
app() { (cd "$T/node/app" && env -u FRACTFS_LIB "$bin/fractfs-run" "$@"); }
out=$(app -v -- sh -c 'mkdir -p data state && echo blob > data/big.bin && echo 41 > state/counter &&
                       echo scratch > work.tmp && printf "%s\n" one two > notes.txt' 2>&1) || fail "first run: $out"
assert_contains "$out" "preloading $T/root/usr/lib/$multiarch/fractfs/libfractfs.so" "the packaged library"
[[ -f $T/store/data/big.bin && ! -e $T/node/app/data/big.bin ]] || fail "data/big.bin is not in the store"
[[ -f $T/node/app/state/counter && -f $T/node/app/work.tmp ]] || fail "local files are not on the node"
current=$("$bin/fractfs" log --root "$T/node/app" | awk '/\(current\)/ { print $1 }')
[[ -n $current ]] || fail "no checkpoint after the first run"

# The node is wiped: nothing left of the root or the scratch directory but
# the deployed configuration.
rm -rf "$T/node" && mkdir -p "$T/node/app" && cp "$T/config" "$T/node/app/.fractfs.toml"
out=$(app -- sh -c 'cat state/counter notes.txt data/big.bin; ls work.tmp 2>&1 || true' 2>&1) || fail "second run: $out"
assert_contains "$out" "restored generation $current" "the restore"
assert_contains "$out" "41
one
two
blob" "what the app reads after the wipe"
assert_contains "$out" "No such file" "the ignored file after the wipe"
status=$("$bin/fractfs" status --root "$T/node/app")
assert_contains "$status" "holder            none"

# The package's man pages.
for page in man1/fractfs.1.gz man1/fractfs-run.1.gz man5/fractfs.toml.5.gz; do
  MANWIDTH=80 man -l "$T/root/usr/share/man/$page" | grep -q '^EXIT STATUS\|^KEYS' || fail "$page does not render"
done
echo "deb: $(basename "$deb"), $(stat -c %s "$deb") bytes, Depends: $depends; lintian: no error; node wipe survived ($((SECONDS - start)) s)"
