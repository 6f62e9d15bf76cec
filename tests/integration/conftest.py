"""Fixtures of ferry's integration tests; the helpers are in ferryhelpers.py
(a name of its own, so that `import` never picks up another conftest)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ferryhelpers import FERRY, Servers  # noqa: E402


@pytest.fixture
def servers(tmp_path):
    s = Servers(tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Each test runs in its own directory."""
    monkeypatch.chdir(tmp_path)
    assert os.access(FERRY, os.X_OK), (
        f"ferry binary not found at {FERRY}: build it with `make build` or "
        f"set FERRY_BUILD")
