"""The transport over real sockets: framing, protocol errors, hostile and misbehaving clients.
Where Redis has an answer, the bytes must be the ones redis-server sends."""

from __future__ import annotations

import socket
import threading
import time

import hiredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RawConnection


def exchange(port: int, wire: bytes, timeout: float = 2.0) -> tuple[bytes, bool]:
    """Send ``wire``, then read until the server closes or goes quiet; (bytes, closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(wire)
        received = bytearray()
        sock.settimeout(0.3)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return bytes(received), False
            if not chunk:
                return bytes(received), True
            received += chunk
        return bytes(received), False


@pytest.mark.parametrize(
    "wire",
    [
        b"PING\r\n",
        b"ping hello\r\necho 'a b'\r\n\r\nECHO \"x\\x41\"\n",
        b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
        b"*1\r\n:5\r\n*1\r\n$4\r\nPING\r\n",
        b"*2\r\n$4\r\nECHO\r\n*1\r\n",
        b"*3000000000\r\n",
        b"*-1\r\n*0\r\nPING\r\n",
        b"*1\r\n$600000000\r\n",
        b"*1\r\n$-3\r\n",
        b"*abc\r\n",
        b'ECHO "unbalanced\r\n',
        b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n",
        b"NOSUCH a\r\nPING\r\n",
    ],
)
def test_raw_frames_get_redis_replies_and_closes(resp_port, redis_port, wire):
    ours = exchange(resp_port, wire)
    real = exchange(redis_port, wire)
    assert ours == real


def test_an_oversized_declared_bulk_is_refused_before_it_is_sent(resp_port):
    # Only the header is sent: the refusal cannot have waited for (or buffered) the payload.
    reply, closed = exchange(resp_port, b"*2\r\n$3\r\nSET\r\n$629145600\r\n")
    assert reply == b"-ERR Protocol error: invalid bulk length\r\n"
    assert closed


def test_half_closed_client_still_gets_its_replies(resp_port, redis_port):
    results = []
    for port in (resp_port, redis_port):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(hiredis.pack_command(("ECHO", "bye")) + b"PING\r\n")
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := sock.recv(1024):
                data += chunk
            results.append(data)
    assert results[0] == results[1] == b"$3\r\nbye\r\n+PONG\r\n"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(1, 200), max_size=8))
def test_a_pipeline_split_anywhere_gets_the_same_replies(resp_port, cuts):
    cmds = [("SET", "split:k", "v" * 50), ("GET", "split:k"), ("ECHO", "x\r\ny"), ("PING",)]
    wire = b"".join(hiredis.pack_command(c) for c in cmds)
    with socket.create_connection(("127.0.0.1", resp_port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = 0
        for cut in sorted(c % (len(wire) + 1) for c in cuts) + [len(wire)]:
            if cut > start:
                sock.sendall(wire[start:cut])
                time.sleep(0.001)
                start = cut
        expected = b"+OK\r\n$50\r\n" + b"v" * 50 + b"\r\n$4\r\nx\r\ny\r\n+PONG\r\n"
        data = b""
        while len(data) < len(expected):
            data += sock.recv(4096)
    assert data == expected


def test_a_client_that_never_reads_does_not_stall_the_others(resp_port):
    big = RawConnection(resp_port)
    big.call("SET", "stall:big", "x" * 100_000)
    # 100 MB of replies requested, none read: with no output limit the server buffers them,
    # as Redis does, a slice per round, and serves the others meanwhile.
    stalled = socket.create_connection(("127.0.0.1", resp_port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = hiredis.pack_command(("GET", "stall:big")) * 1_000
    sender = threading.Thread(target=lambda: _send_quietly(stalled, request), daemon=True)
    sender.start()
    time.sleep(0.3)
    other = RawConnection(resp_port)
    started = time.monotonic()
    for _ in range(50):
        assert other.call("PING") == b"+PONG\r\n"
    assert time.monotonic() - started < 5
    stalled.close()
    other.close()
    big.close()


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:
        pass


def test_many_concurrent_clients_each_get_their_own_answers(resp_port):
    errors = []

    def worker(n: int) -> None:
        conn = RawConnection(resp_port)
        try:
            for i in range(50):
                value = f"{n}:{i}".encode()
                conn.call("SET", f"conc:{n}", value)
                got = conn.call("GET", f"conc:{n}")
                if got != b"$%d\r\n%s\r\n" % (len(value), value):
                    errors.append((n, i, got))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
