"""The trace of what libferry does, a line at a time: each QMP command,
vSphere SOAP call, helper process, copy and migration round, as `ferry -v`
prints it. Lines never hold a password. Without a callback, FERRY_DEBUG=1
in the environment writes the trace to stderr.

    ferry.set_log_callback(lambda topic, message: print(topic, message))
    ferry.log_to_logging()   # or: to the "ferry" logger, at DEBUG
"""
import logging
from typing import Callable, Optional

from . import _capi

LogCallback = Callable[[str, str], None]

# The ctypes callback libferry holds: it must live as long as it is set.
_installed: Optional[object] = None


def set_log_callback(callback: Optional[LogCallback]) -> None:
    """Routes the trace to callback(topic, message), from whichever thread
    is working (calls are serialized); None stops it. An exception the
    callback raises is reported with logging and does not reach libferry.
    Topics: "qmp", "soap", "child", "nbd", "sync", "round"."""
    global _installed  # pylint: disable=global-statement
    if callback is None:
        _capi.ferry_set_log_callback(_capi.LOG_FN(), None)
        _installed = None
        return
    sink: LogCallback = callback  # not None, also inside trampoline

    def trampoline(_opaque: Optional[int], topic: bytes,
                   message: bytes) -> None:
        try:
            sink(topic.decode(errors="replace"),
                 message.decode(errors="replace"))
        except Exception:  # pylint: disable=broad-except
            logging.getLogger("ferry").exception("ferry log callback failed")
    fn = _capi.LOG_FN(trampoline)
    _capi.ferry_set_log_callback(fn, None)
    _installed = fn


def log_to_logging(logger: Optional[logging.Logger] = None) -> None:
    """Sends the trace to logger (default: logging.getLogger("ferry")) at
    DEBUG level, as "TOPIC: MESSAGE"."""
    target = logger or logging.getLogger("ferry")
    set_log_callback(lambda topic, message:
                     target.debug("%s: %s", topic, message))
