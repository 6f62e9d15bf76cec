"""`ferry convert` of the test guest (tests/guest/build.sh: Debian 12 as
installed on VMware, its initramfs with VMware's disk drivers and no
virtio) on ferry's own qemu platform under TCG: converted, it boots on
virtio-blk to its marker line. The fixture's own proofs (it boots on
pvscsi with vmxnet3; unconverted, its initramfs gives up on virtio-blk)
are in the migrations of test_guest_migrate.py, which boot it anyway.

The guest is built once and cached under /var/cache/ferry-tests (minutes
the first time, nothing after); the boots take 30 s to a few minutes each
on a loaded machine. Timeouts are bounds, not measurements."""
import hashlib
import os
import signal
import subprocess
import time

from ferryhelpers import FERRY
from guesthelpers import GAVE_UP, MARKER, boot, booted, built, import_guest
from qemuhelpers import pid_alive, qp, wait_until, wrapped  # noqa: F401


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def holders(path):
    """The live processes with path in their command line (the libguestfs
    appliance's qemu names its overlay)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if path.encode() in f.read() and pid_alive(int(pid)):
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


def test_a_killed_conversion_is_finished_and_the_guest_boots(qp, wrapped):
    """ferry convert --bus virtio --remove-vmware-tools (libguestfs: virtio
    drivers into the initramfs, root by UUID, the NIC config by type,
    open-vm-tools purged; then the VM's pvscsi disk and vmxnet3 NIC moved
    to virtio) on the guest whose fstab and grub name /dev/sda1,
    interrupted twice:
    - kill -9 of ferry while its appliance converts (the overlay being
      written): the volume is byte for byte as it was, the appliance goes
      (libguestfs's recovery process), and the next call starts over;
    - that call's commit killed before its 3rd write (qemu-img commit,
      as when ferry dies): the overlay stays whole and the next call
      finishes the commit, reporting the changes, converting nothing
      twice; until then the VM does not start from the half-committed
      disk.
    Then the guest boots on virtio-blk with virtio-net to its marker,
    without VMware's tools. A running VM is refused, and a bus but virtio. (The guest by UUID is converted by the
    migrations of test_guest_migrate.py.)"""
    vol = import_guest(qp, built("dev"), "guest.qcow2")
    qp.ok("vm", "create", "kvm", "--memory", "512", "--disk",
          f"{vol},bus=scsi,controller=pvscsi,boot=1", "--nic",
          "default,model=vmxnet3")
    qp.start("kvm")
    qp.refused("convert", "kvm", needles=["stop it to convert"])
    qp.ok("vm", "stop", "kvm", "--force")
    qp.refused("convert", "kvm", "--bus", "ide", needles=["bus 'ide'"])
    vols = os.path.join(qp.real, "volumes")
    img, overlay = (os.path.join(vols, vol),
                    os.path.join(vols, f".convert-{vol}.qcow2"))
    done = os.path.join(vols, f".convert-{vol}.done")
    before = sha256(img)

    args = ("convert", "kvm", "--bus", "virtio", "--remove-vmware-tools")
    p = subprocess.Popen([FERRY, *args, "--platform", qp.uri],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # the appliance is up and writing the overlay
        wait_until(lambda: holders(overlay) or p.poll() is not None,
                   timeout=600, what="the conversion's appliance")
        time.sleep(5)
    finally:
        p.kill()
        p.wait()
    assert p.returncode == -signal.SIGKILL, "the conversion ended by itself"
    wait_until(lambda: not holders(overlay), timeout=60,
               what="the orphaned appliance gone")
    assert sha256(img) == before, "the volume changed before any commit"
    assert not os.path.exists(done)

    wrapped("commit", 3)
    qp.refused(*args, needles=["committing the converted guest"])
    assert os.path.exists(done) and os.path.exists(overlay)
    wrapped("commit", None)
    # half committed: the VM does not start from it
    qp.refused("vm", "start", "kvm",
               needles=["cut short while committing", "ferry convert kvm"])
    assert qp.vm("kvm")["disks"][0]["bus"] == "scsi"  # not yet converted
    out = qp.json(*args)  # the commit, finished
    assert not [v for v in os.listdir(vols) if v.startswith(".convert-")]
    changes = "\n".join(out["changes"])
    assert "guest: linux debian 12" in changes, changes
    assert "virtio_blk" in changes, changes
    assert "appended as one more archive" in changes, changes
    assert "Type=ether" in changes, changes
    # /dev/sda1 would be vda1 now: named by UUID
    assert "/etc/fstab: /dev/sda1 is now UUID=" in changes, changes
    assert "/boot/grub/grub.cfg: /dev/sda1 is now UUID=" in changes
    assert "open-vm-tools: removed (dpkg --purge)" in changes, changes
    assert "VM kvm: 1 disk on virtio-blk, 1 NIC virtio-net" in changes
    v = qp.vm("kvm")  # --bus virtio: the VM moved to virtio
    assert [(d["bus"], d["controller"]) for d in v["disks"]] == \
        [("virtio", None)], v["disks"]
    assert [n["model"] for n in v["nics"]] == ["virtio-net-pci"]
    m, serial_out = boot(qp, "kvm", [MARKER, GAVE_UP])
    root, kernel, net, tools = booted(m, serial_out,
                                      "the converted guest on virtio")
    assert root.startswith("/dev/vd"), m.group(0)
    assert net == "virtio_net", m.group(0)
    assert tools == "no", m.group(0)


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
