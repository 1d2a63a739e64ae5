#!/usr/bin/env bash
# The store tests against real servers. Run by tests/run.sh:
#
#   BUILD=build bash tests/store/run.sh mount     the conformance cases on a directory
#   BUILD=build bash tests/store/run.sh servers   Ceph RGW (S3) and nginx (WebDAV) on
#       127.0.0.1: the conformance cases on both, network faults through a proxy,
#       credentials (environment, profile, container endpoint, IMDSv2), TLS,
#       wrong settings; then fractfs doctor, sync, restore and log on each
#   BUILD=build bash tests/store/run.sh quick     the sanitizer builds' subset:
#       conformance on the mount, RGW and nginx, no faults
#   BUILD=build bash tests/store/run.sh throughput   put/get figures (8 in flight)
#
# Servers are started here and stopped by PID on exit. A server that does
# not start fails the run: nothing is skipped.
source "$(dirname "$0")/../lib.sh"
source "$REPO/tests/store/servers.sh"
STORE_TESTS=$OUT/tests/store_tests
[[ -x $STORE_TESTS ]] || fail "$STORE_TESTS not built (run make)"
mode=${1:-servers}

# Nothing here may reach a real metadata address, nor read the user's AWS files.
export AWS_EC2_METADATA_DISABLED=true HOME=$T/home
unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_REGION \
  AWS_DEFAULT_REGION AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_SESSION_TOKEN \
  AWS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE
export AWS_ACCESS_KEY_ID=ACCESS AWS_SECRET_ACCESS_KEY=SECRET
export STORE_TEST_DIR=$T/work STORE_TEST_BUCKET=fractfs-test
mkdir -p "$STORE_TEST_DIR" "$HOME"

RGW=$T/rgw NGINX=$T/nginx PY=$T/py
mkdir -p "$PY"
stop_all() {
  stop_py "$PY" proxy-s3; stop_py "$PY" proxy-dav; stop_py "$PY" creds
  stop_nginx "$NGINX"; stop_rgw "$RGW"
  rm -rf "$T"
}
trap stop_all EXIT

section() { echo; echo "== $* ($SECONDS s)"; }

# conformance BACKEND [CATCH-ARGS...]
conformance() {
  local b=$1; shift
  section "store conformance: $b"
  STORE_TEST_BACKEND=$b "$STORE_TESTS" "$@" || fail "store tests on $b"
}

start_servers() {
  section "starting Ceph RGW and nginx"
  start_rgw "$RGW" || fail "Ceph RGW did not start (is 'make deps' done? radosgw ceph-mon ceph-osd)"
  make_bucket "$STORE_TEST_BUCKET" || fail "cannot create the test bucket on RGW"
  start_nginx "$NGINX" || fail "nginx did not start (is 'make deps' done? nginx-full libnginx-mod-http-dav-ext)"
  export STORE_TEST_S3=http://127.0.0.1:$RGW_PORT STORE_TEST_DAV=http://127.0.0.1:$DAV_PORT/dav/
  export STORE_TEST_TLS_PORT=$(cat "$NGINX/tls_port") STORE_TEST_CA=$NGINX/ca.pem
  echo "RGW and nginx up after $SECONDS s"
}

# The fractfs command on each backend: doctor, sync, restore, log, config errors.
cli_checks() {
  local b=$1 remote=$2
  local app=$T/app-$b
  section "fractfs commands: $b"
  mkdir -p "$app/data/sub"
  printf 'backend = "%s"\nremote_root = "%s"\nscratch = "%s"\n' "$b" "$remote" "$T/scratch-$b" >"$app/.fractfs.toml"
  local env=(env FRACTFS_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT)
  expect_status 0 "${env[@]}" "$BIN/fractfs" doctor --root "$app"
  echo "$OUT"
  assert_contains "$OUT" "conditional write"
  expect_status 0 "${env[@]}" "$BIN/fractfs" restore --root "$app"  # nothing yet: this node starts
  head -c 3000000 /dev/urandom >"$app/data/big.bin"  # app state (not the deploy bundle: made after the start)
  echo hello >"$app/data/sub/hello.txt"
  expect_status 0 "${env[@]}" "$BIN/fractfs" sync --root "$app"
  expect_status 0 "${env[@]}" "$BIN/fractfs" log --root "$app"
  assert_contains "$OUT" "(current)"
  local sums
  sums=$(cd "$app" && find data -type f -print0 | sort -z | xargs -0 sha256sum)
  rm -rf "$app/data" "$T/scratch-$b"  # a wiped node
  expect_status 0 "${env[@]}" "$BIN/fractfs" restore --root "$app"
  assert_eq "$sums" "$(cd "$app" && find data -type f -print0 | sort -z | xargs -0 sha256sum)" "restored files ($b)"
  expect_status 0 "${env[@]}" "$BIN/fractfs" doctor --root "$app" --json
  assert_contains "$OUT" '"check": "checkpoints", "ok": true'
  # An app on the store (the wipe scenarios: tests/sync/test_object_stores.sh).
  expect_status 0 "${env[@]}" "$BIN/fractfs-run" --root "$app" -- cat "$app/data/sub/hello.txt"
  assert_contains "$OUT" "hello"
  # [dirs] on an object store: a configuration error, exit 2, naming the line.
  printf '[dirs]\npaths = ["data"]\n' >>"$app/.fractfs.toml"
  expect_status 2 "${env[@]}" "$BIN/fractfs" doctor --root "$app"
  assert_contains "$OUT" ".fractfs.toml:5:10: [dirs] path 'data': backend '$b' cannot hold remote-tier directories yet"
  expect_status 2 "${env[@]}" "$BIN/fractfs-run" --root "$app" -- true
}

doctor_failures() {
  section "fractfs doctor: what is wrong, in plain words"
  local app=$T/app-doc
  mkdir -p "$app"
  printf 'backend = "s3"\nremote_root = "s3://%s/app"\n' "$STORE_TEST_BUCKET" >"$app/.fractfs.toml"
  expect_status 1 env FRACTFS_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT AWS_SECRET_ACCESS_KEY=WRONG \
    "$BIN/fractfs" doctor --root "$app"
  assert_contains "$OUT" "signature mismatch at http://127.0.0.1:$RGW_PORT: check AWS_SECRET_ACCESS_KEY"
  [[ $OUT != *WRONG* ]] || fail "doctor printed the secret: $OUT"
  expect_status 1 env FRACTFS_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT FRACTFS_REMOTE_ROOT=s3://no-such-bucket/x \
    "$BIN/fractfs" doctor --root "$app"
  assert_contains "$OUT" "bucket 'no-such-bucket' does not exist at http://127.0.0.1:$RGW_PORT"
  expect_status 1 env FRACTFS_S3_ENDPOINT=http://127.0.0.1:9 "$BIN/fractfs" doctor --root "$app"
  assert_contains "$OUT" "cannot reach http://127.0.0.1:9"
  expect_status 2 env FRACTFS_S3_ADDRESSING=sideways "$BIN/fractfs" doctor --root "$app"
  assert_contains "$OUT" 'FRACTFS_S3_ADDRESSING: s3_addressing must be "path" or "virtual"'
  expect_status 1 env AWS_CA_BUNDLE=/nonexistent.pem "$BIN/fractfs" doctor --root "$app"
  assert_contains "$OUT" "AWS_CA_BUNDLE: CA bundle '/nonexistent.pem' is not a readable file"
  printf 'backend = "mount"\nremote_root = "%s"\n' "$T/mount-remote" >"$app/.fractfs.toml"
  expect_status 1 "$BIN/fractfs" doctor --root "$app"  # a store that is not mounted
  assert_contains "$OUT" "remote_root '$T/mount-remote' does not exist"
  mkdir -p "$T/mount-remote"
  expect_status 0 "$BIN/fractfs" doctor --root "$app"
  assert_contains "$OUT" "conditional write"
}

# The preloaded library must never carry the network code (libcurl, OpenSSL).
shim_has_no_network() {
  section "libfractfs.so links no network code"
  local deps syms
  deps=$(ldd "$LIB/libfractfs.so")
  [[ $deps != *curl* && $deps != *libssl* && $deps != *libcrypto* && $deps != *pugixml* ]] ||
    fail "libfractfs.so links network libraries: $deps"
  syms=$(nm -D "$LIB/libfractfs.so" | grep -ciE ' (curl_|SSL_|pugi)' || true)
  assert_eq 0 "$syms" "curl/SSL/pugixml symbols in libfractfs.so"
}

case $mode in
  mount)
    shim_has_no_network
    conformance mount "[conformance]"
    ;;
  quick)
    conformance mount "[conformance]"
    start_servers
    conformance s3 "[conformance]"
    conformance webdav "[conformance]"
    ;;
  servers)
    start_servers
    conformance s3 "[conformance]"
    conformance webdav "[conformance]"
    section "faults through the proxy"
    start_py "$PY" proxy-s3 "$REPO/tests/store/fault_proxy.py" "$RGW_PORT" "$PY/proxy-s3.port" || fail "proxy"
    STORE_TEST_PROXY=$(cat "$PY/proxy-s3.port") conformance s3 "[faults]"
    start_py "$PY" proxy-dav "$REPO/tests/store/fault_proxy.py" "$DAV_PORT" "$PY/proxy-dav.port" || fail "proxy"
    STORE_TEST_PROXY=$(cat "$PY/proxy-dav.port") conformance webdav "[faults]"
    start_py "$PY" creds "$REPO/tests/store/cred_server.py" "$PY/creds.port" ACCESS SECRET || fail "credentials server"
    STORE_TEST_CREDS=$(cat "$PY/creds.port") conformance s3 "[s3setup]"
    conformance webdav "[davsetup]"
    cli_checks s3 "s3://$STORE_TEST_BUCKET/cli-app"
    cli_checks webdav "http://127.0.0.1:$DAV_PORT/dav/cli-app/"
    doctor_failures
    ;;
  throughput)  # figures, not a test
    start_servers
    for b in mount s3 webdav; do STORE_TEST_BACKEND=$b "$STORE_TESTS" "[.throughput]" | grep -E "MB/s|FAILED"; done
    ;;
  *) fail "unknown mode '$mode'" ;;
esac
echo "store tests ($mode): all passed in $SECONDS s"
