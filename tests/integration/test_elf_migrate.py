"""Warm migration to SmartX ELF (the fake CloudTower, its volumes real
iSCSI LUNs of a private tgtd): from ferry's local qemu platform, through
its dirty bitmaps, with guest writes between rounds; the destination
volumes written over iSCSI, the VM made on ELF with the source's MAC on
the mapped VLAN, and the disks compared byte for byte with qemu's iscsi
driver; refusals before anything is made."""
import json
import os
import subprocess

from elfhelpers import Tower, ferry_elf, tower  # noqa: F401
from qemuhelpers import Platform

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
        assert t.api("/get-vm-volumes", {}) == []
        assert not jdir.exists() or os.listdir(jdir) == []
    finally:
        a.close()
        t.close()
