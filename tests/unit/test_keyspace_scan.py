"""SCAN's cursor index on its own, no server: cursors parsed as Redis parses them, the reverse
binary walk over the buckets, the guarantee across resizes and mid-rehash, and a database
keeping its index current. (SCAN and HSCAN against redis-server:
tests/differential/test_keys.py.)"""

from __future__ import annotations

import random

from respserver.keyspace.database import Database
from respserver.keyspace.scan import ScanIndex, next_cursor, parse_cursor


def test_parse_cursor():
    assert parse_cursor(b"") == 0
    assert parse_cursor(b"17") == 17
    assert parse_cursor(b"+17") == 17
    assert parse_cursor(b"-1") == 2**64 - 1
    assert parse_cursor(b"18446744073709551615") == 2**64 - 1
    assert parse_cursor(b"5\x00junk") == 5


def test_next_cursor_visits_every_bucket_once():
    for size in (1, 2, 8, 64):
        mask, cursor, visited = size - 1, 0, []
        while True:
            visited.append(cursor)
            cursor = next_cursor(cursor, mask)
            if cursor == 0:
                break
        assert sorted(visited) == list(range(size))
    assert [0, 4, 2, 6, 1, 5, 3, 7] == [0, *(_walk(7))][:8]


def _walk(mask: int) -> list[int]:
    out, cursor = [], 0
    while True:
        cursor = next_cursor(cursor, mask)
        if cursor == 0:
            return out
        out.append(cursor)


def test_scan_index_guarantee_across_resizes():
    rng = random.Random(11)
    for _ in range(20):
        stay = {b"s%d" % i for i in range(rng.randint(0, 300))}
        churn = [b"c%d" % i for i in range(rng.randint(0, 3000))]
        index = ScanIndex(stay)
        present = set(stay)
        cursor, seen = 0, set()
        while True:
            cursor, found = index.scan(cursor, rng.randint(1, 20))
            seen.update(found)
            assert set(found) <= present
            for _ in range(rng.randint(0, 200)):  # add or remove churn between calls
                key = rng.choice(churn) if churn else None
                if key is None:
                    break
                if key in present:
                    index.discard(key)
                    present.discard(key)
                else:
                    index.add(key)
                    present.add(key)
            if cursor == 0:
                break
        assert stay <= seen
        assert len(index) == len(present)


def test_scan_index_mid_rehash():
    """A scan that runs while the table is being rehashed (both tables live) still covers
    every element present throughout; the element count stays exact."""
    original = [b"o%d" % i for i in range(64)]  # 16 buckets at the maximum load
    index = ScanIndex(original)
    index.add(b"extra0")  # over the load: a fourfold rehash starts
    assert index._old is not None
    cursor, first = index.scan(0, 3)
    seen = set(first)
    for i in range(1, 200):
        index.add(b"extra%d" % i)
        if index._old is not None:
            cursor, found = index.scan(cursor, 3)
            seen.update(found)
    while cursor:
        cursor, found = index.scan(cursor, 3)
        seen.update(found)
    assert set(original) <= seen
    assert len(index) == 264
    for element in original:
        index.discard(element)
    index.discard(b"never added")
    assert len(index) == 200


def test_database_keeps_its_index_current():
    db = Database(0, [])
    for i in range(100):
        db.store(b"k%d" % i, b"v")
    index = db.scan_index()
    assert len(index) == 100
    db.store(b"k1", b"again")  # an overwrite is not a new key
    db.store(b"new", b"v")
    db.delete(b"k2")
    assert len(index) == 100
    _, everything = index.scan(0, 10_000)
    assert set(everything) == set(db.data)
    other = Database(1, [])
    other.store(b"x", b"v")
    db.swap_with(other)
    assert set(db.scan_index().scan(0, 100)[1]) == {b"x"}
    db.reset()
    assert db.scan_index().scan(0, 100) == (0, [])
