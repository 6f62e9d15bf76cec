"""ferry.Volume over ferry_volume_*."""
import errno
import random

import pytest

import ferry
from pyferry_util import MiB, MemDisk, sparse_file


@pytest.fixture
def files(tmp_path):
    with ferry.Client.file(tmp_path) as client:
        yield client


def test_read_write_size_name(tmp_path, files):
    rng = random.Random(60)
    data = rng.randbytes(MiB)
    (tmp_path / "v").write_bytes(bytes(MiB))
    with ferry.Volume(files, "v", writable=True) as vol:
        assert vol.size == MiB
        assert (vol.name, vol.format) == (str(tmp_path / "v"), "raw")
        vol.pwrite(data[:65536], 4096)
        vol.pwrite(bytearray(data[65536:65536 + 512]), MiB - 512)
        vol.flush()
        assert vol.pread(65536, 4096) == data[:65536]
    assert vol.closed
    disk = (tmp_path / "v").read_bytes()
    assert disk[4096:4096 + 65536] == data[:65536]
    assert disk[-512:] == data[65536:65536 + 512]
    assert disk[:4096] == bytes(4096)


def test_extents_and_zero(tmp_path, files):
    rng = random.Random(61)
    sparse_file(tmp_path / "s", 4 * MiB, {MiB: rng.randbytes(2 * MiB)})
    with ferry.Volume(files, "s", writable=True) as vol:
        m = vol.extents()
        assert [(e.offset, e.length, e.hole, e.zero) for e in m] == [
            (0, MiB, True, True), (MiB, 2 * MiB, False, False),
            (3 * MiB, MiB, True, True)]
        assert vol.extents(MiB, 65536) == [ferry.Extent(MiB, 65536, 0)]
        vol.zero(MiB, MiB)
        assert [e.hole for e in vol.extents()] == [True, False, True]
        assert vol.extents()[1] == (2 * MiB, MiB, 0)
        assert vol.pread(MiB, MiB) == bytes(MiB)


def test_volume_errors(tmp_path, files):
    (tmp_path / "v").write_bytes(bytes(4096))
    with ferry.Volume(files, "v") as vol:
        with pytest.raises(ferry.Error) as e:
            vol.pwrite(b"x", 0)
        assert e.value.errno == errno.EROFS
        assert e.value.message == f"{tmp_path / 'v'}: opened read-only"
        with pytest.raises(ferry.Error) as e:
            vol.pread(512, 4096)
        # past the end: EINVAL on every backend (EIO would be retried)
        assert e.value.errno == errno.EINVAL
        assert "goes past its end (4096 bytes)" in e.value.message
    with pytest.raises(ValueError, match="closed"):
        vol.pread(1, 0)
    with pytest.raises(ferry.Error) as e:
        ferry.Volume(files, "nope")
    assert e.value.errno == errno.ENOENT


def test_volume_of_a_python_object():
    rng = random.Random(62)
    mem = MemDisk(a=rng.randbytes(8192))
    with ferry.Volume(mem, "a", writable=True) as vol:
        assert vol.size is None
        assert vol.pread(100, 50) == bytes(mem.volumes["a"][50:150])
        vol.pwrite(b"hello", 8190)
        assert mem.volumes["a"][8190:] == b"hello"
        assert "hand-made client" in vol.name and vol.format is None
        with pytest.raises(ferry.Error) as e:
            ferry.Volume(mem, "missing").pread(1, 0)
        assert e.value.errno == errno.ENOENT
        assert isinstance(e.value.__cause__, FileNotFoundError)
