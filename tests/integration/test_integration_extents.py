"""Random data over random extent lists, between every kind of volume,
compared byte for byte; what lies outside the extents must stay as it was."""

import os
import random
import zlib

import pytest

from ferryhelpers import (KiB, MiB, SECTOR, apply_extents, assert_same_bytes,
                          ferry_json, make_sparse, merged_byte_ranges,
                          nbd_read, nbd_write, qcow2_from_raw, qcow2_read,
                          rand_bytes, random_extents, read_file, write_extents,
                          write_file, image_of, nbdkit_log_requests)

SIZE = 16 * MiB


def source_chunks(seed):
    """The source: random data with a hole (never written), an explicitly
    zero-filled run, and data at odd sector offsets around them."""
    rng = random.Random(seed)
    return [
        (0, rng.randbytes(5 * MiB)),
        # 5M .. 6M + 4K: a hole
        (6 * MiB + 4 * KiB, rng.randbytes(2 * MiB - 4 * KiB)),
        (8 * MiB, bytes(1 * MiB)),                 # written zeroes
        (9 * MiB, rng.randbytes(3 * MiB + 3 * SECTOR)),
        # 12M + 1.5K .. 13M - 512: a hole starting mid-block
        (13 * MiB - SECTOR, rng.randbytes(3 * MiB + SECTOR)),
    ]


class Volumes:
    """Makes source and destination volumes of a given kind and reads
    destinations back with tools other than ferry."""

    def __init__(self, tmp_path, servers):
        self.tmp = tmp_path
        self.servers = servers
        self.n = 0

    def _path(self, stem, ext="raw"):
        self.n += 1
        return str(self.tmp / f"{stem}{self.n}.{ext}")

    def source(self, kind, chunks, size):
        raw = self._path("src")
        make_sparse(raw, size, chunks)
        if kind == "file":
            return raw
        if kind == "qcow2":
            q = self._path("src", "qcow2")
            qcow2_from_raw(raw, q)
            return q
        if kind == "nbd":
            return self.servers.qemu_nbd(raw, read_only=True).uri
        raise ValueError(kind)

    def destination(self, kind, initial):
        """Returns (argument for ferry, function reading the bytes back)."""
        raw = self._path("dst")
        write_file(raw, initial)
        if kind == "file":
            return raw, lambda: read_file(raw)
        if kind == "qcow2":
            q = self._path("dst", "qcow2")
            qcow2_from_raw(raw, q)
            return q, lambda: qcow2_read(q, self.tmp)
        if kind == "nbd":
            srv = self.servers.qemu_nbd(raw)

            def back():
                srv.stop()  # qemu-nbd has flushed and exited
                return read_file(raw)
            return srv.uri, back
        if kind == "nbdkit-memory":
            srv = self.servers.nbdkit("memory", len(initial))
            nbd_write(raw, srv.uri)
            return srv.uri, lambda: nbd_read(srv.uri)
        raise ValueError(kind)


PAIRS = [
    ("file", "file"),
    ("file", "qcow2"),
    ("qcow2", "file"),
    ("nbd", "file"),
    ("file", "nbd"),
    ("nbd", "nbd"),
    ("file", "nbdkit-memory"),
    ("qcow2", "nbdkit-memory"),
]


@pytest.mark.parametrize("src_kind,dst_kind", PAIRS,
                         ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_random_extents(tmp_path, servers, src_kind, dst_kind):
    seed = zlib.crc32(f"{src_kind}/{dst_kind}".encode()) & 0xffff
    rng = random.Random(seed)
    chunks = source_chunks(seed)
    src_bytes = image_of(SIZE, chunks)
    extents = random_extents(rng, SIZE, n=14)
    # Extents that reach into the hole, the zero run and the odd hole, so
    # that zeroing at the destination must also stay inside the extents.
    extents += [(5 * MiB // SECTOR - 3, 20), (8 * MiB // SECTOR + 1, 9),
                (12 * MiB // SECTOR + 2, 2100)]
    rng.shuffle(extents)
    ext_file = tmp_path / "extents.txt"
    write_extents(ext_file, extents)

    vols = Volumes(tmp_path, servers)
    src = vols.source(src_kind, chunks, SIZE)
    before = rand_bytes(SIZE, seed + 1)  # the pattern outside the extents
    dst, read_back = vols.destination(dst_kind, before)

    res, _ = ferry_json("sync", src, dst, "--extents", ext_file)
    assert res["ok"] is True
    assert res["mode"] == "extents"
    covered = merged_byte_ranges(extents)
    assert res["total_bytes"] == sum(b - a for a, b in covered), res

    expected = apply_extents(before, src_bytes, extents)
    assert_same_bytes(read_back(), expected,
                      f"{src_kind} -> {dst_kind} (seed {seed})", covered)


def test_extents_from_stdin_small_requests(tmp_path):
    """'-' reads the extent list from stdin; small requests split every
    extent into many, cut at request boundaries."""
    rng = random.Random(7)
    size = 4 * MiB
    src_bytes = rng.randbytes(size)
    write_file(tmp_path / "s.raw", src_bytes)
    before = rng.randbytes(size)
    write_file(tmp_path / "d.raw", before)
    extents = random_extents(rng, size, n=20, max_sectors=700)
    text = "".join(f"{s}\t{c}  \n" for s, c in extents).encode()
    res, _ = ferry_json("sync", "s.raw", "d.raw", "--extents", "-",
                        "--request-size", "4096", "--requests", "3",
                        "--workers", "3", input=text)
    assert res["request_size"] == 4096
    covered = merged_byte_ranges(extents)
    assert_same_bytes(read_file(tmp_path / "d.raw"),
                      apply_extents(before, src_bytes, extents),
                      "stdin extents", covered)
    assert os.path.getsize(tmp_path / "d.raw") == size


TUNINGS = [
    ("4608", "1", "1"),       # 9 sectors: requests cut off 64 KiB blocks
    ("100352", "7", "3"),     # 196 sectors
    ("32M", "2", "2"),        # the largest request
]


@pytest.mark.parametrize("dst_kind", ["file", "nbd"])
@pytest.mark.parametrize("request_size,requests,workers", TUNINGS,
                         ids=[t[0] for t in TUNINGS])
def test_extents_with_odd_request_sizes(tmp_path, servers, dst_kind,
                                        request_size, requests, workers):
    seed = zlib.crc32(f"{dst_kind}/{request_size}".encode()) & 0xffff
    rng = random.Random(seed)
    chunks = source_chunks(seed)
    src_bytes = image_of(SIZE, chunks)
    extents = random_extents(rng, SIZE, n=10)
    extents += [(4 * MiB // SECTOR, 5 * MiB // SECTOR)]  # data, hole, data
    write_extents(tmp_path / "ext", extents)
    vols = Volumes(tmp_path, servers)
    src = vols.source("file", chunks, SIZE)
    before = rand_bytes(SIZE, seed + 1)
    dst, read_back = vols.destination(dst_kind, before)
    res, _ = ferry_json("sync", src, dst, "--extents", tmp_path / "ext",
                        "--request-size", request_size, "--requests",
                        requests, "--workers", workers, "--verify")
    covered = merged_byte_ranges(extents)
    assert res["verified_bytes"] == sum(b - a for a, b in covered)
    assert res["workers"] <= int(workers)
    assert_same_bytes(read_back(), apply_extents(before, src_bytes, extents),
                      f"request size {request_size}", covered)


def test_no_request_outside_the_extents(tmp_path, servers):
    """At the protocol level (nbdkit's log filter): every write and zero
    request ferry sends lies inside the extents; and the bytes match."""
    seed = 99
    rng = random.Random(seed)
    chunks = source_chunks(seed)
    src_bytes = image_of(SIZE, chunks)
    src = tmp_path / "s.raw"
    make_sparse(src, SIZE, chunks)
    before = rand_bytes(SIZE, seed + 1)
    dst = tmp_path / "d.raw"
    write_file(dst, before)
    log = tmp_path / "requests.log"
    srv = servers.nbdkit("file", dst, f"logfile={log}", filters=["log"])
    extents = random_extents(rng, SIZE, n=16)
    extents += [(5 * MiB // SECTOR - 1, 2050), (12 * MiB // SECTOR, 2049)]
    write_extents(tmp_path / "ext", extents)
    covered = merged_byte_ranges(extents)
    ferry_json("sync", src, srv.uri, "--extents", tmp_path / "ext",
               "--request-size", "128K")
    srv.stop()
    reqs = nbdkit_log_requests(log)
    assert any(k == "Zero" for k, _, _ in reqs), "expected zero requests"
    stray = [(k, o, c) for k, o, c in reqs
             if not any(a <= o and o + c <= b for a, b in covered)]
    assert not stray, f"requests outside the extents: {stray[:5]}"
    assert_same_bytes(read_file(dst), apply_extents(before, src_bytes,
                                                    extents), "logged copy",
                      covered)
