"""Loads libferry and declares its C API for ctypes.

The structures mirror include/ferry/*.h field for field: ctypes lays them out
with the platform's C rules, so a field added, removed or reordered in a
header must be changed here too (tests/python checks this against the
compiler).
"""
import ctypes
import ctypes.util
import operator
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char_p,
                    c_double, c_int, c_int64, c_size_t, c_uint, c_uint64,
                    c_void_p)
from typing import Any, Optional, Union

# What to_c_string takes: text, bytes or a path.
CStr = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
# Bytes to write: bytes or another buffer.
Buffer = Union[bytes, bytearray, memoryview]

SONAME = "libferry.so.0"
SECTOR_SIZE = 512

# enum ferry_sync_mode (sync.h)
SYNC_EXTENTS, SYNC_ALLOCATED, SYNC_ALL, SYNC_COMPARE = 0, 1, 2, 3
READ_GAP_NEVER = (1 << 64) - 1  # FERRY_READ_GAP_NEVER
# volume.h
OPEN_READ, OPEN_WRITE = 0, 1
EXTENT_HOLE, EXTENT_ZERO = 1, 2


def library_path() -> str:
    """FERRY_LIB, else FERRY_BUILD, else the source tree's build directory,
    else whatever the dynamic linker finds."""
    if os.environ.get("FERRY_LIB"):
        return os.environ["FERRY_LIB"]
    if os.environ.get("FERRY_BUILD"):
        return os.path.join(os.environ["FERRY_BUILD"], "lib", SONAME)
    here = os.path.dirname(os.path.abspath(__file__))
    tree = os.path.normpath(os.path.join(here, "..", "..", "build", "lib",
                                         SONAME))
    if os.path.exists(tree):
        return tree
    try:  # the library make install put beside this package's prefix
        # ferry/_install.py is written at install: no source tree has it
        # pylint: disable-next=import-outside-toplevel
        from ._install import LIBFERRY  # type: ignore[import]
        if os.path.exists(LIBFERRY):
            return LIBFERRY
    except ImportError:
        pass
    return ctypes.util.find_library("ferry") or SONAME


def to_c_string(value: Optional[CStr]) -> Optional[bytes]:
    """str, bytes or a path as a C string; None stays NULL."""
    return None if value is None else os.fsencode(value)


# client_t's callbacks. buf is char * in C, but as c_char_p ctypes would hand
# Python a bytes copy cut at the first NUL: as c_void_p it is the address.
# The callback types are Any to mypy: typeshed's lack the constructor
# without arguments, the NULL function pointer.
IO_FN: Any = CFUNCTYPE(c_int, c_void_p, c_char_p, c_void_p, c_uint64,
                       c_uint64)
CLOSE_FN: Any = CFUNCTYPE(c_int, c_void_p)
PROGRESS_FN: Any = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64)
PHASE_PROGRESS_FN: Any = CFUNCTYPE(c_int, c_void_p, c_char_p, c_uint64,
                                   c_uint64)


class ClientT(Structure):
    """typedef struct client client_t (ferry.h)."""
    _fields_ = [
        ("client", c_void_p),
        ("read", IO_FN),
        ("write", IO_FN),
        ("close_client", CLOSE_FN),
    ]


class ExtentT(Structure):
    """struct ferry_extent (sync.h): a byte range."""
    _fields_ = [
        ("offset", c_uint64),
        ("length", c_uint64),
    ]


class SyncOptsT(Structure):
    """struct ferry_sync_opts (sync.h); struct_size is set by ours()."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("mode", c_int),  # enum ferry_sync_mode
        ("request_size", c_uint64),
        ("requests", c_uint),
        ("workers", c_uint),
        ("retries", c_uint),
        ("retry_delay_ms", c_uint),
        ("verify", c_bool),
        ("no_zero_detect", c_bool),
        ("progress", PROGRESS_FN),
        ("progress_opaque", c_void_p),
        ("phase_progress", PHASE_PROGRESS_FN),
        ("memory", c_uint64),
        ("read_gap", c_uint64),
    ]


class SyncStatsT(Structure):
    """struct ferry_sync_stats (sync.h)."""
    _fields_ = [
        ("total_bytes", c_uint64),
        ("copied_bytes", c_uint64),
        ("zeroed_bytes", c_uint64),
        ("skipped_bytes", c_uint64),
        ("verified_bytes", c_uint64),
        ("retries", c_uint64),
        ("workers", c_uint),
        ("requests", c_uint),
        ("request_size", c_uint64),
        ("seconds", c_double),
        ("wrote", c_bool),
        ("started", c_bool),
        ("memory", c_uint64),
        ("buffer_bytes", c_uint64),
    ]


class ExtentInfoT(Structure):
    """struct ferry_extent_info (volume.h)."""
    _fields_ = [
        ("offset", c_uint64),
        ("length", c_uint64),
        ("flags", c_uint),
    ]


def _load() -> ctypes.CDLL:
    path = library_path()
    try:
        return ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"ferry: cannot load {path} ({e}); set FERRY_LIB "
                          "to libferry.so.0 or FERRY_BUILD to the meson "
                          "build directory") from e


lib = _load()
# ferry_volume_extents() hands back malloc()ed memory: free it with libc's.
_libc = ctypes.CDLL(None)


def _declare(library: ctypes.CDLL, name: str, restype: Any,
             *argtypes: Any) -> Any:
    """library's function name with its C signature. Typed Any: ctypes
    checks the arguments at the call, mypy cannot."""
    fn = getattr(library, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


CLIENT_P = POINTER(ClientT)
VOLUME_P = c_void_p  # struct ferry_volume * is opaque

create_client = _declare(lib, "create_client", CLIENT_P, c_int, c_char_p,
                         c_char_p, c_char_p, c_char_p, c_char_p, c_char_p)
destroy_client = _declare(lib, "destroy_client", c_int, CLIENT_P)
ferry_sync = _declare(lib, "ferry_sync", c_int, CLIENT_P, CLIENT_P, c_char_p,
                      c_char_p, POINTER(c_uint64), POINTER(c_uint64), c_int)

ferry_sync_ex = _declare(lib, "ferry_sync_ex", c_int, CLIENT_P, CLIENT_P,
                         c_char_p, c_char_p, POINTER(ExtentT), c_size_t,
                         POINTER(SyncOptsT), POINTER(SyncStatsT))

ferry_last_error = _declare(lib, "ferry_last_error", c_char_p)
ferry_last_errno = _declare(lib, "ferry_last_errno", c_int)

# <ferry/log.h>: opaque, topic, message
LOG_FN: Any = CFUNCTYPE(None, c_void_p, c_char_p, c_char_p)
ferry_set_log_callback = _declare(lib, "ferry_set_log_callback", None,
                                  LOG_FN, c_void_p)

ferry_volume_open = _declare(lib, "ferry_volume_open", c_int, CLIENT_P,
                             c_char_p, c_int, POINTER(VOLUME_P))
ferry_volume_close = _declare(lib, "ferry_volume_close", None, VOLUME_P)
ferry_volume_size = _declare(lib, "ferry_volume_size", c_int64, VOLUME_P)
ferry_volume_name = _declare(lib, "ferry_volume_name", c_char_p, VOLUME_P)
ferry_volume_format = _declare(lib, "ferry_volume_format", c_char_p,
                               VOLUME_P)
ferry_volume_can_multi_conn = _declare(lib, "ferry_volume_can_multi_conn",
                                       c_bool, VOLUME_P)
ferry_volume_pread = _declare(lib, "ferry_volume_pread", c_int, VOLUME_P,
                              c_void_p, c_size_t, c_uint64)
ferry_volume_pwrite = _declare(lib, "ferry_volume_pwrite", c_int, VOLUME_P,
                               c_void_p, c_size_t, c_uint64)
ferry_volume_zero = _declare(lib, "ferry_volume_zero", c_int, VOLUME_P,
                             c_uint64, c_uint64)
ferry_volume_flush = _declare(lib, "ferry_volume_flush", c_int, VOLUME_P)
ferry_volume_extents = _declare(lib, "ferry_volume_extents", c_int, VOLUME_P,
                                c_uint64, c_uint64,
                                POINTER(POINTER(ExtentInfoT)),
                                POINTER(c_size_t))

free = _declare(_libc, "free", None, c_void_p)


def unsigned(name: str, value: int, bits: int = 64) -> int:
    """value as an unsigned C integer of `bits` bits. ctypes would wrap a
    negative or too big number silently."""
    value = operator.index(value)  # TypeError for 1.5 or "2"
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} must be from 0 to {(1 << bits) - 1}, "
                         f"not {value}")
    return value


# ---- the platform API (platform.h) and the standard objects (types.h) ----
#
# Standard objects cross the boundary as JSON through their generated
# functions, so none of their nested structs is mirrored here: a struct
# ferry_T * (or an array of them) is an opaque c_void_p, made by
# ferry_T_list_from_json, read by ferry_T_list_to_json and freed by
# ferry_T_list_free. Only the small parameter structs of platform.h,
# drivers.h and migrate.h are mirrored.

class SizedStructure(Structure):
    """A public options struct that starts with `size_t struct_size`
    (nbdkit's _struct_size): the constructor sets it to the struct's size,
    and the other arguments fill the members after it, in order. A
    struct_size= keyword sets another value (for tests of the check)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        size = kwargs.pop("struct_size", ctypes.sizeof(type(self)))
        super().__init__(size, *args, **kwargs)


# enum ferry_power_state (types.h), in C order: the index is the value.
POWER_STATES = ("stopped", "running", "paused", "suspended", "unknown")
# platform.h flags
SNAPSHOT_MEMORY, SNAPSHOT_EXTERNAL = 1, 2
REVERT_FORCE = 1
STOP_FORCE = 1


# ---- drivers.h: the registry and credentials ----

# enum ferry_feature is ferry.platform.Feature: a class statement there,
# so that type checkers know its members.

# ferry_auth_fn: fills buf (char *, as an address: see IO_FN) with a
# NUL-terminated password of at most len bytes with its NUL; 0 or -errno.
AUTH_FN: Any = CFUNCTYPE(c_int, c_void_p, c_char_p, c_void_p, c_size_t)


class AuthT(SizedStructure):
    """struct ferry_auth (drivers.h)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("username", c_char_p),       # NULL: the URI's USER@
        ("password", c_char_p),       # NULL: password_file, then ask
        ("password_file", c_char_p),
        ("ask", AUTH_FN),
        ("opaque", c_void_p),
    ]


class DriverOptionT(Structure):
    """struct ferry_driver_option (drivers.h)."""
    _fields_ = [
        ("name", c_char_p),
        ("help", c_char_p),
    ]


class DriverInfoT(Structure):
    """struct ferry_driver_info (drivers.h): static in the library."""
    _fields_ = [
        ("name", c_char_p),
        ("description", c_char_p),
        ("uri_help", c_char_p),
        ("schemes", POINTER(c_char_p)),         # NULL-ended
        ("options", POINTER(DriverOptionT)),    # ends with a NULL name
        ("features", c_uint),                   # enum ferry_feature
        ("platform", c_bool),
        ("takes_password", c_bool),
        ("volume_format", c_char_p),            # NULL: qcow2
    ]


class VmFilterT(SizedStructure):
    """struct ferry_vm_filter (platform.h): NULL/-1 members match all."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("name_glob", c_char_p),
        ("power_state", c_int),  # enum ferry_power_state, or -1
        ("host_id", c_char_p),
        ("cluster_id", c_char_p),
    ]


class SnapshotSpecT(SizedStructure):
    """struct ferry_snapshot_spec (platform.h)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("name", c_char_p),
        ("description", c_char_p),  # may be NULL
        ("flags", c_uint),
    ]


class MigrateSpecT(SizedStructure):
    """struct ferry_migrate_spec (migrate.h)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("source", c_char_p),
        ("destination", c_char_p),
        ("vm", c_char_p),
        ("network_map", POINTER(c_char_p)),
        ("n_network_map", c_size_t),
        ("format", c_char_p),
        ("id", c_char_p),
        ("source_auth", POINTER(AuthT)),  # NULL: none
        ("destination_auth", POINTER(AuthT)),
    ]


class MigrateAuthT(SizedStructure):
    """struct ferry_migrate_auth (migrate.h): both sides' credentials for
    the steps after the start (journals never hold them)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("source", POINTER(AuthT)),
        ("destination", POINTER(AuthT)),
    ]


class CutoverOptsT(SizedStructure):
    """struct ferry_cutover_opts (migrate.h)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("stop_timeout_s", c_int),
        ("start", c_bool),
        ("no_verify", c_bool),
        ("no_convert", c_bool),
        ("remove_vmware_tools", c_bool),
    ]


class ConvertOptsT(SizedStructure):
    """struct ferry_convert_opts (platform.h)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("bus", c_char_p),
        ("remove_vmware_tools", c_bool),
    ]


class ObjectType:
    """The list functions of one standard object type ferry_<name>. to_json
    returns malloc()ed text: its restype is c_void_p so that the caller can
    free it (c_char_p would copy and lose the pointer)."""

    def __init__(self, library: ctypes.CDLL, name: str) -> None:
        self.name = name
        self.list_free = _declare(library, f"ferry_{name}_list_free", None,
                                  c_void_p, c_size_t)
        self.list_to_json = _declare(library, f"ferry_{name}_list_to_json",
                                     c_void_p, c_void_p, c_size_t)
        self.list_from_json = _declare(
            library, f"ferry_{name}_list_from_json", c_int,
            POINTER(c_void_p), POINTER(c_size_t), c_char_p)

    def __repr__(self) -> str:
        return f"<ferry object type {self.name}>"


OBJECT_TYPES = {name: ObjectType(lib, name) for name in (
    "datacenter", "cluster", "host", "vlan", "disk", "nic", "vm",
    "volume_info", "vm_summary", "changed_area", "changed_areas",
    "disk_snapshot", "domain_snapshot", "migration")}

OBJ_P = c_void_p          # struct ferry_T *, one object or an array
OBJ_PP = POINTER(c_void_p)  # struct ferry_T **, a list's out parameter
SIZE_P = POINTER(c_size_t)

ferry_vms = _declare(lib, "ferry_vms", c_int, CLIENT_P, OBJ_PP, SIZE_P)
ferry_get_vm = _declare(lib, "ferry_get_vm", c_int, CLIENT_P, c_char_p,
                        OBJ_P)
ferry_get_vms = _declare(lib, "ferry_get_vms", c_int, CLIENT_P,
                         POINTER(VmFilterT), OBJ_PP, SIZE_P)
ferry_datacenters = _declare(lib, "ferry_datacenters", c_int, CLIENT_P,
                             OBJ_PP, SIZE_P)
ferry_get_datacenter = _declare(lib, "ferry_get_datacenter", c_int, CLIENT_P,
                                c_char_p, OBJ_P)
ferry_clusters = _declare(lib, "ferry_clusters", c_int, CLIENT_P, OBJ_PP,
                          SIZE_P)
ferry_get_cluster = _declare(lib, "ferry_get_cluster", c_int, CLIENT_P,
                             c_char_p, OBJ_P)
ferry_hosts = _declare(lib, "ferry_hosts", c_int, CLIENT_P, OBJ_PP, SIZE_P)
ferry_get_host = _declare(lib, "ferry_get_host", c_int, CLIENT_P, c_char_p,
                          OBJ_P)
ferry_vlans = _declare(lib, "ferry_vlans", c_int, CLIENT_P, OBJ_PP, SIZE_P)
ferry_query_cluster_vm_summary = _declare(
    lib, "ferry_query_cluster_vm_summary", c_int, CLIENT_P, c_char_p, OBJ_P)

ferry_snapshot_create = _declare(lib, "ferry_snapshot_create", c_int,
                                 CLIENT_P, c_char_p, POINTER(SnapshotSpecT),
                                 OBJ_P)
ferry_snapshot_delete = _declare(lib, "ferry_snapshot_delete", c_int,
                                 CLIENT_P, c_char_p, c_char_p)
ferry_snapshot_list = _declare(lib, "ferry_snapshot_list", c_int, CLIENT_P,
                               c_char_p, OBJ_PP, SIZE_P)
ferry_snapshot_get = _declare(lib, "ferry_snapshot_get", c_int, CLIENT_P,
                              c_char_p, c_char_p, OBJ_P)
ferry_snapshot_current = _declare(lib, "ferry_snapshot_current", c_int,
                                  CLIENT_P, c_char_p, POINTER(c_void_p))
ferry_snapshot_revert = _declare(lib, "ferry_snapshot_revert", c_int,
                                 CLIENT_P, c_char_p, c_char_p, c_uint)
ferry_wait_task = _declare(lib, "ferry_wait_task", c_int, CLIENT_P, c_char_p,
                           c_int)
ferry_query_snapshot_changes = _declare(
    lib, "ferry_query_snapshot_changes", c_int, CLIENT_P, c_char_p, c_char_p,
    c_char_p, c_char_p, OBJ_P)

ferry_create_volume = _declare(lib, "ferry_create_volume", c_int, CLIENT_P,
                               OBJ_P, OBJ_P)
ferry_delete_volume = _declare(lib, "ferry_delete_volume", c_int, CLIENT_P,
                               c_char_p)
ferry_volumes = _declare(lib, "ferry_volumes", c_int, CLIENT_P, OBJ_PP,
                         SIZE_P)
ferry_create_vm = _declare(lib, "ferry_create_vm", c_int, CLIENT_P, OBJ_P,
                           OBJ_P)
ferry_delete_vm = _declare(lib, "ferry_delete_vm", c_int, CLIENT_P, c_char_p)
ferry_start_vm = _declare(lib, "ferry_start_vm", c_int, CLIENT_P, c_char_p)
ferry_stop_vm = _declare(lib, "ferry_stop_vm", c_int, CLIENT_P, c_char_p,
                         c_int, c_uint)
ferry_check_boot_disk = _declare(lib, "ferry_check_boot_disk", c_int,
                                 CLIENT_P, OBJ_P, c_size_t, OBJ_P)
ferry_check_vm_boot = _declare(lib, "ferry_check_vm_boot", c_int, CLIENT_P,
                               c_char_p, OBJ_P)
ferry_inject_driver = _declare(lib, "ferry_inject_driver", c_int, CLIENT_P,
                               OBJ_P)
ferry_convert_vm = _declare(lib, "ferry_convert_vm", c_int, CLIENT_P,
                            c_char_p, POINTER(ConvertOptsT),
                            POINTER(c_void_p))
ferry_open_cbt = _declare(lib, "ferry_open_cbt", c_int, CLIENT_P, c_char_p)
ferry_plan_volumes = _declare(lib, "ferry_plan_volumes", c_int, CLIENT_P,
                              c_char_p, OBJ_P, c_size_t, c_char_p,
                              POINTER(c_void_p))

DRIVER_P = POINTER(DriverInfoT)
AUTH_P = POINTER(AuthT)
ferry_drivers = _declare(lib, "ferry_drivers", c_size_t,
                         POINTER(POINTER(DRIVER_P)))
ferry_driver_of = _declare(lib, "ferry_driver_of", DRIVER_P, c_char_p)
ferry_client_driver = _declare(lib, "ferry_client_driver", DRIVER_P,
                               CLIENT_P)
ferry_platform_open = _declare(lib, "ferry_platform_open", CLIENT_P,
                               c_char_p)
ferry_platform_open_auth = _declare(lib, "ferry_platform_open_auth",
                                    CLIENT_P, c_char_p, AUTH_P, c_uint)
# volume_id: a malloc'd char *, as an address to free.
ferry_endpoint_open = _declare(lib, "ferry_endpoint_open", CLIENT_P,
                               c_char_p, AUTH_P, POINTER(c_void_p))

# vmware.h
ferry_get_thumbprint_vcenter = _declare(lib, "ferry_get_thumbprint_vcenter",
                                        c_int, c_char_p, c_char_p, c_size_t)
ferry_get_thumbprint_esxi = _declare(lib, "ferry_get_thumbprint_esxi", c_int,
                                     c_char_p, c_char_p, c_size_t)

# Warm migration (migrate.h): journal_dir may be NULL, and so may every
# struct ferry_migrate_auth (no credentials).
MIGRATE_AUTH_P = POINTER(MigrateAuthT)
ferry_migrate_plan = _declare(lib, "ferry_migrate_plan", c_int,
                              POINTER(MigrateSpecT), OBJ_P)
# The watch (progress) argument is passed as NULL from Python for now.
ferry_migrate_start = _declare(lib, "ferry_migrate_start", c_int,
                               POINTER(MigrateSpecT), c_char_p, c_void_p,
                               OBJ_P)
# (journal_dir, id, ...): the journal dir comes first, as in migrate.h.
ferry_migrate_sync = _declare(lib, "ferry_migrate_sync", c_int, c_char_p,
                              c_char_p, MIGRATE_AUTH_P, c_void_p, OBJ_P)
ferry_migrate_converge = _declare(lib, "ferry_migrate_converge", c_int,
                                  c_char_p, c_char_p, c_uint64, c_uint,
                                  MIGRATE_AUTH_P, c_void_p, OBJ_P)
ferry_migrate_cutover = _declare(lib, "ferry_migrate_cutover", c_int,
                                 c_char_p, c_char_p, POINTER(CutoverOptsT),
                                 MIGRATE_AUTH_P, c_void_p, OBJ_P)
ferry_migrate_abort = _declare(lib, "ferry_migrate_abort", c_int, c_char_p,
                               c_char_p, MIGRATE_AUTH_P, OBJ_P)
ferry_migrate_status = _declare(lib, "ferry_migrate_status", c_int,
                                c_char_p, c_char_p, OBJ_P)
ferry_migrate_resume = _declare(lib, "ferry_migrate_resume", c_int,
                                c_char_p, c_char_p, POINTER(CutoverOptsT),
                                MIGRATE_AUTH_P, c_void_p, OBJ_P)
