"""-v/--verbose, --log FILE and FERRY_DEBUG=1: the trace of what ferry does
(each QMP command, SOAP call, helper process, copy and round), a
timestamped line each, never a secret."""
import os
import re
import stat
import subprocess

from ferryhelpers import FERRY, describe, run_ferry
from qemuhelpers import migrate, qp, two  # noqa: F401
from vspherehelpers import PASSWORD, Sim

LINE = re.compile(r"^ferry: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
                  r"([a-z]+): (.*)$")


def trace(text):
    """(topic, message) of each trace line in text; other lines fail."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def topics(lines, topic):
    return [m for t, m in lines if t == topic]


def test_verbose_sync_traces_the_copy_on_stderr(tmp_path):
    src, dst = tmp_path / "s.raw", tmp_path / "d.raw"
    with open(src, "wb") as f:
        f.truncate(4 << 20)
        f.seek(1 << 20)
        f.write(b"\x5a" * 65536)
    quiet = run_ferry("sync", src, dst)
    assert quiet.returncode == 0, describe(quiet)
    assert trace(quiet.stderr.decode()) == [], "a trace without -v"
    os.unlink(dst)
    cp = run_ferry("sync", src, dst, "-v")
    assert cp.returncode == 0, describe(cp)
    lines = trace(cp.stderr.decode())
    sync = topics(lines, "sync")
    assert any(f"copy {src} -> {dst}" in m and "65536 bytes to copy" in m
               for m in sync), lines
    assert any(m == f"copy {dst}: done" for m in sync), lines


def test_log_file_takes_the_trace_and_ferry_debug_enables_it(tmp_path):
    src, dst = tmp_path / "s.raw", tmp_path / "d.raw"
    src.write_bytes(b"\x11" * 65536)
    log = tmp_path / "trace.log"
    cp = run_ferry("sync", src, dst, "--log", log)
    assert cp.returncode == 0, describe(cp)
    assert trace(cp.stderr.decode()) == [], "the trace went to the file"
    assert topics(trace(log.read_text()), "sync"), log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    before = log.read_text()
    cp = run_ferry("sync", src, dst, "--log", log)
    assert log.read_text().startswith(before), "--log appends"
    assert len(trace(log.read_text())) > len(trace(before))

    env = dict(os.environ, FERRY_DEBUG="1")
    cp = subprocess.run([FERRY, "sync", str(src), str(dst)], env=env,
                        capture_output=True, timeout=60)
    assert cp.returncode == 0, describe(cp)
    assert topics(trace(cp.stderr.decode()), "sync"), cp.stderr

    bad = run_ferry("sync", src, dst, "--log", tmp_path / "no" / "such")
    assert bad.returncode == 1 and b"--log" in bad.stderr, describe(bad)


def test_qemu_platform_traces_qmp_commands_and_helpers(qp):  # noqa: F811
    qp.create_vm("web", disks=1)
    qp.start("web")
    cp = qp.run("snapshot", "create", "web", "s1", "--memory", "-v")
    assert cp.returncode == 0, describe(cp)
    lines = trace(cp.stderr.decode())
    qmp = topics(lines, "qmp")
    assert any('"execute":"transaction"' in m for m in qmp), qmp
    assert any(m.endswith("<- transaction ok") for m in qmp), qmp
    assert any("qemu-img" in m for m in topics(lines, "child")), lines


def test_migration_rounds_trace_their_extents(two):  # noqa: F811
    a, b, jdir = two
    a.create_vm("web", disks=1)
    a.start("web")
    cp = subprocess.run([FERRY, "migrate", "start", "--from", a.uri, "--to",
                         b.uri, "web", "--id", "m", "--journal-dir", jdir,
                         "-v"], capture_output=True, timeout=300)
    assert cp.returncode == 0, describe(cp)
    rounds = topics(trace(cp.stderr.decode()), "round")
    assert any("snapshot mig-m-1: all its data" in m for m in rounds), rounds
    a.live_write("web", 0x33, devs=("vda",))  # two 64 KiB chunks
    cp = subprocess.run([FERRY, "migrate", "sync", "m", "--journal-dir",
                         jdir, "-v"], capture_output=True, timeout=300)
    assert cp.returncode == 0, describe(cp)
    rounds = topics(trace(cp.stderr.decode()), "round")
    assert any(re.search(r"snapshot mig-m-2 since mig-m-1: 2 changed "
                         r"extents, 131072 bytes", m) for m in rounds), rounds
    migrate(jdir, "abort", "m")


def test_vmware_trace_names_soap_calls_and_never_the_password(tmp_path):
    sim = Sim(tmp_path)
    try:
        log = tmp_path / "trace.log"
        cp = subprocess.run([FERRY, "vm", "list", "--platform", sim.uri(),
                             "--password-file", sim.pwfile, "-v", "--log",
                             str(log)], capture_output=True, text=True,
                            timeout=120)
        assert cp.returncode == 0, (cp.stdout, cp.stderr)
        text = log.read_text()
        soap = topics(trace(text), "soap")
        assert any(m.startswith("Login SessionManager:") and "HTTP 200" in m
                   for m in soap), soap
        assert any(m.startswith("RetrieveProperties") for m in soap), soap
        assert PASSWORD not in text + cp.stdout + cp.stderr
    finally:
        sim.close()
