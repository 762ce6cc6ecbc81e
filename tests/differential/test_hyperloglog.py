"""HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST) against redis-server 7.0.15:
replies and errors byte for byte, and the HLL strings themselves (GET, DUMP/RESTORE both ways)
byte for byte -- sparse, across the sparse-to-dense promotion and dense -- the count of changes
each command makes, the AOF, corrupted strings, and random sequences (a hypothesis machine)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from respserver.keyspace.hyperloglog import EMPTY, position
from tests.conftest import Diff, RawConnection, parse
from tests.helpers.differential import assert_changes_as_redis, run_on_both
from tests.helpers.persistence import logged_by_both, persistent, port_of

pytestmark = pytest.mark.differential

HEADER = b"HYLL\x01\x00\x00\x00" + bytes(8)  # sparse, cached count 0 and valid
DENSE_HEADER = b"HYLL\x00\x00\x00\x00" + bytes(8)
# An element whose hash offers its register more than 32 (here 35: 34 zero bits after the 14
# that pick the register), which no sparse VAL opcode holds. Found by a brute-force search in C
# over "e<n>" (a chance of 2**-32 each).
HUGE = "e2119568080"


def _elements(prefix: str, count: int, seed: int = 0) -> list[str]:
    rng = random.Random(f"{prefix}{seed}")
    return [f"{prefix}:{rng.getrandbits(40)}" for _ in range(count)]


def _add_in_batches(diff: Diff, key: str, elements: list[str], batch: int = 4000) -> None:
    for i in range(0, len(elements), batch):
        diff.do("PFADD", key, *elements[i : i + batch])


@pytest.fixture
def sparse_limit(diff: Diff) -> Iterator[None]:
    """Tests that change hll-sparse-max-bytes on both servers get Redis's default back."""
    yield
    diff.do("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


# --- commands and errors ---------------------------------------------------------------------


def test_pfadd_and_pfcount(play):
    play(
        """
        PFADD h
        GET h
        PFADD h
        PFCOUNT h
        PFADD h a b c
        GET h
        PFADD h a b c
        PFADD h a d
        PFCOUNT h
        GET h
        PFCOUNT h
        PFADD h x
        GET h
        PFCOUNT nokey
        PFADD new a a a a
        PFCOUNT new
        PFCOUNT h new nokey
        PFCOUNT h h
        PFADD
        PFCOUNT
        EXISTS nokey
        """
    )


def test_wrong_types_and_strings_that_are_no_hll(play):
    play(
        """
        RPUSH l a
        PFADD l a
        PFCOUNT l
        PFCOUNT nokey l
        PFMERGE d l
        PFMERGE l
        PFDEBUG ENCODING l
        SET s hello
        PFADD s a
        PFCOUNT s
        PFMERGE s
        PFMERGE d s
        PFDEBUG GETREG s
        SET n 12345
        PFADD n a
        SET short HYLL
        PFCOUNT short
        SET almost HYLLxxxxxxxxxxxxxx
        PFCOUNT almost
        PFADD h a
        PFCOUNT h s
        PFCOUNT h l
        EXISTS d
        """
    )


def test_a_write_keeps_the_ttl(play):
    play(
        """
        PFADD h a
        EXPIRE h 1000
        PFADD h b c
        TTL h
        PFCOUNT h
        TTL h
        PFMERGE h h
        TTL h
        PFDEBUG TODENSE h
        TTL h
        PFMERGE d h
        TTL d
        """
    )


def test_what_a_watch_sees(play):
    """A PFCOUNT that caches the count changes the key (a WATCH fails); one that reads the
    cache, or a PFADD that raises no register, does not."""
    play(
        """
        PFADD h a b
        WATCH h
        PFCOUNT h
        MULTI
        PING
        EXEC
        WATCH h
        PFCOUNT h
        PFADD h a
        MULTI
        PING
        EXEC
        """
    )


def test_pfmerge(play):
    play(
        """
        PFADD a 1 2 3 4 5
        PFADD b 4 5 6 7
        PFMERGE d a b
        GET d
        PFCOUNT d
        PFMERGE d
        GET d
        PFMERGE e
        GET e
        PFMERGE f nokey
        GET f
        PFMERGE a a
        GET a
        PFCOUNT a b d
        PFDEBUG ENCODING d
        PFDEBUG TODENSE b
        PFMERGE g a
        PFMERGE g b
        PFDEBUG ENCODING g
        GET g
        PFMERGE a b
        PFDEBUG ENCODING a
        PFCOUNT a
        PFCOUNT g
        PFMERGE
        """
    )


def test_pfdebug(play):
    play(
        """
        PFADD h a b c d e f g
        PFDEBUG ENCODING h
        PFDEBUG DECODE h
        PFDEBUG decode h
        PFADD e
        PFDEBUG DECODE e
        PFDEBUG TODENSE h
        PFDEBUG TODENSE h
        PFDEBUG ENCODING h
        PFDEBUG DECODE h
        GET h
        PFCOUNT h
        PFDEBUG GETREG e
        PFDEBUG ENCODING e
        GET e
        PFDEBUG GETREG h
        PFDEBUG FOO h
        PFDEBUG FOO nokey
        PFDEBUG GETREG nokey
        PFDEBUG GETREG
        PFDEBUG GETREG h extra
        """
    )


def test_pfdebug_unknown_subcommand_is_echoed_as_redis_does(diff):
    diff.do("PFADD", "h", "a")
    diff.do("PFDEBUG", "Foo\r\nbar", "h")
    diff.do("PFDEBUG", b"nul\x00after", "h")
    diff.do("PFDEBUG", "x" * 300, "h")


def test_pfselftest(diff):
    started = time.monotonic()
    assert diff.do("PFSELFTEST") == b"+OK\r\n"
    diff.do("PFSELFTEST", "extra")
    assert time.monotonic() - started < 5


def test_the_sparse_limit_is_a_config_parameter(play, sparse_limit):
    play(
        """
        CONFIG GET hll-sparse-max-bytes
        CONFIG GET hll*
        CONFIG SET hll-sparse-max-bytes 0
        CONFIG GET hll-sparse-max-bytes
        CONFIG SET hll-sparse-max-bytes 1kb
        CONFIG GET hll-sparse-max-bytes
        CONFIG SET hll-sparse-max-bytes 2m
        CONFIG GET hll-sparse-max-bytes
        CONFIG SET hll-sparse-max-bytes -1
        CONFIG SET hll-sparse-max-bytes x
        CONFIG SET hll-sparse-max-bytes 9223372036854775808
        CONFIG SET hll-sparse-max-bytes 9223372036854775807
        CONFIG GET hll-sparse-max-bytes
        """
    )


# --- the representation, byte for byte -----------------------------------------------------------


def test_sparse_strings_are_redis_s_after_each_pfadd(diff):
    """Small sets, one or a few elements at a time: the sparse code's splits and merges."""
    rng = random.Random(7)
    for _round in range(120):
        chosen = [str(rng.randrange(3000)) for _ in range(rng.choice((1, 1, 2, 3, 8)))]
        diff.do("PFADD", "h", *chosen)
        diff.do("GET", "h")
    diff.do("PFDEBUG", "DECODE", "h")
    diff.do("PFCOUNT", "h")
    diff.do("GET", "h")


def test_promotion_to_dense_by_size(diff, sparse_limit):
    """With a small hll-sparse-max-bytes the sketch turns dense as soon as an update would
    grow the code past it; every step's string is Redis's."""
    for limit in ("40", "200"):
        diff.do("CONFIG", "SET", "hll-sparse-max-bytes", limit)
        key = f"h{limit}"
        for chunk in range(0, 400, 4):
            diff.do("PFADD", key, *_elements(key, 4, chunk))
            diff.do("GET", key)
        assert diff.do("PFDEBUG", "ENCODING", key) == b"+dense\r\n"
        diff.do("PFCOUNT", key)
    diff.do("CONFIG", "SET", "hll-sparse-max-bytes", "150")
    diff.do("PFADD", "a", *_elements("a", 30))
    diff.do("PFADD", "b", *_elements("b", 30))
    assert parse(diff.do("PFDEBUG", "ENCODING", "b")) == b"sparse"
    diff.do("PFMERGE", "ab", "a", "b")  # outgrows the limit halfway through
    assert parse(diff.do("PFDEBUG", "ENCODING", "ab")) == b"dense"
    diff.do("GET", "ab")


def test_promotion_at_the_default_limit(diff):
    """Past 3000 bytes of sparse code: enough elements, in batches."""
    elements = _elements("p", 3000)
    encodings = []
    for start, end in ((0, 500), (500, 1200), (1200, 1800), (1800, 2400), (2400, 3000)):
        diff.do("PFADD", "h", *elements[start:end])
        diff.do("GET", "h")
        encodings.append(parse(diff.do("PFDEBUG", "ENCODING", "h")))
        diff.do("PFCOUNT", "h")
    assert encodings[0] == b"sparse" and encodings[-1] == b"dense"


def test_a_register_over_32_promotes(diff):
    """An element offering its register more than a sparse VAL holds turns the sketch dense."""
    assert position(HUGE.encode())[1] > 32
    diff.do("PFADD", "h", "a", "b")
    assert parse(diff.do("PFDEBUG", "ENCODING", "h")) == b"sparse"
    assert diff.do("PFADD", "h", HUGE) == b":1\r\n"
    assert parse(diff.do("PFDEBUG", "ENCODING", "h")) == b"dense"
    diff.do("GET", "h")
    diff.do("PFCOUNT", "h")
    diff.do("PFADD", "s", "x")
    diff.do("PFMERGE", "s", "h")  # a dense input: a dense result
    diff.do("GET", "s")
    diff.do("PFADD", "t", "b", HUGE, "c")
    diff.do("PFCOUNT", "t", "s", "h")
    diff.do("GET", "t")


@pytest.mark.parametrize("size", [10, 100, 1000, 5000, 20000, 60000])
def test_counts_of_random_sets(resp_port, redis_port, size):
    d = Diff(resp_port, redis_port, 2)
    elements = _elements("c", size, size)
    _add_in_batches(d, "h", elements)
    d.do("PFCOUNT", "h")
    d.do("GET", "h")
    d.do("PFCOUNT", "h")
    d.do("PFADD", "h", *elements[:100])  # nothing new: no change
    d.do("PFADD", "other", *elements[: size // 3], "more")
    d.do("PFCOUNT", "h", "other")
    d.do("PFMERGE", "m", "other", "h")
    d.do("GET", "m")
    d.do("PFCOUNT", "m")
    d.close()


def test_pfmerge_of_sparse_inputs_stays_sparse(diff):
    """Redis 7.0 keeps the destination sparse while every input is (unless it outgrows the
    limit); the strings match, and one dense input makes it dense."""
    for key, count in (("a", 40), ("b", 90), ("c", 700)):
        diff.do("PFADD", key, *_elements(key, count))
    diff.do("PFMERGE", "ab", "a", "b")
    assert parse(diff.do("PFDEBUG", "ENCODING", "ab")) == b"sparse"
    diff.do("GET", "ab")
    diff.do("PFMERGE", "abc", "a", "b", "c")
    diff.do("PFDEBUG", "ENCODING", "abc")
    diff.do("GET", "abc")
    diff.do("PFADD", "x", "1")
    diff.do("PFMERGE", "x", "a", "c")
    diff.do("GET", "x")
    diff.do("PFDEBUG", "TODENSE", "b")
    diff.do("PFMERGE", "y", "a", "b")
    assert parse(diff.do("PFDEBUG", "ENCODING", "y")) == b"dense"
    diff.do("GET", "y")
    diff.do("PFCOUNT", "a", "b", "c", "x", "y")


# --- corrupted strings -----------------------------------------------------------------------


def test_corrupted_strings(diff):
    cases = {
        "badenc": b"HYLL\x02\x00\x00\x00" + bytes(8) + b"\x7f\xff",
        "shortdense": DENSE_HEADER + bytes(100),
        "longdense": DENSE_HEADER + bytes(12289),
        "span": HEADER[:15] + b"\x80" + b"\x40\x63",  # XZERO:100, stale cache
        "spancached": HEADER[:8] + b"\x05" + bytes(7) + b"\x40\x63",  # the cache answers
        "over": HEADER[:15] + b"\x80" + b"\x7f\xff\x80\x7f\xff",  # VAL past the end
        "nocode": HEADER[:15] + b"\x80",
        "overlong": HEADER[:15] + b"\x80" + b"\x3f\x7f\xff",  # ZERO:64 XZERO:16384
        "tail": HEADER[:15] + b"\x80" + b"\x00\x7f",  # ZERO:1, then an XZERO's first byte
    }
    for key, value in cases.items():
        diff.do("SET", key, value)
        diff.do("PFCOUNT", key)
        diff.do("PFCOUNT", key, "nokey")
        diff.do("PFDEBUG", "ENCODING", key)
        diff.do("PFDEBUG", "DECODE", key)
        diff.do("PFMERGE", "dest", key)
        diff.do("PFADD", key, "a", "b", "c", "d", "e")
        diff.do("GET", key)
        diff.do("PFDEBUG", "TODENSE", key)
        diff.do("PFDEBUG", "GETREG", key)
        diff.do("GET", key)
    diff.do("EXISTS", "dest")


def test_string_commands_on_a_sketch(play):
    """A HyperLogLog is a plain string: string commands see and change its bytes, and the PF
    commands read what they left (a cached count set by hand is believed)."""
    play(
        r"""
        PFADD h a b c
        OBJECT ENCODING h
        STRLEN h
        TYPE h
        PFCOUNT h
        SETRANGE h 8 "\x07"
        GET h
        PFCOUNT h
        APPEND h xyz
        PFCOUNT h
        PFDEBUG DECODE h
        PFADD h d e f g
        GET h
        SETRANGE h 15 "\xff"
        PFCOUNT h
        SETRANGE h 4 "\x00"
        PFCOUNT h
        PFADD h a
        """
    )


def test_a_corrupted_sketch_keeps_what_pfadd_changed_before_failing(diff):
    """Registers 0-99 only: an element for register 100 or more fails, after the ones before
    it changed the string (Redis edits it in place)."""
    diff.do("SET", "k", HEADER + b"\x40\x63")
    low = [e for e in _elements("low", 400) if position(e.encode())[0] < 100][:3]
    high = next(e for e in _elements("high", 400) if position(e.encode())[0] >= 100)
    diff.do("PFADD", "k", *low, high, "z")
    diff.do("GET", "k")
    diff.do("PFDEBUG", "DECODE", "k")


def test_a_code_ending_in_half_an_xzero(diff):
    """XZERO:16383 then an XZERO's first byte alone: Redis reads the string's terminating NUL
    as its second byte (XZERO:1), so the code is whole; updates, the last register's
    included, edit it as Redis does."""
    value = HEADER[:15] + b"\x80" + b"\x7f\xfe\x40"
    last = "r7803"  # hashes to register 16383
    assert position(last.encode())[0] == 16383
    for key, elements in (("t1", ["a", "b"]), ("t2", [last]), ("t3", ["a", last, "b"])):
        diff.do("SET", key, value)
        diff.do("PFCOUNT", key)
        diff.do("PFDEBUG", "DECODE", key)
        diff.do("PFADD", key, *elements)
        diff.do("GET", key)
        diff.do("PFDEBUG", "DECODE", key)
        diff.do("PFCOUNT", key)
        diff.do("PFADD", key, *_elements(key, 30))
        diff.do("GET", key)
        diff.do("PFDEBUG", "TODENSE", key)
        diff.do("GET", key)


def test_registers_no_element_reaches(diff):
    """Dense registers at 63 or 50 everywhere: the estimate overflows as Redis's does."""
    for key, value in (("all63", b"\xff"), ("zero", b"\x00")):
        diff.do("SET", key, DENSE_HEADER[:15] + b"\x80" + value * 12288)
        diff.do("PFCOUNT", key)
        diff.do("GET", key)
        diff.do("PFCOUNT", key)
    fifty = bytes([50 | (50 << 6) & 0xFF, 50 >> 2 | (50 << 4) & 0xFF, 50 >> 4 | 50 << 2 & 0xFF])
    diff.do("SET", "fifty", DENSE_HEADER[:15] + b"\x80" + fifty * 4096)
    diff.do("PFCOUNT", "fifty")
    diff.do("PFCOUNT", "fifty", "zero")
    diff.do("PFADD", "fifty", "a")


# --- moving sketches between the servers -------------------------------------------------------


@pytest.mark.parametrize("count", [5, 600, 5000])
def test_dump_and_restore_both_ways(diff, count):
    diff.do("PFADD", "h", *_elements("d", count, count))
    diff.do("PFCOUNT", "h")
    real_payload = parse(diff.real.call("DUMP", "h"))
    our_payload = parse(diff.ours.call("DUMP", "h"))
    assert parse(diff.ours.call("RESTORE", "fromreal", "0", real_payload)) == b"OK"
    assert parse(diff.real.call("RESTORE", "fromreal", "0", our_payload)) == b"OK"
    real_value = diff.do("GET", "h")
    assert diff.do("GET", "fromreal") == real_value
    diff.do("PFCOUNT", "fromreal")
    diff.do("PFADD", "fromreal", "one more", "and another")
    diff.do("GET", "fromreal")
    diff.do("PFCOUNT", "fromreal")


# --- the count of changes and the AOF ---------------------------------------------------------

WRITES = [
    ("PFADD", "h"),
    ("PFADD", "h"),
    ("PFADD", "h", "a", "b", "c"),
    ("PFADD", "h", "a", "b", "c"),
    ("PFADD", "h", "c", "d"),
    ("PFCOUNT", "h"),
    ("PFCOUNT", "h"),
    ("PFCOUNT", "h", "nokey"),
    ("PFCOUNT", "nokey"),
    ("PFADD", "g", *[f"e{i}" for i in range(50)]),
    ("PFMERGE", "m", "h", "g"),
    ("PFMERGE", "m"),
    ("PFCOUNT", "m"),
    ("PFDEBUG", "TODENSE", "m"),
    ("PFDEBUG", "TODENSE", "m"),
    ("PFDEBUG", "ENCODING", "g"),
    ("PFDEBUG", "DECODE", "g"),
    ("PFDEBUG", "GETREG", "g"),
    ("PFDEBUG", "GETREG", "g"),
    ("PFADD", "m", "zz"),
    ("PFCOUNT", "m"),
    ("SET", "s", "x"),
    ("PFADD", "s", "a"),
    ("PFMERGE", "s", "h"),
    ("SET", "end", "1"),
]


IN_MULTI = [
    ("MULTI",),
    ("PFADD", "h", "in multi"),
    ("PFCOUNT", "h"),
    ("PFCOUNT", "h"),
    ("EXEC",),
    ("MULTI",),
    ("PFCOUNT", "h"),
    ("EXEC",),
]


def test_changes_count_as_in_redis(diff):
    assert_changes_as_redis(diff, WRITES)


def test_the_aof_logs_as_redis_does(tmp_path):
    """PFCOUNT that refreshes the cached count is logged (PFCOUNT is may_replicate), one that
    reads it from the cache or counts a union is not; PFADD only when a register changed."""

    sketches = []

    def send(conn: RawConnection) -> None:
        for args in WRITES + IN_MULTI:
            conn.call(*args)
        sketches.append(conn.call("GET", "h"))

    logs = logged_by_both(tmp_path, send)
    assert logs[0] == logs[1] and sketches[0] == sketches[1]
    assert logs[0].count([b"PFCOUNT", b"h"]) == 2 and [b"PFCOUNT", b"m"] in logs[0]
    assert logs[0][-4:] == [
        [b"MULTI"],
        [b"PFADD", b"h", b"in multi"],
        [b"PFCOUNT", b"h"],
        [b"EXEC"],
    ]
    # Replayed, the log gives back the same sketch, cached count included.
    with persistent(tmp_path / "ours") as r:
        conn = RawConnection(port_of(r))
        assert conn.call("GET", "h") == sketches[0]
        conn.close()
        assert r.get("h")[15] & 0x80 == 0


# --- random sequences -----------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c"])
ELEMENTS = st.lists(st.integers(0, 4000).map(str), max_size=40)


class HyperLogLogMachine(RuleBasedStateMachine):
    """Random PFADD/PFCOUNT/PFMERGE/GET on a few keys (and a list "l" and a plain string "s"),
    under a random sparse limit, sent to both servers."""

    diff: Diff

    @initialize(limit=st.sampled_from(["3000", "300", "60"]))
    def start(self, limit: str) -> None:
        self.diff.do("CONFIG", "SET", "hll-sparse-max-bytes", limit)
        self.diff.do("RPUSH", "l", "x")
        self.diff.do("SET", "s", "not an hll")

    @rule(key=KEYS | st.just("s"), elements=ELEMENTS)
    def pfadd(self, key, elements):
        self.diff.do("PFADD", key, *elements)

    @rule(keys=st.lists(KEYS | st.sampled_from(["l", "nokey"]), min_size=1, max_size=3))
    def pfcount(self, keys):
        self.diff.do("PFCOUNT", *keys)

    @rule(dest=KEYS, sources=st.lists(KEYS | st.just("nokey"), max_size=3))
    def pfmerge(self, dest, sources):
        self.diff.do("PFMERGE", dest, *sources)

    @rule(key=KEYS, sub=st.sampled_from(["ENCODING", "DECODE", "TODENSE"]))
    def pfdebug(self, key, sub):
        self.diff.do("PFDEBUG", sub, key)

    @rule(key=KEYS)
    def inspect(self, key):
        self.diff.do("GET", key)


@pytest.mark.parametrize("protocol", [2, 3])
def test_random_hyperloglog_commands_match_redis(resp_port, redis_port, protocol):
    try:
        run_on_both(HyperLogLogMachine, resp_port, redis_port, protocol)
    finally:
        Diff(resp_port, redis_port, protocol, flush=False).do(
            "CONFIG", "SET", "hll-sparse-max-bytes", "3000"
        )


def test_the_empty_sketch_is_redis_s(diff):
    """A new key: sparse, XZERO:16384, its cached count marked stale until PFCOUNT."""
    diff.do("PFADD", "e")
    assert parse(diff.do("GET", "e")) == EMPTY[:15] + b"\x80" + EMPTY[16:]
    diff.do("PFCOUNT", "e")
    assert parse(diff.do("GET", "e")) == EMPTY
