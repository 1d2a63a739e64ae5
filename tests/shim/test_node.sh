#!/usr/bin/env bash
# Node.js (Debian's nodejs) on [dirs] paths: libuv calls statx through
# libc's syscall() and does file I/O on a thread pool; both must go through
# the shim, under fractfs-run and under a bare LD_PRELOAD.
#   BUILD=build bash tests/shim/test_node.sh
source "$(dirname "$0")/lib.sh"

NODE=$(command -v node || command -v nodejs || true)
[[ -n $NODE ]] || fail "node not installed (make deps installs Debian's nodejs)"

# node NAME RUNNER <<'JS' ... JS: a script run under the shim, cwd ROOT;
# it gets check(name, expected, actual) and prints PASS/FAIL lines. RUNNER
# is x (fractfs-run) or xp (bare LD_PRELOAD).
node_js() {
  local name=$1 runner=$2 f=$W/t_$1.js
  cat > "$f" <<'PRELUDE'
const fs = require("fs"), path = require("path"), os = require("os");
function check(name, expected, actual) {
  const e = JSON.stringify(expected), a = JSON.stringify(actual);
  console.log(e === a ? "PASS " + name : "FAIL " + name + ": expected " + e + ", got " + a);
}
function raises(name, code, fn) {
  try { fn(); } catch (e) { return check(name, code, e.code); }
  check(name, code, "nothing raised");
}
PRELUDE
  cat >> "$f"
  "$runner" "$NODE" "$f"
  [[ $ERR != *"pthread_create"* ]] && pass || check_fail "node $name: a thread could not start: $ERR"
  [[ $ERR != *"fractfs["* ]] && pass || check_fail "node $name: shim message: $ERR"
  results "node $name"
  [[ $OUT == *PASS* ]] || check_fail "node $name printed no result; stderr: $ERR"
}

# The file system calls a Node app makes, on a remote-only tree (written by
# another node) and on new files.
node_fs() {
  local runner=$1
  mk R data/blobs/mod/lib.js 'module.exports = { answer: 42 };'
  mk R data/blobs/ronly/deep/f.txt 'remote only'
  node_js "fs-$runner" "$runner" <<'JS'
check("statSync of a remote-only file", 12, fs.statSync("data/blobs/ronly/deep/f.txt").size);
check("lstatSync of a remote-only dir", true, fs.lstatSync("data/blobs/ronly").isDirectory());
check("statSync of a remote-only dir", true, fs.statSync("data/blobs/ronly/deep").isDirectory());
check("existsSync", true, fs.existsSync("data/blobs/mod/lib.js"));
check("realpathSync", path.join(process.cwd(), "data/blobs/mod/lib.js"), fs.realpathSync("data/blobs/mod/lib.js"));
check("realpathSync.native", path.join(process.cwd(), "data/blobs/mod"), fs.realpathSync.native("data/blobs/mod"));
check("require of a module in the remote tier", 42, require(path.resolve("data/blobs/mod/lib.js")).answer);
fs.mkdirSync("data/blobs/ronly/deep/made/x/y", { recursive: true });
check("mkdirSync recursive below a remote-only dir", true, fs.statSync("data/blobs/ronly/deep/made/x/y").isDirectory());
fs.writeFileSync("data/blobs/ronly/deep/made/x/y/new.bin", "new");
check("readFileSync", "new", fs.readFileSync("data/blobs/ronly/deep/made/x/y/new.bin", "utf8"));
const d = fs.mkdtempSync("data/blobs/tmp-");
fs.writeFileSync(path.join(d, "a.bin"), "a");
fs.writeFileSync(path.join(d, "manifest.json"), "{}");
check("readdirSync of mkdtemp dir", ["a.bin", "manifest.json"], fs.readdirSync(d).sort());
fs.rmSync(d, { recursive: true });
check("rmSync of mkdtemp dir", false, fs.existsSync(d));
fs.rmSync("data/blobs/ronly", { recursive: true, force: true });
check("rm recursive of a remote-only tree", false, fs.existsSync("data/blobs/ronly"));
raises("stat of what was removed", "ENOENT", () => fs.statSync("data/blobs/ronly/deep/f.txt"));
fs.renameSync("data/blobs/mod/lib.js", "data/blobs/mod/lib2.js");
check("renameSync", ["lib2.js"], fs.readdirSync("data/blobs/mod"));
fs.copyFileSync("data/blobs/mod/lib2.js", "top.js");
check("copyFileSync across tiers", fs.readFileSync("data/blobs/mod/lib2.js", "utf8"), fs.readFileSync("top.js", "utf8"));
JS
  expect_phys data/blobs <<'EOF2'
R d mod
R f mod/lib2.js
EOF2
  content L top.js 'module.exports = { answer: 42 };'
}
node_under_run() { node_fs x; }
node_under_preload() { node_fs xp; }

# Promises and callbacks run on libuv's thread pool (and a worker thread).
node_async() {
  mk R data/blobs/a/one.txt 'one'
  node_js async x <<'JS'
const fsp = require("fs/promises");
const { Worker } = require("worker_threads");
(async () => {
  const st = await fsp.stat("data/blobs/a/one.txt");
  check("fs.promises.stat", 4, st.size);
  await fsp.mkdir("data/blobs/a/b/c", { recursive: true });
  await fsp.writeFile("data/blobs/a/b/c/two.txt", "two");
  check("fs.promises.readdir", ["b", "one.txt"], (await fsp.readdir("data/blobs/a")).sort());
  const w = new Worker('const fs=require("fs"); require("worker_threads").parentPort.postMessage(fs.statSync("data/blobs/a/b/c/two.txt").size)', { eval: true });
  w.on("message", (n) => { check("stat in a worker thread", 3, n); });
  await new Promise((r) => w.on("exit", r));
  fs.stat("data/blobs/a/one.txt", (err, s) => check("callback stat", 4, err ? err.code : s.size));
})();
JS
  content_n R data/blobs/a/b/c/two.txt 'two'
  absent "$ROOT/data/blobs/a/b/c/two.txt"
}

# node must not see io_uring: the library switches libuv off it in its own
# process, also when started without fractfs-run.
node_env() {
  xp "$NODE" -e 'console.log(process.env.UV_USE_IO_URING)'
  eq 0 "$OUT" "UV_USE_IO_URING in a process started under a bare LD_PRELOAD"
}

run_modes node node_under_run node_under_preload node_async node_env
