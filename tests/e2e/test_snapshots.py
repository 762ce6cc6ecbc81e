"""Snapshots on respserver alone: SAVE, BGSAVE, save rules and SHUTDOWN write an RDB file that
respserver loads at start (when the AOF is off, with LOADING replies and progress), BGSAVE and
BGREWRITEAOF take turns, and a damaged file stops the start. (redis-server loading the file, the
SAVE errors and MISCONF: tests/differential/test_snapshots.py.)"""

from __future__ import annotations

import logging
import time

import pytest
import redis

from respserver.persistence import rdb
from tests.conftest import RawConnection
from tests.helpers.persistence import (
    dump,
    every_kind_of_write,
    load_error,
    saved,
    snapshotting,
    wait_loaded,
)


def test_save_then_restart_loads_the_snapshot(tmp_path):
    with snapshotting(tmp_path) as server:
        r = redis.Redis(port=server.port, protocol=2)
        every_kind_of_write(r)
        r.hset("big", mapping={f"f{i}": "v" * (i % 100) for i in range(700)})
        before = dump(server.port)
        assert r.save() is True
        info = r.info("persistence")
        assert info["rdb_saves"] == 1 and info["rdb_changes_since_last_save"] == 0
        assert r.lastsave().timestamp() == pytest.approx(time.time(), abs=5)
        r.close()
    assert (tmp_path / "dump.rdb").exists()
    with snapshotting(tmp_path) as server:
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        assert dump(server.port) == before
        r.close()


def test_save_rules_take_snapshots_by_themselves(tmp_path):
    with snapshotting(tmp_path, save="1 2") as server:
        r = redis.Redis(port=server.port, protocol=2)
        r.set("one", "1")
        time.sleep(1.3)
        assert r.info("persistence")["rdb_saves"] == 0  # one change: the rule wants two
        r.set("two", "2")
        info = saved(r, 1)
        assert info["rdb_changes_since_last_save"] == 0
        r.close()
    with snapshotting(tmp_path) as server:
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        assert r.mget("one", "two") == [b"1", b"2"]
        r.close()


@pytest.mark.parametrize(
    ("save", "option", "written"),
    [("", "SAVE", True), ("", None, False), ("3600 1", None, True), ("3600 1", "NOSAVE", False)],
)
def test_shutdown_saves_as_redis_decides(tmp_path, save, option, written):
    with snapshotting(tmp_path, save=save) as server:
        r = redis.Redis(port=server.port, protocol=2)
        r.set("k", "v")
        with pytest.raises(redis.ConnectionError):
            r.execute_command("SHUTDOWN", *([option] if option else []))
        server._thread.join(timeout=10)  # SHUTDOWN stopped it
        assert not server._thread.is_alive()
    assert (tmp_path / "dump.rdb").exists() == written


def test_bgsave_and_bgrewriteaof_take_turns(tmp_path):
    with snapshotting(tmp_path, appendonly="yes") as server:
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        pipe = r.pipeline(transaction=False)
        for i in range(30_000):
            pipe.set(f"k{i}", "v" * 100)
        pipe.execute()
        conn = RawConnection(server.port)
        assert conn.call("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        assert conn.call("BGSAVE").startswith(b"-ERR Another child process is active (AOF?)")
        assert conn.call("BGSAVE", "SCHEDULE") == b"+Background saving scheduled\r\n"
        assert conn.call("SAVE") == b"+OK\r\n"  # the foreground save does not wait for children
        info = saved(r, 2)  # the SAVE, then the scheduled BGSAVE
        assert info["aof_rewrites"] == 1
        assert conn.call("BGSAVE") == b"+Background saving started\r\n"
        assert conn.call("BGSAVE") == b"-ERR Background save already in progress\r\n"
        assert conn.call("SAVE") == b"-ERR Background save already in progress\r\n"
        assert conn.call("BGREWRITEAOF") == b"+Background append only file rewriting scheduled\r\n"
        saved(r, 3)
        deadline = time.monotonic() + 20
        while r.info("persistence")["aof_rewrites"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        conn.close()
        r.close()


def test_the_aof_wins_over_the_snapshot_at_start(tmp_path):
    with snapshotting(tmp_path, appendonly="yes") as server:
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        r.set("k", "in both")
        r.save()
        r.set("k", "only in the AOF")
        r.close()
    with snapshotting(tmp_path, appendonly="yes") as server:
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        assert r.get("k") == b"only in the AOF"
        r.close()
    with snapshotting(tmp_path) as server:  # appendonly no: the snapshot
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        assert r.get("k") == b"in both"
        r.close()


def test_a_damaged_snapshot_stops_the_start(tmp_path):
    with snapshotting(tmp_path) as server:
        r = redis.Redis(port=server.port, protocol=2)
        r.set("k", "v" * 50)
        r.save()
        r.close()
    path = tmp_path / "dump.rdb"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(data)
    message = load_error(tmp_path, appendonly="no")
    assert message is not None and f"Bad RDB file {path}" in message and "offset" in message


def test_a_large_snapshot_loads_with_loading_replies_and_progress(tmp_path, caplog):
    data = {b"k%d" % i: {b"f": b"v" * 20, b"n": b"%d" % i} for i in range(300_000)}
    with open(tmp_path / "dump.rdb", "wb") as file:
        rdb.write_rdb(file, [(0, data, {})])
    caplog.set_level(logging.INFO, logger="respserver")
    with snapshotting(tmp_path) as server:
        conn = RawConnection(server.port)
        assert conn.call("GET", "k1") == b"-LOADING Redis is loading the dataset in memory\r\n"
        r = redis.Redis(port=server.port, protocol=2)
        wait_loaded(r)
        assert r.dbsize() == 300_000 and r.hget("k7", "n") == b"7"
        conn.close()
        r.close()
    assert any(m.startswith(f"Loading {tmp_path / 'dump.rdb'} (") for m in caplog.messages)
    # a line a second while loading (none if it took less), then the total and the rate
    progress = [m for m in caplog.messages if m.startswith("Loading ") and "keys/s" in m]
    assert all(" keys, " in line and "%" in line for line in progress)
    done = [m for m in caplog.messages if m.startswith("DB loaded from disk: 300000 keys in ")]
    assert done and done[0].endswith("keys/s)")
