"""--progress=fd:N: progress for programs, as JSON lines on a descriptor
(as nbdcopy's --progress=FD): a timestamp, the phase (copy, verify,
convert), done, total, rate and ETA, a line a second and one final line
per pass or step."""
import json
import os
import re
import subprocess

from ferryhelpers import (EXIT_USAGE, FERRY, MiB, describe, rand_bytes,
                          run_ferry, write_file)
from qemuhelpers import two  # noqa: F401

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
KEYS = {"time", "phase", "done", "total", "bytes_per_second", "eta_seconds",
        "final"}


def test_sync_progress_on_a_descriptor_names_each_pass(tmp_path, servers):
    """A copy slowed by nbdkit's delay filter (1 MiB reads, 0.3 s each, one
    at a time: at least 2.4 s) reports while it runs; each of copy and
    verify ends with one final line, copy first."""
    data = rand_bytes(8 * MiB, 70)
    write_file(tmp_path / "s.raw", data)
    srv = servers.nbdkit("file", tmp_path / "s.raw", "rdelay=300ms",
                         filters=["delay"])
    cp, lines = run_with_progress(
        [FERRY, "sync", srv.uri, str(tmp_path / "d.raw"), "--verify",
         "--workers", "1", "--requests", "1", "--request-size", "1M"])
    assert cp.returncode == 0, describe(cp)
    assert (tmp_path / "d.raw").read_bytes() == data
    phases = [o["phase"] for o in lines]
    assert phases == sorted(phases, key=["copy", "verify"].index), phases
    for phase in ("copy", "verify"):
        mine = [o for o in lines if o["phase"] == phase]
        finals = [o for o in mine if o["final"]]
        assert len(finals) == 1 and finals[0] is mine[-1], mine
        assert finals[0]["done"] == finals[0]["total"] == 8 * MiB
        assert finals[0]["eta_seconds"] == 0
    copying = [o for o in lines if o["phase"] == "copy" and not o["final"]]
    assert copying, "no line while the copy ran"
    assert all(o["done"] < o["total"] for o in copying)
    assert b"copy" not in cp.stderr, "the lines went to the descriptor"


def run_with_progress(argv, timeout=300):
    """Runs argv with --progress=fd:N, N a pipe's write end that the child
    keeps (pass_fds); the CompletedProcess and the JSON objects read from
    the pipe, each checked for the keys every line has."""
    rr, ww = os.pipe()
    try:
        p = subprocess.Popen([*argv, f"--progress=fd:{ww}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             pass_fds=(ww,))
        os.close(ww)
        ww = -1
        with os.fdopen(rr, "rb") as f:
            rr = -1
            text = f.read().decode()
        out, err = p.communicate(timeout=timeout)
    finally:
        for fd in (rr, ww):
            if fd >= 0:
                os.close(fd)
    cp = subprocess.CompletedProcess(argv, p.returncode, out, err)
    lines = [json.loads(line) for line in text.splitlines()]
    for obj in lines:
        assert KEYS <= set(obj), obj
        assert TIME.match(obj["time"]), obj
    return cp, lines


def test_bad_progress_values_are_refused_before_anything(tmp_path):
    src = tmp_path / "s.raw"
    src.write_bytes(b"\x01" * 4096)
    for value, needle in (("fd:99", "descriptor 99 is not open"),
                          ("fd:x", "want --progress or --progress=fd:N"),
                          ("stderr", "want --progress or --progress=fd:N")):
        cp = run_ferry("sync", src, tmp_path / "d.raw",
                       f"--progress={value}")
        assert cp.returncode == EXIT_USAGE, describe(cp)
        assert needle in cp.stderr.decode(), describe(cp)
        assert not (tmp_path / "d.raw").exists()


def test_migration_steps_report_copy_verify_and_finals(two):  # noqa: F811
    a, b, jdir = two
    a.create_vm("web", disks=2)
    base = ["--journal-dir", jdir]
    cp, lines = run_with_progress([FERRY, "migrate", "start", "--from",
                                   a.uri, "--to", b.uri, "web", "--id", "m",
                                   *base])
    assert cp.returncode == 0, describe(cp)
    assert [(o["phase"], o["step"], o["round"]) for o in lines
            if o["final"]] == [("copy", "full copy", 1)], lines
    assert set(lines[-1]["disks"]) == {"vda", "vdb"}
    cp, lines = run_with_progress([FERRY, "migrate", "cutover", "m",
                                   "--no-convert", *base])
    assert cp.returncode == 0, describe(cp)
    finals = [(o["phase"], o["step"]) for o in lines if o["final"]]
    assert finals == [("copy", "final round"), ("verify", "verify")], lines
    verify = [o for o in lines if o["final"] and o["phase"] == "verify"][0]
    assert verify["done"] == verify["total"] == 32 * MiB, verify
    for cmd in (["sync"], ["cutover"], ["resume"], ["start"]):
        out = run_ferry("migrate", *cmd, "--help").stdout.decode()
        assert "--progress[=fd:N]" in out, (cmd, out)
