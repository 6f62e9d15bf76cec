#!/usr/bin/env python3
"""ELF benchmark (not a test; bench/elf.sh runs it): a SIZE raw disk, half
of its 1 MiB runs random data (bench/gen.py, as for bench.py), copied into an ELF volume of the
fake CloudTower (a LUN of its private tgtd, over iSCSI on 127.0.0.1), side
by side in one run, median of RUNS, page cache dropped before each:

- ferry: the seed's sync through the Python binding (a file client to the
  ELF platform client; `ferry sync` takes no ELF volume), in a process of
  its own;
- qemu-img convert -n -t writeback to the LUN's iscsi:// URL (the peer);
- the limit: bench/iscsi-seqwrite.c, SIZE bytes of sequential 1 MiB
  WRITE16s, 16 in flight, then SYNCHRONIZE CACHE: what tgtd takes with
  nothing in the way;
- an incremental round: 5% of the disk changed in scattered 4 KiB..1 MiB
  extents, copied by ferry with those extents, against the full copy.

Prints a Markdown table (also into bench/out/elf.md)."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402  (bench/gen.py: the data, as bench.py's)
from common import drop_caches, say, size_env  # noqa: E402
from common import timed as common_timed  # noqa: E402
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
MIB = 1 << 20


# ---------------------------------------------------------------- ferry
def ferry_copy(uri, password, root, image, volume, extents_file, opts):
    """The copy ferry makes, in this process: what `elf.py copy` runs."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import ferry  # noqa: E402
    extents = None
    if extents_file:
        with open(extents_file) as f:
            extents = [tuple(map(int, line.split())) for line in f]
    files = ferry.Client.file(root)
    with ferry.Platform(uri, password=password) as p:
        st = ferry.sync_extents(files, p.client, image, volume, extents,
                                **opts)
    print(st.seconds, st.workers, st.requests, st.request_size)


# -------------------------------------------------------------- timing
def timed(name, args, logs, env=None):
    """(seconds, peak RSS KiB, stdout) of args, the page cache dropped."""
    drop_caches()
    return common_timed(args, os.path.join(logs, name + ".log"), env)


def compare(image, url, what):
    say(f"checking {what}: qemu-img compare")
    cp = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "raw",
                         image, url], capture_output=True, text=True)
    if cp.returncode:
        sys.exit(f"bench: WRONG COPY ({what}): {cp.stdout}{cp.stderr}")


def main():
    size = size_env("ELF_SIZE", "2G")
    runs = int(os.environ.get("ELF_RUNS", "3"))
    seed = int(os.environ.get("ELF_SEED", "1"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from elfhelpers import Tower, ferry_elf  # noqa: E402
    os.environ.setdefault("FERRY_BUILD", BUILD)

    work = tempfile.mkdtemp(prefix="felf", dir=os.environ.get(
        "ELF_DIR", "/var/tmp"))
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    tower = None
    try:
        seqwrite = os.path.join(work, "iscsi-seqwrite")
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", seqwrite,
                        os.path.join(HERE, "iscsi-seqwrite.c"), "-liscsi"],
                       check=True)
        say(f"work dir {work}; a {size >> 20} MiB image, half data; "
            f"{runs} runs; page cache dropped: {drop_caches()}")
        image = os.path.join(work, "src.img")
        ext_file = os.path.join(work, "extents.txt")
        gen.image(image, size, seed)
        n_extents, ext_bytes = gen.extents(ext_file, size, seed)

        tower = Tower()
        env = tower.env()

        def fresh_volume():
            """A new, empty volume "bench" (the one before deleted): each
            full copy goes into a new volume, as a migration's does. Its
            LUN's URL."""
            if tower.api("/get-vm-volumes", {"where": {"name": "bench"}}):
                ferry_elf(tower, "volume", "delete", "bench", "--platform",
                          tower.uri())
            ferry_elf(tower, "volume", "create", "bench", str(size),
                      "--format", "raw", "--platform", tower.uri())
            [v] = tower.api("/get-vm-volumes", {"where": {"name": "bench"}})
            iqn, lun = v["path"][len("iscsi://"):].rsplit("/", 1)
            return f"iscsi://127.0.0.1:{tower.iscsi_port}/{iqn}/{lun}"

        def ferry_args(extents_file=None):
            return ["/usr/bin/python3", os.path.abspath(__file__), "copy",
                    tower.uri(), work, "src.img", "bench",
                    extents_file or ""]

        def tools(url):
            return {
                "ferry": ferry_args(),
                "qemu-img": ["qemu-img", "convert", "-n", "-t", "writeback",
                             "-W", "-m", "16", "-f", "raw", "-O", "raw",
                             image, url],
                "limit": [seqwrite, url, str(size), str(MIB), "16"],
            }
        times = {t: [] for t in ("ferry", "qemu-img", "limit")}
        engine = {"ferry": [], "incremental": []}  # the copy's own seconds
        rss = {t: 0 for t in times}
        info = ""
        for run in range(1, runs + 1):
            # rotating, ferry last: the volume holds the image for the
            # incremental round
            order = ["limit", "qemu-img"][::(-1) ** run] + ["ferry"]
            for t in order:
                url = fresh_volume()
                secs, kib, out = timed(f"{t}-{run}", tools(url)[t], logs,
                                       env)
                if t == "ferry":
                    info = out.split()
                    engine["ferry"].append(float(info[0]))
                times[t].append(secs)
                rss[t] = max(rss[t], kib)
                say(f"  run {run} {t:9} {secs:.2f} s  (RSS {kib >> 10} MiB)")
                if run == 1 and t != "limit":
                    compare(image, url, t)
        compare(image, url, "ferry, last full copy")

        gen.mutate(image, seed, ext_file, 1)
        times["incremental"] = []
        rss["incremental"] = 0
        for run in range(1, runs + 1):
            secs, kib, out = timed(f"incr-{run}", ferry_args(ext_file),
                                   logs, env)
            engine["incremental"].append(float(out.split()[0]))
            times["incremental"].append(secs)
            rss["incremental"] = max(rss["incremental"], kib)
            say(f"  run {run} incremental {secs:.2f} s  "
                f"({n_extents} extents, {ext_bytes >> 20} MiB)")
        compare(image, url, "ferry incremental")
    finally:
        if tower:
            tower.close()
        if os.environ.get("ELF_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)

    med = {t: statistics.median(v) for t, v in times.items()}
    mibs = {t: (size if t != "incremental" else ext_bytes) / MIB / med[t]
            for t in med}
    q, lim, fe, inc = (med["qemu-img"], med["limit"], med["ferry"],
                       med["incremental"])
    fe_copy, inc_copy = (statistics.median(engine["ferry"]),
                         statistics.median(engine["incremental"]))

    def verdict(ok):
        return "PASS" if ok else "MISS"
    rows = [
        f"| ferry (seed's sync, Python) | {fe:.2f} | {mibs['ferry']:.0f} | "
        f"{rss['ferry'] >> 10} |",
        f"| qemu-img convert -n | {q:.2f} | {mibs['qemu-img']:.0f} | "
        f"{rss['qemu-img'] >> 10} |",
        f"| limit: sequential WRITE16, QD 16 | {lim:.2f} | "
        f"{mibs['limit']:.0f} | {rss['limit'] >> 10} |",
        f"| ferry incremental ({n_extents} extents, "
        f"{ext_bytes >> 20} MiB) | {inc:.2f} | {mibs['incremental']:.0f} | "
        f"{rss['incremental'] >> 10} |",
    ]
    gib = f"{size / (1 << 30):g} GiB" if size >= 1 << 30 else \
        f"{size >> 20} MiB"
    out = [f"## ELF: a {gib} disk, half data, into an ELF volume over "
           "iSCSI (fake CloudTower, tgtd on 127.0.0.1)", "",
           f"Median of {runs} runs, page cache dropped before each, each full "
           "copy into a new volume. MiB/s: "
           "the disk's size (the changed bytes for the incremental round) "
           "over the time.", "",
           "| tool | time (s) | MiB/s | peak RSS (MiB) |",
           "|---|---:|---:|---:|", *rows, "",
           "| goal | measured | result |", "|---|---:|---|",
           f"| ferry time <= 0.8 x qemu-img's | {fe / q:.2f}x | "
           f"{verdict(fe <= 0.8 * q)} |",
           f"| ferry throughput >= 0.8 x the limit's | "
           f"{mibs['ferry'] / mibs['limit']:.2f}x | "
           f"{verdict(mibs['ferry'] >= 0.8 * mibs['limit'])} |",
           f"| incremental >= 10x faster than full | {fe / inc:.1f}x | "
           f"{verdict(fe >= 10 * inc)} |",
           f"| the same, the copies' own times ({fe_copy:.2f} s, "
           f"{inc_copy:.2f} s) | {fe_copy / inc_copy:.1f}x | "
           f"{verdict(fe_copy >= 10 * inc_copy)} |", "",
           f"- ferry ran with {info[1] if len(info) > 1 else '?'} workers x "
           f"{info[2] if len(info) > 2 else '?'} requests x "
           f"{int(info[3]) >> 20 if len(info) > 3 else '?'} MiB; its time "
           "and RSS are a Python process's (interpreter, ctypes, the "
           "CloudTower login and LUN lookup included); the copies' own "
           "times are ferry_sync's (stats.seconds), without them",
           "- the limit writes every byte as data; ferry and qemu-img write "
           "the data and free the holes (the fake's LUNs are thin, as ELF's "
           "REPLICA_2_THIN_PROVISION volumes are: WRITE SAME with UNMAP)",
           "- every copy ends with SYNCHRONIZE CACHE, which tgtd makes an "
           "fdatasync of the LUN's file: the data reaches this machine's "
           "disk within each timed run",
           f"- {os.cpu_count()} CPUs; ferry, tgtd and the page cache share "
           "them"]
    text = "\n".join(out) + "\n"
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "out", "elf.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "copy":
        uri, root, image, volume, ext = sys.argv[2:7]
        ferry_copy(uri, os.environ["FERRY_ELF_PASSWORD"], root, image,
                   volume, ext or None,
                   {k: int(os.environ[f"ELF_FERRY_{k.upper()}"])
                    for k in ("workers", "requests", "request_size")
                    if os.environ.get(f"ELF_FERRY_{k.upper()}")})
    else:
        main()
