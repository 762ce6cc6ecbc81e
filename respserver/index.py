"""QUERY's indexes, kept current by the table owner as a keyspace ``Listener``.

Per database and per hash field, two kinds. The equality index maps ``value -> keys whose hash
has that value`` plus the reverse ``key -> value``, so a change moves a key out of its old bucket
without knowing the old value. The ordered (numeric) index keeps ``(number, key)`` pairs sorted,
for the values that parse as QUERY's numbers, so a range is two bisections; it also keeps
``key -> number`` for removal. Each is built by the first QUERY that needs it (one pass over the
data) and then follows
every write through ``Database.modified``; ``db_reset`` (FLUSHDB, FLUSHALL, SWAPDB) drops a
database's indexes, to be rebuilt on demand. The planner treats an index as a superset hint:
keys that expired but are not yet reaped stay indexed until they are.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable

from sortedcontainers import SortedList

from respserver.commands.common import to_float
from respserver.errors import CommandError
from respserver.keyspace import Database


def number(value: bytes) -> float | None:
    """The value as a double (the syntax of Redis's float arguments), or None: QUERY's rule for
    ``<`` ``<=`` ``>`` ``>=``, and so for what the ordered index holds."""
    try:
        return to_float(value)
    except CommandError:
        return None


class FieldIndex:
    """One field's equality index over one database."""

    __slots__ = ("buckets", "values")

    def __init__(self) -> None:
        self.buckets: dict[bytes, set[bytes]] = {}
        self.values: dict[bytes, bytes] = {}  # key -> its value of the field

    def update(self, key: bytes, value: bytes | None) -> None:
        """Record that ``key`` now has ``value`` for the field (None: no hash or no field)."""
        old = self.values.get(key)
        if old == value:
            return
        if old is not None:
            bucket = self.buckets[old]
            bucket.discard(key)
            if not bucket:
                del self.buckets[old]
            del self.values[key]
        if value is not None:
            bucket = self.buckets.get(value)
            if bucket is None:
                self.buckets[value] = bucket = set()
            bucket.add(key)
            self.values[key] = value

    def size(self, values: Iterable[bytes]) -> int:
        """How many keys hold any of ``values``."""
        buckets = self.buckets
        return sum(len(buckets[v]) for v in values if v in buckets)

    def keys(self, values: Iterable[bytes]) -> list[bytes]:
        """A snapshot of the keys holding any of ``values`` (evaluation may change the index)."""
        buckets = self.buckets
        found = [buckets[v] for v in values if v in buckets]
        if len(found) == 1:
            return list(found[0])
        return list(set().union(*found))

    def approximate_bytes(self) -> int:
        """The containers' own sizes (sys.getsizeof), not the keys and values they share with the
        keyspace: an approximation."""
        sets = sum(sys.getsizeof(bucket) for bucket in self.buckets.values())
        return sys.getsizeof(self.buckets) + sys.getsizeof(self.values) + sets


# What one entry of an ordered index costs besides the key: the pair, its float and the pointer.
_PAIR_BYTES = sys.getsizeof((0.0, b"")) + sys.getsizeof(0.0) + 8


class NumericIndex:
    """One field's ordered index over one database: the keys whose value is a number, sorted by
    that number (then by key). SortedList makes an insert or removal O(log n)."""

    __slots__ = ("pairs", "values")

    def __init__(self) -> None:
        self.pairs: SortedList = SortedList()  # of (number, key)
        self.values: dict[bytes, float] = {}  # key -> its number

    def update(self, key: bytes, value: bytes | None) -> None:
        """Record that ``key`` now has ``value`` for the field (None: no hash or no field)."""
        parsed = None if value is None else number(value)
        old = self.values.get(key)
        if old == parsed:  # -0.0 == 0.0: the same place in the order
            return
        if old is not None:
            self.pairs.remove((old, key))
            del self.values[key]
        if parsed is not None:
            self.pairs.add((parsed, key))
            self.values[key] = parsed

    def lower(self, bound: float, inclusive: bool) -> int:
        """The position of the first pair whose number is ``>= bound`` (``> bound``)."""
        if not inclusive:
            if bound == math.inf:
                return len(self.pairs)
            bound = math.nextafter(bound, math.inf)  # > x is >= the next double
        return self.pairs.bisect_left((bound,))

    def upper(self, bound: float, inclusive: bool) -> int:
        """The position past the last pair whose number is ``< bound`` (``<= bound``)."""
        return self.lower(bound, not inclusive)

    def keys(self, start: int, stop: int) -> list[bytes]:
        """A snapshot of the keys at positions ``start`` to ``stop``, in numeric order."""
        return [key for _, key in self.pairs.islice(start, stop)]

    def approximate_bytes(self) -> int:
        """As FieldIndex.approximate_bytes: the reverse dict plus an estimate per sorted pair."""
        return sys.getsizeof(self.values) + len(self.pairs) * _PAIR_BYTES


class Indexes:
    """Every index, by database number then field; also counts how QUERY was served."""

    def __init__(self) -> None:
        self._by_db: dict[int, dict[bytes, FieldIndex]] = {}
        self._numeric: dict[int, dict[bytes, NumericIndex]] = {}
        self.served = 0  # QUERYs whose candidates came from an index
        self.scanned = 0  # QUERYs that looked at every key
        self.examined = 0  # candidate keys handed to evaluation, over all QUERYs

    def key_changed(self, db: Database, key: bytes) -> None:
        fields = self._by_db.get(db.index)
        numeric = self._numeric.get(db.index)
        if not fields and not numeric:
            return
        # db.data, not db.get: reading must not expire keys (and re-enter this listener).
        value = db.data.get(key)
        if type(value) is not dict:
            value = None
        for group in (fields, numeric):
            for field, index in (group or {}).items():
                index.update(key, None if value is None else value.get(field))

    def db_reset(self, db: Database) -> None:
        self._by_db.pop(db.index, None)
        self._numeric.pop(db.index, None)

    def get(self, db: Database, field: bytes) -> FieldIndex | None:
        fields = self._by_db.get(db.index)
        return None if fields is None else fields.get(field)

    def ensure(self, db: Database, field: bytes) -> FieldIndex:
        """The index on ``field`` for ``db``, built now with one pass over the data if missing."""
        return _ensure(self._by_db, FieldIndex, db, field)

    def fields(self, db: Database) -> tuple[bytes, ...]:
        """The fields indexed for ``db`` (for tests and INFO)."""
        return tuple(self._by_db.get(db.index, ()))

    def get_numeric(self, db: Database, field: bytes) -> NumericIndex | None:
        fields = self._numeric.get(db.index)
        return None if fields is None else fields.get(field)

    def ensure_numeric(self, db: Database, field: bytes) -> NumericIndex:
        """The ordered index on ``field`` for ``db``, built now if missing."""
        return _ensure(self._numeric, NumericIndex, db, field)

    def numeric_fields(self, db: Database) -> tuple[bytes, ...]:
        """The fields with an ordered index for ``db`` (for tests and INFO)."""
        return tuple(self._numeric.get(db.index, ()))

    def every(self) -> Iterable[tuple[int, str, bytes, FieldIndex | NumericIndex]]:
        """(database, kind "eq" or "num", field, index) for every index, by database (INFO)."""
        for number in sorted(self._by_db.keys() | self._numeric.keys()):
            for kind, group in (("eq", self._by_db), ("num", self._numeric)):
                for field, index in group.get(number, {}).items():
                    yield number, kind, field, index


def _ensure(by_db: dict, kind: type, db: Database, field: bytes) -> FieldIndex | NumericIndex:
    """The index of type ``kind`` on ``field`` in ``by_db``, built with one pass if missing."""
    fields = by_db.setdefault(db.index, {})
    index = fields.get(field)
    if index is None:
        index = fields[field] = kind()
        for key, value in db.data.items():
            if type(value) is dict:
                found = value.get(field)
                if found is not None:
                    index.update(key, found)
    return index
