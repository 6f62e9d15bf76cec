"""What the benchmarks' Python drivers share: messages, sizes from the
environment, the page cache, and timing a command with its peak RSS."""
import os
import subprocess
import sys
import time

GNU_TIME = "/usr/bin/time"


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def size_env(name, default):
    """The size in variable name (4G, 512M, ...) as bytes."""
    return int(subprocess.run(["numfmt", "--from=iec",
                               os.environ.get(name, default)],
                              capture_output=True, text=True,
                              check=True).stdout)


def drop_caches():
    """Dirty pages written, the page cache emptied; False when this process
    may not (not root)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def timed(args, log, env=None):
    """(wall seconds, peak RSS KiB, stdout) of one command; its stderr goes
    to log. The RSS comes from GNU time: a child of this process would
    count the memory of this process it had before exec. A failure ends the
    benchmark with the log's tail."""
    tf = log + ".time"
    t0 = time.monotonic()
    with open(log, "wb") as err:
        cp = subprocess.run([GNU_TIME, "-f", "%M", "-o", tf, *args],
                            stdout=subprocess.PIPE, stderr=err, env=env,
                            timeout=3600)
    wall = time.monotonic() - t0
    if cp.returncode:
        with open(log, "rb") as f:
            tail = f.read()[-3000:].decode(errors="replace")
        sys.exit(f"bench: command failed ({cp.returncode}): "
                 f"{' '.join(args)}\n{cp.stdout[-2000:].decode()}{tail}")
    with open(tf) as f:
        rss = int(f.read().split()[-1])
    return wall, rss, cp.stdout.decode()
