"""State files are checked for meaning, not only syntax: a hand-edited or
hostile VM definition, snapshot record or image never reaches qemu's
command line, never crashes ferry, and is refused with a message naming
the file and what is wrong. tests/run.sh runs this file again with the
ASan+UBSan build of ferry (FERRY_BUILD=build-asan)."""

import json
import os

import pytest

from qemuhelpers import edit_json, qp, tool  # noqa: F401


def def_path(qp, uuid):
    return os.path.join(qp.dir, "vms", f"{uuid}.json")


def edit_def(qp, uuid, change):
    return edit_json(def_path(qp, uuid), change)


def refused_cleanly(qp, args, needles):
    """Exit 1 or 2 (never a signal), a message naming each needle, and no
    qemu started."""
    cp = qp.run(*args)
    assert cp.returncode in (1, 2), (
        f"{args}: exit {cp.returncode} (a crash is negative or >= 128)\n"
        f"{cp.stderr.decode(errors='replace')}")
    err = cp.stderr.decode(errors="replace")
    for n in needles:
        assert n in err, f"{args}: message lacks {n!r}: {err}"
    assert qp.our_pids() == {}, "a qemu was started"
    return err


@pytest.fixture
def web(qp):
    qp.create_vm("web", disks=2, extra=("--nic", "default"))
    return qp.uuid("web")


def set_disk(field, value, disk=0):
    def change(d):
        d["disks"][disk][field] = value
    return change


@pytest.mark.parametrize("volume_id,needle", [
    ("nosuffix", "must end in .qcow2 or .raw"),
    ("../../etc/passwd.raw", "may not start with '.'"),
    ("/etc/passwd.raw", "may not contain '/'"),
    ("", "volume id is empty"),
], ids=["no-suffix", "dotdot", "absolute", "empty"])
def test_bad_volume_id_is_refused_not_a_crash(qp, web, volume_id, needle):
    """Bug: `vm start` segfaulted on a volume id without a format suffix
    (NULL format to json-c) and gave qemu an uninitialised buffer for one
    that escapes the state dir."""
    path = edit_def(qp, web, set_disk("volume_id", volume_id))
    for args in (("vm", "start", web), ("snapshot", "create", web, "s"),
                 ("snapshot", "create", web, "s", "--external")):
        refused_cleanly(qp, args, [path, needle])
    # the platform stays usable: the listing shows it, stop works
    assert [v["name"] for v in qp.vms()] == ["web"]
    qp.ok("vm", "stop", web, "--force")


@pytest.mark.parametrize("field,value,needle", [
    ("vcpus", 0, "vcpus 0 is not in 1..255"),
    ("vcpus", 100000, "vcpus 100000"),
    ("memory_mib", 1, "memory 1 MiB"),
    ("memory_mib", 1 << 40, "MiB is not in"),
    ("machine", "q35,accel=kvm", "is not a machine type name"),
    ("machine", "pc -hda /etc/passwd", "is not a machine type name"),
    ("name", "../evil", "may not start with '.'"),
    ("name", "a/b", "may not contain '/'"),
    ("uuid", "00000000-0000-0000-0000-000000000000", "not its file's name"),
], ids=["vcpus-0", "vcpus-huge", "memory-tiny", "memory-huge",
        "machine-options", "machine-spaces", "name-dotdot", "name-slash",
        "uuid-mismatch"])
def test_out_of_range_definition_is_refused(qp, web, field, value, needle):
    path = edit_def(qp, web, lambda d: d.__setitem__(field, value))
    refused_cleanly(qp, ("vm", "start", web), [path, needle])
    if field == "uuid":  # it would pass for another VM: the listing fails
        refused_cleanly(qp, ("vm", "list"), [path, needle])
        os.unlink(path)


def test_unknown_machine_type_is_refused_at_start(qp, web):
    edit_def(qp, web, lambda d: d.__setitem__("machine", "nosuchmachine"))
    refused_cleanly(qp, ("vm", "start", web),
                    ["nosuchmachine", "machine types"])
    qp.refused("vm", "create", "other", "--disk", "1M", "--machine",
               "nosuchmachine", needles=["nosuchmachine"])
    assert [v["name"] for v in qp.vms()] == ["web"]


@pytest.mark.parametrize("nic,needle", [
    ({"model": "e1000,romfile=/etc/passwd"}, "model"),
    ({"mac": "52:54:00:12:34"}, "MAC"),
    ({"mac": "52:54:00:12:34:5g"}, "is not a MAC address"),
], ids=["model-options", "mac-short", "mac-hex"])
def test_bad_nic_is_refused(qp, web, nic, needle):
    path = edit_def(qp, web, lambda d: d["nics"][0].update(nic))
    refused_cleanly(qp, ("vm", "start", web), [path, needle])


def test_disk_format_must_match_its_volume(qp, web):
    path = edit_def(qp, web, set_disk("format", "raw"))
    refused_cleanly(qp, ("vm", "start", web), [path, "format raw"])


def outside_backing(qp, tmp_path, fmt_flag=True):
    """A volume of the platform whose backing file lies outside volumes/."""
    secret = tmp_path / "secret.raw"
    secret.write_bytes(b"S" * 65536)
    vol = os.path.join(qp.real, "volumes", "evil.qcow2")
    os.makedirs(os.path.dirname(vol), exist_ok=True)
    argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(secret)]
    if fmt_flag:
        argv += ["-F", "raw"]
    tool(*argv, vol, "1M")
    return vol


def test_volume_backed_by_a_file_outside_is_refused(qp, web, tmp_path):
    outside_backing(qp, tmp_path)
    qp.refused("vm", "create", "evil", "--disk", "evil.qcow2",
               needles=["evil.qcow2", "secret.raw", "not a volume"])
    assert [v["name"] for v in qp.vms()] == ["web"]
    # pointing an existing definition at it: the start refuses
    edit_def(qp, web, set_disk("volume_id", "evil.qcow2"))
    refused_cleanly(qp, ("vm", "start", web), ["secret.raw", "not a volume"])


def test_backing_format_that_qemu_would_guess_is_refused(qp, web):
    vols = os.path.join(qp.real, "volumes")
    base = os.path.join(vols, "base.raw")
    with open(base, "wb") as f:
        f.truncate(1 << 20)
    top = os.path.join(vols, "top.qcow2")
    tool("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
         top, "1M")
    # hide the backing format header extension (qemu-img will not write a
    # backing file without a format): qemu would then probe the raw base
    with open(top, "r+b") as f:
        head = f.read(4096)
        at = head.find(bytes.fromhex("e2792aca"))
        assert at > 0, "no backing format extension in the header"
        f.seek(at)
        f.write(bytes.fromhex("12345678"))  # an extension qemu ignores
    assert "backing-filename-format" not in json.loads(tool(
        "qemu-img", "info", "--output=json", "-f", "qcow2", top).stdout)
    edit_def(qp, web, set_disk("volume_id", "top.qcow2"))
    refused_cleanly(qp, ("vm", "start", web),
                    ["top.qcow2", "header says nothing"])


def record_path(qp, uuid, name):
    return os.path.join(qp.dir, "snapshots", uuid,
                        f"snapshotdata-{name}.json")


def edit_record(qp, uuid, name, change):
    return edit_json(record_path(qp, uuid, name), change)


@pytest.mark.parametrize("change,needle", [
    (lambda r: r.__setitem__("name", "other"), "not the one of its file"),
    (lambda r: r.__setitem__("vm_uuid", "x" * 8), "belongs to VM"),
    (lambda r: r.__setitem__("memory", "/etc/passwd"), "RAM file"),
    (lambda r: r["disks"][0].__setitem__("file", "/etc/passwd"),
     "is not a volume in"),
    (lambda r: r.__setitem__("parent", "x/y"), "may not contain '/'"),
], ids=["name", "vm", "memory-path", "disk-file", "parent"])
def test_record_must_mean_what_its_file_says(qp, web, change, needle):
    qp.ok("snapshot", "create", web, "s1", "--external")
    path = edit_record(qp, web, "s1", change)
    for args in (("snapshot", "list", web), ("snapshot", "revert", web, "s1"),
                 ("snapshot", "delete", web, "s1")):
        refused_cleanly(qp, args, [path, needle])


def test_current_naming_no_snapshot_is_refused(qp, web):
    qp.ok("snapshot", "create", web, "s1")
    with open(os.path.join(qp.real, "snapshots", web, "current"), "w") as f:
        f.write("x/../../y")
    refused_cleanly(qp, ("snapshot", "create", web, "s2"),
                    ["current", "may not contain '/'"])


@pytest.mark.parametrize("change,needle", [
    (lambda m: m.__setitem__("id", "other"), "not 'm'"),
    (lambda m: m["disks"][0].__setitem__("dst_volume", "../../etc/x.qcow2"),
     "destination volume"),
    (lambda m: m["rounds"][0].__setitem__("snapshot", "mine"),
     "names snapshot 'mine'"),
    (lambda m: m.__setitem__("vm_uuid", "a/b"), "may not contain '/'"),
    (lambda m: m.__setitem__("version", 99), "written by a newer ferry"),
], ids=["id", "dst-volume", "round-snapshot", "vm-uuid", "newer-format"])
def test_journal_must_mean_what_its_file_says(qp, tmp_path, change, needle):
    import subprocess
    from ferryhelpers import FERRY
    from qemuhelpers import Platform
    b = Platform(tmp_path / "b")
    try:
        qp.create_vm("web", extra=("--nic", "default"))
        jdir = str(tmp_path / "j")
        cp = subprocess.run([FERRY, "migrate", "start", "--from", qp.uri,
                             "--to", b.uri, "web", "--network-map",
                             "default=default", "--id", "m", "--journal-dir",
                             jdir], capture_output=True, timeout=120)
        assert cp.returncode == 0, cp
        edit_json(os.path.join(jdir, "m.json"), change)
        vols = sorted(os.listdir(os.path.join(b.real, "volumes")))
        for step in (["resume", "m"], ["abort", "m"], ["cutover", "m"]):
            cp = subprocess.run([FERRY, "migrate", *step, "--journal-dir",
                                 jdir], capture_output=True, timeout=120)
            err = cp.stderr.decode(errors="replace")
            assert cp.returncode in (1, 2), (step, cp.returncode, err)
            assert "m.json" in err and needle in err, (step, err)
        assert sorted(os.listdir(os.path.join(b.real, "volumes"))) == vols
    finally:
        b.close()


@pytest.mark.parametrize("older", ["unversioned", "format-1"])
def test_journal_of_an_older_ferry_is_resumed(qp, tmp_path, older):
    """A journal an older ferry wrote is read: one without a version, and
    one of format 1, whose network map was "SOURCE=DESTINATION" strings
    (format 2 writes objects). Status, a round and abort work on it."""
    import json
    import subprocess
    from ferryhelpers import FERRY
    from qemuhelpers import Platform
    b = Platform(tmp_path / "b")
    try:
        qp.create_vm("web", extra=("--nic", "default"))
        jdir = str(tmp_path / "j")

        def step(*args):
            cp = subprocess.run([FERRY, "migrate", *args, "--journal-dir",
                                 jdir, "--json"], capture_output=True,
                                timeout=120)
            assert cp.returncode == 0, (args, cp)
            return json.loads(cp.stdout)
        m = step("start", "--from", qp.uri, "--to", b.uri, "web",
                 "--network-map", "default=default", "--id", "m")
        assert m["version"] == 2
        want = [{"source": "default", "destination": "default"}]
        assert m["network_map"] == want

        def older_format(m):
            m["network_map"] = ["default=default"]
            if older == "unversioned":
                m.pop("version")
            else:
                m["version"] = 1
        edit_json(os.path.join(jdir, "m.json"), older_format)
        st = step("status", "m")
        assert st["phase"] == "warm" and st["network_map"] == want
        assert len(step("sync", "m")["rounds"]) == 2
        assert step("abort", "m")["phase"] == "aborted"
    finally:
        b.close()
