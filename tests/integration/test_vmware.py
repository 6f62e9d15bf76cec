"""ferry against VMware's own vSphere simulator (govmomi's, extended in
tests/vsphere-sim with QueryChangedDiskAreas and frozen snapshot disks):
TLS trust by thumbprint, login, inventory, snapshots, CBT, and a warm
migration from vmware to a local qemu platform verified with cmp."""
import json
import os
import random
import subprocess

import pytest

from ferryhelpers import FERRY, MiB
from qemuhelpers import Platform, tool
from vspherehelpers import PASSWORD, Sim, ferry, guest_write

VM = "DC0_H0_VM0"
NET = "dvportgroup-13"


@pytest.fixture
def sim(tmp_path):
    s = Sim(tmp_path)
    try:
        yield s
    finally:
        s.close()


def fjson(sim, *args):
    return json.loads(ferry(sim, *args, "--json").stdout)


def snapshots(sim, vm, s=None):
    s = s or sim
    return [x["name"] for x in fjson(s, "snapshot", "list", vm, "--platform",
                                     s.uri())["snapshots"]]


def test_thumbprint_matches_the_servers_certificate(sim):
    cp = ferry(sim, "vmware", "thumbprint", sim.host, password_file=False)
    assert cp.stdout.strip() == sim.thumbprint
    assert "trust on first use" in cp.stderr
    # the simulator is a vCenter model, not an ESXi host
    cp = ferry(sim, "vmware", "thumbprint", sim.host, "--esxi", expect=1,
               password_file=False)
    assert "not an ESXi host" in cp.stderr


def test_inventory_lists_the_simulators_objects(sim):
    inv = fjson(sim, "inventory", "--platform", sim.uri())
    assert [d["name"] for d in inv["datacenters"]] == ["DC0"]
    assert [c["name"] for c in inv["clusters"]] == ["DC0_C0"]
    hosts = {h["name"]: h for h in inv["hosts"]}
    assert set(hosts) == {"DC0_H0", "DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2"}
    assert hosts["DC0_H0"]["cluster_id"] is None
    assert hosts["DC0_C0_H1"]["cluster_id"] == inv["clusters"][0]["id"]
    vms = {v["name"]: v for v in inv["vms"]}
    assert set(vms) == {"DC0_H0_VM0", "DC0_H0_VM1", "DC0_C0_RP0_VM0",
                        "DC0_C0_RP0_VM1"}
    vm = vms[VM]
    assert vm["power_state"] == "running"
    assert vm["host_id"] == hosts["DC0_H0"]["id"]
    [disk] = vm["disks"]
    assert disk["volume_id"] == f"[LocalDS_0] {VM}/disk1.vmdk"
    assert disk["capacity"] == 16 * MiB
    assert (disk["device"], disk["bus"], disk["controller"], disk["slot"]) \
        == ("sda", "scsi", "pvscsi", "0:0")
    [nic] = vm["nics"]
    assert nic["network"] == NET and nic["vlan_id"] == 0
    assert len(nic["mac"]) == 17
    vlans = {v["id"]: v for v in inv["vlans"]}
    assert vlans[NET]["name"] == "DC0_DVPG0"
    assert inv["summary"]["total"] == 4


def test_paged_inventory_is_complete(sim, monkeypatch):
    monkeypatch.setenv("FERRY_VMWARE_PAGE_SIZE", "1")
    vms = fjson(sim, "vm", "list", "--platform", sim.uri())
    assert len(vms) == 4
    vms = fjson(sim, "vm", "list", "--platform", sim.uri(), "--name",
                "DC0_C0_*")
    assert sorted(v["name"] for v in vms) == ["DC0_C0_RP0_VM0",
                                              "DC0_C0_RP0_VM1"]


def test_wrong_thumbprint_is_refused_showing_both(sim):
    bad = "AA:" + sim.thumbprint[3:]
    cp = ferry(sim, "inventory", "--platform", sim.uri(bad), expect=2)
    assert "thumbprint mismatch" in cp.stderr
    assert sim.thumbprint in cp.stderr and bad in cp.stderr
    cp = ferry(sim, "inventory", "--platform",
               f"vmware://user@{sim.host}", expect=2)
    assert "no thumbprint" in cp.stderr


def test_wrong_password_is_refused(sim, tmp_path):
    bad = tmp_path / "bad"
    bad.write_text("nope\n")
    cp = subprocess.run([FERRY, "inventory", "--platform", sim.uri(),
                         "--password-file", str(bad)], capture_output=True,
                        text=True, timeout=60)
    assert cp.returncode == 2
    assert "wrong user name or password" in cp.stderr
    # no terminal, no file, no variable: refused without asking
    env = {k: v for k, v in os.environ.items()
           if k != "FERRY_VMWARE_PASSWORD"}
    cp = subprocess.run([FERRY, "inventory", "--platform", sim.uri()],
                        capture_output=True, text=True, timeout=60, env=env,
                        stdin=subprocess.DEVNULL, start_new_session=True)
    assert cp.returncode == 2 and "no password" in cp.stderr


def test_a_user_name_with_an_at_sign(tmp_path):
    """vCenter's administrator@vsphere.local: in the URI as %40, as it is
    (the last @ ends the user name), or given with --user; a wrong one is
    refused once, in a sentence."""
    s = Sim(tmp_path, "-username", "administrator@vsphere.local")
    try:
        base = f"vmware://{s.host}?thumbprint={s.thumbprint}"
        enc = f"vmware://administrator%40vsphere.local@{s.host}" \
              f"?thumbprint={s.thumbprint}"
        raw = f"vmware://administrator@vsphere.local@{s.host}" \
              f"?thumbprint={s.thumbprint}"
        for args in (["--platform", enc], ["--platform", raw],
                     ["--platform", base, "--user",
                      "administrator@vsphere.local"]):
            vms = json.loads(ferry(s, "vm", "list", *args, "--json").stdout)
            assert VM in [v["name"] for v in vms], args
        cp = ferry(s, "vm", "list", "--platform", base, "--user", "root",
                   expect=2)
        assert "wrong user name or password" in cp.stderr, cp.stderr
        assert cp.stderr.count(s.host) <= 1, cp.stderr
    finally:
        s.close()


def test_snapshots_create_list_delete(sim):
    u = sim.uri()
    ferry(sim, "snapshot", "create", VM, "one", "--platform", u)
    ferry(sim, "snapshot", "create", VM, "two", "--platform", u)
    cp = ferry(sim, "snapshot", "create", VM, "two", "--platform", u,
               expect=1)
    assert "already" in cp.stderr
    listed = fjson(sim, "snapshot", "list", VM, "--platform", u)
    snaps = listed["snapshots"]
    assert [(s["name"], s["parent"]) for s in snaps] == [("one", None),
                                                         ("two", "one")]
    assert all(s["running"] for s in snaps)
    assert listed["current"] == "two"
    ferry(sim, "snapshot", "delete", VM, "two", "--platform", u)
    ferry(sim, "snapshot", "delete", VM, "one", "--platform", u)
    assert snapshots(sim, VM) == []
    cp = ferry(sim, "snapshot", "delete", VM, "one", "--platform", u,
               expect=1)
    assert "no snapshot 'one'" in cp.stderr


# --------------------------------------------------------------------------
# Warm migration from vmware to qemu


@pytest.fixture
def dest(tmp_path):
    p = Platform(tmp_path / "q")
    try:
        yield p
    finally:
        p.close()


def migrate(sim, jdir, *args, expect=0):
    cp = ferry(sim, "migrate", *args, "--journal-dir", jdir, "--json",
               expect=expect)
    return json.loads(cp.stdout) if expect == 0 else cp


def test_warm_migration_from_vmware(sim, dest, tmp_path):
    rng = random.Random(5)
    disk = sim.flat(VM)
    # the guest's data before the migration: 3 MiB in two places
    guest_write(disk, 1 * MiB, rng.randbytes(2 * MiB))
    guest_write(disk, 9 * MiB, rng.randbytes(1 * MiB))
    jdir = str(tmp_path / "j")
    m = migrate(sim, jdir, "start", "--from", sim.uri(), "--to", dest.uri,
                VM, "--network-map", f"{NET}=default", "--id", "m")
    assert m["phase"] == "warm"
    assert m["rounds"][0]["changed_bytes"] == 3 * MiB  # CBT's "*"
    # round 2: 3 writes of 64 KiB; round 3: one 4 KiB write
    for off in (4 * MiB, 6 * MiB + 128 * 1024, 15 * MiB):
        guest_write(disk, off, rng.randbytes(64 * 1024))
    m = migrate(sim, jdir, "sync", "m")
    assert m["rounds"][1]["changed_bytes"] == 3 * 64 * 1024
    guest_write(disk, 12 * MiB + 4096, rng.randbytes(4096))
    m = migrate(sim, jdir, "sync", "m")
    assert m["rounds"][2]["changed_bytes"] == 64 * 1024  # CBT's 64 KiB
    guest_write(disk, 2 * MiB, rng.randbytes(8192))
    m = migrate(sim, jdir, "cutover", "m", "--stop-timeout", "0")
    assert m["phase"] == "done" and m["verified"]
    assert m["rounds"][3]["changed_bytes"] == 64 * 1024
    # the destination's disk, exported raw, is the source's byte for byte
    [d] = dest.json("vm", "show", VM)["disks"]
    out = str(tmp_path / "dst.raw")
    tool("qemu-img", "convert", "-O", "raw",
         os.path.join(dest.real, "volumes", d["volume_id"]), out)
    assert subprocess.run(["cmp", disk, out]).returncode == 0
    # the source keeps no migration snapshot and is powered off
    assert snapshots(sim, VM) == []
    vm = fjson(sim, "vm", "show", VM, "--platform", sim.uri())
    assert vm["power_state"] == "stopped"


def test_vm_with_snapshots_is_refused_unchanged(sim, dest, tmp_path):
    u = sim.uri()
    ferry(sim, "snapshot", "create", VM, "users-own", "--platform", u)
    jdir = str(tmp_path / "j")
    cp = migrate(sim, jdir, "start", "--from", u, "--to", dest.uri, VM,
                 "--network-map", f"{NET}=default", "--id", "m", expect=1)
    assert "'users-own'" in cp.stdout and "without snapshots" in cp.stdout
    assert snapshots(sim, VM) == ["users-own"]
    assert dest.json("volume", "list") == []


def test_vm_without_cbt_support_is_refused(tmp_path, dest):
    s = Sim(tmp_path, "-no-cbt", VM)
    try:
        jdir = str(tmp_path / "j")
        cp = migrate(s, jdir, "start", "--from", s.uri(), "--to", dest.uri,
                     VM, "--network-map", f"{NET}=default", "--id", "m",
                     expect=1)
        assert "cannot track changed blocks" in cp.stdout
        assert snapshots(s, VM) == []
        assert dest.json("volume", "list") == []
    finally:
        s.close()


def test_warm_migration_through_vddk(sim, dest, tmp_path, monkeypatch):
    """The same migration through the VDDK data path: ferry loads the
    project's test libvixDiskLib.so, which serves the datastore's files and
    checks what a real server would (credentials, thumbprint, moref)."""
    from ferryhelpers import BUILD
    log = tmp_path / "vddk.log"
    monkeypatch.setenv("FERRY_VDDK_DUMMY_DATASTORES",
                       f"LocalDS_0={sim.datastore}")
    monkeypatch.setenv("FERRY_VDDK_DUMMY_THUMBPRINT", sim.thumbprint)
    monkeypatch.setenv("FERRY_VDDK_DUMMY_USER", "user")
    monkeypatch.setenv("FERRY_VDDK_DUMMY_PASSWORD", PASSWORD)
    monkeypatch.setenv("FERRY_VDDK_DUMMY_LOG", str(log))
    libdir = os.path.join(BUILD, "tests", "vddk-dummy")
    src = sim.uri(extra=f"&transport=vddk&vddk_libdir={libdir}")
    rng = random.Random(9)
    disk = sim.flat(VM)
    guest_write(disk, 5 * MiB, rng.randbytes(1 * MiB))
    jdir = str(tmp_path / "j")
    m = migrate(sim, jdir, "start", "--from", src, "--to", dest.uri, VM,
                "--network-map", f"{NET}=default", "--id", "m")
    # VDDK's QueryAllocatedBlocks on the snapshot's frozen disk
    assert m["rounds"][0]["changed_bytes"] == 1 * MiB
    guest_write(disk, 7 * MiB, rng.randbytes(100 * 1024))
    m = migrate(sim, jdir, "sync", "m")
    assert m["rounds"][1]["changed_bytes"] == 2 * 64 * 1024
    m = migrate(sim, jdir, "cutover", "m", "--stop-timeout", "0")
    assert m["phase"] == "done" and m["verified"]
    [d] = dest.json("vm", "show", VM)["disks"]
    out = str(tmp_path / "dst.raw")
    tool("qemu-img", "convert", "-O", "raw",
         os.path.join(dest.real, "volumes", d["volume_id"]), out)
    assert subprocess.run(["cmp", disk, out]).returncode == 0
    calls = log.read_text()
    assert PASSWORD not in calls
    connects = [l for l in calls.splitlines() if l.startswith("ConnectEx")]
    assert connects and all(f"thumbprint={sim.thumbprint}" in l and
                            "vmx=moref=vm-" in l and "snapshot=snapshot-" in l
                            and "readonly=1" in l for l in connects), calls
    assert "-> error" not in calls


def test_vddk_refuses_a_wrong_thumbprint(sim, dest, tmp_path, monkeypatch):
    """VDDK gets the thumbprint the user pinned: a server whose certificate
    differs (here: the dummy told to expect another) fails the copy."""
    from ferryhelpers import BUILD
    monkeypatch.setenv("FERRY_VDDK_DUMMY_DATASTORES",
                       f"LocalDS_0={sim.datastore}")
    monkeypatch.setenv("FERRY_VDDK_DUMMY_THUMBPRINT", "AA:" +
                       sim.thumbprint[3:])
    libdir = os.path.join(BUILD, "tests", "vddk-dummy")
    src = sim.uri(extra=f"&transport=vddk&vddk_libdir={libdir}")
    cp = migrate(sim, str(tmp_path / "j"), "start", "--from", src, "--to",
                 dest.uri, VM, "--network-map", f"{NET}=default", "--id",
                 "m", expect=1)
    assert "VixDiskLib_ConnectEx" in cp.stdout, cp.stdout
    assert snapshots(sim, VM) == []  # the failed start took S1 away


def test_get_vms_by_host_and_cluster(sim):
    inv = fjson(sim, "inventory", "--platform", sim.uri())
    hosts = {h["name"]: h["id"] for h in inv["hosts"]}
    cluster = inv["clusters"][0]["id"]
    names = lambda *a: sorted(v["name"] for v in fjson(  # noqa: E731
        sim, "vm", "list", "--platform", sim.uri(), *a))
    assert names("--host", hosts["DC0_H0"]) == ["DC0_H0_VM0", "DC0_H0_VM1"]
    assert names("--cluster", cluster) == ["DC0_C0_RP0_VM0",
                                           "DC0_C0_RP0_VM1"]
    assert names("--cluster", cluster, "--name", "*VM1") == [
        "DC0_C0_RP0_VM1"]
    assert names("--state", "stopped") == []


def test_vm_and_volume_lifecycle(sim):
    u = sim.uri()
    vol = "[LocalDS_0] extra/data.vmdk"
    v = fjson(sim, "volume", "create", vol, "4M", "--platform", u)
    assert v["capacity"] == 4 * MiB and v["format"] == "vmdk"
    assert os.path.exists(os.path.join(sim.datastore, "extra", "data.vmdk"))
    cp = ferry(sim, "volume", "create", "[LocalDS_0] ../escape.vmdk", "4M",
               "--platform", u, expect=2)
    assert "inside its datastore" in cp.stderr or "inside" in cp.stdout
    vm = fjson(sim, "vm", "create", "moved", "--vcpus", "2", "--memory",
               "512", "--disk", "8M", "--disk", vol, "--nic",
               f"{NET},mac=00:50:56:01:02:03", "--nic", "network-7",
               "--platform", u)
    assert (vm["vcpus"], vm["memory_mib"], vm["power_state"]) == (
        2, 512, "stopped")
    # (the simulator's CreateVirtualDisk writes empty files, so the
    # attached disk's capacity is not checked here)
    assert [d["device"] for d in vm["disks"]] == ["sda", "sdb"]
    assert vm["disks"][0]["capacity"] == 8 * MiB
    assert vm["disks"][1]["volume_id"] == vol
    assert [(n["network"], n["model"]) for n in vm["nics"]] == [
        (NET, "vmxnet3"), ("network-7", "vmxnet3")]
    assert vm["nics"][0]["mac"] == "00:50:56:01:02:03"
    cp = ferry(sim, "vm", "create", "moved", "--platform", u, expect=1)
    assert "already" in cp.stderr
    ferry(sim, "vm", "start", "moved", "--platform", u)
    assert fjson(sim, "vm", "show", "moved", "--platform", u)[
        "power_state"] == "running"
    cp = ferry(sim, "vm", "delete", "moved", "--platform", u, expect=1)
    assert "stop it" in cp.stderr
    ferry(sim, "vm", "stop", "moved", "--force", "--platform", u)
    ferry(sim, "vm", "delete", "moved", "--platform", u)
    assert "moved" not in [x["name"] for x in fjson(
        sim, "vm", "list", "--platform", u)]


def test_migration_refused_before_anything_changes(sim, dest, tmp_path):
    """A wrong thumbprint or password stops `migrate start` at the door:
    no journal, no snapshot on the source, no volume at the destination."""
    jdir = str(tmp_path / "j")
    bad_pw = tmp_path / "bad"
    bad_pw.write_text("nope\n")
    for src, pw in ((sim.uri("AA:" + sim.thumbprint[3:]), sim.pwfile),
                    (sim.uri(), str(bad_pw))):
        cp = subprocess.run(
            [FERRY, "migrate", "start", "--from", src, "--to", dest.uri, VM,
             "--network-map", f"{NET}=default", "--id", "m", "--journal-dir",
             jdir, "--password-file", pw, "--json"],
            capture_output=True, text=True, timeout=120)
        assert cp.returncode != 0
        out = cp.stdout + cp.stderr
        assert "thumbprint mismatch" in out or "wrong user name or " \
            "password" in out, out
        assert PASSWORD not in out
        assert not os.path.exists(os.path.join(jdir, "m.json"))
    assert snapshots(sim, VM) == []
    assert dest.json("volume", "list") == []


def test_transport_option_and_vddk_without_library(sim, dest, tmp_path):
    """--transport vddk without a VDDK directory is refused up front."""
    cp = ferry(sim, "inventory", "--platform", sim.uri(), "--transport",
               "vddk", expect=2)
    assert "needs the VDDK directory" in cp.stderr
    cp = ferry(sim, "inventory", "--platform", sim.uri(), "--transport",
               "nfc", expect=2)
    assert "want vddk or https" in cp.stderr


def test_vmware_as_destination_is_refused_up_front(sim, tmp_path):
    """ferry writes no VMware volumes: a vmware destination is refused
    before any volume is made there."""
    import tempfile
    src = tempfile.mkdtemp(prefix="fv", dir="/tmp")  # short: its sockets
    os.mkdir(os.path.join(src, "vms"))  # an empty platform
    cp = subprocess.run(
        [FERRY, "migrate", "start", "--from", f"local://{src}",
         "--to", sim.uri(), "web", "--network-map", "a=b", "--id", "m",
         "--journal-dir", str(tmp_path / "j"), "--password-file",
         sim.pwfile], capture_output=True, text=True, timeout=60)
    assert cp.returncode != 0
    subprocess.run(["rm", "-rf", src])
    assert "ferry migrates to qemu, libvirt and elf platforms" in \
        cp.stderr + cp.stdout, cp.stderr
    assert not os.path.exists(os.path.join(sim.datastore, "web"))
