"""Bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) and LCS against
redis-server 7.0.15, RESP2 and RESP3: replies and errors byte for byte, the order of checks,
the count of changes each write makes, and random sequences (a hypothesis state machine)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from tests.conftest import Diff, RawConnection
from tests.helpers.differential import assert_changes_as_redis, run_on_both
from tests.helpers.persistence import logged_by_both

pytestmark = pytest.mark.differential


def test_setbit_getbit(play):
    play(
        """
        SETBIT b 7 1
        GET b
        SETBIT b 7 1
        SETBIT b 7 0
        SETBIT b 0 1
        SETBIT b 100 1
        STRLEN b
        GET b
        GETBIT b 0
        GETBIT b 1
        GETBIT b 100
        GETBIT b 101
        GETBIT b 4294967295
        GETBIT nokey 3
        SETBIT b 4294967296 1
        GETBIT b 4294967296
        SETBIT b -1 1
        GETBIT b -1
        SETBIT b x 1
        SETBIT b #3 1
        GETBIT b +1
        SETBIT b 1 2
        SETBIT b 1 -1
        SETBIT b 1 x
        SETBIT b x x
        GETBIT b 99999999999999999999
        SET n 1234
        SETBIT n 2 1
        GET n
        GETBIT n 7
        SET e ""
        GETBIT e 0
        SETBIT e 0 0
        GET e
        SETBIT
        GETBIT b
        """
    )


def test_setbit_keeps_the_ttl_and_wrongtype(play):
    play(
        """
        SET t abc EX 1000
        SETBIT t 1 0
        TTL t
        SETBIT t 30 1
        TTL t
        RPUSH l a
        SETBIT l 0 1
        SETBIT l x 1
        SETBIT l 0 5
        GETBIT l 0
        GETBIT l x
        """
    )


def test_bitcount(play):
    play(
        r"""
        SET s foobar
        BITCOUNT s
        BITCOUNT s 0 0
        BITCOUNT s 1 1
        BITCOUNT s 1 1 BYTE
        BITCOUNT s 5 30 BIT
        BITCOUNT s 5 30 bit
        BITCOUNT s -1 -1
        BITCOUNT s -2 -1 BIT
        BITCOUNT s -100 100
        BITCOUNT s -100 -200
        BITCOUNT s -5 -6 nonsense
        BITCOUNT s 0 -100
        BITCOUNT s 3 1
        BITCOUNT s 6 100
        BITCOUNT s 47 47 BIT
        BITCOUNT s 48 48 BIT
        BITCOUNT s 1 2 3 4
        BITCOUNT s 1
        BITCOUNT s 1 2 WORD
        BITCOUNT s 0 x WORD
        BITCOUNT s x 0 WORD
        BITCOUNT s x 1
        BITCOUNT s 1 x
        BITCOUNT s 0 9223372036854775807 BIT
        BITCOUNT s -9223372036854775808 -1 BIT
        BITCOUNT nokey
        BITCOUNT nokey x y z
        SET e ""
        BITCOUNT e
        BITCOUNT e 0 -1
        BITCOUNT e 0 -1 BIT
        SET n 255
        BITCOUNT n
        RPUSH l a
        BITCOUNT l
        BITCOUNT l 1
        BITCOUNT
        """
    )


def test_bitpos(play):
    play(
        r"""
        SET s "\x00\xff\xf0"
        BITPOS s 1
        BITPOS s 0
        BITPOS s 1 2
        BITPOS s 0 1
        BITPOS s 0 1 1
        BITPOS s 0 1 -1
        BITPOS s 1 7 15 BIT
        BITPOS s 1 7 7 BIT
        BITPOS s 0 8 19 BIT
        BITPOS s 0 8 20 BIT
        BITPOS s 0 20 100 bit
        BITPOS s 1 -4 -1 BIT
        BITPOS s 0 -4 -1 BIT
        BITPOS s 1 3 2
        BITPOS s 1 100
        BITPOS s 0 100
        BITPOS s 1 -100 -50
        BITPOS s 0 0 0 BYTE
        BITPOS s 1 0 0 WORD
        BITPOS s 1 0 x BIT
        BITPOS s 1 0 x WORD
        BITPOS s 1 x 0 WORD
        BITPOS s 1 x
        BITPOS s 1 0 1 BIT extra
        BITPOS s 2
        BITPOS s -1
        BITPOS s x
        BITPOS nokey 0
        BITPOS nokey 1
        BITPOS nokey 0 x y z w
        BITPOS nokey 2
        SET ones "\xff\xff\xff"
        BITPOS ones 0
        BITPOS ones 0 1
        BITPOS ones 0 0 -1
        BITPOS ones 0 0 -1 BIT
        BITPOS ones 0 5 9 BIT
        BITPOS ones 1 5 9 BIT
        SET zeros "\x00\x00"
        BITPOS zeros 1
        BITPOS zeros 0
        BITPOS zeros 1 0 -1 BIT
        BITPOS zeros 0 3 3 BIT
        SET e ""
        BITPOS e 0
        BITPOS e 1
        BITPOS e 0 0 -1
        SET n 7
        BITPOS n 0
        RPUSH l a
        BITPOS l 1
        BITPOS l 5
        BITPOS l 1 x
        """
    )


def test_bitpos_bit_ranges_inside_one_byte(play):
    for start in range(8):
        for end in range(start, 8, 3):
            for bit in (0, 1):
                play(
                    rf"""
                    SET s "\x5a\xa5"
                    BITPOS s {bit} {start} {end} BIT
                    BITPOS s {bit} {start + 4} {end + 8} BIT
                    """
                )


def test_bitop(play):
    play(
        r"""
        SET a "\xf0\x0f\xaa"
        SET b "\xff"
        SET c "\x01\x02\x03\x04"
        BITOP AND d a b
        GET d
        BITOP or d a b c
        GET d
        BITOP XOR d a b c
        GET d
        BITOP XOR d a a
        GET d
        BITOP NOT d a
        GET d
        BITOP NOT d nokey
        EXISTS d
        SET d x
        BITOP AND d nokey nokey2
        EXISTS d
        BITOP AND d nokey a
        GET d
        BITOP OR d a nokey
        GET d
        SET e ""
        BITOP NOT d e
        EXISTS d
        BITOP NOT d a b
        BITOP NAND d a b
        BITOP AND d
        BITOP NOT d
        SET t x EX 1000
        BITOP OR t a
        TTL t
        BITOP AND a a b
        GET a
        RPUSH l x
        BITOP AND d a l
        BITOP OR l a
        GET l
        BITOP NOT d l
        BITOP nope d l
        """
    )


def test_bitop_on_long_strings(play):
    play(
        """
        SETBIT a 100000 1
        SETBIT a 3 1
        SETBIT b 4000 1
        SETBIT b 3 1
        BITOP AND d a b
        BITCOUNT d
        BITOP OR d a b
        BITCOUNT d
        BITPOS d 1 1 -1
        BITOP XOR d a b
        BITCOUNT d
        BITOP NOT d a
        BITCOUNT d
        BITPOS d 0
        BITCOUNT d 100 200
        BITCOUNT d 5 99999 BIT
        STRLEN d
        """
    )


def test_bitfield_get_set_incrby(play):
    play(
        r"""
        BITFIELD f SET u8 0 200 GET u8 0 GET i8 0 GET u4 0 GET i4 4
        GET f
        BITFIELD f INCRBY u8 0 100 INCRBY i8 0 1 SET i16 #1 -1 GET u16 8 GET u3 #5
        GET f
        BITFIELD f GET u63 0 GET i64 0 GET i64 1 GET u1 70 GET i1 0
        BITFIELD f SET i64 0 -9223372036854775808 GET i64 0 GET u63 1
        BITFIELD f SET u63 #1 9223372036854775807 GET u63 #1 GET i64 63
        STRLEN f
        BITFIELD f GET u8 4294967288 GET i8 4294967295
        BITFIELD f
        BITFIELD nokey GET u8 0 GET i32 100
        EXISTS nokey
        BITFIELD f get u8 0 set u8 8 1 incrby u8 8 2 overflow sat Get u8 8
        SET n 123
        BITFIELD n GET u8 0 SET u8 0 65
        GET n
        BITFIELD_RO f GET u8 0 GET i8 #2
        BITFIELD_RO nokey GET u8 0
        BITFIELD_RO f
        BITFIELD_RO f OVERFLOW SAT GET u8 0
        BITFIELD_RO f GET u8 0 SET u8 0 1
        BITFIELD_RO f INCRBY u8 0 1 GET u8
        BITFIELD_RO f INCRBY u8 0 1 GET u8 x
        """
    )


def test_bitfield_overflow_at_every_width(play):
    for width in range(1, 65):
        lines = []
        for sign in ("i", "u") if width < 64 else ("i",):
            top = 2 ** (width - 1) - 1 if sign == "i" else 2**width - 1
            low = -(2 ** (width - 1)) if sign == "i" else 0
            kind = f"{sign}{width}"
            lines += [
                f"BITFIELD w{kind} SET {kind} 3 {top} INCRBY {kind} 3 1 GET {kind} 3",
                f"BITFIELD w{kind} OVERFLOW SAT SET {kind} 3 {top} INCRBY {kind} 3 2",
                f"BITFIELD w{kind} OVERFLOW FAIL INCRBY {kind} 3 1 GET {kind} 3",
                f"BITFIELD w{kind} SET {kind} 3 {low} INCRBY {kind} 3 -1",
                f"BITFIELD w{kind} OVERFLOW SAT SET {kind} 3 {low} INCRBY {kind} 3 -5",
                f"BITFIELD w{kind} OVERFLOW FAIL SET {kind} 3 {low} INCRBY {kind} 3 -1",
                f"BITFIELD w{kind} SET {kind} 3 {top + 1} SET {kind} 3 {low - 1} GET {kind} 3",
                f"BITFIELD w{kind} OVERFLOW SAT SET {kind} 3 {top + 7} SET {kind} 3 -3",
                f"BITFIELD w{kind} OVERFLOW FAIL SET {kind} 3 {top + 1} SET {kind} 3 -1",
                f"BITFIELD w{kind} INCRBY {kind} 3 9223372036854775807 GET {kind} 3",
                f"BITFIELD w{kind} OVERFLOW SAT INCRBY {kind} 3 -9223372036854775808",
                f"BITFIELD w{kind} OVERFLOW WRAP INCRBY {kind} 3 -9223372036854775808",
                f"BITFIELD w{kind} SET {kind} #2 -9223372036854775808 GET {kind} #2",
                f"BITFIELD w{kind} OVERFLOW SAT SET {kind} 5 9223372036854775807",
                f"GET w{kind}",
            ]
        play("\n".join(lines))


def test_bitfield_errors_in_order(play):
    play(
        """
        SET f x
        BITFIELD f GET
        BITFIELD f GET u8
        BITFIELD f SET u8 0
        BITFIELD f INCRBY u8 0
        BITFIELD f OVERFLOW
        BITFIELD f OVERFLOW WRAPS GET u8 0
        BITFIELD f OVERFLOW wrap
        BITFIELD f FOO u8 0
        BITFIELD f GET u64 0
        BITFIELD f GET i65 0
        BITFIELD f GET i0 0
        BITFIELD f GET u 0
        BITFIELD f GET x8 0
        BITFIELD f GET i08 0
        BITFIELD f GET I8 0
        BITFIELD f GET u8 -1
        BITFIELD f GET u8 x
        BITFIELD f GET u8 #x
        BITFIELD f GET u8 #
        BITFIELD f GET u8 #-1
        BITFIELD f GET u8 4294967296
        BITFIELD f GET u8 #536870912
        BITFIELD f GET u8 #536870911
        BITFIELD f GET i64 #288230376151711744
        BITFIELD f GET i64 #144115188075855872
        BITFIELD f SET u8 0 x
        BITFIELD f SET u8 0 9223372036854775808
        BITFIELD f INCRBY u8 x x
        BITFIELD f INCRBY u64 x x
        BITFIELD f GET u8 0 SET u8 0 1 FOO
        BITFIELD f GET u8 0 SET u8 0 1 OVERFLOW bad
        BITFIELD f GET u8 0 GET u8 0 GET
        GET f
        RPUSH l a
        BITFIELD l GET u8 0
        BITFIELD l SET u8 0 1
        BITFIELD l
        BITFIELD l GET u8 x
        BITFIELD_RO l GET u8 0
        BITFIELD_RO l SET u8 0 1
        BITFIELD_RO l GET u99 0
        BITFIELD
        BITFIELD_RO
        """
    )


def test_bitfield_keeps_the_ttl_and_grows_the_string(play):
    play(
        """
        SET t ab EX 1000
        BITFIELD t SET u8 0 99
        TTL t
        BITFIELD t SET u8 100 1
        STRLEN t
        TTL t
        BITFIELD t OVERFLOW FAIL INCRBY u8 300 300
        STRLEN t
        BITFIELD new OVERFLOW FAIL INCRBY u8 8 300
        EXISTS new
        GET new
        BITFIELD new2 OVERFLOW FAIL SET i8 0 128 GET i8 0
        GET new2
        """
    )


def test_lcs(play):
    play(
        """
        MSET a ohmytext b mynewtext c "" d 12345
        LCS a b
        LCS a b LEN
        LCS a b IDX
        LCS a b IDX WITHMATCHLEN
        LCS a b IDX MINMATCHLEN 4
        LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN
        LCS a b IDX MINMATCHLEN -5 withmatchlen
        LCS a b minmatchlen 2 withmatchlen
        LCS a b LEN LEN MINMATCHLEN 3
        LCS a b LEN IDX
        LCS a b IDX LEN
        LCS a b MINMATCHLEN
        LCS a b MINMATCHLEN x
        LCS a b FOO
        LCS a c
        LCS a c IDX
        LCS c c LEN
        LCS a nokey IDX
        LCS nokey nokey2
        LCS nokey nokey2 FOO
        LCS a d
        LCS d a IDX WITHMATCHLEN
        LCS b a IDX
        LCS a a IDX WITHMATCHLEN
        RPUSH l x
        LCS a l
        LCS l a LEN IDX
        LCS nokey l FOO
        LCS a
        """
    )


def test_lcs_walks_as_redis(play):
    play(
        """
        MSET x aaabbbcccabcabc y abcabcaaabbbccc z ABBAABBAABBA w BAABBAABBAAB
        LCS x y
        LCS x y IDX WITHMATCHLEN
        LCS y x IDX WITHMATCHLEN
        LCS z w IDX WITHMATCHLEN
        LCS w z IDX
        LCS z z IDX MINMATCHLEN 12 WITHMATCHLEN
        """
    )


def test_lcs_memory_limit(play):
    play(
        """
        CONFIG SET proto-max-bulk-len 1048576
        SETRANGE a 600 x
        SETRANGE b 600 y
        LCS a b LEN
        SETRANGE b 436 y
        LCS a b LEN
        LCS a b IDX MINMATCHLEN 100 WITHMATCHLEN
        SETBIT a 8388607 1
        SETBIT a 8388608 1
        BITFIELD a GET u8 8388608
        BITFIELD a GET u8 #1048575
        BITFIELD a GET u8 #1048576
        CONFIG SET proto-max-bulk-len 536870912
        """
    )


# Writes that change something or nothing (Redis counts and logs only a change).
WRITES = [
    ("SETBIT", "b", "3", "1"),
    ("SETBIT", "b", "3", "1"),
    ("SETBIT", "b", "3", "0"),
    ("SETBIT", "b", "3", "0"),
    ("SETBIT", "b", "20", "0"),
    ("SETBIT", "b", "20", "0"),
    ("BITOP", "AND", "d", "b", "b"),
    ("BITOP", "NOT", "d", "b"),
    ("BITOP", "AND", "d", "nokey"),
    ("BITOP", "AND", "d", "nokey"),
    ("BITFIELD", "f", "SET", "u8", "0", "1", "SET", "u8", "0", "1", "GET", "u8", "0"),
    ("BITFIELD", "f", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "0"),
    ("BITFIELD", "f", "SET", "u8", "0", "2", "INCRBY", "u8", "0", "1"),
    ("BITFIELD", "f", "SET", "u8", "16", "0", "INCRBY", "u8", "0", "0"),
    ("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"),
    ("BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300"),
    ("BITFIELD", "g", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"),
    ("BITFIELD", "g", "OVERFLOW", "FAIL", "SET", "i8", "64", "200"),
    ("BITFIELD", "f", "GET", "u8", "0"),
    ("BITFIELD_RO", "f", "GET", "u8", "0"),
    ("LCS", "f", "b"),
    ("SET", "end", "1"),
]


def test_changes_count_as_in_redis(diff):
    assert_changes_as_redis(diff, WRITES)


def test_bitfield_key_flags(diff):
    """COMMAND GETKEYSANDFLAGS: BITFIELD's key is read-only while every operation is a GET."""
    for args in [
        ("BITFIELD", "k"),
        ("BITFIELD", "k", "GET", "u8", "0"),
        ("BITFIELD", "k", "OVERFLOW", "SAT", "GET", "u8", "0"),
        ("BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"),
        ("BITFIELD", "k", "INCRBY", "u8", "0", "1"),
        ("BITFIELD", "k", "GET", "u8"),
        ("BITFIELD", "k", "FOO"),
        ("BITFIELD_RO", "k", "GET", "u8", "0"),
        ("BITOP", "AND", "d", "a", "b"),
        ("LCS", "a", "b"),
    ]:
        diff.do("COMMAND", "GETKEYSANDFLAGS", *args)


def test_the_aof_logs_bitmap_writes_as_redis_does(tmp_path):
    """Writes are logged as sent, and only when they changed something: not an unchanged
    SETBIT or BITFIELD, nor one whose every write failed (OVERFLOW FAIL), even where it made
    the key."""

    def send(conn: RawConnection) -> None:
        for args in WRITES:
            conn.call(*args)

    logs = logged_by_both(tmp_path, send)
    assert logs[0] == logs[1]
    assert [b"SETBIT", b"b", b"3", b"1"] in logs[0] and logs[0][-1] == [b"SET", b"end", b"1"]
    assert not any(b"g" in argv[1:2] for argv in logs[0])


# --- random sequences -----------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c"])
OFFSETS = st.integers(0, 80).map(str) | st.sampled_from(["-1", "x", "4294967296", "#3", "9000"])
TYPES = st.sampled_from(["i1", "u1", "i5", "u7", "i8", "u8", "i16", "u31", "i63", "u63", "i64"])
FIELD_OFFSETS = st.integers(0, 70).map(str) | st.integers(0, 6).map(lambda n: f"#{n}")
NUMBERS = st.integers(-300, 300) | st.sampled_from([2**63 - 1, -(2**63), 2**32, 2**31 - 1])
OPERATIONS = st.one_of(
    st.tuples(st.just("GET"), TYPES, FIELD_OFFSETS),
    st.tuples(st.sampled_from(["SET", "INCRBY"]), TYPES, FIELD_OFFSETS, NUMBERS.map(str)),
    st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL"])),
)
RANGE_ENDS = st.integers(-12, 12).map(str)


class BitmapMachine(RuleBasedStateMachine):
    """Random bitmap commands on a few keys (and one list key, "l"), sent to both servers."""

    diff: Diff

    @initialize()
    def start(self) -> None:
        self.diff.do("RPUSH", "l", "x")

    @rule(key=KEYS | st.just("l"), offset=OFFSETS, bit=st.sampled_from(["0", "1", "2"]))
    def setbit(self, key, offset, bit):
        self.diff.do("SETBIT", key, offset, bit)
        self.diff.do("GETBIT", key, offset)

    @rule(key=KEYS, value=st.binary(max_size=6) | st.text("ab\xff", max_size=14).map(str.encode))
    def set(self, key, value):
        self.diff.do("SET", key, value)

    @rule(key=KEYS, ops=st.lists(OPERATIONS, max_size=5), read_only=st.booleans())
    def bitfield(self, key, ops, read_only):
        words = [word for op in ops for word in op]
        self.diff.do("BITFIELD_RO" if read_only else "BITFIELD", key, *words)

    @rule(
        key=KEYS | st.just("l"),
        ends=st.lists(RANGE_ENDS, max_size=2),
        unit=st.sampled_from([[], ["BIT"], ["BYTE"]]),
    )
    def bitcount(self, key, ends, unit):
        self.diff.do("BITCOUNT", key, *ends, *(unit if len(ends) == 2 else []))

    @rule(
        key=KEYS,
        bit=st.sampled_from(["0", "1"]),
        ends=st.lists(RANGE_ENDS, max_size=2),
        unit=st.sampled_from([[], ["BIT"], ["BYTE"]]),
    )
    def bitpos(self, key, bit, ends, unit):
        self.diff.do("BITPOS", key, bit, *ends, *(unit if len(ends) == 2 else []))

    @rule(
        op=st.sampled_from(["AND", "OR", "XOR", "NOT"]),
        dest=KEYS,
        sources=st.lists(KEYS, min_size=1, max_size=3),
    )
    def bitop(self, op, dest, sources):
        self.diff.do("BITOP", op, dest, *(sources[:1] if op == "NOT" else sources))

    @rule(first=KEYS, second=KEYS, idx=st.booleans(), shortest=st.integers(0, 3))
    def lcs(self, first, second, idx, shortest):
        options = ["IDX", "MINMATCHLEN", str(shortest), "WITHMATCHLEN"] if idx else []
        self.diff.do("LCS", first, second, *options)

    @rule(key=KEYS)
    def inspect(self, key):
        self.diff.do("GET", key)


@pytest.mark.parametrize("protocol", [2, 3])
def test_random_bitmap_commands_match_redis(resp_port, redis_port, protocol):
    run_on_both(BitmapMachine, resp_port, redis_port, protocol)
