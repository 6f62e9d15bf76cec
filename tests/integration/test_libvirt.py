"""The libvirt platform: inventory from libvirt's test driver (a fixture of
hosts, domains with disks, NICs and VLAN tags, networks and pools, in
process), then against a private real libvirtd with TCG domains:
inventory, lifecycle and snapshots through libvirt's own API."""
import json
import os
import subprocess

import pytest

from ferryhelpers import FERRY, describe, run_ferry
from libvirthelpers import domain_xml, volume_xml

TEST_NODE = """<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><active>8</active><nodes>1</nodes>
    <sockets>2</sockets><cores>2</cores><threads>2</threads></cpu>
  <memory>33554432</memory>
  <domain type='test'>
    <name>web01</name><uuid>11111111-2222-3333-4444-555555555555</uuid>
    <memory unit='MiB'>2048</memory><vcpu>2</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
        <source file='/var/lib/libvirt/images/web01-vda.qcow2'/>
        <target dev='vda' bus='virtio'/></disk>
      <disk type='volume' device='disk'><driver name='qemu' type='raw'/>
        <source pool='fast' volume='web01-data.img'/>
        <target dev='vdb' bus='virtio'/></disk>
      <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
      <interface type='network'><mac address='52:54:00:aa:00:01'/>
        <source network='prod' portgroup='vlan42'/><model type='virtio'/>
      </interface>
      <interface type='bridge'><mac address='52:54:00:aa:00:02'/>
        <source bridge='br-mgmt'/><vlan><tag id='7'/></vlan>
        <virtualport type='openvswitch'/><model type='e1000'/></interface>
    </devices>
  </domain>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>db01</name><test:runstate>5</test:runstate>
    <memory unit='MiB'>4096</memory><vcpu>4</vcpu>
    <os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>
    <devices>
      <disk type='file' device='disk'>
        <source file='/var/lib/libvirt/images/db01.raw'/>
        <target dev='sda' bus='scsi'/>
        <address type='drive' controller='0' bus='0' unit='1'/></disk>
      <controller type='scsi' index='0' model='lsilogic'/>
    </devices>
  </domain>
  <network><name>prod</name><forward mode='bridge'/>
    <bridge name='ovsbr0'/><virtualport type='openvswitch'/>
    <vlan trunk='yes'><tag id='42'/><tag id='43'/></vlan>
    <portgroup name='vlan42' default='yes'><vlan><tag id='42'/></vlan>
    </portgroup></network>
  <network><name>isolated</name><bridge name='virbr9'/>
    <vlan><tag id='9'/></vlan></network>
  <pool type='dir'><name>fast</name>
    <uuid>35bb2ad9-388a-cdfe-461a-b8907f6e53fe</uuid>
    <capacity unit='GiB'>100</capacity><allocation unit='GiB'>10</allocation>
    <available unit='GiB'>90</available><target><path>/fast</path></target>
    <volume type='file'><name>web01-data.img</name>
      <capacity unit='GiB'>10</capacity><allocation unit='GiB'>1</allocation>
      <target><path>/fast/web01-data.img</path><format type='raw'/></target>
    </volume></pool>
</node>
"""


def fjson(*args):
    cp = run_ferry(*args, "--json")
    assert cp.returncode == 0, describe(cp)
    return json.loads(cp.stdout)


def test_inventory_from_the_test_driver(tmp_path):
    node = tmp_path / "node.xml"
    node.write_text(TEST_NODE)
    u = f"test://{node}"
    inv = fjson("inventory", "--platform", u)
    assert [(h["cpus"], h["memory_mib"]) for h in inv["hosts"]] == \
        [(8, 32768)]
    vms = {v["name"]: v for v in inv["vms"]}
    web, db = vms["web01"], vms["db01"]
    assert (web["power_state"], web["vcpus"], web["memory_mib"],
            web["firmware"], web["id"]) == \
        ("running", 2, 2048, "bios", "11111111-2222-3333-4444-555555555555")
    assert [(d["device"], d["bus"], d["volume_id"], d["format"],
             d["boot_order"]) for d in web["disks"]] == [
        ("vda", "virtio", "/var/lib/libvirt/images/web01-vda.qcow2",
         "qcow2", 1),
        ("vdb", "virtio", "fast/web01-data.img", "raw", 0)], \
        "a cdrom is no disk"
    assert [(n["mac"], n["model"], n["network"], n["vlan_id"])
            for n in web["nics"]] == [
        ("52:54:00:aa:00:01", "virtio-net-pci", "prod/vlan42", 42),
        ("52:54:00:aa:00:02", "e1000", "br-mgmt", 7)]
    assert (db["power_state"], db["firmware"], db["machine"]) == \
        ("stopped", "uefi", "q35")
    assert [(d["device"], d["bus"], d["controller"], d["slot"])
            for d in db["disks"]] == [("sda", "scsi", "lsilogic", "0:1")]
    assert {v["id"]: v["vlan_id"] for v in inv["vlans"]} == \
        {"prod": -1, "prod/vlan42": 42, "isolated": 9}
    assert inv["summary"] == {"total": 2, "running": 1, "stopped": 1,
                              "paused": 0, "vcpus": 6, "memory_mib": 6144}
    vols = fjson("volume", "list", "--platform", u)
    assert [(v["id"], v["format"], v["capacity"], v["allocated"])
            for v in vols] == [("fast/web01-data.img", "raw", 10 << 30,
                                1 << 30)]
    assert fjson("vm", "show", "db01", "--platform", u)["name"] == "db01"
    cp = run_ferry("vm", "show", "nope", "--platform", u)
    assert cp.returncode == 1 and b"no VM 'nope' on the libvirt platform" \
        in cp.stderr, describe(cp)


@pytest.fixture(scope="module")
def lv(libvirtd):
    """The session's private libvirtd with a pool p0, a bridge network br0
    and two shut-off TCG domains: web (a pool volume and a file disk, a NIC
    on br0) and snap (one disk)."""
    d = libvirtd
    try:
        images = os.path.join(d.dir, "images")
        d.pool("p0", images)
        for name, mib in (("web-vda.qcow2", 32), ("snap-vda.qcow2", 16)):
            path = os.path.join(d.dir, f"{name}.xml")
            with open(path, "w") as f:
                f.write(volume_xml(name, mib))
            d.virsh("vol-create", "p0", path)
        vdb = os.path.join(images, "web-vdb.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", vdb,
                        "16M"], check=True)
        d.bridge_network("br0")
        d.define("", domain_xml("web", [("vda", "p0/web-vda.qcow2", "qcow2"),
                                        ("vdb", vdb, "qcow2")], "br0"))
        d.define("", domain_xml("snap", [("vda", "p0/snap-vda.qcow2",
                                          "qcow2")]))
        yield d
    finally:
        for name in ("web", "snap"):
            d.virsh("destroy", name, check=False)
            d.virsh("undefine", name, "--snapshots-metadata", check=False)
        d.remove("pool", "p0")
        d.remove("net", "br0")


def state(lv, name):
    return lv.virsh("domstate", name).stdout.strip()


def test_inventory_of_a_real_libvirtd(lv):
    inv = fjson("inventory", "--platform", lv.uri)
    web = {v["name"]: v for v in inv["vms"]}["web"]
    assert web["power_state"] == "stopped"
    assert [(d["device"], d["volume_id"], d["format"], d["capacity"])
            for d in web["disks"]] == [
        ("vda", "p0/web-vda.qcow2", "qcow2", 32 << 20),
        ("vdb", os.path.join(lv.dir, "images", "web-vdb.qcow2"), "qcow2",
         16 << 20)]
    assert [n["network"] for n in web["nics"]] == ["br0"]
    assert web["nics"][0]["mac"].startswith("52:54:00:")
    assert any(v["id"] == "br0" for v in inv["vlans"])
    vols = {v["id"]: v for v in fjson("volume", "list", "--platform",
                                      lv.uri)}
    assert vols["p0/web-vda.qcow2"]["format"] == "qcow2"
    assert vols["p0/web-vda.qcow2"]["capacity"] == 32 << 20
    text = run_ferry("inventory", "--platform", lv.uri).stdout.decode()
    assert "vm web " in text and "vm snap " in text, text


def test_lifecycle(lv):
    u = ("--platform", lv.uri)
    cp = run_ferry("vm", "start", "web", *u)
    assert cp.returncode == 0 and b"started" in cp.stdout + cp.stderr, \
        describe(cp)
    assert state(lv, "web") == "running"
    assert fjson("vm", "show", "web", *u)["power_state"] == "running"
    cp = run_ferry("vm", "delete", "web", *u)
    assert cp.returncode == 1 and b"is running: stop it first" in \
        cp.stderr, describe(cp)
    # no guest OS hears the ACPI request: powered off after the timeout
    cp = run_ferry("vm", "stop", "web", "--timeout", "1", *u)
    assert cp.returncode == 0, describe(cp)
    assert state(lv, "web") == "shut off"


def test_snapshots_through_libvirt(lv):
    u = ("--platform", lv.uri)
    s1 = fjson("snapshot", "create", "snap", "s1", "--description", "off",
               *u)
    assert (s1["name"], s1["parent"], s1["kind"], s1["shutdown"],
            s1["memory"], s1["description"]) == \
        ("s1", None, "internal", True, None, "off")
    assert run_ferry("vm", "start", "snap", *u).returncode == 0
    s2 = fjson("snapshot", "create", "snap", "s2", "--memory", *u)
    assert (s2["parent"], s2["running"], s2["memory"]) == \
        ("s1", True, "internal")
    listing = fjson("snapshot", "list", "snap", *u)
    assert [(s["name"], s["parent"]) for s in listing["snapshots"]] == \
        [("s1", None), ("s2", "s1")]
    assert listing["current"] == "s2"
    cp = run_ferry("snapshot", "create", "snap", "s2", *u)
    assert cp.returncode != 0 and b"already" in cp.stderr, describe(cp)
    cp = run_ferry("snapshot", "create", "snap", "a/../../x", "--external",
                   *u)
    assert cp.returncode == 2 and b"may not contain '/'" in cp.stderr, \
        describe(cp)

    assert run_ferry("snapshot", "revert", "snap", "s1", "--force",
                     *u).returncode == 0
    assert state(lv, "snap") == "shut off"
    assert fjson("snapshot", "list", "snap", *u)["current"] == "s1"
    assert run_ferry("snapshot", "revert", "snap", "s2", *u).returncode == 0
    assert state(lv, "snap") == "running", "s2 had its RAM"
    assert run_ferry("snapshot", "delete", "snap", "s1", *u).returncode == 0
    assert [(s["name"], s["parent"]) for s in
            fjson("snapshot", "list", "snap", *u)["snapshots"]] == \
        [("s2", None)], "its child went to its parent"

    # disk-only while running: external, which libvirt 9.0 cannot revert
    e1 = fjson("snapshot", "create", "snap", "e1", *u)
    assert (e1["kind"], e1["running"]) == ("external", True), e1
    assert e1["disks"][0]["file"], e1
    cp = run_ferry("snapshot", "revert", "snap", "e1", "--force", *u)
    assert cp.returncode != 0 and b"libvirt 9.0 cannot revert to an " \
        b"external snapshot" in cp.stderr, describe(cp)
    cp = run_ferry("snapshot", "create", "snap", "r", "--memory",
                   "--external", *u)
    assert cp.returncode != 0 and b"internal only" in cp.stderr
    subprocess.run([FERRY, "vm", "stop", "snap", "--force", *u],
                   capture_output=True, timeout=60)
    cp = run_ferry("snapshot", "create", "snap", "m", "--memory", *u)
    assert cp.returncode != 0 and b"not running" in cp.stderr, describe(cp)


def test_a_libvirtd_that_is_not_running_is_named(tmp_path):
    sock = tmp_path / "libvirt-sock"
    cp = run_ferry("vm", "list", "--platform",
                   f"qemu:///system?socket={sock}")
    assert cp.returncode != 0, describe(cp)
    assert str(sock).encode() in cp.stderr, describe(cp)


def test_warm_migration_from_the_local_platform_to_libvirt(lv, tmp_path):
    """A running VM of ferry's local platform, written between rounds, to
    the private libvirtd: volumes made in pool p0 (qcow2 v3), the domain
    defined with the source's MACs on the mapped network, verified, and
    started there; then a second plan is refused with nothing changed."""
    from qemuhelpers import Platform, migrate
    a = Platform(tmp_path / "a")
    jdir = str(tmp_path / "j")
    dst = f"{lv.uri}&pool=p0"
    try:
        a.create_vm("mv", extra=("--nic", "default"))
        a.start("mv")
        a.live_write("mv", 0x11)
        m = migrate(jdir, "start", "--from", a.uri, "--to", dst, "mv",
                    "--network-map", "default=br0", "--id", "lm")
        assert m["phase"] == "warm" and m["disks"][0]["dst_volume"] == \
            "p0/mv-vda.qcow2", m
        a.live_write("mv", 0x22)
        migrate(jdir, "sync", "lm")
        a.live_write("mv", 0x33)
        m = migrate(jdir, "cutover", "lm", "--stop-timeout", "1", "--start")
        assert (m["phase"], m["verified"]) == ("done", True), m
        assert state(lv, "mv") == "running"
        got = fjson("vm", "show", "mv", "--platform", lv.uri)
        src = a.json("vm", "show", "mv")
        assert [(n["mac"], n["network"]) for n in got["nics"]] == \
            [(n["mac"], "br0") for n in src["nics"]]
        assert [(d["device"], d["volume_id"], d["format"]) for d in
                got["disks"]] == [("vda", "p0/mv-vda.qcow2", "qcow2"),
                                  ("vdb", "p0/mv-vdb.qcow2", "qcow2")]
        info = subprocess.run(["qemu-img", "info", "-U", "--output=json",
                               os.path.join(lv.dir, "images",
                                            "mv-vda.qcow2")],
                              capture_output=True, text=True, check=True)
        assert json.loads(info.stdout)["format-specific"]["data"][
            "compat"] == "1.1"
        lv.virsh("destroy", "mv")
        top = {d["device"]: os.path.join(a.real, "volumes", d["volume_id"])
               for d in src["disks"]}  # the source's top images now
        for dev in ("vda", "vdb"):
            cp = subprocess.run(["qemu-img", "compare", "-U", top[dev],
                                 os.path.join(lv.dir, "images",
                                              f"mv-{dev}.qcow2")],
                                capture_output=True, text=True)
            assert cp.returncode == 0, (dev, cp.stdout, cp.stderr)

        # the same VM again: its name is taken there, refused up front
        before = lv.virsh("vol-list", "p0").stdout
        cp = run_ferry("migrate", "plan", "--from", a.uri, "--to", dst, "mv",
                       "--network-map", "default=br0", "--journal-dir", jdir)
        assert cp.returncode != 0 and b"a VM named 'mv' already" in \
            cp.stderr, describe(cp)
        lv.virsh("undefine", "mv")  # its volumes stay: a clash too
        cp = run_ferry("migrate", "plan", "--from", a.uri, "--to", dst, "mv",
                       "--network-map", "default=br0", "--journal-dir", jdir)
        assert cp.returncode != 0 and b"pool 'p0' has a volume " \
            b"'mv-vda.qcow2' already" in cp.stderr, describe(cp)
        cp = run_ferry("migrate", "plan", "--from", a.uri, "--to",
                       f"{lv.uri}&pool=nopool", "mv", "--network-map",
                       "default=br0", "--journal-dir", jdir)
        assert cp.returncode != 0 and b"no storage pool 'nopool'" in \
            cp.stderr and b"p0" in cp.stderr, describe(cp)
        cp = run_ferry("migrate", "plan", "--from", a.uri, "--to", dst, "mv",
                       "--network-map", "default=nonet", "--journal-dir",
                       jdir)
        assert cp.returncode != 0 and b"br0" in cp.stderr, describe(cp)
        assert lv.virsh("vol-list", "p0").stdout == before
    finally:
        lv.virsh("destroy", "mv", check=False)
        lv.virsh("undefine", "mv", check=False)
        a.close()


def test_the_test_driver_is_refused_as_a_source(tmp_path):
    """libvirt's test driver has no backups: a migration from it is
    refused at the plan, before anything is made."""
    from qemuhelpers import Platform
    node = tmp_path / "node.xml"
    node.write_text(TEST_NODE)
    b = Platform(tmp_path / "b")
    try:
        cp = run_ferry("migrate", "start", "--from", f"test://{node}",
                       "--to", b.uri, "web01", "--id", "x", "--journal-dir",
                       tmp_path / "j")
        assert cp.returncode != 0 and b"test driver has no checkpoints" in \
            cp.stderr, describe(cp)
        assert not (tmp_path / "j").exists() or \
            os.listdir(tmp_path / "j") == []
    finally:
        b.close()


def test_a_pool_without_room_is_refused_with_nothing_made(lv, tmp_path):
    """A VM whose disks would not fit in the pool's free space (a sparse
    60 TiB disk) is refused at the plan, saying how much is free and
    needed; no volume, journal or domain is made."""
    from qemuhelpers import Platform
    a = Platform(tmp_path / "a")
    jdir = tmp_path / "j"
    try:
        a.create_vm("huge", disks=0, extra=("--disk", "60T"))
        before = lv.virsh("vol-list", "p0").stdout
        cp = run_ferry("migrate", "start", "--from", a.uri, "--to",
                       f"{lv.uri}&pool=p0", "huge", "--id", "h",
                       "--journal-dir", jdir)
        assert cp.returncode != 0, describe(cp)
        err = cp.stderr.decode()
        assert "pool 'p0' has" in err and "MiB free" in err and \
            "62914560 MiB" in err, err
        assert lv.virsh("vol-list", "p0").stdout == before
        assert not jdir.exists() or os.listdir(jdir) == []
        assert lv.virsh("domstate", "huge", check=False).returncode != 0
    finally:
        a.close()
