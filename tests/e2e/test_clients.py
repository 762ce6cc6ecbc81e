"""Real clients, unchanged, on respserver: redis-py (sync and asyncio, RESP3 and RESP2),
redis-cli and redis-benchmark, as an application or a person would use them. (A redis-cli
session compared with redis-server's: tests/differential/test_clients.py.)"""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading

import pytest
import redis
import redis.asyncio

from tests.helpers.cli import run_cli


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
def client(request, resp_port):
    r = redis.Redis(port=resp_port, protocol=request.param, decode_responses=True)
    r.flushall()
    yield r
    r.close()


def test_default_redis_py_speaks_resp3_and_works(resp_port):
    r = redis.Redis(port=resp_port)  # redis-py 8 defaults: HELLO 3 and CLIENT SETINFO on connect
    assert r.ping() is True
    assert r.set("app:k", "v") is True
    assert r.get("app:k") == b"v"
    r.close()


def test_application_use(client):
    assert client.set("user:1:name", "ada") is True
    assert client.get("user:1:name") == "ada"
    assert client.set("user:1:name", "bob", nx=True) is None
    assert client.incr("counter") == 1
    assert client.incrby("counter", 41) == 42
    assert client.incrbyfloat("ratio", 0.5) == 0.5
    assert client.hset("user:1", mapping={"name": "ada", "lang": "en"}) == 2
    assert client.hgetall("user:1") == {"name": "ada", "lang": "en"}
    assert client.hincrby("user:1", "visits", 3) == 3
    assert client.expire("user:1:name", 100) is True
    assert 0 < client.ttl("user:1:name") <= 100
    assert sorted(client.keys("user:*")) == ["user:1", "user:1:name"]
    assert sorted(client.scan_iter(match="user:*", count=1)) == ["user:1", "user:1:name"]
    assert client.delete("user:1", "nope") == 1
    assert client.exists("user:1") == 0
    assert client.dbsize() == 3


def test_pipelines_and_transactions(client):
    with client.pipeline() as pipe:  # MULTI/EXEC by default
        pipe.set("p:a", 1).incr("p:a").get("p:a").hset("p:h", "f", "v")
        assert pipe.execute() == [True, 2, "2", 1]
    with client.pipeline(transaction=False) as pipe:
        for i in range(100):
            pipe.set(f"p:{i}", i)
        assert all(pipe.execute())
    assert client.get("p:99") == "99"

    def double(pipe):
        value = int(pipe.get("p:a"))
        pipe.multi()
        pipe.set("p:a", value * 2)

    client.transaction(double, "p:a")
    assert client.get("p:a") == "4"


def test_asyncio_client(resp_port):
    async def main():
        for protocol in (3, 2):
            r = redis.asyncio.Redis(port=resp_port, protocol=protocol)
            await r.set("async:k", "v")
            assert await r.get("async:k") == b"v"
            async with r.pipeline() as pipe:
                pipe.incr("async:n").incr("async:n")
                assert (await pipe.execute())[-1] >= 2
            assert await r.hset("async:h", "f", "1") in (0, 1)
            await r.aclose()

    asyncio.run(main())


def test_redis_cli_pipe_mass_insertion(resp_port):
    import hiredis

    n = 20_000
    wire = b"".join(hiredis.pack_command(("SET", f"mass:{i}", f"value-{i}")) for i in range(n))
    out = run_cli(resp_port, "--pipe", stdin=wire)
    assert f"errors: 0, replies: {n}" in out
    assert run_cli(resp_port, "GET", f"mass:{n - 1}").strip() == f"value-{n - 1}"
    assert run_cli(resp_port, "DEL", *[f"mass:{i}" for i in range(3)]).strip() == "3"


def test_redis_benchmark_completes_without_errors(resp_port):
    done = subprocess.run(
        [
            "redis-benchmark",
            "-p",
            str(resp_port),
            "-t",
            "ping,set,get,incr,hset",
            "-n",
            "20000",
            "-q",
        ],
        capture_output=True,
        timeout=300,
    )
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 0, out
    rates = re.findall(r"^(\S+): ([\d.]+) requests per second", out.replace("\r", "\n"), re.M)
    names = {name for name, _ in rates}
    assert {"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "HSET"} <= names, out
    assert "error" not in out.lower(), out


def test_redis_py_workers_block_and_are_woken_in_order(client, resp_port):
    """Worker threads wait in BLPOP/BLMOVE (redis-py's own timeouts) and each job reaches one
    worker once; a wait with nothing to take times out as redis-py expects (None)."""
    got: list[tuple[str, str]] = []
    workers = []
    for i in range(4):
        protocol = client.connection_pool.connection_kwargs.get("protocol", 3)
        r = redis.Redis(port=resp_port, protocol=protocol, decode_responses=True)

        def work(r=r, i=i) -> None:
            while (item := r.blmove("jobs", f"doing:{i}", 0.5, "RIGHT", "LEFT")) is not None:
                got.append((f"w{i}", item))
                r.lrem(f"doing:{i}", 1, item)
            r.close()

        workers.append(threading.Thread(target=work))
    for worker in workers:
        worker.start()
    for n in range(200):
        client.lpush("jobs", f"job{n}")
    for worker in workers:
        worker.join(timeout=30)
        assert not worker.is_alive()
    assert sorted(item for _, item in got) == sorted(f"job{n}" for n in range(200))
    assert client.blpop(["nothing"], timeout=0.05) is None
    assert client.llen("jobs") == 0


def test_redis_py_asyncio_blpop_wakes_on_a_push(resp_port):
    async def main() -> tuple:
        waiter = redis.asyncio.Redis(port=resp_port, decode_responses=True)
        pusher = redis.asyncio.Redis(port=resp_port, decode_responses=True)
        await pusher.delete("aq")
        task = asyncio.ensure_future(waiter.blpop(["aq"], timeout=5))
        while (await pusher.info("clients"))["blocked_clients"] == 0:
            await asyncio.sleep(0.005)
        await pusher.rpush("aq", "hello")
        result = await task
        await waiter.aclose()
        await pusher.aclose()
        return result

    assert list(asyncio.run(main())) == ["aq", "hello"]


def test_redis_py_pubsub(client, resp_port):
    """redis-py's PubSub as applications use it: subscribe to channels and patterns, read
    messages with get_message, publish from another connection; the same in RESP2 and RESP3."""
    pubsub = client.pubsub()
    pubsub.subscribe("jobs:done")
    pubsub.psubscribe("jobs:*")
    confirmations = [pubsub.get_message(timeout=2) for _ in range(2)]
    assert [m["type"] for m in confirmations] == ["subscribe", "psubscribe"]
    publisher = redis.Redis(port=resp_port, decode_responses=True)
    assert publisher.publish("jobs:done", "42") == 2
    assert publisher.publish("jobs:failed", "7") == 1
    received = [pubsub.get_message(timeout=2) for _ in range(3)]
    assert [(m["type"], m["channel"], m["data"]) for m in received] == [
        ("message", "jobs:done", "42"),
        ("pmessage", "jobs:done", "42"),
        ("pmessage", "jobs:failed", "7"),
    ]
    assert publisher.pubsub_numsub("jobs:done") == [("jobs:done", 1)]
    assert publisher.pubsub_numpat() == 1
    pubsub.unsubscribe()
    pubsub.punsubscribe()
    assert pubsub.get_message(timeout=2)["type"] == "unsubscribe"
    assert pubsub.get_message(timeout=2)["type"] == "punsubscribe"
    assert publisher.publish("jobs:done", "43") == 0
    pubsub.close()
    publisher.close()


def test_redis_py_pubsub_in_a_thread_and_with_asyncio(resp_port):
    """A worker thread's run_in_thread handler and an asyncio listener both receive what is
    published, in order."""
    r = redis.Redis(port=resp_port, decode_responses=True)
    seen: list[str] = []
    done = threading.Event()

    def handler(message: dict) -> None:
        seen.append(message["data"])
        if len(seen) == 50:
            done.set()

    pubsub = r.pubsub()
    pubsub.subscribe(events=handler)
    worker = pubsub.run_in_thread(sleep_time=0.01, daemon=True)
    deadline = 50
    while r.pubsub_numsub("events") != [("events", 1)] and deadline:
        deadline -= 1
        threading.Event().wait(0.05)
    for i in range(50):
        r.publish("events", str(i))
    assert done.wait(5)
    assert seen == [str(i) for i in range(50)]
    worker.stop()
    worker.join(5)
    pubsub.close()

    async def listen() -> list[str]:
        client = redis.asyncio.Redis(port=resp_port, decode_responses=True)
        async with client.pubsub() as channel:
            await channel.subscribe("async")
            assert (await channel.get_message(timeout=2))["type"] == "subscribe"
            await client.publish("async", "a")
            await client.publish("async", "b")
            got = [await channel.get_message(timeout=2) for _ in range(2)]
        await client.aclose()
        return [m["data"] for m in got]

    assert asyncio.run(listen()) == ["a", "b"]
    r.close()


def test_redis_cli_monitor_prints_what_another_client_runs(resp_port):
    """``redis-cli monitor``, as a person debugging an application runs it."""
    watcher = subprocess.Popen(
        ["redis-cli", "-p", str(resp_port), "monitor"], stdout=subprocess.PIPE, text=True
    )
    deadline = threading.Timer(10, watcher.kill)  # a read that never ends sees EOF instead
    deadline.start()
    try:
        assert watcher.stdout.readline().strip() == "OK"
        r = redis.Redis(port=resp_port, protocol=2)
        r.set("app:key", 'a "quoted" value')
        r.close()
        lines = []
        while len(lines) < 10 and '"SET"' not in "".join(lines):  # after the client's setup
            lines.append(watcher.stdout.readline())
        assert re.fullmatch(
            r'\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "app:key" "a \\"quoted\\" value"\n',
            lines[-1],
        ), lines
    finally:
        deadline.cancel()
        watcher.kill()
        watcher.wait(5)
