"""Volume: one volume of a client opened through ferry_volume_open, with
positioned I/O and its allocation map."""
import ctypes
from typing import Any, Callable, List, NamedTuple, Optional

from . import _capi
from ._signals import DeferredInterrupt
from .client import DataClient, as_clients, call


class Extent(NamedTuple):
    """struct ferry_extent_info: bytes [offset, offset+length) and flags."""
    offset: int
    length: int
    flags: int

    @property
    def hole(self) -> bool:
        """The range is not allocated (FERRY_EXTENT_HOLE)."""
        return bool(self.flags & _capi.EXTENT_HOLE)

    @property
    def zero(self) -> bool:
        """The range reads as zeroes (FERRY_EXTENT_ZERO)."""
        return bool(self.flags & _capi.EXTENT_ZERO)


class Volume:
    """volume_id of client, read-only unless writable. client is a
    ferry.Client, a CallbackClient or an object with read()/write(); it is
    kept as long as the volume, which may point into it."""

    _handle: Optional[ctypes.c_void_p] = None  # None once closed

    def __init__(self, client: DataClient, volume_id: _capi.CStr,
                 writable: bool = False) -> None:
        (self._client,) = as_clients(client)
        handle = _capi.VOLUME_P()
        mode = _capi.OPEN_WRITE if writable else _capi.OPEN_READ
        self._call(_capi.ferry_volume_open, self._client.pointer(),
                   _capi.to_c_string(volume_id), mode, ctypes.byref(handle))
        self._handle = handle
        self.volume_id = volume_id
        self.writable = bool(writable)

    def _call(self, fn: Callable[..., int], *args: Any) -> int:
        with DeferredInterrupt():  # a CallbackClient runs Python in here
            return call(fn, *args, clients=(self._client,))

    def _h(self) -> ctypes.c_void_p:
        if self._handle is None:
            raise ValueError("the volume is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._handle is None

    @property
    def size(self) -> Optional[int]:
        """Size in bytes, or None when the backend cannot tell (a
        CallbackClient)."""
        size = _capi.ferry_volume_size(self._h())
        return None if size < 0 else size

    @property
    def name(self) -> str:
        """The name libferry uses in messages, e.g. the file's path."""
        return _capi.ferry_volume_name(self._h()).decode("utf-8", "replace")

    @property
    def format(self) -> Optional[str]:
        """How the data is stored: "raw", "qcow2", "vmdk" (an NBD export is
        "raw"); None when unknown (a CallbackClient)."""
        f = _capi.ferry_volume_format(self._h())
        return f.decode() if f else None

    @property
    def can_multi_conn(self) -> bool:
        """True when more connections to the volume may write and flush
        independently (NBD multi-conn, a file)."""
        return bool(_capi.ferry_volume_can_multi_conn(self._h()))

    def pread(self, length: int, offset: int = 0) -> bytes:
        """`length` bytes at offset (all of them, or ferry.Error)."""
        length = _capi.unsigned("length", length)
        buf = ctypes.create_string_buffer(length)
        self._call(_capi.ferry_volume_pread, self._h(), buf, length,
                   _capi.unsigned("offset", offset))
        return buf.raw

    def pwrite(self, data: _capi.Buffer, offset: int = 0) -> None:
        """Writes data (bytes or any buffer) at offset; the volume must be
        writable."""
        raw = bytes(data)
        self._call(_capi.ferry_volume_pwrite, self._h(), raw, len(raw),
                   _capi.unsigned("offset", offset))

    def zero(self, length: int, offset: int = 0) -> None:
        """Makes the range read as zeroes, as a hole where the backend can."""
        self._call(_capi.ferry_volume_zero, self._h(),
                   _capi.unsigned("length", length),
                   _capi.unsigned("offset", offset))

    def flush(self) -> None:
        """Makes what was written durable (or ferry.Error)."""
        self._call(_capi.ferry_volume_flush, self._h())

    def extents(self, offset: int = 0,
                length: Optional[int] = None) -> List[Extent]:
        """The allocation map of [offset, offset+length) as a list of
        Extent; length None means up to the end of the volume."""
        if length is None:
            size = self.size
            if size is None:
                raise ValueError("the volume's size is unknown: give length")
            length = size - offset
        out = ctypes.POINTER(_capi.ExtentInfoT)()
        n = ctypes.c_size_t()
        self._call(_capi.ferry_volume_extents, self._h(),
                   _capi.unsigned("offset", offset),
                   _capi.unsigned("length", length), ctypes.byref(out),
                   ctypes.byref(n))
        try:
            return [Extent(out[i].offset, out[i].length, out[i].flags)
                    for i in range(n.value)]
        finally:
            _capi.free(out)

    def close(self) -> None:
        """Closes the volume; closing twice is harmless."""
        handle, self._handle = self._handle, None
        if handle is not None:
            _capi.ferry_volume_close(handle)

    def __enter__(self) -> "Volume":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<ferry.Volume {self.volume_id!r}{state}>"
