"""The platform contract (platform.h, drivers.h): what every platform
driver must do, run against each platform's fixture in conftest.py.

- a VM is found by its id, its uuid and its name, by every operation;
- every ENOTSUP names the platform and is a sentence;
- snapshot records keep their parent, and the current snapshot follows
  creation, revert and deletion as libvirt's does;
- a name that is taken is refused with EEXIST, changing nothing;
- the changed areas between two snapshots are the writes between them,
  to the platform's granularity, and nothing else;
- the features bitmask tells the truth: for every FERRY_FEATURE_* bit
  (FEATURES below maps each to its operations) a set bit means the
  operations work, a clear one that they fail with ENOTSUP and a sentence.
"""
import errno
import os

import pytest

import ferry
from contracthelpers import (KiB, MiB, areas_of, assert_changes,
                             assert_enotsup, outcome, raises, refused)

F = ferry.Feature


def has(fx, bit):
    return bool(fx.p.features & bit)


def disk0(vm):
    return vm["disks"][0]["device"]


def names(fx, vm):
    return [s["name"] for s in fx.p.snapshots(vm["id"])]


# --------------------------------------------------------------------------
# The features table: each bit, what it promises, and the calls a platform
# without it must refuse.


def works_vms(fx):
    vm = fx.vm()
    listed = fx.p.vms()
    assert vm["id"] in [v["id"] for v in listed], listed
    for v in listed:
        assert v["id"] and v["uuid"] and v["name"], v
        assert v["power_state"] in ferry.POWER_STATES, v
    assert fx.p.vm(vm["id"])["uuid"] == vm["uuid"]


def works_snapshots(fx):
    vm = fx.vm()
    rec = fx.p.snapshot_create(vm["id"], "fs1", description="contract")
    assert (rec["name"], rec["description"], rec["vm_uuid"], rec["memory"]) \
        == ("fs1", "contract", vm["uuid"], None), rec
    assert names(fx, vm) == ["fs1"]
    assert fx.p.snapshot(vm["id"], "fs1") == fx.p.snapshots(vm["id"])[0]
    fx.p.snapshot_delete(vm["id"], "fs1")
    assert names(fx, vm) == []


def works_ram_snapshots(fx):
    vm = fx.running_vm()
    rec = fx.p.snapshot_create(vm["id"], "fm1", memory=True)
    assert rec["running"], f"a RAM snapshot of a running VM: {rec}"
    assert rec["memory"], (
        f"a snapshot with RAM says memory={rec['memory']!r}, which "
        f"types.idl reads as a disk-only snapshot: {rec}")
    assert fx.p.vm(vm["id"])["power_state"] == "running", (
        "the VM stopped running after a snapshot with RAM")
    fx.p.snapshot_delete(vm["id"], "fm1")


def works_changed_blocks(fx):
    vm = fx.running_vm()
    dev = disk0(vm)
    fx.p.open_cbt(vm["id"])
    fx.p.snapshot_create(vm["id"], "fc1", **fx.tracked)
    fx.write(vm, dev, 2 * MiB, 4 * KiB, 0x5c)
    fx.p.snapshot_create(vm["id"], "fc2", **fx.tracked)
    ch = fx.p.snapshot_changes(vm["id"], dev, "fc1", "fc2")
    assert_changes(areas_of(ch), [(2 * MiB, 2 * MiB + 4 * KiB)],
                   fx.granularity, vm["disks"][0]["capacity"],
                   "changes fc1..fc2")


def works_checkpoint_rounds(fx):
    """The platform's own tracking, as a migration's rounds use it: round 2
    of a warm migration to a local platform copies the written granule
    alone; the abort takes the checkpoints back."""
    import shutil
    import tempfile
    vm = fx.running_vm()
    dev = disk0(vm)
    fx.p.open_cbt(vm["id"])
    work = tempfile.mkdtemp(prefix="cr", dir="/tmp")
    jdir, mid = os.path.join(work, "j"), f"cr-{vm['name']}"
    try:
        m = ferry.migrate.start(fx.uri, f"local://{work}/dst", vm["id"],
                                id=mid, journal_dir=jdir)
        assert m["phase"] == "warm", m
        fx.write(vm, dev, 2 * MiB, 4 * KiB, 0x5c)
        m = ferry.migrate.sync(mid, jdir)
        assert m["rounds"][1]["changed_bytes"] == fx.granularity, (
            f"round 2 after one 4 KiB write: {m['rounds']}")
        assert ferry.migrate.abort(mid, jdir)["phase"] == "aborted"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def works_read_volumes(fx):
    vm = fx.stopped_vm()
    dev = disk0(vm)
    fx.write(vm, dev, 2 * MiB, 64 * KiB, 0x5a)
    with ferry.Volume(fx.p.client, fx.volume_id(vm, dev)) as v:
        assert v.size == vm["disks"][0]["capacity"]
        assert v.pread(64 * KiB, 2 * MiB) == b"\x5a" * (64 * KiB)
        assert v.pread(4 * KiB, 3 * MiB) == bytes(4 * KiB)


def works_write_volumes(fx):
    vm = fx.stopped_vm()
    dev = disk0(vm)
    with ferry.Volume(fx.p.client, fx.volume_id(vm, dev), writable=True) as v:
        v.pwrite(b"\xc3" * 4096, MiB)
        v.flush()
    with ferry.Volume(fx.p.client, fx.volume_id(vm, dev)) as v:
        assert v.pread(4096, MiB) == b"\xc3" * 4096


def works_create_volumes(fx):
    vid = fx.new_volume_id()
    info = ferry.create_volume(fx.p, {"volume_id": vid,
                                      "capacity": 4 * MiB})
    assert (info["id"], info["capacity"]) == (vid, 4 * MiB), info
    with ferry.Volume(fx.p.client, vid) as v:
        assert v.size == 4 * MiB
        assert v.pread(4096, MiB) == bytes(4096)
    ferry.delete_volume(fx.p, vid)
    with pytest.raises(ferry.Error):
        ferry.Volume(fx.p.client, vid).close()


def works_create_vms(fx):
    name = fx.new_vm_name()
    vm = fx.p.create_vm(name, memory_mib=64, disks=["8M"])
    got = fx.p.vm(name)
    assert (got["id"], got["name"]) == (vm["id"], name)
    assert [d["capacity"] for d in got["disks"]] == [8 * MiB], got
    fx.p.delete_vm(name)
    raises(errno.ENOENT, fx.p.vm, name)


def works_tasks(fx):
    ferry.wait_task(fx.p, fx.make_task(), 60000)


def works_boot_check(fx):
    vm = fx.stopped_vm()
    dev = disk0(vm)
    # an MBR: boot code, an active Linux partition, the signature
    fx.write(vm, dev, 0, 1, 0xeb)
    fx.write(vm, dev, 446, 1, 0x80)
    fx.write(vm, dev, 450, 1, 0x83)
    fx.write(vm, dev, 510, 1, 0x55)
    fx.write(vm, dev, 511, 1, 0xaa)
    vm = fx.p.vm(vm["id"])
    assert fx.p.check_boot_disk(vm)["device"] == dev
    for d in vm["disks"][1:]:  # blank: no boot signature
        err, got = outcome(fx.p.check_boot_disk, [d])
        assert err is not None and err.errno != errno.ENOTSUP, (
            f"blank disk {d['device']} passed the boot check: {got}")


def works_inject_drivers(fx):
    vm = fx.guest_vm()  # a disk with an OS to convert
    ferry.inject_driver(fx.p, vm["disks"][0])


def works_list_volumes(fx):
    vm = fx.vm()
    ids = {v["id"] for v in fx.p.volumes()}
    for d in vm["disks"]:
        assert d["volume_id"] in ids, (d["volume_id"], sorted(ids))


def works_lifecycle(fx):
    vm = fx.stopped_vm()
    state = lambda: fx.p.vm(vm["id"])["power_state"]  # noqa: E731
    fx.p.start_vm(vm["id"])
    assert state() == "running"
    fx.p.stop_vm(vm["id"], force=True)
    assert state() == "stopped"
    fx.p.start_vm(vm["id"])
    fx.p.stop_vm(vm["id"], timeout=1)  # graceful, then off
    assert state() == "stopped"


def _volume(fx, vm, writable=False):
    ferry.Volume(fx.p.client, fx.volume_id(vm, disk0(vm)),
                 writable=writable).close()


# bit: (what a set bit promises, checked; the calls a clear bit refuses,
# each (what, fn(fx, vm)) with vm a VM of the platform).
FEATURES = {
    F.VMS: (works_vms, [
        ("list VMs", lambda fx, vm: fx.p.vms())]),
    F.SNAPSHOTS: (works_snapshots, [
        ("snapshot create",
         lambda fx, vm: fx.p.snapshot_create(vm["id"], "x"))]),
    F.RAM_SNAPSHOTS: (works_ram_snapshots, [
        ("snapshot create with RAM",
         lambda fx, vm: fx.p.snapshot_create(vm["id"], "x", memory=True))]),
    F.CHANGED_BLOCKS: (works_changed_blocks, [
        ("open_cbt", lambda fx, vm: fx.p.open_cbt(vm["id"]),
         F.CHECKPOINT_ROUNDS),  # either bit's
        ("snapshot changes", lambda fx, vm: fx.p.snapshot_changes(
            vm["id"], disk0(vm), "*", "x"))]),
    F.READ_VOLUMES: (works_read_volumes, [
        ("open a VM's disk", _volume)]),
    F.WRITE_VOLUMES: (works_write_volumes, [
        ("open a VM's disk for writing",
         lambda fx, vm: _volume(fx, vm, writable=True))]),
    F.CREATE_VOLUMES: (works_create_volumes, [
        ("create a volume", lambda fx, vm: ferry.create_volume(
            fx.p, {"volume_id": fx.new_volume_id(), "capacity": 4 * MiB}))]),
    F.CREATE_VMS: (works_create_vms, [
        ("create a VM", lambda fx, vm: fx.p.create_vm(
            fx.new_vm_name(), memory_mib=64, disks=["8M"]))]),
    F.TASKS: (works_tasks, [
        ("wait for a task",
         lambda fx, vm: ferry.wait_task(fx.p, "task-1", 1000))]),
    F.BOOT_CHECK: (works_boot_check, [
        ("check boot disks", lambda fx, vm: fx.p.check_boot_disk(vm))]),
    F.INJECT_DRIVERS: (works_inject_drivers, [
        ("inject drivers",
         lambda fx, vm: ferry.inject_driver(fx.p, vm["disks"][0]))]),
    F.LIST_VOLUMES: (works_list_volumes, [
        ("list volumes", lambda fx, vm: fx.p.volumes())]),
    F.CHECKPOINT_ROUNDS: (works_checkpoint_rounds, []),  # no call of its own
    F.LIFECYCLE: (works_lifecycle, [
        ("start a VM", lambda fx, vm: fx.p.start_vm(vm["id"])),
        ("stop a VM", lambda fx, vm: fx.p.stop_vm(vm["id"], force=True))]),
}


def refusals(fx, bits, vm):
    """The calls of the clear bits among bits, as (what, fn()); a call
    that another bit also promises (its third member) is refused only
    when that bit is clear too."""
    return [(f"{what} (FEATURE_{bit.name} is clear)",
             lambda call=call: call(fx, vm))
            for bit in bits if not has(fx, bit)
            for what, call, *also in FEATURES[bit][1]
            if not any(has(fx, b) for b in also)]


def any_vm(fx):
    """A VM of the platform, or a made-up one where it has none."""
    if has(fx, F.VMS):
        return fx.vm()
    return {"id": "any", "uuid": "any", "name": "any",
            "disks": [{"device": "sda", "volume_id": "any"}]}


def test_every_feature_bit_is_in_the_table():
    assert set(FEATURES) == set(F), (
        "a FERRY_FEATURE_* bit without its operations in FEATURES: "
        f"{sorted(f.name for f in set(F) - set(FEATURES))}")


@pytest.mark.parametrize("bit", list(FEATURES), ids=lambda b: b.name)
def test_features_tell_the_truth(platform, bit):
    fx = platform
    assert fx.p.driver["name"] == fx.name
    if has(fx, bit):
        FEATURES[bit][0](fx)
        return
    bad = []
    for what, fn in refusals(fx, [bit], any_vm(fx)):
        try:
            refused(fx.name, what, fn)
        except (AssertionError, pytest.fail.Exception) as e:
            bad.append(str(e))
    assert not bad, "\n".join(bad)


def test_ram_snapshot_of_a_stopped_vm_is_refused(platform):
    """platform.h: FERRY_SNAPSHOT_MEMORY saves RAM "(the VM must run)": a
    stopped VM has none, and a disk-only snapshot made in its place would
    be an operation succeeding silently."""
    fx = platform
    vm = fx.stopped_vm()
    err, rec = outcome(fx.p.snapshot_create, vm["id"], "fm2", memory=True)
    assert err is not None, (
        f"a snapshot with RAM of a stopped VM succeeded: {rec}")
    if has(fx, F.RAM_SNAPSHOTS):
        assert err.errno == errno.EINVAL, err
    else:
        assert_enotsup(err, fx.name, "snapshot create with RAM")
    if has(fx, F.SNAPSHOTS):
        assert "fm2" not in names(fx, vm), "the refused snapshot was made"


# --------------------------------------------------------------------------
# The other contracts


def test_vm_lookup_by_id_uuid_and_name(platform):
    fx = platform
    vm, other = fx.vm(), fx.vm()
    for key in (vm["id"], vm["uuid"], vm["name"]):
        got = fx.p.vm(key)
        assert (got["id"], got["uuid"], got["name"]) == \
            (vm["id"], vm["uuid"], vm["name"]), f"get_vm({key!r}): {got}"
        if has(fx, F.SNAPSHOTS):
            assert fx.p.snapshots(key) == fx.p.snapshots(vm["id"]), key
    listed = fx.p.vms()
    assert len({v["id"] for v in listed}) == len(listed), "ids repeat"
    assert len({v["uuid"] for v in listed}) == len(listed), "uuids repeat"
    for v in listed:
        assert fx.p.vm(v["uuid"])["id"] == v["id"], v
    assert [v["id"] for v in fx.p.vms(name=vm["name"])] == [vm["id"]]
    assert fx.p.vm(other["name"])["id"] == other["id"]
    e = raises(errno.ENOENT, fx.p.vm, "no-such-vm-7x")
    assert "no-such-vm-7x" in e.message and fx.name in e.message, e
    if has(fx, F.SNAPSHOTS):
        raises(errno.ENOENT, fx.p.snapshots, "no-such-vm-7x")
    raises(errno.EINVAL, fx.p.vm, "")


def test_enotsup_says_which_platform_in_a_sentence(platform):
    """Everything a platform cannot do (the clear bits' calls, and calls
    outside the table: tasks, drivers, boot disks, volume plans and lists,
    inventory, changes between snapshots taken without tracking, writing a
    VM's disk) answers ENOTSUP, if it does, with a sentence naming it."""
    fx = platform
    vm = fx.vm()
    dev = disk0(vm)
    p = fx.p
    calls = refusals(fx, FEATURES, vm)

    def untracked_changes():
        p.snapshot_create(vm["id"], "u1")
        p.snapshot_create(vm["id"], "u2")
        p.snapshot_changes(vm["id"], dev, "u1", "u2")

    calls += [
        ("wait for a task", lambda: ferry.wait_task(p, "task-1", 1000)),
        ("inject drivers", lambda: ferry.inject_driver(p, vm["disks"][0])),
        ("check boot disks", lambda: p.check_boot_disk(vm)),
        ("plan volumes", lambda: p.plan_volumes(fx.new_vm_name(), vm)),
        ("list volumes", p.volumes),
        ("list datacenters", p.datacenters),
        ("list clusters", p.clusters),
        ("list hosts", p.hosts),
        ("list VLANs", p.vlans),
        ("changes between snapshots taken without tracking",
         untracked_changes),
        ("open a VM's disk for writing", lambda: ferry.Volume(
            p.client, fx.volume_id(vm, dev), writable=True).close()),
    ]
    seen = []
    for what, fn in calls:
        err, _ = outcome(fn)
        if err is not None and err.errno == errno.ENOTSUP:
            seen.append((what, err))
    bad = []
    for what, err in seen:
        try:
            assert_enotsup(err, fx.name, what)
        except AssertionError as e:
            bad.append(str(e))
    assert not bad, "\n".join(bad)


def test_snapshot_parent_and_current(platform):
    fx = platform
    if not has(fx, F.SNAPSHOTS):  # its refusal: test_features_tell_the_truth
        return
    vm = fx.vm()
    p, v = fx.p, vm["id"]
    cur = lambda: p.current_snapshot(v)  # noqa: E731
    parents = lambda: {s["name"]: s["parent"]  # noqa: E731
                       for s in p.snapshots(v)}
    assert (p.snapshots(v), cur()) == ([], None)

    assert p.snapshot_create(v, "s1")["parent"] is None
    assert cur() == "s1"
    assert p.snapshot_create(v, "s2")["parent"] == "s1"
    assert cur() == "s2"
    p.snapshot_revert(v, "s1", force=True)
    assert cur() == "s1", "a revert makes its snapshot current"
    assert p.snapshot_create(v, "s3")["parent"] == "s1", (
        "a snapshot after a revert is a child of the reverted-to one")
    assert cur() == "s3"
    assert names(fx, vm) == ["s1", "s2", "s3"], "not in creation order"
    assert p.snapshot(v, "s3") == p.snapshots(v)[2]
    assert parents() == {"s1": None, "s2": "s1", "s3": "s1"}

    p.snapshot_delete(v, "s3")
    assert cur() == "s1", "deleting the current one makes its parent current"
    assert parents() == {"s1": None, "s2": "s1"}
    p.snapshot_create(v, "s4")
    p.snapshot_delete(v, "s1")
    assert parents() == {"s2": None, "s4": None}, (
        "deleting a parent hands its children to its own parent")
    assert cur() == "s4"
    raises(errno.ENOENT, p.snapshot_delete, v, "s1")
    raises(errno.ENOENT, p.snapshot, v, "s1")
    p.snapshot_delete(v, "s4")
    assert cur() is None, "the current one deleted, with no parent: none"
    p.snapshot_delete(v, "s2")
    assert (p.snapshots(v), cur()) == ([], None)


def test_taken_names_are_refused_with_eexist(platform):
    """Every create a platform does (not ENOTSUP) refuses a name in use
    with EEXIST and changes nothing."""
    fx = platform
    vm = fx.vm()
    p, v = fx.p, vm["id"]

    if has(fx, F.SNAPSHOTS):
        p.snapshot_create(v, "dup", description="first")
        before = p.snapshots(v)
        e = raises(errno.EEXIST, p.snapshot_create, v, "dup")
        assert "dup" in e.message, e
        assert p.snapshots(v) == before, ("a refused snapshot changed the "
                                          "records")

    ids = sorted(x["id"] for x in p.vms())
    err, _ = outcome(p.create_vm, vm["name"], memory_mib=64, disks=["8M"])
    assert err is not None, f"a second VM named {vm['name']!r} was made"
    if err.errno == errno.ENOTSUP:
        assert_enotsup(err, fx.name, "create a VM")
    else:
        assert err.errno == errno.EEXIST, err
        assert sorted(x["id"] for x in p.vms()) == ids

    vid = fx.new_volume_id()
    err, _ = outcome(ferry.create_volume, p, {"volume_id": vid,
                                              "capacity": 4 * MiB})
    if err is not None:
        assert_enotsup(err, fx.name, "create a volume")
    else:
        for taken in (vid, vm["disks"][0]["volume_id"]):
            err, _ = outcome(ferry.create_volume, p, {"volume_id": taken,
                                                      "capacity": 4 * MiB})
            assert err is not None, f"volume {taken!r} was made twice"
            assert err.errno == errno.EEXIST, (
                f"creating volume {taken!r}, which exists: want EEXIST, got "
                f"{errno.errorcode.get(err.errno, err.errno)}: {err}")

    err, ids = outcome(p.plan_volumes, vm["name"], vm)
    if err is None:
        pytest.fail(f"plan_volumes for the disks of {vm['name']!r}, whose "
                    f"volumes exist, planned {ids}")
    if err.errno == errno.ENOTSUP:
        assert_enotsup(err, fx.name, "plan volumes")
    else:
        assert err.errno == errno.EEXIST, err


def test_changed_areas_between_snapshots(platform):
    fx = platform
    vm = fx.running_vm()
    p, v = fx.p, vm["id"]
    dev, cap, g = disk0(vm), vm["disks"][0]["capacity"], fx.granularity
    if not has(fx, F.CHANGED_BLOCKS):  # a full copy each round instead
        if has(fx, F.CHECKPOINT_ROUNDS):  # or its own, for rounds only
            p.open_cbt(v)
        else:
            assert_enotsup(raises(errno.ENOTSUP, p.open_cbt, v), fx.name,
                           "open_cbt")
        if not has(fx, F.SNAPSHOTS):
            return
        p.snapshot_create(v, "t1", **fx.tracked)
        p.snapshot_create(v, "t2", **fx.tracked)
        assert_enotsup(raises(errno.ENOTSUP, p.snapshot_changes, v, dev, "t1",
                              "t2"), fx.name, "snapshot changes")
        return
    p.open_cbt(v)

    before = [(1 * MiB, 1 * MiB + 64 * KiB)]
    fx.write(vm, dev, 1 * MiB, 64 * KiB, 0x11)
    p.snapshot_create(v, "t1", **fx.tracked)
    between = [(3 * MiB + 4 * KiB, 3 * MiB + 12 * KiB),   # inside a granule
               (6 * MiB - 512, 6 * MiB + 512)]            # across two
    fx.write(vm, dev, 3 * MiB + 4 * KiB, 8 * KiB, 0x22)
    fx.write(vm, dev, 6 * MiB - 512, 1024, 0x33)
    p.snapshot_create(v, "t2", **fx.tracked)
    p.snapshot_create(v, "t3", **fx.tracked)  # nothing written since t2

    ch = p.snapshot_changes(v, dev, "t1", "t2")
    assert (ch["from_snapshot"], ch["to_snapshot"]) == ("t1", "t2"), ch
    assert_changes(areas_of(ch), between, g, cap, "changes t1..t2")
    assert areas_of(p.snapshot_changes(v, dev, "t2", "t3")) == [], (
        "nothing was written between t2 and t3")
    assert_changes(areas_of(p.snapshot_changes(v, dev, "t1", "t3")),
                   between, g, cap, "changes t1..t3")
    every = areas_of(p.snapshot_changes(v, dev, "*", "t1"))
    assert_changes(every, before, g, cap,
                   "every allocated area at t1 of a fresh disk")
    for other in vm["disks"][1:]:
        assert areas_of(p.snapshot_changes(v, other["device"], "t1",
                                           "t2")) == [], (
            f"disk {other['device']} was not written")
    raises(errno.ENOENT, p.snapshot_changes, v, dev, "t1", "no-such-snap")
