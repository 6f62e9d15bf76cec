"""The fake CloudTower's hypervisor: a VM's start runs qemu-system-x86_64
under TCG with its disks from their LUNs over iSCSI (qemu's iscsi
driver), on the buses the VM was made with, its NICs on user networking
(no traffic leaves the process), its serial console into a log the tests
read. Its iSCSI initiator name is its host's (ELF's nodes are in every
target's whitelist). Shutdown is ACPI through QMP; power-off kills it;
a snapshot pauses it (QMP stop) around the copies and resumes it (cont)."""
import json
import os
import signal
import socket
import subprocess
import time

BUS_DEVICE = {"VIRTIO": "virtio-blk-pci", "IDE": "ide-hd", "SCSI": "scsi-hd",
              "USB": "usb-storage"}
NIC_DEVICE = {"VIRTIO": "virtio-net-pci", "E1000": "e1000"}


class Running:
    def __init__(self, proc, qmp):
        self.proc, self.qmp = proc, qmp


def start(vm, disks, nics, portal, workdir, initiator):
    """Starts vm (a Vm object) with disks [(VmDisk, iqn, lun)] and its
    VmNics, logging in to iSCSI as initiator; returns what stop()
    needs."""
    run = os.path.join(workdir, "vms", vm["id"])
    os.makedirs(run, exist_ok=True)
    qmp = os.path.join(run, "qmp.sock")
    args = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m",
            str(max(vm["memory"] >> 20, 64)), "-smp", str(vm["vcpu"] or 1),
            "-display", "none", "-nodefaults", "-no-user-config",
            "-serial", f"file:{serial_log(workdir, vm)}",
            "-qmp", f"unix:{qmp},server=on,wait=off",
            "-iscsi", f"initiator-name={initiator}"]
    if vm["firmware"] == "UEFI":
        args += ["-bios", "/usr/share/ovmf/OVMF.fd"]
    scsi = False
    for i, (d, iqn, lun) in enumerate(sorted(disks,
                                             key=lambda x: x[0]["boot"])):
        node = f"disk{i}"
        args += ["-drive", f"file=iscsi://{portal}/{iqn}/{lun},format=raw,"
                 f"if=none,id={node},cache=none"]
        dev = BUS_DEVICE[d["bus"]]
        if d["bus"] == "SCSI" and not scsi:
            args += ["-device", "virtio-scsi-pci,id=scsi0"]
            scsi = True
        extra = ",bus=scsi0.0" if d["bus"] == "SCSI" else ""
        args += ["-device", f"{dev},drive={node},bootindex={i + 1}{extra}"]
    for i, n in enumerate(nics):
        args += ["-netdev", f"user,id=net{i},restrict=on", "-device",
                 f"{NIC_DEVICE.get(n.get('model') or 'VIRTIO')},"
                 f"netdev=net{i},mac={n['mac_address']}"]
    log = open(os.path.join(run, "qemu.log"), "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log.close()
    deadline = time.monotonic() + 30
    while not os.path.exists(qmp):
        if proc.poll() is not None or time.monotonic() > deadline:
            with open(os.path.join(run, "qemu.log")) as f:
                raise RuntimeError(f"qemu did not start: {f.read()[-500:]}")
        time.sleep(0.05)
    return Running(proc, qmp)


def serial_log(workdir, vm):
    return os.path.join(workdir, "vms", f"{vm['name']}.serial.log")


def qmp(path, command, timeout=10):
    """One QMP command to the qemu whose monitor is path: its answer (a
    RuntimeError for an error answer)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile("rw")
    f.readline()
    for c in ("qmp_capabilities", command):
        f.write(json.dumps({"execute": c}) + "\n")
        f.flush()
        while "event" in (ans := json.loads(f.readline())):
            pass
        if "error" in ans:
            raise RuntimeError(f"QMP {c}: {ans['error'].get('desc')}")
    s.close()
    return ans


def pause(r):
    """The guest stopped, its disks' requests drained (QMP stop)."""
    qmp(r.qmp, "stop")


def resume(r):
    qmp(r.qmp, "cont")


def shutdown(r, timeout):
    """ACPI power button, then waits: True when the guest powered off."""
    try:
        qmp(r.qmp, "system_powerdown")
    except OSError:
        pass
    try:
        r.proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def poweroff(r):
    if r.proc.poll() is None:
        os.killpg(r.proc.pid, signal.SIGKILL)
    r.proc.wait()


def alive(r):
    return r is not None and r.proc.poll() is None
