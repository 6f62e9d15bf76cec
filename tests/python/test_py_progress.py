"""The progress callback of sync_extents: called, cancelling, raising."""
import errno
import random
import signal
import threading

import pytest

import ferry
from pyferry_util import MiB, MemDisk, SlowDisk

REQUEST = 4096
REQUESTS = 40  # 40 reads of 10 ms: the copy lasts about 0.4 s


def slow_copy(progress):
    """Copies from a SlowDisk; returns the source, the destination and
    what sync_extents returned or raised."""
    src = SlowDisk(disk=random.Random(40).randbytes(REQUEST * REQUESTS))
    dst = MemDisk()
    try:
        result = ferry.sync_extents(src, dst, "disk", "disk",
                                    [(0, REQUEST * REQUESTS // 512)],
                                    progress=progress, request_size=REQUEST)
    except Exception as e:  # pylint: disable=broad-except
        result = e
    return src, dst, result


def stopped_at_once(src, dst, done):
    """The copy stopped right after the callback that was told `done`
    bytes: a request or two in flight may finish, not the next 100 ms of
    them (ten requests)."""
    return len(src.reads) < REQUESTS and len(dst.writes) <= done // REQUEST + 4


def test_progress_is_called():
    calls = []
    src, dst, stats = slow_copy(lambda done, total: calls.append((done,
                                                                  total)))
    assert isinstance(stats, ferry.SyncStats)
    assert dst.volumes["disk"] == src.volumes["disk"]
    total = REQUEST * REQUESTS
    assert len(calls) >= 2
    assert calls[0][0] < total  # called during the copy
    assert calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    # the end once (a stalled copy is asked again, to let it cancel)
    assert calls.count((total, total)) == 1, calls


def test_progress_on_a_fast_copy(tmp_path):
    rng = random.Random(41)
    (tmp_path / "a").write_bytes(rng.randbytes(MiB))
    (tmp_path / "b").write_bytes(bytes(MiB))
    calls = []
    with ferry.Client.file(tmp_path) as c:
        stats = ferry.sync_extents(c, c, "a", "b", [(0, 2048)],
                                   progress=lambda *a: calls.append(a))
    assert calls[-1] == (stats.total_bytes, stats.total_bytes) == (MiB, MiB)
    # a worker's end wakes the reporter too: still the end once only (it
    # was said six times for a small copy)
    assert calls.count((MiB, MiB)) == 1, calls


def test_phase_progress_names_the_copy_and_the_verify_pass():
    src = SlowDisk(disk=random.Random(42).randbytes(REQUEST * REQUESTS))
    dst = MemDisk()
    calls = []
    ferry.sync_extents(src, dst, "disk", "disk",
                       [(0, REQUEST * REQUESTS // 512)], verify=True,
                       request_size=REQUEST,
                       phase_progress=lambda *a: calls.append(a))
    total = REQUEST * REQUESTS
    phases = [p for p, _, _ in calls]
    assert phases == sorted(phases, key=["copy", "verify"].index), phases
    for phase in ("copy", "verify"):
        mine = [(d, t) for p, d, t in calls if p == phase]
        assert mine[-1] == (total, total), (phase, calls)
        assert mine.count((total, total)) == 1, (phase, calls)
        assert any(d < total for d, _ in mine), (phase, "no intermediate")
    with pytest.raises(ValueError):
        ferry.sync_extents(src, dst, "disk", "disk", progress=print,
                           phase_progress=print)


def test_progress_cancels():
    calls = []

    def cancel(done, total):
        calls.append(done)
        return True

    src, dst, err = slow_copy(cancel)
    assert isinstance(err, ferry.Error)
    assert err.errno == errno.ECANCELED
    assert "cancelled by the progress callback" in err.message
    assert 1 <= len(calls) <= 2 and calls[0] < REQUEST * REQUESTS
    assert stopped_at_once(src, dst, calls[0])


class Stop(Exception):
    pass


def test_exception_in_progress_propagates():
    calls = []

    def explode(done, total):
        calls.append(done)
        raise Stop(f"at {done} of {total}")

    src, dst, err = slow_copy(explode)
    assert isinstance(err, Stop)  # itself, not the ECANCELED it caused
    assert len(calls) == 1  # not called again once it raised
    assert str(err) == f"at {calls[0]} of {REQUEST * REQUESTS}"
    assert stopped_at_once(src, dst, calls[0])


def test_exception_in_final_progress_call(tmp_path):
    (tmp_path / "a").write_bytes(bytes(range(256)) * 256)
    (tmp_path / "b").write_bytes(bytes(65536))

    def at_the_end(done, total):
        if done == total:
            raise Stop("done")

    with ferry.Client.file(tmp_path) as c, pytest.raises(Stop):
        ferry.sync_extents(c, c, "a", "b", [(0, 128)], progress=at_the_end)


def interrupted_copy(progress):
    """slow_copy with SIGINT arriving 50 ms in; its handler raises Stop (a
    KeyboardInterrupt would stop pytest if something went wrong)."""
    def handler(signum, frame):
        raise Stop("SIGINT")

    old = signal.signal(signal.SIGINT, handler)
    timer = threading.Timer(0.05, signal.pthread_kill,
                            (threading.main_thread().ident, signal.SIGINT))
    try:
        timer.start()
        result = slow_copy(progress)
        timer.join()
    finally:
        signal.signal(signal.SIGINT, old)
    return result


# A handler raising inside the ctypes callback would show as unraisable.
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("with_progress", [False, True])
def test_ctrl_c_cancels_then_raises(with_progress):
    calls = []
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN under nohup/&
    src, dst, err = interrupted_copy(
        (lambda done, total: calls.append(done)) if with_progress else None)
    assert isinstance(err, Stop) and str(err) == "SIGINT"
    assert len(src.reads) < REQUESTS
    assert len(dst.writes) < REQUESTS
    assert signal.getsignal(signal.SIGINT) is before
    assert all(done < REQUEST * REQUESTS for done in calls)
