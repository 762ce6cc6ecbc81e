"""CLIENT PAUSE / CLIENT UNPAUSE against redis-server 7.0.15 with several connections per
server: which commands a pause holds (ALL: every one; WRITE: those that may change data), that
held commands and what a client pipelined behind them run, in order, when CLIENT UNPAUSE comes
or the pause's time is over, and the errors. Replies are compared byte for byte."""

from __future__ import annotations

import time

import pytest

from tests.helpers.clients import Clients

pytestmark = pytest.mark.differential


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def clients(request, resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, request.param)
    yield c
    c.call("admin", "CLIENT", "UNPAUSE")
    c.close()


def test_errors(clients):
    for args in (("-1",), ("abc",), ("10", "foo"), ("1.5",), ("10", "write", "all")):
        clients.call("admin", "CLIENT", "PAUSE", *args)
    clients.call("admin", "CLIENT", "PAUSE", "0")  # no pause at all
    assert clients.call("w", "SET", "k", "v") == b"OK"


def test_a_write_pause_holds_writes_until_unpause(clients):
    clients.call("admin", "CLIENT", "PAUSE", "10000", "WRITE")
    clients.block("w", "SET", "k", "v")
    clients.send("w", "GET", "k")  # pipelined behind the held write: waits too
    assert clients.call("r", "GET", "k") is None  # reads go on
    clients.block("p", "PUBLISH", "ch", "m")  # may_replicate: held too
    clients.call("m", "MULTI")
    clients.block("m", "INCR", "n")  # even queued, a write is held
    clients.call("admin", "CLIENT", "UNPAUSE")
    assert clients.read_many("w", 2) == [b"OK", b"v"]
    assert clients.read("p") == 0
    clients.read("m")  # QUEUED
    assert clients.call("m", "EXEC") == [1]


def test_an_all_pause_holds_every_command_until_its_time_is_over(clients):
    clients.conn("r"), clients.conn("u")  # connected first: HELLO would be held too
    started = time.monotonic()
    clients.call("admin", "CLIENT", "PAUSE", "300")
    clients.send("r", "GET", "k")
    clients.send("u", "CLIENT", "UNPAUSE")  # held as well: INFO too, so nothing can ask
    time.sleep(0.1)
    for conn in (*clients.conn("r"), *clients.conn("u")):
        conn.sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            conn.sock.recv(1)  # no reply yet
        conn.sock.settimeout(10)
    assert clients.read("r") is None
    assert clients.read("u") == b"OK"
    assert time.monotonic() - started >= 0.3


def test_a_held_blocking_command_waits_after_the_pause(clients):
    clients.call("admin", "CLIENT", "PAUSE", "10000", "WRITE")
    clients.block("b", "BLPOP", "list", "0")  # a write: held by the pause
    clients.call("admin", "CLIENT", "UNPAUSE")
    clients.blocked(1)  # now waiting on the list
    clients.call("w", "RPUSH", "list", "x")
    assert clients.read("b") == [b"list", b"x"]
