#!/usr/bin/env python3
"""The generator: IDL mistakes are reported with file and line, and the
public header it makes compiles on its own, strictly, as C and as C++.

Usage: test_gentypes.py GENTYPES IDL CC [CC ARGS...]
"""
import os
import shutil
import subprocess
import sys
import tempfile

GENTYPES, IDL, CC = sys.argv[1], sys.argv[2], sys.argv[3:]

BAD = [
    ("struct a\n  x int32\n", ":2: type 'int32' is unknown"),
    ("struct a\n  x b\nstruct b\n  y bool\n",
     ":2: struct 'b' is used before it is declared"),
    ("struct a\n  x bool\n  x string\n", ":3: field 'x' clashes"),
    ("struct a\n  x [string]\n  n_x int64\n", ":3: field 'n_x' clashes"),
    ("struct a\n  x [bool]\n", ":2: arrays hold strings or structs"),
    ("enum e: p q\nstruct a\n  x e = r\n", ":3: default of 'x': 'r' is not"),
    ("struct a\n  x uint64 = -1\n", ":2: default of 'x': -1 is out of range"),
    ("struct a\n  x int64 = 9223372036854775808\n", "out of range for int64"),
    ("struct a\n  x string = \"\"\n", ":2: default of 'x': only bool"),
    ("struct a\n  x bool = yes\n", "expected true or false"),
    ("struct a\n  default bool\n", ":2: bad field name 'default'"),
    ("struct A\n  x bool\n", ":1: bad struct name 'A'"),
    ("struct a\n", ":1: struct a has no fields"),
    ("enum e:\n", ":1: enum e has no values"),
    ("enum e: p p\n", ":1: enum e repeats a value"),
    ("enum e: p\nstruct e\n  x bool\n", ":2: 'e' is declared twice"),
    ("  x bool\n", ":1: indented line outside a struct"),
    ("union u\n", ":1: expected 'struct NAME'"),
    ("struct a\n  x\n", ":2: expected 'FIELD TYPE [= DEFAULT]'"),
    ("struct a # a */ b\n  x bool\n", ":1: a comment may not contain '*/'"),
    ("struct a\n  x bool\nstruct a_list\n  y bool\n",
     "ferry_a_list_to_json would be generated twice"),
    ("enum e: a count\n", "FERRY_E_COUNT would be generated twice"),
    ("enum e: a_b\nenum e_a: b\n", ":2: FERRY_E_A_B would be generated"),
    ("struct a\n  x bool # see /* here\n", ":2: a comment may not contain"),
]


def run(args):
    return subprocess.run([sys.executable, GENTYPES] + args,
                          capture_output=True, text=True)


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for text, want in BAD:
            idl = os.path.join(tmp, "bad.idl")
            with open(idl, "w") as fp:
                fp.write(text)
            r = run([idl, "--header", os.path.join(tmp, "bad.h")])
            if r.returncode == 0 or want not in r.stderr \
                    or "bad.idl:" not in r.stderr:
                print(f"FAIL: {text!r}: want {want!r}, got "
                      f"{r.returncode} {r.stderr!r}")
                failures += 1

        os.mkdir(os.path.join(tmp, "ferry"))
        header = os.path.join(tmp, "ferry", "types.h")
        source = os.path.join(tmp, "types.c")
        engine = os.path.join(os.path.dirname(os.path.abspath(GENTYPES)),
                              "object.h")
        r = run([IDL, "--header", header, "--source", source,
                 "--engine", engine])
        if r.returncode != 0:
            print("FAIL: types.idl:", r.stderr)
            return 1
        with open(header) as fp:
            text = fp.read()
        for want in ("struct ferry_vm {", "size_t n_disks;",
                     "enum ferry_power_state power_state;",
                     "int ferry_disk_snapshot_from_json(",
                     "char *ferry_domain_snapshot_to_json("):
            if want not in text:
                print(f"FAIL: {want!r} not in the header")
                failures += 1

        # The header alone, strictly; then as C++; then the source.
        use = os.path.join(tmp, "use.c")
        with open(use, "w") as fp:
            fp.write("#include <ferry/types.h>\n#include <ferry/types.h>\n"
                     "int main(void) { struct ferry_vm v;\n"
                     "  ferry_vm_init(&v); return (int)v.n_disks; }\n")
        checks = [
            CC + ["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
            CC + ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror"],
        ]
        cxx = shutil.which("c++") or shutil.which("g++")
        if cxx:
            checks.append([cxx, "-x", "c++", "-Wall", "-Wextra", "-Werror"])
        for cmd in checks:
            r = subprocess.run(cmd + ["-fsyntax-only", "-I", tmp, use],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL: {' '.join(cmd)}:\n{r.stderr}")
                failures += 1
        root = os.path.join(os.path.dirname(engine), "..", "..")
        r = subprocess.run(CC + ["-std=gnu11", "-Wall", "-Wextra", "-Werror",
                                 "-fsyntax-only", "-I", tmp, "-I",
                                 os.path.join(root, "include"), source],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL: the generated source:\n{r.stderr}")
            failures += 1
        # the man page section: podchecker-clean, a head and an item per
        # struct and field (a '<' in a comment escaped)
        pod = os.path.join(tmp, "types.pod")
        r = run([IDL, "--pod", pod])
        text = open(pod).read() if r.returncode == 0 else r.stderr
        check = subprocess.run(["podchecker", pod], capture_output=True,
                               text=True)
        if r.returncode or check.returncode or \
                "=head2 vm\n" not in text or "=item B<power_state>" not in \
                text or "E<lt>ferry/volume.hE<gt>" not in text:
            print(f"FAIL: --pod:\n{text[:500]}\n{check.stderr}")
            failures += 1
    print(f"{len(BAD)} bad IDLs, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
