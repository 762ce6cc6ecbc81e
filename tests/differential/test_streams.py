"""Stream commands but the consumer groups' against redis-server 7.0.15, RESP2 and RESP3:
replies and errors byte for byte. IDs that ``*`` generates differ between the two servers, so
the scripts use explicit IDs and ``*``/``ms-*`` are checked by shape and order; "~" trims are
compared entry for entry (Redis's node boundaries are modelled)."""

from __future__ import annotations

import re

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from tests.conftest import Diff, RawConnection, parse
from tests.helpers.clients import Clients
from tests.helpers.differential import assert_changes_as_redis, run_on_both
from tests.helpers.persistence import logged, logged_by_both, persistent, port_of

pytestmark = pytest.mark.differential


def test_xadd_xrange_xlen(play):
    play(
        """
        XADD s 1-1 a 1 b 2
        XADD s 1-2 a 3
        XADD s 2 c 4
        XADD s 2-* d 5
        XADD s 3-* e 6
        XLEN s
        XRANGE s - +
        XRANGE s 1 1
        XRANGE s 2 +
        XRANGE s (1-1 (2-1
        XRANGE s - + COUNT 2
        XRANGE s - + COUNT 0
        XRANGE s - + COUNT -3
        XRANGE s - + count 1 COUNT 2
        XRANGE s + -
        XRANGE nokey - +
        XRANGE nokey - + COUNT 0
        XLEN nokey
        TYPE s
        OBJECT ENCODING s
        EXISTS s
        """
    )


def test_xadd_errors(play):
    play(
        """
        XADD s 5-5 a 1
        XADD s 5-5 a 1
        XADD s 5-4 a 1
        XADD s 5 a 1
        XADD s 0-0 a 1
        XADD t 0 a 1
        XADD t 0-* a 1
        XADD s 5-x a 1
        XADD s - a 1
        XADD s + a 1
        XADD s * a
        XADD s * a 1 b
        XADD s 6-1
        XADD s MAXLEN
        XADD s MAXLEN 5 6-1
        XADD s MAXLEN -1 * a 1
        XADD s MAXLEN x * a 1
        XADD s MAXLEN 1 MINID 1 * a 1
        XADD s LIMIT 5 * a 1
        XADD s LIMIT 0 7-0 a 1
        XADD s MAXLEN 5 LIMIT 5 * a 1
        XADD s MAXLEN ~ 5 LIMIT -1 * a 1
        XADD s MINID ~ x * a 1
        XADD s 1--05 a 1
        XADD s ' 9' a 1
        XADD s +10 a 1
        XADD s 010-1 a 1
        XADD s 18446744073709551616-0 a 1
        XADD s 11-18446744073709551615 a 1
        XADD s 11-* a 1
        XADD s 18446744073709551615-18446744073709551615 a 1
        XADD s * a 1
        XADD s 18446744073709551615-* a 1
        XRANGE s - +
        SET str x
        XADD str * a 1
        XLEN str
        XRANGE str - +
        XADD s
        XLEN
        """
    )


def test_xadd_nomkstream(play):
    play(
        """
        XADD s NOMKSTREAM 1-1 a 1
        EXISTS s
        XADD s 1-1 a 1
        XADD s NOMKSTREAM 1-2 a 2
        XADD s nomkstream MAXLEN 1 1-3 a 3
        XRANGE s - +
        """
    )


def test_range_bounds(play):
    play(
        """
        XADD s 1-0 a 1
        XADD s 1-18446744073709551615 a 2
        XADD s 2-0 a 3
        XRANGE s (1-0 +
        XRANGE s - (2-0
        XRANGE s (- +
        XRANGE s - (+
        XRANGE s (0-0 +
        XRANGE s (18446744073709551615-18446744073709551615 +
        XRANGE s - (0-0
        XRANGE s ( +
        XRANGE s 1 1-x
        XRANGE s 1-0 2 COUNT
        XRANGE s 1-0 2 LIMIT 1
        XRANGE s 1-0 2 COUNT x
        XRANGE s 2 1
        XREVRANGE s + -
        XREVRANGE s + - COUNT 2
        XREVRANGE s 1 -
        XREVRANGE s (2-0 (1-0
        XREVRANGE s - +
        XREVRANGE s + - COUNT 0
        XREVRANGE nokey + -
        """
    )


def test_id_generation_by_shape(diff):
    """``*`` and ``ms-*`` IDs: their shape, and each greater than the one before."""
    seen = []
    for _ in range(5):
        raw = diff.ours.call("XADD", "gen", "*", "f", "v")
        match = re.fullmatch(rb"\$\d+\r\n(\d+)-(\d+)\r\n", raw)
        assert match, raw
        seen.append((int(match[1]), int(match[2])))
    assert seen == sorted(set(seen))
    assert diff.ours.call("XADD", "gen", "99999999999999-*", "f", "v") == (
        b"$16\r\n99999999999999-0\r\n"
    )
    assert diff.ours.call("XADD", "gen", "99999999999999-*", "f", "v") == (
        b"$16\r\n99999999999999-1\r\n"
    )
    raw = diff.ours.call("XADD", "gen", "*", "f", "v")  # the clock is behind the last ID
    assert raw == b"$16\r\n99999999999999-2\r\n"


def test_type_del_copy_and_encoding(play):
    play(
        """
        XADD s 1-1 a 1
        XADD s 2-1 b 2
        XDEL s 1-1
        COPY s c
        XADD c 3-1 c 3
        XRANGE s - +
        XRANGE c - +
        XLEN c
        TYPE c
        OBJECT ENCODING c
        SCAN 0 TYPE stream MATCH c
        DEL s
        EXISTS s
        XADD c 3-1 x 1
        XADD c 4-* x 1
        """
    )


def test_empty_stream_stays(play):
    play(
        """
        XADD s 1-1 a 1
        XDEL s 1-1
        EXISTS s
        XLEN s
        XRANGE s - +
        XADD s 1-1 a 1
        XADD s 1-2 a 1
        XTRIM s MAXLEN 0
        EXISTS s
        TYPE s
        """
    )


def _fill(diff, key: str, count: int, first: int = 1, value: str = "v") -> None:
    for ms in range(first, first + count):
        diff.do("XADD", key, f"{ms}-1", "field", value)


def test_exact_trims(diff):
    _fill(diff, "s", 30)
    diff.do("XTRIM", "s", "MAXLEN", "25")
    diff.do("XTRIM", "s", "MAXLEN", "=", "20")
    diff.do("XTRIM", "s", "MAXLEN", "30")
    diff.do("XTRIM", "s", "MINID", "15")
    diff.do("XTRIM", "s", "MINID", "=", "(17")
    diff.do("XTRIM", "s", "MINID", "17-2")
    diff.do("XRANGE", "s", "-", "+")
    diff.do("XADD", "s", "MAXLEN", "3", "31-1", "f", "v")
    diff.do("XADD", "s", "MINID", "29", "32-1", "f", "v")
    diff.do("XRANGE", "s", "-", "+")
    for bad in (
        ("XTRIM", "s"),
        ("XTRIM", "s", "LIMIT", "3"),
        ("XTRIM", "s", "MAXLEN"),
        ("XTRIM", "s", "MAXLEN", "1", "LIMIT", "3"),
        ("XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "x"),
        ("XTRIM", "s", "FOO", "1"),
        ("XTRIM", "s", "MAXLEN", "1", "MINID", "1"),
        ("XTRIM", "s", "MINID", "-"),
        ("XTRIM", "s", "MAXLEN", "-5"),
        ("XTRIM", "nokey", "MAXLEN", "0"),
        ("XTRIM", "nokey", "MAXLEN", "x"),
    ):
        diff.do(*bad)
    diff.do("SET", "str", "x")
    diff.do("XTRIM", "str", "MAXLEN", "0")


def test_approximate_trims_cut_whole_nodes(diff):
    _fill(diff, "s", 250)
    diff.do("XTRIM", "s", "MAXLEN", "~", "200")  # the first node would leave 150: kept
    diff.do("XTRIM", "s", "MAXLEN", "~", "120")
    diff.do("XLEN", "s")
    diff.do("XRANGE", "s", "-", "+", "COUNT", "1")
    diff.do("XADD", "s", "MAXLEN", "~", "10", "300-1", "f", "v")
    diff.do("XLEN", "s")
    diff.do("XRANGE", "s", "-", "+", "COUNT", "1")
    _fill(diff, "m", 350)
    diff.do("XTRIM", "m", "MINID", "~", "150")
    diff.do("XRANGE", "m", "-", "+", "COUNT", "1")
    diff.do("XTRIM", "m", "MINID", "~", "301", "LIMIT", "50")
    diff.do("XTRIM", "m", "MINID", "~", "301", "LIMIT", "100")
    diff.do("XTRIM", "m", "MINID", "~", "400", "LIMIT", "0")
    diff.do("XLEN", "m")


def test_nodes_follow_deletions_and_sizes(diff):
    """Node boundaries move with deleted entries (still counted in their node until it empties)
    and with stream-node-max-bytes (big values fill a node early)."""
    _fill(diff, "s", 120)
    diff.do("XDEL", "s", *[f"{ms}-1" for ms in range(1, 101)])  # the first node goes
    _fill(diff, "s", 100, first=200)
    diff.do("XDEL", "s", *[f"{ms}-1" for ms in range(101, 111)])  # tombstones in node 2
    diff.do("XTRIM", "s", "MAXLEN", "~", "100")
    diff.do("XRANGE", "s", "-", "+", "COUNT", "2")
    diff.do("XTRIM", "s", "MINID", "~", "250")
    diff.do("XRANGE", "s", "-", "+", "COUNT", "2")
    _fill(diff, "big", 60, value="x" * 300)
    diff.do("XTRIM", "big", "MAXLEN", "~", "30")
    diff.do("XRANGE", "big", "-", "+", "COUNT", "1")
    _fill(diff, "ints", 400, value="123456")
    diff.do("XADD", "ints", "500-1", "other", "fields", "and", "more")
    diff.do("XTRIM", "ints", "MAXLEN", "~", "150")
    diff.do("XRANGE", "ints", "-", "+", "COUNT", "1")


def test_node_size_settings(diff):
    try:
        for conn in (diff.ours, diff.real):
            conn.call("CONFIG", "SET", "stream-node-max-entries", "7")
            conn.call("CONFIG", "SET", "stream-node-max-bytes", "300")
        diff.do_sorted("CONFIG", "GET", "stream-node-*")  # Redis lists them in hash order
        _fill(diff, "s", 40)
        _fill(diff, "s", 10, first=100, value="y" * 40)
        diff.do("XTRIM", "s", "MAXLEN", "~", "20")
        diff.do("XRANGE", "s", "-", "+", "COUNT", "1")
        diff.do("XTRIM", "s", "MAXLEN", "~", "8")
        diff.do("XRANGE", "s", "-", "+", "COUNT", "1")
        for bad in ("-1", "x", "1.5"):
            diff.do("CONFIG", "SET", "stream-node-max-entries", bad)
            diff.do("CONFIG", "SET", "stream-node-max-bytes", bad)
        diff.do("CONFIG", "SET", "stream-node-max-bytes", "1kb")
        diff.do("CONFIG", "GET", "stream-node-max-bytes")
        diff.do("CONFIG", "SET", "stream-node-max-entries", "0")
        diff.do("CONFIG", "SET", "stream-node-max-bytes", "0")
        _fill(diff, "t", 300)
        diff.do("XTRIM", "t", "MAXLEN", "~", "1")
        diff.do("XLEN", "t")
    finally:
        for conn in (diff.ours, diff.real):
            conn.call("CONFIG", "SET", "stream-node-max-entries", "100")
            conn.call("CONFIG", "SET", "stream-node-max-bytes", "4096")


def test_minid_trim_keeps_an_emptied_node(diff):
    """A MINID trim can flag every live entry of a node whose last entry is a deleted one at
    or past MINID: the node stays, empty, as in Redis."""
    _fill(diff, "s", 5)
    diff.do("XDEL", "s", "5-1")
    diff.do("XTRIM", "s", "MINID", "5")
    diff.do("XLEN", "s")
    _fill(diff, "s", 3, first=6)
    diff.do("XTRIM", "s", "MINID", "~", "7")
    diff.do("XRANGE", "s", "-", "+")


def test_xdel(play):
    play(
        """
        XADD s 1-1 a 1
        XADD s 2-1 a 2
        XADD s 3-1 a 3
        XDEL s 2-1 2-1 9-9
        XDEL s 1-1 x
        XDEL s -
        XDEL nokey x
        XDEL s 1
        XRANGE s - +
        XDEL s 3-1
        XADD s 3-1 a 1
        XLEN s
        SET str x
        XDEL str 1-1
        XDEL str x
        """
    )


def test_xsetid(play):
    play(
        """
        XSETID nokey 1-1
        XADD s 5-5 a 1
        XSETID s 5-4
        XSETID s 5-5
        XSETID s 6-0 ENTRIESADDED 0
        XSETID s 6-0 ENTRIESADDED -1
        XSETID s 6-0 ENTRIESADDED x
        XSETID s 6-0 ENTRIESADDED 10 MAXDELETEDID 7-0
        XSETID s 6-0 MAXDELETEDID 5-0 ENTRIESADDED 10
        XSETID s 6-0 MAXDELETEDID
        XSETID s 6-0 FOO 1
        XSETID s +
        XSETID s x
        XADD s 6-0 a 1
        XADD s 6-1 a 1
        XDEL s 5-5 6-1
        XSETID s 1-0
        XADD s 2-0 a 1
        XSETID s 9-0
        XADD s 9-* a 1
        XRANGE s - +
        SET str x
        XSETID str 1-1
        XSETID str x
        """
    )


# --- keyspace events and the AOF -----------------------------------------------------------------


def test_keyspace_events(events):
    events.configure("KEAnm")  # with "new" keys and misses (XREAD looks each key up twice)
    seen = events.run(
        ("XADD", "s", "1-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "1", "2-1", "a", "2"),
        ("XADD", "s", "MAXLEN", "5", "3-1", "a", "3"),
        ("XADD", "s", "NOMKSTREAM", "4-1", "a", "4"),
        ("XADD", "nope", "NOMKSTREAM", "4-1", "a", "4"),
        ("XADD", "s", "1-1", "a", "1"),
        ("XDEL", "s", "2-1"),
        ("XDEL", "s", "2-1"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XSETID", "s", "9-9"),
        ("XRANGE", "s", "-", "+"),
        ("XRANGE", "missing", "-", "+"),
        ("XREAD", "STREAMS", "missing", "s", "0", "0"),
        ("DEL", "s"),
    )
    names = [message for channel, message in seen if channel.startswith(b"__keyspace")]
    assert names[:5] == [b"new", b"xadd", b"xadd", b"xtrim", b"xadd"]
    assert b"xsetid" in names and b"keymiss" in names


def _aof_of_both(tmp_path, commands):
    def send(conn):
        for command in commands:
            conn.call(*command)

    return logged_by_both(tmp_path, send)


def test_approximate_trims_are_logged_exact(tmp_path):
    commands = [("XADD", "s", f"{ms}-1", "f", "v") for ms in range(1, 251)]
    commands += [
        ("XADD", "s", "MAXLEN", "~", "100", "300-1", "f", "v"),
        ("XADD", "s", "MAXLEN", "~", "1000", "301-1", "f", "v"),
        ("XTRIM", "s", "MINID", "~", "250", "LIMIT", "200"),
        ("XTRIM", "s", "MINID", "~", "0"),
        ("XTRIM", "s", "MAXLEN", "=", "20"),
        ("XADD", "s", "MINID", "~", "290", "302-*", "f", "v"),
        ("XDEL", "s", "300-1"),
        ("XSETID", "s", "400-0", "ENTRIESADDED", "900", "MAXDELETEDID", "300-1"),
        ("XTRIM", "s", "MINID", "~", "500"),
    ]
    ours, real = _aof_of_both(tmp_path, commands)
    assert ours == real
    assert ours[251:254] == [
        [b"XADD", b"s", b"MAXLEN", b"=", b"151", b"300-1", b"f", b"v"],
        [b"XADD", b"s", b"MAXLEN", b"=", b"152", b"301-1", b"f", b"v"],
        [b"XTRIM", b"s", b"MINID", b"=", b"201-1", b"LIMIT", b"200"],
    ]
    # the first ID left is a deleted one (the exact trim flagged it); then none is left
    assert [b"XADD", b"s", b"MINID", b"=", b"201-1", b"302-0", b"f", b"v"] in ours
    assert ours[-1][-1] == b"18446744073709551615-18446744073709551615"


def test_generated_ids_are_logged(tmp_path):
    with persistent(tmp_path) as server:
        conn = RawConnection(port_of(server))
        first = conn.call("XADD", "s", "*", "f", "v").split(b"\r\n")[1]
        second = conn.call("XADD", "s", "MAXLEN", "~", "5", "*", "f", "v").split(b"\r\n")[1]
        conn.close()
    log = logged(tmp_path)
    assert log[-2:] == [
        [b"XADD", b"s", first, b"f", b"v"],
        [b"XADD", b"s", b"MAXLEN", b"=", b"2", second, b"f", b"v"],
    ]


def test_the_log_replays_to_the_same_streams(tmp_path):
    """The AOF's rewritten XADD and "~" trims (LIMIT kept beside "=") replay as they ran."""
    commands = [("XADD", "s", f"{ms}-*", "f", "v") for ms in range(1, 251)]
    commands += [
        ("XADD", "s", "MAXLEN", "~", "100", "LIMIT", "100", "*", "f", "v"),
        ("XDEL", "s", "120-0"),
        ("XTRIM", "s", "MINID", "~", "210", "LIMIT", "100"),
        ("XADD", "s", "MINID", "~", "220", "*", "f", "v"),
        ("XSETID", "s", "99999999999999-0", "ENTRIESADDED", "900", "MAXDELETEDID", "120-0"),
    ]

    with persistent(tmp_path) as r:
        for command in commands:
            r.execute_command(*command)
        before = r.execute_command("XRANGE", "s", "-", "+")
    with persistent(tmp_path) as r:
        assert r.execute_command("XRANGE", "s", "-", "+") == before
        assert r.xadd("s", {"f": "v"}, id="99999999999999-*") == b"99999999999999-1"
    assert len(before) == 52  # as redis-server leaves it


# --- XREAD ---------------------------------------------------------------------------------------


def test_xread(play):
    play(
        """
        XADD a 1-1 f 1
        XADD a 2-1 f 2
        XADD b 1-5 g 1
        XREAD STREAMS a 0
        XREAD COUNT 1 STREAMS a b 1-1 0
        XREAD count 0 STREAMS a b 0 0
        XREAD COUNT -5 STREAMS a 0
        XREAD STREAMS a b 2-1 1-5
        XREAD STREAMS a b $ $
        XREAD STREAMS a nokey a 1 0 0
        XREAD STREAMS a a 0 1-1
        XREAD STREAMS nokey $
        XREAD STREAMS a 2
        XREAD STREAMS a streams a 0
        XREAD STREAMS a
        XREAD STREAMS a b 0
        XREAD COUNT x STREAMS a 0
        XREAD BLOCK x STREAMS a 0
        XREAD BLOCK -1 STREAMS a 0
        XREAD BLOCK 1.5 STREAMS a 0
        XREAD STREAMS a >
        XREAD STREAMS a -
        XREAD STREAMS a 1-x
        XREAD GROUP g c STREAMS a 0
        XREAD NOACK STREAMS a 0
        XREAD FOO STREAMS a 0
        XREAD COUNT 1 a 0
        XREAD BLOCK 0 STREAMS a 0
        SET str x
        XREAD STREAMS str 0
        XREAD STREAMS a str 0 x
        XREAD STREAMS nokey str x 0
        """
    )


def test_xread_sees_deletions_and_setid(play):
    play(
        """
        XADD s 1-1 f 1
        XADD s 2-1 f 2
        XDEL s 2-1
        XREAD STREAMS s 1-1
        XREAD STREAMS s 0
        XSETID s 5-0
        XREAD STREAMS s 1-1
        XREAD STREAMS s 0-0
        """
    )


def test_xread_in_transactions_does_not_block(play):
    play(
        """
        MULTI
        XREAD BLOCK 0 STREAMS s $
        XADD s 1-1 f v
        XREAD BLOCK 0 STREAMS s 0
        EXEC
        """
    )


def test_xread_commands_keys(play):
    play(
        """
        COMMAND GETKEYS XREAD COUNT 2 STREAMS a b 0 0
        COMMAND GETKEYS XREAD BLOCK 0 STREAMS a 0
        COMMAND GETKEYS XREAD STREAMS a b 0
        COMMAND GETKEYS XREAD STREAMS streams streams 0 0
        COMMAND INFO XREAD
        """
    )


# --- blocking XREAD ------------------------------------------------------------------------------


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def clients(request, resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, request.param)
    yield c
    c.close()
    c2 = Clients(resp_port, redis_port, 2, flush=False)
    c2.blocked(0)
    c2.close()


def test_blocked_xread_is_served_by_xadd(clients):
    clients.call("w", "XADD", "s", "1-1", "f", "old")
    clients.block("a", "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    clients.block("b", "XREAD", "BLOCK", "0", "STREAMS", "other", "s", "0", "1-1")
    clients.block("c", "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "5-0")
    clients.call("w", "XADD", "s", "2-1", "f", "new")
    clients.read("a")
    clients.read("b")
    clients.blocked(1)  # c wants what comes after 5-0
    clients.call("w", "MULTI")
    clients.call("w", "XADD", "s", "6-1", "f", "x")
    clients.call("w", "XADD", "s", "7-1", "f", "y")
    clients.call("w", "EXEC")
    clients.read("c")  # COUNT 1 of the two
    clients.blocked(0)


def test_blocked_xread_on_a_missing_key_waits_for_its_first_entry(clients):
    clients.block("a", "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    clients.block("b", "XREAD", "BLOCK", "0", "STREAMS", "s", "s", "0", "$")
    clients.call("w", "SET", "s", "string")  # another type: keeps waiting
    clients.call("w", "DEL", "s")
    clients.blocked(2)
    clients.call("w", "XADD", "s", "3-3", "f", "v")
    clients.read("a")
    clients.read("b")


def test_blocked_xread_waits_on_deleted_entries(clients):
    clients.call("w", "XADD", "s", "1-1", "f", "v")
    clients.block("a", "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    clients.call("w", "MULTI")
    clients.call("w", "XADD", "s", "2-1", "f", "v")
    clients.call("w", "XDEL", "s", "2-1")
    clients.call("w", "EXEC")
    clients.read("a")  # served with no entries: the stream's last ID moved past the wait


def test_blocked_xread_times_out_and_can_be_unblocked(clients):
    clients.call("w", "XADD", "s", "1-1", "f", "v")
    clients.send("a", "XREAD", "BLOCK", "50", "STREAMS", "s", "$")
    assert clients.read("a") is None
    ids = {name: [parse(conn.call("CLIENT", "ID")) for conn in clients.conn(name)] for name in "bc"}
    for name in "bc":
        clients.block(name, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    for reason, name in (("TIMEOUT", "b"), ("ERROR", "c")):
        for admin, ident in zip(clients.admin, ids[name], strict=True):
            assert parse(admin.call("CLIENT", "UNBLOCK", ident, reason)) == 1
        clients.read(name)


def test_blocked_xread_is_served_by_a_stream_stored_at_its_key(clients):
    clients.call("w", "XADD", "src", "4-4", "f", "v")
    clients.block("a", "XREAD", "BLOCK", "0", "STREAMS", "s", "0-0")
    clients.block("b", "XREAD", "BLOCK", "0", "STREAMS", "s", "5-0")
    clients.call("w", "COPY", "src", "s")
    clients.read("a")
    clients.blocked(1)
    clients.call("w", "XADD", "s", "5-1", "f", "v")
    clients.read("b")


# --- counts of changes, random sequences ---------------------------------------------------------


def test_changes_counted_as_redis(diff):
    assert_changes_as_redis(
        diff,
        [
            ("XADD", "s", "1-1", "a", "1"),
            ("XADD", "s", "2-1", "a", "1"),
            ("XADD", "s", "3-1", "a", "1"),
            ("XADD", "s", "MAXLEN", "1", "4-1", "a", "1"),
            ("XADD", "s", "1-1", "a", "1"),
            ("XADD", "s", "NOMKSTREAM", "5-1", "a", "1"),
            ("XADD", "t", "NOMKSTREAM", "5-1", "a", "1"),
            ("XDEL", "s", "5-1", "4-1", "9-9"),
            ("XDEL", "s", "5-1"),
            ("XADD", "s", "6-1", "a", "1"),
            ("XADD", "s", "7-1", "a", "1"),
            ("XADD", "s", "8-1", "a", "1"),
            ("XTRIM", "s", "MAXLEN", "1"),
            ("XTRIM", "s", "MAXLEN", "1"),
            ("XSETID", "s", "10-0"),
            ("XSETID", "s", "1-0"),
            ("XREAD", "STREAMS", "s", "0"),
        ],
    )


KEYS = st.sampled_from(["a", "b", "str"])
MS = st.integers(0, 40)
IDS = st.one_of(
    st.tuples(MS, st.integers(0, 3)).map(lambda t: f"{t[0]}-{t[1]}"),
    MS.map(str),
    st.sampled_from(["-", "+", "x", "(5", "(0-0", "18446744073709551615-18446744073709551615"]),
)
TRIMS = st.one_of(
    st.just([]),
    st.tuples(
        st.sampled_from(["MAXLEN", "MINID", "maxlen"]),
        st.sampled_from([[], ["~"], ["="]]),
        st.integers(-1, 30).map(str) | IDS,
        st.sampled_from([[], ["LIMIT", "2"], ["LIMIT", "0"], ["LIMIT", "-1"]]),
    ).map(lambda t: [t[0], *t[1], t[2], *t[3]]),
)
PAIRS = st.lists(st.sampled_from(["f", "g", "1", "xx" * 30]), min_size=2, max_size=6)


class StreamMachine(RuleBasedStateMachine):
    """Random stream commands with explicit IDs on two streams (and a string key), with small
    nodes (stream-node-max-entries 3, -bytes 90) so that "~" trims cut between many."""

    diff: Diff

    @initialize()
    def start(self) -> None:
        self.diff.do("SET", "str", "string")
        self.diff.do("CONFIG", "SET", "stream-node-max-entries", "3")
        self.diff.do("CONFIG", "SET", "stream-node-max-bytes", "90")

    @rule(key=KEYS, trim=TRIMS, entry_id=IDS | MS.map(lambda ms: f"{ms}-*"), pairs=PAIRS)
    def xadd(self, key, trim, entry_id, pairs):
        self.diff.do("XADD", key, *trim, entry_id, *pairs[: len(pairs) // 2 * 2])

    @rule(key=KEYS, ids=st.lists(IDS, min_size=1, max_size=4))
    def xdel(self, key, ids):
        self.diff.do("XDEL", key, *ids)

    @rule(key=KEYS, trim=TRIMS)
    def xtrim(self, key, trim):
        self.diff.do("XTRIM", key, *trim)

    @rule(
        command=st.sampled_from(["XRANGE", "XREVRANGE"]),
        key=KEYS,
        bounds=st.tuples(IDS, IDS),
        count=st.sampled_from([[], ["COUNT", "2"], ["COUNT", "0"]]),
    )
    def xrange(self, command, key, bounds, count):
        self.diff.do(command, key, *bounds, *count)

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3), data=st.data())
    def xread(self, keys, data):
        ids = [data.draw(IDS | st.just("$")) for _ in keys]
        self.diff.do("XREAD", "COUNT", "3", "STREAMS", *keys, *ids)

    @rule(key=KEYS, last=IDS, added=st.sampled_from([[], ["ENTRIESADDED", "50"]]))
    def xsetid(self, key, last, added):
        self.diff.do("XSETID", key, last, *added)

    @rule(key=KEYS)
    def inspect(self, key):
        self.diff.do("XLEN", key)
        self.diff.do("XRANGE", key, "-", "+")


def test_random_stream_commands_match_redis(resp_port, redis_port):
    try:  # RESP3 only (the scripts cover both): the replies' shapes are not what varies here
        run_on_both(StreamMachine, resp_port, redis_port, 3)
    finally:
        for port in (resp_port, redis_port):
            conn = RawConnection(port)
            conn.call("CONFIG", "SET", "stream-node-max-entries", "100")
            conn.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
            conn.close()


def test_acl_checks_xread_keys(diff):
    """XREAD's keys (after STREAMS, half the rest) are what key permissions check."""
    diff.do("XADD", "a1", "1-1", "f", "v")
    diff.do("ACL", "SETUSER", "streamer", "on", "nopass", "~a*", "+@all")
    try:
        diff.do("AUTH", "streamer", "any")
        diff.do("XREAD", "STREAMS", "a1", "0")
        diff.do("XREAD", "STREAMS", "a1", "b", "0", "0")
        diff.do("XREAD", "COUNT", "1", "STREAMS", "a1", "a2", "b", "0")  # keys a1, a2
        diff.do("XREAD", "STREAMS", "a1", "b1", "b2")  # unbalanced: no keys to check
    finally:
        diff.do("AUTH", "default", "any")
        diff.do("ACL", "DELUSER", "streamer")
