"""Clients: ones libferry connects (Client) and Python objects acting as one
(CallbackClient), both usable wherever the C API takes a client_t *."""
import ctypes
import enum
import errno

from . import _capi
from .errors import check, last_error


class ClientType(enum.IntEnum):
    """enum client_type (ferry.h)."""
    FILE = 0
    NBD = 1
    QEMU = 2
    VMWARE = 3
    ELF = 4
    XEN = 5
    LIBVIRT = 6


# The seed's names.
CLIENT_FILE = ClientType.FILE
CLIENT_NBD = ClientType.NBD
CLIENT_QEMU = ClientType.QEMU
CLIENT_VMWARE = ClientType.VMWARE
CLIENT_ELF = ClientType.ELF
CLIENT_XEN = ClientType.XEN
CLIENT_LIBVIRT = ClientType.LIBVIRT


class _Handle:
    """Owns a client_t *: closes once, and is a context manager."""

    _ptr = None

    @property
    def closed(self):
        return self._ptr is None

    def pointer(self):
        """The client_t * to pass to C."""
        if self._ptr is None:
            raise ValueError(f"{self!r} is closed")
        return self._ptr

    def close(self):
        """destroy_client(): flushes what was written through the client."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            check(_capi.destroy_client(ptr))

    def take_exception(self):
        """The exception a Python callback raised since the last call, or
        None; only a CallbackClient has callbacks."""
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pylint: disable=broad-except
            pass  # nobody to tell at collection time; close() reports


class Client(_Handle):
    """A client made by create_client(). host is the file client's root
    directory or the NBD client's URI. The password goes to the C library,
    which copies it; this object keeps no reference to it."""

    def __init__(self, type, host, *, major_version=None,
                 minor_version=None, username=None, password=None,
                 thumb_print=None):
        # pylint: disable=redefined-builtin,too-many-arguments
        ptr = _capi.create_client(
            _capi.unsigned("type", type, 31),
            _capi.to_c_string(major_version),
            _capi.to_c_string(minor_version), _capi.to_c_string(host),
            _capi.to_c_string(username), _capi.to_c_string(password),
            _capi.to_c_string(thumb_print))
        if not ptr:
            raise last_error()
        self._ptr = ptr
        self.type = type
        self.host = host

    @classmethod
    def file(cls, root):
        """Raw files and block devices under the directory root."""
        return cls(ClientType.FILE, root)

    @classmethod
    def nbd(cls, uri):
        """An NBD server by URI; a volume id names an export ("" = the
        URI's)."""
        return cls(ClientType.NBD, uri)

    def __repr__(self):
        try:
            kind = ClientType(self.type).name.lower()
        except ValueError:
            kind = str(self.type)
        state = " closed" if self.closed else ""
        return f"<ferry.Client {kind} {self.host!r}{state}>"


class _Bridge:
    """The C callbacks of a CallbackClient. A Python exception must not
    cross into C: it becomes a negative errno and is kept, so the caller can
    chain the resulting ferry.Error to it."""

    def __init__(self, obj):
        self.obj = obj
        self.exc = None

    def read(self, _client, volume_id, buf, length, offset):
        try:
            data = memoryview(self.obj.read(_volume_name(volume_id), length,
                                            offset)).cast("B")
            if data.nbytes != length:
                raise OSError(errno.EIO, f"read returned {data.nbytes} "
                              f"bytes instead of {length}")
            dest = (ctypes.c_char * length).from_address(buf)
            memoryview(dest).cast("B")[:] = data
            return 0
        except BaseException as e:  # pylint: disable=broad-except
            return self._fail(e)

    def write(self, _client, volume_id, buf, length, offset):
        try:
            self.obj.write(_volume_name(volume_id),
                           ctypes.string_at(buf, length), offset)
            return 0
        except BaseException as e:  # pylint: disable=broad-except
            return self._fail(e)

    def _fail(self, e):
        if self.exc is None:  # the first one is the cause; the rest follow
            self.exc = e
        err = e.errno if isinstance(e, OSError) else None
        return -err if isinstance(err, int) and err > 0 else -errno.EIO

    def take(self):
        exc, self.exc = self.exc, None
        return exc


def _volume_name(raw):
    return raw.decode("utf-8", "surrogateescape")


class CallbackClient(_Handle):
    """A Python object as a client: obj.read(volume_id, length, offset)
    returns `length` bytes, obj.write(volume_id, data, offset) stores them.
    Either may be missing for a client used one way only. Exceptions become
    errors of the copy (their errno if they are OSErrors, else EIO, which
    the engine retries as transient). During a copy the methods are called
    from a libferry worker thread, one call at a time.

    ferry knows nothing of such a volume's size or allocation: copy from it
    with an explicit extent list."""

    def __init__(self, obj):
        has = [callable(getattr(obj, m, None)) for m in ("read", "write")]
        if not any(has):
            raise TypeError(f"{obj!r} has neither read() nor write()")
        self.obj = obj
        self._bridge = _Bridge(obj)
        # The CFUNCTYPE objects must live as long as the client_t that
        # points to them, so both stay with this object, even after close():
        # a Volume opened on it (which keeps this object) still uses them.
        self._callbacks = tuple(
            _capi.IO_FN(getattr(self._bridge, m)) if h else _capi.IO_FN()
            for m, h in zip(("read", "write"), has))
        self._struct = _capi.ClientT(None, *self._callbacks, _capi.CLOSE_FN())
        self._ptr = ctypes.pointer(self._struct)

    def take_exception(self):
        return self._bridge.take()

    def __repr__(self):
        state = " closed" if self.closed else ""
        return f"<ferry.CallbackClient {self.obj!r}{state}>"


def as_clients(*objs):
    """Each of objs as a _Handle: clients as they are, other objects wrapped
    in a CallbackClient. The same object twice gets one wrapper, so that
    ferry sees one client and can tell a volume is copied onto itself."""
    made = {}
    out = []
    for obj in objs:
        if isinstance(obj, _Handle):
            out.append(obj)
        else:
            if id(obj) not in made:
                made[id(obj)] = CallbackClient(obj)
            out.append(made[id(obj)])
    return out


def call(fn, *args, clients=()):
    """fn(*args) for a libferry function that may run the clients'
    callbacks; raises ferry.Error, chained to a callback's exception, when
    it returns a negative errno."""
    for c in clients:
        c.take_exception()  # a stale one from a call that succeeded anyway
    rc = fn(*args)
    causes = [c.take_exception() for c in clients]
    return check(rc, next((e for e in causes if e is not None), None))
