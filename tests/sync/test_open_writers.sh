#!/usr/bin/env bash
# A file written through a descriptor that stays open writes nothing to the
# journal after its open: it must be looked at by every checkpoint until
# its last writer (in any process) has closed it or is gone. Each scenario
# writes for a while, logging each write with its time outside the root,
# then everything is killed with SIGKILL, the node wiped and the root
# restored: nothing logged more than 2 x sync_interval + 2 s before the
# kill may be missing.
#  - a log appended through one descriptor kept open (bare LD_PRELOAD);
#  - a SQLite database with two connections in one process, one of them
#    closed early: the close of one descriptor does not end the watch
#    while the process still writes through the other (fractfs-run);
#  - a file opened by a parent that forks a child which keeps writing
#    through the inherited descriptor after the parent closed its own;
#  - writers that end without a close the shim sees (a redirection made
#    before exec, a shell's descriptor open at its exit): what they wrote
#    after a checkpoint's last look is in the exit checkpoint.
source "$(dirname "$0")/lib.sh"
if ! shim_ok; then echo "open_writers: skipped (programs cannot run under the TSan-built shim)"; exit 0; fi
INTERVAL=0.2
BOUND=$("$PY" -c "print(2 * $INTERVAL + 2)")
RUN_FOR=6   # well past what 12 checkpoints (an old watch limit) would cover

cat > "$T/app.py" <<'PY'
import os, sqlite3, sys, time
kind, log_path = sys.argv[1], sys.argv[2]
log = open(log_path, "a", buffering=1)
os.makedirs("state", exist_ok=True)
n = 0
def logged():
    log.write("%d %.6f\n" % (n, time.time()))
if kind == "append":
    f = open("state/events.log", "a", buffering=1)
    while True:
        n += 1
        f.write("event %d\n" % n)
        logged()
        time.sleep(0.05)
elif kind == "sqlite":
    a = sqlite3.connect("state/db.sqlite", isolation_level=None)
    a.execute("CREATE TABLE IF NOT EXISTS t(n INTEGER PRIMARY KEY)")
    b = sqlite3.connect("state/db.sqlite", isolation_level=None)
    start = time.monotonic()
    while True:
        n += 1
        b.execute("INSERT INTO t VALUES (?)", (n,))
        logged()
        if a is not None and time.monotonic() - start > 1:
            a.close()   # one descriptor of the process closes; it still writes through b's
            a = None
        time.sleep(0.02)
elif kind == "fork":
    f = open("state/child.log", "a", buffering=1)
    if os.fork() == 0:
        time.sleep(0.5)
        while True:
            n += 1
            f.write("child %d\n" % n)
            logged()
            time.sleep(0.05)
    time.sleep(0.3)
    f.close()           # the parent's copy: the child keeps writing through its own
    os.wait()
PY
cat > "$T/check.py" <<'PY'
import re, sqlite3, sys
kind, path, log_path, kill_time, bound = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
logged = [tuple(float(x) for x in l.split()) for l in open(log_path) if l.strip()]
due = max([int(n) for n, t in logged if t <= kill_time - bound], default=0)
if kind == "sqlite":
    have = sqlite3.connect("file:%s?mode=ro" % path, uri=True).execute("SELECT max(n) FROM t").fetchone()[0] or 0
else:
    nums = [int(m) for m in re.findall(r"(\d+)\n", open(path).read())]
    have = max(nums, default=0)
if have < due:
    sys.exit("restored up to %d, but %d was logged %.1f s or more before the kill (%d logged)" % (have, due, bound, len(logged)))
print("restored up to %d (due %d, logged %d)" % (have, due, len(logged)))
PY

scenario() {  # NAME MODE FILE
  local name=$1 mode=$2 file=$3 pgid kill_time helper log=$T/log-$1
  # No reconcile walks: only the watch on open files can see these writes.
  new_root "ow-$name" "sync_interval = $INTERVAL"$'\n'"reconcile_every = 0"
  local cmd=("$PY" "$T/app.py" "$name" "$log")
  start_app "$mode" "$T/err-$name" "${cmd[@]}"
  pgid=$APP_PGID
  disown "$pgid"
  sleep "$RUN_FOR"
  kill_time=$(date +%s.%N)
  helper=$(cat "$(state_dir)/holder.lock" 2>/dev/null || true)
  kill -KILL -- "-$pgid" 2>/dev/null || true
  [[ -z $helper ]] || kill -KILL "$helper" 2>/dev/null || true
  wait_until 20 bash -c "! kill -0 -- -$pgid 2>/dev/null" || check_fail "$name: the app did not die"
  find "$ROOT" -mindepth 1 -maxdepth 1 ! -name .fractfs.toml -exec rm -rf {} +
  rm -rf "$SCRATCH"
  st 0 ff restore --root "$ROOT"
  local r
  r=$("$PY" "$T/check.py" "$name" "$ROOT/$file" "$log" "$kill_time" "$BOUND" 2>&1) ||
    check_fail "$name ($mode): $r; app: $(cat "$T/err-$name")"
  pass
  echo "$name: $r"
}

# exit_case MODE: the app exits normally; nothing written may be missing.
exit_case() {
  local mode=$1 f
  new_root "ow-exit-$mode" "sync_interval = $INTERVAL"$'\n'"reconcile_every = 0"
  local script='mkdir -p state; exec 3>state/kept.log; echo start >&3
    sh -c "echo start; sleep 1; echo end" >state/exec.log
    echo end >&3'
  if [[ $mode == run ]]; then app "$ROOT" bash -c "$script"; else preload "$ROOT" bash -c "$script"; fi
  wait_helper_gone
  find "$ROOT" -mindepth 1 -maxdepth 1 ! -name .fractfs.toml -exec rm -rf {} +
  rm -rf "$SCRATCH"
  st 0 ff restore --root "$ROOT"
  for f in kept exec; do eq $'start\nend' "$(cat "$ROOT/state/$f.log")" "exit ($mode): state/$f.log restored"; done
}
exit_case run
exit_case preload

scenario append preload state/events.log
scenario sqlite run state/db.sqlite
scenario fork preload state/child.log
finish open_writers
