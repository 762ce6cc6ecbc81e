"""Live queries (QWATCH): a QUERY's result set kept by the table owner, and a message on a
channel the client names each time a hash enters the set, leaves it, or changes while inside.

A live query is a QUERY's ``MATCH`` and ``WHERE`` clauses over one database, a channel, and
the set of keys that satisfy the clauses now (``members``). It follows every write as a
keyspace listener, without a scan: for each field some live query's clauses name, the owner
keeps each key's value (``_values``), so a write to a key finds which of those fields it
changed in one look per watched field; only the live queries naming a changed field, and those
that hold the key, are evaluated again, on that one hash. Of the live queries with an ``=`` or
``IN`` clause on a changed field, only those accepting the field's new value are: a key can
only enter one by taking such a value (and leaves through the live queries that hold it), so a
thousand live queries on a thousand statuses cost a status change two evaluations at most. A
``!=`` clause also holds for a hash without the field, so a hash created or removed concerns
the live queries with one (``_loose``): for their databases the owner keeps the set of hash
keys too. A write therefore costs
O(watched fields + live queries concerned), nothing while no live query exists (the listener
joins the databases with the first one).

A command's writes are looked at when it ends (a transaction's when EXEC ends: ``flush``, called
by the dispatcher and the owner), so a key rewritten in steps (DEL then HSET in MULTI, as
``respserver.storage`` puts an instance) is one change, not a leave and an enter.

What each command tells a live query's channel, as the message ``<event> <key>``:
``enter`` (the key satisfies the clauses now and did not before), ``leave`` (the reverse: a
field changed, the key was deleted, expired, evicted or flushed) or ``change`` (it satisfied
them before and still does; any write to the hash counts). Messages go out in the order of the
writes, through pub/sub (core/pubsub.py), to the channel's subscribers that may read the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from respserver.keyspace.database import Database
from respserver.query.engine import Condition, Query

ENTER, CHANGE, LEAVE = b"enter", b"change", b"leave"

# What a live query's message is handed to: (channel, message, key), delivered to the
# subscribers that may read the key.
Publish = Callable[[bytes, bytes, bytes], None]


class LiveQuery:
    """One QWATCH: its channel, database, clauses and the keys that satisfy them now."""

    __slots__ = ("channel", "db", "query", "fields", "members")

    def __init__(self, channel: bytes, db: int, query: Query, members: Iterable[bytes]) -> None:
        self.channel = channel
        self.db = db
        self.query = query
        # field -> the values its first = or IN clause accepts (None: no such clause on it)
        self.fields: dict[bytes, frozenset[bytes] | None] = {}
        for condition in query.conditions:
            if self.fields.get(condition.field) is None:
                self.fields[condition.field] = _accepted(condition)
        self.members: set[bytes] = set(members)

    def holds(self, key: bytes, fields: dict[bytes, bytes] | None) -> bool:
        """Whether the hash ``fields`` at ``key`` (None: no hash there) satisfies the clauses."""
        if fields is None:
            return False
        glob = self.query.glob
        if glob is not None and not glob.match(key):
            return False
        return all(condition.holds(fields) for condition in self.query.conditions)


class _Watchers:
    """The live queries of one database whose clauses name one field: those with an ``=`` or
    ``IN`` clause on it by each value it accepts, and the others (ranges, ``!=``)."""

    __slots__ = ("by_value", "others")

    def __init__(self) -> None:
        self.by_value: dict[bytes, dict[LiveQuery, None]] = {}
        self.others: dict[LiveQuery, None] = {}

    def add(self, live: LiveQuery, accepted: frozenset[bytes] | None) -> None:
        if accepted is None:
            self.others[live] = None
        for value in accepted or ():
            self.by_value.setdefault(value, {})[live] = None

    def remove(self, live: LiveQuery, accepted: frozenset[bytes] | None) -> None:
        self.others.pop(live, None)
        for value in accepted or ():
            queries = self.by_value[value]
            del queries[live]
            if not queries:
                del self.by_value[value]

    def __bool__(self) -> bool:
        return bool(self.by_value or self.others)

    def concerned(self, value: bytes | None) -> dict[LiveQuery, None]:
        """Those a key whose field now holds ``value`` (None: none) may have entered."""
        found = self.by_value.get(value) if value is not None else None
        if not found:
            return self.others
        return {**self.others, **found} if self.others else found


class LiveQueries:
    """Every live query, by channel; a keyspace listener while there is one."""

    def __init__(self, listeners: list, publish: Publish) -> None:
        self._listeners = listeners  # the databases' (shared): joined while a query lives
        self._publish = publish
        self.by_channel: dict[bytes, LiveQuery] = {}
        # database -> field -> the live queries whose clauses name it
        self._by_field: dict[int, dict[bytes, _Watchers]] = {}
        # database -> field -> key -> its value, for every watched field
        self._values: dict[int, dict[bytes, dict[bytes, bytes]]] = {}
        # database -> key -> the live queries it is a member of
        self._member_of: dict[int, dict[bytes, dict[LiveQuery, None]]] = {}
        # database -> the live queries with a ``!=`` clause, and its hash keys while any
        self._loose: dict[int, dict[LiveQuery, None]] = {}
        self._hashes: dict[int, set[bytes]] = {}
        # Keys written since the last ``flush``, in order.
        self.touched: dict[tuple[Database, bytes], None] = {}

    def __len__(self) -> int:
        return len(self.by_channel)

    def watch(self, db: Database, channel: bytes, query: Query, members: Iterable[bytes]) -> None:
        """Start (or replace) the live query on ``channel``; ``members`` satisfy it now."""
        self.unwatch(channel)
        live = LiveQuery(channel, db.index, query, members)
        if not self.by_channel:
            self._listeners.append(self)
        self.by_channel[channel] = live
        fields = self._by_field.setdefault(db.index, {})
        values = self._values.setdefault(db.index, {})
        for field, accepted in live.fields.items():
            if field not in fields:
                fields[field] = _Watchers()
                values[field] = _values_of(db, field)
            fields[field].add(live, accepted)
        holders = self._member_of.setdefault(db.index, {})
        for key in live.members:
            holders.setdefault(key, {})[live] = None
        if any(condition.op == b"!=" for condition in query.conditions):
            loose = self._loose.setdefault(db.index, {})
            if not loose:
                self._hashes[db.index] = _hashes_of(db)
            loose[live] = None

    def unwatch(self, channel: bytes) -> bool:
        """End the live query on ``channel`` (QUNWATCH, or its last subscriber gone)."""
        live = self.by_channel.pop(channel, None)
        if live is None:
            return False
        fields, values = self._by_field[live.db], self._values[live.db]
        for field, accepted in live.fields.items():
            fields[field].remove(live, accepted)
            if not fields[field]:
                del fields[field], values[field]
        holders = self._member_of[live.db]
        for key in live.members:
            del holders[key][live]
            if not holders[key]:
                del holders[key]
        loose = self._loose.get(live.db)
        if loose is not None and live in loose:
            del loose[live]
            if not loose:
                del self._loose[live.db], self._hashes[live.db]
        if not self.by_channel:
            self._listeners.remove(self)
        return True

    # -- the listener ------------------------------------------------------------------------

    def key_changed(self, db: Database, key: bytes) -> None:
        if db.index in self._by_field:
            self.touched[db, key] = None

    def flush(self) -> None:
        """Tell what the writes since the last call did to each live query's result set."""
        touched, self.touched = self.touched, {}
        for db, key in touched:
            self._look_at(db, key)

    def _look_at(self, db: Database, key: bytes) -> None:
        fields = self._by_field.get(db.index)
        if not fields:
            return
        # db.data, not db.get: reading must not expire keys (and re-enter this listener).
        value = db.data.get(key)
        found = value if type(value) is dict else None
        concerned = dict(self._member_of[db.index].get(key, {}))
        values = self._values[db.index]
        for field, watchers in fields.items():
            held = values[field]
            now = None if found is None else found.get(field)
            if held.get(key) != now:
                if now is None:
                    del held[key]
                else:
                    held[key] = now
                concerned.update(watchers.concerned(now))
        loose = self._loose.get(db.index)
        if loose:
            hashes = self._hashes[db.index]
            if (key in hashes) != (found is not None):  # created or gone: a != may hold now
                if found is None:
                    hashes.discard(key)
                else:
                    hashes.add(key)
                concerned.update(loose)
        for live in concerned:
            self._reconsider(live, key, found)

    def db_reset(self, db: Database) -> None:
        """FLUSHDB, FLUSHALL or SWAPDB: every live query of the database is measured again;
        keys that left or entered are told."""
        self.flush()  # the writes before it first
        fields = self._by_field.get(db.index)
        if not fields:
            return
        values = self._values[db.index]
        for field in fields:
            values[field] = _values_of(db, field)
        if self._loose.get(db.index):
            self._hashes[db.index] = _hashes_of(db)
        for live in [q for q in self.by_channel.values() if q.db == db.index]:
            now = {k for k, v in db.data.items() if type(v) is dict and live.holds(k, v)}
            for key in sorted(live.members - now):
                self._reconsider(live, key, None)
            for key in sorted(now - live.members):
                self._reconsider(live, key, db.data[key])

    def _reconsider(self, live: LiveQuery, key: bytes, fields: dict[bytes, bytes] | None) -> None:
        """Whether ``key`` (now holding ``fields``) satisfies ``live``, and what that tells."""
        was, now = key in live.members, live.holds(key, fields)
        if now and not was:
            live.members.add(key)
            self._member_of[live.db].setdefault(key, {})[live] = None
            event = ENTER
        elif was and not now:
            live.members.discard(key)
            holders = self._member_of[live.db]
            del holders[key][live]
            if not holders[key]:
                del holders[key]
            event = LEAVE
        elif was:
            event = CHANGE
        else:
            return
        self._publish(live.channel, event + b" " + key, key)


def _values_of(db: Database, field: bytes) -> dict[bytes, bytes]:
    """Every key's value of ``field`` in ``db`` (hashes that have it): one pass."""
    return {
        key: found
        for key, value in db.data.items()
        if type(value) is dict and (found := value.get(field)) is not None
    }


def _hashes_of(db: Database) -> set[bytes]:
    """The keys of ``db`` that hold hashes: one pass."""
    return {key for key, value in db.data.items() if type(value) is dict}


def _accepted(condition: Condition) -> frozenset[bytes] | None:
    """The values an ``=`` or ``IN`` clause accepts; None for the other operators."""
    if condition.op == b"=":
        return frozenset((condition.operand,))
    if condition.op == b"IN":
        return condition.operand
    return None
