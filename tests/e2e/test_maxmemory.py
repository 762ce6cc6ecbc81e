"""maxmemory and eviction on respserver alone, where which keys a sampled policy evicts is not
diffable: the policies' choices, unsent replies counted as memory, the memory estimate over a
running server, QUERY's indexes and the AOF after evictions, and loading never refused. (The OOM
replies against redis-server: tests/differential/test_maxmemory.py; the estimate without a
network: tests/unit/test_security_eviction.py.)"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import redis

from respserver import ServerThread
from respserver.persistence import aof
from respserver.security.eviction import BASELINE, value_size
from tests.helpers.eviction import VOLATILE, room_for


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
