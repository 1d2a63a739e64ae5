#!/usr/bin/env bash
# What examples/Dockerfile relies on, without a container engine:
# 1. the recipe itself: the files it copies exist, its entry point is
#    fractfs-run --, every FRACTFS_* variable it sets is one fractfs knows,
#    and its configuration is valid with those variables;
# 2. fractfs-run as process 1 of a PID namespace (as in a container),
#    configured the Dockerfile's way (file outside the root, variables),
#    stopped by SIGTERM from outside the namespace (as `docker stop` does):
#    the app gets SIGTERM, what its handler writes is in the final
#    checkpoint, and fractfs-run exits with the app's status.
source "$(dirname "$0")/lib.sh"
DOCKERFILE=$REPO/examples/Dockerfile

# 1. The recipe.
grep -qx 'ENTRYPOINT \["fractfs-run", "--"\]' "$DOCKERFILE" || fail "the entry point is not fractfs-run --"
for src in $(awk '/^COPY / && !/--from=/ { for (i = 2; i < NF; i++) print $i }' "$DOCKERFILE"); do
  [[ $src == . || -e $REPO/$src ]] || fail "the Dockerfile copies $src, which is not in the repository"
done
known=$(known_variables)
vars=$(grep -oE 'FRACTFS_[A-Z_]+=' "$DOCKERFILE" | tr -d = | sort -u)
[[ -n $vars ]] || fail "no FRACTFS_* variable in the Dockerfile"
for v in $vars; do grep -qx "${v#FRACTFS_}" <<<"$known" || fail "the Dockerfile sets $v, unknown to fractfs"; done
config=$(grep -oE 'FRACTFS_CONFIG=[^ ]+' "$DOCKERFILE" | cut -d= -f2)
cfg_src=$(awk -v dest="$config" '$1 == "COPY" && $NF == dest { print $2 }' "$DOCKERFILE")
[[ -n $cfg_src ]] || fail "the Dockerfile does not copy its configuration to $config"
mkdir -p "$T/node/app" "$T/store"
out=$(FRACTFS_CONFIG=$REPO/$cfg_src FRACTFS_ROOT=$T/node/app FRACTFS_REMOTE_ROOT=$T/store/app \
      FRACTFS_SCRATCH=$T/node/scratch "$BIN/fractfs" config 2>&1) || fail "the Dockerfile's configuration: $out"
assert_contains "$out" "remote_root = \"$T/store/app\"" "config with the Dockerfile's variables"

# 2. Process 1, stopped by SIGTERM.
if [[ ${SAN:-} == thread ]]; then echo "container: process-1 part skipped under TSan (no shim)"; exit 0; fi
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
  echo "container: recipe checked; process-1 part skipped (no PID namespaces here)"; exit 0
fi
export FRACTFS_CONFIG=$REPO/$cfg_src FRACTFS_ROOT=$T/node/app FRACTFS_REMOTE_ROOT=$T/store/app \
       FRACTFS_SCRATCH=$T/node/scratch FRACTFS_SYNC_INTERVAL=0
"$BIN/fractfs" init >/dev/null  # a new store, once (the recipe's README says so)
cd "$T/node/app"
unshare --pid --fork --kill-child --mount-proc "$BIN/fractfs-run" -- sh -c '
  trap "echo stopped > state/at-exit.txt; exit 3" TERM
  mkdir -p state data/blobs && echo 1 > state/counter.txt && echo big > data/blobs/part-0
  echo $$ > ready
  while :; do sleep 0.05; done' > "$T/out" 2>&1 &
ns=$!
trap 'kill -KILL $ns 2>/dev/null || true; rm -rf "$T"' EXIT  # --kill-child: the namespace goes with it
for _ in $(seq 200); do [[ -s ready ]] && break; sleep 0.05; done
[[ -s ready ]] || fail "the app did not start: $(cat "$T/out")"
pid1=$(plain ps -o pid= --ppid "$ns" | tr -d ' ')
comm=$(cat "/proc/$pid1/comm")
[[ $comm == fractfs-run ]] || fail "process 1 of the namespace is $comm, not fractfs-run"
kill -TERM "$pid1"  # from outside the namespace, as a container engine does
set +e; wait "$ns"; status=$?; set -e
assert_eq 3 "$status" "fractfs-run's exit status (the app's)"
assert_eq stopped "$(cat state/at-exit.txt)" "the app's SIGTERM handler ran"
# The node is wiped; the final checkpoint has what the handler wrote.
cd "$T" && rm -rf "$T/node" && mkdir -p "$T/node/app"
"$BIN/fractfs" restore >/dev/null
assert_eq stopped "$(cat "$T/node/app/state/at-exit.txt")" "the final checkpoint after SIGTERM"
assert_eq 1 "$(cat "$T/node/app/state/counter.txt")" "state restored after the wipe"
[[ ! -e $T/node/app/data/blobs/part-0 && -f $T/store/app/data/blobs/part-0 ]] || fail "the remote tier is in the store"
echo "container: recipe consistent; as process 1, SIGTERM -> app -> final checkpoint -> exit 3"
