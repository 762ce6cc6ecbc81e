"""MONITOR against redis-server 7.0.15: the lines a monitoring client receives for what other
clients run (timestamps and client addresses masked, the rest byte for byte), what is hidden
or redacted, and how the monitoring connection itself behaves."""

from __future__ import annotations

import re

import pytest

from tests.helpers.clients import Clients, pack, read_replies

pytestmark = pytest.mark.differential

_STAMP = re.compile(rb"^\+\d+\.\d{6} \[(\d+) [^\]]+\] ", re.M)


def _masked(raw: bytes) -> bytes:
    return _STAMP.sub(rb"+T [\1 ADDR] ", raw)


@pytest.fixture
def clients(resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, 2)
    yield c
    c.close()


def _watch(clients: Clients, commands: list[tuple[object, ...]], lines: int) -> bytes:
    """Run ``commands`` on a worker connection (its replies read and compared) while "m"
    monitors; the ``lines`` the monitor received, masked, equal on both servers."""
    clients.conn("w")  # connected (its HELLO sent) before the monitor starts
    assert clients.call("m", "MONITOR") == b"OK"
    for conn in clients.conn("w"):
        conn.send_raw(b"".join(pack(args) for args in commands))
    clients.read_many("w", len(commands))
    seen = [_masked(read_replies(conn, lines)) for conn in clients.conn("m")]
    assert seen[0] == seen[1], f"\n  respserver:   {seen[0]!r}\n  redis-server: {seen[1]!r}"
    clients.call("m", "RESET")
    return seen[0]


def test_monitor_shows_each_command_run_quoted_as_redis_quotes(clients):
    seen = _watch(
        clients,
        [
            ("SET", 'a"', b"\x01\n\\b\t\r\xff"),
            ("GET", "a b"),
            ("SELECT", "2"),
            ("INCR", "n"),
            ("MULTI",),
            ("INCR", "n"),
            ("LPUSH", "l", "x"),
            ("EXEC",),
            ("SELECT", "0"),
            ("NOSUCH", "x"),  # refused before it ran: not shown
            ("GET",),
            ("CONFIG", "GET", "maxmemory-policy"),  # admin: not shown
            ("PING",),
        ],
        10,
    )
    assert seen.count(b"\r\n") == 10 and b'"NOSUCH"' not in seen and b'"CONFIG"' not in seen


def test_passwords_are_redacted(clients):
    _watch(
        clients,
        [
            ("AUTH", "secret"),
            ("AUTH", "user", "secret"),
            ("HELLO", "2", "AUTH", "nobody", "pw", "SETNAME", "x"),
            ("HELLO", "2", "SETNAME", "app", "AUTH", "nobody", "x"),
            ("HELLO", "2", "AUTH", "default"),
            ("PING", "end"),
        ],
        6,
    )


def test_the_monitoring_connection(clients):
    assert clients.call("m", "MONITOR") == b"OK"
    for conn in clients.conn("m"):
        conn.send_raw(pack(("PING",)) + pack(("GET", "a")) + pack(("MONITOR",)))
        conn.send_raw(pack(("SELECT", "2")))
    raws = [_masked(read_replies(conn, 5)) for conn in clients.conn("m")]
    # PONG and its own PING's line, the GET refused, nothing for MONITOR again, SELECT's OK
    # and its line
    assert raws[0] == raws[1] and raws[0].count(b"\r\n") == 5
    clients.call("m", "RESET")
    clients.call("m", "PING")  # no longer monitoring
    clients.call("m", "MULTI")
    clients.call("m", "MONITOR")
    clients.call("m", "EXEC")  # MONITOR inside EXEC is refused


def test_client_list_flags_a_monitor(clients):
    clients.call("m", "MONITOR")
    for admin, own in zip(clients.conn("w"), clients.conn("m"), strict=True):
        port = own.sock.getsockname()[1]
        listing = admin.call("CLIENT", "LIST").decode()
        (line,) = [line for line in listing.splitlines() if f":{port} " in line]
        assert " flags=O " in line
