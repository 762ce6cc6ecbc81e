"""DUMP and RESTORE against redis-server 7.0.15: a value of every type moves both ways between
the two servers (redis-server's payloads, in its listpack/intset/quicklist encodings, load
here; ours load there), and RESTORE's options, errors, expiry and dirty count are Redis's."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import Diff
from tests.helpers.differential import assert_changes_as_redis
from tests.helpers.persistence import dump

pytestmark = pytest.mark.differential


def _fill(r: redis.Redis) -> None:
    r.flushall()
    r.set("int", "12345")
    r.set("short", "hello")
    r.set("long", "x" * 1000)  # LZF-compressed in redis-server's payload
    r.rpush("list", "a", "b", *[f"item{i}" for i in range(200)])
    r.sadd("intset", 1, 2, -3, 2**40)
    r.sadd("set", "a", "b", "c")
    r.sadd("bigset", *range(1000))
    r.hset("hash", mapping={"f1": "v1", "f2": "2"})
    r.hset("bighash", mapping={f"f{i}": "v" * (i % 70) for i in range(300)})
    r.zadd("zset", {"a": 1.5, "b": -2, "c": float("inf")})
    r.zadd("bigzset", {f"m{i}": i / 7 for i in range(300)})


@pytest.mark.parametrize("direction", ["redis-to-ours", "ours-to-redis"])
def test_every_type_moves_between_the_servers(resp_port, redis_port, direction):
    ours = redis.Redis(port=resp_port, protocol=2)
    real = redis.Redis(port=redis_port, protocol=2)
    source, target = (real, ours) if direction == "redis-to-ours" else (ours, real)
    _fill(source)
    target.flushall()
    keys = source.keys()
    for key in keys:
        payload = source.dump(key)
        assert target.restore(key, 0, payload) in (True, b"OK")
    assert dump(resp_port, databases=1) == dump(redis_port, databases=1)
    assert sorted(target.keys()) == sorted(keys)
    ours.close()
    real.close()


def test_short_strings_dump_as_redis_dumps_them(play):
    play(
        """
        SET a 12345
        SET b -1
        SET c hello
        SET d ""
        SET e 123456789012345678901
        DUMP a
        DUMP b
        DUMP c
        DUMP d
        DUMP e
        DUMP nokey
        """
    )


def test_restore_options_errors_and_expiry(diff: Diff):
    payload = diff.ours.call("DUMP", "nokey")  # nil: the key is made below
    assert payload in (b"$-1\r\n", b"_\r\n")
    for conn in (diff.ours, diff.real):
        conn.call("SET", "src", "value")
    ours_payload = _bulk(diff.ours.call("DUMP", "src"))
    for args in (
        ("RESTORE", "k", "0", ours_payload),
        ("GET", "k"),
        ("RESTORE", "k", "0", ours_payload),
        ("RESTORE", "k", "0", ours_payload, "REPLACE"),
        ("RESTORE", "t", "100000", ours_payload),
        ("TTL", "t"),
        ("RESTORE", "a", str(4102444800000), ours_payload, "ABSTTL"),
        ("PEXPIRETIME", "a"),
        ("RESTORE", "past", "1", ours_payload, "ABSTTL"),
        ("EXISTS", "past"),
        ("RESTORE", "k", "1", ours_payload, "ABSTTL", "REPLACE"),
        ("EXISTS", "k"),
        ("RESTORE", "k", "-1", ours_payload),
        ("RESTORE", "k", "x", ours_payload),
        ("RESTORE", "k", "0", "garbage"),
        ("RESTORE", "k", "0", ours_payload[:-1] + b"\x00"),
        ("RESTORE", "k", "0", b"\x63" + ours_payload[1:]),
        ("RESTORE", "k", "0", ours_payload, "FOO"),
        ("RESTORE", "k", "0", ours_payload, "IDLETIME", "-1"),
        ("RESTORE", "k", "0", ours_payload, "IDLETIME", "x"),
        ("RESTORE", "k", "0", ours_payload, "FREQ", "256"),
        ("RESTORE", "k", "0", ours_payload, "FREQ", "5", "IDLETIME", "5"),
        ("RESTORE", "k", "0", ours_payload, "IDLETIME", "5", "REPLACE"),
        ("RESTORE", "k2", "0", ours_payload, "FREQ", "5"),
        ("RESTORE", "src", "-1", "garbage"),
        ("RESTORE", "k"),
        ("DUMP",),
    ):
        diff.do(*args)


def _bulk(raw: bytes) -> bytes:
    """A bulk string reply's bytes."""
    header, _, rest = raw.partition(b"\r\n")
    assert header[:1] == b"$"
    return rest[: int(header[1:])]


def test_restore_counts_changes_as_redis(diff: Diff):
    for conn in (diff.ours, diff.real):
        conn.call("RPUSH", "src", "a", "b")
    payload = _bulk(diff.ours.call("DUMP", "src"))
    assert_changes_as_redis(
        diff,
        [
            ("RESTORE", "k", "0", payload),
            ("RESTORE", "k", "0", payload, "REPLACE"),
            ("RESTORE", "k", "1", payload, "ABSTTL", "REPLACE"),
            ("RESTORE", "k", "1", payload, "ABSTTL"),
            ("RESTORE", "k", "1", payload),
        ],
    )


def test_the_aof_logs_a_relative_ttl_as_absolute(tmp_path):
    from tests.helpers.persistence import logged, persistent

    with persistent(tmp_path) as r:
        r.set("src", "v")
        payload = r.dump("src")
        r.restore("k", 100_000, payload)
        r.restore("k", 1, payload, replace=True, absttl=True)  # gone at once: logged as DEL
        expiry = r.pexpiretime("src")
    commands = logged(tmp_path)
    restore = [argv for argv in commands if argv[0] == b"RESTORE"]
    assert len(restore) == 1 and restore[0][-1] == b"ABSTTL" and restore[0][3] == payload
    assert int(restore[0][2]) > 1_000_000_000_000 and expiry == -1
    assert commands[-1] == [b"DEL", b"k"]
