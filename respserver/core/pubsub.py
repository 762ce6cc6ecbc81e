"""Pub/sub: who listens to which channel or pattern, and a message's way to them.

The owner keeps three namespaces, as Redis 7.0 does: channels, patterns (glob-style, matched
against every published channel) and shard channels (SSUBSCRIBE/SPUBLISH: on one node, the
same as channels but apart from them). Each maps a name to its subscribers in the order they
subscribed, which is the order a message reaches them; each client keeps the names it listens
to in the order it subscribed, which is the order UNSUBSCRIBE without arguments lets go of them.

A message for another client is encoded into that client's ``pushes`` at once and leaves with
the owner's round, in order with that client's replies (``Client.push``); a message for the
client that published it goes out just before PUBLISH's own reply, as in Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from respserver.keyspace.glob import compile_glob


class Client(Protocol):
    """What pub/sub needs of a client (core/state.py's): its subscriptions, and a way to
    queue a message for it."""

    channels: dict[bytes, None]
    patterns: dict[bytes, None]
    shard_channels: dict[bytes, None]
    subscriptions: int
    user: Reader

    def push_encoded(self, resp2: bytes, resp3: bytes) -> None: ...


class Reader(Protocol):
    """A client's ACL user, as far as a live query's message asks (security/acl.py's User)."""

    def may_read(self, key: bytes) -> bool: ...


# A namespace's subscribers: name -> clients, in subscription order (a dict as ordered set).
Subscribers = dict[bytes, dict[Client, None]]

CHANNELS, PATTERNS, SHARD_CHANNELS = "channels", "patterns", "shard_channels"


class PubSub:
    """Every subscription on the server, by namespace."""

    def __init__(self) -> None:
        self.channels: Subscribers = {}
        self.patterns: Subscribers = {}
        self.shard_channels: Subscribers = {}
        # Told when a channel's last subscriber leaves: the live queries on it end.
        self.on_deserted: Callable[[bytes], None] = lambda channel: None

    def has_subscribers(self) -> bool:
        """Whether any client subscribes to anything (the pubsub output limits then apply)."""
        return bool(self.channels or self.patterns or self.shard_channels)

    def subscribe(self, client: Client, namespace: str, name: bytes) -> bool:
        """Add a subscription; False if the client already had it."""
        mine = getattr(client, namespace)
        if name in mine:
            return False
        mine[name] = None
        getattr(self, namespace).setdefault(name, {})[client] = None
        client.subscriptions += 1
        return True

    def unsubscribe(self, client: Client, namespace: str, name: bytes) -> bool:
        """Remove a subscription; False if the client did not have it."""
        mine = getattr(client, namespace)
        if name not in mine:
            return False
        del mine[name]
        everyone = getattr(self, namespace)
        listeners = everyone[name]
        del listeners[client]
        if not listeners:
            del everyone[name]
            if namespace == CHANNELS:
                self.on_deserted(name)
        client.subscriptions -= 1
        return True

    def drop(self, client: Client) -> None:
        """A client gone, or RESET: every subscription of it ends, without replies."""
        for namespace in (CHANNELS, PATTERNS, SHARD_CHANNELS):
            for name in list(getattr(client, namespace)):
                self.unsubscribe(client, namespace, name)

    def publish(
        self, channel: bytes, message: bytes, shard: bool = False, about: bytes | None = None
    ) -> int:
        """Send ``message`` to the channel's subscribers, then to the clients of every pattern
        that matches it; how many received it (a client through two patterns: twice). A
        message ``about`` a key (a live query's) goes only to clients whose user may read it."""
        if shard:
            listeners = self.shard_channels.get(channel, ())
            _send(listeners, [b"smessage", channel, message])
            return len(listeners)
        listeners = _readers(self.channels.get(channel, ()), about)
        _send(listeners, [b"message", channel, message])
        receivers = len(listeners)
        for pattern, clients in self.patterns.items():
            if compile_glob(pattern).match(channel):
                clients = _readers(clients, about)
                _send(clients, [b"pmessage", pattern, channel, message])
                receivers += len(clients)
        return receivers

    def active(self, namespace: str, pattern: bytes | None) -> Iterator[bytes]:
        """PUBSUB CHANNELS / SHARDCHANNELS: the names with a subscriber, matching ``pattern``."""
        names = getattr(self, namespace)
        if pattern is None:
            return iter(list(names))
        glob = compile_glob(pattern)
        return (name for name in list(names) if glob.match(name))

    def count(self, namespace: str, name: bytes) -> int:
        """How many clients subscribe to ``name``."""
        return len(getattr(self, namespace).get(name, ()))


def _readers(clients: dict[Client, None] | tuple[()], key: bytes | None) -> dict | tuple:
    """Those of ``clients`` that may read ``key`` (all of them for a message about no key)."""
    if key is None or not clients:
        return clients
    return {client: None for client in clients if client.user.may_read(key)}


def _send(clients: dict[Client, None] | tuple[()], message: list[bytes]) -> None:
    """One message to many clients, encoded once per protocol: the same bulk strings after an
    array header in RESP2, a push header in RESP3."""
    if clients:
        body = b"".join([b"$%d\r\n%s\r\n" % (len(part), part) for part in message])
        resp2, resp3 = b"*%d\r\n%s" % (len(message), body), b">%d\r\n%s" % (len(message), body)
        for client in clients:
            client.push_encoded(resp2, resp3)
