"""Clients: ones libferry connects (Client, open_endpoint) and Python
objects acting as one (CallbackClient), both usable wherever the C API
takes a client_t *; and credentials (Auth), which are always arguments:
nothing here reads a password from the environment."""
import ctypes
import enum
import errno
import os
from ctypes import byref, c_char_p, c_void_p
from typing import (Any, Callable, Dict, List, Optional, Protocol, Tuple,
                    TypeVar, Union)

from . import _capi
from .errors import check, check_pointer, last_error

# An Auth's ask: the driver's prompt -> the password (None: none given).
AskFn = Callable[[str], Union[str, bytes, bytearray, None]]
_H = TypeVar("_H", bound="_Handle")


class Reader(Protocol):
    """What a Python object needs to be a client to copy from: read
    returns `length` bytes of volume_id at offset (bytes or any buffer)."""

    def read(self, volume_id: str, length: int, offset: int, /) -> Any:
        """`length` bytes of volume_id at offset."""


class Writer(Protocol):
    """What a Python object needs to be a client to copy to: write stores
    data at offset of volume_id (its result is ignored)."""

    def write(self, volume_id: str, data: bytes, offset: int, /) -> object:
        """Stores data at offset of volume_id."""


# What the copy functions take as a client: one libferry made (Client,
# Platform.client), a CallbackClient, or an object they wrap in one.
DataClient = Union["_Handle", Reader, Writer]


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

    _ptr: Any = None  # the client_t *; None once closed

    @property
    def closed(self) -> bool:
        """Whether close() was called (or the client never opened)."""
        return self._ptr is None

    def pointer(self) -> Any:
        """The client_t * to pass to C."""
        if self._ptr is None:
            raise ValueError(f"{self!r} is closed")
        return self._ptr

    def close(self) -> None:
        """destroy_client(): flushes what was written through the client."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            check(_capi.destroy_client(ptr))

    def take_exception(self) -> Optional[BaseException]:
        """The exception a Python callback raised since the last call, or
        None; only a CallbackClient has callbacks."""
        return None

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pylint: disable=broad-except
            pass  # nobody to tell at collection time; close() reports


class Client(_Handle):
    """A client made by create_client() (or by ferry_platform_open_auth and
    ferry_endpoint_open: see Platform and open_endpoint). host is the file
    client's root directory or the NBD client's URI. The password goes to
    the C library, which copies it; this object keeps no reference to it."""

    # A client opened with an Auth whose ask is a Python callable keeps its
    # C callback here for the client's life.
    _keep: Optional["_Asker"] = None

    @classmethod
    def _adopt(cls, ptr: Any, host: _capi.CStr,
               keep: Optional["_Asker"] = None) -> "Client":
        """A Client owning ptr, a client_t * the library opened."""
        self = cls.__new__(cls)
        self._ptr = ptr
        self._keep = keep
        info = _capi.ferry_client_driver(ptr)
        name = info.contents.name.decode() if info else ""
        try:
            self.type = ClientType[name.upper()]
        except KeyError:
            self.type = name
        self.host = host
        return self

    def __init__(self, type: int, host: Optional[_capi.CStr], *,
                 major_version: Optional[str] = None,
                 minor_version: Optional[str] = None,
                 username: Optional[str] = None,
                 password: Optional[str] = None,
                 thumb_print: Optional[str] = None) -> None:
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
        # a ClientType (an int for the seed's CLIENT_* given as numbers);
        # the driver's name for one this enum does not list
        self.type: Union[ClientType, int, str] = type
        self.host: Optional[_capi.CStr] = host

    @classmethod
    def file(cls, root: _capi.CStr) -> "Client":
        """Raw files and block devices under the directory root."""
        return cls(ClientType.FILE, root)

    @classmethod
    def nbd(cls, uri: str) -> "Client":
        """An NBD server by URI; a volume id names an export ("" = the
        URI's)."""
        return cls(ClientType.NBD, uri)

    def __repr__(self) -> str:
        try:
            kind = ClientType(int(self.type)).name.lower()
        except (ValueError, TypeError):
            kind = str(self.type)
        state = " closed" if self.closed else ""
        return f"<ferry.Client {kind} {self.host!r}{state}>"


class _Bridge:
    """The C callbacks of a CallbackClient. A Python exception must not
    cross into C: it becomes a negative errno and is kept, so the caller can
    chain the resulting ferry.Error to it."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.exc: Optional[BaseException] = None

    def read(self, _client: Optional[int], volume_id: bytes, buf: int,
             length: int, offset: int) -> int:
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

    def write(self, _client: Optional[int], volume_id: bytes, buf: int,
              length: int, offset: int) -> int:
        try:
            self.obj.write(_volume_name(volume_id),
                           ctypes.string_at(buf, length), offset)
            return 0
        except BaseException as e:  # pylint: disable=broad-except
            return self._fail(e)

    def _fail(self, e: BaseException) -> int:
        if self.exc is None:  # the first one is the cause; the rest follow
            self.exc = e
        err = e.errno if isinstance(e, OSError) else None
        return -err if isinstance(err, int) and err > 0 else -errno.EIO

    def take(self) -> Optional[BaseException]:
        exc, self.exc = self.exc, None
        return exc


def _volume_name(raw: bytes) -> str:
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

    def __init__(self, obj: Union[Reader, Writer]) -> None:
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

    def take_exception(self) -> Optional[BaseException]:
        """The first exception obj's read or write raised since the last
        call (which made the call fail), or None; taking it clears it."""
        return self._bridge.take()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<ferry.CallbackClient {self.obj!r}{state}>"


def as_clients(*objs: DataClient) -> List["_Handle"]:
    """Each of objs as a _Handle: clients as they are, other objects wrapped
    in a CallbackClient. The same object twice gets one wrapper, so that
    ferry sees one client and can tell a volume is copied onto itself."""
    made: Dict[int, CallbackClient] = {}
    out: List[_Handle] = []
    for obj in objs:
        if isinstance(obj, _Handle):
            out.append(obj)
        else:
            if id(obj) not in made:
                made[id(obj)] = CallbackClient(obj)
            out.append(made[id(obj)])
    return out


def call(fn: Callable[..., int], *args: Any,
         clients: Tuple["_Handle", ...] = ()) -> int:
    """fn(*args) for a libferry function that may run the clients'
    callbacks; raises ferry.Error, chained to a callback's exception, when
    it returns a negative errno."""
    for c in clients:
        c.take_exception()  # a stale one from a call that succeeded anyway
    rc = fn(*args)
    causes = [c.take_exception() for c in clients]
    return check(rc, next((e for e in causes if e is not None), None))


# ---- credentials (struct ferry_auth) ----

class Auth:
    """Credentials for a driver (struct ferry_auth, as libvirt's
    virConnectAuth): the password itself, a file whose first line is it,
    or ask, a callable prompt -> password (str or bytes; None gives none)
    that the driver calls when, and only when, it needs a password and was
    given neither. username None: the URI's USER@. A driver that needs no
    password (qemu, file, nbd) ignores all of it.

    This object keeps what it was given, so that it can be given again (a
    migration's steps after its start each need the credentials: journals
    never hold them); its repr shows no password. The C library copies
    the password into memory no core dump holds, and the copy made for
    each call is wiped after it."""

    def __init__(self, password: Union[str, bytes, bytearray, None] = None,
                 *, password_file: Optional[_capi.CStr] = None,
                 username: Optional[str] = None,
                 ask: Optional[AskFn] = None) -> None:
        if ask is not None and not callable(ask):
            raise TypeError(f"ask must be callable, not "
                            f"{type(ask).__name__}")
        if password is not None and not isinstance(password,
                                                   (str, bytes, bytearray)):
            raise TypeError(f"a password is a str or bytes, not "
                            f"{type(password).__name__}")
        self.username = username
        self._password = password
        self.password_file = password_file
        self.ask = ask

    @classmethod
    def of(cls, username: Optional[str] = None,
           password: Union[str, bytes, bytearray, None] = None,
           password_file: Optional[_capi.CStr] = None,
           ask: Optional[AskFn] = None) -> Optional["Auth"]:
        """An Auth of these keyword arguments, None when all are None."""
        if username is None and password is None and \
                password_file is None and ask is None:
            return None
        return cls(password, password_file=password_file, username=username,
                   ask=ask)

    def __repr__(self) -> str:
        parts = []
        if self.username is not None:
            parts.append(f"username={self.username!r}")
        if self._password is not None:
            parts.append("password=<hidden>")
        if self.password_file is not None:
            parts.append(f"password_file={os.fspath(self.password_file)!r}")
        if self.ask is not None:
            parts.append(f"ask={self.ask!r}")
        return f"ferry.Auth({', '.join(parts)})"


def _secret_bytes(value: object, what: str) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    elif isinstance(value, (bytes, bytearray)):
        value = bytes(value)
    else:
        raise TypeError(f"{what} is a str or bytes, not "
                        f"{type(value).__name__}")
    if b"\0" in value:
        raise ValueError(f"{what} may not contain a NUL byte")
    return value


class _Asker:
    """An Auth's ask as a ferry_auth_fn. A Python exception must not cross
    into C: it becomes -EIO and is kept, so that the ferry.Error of the
    failed call is chained to it."""

    def __init__(self, ask: AskFn) -> None:
        self.ask = ask
        self.exc: Optional[BaseException] = None
        self.fn = _capi.AUTH_FN(self._call)

    def _call(self, _opaque: Optional[int], prompt: Optional[bytes], buf: int,
              length: int) -> int:
        try:
            answer = self.ask(prompt.decode("utf-8", "replace")
                              if prompt else "")
            if answer is None:
                return -errno.ECANCELED  # asked, and given none
            raw = _secret_bytes(answer, "the password ask returned")
            if len(raw) >= length:
                raise ValueError(f"the password ask returned is longer than "
                                 f"{length - 1} bytes")
            ctypes.memmove(buf, raw, len(raw))
            ctypes.memset(buf + len(raw), 0, 1)
            return 0
        except BaseException as e:  # pylint: disable=broad-except
            if self.exc is None:
                self.exc = e
            return -errno.EIO

    def take(self) -> Optional[BaseException]:
        exc, self.exc = self.exc, None
        return exc


class _CAuth:
    """An Auth (or None) as the struct ferry_auth of one call, a context
    manager: on exit the buffer holding the password is wiped. `asker` is
    the C callback of ask, which whoever keeps the client keeps too."""

    def __init__(self, auth: Optional[Auth]) -> None:
        if auth is not None and not isinstance(auth, Auth):
            raise TypeError(f"expected a ferry.Auth, not "
                            f"{type(auth).__name__}")
        self.struct: Optional[_capi.AuthT] = None
        self.asker: Optional[_Asker] = None
        self._buf: Optional[ctypes.Array[ctypes.c_char]] = None
        if auth is None:
            return
        password = None
        secret = auth._password  # pylint: disable=protected-access
        if secret is not None:
            self._buf = ctypes.create_string_buffer(
                _secret_bytes(secret, "a password"))
            password = ctypes.cast(self._buf, c_char_p)
        del secret
        if auth.ask is not None:
            self.asker = _Asker(auth.ask)
        self.struct = _capi.AuthT(
            _capi.to_c_string(auth.username), password,
            _capi.to_c_string(auth.password_file),
            self.asker.fn if self.asker else _capi.AUTH_FN(), None)

    def pointer(self) -> Any:
        """The const struct ferry_auth * (None: NULL)."""
        return None if self.struct is None else ctypes.pointer(self.struct)

    def take_exception(self) -> Optional[BaseException]:
        return self.asker.take() if self.asker else None

    def wipe(self) -> None:
        if self._buf is not None:
            ctypes.memset(self._buf, 0, len(self._buf))
            self._buf = None

    def __enter__(self) -> "_CAuth":
        return self

    def __exit__(self, *exc: object) -> None:
        self.wipe()


def open_endpoint(arg: _capi.CStr, auth: Optional[Auth] = None,
                  **credentials: Any) -> Tuple[Client, str]:
    """ferry_endpoint_open: a data endpoint, a path (relative ones from the
    current directory) or a URI naming one volume (file:///PATH,
    nbd://HOST/EXPORT, nbd+unix:///EXPORT?socket=PATH), as (Client,
    volume_id). Credentials: an Auth, or its keyword arguments (username,
    password, password_file, ask)."""
    if auth is not None and credentials:
        raise TypeError("give an Auth or its keyword arguments, not both")
    with _CAuth(auth if auth is not None else Auth.of(**credentials)) as ca:
        volume = c_void_p()
        ptr = _capi.ferry_endpoint_open(_capi.to_c_string(arg), ca.pointer(),
                                        byref(volume))
        check_pointer(ptr, ca.take_exception())
    try:
        volume_id = ctypes.string_at(volume.value).decode(
            "utf-8", "surrogateescape") if volume.value else ""
    finally:
        _capi.free(volume.value)
    return Client._adopt(ptr, os.fsdecode(arg), ca.asker), volume_id
