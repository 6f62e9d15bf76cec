"""The driver registry (drivers.h) from Python: ferry.drivers(),
driver_of(), a Platform's driver and features, URI options, credentials as
arguments, open_endpoint, plan_volumes, and the struct_size every options
struct starts with."""
import ctypes
import errno
import pathlib
import random
import shutil
import tempfile

import pytest

import ferry
from ferry import _capi
from ferry import platform as fplatform
from pyferry_util import MemDisk, MiB, random_file

F = ferry.Feature


@pytest.fixture
def state():
    """A short qemu state directory (its unix socket paths)."""
    top = tempfile.mkdtemp(prefix="ferry-pd-", dir="/tmp")
    try:
        yield pathlib.Path(top) / "state"
    finally:
        shutil.rmtree(top, ignore_errors=True)


def raises(errno_, fn, *args, **kwargs):
    with pytest.raises(ferry.Error) as e:
        fn(*args, **kwargs)
    assert e.value.errno == errno_, e.value
    return e.value


# ---- the registry ----

def test_drivers_lists_each_with_its_schemes_and_features():
    ds = {d["name"]: d for d in ferry.drivers()}
    assert [d["name"] for d in ferry.drivers()][:6] == \
        ["qemu", "libvirt", "vmware", "elf", "file", "nbd"]  # probing order
    assert ds["qemu"]["schemes"] == ["local", "qemu", ""]  # "": a bare path
    assert ds["vmware"]["schemes"] == ["vmware"]
    assert ds["libvirt"]["schemes"][:2] == ["qemu", "qemu+unix"]
    assert ds["file"]["schemes"] == ["file", ""]
    assert ds["nbd"]["schemes"] == ["nbd", "nbd+unix", "nbds", "nbds+unix"]
    for d in ds.values():
        assert isinstance(d["features"], ferry.Feature)
        assert d["description"] and d["uri_help"]
        # every bit the library sets is one Python knows
        assert int(d["features"]) & ~sum(int(f) for f in F) == 0

    qemu, vmw = ds["qemu"], ds["vmware"]
    assert (qemu["platform"], qemu["takes_password"]) == (True, False)
    assert (vmw["platform"], vmw["takes_password"]) == (True, True)
    want = (F.VMS | F.SNAPSHOTS | F.RAM_SNAPSHOTS | F.CHANGED_BLOCKS |
            F.READ_VOLUMES | F.WRITE_VOLUMES | F.CREATE_VMS | F.BOOT_CHECK |
            F.LIST_VOLUMES | F.LIFECYCLE | F.CREATE_VOLUMES |
            F.INJECT_DRIVERS)
    assert qemu["features"] == want
    assert not qemu["features"] & F.TASKS
    assert vmw["features"] & (F.VMS | F.SNAPSHOTS | F.CHANGED_BLOCKS |
                              F.READ_VOLUMES | F.TASKS) == \
        F.VMS | F.SNAPSHOTS | F.CHANGED_BLOCKS | F.READ_VOLUMES | F.TASKS
    for name in ("file", "nbd"):
        assert ds[name]["features"] == F.READ_VOLUMES | F.WRITE_VOLUMES
        assert (ds[name]["platform"], ds[name]["takes_password"]) == \
            (False, False)
        assert ds[name]["options"] == {}
    assert list(qemu["options"]) == ["accel", "virtio_win"]
    assert {"thumbprint", "transport", "vddk_libdir"} <= set(vmw["options"])
    assert all(isinstance(h, str) and h for h in vmw["options"].values())
    # no password option: credentials are never options
    assert not any("pass" in k for d in ds.values() for k in d["options"])


def test_driver_of():
    assert ferry.driver_of("local:///x")["name"] == "qemu"
    assert ferry.driver_of("local:///x") == ferry.drivers()[0]
    assert ferry.driver_of("/abs/state")["name"] == "qemu"  # first taker
    assert ferry.driver_of(pathlib.Path("/abs"))["name"] == "qemu"
    assert ferry.driver_of("vmware://u@vc?thumbprint=AA")["name"] == "vmware"
    assert ferry.driver_of("file:///x")["name"] == "file"
    assert ferry.driver_of("nbd+unix:///e?socket=/s")["name"] == "nbd"
    e = raises(errno.ENOTSUP, ferry.driver_of, "http://example.com/x")
    assert "'http://example.com/x': no driver" in e.message


def test_feature_constants():
    assert ferry.FEATURE_VMS == 1 and ferry.FEATURE_LIFECYCLE == 1 << 11
    # one bit each, in C order (test_py_platform checks the names against
    # drivers.h)
    assert [int(f) for f in ferry.Feature] == \
        [1 << i for i in range(len(ferry.Feature))]
    assert ferry.FEATURE_SNAPSHOTS | ferry.FEATURE_TASKS == 0b10000010


# ---- a Platform's driver, options and credentials ----

def test_platform_with_password_on_qemu(state):
    """qemu needs no password: one given is no error, and ask is not
    called. The Platform keeps no copy of the password."""
    secret = "s3cret-%08x" % random.Random(31).getrandbits(32)
    asked = []
    with ferry.Platform(f"local://{state}", password=secret,
                        username="admin") as p:
        assert p.vms() == [] and not state.exists(), "a read made it"
        assert p.driver == ferry.driver_of("local:///x")
        assert p.driver["name"] == "qemu"
        assert p.client.type == ferry.CLIENT_QEMU
        assert p.features == p.driver["features"]
        assert p.has(ferry.FEATURE_SNAPSHOTS) and p.has("snapshots")
        assert p.has("Lifecycle") and p.has(F.VMS | F.CREATE_VMS)
        assert not p.has(ferry.FEATURE_TASKS)
        assert not p.has(F.VMS | F.TASKS)  # every bit of a combination
        with pytest.raises(ValueError, match="unknown feature 'warp'"):
            p.has("warp")
        for obj in (p, p.client):
            assert secret not in repr(obj)
            for value in vars(obj).values():
                assert secret not in repr(value)
    assert p.closed
    with ferry.Platform(state, ask=asked.append) as p:
        assert p.vms() == []
    with ferry.Platform(state, auth=ferry.Auth(password_file="/nonexistent",
                                               ask=asked.append)) as p:
        assert p.vms() == []  # a file nobody needs is not read
    assert asked == []
    assert secret not in repr(ferry.Auth(secret, username="u"))
    with pytest.raises(TypeError, match="not both"):
        ferry.Platform(state, auth=ferry.Auth("x"), password="y")
    with pytest.raises(TypeError, match="callable"):
        ferry.Auth(ask="not a function")
    with pytest.raises(ValueError, match="NUL"):
        ferry.Platform(state, password="a\0b")


def test_platform_given_a_client_takes_no_credentials(state):
    with ferry.Platform(state) as owner:
        with pytest.raises(TypeError, match="open already"):
            ferry.Platform(owner.client, password="x")
        with ferry.Platform(owner.client) as p:
            assert p.driver["name"] == "qemu"
        assert not owner.closed


def test_platform_type_must_match_the_uri(state):
    with ferry.Platform(f"local://{state}", type=ferry.CLIENT_QEMU) as p:
        assert p.vms() == []
    e = raises(errno.EINVAL, ferry.Platform, f"local://{state}",
               type=ferry.CLIENT_VMWARE)
    assert "vmware platform was asked for" in e.message
    assert "qemu driver's" in e.message


def test_unknown_uri_option_is_refused(state):
    e = raises(errno.EINVAL, ferry.Platform, f"local://{state}?nope=1")
    assert "no option 'nope'" in e.message and "accel" in e.message
    assert not state.exists()  # refused before the open made anything
    e = raises(errno.EINVAL, ferry.Platform, state, options={"nope": 1})
    assert "no option 'nope'" in e.message
    e = raises(errno.EINVAL, ferry.Platform, state,
               options={"accel": "warp"})
    assert "accel 'warp'" in e.message
    with ferry.Platform(state, options={"accel": "tcg"}) as p:
        assert p.vms() == []
    # the file driver has no options: a path's '?' is part of its name,
    # and a file URI takes no query
    raises(errno.ENOENT, ferry.Client.file, f"{state}?x=1")
    e = raises(errno.EINVAL, ferry.Client.file, f"file://{state}?x=1")
    assert "takes no query" in e.message


def test_with_options():
    w = fplatform.with_options
    assert w("local:///s", None) == "local:///s"
    assert w("local:///s", {"accel": "kvm"}) == "local:///s?accel=kvm"
    assert w("vmware://u@h?thumbprint=AA", {"transport": "https"}) == \
        "vmware://u@h?thumbprint=AA&transport=https"
    assert w("/s", {"a": "x y&z=/", "b": 2, "c": None}) == \
        "/s?a=x%20y%26z%3D%2F&b=2"
    assert w(pathlib.Path("/s"), {"d": pathlib.Path("/v d")}) == \
        "/s?d=%2Fv%20d"
    for bad in ("a&b", "a=b", "", "é", 3):
        with pytest.raises(ValueError, match="option name"):
            w("/s", {bad: "1"})


def test_an_options_value_is_decoded_by_the_library(state):
    """What with_options encodes, the library decodes: a value with '&'
    and '=' reaches the driver whole (and is refused as a whole)."""
    e = raises(errno.EINVAL, ferry.Platform, state,
               options={"accel": "tcg&nope=1"})
    assert "accel 'tcg&nope=1'" in e.message


# ---- endpoints and plan_volumes ----

def test_open_endpoint(tmp_path, monkeypatch):
    data = random_file(tmp_path / "disk.img", MiB, random.Random(32))
    client, vol = ferry.open_endpoint(str(tmp_path / "disk.img"),
                                      password="unused")
    with client:
        assert client.type == ferry.CLIENT_FILE
        assert ferry.client_driver(client)["name"] == "file"
        with ferry.Volume(client, vol) as v:
            assert v.size == MiB and v.pread(4096, 8192) == data[8192:12288]
    monkeypatch.chdir(tmp_path)
    client, vol = ferry.open_endpoint("disk.img")  # from the current dir
    with client, ferry.Volume(client, vol) as v:
        assert v.pread(512) == data[:512]
    client, vol = ferry.open_endpoint(
        f"nbd+unix:///exp?socket={tmp_path}/none.sock")
    with client:
        assert client.type == ferry.CLIENT_NBD
        assert not ferry.client_driver(client)["platform"]
    e = raises(errno.EINVAL, ferry.open_endpoint, "http://x/y")
    assert "unknown scheme" in e.message
    with ferry.CallbackClient(MemDisk()) as cb:
        assert ferry.client_driver(cb) is None  # not the library's


def test_plan_volumes(state):
    disks = [{"device": "vda", "capacity": MiB},
             {"device": "vdb", "capacity": 2 * MiB}]
    with ferry.Platform(state) as p:
        assert p.plan_volumes("web", disks) == ["web-vda.qcow2",
                                                "web-vdb.qcow2"]
        assert ferry.plan_volumes(p, "web", disks, "raw") == \
            ["web-vda.raw", "web-vdb.raw"]
        assert p.plan_volumes("web", {"disks": disks[:1]}) == \
            ["web-vda.qcow2"]
        assert p.plan_volumes("web", []) == []
        assert p.plan_volumes("web", disks[:1], None) == ["web-vda.qcow2"]
        with pytest.raises(ValueError, match="no VM name"):
            p.plan_volumes("", disks)
        e = raises(errno.EINVAL, p.plan_volumes, "web", disks, "vmdk")
        assert "'vmdk' is not qcow2 or raw" in e.message
        e = raises(errno.ENOSPC, p.plan_volumes, "web",
                   [{"device": "vda", "capacity": 1 << 62}])
        assert "MiB free" in e.message
        (state / "volumes").mkdir(parents=True, exist_ok=True)
        (state / "volumes" / "web-vdb.qcow2").write_bytes(b"")
        e = raises(errno.EEXIST, p.plan_volumes, "web", disks)
        assert "'web-vdb.qcow2' already" in e.message


# ---- struct_size ----

SIZED = (_capi.VmFilterT, _capi.SnapshotSpecT, _capi.MigrateSpecT,
         _capi.MigrateAuthT, _capi.CutoverOptsT, _capi.AuthT)


def test_every_python_built_struct_sets_struct_size():
    for struct in SIZED:
        assert struct().struct_size == ctypes.sizeof(struct), struct
        assert struct.struct_size.offset == 0
    # positional arguments fill the members after struct_size
    f = _capi.VmFilterT(b"a*", 1)
    assert (f.struct_size, f.name_glob, f.power_state) == \
        (ctypes.sizeof(f), b"a*", 1)


def test_struct_size_zero_is_refused(state, tmp_path):
    """The library refuses a struct whose struct_size is not set."""
    with ferry.Platform(state) as p:
        c = p.client.pointer()
        out, n = ctypes.c_void_p(), ctypes.c_size_t()
        f = _capi.VmFilterT(None, -1, None, None, struct_size=0)
        assert _capi.ferry_get_vms(c, ctypes.byref(f), ctypes.byref(out),
                                   ctypes.byref(n)) == -errno.EINVAL
        assert b"struct ferry_vm_filter: struct_size is 0" in \
            _capi.ferry_last_error()
        f.struct_size = ctypes.sizeof(f)
        assert _capi.ferry_get_vms(c, ctypes.byref(f), ctypes.byref(out),
                                   ctypes.byref(n)) == 0
        assert n.value == 0
        s = _capi.SnapshotSpecT(b"s", None, 0, struct_size=0)
        assert _capi.ferry_snapshot_create(c, b"vm", ctypes.byref(s),
                                           None) == -errno.EINVAL
        assert b"struct ferry_snapshot_spec: struct_size is 0" in \
            _capi.ferry_last_error()
    m = _capi.MigrateSpecT(str(state).encode(), str(tmp_path).encode(),
                           b"vm", None, 0, None, None, None, None,
                           struct_size=0)
    assert _capi.ferry_migrate_plan(ctypes.byref(m), None) == -errno.EINVAL
    assert b"struct ferry_migrate_spec: struct_size is 0" in \
        _capi.ferry_last_error()
    a = _capi.AuthT(struct_size=0)
    assert not _capi.ferry_platform_open_auth(str(state).encode(),
                                              ctypes.byref(a), 0)
    assert _capi.ferry_last_errno() == errno.EINVAL
    assert b"struct ferry_auth: set struct_size" in _capi.ferry_last_error()
