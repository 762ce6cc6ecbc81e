"""Transactions on respserver alone: SHUTDOWN refused inside MULTI leaves the server running,
and redis-py's pipelines and check-and-set loops (sync, threads, RESP3, asyncio) work unchanged.
(MULTI/EXEC/WATCH against redis-server: tests/differential/test_transactions.py.)"""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
import redis.asyncio

from respserver import ServerThread


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A respserver of these tests' own: were SHUTDOWN queued and run, the others would not
    lose theirs."""
    with ServerThread(port=0, config={"dir": str(tmp_path_factory.mktemp("own"))}) as server:
        yield server


def test_shutdown_inside_multi_leaves_the_server_running(own_server):
    r = redis.Redis(port=own_server.port, protocol=2)
    assert r.execute_command("MULTI")
    with pytest.raises(redis.ResponseError, match="Command not allowed inside a transaction"):
        r.execute_command("SHUTDOWN", "NOSAVE")
    with pytest.raises(redis.exceptions.ExecAbortError):
        r.execute_command("EXEC")
    assert r.ping()
    stats = r.info("commandstats")["cmdstat_shutdown"]
    assert stats["rejected_calls"] >= 1
    r.close()


# --- redis-py ----------------------------------------------------------------------------------


@pytest.fixture
def r(resp_port):
    client = redis.Redis(port=resp_port, db=5)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_redis_py_pipeline(r):
    with r.pipeline() as pipe:
        pipe.set("k", 1).incr("k").hset("h", mapping={"a": "1", "b": "2"}).hgetall("h")
        pipe.hincrbyfloat("h", "a", 0.5).get("k")
        assert pipe.execute() == [True, 2, 2, {b"a": b"1", b"b": b"2"}, 1.5, b"2"]
    assert r.hgetall("h") == {b"a": b"1.5", b"b": b"2"}


def test_redis_py_pipeline_errors(r):
    r.set("s", "x")
    with r.pipeline() as pipe:
        pipe.set("k", 1).hset("s", "f", "v").incr("k")
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            pipe.execute()
    assert r.get("k") == b"2"  # the others ran: EXEC does not roll back
    with r.pipeline() as pipe:
        pipe.set("k", 1).hset("s", "f", "v").incr("k")
        assert isinstance(pipe.execute(raise_on_error=False)[1], redis.ResponseError)


def test_redis_py_watch_conflict(r, resp_port):
    other = redis.Redis(port=resp_port, db=5)
    try:
        r.set("k", 1)
        with r.pipeline() as pipe:
            pipe.watch("k")
            assert pipe.get("k") == b"1"  # immediate mode after WATCH
            other.set("k", 100)
            pipe.multi()
            pipe.set("k", 2)
            with pytest.raises(redis.WatchError):
                pipe.execute()
        assert r.get("k") == b"100"
    finally:
        other.close()


def test_redis_py_check_and_set_retries(r, resp_port):
    """r.transaction(fn, key) retries after a WatchError until its EXEC goes through."""
    other = redis.Redis(port=resp_port, db=5)
    r.hset("acct", "balance", 10)
    attempts = []

    def withdraw(pipe: redis.client.Pipeline) -> None:
        balance = int(pipe.hget("acct", "balance"))
        attempts.append(balance)
        if len(attempts) < 3:
            other.hincrby("acct", "balance", 5)  # a concurrent write: this attempt must fail
        pipe.multi()
        pipe.hset("acct", "balance", balance - 1)

    try:
        assert r.transaction(withdraw, "acct") == [0]
        assert attempts == [10, 15, 20]
        assert r.hget("acct", "balance") == b"19"
    finally:
        other.close()


def test_redis_py_concurrent_increments_lose_nothing(resp_port):
    """Threads doing WATCH/GET/MULTI/SET/EXEC on one key: every increment lands once."""
    workers, each = 4, 25

    def work() -> None:
        client = redis.Redis(port=resp_port, db=6)
        try:
            for _ in range(each):
                client.transaction(lambda p: _increment(p, "n"), "n")
        finally:
            client.close()

    setup = redis.Redis(port=resp_port, db=6)
    setup.delete("n")
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    try:
        assert setup.get("n") == str(workers * each).encode()
    finally:
        setup.delete("n")
        setup.close()


def _increment(pipe: redis.client.Pipeline, key: str) -> None:
    value = int(pipe.get(key) or 0)
    pipe.multi()
    pipe.set(key, value + 1)


def test_redis_py_resp3_watch_failure(resp_port):
    client = redis.Redis(port=resp_port, db=7, protocol=3)
    other = redis.Redis(port=resp_port, db=7)
    try:
        client.delete("k")
        with client.pipeline() as pipe:
            pipe.watch("k")
            other.set("k", 1)
            pipe.multi()
            pipe.set("k", 2)
            with pytest.raises(redis.WatchError):
                pipe.execute()
    finally:
        client.delete("k")
        client.close()
        other.close()


def test_redis_asyncio_pipeline_and_transaction(resp_port):
    async def main() -> tuple[list, list, bytes | None]:
        client = redis.asyncio.Redis(port=resp_port, db=8)
        other = redis.asyncio.Redis(port=resp_port, db=8)
        try:
            await client.flushdb()
            async with client.pipeline() as pipe:
                pipe.hset("h", mapping={"a": "1"}).hincrby("h", "a", 2).hget("h", "a")
                piped = await pipe.execute()
            attempts = []

            async def bump(pipe: redis.asyncio.client.Pipeline) -> None:
                value = int(await pipe.hget("h", "a"))
                attempts.append(value)
                if len(attempts) == 1:
                    await other.hset("h", "a", 100)
                pipe.multi()
                pipe.hset("h", "a", value * 2)

            await client.transaction(bump, "h")
            return piped, attempts, await client.hget("h", "a")
        finally:
            await client.flushdb()
            await client.aclose()
            await other.aclose()

    piped, attempts, final = asyncio.run(main())
    assert piped == [1, 3, b"3"]
    assert attempts == [3, 100]
    assert final == b"200"
