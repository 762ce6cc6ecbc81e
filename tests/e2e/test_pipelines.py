"""Long pipelines on respserver alone: pipelines at once leave a client that runs one command
at a time served, a client that does not read has its unsent replies counted (CLIENT LIST's
omem, used_memory) and its partial request in qbuf, and an output-buffer limit cuts off a
pipeline of large replies. (Replies compared with redis-server's:
tests/differential/test_pipelines.py.)"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import hiredis
import pytest
import redis

from tests.conftest import RawConnection
from tests.helpers.pipelines import TIMEOUT, load, sync_pipeline


@pytest.fixture(scope="module")
def port(resp_server) -> Iterator[int]:
    """respserver, holding the strings and hashes the pipelines read."""
    r = redis.Redis(port=resp_server.port)
    r.flushall()
    load(r)
    r.close()
    yield resp_server.port


def test_pipelines_at_once_leave_a_normal_client_served(port):
    """Three clients send long pipelines of large replies at once, while another runs one
    command at a time: that one keeps being served, and everyone gets their replies."""
    results: dict[int, str] = {}

    def pipeline(n: int) -> None:
        results[n] = sync_pipeline(port, 100_000, 2, None)

    expected = sync_pipeline(port, 100_000, 2, None)
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


def test_a_client_that_does_not_read_has_its_replies_counted(port):
    """Unsent replies are the client's output buffer: CLIENT LIST's omem and part of
    used_memory, released when the client goes."""
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


def test_an_incomplete_request_is_counted_in_qbuf(port):
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


def test_a_pipeline_of_large_replies_under_an_output_limit_is_cut_off(port):
    """What bounds a client that never reads is the output-buffer limit, when it is set."""
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
