"""ferry.Error carries libferry's message and errno."""
import errno
import os
import random

import pytest

import ferry
from pyferry_util import MiB, SECTOR, random_file


@pytest.fixture
def disks(tmp_path):
    """A client rooted at tmp_path/root with 1 MiB volumes a and b, and a
    file x beside the root."""
    rng = random.Random(20)
    root = tmp_path / "root"
    root.mkdir()
    random_file(root / "a", MiB, rng)
    random_file(root / "b", MiB, rng)
    random_file(tmp_path / "x", MiB, rng)
    with ferry.Client.file(root) as client:
        yield client, root


def unchanged(paths):
    """Checks after the block that the files were not written."""
    before = {p: p.read_bytes() for p in paths}
    return lambda: all(p.read_bytes() == b for p, b in before.items())


def test_error_is_oserror():
    assert issubclass(ferry.Error, OSError)
    e = ferry.Error(errno.EIO, "volume x: read failed")
    assert e.errno == errno.EIO and e.message == "volume x: read failed"


def test_extent_past_the_end(disks):
    client, root = disks
    same = unchanged([root / "b"])
    last = MiB // SECTOR - 4
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(client, client, "a", "b", [(0, 8), (last, 8)])
    assert e.value.errno == errno.EINVAL
    msg = str(e.value)
    assert f"extent 1 (bytes {last * SECTOR}-{(last + 8) * SECTOR}, " \
           f"sectors {last}+8) ends past the end of source" in msg
    assert str(root / "a") in msg and f"({MiB} bytes, " in msg
    assert same()  # checked before the first byte was written


def test_extent_past_the_end_seed(disks):
    client, root = disks
    same = unchanged([root / "b"])
    with pytest.raises(ferry.Error) as e:
        ferry.sync(client, client, "a", "b", [MiB // SECTOR], [1], 1)
    assert e.value.errno == errno.EINVAL
    assert f"sectors {MiB // SECTOR}+1) ends past the end" in str(e.value)
    assert same()


def test_destination_too_small(disks):
    client, root = disks
    os.truncate(root / "b", MiB // 2)
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(client, client, "a", "b", [(1024, 8)])
    assert "ends past the end of destination" in str(e.value)
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(client, client, "a", "b")
    assert e.value.errno == errno.ENOSPC
    assert "is smaller than source" in str(e.value)


def test_missing_volume(disks):
    client, _ = disks
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(client, client, "missing.img", "b", [(0, 1)])
    assert e.value.errno == errno.ENOENT
    assert "source: volume 'missing.img'" in str(e.value)
    assert isinstance(e.value, OSError)
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(client, client, "a", "missing.img", [(0, 1)])
    assert e.value.message.startswith("destination: volume 'missing.img'")


def test_escaping_volume_id(disks, tmp_path):
    client, root = disks
    os.symlink("../x", root / "link")
    (root / "sub").mkdir()
    same = unchanged([tmp_path / "x", root / "b"])
    for src, dst in [("../x", "b"), ("a", "../x"), ("link", "b"),
                     ("a", "link"), ("sub/../../x", "b")]:
        with pytest.raises(ferry.Error) as e:
            ferry.sync_extents(client, client, src, dst, [(0, 8)])
        assert e.value.errno == errno.EXDEV, (src, dst)
        assert "escapes the client's root" in str(e.value)
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(client, client, str(tmp_path / "x"), "b", [(0, 8)])
    assert e.value.errno == errno.EXDEV
    assert "is outside the client's root" in str(e.value)
    assert same()


def test_same_source_and_destination(disks, tmp_path):
    client, root = disks
    os.link(root / "a", root / "hardlink")
    same = unchanged([root / "a"])
    with ferry.Client.file(tmp_path) as parent:
        for dst_client, dst in [(client, "a"), (client, "hardlink"),
                                (parent, "root/a")]:
            with pytest.raises(ferry.Error) as e:
                ferry.sync_extents(client, dst_client, "a", dst, [(0, 8)])
            assert e.value.errno == errno.EINVAL
            assert "source and destination are the same volume" in \
                str(e.value)
    with pytest.raises(ferry.Error, match="same volume"):
        ferry.sync(client, client, "a", "a", None, None, 0)
    assert same()


def test_bad_options(disks):
    client, _ = disks
    with pytest.raises(ferry.Error) as e:
        ferry.sync_extents(client, client, "a", "b", request_size=1000)
    assert e.value.errno == errno.EINVAL
    assert "request size 1000 must be a multiple of 512" in str(e.value)
    with pytest.raises(ferry.Error, match="65 workers is more than 64"):
        ferry.sync_extents(client, client, "a", "b", workers=65)
    # ctypes would wrap these around silently: refused in Python.
    with pytest.raises(ValueError, match="workers"):
        ferry.sync_extents(client, client, "a", "b", workers=-1)
    with pytest.raises(ValueError, match="requests"):
        ferry.sync_extents(client, client, "a", "b", requests=1 << 32)
    with pytest.raises(ValueError, match="extent 0 start"):
        ferry.sync_extents(client, client, "a", "b", [(-8, 8)])
    with pytest.raises(ValueError, match="read_all"):
        ferry.sync_extents(client, client, "a", "b", [(0, 8)], read_all=True)


def test_error_after_success_is_not_stale(disks):
    client, _ = disks
    with pytest.raises(ferry.Error):
        ferry.sync_extents(client, client, "a", "missing", [(0, 1)])
    stats = ferry.sync_extents(client, client, "a", "b", [(0, 1)])
    assert stats.copied_bytes == SECTOR
