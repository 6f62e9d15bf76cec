"""ferry.set_log_callback and ferry.log_to_logging: libferry's trace in
Python, from the engine's threads too."""
import logging
import threading

import ferry


def copy(tmp_path):
    (tmp_path / "a").write_bytes(b"\x42" * 65536 + bytes(65536))
    (tmp_path / "b").write_bytes(bytes(131072))
    with ferry.Client.file(tmp_path) as files:
        ferry.sync_extents(files, files, "a", "b", workers=2)


def test_callback_gets_each_line_and_none_stops_it(tmp_path):
    got, threads = [], set()

    def cb(topic, message):
        got.append((topic, message))
        threads.add(threading.get_ident())
    ferry.set_log_callback(cb)
    try:
        copy(tmp_path)
    finally:
        ferry.set_log_callback(None)
    sync = [m for t, m in got if t == "sync"]
    assert any(m.startswith(f"copy {tmp_path / 'a'} -> {tmp_path / 'b'}:")
               for m in sync), got
    assert any(m == f"copy {tmp_path / 'b'}: done" for m in sync), got
    n = len(got)
    copy(tmp_path)
    assert len(got) == n, "a trace after set_log_callback(None)"


def test_a_failing_callback_does_not_break_the_copy(tmp_path, caplog):
    def cb(topic, message):
        raise RuntimeError("callback bug")
    ferry.set_log_callback(cb)
    try:
        with caplog.at_level(logging.ERROR, logger="ferry"):
            copy(tmp_path)
    finally:
        ferry.set_log_callback(None)
    assert (tmp_path / "b").read_bytes()[:65536] == b"\x42" * 65536
    assert "ferry log callback failed" in caplog.text


def test_log_to_logging(tmp_path, caplog):
    ferry.log_to_logging()
    try:
        with caplog.at_level(logging.DEBUG, logger="ferry"):
            copy(tmp_path)
    finally:
        ferry.set_log_callback(None)
    assert any(r.name == "ferry" and r.levelno == logging.DEBUG and
               r.getMessage().startswith("sync: copy ")
               for r in caplog.records), caplog.text
