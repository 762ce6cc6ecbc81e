"""String commands. https://redis.io/docs/latest/commands/?group=string

Checks run in Redis's order: options (syntax), then integer arguments, then the key's type,
then the stored value. Every write goes through ``ctx.db`` and counts in ``server.dirty``.
"""

from __future__ import annotations

from dataclasses import dataclass

from respserver.core.state import Client
from respserver.errors import (
    DECREMENT_OVERFLOW,
    INCR_OVERFLOW,
    OFFSET_OUT_OF_RANGE,
    STRING_TOO_LONG,
    SYNTAX,
    CommandError,
    invalid_expire_time,
    wrong_arity,
)
from respserver.keyspace.database import now_ms
from respserver.keyspace.events import GENERIC, STRING
from respserver.numbers import (
    INT64_MAX,
    INT64_MIN,
    long_double_sum,
    to_int,
    to_long_double,
)
from respserver.registry import command
from respserver.resp.types import OK, SimpleString

# Expiry options: milliseconds per unit, and whether the time is relative to now.
_EXPIRY_UNITS = {b"ex": (1000, True), b"px": (1, True), b"exat": (1000, False), b"pxat": (1, False)}


def invalid_expire(command_name: str) -> CommandError:
    return invalid_expire_time(command_name)


def expiry_time(raw: bytes, unit_ms: int, relative: bool, command_name: str) -> int:
    """The absolute expiry (unix ms) of a SET/GETEX/SETEX time, which must be positive and
    fit a signed 64-bit millisecond clock once scaled and added to now (Redis's
    getExpireMillisecondsOrReply)."""
    when = to_int(raw)
    if when <= 0 or when > INT64_MAX // unit_ms:
        raise invalid_expire(command_name)
    when = when * unit_ms + (now_ms() if relative else 0)
    if when > INT64_MAX:
        raise invalid_expire(command_name)
    return when


@dataclass(slots=True)
class _Options:
    nx: bool = False
    xx: bool = False
    get: bool = False
    keepttl: bool = False
    persist: bool = False
    expiry: bytes | None = None  # b"ex", b"px", b"exat" or b"pxat"
    expiry_arg: bytes = b""


def _parse_options(args: tuple[bytes, ...], for_set: bool) -> _Options:
    """SET's (``for_set``) or GETEX's options, with Redis's rules for what may combine: NX/XX
    exclude each other; one expiry kind (repeatable), excluding KEEPTTL (SET) or PERSIST (GETEX)."""
    opts = _Options()
    i = 0
    while i < len(args):
        opt = args[i].lower()
        has_value = i + 1 < len(args)
        ttl_set = opts.keepttl or opts.persist
        if for_set and opt == b"nx" and not opts.xx:
            opts.nx = True
        elif for_set and opt == b"xx" and not opts.nx:
            opts.xx = True
        elif for_set and opt == b"get":
            opts.get = True
        elif for_set and opt == b"keepttl" and opts.expiry is None:
            opts.keepttl = True
        elif not for_set and opt == b"persist" and opts.expiry is None:
            opts.persist = True
        elif opt in _EXPIRY_UNITS and has_value and not ttl_set and opts.expiry in (None, opt):
            opts.expiry, opts.expiry_arg = opt, args[i + 1]
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    return opts


def _expiry_of(opts: _Options, command_name: str) -> int | None:
    if opts.expiry is None:
        return None
    unit_ms, relative = _EXPIRY_UNITS[opts.expiry]
    return expiry_time(opts.expiry_arg, unit_ms, relative, command_name)


def _store(
    ctx: Client,
    key: bytes,
    value: bytes,
    when: int | None,
    keep_ttl: bool = False,
    event: bytes = b"set",
) -> None:
    """Store a string, with its keyspace event (``set`` unless the command names another), and
    an absolute expiry if ``when`` (then an ``expire`` event too, as Redis's SET publishes)."""
    ctx.db.store(key, value, keep_ttl=keep_ttl)
    ctx.db.notify(STRING, event, key)
    if when is not None:
        # The same change (dirty 0); a time already past deletes the key, as Redis's does.
        ctx.db.set_expire(key, when, dirty=0)
        ctx.propagate_as([b"SET", key, value, b"PXAT", b"%d" % when])  # as Redis 7 logs it
        ctx.db.notify(GENERIC, b"expire", key)


def expire_key(ctx: Client, key: bytes, when: int) -> None:
    """Give a live key an absolute expiry, logged as PEXPIREAT; or delete it when that time is
    past, logged as DEL (EXPIRE and GETEX alike); either with its keyspace event."""
    if ctx.db.set_expire(key, when):
        ctx.propagate_as([b"PEXPIREAT", key, b"%d" % when])  # absolute: replays the same
        ctx.db.notify(GENERIC, b"expire", key)
    else:
        ctx.propagate_as([b"DEL", key])  # already due: deleted now, logged as Redis logs it
        ctx.db.notify(GENERIC, b"del", key)


def max_string_length(ctx: Client) -> int:
    return ctx.server.config.proto_max_bulk_len


def _set_key_flags(argv: list[bytes]) -> tuple[str, ...]:
    """Redis's setGetKeys: SET reads the old value only with GET."""
    if any(arg.lower() == b"get" for arg in argv[3:]):
        return ("RW", "access", "update")
    return ("OW", "update")


@command(
    "set",
    "key value [NX | XX] [GET] [EX seconds | PX milliseconds | "
    "EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
    arity=-3,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="RW access update variable_flags",
    key_notes="RW and ACCESS due to the optional `GET` argument",
    getkeys=lambda argv: [(1, _set_key_flags(argv))],
    group="string",
    since="1.0.0",
    summary="Set the string value of a key",
    history=(
        ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
        ("6.0.0", "Added the `KEEPTTL` option."),
        ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
        ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
    ),
)
def set_(ctx: Client, key: bytes, value: bytes, *options: bytes) -> object:
    """Set a string, optionally only if absent/present, with an expiry, returning the old value."""
    if not options:  # the common case, with nothing to parse or look up first
        _store(ctx, key, value, None)
        return OK
    opts = _parse_options(options, for_set=True)
    when = _expiry_of(opts, "set")
    old = ctx.db.get_string(key) if opts.get else None
    if opts.nx or opts.xx:
        found = old is not None if opts.get else ctx.db.exists(key)
        if (opts.nx and found) or (opts.xx and not found):
            return old
    _store(ctx, key, value, when, keep_ttl=opts.keepttl)
    return old if opts.get else OK


@command(
    "setnx",
    "key value",
    arity=3,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="OW insert",
    group="string",
    since="1.0.0",
    summary="Set the value of a key, only if the key does not exist",
)
def setnx(ctx: Client, key: bytes, value: bytes) -> int:
    """Set a string if the key does not exist: 1 if set, else 0."""
    if ctx.db.exists(key):
        return 0
    _store(ctx, key, value, None)
    return 1


def _set_with_expiry(
    ctx: Client, key: bytes, raw: bytes, value: bytes, unit_ms: int, name: str
) -> SimpleString:
    _store(ctx, key, value, expiry_time(raw, unit_ms, True, name))
    return OK


@command(
    "setex",
    "key seconds value",
    arity=4,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="OW update",
    group="string",
    since="2.0.0",
    summary="Set the value and expiration of a key",
)
def setex(ctx: Client, key: bytes, seconds: bytes, value: bytes) -> SimpleString:
    """Set a string that expires in ``seconds``."""
    return _set_with_expiry(ctx, key, seconds, value, 1000, "setex")


@command(
    "psetex",
    "key milliseconds value",
    arity=4,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="OW update",
    group="string",
    since="2.6.0",
    summary="Set the value and expiration in milliseconds of a key",
)
def psetex(ctx: Client, key: bytes, milliseconds: bytes, value: bytes) -> SimpleString:
    """Set a string that expires in ``milliseconds``."""
    return _set_with_expiry(ctx, key, milliseconds, value, 1, "psetex")


@command(
    "get",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="string",
    since="1.0.0",
    summary="Get the value of a key",
)
def get(ctx: Client, key: bytes) -> bytes | None:
    """The string at ``key``, or nil."""
    return ctx.db.get_string(key)


@command(
    "getset",
    "key value",
    arity=3,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW access update",
    group="string",
    since="1.0.0",
    summary="Set the string value of a key and return its old value",
    deprecated=("6.2.0", "`SET` with the `!GET` argument"),
)
def getset(ctx: Client, key: bytes, value: bytes) -> bytes | None:
    """Set a string (clearing its TTL) and return the old one."""
    old = ctx.db.get_string(key)
    _store(ctx, key, value, None)
    return old


@command(
    "getdel",
    "key",
    arity=2,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW access delete",
    group="string",
    since="6.2.0",
    summary="Get the value of a key and delete the key",
)
def getdel(ctx: Client, key: bytes) -> bytes | None:
    """Return a string and delete its key."""
    value = ctx.db.get_string(key)
    if value is not None:
        ctx.db.delete(key)
        ctx.propagate_as([b"DEL", key])
        ctx.db.notify(GENERIC, b"del", key)
    return value


@command(
    "getex",
    "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | "
    "PXAT unix-time-milliseconds | PERSIST]",
    arity=-2,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW access update",
    key_notes="RW and UPDATE because it changes the TTL",
    group="string",
    since="6.2.0",
    summary="Get the value of a key and optionally set its expiration",
)
def getex(ctx: Client, key: bytes, *options: bytes) -> bytes | None:
    """Return a string and set or remove its expiry."""
    opts = _parse_options(options, for_set=False)
    value = ctx.db.get_string(key)
    if value is None:
        return None  # Redis validates the time only for an existing key
    when = _expiry_of(opts, "getex")
    if when is not None:
        expire_key(ctx, key, when)
    elif opts.persist and ctx.db.persist(key):
        ctx.propagate_as([b"PERSIST", key])
        ctx.db.notify(GENERIC, b"persist", key)
    return value


@command(
    "mget",
    "key [key ...]",
    arity=-2,
    flags="readonly fast",
    keys=(1, -1, 1),
    key_flags="RO access",
    group="string",
    since="1.0.0",
    summary="Get the values of all the given keys",
    complexity="O(N) where N is the number of keys to retrieve.",
    tips="request_policy:multi_shard",
)
def mget(ctx: Client, *keys: bytes) -> list[bytes | None]:
    """The strings at ``keys`` (nil for a missing key or another type)."""
    get_value = ctx.db.get
    return [value if type(value) is bytes else None for value in map(get_value, keys)]


def _pairs(args: tuple[bytes, ...], name: str) -> list[tuple[bytes, bytes]]:
    if len(args) % 2:
        raise wrong_arity(name)
    return list(zip(args[::2], args[1::2], strict=True))


@command(
    "mset",
    "key value [key value ...]",
    arity=-3,
    flags="write denyoom",
    keys=(1, -1, 2),
    key_flags="OW update",
    group="string",
    since="1.0.1",
    summary="Set multiple keys to multiple values",
    complexity="O(N) where N is the number of keys to set.",
    tips="request_policy:multi_shard response_policy:all_succeeded",
)
def mset(ctx: Client, *args: bytes) -> SimpleString:
    """Set several strings."""
    for key, value in _pairs(args, "mset"):
        _store(ctx, key, value, None)
    return OK


@command(
    "msetnx",
    "key value [key value ...]",
    arity=-3,
    flags="write denyoom",
    keys=(1, -1, 2),
    key_flags="OW insert",
    group="string",
    since="1.0.1",
    summary="Set multiple keys to multiple values, only if none of the keys exist",
    complexity="O(N) where N is the number of keys to set.",
    tips="request_policy:multi_shard response_policy:agg_min",
)
def msetnx(ctx: Client, *args: bytes) -> int:
    """Set several strings if none of the keys exists: 1 if set, else 0."""
    pairs = _pairs(args, "msetnx")
    if any(ctx.db.exists(key) for key, _ in pairs):
        return 0
    for key, value in pairs:
        _store(ctx, key, value, None)
    return 1


@command(
    "append",
    "key value",
    arity=3,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW insert",
    group="string",
    since="2.0.0",
    summary="Append a value to a key",
    complexity="O(1). The amortized time complexity is O(1) assuming the appended value is "
    "small and the already present value is of any size, since the dynamic string library "
    "used by Redis will double the free space available on every reallocation.",
)
def append(ctx: Client, key: bytes, value: bytes) -> int:
    """Append to a string (creating it); reply with the new length."""
    old = ctx.db.get_string(key)
    if old is not None:
        if len(old) + len(value) > max_string_length(ctx):
            raise CommandError(STRING_TOO_LONG)
        value = old + value
    _store(ctx, key, value, None, keep_ttl=True, event=b"append")
    return len(value)


@command(
    "strlen",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="string",
    since="2.2.0",
    summary="Get the length of the value stored in a key",
)
def strlen(ctx: Client, key: bytes) -> int:
    """The length of the string at ``key`` (0 if missing)."""
    return len(ctx.db.get_string(key) or b"")


def _increment(ctx: Client, key: bytes, delta: int) -> int:
    """Add ``delta`` to the integer at ``key`` (0 if missing), keeping its TTL."""
    old = ctx.db.get_string(key)
    number = 0 if old is None else to_int(old)
    number += delta
    if not INT64_MIN <= number <= INT64_MAX:
        raise CommandError(INCR_OVERFLOW)
    _store(ctx, key, b"%d" % number, None, keep_ttl=True, event=b"incrby")
    return number


_INCR_META = dict(
    flags="write denyoom fast", keys=(1, 1, 1), key_flags="RW access update", group="string"
)


@command(
    "incr",
    "key",
    arity=2,
    since="1.0.0",
    summary="Increment the integer value of a key by one",
    **_INCR_META,
)
def incr(ctx: Client, key: bytes) -> int:
    """Add 1 to the integer at ``key``."""
    return _increment(ctx, key, 1)


@command(
    "decr",
    "key",
    arity=2,
    since="1.0.0",
    summary="Decrement the integer value of a key by one",
    **_INCR_META,
)
def decr(ctx: Client, key: bytes) -> int:
    """Subtract 1 from the integer at ``key``."""
    return _increment(ctx, key, -1)


@command(
    "incrby",
    "key increment",
    arity=3,
    since="1.0.0",
    summary="Increment the integer value of a key by the given amount",
    **_INCR_META,
)
def incrby(ctx: Client, key: bytes, increment: bytes) -> int:
    """Add ``increment`` to the integer at ``key``."""
    return _increment(ctx, key, to_int(increment))


@command(
    "decrby",
    "key decrement",
    arity=3,
    since="1.0.0",
    summary="Decrement the integer value of a key by the given number",
    **_INCR_META,
)
def decrby(ctx: Client, key: bytes, decrement: bytes) -> int:
    """Subtract ``decrement`` from the integer at ``key``."""
    delta = to_int(decrement)
    if delta == INT64_MIN:
        raise CommandError(DECREMENT_OVERFLOW)  # its negation does not fit
    return _increment(ctx, key, -delta)


@command(
    "incrbyfloat",
    "key increment",
    arity=3,
    since="2.6.0",
    summary="Increment the float value of a key by the given amount",
    **_INCR_META,
)
def incrbyfloat(ctx: Client, key: bytes, increment: bytes) -> bytes:
    """Add a float to the number at ``key``, computed and printed as Redis's long double."""
    old = ctx.db.get_string(key)
    current = 0 if old is None else to_long_double(old)
    total = long_double_sum(current, to_long_double(increment))
    _store(ctx, key, total, None, keep_ttl=True, event=b"incrbyfloat")
    ctx.propagate_as([b"SET", key, total, b"KEEPTTL"])  # the result: no float arithmetic replayed
    return total


_RANGE_COMPLEXITY = (
    "O(N) where N is the length of the returned string. The complexity is ultimately determined "
    "by the returned length, but because creating a substring from an existing string is very "
    "cheap, it can be considered O(1) for small strings."
)


def _substring(ctx: Client, key: bytes, start_arg: bytes, end_arg: bytes) -> bytes:
    """GETRANGE's slice with inclusive, possibly negative, clamped ends."""
    start, end = to_int(start_arg), to_int(end_arg)
    value = ctx.db.get_string(key)
    if not value or (start < 0 and end < 0 and start > end):
        return b""
    size = len(value)
    start = max(start + size if start < 0 else start, 0)
    end = min(max(end + size if end < 0 else end, 0), size - 1)
    return value[start : end + 1] if start <= end else b""


@command(
    "getrange",
    "key start end",
    arity=4,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="string",
    since="2.4.0",
    summary="Get a substring of the string stored at a key",
    complexity=_RANGE_COMPLEXITY,
)
def getrange(ctx: Client, key: bytes, start: bytes, end: bytes) -> bytes:
    """The bytes of a string from ``start`` to ``end`` inclusive (negative: from the end)."""
    return _substring(ctx, key, start, end)


@command(
    "substr",
    "key start end",
    arity=4,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="string",
    since="1.0.0",
    summary="Get a substring of the string stored at a key",
    complexity=_RANGE_COMPLEXITY,
    deprecated=("2.0.0", "`GETRANGE`"),
)
def substr(ctx: Client, key: bytes, start: bytes, end: bytes) -> bytes:
    """GETRANGE under its pre-2.0 name."""
    return _substring(ctx, key, start, end)


@command(
    "setrange",
    "key offset value",
    arity=4,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="string",
    since="2.2.0",
    summary="Overwrite part of a string at key starting at the specified offset",
    complexity="O(1), not counting the time taken to copy the new string in place. Usually, "
    "this string is very small so the amortized complexity is O(1). Otherwise, complexity "
    "is O(M) with M being the length of the value argument.",
)
def setrange(ctx: Client, key: bytes, offset: bytes, value: bytes) -> int:
    """Overwrite a string from ``offset`` (zero-padding it); reply with the new length."""
    start = to_int(offset)
    if start < 0:
        raise CommandError(OFFSET_OUT_OF_RANGE)
    old = ctx.db.get_string(key)
    if not value:
        return 0 if old is None else len(old)
    end = start + len(value)
    if end > max_string_length(ctx):  # checked before allocating anything
        raise CommandError(STRING_TOO_LONG)
    old = old or b""
    new = old[:start].ljust(start, b"\0") + value + old[end:]
    _store(ctx, key, new, None, keep_ttl=True, event=b"setrange")
    return len(new)
