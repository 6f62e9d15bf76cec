"""kill -9 of ferry (the process alone, as a crash leaves it: its helpers
get no signal from the test) at random moments of every migration step,
then `ferry migrate resume` at once, until TRIALS kills per step (a moment
drawn after the step ended is a trial, not a kill). Every trial must end
with the destination identical to the source under `qemu-img compare`,
and with no ferry process and no helper (qemu-nbd, qemu-img) left running.

The kill moments are drawn from a seed that every failure message and the
summary name (set FERRY_KILL_SEED to replay a run), uniformly over the time
an uninterrupted run of the same step took on this machine, so that every
kill point of the step gets its chance whatever the machine's speed. Set
FERRY_KILL_TRIALS to run more kills per step; FERRY_KILL_LOG names a file
the summaries (where the kills landed) are appended to."""

import json
import os
import random
import subprocess
import time


from ferryhelpers import FERRY, EXIT_OK
from qemuhelpers import (  # noqa: F401
    assert_definition_is_what_qemu_writes, image_bytes, image_info,
    kill_after, pid_alive, tool, two)

TRIALS = int(os.environ.get("FERRY_KILL_TRIALS", "20"))
SEED = int(os.environ.get("FERRY_KILL_SEED", str(int(time.time()))))


def migrate(jdir, *args, expect=EXIT_OK):
    """Runs a step; a failure names the seed, to replay the run."""
    cp = subprocess.run([FERRY, "migrate", *args, "--journal-dir", jdir,
                         "--json"], capture_output=True, timeout=300)
    assert cp.returncode == expect, (
        f"FERRY_KILL_SEED={SEED}: ferry migrate {' '.join(args)}: exit "
        f"{cp.returncode}\n"
        f"{cp.stdout.decode(errors='replace')}"
        f"{cp.stderr.decode(errors='replace')}")
    return json.loads(cp.stdout) if cp.stdout.strip() else None


def start_args(a, b, mid):
    return ["start", "--from", a.uri, "--to", b.uri, "web",
            "--network-map", "default=default", "--id", mid]


def timed(jdir, args):
    t0 = time.monotonic()
    migrate(jdir, *args)
    return time.monotonic() - t0


def kill_at(jdir, args, delay):
    """`ferry migrate ARGS`, killed alone after delay seconds."""
    return kill_after([FERRY, "migrate", *args, "--journal-dir", jdir], delay)


def kill_point(jdir, mid, a):
    """Where a kill left the migration, from its journal and the source:
    the kill points the trials reached, for the summary."""
    path = os.path.join(jdir, f"{mid}.json")
    if not os.path.exists(path):
        return "before the journal"
    with open(path) as f:
        m = json.load(f)
    ph, rounds = m["phase"], m["rounds"]
    snaps = set(a.snap_names("web"))
    last = rounds[-1] if rounds else None
    if ph in ("planned", "copying"):
        if not m.get("volumes_made"):
            return f"{ph}: before the destination volumes"
        if not last:
            return f"{ph}: volumes made, no round"
        if last["snapshot"] not in snaps:
            return f"{ph}: round 1 begun, its snapshot not (fully) taken"
        return f"{ph}: S1 taken, full copy {'done' if last['done'] else 'under way'}"
    if ph == "warm":
        if last["done"] and len(rounds) > 1 and rounds[-2]["snapshot"] in snaps:
            return "warm: round done, the previous snapshot not yet dropped"
        if last["done"]:
            return "warm: between rounds"
        if last["snapshot"] not in snaps:
            return "warm: round begun, its snapshot not (fully) taken"
        return "warm: snapshot taken, copy under way"
    if ph == "cutover":
        if m.get("cleaning"):
            return "cutover: destination ready, removing snapshots"
        if m.get("dst_vm_uuid"):
            return "cutover: destination VM made, before its start"
        if m.get("creating_vm"):
            return "cutover: creating the destination VM"
        if m.get("verified"):
            return "cutover: verified, before the destination VM"
        if last and last["final"] and last["done"]:
            return "cutover: final round copied, verifying"
        if last and last["final"]:
            return f"cutover: final round {'copied' if last['done'] else 'under way'}"
        return "cutover: stopping the source"
    return ph


def summary(step, points):
    counts = {}
    for p in points:
        counts[p] = counts.get(p, 0) + 1
    kills = sum(1 for p in points if p != "after the end")
    lines = [f"{step}: {kills} kills in {len(points)} trials, seed "
             f"{SEED}"] + [
        f"  {n:3d}  {p}" for p, n in sorted(counts.items())]
    text = "\n".join(lines)
    print("\n" + text)
    log = os.environ.get("FERRY_KILL_LOG")
    if log:
        with open(log, "a") as f:
            f.write(text + "\n")


def helpers_of(*roots):
    """Live qemu-nbd/qemu-img processes (and ferry ones) that name a path
    under one of roots."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or not pid_alive(int(pid)):
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        prog = os.path.basename(argv[0]).decode(errors="replace")
        if prog not in ("qemu-nbd", "qemu-img", "ferry"):
            continue
        line = b" ".join(argv).decode(errors="replace")
        if any(r in line for r in roots):
            out.append(f"{pid}: {line}")
    return out


def assert_no_helpers(a, b, jdir, what):
    what = f"FERRY_KILL_SEED={SEED}: {what}"
    roots = (a.real, a.link, b.real, b.link, jdir)
    deadline = time.monotonic() + 5  # SIGKILL is quick, exiting not always
    while helpers_of(*roots) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = helpers_of(*roots)
    assert not left, f"{what}: left running: {left}"


def volumes(p, vm="web"):
    vols = os.path.join(p.real, "volumes")
    return {d["device"]: os.path.join(vols, d["volume_id"])
            for d in p.json("vm", "show", vm)["disks"]}


def chain_of(img):
    """What a failure needs to be understood: each layer of img's chain
    and the first bytes it reads at offset 0."""
    cp = tool("qemu-img", "info", "-U", "--backing-chain", "--output=json",
              img, check=False)
    layers = json.loads(cp.stdout) if cp.returncode == 0 else []
    return [(os.path.basename(li["filename"]),
             os.path.basename(li.get("backing-filename", "")),
             [b["name"] for b in li.get("format-specific", {})
              .get("data", {}).get("bitmaps", [])])
            for li in layers]


def compare(x, y, what):
    what = f"FERRY_KILL_SEED={SEED}: {what}"
    cp = tool("qemu-img", "compare", "-U", x, y, check=False)
    assert cp.returncode == 0, (
        f"{what}: {os.path.basename(x)} and {os.path.basename(y)} differ: "
        f"{cp.stdout.decode()} {cp.stderr.decode()}; at 0: "
        f"{image_bytes(x, length=4)!r} vs {image_bytes(y, length=4)!r}; "
        f"chains {chain_of(x)} and {chain_of(y)}")


def frozen_under_active(p, vm="web"):
    """{device: image} of the layer under each active overlay: the last
    migration snapshot's point-in-time data."""
    out = {}
    for dev, img in volumes(p, vm).items():
        b = image_info(img).get("backing-filename")
        assert b, f"{dev}: {img} has no backing file (no snapshot?)"
        out[dev] = os.path.join(os.path.dirname(img), os.path.basename(b))
    return out


def dst_volumes(b, m):
    vols = os.path.join(b.real, "volumes")
    return {d["device"]: os.path.join(vols, d["dst_volume"])
            for d in m["disks"]}


def assert_warm_copy(a, b, m, what):
    """The destination volumes hold the last round's snapshot exactly."""
    assert m["phase"] == "warm", (what, m["phase"], m.get("error"))
    src = frozen_under_active(a)
    for dev, img in dst_volumes(b, m).items():
        compare(src[dev], img, f"{what} {dev}")


def assert_cut_over(a, b, what):
    assert a.state("web") == "stopped", what
    src, dst = volumes(a), volumes(b)
    assert sorted(src) == sorted(dst) == ["vda", "vdb"], what
    for dev in src:
        compare(src[dev], dst[dev], f"{what} {dev}")
    assert a.snap_names("web") == [], what


def enough(log):
    """Trials go on until TRIALS of them killed the step (a kill drawn
    after the step ended does not count), within three times as many."""
    kills = sum(1 for e in log if e[2])
    assert len(log) < 3 * TRIALS, (
        f"FERRY_KILL_SEED={SEED}: {len(log)} trials, {kills} kills: the "
        f"steps end before the kills; the calibration is off", log)
    return kills >= TRIALS


def resume(jdir, mid, extra=()):
    return migrate(jdir, "resume", mid, "--stop-timeout", "0", *extra)


def reset_destination(a, b):
    """The destination loses the migrated VM; the source runs again."""
    b.ok("vm", "delete", "web")
    for v in b.json("volume", "list"):
        b.ok("volume", "delete", v["id"])
    a.start("web")


def make_source(a):
    a.create_vm("web", extra=("--nic", "default"))
    a.start("web")
    a.live_write("web", 0x11)


def test_kill_during_start(two):
    a, b, jdir = two
    rng = random.Random(SEED)
    make_source(a)
    took = timed(jdir, start_args(a, b, "cal"))
    migrate(jdir, "abort", "cal")
    log, points = [], []
    i = -1
    while not enough(log):
        i += 1
        mid, delay = f"s{i}", rng.uniform(0, took)
        killed = kill_at(jdir, start_args(a, b, mid), delay)
        points.append(kill_point(jdir, mid, a) if killed else "after the end")
        assert_no_helpers(a, b, jdir, f"start {mid} killed at {delay:.3f}s")
        if os.path.exists(os.path.join(jdir, f"{mid}.json")):
            m = resume(jdir, mid)
        else:  # killed before the journal: nothing was made, start again
            m = migrate(jdir, *start_args(a, b, mid))
        assert_warm_copy(a, b, m, f"start {mid} killed at {delay:.3f}s")
        assert_no_helpers(a, b, jdir, f"resume of {mid}")
        m = migrate(jdir, "abort", mid)
        assert m["phase"] == "aborted" and a.snap_names("web") == []
        assert a.state("web") == "running" and b.json("volume", "list") == []
        log.append((mid, round(delay, 3), killed))
    summary("migrate start", points)


def test_kill_during_rounds(two):
    a, b, jdir = two
    rng = random.Random(SEED + 1)
    make_source(a)
    migrate(jdir, *start_args(a, b, "m"))
    a.live_write("web", 0x12)
    took = timed(jdir, ["sync", "m"])
    log, points = [], []
    i = -1
    while not enough(log):
        i += 1
        a.live_write("web", 0x20 + i)
        delay = rng.uniform(0, took)
        killed = kill_at(jdir, ["sync", "m"], delay)
        points.append(kill_point(jdir, "m", a) if killed else "after the end")
        what = f"round {i} killed at {delay:.3f}s"
        assert_no_helpers(a, b, jdir, what)
        m = resume(jdir, "m")
        assert_no_helpers(a, b, jdir, f"resume after {what}")
        assert_warm_copy(a, b, m, what)
        assert a.state("web") == "running", what
        assert_definition_is_what_qemu_writes(a, "web", what)
        log.append((i, round(delay, 3), killed))
    summary("migrate sync (a round)", points)
    m = migrate(jdir, "cutover", "m", "--stop-timeout", "0")
    assert m["phase"] == "done" and m["verified"] is True
    assert_cut_over(a, b, "after the rounds")


def test_kill_during_cutover(two):
    a, b, jdir = two
    rng = random.Random(SEED + 2)
    make_source(a)
    migrate(jdir, *start_args(a, b, "cal"))
    took = timed(jdir, ["cutover", "cal", "--stop-timeout", "0"])
    reset_destination(a, b)
    log, points = [], []
    i = -1
    while not enough(log):
        i += 1
        mid, delay = f"c{i}", rng.uniform(0, took)
        migrate(jdir, *start_args(a, b, mid))
        a.live_write("web", 0x20 + i)
        killed = kill_at(jdir, ["cutover", mid, "--stop-timeout", "0"], delay)
        points.append(kill_point(jdir, mid, a) if killed else "after the end")
        what = f"cutover {mid} killed at {delay:.3f}s"
        assert_no_helpers(a, b, jdir, what)
        m = resume(jdir, mid)
        if m["phase"] == "warm":  # killed before the cutover began
            assert a.state("web") == "running", what
            m = migrate(jdir, "cutover", mid, "--stop-timeout", "0")
        assert m["phase"] == "done" and m["verified"] is True, (what, m)
        assert_no_helpers(a, b, jdir, f"resume of {mid}")
        assert_cut_over(a, b, what)
        log.append((mid, round(delay, 3), killed))
        reset_destination(a, b)
    summary("migrate cutover", points)
