"""Clients: ones libferry connects (Client, open_endpoint) and Python
objects acting as one (CallbackClient), both usable wherever the C API
takes a client_t *; and credentials (Auth), which are always arguments:
nothing here reads a password from the environment."""
import ctypes
import enum
import errno
import os
from ctypes import byref, c_char_p, c_void_p

from . import _capi
from .errors import check, check_pointer, last_error


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
    """A client made by create_client() (or by ferry_platform_open_auth and
    ferry_endpoint_open: see Platform and open_endpoint). host is the file
    client's root directory or the NBD client's URI. The password goes to
    the C library, which copies it; this object keeps no reference to it."""

    # A client opened with an Auth whose ask is a Python callable keeps its
    # C callback here for the client's life.
    _keep = None

    @classmethod
    def _adopt(cls, ptr, host, keep=None):
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
        except (ValueError, TypeError):
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

    def __init__(self, password=None, *, password_file=None, username=None,
                 ask=None):
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
    def of(cls, username=None, password=None, password_file=None, ask=None):
        """An Auth of these keyword arguments, None when all are None."""
        if username is None and password is None and \
                password_file is None and ask is None:
            return None
        return cls(password, password_file=password_file, username=username,
                   ask=ask)

    def __repr__(self):
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


def _secret_bytes(value, what):
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

    def __init__(self, ask):
        self.ask = ask
        self.exc = None
        self.fn = _capi.AUTH_FN(self._call)

    def _call(self, _opaque, prompt, buf, length):
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

    def take(self):
        exc, self.exc = self.exc, None
        return exc


class _CAuth:
    """An Auth (or None) as the struct ferry_auth of one call, a context
    manager: on exit the buffer holding the password is wiped. `asker` is
    the C callback of ask, which whoever keeps the client keeps too."""

    def __init__(self, auth):
        if auth is not None and not isinstance(auth, Auth):
            raise TypeError(f"expected a ferry.Auth, not "
                            f"{type(auth).__name__}")
        self.struct = None
        self.asker = None
        self._buf = None
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

    def pointer(self):
        """The const struct ferry_auth * (None: NULL)."""
        return None if self.struct is None else ctypes.pointer(self.struct)

    def take_exception(self):
        return self.asker.take() if self.asker else None

    def wipe(self):
        if self._buf is not None:
            ctypes.memset(self._buf, 0, len(self._buf))
            self._buf = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.wipe()


def open_endpoint(arg, auth=None, **credentials):
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
