"""A private, real libvirtd for the libvirt platform's tests (one per test
session), after ../shared/reference/libvirt/libvirt-probe.md.

libvirtd's state paths (/etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/cache/libvirt, /var/log/libvirt) are compiled in: it runs in a
private mount and network namespace where they are bind mounts of a temp
dir, and only its unix socket, in that temp dir, is reachable. A holder
process keeps the namespaces (and a bridge, lvbr0, for domains' NICs);
libvirtd runs in them in the foreground, by PID. Domains are TCG
(type='qemu'). Teardown destroys every domain, stops libvirtd, kills any
qemu it left and the holder, also when a test failed."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

LIBVIRTD = "/usr/sbin/libvirtd"
MOUNTS = {"etc": "/etc/libvirt", "run": "/run/libvirt",
          "lib": "/var/lib/libvirt", "cache": "/var/cache/libvirt",
          "log": "/var/log/libvirt"}

LIBVIRTD_CONF = """unix_sock_dir = "{d}/sock"
admin_unix_sock_dir = "{d}/sock"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tls = 0
listen_tcp = 0
mdns_adv = 0
keepalive_interval = -1
log_outputs = "3:file:{d}/log/libvirtd.log"
"""

QEMU_CONF = """user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
vnc_listen = "127.0.0.1"
"""


def ensure_qemu_user():
    """libvirtd 9.0 resolves its compiled-in user before qemu.conf."""
    if subprocess.run(["getent", "group", "libvirt-qemu"],
                      capture_output=True).returncode:
        subprocess.run(["groupadd", "-r", "libvirt-qemu"], check=True)
    if subprocess.run(["id", "libvirt-qemu"], capture_output=True).returncode:
        subprocess.run(["useradd", "-r", "-g", "libvirt-qemu", "-d",
                        "/var/lib/libvirt", "-M", "-s", "/usr/sbin/nologin",
                        "libvirt-qemu"], check=True)


class Libvirtd:
    def __init__(self):
        assert os.access(LIBVIRTD, os.X_OK), (
            f"{LIBVIRTD} missing: scripts/deps.sh installs libvirt-daemon")
        ensure_qemu_user()
        self.dir = tempfile.mkdtemp(prefix="lv", dir="/tmp")
        d = self.dir
        # log/qemu: as the package ships it (domains log their consoles there)
        for sub in list(MOUNTS) + ["etc/qemu", "log/qemu", "sock", "images",
                                   "bk"]:
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        for path in MOUNTS.values():
            os.makedirs(path, exist_ok=True)  # empty mount points
        with open(os.path.join(d, "etc", "libvirtd.conf"), "w") as f:
            f.write(LIBVIRTD_CONF.format(d=d))
        with open(os.path.join(d, "etc", "qemu.conf"), "w") as f:
            f.write(QEMU_CONF)
        open(os.path.join(d, "etc", "libvirt.conf"), "w").close()
        self.socket = os.path.join(d, "sock", "libvirt-sock")
        # virsh's URI, and ferry's: TCG for new domains and conversions,
        # since KVM is not to be relied on on these machines
        self.virsh_uri = f"qemu:///system?socket={self.socket}"
        self.uri = f"{self.virsh_uri}&virt_type=qemu"
        self.holder = self.daemon = None
        self.log = open(os.path.join(d, "libvirtd.stdout"), "w")
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        d = self.dir
        binds = " && ".join(f"mount --bind {d}/{k} {v}"
                            for k, v in MOUNTS.items())
        ready = os.path.join(d, "ns.ready")
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--net", "--",
             "bash", "-c", f"{binds} && ip link set lo up && "
             f"ip link add lvbr0 type bridge && ip link set lvbr0 up && "
             f"touch {ready} && exec sleep infinity"])
        self._wait(lambda: os.path.exists(ready), 10, "the namespace holder")
        self.daemon = subprocess.Popen(
            ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--",
             LIBVIRTD, "-f", os.path.join(d, "etc", "libvirtd.conf"), "-p",
             os.path.join(d, "libvirtd.pid")],
            stdout=self.log, stderr=subprocess.STDOUT)
        self._wait(lambda: os.path.exists(self.socket) and
                   self.virsh("version", check=False).returncode == 0,
                   60, "libvirtd")

    def logs(self):
        """The tails of libvirtd's log and output, for a failure's message
        (the directory goes at teardown)."""
        out = []
        for name in ("log/libvirtd.log", "libvirtd.stdout"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    out.append(f"--- {name}:\n" + "".join(f.readlines()[-30:]))
            except OSError:
                pass
        return "\n".join(out)

    def _wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            for p in (self.holder, self.daemon):
                if p is not None and p.poll() is not None:
                    raise RuntimeError(f"{what}: a process ended "
                                       f"({p.args})\n{self.logs()}")
            time.sleep(0.05)
        raise RuntimeError(f"{what} not ready within {timeout}s\n"
                           f"{self.logs()}")

    def virsh(self, *args, check=True, input=None):
        cp = subprocess.run(["virsh", "-c", self.virsh_uri, *args],
                            capture_output=True, text=True, timeout=120,
                            input=input)
        assert not check or cp.returncode == 0, (args, cp.stdout, cp.stderr,
                                                 self.logs())
        return cp

    def define(self, kind, xml):
        """virsh KIND-define of xml (pool, net, the domain: "")."""
        path = os.path.join(self.dir, f"def-{time.monotonic_ns()}.xml")
        with open(path, "w") as f:
            f.write(xml)
        self.virsh(f"{kind}-define" if kind else "define", path)

    def pool(self, name, path):
        """A started dir pool name on path (made when missing)."""
        os.makedirs(path, exist_ok=True)
        self.define("pool", f"<pool type='dir'><name>{name}</name><target>"
                    f"<path>{path}</path></target></pool>")
        self.virsh("pool-start", name)

    def bridge_network(self, name):
        """A started network name on the namespace's bridge lvbr0."""
        self.define("net", f"<network><name>{name}</name><forward "
                    f"mode='bridge'/><bridge name='lvbr0'/></network>")
        self.virsh("net-start", name)

    def remove(self, kind, name):
        """Destroys and undefines a pool or net, if there is one."""
        self.virsh(f"{kind}-destroy", name, check=False)
        self.virsh(f"{kind}-undefine", name, check=False)

    def close(self):
        if self.daemon is not None and self.daemon.poll() is None:
            cp = self.virsh("list", "--name", check=False)
            for name in cp.stdout.split():
                self.virsh("destroy", name, check=False)
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(15)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        qemu_run = os.path.join(self.dir, "run", "qemu")
        for f in os.listdir(qemu_run) if os.path.isdir(qemu_run) else ():
            if f.endswith(".pid"):
                try:
                    with open(os.path.join(qemu_run, f)) as p:
                        os.kill(int(p.read().strip()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def volume_xml(name, mib, fmt="qcow2"):
    """A volume as libvirt makes it; qcow2 v3 (compat 1.1), which can hold
    the dirty bitmaps of checkpoints (vol-create-as makes v2)."""
    compat = "<compat>1.1</compat>" if fmt == "qcow2" else ""
    return (f"<volume><name>{name}</name><capacity unit='MiB'>{mib}"
            f"</capacity><target><format type='{fmt}'/>{compat}</target>"
            f"</volume>")


def domain_xml(name, disks, nic_network=None, memory_mib=64):
    """A TCG domain; disks: [(dev, "pool/volume" or a path, format)]."""
    out = [f"<domain type='qemu'><name>{name}</name>",
           f"<memory unit='MiB'>{memory_mib}</memory><vcpu>1</vcpu>",
           "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>",
           "<emulator>/usr/bin/qemu-system-x86_64</emulator>"]
    for dev, src, fmt in disks:
        if src.startswith("/"):
            source = f"<source file='{src}'/>"
            kind = "file"
        else:
            pool, vol = src.split("/", 1)
            source = f"<source pool='{pool}' volume='{vol}'/>"
            kind = "volume"
        out.append(f"<disk type='{kind}' device='disk'><driver name='qemu' "
                   f"type='{fmt}'/>{source}<target dev='{dev}' "
                   f"bus='virtio'/></disk>")
    if nic_network:
        out.append(f"<interface type='network'><source network="
                   f"'{nic_network}'/><model type='virtio'/></interface>")
    out.append("<video><model type='none'/></video>"
               "<memballoon model='none'/></devices></domain>")
    return "".join(out)
