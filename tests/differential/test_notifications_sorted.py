"""Keyspace notifications of the sorted-set, geo, SORT ... STORE, bitmap and HyperLogLog
commands against redis-server 7.0.15: each event Redis names (zadd, zincr, zrem, zpopmin...,
"del" when a key goes), in its order, and none when a command changed nothing (a score that
stays, a missing member, an option that skips, a bit already set). The ``events`` fixture
asserts that both servers publish the same messages byte for byte; each test also pins what
they are, so a command that publishes nothing on both sides still fails if it should have."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.differential


def happened(events, *commands: tuple[object, ...]) -> list[tuple[bytes, ...]]:
    """The (key, event) pairs the commands published, read from the keyspace channels (the
    keyevent ones carry the same, and the fixture compares them too)."""
    seen = events.run(*commands)
    return [(ch.split(b":", 1)[1], msg) for ch, msg in seen if ch.startswith(b"__keyspace")]


def test_zadd_and_zincrby_publish_only_a_change(events):
    assert happened(events, ("ZADD", "z", 1, "a", 2, "b")) == [(b"z", b"zadd")]
    unchanged = (
        ("ZADD", "z", 1, "a"),  # the same score
        ("ZADD", "z", "NX", 5, "a"),
        ("ZADD", "z", "XX", 3, "c"),
        ("ZADD", "z", "CH", 1, "a", 2, "b"),
        ("ZADD", "z", "GT", 0, "a"),
        ("ZADD", "z", "INCR", "NX", 1, "a"),
        ("ZINCRBY", "z", 0, "a"),
        ("ZADD", "nosuch", "XX", 1, "a"),
    )
    assert not happened(events, *unchanged)
    assert happened(
        events,
        ("ZADD", "z", "INCR", "-inf", "a"),
        ("ZADD", "z", "INCR", "+inf", "a"),  # -inf + inf is NaN: an error, no change
    ) == [(b"z", b"zincr")]
    assert happened(events, ("ZADD", "z", "XX", "CH", 5, "a", 7, "c")) == [(b"z", b"zadd")]
    assert happened(events, ("ZADD", "z", "INCR", 1, "b"), ("ZINCRBY", "z", 2, "new")) == [
        (b"z", b"zincr"),
        (b"z", b"zincr"),
    ]


def test_removals_name_their_command_then_del(events):
    events.run(("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"))
    assert not happened(
        events,
        ("ZREM", "z", "x"),
        ("ZREM", "nosuch", "a"),
        ("ZREMRANGEBYSCORE", "z", 10, 20),
        ("ZREMRANGEBYRANK", "z", 10, 20),
        ("ZREMRANGEBYLEX", "z", "[x", "[y"),
    )
    assert happened(
        events,
        ("ZREM", "z", "a", "x"),
        ("ZREMRANGEBYSCORE", "z", 2, 2),
        ("ZREMRANGEBYRANK", "z", 0, 0),
    ) == [(b"z", b"zrem"), (b"z", b"zremrangebyscore"), (b"z", b"zremrangebyrank")]
    assert happened(events, ("ZREMRANGEBYLEX", "z", "-", "+")) == [
        (b"z", b"zremrangebylex"),
        (b"z", b"del"),
    ]
    events.run(("ZADD", "z", 1, "a"))
    assert happened(events, ("ZREM", "z", "a", "b")) == [(b"z", b"zrem"), (b"z", b"del")]


def test_pops_publish_one_event_per_command(events):
    events.run(("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d"), ("ZADD", "y", 1, "a"))
    assert not happened(
        events, ("ZPOPMIN", "z", 0), ("ZPOPMIN", "nosuch"), ("ZMPOP", 1, "x", "MIN")
    )
    assert happened(events, ("ZPOPMIN", "z"), ("ZPOPMAX", "z", 2)) == [
        (b"z", b"zpopmin"),
        (b"z", b"zpopmax"),
    ]
    assert happened(
        events,
        ("ZMPOP", 2, "nosuch", "z", "MAX", "COUNT", 10),
        ("BZPOPMIN", "nosuch", "y", 0),
    ) == [(b"z", b"zpopmax"), (b"z", b"del"), (b"y", b"zpopmin"), (b"y", b"del")]
    events.run(("ZADD", "z", 1, "a", 2, "b"))
    assert happened(events, ("BZPOPMAX", "z", 0), ("BZMPOP", 0, 1, "z", "MIN")) == [
        (b"z", b"zpopmax"),
        (b"z", b"zpopmin"),
        (b"z", b"del"),
    ]


def test_a_blocked_pop_served_publishes_after_the_write_that_served_it(events):
    clients = events.clients
    clients.block("b", "BZPOPMIN", "z", 0)
    assert happened(events, ("ZADD", "z", 1, "a")) == [
        (b"z", b"zadd"),
        (b"z", b"zpopmin"),
        (b"z", b"del"),
    ]
    assert clients.read("b")[:2] == [b"z", b"a"]
    clients.block("b", "BZMPOP", 0, 2, "x", "z", "MAX", "COUNT", 1)
    assert happened(events, ("ZADD", "z", 1, "a", 2, "b")) == [
        (b"z", b"zadd"),
        (b"z", b"zpopmax"),
    ]
    assert clients.read("b")[0] == b"z"
    clients.block("b", "BZPOPMAX", "u", 0)
    clients.block("c", "BZPOPMIN", "u", 0)  # served second, from what the first left
    assert happened(events, ("ZUNIONSTORE", "u", 1, "z")) == [
        (b"u", b"zunionstore"),
        (b"u", b"zpopmax"),
        (b"u", b"del"),
    ]
    assert clients.read("b")[:2] == [b"u", b"a"]
    clients.call("w", "ZADD", "u", 1, "a")
    assert clients.read("c")[:2] == [b"u", b"a"]


def test_stores_name_their_command_or_delete_the_destination(events):
    events.run(("ZADD", "z", 1, "a", 2, "b"), ("ZADD", "y", 2, "b", 3, "c"))
    assert happened(
        events,
        ("ZUNIONSTORE", "u", 2, "z", "y"),
        ("ZINTERSTORE", "u", 2, "z", "y"),
        ("ZDIFFSTORE", "d", 2, "z", "y"),
        ("ZRANGESTORE", "r", "z", 0, 0),
    ) == [
        (b"u", b"zunionstore"),
        (b"u", b"zinterstore"),
        (b"d", b"zdiffstore"),
        (b"r", b"zrangestore"),
    ]
    assert happened(
        events,
        ("ZINTERSTORE", "u", 2, "z", "nosuch"),
        ("ZDIFFSTORE", "d", 2, "z", "z"),
        ("ZRANGESTORE", "r", "z", 5, 6),
        ("ZUNIONSTORE", "u", 1, "nosuch"),  # an empty result where there is no key
        ("ZRANGESTORE", "r", "nosuch", 0, -1),
    ) == [(b"u", b"del"), (b"d", b"del"), (b"r", b"del")]


def test_geo_writes_are_zadd_and_their_stores(events):
    place = (13.361389, 38.115556, "Palermo")
    assert happened(events, ("GEOADD", "g", *place), ("GEOADD", "g", *place)) == [
        (b"g", b"zadd"),
    ]
    search = ("FROMLONLAT", 15, 37, "BYRADIUS", 200, "km")
    assert happened(
        events,
        ("GEOSEARCHSTORE", "s", "g", *search),
        ("GEORADIUS", "g", 15, 37, 200, "km", "STORE", "s"),
        ("GEORADIUSBYMEMBER", "g", "Palermo", 10, "km", "STOREDIST", "s"),
    ) == [
        (b"s", b"geosearchstore"),
        (b"s", b"georadiusstore"),
        (b"s", b"georadiusstore"),
    ]
    assert happened(
        events,
        ("GEOSEARCHSTORE", "s", "g", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km"),
        ("GEOSEARCHSTORE", "s", "g", *search),
        ("GEORADIUS", "nosuch", 15, 37, 200, "km", "STORE", "s"),
        ("GEORADIUS", "nosuch", 15, 37, 200, "km", "STORE", "s"),
    ) == [(b"s", b"del"), (b"s", b"geosearchstore"), (b"s", b"del")]


def test_sort_store_is_a_list_event(events):
    events.run(("RPUSH", "l", 3, 1, 2))
    assert happened(events, ("SORT", "l", "STORE", "dst"), ("SORT", "l")) == [
        (b"dst", b"sortstore"),
    ]
    assert happened(
        events, ("SORT", "nosuch", "STORE", "dst"), ("SORT", "nosuch", "STORE", "dst")
    ) == [(b"dst", b"del")]
    events.configure("Kl")  # sortstore is of class l (a list), del of g
    assert happened(events, ("SORT", "l", "STORE", "dst"), ("DEL", "dst")) == [
        (b"dst", b"sortstore")
    ]


def test_bitmap_writes_publish_only_a_change(events):
    assert happened(events, ("SETBIT", "b", 7, 1)) == [(b"b", b"setbit")]
    assert not happened(
        events,
        ("SETBIT", "b", 7, 1),
        ("SETBIT", "b", 3, 0),
        ("BITFIELD", "b", "GET", "u8", 0),
        ("BITFIELD", "b", "SET", "u8", 0, 1),  # the byte is already 1
        ("BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 9),
        ("BITOP", "OR", "nothing", "nosuch"),
    )
    assert happened(
        events,
        ("SETBIT", "b", 100, 0),  # grows the string
        ("BITFIELD", "b", "INCRBY", "u8", 0, 1),
        ("BITOP", "NOT", "dst", "b"),
        ("BITOP", "AND", "dst", "b", "b"),
        ("BITOP", "OR", "dst", "nosuch"),
    ) == [
        (b"b", b"setbit"),
        (b"b", b"setbit"),
        (b"dst", b"set"),
        (b"dst", b"set"),
        (b"dst", b"del"),
    ]


def test_hyperloglog_changes_are_pfadd(events):
    assert happened(events, ("PFADD", "h"), ("PFADD", "h", "a"), ("PFADD", "h", "a")) == [
        (b"h", b"pfadd"),
        (b"h", b"pfadd"),
    ]
    assert happened(
        events,
        ("PFCOUNT", "h"),
        ("PFCOUNT", "h", "nosuch"),
        ("PFMERGE", "m", "h"),
        ("PFMERGE", "m"),
        ("PFDEBUG", "TODENSE", "m"),
    ) == [(b"m", b"pfadd"), (b"m", b"pfadd")]


def test_a_key_made_is_new_before_the_command_s_event(events):
    events.configure("KEAn")  # n is not part of A
    assert happened(
        events,
        ("ZADD", "z", 1, "a"),
        ("ZUNIONSTORE", "u", 1, "z"),
        ("SETBIT", "b", 1, 1),
        ("BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u2", 0, 9),  # made, but nothing written
        ("PFADD", "h"),
        ("ZADD", "nosuch", "XX", 1, "a"),
    ) == [
        (b"z", b"new"),
        (b"z", b"zadd"),
        (b"u", b"new"),
        (b"u", b"zunionstore"),
        (b"b", b"new"),
        (b"b", b"setbit"),
        (b"f", b"new"),
        (b"h", b"new"),
        (b"h", b"pfadd"),
    ]
