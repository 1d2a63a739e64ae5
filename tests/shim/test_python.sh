#!/usr/bin/env bash
# Python (/usr/bin/python3) under the shim: file I/O, os.replace/rename
# across tiers, scandir/listdir/walk of union dirs, shutil, tempfile,
# pathlib globbing, stat/exists/realpath, makedirs, chdir + relative opens,
# dir_fd calls.
#   BUILD=build bash tests/shim/test_python.sh
source "$(dirname "$0")/lib.sh"

py_io() {
  py io <<'PY'
put("data/blobs/p.bin", b"\x00\x01" * 5000, "wb")
put("data/blobs/q.tmp", "scratch")
put("data/blobs/manifest.json", '{"a": 1}')
put("top.txt", "top")
check("read remote", b"\x00\x01" * 5000, get("data/blobs/p.bin", "rb"))
check("read ignored", "scratch", get("data/blobs/q.tmp"))
put("data/blobs/p.bin", b"END", "ab")
with open("data/blobs/p.bin", "r+b") as f:
    f.seek(2); f.write(b"XY")
check("r+b / append", b"\x00\x01XY" + b"\x00\x01" * 4998 + b"END", get("data/blobs/p.bin", "rb"))
raises("open x on an existing remote file", FileExistsError, open, "data/blobs/p.bin", "x")
put("data/blobs/new.bin", "x-mode", "x")
raises("open a missing remote file", FileNotFoundError, open, "data/blobs/missing")
raises("open a file under a missing dir", FileNotFoundError, open, "data/blobs/nodir/f", "w")
with open(os.path.join(ROOT, "exports/abs.csv"), "w") as f:
    f.write("a,b\n")
    f.flush(); os.fsync(f.fileno())
    check("fstat of a remote fd", 4, os.fstat(f.fileno()).st_size)
check("os.path.getsize", 10003, os.path.getsize("data/blobs/p.bin"))
PY
  expect_all <<'EOF'
    R f data/blobs/p.bin
    L f data/blobs/q.tmp
    L f data/blobs/manifest.json
    L f top.txt
    R f data/blobs/new.bin
    R f exports/abs.csv
EOF
  content_n R data/blobs/new.bin x-mode
  content_n L data/blobs/manifest.json '{"a": 1}'
}

py_replace_rename() {
  head -c 123456 /dev/urandom > "$W/big"
  cp "$W/big" "$W/big.ref"
  py replace <<PY
import shutil
big = open("$W/big", "rb").read()
# the classic atomic write: a *.tmp scratch file, then os.replace
put("data/blobs/.part-0.parquet.tmp", big, "wb")
os.replace("data/blobs/.part-0.parquet.tmp", "data/blobs/part-0.parquet")
check("os.replace local->remote", big, get("data/blobs/part-0.parquet", "rb"))
check("source gone", False, os.path.exists("data/blobs/.part-0.parquet.tmp"))
# over an existing remote file
put("data/blobs/other.tmp", "v2")
put("data/blobs/target.bin", "v1")
os.replace("data/blobs/other.tmp", "data/blobs/target.bin")
check("os.replace over an existing remote file", "v2", get("data/blobs/target.bin"))
# remote -> local (ignored name in the same union dir, and outside [dirs])
put("data/blobs/r1.bin", "r1")
os.replace("data/blobs/r1.bin", "data/blobs/r1.tmp")
put("data/blobs/r2.bin", "r2")
os.replace("data/blobs/r2.bin", "r2.out")
check("remote->local", ("r1", "r2"), (get("data/blobs/r1.tmp"), get("r2.out")))
# manifest.json rewritten via a remote-tier temporary name
put("data/blobs/manifest.json.new", '{"v": 2}')
os.replace("data/blobs/manifest.json.new", "data/blobs/manifest.json")
check("manifest via replace", '{"v": 2}', get("data/blobs/manifest.json"))
# directories: within the union, to another [dirs] root, out, and in
os.makedirs("data/blobs/d1/sub")
put("data/blobs/d1/a", "a"); put("data/blobs/d1/b.tmp", "b"); put("data/blobs/d1/sub/manifest.json", "m")
os.rename("data/blobs/d1", "data/blobs/d2")
os.rename("data/blobs/d2", "exports/d3")
check("listdir after dir renames", ["a", "b.tmp", "sub"], sorted(os.listdir("exports/d3")))
os.rename("exports/d3", "d4")
check("dir renamed out of [dirs]", "m", get("d4/sub/manifest.json"))
os.makedirs("stage/__pycache__"); put("stage/x", "x"); put("stage/__pycache__/c.pyc", "c")
os.rename("stage", "data/blobs/stage")
check("dir renamed into [dirs]", ("x", "c"), (get("data/blobs/stage/x"), get("data/blobs/stage/__pycache__/c.pyc")))
raises("os.rename onto a non-empty union dir", OSError, os.rename, "d4", "data/blobs/stage")
raises("os.rename of a dir into itself", OSError, os.rename, "data/blobs/stage", "data/blobs/stage/inner")
os.mkdir("data/blobs/empty")
os.rename("d4", "data/blobs/empty")   # replaces the empty directory
check("os.rename onto an empty union dir", ["a", "b.tmp", "sub"], sorted(os.listdir("data/blobs/empty")))
# shutil.move: file across tiers, dir out of the union
shutil.move("data/blobs/part-0.parquet", "moved.parquet")
shutil.move("data/blobs/stage", "exports/")
check("shutil.move", (True, True), (os.path.isfile("moved.parquet"), os.path.isdir("exports/stage/__pycache__")))
PY
  expect_all <<'EOF'
    R f data/blobs/target.bin
    L f data/blobs/r1.tmp
    L f r2.out
    L f data/blobs/manifest.json
    L d data/blobs/empty
    L f data/blobs/empty/b.tmp
    L d data/blobs/empty/sub
    L f data/blobs/empty/sub/manifest.json
    R d data/blobs/empty
    R f data/blobs/empty/a
    R d data/blobs/empty/sub
    L f moved.parquet
    L d exports/stage
    L d exports/stage/__pycache__
    L f exports/stage/__pycache__/c.pyc
    R d exports/stage
    R f exports/stage/x
EOF
  same_file L moved.parquet "$W/big.ref"
  content_n L data/blobs/manifest.json '{"v": 2}'
  eq "" "$(find "$ROOT" "$REMOTE" -name '*.fractfs-*')" "leftover temporary files"
}

py_listing() {
  mk R data/blobs/ronly/deeper/f "f"
  mk R data/blobs/ronly/g "g"
  py listing <<'PY'
import pathlib
os.makedirs("data/blobs/both/inner")
put("data/blobs/r.bin", "r"); put("data/blobs/l.tmp", "l"); put("data/blobs/manifest.json", "m")
os.mkdir("data/blobs/__pycache__"); put("data/blobs/__pycache__/c.pyc", "c")
os.symlink("r.bin", "data/blobs/sym")
names = sorted(os.listdir("data/blobs"))
check("listdir", ["__pycache__", "both", "l.tmp", "manifest.json", "r.bin", "ronly", "sym"], names)
ents = {e.name: e for e in os.scandir("data/blobs")}
check("scandir names", names, sorted(ents))
check("scandir is_dir", {"__pycache__", "both", "ronly"}, {n for n, e in ents.items() if e.is_dir()})
check("scandir is_file", {"l.tmp", "manifest.json", "r.bin", "sym"}, {n for n, e in ents.items() if e.is_file()})
check("scandir is_symlink", {"sym"}, {n for n, e in ents.items() if e.is_symlink()})
check("scandir stat size", 1, ents["r.bin"].stat().st_size)
check("is_dir on a remote-only subdir", True, ents["ronly"].is_dir(follow_symlinks=False))
walk = [(d, sorted(ds), sorted(fs)) for d, ds, fs in os.walk("data/blobs")]
walk.sort()
check("os.walk", [
    ("data/blobs", ["__pycache__", "both", "ronly"], ["l.tmp", "manifest.json", "r.bin", "sym"]),
    ("data/blobs/__pycache__", [], ["c.pyc"]),
    ("data/blobs/both", ["inner"], []),
    ("data/blobs/both/inner", [], []),
    ("data/blobs/ronly", ["deeper"], ["g"]),
    ("data/blobs/ronly/deeper", [], ["f"]),
], walk)
bottom = [d for d, _, _ in os.walk(os.path.join(ROOT, "data"), topdown=False)]
check("os.walk bottom-up from ROOT/data", 7, len(bottom))
check("os.walk bottom-up ends at ROOT/data", os.path.join(ROOT, "data"), bottom[-1])
p = pathlib.Path("data/blobs")
check("Path.glob('*')", sorted(names), sorted(x.name for x in p.glob("*")))
check("Path.rglob('f')", ["data/blobs/ronly/deeper/f"], [str(x) for x in p.rglob("f")])
check("Path.glob('**/*')", 12, len(list(p.glob("**/*"))))
check("Path.rglob('*.pyc')", ["data/blobs/__pycache__/c.pyc"], [str(x) for x in p.rglob("*.pyc")])
import glob
check("glob.glob recursive", ["data/blobs/ronly/deeper/f", "data/blobs/ronly/g"],
      sorted(glob.glob("data/blobs/ronly/**/*", recursive=True))[1:])
check("Path.iterdir of a remote-only dir", ["deeper", "g"], sorted(x.name for x in pathlib.Path("data/blobs/ronly").iterdir()))
PY
  deliberate_symlink "$REMOTE/data/blobs/sym" r.bin
}

# DirEntry.inode() (d_ino) must be the inode lstat reports, also for a
# remote-only sub-directory (whose local half stat creates on demand).
py_scandir_inode() {
  mk R data/blobs/ronly/g "g"
  py inode <<'PY'
put("data/blobs/r.bin", "r"); put("data/blobs/l.tmp", "l"); os.makedirs("data/blobs/both")
for round in (1, 2):
    ents = {e.name: e.inode() for e in os.scandir("data/blobs")}
    check("scandir inode == lstat inode (round %d)" % round,
          {n: os.lstat("data/blobs/" + n).st_ino for n in ents}, ents)
PY
}

py_shutil() {
  mkdir -p "$W/src/sub/__pycache__"
  echo a > "$W/src/a.bin"; echo b > "$W/src/b.tmp"; echo m > "$W/src/manifest.json"
  head -c 99999 /dev/urandom > "$W/src/sub/c.bin"; echo p > "$W/src/sub/__pycache__/p.pyc"
  chmod 640 "$W/src/a.bin"
  py shutil <<PY
import shutil, filecmp
shutil.copytree("$W/src", "data/blobs/ct")
shutil.copytree("data/blobs/ct", "exports/ct2")
shutil.copytree("$W/src", "exports/ct2", dirs_exist_ok=True)
shutil.copytree("data/blobs/ct", "$W/back")
cmp = filecmp.dircmp("$W/src", "$W/back")
check("copytree out of the union", ([], [], []), (cmp.left_only, cmp.right_only, cmp.diff_files))
check("copytree keeps modes", 0o640, os.stat("data/blobs/ct/a.bin").st_mode & 0o777)
shutil.copy2("data/blobs/ct/sub/c.bin", "data/blobs/ct/sub/c2.tmp")
shutil.copyfile("data/blobs/ct/b.tmp", "data/blobs/ct/b.bin")
shutil.rmtree("exports/ct2")
check("rmtree", False, os.path.exists("exports/ct2"))
os.makedirs("data/blobs/rt/x/y"); put("data/blobs/rt/x/y/z.tmp", "z"); put("data/blobs/rt/x/r", "r")
shutil.rmtree(os.path.join(ROOT, "data/blobs/rt"))
check("rmtree (absolute)", False, os.path.exists("data/blobs/rt"))
PY
  expect_all <<'EOF'
    L d data/blobs/ct
    L f data/blobs/ct/b.tmp
    L f data/blobs/ct/manifest.json
    L d data/blobs/ct/sub
    L d data/blobs/ct/sub/__pycache__
    L f data/blobs/ct/sub/__pycache__/p.pyc
    L f data/blobs/ct/sub/c2.tmp
    R d data/blobs/ct
    R f data/blobs/ct/a.bin
    R f data/blobs/ct/b.bin
    R d data/blobs/ct/sub
    R f data/blobs/ct/sub/c.bin
EOF
  same_file R data/blobs/ct/sub/c.bin "$W/src/sub/c.bin"
  same_file L data/blobs/ct/sub/c2.tmp "$W/src/sub/c.bin"
  same_file R data/blobs/ct/b.bin "$W/src/b.tmp"
}

py_tempfile() {
  py tempfile <<'PY'
import tempfile
fd, name = tempfile.mkstemp(dir="data/blobs", prefix="mk-")
os.write(fd, b"mkstemp"); os.close(fd)
fd2, name2 = tempfile.mkstemp(dir="data/blobs", suffix=".tmp")
os.write(fd2, b"ignored"); os.close(fd2)
print("NAME1 " + os.path.basename(name)); print("NAME2 " + os.path.basename(name2))
check("mkstemp name is under the root", True, name.startswith(ROOT + "/data/blobs/mk-"))
check("mkstemp readable", "mkstemp", get(name))
with tempfile.NamedTemporaryFile(dir="data/blobs", prefix="ntf-", mode="w+") as f:
    f.write("named"); f.flush()
    check("NamedTemporaryFile visible by name", "named", get(f.name))
    check("NamedTemporaryFile listed", True, os.path.basename(f.name) in os.listdir("data/blobs"))
    ntf = f.name
check("NamedTemporaryFile deleted on close", False, os.path.exists(ntf))
with tempfile.NamedTemporaryFile(dir="data/blobs", delete=False, suffix=".parquet") as f:
    f.write(b"kept")
os.replace(f.name, "data/blobs/kept.parquet")
with tempfile.TemporaryDirectory(dir="data/blobs", prefix="td-") as td:
    check("TemporaryDirectory is a dir", True, os.path.isdir(td))
    put(os.path.join(td, "r.bin"), "r"); put(os.path.join(td, "l.tmp"), "l")
    os.mkdir(os.path.join(td, "sub")); put(os.path.join(td, "sub", "s"), "s")
    print("TD " + os.path.basename(td))
    check("TemporaryDirectory listing", ["l.tmp", "r.bin", "sub"], sorted(os.listdir(td)))
check("TemporaryDirectory removed", False, os.path.exists(td))
d = tempfile.mkdtemp(dir="exports")
print("MKDTEMP " + os.path.basename(d))
check("mkdtemp", True, os.path.isdir(d))
PY
  local n1 n2 md
  n1=$(sed -n 's/^NAME1 //p' <<<"$OUT"); n2=$(sed -n 's/^NAME2 //p' <<<"$OUT"); md=$(sed -n 's/^MKDTEMP //p' <<<"$OUT")
  expect_all <<EOF
    R f data/blobs/$n1
    L f data/blobs/$n2
    R f data/blobs/kept.parquet
    L d exports/$md
    R d exports/$md
EOF
  content_n R "data/blobs/$n1" mkstemp
}

py_paths() {
  mk R data/blobs/ronly/f "f"
  py paths <<'PY'
put("data/blobs/a.bin", "a")
os.symlink("a.bin", "data/blobs/s")
check("exists remote file", True, os.path.exists("data/blobs/a.bin"))
check("exists remote-only dir", True, os.path.exists("data/blobs/ronly"))
check("isdir remote-only dir", True, os.path.isdir("data/blobs/ronly"))
check("isfile in remote-only dir", True, os.path.isfile("data/blobs/ronly/f"))
check("exists missing", False, os.path.exists("data/blobs/nope"))
check("realpath remote file", ROOT + "/data/blobs/a.bin", os.path.realpath("data/blobs/a.bin"))
check("realpath symlink", ROOT + "/data/blobs/a.bin", os.path.realpath("data/blobs/s"))
check("realpath remote-only file", ROOT + "/data/blobs/ronly/f", os.path.realpath("data/blobs/ronly/f"))
check("abspath", ROOT + "/data/blobs/ronly", os.path.abspath("data/blobs/ronly"))
check("stat is a dir", True, __import__("stat").S_ISDIR(os.stat("data/blobs/ronly").st_mode))
check("samefile", True, os.path.samefile("data/blobs/ronly", "data/blobs/ronly/../ronly"))
os.makedirs("data/blobs/m1/m2/m3", exist_ok=True)
os.makedirs("data/blobs/m1/m2/m3", exist_ok=True)
os.makedirs("data/blobs/ronly", exist_ok=True)
os.makedirs("data/blobs/ronly/n1/n2", exist_ok=True)
raises("makedirs without exist_ok", FileExistsError, os.makedirs, "data/blobs/m1")
raises("mkdir of an existing remote-only dir", FileExistsError, os.mkdir, "data/blobs/ronly")
# chdir into a union dir, then relative opens
os.chdir("data/blobs/ronly")
check("getcwd", ROOT + "/data/blobs/ronly", os.getcwd())
put("new.bin", "n"); put("new.tmp", "t"); os.mkdir("sub"); put("sub/s", "s")
check("relative listdir", ["f", "n1", "new.bin", "new.tmp", "sub"], sorted(os.listdir(".")))
check("relative read up", "a", get("../a.bin"))
check("relative realpath", ROOT + "/data/blobs/ronly/sub/s", os.path.realpath("sub/s"))
os.chdir("sub")
check("getcwd deeper", ROOT + "/data/blobs/ronly/sub", os.getcwd())
check("relative read", "s", get("s"))
check("stat of . is the union dir", os.stat(ROOT + "/data/blobs/ronly/sub").st_ino, os.stat(".").st_ino)
os.chdir("../../..")
check("back at data", ROOT + "/data", os.getcwd())
check("listdir relative from data", ["blobs"], os.listdir("."))
# dir_fd calls
fd = os.open(ROOT + "/data/blobs", os.O_RDONLY | os.O_DIRECTORY)
check("open with dir_fd", "a", os.read(os.open("a.bin", os.O_RDONLY, dir_fd=fd), 10).decode())
check("stat with dir_fd", True, __import__("stat").S_ISDIR(os.stat("ronly", dir_fd=fd).st_mode))
check("listdir(fd)", True, {"a.bin", "ronly", "m1", "s"} <= set(os.listdir(fd)))
os.mkdir("viafd", dir_fd=fd)
nfd = os.open("viafd/x.bin", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd); os.write(nfd, b"fd"); os.close(nfd)
os.rename("viafd/x.bin", "viafd/y.bin", src_dir_fd=fd, dst_dir_fd=fd)
os.unlink("s", dir_fd=fd)
seen = set()
for r, ds, fs, rfd in os.fwalk(".", dir_fd=fd):
    for n in ds + fs:
        seen.add(os.path.normpath(os.path.join(r, n)))
check("fwalk with dir_fd", True, {"viafd", "viafd/y.bin", "ronly/f", "ronly/sub/s"} <= seen)
check("fwalk: unlinked name gone", False, "s" in seen)
os.close(fd)
PY
  expect_all <<'EOF'
    R f data/blobs/a.bin
    L d data/blobs/m1
    L d data/blobs/m1/m2
    L d data/blobs/m1/m2/m3
    R d data/blobs/m1
    R d data/blobs/m1/m2
    R d data/blobs/m1/m2/m3
    L d data/blobs/ronly
    L d data/blobs/ronly/n1
    L d data/blobs/ronly/n1/n2
    L f data/blobs/ronly/new.tmp
    L d data/blobs/ronly/sub
    R d data/blobs/ronly
    R f data/blobs/ronly/f
    R d data/blobs/ronly/n1
    R d data/blobs/ronly/n1/n2
    R f data/blobs/ronly/new.bin
    R d data/blobs/ronly/sub
    R f data/blobs/ronly/sub/s
    L d data/blobs/viafd
    R d data/blobs/viafd
    R f data/blobs/viafd/y.bin
EOF
}

# Python's import system caches directory listings and re-reads them when
# the directory's mtime changes: a module written into a [dirs] dir after a
# failed import must become importable, as it is without the shim.
py_import() {
  py import <<'PY'
import sys, time, importlib
os.makedirs("data/blobs/plugins/__pycache__", exist_ok=True)
sys.path.insert(0, "data/blobs/plugins")
try:
    import plug1
    check("plug1 absent at first", "ImportError", "imported")
except ImportError:
    pass
time.sleep(0.05)
put("data/blobs/plugins/plug1.py", "X = 41\n")
try:
    import plug1
    check("import of a module written after a failed import", 41, plug1.X)
except ImportError as e:
    check("import of a module written after a failed import", 41, "ImportError: %s" % e)
put("data/blobs/plugins/plug2.py", "Y = 42\n")
importlib.invalidate_caches()
import plug2
check("import after invalidate_caches", 42, plug2.Y)
PY
  [[ -d $ROOT/data/blobs/plugins/__pycache__ && ! -e $REMOTE/data/blobs/plugins/__pycache__ ]] && pass || check_fail "__pycache__ should be local only"
  eq "" "$(find "$REMOTE" -name '*.pyc')" "bytecode in REMOTE"
  content R data/blobs/plugins/plug2.py "Y = 42"
}

run_modes python py_io py_replace_rename py_listing py_scandir_inode py_shutil py_tempfile py_paths py_import
