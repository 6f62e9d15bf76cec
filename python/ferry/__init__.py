"""ferry: VM block sync, a ctypes binding of libferry.

The seed's interface: create_client, destroy_client, sync and CLIENT_*.
On top of it: Client (a context manager), CallbackClient (a Python object
as a client), sync_extents (the copy engine with options and statistics)
and Volume. Failures raise ferry.Error, an OSError with libferry's message.

libferry.so.0 is found through FERRY_LIB, then FERRY_BUILD (a meson build
directory), then the source tree's build/, then the system.
"""
from ._capi import SECTOR_SIZE
from .client import (CLIENT_ELF, CLIENT_FILE, CLIENT_LIBVIRT, CLIENT_NBD,
                     CLIENT_QEMU, CLIENT_VMWARE, CLIENT_XEN, CallbackClient,
                     Client, ClientType)
from .errors import Error
from .seed import create_client, destroy_client, sync
from .transfer import SyncStats, sync_extents
from .volume import Extent, Volume

__all__ = [
    "CLIENT_FILE", "CLIENT_NBD", "CLIENT_QEMU", "CLIENT_VMWARE", "CLIENT_ELF",
    "CLIENT_XEN", "CLIENT_LIBVIRT", "ClientType", "SECTOR_SIZE",
    "create_client", "destroy_client", "sync",
    "Client", "CallbackClient", "sync_extents", "SyncStats",
    "Volume", "Extent", "Error",
]
