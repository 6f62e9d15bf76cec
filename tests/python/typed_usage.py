"""A caller of the ferry package written with type hints. test_py_typing
has mypy check it against the package's hints (each annotated variable
says what a call must return) and runs it on a local platform, so that it
stays real code."""
import os
from typing import Dict, List, Optional

import ferry


def objects(p: ferry.Platform) -> Dict[str, object]:
    """The object layer: a VM, its snapshots, a revert."""
    record: ferry.VMRecord = p.create_vm("typed", memory_mib=64,
                                         disks=["1M"])
    vm: ferry.VM = p.lookup_vm("typed")
    stopped: List[ferry.VM] = p.list_vms(state="stopped")
    uuid: Optional[str] = vm.uuid
    first: ferry.Snapshot = vm.create_snapshot("first", description="typed")
    parent: Optional[str] = first.parent
    current: Optional[ferry.Snapshot] = vm.current_snapshot()
    tree: ferry.SnapshotTree = vm.snapshot_tree()
    first.revert()
    snapshots: List[ferry.Snapshot] = vm.snapshots()
    first.delete()
    return {"id": record["id"], "stopped": [v.name for v in stopped],
            "uuid": uuid, "parent": parent,
            "current": current.name if current else None, "tree": tree,
            "snapshots": [s.name for s in snapshots],
            "state": vm.power_state}


def data(p: ferry.Platform) -> Dict[str, object]:
    """Volumes, the seed's sync and the copy engine."""
    src: ferry.VolumeRecord = p.create_volume("src.raw", "1M", format="raw")
    p.create_volume("dst.raw", 1 << 20, format="raw")
    with ferry.Volume(p.client, "src.raw", writable=True) as v:
        v.pwrite(b"typed" * 100, 4096)
        size: Optional[int] = v.size
        extents: List[ferry.Extent] = v.extents()
    files = ferry.create_client(ferry.CLIENT_FILE, None, None,
                                os.path.dirname(src["path"]), None, None,
                                None)
    rc: int = ferry.sync(files, files, "src.raw", "dst.raw", [8], [1], 1)
    ferry.destroy_client(files)
    phases: List[str] = []
    stats: ferry.SyncStats = ferry.sync_extents(
        p.client, p.client, "src.raw", "dst.raw", verify=True,
        phase_progress=lambda phase, done, total: phases.append(phase))
    with ferry.Volume(p.client, "dst.raw") as v:
        copied: bytes = v.pread(500, 4096)
    return {"size": size, "holes": [e.hole for e in extents], "rc": rc,
            "copied": copied, "verified": stats.verified_bytes,
            "phases": sorted(set(phases))}


def errors(p: ferry.Platform) -> int:
    """ferry.Error is an OSError with libferry's errno and message."""
    try:
        p.lookup_vm("ghost")
    except ferry.Error as e:
        message: str = e.message
        assert "ghost" in message
        return e.errno
    return 0


def main(state_dir: str) -> Dict[str, object]:
    """Every part above on the local platform in state_dir."""
    lines: List[str] = []
    ferry.set_log_callback(lambda topic, message: lines.append(topic))
    try:
        with ferry.Platform(f"local://{state_dir}") as p:
            has: bool = p.has(ferry.FEATURE_SNAPSHOTS) and p.has("vms")
            out = {"objects": objects(p), "data": data(p),
                   "errno": errors(p), "has": has}
    finally:
        ferry.set_log_callback(None)
    out["traced"] = bool(lines)
    return out
