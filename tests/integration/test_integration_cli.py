"""Bad input is refused before anything is written (exit 2, or 1 where
something could not be opened) with a clear message; `ferry info`;
--verify and --json."""

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from ferryhelpers import (EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, EXIT_USAGE,
                          EXIT_VERIFY, FERRY, MiB, SECTOR, data_ranges,
                          describe, ferry_json, image_of, make_sparse,
                          nbd_read, qcow2_from_raw, rand_bytes, read_file,
                          run_ferry, write_extents, write_file)

SIZE = 4 * MiB


@pytest.fixture
def pair(tmp_path):
    """A random source and a destination with another pattern."""
    write_file(tmp_path / "s.raw", rand_bytes(SIZE, 51))
    write_file(tmp_path / "d.raw", rand_bytes(SIZE, 52))
    return tmp_path / "s.raw", tmp_path / "d.raw"


def refused(cp, codes, *needles):
    assert cp.returncode in codes, describe(cp)
    err = cp.stderr.decode()
    for n in needles:
        assert n.lower() in err.lower(), (
            f"message lacks {n!r}:\n{describe(cp)}")
    return err


def sync_refused(args, dst, codes, *needles, dst_before=None):
    before = read_file(dst) if dst_before is None else dst_before
    cp = run_ferry("sync", *args)
    refused(cp, codes, *needles)
    assert read_file(dst) == before, "the destination was changed"
    return cp


BAD_EXTENT_FILES = {
    "zero-count": ("0 8\n100 0\n", ["ext:2:", "zero"]),
    "past-source-end": (f"0 8\n{SIZE // SECTOR - 4} 8\n",
                        ["source", "past the end"]),
    "not-a-number": ("0 8\nabc 4\n", ["ext:2:", "START_SECTOR"]),
    "one-number": ("0 8\n16\n", ["ext:2:", "START_SECTOR"]),
    "trailing-text": ("0 8\n16 4 x\n", ["ext:2:", "trailing"]),
    "negative": ("0 8\n-16 4\n", ["ext:2:"]),
    "overflow": ("0 8\n36028797018963968 1\n", ["ext:2:", "overflow"]),
}


@pytest.mark.parametrize("name", list(BAD_EXTENT_FILES))
def test_bad_extent_file(tmp_path, pair, name):
    text, needles = BAD_EXTENT_FILES[name]
    (tmp_path / "ext").write_text(text)
    src, dst = pair
    sync_refused([src, dst, "--extents", "ext"], dst, [EXIT_USAGE], *needles)


def test_extent_past_end_of_smaller_destination(tmp_path, pair):
    src, _ = pair
    dst = tmp_path / "small.raw"
    write_file(dst, rand_bytes(SIZE // 2, 53))
    # the first extents fit both volumes: still nothing may be written
    write_extents(tmp_path / "ext", [(0, 64), (100, 8),
                                     (SIZE // 2 // SECTOR - 1, 2)])
    sync_refused([src, dst, "--extents", "ext"], dst, [EXIT_USAGE],
                 "destination", "past the end")


def test_missing_extent_file(pair):
    src, dst = pair
    sync_refused([src, dst, "--extents", "no-such-file"], dst, [EXIT_USAGE],
                 "no-such-file")


def test_missing_source(tmp_path, pair):
    """The message must name the missing volume and say why (today it is
    just "ferry sync: source: ")."""
    _, dst = pair
    sync_refused([tmp_path / "nope.raw", dst], dst, [EXIT_FAILED, EXIT_USAGE],
                 "nope.raw", "No such file")
    res, _ = ferry_json("sync", tmp_path / "nope.raw", dst,
                        expect=EXIT_FAILED)
    assert "nope.raw" in res["error"], res


def test_missing_source_and_missing_destination(tmp_path):
    """Nothing is created, and there is a message (today: none at all)."""
    cp = run_ferry("sync", tmp_path / "nope.raw", tmp_path / "new.raw")
    assert not os.path.exists(tmp_path / "new.raw")
    refused(cp, [EXIT_FAILED, EXIT_USAGE], "nope.raw", "No such file")


def test_missing_destination_directory(tmp_path, pair):
    src, _ = pair
    cp = run_ferry("sync", src, tmp_path / "no-dir" / "d.raw")
    refused(cp, [EXIT_FAILED], "no-dir/d.raw", "No such file")


def test_missing_nbd_export(tmp_path, servers, pair):
    _, dst = pair
    srv = servers.qemu_nbd(tmp_path / "s.raw", read_only=True, export="disk")
    sync_refused([srv.uri_export("nope"), dst], dst, [EXIT_FAILED],
                 srv.sock)


def test_destination_smaller_than_source_full_copy(tmp_path, pair):
    src, _ = pair
    dst = tmp_path / "small.raw"
    write_file(dst, rand_bytes(SIZE - SECTOR, 54))
    sync_refused([src, dst], dst, [EXIT_FAILED, EXIT_USAGE], "smaller",
                 str(dst))


def test_same_file_as_source_and_destination(tmp_path, pair):
    src, _ = pair
    os.link(src, tmp_path / "hardlink.raw")
    os.symlink(src, tmp_path / "symlink.raw")
    for dst_arg in (src, f"file://{src}", "hardlink.raw", "symlink.raw",
                    "./s.raw"):
        sync_refused([src, dst_arg], src, [EXIT_USAGE], "same volume")
    # an extent list does not make it any better
    write_extents(tmp_path / "ext", [(0, 8)])
    sync_refused(["s.raw", "hardlink.raw", "--extents", "ext"], src,
                 [EXIT_USAGE], "same volume")


def test_same_qcow2_as_source_and_destination(tmp_path):
    """Same check for an image: ferry gives images the file's identity, but
    today the destination's qemu-nbd fails on qemu's image lock first
    ("connect: ... Connection reset by peer", exit 1) before ferry can say
    that both are the same volume."""
    raw = tmp_path / "s.raw"
    make_sparse(raw, SIZE, [(0, rand_bytes(MiB, 55))])
    q = tmp_path / "s.qcow2"
    qcow2_from_raw(raw, q)
    sync_refused([q, q], q, [EXIT_USAGE], "same volume")


@pytest.mark.parametrize("uri", ["http://example.invalid/disk",
                                 "ftp:///disk.raw", "iscsi://h/t/0"])
def test_unknown_scheme(pair, uri):
    src, dst = pair
    sync_refused([src, uri], dst, [EXIT_USAGE], "unknown scheme")
    sync_refused([uri, dst], dst, [EXIT_USAGE], "unknown scheme")
    refused(run_ferry("info", uri), [EXIT_USAGE], "unknown scheme")


@pytest.mark.parametrize("uri", ["nbds://127.0.0.1/disk",
                                 "nbds+unix:///disk?socket=/nonexistent.sock"])
def test_tls_not_supported(pair, uri):
    src, dst = pair
    sync_refused([uri, dst], dst, [EXIT_FAILED, EXIT_USAGE], "TLS",
                 "not supported")
    sync_refused([src, uri], dst, [EXIT_FAILED, EXIT_USAGE], "TLS")


def test_bad_nbd_uri(pair):
    src, dst = pair
    sync_refused([src, "nbd+unix:///disk"], dst, [EXIT_FAILED, EXIT_USAGE],
                 "socket")
    sync_refused([src, "nbd://h:99999/x"], dst, [EXIT_FAILED, EXIT_USAGE],
                 "port")


@pytest.mark.parametrize("args,needle", [
    (["--requests", "0"], "--requests"),
    (["--workers", "x"], "--workers"),
    (["--request-size", "100"], "request size"),
    (["--request-size", "2Q"], "--request-size"),
    (["--all", "--allocated"], "one of"),
    (["--no-such-option"], "Usage"),
])
def test_bad_options(pair, args, needle):
    src, dst = pair
    sync_refused([src, dst, *args], dst, [EXIT_USAGE], needle)


def test_wrong_argument_count(pair):
    src, dst = pair
    sync_refused([src], dst, [EXIT_USAGE], "Usage")
    sync_refused([src, dst, dst], dst, [EXIT_USAGE], "Usage")


# ---------------------------------------------------------------- info


def test_info_file(tmp_path):
    chunks = [(1 * MiB, rand_bytes(MiB, 56)), (3 * MiB, rand_bytes(MiB, 57))]
    make_sparse(tmp_path / "s.raw", SIZE, chunks)
    info, cp = ferry_json("info", "s.raw")
    assert info["size"] == SIZE
    assert info["uri"] == "s.raw"
    assert (info["name"], info["format"]) == (str(tmp_path / "s.raw"), "raw")
    assert info["data_bytes"] == 2 * MiB
    assert info["data_bytes"] + info["zero_bytes"] + info["hole_bytes"] == SIZE
    text = run_ferry("info", "s.raw")
    assert text.returncode == EXIT_OK, describe(text)
    assert str(SIZE).encode() in text.stdout


def test_info_nbd(tmp_path, servers):
    size = 5 * MiB
    make_sparse(tmp_path / "s.raw", size, [(0, rand_bytes(MiB, 58))])
    srv = servers.qemu_nbd(tmp_path / "s.raw", read_only=True)
    info, _ = ferry_json("info", srv.uri)
    assert info["size"] == size
    # the URI's own export: no name; an export serves raw bytes
    assert (info["name"], info["format"]) == (None, "raw"), info
    assert info["data_bytes"] == MiB
    assert info["data_bytes"] + info["zero_bytes"] + info["hole_bytes"] == size
    kit = servers.nbdkit("memory", 3 * MiB)
    info, _ = ferry_json("info", kit.uri)
    assert info["size"] == 3 * MiB
    assert info["data_bytes"] == 0


def test_info_qcow2_is_virtual_size(tmp_path):
    make_sparse(tmp_path / "s.raw", SIZE, [(0, rand_bytes(MiB, 59))])
    qcow2_from_raw(tmp_path / "s.raw", tmp_path / "s.qcow2")
    info, _ = ferry_json("info", tmp_path / "s.qcow2")
    assert info["size"] == SIZE
    assert info["name"] == str(tmp_path / "s.qcow2")
    assert info["format"] == "qcow2", info
    assert "format:     qcow2" in run_ferry("info", tmp_path / "s.qcow2") \
        .stdout.decode()


def test_info_missing(tmp_path):
    """Today: "ferry info: (null)"."""
    refused(run_ferry("info", "nope.raw"), [EXIT_FAILED], "nope.raw",
            "No such file")
    refused(run_ferry("info", tmp_path), [EXIT_FAILED], "not a regular file")


# ---------------------------------------------------------------- verify, json


def test_verify_and_json(tmp_path, pair):
    src, dst = pair
    res, cp = ferry_json("sync", src, dst, "--verify")
    expected_keys = {"ok", "source", "destination", "mode",
                     "created_destination", "total_bytes", "copied_bytes",
                     "zeroed_bytes", "skipped_bytes", "verified_bytes",
                     "retries", "workers", "requests", "request_size",
                     "seconds"}
    assert expected_keys <= set(res), res
    assert res["ok"] is True and res["verified_bytes"] == SIZE
    assert res["source"] == str(src) and res["destination"] == str(dst)
    assert res["total_bytes"] == SIZE and res["retries"] == 0
    assert read_file(dst) == read_file(src)
    # again, now with extents: verifies just those
    write_extents(tmp_path / "ext", [(8, 8), (4000, 100), (4050, 100)])
    res, _ = ferry_json("sync", src, dst, "--verify", "--extents", "ext")
    assert res["verified_bytes"] == (8 + 150) * SECTOR
    # without --json: a summary on stderr and nothing on stdout
    cp = run_ferry("sync", src, dst, "--verify")
    assert cp.returncode == EXIT_OK and cp.stdout == b"", describe(cp)
    assert b"verified" in cp.stderr


def test_json_on_failure_is_one_object(tmp_path, pair):
    src, _ = pair
    small = tmp_path / "small.raw"
    write_file(small, bytes(SECTOR))
    res, cp = ferry_json("sync", src, small, expect=EXIT_FAILED)
    assert res["ok"] is False and res["errno"] > 0 and res["error"]


def test_verify_detects_a_destination_that_drops_writes(tmp_path, servers,
                                                        pair):
    """nbdkit's null plugin accepts writes and forgets them: the copy
    "succeeds" and --verify must report the difference (exit 3)."""
    src, _ = pair
    null = servers.nbdkit("null", SIZE)
    res, cp = ferry_json("sync", src, null.uri, "--verify",
                         expect=EXIT_VERIFY)
    assert res["ok"] is False
    m = re.search(r"differ at offset (\d+)", res["error"])
    assert m and int(m.group(1)) < SIZE, res["error"]
    assert null.sock in res["error"] and str(src) in res["error"]


def test_new_destination_from_nbd_source(tmp_path, servers):
    """A DST path that does not exist is created as a sparse raw file of
    the source's size, here the size an NBD server reports."""
    size = 3 * MiB
    chunks = [(MiB, rand_bytes(MiB, 60))]
    make_sparse(tmp_path / "s.raw", size, chunks)
    srv = servers.qemu_nbd(tmp_path / "s.raw", read_only=True)
    res, _ = ferry_json("sync", srv.uri, "new.raw")
    assert res["created_destination"] is True
    assert read_file(tmp_path / "new.raw") == image_of(size, chunks)


def test_directory_as_destination(tmp_path, pair):
    """The message must say what is wrong with the destination (today:
    "ferry sync: destination: " and nothing more)."""
    src, _ = pair
    (tmp_path / "adir").mkdir()
    cp = run_ferry("sync", src, tmp_path / "adir")
    refused(cp, [EXIT_FAILED, EXIT_USAGE], "adir")


def test_interrupt_cancels_and_removes_created_destination(tmp_path,
                                                           servers):
    """SIGINT in the middle of a copy: exit 4, and the destination ferry
    created is removed. The source is slowed down (delay filter) and the
    signal is sent once its request log shows that reading has begun."""
    data = rand_bytes(SIZE, 61)
    write_file(tmp_path / "s.raw", data)
    log = tmp_path / "requests.log"
    srv = servers.nbdkit("file", tmp_path / "s.raw", f"logfile={log}",
                         "rdelay=2", filters=["log", "delay"])
    p = subprocess.Popen([FERRY, "sync", srv.uri, "new.raw"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            if log.exists() and " Read id=" in log.read_text():
                break
            time.sleep(0.02)
        assert p.poll() is None, "ferry ended before it was interrupted"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == EXIT_CANCELLED, (p.returncode, err)
    assert b"cancel" in err.lower() or b"interrupt" in err.lower(), err
    assert not (tmp_path / "new.raw").exists()


def test_destination_without_multi_conn_uses_one_connection(tmp_path,
                                                            servers):
    data = rand_bytes(SIZE, 62)
    write_file(tmp_path / "s.raw", data)
    srv = servers.nbdkit("memory", SIZE, "multi-conn-mode=disable",
                         filters=["multi-conn"])
    res, _ = ferry_json("sync", "s.raw", srv.uri, "--workers", "4")
    assert res["workers"] == 1, res
    assert nbd_read(srv.uri) == data


def test_source_without_block_status(tmp_path, servers):
    """A source that reports no allocation (noextents filter) is read
    whole; zero detection still leaves holes at a raw destination."""
    chunks = [(0, rand_bytes(MiB, 63)), (3 * MiB, rand_bytes(64 * 1024, 64))]
    make_sparse(tmp_path / "s.raw", SIZE, chunks)
    srv = servers.nbdkit("file", tmp_path / "s.raw", filters=["noextents"])
    write_file(tmp_path / "d.raw", rand_bytes(SIZE, 65))
    res, _ = ferry_json("sync", srv.uri, "d.raw")
    assert res["copied_bytes"] == SIZE  # all read
    assert read_file(tmp_path / "d.raw") == image_of(SIZE, chunks)
    assert data_ranges(tmp_path / "d.raw") == [(0, MiB),
                                               (3 * MiB, 3 * MiB + 65536)]


HELP_COMMANDS = [
    ["sync"], ["info"], ["inventory"], ["vm", "list"], ["vm", "show"],
    ["vm", "create"], ["vm", "start"], ["vm", "stop"], ["vm", "delete"],
    ["vm", "resume"], ["volume", "list"], ["volume", "create"],
    ["volume", "delete"], ["network", "list"], ["network", "create"],
    ["network", "delete"], ["snapshot", "create"], ["snapshot", "list"],
    ["snapshot", "show"], ["snapshot", "delete"], ["snapshot", "revert"],
    ["migrate", "plan"], ["migrate", "start"], ["migrate", "sync"],
    ["migrate", "cutover"], ["migrate", "list"], ["migrate", "status"],
    ["migrate", "resume"],
    ["migrate", "abort"], ["vmware", "thumbprint"], ["convert"],
]


def test_every_command_answers_help_and_ferry_help_names_it():
    """--help and -h on every command and subcommand: its usage on stdout,
    exit 0; `ferry help CMD [SUB]` prints the same."""
    for cmd in HELP_COMMANDS:
        for flag in ("--help", "-h"):
            cp = run_ferry(*cmd, flag)
            out = cp.stdout.decode()
            assert cp.returncode == 0, (cmd, flag, cp.stderr)
            assert out.startswith(f"Usage: ferry {' '.join(cmd)}"), (cmd, out)
        assert run_ferry("help", *cmd).stdout.decode() == out, cmd
    cp = run_ferry("help", "nope")
    assert cp.returncode == 2 and b"unknown command 'nope'" in cp.stderr


def test_json_errors_carry_errno_and_exit_code():
    """Every --json error: ok false, the message, the errno (the library's,
    else what the exit code means) with its name, and the exit code."""
    state = tempfile.mkdtemp(prefix="fj", dir="/tmp")  # short: QMP sockets
    cp = run_ferry("vm", "show", "nosuch", "--platform", f"local://{state}",
                   "--json")
    shutil.rmtree(state)
    res = json.loads(cp.stdout)
    assert cp.returncode == EXIT_FAILED, res
    assert (res["ok"], res["errno"], res["errno_name"], res["exit_code"]) == \
        (False, errno.ENOENT, "ENOENT", EXIT_FAILED), res
    assert "no VM 'nosuch'" in res["error"]
    cp = run_ferry("vm", "show", "--json")  # the operand missing
    res = json.loads(cp.stdout)
    assert (res["ok"], res["errno"], res["errno_name"], res["exit_code"]) == \
        (False, errno.EINVAL, "EINVAL", EXIT_USAGE), res


def complete(words, env=None):
    """What bash completion offers after ferry WORDS (the last one being
    typed), through the installed script's function."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "..", "tools", "ferry", "ferry.bash-completion")
    line = " ".join(["ferry", *words])
    words_q = " ".join(f"'{w}'" for w in ["ferry", *words])
    cmd = (f"source '{script}'; COMP_WORDS=({words_q}); "
           f"COMP_CWORD={len(words)}; COMP_LINE='{line}'; _ferry; "
           "printf '%s\\n' \"${COMPREPLY[@]}\"")
    e = dict(os.environ, PATH=f"{os.path.dirname(FERRY)}:{os.environ['PATH']}",
             **(env or {}))
    cp = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                        env=e, timeout=60)
    assert cp.returncode == 0, cp
    return [w for w in cp.stdout.splitlines() if w]


def test_bash_completion_of_commands_options_vms_and_migrations(tmp_path):
    """The completion asks ferry itself: commands, subcommands, each
    command's options (drivers' too), VM names of the platform given and
    migration ids of the journal dir given."""
    assert complete(["v"]) == ["vm", "volume", "vmware"]
    assert complete(["vm", "st"]) == ["start", "stop"]
    assert complete(["migrate", "cutover", "--no-"]) == ["--no-verify",
                                                         "--no-convert"]
    assert "--vddk-libdir" in complete(["vm", "list", "--"])
    state = tempfile.mkdtemp(prefix="fc", dir="/tmp")
    try:
        uri = f"local://{state}"
        for name in ("web", "db"):
            cp = run_ferry("vm", "create", name, "--platform", uri,
                           "--memory", "64", "--disk", "1M")
            assert cp.returncode == 0, cp
        assert sorted(complete(["vm", "start", "--platform", uri, ""])) == \
            ["db", "web"]
        assert complete(["vm", "show", "w"], {"FERRY_STATE_DIR": state}) == \
            ["web"]
        jdir = str(tmp_path / "j")
        assert complete(["migrate", "status", "--journal-dir", jdir, ""]) \
            == []
        cp = run_ferry("migrate", "start", "--from", uri, "--to",
                       f"{uri}/b", "web", "--id", "m1", "--journal-dir", jdir)
        assert cp.returncode == 0, cp
        assert complete(["migrate", "status", "--journal-dir", jdir, "m"]) \
            == ["m1"]
        assert run_ferry("migrate", "abort", "m1", "--journal-dir",
                         jdir).returncode == 0
    finally:
        shutil.rmtree(state)


def test_every_command_has_a_man_page_listing_its_options():
    """ferry(1), ferry-GROUP(1) for every command and libferry(3) are built
    (pod2man, from the tables --help comes from); each page names every
    subcommand and every option its --help lists."""
    mandir = os.path.dirname(FERRY)

    def page(name):
        path = os.path.join(mandir, name)
        assert os.path.exists(path), f"{name} was not built"
        with open(path) as f:  # groff's escapes off: the text
            text = f.read().replace("\\-", "-").replace("\\(aq", "'")
        return re.sub(r"\\f[BIRP]|\\s-?\d|\\\||\\&", "", text)
    top = page("ferry.1")
    assert ".TH FERRY 1" in top and "libferry(3)" in top
    assert ".TH LIBFERRY 3" in page("libferry.3")
    assert "create_client" in page("libferry.3")
    for cmd in HELP_COMMANDS:
        text = page(f"ferry-{cmd[0]}.1")
        assert f"ferry-{cmd[0]}(1)" in top or cmd[0] in top
        assert "ferry " + " ".join(cmd) in text, cmd
        cp = run_ferry(*cmd, "--help")
        for flag in set(re.findall(r"(?<![\w-])--[a-z][a-z-]*",
                                   cp.stdout.decode())):
            assert flag in text, f"{cmd}: {flag} is in --help, not the page"


def test_state_dir_of_a_user_is_under_home():
    """Without FERRY_STATE_DIR a user who is not root keeps the local
    platform and the journals under $XDG_STATE_HOME/ferry, else
    ~/.local/state/ferry (root's are /var/lib/ferry)."""
    import pathlib
    home = pathlib.Path(tempfile.mkdtemp(prefix="fh", dir="/tmp"))
    try:
        os.chown(home, 65534, 65534)
        state_dir_of_nobody(home)
    finally:
        shutil.rmtree(home)


def state_dir_of_nobody(home):
    # nobody runs copies of ferry and libferry in home: the build's own may
    # sit under a directory only root can enter (a fresh clone's mktemp)
    import glob
    bindir = home / "bin"
    bindir.mkdir()
    ferry_bin = str(bindir / "ferry")
    shutil.copy(FERRY, ferry_bin)
    for lib in glob.glob(os.path.join(os.path.dirname(os.path.dirname(
            os.path.dirname(FERRY))), "lib", "libferry.so*")):
        if not os.path.isdir(lib):
            shutil.copy(lib, bindir, follow_symlinks=False)
    os.chmod(bindir, 0o755)

    def as_nobody(*args, **env):
        e = {k: v for k, v in os.environ.items()
             if k not in ("FERRY_STATE_DIR", "XDG_STATE_HOME")}
        e["HOME"] = str(home)
        e["LD_LIBRARY_PATH"] = str(bindir)
        e.update(env)
        return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                               "--clear-groups", ferry_bin, *args], env=e,
                              capture_output=True, timeout=60)
    cp = as_nobody("volume", "create", "v.qcow2", "1M")
    assert cp.returncode == 0, describe(cp)
    assert (home / ".local/state/ferry/volumes/v.qcow2").exists()
    cp = as_nobody("migrate", "list", "--json")
    assert cp.returncode == 0 and json.loads(cp.stdout) == [], describe(cp)
    xdg = home / "xdg"
    cp = as_nobody("volume", "create", "w.qcow2", "1M",
                   XDG_STATE_HOME=str(xdg))
    assert cp.returncode == 0, describe(cp)
    assert (xdg / "ferry/volumes/w.qcow2").exists()
    cp = as_nobody("volume", "list", "--json", HOME="")
    assert cp.returncode != 0 and b"FERRY_STATE_DIR" in cp.stderr + \
        cp.stdout, describe(cp)


def test_local_uris_and_read_only_commands():
    """ferry's own platform is local:///PATH; a command that only reads
    never makes a state directory (a missing one is an error naming it);
    qemu:///PATH still opens an existing ferry state directory, with a
    warning that says the new spelling, and names nothing else (qemu://
    URIs are libvirt's)."""
    import pathlib
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="fl", dir="/tmp"))
    try:
        local_uris(tmp)
    finally:
        shutil.rmtree(tmp)


def local_uris(tmp_path):
    new = tmp_path / "new"
    for cmd in (["inventory"], ["vm", "list"], ["vm", "show", "web"],
                ["volume", "list"], ["network", "list"],
                ["snapshot", "list", "web"]):
        cp = run_ferry(*cmd, "--platform", f"local://{new}")
        assert cp.returncode != 0, describe(cp)
        assert f"no state directory {new}" in cp.stderr.decode(), describe(cp)
        assert not new.exists(), (cmd, "made the state directory")
    cp = run_ferry("migrate", "plan", "--from", f"local://{new}", "--to",
                   f"local://{tmp_path}/dst", "web", "--journal-dir",
                   tmp_path / "j")
    assert cp.returncode != 0 and b"no state directory" in cp.stderr
    assert not new.exists() and not (tmp_path / "dst").exists()
    cp = run_ferry("volume", "create", "v.qcow2", "1M", "--platform",
                   f"local://{new}")
    assert cp.returncode == 0 and (new / "volumes" / "v.qcow2").exists()

    cp = run_ferry("volume", "list", "--platform", f"qemu://{new}", "--json")
    assert cp.returncode == 0, describe(cp)
    assert json.loads(cp.stdout)[0]["id"] == "v.qcow2"
    assert f"write local://{new}" in cp.stderr.decode(), describe(cp)
    other = tmp_path / "other"
    other.mkdir()
    cp = run_ferry("vm", "list", "--platform", f"qemu://{other}")
    err = cp.stderr.decode()
    assert cp.returncode == 2 and "no ferry state directory" in err and \
        f"local://{other}" in err, describe(cp)
    assert os.listdir(other) == []


def test_memory_budget(pair):
    """--memory is the process's budget: the buffers get what ferry does
    not hold already, never more; less than ferry holds is bad usage,
    refused before anything is written."""
    src, dst = pair
    before = read_file(dst)
    j, _ = ferry_json("sync", src, dst, "--memory", "8M", expect=EXIT_USAGE)
    assert "--memory 8 MiB is not more than ferry holds" in j["error"], j
    assert read_file(dst) == before
    j, _ = ferry_json("sync", src, dst, "--memory", "40M", "--verify",
                      "--request-size", "1M")
    assert j["memory"] == 40 * MiB
    assert 0 < j["buffer_budget"] < 40 * MiB - 8 * MiB, j
    assert 0 < j["buffer_bytes"] <= j["buffer_budget"], j
    assert j["verified_bytes"] == SIZE
    assert read_file(dst) == read_file(src)
    # the default: 64 MiB in all
    j, _ = ferry_json("sync", src, dst)
    assert j["memory"] == 64 * MiB and j["buffer_budget"] < 64 * MiB, j
