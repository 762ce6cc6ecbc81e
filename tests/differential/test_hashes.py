"""Differential tests of the hash commands against redis-server (RESP2 and RESP3).

Small hashes keep insertion order in both servers, so their replies are compared byte for byte;
hashes Redis stores as a hashtable (more than hash-max-listpack-entries fields, or a value
longer than hash-max-listpack-value) and HRANDFIELD's random picks are compared by content.
"""

from __future__ import annotations

import shlex

import pytest

from tests.conftest import RawConnection, parse
from tests.helpers.differential import assert_changes_as_redis
from tests.helpers.respshape import elements

LONG = "x" * 65  # one byte past hash-max-listpack-value: Redis switches to a hashtable


def play(diff, script: str) -> None:
    """Send each line of ``script`` (shell-quoted words) to both servers; replies must match."""
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            diff.do(*shlex.split(line))


def test_hset_hget(diff):
    play(
        diff,
        """
        HSET h f1 v1
        HGET h f1
        HSET h f1 v1
        HSET h f1 changed f2 v2 f3 v3
        HSET h f4 a f4 b
        HGET h f4
        HGETALL h
        HGET h nofield
        HGET nokey f
        HSET h "" empty-name
        HSET h empty-value ""
        HGET h ""
        HGET h empty-value
        hset h F1 upper
        hGeT h F1
        HLEN h
        HKEYS h
        HVALS h
        HGETALL h
        """,
    )
    diff.do("HSET", "bin", b"\x00\r\n\xff", b"\r\n$3\r\n")
    diff.do("HGETALL", "bin")
    diff.do("TYPE", "h")


def test_hset_and_hmset_arity(diff):
    play(
        diff,
        """
        HSET
        HSET h
        HSET h f
        HSET h f v f2
        HSET h f v f2 v2 f3
        HMSET h
        HMSET h f
        HMSET h f v f2
        HMSET h f v f2 v2 f3
        EXISTS h
        """,
    )


def test_hmset_replies_ok(diff):
    play(
        diff,
        """
        HMSET h a 1 b 2
        HMSET h b 3 c 4
        HGETALL h
        HMSET h a 1
        HLEN h
        """,
    )


def test_hsetnx(diff):
    play(
        diff,
        """
        HSETNX h f v
        HSETNX h f other
        HGET h f
        HSETNX h g w
        HGETALL h
        HSETNX h f
        HSETNX h f v extra
        HSETNX nokey "" ""
        HGETALL nokey
        """,
    )


def test_field_order_follows_insertion(diff):
    """Updates keep a field's place; a deleted and re-added field moves to the end."""
    play(
        diff,
        """
        HSET h a 1 b 2 c 3 d 4
        HSET h b 20
        HDEL h a
        HSET h a 10
        HINCRBY h c 5
        HSETNX h e 5
        HGETALL h
        HKEYS h
        HVALS h
        """,
    )


def test_hmget(diff):
    play(
        diff,
        """
        HSET h a 1 b 2
        HMGET h a
        HMGET h b nofield a a
        HMGET nokey a b
        HMGET h
        HMGET
        """,
    )


def test_hdel(diff):
    play(
        diff,
        """
        HSET h a 1 b 2 c 3 d 4
        HDEL h a
        HDEL h a
        HDEL h b nofield b c
        HGETALL h
        HDEL nokey a
        HDEL h
        HDEL
        HDEL h d
        EXISTS h
        TYPE h
        HLEN h
        HGETALL h
        HSET h x 1
        HDEL h x x x
        EXISTS h
        """,
    )


def test_hdel_of_last_field_removes_the_ttl_with_the_key(diff):
    play(
        diff,
        """
        HSET h a 1
        EXPIRE h 1000
        HSET h b 2
        HINCRBY h n 1
        HDEL h a
        TTL h
        HDEL h b n
        TTL h
        HSET h a 1
        TTL h
        """,
    )


def test_hexists_hlen_hstrlen(diff):
    play(
        diff,
        """
        HSET h s hello int 12345 neg -7 empty "" float 1.50
        HEXISTS h s
        HEXISTS h nofield
        HEXISTS nokey s
        HLEN h
        HLEN nokey
        HSTRLEN h s
        HSTRLEN h int
        HSTRLEN h neg
        HSTRLEN h empty
        HSTRLEN h float
        HSTRLEN h nofield
        HSTRLEN nokey s
        HEXISTS h
        HEXISTS h a b
        HLEN
        HLEN h x
        HSTRLEN h
        HSTRLEN h a b
        """,
    )


def test_read_commands_on_missing_key(diff):
    play(
        diff,
        """
        HGETALL nokey
        HKEYS nokey
        HVALS nokey
        HRANDFIELD nokey
        HRANDFIELD nokey 3
        HRANDFIELD nokey -3 WITHVALUES
        HGETALL
        HKEYS
        HVALS a b
        """,
    )


WRONGTYPE_COMMANDS = [
    ("HSET", "s", "f", "v"),
    ("HMSET", "s", "f", "v"),
    ("HSETNX", "s", "f", "v"),
    ("HGET", "s", "f"),
    ("HMGET", "s", "f", "g"),
    ("HDEL", "s", "f"),
    ("HGETALL", "s"),
    ("HEXISTS", "s", "f"),
    ("HLEN", "s"),
    ("HKEYS", "s"),
    ("HVALS", "s"),
    ("HINCRBY", "s", "f", "1"),
    ("HINCRBYFLOAT", "s", "f", "1.5"),
    ("HSTRLEN", "s", "f"),
    ("HRANDFIELD", "s"),
    ("HRANDFIELD", "s", "2"),
    ("HRANDFIELD", "s", "-2", "WITHVALUES"),
]


def test_wrongtype_against_a_string(diff):
    diff.do("SET", "s", "a string")
    for args in WRONGTYPE_COMMANDS:
        diff.do(*args)
    diff.do("GET", "s")


def test_argument_errors_come_before_the_type_check(diff):
    play(
        diff,
        """
        SET s x
        HSET s f v g
        HINCRBY s f notanumber
        HINCRBYFLOAT s f notafloat
        HINCRBYFLOAT s f inf
        HRANDFIELD s notanumber
        HRANDFIELD s 1 BADOPTION
        HRANDFIELD s -9223372036854775808
        HRANDFIELD s 4611686018427387904 WITHVALUES
        """,
    )


def test_hincrby(diff):
    play(
        diff,
        """
        HINCRBY h n 5
        HINCRBY h n -10
        HINCRBY h n 0
        HGET h n
        HSET h max 9223372036854775807 min -9223372036854775808
        HINCRBY h max 1
        HINCRBY h max -1
        HINCRBY h max 1
        HINCRBY h min -1
        HINCRBY h min 1
        HINCRBY h min 9223372036854775807
        HINCRBY h n 9223372036854775807
        HINCRBY h n -9223372036854775808
        HINCRBY h n 9223372036854775808
        HINCRBY h n 1.5
        HINCRBY h n abc
        HINCRBY h n ""
        HINCRBY h n +1
        HINCRBY h n 01
        HINCRBY h n " 1"
        HINCRBY h n -0
        HSET h text abc float 1.5 spaced " 7" empty "" lead 007 plus +3 big 99999999999999999999
        HINCRBY h text 1
        HINCRBY h float 1
        HINCRBY h spaced 1
        HINCRBY h empty 1
        HINCRBY h lead 1
        HINCRBY h plus 1
        HINCRBY h big 1
        HGETALL h
        HINCRBY h n
        HINCRBY h n 1 2
        """,
    )


def test_hincrbyfloat(diff):
    play(
        diff,
        """
        HINCRBYFLOAT h f 10.5
        HINCRBYFLOAT h f 0.1
        HINCRBYFLOAT h f -5.0e3
        HINCRBYFLOAT h f 0x10
        HINCRBYFLOAT h f 1e-20
        HSET h i 10 neg -3 exp 5e3 hex 0x1p4
        HINCRBYFLOAT h i 0.25
        HINCRBYFLOAT h neg 3
        HINCRBYFLOAT h exp 1
        HINCRBYFLOAT h hex 1
        HINCRBYFLOAT h big 1e308
        HINCRBYFLOAT h big 1e308
        HINCRBYFLOAT h big 1.7976931348623157e308
        HINCRBYFLOAT h tiny 0.00000000000000000001
        HINCRBYFLOAT h tiny -0.00000000000000000001
        HGET h big
        """,
    )
    diff.do_sorted("HGETALL", "h")  # "big" outgrew hash-max-listpack-value: a hashtable now


def test_hincrbyfloat_errors(diff):
    play(
        diff,
        """
        HSET h text abc spaced " 1" trailing "1 " empty "" inf inf nan nan ok 1.5
        HINCRBYFLOAT h text 1
        HINCRBYFLOAT h spaced 1
        HINCRBYFLOAT h trailing 1
        HINCRBYFLOAT h empty 1
        HINCRBYFLOAT h inf 1
        HINCRBYFLOAT h nan 1
        HINCRBYFLOAT h ok abc
        HINCRBYFLOAT h ok ""
        HINCRBYFLOAT h ok nan
        HINCRBYFLOAT h ok inf
        HINCRBYFLOAT h ok -infinity
        HINCRBYFLOAT h ok 1e5000
        HINCRBYFLOAT h ok 1e-5000
        HINCRBYFLOAT h ok 0x1p-16446
        HINCRBYFLOAT h ok 1.5.5
        HINCRBYFLOAT h ok " 1"
        HINCRBYFLOAT h ok 1.7976931348623157e308
        HINCRBYFLOAT h ok 1e4932
        HINCRBYFLOAT h ok 1.1e4932
        HINCRBYFLOAT h ok -1.2e4932
        HGET h ok
        HINCRBYFLOAT nokey f inf
        EXISTS nokey
        HINCRBYFLOAT h ok
        HINCRBYFLOAT h ok 1 2
        """,
    )


def test_hrandfield_errors(diff):
    """Checked before the key is looked up; the bounds are Redis's (LONG_MAX, LONG_MAX/2)."""
    diff.do("HSET", "h", "a", "1", "b", "2", "c", "3")
    for key in ("h", "nokey"):
        for args in [
            ("x",),
            ("1.5",),
            ("",),
            ("01",),
            ("9223372036854775808",),
            ("-9223372036854775808",),
            ("-9223372036854775808", "WITHVALUES"),
            ("-9223372036854775807", "WITHVALUES"),
            ("4611686018427387904", "WITHVALUES"),
            ("-4611686018427387904", "WITHVALUES"),
            ("1", "foo"),
            ("1", "WITHVALUES", "x"),
            ("1", "WITHVALUES", "WITHVALUES"),
            ("x", "foo"),
        ]:
            diff.do("HRANDFIELD", key, *args)
    diff.do("HRANDFIELD")


def test_hrandfield_whole_hash_in_order(diff):
    """A count at least the size returns every field, in hash order for a small hash."""
    diff.do("HSET", "h", "a", "1", "b", "2", "c", "3")
    for args in [("3",), ("4",), ("9223372036854775807",), ("3", "withvalues")]:
        diff.do("HRANDFIELD", "h", *args)
    diff.do("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES")
    diff.do("HRANDFIELD", "h", "0")
    diff.do("HRANDFIELD", "h", "0", "WITHVALUES")


def _pairs(reply: list, resp: int) -> list[tuple[bytes, bytes]]:
    if resp == 3:
        assert all(isinstance(p, list) and len(p) == 2 for p in reply), reply
        return [tuple(p) for p in reply]
    assert len(reply) % 2 == 0, reply
    return list(zip(reply[::2], reply[1::2], strict=True))


@pytest.mark.parametrize(
    ("count", "distinct"), [(1, True), (2, True), (4, True), (-1, False), (-5, False), (-40, False)]
)
def test_hrandfield_counts(diff, count, distinct):
    """Random picks: same shape on both servers, members of the hash, distinct if count > 0."""
    content = {f"f{i}".encode(): f"v{i}".encode() for i in range(6)}
    diff.do("HSET", "h", *[x for pair in content.items() for x in pair])
    for with_values in (False, True):
        options = ("WITHVALUES",) if with_values else ()
        replies = [parse(raw) for raw in diff.both("HRANDFIELD", "h", str(count), *options)]
        for reply in replies:
            assert isinstance(reply, list) and len(reply) == abs(count) * (
                2 if with_values and diff.protocol == 2 else 1
            )
            if with_values:
                pairs = _pairs(reply, diff.protocol)
                assert all(content[f] == v for f, v in pairs), pairs
                names = [f for f, _ in pairs]
            else:
                names = reply
            assert set(names) <= set(content)
            if distinct:
                assert len(set(names)) == len(names), names


def test_hrandfield_single(diff):
    diff.do("HSET", "h", "only", "1")
    diff.do("HRANDFIELD", "h")
    diff.do("HRANDFIELD", "h", "1")
    diff.do("HRANDFIELD", "h", "-3")
    diff.do("HRANDFIELD", "h", "-2", "WITHVALUES")
    diff.do("HSET", "h", "other", "2")
    for raw in diff.both("HRANDFIELD", "h"):
        assert parse(raw) in (b"only", b"other")


def test_hrandfield_negative_counts_repeat(diff):
    diff.do("HSET", "h", "a", "1", "b", "2")
    for raw in diff.both("HRANDFIELD", "h", "-200"):
        picked = parse(raw)
        assert len(picked) == 200 and set(picked) == {b"a", b"b"}


def test_hrandfield_hostile_count_is_refused_before_allocating(resp_port):
    """Redis would stream 9.2e18 picks until it runs out of memory (so it is not asked): a
    negative count whose reply could pass MAX_RANDOM_REPLY bytes is refused up front."""
    out_of_range = b"-ERR value is out of range\r\n"
    conn = RawConnection(resp_port)
    try:
        conn.call("DEL", "hostile")
        conn.call("HSET", "hostile", "a", "1")
        assert conn.call("HRANDFIELD", "hostile", "-9223372036854770000") == out_of_range
        assert conn.call("HRANDFIELD", "hostile", "-9223372036854775807") == out_of_range
        assert conn.call("HRANDFIELD", "hostile", "-4611686018427387903", "WITHVALUES") == (
            out_of_range
        )
        assert conn.call("HRANDFIELD", "nokey-hostile", "-9223372036854770000") == b"*0\r\n"
        # The bound is on bytes: 129 picks of a 1 MiB value could pass 128 MiB.
        conn.call("HSET", "hostile", "b", "x" * (1 << 20))
        assert conn.call("HRANDFIELD", "hostile", "-129", "WITHVALUES") == out_of_range
        assert conn.call("HRANDFIELD", "hostile", "-129")[:6] == b"*129\r\n"
        assert conn.call("HRANDFIELD", "hostile", "-3", "WITHVALUES")[:4] == b"*6\r\n"
        assert conn.call("PING") == b"+PONG\r\n"
    finally:
        conn.call("DEL", "hostile")
        conn.close()


def test_hrandfield_hostile_count_on_missing_and_wrong_type(diff):
    """Where Redis answers at once (no hash to sample) both servers agree."""
    diff.do("SET", "s", "x")
    diff.do("HRANDFIELD", "nokey", "-9223372036854770000")
    diff.do("HRANDFIELD", "s", "-9223372036854770000")
    diff.do("HRANDFIELD", "nokey", "9223372036854775807", "WITHVALUES")


def test_big_hash(diff):
    """Past hash-max-listpack-entries Redis uses a hashtable: order unspecified."""
    pairs = [x for i in range(600) for x in (f"field:{i}", str(i))]
    diff.do("HSET", "big", *pairs)
    diff.do("HLEN", "big")
    diff.do_sorted("HGETALL", "big")
    diff.do_sorted("HKEYS", "big")
    diff.do_sorted("HVALS", "big")
    diff.do_sorted("HRANDFIELD", "big", "1000")
    diff.do_sorted("HRANDFIELD", "big", "600", "WITHVALUES")
    diff.do("HMGET", "big", "field:0", "field:599", "field:600")
    diff.do("HDEL", "big", *[f"field:{i}" for i in range(0, 600, 2)])
    diff.do("HLEN", "big")
    diff.do_sorted("HGETALL", "big")
    diff.do("HINCRBY", "big", "field:1", "10")
    diff.do("HDEL", "big", *[f"field:{i}" for i in range(1, 600, 2)])
    diff.do("EXISTS", "big")


def test_long_value_hash(diff):
    """A value past hash-max-listpack-value also makes a hashtable."""
    diff.do("HSET", "h", "a", "1", "b", LONG, "c", "3")
    diff.do_sorted("HGETALL", "h")
    diff.do_sorted("HRANDFIELD", "h", "5", "WITHVALUES")
    diff.do("HSTRLEN", "h", "b")
    diff.do("HGET", "h", "b")


def test_dirty_counter_matches_redis(diff):
    """server.dirty (INFO's rdb_changes_since_last_save) grows as Redis's: per field for
    HSET/HMSET/HDEL, once for the others, not at all for no-ops and errors."""
    steps = [
        ("HSET", "h", "a", "1", "b", "2"),
        ("HSET", "h", "a", "1"),
        ("HMSET", "h", "a", "1", "c", "3"),
        ("HSETNX", "h", "a", "9"),
        ("HSETNX", "h", "z", "1"),
        ("HDEL", "h", "nofield"),
        ("HDEL", "h", "a", "b", "nofield"),
        ("HINCRBY", "h", "n", "1"),
        ("HINCRBY", "h", "c", "x"),
        ("HINCRBYFLOAT", "h", "n", "1.5"),
        ("HINCRBYFLOAT", "h", "z", "inf"),
        ("HGETALL", "h"),
        ("HDEL", "h", "c", "z", "n"),
        ("HDEL", "h", "c"),
    ]
    assert_changes_as_redis(diff, steps)


def test_writes_signal_the_key_once(resp_server, resp_port):
    """Each changed key is reported to listeners (QUERY's indexes) exactly once per command,
    and no-ops and errors report nothing."""
    seen: list[bytes] = []

    class Recorder:
        def key_changed(self, db, key):
            seen.append(key)

        def db_reset(self, db):
            seen.append(b"<reset>")

    listeners = resp_server.running.state.listeners
    recorder = Recorder()
    conn = RawConnection(resp_port)
    listeners.append(recorder)
    try:
        conn.call("SELECT", "9")
        conn.call("DEL", "sig")
        cases = [
            (("HSET", "sig", "a", "1", "b", "2"), [b"sig"]),
            (("HSET", "sig", "a", "1"), [b"sig"]),
            (("HMSET", "sig", "c", "3", "d", "4"), [b"sig"]),
            (("HSETNX", "sig", "a", "x"), []),
            (("HSETNX", "sig", "e", "5"), [b"sig"]),
            (("HDEL", "sig", "nofield"), []),
            (("HDEL", "sig", "a", "b"), [b"sig"]),
            (("HINCRBY", "sig", "n", "2"), [b"sig"]),
            (("HINCRBY", "sig", "c", "x"), []),
            (("HINCRBYFLOAT", "sig", "n", "0.5"), [b"sig"]),
            (("HINCRBYFLOAT", "sig", "e", "nan"), []),
            (("HGETALL", "sig"), []),
            (("HDEL", "sig", "c", "d", "e", "n", "zz"), [b"sig"]),
            (("HINCRBY", "sig", "m", "1"), [b"sig"]),
        ]
        for args, expected in cases:
            seen.clear()
            conn.call(*args)
            assert seen == expected, (args, seen)
    finally:
        listeners.remove(recorder)
        conn.call("DEL", "sig")
        conn.close()


def test_replies_inside_multi(diff):
    """Queued hash commands reply as they do alone, errors inside the EXEC array."""
    play(
        diff,
        """
        SET s x
        MULTI
        HSET h a 1 b 2
        HSET s a 1
        HINCRBY h a x
        HINCRBYFLOAT h b 0.5
        HGETALL h
        HRANDFIELD h 5 WITHVALUES
        EXEC
        """,
    )
    assert len(elements(diff.do("HGETALL", "h"))) == 4
