"""Bad input to the qemu platform: each request is refused with a message
that says why, and the state dir (definitions, volumes, records, the
images' internal snapshots) is left as it was."""

import os

import pytest

from qemuhelpers import (assert_same_tree, internal_snapshots, qp,  # noqa
                         tree_fingerprint)


def refused_unchanged(qp, *args, needles=(), root=None):
    """A refused command that leaves every file under root (default: the
    state dir, less run/ and lock files) as it was."""
    root = root or qp.real
    before = tree_fingerprint(root)
    err = qp.refused(*args, needles=needles)
    assert_same_tree(before, tree_fingerprint(root), " ".join(map(str, args)))
    return err


@pytest.fixture
def vm(qp):
    """A stopped two-disk VM 'vm' with one snapshot s1."""
    qp.create_vm("vm")
    qp.offline_write("vm", 0x11)
    qp.ok("snapshot", "create", "vm", "s1")
    return qp.uuid("vm")


@pytest.mark.parametrize("args", [
    ("snapshot", "create", "ghost", "s1"),
    ("snapshot", "create", "ghost", "s1", "--memory"),
    ("snapshot", "list", "ghost"),
    ("snapshot", "list", "ghost", "--tree"),
    ("snapshot", "show", "ghost", "s1"),
    ("snapshot", "revert", "ghost", "s1"),
    ("snapshot", "revert", "ghost", "s1", "--force"),
    ("snapshot", "delete", "ghost", "s1"),
    ("vm", "start", "ghost"),
    ("vm", "stop", "ghost", "--force"),
    ("vm", "delete", "ghost"),
], ids=lambda a: "-".join(a).replace("--", ""))
def test_unknown_vm(qp, vm, args):
    err = refused_unchanged(qp, *args, needles=["ghost"])
    assert "no vm" in err.lower(), err
    assert sorted(os.listdir(os.path.join(qp.real, "snapshots"))) == [vm], (
        "a refused command made a snapshot dir for the unknown VM")


def test_duplicate_snapshot_name(qp, vm):
    refused_unchanged(qp, "snapshot", "create", "vm", "s1",
                      needles=["s1", "already"])
    refused_unchanged(qp, "snapshot", "create", "vm", "s1", "--description",
                      "again", needles=["s1", "already"])
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s1"]
    # also while the VM runs (the QMP path), and with --memory
    qp.start("vm")
    refused_unchanged(qp, "snapshot", "create", "vm", "s1",
                      needles=["s1", "already"], root=qp.snap_dir(vm))
    refused_unchanged(qp, "snapshot", "create", "vm", "s1", "--memory",
                      needles=["s1", "already"], root=qp.snap_dir(vm))
    assert qp.state("vm") == "running"
    qp.stop("vm")
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s1"]
    assert qp.snap_names("vm") == ["s1"]


BAD_NAMES = {
    "dotdot-path": ("../../etc/x", ["may not"]),
    "slash": ("a/b", ["'/'"]),
    "newline": ("a\nb", ["control character"]),
    "dot": (".hidden", ["may not start"]),
    "dotdot": ("..", ["may not"]),
    "empty": ("", ["empty"]),
    "too-long": ("x" * 129, ["longer than 128"]),
}


@pytest.mark.parametrize("running", [False, True], ids=["stopped",
                                                        "running"])
@pytest.mark.parametrize("key", list(BAD_NAMES))
def test_escaping_snapshot_names(qp, vm, tmp_path, key, running):
    name, needles = BAD_NAMES[key]
    if running:
        qp.start("vm")
    snapdir = qp.snap_dir(vm)
    # every file the test can see, the images included (a running VM
    # does not write to them here), but not the monitors in run/
    root = str(tmp_path)
    for args in (("snapshot", "create", "vm", name),
                 ("snapshot", "create", "vm", name, "--memory"),
                 ("snapshot", "revert", "vm", name, "--force"),
                 ("snapshot", "delete", "vm", name),
                 ("snapshot", "show", "vm", name)):
        if "--memory" in args and not running:
            continue
        before = tree_fingerprint(root)
        if args[1] == "show":  # a lookup among the records: not found
            err = qp.refused(*args)
            assert "no snapshot" in err or "snapshot name" in err, err
        else:
            err = qp.refused(*args, needles=["snapshot name"] + needles)
            assert "\n" not in err.strip(), f"a one-line message: {err!r}"
        assert_same_tree(before, tree_fingerprint(root), repr(args))
    # nothing of that name anywhere it could have gone
    bases = [os.getcwd(), snapdir, qp.real, os.path.join(qp.real,
                                                         "volumes")]
    if name:
        for base in bases:
            cands = [os.path.join(base, f"snapshotdata-{name}.json"),
                     os.path.join(base, f"{name}.mem")]
            if name != "..":
                cands.append(os.path.join(base, name))
            for cand in cands:
                assert not os.path.lexists(os.path.normpath(cand)), cand
    assert qp.state("vm") == ("running" if running else "stopped")
    if running:
        qp.stop("vm")
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s1"]
    assert sorted(os.listdir(snapdir)) == ["current", "lock",
                                           "snapshotdata-s1.json"]


def test_vm_create_existing_name(qp, vm):
    refused_unchanged(qp, "vm", "create", "vm", "--memory", "64", "--disk",
                      "16M", "--disk", "16M", needles=["vm", "exists"])
    assert [v["name"] for v in qp.vms()] == ["vm"]


def test_vm_create_missing_volume(qp, vm):
    # the first disk would be new: it must not be made (or must be undone)
    err = refused_unchanged(qp, "vm", "create", "m", "--memory", "64",
                            "--disk", "16M", "--disk", "missing.qcow2",
                            needles=["missing.qcow2"])
    assert "vdb" in err
    assert not os.path.exists(os.path.join(qp.real, "volumes",
                                           "m-vda.qcow2"))
    assert [v["name"] for v in qp.vms()] == ["vm"]


def test_vm_create_nic_on_missing_network(qp, vm):
    refused_unchanged(qp, "vm", "create", "m", "--memory", "64", "--disk",
                      "16M", "--nic", "nowhere", needles=["nowhere",
                                                          "network"])
    assert [v["name"] for v in qp.vms()] == ["vm"]
    # the default network works
    qp.ok("vm", "create", "m2", "--memory", "64", "--disk", "16M", "--nic",
          "default")


def test_volume_delete_in_use(qp, vm):
    for dev in ("vda", "vdb"):
        refused_unchanged(qp, "volume", "delete", f"vm-{dev}.qcow2",
                          needles=[f"vm-{dev}.qcow2", "vm", dev])
    ids = sorted(v["id"] for v in qp.json("volume", "list"))
    assert ids == ["vm-vda.qcow2", "vm-vdb.qcow2"]
    # an unused volume goes
    qp.ok("volume", "create", "spare.qcow2", "16M")
    qp.ok("volume", "delete", "spare.qcow2")
    assert not os.path.exists(os.path.join(qp.real, "volumes",
                                           "spare.qcow2"))


def test_memory_snapshot_of_stopped_vm(qp, vm):
    refused_unchanged(qp, "snapshot", "create", "vm", "m1", "--memory",
                      needles=["stopped", "RAM"])
    assert qp.snap_names("vm") == ["s1"]
    for img in qp.imgs("vm"):
        assert internal_snapshots(img) == ["s1"]


def test_internal_snapshot_of_raw_disk(qp):
    qp.ok("volume", "create", "r.raw", "16M", "--format", "raw")
    vm = qp.json("vm", "create", "x", "--memory", "64", "--disk", "r.raw")
    assert vm["disks"][0]["format"] == "raw"
    for running in (False, True):
        if running:
            qp.start("x")
        err = refused_unchanged(qp, "snapshot", "create", "x", "s",
                                needles=["vda", "raw", "qcow2"],
                                root=os.path.join(qp.real, "vms"))
        assert "ENOTSUP" in err or "need" in err or "not supported" in err
        assert qp.snapshots("x") == {"current": None, "snapshots": []}
    qp.stop("x")
    # a qcow2 disk next to a raw one: still refused, naming the raw one
    qp.ok("volume", "create", "r2.raw", "16M", "--format", "raw")
    qp.json("vm", "create", "y", "--memory", "64", "--disk", "16M",
            "--disk", "r2.raw")
    refused_unchanged(qp, "snapshot", "create", "y", "s",
                      needles=["vdb", "raw"])
    assert internal_snapshots(qp.img("y", "vda")) == [], (
        "the qcow2 disk got a snapshot although its sibling is raw")
