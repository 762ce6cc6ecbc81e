"""redis-py 8's client-side cache (``cache_config``) against respserver: it tracks the keys it
reads (CLIENT TRACKING, RESP3) and must see every invalidation another client's write causes,
so that no read returns a stale value. redis-py enables its cache only for servers that report
Redis 7.4 or later in HELLO, so the server is told to report 7.4.0 (``redis-version``)."""

from __future__ import annotations

import random

import pytest
import redis
from redis.cache import CacheConfig


@pytest.fixture
def announced(resp_port: int):
    admin = redis.Redis(port=resp_port)
    admin.config_set("redis-version", "7.4.0")
    yield resp_port
    admin.config_set("redis-version", "7.0.15")
    admin.close()


def test_redis_py_refuses_its_cache_below_7_4(resp_port: int):
    cached = redis.Redis(port=resp_port, protocol=3, cache_config=CacheConfig())
    with pytest.raises(redis.ConnectionError, match="7.4 or later"):
        cached.ping()


def test_the_cache_sees_every_invalidation(announced: int):
    cached = redis.Redis(port=announced, protocol=3, cache_config=CacheConfig())
    writer = redis.Redis(port=announced)
    keys = [f"cache:{i}" for i in range(20)]
    expected = {}
    for key in keys:
        writer.set(key, "0")
        expected[key] = b"0"
    rng = random.Random(7)
    for step in range(400):
        key = rng.choice(keys)
        if rng.random() < 0.3:
            value = str(step).encode()
            writer.set(key, value)
            expected[key] = value
        assert cached.get(key) == expected[key], (step, key)
    assert cached.get_cache().size > 0  # reads were served from the cache
    writer.flushdb()  # invalidates everything at once
    assert all(cached.get(key) is None for key in keys)
    cached.close()
    writer.close()


def test_the_cache_follows_its_own_writes(announced: int):
    cached = redis.Redis(port=announced, protocol=3, cache_config=CacheConfig())
    cached.set("own", "1")
    assert cached.get("own") == b"1"
    cached.set("own", "2")  # its own write: invalidated after the reply
    assert cached.get("own") == b"2"
    cached.delete("own")
    assert cached.get("own") is None
    cached.close()
