"""The fake CloudTower's own tests: what it answers has the shapes of the
CloudTower 4.6.0 spec subset (every object, list, task and error body
checked against the response schema of its operation), it refuses
requests the spec refuses, its tasks and locks behave as the reference
says, its device ids change as CloudTower's do, and its volumes are real
iSCSI LUNs."""
import os
import subprocess
import sys

from elfhelpers import make_vm, tower  # noqa: F401

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "cloudtower-sim"))
from spec import Spec  # noqa: E402

MIB = 1 << 20
SPEC = Spec()


def checked(t, op, body, status=200):
    """A call whose answer must match the spec's schema for its status."""
    got, ans = t.post("/v2/api" + op, body)
    assert got == status, (op, got, ans)
    bad = SPEC.response_errors(op, status, ans)
    assert not bad, (op, bad[:5])
    return ans


def volume(t, name, size=16 * MIB):
    ans = checked(t, "/create-vm-volume", [{
        "cluster_id": t.cluster()["id"], "name": name, "size": size,
        "elf_storage_policy": "REPLICA_2_THIN_PROVISION", "sharing": False}])
    [task] = t.wait(ans)
    assert task["status"] == "SUCCESSED", task
    return checked(t, "/get-vm-volumes", {"where": {"name": name}})[0]


def test_every_query_answers_in_the_spec_shape(tower):
    vol = volume(tower, "q-vol")
    make_vm(tower, "q-vm", [vol], mac="52:54:00:aa:bb:01")
    for op in ("/get-datacenters", "/get-clusters", "/get-hosts",
               "/get-vlans", "/get-vdses", "/get-vms", "/get-vm-disks",
               "/get-vm-nics", "/get-vm-volumes", "/get-tasks",
               "/get-iscsi-luns", "/get-iscsi-targets"):
        assert checked(tower, op, {}), f"{op} listed nothing"
    assert checked(tower, "/get-vms-connection", {"where": {"name": "q-vm"}}) \
        == {"aggregate": {"count": 1}}
    # the filters, paging and order CloudTower's guide describes
    assert [v["name"] for v in checked(tower, "/get-vms", {
        "where": {"vm_disks_some": {"vm_volume": {"name": "q-vol"}}}})] == \
        ["q-vm"]
    assert checked(tower, "/get-hosts", {"first": 1, "skip": 1,
                                         "orderBy": "name_ASC"})[0][
        "name"] == "elf-host2"
    assert checked(tower, "/get-vlans", {"where": {"OR": [
        {"vlan_id_in": [100]}, {"name_starts_with": "def"}]}})
    [d] = checked(tower, "/get-vm-disks", {"where": {"vm": {"name": "q-vm"}}})
    assert (d["bus"], d["boot"], d["vm_volume"]["id"]) == ("VIRTIO", 0,
                                                           vol["id"])
    ans = checked(tower, "/delete-vm", {"where": {"name": "q-vm"}})
    assert tower.wait(ans)[0]["status"] == "SUCCESSED"


def test_bad_requests_and_errors_have_the_spec_shapes(tower):
    ans = checked(tower, "/get-vms", {"bogus": 1}, status=400)
    assert "bogus" in ans["message"]
    ans = checked(tower, "/create-vm-volume", [{"name": "no-size"}],
                  status=400)
    assert "size" in ans["message"] or "required" in ans["message"], ans
    status, ans = tower.post("/v2/api/get-vms", {}, auth=False)
    assert status == 401, ans
    status, ans = tower.post("/v2/api/login", {"username": "admin",
                                               "password": "wrong"})
    assert status == 400 and not SPEC.response_errors("/login", 400, ans)


def test_tasks_locks_and_failures(tower):
    vol = volume(tower, "l-vol")
    first = checked(tower, "/delete-vm-volume", {"where": {"id": vol["id"]}})
    ans = checked(tower, "/delete-vm-volume", {"where": {"id": vol["id"]}},
                  status=400)  # the first is still busy with it
    assert ans["code"] == "ResourceLocked", ans
    assert ans["props"]["locked_resources"] == [{"id": vol["id"],
                                                 "type": "VM_VOLUME"}]
    assert tower.wait(first)[0]["status"] == "SUCCESSED"
    assert tower.api("/get-vm-volumes", {"where": {"id": vol["id"]}}) == []
    tower.post("/_sim/fail", {"operation": "/create-vm-volume",
                              "error": "EAllocSpace"})
    ans = checked(tower, "/create-vm-volume", [{
        "cluster_id": tower.cluster()["id"], "name": "f-vol", "size": MIB,
        "elf_storage_policy": "REPLICA_2_THIN_PROVISION", "sharing": False}])
    [task] = tower.wait(ans)
    assert (task["status"], task["error_message"]) == ("FAILED",
                                                       "EAllocSpace"), task


def test_device_ids_change_with_every_change_of_their_vm(tower):
    vol = volume(tower, "i-vol")
    make_vm(tower, "i-vm", [vol], bus="SCSI", mac="52:54:00:aa:bb:02")

    def ids():
        w = {"where": {"vm": {"name": "i-vm"}}}
        return ([d["id"] for d in tower.api("/get-vm-disks", w)],
                [n["id"] for n in tower.api("/get-vm-nics", w)])
    before = ids()
    tower.wait(tower.api("/poweroff-vm", {"where": {"name": "i-vm"}}))
    after = ids()
    assert before[0] != after[0] and before[1] != after[1], (before, after)
    tower.wait(tower.api("/delete-vm", {"where": {"name": "i-vm"}}))


def test_volumes_are_iscsi_luns(tower):
    vol = volume(tower, "s-vol", 24 * MIB)
    iqn, lun = vol["path"][len("iscsi://"):].rsplit("/", 1)
    [lu] = tower.api("/get-iscsi-luns", {"where": {"id": vol["lun"]["id"]}})
    assert lu["lun_id"] == int(lun) and lu["assigned_size"] == 24 * MIB
    url = f"iscsi://127.0.0.1:{tower.iscsi_port}/{iqn}/{lun}"
    cp = subprocess.run(["qemu-img", "info", "--output=json", url],
                        capture_output=True, text=True)
    assert cp.returncode == 0 and '"virtual-size": 25165824' in cp.stdout, \
        cp
