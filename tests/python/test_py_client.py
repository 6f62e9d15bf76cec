"""ferry.Client: create_client as a context manager."""
import errno
import random

import pytest

import ferry
from pyferry_util import MiB, random_file


def test_file_client_context_manager(tmp_path):
    rng = random.Random(10)
    src = random_file(tmp_path / "a", MiB, rng)
    random_file(tmp_path / "b", MiB, rng)
    with ferry.Client.file(tmp_path) as client:
        assert not client.closed
        ferry.sync_extents(client, client, "a", "b")
    assert client.closed
    assert (tmp_path / "b").read_bytes() == src
    with pytest.raises(ValueError, match="closed"):
        ferry.sync_extents(client, client, "a", "b")
    client.close()  # again: nothing to do


def test_generic_constructor_and_paths(tmp_path):
    rng = random.Random(11)
    src = random_file(tmp_path / "a", MiB, rng)
    random_file(tmp_path / "b", MiB, rng)
    with ferry.Client(ferry.CLIENT_FILE, host=tmp_path) as client:
        assert client.type == ferry.ClientType.FILE
        assert "file" in repr(client) and str(tmp_path) in repr(client)
        ferry.sync_extents(client, client, "a", "b", [(8, 8)])
    assert (tmp_path / "b").read_bytes()[4096:8192] == src[4096:8192]


def test_password_is_not_kept(tmp_path):
    secret = "s3cret-%08x" % random.Random(12).getrandbits(32)
    client = ferry.Client(ferry.CLIENT_FILE, str(tmp_path), username="admin",
                          password=secret, thumb_print="AA:BB")
    try:
        assert secret not in repr(client)
        for value in vars(client).values():
            assert secret not in repr(value)
    finally:
        client.close()


def test_nbd_client_bad_uri():
    with pytest.raises(ferry.Error) as e:
        ferry.Client.nbd("http://example.com/disk")
    assert e.value.errno == errno.EINVAL
    assert "bad NBD URI 'http://example.com/disk'" in str(e.value)


def test_nbd_client_connects_when_used(tmp_path):
    random_file(tmp_path / "b", MiB, random.Random(13))
    sock = tmp_path / "none.sock"
    with ferry.Client.nbd(f"nbd+unix:///disk?socket={sock}") as nbd, \
            ferry.Client.file(tmp_path) as files:
        with pytest.raises(ferry.Error) as e:
            ferry.sync_extents(nbd, files, "", "b", [(0, 8)])
    assert e.value.errno == errno.ENOENT
    assert e.value.message.startswith("source: ")
    assert str(sock) in str(e.value)


def test_unimplemented_type():
    with pytest.raises(ferry.Error) as e:
        ferry.Client(ferry.CLIENT_XEN, "xen.example", username="root",
                     password="x")
    assert e.value.errno == errno.ENOTSUP
    assert "'xen' is not implemented" in str(e.value)
