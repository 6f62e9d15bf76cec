"""The contract suite's fixtures: one per driver, and nothing else per
driver anywhere in the suite.

A platform fixture (`<name>_platform`) yields an object with:
  name            the driver's name ("qemu")
  p               a ferry.Platform opened on a private instance
  vm()            a VM with at least one disk, in whatever state the
                  platform has it; running_vm() / stopped_vm() one in that
                  state. Each call gives another VM.
  write(vm, device, offset, length, pattern)
                  what a guest writing `length` bytes of `pattern` at
                  `offset` of its disk `device` does
  tracked         snapshot_create's keyword arguments for snapshots that
                  changed areas can be asked between
  granularity     the granule changed areas are reported in
  volume_id(vm, device)   the data path's volume id of a VM's disk
  new_volume_id(), new_vm_name()   names not taken yet
  make_task()     the id of a platform task that succeeds (drivers with
                  FERRY_FEATURE_TASKS)

A volume fixture (`<name>_volumes`) yields an object with:
  make(size, chunks) -> Vol   a volume of `size` bytes holding the chunks
                  [(offset, bytes)] and zeroes elsewhere
  make_read_only(size, chunks) -> Vol   the same, served read-only by the
                  backend itself (backends with read_only_form)
  cut() / live()  break every live connection of the backend's volumes now
                  / the ids of the live ones (backends that are connected)
and the capabilities the volume tests select backends by (class
attributes, read at collection): writable, connected, read_only_form,
knows_allocation.

The next driver adds a class and a fixture here, and its name to
PLATFORMS or VOLUME_BACKENDS; the suites stay as they are.
"""
import os
import re
import signal
import sys
from typing import Callable, NamedTuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..",
                                                 "python")))
sys.path.insert(0, HERE)

import ferry  # noqa: E402
import qemuhelpers  # noqa: E402
from contracthelpers import (KiB, MiB, CutProxy, TcpCutProxy,  # noqa: E402
                             image_of)
from ferryhelpers import Servers, make_sparse, read_file  # noqa: E402
from vspherehelpers import PASSWORD, Sim, guest_write, login, soap  # noqa


# --------------------------------------------------------------------------
# Platforms


def guest_image():
    """The project's test guest (tests/guest/build.sh, cached once built):
    the path of its qcow2 image, to copy."""
    import subprocess
    build = os.path.join(os.path.dirname(__file__), "..", "guest",
                         "build.sh")
    cp = subprocess.run(["bash", build, "uuid"], capture_output=True,
                        text=True, timeout=3600)
    assert cp.returncode == 0, cp.stderr[-2000:]
    return cp.stdout.split()[-1]


class ManagedPlatform:
    """What the qemu and libvirt fixtures share: VMs ferry defines, named
    NAME<n><suffix>, started through the binding."""

    suffix = ""

    def _next(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}{self.suffix}"

    def vm(self):
        return self.stopped_vm()

    def running_vm(self):
        vm = self.stopped_vm()
        self.p.start_vm(vm["id"])
        return self.p.vm(vm["id"])

    def volume_id(self, vm, device):
        vm = self.p.vm(vm["id"])
        return [d["volume_id"] for d in vm["disks"]
                if d["device"] == device][0]

    def new_vm_name(self):
        return self._next("new")

    def make_task(self):
        raise NotImplementedError(f"the {self.name} platform has no tasks")


class QemuPlatform(ManagedPlatform):
    """ferry's own qemu platform in a private state directory
    (qemuhelpers.Platform: a short path, every qemu stopped at the end).
    VMs are made through the binding; guests write through the monitor's
    qemu-io while the VM runs, with qemu-io on the disk's top image while
    it is stopped."""

    name = "qemu"
    tracked = {"external": True}  # dirty bitmaps live with overlays
    granularity = 64 * KiB        # the bitmaps' granule

    def __init__(self, tmp_path):
        self.qh = qemuhelpers.Platform(tmp_path)
        try:
            self.p = ferry.Platform(self.qh.uri)
        except BaseException:
            self.qh.close()
            raise
        self.n = 0

    def stopped_vm(self):
        name = self._next("c")
        self.p.create_vm(name, memory_mib=64, disks=["16M", "16M"])
        return self.p.vm(name)

    def guest_vm(self):
        """A stopped VM whose boot disk holds a real guest (the project's
        test guest, tests/guest/build.sh, cached once built)."""
        import shutil
        vol = self._next("g") + ".qcow2"
        vols = os.path.join(self.qh.real, "volumes")
        os.makedirs(vols, exist_ok=True)
        shutil.copyfile(guest_image(), os.path.join(vols, vol))
        name = self._next("c")
        self.p.create_vm(name, memory_mib=64,
                         disks=[{"volume_id": vol, "boot_order": 1}])
        return self.p.vm(name)

    def write(self, vm, device, offset, length, pattern):
        vm = self.p.vm(vm["id"])
        if vm["power_state"] == "running":
            sock = os.path.join(self.qh.run_dir(vm["uuid"]), "qmp.sock")
            with qemuhelpers.QMP(sock) as q:
                out = q.hmp(f'qemu-io -d {device}/virtio-backend "write -P '
                            f'{pattern:#x} {offset} {length}"')
            assert not out.strip(), f"qemu-io on {device}: {out!r}"
            return
        [disk] = [d for d in vm["disks"] if d["device"] == device]
        img = os.path.join(self.qh.real, "volumes", disk["volume_id"])
        qemuhelpers.offline_write(img, pattern, offset, length)

    def new_volume_id(self):
        return self._next("extra") + ".qcow2"

    def close(self):
        try:
            self.p.close()
        finally:
            self.qh.close()


class VmwarePlatform:
    """VMware's vSphere simulator on 127.0.0.1 (vspherehelpers.Sim, in a
    private temp dir, stopped by PID). VMs are the simulator's own, one
    per call; a guest's write is one to the disk's flat file."""

    name = "vmware"
    tracked = {}                  # CBT, once open_cbt turned it on
    granularity = 64 * KiB        # the simulator's CBT block

    def __init__(self, tmp_path):
        self.sim = Sim(tmp_path)
        try:
            self.p = ferry.Platform(self.sim.uri(), password=PASSWORD)
            self.free = [v["name"] for v in self.p.vms()]
            self.dc = self.p.datacenters()[0]["name"]
        except BaseException:
            self.sim.close()
            raise
        self.n = 0

    def _next(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def vm(self):
        assert self.free, "the simulator has no VM left for this test"
        return self.p.vm(self.free.pop(0))

    def running_vm(self):
        vm = self.vm()
        if vm["power_state"] != "running":
            self.p.start_vm(vm["id"])
        return self.p.vm(vm["id"])

    def stopped_vm(self):
        vm = self.vm()
        if vm["power_state"] != "stopped":
            self.p.stop_vm(vm["id"], force=True)
        return self.p.vm(vm["id"])

    def flat(self, vm, device):
        [disk] = [d for d in self.p.vm(vm["id"])["disks"]
                  if d["device"] == device]
        m = re.fullmatch(r"\[[^]]+\] (.+)\.vmdk", disk["volume_id"])
        return os.path.join(self.sim.datastore, m.group(1) + "-flat.vmdk")

    def write(self, vm, device, offset, length, pattern):
        guest_write(self.flat(vm, device), offset, bytes([pattern]) * length)

    def volume_id(self, vm, device):
        [disk] = [d for d in self.p.vm(vm["id"])["disks"]
                  if d["device"] == device]
        return f"{disk['volume_id']}?dc={self.dc}"

    def new_volume_id(self):
        return f"[LocalDS_0] contract/{self._next('extra')}.vmdk?dc=DC0"

    def new_vm_name(self):
        return self._next("new")

    def make_task(self):
        """A ReconfigVM_Task that changes nothing, started by hand."""
        vm = self.p.vms()[0]["id"]
        status, body, _ = soap(self.sim, "ReconfigVM_Task", "VirtualMachine",
                               vm, "<spec></spec>", cookie=login(self.sim))
        m = re.search(r'type="Task">([^<]+)<', body)
        assert status == 200 and m, body
        return m.group(1)

    def close(self):
        try:
            self.p.close()
        finally:
            self.sim.close()


class LibvirtPlatform(ManagedPlatform):
    """The session's private libvirtd (tests/conftest.py): each VM is a
    TCG domain defined here with two qcow2 v3 volumes of a pool of its
    own; guests write through the monitor's qemu-io while it runs, with
    qemu-io on the volume while it is shut off."""

    name = "libvirt"
    tracked = {}
    granularity = 64 * KiB

    serial = 0  # each fixture's names differ in the session's libvirtd

    def __init__(self, lv):
        from libvirthelpers import volume_xml
        self.lv, self.volume_xml = lv, volume_xml
        LibvirtPlatform.serial += 1
        self.suffix = f"x{LibvirtPlatform.serial}"
        self.pool = f"contract{self.suffix}"
        self.images = os.path.join(lv.dir, "images", self.pool)
        os.makedirs(self.images)
        lv.pool(self.pool, self.images)
        self.domains = []
        # its own pool for new volumes; its backups' sockets in a short dir
        self.uri = f"{lv.uri}&pool={self.pool}&backup_dir={lv.dir}/bk"
        try:
            self.p = ferry.Platform(self.uri)
        except BaseException:
            self.close()
            raise
        self.n = 0

    def stopped_vm(self):
        from libvirthelpers import domain_xml
        name = self._next("c")
        disks = []
        for dev in ("vda", "vdb"):
            vol = f"{name}-{dev}.qcow2"
            path = os.path.join(self.lv.dir, f"{vol}.xml")
            with open(path, "w") as f:
                f.write(self.volume_xml(vol, 16))
            self.lv.virsh("vol-create", self.pool, path)
            disks.append((dev, f"{self.pool}/{vol}", "qcow2"))
        self.lv.define("", domain_xml(name, disks))
        self.domains.append(name)
        return self.p.vm(name)

    def guest_vm(self):
        """A shut-off domain whose disk, a volume of the fixture's pool,
        holds the project's test guest (tests/guest/build.sh, cached)."""
        import shutil
        from libvirthelpers import domain_xml
        name = self._next("g")
        vol = f"{name}-vda.qcow2"
        shutil.copyfile(guest_image(), os.path.join(self.images, vol))
        self.lv.virsh("pool-refresh", self.pool)
        self.lv.define("", domain_xml(name, [("vda", f"{self.pool}/{vol}",
                                              "qcow2")]))
        self.domains.append(name)
        return self.p.vm(name)

    def write(self, vm, device, offset, length, pattern):
        vm = self.p.vm(vm["id"])
        idx = ["vda", "vdb"].index(device)
        if vm["power_state"] == "running":
            qdev = f"/machine/peripheral/virtio-disk{idx}/virtio-backend"
            self.lv.virsh("qemu-monitor-command", vm["name"], "--hmp",
                          f'qemu-io -d {qdev} "write -P {pattern:#x} '
                          f'{offset} {length}"')
            return
        [disk] = [d for d in vm["disks"] if d["device"] == device]
        img = os.path.join(self.images, disk["volume_id"].split("/", 1)[1])
        qemuhelpers.offline_write(img, pattern, offset, length)

    def new_volume_id(self):
        return f"{self.pool}/{self._next('extra')}.qcow2"

    def close(self):
        for v in self.p.vms() if hasattr(self, "p") else ():
            if v["name"].endswith(self.suffix) and \
                    v["name"] not in self.domains:
                self.domains.append(v["name"])  # ones the suite defined
        for name in self.domains:
            self.lv.virsh("destroy", name, check=False)
            self.lv.virsh("undefine", name, "--snapshots-metadata",
                          "--checkpoints-metadata", check=False)
        self.lv.remove("pool", self.pool)
        if hasattr(self, "p"):
            self.p.close()


@pytest.fixture
def libvirt_platform(libvirtd):
    fx = LibvirtPlatform(libvirtd)
    try:
        yield fx
    finally:
        fx.close()


@pytest.fixture
def qemu_platform(tmp_path):
    fx = QemuPlatform(tmp_path)
    try:
        yield fx
    finally:
        fx.close()


@pytest.fixture
def vmware_platform(tmp_path):
    fx = VmwarePlatform(tmp_path)
    try:
        yield fx
    finally:
        fx.close()


class ElfPlatform:
    """A fake CloudTower (tests/cloudtower-sim/, elfhelpers.Tower) of its
    own: VMs made through its API on two volumes (iSCSI LUNs of its tgtd),
    started by it; a guest's write is qemu-io on the disk's LUN."""

    name = "elf"
    tracked = {}
    granularity = 64 * KiB

    def __init__(self):
        from elfhelpers import PASSWORD, Tower
        self.t = Tower()
        try:
            self.p = ferry.Platform(self.t.uri(), password=PASSWORD)
        except BaseException:
            self.t.close()
            raise
        self.n = 0

    def _next(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def _volume(self, name, size):
        self.t.wait(self.t.api("/create-vm-volume", [{
            "cluster_id": self.t.cluster()["id"], "name": name, "size": size,
            "elf_storage_policy": "REPLICA_2_THIN_PROVISION",
            "sharing": False}]))
        return self.t.api("/get-vm-volumes", {"where": {"name": name}})[0]

    def stopped_vm(self):
        from elfhelpers import make_vm
        name = self._next("c")
        # named as a migration names its volumes: VM-DEVICE
        vols = [self._volume(f"{name}-{d}", 16 * MiB) for d in ("vda", "vdb")]
        make_vm(self.t, name, vols)
        return self.p.vm(name)

    def vm(self):
        return self.stopped_vm()

    def guest_vm(self):
        """A stopped VM whose boot disk, a new volume, holds the project's
        test guest (tests/guest/build.sh, cached), written into its LUN."""
        import json
        import subprocess
        from elfhelpers import make_vm
        img = guest_image()
        size = json.loads(subprocess.run(
            ["qemu-img", "info", "--output=json", img], check=True,
            capture_output=True, text=True).stdout)["virtual-size"]
        name = self._next("g")
        vol = self._volume(f"{name}-vda", size)
        subprocess.run(["qemu-img", "convert", "-n", "-f", "qcow2", "-O",
                        "raw", img, self._lun(vol)], check=True,
                       capture_output=True)
        make_vm(self.t, name, [vol])
        return self.p.vm(name)

    def _lun(self, vol):
        iqn, lun = vol["path"][len("iscsi://"):].rsplit("/", 1)
        return f"iscsi://127.0.0.1:{self.t.iscsi_port}/{iqn}/{lun}"

    def running_vm(self):
        vm = self.stopped_vm()
        [task] = self.t.wait(self.t.api("/start-vm", {"where": {
            "id": vm["id"]}}))
        assert task["status"] == "SUCCESSED", task
        return self.p.vm(vm["id"])

    def write(self, vm, device, offset, length, pattern):
        import subprocess
        [disk] = [d for d in self.p.vm(vm["id"])["disks"]
                  if d["device"] == device]
        [vol] = self.t.api("/get-vm-volumes", {"where": {"OR": [
            {"id": disk["volume_id"]}, {"name": disk["volume_id"]}]}})
        subprocess.run(["qemu-io", "-f", "raw", "-c",
                        f"write -P {pattern} {offset} {length}",
                        self._lun(vol)], check=True, capture_output=True)

    def volume_id(self, vm, device):
        return [d["volume_id"] for d in self.p.vm(vm["id"])["disks"]
                if d["device"] == device][0]

    def new_volume_id(self):
        return self._next("extra")

    def new_vm_name(self):
        return self._next("new")

    def make_task(self):
        ans = self.t.api("/create-vm-volume", [{
            "cluster_id": self.t.cluster()["id"], "name": self._next("task"),
            "size": MiB, "elf_storage_policy": "REPLICA_2_THIN_PROVISION",
            "sharing": False}])
        return ans[0]["task_id"]

    def close(self):
        try:
            self.p.close()
        finally:
            self.t.close()


@pytest.fixture
def elf_platform():
    fx = ElfPlatform()
    try:
        yield fx
    finally:
        fx.close()


PLATFORMS = {"qemu": "qemu_platform", "vmware": "vmware_platform",
             "libvirt": "libvirt_platform", "elf": "elf_platform"}


@pytest.fixture
def platform(request):
    """Each platform driver's fixture in turn."""
    return request.getfixturevalue(PLATFORMS[request.param])


# --------------------------------------------------------------------------
# Volume backends


class Vol(NamedTuple):
    client: object          # a ferry.Client (or Platform's client)
    volume_id: str
    read_back: Callable     # the bytes the backend holds, read without ferry


def _client_of(uri):
    client, volume_id = ferry.open_endpoint(uri)
    return client, volume_id


class FileVolumes:
    """The file driver: sparse raw files in tmp_path, as file:// URIs."""

    name = "file"
    writable, connected, read_only_form, knows_allocation = (True, False,
                                                             False, True)

    def __init__(self, tmp_path):
        self.dir = os.path.join(str(tmp_path), "files")
        os.makedirs(self.dir)
        self.n = 0
        self.clients = []

    def make(self, size, chunks):
        self.n += 1
        path = os.path.join(self.dir, f"v{self.n}.raw")
        make_sparse(path, size, chunks)
        client, vid = _client_of(f"file://{path}")
        self.clients.append(client)
        return Vol(client, vid, lambda: read_file(path))

    def close(self):
        for c in self.clients:
            c.close()


class NbdVolumes:
    """The nbd driver: qemu-nbd serving a raw file on a unix socket in
    tmp_path, through a proxy that can cut the connections."""

    name = "nbd"
    writable, connected, read_only_form, knows_allocation = (True, True,
                                                             True, True)

    def __init__(self, tmp_path):
        self.tmp = str(tmp_path)
        self.servers = Servers(tmp_path)
        self.n = 0
        self.clients = []

    def _serve(self, size, chunks, read_only):
        self.n += 1
        path = os.path.join(self.tmp, f"n{self.n}.raw")
        make_sparse(path, size, chunks)
        srv = self.servers.qemu_nbd(path, "raw", read_only=read_only)
        proxy = CutProxy(self.servers.sock_path("cut"), srv.sock)
        self.servers.proxies.append(proxy)  # closed with the servers
        client, vid = _client_of(proxy.uri)
        self.clients.append(client)
        return Vol(client, vid, lambda: read_file(path))

    def make(self, size, chunks):
        return self._serve(size, chunks, False)

    def make_read_only(self, size, chunks):
        return self._serve(size, chunks, True)

    def cut(self):
        return set().union(*(p.cut_all() for p in self.servers.proxies))

    def live(self):
        return set().union(*(p.live() for p in self.servers.proxies))

    def close(self):
        try:
            for c in self.clients:
                c.close()
        finally:
            self.servers.close()


def _qemu_nbd_children(needle):
    """pids of this process's qemu-nbd children whose argv holds needle
    (the qemu-nbd ferry starts for a qcow2 volume, by socket
    activation)."""
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == os.getpid() and fields[0] not in "ZX" and \
                argv[0].endswith(b"qemu-nbd") and \
                any(needle.encode() in a for a in argv):
            out.add(int(pid))
    return out


class QemuVolumes:
    """The qemu platform's data path: qcow2 volumes made with
    create_volume, filled with qemu-img, read through the qemu-nbd ferry
    starts for each. Cutting kills those qemu-nbd processes."""

    name = "qemu"
    writable, connected, read_only_form, knows_allocation = (True, True,
                                                             False, True)

    def __init__(self, tmp_path):
        self.qh = qemuhelpers.Platform(tmp_path)
        try:
            self.p = ferry.Platform(self.qh.uri)
        except BaseException:
            self.qh.close()
            raise
        self.volumes = os.path.realpath(os.path.join(self.qh.real,
                                                     "volumes"))
        self.tmp = str(tmp_path)
        self.n = 0

    def make(self, size, chunks):
        self.n += 1
        vid = f"v{self.n}.qcow2"
        self.p.create_volume(vid, size)
        raw = os.path.join(self.tmp, f"q{self.n}.raw")
        make_sparse(raw, size, chunks)
        img = os.path.join(self.volumes, vid)
        qemuhelpers.tool("qemu-img", "convert", "-n", "--target-is-zero",
                         "-f", "raw", "-O", "qcow2", raw, img)
        return Vol(self.p.client, vid,
                   lambda: qemuhelpers.image_bytes(img))

    def cut(self):
        pids = _qemu_nbd_children(self.volumes)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def live(self):
        return _qemu_nbd_children(self.volumes)

    def close(self):
        try:
            self.p.close()
        finally:
            self.qh.close()


class VmwareHttpsVolumes:
    """The vmware driver's HTTPS datastore path: the simulator's VM disks
    (one per volume, filled through their flat files), through a TCP
    proxy on 127.0.0.1 that can cut the connections."""

    name = "vmware-https"
    writable, connected, read_only_form, knows_allocation = (False, True,
                                                             False, False)

    def __init__(self, tmp_path, disk_mib=16):
        self.sim = Sim(tmp_path, disk_mib=disk_mib)
        self.size = disk_mib * MiB
        self.proxy = None
        try:
            self.proxy = TcpCutProxy(self.sim.port)
            self.p = ferry.Platform(
                f"vmware://user@127.0.0.1:{self.proxy.port}?thumbprint="
                f"{self.sim.thumbprint}&transport=https", password=PASSWORD)
            self.vms = self.p.vms()
            self.dc = self.p.datacenters()[0]["name"]
        except BaseException:
            self.close()
            raise

    def make(self, size, chunks):
        assert size == self.size, "the simulator's disks are all one size"
        assert self.vms, "the simulator has no VM disk left for this test"
        disk = self.vms.pop(0)["disks"][0]
        rel = re.fullmatch(r"\[[^]]+\] (.+)\.vmdk", disk["volume_id"])
        flat = os.path.join(self.sim.datastore, rel.group(1) + "-flat.vmdk")
        guest_write(flat, 0, image_of(size, chunks))
        return Vol(self.p.client, f"{disk['volume_id']}?dc={self.dc}",
                   lambda: read_file(flat))

    def cut(self):
        return self.proxy.cut_all()

    def live(self):
        return self.proxy.live()

    def close(self):
        try:
            if getattr(self, "p", None) is not None:
                self.p.close()
        finally:
            try:
                if self.proxy:
                    self.proxy.close()
            finally:
                self.sim.close()


def _volumes(cls, tmp_path):
    b = cls(tmp_path)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def file_volumes(tmp_path):
    yield from _volumes(FileVolumes, tmp_path)


@pytest.fixture
def nbd_volumes(tmp_path):
    yield from _volumes(NbdVolumes, tmp_path)


@pytest.fixture
def qemu_volumes(tmp_path):
    yield from _volumes(QemuVolumes, tmp_path)


@pytest.fixture
def vmware_https_volumes(tmp_path):
    yield from _volumes(VmwareHttpsVolumes, tmp_path)


VOLUME_BACKENDS = {
    "file": (FileVolumes, "file_volumes"),
    "nbd": (NbdVolumes, "nbd_volumes"),
    "qemu": (QemuVolumes, "qemu_volumes"),
    "vmware-https": (VmwareHttpsVolumes, "vmware_https_volumes"),
}


@pytest.fixture
def volume_backend(request):
    """Each volume backend in turn (those with the capabilities a test's
    `backends` mark names)."""
    return request.getfixturevalue(VOLUME_BACKENDS[request.param][1])


# --------------------------------------------------------------------------
# Parametrization


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "backends(*capabilities): run a volume test on the "
        "backends that have every capability named (writable, connected, "
        "read_only_form, knows_allocation)")


def pytest_generate_tests(metafunc):
    if "volume_backend" in metafunc.fixturenames:
        mark = metafunc.definition.get_closest_marker("backends")
        need = mark.args if mark else ()
        names = [n for n, (cls, _) in VOLUME_BACKENDS.items()
                 if all(getattr(cls, c) for c in need)]
        assert names, f"no volume backend has {need}"
        metafunc.parametrize("volume_backend", names, indirect=True)
    if "platform" in metafunc.fixturenames:
        metafunc.parametrize("platform", list(PLATFORMS), indirect=True)
