"""Warm migrations of the test guest (tests/guest/build.sh: Debian 12 as
installed on VMware, pvscsi and vmxnet3, no virtio in its initramfs) to a
qemu platform (and from VMware's simulator to a libvirt host), proven by the guest itself: it boots at the destination on
virtio-blk + virtio-net to its marker line once the cutover converted it.
The controls: the guest boots on pvscsi at the source; the same migration
without conversion copies the disk byte for byte (qemu-img compare) and
does not boot on virtio; a guest that cannot be converted fails the
cutover before the destination VM exists, and the source runs again.

Under TCG on a loaded 2-core machine a boot takes 30 s to a few minutes
and a conversion one to four; the waits are bounds, not measurements."""
import json
import os
import subprocess

from guesthelpers import (GAVE_UP, MARKER, boot, booted,  # noqa: F401
                          guest_image, import_guest, read_log, watch)
from ferryhelpers import EXIT_FAILED, MiB
from qemuhelpers import Platform, migrate, tool, two  # noqa: F401
from vspherehelpers import Sim, ferry, guest_write

CUTOVER_S = 1800  # a bound: the conversion runs in the cutover
GAP = 768 * 1024  # in the MBR gap: past GRUB's core.img, before sda1


def vmware_like(p, image, vm="vmw"):
    """A VM as VMware runs the guest: its disk on pvscsi, a vmxnet3 NIC."""
    vol = import_guest(p, image, "guest.qcow2")
    p.ok("vm", "create", vm, "--memory", "512", "--disk",
         f"{vol},bus=scsi,controller=pvscsi,boot=1", "--nic",
         "default,model=vmxnet3")
    return os.path.join(p.real, "volumes", vol)


def start_args(a, b, vm="vmw"):
    return ["start", "--from", a.uri, "--to", b.uri, vm, "--network-map",
            "default=default", "--id", "m"]


def on_virtio(p, vm="vmw"):
    """The destination VM's disks and NICs: all virtio."""
    v = p.json("vm", "show", vm)
    assert [(d["device"], d["bus"], d["controller"]) for d in v["disks"]] \
        == [("vda", "virtio", None)], v["disks"]
    assert [n["model"] for n in v["nics"]] == ["virtio-net-pci"], v["nics"]
    return v


def disk_of(p, vm="vmw"):
    [d] = p.json("vm", "show", vm)["disks"]
    return os.path.join(p.real, "volumes", d["volume_id"])


def test_warm_migration_of_a_running_guest_converts_and_boots(two,
                                                              guest_image):
    """The source guest boots on pvscsi while the rounds copy it (its own
    writes: the journal, logs, the mount); it powers itself off after its
    marker; the last round and the cutover follow, with the conversion.
    The destination VM, on virtio, boots to the marker."""
    a, b, jdir = two
    vmware_like(a, guest_image)
    a.start("vmw")
    m = migrate(jdir, *start_args(a, b))
    assert m["phase"] == "warm"
    m = migrate(jdir, "sync", "m")
    got, out = watch(a, "vmw", [MARKER, GAVE_UP])
    root, _, net, tools = booted(got, out,
                                 "the guest at the source, on pvscsi")
    assert root.startswith("/dev/sd") and net == "vmxnet3", got.group(0)
    assert tools == "yes", got.group(0)
    m = migrate(jdir, "sync", "m")  # what the rest of the boot wrote
    assert sum(r["changed_bytes"] for r in m["rounds"][1:]) > 0, m["rounds"]
    m = migrate(jdir, "cutover", "m", "--stop-timeout", "0",
                timeout=CUTOVER_S)
    assert m["phase"] == "done" and m["verified"] and m["converted"], m
    changes = "\n".join(m["conversion"])
    assert "guest: linux debian 12" in changes, changes
    assert "virtio_blk" in changes, changes
    assert "appended as one more archive" in changes, changes
    assert m["boot_check"] == "ok", m["boot_check"]
    on_virtio(b)
    got, out = boot(b, "vmw", [MARKER, GAVE_UP])
    root, _, net, tools = booted(got, out, "the migrated guest on virtio")
    assert root.startswith("/dev/vd") and net == "virtio_net", got.group(0)
    assert tools == "yes", got.group(0)  # kept unless asked
    # the source is stopped and whole: it still boots on pvscsi
    assert a.state("vmw") == "stopped"
    assert a.snap_names("vmw") == []


def test_without_conversion_the_copy_is_exact_and_does_not_boot(
        two, guest_image):
    """--no-convert: the destination VM goes on virtio with the guest as
    it was. Its disk is the source's byte for byte (qemu-img compare, not
    ferry's own verify), and the initramfs gives up: conversion is what
    makes it boot."""
    a, b, jdir = two
    vmware_like(a, guest_image)
    migrate(jdir, *start_args(a, b))
    # a write between rounds, where the guest does not look, into the
    # VM's active layer (the snapshot's layers below it stay as they are)
    tool("qemu-io", "-f", "qcow2", "-c", f"write -P 0x5a {GAP} 64k",
         disk_of(a))
    migrate(jdir, "sync", "m")
    m = migrate(jdir, "cutover", "m", "--no-convert", "--stop-timeout", "0",
                timeout=CUTOVER_S)
    assert m["phase"] == "done" and m["verified"] and m["converted"]
    assert m["conversion"] == [], m["conversion"]
    on_virtio(b)
    cp = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2",
                         disk_of(a), disk_of(b)], capture_output=True,
                        text=True)
    assert cp.returncode == 0 and "identical" in cp.stdout, cp
    got, out = boot(b, "vmw", [MARKER, GAVE_UP])
    assert got == GAVE_UP, (
        f"the unconverted guest on virtio-blk: {got!r} (want the initramfs "
        f"to give up):\n{out[-2000:]}")


def first_partition(img, tmp):
    """The byte offset of the first MBR partition of a qcow2 image."""
    mbr = os.path.join(tmp, "mbr")
    tool("qemu-img", "dd", "-f", "qcow2", "-O", "raw", "bs=512", "count=1",
         f"if={img}", f"of={mbr}")
    with open(mbr, "rb") as f:
        sector = f.read()
    return int.from_bytes(sector[446 + 8:446 + 12], "little") * 512


def test_a_failed_conversion_fails_the_cutover_before_the_vm(two, guest_image,
                                                             tmp_path):
    """A guest whose root filesystem is corrupt (its superblock zeroed)
    cannot be converted: the cutover fails before the destination VM is
    made, saying how to go on; nothing is lost: abort takes back what the
    migration made and starts the source again."""
    a, b, jdir = two
    src = vmware_like(a, guest_image)
    sb = first_partition(src, str(tmp_path)) + 1024
    tool("qemu-io", "-f", "qcow2", "-c", f"write -z {sb} 1k", src)
    a.start("vmw")
    migrate(jdir, *start_args(a, b))
    migrate(jdir, "cutover", "m", "--stop-timeout", "0", expect=EXIT_FAILED,
            timeout=CUTOVER_S)
    m = migrate(jdir, "status", "m")
    assert m["phase"] == "failed", m
    err = m["error"]
    assert "could not be converted" in err, err
    assert "no destination VM was made" in err, err
    assert "resume with --no-convert" in err, err
    assert b.json("vm", "list") == []  # no destination VM
    assert a.state("vmw") == "stopped"
    m = migrate(jdir, "abort", "m")
    assert m["phase"] == "aborted"
    assert "the source VM vmw started again (the cutover had stopped it)" \
        in m["undone"], m["undone"]
    assert a.state("vmw") == "running"
    assert b.json("volume", "list") == []
    a.ok("vm", "stop", "vmw", "--force")


def test_warm_migration_from_vmware_boots_converted(tmp_path, guest_image):
    """The test guest as a VMware VM of the simulator (its raw image is the
    VM's flat vmdk, on pvscsi with an e1000): CBT rounds, a cutover with
    conversion (open-vm-tools removed, as asked), and the guest boots at
    the qemu destination on virtio, without VMware's tools."""
    sim = Sim(tmp_path, "-memory-mib", "512", disk_mib=1024)
    dest = Platform(tmp_path / "q")
    try:
        vm = "DC0_H0_VM0"
        flat = sim.flat(vm)
        tool("qemu-img", "convert", "-n", "-f", "qcow2", "-O", "raw",
             guest_image, flat)
        jdir = str(tmp_path / "j")
        net = json.loads(ferry(sim, "vm", "show", vm, "--platform", sim.uri(),
                               "--json").stdout)["nics"][0]["network"]

        def step(*args, **kw):
            return json.loads(ferry(sim, "migrate", *args, "--journal-dir",
                                    jdir, "--json", **kw).stdout)
        m = step("start", "--from", sim.uri(), "--to", dest.uri, vm,
                 "--network-map", f"{net}=default", "--id", "m")
        assert m["rounds"][0]["changed_bytes"] > 100 * MiB  # the guest
        guest_write(flat, GAP, os.urandom(64 * 1024))
        m = step("sync", "m")
        assert m["rounds"][1]["changed_bytes"] == 64 * 1024
        m = step("cutover", "m", "--stop-timeout", "0",
                 "--remove-vmware-tools", timeout=CUTOVER_S)
        assert m["phase"] == "done" and m["verified"] and m["converted"]
        changes = "\n".join(m["conversion"])
        assert "virtio_blk" in changes, changes
        assert "open-vm-tools: removed (dpkg --purge)" in changes, changes
        on_virtio(dest, vm)
        got, out = boot(dest, vm, [MARKER, GAVE_UP])
        root, _, nic, tools = booted(got, out,
                                     "the guest from VMware, on virtio")
        assert root.startswith("/dev/vd") and nic == "virtio_net"
        assert tools == "no", got.group(0)
    finally:
        dest.close()
        sim.close()


class LibvirtGuests:
    """What watch() asks of a platform, for the session's libvirtd: a
    domain's state, and its serial console, which the domains ferry
    defines log in libvirt's log directory (its private one here)."""

    def __init__(self, lv):
        self.lv = lv

    def state(self, vm):
        st = self.lv.virsh("domstate", vm).stdout.strip()
        return "stopped" if st == "shut off" else "running"

    def serial(self, vm):
        return read_log(os.path.join(self.lv.dir, "log", "qemu",
                                     f"{vm}-serial0.log"))


def test_warm_migration_from_vmware_to_libvirt_boots_converted(
        tmp_path, guest_image, libvirtd):
    """The test guest as a VMware VM of the simulator, migrated warm to
    the session's libvirtd: CBT rounds, a cutover with conversion onto the
    volumes of a storage pool, the domain defined on virtio with the
    source's MAC on the mapped network; started by libvirt, the guest
    boots to its marker on virtio."""
    lv = libvirtd
    lv.pool("pg", os.path.join(lv.dir, "images-g"))
    lv.bridge_network("gnet")
    sim = Sim(tmp_path, "-memory-mib", "512", disk_mib=1024)
    vm = "DC0_H0_VM0"
    try:
        flat = sim.flat(vm)
        tool("qemu-img", "convert", "-n", "-f", "qcow2", "-O", "raw",
             guest_image, flat)
        jdir = str(tmp_path / "j")
        src = json.loads(ferry(sim, "vm", "show", vm, "--platform",
                               sim.uri(), "--json").stdout)
        net = src["nics"][0]["network"]

        def step(*args, **kw):
            return json.loads(ferry(sim, "migrate", *args, "--journal-dir",
                                    jdir, "--json", **kw).stdout)
        m = step("start", "--from", sim.uri(), "--to", f"{lv.uri}&pool=pg",
                 vm, "--network-map", f"{net}=gnet", "--id", "m")
        assert m["rounds"][0]["changed_bytes"] > 100 * MiB  # the guest
        guest_write(flat, GAP, os.urandom(64 * 1024))
        m = step("sync", "m")
        assert m["rounds"][1]["changed_bytes"] == 64 * 1024
        m = step("cutover", "m", "--stop-timeout", "0", timeout=CUTOVER_S)
        assert m["phase"] == "done" and m["verified"] and m["converted"], m
        assert "virtio_blk" in "\n".join(m["conversion"]), m["conversion"]
        got = json.loads(ferry(sim, "vm", "show", vm, "--platform", lv.uri,
                               "--json").stdout)
        assert [(d["device"], d["bus"], d["volume_id"][:3]) for d in
                got["disks"]] == [("vda", "virtio", "pg/")], got["disks"]
        assert [(n["mac"], n["network"]) for n in got["nics"]] == \
            [(src["nics"][0]["mac"], "gnet")], got["nics"]
        lv.virsh("start", vm)
        seen, out = watch(LibvirtGuests(lv), vm, [MARKER, GAVE_UP])
        root, _, nic, _ = booted(seen, out,
                                 "the guest from VMware, on libvirt")
        assert root.startswith("/dev/vd") and nic == "virtio_net", \
            seen.group(0)
    finally:
        lv.virsh("destroy", vm, check=False)
        lv.virsh("undefine", vm, check=False)
        for v in lv.virsh("vol-list", "pg", "--name",
                          check=False).stdout.split():
            lv.virsh("vol-delete", v, "--pool", "pg", check=False)
        lv.remove("pool", "pg")
        lv.remove("net", "gnet")
        sim.close()
