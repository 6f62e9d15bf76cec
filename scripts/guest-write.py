#!/usr/bin/env python3
"""Writes to a running VM's disks as its guest would: qemu-io through the
VM's QMP monitor, on the disk's qdev path (the node itself refuses a second
writer). Used by make demo and make bench; not part of ferry.

    guest-write.py QMP_SOCKET < lines of "DEVICE PATTERN OFFSET SIZE"
"""
import json
import socket
import sys


def main():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    f = s.makefile("rw")
    f.readline()  # the greeting

    def cmd(name, **args):
        f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        f.flush()
        while True:
            reply = json.loads(f.readline())
            if "event" not in reply:
                return reply

    cmd("qmp_capabilities")
    for line in sys.stdin:
        if not line.strip():
            continue
        dev, pattern, off, size = line.split()
        hmp = (f"qemu-io -d /machine/peripheral/{dev}/virtio-backend "
               f'"write -P {pattern} {off} {size}"')
        out = cmd("human-monitor-command", **{"command-line": hmp})
        if out.get("return", "").strip() or "error" in out:
            sys.exit(f"guest write {line.strip()}: {out}")


if __name__ == "__main__":
    main()
