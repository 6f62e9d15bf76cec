"""The ELF platform (CloudTower's REST API) against the fake CloudTower
(tests/cloudtower-sim/, real iSCSI LUNs underneath): trust by the
certificate's SHA-256 fingerprint, the login and a login again when the
session ends, inventory as standard objects, volumes made and deleted
through tasks, CloudTower's errors (a failed task's EAllocSpace, a locked
resource) as ferry's."""
import json
import os
import subprocess

from elfhelpers import PASSWORD, Tower, ferry_elf, tower  # noqa: F401
from ferryhelpers import FERRY

MIB = 1 << 20


def fj(t, *args):
    return json.loads(ferry_elf(t, *args, "--json").stdout)


def test_fingerprint_is_the_certificates(tower):
    cp = ferry_elf(tower, "elf", "fingerprint", tower.host)
    assert cp.stdout.strip() == tower.fingerprint, cp
    assert "trust on first use" in cp.stderr
    got = fj(tower, "elf", "fingerprint", tower.host)
    assert got == {"ok": True, "host": tower.host,
                   "fingerprint": tower.fingerprint}


def test_a_wrong_fingerprint_is_refused_before_the_password_is_sent(tower):
    logins = tower.requests("/login")
    wrong = tower.fingerprint[:-2] + ("00" if tower.fingerprint[-2:] != "00"
                                      else "11")
    cp = ferry_elf(tower, "vm", "list", "--platform",
                   tower.uri(fingerprint=wrong), check=False)
    assert cp.returncode != 0, cp
    assert "fingerprint mismatch" in cp.stderr and tower.fingerprint in \
        cp.stderr and wrong in cp.stderr, cp.stderr
    assert tower.requests("/login") == logins, "a login reached the server"
    cp = ferry_elf(tower, "vm", "list", "--platform",
                   tower.uri(fingerprint=None), check=False)
    assert cp.returncode != 0 and "ferry elf fingerprint" in cp.stderr, cp


def test_a_wrong_password_is_refused_and_not_shown(tower):
    cp = ferry_elf(tower, "vm", "list", "--platform", tower.uri(),
                   password="not-it-42", check=False)
    assert cp.returncode != 0, cp
    assert "login to" in cp.stderr and "refused" in cp.stderr, cp.stderr
    assert "not-it-42" not in cp.stderr + cp.stdout
    cp = ferry_elf(tower, "vm", "list", "-v", "--platform", tower.uri())
    assert PASSWORD not in cp.stderr + cp.stdout
    assert "elf: /login: HTTP 200" in cp.stderr, cp.stderr


def test_inventory_as_standard_objects(tower):
    inv = fj(tower, "inventory", "--platform", tower.uri())
    [dc] = inv["datacenters"]
    [cl] = inv["clusters"]
    assert (dc["name"], cl["name"], cl["datacenter_id"]) == \
        ("dc1", "elf-cluster", dc["id"])
    assert sorted(h["name"] for h in inv["hosts"]) == ["elf-host1",
                                                       "elf-host2"]
    assert all(h["cluster_id"] == cl["id"] and h["datacenter_id"] == dc["id"]
               and h["connected"] and h["cpus"] == 8 for h in inv["hosts"])
    # guest networks only, the tag as vlan_id (0: untagged), the id CloudTower's
    assert sorted((v["name"], v["vlan_id"]) for v in inv["vlans"]) == \
        [("default", -1), ("vlan100", 100)]
    text = ferry_elf(tower, "inventory", "--platform", tower.uri()).stdout
    assert "host elf-host1: 8 CPUs" in text and "tag 100" in text, text


def test_a_vm_with_its_disks_and_nics(tower):
    """A VM made through CloudTower's API (two volumes, on VIRTIO and SCSI,
    a NIC on vlan100) as ferry shows it: disks by boot order, known by
    their volumes; the NIC by its MAC, with the VLAN's tag."""
    c = tower.cluster()["id"]
    vols = []
    for name, size in (("web-boot", 32 * MIB), ("web-data", 16 * MIB)):
        tower.wait(tower.api("/create-vm-volume", [{
            "cluster_id": c, "name": name, "size": size,
            "elf_storage_policy": "REPLICA_2_THIN_PROVISION",
            "sharing": False}]))
        vols.append(tower.api("/get-vm-volumes",
                              {"where": {"name": name}})[0])
    [vlan] = tower.api("/get-vlans", {"where": {"name": "vlan100"}})
    tower.wait(tower.api("/create-vm", [{
        "cluster_id": c, "name": "web", "cpu_sockets": 1, "cpu_cores": 2,
        "vcpu": 2, "memory": 256 * MIB, "firmware": "UEFI", "ha": False,
        "status": "STOPPED", "guest_os_type": "LINUX",
        "vm_disks": {"mount_disks": [
            {"vm_volume_id": vols[1]["id"], "bus": "SCSI", "boot": 1},
            {"vm_volume_id": vols[0]["id"], "bus": "VIRTIO", "boot": 0}]},
        "vm_nics": [{"connect_vlan_id": vlan["id"],
                     "mac_address": "52:54:00:12:34:56", "model": "E1000"}]}]))
    try:
        vm = fj(tower, "vm", "show", "web", "--platform", tower.uri())
        assert (vm["power_state"], vm["vcpus"], vm["memory_mib"],
                vm["firmware"]) == ("stopped", 2, 256, "uefi"), vm
        # a volume known by its name, unique here
        assert [(d["device"], d["bus"], d["volume_id"], d["capacity"],
                 d["boot_order"]) for d in vm["disks"]] == [
            ("vda", "virtio", "web-boot", 32 * MIB, 1),
            ("sda", "scsi", "web-data", 16 * MIB, 2)], vm["disks"]
        assert [(n["mac"], n["model"], n["network"], n["vlan_id"])
                for n in vm["nics"]] == [("52:54:00:12:34:56", "e1000",
                                          vlan["id"], 100)], vm["nics"]
        # the same VM by its id and by its uuid (CloudTower's local_id)
        for key in (vm["id"], vm["uuid"]):
            assert fj(tower, "vm", "show", key, "--platform",
                      tower.uri())["name"] == "web"
        listed = fj(tower, "vm", "list", "--platform", tower.uri())
        assert [v["name"] for v in listed] == ["web"]
        cp = ferry_elf(tower, "vm", "show", "nope", "--platform",
                       tower.uri(), check=False)
        assert cp.returncode != 0 and "no VM 'nope'" in cp.stderr, cp
    finally:
        tower.wait(tower.api("/delete-vm", {"where": {"name": "web"}}))
        for v in vols:
            tower.wait(tower.api("/delete-vm-volume",
                                 {"where": {"id": v["id"]}}))


def test_the_session_ending_logs_in_again(tower):
    """The token stops working between two calls of one ferry command."""
    before = tower.requests("/login")
    tower.post("/_sim/expire", {"after": 1})  # open's cluster lookup, then
    cp = ferry_elf(tower, "volume", "list", "-v", "--platform", tower.uri())
    assert "the session ended: log in again" in cp.stderr, cp.stderr
    assert tower.requests("/login") == before + 2  # open's, then again


def test_volumes_made_and_deleted_through_tasks(tower):
    made = fj(tower, "volume", "create", "vol-a", "48M", "--format", "raw",
              "--platform", tower.uri())
    assert (made["name"], made["format"], made["capacity"]) == \
        ("vol-a", "raw", 48 * MIB), made
    assert made["path"].startswith(
        "iscsi://iqn.2016-02.com.smartx:system:zbs-iscsi-datastore-")
    iqn, lun = made["path"][len("iscsi://"):].rsplit("/", 1)
    cp = subprocess.run(["qemu-img", "info", "--output=json",
                         f"iscsi://127.0.0.1:{tower.iscsi_port}/{iqn}/{lun}"],
                        capture_output=True, text=True)
    assert '"virtual-size": 50331648' in cp.stdout, cp  # a real LUN
    listed = fj(tower, "volume", "list", "--platform", tower.uri())
    assert [(v["id"], v["name"]) for v in listed] == [("vol-a", "vol-a")]
    assert made["id"] == "vol-a"  # its name, unique: its id in ferry
    cp = ferry_elf(tower, "volume", "create", "vol-a", "8M", "--format",
                   "raw", "--platform", tower.uri(), check=False)
    assert cp.returncode != 0 and "'vol-a' already" in cp.stderr, cp
    cp = ferry_elf(tower, "volume", "create", "vol-q", "8M", "--format",
                   "qcow2", "--platform", tower.uri(), check=False)
    assert cp.returncode != 0 and "raw iSCSI LUNs" in cp.stderr, cp
    ferry_elf(tower, "volume", "delete", "vol-a", "--platform", tower.uri())
    assert fj(tower, "volume", "list", "--platform", tower.uri()) == []


def test_a_name_two_volumes_share_is_not_an_id(tower):
    """Two volumes of one name (made outside ferry): each is known by its
    CloudTower id, and the name alone is refused as ambiguous."""
    c = tower.cluster()["id"]
    for _ in range(2):
        tower.wait(tower.api("/create-vm-volume", [{
            "cluster_id": c, "name": "twin", "size": MIB,
            "elf_storage_policy": "REPLICA_2_THIN_PROVISION",
            "sharing": False}]))
    twins = tower.api("/get-vm-volumes", {"where": {"name": "twin"}})
    listed = fj(tower, "volume", "list", "--platform", tower.uri())
    assert sorted(v["id"] for v in listed) == sorted(t["id"] for t in twins)
    cp = ferry_elf(tower, "volume", "delete", "twin", "--platform",
                   tower.uri(), check=False)
    assert cp.returncode != 0 and "2 ELF volumes are named 'twin'" in \
        cp.stderr, cp
    for t in twins:
        ferry_elf(tower, "volume", "delete", t["id"], "--platform",
                  tower.uri())


def test_a_locked_volume_is_waited_for(tower):
    """CloudTower answers ResourceLocked while another operation holds the
    volume: ferry tries again, backing off, and the delete goes through."""
    fj(tower, "volume", "create", "vol-l", "8M", "--platform", tower.uri())
    [vol] = tower.api("/get-vm-volumes", {"where": {"name": "vol-l"}})
    status, _ = tower.post("/_sim/hold", {"kind": "VmVolume", "id": vol["id"],
                                          "seconds": 1})
    assert status == 200
    cp = ferry_elf(tower, "volume", "delete", "vol-l", "-v", "--platform",
                   tower.uri())
    assert "a resource is locked: again in" in cp.stderr, cp.stderr
    assert fj(tower, "volume", "list", "--platform", tower.uri()) == []


def test_a_failed_task_is_the_error(tmp_path):
    """No room: the volume's task fails with ELF's EAllocSpace, which is
    ENOSPC with CloudTower's word in the message; nothing is left."""
    t = Tower(capacity=64 * MIB)
    try:
        cp = ferry_elf(t, "volume", "create", "big", "100M", "--format",
                       "raw", "--platform", t.uri(), "--json", check=False)
        assert cp.returncode != 0, cp
        err = json.loads(cp.stdout)
        assert err["errno_name"] == "ENOSPC" and "EAllocSpace" in \
            err["error"], err
        assert fj(t, "volume", "list", "--platform", t.uri()) == []
    finally:
        t.close()


def test_wait_task_is_the_seeds(tower):
    """The seed's wait_task through Python: a task of CloudTower's, by id."""
    ans = tower.api("/create-vm-volume", [{
        "cluster_id": tower.cluster()["id"], "name": "vol-w", "size": MIB,
        "elf_storage_policy": "REPLICA_2_THIN_PROVISION", "sharing": False}])
    env = tower.env()
    code = ("import ferry, os, sys; p = ferry.Platform(sys.argv[1], "
            "password=os.environ.pop('FERRY_ELF_PASSWORD')); "
            "ferry.wait_task(p, sys.argv[2], 30000); print('done')")
    cp = subprocess.run(["/usr/bin/python3", "-c", code, tower.uri(),
                         ans[0]["task_id"]], capture_output=True, text=True,
                        env=dict(env, PYTHONPATH=os.path.join(
                            os.path.dirname(FERRY), "..", "..", "..",
                            "python")))
    assert cp.stdout.strip() == "done", cp
    tower.wait(tower.api("/delete-vm-volume", {"where": {"name": "vol-w"}}))


def test_a_vm_made_started_and_stopped(tower):
    """ferry vm create on ELF: a new volume per sized disk (VM-DEVICE) and
    an existing one, the buses, MAC and VLAN kept; started, the fake's
    qemu runs it from its LUNs over iSCSI; stop is a shutdown, then a
    power-off when the guest (no OS here) does not hear it; delete."""
    u = tower.uri()
    fj(tower, "volume", "create", "old-disk", "8M", "--platform", u)
    vm = fj(tower, "vm", "create", "made", "--memory", "64", "--vcpus", "2",
            "--disk", "16M", "--disk", "old-disk,bus=scsi", "--nic",
            "vlan100,mac=52:54:00:00:00:42", "--firmware", "bios",
            "--platform", u)
    assert [(d["device"], d["bus"], d["volume_id"], d["boot_order"])
            for d in vm["disks"]] == [("vda", "virtio", "made-vda", 1),
                                      ("sda", "scsi", "old-disk", 2)], vm
    assert [(n["mac"], n["vlan_id"]) for n in vm["nics"]] == \
        [("52:54:00:00:00:42", 100)]
    cp = ferry_elf(tower, "vm", "create", "made", "--memory", "64",
                   "--disk", "8M", "--platform", u, check=False)
    assert cp.returncode != 0 and "a VM 'made' already" in cp.stderr, cp
    ferry_elf(tower, "vm", "start", "made", "--platform", u)
    assert fj(tower, "vm", "show", "made", "--platform", u)[
        "power_state"] == "running"
    qemu = subprocess.run(["pgrep", "-af", f"iscsi://127.0.0.1:"
                           f"{tower.iscsi_port}/"], capture_output=True,
                          text=True).stdout
    assert qemu.count("file=iscsi://") == 2, qemu  # both disks, over iSCSI
    cp = ferry_elf(tower, "vm", "delete", "made", "--platform", u,
                   check=False)
    assert cp.returncode != 0 and "stop it first" in cp.stderr, cp
    cp = ferry_elf(tower, "vm", "stop", "made", "--timeout", "1", "-v",
                   "--platform", u)
    assert "did not shut down within 1 s: power off" in cp.stderr, cp.stderr
    assert fj(tower, "vm", "show", "made", "--platform", u)[
        "power_state"] == "stopped"
    ferry_elf(tower, "vm", "delete", "made", "--platform", u)
    assert fj(tower, "vm", "list", "--platform", u) == []
    for v in ("made-vda", "old-disk"):  # its volumes stay, detached
        ferry_elf(tower, "volume", "delete", v, "--platform", u)
