"""TLS on respserver alone, with certificates made for the test by a trustme CA: redis-py
(sync and asyncio) with a client certificate, protected mode after the handshake, the command
line serving TLS only (or exiting as Redis does), and plain and TLS ports at once. (Against a
redis-server with the same TLS settings: tests/differential/test_tls.py.)"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from respserver import ServerThread
from tests.conftest import free_port
from tests.helpers.cli import run_cli
from tests.helpers.net import outward_address
from tests.helpers.tls import Certs, make_certs, outcome

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """respserver on TLS only, with tls-auth-clients yes."""
    config = certs.server_config(dir=str(tmp_path_factory.mktemp("tls-server")))
    with ServerThread(port=None, tls_port=0, config=config) as server:
        yield server


@pytest.fixture
def tls_port(tls_server: ServerThread, certs: Certs) -> int:
    """The TLS port, its data flushed."""
    assert outcome(tls_server.tls_port, certs.client_context(), "FLUSHALL") == b"+OK\r\n"
    return tls_server.tls_port


# --- clients ------------------------------------------------------------------------------------


def test_redis_py_with_a_client_certificate(tls_port, certs):
    r = certs.redis_py(tls_port)
    assert r.ping()
    assert r.hset("user:1", mapping={"name": "ada", "lang": "en"}) == 2
    assert r.hgetall("user:1") == {b"name": b"ada", b"lang": b"en"}
    big = os.urandom(300_000)  # many TLS records each way
    assert r.set("big", big) and r.get("big") == big
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"k{i}", i)
    assert pipe.execute() == [True] * 500
    assert r.mget("k0", "k499") == [b"0", b"499"]
    info = r.client_info()
    assert info["laddr"] == f"127.0.0.1:{tls_port}" and int(info["fd"]) > 0
    r.close()


def test_redis_py_asyncio_with_a_client_certificate(tls_port, certs):
    async def main() -> list:
        r = redis.asyncio.Redis(
            port=tls_port,
            ssl=True,
            ssl_ca_certs=certs.path("ca.crt"),
            ssl_certfile=certs.path("client.crt"),
            ssl_keyfile=certs.path("client.key"),
        )
        try:
            await r.set("a", "1")
            return await asyncio.gather(r.incr("a"), r.get("a"), r.ping())
        finally:
            await r.aclose()

    assert asyncio.run(main()) == [2, b"2", True]


# --- protected mode, the command line, two ports ------------------------------------------------


def test_protected_mode_denies_an_outside_tls_client_after_the_handshake(certs, tmp_path):
    outward = outward_address()
    config = certs.server_config(**{"tls-auth-clients": "no", "dir": str(tmp_path)})
    with ServerThread(port=None, tls_port=0, bind=f"127.0.0.1 {outward}", config=config) as s:
        raw = socket.create_connection((outward, s.tls_port), timeout=5)
        conn = certs.client_context(cert=None).wrap_socket(raw, server_hostname="localhost")
        assert conn.recv(4096).startswith(b"-DENIED Redis is running in protected mode")
        conn.close()
        r = certs.redis_py(s.tls_port, cert=None)
        assert r.ping()  # loopback is let in
        r.close()


def test_command_line_serves_tls_only_or_exits_like_redis(certs, tmp_path):
    port = free_port()
    config = certs.server_config(**{"tls-auth-clients": "optional"})
    flags = [w for name, value in config.items() for w in (f"--{name}", value)]
    command = ["python3", "-m", "respserver", "--port", "0", "--tls-port", str(port), *flags]
    command += ["--dir", str(tmp_path), "--save", ""]
    failed = subprocess.run([*command, "--tls-key-file", certs.path("nope.key")], cwd=ROOT,
                            capture_output=True, timeout=30)  # fmt: skip
    assert failed.returncode == 1
    assert re.findall(r" # (.*)", failed.stdout.decode()) == [
        f"Failed to load private key: {certs.path('nope.key')}: error:80000002:system library::"
        "No such file or directory",
        "Failed to configure TLS. Check logs for more info.",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while outcome(port, certs.client_context(cert=None), "PING") != b"+PONG\r\n":
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        assert run_cli(port, "--tls", "--cacert", certs.path("ca.crt"), "CONFIG", "GET", "port")
        assert outcome(port, certs.client_context(), "CONFIG", "GET", "port") == (
            b"*2\r\n$4\r\nport\r\n$1\r\n0\r\n"  # no plain port, as Redis shows it
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_plain_and_tls_ports_at_once(certs, tmp_path):
    config = certs.server_config(dir=str(tmp_path))
    with ServerThread(port=0, tls_port=0, config=config) as s:
        assert s.port and s.tls_port and s.port != s.tls_port
        plain, secure = redis.Redis(port=s.port), certs.redis_py(s.tls_port)
        plain.set("shared", "yes")
        assert secure.get("shared") == b"yes"
        assert secure.config_get("*port") == {"port": str(s.port), "tls-port": str(s.tls_port)}
        plain.close()
        secure.close()
    with pytest.raises(ValueError, match="Configured to not listen anywhere"):
        ServerThread(port=None, config={"dir": str(tmp_path)}).start()
