"""docs/python.md's examples run as written, in order, against two fresh
local platforms (its /tmp/ferry-* paths moved into a private directory),
and print what their comments say: `print(...)  # TEXT`, and comment lines
right under such a print, are lines the output must have, in that order.
Whatever qemu an example leaves running is stopped at the end."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import ferry
from test_py_platform import BUILD, ROOT, kill_leftover_qemus, needs_qemu

DOC = os.path.join(ROOT, "docs", "python.md")
FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)
PREFIX = "/tmp/ferry-"  # the docs' paths: /tmp/ferry-lab, ...


def examples():
    with open(DOC) as f:
        return FENCE.findall(f.read())


def expected_lines(code):
    """What the example's comments say it prints."""
    out, after_print = [], False
    for line in code.splitlines():
        text = line.strip()
        if after_print and text.startswith("# "):
            out.append(text[2:])
            continue
        after_print = text.startswith("print(")
        if after_print and "  # " in text:
            out.append(text.split("  # ", 1)[1].strip())
    return out


def in_order(wanted, lines):
    """Whether wanted are among lines, in this order."""
    rest = iter(lines)
    return all(any(w == line.strip() for line in rest) for w in wanted)


def stop_everything(top):
    """Stops the VMs of every platform under top (the journals' directory
    is none: opening it fails, or finds no VM)."""
    for state in top.iterdir():
        try:
            with ferry.Platform(str(state)) as p:
                for vm in p.vms():
                    p.stop_vm(vm["id"], force=True)
        except ferry.Error:
            pass
        kill_leftover_qemus(state)


def test_expected_lines_parser():
    assert expected_lines("x = 1  # no\nprint(x)  # 1\n# 2\n\n# no\n"
                          "print(y)\n    # [3]\nf()  # no\n") == \
        ["1", "2", "[3]"]
    assert in_order(["a", "c"], ["a", "b", " c "])
    assert not in_order(["c", "a"], ["a", "b", "c"])


@needs_qemu
def test_every_example_runs_and_prints_what_it_says():
    blocks = examples()
    assert len(blocks) >= 10 and all(
        b.startswith("import ferry\n") for b in blocks), blocks
    top = pathlib.Path(tempfile.mkdtemp(prefix="fdoc-", dir="/tmp"))
    env = dict(os.environ, FERRY_BUILD=BUILD,
               PYTHONPATH=os.path.join(ROOT, "python"))
    try:
        for code in blocks:
            assert PREFIX in code, code  # each names its platform
            run = code.replace(PREFIX, f"{top}/")
            cp = subprocess.run(["/usr/bin/python3", "-c", run], cwd=top,
                                env=env, capture_output=True, text=True,
                                timeout=300, check=False)
            assert cp.returncode == 0, f"{code}\n---\n{cp.stdout}{cp.stderr}"
            wanted = expected_lines(code)
            assert in_order(wanted, cp.stdout.splitlines()), \
                f"{code}\n--- printed:\n{cp.stdout}\n--- expected:\n{wanted}"
    finally:
        stop_everything(top)
        shutil.rmtree(top, ignore_errors=True)
