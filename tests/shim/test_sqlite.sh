#!/usr/bin/env bash
# The sqlite3 CLI under the shim: a WAL database matched by [local] inside a
# [dirs] dir keeps its -wal/-shm (and -journal, .lock) beside it, locally,
# while a second process holds it open; a database no pattern matches keeps
# all its files in the remote tier. Needs sqlite3 (apt-get install sqlite3).
#   BUILD=build bash tests/shim/test_sqlite.sh
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 not installed (apt-get install -y sqlite3)"

HOLDER_PID=
# start_holder DB: a sqlite3 process under the shim reading commands from a
# fifo (send them with `send`); its output goes to $W/holder.out.
start_holder() {
  rm -f "$W/fifo"; mkfifo "$W/fifo"
  (cd "$ROOT" && exec "$BIN/fractfs-run" --root "$ROOT" -- sqlite3 -batch "$1" <"$W/fifo" >"$W/holder.out" 2>"$W/holder.err") &
  HOLDER_PID=$!
  exec 9>"$W/fifo"
}
send() { printf '%s\n' "$1" >&9; }
stop_holder() {
  send .quit
  exec 9>&-
  local rc=0
  wait "$HOLDER_PID" || rc=$?
  HOLDER_PID=
  eq 0 "$rc" "holder sqlite3 exit status ($(cat "$W/holder.err"))"
}
# wait_for PATH...: until one of these physical paths exists (10 s at most).
wait_for() {
  local p i
  for ((i = 0; i < 200; i++)); do
    for p in "$@"; do [[ -e $p ]] && return 0; done
    sleep 0.05
  done
  check_fail "none of $* appeared"
}
# The physical files of ROOT/data/blobs and REMOTE/data/blobs named NAME*.
files_like() { (cd "$1/data/blobs" && ls -1a | grep -F "$2" || true); }

sqlite_local_wal() {
  x sqlite3 data/blobs/db.sqlite 'PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1),(2);'
  eq wal "$OUT" "journal_mode"
  start_holder data/blobs/db.sqlite
  send '.timeout 5000'
  send 'BEGIN; SELECT count(*) FROM t;'
  wait_for "$ROOT/data/blobs/db.sqlite-shm" "$REMOTE/data/blobs/db.sqlite-shm"
  # a second process writes while the first holds its read snapshot
  x sqlite3 -cmd '.timeout 5000' data/blobs/db.sqlite 'INSERT INTO t VALUES (3),(4),(5); SELECT count(*) FROM t;'
  eq 5 "$OUT" "writer sees its rows"
  # physically: all three files local, beside each other; none remote
  eq $'db.sqlite\ndb.sqlite-shm\ndb.sqlite-wal' "$(files_like "$ROOT" db.sqlite)" "db files in ROOT/data/blobs while held open"
  eq "" "$(files_like "$REMOTE" db.sqlite)" "db files in REMOTE/data/blobs while held open"
  [[ -s $ROOT/data/blobs/db.sqlite-wal ]] && pass || check_fail "the -wal is empty: the writer's rows are not in it"
  send 'SELECT count(*) FROM t; COMMIT; SELECT count(*) FROM t;'
  stop_holder
  eq $'2\n2\n5' "$(cat "$W/holder.out")" "holder's snapshot isolation (shared -shm)"
  # checkpoint, close, reopen
  x sqlite3 data/blobs/db.sqlite 'PRAGMA wal_checkpoint(TRUNCATE);'
  x sqlite3 data/blobs/db.sqlite 'SELECT group_concat(x) FROM t; PRAGMA integrity_check;'
  eq $'1,2,3,4,5\nok' "$OUT" "data after checkpoint and reopen"
  # SQLite removes the -wal and -shm at its last close unless another
  # connection is attached at that moment; the checkpoint reading the
  # database while the app closes is one (as any backup tool would be).
  local left
  left=$(files_like "$ROOT" db.sqlite)
  [[ $left == db.sqlite || $left == $'db.sqlite\ndb.sqlite-shm\ndb.sqlite-wal' ]] && pass ||
    check_fail "once closed, db.sqlite remains (with its -wal and -shm at most): [$left]"
  eq "" "$(files_like "$REMOTE" db.sqlite)" "no db file in REMOTE/data/blobs once closed"
  # the physical file, read without the shim, holds everything
  eq "1,2,3,4,5" "$(sqlite3 "$ROOT/data/blobs/db.sqlite" 'SELECT group_concat(x) FROM t;')" "physical database content"
  expect_all <<'EOF'
    L f data/blobs/db.sqlite
EOF
}

sqlite_remote_db() {
  x sqlite3 data/blobs/other.db 'PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);'
  start_holder data/blobs/other.db
  send '.timeout 5000'
  send 'BEGIN; SELECT count(*) FROM t;'
  wait_for "$ROOT/data/blobs/other.db-shm" "$REMOTE/data/blobs/other.db-shm"
  x sqlite3 -cmd '.timeout 5000' data/blobs/other.db 'INSERT INTO t VALUES (2);'
  eq $'other.db\nother.db-shm\nother.db-wal' "$(files_like "$REMOTE" other.db)" "other.db files in REMOTE while held open"
  eq "" "$(files_like "$ROOT" other.db)" "other.db files in ROOT while held open"
  send 'COMMIT; SELECT count(*) FROM t;'
  stop_holder
  eq $'1\n2' "$(cat "$W/holder.out")" "holder output"
  x sqlite3 data/blobs/other.db 'PRAGMA wal_checkpoint(TRUNCATE); SELECT sum(x) FROM t;'
  eq $'0|0|0\n3' "$OUT" "checkpoint and read"
  eq 3 "$(sqlite3 "$REMOTE/data/blobs/other.db" 'SELECT sum(x) FROM t;')" "physical other.db content"
  expect_all <<'EOF'
    R f data/blobs/other.db
EOF
}

# Rollback journals (PERSIST keeps the -journal after commit), the
# unix-dotfile VFS's <name>.lock, VACUUM INTO and .backup.
sqlite_sidecars() {
  x sqlite3 data/blobs/p.sqlite 'PRAGMA journal_mode=PERSIST; CREATE TABLE t(x); INSERT INTO t VALUES (1);'
  x sqlite3 data/blobs/p.db 'PRAGMA journal_mode=PERSIST; CREATE TABLE t(x); INSERT INTO t VALUES (1);'
  # journal_mode=PERSIST is the connection's: the -journal stays until the
  # next connection in the default mode commits
  expect_all <<'EOF'
    L f data/blobs/p.sqlite
    L f data/blobs/p.sqlite-journal
    R f data/blobs/p.db
    R f data/blobs/p.db-journal
EOF
  expect_tier local_synced data/blobs/p.sqlite-journal data/blobs/p.sqlite-wal data/blobs/p.sqlite.lock
  expect_tier remote data/blobs/p.db-journal
  x sqlite3 data/blobs/p.sqlite "VACUUM INTO 'data/blobs/copy.db'; VACUUM INTO 'data/blobs/copy.sqlite';"
  x sqlite3 data/blobs/p.db '.backup data/blobs/bk.sqlite' '.backup exports/bk.db'
  x sqlite3 data/blobs/copy.db 'SELECT sum(x) FROM t;'
  eq 1 "$OUT" "VACUUM INTO copy readable"
  expect_all <<'EOF'
    L f data/blobs/p.sqlite
    L f data/blobs/p.sqlite-journal
    R f data/blobs/p.db
    R f data/blobs/p.db-journal
    R f data/blobs/copy.db
    L f data/blobs/copy.sqlite
    L f data/blobs/bk.sqlite
    R f exports/bk.db
EOF
  eq 1 "$(sqlite3 "$ROOT/data/blobs/bk.sqlite" 'SELECT sum(x) FROM t;')" "physical .backup content"
}

# The unix-dotfile VFS locks with a directory <db>.lock made by mkdir(2).
sqlite_dotlock() {
  x sqlite3 data/blobs/p.sqlite 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'
  # the unix-dotfile VFS's lock is a directory made with mkdir(2), which
  # exists while a write transaction is open: it must follow p.sqlite
  expect_tier local_synced data/blobs/p.sqlite.lock/
  start_holder 'file:data/blobs/p.sqlite?vfs=unix-dotfile'
  send 'BEGIN IMMEDIATE; INSERT INTO t VALUES (2);'
  wait_for "$ROOT/data/blobs/p.sqlite.lock" "$REMOTE/data/blobs/p.sqlite.lock"
  if [[ -e $ROOT/data/blobs/p.sqlite.lock && ! -e $REMOTE/data/blobs/p.sqlite.lock ]]; then pass
  else check_fail "p.sqlite.lock should be local: ROOT: $(files_like "$ROOT" p.sqlite.lock) REMOTE: $(files_like "$REMOTE" p.sqlite.lock)"; fi
  send 'COMMIT;'
  stop_holder
  x sqlite3 data/blobs/p.sqlite 'SELECT sum(x) FROM t;'
  eq 3 "$OUT" "data written under the dot-file lock"
  expect_all <<'EOF'
    L f data/blobs/p.sqlite
EOF
}

run_modes sqlite sqlite_local_wal sqlite_remote_db sqlite_sidecars sqlite_dotlock
