"""The Python package as users get it: one version everywhere (the
package, pyproject.toml, the ferry command, the meson project), and the
installed library's path written for `import ferry` from any prefix."""
import json
import os
import re
import subprocess
import tomllib

import ferry

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("FERRY_BUILD", os.path.join(ROOT, "build"))


def test_one_version_everywhere():
    with open(os.path.join(ROOT, "python", "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["name"] == "ferry"
    assert project["version"] == ferry.__version__
    cp = subprocess.run([os.path.join(BUILD, "tools", "ferry", "ferry"),
                         "--version"], capture_output=True, text=True,
                        check=True)
    assert cp.stdout.strip() == f"ferry {ferry.__version__}"
    with open(os.path.join(ROOT, "meson.build")) as f:
        meson = f.read()
    assert re.search(r"version : '([^']+)'", meson).group(1) == \
        ferry.__version__


def test_install_writes_where_libferry_goes():
    """ferry/_install.py (installed with the package) names the prefix's
    libferry.so.0, the one library_path takes after FERRY_LIB, FERRY_BUILD
    and a source tree."""
    cp = subprocess.run(["meson", "introspect", BUILD, "--buildoptions"],
                        capture_output=True, text=True, check=True)
    opts = {o["name"]: o["value"] for o in json.loads(cp.stdout)}
    want = os.path.join(opts["prefix"], opts["libdir"], "libferry.so.0")
    scope = {}
    with open(os.path.join(BUILD, "python", "_install.py")) as f:
        exec(f.read(), scope)  # pylint: disable=exec-used
    assert scope["LIBFERRY"] == want
