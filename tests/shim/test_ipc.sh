#!/usr/bin/env bash
# Unix domain sockets bound in a [dirs] directory (node-local by nature:
# they live in its local half) and inotify watches on [dirs] paths.
#   BUILD=build bash tests/shim/test_ipc.sh
source "$(dirname "$0")/lib.sh"

unix_sockets() {
  mkd R data/blobs/ronly/x
  x "$PY" -c '
import os, socket, stat
os.makedirs("data/blobs/run")
out = []
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    p = "data/blobs/run/s%d.sock" % kind
    srv = socket.socket(socket.AF_UNIX, kind); srv.bind(p)
    if kind == socket.SOCK_STREAM:
        srv.listen(1)
        c = socket.socket(socket.AF_UNIX, kind); c.connect(p); c.sendall(b"hi")
        conn, _ = srv.accept(); out.append(conn.recv(2)); conn.close(); c.close()
    else:
        c = socket.socket(socket.AF_UNIX, kind); c.sendto(b"dg", p); out.append(srv.recv(2)); c.close()
    out.append(stat.S_ISSOCK(os.stat(p).st_mode))
    out.append(stat.S_ISSOCK(os.lstat(os.path.abspath(p)).st_mode))
    out.append(os.path.exists(p))
    srv.close()
out.append(sorted(os.listdir("data/blobs/run")))
# a socket below a directory that only the remote half has
s = socket.socket(socket.AF_UNIX); s.bind("data/blobs/ronly/x/deep.sock"); s.close()
out.append(sorted(os.listdir("data/blobs/ronly/x")))
os.unlink("data/blobs/ronly/x/deep.sock")
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    os.unlink("data/blobs/run/s%d.sock" % kind)
out.append(os.listdir("data/blobs/run"))
os.rmdir("data/blobs/run")
os.rmdir("data/blobs/ronly/x"); os.rmdir("data/blobs/ronly")
out.append(os.path.exists("data/blobs/run"))
print(out)'
  eq "[b'hi', True, True, True, b'dg', True, True, True, ['s1.sock', 's2.sock'], ['deep.sock'], [], False]" "$OUT" "sockets in a union directory"
  absent "$ROOT/data/blobs/run" "$REMOTE/data/blobs/run" "$ROOT/data/blobs/ronly" "$REMOTE/data/blobs/ronly"
  # A socket in a local half is not adopted into the remote store at start.
  x "$PY" -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("data/blobs/kept.sock")'
  x true
  [[ -S $ROOT/data/blobs/kept.sock && ! -e $REMOTE/data/blobs/kept.sock ]] && pass || check_fail "the socket stays in the local half"
  x ls data/blobs
  eq kept.sock "$OUT" "ls lists the socket"
  x rm data/blobs/kept.sock
  absent "$ROOT/data/blobs/kept.sock"
}

# A watch on a [dirs] directory reports what happens in its remote half,
# where the files of its tier live (a watch on one of its files too).
inotify_watch() {
  command -v inotifywait >/dev/null || { check_fail "inotifywait not installed (make deps)"; return; }
  mk R data/blobs/w/old.bin old
  x sh -c '
    inotifywait -q -t 20 -e create,modify --format "%e %f" data/blobs/w > "$0.events" 2>&1 & pid=$!
    inotifywait -q -t 20 -e modify --format "%e" data/blobs/w/old.bin > "$0.file" 2>&1 & pid2=$!
    sleep 1
    echo new > data/blobs/w/new.bin
    echo more >> data/blobs/w/old.bin
    wait $pid $pid2
    cat "$0.events" "$0.file"' "$W/watch"
  contains "$OUT" "CREATE new.bin" "inotifywait on a union directory sees a file created in the remote tier"
  contains "$OUT" "MODIFY" "inotifywait on a file of the remote tier"
  # Node's fs.watch (libuv, inotify through libc).
  local node
  node=$(command -v node || true)
  if [[ -n $node ]]; then
    x "$node" -e '
const fs = require("fs");
const w = fs.watch("data/blobs/w", (ev, name) => { if (name === "n.bin") { console.log(ev, name); process.exit(0); } });
setTimeout(() => fs.writeFileSync("data/blobs/w/n.bin", "n"), 200);
setTimeout(() => { console.log("timeout"); process.exit(1); }, 15000);'
    contains "$OUT" "rename n.bin" "fs.watch on a union directory"
  fi
}

run_modes ipc unix_sockets inotify_watch
