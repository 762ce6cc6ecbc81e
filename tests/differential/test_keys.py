"""The generic (keyspace) commands and HSCAN against redis-server: existence and types, KEYS,
SCAN and its guarantee under writes, RENAME/MOVE/COPY, RANDOMKEY, expiry and TTLs. (The SCAN
cursor index on its own: tests/unit/test_keyspace_scan.py.)"""

from __future__ import annotations

import random
import time

from tests.conftest import parse
from tests.helpers.differential import close_ints, scan_union


def hscan_pairs(conn, key: str, *options: object) -> list[tuple[bytes, bytes]]:
    """The field/value pairs a whole HSCAN iteration returns."""
    cursor, pairs = b"0", []
    for _ in range(100_000):
        cursor, items = parse(conn.call("HSCAN", key, cursor, *options))
        pairs.extend(zip(items[::2], items[1::2], strict=True))
        if cursor == b"0":
            return pairs
    raise AssertionError("HSCAN did not finish")


def both_servers(diff):
    return (diff.ours, diff.real)


# --- existence, type, deletion ------------------------------------------------------------------


def test_del_exists_touch_type(diff, play):
    diff.do("HSET", "h", "f", "v")
    play("""
        MSET a 1 b 2 c 3
        EXISTS a
        EXISTS a a a missing b
        TOUCH a a missing h
        TYPE a
        TYPE h
        TYPE missing
        DEL a a missing
        DEL b c h
        EXISTS a b c h
        UNLINK missing
        SET u 1
        UNLINK u u
        DEL
        UNLINK
        EXISTS
        TOUCH
        TYPE
        TYPE a b
        SET e 1 PX 1
    """)
    time.sleep(0.01)
    play("""
        EXISTS e
        TYPE e
        DEL e
        TOUCH e
    """)


# --- KEYS and MATCH patterns --------------------------------------------------------------------

KEY_NAMES = [
    "",
    "a",
    "b",
    "ab",
    "abc",
    "aXc",
    "a-c",
    "a]c",
    "a^c",
    "a\\c",
    "a*c",
    "a?c",
    "a[c",
    "hello",
    "hallo",
    "hxllo",
    "heeeello",
    "hllo",
    "user:1",
    "user:12",
    "user:1:name",
    "USER:1",
    "[x]",
    "x",
    "aaa",
    "aaab",
    "abab",
    "*",
    "?",
    "\\",
    "é",
    "caf\xe9",
]
PATTERNS = [
    "*",
    "**",
    "?",
    "??",
    "???*",
    "a*",
    "*c",
    "a*c",
    "*a*",
    "h?llo",
    "h*llo",
    "h[ae]llo",
    "h[^e]llo",
    "h[a-b]llo",
    "h[b-a]llo",
    "h[!e]llo",
    "user:*",
    "user:?",
    "user:*:name",
    "USER:*",
    "a\\*c",
    "a\\?c",
    "a\\[c",
    "a\\\\c",
    "a[\\]]c",
    "a[]]c",
    "a[^]]c",
    "[",
    "[^",
    "[a",
    "[a-",
    "a[",
    "\\",
    "a\\",
    "[\\",
    "[]",
    "[^]",
    "[]a]",
    "*[",
    "a[-c]c",
    "a[c-]c",
    "a[]-]c",
    "*a*a*b",
    "*a*b*a*b",
    "[a-z]*",
    "[^a-z]*",
    "\\*",
    "\\?",
    "[*]",
    "[?]",
    "x*",
    "*x",
    "",
    "[[]x]",
    "[a-cX]?c",
    "\\a\\b\\c",
    "*\\",
    "c*\xe9",
    "?\xe9",
    "[\xe0-\xff]",
]


def test_keys_patterns(diff):
    for name in KEY_NAMES:
        diff.do("SET", name, "1")
    diff.do("HSET", "hash", "f", "v")
    for pattern in PATTERNS:
        diff.do_sorted("KEYS", pattern)
    diff.do("KEYS")
    diff.do("KEYS", "a", "b")


def test_keys_binary_and_nesting_limit(diff):
    diff.do("SET", b"\x00\x01\xff", "1")
    diff.do("SET", b"a\x00b", "1")
    diff.do("SET", "a" * 1001, "1")
    diff.do("SET", "a" * 1002, "1")
    for pattern in (
        b"*",
        b"\x00*",
        b"*\xff",
        b"[\x00-\x02]*",
        b"a?b",
        b"a\x00*",
        b"[\xfe-\x00]*",
        b"[a-\xff]*",
        b"*a" * 1000,
        b"*a" * 1001,
        b"a*" * 1001,
        b"a*" * 1002,
        b"*a" * 1000 + b"a",
    ):
        diff.do_sorted("KEYS", pattern)


def test_keys_with_expired_keys(diff):
    diff.do("SET", "live", "1")
    diff.do("SET", "dead", "1", "PX", "1")
    time.sleep(0.01)
    diff.do_sorted("KEYS", "*")
    diff.do_sorted("KEYS", "*e*")


def test_keys_pathological_pattern_is_fast(diff):
    for i in range(50):
        diff.do("SET", "a" * 10_000 + str(i), "1")
    started = time.perf_counter()
    diff.do("KEYS", "a*a*a*a*a*a*a*a*a*b")
    diff.do("KEYS", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b*")
    assert time.perf_counter() - started < 2


# --- SCAN ---------------------------------------------------------------------------------------


def test_scan_errors(diff, play):
    diff.do("SET", "a", "1")
    play("""
        SCAN " 0"
        SCAN 0x1
        SCAN abc
        SCAN 1.5
        SCAN 18446744073709551616
        SCAN -18446744073709551616
        SCAN +
        SCAN -
        SCAN 0 COUNT 0
        SCAN 0 COUNT -1
        SCAN 0 COUNT abc
        SCAN 0 COUNT 9223372036854775808
        SCAN 0 COUNT
        SCAN 0 MATCH
        SCAN 0 TYPE
        SCAN 0 foo bar
        SCAN 0 COUNT 10 foo
        SCAN abc COUNT 0
        SCAN 0 COUNT 0 MATCH
        SCAN 0 foo bar COUNT abc
        SCAN
    """)


def test_scan_small_database(diff):
    diff.do("SET", "a", "1")
    for args in (
        ("0",),
        ("",),
        ("+0",),
        ("-0",),
        ("0", "COUNT", "1000"),
        ("0", "MATCH", "a"),
        ("0", "TYPE", "string"),
        ("0", "type", "STRING"),
        ("0", "TYPE", "hash"),
        ("0", "TYPE", "nonsense"),
        ("0", "MATCH", "b*"),
        ("0", "MATCH", "*", "COUNT", "5"),
    ):
        diff.do("SCAN", *args)
    diff.do("DEL", "a")
    diff.do("SCAN", "0")
    diff.do("SCAN", "12345")


def test_scan_returns_every_key(diff):
    for i in range(300):
        diff.do("SET", f"key:{i}", "v")
    for i in range(0, 300, 7):
        diff.do("HSET", f"hash:{i}", "f", "v")
    diff.do("SET", "", "empty")
    for options in (
        (),
        ("COUNT", "1"),
        ("COUNT", "50"),
        ("COUNT", "100000"),
        ("MATCH", "key:1*"),
        ("MATCH", "*"),
        ("MATCH", "**"),
        ("MATCH", "hash:?"),
        ("TYPE", "hash"),
        ("TYPE", "STRING"),
        ("TYPE", "list"),
        ("MATCH", "*:2*", "TYPE", "hash"),
    ):
        ours, real = (scan_union(conn, *options) for conn in both_servers(diff))
        assert ours == real, options


def test_scan_skips_expired_keys(diff):
    diff.do("SET", "live", "1")
    diff.do("SET", "dead", "1", "PX", "1")
    time.sleep(0.01)
    ours, real = (scan_union(conn) for conn in both_servers(diff))
    assert ours == real == {b"live"}
    diff.do("EXISTS", "dead")


def test_scan_guarantee_under_writes(diff):
    """Keys present for the whole iteration come back, while the table grows and shrinks."""
    rng = random.Random(3)
    for conn in both_servers(diff):
        conn.call("MSET", *[x for i in range(1500) for x in (f"stay:{i}", "v")])
        conn.call("MSET", *[x for i in range(1500) for x in (f"gone:{i}", "v")])
        cursor, seen, calls = b"0", set(), 0
        while True:
            cursor, items = parse(conn.call("SCAN", cursor, "COUNT", str(rng.randint(1, 40))))
            seen.update(items)
            calls += 1
            if calls == 5:  # grow a lot
                conn.call("MSET", *[x for i in range(6000) for x in (f"new:{i}", "v")])
            if calls == 15:  # shrink a lot
                conn.call("DEL", *[f"gone:{i}" for i in range(1500)])
                conn.call("DEL", *[f"new:{i}" for i in range(6000)])
            if cursor == b"0":
                break
            assert calls < 20_000
        assert {f"stay:{i}".encode() for i in range(1500)} <= seen
        conn.call("FLUSHALL")


def test_scan_survives_flush_and_new_keys(diff):
    for conn in both_servers(diff):
        conn.call("MSET", *[x for i in range(200) for x in (f"k{i}", "v")])
        cursor, _ = parse(conn.call("SCAN", "0", "COUNT", "5"))
        conn.call("FLUSHALL")
        conn.call("MSET", *[x for i in range(50) for x in (f"n{i}", "v")])
        rest = set()
        while cursor != b"0":
            cursor, items = parse(conn.call("SCAN", cursor, "COUNT", "5"))
            rest.update(items)
        assert rest <= {f"n{i}".encode() for i in range(50)}


# --- RENAME, MOVE, COPY -------------------------------------------------------------------------


def test_rename(diff, play):
    play("""
        RENAME missing b
        RENAME missing missing
        RENAMENX missing b
        SET a 1
        RENAME a a
        RENAMENX a a
        EXPIRE a 100
        RENAME a b
        TTL b
        EXISTS a
        SET c 2
        RENAMENX b c
        RENAMENX b d
        TTL d
        GET d
        SET e 3 EX 500
        RENAME d e
        TTL e
        GET e
        SET f 4
        RENAME f e
        TTL e
        RENAME a
        RENAMENX a b c
    """)
    diff.do("HSET", "h", "f", "v")
    diff.do("RENAME", "h", "h2")
    diff.do("TYPE", "h2")
    diff.do("HGETALL", "h2")


def test_move(diff, play):
    play("""
        SET c 1
        EXPIRE c 100
        MOVE c 1
        MOVE c 1
        MOVE missing 1
        MOVE c 0
        MOVE c 16
        MOVE c -1
        MOVE c abc
        MOVE c 4294967296
        MOVE c 2147483648
        MOVE c -2147483649
        SELECT 1
        TTL c
        GET c
        SET c other
        MOVE c 0
        SELECT 0
        SET c mine
        SELECT 1
        MOVE c 0
        GET c
        MOVE c
        SELECT 0
    """)


def test_copy(diff, play):
    play("""
        COPY c c
        COPY c c DB 0
        COPY c c REPLACE
        COPY c d DB 16
        COPY c d DB -1
        COPY c d DB abc
        COPY c d DB 4294967296
        COPY c d foo
        COPY c d DB
        COPY c d REPLACE foo
        COPY missing x
        SET s v
        EXPIRE s 100
        COPY s s2
        TTL s2
        GET s2
        COPY s s2
        SET s2 other
        COPY s s2 replace
        GET s2
        COPY s s DB 1
        COPY s s2 DB 1 REPLACE REPLACE
        COPY s s2 DB 1
        SELECT 1
        TTL s
        TTL s2
        GET s2
        SELECT 0
        COPY
        COPY s
    """)


def test_copy_of_a_hash_is_independent(diff, play):
    play("""
        HSET h a 1 b 2
        COPY h h2
        HSET h2 c 3
        HSET h a changed
        HGETALL h
        HGETALL h2
        COPY h h3 DB 2
        HSET h d 4
        SELECT 2
        HGETALL h3
        SELECT 0
    """)


def test_randomkey(diff):
    diff.do("RANDOMKEY")
    diff.do("SET", "only", "1")
    diff.do("RANDOMKEY")
    diff.do("RANDOMKEY", "x")
    diff.do("SET", "other", "1")
    ours, real = (parse(raw) for raw in diff.both("RANDOMKEY"))
    assert ours in (b"only", b"other") and real in (b"only", b"other")


# --- expiry -------------------------------------------------------------------------------------


def test_expire_options_and_errors(diff, play):
    play("""
        SET k v
        EXPIRE k 100 NX XX
        EXPIRE k 100 GT LT
        EXPIRE k 100 NX GT
        EXPIRE k 100 lt nx
        EXPIRE k 100 XX GT
        TTL k
        EXPIRE k 100 foo
        EXPIRE k 100 NX foo
        EXPIRE k abc foo
        EXPIRE k abc
        EXPIRE k 1.5
        EXPIRE missing abc
        EXPIRE missing 100
        EXPIRE missing 100 XX
        EXPIRE k 9223372036854775
        EXPIRE k 9223372036854776
        EXPIRE k -9223372036854776
        PEXPIRE k 9223372036854775807
        PEXPIRE k 9223372036854775000
        EXPIREAT k 9223372036854775807
        EXPIREAT k 9223372036854776
        PEXPIREAT k -9223372036854775808 NX NX
        EXISTS k
        EXPIRE
        EXPIRE k
        PEXPIRE k
        EXPIREAT k
        PEXPIREAT k
    """)
    diff.do("EXPIRE", "k", "100", b"a\x00b")


def test_expire_conditions(diff, play):
    play("""
        SET k v
        EXPIRE k 100 XX
        EXPIRE k 100 GT
        EXPIRE k 100 LT
        TTL k
        EXPIRE k 200 NX
        EXPIRE k 300 NX
        TTL k
        EXPIRE k 90 GT
        EXPIRE k 300 GT
        TTL k
        EXPIRE k 400 LT
        EXPIRE k 50 LT
        TTL k
        EXPIRE k 60 XX
        TTL k
        EXPIRE k 55 XX GT
        EXPIRE k 70 GT XX
        TTL k
        PERSIST k
        PERSIST k
        PERSIST missing
        TTL k
        PEXPIRE k 100000
        TTL k
        PEXPIRE k 100000 NX
        PEXPIREAT k 4102444800123
        PEXPIRETIME k
        EXPIRETIME k
        EXPIREAT k 4102444800 GT
        EXPIREAT k 4102444801 GT
        EXPIRETIME k
        PEXPIRETIME k
        PEXPIREAT k 99999999999499
        EXPIRETIME k
        PEXPIREAT k 99999999999500
        EXPIRETIME k
        PERSIST
    """)


def test_expire_in_the_past_deletes(diff, play):
    play("""
        SET a v
        EXPIRE a -1
        EXISTS a
        SET b v
        EXPIREAT b 1
        EXISTS b
        SET c v
        PEXPIRE c 0
        EXISTS c
        SET d v
        PEXPIREAT d 1000 XX
        EXISTS d
        EXPIRE d 100
        PEXPIREAT d 1000 LT
        EXISTS d
        SET e v
        EXPIRE e 0 GT
        EXISTS e
    """)


def test_ttl_family(diff, play):
    play("""
        TTL missing
        PTTL missing
        EXPIRETIME missing
        PEXPIRETIME missing
        SET k v
        TTL k
        PTTL k
        EXPIRETIME k
        PEXPIRETIME k
        EXPIRE k 100
        TTL k
        PEXPIRE k 1800
        TTL k
        PEXPIRE k 1200
        TTL k
        EXPIREAT k 4102444800
        EXPIRETIME k
        PEXPIRETIME k
        TTL
        PTTL a b
    """)
    diff.do("EXPIRE", "k", "100")
    close_ints(diff, "PTTL", "k", tolerance=100)


def test_expiry_in_real_time(diff):
    diff.do("SET", "a", "1")
    diff.do("PEXPIRE", "a", "80")
    diff.do("HSET", "h", "f", "v")
    diff.do("PEXPIRE", "h", "60")
    diff.do("SET", "b", "1")
    diff.do("PEXPIREAT", "b", str(int(time.time() * 1000) + 90))
    diff.do("EXISTS", "a", "b", "h")
    time.sleep(0.25)
    diff.do("EXISTS", "a", "b", "h")
    diff.do("TTL", "a")
    diff.do("TYPE", "h")
    diff.do_sorted("KEYS", "*")


# --- HSCAN --------------------------------------------------------------------------------------


def test_hscan_small_hash_is_one_reply_in_order(diff):
    diff.do("HSET", "h", "z", "1", "a", "2", "m", "3", "10", "4", "b", "")
    diff.do("HSET", "h", "a", "changed")
    diff.do("HDEL", "h", "m")
    diff.do("HSET", "h", "m", "back")
    for args in (
        ("0",),
        ("99",),
        ("",),
        ("0", "COUNT", "1"),
        ("0", "MATCH", "*"),
        ("0", "MATCH", "[a-m]"),
        ("0", "MATCH", "1?"),
        ("0", "MATCH", "x*"),
        ("0", "COUNT", "1", "MATCH", "?"),
    ):
        diff.do("HSCAN", "h", *args)
    diff.do("HSET", "edge", "f" * 64, "v" * 64)
    diff.do("HSCAN", "edge", "0")
    diff.do("HSET", "wide", *[x for i in range(128) for x in (f"f{i}", str(i))])
    diff.do("HSCAN", "wide", "0")


def test_hscan_errors(diff, play):
    diff.do("HSET", "h", "f", "v")
    diff.do("SET", "s", "v")
    play("""
        HSCAN h abc
        HSCAN h " 0"
        HSCAN h 0 COUNT 0
        HSCAN h 0 COUNT abc
        HSCAN h 0 COUNT
        HSCAN h 0 MATCH
        HSCAN h 0 TYPE hash
        HSCAN h 0 foo bar
        HSCAN missing 0
        HSCAN missing 0 COUNT 0
        HSCAN missing 0 foo
        HSCAN missing abc
        HSCAN s 0
        HSCAN s abc
        HSCAN s 0 COUNT 0
        HSCAN h
        HSCAN
    """)


def test_hscan_big_hashes_return_every_field(diff):
    diff.do("HSET", "big", *[x for i in range(500) for x in (f"field:{i}", f"value:{i}")])
    diff.do("HSET", "long", "short", "1", "long", "x" * 65, "f", "2")
    diff.do("HSET", "longfield", "y" * 65, "1", "g", "2")
    for key, options in (
        ("big", ()),
        ("big", ("COUNT", "1")),
        ("big", ("COUNT", "1000")),
        ("big", ("MATCH", "field:1*")),
        ("long", ()),
        ("longfield", ()),
    ):
        ours, real = (sorted(set(hscan_pairs(conn, key, *options))) for conn in both_servers(diff))
        assert ours == real, (key, options)


def test_hscan_guarantee_under_writes(diff):
    for conn in both_servers(diff):
        conn.call("HSET", "h", *[x for i in range(1000) for x in (f"stay{i}", "v")])
        conn.call("HSET", "h", *[x for i in range(1000) for x in (f"gone{i}", "v")])
        cursor, seen, calls = b"0", set(), 0
        while True:
            cursor, items = parse(conn.call("HSCAN", "h", cursor, "COUNT", "7"))
            seen.update(items[::2])
            calls += 1
            if calls == 3:
                conn.call("HDEL", "h", *[f"gone{i}" for i in range(1000)])
                conn.call("HSET", "h", *[x for i in range(3000) for x in (f"new{i}", "v")])
            if cursor == b"0":
                break
            assert calls < 20_000
        assert {f"stay{i}".encode() for i in range(1000)} <= seen
        conn.call("FLUSHALL")
