"""Keyspace notifications against redis-server 7.0.15: which events a command publishes, on
which channels, in which order, for every class selected or not (notify-keyspace-events), and
where they go relative to the command's reply. Each case runs the same commands on both servers
and compares what a subscriber to every keyspace and keyevent channel receives, byte for byte
(the ``events`` fixture). Lists, sets and hashes: test_notifications_collections.py; sorted
sets, geo, SORT, bitmaps and HyperLogLog: test_notifications_sorted.py; streams: with theirs."""

from __future__ import annotations

import time

import pytest

from tests.helpers.clients import Clients

pytestmark = pytest.mark.differential


def _events(seen: list[tuple[bytes, ...]]) -> list[bytes]:
    """The keyevent channel's event names, in order."""
    return [channel.split(b":", 1)[1] for channel, _ in seen if channel.startswith(b"__keyevent")]


def test_set_publishes_on_the_keyspace_then_the_keyevent_channel(events):
    seen = events.run(("SET", "k", "v"))
    assert seen == [(b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k")]


def test_string_commands(events):
    seen = events.run(
        ("SET", "s", "1", "EX", "100"),  # set, then expire
        ("SET", "s", "2", "KEEPTTL"),
        ("SET", "s", "3", "NX"),  # nothing set: nothing published
        ("SET", "s", "4", "XX", "GET"),
        ("SETNX", "s", "5"),
        ("SETNX", "n", "5"),
        ("SETEX", "e", "100", "v"),
        ("PSETEX", "e", "100000", "v"),
        ("GETSET", "s", "9"),
        ("MSET", "a", "1", "b", "2"),
        ("MSETNX", "a", "1", "c", "2"),
        ("MSETNX", "c", "1", "d", "2"),
        ("APPEND", "a", "x"),
        ("APPEND", "fresh", "x"),
        ("INCR", "n"),
        ("DECR", "n"),
        ("INCRBY", "n", "5"),
        ("DECRBY", "n", "5"),
        ("INCRBYFLOAT", "n", "1.5"),
        ("SETRANGE", "a", "3", "yz"),
        ("SETRANGE", "a", "0", ""),  # no change
        ("GETDEL", "b"),
        ("GETDEL", "b"),
        ("GETEX", "a", "EX", "100"),
        ("GETEX", "a", "PERSIST"),
        ("GETEX", "a", "PERSIST"),  # no TTL to remove
        ("GETEX", "a", "PXAT", "1"),  # in the past: deleted
    )
    assert b"incrbyfloat" in _events(seen)


def test_generic_commands(events):
    seen = events.run(
        ("MSET", "a", "1", "b", "2", "c", "3"),
        ("DEL", "a", "nosuch", "b"),
        ("UNLINK", "c"),
        ("SET", "k", "v"),
        ("EXPIRE", "k", "100"),
        ("PEXPIRE", "k", "100000"),
        ("EXPIRE", "k", "100", "NX"),  # refused: nothing published
        ("EXPIREAT", "k", "99999999999"),
        ("PERSIST", "k"),
        ("PERSIST", "k"),
        ("RENAME", "k", "k2"),
        ("SET", "k3", "x"),
        ("RENAME", "k2", "k3"),  # over an existing key
        ("RENAMENX", "k3", "k3"),
        ("RENAME", "k3", "k3"),
        ("SET", "other", "y"),
        ("RENAMENX", "k3", "other"),
        ("MOVE", "k3", "1"),
        ("COPY", "other", "copied"),
        ("COPY", "other", "copied", "REPLACE"),
        ("COPY", "other", "elsewhere", "DB", "2"),
        ("EXPIRE", "other", "-1"),  # in the past: deleted
        ("SELECT", "1"),
        ("DEL", "k3"),
        ("SELECT", "2"),
        ("FLUSHDB",),  # no event
        ("SELECT", "0"),
        ("SWAPDB", "0", "1"),  # no event
        ("SWAPDB", "0", "1"),
    )
    assert b"move_to" in _events(seen)


def test_restore_publishes_restore(events):
    payload = events.clients.call("w", "DUMP", "nosuch")
    assert payload is None
    events.run(("SET", "src", "hello"))
    dumped = events.clients.call("w", "DUMP", "src")
    seen = events.run(
        ("RESTORE", "dst", "0", dumped),
        ("RESTORE", "dst", "0", dumped, "REPLACE"),
        ("RESTORE", "dst", "1", dumped, "REPLACE", "ABSTTL"),  # in the past: nothing stored
    )
    assert b"restore" in _events(seen)


def test_only_the_selected_classes_are_published(events):
    events.configure("K$")  # keyspace channel only, strings only
    seen = events.run(("SET", "k", "v"), ("EXPIRE", "k", "100"), ("DEL", "k"))
    assert seen == [(b"__keyspace@0__:k", b"set")]
    events.configure("Eg")
    seen = events.run(("SET", "k", "v"), ("EXPIRE", "k", "100"), ("DEL", "k"))
    assert seen == [(b"__keyevent@0__:expire", b"k"), (b"__keyevent@0__:del", b"k")]
    events.configure("g$")  # no channel kind: nothing at all
    assert events.run(("SET", "k", "v"), ("DEL", "k")) == []


def test_new_keys_are_published_only_with_class_n(events):
    events.configure("KEn")
    seen = events.run(
        ("SET", "k", "v"),
        ("SET", "k", "w"),  # not new
        ("APPEND", "a", "x"),
        ("INCR", "i"),
        ("MSET", "k", "1", "m", "2"),
        ("RENAME", "k", "m"),  # Redis adds the destination anew
        ("COPY", "m", "c"),
        ("DEL", "m", "c", "a", "i"),
    )
    assert _events(seen).count(b"new") >= 5
    events.configure("AKE")  # A leaves n out
    assert b"new" not in _events(events.run(("SET", "fresh", "v")))


def test_a_config_with_new_keys_shows_as_redis_prints_it(events):
    events.configure("AnKE")
    shown = events.clients.call("admin", "CONFIG", "GET", "notify-keyspace-events")
    assert list(shown.values() if isinstance(shown, dict) else shown)[-1] == b"AKE"
    assert b"new" in _events(events.run(("SET", "fresh", "v")))


def test_an_expired_key_read_or_written_is_expired_first(events):
    """Found by the read or the write (lazily) or by the expiry cycle first, a key whose time
    ran out is an ``expired`` event before what the command publishes. One key at a time: two
    keys could go in either order by the cycle."""
    events.configure("KEAm")
    events.run(("SET", "k", "v", "PX", "1"))
    time.sleep(0.01)
    seen = events.run(("GET", "k"))
    assert seen[:2] == [(b"__keyspace@0__:k", b"expired"), (b"__keyevent@0__:expired", b"k")]
    events.run(("SET", "j", "v", "PX", "1"))
    time.sleep(0.01)
    seen = events.run(("SET", "j", "new"))
    assert [message for channel, message in seen if channel.startswith(b"__keyspace")] == [
        b"expired",
        b"set",
    ]


def test_active_expiry_publishes_expired(events):
    events.run(("SET", "k", "v", "PX", "10"))
    time.sleep(0.3)  # several expiry cycles (hz 10) on both servers
    seen = events.seen()
    assert seen == [(b"__keyspace@0__:k", b"expired"), (b"__keyevent@0__:expired", b"k")]


def test_key_misses_of_reads(events):
    events.configure("KEm")
    events.run(("SET", "present", "v"), ("HSET", "h", "f", "v"))
    seen = events.run(
        ("GET", "nosuch"),
        ("GET", "present"),
        ("MGET", "a", "present", "b"),
        ("EXISTS", "nosuch"),
        ("TYPE", "nosuch"),
        ("STRLEN", "nosuch"),
        ("HGET", "nosuch", "f"),
        ("HGET", "h", "nosuch"),  # the key is there: no miss
        ("LRANGE", "nosuch", "0", "-1"),
        ("SMEMBERS", "nosuch"),
        ("ZSCORE", "nosuch", "m"),
        ("SET", "w", "v"),  # a write's lookup is no miss
        ("DEL", "nosuch"),
    )
    assert b"keymiss" in _events(seen)


def test_eviction_publishes_evicted(events):
    clients = events.clients
    clients.call("admin", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    events.run(("SET", "victim", "v"))
    clients.call("admin", "CONFIG", "SET", "maxmemory", "1")
    try:
        clients.call("w", "SET", "other", "v")  # evicts every key, then refuses: OOM
    finally:
        clients.call("admin", "CONFIG", "SET", "maxmemory", "0")
        clients.call("admin", "CONFIG", "SET", "maxmemory-policy", "noeviction")
    assert events.seen() == [
        (b"__keyspace@0__:victim", b"evicted"),
        (b"__keyevent@0__:evicted", b"victim"),
    ]


def test_a_transaction_publishes_each_command_s_events(events):
    seen = events.run(
        ("MULTI",),
        ("SET", "a", "1"),
        ("INCR", "a"),
        ("DEL", "a"),
        ("EXEC",),
    )
    assert _events(seen) == [b"set", b"incrby", b"del"]


def test_events_are_per_database(events):
    seen = events.run(("SELECT", "3"), ("SET", "k", "v"), ("SELECT", "0"))
    assert seen == [(b"__keyspace@3__:k", b"set"), (b"__keyevent@3__:set", b"k")]


def test_a_subscriber_gets_its_own_events_before_its_reply(resp_port: int, redis_port: int):
    """A client subscribed to its own key's events (RESP3, where it may still write): the
    event comes first, then the command's reply, as Redis writes the event into its output
    as it happens; inside EXEC's reply, as Redis 7.0 writes it there."""
    clients = Clients(resp_port, redis_port, 3)
    clients.call("admin", "CONFIG", "SET", "notify-keyspace-events", "KA")
    clients.call("me", "SUBSCRIBE", "__keyspace@0__:mine")
    clients.send("me", "SET", "mine", "v")
    clients.read_many("me", 2)
    clients.send("me", "MULTI")
    clients.send("me", "DEL", "mine")
    clients.send("me", "EXEC")
    clients.read_many("me", 3)
    clients.send("me", "PUBLISH", "__keyspace@0__:mine", "hi")
    clients.read_many("me", 2)
    clients.call("admin", "CONFIG", "SET", "notify-keyspace-events", "")
    clients.close()
