"""The seed's interface: create_client, sync, destroy_client."""
import errno
import os
import random

import pytest

import ferry
from pyferry_util import (MiB, SECTOR, apply_extents, covered, data_ranges,
                          outside, random_extents, random_file, sparse_file)


def file_client(root):
    return ferry.create_client(ferry.CLIENT_FILE, None, None, str(root), None,
                               None, None)


def test_constants():
    assert (ferry.CLIENT_FILE, ferry.CLIENT_NBD, ferry.CLIENT_QEMU,
            ferry.CLIENT_VMWARE, ferry.CLIENT_ELF, ferry.CLIENT_XEN,
            ferry.CLIENT_LIBVIRT) == (0, 1, 2, 3, 4, 5, 6)
    assert ferry.SECTOR_SIZE == 512


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sync_random_extents(tmp_path, seed):
    rng = random.Random(seed)
    size = 4 * MiB
    src = random_file(tmp_path / "src.img", size, rng)
    dst = random_file(tmp_path / "dst.img", size, rng)
    extents = random_extents(rng, size // SECTOR, 20)
    assert covered(extents, size) < size  # leaves bytes outside to check

    client = file_client(tmp_path)
    assert ferry.sync(client, client, "src.img", "dst.img",
                      [s for s, _ in extents], [n for _, n in extents],
                      len(extents)) == 0
    assert ferry.destroy_client(client) == 0

    result = (tmp_path / "dst.img").read_bytes()
    for a, b in outside(extents, size):
        assert result[a:b] == dst[a:b], f"bytes {a}-{b} were written"
    assert result == apply_extents(dst, src, extents)
    assert (tmp_path / "src.img").read_bytes() == src


def test_sync_between_two_clients(tmp_path):
    rng = random.Random(4)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    src = random_file(tmp_path / "a" / "disk", MiB, rng)
    dst = random_file(tmp_path / "b" / "disk", MiB, rng)
    a, b = file_client(tmp_path / "a"), file_client(tmp_path / "b")
    try:
        ferry.sync(a, b, "disk", "disk", [0, 1000], [8, 48], 2)
    finally:
        ferry.destroy_client(a)
        ferry.destroy_client(b)
    expected = apply_extents(dst, src, [(0, 8), (1000, 48)])
    assert (tmp_path / "b" / "disk").read_bytes() == expected


def test_sync_all_allocated_keeps_holes(tmp_path):
    rng = random.Random(5)
    size = 16 * MiB
    chunks = {1 * MiB: rng.randbytes(MiB),
              5 * MiB + 65536: rng.randbytes(3 * 65536),
              12 * MiB: rng.randbytes(MiB)}
    src = sparse_file(tmp_path / "src.img", size, chunks)
    random_file(tmp_path / "dst.img", size, rng)  # all data, all different
    (tmp_path / "new.img").write_bytes(b"")
    os.truncate(tmp_path / "new.img", size)

    client = file_client(tmp_path)
    ferry.sync(client, client, "src.img", "dst.img", None, None, 0)
    ferry.sync(client, client, "src.img", "new.img", None, None, 0)
    ferry.destroy_client(client)

    src_map = data_ranges(tmp_path / "src.img")
    assert src_map == [(o, o + len(d)) for o, d in sorted(chunks.items())]
    for name in ("dst.img", "new.img"):
        path = tmp_path / name
        assert path.read_bytes() == src
        assert data_ranges(path) == src_map  # holes stayed (or became) holes
        blocks = os.stat(path).st_blocks * 512
        assert blocks <= os.stat(tmp_path / "src.img").st_blocks * 512 + 65536


def test_sync_extent_with_zero_sectors(tmp_path):
    random_file(tmp_path / "a", MiB, random.Random(6))
    random_file(tmp_path / "b", MiB, random.Random(7))
    client = file_client(tmp_path)
    with pytest.raises(ferry.Error) as e:
        ferry.sync(client, client, "a", "b", [0, 16], [8, 0], 2)
    ferry.destroy_client(client)
    assert e.value.errno == errno.EINVAL
    assert "extent 1 (start sector 16): sector count is zero" in str(e.value)


def test_sync_length_longer_than_lists(tmp_path):
    client = file_client(tmp_path)
    # C would read past the end of the arrays: refused before the call.
    with pytest.raises(ValueError, match="length is 3"):
        ferry.sync(client, client, "a", "b", [0, 8], [8, 8], 3)
    with pytest.raises(ValueError, match="start"):
        ferry.sync(client, client, "a", "b", [-1], [8], 1)
    ferry.destroy_client(client)


def test_create_client_errors(tmp_path):
    cases = [
        ((99, None, None, str(tmp_path), None, None, None), errno.EINVAL,
         "unknown client type 99"),
        ((ferry.CLIENT_XEN, "7", "0", "xen.example", "u", "p", None),
         errno.ENOTSUP, "client type 'xen' is not implemented"),
        ((ferry.CLIENT_VMWARE, "7", "0", "vc.example", "u", "p", "AA:BB"),
         errno.EINVAL, "'AA:BB' is not a SHA-1 thumbprint"),
        ((ferry.CLIENT_FILE, None, None, "", None, None, None), errno.EINVAL,
         "file client: host is empty"),
        ((ferry.CLIENT_FILE, None, None, str(tmp_path / "nowhere"), None,
          None, None), errno.ENOENT, str(tmp_path / "nowhere")),
    ]
    for args, err, text in cases:
        with pytest.raises(ferry.Error) as e:
            ferry.create_client(*args)
        assert e.value.errno == err
        assert text in str(e.value)


def test_destroy_client_twice(tmp_path):
    client = file_client(tmp_path)
    assert ferry.destroy_client(client) == 0
    assert ferry.destroy_client(client) == 0
    with pytest.raises(ValueError, match="closed"):
        ferry.sync(client, client, "a", "b", [0], [1], 1)
