"""Waits for the test guest's marker line on a VM's serial log and prints
it: exit 0; exit 1 when the initramfs gave up on its root device, or
after TIMEOUT seconds (default 900). Used by demo.sh.

usage: guest-marker.py SERIAL_LOG [TIMEOUT]"""
import re
import sys
import time

MARKER = re.compile(rb"(FERRY-GUEST-BOOT-OK [^\r\n]*)\r?\n")  # whole lines
GAVE_UP = b"Gave up waiting for root"


def main():
    log, timeout = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 \
        else 900
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(log, "rb") as f:
                out = f.read()
        except FileNotFoundError:
            out = b""
        m = MARKER.search(out)
        if m:
            print(m.group(1).decode(errors="replace"))
            return 0
        if GAVE_UP in out:
            print(f"the guest gave up waiting for its root device ({log})")
            return 1
        time.sleep(1)
    print(f"no boot marker within {timeout:.0f}s ({log})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
