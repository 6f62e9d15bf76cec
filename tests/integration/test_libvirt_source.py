"""The libvirt platform as a migration source, against the session's
private libvirtd: changed-block tracking through libvirt's checkpoints and
pull-mode backups (a full backup for round 1, then incremental backups
whose qemu:dirty-bitmap context gives the changed areas), the final round
of a shut-off domain from the checkpoint's bitmap in its images, a kill -9
during a round, and the refusals (a v2 qcow2 disk while the domain runs,
someone else's backup job). The domains run no OS (TCG, idle in the
BIOS); the "guest" writes are qemu-io through the monitor."""
import json
import os
import signal
import subprocess
import time

import pytest

from ferryhelpers import FERRY, describe, run_ferry
from libvirthelpers import Libvirtd, domain_xml, volume_xml
from qemuhelpers import Platform, migrate

MIB = 1 << 20


@pytest.fixture(scope="module")
def src(libvirtd):
    """A pool p1 on the session's libvirtd, for this module's domains."""
    d = libvirtd
    d.pool("p1", os.path.join(d.dir, "images1"))
    try:
        yield d
    finally:
        d.remove("pool", "p1")


class Domain:
    """A TCG domain with a pool volume (vda) and a file disk (vdb), both
    qcow2 (v3 unless compat says), holding data before it starts."""

    def __init__(self, lv, name, vda_mib=64, vdb_mib=32, compat="1.1",
                 start=True):
        self.lv, self.name = lv, name
        self.images = os.path.join(lv.dir, "images1")
        xml = os.path.join(lv.dir, f"{name}-vol.xml")
        with open(xml, "w") as f:
            f.write(volume_xml(f"{name}-vda.qcow2", vda_mib))
        lv.virsh("vol-create", "p1", xml)
        self.vda = os.path.join(self.images, f"{name}-vda.qcow2")
        self.vdb = os.path.join(self.images, f"{name}-vdb.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                        f"compat={compat}", self.vdb, f"{vdb_mib}M"],
                       check=True)
        self.io_off(self.vda, "write -P 0x11 0 4M", "write -P 0x12 20M 1M")
        self.io_off(self.vdb, "write -P 0x21 1M 2M")
        lv.define("", domain_xml(name, [("vda", f"p1/{name}-vda.qcow2",
                                         "qcow2"), ("vdb", self.vdb,
                                                    "qcow2")]))
        if start:
            lv.virsh("start", name)

    @staticmethod
    def io_off(path, *cmds):
        args = ["qemu-io", "-f", "qcow2"]
        for c in cmds:
            args += ["-c", c]
        subprocess.run(args + [path], check=True, capture_output=True)

    def write(self, disk, cmd):
        """A write of the running guest's (qemu-io in its qemu)."""
        n = {"vda": 0, "vdb": 1}[disk]
        self.lv.virsh("qemu-monitor-command", self.name, "--hmp",
                      f'qemu-io -d /machine/peripheral/virtio-disk{n}/'
                      f'virtio-backend "{cmd}"')

    def checkpoints(self):
        return self.lv.virsh("checkpoint-list", self.name,
                             "--name").stdout.split()

    def job(self):
        """The domain's job type; "None" for a shut-off domain's."""
        if self.lv.virsh("domstate", self.name).stdout.strip() != "running":
            return "None"
        out = self.lv.virsh("domjobinfo", self.name).stdout
        return out.split("\n")[0].split(":", 1)[1].strip()

    def bitmaps(self, path):
        info = json.loads(subprocess.run(
            ["qemu-img", "info", "-U", "--output=json", path],
            capture_output=True, text=True, check=True).stdout)
        return [b["name"] for b in
                info["format-specific"]["data"].get("bitmaps", [])]

    def close(self):
        self.lv.virsh("destroy", self.name, check=False)
        self.lv.virsh("undefine", self.name, "--checkpoints-metadata",
                      check=False)
        self.lv.virsh("vol-delete", f"{self.name}-vda.qcow2", "--pool", "p1",
                      check=False)
        for p in (self.vdb,):
            if os.path.exists(p):
                os.unlink(p)


def uri(lv):
    """The source URI, its backups' sockets in the daemon's short dir."""
    return f"{lv.uri}&backup_dir={lv.dir}/bk"


def compare(a, b):
    cp = subprocess.run(["qemu-img", "compare", "-U", a, b],
                        capture_output=True, text=True)
    assert cp.returncode == 0, (a, b, cp.stdout, cp.stderr)


def assert_copied(dom, images, name):
    """The domain's disks and the images NAME-vda/vdb.qcow2 hold the same
    data."""
    compare(dom.vda, os.path.join(images, f"{name}-vda.qcow2"))
    compare(dom.vdb, os.path.join(images, f"{name}-vdb.qcow2"))


def assert_nothing_left(dom):
    assert dom.checkpoints() == []
    assert dom.job() == "None"
    assert os.listdir(os.path.join(dom.lv.dir, "bk")) == []
    assert dom.bitmaps(dom.vda) == [] and dom.bitmaps(dom.vdb) == []


def test_warm_migration_from_libvirt_to_the_local_platform(src, tmp_path):
    """Round 1 a full pull backup with checkpoint 1; writes; round 2 an
    incremental backup since it, which copies exactly the written 64 KiB
    granules; more writes; the cutover shuts the domain off and copies
    the rest from checkpoint 2's bitmap in the images; verified, the disks
    identical, and no checkpoint, bitmap, backup job or socket left."""
    dom = Domain(src, "w1")
    b = Platform(tmp_path / "b")
    jdir = str(tmp_path / "j")
    try:
        m = migrate(jdir, "start", "--from", uri(src), "--to", b.uri, "w1",
                    "--id", "lw")
        assert m["phase"] == "warm", m
        assert m["rounds"][0]["changed_bytes"] == 7 * MIB, m["rounds"]
        assert dom.checkpoints() == ["mig-lw-1"] and dom.job() == "None"
        dom.write("vda", "write -P 0x55 1M 4k")  # one 64 KiB granule
        dom.write("vda", "write -P 0x56 40M 128k")
        dom.write("vdb", "write -P 0x66 8M 4k")
        m = migrate(jdir, "sync", "lw")
        assert m["rounds"][1]["changed_bytes"] == 4 * 65536, m["rounds"]
        assert dom.checkpoints() == ["mig-lw-2"] and dom.job() == "None"
        dom.write("vda", "write -P 0x77 30M 64k")
        dom.write("vdb", "write -P 0x78 0 64k")
        m = migrate(jdir, "cutover", "lw", "--stop-timeout", "1")
        assert (m["phase"], m["verified"]) == ("done", True), m
        assert m["rounds"][2]["final"] and \
            m["rounds"][2]["changed_bytes"] == 2 * 65536, m["rounds"]
        assert src.virsh("domstate", "w1").stdout.strip() == "shut off"
        assert_copied(dom, os.path.join(b.real, "volumes"), "w1")
        assert_nothing_left(dom)
    finally:
        dom.close()
        b.close()


def test_a_shut_off_domain_is_copied_cold_even_with_a_v2_disk(src,
                                                               tmp_path):
    """A v2 qcow2 disk cannot hold checkpoints' bitmaps: a running domain
    with one is refused before anything (the message says how to go
    cold); shut off, its rounds read the disks as they are, all their
    data, and the copy is identical."""
    dom = Domain(src, "c1", compat="0.10")
    b = Platform(tmp_path / "b")
    jdir = str(tmp_path / "j")
    try:
        cp = run_ferry("migrate", "start", "--from", uri(src), "--to", b.uri,
                       "c1", "--id", "cv", "--journal-dir", jdir)
        assert cp.returncode != 0, describe(cp)
        err = cp.stderr.decode()
        assert "disk vdb" in err and "qcow2 v2" in err and \
            "shut the domain off for a cold migration" in err, err
        assert dom.checkpoints() == [] and dom.job() == "None"
        assert not os.path.exists(jdir) or os.listdir(jdir) == []
        assert not os.path.exists(os.path.join(b.real, "volumes")) or \
            os.listdir(os.path.join(b.real, "volumes")) == []

        src.virsh("destroy", "c1")
        m = migrate(jdir, "start", "--from", uri(src), "--to", b.uri, "c1",
                    "--id", "cv")
        assert m["rounds"][0]["changed_bytes"] == 7 * MIB, m["rounds"]
        m = migrate(jdir, "cutover", "cv")
        assert (m["phase"], m["verified"]) == ("done", True), m
        assert_copied(dom, os.path.join(b.real, "volumes"), "c1")
        assert dom.checkpoints() == []
    finally:
        dom.close()
        b.close()


def test_someone_elses_backup_job_is_left_alone(src, tmp_path):
    """libvirt runs one backup job per domain: a job ferry did not begin
    is named and left running, and nothing is made."""
    dom = Domain(src, "o1")
    b = Platform(tmp_path / "b")
    other = os.path.join(src.dir, "other.sock")
    try:
        bk = os.path.join(src.dir, "other-bk.xml")
        with open(bk, "w") as f:
            f.write(f"<domainbackup mode='pull'><server transport='unix' "
                    f"socket='{other}'/><disks><disk name='vda' "
                    f"backup='yes' type='file'><scratch file='{src.dir}/"
                    f"other-vda.scratch'/></disk><disk name='vdb' "
                    f"backup='no'/></disks></domainbackup>")
        src.virsh("backup-begin", "o1", bk)
        cp = run_ferry("migrate", "start", "--from", uri(src), "--to", b.uri,
                       "o1", "--id", "ob", "--journal-dir", tmp_path / "j")
        assert cp.returncode != 0 and other.encode() in cp.stderr and \
            b"did not begin" in cp.stderr, describe(cp)
        assert dom.job() == "Unbounded"  # still running
        assert dom.checkpoints() == []
        assert not (tmp_path / "j").exists() or \
            os.listdir(tmp_path / "j") == []
        src.virsh("domjobabort", "o1")
    finally:
        dom.close()
        b.close()


def test_kill_during_a_round_then_resume(src, tmp_path):
    """kill -9 of ferry while its round's backup job runs (its socket is
    there): the job is left running in libvirtd; `resume` finds it,
    continues the round with it and ends it; the disks end identical and
    nothing is left."""
    dom = Domain(src, "k1", vda_mib=256)
    b = Platform(tmp_path / "b")
    jdir = str(tmp_path / "j")
    bk = os.path.join(src.dir, "bk")
    try:
        migrate(jdir, "start", "--from", uri(src), "--to", b.uri, "k1",
                "--id", "kr")
        # a round with enough to copy that the kill lands in it
        dom.write("vda", "write -P 0x44 64M 96M")
        p = subprocess.Popen([FERRY, "migrate", "sync", "kr",
                              "--journal-dir", jdir],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not any(f.endswith(".sock") for f in os.listdir(bk)):
            assert p.poll() is None, "the round ended before its job was seen"
            assert time.monotonic() < deadline, "no backup job began"
            time.sleep(0.001)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert dom.job() == "Unbounded", "the kill left no backup job"
        m = migrate(jdir, "resume", "kr")
        assert m["phase"] == "warm" and m["rounds"][1]["done"], m
        assert m["rounds"][1]["changed_bytes"] == 96 * MIB, m["rounds"]
        assert dom.job() == "None" and dom.checkpoints() == ["mig-kr-2"]
        m = migrate(jdir, "cutover", "kr", "--stop-timeout", "1")
        assert (m["phase"], m["verified"]) == ("done", True), m
        assert_copied(dom, os.path.join(b.real, "volumes"), "k1")
        assert_nothing_left(dom)
    finally:
        dom.close()
        b.close()


def test_abort_takes_the_checkpoints_back(src, tmp_path):
    """An abort while warm removes the round's checkpoint (and its
    bitmaps) and the destination's volumes; the domain runs on."""
    dom = Domain(src, "a1")
    b = Platform(tmp_path / "b")
    jdir = str(tmp_path / "j")
    try:
        migrate(jdir, "start", "--from", uri(src), "--to", b.uri, "a1",
                "--id", "ab")
        assert dom.checkpoints() == ["mig-ab-1"]
        m = migrate(jdir, "abort", "ab")
        assert m["phase"] == "aborted", m
        assert any("snapshots removed: mig-ab-1" in u for u in m["undone"]), m
        assert src.virsh("domstate", "a1").stdout.strip() == "running"
        src.virsh("destroy", "a1")
        assert_nothing_left(dom)
    finally:
        dom.close()
        b.close()


@pytest.fixture(scope="module")
def dst_libvirtd():
    """A second private libvirtd: the destination host of libvirt →
    libvirt (its own namespaces, pool and bridge network)."""
    d = Libvirtd()
    try:
        d.pool("default", os.path.join(d.dir, "images"))
        yield d
    finally:
        d.close()


def test_warm_migration_from_libvirt_to_libvirt(src, dst_libvirtd,
                                                tmp_path):
    """Between two libvirtds: writes between two rounds, the domain
    defined at the destination on its pool's new volumes (qcow2 v3),
    identical disks, no checkpoint or backup job left at the source."""
    dom = Domain(src, "ll")
    jdir = str(tmp_path / "j")
    dst = dst_libvirtd
    try:
        m = migrate(jdir, "start", "--from", uri(src), "--to", dst.uri,
                    "ll", "--id", "l2")
        assert [d["dst_volume"] for d in m["disks"]] == [
            "default/ll-vda.qcow2", "default/ll-vdb.qcow2"], m
        dom.write("vda", "write -P 0x31 2M 64k")
        dom.write("vdb", "write -P 0x32 3M 64k")
        m = migrate(jdir, "sync", "l2")
        assert m["rounds"][1]["changed_bytes"] == 2 * 65536, m["rounds"]
        dom.write("vda", "write -P 0x33 50M 64k")
        m = migrate(jdir, "cutover", "l2", "--stop-timeout", "1")
        assert (m["phase"], m["verified"]) == ("done", True), m
        got = json.loads(run_ferry("vm", "show", "ll", "--platform", dst.uri,
                                   "--json").stdout)
        assert [(d["device"], d["volume_id"]) for d in got["disks"]] == [
            ("vda", "default/ll-vda.qcow2"), ("vdb", "default/ll-vdb.qcow2")]
        assert_copied(dom, os.path.join(dst.dir, "images"), "ll")
        assert_nothing_left(dom)
    finally:
        dst.virsh("undefine", "ll", check=False)
        dom.close()
