"""ferry.Error: a failed libferry call, with the library's own message."""
import errno
import os
from typing import NoReturn, Optional, TypeVar

from . import _capi

_P = TypeVar("_P")


class Error(OSError):
    """A libferry failure. errno is ferry_last_errno(); strerror (and
    str()) carry ferry_last_error(), which says which volume, extent or
    offset failed."""

    @property
    def message(self) -> str:
        """libferry's message (strerror): what failed and where."""
        return self.strerror


def last_error(rc: int = 0) -> Error:
    """The calling thread's last libferry error as an Error. Read it right
    after the failed call: any other ferry call in the thread replaces it."""
    raw = _capi.ferry_last_error()
    err = _capi.ferry_last_errno() or (-rc if rc < 0 else errno.EIO)
    message = raw.decode("utf-8", "replace") if raw else os.strerror(err)
    return Error(err, message)


def check(rc: int, cause: Optional[BaseException] = None) -> int:
    """Returns rc when it is not negative, else raises the last error.
    cause is an exception a Python callback raised during the call: the
    Error is chained to it, or it is re-raised itself when it is not an
    Exception (KeyboardInterrupt, SystemExit are not ours to wrap)."""
    if rc >= 0:
        return rc
    raise_error(last_error(rc), cause)


def check_pointer(ptr: _P, cause: Optional[BaseException] = None) -> _P:
    """As check() for a function that returns NULL on failure."""
    if ptr:
        return ptr
    raise_error(last_error(), cause)


def raise_error(err: Error,
                cause: Optional[BaseException] = None) -> NoReturn:
    """Raises err chained to cause (see check)."""
    if cause is None:
        raise err
    if not isinstance(cause, Exception):
        raise cause
    raise err from cause
