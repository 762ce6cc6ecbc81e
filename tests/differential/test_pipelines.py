"""Pipelines of any length against redis-server: a client that writes N commands before it reads
a reply gets its N replies, as from Redis, which goes on reading and executing a client's
commands while that client's replies wait (bounded only by client-output-buffer-limit,
unlimited for normal clients by default). redis-py writes a whole pipeline before reading, sync
and asyncio, with hiredis or its pure-Python parser; so does ``redis-cli --pipe``. Each pipeline
goes to respserver and to redis-server, and the replies must be the same. (Pipelines beside
other clients, and the memory of unread replies, on respserver alone:
tests/e2e/test_pipelines.py.)"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator

import hiredis
import pytest
import redis
from redis._parsers import _AsyncRESP2Parser, _AsyncRESP3Parser, _RESP2Parser, _RESP3Parser

from tests.helpers.pipelines import TIMEOUT, async_pipeline, load, sync_pipeline

pytestmark = pytest.mark.differential


@pytest.fixture(scope="module")
def ports(resp_server, redis_port: int) -> Iterator[dict[str, int]]:
    """Both servers, holding the same KEYS strings and hashes."""
    ports = {"respserver": resp_server.port, "redis-server": redis_port}
    for port in ports.values():
        r = redis.Redis(port=port)
        r.flushall()
        load(r)
        r.close()
    yield ports


RUNNERS = {"sync": sync_pipeline, "asyncio": async_pipeline}


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("client", ["sync", "asyncio"])
@pytest.mark.parametrize("count", [10_000, 100_000, 300_000])
def test_a_long_pipeline_gets_every_reply(ports, client, count, protocol):
    digests = {name: RUNNERS[client](port, count, protocol, None) for name, port in ports.items()}
    assert digests["respserver"] == digests["redis-server"]


PURE_PYTHON = {
    ("sync", 2): _RESP2Parser,
    ("sync", 3): _RESP3Parser,
    ("asyncio", 2): _AsyncRESP2Parser,
    ("asyncio", 3): _AsyncRESP3Parser,
}


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("client", ["sync", "asyncio"])
def test_a_long_pipeline_with_redis_py_s_own_parser(ports, client, protocol):
    """Without hiredis, redis-py reads in smaller pieces, later: the same replies still come."""
    parser = PURE_PYTHON[client, protocol]
    digests = {
        name: RUNNERS[client](port, 50_000, protocol, parser) for name, port in ports.items()
    }
    assert digests["respserver"] == digests["redis-server"]


def test_redis_cli_pipe(ports, tmp_path):
    """``redis-cli --pipe`` writes everything, then waits for its ECHO marker's reply."""
    rng = random.Random(3)
    wire = b"".join(
        hiredis.pack_command(("SET", f"pipe:{i}", rng.randbytes(rng.randint(100, 1000))))
        for i in range(100_000)
    )
    (tmp_path / "wire").write_bytes(wire)
    outputs = {}
    for name, port in ports.items():
        with open(tmp_path / "wire", "rb") as stdin:
            done = subprocess.run(
                ["redis-cli", "-p", str(port), "--pipe"],
                stdin=stdin,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        assert done.returncode == 0, done.stderr
        outputs[name] = done.stdout.strip().splitlines()[-1]
        r = redis.Redis(port=port)
        assert r.get("pipe:99999") is not None
        r.close()
    assert outputs["respserver"] == outputs["redis-server"] == "errors: 0, replies: 100000"
