#!/usr/bin/env bash
# GNU tar under the shim: archiving a tree that spans tiers, extracting into
# a [dirs] dir (each file to its tier), -C and relative paths, pipes between
# two shimmed tars, --remove-files.
#   BUILD=build bash tests/shim/test_tar.sh
source "$(dirname "$0")/lib.sh"

# A reference tree at $1 (outside the root): every tier's kind of file.
make_tree() {
  local d=$1
  mkdir -p "$d/sub/__pycache__" "$d/sub/deeper" "$d/.locks"
  head -c 150000 /dev/urandom > "$d/a.parquet"
  echo b > "$d/b.tmp"
  echo '{"m": 1}' > "$d/manifest.json"
  head -c 70000 /dev/urandom > "$d/sub/c.bin"
  echo db > "$d/sub/d.sqlite"
  echo wal > "$d/sub/d.sqlite-wal"
  echo pyc > "$d/sub/__pycache__/p.pyc"
  echo deep > "$d/sub/deeper/e"
  echo lock > "$d/.locks/l"
  chmod 600 "$d/sub/c.bin"
  chmod 750 "$d/sub/deeper"
  touch -d '2010-05-06 07:08:09' "$d/sub/c.bin" "$d/a.parquet"
}

# "L" or "R": where ROOT/REL must live, by the oracle.
side_of() { [[ $(tier "$1") == remote ]] && echo R || echo L; }

# Every file and dir of the reference tree $1, extracted at ROOT/$2, sits
# in its tier with the reference's content; the other side has nothing.
check_extracted() {
  local ref=$1 at=$2 rel side other
  while IFS= read -r rel; do
    side=$(side_of "$at/$rel")
    other=$([[ $side == L ]] && echo R || echo L)
    local lp=$ROOT/$at/$rel rp=$REMOTE/$at/$rel
    if [[ -d $ref/$rel ]]; then
      # a directory: its tier's half exists (the local half of a union may too)
      if [[ $side == R ]]; then [[ -d $rp ]] && pass || check_fail "dir $at/$rel missing in REMOTE"
      else [[ -d $lp && ! -e $rp ]] && pass || check_fail "dir $at/$rel: expected local only"; fi
    else
      same_file "$side" "$at/$rel" "$ref/$rel"
      absent "$([[ $other == L ]] && echo "$lp" || echo "$rp")"
    fi
  done < <(cd "$ref" && find . -mindepth 1 -printf '%P\n' | sort)
}

tar_create() {
  make_tree "$W/ref"
  # build the tree inside the root under the shim
  x cp -a "$W/ref" data/blobs/ds
  check_extracted "$W/ref" data/blobs/ds
  x tar cf "$W/rel.tar" data/blobs/ds
  x tar -C data/blobs -czf "$W/c.tgz" ds
  xin / tar cf "$W/abs.tar" "$ROOT/data/blobs/ds"
  local want
  want=$(cd "$W/ref" && find . -mindepth 1 \( -type d -printf 'data/blobs/ds/%P/\n' -o -printf 'data/blobs/ds/%P\n' \) | sort)
  want=$(printf 'data/blobs/ds/\n%s' "$want")
  eq "$want" "$(tar tf "$W/rel.tar" | sort)" "tar listing (relative member names)"
  eq "$(sed 's|^data/blobs/||' <<<"$want")" "$(tar tzf "$W/c.tgz" | sort)" "tar -C listing"
  eq "$(sed "s|^|${ROOT#/}/|" <<<"$want")" "$(tar tf "$W/abs.tar" 2>/dev/null | sort)" "tar listing (absolute path from /)"
  # content, modes and mtimes, extracted without the shim
  mkdir -p "$W/x1" "$W/x2"
  tar -C "$W/x1" -xf "$W/rel.tar"
  tar -C "$W/x2" -xzf "$W/c.tgz"
  if diff -r "$W/ref" "$W/x1/data/blobs/ds" >/dev/null && diff -r "$W/ref" "$W/x2/ds" >/dev/null; then pass
  else check_fail "archive content differs: $(diff -r "$W/ref" "$W/x1/data/blobs/ds" 2>&1 | head -5)"; fi
  eq "600 750" "$(stat -c %a "$W/x1/data/blobs/ds/sub/c.bin") $(stat -c %a "$W/x1/data/blobs/ds/sub/deeper")" "modes in the archive"
  eq "$(stat -c %Y "$W/ref/sub/c.bin")" "$(stat -c %Y "$W/x1/data/blobs/ds/sub/c.bin")" "mtime in the archive"
  # verbose listing under the shim shows sizes read through the union
  x tar tvf "$W/rel.tar" data/blobs/ds/a.parquet
  contains "$OUT" " 150000 " "tar tvf size"
  # an archive written inside the root, in the remote tier, with tar's
  # --remove-files emptying the union dir as it goes
  x tar -cf data/blobs/ds.tar --remove-files data/blobs/ds
  absent "$ROOT/data/blobs/ds" "$REMOTE/data/blobs/ds"
  mkdir -p "$W/x3"; tar -C "$W/x3" -xf "$REMOTE/data/blobs/ds.tar"
  if diff -r "$W/ref" "$W/x3/data/blobs/ds" >/dev/null; then pass; else check_fail "--remove-files archive differs"; fi
  expect_all <<'EOF'
    R f data/blobs/ds.tar
EOF
}

# A directory another node made (remote half only) inside the tree: reading
# it must not change the directories tar is reading ("file changed as we
# read it", exit 1).
tar_remote_only() {
  make_tree "$W/ref"
  x cp -a "$W/ref" data/blobs/ds
  mkdir -p "$W/ref/ronly/deeper"; echo r > "$W/ref/ronly/r"; echo d > "$W/ref/ronly/deeper/d"
  mk R data/blobs/ds/ronly/r r
  mk R data/blobs/ds/ronly/deeper/d d
  x tar cf "$W/rel.tar" data/blobs/ds
  mkdir -p "$W/x1"; tar -C "$W/x1" -xf "$W/rel.tar"
  if diff -r "$W/ref" "$W/x1/data/blobs/ds" >/dev/null; then pass
  else check_fail "archive content differs: $(diff -r "$W/ref" "$W/x1/data/blobs/ds" 2>&1 | head -5)"; fi
}

tar_extract() {
  make_tree "$W/src/pkg"
  ln -s a.parquet "$W/src/pkg/link"
  ln "$W/src/pkg/a.parquet" "$W/src/pkg/hard"
  tar -C "$W/src" -cf "$W/in.tar" pkg
  tar -C "$W/src" -czf "$W/in.tgz" pkg
  # extract into a [dirs] dir with -C
  x tar -xf "$W/in.tar" -C data/blobs
  deliberate_symlink "$REMOTE/data/blobs/pkg/link" a.parquet
  rm "$W/src/pkg/link"   # compared separately
  check_extracted "$W/src/pkg" data/blobs/pkg
  eq a.parquet "$(readlink "$REMOTE/data/blobs/pkg/link")" "extracted symlink"
  eq "$(stat -c %i "$REMOTE/data/blobs/pkg/a.parquet")" "$(stat -c %i "$REMOTE/data/blobs/pkg/hard")" "extracted hard link"
  eq 1273129689 "$(stat -c %Y "$REMOTE/data/blobs/pkg/sub/c.bin")" "extracted mtime (remote file)"
  eq 600 "$(stat -c %a "$REMOTE/data/blobs/pkg/sub/c.bin")" "extracted mode (remote file)"
  eq 750 "$(stat -c %a "$REMOTE/data/blobs/pkg/sub/deeper")" "extracted mode (union dir, remote half)"
  x stat -c %a data/blobs/pkg/sub/deeper
  eq 750 "$OUT" "extracted mode (union dir, as the app sees it)"
  expect_tier local_ignored data/blobs/pkg/b.tmp data/blobs/pkg/.locks/l
  expect_tier local_synced data/blobs/pkg/manifest.json data/blobs/pkg/sub/d.sqlite data/blobs/pkg/sub/d.sqlite-wal
  expect_tier remote data/blobs/pkg/a.parquet data/blobs/pkg/sub/c.bin
  # what the app sees after extraction: tar d(iff) against the archive
  x tar -df "$W/in.tar" -C data/blobs
  # relative: from inside the union dir, gzip through a child process,
  # overwriting the files extracted before
  echo changed > "$REMOTE/data/blobs/pkg/sub/c.bin"
  xin "$ROOT/data/blobs" tar xzf "$W/in.tgz"
  check_extracted "$W/src/pkg" data/blobs/pkg
  # --strip-components into another [dirs] root, from a cwd outside ROOT
  xin "$W" tar -xf in.tar --strip-components=1 -C "$ROOT/exports"
  deliberate_symlink "$REMOTE/exports/link" a.parquet
  check_extracted "$W/src/pkg" exports
  # nothing extracted landed outside its tier's place
  eq "" "$(cd "$ROOT" && find . -path ./.fractfs.toml -prune -o -type f -print | while read -r f; do
            [[ $(tier "${f#./}") == remote ]] && echo "$f"; done)" "remote-tier files under ROOT"
  eq "" "$(cd "$REMOTE" && find . -path ./_checkpoint -prune -o -type f -print | while read -r f; do
            [[ $(tier "${f#./}") != remote ]] && echo "$f"; done)" "local-tier files under REMOTE"
}

# tar -C with relative paths, piped from one shimmed tar into another.
tar_pipe() {
  make_tree "$W/ref"
  x cp -a "$W/ref" data/blobs/src
  x sh -c 'tar -C data/blobs -cf - src | tar -C exports -xf -'
  check_extracted "$W/ref" exports/src
  x sh -c 'cd exports && tar -cf - src | (cd ../data/blobs && mkdir -p again && cd again && tar -xpf -)'
  check_extracted "$W/ref" data/blobs/again/src
  # an archive member that climbs out with .. is refused by tar itself; a
  # plain relative one from a cwd above the root reaches inside
  xin "$(dirname "$ROOT")" tar -C app/data/blobs -cf "$W/up.tar" src/sub
  eq "$(cd "$W/ref" && find sub \( -type d -printf 'src/%p/\n' -o -printf 'src/%p\n' \) | sort)" \
     "$(tar tf "$W/up.tar" | sort)" "tar -C app/data/blobs from above the root"
  x tar -cf "$W/two.tar" -C data/blobs src/a.parquet -C ../../exports src/manifest.json
  eq $'src/a.parquet\nsrc/manifest.json' "$(tar tf "$W/two.tar")" "tar with two -C"
}

run_modes tar tar_create tar_remote_only tar_extract tar_pipe
