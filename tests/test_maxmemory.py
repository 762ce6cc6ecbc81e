"""maxmemory and eviction: the OOM replies byte for byte against redis-server with the same
settings; the policies' choices, the memory estimate, QUERY's indexes and the AOF after
evictions checked on respserver alone (which keys a sampled policy evicts is not diffable)."""

from __future__ import annotations

import random
import re
import socket
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import redis

from respserver import ServerThread
from respserver.core.state import Server
from respserver.persistence import aof
from respserver.security.eviction import (
    BASELINE,
    BOOKKEEPING,
    FAIL,
    OK,
    RUNNING,
    VOLATILE_BOOKKEEPING,
    database_size,
    value_size,
)
from tests.conftest import Diff

OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
DEFAULTS = ("maxmemory", "0", "maxmemory-policy", "noeviction", "maxmemory-samples", "5")
VOLATILE = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]
ALLKEYS = ["allkeys-lru", "allkeys-lfu", "allkeys-random"]


@pytest.fixture
def limited(diff: Diff) -> Iterator[Diff]:
    """``diff``, with both servers' maxmemory settings put back afterwards (they are shared)."""
    yield diff
    for port in (diff.ours, diff.real):
        port.call("CONFIG", "SET", *DEFAULTS)


def other_connections(diff: Diff, resp_port: int, redis_port: int) -> Diff:
    """A second pair of connections to the same two servers."""
    return Diff(resp_port, redis_port, diff.protocol)


# -- differential: the OOM replies ----------------------------------------------------------------


def test_noeviction_refuses_denyoom_commands_only(limited: Diff) -> None:
    d = limited
    d.do("SET", "s", "1")
    d.do("HSET", "h", "f", "1")
    d.do("SET", "t", "v", "EX", "1000")
    d.do("CONFIG", "SET", "maxmemory", "1")
    refused = [
        ("SET", "s", "2"),
        ("SET", "new", "v", "EX", "10"),
        ("SET", "s", "v", "NOSUCHOPTION"),  # refused before the syntax is read
        ("SETNX", "x", "1"),
        ("SETEX", "x", "10", "v"),
        ("PSETEX", "x", "10", "v"),
        ("GETSET", "s", "v"),
        ("MSET", "a", "1", "b", "2"),
        ("MSETNX", "a", "1"),
        ("APPEND", "s", "x"),
        ("SETRANGE", "s", "0", "x"),
        ("INCR", "s"),
        ("DECR", "s"),
        ("INCRBY", "s", "2"),
        ("DECRBY", "s", "2"),
        ("INCRBYFLOAT", "s", "1.5"),
        ("HSET", "h", "g", "2"),
        ("HMSET", "h", "g", "2"),
        ("HSETNX", "h", "g", "2"),
        ("HINCRBY", "h", "f", "1"),
        ("HINCRBYFLOAT", "h", "f", "1"),
        ("COPY", "s", "s2"),
    ]
    for args in refused:
        assert d.do(*args) == OOM, args
    allowed = [
        ("SET", "s"),  # the arity check comes first
        ("NOSUCH", "x"),
        ("GET", "s"),
        ("MGET", "s", "h"),
        ("HGET", "h", "f"),
        ("HGETALL", "h"),
        ("EXISTS", "s", "h", "t"),
        ("TYPE", "h"),
        ("STRLEN", "s"),
        ("DBSIZE",),
        ("PING",),
        ("ECHO", "x"),
        ("EXPIRE", "s", "1000"),
        ("PERSIST", "s"),
        ("TTL", "t"),
        ("RENAME", "s", "s3"),
        ("HDEL", "h", "nosuch"),
        ("GETDEL", "s3"),
        ("DEL", "t"),
        ("KEYS", "*"),
    ]
    for args in allowed:
        assert not d.do(*args).startswith(b"-OOM"), args
    d.do("DBSIZE")


def test_config_set_maxmemory_back_to_zero_lifts_the_limit(limited: Diff) -> None:
    d = limited
    d.do("CONFIG", "SET", "maxmemory", "1")
    assert d.do("SET", "k", "v") == OOM
    d.do("CONFIG", "SET", "maxmemory", "0")
    d.do("SET", "k", "v")
    d.do("GET", "k")
    d.do("CONFIG", "SET", "maxmemory", "1kb")
    assert d.do("INCR", "n") == OOM
    d.do("CONFIG", "GET", "maxmemory")


def test_multi_refuses_every_command_but_exec_discard_reset(limited: Diff) -> None:
    d = limited
    d.do("SET", "k", "v")
    d.do("CONFIG", "SET", "maxmemory", "1")
    d.do("MULTI")
    for args in [("SET", "k", "w"), ("GET", "k"), ("PING",), ("MULTI",), ("WATCH", "k")]:
        assert d.do(*args) == OOM, args
    assert d.do("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    d.do("MULTI")
    d.do("DISCARD")
    d.do("MULTI")
    d.do("EXEC")
    d.do("MULTI")
    d.do("RESET")
    d.do("EXEC")
    d.do("GET", "k")


def test_exec_of_queued_denyoom_commands_after_memory_ran_out(
    limited: Diff, resp_port: int, redis_port: int
) -> None:
    d, other = limited, other_connections(limited, resp_port, redis_port)
    try:
        d.do("WATCH", "w")
        d.do("MULTI")
        d.do("SET", "k", "v")
        d.do("GET", "k")
        other.do("CONFIG", "SET", "maxmemory", "1")
        reply = d.do("EXEC")
        assert reply.startswith(b"-EXECABORT Transaction discarded because of: OOM command")
        d.do("EXEC")  # the transaction is gone, and so is the WATCH
        d.do("GET", "k")
        d.do("CONFIG", "SET", "maxmemory", "0")
        d.do("MULTI")
        d.do("GET", "k")
        d.do("PING")
        d.do("DEL", "k")
        other.do("CONFIG", "SET", "maxmemory", "1")
        d.do("EXEC")  # nothing denyoom queued: it runs
    finally:
        other.close()


@pytest.mark.parametrize("policy", VOLATILE)
def test_volatile_policies_evict_volatile_keys_then_refuse(limited: Diff, policy: str) -> None:
    d = limited
    d.do("MSET", "p1", "1", "p2", "2", "p3", "3")
    d.do("CONFIG", "SET", "maxmemory-policy", policy, "maxmemory", "1")
    assert d.do("SET", "k", "v") == OOM  # no key has a TTL: nothing to evict
    for key in ("v1", "v2", "v3"):
        d.do("CONFIG", "SET", "maxmemory", "0")
        d.do("SET", key, "x", "EX", "1000")
        d.do("CONFIG", "SET", "maxmemory", "1")
    assert d.do("HSET", "h", "f", "v") == OOM  # the volatile keys went first, to no avail
    d.do("DBSIZE")
    d.do("EXISTS", "p1", "p2", "p3", "v1", "v2", "v3")


@pytest.mark.parametrize("policy", ALLKEYS)
def test_allkeys_policies_evict_on_any_command(limited: Diff, policy: str) -> None:
    d = limited
    d.do("MSET", "a", "1", "b", "2", "c", "3")
    d.do("SET", "t", "x", "EX", "1000")
    d.do("SELECT", "1")
    d.do("HSET", "h", "f", "v")
    d.do("CONFIG", "SET", "maxmemory-policy", policy, "maxmemory", "1")
    d.do("GET", "h")  # not denyoom, so it runs, after evicting everything
    d.do("DBSIZE")
    d.do("SELECT", "0")
    d.do("DBSIZE")
    assert d.do("SET", "a", "1") == OOM


def test_eviction_of_a_watched_key_fails_exec(
    limited: Diff, resp_port: int, redis_port: int
) -> None:
    d, other = limited, other_connections(limited, resp_port, redis_port)
    try:
        d.do("MSET", "k", "1", "j", "2")
        d.do("WATCH", "k")
        other.do("CONFIG", "SET", "maxmemory-policy", "allkeys-random", "maxmemory", "1")
        other.do("DBSIZE")
        other.do("CONFIG", "SET", "maxmemory", "0")
        d.do("MULTI")
        d.do("GET", "j")
        d.do("EXEC")
    finally:
        other.close()


STAT = re.compile(rb"cmdstat_(set|exec|get):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,(.*)\r")


def test_refusals_are_counted_as_rejected_calls(limited: Diff) -> None:
    d = limited
    d.do("CONFIG", "RESETSTAT")
    d.do("CONFIG", "SET", "maxmemory", "1")
    d.do("SET", "k", "v")
    d.do("GET", "k")
    d.do("MULTI")
    d.do("SET", "k", "v")
    d.do("EXEC")
    ours, real = d.both("INFO", "commandstats")
    assert sorted(STAT.findall(ours)) == sorted(STAT.findall(real))
    assert (b"set", b"0", b"rejected_calls=2,failed_calls=0") in STAT.findall(ours)


def test_info_and_config_of_the_parameters(limited: Diff) -> None:
    d = limited
    d.do("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "ALLKEYS-LFU")
    ours, real = d.both("INFO", "memory")
    for field in (b"maxmemory", b"maxmemory_human", b"maxmemory_policy"):
        pattern = re.compile(rb"\r\n" + field + rb":([^\r]*)\r\n")
        assert pattern.search(ours)[1] == pattern.search(real)[1], field
    for name in ("lfu-log-factor", "lfu-decay-time"):
        for value in ("0", "3", "-1", "2147483648", "x"):
            d.do("CONFIG", "SET", name, value)
        d.do("CONFIG", "GET", name)
        d.do("CONFIG", "SET", name, "10" if name == "lfu-log-factor" else "1")
    d.do_sorted("CONFIG", "GET", "lfu-*")


# -- respserver alone: the policies --------------------------------------------------------------


@contextmanager
def server(tmp_path: Path, **config: str) -> Iterator[redis.Redis]:
    settings = {"dir": str(tmp_path), **config}
    with ServerThread(port=0, config=settings) as running:
        client = redis.Redis(port=running.port, protocol=2)
        yield client
        client.close()


def evicting(
    tmp_path: Path, policy: str, maxmemory: int, **config: str
) -> AbstractContextManager[redis.Redis]:
    return server(tmp_path, maxmemory=str(maxmemory), **{"maxmemory-policy": policy}, **config)


def fill(r: redis.Redis, keys: list[str], value: bytes, **options: object) -> None:
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, value, **options)
    pipe.execute()


def names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


def room_for(keys: int, size: int = 100) -> int:
    """A maxmemory holding about ``keys`` strings named by ``names`` of ``size`` bytes."""
    return BASELINE + keys * (value_size(b"k00000", b"x" * size, False) + BOOKKEEPING)


def test_allkeys_lru_keeps_recently_read_keys(tmp_path: Path) -> None:
    with evicting(tmp_path, "allkeys-lru", room_for(500)) as r:
        old = names("k", 500)
        fill(r, old, b"x" * 100)
        hot = old[:100]
        pipe = r.pipeline(transaction=False)
        for key in hot:
            pipe.get(key)
        pipe.execute()
        fill(r, names("n", 200), b"x" * 100)  # 200 of the 400 cold keys must go
        assert r.info("stats")["evicted_keys"] >= 200
        assert sum(r.exists(key) for key in hot) >= 95
        assert sum(r.exists(key) for key in old[100:]) <= 260


def test_allkeys_lfu_keeps_frequently_read_keys(tmp_path: Path) -> None:
    with evicting(tmp_path, "allkeys-lfu", room_for(500)) as r:
        old = names("k", 500)
        fill(r, old, b"x" * 100)
        hot = old[400:]  # the newest: LRU would keep them anyway, LFU for their reads
        for _ in range(30):
            # A pipeline at a time of 100 reads: unread replies count as memory, as in Redis,
            # and 3,000 of them would outweigh these 500 small keys.
            pipe = r.pipeline(transaction=False)
            for key in hot:
                pipe.get(key)
            pipe.execute()
        fill(r, names("n", 200), b"x" * 100)
        assert sum(r.exists(key) for key in hot) >= 95


def test_unsent_replies_count_against_maxmemory(tmp_path: Path) -> None:
    """As in Redis, a client's output buffer is used memory: replies a client does not read
    can take the server over maxmemory (then writes get OOM under noeviction), until they
    are sent or the client goes."""
    with evicting(tmp_path, "noeviction", room_for(500) + 1_000_000) as r:
        r.set("big", b"x" * 100_000)
        port = r.connection_pool.connection_kwargs["port"]
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 100)  # 10 MB, none read
        deadline = time.monotonic() + 10
        while r.info("memory")["used_memory"] < 5_000_000:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            r.set("k", "v")
        sock.close()
        deadline = time.monotonic() + 10
        while r.info("memory")["used_memory"] > room_for(500):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert r.set("k", "v")


def test_allkeys_random_bounds_the_key_count(tmp_path: Path) -> None:
    limit = room_for(300)
    with evicting(tmp_path, "allkeys-random", limit) as r:
        written = 0
        for batch in range(10):
            keys = names(f"b{batch}-", 300)
            fill(r, keys, b"x" * 100)
            written += len(keys)
            assert r.dbsize() <= 300
            assert r.info("memory")["used_memory"] <= limit
        assert r.info("stats")["evicted_keys"] == written - r.dbsize()
        assert r.dbsize() >= 250  # evictions stop once under the limit


@pytest.mark.parametrize("policy", VOLATILE)
def test_volatile_policies_evict_only_keys_with_a_ttl(tmp_path: Path, policy: str) -> None:
    with evicting(tmp_path, policy, room_for(400)) as r:
        persistent, volatile = names("p", 150), names("v", 200)
        fill(r, persistent, b"x" * 100)
        fill(r, volatile, b"x" * 100, ex=10_000)
        fill(r, names("n", 100), b"x" * 100)  # about 90 volatile keys must go
        assert all(r.exists(key) for key in persistent)
        assert r.dbsize() == 150 + 100 + sum(r.exists(key) for key in volatile)
        assert r.info("stats")["evicted_keys"] >= 40
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            fill(r, names("m", 400), b"x" * 100)  # volatile keys run out
        assert all(r.exists(key) for key in persistent)
        assert r.info("keyspace")["db0"]["expires"] == 0


def test_volatile_ttl_evicts_the_shortest_ttls_first(tmp_path: Path) -> None:
    with evicting(tmp_path, "volatile-ttl", room_for(300)) as r:
        volatile = names("v", 300)
        pipe = r.pipeline(transaction=False)
        for i, key in enumerate(volatile):
            pipe.set(key, b"x" * 100, ex=1000 + i * 10)  # later keys live longer
        pipe.execute()
        fill(r, names("n", 100), b"x" * 100)
        kept = [i for i, key in enumerate(volatile) if r.exists(key)]
        evicted = sorted(set(range(300)) - set(kept))
        assert len(evicted) >= 90
        assert all(r.exists(key) for key in volatile[200:])  # the longest-lived third stays
        assert sum(evicted) / len(evicted) < sum(kept) / len(kept)


def test_ten_times_maxmemory_of_writes_stays_under_it(tmp_path: Path) -> None:
    limit = BASELINE + 200_000
    with evicting(tmp_path, "allkeys-lru", limit) as r:
        written = keys = 0
        rng = random.Random(5)
        while written < 10 * 200_000:
            pipe = r.pipeline(transaction=False)
            for _ in range(50):
                size = rng.randrange(1, 2000)
                if rng.random() < 0.5:
                    pipe.set(f"s{keys}", b"x" * size)
                else:
                    pipe.hset(f"h{keys}", mapping={f"f{i}": b"y" * (size // 8) for i in range(8)})
                keys += 1
                written += size
            pipe.execute()
            assert r.info("memory")["used_memory"] <= limit
        assert r.info("stats")["evicted_keys"] == keys - r.dbsize()
        assert r.info("memory")["used_memory"] > limit - 10_000  # evictions stopped near it


def test_query_after_evictions_equals_a_scan(tmp_path: Path) -> None:
    with evicting(tmp_path, "allkeys-random", room_for(200)) as r:
        query = ("QUERY", "WHERE", "color", "=", "red", "WHERE", "n", ">=", "10", "NOCONTENT")
        r.hset("h-first", mapping={"color": "red", "n": 50})
        assert r.execute_command(*query) == [b"h-first"]  # the indexes now exist
        pipe = r.pipeline(transaction=False)
        for i in range(600):
            color = ("red", "blue")[i % 2]
            pipe.hset(f"h{i:04d}", mapping={"color": color, "n": i % 40, "pad": "z" * 60})
        pipe.execute()
        assert r.info("stats")["evicted_keys"] > 0
        found = sorted(r.execute_command(*query))
        brute = []
        for key in r.scan_iter(count=100):
            fields = r.hgetall(key)
            if fields.get(b"color") == b"red" and int(fields[b"n"]) >= 10:
                brute.append(key)
        assert found == sorted(brute) and found


def test_aof_keeps_exactly_the_surviving_keys(tmp_path: Path) -> None:
    config = {
        "appendonly": "yes",
        "maxmemory": str(room_for(200)),
        "maxmemory-policy": "allkeys-lru",
    }
    with server(tmp_path, **config) as r:
        fill(r, names("k", 500), b"x" * 100)
        pipe = r.pipeline(transaction=False)
        for i in range(100):
            pipe.hset(f"h{i}", "f", i)
        pipe.execute()
        evicted = r.info("stats")["evicted_keys"]
        assert evicted > 300
        before = contents(r)
    deleted = [argv for argv in logged(tmp_path) if argv[0] == b"DEL"]
    assert len(deleted) == evicted  # each eviction logged as Redis propagates it
    with server(tmp_path, appendonly="yes") as r:
        wait_loaded(r)
        assert contents(r) == before


def logged(directory: Path) -> list[list[bytes]]:
    path = directory / "appendonly.aof"
    with path.open("rb") as file:
        chunks = list(aof.read_chunks(file, path.stat().st_size))
    return [argv for _, commands in chunks for argv in commands]


def contents(r: redis.Redis) -> dict[bytes, object]:
    return {
        key: r.get(key) if r.type(key) == b"string" else r.hgetall(key)
        for key in r.scan_iter(count=1000)
    }


def wait_loaded(r: redis.Redis) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            r.ping()
            return
        except redis.exceptions.BusyLoadingError:
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_used_memory_falls_when_keys_go(tmp_path: Path) -> None:
    for config in ({}, {"maxmemory": str(2**30)}):  # measured by a walk, then tracked
        with server(tmp_path, **config) as r:
            empty = r.info("memory")["used_memory"]
            fill(r, names("k", 1000), b"x" * 100)
            time.sleep(0.2)  # untracked, INFO walks again once the last walk is 100 times old
            full = r.info("memory")["used_memory"]
            assert full - empty >= 1000 * value_size(b"k00000", b"x" * 100, False)
            r.flushall()
            time.sleep(0.2)
            assert r.info("memory")["used_memory"] == empty == BASELINE


def test_loading_is_never_refused(tmp_path: Path) -> None:
    with server(tmp_path, appendonly="yes") as r:
        fill(r, names("k", 300), b"x" * 100)
    with server(tmp_path, appendonly="yes", maxmemory=str(room_for(10))) as r:
        wait_loaded(r)
        assert r.dbsize() == 300  # loaded whole, though over the limit: noeviction
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            r.set("k", "v")
        assert r.info("memory")["used_memory"] > room_for(290)


# -- the estimate, without a network ---------------------------------------------------------------


def limited_server(**config: str) -> Server:
    return Server(config={"maxmemory": "1gb", **config})


def test_nothing_is_tracked_without_maxmemory() -> None:
    server = Server()
    db = server.databases[0]
    assert server.memory not in server.listeners and not server.check_memory
    assert "get" not in vars(db)  # the plain lookup: no access stamping
    server.config["maxmemory"], server.config["maxmemory-policy"] = str(2**30), "allkeys-lru"
    server.config_changed()
    assert server.memory in server.listeners and "get" in vars(db)
    server.config["maxmemory-policy"] = "allkeys-random"
    server.config_changed()
    assert "get" not in vars(db)  # a random policy needs no access times
    server.config["maxmemory"] = "0"
    server.config_changed()
    assert server.memory not in server.listeners and server.memory.tables is None


def test_tracked_estimate_equals_a_full_measure() -> None:
    server = limited_server()
    rng = random.Random(7)
    dbs = server.databases[:3]
    for _ in range(3000):
        db = rng.choice(dbs)
        key = b"k%d" % rng.randrange(200)
        action = rng.randrange(6)
        if action == 0:
            db.store(key, b"v" * rng.randrange(50))
        elif action == 1:
            fields = db.get(key)
            if type(fields) is not dict:
                fields = {}
            fields[b"f%d" % rng.randrange(6)] = b"w" * rng.randrange(30)
            db.store(key, fields) if db.get(key) is None else db.modified(key)
        elif action == 2:
            db.delete(key)
        elif action == 3 and db.exists(key):
            db.set_expire(key, 2**45)
        elif action == 4:
            db.persist(key)
        elif rng.random() < 0.02:
            dbs[0].swap_with(dbs[1]) if rng.random() < 0.5 else db.reset()
    keys = sum(len(db) for db in server.databases)
    volatile = sum(len(db.expires) for db in server.databases)
    bookkeeping = keys * BOOKKEEPING + volatile * VOLATILE_BOOKKEEPING
    expected = BASELINE + sum(database_size(db) for db in server.databases) + bookkeeping
    assert server.memory.used_memory() == expected
    for db in dbs:
        db.reset()
    assert server.memory.used_memory() == BASELINE


def test_a_big_hash_is_not_measured_on_every_change() -> None:
    server = limited_server()
    db, memory = server.databases[0], server.memory
    fields = {b"f%06d" % i: b"v" * 10 for i in range(100_000)}
    db.store(b"big", fields)
    memory.used_memory()
    measured, used = memory.fields_measured, memory.used
    for i in range(1000):
        fields[b"new%04d" % i] = b"v" * 10
        db.modified(b"big")
    assert memory.fields_measured == measured  # extrapolated: no pass over 100,000 fields
    per_field = (memory.used - used) / 1000
    assert per_field == pytest.approx(110 + 7 + 10, abs=2)  # FIELD_COST and the bytes
    db.delete(b"big")
    assert memory.used_memory() == BASELINE


def test_commands_are_checked_only_while_memory_may_be_over() -> None:
    server = limited_server(**{"maxmemory-policy": "allkeys-random"})
    db, memory = server.databases[0], server.memory
    assert server.check_memory  # a new limit: the next command goes through the check
    assert memory.perform() == OK and not server.check_memory
    db.store(b"small", b"x")
    assert not server.check_memory  # under the limit: commands take the plain path
    server.config["maxmemory"] = str(BASELINE + 1000)
    server.config_changed()
    assert server.check_memory and memory.perform() == OK and not server.check_memory
    db.store(b"big", b"x" * 2000)
    assert server.check_memory  # over: the next command evicts (or is refused)
    assert memory.perform() == OK and not server.check_memory
    assert memory.used_memory() <= server.maxmemory and memory.evicted >= 1


def test_tenacity_bounds_each_eviction_and_the_cron_finishes() -> None:
    server = limited_server(**{"maxmemory-policy": "allkeys-random"})
    db = server.databases[0]
    for i in range(2000):
        db.store(b"k%d" % i, b"x" * 100)
    server.config["maxmemory"] = str(room_for(100))
    server.config["maxmemory-eviction-tenacity"] = "0"
    server.config_changed()
    assert server.memory.running  # CONFIG SET below usage: the cron starts evicting
    assert server.memory.perform() == RUNNING  # 16 keys per call at tenacity 0
    assert len(db) == 2000 - 16
    for _ in range(100):  # each tick evicts for up to CRON_BUDGET
        server.cron()
    assert server.memory.used_memory() <= server.maxmemory and not server.memory.running
    assert server.memory.evicted == 2000 - len(db)
    server.config["maxmemory-policy"] = "noeviction"
    server.config["maxmemory"] = "1"
    server.config_changed()
    assert server.memory.perform() == FAIL
