"""SCAN's cursor: a bucket index over keys (or hash fields) walked in reverse-binary order.

Redis's guarantee is that an element present for the whole of an iteration is returned at least
once, however the collection changes between calls. ``ScanIndex`` keeps the elements in a
power-of-two table of buckets chosen by the low bits of their hash, and the cursor is a bucket
number advanced by incrementing its *reversed* bits (Redis's ``dictScan``). Visiting buckets in
that order means that when the table doubles or halves between two calls, the buckets still to
visit at the new size hold exactly the elements of the buckets still to visit at the old size,
so nothing present throughout is skipped (a few may come twice, as in Redis).

The same argument covers an index that is rebuilt from scratch between calls (after FLUSHDB, or
the snapshot HSCAN keeps of a big hash): all that matters is that at each call the buckets hold
every element present then, placed by the same hash function. Python's ``hash`` of bytes is
stable within a process and seeded per process, so hostile keys cannot pile into one bucket.

No Trio and no imports from the command layer here (the keyspace imports this module).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from respserver.errors import INVALID_CURSOR, CommandError

ULONG_MAX = 2**64 - 1

_MIN_SIZE = 4
_MAX_LOAD = 4  # elements per bucket on average before the table grows
_GROWTH = 4  # the table grows (shrinks) fourfold: each element moves less often
_CURSOR = re.compile(rb"[+-]?[0-9]+")


def parse_cursor(value: bytes) -> int:
    """A cursor as Redis reads it with ``strtoul``: optional sign (a minus wraps around), no
    leading space, nothing after the digits, at most ULONG_MAX; "" is 0. Else ERR invalid cursor."""
    text = value.split(b"\0", 1)[0]  # C reads the argument as a NUL-terminated string
    if not text:
        return 0
    if _CURSOR.fullmatch(text) is None:
        raise CommandError(INVALID_CURSOR)
    number = int(text)
    if abs(number) > ULONG_MAX:
        raise CommandError(INVALID_CURSOR)
    return number & ULONG_MAX


def _reverse(value: int, bits: int) -> int:
    return int(format(value, f"0{bits}b")[::-1], 2) if bits else 0


def next_cursor(cursor: int, mask: int) -> int:
    """The bucket after ``cursor`` in reverse-binary order for a table of ``mask + 1`` buckets;
    0 once every bucket has been visited."""
    bits = mask.bit_length()
    advanced = _reverse(cursor & mask, bits) + 1
    if advanced >> bits:
        return 0
    return _reverse(advanced, bits)


# Buckets are tuples, not lists: tuples of bytes are untracked by Python's cyclic garbage
# collector, so a big index adds nothing to its full collections (a list per bucket made every
# collection walk millions of lists, pausing the server for a second at a few million keys).
Bucket = tuple[bytes, ...]


class ScanIndex:
    """Elements bucketed by the low bits of ``hash(element)``, for resumable scans.

    ``add`` and ``discard`` keep it current (the caller adds only elements not yet present).
    The table grows fourfold past an average of four elements per bucket and shrinks fourfold
    below one element per four buckets (load stays within 1/4..4). Like Redis's dict it
    rehashes incrementally, a couple of buckets per change, so no single write pays for moving
    everything: meanwhile an element sits in the old table if its bucket there has not been
    moved yet, else in the new one, and ``scan`` walks both (dictScan)."""

    __slots__ = ("_table", "_old", "_moved", "_count")

    def __init__(self, elements: Iterable[bytes] = ()) -> None:
        elements = list(elements)
        size = _MIN_SIZE
        while len(elements) > size * _MAX_LOAD:
            size *= _GROWTH
        mask = size - 1
        lists: list[list[bytes]] = [[] for _ in range(size)]
        for element in elements:
            lists[hash(element) & mask].append(element)
        self._table: list[Bucket] = [tuple(bucket) for bucket in lists]
        self._old: list[Bucket] | None = None  # the table being drained into _table
        self._moved = 0  # how many of _old's buckets are drained
        self._count = len(elements)

    def __len__(self) -> int:
        return self._count

    def add(self, element: bytes) -> None:
        table = self._table
        table[hash(element) & (len(table) - 1)] += (element,)
        self._count += 1
        if self._old is not None or self._count > len(table) * _MAX_LOAD:
            self._rebalance()

    def discard(self, element: bytes) -> None:
        digest = hash(element)
        table = self._table
        old = self._old
        if old is not None and element in old[digest & (len(old) - 1)]:
            table = old  # its old bucket is not moved yet
        index = digest & (len(table) - 1)
        bucket = table[index]
        if element not in bucket:
            return
        position = bucket.index(element)
        table[index] = bucket[:position] + bucket[position + 1 :]
        self._count -= 1
        size = len(self._table)
        if self._old is not None or (size > _MIN_SIZE and self._count * _GROWTH < size):
            self._rebalance()

    def _rebalance(self) -> None:
        """Move a little of a rehash in progress, or start one if the load calls for it."""
        if self._old is not None:
            self._rehash(2)
            return
        size = len(self._table)
        grow = self._count > size * _MAX_LOAD
        target = size * _GROWTH if grow else max(size // _GROWTH, _MIN_SIZE)
        self._old, self._table, self._moved = self._table, [()] * target, 0

    def _rehash(self, buckets: int) -> None:
        old, table = self._old, self._table
        mask = len(table) - 1
        stop = min(self._moved + buckets, len(old))
        for index in range(self._moved, stop):
            for element in old[index]:
                table[hash(element) & mask] += (element,)
            old[index] = ()
        self._moved = stop
        if stop == len(old):
            self._old = None

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """Visit buckets from ``cursor`` until at least ``count`` elements are gathered (a
        bucket is never split) or the table wraps; return the next cursor and the elements.
        Like Redis, give up after 10 * count buckets so a sparse table cannot stall us."""
        found: list[bytes] = []
        if not self._count:
            return 0, found
        budget = count * 10
        while True:
            if self._old is None:
                table = self._table
                mask = len(table) - 1
                found += table[cursor & mask]
                cursor = next_cursor(cursor, mask)
            else:
                cursor = self._scan_both(cursor, found)
            budget -= 1
            if not cursor or budget <= 0 or len(found) >= count:
                return cursor, found

    def _scan_both(self, cursor: int, found: list[bytes]) -> int:
        """During a rehash: the small table's bucket at ``cursor`` and every bucket of the large
        table that splits from it (Redis's dictScan with two tables)."""
        small, large = sorted((self._old, self._table), key=len)
        small_mask, large_mask = len(small) - 1, len(large) - 1
        found += small[cursor & small_mask]
        while True:
            found += large[cursor & large_mask]
            cursor = next_cursor(cursor, large_mask)
            if not cursor & (small_mask ^ large_mask):
                return cursor
