#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR: the files and their modes;
# the installed fractfs-run finds its library with no variable set, from
# any directory, for each libdir shape it supports (lib, lib64, Debian's
# multiarch lib/<triplet>), and the library's directory keeps the fractfs
# program at ../bin, ../../bin or ../../../bin (where libfractfs.so looks
# for it); a libdir it could not find is refused before anything is
# installed; install-strip strips; man finds the pages; uninstall removes
# everything it installed.
source "$(dirname "$0")/lib.sh"
if [[ -n ${SAN:-} ]]; then echo "install: skipped under SAN=$SAN (the release build is installed)"; exit 0; fi

multiarch=$(${CXX:-g++} -print-multiarch)

mkdir -p "$T/app/data" "$T/remote"
cat > "$T/app/.fractfs.toml" <<TOML
remote_root = "$T/remote"
scratch = "$T/scratch"
[dirs]
paths = ["data"]
TOML

# installed_files DESTDIR: every file and link, with its mode.
installed_files() { (cd "$1" && find . ! -type d -printf '%m %p\n' | sort); }

check_install() {  # PREFIX LIBDIR
  local prefix=$1 libdir=$2 stage=$T/stage-${2//\//_}
  mk install DESTDIR="$stage" prefix="$prefix" libdir="$libdir" >/dev/null
  local lib=$libdir/fractfs/libfractfs.so
  expected=$(sort <<EOF
755 .$prefix/bin/fractfs
755 .$prefix/bin/fractfs-run
644 .$lib
644 .$prefix/share/man/man1/fractfs.1
644 .$prefix/share/man/man1/fractfs-run.1
644 .$prefix/share/man/man5/fractfs.toml.5
644 .$prefix/share/bash-completion/completions/fractfs
777 .$prefix/share/bash-completion/completions/fractfs-run
644 .$prefix/share/doc/fractfs/README.md
644 .$prefix/share/doc/fractfs/examples/fractfs.toml
EOF
)
  assert_eq "$expected" "$(installed_files "$stage")" "files installed with libdir=$libdir"
  # No FRACTFS_LIB, started from elsewhere, the root given by --root: the
  # library is found beside the program, and the app's file is placed.
  out=$(cd / && env -u FRACTFS_LIB "$stage$prefix/bin/fractfs-run" -v --root "$T/app" -- \
          sh -c "echo x > '$T/app/data/x' && echo y > '$T/app/y'" 2>&1) || fail "installed fractfs-run failed: $out"
  assert_contains "$out" "preloading $stage$lib" "the library an installed fractfs-run finds"
  [[ -f $T/remote/data/x && ! -e $T/app/data/x && -f $T/app/y ]] || fail "placement by the installed fractfs-run"
  rm -f "$T/remote/data/x" "$T/app/y"
  # Where libfractfs.so will look for the fractfs program (a helper of its own).
  local d=$stage$libdir/fractfs found=
  for up in ../bin ../../bin ../../../bin; do [[ -x $d/$up/fractfs ]] && found=$up; done
  [[ -n $found ]] || fail "fractfs is not at ../bin, ../../bin or ../../../bin of $d"
  # man finds the pages under the installed mandir.
  assert_contains "$(MANWIDTH=80 man -M "$stage$prefix/share/man" 5 fractfs.toml 2>&1)" "FRACTFS_REMOTE_ROOT" "man 5 fractfs.toml"
  mk uninstall DESTDIR="$stage" prefix="$prefix" libdir="$libdir"
  assert_eq "" "$(installed_files "$stage")" "files left after make uninstall"
}
check_install /usr/local /usr/local/lib
check_install /usr/local /usr/local/lib64
check_install /opt/fractfs "/opt/fractfs/lib/$multiarch"

# A libdir fractfs-run would not find: refused, nothing installed.
expect_status 2 mk install DESTDIR="$T/weird" prefix=/usr/local libdir=/usr/local/libexec
assert_contains "$OUT" "would not find /usr/local/libexec/fractfs"
[[ ! -e $T/weird ]] || fail "a refused install left files: $(find "$T/weird")"

# install-strip: no symbol table left in the programs or the library.
mk install-strip DESTDIR="$T/strip" >/dev/null
for f in "$T"/strip/usr/local/bin/fractfs "$T"/strip/usr/local/bin/fractfs-run "$T"/strip/usr/local/lib/fractfs/libfractfs.so; do
  ! readelf -S "$f" | grep -q '\.symtab' || fail "$f was not stripped"
done
echo "install: 3 libdir shapes installed, run from anywhere, uninstalled; bad libdir refused; strip works"
