"""The transport over real sockets, on respserver alone: an oversized bulk refused before it
is sent, a pipeline split anywhere, a client that never reads stalling no one, and many
concurrent clients each getting their own answers. (Raw frames against redis-server:
tests/differential/test_transport.py.)"""

from __future__ import annotations

import socket
import threading
import time

import hiredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RawConnection
from tests.helpers.net import exchange


def test_an_oversized_declared_bulk_is_refused_before_it_is_sent(resp_port):
    # Only the header is sent: the refusal cannot have waited for (or buffered) the payload.
    reply, closed = exchange(resp_port, b"*2\r\n$3\r\nSET\r\n$629145600\r\n")
    assert reply == b"-ERR Protocol error: invalid bulk length\r\n"
    assert closed


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
