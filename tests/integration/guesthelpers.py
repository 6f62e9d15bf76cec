"""The test guest (tests/guest/build.sh) for the tests that boot it:
built once and cached under /var/cache/ferry-tests, imported as a volume
of a qemu platform, booted there while its serial console is watched for
the marker line its unit prints (or the initramfs giving up)."""
import os
import re
import shutil
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_SH = os.path.join(HERE, "..", "guest", "build.sh")
BOOT_S = 900  # a bound on a shared, loaded 2-core machine
# the whole line (its end arrived too): never a half-written net=vmx
MARKER = re.compile(r"FERRY-GUEST-BOOT-OK root=(\S+) kernel=(\S+) "
                    r"net=(\S+) vmtools=(yes|no)\r?\n")
GAVE_UP = "Gave up waiting for root"


def built(variant):
    """The cached guest of a variant, built when missing."""
    cp = subprocess.run(["bash", BUILD_SH, variant], capture_output=True,
                        text=True, timeout=3600)
    assert cp.returncode == 0, f"guest build failed:\n{cp.stderr[-3000:]}"
    path = cp.stdout.strip().splitlines()[-1]
    assert os.path.exists(path), path
    return path


@pytest.fixture(scope="session")
def guest_image():
    """The guest whose fstab and grub name the root by UUID."""
    return built("uuid")


def import_guest(qp, image, name):
    """The guest's disk as a volume of qp (a copy: the cache stays as it
    is)."""
    dst = os.path.join(qp.real, "volumes", name)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(image, dst)
    return name


def read_log(path):
    """A serial console's log so far ("" before it exists)."""
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def serial(qp, vm):
    if hasattr(qp, "serial"):  # a platform that says it itself
        return qp.serial(vm)
    return read_log(os.path.join(qp.run_dir(qp.vm(vm)["uuid"]),
                                 "serial.log"))


def watch(qp, vm, until):
    """Waits while the running vm prints, for one of the strings (or
    regexes) in until, or for it to power off, or BOOT_S; returns (what,
    serial output). The VM is left as it is."""
    deadline = time.monotonic() + BOOT_S
    while True:
        over = (qp.state(vm) == "stopped" or
                time.monotonic() > deadline)  # then one last look
        out = serial(qp, vm)
        for u in until:
            m = u.search(out) if hasattr(u, "search") else (u in out and u)
            if m:
                return m, out
        if over:
            return None, out
        time.sleep(1)


def boot(qp, vm, until):
    """Starts vm, watches it, and powers it off if it still runs."""
    qp.start(vm)
    try:
        return watch(qp, vm, until)
    finally:
        if qp.state(vm) != "stopped":
            qp.ok("vm", "stop", vm, "--force")


def booted(m, out, what):
    """The marker's (root, kernel, net, vmtools), or a failure saying what
    came."""
    assert m and not isinstance(m, str), (
        f"{what}: {m!r}, not the marker:\n{out[-2000:]}")
    return m.groups()
