#!/usr/bin/env python3
"""Helper of bench/bench_checkpoint.sh (plain python3, nothing of the project).

  bench_checkpoint.py tree ROOT NSMALL NDIRS NBIG BIGSIZE
      Builds the bench tree: NSMALL files of 4 KiB (file i in
      small/dDDD with DDD = i % NDIRS, named fIIIIII) and NBIG files of
      BIGSIZE bytes (big/bNN.bin), all of random content: incompressible
      and no two alike, so content addressing gains nothing from dedup.

  bench_checkpoint.py report SAMPLES META OUT_MD OUT_DAT
      Reads the samples (TSV: key, rep, seconds, note) and the run's facts
      (META: key=value lines), writes the markdown report and the chart's
      data (two gnuplot indexes: throughput bars, latency bars).
"""
import os
import statistics
import sys

SMALL = 4096


def make_tree(root, nsmall, ndirs, nbig, bigsize):
    ndirs = max(1, min(ndirs, nsmall)) if nsmall else 1
    for d in range(ndirs):
        os.makedirs(os.path.join(root, "small", f"d{d:03d}"), exist_ok=True)
    # One urandom call per 1024 files: distinct 4 KiB windows of fresh bytes.
    batch = 1024
    for start in range(0, nsmall, batch):
        n = min(batch, nsmall - start)
        blob = os.urandom(n * SMALL)
        for k in range(n):
            i = start + k
            path = os.path.join(root, "small", f"d{i % ndirs:03d}", f"f{i:06d}")
            with open(path, "wb") as f:
                f.write(blob[k * SMALL:(k + 1) * SMALL])
    os.makedirs(os.path.join(root, "big"), exist_ok=True)
    for j in range(nbig):
        with open(os.path.join(root, "big", f"b{j:02d}.bin"), "wb") as f:
            left = bigsize
            while left > 0:
                n = min(left, 8 << 20)
                f.write(os.urandom(n))
                left -= n


# ---------------------------------------------------------------- report

def read_samples(path):
    samples = {}
    notes = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            key, rep, secs = parts[0], parts[1], parts[2]
            try:
                v = float(secs)
            except ValueError:
                continue
            samples.setdefault(key, []).append(v)
            if len(parts) > 3 and parts[3]:
                notes.setdefault(key, []).append(f"{rep}: {parts[3]}")
    return samples, notes


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def med(samples, key):
    v = samples.get(key)
    return statistics.median(v) if v else None


def best(samples, key):
    v = samples.get(key)
    return min(v) if v else None


def fmt_s(x):
    return "—" if x is None else f"{x:.3f}"


def fmt_ms(x):
    if x is None:
        return "—"
    ms = x * 1000
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def fmt_mbs(nbytes, x):
    return "—" if not x else f"{nbytes / x / 1e6:.0f}"


def spread(samples, key, scale=1.0, unit=""):
    v = samples.get(key)
    if not v:
        return "—"
    return f"{min(v) * scale:.3g}–{max(v) * scale:.3g}{unit} (n={len(v)})"


def verdict(ok, miss):
    if ok is None:
        return "—"
    return "met" if ok else f"**not met** ({miss})"


def write_report(samples_path, meta_path, out_md, out_dat):
    S, notes = read_samples(samples_path)
    M = read_meta(meta_path)
    nbytes = int(M["bytes"])
    nsmall = int(M["nsmall"])
    lines = []
    w = lines.append

    cp = med(S, "cp_first")
    cps = med(S, "cpsync_first")
    rs = med(S, "rsync_first")
    fr = med(S, "fr_first_wall")
    fr_self = med(S, "fr_first_self")
    hold_first = med(S, "holder_first_self")
    back_cp = med(S, "cp_back")
    rest = med(S, "fr_restore_wall")
    rest_self = med(S, "fr_restore_self")
    run_true = med(S, "run_true_wall")
    n0_self = med(S, "fr_nochange_self")
    n0_wall = med(S, "fr_nochange_wall")
    n0b_self = med(S, "fr_nochange_after_self")
    n0b_wall = med(S, "fr_nochange_after_wall")
    c10_self = med(S, "fr_change10_self")
    c10_wall = med(S, "fr_change10_wall")
    rs10 = med(S, "rsync_change10")
    full_self = med(S, "fr_full_self")
    full_wall = med(S, "fr_full_wall")

    ratio_first = cp / fr if cp and fr else None
    ratio_rest = back_cp / rest if back_cp and rest else None
    b_first = best(S, "cp_first") / best(S, "fr_first_wall") if cp and fr else None
    b_rest = best(S, "cp_back") / best(S, "fr_restore_wall") if back_cp and rest else None
    b_first_sync = best(S, "cpsync_first") / best(S, "fr_first_wall") if cps and fr else None

    w(f"# fractfs: checkpoint and restore vs cp -a and rsync -a ({nsmall:,} small files)")
    w("")
    w(f"Tree: {nsmall:,} files of 4 KiB in {M['ndirs']} directories (`small/dNNN/`) and "
      f"{M['nbig']} files of {int(M['bigsize']) / 1048576:g} MiB (`big/`), random content "
      f"(incompressible, no two alike): {int(M['files']):,} files, {nbytes / 1e6:.1f} MB "
      f"(MB = 10^6 bytes throughout).")
    w(f"Everything under `{M['work']}`, {M['fstype']}: the app root, the remote "
      f"(`remote_root`, checkpoint store in `remote_root/_checkpoint/.fractfs`), the scratch "
      f"and the cp/rsync destinations share one file system. Configuration "
      f"(`FRACTFS_CONFIG`, outside the root so the root holds the tree alone): "
      f"`sync_interval = 0` (only the bench's `fractfs sync` calls checkpoint), "
      f"`reconcile_every = 0` (no periodic full walk: every holder checkpoint after the "
      f"start-up one is journal-driven), `auto_ignore_bundle = false` (else a first start "
      f"would class the whole existing tree as the deploy bundle and checkpoint nothing), "
      f"`keep_generations = 3`, `content_hash = false`.")
    w("")
    w(f"Machine: {M['nproc']} CPUs, {M.get('mem', '?')} RAM, {M['kernel']}; load average {M['load_before']} at the start, "
      f"{M['load_after']} at the end (a shared machine: the figures move with the load). "
      f"Build `{M['fractfs']}` at {M['rev']}. Run {M['date']}, {M['elapsed']} s in all.")
    w("")
    w("Method: **warm caches** (dropping the page cache needs root, which the bench does not "
      "assume): the tree has just been written and stays cached; every copy reads cached "
      "data. Before each timed step `sync` flushes what earlier steps left dirty (not timed), "
      "so no step pays for another's writeback. The steps of a round are interleaved "
      f"in ABBA order (odd rounds: cp -a, rsync -a, fractfs; even rounds: fractfs first), {M['reps']} round(s) of the full copies and "
      f"{M.get('cheap', '?')} of the incremental checkpoints; each figure is the **median** over "
      "rounds (*best*: the fastest round, less exposed to the machine's other load). Nothing is "
      "deleted while measuring: every copy goes to a new directory, every first checkpoint "
      "to a new store (on ext4 without a journal, files created just after others were "
      "deleted pay for that: the allocator skips inodes freed in the last 30 s one by one). "
      "*Wall* times are measured by the bench around the whole command (process start "
      "included); *holder* times are the holder's own measure of the checkpoint (the "
      "`duration` it records, which `fractfs sync` prints).")
    w("")
    w("Choices: the **first checkpoint** is `fractfs sync` with no app running, into an empty "
      "store: one process that walks the root, reads and hashes every file, writes every "
      "object and makes it durable (3 × syncfs) — the same shape as one `cp -a` process "
      "into an empty directory, which makes nothing durable (hence the context row "
      "`cp -a` + `sync -f`). Each round also starts `fractfs-run` on another empty store: "
      "its start-up checkpoint (a full walk, in the holder's helper thread, as the holder "
      "measures it) is a first checkpoint too; the incremental checkpoints are then taken by "
      "a holder started again on round 1's store. The **restore** is `fractfs restore` into a fresh, empty root (its own scratch, "
      "so nothing is known locally), against `cp -a` of a copy of the tree into a fresh "
      "directory. Changes are made by `sh` under `LD_PRELOAD=libfractfs.so` with "
      "`FRACTFS_ROOT` set (so the shim's journal records them) while `fractfs-run` holds the "
      "app `sh -c 'while [ ! -e STOP ]; do sleep 0.1; done'`; each round rewrites 10 "
      "different 4 KiB files in 10 different directories with new random bytes.")
    w("")
    w("## Results and targets")
    w("")
    w("| measurement | fractfs | cp -a | rsync -a | throughput fractfs / cp -a (best rounds) | target | result |")
    w("|---|---:|---:|---:|---:|---:|---|")
    if fr:
        ok = ratio_first >= 0.8 if ratio_first is not None else None
        w(f"| first checkpoint (empty store), s (MB/s) | {fmt_s(fr)} ({fmt_mbs(nbytes, fr)}) | "
          f"{fmt_s(cp)} ({fmt_mbs(nbytes, cp)}) | {fmt_s(rs)} ({fmt_mbs(nbytes, rs)}) | "
          f"{ratio_first:.2f} ({b_first:.2f}) | ≥ 0.80 | {verdict(ok, f'{ratio_first - 0.8:+.2f}')} |")
    if rest:
        ok = ratio_rest >= 0.8 if ratio_rest is not None else None
        w(f"| full restore into an empty root, s (MB/s) | {fmt_s(rest)} ({fmt_mbs(nbytes, rest)}) | "
          f"{fmt_s(back_cp)} ({fmt_mbs(nbytes, back_cp)}) | — | "
          f"{ratio_rest:.2f} ({b_rest:.2f}) | ≥ 0.80 | {verdict(ok, f'{ratio_rest - 0.8:+.2f}')} |")
    if c10_self is not None:
        ok = c10_self < 0.050
        w(f"| 10 files changed, holder ms (`fractfs sync` wall ms) | {fmt_ms(c10_self)} ({fmt_ms(c10_wall)}) | — | "
          f"{fmt_ms(rs10)} | — | < 50 ms | {verdict(ok, f'{(c10_self - 0.05) * 1000:+.1f} ms')} |")
    if n0_self is not None:
        ok = n0_self < 0.010
        w(f"| nothing changed, holder ms (`fractfs sync` wall ms) | {fmt_ms(n0_self)} ({fmt_ms(n0_wall)}) | — | — | — "
          f"| < 10 ms | {verdict(ok, f'{(n0_self - 0.01) * 1000:+.1f} ms')} |")
    w("")
    w("The latency targets are judged on the holder's own measure; the wall time of "
      "`fractfs sync` adds its process start, configuration, store opening and the socket "
      "round trip. The first checkpoint is durable when it ends (syncfs), `cp -a` is not: "
      + (f"against `cp -a` + `sync -f` the throughput ratio is {cps / fr:.2f} "
         f"(best rounds {b_first_sync:.2f})." if cps and fr else ""))
    w("")
    w("## Context")
    w("")
    w("| measurement | median | MB/s | best | range over rounds |")
    w("|---|---:|---:|---:|---|")

    def row(label, key, unit="s", throughput=False):
        m = med(S, key)
        if m is None:
            return
        b = best(S, key)
        val = fmt_s(m) + " s" if unit == "s" else fmt_ms(m) + " ms"
        bval = fmt_s(b) + " s" if unit == "s" else fmt_ms(b) + " ms"
        scale, u = (1.0, " s") if unit == "s" else (1000.0, " ms")
        w(f"| {label} | {val} | {fmt_mbs(nbytes, m) if throughput else '—'} | {bval} | {spread(S, key, scale, u)} |")

    row("first checkpoint: `fractfs sync`, wall", "fr_first_wall", throughput=True)
    row("first checkpoint: as the command measures it (walk to last syncfs)", "fr_first_self", throughput=True)
    row("first checkpoint: CPU of `fractfs sync` (user + sys, all threads)", "fr_first_wall_cpu")
    row("first checkpoint by the holder (`fractfs-run` start-up, empty store), its measure", "holder_first_self",
        throughput=True)
    row("first checkpoint by the holder: from `fractfs-run` start to its status", "holder_first_wall",
        throughput=True)
    row("holder start-up on that store again (full walk, nothing changed), its measure", "holder_restart_self", unit="ms")
    row("`cp -a TREE DEST`", "cp_first", throughput=True)
    row("CPU of `cp -a` (user + sys)", "cp_first_cpu")
    row("`sync -f DEST` right after `cp -a`", "cp_sync")
    row("`cp -a` + `sync -f` (made durable, as a checkpoint is)", "cpsync_first", throughput=True)
    row("`rsync -a TREE/ DEST/` (empty DEST)", "rsync_first", throughput=True)
    row("restore: `fractfs restore`, as it measures itself", "fr_restore_self", throughput=True)
    row("restore: `fractfs restore`, wall", "fr_restore_wall", throughput=True)
    row("restore: CPU of `fractfs restore` (user + sys, all threads)", "fr_restore_wall_cpu")
    row("`cp -a` of a copy of the tree into a new directory (\"cp -a back\")", "cp_back", throughput=True)
    row("CPU of `cp -a` back (user + sys)", "cp_back_cpu")
    row("restore: `fractfs-run --root EMPTY -- true` (restore, start-up walk, final checkpoint)",
        "run_true_wall", throughput=True)
    row("10 files changed: `rsync -a TREE/ DEST/`", "rsync_change10", unit="ms")
    row("10 files changed: holder", "fr_change10_self", unit="ms")
    row("10 files changed: `fractfs sync` wall", "fr_change10_wall", unit="ms")
    row("nothing changed: holder", "fr_nochange_self", unit="ms")
    row("nothing changed: `fractfs sync` wall", "fr_nochange_wall", unit="ms")
    row("nothing changed, just after the 10-file rounds: holder", "fr_nochange_after_self", unit="ms")
    row("nothing changed, just after the 10-file rounds: `fractfs sync` wall", "fr_nochange_after_wall", unit="ms")
    row("full reconcile walk, nothing changed (`fractfs sync --full`): holder", "fr_full_self", unit="ms")
    row("full reconcile walk, nothing changed: `fractfs sync --full` wall", "fr_full_wall", unit="ms")
    w("")
    if S.get("fr_change10_self"):
        w("10 files changed, the holder's time by round (generation made): " + ", ".join(
            f"{v * 1000:.1f} ms ({n.split(': ', 1)[1].split(' committed')[0]})"
            for v, n in zip(S["fr_change10_self"], notes.get("fr_change10_self", [])))
          + ". From the 4th generation on, each checkpoint also deletes what the generation "
          "that fell out of `keep_generations` alone used (about 2 objects per changed file).")
        w("")
    if M.get("verify"):
        w(f"Check: {M['verify']}")
        w("")
    if M.get("analysis"):
        w(M["analysis"])
        w("")

    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")

    # Chart data. Index 0: throughput (MB/s) bars, by group; index 1: latency (ms) bars.
    # Columns: x, value, label, color index, target (or NaN).
    with open(out_dat, "w") as f:
        f.write(f"# bench_checkpoint: {nsmall} small files, {nbytes} bytes\n")
        f.write("# index 0: x MB/s label color target_MB/s\n")
        x = 0.0
        def bar(val, label, color, target="NaN", ms=False):
            nonlocal x
            if val:
                v = val * 1000 if ms else nbytes / val / 1e6
                f.write(f'{x:.2f} {v:.6g} "{label}" {color} {target}\n')
            x += 1
        t_first = f"{0.8 * nbytes / cp / 1e6:.6g}" if cp else "NaN"
        bar(fr, "fractfs sync\\n(no holder)", 0, t_first)
        bar(hold_first, "holder\\nstart-up", 4, t_first)
        bar(cp, "cp -a", 1)
        bar(cps, "cp -a\\n+ sync -f", 2)
        bar(rs, "rsync -a", 3)
        x += 0.8
        t_rest = f"{0.8 * nbytes / back_cp / 1e6:.6g}" if back_cp else "NaN"
        bar(rest, "fractfs\\nrestore", 0, t_rest)
        bar(run_true, "fractfs-run\\n-- true", 4)
        bar(back_cp, "cp -a\\nback", 1)
        f.write("\n\n# index 1: x ms label color target_ms\n")
        x = 0.0
        bar(n0_self, "unchanged\\nholder", 0, "10", ms=True)
        bar(n0_wall, "unchanged\\nsync wall", 4, ms=True)
        x += 0.5
        bar(c10_self, "10 changed\\nholder", 0, "50", ms=True)
        bar(c10_wall, "10 changed\\nsync wall", 4, ms=True)
        bar(rs10, "10 changed\\nrsync -a", 3, ms=True)
        x += 0.5
        bar(full_self, "full walk\\nholder", 2, ms=True)
        f.write("\n\n# index 2: title\n")
        f.write(f'0 0 "{nsmall:,} x 4 KiB + {M["nbig"]} x {int(M["bigsize"]) / 1048576:g} MiB = '
                f'{nbytes / 1e6:.0f} MB; warm cache; median of {M["reps"]} rounds; '
                f'load avg {M["load_before"].split()[0]}-{M["load_after"].split()[0]} on {M["nproc"]} CPUs" 0 NaN\n')


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "tree" and len(sys.argv) == 7:
        make_tree(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    elif len(sys.argv) >= 2 and sys.argv[1] == "report" and len(sys.argv) == 6:
        write_report(*sys.argv[2:6])
    else:
        sys.stderr.write(__doc__)
        sys.exit(64)


if __name__ == "__main__":
    main()
