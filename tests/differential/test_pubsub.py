"""Pub/sub (SUBSCRIBE PSUBSCRIBE SSUBSCRIBE, their UN- forms, PUBLISH SPUBLISH, PUBSUB) against
redis-server 7.0.15 with several real connections per server: the confirmations, the messages
each subscriber receives and in which order, the RESP2 subscriber mode, and what the server says
of its subscriptions. Every frame is read on both servers and must be equal byte for byte, RESP2
(arrays) and RESP3 (pushes)."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import RawConnection, parse
from tests.helpers.clients import Clients, pack

pytestmark = pytest.mark.differential


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def clients(request, resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, request.param)
    yield c
    c.close()


def _text(reply: object) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def test_subscribe_and_unsubscribe_confirm_each_channel(clients):
    clients.send("s", "SUBSCRIBE", "a", "b", "a")
    clients.read_many("s", 3)  # a twice: confirmed twice, counted once
    clients.send("s", "PSUBSCRIBE", "n*", "m?")
    clients.read_many("s", 2)  # the count covers channels and patterns: 3, then 4
    clients.send("s", "UNSUBSCRIBE", "b", "nosuch")
    clients.read_many("s", 2)
    clients.send("s", "PUNSUBSCRIBE")  # every pattern, in the order subscribed
    clients.read_many("s", 2)
    clients.send("s", "PUNSUBSCRIBE")  # none left: one confirmation with a null pattern
    clients.read("s")
    clients.send("s", "UNSUBSCRIBE")
    clients.read("s")
    clients.send("s", "UNSUBSCRIBE")
    clients.read("s")
    clients.call("s", "GET", "x")  # out of subscriber mode: any command again


def test_a_message_reaches_channel_subscribers_then_pattern_subscribers(clients):
    clients.call("a", "SUBSCRIBE", "news")
    clients.call("b", "PSUBSCRIBE", "ne*")
    clients.call("c", "SUBSCRIBE", "news")
    clients.call("c", "PSUBSCRIBE", "*s")
    assert clients.call("p", "PUBLISH", "news", "hello") == 4
    clients.read("a")
    clients.read("b")
    clients.read_many("c", 2)  # its channel's message, then its pattern's
    assert clients.call("p", "PUBLISH", "other", "x") == 0
    assert clients.call("p", "PUBLISH", "ness", "") == 2  # patterns only
    clients.read("b")
    clients.read("c")
    clients.call("a", "UNSUBSCRIBE", "news")
    assert clients.call("p", "PUBLISH", "news", "again") == 3
    clients.read("b")
    clients.read_many("c", 2)
    clients.call("b", "PING")  # nothing else was waiting for b


def test_messages_keep_their_order_among_replies(clients):
    clients.call("s", "SUBSCRIBE", "q")
    for i in range(20):
        clients.call("p", "PUBLISH", "q", f"m{i}")
    clients.read_many("s", 20)
    for conn in clients.conn("p"):
        conn.send_raw(b"".join(pack(("PUBLISH", "q", f"n{i}")) for i in range(50)))
    clients.read_many("p", 50)
    clients.read_many("s", 50)


def test_a_resp2_subscriber_may_only_subscribe_ping_quit_or_reset(clients):
    clients.call("s", "SUBSCRIBE", "a")
    for command in (
        ("GET", "k"),
        ("PUBLISH", "a", "x"),
        ("CLIENT", "GETNAME"),
        ("PUBSUB", "NUMPAT"),
        ("DBSIZE",),
        ("NOSUCH",),
        ("GET",),
        ("PING",),
        ("PING", "hi"),
        ("PING", "a", "b"),
    ):
        clients.call("s", *command)
    clients.send("s", "SSUBSCRIBE", "sh")
    clients.read("s")
    clients.send("s", "UNSUBSCRIBE", "a")
    clients.read("s")
    clients.call("s", "GET", "k")  # a shard channel still counts in RESP2: refused
    clients.send("s", "SUNSUBSCRIBE")
    clients.read("s")
    clients.call("s", "GET", "k")


def test_reset_and_disconnect_end_subscriptions(clients):
    clients.call("s", "SUBSCRIBE", "a")
    clients.call("t", "SUBSCRIBE", "a")
    clients.call("t", "PSUBSCRIBE", "a*")
    clients.call("p", "PUBSUB", "NUMSUB", "a")
    clients.call("s", "RESET")
    clients.call("p", "PUBSUB", "NUMSUB", "a")
    clients.call("s", "GET", "k")
    for conn in clients.conns.pop("t"):
        conn.close()
    clients.call("p", "PING")
    clients.call("p", "PING")  # (the server has seen the close by now on both)
    clients.call("p", "PUBSUB", "NUMSUB", "a")
    clients.call("p", "PUBSUB", "NUMPAT")
    assert clients.call("p", "PUBLISH", "a", "x") == 0


def test_pubsub_introspection(clients):
    clients.call("a", "SUBSCRIBE", "news.1")
    clients.call("b", "SUBSCRIBE", "news.1")
    clients.call("b", "SUBSCRIBE", "sport")
    clients.call("c", "PSUBSCRIBE", "news.*")
    clients.call("d", "PSUBSCRIBE", "news.*")
    clients.send("e", "SSUBSCRIBE", "shard.1", "shard.2")
    clients.read_many("e", 2)
    for command in (
        ("PUBSUB", "NUMSUB"),
        ("PUBSUB", "NUMSUB", "news.1", "sport", "nosuch", "news.*"),
        ("PUBSUB", "NUMPAT"),
        ("PUBSUB", "CHANNELS", "sp*"),
        ("PUBSUB", "CHANNELS", "x*"),
        ("PUBSUB", "SHARDNUMSUB", "shard.1", "news.1"),
        ("PUBSUB", "SHARDCHANNELS", "*.2"),
        ("PUBSUB", "CHANNELS", "a", "b"),
        ("PUBSUB", "SHARDCHANNELS", "a", "b"),
        ("PUBSUB", "NUMPAT", "x"),
        ("PUBSUB", "HELP"),
        ("PUBSUB", "NOSUCH"),
        ("PUBSUB",),
        ("PUBLISH", "a"),
        ("SPUBLISH", "shard.1", "m"),
        ("SPUBLISH", "news.1", "m"),
    ):
        clients.call("p", *command)
    clients.read("e")
    for name in ("CHANNELS", "SHARDCHANNELS"):
        found = [sorted(parse(conn.call("PUBSUB", name))) for conn in clients.conn("p")]
        assert found[0] == found[1] and found[0]
    infos = [_text(parse(conn.call("INFO", "stats"))) for conn in clients.conn("p")]
    for field in ("pubsub_channels:2", "pubsub_patterns:1", "pubsubshard_channels:2"):
        assert all(field in info for info in infos), field


def test_client_list_shows_subscriptions(clients):
    clients.call("s", "SUBSCRIBE", "a")
    clients.call("s", "PSUBSCRIBE", "b*")
    clients.send("s", "SSUBSCRIBE", "c", "d")
    clients.read_many("s", 2)
    fields = []
    for admin, own in zip(clients.conn("p"), clients.conn("s"), strict=True):
        port = own.sock.getsockname()[1]
        listing = _text(parse(admin.call("CLIENT", "LIST")))
        (line,) = [line for line in listing.splitlines() if f":{port} " in line]
        fields.append([f for f in line.split() if f.split("=")[0] in _SUBSCRIPTION_FIELDS])
    assert fields[0] == fields[1] == ["flags=P", "sub=1", "psub=1", "ssub=2"]


_SUBSCRIPTION_FIELDS = ("flags", "sub", "psub", "ssub")


def test_a_subscriber_that_publishes_gets_the_message_before_the_count(resp_port, redis_port):
    clients = Clients(resp_port, redis_port, 3)
    try:
        clients.call("s", "SUBSCRIBE", "me")
        clients.send("s", "PUBLISH", "me", "hi")
        clients.read_many("s", 2)  # the message (a push), then PUBLISH's count
        clients.call("s", "GET", "k")  # RESP3: any command while subscribed
    finally:
        clients.close()


def test_subscribing_inside_a_transaction(clients):
    clients.call("s", "MULTI")
    clients.call("s", "SUBSCRIBE", "a")
    clients.call("s", "SSUBSCRIBE", "b")
    # SUBSCRIBE may (its confirmation inside EXEC's array), SSUBSCRIBE may not
    clients.call("s", "EXEC")
    clients.call("p", "PUBSUB", "NUMSUB", "a")


def test_a_subscriber_that_does_not_read_is_cut_off(resp_port, redis_port):
    """The pubsub class of client-output-buffer-limit closes a subscriber whose unread
    messages pass the hard limit; the publisher goes on, and sees no receiver after."""
    payload = "x" * 10_000
    for port in (resp_port, redis_port):
        admin = RawConnection(port)
        admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 200000 0 0")
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", port))
        slow.sendall(pack(("SUBSCRIBE", "slow")))
        for _ in range(500):  # until the server has seen the subscription (bounded)
            if parse(admin.call("PUBSUB", "NUMSUB", "slow")) == [b"slow", 1]:
                break
        try:
            receivers = [parse(admin.call("PUBLISH", "slow", payload)) for _ in range(2000)]
            assert receivers[0] == 1 and receivers[-1] == 0, port
            assert parse(admin.call("PUBSUB", "NUMSUB", "slow")) == [b"slow", 0]
        finally:
            admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")
            slow.close()
            admin.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_client_reply_off_and_skip(resp_port, redis_port, protocol):
    """CLIENT REPLY OFF silences replies (not pub/sub messages: in RESP3 a subscription's
    confirmation and a message to oneself still arrive), SKIP the next command's, ON brings
    them back with an OK."""
    clients = Clients(resp_port, redis_port, protocol)
    sequence = [("CLIENT", "REPLY", "OFF"), ("PING",)]
    if protocol == 3:
        sequence += [("SUBSCRIBE", "a"), ("PUBLISH", "a", "x")]
    sequence += [
        ("CLIENT", "REPLY", "SKIP"),
        ("CLIENT", "REPLY", "ON"),
        ("PING",),
        ("CLIENT", "REPLY", "SKIP"),
        ("PING", "1"),
        ("PING", "2"),
        ("CLIENT", "REPLY", "SKIP"),
        ("CLIENT", "REPLY", "OFF"),
        ("PING", "3"),
        ("CLIENT", "REPLY", "ON"),
        ("CLIENT", "REPLY", "FOO"),
        ("CLIENT", "REPLY"),
    ]
    try:
        for conn in clients.conn("c"):
            conn.send_raw(b"".join(pack(args) for args in sequence))
        frames = clients.read_many("c", 8 if protocol == 3 else 6)
        assert str(frames[-2]) == "ERR syntax error"
        clients.call("c", "PING", "after")
    finally:
        clients.close()
