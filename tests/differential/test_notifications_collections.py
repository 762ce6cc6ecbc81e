"""Keyspace notifications of the list, set and hash commands against redis-server 7.0.15: the
event each change names, the generic "del" when a collection is emptied, "new" when one is
created, nothing when a command changes nothing, and for blocking pops the pusher's events
before the served pop's. Every sequence runs on both servers and the subscriber's messages are
compared byte for byte (the ``events`` fixture); the asserts name what Redis sends."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.differential

KEYEVENT = b"__keyevent@0__:"


@pytest.fixture
def watch(events):
    """The ``events`` fixture with "new" events too (class n, not part of A): where a
    collection's creation falls among its command's events is part of what is compared."""
    events.configure("KEAn")
    return events


def _unread(watch, *command: object) -> None:
    """Run a command whose reply is random (SPOP, SRANDMEMBER) on both servers, leaving the
    replies aside."""
    for conn in watch.clients.conn("w"):
        conn.call(*command)


def _events(seen: list[tuple[bytes, ...]]) -> list[tuple[bytes, bytes]]:
    """(event, key) of each keyevent message, in order; each also came on the keyspace
    channel, just before it (checked here)."""
    found = []
    for i, (channel, message) in enumerate(seen):
        if channel.startswith(KEYEVENT):
            event = channel[len(KEYEVENT) :]
            assert seen[i - 1] == (b"__keyspace@0__:" + message, event)
            found.append((event, message))
    assert len(seen) == 2 * len(found)
    return found


def test_list_pushes_inserts_and_sets(watch):
    seen = watch.run(
        ("LPUSHX", "l", "a"),
        ("RPUSH", "l", "a", "b"),
        ("LPUSH", "l", "z"),
        ("RPUSHX", "l", "c"),
        ("LINSERT", "l", "BEFORE", "b", "x"),
        ("LINSERT", "l", "AFTER", "nope", "x"),
        ("LSET", "l", 0, "y"),
        ("LSET", "l", 99, "y"),
    )
    assert _events(seen) == [
        (b"new", b"l"),
        (b"rpush", b"l"),
        (b"lpush", b"l"),
        (b"rpush", b"l"),
        (b"linsert", b"l"),
        (b"lset", b"l"),
    ]


def test_list_pops_trims_and_removals_then_del_when_emptied(watch):
    watch.run(("RPUSH", "l", "a", "b", "a", "c", "d", "e"))
    seen = watch.run(
        ("LPOP", "l", 0),
        ("LPOP", "missing"),
        ("LREM", "l", 0, "nope"),
        ("LREM", "l", 0, "a"),
        ("RPOP", "l"),
        ("LTRIM", "l", 0, -1),
        ("LTRIM", "l", 0, 1),
        ("LTRIM", "missing", 0, 1),
        ("LPOP", "l", 5),
    )
    assert _events(seen) == [
        (b"lrem", b"l"),
        (b"rpop", b"l"),
        (b"ltrim", b"l"),
        (b"ltrim", b"l"),
        (b"lpop", b"l"),
        (b"del", b"l"),
    ]
    seen = watch.run(("RPUSH", "t", "a"), ("LTRIM", "t", 1, 0), ("RPUSH", "r", "a"))
    seen += watch.run(("LREM", "r", 1, "a"))
    assert _events(seen)[2:4] == [(b"ltrim", b"t"), (b"del", b"t")]
    assert _events(seen)[-2:] == [(b"lrem", b"r"), (b"del", b"r")]


def test_lmove_and_rpoplpush_push_then_pop_then_del(watch):
    watch.run(("RPUSH", "src", "a", "b"), ("RPUSH", "dst", "x"))
    seen = watch.run(
        ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
        ("RPOPLPUSH", "src", "fresh"),
        ("LMOVE", "dst", "dst", "RIGHT", "LEFT"),
        ("LMOVE", "src", "dst", "LEFT", "LEFT"),
    )
    assert _events(seen) == [
        (b"rpush", b"dst"),
        (b"lpop", b"src"),
        (b"new", b"fresh"),
        (b"lpush", b"fresh"),
        (b"rpop", b"src"),
        (b"del", b"src"),
        (b"lpush", b"dst"),
        (b"rpop", b"dst"),
    ]


def test_multi_key_and_blocking_pops_served_at_once(watch):
    watch.run(("RPUSH", "a", "1", "2", "3", "4"), ("RPUSH", "b", "1"), ("RPUSH", "c", "1"))
    seen = watch.run(
        ("LMPOP", 2, "none", "a", "RIGHT", "COUNT", 2),
        ("BLMPOP", 0, 2, "none", "a", "LEFT"),
        ("BLPOP", "none", "a", 0),
        ("BRPOP", "b", 0),
        ("BLMOVE", "c", "d", "RIGHT", "LEFT", 0),
        ("BRPOPLPUSH", "d", "e", 0),
    )
    assert _events(seen) == [
        (b"rpop", b"a"),
        (b"lpop", b"a"),
        (b"lpop", b"a"),
        (b"del", b"a"),
        (b"rpop", b"b"),
        (b"del", b"b"),
        (b"new", b"d"),
        (b"lpush", b"d"),
        (b"rpop", b"c"),
        (b"del", b"c"),
        (b"new", b"e"),
        (b"lpush", b"e"),
        (b"rpop", b"d"),
        (b"del", b"d"),
    ]


@pytest.mark.parametrize(
    "block, served",
    [
        (("BLPOP", "q", 0), [(b"lpop", b"q"), (b"del", b"q")]),
        (("BLMPOP", 0, 1, "q", "RIGHT", "COUNT", 5), [(b"rpop", b"q"), (b"del", b"q")]),
        (
            ("BLMOVE", "q", "out", "LEFT", "RIGHT", 0),
            [(b"new", b"out"), (b"rpush", b"out"), (b"lpop", b"q"), (b"del", b"q")],
        ),
    ],
    ids=["blpop", "blmpop", "blmove"],
)
def test_a_blocked_pop_is_served_after_the_pushs_events(watch, block, served):
    clients = watch.clients
    clients.block("b", *block)
    seen = watch.run(("LPUSH", "q", "x"))
    clients.read("b")
    assert _events(seen) == [(b"new", b"q"), (b"lpush", b"q"), *served]


def test_set_members_and_smove(watch):
    seen = watch.run(
        ("SADD", "s", "a", "b", "c"),
        ("SADD", "s", "a"),
        ("SREM", "s", "nope"),
        ("SREM", "missing", "a"),
        ("SREM", "s", "a"),
        ("SADD", "t", "b"),
        ("SMOVE", "s", "t", "nope"),
        ("SMOVE", "s", "s", "b"),
        ("SMOVE", "s", "t", "b"),
        ("SMOVE", "s", "u", "c"),
        ("SREM", "t", "b"),
    )
    assert _events(seen) == [
        (b"new", b"s"),
        (b"sadd", b"s"),
        (b"srem", b"s"),
        (b"new", b"t"),
        (b"sadd", b"t"),
        (b"srem", b"s"),
        (b"srem", b"s"),
        (b"del", b"s"),
        (b"new", b"u"),
        (b"sadd", b"u"),
        (b"srem", b"t"),
        (b"del", b"t"),
    ]


def test_spop_and_the_store_commands(watch):
    watch.run(("SADD", "s", "a", "b", "c", "d"), ("SADD", "o", "a", "z"), ("SET", "str", "v"))
    seen = watch.run(("SPOP", "s", 0), ("SPOP", "missing"))
    for command in (("SPOP", "s"), ("SPOP", "s", 1), ("SPOP", "s", 9)):
        _unread(watch, *command)
    seen += watch.run(
        ("SADD", "s", "a", "b"),
        ("SINTERSTORE", "i", "s", "o"),
        ("SUNIONSTORE", "i", "s", "o"),
        ("SDIFFSTORE", "str", "s", "o"),
        ("SINTERSTORE", "i", "s", "missing"),
        ("SINTERSTORE", "i", "s", "missing"),
        ("SDIFFSTORE", "str", "s", "s"),
        ("SUNIONSTORE", "none", "missing"),
    )
    assert _events(seen)[:6] == [
        (b"spop", b"s"),
        (b"spop", b"s"),
        (b"spop", b"s"),
        (b"del", b"s"),
        (b"new", b"s"),
        (b"sadd", b"s"),
    ]
    assert _events(seen)[6:] == [
        (b"new", b"i"),
        (b"sinterstore", b"i"),
        (b"sunionstore", b"i"),
        (b"sdiffstore", b"str"),
        (b"del", b"i"),
        (b"del", b"str"),
    ]
    _unread(watch, "SRANDMEMBER", "s", 2)
    assert watch.seen() == []


def test_hash_writes(watch):
    seen = watch.run(
        ("HSET", "h", "a", "1", "b", "2"),
        ("HSET", "h", "a", "1"),
        ("HMSET", "h", "c", "3"),
        ("HSETNX", "h", "a", "x"),
        ("HSETNX", "h", "d", "4"),
        ("HINCRBY", "h", "a", 5),
        ("HINCRBYFLOAT", "h", "e", "1.5"),
        ("HINCRBY", "h", "e", 1),
        ("HDEL", "h", "nope"),
        ("HDEL", "missing", "a"),
        ("HDEL", "h", "a", "b"),
        ("HDEL", "h", "c", "d", "e", "nope"),
        ("HINCRBYFLOAT", "n", "f", "2"),
    )
    assert _events(seen) == [
        (b"new", b"h"),
        (b"hset", b"h"),
        (b"hset", b"h"),
        (b"hset", b"h"),
        (b"hset", b"h"),
        (b"hincrby", b"h"),
        (b"hincrbyfloat", b"h"),
        (b"hdel", b"h"),
        (b"hdel", b"h"),
        (b"del", b"h"),
        (b"new", b"n"),
        (b"hincrbyfloat", b"n"),
    ]


def test_only_the_selected_classes_publish(watch):
    watch.configure("Kl")
    seen = watch.run(("HSET", "h", "a", "1"), ("SADD", "s", "a"), ("RPUSH", "l", "a"))
    assert seen == [(b"__keyspace@0__:l", b"rpush")]
    watch.configure("Esg")
    seen = watch.run(("HDEL", "h", "a"), ("SPOP", "s"), ("LPOP", "l"))
    assert seen == [
        (b"__keyevent@0__:del", b"h"),
        (b"__keyevent@0__:spop", b"s"),
        (b"__keyevent@0__:del", b"s"),
        (b"__keyevent@0__:del", b"l"),
    ]


def test_waiters_are_served_after_a_whole_transaction_and_along_a_blmove_chain(watch):
    clients = watch.clients
    clients.block("mover", "BLMOVE", "q", "out", "RIGHT", "LEFT", 0)
    clients.block("popper", "BLPOP", "out", 0)
    seen = watch.run(("MULTI",), ("RPUSH", "q", "a"), ("RPUSH", "q", "b"), ("EXEC",))
    clients.read("mover")
    clients.read("popper")
    assert _events(seen) == [
        (b"new", b"q"),
        (b"rpush", b"q"),
        (b"rpush", b"q"),
        (b"new", b"out"),
        (b"lpush", b"out"),
        (b"rpop", b"q"),
        (b"lpop", b"out"),
        (b"del", b"out"),
    ]
