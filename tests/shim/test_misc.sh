#!/usr/bin/env bash
# The rest: walk APIs through real programs (nftw, ftw, fts, glob, scandir
# in a small C program; Python's os.fwalk), mktemp, passthrough mode, paths
# with ".." leaving or entering the root, a root reached through a
# symlinked path, children started with a cleared environment, O_TMPFILE,
# fifos, scripts stored in the remote tier.
#   BUILD=build bash tests/shim/test_misc.sh
source "$(dirname "$0")/lib.sh"

WALK_SRC='
#define _GNU_SOURCE
#include <dirent.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char* kind(mode_t m) { return S_ISDIR(m) ? "d" : S_ISREG(m) ? "f" : S_ISLNK(m) ? "l" : "?"; }

static int nftw_cb(const char* p, const struct stat* st, int flag, struct FTW* f) {
  const char* t = flag == FTW_D || flag == FTW_DP ? "d" : flag == FTW_F ? "f" : flag == FTW_SL ? "l"
                : flag == FTW_DNR ? "DNR" : flag == FTW_NS ? "NS" : "?";
  printf("%s %s %d %s\n", t, p, f->level, flag == FTW_NS ? "-" : kind(st->st_mode));
  return 0;
}
static int ftw_cb(const char* p, const struct stat* st, int flag) {
  printf("%s %s\n", flag == FTW_D ? "d" : flag == FTW_F ? "f" : "?", p);
  (void)st;
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argv[1];
  if (!strcmp(mode, "nftw")) return nftw(argv[2], nftw_cb, 8, FTW_PHYS);
  if (!strcmp(mode, "nftw-depth")) return nftw(argv[2], nftw_cb, 8, FTW_PHYS | FTW_DEPTH | FTW_CHDIR);
  if (!strcmp(mode, "ftw")) return ftw(argv[2], ftw_cb, 8);
  if (!strcmp(mode, "fts") || !strcmp(mode, "fts-nochdir")) {
    char* paths[] = {argv[2], NULL};
    int opts = FTS_PHYSICAL | (!strcmp(mode, "fts-nochdir") ? FTS_NOCHDIR : 0);
    FTS* fts = fts_open(paths, opts, NULL);
    if (!fts) { perror("fts_open"); return 1; }
    FTSENT* e;
    while ((e = fts_read(fts))) {
      const char* t = e->fts_info == FTS_D ? "d" : e->fts_info == FTS_DP ? "dp" : e->fts_info == FTS_F ? "f"
                    : e->fts_info == FTS_SL ? "l" : e->fts_info == FTS_DNR ? "DNR" : e->fts_info == FTS_NS ? "NS" : "?";
      printf("%s %s %ld\n", t, e->fts_path, (long)e->fts_level);
    }
    return fts_close(fts);
  }
  if (!strcmp(mode, "glob")) {
    glob_t g;
    int rc = glob(argv[2], GLOB_MARK, NULL, &g);
    if (rc) { printf("glob rc %d\n", rc); return 0; }
    for (size_t i = 0; i < g.gl_pathc; ++i) printf("%s\n", g.gl_pathv[i]);
    globfree(&g);
    return 0;
  }
  if (!strcmp(mode, "scandir")) {
    struct dirent** list;
    int n = scandir(argv[2], &list, NULL, alphasort);
    if (n < 0) { perror("scandir"); return 1; }
    for (int i = 0; i < n; ++i) printf("%s %d\n", list[i]->d_name, list[i]->d_type == DT_DIR);
    return 0;
  }
  if (!strcmp(mode, "readdir")) {   /* twice, with rewinddir and seekdir in between */
    DIR* d = opendir(argv[2]);
    if (!d) { perror("opendir"); return 1; }
    int n = 0; long pos = -1; struct dirent* e;
    while ((e = readdir(d))) { if (++n == 2) pos = telldir(d); }
    rewinddir(d);
    int m = 0; while (readdir(d)) ++m;
    seekdir(d, pos);
    int k = 0; while (readdir(d)) ++k;
    printf("%d %d %d\n", n, m, k);
    return closedir(d);
  }
  return 2;
}'

# The union tree the walks must see, rooted at data/blobs/w.
make_walk_tree() {
  sh_x 'mkdir -p data/blobs/w/u/inner data/blobs/w/__pycache__
        echo r > data/blobs/w/r.bin; echo l > data/blobs/w/l.tmp; echo m > data/blobs/w/manifest.json
        echo i > data/blobs/w/u/inner/i; echo c > data/blobs/w/__pycache__/c.pyc'
  mk R data/blobs/w/ronly/deep/f
  mk R data/blobs/w/ronly/g
}
WALK_PATHS='data/blobs/w
data/blobs/w/__pycache__
data/blobs/w/__pycache__/c.pyc
data/blobs/w/l.tmp
data/blobs/w/manifest.json
data/blobs/w/r.bin
data/blobs/w/ronly
data/blobs/w/ronly/deep
data/blobs/w/ronly/deep/f
data/blobs/w/ronly/g
data/blobs/w/u
data/blobs/w/u/inner
data/blobs/w/u/inner/i'

walk_apis() {
  cc_build walk "$WALK_SRC"
  make_walk_tree
  x find data/blobs/w
  eq "$WALK_PATHS" "$(sort <<<"$OUT")" "find (the reference union view)"
  x "$T/walk" nftw data/blobs/w
  eq "$WALK_PATHS" "$(awk '{print $2}' <<<"$OUT" | sort)" "nftw paths"
  eq "" "$(awk '$1 != $4 || $1 == "NS" || $1 == "DNR"' <<<"$OUT")" "nftw typeflags agree with st_mode"
  contains "$OUT" "d data/blobs/w/ronly/deep 2 d" "nftw enters a remote-only dir"
  x "$T/walk" nftw-depth "$ROOT/data/blobs/w"
  eq "$(sed "s|^|$ROOT/|" <<<"$WALK_PATHS")" "$(awk '{print $2}' <<<"$OUT" | sort)" "nftw FTW_DEPTH|FTW_CHDIR paths"
  eq "$ROOT/data/blobs/w" "$(tail -n 1 <<<"$OUT" | awk '{print $2}')" "nftw FTW_DEPTH ends with the top"
  x "$T/walk" ftw data/blobs/w
  eq "$WALK_PATHS" "$(awk '{print $2}' <<<"$OUT" | sort)" "ftw paths"
  local mode
  for mode in fts fts-nochdir; do
    x "$T/walk" "$mode" data/blobs/w
    eq "$WALK_PATHS" "$(awk '$1 != "dp" {print $2}' <<<"$OUT" | sort)" "$mode preorder paths"
    eq 6 "$(awk '$1 == "dp"' <<<"$OUT" | wc -l)" "$mode postorder directories"
    eq "" "$(awk '$1 == "NS" || $1 == "DNR" || $1 == "?"' <<<"$OUT")" "$mode errors"
  done
  x "$T/walk" glob 'data/blobs/w/*'
  eq $'data/blobs/w/__pycache__/\ndata/blobs/w/l.tmp\ndata/blobs/w/manifest.json\ndata/blobs/w/r.bin\ndata/blobs/w/ronly/\ndata/blobs/w/u/' "$OUT" "glob with GLOB_MARK"
  x "$T/walk" glob 'data/blobs/w/*/*'
  eq $'data/blobs/w/__pycache__/c.pyc\ndata/blobs/w/ronly/deep/\ndata/blobs/w/ronly/g\ndata/blobs/w/u/inner/' "$OUT" "glob two levels"
  x "$T/walk" scandir data/blobs/w/ronly
  eq $'. 1\n.. 1\ndeep 1\ng 0' "$OUT" "scandir of a remote-only dir"
  x "$T/walk" readdir data/blobs/w
  eq "8 8 6" "$OUT" "readdir / rewinddir / seekdir over a union dir"
  # Python's fd-based walk
  x "$PY" -c '
import os
out = []
for root, dirs, files, fd in os.fwalk("data/blobs/w"):
    out.append(root)
    out += [os.path.join(root, f) for f in files]
    for f in files:
        os.stat(f, dir_fd=fd)
print("\n".join(sorted(out)))'
  eq "$WALK_PATHS" "$OUT" "os.fwalk"
}

mktemp_cmd() {
  mk R data/blobs/ronly/x
  x mktemp data/blobs/tmp.XXXXXX
  local f1=$OUT
  x mktemp -d data/blobs/dir.XXXXXX
  local d1=$OUT
  x mktemp --suffix=.tmp data/blobs/s.XXXXXX
  local f2=$OUT
  x mktemp -p data/blobs/ronly
  local f3=$OUT
  x env TMPDIR="$ROOT/exports" mktemp -d
  local d2=$OUT
  [[ $d2 == "$ROOT/exports/tmp."* ]] && pass || check_fail "mktemp -d with TMPDIR: $d2"
  x sh -c "echo one > $f1 && echo two > $d1/inside && echo three > $f2"
  expect_all <<EOF
    R f $f1
    L d $d1
    R d $d1
    R f $d1/inside
    L f $f2
    R d data/blobs/ronly
    R f data/blobs/ronly/x
    R f data/blobs/ronly/${f3##*/}
    L d exports/${d2##*/}
    R d exports/${d2##*/}
EOF
}

ls_data_and_dotdot() {
  mk R data/blobs/ronly/r "r"
  echo outside > "$W/outside.txt"
  sh_x 'echo a > data/blobs/a.bin; echo l > data/blobs/l.tmp'
  x ls data
  eq blobs "$OUT" "ls data"
  x ls -a "$ROOT/data"
  eq $'.\n..\nblobs' "$OUT" "ls -a ROOT/data"
  x cat data/blobs/ronly/../a.bin
  eq a "$OUT" "remote file via a remote-only dir and .."
  # ".." climbing out of the root: untouched
  x cat "data/blobs/../../../w/outside.txt"
  eq outside "$OUT" "a path climbing out of ROOT"
  x sh -c 'echo made > data/blobs/../../../w/made.txt'
  content_phys "$W/made.txt" made
  # a relative path from outside the root that climbs into it
  xin "$W" cat ../app/data/blobs/a.bin ../app/data/blobs/ronly/r
  eq $'a\nr' "$OUT" "relative path from a sibling of ROOT climbing in"
  xin "$W" sh -c 'echo new > ../app/data/blobs/from-outside.bin; ls ../app/data/blobs'
  eq $'a.bin\nfrom-outside.bin\nl.tmp\nronly' "$OUT" "ls from outside via .."
  content R data/blobs/from-outside.bin new
  xin / cat "..$ROOT/data/blobs/a.bin"
  eq a "$OUT" "cd /; cat ..ROOT/data/blobs/a.bin"
  # from above the root (cwd an ancestor): plain relative paths lead inside
  xin "$(dirname "$ROOT")" cat app/data/blobs/ronly/r
  eq r "$OUT" "relative path from the root's parent"
  xin "$(dirname "$ROOT")" sh -c 'cd app/data/blobs/ronly && cat r && pwd'
  eq $'r\n'"$ROOT/data/blobs/ronly" "$OUT" "cd from the root's parent into a remote-only dir"
  expect_all <<'EOF'
    R f data/blobs/a.bin
    L f data/blobs/l.tmp
    R f data/blobs/from-outside.bin
    R d data/blobs/ronly
    R f data/blobs/ronly/r
    L d data/blobs/ronly
EOF
}
# A path is placed after lexical normalization; a local-tier path whose ".."
# passes through a remote-only directory (no local half yet) must still
# reach the natural place.
dotdot_local() {
  mk R data/blobs/ronly/r "r"
  sh_x 'echo l > data/blobs/l.tmp'
  x cat data/blobs/ronly/../l.tmp
  eq l "$OUT" "local file via a remote-only dir and .."
  x stat -c %s data/blobs/ronly/../l.tmp
  eq 2 "$OUT" "stat of a local file via a remote-only dir and .."
  x sh -c 'echo n > data/blobs/ronly/../n.tmp && mkdir data/blobs/ronly/../__pycache__'
  content L data/blobs/n.tmp n
  expect_all <<'EOF'
    L f data/blobs/l.tmp
    L f data/blobs/n.tmp
    L d data/blobs/__pycache__
    R d data/blobs/ronly
    R f data/blobs/ronly/r
EOF
}

content_phys() { if [[ -f $1 ]] && cmp -s <(printf '%s\n' "$2") "$1"; then pass; else check_fail "$1 should hold [$2]"; fi; }

passthrough() {
  # no remote_root: nothing is redirected
  cat > "$ROOT/.fractfs.toml" <<'TOML'
[dirs]
paths = ["data/blobs", "exports"]
[ignore]
patterns = ["*.tmp"]
TOML
  rm -rf "$ROOT/data" "$ROOT/exports" "$REMOTE"/*
  sh_x 'mkdir -p data/blobs/d; echo a > data/blobs/a.bin; echo t > data/blobs/t.tmp; mv data/blobs/a.bin data/blobs/d/b.bin; ls -R data'
  eq $'data:\nblobs\n\ndata/blobs:\nd\nt.tmp\n\ndata/blobs/d:\nb.bin' "$OUT" "ls -R in passthrough"
  eq "" "$(find "$REMOTE" -mindepth 1)" "REMOTE untouched in passthrough"
  eq $'f .fractfs.toml\nd data\nd data/blobs\nd data/blobs/d\nf data/blobs/d/b.bin\nf data/blobs/t.tmp' \
     "$(find "$ROOT" -mindepth 1 -printf '%y %P\n' | sort -k2)" "ROOT in passthrough"
  # fractfs-run says so (once), and the library alone stays quiet otherwise
  local rc=0 err
  err=$(cd "$ROOT" && "$BIN/fractfs-run" --root "$ROOT" -v -- true 2>&1) || rc=$?
  eq 0 "$rc" "fractfs-run in passthrough"
  contains "$err" "passthrough" "fractfs-run -v names passthrough"
  xp sh -c 'echo x > data/blobs/x.bin'
  content L data/blobs/x.bin x
  # a bad configuration: fractfs-run refuses to start the command
  printf 'remote_root = 5\n' > "$ROOT/.fractfs.toml"
  xs 2 sh -c 'touch should-not-exist'
  absent "$ROOT/should-not-exist"
  write_config
}

# The root named through a symlinked path (FRACTFS_ROOT is the alias), the
# app using either spelling.
root_alias() {
  ln -s "$ROOT" "$W/alias"
  local rc=0
  OUT=$(cd "$W" && "$BIN/fractfs-run" --root "$W/alias" -- sh -c "
      echo via-alias > '$W/alias/data/blobs/a.bin'
      echo via-real > '$ROOT/data/blobs/b.bin'
      cd '$W/alias/data/blobs' && cat a.bin b.bin && ls" 2>&1) || rc=$?
  eq 0 "$rc" "run with an aliased root ($OUT)"
  eq $'via-alias\nvia-real\na.bin\nb.bin' "$OUT" "output with an aliased root"
  expect_all <<'EOF'
    R f data/blobs/a.bin
    R f data/blobs/b.bin
EOF
}

children_and_special() {
  sh_x 'echo a > data/blobs/a.bin'
  x "$PY" -c '
import subprocess, os
print(subprocess.run(["cat", "data/blobs/a.bin"], env={}, capture_output=True, text=True).stdout.strip())
print(subprocess.run(["cat", "a.bin"], cwd="data/blobs", env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True).stdout.strip())'
  eq $'a\na' "$OUT" "python subprocess with env={} and cwd= inside the union"
  # a script stored in the remote tier
  printf '#!/bin/sh\necho "script says $1"\n' > "$W/s.sh"
  x sh -c "cp '$W/s.sh' data/blobs/s.sh && chmod +x data/blobs/s.sh && ./data/blobs/s.sh hi && cd data/blobs && ./s.sh there"
  eq $'script says hi\nscript says there' "$OUT" "exec of a remote-tier script"
  # found through PATH, by sh, bash, env and Python
  x sh -c 'mkdir -p data/blobs/bin && cp data/blobs/s.sh data/blobs/bin/tool && export PATH="$PWD/data/blobs/bin:$PATH" &&
           tool sh && bash -c "tool bash"'
  eq $'script says sh\nscript says bash' "$OUT" "remote-tier script found through PATH (sh, bash)"
  # fifos follow their tier
  x sh -c 'mkfifo data/blobs/p data/blobs/p.tmp'
  [[ -p $REMOTE/data/blobs/p && -p $ROOT/data/blobs/p.tmp ]] && pass || check_fail "fifos not in their tiers"
  expect_all <<'EOF'
    R f data/blobs/a.bin
    R f data/blobs/s.sh
    L d data/blobs/bin
    R d data/blobs/bin
    R f data/blobs/bin/tool
    R p data/blobs/p
    L p data/blobs/p.tmp
EOF
}

# Children whose environment lost LD_PRELOAD/FRACTFS_ROOT (env -i, env -u,
# execle with an own envp) must still run under the shim; execvp's PATH
# search must find a remote-tier executable. env(1) uses execvp.
exec_env() {
  sh_x 'echo a > data/blobs/a.bin; mkdir -p data/blobs/bin; printf "#!/bin/sh\necho tool \$1\n" > data/blobs/bin/tool; chmod +x data/blobs/bin/tool'
  x env -i /bin/cat data/blobs/a.bin
  eq a "$OUT" "env -i child"
  x env -u LD_PRELOAD -u FRACTFS_ROOT /bin/sh -c 'cat data/blobs/a.bin; echo e > data/blobs/e.bin'
  eq a "$OUT" "child without LD_PRELOAD/FRACTFS_ROOT"
  content R data/blobs/e.bin e
  x sh -c 'PATH="$PWD/data/blobs/bin:$PATH" env tool env'
  eq "tool env" "$OUT" "execvp (env) finds a remote-tier executable in PATH"
  # execv/execvp (glibc calls its internal execve for them): Python's
  # subprocess uses execv when the environment is inherited
  x "$PY" -c 'import subprocess; subprocess.run(["./data/blobs/bin/tool", "py"], check=True)'
  eq "tool py" "$OUT" "python subprocess of a remote-tier executable"
  x sh -c 'PATH="$PWD/data/blobs/bin:$PATH" '"$PY"' -c "import subprocess; subprocess.run([\"tool\", \"path\"], check=True)"'
  eq "tool path" "$OUT" "python subprocess, remote-tier executable found in PATH"
  x "$PY" -c 'import os; os.execv("data/blobs/bin/tool", ["tool", "execv"])'
  eq "tool execv" "$OUT" "os.execv of a remote-tier executable"
  expect_all <<'EOF'
    R f data/blobs/a.bin
    R f data/blobs/e.bin
    L d data/blobs/bin
    R d data/blobs/bin
    R f data/blobs/bin/tool
EOF
}

# An O_TMPFILE file made in a union dir gets its name with
# linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N, in either tier.
otmpfile() {
  # O_TMPFILE (write-only, the usual idiom) in a union dir, then given a
  # name in either tier with linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N
  x "$PY" -c '
import os
cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
for name, data in (("data/blobs/anon.bin", b"remote"), ("data/blobs/anon.tmp", b"local")):
    fd = os.open("data/blobs", os.O_TMPFILE | os.O_WRONLY, 0o644)
    os.write(fd, data)
    os.link("/proc/self/fd/%d" % fd, name, dst_dir_fd=cwd, follow_symlinks=True)
    os.close(fd)
print(open("data/blobs/anon.bin").read(), open("data/blobs/anon.tmp").read())'
  eq "remote local" "$OUT" "O_TMPFILE + linkat"
  content_n R data/blobs/anon.bin remote
  content_n L data/blobs/anon.tmp local
  expect_all <<'EOF'
    R f data/blobs/anon.bin
    L f data/blobs/anon.tmp
EOF
}

scenarios=(walk_apis mktemp_cmd ls_data_and_dotdot dotdot_local passthrough root_alias children_and_special exec_env otmpfile)
# Under ASan, a child started with an emptied environment loses the
# sanitizer runtime the instrumented library needs: those two run in the
# plain build only.
if [[ ${SAN:-} == address ]]; then
  echo "note: children_and_special and exec_env skipped under ASan" >&2
  scenarios=(walk_apis mktemp_cmd ls_data_and_dotdot dotdot_local passthrough root_alias otmpfile)
fi
run_modes misc "${scenarios[@]}"
