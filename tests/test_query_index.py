"""QUERY's equality and ordered indexes: every write path keeps them current (QUERY agrees with a
brute-force evaluation over SCAN + HGETALL, and each index equals one rebuilt from the data), a
random mix of writes and queries agrees too, a selective query examines only the candidates of
its most selective clause, and INFO query reports the counters and indexes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from respserver.index import number
from respserver.server import ServerThread
from respserver.state import Server
from tests.conftest import RawConnection
from tests.respshape import bulk_text, info_sections
from tests.test_query import actual, brute, state

A, B = 9, 10  # the databases these tests own


def on_owner(resp_server: ServerThread, fn: Callable[[Server], object]) -> object:
    """Run ``fn`` on the server's state in its own Trio thread (never while it is mid-write)."""
    running = resp_server.running
    assert running is not None
    return trio.from_thread.run_sync(fn, running.state, trio_token=resp_server._token)


def to_number(value: bytes | None) -> float | None:
    return None if value is None else number(value)


def check_indexes(resp_server: ServerThread) -> None:
    """Every index of A and B equals the one a fresh pass over the data would build."""

    def check(server: Server) -> None:
        for n in (A, B):
            db = server.databases[n]
            for field in server.indexes.fields(db):
                index = server.indexes.get(db, field)
                expected = {
                    k: v[field] for k, v in db.data.items() if type(v) is dict and field in v
                }
                buckets: dict[bytes, set[bytes]] = {}
                for key, value in expected.items():
                    buckets.setdefault(value, set()).add(key)
                assert index.values == expected, (n, field)
                assert index.buckets == buckets, (n, field)
            for field in server.indexes.numeric_fields(db):
                index = server.indexes.get_numeric(db, field)
                parsed = {k: to_number(v.get(field)) for k, v in db.data.items() if type(v) is dict}
                numbers = {k: v for k, v in parsed.items() if v is not None}
                assert index.values == numbers, (n, field)
                assert list(index.pairs) == sorted((v, k) for k, v in numbers.items())

    on_owner(resp_server, check)


def q(*where: tuple, mode: str | None = None) -> dict:
    return {
        "match": None,
        "where": list(where),
        "sortby": None,
        "limit": None,
        "returns": None,
        "mode": mode,
    }


QUERIES = [
    q(("status", "=", "open")),
    q(("status", "IN", ["open", "failed"])),
    q(("status", "!=", "open"), mode="NOCONTENT"),
    q(("owner", "=", "ann"), ("status", "=", "open")),
    q(("n", "IN", ["5", "6", "5.5"]), mode="COUNT"),
    q(("owner", "IN", ["bob", "zed"]), ("n", ">", "1")),
    q(("n", ">=", "5")),
    q(("n", "<", "6"), ("n", ">", "2"), mode="NOCONTENT"),
    q(("n", "<=", "5.5"), ("status", "=", "open"), mode="COUNT"),
    q(("n", ">", "inf")),
    q(("n", "<=", "inf"), ("n", ">=", "-inf")),
]

DATA_A = {
    "i:0": {"status": "open", "owner": "ann", "n": "5"},
    "i:1": {"status": "open", "owner": "bob", "n": "2"},
    "i:2": {"status": "closed", "n": "6"},
    "i:3": {"status": "failed", "owner": "ann"},
    "i:4": {"owner": "bob", "n": "5"},
    "i:5": {"status": "open"},
}
DATA_B = {
    "i:1": {"status": "failed", "owner": "zed", "n": "5"},
    "j:1": {"status": "open", "owner": "ann"},
}


@pytest.fixture
def dbs(resp_port) -> Iterator[tuple[redis.Redis, redis.Redis]]:
    ra, rb = (
        redis.Redis(port=resp_port, db=A, protocol=2),
        redis.Redis(port=resp_port, db=B, protocol=2),
    )
    ra.flushdb()
    rb.flushdb()
    yield ra, rb
    ra.flushdb()
    rb.flushdb()
    ra.close()
    rb.close()


def agree(resp_server: ServerThread, *clients: redis.Redis) -> None:
    """Each query on each database returns what brute force over SCAN + HGETALL returns."""
    for r in clients:
        current = state(r)
        for query in QUERIES:
            assert actual(r, query) == brute(current, query), (r, query)
    check_indexes(resp_server)


def wait_reaped(resp_server: ServerThread, number: int, key: bytes) -> None:
    """Wait until active expiry (not a read) removed ``key``."""
    deadline = time.monotonic() + 5
    while on_owner(resp_server, lambda s: key in s.databases[number].data):
        assert time.monotonic() < deadline, "active expiry never reaped the key"
        time.sleep(0.02)


WRITES: dict[str, Callable] = {
    "hset-change": lambda ra, rb, s: ra.hset("i:1", "status", "failed"),
    "hset-new-key": lambda ra, rb, s: ra.hset("i:9", mapping={"status": "open", "owner": "ann"}),
    "hset-add-field": lambda ra, rb, s: ra.hset("i:2", "owner", "ann"),
    "hmset": lambda ra, rb, s: ra.execute_command("HMSET", "i:4", "status", "open", "n", "6"),
    "hsetnx": lambda ra, rb, s: ra.hsetnx("i:2", "owner", "bob"),
    "hdel-field": lambda ra, rb, s: ra.hdel("i:1", "status"),
    "hdel-last-field": lambda ra, rb, s: ra.hdel("i:5", "status"),
    "hincrby": lambda ra, rb, s: ra.hincrby("i:0", "n", 1),
    "hincrbyfloat": lambda ra, rb, s: ra.hincrbyfloat("i:0", "n", 0.5),
    "del": lambda ra, rb, s: ra.delete("i:0", "i:3"),
    "unlink": lambda ra, rb, s: ra.unlink("i:1"),
    "rename-new": lambda ra, rb, s: ra.rename("i:1", "i:7"),
    "rename-over-hash": lambda ra, rb, s: ra.rename("i:1", "i:3"),
    "rename-string-over-hash": lambda ra, rb, s: ra.set("s", "x") and ra.rename("s", "i:0"),
    "move-out": lambda ra, rb, s: ra.move("i:0", B),
    "move-in": lambda ra, rb, s: rb.move("j:1", A),
    "copy": lambda ra, rb, s: ra.copy("i:0", "i:8"),
    "copy-replace": lambda ra, rb, s: ra.copy("i:0", "i:2", replace=True),
    "copy-to-db": lambda ra, rb, s: ra.copy("i:3", "j:3", destination_db=B),
    "copy-from-db": lambda ra, rb, s: rb.copy("i:1", "i:1", destination_db=A, replace=True),
    "set-over-hash": lambda ra, rb, s: ra.set("i:0", "a string now"),
    "expire-lazy": lambda ra, rb, s: ra.pexpire("i:0", 1) and time.sleep(0.01),
    "expire-active": lambda ra, rb, s: ra.pexpire("i:1", 1) and wait_reaped(s, A, b"i:1"),
    "flushdb": lambda ra, rb, s: ra.flushdb(),
    "flushall": lambda ra, rb, s: ra.flushall(),
    "swapdb": lambda ra, rb, s: ra.swapdb(A, B),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_path_keeps_indexes_current(resp_server, dbs, write):
    ra, rb = dbs
    for r, data in ((ra, DATA_A), (rb, DATA_B)):
        for key, fields in data.items():
            r.hset(key, mapping=fields)
    agree(resp_server, ra, rb)  # builds the equality indexes on status, owner and n; ordered on n
    assert set(on_owner(resp_server, lambda s: s.indexes.fields(s.databases[A]))) == {
        b"status",
        b"owner",
        b"n",
    }
    assert on_owner(resp_server, lambda s: s.indexes.numeric_fields(s.databases[A])) == (b"n",)
    WRITES[write](ra, rb, resp_server)
    agree(resp_server, ra, rb)


def test_indexes_drop_on_reset_and_rebuild(resp_server, dbs):
    ra, _ = dbs
    ra.hset("i:0", "status", "open")
    assert ra.execute_command("QUERY", "WHERE", "status", "!=", "x", "COUNT") == 1
    assert on_owner(resp_server, lambda s: s.indexes.fields(s.databases[A])) == (b"status",)
    assert ra.execute_command("QUERY", "SORTBY", "n", "ALPHA", "COUNT") == 1
    assert on_owner(resp_server, lambda s: s.indexes.numeric_fields(s.databases[A])) == ()
    assert ra.execute_command("QUERY", "SORTBY", "n", "COUNT") == 1  # numeric: builds it
    assert on_owner(resp_server, lambda s: s.indexes.numeric_fields(s.databases[A])) == (b"n",)
    ra.flushdb()
    assert on_owner(resp_server, lambda s: s.indexes.fields(s.databases[A])) == ()
    assert on_owner(resp_server, lambda s: s.indexes.numeric_fields(s.databases[A])) == ()
    ra.hset("i:1", "status", "open")
    assert ra.execute_command("QUERY", "WHERE", "status", "=", "open", "NOCONTENT") == [b"i:1"]


# --- random sequences of writes and queries ----------------------------------------------------

KEYS = [f"k:{i}" for i in range(6)]
VALUES = {"status": ["open", "closed", "failed"], "n": ["1", "2", "10", "x", "-0", "inf", "1e1"]}
FIELDS = [*VALUES, "nosuch"]
OPERANDS = ["open", "closed", "failed", "1", "2", "10", "x", "zzz"]

conditions = st.one_of(
    st.tuples(st.sampled_from(FIELDS), st.sampled_from(["=", "!="]), st.sampled_from(OPERANDS)),
    st.tuples(
        st.sampled_from(FIELDS),
        st.just("IN"),
        st.lists(st.sampled_from(OPERANDS), min_size=1, max_size=3),
    ),
    st.tuples(
        st.sampled_from(["n", "status"]),
        st.sampled_from(["<", "<=", ">", ">="]),
        st.sampled_from(["1", "2", "5", "10", "0", "inf", "-inf"]),
    ),
)
queries = st.builds(
    lambda where, mode: q(*where, mode=mode),
    st.lists(conditions, min_size=1, max_size=3),
    st.sampled_from([None, "NOCONTENT", "COUNT"]),
)
field_values = st.sampled_from(list(VALUES)).flatmap(
    lambda f: st.tuples(st.just(f), st.sampled_from(VALUES[f]))
)
key = st.sampled_from(KEYS)
operations = st.one_of(
    st.tuples(st.just("hset"), key, field_values),
    st.tuples(st.just("hdel"), key, st.sampled_from(list(VALUES))),
    st.tuples(st.just("del"), key),
    st.tuples(st.just("rename"), key, key),
    st.tuples(st.just("pexpire"), key, st.integers(1, 20)),
    st.tuples(st.just("set"), key),
    st.tuples(st.just("flushdb")),
    st.tuples(st.just("swapdb")),
    st.tuples(st.just("select"), st.sampled_from([A, B])),
    st.tuples(st.just("query"), queries),
    st.tuples(st.just("query"), queries),
)


def apply(r: redis.Redis, op: tuple) -> None:
    name, *args = op
    try:
        if name == "hset":
            r.hset(args[0], *args[1])
        elif name == "hdel":
            r.hdel(*args)
        elif name == "del":
            r.delete(args[0])
        elif name == "rename":
            r.rename(*args)
        elif name == "pexpire":
            if r.pexpire(args[0], args[1]):
                time.sleep(args[1] / 1000 + 0.003)  # past the TTL: the key is gone for all
        elif name == "set":
            r.set(args[0], "str")
        elif name == "flushdb":
            r.flushdb()
        elif name == "swapdb":
            r.swapdb(A, B)
    except redis.ResponseError as e:  # RENAME of a missing key, HSET on a string
        assert "no such key" in str(e) or "WRONGTYPE" in str(e)


SEQUENCES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("early", [True, False], ids=["indexed-early", "indexed-lazily"])
@SEQUENCES
@given(ops=st.lists(operations, min_size=5, max_size=25))
def test_random_writes_and_queries_agree_with_brute_force(resp_server, resp_port, early, ops):
    clients = {
        A: redis.Redis(port=resp_port, db=A, protocol=2),
        B: redis.Redis(port=resp_port, db=B, protocol=2),
    }
    for r in clients.values():
        r.flushdb()
        if early:
            r.execute_command(
                "QUERY",
                "WHERE",
                "status",
                "!=",
                "x",
                "WHERE",
                "n",
                "IN",
                "1",
                "1",
                "WHERE",
                "n",
                ">",
                "0",
            )
    built = on_owner(resp_server, lambda s: s.indexes.fields(s.databases[A]))
    assert built == ((b"status", b"n") if early else ())
    numeric = on_owner(resp_server, lambda s: s.indexes.numeric_fields(s.databases[A]))
    assert numeric == ((b"n",) if early else ())
    r = clients[A]
    for op in ops:
        if op[0] == "select":
            r = clients[op[1]]
        elif op[0] == "query":
            assert actual(r, op[1]) == brute(state(r), op[1]), op[1]
        else:
            apply(r, op)
    check_indexes(resp_server)
    for r in clients.values():
        r.flushdb()
        r.close()


# --- the index narrows the work ------------------------------------------------------------------


def test_selective_query_examines_only_the_index_candidates(resp_server, dbs):
    ra, _ = dbs
    pipe = ra.pipeline(transaction=False)
    for i in range(20_000):
        pipe.hset(f"big:{i}", mapping={"status": "failed" if i % 2000 == 7 else "ok", "i": i})
    pipe.execute()
    counters = lambda s: (s.indexes.served, s.indexes.scanned, s.indexes.examined)  # noqa: E731
    served, scanned, examined = on_owner(resp_server, counters)
    expected = sorted(f"big:{i}".encode() for i in range(7, 20_000, 2000))
    for _ in range(2):  # the first builds the index, the second only reads it
        found = ra.execute_command("QUERY", "WHERE", "status", "=", "failed", "NOCONTENT")
        assert found == expected
    assert on_owner(resp_server, counters) == (served + 2, scanned, examined + 20)
    # an IN union and a narrower = clause: the planner takes the smaller one
    ra.hset("big:7", "owner", "ann")
    args = ("WHERE", "status", "IN", "2", "failed", "ok", "WHERE", "owner", "=", "ann")
    assert ra.execute_command("QUERY", *args, "NOCONTENT") == [b"big:7"]
    assert on_owner(resp_server, counters) == (served + 3, scanned, examined + 21)
    # no clause that narrows: every key is examined
    assert ra.execute_command("QUERY", "WHERE", "status", "!=", "ok", "COUNT") == 10
    assert on_owner(resp_server, counters) == (served + 3, scanned + 1, examined + 20_021)
    # range clauses: the first builds the ordered index on i, each examines only its range
    ranges = [
        (("i", ">=", "19990"), 10),
        (("i", "<", "3"), 3),
        (("i", "<=", "3"), 4),
        (("i", ">", "19997.5"), 2),
        (("i", ">=", "10", "WHERE", "i", "<", "20"), 10),  # one interval
        (("i", ">", "5", "WHERE", "i", "<", "5"), 0),  # an empty one
        (("i", ">=", "100", "WHERE", "status", "=", "failed"), 10),  # = is smaller: 10 keys
        (("i", ">=", "19995", "WHERE", "status", "=", "ok"), 5),  # the range is smaller
    ]
    for where, size in ranges:
        served, scanned, examined = on_owner(resp_server, counters)
        found = ra.execute_command("QUERY", "WHERE", *where, "NOCONTENT")
        assert len(found) <= size
        assert on_owner(resp_server, counters) == (served + 1, scanned, examined + size), where
    assert ra.execute_command("QUERY", "WHERE", "i", ">=", "19990", "COUNT") == 10
    assert ra.execute_command(
        "QUERY", "WHERE", "i", ">", "5", "WHERE", "i", "<", "8", "NOCONTENT"
    ) == [
        b"big:6",
        b"big:7",
    ]


def info(port: int, section: str) -> dict[str, dict[str, str]]:
    conn = RawConnection(port)
    try:
        return info_sections(bulk_text(conn.call("INFO", section)))
    finally:
        conn.sock.close()


def test_info_query_reports_counters_and_indexes(resp_server, resp_port, dbs):
    ra, _ = dbs
    ra.hset("h:1", mapping={"status": "open", "n": "5", b"a:b\xff": "1"})
    ra.hset("h:2", mapping={"status": "done", "n": "x"})
    ra.execute_command("QUERY", "WHERE", "status", "=", "open", "WHERE", b"a:b\xff", ">", "0")
    ra.execute_command("QUERY", "WHERE", "n", "<", "9", "SORTBY", "status", "ALPHA")
    section = info(resp_port, "query")
    fields = section.pop("Query")
    assert section == {}
    served, scanned, examined = on_owner(
        resp_server, lambda s: (s.indexes.served, s.indexes.scanned, s.indexes.examined)
    )
    assert fields.pop("query_index_served") == str(served)
    assert fields.pop("query_scan_served") == str(scanned)
    assert fields.pop("query_keys_examined") == str(examined)
    ours = {name: value for name, value in fields.items() if name.startswith(f"index_{A}_")}
    assert list(ours) == [f"index_{A}_eq_status", f"index_{A}_num_a\\x3ab\\xff", f"index_{A}_num_n"]
    entries = {name: value.split(",") for name, value in ours.items()}
    assert [e[0] for e in entries.values()] == ["entries=2", "entries=1", "entries=1"]
    assert all(e[1].startswith("bytes=") and int(e[1][6:]) > 0 for e in entries.values())
    assert "Query" in info(resp_port, "everything")  # and in plain INFO, as the issue asks
    assert "Query" in info(resp_port, "default")
    ra.flushdb()
    fields = info(resp_port, "QUERY")["Query"]
    assert not any(name.startswith(f"index_{A}_") for name in fields)
