"""ferry.Platform and the platform functions against the qemu platform:
real qemu-system-x86_64 under TCG in a temporary state directory (the VMs
sit in SeaBIOS: there is no guest OS). Every test stops every VM it
started, also when it fails (the `platform` fixture)."""
import ctypes
import errno
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import ferry
from ferry import _capi, platform as fplatform
from pyferry_util import MiB, MemDisk

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("FERRY_BUILD") or os.path.join(ROOT, "build")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}")
MAC = re.compile(r"52:54:00(:[0-9a-f]{2}){3}")

needs_qemu = pytest.mark.skipif(
    not (shutil.which("qemu-system-x86_64") and shutil.which("qemu-img")),
    reason="needs qemu-system-x86_64 and qemu-img")


def kill_leftover_qemus(state):
    """SIGKILLs the qemu of every <state>/run/*/qemu.pid still alive (a
    pid whose command line does not name the state directory is another
    program's). Returns the pids killed."""
    killed = []
    run = state / "run"
    for pidfile in run.glob("*/qemu.pid") if run.is_dir() else ():
        try:
            pid = int(pidfile.read_text().split()[0])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if os.fsencode(state) not in f.read():
                    continue
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue
        killed.append(pid)
    deadline = time.monotonic() + 5
    for pid in killed:  # not our children: wait for /proc to let go
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().split(b") ")[-1][:1] == b"Z":
                    break
            time.sleep(0.02)
    return killed


@pytest.fixture
def state():
    """A short state directory: a VM's monitor sockets live at
    <state>/run/<uuid>/qmp-status.sock, and a unix socket path has at most
    107 bytes, which pytest's tmp_path is too long for."""
    top = tempfile.mkdtemp(prefix="ferry-py-", dir="/tmp")
    try:
        yield pathlib.Path(top) / "state"
    finally:
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture
def platform(state):
    """A qemu platform in a fresh state directory. Teardown: stop_vm(force)
    for every VM, then SIGKILL whatever qemu is still alive."""
    p = ferry.Platform(str(state))
    try:
        yield p
    finally:
        try:
            if not p.closed:
                for vm in p.vms():
                    try:
                        p.stop_vm(vm["id"], force=True)
                    except ferry.Error:
                        pass
        finally:
            p.close()
            kill_leftover_qemus(state)


def vm_state(p, name):
    return p.vm(name)["power_state"]


def raises(errno_, message, fn, *args, **kwargs):
    """fn(...) must raise ferry.Error with this errno and C message."""
    with pytest.raises(ferry.Error) as e:
        fn(*args, **kwargs)
    assert (e.value.errno, e.value.message) == (errno_, message)
    assert str(e.value) == f"[Errno {errno_}] {message}"
    return e.value


# ---- declarations and pure Python parts ----

def test_ctypes_mirrors_match_platform_h(tmp_path):
    """The mirrored structs of platform.h, drivers.h and migrate.h, the
    flags, the features and the power states."""
    structs = {"ferry_vm_filter": _capi.VmFilterT,
               "ferry_snapshot_spec": _capi.SnapshotSpecT,
               "ferry_migrate_spec": _capi.MigrateSpecT,
               "ferry_migrate_auth": _capi.MigrateAuthT,
               "ferry_cutover_opts": _capi.CutoverOptsT,
               "ferry_convert_opts": _capi.ConvertOptsT,
               "ferry_auth": _capi.AuthT,
               "ferry_driver_option": _capi.DriverOptionT,
               "ferry_driver_info": _capi.DriverInfoT}
    consts = {"FERRY_SNAPSHOT_MEMORY": ferry.SNAPSHOT_MEMORY,
              "FERRY_SNAPSHOT_EXTERNAL": ferry.SNAPSHOT_EXTERNAL,
              "FERRY_REVERT_FORCE": ferry.REVERT_FORCE,
              "FERRY_STOP_FORCE": ferry.STOP_FORCE,
              "FERRY_POWER_STATE_COUNT": len(ferry.POWER_STATES)}
    for i, name in enumerate(ferry.POWER_STATES):
        consts[f"FERRY_POWER_STATE_{name.upper()}"] = i
    for feature in ferry.Feature:
        consts[f"FERRY_FEATURE_{feature.name}"] = feature
        assert getattr(ferry, f"FEATURE_{feature.name}") is feature
    with open(os.path.join(ROOT, "include", "ferry", "drivers.h")) as f:
        declared = re.findall(r"\bFERRY_FEATURE_(\w+) =", f.read())
    assert declared == [f.name for f in ferry.Feature]  # none left out
    lines = ["#include <stddef.h>", "#include <stdio.h>",
             "#include <ferry/platform.h>", "#include <ferry/migrate.h>",
             "int main(void) {"]
    for tag, struct in structs.items():
        lines.append(f'printf("{tag} %zu\\n", sizeof(struct {tag}));')
        for name, _ in struct._fields_:
            lines.append(f'printf("{tag}.{name} %zu %zu\\n", '
                         f'offsetof(struct {tag}, {name}), '
                         f'sizeof(((struct {tag} *)0)->{name}));')
    for name in consts:
        lines.append(f'printf("{name} %d\\n", (int){name});')
    lines.append("return 0; }")
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text("\n".join(lines))
    subprocess.run([os.environ.get("CC", "cc"), "-std=gnu11",
                    "-I", os.path.join(ROOT, "include"),
                    "-I", os.path.join(BUILD, "lib", "types", "include"),
                    "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True,
                         text=True).stdout
    c = dict(line.split(" ", 1) for line in out.splitlines())
    py = {}
    for tag, struct in structs.items():
        py[tag] = str(ctypes.sizeof(struct))
        for name, _ in struct._fields_:
            field = getattr(struct, name)
            py[f"{tag}.{name}"] = f"{field.offset} {field.size}"
    py.update({name: str(int(v)) for name, v in consts.items()})
    assert py == c
    name_of = _capi.lib.ferry_power_state_name
    name_of.restype, name_of.argtypes = ctypes.c_char_p, [ctypes.c_int]
    assert tuple(name_of(i).decode() for i in range(5)) == ferry.POWER_STATES


def test_parse_size():
    assert fplatform.parse_size("16M") == 16 * MiB
    assert fplatform.parse_size("16MiB") == 16 * MiB
    assert fplatform.parse_size("1g") == 1 << 30
    assert fplatform.parse_size(" 4k ") == 4096
    assert fplatform.parse_size("512") == 512
    assert fplatform.parse_size("512B") == 512
    assert fplatform.parse_size(4096) == 4096
    assert fplatform.parse_size("disk.img") is None
    assert fplatform.parse_size("16X") is None
    with pytest.raises(ValueError):
        fplatform.parse_size(-1)
    with pytest.raises(TypeError):
        fplatform.parse_size(True)


def test_snapshot_tree_of_records():
    recs = [{"name": "a", "parent": None}, {"name": "b", "parent": "a"},
            {"name": "c", "parent": "a"}, {"name": "d", "parent": "c"},
            {"name": "e", "parent": "gone"}, {"name": "x", "parent": "y"},
            {"name": "y", "parent": "x"}]
    tree = fplatform.snapshot_tree_of(recs)
    assert tree == {"a": {"b": {}, "c": {"d": {}}}, "e": {}, "x": {},
                    "y": {}}
    assert list(tree) == ["a", "e", "x", "y"]  # the records' order
    assert fplatform.snapshot_tree_of([]) == {}


def test_platform_arguments_and_closed(state, tmp_path):
    raises(errno.EINVAL, "qemu client 'rel/dir': the state directory must "
           "be an absolute path", ferry.Platform, "rel/dir")
    raises(errno.EINVAL, "qemu client 'local://rel': a local URI names a "
           "state directory: local:///PATH", ferry.Platform, "local://rel")
    deep = tmp_path / ("d" * 40)
    with pytest.raises(ferry.Error) as e:
        ferry.Platform(str(deep))
    assert e.value.errno == errno.ENAMETOOLONG
    assert "at most 50 (unix socket paths are limited to 108 bytes)" in \
        e.value.message
    with ferry.Platform(f"local://{state}") as p:
        assert p.vms() == [] and p.volumes() == []
        assert not state.exists(), "reads made the state directory"
        with pytest.raises(ValueError, match="unknown power state"):
            p.vms(state="asleep")
        with pytest.raises(ValueError, match="from 0 to 4"):
            p.vms(state=5)
    assert p.closed and "closed" in repr(p)
    with pytest.raises(ValueError, match="closed"):
        p.vms()


def test_free_functions_and_clients(state, tmp_path):
    """The C-named functions take a client from create_client; the file
    and callback clients are no platforms."""
    client = ferry.create_client(ferry.CLIENT_QEMU, None, None,
                                 str(state), None, None, None)
    try:
        assert ferry.vms(client) == []
        assert ferry.datacenters(client) == [{"id": "local",
                                              "name": "local"}]
        assert ferry.get_cluster(client, "local")["datacenter_id"] == "local"
        assert ferry.query_cluster_vm_summary(client) == {
            "total": 0, "running": 0, "stopped": 0, "paused": 0, "vcpus": 0,
            "memory_mib": 0}
        with ferry.Platform(client) as p:  # used, not owned
            assert p.hosts() == ferry.hosts(client)
        assert not client.closed
    finally:
        ferry.destroy_client(client)
    with ferry.Client.file(tmp_path) as files:
        raises(errno.ENOTSUP, "list VMs: a file client is a data path, not "
               "a platform", ferry.vms, files)
    with ferry.CallbackClient(MemDisk()) as cb:
        raises(errno.EINVAL, "list VMs: the client was not made by "
               "create_client", ferry.vms, cb)
    with pytest.raises(TypeError, match="ferry.Client"):
        ferry.vms("local:///x")


# ---- the qemu platform ----

@needs_qemu
def test_create_vm_fields(platform, state):
    vm = platform.create_vm("web", vcpus=2, memory_mib=128,
                            disks=[16 * MiB, "16M"], nics=["default"])
    assert UUID.fullmatch(vm["uuid"]) and vm["id"] == vm["uuid"]
    assert (vm["name"], vm["power_state"], vm["vcpus"], vm["memory_mib"],
            vm["firmware"], vm["machine"]) == ("web", "stopped", 2, 128,
                                               "bios", "q35")
    assert (vm["host_id"], vm["cluster_id"], vm["datacenter_id"]) == \
        ("local", "local", "local")
    assert [(d["device"], d["volume_id"], d["capacity"], d["format"],
             d["bus"], d["boot_order"]) for d in vm["disks"]] == [
        ("vda", "web-vda.qcow2", 16 * MiB, "qcow2", "virtio", 1),
        ("vdb", "web-vdb.qcow2", 16 * MiB, "qcow2", "virtio", 0)]
    [nic] = vm["nics"]
    assert MAC.fullmatch(nic["mac"]), nic["mac"]
    assert (nic["network"], nic["model"]) == ("default", "virtio-net-pci")
    # What the platform stored is what create_vm returned, by any name.
    assert platform.vm("web") == vm
    assert platform.vm(vm["uuid"]) == vm
    assert platform.vms() == [vm]
    assert ferry.get_vm(platform, vm) == vm  # a VM dict names its VM
    vols = {v["id"]: v for v in platform.volumes()}
    assert sorted(vols) == ["web-vda.qcow2", "web-vdb.qcow2"]
    assert vols["web-vda.qcow2"]["capacity"] == 16 * MiB
    assert vols["web-vda.qcow2"]["format"] == "qcow2"
    assert vols["web-vda.qcow2"]["path"] == str(state / "volumes" /
                                                "web-vda.qcow2")
    raises(errno.EEXIST, "a VM named 'web' exists already",
           platform.create_vm, "web")
    raises(errno.EINVAL, "vcpus: expected an integer, got a string",
           platform.create_vm, "x", vcpus="two")
    raises(errno.ENOENT, "nic 0: no network 'lan9' on this platform",
           platform.create_vm, "x", disks=["1M"], nics=["lan9"])
    assert len(platform.volumes()) == 2  # the failed create left none
    raises(errno.ENOENT, "disk vda: volume 'nosuch.qcow2': No such file or "
           "directory", platform.create_vm, "x", disks=["nosuch.qcow2"])


@needs_qemu
def test_inventory_and_filters(platform):
    assert platform.datacenters() == [{"id": "local", "name": "local"}]
    assert platform.clusters() == [{"id": "local", "name": "local",
                                    "datacenter_id": "local"}]
    [host] = platform.hosts()
    assert (host["id"], host["cluster_id"], host["datacenter_id"],
            host["connected"]) == ("local", "local", "local", True)
    assert host["cpus"] == os.cpu_count() and host["memory_mib"] > 0
    assert platform.vlans() == [{"id": "default", "name": "default",
                                 "vlan_id": -1}]
    assert platform.datacenter("local") == platform.datacenters()[0]
    assert platform.cluster("local") == platform.clusters()[0]
    assert platform.host("local") == host
    assert platform.host(host["name"]) == host  # by name too
    raises(errno.ENOENT, "no host 'mars'", platform.host, "mars")
    raises(errno.ENOENT, "no cluster 'c9'", platform.cluster, "c9")

    platform.create_vm("app1", vcpus=2, memory_mib=64)
    platform.create_vm("app2", memory_mib=96)
    platform.create_vm("db1", vcpus=4, memory_mib=128)
    names = lambda vms: [v["name"] for v in vms]  # noqa: E731
    assert names(platform.vms()) == ["app1", "app2", "db1"]
    assert names(platform.vms(name="app*")) == ["app1", "app2"]
    assert names(platform.vms(name="*1", state="stopped")) == ["app1", "db1"]
    assert names(platform.vms(cluster="local", host="local")) == \
        ["app1", "app2", "db1"]
    assert platform.vms(cluster="elsewhere") == []
    assert platform.vms(state="running") == []
    assert names(ferry.get_vms(platform, power_state=0)) == \
        ["app1", "app2", "db1"]
    assert platform.summary() == {"total": 3, "running": 0, "stopped": 3,
                                  "paused": 0, "vcpus": 7,
                                  "memory_mib": 288}
    assert platform.summary("elsewhere")["total"] == 0


@needs_qemu
def test_lifecycle_snapshots_and_revert(platform, state):
    vm = platform.create_vm("vm1", memory_mib=128, disks=["16M", "16M"],
                            nics=[None])
    platform.create_vm("idle", memory_mib=64)
    platform.start_vm("vm1")
    assert vm_state(platform, "vm1") == "running"
    assert [v["name"] for v in platform.vms(state="running")] == ["vm1"]
    assert platform.summary() == {"total": 2, "running": 1, "stopped": 1,
                                  "paused": 0, "vcpus": 2,
                                  "memory_mib": 192}
    raises(errno.EBUSY, "VM 'vm1' is running already", platform.start_vm,
           "vm1")
    raises(errno.EBUSY, "VM 'vm1' is running: stop it first",
           platform.delete_vm, "vm1")
    assert platform.current_snapshot("vm1") is None
    assert platform.snapshots("vm1") == [] and \
        platform.snapshot_tree("vm1") == {}

    # Snapshots of the running VM: disks only, then with its RAM. (Names
    # sort in creation order: see the test on one second below.)
    s1disk = platform.snapshot_create("vm1", "s1disk", description="before")
    assert (s1disk["name"], s1disk["description"], s1disk["memory"],
            s1disk["running"], s1disk["shutdown"], s1disk["parent"],
            s1disk["vm_uuid"], s1disk["kind"]) == \
        ("s1disk", "before", None, True, False, None, vm["uuid"], "internal")
    assert [(d["device"], d["name"]) for d in s1disk["disks"]] == \
        [("vda", "s1disk"), ("vdb", "s1disk")]
    assert abs(s1disk["creation_time"] - time.time()) < 60
    s2ram = platform.snapshot_create("vm1", "s2ram", memory=True)
    mem = state / "snapshots" / vm["uuid"] / "s2ram.mem"
    assert s2ram["memory"] == str(mem)
    assert mem.stat().st_size > 0
    assert (s2ram["parent"], s2ram["description"]) == ("s1disk", None)
    assert vm_state(platform, "vm1") == "running"  # it ran on

    recs = platform.snapshots("vm1")
    assert [(r["name"], r["parent"]) for r in recs] == \
        [("s1disk", None), ("s2ram", "s1disk")]
    assert platform.snapshot("vm1", "s2ram") == recs[1]
    assert platform.current_snapshot("vm1") == "s2ram"
    assert platform.snapshot_tree("vm1") == {"s1disk": {"s2ram": {}}}

    raises(errno.EEXIST, "VM 'vm1' has a snapshot 's1disk' already",
           platform.snapshot_create, "vm1", "s1disk")
    raises(errno.EINVAL, "snapshot name '../x' may not start with '.' or "
           "'-'", platform.snapshot_create, "vm1", "../x")
    raises(errno.EINVAL, "snapshot name '12' is all digits: qcow2 would "
           "take it for a snapshot ID", platform.snapshot_create, "vm1", "12")
    raises(errno.EBUSY, "VM 'vm1' is running or paused: stop it first, or "
           "force the revert (its current state is lost)",
           platform.snapshot_revert, "vm1", "s1disk")
    raises(errno.ENOENT, "VM 'vm1' has no snapshot 'nope'",
           platform.snapshot, "vm1", "nope")
    assert [r["name"] for r in platform.snapshots("vm1")] == \
        ["s1disk", "s2ram"]  # the failures left nothing behind

    # Off, then back to the RAM snapshot: running again.
    platform.stop_vm("vm1", force=True)
    assert vm_state(platform, "vm1") == "stopped"
    platform.snapshot_revert("vm1", "s2ram")
    assert vm_state(platform, "vm1") == "running"
    assert platform.current_snapshot("vm1") == "s2ram"
    # A disk-only one, forced over the running VM: it stays off.
    platform.snapshot_revert("vm1", "s1disk", force=True)
    assert vm_state(platform, "vm1") == "stopped"
    assert platform.current_snapshot("vm1") == "s1disk"
    raises(errno.EINVAL, "VM 'vm1' is stopped: it has no RAM to save",
           platform.snapshot_create, "vm1", "s4ram", memory=True)

    # A snapshot of the stopped VM holds what its disk held.
    with ferry.Volume(platform.client, "vm1-vdb.qcow2", writable=True) as v:
        v.pwrite(b"kept" * 128, 4096)
    s3off = platform.snapshot_create("vm1", "s3off")
    assert (s3off["running"], s3off["shutdown"], s3off["parent"]) == \
        (False, True, "s1disk")
    with ferry.Volume(platform.client, "vm1-vdb.qcow2", writable=True) as v:
        v.pwrite(b"lost" * 128, 4096)
    platform.snapshot_revert("vm1", "s3off")
    assert vm_state(platform, "vm1") == "stopped"
    with ferry.Volume(platform.client, "vm1-vdb.qcow2") as v:
        assert v.pread(512, 4096) == b"kept" * 128
    assert platform.snapshot_tree("vm1") == {"s1disk": {"s2ram": {},
                                                       "s3off": {}}}

    # Deleting a parent hands its children to its own parent.
    platform.snapshot_delete("vm1", "s1disk")
    assert [(r["name"], r["parent"]) for r in platform.snapshots("vm1")] == \
        [("s2ram", None), ("s3off", None)]
    assert platform.snapshot_tree("vm1") == {"s2ram": {}, "s3off": {}}
    assert platform.current_snapshot("vm1") == "s3off"
    platform.snapshot_delete("vm1", "s2ram")
    assert not mem.exists()
    raises(errno.ENOENT, "VM 'vm1' has no snapshot 's2ram'", platform.snapshot_delete,
           "vm1", "s2ram")
    platform.snapshot_delete("vm1", "s3off")
    assert platform.snapshots("vm1") == []
    assert platform.current_snapshot("vm1") is None

    platform.delete_vm("vm1")
    assert [v["name"] for v in platform.vms()] == ["idle"]

    # A graceful stop: SeaBIOS has no ACPI to hear it, so after the
    # timeout the VM is powered off.
    platform.start_vm("idle")
    assert vm_state(platform, "idle") == "running"
    platform.stop_vm("idle", timeout=1)
    assert vm_state(platform, "idle") == "stopped"
    platform.stop_vm("idle")  # stopped already: nothing to do
    assert sorted(v["id"] for v in platform.volumes()) == \
        ["vm1-vda.qcow2", "vm1-vdb.qcow2"]  # volumes outlive their VM


@needs_qemu
def test_unknown_vm(platform):
    msg = "no VM 'ghost' on the qemu platform"
    for fn, args in [(platform.vm, ()), (platform.start_vm, ()),
                     (platform.stop_vm, ()), (platform.delete_vm, ()),
                     (platform.snapshots, ()),
                     (platform.current_snapshot, ()),
                     (platform.snapshot_create, ("s",)),
                     (platform.snapshot_revert, ("s",))]:
        err = raises(errno.ENOENT, msg, fn, "ghost", *args)
        assert isinstance(err, OSError)
    raises(errno.EINVAL, "no VM given", platform.vm, "")


@needs_qemu
def test_volumes(platform, state):
    data = platform.create_volume("data.qcow2", "16M")
    assert data == {"id": "data.qcow2", "name": "data.qcow2",
                    "path": str(state / "volumes" / "data.qcow2"),
                    "format": "qcow2", "capacity": 16 * MiB,
                    "allocated": data["allocated"]}
    assert 0 < data["allocated"] < MiB
    raw = platform.create_volume("scratch.raw", MiB, format="raw")
    assert (raw["format"], raw["capacity"]) == ("raw", MiB)
    assert os.path.getsize(state / "volumes" / "scratch.raw") == MiB
    assert sorted(v["id"] for v in platform.volumes()) == \
        ["data.qcow2", "scratch.raw"]
    raises(errno.EEXIST, "volume 'data.qcow2' exists already",
           platform.create_volume, "data.qcow2", "1M")
    raises(errno.EINVAL, "volume 'odd.qcow2': capacity 1000 is not a positive "
           "multiple of 512", platform.create_volume, "odd.qcow2", 1000)
    raises(errno.EINVAL, "volume 'v.qcow2': the name says qcow2 but the "
           "format asked is vmdk", platform.create_volume, "v.qcow2", "1M",
           format="vmdk")
    raises(errno.EINVAL, "volume id 'v' must end in .qcow2 or .raw (its "
           "format)", platform.create_volume, "v", "1M")
    raises(errno.EINVAL, "volume id '../x' may not start with '.' or '-'",
           platform.create_volume, "../x", "1M")

    vm = platform.create_vm("user", memory_mib=64, disks=["data.qcow2"])
    assert [(d["volume_id"], d["capacity"], d["format"], d["boot_order"])
            for d in vm["disks"]] == [("data.qcow2", 16 * MiB, "qcow2", 1)]
    raises(errno.EBUSY, "volume 'data.qcow2' is disk vda of VM 'user'",
           platform.delete_volume, "data.qcow2")
    platform.delete_vm("user")
    platform.delete_volume("data.qcow2")
    platform.delete_volume("scratch.raw")
    assert platform.volumes() == []
    assert os.listdir(state / "volumes") == []
    with pytest.raises(ferry.Error) as e:
        platform.delete_volume("data.qcow2")
    assert e.value.errno == errno.ENOENT and "data.qcow2" in e.value.message


@needs_qemu
def test_check_boot_disk(platform, state):
    blank = platform.create_vm("blank", memory_mib=64, disks=["1M"])
    raises(errno.ENOEXEC, "no disk the VM could boot from (any firmware): "
           "disk vda: blank", platform.check_boot_disk, blank)
    raises(errno.EINVAL, "no disks to boot from", platform.check_boot_disk,
           [])

    def raw_disk(name, parts):
        platform.create_volume(name, MiB, format="raw")
        with open(state / "volumes" / name, "r+b") as f:
            for off, data in parts:
                f.seek(off)
                f.write(data)
    # the signature alone is no boot loader; boot code and an active
    # partition make one
    raw_disk("sig.raw", [(510, b"\x55\xaa")])
    entry = bytes([0x80, 0, 0, 0, 0x83, 0, 0, 0, 0, 8]) + bytes(6)
    raw_disk("boot.raw", [(0, b"\xeb\x63\x90"), (446, entry),
                          (510, b"\x55\xaa")])
    vm = platform.create_vm("bootable", memory_mib=64, disks=[
        {"volume_id": "sig.raw", "boot_order": 1},
        {"volume_id": "boot.raw", "boot_order": 2}])
    assert [(d["device"], d["volume_id"], d["format"], d["boot_order"])
            for d in vm["disks"]] == [
        ("vda", "sig.raw", "raw", 1), ("vdb", "boot.raw", "raw", 2)]
    # first in boot order, but not bootable: the next one is chosen
    boot = platform.check_boot_disk(vm)
    assert boot == vm["disks"][1]
    assert ferry.check_boot_disk(platform, vm["disks"]) == boot
    raises(errno.ENOEXEC, "no disk the VM could boot from (any firmware): "
           "disk vda: an MBR with no partitions",
           platform.check_boot_disk, vm["disks"][:1])
    raises(errno.EINVAL, "[1].capacity: expected an unsigned integer, got "
           "-1", platform.check_boot_disk, [{}, {"capacity": -1}])
    # for the VM's firmware: an MBR disk does not boot a UEFI VM
    assert platform.check_vm_boot("bootable") == boot
    uefi = platform.create_vm("uefi", memory_mib=64, firmware="uefi",
                              disks=[{"volume_id": "boot.raw"}])
    raises(errno.ENOEXEC, "no disk the VM could boot from (UEFI): disk vda: "
           "MBR boot code with an active partition: it boots BIOS, not UEFI "
           "(make the VM's firmware bios, or give the disk an EFI System "
           "Partition)", platform.check_vm_boot, uefi["name"])


def test_convert_vm_refusals(platform):
    """convert_vm's arguments reach the C library (the conversion itself,
    on the real guest, is in tests/integration/test_guest_boot.py): a bus
    but virtio is refused before anything, and a VM whose disk holds no
    boot loader says so."""
    platform.create_vm("blank", memory_mib=64, disks=["1M"])
    raises(errno.EINVAL, "bus 'ide': ferry converts guests for virtio",
           platform.convert_vm, "blank", bus="ide")
    raises(errno.ENOEXEC, "no disk the VM could boot from (BIOS): disk vda: "
           "blank", ferry.convert_vm, platform, "blank", bus="virtio",
           remove_vmware_tools=True)
    assert platform.vm("blank")["disks"][0]["bus"] == "virtio"


# ---- C bugs these tests found, fixed since ----

@needs_qemu
def test_snapshots_of_one_second_in_creation_order(platform):
    platform.create_vm("v", memory_mib=64, disks=["1M"])
    for attempt in range(5):  # two snapshots within one second
        first, second = f"z{attempt}", f"a{attempt}"
        t1 = platform.snapshot_create("v", first)["creation_time"]
        t2 = platform.snapshot_create("v", second)["creation_time"]
        if t1 == t2:
            break
    else:
        pytest.skip("could not take two snapshots within one second")
    names = [r["name"] for r in platform.snapshots("v")]
    assert platform.snapshot("v", second)["parent"] == first
    assert names.index(first) < names.index(second), names


@needs_qemu
def test_raw_volume_stays_raw(platform, state, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_bytes(b"host data, not the guest's".ljust(MiB, b"\0"))
    platform.create_volume("guest.raw", MiB, format="raw")
    # What a guest can write to its raw disk: a qcow2 header naming a
    # backing file on the host.
    evil = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                    "-b", str(secret), str(evil), str(MiB)], check=True)
    header = evil.read_bytes()[:4096]
    with open(state / "volumes" / "guest.raw", "r+b") as f:
        f.write(header)
    [vol] = platform.volumes()
    vm = platform.create_vm("v", memory_mib=64, disks=["guest.raw"])
    with ferry.Volume(platform.client, "guest.raw") as v:
        first = v.pread(4096)
    assert not first.startswith(b"host data")  # no host file leaks
    assert (vol["format"], vm["disks"][0]["format"]) == ("raw", "raw")
    assert first == header


@needs_qemu
def test_changed_areas_between_external_snapshots(platform):
    """Every external snapshot starts a dirty bitmap: what is written
    between two of them (here through ferry.Volume, i.e. qemu-nbd) is
    exactly what snapshot_changes reports, in 64 KiB granules."""
    platform.create_vm("cbt", memory_mib=64, disks=["4M"])
    platform.snapshot_create("cbt", "a", external=True)
    vol = platform.vm("cbt")["disks"][0]["volume_id"]
    with ferry.Volume(platform.client, vol, writable=True) as v:
        v.pwrite(b"\x5a" * 4096, 2 * MiB + 4096)  # one granule dirty
    platform.snapshot_create("cbt", "b", external=True)
    ch = platform.snapshot_changes("cbt", "vda", "a", "b")
    assert (ch["disk_id"], ch["from_snapshot"], ch["to_snapshot"]) == \
        ("vda", "a", "b")
    assert ch["areas"] == [{"start": 2 * MiB, "length": 64 * 1024}]
    # every allocated area of b's data: the write, within its cluster
    # (finer than a granule where the rest of the cluster reads as zeros)
    [area] = platform.snapshot_changes("cbt", "vda", "*", "b")["areas"]
    assert area["start"] <= 2 * MiB + 4096
    assert area["start"] + area["length"] >= 2 * MiB + 8192
    assert 2 * MiB <= area["start"]
    assert area["start"] + area["length"] <= 2 * MiB + 64 * 1024
    raises(errno.EINVAL, "snapshot 'b' is not an ancestor of 'a'",
           platform.snapshot_changes, "cbt", "vda", "b", "a")
