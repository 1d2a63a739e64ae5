#!/usr/bin/env bash
# coreutils and findutils under the shim: touch, mkdir -p, cp -r, mv, rm -rf,
# ls, find, du, ln, stat, chmod, touch -d, readlink, realpath, cat,
# cp --reflink, truncate. Each scenario starts from a fresh ROOT and REMOTE
# and ends by checking the exact physical contents of both.
#   BUILD=build bash tests/shim/test_coreutils.sh
source "$(dirname "$0")/lib.sh"

# touch and mkdir -p, inside [dirs], across them, and outside.
touch_mkdir() {
  sh_x 'touch data/blobs/a.bin data/blobs/x.tmp data/blobs/manifest.json exports/e.csv top.txt
        mkdir -p data/blobs/d1/d2/d3 exports/n1/n2 newtop/a/b data/blobs/q/__pycache__/z
        mkdir -p data/blobs/d1/d2/d3'          # again: exists, fine
  expect_all <<'EOF'
    L f data/blobs/x.tmp
    L f data/blobs/manifest.json
    L d data/blobs/d1
    L d data/blobs/d1/d2
    L d data/blobs/d1/d2/d3
    L d data/blobs/q
    L d data/blobs/q/__pycache__
    L d data/blobs/q/__pycache__/z
    L d exports/n1
    L d exports/n1/n2
    L f top.txt
    L d newtop
    L d newtop/a
    L d newtop/a/b
    R f data/blobs/a.bin
    R d data/blobs/d1
    R d data/blobs/d1/d2
    R d data/blobs/d1/d2/d3
    R d data/blobs/q
    R f exports/e.csv
    R d exports/n1
    R d exports/n1/n2
EOF
  # mkdir -p across [dirs]: the local parent "data" is gone, then rebuilt
  # down into the union.
  rm -rf "$ROOT/data" "$REMOTE/data"
  # a process start re-creates the [dirs] roots: remove them under the shim
  # and mkdir -p in the same process
  sh_x 'rm -rf data; mkdir -p data/blobs/k/l; touch data/blobs/k/l/f data/blobs/k/l/g.tmp; ls -R data'
  eq $'data:\nblobs\n\ndata/blobs:\nk\n\ndata/blobs/k:\nl\n\ndata/blobs/k/l:\nf\ng.tmp' "$OUT" "ls -R data"
  expect_phys data <<'EOF'
    L d blobs
    L d blobs/k
    L d blobs/k/l
    L f blobs/k/l/g.tmp
    R d blobs
    R d blobs/k
    R d blobs/k/l
    R f blobs/k/l/f
EOF
  # touch of an existing remote file updates it in place, never copies it local
  mk R data/blobs/old.bin "old"
  touch -d '2000-01-01 00:00:00' "$REMOTE/data/blobs/old.bin"
  x touch data/blobs/old.bin
  absent "$ROOT/data/blobs/old.bin"
  content R data/blobs/old.bin old
  [[ $(stat -c %Y "$REMOTE/data/blobs/old.bin") -gt 946684800 ]] && pass || check_fail "touch did not update the remote file's mtime"
}

# cp -r into a [dirs] dir, out of it, between [dirs] dirs, and of a tree
# mixing tiers; cp --reflink=auto.
cp_r() {
  local src=$W/src
  mkdir -p "$src/sub/__pycache__"
  echo a > "$src/a.txt"; echo b > "$src/b.tmp"; echo m > "$src/manifest.json"
  head -c 300000 /dev/urandom > "$src/sub/c.bin"
  echo pyc > "$src/sub/__pycache__/m.pyc"; echo db > "$src/sub/d.sqlite"
  x cp -r "$src" data/blobs/imp
  expect_all <<'EOF'
    L d data/blobs/imp
    L f data/blobs/imp/b.tmp
    L f data/blobs/imp/manifest.json
    L d data/blobs/imp/sub
    L d data/blobs/imp/sub/__pycache__
    L f data/blobs/imp/sub/__pycache__/m.pyc
    L f data/blobs/imp/sub/d.sqlite
    R d data/blobs/imp
    R f data/blobs/imp/a.txt
    R d data/blobs/imp/sub
    R f data/blobs/imp/sub/c.bin
EOF
  same_file R data/blobs/imp/sub/c.bin "$src/sub/c.bin"
  same_file R data/blobs/imp/a.txt "$src/a.txt"
  same_file L data/blobs/imp/b.tmp "$src/b.tmp"
  same_file L data/blobs/imp/sub/d.sqlite "$src/sub/d.sqlite"
  # out of the union, to outside the root: the same tree comes back
  x cp -r data/blobs/imp "$W/back"
  if diff -r "$src" "$W/back" >/dev/null; then pass; else check_fail "cp -r out of data/blobs: $(diff -r "$src" "$W/back" 2>&1 | head)"; fi
  eq "$(cd "$src" && find . | sort)" "$(cd "$W/back" && find . | sort)" "tree copied out of data/blobs"
  # from one [dirs] dir to another, and to a local dir of the root
  x cp -r data/blobs/imp exports/imp2
  x cp -r data/blobs/imp localcopy
  x cp -a data/blobs/imp/sub exports/sub-a
  expect_phys exports <<'EOF'
    L d imp2
    L f imp2/b.tmp
    L f imp2/manifest.json
    L d imp2/sub
    L d imp2/sub/__pycache__
    L f imp2/sub/__pycache__/m.pyc
    L f imp2/sub/d.sqlite
    L d sub-a
    L d sub-a/__pycache__
    L f sub-a/__pycache__/m.pyc
    L f sub-a/d.sqlite
    R d imp2
    R f imp2/a.txt
    R d imp2/sub
    R f imp2/sub/c.bin
    R d sub-a
    R f sub-a/c.bin
EOF
  same_file R exports/imp2/sub/c.bin "$src/sub/c.bin"
  same_file R exports/sub-a/c.bin "$src/sub/c.bin"
  expect_phys localcopy <<'EOF'
    L f a.txt
    L f b.tmp
    L f manifest.json
    L d sub
    L d sub/__pycache__
    L f sub/__pycache__/m.pyc
    L f sub/c.bin
    L f sub/d.sqlite
    R (missing)
EOF
  same_file L localcopy/sub/c.bin "$src/sub/c.bin"
  # cp --reflink=auto, local -> remote and remote -> remote
  x cp --reflink=auto localcopy/sub/c.bin data/blobs/ref.bin
  x cp --reflink=auto data/blobs/ref.bin data/blobs/ref2.bin
  x cp --reflink=auto data/blobs/ref.bin ref-local.bin
  same_file R data/blobs/ref.bin "$src/sub/c.bin"
  same_file R data/blobs/ref2.bin "$src/sub/c.bin"
  same_file L ref-local.bin "$src/sub/c.bin"
  absent "$ROOT/data/blobs/ref.bin" "$ROOT/data/blobs/ref2.bin" "$REMOTE/ref-local.bin"
  # cp into a remote-only subdirectory (no local half yet)
  mkd R data/blobs/ronly
  x cp "$src/a.txt" "$src/b.tmp" data/blobs/ronly/
  expect_phys data/blobs/ronly <<'EOF'
    L f b.tmp
    R f a.txt
EOF
}

# mv: within a tier, local->remote, remote->local, directories into and out
# of [dirs], between union directories, mv -n, mv -T.
mv_tests() {
  head -c 200000 /dev/urandom > "$W/big"
  sh_x "echo a > data/blobs/a
        cp '$W/big' data/blobs/part.tmp
        echo r > data/blobs/r.bin
        echo x > data/blobs/x.bin
        mkdir -p stage/s1/__pycache__
        echo f1 > stage/f1; echo f2 > stage/f2.tmp; echo m > stage/manifest.json
        echo s > stage/s1/s; echo p > stage/s1/__pycache__/p.pyc"
  x mv data/blobs/a data/blobs/b                       # within the remote tier
  x mv data/blobs/part.tmp data/blobs/part-0.parquet   # local -> remote
  x mv data/blobs/r.bin r.bin                          # remote -> local (outside [dirs])
  x mv data/blobs/x.bin data/blobs/x.tmp               # remote -> local_ignored, same union dir
  x mv stage data/blobs/stage                          # a local directory into [dirs]
  expect_all <<'EOF'
    L f data/blobs/x.tmp
    L d data/blobs/stage
    L f data/blobs/stage/f2.tmp
    L f data/blobs/stage/manifest.json
    L d data/blobs/stage/s1
    L d data/blobs/stage/s1/__pycache__
    L f data/blobs/stage/s1/__pycache__/p.pyc
    L f r.bin
    R f data/blobs/b
    R f data/blobs/part-0.parquet
    R d data/blobs/stage
    R f data/blobs/stage/f1
    R d data/blobs/stage/s1
    R f data/blobs/stage/s1/s
EOF
  same_file R data/blobs/part-0.parquet "$W/big"
  content L r.bin r
  content L data/blobs/x.tmp x
  content R data/blobs/stage/s1/s s
  x cat data/blobs/stage/s1/s data/blobs/stage/f2.tmp data/blobs/b
  eq $'s\nf2\na' "$OUT" "cat after mv"
  # union dir -> union dir (same [dirs] root, then another one)
  x mv data/blobs/stage data/blobs/stage2
  x mv data/blobs/stage2 exports/stage3
  expect_phys exports <<'EOF'
    L d stage3
    L f stage3/f2.tmp
    L f stage3/manifest.json
    L d stage3/s1
    L d stage3/s1/__pycache__
    L f stage3/s1/__pycache__/p.pyc
    R d stage3
    R f stage3/f1
    R d stage3/s1
    R f stage3/s1/s
EOF
  absent "$ROOT/data/blobs/stage" "$ROOT/data/blobs/stage2" "$REMOTE/data/blobs/stage" "$REMOTE/data/blobs/stage2"
  # a union directory out of [dirs]: everything local again
  x mv exports/stage3 outdir
  expect_phys outdir <<'EOF'
    L f f1
    L f f2.tmp
    L f manifest.json
    L d s1
    L f s1/s
    L d s1/__pycache__
    L f s1/__pycache__/p.pyc
    R (missing)
EOF
  expect_phys exports <<'EOF'
EOF
  # mv -n: an existing destination is kept
  sh_x 'echo new > data/blobs/n1; echo old > data/blobs/n2; echo loc > n3.tmp'
  x mv -n data/blobs/n1 data/blobs/n2
  x mv -n n3.tmp data/blobs/n2
  content R data/blobs/n1 new
  content R data/blobs/n2 old
  content L n3.tmp loc
  # mv -T onto an empty union dir replaces it; onto a non-empty one fails
  sh_x 'mkdir -p data/blobs/t1/in data/blobs/t2 data/blobs/t3; echo i > data/blobs/t1/in/f; echo j > data/blobs/t3/j'
  x mv -T data/blobs/t1 data/blobs/t2
  expect_phys data/blobs/t2 <<'EOF'
    L d in
    R d in
    R f in/f
EOF
  absent "$ROOT/data/blobs/t1" "$REMOTE/data/blobs/t1"
  xs 1 mv -T data/blobs/t2 data/blobs/t3
  contains "$ERR" "not empty" "mv -T onto a non-empty directory"
  content R data/blobs/t3/j j
  content R data/blobs/t2/in/f i
  # mv -T of a local directory onto an empty union dir (across tiers)
  sh_x 'mkdir -p ld/sub data/blobs/t4; echo k > ld/sub/k; echo t > ld/k.tmp'
  x mv -T ld data/blobs/t4
  expect_phys data/blobs/t4 <<'EOF'
    L d sub
    L f k.tmp
    R d sub
    R f sub/k
EOF
  absent "$ROOT/ld"
  # a union dir renamed to an ignored name (all local) and back
  sh_x 'mkdir -p data/blobs/dd/s; echo a > data/blobs/dd/a; echo b > data/blobs/dd/s/b; echo c > data/blobs/dd/c.tmp'
  x mv data/blobs/dd data/blobs/dd.tmp
  expect_phys data/blobs <<'EOF'
    L d dd.tmp
    L f dd.tmp/a
    L f dd.tmp/c.tmp
    L d dd.tmp/s
    L f dd.tmp/s/b
    L f x.tmp
    L d t2
    L d t2/in
    L d t3
    L d t4
    L d t4/sub
    L f t4/k.tmp
    R f b
    R f part-0.parquet
    R f n1
    R f n2
    R d t2
    R d t2/in
    R f t2/in/f
    R d t3
    R f t3/j
    R d t4
    R d t4/sub
    R f t4/sub/k
EOF
  x mv data/blobs/dd.tmp data/blobs/dd
  expect_phys data/blobs/dd <<'EOF'
    L d s
    L f c.tmp
    R f a
    R d s
    R f s/b
EOF
  # the local parent of a [dirs] root renamed away and back, in one process
  x sh -c 'mv data data2 && cat data2/blobs/dd/s/b && test ! -e data && mv data2 data && cat data/blobs/dd/s/b'
  eq $'b\nb' "$OUT" "mv data data2 and back"
  expect_phys data/blobs/dd <<'EOF'
    L d s
    L f c.tmp
    R f a
    R d s
    R f s/b
EOF
  absent "$ROOT/data2" "$REMOTE/data2"
  # no temporary files left by the cross-tier copies
  eq "" "$(find "$ROOT" "$REMOTE" -name '*.fractfs-*')" "leftover temporary files"
}

# rm -rf of a union directory with entries in both halves, of a
# remote-only directory, and of a parent holding a [dirs] root.
rm_rf() {
  sh_x 'mkdir -p data/blobs/u/sub data/blobs/u/__pycache__
        echo a > data/blobs/u/a; echo b > data/blobs/u/b.tmp; echo c > data/blobs/u/sub/c
        echo m > data/blobs/u/sub/manifest.json; echo p > data/blobs/u/__pycache__/p
        echo keep > data/blobs/keep'
  mk R data/blobs/u/ronly/deep/f            # another node wrote these
  mk R data/blobs/u/sub/r2
  x rm -rf data/blobs/u
  expect_all <<'EOF'
    R f data/blobs/keep
EOF
  x ls -a data/blobs
  eq $'.\n..\nkeep' "$OUT" "ls -a after rm -rf"
  # rm -r without -f, and rmdir of a union dir
  sh_x 'mkdir -p exports/e/f; echo 1 > exports/e/f/one; echo 2 > exports/e/two.tmp; rm -r exports/e; mkdir exports/g; rmdir exports/g'
  expect_phys exports <<'EOF'
EOF
  # rmdir of a non-empty union (entry only in the remote half) fails
  mkd L exports/h; mk R exports/h/only-remote
  xs 1 rmdir exports/h
  contains "$ERR" "not empty" "rmdir of a union dir with a remote entry"
  mk R data/blobs/v/x; mkd L data/blobs/v
  # the parent of a [dirs] root, in the same process
  sh_x 'mkdir -p data/other; echo o > data/other/o; echo t > data/blobs/v/t.tmp; rm -rf data; test ! -e data; test ! -e data/blobs/keep'
  expect_phys data <<'EOF'
    L (missing)
EOF
  eq "" "$(find "$REMOTE/data" -mindepth 1 ! -type d)" "files left in REMOTE/data after rm -rf data"
  absent "$REMOTE/data/blobs"
}

# ls -la / ls -R: the union listing, de-duplicated, with remote-only and
# local-only sub-directories.
ls_tests() {
  sh_x 'mkdir -p data/blobs/both/inner; echo r > data/blobs/r.bin; echo l > data/blobs/l.tmp; echo m > data/blobs/manifest.json
        mkdir data/blobs/__pycache__; echo p > data/blobs/__pycache__/p; echo i > data/blobs/both/inner/i'
  mk R data/blobs/ronly/deeper/f
  mk R data/blobs/ronly/g
  x ls -a data/blobs
  eq $'.\n..\n__pycache__\nboth\nl.tmp\nmanifest.json\nr.bin\nronly' "$OUT" "ls -a data/blobs"
  x ls -la data/blobs
  eq 9 "$(wc -l <<<"$OUT")" "ls -la line count (total + 8 entries)"
  eq "$(awk 'NR>1{print $1" "$NF}' <<<"$OUT" | sort)" \
     "$(printf '%s\n' 'drwxr-xr-x .' 'drwxr-xr-x ..' 'drwxr-xr-x __pycache__' 'drwxr-xr-x both' '-rw-r--r-- l.tmp' \
        '-rw-r--r-- manifest.json' '-rw-r--r-- r.bin' 'drwxr-xr-x ronly' | sort)" "ls -la modes and names"
  local sizes
  sizes=$(awk '$1 ~ /^-/{print $5" "$NF}' <<<"$OUT")
  eq $'2 l.tmp\n2 manifest.json\n2 r.bin' "$sizes" "ls -la sizes"
  x ls -R data/blobs
  eq 'data/blobs:
__pycache__
both
l.tmp
manifest.json
r.bin
ronly

data/blobs/__pycache__:
p

data/blobs/both:
inner

data/blobs/both/inner:
i

data/blobs/ronly:
deeper
g

data/blobs/ronly/deeper:
f' "$OUT" "ls -R data/blobs"
  x ls -d data/blobs/ronly data/blobs/ronly/deeper
  eq $'data/blobs/ronly\ndata/blobs/ronly/deeper' "$OUT" "ls -d of remote-only dirs"
  x ls data
  eq blobs "$OUT" "ls data (the local parent of a [dirs] root)"
  x ls "$ROOT"
  eq $'data\nexports' "$OUT" "ls ROOT"
  # a stray duplicate (same name in both halves) shows once
  mk L data/blobs/r.bin stale-local
  x ls data/blobs
  eq $'__pycache__\nboth\nl.tmp\nmanifest.json\nr.bin\nronly' "$OUT" "ls with a duplicate name in both halves"
  x cat data/blobs/r.bin
  eq r "$OUT" "cat reads the remote copy of a remote-tier file"
  rm "$ROOT/data/blobs/r.bin"
  # reading never writes: listing ronly and ronly/deeper made no local halves
  expect_all <<'EOF'
    L d data/blobs/__pycache__
    L f data/blobs/__pycache__/p
    L d data/blobs/both
    L d data/blobs/both/inner
    L f data/blobs/l.tmp
    L f data/blobs/manifest.json
    R d data/blobs/both
    R d data/blobs/both/inner
    R f data/blobs/both/inner/i
    R f data/blobs/r.bin
    R d data/blobs/ronly
    R d data/blobs/ronly/deeper
    R f data/blobs/ronly/deeper/f
    R f data/blobs/ronly/g
EOF
}

# find with -type, -name, -maxdepth, -delete; du.
find_du() {
  sh_x 'mkdir -p data/blobs/a/b data/blobs/__pycache__
        printf 12345 > data/blobs/a/f1; printf 1234567890 > data/blobs/a/b/f2; printf 123 > data/blobs/t.tmp
        printf 1 > data/blobs/manifest.json; printf 12 > data/blobs/__pycache__/c.pyc'
  mk R data/blobs/ronly/g "remote"      # 7 bytes
  x find data/blobs
  eq "$(printf '%s\n' data/blobs data/blobs/__pycache__ data/blobs/__pycache__/c.pyc data/blobs/a data/blobs/a/b \
        data/blobs/a/b/f2 data/blobs/a/f1 data/blobs/manifest.json data/blobs/ronly data/blobs/ronly/g data/blobs/t.tmp)" \
     "$(sort <<<"$OUT")" "find data/blobs"
  x find data/blobs -type f
  eq "$(printf '%s\n' data/blobs/__pycache__/c.pyc data/blobs/a/b/f2 data/blobs/a/f1 data/blobs/manifest.json \
        data/blobs/ronly/g data/blobs/t.tmp)" "$(sort <<<"$OUT")" "find -type f"
  x find data/blobs -mindepth 1 -type d
  eq "$(printf '%s\n' data/blobs/__pycache__ data/blobs/a data/blobs/a/b data/blobs/ronly)" "$(sort <<<"$OUT")" "find -type d"
  x find data/blobs -maxdepth 1 -name '*.*'
  eq "$(printf '%s\n' data/blobs/manifest.json data/blobs/t.tmp)" "$(sort <<<"$OUT")" "find -maxdepth 1 -name"
  x find . -name f2
  eq ./data/blobs/a/b/f2 "$OUT" "find . -name f2 from ROOT"
  x find "$ROOT/data" -name g -type f
  eq "$ROOT/data/blobs/ronly/g" "$OUT" "find by absolute path, into a remote-only dir"
  x find data/blobs -type f -size +6c
  eq $'data/blobs/a/b/f2\ndata/blobs/ronly/g' "$(sort <<<"$OUT")" "find -size (stat through the union)"
  # du: apparent sizes of the files, and inode counts, over the union
  x du -ab data/blobs
  local files
  files=$(awk '{print $1" "$2}' <<<"$OUT" | grep -E '/(f1|f2|t.tmp|manifest.json|c.pyc|g)$' | sort -k2)
  eq "$(printf '%s\n' '2 data/blobs/__pycache__/c.pyc' '10 data/blobs/a/b/f2' '5 data/blobs/a/f1' '1 data/blobs/manifest.json' \
        '7 data/blobs/ronly/g' '3 data/blobs/t.tmp')" "$files" "du -ab file sizes"
  x du -s --inodes data/blobs
  eq $'11\tdata/blobs' "$OUT" "du -s --inodes over the union"
  x du -s data/blobs
  [[ $OUT =~ ^[0-9]+$'\t'data/blobs$ ]] && pass || check_fail "du -s output: $OUT"
  # -delete: files of both tiers, then whole directories
  x find data/blobs -name '*.tmp' -delete
  x find data/blobs/a -delete
  x find data/blobs/ronly -delete
  x find data/blobs
  eq "$(printf '%s\n' data/blobs data/blobs/__pycache__ data/blobs/__pycache__/c.pyc data/blobs/manifest.json)" \
     "$(sort <<<"$OUT")" "find after -delete"
  expect_all <<'EOF'
    L d data/blobs/__pycache__
    L f data/blobs/__pycache__/c.pyc
    L f data/blobs/manifest.json
EOF
}

# ln (hard within the remote tier, symbolic), readlink, realpath, stat,
# cd into a remote-only directory.
ln_stat() {
  sh_x 'echo abc > data/blobs/a.bin; mkdir -p data/blobs/u; echo top > top.txt
        ln data/blobs/a.bin data/blobs/a.hard
        ln data/blobs/a.bin data/blobs/u/a.hard2
        ln -s a.bin data/blobs/sym
        ln -s ../../top.txt data/blobs/up'
  deliberate_symlink "$REMOTE/data/blobs/sym" a.bin
  deliberate_symlink "$REMOTE/data/blobs/up" ../../top.txt
  eq "$(stat -c %i "$REMOTE/data/blobs/a.bin")" "$(stat -c %i "$REMOTE/data/blobs/a.hard")" "hard link shares the inode (physically)"
  eq "$(stat -c %i "$REMOTE/data/blobs/a.bin")" "$(stat -c %i "$REMOTE/data/blobs/u/a.hard2")" "hard link in a subdir shares the inode"
  eq 3 "$(stat -c %h "$REMOTE/data/blobs/a.bin")" "link count"
  x stat -c '%h %s %F' data/blobs/a.hard
  eq "3 4 regular file" "$OUT" "stat of the hard link under the shim"
  x cat data/blobs/sym
  eq abc "$OUT" "cat through a symlink within a union dir"
  x readlink data/blobs/sym
  eq a.bin "$OUT" "readlink of a remote-tier symlink"
  x readlink -f data/blobs/sym
  eq "$ROOT/data/blobs/a.bin" "$OUT" "readlink -f"
  x stat -c %F data/blobs/sym
  eq "symbolic link" "$OUT" "stat (lstat) of the symlink"
  x stat -L -c %s data/blobs/sym
  eq 4 "$OUT" "stat -L of the symlink"
  # realpath / readlink -f print ROOT paths, never REMOTE ones
  mk R data/blobs/ronly/deeper/f "deep"
  x realpath data/blobs/a.bin data/blobs/ronly/deeper data/blobs/ronly/deeper/f data/blobs data/blobs/u/../a.bin data/blobs/nonexist
  eq "$(printf '%s\n' "$ROOT/data/blobs/a.bin" "$ROOT/data/blobs/ronly/deeper" "$ROOT/data/blobs/ronly/deeper/f" \
        "$ROOT/data/blobs" "$ROOT/data/blobs/a.bin" "$ROOT/data/blobs/nonexist")" "$OUT" "realpath"
  x realpath -e data/blobs/ronly/deeper/f
  eq "$ROOT/data/blobs/ronly/deeper/f" "$OUT" "realpath -e"
  x realpath --relative-to=data/blobs/ronly data/blobs/a.bin
  eq ../a.bin "$OUT" "realpath --relative-to"
  xin / readlink -f "$ROOT/data/blobs/u/a.hard2"
  eq "$ROOT/data/blobs/u/a.hard2" "$OUT" "readlink -f from /"
  x realpath data/blobs/up
  eq "$ROOT/top.txt" "$OUT" "realpath of a relative symlink leading out of the union"
  # stat -c %i of a union dir equals ls -di, for the root, a union subdir,
  # and a remote-only one
  local d
  for d in data/blobs data/blobs/u data/blobs/ronly data/blobs/ronly/deeper; do
    x stat -c %i "$d"; local si=$OUT
    x ls -di "$d"; local li=${OUT%% *}
    eq "$si" "$li" "stat -c %i vs ls -di for $d"
    x sh -c "cd '$d' && stat -c %i ."
    eq "$si" "$OUT" "stat -c %i of . after cd $d"
    x stat -c %F "$d"
    eq directory "$OUT" "stat -c %F $d"
  done
  # cd into a remote-only directory, relative reads, pwd
  x sh -c 'cd data/blobs/ronly && pwd && cat deeper/f && ls && cd deeper && cat f ../../a.bin && pwd -P && /bin/pwd'
  eq "$ROOT/data/blobs/ronly"$'\ndeep\ndeeper\ndeep\nabc\n'"$ROOT/data/blobs/ronly/deeper"$'\n'"$ROOT/data/blobs/ronly/deeper" \
     "$OUT" "cd into a remote-only dir"
  # and write there relatively: remote tier, and an ignored one
  x sh -c 'cd data/blobs/ronly/deeper && echo n > new && echo t > new.tmp && mkdir sub && echo s > sub/s'
  expect_phys data/blobs/ronly <<'EOF'
    L d deeper
    L f deeper/new.tmp
    L d deeper/sub
    R d deeper
    R f deeper/f
    R f deeper/new
    R d deeper/sub
    R f deeper/sub/s
EOF
}

# Symbolic links whose target lies in another tier: the kernel follows them
# from the link's physical place, so the app must still reach the virtual
# target (ROOT/<target>).
symlink_cross() {
  sh_x 'echo abc > data/blobs/a.bin; echo top > top.txt; mkdir -p data/blobs/u
        ln -s "$PWD/data/blobs/a.bin" abs-link
        ln -s data/blobs/a.bin rel-link
        ln -s ../../top.txt data/blobs/up
        ln -s ../a.bin data/blobs/u/parent-link
        ln -s a.bin data/blobs/link.tmp'
  deliberate_symlink "$ROOT/data/blobs/link.tmp" a.bin
  deliberate_symlink "$ROOT/abs-link" "$ROOT/data/blobs/a.bin"
  deliberate_symlink "$ROOT/rel-link" data/blobs/a.bin
  deliberate_symlink "$REMOTE/data/blobs/up" ../../top.txt
  deliberate_symlink "$REMOTE/data/blobs/u/parent-link" ../a.bin
  local l
  for l in data/blobs/u/parent-link abs-link rel-link data/blobs/up data/blobs/link.tmp; do
    local rc=0
    OUT=$(cd "$ROOT" && "$BIN/fractfs-run" --root "$ROOT" -- cat "$l" 2>&1) || rc=$?
    local want=abc; [[ $l == data/blobs/up ]] && want=top
    eq "0 $want" "$rc $OUT" "cat $l (symlink to another tier)"
  done
  # a symlink to a directory inside the same union dir ("current -> v2"):
  # the directory it names is a union, so both halves must be reachable
  sh_x 'mkdir -p data/blobs/v2/sub; echo f > data/blobs/v2/file; echo t > data/blobs/v2/t.tmp; ln -s v2 data/blobs/current'
  deliberate_symlink "$REMOTE/data/blobs/current" v2
  local cmd want
  for cmd in 'ls data/blobs/current/' 'cat data/blobs/current/file' 'cat data/blobs/current/t.tmp' 'cd data/blobs/current && ls'; do
    case $cmd in
      ls*|cd*) want=$'file\nsub\nt.tmp' ;;
      *file) want=f ;;
      *) want=t ;;
    esac
    local rc=0
    OUT=$(cd "$ROOT" && "$BIN/fractfs-run" --root "$ROOT" -- sh -c "$cmd" 2>&1) || rc=$?
    eq "0 $want" "$rc $OUT" "$cmd (through a symlink to a union dir)"
  done
}

# chmod and touch -d on a remote file and on a union dir; truncate; cat.
attrs() {
  sh_x 'echo 0123456789 > data/blobs/f.bin; mkdir -p data/blobs/u; echo l > data/blobs/u/l.tmp; echo r > data/blobs/u/r'
  x chmod 600 data/blobs/f.bin
  eq 600 "$(stat -c %a "$REMOTE/data/blobs/f.bin")" "chmod of a remote file (physical)"
  absent "$ROOT/data/blobs/f.bin"
  x chmod 750 data/blobs/u
  eq 750 "$(stat -c %a "$REMOTE/data/blobs/u")" "chmod of a union dir: remote half"
  eq 750 "$(stat -c %a "$ROOT/data/blobs/u")" "chmod of a union dir: local half"
  x stat -c %a data/blobs/u data/blobs/f.bin
  eq $'750\n600' "$OUT" "modes seen under the shim"
  x chmod -R g+w data/blobs/u
  eq 770 "$(stat -c %a "$REMOTE/data/blobs/u")" "chmod -R union dir: remote half"
  eq 770 "$(stat -c %a "$ROOT/data/blobs/u")" "chmod -R union dir: local half"
  eq 664 "$(stat -c %a "$REMOTE/data/blobs/u/r")" "chmod -R reached the remote file"
  eq 664 "$(stat -c %a "$ROOT/data/blobs/u/l.tmp")" "chmod -R reached the local file"
  x touch -d '2001-02-03 04:05:06' data/blobs/f.bin data/blobs/u
  eq 981173106 "$(stat -c %Y "$REMOTE/data/blobs/f.bin")" "touch -d of a remote file"
  eq 981173106 "$(stat -c %Y "$REMOTE/data/blobs/u")" "touch -d of a union dir: remote half"
  eq 981173106 "$(stat -c %Y "$ROOT/data/blobs/u")" "touch -d of a union dir: local half"
  x stat -c %Y data/blobs/f.bin data/blobs/u
  eq $'981173106\n981173106' "$OUT" "mtimes seen under the shim"
  x touch -r data/blobs/f.bin data/blobs/u/r
  eq 981173106 "$(stat -c %Y "$REMOTE/data/blobs/u/r")" "touch -r from a remote reference"
  # truncate: shrink, grow, create
  x truncate -s 4 data/blobs/f.bin
  eq 4 "$(stat -c %s "$REMOTE/data/blobs/f.bin")" "truncate shrink (physical)"
  x truncate -s 8192 data/blobs/f.bin
  eq 8192 "$(stat -c %s "$REMOTE/data/blobs/f.bin")" "truncate grow (physical)"
  x truncate -s 5 data/blobs/new.bin data/blobs/new.tmp
  eq 5 "$(stat -c %s "$REMOTE/data/blobs/new.bin")" "truncate -s creates in the remote tier"
  eq 5 "$(stat -c %s "$ROOT/data/blobs/new.tmp")" "truncate -s creates an ignored file locally"
  x sh -c 'head -c 4 data/blobs/f.bin; echo; cat data/blobs/u/l.tmp data/blobs/u/r; wc -c < data/blobs/f.bin'
  eq $'0123\nl\nr\n8192' "$OUT" "cat/head/wc"
  expect_all <<'EOF'
    R f data/blobs/f.bin
    R f data/blobs/new.bin
    L f data/blobs/new.tmp
    L d data/blobs/u
    L f data/blobs/u/l.tmp
    R d data/blobs/u
    R f data/blobs/u/r
EOF
}

# Metadata of union directories: the mode given at mkdir (coreutils fchmods
# the new directory through a descriptor when the umask removed bits), the
# mode of a remote-only directory whose local half is made on demand, and
# the mtime, which must move when the remote half's entries change.
union_dir_metadata() {
  x mkdir -p data/blobs/u
  # mkdir -m with bits the umask removes: coreutils creates, then fchmods
  # the new directory through a descriptor; both halves must get the mode
  x sh -c 'umask 022 && mkdir -m 1777 data/blobs/m1777 && stat -c %a data/blobs/m1777'
  eq 1777 "$OUT" "mkdir -m 1777 as the app sees it"
  eq 1777 "$(stat -c %a "$REMOTE/data/blobs/m1777")" "mkdir -m 1777: remote half"
  eq 1777 "$(stat -c %a "$ROOT/data/blobs/m1777")" "mkdir -m 1777: local half"
  # a remote-only dir another node made with mode 1777: reading it makes no
  # local half; entering it makes one, which must not lose bits to the umask
  mkd R data/blobs/shared; chmod 1777 "$REMOTE/data/blobs/shared"
  x sh -c 'umask 022 && stat -c %a data/blobs/shared'
  eq 1777 "$OUT" "mode of a remote-only dir made with 1777"
  x sh -c 'umask 022 && cd data/blobs/shared && stat -c %a .'
  eq 1777 "$OUT" "mode of the same dir after entering it"
  eq 1777 "$(stat -c %a "$ROOT/data/blobs/shared")" "its local half, made on entering it"
  # the union dir's mtime moves when an entry is created or removed in its
  # remote half (apps and caches, e.g. Python's import system, watch it)
  x touch -d '2001-02-03 04:05:06' data/blobs/u
  x sh -c 'echo n > data/blobs/u/n.bin && stat -c %Y data/blobs/u'
  [[ $OUT != 981173106 ]] && pass || check_fail "mtime of data/blobs/u unchanged (981173106) after creating a remote entry in it"
  x sh -c 'touch -d "2001-02-03 04:05:06" data/blobs/u && rm data/blobs/u/n.bin && stat -c %Y data/blobs/u'
  [[ $OUT != 981173106 ]] && pass || check_fail "mtime of data/blobs/u unchanged (981173106) after removing a remote entry"
  expect_all <<'EOF'
    L d data/blobs/u
    R d data/blobs/u
    L d data/blobs/m1777
    R d data/blobs/m1777
    L d data/blobs/shared
    R d data/blobs/shared
EOF
}

# Everyday tools that write through temporary files or walk trees:
# sed -i, install -D, shell globs, find -exec/-execdir, rmdir -p, chown,
# and names that a directory-only pattern decides.
more_tools() {
  sh_x 'echo "hello world" > data/blobs/doc.txt; echo "{\"v\": 1}" > data/blobs/manifest.json; echo x > data/blobs/b.tmp'
  # sed -i writes a temporary file beside the target, then renames it over
  x sed -i 's/world/there/' data/blobs/doc.txt
  x sed -i 's/1/2/' data/blobs/manifest.json
  content R data/blobs/doc.txt "hello there"
  content L data/blobs/manifest.json '{"v": 2}'
  absent "$ROOT/data/blobs/doc.txt" "$REMOTE/data/blobs/manifest.json"
  # install -D makes the missing parents
  x install -D -m 640 data/blobs/doc.txt data/blobs/inst/a/b/doc.txt
  eq 640 "$(stat -c %a "$REMOTE/data/blobs/inst/a/b/doc.txt" 2>&1)" "install -D into the remote tier"
  x install -d data/blobs/inst2/c
  # shell globbing lists the union
  mk R data/blobs/ronly/r1; mk R data/blobs/r2.bin
  x sh -c 'echo data/blobs/*; echo data/blobs/*.tmp data/blobs/ronly/*'
  eq $'data/blobs/b.tmp data/blobs/doc.txt data/blobs/inst data/blobs/inst2 data/blobs/manifest.json data/blobs/r2.bin data/blobs/ronly\ndata/blobs/b.tmp data/blobs/ronly/r1' "$OUT" "sh glob over a union dir"
  x bash -c 'shopt -s globstar; echo data/blobs/**/doc.txt'
  eq "data/blobs/doc.txt data/blobs/inst/a/b/doc.txt" "$OUT" "bash globstar"
  # find -exec / -execdir: children run with the shim, -execdir in the dir
  x find data/blobs -name r1 -exec cat {} +
  eq data/blobs/ronly/r1 "$OUT" "find -exec cat on a remote-only file"
  x find data/blobs -name r1 -execdir sh -c 'pwd; cat ./r1; echo n > ./new; echo t > ./new.tmp' \;
  eq "$ROOT/data/blobs/ronly"$'\n'data/blobs/ronly/r1 "$OUT" "find -execdir in a remote-only dir"
  content R data/blobs/ronly/new n
  content L data/blobs/ronly/new.tmp t
  # rmdir -p climbs out of the union and stops at the non-empty data/blobs
  x mkdir -p data/blobs/p1/p2/p3
  xs 1 rmdir -p data/blobs/p1/p2/p3
  absent "$ROOT/data/blobs/p1" "$REMOTE/data/blobs/p1"
  # mv a file into another [dirs] root through a directory target
  x mv data/blobs/doc.txt exports/
  content R exports/doc.txt "hello there"
  # chown of a union dir: both halves
  x chown -R 65534:65534 data/blobs/inst
  eq "65534 65534" "$(stat -c '%u %g' "$REMOTE/data/blobs/inst")" "chown: remote half"
  eq "65534 65534" "$(stat -c '%u %g' "$ROOT/data/blobs/inst")" "chown: local half"
  eq "65534" "$(stat -c '%u' "$REMOTE/data/blobs/inst/a/b/doc.txt")" "chown -R: remote file"
  # a directory-only pattern: ".locks/" is ignored as a directory only
  x sh -c 'mkdir data/blobs/.locks; echo l > data/blobs/.locks/l; echo f > data/blobs/__pycache__; ls -a data/blobs | grep -c -e "^.locks$" -e "^__pycache__$"'
  eq 2 "$OUT" "ls shows .locks (dir) and __pycache__ (file) once each"
  x cat data/blobs/.locks/l data/blobs/__pycache__
  eq $'l\nf' "$OUT" "cat under dir-only-pattern names"
  x mv data/blobs/.locks data/blobs/locks2
  expect_all <<'EOF'
    L f data/blobs/b.tmp
    L f data/blobs/manifest.json
    L d data/blobs/inst
    L d data/blobs/inst/a
    L d data/blobs/inst/a/b
    L d data/blobs/inst2
    L d data/blobs/inst2/c
    L d data/blobs/ronly
    L f data/blobs/ronly/new.tmp
    L d data/blobs/locks2
    R d data/blobs/inst
    R d data/blobs/inst/a
    R d data/blobs/inst/a/b
    R f data/blobs/inst/a/b/doc.txt
    R d data/blobs/inst2
    R d data/blobs/inst2/c
    R d data/blobs/ronly
    R f data/blobs/ronly/r1
    R f data/blobs/ronly/new
    R f data/blobs/r2.bin
    R f data/blobs/__pycache__
    R d data/blobs/locks2
    R f data/blobs/locks2/l
    R f exports/doc.txt
EOF
  eq "" "$(find "$ROOT" "$REMOTE" -name 'sed*')" "sed -i temporary files left"
}

# A union sub-directory that exists only in its local half (its remote half
# is gone: removed from the store by another node, or never made because the
# directory came back from a checkpoint of the local tiers). It is still a
# directory of the union: stat, ls, chmod, touch, creating files in it and
# rm -rf must all treat it as one.
local_half_only() {
  mkd L data/blobs/lonly
  mk L data/blobs/lonly/x.tmp "x"
  mk L data/blobs/lonly2/y.tmp "y"
  x stat -c %F data/blobs/lonly
  eq directory "$OUT" "stat of a local-half-only union dir"
  x ls -a data/blobs/lonly
  eq $'.\n..\nx.tmp' "$OUT" "ls of a local-half-only union dir"
  x touch data/blobs/lonly
  [[ -f $REMOTE/data/blobs/lonly ]] && check_fail "touch made a regular FILE REMOTE/data/blobs/lonly" || pass
  x chmod 700 data/blobs/lonly
  eq 700 "$(stat -c %a "$ROOT/data/blobs/lonly")" "chmod of a local-half-only dir"
  x sh -c 'echo r > data/blobs/lonly/r && cat data/blobs/lonly/r data/blobs/lonly/x.tmp'
  eq $'r\nx' "$OUT" "create a remote file in a local-half-only dir"
  content R data/blobs/lonly/r r
  x rm -rf data/blobs/lonly2
  absent "$ROOT/data/blobs/lonly2" "$REMOTE/data/blobs/lonly2"
}

# rsync writes each file as a hidden temporary beside it, then renames.
rsync_tool() {
  command -v rsync >/dev/null || { echo "note: rsync not installed, rsync_tool skipped" >&2; return 0; }
  mkdir -p "$W/src/sub"
  echo a > "$W/src/a.txt"; echo b > "$W/src/b.tmp"; echo m > "$W/src/manifest.json"; head -c 50000 /dev/urandom > "$W/src/sub/c.bin"
  x rsync -a "$W/src/" data/blobs/rs/
  x rsync -a data/blobs/rs/ "$W/back/"
  if diff -r "$W/src" "$W/back" >/dev/null; then pass; else check_fail "rsync round trip differs"; fi
  x rsync -a --delete --itemize-changes "$W/src/" data/blobs/rs/
  eq "" "$OUT" "second rsync finds nothing to do (sizes and mtimes read through the union)"
  expect_phys data/blobs/rs <<'EOF'
    L f b.tmp
    L f manifest.json
    L d sub
    R f a.txt
    R d sub
    R f sub/c.bin
EOF
}

run_modes coreutils touch_mkdir cp_r mv_tests rm_rf ls_tests find_du ln_stat symlink_cross attrs union_dir_metadata more_tools local_half_only rsync_tool
