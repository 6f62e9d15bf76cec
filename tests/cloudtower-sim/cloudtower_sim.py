#!/usr/bin/env python3
"""A fake SmartX CloudTower (API 4.6.0) for ferry's tests: there is no
public simulator. Built from the spec subset in spec/ (paths, request and
response shapes, enum values) and the integration reference's notes; the
project's own code, not SmartX's.

    cloudtower_sim.py --dir DIR --password-file FILE [--capacity BYTES]

It serves HTTPS on 127.0.0.1 (a self-signed certificate made at start)
and prints one JSON line: {"url", "fingerprint" (SHA-256 of the
certificate), "pid", "iscsi_port", "tgtd_pid", "dir"}. One user, "admin", whose
password is FILE's first line. Its inventory: one datacenter, one cluster
(hypervisor ELF), two hosts, a virtual switch with VLANs, and VMs made
through the API. Mutations answer at once with tasks that go PENDING,
EXECUTING, then SUCCESSED or FAILED (error_message as ELF's: EAllocSpace,
VM_DUPLICATED_NAME, JOB_VM_SHUTDOWN_TIMEOUT); a second mutation of a busy
resource gets 400 ResourceLocked. VmDisk and VmNic ids are new after
every change of their VM, as CloudTower's are. Volumes are LUNs of a real
iSCSI target (tgt.py); VMs run in qemu over iSCSI (vmrun.py), logging in
as their host (iqn.2016-02.com.smartx:HOST).

VM snapshots (snapshots.py): /create-vm-snapshot copies each disk's LUN
file (sparse), with a running VM paused through QMP around the copies;
each copy is an IscsiLunSnapshot named by its frozen disk's
snapshot_local_id. /rollback-vm copies them back, and refuses (a failed
task) while the VM runs; /delete-vm-snapshot, and /delete-vm with
effect.include_snapshots, remove them. iSCSI (iscsi.py): targets made,
changed and deleted (a target with LUNs or the internal one is not
deleted), LUNs cloned from LUN snapshots (sparse copies) and deleted (not
a volume's). A target's iqn_whitelist, comma-separated, is enforced by
tgt; empty lets anyone in, and a non-empty one always has the hosts'
names too. ip_whitelist and allowed_initiators are kept, not enforced.

Fault switches, for the tests, under /_sim/ (not CloudTower's API):
  POST /_sim/fail     {"operation": "/create-vm", "error": "..."}: the
                      next task of that operation fails with that message
  POST /_sim/expire   {"after": N}: every token given so far stops working
                      after N more calls (0: now), as after a session
                      timeout: the call after gets 401
  POST /_sim/drop-iscsi  every iSCSI connection is closed
  POST /_sim/hold     {"kind": "VmVolume", "id": ..., "seconds": S}: the
                      object is busy (entityAsyncStatus UPDATING) for S s
  POST /_sim/restrict {"iqn_whitelist": "a,b"}: the system datastore
                      target's whitelist set at once ("" lets anyone in)
  POST /_sim/state    the whole store, for the tests to look at, and
                      under "_sim": what tgtd serves ("tgt": targets by
                      tid with their initiator names, LUNs), the files
                      under luns/ and snaps/, and each target's tid
Every request body is checked against the spec; a bad one is a 400 whose
message names the field, so that ferry's requests are checked too."""
import argparse
import hashlib
import http.server
import json
import os
import queue
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from base import ApiError, nested, now, unit  # noqa: E402
from iscsi import HOST_IQN, IscsiOps  # noqa: E402
from snapshots import SnapshotOps  # noqa: E402
from spec import Spec  # noqa: E402
from store import Store, cuid  # noqa: E402
from tgt import Tgt  # noqa: E402
import vmrun  # noqa: E402

TASK_STEP_S = 0.05  # PENDING -> EXECUTING -> done, a step each
SHUTDOWN_TIMEOUT_S = 60  # --shutdown-timeout
SYSTEM_IQN = "iqn.2016-02.com.smartx:system:zbs-iscsi-datastore-"


class Tower(SnapshotOps, IscsiOps):
    """The inventory, the tasks and the operations."""

    def __init__(self, workdir, capacity):
        self.dir = workdir
        self.spec = Spec()
        self.db = Store()
        self.capacity = capacity
        self.tokens = set()
        self.expire_after = None  # calls until every token stops working
        self.shutdown_s = SHUTDOWN_TIMEOUT_S
        self.fail_next = {}  # operation -> error message
        self.running = {}  # vm id -> vmrun.Running
        self.tasks = queue.Queue()
        self.tgt = Tgt(workdir)
        self.portal = f"127.0.0.1:{self.tgt.port}"
        try:
            self._inventory()
        except BaseException:
            self.tgt.close()
            raise
        threading.Thread(target=self._worker, daemon=True).start()

    # ---- the inventory at start

    def _inventory(self):
        s, db = self.spec, self.db
        org = {"id": cuid(), "name": "org"}
        self.dc = db.add("Datacenter", s.make(
            "Datacenter", id=cuid(), name="dc1", organization=org,
            cluster_num=1, host_num=2))
        self.cluster = db.add("Cluster", s.make(
            "Cluster", id=cuid(), name="elf-cluster", local_id=str(
                uuid.uuid4()), ip="127.0.0.1", version="6.1.0",
            type="SMTX_OS", hypervisor="ELF", architecture="X86_64",
            connect_state="CONNECTED", iscsi_vip="127.0.0.1",
            management_vip="127.0.0.1", datacenters=[nested(self.dc)],
            total_data_capacity=self.capacity, used_data_space=0,
            vm_num=0, running_vm_num=0, stopped_vm_num=0,
            suspended_vm_num=0, total_cpu_cores=16,
            total_memory_bytes=64 << 30))
        self.dc["clusters"] = [nested(self.cluster)]
        hosts = []
        for i in (1, 2):
            h = db.add("Host", s.make(
                "Host", id=cuid(), name=f"elf-host{i}",
                local_id=str(uuid.uuid4()), cluster=nested(self.cluster),
                management_ip=f"127.0.0.{10 + i}", data_ip="127.0.0.1",
                status="CONNECTED_HEALTHY", state="IDLE",
                total_cpu_cores=8, total_memory_bytes=32 << 30,
                allocatable_memory_bytes=30 << 30, cpu_model="x86_64",
                vm_num=0, running_vm_num=0))
            hosts.append(dict(nested(h), management_ip=h["management_ip"]))
        self.cluster["hosts"] = hosts
        self.cluster["host_num"] = 2
        self.vds = db.add("Vds", s.make(
            "Vds", id=cuid(), name="vds-vm", local_id=str(uuid.uuid4()),
            cluster=nested(self.cluster), ovsbr_name="ovsbr-vm", type="VM",
            bond_mode="active-backup", vlans_num=3))
        vlans = []
        for name, tag, kind in (("default", 0, "VM"), ("vlan100", 100, "VM"),
                                ("mgmt", 0, "MANAGEMENT")):
            v = db.add("Vlan", s.make(
                "Vlan", id=cuid(), name=name, local_id=str(uuid.uuid4()),
                vlan_id=tag, vds=nested(self.vds), type=kind,
                network_ids=[], mode_type="VLAN_ACCESS"))
            vlans.append(nested(v))
        self.vds["vlans"] = vlans
        # the system target every VM volume's LUN is in (internal)
        self.target = db.add("IscsiTarget", s.make(
            "IscsiTarget", id=cuid(), name="zbs-iscsi-datastore",
            local_id=str(uuid.uuid4()), cluster=nested(self.cluster),
            iqn_name=SYSTEM_IQN + "1", internal=True, ip_whitelist="",
            iqn_whitelist="", replica_num=2, thin_provision=True,
            stripe_num=4, stripe_size=262144, luns=[]))
        self.target_tid = {self.target["id"]: 1}
        self.tgt.add_target(1, self.target["iqn_name"])

    # ---- tasks

    def task(self, op, resource, action, description, undo=None):
        """A task for op on resource (marked busy until it ends) that runs
        action() in the worker, and undo() when it fails; returns its
        id."""
        t = self.db.add("Task", self.spec.make(
            "Task", id=cuid(), status="PENDING", progress=0.0,
            description=description, local_created_at=now(), args={},
            snapshot="{}", steps=[], internal=False,
            resource_id=resource["id"] if resource else None,
            resource_type=op, cluster=nested(self.cluster)))
        self.tasks.put((t, op, resource, action, undo))
        return t["id"]

    def _worker(self):
        while True:
            t, op, resource, action, undo = self.tasks.get()
            time.sleep(TASK_STEP_S)
            t.update(status="EXECUTING", started_at=now(), progress=0.5)
            time.sleep(TASK_STEP_S)
            err = self.fail_next.pop(op, None)
            try:
                if err is None:
                    action()
            except ApiError as e:
                err = e.message
            except Exception as e:  # the fake's own bug: say it
                err = f"fake CloudTower: {type(e).__name__}: {e}"
            with self.db.lock:
                if err and undo:
                    undo()
                if resource is not None:
                    resource["entityAsyncStatus"] = None
                t.update(status="FAILED" if err else "SUCCESSED",
                         progress=1.0, finished_at=now(),
                         error_message=err, error_code=err and "ERROR")

    def busy(self, obj, kind, how):
        """Marks obj busy for a mutation, or answers ResourceLocked."""
        with self.db.lock:
            if obj.get("entityAsyncStatus"):
                raise ApiError(400, f"{kind} {obj['id']} is locked by "
                               "another operation", "ResourceLocked",
                               {"locked_resources": [{"id": obj["id"],
                                                      "type": kind}]})
            obj["entityAsyncStatus"] = how

    def locked(self, obj, kind):
        """ResourceLocked when obj is busy, without taking it."""
        if obj.get("entityAsyncStatus"):
            self.busy(obj, kind, None)

    def one(self, kind, where):
        hits = self.db.query(kind, {"where": where})
        if not hits:
            raise ApiError(404, f"no {kind} matches {json.dumps(where)}")
        return hits

    # ---- volumes

    def used_space(self):
        return sum(v["size"] for v in self.db.all("VmVolume"))

    def lun_record(self, name, size, target, **more):
        """A new IscsiLun of target, its number the next free one."""
        luns = [lu["lun_id"] for lu in self.db.all("IscsiLun")
                if lu["iscsi_target"]["id"] == target["id"]]
        return self.db.add("IscsiLun", self.spec.make(
            "IscsiLun", id=cuid(), name=name, local_id=str(uuid.uuid4()),
            lun_id=max(luns, default=0) + 1, iscsi_target=nested(target),
            assigned_size=size, zbs_volume_id=str(uuid.uuid4()),
            allowed_initiators="*/*", local_created_at=now(),
            replica_num=target["replica_num"],
            thin_provision=target["thin_provision"],
            stripe_num=target["stripe_num"],
            stripe_size=target["stripe_size"], io_size=0, **more))

    def serve_lun(self, lun, source=None):
        """lun in tgtd: a new sparse file (a copy of source's bytes)."""
        target = self.db.get("IscsiTarget", lun["iscsi_target"]["id"])
        self.tgt.add_lun(self.target_tid[target["id"]], lun["lun_id"],
                         lun["assigned_size"], lun["id"], source,
                         thin=lun["thin_provision"])
        target["luns"].append(nested(lun))

    def lun_file(self, lun):
        tid = self.target_tid[lun["iscsi_target"]["id"]]
        return self.tgt.luns[(tid, lun["lun_id"])]

    def new_lun(self, name, size):
        lun = self.lun_record(name, size, self.target)
        self.serve_lun(lun)
        return lun

    def drop_lun(self, lun):
        target = self.db.get("IscsiTarget", lun["iscsi_target"]["id"])
        self.tgt.remove_lun(self.target_tid[target["id"]], lun["lun_id"])
        target["luns"] = [x for x in target["luns"] if x["id"] != lun["id"]]
        self.db.remove("IscsiLun", lun["id"])

    def create_vm_volume(self, body):
        out = []
        for p in body:
            v = self.db.add("VmVolume", self.spec.make(
                "VmVolume", id=cuid(), name=p["name"],
                local_id=str(uuid.uuid4()), cluster=nested(self.cluster),
                size=p["size"] * unit(p.get("size_unit")),
                elf_storage_policy=p["elf_storage_policy"],
                sharing=p["sharing"], mounting=False, path="",
                type="KVM_VOLUME_ISCSI", local_created_at=now(),
                lun=None, vm_disks=[], entityAsyncStatus="CREATING"))

            def make(v=v):
                if self.used_space() > self.capacity:
                    self.db.remove("VmVolume", v["id"])
                    raise ApiError(500, "EAllocSpace")
                lun = self.new_lun(v["name"], v["size"])
                v.update(lun=nested(lun), path=f"iscsi://"
                         f"{self.target['iqn_name']}/{lun['lun_id']}")
            out.append({"task_id": self.task("/create-vm-volume", v, make,
                                             f"create volume {v['name']}"),
                        "data": v})
        return out

    def delete_vm_volume(self, body):
        out = []
        for v in self.one("VmVolume", body["where"]):
            if v["mounting"]:
                raise ApiError(400, f"volume {v['name']} is mounted on a VM")
            self.busy(v, "VM_VOLUME", "DELETING")

            def drop(v=v):
                if v["lun"]:
                    self.drop_lun(self.db.get("IscsiLun", v["lun"]["id"]))
                self.db.remove("VmVolume", v["id"])
            out.append({"task_id": self.task("/delete-vm-volume", v, drop,
                                             f"delete volume {v['name']}"),
                        "data": {"id": v["id"]}})
        return out

    # ---- VMs

    def relink(self, vm, disks, nics):
        """The VM's disks and NICs anew, with new ids (as CloudTower's
        sync makes them)."""
        for d in self.db.query("VmDisk", {"where": {"vm": {"id": vm["id"]}}}):
            self.db.remove("VmDisk", d["id"])
            vol = d.get("vm_volume") and self.db.get("VmVolume",
                                                     d["vm_volume"]["id"])
            if vol:
                vol["vm_disks"] = []
        for n in self.db.query("VmNic", {"where": {"vm": {"id": vm["id"]}}}):
            self.db.remove("VmNic", n["id"])
        vm["vm_disks"], vm["vm_nics"] = [], []
        for d in disks:
            d = self.db.add("VmDisk", dict(d, id=cuid(), vm=nested(vm)))
            vm["vm_disks"].append({"id": d["id"]})
            vol = d.get("vm_volume") and self.db.get("VmVolume",
                                                     d["vm_volume"]["id"])
            if vol:
                vol["vm_disks"] = [{"id": d["id"]}]
        for n in nics:
            n = self.db.add("VmNic", dict(n, id=cuid(), vm=nested(vm)))
            vm["vm_nics"].append({"id": n["id"]})

    def create_vm(self, body):
        out = []
        for p in body:
            if any(v["name"] == p["name"] for v in self.db.all("Vm")):
                raise ApiError(400, "VM_DUPLICATED_NAME")
            disks, nics = [], []
            for m in p["vm_disks"].get("mount_disks", []):
                [vol] = self.one("VmVolume", {"id": m["vm_volume_id"]})
                if vol["mounting"]:
                    raise ApiError(400, f"volume {vol['name']} is mounted")
                disks.append(self.spec.make(
                    "VmDisk", id="", vm={}, boot=m["boot"], bus=m["bus"],
                    type="DISK", vm_volume=nested(vol),
                    key=m.get("key"), disabled=False))
            for i, n in enumerate(p["vm_nics"]):
                [vlan] = self.one("Vlan", {"id": n["connect_vlan_id"]})
                nics.append(self.spec.make(
                    "VmNic", id="", vm={}, local_id=str(uuid.uuid4()),
                    mac_address=n.get("mac_address") or
                    "52:54:00:%02x:%02x:%02x" % tuple(os.urandom(3)),
                    vlan=nested(vlan), model=n.get("model", "VIRTIO"),
                    enabled=n.get("enabled", True), type="VLAN", order=i))
            vm = self.db.add("Vm", self.spec.make(
                "Vm", id=cuid(), name=p["name"], local_id=str(uuid.uuid4()),
                cluster=nested(self.cluster), status="STOPPED",
                vcpu=p.get("vcpu") or p["cpu_sockets"] * p["cpu_cores"],
                cpu={"sockets": p["cpu_sockets"], "cores": p["cpu_cores"]},
                memory=p["memory"] * unit(p.get("memory_unit")),
                firmware=p["firmware"], ha=p["ha"],
                guest_os_type=p.get("guest_os_type", "UNKNOWN"),
                clock_offset="UTC", vm_tools_status="NOT_INSTALLED",
                in_recycle_bin=False, description=p.get("description", ""),
                entityAsyncStatus="CREATING", vm_disks=[], vm_nics=[]))

            def make(vm=vm, disks=disks, nics=nics, start=p["status"],
                     host=p.get("host_id")):
                for d in disks:
                    vol = self.db.get("VmVolume", d["vm_volume"]["id"])
                    vol["mounting"] = True
                self.relink(vm, disks, nics)
                if start == "RUNNING":
                    self._start(vm, host)
            out.append({"task_id": self.task("/create-vm", vm, make,
                                             f"create VM {vm['name']}"),
                        "data": vm})
        return out

    def _disks_of(self, vm):
        out = []
        for d in self.db.query("VmDisk", {"where": {"vm": {"id": vm["id"]},
                                                     "type": "DISK"}}):
            vol = self.db.get("VmVolume", d["vm_volume"]["id"])
            lun = self.db.get("IscsiLun", vol["lun"]["id"])
            out.append((d, self.target["iqn_name"], lun["lun_id"]))
        return out

    def _start(self, vm, host_id=None):
        if vmrun.alive(self.running.get(vm["id"])):
            raise ApiError(400, f"VM {vm['name']} is running")
        host = self.db.get("Host", host_id or (vm.get("host") or {}).get(
            "id") or self.cluster["hosts"][0]["id"])
        if host is None:
            raise ApiError(404, f"no host {host_id}")
        nics = self.db.query("VmNic", {"where": {"vm": {"id": vm["id"]}}})
        self.running[vm["id"]] = vmrun.start(
            vm, self._disks_of(vm), nics, self.portal, self.dir,
            HOST_IQN + host["name"])
        vm["host"] = dict(nested(host), management_ip=host["management_ip"])
        vm["status"] = "RUNNING"

    def vm_op(self, body, op, action, how="UPDATING"):
        out = []
        for vm in self.one("Vm", body["where"]):
            self.busy(vm, "VM", how)

            def run(vm=vm):
                action(vm)
                if self.db.get("Vm", vm["id"]):  # synced: new device ids
                    self.relink(vm, self._devices(vm, "VmDisk"),
                                self._devices(vm, "VmNic"))
            out.append({"task_id": self.task(op, vm, run,
                                             f"{op} {vm['name']}"),
                        "data": vm})
        return out

    def _devices(self, vm, kind):
        return [dict(d) for d in self.db.query(kind, {"where": {
            "vm": {"id": vm["id"]}}})]

    def start_vm(self, body):
        host = (body.get("data") or {}).get("host_id")
        return self.vm_op(body, "/start-vm", lambda vm: self._start(vm, host))

    def shutdown_vm(self, body):
        def stop(vm):
            r = self.running.get(vm["id"])
            if vmrun.alive(r) and not vmrun.shutdown(r, self.shutdown_s):
                raise ApiError(500, "JOB_VM_SHUTDOWN_TIMEOUT")
            vm["status"] = "STOPPED"
        return self.vm_op(body, "/shutdown-vm", stop)

    def poweroff_vm(self, body):
        def stop(vm):
            r = self.running.pop(vm["id"], None)
            if r:
                vmrun.poweroff(r)
            vm["status"] = "STOPPED"
        return self.vm_op(body, "/poweroff-vm", stop)

    def delete_vm(self, body):
        def drop(vm):
            if vmrun.alive(self.running.get(vm["id"])):
                raise ApiError(400, f"VM {vm['name']} is running")
            for d in self.db.query("VmDisk", {"where": {"vm": {"id":
                                                               vm["id"]}}}):
                if d.get("vm_volume"):
                    vol = self.db.get("VmVolume", d["vm_volume"]["id"])
                    if vol:
                        vol["mounting"] = False
            if (body.get("effect") or {}).get("include_snapshots"):
                for s in self.db.query("VmSnapshot", {"where": {
                        "vm": {"id": vm["id"]}}}):
                    self.drop_vm_snapshot(s)
            self.relink(vm, [], [])
            self.db.remove("Vm", vm["id"])
        out = self.vm_op(body, "/delete-vm", drop, "DELETING")
        return [{"task_id": o["task_id"], "data": {"id": o["data"]["id"]}}
                for o in out]

    # ---- the request's dispatch

    def queries(self):
        return {"/get-datacenters": "Datacenter", "/get-clusters": "Cluster",
                "/get-hosts": "Host", "/get-vms": "Vm",
                "/get-vm-disks": "VmDisk", "/get-vm-nics": "VmNic",
                "/get-vm-volumes": "VmVolume", "/get-vlans": "Vlan",
                "/get-vdses": "Vds", "/get-tasks": "Task",
                "/get-iscsi-luns": "IscsiLun",
                "/get-iscsi-targets": "IscsiTarget",
                "/get-vm-snapshots": "VmSnapshot",
                "/get-iscsi-lun-snapshots": "IscsiLunSnapshot"}

    def call(self, path, body):
        kinds = self.queries()
        if path in kinds:
            hits = self.db.query(kinds[path], body)
            return json.loads(json.dumps(hits))  # a copy, outside the lock
        if path == "/get-vms-connection":
            return {"aggregate": {"count": len(self.db.query("Vm", {
                "where": body.get("where")}))}}
        ops = {"/create-vm-volume": self.create_vm_volume,
               "/delete-vm-volume": self.delete_vm_volume,
               "/create-vm": self.create_vm, "/start-vm": self.start_vm,
               "/shutdown-vm": self.shutdown_vm,
               "/poweroff-vm": self.poweroff_vm,
               "/delete-vm": self.delete_vm, **self.snapshot_ops(),
               **self.iscsi_ops()}
        if path not in ops:
            raise ApiError(404, f"the fake CloudTower does not serve {path}")
        with self.db.lock:
            return json.loads(json.dumps(ops[path](body)))

    def close(self):
        for r in self.running.values():
            vmrun.poweroff(r)
        self.tgt.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle's algorithm the
    # body would wait for the client's delayed ACK (40 ms a request on a
    # kept-alive connection), a cost no real server has
    disable_nagle_algorithm = True
    tower = None
    password = None

    def log_message(self, fmt, *args):  # a line per request, on stderr
        sys.stderr.write("cloudtower-sim: " + fmt % args + "\n")

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-tower-request-id", cuid())
        self.end_headers()
        self.wfile.write(data)

    def error(self, e, path):
        body = {"message": e.message, "status": e.status, "path": path}
        if e.code:
            body["code"] = e.code
        if e.props is not None:
            body["props"] = e.props
        self.reply(e.status, body)

    def do_GET(self):
        if self.path == "/v2/api/get-version":
            return self.reply(200, "4.6.0")
        self.reply(404, {"message": "not found", "status": 404,
                         "path": self.path})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        t = self.tower
        if self.path.startswith("/_sim/"):
            return self.sim(self.path[5:], json.loads(raw or b"{}"))
        if not self.path.startswith("/v2/api/"):
            return self.reply(404, {"message": "not found", "status": 404,
                                    "path": self.path})
        path = self.path[len("/v2/api"):]
        try:
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError(400, "the body is not JSON")
            if t.spec.operation(path) is None:
                raise ApiError(404, f"no operation {path}")
            bad = t.spec.request_errors(path, body)
            if bad:
                raise ApiError(400, f"bad request: {'; '.join(bad[:3])}")
            if path == "/login":
                if body["username"] != "admin" or \
                        body["password"] != self.password:
                    raise ApiError(400, "the user name or password is wrong")
                token = secrets.token_hex(16)
                t.tokens.add(token)
                return self.reply(200, {"task_id": None,
                                        "data": {"token": token}})
            if self.headers.get("Authorization") not in t.tokens:
                raise ApiError(401, "not logged in, or the session expired")
            ans = t.call(path, body)
            if t.expire_after is not None:
                t.expire_after -= 1
                if t.expire_after <= 0:
                    t.tokens.clear()
                    t.expire_after = None
            self.reply(200, ans)
        except ApiError as e:
            self.error(e, path)

    def sim(self, what, body):
        t = self.tower
        if what == "/fail":
            t.fail_next[body["operation"]] = body["error"]
        elif what == "/expire":
            t.expire_after = body.get("after", 0)
            if t.expire_after == 0:
                t.tokens.clear()
                t.expire_after = None
        elif what == "/drop-iscsi":
            t.tgt.drop_connections()
        elif what == "/hold":
            obj = t.db.get(body["kind"], body["id"])
            if obj is None:
                return self.reply(404, {"message": "no such object"})
            obj["entityAsyncStatus"] = "UPDATING"
            threading.Timer(body["seconds"], lambda: obj.update(
                entityAsyncStatus=None)).start()
        elif what == "/restrict":
            with t.db.lock:
                t.target["iqn_whitelist"] = body.get("iqn_whitelist", "")
                t.apply_whitelist(t.target)
        elif what == "/state":
            with t.db.lock:
                return self.reply(200, dict(t.db.objects, _sim=t.sim_state()))
        else:
            return self.reply(404, {"message": "no such switch"})
        self.reply(200, {})


def certificate(workdir):
    key, cert = (os.path.join(workdir, n) for n in ("key.pem", "cert.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-subj", "/CN=127.0.0.1", "-days", "2",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True,
                   capture_output=True)
    der = ssl.PEM_cert_to_DER_cert(open(cert).read())
    fp = hashlib.sha256(der).hexdigest().upper()
    return key, cert, ":".join(fp[i:i + 2] for i in range(0, len(fp), 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--capacity", type=int, default=1 << 40)
    ap.add_argument("--shutdown-timeout", type=float,
                    default=SHUTDOWN_TIMEOUT_S,
                    help="how long shutdown-vm waits for the guest")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    with open(a.password_file) as f:
        Handler.password = f.readline().rstrip("\n")
    key, cert, fp = certificate(a.dir)
    tower = Handler.tower = Tower(a.dir, a.capacity)
    tower.shutdown_s = a.shutdown_timeout
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    port = httpd.server_address[1]

    def on_term(signum, frame):
        raise KeyboardInterrupt  # serve_forever ends; finally tidies up
    signal.signal(signal.SIGTERM, on_term)
    print(json.dumps({"url": f"https://127.0.0.1:{port}", "fingerprint": fp,
                      "pid": os.getpid(), "iscsi_port": tower.tgt.port,
                      "tgtd_pid": tower.tgt.proc.pid, "dir": a.dir}),
          flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        tower.close()


if __name__ == "__main__":
    main()
