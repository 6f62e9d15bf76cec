"""ferry: VM block sync, a ctypes binding of libferry.

The seed's interface: create_client, destroy_client, sync and CLIENT_*.
On top of it: Client (a context manager), CallbackClient (a Python object
as a client), open_endpoint (a path or a volume's URI), sync_extents (the
copy engine with options and statistics) and Volume; the platform API
(inventory, VMs, volumes, snapshots) as Platform and as functions named
after the C ones (vms, create_vm, ...), with standard objects as dicts;
the driver registry (drivers, driver_of, client_driver, Feature and
FEATURE_*); warm migration in ferry.migrate. Credentials are arguments
(Platform(uri, password=...), ferry.Auth), never read from the
environment. Failures raise ferry.Error, an OSError with libferry's
message.

libferry.so.0 is found through FERRY_LIB, then FERRY_BUILD (a meson build
directory), then the source tree's build/, then where make install put it
(ferry/_install.py, written at install), then the system.
"""
__version__ = "0.1.0"  # libferry's and the ferry command's
from ._capi import SECTOR_SIZE
from .client import (CLIENT_ELF, CLIENT_FILE, CLIENT_LIBVIRT, CLIENT_NBD,
                     CLIENT_QEMU, CLIENT_VMWARE, CLIENT_XEN, Auth,
                     CallbackClient, Client, ClientType, open_endpoint)
from .errors import Error
from .log import log_to_logging, set_log_callback
from .platform import (FEATURE_BOOT_CHECK, FEATURE_CHANGED_BLOCKS,
                       FEATURE_CREATE_VMS, FEATURE_CREATE_VOLUMES,
                       FEATURE_INJECT_DRIVERS,
                       FEATURE_LIFECYCLE, FEATURE_LIST_VOLUMES,
                       FEATURE_RAM_SNAPSHOTS, FEATURE_READ_VOLUMES,
                       FEATURE_SNAPSHOTS, FEATURE_TASKS, FEATURE_VMS,
                       FEATURE_WRITE_VOLUMES, POWER_STATES, REVERT_FORCE,
                       SNAPSHOT_EXTERNAL, SNAPSHOT_MEMORY, STOP_FORCE,
                       Feature, Platform, check_boot_disk, client_driver,
                       clusters, create_vm, create_volume, datacenters,
                       delete_vm, delete_volume, driver_of, drivers,
                       get_cluster, get_datacenter, get_host, get_vm,
                       get_vms, hosts, inject_driver, convert_vm,
                       open_cbt,
                       plan_volumes, query_cluster_vm_summary,
                       get_thumbprint_vcenter, get_thumbprint_esxi,
                       query_snapshot_changes, snapshot_create,
                       snapshot_current, snapshot_delete, snapshot_get,
                       snapshot_list, snapshot_revert, start_vm, stop_vm,
                       vlans, vms, volumes, wait_task)
from .seed import create_client, destroy_client, sync
from .transfer import SyncStats, sync_extents
from .volume import Extent, Volume
from . import migrate

__all__ = [
    "CLIENT_FILE", "CLIENT_NBD", "CLIENT_QEMU", "CLIENT_VMWARE", "CLIENT_ELF",
    "CLIENT_XEN", "CLIENT_LIBVIRT", "ClientType", "SECTOR_SIZE",
    "create_client", "destroy_client", "sync",
    "Client", "CallbackClient", "sync_extents", "SyncStats",
    "Volume", "Extent", "Error", "migrate",
    "set_log_callback", "log_to_logging",
    "Platform", "POWER_STATES", "SNAPSHOT_MEMORY", "SNAPSHOT_EXTERNAL",
    "REVERT_FORCE", "STOP_FORCE",
    "vms", "get_vm", "get_vms", "datacenters", "get_datacenter", "clusters",
    "get_cluster", "hosts", "get_host", "vlans", "query_cluster_vm_summary",
    "snapshot_create", "snapshot_delete", "snapshot_list", "snapshot_get",
    "snapshot_current", "snapshot_revert", "wait_task",
    "query_snapshot_changes", "create_volume", "delete_volume", "volumes",
    "create_vm", "delete_vm", "start_vm", "stop_vm", "check_boot_disk",
    "inject_driver", "convert_vm", "open_cbt", "plan_volumes", "get_thumbprint_vcenter",
    "get_thumbprint_esxi",
    "Auth", "open_endpoint", "drivers", "driver_of", "client_driver",
    "Feature", "FEATURE_VMS", "FEATURE_SNAPSHOTS", "FEATURE_RAM_SNAPSHOTS",
    "FEATURE_CHANGED_BLOCKS", "FEATURE_READ_VOLUMES",
    "FEATURE_WRITE_VOLUMES", "FEATURE_CREATE_VMS", "FEATURE_TASKS",
    "FEATURE_BOOT_CHECK", "FEATURE_INJECT_DRIVERS", "FEATURE_LIST_VOLUMES",
    "FEATURE_LIFECYCLE", "FEATURE_CREATE_VOLUMES",
]
