"""Generic (keyspace) commands. https://redis.io/docs/latest/commands/?group=generic

Keys are read through ``ctx.db`` (so expired keys vanish on access) and written only through
its ``store``/``delete``/``set_expire``/``persist``; each changed key counts in ``server.dirty``.
"""

from __future__ import annotations

from dataclasses import dataclass

from respserver.commands.strings import expire_key, invalid_expire
from respserver.core.state import Client
from respserver.errors import (
    DB_INDEX_OUT_OF_RANGE,
    GT_AND_LT,
    NO_SUCH_KEY,
    NX_AND_XX_GT_LT,
    SAME_OBJECT,
    SYNTAX,
    CommandError,
    out_of_range_between,
    unsupported_option,
)
from respserver.keyspace.database import Database, copy_value, now_ms, type_name
from respserver.keyspace.events import GENERIC
from respserver.keyspace.glob import Glob, compile_glob
from respserver.keyspace.scan import parse_cursor
from respserver.numbers import INT64_MAX, INT64_MIN, to_int
from respserver.registry import command
from respserver.resp.types import OK, SimpleString

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
NOT_INT32 = out_of_range_between(INT32_MIN, INT32_MAX)
# EXPIRE's seconds must survive the conversion to ms (C division truncates toward zero).
_MAX_SECONDS, _MIN_SECONDS = INT64_MAX // 1000, -(-INT64_MIN // 1000)


def _live_count(db: Database, keys: tuple[bytes, ...]) -> int:
    exists = db.exists
    return sum(1 for key in keys if exists(key))


@command(
    "del",
    "key [key ...]",
    arity=-2,
    flags="write",
    keys=(1, -1, 1),
    key_flags="RM delete",
    group="generic",
    since="1.0.0",
    summary="Delete a key",
    complexity="O(N) where N is the number of keys that will be removed. When a key to "
    "remove holds a value other than a string, the individual complexity for this key is "
    "O(M) where M is the number of elements in the list, set, sorted set or hash. Removing "
    "a single key that holds a string value is O(1).",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def del_(ctx: Client, *keys: bytes) -> int:
    """Delete keys; reply with how many existed."""
    db = ctx.db
    deleted = 0
    for key in keys:
        if db.delete(key):
            db.notify(GENERIC, b"del", key)
            deleted += 1
    return deleted


@command(
    "unlink",
    "key [key ...]",
    arity=-2,
    flags="write fast",
    keys=(1, -1, 1),
    key_flags="RM delete",
    group="generic",
    since="4.0.0",
    summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
    "but non blocking.",
    complexity="O(1) for each key removed regardless of its size. Then the command does "
    "O(N) work in a different thread in order to reclaim memory, where N is the number of "
    "allocations the deleted objects where composed of.",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def unlink(ctx: Client, *keys: bytes) -> int:
    """DEL (memory is reclaimed by Python either way)."""
    return del_(ctx, *keys)


@command(
    "exists",
    "key [key ...]",
    arity=-2,
    flags="readonly fast",
    keys=(1, -1, 1),
    key_flags="RO",
    group="generic",
    since="1.0.0",
    summary="Determine if a key exists",
    complexity="O(N) where N is the number of keys to check.",
    tips="request_policy:multi_shard response_policy:agg_sum",
    history=(("3.0.3", "Accepts multiple `key` arguments."),),
)
def exists(ctx: Client, *keys: bytes) -> int:
    """How many of ``keys`` exist (a key named twice counts twice)."""
    return _live_count(ctx.db, keys)


@command(
    "touch",
    "key [key ...]",
    arity=-2,
    flags="readonly fast",
    keys=(1, -1, 1),
    key_flags="RO",
    group="generic",
    since="3.2.1",
    summary="Alters the last access time of a key(s). Returns the number of existing keys "
    "specified.",
    complexity="O(N) where N is the number of keys that will be touched.",
    tips="request_policy:multi_shard response_policy:agg_sum",
)
def touch(ctx: Client, *keys: bytes) -> int:
    """Count the existing keys (there is no access time to update here)."""
    return _live_count(ctx.db, keys)


@command(
    "type",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="generic",
    since="1.0.0",
    summary="Determine the type stored at key",
)
def type_(ctx: Client, key: bytes) -> SimpleString:
    """The type name of the value at ``key``, or none."""
    value = ctx.db.get(key)
    return SimpleString(b"none" if value is None else type_name(value))


# --- KEYS and SCAN ------------------------------------------------------------------------------


def _pattern(pattern: bytes) -> Glob | None:
    """The compiled MATCH pattern; None for "*", which Redis skips (so it matches "" too)."""
    return None if pattern == b"*" else compile_glob(pattern)


@command(
    "keys",
    "pattern",
    arity=2,
    flags="readonly",
    categories="keyspace dangerous",
    group="generic",
    since="1.0.0",
    summary="Find all keys matching the given pattern",
    complexity="O(N) with N being the number of keys in the database, under the assumption "
    "that the key names in the database and the given pattern have limited length.",
    tips="request_policy:all_shards nondeterministic_output_order",
)
def keys(ctx: Client, pattern: bytes) -> list[bytes]:
    """Every live key matching the glob ``pattern``."""
    glob = _pattern(pattern)
    live = ctx.db.keys()
    return list(live) if glob is None else [key for key in live if glob.match(key)]


@dataclass(slots=True)
class ScanOptions:
    count: int = 10
    glob: Glob | None = None
    type: bytes | None = None  # lowercase type name


def parse_scan_options(args: tuple[bytes, ...], allow_type: bool) -> ScanOptions:
    """SCAN/HSCAN's [MATCH pattern] [COUNT count] [TYPE type] (TYPE for SCAN only), any order,
    the last of a repeated option winning; COUNT below 1 is a syntax error."""
    opts = ScanOptions()
    for i in range(0, len(args), 2):
        name = args[i].lower()
        if i + 1 >= len(args):
            raise CommandError(SYNTAX)
        value = args[i + 1]
        if name == b"count":
            opts.count = to_int(value)
            if opts.count < 1:
                raise CommandError(SYNTAX)
        elif name == b"match":
            opts.glob = _pattern(value)
        elif name == b"type" and allow_type:
            opts.type = value.lower()
        else:
            raise CommandError(SYNTAX)
    return opts


@command(
    "scan",
    "cursor [MATCH pattern] [COUNT count] [TYPE type]",
    arity=-2,
    flags="readonly",
    group="generic",
    since="2.8.0",
    summary="Incrementally iterate the keys space",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough "
    "command calls for the cursor to return back to 0. N is the number of elements inside "
    "the collection.",
    tips="nondeterministic_output request_policy:special",
    history=(("6.0.0", "Added the `TYPE` subcommand."),),
)
def scan(ctx: Client, cursor: bytes, *options: bytes) -> list[object]:
    """One step of a key iteration: the next cursor (0 at the end) and some keys."""
    position = parse_cursor(cursor)
    opts = parse_scan_options(options, allow_type=True)
    db = ctx.db
    position, found = db.scan_index().scan(position, opts.count)
    if opts.glob is not None:
        found = [key for key in found if opts.glob.match(key)]
    result = []
    for key in found:
        value = db.get(key)  # drops expired keys, as Redis's SCAN does
        if value is not None and (opts.type is None or type_name(value) == opts.type):
            result.append(key)
    return [b"%d" % position, result]


# --- renaming, moving and copying ---------------------------------------------------------------


def _transfer(ctx: Client, value: object, src_key: bytes, dst: Database, dst_key: bytes) -> None:
    """Store ``value`` at ``dst_key`` of ``dst`` with the TTL ``src_key`` has (Redis keeps it),
    as a new key: a value there before is deleted first, as Redis's dbDelete + dbAdd do."""
    when = ctx.db.expire_at(src_key)
    dst.delete(dst_key, dirty=0)
    dst.store(dst_key, value)
    if when is not None:
        dst.set_expire(dst_key, when, dirty=0)  # one change, as Redis counts it


def _rename(ctx: Client, key: bytes, newkey: bytes, nx: bool) -> bool:
    value = ctx.db.get(key)
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    if key == newkey or (nx and ctx.db.exists(newkey)):
        return False
    _transfer(ctx, value, key, ctx.db, newkey)
    ctx.db.delete(key, dirty=0)  # the same change
    ctx.db.notify(GENERIC, b"rename_from", key)
    ctx.db.notify(GENERIC, b"rename_to", newkey)
    return True


@command(
    "rename",
    "key newkey",
    arity=3,
    flags="write",
    keys=(1, 2, 1),
    key_flags="RW access delete | OW update",
    group="generic",
    since="1.0.0",
    summary="Rename a key",
)
def rename(ctx: Client, key: bytes, newkey: bytes) -> SimpleString:
    """Rename a key (overwriting ``newkey``), keeping its TTL."""
    _rename(ctx, key, newkey, nx=False)
    return OK


@command(
    "renamenx",
    "key newkey",
    arity=3,
    flags="write fast",
    keys=(1, 2, 1),
    key_flags="RW access delete | OW insert",
    group="generic",
    since="1.0.0",
    summary="Rename a key, only if the new key does not exist",
    history=(
        (
            "3.2.0",
            "The command no longer returns an error when source and "
            "destination names are the same.",
        ),
    ),
)
def renamenx(ctx: Client, key: bytes, newkey: bytes) -> int:
    """Rename a key if ``newkey`` does not exist: 1 if renamed, else 0."""
    return int(_rename(ctx, key, newkey, nx=True))


def _database(ctx: Client, raw: bytes) -> Database:
    """The database numbered ``raw``, read as Redis's getIntFromObjectOrReply + selectDb."""
    index = to_int(raw)
    if not INT32_MIN <= index <= INT32_MAX:
        raise CommandError(NOT_INT32)
    if not 0 <= index < len(ctx.server.databases):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    return ctx.server.databases[index]


@command(
    "move",
    "key db",
    arity=3,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW access update",
    group="generic",
    since="1.0.0",
    summary="Move a key to another database",
)
def move(ctx: Client, key: bytes, db: bytes) -> int:
    """Move a key to database ``db`` unless it exists there: 1 if moved, else 0."""
    target = _database(ctx, db)
    if target is ctx.db:
        raise CommandError(SAME_OBJECT)
    value = ctx.db.get(key)
    if value is None or target.exists(key):
        return 0
    _transfer(ctx, value, key, target, key)
    ctx.db.delete(key, dirty=0)  # the same change
    ctx.db.notify(GENERIC, b"move_from", key)
    target.notify(GENERIC, b"move_to", key)
    return 1


@command(
    "copy",
    "source destination [DB destination-db] [REPLACE]",
    arity=-3,
    flags="write denyoom",
    keys=(1, 2, 1),
    key_flags="RO access | OW update",
    group="generic",
    since="6.2.0",
    summary="Copy a key",
    complexity="O(N) worst case for collections, where N is the number of nested items. "
    "O(1) for string values.",
)
def copy(ctx: Client, source: bytes, destination: bytes, *options: bytes) -> int:
    """Copy a value (and its TTL) to another key, maybe in another database: 1 if copied."""
    target, replace = ctx.db, False
    i = 0
    while i < len(options):
        option = options[i].lower()
        if option == b"replace":
            replace = True
        elif option == b"db" and i + 1 < len(options):
            target = _database(ctx, options[i + 1])
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    if target is ctx.db and source == destination:
        raise CommandError(SAME_OBJECT)
    value = ctx.db.get(source)
    if value is None or (target.exists(destination) and not replace):
        return 0
    duplicate = copy_value(value)  # hashes and lists are changed in place
    _transfer(ctx, duplicate, source, target, destination)
    target.notify(GENERIC, b"copy_to", destination)
    return 1


@command(
    "randomkey",
    arity=1,
    flags="readonly",
    group="generic",
    since="1.0.0",
    summary="Return a random key from the keyspace",
    tips="request_policy:all_shards nondeterministic_output",
)
def randomkey(ctx: Client) -> bytes | None:
    """A random live key, or nil if the database is empty."""
    return ctx.db.random_key()


# --- time to live -------------------------------------------------------------------------------

_EXPIRE_OPTIONS = (b"nx", b"xx", b"gt", b"lt")


def _expire_condition(options: tuple[bytes, ...]) -> set[bytes]:
    given = set()
    for option in options:
        name = option.lower()
        if name not in _EXPIRE_OPTIONS:
            shown = option.split(b"\0", 1)[0].decode("utf-8", "replace")  # printed with %s
            raise unsupported_option(shown)
        given.add(name)
    if b"nx" in given and len(given) > 1:
        raise CommandError(NX_AND_XX_GT_LT)
    if b"gt" in given and b"lt" in given:
        raise CommandError(GT_AND_LT)
    return given


def _expire(
    ctx: Client,
    key: bytes,
    raw: bytes,
    options: tuple[bytes, ...],
    seconds: bool,
    relative: bool,
    name: str,
) -> int:
    """The EXPIRE family: set an absolute expiry in ms under NX/XX/GT/LT; 1 if set. A time in
    the past deletes the key (and still replies 1)."""
    given = _expire_condition(options)
    when = to_int(raw)
    if seconds:
        if not _MIN_SECONDS <= when <= _MAX_SECONDS:
            raise invalid_expire(name)
        when *= 1000
    base = now_ms() if relative else 0
    if when > INT64_MAX - base:
        raise invalid_expire(name)
    when += base
    if not ctx.db.exists(key):
        return 0
    current = ctx.db.expire_at(key)
    if given and (
        (b"nx" in given and current is not None)
        or (b"xx" in given and current is None)
        or (b"gt" in given and (current is None or when <= current))
        or (b"lt" in given and current is not None and when >= current)
    ):
        return 0
    expire_key(ctx, key, when)
    return 1


_EXPIRE_META = dict(
    arity=-3,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="generic",
    history=(("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),),
)


@command(
    "expire",
    "key seconds [NX | XX | GT | LT]",
    since="1.0.0",
    summary="Set a key's time to live in seconds",
    **_EXPIRE_META,
)
def expire(ctx: Client, key: bytes, seconds: bytes, *options: bytes) -> int:
    """Expire a key in ``seconds``."""
    return _expire(ctx, key, seconds, options, True, True, "expire")


@command(
    "pexpire",
    "key milliseconds [NX | XX | GT | LT]",
    since="2.6.0",
    summary="Set a key's time to live in milliseconds",
    **_EXPIRE_META,
)
def pexpire(ctx: Client, key: bytes, milliseconds: bytes, *options: bytes) -> int:
    """Expire a key in ``milliseconds``."""
    return _expire(ctx, key, milliseconds, options, False, True, "pexpire")


@command(
    "expireat",
    "key unix-time-seconds [NX | XX | GT | LT]",
    since="1.2.0",
    summary="Set the expiration for a key as a UNIX timestamp",
    **_EXPIRE_META,
)
def expireat(ctx: Client, key: bytes, unix_time_seconds: bytes, *options: bytes) -> int:
    """Expire a key at a unix time in seconds."""
    return _expire(ctx, key, unix_time_seconds, options, True, False, "expireat")


@command(
    "pexpireat",
    "key unix-time-milliseconds [NX | XX | GT | LT]",
    since="2.6.0",
    summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds",
    **_EXPIRE_META,
)
def pexpireat(ctx: Client, key: bytes, unix_time_milliseconds: bytes, *options: bytes) -> int:
    """Expire a key at a unix time in milliseconds."""
    return _expire(ctx, key, unix_time_milliseconds, options, False, False, "pexpireat")


def _ttl(ctx: Client, key: bytes, milliseconds: bool, absolute: bool) -> int:
    """-2 for a missing key, -1 without expiry, else the remaining (or absolute) time; seconds
    are rounded to nearest as Redis rounds them."""
    if not ctx.db.exists(key):
        return -2
    when = ctx.db.expire_at(key)
    if when is None:
        return -1
    value = when if absolute else max(when - now_ms(), 0)
    return value if milliseconds else (value + 500) // 1000


_TTL_META = dict(
    arity=2, flags="readonly fast", keys=(1, 1, 1), key_flags="RO access", group="generic"
)


@command(
    "ttl",
    "key",
    since="1.0.0",
    summary="Get the time to live for a key in seconds",
    tips="nondeterministic_output",
    history=(("2.8.0", "Added the -2 reply."),),
    **_TTL_META,
)
def ttl(ctx: Client, key: bytes) -> int:
    """Seconds until ``key`` expires."""
    return _ttl(ctx, key, milliseconds=False, absolute=False)


@command(
    "pttl",
    "key",
    since="2.6.0",
    summary="Get the time to live for a key in milliseconds",
    tips="nondeterministic_output",
    history=(("2.8.0", "Added the -2 reply."),),
    **_TTL_META,
)
def pttl(ctx: Client, key: bytes) -> int:
    """Milliseconds until ``key`` expires."""
    return _ttl(ctx, key, milliseconds=True, absolute=False)


@command(
    "expiretime",
    "key",
    since="7.0.0",
    summary="Get the expiration Unix timestamp for a key",
    **_TTL_META,
)
def expiretime(ctx: Client, key: bytes) -> int:
    """The unix time (s) at which ``key`` expires."""
    return _ttl(ctx, key, milliseconds=False, absolute=True)


@command(
    "pexpiretime",
    "key",
    since="7.0.0",
    summary="Get the expiration Unix timestamp for a key in milliseconds",
    **_TTL_META,
)
def pexpiretime(ctx: Client, key: bytes) -> int:
    """The unix time (ms) at which ``key`` expires."""
    return _ttl(ctx, key, milliseconds=True, absolute=True)


@command(
    "persist",
    "key",
    arity=2,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="generic",
    since="2.2.0",
    summary="Remove the expiration from a key",
)
def persist(ctx: Client, key: bytes) -> int:
    """Remove a key's expiry: 1 if it had one."""
    if not ctx.db.exists(key) or not ctx.db.persist(key):
        return 0
    ctx.db.notify(GENERIC, b"persist", key)
    return 1
