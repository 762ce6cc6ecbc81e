"""The RDB codec against a real redis-server 7.0.15, both directions: redis-server loads the
files respserver writes, respserver reads the files redis-server writes (LZF, integer encodings,
listpacks, hash tables, with and without checksums) and catches every bit flip in them.
(The codec on its own: tests/unit/test_persistence_rdb.py; streams: test_streams_persistence.py.)"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from respserver.persistence import rdb
from respserver.persistence.rdb import read_rdb
from tests.conftest import REDIS_SERVER, free_port
from tests.helpers.rdb import (
    HOUR,
    Dumps,
    as_dumps,
    assert_every_bit_flip_fails,
    dump,
    expected,
    read,
)


@pytest.fixture(scope="module")
def redis_binary() -> str:
    """The real redis-server; missing it fails in CI and skips elsewhere (as conftest.py)."""
    if not os.path.exists(REDIS_SERVER):
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: RDB interoperability cannot be tested")
        pytest.skip("redis-server is not installed")
    return REDIS_SERVER


@contextmanager
def redis_server(binary: str, workdir: Path, *extra: str) -> Iterator[redis.Redis]:
    """A redis-server loading (and saving) ``workdir/dump.rdb``; a file it refuses fails the
    test with its log."""
    port = free_port()
    log = workdir / "redis.log"
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
    args += ["--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no", "--databases", "16"]
    args += ["--logfile", str(log), "--loglevel", "notice", *extra]
    proc = subprocess.Popen([binary, *args])
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"redis-server exited: {log.read_text(errors='replace')}")
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def rich_databases(now: int) -> list[rdb.DatabaseDump]:
    """Every kind of value the interoperability tests exchange."""
    strings = {
        b"empty": b"",
        b"canonical": b"12",
        b"negative": b"-5",
        b"int16": b"-30000",
        b"int32": b"2147483647",
        b"beyond32": b"2147483648",
        b"int64": b"-9223372036854775808",
        b"padded": b"007",
        b"float": b"1e3",
        b"spaced": b" 1",
        b"minus-zero": b"-0",
        b"binary": bytes(range(256)),
        b"repetitive": b"abcdefgh" * 5000,
        bytes(range(1, 40)): b"binary key",
    }
    hashes = {
        b"small": {b"f": b"v", b"n": b"1", b"neg": b"-4000", b"": b"empty field"},
        b"ints": {b"%d" % v: b"%d" % -v for v in (7, 4095, 30000, 8_000_000, 2**30, 2**62)},
        b"wide": {b"f": b"x" * 65, b"g": b"y"},
        b"big": {b"field:%d" % i: b"value %d " % i * (i % 5) for i in range(600)},
        b"repetitive": {b"a": b"ab" * 500, b"b": b"12345" * 100},
    }
    expires = {b"canonical": now + HOUR, b"small": now + 2 * HOUR, b"big": now + 1_234_567}
    return [
        (0, strings | hashes, expires),
        (3, {b"only": b"here", b"h": {b"x": b"1"}}, {b"h": now + 10 * HOUR}),
        (15, {b"k%d" % i: b"%d" % i * 3 for i in range(5)}, {b"k4": now + HOUR}),
    ]


def in_db(client: redis.Redis, number: int) -> redis.Redis:
    """A client of the same server bound to database ``number`` (SELECT on a pooled
    connection would leak into later commands)."""
    kw = client.connection_pool.connection_kwargs
    return redis.Redis(host=kw["host"], port=kw["port"], db=number)


def fill(client: redis.Redis, databases: list[rdb.DatabaseDump]) -> None:
    for number, data, expires in databases:
        with in_db(client, number) as db, db.pipeline(transaction=False) as pipe:
            for key, value in data.items():
                if isinstance(value, dict):
                    pipe.hset(key, mapping=value)
                else:
                    pipe.set(key, value)
                if key in expires:
                    pipe.pexpireat(key, expires[key])
            pipe.execute()


def contents(client: redis.Redis, ttl_base: int) -> Dumps:
    """Everything in the server, read with SCAN, TYPE, GET/HGETALL, PEXPIRETIME and PTTL."""
    dbs: Dumps = {}
    for number in range(16):
        with in_db(client, number) as db:
            for key in db.scan_iter(count=1000):
                data, expires = dbs.setdefault(number, ({}, {}))
                kind = db.type(key)
                data[key] = db.get(key) if kind == b"string" else db.hgetall(key)
                assert kind == (b"string" if isinstance(data[key], bytes) else b"hash")
                when, ttl = db.pexpiretime(key), db.pttl(key)
                if when == -1:
                    assert ttl == -1
                else:
                    expires[key] = when
                    assert abs(ttl - (when - ttl_base)) < 60_000
    return dbs


def test_redis_loads_our_file(redis_binary: str, tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    databases = rich_databases(now)
    (tmp_path / "dump.rdb").write_bytes(dump(databases))
    with redis_server(redis_binary, tmp_path) as client:
        assert contents(client, now) == expected(databases)
        # small hashes became listpacks, big ones stayed tables
        assert client.object("encoding", b"small") == b"listpack"
        assert client.object("encoding", b"big") == b"hashtable"


def test_we_load_redis_files(
    redis_binary: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What redis-server 7.0.15 writes by default: LZF, integer encodings, listpacks and
    hash tables; also with rdbchecksum off and with the LRU/LFU hints of an eviction policy."""
    now = time.time_ns() // 1_000_000
    databases = rich_databases(now)
    path = tmp_path / "dump.rdb"
    with redis_server(redis_binary, tmp_path) as client:
        client.config_set("hash-max-listpack-value", 20000)
        client.hset(b"wide-listpack", mapping={b"a": b"z" * 5000, b"b": b"%d" % 2**40})
        client.config_set("hash-max-listpack-value", 64)
        assert client.object("encoding", b"wide-listpack") == b"listpack"
        fill(client, databases)
        databases[0][1][b"wide-listpack"] = {b"a": b"z" * 5000, b"b": b"%d" % 2**40}
        assert contents(client, now) == expected(databases)
        for policy in ["noeviction", "allkeys-lru", "allkeys-lfu"]:
            client.config_set("maxmemory-policy", policy)
            client.save()
            with path.open("rb") as f:
                assert as_dumps(list(read_rdb(f))) == expected(databases), policy
    assert path.stat().st_size < 40_000  # so the 40,000-byte string was LZF-compressed
    monkeypatch.setattr(rdb, "CHUNK", 7)  # every listpack and LZF blob across window edges
    assert as_dumps(read(path.read_bytes())) == expected(databases)
    monkeypatch.undo()
    with redis_server(redis_binary, tmp_path, "--rdbchecksum", "no") as client:
        client.save()
    assert path.read_bytes()[-8:] == bytes(8)
    assert as_dumps(read(path.read_bytes())) == expected(databases)


LISTS = {
    b"small": [b"a", b"1", b"-2", b"3.5", b""],
    b"long": [b"%d" % i for i in range(5000)],  # many quicklist nodes
    b"wide": [b"x" * 20_000, b"y"],  # an element past a node's 8 KB
    b"ints": [b"%d" % (2**40 + i) for i in range(10)] + [b"-%d" % 2**62],
}


@pytest.mark.parametrize("depth", [0, 1])
def test_lists_both_ways(redis_binary: str, tmp_path: Path, depth: int) -> None:
    """redis-server's lists (quicklist 2: listpack nodes, LZF-compressed ones with
    list-compress-depth) load here; ours (the plain list type) load there."""
    with redis_server(redis_binary, tmp_path) as client:
        client.config_set("list-compress-depth", depth)
        for key, items in LISTS.items():
            client.rpush(key, *items)
        client.pexpire(b"small", HOUR)
        client.save()
    entries = read((tmp_path / "dump.rdb").read_bytes())
    assert {key: list(value) for _, key, value, _ in entries} == LISTS
    assert [key for _, key, _, expire in entries if expire is not None] == [b"small"]
    (tmp_path / "dump.rdb").write_bytes(dump([(0, {k: value for _, k, value, _ in entries}, {})]))
    with redis_server(redis_binary, tmp_path) as client:
        assert {key: client.lrange(key, 0, -1) for key in LISTS} == LISTS
        assert client.type(b"long") == b"list"


SETS = {
    b"ints": {b"1", b"-2", b"300", b"70000", b"-9223372036854775808"},  # a 64-bit intset
    b"int16": {b"1", b"2", b"-3"},  # a 16-bit intset
    b"strings": {b"a", b"", b"3.5", b"007", b"x" * 100},  # a hash table
    b"big": {b"%d" % i for i in range(600)},  # past set-max-intset-entries: a hash table
}


def test_sets_both_ways(redis_binary: str, tmp_path: Path) -> None:
    """redis-server's sets (intsets and hash tables) load here; ours (the plain set type)
    load there, as intsets where Redis can."""
    encodings = {b"ints": b"intset", b"int16": b"intset", b"strings": b"hashtable"}
    with redis_server(redis_binary, tmp_path) as client:
        for key, members in SETS.items():
            client.sadd(key, *members)
        client.pexpire(b"ints", HOUR)
        assert {key: client.object("encoding", key) for key in encodings} == encodings
        client.save()
    entries = read((tmp_path / "dump.rdb").read_bytes())
    assert {key: set(value) for _, key, value, _ in entries} == SETS
    assert [key for _, key, _, expire in entries if expire is not None] == [b"ints"]
    (tmp_path / "dump.rdb").write_bytes(dump([(0, {k: value for _, k, value, _ in entries}, {})]))
    with redis_server(redis_binary, tmp_path) as client:
        assert {key: client.smembers(key) for key in SETS} == SETS
        assert {key: client.object("encoding", key) for key in encodings} == encodings
        assert client.type(b"big") == b"set"


ZSETS = {
    b"small": [(b"a", 1.0), (b"b", 1.1), (b"c", -0.0), (b"d", 2.0**70), (b"e", float("inf"))],
    b"ties": [(b"%d" % i, 0.0) for i in range(20)],
    b"big": [(b"m%d" % i, i / 7) for i in range(300)],  # past 128 members: a skiplist
    b"wide": [(b"x" * 100, -1.5), (b"y", float("-inf"))],  # past 64 bytes: a skiplist
}


def test_zsets_both_ways(redis_binary: str, tmp_path: Path) -> None:
    """redis-server's sorted sets (listpacks and skiplists) load here; ours (ZSET_2, binary
    doubles) load there with the same members and exactly the same scores."""
    encodings = {b"small": b"listpack", b"big": b"skiplist", b"wide": b"skiplist"}
    with redis_server(redis_binary, tmp_path) as client:
        for key, items in ZSETS.items():
            client.zadd(key, {member: score for member, score in items})
        client.pexpire(b"small", HOUR)
        assert {key: client.object("encoding", key) for key in encodings} == encodings
        replies = {key: client.zrange(key, 0, -1, withscores=True) for key in ZSETS}
        client.save()
    entries = read((tmp_path / "dump.rdb").read_bytes())
    loaded = {key: value.items() for _, key, value, _ in entries}
    in_order = {key: sorted(items, key=lambda i: (i[1], i[0])) for key, items in ZSETS.items()}
    assert loaded == in_order
    assert [key for _, key, _, expire in entries if expire is not None] == [b"small"]
    (tmp_path / "dump.rdb").write_bytes(dump([(0, {k: value for _, k, value, _ in entries}, {})]))
    with redis_server(redis_binary, tmp_path) as client:
        assert {key: client.zrange(key, 0, -1, withscores=True) for key in ZSETS} == replies
        assert {key: client.object("encoding", key) for key in encodings} == encodings
        assert client.type(b"big") == b"zset"


def test_every_bit_flip_in_a_redis_file_is_an_error(redis_binary: str, tmp_path: Path) -> None:
    """Damage inside LZF data, listpacks and integer encodings is caught too, as RDBError."""
    with redis_server(redis_binary, tmp_path) as client:
        client.set("lzf", "abc" * 20)
        client.set("int", "-30000")
        client.hset("lp", mapping={"f": "v", "n": "8000000", "long": "xyz" * 10})
        client.pexpire("lp", HOUR)
        client.save()
    blob = (tmp_path / "dump.rdb").read_bytes()
    assert len(read(blob)) == 3
    assert_every_bit_flip_fails(blob)
