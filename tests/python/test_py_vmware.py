"""The Python binding against VMware's vSphere simulator: a vmware
Platform, the seed's thumbprint calls, a session that expires and is
logged in again, changed areas through query_snapshot_changes, and
credentials as arguments of a Platform and of every migration step."""
import os
import shutil
import sys
import tempfile
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


def test_credentials_are_arguments(tmp_path, monkeypatch):
    """A password, a password file or an ask callback; never the
    environment."""
    sim = Sim(tmp_path)
    try:
        monkeypatch.setenv("FERRY_VMWARE_PASSWORD", PASSWORD)
        with pytest.raises(ferry.Error) as e:
            ferry.Platform(sim.uri())
        assert e.value.errno == 22 and "no password for user@" in str(e.value)
        monkeypatch.delenv("FERRY_VMWARE_PASSWORD")

        with ferry.Platform(sim.uri(), password_file=sim.pwfile) as p:
            assert len(p.vms()) == 4
            assert p.driver["name"] == "vmware" and p.has("tasks")
            assert p.client.type == ferry.CLIENT_VMWARE

        prompts = []

        def ask(prompt):
            prompts.append(prompt)
            return PASSWORD

        with ferry.Platform(sim.uri(user="nobody"), username="user",
                            ask=ask) as p:
            assert len(p.vms()) == 4
            assert p.client._keep is not None  # the callback lives on
        assert prompts == [f"Password for user@{sim.host}: "]

        def broken(prompt):
            raise RuntimeError("no terminal")

        with pytest.raises(ferry.Error) as e:
            ferry.Platform(sim.uri(), ask=broken)
        assert e.value.errno == 5  # EIO
        assert isinstance(e.value.__cause__, RuntimeError)
        assert "the callback gave none" in str(e.value)

        with pytest.raises(ferry.Error) as e:
            ferry.Platform(sim.uri(), ask=lambda prompt: None)
        assert e.value.errno == 125  # ECANCELED: asked, given none

        with pytest.raises(ferry.Error) as e:
            ferry.Platform(sim.uri(), ask=lambda prompt: "x" * 5000)
        assert isinstance(e.value.__cause__, ValueError)

        with pytest.raises(ferry.Error) as e:
            ferry.Platform(sim.uri(), password="Not-The-Pa55")
        assert e.value.errno == 13 and "InvalidLogin" in str(e.value)
        assert "Not-The-Pa55" not in str(e.value)

        with pytest.raises(ferry.Error) as e:
            ferry.Platform(sim.uri(), password=PASSWORD,
                           password_file=sim.pwfile)
        assert "not both" in str(e.value)

        with ferry.Platform(sim.uri(thumbprint="none").split("?")[0],
                            password=PASSWORD,
                            options={"thumbprint": sim.thumbprint,
                                     "transport": "https"}) as p:
            assert len(p.vms()) == 4
    finally:
        sim.close()


def test_migration_steps_take_the_credentials_again(tmp_path):
    """Warm migration from the simulator to qemu: each step is given the
    source's credentials (an Auth: ask, then a file, then the password);
    the journal holds none, so a step without them is refused."""
    sim = Sim(tmp_path)
    top = tempfile.mkdtemp(prefix="fv-", dir="/tmp")
    try:
        dst, jdir = f"local://{top}/q", os.path.join(top, "j")
        asked = []
        ask = ferry.Auth(ask=lambda prompt: asked.append(prompt) or PASSWORD)
        net = ["dvportgroup-13=default"]
        with pytest.raises(ferry.Error) as e:
            ferry.migrate.plan(sim.uri(), dst, VM, net)
        assert "source: " in str(e.value) and "no password" in str(e.value)
        plan = ferry.migrate.plan(sim.uri(), dst, VM, net, source_auth=ask)
        assert plan["phase"] == "planned" and len(asked) == 1
        guest_write(sim.flat(VM), 1 * MiB, b"\x5a" * (64 * KiB))
        m = ferry.migrate.start(sim.uri(), dst, VM, net, id="m",
                                journal_dir=jdir, source_auth=ask)
        # asked again: the plan's answer was not kept (start opens the
        # source twice today, once to plan and once to copy, and asks each
        # time)
        assert m["phase"] == "warm" and len(asked) >= 2
        assert set(asked) == {f"Password for user@{sim.host}: "}
        for root, _, files in os.walk(jdir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    assert PASSWORD.encode() not in f.read()
        with pytest.raises(ferry.Error) as e:
            ferry.migrate.sync("m", jdir)
        assert "no password" in str(e.value)
        guest_write(sim.flat(VM), 3 * MiB, b"\xa5" * 4096)
        m = ferry.migrate.sync("m", jdir, source_auth=ferry.Auth(
            password_file=sim.pwfile))
        assert m["rounds"][-1]["changed_bytes"] == 64 * KiB
        with pytest.raises(TypeError, match="ferry.Auth"):
            ferry.migrate.cutover("m", jdir, source_auth=PASSWORD)
        m = ferry.migrate.cutover("m", jdir, stop_timeout=0,
                                  source_auth=ferry.Auth(PASSWORD))
        assert (m["phase"], m["verified"]) == ("done", True)
        assert ferry.migrate.status("m", jdir)["phase"] == "done"
    finally:
        sim.close()
        shutil.rmtree(top, ignore_errors=True)
