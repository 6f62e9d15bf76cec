"""The Python binding against VMware's vSphere simulator: a vmware
Platform, the seed's thumbprint calls, a session that expires and is
logged in again, and changed areas through query_snapshot_changes."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

import ferry  # noqa: E402
from vspherehelpers import PASSWORD, Sim, guest_write, login, soap  # noqa

VM = "DC0_H0_VM0"
KiB, MiB = 1 << 10, 1 << 20


def platform(sim):
    return ferry.Platform(sim.uri(), type=ferry.CLIENT_VMWARE,
                          password=PASSWORD)


def test_thumbprint_calls(tmp_path):
    sim = Sim(tmp_path)
    try:
        assert ferry.get_thumbprint_vcenter(sim.host) == sim.thumbprint
        with pytest.raises(ferry.Error) as e:
            ferry.get_thumbprint_esxi(sim.host)
        assert "not an ESXi host" in str(e.value)
    finally:
        sim.close()


def test_expired_session_is_logged_in_again(tmp_path):
    sim = Sim(tmp_path, "-session-idle-timeout", "1s")
    try:
        raw = login(sim)
        with platform(sim) as p:
            assert len(p.vms()) == 4
            time.sleep(3)  # the simulator drops idle sessions
            # a session idle that long is gone: the server says so ...
            st, body, _ = soap(sim, "TerminateSession", "SessionManager",
                               "SessionManager", "<sessionId>x</sessionId>",
                               cookie=raw)
            assert "NotAuthenticated" in body, body
            # ... and ferry logs in again, once, and goes on
            assert len(p.vms()) == 4
    finally:
        sim.close()


def test_changed_areas_between_snapshots(tmp_path):
    sim = Sim(tmp_path)
    try:
        with platform(sim) as p:
            disk = sim.flat(VM)
            guest_write(disk, 1 * MiB, b"\xab" * (256 * KiB))
            p.open_cbt(VM)
            p.snapshot_create(VM, "a")
            every = p.snapshot_changes(VM, "sda", "*", "a")
            assert [(x["start"], x["length"]) for x in every["areas"]] == [
                (1 * MiB, 256 * KiB)]
            for off in (3 * MiB, 3 * MiB + 64 * KiB, 9 * MiB + 100):
                guest_write(disk, off, b"\xcd" * 10)
            p.snapshot_create(VM, "b")
            ch = p.snapshot_changes(VM, "sda", "a", "b")
            assert [(x["start"], x["length"]) for x in ch["areas"]] == [
                (3 * MiB, 128 * KiB), (9 * MiB, 64 * KiB)]
            # S(a) dropped: its changeId still answers (CBT lives with the
            # disk), as vSphere does
            p.snapshot_delete(VM, "a")
            with pytest.raises(ferry.Error) as e:
                p.snapshot_changes(VM, "sda", "a", "b")
            assert e.value.errno == 2  # the snapshot is gone: ENOENT
            p.snapshot_delete(VM, "b")
    finally:
        sim.close()
