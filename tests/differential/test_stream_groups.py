"""Stream consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO)
against redis-server 7.0.15, RESP2 and RESP3: replies byte for byte, errors included.

Delivery times and idle times come from each server's clock, so replies that show them are
compared after XCLAIM ... TIME/IDLE set them alike, or with those numbers masked (``masked``),
checked to be small and not negative."""

from __future__ import annotations

import pytest

from tests.conftest import RawConnection, parse
from tests.helpers.clients import Clients
from tests.helpers.differential import assert_changes_as_redis
from tests.helpers.persistence import logged_by_both, persistent, port_of

pytestmark = pytest.mark.differential

# Replies showing a time (a delivery time, ms since one) are compared with it masked.
TIME = "<time>"


def masked(diff, *args: object, times: tuple[bytes, ...] = (b"idle", b"seen-time")) -> object:
    """Both servers' replies, parsed, equal once the times in them are masked: the values of
    the map fields named in ``times``, the idle ms of XPENDING's rows (their third item) and
    the delivery times in XINFO STREAM FULL's pending entries. Each masked idle time must be
    small, each timestamp recent."""
    ours, real = (_mask(parse(raw), times) for raw in diff.both(*args))
    assert ours == real, f"{args!r}:\n  respserver:   {ours!r}\n  redis-server: {real!r}"
    return ours


def _is_time(value: object) -> bool:
    """An idle time (under three hours) or a unix time in ms (after 2020)."""
    return isinstance(value, int) and (0 <= value < 10_000_000 or value > 1_600_000_000_000)


def _mask(reply: object, times: tuple[bytes, ...]) -> object:
    if isinstance(reply, dict):
        reply = [x for pair in reply.items() for x in pair]
    if not isinstance(reply, list):
        return reply
    is_map = len(reply) % 2 == 0 and all(
        isinstance(k, bytes) and not k[:1].isdigit() for k in reply[::2]
    )
    if is_map and reply:
        masked_map = []
        for key, value in zip(reply[::2], reply[1::2], strict=True):
            if key in times:
                assert _is_time(value), (key, value)
                value = TIME
            masked_map += [key, _mask(value, times)]
        return masked_map
    if len(reply) in (3, 4) and isinstance(reply[0], bytes) and b"-" in reply[0]:
        row = list(reply)  # a pending entry: [id, consumer, idle or time, count], [id, time, count]
        at = 2 if len(row) == 4 else 1
        if isinstance(row[at], int) and _is_time(row[at]):
            row[at] = TIME
            return row
    return [_mask(item, times) for item in reply]


# A stream of five entries with explicit IDs and a group that has read none.
SETUP = """
DEL s
XADD s 1-1 f v1
XADD s 2-1 f v2
XADD s 3-1 f v3 g x
XADD s 4-1 f v4
XADD s 5-1 f v5
XGROUP CREATE s g 0
"""


def test_xgroup_create_setid_destroy_and_their_errors(play):
    play(
        """
        XGROUP CREATE missing g $
        XGROUP CREATE missing g $ MKSTREAM
        TYPE missing
        XLEN missing
        XGROUP CREATE missing g $
        XGROUP CREATE missing g2 0 MKSTREAM ENTRIESREAD 3
        XGROUP CREATE missing g3 1-1 ENTRIESREAD -1
        XGROUP CREATE missing g4 1 ENTRIESREAD -2
        XGROUP CREATE missing g4 1 ENTRIESREAD x
        XGROUP CREATE missing g4 1 ENTRIESREAD
        XGROUP CREATE missing g4 1 FOO
        XGROUP CREATE missing g4 + MKSTREAM
        XGROUP CREATE missing g4 - MKSTREAM
        XGROUP CREATE missing g4 x-1
        XGROUP CREATE missing g4 1 MKSTREAM MKSTREAM MKSTREAM MKSTREAM
        XGROUP CREATE missing g4 1 MKSTREAM MKSTREAM ENTRIESREAD 1
        XINFO GROUPS missing
        SET str v
        XGROUP CREATE str g $
        XGROUP CREATE str g $ MKSTREAM
        XGROUP SETID str g $
        XGROUP SETID nokey g $
        XGROUP SETID missing nogroup $
        XGROUP SETID missing g 7-7 ENTRIESREAD 5
        XGROUP SETID missing g2 + ENTRIESREAD
        XGROUP SETID missing g2 + MKSTREAM
        XGROUP SETID missing g2 +
        XGROUP SETID missing g3 -
        XGROUP SETID missing g3 1 ENTRIESREAD 1 ENTRIESREAD 2
        XINFO GROUPS missing
        XGROUP DESTROY missing g
        XGROUP DESTROY missing g
        XGROUP DESTROY nokey g
        XGROUP DESTROY str g
        XINFO GROUPS missing
        XGROUP CREATE
        XGROUP CREATE k
        XGROUP DESTROY k
        XGROUP FOO k g
        XGROUP HELP
        XGROUP help extra
        """
    )


def test_xgroup_consumers(play):
    play(
        SETUP
        + """
        XGROUP CREATECONSUMER s g alice
        XGROUP CREATECONSUMER s g alice
        XGROUP CREATECONSUMER s g bob
        XGROUP CREATECONSUMER s nogroup bob
        XGROUP CREATECONSUMER nokey g bob
        XINFO GROUPS s
        XREADGROUP GROUP g alice COUNT 2 STREAMS s >
        XGROUP DELCONSUMER s g alice
        XGROUP DELCONSUMER s g alice
        XGROUP DELCONSUMER s g nobody
        XGROUP DELCONSUMER s nogroup alice
        XPENDING s g
        XINFO GROUPS s
        """
    )


def test_xreadgroup_new_entries_history_and_errors(play):
    play(
        SETUP
        + """
        XREADGROUP GROUP g alice COUNT 2 STREAMS s >
        XREADGROUP GROUP g bob COUNT 1 STREAMS s >
        XREADGROUP GROUP g alice STREAMS s 0
        XREADGROUP GROUP g alice COUNT 1 STREAMS s 0
        XREADGROUP GROUP g alice STREAMS s 1-1
        XREADGROUP GROUP g bob STREAMS s 0-0
        XREADGROUP GROUP g carol STREAMS s 0
        XDEL s 2-1
        XREADGROUP GROUP g alice STREAMS s 0
        XREADGROUP GROUP g alice COUNT -5 STREAMS s >
        XREADGROUP GROUP g alice STREAMS s >
        XREADGROUP GROUP g alice STREAMS s >
        XREADGROUP GROUP g alice BLOCK 0 NOACK STREAMS s 99999
        XADD t 1-1 a b
        XGROUP CREATE t g $
        XADD t 2-1 c d
        XREADGROUP GROUP g dave STREAMS s t > >
        XREADGROUP GROUP g dave STREAMS t s > 0
        XREADGROUP GROUP g dave STREAMS s s 0 0
        XPENDING s g
        XINFO GROUPS s
        XREADGROUP GROUP g alice STREAMS s $
        XREADGROUP GROUP g alice STREAMS nokey >
        XREADGROUP GROUP nogroup alice STREAMS s >
        XREADGROUP GROUP g alice STREAMS s
        XREADGROUP GROUP g alice STREAMS s t >
        XREADGROUP GROUP g alice STREAMS s x
        XREADGROUP GROUP g alice STREAMS s -
        XREADGROUP GROUP g alice COUNT x STREAMS s >
        XREADGROUP GROUP g alice BLOCK x STREAMS s >
        XREADGROUP GROUP g alice BLOCK -1 STREAMS s >
        XREADGROUP GROUP g COUNT 1 STREAMS s >
        XREADGROUP COUNT 1 NOACK STREAMS s >
        XREADGROUP GROUP g alice FOO STREAMS s >
        XREADGROUP GROUP g alice COUNT 1
        XREAD GROUP g alice STREAMS s >
        SET str v
        XREADGROUP GROUP g alice STREAMS str >
        XREADGROUP GROUP g alice STREAMS s str > >
        """
    )


def test_xreadgroup_noack_and_setid_redelivery(play):
    play(
        SETUP
        + """
        XREADGROUP GROUP g alice NOACK COUNT 2 STREAMS s >
        XPENDING s g
        XINFO GROUPS s
        XREADGROUP GROUP g bob COUNT 2 STREAMS s >
        XGROUP SETID s g 0
        XINFO GROUPS s
        XREADGROUP GROUP g alice COUNT 4 STREAMS s >
        XPENDING s g
        XREADGROUP GROUP g bob STREAMS s 0
        XINFO GROUPS s
        XGROUP SETID s g $ ENTRIESREAD 5
        XINFO GROUPS s
        XREADGROUP GROUP g bob STREAMS s >
        """
    )


def test_lag_and_entries_read_with_deletions(play):
    play(
        SETUP
        + """
        XINFO GROUPS s
        XREADGROUP GROUP g a COUNT 1 STREAMS s >
        XINFO GROUPS s
        XDEL s 4-1
        XINFO GROUPS s
        XREADGROUP GROUP g a COUNT 1 STREAMS s >
        XINFO GROUPS s
        XREADGROUP GROUP g a COUNT 5 STREAMS s >
        XINFO GROUPS s
        XGROUP CREATE s late 0
        XGROUP CREATE s future 9-9
        XGROUP CREATE s first 1-1 ENTRIESREAD 1
        XGROUP CREATE s atlast $
        XINFO GROUPS s
        XDEL s 1-1
        XGROUP CREATE s early 0
        XINFO GROUPS s
        XADD s 6-1 f v6
        XTRIM s MAXLEN 0
        XINFO GROUPS s
        XINFO STREAM s
        XGROUP CREATE e g 0 MKSTREAM
        XINFO GROUPS e
        XSETID e 5-5 ENTRIESADDED 3 MAXDELETEDID 4-4
        XINFO GROUPS e
        """
    )


def test_xack(play):
    play(
        SETUP
        + """
        XACK s g 1-1
        XREADGROUP GROUP g alice COUNT 3 STREAMS s >
        XACK s g 1-1 1-1 2 9-9
        XACK s g 3-1 x
        XACK s g 3-1 -
        XPENDING s g
        XACK s g 3-1
        XPENDING s g
        XACK s nogroup 1-1
        XACK nokey g 1-1
        SET str v
        XACK str g 1-1
        XACK s g
        """
    )


def test_xpending_summary_and_ranges(diff, play):
    play(
        SETUP
        + """
        XPENDING s g
        XPENDING s g - + 10
        XREADGROUP GROUP g bob COUNT 2 STREAMS s >
        XREADGROUP GROUP g alice COUNT 2 STREAMS s >
        XREADGROUP GROUP g carol STREAMS s 0
        XPENDING s g
        XPENDING s g - + 0
        XPENDING s g - + 10 nobody
        XPENDING s g IDLE 100000 - + 10
        XPENDING s g IDLE 100000 - + 10 alice
        XPENDING s nogroup
        XPENDING nokey g
        XPENDING nokey g - + 10
        XPENDING s g - +
        XPENDING s g IDLE 1 - +
        XPENDING s g IDLE x - + 10
        XPENDING s g - + x
        XPENDING s g x + 10
        XPENDING s g - x 10
        XPENDING s g (18446744073709551615-18446744073709551615 + 10
        XPENDING s g - (0-0 10
        SET str v
        XPENDING str g
        XPENDING str g x + 1
        """
    )
    for args in (
        ("- + 10",),
        ("- + 10 alice",),
        ("- + 10 alice extra",),
        ("- + 2",),
        ("(1-1 + 10",),
        ("- (4-1 10",),
        ("2 3 10",),
        ("IDLE 0 - + 10",),
        ("- + -1",),
    ):
        rows = masked(diff, "XPENDING", "s", "g", *args[0].split())
        assert all(row[2] == TIME for row in rows)


def test_xclaim(diff, play):
    play(
        SETUP
        + """
        XREADGROUP GROUP g alice COUNT 4 STREAMS s >
        XCLAIM s g bob 0 1-1 TIME 1000 RETRYCOUNT 7
        XCLAIM s g bob 0 2-1 JUSTID TIME 2000
        XCLAIM s g bob 3600000 3-1
        XCLAIM s g bob 0 9-9 5-1 TIME 3000
        XCLAIM s g bob 0 5-1 FORCE JUSTID TIME 4000
        XCLAIM s g carol 0 5-1 TIME 5000 RETRYCOUNT -3
        XCLAIM s g carol 0 5-1 IDLE 100000000000000
        XDEL s 3-1
        XCLAIM s g bob 0 3-1 TIME 6000
        XCLAIM s g bob 0 4-1 LASTID 4-5 TIME 7000
        XINFO GROUPS s
        XCLAIM s g bob 0 9-9 LASTID 8-8
        XINFO GROUPS s
        XCLAIM s g bob 0 9-9 LASTID 1-1
        XCLAIM s g bob 0 1-1 FOO
        XCLAIM s g bob 0 1-1 IDLE x
        XCLAIM s g bob 0 1-1 TIME x
        XCLAIM s g bob 0 1-1 RETRYCOUNT x
        XCLAIM s g bob 0 1-1 LASTID x
        XCLAIM s g bob 0 1-1 IDLE
        XCLAIM s g bob x 1-1
        XCLAIM s g bob -5 1-1 TIME 8000
        XCLAIM s nogroup bob 0 1-1
        XCLAIM nokey g bob 0 1-1
        XCLAIM s g bob 0 x
        XCLAIM s g bob 0 + TIME 1
        SET str v
        XCLAIM str g bob 0 1-1
        XPENDING s g
        """
    )
    rows = masked(diff, "XPENDING", "s", "g", "-", "+", 10)
    assert [row[3] for row in rows] == [8, 1, 2, 3]
    masked(diff, "XINFO", "STREAM", "s", "FULL")


def test_xautoclaim(diff, play):
    play(
        SETUP
        + """
        XADD s 6-1 f v6
        XADD s 7-1 f v7
        XREADGROUP GROUP g alice STREAMS s >
        XAUTOCLAIM s g bob 3600000 0
        XAUTOCLAIM s g bob 0 0 COUNT 2
        XAUTOCLAIM s g bob 0 3-1 COUNT 2 JUSTID
        XDEL s 5-1 6-1
        XAUTOCLAIM s g carol 0 (3-1 COUNT 2
        XAUTOCLAIM s g carol 0 - COUNT 1
        XAUTOCLAIM s g carol 0 0
        XPENDING s g
        XAUTOCLAIM s g bob 0 0 COUNT 0
        XAUTOCLAIM s g bob 0 0 COUNT x
        XAUTOCLAIM s g bob 0 0 COUNT 576460752303423488
        XAUTOCLAIM s g bob 0 0 COUNT
        XAUTOCLAIM s g bob 0 0 FOO
        XAUTOCLAIM s g bob x 0
        XAUTOCLAIM s g bob 0 x
        XAUTOCLAIM s g bob 0 (18446744073709551615-18446744073709551615
        XAUTOCLAIM s nogroup bob 0 0
        XAUTOCLAIM nokey g bob 0 0
        SET str v
        XAUTOCLAIM str g bob 0 0
        """
    )


def test_xautoclaim_looks_at_ten_times_count_at_most(play):
    """Entries not idle long enough still cost an attempt: the cursor stops after 10 x COUNT."""
    adds = "\n".join(f"XADD big {i}-1 f v" for i in range(1, 31))
    play(
        adds
        + """
        XGROUP CREATE big g 0
        XREADGROUP GROUP g alice STREAMS big >
        XCLAIM big g alice 0 25-1 TIME 1000 JUSTID
        XAUTOCLAIM big g bob 60000 0 COUNT 2 JUSTID
        XAUTOCLAIM big g bob 60000 0 COUNT 3 JUSTID
        """
    )


def test_xinfo(diff, play):
    play(
        SETUP
        + """
        XINFO STREAM s
        XINFO STREAM nokey
        XINFO GROUPS nokey
        XINFO CONSUMERS nokey g
        XINFO CONSUMERS s nogroup
        XINFO CONSUMERS s g
        XINFO STREAM s FOO
        XINFO STREAM s FULL COUNT
        XINFO STREAM s FULL FOO 1
        XINFO STREAM s FULL COUNT x
        XINFO STREAM nokey FOO
        XINFO HELP
        XINFO HELP x
        XINFO FOO s
        XINFO STREAM
        XINFO CONSUMERS s
        SET str v
        XINFO STREAM str
        XINFO GROUPS str
        XADD empty MAXLEN 0 1-1 f v
        XINFO STREAM empty
        XINFO STREAM empty FULL
        """
    )
    diff.do("XREADGROUP", "GROUP", "g", "bob", "COUNT", 3, "STREAMS", "s", ">")
    diff.do("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    diff.do("XGROUP", "CREATE", "s", "another", "$")
    diff.do("XGROUP", "CREATECONSUMER", "s", "another", "zed")
    diff.do("XCLAIM", "s", "g", "alice", 0, "1-1", "2-1", "TIME", 12345)
    for count in ((), ("COUNT", 1), ("COUNT", 0), ("COUNT", -1)):
        masked(diff, "XINFO", "STREAM", "s", "FULL", *count)
    consumers = masked(diff, "XINFO", "CONSUMERS", "s", "g")
    assert len(consumers) == 2
    masked(diff, "XINFO", "CONSUMERS", "s", "another")


def test_xinfo_radix_tree_counts(play):
    """radix-tree-keys and -nodes as Redis's: a node per 100 entries, fewer bytes."""
    adds = "\n".join(f"XADD big {1000 + i // 3}-{i} f v" for i in range(1, 251))
    play(
        adds
        + """
        XINFO STREAM big
        XDEL big 1000-1 1000-2
        XINFO STREAM big
        XTRIM big MAXLEN 120
        XINFO STREAM big
        CONFIG SET stream-node-max-entries 7
        XADD big2 1-1 f v
        XADD big2 1-2 f v
        XINFO STREAM big2
        CONFIG SET stream-node-max-entries 100
        """
    )


# --- keyspace events ------------------------------------------------------------------------------


def test_group_commands_publish_stream_events(events):
    seen = events.run(
        ("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
        ("XGROUP", "CREATE", "s", "g", "$"),  # BUSYGROUP: nothing
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "s", "2-1", "f", "v"),
        ("XGROUP", "SETID", "s", "g", "0"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "alice"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "alice"),  # there already: nothing
        ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "noacker", "NOACK", "STREAMS", "s", ">"),
        ("XCLAIM", "s", "g", "dave", "0", "1-1"),
        ("XCLAIM", "s", "g", "erin", "0", "9-9"),  # nothing to claim: no consumer
        ("XAUTOCLAIM", "s", "g", "frank", "0", "0"),
        ("XACK", "s", "g", "1-1"),
        ("XGROUP", "DELCONSUMER", "s", "g", "alice"),
        ("XGROUP", "DELCONSUMER", "s", "g", "nobody"),
        ("XGROUP", "DESTROY", "s", "g"),
        ("XGROUP", "DESTROY", "s", "g"),
    )
    names = [channel.split(b":", 1)[1] for channel, _ in seen if b"keyevent" in channel]
    assert names.count(b"xgroup-createconsumer") == 6
    assert names[-2:] == [b"xgroup-delconsumer", b"xgroup-destroy"]


# --- the AOF --------------------------------------------------------------------------------------


def _times_masked(log: list[list[bytes]]) -> list[list[bytes]]:
    """An AOF's commands with the delivery times XREADGROUP and XAUTOCLAIM log masked."""
    return [
        [b"<t>" if i == 7 and argv[0] == b"XCLAIM" else arg for i, arg in enumerate(argv)]
        for argv in log
    ]


GROUP_WRITES = (
    ("XADD", "s", "1-1", "f", "v1"),
    ("XADD", "s", "2-1", "f", "v2"),
    ("XADD", "s", "3-1", "f", "v3"),
    ("XADD", "s", "4-1", "f", "v4"),
    ("XGROUP", "CREATE", "s", "g", "0"),
    ("XGROUP", "CREATE", "s", "n", "0", "ENTRIESREAD", "0"),
    ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"),  # history: nothing logged
    ("XREADGROUP", "GROUP", "n", "nobody", "NOACK", "COUNT", "3", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "n", "nobody", "NOACK", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
    ("XCLAIM", "s", "g", "carol", "0", "1", "TIME", "1000"),
    ("XCLAIM", "s", "g", "carol", "0", "2-1", "JUSTID", "LASTID", "9-9", "TIME", "2000"),
    ("XCLAIM", "s", "n", "carol", "0", "8-8", "LASTID", "8-8"),
    ("XDEL", "s", "3-1"),
    ("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2"),
    ("XACK", "s", "g", "4-1", "5-5"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "erin"),
    ("XGROUP", "DELCONSUMER", "s", "g", "dave"),
    ("XGROUP", "SETID", "s", "g", "4-1", "ENTRIESREAD", "4"),
    ("XGROUP", "CREATE", "s", "gone", "$"),
    ("XGROUP", "DESTROY", "s", "gone"),
    ("SET", "end", "1"),
)


def test_aof_logs_group_writes_as_redis(tmp_path):
    def send(conn):
        for args in GROUP_WRITES:
            conn.call(*args)

    ours, real = (_times_masked(log) for log in logged_by_both(tmp_path, send))
    assert ours == real
    assert [b"XGROUP", b"CREATECONSUMER", b"s", b"n", b"nobody"] in ours
    assert not any(argv[0] == b"XREADGROUP" for argv in ours)


def test_the_aof_replayed_rebuilds_the_groups(tmp_path):
    def full_info(r) -> object:
        conn = RawConnection(port_of(r))
        info = _mask(parse(conn.call("XINFO", "STREAM", "s", "FULL")), (b"seen-time",))
        conn.close()
        return info

    with persistent(tmp_path) as r:
        conn = RawConnection(port_of(r))
        for args in GROUP_WRITES:
            conn.call(*args)
        conn.close()
        before = full_info(r)
    with persistent(tmp_path) as r:
        assert full_info(r) == before
    assert b"carol" in repr(before).encode()


# --- blocking -------------------------------------------------------------------------------------


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def clients(request, resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, request.param)
    c.call("w", "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    yield c
    c.close()
    check = Clients(resp_port, redis_port, 2, flush=False)
    check.blocked(0)  # nobody may stay blocked into the next test
    check.close()


def test_a_blocked_xreadgroup_is_served_by_xadd_first_come_first_served(clients):
    clients.block("a", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", ">")
    clients.block(
        "b", "XREADGROUP", "GROUP", "g", "bob", "COUNT", 1, "BLOCK", 0, "STREAMS", "s", ">"
    )
    clients.call("w", "XADD", "s", "1-1", "f", "v1")
    clients.read("a")
    clients.blocked(1)
    clients.call("w", "MULTI")
    clients.call("w", "XADD", "s", "2-1", "f", "v2")
    clients.call("w", "XADD", "s", "3-1", "f", "v3")
    clients.call("w", "EXEC")
    assert clients.read("b") is not None
    clients.call("w", "XPENDING", "s", "g")
    clients.call("w", "XINFO", "GROUPS", "s")


def test_a_blocked_xreadgroup_on_several_keys_and_noack(clients):
    clients.call("w", "XGROUP", "CREATE", "t", "g", "$", "MKSTREAM")
    clients.block(
        "a", "XREADGROUP", "GROUP", "g", "alice", "NOACK", "BLOCK", 0, "STREAMS", "s", "t", ">", ">"
    )
    clients.call("w", "XADD", "t", "5-1", "f", "v")
    clients.read("a")
    clients.call("w", "XPENDING", "t", "g")
    clients.call("w", "XINFO", "GROUPS", "t")


def test_a_blocked_xreadgroup_times_out_or_is_unblocked(clients):
    clients.call("a", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 10, "STREAMS", "s", ">")
    ours, real = (conn.call("CLIENT", "ID") for conn in clients.conn("b"))
    clients.block("b", "XREADGROUP", "GROUP", "g", "bob", "BLOCK", 0, "STREAMS", "s", ">")
    for conn, client_id in zip(clients.admin, (ours, real), strict=True):
        assert conn.call("CLIENT", "UNBLOCK", parse(client_id), "ERROR") == b":1\r\n"
    clients.read("b")
    clients.call("w", "MULTI")
    clients.call("w", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", ">")
    clients.call("w", "EXEC")
    clients.call("w", "XINFO", "GROUPS", "s")


def test_a_blocked_xreadgroup_whose_group_goes_gets_nogroup(clients):
    clients.block("a", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", ">")
    clients.call("w", "XGROUP", "DESTROY", "s", "g")
    clients.read("a")
    clients.call("w", "XGROUP", "CREATE", "s", "g", "$")
    clients.block("a", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", ">")
    clients.call("w", "XGROUP", "SETID", "s", "g", "0")  # nothing new: still waiting
    clients.blocked(1)
    clients.call("w", "XADD", "s", "1-1", "f", "v")
    clients.read("a")


@pytest.mark.parametrize(
    "removal",
    [("DEL", "s"), ("SET", "s", "x"), ("FLUSHALL",)],
    ids=["del", "overwritten", "flushall"],
)
def test_a_blocked_xreadgroup_whose_key_goes_is_unblocked(clients, removal):
    clients.block("a", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", ">")
    clients.block("b", "XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    clients.call("w", *removal)
    clients.read("a")
    clients.blocked(1)  # XREAD keeps waiting
    clients.call("w", "DEL", "s")
    clients.call("w", "XADD", "s", "1-1", "f", "v")
    clients.read("b")


def test_each_write_counts_the_changes_redis_counts(diff):
    steps = [tuple(str(arg) for arg in args) for args in GROUP_WRITES[:-1]]
    steps += [
        ("XGROUP", "CREATE", "fresh", "g", "$", "MKSTREAM"),
        ("XREADGROUP", "GROUP", "g", "zed", "STREAMS", "s", "0"),
        ("XCLAIM", "s", "g", "yan", "0", "9-9", "LASTID", "99-1"),
        ("XACK", "s", "nogroup", "1-1"),
        ("XPENDING", "s", "g"),
    ]
    assert_changes_as_redis(diff, steps, send=_send_masked)


def _send_masked(diff, *args: str) -> None:
    masked(diff, *args)


# --- a scenario -----------------------------------------------------------------------------------


def test_consumers_share_the_work_and_recover_what_a_crashed_one_left(diff):
    """Three workers read a stream through one group; "crashy" never acknowledges what it
    got. The others ack theirs, then take its entries over: XAUTOCLAIM by idle time (set
    with XCLAIM ... IDLE so both servers agree), XCLAIM for the last one, until nothing is
    pending; the crashed consumer is finally removed."""
    for i in range(1, 13):
        diff.do("XADD", "jobs", f"{i}-0", "job", f"task{i}")
    diff.do("XGROUP", "CREATE", "jobs", "workers", "0")
    got = {}
    for worker in ("alpha", "crashy", "beta", "alpha", "crashy", "beta"):
        reply = parse(
            diff.do("XREADGROUP", "GROUP", "workers", worker, "COUNT", 2, "STREAMS", "jobs", ">")
        )
        entries = reply[b"jobs"] if isinstance(reply, dict) else reply[0][1]
        got.setdefault(worker, []).extend(entry[0] for entry in entries)
    assert sorted(map(len, got.values())) == [4, 4, 4]
    for worker in ("alpha", "beta"):
        assert diff.do("XACK", "jobs", "workers", *got[worker]) == b":4\r\n"
    summary = parse(diff.do("XPENDING", "jobs", "workers"))
    assert summary[0] == 4 and summary[3] == [[b"crashy", b"4"]]
    # crashy has been silent a minute: its entries are old enough to claim.
    diff.do("XCLAIM", "jobs", "workers", "crashy", 0, *got["crashy"], "IDLE", 60000, "JUSTID")
    diff.do("XDEL", "jobs", got["crashy"][1])
    reply = parse(diff.do("XAUTOCLAIM", "jobs", "workers", "alpha", 30000, "0", "COUNT", 2))
    assert len(reply[1]) == 1 and reply[2] == [got["crashy"][1]]
    cursor = reply[0]
    reply = parse(diff.do("XAUTOCLAIM", "jobs", "workers", "beta", 30000, cursor, "COUNT", 1))
    assert reply[0] != b"0-0"
    diff.do("XCLAIM", "jobs", "workers", "alpha", 30000, got["crashy"][3], "IDLE", 90000)
    masked(diff, "XPENDING", "jobs", "workers", "-", "+", 10)
    diff.do("XREADGROUP", "GROUP", "workers", "crashy", "STREAMS", "jobs", "0")
    assert diff.do("XGROUP", "DELCONSUMER", "jobs", "workers", "crashy") == b":0\r\n"
    acked = parse(diff.do("XREADGROUP", "GROUP", "workers", "alpha", "STREAMS", "jobs", "0"))
    alpha = acked[b"jobs"] if isinstance(acked, dict) else acked[0][1]
    beta = masked(diff, "XPENDING", "jobs", "workers", "-", "+", 10, "beta")
    diff.do("XACK", "jobs", "workers", *(e[0] for e in alpha), *(row[0] for row in beta))
    diff.do("XPENDING", "jobs", "workers")
    masked(diff, "XINFO", "CONSUMERS", "jobs", "workers")
    diff.do("XINFO", "GROUPS", "jobs")


def test_edge_cases(diff, play):
    play(
        SETUP
        + """
        XREADGROUP GROUP g a COUNT 1 STREAMS s s > >
        XREADGROUP GROUP g a STREAMS s s 0 >
        XREADGROUP GROUP g a COUNT 0 STREAMS s 0
        XGROUP CREATE s ahead 0 ENTRIESREAD 100
        XGROUP CREATE s "with space" $
        XGROUP CREATE s "" 0
        XREADGROUP GROUP "" "" STREAMS s >
        XINFO GROUPS s
        XCLAIM s g b 0 2-1 3-1 FORCE JUSTID TIME 100
        XCLAIM s g b 0 2-1 3-1 FORCE TIME 100 RETRYCOUNT 0
        XPENDING s g
        XGROUP SETID s g 18446744073709551615-18446744073709551615
        XREADGROUP GROUP g a STREAMS s >
        XINFO GROUPS s
        XGROUP SETID s g 1 ENTRIESREAD 0
        XREADGROUP GROUP g c STREAMS s >
        XINFO GROUPS s
        XREADGROUP GROUP g a STREAMS s 18446744073709551615-18446744073709551615
        XPENDING s g + - 10
        """
    )
    assert len(masked(diff, "XPENDING", "s", "g", "3", "3", "10")) == 1
    assert len(masked(diff, "XPENDING", "s", "g", "3-1", "(3-1", "10")) == 0
