#!/usr/bin/env bash
# SQLite under kill -9: two writers commit as fast as they can, one to a
# WAL database and one to a rollback-journal database, each logging every
# commit (with its time) to a file outside the root, while checkpoints run
# every 0.5 s. Then everything is killed with SIGKILL (the app, and
# fractfs-run or the helper: the node is lost), the node is wiped, and the
# root restored. Every trial, for each database:
#  - PRAGMA integrity_check is ok, and the data is self-consistent (a
#    counter row updated in each transaction matches the rows);
#  - the rows are commits 1..k with no gap, and k is no more than what was
#    logged (+1: a commit can land before its log line): nothing appears
#    that was never committed;
#  - nothing older than the bound is lost: every commit logged at least
#    2 x sync_interval + 2 s before the kill is there.
# Trials alternate fractfs-run and a bare LD_PRELOAD. A last run ends
# cleanly and must restore exactly what was committed.
#
#   TRIALS=20 BUILD=build bash tests/sync/test_sqlite_crash.sh
source "$(dirname "$0")/lib.sh"
if ! shim_ok; then echo "sqlite_crash: skipped (programs cannot run under the TSan-built shim)"; exit 0; fi
TRIALS=${TRIALS:-20}
INTERVAL=0.5
BOUND=$("$PY" -c "print(2 * $INTERVAL + 2)")
RANDOM=$$

cat > "$T/writer.py" <<'PY'
import os, sqlite3, sys, time
kind, log_path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
db = sqlite3.connect("state/%s.sqlite" % kind, isolation_level=None, timeout=30)
db.execute("PRAGMA journal_mode=%s" % ("wal" if kind == "wal" else "delete"))
db.execute("CREATE TABLE IF NOT EXISTS t(n INTEGER PRIMARY KEY, payload BLOB)")
db.execute("CREATE TABLE IF NOT EXISTS meta(k INTEGER PRIMARY KEY, count INTEGER, total INTEGER)")
db.execute("INSERT OR IGNORE INTO meta VALUES (1, 0, 0)")
log = open(log_path, "a", buffering=1)
n = db.execute("SELECT count FROM meta").fetchone()[0]
end = time.monotonic() + seconds
while time.monotonic() < end:
    n += 1
    rows = 40 if n % 25 == 0 else 1   # now and then a transaction of many pages
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t VALUES (?, ?)", (n, os.urandom(300 * rows)))
    db.execute("UPDATE meta SET count = count + 1, total = total + ?", (n,))
    db.execute("COMMIT")
    log.write("%d %.6f\n" % (n, time.time()))
db.close()
PY
cat > "$T/app.sh" <<'SH'
#!/bin/sh
# The app: both writers at once.
/usr/bin/python3 "$1/writer.py" wal "$2.wal" "$3" &
/usr/bin/python3 "$1/writer.py" roll "$2.roll" "$3" &
wait
SH
cat > "$T/check.py" <<'PY'
import sqlite3, sys
db_path, log_path, kill_time, bound, exact = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1"
logged = [tuple(float(x) for x in line.split()) for line in open(log_path) if line.strip()]
last = int(logged[-1][0]) if logged else 0
due = max([int(n) for n, t in logged if t <= kill_time - bound], default=0)
db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
ic = db.execute("PRAGMA integrity_check").fetchall()
if ic != [("ok",)]:
    sys.exit("integrity_check: %r" % ic[:5])
rows = [r[0] for r in db.execute("SELECT n FROM t ORDER BY n")]
count, total = db.execute("SELECT count, total FROM meta").fetchone()
k = len(rows)
problems = []
if rows != list(range(1, k + 1)): problems.append("rows are not 1..%d" % k)
if count != k or total != k * (k + 1) // 2: problems.append("meta (%d, %d) does not match %d rows" % (count, total, k))
if k > last + 1: problems.append("%d commits restored, only %d logged: something never committed" % (k, last))
if k < due: problems.append("%d commits restored, but %d were logged %.1f s or more before the kill" % (k, due, bound))
if exact and k != last: problems.append("clean exit: %d commits restored, %d logged" % (k, last))
if problems: sys.exit("; ".join(problems))
print("%d restored (logged %d, due %d)" % (k, last, due))
PY

# Everything of the app and of fractfs on this node, at once.
kill_all() {
  local helper
  helper=$(cat "$(state_dir)/holder.lock" 2>/dev/null || true)
  kill -KILL -- "-$1" 2>/dev/null || true
  [[ -n $helper ]] && kill -KILL "$helper" 2>/dev/null || true
  wait_until 20 bash -c "! kill -0 -- -$1 2>/dev/null" || check_fail "the app's processes did not die"
  [[ -z $helper ]] || wait_until 20 bash -c "! kill -0 $helper 2>/dev/null" || check_fail "the helper did not die"
}

# A node that comes back empty: the root holds only its configuration.
wipe_and_restore() {
  find "$ROOT" -mindepth 1 -maxdepth 1 ! -name .fractfs.toml -exec rm -rf {} +
  rm -rf "$SCRATCH"
  st 0 ff restore --root "$ROOT"
}

trial() {  # N MODE SECONDS KILL(1/0): killed after SECONDS, or writing for SECONDS and exiting
  local n=$1 mode=$2 secs=$3 kill=$4 pgid kill_time log=$T/log-$1
  new_root "k$n" "sync_interval = $INTERVAL"
  mkdir -p "$ROOT/state"
  rm -f "$log.wal" "$log.roll"
  local cmd=(sh "$T/app.sh" "$T" "$log" "$( ((kill)) && echo 600 || echo "$secs")")
  start_app "$mode" "$T/err-$n" "${cmd[@]}"
  pgid=$APP_PGID
  if [[ $kill == 1 ]]; then
    disown "$pgid"  # no "Killed" notice from bash
    sleep "$secs"
    kill_time=$(date +%s.%N)
    kill_all "$pgid"
  else
    wait "$pgid" || check_fail "trial $n: the app failed: $(cat "$T/err-$n")"
    wait_helper_gone
    kill_time=$(date +%s.%N)
  fi
  wipe_and_restore
  local db r
  for db in wal roll; do
    r=$("$PY" "$T/check.py" "$ROOT/state/$db.sqlite" "$log.$db" "$kill_time" "$BOUND" "$((1 - kill))" 2>&1) ||
      check_fail "trial $n ($mode, $secs s, $( ((kill)) && echo kill -9 || echo clean exit)), $db database: $r; app: $(cat "$T/err-$n")"
    pass
    results+=("$db:${r%% *}")
  done
}

results=()
for ((i = 1; i <= TRIALS; i++)); do
  mode=$( ((i % 2)) && echo run || echo preload)
  trial "$i" "$mode" "$(( 4 + RANDOM % 2 )).$(( RANDOM % 10 ))" 1
done
trial clean-run run 2 0
trial clean-preload preload 2 0
echo "commits restored per trial: ${results[*]}"
finish sqlite_crash
