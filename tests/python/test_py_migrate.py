"""ferry.migrate drives a warm migration between two qemu platforms and
reads its status; the destination ends byte-identical to the source."""
import errno
import pathlib
import shutil
import tempfile

import pytest

import ferry

MiB = 1 << 20


@pytest.fixture
def sites():
    """Two platforms and a journal dir, in a short dir (socket paths)."""
    top = pathlib.Path(tempfile.mkdtemp(prefix="fm-", dir="/tmp"))
    a, b = ferry.Platform(str(top / "a")), ferry.Platform(str(top / "b"))
    try:
        yield a, b, str(top / "j"), top
    finally:
        for p in (a, b):
            for vm in p.vms():
                p.stop_vm(vm["name"], force=True)
            p.close()
        shutil.rmtree(top, ignore_errors=True)


def write(platform, vm, offset, data):
    vol = platform.vm(vm)["disks"][0]["volume_id"]
    with ferry.Volume(platform.client, vol, writable=True) as v:
        v.pwrite(data, offset)


def read_all(platform, vm):
    vol = platform.vm(vm)["disks"][0]["volume_id"]
    with ferry.Volume(platform.client, vol) as v:
        return v.pread(v.size)


def test_migrate_from_python(sites):
    a, b, jdir, top = sites
    a.create_vm("py", memory_mib=64, disks=["8M"], nics=["default"])
    write(a, "py", 0, b"\x11" * MiB)
    src, dst = f"local://{top}/a", f"local://{top}/b"
    plan = ferry.migrate.plan(src, dst, "py", ["default=default"])
    assert plan["phase"] == "planned" and plan["disks"][0]["device"] == "vda"
    m = ferry.migrate.start(src, dst, "py", {"default": "default"}, id="p1",
                            journal_dir=jdir)
    assert m["phase"] == "warm" and m["rounds"][0]["changed_bytes"] == MiB
    assert m["network_map"] == [{"source": "default",
                                 "destination": "default"}]
    write(a, "py", 4 * MiB, b"\x22" * 65536)
    m = ferry.migrate.sync("p1", jdir)
    assert m["rounds"][1]["changed_bytes"] == 65536
    m = ferry.migrate.sync("p1", jdir, until=1, max_rounds=2)
    assert m["rounds"][-1]["changed_bytes"] == 0
    write(a, "py", 6 * MiB, b"\x33" * 4096)
    m = ferry.migrate.cutover("p1", jdir, stop_timeout=1)
    assert (m["phase"], m["verified"]) == ("done", True)
    assert ferry.migrate.status("p1", jdir)["phase"] == "done"
    assert read_all(a, "py") == read_all(b, "py")
    assert a.snapshots("py") == []
    with pytest.raises(ferry.Error) as e:
        ferry.migrate.abort("p1", jdir)
    assert e.value.errno == errno.EINVAL and "done" in e.value.message
    with pytest.raises(ferry.Error) as e:
        ferry.migrate.status("nope", jdir)
    assert e.value.errno == errno.ENOENT


def test_credentials_for_platforms_that_need_none(sites):
    """qemu asks for no password: an Auth given to each step is carried
    and never asked; a step's arguments are checked before it runs."""
    a, _b, jdir, top = sites
    a.create_vm("pw", memory_mib=64, disks=["1M"])
    src, dst = f"local://{top}/a", f"local://{top}/b"

    def never(prompt):
        raise AssertionError(f"asked {prompt!r}")

    auth = {"source_auth": ferry.Auth(ask=never),
            "destination_auth": ferry.Auth("unused", username="u")}
    plan = ferry.migrate.plan(src, dst, "pw", **auth)
    assert plan["phase"] == "planned"
    m = ferry.migrate.start(src, dst, "pw", id="pw1", journal_dir=jdir,
                            **auth)
    assert m["phase"] == "warm"
    m = ferry.migrate.sync("pw1", jdir, **auth)
    assert len(m["rounds"]) == 2
    m = ferry.migrate.sync("pw1", jdir, until=1, max_rounds=1, **auth)
    assert len(m["rounds"]) == 3
    with pytest.raises(ValueError, match="until"):
        ferry.migrate.sync("pw1", jdir, until=-1)
    with pytest.raises(TypeError, match="ferry.Auth"):
        ferry.migrate.abort("pw1", jdir, source_auth="a password")
    assert ferry.migrate.abort("pw1", jdir, **auth)["phase"] == "aborted"
    with pytest.raises(ferry.Error) as e:
        ferry.migrate.resume("nope", jdir, **auth)
    assert e.value.errno == errno.ENOENT
