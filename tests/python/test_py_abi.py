"""The ctypes declarations against the C headers, and finding the library."""
import ctypes
import os
import re
import subprocess
import sys

from ferry import _capi

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))

STRUCTS = {
    "client": _capi.ClientT,
    "ferry_extent": _capi.ExtentT,
    "ferry_sync_opts": _capi.SyncOptsT,
    "ferry_sync_stats": _capi.SyncStatsT,
    "ferry_extent_info": _capi.ExtentInfoT,
}

CONSTANTS = {
    "CLIENT_FILE": 0, "CLIENT_NBD": 1, "CLIENT_QEMU": 2, "CLIENT_VMWARE": 3,
    "CLIENT_ELF": 4, "CLIENT_XEN": 5, "CLIENT_LIBVIRT": 6,
    "FERRY_SECTOR_SIZE": _capi.SECTOR_SIZE,
    "FERRY_SYNC_EXTENTS": _capi.SYNC_EXTENTS,
    "FERRY_SYNC_ALLOCATED": _capi.SYNC_ALLOCATED,
    "FERRY_SYNC_ALL": _capi.SYNC_ALL,
    "FERRY_SYNC_COMPARE": _capi.SYNC_COMPARE,
    "FERRY_OPEN_READ": _capi.OPEN_READ, "FERRY_OPEN_WRITE": _capi.OPEN_WRITE,
    "FERRY_EXTENT_HOLE": _capi.EXTENT_HOLE,
    "FERRY_EXTENT_ZERO": _capi.EXTENT_ZERO,
}


def c_layout(tmp_path):
    """Offsets and sizes as the C compiler sees them, field by field."""
    lines = ["#include <stddef.h>", "#include <stdio.h>",
             "#include <ferry/ferry.h>", "int main(void) {"]
    for tag, struct in STRUCTS.items():
        lines.append(f'printf("{tag} %zu\\n", sizeof(struct {tag}));')
        for name, _ in struct._fields_:
            lines.append(f'printf("{tag}.{name} %zu %zu\\n", '
                         f'offsetof(struct {tag}, {name}), '
                         f'sizeof(((struct {tag} *)0)->{name}));')
    for name in CONSTANTS:
        lines.append(f'printf("{name} %d\\n", (int){name});')
    lines.append("return 0; }")
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text("\n".join(lines))
    subprocess.run([os.environ.get("CC", "cc"), "-std=gnu11", "-I",
                    os.path.join(ROOT, "include"), "-o", str(exe), str(src)],
                   check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True,
                         text=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_structs_and_constants_match_the_headers(tmp_path):
    c = c_layout(tmp_path)
    py = {}
    for tag, struct in STRUCTS.items():
        py[tag] = str(ctypes.sizeof(struct))
        for name, _ in struct._fields_:
            field = getattr(struct, name)
            py[f"{tag}.{name}"] = f"{field.offset} {field.size}"
    for name, value in CONSTANTS.items():
        py[name] = str(int(value))
    assert py == c


def test_library_lookup_order(monkeypatch):
    monkeypatch.setenv("FERRY_LIB", "/opt/x/libferry.so.0")
    monkeypatch.setenv("FERRY_BUILD", "/opt/build")
    assert _capi.library_path() == "/opt/x/libferry.so.0"
    monkeypatch.delenv("FERRY_LIB")
    assert _capi.library_path() == "/opt/build/lib/libferry.so.0"
    monkeypatch.delenv("FERRY_BUILD")
    tree = os.path.join(ROOT, "build", "lib", "libferry.so.0")
    path = _capi.library_path()
    if os.path.exists(tree):
        assert path == tree
    else:
        assert path.startswith("libferry.so")


def run_python(code, **env):
    full = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), **env)
    return subprocess.run([sys.executable, "-c", code], env=full,
                          capture_output=True, text=True, check=False)


def test_loads_from_ferry_lib():
    lib = _capi.library_path()  # what this run uses, FERRY_BUILD likely
    r = run_python("import ferry, ferry._capi as c; print(c.library_path())",
                   FERRY_LIB=os.path.abspath(lib), FERRY_BUILD="/nowhere")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == os.path.abspath(lib)


def test_bad_ferry_lib_says_where_it_looked(tmp_path):
    missing = str(tmp_path / "libferry.so.0")
    r = run_python("import ferry", FERRY_LIB=missing)
    assert r.returncode != 0
    assert "ImportError" in r.stderr
    assert f"ferry: cannot load {missing}" in r.stderr


def test_meson_installs_every_module():
    """Every module, and py.typed (PEP 561: without it type checkers
    ignore an installed package's hints)."""
    pkg = os.path.join(ROOT, "python", "ferry")
    with open(os.path.join(ROOT, "python", "meson.build")) as f:
        listed = set(re.findall(r"'ferry/([^']+\.py|py\.typed)'", f.read()))
    assert listed == {n for n in os.listdir(pkg)
                      if n.endswith(".py") or n == "py.typed"}
    assert "py.typed" in listed


def test_heavy_libraries_are_loaded_on_first_use():
    """libnbd, libvirt and libguestfs come with dlopen (lib/core/dynlib.h):
    linked, they cost every start what a copy between files never uses."""
    lib = _capi.library_path()
    r = subprocess.run(["ldd", lib], capture_output=True, text=True,
                       check=True)
    linked = r.stdout
    assert "libjson-c" in linked  # the listing is the real one
    for name in ("libnbd.so", "libvirt.so", "libguestfs.so", "libglib"):
        assert name not in linked, f"{lib} links {name}:\n{linked}"
