#!/usr/bin/env bash
# Checkpoints never break the app's locks. POSIX (fcntl) locks belong to a
# process, and closing any descriptor of that process on the file drops
# them all: a checkpoint that read the app's files from inside the app
# would hand a second writer the lock. Here a process of the app holds a
# lock for 6 s while checkpoints run every second (and read the file),
# and a process outside the app must be refused the lock all along:
#  - SQLite in WAL and in rollback-journal mode: BEGIN IMMEDIATE held;
#    another sqlite3 connection's BEGIN IMMEDIATE must fail, "locked";
#  - a plain fcntl lock on a file the app keeps writing;
# each under a bare LD_PRELOAD and under fractfs-run.
source "$(dirname "$0")/lib.sh"
if ! shim_ok; then echo "locks: skipped (programs cannot run under the TSan-built shim)"; exit 0; fi

HOLD=6
cat > "$T/holder.py" <<'PY'
import fcntl, os, sqlite3, sys, time
kind, ready, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
if kind == "fcntl":
    f = open("state/lock.dat", "r+b", buffering=0)
    fcntl.lockf(f, fcntl.LOCK_EX)
    open(ready, "w").close()
    end = time.monotonic() + hold
    i = 0
    while time.monotonic() < end:   # changes under the lock: each checkpoint reads the file
        i += 1
        f.seek(0)
        f.write(b"version %d\n" % i)
        time.sleep(0.2)
    fcntl.lockf(f, fcntl.LOCK_UN)
else:
    db = sqlite3.connect("state/app.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=%s" % ("wal" if kind == "wal" else "delete"))
    db.execute("CREATE TABLE IF NOT EXISTS t(n INTEGER PRIMARY KEY, v TEXT)")
    for i in range(50):
        db.execute("INSERT INTO t(v) VALUES (?)", ("row %d" % i,))
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t(v) VALUES ('held')")
    open(ready, "w").close()
    time.sleep(hold)
    db.execute("COMMIT")
    db.close()
PY
cat > "$T/probe.py" <<'PY'
import fcntl, sys
f = open(sys.argv[1], "r+b")
try:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    print("refused")
    sys.exit(0)
print("GRANTED")
PY

last_checkpoint() { ff status --root "$ROOT" --json > "$T/st.json" 2>/dev/null && h json-field "$T/st.json" last_checkpoint; }

# probe KIND: can a process outside the app take the lock now?
probe() {
  case $1 in
    fcntl) "$PY" "$T/probe.py" "$ROOT/state/lock.dat" ;;
    *) if out=$(sqlite3 -cmd ".timeout 0" "$ROOT/state/app.sqlite" "BEGIN IMMEDIATE; ROLLBACK;" 2>&1); then
         echo "GRANTED"
       else
         [[ $out == *locked* || $out == *busy* ]] && echo "refused" || echo "error: $out"
       fi ;;
  esac
}

run_case() {  # MODE KIND
  local mode=$1 kind=$2 ready=$T/ready-$1-$2 pid t0 t seen=()
  new_root "locks-$mode-$kind" 'sync_interval = 1'
  mkdir -p "$ROOT/state"
  printf 'version 0\n' > "$ROOT/state/lock.dat"
  rm -f "$ready"
  if [[ $mode == run ]]; then
    (cd "$ROOT" && exec "$BIN/fractfs-run" --root "$ROOT" -- "$PY" "$T/holder.py" "$kind" "$ready" "$HOLD") 2>"$T/err-$mode-$kind" &
  else
    (cd "$ROOT" && LD_PRELOAD="$PRELOAD_FIRST$SHIMLIB" FRACTFS_ROOT=$ROOT exec "$PY" "$T/holder.py" "$kind" "$ready" "$HOLD") 2>"$T/err-$mode-$kind" &
  fi
  pid=$!
  bg_track "$pid"
  wait_until 30 test -e "$ready" || check_fail "$mode/$kind: the app did not take its lock: $(cat "$T/err-$mode-$kind")"
  t0=$SECONDS
  local first_cp; first_cp=$(last_checkpoint)
  for t in 1.5 1.5 1.5 1; do
    sleep "$t"
    seen+=("$(probe "$kind")")
  done
  eq "refused refused refused refused" "${seen[*]}" "$mode/$kind: a second writer while the app holds its lock"
  ok "$mode/$kind: checkpoints ran while the lock was held ($first_cp, then $(last_checkpoint))" test "$(last_checkpoint)" != "$first_cp"
  wait "$pid" || check_fail "$mode/$kind: the app failed: $(cat "$T/err-$mode-$kind")"
  eq "GRANTED" "$(probe "$kind")" "$mode/$kind: the lock once the app let go"
  not_contains "$(cat "$T/err-$mode-$kind")" "rror" "$mode/$kind: messages"
}

for mode in preload run; do
  for kind in wal rollback fcntl; do run_case "$mode" "$kind"; done
done
finish locks
