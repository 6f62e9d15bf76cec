"""The fake CloudTower's iSCSI storage: a private userspace tgtd (Debian's
tgt) on 127.0.0.1:PORT, its control socket chosen free, managed with
tgtadm. Each CloudTower iSCSI target is a tgt target, each LUN a sparse
backing file. A target's initiator names (its IQN whitelist) are tgt's
name ACL in place of `-I ALL`, which lets every initiator in when there
are none. tgtd ignores SIGTERM: it is stopped with `tgtadm --op
delete --mode system` after its targets go, then by PID."""
import os
import signal
import socket
import subprocess
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def copy(source, dest):
    """dest's bytes become source's, sparse (a reflink where the file
    system can); dest's inode is kept, so a LUN tgtd has open sees them."""
    subprocess.run(["cp", "--sparse=always", "--reflink=auto", source, dest],
                   check=True)


class Tgt:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "luns")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        # control ports name /var/run/tgtd/socket.N: one nobody uses
        for n in range(4000 + os.getpid() % 20000, 65000):
            if not os.path.exists(f"/var/run/tgtd/socket.{n}"):
                self.control = n
                break
        self.log = open(os.path.join(workdir, "tgtd.log"), "w")
        self.proc = subprocess.Popen(
            ["tgtd", "-f", "--iscsi", f"portal=127.0.0.1:{self.port}",
             "-C", str(self.control)], stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while self.adm("--op", "show", "--mode", "sys",
                       check=False).returncode:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tgtd did not start: see "
                                   f"{self.log.name}")
            time.sleep(0.05)
        self.targets = {}  # tid -> iqn
        self.luns = {}  # (tid, lun) -> backing file
        self.names = {}  # tid -> initiator names bound (empty: anyone)

    def adm(self, *args, check=True):
        cp = subprocess.run(["tgtadm", "-C", str(self.control), "--lld",
                             "iscsi", *args], capture_output=True,
                            text=True)
        if check and cp.returncode:
            raise RuntimeError(f"tgtadm {' '.join(args)}: {cp.stderr}")
        return cp

    def add_target(self, tid, iqn):
        self.adm("--op", "new", "--mode", "target", "--tid", str(tid),
                 "-T", iqn)
        self.adm("--op", "bind", "--mode", "target", "--tid", str(tid),
                 "-I", "ALL")
        self.targets[tid] = iqn
        self.names[tid] = set()

    def allow(self, tid, names):
        """Only these initiator names may log in to tid (none: anyone).
        tgt lets in whoever the address ACL or the name ACL lets in, so
        names replace `-I ALL`. Sessions logged in stay, as tgt keeps
        them."""
        names, had = set(names), self.names[tid]
        if names and not had:
            self._acl("bind", tid, names)
            self._acl("unbind", tid, ["ALL"], "-I")
        elif had and not names:
            self._acl("bind", tid, ["ALL"], "-I")
            self._acl("unbind", tid, had)
        else:
            self._acl("bind", tid, names - had)
            self._acl("unbind", tid, had - names)
        self.names[tid] = names

    def _acl(self, op, tid, names, flag="--initiator-name"):
        for n in sorted(names):
            self.adm("--op", op, "--mode", "target", "--tid", str(tid),
                     flag, n)

    def remove_target(self, tid):
        self.adm("--op", "delete", "--mode", "target", "--tid", str(tid),
                 "--force", check=False)
        self.targets.pop(tid, None)
        self.names.pop(tid, None)
        for key in [k for k in self.luns if k[0] == tid]:
            self.remove_lun(*key)

    def add_lun(self, tid, lun, size, name, source=None, thin=True):
        """A LUN of size bytes backed by a new sparse file (a copy of
        source's data when given: a clone). Thin, as ELF's volumes
        usually are (REPLICA_2_THIN_PROVISION): tgt then says so (LBPME),
        takes UNMAP (a hole punched in the file) and GET LBA STATUS."""
        path = os.path.join(self.dir, f"{name}.img")
        if source:
            copy(source, path)
        with open(path, "ab") as f:
            f.truncate(size)
        self.adm("--op", "new", "--mode", "logicalunit", "--tid", str(tid),
                 "--lun", str(lun), "-b", path)
        if thin:
            self.adm("--op", "update", "--mode", "logicalunit", "--tid",
                     str(tid), "--lun", str(lun), "--params",
                     "thin_provisioning=1")
        self.luns[(tid, lun)] = path
        return path

    def remove_lun(self, tid, lun):
        self.adm("--op", "delete", "--mode", "logicalunit", "--tid",
                 str(tid), "--lun", str(lun), check=False)
        path = self.luns.pop((tid, lun), None)
        if path and os.path.exists(path):
            os.unlink(path)

    def state(self):
        """What tgtd serves, for the tests to check nothing is left."""
        return {"targets": {str(t): {"iqn": iqn, "initiators": sorted(
            self.names[t])} for t, iqn in self.targets.items()},
            "luns": [{"tid": t, "lun": n, "file": f}
                     for (t, n), f in sorted(self.luns.items())]}

    def drop_connections(self):
        """Ends every iSCSI connection (a dropped session, for the fault
        tests): each initiator's session of each target."""
        for tid in list(self.targets):
            out = self.adm("--op", "show", "--mode", "conn", "--tid",
                           str(tid), check=False).stdout
            for line in out.splitlines():
                if line.strip().startswith("Session:"):
                    sid = line.split(":", 1)[1].strip()
                    self.adm("--op", "delete", "--mode", "conn", "--tid",
                             str(tid), "--sid", sid, "--cid", "0",
                             check=False)

    def close(self):
        for tid in list(self.targets):
            self.remove_target(tid)
        self.adm("--op", "delete", "--mode", "system", check=False)
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        for f in (f"/var/run/tgtd/socket.{self.control}",
                  f"/var/run/tgtd/socket.{self.control}.lock"):
            if os.path.exists(f):
                os.unlink(f)
