"""OBJECT and MEMORY against redis-server 7.0.15, RESP2 and RESP3: OBJECT ENCODING of every type
at and around each size threshold (the defaults and after CONFIG SET), FREQ, IDLETIME and
REFCOUNT under the maxmemory policies, the HELP texts and errors byte for byte; MEMORY USAGE's
reply types and errors (its figures are respserver's estimate, not Redis's allocation)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import Diff, parse

pytestmark = pytest.mark.differential

THRESHOLDS = (
    "hash-max-listpack-entries 512 hash-max-listpack-value 64 zset-max-listpack-entries 128 "
    "zset-max-listpack-value 64 set-max-intset-entries 512"
).split()
MAXMEMORY = ("maxmemory", "0", "maxmemory-policy", "noeviction")


@pytest.fixture
def configured(diff: Diff) -> Iterator[Diff]:
    """``diff``, with both servers' thresholds and maxmemory settings put back afterwards."""
    yield diff
    for port in (diff.ours, diff.real):
        port.call("CONFIG", "SET", *THRESHOLDS, *MAXMEMORY)


def test_strings_int_embstr_raw(play):
    play(
        """
        SET a 0
        SET b -1
        SET c 9223372036854775807
        SET d 9223372036854775808
        SET e -9223372036854775808
        SET f -9223372036854775809
        SET g 007
        SET h +1
        SET i -0
        SET j 1.5
        SET k " 1"
        SET l 12345678901234567890
        SET m ""
        SET n abc
        SET o 12345678901234567890123456789012345678901234
        SET p 123456789012345678901234567890123456789012345
        SET q "12345678901234567890123456789012345678901234x"
        MSET r 42 s "  x"
        SETNX t 10000
        GETSET u 9999
        SETEX v 100 hello
        INCR w
        INCRBY x 123456789
        DECR y
        SET z 1234567890123456789
        SET A -1234567890123456789
        SET B 1234567890123456789x
        SET C abcdefghijabcdefghijabcdefghijabcdefghijabcd
        SET D abcdefghijabcdefghijabcdefghijabcdefghijabc
        SET E abcdefghijabcdefghijabcdefghijabcdefghijabcde
        """
    )
    for key in "abcdefghijklmnopqrstuvwxyzABCDE":
        play(f"OBJECT ENCODING {key}")


def test_hash_thresholds(play):
    fields = " ".join(f"f{i} v" for i in range(512))
    play(
        f"""
        HSET h {fields}
        OBJECT ENCODING h
        HSET h f512 v
        OBJECT ENCODING h
        HSET small f {"x" * 64}
        OBJECT ENCODING small
        HSET long f {"x" * 65}
        OBJECT ENCODING long
        HSET longfield {"y" * 65} v
        OBJECT ENCODING longfield
        HSET longfield64 {"y" * 64} v
        OBJECT ENCODING longfield64
        HINCRBY counter n 5
        OBJECT ENCODING counter
        """
    )


def test_hash_thresholds_after_config_set(configured):
    d = configured
    d.do("CONFIG", "SET", "hash-max-listpack-entries", "3", "hash-max-listpack-value", "4")
    d.do("HSET", "h", "a", "1", "b", "2", "c", "3")
    d.do("OBJECT", "ENCODING", "h")
    d.do("HSET", "h", "d", "4")
    d.do("OBJECT", "ENCODING", "h")
    d.do("HSET", "v", "a", "1234")
    d.do("OBJECT", "ENCODING", "v")
    d.do("HSET", "w", "a", "12345")
    d.do("OBJECT", "ENCODING", "w")
    d.do("CONFIG", "SET", "hash-max-listpack-entries", "0")
    d.do("HSET", "z", "a", "1")
    d.do("OBJECT", "ENCODING", "z")


def test_lists_are_quicklists(configured):
    d = configured
    d.do("RPUSH", "l", "a")
    d.do("OBJECT", "ENCODING", "l")
    d.do("RPUSH", "big", *[str(i) * 20 for i in range(300)])
    d.do("OBJECT", "ENCODING", "big")
    d.do("CONFIG", "SET", "list-max-listpack-size", "1")
    d.do("RPUSH", "m", "a", "b", "c")
    d.do("OBJECT", "ENCODING", "m")
    d.do("CONFIG", "SET", "list-max-listpack-size", "-2")


def test_set_thresholds(play):
    members = " ".join(str(i) for i in range(512))
    play(
        f"""
        SADD s {members}
        OBJECT ENCODING s
        SADD s 512
        OBJECT ENCODING s
        SADD neg -5 -9223372036854775808 9223372036854775807
        OBJECT ENCODING neg
        SADD words a
        OBJECT ENCODING words
        SADD mixed 1 2 x
        OBJECT ENCODING mixed
        SADD lead 01
        OBJECT ENCODING lead
        SADD huge 9223372036854775808
        OBJECT ENCODING huge
        SADD a 1 2 3
        SADD b 2 3 4
        SINTERSTORE i a b
        OBJECT ENCODING i
        SUNIONSTORE u a b
        OBJECT ENCODING u
        """
    )


def test_set_thresholds_after_config_set(configured):
    d = configured
    d.do("CONFIG", "SET", "set-max-intset-entries", "2")
    d.do("SADD", "s", "1", "2")
    d.do("OBJECT", "ENCODING", "s")
    d.do("SADD", "s", "3")
    d.do("OBJECT", "ENCODING", "s")
    d.do("CONFIG", "SET", "set-max-intset-entries", "0")
    d.do("SADD", "t", "1")
    d.do("OBJECT", "ENCODING", "t")


def test_sorted_set_thresholds(play):
    members = " ".join(f"{i} m{i}" for i in range(128))
    play(
        f"""
        ZADD z {members}
        OBJECT ENCODING z
        ZADD z 128 m128
        OBJECT ENCODING z
        ZADD small 1 {"x" * 64}
        OBJECT ENCODING small
        ZADD long 1 {"x" * 65}
        OBJECT ENCODING long
        """
    )


def test_sorted_set_thresholds_after_config_set(configured):
    d = configured
    d.do("CONFIG", "SET", "zset-max-listpack-entries", "2", "zset-max-listpack-value", "3")
    d.do("ZADD", "z", "1", "a", "2", "b")
    d.do("OBJECT", "ENCODING", "z")
    d.do("ZADD", "z", "3", "c")
    d.do("OBJECT", "ENCODING", "z")
    d.do("ZADD", "v", "1", "abc")
    d.do("OBJECT", "ENCODING", "v")
    d.do("ZADD", "w", "1", "abcd")
    d.do("OBJECT", "ENCODING", "w")


def test_missing_keys_and_errors(play):
    play(
        """
        OBJECT ENCODING nokey
        OBJECT REFCOUNT nokey
        OBJECT IDLETIME nokey
        OBJECT FREQ nokey
        OBJECT
        OBJECT ENCODING
        OBJECT ENCODING a b
        OBJECT FOO k
        OBJECT HELP
        OBJECT help
        OBJECT HELP extra
        """
    )


def test_refcount_shared_integers(configured):
    d = configured
    for value in ("0", "9999", "10000", "-1", "abc", "01"):
        d.do("SET", f"k{value}", value)
        d.do("OBJECT", "REFCOUNT", f"k{value}")
    d.do("RPUSH", "l", "1")
    d.do("OBJECT", "REFCOUNT", "l")
    # A policy alone does not unshare them; with maxmemory set, LRU and LFU policies do.
    d.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    d.do("SET", "lru0", "5")
    d.do("OBJECT", "REFCOUNT", "lru0")
    d.do("CONFIG", "SET", "maxmemory", "1gb")
    d.do("SET", "lru1", "5")
    d.do("OBJECT", "REFCOUNT", "lru1")
    d.do("CONFIG", "SET", "maxmemory-policy", "volatile-lfu")
    d.do("SET", "lfu", "5")
    d.do("OBJECT", "REFCOUNT", "lfu")
    d.do("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    d.do("SET", "random", "5")
    d.do("OBJECT", "REFCOUNT", "random")


def _idle(d: Diff, key: str) -> tuple[int, int]:
    """OBJECT IDLETIME from both: integers, a second apart at most (Redis's LRU clock ticks
    in the cron, so a boundary may fall between)."""
    ours, real = d.both("OBJECT", "IDLETIME", key)
    assert ours[:1] == real[:1] == b":", (ours, real)
    times = int(parse(ours)), int(parse(real))
    assert abs(times[0] - times[1]) <= 1, times
    return times


def test_freq_and_idletime_by_policy(configured):
    d = configured
    d.do("SET", "k", "v")
    # noeviction (and LRU): no frequency; idle time just after a write is 0.
    d.do("OBJECT", "FREQ", "k")
    assert _idle(d, "k")[0] == 0
    d.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "maxmemory", "1gb")
    d.do("SET", "k", "v")
    d.do("OBJECT", "FREQ", "k")
    assert _idle(d, "k")[0] == 0
    for policy in ("allkeys-lfu", "volatile-lfu"):
        d.do("CONFIG", "SET", "maxmemory-policy", policy)
        d.do("DEL", "k")
        d.do("SET", "k", "v")
        d.do("OBJECT", "IDLETIME", "k")
        d.do("OBJECT", "IDLETIME", "nokey")
        d.do("OBJECT", "FREQ", "k")  # a new key's counter, LFU_INIT_VAL
        d.do("OBJECT", "FREQ", "k")  # OBJECT itself is no access
        d.do("GET", "k")
        d.do("OBJECT", "FREQ", "k")  # one more: certain from the initial value
    # An LFU policy without maxmemory: FREQ answers (a new key's counter) and IDLETIME refuses.
    d.do("CONFIG", "SET", "maxmemory", "0")
    d.do("SET", "n", "v")
    d.do("OBJECT", "FREQ", "n")
    d.do("OBJECT", "IDLETIME", "n")


def test_idletime_counts_seconds_under_lru(configured):
    d = configured
    d.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "maxmemory", "1gb")
    d.do("SET", "k", "v")
    d.do("SET", "other", "v")
    time.sleep(2.3)
    assert min(_idle(d, "k")) >= 2
    assert min(_idle(d, "k")) >= 2  # OBJECT IDLETIME is no access
    d.do("GET", "k")  # an access: idle again from now
    assert max(_idle(d, "k")) <= 1
    assert min(_idle(d, "other")) >= 2  # only k was read


def test_freq_counts_accesses_logarithmically(configured):
    d = configured
    d.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "maxmemory", "1gb")
    d.do("SET", "k", "v")
    for _ in range(200):
        d.do("GET", "k")
    ours, real = (int(parse(r)) for r in d.both("OBJECT", "FREQ", "k"))
    # 200 hits from 5, with log factor 10: a few more than 6, probably, never 200.
    assert 6 <= ours <= 20 and 6 <= real <= 20


def test_memory_usage_reply_types_and_errors(play):
    play(
        """
        MEMORY USAGE nokey
        MEMORY USAGE nokey SAMPLES 5
        MEMORY USAGE nokey SAMPLES -1
        MEMORY USAGE nokey SAMPLES x
        MEMORY USAGE nokey SAMPLES
        MEMORY USAGE nokey FOO 1
        MEMORY USAGE
        MEMORY
        MEMORY FOO
        MEMORY HELP
        MEMORY HELP x
        MEMORY MALLOC-STATS x
        MEMORY PURGE
        """
    )


def test_memory_usage_grows_with_the_value(diff):
    sizes = {}
    for key, build in {
        "s": ("SET", "s", "x" * 10),
        "S": ("SET", "S", "x" * 10000),
        "h": ("HSET", "h", "f", "v"),
        "H": ("HSET", "H", *[f"f{i}" for i in range(2000)]),
        "l": ("RPUSH", "l", "a"),
        "L": ("RPUSH", "L", *["a" * 50] * 1000),
        "t": ("SADD", "t", "a"),
        "T": ("SADD", "T", *[f"m{i}" for i in range(1000)]),
        "z": ("ZADD", "z", "1", "a"),
        "Z": ("ZADD", "Z", *[x for i in range(1000) for x in (str(i), f"m{i}")]),
    }.items():
        diff.do(*build)
        for samples in ((), ("SAMPLES", "0")):
            ours, real = diff.both("MEMORY", "USAGE", key, *samples)
            assert ours[:1] == real[:1] == b":"  # an integer, in both protocols
            sizes[key, samples] = int(parse(ours))
    for small, big in ("sS", "hH", "lL", "tT", "zZ"):
        assert 0 < sizes[small, ()] < sizes[big, ()]
        assert sizes[big, ()] == sizes[big, ("SAMPLES", "0")]  # respserver measures them all


def _fields(raw: bytes) -> dict:
    """A map reply as a dict: RESP3's map, or RESP2's flat array of names and values."""
    reply = parse(raw)
    return reply if isinstance(reply, dict) else dict(zip(reply[::2], reply[1::2], strict=True))


def test_memory_doctor_stats_and_malloc_stats_shapes(diff):
    ours, real = diff.both("MEMORY", "DOCTOR")
    assert ours[:1] == real[:1] == (b"=" if diff.protocol == 3 else b"$")
    assert b"Sam" in ours
    ours, real = (_fields(r) for r in diff.both("MEMORY", "STATS"))
    assert list(ours) == list(real)  # the same fields, in order (no keys: no db.N)
    diff.do("SET", "k", "v")
    ours, real = (_fields(r) for r in diff.both("MEMORY", "STATS"))
    assert list(ours) == list(real)
    assert ours[b"keys.count"] == real[b"keys.count"] == 1
    assert list(_fields_of(ours[b"db.0"])) == list(_fields_of(real[b"db.0"]))
    # A string either way: Redis built with jemalloc replies its report verbatim, respserver
    # (mem_allocator libc) what Redis without jemalloc replies.
    ours, real = diff.both("MEMORY", "MALLOC-STATS")
    assert ours.startswith(b"$45\r\nStats not supported for the current allocator")
    assert real[:1] in (b"$", b"=")


def _fields_of(reply: object) -> dict:
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))
