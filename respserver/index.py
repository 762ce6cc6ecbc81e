"""QUERY's equality indexes, kept current by the table owner as a keyspace ``Listener``.

Per database and per hash field: ``value -> keys whose hash has that value`` plus the reverse
``key -> value``, so a change moves a key out of its old bucket without knowing the old value.
An index is built by the first QUERY that needs it (one pass over the data) and then follows
every write through ``Database.modified``; ``db_reset`` (FLUSHDB, FLUSHALL, SWAPDB) drops a
database's indexes, to be rebuilt on demand. The planner treats an index as a superset hint:
keys that expired but are not yet reaped stay indexed until they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from respserver.keyspace import Database


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


class Indexes:
    """Every equality index, by database number then field; also counts how QUERY was served."""

    def __init__(self) -> None:
        self._by_db: dict[int, dict[bytes, FieldIndex]] = {}
        self.served = 0  # QUERYs whose candidates came from an index
        self.scanned = 0  # QUERYs that looked at every key
        self.examined = 0  # candidate keys handed to evaluation, over all QUERYs

    def key_changed(self, db: Database, key: bytes) -> None:
        fields = self._by_db.get(db.index)
        if not fields:
            return
        # db.data, not db.get: reading must not expire keys (and re-enter this listener).
        value = db.data.get(key)
        if type(value) is not dict:
            value = None
        for field, index in fields.items():
            index.update(key, None if value is None else value.get(field))

    def db_reset(self, db: Database) -> None:
        self._by_db.pop(db.index, None)

    def get(self, db: Database, field: bytes) -> FieldIndex | None:
        fields = self._by_db.get(db.index)
        return None if fields is None else fields.get(field)

    def ensure(self, db: Database, field: bytes) -> FieldIndex:
        """The index on ``field`` for ``db``, built now with one pass over the data if missing."""
        fields = self._by_db.setdefault(db.index, {})
        index = fields.get(field)
        if index is None:
            index = fields[field] = FieldIndex()
            for key, value in db.data.items():
                if type(value) is dict:
                    found = value.get(field)
                    if found is not None:
                        index.update(key, found)
        return index

    def fields(self, db: Database) -> tuple[bytes, ...]:
        """The fields indexed for ``db`` (for tests and INFO)."""
        return tuple(self._by_db.get(db.index, ()))
