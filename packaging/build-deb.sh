#!/usr/bin/env bash
# Builds the .deb from a staged install (`make deb` runs it):
#   VERSION=… MAINTAINER=… bash packaging/build-deb.sh DIR OUT.deb
# DIR/debian/fractfs holds `make install DESTDIR=… prefix=/usr
# libdir=/usr/lib/<multiarch>`. This adds what Debian asks of a binary
# package, as debhelper would: stripped binaries, compressed man pages and
# changelog, the copyright file, md5sums, and a control file whose
# dependencies dpkg-shlibdeps computes from the binaries. Then dpkg-deb.
set -euo pipefail
dir=$1 out=$2
: "${VERSION:?}" "${MAINTAINER:?}"
here=$(cd "$(dirname "$0")" && pwd)
pkg=$dir/debian/fractfs
doc=$pkg/usr/share/doc/fractfs
umask 022

# As dh_strip does; no separate debug-symbols package.
strip --remove-section=.comment --remove-section=.note "$pkg"/usr/bin/*
find "$pkg/usr/lib" -name '*.so' -exec strip --remove-section=.comment --remove-section=.note --strip-unneeded {} +

# As dh_compress does: man pages, and the README (it is large).
gzip -9n "$pkg"/usr/share/man/man*/* "$doc/README.md"

# A native package's changelog, dated by the last commit (reproducible).
when=${SOURCE_DATE_EPOCH:-$(git -C "$here/.." log -1 --format=%ct 2>/dev/null || date +%s)}
cat > "$dir/debian/changelog" <<EOF
fractfs ($VERSION) unstable; urgency=medium

  * Release $VERSION. What it does: /usr/share/doc/fractfs/README.md.gz.

 -- $MAINTAINER  $(LC_ALL=C date -u -R -d "@$when")
EOF
gzip -9n < "$dir/debian/changelog" > "$doc/changelog.gz"
install -m 644 "$here/debian/copyright" "$doc/copyright"

# The control file: dependencies from the binaries' own needs (a store
# helper linked with libcurl will bring libcurl in by itself), then size.
sed "s|@MAINTAINER@|$MAINTAINER|" "$here/debian/control" > "$dir/debian/control"
mkdir -p "$pkg/DEBIAN"
(
  cd "$dir"
  dpkg-shlibdeps -Tdebian/fractfs.substvars debian/fractfs/usr/bin/* $(find debian/fractfs/usr/lib -name '*.so')
  dpkg-gencontrol -pfractfs -Pdebian/fractfs -Tdebian/fractfs.substvars -fdebian/files
)
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  > "$pkg/DEBIAN/md5sums"
chmod 644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"

SOURCE_DATE_EPOCH=$when dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
