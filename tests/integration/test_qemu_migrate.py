"""Warm migration between two qemu platforms, against real qemu: guest
writes between rounds, cutover, and the destination disks byte-identical
to the source's final state (compared with cmp on exported raw images, not
with ferry's own verify)."""
import os
import subprocess
import tempfile


from ferryhelpers import FERRY
from qemuhelpers import (bitmaps, image_info, migrate, tool,  # noqa: F401
                         two)


def start_args(a, b, vm="web", extra=()):
    return ["start", "--from", a.uri, "--to", b.uri, vm,
            "--network-map", "default=default", "--id", "m", *extra]


def raw(img, out):
    tool("qemu-img", "convert", "-U", "-O", "raw", img, out)
    return out


def active_images(p, vm):
    vols = os.path.join(p.real, "volumes")
    return {d["device"]: os.path.join(vols, d["volume_id"])
            for d in p.json("vm", "show", vm)["disks"]}


def assert_identical(a, b, tmp_path, vm="web"):
    """cmp of each disk, source (stopped, final) vs destination."""
    src, dst = active_images(a, vm), active_images(b, vm)
    assert sorted(src) == sorted(dst) == ["vda", "vdb"]
    for dev in src:
        s = raw(src[dev], str(tmp_path / f"s-{dev}.raw"))
        d = raw(dst[dev], str(tmp_path / f"d-{dev}.raw"))
        cp = subprocess.run(["cmp", s, d], capture_output=True)
        assert cp.returncode == 0, f"{dev}: {cp.stdout!r}"


def no_ferry_traces(p, vm="web"):
    """No migration snapshots, and no bitmaps in the source's images."""
    assert p.snap_names(vm) == []
    for img in active_images(p, vm).values():
        chain = [img]
        while True:
            b = image_info(chain[-1]).get("backing-filename")
            if not b:
                break
            chain.append(os.path.join(os.path.dirname(img),
                                      os.path.basename(b)))
        for layer in chain:
            assert [n for n in bitmaps(layer) if n.startswith("ferry-")] \
                == [], layer


def make_source(a, vm="web"):
    a.create_vm(vm, extra=("--nic", "default"))
    a.start(vm)
    a.live_write(vm, 0x11)


def test_warm_migration_end_to_end(two, tmp_path):
    a, b, jdir = two
    make_source(a)
    m = migrate(jdir, *start_args(a, b))
    assert m["phase"] == "warm" and m["rounds"][0]["done"]
    assert a.state("web") == "running"
    a.live_write("web", 0x22)
    m = migrate(jdir, "sync", "m")
    assert len(m["rounds"]) == 2 and m["rounds"][1]["changed_bytes"] > 0
    # S1 served its round and went while the VM runs: the chain stays short
    assert a.snap_names("web") == ["mig-m-2"]
    a.live_write("web", 0x33)
    m = migrate(jdir, "cutover", "m", "--stop-timeout", "1")
    assert m["phase"] == "done" and m["verified"] is True
    assert m["rounds"][-1]["final"] and len(m["rounds"]) == 3
    assert m["downtime_millis"] > 0
    assert a.state("web") == "stopped"
    assert_identical(a, b, tmp_path)
    no_ferry_traces(a)
    dst = b.json("vm", "show", "web")
    src = a.json("vm", "show", "web")
    assert [n["mac"] for n in dst["nics"]] == [n["mac"] for n in src["nics"]]
    assert [n["network"] for n in dst["nics"]] == ["default"]
    assert dst["power_state"] == "stopped"
    # the destination VM runs
    b.start("web")
    assert b.state("web") == "running"


def test_abort_leaves_no_snapshots_or_bitmaps(two, tmp_path):
    a, b, jdir = two
    make_source(a)
    migrate(jdir, *start_args(a, b))
    a.live_write("web", 0x22)
    migrate(jdir, "sync", "m")
    m = migrate(jdir, "abort", "m")
    assert m["phase"] == "aborted"
    # it says what it took back
    assert m["undone"][0].startswith(
        "the source's migration snapshots removed: mig-m-"), m["undone"]
    assert "the destination volume web-vda.qcow2 deleted" in m["undone"]
    assert "the destination volume web-vdb.qcow2 deleted" in m["undone"]
    assert a.state("web") == "running"  # the source never stops
    no_ferry_traces(a)
    assert b.json("volume", "list") == []
    a.stop("web")
    # the source's data is whole: the last write is there on both disks
    for img in active_images(a, "web").values():
        assert tool("qemu-io", "-f", "qcow2", "-r", "-c",
                    "read -P 0x22 0 64k", img).returncode == 0


def test_plan_saves_nothing_and_list_shows_every_journal(two, tmp_path):
    """`migrate plan` prints no id (no journal is saved, so status would not
    know it); `migrate list` shows every migration in the journal dir with
    its phase, VM, rounds and both ends, and names a journal it cannot
    read."""
    a, b, jdir = two
    a.create_vm("web", extra=("--nic", "default"))
    cp = subprocess.run([FERRY, "migrate", "plan", "--from", a.uri, "--to",
                         b.uri, "web", "--network-map", "default=default",
                         "--journal-dir", jdir], capture_output=True,
                        text=True)
    assert cp.returncode == 0, cp
    assert cp.stdout.startswith("plan: web ("), cp.stdout
    assert "nothing in the way" in cp.stdout and "migration " not in cp.stdout
    assert migrate(jdir, "plan", *start_args(a, b)[1:-2])["id"] is None
    assert migrate(jdir, "list") == []  # plans leave no journal
    migrate(jdir, *start_args(a, b))
    [m] = migrate(jdir, "list")
    assert (m["id"], m["phase"], m["vm"], len(m["rounds"])) == \
        ("m", "warm", "web", 1)
    assert (m["source"], m["destination"]) == (a.uri, b.uri)
    cp = subprocess.run([FERRY, "migrate", "list", "--journal-dir", jdir],
                        capture_output=True, text=True)
    header, row = cp.stdout.splitlines()
    assert header.split()[:4] == ["ID", "PHASE", "VM", "ROUNDS"]
    assert row.split()[:4] == ["m", "warm", "web", "1"], row
    assert row.endswith(f"{a.uri} -> {b.uri}"), row
    with open(os.path.join(jdir, "bad.json"), "w") as f:
        f.write("{")
    cp = subprocess.run([FERRY, "migrate", "list", "--journal-dir", jdir],
                        capture_output=True, text=True)
    assert cp.returncode != 0 and "bad.json" in cp.stderr, cp
    os.unlink(os.path.join(jdir, "bad.json"))
    migrate(jdir, "abort", "m")


def test_bad_input_is_refused_before_anything_changes(two, tmp_path):
    a, b, jdir = two
    make_source(a)
    before = sorted(os.listdir(os.path.join(a.real, "volumes")))

    def refused(args, needle):
        cp = subprocess.run([FERRY, "migrate", *args, "--journal-dir", jdir],
                            capture_output=True, timeout=120)
        assert cp.returncode != 0, args
        assert needle in cp.stderr.decode(), cp.stderr
        assert a.snap_names("web") == []
        assert sorted(os.listdir(os.path.join(a.real, "volumes"))) == before
        assert b.json("volume", "list") == []
        assert not os.path.exists(os.path.join(jdir, "m.json"))

    refused(start_args(a, b, vm="nosuch"), "no VM 'nosuch'")
    refused(["start", "--from", a.uri, "--to", b.uri, "web", "--id", "m"],
            "network map does not map")
    refused(["start", "--from", a.uri, "--to", b.uri, "web", "--id", "m",
             "--network-map", "default=lan9"],
            "network 'lan9', which the destination does not have (it has: "
            "default)")
    refused(start_args(a, b, extra=("--format", "vmdk")), "vmdk")
    b.create_vm("web")  # a name clash at the destination
    cp = subprocess.run([FERRY, "migrate", *start_args(a, b), "--journal-dir",
                         jdir], capture_output=True, timeout=120)
    assert cp.returncode != 0 and b"named 'web'" in cp.stderr
    assert a.snap_names("web") == []


def test_rounds_until_few_changes_or_a_limit(two, tmp_path):
    a, b, jdir = two
    make_source(a)
    migrate(jdir, *start_args(a, b))
    # nothing written: the first round copies less than 1 MiB and stops
    m = migrate(jdir, "sync", "m", "--until", "1M", "--max-rounds", "5")
    assert len(m["rounds"]) == 2 and m["rounds"][1]["changed_bytes"] == 0
    # a threshold nothing goes under: the limit stops it
    m = migrate(jdir, "sync", "m", "--until", "0", "--max-rounds", "3")
    assert len(m["rounds"]) == 5
    assert a.snap_names("web") == ["mig-m-5"]
    a.live_write("web", 0x44)
    m = migrate(jdir, "cutover", "m", "--stop-timeout", "1")
    assert m["phase"] == "done" and m["verified"] is True
    assert_identical(a, b, tmp_path)
    no_ferry_traces(a)


def test_destination_without_room_is_refused(two, tmp_path):
    """A destination whose file system cannot hold the disks (an 8 MiB
    tmpfs for 32 MiB of disks) is refused before anything changes."""
    a, b, jdir = two
    make_source(a)
    small = tempfile.mkdtemp(prefix="fr", dir="/tmp")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", small],
                   check=True)
    try:
        cp = subprocess.run([FERRY, "migrate", "start", "--from", a.uri,
                             "--to", f"local://{small}", "web", "--network-map",
                             "default=default", "--id", "m", "--journal-dir",
                             jdir], capture_output=True, timeout=120)
        assert cp.returncode != 0, cp
        assert b"has 8 MiB free, the disks need up to 32 MiB" in cp.stderr, \
            cp.stderr
        assert a.snap_names("web") == []
        assert not os.path.exists(os.path.join(jdir, "m.json"))
        vols = os.path.join(small, "volumes")
        assert not os.path.isdir(vols) or not os.listdir(vols)
    finally:
        subprocess.run(["umount", small], check=True)
        os.rmdir(small)


def test_cutover_start_verifies_then_runs_the_destination(two, tmp_path):
    """cutover --start: the destination disks are verified before the
    destination VM exists (a running VM holds its images' locks), then the
    VM is made and started; it runs, and the disks were identical."""
    a, b, jdir = two
    make_source(a)
    migrate(jdir, *start_args(a, b))
    a.live_write("web", 0x22)
    m = migrate(jdir, "cutover", "m", "--stop-timeout", "0", "--start")
    assert m["phase"] == "done" and m["verified"] is True, m
    assert b.state("web") == "running"
    b.stop("web")
    assert_identical(a, b, tmp_path)
    no_ferry_traces(a)
