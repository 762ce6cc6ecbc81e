"""The transport over real sockets against redis-server: raw frames, good and bad, get the
bytes redis-server sends (and the connection closes where it closes), and a half-closed client
still gets its replies. (Framing and misbehaving clients on respserver alone:
tests/e2e/test_transport.py.)"""

from __future__ import annotations

import socket

import hiredis
import pytest

from tests.helpers.net import exchange


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
