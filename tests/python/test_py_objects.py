"""The object layer: ferry.VM and ferry.Snapshot from Platform.lookup_vm
and Platform.list_vms, against the qemu platform as in test_py_platform
(real qemu-system-x86_64 under TCG, no guest OS; the `platform` fixture
stops every VM a test started, also when it fails)."""
import errno

import pytest

import ferry
from pyferry_util import MiB
# the fixtures and helpers of the platform tests
from test_py_platform import (needs_qemu, platform, raises,  # noqa: F401
                              state)

pytestmark = needs_qemu

# pylint: disable=redefined-outer-name  # pytest fixtures


def names(objects):
    return [o.name for o in objects]


def fails(errno_, fragment, fn, *args):
    """fn(*args) must raise ferry.Error with this errno, its message
    holding fragment."""
    with pytest.raises(ferry.Error) as e:
        fn(*args)
    assert e.value.errno == errno_ and fragment in e.value.message, e.value


def test_lookup_by_name_and_uuid(platform):
    record = platform.create_vm("web", memory_mib=64, disks=["1M"])
    vm = platform.lookup_vm("web")
    assert isinstance(vm, ferry.VM) and vm.platform is platform
    assert (vm.name, vm.uuid, vm.id) == ("web", record["uuid"], record["id"])
    assert vm.info == record == platform.vm("web")
    assert vm.power_state == "stopped"
    by_uuid = platform.lookup_vm(record["uuid"])
    assert by_uuid == vm and hash(by_uuid) == hash(vm)
    assert by_uuid is not vm  # a new object naming the same VM
    assert repr(vm) == f"<ferry.VM 'web' {record['id']}>"
    # the flat functions take a VM object wherever they take a VM
    assert ferry.get_vm(platform, vm) == record
    assert platform.snapshots(vm) == []


def test_unknown_vm(platform):
    raises(errno.ENOENT, "no VM 'ghost' on the qemu platform",
           platform.lookup_vm, "ghost")
    raises(errno.EINVAL, "no VM given", platform.lookup_vm, "")


def test_list_vms_filters(platform):
    platform.create_vm("app1", vcpus=2, memory_mib=64)
    platform.create_vm("app2", memory_mib=64)
    platform.create_vm("db1", memory_mib=64)
    every = platform.list_vms()
    assert names(every) == ["app1", "app2", "db1"]
    assert all(isinstance(v, ferry.VM) for v in every)
    assert every == [platform.lookup_vm(n) for n in ("app1", "app2", "db1")]
    assert names(platform.list_vms(name="app*")) == ["app1", "app2"]
    assert names(platform.list_vms(name="*1", state="stopped")) == \
        ["app1", "db1"]
    assert names(platform.list_vms(host="local", cluster="local")) == \
        names(every)
    assert platform.list_vms(cluster="elsewhere") == []
    assert platform.list_vms(state="running") == []
    with pytest.raises(ValueError, match="unknown power state"):
        platform.list_vms(state="asleep")


def test_start_and_stop(platform):
    platform.create_vm("vm1", memory_mib=64, disks=["1M"])
    vm = platform.lookup_vm("vm1")
    vm.start()
    assert vm.info["power_state"] == "running"
    assert platform.list_vms(state="running") == [vm]
    raises(errno.EBUSY, "VM 'vm1' is running already", vm.start)
    vm.stop(force=True)
    assert vm.info["power_state"] == "stopped"
    # graceful: SeaBIOS does not hear ACPI, so it is powered off after 1 s
    vm.start()
    vm.stop(timeout=1)
    assert vm.power_state == "stopped"
    vm.stop()  # stopped already: nothing to do


def test_snapshots_through_objects(platform):
    platform.create_vm("vm1", memory_mib=64, disks=["1M"])
    vm = platform.lookup_vm("vm1")
    assert vm.snapshots() == [] and vm.current_snapshot() is None
    assert vm.snapshot_tree() == {}
    vm.start()
    first = vm.create_snapshot("first", description="before")
    assert isinstance(first, ferry.Snapshot) and first.vm is vm
    assert (first.name, first.parent) == ("first", None)  # a root
    rec = first.record
    assert (rec["description"], rec["memory"], rec["parent"],
            rec["running"], rec["vm_uuid"]) == \
        ("before", None, None, True, vm.uuid)
    ram = vm.create_snapshot("ram", memory=True)
    assert ram.parent == "first" and ram.record["memory"]
    assert ram.record["description"] is None
    assert names(vm.snapshots()) == ["first", "ram"]
    assert vm.snapshots() == [first, ram]
    assert vm.current_snapshot() == ram
    assert vm.snapshot("first").record == platform.snapshot("vm1", "first")
    assert vm.snapshot_tree() == {"first": {"ram": {}}}
    assert repr(ram) == "<ferry.Snapshot 'ram' of 'vm1'>"
    raises(errno.EEXIST, "VM 'vm1' has a snapshot 'first' already",
           vm.create_snapshot, "first")
    # (the message names the VM by its name or by the id the VM object
    # called it by, depending on the call)
    fails(errno.ENOENT, "has no snapshot 'nope'", vm.snapshot, "nope")

    raises(errno.EBUSY, "VM 'vm1' is running or paused: stop it first, or "
           "force the revert (its current state is lost)", first.revert)
    first.revert(force=True)  # disk only: the VM stays off
    assert vm.power_state == "stopped"
    assert vm.current_snapshot() == first
    ram.revert()  # with its RAM: running again
    assert vm.power_state == "running"
    assert vm.current_snapshot() == ram

    first.delete()  # its child gets its parent: none
    assert vm.snapshot("ram").parent is None
    assert ram.parent == "first"  # a record is as it was fetched
    ram.delete()
    assert vm.snapshots() == [] and vm.current_snapshot() is None
    fails(errno.ENOENT, "has no snapshot 'ram'", ram.delete)


def test_changes_between_external_snapshots(platform):
    platform.create_vm("cbt", memory_mib=64, disks=["4M"])
    vm = platform.lookup_vm("cbt")
    a = vm.create_snapshot("a", external=True)
    disk = vm.info["disks"][0]
    with ferry.Volume(platform.client, disk["volume_id"], writable=True) as v:
        v.pwrite(b"\x5a" * 4096, 2 * MiB + 4096)  # one 64 KiB granule
    b = vm.create_snapshot("b", external=True)
    assert b.parent == "a" and b.record["kind"] == "external"
    changed = vm.changes("vda", a, b)
    assert changed == platform.snapshot_changes("cbt", "vda", "a", "b")
    assert changed["areas"] == [{"start": 2 * MiB, "length": 64 * 1024}]
    assert vm.changes("vda", "a", "b") == changed  # names do as well
    assert vm.changes("vda", None, b)["areas"]  # every allocated area


def test_check_boot_and_convert(platform):
    """The refusals reach the C library (booting and converting a real
    guest are tests/integration's)."""
    platform.create_vm("blank", memory_mib=64, disks=["1M"])
    vm = platform.lookup_vm("blank")
    raises(errno.ENOEXEC, "no disk the VM could boot from (BIOS): disk vda: "
           "blank", vm.check_boot)
    raises(errno.EINVAL, "bus 'ide': ferry converts guests for virtio",
           vm.convert, bus="ide")


def test_delete_vm(platform):
    platform.create_vm("gone", memory_mib=64, disks=["1M"])
    platform.create_vm("kept", memory_mib=64)
    vm = platform.lookup_vm("gone")
    vm.create_snapshot("s")
    vm.delete()
    assert names(platform.list_vms()) == ["kept"]
    msg = f"no VM '{vm.id}' on the qemu platform"
    for fn in (lambda: vm.info, vm.start, vm.snapshots, vm.delete):
        raises(errno.ENOENT, msg, fn)
    assert vm.name == "gone"  # what it was looked up as
    assert [v["id"] for v in platform.volumes()] == ["gone-vda.qcow2"]
