"""SmartX ELF's snapshots and ELF as a migration source, against the fake
CloudTower. CloudTower keeps a VM's snapshots as a flat list; ferry's own
records give them a parent and a current one. A snapshot's disk is read
through a clone of its LUN snapshot in ferry's own iSCSI target, deleted
once read; CloudTower tells no changed blocks, so every round of a
migration from ELF copies all the data (the plan says so). No clone is
left behind, even by a ferry killed mid-round."""
import json
import os
import signal
import subprocess
import time

from elfhelpers import PASSWORD, make_vm, tower  # noqa: F401
from ferryhelpers import FERRY
from qemuhelpers import Platform

MIB = 1 << 20


def run(t, state, *args, check=True, timeout=600):
    env = t.env()
    env["FERRY_STATE_DIR"] = str(state)
    cp = subprocess.run([FERRY, *map(str, args)], capture_output=True,
                        text=True, env=env, timeout=timeout)
    assert not check or cp.returncode == 0, (args, cp.stdout, cp.stderr,
                                             t.log())
    assert PASSWORD not in cp.stdout + cp.stderr
    return cp


def runj(t, state, *args):
    return json.loads(run(t, state, *args, "--json").stdout)


def lun_url(t, name):
    [v] = t.api("/get-vm-volumes", {"where": {"name": name}})
    iqn, lun = v["path"][len("iscsi://"):].rsplit("/", 1)
    return f"iscsi://127.0.0.1:{t.iscsi_port}/{iqn}/{lun}"


def qio(t, name, cmd):
    cp = subprocess.run(["qemu-io", "-f", "raw", "-c", cmd,
                         lun_url(t, name)], capture_output=True, text=True)
    assert cp.returncode == 0 and "fail" not in cp.stdout.lower(), \
        (cmd, cp.stdout, cp.stderr)
    return cp.stdout


def clones(t):
    return [lun["name"] for lun in t.api("/get-iscsi-luns", {})
            if lun["name"].startswith("ferry-clone-")]


def elf_vm(t, name, sizes):
    """A stopped VM on new volumes NAME-dN of sizes (MiB)."""
    vols = []
    for i, mib in enumerate(sizes):
        t.wait(t.api("/create-vm-volume", [{
            "cluster_id": t.cluster()["id"], "name": f"{name}-d{i}",
            "size": mib * MIB, "elf_storage_policy":
            "REPLICA_2_THIN_PROVISION", "sharing": False}]))
        [v] = t.api("/get-vm-volumes", {"where": {"name": f"{name}-d{i}"}})
        vols.append(v)
    make_vm(t, name, vols)
    return [v["name"] for v in vols]


def test_snapshots_have_parents_a_current_one_and_revert(tower, tmp_path):
    st = tmp_path / "state"
    [vol] = elf_vm(tower, "sn", [16])
    u = tower.uri()
    qio(tower, vol, "write -P 0x11 0 1M")
    s1 = runj(tower, st, "snapshot", "create", "sn", "s1", "--platform", u)
    assert (s1["parent"], [d["device"] for d in s1["disks"]]) == \
        (None, ["vda"]), s1
    qio(tower, vol, "write -P 0x22 0 1M")
    s2 = runj(tower, st, "snapshot", "create", "sn", "s2", "--platform", u)
    assert s2["parent"] == "s1", s2
    cp = run(tower, st, "snapshot", "create", "sn", "s2", "--platform", u,
             check=False)
    assert cp.returncode != 0 and "already" in cp.stderr, cp.stderr
    cp = run(tower, st, "snapshot", "create", "sn", "m", "--memory",
             "--platform", u, check=False)
    assert cp.returncode != 0 and "RAM" in cp.stderr, cp.stderr
    run(tower, st, "snapshot", "revert", "sn", "s1", "--platform", u)
    qio(tower, vol, "read -P 0x11 0 1M")  # the disk as s1 has it
    s3 = runj(tower, st, "snapshot", "create", "sn", "s3", "--platform", u)
    assert s3["parent"] == "s1", s3
    got = runj(tower, st, "snapshot", "list", "sn", "--platform", u)
    assert got["current"] == "s3", got
    assert [(s["name"], s["parent"]) for s in got["snapshots"]] == \
        [("s1", None), ("s2", "s1"), ("s3", "s1")], got
    run(tower, st, "snapshot", "delete", "sn", "s1", "--platform", u)
    got = runj(tower, st, "snapshot", "list", "sn", "--platform", u)
    assert [(s["name"], s["parent"]) for s in got["snapshots"]] == \
        [("s2", None), ("s3", None)], got
    # one CloudTower made itself: listed, a root, and read like the rest
    [vm] = tower.api("/get-vms", {"where": {"name": "sn"}})
    tower.wait(tower.api("/create-vm-snapshot", {"data": [{
        "vm_id": vm["id"], "name": "ui", "consistent_type":
        "CRASH_CONSISTENT"}]}))
    got = runj(tower, st, "snapshot", "list", "sn", "--platform", u)
    assert [(s["name"], s["parent"]) for s in got["snapshots"]][-1] == \
        ("ui", None), got
    for s in ("s2", "s3", "ui"):
        run(tower, st, "snapshot", "delete", "sn", s, "--platform", u)
    assert tower.api("/get-vm-snapshots", {"where": {"vm": {
        "id": vm["id"]}}}) == []


def net_map(t):
    """--network-map for the VMs elf_vm makes (on the first VM network)."""
    vlan = [v for v in t.api("/get-vlans", {}) if v["type"] == "VM"][0]
    return ["--network-map", f"{vlan['id']}=default"]


def migrate(t, state, jdir, *args):
    return runj(t, state, "migrate", *args, "--journal-dir", jdir)


def assert_same(t, dst, vm, names):
    """The destination VM's disks hold what the ELF volumes hold."""
    disks = dst.json("vm", "show", vm)["disks"]
    for d, name in zip(disks, names):
        path = os.path.join(dst.real, "volumes", d["volume_id"])
        cp = subprocess.run(["qemu-img", "compare", "-U", path,
                             lun_url(t, name)], capture_output=True,
                            text=True)
        assert cp.returncode == 0, (name, cp.stdout, cp.stderr)


def test_warm_migration_from_elf_to_the_local_platform(tower, tmp_path):
    """A running ELF VM, two disks: every round a full copy read through
    LUN clones (the plan says why), the guest's writes between rounds;
    the cutover verifies the disks; no clone and no round snapshot is
    left."""
    st, jdir = tmp_path / "state", str(tmp_path / "j")
    names = elf_vm(tower, "ev", [32, 16])
    qio(tower, names[0], "write -P 0x41 0 4M")
    qio(tower, names[1], "write -P 0x42 8M 2M")
    [vm] = tower.api("/get-vms", {"where": {"name": "ev"}})
    tower.wait(tower.api("/start-vm", {"where": {"id": vm["id"]}}))
    b = Platform(tmp_path / "b")
    try:
        plan = run(tower, st, "migrate", "plan", "--from", tower.uri(),
                   "--to", b.uri, "ev", *net_map(tower)).stdout
        assert "each round copies all the data" in plan, plan
        m = migrate(tower, st, jdir, "start", "--from", tower.uri(), "--to",
                    b.uri, "ev", "--id", "fe", *net_map(tower))
        assert m["full_rounds"] and m["phase"] == "warm", m
        assert m["rounds"][0]["changed_bytes"] >= 6 * MIB, m["rounds"]
        assert clones(tower) == []
        qio(tower, names[0], "write -P 0x43 16M 1M")
        m = migrate(tower, st, jdir, "sync", "fe")
        # all the data again, the new MiB with it
        assert m["rounds"][1]["changed_bytes"] >= 7 * MIB, m["rounds"]
        m = migrate(tower, st, jdir, "cutover", "fe", "--stop-timeout", "0")
        assert (m["phase"], m["verified"]) == ("done", True), m
        assert_same(tower, b, "ev", names)
        assert clones(tower) == []
        assert tower.api("/get-vm-snapshots", {"where": {"vm": {
            "id": vm["id"]}}}) == [], "round snapshots left"
    finally:
        b.close()


def killed_when(argv, env, seen, what):
    """Runs argv and kills it alone (SIGKILL) as soon as seen() is true."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not seen():
            assert p.poll() is None, f"it ended before {what}"
            assert time.monotonic() < deadline, f"no {what}"
            time.sleep(0.01)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


def test_kill_during_a_round_from_elf_then_resume(tower, tmp_path):
    """kill -9 of ferry while a round reads through its LUN clone: the
    clone is left; `resume` deletes it (its ferry is gone), runs the round
    again, and the migration ends with identical disks and no clone."""
    st, jdir = tmp_path / "state", str(tmp_path / "j")
    [name] = elf_vm(tower, "ek", [256])
    qio(tower, name, "write -P 0x51 0 200M")
    b = Platform(tmp_path / "b")
    try:
        migrate(tower, st, jdir, "start", "--from", tower.uri(), "--to",
                b.uri, "ek", "--id", "ke", *net_map(tower))
        qio(tower, name, "write -P 0x52 100M 1M")
        env = tower.env()
        env["FERRY_STATE_DIR"] = str(st)
        killed_when([FERRY, "migrate", "sync", "ke", "--journal-dir", jdir],
                    env, lambda: clones(tower), "LUN clone")
        assert len(clones(tower)) == 1, clones(tower)
        m = migrate(tower, st, jdir, "resume", "ke")
        assert m["phase"] == "warm" and m["rounds"][-1]["done"], m
        assert clones(tower) == [], "the killed ferry's clone is still there"
        m = migrate(tower, st, jdir, "cutover", "ke", "--stop-timeout", "0")
        assert (m["phase"], m["verified"]) == ("done", True), m
        assert_same(tower, b, "ek", [name])
        assert clones(tower) == []
    finally:
        b.close()


def test_kill_during_a_round_to_elf_then_resume(tower, tmp_path):
    """kill -9 of ferry while a round writes into the ELF volumes over
    iSCSI, then `resume`: the disks end identical."""
    st, jdir = tmp_path / "state", str(tmp_path / "j")
    a = Platform(tmp_path / "a")
    try:
        a.ok("vm", "create", "lk", "--memory", "64", "--disk", "256M")
        [d] = a.json("vm", "show", "lk")["disks"]
        img = os.path.join(a.real, "volumes", d["volume_id"])
        subprocess.run(["qemu-io", "-f", "qcow2", "-c",
                        "write -P 0x61 0 200M", img], check=True,
                       capture_output=True)
        a.ok("vm", "start", "lk")
        migrate(tower, st, jdir, "start", "--from", a.uri, "--to",
                tower.uri(), "lk", "--id", "kt")
        with a.qmp("lk") as q:  # the guest's write, through its disk
            out = q.hmp('qemu-io -d vda/virtio-backend "write -P 0x62 0 '
                        '160M"')
        assert not out.strip(), out

        def mid_round():
            with open(os.path.join(jdir, "kt.json")) as f:
                m = json.load(f)
            return len(m["rounds"]) == 2 and not m["rounds"][1]["done"]
        env = tower.env()
        env["FERRY_STATE_DIR"] = str(st)
        killed_when([FERRY, "migrate", "sync", "kt", "--journal-dir", jdir],
                    env, mid_round, "second round")
        m = migrate(tower, st, jdir, "resume", "kt")
        assert m["phase"] == "warm" and m["rounds"][-1]["done"], m
        m = migrate(tower, st, jdir, "cutover", "kt", "--stop-timeout", "0")
        assert (m["phase"], m["verified"]) == ("done", True), m
        cp = subprocess.run(["qemu-img", "compare", "-U", img,
                             lun_url(tower, "lk-vda")], capture_output=True,
                            text=True)
        assert cp.returncode == 0, (cp.stdout, cp.stderr)
        # and the bytes are the guest's, not only equal
        qio(tower, "lk-vda", "read -P 0x62 0 160M")
        qio(tower, "lk-vda", "read -P 0x61 160M 40M")
    finally:
        a.close()


def test_a_whitelist_that_keeps_ferry_out_lets_it_in_for_the_copy(
        tower, tmp_path):
    """The system target's whitelist names ELF's nodes only: ferry adds
    its initiator for the migration's copy (and its conversion-free
    verification), and takes it off again each time, leaving the list as
    it was; a refusal of the login would fail the copy."""
    st, jdir = tmp_path / "state", str(tmp_path / "j")
    nodes = "iqn.2016-02.com.smartx:elf-host1"
    target = [t for t in tower.api("/get-iscsi-targets", {})
              if t["internal"]][0]
    a = Platform(tmp_path / "a")
    try:
        status, _ = tower.post("/_sim/restrict", {"iqn_whitelist": nodes})
        assert status == 200
        a.ok("vm", "create", "wl", "--memory", "64", "--disk", "16M")
        [d] = a.json("vm", "show", "wl")["disks"]
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x71 0 4M",
                        os.path.join(a.real, "volumes", d["volume_id"])],
                       check=True, capture_output=True)
        cp = run(tower, st, "migrate", "start", "--from", a.uri, "--to",
                 tower.uri(), "wl", "--id", "w", "--journal-dir", jdir, "-v")
        assert "let in" in cp.stderr, cp.stderr
        [t] = tower.api("/get-iscsi-targets", {"where": {"id": target["id"]}})
        assert t["iqn_whitelist"] == nodes, t
        lun = lun_url(tower, "wl-vda").rsplit("/", 1)[1]
        qio_as_node = subprocess.run(
            ["qemu-io", "--image-opts", "-c", "read -P 0x71 0 4M",
             f"driver=raw,file.driver=iscsi,file.transport=tcp,"
             f"file.portal=127.0.0.1:{tower.iscsi_port},"
             f"file.target={t['iqn_name']},file.lun={lun},"
             f"file.initiator-name={nodes}"], capture_output=True, text=True)
        assert qio_as_node.returncode == 0 and "failed" not in \
            qio_as_node.stdout, qio_as_node  # the copy landed
        assert not os.listdir(st / "elf" / "grants" / target["id"]), \
            "a holder file is left"
        migrate(tower, st, jdir, "abort", "w")
    finally:
        tower.post("/_sim/restrict", {"iqn_whitelist": ""})
        a.close()
