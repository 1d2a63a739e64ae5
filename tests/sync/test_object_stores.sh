#!/usr/bin/env bash
# Apps on an object store: the same node-wipe scenarios as on a mount, on
# Ceph RGW (S3) and nginx (WebDAV), with every store request made by
# fractfs-run or the helper process, none in the app. For each backend:
#  - fractfs-run and a bare LD_PRELOAD: files written, renamed and deleted,
#    a SQLite database; node wiped; restored before the app's main;
#  - no network library in the app's processes; one helper per root with
#    several processes of the app;
#  - a SQLite writer killed with -9 (app and helper): restores consistent;
#  - the store gone mid-run (every request dropped by a proxy): the app
#    goes on, and the final checkpoint lands once the store is back;
#  - the store hanging at exit: fractfs-run ends within exit_timeout, exit
#    75, and `fractfs sync` saves the rest later;
#  - two nodes: the second is refused while the first renews the lease,
#    takes it with --take-over; the first then exits 75;
#  - a store that refuses at start (wrong secret, missing bucket, nothing
#    listening): the app is not started, the reason is named.
# Everything is checked without the shim, by restoring into a wiped root.
#
#   CRASH_TRIALS=2 BUILD=build bash tests/sync/test_object_stores.sh
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../store/servers.sh"
if ! shim_ok; then echo "object_stores: skipped (programs cannot run under the TSan-built shim)"; exit 0; fi

export AWS_EC2_METADATA_DISABLED=true HOME=$T/home
unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_REGION \
  AWS_DEFAULT_REGION AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_SESSION_TOKEN \
  AWS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE
export AWS_ACCESS_KEY_ID=ACCESS AWS_SECRET_ACCESS_KEY=SECRET
mkdir -p "$HOME"
RGW=$T/rgw NGINX=$T/nginx PYD=$T/py BUCKET=fractfs-apps
mkdir -p "$PYD"
stop_servers() { stop_py "$PYD" proxy-s3; stop_py "$PYD" proxy-dav; stop_nginx "$NGINX"; stop_rgw "$RGW"; }
trap 'stop_servers; cleanup' EXIT

start_rgw "$RGW" || check_fail "Ceph RGW did not start (is 'make deps' done?)"
make_bucket "$BUCKET" || check_fail "cannot create the bucket on RGW"
start_nginx "$NGINX" || check_fail "nginx did not start (is 'make deps' done?)"
start_py "$PYD" proxy-s3 "$REPO/tests/store/fault_proxy.py" "$RGW_PORT" "$PYD/proxy-s3.port" || check_fail "proxy"
start_py "$PYD" proxy-dav "$REPO/tests/store/fault_proxy.py" "$DAV_PORT" "$PYD/proxy-dav.port" || check_fail "proxy"
echo "servers up after $SECONDS s"

# px BACKEND: the name of its proxy.
px() { [[ $1 == s3 ]] && echo s3 || echo dav; }
# fault BACKEND QUERY: queue a fault in BACKEND's proxy ("clear" forgets them).
fault() {
  local control
  read -r _ control <"$PYD/proxy-$(px "$1").port"
  if [[ $2 == clear ]]; then "${nosan[@]}" curl -sf "http://127.0.0.1:$control/clear" >/dev/null
  else "${nosan[@]}" curl -sf "http://127.0.0.1:$control/fault?$2" >/dev/null; fi || check_fail "fault proxy: $2"
}

# obj_root NAME BACKEND [LINES]: new_root, with the store reached through
# BACKEND's fault proxy (no fault queued: it forwards).
obj_root() {
  local name=$1 b=$2 data
  new_root "$name" "${3:-}"
  read -r data _ <"$PYD/proxy-$(px "$b").port"
  local remote
  if [[ $b == s3 ]]; then remote="s3://$BUCKET/$name"; else remote="http://127.0.0.1:$data/dav/$name/"; fi
  sed -i "s|^remote_root = .*|backend = \"$b\"\nremote_root = \"$remote\"|" "$ROOT/.fractfs.toml"
  export FRACTFS_S3_ENDPOINT=http://127.0.0.1:$(read -r d _ <"$PYD/proxy-s3.port"; echo "$d")
}

# tree DIR: what the app wrote, as sorted "sha256  path" lines (not the config).
tree() { (cd "$1" && find . -path ./.fractfs.toml -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum); }
wipe() { find "$ROOT" -mindepth 1 -maxdepth 1 ! -name .fractfs.toml -exec rm -rf {} +; rm -rf "$SCRATCH"; }

cat >"$T/work.sh" <<'SH'
# The app: files written, renamed, deleted; a SQLite database in WAL mode.
set -e
mkdir -p state/logs cache
for i in 1 2 3 4 5; do head -c $((i * 3000)) /dev/urandom >state/f$i; done
echo draft >state/tmp && mv state/tmp state/final
echo gone >state/gone && rm state/gone
head -c 3000000 /dev/urandom >state/big.bin
python3 - <<'PY'
import sqlite3
db = sqlite3.connect("state/app.sqlite", isolation_level=None)
db.execute("PRAGMA journal_mode=wal")
db.execute("CREATE TABLE IF NOT EXISTS t(n INTEGER PRIMARY KEY, v TEXT)")
for i in range(200): db.execute("INSERT INTO t(v) VALUES (?)", ("row %d" % i,))
PY
# Network libraries in this process? (none may be loaded into the app)
grep -cE 'libcurl|libssl|libcrypto' /proc/$$/maps >state/logs/netlibs || true
SH

# ---------------------------------------------------------------- node wipe

wipe_case() {  # BACKEND MODE(run|preload)
  local b=$1 mode=$2 want got
  obj_root "wipe-$b-$mode" "$b" "sync_interval = 0.5"
  if [[ $mode == run ]]; then app "$ROOT" bash "$T/work.sh"; else preload "$ROOT" bash "$T/work.sh"; fi
  eq 0 "$(cat "$ROOT/state/logs/netlibs")" "$b/$mode: network libraries loaded into the app"
  want=$(tree "$ROOT")
  wait_helper_gone
  wipe
  # Restored before main: the app's first read sees its files.
  if [[ $mode == run ]]; then app "$ROOT" cat state/final; else preload "$ROOT" cat state/final; fi
  eq draft "$OUT" "$b/$mode: the first read after a wipe"
  got=$(tree "$ROOT")
  eq "$want" "$got" "$b/$mode: the restored tree"
  eq ok "$(python3 -c "import sqlite3; print(sqlite3.connect('$ROOT/state/app.sqlite').execute('PRAGMA integrity_check').fetchone()[0])")" \
    "$b/$mode: integrity of the restored database"
  echo "$b/$mode: node wipe restored $(wc -l <<<"$got") files"
}

# ---------------------------------------------------------------- processes

multiproc_case() {  # BACKEND: four processes of one app, one helper
  local b=$1 helpers
  obj_root "multi-$b" "$b" "sync_interval = 0.3"
  (cd "$ROOT" && LD_PRELOAD="$PRELOAD_FIRST$SHIMLIB" FRACTFS_ROOT=$ROOT COUNT=$T/helpers bash -c '
    for p in 1 2 3 4; do
      ( for i in $(seq 1 30); do echo "$p $i" >>"out$p.txt"; sleep 0.02; done ) &
    done
    sleep 0.3
    # (not pgrep: procps deadlocks with the ASan runtime preloaded)
    for h in /proc/[0-9]*; do
      [[ $(cat $h/comm 2>/dev/null) == fractfs ]] && grep -qzx "FRACTFS_ROOT=$FRACTFS_ROOT" $h/environ 2>/dev/null && echo $h
    done | wc -l >"$COUNT"
    wait') || check_fail "$b: the app failed"
  helpers=$(cat "$T/helpers")
  eq 1 "$helpers" "$b: helper processes for one root with four app processes"
  wait_helper_gone
  local want
  want=$(tree "$ROOT")
  wipe
  st 0 ff restore --root "$ROOT"
  eq "$want" "$(tree "$ROOT")" "$b: four processes' writes, restored"
}

# ---------------------------------------------------------------- kill -9

cat >"$T/writer.py" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect("db.sqlite", isolation_level=None, timeout=30)
db.execute("PRAGMA journal_mode=wal")
db.execute("CREATE TABLE IF NOT EXISTS t(n INTEGER PRIMARY KEY, v BLOB)")
log = open(sys.argv[1], "a", buffering=1)
n = 0
while True:
    n += 1
    db.execute("INSERT INTO t VALUES (?, randomblob(200))", (n,))
    log.write("%d %.6f\n" % (n, time.time()))
PY

crash_case() {  # BACKEND TRIAL
  local b=$1 n=$2 pg helper kill_time due k ic
  obj_root "crash-$b-$n" "$b" "sync_interval = 0.5"
  (cd "$ROOT" && exec setsid "$BIN/fractfs-run" --root "$ROOT" -- python3 "$T/writer.py" "$T/log-$b-$n") 2>/dev/null &
  pg=$!
  bg_track "$pg"
  disown "$pg"
  sleep 4.$((RANDOM % 10))
  kill_time=$(date +%s.%N)
  kill -KILL -- "-$pg" 2>/dev/null || true
  wait_until 20 bash -c "! kill -0 -- -$pg 2>/dev/null" || check_fail "$b: the app did not die"
  wipe
  st 0 ff restore --root "$ROOT"
  due=$(awk -v t="$kill_time" '$2 <= t - 3 { n = $1 } END { print n + 0 }' "$T/log-$b-$n")
  ic=$(python3 -c "import sqlite3; d = sqlite3.connect('$ROOT/db.sqlite'); print(d.execute('PRAGMA integrity_check').fetchone()[0], d.execute('SELECT count(*), coalesce(max(n), 0) FROM t').fetchone())")
  [[ $ic =~ ^ok\ \(([0-9]+),\ ([0-9]+)\)$ ]] || check_fail "$b trial $n: restored database: $ic"
  k=${BASH_REMATCH[1]}
  eq "$k" "${BASH_REMATCH[2]}" "$b trial $n: rows 1..k"
  ((k >= due)) || check_fail "$b trial $n: $k commits restored, $due were logged 3 s before the kill"
  pass
  echo "$b kill -9 trial $n: $k commits restored ($due due)"
}

# ---------------------------------------------------------------- outages

# ask URL-PATH PORT: a GET to the fault proxy's control port from inside the
# app, in bash alone (curl hangs with the ASan runtime preloaded).
cat >"$T/ask.sh" <<'SH'
exec 3<>"/dev/tcp/127.0.0.1/$2" && printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3 && cat <&3 >/dev/null
SH

outage_case() {  # BACKEND: every request dropped for a while, mid-run
  local b=$1 rc=0 control
  obj_root "outage-$b" "$b" "sync_interval = 0.3"
  read -r _ control <"$PYD/proxy-$(px "$b").port"
  (cd "$ROOT" && "$BIN/fractfs-run" --root "$ROOT" -- bash -c '
    echo before >f; sleep 1
    bash "$0" "/fault?kind=drop&count=100000" "$1"; echo during >f; sleep 2
    bash "$0" /clear "$1"; echo after >f; sleep 0.5' "$T/ask.sh" "$control") 2>"$T/outage.err" || rc=$?
  eq 0 "$rc" "$b: fractfs-run through an outage (stderr: $(cat "$T/outage.err"))"
  local stats
  stats=$("${nosan[@]}" curl -sf "http://127.0.0.1:$control/stats") || check_fail "fault proxy stats"
  [[ $stats =~ \"faults\":\ ([0-9]+) ]] && ((BASH_REMATCH[1] > 0)) || check_fail "$b: no request was dropped: $stats"
  pass
  wipe
  st 0 ff restore --root "$ROOT"
  eq after "$(cat "$ROOT/f")" "$b: the last write, after the store came back"
}

exit_bound_case() {  # BACKEND: the store hangs at exit
  local b=$1 rc=0 start took
  obj_root "hang-$b" "$b" "sync_interval = 0
exit_timeout = 3"
  app "$ROOT" true  # the first start (restore, bundle) with the store answering
  fault "$b" "kind=hang&count=100000"
  start=$(date +%s.%N)
  (cd "$ROOT" && "$BIN/fractfs-run" --root "$ROOT" -- sh -c 'echo unsaved >f') 2>"$T/hang.err" || rc=$?
  took=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
  fault "$b" clear
  eq 75 "$rc" "$b: fractfs-run's status when the final checkpoint cannot finish"
  contains "$(cat "$T/hang.err")" "did not finish within exit_timeout (3 s)" "$b: what fractfs-run says"
  python3 -c "import sys; sys.exit(0 if $took < 20 else 1)" || check_fail "$b: fractfs-run took $took s with exit_timeout = 3"
  pass
  st 0 ff sync --root "$ROOT"
  wipe
  st 0 ff restore --root "$ROOT"
  eq unsaved "$(cat "$ROOT/f")" "$b: 'fractfs sync' saved what the exit could not"
  echo "$b: exit with a hung store took $took s"
}

# ---------------------------------------------------------------- the lease

lease_case() {  # BACKEND: two nodes on one remote root
  local b=$1 rc=0 a_root
  obj_root "lease-$b" "$b" "sync_interval = 1
lease_seconds = 3"
  a_root=$ROOT
  (cd "$a_root" && FRACTFS_NODE_ID=a exec setsid "$BIN/fractfs-run" --root "$a_root" -- \
    bash -c 'echo up > up; while [[ ! -e stop ]]; do sleep 0.2; done') 2>"$T/lease-a.err" &
  local apid=$!
  bg_track "$apid"
  wait_until 30 test -e "$a_root/up" || check_fail "$b: node a did not start: $(cat "$T/lease-a.err")"
  mkdir -p "$T/lease-$b-b"
  sed "s|^scratch = .*|scratch = \"$T/lease-$b-b-scratch\"|" "$a_root/.fractfs.toml" > "$T/lease-$b-b/.fractfs.toml"
  (cd "$T/lease-$b-b" && FRACTFS_NODE_ID=b "$BIN/fractfs-run" --root "$T/lease-$b-b" -- touch started) \
    >"$T/lease-b.out" 2>&1 || rc=$?
  eq 1 "$rc" "$b: a second node while the first renews the lease: status"
  contains "$(cat "$T/lease-b.out")" "node 'a'" "$b: the second node is told who holds the lease"
  absent "$T/lease-$b-b/started"
  rc=0
  (cd "$T/lease-$b-b" && FRACTFS_NODE_ID=b "$BIN/fractfs-run" --root "$T/lease-$b-b" --take-over -- \
    sh -c 'echo b > from-b') >"$T/lease-b.out" 2>&1 || rc=$?
  eq 0 "$rc" "$b: --take-over: status ($(cat "$T/lease-b.out"))"
  wait_until 30 grep -q "took the lease over" "$T/lease-a.err" || check_fail "$b: node a did not notice"
  touch "$a_root/stop"
  rc=0
  wait "$apid" || rc=$?
  eq 75 "$rc" "$b: the node that lost the lease: status"
}

# ---------------------------------------------------------------- refusals

refusal_case() {  # WHAT EXPECTED-TEXT ENV...: the app must not start
  local what=$1 text=$2; shift 2
  local rc=0
  obj_root "refuse-$RANDOM" s3
  (cd "$ROOT" && env "$@" "$BIN/fractfs-run" --root "$ROOT" -- touch started) >"$T/refuse.out" 2>&1 || rc=$?
  eq 1 "$rc" "$what: fractfs-run's status"
  contains "$(cat "$T/refuse.out")" "$text" "$what: the reason"
  absent "$ROOT/started"
  rc=0
  (cd "$ROOT" && env "$@" LD_PRELOAD="$PRELOAD_FIRST$SHIMLIB" FRACTFS_ROOT=$ROOT touch started) >"$T/refuse.out" 2>&1 || rc=$?
  eq 1 "$rc" "$what: the app's status under LD_PRELOAD"
  contains "$(cat "$T/refuse.out")" "$text" "$what: the reason, under LD_PRELOAD"
  absent "$ROOT/started"
}

# The sanitizer builds run a fast subset (the same code paths, on S3 only).
backends=(s3 webdav)
[[ -n ${SAN:-} ]] && backends=(s3) && : "${CRASH_TRIALS:=1}"
for b in "${backends[@]}"; do
  wipe_case "$b" run
  wipe_case "$b" preload
  multiproc_case "$b"
  for ((n = 1; n <= ${CRASH_TRIALS:-2}; n++)); do crash_case "$b" "$n"; done
  outage_case "$b"
  exit_bound_case "$b"
  lease_case "$b"
done
refusal_case "wrong secret" "signature mismatch" AWS_SECRET_ACCESS_KEY=WRONG
refusal_case "missing bucket" "bucket 'no-such-bucket' does not exist" FRACTFS_REMOTE_ROOT=s3://no-such-bucket/x
refusal_case "nothing listening" "cannot reach http://127.0.0.1:9" FRACTFS_S3_ENDPOINT=http://127.0.0.1:9
finish object_stores
