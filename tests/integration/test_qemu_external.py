"""External (overlay) snapshots on the qemu platform, against real qemu:
every disk gets a new qcow2 overlay and the image below holds the snapshot.
Data is checked through qemu-img, which follows the backing chains."""
import os
import subprocess
import sys

from qemuhelpers import (CHUNK, expect_patterns, image_bytes, image_info,
                         internal_snapshots, own_offset, qp, tool)  # noqa: F401

END = own_offset(0x55) + CHUNK
HERE = os.path.dirname(os.path.abspath(__file__))


def active(qp, vm, dev):
    """The image a VM's disk uses now (its definition's volume)."""
    for d in qp.json("vm", "show", vm)["disks"]:
        if d["device"] == dev:
            return os.path.join(qp.real, "volumes", d["volume_id"])
    raise AssertionError(f"{vm} has no disk {dev}")


def view(img):
    return image_bytes(img, length=END)


def check_active(qp, vm, patterns, last):
    for dev in ("vda", "vdb"):
        expect_patterns(view(active(qp, vm, dev)), patterns, last,
                        f"{vm} {dev} (active)")


def frozen(qp, vm, snap, dev):
    """The image under snapshot `snap`'s overlay of disk `dev`."""
    rec = qp.json("snapshot", "show", vm, snap)
    [disk] = [d for d in rec["disks"] if d["device"] == dev]
    backing = image_info(disk["file"]).get("backing-filename")
    assert backing, f"{snap}: overlay {disk['file']} has no backing file"
    return os.path.join(qp.real, "volumes", os.path.basename(backing))


def volumes(qp):
    return sorted(v["id"] for v in qp.json("volume", "list"))


def chain(qp, img):
    """The volume ids of an image and everything under it."""
    ids = []
    while img:
        ids.append(os.path.basename(img))
        b = image_info(img).get("backing-filename")
        img = os.path.join(qp.real, "volumes", os.path.basename(b)) if b else None
    return ids


def test_external_live_branches_and_deletes(qp):
    qp.create_vm("x")
    qp.ok("snapshot", "create", "x", "e0", "--external")  # stopped: qemu-img
    qp.start("x")
    qp.live_write("x", 0x11)
    qp.ok("snapshot", "create", "x", "e1", "--external")
    qp.live_write("x", 0x22)
    rec = qp.json("snapshot", "create", "x", "e2", "--external", "--memory")
    assert rec["kind"] == "external" and rec["memory"], rec
    assert qp.state("x") == "running"
    qp.live_write("x", 0x33)
    assert qp.snap_names("x") == ["e0", "e1", "e2"]
    qp.stop("x")
    check_active(qp, "x", {0x11, 0x22, 0x33}, 0x33)
    # each snapshot is the image under its overlay, frozen at its instant
    for dev in ("vda", "vdb"):
        assert view(frozen(qp, "x", "e0", dev)) == bytes(END)
        expect_patterns(view(frozen(qp, "x", "e1", dev)), {0x11}, 0x11,
                        f"e1 {dev}")
        expect_patterns(view(frozen(qp, "x", "e2", dev)), {0x11, 0x22}, 0x22,
                        f"e2 {dev}")
    frozen_e1 = {dev: open(frozen(qp, "x", "e1", dev), "rb").read()
                 for dev in ("vda", "vdb")}

    # revert to a disk-only one: stopped, its data, frozen images untouched
    qp.ok("snapshot", "revert", "x", "e1")
    assert qp.state("x") == "stopped"
    check_active(qp, "x", {0x11}, 0x11)
    for dev in ("vda", "vdb"):
        assert open(frozen(qp, "x", "e1", dev), "rb").read() == frozen_e1[dev]
    assert qp.current("x") == "e1"
    # revert to the one with RAM: running again, with e2's data
    qp.ok("snapshot", "revert", "x", "e2")
    assert qp.state("x") == "running"
    qp.live_write("x", 0x44)
    # delete e2 while it runs: the frozen image streams into the overlay
    qp.ok("snapshot", "delete", "x", "e2")
    qp.stop("x")
    check_active(qp, "x", {0x11, 0x22, 0x44}, 0x44)
    # delete e1 and e0 offline (qemu-img rebase); the data stays
    qp.ok("snapshot", "delete", "x", "e1")
    qp.ok("snapshot", "delete", "x", "e0")
    assert qp.snap_names("x") == []
    check_active(qp, "x", {0x11, 0x22, 0x44}, 0x44)
    # no layer is left that nothing needs, and the images are sound
    needed = sorted(i for dev in ("vda", "vdb")
                    for i in chain(qp, active(qp, "x", dev)))
    assert volumes(qp) == needed, (volumes(qp), needed)
    for img in needed:
        tool("qemu-img", "check", "-q", os.path.join(qp.real, "volumes", img))
    qp.start("x")  # and the VM starts on what is left
    assert qp.state("x") == "running"
    qp.stop("x")


def test_external_snapshot_of_a_raw_disk(qp):
    """Internal snapshots need qcow2; an overlay can stand on a raw image."""
    qp.ok("volume", "create", "r.raw", "16M", "--format", "raw")
    qp.ok("vm", "create", "r", "--memory", "64", "--disk", "r.raw")
    qp.refused("snapshot", "create", "r", "i1", needles=["vda", "qcow2"])
    qp.ok("snapshot", "create", "r", "x1", "--external")
    [disk] = qp.json("vm", "show", "r")["disks"]
    assert disk["volume_id"] == "r-vda-x1.qcow2", disk
    info = image_info(os.path.join(qp.real, "volumes", disk["volume_id"]))
    assert info["backing-filename-format"] == "raw", info
    qp.start("r")
    assert qp.state("r") == "running"
    qp.stop("r")
    qp.ok("snapshot", "revert", "r", "x1")
    qp.ok("snapshot", "delete", "r", "x1")
    # the raw base was streamed into the overlay and is gone
    assert "r.raw" not in volumes(qp)


def test_internal_snapshot_below_an_overlay_is_not_reverted_blindly(qp):
    """An internal snapshot taken before an external one lives in the image
    that is now read-only below the overlay: reverting to it is refused
    with a message, and nothing changes."""
    qp.create_vm("m")
    qp.offline_write("m", 0x11)
    qp.ok("snapshot", "create", "m", "i1")
    qp.ok("snapshot", "create", "m", "x1", "--external")
    err = qp.refused("snapshot", "revert", "m", "i1", needles=["i1"])
    assert "external" in err, err
    assert internal_snapshots(frozen(qp, "m", "x1", "vda")) == ["i1"]


def test_revert_message_names_the_external_snapshot_to_go_back_to(qp):
    qp.create_vm("m")
    qp.ok("snapshot", "create", "m", "i1")
    qp.ok("snapshot", "create", "m", "x1", "--external")
    qp.refused("snapshot", "revert", "m", "i1",
               needles=["under external snapshot 'x1'", "revert to 'x1'"])


def test_deleting_an_external_snapshot_keeps_older_internal_ones(qp):
    """Bug: deleting x1 streamed its frozen image (holding i1) into the
    overlay and left i1 in an image off the chain; a revert to i1 then told
    the user to revert to x1, which no longer existed. Now the overlay goes
    down into that image: i1 stays in the chain and reverts."""
    qp.create_vm("m")
    qp.offline_write("m", 0x11)
    qp.ok("snapshot", "create", "m", "i1")
    qp.ok("snapshot", "create", "m", "x1", "--external")
    base = frozen(qp, "m", "x1", "vda")
    for dev in ("vda", "vdb"):
        from qemuhelpers import offline_write
        for off in (0, own_offset(0x22)):
            offline_write(active(qp, "m", dev), 0x22, off)
    qp.ok("snapshot", "delete", "m", "x1")
    assert active(qp, "m", "vda") == base, "the disk is back on its image"
    check_active(qp, "m", {0x11, 0x22}, 0x22)
    assert "i1" in internal_snapshots(base)
    assert not any("x1" in v for v in volumes(qp)), volumes(qp)
    qp.ok("snapshot", "revert", "m", "i1")
    check_active(qp, "m", {0x11}, 0x11)


def test_live_delete_that_would_strand_an_internal_snapshot_is_refused(qp):
    qp.create_vm("m")
    qp.offline_write("m", 0x11)
    qp.ok("snapshot", "create", "m", "i1")
    qp.start("m")
    qp.ok("snapshot", "create", "m", "x1", "--external")
    before = volumes(qp)
    qp.refused("snapshot", "delete", "m", "x1",
               needles=["x1", "internal snapshots", "stop the VM"])
    assert volumes(qp) == before and "x1" in qp.snap_names("m")
    assert qp.state("m") == "running"
    assert qp.json("snapshot", "show", "m", "x1")["deleting"] is False
    qp.stop("m")
    qp.ok("snapshot", "delete", "m", "x1")
    qp.ok("snapshot", "revert", "m", "i1")
    check_active(qp, "m", {0x11}, 0x11)


def test_changes_survive_a_delete_that_commits_down(qp):
    """x0 starts a bitmap; an internal snapshot made by hand (not ferry's)
    lands in x0's overlay; x1 freezes it; writes follow; deleting x1
    commits down into x0's overlay (the hand-made snapshot stays in the
    chain): the changes since x0 must still cover the writes after x1."""
    qp.create_vm("m")
    qp.ok("snapshot", "create", "m", "x0", "--external")
    for dev in ("vda", "vdb"):
        tool("qemu-img", "snapshot", "-c", "hand", active(qp, "m", dev))
    qp.ok("snapshot", "create", "m", "x1", "--external")
    from qemuhelpers import offline_write
    offline_write(active(qp, "m", "vda"), 0x33, own_offset(0x33))
    qp.ok("snapshot", "delete", "m", "x1")
    qp.ok("snapshot", "create", "m", "x2", "--external")
    script = (f"import ferry\n"
              f"p = ferry.Platform({qp.uri!r})\n"
              f"a = p.snapshot_changes('m', 'vda', 'x0', 'x2')\n"
              f"print(' '.join(f\"{{x['start']}}:{{x['length']}}\" "
              f"for x in a['areas']))\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "..",
                                                   "python"))
    cp = subprocess.run([sys.executable, "-c", script], env=env,
                        capture_output=True, timeout=60)
    assert cp.returncode == 0, cp.stderr.decode()
    spans = [tuple(map(int, t.split(b":"))) for t in cp.stdout.split()]
    assert any(s <= own_offset(0x33) < s + n for s, n in spans), spans
    assert "hand" in internal_snapshots(active(qp, "m", "vda").replace(
        "-x2", "-x0"))


def test_snapshot_a_delete_was_interrupted_in_is_not_used(qp):
    """A delete marks the record before it touches data (a live commit
    writes into the snapshot's frozen image): after a crash in between, a
    revert to it, or reading it, is refused; the delete can be finished."""
    import json as _json
    qp.create_vm("m")
    qp.ok("snapshot", "create", "m", "x1", "--external")
    uuid = qp.uuid("m")
    rec = os.path.join(qp.dir, "snapshots", uuid, "snapshotdata-x1.json")
    with open(rec) as f:
        r = _json.load(f)
    r["deleting"] = True  # what a delete killed after its first step leaves
    with open(rec, "w") as f:
        _json.dump(r, f)
    qp.refused("snapshot", "revert", "m", "x1",
               needles=["being deleted", "snapshot delete m x1"])
    qp.ok("snapshot", "delete", "m", "x1")
    assert qp.snap_names("m") == []


def test_snapshot_names_that_look_alike_keep_their_own_layers(qp):
    """An external snapshot 'a' taken after 'a.b' and 'a.1' (their
    overlays' names start as a's would) gets overlays of its own: an
    interrupted create of 'a' is told apart by the records."""
    qp.create_vm("x")
    qp.ok("snapshot", "create", "x", "a.b", "--external")
    a_b = active(qp, "x", "vda")
    qp.ok("snapshot", "create", "x", "a.1", "--external")
    a_1 = active(qp, "x", "vda")
    qp.ok("snapshot", "create", "x", "a", "--external")
    a = active(qp, "x", "vda")
    assert len({a_b, a_1, a}) == 3, (a_b, a_1, a)
    assert os.path.basename(a).startswith("x-vda-a.")
    rec = {s["name"]: s for s in qp.json("snapshot", "list", "x")["snapshots"]}
    files = {n: {d["file"] for d in r["disks"]} for n, r in rec.items()}
    assert not files["a"] & (files["a.b"] | files["a.1"]), files
