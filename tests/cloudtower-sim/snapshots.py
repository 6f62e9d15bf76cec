"""The fake CloudTower's VM snapshots: /create-vm-snapshot,
/delete-vm-snapshot, /rollback-vm (and /get-vm-snapshots,
/get-iscsi-lun-snapshots, plain queries).

A VmSnapshot freezes its VM's devices (NestedFrozenDisks, NestedFrozenNic)
and, for each disk, a sparse copy of its LUN's backing file: an
IscsiLunSnapshot whose name is the frozen disk's snapshot_local_id, as the
backup guide's flow has it. The copies of a running VM are taken with
qemu paused (QMP stop, then cont), so they are consistent across its
disks (crash-consistent). Rollback copies them back into the LUNs; it
refuses a running VM (ELF rolls back a stopped VM: the fake's choice)."""
import os
import uuid

from base import ApiError, nested, now
from store import cuid
from tgt import copy
import vmrun


class SnapshotOps:
    """A mixin of Tower's: its store, spec, tgt and tasks."""

    def snapshot_ops(self):
        return {"/create-vm-snapshot": self.create_vm_snapshot,
                "/delete-vm-snapshot": self.delete_vm_snapshot,
                "/rollback-vm": self.rollback_vm}

    def snap_dir(self):
        d = os.path.join(self.dir, "snaps")
        os.makedirs(d, exist_ok=True)
        return d

    def snap_file(self, lun_snap):
        return os.path.join(self.snap_dir(), f"{lun_snap['id']}.img")

    # ---- the frozen devices

    def _frozen_disks(self, vm):
        """[(NestedFrozenDisks, IscsiLun or None)] of vm, in boot order."""
        out = []
        disks = sorted(self.db.query("VmDisk", {"where": {"vm": {
            "id": vm["id"]}}}), key=lambda d: d["boot"])
        for i, d in enumerate(disks):
            vol = d.get("vm_volume") and self.db.get(
                "VmVolume", d["vm_volume"]["id"])
            lun = vol and vol["lun"] and self.db.get("IscsiLun",
                                                     vol["lun"]["id"])
            out.append((self.spec.make(
                "NestedFrozenDisks", index=i, type=d["type"], bus=d["bus"],
                boot=d["boot"], key=d.get("key"), disabled=d.get("disabled"),
                path=vol["path"] if vol else "",
                size=vol["size"] if vol else 0,
                disk_name=vol["name"] if vol else None,
                vm_volume_local_id=vol["local_id"] if vol else "",
                snapshot_local_id=str(uuid.uuid4()) if lun else None,
                storage_policy_uuid="", elf_image_local_id="",
                svt_image_local_id=""), lun))
        return out

    def _frozen_nics(self, vm):
        out = []
        for i, n in enumerate(self.db.query("VmNic", {"where": {"vm": {
                "id": vm["id"]}}})):
            vlan = self.db.get("Vlan", n["vlan"]["id"])
            vds = self.db.get("Vds", vlan["vds"]["id"])
            out.append(self.spec.make(
                "NestedFrozenNic", index=i, mac_address=n["mac_address"],
                model=n.get("model"), enabled=n.get("enabled"),
                mirror=False, gateway="", ip_address="", subnet_mask="",
                vlan={"name": vlan["name"], "vlan_id": vlan["vlan_id"],
                      "vlan_local_id": vlan["local_id"],
                      "vds_ovs": vds["ovsbr_name"], "network_ids": []}))
        return out

    # ---- create

    def create_vm_snapshot(self, body):
        out = []
        for p in body["data"]:
            [vm] = self.one("Vm", {"id": p["vm_id"]})
            frozen = self._frozen_disks(vm)
            self.busy(vm, "VM", "UPDATING")
            snap = self.db.add("VmSnapshot", self.spec.make(
                "VmSnapshot", id=cuid(), name=p["name"],
                local_id=str(uuid.uuid4()), vm=nested(vm),
                cluster=nested(self.cluster),
                consistent_type=p.get("consistent_type", "CRASH_CONSISTENT"),
                cpu=vm["cpu"], vcpu=vm["vcpu"], memory=vm["memory"],
                firmware=vm["firmware"], clock_offset=vm["clock_offset"],
                ha=vm["ha"], win_opt=vm["win_opt"],
                cpu_model=vm["cpu_model"], description="",
                size=sum(f["size"] for f, lun in frozen if lun),
                local_created_at=now(), vm_disks=[f for f, _ in frozen],
                vm_nics=self._frozen_nics(vm), entityAsyncStatus="CREATING"))

            def take(vm=vm, snap=snap, frozen=frozen):
                self._take(vm, snap, frozen)

            def undo(snap=snap, frozen=frozen):
                self.db.remove("VmSnapshot", snap["id"])
            out.append({"task_id": self.task(
                "/create-vm-snapshot", vm, take,
                f"create snapshot {snap['name']} of VM {vm['name']}", undo),
                "data": snap})
        return out

    def _take(self, vm, snap, frozen):
        if snap["consistent_type"] == "FILE_SYSTEM_CONSISTENT" and \
                vm["vm_tools_status"] != "RUNNING":
            raise ApiError(400, f"VM {vm['name']}: a FILE_SYSTEM_CONSISTENT "
                           "snapshot needs VMTools running in the guest")
        records = [self.spec.make(
            "IscsiLunSnapshot", id=cuid(), name=f["snapshot_local_id"],
            local_id=str(uuid.uuid4()), iscsi_lun=nested(lun),
            iscsi_target=lun["iscsi_target"], local_created_at=now(),
            unique_size=0) for f, lun in frozen if lun]
        luns = [lun for _, lun in frozen if lun]
        r = self.running.get(vm["id"])
        paused = vmrun.alive(r)
        if paused:  # one point in time across the VM's disks
            vmrun.pause(r)
        try:
            for rec, lun in zip(records, luns):
                copy(self.lun_file(lun), self.snap_file(rec))
        except BaseException:
            for rec in records:
                if os.path.exists(self.snap_file(rec)):
                    os.unlink(self.snap_file(rec))
            raise
        finally:
            if paused:
                vmrun.resume(r)
        with self.db.lock:
            for rec, lun in zip(records, luns):
                rec["unique_size"] = os.stat(
                    self.snap_file(rec)).st_blocks * 512
                self.db.add("IscsiLunSnapshot", rec)
                lun["snapshot_num"] += 1
            vm.setdefault("snapshots", []).append(nested(snap))
            snap["entityAsyncStatus"] = None

    # ---- delete

    def drop_lun_snapshot(self, rec):
        if os.path.exists(self.snap_file(rec)):
            os.unlink(self.snap_file(rec))
        lun = rec.get("iscsi_lun") and self.db.get("IscsiLun",
                                                   rec["iscsi_lun"]["id"])
        if lun:
            lun["snapshot_num"] -= 1
        self.db.remove("IscsiLunSnapshot", rec["id"])

    def drop_vm_snapshot(self, snap):
        names = [f["snapshot_local_id"] for f in snap.get("vm_disks", [])
                 if f.get("snapshot_local_id")]
        for rec in self.db.query("IscsiLunSnapshot", {"where": {
                "name_in": names}}):
            self.drop_lun_snapshot(rec)
        vm = self.db.get("Vm", snap["vm"]["id"])
        if vm:
            vm["snapshots"] = [s for s in vm.get("snapshots", [])
                               if s["id"] != snap["id"]]
        self.db.remove("VmSnapshot", snap["id"])

    def delete_vm_snapshot(self, body):
        out = []
        for snap in self.one("VmSnapshot", body["where"]):
            self.busy(snap, "VM_SNAPSHOT", "DELETING")
            out.append({"task_id": self.task(
                "/delete-vm-snapshot", snap,
                lambda snap=snap: self.drop_vm_snapshot(snap),
                f"delete snapshot {snap['name']}"),
                "data": {"id": snap["id"]}})
        return out

    # ---- rollback

    def rollback_vm(self, body):
        [snap] = self.one("VmSnapshot", {"id": body["data"]["snapshot_id"]})
        for vm in self.one("Vm", body["where"]):
            if snap["vm"]["id"] != vm["id"]:
                raise ApiError(400, f"snapshot {snap['name']} is not one of "
                               f"VM {vm['name']}'s")
            self.locked(snap, "VM_SNAPSHOT")
        return self.vm_op(body, "/rollback-vm",
                          lambda vm: self._roll_back(vm, snap))

    def _roll_back(self, vm, snap):
        if vmrun.alive(self.running.get(vm["id"])):
            raise ApiError(400, f"VM {vm['name']} is running: shut it down "
                           "before rolling it back to a snapshot")
        copies = []
        for f in snap["vm_disks"]:
            if not f.get("snapshot_local_id"):
                continue
            vols = self.db.query("VmVolume", {"where": {
                "local_id": f["vm_volume_local_id"]}})
            recs = self.db.query("IscsiLunSnapshot", {"where": {
                "name": f["snapshot_local_id"]}})
            if not vols or not vols[0]["lun"] or not recs:
                raise ApiError(400, f"snapshot {snap['name']}: the volume "
                               f"{f['disk_name']} or its LUN snapshot is gone")
            lun = self.db.get("IscsiLun", vols[0]["lun"]["id"])
            copies.append((self.snap_file(recs[0]), self.lun_file(lun)))
        for src, dest in copies:
            copy(src, dest)
        vm.update(cpu=snap["cpu"], vcpu=snap["vcpu"], memory=snap["memory"])
