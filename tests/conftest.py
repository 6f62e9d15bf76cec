"""Fixtures every test directory shares: one private libvirtd per test
session (tests/integration/libvirthelpers.py), started the first time a
test asks for it and stopped by PID at the end, also after failures."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))

from libvirthelpers import Libvirtd  # noqa: E402


@pytest.fixture(scope="session")
def libvirtd():
    d = Libvirtd()
    try:
        yield d
    finally:
        d.close()
