# Real storage servers for the store tests, on 127.0.0.1, started and
# stopped by PID. Sourced by tests/store/run.sh.
#
#   start_rgw DIR      a throw-away Ceph cluster (1 mon, 1 memstore OSD,
#                      auth none) and the RADOS Gateway on 127.0.0.1:7480,
#                      S3 user ACCESS/SECRET. About 3 s. Fixed ports: 13300,
#                      16800-16899, 7480 (one cluster at a time).
#   stop_rgw DIR       radosgw first (it hangs 120 s when its cluster goes first)
#   start_nginx DIR    nginx with dav_ext: WebDAV on 127.0.0.1:8081 at /dav/,
#                      the same with Basic auth (user test, password secret)
#                      at /authdav/, and over TLS (a CA of our own, in
#                      DIR/ca.pem) on the port in DIR/tls_port
#   stop_nginx DIR     TERM, never KILL (its worker would keep the port)
# A server that does not start is an error: the caller's test fails.

RGW_PORT=7480
DAV_PORT=8081
# The servers are not ours: never run them with the ASan build's preloaded
# runtime. (An array, not a function: `env` execs, so $! is the server's pid.)
nosan=(env -u LD_PRELOAD -u ASAN_OPTIONS)

rgw_pids() { [[ -f $1/pids ]] && cat "$1/pids"; }

# port_busy PORT: something listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_rgw() {
  local d=$1 p
  for p in 13300 $RGW_PORT; do  # one cluster at a time: never talk to another run's
    port_busy "$p" && { echo "start_rgw: port $p is in use (another Ceph test cluster running?)" >&2; return 1; }
  done
  rm -rf "$d"
  mkdir -p "$d"/{run,log,mon,osd,rgw}
  local fsid osd_uuid id c
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$d/ceph.conf" <<CONF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:13300
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
ms_bind_port_min = 16800
ms_bind_port_max = 16899
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
ms_client_mode = crc
ms_mon_service_mode = crc
ms_service_mode = crc
ms_cluster_mode = crc
ms_mon_cluster_mode = crc
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
run_dir = $d/run
admin_socket = $d/run/\$name.asok
log_file = $d/log/\$name.log
mon_data = $d/mon/\$name
osd_data = $d/osd/\$name
keyring = $d/keyring
osd_objectstore = memstore
memstore_device_bytes = 2147483648
osd_memory_target = 536870912
mon_osd_down_out_interval = 0
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw_data = $d/rgw
rgw_enable_usage_log = false
CONF
  c=(-c "$d/ceph.conf")
  "${nosan[@]}" ceph-authtool --create-keyring "$d/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null || return 1
  "${nosan[@]}" monmaptool --create --addv a "[v2:127.0.0.1:13300]" --fsid "$fsid" "$d/monmap" >/dev/null || return 1
  "${nosan[@]}" ceph-mon "${c[@]}" --mkfs -i a --monmap "$d/monmap" --keyring "$d/keyring" || return 1
  "${nosan[@]}" ceph-mon "${c[@]}" -i a -f >"$d/log/mon.out" 2>&1 &
  disown
  echo $! >>"$d/pids"
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$("${nosan[@]}" timeout 30 ceph "${c[@]}" osd new "$osd_uuid") || { echo "start_rgw: ceph osd new failed" >&2; return 1; }
  mkdir -p "$d/osd/osd.$id"
  "${nosan[@]}" ceph-osd "${c[@]}" -i "$id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 || return 1
  "${nosan[@]}" ceph-osd "${c[@]}" -i "$id" -f >"$d/log/osd.out" 2>&1 &
  disown
  echo $! >>"$d/pids"
  "${nosan[@]}" radosgw "${c[@]}" -n client.rgw.a -f >"$d/log/rgw.out" 2>&1 &
  disown
  echo $! >>"$d/pids"
  local i
  for i in $(seq 1 300); do
    "${nosan[@]}" curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$RGW_PORT/" && break
    sleep 0.1
  done
  "${nosan[@]}" curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$RGW_PORT/" || { echo "start_rgw: radosgw did not answer (log: $d/log)" >&2; return 1; }
  "${nosan[@]}" timeout 60 radosgw-admin "${c[@]}" user create --uid=test --display-name=test \
    --access-key=ACCESS --secret-key=SECRET >/dev/null || { echo "start_rgw: user create failed" >&2; return 1; }
}

stop_rgw() {
  local d=$1 pids
  pids=$(rgw_pids "$d") || return 0
  # radosgw (last) first, then the OSD and the monitor.
  for p in $(echo "$pids" | tac); do kill -KILL "$p" 2>/dev/null; sleep 0.1; done
  for p in $pids; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
  rm -f "$d/pids"
}

# make_bucket NAME: a bucket on the RGW, signed by curl.
make_bucket() {
  "${nosan[@]}" curl -sf --max-time 30 --aws-sigv4 aws:amz:us-east-1:s3 -u ACCESS:SECRET -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    -X PUT "http://127.0.0.1:$RGW_PORT/$1" -o /dev/null
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_nginx() {
  local d=$1 user="" tls_port
  port_busy "$DAV_PORT" && { echo "start_nginx: port $DAV_PORT is in use" >&2; return 1; }
  rm -rf "$d"
  mkdir -p "$d"/{logs,tmp,dav,authdav}
  [[ $(id -u) == 0 ]] && user="user root root;"
  tls_port=$(free_port)
  echo "$tls_port" >"$d/tls_port"
  # A CA of our own and a certificate for 127.0.0.1 signed by it.
  "${nosan[@]}" openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fractfs test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || return 1
  "${nosan[@]}" openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
  printf 'subjectAltName=IP:127.0.0.1\n' >"$d/san.ext"
  "${nosan[@]}" openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/san.ext" -out "$d/server.pem" 2>/dev/null || return 1
  # test:secret
  printf 'test:%s\n' "$("${nosan[@]}" openssl passwd -apr1 secret)" >"$d/htpasswd"
  local dav_block='dav_methods PUT DELETE MKCOL COPY MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            dav_access user:rw group:r all:r;'
  cat >"$d/nginx.conf" <<CONF
daemon off;
$user
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
events { worker_connections 256; }
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/client_body;
    proxy_temp_path $d/tmp/proxy; fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi; scgi_temp_path $d/tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:$DAV_PORT;
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $d/server.pem;
        ssl_certificate_key $d/server.key;
        location /dav/ {
            alias $d/dav/;
            $dav_block
        }
        location /authdav/ {
            alias $d/authdav/;
            auth_basic "fractfs test";
            auth_basic_user_file $d/htpasswd;
            $dav_block
        }
    }
}
CONF
  "${nosan[@]}" nginx -c "$d/nginx.conf" -p "$d" >"$d/logs/nginx.out" 2>&1 &
  echo $! >"$d/master.pid"
  local i
  for i in $(seq 1 100); do
    "${nosan[@]}" curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$DAV_PORT/dav/" && return 0
    kill -0 "$(cat "$d/master.pid")" 2>/dev/null || break
    sleep 0.05
  done
  echo "start_nginx: nginx did not start (log: $d/logs)" >&2
  cat "$d/logs/nginx.out" "$d/logs/error.log" >&2 2>/dev/null
  return 1
}

stop_nginx() {
  local d=$1 p
  [[ -f $d/master.pid ]] || return 0
  p=$(cat "$d/master.pid")
  kill -TERM "$p" 2>/dev/null
  while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
  rm -f "$d/master.pid"
}

# start_py NAME SCRIPT ARGS...: a Python helper; its port file is DIR/NAME.port.
start_py() {
  local dir=$1 name=$2 script=$3; shift 3
  rm -f "$dir/$name.port"
  "${nosan[@]}" python3 "$script" "$@" &
  echo $! >"$dir/$name.pid"
  local i
  for i in $(seq 1 100); do [[ -f $dir/$name.port ]] && return 0; sleep 0.05; done
  echo "start_py: $name did not start" >&2
  return 1
}

stop_py() {
  local dir=$1 name=$2 p
  [[ -f $dir/$name.pid ]] || return 0
  p=$(cat "$dir/$name.pid")
  kill -TERM "$p" 2>/dev/null
  while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
  rm -f "$dir/$name.pid"
}
