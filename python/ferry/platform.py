"""The platform API (platform.h): inventory, VMs, volumes and snapshots of a
platform client, as Python dicts.

Standard objects (types.h) cross the boundary as JSON through their
generated functions: a dict here is exactly the object's JSON (keys are the
member names, enums their names, arrays lists), so nothing mirrors the
nested C structs. Failures raise ferry.Error with libferry's message.

Three layers, each on the one before:
  * functions named after the C ones without the ferry_ prefix, taking a
    client first (ferry.vms(client), ferry.snapshot_list(client, "vm1"));
  * Platform, a context manager owning a platform client, with shorter
    names and keyword arguments (Platform("/state").create_vm("vm1", ...));
  * VM and Snapshot objects (Platform.lookup_vm("vm1").snapshots()), as
    libvirt-python's domains: the documented way in.

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
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping,
                    Optional, Sequence, Union)

from . import _capi
from .client import AskFn, Auth, Client, ClientType, _CAuth, _Handle
from .errors import Error, check, check_pointer, last_error

# Standard objects are dicts, each exactly its JSON (see above); these
# names say which object a dict is, for readers and type checkers alike.
VMRecord = Dict[str, Any]          # vm: id, uuid, name, power_state, disks..
DiskRecord = Dict[str, Any]        # disk: device, volume_id, capacity, ...
NicRecord = Dict[str, Any]         # nic: mac, network, model, ...
SnapshotRecord = Dict[str, Any]    # domain_snapshot: name, parent, ...
VolumeRecord = Dict[str, Any]      # volume_info: id, name, path, format, ..
DatacenterRecord = Dict[str, Any]
ClusterRecord = Dict[str, Any]
HostRecord = Dict[str, Any]
VlanRecord = Dict[str, Any]
VMSummary = Dict[str, Any]         # vm_summary: total, running, ...
ChangedAreas = Dict[str, Any]      # changed_areas: disk_id, areas, ...
DriverInfo = Dict[str, Any]        # drivers(): name, schemes, features, ...
# snapshot_tree(): {name: {child: {...}}}
SnapshotTree = Dict[str, "SnapshotTree"]

# Where a function takes a client: a ferry.Client or a Platform.
ClientOrPlatform = Union[_Handle, "Platform"]
# A VM as the functions take it: its id, uuid or name, its dict or a VM.
VMRef = Union[str, VMRecord, "VM"]
# A power state: its name ("running") or its enum value; None: any.
PowerState = Union[str, int, None]
# A size: bytes, or a string like "16M".
Size = Union[int, str]

POWER_STATES = _capi.POWER_STATES
SNAPSHOT_MEMORY = _capi.SNAPSHOT_MEMORY
SNAPSHOT_EXTERNAL = _capi.SNAPSHOT_EXTERNAL
REVERT_FORCE = _capi.REVERT_FORCE
STOP_FORCE = _capi.STOP_FORCE

_T = _capi.OBJECT_TYPES


class Feature(enum.IntFlag):
    """enum ferry_feature (drivers.h): what a driver can do (a bitmask)."""
    VMS = 1 << 0
    SNAPSHOTS = 1 << 1
    RAM_SNAPSHOTS = 1 << 2
    CHANGED_BLOCKS = 1 << 3
    READ_VOLUMES = 1 << 4
    WRITE_VOLUMES = 1 << 5
    CREATE_VMS = 1 << 6
    TASKS = 1 << 7
    BOOT_CHECK = 1 << 8
    INJECT_DRIVERS = 1 << 9
    LIST_VOLUMES = 1 << 10
    LIFECYCLE = 1 << 11
    CREATE_VOLUMES = 1 << 12
    CHECKPOINT_ROUNDS = 1 << 13


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
FEATURE_CHECKPOINT_ROUNDS = Feature.CHECKPOINT_ROUNDS


# ---- the driver registry (drivers.h) ----

def _text(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8", "replace")


def _null_ended(array: Any, value: Callable[[Any], Any]) -> Iterator[Any]:
    """The elements of a C array (a NULL pointer: none) up to the first
    whose value(element) is None."""
    i = 0
    while array and value(array[i]) is not None:
        yield array[i]
        i += 1


def _driver_info(ptr: Any) -> Optional[DriverInfo]:
    """A struct ferry_driver_info * as a dict (None for NULL)."""
    if not ptr:
        return None
    return _driver_dict(ptr.contents)


def _driver_dict(d: _capi.DriverInfoT) -> DriverInfo:
    """A struct ferry_driver_info as a dict."""
    schemes = [_text(s) for s in _null_ended(d.schemes, lambda s: s)]
    options = {_text(o.name): _text(o.help)
               for o in _null_ended(d.options, lambda o: o.name)}
    return {"name": _text(d.name), "description": _text(d.description),
            "uri_help": _text(d.uri_help), "schemes": schemes,
            "options": options, "features": Feature(d.features),
            "platform": bool(d.platform),
            "takes_password": bool(d.takes_password)}


def drivers() -> List[DriverInfo]:
    """ferry_drivers: every driver built into the library, in probing
    order, each a dict: name, description, uri_help (the URI's shape),
    schemes (the URI schemes it claims; "" is a bare path), options ({URI
    query key: help}), features (a Feature), platform (False: a data path,
    no VMs) and takes_password."""
    arr = POINTER(_capi.DRIVER_P)()
    n = _capi.ferry_drivers(byref(arr))
    return [_driver_dict(arr[i].contents) for i in range(n)]


def driver_of(uri: _capi.CStr) -> DriverInfo:
    """ferry_driver_of: the driver that takes uri, as drivers() describes
    it; ferry.Error (ENOTSUP) when none does."""
    return _driver_dict(check_pointer(_capi.ferry_driver_of(
        _capi.to_c_string(os.fsdecode(uri)))).contents)


def client_driver(client: ClientOrPlatform) -> Optional[DriverInfo]:
    """ferry_client_driver: the driver behind a ferry.Client or Platform,
    None for a client the library did not make (a CallbackClient)."""
    return _driver_info(_capi.ferry_client_driver(_client_ptr(client)))


_OPTION_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def with_options(uri: _capi.CStr,
                 options: Optional[Mapping[str, object]]) -> str:
    """uri with options ({key: value}) added as URI query keys, the values
    percent-encoded: with_options("local:///s", {"accel": "kvm"}) is
    "local:///s?accel=kvm". A None value is left out. Which keys a driver
    takes is its "options" (drivers()); it refuses any other."""
    text = os.fsdecode(uri)
    query = []
    for key, value in (options or {}).items():
        if not isinstance(key, str) or not _OPTION_KEY.fullmatch(key):
            raise ValueError(f"option name {key!r}: letters, digits, "
                             "'_', '.' and '-' only")
        if value is not None:
            text_value = urllib.parse.quote(_option_text(value), safe="")
            query.append(f"{key}={text_value}")
    if not query:
        return text
    sep = "" if text.endswith(("?", "&")) else "&" if "?" in text else "?"
    return text + sep + "&".join(query)


def _option_text(value: object) -> str:
    """An option's value as text: a path or bytes decoded, else str()."""
    if isinstance(value, (bytes, os.PathLike)):
        return os.fsdecode(value)
    return str(value)


# ---- standard objects across the boundary ----

def _json_of(otype: _capi.ObjectType, ptr: Any, n: int) -> Any:
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

    def __init__(self, otype: _capi.ObjectType,
                 values: Iterable[Dict[str, Any]]) -> None:
        self.otype = otype
        self.ptr = c_void_p()
        self.n = c_size_t()
        objects = list(values)
        try:
            text = json.dumps(objects).encode()
        except (TypeError, ValueError) as e:
            raise TypeError(f"{otype.name}: not JSON-serializable: {e}") \
                from e
        rc = otype.list_from_json(byref(self.ptr), byref(self.n), text)
        if rc < 0:
            err = last_error(rc)
            if len(objects) == 1 and err.strerror.startswith("[0]."):
                # One object given: name the member, not the array index.
                err = Error(err.errno, err.strerror[4:])
            raise err

    def values(self) -> List[Dict[str, Any]]:
        """The objects as dicts (what C filled in, for an output)."""
        return _json_of(self.otype, self.ptr, self.n.value)

    def __enter__(self) -> "_CArray":
        return self

    def __exit__(self, *exc: object) -> None:
        ptr, self.ptr = self.ptr, c_void_p()
        self.otype.list_free(ptr, self.n.value)


def _get_one(otype: _capi.ObjectType, fn: Callable[..., int],
             *args: Any) -> Dict[str, Any]:
    """fn(*args, struct ferry_T *out) -> out as a dict."""
    with _CArray(otype, [{}]) as out:
        check(fn(*args, out.ptr))
        return out.values()[0]


def _get_list(otype: _capi.ObjectType, fn: Callable[..., int],
              *args: Any) -> List[Dict[str, Any]]:
    """fn(*args, struct ferry_T **out, size_t *n) -> a list of dicts."""
    ptr, n = c_void_p(), c_size_t()
    check(fn(*args, byref(ptr), byref(n)))
    try:
        return _json_of(otype, ptr, n.value)
    finally:
        otype.list_free(ptr, n.value)


# ---- arguments ----

def _client_ptr(client: ClientOrPlatform) -> Any:
    """The client_t * of a ferry.Client or a Platform."""
    if isinstance(client, Platform):
        client = client.client
    if not isinstance(client, _Handle):
        raise TypeError("expected a ferry.Client or a ferry.Platform, not "
                        f"{type(client).__name__}")
    return client.pointer()


def _vm_ref(vm: Optional[VMRef]) -> Optional[bytes]:
    """A VM as C names it: its id, uuid or name; a VM dict or object gives
    its id."""
    if isinstance(vm, VM):
        vm = vm.id
    if isinstance(vm, dict):
        vm = vm.get("id") or vm.get("uuid") or vm.get("name")
    if vm is None:
        raise ValueError("no VM given")
    return _capi.to_c_string(vm)


def _power_state(state: PowerState) -> int:
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


def parse_size(size: Size) -> Optional[int]:
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


def _size(size: Size) -> int:
    value = parse_size(size)
    if value is None:
        raise ValueError(f"{size!r} is not a size like 16777216 or '16M'")
    return value


def _disk_spec(disk: Union[Size, DiskRecord],
               fmt: Optional[str]) -> DiskRecord:
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
    spec: DiskRecord = {"capacity": _size(disk)}
    if fmt is not None:
        spec["format"] = fmt
    return spec


def _nic_spec(nic: Union[str, NicRecord, None]) -> NicRecord:
    """A network name (None: the platform's default) or a nic dict."""
    if isinstance(nic, dict):
        return nic
    return {} if nic is None else {"network": nic}


def _c_int(name: str, value: int) -> int:
    value = int(value)
    if not -2**31 <= value < 2**31:
        raise ValueError(f"{name} {value} does not fit in a C int")
    return value


# ---- the C API, function by function ----

def vms(client: ClientOrPlatform) -> List[VMRecord]:
    """ferry_vms: every VM of the platform with its power state."""
    return _get_list(_T["vm"], _capi.ferry_vms, _client_ptr(client))


def get_vm(client: ClientOrPlatform, vm: VMRef) -> VMRecord:
    """ferry_get_vm: a VM by id, uuid or name."""
    return _get_one(_T["vm"], _capi.ferry_get_vm, _client_ptr(client),
                    _vm_ref(vm))


def get_vms(client: ClientOrPlatform, name_glob: Optional[str] = None,
            power_state: PowerState = None, host_id: Optional[str] = None,
            cluster_id: Optional[str] = None) -> List[VMRecord]:
    """ferry_get_vms: the VMs matching every condition given. name_glob is
    an fnmatch pattern, power_state a name ("running") or enum value."""
    cond = _capi.VmFilterT(_capi.to_c_string(name_glob),
                           _power_state(power_state),
                           _capi.to_c_string(host_id),
                           _capi.to_c_string(cluster_id))
    return _get_list(_T["vm"], _capi.ferry_get_vms, _client_ptr(client),
                     byref(cond))


def datacenters(client: ClientOrPlatform) -> List[DatacenterRecord]:
    """ferry_datacenters: every datacenter of the platform."""
    return _get_list(_T["datacenter"], _capi.ferry_datacenters,
                     _client_ptr(client))


def get_datacenter(client: ClientOrPlatform,
                   datacenter_id: str) -> DatacenterRecord:
    """ferry_get_datacenter: a datacenter by id."""
    return _get_one(_T["datacenter"], _capi.ferry_get_datacenter,
                    _client_ptr(client), _capi.to_c_string(datacenter_id))


def clusters(client: ClientOrPlatform) -> List[ClusterRecord]:
    """ferry_clusters: every cluster of the platform."""
    return _get_list(_T["cluster"], _capi.ferry_clusters,
                     _client_ptr(client))


def get_cluster(client: ClientOrPlatform, cluster_id: str) -> ClusterRecord:
    """ferry_get_cluster: a cluster by id."""
    return _get_one(_T["cluster"], _capi.ferry_get_cluster,
                    _client_ptr(client), _capi.to_c_string(cluster_id))


def hosts(client: ClientOrPlatform) -> List[HostRecord]:
    """ferry_hosts: every host of the platform."""
    return _get_list(_T["host"], _capi.ferry_hosts, _client_ptr(client))


def get_host(client: ClientOrPlatform, host_id: str) -> HostRecord:
    """ferry_get_host: a host by id or name."""
    return _get_one(_T["host"], _capi.ferry_get_host, _client_ptr(client),
                    _capi.to_c_string(host_id))


def vlans(client: ClientOrPlatform) -> List[VlanRecord]:
    """ferry_vlans: the networks (port groups) VMs' NICs can join."""
    return _get_list(_T["vlan"], _capi.ferry_vlans, _client_ptr(client))


def query_cluster_vm_summary(client: ClientOrPlatform,
                             cluster_id: Optional[str] = None) -> VMSummary:
    """Counts of the cluster's VMs (every VM when cluster_id is None)."""
    return _get_one(_T["vm_summary"], _capi.ferry_query_cluster_vm_summary,
                    _client_ptr(client), _capi.to_c_string(cluster_id))


def snapshot_create(client: ClientOrPlatform, vm: VMRef, name: str,
                    description: Optional[str] = None,
                    flags: int = 0) -> SnapshotRecord:
    """ferry_snapshot_create with a struct ferry_snapshot_spec; flags are
    SNAPSHOT_MEMORY and SNAPSHOT_EXTERNAL. Returns the record."""
    spec = _capi.SnapshotSpecT(_capi.to_c_string(name),
                               _capi.to_c_string(description),
                               _capi.unsigned("flags", flags, 32))
    return _get_one(_T["domain_snapshot"], _capi.ferry_snapshot_create,
                    _client_ptr(client), _vm_ref(vm), byref(spec))


def snapshot_delete(client: ClientOrPlatform, vm: VMRef, name: str) -> None:
    """ferry_snapshot_delete: its children get its parent."""
    check(_capi.ferry_snapshot_delete(_client_ptr(client), _vm_ref(vm),
                                      _capi.to_c_string(name)))


def snapshot_list(client: ClientOrPlatform,
                  vm: VMRef) -> List[SnapshotRecord]:
    """The VM's snapshot records in creation order."""
    return _get_list(_T["domain_snapshot"], _capi.ferry_snapshot_list,
                     _client_ptr(client), _vm_ref(vm))


def snapshot_get(client: ClientOrPlatform, vm: VMRef,
                 name: str) -> SnapshotRecord:
    """ferry_snapshot_get: one snapshot record by name."""
    return _get_one(_T["domain_snapshot"], _capi.ferry_snapshot_get,
                    _client_ptr(client), _vm_ref(vm),
                    _capi.to_c_string(name))


def snapshot_current(client: ClientOrPlatform, vm: VMRef) -> Optional[str]:
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


def snapshot_revert(client: ClientOrPlatform, vm: VMRef, name: str,
                    flags: int = 0) -> None:
    """flags: REVERT_FORCE stops a running VM first."""
    check(_capi.ferry_snapshot_revert(_client_ptr(client), _vm_ref(vm),
                                      _capi.to_c_string(name),
                                      _capi.unsigned("flags", flags, 32)))


def wait_task(client: ClientOrPlatform, task: str,
              timeout_ms: int = -1) -> None:
    """ferry_wait_task: waits for a platform task (-1: without a limit)."""
    check(_capi.ferry_wait_task(_client_ptr(client), _capi.to_c_string(task),
                                _c_int("timeout_ms", timeout_ms)))


def query_snapshot_changes(client: ClientOrPlatform, vm: VMRef, disk: str,
                           from_snapshot: Optional[str],
                           to_snapshot: str) -> ChangedAreas:
    """The changed areas of a disk between two snapshots (from None or "*":
    every allocated area)."""
    return _get_one(_T["changed_areas"], _capi.ferry_query_snapshot_changes,
                    _client_ptr(client), _vm_ref(vm),
                    _capi.to_c_string(disk),
                    _capi.to_c_string(from_snapshot),
                    _capi.to_c_string(to_snapshot))


def create_volume(client: ClientOrPlatform, disk: DiskRecord) -> VolumeRecord:
    """ferry_create_volume from a standard disk dict (volume_id, capacity,
    format); returns the volume_info."""
    with _CArray(_T["disk"], [disk]) as spec:
        return _get_one(_T["volume_info"], _capi.ferry_create_volume,
                        _client_ptr(client), spec.ptr)


def delete_volume(client: ClientOrPlatform, volume_id: str) -> None:
    """ferry_delete_volume: refused while a VM's disk uses it."""
    check(_capi.ferry_delete_volume(_client_ptr(client),
                                    _capi.to_c_string(volume_id)))


def volumes(client: ClientOrPlatform) -> List[VolumeRecord]:
    """ferry_volumes: every volume of the platform."""
    return _get_list(_T["volume_info"], _capi.ferry_volumes,
                     _client_ptr(client))


def create_vm(client: ClientOrPlatform, spec: VMRecord) -> VMRecord:
    """ferry_create_vm from a standard vm dict; returns the VM with its
    ids and the defaults the platform filled in."""
    with _CArray(_T["vm"], [spec]) as vm:
        return _get_one(_T["vm"], _capi.ferry_create_vm, _client_ptr(client),
                        vm.ptr)


def delete_vm(client: ClientOrPlatform, vm: VMRef) -> None:
    """ferry_delete_vm: the definition and snapshot records; volumes
    stay."""
    check(_capi.ferry_delete_vm(_client_ptr(client), _vm_ref(vm)))


def start_vm(client: ClientOrPlatform, vm: VMRef) -> None:
    """ferry_start_vm: powers the VM on (EBUSY when it runs already)."""
    check(_capi.ferry_start_vm(_client_ptr(client), _vm_ref(vm)))


def stop_vm(client: ClientOrPlatform, vm: VMRef, timeout_s: int = 60,
            flags: int = 0) -> None:
    """Graceful shutdown for up to timeout_s, then power off; flags
    STOP_FORCE powers off at once."""
    check(_capi.ferry_stop_vm(_client_ptr(client), _vm_ref(vm),
                              _c_int("timeout_s", timeout_s),
                              _capi.unsigned("flags", flags, 32)))


def check_boot_disk(client: ClientOrPlatform,
                    disks: Iterable[DiskRecord]) -> DiskRecord:
    """The disk the VM boots from among disks (dicts); raises when it
    carries no boot signature."""
    with _CArray(_T["disk"], disks) as arr:
        return _get_one(_T["disk"], _capi.ferry_check_boot_disk,
                        _client_ptr(client), arr.ptr, arr.n.value)


def check_vm_boot(client: ClientOrPlatform, vm: str) -> DiskRecord:
    """The disk VM vm (its id, uuid or name) boots from, for its firmware;
    raises ENOEXEC saying what each disk holds and what to change."""
    return _get_one(_T["disk"], _capi.ferry_check_vm_boot,
                    _client_ptr(client), _capi.to_c_string(vm))


def inject_driver(client: ClientOrPlatform, disk: DiskRecord) -> None:
    """ferry_inject_driver: puts the virtio drivers into the guest on
    disk."""
    with _CArray(_T["disk"], [disk]) as arr:
        check(_capi.ferry_inject_driver(_client_ptr(client), arr.ptr))


def convert_vm(client: ClientOrPlatform, vm: str, bus: Optional[str] = None,
               remove_vmware_tools: bool = False) -> List[str]:
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


def open_cbt(client: ClientOrPlatform, vm: VMRef) -> None:
    """ferry_open_cbt: starts changed-block tracking on the VM."""
    check(_capi.ferry_open_cbt(_client_ptr(client), _vm_ref(vm)))


def plan_volumes(client: ClientOrPlatform, vm_name: str,
                 disks: Iterable[DiskRecord],
                 format: Optional[str] = None) -> List[str]:
    """ferry_plan_volumes: the volume ids disks (dicts: device, capacity)
    of a VM named vm_name would get on this platform in format ("qcow2" or
    "raw"; None: the platform's, qcow2 but on ELF), without making any;
    EEXIST when one is taken, ENOSPC when they would not fit."""
    # pylint: disable=redefined-builtin
    if not vm_name:
        raise ValueError("no VM name given")
    specs = list(disks)
    with _CArray(_T["disk"], specs) as arr:
        ids = (c_void_p * max(1, len(specs)))()
        try:
            check(_capi.ferry_plan_volumes(
                _client_ptr(client), _capi.to_c_string(vm_name), arr.ptr,
                arr.n.value, _capi.to_c_string(format), ids))
            # success set every id: none is NULL
            return [ctypes.string_at(ids[i])  # type: ignore[arg-type]
                    .decode("utf-8", "surrogateescape")
                    for i in range(len(specs))]
        finally:
            for ptr in ids:
                _capi.free(ptr)


def _thumbprint(fn: Callable[..., int], host: str) -> str:
    buf = ctypes.create_string_buffer(80)
    check(fn(_capi.to_c_string(host), buf, len(buf)))
    return buf.value.decode()


def get_thumbprint_vcenter(host: str) -> str:
    """The seed's GetthumbPrint_vcenter: the SHA-1 thumbprint of the
    certificate a vCenter at host[:port] presents ("AA:BB:..."). Trusting
    it is trust on first use: compare it with the server's console."""
    return _thumbprint(_capi.ferry_get_thumbprint_vcenter, host)


def get_thumbprint_esxi(host: str) -> str:
    """The seed's GetthumbPrint_esxi: as get_thumbprint_vcenter, for an
    ESXi host (an error when host is a vCenter)."""
    return _thumbprint(_capi.ferry_get_thumbprint_esxi, host)


def snapshot_tree_of(records: Sequence[SnapshotRecord]) -> SnapshotTree:
    """Snapshot records as a tree: {name: {child: {...}}}, roots first, in
    the records' order. A record whose parent is missing (or whose parents
    loop) is a root."""
    names = {r["name"] for r in records}
    nodes: Dict[str, SnapshotTree] = {r["name"]: {} for r in records}
    parent = {r["name"]: r.get("parent") or "" for r in records}

    def rooted(name: str) -> bool:
        seen = {name}
        while parent.get(name, "") in names:
            name = parent[name]
            if name in seen:
                return False
            seen.add(name)
        return True

    roots: SnapshotTree = {}
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
    Platform("local:///abs/state") opens the local (qemu) platform there,
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
    leaves it open.

    lookup_vm() and list_vms() give VM objects, the way in for most code
    (vm.start(), vm.snapshots(), ...). The methods below them take a VM by
    its id, uuid or name (or its dict, or a VM) and return dicts."""

    def __init__(self, target: Union[_capi.CStr, _Handle],
                 type: Optional[int] = None, *,
                 username: Optional[str] = None,
                 password: Union[str, bytes, bytearray, None] = None,
                 password_file: Optional[_capi.CStr] = None,
                 ask: Optional[AskFn] = None, auth: Optional[Auth] = None,
                 options: Optional[Mapping[str, object]] = None) -> None:
        # pylint: disable=redefined-builtin,too-many-arguments
        credentials = Auth.of(username, password, password_file, ask)
        self.client: _Handle
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
    def driver(self) -> Optional[DriverInfo]:
        """The driver behind this platform, as drivers() describes it."""
        return client_driver(self)

    @property
    def features(self) -> Feature:
        """What the platform can do: a Feature (FEATURE_* bits)."""
        info = self.driver
        return info["features"] if info else Feature(0)

    def has(self, feature: Union[Feature, int, str]) -> bool:
        """Whether the platform can do feature: a Feature (every bit of a
        combination) or its name ("snapshots", any case)."""
        if isinstance(feature, str):
            try:
                feature = Feature[feature.upper()]
            except KeyError:
                names = ", ".join(str(f.name).lower() for f in Feature)
                raise ValueError(f"unknown feature {feature!r}: one of "
                                 f"{names}") from None
        feature = Feature(feature)
        return self.features & feature == feature

    # -- life --
    @property
    def closed(self) -> bool:
        """Whether the platform's client is closed."""
        return self.client.closed

    def close(self) -> None:
        """Closes the client this object opened (one it was given stays
        open); closing twice is harmless."""
        if self._owned:
            self.client.close()

    def __enter__(self) -> "Platform":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<ferry.Platform {str(self.target)!r}{state}>"

    # -- VMs as objects --
    def lookup_vm(self, name_or_uuid: str) -> "VM":
        """The VM of this name, uuid (or id) as a VM object, as libvirt's
        lookupByName; ferry.Error (ENOENT) when there is none."""
        return VM(self, self.vm(name_or_uuid))

    def list_vms(self, name: Optional[str] = None, state: PowerState = None,
                 host: Optional[str] = None,
                 cluster: Optional[str] = None) -> List["VM"]:
        """VM objects of every VM, or of those matching all the conditions
        given (as vms() filters)."""
        return [VM(self, record)
                for record in self.vms(name, state, host, cluster)]

    # -- inventory --
    def vms(self, name: Optional[str] = None, state: PowerState = None,
            host: Optional[str] = None,
            cluster: Optional[str] = None) -> List[VMRecord]:
        """Every VM, or those matching all the conditions given: name is an
        fnmatch pattern, state a power state name ("running")."""
        if name is None and state is None and host is None and \
                cluster is None:
            return vms(self)
        return get_vms(self, name, state, host, cluster)

    def vm(self, vm: VMRef) -> VMRecord:
        """A VM's dict by id, uuid or name (lookup_vm: as an object)."""
        return get_vm(self, vm)

    def datacenters(self) -> List[DatacenterRecord]:
        """Every datacenter."""
        return datacenters(self)

    def datacenter(self, datacenter_id: str) -> DatacenterRecord:
        """A datacenter by id."""
        return get_datacenter(self, datacenter_id)

    def clusters(self) -> List[ClusterRecord]:
        """Every cluster."""
        return clusters(self)

    def cluster(self, cluster_id: str) -> ClusterRecord:
        """A cluster by id."""
        return get_cluster(self, cluster_id)

    def hosts(self) -> List[HostRecord]:
        """Every host."""
        return hosts(self)

    def host(self, host_id: str) -> HostRecord:
        """A host by id or name."""
        return get_host(self, host_id)

    def vlans(self) -> List[VlanRecord]:
        """The networks (port groups) a NIC can join."""
        return vlans(self)

    def summary(self, cluster: Optional[str] = None) -> VMSummary:
        """total, running, stopped, paused, vcpus, memory_mib."""
        return query_cluster_vm_summary(self, cluster)

    # -- VMs --
    def create_vm(self, name: str, vcpus: int = 1, memory_mib: int = 256,
                  disks: Iterable[Union[Size, DiskRecord]] = (),
                  nics: Iterable[Union[str, NicRecord, None]] = (),
                  firmware: str = "bios", machine: str = "q35",
                  disk_format: Optional[str] = None,
                  **fields: Any) -> VMRecord:
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

    def delete_vm(self, vm: VMRef) -> None:
        """Deletes the definition and snapshot records; volumes stay."""
        delete_vm(self, vm)

    def start_vm(self, vm: VMRef) -> None:
        """Powers the VM on."""
        start_vm(self, vm)

    def stop_vm(self, vm: VMRef, timeout: int = 60,
                force: bool = False) -> None:
        """Shuts the VM down, powered off after timeout seconds (at once
        with force)."""
        stop_vm(self, vm, timeout, STOP_FORCE if force else 0)

    def check_boot_disk(
            self, disks: Union[VMRecord, Iterable[DiskRecord]]) -> DiskRecord:
        """The boot disk among disks (a list of disk dicts, or a VM dict)."""
        return check_boot_disk(self, _disks_of(disks))

    def check_vm_boot(self, vm: str) -> DiskRecord:
        """The disk the VM boots from, for its firmware (check_vm_boot)."""
        return check_vm_boot(self, vm)

    def convert_vm(self, vm: str, bus: Optional[str] = None,
                   remove_vmware_tools: bool = False) -> List[str]:
        """Converts the stopped VM's guest for virtio (convert_vm)."""
        return convert_vm(self, vm, bus, remove_vmware_tools)

    # -- volumes --
    def volumes(self) -> List[VolumeRecord]:
        """Every volume."""
        return volumes(self)

    def create_volume(self, name: str, size: Size,
                      format: str = "qcow2") -> VolumeRecord:
        """A new volume of size bytes (or "16M") in format."""
        # pylint: disable=redefined-builtin
        return create_volume(self, {"volume_id": name,
                                    "capacity": _size(size),
                                    "format": format})

    def delete_volume(self, name: str) -> None:
        """Deletes a volume no VM's disk uses."""
        delete_volume(self, name)

    # -- snapshots --
    def snapshot_create(self, vm: VMRef, name: str,
                        description: Optional[str] = None,
                        memory: bool = False,
                        external: bool = False) -> SnapshotRecord:
        """Snapshots the VM's disks (and its RAM with memory; as overlays
        with external) and returns the record."""
        # pylint: disable=too-many-arguments
        flags = (SNAPSHOT_MEMORY if memory else 0) | \
            (SNAPSHOT_EXTERNAL if external else 0)
        return snapshot_create(self, vm, name, description, flags)

    def snapshots(self, vm: VMRef) -> List[SnapshotRecord]:
        """The VM's snapshot records in creation order."""
        return snapshot_list(self, vm)

    def snapshot(self, vm: VMRef, name: str) -> SnapshotRecord:
        """One snapshot record by name."""
        return snapshot_get(self, vm, name)

    def current_snapshot(self, vm: VMRef) -> Optional[str]:
        """The current snapshot's name, or None."""
        return snapshot_current(self, vm)

    def snapshot_delete(self, vm: VMRef, name: str) -> None:
        """Deletes a snapshot; its children get its parent."""
        snapshot_delete(self, vm, name)

    def snapshot_revert(self, vm: VMRef, name: str,
                        force: bool = False) -> None:
        """Reverts the VM to a snapshot; force stops a running VM first."""
        snapshot_revert(self, vm, name, REVERT_FORCE if force else 0)

    def snapshot_changes(self, vm: VMRef, disk: str,
                         from_snapshot: Optional[str],
                         to_snapshot: str) -> ChangedAreas:
        """The areas of disk that changed between two external snapshots,
        as a changed_areas dict (from None or "*": every allocated area)."""
        return query_snapshot_changes(self, vm, disk, from_snapshot,
                                      to_snapshot)

    def snapshot_tree(self, vm: VMRef) -> SnapshotTree:
        """{name: {child: {...}}} built from the records' parents."""
        return snapshot_tree_of(snapshot_list(self, vm))

    def open_cbt(self, vm: VMRef) -> None:
        """Starts changed-block tracking on the VM (the seed's open_cbt)."""
        open_cbt(self, vm)

    def plan_volumes(self, vm_name: str,
                     disks: Union[VMRecord, Iterable[DiskRecord]],
                     format: Optional[str] = None) -> List[str]:
        """The volume ids disks (dicts, or a VM dict) would get here for a
        VM named vm_name (see plan_volumes)."""
        # pylint: disable=redefined-builtin
        return plan_volumes(self, vm_name, _disks_of(disks), format)


def _disks_of(disks: Union[VMRecord, Iterable[DiskRecord]]
              ) -> Iterable[DiskRecord]:
    """A VM dict's disks; disks given as a list, as they are."""
    if isinstance(disks, dict):
        return disks.get("disks") or []
    return disks


def _check_type(uri: str, type: int) -> None:
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


# ---- the object layer: a VM and its snapshots ----

class VM:
    """One VM of a platform, as libvirt's virDomain: Platform.lookup_vm()
    and Platform.list_vms() make them. It holds the platform and the VM's
    id, not its state: info asks the platform each time, and each method is
    the Platform method of the same name on this VM. Deleting the VM leaves
    the object naming nothing (its calls raise ENOENT)."""

    def __init__(self, platform: Platform, record: VMRecord) -> None:
        self.platform = platform
        self._record = record  # as when looked up: for id, name and uuid
        self._id: str = record.get("id") or record.get("uuid") or \
            record["name"]

    @property
    def id(self) -> str:
        """The platform's id of the VM (the uuid on the local platform, a
        moref on vSphere): what every call names it by."""
        return self._id

    @property
    def name(self) -> str:
        """The VM's name when it was looked up."""
        return str(self._record.get("name") or "")

    @property
    def uuid(self) -> Optional[str]:
        """The VM's uuid (None where the platform has none)."""
        return self._record.get("uuid") or None

    @property
    def info(self) -> VMRecord:
        """The VM's dict, fresh from the platform: power_state, vcpus,
        memory_mib, disks, nics, ..."""
        return self.platform.vm(self._id)

    @property
    def power_state(self) -> str:
        """info["power_state"]: "stopped", "running", "paused", ..."""
        return str(self.info["power_state"])

    # -- lifecycle --
    def start(self) -> None:
        """Powers the VM on."""
        self.platform.start_vm(self._id)

    def stop(self, timeout: int = 60, force: bool = False) -> None:
        """Shuts the VM down, powered off after timeout seconds (at once
        with force)."""
        self.platform.stop_vm(self._id, timeout, force)

    def delete(self) -> None:
        """Deletes the VM's definition and snapshot records; its volumes
        stay."""
        self.platform.delete_vm(self._id)

    def convert(self, bus: Optional[str] = None,
                remove_vmware_tools: bool = False) -> List[str]:
        """Converts the stopped VM's guest to boot on virtio, in place;
        returns the changes, a line each (see ferry.convert_vm)."""
        return self.platform.convert_vm(self._id, bus, remove_vmware_tools)

    def check_boot(self) -> DiskRecord:
        """The disk the VM boots from, for its firmware; ferry.Error
        (ENOEXEC) saying what each disk holds when none would boot."""
        return self.platform.check_vm_boot(self._id)

    # -- snapshots --
    def snapshots(self) -> List["Snapshot"]:
        """The VM's snapshots in creation order."""
        return [Snapshot(self, r) for r in self.platform.snapshots(self._id)]

    def snapshot(self, name: str) -> "Snapshot":
        """The snapshot of this name; ferry.Error (ENOENT) when none."""
        return Snapshot(self, self.platform.snapshot(self._id, name))

    def current_snapshot(self) -> Optional["Snapshot"]:
        """The snapshot the VM's disks are on now, or None."""
        name = self.platform.current_snapshot(self._id)
        return None if name is None else self.snapshot(name)

    def create_snapshot(self, name: str, description: Optional[str] = None,
                        memory: bool = False,
                        external: bool = False) -> "Snapshot":
        """Snapshots the VM's disks, and its RAM with memory=True (a
        running VM); external=True makes overlays, between which changes()
        can tell what was written."""
        return Snapshot(self, self.platform.snapshot_create(
            self._id, name, description, memory, external))

    def snapshot_tree(self) -> SnapshotTree:
        """The snapshots' names as a tree: {name: {child: {...}}}."""
        return self.platform.snapshot_tree(self._id)

    def changes(self, disk: str,
                from_snapshot: Union[str, "Snapshot", None],
                to_snapshot: Union[str, "Snapshot"]) -> ChangedAreas:
        """The areas of disk (a device, "vda") that changed between two
        external snapshots (names or Snapshots; from None or "*": every
        allocated area), as a changed_areas dict."""
        return self.platform.snapshot_changes(
            self._id, disk, _snapshot_name(from_snapshot),
            str(_snapshot_name(to_snapshot)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VM) and other.platform is self.platform \
            and other.id == self._id

    def __hash__(self) -> int:
        return hash((id(self.platform), self._id))

    def __repr__(self) -> str:
        return f"<ferry.VM {self.name!r} {self._id}>"


class Snapshot:
    """One snapshot of a VM (VM.snapshots(), VM.snapshot(name), ...): the
    VM and the record the platform gave (record; VM.snapshot(name) fetches
    it again)."""

    def __init__(self, vm: VM, record: SnapshotRecord) -> None:
        self.vm = vm
        self._record = record

    @property
    def name(self) -> str:
        """The snapshot's name, unique within its VM."""
        return str(self._record["name"])

    @property
    def record(self) -> SnapshotRecord:
        """The domain_snapshot dict: name, description, creation_time,
        memory (the saved RAM's file, None: disk-only), running, parent,
        kind ("internal", "external"), disks, ... (None where absent)."""
        return self._record

    @property
    def parent(self) -> Optional[str]:
        """The parent snapshot's name; None for a root."""
        return self._record.get("parent") or None

    def delete(self) -> None:
        """Deletes the snapshot; its children get its parent."""
        self.vm.platform.snapshot_delete(self.vm.id, self.name)

    def revert(self, force: bool = False) -> None:
        """Reverts the VM to this snapshot (running again if it holds the
        RAM); a running VM is refused (EBUSY) unless force stops it."""
        self.vm.platform.snapshot_revert(self.vm.id, self.name, force)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and other.vm == self.vm and \
            other.name == self.name

    def __hash__(self) -> int:
        return hash((self.vm, self.name))

    def __repr__(self) -> str:
        return f"<ferry.Snapshot {self.name!r} of {self.vm.name!r}>"


def _snapshot_name(snapshot: Union[str, Snapshot, None]) -> Optional[str]:
    return snapshot.name if isinstance(snapshot, Snapshot) else snapshot
