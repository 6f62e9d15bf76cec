"""One operation per VM at a time, across processes: a migration leases
its source VM (and the names it will create at the destination) from
start to cutover or abort, and everything else on that VM is refused
naming the migration; two writers of one raw file are refused by QEMU's
image locks; a `snapshot create` killed at random moments never leaves
the guest paused after the next ferry command."""

import os
import random
import subprocess
import time

import pytest

from ferryhelpers import FERRY
from qemuhelpers import (Platform, assert_definition_is_what_qemu_writes,
                         image_info, internal_snapshots, kill_after, migrate,
                         tool)

SEED = int(os.environ.get("FERRY_KILL_SEED", str(int(time.time()))))


@pytest.fixture
def three(tmp_path):
    ps = [Platform(tmp_path / n) for n in "abc"]
    try:
        yield ps + [str(tmp_path / "journals")]
    finally:
        for p in ps:
            p.close()


def start_cmd(a, b, jdir, mid):
    return [FERRY, "migrate", "start", "--from", a.uri, "--to", b.uri, "web",
            "--network-map", "default=default", "--id", mid,
            "--journal-dir", jdir, "--json"]


def test_two_starts_of_one_vm_one_wins(three):
    """Bug: both exited 0, and the cutover of one destroyed the source's
    disks under the other. Now exactly one wins, the other changes
    nothing, and the winner cuts over to a sound source."""
    a, b, c, jdir = three
    a.create_vm("web", extra=("--nic", "default"))
    a.start("web")
    a.live_write("web", 0x11)
    for trial in range(3):
        x, y = f"x{trial}", f"y{trial}"
        ps = [subprocess.Popen(start_cmd(a, dst, jdir, mid),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
              for dst, mid in ((b, x), (c, y))]
        outs = [p.communicate(timeout=300) for p in ps]
        rcs = [p.returncode for p in ps]
        assert sorted(rcs) == [0, 1], (rcs, outs)
        win, lose = (x, y) if rcs[0] == 0 else (y, x)
        loser_dst = c if win == x else b
        err = outs[rcs.index(1)][1].decode() + outs[rcs.index(1)][0].decode()
        assert f"migration {win}" in err and "VM 'web'" in err, err
        assert not os.path.exists(os.path.join(jdir, f"{lose}.json"))
        assert loser_dst.json("volume", "list") == []
        assert a.snap_names("web") == [f"mig-{win}-1"]
        if trial < 2:
            migrate(jdir, "abort", win)
            assert a.snap_names("web") == []
            continue
        a.live_write("web", 0x22)
        migrate(jdir, "sync", win)
        m = migrate(jdir, "cutover", win, "--stop-timeout", "0")
        assert m["phase"] == "done" and m["verified"] is True
    # the source is whole: every disk names a volume that opens
    for d in a.json("vm", "show", "web")["disks"]:
        assert d["volume_id"], d
        tool("qemu-img", "check", os.path.join(a.real, "volumes",
                                               d["volume_id"]))
    a.start("web")
    assert a.state("web") == "running"


def test_snapshot_operations_refused_during_a_migration(three):
    a, b, _, jdir = three
    a.create_vm("web", extra=("--nic", "default"))
    a.start("web")
    migrate(jdir, *start_cmd(a, b, jdir, "m")[2:-3])
    for args in (("snapshot", "create", "web", "mine"),
                 ("snapshot", "create", "web", "mine", "--external"),
                 ("snapshot", "delete", "web", "mig-m-1"),
                 ("snapshot", "revert", "web", "mig-m-1", "--force")):
        a.refused(*args, needles=["migration m", "VM 'web'", "abort"])
    assert a.snap_names("web") == ["mig-m-1"]
    assert a.state("web") == "running"
    # the destination names are leased too
    b.refused("vm", "create", "web", "--disk", "1M",
              needles=["migration m", "'web'"])
    b.refused("volume", "create", "web-vda.qcow2", "1M",
              needles=["migration m", "web-vda.qcow2"])
    migrate(jdir, "abort", "m")
    a.ok("snapshot", "create", "web", "mine")
    assert a.snap_names("web") == ["mine"]


def ofd_locked(path):
    """True when /proc/locks shows an OFD lock on path's inode."""
    st = os.stat(path)
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    with open("/proc/locks") as f:
        return any("OFDLCK" in line and f" {dev} " in line for line in f)


def test_a_sync_into_a_raw_file_being_written_is_refused(tmp_path,
                                                         servers):
    """A slow sync (its source behind nbdkit's delay filter) holds the raw
    destination; a second sync into it while it copies is refused, writes
    nothing, and the first one ends with its own bytes. Without the lock
    both would write and both report success."""
    data = os.urandom(1 << 20) * 4
    src = tmp_path / "slow.raw"
    src.write_bytes(data)
    slow = servers.nbdkit("file", src, "rdelay=300ms", filters=["delay"])
    dst = tmp_path / "dst.raw"
    dst.write_bytes(bytes(len(data)))
    # 64 reads of 300 ms, 4 at a time: about 5 s, whatever depth and
    # connections the engine would pick by itself
    first = subprocess.Popen([FERRY, "sync", slow.uri, str(dst), "--all",
                              "--request-size", "64K", "--workers", "1",
                              "--requests", "4"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not ofd_locked(dst):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first sync took no lock"
            time.sleep(0.01)
        other = tmp_path / "other.raw"
        other.write_bytes(b"\x55" * len(data))
        cp = subprocess.run([FERRY, "sync", str(other), str(dst), "--all"],
                            capture_output=True, timeout=60)
        assert first.poll() is None, "the first sync ended too soon to tell"
        assert cp.returncode == 1 and b"is in use" in cp.stderr, cp
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert dst.read_bytes() == data


def test_two_syncs_to_one_raw_file(tmp_path):
    src = tmp_path / "src.raw"
    src.write_bytes(os.urandom(1 << 20) * 64)
    dst = tmp_path / "dst.raw"
    dst.write_bytes(b"")
    os.truncate(dst, 64 << 20)
    for _ in range(3):
        ps = [subprocess.Popen([FERRY, "sync", str(src), str(dst), "--all"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in ps]
        rcs = sorted(p.returncode for p in ps)
        # both may succeed one after the other; never both at once
        assert rcs in ([0, 0], [0, 1]), (rcs, outs)
        if rcs == [0, 1]:
            err = b"".join(o[1] for o in outs).decode()
            assert "is in use" in err, err
        assert src.read_bytes() == dst.read_bytes()
    # held by a qemu-nbd: refused, nothing written
    nbd = subprocess.Popen(["qemu-nbd", "-f", "raw", "-t", "-k",
                            str(tmp_path / "n.sock"), str(dst)])
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "n.sock").exists():
            assert time.monotonic() < deadline, "qemu-nbd did not start"
            time.sleep(0.02)
        before = dst.read_bytes()
        other = tmp_path / "other.raw"
        other.write_bytes(b"\x55" * (64 << 20))
        cp = subprocess.run([FERRY, "sync", str(other), str(dst)],
                            capture_output=True, timeout=60)
        assert cp.returncode == 1 and b"is in use" in cp.stderr, cp
        assert dst.read_bytes() == before
    finally:
        nbd.kill()
        nbd.wait()


def kill_snapshot_create(p, name, delay, extra):
    return kill_after([FERRY, "snapshot", "create", "web", name, *extra,
                       "--platform", p.uri], delay)


@pytest.mark.parametrize("extra", [(), ("--external",), ("--memory",)],
                         ids=["internal", "external", "memory"])
def test_killed_snapshot_create_never_leaves_the_guest_paused(three, extra):
    """Bug: kill -9 of `snapshot create` left the guest paused (3 of 3
    external, 2 of 14 internal), and nothing resumed it."""
    a, _, _, _ = three
    a.create_vm("web", extra=("--nic", "default"))
    a.start("web")
    rng = random.Random(SEED + len(extra[0] if extra else ""))
    t0 = time.monotonic()
    a.ok("snapshot", "create", "web", "cal", *extra)
    took = time.monotonic() - t0
    log = []
    i = -1
    # trials until 4 kills, within 40: a trial that ended before its kill
    # says the step is shorter than drawn, so later draws are shorter too
    while sum(1 for e in log if e[2]) < 4 and len(log) < 40:
        i += 1
        name, delay = f"k{i}", rng.uniform(0, took)
        killed = kill_snapshot_create(a, name, delay, extra)
        if not killed:
            took = max(delay, 0.01)
        # the next ferry command lets it run again
        state = a.state("web")
        log.append((name, round(delay, 3), killed, state))
        assert state == "running", (f"seed {SEED}: after a kill at "
                                    f"{delay:.3f}s the guest is {state}", log)
        assert_definition_is_what_qemu_writes(a, "web", f"seed {SEED}, {name}")
        names = a.snap_names("web")
        if name in names:  # a record: its disks hold it
            if not extra or extra == ("--memory",):
                for img in a.imgs("web"):
                    assert name in internal_snapshots(img), (name, img)
        else:  # no record: the name can be taken again
            a.ok("snapshot", "create", "web", name, *extra)
    print(f"snapshot create {extra}: seed {SEED}: {log}")
    assert sum(1 for e in log if e[2]) >= 4, log
    # the images are sound
    for d in a.json("vm", "show", "web")["disks"]:
        img = os.path.join(a.real, "volumes", d["volume_id"])
        info = image_info(img)
        assert info["format"] == "qcow2"


def test_vm_resume(three):
    a, _, _, _ = three
    a.create_vm("web")
    a.start("web")
    with a.qmp("web") as q:
        q.execute("stop")
    assert a.state("web") == "paused"  # paused by hand: left so by listings
    a.ok("vm", "resume", "web")
    assert a.state("web") == "running"
    a.ok("vm", "resume", "web")  # running: nothing to do
    with a.qmp("web") as q:
        q.execute("stop")
    a.ok("vm", "start", "web")  # a paused VM: start lets it run on
    assert a.state("web") == "running"
    a.refused("vm", "start", "web", needles=["running already"])
    a.stop("web")
    a.refused("vm", "resume", "web", needles=["not running"])
