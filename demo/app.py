"""A small app that knows nothing about fractfs: it writes a dataset, a
manifest, a lock, a SQLite database, a temporary file it then publishes,
an export and some state of its own, and reads it all back."""
import os
import sqlite3

os.makedirs("data/blobs/.locks", exist_ok=True)
os.makedirs("exports", exist_ok=True)
os.makedirs("state", exist_ok=True)

with open("data/blobs/part-0.parquet", "wb") as f:          # big data: remote
    f.write(os.urandom(256 * 1024))
with open("data/blobs/manifest.json", "w") as f:            # [local] pattern
    f.write('{"parts": ["part-0.parquet", "part-1.parquet"]}\n')
with open("data/blobs/.locks/writer.lock", "w") as f:       # [ignore] pattern
    f.write(str(os.getpid()))

# Written as a temporary file (ignored tier), then published under its
# final name (remote tier): the rename crosses tiers.
with open("data/blobs/part-1.parquet.tmp", "wb") as f:
    f.write(os.urandom(128 * 1024))
os.replace("data/blobs/part-1.parquet.tmp", "data/blobs/part-1.parquet")

db = sqlite3.connect("data/blobs/catalog.sqlite")           # [local], with its WAL
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS parts(name TEXT)")
db.executemany("INSERT INTO parts VALUES (?)", [("part-0.parquet",), ("part-1.parquet",)])
db.commit()

with open("exports/report.csv", "w") as f:                  # [dirs] exports: remote
    f.write("part,bytes\n")
    for name in sorted(os.listdir("data/blobs")):
        if name.endswith(".parquet"):
            f.write(f"{name},{os.path.getsize('data/blobs/' + name)}\n")
runs = 1                                                    # default: local, synced
if os.path.exists("state/counter.txt"):
    with open("state/counter.txt") as f:
        runs = int(f.read()) + 1
with open("state/counter.txt", "w") as f:
    f.write(f"{runs}\n")

print("run number (state/counter.txt):", runs)
print("the app sees data/blobs:", sorted(os.listdir("data/blobs")))
print("catalog rows:", db.execute("SELECT count(*) FROM parts").fetchone()[0])
db.close()
