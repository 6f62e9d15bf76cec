"""Every command example of README.md and docs/*.md runs as written.

Each ```sh and ```python block is found here by its file and first line
and run with bash -euo pipefail (or python3) after a setup that gives it
what it assumes (the VM `web`, a network, an NBD server, VMware's
simulator) and after substitutions that point its paths, hosts and
thumbprints at that setup. Each substitution must find its text in the
block, so an example that changes fails until this file follows. A new
block with no entry here fails too: a documented example cannot go
unrun. (```text blocks are synopses and transcripts: not run.)"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from ferryhelpers import BUILD, FERRY
from libvirthelpers import domain_xml, volume_xml
from qemuhelpers import Platform
from vspherehelpers import PASSWORD, Sim

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = ["README.md"] + sorted(
    os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
    if f.endswith(".md"))
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
VM = "DC0_H0_VM0"  # the simulator's VM the VMware examples migrate


def blocks():
    """(file, line, language, text) of every fenced block of the docs."""
    out = []
    for doc in DOCS:
        with open(os.path.join(ROOT, doc)) as f:
            lines = f.read().splitlines()
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m or not m.group(2):
                i += 1
                continue
            indent, lang, start, body = m.group(1), m.group(2), i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i][len(indent):])
                i += 1
            out.append((doc, start, lang, "\n".join(body) + "\n"))
            i += 1
    return out


class Env:
    """A private place for one example: a short base dir in /tmp (unix
    sockets must stay under 108 bytes), HOME, FERRY_STATE_DIR, a working
    directory, and what the setup started, stopped at the end."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="fd", dir="/tmp")
        self.home = os.path.join(self.base, "home")
        self.work = os.path.join(self.base, "work")
        os.makedirs(self.home)
        os.makedirs(self.work)
        self.env = dict(os.environ, HOME=self.home,
                        FERRY_STATE_DIR=os.path.join(self.base, "state"),
                        FERRY_BUILD=BUILD,
                        PYTHONPATH=os.path.join(ROOT, "python"),
                        PATH=os.path.dirname(FERRY) + ":" +
                        os.environ["PATH"])
        self.platforms, self.procs, self.sims = [], [], []

    def platform(self, name):
        p = Platform(os.path.join(self.base, name))
        self.platforms.append(p)
        return p

    def sim(self, *args):
        s = Sim(self.base, *args)
        self.sims.append(s)
        return s

    def ferry(self, *args):
        cp = subprocess.run([FERRY, *map(str, args)], env=self.env,
                            capture_output=True, text=True, timeout=300)
        assert cp.returncode == 0, (args, cp.stdout, cp.stderr)
        return cp.stdout

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for p in self.platforms:
            p.close()
        for s in self.sims:
            s.close()
        shutil.rmtree(self.base, ignore_errors=True)


def substitute(text, subs):
    for old, new in subs:
        assert old in text, f"the example no longer has {old!r}:\n{text}"
        text = text.replace(old, new)
    return text


def run(env, lang, text, subs=()):
    text = substitute(text, subs)
    argv = (["bash", "-euo", "pipefail", "-c", text] if lang == "sh"
            else ["/usr/bin/python3", "-c", text])
    cp = subprocess.run(argv, cwd=env.work, env=env.env, capture_output=True,
                        text=True, timeout=900)
    assert cp.returncode == 0, (
        f"exit {cp.returncode}\n--- as run:\n{text}\n--- stdout:\n"
        f"{cp.stdout}\n--- stderr:\n{cp.stderr}")
    return cp


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# ------------------------------------------------------------ the setups


def sync_and_info(env, lang, text):
    """A raw disk.img with data, an NBD server of a blank image at the
    socket the example names, its extents file, and a disk.qcow2."""
    w = env.work
    write(os.path.join(w, "disk.img"), os.urandom(2 << 20))
    write(os.path.join(w, "dst.img"), bytes(2 << 20))
    with open(os.path.join(w, "changed.txt"), "w") as f:
        f.write("0 8\n2048 16\n")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2",
                    os.path.join(w, "disk.qcow2"), "8M"], check=True)
    sock = os.path.join(env.base, "dst.sock")
    p = subprocess.Popen(["qemu-nbd", "-f", "raw", "-t", "-k", sock,
                          os.path.join(w, "dst.img")])
    env.procs.append(p)
    for _ in range(200):
        if os.path.exists(sock):
            break
        p.poll()
        assert p.returncode is None, "qemu-nbd ended"
        subprocess.run(["sleep", "0.05"])
    cp = run(env, lang, text, [("/run/dst.sock", sock)])
    assert '"format":"qcow2"' in cp.stdout, cp.stdout


def local_lab(env, lang, text):
    lab = env.platform("lab")
    run(env, lang, text, [("/tmp/lab", lab.dir)])
    assert lab.state("web") == "running", "the revert left it running"


def local_migration(env, lang, text):
    a, b = env.platform("a"), env.platform("b")
    a.create_vm("web", disks=1, extra=("--nic", "default"))
    a.start("web")
    env.ferry("network", "create", "lan", "--platform", b.uri)
    run(env, lang, text, [("/var/lib/ferry-a", a.dir),
                          ("/var/lib/ferry-b", b.dir)])
    assert b.state("web") == "running"


def vmware_migration(env, lang, text):
    sim = env.sim("-username", "admin")
    d = env.platform("dst")
    env.ferry("network", "create", "lan", "--platform", d.uri)
    with open(os.path.join(env.home, ".vc-pw"), "w") as f:
        f.write(PASSWORD + "\n")
    run(env, lang, text, [("vc.example.com", sim.host),
                          ("AA:BB:...", sim.thumbprint),
                          ("local:///var/lib/ferry ", f"local://{d.dir} "),
                          (" web ", f" {VM} ")])
    status = env.ferry("migrate", "status", "m1", "--json")
    assert '"phase":"warm"' in status.replace(" ", ""), status


def vmware_inventory(env, lang, text):
    sim = env.sim("-username", "administrator@vsphere.local")
    with open(os.path.join(env.home, ".vcenter-pw"), "w") as f:
        f.write(PASSWORD + "\n")
    cp = run(env, lang, text, [("vcenter.example.com", sim.host),
                               ("AA:BB:...", sim.thumbprint)])
    assert VM in cp.stdout, cp.stdout


def vmware_vddk(env, lang, text):
    sim = env.sim("-username", "admin")
    d = env.platform("dst")
    env.ferry("network", "create", "lan", "--platform", d.uri)
    env.env.update(FERRY_VDDK_DUMMY_DATASTORES=f"LocalDS_0={sim.datastore}",
                   FERRY_VDDK_DUMMY_THUMBPRINT=sim.thumbprint,
                   FERRY_VDDK_DUMMY_USER="admin",
                   FERRY_VDDK_DUMMY_PASSWORD=PASSWORD,
                   FERRY_VDDK_DUMMY_LOG=os.path.join(env.base, "vddk.log"))
    run(env, lang, text, [
        ("FERRY_VMWARE_PASSWORD=...", f"FERRY_VMWARE_PASSWORD={PASSWORD}"),
        ("@vc?", f"@{sim.host}?"), ("AA:...", sim.thumbprint),
        ("/opt/vmware-vix-disklib-distrib",
         os.path.join(BUILD, "tests", "vddk-dummy")),
        ("local:///var/lib/ferry ", f"local://{d.dir} "), (" web ", f" {VM} ")])
    assert os.path.getsize(os.path.join(env.base, "vddk.log")) > 0, \
        "the copy did not go through VDDK"


def libvirt_migration(env, lang, text):
    """The session's private libvirtd with a pool 'default' and a network
    br0, both taken away after (other tests define their own)."""
    lv = env.libvirtd
    lv.pool("default", os.path.join(lv.dir, "images", "docdefault"))
    lv.bridge_network("br0")
    a = env.platform("a")
    try:
        a.create_vm("web", disks=1, extra=("--nic", "default"))
        a.start("web")
        # db: a running domain on a qcow2 v3 volume, to migrate from
        vol = os.path.join(env.base, "db-vda.xml")
        write(vol, volume_xml("db-vda.qcow2", 16).encode())
        lv.virsh("vol-create", "default", vol)
        lv.define("", domain_xml("db", [("vda", "default/db-vda.qcow2",
                                         "qcow2")]))
        lv.virsh("start", "db")
        run(env, lang, text, [
            ("'qemu:///system?pool=default'", f"'{lv.uri}&pool=default'"),
            ("qemu:///system ", f"'{lv.uri}' "),
            ("local:///var/lib/ferry ", f"local://{a.dir} ")])
        assert lv.virsh("domstate", "web").stdout.strip() == "running"
        assert lv.virsh("checkpoint-list", "db", "--name").stdout.split() \
            == ["mig-m3-1"]
    finally:
        for dom in ("web", "db"):
            lv.virsh("destroy", dom, check=False)
            lv.virsh("undefine", dom, "--checkpoints-metadata", check=False)
        lv.virsh("vol-delete", "db-vda.qcow2", "--pool", "default",
                 check=False)
        lv.remove("pool", "default")
        lv.remove("net", "br0")


def elf_inventory(env, lang, text):
    """The fake CloudTower (tests/cloudtower-sim/), its host, fingerprint
    and password where the example has CloudTower's."""
    from elfhelpers import PASSWORD, Tower
    t = Tower()
    try:
        cp = run(env, lang, text, [
            ("tower.example.com", t.host),
            ("FERRY_ELF_PASSWORD=...", f"FERRY_ELF_PASSWORD={PASSWORD}"),
            ("AA:BB:...", t.fingerprint)])
        assert "elf-cluster" in cp.stdout, cp.stdout
    finally:
        t.close()


def disk_rate(env, lang, text):
    """The fio-less disk check of the benchmark notes, on a 1 GiB file."""
    write(os.path.join(env.work, "src.img"), b"")
    os.truncate(os.path.join(env.work, "src.img"), 1 << 30)
    run(env, lang, text)


def python_seed(env, lang, text):
    images = os.path.join(env.base, "images")
    os.makedirs(images)
    write(os.path.join(images, "a.img"), os.urandom(2 << 20))
    write(os.path.join(images, "b.img"), bytes(2 << 20))
    run(env, lang, text, [("/var/lib/images", images)])
    with open(os.path.join(images, "a.img"), "rb") as f:
        a = f.read()
    with open(os.path.join(images, "b.img"), "rb") as f:
        b = f.read()
    assert b[:8 * 512] == a[:8 * 512], "the first extent was not copied"


def python_layer(env, lang, text):
    images = os.path.join(env.base, "images")
    os.makedirs(images)
    write(os.path.join(images, "a.img"), os.urandom(2 << 20))
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2",
                    os.path.join(images, "b.qcow2"), "2M"], check=True)
    run(env, lang, text, [("/var/lib/images", images)])


# (file, first line) -> the setup that runs it, or a reason not to
EXAMPLES = {
    ("README.md", "make demo    # installs what is missing, builds, runs a "
     "block sync, a"): "the suite itself: make check runs these tests",
    ("README.md", "ferry sync disk.img nbd+unix:///?socket=/run/dst.sock "
     "--extents changed.txt --verify"): sync_and_info,
    ("README.md", "export FERRY_STATE_DIR=/tmp/lab           # or --platform "
     "local:///tmp/lab"): local_lab,
    ("README.md", "A=local:///var/lib/ferry-a B=local:///var/lib/ferry-b"):
        local_migration,
    ("README.md", "ferry vmware thumbprint vc.example.com       # check it, "
     "then pin it:"): vmware_migration,
    ("README.md", "ferry inventory --platform qemu:///system           # as "
     "virsh -c says it"): libvirt_migration,
    ("README.md", "sync; echo 3 > /proc/sys/vm/drop_caches; time ( \\"):
        disk_rate,
    ("README.md", "import ferry"): None,  # two: told apart below
    ("docs/python.md", "import ferry"):
        "tests/python/test_py_docs.py runs them, in order, checking what "
        "each prints",
    ("docs/vmware.md", "ferry vmware thumbprint vcenter.example.com          "
     "# trust on first use"): vmware_inventory,
    ("docs/vmware.md", "export FERRY_VMWARE_PASSWORD=...     # or "
     "--password-file on each step"): vmware_vddk,
    ("docs/elf.md", "ferry elf fingerprint tower.example.com           # "
     "check it, then pin it:"): elf_inventory,
}


def setup_of(doc, text):
    first = text.splitlines()[0] if text.strip() else ""
    if (doc, first) == ("README.md", "import ferry"):
        return python_layer if "sync_extents" in text else python_seed
    return EXAMPLES.get((doc, first), "missing")


RUNNABLE = [b for b in blocks() if b[2] in ("sh", "python")]
# the ones run here; the others have a reason in EXAMPLES
RUN = [b for b in RUNNABLE if callable(setup_of(b[0], b[3]))]


def test_every_example_is_known():
    """Each ```sh and ```python block has a setup here (or a reason)."""
    unknown = [(doc, line, text.splitlines()[0]) for doc, line, _, text
               in RUNNABLE if setup_of(doc, text) == "missing"]
    assert not unknown, ("examples this test does not know; give each a "
                         f"setup in EXAMPLES: {unknown}")
    assert len(RUNNABLE) >= 9, RUNNABLE  # the parser still finds them


@pytest.mark.parametrize("doc,line,lang,text", RUN,
                         ids=[f"{b[0]}:{b[1]}" for b in RUN])
def test_example_runs(doc, line, lang, text, request):
    setup = setup_of(doc, text)
    env = Env()
    if setup is libvirt_migration:
        env.libvirtd = request.getfixturevalue("libvirtd")
    try:
        setup(env, lang, text)
    finally:
        env.close()
