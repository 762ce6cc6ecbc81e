"""Pipelines of any length: a client that writes N commands before it reads a reply gets its N
replies, as from Redis, which goes on reading and executing a client's commands while that
client's replies wait (bounded only by client-output-buffer-limit, unlimited for normal
clients by default). redis-py writes a whole pipeline before reading, sync and asyncio, with
hiredis or its pure-Python parser; so does ``redis-cli --pipe``. Each pipeline goes to
respserver and to redis-server, and the replies must be the same."""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import hiredis
import pytest
import redis
import redis.asyncio
from redis._parsers import _AsyncRESP2Parser, _AsyncRESP3Parser, _RESP2Parser, _RESP3Parser

from tests.conftest import RawConnection

pytestmark = pytest.mark.differential

KEYS = 1000  # distinct keys the pipelines read, values of 100 to 1,000 bytes
TIMEOUT = 120  # seconds a pipeline may take before the test fails instead of hanging
# A command repeated in a long pipeline: GET of a string or HGETALL of a small hash, so the
# replies are 100 B to 1 KB, bulk strings and maps alike.
READS = [("get", f"s:{i}") for i in range(KEYS)] + [("hgetall", f"h:{i}") for i in range(KEYS)]


def _load(r: redis.Redis) -> None:
    rng = random.Random(10)
    pipe = r.pipeline(transaction=False)
    for i in range(KEYS):
        pipe.set(f"s:{i}", rng.randbytes(rng.randint(100, 1000)))
        pipe.hset(f"h:{i}", mapping={f"f{j}": "v" * rng.randint(10, 120) for j in range(6)})
    pipe.execute()


@pytest.fixture(scope="module")
def ports(resp_server, redis_port: int) -> Iterator[dict[str, int]]:
    """Both servers, holding the same KEYS strings and hashes."""
    ports = {"respserver": resp_server.port, "redis-server": redis_port}
    for port in ports.values():
        r = redis.Redis(port=port)
        r.flushall()
        _load(r)
        r.close()
    yield ports


def _digest(replies: list) -> str:
    """A fingerprint of a pipeline's replies (so two long ones compare without both in memory)."""
    h = hashlib.sha256()
    for reply in replies:
        h.update(repr(sorted(reply.items()) if isinstance(reply, dict) else reply).encode())
    return h.hexdigest()


def _commands(count: int) -> Iterator[tuple[str, str]]:
    return (READS[i % len(READS)] for i in range(count))


def _options(port: int, protocol: int, parser: type | None) -> dict:
    """A connection pool's options: hiredis (redis-py's default when installed) or ``parser``."""
    options = {"port": port, "protocol": protocol, "socket_timeout": TIMEOUT}
    return options | ({"parser_class": parser} if parser else {})


def _sync_pipeline(port: int, count: int, protocol: int, parser: type | None) -> str:
    pool = redis.ConnectionPool(**_options(port, protocol, parser))
    r = redis.Redis(connection_pool=pool)
    try:
        pipe = r.pipeline(transaction=False)
        for name, key in _commands(count):
            getattr(pipe, name)(key)
        replies = pipe.execute()
        assert len(replies) == count
        return _digest(replies)
    finally:
        r.close()
        pool.disconnect()


def _async_pipeline(port: int, count: int, protocol: int, parser: type | None) -> str:
    async def main() -> str:
        pool = redis.asyncio.ConnectionPool(**_options(port, protocol, parser))
        r = redis.asyncio.Redis(connection_pool=pool)
        try:
            pipe = r.pipeline(transaction=False)
            for name, key in _commands(count):
                getattr(pipe, name)(key)
            replies = await pipe.execute()
            assert len(replies) == count
            return _digest(replies)
        finally:
            await r.aclose()
            await pool.disconnect()

    return asyncio.run(main())


RUNNERS = {"sync": _sync_pipeline, "asyncio": _async_pipeline}


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


def test_pipelines_at_once_leave_a_normal_client_served(ports):
    """Three clients send long pipelines of large replies at once, while another runs one
    command at a time: that one keeps being served, and everyone gets their replies."""
    port = ports["respserver"]
    results: dict[int, str] = {}

    def pipeline(n: int) -> None:
        results[n] = _sync_pipeline(port, 100_000, 2, None)

    expected = _sync_pipeline(port, 100_000, 2, None)
    threads = [threading.Thread(target=pipeline, args=(n,), daemon=True) for n in range(3)]
    for thread in threads:
        thread.start()
    normal = redis.Redis(port=port, socket_timeout=TIMEOUT)
    served, slowest = 0, 0.0
    while any(thread.is_alive() for thread in threads) and served < 100_000:
        started = time.monotonic()
        assert normal.set("normal", served) and normal.get("normal") == str(served).encode()
        slowest = max(slowest, time.monotonic() - started)
        served += 1
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    normal.close()
    assert results == {0: expected, 1: expected, 2: expected}
    assert served >= 20  # served all along, not once the pipelines were done
    assert slowest < 5  # a liveness bound, not a speed target


def _client_line(port: int, name: str) -> dict[str, str]:
    r = redis.Redis(port=port)
    try:
        (line,) = [c for c in r.client_list() if c["name"] == name]
        return line
    finally:
        r.close()


def test_a_client_that_does_not_read_has_its_replies_counted(ports):
    """Unsent replies are the client's output buffer: CLIENT LIST's omem and part of
    used_memory, released when the client goes."""
    port = ports["respserver"]
    r = redis.Redis(port=port)
    r.set("big", b"x" * 100_000)
    before = r.info("memory")["used_memory"]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(hiredis.pack_command(("CLIENT", "SETNAME", "reader")))
    sock.sendall(hiredis.pack_command(("GET", "big")) * 300)  # 30 MB of replies, none read
    deadline = time.monotonic() + 30
    while int(_client_line(port, "reader")["omem"]) < 20_000_000:
        assert time.monotonic() < deadline, _client_line(port, "reader")
        time.sleep(0.05)
    line = _client_line(port, "reader")
    assert int(line["tot-mem"]) >= int(line["omem"]) and int(line["oll"]) > 1000
    assert r.info("memory")["used_memory"] - before >= 20_000_000
    sock.close()
    deadline = time.monotonic() + 10
    while r.info("memory")["used_memory"] - before > 1_000_000:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r.close()


def test_an_incomplete_request_is_counted_in_qbuf(ports):
    port = ports["respserver"]
    conn = RawConnection(port)
    conn.call("CLIENT", "SETNAME", "partial")
    conn.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + b"v" * 50_000)
    deadline = time.monotonic() + 10
    while int(_client_line(port, "partial")["qbuf"]) < 50_000:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    conn.send_raw(b"v" * 50_000 + b"\r\n")
    assert conn.read_reply() == b"+OK\r\n"
    assert _client_line(port, "partial")["qbuf"] == "0"
    conn.close()


def test_a_pipeline_of_large_replies_under_an_output_limit_is_cut_off(ports):
    """What bounds a client that never reads is the output-buffer limit, when it is set."""
    port = ports["respserver"]
    admin = redis.Redis(port=port)
    admin.set("big", b"x" * 100_000)
    admin.config_set("client-output-buffer-limit", "normal 4mb 0 0")
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(hiredis.pack_command(("GET", "big")) * 200)  # 20 MB of replies
        time.sleep(0.2)
        received = 0
        try:
            while chunk := sock.recv(1 << 20):  # the server closes it: reading ends
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < 8_000_000
        sock.close()
    finally:
        admin.config_set("client-output-buffer-limit", "normal 0 0 0")
        admin.close()
