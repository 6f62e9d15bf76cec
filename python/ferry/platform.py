"""The platform API (platform.h): inventory, VMs, volumes and snapshots of a
platform client, as Python dicts.

Standard objects (types.h) cross the boundary as JSON through their
generated functions: a dict here is exactly the object's JSON (keys are the
member names, enums their names, arrays lists), so nothing mirrors the
nested C structs. Failures raise ferry.Error with libferry's message.

Two layers:
  * functions named after the C ones without the ferry_ prefix, taking a
    client first (ferry.vms(client), ferry.snapshot_list(client, "vm1"));
  * Platform, a context manager owning a platform client, with shorter
    names and keyword arguments (Platform("/state").create_vm("vm1", ...)).

And the driver registry (drivers.h): drivers(), driver_of(uri) and
client_driver(client) describe each driver as a dict (name, description,
uri_help, schemes, options, features, platform, takes_password), features
being a Feature (FEATURE_VMS | FEATURE_SNAPSHOTS | ...).
"""
import ctypes
import enum
import errno
import json
import os
import re
import urllib.parse
from ctypes import POINTER, byref, c_size_t, c_void_p

from . import _capi
from .client import Auth, Client, ClientType, _CAuth, _Handle
from .errors import Error, check, check_pointer, last_error

POWER_STATES = _capi.POWER_STATES
SNAPSHOT_MEMORY = _capi.SNAPSHOT_MEMORY
SNAPSHOT_EXTERNAL = _capi.SNAPSHOT_EXTERNAL
REVERT_FORCE = _capi.REVERT_FORCE
STOP_FORCE = _capi.STOP_FORCE

_T = _capi.OBJECT_TYPES

# enum ferry_feature (drivers.h): what a driver can do.
Feature = enum.IntFlag("Feature", _capi.FEATURES, module=__name__)
Feature.__doc__ = "enum ferry_feature: what a driver can do (a bitmask)."
FEATURE_VMS = Feature.VMS
FEATURE_SNAPSHOTS = Feature.SNAPSHOTS
FEATURE_RAM_SNAPSHOTS = Feature.RAM_SNAPSHOTS
FEATURE_CHANGED_BLOCKS = Feature.CHANGED_BLOCKS
FEATURE_READ_VOLUMES = Feature.READ_VOLUMES
FEATURE_WRITE_VOLUMES = Feature.WRITE_VOLUMES
FEATURE_CREATE_VMS = Feature.CREATE_VMS
FEATURE_TASKS = Feature.TASKS
FEATURE_BOOT_CHECK = Feature.BOOT_CHECK
FEATURE_INJECT_DRIVERS = Feature.INJECT_DRIVERS
FEATURE_LIST_VOLUMES = Feature.LIST_VOLUMES
FEATURE_LIFECYCLE = Feature.LIFECYCLE
FEATURE_CREATE_VOLUMES = Feature.CREATE_VOLUMES


# ---- the driver registry (drivers.h) ----

def _text(raw):
    return None if raw is None else raw.decode("utf-8", "replace")


def _null_ended(array, value):
    """The elements of a C array (a NULL pointer: none) up to the first
    whose value(element) is None."""
    i = 0
    while array and value(array[i]) is not None:
        yield array[i]
        i += 1


def _driver_info(ptr):
    """A struct ferry_driver_info * as a dict (None for NULL)."""
    if not ptr:
        return None
    d = ptr.contents
    schemes = [_text(s) for s in _null_ended(d.schemes, lambda s: s)]
    options = {_text(o.name): _text(o.help)
               for o in _null_ended(d.options, lambda o: o.name)}
    return {"name": _text(d.name), "description": _text(d.description),
            "uri_help": _text(d.uri_help), "schemes": schemes,
            "options": options, "features": Feature(d.features),
            "platform": bool(d.platform),
            "takes_password": bool(d.takes_password)}


def drivers():
    """ferry_drivers: every driver built into the library, in probing
    order, each a dict: name, description, uri_help (the URI's shape),
    schemes (the URI schemes it claims; "" is a bare path), options ({URI
    query key: help}), features (a Feature), platform (False: a data path,
    no VMs) and takes_password."""
    arr = POINTER(_capi.DRIVER_P)()
    n = _capi.ferry_drivers(byref(arr))
    return [_driver_info(arr[i]) for i in range(n)]


def driver_of(uri):
    """ferry_driver_of: the driver that takes uri, as drivers() describes
    it; ferry.Error (ENOTSUP) when none does."""
    return _driver_info(check_pointer(_capi.ferry_driver_of(
        _capi.to_c_string(os.fsdecode(uri)))))


def client_driver(client):
    """ferry_client_driver: the driver behind a ferry.Client or Platform,
    None for a client the library did not make (a CallbackClient)."""
    return _driver_info(_capi.ferry_client_driver(_client_ptr(client)))


_OPTION_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def with_options(uri, options):
    """uri with options ({key: value}) added as URI query keys, the values
    percent-encoded: with_options("qemu:///s", {"accel": "kvm"}) is
    "qemu:///s?accel=kvm". A None value is left out. Which keys a driver
    takes is its "options" (drivers()); it refuses any other."""
    uri = os.fsdecode(uri)
    query = []
    for key, value in (options or {}).items():
        if not isinstance(key, str) or not _OPTION_KEY.fullmatch(key):
            raise ValueError(f"option name {key!r}: letters, digits, "
                             "'_', '.' and '-' only")
        if value is not None:
            value = os.fsdecode(value) if isinstance(value, (bytes,
                                                             os.PathLike)) \
                else str(value)
            query.append(f"{key}={urllib.parse.quote(value, safe='')}")
    if not query:
        return uri
    sep = "" if uri.endswith(("?", "&")) else "&" if "?" in uri else "?"
    return uri + sep + "&".join(query)


# ---- standard objects across the boundary ----

def _json_of(otype, ptr, n):
    """n objects of otype at ptr as Python values (a list)."""
    raw = otype.list_to_json(ptr, n)
    if not raw:
        raise last_error()
    try:
        text = ctypes.string_at(raw)
    finally:
        _capi.free(raw)
    return json.loads(text)


class _CArray:
    """A heap array of n standard objects of one type, made by
    ferry_T_list_from_json and freed by ferry_T_list_free (a context
    manager). Its `ptr` is the struct ferry_T * to hand to C, as an input
    (made from Python values) or as an output to fill (made from [{}]: one
    initialized object, which owns nothing)."""

    def __init__(self, otype, values):
        self.otype = otype
        self.ptr = c_void_p()
        self.n = c_size_t()
        values = list(values)
        try:
            text = json.dumps(values).encode()
        except (TypeError, ValueError) as e:
            raise TypeError(f"{otype.name}: not JSON-serializable: {e}") \
                from e
        rc = otype.list_from_json(byref(self.ptr), byref(self.n), text)
        if rc < 0:
            err = last_error(rc)
            if len(values) == 1 and err.strerror.startswith("[0]."):
                # One object given: name the member, not the array index.
                err = Error(err.errno, err.strerror[4:])
            raise err

    def values(self):
        return _json_of(self.otype, self.ptr, self.n.value)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        ptr, self.ptr = self.ptr, c_void_p()
        self.otype.list_free(ptr, self.n.value)


def _get_one(otype, fn, *args):
    """fn(*args, struct ferry_T *out) -> out as a dict."""
    with _CArray(otype, [{}]) as out:
        check(fn(*args, out.ptr))
        return out.values()[0]


def _get_list(otype, fn, *args):
    """fn(*args, struct ferry_T **out, size_t *n) -> a list of dicts."""
    ptr, n = c_void_p(), c_size_t()
    check(fn(*args, byref(ptr), byref(n)))
    try:
        return _json_of(otype, ptr, n.value)
    finally:
        otype.list_free(ptr, n.value)


# ---- arguments ----

def _client_ptr(client):
    """The client_t * of a ferry.Client or a Platform."""
    if isinstance(client, Platform):
        client = client.client
    if not isinstance(client, _Handle):
        raise TypeError("expected a ferry.Client or a ferry.Platform, not "
                        f"{type(client).__name__}")
    return client.pointer()


def _vm_ref(vm):
    """A VM as C names it: its id, uuid or name; a VM dict gives its id."""
    if isinstance(vm, dict):
        vm = vm.get("id") or vm.get("uuid") or vm.get("name")
    if vm is None:
        raise ValueError("no VM given")
    return _capi.to_c_string(vm)


def _power_state(state):
    """A state name ("running", any case) or its enum value, as the
    enum's value; None is -1 (any state)."""
    if state is None:
        return -1
    if isinstance(state, str):
        try:
            return POWER_STATES.index(state.lower())
        except ValueError:
            raise ValueError(f"unknown power state {state!r}: one of "
                             f"{', '.join(POWER_STATES)}") from None
    value = int(state)
    if not 0 <= value < len(POWER_STATES):
        raise ValueError(f"power state {value} is not from 0 to "
                         f"{len(POWER_STATES) - 1}")
    return value


_SIZE = re.compile(r"(\d+)\s*(?:([kmgtp])(?:i?b)?|b)?", re.IGNORECASE)
_UNITS = {None: 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50}


def parse_size(size):
    """Bytes from an int or a string like "16M", "1GiB", "512" (binary
    units, as qemu-img reads them). None when a string is not a size."""
    if isinstance(size, bool):
        raise TypeError("a size is an int or a string like '16M'")
    if isinstance(size, int):
        return _capi.unsigned("size", size)
    m = _SIZE.fullmatch(size.strip())
    if not m:
        return None
    unit = m.group(2).lower() if m.group(2) else None
    return _capi.unsigned("size", int(m.group(1)) << _UNITS[unit])


def _size(size):
    value = parse_size(size)
    if value is None:
        raise ValueError(f"{size!r} is not a size like 16777216 or '16M'")
    return value


def _disk_spec(disk, fmt):
    """create_vm's disk argument as a standard disk: a size (int, or a
    string like "16M") makes a new volume, another string names an
    existing volume, a dict is a disk object as it is."""
    if isinstance(disk, dict):
        return disk
    if isinstance(disk, str):
        size = parse_size(disk)
        if size is None:
            return {"volume_id": disk}
        disk = size
    spec = {"capacity": _size(disk)}
    if fmt is not None:
        spec["format"] = fmt
    return spec


def _nic_spec(nic):
    """A network name (None: the platform's default) or a nic dict."""
    if isinstance(nic, dict):
        return nic
    return {} if nic is None else {"network": nic}


def _c_int(name, value):
    value = int(value)
    if not -2**31 <= value < 2**31:
        raise ValueError(f"{name} {value} does not fit in a C int")
    return value


# ---- the C API, function by function ----

def vms(client):
    """ferry_vms: every VM of the platform with its power state."""
    return _get_list(_T["vm"], _capi.ferry_vms, _client_ptr(client))


def get_vm(client, vm):
    """ferry_get_vm: a VM by id, uuid or name."""
    return _get_one(_T["vm"], _capi.ferry_get_vm, _client_ptr(client),
                    _vm_ref(vm))


def get_vms(client, name_glob=None, power_state=None, host_id=None,
            cluster_id=None):
    """ferry_get_vms: the VMs matching every condition given. name_glob is
    an fnmatch pattern, power_state a name ("running") or enum value."""
    cond = _capi.VmFilterT(_capi.to_c_string(name_glob),
                           _power_state(power_state),
                           _capi.to_c_string(host_id),
                           _capi.to_c_string(cluster_id))
    return _get_list(_T["vm"], _capi.ferry_get_vms, _client_ptr(client),
                     byref(cond))


def datacenters(client):
    return _get_list(_T["datacenter"], _capi.ferry_datacenters,
                     _client_ptr(client))


def get_datacenter(client, datacenter_id):
    return _get_one(_T["datacenter"], _capi.ferry_get_datacenter,
                    _client_ptr(client), _capi.to_c_string(datacenter_id))


def clusters(client):
    return _get_list(_T["cluster"], _capi.ferry_clusters,
                     _client_ptr(client))


def get_cluster(client, cluster_id):
    return _get_one(_T["cluster"], _capi.ferry_get_cluster,
                    _client_ptr(client), _capi.to_c_string(cluster_id))


def hosts(client):
    return _get_list(_T["host"], _capi.ferry_hosts, _client_ptr(client))


def get_host(client, host_id):
    return _get_one(_T["host"], _capi.ferry_get_host, _client_ptr(client),
                    _capi.to_c_string(host_id))


def vlans(client):
    return _get_list(_T["vlan"], _capi.ferry_vlans, _client_ptr(client))


def query_cluster_vm_summary(client, cluster_id=None):
    """Counts of the cluster's VMs (every VM when cluster_id is None)."""
    return _get_one(_T["vm_summary"], _capi.ferry_query_cluster_vm_summary,
                    _client_ptr(client), _capi.to_c_string(cluster_id))


def snapshot_create(client, vm, name, description=None, flags=0):
    """ferry_snapshot_create with a struct ferry_snapshot_spec; flags are
    SNAPSHOT_MEMORY and SNAPSHOT_EXTERNAL. Returns the record."""
    spec = _capi.SnapshotSpecT(_capi.to_c_string(name),
                               _capi.to_c_string(description),
                               _capi.unsigned("flags", flags, 32))
    return _get_one(_T["domain_snapshot"], _capi.ferry_snapshot_create,
                    _client_ptr(client), _vm_ref(vm), byref(spec))


def snapshot_delete(client, vm, name):
    check(_capi.ferry_snapshot_delete(_client_ptr(client), _vm_ref(vm),
                                      _capi.to_c_string(name)))


def snapshot_list(client, vm):
    """The VM's snapshot records in creation order."""
    return _get_list(_T["domain_snapshot"], _capi.ferry_snapshot_list,
                     _client_ptr(client), _vm_ref(vm))


def snapshot_get(client, vm, name):
    return _get_one(_T["domain_snapshot"], _capi.ferry_snapshot_get,
                    _client_ptr(client), _vm_ref(vm),
                    _capi.to_c_string(name))


def snapshot_current(client, vm):
    """The current snapshot's name, or None."""
    name = c_void_p()
    check(_capi.ferry_snapshot_current(_client_ptr(client), _vm_ref(vm),
                                       byref(name)))
    if not name.value:
        return None
    try:
        return ctypes.string_at(name.value).decode("utf-8", "surrogateescape")
    finally:
        _capi.free(name.value)


def snapshot_revert(client, vm, name, flags=0):
    """flags: REVERT_FORCE stops a running VM first."""
    check(_capi.ferry_snapshot_revert(_client_ptr(client), _vm_ref(vm),
                                      _capi.to_c_string(name),
                                      _capi.unsigned("flags", flags, 32)))


def wait_task(client, task, timeout_ms=-1):
    check(_capi.ferry_wait_task(_client_ptr(client), _capi.to_c_string(task),
                                _c_int("timeout_ms", timeout_ms)))


def query_snapshot_changes(client, vm, disk, from_snapshot, to_snapshot):
    """The changed areas of a disk between two snapshots (from None or "*":
    every allocated area)."""
    return _get_one(_T["changed_areas"], _capi.ferry_query_snapshot_changes,
                    _client_ptr(client), _vm_ref(vm),
                    _capi.to_c_string(disk),
                    _capi.to_c_string(from_snapshot),
                    _capi.to_c_string(to_snapshot))


def create_volume(client, disk):
    """ferry_create_volume from a standard disk dict (volume_id, capacity,
    format); returns the volume_info."""
    with _CArray(_T["disk"], [disk]) as spec:
        return _get_one(_T["volume_info"], _capi.ferry_create_volume,
                        _client_ptr(client), spec.ptr)


def delete_volume(client, volume_id):
    check(_capi.ferry_delete_volume(_client_ptr(client),
                                    _capi.to_c_string(volume_id)))


def volumes(client):
    return _get_list(_T["volume_info"], _capi.ferry_volumes,
                     _client_ptr(client))


def create_vm(client, spec):
    """ferry_create_vm from a standard vm dict; returns the VM with its
    ids and the defaults the platform filled in."""
    with _CArray(_T["vm"], [spec]) as vm:
        return _get_one(_T["vm"], _capi.ferry_create_vm, _client_ptr(client),
                        vm.ptr)


def delete_vm(client, vm):
    check(_capi.ferry_delete_vm(_client_ptr(client), _vm_ref(vm)))


def start_vm(client, vm):
    check(_capi.ferry_start_vm(_client_ptr(client), _vm_ref(vm)))


def stop_vm(client, vm, timeout_s=60, flags=0):
    """Graceful shutdown for up to timeout_s, then power off; flags
    STOP_FORCE powers off at once."""
    check(_capi.ferry_stop_vm(_client_ptr(client), _vm_ref(vm),
                              _c_int("timeout_s", timeout_s),
                              _capi.unsigned("flags", flags, 32)))


def check_boot_disk(client, disks):
    """The disk the VM boots from among disks (dicts); raises when it
    carries no boot signature."""
    disks = list(disks)
    with _CArray(_T["disk"], disks) as arr:
        return _get_one(_T["disk"], _capi.ferry_check_boot_disk,
                        _client_ptr(client), arr.ptr, arr.n.value)


def check_vm_boot(client, vm):
    """The disk VM vm (its id, uuid or name) boots from, for its firmware;
    raises ENOEXEC saying what each disk holds and what to change."""
    return _get_one(_T["disk"], _capi.ferry_check_vm_boot,
                    _client_ptr(client), _capi.to_c_string(vm))


def inject_driver(client, disk):
    with _CArray(_T["disk"], [disk]) as arr:
        check(_capi.ferry_inject_driver(_client_ptr(client), arr.ptr))


def convert_vm(client, vm, bus=None, remove_vmware_tools=False):
    """Converts the stopped VM vm's guest to boot on virtio, in place (as
    virt-v2v-in-place): all of it or nothing. bus="virtio" moves the VM's
    disks and NICs to virtio too. Returns the changes, a line each."""
    opts = _capi.ConvertOptsT(_capi.to_c_string(bus) if bus else None,
                              remove_vmware_tools)
    report = ctypes.c_void_p()
    check(_capi.ferry_convert_vm(_client_ptr(client), _capi.to_c_string(vm),
                                 ctypes.byref(opts), ctypes.byref(report)))
    try:
        text = ctypes.string_at(report.value).decode() if report.value \
            else ""
    finally:
        _capi.free(report)
    return text.splitlines()


def open_cbt(client, vm):
    check(_capi.ferry_open_cbt(_client_ptr(client), _vm_ref(vm)))


def plan_volumes(client, vm_name, disks, format="qcow2"):
    """ferry_plan_volumes: the volume ids disks (dicts: device, capacity)
    of a VM named vm_name would get on this platform in format ("qcow2" or
    "raw"; None: qcow2), without making any; EEXIST when one is taken,
    ENOSPC when they would not fit."""
    # pylint: disable=redefined-builtin
    if not vm_name:
        raise ValueError("no VM name given")
    format = "qcow2" if format is None else format
    disks = list(disks)
    with _CArray(_T["disk"], disks) as arr:
        ids = (c_void_p * max(1, len(disks)))()
        try:
            check(_capi.ferry_plan_volumes(
                _client_ptr(client), _capi.to_c_string(vm_name), arr.ptr,
                arr.n.value, _capi.to_c_string(format), ids))
            return [ctypes.string_at(ids[i]).decode("utf-8",
                                                    "surrogateescape")
                    for i in range(len(disks))]
        finally:
            for ptr in ids:
                _capi.free(ptr)


def _thumbprint(fn, host):
    buf = ctypes.create_string_buffer(80)
    check(fn(_capi.to_c_string(host), buf, len(buf)))
    return buf.value.decode()


def get_thumbprint_vcenter(host):
    """The seed's GetthumbPrint_vcenter: the SHA-1 thumbprint of the
    certificate a vCenter at host[:port] presents ("AA:BB:..."). Trusting
    it is trust on first use: compare it with the server's console."""
    return _thumbprint(_capi.ferry_get_thumbprint_vcenter, host)


def get_thumbprint_esxi(host):
    """The seed's GetthumbPrint_esxi: as get_thumbprint_vcenter, for an
    ESXi host (an error when host is a vCenter)."""
    return _thumbprint(_capi.ferry_get_thumbprint_esxi, host)


def snapshot_tree_of(records):
    """Snapshot records as a tree: {name: {child: {...}}}, roots first, in
    the records' order. A record whose parent is missing (or whose parents
    loop) is a root."""
    names = {r["name"] for r in records}
    nodes = {r["name"]: {} for r in records}
    parent = {r["name"]: r.get("parent") or "" for r in records}

    def rooted(name):
        seen = {name}
        while parent.get(name, "") in names:
            name = parent[name]
            if name in seen:
                return False
            seen.add(name)
        return True

    roots = {}
    for r in records:
        p = parent[r["name"]]
        if p in names and rooted(r["name"]):
            nodes[p][r["name"]] = nodes[r["name"]]
        else:
            roots[r["name"]] = nodes[r["name"]]
    return roots


# ---- the class ----

class Platform:
    """A platform client, opened by URI through the driver registry
    (ferry_platform_open_auth): Platform("/abs/state") or
    Platform("qemu:///abs/state") opens the qemu platform there,
    Platform("vmware://user@vc?thumbprint=..", password_file="/run/pw")
    a vCenter. drivers() lists the URIs each driver takes.

    Credentials are arguments, never the environment: password,
    password_file (its first line), or ask (a callable prompt -> password,
    called only if the driver needs one), and username (None: the URI's
    USER@); or auth, a ferry.Auth of them. A driver that needs no password
    ignores them. The password goes to the C library, which keeps its own
    copy; this object keeps none.

    options ({key: value}) are added to the URI as query keys (with_options);
    a key the driver does not declare is refused (EINVAL). type (a
    ClientType), if given, is the driver the URI must name.

    A ferry.Client given instead of a URI is used, not owned: close()
    leaves it open. A VM is named by its id, uuid or name (or given as its
    dict)."""

    def __init__(self, target, type=None, *, username=None, password=None,
                 password_file=None, ask=None, auth=None, options=None):
        # pylint: disable=redefined-builtin,too-many-arguments
        credentials = Auth.of(username, password, password_file, ask)
        if isinstance(target, _Handle):
            if credentials or auth or options or type is not None:
                raise TypeError("a client given is open already: type, "
                                "credentials and options are for a URI")
            self.client, self._owned = target, False
        else:
            if auth is not None and credentials is not None:
                raise TypeError("give auth or the credentials it holds, not "
                                "both")
            uri = with_options(target, options)
            if type is not None:
                _check_type(uri, type)
            with _CAuth(auth if auth is not None else credentials) as ca:
                ptr = _capi.ferry_platform_open_auth(_capi.to_c_string(uri),
                                                     ca.pointer(), 0)
                check_pointer(ptr, ca.take_exception())
            self.client = Client._adopt(  # pylint: disable=protected-access
                ptr, uri, ca.asker)
            self._owned = True
        self.target = target

    # -- the driver --
    @property
    def driver(self):
        """The driver behind this platform, as drivers() describes it."""
        return client_driver(self)

    @property
    def features(self):
        """What the platform can do: a Feature (FEATURE_* bits)."""
        info = self.driver
        return info["features"] if info else Feature(0)

    def has(self, feature):
        """Whether the platform can do feature: a Feature (every bit of a
        combination) or its name ("snapshots", any case)."""
        if isinstance(feature, str):
            try:
                feature = Feature[feature.upper()]
            except KeyError:
                names = ", ".join(f.name.lower() for f in Feature)
                raise ValueError(f"unknown feature {feature!r}: one of "
                                 f"{names}") from None
        feature = Feature(feature)
        return self.features & feature == feature

    # -- life --
    @property
    def closed(self):
        return self.client.closed

    def close(self):
        if self._owned:
            self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = " closed" if self.closed else ""
        return f"<ferry.Platform {str(self.target)!r}{state}>"

    # -- inventory --
    def vms(self, name=None, state=None, host=None, cluster=None):
        """Every VM, or those matching all the conditions given: name is an
        fnmatch pattern, state a power state name ("running")."""
        if name is None and state is None and host is None and \
                cluster is None:
            return vms(self)
        return get_vms(self, name, state, host, cluster)

    def vm(self, vm):
        return get_vm(self, vm)

    def datacenters(self):
        return datacenters(self)

    def datacenter(self, datacenter_id):
        return get_datacenter(self, datacenter_id)

    def clusters(self):
        return clusters(self)

    def cluster(self, cluster_id):
        return get_cluster(self, cluster_id)

    def hosts(self):
        return hosts(self)

    def host(self, host_id):
        return get_host(self, host_id)

    def vlans(self):
        return vlans(self)

    def summary(self, cluster=None):
        """total, running, stopped, paused, vcpus, memory_mib."""
        return query_cluster_vm_summary(self, cluster)

    # -- VMs --
    def create_vm(self, name, vcpus=1, memory_mib=256, disks=(), nics=(),
                  firmware="bios", machine="q35", disk_format=None,
                  **fields):
        """Defines a VM. disks: sizes (int bytes or "16M") of new volumes
        (of disk_format, the platform's default when None), names of
        existing volumes, or disk dicts; nics: network names (None: the
        default network) or nic dicts; fields: other vm members."""
        # pylint: disable=too-many-arguments
        spec = dict(fields, name=name, vcpus=vcpus, memory_mib=memory_mib,
                    firmware=firmware, machine=machine,
                    disks=[_disk_spec(d, disk_format) for d in disks],
                    nics=[_nic_spec(n) for n in nics])
        return create_vm(self, spec)

    def delete_vm(self, vm):
        """Deletes the definition and snapshot records; volumes stay."""
        delete_vm(self, vm)

    def start_vm(self, vm):
        start_vm(self, vm)

    def stop_vm(self, vm, timeout=60, force=False):
        stop_vm(self, vm, timeout, STOP_FORCE if force else 0)

    def check_boot_disk(self, disks):
        """The boot disk among disks (a list of disk dicts, or a VM dict)."""
        if isinstance(disks, dict):
            disks = disks.get("disks") or []
        return check_boot_disk(self, disks)

    def check_vm_boot(self, vm):
        return check_vm_boot(self, vm)

    def convert_vm(self, vm, bus=None, remove_vmware_tools=False):
        return convert_vm(self, vm, bus, remove_vmware_tools)

    # -- volumes --
    def volumes(self):
        return volumes(self)

    def create_volume(self, name, size, format="qcow2"):
        # pylint: disable=redefined-builtin
        return create_volume(self, {"volume_id": name,
                                    "capacity": _size(size),
                                    "format": format})

    def delete_volume(self, name):
        delete_volume(self, name)

    # -- snapshots --
    def snapshot_create(self, vm, name, description=None, memory=False,
                        external=False):
        flags = (SNAPSHOT_MEMORY if memory else 0) | \
            (SNAPSHOT_EXTERNAL if external else 0)
        return snapshot_create(self, vm, name, description, flags)

    def snapshots(self, vm):
        return snapshot_list(self, vm)

    def snapshot(self, vm, name):
        return snapshot_get(self, vm, name)

    def current_snapshot(self, vm):
        return snapshot_current(self, vm)

    def snapshot_delete(self, vm, name):
        snapshot_delete(self, vm, name)

    def snapshot_revert(self, vm, name, force=False):
        snapshot_revert(self, vm, name, REVERT_FORCE if force else 0)

    def snapshot_changes(self, vm, disk, from_snapshot, to_snapshot):
        """The areas of disk that changed between two external snapshots,
        as a changed_areas dict (from None or "*": every allocated area)."""
        return query_snapshot_changes(self, vm, disk, from_snapshot,
                                      to_snapshot)

    def snapshot_tree(self, vm):
        """{name: {child: {...}}} built from the records' parents."""
        return snapshot_tree_of(snapshot_list(self, vm))

    def open_cbt(self, vm):
        """Starts changed-block tracking on the VM (the seed's open_cbt)."""
        open_cbt(self, vm)

    def plan_volumes(self, vm_name, disks, format="qcow2"):
        """The volume ids disks (dicts, or a VM dict) would get here for a
        VM named vm_name (see plan_volumes)."""
        # pylint: disable=redefined-builtin
        if isinstance(disks, dict):
            disks = disks.get("disks") or []
        return plan_volumes(self, vm_name, disks, format)


def _check_type(uri, type):
    """Platform's type: the driver the URI must name."""
    # pylint: disable=redefined-builtin
    try:
        want = ClientType(type).name.lower()
    except ValueError:
        raise ValueError(f"unknown client type {type!r}") from None
    info = driver_of(uri)
    if info["name"] != want:
        raise Error(errno.EINVAL, f"a {want} platform was asked for, but the "
                    f"URI is the {info['name']} driver's ({info['uri_help']})")
