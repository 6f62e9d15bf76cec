"""ferry: VMs, snapshots and V2V migration with incremental block sync,
a ctypes binding of libferry.

The way in is the object layer, as in libvirt-python:

    with ferry.Platform("local:///var/lib/ferry") as p:
        vm = p.lookup_vm("web")           # a ferry.VM, by name or uuid
        vm.start()
        snap = vm.create_snapshot("before-upgrade")
        print([s.name for s in vm.snapshots()], vm.info["power_state"])
        snap.revert(force=True)

Platform opens a platform by URI (drivers() lists them; credentials are
arguments, never the environment); lookup_vm and list_vms give VM objects,
whose snapshots are Snapshot objects. Underneath, and kept as they were:
Platform's methods taking a VM's name (p.start_vm("web")) and functions
named after the C ones (vms, snapshot_create, ...), with standard objects
as dicts (VMRecord, SnapshotRecord, ...: their JSON); the seed's interface,
create_client, destroy_client, sync and CLIENT_*; Client, CallbackClient
(a Python object as a client), open_endpoint, sync_extents (the copy
engine with options and statistics) and Volume; the driver registry
(drivers, driver_of, client_driver, Feature and FEATURE_*); warm migration
in ferry.migrate; the trace (set_log_callback, log_to_logging). Failures
raise ferry.Error, an OSError with libferry's errno and message. The
package is typed (py.typed). docs/python.md is the guide.

libferry.so.0 is found through FERRY_LIB, then FERRY_BUILD (a meson build
directory), then the source tree's build/, then where make install put it
(ferry/_install.py, written at install), then the system.
"""
__version__ = "0.1.0"  # libferry's and the ferry command's
from ._capi import READ_GAP_NEVER, SECTOR_SIZE
from .client import (CLIENT_ELF, CLIENT_FILE, CLIENT_LIBVIRT, CLIENT_NBD,
                     CLIENT_QEMU, CLIENT_VMWARE, CLIENT_XEN, Auth,
                     CallbackClient, Client, ClientType, open_endpoint)
from .errors import Error
from .log import log_to_logging, set_log_callback
from .platform import (FEATURE_BOOT_CHECK, FEATURE_CHANGED_BLOCKS,
                       FEATURE_CREATE_VMS, FEATURE_CREATE_VOLUMES,
                       FEATURE_CHECKPOINT_ROUNDS,
                       FEATURE_INJECT_DRIVERS,
                       FEATURE_LIFECYCLE, FEATURE_LIST_VOLUMES,
                       FEATURE_RAM_SNAPSHOTS, FEATURE_READ_VOLUMES,
                       FEATURE_SNAPSHOTS, FEATURE_TASKS, FEATURE_VMS,
                       FEATURE_WRITE_VOLUMES, POWER_STATES, REVERT_FORCE,
                       SNAPSHOT_EXTERNAL, SNAPSHOT_MEMORY, STOP_FORCE,
                       ChangedAreas, ClusterRecord, DatacenterRecord,
                       DiskRecord, DriverInfo, HostRecord, NicRecord,
                       SnapshotRecord, SnapshotTree, VlanRecord, VMRecord,
                       VMSummary, VolumeRecord,
                       Feature, Platform, Snapshot, VM, check_boot_disk,
                       client_driver,
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
    "READ_GAP_NEVER",
    "create_client", "destroy_client", "sync",
    "Client", "CallbackClient", "sync_extents", "SyncStats",
    "Volume", "Extent", "Error", "migrate",
    "set_log_callback", "log_to_logging",
    "Platform", "VM", "Snapshot", "POWER_STATES", "SNAPSHOT_MEMORY", "SNAPSHOT_EXTERNAL",
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
    "FEATURE_LIFECYCLE", "FEATURE_CREATE_VOLUMES", "FEATURE_CHECKPOINT_ROUNDS",
    # the standard objects' dicts, named for type hints
    "VMRecord", "DiskRecord", "NicRecord", "SnapshotRecord", "VolumeRecord",
    "DatacenterRecord", "ClusterRecord", "HostRecord", "VlanRecord",
    "VMSummary", "ChangedAreas", "DriverInfo", "SnapshotTree",
]
