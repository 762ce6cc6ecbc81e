"""QUERY, respserver's own command, on respserver: hand-written cases for each clause, reply
shape and error, then hypothesis datasets and queries checked against a brute-force evaluation
over SCAN + HGETALL of respserver's own state. (Against a real redis-server holding the same
data: tests/differential/test_query.py; the grammar alone: tests/unit/test_query_engine.py.)"""

from __future__ import annotations

import time

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import RawConnection
from tests.helpers.query import (
    BAD_SCORE,
    PROPERTY,
    actual,
    brute,
    client,
    datasets,
    queries,
    render,
    state,
    write,
)

SYNTAX = "syntax error"
NOT_INTEGER = "value is not an integer or out of range"


@pytest.fixture
def r2(resp_port):
    r = client(resp_port, 2)
    yield r
    r.close()


@pytest.fixture
def r3(resp_port):
    r = client(resp_port, 3)
    yield r
    r.close()


def query(r: redis.Redis, *args: object) -> object:
    return r.execute_command("QUERY", *args)


def keys(r: redis.Redis, *args: object) -> list[bytes]:
    return query(r, *args, "NOCONTENT")


def error(r: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as caught:
        query(r, *args)
    return str(caught.value)


TICKETS = {
    "t:1": {"status": "open", "n": "5", "owner": "ann"},
    "t:2": {"status": "closed", "n": "10"},
    "t:3": {"status": "open", "n": "x", "owner": "bob"},
    "t:4": {"status": "review", "n": "-2.5", "owner": "ann"},
    "u:1": {"n": "7"},
}


def load(r: redis.Redis, data: dict = TICKETS) -> None:
    for key, fields in data.items():
        r.hset(key, mapping=fields)
    r.set("s:1", "a string is never a candidate")


# --- operators, MATCH, SORTBY, LIMIT -------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ((), ["t:1", "t:2", "t:3", "t:4", "u:1"]),
        (("status", "=", "open"), ["t:1", "t:3"]),
        (("status", "!=", "open"), ["t:2", "t:4", "u:1"]),  # u:1 lacks status: != matches
        (("n", "<", "5"), ["t:4"]),
        (("n", "<=", "5"), ["t:1", "t:4"]),
        (("n", ">", "5"), ["t:2", "u:1"]),
        (("n", ">=", "5"), ["t:1", "t:2", "u:1"]),
        (("n", ">", "-inf"), ["t:1", "t:2", "t:4", "u:1"]),  # "x" is no number: never matches
        (("n", "=", "5.0"), []),  # = compares bytes, not numbers
        (("n", ">=", "5.0"), ["t:1", "t:2", "u:1"]),
        (("status", "IN", "2", "open", "review"), ["t:1", "t:3", "t:4"]),
        (("status", "in", "1", "closed"), ["t:2"]),  # IN is a keyword: any case
        (("owner", "=", "ann", "WHERE", "n", ">", "0"), ["t:1"]),  # WHEREs are ANDed
        (("nosuch", "=", ""), []),
        (("nosuch", "<", "1e300"), []),
        (("nosuch", "IN", "1", ""), []),
        (("nosuch", "!=", "x"), ["t:1", "t:2", "t:3", "t:4", "u:1"]),
    ],
)
def test_where_operators(r2, where, expected):
    load(r2)
    args = ("WHERE", *where) if where else ()
    assert keys(r2, *args) == [k.encode() for k in expected]


def test_match_restricts_key_names_with_scan_globs(r2):
    load(r2)
    assert keys(r2, "MATCH", "t:*") == [b"t:1", b"t:2", b"t:3", b"t:4"]
    assert keys(r2, "MATCH", "[su]:?") == [b"u:1"]  # s:1 is a string, not a hash
    assert keys(r2, "match", "t:[^1-3]", "WHERE", "owner", "=", "ann") == [b"t:4"]
    assert keys(r2, "MATCH", "nothing*") == []


def test_sortby_numeric_alpha_desc_and_ties(r2):
    load(
        r2,
        {"a": {"n": "10", "s": "b"}, "b": {"n": "9", "s": "a"}, "c": {"n": "10"}, "d": {"s": "c"}},
    )
    numeric = ("WHERE", "n", ">", "0", "SORTBY", "n")
    assert keys(r2, *numeric) == [b"b", b"a", b"c"]
    assert keys(r2, *numeric, "DESC") == [b"a", b"c", b"b"]  # ties stay by key name
    assert keys(r2, *numeric, "ALPHA") == [b"a", b"c", b"b"]  # "10" < "9" bytewise
    assert keys(r2, *numeric, "desc", "alpha") == [b"b", b"a", b"c"]
    assert keys(r2, "SORTBY", "s", "ALPHA") == [b"c", b"b", b"a", b"d"]  # missing: ""
    assert keys(r2, "SORTBY", "s", "ALPHA", "ASC") == [b"c", b"b", b"a", b"d"]
    assert keys(r2, "SORTBY", "n", "DESC") == [b"a", b"c", b"b", b"d"]  # missing: 0


def test_sortby_numeric_refuses_non_numbers_among_matches_only(r2):
    load(r2)
    assert error(r2, "SORTBY", "n") == BAD_SCORE
    assert error(r2, "SORTBY", "status") == BAD_SCORE
    assert keys(r2, "WHERE", "status", "!=", "open", "SORTBY", "n") == [b"t:4", b"u:1", b"t:2"]
    assert keys(r2, "SORTBY", "status", "ALPHA") == [b"u:1", b"t:2", b"t:1", b"t:3", b"t:4"]
    assert query(r2, "SORTBY", "n", "COUNT") == 5  # COUNT does not sort


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (("0", "2"), ["a", "b"]),
        (("1", "2"), ["b", "c"]),
        (("3", "10"), ["d", "e"]),
        (("5", "1"), []),
        (("9", "1"), []),
        (("2", "0"), []),
        (("-3", "2"), ["a", "b"]),  # as SORT: a negative offset is 0
        (("2", "-1"), ["c", "d", "e"]),  # as SORT: a negative count means the rest
        (("-1", "-5"), ["a", "b", "c", "d", "e"]),
    ],
)
def test_limit_pages_like_sort(r2, limit, expected):
    load(r2, {k: {"f": "v"} for k in "edcba"})
    assert keys(r2, "LIMIT", *limit) == [k.encode() for k in expected]


# --- replies -------------------------------------------------------------------------------------


def test_full_reply_resp2_and_resp3(r2, r3):
    load(r2)
    where = ("WHERE", "owner", "=", "ann")
    assert query(r2, *where) == [
        [b"t:1", [b"status", b"open", b"n", b"5", b"owner", b"ann"]],
        [b"t:4", [b"status", b"review", b"n", b"-2.5", b"owner", b"ann"]],
    ]
    got = query(r3, *where)
    assert [(k, list(v.items())) for k, v in got.items()] == [
        (b"t:1", [(b"status", b"open"), (b"n", b"5"), (b"owner", b"ann")]),
        (b"t:4", [(b"status", b"review"), (b"n", b"-2.5"), (b"owner", b"ann")]),
    ]
    assert query(r2, "MATCH", "none") == []
    assert query(r3, "MATCH", "none") == {}


def test_raw_reply_bytes(resp_port):
    conn = RawConnection(resp_port)
    conn.call("FLUSHALL")
    conn.call("HSET", "k", "f", "v")
    assert conn.call("QUERY") == b"*1\r\n*2\r\n$1\r\nk\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert conn.call("QUERY", "NOCONTENT") == b"*1\r\n$1\r\nk\r\n"
    assert conn.call("QUERY", "COUNT") == b":1\r\n"
    conn.call("HELLO", "3")
    assert conn.call("QUERY") == b"%1\r\n$1\r\nk\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert conn.call("QUERY", "NOCONTENT") == b"*1\r\n$1\r\nk\r\n"
    assert conn.call("QUERY", "MATCH", "x") == b"%0\r\n"
    assert conn.call("QUERY", "FOO") == b"-ERR syntax error\r\n"
    conn.close()


def test_return_projects_listed_fields_and_omits_missing_ones(r2, r3):
    load(r2)
    assert query(r2, "MATCH", "t:[34]", "RETURN", "2", "owner", "nosuch") == [
        [b"t:3", [b"owner", b"bob"]],
        [b"t:4", [b"owner", b"ann"]],
    ]
    assert query(r2, "MATCH", "u:1", "RETURN", "3", "owner", "n", "owner") == [
        [b"u:1", [b"n", b"7"]]  # listed order, duplicates once, missing left out
    ]
    assert query(r3, "MATCH", "u:1", "RETURN", "1", "status") == {b"u:1": {}}
    assert query(r2, "MATCH", "u:1", "RETURN", "1", "n", "NOCONTENT") == [b"u:1"]


def test_nocontent_and_count(r2):
    load(r2)
    assert keys(r2, "WHERE", "status", "=", "open") == [b"t:1", b"t:3"]
    assert query(r2, "WHERE", "status", "=", "open", "COUNT") == 2
    assert query(r2, "COUNT", "LIMIT", "1", "1") == 5  # COUNT ignores LIMIT
    assert query(r2, "MATCH", "zzz", "COUNT") == 0
    assert query(r2, "NOCONTENT", "LIMIT", "1", "1", "SORTBY", "n", "ALPHA") == [b"t:2"]


def test_clauses_in_any_order_and_repeated(r2):
    load(r2)
    assert keys(r2, "LIMIT", "0", "1", "SORTBY", "n", "ALPHA", "MATCH", "t:*") == [b"t:4"]
    # the last MATCH/LIMIT/SORTBY wins, as with SORT and SCAN
    assert keys(r2, "MATCH", "u:*", "MATCH", "t:1") == [b"t:1"]
    assert keys(r2, "LIMIT", "0", "1", "LIMIT", "1", "1") == [b"t:2"]
    assert keys(r2, "SORTBY", "n", "DESC", "SORTBY", "owner", "ALPHA") == [
        b"t:2",
        b"u:1",
        b"t:1",
        b"t:4",
        b"t:3",
    ]


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("FOO",), SYNTAX),
        (("MATCH",), SYNTAX),
        (("WHERE",), SYNTAX),
        (("WHERE", "n"), SYNTAX),
        (("WHERE", "n", "="), SYNTAX),
        (("WHERE", "n", "<"), SYNTAX),
        (("WHERE", "n", "IN"), SYNTAX),
        (("WHERE", "n", "IN", "3", "a", "b"), SYNTAX),
        (("WHERE", "n", "IN", "1", "a", "b"), SYNTAX),
        (("WHERE", "n", "IN", "x", "a"), NOT_INTEGER),
        (("WHERE", "n", "IN", "0"), NOT_INTEGER),
        (("WHERE", "n", "IN", "-1", "a"), NOT_INTEGER),
        (("WHERE", "n", "~", "1"), "unknown operator '~' in WHERE"),
        (("WHERE", "n", "==", "1"), "unknown operator '==' in WHERE"),
        (("WHERE", "n", "a\r\nb", "1"), "unknown operator 'a  b' in WHERE"),
        (("WHERE", "n", "<", "abc"), "WHERE operand of '<' is not a valid float"),
        (("WHERE", "n", ">=", "nan"), "WHERE operand of '>=' is not a valid float"),
        (("WHERE", "n", "<=", ""), "WHERE operand of '<=' is not a valid float"),
        (("WHERE", "n", ">", " 1"), "WHERE operand of '>' is not a valid float"),
        (("WHERE", "n", ">", "1_0"), "WHERE operand of '>' is not a valid float"),
        (("SORTBY",), SYNTAX),
        (("SORTBY", "n", "UP"), SYNTAX),
        (("LIMIT",), SYNTAX),
        (("LIMIT", "1"), SYNTAX),
        (("LIMIT", "a", "1"), NOT_INTEGER),
        (("LIMIT", "0", "1.5"), NOT_INTEGER),
        (("RETURN",), SYNTAX),
        (("RETURN", "2", "a"), SYNTAX),
        (("RETURN", "0"), NOT_INTEGER),
        (("RETURN", "x", "a"), NOT_INTEGER),
        (("NOCONTENT", "COUNT"), SYNTAX),
        (("count", "MATCH", "*", "nocontent"), SYNTAX),
    ],
)
def test_errors(r2, args, message):
    load(r2)  # errors come from the grammar, whatever the data
    assert error(r2, *args) == message


def test_command_table_entry(resp_port):
    conn = RawConnection(resp_port)
    info = conn.call("COMMAND", "INFO", "query")
    assert info.startswith(
        b"*1\r\n*10\r\n$5\r\nquery\r\n:-1\r\n*1\r\n+readonly\r\n:0\r\n:0\r\n:0\r\n"
    )
    assert b"+@read\r\n+@hash\r\n+@slow\r\n" in info
    docs = conn.call("COMMAND", "DOCS", "query")
    for text in (b"0.1.0", b"O(N) where N is the number of keys", b"WHERE", b"NOCONTENT"):
        assert text in docs
    conn.close()


# --- reading only, expiry, transactions ----------------------------------------------------------


def test_expired_hashes_do_not_appear(r2):
    load(r2)
    r2.pexpire("t:1", 1)
    time.sleep(0.01)
    assert keys(r2, "MATCH", "t:*") == [b"t:2", b"t:3", b"t:4"]
    assert query(r2, "COUNT") == 4


def test_query_does_not_touch_watched_keys(resp_port, r2):
    load(r2)
    other = redis.Redis(port=resp_port, protocol=2)
    pipe = r2.pipeline()
    pipe.watch("t:1")
    assert keys(other, "WHERE", "status", "=", "open", "SORTBY", "owner", "ALPHA") == [
        b"t:1",
        b"t:3",
    ]
    pipe.multi()
    pipe.hget("t:1", "n")
    assert pipe.execute() == [b"5"]  # QUERY from another client did not abort the transaction
    other.close()


def test_query_in_multi_sees_earlier_writes(r2):
    load(r2)
    pipe = r2.pipeline(transaction=True)
    pipe.hset("t:9", mapping={"status": "open", "n": "1"})
    pipe.hdel("t:1", "status")
    pipe.execute_command("QUERY", "WHERE", "status", "=", "open", "NOCONTENT")
    pipe.execute_command("QUERY", "WHERE", "status", "=", "open", "COUNT")
    assert pipe.execute() == [2, 1, [b"t:3", b"t:9"], 2]


@PROPERTY
@given(data=datasets, qs=st.lists(queries, min_size=2, max_size=4))
def test_query_equals_brute_force_over_own_state(resp_port, data, qs):
    r = redis.Redis(port=resp_port, protocol=2)
    write(r, data)
    current = state(r)
    assert current == data  # field order included: HGETALL keeps the hash's own order
    for q in qs:
        assert actual(r, q) == brute(current, q), render(q)
    r.close()


def test_numbers_follow_redis_float_syntax(r2):
    load(r2, {"a": {"n": "1_0"}, "b": {"n": " 3"}, "c": {"n": "1e1"}, "d": {"n": "-inf"}})
    assert keys(r2, "WHERE", "n", ">", "0") == [b"c"]  # "1_0" and " 3" are not numbers
    assert keys(r2, "WHERE", "n", "<", "-1e308") == [b"d"]
    assert error(r2, "MATCH", "[ab]", "SORTBY", "n") == BAD_SCORE


def test_query_reply_in_exec_is_the_state_when_it_ran(resp_port):
    r = redis.Redis(port=resp_port, protocol=3)
    r.delete("snap:h")
    r.hset("snap:h", "f", "v1")
    pipe = r.pipeline()  # MULTI/EXEC: replies are encoded after every queued command ran
    pipe.execute_command("QUERY", "MATCH", "snap:*")
    pipe.hset("snap:h", "f", "v2")
    assert pipe.execute() == [{b"snap:h": {b"f": b"v1"}}, 0]
    r.delete("snap:h")
    r.close()
