#!/usr/bin/env bash
# Paths the kernel treats specially: a trailing "/" or "/." (compared with
# the same commands run natively), symlinks to directories across tiers,
# programs stored in the remote tier, and very deep paths.
#   BUILD=build bash tests/shim/test_paths.sh
source "$(dirname "$0")/lib.sh"

# What each command says, in a tree made the same way natively and under
# the shim: l -> ldir, dangling -> nowhere, in the local tier and (rl, rd)
# in the remote one.
TRAIL_SCRIPT='
set -u
mkdir -p ldir data/blobs/rdir
echo f > ldir/f; echo g > data/blobs/rdir/g; echo a > afile
ln -s ldir l; ln -s nowhere dangling
ln -s rdir data/blobs/rl; ln -s nowhere data/blobs/rd
say() { echo "== $*"; "$@" 2>&1 | sed -e "s/^[a-z]*: //"; echo "-> ${PIPESTATUS[0]}"; }
for L in l data/blobs/rl; do
  say stat -c %F "$L" "$L/" "$L/."
  say ls "$L/"
  say find "$L/"
  say rsync -a "$L/" "dst-${L##*/}/"
  say find "dst-${L##*/}" -printf "%y %p\n"
  say cp -r "$L/" "cp-${L##*/}"
  say find "cp-${L##*/}" -printf "%y %p\n"
done
say stat -c %F dangling/ data/blobs/rd/ afile/ data/blobs/rdir/g/
say python3 -c "
import os
for p in [\"new/\", \"data/blobs/new/\", \"ldir/.\", \"data/blobs/rdir/.\"]:
    try:
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)); print(p, \"created\")
    except OSError as e:
        print(p, os.strerror(e.errno))
for p in [\"md/\", \"data/blobs/md/\"]:
    os.mkdir(p); print(p, os.path.isdir(p.rstrip(\"/\")))
for p in [\"md/.\", \"data/blobs/md/.\"]:
    try:
        os.rmdir(p); print(p, \"removed\")
    except OSError as e:
        print(p, os.strerror(e.errno))
"
say ls -d new data/blobs/new
'

trailing_slash() {
  local nat=$W/native
  mkdir -p "$nat/data/blobs"
  (cd "$nat" && bash -c "$TRAIL_SCRIPT") > "$W/native.out" 2>&1
  x bash -c "$TRAIL_SCRIPT"
  eq "$(<"$W/native.out")" "$OUT" "the same commands natively and under the shim"
  deliberate_symlink "$ROOT/l" ldir
  deliberate_symlink "$ROOT/dangling" nowhere
  deliberate_symlink "$REMOTE/data/blobs/rl" rdir
  deliberate_symlink "$REMOTE/data/blobs/rd" nowhere
  content L dst-l/f f
  content L dst-rl/g g
  content R data/blobs/rdir/g g
}

# Links to directories whose target is in the other tier, or in a union
# directory (which the kernel would follow into one half only).
dir_links() {
  sh_x 'mkdir -p data/blobs/a data/blobs/b ldir
        echo in-b > data/blobs/b/f.bin; echo b-manifest > data/blobs/b/manifest.json; echo in-l > ldir/f'
  sh_x "ln -s '$ROOT/data/blobs/b' data/blobs/a/abs
        ln -s ../../ldir data/blobs/tolocal
        ln -s data/blobs/b localln"
  deliberate_symlink "$REMOTE/data/blobs/a/abs" "$ROOT/data/blobs/b"
  deliberate_symlink "$REMOTE/data/blobs/tolocal" ../../ldir
  deliberate_symlink "$ROOT/localln" data/blobs/b
  local L
  for L in data/blobs/a/abs localln; do
    x cat "$L/f.bin" "$L/manifest.json"
    eq $'in-b\nb-manifest' "$OUT" "cat through $L"
    x sh -c "echo via > '$L/new-${L##*/}.bin'"
    x ls "$L/"
    eq "$(printf '%s\n' f.bin manifest.json new-abs.bin new-localln.bin | grep -v "new-$([[ $L == localln ]] && echo abs || echo localln)")" \
       "$(grep -v "^new-$([[ $L == localln ]] && echo abs || echo localln)" <<<"$OUT")" "ls $L/"
  done
  content R data/blobs/b/new-abs.bin via
  content R data/blobs/b/new-localln.bin via
  x cat data/blobs/tolocal/f
  eq in-l "$OUT" "cat through a remote-tier link to a local directory"
  x sh -c 'echo w > data/blobs/tolocal/w'
  content L ldir/w w
  # By descriptor: fdopendir and openat relative to a directory opened
  # through the link.
  x "$PY" -c '
import os
for p in ["data/blobs/a/abs", "localln", "data/blobs/tolocal"]:
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    names = sorted(os.listdir(fd))
    first = [n for n in names if not n.startswith("new-")][0]
    with open(first, opener=lambda n, f: os.open(n, f, dir_fd=fd)) as fh:
        data = fh.read().strip()
    print(p, names, data, os.stat("f.bin" if "f.bin" in names else "f", dir_fd=fd).st_size)
    os.close(fd)'
  eq "data/blobs/a/abs ['f.bin', 'manifest.json', 'new-abs.bin', 'new-localln.bin'] in-b 5
localln ['f.bin', 'manifest.json', 'new-abs.bin', 'new-localln.bin'] in-b 5
data/blobs/tolocal ['f', 'w'] in-l 5" "$OUT" "directories walked by descriptor through links"
  x find -L localln data/blobs/a/abs -type f
  eq "$(printf '%s\n' data/blobs/a/abs/f.bin data/blobs/a/abs/manifest.json data/blobs/a/abs/new-abs.bin data/blobs/a/abs/new-localln.bin localln/f.bin localln/manifest.json localln/new-abs.bin localln/new-localln.bin)" "$(sort <<<"$OUT")" "find -L through the links"
}

# A program stored in the remote tier, started by fractfs-run itself (which
# runs without the shim) or by a program under a bare LD_PRELOAD.
remote_programs() {
  mk R data/blobs/bin/t.sh '#!/bin/sh
echo "t.sh $*"'
  chmod +x "$REMOTE/data/blobs/bin/t.sh"
  x ./data/blobs/bin/t.sh one
  eq "t.sh one" "$OUT" "fractfs-run -- ./data/blobs/bin/t.sh"
  OUT=$(cd "$ROOT" && PATH="$ROOT/data/blobs/bin:$PATH" "$BIN/fractfs-run" -- t.sh two 2>&1) && pass || check_fail "fractfs-run -- t.sh from a PATH entry in the remote tier: $OUT"
  eq "t.sh two" "$OUT" "fractfs-run -- t.sh found on PATH"
  xp env ./data/blobs/bin/t.sh three
  eq "t.sh three" "$OUT" "env ./data/blobs/bin/t.sh under a bare LD_PRELOAD"
  xs 127 ./data/blobs/bin/missing.sh
}

# mkdir at depth 1,600 in the remote tier: the shim's own work must be
# linear in the path's length (a few stats, not one per level). Counted in
# system calls, which a busy machine does not change.
deep_paths() {
  command -v strace >/dev/null || { check_fail "strace not installed (make deps)"; return; }
  local deep=data/blobs/$(printf 'd/%.0s' $(seq 1599))d
  x mkdir -p "${deep%/d}"
  # strace runs under fractfs-run: it counts the calls of mkdir alone.
  x strace -f -qq -c -o "$W/strace.txt" -e trace=%file,%%stat mkdir "$deep"
  [[ -d $REMOTE/$deep && -d $ROOT/$deep ]] && pass || check_fail "both halves of the deep directory"
  local calls
  calls=$(awk '$NF == "total" {print $4}' "$W/strace.txt")
  if ((${calls:-0} > 0 && calls < 1000)); then pass; else
    check_fail "mkdir at depth 1,600 made ${calls:-?} file system calls (quadratic in depth?): $(cat "$W/strace.txt")"
  fi
}

run_modes paths trailing_slash dir_links remote_programs deep_paths
