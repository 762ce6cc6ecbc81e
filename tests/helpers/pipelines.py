"""Long pipelines as redis-py sends them: a data set of strings and hashes to read, and a
pipeline of N reads run with the sync or asyncio client (hiredis or a given parser), reduced to
a fingerprint of its replies so that two long ones compare without both in memory."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Iterator

import redis
import redis.asyncio

KEYS = 1000  # distinct keys the pipelines read, values of 100 to 1,000 bytes
TIMEOUT = 120  # seconds a pipeline may take before the test fails instead of hanging
# A command repeated in a long pipeline: GET of a string or HGETALL of a small hash, so the
# replies are 100 B to 1 KB, bulk strings and maps alike.
READS = [("get", f"s:{i}") for i in range(KEYS)] + [("hgetall", f"h:{i}") for i in range(KEYS)]


def load(r: redis.Redis) -> None:
    rng = random.Random(10)
    pipe = r.pipeline(transaction=False)
    for i in range(KEYS):
        pipe.set(f"s:{i}", rng.randbytes(rng.randint(100, 1000)))
        pipe.hset(f"h:{i}", mapping={f"f{j}": "v" * rng.randint(10, 120) for j in range(6)})
    pipe.execute()


def digest(replies: list) -> str:
    """A fingerprint of a pipeline's replies (so two long ones compare without both in memory)."""
    h = hashlib.sha256()
    for reply in replies:
        h.update(repr(sorted(reply.items()) if isinstance(reply, dict) else reply).encode())
    return h.hexdigest()


def commands(count: int) -> Iterator[tuple[str, str]]:
    return (READS[i % len(READS)] for i in range(count))


def options(port: int, protocol: int, parser: type | None) -> dict:
    """A connection pool's options: hiredis (redis-py's default when installed) or ``parser``."""
    options = {"port": port, "protocol": protocol, "socket_timeout": TIMEOUT}
    return options | ({"parser_class": parser} if parser else {})


def sync_pipeline(port: int, count: int, protocol: int, parser: type | None) -> str:
    pool = redis.ConnectionPool(**options(port, protocol, parser))
    r = redis.Redis(connection_pool=pool)
    try:
        pipe = r.pipeline(transaction=False)
        for name, key in commands(count):
            getattr(pipe, name)(key)
        replies = pipe.execute()
        assert len(replies) == count
        return digest(replies)
    finally:
        r.close()
        pool.disconnect()


def async_pipeline(port: int, count: int, protocol: int, parser: type | None) -> str:
    async def main() -> str:
        pool = redis.asyncio.ConnectionPool(**options(port, protocol, parser))
        r = redis.asyncio.Redis(connection_pool=pool)
        try:
            pipe = r.pipeline(transaction=False)
            for name, key in commands(count):
                getattr(pipe, name)(key)
            replies = await pipe.execute()
            assert len(replies) == count
            return digest(replies)
        finally:
            await r.aclose()
            await pool.disconnect()

    return asyncio.run(main())
