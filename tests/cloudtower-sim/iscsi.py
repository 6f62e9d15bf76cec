"""The fake CloudTower's iSCSI targets and LUNs beyond the VM volumes':
/create-iscsi-target, /update-iscsi-target, /delete-iscsi-target,
/clone-iscsi-lun-from-snapshot, /update-iscsi-lun, /delete-iscsi-lun.

Each target is a tgt target (its IQN iqn.2016-02.com.smartx:system:NAME),
each LUN a sparse file; a clone is a sparse copy of its snapshot's file.

Whitelists (their format is undocumented; the fake's assumption): a
target's iqn_whitelist is a comma-separated list of initiator names, and
an empty one lets every initiator in. A non-empty one is enforced by tgt
(its initiator-name ACL), with the cluster's hosts' own names
(iqn.2016-02.com.smartx:HOST) added, since they are ELF's nodes and the
fake's VMs log in as them. ip_whitelist and a LUN's allowed_initiators
are kept and shown, not enforced: every initiator here is 127.0.0.1, and
tgt masks no single LUN."""
import os
import uuid

from base import ApiError, nested, unit
from store import cuid

TARGET_IQN = "iqn.2016-02.com.smartx:system:"
HOST_IQN = "iqn.2016-02.com.smartx:"
TARGET_FIELDS = ("iqn_whitelist", "ip_whitelist", "description",
                 "chap_enabled", "chap_name", "chap_secret")


def whitelist(text):
    return {n.strip() for n in (text or "").split(",") if n.strip()}


class IscsiOps:
    """A mixin of Tower's: its store, spec, tgt and tasks."""

    def iscsi_ops(self):
        return {"/create-iscsi-target": self.create_iscsi_target,
                "/update-iscsi-target": self.update_iscsi_target,
                "/delete-iscsi-target": self.delete_iscsi_target,
                "/clone-iscsi-lun-from-snapshot": self.clone_lun,
                "/update-iscsi-lun": self.update_iscsi_lun,
                "/delete-iscsi-lun": self.delete_iscsi_lun}

    def apply_whitelist(self, target):
        names = whitelist(target["iqn_whitelist"])
        if names:  # ELF's own nodes stay in
            names |= {HOST_IQN + h["name"] for h in self.db.all("Host")}
        self.tgt.allow(self.target_tid[target["id"]], names)

    # ---- targets

    def create_iscsi_target(self, body):
        out = []
        for p in body:
            self.one("Cluster", {"id": p["cluster_id"]})
            if self.db.query("IscsiTarget", {"where": {"name": p["name"]}}):
                raise ApiError(400, f"iSCSI target {p['name']} exists")
            t = self.db.add("IscsiTarget", self.spec.make(
                "IscsiTarget", id=cuid(), name=p["name"],
                local_id=str(uuid.uuid4()), cluster=nested(self.cluster),
                iqn_name=TARGET_IQN + p["name"], internal=False,
                external_use=True, replica_num=p["replica_num"],
                thin_provision=p["thin_provision"],
                stripe_num=p["stripe_num"], stripe_size=p["stripe_size"] *
                unit(p.get("stripe_size_unit")), luns=[],
                entityAsyncStatus="CREATING",
                **{k: p[k] for k in TARGET_FIELDS if k in p}))

            def make(t=t):
                tid = max(self.target_tid.values()) + 1
                self.tgt.add_target(tid, t["iqn_name"])
                self.target_tid[t["id"]] = tid
                self.apply_whitelist(t)

            def undo(t=t):
                if t["id"] in self.target_tid:
                    self.tgt.remove_target(self.target_tid.pop(t["id"]))
                self.db.remove("IscsiTarget", t["id"])
            out.append({"task_id": self.task(
                "/create-iscsi-target", t, make,
                f"create iSCSI target {t['name']}", undo), "data": t})
        return out

    def update_iscsi_target(self, body):
        out = []
        for t in self.one("IscsiTarget", body["where"]):
            self.busy(t, "ISCSI_TARGET", "UPDATING")

            def change(t=t, data=body["data"]):
                t.update({k: data[k] for k in TARGET_FIELDS if k in data})
                self.apply_whitelist(t)
            out.append({"task_id": self.task(
                "/update-iscsi-target", t, change,
                f"update iSCSI target {t['name']}"), "data": t})
        return out

    def delete_iscsi_target(self, body):
        out = []
        for t in self.one("IscsiTarget", body["where"]):
            if t["internal"]:
                raise ApiError(400, f"iSCSI target {t['name']} is the "
                               "system's (internal)")
            self.busy(t, "ISCSI_TARGET", "DELETING")

            def drop(t=t):
                if t["luns"]:
                    raise ApiError(400, f"iSCSI target {t['name']} still "
                                   f"has {len(t['luns'])} LUNs")
                self.tgt.remove_target(self.target_tid.pop(t["id"]))
                self.db.remove("IscsiTarget", t["id"])
            out.append({"task_id": self.task(
                "/delete-iscsi-target", t, drop,
                f"delete iSCSI target {t['name']}"), "data": {"id": t["id"]}})
        return out

    # ---- LUNs

    def clone_lun(self, body):
        out = []
        for p in body:
            [snap] = self.one("IscsiLunSnapshot", {"id": p["snapshot_id"]})
            [t] = self.one("IscsiTarget", {"id": p["iscsi_target_id"]})
            self.locked(t, "ISCSI_TARGET")
            if any(x["name"] == p["name"] for x in t["luns"]):
                raise ApiError(400, f"iSCSI target {t['name']} has a LUN "
                               f"{p['name']}")
            size = self._snap_size(snap)
            lun = self.lun_record(p["name"], size, t,
                                  entityAsyncStatus="CREATING")

            def make(lun=lun, snap=snap):
                self.serve_lun(lun, self.snap_file(snap))

            def undo(lun=lun):
                self.db.remove("IscsiLun", lun["id"])
            out.append({"task_id": self.task(
                "/clone-iscsi-lun-from-snapshot", lun, make,
                f"clone iSCSI LUN {lun['name']} from {snap['name']}", undo),
                "data": lun})
        return out

    def _snap_size(self, snap):
        """The size of the LUN the snapshot is of (its volume's, kept in
        the frozen disk should the LUN be gone)."""
        lun = self.db.get("IscsiLun", snap["iscsi_lun"]["id"])
        if lun:
            return lun["assigned_size"]
        for s in self.db.all("VmSnapshot"):
            for f in s.get("vm_disks", []):
                if f.get("snapshot_local_id") == snap["name"]:
                    return f["size"]
        raise ApiError(404, f"the LUN of snapshot {snap['name']} is gone")

    def update_iscsi_lun(self, body):
        out = []
        data = body["data"]
        for lun in self.one("IscsiLun", body["where"]):
            size = data.get("assigned_size")
            if size is not None and size * unit(data.get(
                    "assigned_size_unit")) != lun["assigned_size"]:
                raise ApiError(400, "the fake CloudTower does not resize "
                               "LUNs")
            self.busy(lun, "ISCSI_LUN", "UPDATING")

            def change(lun=lun):
                lun.update({k: data[k] for k in ("name", "allowed_initiators")
                            if k in data})
            out.append({"task_id": self.task(
                "/update-iscsi-lun", lun, change,
                f"update iSCSI LUN {lun['name']}"), "data": lun})
        return out

    def delete_iscsi_lun(self, body):
        out = []
        for lun in self.one("IscsiLun", body["where"]):
            vols = self.db.query("VmVolume", {"where": {"lun": {
                "id": lun["id"]}}})
            if vols:
                raise ApiError(400, f"iSCSI LUN {lun['name']} backs VM "
                               f"volume {vols[0]['name']}: delete the volume")
            self.busy(lun, "ISCSI_LUN", "DELETING")

            def drop(lun=lun, rm=body["data"]["remove_snapshot"]):
                snaps = self.db.query("IscsiLunSnapshot", {"where": {
                    "iscsi_lun": {"id": lun["id"]}}})
                if snaps and not rm:
                    raise ApiError(400, f"iSCSI LUN {lun['name']} has "
                                   f"{len(snaps)} snapshots (remove_snapshot"
                                   " is false)")
                for s in snaps:
                    self.drop_lun_snapshot(s)
                self.drop_lun(lun)
            out.append({"task_id": self.task(
                "/delete-iscsi-lun", lun, drop,
                f"delete iSCSI LUN {lun['name']}"), "data": {"id": lun["id"]}})
        return out

    # ---- for the tests: what tgtd serves, and the files behind it

    def sim_state(self):
        files = {d: sorted(os.listdir(os.path.join(self.dir, d)))
                 for d in ("luns", "snaps")
                 if os.path.isdir(os.path.join(self.dir, d))}
        return {"tgt": self.tgt.state(), "files": files,
                "target_tids": dict(self.target_tid)}
