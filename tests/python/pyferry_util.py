"""Helpers of the Python binding's tests: disk images in files and in
memory, and what to expect after a copy."""
import errno
import os
import time

MiB = 1 << 20
SECTOR = 512


def random_file(path, size, rng):
    data = rng.randbytes(size)
    path.write_bytes(data)
    return data


def sparse_file(path, size, chunks):
    """A file of `size` bytes, holes except for chunks {offset: bytes}."""
    with open(path, "wb") as f:
        f.truncate(size)
        for offset, data in chunks.items():
            f.seek(offset)
            f.write(data)
    return path.read_bytes()


def data_ranges(path):
    """The allocated (start, end) byte ranges of a file, by SEEK_DATA."""
    out = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as e:
                if e.errno == errno.ENXIO:  # only a hole remains
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            pos = end
    finally:
        os.close(fd)
    return out


def random_extents(rng, sectors, n, max_count=2048):
    """n (start_sector, count) pairs inside a volume of `sectors`; some
    overlap or touch, as callers' lists may."""
    out = []
    for _ in range(n):
        count = rng.randint(1, max_count)
        out.append((rng.randrange(0, sectors - count + 1), count))
    return out


def apply_extents(dst, src, extents):
    """dst with the sector extents of src copied over it."""
    out = bytearray(dst)
    for start, count in extents:
        a, b = start * SECTOR, (start + count) * SECTOR
        out[a:b] = src[a:b]
    return bytes(out)


def _mask(extents, size):
    mask = bytearray(size)
    for start, count in extents:
        a, b = start * SECTOR, (start + count) * SECTOR
        mask[a:b] = b"\1" * (b - a)
    return mask


def covered(extents, size):
    """Bytes of a volume of `size` bytes that extents cover."""
    return sum(_mask(extents, size))


def outside(extents, size):
    """The (start, end) byte ranges of a volume that extents leave out."""
    mask = _mask(extents, size)
    out, pos = [], 0
    while pos < size:
        start = mask.find(0, pos)
        if start < 0:
            break
        end = mask.find(1, start)
        end = size if end < 0 else end
        out.append((start, end))
        pos = end
    return out


class MemDisk:
    """A client in Python: each volume a bytearray. Records its I/O."""

    def __init__(self, **volumes):
        self.volumes = {k: bytearray(v) for k, v in volumes.items()}
        self.reads = []
        self.writes = []

    def read(self, volume_id, length, offset):
        self.reads.append((volume_id, length, offset))
        if volume_id not in self.volumes:
            raise FileNotFoundError(errno.ENOENT, "no such volume", volume_id)
        return bytes(self.volumes[volume_id][offset:offset + length])

    def write(self, volume_id, data, offset):
        self.writes.append((volume_id, len(data), offset))
        vol = self.volumes.setdefault(volume_id, bytearray())
        if len(vol) < offset + len(data):
            vol.extend(bytes(offset + len(data) - len(vol)))
        vol[offset:offset + len(data)] = data


class SlowDisk(MemDisk):
    """A MemDisk whose reads take `delay` seconds, so that a copy from it
    lasts long enough for the progress callback to run during it."""

    def __init__(self, delay=0.01, **volumes):
        super().__init__(**volumes)
        self.delay = delay

    def read(self, volume_id, length, offset):
        time.sleep(self.delay)
        return super().read(volume_id, length, offset)
