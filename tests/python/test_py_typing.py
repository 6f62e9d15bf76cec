"""The package's type hints and docstrings. mypy (Debian's python3-mypy:
scripts/deps.sh installs it, so a missing one fails here rather than
skipping) checks the package and a typed caller, typed_usage.py, with
python/pyproject.toml's [tool.mypy]; a wrong use must be reported, so the
hints are seen and mean something; typed_usage.py runs as well. And every
public function, method and class has a docstring and annotations."""
import ast
import inspect
import os
import re
import subprocess

import pytest

import ferry
import typed_usage
# the short state directory fixture of the platform tests
from test_py_platform import needs_qemu, state  # noqa: F401

# pylint: disable=redefined-outer-name  # pytest fixtures

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PACKAGE = os.path.join(ROOT, "python", "ferry")
CONFIG = os.path.join(ROOT, "python", "pyproject.toml")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """mypy's cache for this module's runs, outside the source tree."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(cache, *paths):
    cp = subprocess.run(["/usr/bin/python3", "-m", "mypy", "--config-file",
                         CONFIG, "--cache-dir", str(cache), *paths],
                        cwd=ROOT, capture_output=True, text=True, check=False)
    return cp.returncode, cp.stdout + cp.stderr


def test_mypy_checks_the_package_and_a_caller(cache):
    rc, out = mypy(cache, PACKAGE, os.path.join(HERE, "typed_usage.py"))
    assert rc == 0, f"mypy failed:\n{out}"


# Each line ending in "# wrong" misuses the package: mypy must say so, and
# about those lines only.
WRONG = '''\
import ferry

p = ferry.Platform("local:///tmp/ferry-typing")
vm = p.lookup_vm(42)  # wrong: a name or uuid is a str
name: int = vm.name  # wrong
vm.current_snapshot().revert()  # wrong: it may be None
vm.stop(force="yes")  # wrong
records: str = p.snapshots("vm")  # wrong
ferry.sync_extents(p.client, p.client, "a", "b", extents=[(0, "8")])  # wrong
ferry.set_log_callback(lambda topic: None)  # wrong: (topic, message)
state: ferry.Feature = p.features
ferry.migrate.status(7)  # wrong
snap = vm.snapshot("s")
parent: str = snap.parent  # wrong: None for a root
'''


def test_mypy_reports_wrong_uses(cache, tmp_path):
    path = tmp_path / "wrong.py"
    path.write_text(WRONG)
    rc, out = mypy(cache, str(path))
    assert rc == 1, out
    reported = {int(n) for n in re.findall(r"^.*wrong\.py:(\d+): error:", out,
                                           re.MULTILINE)}
    marked = {i for i, line in enumerate(WRONG.splitlines(), 1)
              if "# wrong" in line}
    assert reported == marked, out


@needs_qemu
def test_the_typed_caller_runs(state):
    out = typed_usage.main(str(state))
    assert out["objects"] == {
        "id": out["objects"]["id"], "stopped": ["typed"],
        "uuid": out["objects"]["id"], "parent": None, "current": "first",
        "tree": {"first": {}}, "snapshots": ["first"], "state": "stopped"}
    data = out["data"]
    assert (data["size"], data["holes"], data["rc"], data["phases"]) == \
        (1 << 20, [False, True], 0, ["copy", "verify"])
    assert data["copied"] == b"typed" * 100 and data["verified"] == 1 << 20
    assert out["errno"] == 2 and out["has"] and out["traced"]


# ---- docstrings and annotations, by the source ----

def _public(name):
    return not name.startswith("_")


def _unannotated(fn, method):
    """The parameters of a def without an annotation (self or cls of a
    method excepted), and "return" when it has no return annotation."""
    args = fn.args
    params = args.posonlyargs + args.args
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod"
                 for d in fn.decorator_list)
    if method and not static:
        params = params[1:]
    params = params + args.kwonlyargs + [a for a in (args.vararg, args.kwarg)
                                         if a is not None]
    missing = [a.arg for a in params if a.annotation is None]
    return missing + ([] if fn.returns is not None else ["return"])


def _problems(node, qual, method=False):
    out = []
    if not ast.get_docstring(node):
        out.append(f"{qual}: no docstring")
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        missing = _unannotated(node, method)
        if missing:
            out.append(f"{qual}: not annotated: {', '.join(missing)}")
    return out


def _class_problems(cls, qual):
    out = _problems(cls, qual)
    for item in cls.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if _public(item.name):
            out += _problems(item, f"{qual}.{item.name}", method=True)
        elif item.name == "__init__":  # its class's docstring is its own
            missing = _unannotated(item, True)
            if missing:
                out.append(f"{qual}.__init__: not annotated: "
                           f"{', '.join(missing)}")
    return out


def problems_of(path, names=None):
    """What the public functions, classes and methods of the module at path
    lack (or those in names only), as "name: what" strings."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    module = os.path.basename(path)[:-3]
    out = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.ClassDef)):
            continue
        if not (_public(node.name) if names is None else node.name in names):
            continue
        qual = f"{module}.{node.name}"
        out += (_class_problems(node, qual) if isinstance(node, ast.ClassDef)
                else _problems(node, qual))
    return out


def _reexported_from_private():
    """{private module: names ferry/__init__.py imports from it}."""
    with open(os.path.join(PACKAGE, "__init__.py")) as f:
        tree = ast.parse(f.read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and \
                node.module and node.module.startswith("_"):
            out.setdefault(node.module, set()).update(
                a.name for a in node.names)
    return out


def test_every_public_name_has_a_docstring_and_annotations():
    private = _reexported_from_private()
    found = []
    for name in sorted(os.listdir(PACKAGE)):
        if not name.endswith(".py"):
            continue
        module = name[:-3]
        if module.startswith("_") and module != "__init__":
            found += problems_of(os.path.join(PACKAGE, name),
                                 private.get(module, set()))
        else:
            found += problems_of(os.path.join(PACKAGE, name))
    assert not found, "\n".join(found)


def test_exported_names_have_their_own_docstrings():
    """What `import ferry` gives, as the objects are at run time."""
    missing = []
    for name in ferry.__all__:
        obj = getattr(ferry, name)
        if inspect.ismodule(obj) or inspect.isclass(obj) or \
                inspect.isfunction(obj):
            if not (obj.__doc__ or "").strip():
                missing.append(name)
    assert not missing, missing


def test_the_check_finds_what_is_missing(tmp_path):
    """The walk above fails on each kind of gap (else it would prove
    nothing)."""
    src = tmp_path / "mod.py"
    src.write_text('''
def bare(x): pass
def typed(x: int) -> int:
    """Documented."""
    return x
def no_return(x: int):
    """Documented."""
def _private(x): pass
class Thing:
    def __init__(self, a): pass
    def method(self) -> None: pass
    @property
    def prop(self):
        """Documented."""
    @staticmethod
    def static(a: int) -> None:
        """Documented."""
    def _hidden(self): pass
''')
    assert problems_of(str(src)) == [
        "mod.bare: no docstring", "mod.bare: not annotated: x, return",
        "mod.no_return: not annotated: return",
        "mod.Thing: no docstring",
        "mod.Thing.__init__: not annotated: a, return",
        "mod.Thing.method: no docstring",
        "mod.Thing.prop: not annotated: return"]
    assert problems_of(str(src), {"typed"}) == []
