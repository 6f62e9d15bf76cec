"""The vSphere password reaches no child of ferry: a warm migration from
the simulator to a qemu platform runs with wrappers in front of qemu-nbd
and qemu-img that record their argv, environment and open files before
they exec the real tool, while a watcher reads the command line and
environment of every process under ferry. The password (given through
FERRY_VMWARE_PASSWORD, then through --password-file) must be in none of
them, nor in any file the migration left (journal, helper log, volumes'
names)."""
import os
import shutil
import stat
import subprocess
import threading

from ferryhelpers import FERRY
from qemuhelpers import Platform
from vspherehelpers import PASSWORD, Sim

VM = "DC0_H0_VM0"
NET = "dvportgroup-13"
WRAPPED = ("qemu-nbd", "qemu-img")

WRAPPER = """#!/bin/sh
# records what this process was given, then runs the real tool
r="$FERRY_TEST_RECORDS/$(basename "$0").$$"
{{
  echo "argv: $0 $*"
  echo "environ:"; tr '\\0' '\\n' < /proc/$$/environ
  echo "fds:"; for f in /proc/$$/fd/*; do readlink "$f"; done
}} > "$r"
exec {real} "$@"
"""


def wrappers(tmp_path):
    """A directory of wrappers to put first in PATH, and their records."""
    bindir, records = tmp_path / "bin", tmp_path / "records"
    bindir.mkdir()
    records.mkdir()
    for tool in WRAPPED:
        real = shutil.which(tool)
        assert real, f"{tool} not installed (scripts/deps.sh installs it)"
        w = bindir / tool
        w.write_text(WRAPPER.format(real=real))
        w.chmod(w.stat().st_mode | stat.S_IXUSR)
    return str(bindir), records


def descendants(root):
    """The pids under root, from every process's parent."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in out]
        out.update(kids)
        todo += kids
    return out


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


class Watcher(threading.Thread):
    """Reads ferry's command line and every descendant's command line and
    environment until stopped; notes any that holds the password."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc, self.stop, self.seen, self.hits = proc, False, 0, []

    def run(self):
        secret = PASSWORD.encode()
        while not self.stop and self.proc.poll() is None:
            if secret in read(f"/proc/{self.proc.pid}/cmdline"):
                self.hits.append(("ferry", "cmdline"))
            for pid in descendants(self.proc.pid):
                self.seen += 1
                for what in ("cmdline", "environ"):
                    if secret in read(f"/proc/{pid}/{what}"):
                        comm = read(f"/proc/{pid}/comm").decode().strip()
                        self.hits.append((comm, what))


def run_watched(argv, env):
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    w = Watcher(p)
    w.start()
    out, err = p.communicate(timeout=300)
    w.stop = True
    w.join()
    assert p.returncode == 0, (argv, out, err)
    assert PASSWORD.encode() not in out + err
    assert not w.hits, f"the password is readable in {w.hits}"
    return w.seen


def no_secret_under(top, skip):
    for d, _, files in os.walk(top):
        for f in files:
            path = os.path.join(d, f)
            if path in skip or os.path.islink(path):
                continue
            assert PASSWORD.encode() not in read(path), path


def test_password_reaches_no_child(tmp_path):
    sim, dest = Sim(tmp_path), Platform(tmp_path / "q")
    try:
        bindir, records = wrappers(tmp_path)
        jdir = str(tmp_path / "j")
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("FERRY_VMWARE")}
        base["PATH"] = bindir + os.pathsep + base["PATH"]
        base["FERRY_TEST_RECORDS"] = str(records)
        by_env = dict(base, FERRY_VMWARE_PASSWORD=PASSWORD)

        def step(*args):
            return [FERRY, "migrate", *args, "--journal-dir", jdir, "--json"]
        seen = run_watched(step("start", "--from", sim.uri(), "--to",
                                dest.uri, VM, "--network-map",
                                f"{NET}=default", "--id", "m"), by_env)
        seen += run_watched(step("sync", "m", "--password-file", sim.pwfile),
                            base)
        seen += run_watched(step("cutover", "m", "--stop-timeout", "0"),
                            by_env)
        # the wrappers ran (qemu-img made the volume, qemu-nbd served it)
        made = {n.split(".")[0] for n in os.listdir(records)}
        assert made == set(WRAPPED), made
        assert seen > 0, "the watcher saw no child of ferry"
        for rec in records.iterdir():
            text = rec.read_text()
            assert PASSWORD not in text, f"{rec.name}:\n{text}"
            assert "FERRY_VMWARE" not in text, f"{rec.name}:\n{text}"
        # and no file of the journals, the destination or the records
        no_secret_under(str(tmp_path), {os.path.join(str(tmp_path),
                                                     "sim.log")})
    finally:
        dest.close()
        sim.close()
