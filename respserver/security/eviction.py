"""maxmemory: an estimate of the data set's size, and eviction past the limit (Redis's evict.c).

Measuring. Python cannot count its allocations as Redis's zmalloc does, and the process's
resident size does not fall when keys go, so ``used_memory`` is an estimate: a fixed
``BASELINE`` plus, for every key, the bytes of its name and value and CPython's per-object
and per-entry overheads (constants below, calibrated with tracemalloc on CPython 3.11). It is
kept per key while maxmemory is set: ``Memory`` is then a keyspace listener, so every write,
expiry and deletion updates it in O(1); with maxmemory 0 (the default) it is not registered
and costs nothing, and INFO measures by walking the keyspace instead.

A hash is changed in place, so re-measuring all its fields on every HSET would be O(fields).
A hash of BIG_HASH fields or more is measured exactly, then for its next len/8 changes its
size is extrapolated from its field count (the payload per field as measured), then measured
again: O(1) amortised per change; meanwhile values rewritten in place at another length go
unseen until the next measure. The clients' query and output buffers count too, as in Redis
(``server.client_buffers``, kept by the transport): unsent replies can push memory over.

Evicting. Before each command, the owner asks ``refuses`` (Redis's processCommand step): it
evicts as ``maxmemory-policy`` allows (performEvictions), then says whether the command must be
refused with OOM. While memory is under the limit that step would do nothing, so it is skipped
until a write takes memory over it: ``server.check_memory``, which sends commands through the
checked path, is set then (and on any change of configuration) and cleared once under.
Candidates are sampled ``maxmemory-samples`` per database into a pool of 16 kept across
calls, best last (evictionPoolPopulate); the access stamp is an LRU tick or Redis's LFU word
(16-bit minutes, 8-bit logarithmic counter), kept only under an LRU/LFU policy, when every
lookup stamps the key (``Database.track_access``). Evicted keys go through ``Database.delete``
and reach the AOF as DEL. Each call stops after the time ``maxmemory-eviction-tenacity``
allows; the cron then carries on, as Redis's evictionTimeProc.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import random
import time
from collections.abc import Callable
from typing import Protocol

from respserver.config import Config
from respserver.keyspace.database import Database, Listener, Value
from respserver.keyspace.events import EVICTED
from respserver.keyspace.lists import ListValue
from respserver.keyspace.sets import SetValue
from respserver.keyspace.streams import StreamValue
from respserver.keyspace.zsets import ZSetValue
from respserver.persistence.durability import Persistence

log = logging.getLogger("respserver")


# A fixed part, a little above an idle redis-server's used_memory (~0.9 MB): a maxmemory
# below it refuses every denyoom command, as there.
BASELINE = 1 << 20
# Per key: its name's bytes object and its entry in the keyspace dict.
KEY_COST = 81
STRING_COST = 41  # a string value's bytes object, beyond its length
HASH_COST = 120  # an empty hash's dict
FIELD_COST = 110  # per hash field: two bytes objects and a dict entry, beyond their lengths
LIST_COST = 800  # an empty list: its object and its deque's first block
ELEMENT_COST = 49  # per list element: a bytes object and its deque slot, beyond its length
SET_COST = 200  # an empty set: its SetValue, list and dict
MEMBER_COST = 105  # per set member: a bytes object, its list slot, dict entry and place int
ZSET_COST = 424  # an empty sorted set: its ZSetValue, dict and SortedList
# per sorted-set member: a bytes object, a float, a (score, member) tuple, a dict entry and a
# sorted-list slot, beyond its length
SCORED_MEMBER_COST = 174
STREAM_COST = 640  # an empty stream: its StreamValue, SortedDict and node list
# per stream entry: its ID tuple and ints, its list of fields and values and their bytes
# objects (two fields), its sorted-dict entry and its node's ID slot, beyond their lengths
STREAM_ENTRY_COST = 400
EXPIRE_COST = 72  # an entry in the expires dict and its int
# While maxmemory is set, each key also costs its eviction bookkeeping (KeyTable's slot,
# array entries, size and stamp), more with a TTL; counted too, as it is memory the data uses.
BOOKKEEPING = 85
VOLATILE_BOOKKEEPING = 60

BIG_HASH = 16  # fields from which a hash's size is extrapolated between measures
POOL_SIZE = 16  # Redis's EVPOOL_SIZE
LFU_INIT = 5  # the counter a new key starts with (LFU_INIT_VAL)
CRON_BUDGET = 0.025  # seconds of eviction per cron tick once a command's own budget ran out
# LRU stamps are ticks, timed by marks the cron sets a second apart (OBJECT IDLETIME); past
# this many, the older half is thinned to every other mark.
CLOCK_MARKS = 1 << 16

OK, RUNNING, FAIL = range(3)  # performEvictions' EVICT_OK, EVICT_RUNNING, EVICT_FAIL

_LRU = frozenset(("allkeys-lru", "volatile-lru"))
_LFU = frozenset(("allkeys-lfu", "volatile-lfu"))
_RANDOM = frozenset(("allkeys-random", "volatile-random"))
# In MULTI every command is refused when out of memory (queuing takes memory) but these.
_ALLOWED_IN_MULTI = frozenset(("exec", "discard", "quit", "reset"))


def hash_payload(value: dict[bytes, bytes]) -> int:
    """The bytes of a hash's fields and values: the O(fields) part of its size."""
    if len(value) >= BIG_HASH:
        return sum(map(len, value)) + sum(map(len, value.values()))
    payload = 0  # a plain loop: twice as fast as the map/sum pair on a few fields
    for field, item in value.items():
        payload += len(field) + len(item)
    return payload


def shallow_size(key: bytes, value: Value) -> int:
    """A key's estimated size but for its value's bytes (a hash's fields and values): O(1)."""
    kind = type(value)
    if kind is bytes:
        return KEY_COST + STRING_COST + len(key)
    if kind is ListValue:
        return KEY_COST + LIST_COST + len(key) + len(value) * ELEMENT_COST
    if kind is SetValue:
        return KEY_COST + SET_COST + len(key) + len(value) * MEMBER_COST
    if kind is ZSetValue:
        return KEY_COST + ZSET_COST + len(key) + len(value) * SCORED_MEMBER_COST
    if kind is StreamValue:
        return KEY_COST + STREAM_COST + len(key) + len(value) * STREAM_ENTRY_COST
    return KEY_COST + HASH_COST + len(key) + len(value) * FIELD_COST


def payload(value: Value) -> int:
    """The bytes a value holds (a string's, a hash's fields and values, a list's elements,
    a set's or sorted set's members)."""
    kind = type(value)
    if kind is bytes:
        return len(value)
    if kind is ListValue or kind is SetValue or kind is ZSetValue or kind is StreamValue:
        return value.payload()
    return hash_payload(value)


def value_size(key: bytes, value: Value, volatile: bool) -> int:
    """A key's estimated size, measured in full."""
    return shallow_size(key, value) + payload(value) + (EXPIRE_COST if volatile else 0)


def database_size(db: Database) -> int:
    expires = db.expires
    return sum(value_size(key, value, key in expires) for key, value in db.data.items())


def time_limit_ns(tenacity: int) -> float:
    """Redis's evictionTimeLimitUs: 50us per step up to 10, then 15% more per step, no limit
    at 100."""
    if tenacity <= 10:
        return 50_000 * tenacity
    if tenacity < 100:
        return 500_000 * 1.15 ** (tenacity - 10)
    return float("inf")


def lfu_counter(stamp: int, minutes: int, decay_time: int) -> int:
    """LFUDecrAndReturn: the counter less one per ``decay_time`` minutes since its stamp."""
    counter = stamp & 255
    if decay_time:
        last = stamp >> 8
        elapsed = minutes - last if minutes >= last else 65535 - last + minutes
        counter = max(counter - elapsed // decay_time, 0)
    return counter


def _swap_remove(slot: dict[bytes, int], key: bytes, *arrays: list) -> None:
    """Drop ``key`` (if there) from arrays indexed by ``slot``: the last element moves into
    its place."""
    i = slot.pop(key, None)
    if i is None:
        return
    last = len(arrays[0]) - 1
    if i != last:
        for array in arrays:
            array[i] = array[last]
        slot[arrays[0][i]] = i
    for array in arrays:
        array.pop()


class KeyTable:
    """One database's keys as eviction sees them. Sampling needs random access, which a dict
    lacks, so keys sit in arrays indexed by ``slot[key]``: the key, its estimated size and its
    access stamp; keys with a TTL also in ``volatile`` (indexed by ``vslot``). The containers
    are cleared in place, never replaced: access trackers hold on to them."""

    __slots__ = ("slot", "keys", "sizes", "access", "vslot", "volatile", "hashes", "used")

    def __init__(self) -> None:
        self.slot: dict[bytes, int] = {}
        self.keys: list[bytes] = []
        self.sizes: list[int] = []
        self.access: list[int] = []
        self.vslot: dict[bytes, int] = {}
        self.volatile: list[bytes] = []
        # hash key -> [id of the dict, payload bytes, fields when measured, changes to go]
        self.hashes: dict[bytes, list[int]] = {}
        self.used = 0

    def clear(self) -> None:
        containers = (self.slot, self.keys, self.sizes, self.access, self.vslot, self.volatile)
        for container in (*containers, self.hashes):
            container.clear()
        self.used = 0

    def add(self, key: bytes, size: int, stamp: int) -> None:
        self.slot[key] = len(self.keys)
        self.keys.append(key)
        self.sizes.append(size)
        self.access.append(stamp)
        self.used += size

    def remove(self, key: bytes) -> int:
        """Forget ``key``; return the size it had."""
        i = self.slot.get(key)
        if i is None:
            return 0
        size = self.sizes[i]
        _swap_remove(self.slot, key, self.keys, self.sizes, self.access)
        self.set_volatile(key, False)
        if self.hashes:
            self.hashes.pop(key, None)
        self.used -= size
        return size

    def set_volatile(self, key: bytes, volatile: bool) -> None:
        if not volatile:
            _swap_remove(self.vslot, key, self.volatile)
        elif key not in self.vslot:
            self.vslot[key] = len(self.volatile)
            self.volatile.append(key)

    def big_hash_payload(self, key: bytes, value: dict[bytes, bytes]) -> tuple[int, int]:
        """A big hash's payload bytes: measured, or extrapolated from its field count while
        the last measure has changes to go; also the fields measured now (0 if extrapolated)."""
        state = self.hashes.get(key)
        fields = len(value)
        if state is None or state[0] != id(value) or state[3] <= 0:
            payload = hash_payload(value)
            self.hashes[key] = [id(value), payload, fields, fields >> 3]
            return payload, fields
        state[3] -= 1
        return state[1] + (fields - state[2]) * state[1] // state[2], 0


class Host(Protocol):
    """What eviction needs of the server: its databases and their listeners (where ``Memory``
    registers while maxmemory is set), the limits, whether a data set is loading, the clients'
    buffers (which count as used memory), the flag sending commands through the memory check,
    and the log an eviction's DEL goes to."""

    config: Config
    databases: list[Database]
    listeners: list[Listener]
    maxmemory: int
    loading: bool
    client_buffers: int
    check_memory: bool
    persistence: Persistence


class Memory:
    """The server's memory estimate and its eviction state (Redis's evict.c globals)."""

    def __init__(self, server: Host) -> None:
        self.server = server
        self.tables: list[KeyTable] | None = None  # None while maxmemory is 0
        self._maxmemory: int | None = None  # as last configured (None: not yet)
        self.used = 0  # sum of the tables' sizes
        self.stale: set[int] = set()  # databases emptied or swapped: to measure again
        self.pool: list[tuple[int, int, bytes]] = []  # (score, database, key), best last
        self.policy = ""
        self.stamping = False  # accesses stamped: an LRU or LFU policy, maxmemory set
        self.lfu = False
        self.samples = 5
        self.time_limit = 0.0
        self.log_factor = 10
        self.decay_time = 1
        self.minutes = 0  # Redis's LFUGetTimeInMinutes, refreshed by the cron
        self._ticks = itertools.count(1)  # the LRU clock: a tick per access orders them all
        self.clock: list[tuple[int, float]] = []  # LRU: (tick, time.monotonic()) marks
        self._next_db = 0  # random policies visit the databases in turn
        self.running = False  # over the limit after a command's time budget: the cron goes on
        self.evicted = 0
        self.peak = BASELINE
        self.over_since: float | None = None  # when used memory last went over maxmemory
        self.over_total = 0.0  # seconds over maxmemory in periods that ended
        self.fields_measured = 0  # hash fields measured in full (for tests of the amortising)
        self._walked = (0.0, 0, 0.0)  # untracked: (when, bytes, seconds the walk took)

    # -- configuration --------------------------------------------------------------------------

    def configure(self) -> None:
        """Follow the maxmemory parameters (at start and after CONFIG SET): start or stop
        tracking, and stamp accesses only under an LRU or LFU policy. A maxmemory lowered
        below the memory in use starts evicting in the cron, as Redis's updateMaxmemory."""
        server, config = self.server, self.server.config
        self.samples = config.maxmemory_samples
        self.time_limit = time_limit_ns(config.maxmemory_eviction_tenacity)
        self.log_factor = config.lfu_log_factor
        self.decay_time = config.lfu_decay_time
        self.minutes = (int(time.time()) // 60) & 65535
        limited = server.maxmemory > 0
        if limited and self.tables is None:
            self.tables = [KeyTable() for _ in server.databases]
            self.stale.update(range(len(self.tables)))
            server.listeners.append(self)
        elif not limited and self.tables is not None:
            server.listeners.remove(self)
            self.tables, self.used, self.running = None, 0, False
            self.stale.clear()
            self._end_over()
        policy = config.maxmemory_policy
        stamping = limited and (policy in _LRU or policy in _LFU)
        if policy != self.policy or stamping != self.stamping:
            self.policy, self.stamping, self.lfu = policy, stamping, policy in _LFU
            self.pool.clear()
            if stamping and not self.lfu:
                self._mark_clock(force=True)  # before the fresh stamps: they are timed from now
            for table in self.tables or ():
                table.access[:] = [self.fresh_stamp()] * len(table.access)
            for index, db in enumerate(server.databases):
                db.track_access(self._toucher(self.tables[index]) if stamping else None)
        changed = self._maxmemory not in (None, server.maxmemory)
        self._maxmemory = server.maxmemory
        if changed and limited and (used := self.used_memory()) > server.maxmemory:
            log.warning(
                "WARNING: the new maxmemory value set via CONFIG SET (%d) is smaller than the "
                "current memory usage (%d). This will result in key eviction and/or the "
                "inability to accept new write commands depending on the maxmemory-policy.",
                server.maxmemory,
                used,
            )
            self.running = True  # startEvictionTimeProc: the cron starts evicting

    def fresh_stamp(self) -> int:
        """The access stamp of a key just created."""
        if self.policy in _LRU:
            return next(self._ticks)
        if self.policy in _LFU:
            return self.minutes << 8 | LFU_INIT
        return 0

    def _mark_clock(self, force: bool = False) -> None:
        """Mark the LRU clock's tick now, a second after the last mark (or at once)."""
        clock, now = self.clock, time.monotonic()
        if force or not clock or now - clock[-1][1] >= 1:
            clock.append((next(self._ticks), now))
            if len(clock) > CLOCK_MARKS:
                del clock[1 : CLOCK_MARKS // 2 : 2]  # the first mark stays

    def idle_seconds(self, stamp: int) -> int:
        """OBJECT IDLETIME under an LRU policy: the seconds since the last clock mark before
        the access ``stamp`` records (to the second, as Redis's LRU clock)."""
        before = bisect.bisect_left(self.clock, (stamp,)) - 1
        if before < 0:
            return 0
        return int(time.monotonic() - self.clock[before][1])

    def touched(self, stamp: int) -> int:
        """The access stamp after one more access (updateLFU for LFU)."""
        if not self.lfu:
            return next(self._ticks)
        minutes = self.minutes
        counter = stamp & 255
        if stamp >> 8 != minutes:
            counter = lfu_counter(stamp, minutes, self.decay_time)
        # LFULogIncr: incremented with probability 1 / ((counter - LFU_INIT) * factor + 1).
        if counter <= LFU_INIT or (
            counter < 255 and random.random() * ((counter - LFU_INIT) * self.log_factor + 1) < 1
        ):
            counter += 1
        return minutes << 8 | counter

    def _toucher(self, table: KeyTable) -> Callable[[bytes], None]:
        """What a lookup of a live key in ``table``'s database calls."""
        slot, access = table.slot, table.access
        if self.policy in _LRU:
            ticks = self._ticks

            def touch(key: bytes) -> None:
                i = slot.get(key)
                if i is not None:
                    access[i] = next(ticks)

        else:
            touched = self.touched

            def touch(key: bytes) -> None:
                i = slot.get(key)
                if i is not None:
                    access[i] = touched(access[i])

        return touch

    # -- the keyspace listener ------------------------------------------------------------------

    def key_changed(self, db: Database, key: bytes) -> None:
        """Re-measure ``key`` after a write (its removal included); a write is an access."""
        stale = self.stale
        if stale and db.index in stale:
            return  # measured in full before it is next needed
        table = self.tables[db.index]
        value = db.data.get(key)
        if value is None:
            self.used -= table.remove(key)
            return
        volatile = key in db.expires if db.expires else False
        if type(value) is dict and len(value) >= BIG_HASH:
            items_size, measured = table.big_hash_payload(key, value)
            self.fields_measured += measured
        else:
            items_size = payload(value)
            if table.hashes:
                table.hashes.pop(key, None)  # no longer a big hash
        size = shallow_size(key, value) + items_size + BOOKKEEPING
        if volatile:
            size += EXPIRE_COST + VOLATILE_BOOKKEEPING
        i = table.slot.get(key)
        if i is None:
            table.add(key, size, self.fresh_stamp())
            self.used += size
        else:
            delta = size - table.sizes[i]
            table.sizes[i] = size
            table.used += delta
            self.used += delta
            if self.stamping:
                table.access[i] = self.touched(table.access[i])
        if self._in_use() > self.server.maxmemory:
            self.server.check_memory = True  # the next command evicts, or is refused
        if volatile or table.volatile:
            table.set_volatile(key, volatile)

    def db_reset(self, db: Database) -> None:
        table = self.tables[db.index]
        self.used -= table.used
        table.clear()
        self.stale.add(db.index)  # the new contents (SWAPDB, a load) are measured when needed
        self.server.check_memory = True

    def _measure_stale(self) -> None:
        stale, self.stale = self.stale, set()
        for index in stale:  # its table is empty: key_changed adds every key
            db = self.server.databases[index]
            for key in db.data:
                self.key_changed(db, key)

    # -- reporting ------------------------------------------------------------------------------

    def used_memory(self) -> int:
        """INFO's used_memory. Untracked (maxmemory 0), a walk of the keyspace, repeated at
        most every hundred times the last walk's duration so INFO stays cheap."""
        if self.tables is not None:
            if self.stale:
                self._measure_stale()
            used = self._in_use()
        else:
            when, used, took = self._walked
            now = time.monotonic()
            if now - when > took * 100:
                used = BASELINE + sum(database_size(db) for db in self.server.databases)
                self._walked = (now, used, time.monotonic() - now)
            used += self.server.client_buffers
        self.peak = max(self.peak, used)
        return used

    def _in_use(self) -> int:
        """What maxmemory is checked against: the data set and the clients' buffers (Redis
        leaves out only replicas' and the AOF's buffers, which respserver has not)."""
        return BASELINE + self.used + self.server.client_buffers

    def exceeded_seconds(self) -> tuple[float, float]:
        """(total, current) time spent over maxmemory, as INFO's *_eviction_exceeded_time."""
        current = 0.0 if self.over_since is None else time.monotonic() - self.over_since
        return self.over_total + current, current

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT's part: evicted_keys and the time over the limit start again."""
        self.evicted = 0
        self.over_total = 0.0
        self.over_since = None

    def _end_over(self) -> None:
        if self.over_since is not None:
            self.over_total += time.monotonic() - self.over_since
            self.over_since = None

    # -- eviction -------------------------------------------------------------------------------

    def refuses(self, name: str, flags: tuple[str, ...], queued: set[str] | None) -> bool:
        """processCommand's maxmemory step for command ``name`` with ``flags``, ``queued`` the
        flags of what a transaction queued (None outside MULTI): evict as the policy allows,
        then whether the command must be refused with OOM (only if memory is still over and
        nothing is left to evict)."""
        if self.perform() != FAIL:
            return False
        if queued is not None and name not in _ALLOWED_IN_MULTI:
            return True
        if "denyoom" in flags:
            return True
        return name == "exec" and queued is not None and "denyoom" in queued

    def perform(self) -> int:
        """Redis's performEvictions: OK when under the limit (or loading), else evict until
        under it (OK), out of time (RUNNING: the cron goes on) or out of candidates (FAIL)."""
        server = self.server
        if server.loading:
            return OK
        if self.stale:
            self._measure_stale()
        if self._in_use() <= server.maxmemory:
            if self.over_since is not None:
                self._end_over()
            self.running = False
            server.check_memory = False  # until a write takes memory over again
            return OK
        if self.over_since is None:
            self.over_since = time.monotonic()
        if self.policy == "noeviction":
            return FAIL
        self.peak = max(self.peak, self._in_use())
        started = time.perf_counter_ns()
        volatile = self.policy.startswith("volatile-")
        # The databases holding candidates: evicting never adds any.
        candidates = [
            (db, table, table.volatile if volatile else table.keys)
            for db, table in zip(self.server.databases, self.tables, strict=True)
            if (table.volatile if volatile else table.keys)
        ]
        evicted = 0
        while self._in_use() > server.maxmemory:
            picked = self._pick(candidates, volatile)
            if picked is None:
                self.running = False
                return FAIL
            self._evict(*picked)
            evicted += 1
            if evicted % 16 == 0 and time.perf_counter_ns() - started > self.time_limit:
                self.running = True
                return RUNNING
        self._end_over()
        self.running = False
        server.check_memory = False
        return OK

    def _evict(self, db: Database, key: bytes) -> None:
        if db.delete(key, dirty=0):  # False: it had expired, and went as an expiry
            self.server.persistence.feed(db.index, [[b"DEL", key]])
            self.evicted += 1
            db.notify(EVICTED, b"evicted", key)

    def _pick(
        self, candidates: list[tuple[Database, KeyTable, list[bytes]]], volatile: bool
    ) -> tuple[Database, bytes] | None:
        """The next key to evict under the policy, or None if none is left."""
        if self.policy in _RANDOM:
            # One key from each database in turn (Redis's static next_db).
            for _ in range(len(candidates)):
                self._next_db = (self._next_db + 1) % len(candidates)
                db, _, keys = candidates[self._next_db]
                if keys:
                    return db, random.choice(keys)
            return None
        pool = self.pool
        while True:
            if not any(keys for _, _, keys in candidates):
                return None
            for db, table, keys in candidates:
                if keys:
                    self._populate(db, table, keys)
            while pool:
                _, index, key = pool.pop()
                db = self.server.databases[index]
                if key in (db.expires if volatile else db.data):
                    return db, key
                # a ghost: deleted since it was pooled; try the next best

    def _populate(self, db: Database, table: KeyTable, keys: list[bytes]) -> None:
        """evictionPoolPopulate: score a sample of ``keys`` (higher: evict sooner) and keep
        the best POOL_SIZE of pool and sample."""
        pool, policy, index, expires = self.pool, self.policy, db.index, db.expires
        # Like dictGetSomeKeys: all of a small database; else picks that may repeat a key
        # (its second pool entry is then a ghost).
        samples = keys[:] if len(keys) <= self.samples else random.choices(keys, k=self.samples)
        for key in samples:
            if policy == "volatile-ttl":
                score = -expires[key]
            elif policy in _LRU:
                score = -table.access[table.slot[key]]
            else:
                stamp = table.access[table.slot[key]]
                score = 255 - lfu_counter(stamp, self.minutes, self.decay_time)
            if len(pool) < POOL_SIZE:
                bisect.insort(pool, (score, index, key))
            elif score > pool[0][0]:
                bisect.insort(pool, (score, index, key))
                del pool[0]

    def cron(self) -> None:
        """Refresh the LFU minutes; carry on an eviction a command's time budget cut short."""
        self.minutes = (int(time.time()) // 60) & 65535
        if self.stamping and not self.lfu:
            self._mark_clock()
        if self.running:
            deadline = time.monotonic() + CRON_BUDGET
            while self.perform() == RUNNING and time.monotonic() < deadline:
                pass
