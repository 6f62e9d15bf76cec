"""sync_extents: options and statistics of the copy engine."""
import random

import pytest

import ferry
from ferry import _capi
from pyferry_util import (MiB, SECTOR, apply_extents, covered, data_ranges,
                          random_extents, random_file, sparse_file)


@pytest.fixture
def files(tmp_path):
    with ferry.Client.file(tmp_path) as client:
        yield client


def test_extents_with_stats_and_verify(tmp_path, files):
    rng = random.Random(50)
    size = 8 * MiB
    src = random_file(tmp_path / "a", size, rng)
    dst = random_file(tmp_path / "b", size, rng)
    extents = random_extents(rng, size // SECTOR, 30, max_count=4096)
    stats = ferry.sync_extents(files, files, "a", "b", extents, verify=True,
                               request_size=65536, workers=3, requests=2)
    assert (tmp_path / "b").read_bytes() == apply_extents(dst, src, extents)
    merged = covered(extents, size)  # overlapping extents count once
    assert stats.total_bytes == stats.copied_bytes == merged
    assert stats.verified_bytes == merged
    assert stats.zeroed_bytes == stats.skipped_bytes == stats.retries == 0
    assert stats.request_size == 65536
    assert stats.workers == 3
    assert stats.seconds > 0


def test_all_allocated_into_data_and_into_holes(tmp_path, files):
    rng = random.Random(51)
    size = 8 * MiB
    chunks = {0: rng.randbytes(65536), 4 * MiB: rng.randbytes(2 * MiB)}
    src = sparse_file(tmp_path / "src", size, chunks)
    data = sum(len(d) for d in chunks.values())
    random_file(tmp_path / "full", size, rng)
    sparse_file(tmp_path / "empty", size, {})

    into_full = ferry.sync_extents(files, files, "src", "full")
    into_empty = ferry.sync_extents(files, files, "src", "empty")
    for name, stats in [("full", into_full), ("empty", into_empty)]:
        assert (tmp_path / name).read_bytes() == src
        assert data_ranges(tmp_path / name) == data_ranges(tmp_path / "src")
        assert stats.copied_bytes == data
        assert stats.total_bytes == size
    assert into_full.zeroed_bytes == size - data
    # Holes over holes: nothing to write.
    assert into_empty.skipped_bytes == size - data
    assert into_empty.zeroed_bytes == 0


def test_read_all_and_zero_detection(tmp_path, files):
    rng = random.Random(52)
    size = 2 * MiB
    src = sparse_file(tmp_path / "src", size, {MiB: rng.randbytes(65536)})
    sparse_file(tmp_path / "detect", size, {})
    sparse_file(tmp_path / "plain", size, {})
    detect = ferry.sync_extents(files, files, "src", "detect", read_all=True)
    plain = ferry.sync_extents(files, files, "src", "plain", read_all=True,
                               zero_detect=False)
    assert detect.copied_bytes == plain.copied_bytes == size  # all read
    assert (tmp_path / "detect").read_bytes() == src
    assert (tmp_path / "plain").read_bytes() == src
    assert data_ranges(tmp_path / "detect") == [(MiB, MiB + 65536)]
    assert data_ranges(tmp_path / "plain") == [(0, size)]


def test_empty_extent_list_copies_nothing(tmp_path, files):
    rng = random.Random(53)
    random_file(tmp_path / "a", MiB, rng)
    dst = random_file(tmp_path / "b", MiB, rng)
    stats = ferry.sync_extents(files, files, "a", "b", [])
    assert stats.total_bytes == stats.copied_bytes == 0
    assert (tmp_path / "b").read_bytes() == dst


def test_extents_from_any_iterable(tmp_path, files):
    rng = random.Random(54)
    src = random_file(tmp_path / "a", MiB, rng)
    dst = random_file(tmp_path / "b", MiB, rng)
    extents = [(10, 20), (500, 7)]
    ferry.sync_extents(files, files, "a", "b", (e for e in extents))
    assert (tmp_path / "b").read_bytes() == apply_extents(dst, src, extents)


def test_stats_mirror_the_c_struct():
    names = [f.name for f in ferry.SyncStats.__dataclass_fields__.values()]
    assert names == [name for name, _ in _capi.SyncStatsT._fields_]
