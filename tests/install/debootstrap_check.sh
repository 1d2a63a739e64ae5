#!/usr/bin/env bash
# Optional, not in `make test` (root, network, ~4 minutes the first time):
# the .deb on a fresh Debian 12, the way examples/Dockerfile runs it.
#   sudo bash tests/install/debootstrap_check.sh [DIR]
# Bootstraps a minimal Debian 12 into DIR (default $BUILD/debootstrap, kept
# for the next run), installs the package there with `apt-get install
# ./fractfs_*.deb`, and runs an app in a container-like setting: a
# read-only root file system, a tmpfs on /tmp (scratch), the app root and
# the store on volumes of their own, user 10001, fractfs-run as process 1,
# configured by the Dockerfile's variables. Then the node is wiped (app
# root and /tmp) twice, the second time with no /proc mounted: each run must
# find the state of the previous one.
source "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || fail "run as root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null || fail "apt-get install debootstrap first"
R=${1:-$OUT/debootstrap}
R=$(realpath -m "$R")

if [[ ! -x $R/usr/bin/apt-get ]]; then
  echo "bootstrapping Debian 12 into $R"
  debootstrap --variant=minbase bookworm "$R" http://deb.debian.org/debian >"$T/debootstrap.log" 2>&1 ||
    fail "debootstrap: $(tail -5 "$T/debootstrap.log")"
fi
mk deb
deb=$(ls "$OUT"/deb/fractfs_*.deb)
cp "$deb" "$R/tmp/fractfs.deb"
cp /etc/resolv.conf "$R/etc/resolv.conf"
chroot "$R" env DEBIAN_FRONTEND=noninteractive sh -c \
  'apt-get update -qq && apt-get install -y -qq --reinstall /tmp/fractfs.deb && rm /tmp/fractfs.deb' >"$T/apt.log" 2>&1 ||
  fail "apt-get install ./fractfs.deb in a fresh Debian 12: $(tail -5 "$T/apt.log")"
echo "installed: $(chroot "$R" dpkg-query -W fractfs)"

# The image's contents: the configuration and an app, as the Dockerfile has them.
mkdir -p "$R/etc/fractfs" "$R/opt/app" "$R/srv/app" "$R/mnt/durable"
cp "$REPO/examples/fractfs.toml" "$R/etc/fractfs/app.toml"
cat > "$R/opt/app/app.sh" <<'EOF'
#!/bin/sh
mkdir -p data/blobs state
n=$(cat state/counter 2>/dev/null || echo 0); n=$((n + 1)); echo $n > state/counter
echo "blob $n" > data/blobs/part-$n && echo scratch > work.tmp
echo "run $n, pid $$ under process $PPID: state/counter=$(cat state/counter), data/blobs: $(ls data/blobs | tr '\n' ' ')"
EOF
chmod 755 "$R/opt/app/app.sh"
mkdir -p "$T/node" "$T/store" && chown 10001:10001 "$T/node" "$T/store"

run_container() {  # [noproc]
  unshare --mount --pid --fork bash -c '
    set -e
    R=$1 node=$2 store=$3
    mount --bind "$R" "$R" && mount -o remount,bind,ro "$R"
    mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
    mount --bind "$node" "$R/srv/app" && mount --bind "$store" "$R/mnt/durable"
    [[ $4 == noproc ]] || mount -t proc proc "$R/proc"
    exec chroot "$R" setpriv --reuid=10001 --regid=10001 --clear-groups env -i PATH=/usr/bin:/bin \
      FRACTFS_CONFIG=/etc/fractfs/app.toml FRACTFS_ROOT=/srv/app FRACTFS_REMOTE_ROOT=/mnt/durable/app \
      FRACTFS_SCRATCH=/tmp/fractfs sh -c "cd /srv/app && ! touch /probe 2>/dev/null && exec fractfs-run -- /opt/app/app.sh"
  ' _ "$R" "$T/node" "$T/store" "${1:-}"
}
for round in 1 2 3; do
  out=$(run_container $([[ $round == 3 ]] && echo noproc) 2>&1) || fail "round $round: $out"
  echo "$out"
  assert_contains "$out" "under process 1: state/counter=$round" "round $round"
  [[ -f $T/store/app/data/blobs/part-$round && ! -e $T/node/data/blobs/part-$round ]] || fail "round $round: placement"
  find "$T/node" -mindepth 1 -delete  # the node is wiped; /tmp (scratch) was a tmpfs
done
echo "debootstrap: $(basename "$deb") installed by apt on Debian 12; read-only root, uid 10001, process 1, 2 wipes survived"
