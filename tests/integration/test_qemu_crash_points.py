"""Crash points, enumerated: a helper ferry runs (qemu-img) is killed just
before its 1st write, then its 2nd, ... (tests/killat: an LD_PRELOAD
library counting the helper's writes over all its threads), as it is when
ferry is killed (its helpers die with it). After each kill the same ferry
command runs again, unhindered, and the data must be what it was: no
state a kill can leave may lose a byte.

This found a real one: in its default write-back mode `qemu-img rebase`
writes the new backing file into the header before the L2 tables that map
the clusters it copied, so a kill between the two loses them (they read
from the new backing). ferry's offline delete rebases with write-through,
which maps every cluster before the header changes."""
import os

import pytest

from qemuhelpers import (CHUNK, expect_patterns, image_bytes, offline_write,
                         own_offset, qp, wrapped)  # noqa: F401

END = own_offset(0x55) + CHUNK
MAX_WRITES = 400  # a bound: the runs below need a few dozen


def active(qp, vm, dev):
    for d in qp.json("vm", "show", vm)["disks"]:
        if d["device"] == dev:
            return os.path.join(qp.real, "volumes", d["volume_id"])
    raise AssertionError(f"{vm} has no disk {dev}")


def write_both(qp, vm, pattern):
    for dev in ("vda", "vdb"):
        for off in (0, own_offset(pattern)):
            offline_write(active(qp, vm, dev), pattern, off)


def check_both(qp, vm, patterns, last, what):
    for dev in ("vda", "vdb"):
        expect_patterns(image_bytes(active(qp, vm, dev), length=END),
                        patterns, last, f"{what}: {vm} {dev}")


def test_offline_external_delete_survives_a_kill_at_every_write(qp, wrapped):
    """A stopped VM with two external snapshots, each layer holding its own
    pattern: deleting the newer one rebases the active overlay off its
    frozen image (qemu-img rebase). Killed before each of its writes in
    turn, then deleted again: the disks always read what they held."""
    kills = 0
    for n in range(1, MAX_WRITES):
        vm = f"v{n}"
        qp.create_vm(vm, extra=("--nic", "default"))
        write_both(qp, vm, 0x11)
        qp.ok("snapshot", "create", vm, "s1", "--external")
        write_both(qp, vm, 0x22)
        qp.ok("snapshot", "create", vm, "s2", "--external")
        write_both(qp, vm, 0x33)
        what = f"rebase killed before write {n}"
        wrapped("rebase", n)
        cp = qp.run("snapshot", "delete", vm, "s2")
        wrapped("rebase", None)
        killed = cp.returncode != 0
        if killed:
            kills += 1
            qp.ok("snapshot", "delete", vm, "s2")  # the same, again
        assert qp.snap_names(vm) == ["s1"], what
        check_both(qp, vm, [0x11, 0x22, 0x33], 0x33, what)
        qp.ok("snapshot", "delete", vm, "s1")
        check_both(qp, vm, [0x11, 0x22, 0x33], 0x33, f"{what}, s1 gone")
        qp.ok("vm", "delete", vm)
        if not killed:  # n is past the last write: every point was tried
            break
    else:
        pytest.fail(f"the rebase wrote more than {MAX_WRITES} times")
    assert kills >= 4, f"only {kills} kill points: the library did not act"
