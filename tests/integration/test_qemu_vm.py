"""The qemu platform's VMs against real qemu-system-x86_64 (TCG, SeaBIOS,
no guest OS): create, start, inventory, show, list, a qemu killed behind
ferry's back, delete."""

import os
import signal

from qemuhelpers import (DISK_SIZE, RAM_MIB, image_info, internal_snapshots,
                         is_qemu_of, pid_alive, qp, wait_until)  # noqa: F401


def test_two_disk_vm_inventory_show_list(qp):
    vm = qp.create_vm("web")
    assert vm["name"] == "web" and vm["power_state"] == "stopped"
    assert vm["uuid"] and vm["memory_mib"] == RAM_MIB
    assert [(d["device"], d["volume_id"], d["format"], d["capacity"])
            for d in vm["disks"]] == [
        ("vda", "web-vda.qcow2", "qcow2", DISK_SIZE),
        ("vdb", "web-vdb.qcow2", "qcow2", DISK_SIZE)]
    for img in qp.imgs("web"):
        info = image_info(img)
        assert info["format"] == "qcow2" and info["virtual-size"] == DISK_SIZE
    assert os.path.exists(os.path.join(qp.real, "vms", vm["uuid"] + ".json"))
    # stopped: listed, but not among the running ones
    assert [v["name"] for v in qp.json("vm", "list", "--state", "stopped")] \
        == ["web"]
    assert qp.json("vm", "list", "--state", "running") == []

    qp.ok("vm", "start", "web")
    pid = qp.pid(vm["uuid"])
    assert pid and is_qemu_of(pid, vm["uuid"]), "no qemu runs for the VM"
    run = qp.run_dir(vm["uuid"])
    for f in ("qmp.sock", "qmp-status.sock", "qemu.pid", "serial.log"):
        assert os.path.exists(os.path.join(run, f)), f"run/{f} is missing"
    refused = qp.refused("vm", "start", "web", needles=["running"])
    assert "web" in refused
    assert qp.pid(vm["uuid"]) == pid, "a second start replaced the qemu"

    inv = qp.json("inventory")
    for key in ("datacenters", "clusters", "hosts", "vms", "vlans",
                "summary"):
        assert key in inv, f"inventory lacks {key}: {sorted(inv)}"
    assert [d["id"] for d in inv["datacenters"]] == ["local"]
    assert [(c["id"], c["datacenter_id"]) for c in inv["clusters"]] == [
        ("local", "local")]
    (host,) = inv["hosts"]
    assert host["cluster_id"] == "local" and host["connected"] is True
    assert host["cpus"] >= 1 and host["memory_mib"] > 0
    (ivm,) = inv["vms"]
    assert (ivm["name"], ivm["uuid"], ivm["power_state"]) == (
        "web", vm["uuid"], "running")
    assert (ivm["host_id"], ivm["cluster_id"], ivm["datacenter_id"]) == (
        "local", "local", "local")
    assert [v["id"] for v in inv["vlans"]] == ["default"]
    s = inv["summary"]
    assert (s["total"], s["running"], s["stopped"], s["paused"]) == (1, 1, 0,
                                                                     0)
    assert (s["vcpus"], s["memory_mib"]) == (1, RAM_MIB)
    text = qp.ok("inventory")
    assert "web" in text and "running" in text and vm["uuid"] in text

    shown = qp.vm("web")
    assert shown["power_state"] == "running"
    assert [d["device"] for d in shown["disks"]] == ["vda", "vdb"]
    assert qp.vm(vm["uuid"])["name"] == "web", "vm show by uuid"
    text = qp.ok("vm", "show", "web")
    assert "running" in text and "web-vda.qcow2" in text \
        and "web-vdb.qcow2" in text

    running = qp.json("vm", "list", "--state", "running")
    assert [(v["name"], v["power_state"]) for v in running] == [
        ("web", "running")]
    assert qp.json("vm", "list", "--state", "stopped") == []
    assert "web" in qp.ok("vm", "list", "--state", "running")

    qp.ok("vm", "stop", "web", "--force")
    wait_until(lambda: not pid_alive(pid), what="qemu exits after stop")
    assert qp.state("web") == "stopped"
    assert qp.json("vm", "list", "--state", "running") == []


def test_networks_made_listed_and_deleted(qp):
    """ferry network: the default network until one is made; a tagged one
    for a VM's NIC; names taken, bad tags and a network a NIC is on are
    refused, and nothing changes."""
    assert [n["id"] for n in qp.json("network", "list")] == ["default"]
    assert qp.ok("network", "create", "lan9", "--vlan", "9", "--name",
                 "Lab 9") == "network 'lan9' created\n"
    nets = qp.json("network", "list")
    assert [(n["id"], n["name"], n["vlan_id"]) for n in nets] == [
        ("default", "default", -1), ("lan9", "Lab 9", 9)]
    assert "lan9                     Lab 9                    VLAN 9" in \
        qp.ok("network", "list")
    qp.refused("network", "create", "lan9", needles=["exists already"])
    qp.refused("network", "create", "x", "--vlan", "5000",
               needles=["--vlan", "1..4094"])
    qp.refused("network", "create", "../x", needles=["network id"])
    qp.create_vm("onlan", disks=1, extra=("--nic", "lan9"))
    qp.refused("network", "delete", "lan9",
               needles=["VM 'onlan' on it", "move or delete the VM"])
    qp.refused("network", "delete", "nosuch", needles=["no network 'nosuch'"])
    assert len(qp.json("network", "list")) == 2
    qp.ok("vm", "delete", "onlan")
    assert qp.ok("network", "delete", "lan9") == "network 'lan9' deleted\n"
    assert [n["id"] for n in qp.json("network", "list")] == ["default"]


def test_lifecycle_commands_say_what_happened(qp):
    """One line each, as virsh prints them; --json stays {"ok": true}."""
    qp.create_vm("say", disks=1)
    assert qp.ok("vm", "start", "say") == "VM 'say' started\n"
    assert qp.ok("vm", "resume", "say") == "VM 'say' runs\n"
    assert qp.ok("vm", "stop", "say", "--force") == "VM 'say' powered off\n"
    assert qp.json("vm", "start", "say")["ok"] is True
    # no guest to answer ACPI here: powered off after the timeout
    assert qp.ok("vm", "stop", "say", "--timeout", "1") == "VM 'say' stopped\n"
    assert qp.ok("vm", "delete", "say") == "VM 'say' deleted\n"


def test_stop_with_short_timeout_powers_off(qp):
    """SeaBIOS ignores the ACPI powerdown: after --timeout ferry powers the
    VM off itself."""
    qp.create_vm("t", disks=1)
    qp.start("t")
    pid = qp.pid(qp.uuid("t"))
    qp.ok("vm", "stop", "t", "--timeout", "1")
    assert qp.state("t") == "stopped"
    assert not pid_alive(pid)
    # stopping a stopped VM is fine
    qp.ok("vm", "stop", "t", "--force")


def test_killed_qemu_shows_stopped_and_restarts(qp):
    qp.create_vm("k")
    uuid = qp.uuid("k")
    qp.start("k")
    pid = qp.pid(uuid)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(pid), what="the killed qemu is gone")
    (v,) = qp.json("vm", "list")
    assert v["power_state"] == "stopped", v
    assert qp.json("vm", "list", "--state", "running") == []
    assert qp.json("inventory")["summary"]["running"] == 0
    # its pidfile and sockets are stale now; a start must not trip on them
    qp.start("k")
    pid2 = qp.pid(uuid)
    assert pid2 != pid and is_qemu_of(pid2, uuid)
    # and the new qemu serves its monitor
    with qp.qmp("k") as q:
        assert q.execute("query-status")["status"] == "running"
    qp.stop("k")


def test_vm_delete_refuses_running_then_keeps_volumes(qp):
    qp.create_vm("d")
    uuid = qp.uuid("d")
    qp.start("d")
    qp.ok("snapshot", "create", "d", "live1")
    qp.ok("snapshot", "create", "d", "live2", "--memory")
    snapdir = qp.snap_dir(uuid)
    assert os.path.exists(os.path.join(snapdir, "live2.mem"))

    qp.refused("vm", "delete", "d", needles=["running"])
    assert qp.state("d") == "running", "a refused delete stopped the VM"
    assert qp.snap_names("d") == ["live1", "live2"]
    assert os.path.exists(os.path.join(qp.real, "vms", uuid + ".json"))

    qp.stop("d")
    qp.ok("vm", "delete", "d")
    assert qp.vms() == []
    assert not os.path.exists(os.path.join(qp.real, "vms", uuid + ".json"))
    assert not os.path.exists(snapdir), (
        f"snapshot records stay after vm delete: {os.listdir(snapdir)}")
    assert not os.path.exists(qp.run_dir(uuid))
    for img in qp.imgs("d"):
        assert os.path.exists(img), f"vm delete removed {img}"
        # the images keep their internal snapshots (only the records go)
        assert internal_snapshots(img) == ["live1", "live2"]
    vols = [v["id"] for v in qp.json("volume", "list")]
    assert sorted(vols) == ["d-vda.qcow2", "d-vdb.qcow2"]
    qp.refused("vm", "show", "d", needles=["no VM 'd'"])
    # the kept volumes make a new VM
    qp.ok("vm", "create", "d2", "--memory", "64", "--disk", "d-vda.qcow2",
          "--disk", "d-vdb.qcow2")
    qp.start("d2")
    qp.stop("d2")


def test_vm_name_with_comma_starts(qp):
    """A name `vm create` accepts must make a VM that starts. qemu's option
    syntax needs a comma doubled (-name guest=a,,b)."""
    cp = qp.run("vm", "create", "a,b", "--memory", "64", "--disk", "16M")
    if cp.returncode != 0:  # refusing the name at create is fine too
        assert b"," in cp.stderr, cp.stderr
        return
    cp = qp.run("vm", "start", "a,b")
    assert cp.returncode == 0, (
        "`vm create a,b` succeeded but the VM cannot start: "
        f"{cp.stderr.decode(errors='replace')[-300:]}")
    assert qp.state("a,b") == "running"
    qp.stop("a,b")


def test_vmware_like_controllers_and_nics_are_honoured(qp):
    """A VM made the way VMware makes them: disks on pvscsi and LSI Logic
    SAS (qemu's mptsas1068) controllers and on SATA, a vmxnet3 NIC. qemu
    runs exactly those devices, the disks are named as the guest sees them,
    and a controller qemu does not have is refused with what to use."""
    v = qp.json("vm", "create", "vw", "--memory", "64",
                "--disk", "16M,bus=scsi,controller=pvscsi,boot=1",
                "--disk", "16M,bus=scsi,controller=lsisas1068",
                "--disk", "16M,bus=sata", "--disk", "16M",
                "--nic", "default,model=vmxnet3")
    assert [(d["device"], d["bus"], d.get("controller"))
            for d in v["disks"]] == [("sda", "scsi", "pvscsi"),
                                     ("sdb", "scsi", "lsisas1068"),
                                     ("sdc", "sata", None),
                                     ("vda", "virtio", None)]
    qp.start("vw")
    try:
        with qp.qmp("vw") as q:
            def qtype(path):
                return q.execute("qom-get", path=path, property="type")
            assert qtype("/machine/peripheral/pvscsi") == "pvscsi"
            assert qtype("/machine/peripheral/lsisas1068") == "mptsas1068"
            assert qtype("/machine/peripheral/sda") == "scsi-hd"
            assert qtype("/machine/peripheral/sdc") == "ide-hd"
            assert qtype("/machine/peripheral/vda") == "virtio-blk-pci"
            bus = q.execute("qom-get", path="/machine/peripheral/sdb",
                            property="parent_bus")
            assert "lsisas1068" in bus, bus
            nets = [p for p in q.execute("qom-list",
                                         path="/machine/peripheral-anon")
                    if p["type"].startswith("child<vmxnet3")]
            assert len(nets) == 1, nets
    finally:
        qp.stop("vw")
    qp.refused("vm", "create", "lsi", "--disk",
               "16M,bus=scsi,controller=lsilogic",
               needles=["no LSI Logic 53c1030", "lsisas1068"])
    qp.refused("vm", "create", "bad", "--disk",
               "16M,bus=virtio,controller=pvscsi",
               needles=["does not go with bus virtio"])


def test_sizes_take_every_unit(qp):
    """K M G T P in any case, KiB ... PiB, or bytes: powers of 1024; any
    other suffix is refused naming the size."""
    for size, want in (("4096", 4096), ("8K", 8 << 10), ("3m", 3 << 20),
                       ("2GiB", 2 << 30), ("1T", 1 << 40), ("1PiB", 1 << 50)):
        name = f"s{want}.qcow2"
        qp.ok("volume", "create", name, size)
        [v] = [v for v in qp.json("volume", "list") if v["id"] == name]
        assert v["capacity"] == want, (size, v)
    for bad in ("1X", "2Ki", "3KB", "1.5G", "G"):
        qp.refused("volume", "create", "bad.raw", bad,
                   needles=[f"not '{bad}'"])
