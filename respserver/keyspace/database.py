"""The data: numbered databases of keys, each value a ``bytes`` (string), a ``dict`` (hash) or
a ``ListValue`` (list, keyspace/lists.py), a ``SetValue`` (set, keyspace/sets.py), a
``ZSetValue`` (sorted set, keyspace/zsets.py) or a ``StreamValue`` (stream, keyspace/streams.py).

Every change to a key goes through ``Database.modified(key)`` (or ``reset()`` for a whole
database): that one call invalidates WATCHes and tells listeners (QUERY's indexes, later the
persistence layer). Handlers mutate values in place and then call it; nothing else writes.
No Trio and no wire text here: errors are raised as CommandError with Redis's wording.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from respserver.errors import WRONGTYPE, CommandError
from respserver.keyspace.events import EXPIRED, KEY_MISS, NEW
from respserver.keyspace.lists import ListValue
from respserver.keyspace.scan import ScanIndex
from respserver.keyspace.sets import SetValue
from respserver.keyspace.streams import StreamValue
from respserver.keyspace.zsets import ZSetValue

Value = bytes | dict | ListValue | SetValue | ZSetValue | StreamValue

TYPE_NAMES: dict[type, bytes] = {
    bytes: b"string",
    dict: b"hash",
    ListValue: b"list",
    SetValue: b"set",
    ZSetValue: b"zset",
    StreamValue: b"stream",
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Listener(Protocol):
    """Something kept consistent with the data (an index, a log): told of every change."""

    def key_changed(self, db: Database, key: bytes) -> None: ...

    def db_reset(self, db: Database) -> None: ...


class Changes:
    """Redis's server.dirty: the changes since the last save, shared by every database. Each
    write through a database's API adds what it declares (``dirty``, 1 unless the caller says
    otherwise); the dispatcher feeds a command to the AOF when this count moved."""

    __slots__ = ("dirty", "ready", "events", "emit", "misses", "flushes")

    def __init__(self) -> None:
        self.dirty = 0
        # Keys a client blocks on that a write stored a value at since the blocked clients were
        # last offered theirs (Redis's server.ready_keys): (database, key), in order.
        self.ready: dict[tuple[Database, bytes], None] = {}
        # The keyspace event classes notify-keyspace-events selects (keyspace/events.py), and
        # what publishes one: emit(database number, event, key). Set by the server.
        self.events = 0
        self.emit: Callable[[int, bytes, bytes], None] = lambda db, event, key: None
        # Whether a lookup that finds no key is a "keymiss" event: during a read-only command
        # while class m is selected (Redis's lookupKeyRead notifies; its writes' lookups do not).
        self.misses = False
        # How many times a database was emptied whole (FLUSHDB, FLUSHALL: one per database):
        # client-side caches are then told that every key changed (core/tracking.py).
        self.flushes = 0


class Watcher(Protocol):
    """A session that WATCHes keys: a change to one of them fails its EXEC."""

    dirty_cas: bool


class Database:
    """One numbered keyspace. Expired keys are removed lazily on access and by ``expire_cycle``."""

    def __init__(
        self,
        index: int,
        listeners: list[Listener],
        on_expire: Callable[[Database, bytes], None] = lambda db, key: None,
        changes: Changes | None = None,
    ) -> None:
        self.index = index
        self.changes = Changes() if changes is None else changes
        self.data: dict[bytes, Value] = {}
        self.expires: dict[bytes, int] = {}  # key -> absolute unix time in ms
        self.watchers: dict[bytes, set[Watcher]] = {}
        # Clients blocked on a key (BLPOP...), first come first: Redis's db->blocking_keys.
        self.blocking: dict[bytes, dict[object, None]] = {}
        self.listeners = listeners
        # Told of a key removed because its time ran out, before the removal's key_changed:
        # the AOF logs it as a DEL. Apart from the listeners, which every write calls.
        self.on_expire = on_expire
        self.expired_count = 0
        # While a data set loads, nothing expires: a replayed log must see the keys its
        # commands saw (Redis does the same); keys past their time go once loading ends.
        self.frozen = False
        self._scan: list[bytes] = []
        self._scan_pos = 0
        self._scan_index: ScanIndex | None = None  # built by the first SCAN, then kept current

    def __len__(self) -> int:
        return len(self.data)

    # -- reading -----------------------------------------------------------------------------

    def get(self, key: bytes) -> Value | None:
        """The live value of ``key``, or None; an expired key is deleted on the way."""
        value = self.data.get(key)
        if value is None:
            if self.changes.misses:
                self.notify(KEY_MISS, b"keymiss", key)
            return None
        if self.expires and key in self.expires and not self.frozen:
            if self.expires[key] <= now_ms():
                self._expire(key)
                if self.changes.misses:
                    self.notify(KEY_MISS, b"keymiss", key)
                return None
        return value

    def track_access(self, touch: Callable[[bytes], None] | None) -> None:
        """Have every lookup of a live key call ``touch(key)`` (an eviction policy's access
        stamp), or stop with None. The stamping lookup is set on the instance, in front of
        ``get``, so without an LRU/LFU policy a lookup costs nothing extra."""
        if touch is None:
            self.__dict__.pop("get", None)
            return
        lookup = Database.get.__get__(self)

        def get(key: bytes) -> Value | None:
            value = lookup(key)
            if value is not None:
                touch(key)
            return value

        self.get = get  # type: ignore[method-assign]

    @property
    def stamps_access(self) -> bool:
        """Whether lookups stamp keys for an eviction policy (``track_access``)."""
        return "get" in self.__dict__

    def get_string(self, key: bytes) -> bytes | None:
        """The string at ``key``, or None. Raises WRONGTYPE if it holds another type."""
        value = self.get(key)
        if value is not None and type(value) is not bytes:
            raise CommandError(WRONGTYPE)
        return value

    def get_hash(self, key: bytes) -> dict[bytes, bytes] | None:
        """The hash at ``key``, or None. Raises WRONGTYPE if it holds another type."""
        value = self.get(key)
        if value is not None and type(value) is not dict:
            raise CommandError(WRONGTYPE)
        return value

    def hash_for_write(self, key: bytes) -> dict[bytes, bytes]:
        """The hash at ``key``, created empty (not yet stored) if missing. Raises WRONGTYPE."""
        value = self.get_hash(key)
        return {} if value is None else value

    def get_list(self, key: bytes) -> ListValue | None:
        """The list at ``key``, or None. Raises WRONGTYPE if it holds another type."""
        value = self.get(key)
        if value is not None and type(value) is not ListValue:
            raise CommandError(WRONGTYPE)
        return value

    def list_for_write(self, key: bytes) -> ListValue:
        """The list at ``key``, created empty (not yet stored) if missing. Raises WRONGTYPE."""
        value = self.get_list(key)
        return ListValue() if value is None else value

    def get_set(self, key: bytes) -> SetValue | None:
        """The set at ``key``, or None. Raises WRONGTYPE if it holds another type."""
        value = self.get(key)
        if value is not None and type(value) is not SetValue:
            raise CommandError(WRONGTYPE)
        return value

    def set_for_write(self, key: bytes) -> SetValue:
        """The set at ``key``, created empty (not yet stored) if missing. Raises WRONGTYPE."""
        value = self.get_set(key)
        return SetValue() if value is None else value

    def get_zset(self, key: bytes) -> ZSetValue | None:
        """The sorted set at ``key``, or None. Raises WRONGTYPE if it holds another type."""
        value = self.get(key)
        if value is not None and type(value) is not ZSetValue:
            raise CommandError(WRONGTYPE)
        return value

    def zset_for_write(self, key: bytes) -> ZSetValue:
        """The sorted set at ``key``, created empty (not yet stored) if missing. Raises
        WRONGTYPE."""
        value = self.get_zset(key)
        return ZSetValue() if value is None else value

    def get_stream(self, key: bytes) -> StreamValue | None:
        """The stream at ``key``, or None. Raises WRONGTYPE if it holds another type."""
        value = self.get(key)
        if value is not None and type(value) is not StreamValue:
            raise CommandError(WRONGTYPE)
        return value

    def stream_for_write(self, key: bytes) -> StreamValue:
        """The stream at ``key``, created empty (not yet stored) if missing. Raises
        WRONGTYPE."""
        value = self.get_stream(key)
        return StreamValue() if value is None else value

    def exists(self, key: bytes) -> bool:
        return self.get(key) is not None

    def keys(self) -> Iterator[bytes]:
        """Live keys (a snapshot list, so callers may delete while iterating)."""
        now = -1 if self.frozen else now_ms()
        expires = self.expires
        return iter([k for k in self.data if k not in expires or expires[k] > now])

    def scan_index(self) -> ScanIndex:
        """SCAN's cursor index over the keys: built on first use, then kept current by
        ``store`` and ``_remove`` (``reset`` drops it, ``swap_with`` swaps it along)."""
        if self._scan_index is None:
            self._scan_index = ScanIndex(self.data)
        return self._scan_index

    def random_key(self) -> bytes | None:
        candidates = list(self.data)
        while candidates:
            key = random.choice(candidates)
            if self.get(key) is not None:
                return key
            candidates.remove(key)
        return None

    # -- time to live ------------------------------------------------------------------------

    def expire_at(self, key: bytes) -> int | None:
        """The absolute expiry in ms of a live key, or None if it has none."""
        return self.expires.get(key)

    def set_expire(self, key: bytes, when_ms: int, dirty: int = 1) -> bool:
        """Give a live key an absolute expiry; one already due deletes the key, as Redis does
        (then False)."""
        if when_ms <= now_ms() and not self.frozen:
            self.delete(key, dirty)
            return False
        self.expires[key] = when_ms
        self.modified(key, dirty)
        return True

    def persist(self, key: bytes, dirty: int = 1) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.modified(key, dirty)
        return True

    # -- writing -----------------------------------------------------------------------------
    #
    # Every change goes through these, and each reaches ``modified``: the watchers, the
    # listeners (indexes, eviction) and the count of changes (``dirty``: what the write adds to
    # Redis's server.dirty, 1 by default; 0 for a second step of one change, as SET's expiry).

    def store(self, key: bytes, value: Value, keep_ttl: bool = False, dirty: int = 1) -> None:
        """Put ``value`` at ``key`` (replacing any type); the TTL is cleared unless ``keep_ttl``.
        A key not there before is a "new" event, as Redis's dbAdd tells; one there but past its
        time is expired first, as Redis's write lookup expires it."""
        data = self.data
        if self.expires and key in self.expires and not self.frozen:
            if self.expires[key] <= now_ms() and key in data:
                self._expire(key)
        if key not in data:
            if self._scan_index is not None:
                self._scan_index.add(key)
            data[key] = value
            if self.changes.events & NEW:
                self.notify(NEW, b"new", key)
        else:
            data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        if self.blocking and key in self.blocking:
            self.changes.ready[(self, key)] = None  # signal_ready, inline: every store passes
        self.modified(key, dirty)

    def signal_ready(self, key: bytes) -> None:
        """Redis's signalKeyAsReady: a client blocked on ``key`` may now be served (after
        the command). ``store`` calls it; a write that adds to a value in place that waiters
        want (XADD) calls it itself."""
        if self.blocking and key in self.blocking:
            self.changes.ready[(self, key)] = None

    def delete(self, key: bytes, dirty: int = 1) -> bool:
        """Delete a key if present (live or not yet reaped); True if a live key was deleted."""
        if key not in self.data:
            return False
        live = self.get(key) is not None
        if live:
            self._remove(key, dirty)
        return live

    def modified(self, key: bytes, dirty: int = 1) -> None:
        """Redis's signalModifiedKey: the one call every write makes after changing ``key``
        (a value changed in place, as a hash, calls it itself)."""
        self.changes.dirty += dirty
        if self.watchers:
            for client in self.watchers.get(key, ()):
                client.dirty_cas = True
        for listener in self.listeners:
            listener.key_changed(self, key)

    def notify(self, kind: int, event: bytes, key: bytes) -> None:
        """Redis's notifyKeyspaceEvent: publish ``event`` of ``key`` if notify-keyspace-events
        selects its class (``kind``, keyspace/events.py)."""
        if self.changes.events & kind:
            self.changes.emit(self.index, event, key)

    def replace_contents(self, data: dict[bytes, Value], expires: dict[bytes, int]) -> None:
        """Take a loaded data set as this database's (start-up, before any client runs)."""
        self.reset()
        self.data, self.expires = data, expires

    def reset(self, dirty: int = 0) -> None:
        """Drop every key (FLUSHDB); counts a change per key, and ``dirty`` more."""
        self.changes.dirty += len(self.data) + dirty
        if self.watchers:
            for key, clients in self.watchers.items():
                if key in self.data:
                    for client in clients:
                        client.dirty_cas = True
        for key in self.blocking:
            if key in self.data:
                self.signal_ready(key)  # a stream flushed fails its XREADGROUP waiters
        self.data = {}
        self.expires = {}
        self._scan_index = None
        self.changes.flushes += 1
        for listener in self.listeners:
            listener.db_reset(self)

    def swap_with(self, other: Database, dirty: int = 1) -> None:
        """Exchange contents with ``other`` (SWAPDB); watchers stay with their database number.
        With itself: nothing changes, but it counts, as in Redis."""
        self.changes.dirty += dirty
        if other is self:
            return
        # An expired watched key swapped in counts as absent, as in Redis: reap those first
        # (reaping one marks its own database's watchers, as any deletion does).
        for key in {*self.watchers, *other.watchers}:
            self.get(key)
            other.get(key)
        for db in (self, other):
            for key, clients in db.watchers.items():
                if key in self.data or key in other.data:
                    for client in clients:
                        client.dirty_cas = True
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        self._scan_index, other._scan_index = other._scan_index, self._scan_index
        for db in (self, other):  # blocked clients stay with the number, as watchers do
            for key in db.blocking:
                if key in db.data:
                    self.changes.ready[(db, key)] = None
        for listener in self.listeners:
            listener.db_reset(self)
            listener.db_reset(other)

    def _expire(self, key: bytes) -> None:
        self.expired_count += 1
        self.on_expire(self, key)
        self._remove(key, 0)  # an expiry is no change of the dirty count, as in Redis
        self.notify(EXPIRED, b"expired", key)

    def _remove(self, key: bytes, dirty: int) -> None:
        del self.data[key]
        if self.blocking:
            self.signal_ready(key)  # Redis's signalDeletedKeyAsReady: XREADGROUP's waiters fail
        if self._scan_index is not None:
            self._scan_index.discard(key)
        if self.expires:
            self.expires.pop(key, None)
        self.modified(key, dirty)

    def expire_cycle(self, budget: int = 200) -> int:
        """Active expiry: check up to ``budget`` keys that have a TTL, resuming where the last
        cycle stopped, so every volatile key is visited in turn and the owner is never held long."""
        if not self.expires or self.frozen:
            return 0
        if self._scan_pos >= len(self._scan):
            self._scan, self._scan_pos = list(self.expires), 0
        now = now_ms()
        batch = self._scan[self._scan_pos : self._scan_pos + budget]
        self._scan_pos += len(batch)
        due = [k for k in batch if self.expires.get(k, now + 1) <= now]
        for key in due:
            self._expire(key)
        return len(due)


def copy_value(value: Value) -> Value:
    """An independent copy (COPY): strings are immutable, the other types are not."""
    if type(value) is dict:
        return dict(value)
    if type(value) in (ListValue, SetValue, ZSetValue, StreamValue):
        return value.copy()
    return value


def type_name(value: Value) -> bytes:
    return TYPE_NAMES[type(value)]
