"""Fixtures: a respserver in a background thread and a real redis-server (the oracle), plus
``diff``, which sends the same command to both and asserts the raw reply bytes are equal."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hiredis
import pytest

from respserver import ServerThread

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_ping(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(100).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answers PING on port {port}")
        time.sleep(0.05)


@contextmanager
def redis_server_on(directory: Path, **options: str) -> Iterator[int]:
    """A real redis-server started on the files in ``directory``: its port, once loaded."""
    port = free_port()
    settings = {"save": "", "appendonly": "no", "loglevel": "warning", **options}
    flags = [word for name, value in settings.items() for word in (f"--{name}", value)]
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), *flags],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_ping(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real redis-server on a free loopback port. Missing it fails in CI and skips elsewhere."""
    if not os.path.exists(REDIS_SERVER):
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: differential tests cannot run")
        pytest.skip("redis-server is not installed")
    with redis_server_on(tmp_path_factory.mktemp("redis")) as port:
        yield port


@pytest.fixture(scope="session")
def resp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    # Its own dir, as the oracle has: a SAVE or BGREWRITEAOF a test sends writes nothing into
    # the checkout.
    workdir = tmp_path_factory.mktemp("respserver")
    with ServerThread(port=0, config={"dir": str(workdir)}) as server:
        yield server


@pytest.fixture
def resp_port(resp_server: ServerThread) -> int:
    return resp_server.port


class RawConnection:
    """A socket that sends packed commands and returns each reply's raw bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_reply(self) -> bytes:
        reader = hiredis.Reader()
        raw = bytearray()
        while True:
            reply = reader.gets()
            if reply is not False:
                return bytes(raw)
            chunk = self.sock.recv(65536)
            if not chunk:
                return bytes(raw)  # closed: the bytes so far (b"" if nothing)
            raw += chunk
            reader.feed(chunk)

    def call(self, *args: object) -> bytes:
        self.send_raw(hiredis.pack_command(tuple(args)))
        return self.read_reply()

    def close(self) -> None:
        self.sock.close()


def parse(raw: bytes) -> object:
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def _canonical(value: object) -> object:
    """Order-insensitive form of a parsed reply, for replies whose order Redis leaves open."""
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, dict):
        return sorted(((_canonical(k), _canonical(v)) for k, v in value.items()), key=repr)
    return value


class Diff:
    """Sends each command to respserver and to redis-server and compares the replies."""

    def __init__(self, resp_port: int, redis_port: int, protocol: int, flush: bool = True) -> None:
        self.protocol = protocol
        self.ours = RawConnection(resp_port)
        self.real = RawConnection(redis_port)
        for conn in (self.ours, self.real):
            conn.call("HELLO", str(protocol))
            if flush:
                conn.call("FLUSHALL")

    def both(self, *args: object) -> tuple[bytes, bytes]:
        """The raw replies of respserver and redis-server, uncompared."""
        return self.ours.call(*args), self.real.call(*args)

    def do(self, *args: object) -> bytes:
        """Assert the raw replies are identical byte for byte; return them."""
        ours, real = self.both(*args)
        assert ours == real, f"{args!r}:\n  respserver:   {ours!r}\n  redis-server: {real!r}"
        return ours

    def do_sorted(self, *args: object) -> object:
        """Assert the replies hold the same items, in any order (KEYS, HGETALL of big hashes...)."""
        ours, real = self.both(*args)
        assert _canonical(parse(ours)) == _canonical(parse(real)), (
            f"{args!r}:\n  respserver:   {ours!r}\n  redis-server: {real!r}"
        )
        return parse(ours)

    def close(self) -> None:
        self.ours.close()
        self.real.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def diff(request: pytest.FixtureRequest, resp_port: int, redis_port: int) -> Iterator[Diff]:
    d = Diff(resp_port, redis_port, request.param)
    yield d
    d.close()
