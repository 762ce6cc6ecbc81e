"""Snapshots against redis-server: a real redis-server loads respserver's BGSAVE file with
identical contents, SAVE's and BGSAVE's argument errors are Redis's, and writes and PING are
refused with MISCONF while background saves fail, as stop-writes-on-bgsave-error decides.
(Snapshots on respserver alone: tests/e2e/test_snapshots.py.)"""

from __future__ import annotations

import time
from pathlib import Path

import redis

from tests.conftest import RawConnection, redis_server_on
from tests.helpers.persistence import dump, every_kind_of_write, saved, snapshotting


def test_bgsave_writes_a_file_redis_server_loads(tmp_path):
    with snapshotting(tmp_path) as server:
        r = redis.Redis(port=server.port, protocol=2)
        every_kind_of_write(r)
        before = dump(server.port)
        conn = RawConnection(server.port)
        assert conn.call("BGSAVE") == b"+Background saving started\r\n"
        conn.close()
        saved(r, 1)
        r.close()
    with redis_server_on(tmp_path, dbfilename="dump.rdb") as port:
        assert dump(port) == before


def test_save_errors_match_redis(diff):
    for args in [("BGSAVE", "x"), ("BGSAVE", "SCHEDULE", "x"), ("SAVE", "x")]:
        diff.do(*args)


def _bgsave_failed(conn: RawConnection) -> None:
    conn.call("BGSAVE")
    deadline = time.monotonic() + 20
    while b"rdb_last_bgsave_status:err" not in conn.call("INFO", "persistence"):
        assert time.monotonic() < deadline, "the background save did not fail"
        time.sleep(0.02)


def test_writes_are_refused_while_background_saves_fail(tmp_path):
    """Redis's stop-writes-on-bgsave-error: with save rules set and the last BGSAVE failed,
    writes and PING get MISCONF (reads do not) until a save succeeds or the rules go."""
    ours_dir, real_dir = tmp_path / "ours", tmp_path / "real"
    ours_dir.mkdir()
    real_dir.mkdir()
    rules = {"save": "3600 1000"}
    with snapshotting(ours_dir, **rules) as server, redis_server_on(real_dir, **rules) as port:
        ours, real = RawConnection(server.port), RawConnection(port)
        try:
            _refusals(ours, real, ours_dir, real_dir)
        finally:
            real.call("CONFIG", "SET", "save", "")  # else redis-server would not stop
            ours.close()
            real.close()


def _refusals(ours: RawConnection, real: RawConnection, ours_dir: Path, real_dir: Path) -> None:
    both = (ours, real)

    def same(*args: str) -> bytes:
        replies = [conn.call(*args) for conn in both]
        assert replies[0] == replies[1], args
        return replies[0]

    same("SET", "k", "v")
    for directory in (ours_dir, real_dir):
        directory.rmdir()  # the snapshot's temporary file cannot be made now
    for conn in both:
        _bgsave_failed(conn)
    misconf = same("SET", "k", "w")
    assert misconf.startswith(b"-MISCONF Redis is configured to save RDB snapshots")
    assert same("PING") == misconf
    assert same("GET", "k") == b"$1\r\nv\r\n"
    same("DEL", "k")
    same("MULTI")
    assert same("HSET", "h", "f", "v") == misconf
    same("GET", "k")
    assert same("EXEC").startswith(b"-EXECABORT Transaction discarded because of previous")
    same("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
    assert same("SET", "k", "x") == b"+OK\r\n"
    same("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
    assert same("SET", "k", "y") == misconf
    same("CONFIG", "SET", "save", "")
    assert same("SET", "k", "z") == b"+OK\r\n"
    same("CONFIG", "SET", "save", "3600 1000")
    assert same("SET", "k", "y") == misconf
    same("CONFIG", "SET", "save", "")
    # A save that succeeds lifts it (redis-server writes into the directory it started
    # in, gone for good: only respserver can show this).
    ours.call("CONFIG", "SET", "save", "3600 1000")
    ours_dir.mkdir()
    assert ours.call("BGSAVE") == b"+Background saving started\r\n"
    deadline = time.monotonic() + 20
    while b"rdb_last_bgsave_status:ok" not in ours.call("INFO", "persistence"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert ours.call("SET", "k", "ok") == b"+OK\r\n"
