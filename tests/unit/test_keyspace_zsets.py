"""Sorted sets on their own: ZSetValue's ranges against a plain sorted list (hypothesis), the
listpack rules it follows (-0, compactness), and its RDB forms: ZSET_2 written and read back
exactly, and the older ZSET, ziplist and listpack forms read, damage refused. (Both
directions with a real redis-server: tests/differential/test_rdb.py.)"""

from __future__ import annotations

import math
import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.core.state import Server
from respserver.keyspace.zsets import LEX_MAX, LEX_MIN, LexRange, Limits, ScoreRange, ZSetValue
from respserver.persistence import rdb
from respserver.persistence.rdb import encode_length
from respserver.security.eviction import BASELINE, BOOKKEEPING, SCORED_MEMBER_COST, database_size
from tests.helpers.rdb import dump, expect_error, read
from tests.unit.test_persistence_rdb import entry, raw_string, rdb_file, ziplist, zl_str

INF = math.inf
SCORES = st.sampled_from([-INF, -2.5, -1.0, -0.0, 0.0, 1e-310, 1.0, 1.5, 2.0, INF])
MEMBERS = st.binary(max_size=3)
ITEMS = st.dictionaries(MEMBERS, SCORES, max_size=12).map(lambda d: list(d.items()))


def _ordered(items: list[tuple[bytes, float]]) -> list[tuple[bytes, float]]:
    return sorted(items, key=lambda item: (item[1], item[0]))


@settings(max_examples=200, deadline=None)
@given(ITEMS, st.integers(-14, 14), st.integers(-14, 14), st.booleans())
def test_rank_ranges_are_redis_slices(items, start, stop, reverse) -> None:
    zset = ZSetValue(items, Limits(0, 0))  # not compact: -0 kept
    ordered = _ordered(items)[::-1] if reverse else _ordered(items)
    size = len(ordered)
    low = max(start + size if start < 0 else start, 0)
    high = min(stop + size if stop < 0 else stop, size - 1)
    expected = ordered[low : high + 1] if low <= high else []
    assert zset.read(zset.rank_span(start, stop, reverse), reverse) == expected
    for position, (member, _) in enumerate(ordered):
        assert zset.rank(member, reverse) == position


@settings(max_examples=200, deadline=None)
@given(ITEMS, SCORES, st.booleans(), SCORES, st.booleans(), st.booleans(), st.integers(-1, 4))
def test_score_ranges_filter_the_order(items, low, low_open, high, high_open, reverse, limit):
    zset = ZSetValue(items)
    bounds = ScoreRange(low, low_open, high, high_open)
    inside = [
        (m, s)
        for m, s in _ordered(zset.items())
        if (s > low if low_open else s >= low) and (s < high if high_open else s <= high)
    ]
    inside = inside[::-1] if reverse else inside
    found = zset.read(zset.score_span(bounds), reverse, 1, limit)
    assert found == (inside[1:] if limit < 0 else inside[1 : 1 + limit])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(MEMBERS, max_size=10, unique=True),
    st.sampled_from([LEX_MIN, LEX_MAX, b"", b"a", b"b", b"ab"]),
    st.booleans(),
    st.sampled_from([LEX_MIN, LEX_MAX, b"", b"a", b"b", b"ab"]),
    st.booleans(),
)
def test_lex_ranges_of_equal_scores(members, low, low_open, high, high_open) -> None:
    bounds = LexRange(low, low_open, high, high_open)

    def above(m: bytes) -> bool:
        return low == LEX_MIN if type(low) is int else (m > low if low_open else m >= low)

    def below(m: bytes) -> bool:
        return high == LEX_MAX if type(high) is int else (m < high if high_open else m <= high)

    inside = [m for m in sorted(members) if above(m) and below(m)]
    for limits in (Limits(), Limits(0, 0)):  # a listpack's walk, a skiplist's bisection
        zset = ZSetValue([(m, 0.0) for m in members], limits)
        for reverse in (False, True):
            found = zset.read(zset.lex_span(bounds, reverse), reverse)
            assert [m for m, _ in found] == (inside[::-1] if reverse else inside)


def test_removal_pops_and_copies() -> None:
    zset = ZSetValue([(b"a", 1.0), (b"b", 2.0), (b"c", 3.0), (b"d", 4.0)])
    assert zset.pop(highest=True, count=2) == [(b"d", 4.0), (b"c", 3.0)]
    duplicate = zset.copy()
    assert duplicate.delete(duplicate.rank_span(0, 0)) == 1
    assert zset.items() == [(b"a", 1.0), (b"b", 2.0)]
    assert duplicate.items() == [(b"b", 2.0)] and b"a" not in duplicate
    assert zset.set(b"a", 5.0) is False and zset.items() == [(b"b", 2.0), (b"a", 5.0)]
    assert zset.remove(b"a") and not zset.remove(b"a") and len(zset) == 1


def test_a_listpack_has_no_negative_zero_and_converts_one_way() -> None:
    small = Limits(entries=3, value=4)
    zset = ZSetValue([(b"z", -0.0)], small)
    assert zset.compact and math.copysign(1, zset.score(b"z")) == 1
    zset.set(b"a", 1.0, small)
    zset.set(b"b", 2.0, small)
    assert zset.compact
    zset.set(b"c", -0.0, small)  # the fourth member: no longer a listpack, -0 kept
    assert not zset.compact and math.copysign(1, zset.score(b"c")) == -1
    zset.remove(b"c")
    assert not zset.compact  # as Redis: never back
    assert not ZSetValue([(b"long member", 1.0)], small).compact


# -- RDB ------------------------------------------------------------------------------------


def test_zset_2_round_trip_keeps_every_double() -> None:
    items = [(b"m%d" % i, s) for i, s in enumerate([-INF, -0.0, 1e-310, 0.1, 1.1, 2**70, INF])]
    zset = ZSetValue(items, Limits(0, 0))
    blob = dump([(0, {b"z": zset}, {})])
    (entry_read,) = read(blob)
    loaded = entry_read[2]
    assert loaded.items() == zset.items()
    assert [math.copysign(1, s) for _, s in loaded.items()][1] == 1  # small: a listpack now
    payload = b"".join(raw_string(m) + struct.pack("<d", s) for m, s in reversed(zset.items()))
    expected_entry = entry(rdb.TYPE_ZSET_2, b"z", encode_length(len(items)) + payload)
    assert expected_entry in blob


def test_old_zset_type_scores_as_text() -> None:
    body = encode_length(4) + b"".join(
        raw_string(member) + score
        for member, score in [
            (b"a", bytes([3]) + b"1.5"),
            (b"b", b"\xfe"),
            (b"c", b"\xff"),
            (b"d", bytes([2]) + b"-3"),
        ]
    )
    (found,) = read(rdb_file(entry(rdb.TYPE_ZSET, b"old", body)))
    assert found[2].items() == [(b"c", -INF), (b"d", -3.0), (b"a", 1.5), (b"b", INF)]
    nan = encode_length(1) + raw_string(b"a") + b"\xfd"
    expect_error(rdb_file(entry(rdb.TYPE_ZSET, b"old", nan)), r"b'old' has a NaN score")


def test_ziplist_and_listpack_zsets() -> None:
    flat = [zl_str(b"a"), b"\xfe\x05", zl_str(b"b"), zl_str(b"2.5"), zl_str(b"c"), zl_str(b"inf")]
    (found,) = read(rdb_file(entry(rdb.TYPE_ZSET_ZIPLIST, b"zl", raw_string(ziplist(flat)))))
    assert found[2].items() == [(b"b", 2.5), (b"a", 5.0), (b"c", INF)]
    odd = ziplist([zl_str(b"a")])
    expect_error(
        rdb_file(entry(rdb.TYPE_ZSET_ZIPLIST, b"zl", raw_string(odd))), "odd number of elements"
    )
    twice = ziplist([zl_str(b"a"), zl_str(b"1"), zl_str(b"a"), zl_str(b"2")])
    expect_error(
        rdb_file(entry(rdb.TYPE_ZSET_ZIPLIST, b"zl", raw_string(twice))), "duplicate members"
    )
    bad = ziplist([zl_str(b"a"), zl_str(b"x")])
    expect_error(rdb_file(entry(rdb.TYPE_ZSET_ZIPLIST, b"zl", raw_string(bad))), "bad score")


def test_zset_2_nan_and_empty() -> None:
    nan = encode_length(1) + raw_string(b"a") + struct.pack("<d", math.nan)
    expect_error(rdb_file(entry(rdb.TYPE_ZSET_2, b"z", nan)), "NaN score")
    assert read(rdb_file(entry(rdb.TYPE_ZSET_2, b"z", encode_length(0)))) == []


# -- the memory estimate (security/eviction.py) ----------------------------------------------


def test_the_tracked_estimate_follows_sorted_sets_changed_in_place() -> None:
    server = Server(config={"maxmemory": "1gb"})
    db = server.databases[0]
    rng = random.Random(3)
    for _ in range(500):
        key = b"z%d" % rng.randrange(5)
        zset = db.get_zset(key)
        if zset is None:
            db.store(key, ZSetValue([(b"m" * rng.randrange(40), 1.0)]))
        elif rng.random() < 0.7:
            zset.set(b"n%d" % rng.randrange(50), rng.random())
            db.modified(key)
        elif zset.pop(highest=True, count=3) and zset:
            db.modified(key)
        else:
            db.delete(key)
    size = BASELINE + database_size(db) + len(db) * BOOKKEEPING
    assert server.memory.used_memory() == size > BASELINE
    members = sum(len(value) for value in db.data.values())
    payload = sum(value.payload() for value in db.data.values())
    assert database_size(db) > members * SCORED_MEMBER_COST + payload
