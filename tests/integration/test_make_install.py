"""make install PREFIX=DIR installs under DIR even when the build directory
was set up with another prefix: the command, the library and its headers
(a C program builds against them with pkg-config), the man pages, the bash
completion and the Python package, whose `import ferry` finds the
prefix's library with no environment. (A build without the tests,
-Dtests=false, to keep it short: about 10 s.)"""
import glob
import os
import subprocess
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROGRAM = r"""
#include <stdio.h>
#include <ferry/ferry.h>
#include <ferry/objects.h>
int main(void)
{
  struct ferry_vm vm;
  ferry_vm_init(&vm);
  char *s = ferry_vm_to_json(&vm);
  printf("%s\n", s);
  return 0;
}
"""


def run(argv, **kw):
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=600,
                        **kw)
    assert cp.returncode == 0, (argv, cp.stdout, cp.stderr)
    return cp.stdout


def test_make_install_honours_prefix_of_an_existing_build(tmp_path):
    build, prefix = tmp_path / "b", tmp_path / "p"
    run(["meson", "setup", str(build), "-Dtests=false",
         "--prefix=/usr/local"], cwd=ROOT)
    started = time.time()
    run(["make", "-s", "-C", ROOT, "install", f"BUILD={build}",
         f"PREFIX={prefix}"])
    for path in ("bin/ferry", "include/ferry/ferry.h", "include/ferry/log.h",
                 "include/ferry/types.h", "share/man/man1/ferry.1",
                 "share/man/man1/ferry-migrate.1", "share/man/man3/libferry.3",
                 "share/bash-completion/completions/ferry"):
        assert (prefix / path).exists(), f"{path} not installed"
    local = "/usr/local/bin/ferry"
    assert not os.path.exists(local) or os.path.getmtime(local) < started, \
        "it installed into /usr/local too"

    libdir = os.path.dirname(glob.glob(f"{prefix}/lib/*/libferry.so.0")[0])
    env = dict(os.environ, PKG_CONFIG_PATH=f"{libdir}/pkgconfig",
               LD_LIBRARY_PATH=libdir)
    assert run([str(prefix / "bin" / "ferry"), "--version"],
               env=env).startswith("ferry ")
    (tmp_path / "prog.c").write_text(PROGRAM)
    flags = run(["pkg-config", "--cflags", "--libs", "ferry"], env=env)
    run(["cc", "-o", str(tmp_path / "prog"), str(tmp_path / "prog.c"),
         *flags.split()])
    assert '"id":null' in run([str(tmp_path / "prog")], env=env)

    site = glob.glob(f"{prefix}/lib/python3*/*-packages")[0]
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("FERRY_") and k != "LD_LIBRARY_PATH"}
    out = run(["/usr/bin/python3", "-c",
               "import ferry, ferry._capi as c; "
               "print(ferry.__version__, c.library_path())"],
              env=dict(clean, PYTHONPATH=site), cwd=str(tmp_path))
    assert out.split()[1] == f"{libdir}/libferry.so.0", out
