"""Warm migration (migrate.h): each call runs one step and returns the
migration's journal as a dict (phase, rounds with their bytes, downtime,
verified, ...). journal_dir None means $FERRY_STATE_DIR/migrations."""
from ctypes import c_char_p

from . import _capi
from .platform import _get_one

_MIGRATION = _capi.OBJECT_TYPES["migration"]


def _s(value):
    return _capi.to_c_string(value)


def _spec(source, destination, vm, network_map, format, id):
    maps = [_s(m) for m in network_map]
    arr = (c_char_p * max(1, len(maps)))(*maps)
    spec = _capi.MigrateSpecT(_s(source), _s(destination), _s(vm), arr,
                              len(maps), _s(format), _s(id))
    return spec, arr  # arr must outlive the call


def _cutover(stop_timeout, start, verify):
    return _capi.CutoverOptsT(stop_timeout, start, not verify)


def plan(source, destination, vm, network_map=(), format=None, id=None,
         journal_dir=None):
    """Checks a migration without touching anything."""
    spec, _keep = _spec(source, destination, vm, network_map, format, id)
    return _get_one(_MIGRATION, _capi.ferry_migrate_plan, spec,
                    _s(journal_dir))


def start(source, destination, vm, network_map=(), format=None, id=None,
          journal_dir=None):
    """Snapshot S1 and the full copy, while the VM keeps running."""
    spec, _keep = _spec(source, destination, vm, network_map, format, id)
    return _get_one(_MIGRATION, _capi.ferry_migrate_start, spec,
                    _s(journal_dir), None)


def sync(id, journal_dir=None, until=None, max_rounds=None):
    """One incremental round; with until (bytes) and/or max_rounds, rounds
    until one copies less than `until` or the limit is reached."""
    if until is None and max_rounds is None:
        return _get_one(_MIGRATION, _capi.ferry_migrate_sync, _s(journal_dir),
                        _s(id), None)
    return _get_one(_MIGRATION, _capi.ferry_migrate_converge, _s(journal_dir),
                    _s(id), until or 0, max_rounds or 0, None)


def cutover(id, journal_dir=None, start=False, verify=True, stop_timeout=60):
    opts = _cutover(stop_timeout, start, verify)
    return _get_one(_MIGRATION, _capi.ferry_migrate_cutover, _s(journal_dir),
                    _s(id), opts, None)


def resume(id, journal_dir=None, start=False, verify=True, stop_timeout=60):
    """Runs the step an interruption stopped again, to the same end."""
    opts = _cutover(stop_timeout, start, verify)
    return _get_one(_MIGRATION, _capi.ferry_migrate_resume, _s(journal_dir),
                    _s(id), opts, None)


def status(id, journal_dir=None):
    return _get_one(_MIGRATION, _capi.ferry_migrate_status, _s(journal_dir),
                    _s(id))


def abort(id, journal_dir=None):
    """Removes every migration snapshot from the source and what was made
    at the destination."""
    return _get_one(_MIGRATION, _capi.ferry_migrate_abort, _s(journal_dir),
                    _s(id))
