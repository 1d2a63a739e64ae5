#!/usr/bin/env python3
"""Helpers for the checkpoint/restore shell tests (tests/sync/test_*.sh).

Run WITHOUT the shim: they look at physical files.

  manifest ROOT --fractfs BIN [--exclude-list FILE]... [--exclude REL]... [--dir-mtime]
      Every entry under ROOT that a checkpoint covers, one line each, sorted:
      TYPE<TAB>PATH<TAB>MODE<TAB>SIZE<TAB>MTIME_NS<TAB>SHA256|TARGET
      Files and symlinks: tier local_synced (asked to `fractfs check`),
      minus the exclusions (the bundle list, .fractfs.toml). Directories:
      every one not local_ignored (the local halves of [dirs] included);
      their mtime only with --dir-mtime. Symlinks are never followed.
  mutate ROOT SEED [--big N]
      Random changes to a tree made by `populate`: modify, add, delete,
      rename (within and across directories), chmod, touch, symlinks, and
      a change in the middle of one big file.
  populate ROOT SEED SMALL BIG_MB...
      A tree of SMALL small files in a few directories, and one big file
      of each size (MiB) in BIG_MB.
  gen-paths STORE [N]
      The entries of generation N (default: CURRENT), walked through its
      trees: TYPE<TAB>PATH<TAB>MODE<TAB>SIZE<TAB>MTIME_NS<TAB>IDS|TARGET.
  fsck STORE [--keep K]
      Checks the store: prints a JSON object with the current generation,
      the generation records present, for each the objects its trees
      reference that are missing, the number of object files, the number
      referenced by the records present, and the object files no record
      references (leftovers).
  current STORE
      The current generation number (0: none).
  torn-check STORE REL
      REL in the current generation, its chunks read from the store, made
      of 4-byte version numbers (see the function): "absent", "whole V",
      "rewriting ...", or "TORN ..." for a copy the file never was. A chunk
      collected meanwhile: "retry".
  json-field FILE KEY[.KEY...]
      One value of a JSON file: strings bare, anything else as JSON.
  serve
      Reads commands, one per line (shell-quoted words: CMD ARGS...), runs
      each, and writes its output followed by a line "\x1eSTATUS": one
      Python start for a whole test (tests/sync/lib.sh: `h CMD ARGS...`).
      Files' hashes are cached by (path, inode, size, mtime, ctime).
"""
import hashlib
import json
import os
import random
import re
import stat
import subprocess
import sys


# ---------------------------------------------------------------- manifest

HASH_CACHE = {}


def sha256_file(path):
    st = os.lstat(path)
    key = (path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key in HASH_CACHE:
        return HASH_CACHE[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    HASH_CACHE[key] = h.hexdigest()
    return HASH_CACHE[key]


def walk(root):
    """(rel, lstat) for every entry under root, no symlink followed."""
    out = []
    stack = [""]
    while stack:
        rel = stack.pop()
        full = os.path.join(root, rel) if rel else root
        with os.scandir(full) as it:
            for e in it:
                r = rel + "/" + e.name if rel else e.name
                st = os.lstat(os.path.join(root, r))
                out.append((r, st))
                if stat.S_ISDIR(st.st_mode):
                    stack.append(r)
    return out


def tiers(fractfs, root, entries):
    """{rel: tier} asked to `fractfs check --stdin` (directories with a '/')."""
    if not entries:
        return {}
    text = "".join(r + ("/" if stat.S_ISDIR(st.st_mode) else "") + "\n" for r, st in entries)
    p = subprocess.run([fractfs, "check", "--root", root, "--stdin"], input=text.encode(),
                       cwd=root, capture_output=True, check=True)
    out = {}
    for line in p.stdout.decode().splitlines():
        t, path = line.split("\t", 1)
        out[path.rstrip("/")] = t
    return out


def manifest(args):
    root = os.path.abspath(args[0])
    fractfs = None
    excluded = {".fractfs.toml"}
    dir_mtime = False
    i = 1
    while i < len(args):
        a = args[i]
        if a == "--fractfs":
            fractfs = args[i + 1]; i += 2
        elif a == "--exclude-list":
            try:
                with open(args[i + 1]) as f:
                    excluded.update(l.rstrip("\n") for l in f if l.strip())
            except FileNotFoundError:
                pass
            i += 2
        elif a == "--exclude":
            excluded.add(args[i + 1]); i += 2
        elif a == "--dir-mtime":
            dir_mtime = True; i += 1
        else:
            sys.exit("manifest: unknown argument " + a)
    entries = walk(root)
    tier = tiers(fractfs, root, entries)
    lines = []
    for rel, st in entries:
        t = tier.get(rel)
        mode = "%04o" % stat.S_IMODE(st.st_mode)
        full = os.path.join(root, rel)
        if stat.S_ISDIR(st.st_mode):
            if t == "local_ignored":
                continue
            # Below an ignored directory: `fractfs check` says so for the files too.
            lines.append("d\t%s\t%s\t0\t%s\t-" % (rel, mode, st.st_mtime_ns if dir_mtime else "-"))
            continue
        if t != "local_synced" or rel in excluded:
            continue
        if stat.S_ISLNK(st.st_mode):
            lines.append("l\t%s\t-\t%d\t%d\t%s" % (rel, st.st_size, st.st_mtime_ns, os.readlink(full)))
        elif stat.S_ISREG(st.st_mode):
            lines.append("f\t%s\t%s\t%d\t%d\t%s" % (rel, mode, st.st_size, st.st_mtime_ns, sha256_file(full)))
        else:
            lines.append("?\t%s\t%s" % (rel, mode))
    # Directories below an ignored directory were never walked into by the
    # checkpoint: drop those whose ancestor is ignored.
    ignored = {rel for rel, st in entries if stat.S_ISDIR(st.st_mode) and tier.get(rel) == "local_ignored"}
    def under_ignored(rel):
        parts = rel.split("/")
        return any("/".join(parts[:k]) in ignored for k in range(1, len(parts)))
    lines = [l for l in lines if not under_ignored(l.split("\t")[1])]
    lines.sort(key=lambda l: l.split("\t")[1].encode())
    sys.stdout.write("".join(l + "\n" for l in lines))


# ---------------------------------------------------------------- tree making

DIRS = ["alpha", "beta", "beta/deep", "gamma", "gamma/x/y"]


def rand_bytes(rng, n):
    return rng.randbytes(n)


def populate(args):
    root, seed, small = args[0], int(args[1]), int(args[2])
    rng = random.Random(seed)
    for d in DIRS:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for i in range(small):
        d = DIRS[i % len(DIRS)]
        with open(os.path.join(root, d, "f%03d.txt" % i), "wb") as f:
            f.write(rand_bytes(rng, rng.randint(0, 3000)))
    for i, mb in enumerate(args[3:]):
        with open(os.path.join(root, "big%d.bin" % i), "wb") as f:
            f.write(rng.randbytes(int(mb) << 20))
    os.symlink("alpha/f000.txt", os.path.join(root, "link0"))
    os.makedirs(os.path.join(root, "empty"), exist_ok=True)
    with open(os.path.join(root, "scratch.tmp"), "wb") as f:  # ignored
        f.write(b"never checkpointed\n")


def mutate(args):
    root, seed = args[0], int(args[1])
    rng = random.Random(seed)
    files = []
    for rel, st in walk(root):
        if stat.S_ISREG(st.st_mode) and rel.endswith(".txt"):
            files.append(rel)
    files.sort()
    rng.shuffle(files)
    n = len(files)
    k = max(1, n // 20)
    i = 0
    for rel in files[i:i + k]:  # rewrite
        with open(os.path.join(root, rel), "wb") as f:
            f.write(rand_bytes(rng, rng.randint(0, 4000)))
    i += k
    for rel in files[i:i + k // 2 + 1]:  # append
        with open(os.path.join(root, rel), "ab") as f:
            f.write(rand_bytes(rng, rng.randint(1, 500)))
    i += k // 2 + 1
    for rel in files[i:i + k]:  # delete
        os.unlink(os.path.join(root, rel))
    i += k
    for rel in files[i:i + k // 2 + 1]:  # rename, maybe to another directory
        d = rng.choice(DIRS)
        new = "%s/r%d-%s" % (d, rng.randrange(1 << 30), os.path.basename(rel))
        os.rename(os.path.join(root, rel), os.path.join(root, new))
    i += k // 2 + 1
    for rel in files[i:i + 2]:  # chmod
        os.chmod(os.path.join(root, rel), rng.choice([0o600, 0o640, 0o644, 0o755]))
    i += 2
    for rel in files[i:i + 2]:  # same content, other mtime
        t = rng.randrange(1_000_000_000, 1_700_000_000) * 10**9 + rng.randrange(10**9)
        os.utime(os.path.join(root, rel), ns=(t, t))
    i += 2
    for _ in range(k):  # add
        d = rng.choice(DIRS)
        with open(os.path.join(root, d, "n%d.txt" % rng.randrange(1 << 30)), "wb") as f:
            f.write(rand_bytes(rng, rng.randint(0, 4000)))
    # A new directory now and then, or one removed.
    if rng.random() < 0.3:
        d = "new%d" % rng.randrange(1 << 30)
        os.makedirs(os.path.join(root, d, "sub"))
        with open(os.path.join(root, d, "sub", "inside.txt"), "wb") as f:
            f.write(rand_bytes(rng, 100))
    else:
        for rel, st in walk(root):
            if stat.S_ISDIR(st.st_mode) and rel.startswith("new") and "/" not in rel:
                for r2, s2 in sorted(walk(os.path.join(root, rel)), key=lambda e: -len(e[0])):
                    p = os.path.join(root, rel, r2)
                    os.rmdir(p) if stat.S_ISDIR(s2.st_mode) else os.unlink(p)
                os.rmdir(os.path.join(root, rel))
                break
    # The symlink changes target.
    link = os.path.join(root, "link0")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink("target-%d" % rng.randrange(1000), link)
    # One big file: a block in its middle (one chunk changes), or its tail.
    bigs = sorted(r for r, st in walk(root) if r.startswith("big"))
    if bigs:
        b = os.path.join(root, rng.choice(bigs))
        size = os.path.getsize(b)
        with open(b, "r+b") as f:
            if rng.random() < 0.8:
                f.seek(rng.randrange(max(1, size - 65536)))
                f.write(rng.randbytes(65536))
            else:
                f.truncate(max(0, size - rng.randrange(1, 1 << 20)))
                f.seek(0, 2)
                f.write(rng.randbytes(rng.randrange(1, 1 << 20)))


# ---------------------------------------------------------------- the store

def obj_path(store, oid):
    return os.path.join(store, "objects", oid[:2], oid[2:])


_packs = {}


def pack_index(store):
    """Object id -> (pack file, offset, length), from every index/ID (the
    first pack read wins where two hold an object, as in fractfs)."""
    if store not in _packs:
        out = {}
        d = os.path.join(store, "index")
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, name)) as f:
                lines = f.read().split("\n")
            if lines[0] != "fractfs-index 1":
                raise ValueError("bad index header in %s: %r" % (name, lines[0]))
            for line in lines[1:]:
                if line:
                    oid, off, length = line.split(" ")
                    out.setdefault(oid, (os.path.join(store, "packs", name), int(off), int(length)))
        _packs[store] = out
    return _packs[store]


def read_obj(store, oid):
    """An object's bytes, loose or packed; None if it is missing."""
    p = obj_path(store, oid)
    if os.path.exists(p):
        with open(p, "rb") as f:
            return f.read()
    at = pack_index(store).get(oid)
    if at is None or not os.path.exists(at[0]):
        return None
    with open(at[0], "rb") as f:
        f.seek(at[1])
        data = f.read(at[2])
    return data if len(data) == at[2] else None


def has_obj(store, oid):
    p = obj_path(store, oid)
    if os.path.exists(p):
        return True
    at = pack_index(store).get(oid)
    return at is not None and os.path.exists(at[0]) and os.path.getsize(at[0]) >= at[1] + at[2]


def read_kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if " " in line:
                k, v = line.split(" ", 1)
                out[k] = v
    return out


def current_record(store):
    """(number, tag) of CURRENT; (0, "") when there is none. Format 1 has no tag."""
    p = os.path.join(store, "CURRENT")
    if not os.path.exists(p):
        return 0, ""
    kv = read_kv(p)
    tag = kv.get("tag", "-")
    return int(kv["generation"]), "" if tag == "-" else tag


def current(store):
    return current_record(store)[0]


def records(store):
    """(number, tag) of every generation record present (losers of a race too)."""
    d = os.path.join(store, "generations")
    out = []
    for name in os.listdir(d) if os.path.isdir(d) else []:
        m = re.fullmatch(r"(\d{12})(?:-([0-9a-f]{16}))?", name)
        if m:
            out.append((int(m.group(1)), m.group(2) or ""))
    return sorted(out)


def record_path(store, n, tag):
    return os.path.join(store, "generations", "%012d" % n + ("-" + tag if tag else ""))


def history(store):
    """The records from CURRENT back through each record's parent, newest first."""
    present = set(records(store))
    out = []
    at = current_record(store)
    while at[0] > 0 and at in present:
        out.append(at)
        kv = read_kv(record_path(store, *at))
        tag = kv.get("parent_tag", "-")
        at = (int(kv["parent"]), "" if tag == "-" else tag)
    return out


def unescape(s):
    out = bytearray()
    b = s.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(b):
        if b[i] == 0x25:
            out.append(int(b[i + 1:i + 3], 16)); i += 3
        else:
            out.append(b[i]); i += 1
    return out.decode("utf-8", "surrogateescape")


def chunk_ids(ids):
    """The object ids of a tree entry's id field ("-", "ID,ID", or "cN:ID,ID"
    for a file of 2^N-byte chunks)."""
    if ids == "-":
        return []
    return ids.split(":", 1)[-1].split(",")


def parse_tree(text):
    lines = text.split("\n")
    if lines[0] != "fractfs-tree 1":
        raise ValueError("bad tree header %r" % lines[0])
    out = []
    for line in lines[1:]:
        if not line:
            continue
        kind, mode, mtime, size, ids, name = line.split(" ", 5)
        out.append((kind, mode, mtime, size, ids, unescape(name)))
    return out


def walk_tree(store, tree, prefix, out, missing, seen):
    if tree in seen and out is None:
        return
    seen.add(tree)
    data = read_obj(store, tree)
    if data is None:
        missing.add(tree)
        return
    entries = parse_tree(data.decode("utf-8", "surrogateescape"))
    for kind, mode, mtime, size, ids, name in entries:
        rel = prefix + "/" + name if prefix else name
        if out is not None:
            out.append((kind, rel, mode, size, mtime, ids if kind != "l" else unescape(ids)))
        if kind == "d":
            walk_tree(store, ids, rel, out, missing, seen)
        elif kind == "f" and ids != "-":
            for i in chunk_ids(ids):
                seen.add(i)
                if not has_obj(store, i):
                    missing.add(i)


def gen_record(store, n):
    """Record n of the history (else the only record numbered n)."""
    for num, tag in history(store) + records(store):
        if num == n:
            return read_kv(record_path(store, num, tag))
    raise FileNotFoundError("no generation record %d in %s" % (n, store))


def gen_paths(args):
    store = args[0]
    n = int(args[1]) if len(args) > 1 else current(store)
    rec = gen_record(store, n)
    out = []
    walk_tree(store, rec["root"], "", out, set(), set())
    for kind, rel, mode, size, mtime, x in sorted(out, key=lambda e: e[1].encode()):
        print("\t".join([kind, rel, mode, size, mtime, x]))


def fsck(args):
    store = args[0]
    keep = int(args[args.index("--keep") + 1]) if "--keep" in args else 3
    # The history's records; others (a crashed commit's, a race's loser) are
    # counted apart: the next commit's collection drops them.
    hist = history(store)
    gens = sorted(n for n, _ in hist)
    cur = current(store)
    referenced = set()
    report = {"current": cur, "generations": gens, "other_records": len(set(records(store)) - set(hist)),
              "missing": {}, "stray_tmp": 0}
    for g in gens:
        rec = gen_record(store, g)
        seen, missing = set(), set()
        walk_tree(store, rec["root"], "", None, missing, seen)
        referenced |= seen
        if missing:
            report["missing"][str(g)] = sorted(missing)
    files = set()
    objdir = os.path.join(store, "objects")
    for dirpath, dirs, names in os.walk(objdir):
        for nm in names:
            if ".tmp-" in nm:
                report["stray_tmp"] += 1
                continue
            files.add(os.path.basename(dirpath) + nm)
    report["stray_tmp"] += sum(".tmp-" in nm for _, _, names in os.walk(os.path.join(store, "packs"))
                               for nm in names)
    packed = set(pack_index(store)) - files
    report["object_files"] = len(files) + len(packed)
    report["referenced"] = len(referenced)
    # Loose objects nothing references: a sweep leaves none.
    report["unreferenced"] = len(files - referenced)
    # Packed ones: dead in a pack that is still mostly live.
    report["dead_in_packs"] = len(packed - referenced)
    report.update(pack_health(store, referenced))
    report["missing_count"] = sum(len(v) for v in report["missing"].values())
    # "G:N" for each of the last `keep` generations (up to the current one)
    # that misses N objects.
    report["kept_missing"] = " ".join("%s:%d" % (g, len(ids)) for g, ids in report["missing"].items()
                                      if cur - keep < int(g) <= cur)
    print(json.dumps(report))


def pack_health(store, referenced):
    """Packs, and after a sweep what must be zero: packs under half live (by
    bytes), packs no index names."""
    d = os.path.join(store, "packs")
    names = [n for n in os.listdir(d) if ".tmp-" not in n] if os.path.isdir(d) else []
    live = {n: 0 for n in names}
    for oid, (path, off, length) in pack_index(store).items():
        name = os.path.basename(path)
        if oid in referenced and name in live:
            live[name] += length
    indexed = set(os.listdir(os.path.join(store, "index"))) if os.path.isdir(os.path.join(store, "index")) else set()
    sparse = [n for n in names if n in indexed and 2 * live[n] < os.path.getsize(os.path.join(d, n))]
    return {"packs": len(names), "sparse_packs": len(sparse), "unindexed_packs": len(set(names) - indexed)}


def obj_where(store, oid):
    """(file, offset, length) of an object, loose or packed."""
    p = obj_path(store, oid)
    if os.path.exists(p):
        return p, 0, os.path.getsize(p)
    at = pack_index(store).get(oid)
    if at is None:
        sys.exit("object %s is not in %s" % (oid, store))
    return at


def poke_obj(args):
    """poke-obj STORE ID OFFSET TEXT: overwrites bytes of the object where it is stored."""
    path, off, length = obj_where(args[0], args[1])
    with open(path, "r+b") as f:
        f.seek(off + int(args[2]))
        f.write(args[3].encode())


def drop_obj(args):
    """drop-obj STORE ID: the object is missing from then on (its index line goes)."""
    path, off, length = obj_where(args[0], args[1])
    if off == 0 and os.path.dirname(os.path.dirname(path)).endswith("objects"):
        os.unlink(path)
        return
    index = os.path.join(args[0], "index", os.path.basename(path))
    with open(index) as f:
        lines = [l for l in f.read().split("\n") if not l.startswith(args[1] + " ")]
    with open(index, "w") as f:
        f.write("\n".join(lines))


def write_obj(args):
    """write-obj STORE ID FILE: the object's bytes into FILE."""
    data = read_obj(args[0], args[1])
    if data is None:
        sys.exit("object %s is not in %s" % (args[1], args[0]))
    with open(args[2], "wb") as f:
        f.write(data)


def has_obj_cmd(args):
    sys.exit(0 if has_obj(args[0], args[1]) else 1)


def obj_sha256(args):
    """As `sha256sum < OBJECT` prints it."""
    data = read_obj(args[0], args[1])
    if data is None:
        sys.exit("object %s is not in %s" % (args[1], args[0]))
    print(hashlib.sha256(data).hexdigest() + "  -")


def torn_check(args):
    """The file is made of 4-byte little-endian version numbers, each
    version written over the whole file from its start to its end. At any
    instant it is version V everywhere, or V up to some offset and V-1
    after it (a rewrite in progress). Anything else is a torn copy: parts
    read at different times."""
    import struct
    store, rel = args
    try:
        rec = gen_record(store, current(store))
        out = []
        walk_tree(store, rec["root"], "", out, set(), set())
        entry = [e for e in out if e[1] == rel]
        if not entry:
            print("absent")
            return
        data = b"".join(open(obj_path(store, i), "rb").read() for i in chunk_ids(entry[0][5]))
    except (FileNotFoundError, KeyError):
        print("retry")
        return
    if len(data) % 4:
        print("TORN: %d bytes, not a whole number of versions" % len(data))
        return
    words = struct.unpack("<%dI" % (len(data) // 4), data)
    runs = []  # (version, first word)
    for i, w in enumerate(words):
        if not runs or runs[-1][0] != w:
            runs.append((w, i))
    if len(runs) <= 1:
        print("whole %s" % (runs[0][0] if runs else "-"))
    elif len(runs) == 2 and runs[1][0] == runs[0][0] - 1:
        print("rewriting %d over %d from offset %d" % (runs[0][0], runs[1][0], runs[1][1] * 4))
    else:
        print("TORN: %d bytes: %s" % (len(data), ", ".join("version %d from offset %d" % (v, i * 4) for v, i in runs[:6])))


def json_field(args):
    with open(args[0]) as f:
        v = json.load(f)
    for k in args[1].split("."):
        v = v[k] if isinstance(v, dict) else v[int(k)]
    print(v if isinstance(v, str) else json.dumps(v))


COMMANDS = {"manifest": manifest, "mutate": mutate, "populate": populate, "gen-paths": gen_paths,
            "fsck": fsck, "current": lambda a: print(current(a[0])), "json-field": json_field,
            "torn-check": torn_check, "has-obj": has_obj_cmd, "obj-sha256": obj_sha256,
            "poke-obj": poke_obj, "drop-obj": drop_obj, "write-obj": write_obj}


def serve():
    import contextlib
    import io
    import shlex
    import traceback
    for line in sys.stdin:
        words = shlex.split(line)
        if not words:
            continue
        buf = io.StringIO()
        status = 0
        outfile = None
        if words[0] == "-o":
            outfile, words = words[1], words[2:]
        _packs.clear()  # the store changes between commands
        try:
            with contextlib.redirect_stdout(buf):
                COMMANDS[words[0]](words[1:])
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
            if not isinstance(e.code, int) and e.code is not None:
                buf.write(str(e.code) + "\n")
        except Exception:
            status = 1
            buf.write(traceback.format_exc())
        out = buf.getvalue()
        if outfile is not None and status == 0:
            with open(outfile, "w") as f:
                f.write(out)
            out = ""
        if out and not out.endswith("\n"):
            out += "\n"
        sys.stdout.write(out + "\x1e%d\n" % status)
        sys.stdout.flush()


def main():
    if sys.argv[1] == "serve":
        serve()
    else:
        COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
