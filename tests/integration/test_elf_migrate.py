"""Warm migration to SmartX ELF (the fake CloudTower, its volumes real
iSCSI LUNs of a private tgtd): from ferry's local qemu platform, through
its dirty bitmaps, with guest writes between rounds; the destination
volumes written over iSCSI, the VM made on ELF with the source's MAC on
the mapped VLAN, and the disks compared byte for byte with qemu's iscsi
driver; refusals before anything is made. And the test guest from
VMware's simulator (on pvscsi there) to ELF: converted on its LUN for
virtio, it boots in the fake's qemu to its marker."""
import json
import os
import subprocess

from elfhelpers import PASSWORD as ELF_PASSWORD
from elfhelpers import Tower, ferry_elf, tower  # noqa: F401
from guesthelpers import GAVE_UP, MARKER, booted, guest_image  # noqa: F401
from guesthelpers import read_log, watch
from ferryhelpers import FERRY
from qemuhelpers import Platform, tool
from vspherehelpers import PASSWORD as VMWARE_PASSWORD
from vspherehelpers import Sim, guest_write

CUTOVER_S = 1800  # a bound: the conversion runs in the cutover (TCG)
GAP = 768 * 1024  # in the MBR gap: past GRUB's core.img, before sda1

MIB = 1 << 20


def lun_url(t, volume):
    [v] = t.api("/get-vm-volumes", {"where": {"name": volume}})
    iqn, lun = v["path"][len("iscsi://"):].rsplit("/", 1)
    return f"iscsi://127.0.0.1:{t.iscsi_port}/{iqn}/{lun}"


def migrate(t, jdir, *args):
    cp = ferry_elf(t, "migrate", *args, "--journal-dir", jdir, "--json")
    return json.loads(cp.stdout)


def test_warm_migration_from_the_local_platform_to_elf(tower, tmp_path):
    a = Platform(tmp_path / "a")
    jdir = str(tmp_path / "j")
    try:
        a.create_vm("mv", extra=("--nic", "default"))
        a.start("mv")
        a.live_write("mv", 0x11)
        m = migrate(tower, jdir, "start", "--from", a.uri, "--to",
                    tower.uri(), "mv", "--network-map", "default=vlan100",
                    "--id", "em")
        assert m["phase"] == "warm", m
        assert [(d["dst_volume"], d["dst_format"]) for d in m["disks"]] == \
            [("mv-vda", "raw"), ("mv-vdb", "raw")], m["disks"]
        a.live_write("mv", 0x22)
        m = migrate(tower, jdir, "sync", "em")
        # two 64 KiB chunks on each of the two disks
        assert m["rounds"][1]["changed_bytes"] == 4 * 64 * 1024, m["rounds"]
        a.live_write("mv", 0x33)
        m = migrate(tower, jdir, "cutover", "em", "--stop-timeout", "0")
        assert (m["phase"], m["verified"]) == ("done", True), m
        got = json.loads(ferry_elf(tower, "vm", "show", "mv", "--platform",
                                   tower.uri(), "--json").stdout)
        src = a.json("vm", "show", "mv")
        [vlan] = tower.api("/get-vlans", {"where": {"name": "vlan100"}})
        assert [(n["mac"], n["network"], n["vlan_id"]) for n in
                got["nics"]] == [(n["mac"], vlan["id"], 100)
                                 for n in src["nics"]], got["nics"]
        assert [(d["device"], d["volume_id"]) for d in got["disks"]] == \
            [("vda", "mv-vda"), ("vdb", "mv-vdb")], got["disks"]
        top = {d["device"]: os.path.join(a.real, "volumes", d["volume_id"])
               for d in src["disks"]}
        for dev in ("vda", "vdb"):
            cp = subprocess.run(["qemu-img", "compare", "-U", top[dev],
                                 lun_url(tower, f"mv-{dev}")],
                                capture_output=True, text=True)
            assert cp.returncode == 0, (dev, cp.stdout, cp.stderr)
        # ELF runs it: the fake's qemu, from the LUNs over iSCSI
        ferry_elf(tower, "vm", "start", "mv", "--platform", tower.uri())
        ferry_elf(tower, "vm", "stop", "mv", "--force", "--platform",
                  tower.uri())
    finally:
        a.close()


def test_refused_before_anything_is_made(tmp_path):
    """A VLAN ELF does not have (the message lists the ones it has), and a
    cluster without room for the disks: refused at the plan, with no
    volume and no journal made."""
    t = Tower(capacity=16 * MIB)
    a = Platform(tmp_path / "a")
    jdir = tmp_path / "j"
    try:
        a.create_vm("big", extra=("--nic", "default"))
        cp = ferry_elf(t, "migrate", "start", "--from", a.uri, "--to",
                       t.uri(), "big", "--network-map", "default=nonet",
                       "--journal-dir", jdir, check=False)
        assert cp.returncode != 0, cp
        assert "'nonet'" in cp.stderr and "it has:" in cp.stderr, cp.stderr
        [vlan] = t.api("/get-vlans", {"where": {"name": "vlan100"}})
        assert vlan["id"] in cp.stderr, cp.stderr
        cp = ferry_elf(t, "migrate", "start", "--from", a.uri, "--to",
                       t.uri(), "big", "--network-map", "default=vlan100",
                       "--journal-dir", jdir, check=False)
        assert cp.returncode != 0 and "MiB free" in cp.stderr, cp.stderr
        # a CloudTower whose certificate is not the pinned one, and a
        # wrong password
        bad = t.uri().replace(t.fingerprint[:2], "00" if
                              t.fingerprint[:2] != "00" else "11", 1)
        cp = ferry_elf(t, "migrate", "start", "--from", a.uri, "--to", bad,
                       "big", "--network-map", "default=vlan100",
                       "--journal-dir", jdir, check=False)
        assert cp.returncode != 0 and "fingerprint mismatch" in cp.stderr, \
            cp.stderr
        cp = ferry_elf(t, "migrate", "start", "--from", a.uri, "--to",
                       t.uri(), "big", "--network-map", "default=vlan100",
                       "--journal-dir", jdir, password="not-it",
                       check=False)
        assert cp.returncode != 0 and "not-it" not in cp.stdout + cp.stderr
        assert "password" in cp.stderr.lower(), cp.stderr
        assert t.api("/get-vm-volumes", {}) == []
        assert not jdir.exists() or os.listdir(jdir) == []
    finally:
        a.close()
        t.close()


class ElfGuests:
    """What watch() asks of a platform, for the fake CloudTower: a VM's
    state, and its serial console, which the fake's qemu logs."""

    def __init__(self, t):
        self.t = t

    def state(self, vm):
        [v] = self.t.api("/get-vms", {"where": {"name": vm}})
        return "stopped" if v["status"] == "STOPPED" else "running"

    def serial(self, vm):
        return read_log(os.path.join(self.t.state_dir, "vms",
                                     f"{vm}.serial.log"))


def test_warm_migration_from_vmware_to_elf_boots_converted(
        tower, tmp_path, guest_image):
    """The test guest as a VMware VM of the simulator (on pvscsi): a full
    copy and two CBT rounds with writes between them, over iSCSI into
    ELF volumes; a cutover that verifies the disks, then converts the
    guest on its LUN; the VM made on ELF on VIRTIO with the source's MAC;
    started by the fake, the guest boots to its marker."""
    sim = Sim(tmp_path, "-memory-mib", "512", disk_mib=1024)
    vm = "DC0_H0_VM0"
    env = tower.env()
    env["FERRY_VMWARE_PASSWORD"] = VMWARE_PASSWORD
    env["FERRY_STATE_DIR"] = str(tmp_path / "state")  # the conversion's
    jdir = str(tmp_path / "j")

    def step(*args, timeout=600):
        cp = subprocess.run([FERRY, "migrate", *args, "--journal-dir", jdir,
                             "--json"], capture_output=True, text=True,
                            env=env, timeout=timeout)
        assert cp.returncode == 0, (args, cp.stdout, cp.stderr[-3000:],
                                    tower.log())
        for secret in (ELF_PASSWORD, VMWARE_PASSWORD):
            assert secret not in cp.stdout + cp.stderr
        return json.loads(cp.stdout)
    try:
        flat = sim.flat(vm)
        tool("qemu-img", "convert", "-n", "-f", "qcow2", "-O", "raw",
             guest_image, flat)
        src = json.loads(subprocess.run(
            [FERRY, "vm", "show", vm, "--platform", sim.uri(), "--json"],
            capture_output=True, text=True, env=env, check=True).stdout)
        assert [d["bus"] for d in src["disks"]] == ["scsi"], src["disks"]
        m = step("start", "--from", sim.uri(), "--to", tower.uri(), vm,
                 "--network-map", f"{src['nics'][0]['network']}=vlan100",
                 "--id", "vw")
        assert m["rounds"][0]["changed_bytes"] > 100 * MIB  # the guest
        [dst] = [d["dst_volume"] for d in m["disks"]]
        for k, fill in enumerate((0x5a, 0xa5)):
            guest_write(flat, GAP + k * 128 * 1024, bytes([fill]) * 65536)
            m = step("sync", "vw")
            assert m["rounds"][-1]["changed_bytes"] == 64 * 1024, m["rounds"]
        # what the rounds wrote over iSCSI is the source's, byte for byte
        cp = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "raw",
                             flat, lun_url(tower, dst)],
                            capture_output=True, text=True)
        assert cp.returncode == 0, (cp.stdout, cp.stderr)
        m = step("cutover", "vw", "--stop-timeout", "0",
                 timeout=CUTOVER_S)
        assert m["phase"] == "done" and m["verified"] and m["converted"], m
        assert "virtio_blk" in "\n".join(m["conversion"]), m["conversion"]
        [v] = tower.api("/get-vms", {"where": {"name": vm}})
        disks = tower.api("/get-vm-disks", {"where": {"vm": {"id": v["id"]}}})
        assert [(d["bus"], d["vm_volume"]["name"]) for d in disks] == \
            [("VIRTIO", dst)], disks
        nics = tower.api("/get-vm-nics", {"where": {"vm": {"id": v["id"]}}})
        assert [n["mac_address"] for n in nics] == \
            [src["nics"][0]["mac"]], nics
        left = os.listdir(os.path.join(env["FERRY_STATE_DIR"], "elf"))
        assert not [f for f in left if f.startswith("convert-")], left
        subprocess.run([FERRY, "vm", "start", vm, "--platform", tower.uri()],
                       env=env, check=True, capture_output=True)
        seen, out = watch(ElfGuests(tower), vm, [MARKER, GAVE_UP])
        root, _, nic, _ = booted(seen, out, "the guest from VMware, on ELF")
        assert root.startswith("/dev/vd") and nic == "virtio_net", \
            seen.group(0)
    finally:
        ferry_elf(tower, "vm", "stop", vm, "--force", "--platform",
                  tower.uri(), check=False)
        sim.close()


def test_a_source_larger_than_the_volume_is_refused_before_a_write(
        tower, tmp_path):
    """5 MiB into a 4 MiB ELF volume: refused, the volume as it was."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "python"))
    import ferry
    from elfhelpers import PASSWORD
    ferry_elf(tower, "volume", "create", "small", "4M", "--format", "raw",
              "--platform", tower.uri())
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0xaa 0 4M",
                    lun_url(tower, "small")], check=True,
                   capture_output=True)
    (tmp_path / "big.img").write_bytes(b"\x55" * (5 * MIB))
    files = ferry.Client.file(str(tmp_path))
    p = ferry.Platform(tower.uri(), password=PASSWORD)
    try:
        try:
            ferry.sync_extents(files, p.client, "big.img", "small")
            raise AssertionError("a larger source was copied")
        except OSError as e:
            assert "is smaller than source" in str(e), e
    finally:
        p.close()
    cp = subprocess.run(["qemu-io", "-f", "raw", "-c", "read -P 0xaa 0 4M",
                         lun_url(tower, "small")], capture_output=True,
                        text=True)
    assert cp.returncode == 0 and "failed" not in cp.stdout, cp.stdout
