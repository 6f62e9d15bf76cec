"""Generic helpers of the contract suite: what a contract checks, with no
driver in it (the drivers' fixtures are in conftest.py).

- assert_enotsup: an ENOTSUP that names the platform and is a sentence;
- range arithmetic for changed areas (covers, within a granularity);
- CutProxy / TcpCutProxy: ferryhelpers.DropProxy that cuts every live
  connection on demand (a unix socket in front of an NBD server, TCP on
  127.0.0.1 in front of the vSphere simulator);
- CuttingSink: a destination for ferry.sync_extents that cuts its
  source's connections in the middle of the copy.
"""
import errno
import os
import random
import re
import socket
import threading

import pytest

import ferry
from ferryhelpers import DropProxy

KiB = 1 << 10
MiB = 1 << 20


# --------------------------------------------------------------------------
# Errors


def raises(errno_, fn, *args, **kwargs):
    """fn(...) must raise ferry.Error with errno_; returns it."""
    with pytest.raises(ferry.Error) as e:
        fn(*args, **kwargs)
    assert e.value.errno == errno_, (
        f"want {errno.errorcode[errno_]}, got "
        f"{errno.errorcode.get(e.value.errno, e.value.errno)}: {e.value}")
    return e.value


def sentence_problems(message, name):
    """Why message is not a sentence naming the driver `name` (a list,
    empty when it is one)."""
    problems = []
    if not re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])",
                     message, re.IGNORECASE):
        problems.append(f"it does not name the {name} platform")
    if len(re.findall(r"[A-Za-z]+", message)) < 4:
        problems.append("it is not a sentence (fewer than four words)")
    if message != message.strip() or message.endswith((":", ",", ";", "(")):
        problems.append("it stops mid-sentence")
    if re.search(r"%[-0-9.]*[sdizu]|\(null\)", message):
        problems.append("it holds an unfilled format")
    if message.lower() == os.strerror(errno.ENOTSUP).lower():
        problems.append("it is only strerror's text")
    return problems


def assert_enotsup(err, name, what):
    """err (from `what`) is ENOTSUP with a sentence naming driver name."""
    assert isinstance(err, ferry.Error), f"{what}: raised {err!r}"
    assert err.errno == errno.ENOTSUP, (
        f"{what}: want ENOTSUP, got "
        f"{errno.errorcode.get(err.errno, err.errno)}: {err}")
    problems = sentence_problems(err.message, name)
    assert not problems, (f"{what}: ENOTSUP message {err.message!r}: "
                          + "; ".join(problems))


def refused(name, what, fn, *args, **kwargs):
    """fn(...) must fail with ENOTSUP and a sentence naming the platform."""
    try:
        fn(*args, **kwargs)
    except ferry.Error as e:
        assert_enotsup(e, name, what)
        return e
    pytest.fail(f"{what}: succeeded, but the {name} driver's features say "
                "it cannot do it (a clear bit must answer ENOTSUP)")


def outcome(fn, *args, **kwargs):
    """(None, result) or (ferry.Error, None)."""
    try:
        return None, fn(*args, **kwargs)
    except ferry.Error as e:
        return e, None


# --------------------------------------------------------------------------
# Byte ranges


def merge(ranges):
    """Sorted, merged [(start, end)] of (start, end) pairs."""
    out = []
    for a, b in sorted(r for r in ranges if r[1] > r[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def areas_of(changed):
    """A changed_areas dict's areas as [(start, end)], in its order."""
    return [(a["start"], a["start"] + a["length"]) for a in changed["areas"]]


def roundout(ranges, g):
    return merge((a // g * g, -(-b // g) * g) for a, b in ranges)


def uncovered(need, have):
    """The parts of the ranges `need` that `have` does not cover."""
    have = merge(have)
    out = []
    for a, b in merge(need):
        pos = a
        for c, d in have:
            if d <= pos or c >= b:
                continue
            if c > pos:
                out.append((pos, c))
            pos = max(pos, d)
        if pos < b:
            out.append((pos, b))
    return out


def assert_well_formed(areas, capacity, what):
    """Sorted, not overlapping, not empty, inside the disk."""
    for a, b in areas:
        assert a < b, f"{what}: an empty area at {a}: {areas}"
        assert 0 <= a and b <= capacity, (
            f"{what}: area ({a}, {b}) outside the disk of {capacity} "
            f"bytes: {areas}")
    for (a, b), (c, d) in zip(areas, areas[1:]):
        assert b <= c, f"{what}: areas not sorted or overlapping: {areas}"


def assert_changes(areas, written, g, capacity, what):
    """areas are exactly the writes, to the platform's granularity g:
    every written byte is in them, and every area lies within the writes
    rounded out to g (nothing else is reported)."""
    assert_well_formed(areas, capacity, what)
    missed = uncovered(written, areas)
    assert not missed, (f"{what}: written bytes {missed} are not in the "
                        f"changed areas {areas}")
    extra = uncovered(areas, roundout(written, g))
    assert not extra, (f"{what}: {extra} reported changed, but nothing was "
                       f"written there (writes {merge(written)}, granularity "
                       f"{g}); areas {areas}")


# --------------------------------------------------------------------------
# Volumes' data


SIZE = 16 * MiB


def chunks_for(seed, size=SIZE):
    """Random data at a few places, one of them the volume's last 4 KiB:
    [(offset, bytes)]."""
    rng = random.Random(seed)
    return [(1 * MiB, rng.randbytes(64 * KiB)),
            (5 * MiB + 4 * KiB, rng.randbytes(4 * KiB)),
            (size - 4 * KiB, rng.randbytes(4 * KiB))]


def image_of(size, chunks):
    b = bytearray(size)
    for off, data in chunks:
        b[off:off + len(data)] = data
    return bytes(b)


def first_diff(a, b):
    if a == b:
        return None
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def assert_bytes(got, want, what):
    at = first_diff(got, want)
    assert at is None, (
        f"{what}: {len(got)} bytes, want {len(want)}; first difference at "
        f"{at}: got {got[at:at + 8].hex()} want {want[at:at + 8].hex()}")


# --------------------------------------------------------------------------
# Connections to cut


class CutProxy(DropProxy):
    """A DropProxy (unix sockets) that cuts no connection by itself
    (drops=0) but every live one when cut_all() is called."""

    def __init__(self, sock, upstream):
        super().__init__(sock, upstream, drops=0)

    def live(self):
        with self.lock:
            return {id(c) for c in self.conns if not c["cut"]}

    def cut_all(self):
        """Cuts every live connection at once; returns their ids."""
        with self.lock:
            conns = [c for c in self.conns if not c["cut"]]
        for c in conns:
            self._cut(c)
        return {id(c) for c in conns}


class TcpCutProxy(CutProxy):
    """CutProxy on 127.0.0.1 (a port of its own) in front of a TCP server
    on 127.0.0.1:upstream_port. Transparent to TLS: the server's
    certificate, and so its thumbprint, are what the client sees."""

    # pylint: disable=super-init-not-called
    def __init__(self, upstream_port):
        self.sock = None
        self.upstream = ("127.0.0.1", upstream_port)
        self.after, self.direction, self.drops_left = 0, "down", 0
        self.refuse_after_drop = False
        self.dropped = self.connections = 0
        self.lock = threading.Lock()
        self.closing = False
        self.conns, self.threads = [], []
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream, timeout=10)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            for s in (c, u):  # no Nagle: request/reply traffic
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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


class CuttingSink:
    """The destination of a copy (a CallbackClient object): keeps what is
    written and, at the `at`-th write, cuts the source's connections with
    cut() (returning the ids of the connections it broke); later writes
    look for a connection made since (live() has ids the cut did not)."""

    def __init__(self, size, at, cut, live):
        self.buf = bytearray(size)
        self.writes = 0
        self.at = at
        self.cut, self.live = cut, live
        self.cut_ids = None
        self.reconnected = None  # the new connections seen after the cut

    def write(self, _volume_id, data, offset):
        self.buf[offset:offset + len(data)] = data
        self.writes += 1
        if self.writes == self.at:
            self.cut_ids = set(self.cut())
        elif self.cut_ids is not None and self.reconnected is None:
            new = set(self.live()) - self.cut_ids
            self.reconnected = new or None
