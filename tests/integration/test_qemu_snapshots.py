"""Snapshots on the qemu platform against real qemu-system-x86_64: internal
qcow2 snapshots of both disks taken together, RAM snapshots, the record
tree, revert (disk-only and with RAM, stopped, running and paused VMs),
delete (live through QMP and offline through qemu-img), dirty bitmaps.

Every snapshot's content is read back from the images with qemu-img, not
through ferry. Patterns: 0x11 is written before s1, 0x22 before s2, 0x33
after s2, to both disks (see qemuhelpers.expect_patterns)."""

import os
import re

import pytest

from qemuhelpers import (bitmaps, internal_snapshots, pattern_ok,
                         qp, tool)  # noqa: F401

BOTH = ("vda", "vdb")


def two_snapshots(qp, name="vm"):
    """A running two-disk VM with s1 (disk-only) and s2 (with RAM) taken
    between writes of 0x11, 0x22 and 0x33; it is left running."""
    qp.create_vm(name)
    qp.start(name)
    qp.live_write(name, 0x11)
    out = qp.ok("snapshot", "create", name, "s1", "--description", "first")
    assert "s1" in out
    assert qp.state(name) == "running", "a disk snapshot left the VM paused"
    qp.live_write(name, 0x22)
    rec = qp.json("snapshot", "create", name, "s2", "--memory")
    assert rec["name"] == "s2" and rec["memory"], rec
    assert qp.state(name) == "running", "a RAM snapshot left the VM paused"
    qp.live_write(name, 0x33)
    return qp.uuid(name)


def test_snapshots_hold_each_disks_data(qp):
    uuid = two_snapshots(qp)

    listing = qp.snapshots("vm")
    snaps = listing["snapshots"]
    assert [s["name"] for s in snaps] == ["s1", "s2"], "creation order"
    assert [s["parent"] for s in snaps] == [None, "s1"]
    assert listing["current"] == "s2"
    s1, s2 = snaps
    assert s1["description"] == "first" and s2["description"] is None
    assert s1["memory"] is None and s2["memory"].endswith("s2.mem")
    assert os.path.getsize(os.path.join(qp.snap_dir(uuid), "s2.mem")) > 0
    for s in snaps:
        assert s["running"] is True and s["paused"] is False \
            and s["shutdown"] is False
        assert s["vm_uuid"] == uuid and s["kind"] == "internal"
        assert [(d["device"], d["name"], d["format"]) for d in s["disks"]] \
            == [("vda", s["name"], "qcow2"), ("vdb", s["name"], "qcow2")]
        # the seed hides the disks' backend paths from the records
        assert all(not d["path"] for d in s["disks"]), s["disks"]
    assert s1["creation_time"] <= s2["creation_time"]

    tree = qp.ok("snapshot", "list", "vm", "--tree").splitlines()
    assert len(tree) == 2, tree
    assert re.fullmatch(r"s1  \(.*, running, disks\)", tree[0]), tree
    assert re.fullmatch(r"  s2 \*  \(.*, running, with RAM\)", tree[1]), tree
    flat = qp.ok("snapshot", "list", "vm").splitlines()
    assert flat[0].startswith("s1") and "parent -" in flat[0] \
        and "(current)" not in flat[0]
    assert flat[1].startswith("s2") and "parent s1" in flat[1] \
        and "(current)" in flat[1] and "RAM" in flat[1]

    shown = qp.json("snapshot", "show", "vm", "s2")
    assert {k: shown[k] for k in ("name", "parent", "memory")} == {
        k: s2[k] for k in ("name", "parent", "memory")}
    text = qp.ok("snapshot", "show", "vm", "s1")
    assert "name:        s1" in text and "(disk-only)" in text \
        and "first" in text and "disk:        vdb" in text

    qp.stop("vm")
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s1", "s2"], img
    # each snapshot holds, on both disks, exactly what was written before it
    qp.check_disks("vm", {0x11}, 0x11, snapshot="s1")
    qp.check_disks("vm", {0x11, 0x22}, 0x22, snapshot="s2")
    qp.check_disks("vm", {0x11, 0x22, 0x33}, 0x33)
    for img in qp.imgs("vm"):
        assert pattern_ok(img, 0x33) and not pattern_ok(img, 0x22)


def test_snapshot_of_stopped_vm(qp):
    """qemu-img path: both disks, a record that says shut off."""
    qp.create_vm("off")
    qp.offline_write("off", 0x11)
    rec = qp.json("snapshot", "create", "off", "c1")
    assert rec["shutdown"] is True and rec["running"] is False
    assert rec["memory"] is None
    qp.offline_write("off", 0x22)
    for img in qp.imgs("off"):
        assert internal_snapshots(img) == ["c1"]
    qp.check_disks("off", {0x11}, 0x11, snapshot="c1")
    assert "shut off" in qp.ok("snapshot", "list", "off")


def test_revert_refused_while_running_changes_nothing(qp):
    uuid = two_snapshots(qp)
    pid = qp.pid(uuid)
    for name in ("s1", "s2"):
        err = qp.refused("snapshot", "revert", "vm", name,
                         needles=["running"])
        assert "--force" in err or "force" in err.lower()
    assert qp.state("vm") == "running" and qp.pid(uuid) == pid
    assert qp.current("vm") == "s2"
    qp.stop("vm")
    qp.check_disks("vm", {0x11, 0x22, 0x33}, 0x33)
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s1", "s2"]


def test_revert_disk_only_stays_stopped_ram_comes_back_running(qp):
    uuid = two_snapshots(qp)
    qp.stop("vm")

    qp.ok("snapshot", "revert", "vm", "s1")
    assert qp.state("vm") == "stopped", "s1 is disk-only: no VM to run"
    assert qp.current("vm") == "s1"
    qp.check_disks("vm", {0x11}, 0x11)
    for img in qp.imgs("vm"):
        assert pattern_ok(img, 0x11)
        assert not pattern_ok(img, 0x22) and not pattern_ok(img, 0x33)
        assert internal_snapshots(img) == ["s1", "s2"], "revert ate one"

    qp.ok("snapshot", "revert", "vm", "s2")
    [v] = qp.json("vm", "list")
    assert v["power_state"] == "running", (
        "s2 was taken of a running VM with its RAM: revert runs it again")
    assert [x["name"] for x in qp.json("vm", "list", "--state",
                                       "running")] == ["vm"]
    assert qp.current("vm") == "s2"
    # the restored VM's monitor works and its disks are writable
    with qp.qmp("vm") as q:
        assert q.execute("query-status")["status"] == "running"
    qp.live_write("vm", 0x44, devs=("vdb",))
    qp.stop("vm")
    qp.check_disks("vm", {0x11, 0x22}, 0x22, devs=("vda",))
    qp.check_disks("vm", {0x11, 0x22, 0x44}, 0x44, devs=("vdb",))
    # the snapshots themselves are untouched by revert and later writes
    qp.check_disks("vm", {0x11}, 0x11, snapshot="s1")
    qp.check_disks("vm", {0x11, 0x22}, 0x22, snapshot="s2")
    assert os.path.exists(os.path.join(qp.snap_dir(uuid), "s2.mem"))


def test_live_snapshot_after_ram_revert(qp):
    """After a RAM revert (an incoming migration) qemu owns its images
    again: a live snapshot and a live delete work."""
    two_snapshots(qp)
    qp.stop("vm")
    qp.ok("snapshot", "revert", "vm", "s2")
    assert qp.state("vm") == "running"
    qp.live_write("vm", 0x44)
    rec = qp.json("snapshot", "create", "vm", "s3")
    assert rec["parent"] == "s2" and rec["running"] is True
    qp.live_write("vm", 0x55)
    qp.ok("snapshot", "delete", "vm", "s1")
    assert qp.state("vm") == "running"
    qp.stop("vm")
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s2", "s3"]
    qp.check_disks("vm", {0x11, 0x22, 0x44}, 0x44, snapshot="s3")
    qp.check_disks("vm", {0x11, 0x22, 0x44, 0x55}, 0x55)


def test_revert_ram_snapshot_of_paused_vm_comes_back_paused(qp):
    qp.create_vm("p")
    qp.start("p")
    qp.live_write("p", 0x11)
    with qp.qmp("p") as q:
        q.execute("stop")
    assert qp.state("p") == "paused"
    assert [v["name"] for v in qp.json("vm", "list", "--state",
                                       "paused")] == ["p"]
    summary = qp.json("inventory")["summary"]
    assert (summary["running"], summary["paused"]) == (0, 1), summary
    rec = qp.json("snapshot", "create", "p", "ps", "--memory")
    assert rec["paused"] is True and rec["running"] is False, rec
    assert qp.state("p") == "paused", "a snapshot resumed a paused VM"
    with qp.qmp("p") as q:
        q.execute("cont")
    qp.live_write("p", 0x22)
    qp.stop("p")

    qp.ok("snapshot", "revert", "p", "ps")
    assert qp.vm("p")["power_state"] == "paused"
    qp.check_disks("p", {0x11}, 0x11)
    # it really is the restored VM: it resumes
    with qp.qmp("p") as q:
        q.execute("cont")
        assert q.execute("query-status")["status"] == "running"
    assert qp.state("p") == "running"


@pytest.mark.parametrize("snap,after", [("s1", "stopped"),
                                        ("s2", "running")])
def test_revert_force_on_running_vm(qp, snap, after):
    uuid = two_snapshots(qp)
    old = qp.pid(uuid)
    qp.ok("snapshot", "revert", "vm", snap, "--force")
    assert qp.state("vm") == after
    if after == "running":
        assert qp.pid(uuid) != old, "the old qemu still runs"
    assert qp.current("vm") == snap
    qp.stop("vm")
    if snap == "s1":
        qp.check_disks("vm", {0x11}, 0x11)
    else:
        qp.check_disks("vm", {0x11, 0x22}, 0x22)


def test_delete_parent_keeps_child(qp):
    uuid = two_snapshots(qp)
    qp.stop("vm")
    qp.ok("snapshot", "delete", "vm", "s1")
    listing = qp.snapshots("vm")
    assert [(s["name"], s["parent"]) for s in listing["snapshots"]] == [
        ("s2", None)]
    assert listing["current"] == "s2"
    assert not os.path.exists(qp.record(uuid, "s1"))
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s2"]
    qp.check_disks("vm", {0x11, 0x22}, 0x22, snapshot="s2")
    qp.ok("snapshot", "revert", "vm", "s2")
    assert qp.state("vm") == "running"
    qp.stop("vm")
    qp.check_disks("vm", {0x11, 0x22}, 0x22)
    assert qp.ok("snapshot", "list", "vm", "--tree").startswith("s2 *")


def test_delete_current_moves_current_to_parent(qp):
    uuid = two_snapshots(qp)
    qp.stop("vm")
    mem = os.path.join(qp.snap_dir(uuid), "s2.mem")
    assert os.path.exists(mem)
    qp.ok("snapshot", "delete", "vm", "s2")
    listing = qp.snapshots("vm")
    assert listing["current"] == "s1"
    assert [s["name"] for s in listing["snapshots"]] == ["s1"]
    assert not os.path.exists(mem), "the deleted snapshot's RAM file stays"
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s1"]
    # a new snapshot hangs below the new current one
    rec = qp.json("snapshot", "create", "vm", "s3")
    assert rec["parent"] == "s1"
    # deleting the last one leaves no current
    qp.ok("snapshot", "delete", "vm", "s3")
    qp.ok("snapshot", "delete", "vm", "s1")
    listing = qp.snapshots("vm")
    assert listing == {"current": None, "snapshots": []}
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == []
    qp.check_disks("vm", {0x11, 0x22, 0x33}, 0x33)


@pytest.mark.parametrize("running", [True, False], ids=["live-qmp",
                                                        "offline-qemu-img"])
def test_delete_removes_internal_snapshots_from_both_images(qp, running):
    two_snapshots(qp)
    if not running:
        qp.stop("vm")
    qp.ok("snapshot", "delete", "vm", "s1")
    assert qp.state("vm") == ("running" if running else "stopped")
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s2"], img
    assert qp.snap_names("vm") == ["s2"]
    qp.ok("snapshot", "delete", "vm", "s2")
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == [], img
    assert qp.snapshots("vm") == {"current": None, "snapshots": []}
    if running:
        qp.stop("vm")
    # the images are sound and keep their current data
    for img in qp.imgs("vm"):
        tool("qemu-img", "check", img)
    qp.check_disks("vm", {0x11, 0x22, 0x33}, 0x33)


def test_delete_parent_of_current_then_revert_current(qp):
    """A chain s1 <- s2 <- s3 (current): deleting s2 hangs s3 below s1,
    and s3 and s1 still revert to their own data."""
    qp.create_vm("c")
    for i, name in enumerate(("s1", "s2", "s3")):
        qp.offline_write("c", 0x11 * (i + 1))
        qp.ok("snapshot", "create", "c", name)
    qp.offline_write("c", 0x44)
    assert qp.current("c") == "s3"
    qp.ok("snapshot", "delete", "c", "s2")
    listing = qp.snapshots("c")
    assert [(s["name"], s["parent"]) for s in listing["snapshots"]] == [
        ("s1", None), ("s3", "s1")]
    assert listing["current"] == "s3"
    tree = qp.ok("snapshot", "list", "c", "--tree").splitlines()
    assert tree[0].startswith("s1  (") and tree[1].startswith("  s3 *  (")
    for img in qp.imgs("c"):
        assert internal_snapshots(img) == ["s1", "s3"]
    qp.ok("snapshot", "revert", "c", "s3")
    assert qp.state("c") == "stopped"
    qp.check_disks("c", {0x11, 0x22, 0x33}, 0x33)
    qp.ok("snapshot", "revert", "c", "s1")
    qp.check_disks("c", {0x11}, 0x11)
    assert qp.current("c") == "s1"


def test_revert_drops_dirty_bitmaps(qp):
    """qemu-img refuses to apply a snapshot to an image with persistent
    dirty bitmaps ("Device has active dirty bitmaps"): ferry removes them
    first."""
    qp.create_vm("b")
    qp.offline_write("b", 0x11)
    qp.ok("snapshot", "create", "b", "s1")
    qp.offline_write("b", 0x22)
    vda, vdb = qp.imgs("b")
    tool("qemu-img", "bitmap", "--add", vda, "b0")
    tool("qemu-img", "bitmap", "--add", vdb, "b1")
    tool("qemu-img", "bitmap", "--add", vdb, "b2")
    assert bitmaps(vda) == ["b0"] and sorted(bitmaps(vdb)) == ["b1", "b2"]
    qp.ok("snapshot", "revert", "b", "s1")
    qp.check_disks("b", {0x11}, 0x11)
    assert bitmaps(vda) == [] and bitmaps(vdb) == []
    # a live snapshot of a disk with a bitmap, then a forced revert
    tool("qemu-img", "bitmap", "--add", vda, "b3")
    qp.start("b")
    qp.live_write("b", 0x33)
    qp.ok("snapshot", "create", "b", "s2")
    qp.live_write("b", 0x44)
    qp.ok("snapshot", "revert", "b", "s2", "--force")
    qp.check_disks("b", {0x11, 0x33}, 0x33)


def test_numeric_snapshot_name_is_refused(qp):
    """qemu-img snapshot -a NAME looks NAME up as an internal ID first, so a
    snapshot called "2" could revert another one's data: all-digit names
    are refused before anything is written."""
    qp.create_vm("n")
    qp.offline_write("n", 0x11)
    err = qp.refused("snapshot", "create", "n", "2", needles=["'2'"])
    assert "all digits" in err, err
    assert internal_snapshots(qp.img("n", "vda")) == []
    qp.ok("snapshot", "create", "n", "s2")  # a name with a digit is fine