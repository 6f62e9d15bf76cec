"""Python objects with read()/write() acting as clients."""
import errno
import gc
import random

import pytest

import ferry
from pyferry_util import (MiB, SECTOR, MemDisk, apply_extents, random_extents,
                          random_file, sparse_file)

# A Python exception becomes EIO, which the engine retries: keep that quick.
FAST_RETRY = {"retries": 1, "retry_delay_ms": 1}


def test_python_source_to_file(tmp_path):
    rng = random.Random(30)
    mem = MemDisk(disk=rng.randbytes(2 * MiB))
    dst = random_file(tmp_path / "dst.img", 2 * MiB, rng)
    extents = random_extents(rng, 2 * MiB // SECTOR, 12)
    with ferry.Client.file(tmp_path) as files:
        stats = ferry.sync_extents(mem, files, "disk", "dst.img", extents)
    assert (tmp_path / "dst.img").read_bytes() == \
        apply_extents(dst, mem.volumes["disk"], extents)
    assert stats.workers == 1  # a hand-made client is not thread safe
    assert mem.reads and not mem.writes


def test_file_to_python_destination(tmp_path):
    rng = random.Random(31)
    size = 4 * MiB
    src = sparse_file(tmp_path / "src.img", size,
                      {0: rng.randbytes(65536), 3 * MiB: rng.randbytes(MiB)})
    mem = MemDisk(out=rng.randbytes(size))
    with ferry.Client.file(tmp_path) as files:
        ferry.sync_extents(files, mem, "src.img", "out")  # all allocated
    assert bytes(mem.volumes["out"]) == src  # the holes written as zeroes
    assert not mem.reads


def test_python_to_python_through_callback_clients():
    rng = random.Random(32)
    a = MemDisk(vol=rng.randbytes(MiB))
    b = MemDisk(vol=rng.randbytes(MiB))
    before = bytes(b.volumes["vol"])
    extents = [(0, 1), (100, 300), (2000, 48)]
    with ferry.CallbackClient(a) as src, ferry.CallbackClient(b) as dst:
        ferry.sync_extents(src, dst, "vol", "vol", extents)
    assert src.closed and dst.closed
    assert bytes(b.volumes["vol"]) == apply_extents(before, a.volumes["vol"],
                                                    extents)


def test_seed_sync_with_python_objects(tmp_path):
    rng = random.Random(33)
    mem = MemDisk(disk=rng.randbytes(MiB))
    dst = random_file(tmp_path / "dst.img", MiB, rng)
    client = ferry.create_client(ferry.CLIENT_FILE, None, None, str(tmp_path),
                                 None, None, None)
    ferry.sync(mem, client, "disk", "dst.img", [8, 64], [16, 1], 2)
    out = MemDisk()
    ferry.sync(client, out, "dst.img", "copy", [0], [MiB // SECTOR], 1)
    ferry.destroy_client(client)
    expected = apply_extents(dst, mem.volumes["disk"], [(8, 16), (64, 1)])
    assert (tmp_path / "dst.img").read_bytes() == expected
    assert bytes(out.volumes["copy"]) == expected


def test_same_object_two_volumes_and_one_volume():
    rng = random.Random(34)
    mem = MemDisk(a=rng.randbytes(65536), b=bytes(65536))
    ferry.sync_extents(mem, mem, "a", "b", [(0, 128)])
    assert mem.volumes["b"] == mem.volumes["a"]
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(mem, mem, "a", "a", [(0, 1)])
    assert e.value.errno == errno.EINVAL
    assert "same volume" in e.value.message


def test_source_needs_an_extent_list(tmp_path):
    mem = MemDisk(disk=bytes(65536))
    random_file(tmp_path / "b", 65536, random.Random(35))
    with ferry.Client.file(tmp_path) as files, \
            pytest.raises(ferry.Error) as e:
        ferry.sync_extents(mem, files, "disk", "b")
    assert e.value.errno == errno.EINVAL
    assert "has no known size: give an extent list" in e.value.message


def test_exception_in_read_becomes_eio(tmp_path):
    class Broken(MemDisk):
        def read(self, volume_id, length, offset):
            raise ValueError("disk on fire")

    random_file(tmp_path / "b", MiB, random.Random(36))
    before = (tmp_path / "b").read_bytes()
    with ferry.Client.file(tmp_path) as files:
        with pytest.raises(ferry.Error) as e:
            ferry.sync_extents(Broken(), files, "disk", "b", [(16, 8)],
                               **FAST_RETRY)
        # The client still works afterwards.
        ferry.sync_extents(MemDisk(disk=bytes(MiB)), files, "disk", "b",
                           [(0, 1)])
    assert e.value.errno == errno.EIO
    assert "volume 'disk' of a hand-made client: read of 4096 bytes at " \
           "offset 8192 (sector 16) failed after retries" in e.value.message
    assert isinstance(e.value.__cause__, ValueError)
    assert str(e.value.__cause__) == "disk on fire"
    assert (tmp_path / "b").read_bytes() == bytes(512) + before[512:]


def test_oserror_in_write_keeps_its_errno(tmp_path):
    class Full(MemDisk):
        def write(self, volume_id, data, offset):
            raise OSError(errno.ENOSPC, "no room")

    random_file(tmp_path / "a", MiB, random.Random(37))
    full = Full()
    with ferry.Client.file(tmp_path) as files:
        with pytest.raises(ferry.Error) as e:
            ferry.sync_extents(files, full, "a", "disk", [(0, 8)])
    assert e.value.errno == errno.ENOSPC
    assert "write of 4096 bytes at offset 0" in e.value.message
    assert e.value.__cause__.strerror == "no room"


def test_short_read_is_an_error():
    class Short(MemDisk):
        def read(self, volume_id, length, offset):
            return b"x" * (length - 1)

    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(Short(), MemDisk(), "a", "b", [(0, 8)],
                           **FAST_RETRY)
    assert e.value.errno == errno.EIO
    assert "4095 bytes instead of 4096" in str(e.value.__cause__)


def test_read_returning_other_buffers():
    rng = random.Random(38)
    data = rng.randbytes(8192)

    class Views:
        def read(self, volume_id, length, offset):
            return memoryview(bytearray(data))[offset:offset + length]

    out = MemDisk()
    ferry.sync_extents(Views(), out, "v", "w", [(0, 16)])
    assert bytes(out.volumes["w"]) == data


def test_one_way_objects():
    class ReadOnly:
        def read(self, volume_id, length, offset):
            return bytes(length)

    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(MemDisk(a=bytes(512)), ReadOnly(), "a", "b",
                           [(0, 1)])
    assert "destination: hand-made client has no write callback" in \
        e.value.message
    with pytest.raises(TypeError):
        ferry.CallbackClient(object())


def test_callbacks_outlive_the_callers_references():
    rng = random.Random(39)
    mem = MemDisk(a=rng.randbytes(65536))
    client = ferry.CallbackClient(mem)
    del mem
    gc.collect()
    out = MemDisk()
    ferry.sync_extents(client, out, "a", "b", [(0, 128)])
    assert out.volumes["b"] == client.obj.volumes["a"]
    client.close()
    with pytest.raises(ValueError, match="closed"):
        ferry.sync_extents(client, out, "a", "b", [(0, 128)])
