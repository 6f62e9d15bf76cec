"""Failures never look like success: bad extents inputs, URIs that ask
for what ferry cannot give, errors after the copy began, and repeated
trials through nbdkit's error filter that must never end in a success
with wrong bytes (each failure names the offset it failed at)."""

import json
import subprocess

import pytest

from ferryhelpers import (EXIT_FAILED, EXIT_OK, EXIT_USAGE, FERRY, MiB,
                          OFFSET_RE, rand_bytes, read_file, run_ferry,
                          write_file)

SIZE = 4 * MiB


@pytest.fixture
def pair(tmp_path):
    src, dst = tmp_path / "s.raw", tmp_path / "d.raw"
    write_file(src, rand_bytes(SIZE, 71))
    write_file(dst, bytes(SIZE))
    return src, dst


def refused_unwritten(pair, args, needle, input=None):
    src, dst = pair
    before = read_file(dst)
    cp = run_ferry("sync", src, dst, *args, input=input, timeout=120)
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == EXIT_USAGE, (cp.returncode, err)
    assert needle in err, err
    assert read_file(dst) == before, "written although refused"


def test_extents_directory(pair, tmp_path):
    refused_unwritten(pair, ["--extents", str(tmp_path)], "is a directory")


def test_extents_text_after_a_nul(pair, tmp_path):
    f = tmp_path / "e.txt"
    f.write_bytes(b"0 8\x00 16 8\n")
    refused_unwritten(pair, ["--extents", str(f)], "NUL byte")


@pytest.mark.parametrize("endless", ["/dev/zero", "/dev/urandom"])
def test_extents_endless_binary(pair, endless):
    refused_unwritten(pair, ["--extents", endless], endless)


def test_extents_endless_list(pair):
    """An endless stream of valid lines stops at a bound, not at OOM."""
    src, dst = pair
    yes = subprocess.Popen(["yes", "0 1"], stdout=subprocess.PIPE)
    try:
        cp = subprocess.run([FERRY, "sync", str(src), str(dst), "--extents",
                             "-"], stdin=yes.stdout, capture_output=True,
                            timeout=300)
    finally:
        yes.kill()
        yes.wait()
    assert cp.returncode == EXIT_USAGE, cp
    assert b"more than" in cp.stderr and b"extents" in cp.stderr, cp.stderr


@pytest.mark.parametrize("uri,needle,code", [
    ("nbd+unix:///?socket=/nonexistent&sokcet=x", "unknown query parameter",
     EXIT_USAGE),
    ("nbd://127.0.0.1:9/x?tls=require", "plaintext", EXIT_USAGE),
    ("nbd+unix:///x?socket=/s&tls=on", "plaintext", EXIT_USAGE),
    ("nbd://admin:hunter2@127.0.0.1:9/x", "no user or password", EXIT_USAGE),
], ids=["unknown-key", "tls-tcp", "tls-unix", "userinfo"])
def test_uri_that_cannot_be_honoured(tmp_path, uri, needle, code):
    out = tmp_path / "o.raw"
    for args in (("info", uri), ("sync", uri, out), ("sync", uri, out,
                                                     "--json")):
        cp = run_ferry(*args)
        text = (cp.stdout + cp.stderr).decode(errors="replace")
        assert cp.returncode in (code, EXIT_FAILED), (args, cp.returncode,
                                                      text)
        assert needle in text, (args, text)
        assert "hunter2" not in text, f"the password was echoed: {text}"
        assert "port" not in text or "userinfo" not in needle, text
    assert not out.exists() or out.stat().st_size == 0


def test_read_error_after_the_copy_began_is_a_failure(tmp_path, servers):
    """A server's EINVAL to a read is no bad input of the user's: exit 1
    (failed), never 2 (bad usage, nothing written)."""
    src = tmp_path / "s.raw"
    write_file(src, rand_bytes(SIZE, 72))
    srv = servers.nbdkit("file", src, "error-pread-rate=50%",
                         "error=EINVAL", filters=["error"])
    cp = run_ferry("sync", srv.uri, tmp_path / "d.raw", "--request-size",
                   "64K", "--json")
    res = json.loads(cp.stdout)
    assert cp.returncode == EXIT_FAILED and res["exit_code"] == EXIT_FAILED, \
        res
    assert OFFSET_RE.search(res["error"]), res


@pytest.mark.parametrize("side", ["pread", "pwrite"])
def test_error_filter_trials_never_succeed_with_wrong_bytes(tmp_path,
                                                           servers, side):
    """20 copies each through 10% EIO on reads or on writes: a copy that
    says it succeeded holds exactly the source's bytes; one that failed
    names the offset. Counts are printed; whether a copy fails or its
    retry succeeds is the filter's draw, so only the injections (in
    nbdkit's log) must have happened."""
    data = rand_bytes(SIZE, 73)
    src = tmp_path / "s.raw"
    write_file(src, data)
    ok = failed = injected = 0
    for trial in range(20):
        dst = tmp_path / f"d{trial}.raw"
        write_file(dst, rand_bytes(SIZE, 100 + trial))
        if side == "pread":
            srv = servers.nbdkit("file", src, "error-pread-rate=10%",
                                 "error=EIO", filters=["error"])
            s, d = srv.uri, dst
        else:
            srv = servers.nbdkit("file", dst, "error-pwrite-rate=10%",
                                 "error-zero-rate=10%", "error=EIO",
                                 filters=["error"])
            s, d = src, srv.uri
        # one try after an error: a request failing twice fails the copy
        cp = run_ferry("sync", s, d, "--request-size", "64K", "--retries",
                       "1", "--retry-delay", "1", "--json")
        res = json.loads(cp.stdout)
        srv.stop()
        injected += srv.log().count("injecting EIO error into")
        if cp.returncode == EXIT_OK:
            ok += 1
            assert read_file(dst) == data, f"trial {trial}: success, wrong bytes"
        else:
            failed += 1
            assert cp.returncode == EXIT_FAILED, res
            assert OFFSET_RE.search(res["error"]), res
    print(f"\n10% EIO on {side}: {injected} errors injected; {ok} copies "
          f"ok (bytes identical), {failed} failed naming the offset, 0 wrong")
    assert injected > 0, "no error was injected: the filter did not act"
