"""Keeps Ctrl-C from striking inside a ctypes callback.

Python runs signal handlers in the main thread at the next bytecode it
executes. While the main thread waits in libferry, that is the entry of a
Python callback, before any try: KeyboardInterrupt would escape it, ctypes
would print it as unraisable and hand C an undefined return value. So while
libferry may call back into this thread, SIGINT's handler only takes note,
the progress callback cancels the copy on seeing the note, and the original
handler runs once the C call has returned.
"""
import signal
import threading
from types import FrameType
from typing import Any, Callable, Optional


class DeferredInterrupt:
    """A context manager: within it SIGINT sets `interrupted` (in the main
    thread, where Python handles signals, and only when the handler is a
    Python one); on leaving it the original handler runs for it."""

    def __init__(self) -> None:
        self.interrupted = False
        self._old: Optional[Callable[[int, Optional[FrameType]], Any]] = None

    def _note(self, _signum: int, _frame: Optional[FrameType]) -> None:
        self.interrupted = True

    def __enter__(self) -> "DeferredInterrupt":
        if threading.current_thread() is threading.main_thread():
            old = signal.getsignal(signal.SIGINT)
            if callable(old):
                self._old = old
                signal.signal(signal.SIGINT, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        old, self._old = self._old, None
        if old is not None:
            signal.signal(signal.SIGINT, old)
            if self.interrupted:
                old(signal.SIGINT, None)  # KeyboardInterrupt by default
