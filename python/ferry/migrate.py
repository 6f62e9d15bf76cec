"""Warm migration (migrate.h): each call runs one step and returns the
migration's journal as a dict (phase, rounds with their bytes, downtime,
verified, ...). journal_dir None means $FERRY_STATE_DIR/migrations.

Credentials are arguments: source_auth and destination_auth, each a
ferry.Auth (password, password_file, ask, username) or None for a platform
that needs none (qemu). Journals never hold them, so every step that
connects to the platforms (start, sync, cutover, resume, abort) takes them
again; plan takes them too, and status needs none:

    src = ferry.Auth(password_file="/run/secrets/vcenter")
    ferry.migrate.start("vmware://admin@vc?thumbprint=..", "local:///srv",
                        "web", ["VM Network=default"], id="web1",
                        source_auth=src)
    ferry.migrate.sync("web1", source_auth=src)
"""
import ctypes
from collections.abc import Mapping
from ctypes import c_char_p
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from . import _capi
from .client import Auth, _CAuth
from .errors import check
from .platform import _CArray

_MIGRATION = _capi.OBJECT_TYPES["migration"]

# A migration's journal (the standard object migration) as a dict.
MigrationRecord = Dict[str, Any]
# {source network: destination network}, or "SOURCE=DESTINATION" strings.
NetworkMap = Union["Mapping[str, str]", Iterable[str]]


def _s(value: Optional[_capi.CStr]) -> Optional[bytes]:
    return _capi.to_c_string(value)


class _Credentials:
    """Both sides' Auths as C structs for one call (a context manager that
    wipes them after it)."""

    def __init__(self, source_auth: Optional[Auth],
                 destination_auth: Optional[Auth]) -> None:
        self.sides = (_CAuth(source_auth), _CAuth(destination_auth))

    def spec_args(self) -> List[Any]:
        """The source_auth and destination_auth members of a spec."""
        return [side.pointer() for side in self.sides]

    def migrate_auth(self) -> Any:
        """A struct ferry_migrate_auth *, None when neither side has any."""
        src, dst = self.spec_args()
        if src is None and dst is None:
            return None
        return ctypes.pointer(_capi.MigrateAuthT(src, dst))

    def call(self, fn: Callable[..., int], *args: Any) -> MigrationRecord:
        """fn(*args, out) -> out as a dict, chained to an exception of an
        Auth's ask."""
        with _CArray(_MIGRATION, [{}]) as out:
            rc = fn(*args, out.ptr)
            causes = [side.take_exception() for side in self.sides]
            check(rc, next((e for e in causes if e is not None), None))
            return out.values()[0]

    def __enter__(self) -> "_Credentials":
        return self

    def __exit__(self, *exc: object) -> None:
        for side in self.sides:
            side.wipe()


def _spec(creds: _Credentials, source: str, destination: str, vm: str,
          network_map: NetworkMap, format: Optional[str],
          id: Optional[str]) -> Tuple[_capi.MigrateSpecT, Any]:
    # pylint: disable=redefined-builtin,too-many-arguments
    # {source: destination}, or "SOURCE=DESTINATION" strings as the CLI
    # takes them.
    if isinstance(network_map, Mapping):
        network_map = [f"{k}={v}" for k, v in network_map.items()]
    maps = [_s(m) for m in network_map]
    arr = (c_char_p * max(1, len(maps)))(*maps)
    spec = _capi.MigrateSpecT(_s(source), _s(destination), _s(vm), arr,
                              len(maps), _s(format), _s(id),
                              *creds.spec_args())
    return spec, arr  # arr must outlive the call


def _cutover(stop_timeout: int, start: bool, verify: bool, convert: bool,
             remove_vmware_tools: bool) -> _capi.CutoverOptsT:
    return _capi.CutoverOptsT(stop_timeout, start, not verify, not convert,
                              remove_vmware_tools)


def plan(source: str, destination: str, vm: str,
         network_map: NetworkMap = (), format: Optional[str] = None,
         id: Optional[str] = None, *, source_auth: Optional[Auth] = None,
         destination_auth: Optional[Auth] = None) -> MigrationRecord:
    """Checks a migration without touching anything (and without a
    journal): the VM, the network map, room and names at the
    destination."""
    # pylint: disable=redefined-builtin,too-many-arguments
    with _Credentials(source_auth, destination_auth) as creds:
        spec, _keep = _spec(creds, source, destination, vm, network_map,
                            format, id)
        return creds.call(_capi.ferry_migrate_plan, ctypes.byref(spec))


def start(source: str, destination: str, vm: str,
          network_map: NetworkMap = (), format: Optional[str] = None,
          id: Optional[str] = None, journal_dir: Optional[_capi.CStr] = None,
          *, source_auth: Optional[Auth] = None,
          destination_auth: Optional[Auth] = None) -> MigrationRecord:
    """Snapshot S1 and the full copy, while the VM keeps running."""
    # pylint: disable=redefined-builtin,too-many-arguments
    with _Credentials(source_auth, destination_auth) as creds:
        spec, _keep = _spec(creds, source, destination, vm, network_map,
                            format, id)
        return creds.call(_capi.ferry_migrate_start, ctypes.byref(spec),
                          _s(journal_dir), None)


def sync(id: str, journal_dir: Optional[_capi.CStr] = None,
         until: Optional[int] = None, max_rounds: Optional[int] = None, *,
         source_auth: Optional[Auth] = None,
         destination_auth: Optional[Auth] = None) -> MigrationRecord:
    """One incremental round; with until (bytes) and/or max_rounds, rounds
    until one copies less than `until` or the limit is reached."""
    # pylint: disable=redefined-builtin,too-many-arguments
    with _Credentials(source_auth, destination_auth) as creds:
        if until is None and max_rounds is None:
            return creds.call(_capi.ferry_migrate_sync, _s(journal_dir),
                              _s(id), creds.migrate_auth(), None)
        return creds.call(_capi.ferry_migrate_converge, _s(journal_dir),
                          _s(id), _capi.unsigned("until", until or 0),
                          _capi.unsigned("max_rounds", max_rounds or 0, 32),
                          creds.migrate_auth(), None)


def cutover(id: str, journal_dir: Optional[_capi.CStr] = None,
            start: bool = False, verify: bool = True, stop_timeout: int = 60,
            *, convert: bool = True, remove_vmware_tools: bool = False,
            source_auth: Optional[Auth] = None,
            destination_auth: Optional[Auth] = None) -> MigrationRecord:
    """Stops the source, copies the last delta, creates the destination VM
    (and starts it with start=True), verifies both sides' bytes. When the
    destination puts the VM on virtio, its guest is converted first
    (convert=False: not, for a guest with virtio drivers already)."""
    # pylint: disable=redefined-builtin,too-many-arguments
    # pylint: disable=redefined-outer-name
    opts = _cutover(stop_timeout, start, verify, convert,
                    remove_vmware_tools)
    with _Credentials(source_auth, destination_auth) as creds:
        return creds.call(_capi.ferry_migrate_cutover, _s(journal_dir),
                          _s(id), ctypes.byref(opts), creds.migrate_auth(),
                          None)


def resume(id: str, journal_dir: Optional[_capi.CStr] = None,
           start: bool = False, verify: bool = True, stop_timeout: int = 60,
           *, convert: bool = True, remove_vmware_tools: bool = False,
           source_auth: Optional[Auth] = None,
           destination_auth: Optional[Auth] = None) -> MigrationRecord:
    """Runs the step an interruption stopped again, to the same end."""
    # pylint: disable=redefined-builtin,too-many-arguments
    # pylint: disable=redefined-outer-name
    opts = _cutover(stop_timeout, start, verify, convert,
                    remove_vmware_tools)
    with _Credentials(source_auth, destination_auth) as creds:
        return creds.call(_capi.ferry_migrate_resume, _s(journal_dir),
                          _s(id), ctypes.byref(opts), creds.migrate_auth(),
                          None)


def status(id: str,
           journal_dir: Optional[_capi.CStr] = None) -> MigrationRecord:
    """The journal as it stands; connects to nothing."""
    # pylint: disable=redefined-builtin
    with _Credentials(None, None) as creds:
        return creds.call(_capi.ferry_migrate_status, _s(journal_dir),
                          _s(id))


def abort(id: str, journal_dir: Optional[_capi.CStr] = None, *,
          source_auth: Optional[Auth] = None,
          destination_auth: Optional[Auth] = None) -> MigrationRecord:
    """Removes every migration snapshot from the source and what was made
    at the destination."""
    # pylint: disable=redefined-builtin
    with _Credentials(source_auth, destination_auth) as creds:
        return creds.call(_capi.ferry_migrate_abort, _s(journal_dir),
                          _s(id), creds.migrate_auth())
