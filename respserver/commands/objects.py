"""OBJECT and MEMORY: what the server holds for a key, and how much memory it takes.
https://redis.io/docs/latest/commands/object-encoding/ and memory-usage/

OBJECT ENCODING names the encoding Redis 7.0 would use for the value's current contents
(keyspace/encodings.py: Redis converts one way only and keeps a string ``raw`` after APPEND or
SETRANGE, which values here do not remember). OBJECT FREQ and IDLETIME read the access stamps
eviction keeps (security/eviction.py), which exist only while maxmemory is set with an LRU or
LFU policy: otherwise FREQ reports a new key's counter (5) and IDLETIME 0, where Redis times
every key's accesses whatever the policy. MEMORY USAGE is eviction's estimate of the key's
size, not Redis's allocation; it measures every element, so SAMPLES is checked and otherwise
ignored. OBJECT's lookups stamp no access; MEMORY USAGE's, as Redis's dictFind, does not even
expire the key.
"""

from __future__ import annotations

from respserver.commands.server import help_reply
from respserver.core.state import Client
from respserver.errors import LFU_NOT_SELECTED, LFU_SELECTED, SYNTAX, CommandError
from respserver.keyspace.database import Database, Value
from respserver.keyspace.encodings import Thresholds, encoding, shared_integer
from respserver.numbers import to_int
from respserver.registry import command, container
from respserver.resp.types import OK, SimpleString, Verbatim
from respserver.security.eviction import BASELINE, LFU_INIT, lfu_counter, value_size

SHARED_REFCOUNT = 2**31 - 1  # OBJ_SHARED_REFCOUNT: what REFCOUNT shows for a shared object
EMPTY_INSTANCE = 5 << 20  # below this used memory, MEMORY DOCTOR declines to diagnose


def _lookup(ctx: Client, key: bytes) -> Value | None:
    """The live value of ``key`` without stamping an access (Redis's LOOKUP_NOTOUCH): the
    class's ``get``, not the stamping one an eviction policy puts on the instance."""
    return Database.get(ctx.db, key)


def _lfu_policy(ctx: Client) -> bool:
    return ctx.server.config.maxmemory_policy.endswith("-lfu")


def _stamp(ctx: Client, key: bytes) -> int | None:
    """The key's access stamp, if eviction keeps one (maxmemory set, an LRU or LFU policy)."""
    memory = ctx.server.memory
    if memory.tables is None or not memory.stamping:
        return None
    if memory.stale:
        memory.used_memory()  # measures (and stamps) the keys of databases not yet measured
    table = memory.tables[ctx.db.index]
    slot = table.slot.get(key)
    return None if slot is None else table.access[slot]


# --- OBJECT --------------------------------------------------------------------------------------

container(
    "object",
    arity=-2,
    group="generic",
    since="2.2.3",
    summary="A container for object introspection commands",
)
_OBJECT = {
    "arity": 3,
    "flags": "readonly",
    "keys": (2, 2, 1),
    "key_flags": "RO",
    "group": "generic",
    "complexity": "O(1)",
    "tips": "nondeterministic_output",
}


@command(
    "object|encoding",
    "key",
    since="2.2.3",
    summary="Inspect the internal encoding of a Redis object",
    **_OBJECT,
)
def object_encoding(ctx: Client, key: bytes) -> bytes | None:
    value = _lookup(ctx, key)
    if value is None:
        return None
    config = ctx.server.config
    limits = Thresholds(
        config.hash_max_listpack_entries,
        config.hash_max_listpack_value,
        config.set_max_intset_entries,
    )
    return encoding(value, limits)


@command(
    "object|freq",
    "key",
    since="4.0.0",
    summary="Get the logarithmic access frequency counter of a Redis object",
    **_OBJECT,
)
def object_freq(ctx: Client, key: bytes) -> int | None:
    if _lookup(ctx, key) is None:
        return None
    if not _lfu_policy(ctx):
        raise CommandError(LFU_NOT_SELECTED)
    stamp = _stamp(ctx, key)
    if stamp is None:
        return LFU_INIT  # not tracked without maxmemory: a new key's counter
    memory = ctx.server.memory
    return lfu_counter(stamp, memory.minutes, memory.decay_time)


@command(
    "object|idletime",
    "key",
    since="2.2.3",
    summary="Get the time since a Redis object was last accessed",
    **_OBJECT,
)
def object_idletime(ctx: Client, key: bytes) -> int | None:
    if _lookup(ctx, key) is None:
        return None
    if _lfu_policy(ctx):
        raise CommandError(LFU_SELECTED)
    stamp = _stamp(ctx, key)
    if stamp is None:
        return 0  # access times are kept only under an LRU policy with maxmemory set
    return ctx.server.memory.idle_seconds(stamp)


@command(
    "object|refcount",
    "key",
    since="2.2.3",
    summary="Get the number of references to the value of the key",
    **_OBJECT,
)
def object_refcount(ctx: Client, key: bytes) -> int | None:
    value = _lookup(ctx, key)
    if value is None:
        return None
    server = ctx.server
    policy = server.config.maxmemory_policy
    # Redis stores 0..9999 as shared objects unless each value needs its own LRU/LFU field.
    private = server.maxmemory > 0 and policy.endswith(("-lru", "-lfu"))
    return SHARED_REFCOUNT if not private and shared_integer(value) else 1


@command(
    "object|help",
    arity=2,
    flags="loading stale",
    group="generic",
    since="6.2.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
)
def object_help(ctx: Client) -> list[SimpleString]:
    return help_reply(
        "OBJECT",
        (
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ),
    )


# --- MEMORY --------------------------------------------------------------------------------------

container(
    "memory",
    arity=-2,
    group="server",
    since="4.0.0",
    summary="A container for memory diagnostics commands",
)
_ALL_SHARDS = "nondeterministic_output request_policy:all_shards response_policy:special"


@command(
    "memory|usage",
    "key [SAMPLES count]",
    arity=-3,
    flags="readonly",
    keys=(2, 2, 1),
    key_flags="RO",
    group="server",
    since="4.0.0",
    summary="Estimate the memory usage of a key",
    complexity="O(N) where N is the number of samples.",
)
def memory_usage(ctx: Client, key: bytes, *options: bytes) -> int | None:
    """The key's estimated size in bytes, or None if there is no such key."""
    position = 0
    while position < len(options):
        if options[position].lower() != b"samples" or position + 1 == len(options):
            raise CommandError(SYNTAX)
        if to_int(options[position + 1]) < 0:
            raise CommandError(SYNTAX)
        position += 2
    db = ctx.db
    value = db.data.get(key)  # as Redis's dictFind: an expired key not yet removed counts
    if value is None:
        return None
    return value_size(key, value, key in db.expires)


@command(
    "memory|help",
    arity=2,
    flags="loading stale",
    group="server",
    since="4.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
)
def memory_help(ctx: Client) -> list[SimpleString]:
    return help_reply(
        "MEMORY",
        (
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ),
    )


@command(
    "memory|doctor",
    arity=2,
    group="server",
    since="4.0.0",
    summary="Outputs memory problems report",
    complexity="O(1)",
    tips=_ALL_SHARDS,
)
def memory_doctor(ctx: Client) -> Verbatim:
    """Redis's report, as far as respserver measures: an (almost) empty instance, or no issue
    (there is no allocator fragmentation or RSS overhead to diagnose)."""
    if ctx.server.memory.used_memory() < EMPTY_INSTANCE:
        return Verbatim(
            b"Hi Sam, this instance is empty or is using very little memory, my issues detector"
            b" can't be used in these conditions. Please, leave for your mission on Earth and"
            b" fill it with some data. The new Sam and I will be back to our programming as soon"
            b" as I finished rebooting.\n"
        )
    return Verbatim(
        b"Hi Sam, I can't find any memory issue in your instance. I can only account for what"
        b" occurs on this base.\n"
    )


@command(
    "memory|stats",
    arity=2,
    group="server",
    since="4.0.0",
    summary="Show memory usage details",
    complexity="O(1)",
    tips=_ALL_SHARDS,
)
def memory_stats(ctx: Client) -> dict[bytes, object]:
    """Redis's fields, from respserver's estimate: the allocator is taken to hold exactly
    what is used, so its ratios are 1 and the RSS is the process's."""
    server = ctx.server
    memory = server.memory
    used = memory.used_memory()
    peak = max(memory.peak, used)
    clients = server.client_buffers
    stats: dict[bytes, object] = {
        b"peak.allocated": peak,
        b"total.allocated": used,
        b"startup.allocated": BASELINE,
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": clients,
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
    }
    keys = 0
    for db in server.databases:
        if db.data:
            keys += len(db.data)
            stats[b"db.%d" % db.index] = {
                b"overhead.hashtable.main": 0,
                b"overhead.hashtable.expires": 0,
                b"overhead.hashtable.slot-to-keys": 0,
            }
    overhead = BASELINE + clients
    dataset = max(used - overhead, 0)
    net = used - BASELINE
    stats |= {
        b"overhead.total": overhead,
        b"keys.count": keys,
        b"keys.bytes-per-key": net // keys if keys else 0,
        b"dataset.bytes": dataset,
        b"dataset.percentage": 100.0 * dataset / net if net > 0 else 0.0,
        b"peak.percentage": 100.0 * used / peak,
        b"allocator.allocated": used,
        b"allocator.active": used,
        b"allocator.resident": used,
        b"allocator-fragmentation.ratio": 1.0,
        b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": 1.0,
        b"allocator-rss.bytes": 0,
        b"rss-overhead.ratio": 1.0,
        b"rss-overhead.bytes": 0,
        b"fragmentation": 1.0,
        b"fragmentation.bytes": 0,
    }
    return stats


@command(
    "memory|malloc-stats",
    arity=2,
    group="server",
    since="4.0.0",
    summary="Show allocator internal stats",
    complexity="Depends on how much memory is allocated, could be slow",
    tips=_ALL_SHARDS,
)
def memory_malloc_stats(ctx: Client) -> bytes:
    """What Redis built without jemalloc replies (INFO's mem_allocator is libc here)."""
    return b"Stats not supported for the current allocator"


@command(
    "memory|purge",
    arity=2,
    group="server",
    since="4.0.0",
    summary="Ask the allocator to release memory",
    complexity="Depends on how much memory is allocated, could be slow",
    tips="request_policy:all_shards response_policy:all_succeeded",
)
def memory_purge(ctx: Client) -> SimpleString:
    """Nothing to purge: Python's allocator returns memory on its own."""
    return OK
