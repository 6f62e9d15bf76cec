#!/usr/bin/env python3
"""libvirt benchmark (not a test; bench/libvirt.sh runs it): an
incremental round of PCT% changed blocks on a SIZE disk (all data)
through libvirt's pull backup (a private libvirtd, TCG), side by side with
the same round on ferry's local qemu platform through its own bitmaps, each
against its bound 1.5 x changed bytes / the full copy's throughput in the
same run; and a round's fixed cost (backup begin, NBD connect, backup
end), from ferry's trace of a round with nothing changed. Prints a
Markdown table (also into bench/out/libvirt.md)."""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from libvirthelpers import Libvirtd, domain_xml, volume_xml  # noqa: E402
sys.path.insert(0, HERE)
from common import say  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
FERRY = os.path.join(ROOT, BUILD, "tools", "ferry", "ferry")
SIZE = int(subprocess.run(["numfmt", "--from=iec",
                           os.environ.get("LV_SIZE", "2G")],
                          capture_output=True, text=True,
                          check=True).stdout)
PCT = int(os.environ.get("LV_PCT", "5"))
MIB = 1 << 20
CHUNK = 256 * MIB  # qemu-io caps a request under 2 GiB


def ferry(*args, trace=False):
    """`ferry ARGS --json` (-v: its trace too): (journal, stderr, wall s)."""
    t0 = time.monotonic()
    cp = subprocess.run([FERRY, *args, "--json", *(["-v"] if trace else [])],
                        capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    if cp.returncode:
        sys.exit(f"ferry {' '.join(args)}: exit {cp.returncode}\n"
                 f"{cp.stderr[-3000:]}")
    return json.loads(cp.stdout), cp.stderr, wall


def fill(path):
    """Every byte of the image data (0x5a), before the VM starts."""
    cmds = []
    for off in range(0, SIZE, CHUNK):
        cmds += ["-c", f"write -P 0x5a {off} {min(CHUNK, SIZE - off)}"]
    subprocess.run(["qemu-io", "-f", "qcow2", *cmds, path], check=True,
                   capture_output=True)


def offsets():
    """PCT% of the disk's MiBs, at random (the same in both runs)."""
    n = SIZE // MIB * PCT // 100
    return random.Random(PCT).sample(range(SIZE // MIB), n)


def rounds(start_args, write, jdir, mid):
    """start (the full copy), PCT% written (write(offsets)), a round, a
    round with nothing written (traced): their numbers."""
    m, _, _ = ferry("migrate", *start_args, "--id", mid, "--journal-dir",
                    jdir)
    full = m["rounds"][0]
    write(offsets())
    m, _, wall = ferry("migrate", "sync", mid, "--journal-dir", jdir)
    inc = m["rounds"][1]
    m, trace, empty_wall = ferry("migrate", "sync", mid, "--journal-dir",
                                 jdir, trace=True)
    empty = m["rounds"][2]
    ferry("migrate", "abort", mid, "--journal-dir", jdir)
    throughput = full["changed_bytes"] / (full["millis"] / 1000)
    return {"full_bytes": full["changed_bytes"], "full_ms": full["millis"],
            "throughput": throughput, "bytes": inc["changed_bytes"],
            "round_s": inc["millis"] / 1000, "wall_s": wall,
            "bound_s": 1.5 * inc["changed_bytes"] / throughput,
            "empty_s": empty["millis"] / 1000, "empty_wall_s": empty_wall,
            "trace": trace}


def fixed_costs(trace):
    """The traced empty round's backup begin, NBD connects and end (ms)."""
    begin = re.findall(r"pull backup .* begun in (\d+) ms", trace)
    connect = [int(x) for x in
               re.findall(r"connected to nbd\+unix:\S+ in (\d+) ms", trace)]
    end = re.findall(r"backup job ended in (\d+) ms", trace)
    return (int(begin[0]) if begin else None, connect,
            int(end[0]) if end else None)


def libvirt_run(work):
    lv = Libvirtd()
    try:
        images = os.path.join(lv.dir, "images")
        lv.pool("bp", images)
        xml = os.path.join(lv.dir, "vol.xml")
        with open(xml, "w") as f:
            f.write(volume_xml("bv-vda.qcow2", SIZE // MIB))
        lv.virsh("vol-create", "bp", xml)
        fill(os.path.join(images, "bv-vda.qcow2"))
        lv.define("", domain_xml("bv", [("vda", "bp/bv-vda.qcow2",
                                         "qcow2")]))
        lv.virsh("start", "bv")

        def write(mibs):  # libvirt holds the monitor: one HMP call each
            for off in mibs:
                lv.virsh("qemu-monitor-command", "bv", "--hmp",
                         'qemu-io -d /machine/peripheral/virtio-disk0/'
                         f'virtio-backend "write -P 0x11 {off * MIB} 1M"')
        src = f"{lv.uri}&backup_dir={lv.dir}/bk"
        return rounds(["start", "--from", src, "--to",
                       f"local://{work}/lvdst", "bv"], write,
                      os.path.join(work, "jl"), "bl")
    finally:
        lv.close()


def local_run(work):
    a = f"local://{work}/a"
    subprocess.run([FERRY, "vm", "create", "bv", "--platform", a,
                    "--memory", "64", "--disk", str(SIZE)], check=True,
                   capture_output=True)
    fill(os.path.join(work, "a", "volumes", "bv-vda.qcow2"))
    subprocess.run([FERRY, "vm", "start", "bv", "--platform", a], check=True,
                   capture_output=True)
    try:
        uuid = json.loads(subprocess.run(
            [FERRY, "vm", "show", "bv", "--platform", a, "--json"],
            capture_output=True, text=True, check=True).stdout)["uuid"]
        qmp = os.path.join(work, "a", "run", uuid, "qmp.sock")

        def write(mibs):  # one QMP session
            subprocess.run(["python3", os.path.join(ROOT, "scripts",
                                                    "guest-write.py"), qmp],
                           input="".join(f"vda 0x11 {off * MIB} 1M\n"
                                         for off in mibs),
                           text=True, check=True)
        return rounds(["start", "--from", a, "--to", f"local://{work}/b",
                       "bv"], write, os.path.join(work, "jq"), "bq")
    finally:
        subprocess.run([FERRY, "vm", "stop", "bv", "--platform", a,
                        "--force"], capture_output=True)


def main():
    work = tempfile.mkdtemp(prefix="flv", dir="/tmp")
    try:
        say(f"libvirt: a {SIZE >> 20} MiB disk, {PCT}% changed")
        lvr = libvirt_run(work)
        say("local: the same")
        loc = local_run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for name, r in (("libvirt (pull backup, checkpoint bitmap)", lvr),
                    ("local qemu platform (ferry's bitmaps)", loc)):
        verdict = "PASS" if r["round_s"] <= r["bound_s"] else "MISS"
        rows.append(f"| {name} | {r['throughput'] / MIB:.0f} | "
                    f"{r['bytes'] >> 20} MiB | {r['round_s']:.3f} | "
                    f"{r['wall_s']:.3f} | {r['bound_s']:.3f} | {verdict} | "
                    f"{r['empty_s']:.3f} | {r['empty_wall_s']:.3f} |")
    begin, connect, end = fixed_costs(lvr["trace"])
    ratio = lvr["round_s"] / loc["round_s"] if loc["round_s"] else 0
    out = [f"## libvirt: an incremental round of {PCT}% of a "
           f"{SIZE >> 30 if SIZE >= 1 << 30 else SIZE >> 20}"
           f"{' GiB' if SIZE >= 1 << 30 else ' MiB'} disk", "",
           "| source | full copy (MiB/s) | changed | round (s) | "
           "`migrate sync` (s) | bound (s) | result | empty round (s) | "
           "empty `sync` (s) |",
           "|---|---:|---:|---:|---:|---:|---|---:|---:|", *rows, "",
           f"- the libvirt round takes {ratio:.2f}x the local one's time",
           f"- a libvirt round's fixed cost (traced, nothing changed): "
           f"backup begin {begin} ms, NBD connects "
           f"{', '.join(f'{c} ms' for c in connect)}, backup end {end} ms",
           "- round (s): the copy, as the journal times it; `migrate sync`: "
           "the whole command (connect, backup begin and end, journal)",
           "- bound: 1.5 x changed bytes / the same run's full-copy "
           "throughput; the VMs run under TCG, writes are 1 MiB at random"]
    text = "\n".join(out) + "\n"
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "out", "libvirt.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
