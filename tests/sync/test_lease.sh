#!/usr/bin/env bash
# The node lease: two nodes on one remote root (mount backend; the S3 and
# WebDAV swaps it relies on are in tests/store). Nodes are told apart by
# FRACTFS_NODE_ID, each with a root and scratch of its own.
#  - a second node is refused while the holder renews: the app does not
#    start (fractfs-run and bare LD_PRELOAD), the holder is named;
#  - `fractfs doctor` names the holder;
#  - --take-over: the new node checkpoints, the old one says so, stops
#    checkpointing and exits 75 (its last changes are not saved);
#  - a node that restored before starts its app at once, but with the
#    lease held elsewhere it checkpoints nothing and exits 75;
#  - a holder killed with its node: the next node takes the lease once it
#    went a whole term without renewal;
#  - a clean exit releases it: the next node starts at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
shim_ok || { echo "SKIP: programs cannot run under the TSan-built shim"; exit 0; }

TERM_S=3
new_root a "sync_interval = 1
lease_seconds = $TERM_S"
A=$ROOT
mkdir -p "$T/b/app" "$T/c/app"
node_root() {  # node_root NAME: a root on the same remote with a scratch of its own
  mkdir -p "$T/$1/app"
  sed "s|^scratch = .*|scratch = \"$T/$1/scratch\"|" "$A/.fractfs.toml" > "$T/$1/app/.fractfs.toml"
  echo "$T/$1/app"
}
# run_node ID ROOT [fractfs-run options] -- CMD...: exit status in $RC, stderr in $ERR, seconds in $TOOK.
run_node() {
  local id=$1 root=$2; shift 2
  local t0=$SECONDS
  RC=0
  (cd "$root" && FRACTFS_NODE_ID=$id "$BIN/fractfs-run" --root "$root" "$@") >"$T/node.out" 2>"$T/node.err" || RC=$?
  ERR=$(<"$T/node.err")
  TOOK=$((SECONDS - t0))
}

# Node a holds the lease while its app runs.
ROOT=$A
(cd "$A" && FRACTFS_NODE_ID=a exec setsid "$BIN/fractfs-run" --root "$A" -- \
  bash -c 'i=0; while [[ ! -e stop ]]; do echo $i > counter; i=$((i+1)); sleep 0.2; done; echo last > last-words') \
  2>"$T/a.err" &
APID=$!
bg_track "$APID"
wait_until 20 test -s "$A/counter" || check_fail "node a's app did not start: $(cat "$T/a.err")"

# Node b is refused, under fractfs-run and under a bare LD_PRELOAD.
B=$(node_root b)
run_node b "$B" -- bash -c 'echo started > started'
eq 1 "$RC" "fractfs-run on a second node: exit status"
contains "$ERR" "node 'a'" "the refusal names the holder"
contains "$ERR" "holds the lease" "the refusal says why"
contains "$ERR" "--take-over" "the refusal says what to do"
absent "$B/started"
RC=0
(cd "$B" && FRACTFS_NODE_ID=b LD_PRELOAD=$SHIMLIB FRACTFS_ROOT=$B bash -c 'echo started > started') 2>"$T/pre.err" || RC=$?
eq 1 "$RC" "a bare LD_PRELOAD on a second node: exit status"
contains "$(<"$T/pre.err")" "node 'a'" "the bare LD_PRELOAD refusal names the holder"
absent "$B/started"
DOC=$(cd "$B" && FRACTFS_NODE_ID=b "$BIN/fractfs" doctor --root "$B" 2>&1 || true)
contains "$DOC" "node 'a'" "doctor names the lease holder"
contains "$(cd "$B" && "$BIN/fractfs" status --root "$B" 2>&1)" "lease             node 'a'" "status names the lease holder"
contains "$(cd "$B" && "$BIN/fractfs" status --root "$B" --json 2>&1)" "\"lease\": \"node 'a'" "status --json names the lease holder"

# Node b takes over: it checkpoints; a stops checkpointing and says so.
run_node b "$B" --take-over -- bash -c 'echo "from b" > b-file'
eq 0 "$RC" "fractfs-run --take-over: exit status (stderr: $ERR)"
wait_until 20 grep -q "took the lease over" "$T/a.err" || check_fail "node a did not notice: $(cat "$T/a.err")"
touch "$A/stop"
RC=0 t0=$SECONDS
wait "$APID" || RC=$?
eq 75 "$RC" "node a after losing the lease: exit status (its last changes are not saved)"
ok "node a's app exits at once, not after exit_timeout ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 10
not_contains "$(<"$T/a.err")" "exit_timeout" "node a's exit does not wait for a checkpoint that cannot be taken"
contains "$(<"$T/a.err")" "stops checkpointing" "node a says it stopped"
C=$(node_root c)
run_node c "$C" --take-over -- true
ok "the store holds node b's file" test "$(cat "$C/b-file")" = "from b"
absent "$C/last-words"

# Node a again (restored before: its app starts without waiting for the
# store) while node b holds the lease: a runs, checkpoints nothing, says so.
(cd "$B" && FRACTFS_NODE_ID=b exec setsid "$BIN/fractfs-run" --root "$B" -- \
  bash -c 'echo up > up-b; while [[ ! -e stop-b ]]; do sleep 0.2; done') 2>"$T/b.err" &
BPID=$!
bg_track "$BPID"
wait_until 20 test -e "$B/up-b" || check_fail "node b's app did not start: $(cat "$T/b.err")"
run_node a "$A" -- sh -c 'echo late > late'
eq 75 "$RC" "a restored node while another holds the lease: exit status (its changes are not saved)"
contains "$ERR" "node 'b'" "it names the holder"
contains "$ERR" "does not checkpoint" "it says it does not checkpoint"
ok "its app ran" test -e "$A/late"
touch "$B/stop-b"
RC=0
wait "$BPID" || RC=$?
eq 0 "$RC" "node b: exit status"

# A holder killed with its node: the next node waits out one term, then takes it.
D=$(node_root d)
(cd "$D" && FRACTFS_NODE_ID=d exec setsid "$BIN/fractfs-run" --root "$D" -- \
  bash -c 'echo "from d" > d-file; sleep 600') 2>"$T/d.err" &
DPID=$!
bg_track "$DPID"
wait_until 20 test -s "$D/d-file" || check_fail "node d's app did not start: $(cat "$T/d.err")"
wait_until 20 grep -q "^node d$" "$STORE/LEASE" || check_fail "node d does not hold the lease: $(cat "$STORE/LEASE")"
(cd "$D" && FRACTFS_NODE_ID=d "$BIN/fractfs" sync --root "$D" >/dev/null) || check_fail "fractfs sync on node d"
kill -KILL -- "-$DPID"
wait "$DPID" 2>/dev/null || true
E=$(node_root e)
run_node e "$E" -- cat d-file
eq 0 "$RC" "the next node after a killed holder: exit status (stderr: $ERR)"
ok "it waited for the term to pass without renewal ($TOOK s)" test "$TOOK" -ge $((TERM_S - 1))
ok "it did not wait much longer ($TOOK s)" test "$TOOK" -le $((TERM_S * 4 + 5))

# A clean exit released the lease: the next node starts at once.
grep -q "^expires_ns 0$" "$STORE/LEASE" || check_fail "a clean exit leaves the lease held: $(cat "$STORE/LEASE")"
pass
F=$(node_root f)
run_node f "$F" -- true
eq 0 "$RC" "a node after a clean exit: exit status (stderr: $ERR)"
ok "it did not wait ($TOOK s)" test "$TOOK" -le 2

# A lease that cannot be taken at start (here LEASE cannot be read: a
# directory in its place) does not keep the app from running; the node
# tries again, and takes it once the store lets it.
H=$(node_root h)
rm -f "$STORE/LEASE"
mkdir "$STORE/LEASE"
(cd "$H" && FRACTFS_NODE_ID=h exec setsid "$BIN/fractfs-run" --root "$H" -- \
  bash -c 'echo up > up-h; while [[ ! -e stop-h ]]; do sleep 0.2; done') 2>"$T/h.err" &
HPID=$!
bg_track "$HPID"
wait_until 20 test -e "$H/up-h" || check_fail "node h's app did not start: $(cat "$T/h.err")"
wait_until 10 grep -q "cannot take the lease, this node tries again" "$T/h.err" || check_fail "node h did not say it has no lease: $(cat "$T/h.err")"
rmdir "$STORE/LEASE"
wait_until $((TERM_S * 3)) grep -q "^node h$" "$STORE/LEASE" 2>/dev/null || check_fail "node h did not take the lease once it could: $(cat "$T/h.err")"
contains "$(cat "$T/h.err")" "took the lease: this node checkpoints" "node h says it took the lease"
touch "$H/stop-h"
RC=0
wait "$HPID" || RC=$?
eq 0 "$RC" "node h: exit status"

# lease_seconds = 0: no lease at all.
G=$(node_root g)
sed -i "s|^lease_seconds = .*|lease_seconds = 0|" "$G/.fractfs.toml"
rm -f "$STORE/LEASE"
run_node g "$G" -- true
eq 0 "$RC" "lease_seconds = 0: exit status"
absent "$STORE/LEASE"
echo "ok: lease ($CHECKS checks)"
