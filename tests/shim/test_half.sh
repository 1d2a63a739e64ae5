#!/usr/bin/env bash
# The remote half's hooks (shim/remote_half.hpp): real programs reach each
# one at its point, only for remote-tier paths, and a hook's error reaches
# the app from the call it belongs to (close, fsync, open, exec, opendir,
# stat). The mount's half has no hooks; FRACTFS_HALF_TRACE and
# FRACTFS_HALF_FAULT put a checking half in its place.
#   BUILD=build bash tests/shim/test_half.sh
source "$(dirname "$0")/lib.sh"

hooks_reached() {
  export FRACTFS_HALF_TRACE=1 FRACTFS_LOG_FILE=$W/half.log
  sh_x 'mkdir data/blobs/d; printf hi > data/blobs/d/f; cat data/blobs/d/f >/dev/null; ls data/blobs/d >/dev/null
        mv data/blobs/d/f data/blobs/g; chmod 600 data/blobs/g
        ln -s g data/blobs/l; ln data/blobs/g data/blobs/h; rm data/blobs/h data/blobs/l
        printf "#!/bin/sh\necho ran\n" > data/blobs/s.sh; chmod +x data/blobs/s.sh; ./data/blobs/s.sh >/dev/null
        mv data/blobs/g local.txt; rmdir data/blobs/d
        printf m > data/blobs/manifest.json; cat local.txt data/blobs/manifest.json >/dev/null'
  x python3 -c '
import os
fd = os.open("data/blobs/p", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"pq"); os.fsync(fd); os.close(fd)
os.truncate("data/blobs/p", 1)'
  # The last close of a file is the one that stores it: not a dup's, not
  # another descriptor's on the same file; and what is open at exit is
  # stored then (exit() flushes the streams first; _exit does not).
  x python3 -c '
import os
a = os.open("data/blobs/dup", os.O_WRONLY | os.O_CREAT, 0o644)
b = os.dup(a)
c = os.open("data/blobs/dup", os.O_WRONLY)
os.close(a); os.close(c)
print("after two closes:", open(os.environ["FRACTFS_LOG_FILE"]).read().count("written \x27data/blobs/dup\x27"))
os.write(b, b"d"); os.close(b)'
  eq "after two closes: 0" "$OUT" "no written before the last close"
  x python3 -c '
import os
fd = os.open("data/blobs/left", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"l"); os.dup(fd)
os._exit(0)'
  x sh -c 'exec 3>data/blobs/sh3; echo s >&3'
  unset FRACTFS_HALF_TRACE FRACTFS_LOG_FILE
  local log
  log=$(grep -o "half: .*" "$W/half.log")
  local want
  for want in "lookup 'data/blobs'" "changed made 'data/blobs/d'" "open w 'data/blobs/d/f'" \
    "written 'data/blobs/d/f'" "open r 'data/blobs/d/f'" "lookup 'data/blobs/d'" \
    "changed renamed 'data/blobs/d/f' -> 'data/blobs/g'" "changed attrs 'data/blobs/g'" \
    "changed content 'data/blobs/p'" "changed made 'data/blobs/l'" "changed made 'data/blobs/h'" \
    "changed removed 'data/blobs/h'" "changed removed 'data/blobs/l'" "open r 'data/blobs/s.sh'" \
    "changed removed 'data/blobs/g'" "changed removed 'data/blobs/d'" "written 'data/blobs/p'" "open w 'data/blobs/p'"; do
    contains "$log" "half: $want" "hook"
  done
  # A file fsynced then closed is the half's to store at both.
  eq 2 "$(grep -c "half: written 'data/blobs/p'" <<<"$log")" "written at fsync and at close"
  local f
  for f in dup left sh3; do
    eq 1 "$(grep -c "half: written 'data/blobs/$f'" <<<"$log")" "written once for $f"
  done

  # Local tiers, inside a [dirs] tree or not, never reach the half.
  not_contains "$log" "manifest.json" "a local pattern inside [dirs]"
  not_contains "$log" "local.txt" "a local file"
  expect_phys data/blobs <<'E'
    L f manifest.json
    R f s.sh
    R f p
    R f dup
    R f left
    R f sh3
E
  eq "p" "$(cat "$REMOTE/data/blobs/p")" "the bytes on the mount"
}

# FRACTFS_HALF_FAULT=HOOKS: those hooks fail with EIO.
fault() { FRACTFS_HALF_FAULT=$1 "${@:2}"; }

hook_errors() {
  sh_x 'mkdir data/blobs/d; printf hi > data/blobs/f; printf "#!/bin/sh\n" > data/blobs/s.sh; chmod +x data/blobs/s.sh'
  # An upload that fails is the close's error (and fsync's), as on NFS.
  fault written xs 1 cp data/blobs/f data/blobs/g
  contains "$ERR" "Input/output error" "cp reports the close"
  fault written x python3 -c '
import errno, os
fd = os.open("data/blobs/h", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"h")
for call in (os.fsync, os.close):
    try: call(fd); print("ok")
    except OSError as e: print(errno.errorcode[e.errno])
try: os.close(fd)
except OSError as e: print("closed", errno.errorcode[e.errno])'
  eq $'EIO\nEIO\nclosed EBADF' "$OUT" "fsync and close fail; the descriptor is closed all the same"
  eq "h" "$(cat "$REMOTE/data/blobs/h")" "what was written is on the mount"
  # Content that cannot be made present: open and exec fail.
  fault open xs 1 cat data/blobs/f
  contains "$ERR" "Input/output error" "cat"
  fault open xs 126 sh -c ./data/blobs/s.sh
  # A directory whose listing cannot be known: lookups in it and its listing fail.
  fault lookup xs 2 ls data/blobs/d
  contains "$ERR" "Input/output error" "ls"
  fault lookup xs 1 stat data/blobs/f
  contains "$ERR" "Input/output error" "stat"
  # Local tiers do not depend on the remote half.
  fault lookup,open,written x sh -ec 'printf y > data/blobs/manifest.json; cat data/blobs/manifest.json; printf z > top.txt; cat top.txt'
  eq "yz" "$OUT" "local tiers"
}

run_modes half hooks_reached hook_errors
