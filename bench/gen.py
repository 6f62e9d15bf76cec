"""The benchmarks' test data (bench.py and elf.py): a raw image of 1 MiB
runs, exactly half of them random data (which ones is seeded), the rest
holes; an extent list of about 5% of the disk, non-overlapping pieces of
4 KiB..1 MiB (log-uniform, 4 KiB aligned), in 512-byte sectors; and the
extents rewritten for a round. Data comes from a 64 MiB seeded pool reused
at different offsets.

    gen.py image PATH SIZE SEED             prints: data MiB, total MiB
    gen.py extents PATH SIZE SEED           prints: extents, bytes
    gen.py mutate IMAGE SIZE SEED EXTENTS ROUND
"""
import math
import os
import random
import sys

MIB, POOL = 1 << 20, 64 << 20


def _pool(seed):
    return memoryview(random.Random(seed * 7919 + 17).randbytes(POOL))


def _at(pool, k, length):
    off = (k * 1048573 * 4096) % (POOL - length)
    return pool[off - off % 4096:][:length]


def image(path, size, seed):
    """The image at path: (data MiB, total MiB)."""
    pool, n = _pool(seed), size // MIB
    data = sorted(random.Random(seed).sample(range(n), n // 2))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    for k, i in enumerate(data):
        os.pwrite(fd, _at(pool, k, MIB), i * MIB)
    os.fsync(fd)
    os.close(fd)
    return len(data), n


def extents(path, size, seed):
    """The extent list written to path (a "sector count" line each):
    (extents, bytes covered)."""
    rng = random.Random(seed + 1000)
    blocks = size // 4096
    used = bytearray(blocks)
    goal, covered, ext = size // 20, 0, []
    while covered < goal:
        nb = max(1, min(256, int(math.exp(rng.uniform(0, math.log(256)))
                                 + 0.5)))
        s = rng.randrange(0, blocks - nb + 1)
        if used.find(1, s, s + nb) != -1:
            continue
        used[s:s + nb] = b"\1" * nb
        ext.append((s * 8, nb * 8))
        covered += nb * 4096
    ext.sort()
    with open(path, "w") as f:
        for s, c in ext:
            f.write("%d %d\n" % (s, c))
    return len(ext), covered


def mutate(path, seed, extent_file, round_no):
    """The extents of extent_file rewritten in the image with new data."""
    pool = _pool(seed)
    fd = os.open(path, os.O_WRONLY)
    with open(extent_file) as f:
        for k, line in enumerate(f):
            s, c = map(int, line.split())
            os.pwrite(fd, _at(pool, k + 7777 * round_no + 1, c * 512),
                      s * 512)
    os.fsync(fd)
    os.close(fd)


if __name__ == "__main__":
    mode, path, size, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    if mode == "image":
        print(*image(path, size, seed))
    elif mode == "extents":
        print(*extents(path, size, seed))
    elif mode == "mutate":
        mutate(path, seed, sys.argv[5], int(sys.argv[6]))
    else:
        sys.exit(f"gen.py: unknown mode {mode}")
