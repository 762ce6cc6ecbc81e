"""QUERY's equality and ordered indexes and its caches, on respserver: every write path keeps
them current (QUERY agrees with a brute-force evaluation over SCAN + HGETALL, in RESP2 and RESP3,
each index equals one rebuilt from the data, and each cached bucket order and reply row equals
one computed afresh), a random mix of writes and queries agrees too, a selective query examines
only the candidates of its most selective clause, the row cache keeps to its budget, and INFO
query reports the counters, indexes and cache. (The index structures alone:
tests/unit/test_query_index.py.)"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import pytest
import redis
import trio
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from respserver.core.state import Server
from respserver.query import index as index_module
from respserver.query.index import number
from respserver.resp.encoder import encode
from respserver.runtime.server import ServerThread
from tests.conftest import RawConnection
from tests.helpers.query import actual, brute, queries, render, state
from tests.helpers.respshape import bulk_text, info_sections

A, B = 9, 10  # the databases these tests own


def on_owner(resp_server: ServerThread, fn: Callable[[Server], object]) -> object:
    """Run ``fn`` on the server's state in its own Trio thread (never while it is mid-write)."""
    running = resp_server.running
    assert running is not None
    return trio.from_thread.run_sync(fn, running.state, trio_token=resp_server._token)


def to_number(value: bytes | None) -> float | None:
    return None if value is None else number(value)


def expected_row(key: bytes, fields: dict[bytes, bytes], resp3: int) -> bytes:
    """A hash's element of QUERY's full reply, cut from the encoding of a one-element reply."""
    if resp3:
        return encode({key: fields}, True).removeprefix(b"%1\r\n")
    return encode([key, fields])


def check_indexes(resp_server: ServerThread) -> None:
    """Every index of A and B equals the one a fresh pass over the data would build; every
    cached bucket order and reply row equals one computed from the data now."""

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
                assert index.buckets == buckets, (n, field)
                assert len(index) == len(expected)
                assert index.by_key in (None, expected), (n, field)
                for value, in_order in index.in_order.items():
                    assert in_order == tuple(sorted(buckets[value])), (n, field, value)
            for field in server.indexes.numeric_fields(db):
                index = server.indexes.get_numeric(db, field)
                hashes = {k: v for k, v in db.data.items() if type(v) is dict and field in v}
                parsed = {k: to_number(v[field]) for k, v in hashes.items()}
                numbers = {k: v for k, v in parsed.items() if v is not None}
                assert {k: e[8:] for k, e in index.by_key.items()} == {k: k for k in numbers}
                assert [e[8:] for e in index.entries] == sorted(
                    numbers, key=lambda k: (numbers[k], k)
                )
                assert index.non_numeric == {k for k, v in parsed.items() if v is None}
            rows = server.indexes.rows(db)
            for resp3, cached in enumerate(rows.forms):
                for key, row in cached.items():
                    assert type(db.data.get(key)) is dict, (n, key)
                    assert row == expected_row(key, db.data[key], resp3), (n, key, resp3)
            assert rows.size == sum(sys.getsizeof(row) for f in rows.forms for row in f.values())
            for (_, resp3), (keys, reply) in rows.replies.items():
                header = b"%s%d\r\n" % (b"%" if resp3 else b"*", len(keys))
                fresh = b"".join(expected_row(key, db.data[key], resp3) for key in keys)
                assert reply == header + fresh, (n, keys, resp3)
                assert all(key in rows.forms[resp3] for key in keys)  # how a change is seen
            assert rows.replies_size == sum(sys.getsizeof(r) for _, r in rows.replies.values())
            assert rows.replies_size <= rows.size

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
    q(("owner", "=", "ann"), ("status", "!=", "closed"), mode="NOCONTENT"),
    q(("n", ">", "1"), ("status", "!=", "open"), ("owner", "IN", ["ann", "bob"])),
    q(("status", "IN", ["open", "failed"]), ("owner", "IN", ["bob", "ann"]), ("n", "<", "10")),
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


def as_resp3(reply: object) -> object:
    """A full reply as brute force gives it (RESP2's pairs) in RESP3's shape: maps."""
    if type(reply) is not list or not reply or type(reply[0]) is not list:
        return reply
    return {key: dict(zip(flat[::2], flat[1::2], strict=True)) for key, flat in reply}


def ordered_items(reply: object) -> object:
    """Maps as lists of items, so that comparing them compares their order too."""
    if type(reply) is dict:
        return [(key, ordered_items(value)) for key, value in reply.items()]
    return reply


def agree(resp_server: ServerThread, *clients: redis.Redis) -> None:
    """Each query on each database returns what brute force over SCAN + HGETALL returns, in
    RESP2 and (the full replies, served from their own cached rows) in RESP3."""
    for r in clients:
        current = state(r)
        where = r.get_connection_kwargs()
        r3 = redis.Redis(port=where["port"], db=where["db"], protocol=3)
        for query in QUERIES:
            expected = brute(current, query)
            assert actual(r, query) == expected, (r, query)
            if query["mode"] is None:
                got = ordered_items(actual(r3, query))
                assert got == ordered_items(as_resp3(expected)), (r, query)
        r3.close()
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
    check_indexes(resp_server)  # before any QUERY refills a cache: the write emptied what changed
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


def test_query_indexes_no_scans_and_drops_the_indexes(resp_server, dbs):
    ra, _ = dbs
    ra.hset("i:0", mapping={"status": "open", "n": "5"})
    ra.hset("i:1", mapping={"status": "open", "n": "3"})
    args = ("QUERY", "WHERE", "status", "=", "open", "SORTBY", "n", "DESC", "NOCONTENT")
    assert ra.execute_command(*args) == [b"i:0", b"i:1"]
    built = lambda s: (s.indexes.fields(s.databases[A]), s.indexes.numeric_fields(s.databases[A]))  # noqa: E731
    assert on_owner(resp_server, built) == ((b"status",), (b"n",))
    counters = lambda s: (s.indexes.served, s.indexes.scanned)  # noqa: E731
    served, scanned = on_owner(resp_server, counters)
    ra.config_set("query-indexes", "no")
    try:
        assert ra.config_get("query-indexes") == {"query-indexes": "no"}
        ra.hset("i:1", "n", "x")
        with pytest.raises(redis.ResponseError, match="can't be converted into double"):
            ra.execute_command(*args)
        ra.hset("i:1", "n", "7")
        assert ra.execute_command(*args) == [b"i:1", b"i:0"]
        assert on_owner(resp_server, built) == ((), ())
        assert on_owner(resp_server, counters) == (served, scanned + 2)
    finally:
        ra.config_set("query-indexes", "yes")
    assert ra.execute_command(*args) == [b"i:1", b"i:0"]
    assert on_owner(resp_server, built) == ((b"status",), (b"n",))


# --- the caches: bucket order and reply rows --------------------------------------------------


def cached(resp_server: ServerThread, number: int) -> tuple[set[bytes], set[bytes], list[bytes]]:
    """The keys with a cached RESP2 row, with a RESP3 row, and the values whose bucket of the
    status index is kept in name order, in database ``number``."""

    def read(server: Server) -> tuple[set[bytes], set[bytes], list[bytes]]:
        db = server.databases[number]
        resp2, resp3 = server.indexes.rows(db).forms
        status = server.indexes.get(db, b"status")
        return set(resp2), set(resp3), [] if status is None else sorted(status.in_order)

    return on_owner(resp_server, read)


def kept_replies(resp_server: ServerThread, number: int) -> list[tuple[tuple[bytes, ...], bool]]:
    """The keys and protocol (RESP3?) of each whole reply kept for database ``number``."""

    def read(server: Server) -> list[tuple[tuple[bytes, ...], bool]]:
        rows = server.indexes.rows(server.databases[number])
        return [(keys, resp3) for (_, resp3), (keys, _) in rows.replies.items()]

    return on_owner(resp_server, read)


def test_full_replies_come_from_cached_rows_until_a_key_changes(resp_server, resp_port, dbs):
    ra, _ = dbs
    for key, fields in DATA_A.items():
        ra.hset(key, mapping=fields)
    conn = RawConnection(resp_port)
    conn.call("SELECT", str(A))
    open_keys = [b"i:0", b"i:1", b"i:5"]

    def row(key: bytes) -> bytes:
        fields = DATA_A[key.decode()]
        return expected_row(key, {f.encode(): v.encode() for f, v in fields.items()}, 0)

    expected = b"*3\r\n" + b"".join(map(row, open_keys))
    for _ in range(2):  # the first fills the caches, the second is served from them
        reply = conn.call("QUERY", "WHERE", "status", "=", "open")
        assert reply == expected
        assert cached(resp_server, A) == (set(open_keys), set(), [b"open"])
    assert conn.call("QUERY", "WHERE", "status", "=", "open", "NOCONTENT") == (
        b"*3\r\n$3\r\ni:0\r\n$3\r\ni:1\r\n$3\r\ni:5\r\n"
    )
    assert kept_replies(resp_server, A) == [(tuple(open_keys), False)]
    ra.hset("i:1", "owner", "cy")  # its bucket of status stays; its row and the reply go
    assert cached(resp_server, A) == ({b"i:0", b"i:5"}, set(), [b"open"])
    assert kept_replies(resp_server, A) == []
    ra.hset("i:5", "status", "closed")  # leaves the bucket: the kept order goes too
    assert cached(resp_server, A) == ({b"i:0"}, set(), [])
    assert ra.execute_command("QUERY", "WHERE", "status", "=", "open") == [
        [b"i:0", [b"status", b"open", b"owner", b"ann", b"n", b"5"]],
        [b"i:1", [b"status", b"open", b"owner", b"cy", b"n", b"2"]],
    ]
    assert kept_replies(resp_server, A) == [((b"i:0", b"i:1"), False)]
    ra.hset("i:01", "status", "open")  # joins the bucket: a new tuple, whose reply is new
    assert ra.execute_command("QUERY", "WHERE", "status", "=", "open") == [
        [b"i:0", [b"status", b"open", b"owner", b"ann", b"n", b"5"]],
        [b"i:01", [b"status", b"open"]],
        [b"i:1", [b"status", b"open", b"owner", b"cy", b"n", b"2"]],
    ]
    assert ((b"i:0", b"i:01", b"i:1"), False) in kept_replies(resp_server, A)
    ra.delete("i:01")
    conn.call("HELLO", "3")
    assert conn.call("QUERY", "WHERE", "status", "=", "open", "LIMIT", "1", "1") == (
        b"%1\r\n$3\r\ni:1\r\n%3\r\n$6\r\nstatus\r\n$4\r\nopen\r\n"
        b"$5\r\nowner\r\n$2\r\ncy\r\n$1\r\nn\r\n$1\r\n2\r\n"
    )
    assert cached(resp_server, A) == ({b"i:0", b"i:1"}, {b"i:1"}, [b"open"])
    conn.close()
    check_indexes(resp_server)


def test_row_cache_keeps_to_its_budget(resp_server, dbs, monkeypatch):
    ra, _ = dbs
    monkeypatch.setattr(index_module, "ROWS_MIN", 4)  # the budget: 4 rows (the db has 12 keys)
    for i in range(12):
        ra.hset(f"b:{i:02}", mapping={"g": str(i % 3), "i": str(i)})
    group = {g: [f"b:{i:02}".encode() for i in range(g, 12, 3)] for g in range(3)}
    full = lambda g: ra.execute_command("QUERY", "WHERE", "g", "=", str(g))  # noqa: E731
    assert [key for key, _ in full(0)] == group[0]  # 4 rows: the budget
    assert cached(resp_server, A)[0] == set(group[0])
    assert [key for key, _ in full(1)] == group[1]  # 4 more would overflow: start afresh
    assert cached(resp_server, A)[0] == set(group[1])
    everything = ra.execute_command("QUERY", "SORTBY", "i")  # 12 > 4: encoded, not cached
    assert [key for key, _ in everything] == sorted(group[0] + group[1] + group[2])
    assert everything[5] == [b"b:05", [b"g", b"2", b"i", b"5"]]
    assert cached(resp_server, A)[0] == set(group[1])
    ra.hset("b:01", "g", "0")
    assert [key for key, _ in full(1)] == [b"b:04", b"b:07", b"b:10"]
    assert cached(resp_server, A)[0] == {b"b:04", b"b:07", b"b:10"}
    check_indexes(resp_server)


# --- a state machine: random writes and queries against brute force --------------------------

KEYS = [f"k:{i}" for i in range(6)]
NUMBERS = ["1", "2", "10", "x", "-0", "inf", "1e1", "2.5"]
VALUES = {"status": ["open", "closed", "failed"], "owner": ["ann", "bob"], "n": NUMBERS}
key_names = st.sampled_from(KEYS)
field_values = st.sampled_from(list(VALUES)).flatmap(
    lambda f: st.tuples(st.just(f), st.sampled_from(VALUES[f]))
)


class QueryModel(RuleBasedStateMachine):
    """Writes of every kind QUERY's indexes must follow, in random order, across two databases;
    every QUERY (the full grammar of tests/helpers/query.py's strategy) must equal brute force
    over SCAN + HGETALL of the state at that moment, and at the end every index must equal one
    rebuilt from the data. ``indexes`` is "present" (built over every queried field before the
    first write) or "absent" (``query-indexes no``: QUERY scans)."""

    port: int
    server: ServerThread
    indexes: str

    def __init__(self) -> None:
        super().__init__()
        self.clients = {n: redis.Redis(port=self.port, db=n, protocol=2) for n in (A, B)}
        self.resp3 = {n: redis.Redis(port=self.port, db=n, protocol=3) for n in (A, B)}
        self.r = self.clients[A]
        self.r.config_set("query-indexes", "yes" if self.indexes == "present" else "no")
        for r in self.clients.values():
            r.flushdb()
            if self.indexes == "present":
                for field in [*VALUES, "nosuch"]:
                    r.execute_command("QUERY", "WHERE", field, "!=", "", "WHERE", field, ">", "0")

    def teardown(self) -> None:
        if self.indexes == "present":
            check_indexes(self.server)
        self.r.config_set("query-indexes", "yes")
        for r in self.clients.values():
            r.flushdb()
            r.close()
        for r in self.resp3.values():
            r.close()

    @initialize(
        data=st.dictionaries(key_names, st.lists(field_values, min_size=1, max_size=3)),
        other=st.dictionaries(key_names, st.lists(field_values, min_size=1, max_size=3)),
    )
    def load(self, data, other):
        for db, hashes in ((A, data), (B, other)):
            for key, pairs in hashes.items():
                self.clients[db].hset(key, mapping=dict(pairs))

    @rule(key=key_names, pairs=st.lists(field_values, min_size=1, max_size=3))
    def hset(self, key, pairs):
        self.tolerate(lambda: self.r.hset(key, mapping=dict(pairs)))

    @rule(key=key_names, field=st.sampled_from(list(VALUES)))
    def hdel(self, key, field):
        self.tolerate(lambda: self.r.hdel(key, field))

    @rule(key=key_names, by=st.integers(-3, 3))
    def hincrby(self, key, by):
        self.tolerate(lambda: self.r.hincrby(key, "n", by))

    @rule(key=key_names)
    def delete(self, key):
        self.r.delete(key)

    @rule(source=key_names, destination=key_names)
    def rename(self, source, destination):
        self.tolerate(lambda: self.r.rename(source, destination))

    @rule(key=key_names, destination=key_names, replace=st.booleans())
    def copy_across(self, key, destination, replace):
        other = B if self.r is self.clients[A] else A
        self.r.copy(key, destination, destination_db=other, replace=replace)

    @rule(key=key_names)
    def move(self, key):
        self.r.move(key, B if self.r is self.clients[A] else A)

    @rule(key=key_names, ms=st.integers(1, 15))
    def expire_lazily(self, key, ms):
        if self.r.pexpire(key, ms):
            time.sleep(ms / 1000 + 0.003)  # past the TTL: the next read reaps it

    @rule(key=key_names)
    def expire_actively(self, key):
        if self.r.pexpire(key, 1):
            wait_reaped(self.server, self.database, key.encode())

    @rule(key=key_names)
    def overwrite_with_string(self, key):
        self.r.set(key, "a string")

    @rule()
    def flushdb(self):
        self.r.flushdb()

    @rule()
    def swapdb(self):
        self.r.swapdb(A, B)

    @rule(number=st.sampled_from([A, B]))
    def select(self, number):
        self.r = self.clients[number]

    @rule(query=queries)
    def query_agrees_with_brute_force(self, query):
        expected = brute(state(self.r), query)
        assert actual(self.r, query) == expected, render(query)
        if query["mode"] is None:  # RESP3's full reply has its own cached rows
            got = actual(self.resp3[self.database], query)
            assert ordered_items(got) == ordered_items(as_resp3(expected)), render(query)

    @invariant()
    def fixed_queries_agree(self):
        current = state(self.r)
        for query in QUERIES:
            assert actual(self.r, query) == brute(current, query), render(query)

    @property
    def database(self) -> int:
        return A if self.r is self.clients[A] else B

    @staticmethod
    def tolerate(write: Callable[[], object]) -> None:
        """Run a write that may meet a string or a missing key, as Redis refuses it."""
        try:
            write()
        except redis.ResponseError as e:
            assert "no such key" in str(e) or "WRONGTYPE" in str(e) or "not an integer" in str(e)


@pytest.mark.parametrize("indexes", ["present", "absent"])
def test_query_model(resp_server, resp_port, indexes):
    machine = type("Machine", (QueryModel,), {"port": resp_port, "server": resp_server})
    machine.indexes = indexes
    counters = lambda s: (s.indexes.served, s.indexes.scanned)  # noqa: E731
    served, scanned = on_owner(resp_server, counters)
    run_state_machine_as_test(
        machine, settings=settings(max_examples=40, stateful_step_count=30, deadline=None)
    )
    served_now, scanned_now = on_owner(resp_server, counters)
    assert scanned_now > scanned  # queries with no WHERE scan in both modes
    assert (served_now > served) == (indexes == "present")


# --- the index narrows the work ------------------------------------------------------------------


def test_selective_query_examines_only_the_index_candidates(resp_server, dbs):
    ra, _ = dbs
    pipe = ra.pipeline(transaction=False)
    for i in range(20_000):
        status = "failed" if i % 2000 == 7 else "ok"
        pipe.hset(f"big:{i}", mapping={"status": status, "i": i, "g": i % 2, "h": i % 3})
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
    # clauses that are each large but small together: candidates are their intersection
    for where, size in [
        (("g", "=", "0", "WHERE", "h", "=", "0"), 3334),
        (("g", "=", "0", "WHERE", "h", "IN", "2", "1", "2"), 6666),
        (("g", "=", "0", "WHERE", "h", "!=", "0"), 6666),
        (("i", "<", "600", "WHERE", "g", "=", "1", "WHERE", "h", "=", "2"), 100),
    ]:
        served, scanned, examined = on_owner(resp_server, counters)
        assert ra.execute_command("QUERY", "WHERE", *where, "COUNT") == size
        assert on_owner(resp_server, counters) == (served + 1, scanned, examined + size), where
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
    assert list(ours) == [
        f"index_{A}_eq_status",
        f"index_{A}_num_a\\x3ab\\xff",
        f"index_{A}_num_n",
        f"index_{A}_rows_cache",  # h:1's RESP2 row, from both queries' full replies
    ]
    entries = {name: value.split(",") for name, value in ours.items()}
    assert [e[0] for e in entries.values()] == ["entries=2", "entries=1", "entries=1", "entries=1"]
    assert all(e[1].startswith("bytes=") and int(e[1][6:]) > 0 for e in entries.values())
    assert "Query" in info(resp_port, "everything")  # and in plain INFO, as the issue asks
    assert "Query" in info(resp_port, "default")
    ra.flushdb()
    fields = info(resp_port, "QUERY")["Query"]
    assert not any(name.startswith(f"index_{A}_") for name in fields)
