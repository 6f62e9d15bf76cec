"""Helpers of the qemu platform's integration tests (test_qemu_*.py).

Each test gets a private platform state directory inside its tmp_path,
reached through a short symlink in /tmp (a VM's monitor sockets live under
the state dir, and a unix socket path must stay under 108 bytes). VMs run
real qemu-system-x86_64 under TCG with no guest OS: they sit in SeaBIOS.

Writing into a running VM's disks goes through its QMP monitor: HMP
`qemu-io -d DEV/virtio-backend "write -P PATTERN OFF LEN"`. (The format
node `vda` cannot be written by qemu-io while virtio-blk holds it: the
device does not share the write permission; the device's own block
backend, named by its qdev path, can.) Data is checked by reading the
images with qemu-img after the VM has stopped.

The `qp` fixture stops every qemu its state dir started, also when a test
fails: `ferry vm stop --force` for every VM, then SIGKILL for a pidfile's
process that is still our qemu, and it asserts that none is left.
"""

import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from ferryhelpers import (BUILD, EXIT_OK, FERRY, KiB, MiB, describe,
                         run_ferry)

DISK_SIZE = 16 * MiB
RAM_MIB = 64
CHUNK = 64 * KiB
QMP_TIMEOUT = 30


# --------------------------------------------------------------------------
# Processes


def pid_alive(pid):
    """True while pid is a live (not zombie) process. Processes that
    daemonize are re-parented to PID 1, which in some sandboxes never reaps
    them: a killed qemu may linger as a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    state = stat[stat.rfind(")") + 2:].split()[0]
    return state not in ("Z", "X")


def is_qemu_of(pid, uuid):
    """pid is a live qemu whose command line carries -uuid UUID."""
    if not pid_alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return uuid.encode() in argv and any(b"qemu" in a for a in argv[:1])


def wait_until(cond, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    pytest.fail(f"{what}: not reached within {timeout}s")


def kill_after(argv, delay):
    """Runs argv and kills that process alone (SIGKILL, as a crash would
    end it; its children get no signal from here) after delay seconds.
    True when the kill came before it ended."""
    p = subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def edit_json(path, change):
    """Rewrites a JSON state file after change(obj); returns the path."""
    with open(path) as f:
        obj = json.load(f)
    change(obj)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


# --------------------------------------------------------------------------
# QMP


class QMP:
    """A minimal QMP client on a unix socket. Use it as a context manager:
    a VM's control monitor serves one client at a time, so the connection
    must be closed before ferry talks to the VM again."""

    def __init__(self, path, timeout=QMP_TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.f = self.sock.makefile("rwb")
        greeting = self._read()
        assert "QMP" in greeting, greeting
        self.execute("qmp_capabilities")

    def _read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("QMP monitor closed the connection")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def execute(self, cmd, **args):
        req = {"execute": cmd}
        if args:
            req["arguments"] = args
        self.f.write(json.dumps(req).encode() + b"\n")
        self.f.flush()
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"QMP {cmd} {args}: {reply['error']}")
        return reply.get("return")

    def hmp(self, line):
        return self.execute("human-monitor-command", **{"command-line": line})

    def close(self):
        try:
            self.f.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# Images


def tool(*argv, check=True, timeout=60):
    cp = subprocess.run([str(a) for a in argv], capture_output=True,
                        timeout=timeout)
    if check:
        assert cp.returncode == 0, (
            f"{argv} failed with {cp.returncode}: "
            f"{cp.stderr.decode(errors='replace')}")
    return cp


def image_info(img):
    return json.loads(tool("qemu-img", "info", "-U", "--output=json",
                           img).stdout)


def internal_snapshots(img):
    """The tags of an image's internal snapshots, in table order (with
    duplicates, if any)."""
    return [s["name"] for s in image_info(img).get("snapshots", [])]


def bitmaps(img):
    data = image_info(img).get("format-specific", {}).get("data", {})
    return [b["name"] for b in data.get("bitmaps", [])]


def image_bytes(img, snapshot=None, length=None, fmt="qcow2"):
    """The guest-visible bytes of an image (of one of its internal
    snapshots, by name), the first `length` of them."""
    fd, out = tempfile.mkstemp(prefix="ferry-qemu-read-", suffix=".raw")
    os.close(fd)
    try:
        argv = ["qemu-img", "convert", "-U", "-f", fmt, "-O", "raw"]
        if snapshot is not None:
            argv += ["-l", f"snapshot.name={snapshot}"]
        tool(*argv, img, out)
        with open(out, "rb") as f:
            return f.read(length) if length else f.read()
    finally:
        os.unlink(out)


def offline_write(img, pattern, off=0, length=CHUNK):
    """Writes into a stopped VM's image with qemu-io."""
    cp = tool("qemu-io", "-f", "qcow2", "-c",
              f"write -P {pattern:#x} {off} {length}", img)
    assert b"wrote" in cp.stdout, cp.stdout


def pattern_ok(img, pattern, off=0, length=CHUNK):
    """qemu-io read -P: True when the range holds the pattern."""
    cp = tool("qemu-io", "-f", "qcow2", "-r", "-U", "-c",
              f"read -P {pattern:#x} {off} {length}", img, check=False)
    out = cp.stdout.decode(errors="replace")
    if "Pattern verification failed" in out:  # qemu-io then exits 1
        return False
    assert cp.returncode == 0 and f"read {length}/{length}" in out, (
        f"qemu-io read of {img}: exit {cp.returncode}: {out}"
        f"{cp.stderr.decode(errors='replace')}")
    return True


# Where each pattern goes: every pattern is written to the shared chunk at 0
# (each write covers the one before) and to a chunk of its own, so that a
# disk shows both which write came last and which writes it has at all.
def own_offset(pattern):
    return (pattern & 0xff) * 64 * KiB


def expect_patterns(data, patterns, last, what):
    """data (an image's first bytes) holds `last` at the shared chunk and
    exactly the own chunks of `patterns` (the others read as zeros)."""
    shared = data[0:CHUNK]
    got = {shared[0]} if shared == bytes([shared[0]]) * CHUNK else None
    assert got == {last}, (
        f"{what}: shared chunk at 0 holds "
        f"{'mixed bytes' if got is None else hex(shared[0])}, want "
        f"{last:#x}")
    for p in (0x11, 0x22, 0x33, 0x44, 0x55):
        chunk = data[own_offset(p):own_offset(p) + CHUNK]
        want = bytes([p]) * CHUNK if p in patterns else bytes(CHUNK)
        assert chunk == want, (
            f"{what}: chunk of pattern {p:#x} at {own_offset(p):#x} "
            f"{'lacks it' if p in patterns else 'holds data'} (first bytes "
            f"{chunk[:4].hex()}); want patterns "
            f"{sorted(hex(x) for x in patterns)}")


# --------------------------------------------------------------------------
# The platform


class Platform:
    """One private qemu platform state dir and the ferry commands on it."""

    def __init__(self, tmp_path):
        self.real = os.path.join(str(tmp_path), "state")
        os.makedirs(self.real)
        self.link = tempfile.mktemp(prefix="fq", dir="/tmp")
        os.symlink(self.real, self.link)
        self.dir = self.link
        self.uri = f"local://{self.link}"

    # ---- ferry

    def run(self, *args, **kw):
        return run_ferry(*args, "--platform", self.uri, **kw)

    def ok(self, *args, **kw):
        cp = self.run(*args, **kw)
        assert cp.returncode == EXIT_OK, describe(cp)
        return cp.stdout.decode()

    def json(self, *args, **kw):
        cp = self.run(*args, "--json", **kw)
        assert cp.returncode == EXIT_OK, describe(cp)
        try:
            return json.loads(cp.stdout.decode())
        except ValueError as e:
            pytest.fail(f"stdout is not JSON ({e}):\n{describe(cp)}")

    def refused(self, *args, needles=(), **kw):
        """Runs a command that must fail; its message must name each of
        needles (case-insensitive). Returns the message."""
        cp = self.run(*args, **kw)
        assert cp.returncode != EXIT_OK, (
            f"was not refused:\n{describe(cp)}")
        err = cp.stderr.decode(errors="replace")
        assert err.strip(), f"refused without a message:\n{describe(cp)}"
        for n in needles:
            assert n.lower() in err.lower(), (
                f"message lacks {n!r}:\n{describe(cp)}")
        return err

    # ---- VMs

    def create_vm(self, name, disks=2, memory=RAM_MIB, extra=()):
        args = ["vm", "create", name, "--memory", memory]
        for _ in range(disks):
            args += ["--disk", "16M"]
        return self.json(*args, *extra)

    def vm(self, name):
        return self.json("vm", "show", name)

    def state(self, name):
        return self.vm(name)["power_state"]

    def uuid(self, name):
        return self.vm(name)["uuid"]

    def start(self, name):
        self.ok("vm", "start", name)
        assert self.state(name) == "running"

    def stop(self, name):
        self.ok("vm", "stop", name, "--force")
        assert self.state(name) == "stopped"

    def vms(self):
        return self.json("vm", "list")

    def img(self, vm, dev):
        return os.path.join(self.real, "volumes", f"{vm}-{dev}.qcow2")

    def imgs(self, vm, devs=("vda", "vdb")):
        return [self.img(vm, d) for d in devs]

    def run_dir(self, uuid):
        return os.path.join(self.dir, "run", uuid)

    def snap_dir(self, uuid):
        return os.path.join(self.real, "snapshots", uuid)

    def record(self, uuid, name):
        return os.path.join(self.snap_dir(uuid), f"snapshotdata-{name}.json")

    def pid(self, uuid):
        try:
            with open(os.path.join(self.run_dir(uuid), "qemu.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    # ---- monitor

    def qmp(self, vm):
        return QMP(os.path.join(self.run_dir(self.uuid(vm)), "qmp.sock"))

    def live_write(self, vm, pattern, devs=("vda", "vdb")):
        """While vm runs: writes pattern to the shared chunk and to its own
        chunk of every disk in devs, through the monitor."""
        with self.qmp(vm) as q:
            for dev in devs:
                for off in (0, own_offset(pattern)):
                    out = q.hmp(f'qemu-io -d {dev}/virtio-backend '
                                f'"write -P {pattern:#x} {off} {CHUNK}"')
                    assert not out.strip(), f"qemu-io on {dev}: {out!r}"

    def offline_write(self, vm, pattern, devs=("vda", "vdb")):
        for dev in devs:
            for off in (0, own_offset(pattern)):
                offline_write(self.img(vm, dev), pattern, off)

    def check_disks(self, vm, patterns, last, snapshot=None,
                    devs=("vda", "vdb")):
        """Every disk of vm (or its internal snapshot) holds exactly the
        given patterns, `last` written last."""
        end = own_offset(0x55) + CHUNK
        for dev in devs:
            data = image_bytes(self.img(vm, dev), snapshot, end)
            what = f"{vm} {dev}" + (f" snapshot {snapshot}" if snapshot
                                    else "")
            expect_patterns(data, patterns, last, what)

    # ---- snapshots

    def snapshots(self, vm):
        return self.json("snapshot", "list", vm)

    def snap_names(self, vm):
        return [s["name"] for s in self.snapshots(vm)["snapshots"]]

    def current(self, vm):
        return self.snapshots(vm)["current"]

    # ---- cleanup

    def our_pids(self):
        """{uuid: pid} of the qemus this state dir runs now."""
        out = {}
        run = os.path.join(self.real, "run")
        for uuid in (os.listdir(run) if os.path.isdir(run) else []):
            pid = self.pid(uuid)
            if pid and is_qemu_of(pid, uuid):
                out[uuid] = pid
        return out

    def close(self):
        problems = []
        vmdir = os.path.join(self.real, "vms")
        for f in (os.listdir(vmdir) if os.path.isdir(vmdir) else []):
            if not f.endswith(".json"):
                continue
            uuid = f[:-5]
            cp = self.run("vm", "stop", uuid, "--force")
            if cp.returncode != EXIT_OK:
                problems.append(f"vm stop --force {uuid}: {describe(cp)}")
        left = self.our_pids()
        for uuid, pid in left.items():
            problems.append(f"qemu of {uuid} (pid {pid}) still ran after "
                            f"`vm stop --force`: killed")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in left.values():
            deadline = time.monotonic() + 10
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        still = self.our_pids()
        try:
            os.unlink(self.link)
        except OSError:
            pass
        assert not still, f"qemu processes left running: {still}"
        assert not problems, "\n".join(problems)


# Crash points: tests/killat, an LD_PRELOAD library that SIGKILLs the
# process before its Nth write (pwrite*), put in front of one qemu-img
# operation by a wrapper first in PATH (as when ferry is killed: its
# helpers die with it).
KILLAT = os.path.join(BUILD, "tests", "killat", "libkillat.so")

WRAPPER = """#!/bin/sh
# qemu-img, with the kill library preloaded for the one operation tested
if [ "$1" = "$KILL_OP" ]; then
  LD_PRELOAD="{killat}" exec {real} "$@"
fi
exec {real} "$@"
"""


@pytest.fixture
def wrapped(tmp_path, monkeypatch):
    """qemu-img first in PATH as the wrapper; returns a function that arms
    the kill of operation `op` before write n (n None: disarmed)."""
    assert os.path.exists(KILLAT), f"{KILLAT} not built (ninja -C build)"
    real = None
    for d in os.environ["PATH"].split(os.pathsep):
        if os.access(os.path.join(d, "qemu-img"), os.X_OK):
            real = os.path.join(d, "qemu-img")
            break
    assert real, "qemu-img not installed (scripts/deps.sh installs it)"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    w = bindir / "qemu-img"
    w.write_text(WRAPPER.format(killat=KILLAT, real=real))
    w.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")

    def arm(op, n):
        if n is None:
            monkeypatch.delenv("KILL_OP", raising=False)
            monkeypatch.delenv("KILL_AT_WRITE", raising=False)
        else:
            monkeypatch.setenv("KILL_OP", op)
            monkeypatch.setenv("KILL_AT_WRITE", str(n))
    return arm


def migrate(jdir, *args, expect=EXIT_OK, timeout=300):
    """Runs `ferry migrate ARGS --json` on journals in jdir: the journal it
    prints (None when it printed nothing)."""
    cp = subprocess.run([FERRY, "migrate", *args, "--journal-dir", jdir,
                         "--json"], capture_output=True, timeout=timeout)
    assert cp.returncode == expect, (args, cp.returncode, cp.stdout,
                                     cp.stderr)
    return json.loads(cp.stdout) if cp.stdout.strip() else None


@pytest.fixture
def two(tmp_path):
    """Two private platforms, a (the source) and b, and a journal dir."""
    a, b = Platform(tmp_path / "a"), Platform(tmp_path / "b")
    try:
        yield a, b, str(tmp_path / "journals")
    finally:
        a.close()
        b.close()


@pytest.fixture
def qp(tmp_path):
    """A private qemu platform; every qemu it started is stopped at the
    end, whether the test passed or not."""
    p = Platform(tmp_path)
    try:
        yield p
    finally:
        p.close()


def qemu_file(name):
    """The image a qemu file name means (it may write json:{...})."""
    if name.startswith("json:"):
        o = json.loads(name[5:])
        f = o.get("file")
        return f if isinstance(f, str) else f["filename"]
    return name


def assert_definition_is_what_qemu_writes(p, vm, what):
    """A restart opens what the definition names: the layer the running
    qemu writes to, or (a kill between the definition and the switch) a
    new overlay on it that nothing wrote to; anything else would lose every
    write since."""
    disks = {d["device"]: d["volume_id"]
             for d in p.json("vm", "show", vm)["disks"]}
    with p.qmp(vm) as q:
        blocks = q.execute("query-block")
    for b in blocks:
        dev = b["qdev"].split("/")[3]
        img = os.path.basename(qemu_file(b["inserted"]["file"]))
        if img == disks[dev]:
            continue
        top = os.path.join(p.real, "volumes", disks[dev])
        info = image_info(top)
        under = os.path.basename(qemu_file(info.get("backing-filename", "")))
        assert under == img, (
            f"{what}: qemu writes {dev} to {img}, the definition names "
            f"{disks[dev]} (on {under})")
        mapped = json.loads(tool("qemu-img", "map", "-U", "--output=json",
                                 "-f", "qcow2", top).stdout)
        assert not [m for m in mapped if m["depth"] == 0 and m["data"]], (
            f"{what}: {disks[dev]} holds data qemu never wrote there")


# --------------------------------------------------------------------------
# Nothing changed


def tree_fingerprint(root, skip_dirs=("run",), skip_names=("lock",)):
    """{relative path: sha256} of every regular file under root (symlinks
    and directories named in skip_dirs are not followed; files named in
    skip_names, such as a store's lock file, are left out)."""
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in skip_dirs)
        for f in files:
            if f in skip_names:
                continue
            p = os.path.join(d, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            h = hashlib.sha256()
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            out[os.path.relpath(p, root)] = h.hexdigest()
    return out


def assert_same_tree(before, after, what):
    added = sorted(set(after) - set(before))
    gone = sorted(set(before) - set(after))
    changed = sorted(k for k in before if k in after and before[k] != after[k])
    assert not (added or gone or changed), (
        f"{what} changed the state: added {added}, removed {gone}, "
        f"changed {changed}")
