"""Transient errors (nbdkit's error filter), slow servers (delay filter) and
dropped connections (a proxy that cuts one mid-copy): the copy must still
come out identical."""

import random

import pytest

from ferryhelpers import (EXIT_FAILED, MiB, OFFSET_RE, assert_same_bytes,
                          ferry_json, merged_byte_ranges, nbd_read, nbd_write,
                          rand_bytes, random_extents, read_file, write_extents,
                          write_file)

SIZE = 8 * MiB


@pytest.mark.parametrize("errno_name", ["EIO", "ESHUTDOWN"])
def test_source_read_errors_are_retried(tmp_path, servers, errno_name):
    data = rand_bytes(SIZE, 31)
    src = tmp_path / "s.raw"
    write_file(src, data)
    srv = servers.nbdkit("file", src, "error-pread-rate=10%",
                         f"error={errno_name}", filters=["error"])
    dst = tmp_path / "d.raw"
    write_file(dst, rand_bytes(SIZE, 32))
    # 128 reads of 64 KiB: some fail (the chance that none does is about
    # 1e-6); a read failing on all six tries is about as unlikely.
    res, cp = ferry_json("sync", srv.uri, dst, "--request-size", "64K")
    assert res["retries"] > 0, res
    assert f"injecting {errno_name} error into pread" in srv.log()
    assert_same_bytes(read_file(dst), data, "copy with read errors")


def test_destination_write_errors_are_retried(tmp_path, servers):
    data = rand_bytes(SIZE, 33)
    src = tmp_path / "s.raw"
    write_file(src, data)
    dst = tmp_path / "d.raw"
    write_file(dst, rand_bytes(SIZE, 34))
    srv = servers.nbdkit("file", dst, "error-pwrite-rate=10%",
                         "error-zero-rate=10%", "error=EIO",
                         filters=["error"])
    res, _ = ferry_json("sync", src, srv.uri, "--request-size", "64K")
    assert res["retries"] > 0, res
    assert "injecting EIO error into pwrite" in srv.log()
    srv.stop()
    assert_same_bytes(read_file(dst), data, "copy with write errors")


def test_slow_servers(tmp_path, servers):
    """The delay filter on both sides: slower, but the same bytes."""
    data = bytearray(rand_bytes(4 * MiB, 35))
    data[1 * MiB:2 * MiB] = bytes(1 * MiB)  # some zeroes to zero, too
    src = tmp_path / "s.raw"
    write_file(src, data)
    s = servers.nbdkit("file", src, "rdelay=20ms", filters=["delay"])
    d = servers.nbdkit("memory", 4 * MiB, "wdelay=20ms", "delay-zero=20ms",
                       filters=["delay"])
    garbage = tmp_path / "g.raw"
    write_file(garbage, rand_bytes(4 * MiB, 36))
    nbd_write(garbage, d.uri)
    res, _ = ferry_json("sync", s.uri, d.uri, "--request-size", "256K",
                        "--verify")
    assert res["verified_bytes"] == 4 * MiB
    assert_same_bytes(nbd_read(d.uri), bytes(data), "copy between slow servers")


@pytest.mark.parametrize("direction,drops", [("down", 1), ("up", 1),
                                             ("down", 3)],
                         ids=["source-dropped", "destination-dropped",
                              "source-dropped-3-times"])
def test_dropped_connection_is_reconnected(tmp_path, servers, direction,
                                           drops):
    """A proxy between ferry and qemu-nbd cuts one connection (both sides
    shut down) once 1 MiB of read replies ('down', the source) or of write
    requests ('up', the destination) went through it; ferry must reconnect
    and finish with an identical copy."""
    data = rand_bytes(SIZE, 37 if direction == "down" else 38)
    src = tmp_path / "s.raw"
    write_file(src, data)
    dst = tmp_path / "d.raw"
    write_file(dst, rand_bytes(SIZE, 39))
    if direction == "down":
        srv = servers.qemu_nbd(src, read_only=True)
        proxy = servers.proxy(srv.sock, after=1 * MiB, direction="down",
                              drops=drops)
        args = (proxy.uri, dst)
    else:
        srv = servers.qemu_nbd(dst)
        proxy = servers.proxy(srv.sock, after=1 * MiB, direction="up")
        args = (src, proxy.uri)
    res, cp = ferry_json("sync", *args, "--request-size", "256K")
    assert proxy.dropped == drops, f"the proxy cut {proxy.dropped} connections"
    assert res["retries"] > 0, res
    # one more connection than without the drop: the reconnect
    assert proxy.connections >= res["workers"] + drops, (proxy.connections,
                                                        res)
    srv.stop()
    assert_same_bytes(read_file(dst), data, "copy over a dropped connection")


def test_server_gone_for_good(tmp_path, servers):
    """The source's connection drops and the server no longer accepts
    connections: ferry retries, gives up with exit 1 naming the volume and
    an offset inside the extents, and leaves the rest of the destination
    alone."""
    rng = random.Random(40)
    data = rand_bytes(SIZE, 40)
    src = tmp_path / "s.raw"
    write_file(src, data)
    before = rand_bytes(SIZE, 41)
    dst = tmp_path / "d.raw"
    write_file(dst, before)
    extents = random_extents(rng, SIZE, n=12, max_sectors=4000)
    extents += [(0, 3 * MiB // 512)]  # enough to pass the 1 MiB mark
    write_extents(tmp_path / "ext", extents)
    covered = merged_byte_ranges(extents)
    srv = servers.qemu_nbd(src, read_only=True)
    proxy = servers.proxy(srv.sock, after=1 * MiB, direction="down",
                          refuse_after_drop=True)
    res, _ = ferry_json("sync", proxy.uri, dst, "--extents", tmp_path / "ext",
                        "--request-size", "256K", expect=EXIT_FAILED)
    assert proxy.dropped == 1
    assert proxy.sock in res["error"], res["error"]
    m = OFFSET_RE.search(res["error"])
    assert m and any(a <= int(m.group(1)) < b for a, b in covered), res
    after = read_file(dst)
    outside = bytearray(before)
    for a, b in covered:  # inside the extents: anything
        outside[a:b] = after[a:b]
    assert_same_bytes(after, bytes(outside), "destination outside the "
                      "extents after a lost server", covered)
