"""The test guest (tests/guest/build.sh: Debian 12 as installed on VMware,
its initramfs with VMware's disk drivers and no virtio) booted by ferry's
own qemu platform under TCG: on a pvscsi disk with a vmxnet3 NIC it
reaches its marker line; the same disk on virtio-blk does not boot (its
initramfs gives up waiting for the root device). The control that shows
a migration to KVM needs the guest converted.

The guest is built once and cached under /var/cache/ferry-tests (minutes
the first time, nothing after); the boots take 30 s to a few minutes each
on a loaded machine. Timeouts are bounds, not measurements."""
import os
import re
import shutil
import subprocess
import time

import pytest

from qemuhelpers import qp  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_SH = os.path.join(HERE, "..", "guest", "build.sh")
BOOT_S = 900  # a bound on a shared, loaded 2-core machine
# the whole line (its end arrived too): never a half-written net=vmx
MARKER = re.compile(r"FERRY-GUEST-BOOT-OK root=(\S+) kernel=(\S+) "
                    r"net=(\S+)\r?\n")
GAVE_UP = "Gave up waiting for root"


def built(variant):
    """The cached guest of a variant, built when missing."""
    cp = subprocess.run(["bash", BUILD_SH, variant], capture_output=True,
                        text=True, timeout=3600)
    assert cp.returncode == 0, f"guest build failed:\n{cp.stderr[-3000:]}"
    path = cp.stdout.strip().splitlines()[-1]
    assert os.path.exists(path), path
    return path


@pytest.fixture(scope="session")
def guest_image():
    """The guest whose fstab and grub name the root by UUID."""
    return built("uuid")


def import_guest(qp, image, name):
    """The guest's disk as a volume of qp (a copy: the cache stays as it
    is)."""
    dst = os.path.join(qp.real, "volumes", name)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(image, dst)
    return name


def serial(qp, vm):
    uuid = qp.vm(vm)["uuid"]
    try:
        with open(os.path.join(qp.run_dir(uuid), "serial.log"), "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def boot(qp, vm, until):
    """Starts vm and waits for one of the strings (or regex) in until, or
    for it to power off, or BOOT_S; returns (what, serial output)."""
    qp.start(vm)
    deadline = time.monotonic() + BOOT_S
    try:
        while True:
            over = (qp.state(vm) == "stopped" or
                    time.monotonic() > deadline)  # then one last look
            out = serial(qp, vm)
            for u in until:
                m = u.search(out) if hasattr(u, "search") else (
                    u in out and u)
                if m:
                    return m, out
            if over:
                return None, out
            time.sleep(1)
    finally:
        if qp.state(vm) != "stopped":
            qp.ok("vm", "stop", vm, "--force")


def test_guest_boots_on_pvscsi_not_on_virtio(qp, guest_image):
    vol = import_guest(qp, guest_image, "guest.qcow2")
    qp.ok("vm", "create", "vmw", "--memory", "512", "--disk",
          f"{vol},bus=scsi,controller=pvscsi,boot=1", "--nic",
          "default,model=vmxnet3")
    m, out = boot(qp, "vmw", [MARKER, GAVE_UP])
    assert m and not isinstance(m, str), (
        f"no marker on pvscsi within {BOOT_S}s:\n{out[-2000:]}")
    root, kernel, net = m.groups()
    assert root.startswith("/dev/sd"), m.group(0)
    assert net == "vmxnet3", m.group(0)

    # the same disk (not converted) on virtio-blk: the initramfs has no
    # driver for it
    qp.ok("vm", "delete", "vmw")
    qp.ok("vm", "create", "kvm", "--memory", "512", "--disk",
          f"{vol},boot=1", "--nic", "default,model=virtio-net-pci")
    m, out = boot(qp, "kvm", [MARKER, GAVE_UP])
    assert m == GAVE_UP, (
        f"the unconverted guest on virtio-blk: {m!r} (want the initramfs "
        f"to give up):\n{out[-2000:]}")


@pytest.mark.parametrize("variant", ["uuid", "dev"])
def test_converted_guest_boots_on_virtio(qp, variant):
    """ferry convert (libguestfs: virtio drivers into the initramfs, root
    by UUID, the NIC config by type) on the unconverted guest's disk: then
    it boots on virtio-blk with virtio-net to its marker. Every change is
    reported, and a running VM is refused."""
    vol = import_guest(qp, built(variant), "guest.qcow2")
    qp.ok("vm", "create", "kvm", "--memory", "512", "--disk",
          f"{vol},boot=1", "--nic", "default,model=virtio-net-pci")
    qp.start("kvm")
    qp.refused("convert", "kvm", needles=["stop it to convert"])
    qp.ok("vm", "stop", "kvm", "--force")
    out = qp.json("convert", "kvm")
    changes = "\n".join(out["changes"])
    assert "guest: linux debian 12" in changes, changes
    assert "virtio_blk" in changes and "rebuilt for every kernel" in changes
    assert "Type=ether" in changes, changes
    if variant == "dev":  # /dev/sda1 would be vda1 now: named by UUID
        assert "/etc/fstab: /dev/sda1 is now UUID=" in changes, changes
        assert "/boot/grub/grub.cfg: /dev/sda1 is now UUID=" in changes
    m, serial_out = boot(qp, "kvm", [MARKER, GAVE_UP])
    assert m and not isinstance(m, str), (
        f"the converted guest on virtio: {m!r}:\n{serial_out[-2000:]}")
    root, kernel, net = m.groups()
    assert root.startswith("/dev/vd"), m.group(0)
    assert net == "virtio_net", m.group(0)


def test_a_disk_with_no_guest_is_refused_unchanged(qp):
    """No operating system on the disk: ENOTSUP with a sentence, and the
    volume is byte for byte what it was (the overlay is thrown away)."""
    qp.ok("vm", "create", "blank", "--memory", "64", "--disk", "16M")
    img = os.path.join(qp.real, "volumes", "blank-vda.qcow2")
    # a boot sector, so that the boot check picks the disk
    entry = bytes([0x80, 0, 0, 0, 0x83, 0, 0, 0, 0, 8]) + bytes(6)
    for off, data in ((0, b"\xeb\x63\x90"), (446, entry), (510, b"\x55\xaa")):
        for i, byte in enumerate(data):
            subprocess.run(["qemu-io", "-f", "qcow2", "-c",
                            f"write -P {byte} {off + i} 1", img], check=True,
                           capture_output=True)
    with open(img, "rb") as f:
        before = f.read()
    qp.refused("convert", "blank",
               needles=["no operating system found", "left as it was"])
    with open(img, "rb") as f:
        assert f.read() == before
    vols = os.listdir(os.path.join(qp.real, "volumes"))
    assert not [v for v in vols if v.startswith(".convert-")], vols
