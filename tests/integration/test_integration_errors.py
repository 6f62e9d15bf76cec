"""Errors that do not go away: ferry gives up with exit code 1, names the
volume and the offset, and leaves the destination alone outside what it was
asked to copy."""

import random

import pytest

from ferryhelpers import (EXIT_FAILED, EXIT_USAGE, MiB, OFFSET_RE,
                          assert_same_bytes, describe, ferry_json, image_of,
                          make_sparse,
                          merged_byte_ranges, rand_bytes, random_extents,
                          read_file, run_ferry, write_extents, write_file)

SIZE = 8 * MiB


def check_failure(res, cp, volume_text, covered, op):
    assert res["ok"] is False, res
    msg = res["error"]
    assert volume_text in msg, f"message does not name the volume: {msg}"
    assert f"{op} of" in msg, msg
    m = OFFSET_RE.search(msg)
    assert m, f"message has no 'offset N': {msg}"
    off = int(m.group(1))
    assert any(a <= off < b for a, b in covered), (
        f"failing offset {off} is not inside the extents {covered}: {msg}")
    return off


@pytest.mark.parametrize("errno_name,after_retries",
                         [("EIO", True), ("EPERM", False)])
def test_persistent_read_errors(tmp_path, servers, errno_name, after_retries):
    """Every read fails (error-pread-rate=100% while the trigger file
    exists). EIO is retried and then given up; EPERM is given up at once."""
    rng = random.Random(41)
    data = rand_bytes(SIZE, 41)
    src = tmp_path / "s.raw"
    write_file(src, data)
    trigger = tmp_path / "inject-read-errors"
    trigger.touch()
    srv = servers.nbdkit("file", src, "error-pread-rate=100%",
                         f"error-pread-file={trigger}",
                         f"error={errno_name}", filters=["error"])
    before = rand_bytes(SIZE, 42)
    dst = tmp_path / "d.raw"
    write_file(dst, before)
    extents = random_extents(rng, SIZE, n=6)
    write_extents(tmp_path / "ext", extents)
    covered = merged_byte_ranges(extents)

    res, cp = ferry_json("sync", srv.uri, dst, "--extents", tmp_path / "ext",
                         expect=EXIT_FAILED)
    check_failure(res, cp, srv.sock, covered, "read")
    assert ("after retries" in res["error"]) is after_retries, res["error"]
    # Nothing was read, so nothing may have been written: in particular
    # nothing outside the extents.
    assert_same_bytes(read_file(dst), before, "destination after read errors",
                      covered)

    # Without --json the message goes to stderr, also naming volume+offset.
    cp = run_ferry("sync", srv.uri, dst, "--extents", tmp_path / "ext")
    assert cp.returncode == EXIT_FAILED, describe(cp)
    err = cp.stderr.decode()
    assert srv.sock in err and OFFSET_RE.search(err), err
    assert cp.stdout == b""

    # Once the trigger is gone the same command works.
    trigger.unlink()
    res, _ = ferry_json("sync", srv.uri, dst, "--extents", tmp_path / "ext")
    assert res["ok"] is True
    exp = bytearray(before)
    for a, b in covered:
        exp[a:b] = data[a:b]
    assert_same_bytes(read_file(dst), bytes(exp), "after the errors stopped",
                      covered)


def test_persistent_write_errors(tmp_path, servers):
    """Every write to the destination fails with ENOSPC (not transient):
    exit 1 naming the destination and the offset; outside the extents the
    destination keeps its pattern."""
    rng = random.Random(43)
    data = rand_bytes(SIZE, 43)
    src = tmp_path / "s.raw"
    write_file(src, data)
    before = rand_bytes(SIZE, 44)
    dst = tmp_path / "d.raw"
    write_file(dst, before)
    srv = servers.nbdkit("file", dst, "error-pwrite-rate=100%",
                         "error-zero-rate=100%", "error=ENOSPC",
                         filters=["error"])
    extents = random_extents(rng, SIZE, n=6)
    write_extents(tmp_path / "ext", extents)
    covered = merged_byte_ranges(extents)
    res, cp = ferry_json("sync", src, srv.uri, "--extents", tmp_path / "ext",
                         expect=EXIT_FAILED)
    check_failure(res, cp, srv.sock, covered, "write")
    assert "No space left on device" in res["error"], res["error"]
    srv.stop()
    # every write failed: the whole destination is as it was
    assert_same_bytes(read_file(dst), before, "destination after write errors",
                      covered)



def test_server_einval_is_a_failure_not_bad_usage(tmp_path, servers):
    """Exit code 2 means "bad command line or bad input file; nothing was
    written". A server that answers EINVAL to a write in the middle of a
    copy is neither, and here ferry has already zeroed part of the
    destination: the exit code must be 1. Today it is 2, because any
    EINVAL maps to EXIT_USAGE."""
    size = 4 * MiB
    src = tmp_path / "s.raw"
    # a hole first (zeroed at the destination), then data
    make_sparse(src, size, [(2 * MiB, rand_bytes(2 * MiB, 47))])
    before = rand_bytes(size, 48)
    dst = tmp_path / "d.raw"
    write_file(dst, before)
    srv = servers.nbdkit("file", dst, "error-pwrite-rate=100%",
                         "error=EINVAL", filters=["error"])
    res, cp = ferry_json("sync", src, srv.uri, "--workers", "1",
                         "--requests", "1", expect=EXIT_FAILED)
    assert "write of" in res["error"] and srv.sock in res["error"], res
    srv.stop()
    after = read_file(dst)
    assert after[:2 * MiB] == bytes(2 * MiB), "the hole was zeroed first"
    assert after[2 * MiB:] == before[2 * MiB:]


def test_block_status_errors(tmp_path, servers):
    """The source's allocation map cannot be read: exit 1, the message names
    the volume, the request and its offset; nothing is written."""
    data = rand_bytes(SIZE, 49)
    src = tmp_path / "s.raw"
    write_file(src, data)
    srv = servers.nbdkit("file", src, "error-extents-rate=100%",
                         "error=EIO", filters=["error"])
    before = rand_bytes(SIZE, 50)
    dst = tmp_path / "d.raw"
    write_file(dst, before)
    res, _ = ferry_json("sync", srv.uri, dst, expect=EXIT_FAILED)
    assert srv.sock in res["error"] and "block status" in res["error"], res
    assert OFFSET_RE.search(res["error"]), res
    assert read_file(dst) == before
    # --all does not need the map
    res, _ = ferry_json("sync", srv.uri, dst, "--all")
    assert read_file(dst) == data


def test_failed_copy_removes_the_destination_it_created(tmp_path, servers):
    data = rand_bytes(SIZE, 51)
    src = tmp_path / "s.raw"
    write_file(src, data)
    srv = servers.nbdkit("file", src, "error-pread-rate=100%", "error=EPERM",
                         filters=["error"])
    res, _ = ferry_json("sync", srv.uri, tmp_path / "new.raw",
                        expect=EXIT_FAILED)
    assert res["created_destination"] is False
    assert not (tmp_path / "new.raw").exists()


def test_transient_block_status_errors_are_retried(tmp_path, servers):
    """Half the allocation queries fail with EIO. With 32 extents (one query
    each) a copy without retries would all but surely fail; with 30 tries a
    query fails for good with odds of 2^-31."""
    chunks = [(0, rand_bytes(MiB, 60)), (3 * MiB, rand_bytes(MiB, 61))]
    src = tmp_path / "s.raw"
    make_sparse(src, SIZE, chunks)
    srv = servers.nbdkit("file", src, "error-extents-rate=50%", "error=EIO",
                         filters=["error"])
    before = rand_bytes(SIZE, 62)
    dst = tmp_path / "d.raw"
    write_file(dst, before)
    step = SIZE // 512 // 32  # sectors between extent starts
    extents = [(i * step, step // 2) for i in range(32)]
    ext = tmp_path / "ext"
    write_extents(ext, extents)
    ferry_json("sync", srv.uri, dst, "--extents", ext, "--retries", "30",
               "--retry-delay", "1")
    expected = bytearray(before)
    data = image_of(SIZE, chunks)
    for start, count in extents:
        a, b = start * 512, (start + count) * 512
        expected[a:b] = data[a:b]
    assert read_file(dst) == bytes(expected)


def test_extent_covering_a_partial_last_sector(tmp_path):
    """A volume of 1000 bytes has two sectors, the second partial: an extent
    of both copies all 1000 bytes; a third sector is past the end."""
    src, dst = tmp_path / "s.raw", tmp_path / "d.raw"
    write_file(src, rand_bytes(1000, 63))
    write_file(dst, bytes(1000))
    ext = tmp_path / "ext"
    write_extents(ext, [(0, 2)])
    ferry_json("sync", src, dst, "--extents", ext)
    assert read_file(dst) == read_file(src)
    write_extents(ext, [(1, 2)])
    res, _ = ferry_json("sync", src, dst, "--extents", ext, expect=EXIT_USAGE)
    assert "1000 bytes, 2 sectors" in res["error"], res
