"""Crash safety of the snapshot records on the qemu platform: a corrupt
record is reported, never skipped; temp files of interrupted writes are
ignored; a `ferry snapshot create` killed at random moments leaves either
a complete snapshot (record and both disks) or no record, and the name can
be taken again afterwards."""

import json
import os
import random
import signal
import subprocess
import time

import pytest

from ferryhelpers import FERRY, describe
from qemuhelpers import internal_snapshots, qp, tool  # noqa: F401


@pytest.fixture
def vm(qp):
    """A stopped two-disk VM 'vm' with snapshots s1 <- s2."""
    qp.create_vm("vm")
    qp.offline_write("vm", 0x11)
    qp.ok("snapshot", "create", "vm", "s1")
    qp.offline_write("vm", 0x22)
    qp.ok("snapshot", "create", "vm", "s2")
    return qp.uuid("vm")


@pytest.mark.parametrize("garbage", [b"{\"name\": \"s1\", \"disks\": [", b"",
                                     b"\x00\xff not json", b"[]"],
                         ids=["truncated", "empty", "binary", "not-object"])
def test_corrupt_record_fails_the_listing(qp, vm, garbage):
    rec = qp.record(vm, "s1")
    with open(rec, "wb") as f:
        f.write(garbage)
    for args in (("snapshot", "list", "vm"),
                 ("snapshot", "list", "vm", "--tree")):
        qp.refused(*args, needles=["snapshotdata-s1.json", "corrupt"])
    # --json: the failure is a JSON object on stdout
    cp = qp.run("snapshot", "list", "vm", "--json")
    assert cp.returncode == 1, describe(cp)
    res = json.loads(cp.stdout)
    assert res["ok"] is False and "snapshotdata-s1.json" in res["error"], res
    # the good record still reads (or its lookup names the bad record)
    cp = qp.run("snapshot", "show", "vm", "s2")
    assert cp.returncode == 0 or b"snapshotdata-s1.json" in cp.stderr, (
        describe(cp))
    qp.refused("snapshot", "show", "vm", "s1", needles=["snapshotdata-s1"])
    # a revert to the corrupt one changes no disk
    qp.refused("snapshot", "revert", "vm", "s1", needles=["snapshotdata-s1"])
    qp.check_disks("vm", {0x11, 0x22}, 0x22)
    with open(rec, "rb") as f:
        assert f.read() == garbage, "ferry rewrote the corrupt record"


def test_corrupt_record_message_says_why(qp, vm):
    """The message names the file once and then says what is wrong with
    it (the parser's reason), not the file name again."""
    rec = qp.record(vm, "s1")
    with open(rec, "w") as f:
        f.write("[]")
    err = qp.refused("snapshot", "list", "vm").strip()
    assert err.count("snapshotdata-s1.json") == 1 and \
        not err.endswith("corrupt:"), f"message: {err!r}"


def test_delete_failing_on_corrupt_sibling_keeps_the_snapshot(qp, vm):
    """A delete that fails (here: another record is corrupt, so the
    children cannot be re-parented) must not have destroyed the snapshot's
    data: afterwards s2 either is gone completely or still reverts."""
    with open(qp.record(vm, "s1"), "w") as f:
        f.write("[]")
    cp = qp.run("snapshot", "delete", "vm", "s2")
    if cp.returncode == 0:
        assert not os.path.exists(qp.record(vm, "s2"))
        return
    assert os.path.exists(qp.record(vm, "s2")), "record gone, yet failed"
    lost = [os.path.basename(img) for img in qp.imgs("vm")
            if "s2" not in internal_snapshots(img)]
    assert not lost, (
        f"`snapshot delete s2` failed ({cp.stderr.decode().strip()}) but "
        f"removed s2 from {lost} and kept its record: a revert to s2 now "
        f"fails")


def test_leftover_temp_files_are_ignored(qp, vm):
    d = qp.snap_dir(vm)
    good = open(qp.record(vm, "s1"), "rb").read()
    for name, data in (("snapshotdata-X.json.tmp.abc123", b"{garbage"),
                       ("snapshotdata-s3.json.tmp.Zz9Yy8", good),
                       ("current.tmp.q1w2e3", b"X")):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    listing = qp.snapshots("vm")
    assert [s["name"] for s in listing["snapshots"]] == ["s1", "s2"]
    assert listing["current"] == "s2"
    qp.ok("snapshot", "list", "vm", "--tree")
    # and they do not block new snapshots of those names
    qp.ok("snapshot", "create", "vm", "X")
    qp.ok("snapshot", "create", "vm", "s3")
    assert sorted(qp.snap_names("vm")) == ["X", "s1", "s2", "s3"]
    assert qp.current("vm") == "s3"


def test_listing_is_in_creation_order_within_one_second(qp):
    """Records are listed oldest first (platform.h, snapshot_store.h), also
    when several are taken in the same second: "zeta" before "alpha"."""
    qp.create_vm("vm", disks=1)
    for attempt in range(5):
        z, a = f"zeta{attempt}", f"alpha{attempt}"
        tz = qp.json("snapshot", "create", "vm", z)["creation_time"]
        ta = qp.json("snapshot", "create", "vm", a)["creation_time"]
        if tz == ta:
            break
    else:
        pytest.fail("could not take two snapshots within one second")
    names = qp.snap_names("vm")
    assert names.index(z) < names.index(a), (
        f"{z} was taken before {a} (both at {tz}), listed as {names}")


def start_create(qp, name):
    """`ferry snapshot create` in a process group of its own, so that a
    kill takes its qemu-img children with it, as a crash would."""
    return subprocess.Popen([FERRY, "snapshot", "create", "vm", name,
                             "--platform", qp.uri],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)  # the group of this ferry only
    except ProcessLookupError:
        pass
    p.wait(timeout=30)


def test_killed_create_leaves_whole_snapshot_or_no_record(qp, vm):
    """kill -9 of `ferry snapshot create` (VM stopped: qemu-img, one disk
    after the other, then the record) at random moments. Afterwards: a
    record and the snapshot in both images, or no record; with no record,
    taking the name again either works or is refused with a message naming
    the name (an image still holds it)."""
    vda, vdb = qp.imgs("vm")
    rng = random.Random(20240613)
    seen = []
    for i in range(10):
        name = f"k{i}"
        p = start_create(qp, name)
        time.sleep(rng.uniform(0, 0.02))
        kill_group(p)
        has_rec = os.path.exists(qp.record(vm, name))
        on_disks = (internal_snapshots(vda).count(name),
                    internal_snapshots(vdb).count(name))
        listing = qp.snapshots("vm")  # never fails on leftovers
        names = [s["name"] for s in listing["snapshots"]]
        seen.append([name, p.returncode, has_rec, on_disks])
        what = f"kill {i}: record {has_rec}, internal snapshots {on_disks}"
        if has_rec:
            assert on_disks == (1, 1), (
                f"{what}: a record whose disks lack the snapshot")
            assert name in names
            continue
        assert name not in names, what
        # no record: delete clears what the killed create left in the
        # images (or knows no such snapshot), and the name is free again
        if any(on_disks):
            qp.ok("snapshot", "delete", "vm", name)
        else:
            qp.refused("snapshot", "delete", "vm", name, needles=[name])
        cleared = (internal_snapshots(vda).count(name),
                   internal_snapshots(vdb).count(name))
        assert cleared == (0, 0), f"{what}: delete left {cleared}"
        qp.ok("snapshot", "create", "vm", name)
        after = (internal_snapshots(vda).count(name),
                 internal_snapshots(vdb).count(name))
        seen[-1] += [after]
        assert os.path.exists(qp.record(vm, name)), what
        assert after == (1, 1), f"{what}: after re-create {after}"
    print("\nkill loop [name, rc, record, on disks(, re-create rc, after, "
          "message)]:")
    for s in seen:
        print("  ", s)
    # the images are sound (leaked clusters are allowed: exit 3)
    for img in (vda, vdb):
        cp = tool("qemu-img", "check", img, check=False)
        assert cp.returncode in (0, 3), cp.stdout + cp.stderr
    # every record reverts to the data it was taken of
    for name in qp.snap_names("vm"):
        if not name.startswith("k"):
            continue
        qp.ok("snapshot", "revert", "vm", name)
        qp.check_disks("vm", {0x11, 0x22}, 0x22)
        assert qp.current("vm") == name


def orphan(qp, name, devs):
    """What a create killed after its qemu-img step(s) but before its
    record leaves: an internal snapshot without a record."""
    for dev in devs:
        tool("qemu-img", "snapshot", "-c", name, qp.img("vm", dev))


@pytest.mark.parametrize("devs", [("vda",), ("vdb",), ("vda", "vdb")],
                         ids=["vda", "vdb", "both"])
def test_create_over_orphan_makes_no_duplicate(qp, vm, devs):
    """A create killed between the disks (or after both, before the
    record) leaves `k` inside the images. Taking `k` again must leave
    exactly one `k` per image, or refuse clearly and change nothing: a
    second `k` would leak, and qemu-img finds the first one by name."""
    orphan(qp, "k", devs)
    before = {img: internal_snapshots(img) for img in qp.imgs("vm")}
    cp = qp.run("snapshot", "create", "vm", "k")
    if cp.returncode != 0:
        err = cp.stderr.decode()
        assert "'k'" in err and devs[0] in err, err
        assert {img: internal_snapshots(img) for img in qp.imgs("vm")} \
            == before
        assert "k" not in qp.snap_names("vm")
        return
    for img in qp.imgs("vm"):
        assert internal_snapshots(img).count("k") == 1, (
            f"{os.path.basename(img)}: {internal_snapshots(img)}")
    qp.ok("snapshot", "delete", "vm", "k")
    for img in qp.imgs("vm"):
        assert "k" not in internal_snapshots(img)


def test_revert_after_crash_and_recreate_gives_new_data(qp, vm):
    """A create killed after both disks leaves `k` (0x22) in both images.
    The disks then change (0x33) and `k` is taken again: if ferry takes
    it, a revert to `k` must give 0x33, the data its record describes."""
    orphan(qp, "k", ["vda", "vdb"])
    qp.offline_write("vm", 0x33)
    cp = qp.run("snapshot", "create", "vm", "k")
    if cp.returncode != 0:  # refused: nothing to revert to
        assert "k" not in qp.snap_names("vm")
        return
    qp.offline_write("vm", 0x44)
    qp.ok("snapshot", "revert", "vm", "k")
    qp.check_disks("vm", {0x11, 0x22, 0x33}, 0x33)


def test_orphan_refused_while_running(qp, vm):
    """With the VM running (the QMP path) an orphan name is refused too,
    the VM keeps running and no disk gets a snapshot."""
    orphan(qp, "k", ["vdb"])
    qp.start("vm")
    for extra in ((), ("--memory",)):
        err = qp.refused("snapshot", "create", "vm", "k", *extra,
                         needles=["'k'", "vdb"])
        assert "already" in err or "exist" in err.lower(), err
        assert qp.state("vm") == "running", "a failed create left it paused"
    qp.ok("snapshot", "delete", "vm", "k")  # clears the orphan, live
    qp.stop("vm")
    assert internal_snapshots(qp.img("vm", "vda")) == ["s1", "s2"]
    assert internal_snapshots(qp.img("vm", "vdb")) == ["s1", "s2"]
    assert not os.listdir(qp.snap_dir(qp.uuid("vm"))).count("k.mem")
