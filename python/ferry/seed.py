"""The seed's interface with its names and parameters: create_client,
destroy_client and sync (ferry_sync in C). Failures raise ferry.Error
rather than returning NULL or a negative errno."""
import ctypes
import operator
from typing import Optional, Sequence, Union

from . import _capi
from .client import CallbackClient, Client, DataClient, as_clients, call

_INT_MAX = 2**31 - 1


def create_client(type: int, major_version: Optional[str],
                  minor_version: Optional[str], host: Optional[_capi.CStr],
                  username: Optional[str], password: Optional[str],
                  thumb_print: Optional[str]) -> Client:
    """A connected client handle (a ferry.Client, also a context manager)."""
    # pylint: disable=redefined-builtin,too-many-arguments
    return Client(type, host, major_version=major_version,
                  minor_version=minor_version, username=username,
                  password=password, thumb_print=thumb_print)


def destroy_client(client: Union[Client, CallbackClient]) -> int:
    """Closes a client from create_client (or a CallbackClient); returns 0.
    Closing twice is harmless."""
    client.close()
    return 0


def _sector_array(values: Optional[Sequence[int]], length: int,
                  name: str) -> Optional["ctypes.Array[ctypes.c_uint64]"]:
    """values as a uint64_t[] of at least `length` entries: C reads that
    many, so a shorter list would be read past its end."""
    if values is None:
        return None
    ints = [_capi.unsigned(f"{name}[{i}]", v) for i, v in enumerate(values)]
    if len(ints) < length:
        raise ValueError(f"{name} has {len(ints)} entries but length is "
                         f"{length}")
    return (ctypes.c_uint64 * len(ints))(*ints)


def sync(src_client: DataClient, dest_client: DataClient,
         src_volume: _capi.CStr, dest_volume: _capi.CStr,
         start: Optional[Sequence[int]], sector: Optional[Sequence[int]],
         length: int) -> int:
    """Copies extents of src_volume to the same place in dest_volume.
    start[i] is the first 512-byte sector of extent i and sector[i] its
    count. length=0 with start=None and sector=None copies every allocated
    area (and zeroes the rest). Clients are handles from create_client,
    CallbackClients, or objects with read()/write(). Returns 0."""
    # pylint: disable=too-many-arguments
    length = operator.index(length)
    if not -_INT_MAX - 1 <= length <= _INT_MAX:
        raise ValueError(f"length {length} does not fit in a C int")
    src, dst = as_clients(src_client, dest_client)
    return call(_capi.ferry_sync, src.pointer(), dst.pointer(),
                _capi.to_c_string(src_volume),
                _capi.to_c_string(dest_volume),
                _sector_array(start, length, "start"),
                _sector_array(sector, length, "sector"), length,
                clients=(src, dst))
