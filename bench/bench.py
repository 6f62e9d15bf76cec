#!/usr/bin/env python3
"""ferry's copy benchmark (not a test; `make bench` runs it): ferry sync
beside `nbdcopy --flush` and `qemu-img convert -W -m 16 -t writeback`, in
one run, over a matrix of the setups users copy in:

- file -> file, file -> NBD, NBD -> file and NBD -> NBD;
- the source's page cache cold (dropped) or warm (the source read first);
- NBD servers that answer fast (qemu-nbd -t -e 8 on a unix socket) or
  behind nbdkit's delay filter (1 ms and 10 ms a request, standing in for
  a remote vCenter, VDDK or iSCSI link): a delayed source for NBD -> NBD
  and NBD -> file, a delayed destination for file -> NBD;
- full copies, and ferry's copy of the 5% extent list (rewritten at the
  source before every round) against the same cell's full nbdcopy.

Every cell gets its limit: every destination lands on this disk, so the
data over fio's raw write rate (O_DIRECT, 2 MiB blocks, queue depth 16);
for an NBD source, the server's own read rate too (nbdcopy into null:).
Goals (informational, the exit code only says whether a copy failed or
came out wrong): ferry at most 0.8x the faster peer, or within 1.1x of the
limit where that binds; the incremental copy at least 15x faster than the
full nbdcopy; ferry's peak RSS at most 64 MiB.

    BUILD=build python3 bench/bench.py
    BENCH_SIZE=512M BENCH_RUNS=1 python3 bench/bench.py   # a quick run
    BENCH_ONLY=nbd-nbd,file-file                          # some cells

BENCH_SIZE (2G), BENCH_RUNS (3: medians), BENCH_SEED (1), BENCH_DIR
(/var/tmp), BENCH_ONLY (topologies, e.g. nbd-nbd; "none" for the sweep
alone), BENCH_SWEEP=0 (no read-gap sweep), BENCH_KEEP=1 (keep the work
dir). Last, a sweep measures when reading the gap between two extents
beats asking for each: what --read-gap's defaults come from.
Prints a Markdown table, also written to bench/out/matrix.md.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen  # noqa: E402  (bench/gen.py: the test data)
from common import drop_caches, say, size_env, timed  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
FERRY = os.path.join(BUILD if os.path.isabs(BUILD) else
                     os.path.join(ROOT, BUILD), "tools", "ferry", "ferry")
MIB = 1 << 20
GOAL_RATIO, GOAL_LIMIT, GOAL_INCR, GOAL_RSS = 0.8, 1.1, 15.0, 64
TOOLS = ("ferry", "nbdcopy", "qemu-img")


# ---------------------------------------------------------- page cache
def warm(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(8 * MIB):
            pass


def prepare(cache, src):
    """Dirty pages of earlier runs flushed and the cache emptied; then, for
    a warm cell, the source image read into it."""
    drop_caches()
    if cache == "warm":
        warm(src)


# ------------------------------------------------------------- servers
class Server:
    """qemu-nbd, or nbdkit's file plugin behind the delay filter, on a unix
    socket in the work dir; stopped by PID."""

    def __init__(self, work, name, image, kind, readonly):
        self.sock = os.path.join(work, name + ".sock")
        self.uri = f"nbd+unix:///?socket={self.sock}"
        if kind == "fast":
            args = ["qemu-nbd", "-f", "raw", "-t", "-e", "8", "-k", self.sock,
                    *(["-r"] if readonly else ["--discard=unmap"]), image]
        else:  # "1ms", "10ms": every request waits that long
            d = kind
            args = ["nbdkit", "-f", "-U", self.sock, "--filter=delay",
                    *(["-r"] if readonly else []), "file", f"file={image}",
                    f"rdelay={d}", f"wdelay={d}", f"delay-extents={d}"]
        if os.path.exists(self.sock):  # a stale one: nbdkit cannot bind
            os.unlink(self.sock)
        self.logname = os.path.join(work, name + ".log")
        self.log = open(self.logname, "ab")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                  start_new_session=True)
        for _ in range(500):
            if self.p.poll() is not None:
                break
            if os.path.exists(self.sock):
                try:
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(self.sock)
                    return
                except OSError:
                    pass
            time.sleep(0.01)
        self.stop()
        with open(self.logname, errors="replace") as f:
            tail = f.read()[-2000:]
        sys.exit(f"bench: {args[0]} did not come up on {self.sock}\n{tail}")

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


# -------------------------------------------------------------- timing
def fio_rates(work, src):
    """fio on this disk, O_DIRECT, 2 MiB blocks, queue depth 16: MiB/s of
    1 GiB (or the image's size) written alone, and of as much read from
    the source image while as much is written: what a copy with a cold
    source can do here."""
    path = os.path.join(work, "fio.tmp")
    size = min(1 << 30, os.path.getsize(src))  # fio would grow a smaller one
    common = [f"--size={size}", "--bs=2M", "--iodepth=16",
              "--ioengine=libaio", "--direct=1", "--output-format=json"]
    write = ["--name=w", f"--filename={path}", "--rw=write", "--end_fsync=1"]
    read = ["--name=r", f"--filename={src}", "--rw=read"]
    rates = []
    for jobs in ([write], [read, write]):
        drop_caches()
        cp = subprocess.run(["fio", *common, *sum(jobs, [])],
                            capture_output=True, text=True, check=True)
        ms = max(j["job_runtime"] for j in json.loads(cp.stdout)["jobs"])
        rates.append(size / MIB / (ms / 1000))
        os.unlink(path)
    return rates


def fio_replay(work, src, ext):
    """fio replaying the incremental list on this disk (O_DIRECT, queue
    depth 16, the extents in order, then fsync): seconds to write it alone
    (a warm source), and to read it from the source while writing it (a
    cold one). The destination is allocated beforehand, as a full copy
    leaves most of it."""
    tmp = os.path.join(work, "replay.tmp")
    with open(tmp, "wb") as f:
        os.posix_fallocate(f.fileno(), 0, os.path.getsize(src))
    with open(ext) as f:
        extents = [tuple(int(x) * 512 for x in line.split()) for line in f]
    out = {}
    for cache in ("warm", "cold"):
        log = os.path.join(work, "replay.iolog")
        files = [tmp] + ([src] if cache == "cold" else [])
        with open(log, "w") as f:
            f.write("fio version 2 iolog\n")
            f.writelines(f"{p} add\n" for p in files)
            f.writelines(f"{p} open\n" for p in files)
            for off, length in extents:
                if cache == "cold":
                    f.write(f"{src} read {off} {length}\n")
                f.write(f"{tmp} write {off} {length}\n")
            f.writelines(f"{p} close\n" for p in files)
        drop_caches()
        cp = subprocess.run(["fio", "--name=replay", f"--read_iolog={log}",
                             "--ioengine=libaio", "--iodepth=16",
                             "--direct=1", "--replay_no_stall=1",
                             "--end_fsync=1", "--output-format=json"],
                            capture_output=True, text=True, check=True)
        out[cache] = json.loads(cp.stdout)["jobs"][0]["job_runtime"] / 1000
    os.unlink(tmp)
    return out


def same(a, b, what):
    cp = subprocess.run(["cmp", a, b], capture_output=True, text=True)
    if cp.returncode:
        sys.exit(f"bench: WRONG COPY: {what}: {cp.stdout}{cp.stderr}")


# --------------------------------------------------------------- cells
class Cell:
    def __init__(self, topo, server, cache):
        self.topo, self.server, self.cache = topo, server, cache
        self.src_nbd = topo.startswith("nbd")
        self.dst_nbd = topo.endswith("nbd")
        # The delayed end is the remote one: the source, unless only the
        # destination is NBD.
        self.delay_src = server != "fast" and self.src_nbd
        self.delay_dst = server != "fast" and not self.src_nbd
        self.times = {t: [] for t in TOOLS}
        self.rss = {t: 0 for t in TOOLS}
        self.incr = []
        self.read_bound = 0.0
        self.stats = {}

    def name(self):
        a, b = self.topo.split("-")
        return f"{a} → {b}"

    def label(self):
        return f"{self.topo}-{self.server}-{self.cache}"


def cells(only):
    out = []
    for topo in ("file-file", "file-nbd", "nbd-file", "nbd-nbd"):
        if only and topo not in only:
            continue
        servers = ["-"] if topo == "file-file" else ["fast", "1ms", "10ms"]
        for server in servers:
            for cache in ("cold", "warm"):
                out.append(Cell(topo, server, cache))
    return out


class Bench:
    def __init__(self, work, size, runs, seed):
        self.work, self.size, self.runs, self.seed = work, size, runs, seed
        self.src = os.path.join(work, "src.img")
        self.dst = os.path.join(work, "dst.img")
        self.ext = os.path.join(work, "extents.txt")
        self.logs = os.path.join(work, "logs")
        os.makedirs(self.logs)
        self.mutations = 0

    def fresh_dst(self):
        if os.path.exists(self.dst):
            os.unlink(self.dst)
        with open(self.dst, "wb") as f:
            f.truncate(self.size)

    def endpoints(self, cell):
        """(source, destination, servers to stop) for one run."""
        servers = []
        src, dst = self.src, self.dst
        if cell.src_nbd:
            s = Server(self.work, "src", self.src,
                       cell.server if cell.delay_src else "fast", True)
            servers.append(s)
            src = s.uri
        if cell.dst_nbd:
            s = Server(self.work, "dst", self.dst,
                       cell.server if cell.delay_dst else "fast", False)
            servers.append(s)
            dst = s.uri
        return src, dst, servers

    def command(self, tool, src, dst, extents=False):
        if tool == "ferry":
            return [FERRY, "sync", src, dst, "--json",
                    *(["--extents", self.ext] if extents else [])]
        if tool == "nbdcopy":
            return ["nbdcopy", "--flush", src, dst]
        return ["qemu-img", "convert", "-W", "-m", "16", "-t", "writeback",
                "-n", "-f", "raw", "-O", "raw", src, dst]

    def run(self, cell, tool, k, extents=False):
        if not extents:
            self.fresh_dst()
        src, dst, servers = self.endpoints(cell)
        try:
            prepare(cell.cache, self.src)
            log = os.path.join(self.logs, f"{cell.label()}-{tool}-{k}"
                               f"{'-incr' if extents else ''}.log")
            wall, rss, out = timed(self.command(tool, src, dst, extents),
                                   log)
        finally:
            for s in servers:
                s.stop()
        if tool == "ferry":
            cell.stats = json.loads(out)
        return wall, rss

    def read_bound(self, cell):
        """The source server's own read rate: nbdcopy into null:."""
        s = Server(self.work, "src", self.src,
                   cell.server if cell.delay_src else "fast", True)
        try:
            prepare(cell.cache, self.src)
            wall, _, _ = timed(["nbdcopy", s.uri, "null:"],
                               os.path.join(self.logs, "null.log"))
        finally:
            s.stop()
        return wall

    def full(self, cell):
        for k in range(self.runs):
            for j in range(len(TOOLS)):  # rotating order
                tool = TOOLS[(k + j) % len(TOOLS)]
                wall, rss = self.run(cell, tool, k)
                cell.times[tool].append(wall)
                cell.rss[tool] = max(cell.rss[tool], rss)
                say(f"  {cell.label()} run {k + 1} {tool:8} {wall:7.3f} s "
                    f"(RSS {rss / 1024:.0f} MiB)")
                if k == 0:
                    same(self.src, self.dst, f"{tool}, {cell.label()}")
        if cell.src_nbd:
            cell.read_bound = statistics.median(
                self.read_bound(cell) for _ in range(self.runs))

    def incremental(self, cell):
        """The extent list after each rewrite at the source, onto an
        up-to-date copy."""
        self.fresh_dst()
        src, dst, servers = self.endpoints(cell)
        try:
            timed([FERRY, "sync", src, dst],
                  os.path.join(self.logs, f"{cell.label()}-base.log"))
        finally:
            for s in servers:
                s.stop()
        for k in range(self.runs):
            self.mutations += 1
            gen.mutate(self.src, self.seed, self.ext, self.mutations)
            wall, rss = self.run(cell, "ferry", k, extents=True)
            cell.incr.append(wall)
            cell.rss["ferry"] = max(cell.rss["ferry"], rss)
            say(f"  {cell.label()} incremental {k + 1} {wall:7.3f} s "
                f"(RSS {rss / 1024:.0f} MiB)")
            same(self.src, self.dst, f"ferry --extents, {cell.label()}")


# ------------------------------------------------------ read-gap sweep
SWEEP_GAPS = (4096, 16384, 65536, 262144, 1 << 20)
SWEEP_EXTENTS = 256
SWEEP_SOURCES = (("file", "cold"), ("file", "warm"), ("fast", "warm"),
                 ("1ms", "warm"), ("10ms", "warm"))


def sweep(b):
    """How long 256 extents of 4 KiB, each GAP from the next, take to copy
    from each kind of source when every gap is its own request (--read-gap
    0) and when each gap is read (--read-gap GAP): the measurement behind
    each backend's default. {(source, gap): (apart, merged)} medians."""
    img = os.path.join(b.work, "sweep.img")
    dst = os.path.join(b.work, "sweep-dst.img")
    span = SWEEP_EXTENTS * (4096 + max(SWEEP_GAPS))
    with open(img, "wb") as f:  # all data: no hole splits a run
        pool = gen._pool(b.seed)
        for off in range(0, span, 64 * MIB):
            f.write(pool[:min(64 * MIB, span - off)])
    with open(dst, "wb") as f:
        f.truncate(span)
    out = {}
    for kind, cache in SWEEP_SOURCES:
        for gap in SWEEP_GAPS:
            lst = os.path.join(b.work, f"sweep-{gap}.txt")
            with open(lst, "w") as f:
                for i in range(SWEEP_EXTENTS):
                    f.write(f"{i * (4096 + gap) // 512} 8\n")
            res = []
            for read_gap in ("0", str(gap)):
                times = []
                for k in range(b.runs):
                    server = None if kind == "file" else Server(
                        b.work, "sweep", img, kind, True)
                    try:
                        prepare(cache, img)
                        wall, _, _ = timed(
                            [FERRY, "sync", server.uri if server else img,
                             dst, "--extents", lst, "--read-gap", read_gap],
                            os.path.join(b.logs, f"sweep-{kind}-{gap}.log"))
                    finally:
                        if server:
                            server.stop()
                    times.append(wall)
                res.append(statistics.median(times))
            out[(kind, cache, gap)] = tuple(res)
            say(f"  sweep {kind} {cache} gap {gap // 1024} KiB: apart "
                f"{res[0]:.3f} s, read through {res[1]:.3f} s")
    os.unlink(img)
    os.unlink(dst)
    return out


def sweep_report(res):
    gaps = " | ".join(f"{g // 1024} KiB" for g in SWEEP_GAPS)
    lines = ["", "### Reading across gaps: the measurement behind "
             "--read-gap's defaults", "",
             f"{SWEEP_EXTENTS} extents of 4 KiB, each GAP from the next, "
             "into a file: time with every gap read, as a fraction of the "
             "time with each extent its own request (< 1: reading the gap "
             "pays).", "",
             f"| source | cache | {gaps} |",
             "|---|---|" + "---:|" * len(SWEEP_GAPS)]
    for kind, cache in SWEEP_SOURCES:
        cells = " | ".join(f"{res[(kind, cache, g)][1] / res[(kind, cache, g)][0]:.2f}"
                           for g in SWEEP_GAPS)
        name = "file" if kind == "file" else (
            "qemu-nbd" if kind == "fast" else f"nbdkit, {kind} delay")
        lines.append(f"| {name} | {cache} | {cells} |")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------- report
def med(v):
    return statistics.median(v) if v else float("nan")


def verdict(ok):
    return "PASS" if ok else "MISS"


def report(b, all_cells, fio_mib_s, replay, data_mib, n_ext, ext_mib,
           t_run):
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                           "HEAD"], capture_output=True,
                          text=True).stdout.strip() or "?"
    nbdcopy_v = subprocess.run(["nbdcopy", "--version"], capture_output=True,
                               text=True).stdout.split("\n")[0]
    qemu_v = " ".join(subprocess.run(["qemu-img", "--version"],
                                     capture_output=True, text=True
                                     ).stdout.split()[:3])
    write_bound = data_mib / fio_mib_s[0]
    copy_bound = data_mib / fio_mib_s[1]
    lines = [
        "## ferry copy benchmark: the matrix", "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.uname().release}, {os.cpu_count()} cores; ferry {head}, "
        f"{nbdcopy_v}, {qemu_v}; load average "
        f"{os.getloadavg()[0]:.1f} at the end", "",
        "| from → to | NBD server | source cache | ferry (s) | nbdcopy (s) "
        "| qemu-img (s) | ferry / faster peer | limit (s) | ferry / limit "
        "| full copy | ferry incremental (s) | full nbdcopy / incremental "
        "| incremental limit (s) | incremental / limit | incremental "
        "| peak RSS MiB: ferry, nbdcopy, qemu-img |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:"
        "|---|---|",
    ]
    misses = 0
    max_rss = 0
    for c in all_cells:
        f, n, q = (med(c.times[t]) for t in TOOLS)
        peer = min(n, q)
        limit = max(copy_bound if c.cache == "cold" else write_bound,
                    c.read_bound)
        ok = f <= GOAL_RATIO * peer or f <= GOAL_LIMIT * limit
        inc = med(c.incr)
        speed = n / inc if c.incr else float("nan")
        # the list replayed by fio, or the source server's read rate
        ilimit = max(replay[c.cache], c.read_bound * ext_mib / data_mib)
        iok = speed >= GOAL_INCR or inc <= GOAL_LIMIT * ilimit
        misses += (not ok) + (not iok)
        max_rss = max(max_rss, c.rss["ferry"])
        lines.append(
            f"| {c.name()} | {c.server} | {c.cache} | {f:.3f} | {n:.3f} | "
            f"{q:.3f} | {f / peer:.2f} | {limit:.3f} | {f / limit:.2f} | "
            f"{verdict(ok)} | {inc:.3f} | {speed:.1f} | {ilimit:.3f} | "
            f"{inc / ilimit:.2f} | {verdict(iok)} | "
            f"{c.rss['ferry'] / 1024:.0f}, {c.rss['nbdcopy'] / 1024:.0f}, "
            f"{c.rss['qemu-img'] / 1024:.0f} |")
    rss_ok = max_rss / 1024 <= GOAL_RSS
    lines += [
        "",
        f"- image: {b.size // MIB} MiB raw, {data_mib} MiB of it random data "
        f"in 1 MiB runs (seed {b.seed}), the rest holes; the incremental "
        f"list: {n_ext} extents of 4 KiB..1 MiB, {ext_mib} MiB, rewritten "
        "at the source before each round",
        f"- runs: {b.runs} per tool and cell, medians, tools in rotating "
        "order; before every timed run: sync, drop_caches, and for a warm "
        "cell the source image read once",
        f"- limit: {data_mib} MiB at fio's raw rates on this disk (O_DIRECT, "
        f"2 MiB, queue depth 16): a warm source, written alone at "
        f"{fio_mib_s[0]:.0f} MiB/s = {write_bound:.3f} s; a cold one, read "
        f"while written at {fio_mib_s[1]:.0f} MiB/s = {copy_bound:.3f} s "
        "(source and destination share the disk); for an NBD source, the "
        "server's read rate (`nbdcopy SRC null:`) when slower",
        "- incremental limit: fio replaying the list on this disk (O_DIRECT, "
        "queue depth 16, in order, then fsync): written alone "
        f"{replay['warm']:.3f} s, read from the source while written "
        f"{replay['cold']:.3f} s; for an NBD source, the server's read rate "
        f"over the list's bytes when slower. The list is {ext_mib} MiB of new "
        f"data against the full copy's {data_mib}: where the disk binds "
        f"both, no copy of it is more than about {data_mib / ext_mib:.0f}× "
        "faster than a full one",
        "- goals: full copy ≤ 0.8 × the faster peer, or ≤ 1.1 × the limit; "
        "incremental ≥ 15 × faster than the full nbdcopy, or ≤ 1.1 × its "
        "limit; ferry's peak "
        f"RSS ≤ 64 MiB: {max_rss / 1024:.0f} MiB, {verdict(rss_ok)}",
        f"- {misses} cell goals missed; the run took {t_run:.0f} s",
    ]
    return "\n".join(lines) + "\n", misses


def main():
    size = size_env("BENCH_SIZE", "2G")
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    seed = int(os.environ.get("BENCH_SEED", "1"))
    only = [t for t in os.environ.get("BENCH_ONLY", "").split(",") if t]
    if size < 16 * MIB or size % MIB:
        sys.exit("bench: BENCH_SIZE must be a multiple of 1 MiB, >= 16 MiB")
    for t in ("nbdcopy", "qemu-img", "qemu-nbd", "nbdkit", "fio", "cmp"):
        if not shutil.which(t):
            sys.exit(f"bench: {t} is not installed (scripts/deps.sh)")
    if not os.access(FERRY, os.X_OK):
        sys.exit(f"bench: no ferry at {FERRY} (make build)")
    if not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        sys.exit("bench: needs root, to drop the page cache")
    work = tempfile.mkdtemp(prefix="ferry-bench.",
                            dir=os.environ.get("BENCH_DIR", "/var/tmp"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    t0 = time.monotonic()
    try:
        b = Bench(work, size, runs, seed)
        say(f"work dir {work}; generating {size // MIB} MiB of test data")
        data_mib, _ = gen.image(b.src, size, seed)
        n_ext, ext_bytes = gen.extents(b.ext, size, seed)
        fio = fio_rates(work, b.src)
        replay = fio_replay(work, b.src, b.ext)
        say(f"fio: {fio[0]:.0f} MiB/s writing alone, {fio[1]:.0f} MiB/s "
            "reading and writing at once")
        todo = cells(only)
        for c in todo:
            say(f"{c.label()}")
            b.full(c)
            b.incremental(c)
        gaps = sweep(b) if os.environ.get("BENCH_SWEEP", "1") == "1" \
            else None
        text, _ = report(b, todo, fio, replay, data_mib, n_ext,
                         ext_bytes // MIB, time.monotonic() - t0)
        if gaps:
            text += sweep_report(gaps)
    finally:
        if os.environ.get("BENCH_KEEP") == "1":
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(text)
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "matrix.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "results.md"), "a") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
