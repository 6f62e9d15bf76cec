"""The ELF data path under load: ELF volumes (the fake CloudTower's, LUNs
of its private tgtd) written and read over iSCSI by ferry's engine with
several commands in flight per session. A multi-hundred-MiB image of
random data and holes copied in and back, byte for byte; a dropped iSCSI
session mid-copy, retried with the bytes right; an image of a size that is
no whole number of blocks, whose last block is read, changed in part and
written back.

`ferry sync` takes paths and NBD URIs only, so the copies go through the
Python binding (the seed's interface): a file client and the ELF platform
client, its volumes by name."""
import filecmp
import os
import random
import subprocess
import sys

import pytest

from elfhelpers import PASSWORD, ferry_elf, tower  # noqa: F401

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import ferry  # noqa: E402

MIB = 1 << 20
# Under ASan (the runtime preloaded into this Python) the library stays
# instrumented here, and the servers and qemu-img this starts run plain.
os.environ.pop("LD_PRELOAD", None)


def lun_url(t, volume):
    [v] = t.api("/get-vm-volumes", {"where": {"name": volume}})
    iqn, lun = v["path"][len("iscsi://"):].rsplit("/", 1)
    return f"iscsi://127.0.0.1:{t.iscsi_port}/{iqn}/{lun}"


@pytest.fixture(scope="module")
def elf(tower):  # noqa: F811
    """The ELF platform client of the fake."""
    p = ferry.Platform(tower.uri(), password=PASSWORD)
    try:
        yield p.client
    finally:
        p.close()


def make_volume(t, name, size):
    ferry_elf(t, "volume", "create", name, size, "--format", "raw",
              "--platform", t.uri())


def sparse_image(path, size, seed):
    """A sparse file of size bytes: scattered extents of random data, some
    of written zeroes, holes between them. Its data extents."""
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(size)
        pos = rnd.randrange(0, 4 * MIB)
        while pos < size:
            n = min(rnd.randrange(4096, 12 * MIB), size - pos)
            f.seek(pos)
            if rnd.random() < 0.15:
                f.write(bytes(n))  # zeroes as data: written as zeroes
            else:
                f.write(rnd.randbytes(n))
            pos += n + rnd.randrange(0, 16 * MIB)


def random_file(path, size, seed):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        for pos in range(0, size, MIB):
            f.write(rnd.randbytes(min(MIB, size - pos)))


def copy(src, dst, src_vol, dst_vol, **kw):
    return ferry.sync_extents(src, dst, src_vol, dst_vol, **kw)


def read_back(elf, files, volume, path):
    """volume copied into a new sparse file at path (of its size)."""
    with ferry.Volume(elf, volume) as v:
        size = v.size
    with open(path, "wb") as f:
        f.truncate(size)
    return copy(elf, files, volume, os.path.basename(path))


def test_a_large_sparse_image_in_and_back_byte_for_byte(tower, elf,
                                                        tmp_path):
    size = 384 * MIB
    sparse_image(tmp_path / "src.img", size, seed=1)
    make_volume(tower, "big", "384M")
    files = ferry.Client.file(str(tmp_path))
    st = copy(files, elf, "src.img", "big", requests=8)
    assert st.copied_bytes + st.zeroed_bytes + st.skipped_bytes == size, st
    assert st.zeroed_bytes > 0 and st.copied_bytes > 0, st
    # back through ferry's reads, and independently through qemu's
    # iscsi driver
    read_back(elf, files, "big", tmp_path / "back.img")
    assert filecmp.cmp(tmp_path / "src.img", tmp_path / "back.img",
                       shallow=False)
    cp = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "raw",
                         str(tmp_path / "src.img"), lun_url(tower, "big")],
                        capture_output=True, text=True)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    # and a compare pass through ferry says the same
    st = copy(files, elf, "src.img", "big", verify=True)
    assert st.verified_bytes == size, st
    ferry_elf(tower, "volume", "delete", "big", "--platform", tower.uri())


def test_a_session_dropped_mid_copy_is_retried_with_the_bytes_right(
        tower, elf, tmp_path):
    size = 256 * MIB
    random_file(tmp_path / "src.img", size, seed=2)  # all data: long
    make_volume(tower, "drop", "256M")
    files = ferry.Client.file(str(tmp_path))
    dropped = []

    def progress(done, total):
        if not dropped and done >= total // 3:
            status, _ = tower.post("/_sim/drop-iscsi", {})
            dropped.append(status)
        return 0

    st = copy(files, elf, "src.img", "drop", progress=progress,
              retries=10, request_size=4 * MIB)
    assert dropped == [200], dropped
    assert st.retries >= 1, st
    assert st.copied_bytes == size, st
    read_back(elf, files, "drop", tmp_path / "back.img")
    assert filecmp.cmp(tmp_path / "src.img", tmp_path / "back.img",
                       shallow=False)
    ferry_elf(tower, "volume", "delete", "drop", "--platform", tower.uri())


def test_an_image_of_no_whole_blocks(tower, elf, tmp_path):
    """5 MiB + 1234 bytes onto a volume full of 0xAA: the image's bytes,
    then the volume's own up to its end, its last partial block kept."""
    size = 5 * MIB + 1234
    vol = 6 * MIB
    (tmp_path / "junk.img").write_bytes(b"\xaa" * vol)
    data = random.Random(4).randbytes(size)
    (tmp_path / "odd.img").write_bytes(data)
    make_volume(tower, "odd", "6M")
    files = ferry.Client.file(str(tmp_path))
    copy(files, elf, "junk.img", "odd")
    st = copy(files, elf, "odd.img", "odd")
    assert st.copied_bytes == size, st
    read_back(elf, files, "odd", tmp_path / "back.img")
    back = (tmp_path / "back.img").read_bytes()
    assert len(back) == vol
    assert back[:size] == data
    assert back[size:] == b"\xaa" * (vol - size)
    # reads and writes of a few bytes across a block boundary
    with ferry.Volume(elf, "odd", writable=True) as v:
        v.pwrite(b"xyz", 511)
        assert v.pread(5, 510) == data[510:511] + b"xyz" + data[514:515]
        v.zero(3, 511)
        assert v.pread(5, 510) == data[510:511] + bytes(3) + data[514:515]
        v.flush()
    ferry_elf(tower, "volume", "delete", "odd", "--platform", tower.uri())
