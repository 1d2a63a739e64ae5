#!/usr/bin/env bash
# git under the shim, in a repository inside a [dirs] dir: init, add,
# commit, log, status, branch/checkout, stash, gc, fsck, clone in and out.
# The repository's files and objects land in REMOTE (work-tree files that
# a pattern names stay local), git sees a clean tree, no *.lock remains.
#   BUILD=build bash tests/shim/test_git.sh
source "$(dirname "$0")/lib.sh"

git_env() {
  export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.com \
         GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.com \
         GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
  mkdir -p "$HOME"
  printf '[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n' > "$HOME/.gitconfig"
}

no_locks() {  # no lock file left anywhere
  eq "" "$(find "$ROOT" "$REMOTE" -name '*.lock')" "lock files left after $1"
}

# The work tree files of the reference commit, in $W/ref.
make_ref() {
  mkdir -p "$W/ref/sub/__pycache__" "$W/ref/docs"
  echo "hello" > "$W/ref/a.txt"
  head -c 200000 /dev/urandom > "$W/ref/big.bin"
  echo '{"m": 1}' > "$W/ref/manifest.json"
  echo scratch > "$W/ref/x.tmp"
  echo pyc > "$W/ref/sub/__pycache__/p.pyc"
  echo b > "$W/ref/sub/b.txt"
  echo d > "$W/ref/docs/readme.md"
}

git_repo() {
  git_env; make_ref
  x mkdir -p data/blobs/repo
  xin "$ROOT/data/blobs/repo" git init -q
  x cp -a "$W/ref/." data/blobs/repo/
  xin "$ROOT/data/blobs/repo" git add -A
  no_locks "git add"
  xin "$ROOT/data/blobs/repo" git commit -q -m first
  no_locks "git commit"
  xin "$ROOT/data/blobs/repo" git log --format='%s %an'
  eq "first Tester" "$OUT" "git log"
  xin "$ROOT/data/blobs/repo" git status --porcelain --untracked-files=all
  eq "" "$OUT" "git status after commit"
  xin "$ROOT/data/blobs/repo" git ls-files
  eq "$(cd "$W/ref" && find . -type f -printf '%P\n' | sort)" "$OUT" "git ls-files"
  # work-tree files by tier
  local f
  for f in a.txt big.bin sub/b.txt docs/readme.md; do same_file R "data/blobs/repo/$f" "$W/ref/$f"; absent "$ROOT/data/blobs/repo/$f"; done
  for f in manifest.json x.tmp sub/__pycache__/p.pyc; do same_file L "data/blobs/repo/$f" "$W/ref/$f"; absent "$REMOTE/data/blobs/repo/$f"; done
  # git's own files: remote, and never a regular file in ROOT
  [[ -f $REMOTE/data/blobs/repo/.git/HEAD && -f $REMOTE/data/blobs/repo/.git/index ]] && pass || check_fail ".git/HEAD or .git/index not in REMOTE"
  eq "" "$(find "$ROOT/data/blobs/repo/.git" ! -type d)" "non-directories under ROOT/.../repo/.git"
  local loose
  loose=$(find "$REMOTE/data/blobs/repo/.git/objects" -type f -path '*/objects/??/*' | wc -l)
  [[ $loose -ge 10 ]] && pass || check_fail "expected >= 10 loose objects in REMOTE, found $loose"
  # modify, branch, stash
  echo more >> "$ROOT/data/blobs/repo/manifest.json"   # the local copy, as the app would
  xin "$ROOT/data/blobs/repo" git status --porcelain
  eq " M manifest.json" "$OUT" "git status sees a change to a local-tier file"
  xin "$ROOT/data/blobs/repo" git stash -q
  xin "$ROOT/data/blobs/repo" git status --porcelain
  eq "" "$OUT" "git status after stash"
  same_file L data/blobs/repo/manifest.json "$W/ref/manifest.json"
  xin "$ROOT/data/blobs/repo" git stash pop -q
  xin "$ROOT/data/blobs/repo" sh -c 'git checkout -q -b feature && echo new > new.txt && echo n2 > n2.tmp && git add new.txt n2.tmp manifest.json && git commit -q -m second && git checkout -q main'
  no_locks "git checkout"
  absent "$REMOTE/data/blobs/repo/new.txt" "$ROOT/data/blobs/repo/n2.tmp"
  same_file L data/blobs/repo/manifest.json "$W/ref/manifest.json"
  xin "$ROOT/data/blobs/repo" git merge -q --ff-only feature
  content R data/blobs/repo/new.txt new
  content L data/blobs/repo/n2.tmp n2
  xin "$ROOT/data/blobs/repo" git log --format=%s
  eq $'second\nfirst' "$OUT" "git log after merge"
  # gc: packs everything, removes the loose objects and their directories
  xin "$ROOT/data/blobs/repo" git gc -q --prune=now
  no_locks "git gc"
  eq "" "$(find "$REMOTE/data/blobs/repo/.git/objects" "$ROOT/data/blobs/repo/.git/objects" -path '*/objects/??' -name '[0-9a-f][0-9a-f]')" \
     "loose object directories left after gc (either half)"
  [[ -n $(find "$REMOTE/data/blobs/repo/.git/objects/pack" -name '*.pack') ]] && pass || check_fail "no pack in REMOTE after gc"
  eq "" "$(find "$ROOT/data/blobs/repo/.git" ! -type d)" "non-directories under ROOT/.../repo/.git after gc"
  xin "$ROOT/data/blobs/repo" git fsck --strict --no-progress
  xin "$ROOT/data/blobs/repo" git status --porcelain --untracked-files=all
  eq "" "$OUT" "git status after gc"
  xin "$ROOT/data/blobs/repo" git count-objects -v
  contains "$OUT" "count: 0" "count-objects after gc"
  # clone out of the root (the history is intact), and clone into the union
  x git clone -q data/blobs/repo "$W/out"
  cp "$W/ref/manifest.json" "$W/ref/manifest.json.orig"
  if diff -r -x .git "$W/out" "$W/ref" | grep -v -e '^Only in .*: new.txt' -e '^Only in .*: n2.tmp' -e 'manifest.json.orig' | grep -q .; then
    check_fail "clone out of the root differs: $(diff -r -x .git "$W/out" "$W/ref" | head -5)"; else pass; fi
  x git clone -q "$W/out" exports/clone      # hard links across file systems, or copies
  x git clone -q data/blobs/repo data/blobs/clone2   # hard links inside the remote tier
  for f in a.txt big.bin new.txt; do same_file R "exports/clone/$f" "$W/out/$f"; same_file R "data/blobs/clone2/$f" "$W/out/$f"; done
  same_file L exports/clone/n2.tmp "$W/out/n2.tmp"
  xin "$ROOT/exports/clone" git status --porcelain --untracked-files=all
  eq "" "$OUT" "git status in a clone made into the union"
  xin "$ROOT/data/blobs/clone2" git fsck --no-progress
  no_locks "git clone"
  # the remote tier holds no local-tier file, the root no remote-tier file
  eq "" "$(cd "$ROOT" && find data exports -type f | while read -r f; do [[ $(tier "$f") == remote ]] && echo "$f"; done)" "remote-tier files under ROOT"
  eq "" "$(cd "$REMOTE" && find . -path ./_checkpoint -prune -o -type f -print | while read -r f; do [[ $(tier "${f#./}") != remote ]] && echo "$f"; done)" "local-tier files under REMOTE"
}

run_modes git git_repo
