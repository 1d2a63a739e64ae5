#!/usr/bin/env python3
"""What `make bench` measures for live SQLite databases (report: BUILD/bench/sqlite.md).

  python3 bench/bench_sqlite.py [--mb 1024] [--rounds 3] [--rpo-trials 3] [BUILD]
  BENCH_SQLITE_DIR=DIR   where the data goes (default $TMPDIR or /tmp); removed at the end

In one run, on one database of --mb MiB (rows of 4000 random bytes, 4 KiB pages):
 - fractfs's first checkpoint of it, and a checkpoint after 10 rows changed (idle
   rollback-journal database; then WAL with a writer's connection open and the
   changes still in the -wal), next to `sqlite3 .backup` and `VACUUM INTO` of it;
 - the holder's cost per checkpoint when nothing changed (CPU time of the
   fractfs-run process over a minute of idle checkpoints, and `fractfs sync` wall);
 - the recovery point under a steady writer: fractfs-run with sync_interval = 1
   while a writer commits as fast as it can; kill -9 of everything, restore, and
   the age of the newest restored commit at the kill. And whether `.backup`
   finishes at all under that writer (it restarts when the source changes).
"""
import argparse, json, os, random, shutil, signal, sqlite3, statistics, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--mb", type=int, default=1024)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--rpo-trials", type=int, default=3)
ap.add_argument("build", nargs="?", default=os.environ.get("BUILD", "build"))
args = ap.parse_args()
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.join(repo, args.build)
FRACTFS, RUN = os.path.join(build, "bin/fractfs"), os.path.join(build, "bin/fractfs-run")
for k in list(os.environ):
    if k.upper().startswith("FRACTFS_") or k == "LD_PRELOAD":
        del os.environ[k]
base = tempfile.mkdtemp(prefix="fractfs-bench-sqlite-", dir=os.environ.get("BENCH_SQLITE_DIR"))
report = []

def say(*a):
    print(*a, file=sys.stderr, flush=True)

def timed(fn):
    t = time.monotonic()
    fn()
    return time.monotonic() - t

def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

def new_root(name, extra=""):
    root = os.path.join(base, name, "app")
    remote = os.path.join(base, name, "remote")
    os.makedirs(root); os.makedirs(remote)
    with open(os.path.join(root, ".fractfs.toml"), "w") as f:
        # [local]: a database made before the first start is app state, not deploy bundle.
        f.write('remote_root = "%s"\nscratch = "%s"\n%s\n[local]\npatterns = ["*.sqlite"]\n'
                % (remote, os.path.join(base, name, "scratch"), extra))
    return root

def last_uploaded(root):
    gens = json.loads(run(FRACTFS, "log", "--root", root, "--json").stdout)
    g = gens[0] if isinstance(gens, list) else gens["generations"][0]
    return g.get("new_bytes", g.get("uploaded", 0))

def sync(root):
    return timed(lambda: run(FRACTFS, "sync", "--root", root))

def make_db(path, mb):
    rows = mb * 1024 * 1024 // 4096
    db = sqlite3.connect(path)
    db.executescript("PRAGMA page_size=4096; PRAGMA journal_mode=delete; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);")
    db.execute("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < ?) "
               "INSERT INTO t(v) SELECT randomblob(4000) FROM c", (rows,))
    db.commit(); db.close()
    return rows

def change_rows(db, rows, n=10):
    for i in random.sample(range(1, rows + 1), n):
        db.execute("UPDATE t SET v = randomblob(4000) WHERE id = ?", (i,))
    db.commit()

def mib(n): return "%.1f MiB" % (n / 1048576)

try:
    # ---- checkpoints of a big database, next to .backup and VACUUM INTO
    root = new_root("big", "sync_interval = 0")
    db_path = os.path.join(root, "app.sqlite")
    say("bench_sqlite: making a %d MiB database" % args.mb)
    rows = make_db(db_path, args.mb)
    run(FRACTFS, "restore", "--root", root)
    first = sync(root)
    first_up = last_uploaded(root)
    idle, idle_up = [], []
    for _ in range(args.rounds):
        db = sqlite3.connect(db_path); change_rows(db, rows); db.close()
        idle.append(sync(root)); idle_up.append(last_uploaded(root))
    backup = statistics.median(timed(lambda: run("sqlite3", db_path, ".backup '%s'" % os.path.join(base, "b.db"))) or 0
                               for _ in range(args.rounds))
    vacuum = []
    for _ in range(args.rounds):
        out = os.path.join(base, "v.db")
        if os.path.exists(out): os.unlink(out)
        vacuum.append(timed(lambda: run("sqlite3", db_path, "VACUUM INTO '%s'" % out)))
    # WAL, a writer's connection open, its changes still in the log.
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA journal_mode=wal"); con.execute("PRAGMA wal_autocheckpoint=0")
    sync(root)
    wal, wal_up = [], []
    for _ in range(args.rounds):
        con.execute("BEGIN"); change_rows(con, rows); 
        wal.append(sync(root)); wal_up.append(last_uploaded(root))
    con.close()
    report += ["## A %d MiB SQLite database (%d rows of 4000 bytes)" % (args.mb, rows), "",
               "| | seconds | stored |", "|---|---:|---:|",
               "| fractfs first checkpoint | %.2f | %s |" % (first, mib(first_up)),
               "| fractfs, 10 rows changed (rollback journal, idle) | %.3f | %s |" % (statistics.median(idle), mib(statistics.median(idle_up))),
               "| fractfs, 10 rows changed (WAL, writer connected, changes in the -wal) | %.3f | %s |" % (statistics.median(wal), mib(statistics.median(wal_up))),
               "| `sqlite3 .backup` | %.2f | %s |" % (backup, mib(os.path.getsize(db_path))),
               "| `VACUUM INTO` | %.2f | %s |" % (statistics.median(vacuum), mib(os.path.getsize(os.path.join(base, "v.db")))),
               "", "Medians of %d rounds. fractfs reads the whole file to find the changed chunks (256 KiB) and stores only those." % args.rounds, ""]
    shutil.rmtree(os.path.join(base, "big"), ignore_errors=True)

    # ---- the holder's cost when nothing changes
    root = new_root("idle", "sync_interval = 1")
    make_db(os.path.join(root, "app.sqlite"), 64)
    holder = subprocess.Popen([RUN, "--root", root, "--", "sleep", "40"], cwd=root)
    time.sleep(5)
    state = [os.path.join(d, "status") for d in [os.path.join(base, "idle/scratch", x) for x in os.listdir(os.path.join(base, "idle/scratch"))]][0]
    def cpu_and_count():
        f = open("/proc/%d/stat" % holder.pid).read().rsplit(")", 1)[1].split()
        cpu = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        n = int([l.split()[1] for l in open(state) if l.startswith("checkpoints ")][0])
        return cpu, n
    c0, n0 = cpu_and_count(); time.sleep(30); c1, n1 = cpu_and_count()
    walls = [sync(root) for _ in range(10)]
    holder.wait()
    report += ["## Nothing changed", "",
               "| | value |", "|---|---:|",
               "| holder CPU per checkpoint (%d checkpoints, sync_interval = 1) | %.3f ms |" % (n1 - n0, 1000 * (c1 - c0) / max(1, n1 - n0)),
               "| `fractfs sync` wall (through the holder's socket) | %.1f ms |" % (1000 * statistics.median(walls)), ""]

    # ---- recovery point under a steady writer
    writer_py = os.path.join(base, "writer.py")
    open(writer_py, "w").write(
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect('app.sqlite', isolation_level=None, timeout=30)\n"
        "db.execute('PRAGMA journal_mode=%s' % sys.argv[2])\n"
        "db.execute('CREATE TABLE IF NOT EXISTS w(n INTEGER PRIMARY KEY, t REAL, v BLOB)')\n"
        "log = open(sys.argv[1], 'a', buffering=1)\n"
        "n = 0\n"
        "while True:\n"
        "    n += 1\n"
        "    db.execute('INSERT INTO w VALUES (?, ?, randomblob(200))', (n, time.time()))\n"
        "    log.write('%d %.6f\\n' % (n, time.time()))\n")
    rpo = {"wal": [], "delete": []}
    for mode in rpo:
        for trial in range(args.rpo_trials):
            name = "rpo-%s-%d" % (mode, trial)
            root = new_root(name, "sync_interval = 1")
            log = os.path.join(base, name + ".log")
            p = subprocess.Popen([RUN, "--root", root, "--", sys.executable, writer_py, log, mode], cwd=root, start_new_session=True)
            time.sleep(8 + random.random() * 2)
            kill_time = time.time()
            os.killpg(p.pid, signal.SIGKILL); p.wait()
            for name2 in os.listdir(root):
                if name2 != ".fractfs.toml": os.unlink(os.path.join(root, name2))
            shutil.rmtree(os.path.join(base, name, "scratch"))
            run(FRACTFS, "restore", "--root", root)
            got = sqlite3.connect(os.path.join(root, "app.sqlite")).execute("SELECT max(t) FROM w").fetchone()[0] or 0
            rpo[mode].append(kill_time - got)
    # .backup of the 1 GiB-class database under the same writer (rollback journal)
    root = new_root("backup-under-writer", "")
    make_db(os.path.join(root, "app.sqlite"), min(args.mb, 256))
    w = subprocess.Popen([sys.executable, writer_py, os.path.join(base, "bw.log"), "delete"], cwd=root)
    time.sleep(1)
    t0 = time.monotonic()
    try:
        r = subprocess.run(["sqlite3", "-cmd", ".timeout 60000", os.path.join(root, "app.sqlite"),
                            ".backup '%s'" % os.path.join(base, "bw.db")], timeout=60, capture_output=True, text=True)
        backup_under = ("%.1f s" % (time.monotonic() - t0)) if r.returncode == 0 else "failed: " + r.stderr.strip()
    except subprocess.TimeoutExpired:
        backup_under = "did not finish in 60 s"
    w.kill(); w.wait()
    report += ["## Recovery point under a steady writer (sync_interval = 1, kill -9 of everything)", "",
               "| journal mode | trials | median age of the newest restored commit | worst | bound (2 × interval + 2 s) |",
               "|---|---:|---:|---:|---:|"]
    for mode, v in rpo.items():
        report.append("| %s | %d | %.2f s | %.2f s | 4 s |" % (mode, len(v), statistics.median(v), max(v)))
    report += ["", "`sqlite3 .backup` of a %d MiB rollback-journal database under that writer: %s." % (min(args.mb, 256), backup_under), ""]
finally:
    shutil.rmtree(base, ignore_errors=True)

os.makedirs(os.path.join(build, "bench"), exist_ok=True)
text = "# Live SQLite databases\n\n" + "\n".join(report)
open(os.path.join(build, "bench", "sqlite.md"), "w").write(text)
print(text)
