"""The fake CloudTower's own tests: what it answers has the shapes of the
CloudTower 4.6.0 spec subset (every object, list, task and error body
checked against the response schema of its operation), it refuses
requests the spec refuses, its tasks and locks behave as the reference
says, its device ids change as CloudTower's do, its volumes are real
iSCSI LUNs, its snapshots and LUN clones hold the bytes they were taken
with, and a target's whitelist keeps other initiators out."""
import json
import os
import subprocess
import sys

from elfhelpers import (make_vm, read_lun, tower, volume_lun,  # noqa: F401
                        write_lun)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "cloudtower-sim"))
from spec import Spec  # noqa: E402
import vmrun  # noqa: E402

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


# ---- snapshots, LUN clones, initiator access

def done(t, ans, status="SUCCESSED"):
    tasks = t.wait(ans)
    assert all(x["status"] == status for x in tasks), tasks
    return tasks


def pattern(seed, size):
    """Bytes no two seeds share, with a hole (zeros) in the middle."""
    block = os.urandom(64 << 10)
    half = size // 2
    return (block * (half // len(block) + 1))[:half - MIB] + \
        bytes(MIB) + bytes([seed]) * (size - half)


def qmp(t, vm, command):
    """One QMP command to the fake's qemu of vm: its answer."""
    return vmrun.qmp(os.path.join(t.state_dir, "vms", vm["id"], "qmp.sock"),
                     command, timeout=30)


def vm_named(t, name):
    return checked(t, "/get-vms", {"where": {"name": name}})[0]


def snapshot(t, vm, name):
    ans = checked(t, "/create-vm-snapshot", {"data": [{
        "vm_id": vm["id"], "name": name,
        "consistent_type": "CRASH_CONSISTENT"}]})
    assert ans[0]["data"]["name"] == name
    done(t, ans)
    return checked(t, "/get-vm-snapshots", {"where": {"id": ans[0]["data"][
        "id"]}})[0]


def test_snapshots_keep_the_bytes_and_roll_back(tower):
    size = 4 * MIB
    vols = [volume(tower, f"sn-vol{i}", size) for i in (0, 1)]
    luns = [volume_lun(tower, v) for v in vols]
    first = [pattern(i, size) for i in (1, 2)]
    for lun, data in zip(luns, first):
        write_lun(tower, *lun, data)
    make_vm(tower, "sn-vm", vols, mac="52:54:00:aa:bb:03")
    vm = vm_named(tower, "sn-vm")
    s1 = snapshot(tower, vm, "sn-1")
    disks = s1["vm_disks"]
    assert [(d["index"], d["type"], d["disk_name"], d["size"]) for d in
            disks] == [(0, "DISK", "sn-vol0", size), (1, "DISK", "sn-vol1",
                                                      size)]
    assert [d["vm_volume_local_id"] for d in disks] == \
        [v["local_id"] for v in vols]
    assert (s1["vm"], s1["vcpu"], s1["memory"]) == (
        {"id": vm["id"], "name": "sn-vm"}, vm["vcpu"], vm["memory"])
    # the backup guide's flow: frozen disk -> LUN snapshot by name
    recs = checked(tower, "/get-iscsi-lun-snapshots", {"where": {
        "name_in": [d["snapshot_local_id"] for d in disks]}})
    assert sorted(r["iscsi_lun"]["id"] for r in recs) == \
        sorted(v["lun"]["id"] for v in vols)
    assert vm_named(tower, "sn-vm")["snapshots"] == [
        {"id": s1["id"], "name": "sn-1"}]
    for v in vols:
        assert checked(tower, "/get-iscsi-luns", {"where": {"id": v["lun"][
            "id"]}})[0]["snapshot_num"] == 1

    # a running VM: paused for the copies, running again after
    done(tower, checked(tower, "/start-vm", {"where": {"id": vm["id"]}}))
    later = [pattern(i, size) for i in (3, 4)]
    write_lun(tower, *luns[0], later[0])
    s2 = snapshot(tower, vm, "sn-2")
    assert qmp(tower, vm, "query-status")["return"]["status"] == "running"
    ans = checked(tower, "/rollback-vm", {"where": {"id": vm["id"]},
                                          "data": {"snapshot_id": s1["id"]}})
    [task] = done(tower, ans, "FAILED")
    assert "running" in task["error_message"], task
    assert read_lun(tower, *luns[0]) == later[0]  # untouched
    done(tower, checked(tower, "/poweroff-vm", {"where": {"id": vm["id"]}}))

    listed = checked(tower, "/get-vm-snapshots", {
        "where": {"vm": {"id": vm["id"]}}, "orderBy": "name_DESC",
        "first": 1})
    assert [x["name"] for x in listed] == ["sn-2"]
    write_lun(tower, *luns[1], later[1])
    done(tower, checked(tower, "/rollback-vm", {
        "where": {"id": vm["id"]}, "data": {"snapshot_id": s1["id"]}}))
    assert [read_lun(tower, *lun) for lun in luns] == first
    done(tower, checked(tower, "/rollback-vm", {
        "where": {"id": vm["id"]}, "data": {"snapshot_id": s2["id"]}}))
    assert [read_lun(tower, *lun) for lun in luns] == [later[0], first[1]]

    done(tower, checked(tower, "/delete-vm-snapshot",
                        {"where": {"id": s2["id"]}}))
    assert [x["id"] for x in checked(tower, "/get-vm-snapshots", {
        "where": {"vm": {"id": vm["id"]}}})] == [s1["id"]]
    assert checked(tower, "/get-iscsi-lun-snapshots", {"where": {
        "name_in": [d["snapshot_local_id"] for d in s2["vm_disks"]]}}) == []
    ans = checked(tower, "/delete-vm", {"where": {"id": vm["id"]},
                                        "effect": {"include_snapshots": True}})
    done(tower, ans)
    assert checked(tower, "/get-vm-snapshots", {"where": {"vm": {
        "id": vm["id"]}}}) == []
    state = tower.post("/_sim/state", {})[1]
    assert not state.get("IscsiLunSnapshot") and \
        state["_sim"]["files"]["snaps"] == [], state["_sim"]
    for v in vols:
        done(tower, checked(tower, "/delete-vm-volume",
                            {"where": {"id": v["id"]}}))


def test_a_failed_snapshot_leaves_nothing(tower):
    vol = volume(tower, "fs-vol")
    make_vm(tower, "fs-vm", [vol], mac="52:54:00:aa:bb:04")
    vm = vm_named(tower, "fs-vm")
    tower.post("/_sim/fail", {"operation": "/create-vm-snapshot",
                              "error": "EAllocSpace"})
    ans = checked(tower, "/create-vm-snapshot", {"data": [{
        "vm_id": vm["id"], "name": "fs-1"}]})
    [task] = done(tower, ans, "FAILED")
    assert task["error_message"] == "EAllocSpace"
    assert checked(tower, "/get-vm-snapshots", {"where": {"vm": {
        "id": vm["id"]}}}) == []
    ans = checked(tower, "/create-vm-snapshot", {"data": [{
        "vm_id": vm["id"], "name": "fs-2",
        "consistent_type": "FILE_SYSTEM_CONSISTENT"}]})
    [task] = done(tower, ans, "FAILED")  # no VMTools in the guest
    assert "VMTools" in task["error_message"], task
    s = snapshot(tower, vm, "fs-3")
    first = checked(tower, "/delete-vm-snapshot", {"where": {"id": s["id"]}})
    ans = checked(tower, "/delete-vm-snapshot", {"where": {"id": s["id"]}},
                  status=400)
    assert ans["code"] == "ResourceLocked", ans
    done(tower, first)
    done(tower, checked(tower, "/delete-vm", {"where": {"id": vm["id"]}}))
    done(tower, checked(tower, "/delete-vm-volume",
                        {"where": {"id": vol["id"]}}))


def target(t, name, **more):
    ans = checked(t, "/create-iscsi-target", [dict({
        "cluster_id": t.cluster()["id"], "name": name, "replica_num": 2,
        "thin_provision": True, "stripe_num": 4, "stripe_size": 262144},
        **more)])
    done(t, ans)
    return checked(t, "/get-iscsi-targets", {"where": {"id": ans[0]["data"][
        "id"]}})[0]


def test_a_clone_has_the_snapshots_bytes(tower):
    size = 8 * MIB
    vol = volume(tower, "cl-vol", size)
    lun = volume_lun(tower, vol)
    then = pattern(5, size)
    write_lun(tower, *lun, then)
    make_vm(tower, "cl-vm", [vol], mac="52:54:00:aa:bb:05")
    vm = vm_named(tower, "cl-vm")
    snap = snapshot(tower, vm, "cl-1")
    now = pattern(6, size)
    write_lun(tower, *lun, now)  # the source moves on
    [rec] = checked(tower, "/get-iscsi-lun-snapshots", {"where": {
        "name": snap["vm_disks"][0]["snapshot_local_id"]}})
    reader = "iqn.2024-01.test:reader"
    t = target(tower, "ferry-read", iqn_whitelist=reader, ip_whitelist="")
    assert (t["internal"], t["iqn_whitelist"], t["luns"]) == (False, reader,
                                                               [])
    ans = checked(tower, "/clone-iscsi-lun-from-snapshot", [{
        "snapshot_id": rec["id"], "iscsi_target_id": t["id"],
        "name": "cl-clone"}])
    done(tower, ans)
    [clone] = checked(tower, "/get-iscsi-luns", {"where": {
        "iscsi_target": {"id": t["id"]}}})
    assert (clone["id"], clone["lun_id"], clone["assigned_size"]) == (
        ans[0]["data"]["id"], 1, size)
    assert read_lun(tower, t["iqn_name"], 1, reader) == then
    assert read_lun(tower, *lun) == now
    refused = read_lun(tower, t["iqn_name"], 1, "iqn.2024-01.test:other")
    assert isinstance(refused, subprocess.CompletedProcess), "let in"

    # a target with a LUN is not deleted; a failed clone leaves no LUN
    [task] = done(tower, checked(tower, "/delete-iscsi-target", {
        "where": {"id": t["id"]}}), "FAILED")
    assert "LUN" in task["error_message"], task
    tower.post("/_sim/fail", {"operation": "/clone-iscsi-lun-from-snapshot",
                              "error": "EAllocSpace"})
    done(tower, checked(tower, "/clone-iscsi-lun-from-snapshot", [{
        "snapshot_id": rec["id"], "iscsi_target_id": t["id"],
        "name": "cl-clone2"}]), "FAILED")
    assert len(checked(tower, "/get-iscsi-luns", {"where": {
        "iscsi_target": {"id": t["id"]}}})) == 1
    first = checked(tower, "/delete-iscsi-lun", {
        "where": {"id": clone["id"]}, "data": {"remove_snapshot": True}})
    ans = checked(tower, "/delete-iscsi-lun", {
        "where": {"id": clone["id"]}, "data": {"remove_snapshot": True}},
        status=400)
    assert ans["code"] == "ResourceLocked", ans
    done(tower, first)
    ans = checked(tower, "/delete-iscsi-lun", {
        "where": {"id": vol["lun"]["id"]}, "data": {"remove_snapshot": True}},
        status=400)  # a volume's LUN goes with its volume
    done(tower, checked(tower, "/delete-iscsi-target",
                        {"where": {"id": t["id"]}}))
    done(tower, checked(tower, "/delete-vm", {"where": {"id": vm["id"]},
                                              "effect": {
                                                  "include_snapshots": True}}))
    done(tower, checked(tower, "/delete-vm-volume",
                        {"where": {"id": vol["id"]}}))
    state = tower.post("/_sim/state", {})[1]
    assert [x["internal"] for x in state["IscsiTarget"].values()] == [True]
    assert list(state["_sim"]["tgt"]["targets"]) == ["1"], state["_sim"]
    assert all(x["tid"] == 1 for x in state["_sim"]["tgt"]["luns"])
    assert len(state["_sim"]["files"]["luns"]) == \
        len(state.get("IscsiLun", {})), state["_sim"]


def test_a_whitelist_lets_only_its_initiators_in(tower):
    vol = volume(tower, "wl-vol")
    iqn, lun = volume_lun(tower, vol)
    data = pattern(7, 16 * MIB)
    write_lun(tower, iqn, lun, data)
    ferry, other = "iqn.2024-01.test:ferry", "iqn.2024-01.test:other"
    [system] = checked(tower, "/get-iscsi-targets", {"where": {
        "internal": True}})
    try:
        assert tower.post("/_sim/restrict", {"iqn_whitelist": ferry})[0] == \
            200
        [t] = checked(tower, "/get-iscsi-targets", {"where": {
            "id": system["id"]}})
        assert t["iqn_whitelist"] == ferry
        cp = read_lun(tower, iqn, lun, other)
        assert isinstance(cp, subprocess.CompletedProcess), "let in"
        assert read_lun(tower, iqn, lun, ferry) == data
        # the fake's own VMs log in as their host, one of ELF's nodes
        make_vm(tower, "wl-vm", [vol], mac="52:54:00:aa:bb:06",
                status="RUNNING")
        vm = vm_named(tower, "wl-vm")
        assert vm["host"]["name"] in ("elf-host1", "elf-host2"), vm
        [block] = qmp(tower, vm, "query-block")["return"]
        opened = json.loads(block["inserted"]["file"][len("json:"):])["file"]
        assert (opened["target"], opened["lun"], opened["initiator-name"]) \
            == (iqn, str(lun), "iqn.2016-02.com.smartx:" + vm["host"][
                "name"]), opened
        # a list of two, comma-separated, through the API
        ans = checked(tower, "/update-iscsi-target", {
            "where": {"id": system["id"]},
            "data": {"iqn_whitelist": f"{other}, {ferry}"}})
        done(tower, ans)
        assert read_lun(tower, iqn, lun, other) == data
        ans = checked(tower, "/update-iscsi-target", {
            "where": {"id": system["id"]}, "data": {"iqn_whitelist": ""}})
        done(tower, ans)
        assert read_lun(tower, iqn, lun, "iqn.2024-01.test:anyone") == data
        ans = checked(tower, "/update-iscsi-lun", {
            "where": {"id": vol["lun"]["id"]},
            "data": {"allowed_initiators": ferry}})
        done(tower, ans)
        assert checked(tower, "/get-iscsi-luns", {"where": {
            "id": vol["lun"]["id"]}})[0]["allowed_initiators"] == ferry
    finally:
        tower.post("/_sim/restrict", {"iqn_whitelist": ""})
    done(tower, checked(tower, "/poweroff-vm", {"where": {"name": "wl-vm"}}))
    done(tower, checked(tower, "/delete-vm", {"where": {"name": "wl-vm"}}))
