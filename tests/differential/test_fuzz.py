"""A protocol fuzzer: random, mutated and hostile frames go to respserver and to a real
redis-server over fresh connections, half-closed after sending; both must answer with the same
bytes and close, and a well-behaved client on another connection keeps its correct replies."""

from __future__ import annotations

import re
import socket

import hiredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RawConnection

WORDS = [b"PING", b"ECHO", b"SET", b"GET", b"DEL", b"HSET", b"HGETALL", b"fuzz:k", b"fuzz:h", b"v"]


def frame(args: list[bytes]) -> bytes:
    return hiredis.pack_command(tuple(args)) if args else b"*0\r\n"


commands = st.lists(st.sampled_from(WORDS) | st.binary(max_size=12), min_size=0, max_size=5)
valid = commands.map(frame)
inline = st.lists(
    st.sampled_from([b"PING", b"ECHO", b'"quoted arg"', b"'single'", b"fuzz:k", b'"\\x41b"']),
    min_size=1,
    max_size=4,
).map(lambda words: b" ".join(words) + b"\r\n")
hostile = st.sampled_from(
    [
        b"*1\r\n$999999999999\r\n",  # a bulk length over proto-max-bulk-len
        b"*1\r\n$-5\r\n",
        b"*-1\r\n",
        b"*2\r\n$4\r\nPING\r\n:1\r\n",  # not a bulk string
        b"*1\r\n*1\r\n*1\r\n$1\r\nx\r\n",  # nesting
        b"*abc\r\n",
        b"$5\r\nhello\r\n",
        b"*1\r\n$4\r\nPIN",  # cut short
        b"*1048577\r\n",  # more arguments than an unauthenticated... but allowed here
        b'SET "unbalanced\r\n',
        b"\r\n\r\n",
        b"\x00\xff\xfe garbage\r\n",
        b"*3\r\n$3\r\nSET\r\n$6\r\nfuzz:k\r\n$536870913\r\n",
        # An inline request with no newline, far past the 64 kB inline limit: whatever the read
        # sizes (Redis reads 16 kB at a time), the limit is hit before a later newline arrives.
        b"x" * 200_000,
    ]
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(valid))
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "drop":
            del data[at]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=3))
    return bytes(data)


def no_bare_cr(data: bytes) -> bool:
    """Redis finds a header's end by its '\\r' alone and skips the next byte unread, so after
    '*0\\r\\x0b' it goes on as if a newline came; respserver requires '\\r\\n' there and
    answers a protocol error. A known difference (README), left out of the comparison."""
    return all(data[i + 1 : i + 2] == b"\n" for i in range(len(data)) if data[i] == 0x0D)


streams = (
    st.lists(valid | inline | hostile | mutated(), min_size=1, max_size=4)
    .map(b"".join)
    .filter(no_bare_cr)
)


def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, half-close, and read everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed first (an error it already sent)
        received = bytearray()
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return bytes(received)


def same_ids(reply: bytes) -> bytes:
    """HELLO's reply names the connection's id, which differs between the servers."""
    return re.sub(rb"\$2\r\nid\r\n:\d+\r\n", b"$2\r\nid\r\n:0\r\n", reply)


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=streams)
def test_hostile_streams_get_what_redis_sends(resp_port, redis_port, data):
    for port in (resp_port, redis_port):  # the same state on both before each stream
        flusher = RawConnection(port)
        assert flusher.call("FLUSHALL") == b"+OK\r\n"
        flusher.close()
    good = RawConnection(resp_port)
    try:
        assert same_ids(exchange(resp_port, data)) == same_ids(exchange(redis_port, data)), data
        assert good.call("SET", "fuzz:good", "ok") == b"+OK\r\n"
        assert good.call("GET", "fuzz:good") == b"$2\r\nok\r\n"
    finally:
        good.close()
