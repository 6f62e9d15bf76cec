"""The volume contract (volume.h): what every data path must do, run
against each backend's fixture in conftest.py.

- reads give the bytes the backend holds, at any offset and length;
- I/O past the end fails without touching anything: reads and extents
  with EINVAL, writes and zeroes with ENOSPC (the NBD protocol's answers,
  which libnbd gives); EIO would be taken for a transient failure and
  retried by the copy engine;
- extents cover the range asked exactly, in order, merged, and never call
  data a hole or non-zero bytes zero;
- a volume opened read-only refuses writes and zeroes with EROFS, and its
  flush is a no-op that succeeds (ferry_volume_flush has no writable
  check: it calls the backend's flush, which file and nbd have and which
  is harmless on a read-only handle); a backend that serves a volume
  read-only refuses to open it for writing with EROFS; a driver that
  cannot write says ENOTSUP with a sentence;
- flush: what was written and flushed is what the backend holds, read
  without ferry;
- clone and reconnect are not in the Python binding (nor in volume.h):
  they are the copy engine's. What they do is observable through
  ferry.sync_extents: several workers each read (or write) through a
  clone, and SyncStats.workers says how many clones there were (the
  engine falls back to one worker when a clone is refused); a connection
  cut in the middle of a copy is made again and the copy is exact.
"""
import errno
import random

import pytest

import ferry
from contracthelpers import (KiB, MiB, SIZE, CuttingSink, assert_bytes,
                             assert_enotsup, chunks_for, image_of, raises)

F = ferry.Feature


def expected(seed):
    chunks = chunks_for(seed)
    return chunks, image_of(SIZE, chunks)


# ---- reads ----

def test_reads_what_the_backend_holds(volume_backend):
    chunks, want = expected(1)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id) as v:
        assert v.size == SIZE
        assert v.name, "a volume needs a name for its messages"
        assert_bytes(v.pread(SIZE, 0), want, "the whole volume")
        for off, length in [(1 * MiB - 3, 10), (5 * MiB + 4 * KiB + 100, 1),
                            (SIZE - 1, 1), (0, 1), (3 * MiB + 17, 70001)]:
            assert_bytes(v.pread(length, off), want[off:off + length],
                         f"{length} bytes at {off}")


def test_reads_past_the_end(volume_backend):
    chunks, want = expected(2)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id) as v:
        assert_bytes(v.pread(4 * KiB, SIZE - 4 * KiB), want[-4 * KiB:],
                     "the last 4 KiB, ending at the end")
        for off, length in [(SIZE - 512, 1024), (SIZE, 512), (SIZE, 1),
                            (SIZE + MiB, 4 * KiB)]:
            e = raises(errno.EINVAL, v.pread, length, off)
            assert v.name in e.message, (
                f"a read of {length} at {off} past the end: the message "
                f"does not name the volume {v.name!r}: {e.message!r}")
        # the handle is still good
        assert_bytes(v.pread(512, 1 * MiB), want[MiB:MiB + 512],
                     "a read after the refused ones")


def test_extents_past_the_end(volume_backend):
    chunks, _ = expected(3)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id) as v:
        tail = v.extents(SIZE - 4 * KiB, 4 * KiB)
        assert sum(e.length for e in tail) == 4 * KiB
        for off, length in [(SIZE - 512, 4 * KiB), (SIZE, 512)]:
            try:
                got = v.extents(off, length)
            except ferry.Error as e:
                assert e.errno == errno.EINVAL, e
                continue
            pytest.fail(f"extents of {length} bytes at {off}, past the end "
                        f"of a volume of {SIZE}, were not refused (EINVAL): "
                        f"{got}")


@pytest.mark.backends("writable")
def test_writes_past_the_end(volume_backend):
    chunks, want = expected(4)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id, writable=True) as v:
        for what, fn in [
                ("a write across the end", lambda: v.pwrite(b"x" * 1024,
                                                             SIZE - 512)),
                ("a write at the end", lambda: v.pwrite(b"x", SIZE)),
                ("a write beyond it", lambda: v.pwrite(b"x" * 512,
                                                       SIZE + MiB)),
                ("zeroes across the end", lambda: v.zero(8 * KiB,
                                                         SIZE - 4 * KiB))]:
            try:
                fn()
            except ferry.Error as e:
                assert e.errno == errno.ENOSPC, f"{what}: {e}"
                assert v.name in e.message, f"{what}: {e.message!r}"
                continue
            pytest.fail(f"{what} of a volume of {SIZE} bytes was not "
                        "refused (ENOSPC)")
        v.flush()
    with ferry.Volume(vol.client, vol.volume_id) as v:
        assert v.size == SIZE, "the refused writes changed the size"
    got = vol.read_back()
    assert len(got) == SIZE, (
        f"the backend holds {len(got)} bytes after writes past the end of "
        f"a volume of {SIZE}: they grew it")
    assert_bytes(got, want, "the volume after refused writes")


# ---- extents ----

def test_extents(volume_backend):
    chunks, want = expected(5)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id) as v:
        full = v.extents()
        assert full, "no extents for a volume of 16 MiB"
        pos = 0
        for e in full:
            assert e.offset == pos and e.length > 0, (
                f"extents do not tile the volume at {pos}: {full}")
            assert e.flags & ~3 == 0, f"flags other than HOLE|ZERO: {e}"
            pos += e.length
        assert pos == SIZE, f"extents end at {pos}, not {SIZE}: {full}"
        for a, b in zip(full, full[1:]):
            assert a.flags != b.flags, f"adjacent extents not merged: {a} {b}"
        for e in full:
            if e.zero:
                assert want[e.offset:e.offset + e.length] == \
                    bytes(e.length), f"{e} says zero but holds data"
                assert_bytes(v.pread(min(e.length, MiB), e.offset),
                             bytes(min(e.length, MiB)), f"zero extent {e}")
        for off, data in chunks:
            for e in full:
                if e.offset < off + len(data) and off < e.offset + e.length:
                    assert not e.hole and not e.zero, (
                        f"data at {off} ({len(data)} bytes) lies in {e}")
        if volume_backend.knows_allocation:
            untouched = [e for e in full if e.hole and
                         e.offset <= 8 * MiB and
                         e.offset + e.length >= 12 * MiB]
            assert untouched, (f"8-12 MiB was never written, but no hole "
                               f"is reported there: {full}")

        # a part of it, from and to odd places, agrees with the whole
        off, length = 1 * MiB - 1000, 4 * MiB + 12345
        part = v.extents(off, length)
        assert part[0].offset == off and \
            part[-1].offset + part[-1].length == off + length, part
        for e in part:
            for f in full:
                if f.offset < e.offset + e.length and e.offset < \
                        f.offset + f.length:
                    assert f.flags == e.flags, (
                        f"extents({off}, {length}) says {e}, the whole "
                        f"volume's map {f}")
        assert v.extents(4 * KiB, 0) == []


# ---- read-only ----

def test_read_only_volume_refuses_writes(volume_backend):
    chunks, want = expected(6)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id) as v:
        for what, fn in [("pwrite", lambda: v.pwrite(b"\xff" * 4096, MiB)),
                         ("zero", lambda: v.zero(64 * KiB, MiB))]:
            e = raises(errno.EROFS, fn)
            assert v.name in e.message, f"{what}: {e.message!r}"
        v.flush()  # a no-op on a read-only handle, never an error
        assert_bytes(v.pread(64 * KiB, MiB), want[MiB:MiB + 64 * KiB],
                     "data after refused writes, through the same handle")
    assert_bytes(vol.read_back(), want, "the backend after refused writes")


@pytest.mark.backends("read_only_form")
def test_read_only_backend_refuses_writers(volume_backend):
    chunks, want = expected(7)
    vol = volume_backend.make_read_only(SIZE, chunks)
    e = raises(errno.EROFS, ferry.Volume, vol.client, vol.volume_id,
               writable=True)
    assert "read-only" in e.message, e
    with ferry.Volume(vol.client, vol.volume_id) as v:
        assert_bytes(v.pread(SIZE), want, "a read-only backend's volume")


def test_write_open_matches_the_driver_features(volume_backend):
    """A driver whose features say it writes volumes opens them for
    writing; one that says not refuses with ENOTSUP and a sentence. A
    data-path driver answers platform operations with ENOTSUP naming it."""
    chunks, want = expected(8)
    vol = volume_backend.make(SIZE, chunks)
    info = ferry.client_driver(vol.client)
    name = info["name"]
    assert info["features"] & F.READ_VOLUMES, f"{name} reads volumes"
    writes = bool(info["features"] & F.WRITE_VOLUMES)
    assert writes == volume_backend.writable, (
        f"the {name} driver's WRITE_VOLUMES bit is {writes}, its fixture "
        f"says writable={volume_backend.writable}")
    if writes:
        with ferry.Volume(vol.client, vol.volume_id, writable=True) as v:
            v.pwrite(b"w" * 512, 0)
    else:
        try:
            ferry.Volume(vol.client, vol.volume_id, writable=True).close()
        except ferry.Error as e:
            assert_enotsup(e, name, "opening a volume for writing")
        else:
            pytest.fail(f"the {name} driver opened a volume for writing, "
                        "but its features say it does not write")
        assert_bytes(vol.read_back(), want, "an unwritable volume")
    if not info["platform"]:
        for what, fn in [("list VMs", ferry.vms),
                         ("list volumes", ferry.volumes)]:
            try:
                fn(vol.client)
            except ferry.Error as e:
                assert_enotsup(e, name, f"{what} on a data path")
            else:
                pytest.fail(f"{what} on the {name} data path succeeded")


# ---- flush ----

@pytest.mark.backends("writable")
def test_writes_reach_the_backend(volume_backend):
    chunks, want = expected(9)
    vol = volume_backend.make(SIZE, chunks)
    want = bytearray(want)
    new = bytes(range(256)) * 40 + b"tail"
    with ferry.Volume(vol.client, vol.volume_id, writable=True) as v:
        v.pwrite(new, 2 * MiB + 123)
        want[2 * MiB + 123:2 * MiB + 123 + len(new)] = new
        v.zero(64 * KiB, 1 * MiB)
        want[MiB:MiB + 64 * KiB] = bytes(64 * KiB)
        assert_bytes(v.pread(len(new), 2 * MiB + 123), new,
                     "a write, read through the same handle")
        assert_bytes(v.pread(64 * KiB, MiB), bytes(64 * KiB),
                     "zeroes, read through the same handle")
        v.flush()
        v.flush()  # twice is fine
    assert_bytes(vol.read_back(), bytes(want),
                 "the backend after writes and a flush")


# ---- clone (through the copy engine's workers) ----

def _file_client(tmp_path, data=None):
    path = tmp_path / "other.raw"
    if data is None:
        with open(path, "wb") as f:
            f.truncate(SIZE)
    else:
        path.write_bytes(data)
    return ferry.Client.file(str(tmp_path)), "other.raw", path


def test_clones_read_the_same_volume(volume_backend, tmp_path):
    chunks, want = expected(10)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id) as v:
        multi = v.can_multi_conn
    dst, dst_id, path = _file_client(tmp_path)
    stats = ferry.sync_extents(vol.client, dst, vol.volume_id, dst_id,
                               read_all=True, workers=4,
                               request_size=256 * KiB)
    assert stats.workers == (4 if multi else 1), (
        f"can_multi_conn is {multi}, but a copy asked for 4 workers had "
        f"{stats.workers}")
    assert_bytes(path.read_bytes(), want, "a copy read through 4 clones")


@pytest.mark.backends("writable")
def test_clones_write_the_same_volume(volume_backend, tmp_path):
    chunks, _ = expected(11)
    vol = volume_backend.make(SIZE, chunks)
    with ferry.Volume(vol.client, vol.volume_id, writable=True) as v:
        multi = v.can_multi_conn
    new = image_of(SIZE, expected(12)[0])
    src, src_id, _ = _file_client(tmp_path, new)
    stats = ferry.sync_extents(src, vol.client, src_id, vol.volume_id,
                               read_all=True, workers=4,
                               request_size=256 * KiB)
    assert stats.workers == (4 if multi else 1), (
        f"can_multi_conn is {multi} (writable), but a copy asked for 4 "
        f"workers had {stats.workers}")
    assert_bytes(vol.read_back(), new, "a copy written through clones")


# ---- reconnect ----

@pytest.mark.backends("connected")
def test_a_cut_connection_is_made_again(volume_backend):
    """The source's connections are cut at a write of the copy, once while
    reads are in flight (all data) and at a few moments of a sparse
    volume, where the connection may sit idle while holes are zeroed."""
    dense = [(0, random.Random(14).randbytes(SIZE))]
    for chunks, moments in [(dense, (5,)), (chunks_for(13), (2, 5, 9))]:
        vol = volume_backend.make(SIZE, chunks)
        want = image_of(SIZE, chunks)
        for at in moments:
            sink = CuttingSink(SIZE, at, volume_backend.cut,
                               volume_backend.live)
            what = (f"a copy of a {'dense' if chunks is dense else 'sparse'}"
                    f" volume, its connections cut at write {at}")
            try:
                ferry.sync_extents(vol.client, sink, vol.volume_id, "sink",
                                   [(0, SIZE // 512)],
                                   request_size=64 * KiB, workers=1,
                                   retries=5, retry_delay_ms=10)
            except ferry.Error as e:
                pytest.fail(f"{what} failed: {e}")
            assert sink.cut_ids, f"{what}: there was no connection to cut"
            assert sink.reconnected, (
                f"{what}: no new connection was seen after the cut")
            assert_bytes(bytes(sink.buf), want, what)
