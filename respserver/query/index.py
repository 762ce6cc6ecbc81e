"""QUERY's indexes, kept current by the table owner as a keyspace ``Listener``.

Per database and per hash field, two kinds. The equality index maps ``value -> keys whose hash
has that value``; a change moves a key out of its old bucket, found by probing the buckets or,
for fields with many distinct values, from a reverse ``key -> value`` map. The ordered (numeric)
index keeps the keys whose value parses as QUERY's number sorted by (number, key), so a range is
two bisections; it also keeps the reverse map, for removal. Each is built by the first QUERY
that needs it (one pass over the data) and then follows every write through
``Database.modified``; ``db_reset`` (FLUSHDB, FLUSHALL, SWAPDB) drops a database's indexes, to
be rebuilt on demand. An index holds exactly the values of the live hashes, plus keys that
expired but are not yet reaped: the planner reads through ``db.get``, which drops those.

Caches make a repeated QUERY cheap; they count as index memory. An equality bucket's keys in
name order (QUERY's reply order) are kept until the bucket changes; ``Rows`` keeps each queried
hash's reply row encoded until its key changes, and a whole bucket's full reply until the bucket
or one of its hashes changes.
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Iterable, Sequence

from sortedcontainers import SortedList

from respserver.errors import CommandError
from respserver.keyspace.database import Database
from respserver.numbers import to_float
from respserver.resp.encoder import encode
from respserver.resp.types import Encoded


def number(value: bytes) -> float | None:
    """The value as a double (the syntax of Redis's float arguments), or None: QUERY's rule for
    ``<`` ``<=`` ``>`` ``>=``, and so for what the ordered index holds."""
    try:
        return to_float(value)
    except CommandError:
        return None


# Up to this many distinct values, a key's old bucket is found by probing the buckets rather
# than kept in a reverse map: status- or workflow-like fields, the usual targets of ``=`` and
# ``IN``, then cost only their buckets (about half the memory).
PROBE_LIMIT = 64


class FieldIndex:
    """One field's equality index over one database: ``value -> keys`` buckets, and once the
    field has more than PROBE_LIMIT distinct values, the reverse ``key -> value`` map too.
    Buckets a QUERY read whole are also kept as sorted tuples until they change."""

    __slots__ = ("buckets", "by_key", "count", "in_order")

    def __init__(self) -> None:
        self.buckets: dict[bytes, set[bytes]] = {}
        self.by_key: dict[bytes, bytes] | None = None  # key -> its value of the field
        self.count = 0  # keys indexed
        self.in_order: dict[bytes, tuple[bytes, ...]] = {}  # value -> its bucket, sorted

    def value_of(self, key: bytes, hint: bytes | None = None) -> bytes | None:
        """The value the index holds for ``key``; ``hint``, the likely one, is tried first."""
        if self.by_key is not None:
            return self.by_key.get(key)
        buckets = self.buckets
        if hint is not None and key in buckets.get(hint, ()):
            return hint  # the common write: the field did not change
        for value, bucket in buckets.items():
            if key in bucket:
                return value
        return None

    def update(self, key: bytes, value: bytes | None) -> None:
        """Record that ``key`` now has ``value`` for the field (None: no hash or no field)."""
        old = self.value_of(key, value)
        if old == value:
            return
        buckets, by_key = self.buckets, self.by_key
        if self.in_order:
            self.in_order.pop(old, None)
            self.in_order.pop(value, None)
        if old is not None:
            bucket = buckets[old]
            bucket.discard(key)
            if not bucket:
                del buckets[old]
            if by_key is not None:
                del by_key[key]
            self.count -= 1
        if value is not None:
            bucket = buckets.get(value)
            if bucket is None:
                buckets[value] = bucket = set()
                if by_key is None and len(buckets) > PROBE_LIMIT:
                    by_key = self.by_key = {k: v for v, b in buckets.items() for k in b}
            bucket.add(key)
            if by_key is not None:
                by_key[key] = value
            self.count += 1

    def __len__(self) -> int:
        return self.count

    def fill(self, pairs: Iterable[tuple[bytes, bytes]]) -> None:
        """Index ``(key, value)`` pairs of keys not yet indexed: the first build, no probing."""
        buckets = self.buckets
        for key, value in pairs:
            bucket = buckets.get(value)
            if bucket is None:
                buckets[value] = bucket = set()
            bucket.add(key)
        self.count = sum(len(bucket) for bucket in buckets.values())
        if len(buckets) > PROBE_LIMIT:
            self.by_key = {k: v for v, b in buckets.items() for k in b}

    def size(self, values: Iterable[bytes]) -> int:
        """How many keys hold any of ``values``."""
        buckets = self.buckets
        return sum(len(buckets[v]) for v in values if v in buckets)

    def keys(self, values: Iterable[bytes]) -> set[bytes]:
        """A new set of the keys holding any of ``values`` (evaluation may change the index)."""
        buckets = self.buckets
        return set().union(*(buckets[v] for v in values if v in buckets))

    def sorted_keys(self, value: bytes) -> tuple[bytes, ...]:
        """The keys holding ``value``, in name order: sorted once, then kept until the bucket
        changes. A tuple, so it can be shared: a change replaces it (``Rows.reply`` relies on
        that), never alters it."""
        found = self.in_order.get(value)
        if found is None:
            bucket = self.buckets.get(value)
            if bucket is None:
                return ()
            found = self.in_order[value] = tuple(sorted(bucket))
        return found

    def restrict(self, keys: set[bytes], values: Iterable[bytes]) -> set[bytes]:
        """Those of ``keys`` that hold any of ``values``: set intersections, which iterate over
        the smaller side in C."""
        buckets = self.buckets
        found = [keys & buckets[v] for v in values if v in buckets]
        return found[0] if len(found) == 1 else set().union(*found)

    def exclude(self, keys: set[bytes], value: bytes) -> set[bytes]:
        """Those of ``keys`` that do not hold ``value`` (a missing field included: ``!=``)."""
        bucket = self.buckets.get(value)
        return keys if bucket is None else keys - bucket

    def approximate_bytes(self) -> int:
        """The containers' own sizes (sys.getsizeof), not the keys and values they share with the
        keyspace: an approximation."""
        sets = sum(sys.getsizeof(bucket) for bucket in self.buckets.values())
        reverse = 0 if self.by_key is None else sys.getsizeof(self.by_key)
        in_order = sys.getsizeof(self.in_order) + sum(map(sys.getsizeof, self.in_order.values()))
        return sys.getsizeof(self.buckets) + reverse + sets + in_order


def sortable(value: float) -> bytes:
    """Eight bytes whose byte order is the numeric order of ``value`` (-0.0 sorts as 0.0)."""
    bits = int.from_bytes(struct.pack(">d", value + 0.0), "big")  # -0.0 + 0.0 is 0.0
    return (bits ^ _ALL_BITS if bits & _SIGN_BIT else bits | _SIGN_BIT).to_bytes(8, "big")


_SIGN_BIT = 1 << 63
_ALL_BITS = (1 << 64) - 1


class NumericIndex:
    """One field's ordered index over one database: for each key whose value is a number, the
    entry ``sortable(number) + key``, kept sorted. One bytes object per key, shared by the sorted
    list and the reverse map, is about half the memory of a (float, key) tuple and its float;
    byte order is (number, key) order, so a range is two bisections and ties come by key name.
    SortedList makes an insert or removal O(log n). Keys whose value is not a number are kept
    apart, for SORTBY's error."""

    __slots__ = ("entries", "by_key", "non_numeric")

    def __init__(self) -> None:
        self.entries: SortedList = SortedList()
        self.by_key: dict[bytes, bytes] = {}  # key -> its entry
        self.non_numeric: set[bytes] = set()

    def update(self, key: bytes, value: bytes | None) -> None:
        """Record that ``key`` now has ``value`` for the field (None: no hash or no field)."""
        parsed = None if value is None else number(value)
        if parsed is None and value is not None:
            self.non_numeric.add(key)
        elif self.non_numeric:
            self.non_numeric.discard(key)
        entry = None if parsed is None else sortable(parsed) + key
        old = self.by_key.get(key)
        if old == entry:
            return
        if old is not None:
            self.entries.remove(old)
            del self.by_key[key]
        if entry is not None:
            self.entries.add(entry)
            self.by_key[key] = entry

    def __len__(self) -> int:
        return len(self.by_key)

    def fill(self, pairs: Iterable[tuple[bytes, bytes]]) -> None:
        """Index ``(key, value)`` pairs of keys not yet indexed: the first build, sorted once."""
        for key, value in pairs:
            parsed = number(value)
            if parsed is None:
                self.non_numeric.add(key)
            else:
                self.by_key[key] = sortable(parsed) + key
        self.entries = SortedList(self.by_key.values())

    def lower(self, bound: float, inclusive: bool) -> int:
        """The position of the first entry whose number is ``>= bound`` (``> bound``)."""
        if not inclusive:
            if bound == math.inf:
                return len(self.entries)
            bound = math.nextafter(bound, math.inf)  # > x is >= the next double
        return self.entries.bisect_left(sortable(bound))

    def upper(self, bound: float, inclusive: bool) -> int:
        """The position past the last entry whose number is ``< bound`` (``<= bound``)."""
        return self.lower(bound, not inclusive)

    def keys(self, start: int, stop: int) -> list[bytes]:
        """A snapshot of the keys at positions ``start`` to ``stop``, in numeric order."""
        return [entry[8:] for entry in self.entries.islice(start, stop)]

    def approximate_bytes(self) -> int:
        """As FieldIndex.approximate_bytes: the reverse dict and the list's pointers, plus each
        entry's own bytes object less the key it copies."""
        entries = len(self.entries) * (sys.getsizeof(b"") + 8 + 8)
        return sys.getsizeof(self.by_key) + entries + sys.getsizeof(self.non_numeric)


# Rows a database's cache may hold, both protocols together: one per 32 keys, or this many if
# more. A row is about a third of its hash's memory, so that is about 1% of the data's (kept
# whole replies at most as much again), beside indexes that take about 20%.
ROWS_MIN = 4096
ROWS_SHARE = 32


class Rows:
    """One database's cache of QUERY's full reply rows, one per hash and protocol: for RESP2
    ``[key, [field, value, ...]]`` as an array element, for RESP3 ``key`` and its map as a map
    entry. A hash's rows are encoded the first time a QUERY returns it and dropped when its key
    changes, so a full reply of cached hashes is one join. A fill that would overflow the budget
    starts the cache afresh; a reply larger than the budget is encoded without caching.

    The full reply for an index's whole bucket is also kept, until the bucket changes (its
    sorted tuple is replaced) or one of its hashes does (dropping a row drops every kept reply:
    a kept reply's keys all have their rows cached, so no change to them goes unnoticed).
    Kept replies take no more memory than the rows: past that, they are dropped."""

    __slots__ = ("forms", "size", "replies", "replies_size")

    def __init__(self) -> None:
        self.forms: tuple[dict[bytes, bytes], dict[bytes, bytes]] = ({}, {})  # RESP2, RESP3
        self.size = 0  # sys.getsizeof of the rows held
        # (id of a bucket's tuple, RESP3?) -> (the tuple, kept alive so the id stays its, reply)
        self.replies: dict[tuple[int, bool], tuple[tuple[bytes, ...], Encoded]] = {}
        self.replies_size = 0

    def drop(self, key: bytes) -> None:
        for rows in self.forms:
            row = rows.pop(key, None)
            if row is not None:
                self.size -= sys.getsizeof(row)
                if self.replies:
                    self._drop_replies()

    def reply(self, db: Database, keys: Sequence[bytes], resp3: bool) -> Encoded:
        """QUERY's full reply for ``keys``, live hashes of ``db``: its header and their rows.
        For a bucket's tuple (FieldIndex.sorted_keys) it is kept, then reused while valid."""
        kept = self.replies.get((id(keys), resp3)) if type(keys) is tuple else None
        if kept is not None:
            return kept[1]
        header = (b"%%%d\r\n" if resp3 else b"*%d\r\n") % len(keys)
        reply = Encoded(b"".join([header, *self.encoded(db, keys, resp3)]))
        if type(keys) is tuple and len(keys) <= self.budget(db):  # so every row is cached
            size = sys.getsizeof(reply)
            if self.replies_size + size > self.size:
                self._drop_replies()
            if size <= self.size:
                self.replies[id(keys), resp3] = (keys, reply)
                self.replies_size += size
        return reply

    def encoded(self, db: Database, keys: Sequence[bytes], resp3: bool) -> list[bytes]:
        """The rows of ``keys``, live hashes of ``db``, in their order."""
        rows = self.forms[resp3]
        try:
            return [rows[key] for key in keys]
        except KeyError:
            pass
        budget = self.budget(db)
        if len(keys) > budget:
            return [rows.get(key) or _row(key, db.data[key], resp3) for key in keys]
        missing = [key for key in keys if key not in rows]
        if len(missing) + len(self) > budget:
            self.forms, self.size = ({}, {}), 0
            self._drop_replies()
            rows = self.forms[resp3]
            missing = keys
        data = db.data
        for key in missing:
            row = rows[key] = _row(key, data[key], resp3)
            self.size += sys.getsizeof(row)
        return [rows[key] for key in keys]

    @staticmethod
    def budget(db: Database) -> int:
        return max(ROWS_MIN, len(db.data) // ROWS_SHARE)

    def _drop_replies(self) -> None:
        self.replies = {}
        self.replies_size = 0

    def __len__(self) -> int:
        return len(self.forms[0]) + len(self.forms[1])

    def approximate_bytes(self) -> int:
        containers = sum(map(sys.getsizeof, (*self.forms, self.replies)))
        return containers + self.size + self.replies_size


def _row(key: bytes, fields: dict[bytes, bytes], resp3: bool) -> bytes:
    """A hash's element of QUERY's full reply, by the encoder every reply uses."""
    if resp3:
        return encode(key) + encode(fields, True)
    return b"*2\r\n" + encode(key) + encode(fields)


class Indexes:
    """Every index, by database number then field, and each database's ``Rows``; also counts
    how QUERY was served."""

    def __init__(self) -> None:
        self._by_db: dict[int, dict[bytes, FieldIndex]] = {}
        self._numeric: dict[int, dict[bytes, NumericIndex]] = {}
        self._rows: dict[int, Rows] = {}
        self.served = 0  # QUERYs whose candidates came from an index
        self.scanned = 0  # QUERYs that looked at every key
        self.examined = 0  # candidate keys handed to evaluation, over all QUERYs

    def key_changed(self, db: Database, key: bytes) -> None:
        if not (self._rows or self._by_db or self._numeric):
            return  # no QUERY has built anything yet: the common case for most writes
        rows = self._rows.get(db.index)
        if rows is not None:
            rows.drop(key)
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
        self._rows.pop(db.index, None)

    def rows(self, db: Database) -> Rows:
        """The cache of ``db``'s reply rows, created empty if missing."""
        rows = self._rows.get(db.index)
        if rows is None:
            rows = self._rows[db.index] = Rows()
        return rows

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

    def every(self) -> Iterable[tuple[int, str, bytes, FieldIndex | NumericIndex | Rows]]:
        """(database, kind "eq" or "num", field, index) for every index, by database, then
        (database, "rows", b"cache", its Rows) for a database with cached rows (INFO)."""
        for number in sorted(self._by_db.keys() | self._numeric.keys() | self._rows.keys()):
            for kind, group in (("eq", self._by_db), ("num", self._numeric)):
                for field, index in group.get(number, {}).items():
                    yield number, kind, field, index
            rows = self._rows.get(number)
            if rows:
                yield number, "rows", b"cache", rows


def _ensure(by_db: dict, kind: type, db: Database, field: bytes) -> FieldIndex | NumericIndex:
    """The index of type ``kind`` on ``field`` in ``by_db``, built with one pass if missing."""
    fields = by_db.setdefault(db.index, {})
    index = fields.get(field)
    if index is None:
        index = fields[field] = kind()
        index.fill(
            (key, found)
            for key, value in db.data.items()
            if type(value) is dict and (found := value.get(field)) is not None
        )
    return index
