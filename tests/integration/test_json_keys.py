"""What each command's --json prints is what its --help and man page say
after "With --json:": a standard object (its keys exactly those of
lib/types/types.idl, as ferry(1)'s STANDARD OBJECTS lists them), a list of
them, or the keys it names in braces."""
import json
import os
import re
import subprocess

from ferryhelpers import FERRY, run_ferry
from qemuhelpers import two  # noqa: F401
from test_integration_cli import HELP_COMMANDS
from vspherehelpers import Sim

IDL = os.path.join(os.path.dirname(__file__), "..", "..", "lib", "types",
                   "types.idl")


def idl_fields():
    """{struct: [field, ...]} of types.idl."""
    out, cur = {}, None
    with open(IDL) as f:
        for line in f:
            body = line.split("#", 1)[0]
            if not body.strip():
                continue
            if line[0] in " \t" and cur is not None:
                out[cur].append(body.split()[0])
            elif body.split()[0] == "struct":
                cur = body.split()[1]
                out[cur] = []
            else:
                cur = None
    return out


FIELDS = idl_fields()


def documented(cmd):
    """The text after "With --json:" in cmd's --help."""
    out = run_ferry(*cmd, "--help").stdout.decode()
    m = re.search(r"With --json:(.*)", out, re.S)
    assert m, f"{cmd}: --help does not say what --json prints"
    return " ".join(m.group(1).split())


def check(cmd, value):
    """value (a command's --json output) against what cmd documents."""
    doc = documented(cmd)
    m = re.match(r"a list of (\w+) objects", doc)
    if m:
        assert isinstance(value, list) and value, (cmd, value)
        for v in value:
            assert list(v) == FIELDS[m.group(1)], (cmd, doc, v)
        return
    m = re.match(r"an? (\w+) object", doc)
    if m:
        assert list(value) == FIELDS[m.group(1)], (cmd, doc, value)
        return
    m = re.match(r"\{([\w, ]+)\}", doc)
    assert m, f"{cmd}: cannot read what --json prints: {doc!r}"
    assert list(value) == [k.strip() for k in m.group(1).split(",")], (
        cmd, doc, value)


def test_every_command_says_what_json_prints():
    for cmd in HELP_COMMANDS:
        doc = documented(cmd)
        assert re.match(r"an? \w+ object|a list of \w+ objects|\{", doc), \
            (cmd, doc)
        for name in re.findall(r"(\w+) objects?\b", doc):
            assert name in FIELDS or name == "list", (cmd, name)


def test_json_output_has_the_documented_keys(two, tmp_path):  # noqa: F811
    a, b, jdir = two

    def j(*args):
        cp = run_ferry(*args, "--json")
        assert cp.returncode == 0, (args, cp.stdout, cp.stderr)
        return json.loads(cp.stdout)

    def on(p, *cmd, extra=()):
        check(list(cmd[:2]) if cmd[0] != "info" else ["info"],
              j(*cmd, *extra, "--platform", p.uri))

    on(a, "volume", "create", "v.qcow2", "1M")
    on(a, "volume", "list")
    on(a, "volume", "delete", "v.qcow2")
    on(a, "network", "create", "lan")
    on(a, "network", "list")
    on(a, "network", "delete", "lan")
    on(a, "vm", "create", "web", extra=("--disk", "1M", "--nic", "default",
                                        "--memory", "64"))
    on(a, "vm", "list")
    on(a, "vm", "show", "web")
    on(a, "vm", "start", "web")
    on(a, "snapshot", "create", "web", "s1")
    on(a, "snapshot", "list", "web")
    on(a, "snapshot", "show", "web", "s1")
    on(a, "snapshot", "revert", "web", "s1", extra=("--force",))
    on(a, "snapshot", "delete", "web", "s1")
    inv = j("inventory", "--platform", a.uri)
    check(["inventory"], inv)
    for key, kind in (("vms", "vm"), ("vlans", "vlan"), ("hosts", "host")):
        assert all(list(x) == FIELDS[kind] for x in inv[key]), (key, inv)
    assert list(inv["summary"]) == FIELDS["vm_summary"]
    on(a, "vm", "stop", "web", extra=("--force",))

    src, dst = tmp_path / "s.raw", tmp_path / "d.raw"
    src.write_bytes(b"\x07" * 65536)
    check(["sync"], j("sync", src, dst))
    check(["info"], j("info", dst))

    mig = ("--journal-dir", jdir)
    nets = ("--network-map", "default=default")
    check(["migrate", "plan"], j("migrate", "plan", "--from", a.uri, "--to",
                                 b.uri, "web", *nets, *mig))
    check(["migrate", "start"], j("migrate", "start", "--from", a.uri,
                                  "--to", b.uri, "web", "--id", "m", *nets,
                                  *mig))
    check(["migrate", "sync"], j("migrate", "sync", "m", *mig))
    check(["migrate", "status"], j("migrate", "status", "m", *mig))
    check(["migrate", "list"], j("migrate", "list", *mig))
    check(["migrate", "abort"], j("migrate", "abort", "m", *mig))
    on(a, "vm", "delete", "web")

    sim = Sim(tmp_path)
    try:
        cp = subprocess.run([FERRY, "vmware", "thumbprint", sim.host,
                             "--json"], capture_output=True, timeout=60)
        assert cp.returncode == 0, cp
        check(["vmware", "thumbprint"], json.loads(cp.stdout))
    finally:
        sim.close()


def test_a_failure_has_the_documented_keys(tmp_path):
    cp = run_ferry("vm", "show", "nope", "--json", "--platform",
                   f"local://{tmp_path}")
    assert cp.returncode in (1, 2), cp
    assert list(json.loads(cp.stdout)) == ["ok", "error", "errno",
                                           "errno_name", "exit_code"]
    cp = run_ferry("sync", tmp_path / "none.raw", tmp_path / "d.raw",
                   "--json")
    err = json.loads(cp.stdout)
    assert {"error", "errno", "errno_name", "exit_code"} <= set(err), err
    assert err["ok"] is False and err["errno_name"] == "ENOENT", err
