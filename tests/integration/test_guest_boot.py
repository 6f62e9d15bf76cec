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


@pytest.fixture(scope="session")
def guest_image():
    """The cached guest (uuid variant), built when missing."""
    cp = subprocess.run(["bash", BUILD_SH, "uuid"], capture_output=True,
                        text=True, timeout=3600)
    assert cp.returncode == 0, f"guest build failed:\n{cp.stderr[-3000:]}"
    path = cp.stdout.strip().splitlines()[-1]
    assert os.path.exists(path), path
    return path


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
