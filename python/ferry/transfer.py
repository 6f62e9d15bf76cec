"""sync_extents(): the copy engine (ferry_sync_ex) with its options,
progress reporting and statistics."""
import ctypes
import dataclasses
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from . import _capi
from ._signals import DeferredInterrupt
from .client import DataClient, as_clients, call
from .errors import Error

SECTOR = _capi.SECTOR_SIZE

# (start_sector, sector_count): an extent in 512-byte sectors.
SectorExtent = Tuple[int, int]
# progress(done, total) and phase_progress(phase, done, total), in bytes;
# a truthy result cancels the copy.
ProgressFn = Callable[[int, int], object]
PhaseProgressFn = Callable[[str, int, int], object]


@dataclasses.dataclass(frozen=True)
class SyncStats:
    """struct ferry_sync_stats, same fields in the same order."""
    total_bytes: int     # bytes in the copy plan
    copied_bytes: int    # read from the source and written
    zeroed_bytes: int    # written as zeroes/holes at the destination
    skipped_bytes: int   # zero at the source and already zero at dest
    verified_bytes: int
    retries: int         # transient errors recovered
    workers: int
    requests: int
    request_size: int
    seconds: float
    wrote: bool          # a write or zero reached the destination
    started: bool        # the copy began: a failure after it is no bad input
    memory: int          # the buffers' budget
    buffer_bytes: int    # the most of it in use


class _Progress:
    """The C progress callback around a Python one (or none). An exception
    cannot go through C: it is kept, the copy is cancelled, and sync_extents
    raises it once ferry_sync_ex has returned. Installed even without a
    Python callback, so that Ctrl-C cancels the copy."""

    def __init__(self, fn: Optional[Callable[..., object]],
                 interrupt: DeferredInterrupt) -> None:
        self.fn = fn
        self.interrupt = interrupt
        self.exc: Optional[BaseException] = None

    def __call__(self, _opaque: Optional[int], done: int, total: int) -> int:
        return self.tell(done, total)

    def tell(self, *args: Any) -> int:
        """The Python callback with args; 1 (cancel) when it asks or
        raised, or on Ctrl-C."""
        if self.exc is not None or self.interrupt.interrupted:
            return 1
        try:
            return 1 if self.fn is not None and self.fn(*args) else 0
        except BaseException as e:  # pylint: disable=broad-except
            self.exc = e
            return 1


class _PhaseProgress(_Progress):
    """The same for phase_progress(phase, done, total)."""

    def __call__(  # type: ignore[override]  # the C signature differs
            self, _opaque: Optional[int], phase: bytes, done: int,
            total: int) -> int:
        return self.tell(phase.decode(), done, total)


def _byte_extents(
        extents: Iterable[SectorExtent]
) -> Tuple[Optional["ctypes.Array[_capi.ExtentT]"], int]:
    """(start_sector, count) pairs as a struct ferry_extent[]. A zero count
    or a range past a volume's end is left to the C checks, whose messages
    say which extent is wrong."""
    out = []
    for i, (start, count) in enumerate(extents):
        # 55 bits: times 512, a sector number still fits in 64.
        out.append(_capi.ExtentT(
            _capi.unsigned(f"extent {i} start", start, 55) * SECTOR,
            _capi.unsigned(f"extent {i} count", count, 55) * SECTOR))
    return (_capi.ExtentT * len(out))(*out) if out else None, len(out)


def _options(extents: Optional[Iterable[SectorExtent]], read_all: bool,
             verify: bool, zero_detect: bool,
             counts: Dict[str, int]) -> _capi.SyncOptsT:
    # ferry_sync_opts_init is an inline of the header: done here
    opts = _capi.SyncOptsT(struct_size=ctypes.sizeof(_capi.SyncOptsT),
                           mode=_capi.SYNC_EXTENTS)
    if extents is not None and read_all:
        raise ValueError("read_all copies the whole volume: give no extents "
                         "with it")
    if extents is not None:
        opts.mode = _capi.SYNC_EXTENTS
    else:
        opts.mode = _capi.SYNC_ALL if read_all else _capi.SYNC_ALLOCATED
    opts.verify = bool(verify)
    opts.no_zero_detect = not zero_detect
    field_types = dict(_capi.SyncOptsT._fields_)
    for name, value in counts.items():  # each as wide as its C field
        bits = ctypes.sizeof(field_types[name]) * 8
        setattr(opts, name, _capi.unsigned(name, value, bits))
    return opts


def sync_extents(src: DataClient, dst: DataClient, src_volume: _capi.CStr,
                 dst_volume: _capi.CStr,
                 extents: Optional[Iterable[SectorExtent]] = None, *,
                 verify: bool = False,
                 progress: Optional[ProgressFn] = None,
                 request_size: int = 0, workers: int = 0, requests: int = 0,
                 retries: int = 0, retry_delay_ms: int = 0, memory: int = 0,
                 read_gap: int = 0,
                 zero_detect: bool = True, read_all: bool = False,
                 phase_progress: Optional[PhaseProgressFn] = None
                 ) -> SyncStats:
    """Copies src_volume of src to dst_volume of dst and returns SyncStats.

    extents: [(start_sector, sector_count), ...] in 512-byte sectors, or
    None for every allocated area of the source (the rest is zeroed at the
    destination; read_all=True reads every byte instead).
    progress(done, total) is called about ten times a second from this
    thread; a truthy result cancels the copy (ferry.Error, ECANCELED), an
    exception cancels it and is raised here. Ctrl-C (SIGINT) cancels the
    copy too, and raises KeyboardInterrupt once it has stopped.
    phase_progress(phase, done, total), instead of progress, says which
    pass it reports on: "copy", then "verify" for verify's read-back; each
    pass ends with one call where done == total.
    request_size, workers, requests, retries, retry_delay_ms, memory (the
    most the buffers take, in bytes), read_gap (a gap between extents up to
    this long is read with them; READ_GAP_NEVER: never): 0 means the
    library's default. zero_detect=False writes zero blocks as data.
    Clients are ferry.Client, CallbackClient or objects with read()/write().
    """
    # pylint: disable=too-many-arguments,too-many-locals
    src_c, dst_c = as_clients(src, dst)
    opts = _options(extents, read_all, verify, zero_detect,
                    {"request_size": request_size, "workers": workers,
                     "requests": requests, "retries": retries,
                     "retry_delay_ms": retry_delay_ms, "memory": memory,
                     "read_gap": read_gap})
    array, count = _byte_extents(extents or ())
    stats = _capi.SyncStatsT()
    failure: Optional[Error] = None
    watcher: _Progress
    with DeferredInterrupt() as interrupt:  # Ctrl-C cancels, then raises
        if phase_progress is not None and progress is not None:
            raise ValueError("give progress or phase_progress, not both")
        if phase_progress is not None:
            watcher = _PhaseProgress(phase_progress, interrupt)
            c_progress = _capi.PHASE_PROGRESS_FN(watcher)  # alive until return
            opts.phase_progress = c_progress
        else:
            watcher = _Progress(progress, interrupt)
            c_progress = _capi.PROGRESS_FN(watcher)  # alive until we return
            opts.progress = c_progress
        try:
            call(_capi.ferry_sync_ex, src_c.pointer(), dst_c.pointer(),
                 _capi.to_c_string(src_volume),
                 _capi.to_c_string(dst_volume), array, count,
                 ctypes.byref(opts), ctypes.byref(stats),
                 clients=(src_c, dst_c))
        except Error as e:
            failure = e
    if watcher.exc is not None:
        raise watcher.exc  # rather than the ECANCELED it caused
    if failure is not None:
        raise failure
    return SyncStats(*(getattr(stats, name)
                       for name, _ in _capi.SyncStatsT._fields_))
