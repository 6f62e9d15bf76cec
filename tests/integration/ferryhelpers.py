"""Helpers of ferry's integration tests (the fixtures are in conftest.py).

Every test works in its own tmp_path. NBD servers (qemu-nbd, nbdkit) run in
the foreground as child processes, listen on unix sockets inside tmp_path,
and are stopped by PID when the test ends, whether it passed or not.

The ferry binary is $FERRY_BUILD/tools/ferry/ferry (FERRY_BUILD defaults to
the build/ directory of the source tree). A missing binary or a missing
server program fails the tests: nothing here is ever skipped.
"""

import json
import os
import random
import re
import socket
import subprocess
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(
    os.environ.get("FERRY_BUILD") or os.path.join(HERE, "..", "..", "build"))
FERRY = os.path.join(BUILD, "tools", "ferry", "ferry")

SECTOR = 512
KiB = 1 << 10
MiB = 1 << 20

# Exit codes of `ferry --help`.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_VERIFY, EXIT_CANCELLED = 0, 1, 2, 3, 4

FERRY_TIMEOUT = 90  # seconds; a hang fails the test instead of blocking it
SERVER_START_TIMEOUT = 15


# --------------------------------------------------------------------------
# Running ferry


def run_ferry(*args, cwd=None, input=None, timeout=FERRY_TIMEOUT):
    """Runs ferry with the given arguments; returns the CompletedProcess."""
    assert os.access(FERRY, os.X_OK), (
        f"ferry binary not found at {FERRY}: build it with `make build` or "
        f"set FERRY_BUILD")
    argv = [FERRY] + [str(a) for a in args]
    try:
        return subprocess.run(argv, cwd=cwd, input=input, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"ferry did not finish within {timeout}s: {argv}\n"
                    f"stderr: {e.stderr!r}")


def describe(cp):
    return (f"exit {cp.returncode}\nargv: {cp.args}\n"
            f"stdout: {cp.stdout.decode(errors='replace')}\n"
            f"stderr: {cp.stderr.decode(errors='replace')}")


def ferry_ok(*args, **kw):
    cp = run_ferry(*args, **kw)
    assert cp.returncode == EXIT_OK, describe(cp)
    return cp


def ferry_json(*args, expect=EXIT_OK, **kw):
    """Runs ferry with --json; stdout must be exactly one JSON object."""
    cp = run_ferry(*args, "--json", **kw)
    assert cp.returncode == expect, describe(cp)
    out = cp.stdout.decode()
    try:
        obj = json.loads(out)
    except ValueError as e:
        pytest.fail(f"stdout is not one JSON value ({e}):\n{describe(cp)}")
    assert isinstance(obj, dict), describe(cp)
    return obj, cp


# --------------------------------------------------------------------------
# Bytes and files


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def make_sparse(path, size, chunks):
    """A sparse raw file of `size` bytes holding only the given
    (offset, bytes) chunks."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size)
        for off, data in chunks:
            os.pwrite(fd, data, off)
        os.fsync(fd)
    finally:
        os.close(fd)


def image_of(size, chunks):
    """The bytes of a volume of `size` zero bytes with chunks laid over."""
    b = bytearray(size)
    for off, data in chunks:
        b[off:off + len(data)] = data
    return bytes(b)


def data_ranges(path):
    """[(start, end)] of the data (non-hole) areas of a file, by SEEK_DATA."""
    out = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                d = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole remains
                break
            h = os.lseek(fd, d, os.SEEK_HOLE)
            out.append((d, min(h, size)))
            pos = h
    finally:
        os.close(fd)
    return out


def allocated_bytes(path):
    return os.stat(path).st_blocks * 512


def range_within(r, ranges):
    return any(a <= r[0] and r[1] <= b for a, b in ranges)


def first_diff(a, b):
    """Offset of the first byte where a and b differ, or None."""
    if a == b:
        return None
    n = min(len(a), len(b))
    step = 64 * KiB
    for off in range(0, n, step):
        if a[off:off + step] != b[off:off + step]:
            for i in range(off, min(off + step, n)):
                if a[i] != b[i]:
                    return i
    return n


def assert_same_bytes(actual, expected, what, covered=None):
    """Compares two byte strings; on failure names the first differing
    offset (and whether it is inside the extents `covered`)."""
    if actual == expected:
        return
    at = first_diff(actual, expected)
    where = ""
    if covered is not None:
        inside = any(a <= at < b for a, b in covered)
        where = " (inside the extents)" if inside else \
            " (OUTSIDE the extents: should be untouched)"
    pytest.fail(f"{what}: {len(actual)} bytes vs {len(expected)} expected; "
                f"first difference at offset {at} (sector {at // SECTOR})"
                f"{where}: got {actual[at:at + 8].hex()} want "
                f"{expected[at:at + 8].hex()}")


# --------------------------------------------------------------------------
# Extent lists


def write_extents(path, extents, comments=True):
    """Writes 'START_SECTOR COUNT' lines (with a comment and a blank line
    the parser must skip)."""
    with open(path, "w") as f:
        if comments:
            f.write("# start_sector sector_count\n\n")
        for s, c in extents:
            f.write(f"{s} {c}\n")


def merged_byte_ranges(extents):
    """The union of sector extents as sorted, merged byte ranges."""
    rs = sorted((s * SECTOR, (s + c) * SECTOR) for s, c in extents)
    out = []
    for a, b in rs:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def apply_extents(dst_before, src, extents):
    """What the destination must hold after copying the extents."""
    out = bytearray(dst_before)
    for a, b in merged_byte_ranges(extents):
        out[a:b] = src[a:b]
    return bytes(out)


def random_extents(rng, size, n=12, max_sectors=3000):
    """n random extents inside size bytes, plus deliberate overlaps, a
    duplicate, an adjacent pair and a one-sector extent; shuffled."""
    total = size // SECTOR
    ext = []
    for _ in range(n):
        c = rng.randint(1, max_sectors)
        s = rng.randint(0, total - c)
        ext.append((s, c))
    s, c = ext[0]
    ext.append((s + c // 2, c))                       # overlaps the tail
    ext.append(ext[1])                                 # exact duplicate
    s, c = ext[2]
    ext.append((s + c, rng.randint(1, 64)))           # adjacent
    s, c = ext[3]
    ext.append((max(0, s - 5), c + 10))               # covers another one
    ext.append((rng.randint(0, total - 1), 1))        # one sector
    ext.append((total - 7, 7))                         # the last sectors
    ext = [(s, min(c, total - s)) for s, c in ext]
    rng.shuffle(ext)
    return ext


# --------------------------------------------------------------------------
# Servers


def _short_dir(tmp_path):
    """A directory path for sockets inside tmp_path, short enough for
    sun_path (108 bytes): tmp_path itself, or a short symlink to it."""
    d = str(tmp_path)
    if len(d) < 80:
        return d, None
    link = tempfile.mktemp(prefix="fy", dir="/tmp")
    os.symlink(d, link)
    return link, link


class Server:
    def __init__(self, name, argv, sock, proc, log_path):
        self.name = name
        self.argv = argv
        self.sock = sock
        self.proc = proc
        self.pid = proc.pid
        self.log_path = log_path

    @property
    def uri(self):
        return f"nbd+unix:///?socket={self.sock}"

    def uri_export(self, export):
        return f"nbd+unix:///{export}?socket={self.sock}"

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with "
                                   f"{self.proc.returncode} before listening:"
                                   f" {self.argv}\n{self.log()}")
            if os.path.exists(self.sock):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.sock)
                    return
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not listen on {self.sock} within "
                           f"{SERVER_START_TIMEOUT}s: {self.argv}\n{self.log()}")

    def stop(self):
        """Stops the server by its PID: SIGTERM, then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Servers:
    """Starts NBD servers for one test and stops all of them afterwards."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.dir, self._link = _short_dir(tmp_path)
        self.servers = []
        self.proxies = []
        self.n = 0

    def sock_path(self, kind):
        self.n += 1
        return os.path.join(self.dir, f"{kind}{self.n}.sock")

    def _start(self, name, argv, sock):
        log_path = os.path.join(str(self.tmp_path), f"{name}{self.n}.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
        srv = Server(name, argv, sock, proc, log_path)
        self.servers.append(srv)
        srv.wait_ready()
        return srv

    def qemu_nbd(self, path, fmt="raw", read_only=False, export=None,
                 shared=8):
        """qemu-nbd serving path on a unix socket, persistent (-t),
        several clients at once (-e)."""
        sock = self.sock_path("qemu")
        argv = ["qemu-nbd", "-f", fmt, "-t", "-e", str(shared), "-k", sock]
        if read_only:
            argv.append("-r")
        if export is not None:
            argv += ["-x", export]
        argv.append(str(path))
        return self._start("qemu-nbd", argv, sock)

    def nbdkit(self, *plugin_args, filters=()):
        """nbdkit in the foreground on a unix socket."""
        sock = self.sock_path("nbdkit")
        argv = ["nbdkit", "-f", "-U", sock]
        argv += [f"--filter={f}" for f in filters]
        argv += [str(a) for a in plugin_args]
        return self._start("nbdkit", argv, sock)

    def proxy(self, upstream, **kw):
        """A unix-socket proxy in front of upstream (a socket path) that
        can drop a connection mid-stream; see DropProxy."""
        sock = self.sock_path("proxy")
        p = DropProxy(sock, upstream, **kw)
        self.proxies.append(p)
        return p

    def close(self):
        errors = []
        for p in self.proxies:
            try:
                p.close()
            except Exception as e:  # keep stopping the rest
                errors.append(e)
        for s in reversed(self.servers):
            try:
                s.stop()
            except Exception as e:
                errors.append(e)
        if self._link:
            try:
                os.unlink(self._link)
            except OSError:
                pass
        if errors:
            raise errors[0]


class DropProxy:
    """Forwards unix-socket connections to an upstream NBD server. The first
    connection whose traffic in direction `direction` ('down': server to
    client, 'up': client to server) passes `after` bytes is cut at once, both
    sides shut down, as a dropped network connection. Later connections
    (ferry reconnecting) pass through untouched, or with refuse_after_drop
    the proxy stops listening at the drop, as a server that went away."""

    def __init__(self, sock, upstream, after=1 * MiB, direction="down",
                 drops=1, refuse_after_drop=False):
        self.sock = sock
        self.upstream = upstream
        self.after = after
        self.direction = direction
        self.drops_left = drops
        self.refuse_after_drop = refuse_after_drop
        self.dropped = 0
        self.connections = 0
        self.lock = threading.Lock()
        self.closing = False
        self.conns = []
        self.threads = []
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(sock)
        self.lsock.listen(16)
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    @property
    def uri(self):
        return f"nbd+unix:///?socket={self.sock}"

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                u.connect(self.upstream)
            except OSError:
                c.close()
                u.close()
                continue
            with self.lock:
                self.connections += 1
                conn = {"c": c, "u": u, "count": 0, "cut": False,
                        "pumps": 2}
                self.conns.append(conn)
            for src, dst, d in ((c, u, "up"), (u, c, "down")):
                t = threading.Thread(target=self._pump,
                                     args=(conn, src, dst, d), daemon=True)
                t.start()
                self.threads.append(t)

    def _cut(self, conn):
        conn["cut"] = True
        for s in (conn["c"], conn["u"]):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _pump(self, conn, src, dst, direction):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data or conn["cut"]:
                break
            if direction == self.direction:
                with self.lock:
                    conn["count"] += len(data)
                    if (self.drops_left > 0 and not conn["cut"]
                            and conn["count"] > self.after):
                        self.drops_left -= 1
                        self.dropped += 1
                        if self.refuse_after_drop:
                            self._stop_listening()
                        self._cut(conn)
                        break
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self.lock:
            conn["pumps"] -= 1
            last = conn["pumps"] == 0
        if last:  # both directions done: close, so the server sees it gone
            conn["c"].close()
            conn["u"].close()

    def _stop_listening(self):
        """No more connections: connect() then fails (ECONNREFUSED)."""
        self.closing = True
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()

    def close(self):
        self._stop_listening()
        with self.lock:
            conns = list(self.conns)
        for conn in conns:
            self._cut(conn)
        for t in self.threads:
            t.join(timeout=5)


# --------------------------------------------------------------------------
# Other tools


def run_tool(*argv, input=None, timeout=60):
    cp = subprocess.run([str(a) for a in argv], input=input,
                        capture_output=True, timeout=timeout)
    assert cp.returncode == 0, (
        f"{argv} failed with {cp.returncode}: "
        f"{cp.stderr.decode(errors='replace')}")
    return cp


def qcow2_from_raw(raw, qcow2):
    run_tool("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2)


def qcow2_create(path, size):
    run_tool("qemu-img", "create", "-q", "-f", "qcow2", path, str(size))


def qcow2_read(qcow2, tmp_path):
    out = os.path.join(str(tmp_path), f"readback-{time.monotonic_ns()}.raw")
    run_tool("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2, out)
    data = read_file(out)
    os.unlink(out)
    return data


def qcow2_map(qcow2):
    """qemu-img map --output=json: [{start, length, data, zero, ...}]."""
    cp = run_tool("qemu-img", "map", "--output=json", "-f", "qcow2", qcow2)
    return json.loads(cp.stdout)


def nbd_read(uri):
    """All bytes of an NBD export, read with nbdcopy (not ferry)."""
    return run_tool("nbdcopy", uri, "-").stdout


def nbd_write(src_file, uri):
    """Writes a raw file over an NBD export with nbdcopy."""
    run_tool("nbdcopy", src_file, uri)


OFFSET_RE = re.compile(r"offset (\d+)")


LOG_REQ_RE = re.compile(r"connection=\d+ (Read|Write|Zero|Trim|Cache) id=\d+ "
                        r"offset=0x([0-9a-f]+) count=0x([0-9a-f]+)")


def nbdkit_log_requests(path, kinds=("Write", "Zero", "Trim")):
    """[(kind, offset, count)] of the requests in an nbdkit log filter
    file."""
    out = []
    with open(path) as f:
        for line in f:
            m = LOG_REQ_RE.search(line)
            if m and m.group(1) in kinds:
                out.append((m.group(1), int(m.group(2), 16),
                            int(m.group(3), 16)))
    return out
