"""The fake CloudTower (tests/cloudtower-sim/) for the ELF platform's
tests: started in a private temp dir on 127.0.0.1, its iSCSI target on a
private port, stopped by PID (and its tgtd too, should it outlive the
fake), also when a test failed."""
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "..", "cloudtower-sim", "cloudtower_sim.py")
PASSWORD = "tower-secret-7"


class Tower:
    def __init__(self, capacity=None):
        self.dir = tempfile.mkdtemp(prefix="ct", dir="/tmp")
        pw = os.path.join(self.dir, "password")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        args = ["/usr/bin/python3", SIM, "--dir",
                os.path.join(self.dir, "state"), "--password-file", pw]
        if capacity is not None:
            args += ["--capacity", str(capacity)]
        # the tests' VMs run no OS: ACPI goes unheard, so not for long
        args += ["--shutdown-timeout", "3"]
        self.errlog = open(os.path.join(self.dir, "sim.log"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=self.errlog, text=True)
        self.info = None
        try:
            line = self.proc.stdout.readline()
            assert line, f"the fake CloudTower did not start:\n{self.log()}"
            self.info = json.loads(line)
        except BaseException:
            self.close()
            raise
        self.url = self.info["url"]
        self.host = self.url[len("https://"):]
        self.fingerprint = self.info["fingerprint"]
        self.iscsi_port = self.info["iscsi_port"]
        self.state_dir = self.info["dir"]
        self._ctx = ssl.create_default_context()
        self._ctx.check_hostname = False
        self._ctx.verify_mode = ssl.CERT_NONE  # the tests' own client only
        self.token = None

    def uri(self, user="admin", **opts):
        q = {"fingerprint": self.fingerprint, "iscsi_port": self.iscsi_port}
        q.update(opts)
        return f"elf://{user}@{self.host}?" + "&".join(
            f"{k}={v}" for k, v in q.items() if v is not None)

    def env(self, password=PASSWORD):
        e = dict(os.environ)
        e["FERRY_ELF_PASSWORD"] = password
        return e

    def log(self, tail=4000):
        try:
            with open(os.path.join(self.dir, "sim.log")) as f:
                return f.read()[-tail:] if tail else f.read()
        except OSError:
            return ""

    def requests(self, op):
        """How many times the log shows a POST of op."""
        return self.log(tail=None).count(f'"POST /v2/api{op} ')

    # ---- the tests' own calls (the fake's API, and its switches)

    def post(self, path, body, auth=True, again=True):
        """(status, answer) of a POST to path (/v2/api/... or /_sim/...);
        logged in (again, once, when the session ended)."""
        req = urllib.request.Request(self.url + path,
                                     data=json.dumps(body).encode(),
                                     method="POST")
        req.add_header("Content-Type", "application/json")
        if auth and path.startswith("/v2/api/") and path != "/v2/api/login":
            if self.token is None:
                _, ans = self.post("/v2/api/login", {
                    "username": "admin", "password": PASSWORD})
                self.token = ans["data"]["token"]
            req.add_header("Authorization", self.token)
        try:
            with urllib.request.urlopen(req, context=self._ctx) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code == 401 and auth and again:
                self.token = None
                return self.post(path, body, auth, again=False)
            return e.code, json.loads(e.read() or b"null")

    def api(self, op, body):
        status, ans = self.post("/v2/api" + op, body)
        assert status == 200, (op, status, ans)
        return ans

    def wait(self, answer):
        ids = [w["task_id"] for w in (answer if isinstance(answer, list)
                                      else [answer]) if w.get("task_id")]
        deadline = time.monotonic() + 60
        while True:
            tasks = self.api("/get-tasks", {"where": {"id_in": ids}})
            if all(t["status"] in ("SUCCESSED", "FAILED") for t in tasks) \
                    and len(tasks) == len(ids):
                return tasks
            assert time.monotonic() < deadline, tasks
            time.sleep(0.05)

    def cluster(self):
        return self.api("/get-clusters", {})[0]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.info:  # tgtd outlives a killed fake: by PID too
            try:
                os.kill(self.info["tgtd_pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.stdout.close()
        self.errlog.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def tower():
    """A fake CloudTower for a test module."""
    t = Tower()
    try:
        yield t
    finally:
        t.close()


def make_vm(t, name, volumes, bus="VIRTIO", mac=None, vlan=None, **more):
    """A stopped VM made through the fake's API on volumes (its disks in
    that boot order), with one NIC on vlan (default: the first guest
    network); its task waited for."""
    vlan = vlan or [v for v in t.api("/get-vlans", {})
                    if v["type"] == "VM"][0]
    nic = {"connect_vlan_id": vlan["id"]}
    if mac:
        nic["mac_address"] = mac
    spec = {"cluster_id": t.cluster()["id"], "name": name, "cpu_sockets": 1,
            "cpu_cores": 1, "memory": 64 << 20, "firmware": "BIOS",
            "ha": False, "status": "STOPPED",
            "vm_disks": {"mount_disks": [
                {"vm_volume_id": v["id"], "bus": bus, "boot": i}
                for i, v in enumerate(volumes)]},
            "vm_nics": [nic]}
    spec.update(more)
    [task] = t.wait(t.api("/create-vm", [spec]))
    assert task["status"] == "SUCCESSED", task
    return task


def ferry_elf(tower, *args, password=PASSWORD, check=True):
    """`ferry ARGS` with the password in FERRY_ELF_PASSWORD."""
    from ferryhelpers import FERRY
    cp = subprocess.run([FERRY, *map(str, args)], capture_output=True,
                        text=True, timeout=300, env=tower.env(password))
    assert not check or cp.returncode == 0, (args, cp.returncode, cp.stdout,
                                             cp.stderr, tower.log())
    return cp



# ---- iSCSI through qemu's initiator, for the fake's own tests

def iscsi_opts(t, iqn, lun, initiator=None):
    """qemu --image-opts of LUN lun of target iqn on the fake's portal,
    logging in as initiator (qemu's default name when None)."""
    opts = (f"driver=iscsi,transport=tcp,portal=127.0.0.1:{t.iscsi_port},"
            f"target={iqn},lun={lun}")
    return opts + (f",initiator-name={initiator}" if initiator else "")


def write_lun(t, iqn, lun, data):
    """data written at offset 0 of the LUN (qemu-img convert -n)."""
    src = os.path.join(t.dir, "write.raw")
    with open(src, "wb") as f:
        f.write(data)
    subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw",
                    src, f"iscsi://127.0.0.1:{t.iscsi_port}/{iqn}/{lun}"],
                   check=True, capture_output=True)
    os.unlink(src)


def read_lun(t, iqn, lun, initiator=None):
    """The LUN's whole bytes, or the failed CompletedProcess when qemu
    could not log in or read."""
    out = os.path.join(t.dir, "read.raw")
    cp = subprocess.run(["qemu-img", "convert", "--image-opts",
                         iscsi_opts(t, iqn, lun, initiator), "-O", "raw",
                         out], capture_output=True, text=True)
    if cp.returncode:
        return cp
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    return data


def volume_lun(t, vol):
    """(target iqn, lun number) of a VmVolume, from its path."""
    iqn, lun = vol["path"][len("iscsi://"):].rsplit("/", 1)
    return iqn, int(lun)
