"""Hash commands. https://redis.io/docs/latest/commands/?group=hash

A hash is a ``dict[bytes, bytes]``. Python dicts keep insertion order, as Redis's listpack does
for small hashes, so HGETALL/HKEYS/HVALS of those match Redis byte for byte. Checks run in
Redis's order: argument counts and numbers first, then the key's type, then the stored value.
A write mutates the dict in place and signals ``ctx.db.modified`` once (``store`` for a new
hash, ``delete`` when the last field goes) and counts in ``server.dirty`` as Redis does: per
pair given for HSET/HMSET, per field removed for HDEL, once for the other writes. Each change
then names its keyspace event as Redis's t_hash.c does ("hset" for HSET, HMSET and HSETNX,
"hincrby", "hincrbyfloat", "hdel" and a generic "del" when the last field went).
"""

from __future__ import annotations

import random
from fractions import Fraction

from respserver.core.state import Client
from respserver.errors import (
    HASH_VALUE_NOT_FLOAT,
    HASH_VALUE_NOT_INTEGER,
    INCR_OVERFLOW,
    NAN_OR_INFINITY,
    OUT_OF_RANGE,
    SYNTAX,
    CommandError,
    out_of_range_between,
    wrong_arity,
)
from respserver.keyspace.events import GENERIC, HASH
from respserver.numbers import (
    INT64_MAX,
    INT64_MIN,
    long_double_sum,
    to_int,
    to_long_double,
)
from respserver.registry import command
from respserver.resp.types import OK, SimpleString

COUNT_OUT_OF_RANGE = out_of_range_between(-INT64_MAX, INT64_MAX)
# Redis serves a negative HRANDFIELD count (repeats allowed) by streaming that many picks, so
# -9223372036854770000 ties it up until memory runs out. A reply that could grow past this many
# bytes is refused before anything is built, with the error Redis gives WITHVALUES counts past
# its own bound.
MAX_RANDOM_REPLY = 128 * 1024 * 1024
_BULK_OVERHEAD = 16  # "$<length>\r\n" and "\r\n" around each string, at most


def _commit(
    ctx: Client,
    key: bytes,
    fields: dict[bytes, bytes],
    created: bool,
    event: bytes,
    dirty: int = 1,
) -> None:
    """Signal a change to the hash at ``key``, counting ``dirty`` changes (Redis counts one
    per field), named ``event``: a hash new to the keyspace is stored (a "new" event first),
    one changed in place is marked modified, one left empty is deleted ("del" after)."""
    db = ctx.db
    if not fields:
        db.delete(key, dirty)
    elif created:
        db.store(key, fields, dirty=dirty)
    else:
        db.modified(key, dirty)
    db.notify(HASH, event, key)
    if not fields:
        db.notify(GENERIC, b"del", key)


def _set_pairs(ctx: Client, name: str, key: bytes, pairs: tuple[bytes, ...]) -> int:
    """HSET/HMSET: set field/value pairs; return how many fields were new."""
    if len(pairs) % 2:
        raise wrong_arity(name)
    fields = ctx.db.hash_for_write(key)
    created = not fields
    before = len(fields)
    for i in range(0, len(pairs), 2):
        fields[pairs[i]] = pairs[i + 1]
    _commit(ctx, key, fields, created, b"hset", len(pairs) // 2)
    return len(fields) - before


@command(
    "hset",
    "key field value [field value ...]",
    arity=-4,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    group="hash",
    since="2.0.0",
    summary="Set the string value of a hash field",
    complexity="O(1) for each field/value pair added, so O(N) to add N field/value pairs when "
    "the command is called with multiple field/value pairs.",
    history=(("4.0.0", "Accepts multiple `field` and `value` arguments."),),
)
def hset(ctx: Client, key: bytes, *pairs: bytes) -> int:
    """Set fields of a hash; reply with the number of fields added."""
    return _set_pairs(ctx, "hset", key, pairs)


@command(
    "hmset",
    "key field value [field value ...]",
    arity=-4,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    group="hash",
    since="2.0.0",
    summary="Set multiple hash fields to multiple values",
    complexity="O(N) where N is the number of fields being set.",
    deprecated=("4.0.0", "`HSET` with multiple field-value pairs"),
)
def hmset(ctx: Client, key: bytes, *pairs: bytes) -> SimpleString:
    """Set fields of a hash (HSET's deprecated twin); reply OK."""
    _set_pairs(ctx, "hmset", key, pairs)
    return OK


@command(
    "hsetnx",
    "key field value",
    arity=4,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW insert",
    group="hash",
    since="2.0.0",
    summary="Set the value of a hash field, only if the field does not exist",
)
def hsetnx(ctx: Client, key: bytes, field: bytes, value: bytes) -> int:
    """Set a field only if it is absent; reply 1 if set, 0 if not."""
    fields = ctx.db.hash_for_write(key)
    if field in fields:
        return 0
    created = not fields
    fields[field] = value
    _commit(ctx, key, fields, created, b"hset")
    return 1


@command(
    "hget",
    "key field",
    arity=3,
    flags="readonly fast",
    keys=(1, 1, 1),
    group="hash",
    since="2.0.0",
    summary="Get the value of a hash field",
)
def hget(ctx: Client, key: bytes, field: bytes) -> bytes | None:
    """Reply with a field's value, or null."""
    fields = ctx.db.get_hash(key)
    return None if fields is None else fields.get(field)


@command(
    "hmget",
    "key field [field ...]",
    arity=-3,
    flags="readonly fast",
    keys=(1, 1, 1),
    group="hash",
    since="2.0.0",
    summary="Get the values of all the given hash fields",
    complexity="O(N) where N is the number of fields being requested.",
)
def hmget(ctx: Client, key: bytes, *names: bytes) -> list[bytes | None]:
    """Reply with the values of several fields, null for each one absent."""
    fields = ctx.db.get_hash(key) or {}
    return [fields.get(name) for name in names]


@command(
    "hdel",
    "key field [field ...]",
    arity=-3,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="hash",
    since="2.0.0",
    summary="Delete one or more hash fields",
    complexity="O(N) where N is the number of fields to be removed.",
    history=(("2.4.0", "Accepts multiple `field` arguments."),),
)
def hdel(ctx: Client, key: bytes, *names: bytes) -> int:
    """Delete fields (the key with the last one); reply with how many existed."""
    fields = ctx.db.get_hash(key)
    if fields is None:
        return 0
    deleted = 0
    for name in names:
        if fields.pop(name, None) is not None:
            deleted += 1
    if deleted:
        _commit(ctx, key, fields, created=False, event=b"hdel", dirty=deleted)
    return deleted


@command(
    "hgetall",
    "key",
    arity=2,
    flags="readonly",
    keys=(1, 1, 1),
    group="hash",
    since="2.0.0",
    summary="Get all the fields and values in a hash",
    complexity="O(N) where N is the size of the hash.",
    tips="nondeterministic_output_order",
)
def hgetall(ctx: Client, key: bytes) -> dict[bytes, bytes]:
    """Reply with every field and value (a map in RESP3)."""
    fields = ctx.db.get_hash(key)
    return {} if fields is None else fields


@command(
    "hkeys",
    "key",
    arity=2,
    flags="readonly",
    keys=(1, 1, 1),
    group="hash",
    since="2.0.0",
    summary="Get all the fields in a hash",
    complexity="O(N) where N is the size of the hash.",
    tips="nondeterministic_output_order",
)
def hkeys(ctx: Client, key: bytes) -> list[bytes]:
    """Reply with every field name."""
    return list(ctx.db.get_hash(key) or ())


@command(
    "hvals",
    "key",
    arity=2,
    flags="readonly",
    keys=(1, 1, 1),
    group="hash",
    since="2.0.0",
    summary="Get all the values in a hash",
    complexity="O(N) where N is the size of the hash.",
    tips="nondeterministic_output_order",
)
def hvals(ctx: Client, key: bytes) -> list[bytes]:
    """Reply with every value."""
    return list((ctx.db.get_hash(key) or {}).values())


@command(
    "hexists",
    "key field",
    arity=3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="hash",
    since="2.0.0",
    summary="Determine if a hash field exists",
)
def hexists(ctx: Client, key: bytes, field: bytes) -> int:
    """Reply 1 if the field exists, else 0."""
    return int(field in (ctx.db.get_hash(key) or ()))


@command(
    "hlen",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="hash",
    since="2.0.0",
    summary="Get the number of fields in a hash",
)
def hlen(ctx: Client, key: bytes) -> int:
    """Reply with the number of fields."""
    return len(ctx.db.get_hash(key) or ())


@command(
    "hstrlen",
    "key field",
    arity=3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="hash",
    since="3.2.0",
    summary="Get the length of the value of a hash field",
)
def hstrlen(ctx: Client, key: bytes, field: bytes) -> int:
    """Reply with the length of a field's value, 0 if absent."""
    return len((ctx.db.get_hash(key) or {}).get(field, b""))


@command(
    "hincrby",
    "key field increment",
    arity=4,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW access update",
    group="hash",
    since="2.0.0",
    summary="Increment the integer value of a hash field by the given number",
)
def hincrby(ctx: Client, key: bytes, field: bytes, increment: bytes) -> int:
    """Add an integer to a field (0 if absent); reply with the new value."""
    by = to_int(increment)
    fields = ctx.db.hash_for_write(key)
    old = fields.get(field)
    current = 0 if old is None else to_int(old, HASH_VALUE_NOT_INTEGER)
    total = current + by
    if not INT64_MIN <= total <= INT64_MAX:
        raise CommandError(INCR_OVERFLOW)
    _store_field(ctx, key, fields, field, b"%d" % total, b"hincrby")
    return total


@command(
    "hincrbyfloat",
    "key field increment",
    arity=4,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW access update",
    group="hash",
    since="2.6.0",
    summary="Increment the float value of a hash field by the given amount",
)
def hincrbyfloat(ctx: Client, key: bytes, field: bytes, increment: bytes) -> bytes:
    """Add a float to a field, in Redis's long double arithmetic; reply with the new value."""
    by = to_long_double(increment)
    if type(by) is float:  # ±inf: Redis refuses an infinite increment before the lookup
        raise CommandError(NAN_OR_INFINITY)
    fields = ctx.db.hash_for_write(key)
    old = fields.get(field)
    current = Fraction(0) if old is None else to_long_double(old, HASH_VALUE_NOT_FLOAT)
    total = long_double_sum(current, by)
    _store_field(ctx, key, fields, field, total, b"hincrbyfloat")
    ctx.propagate_as([b"HSET", key, field, total])
    return total


def _store_field(
    ctx: Client, key: bytes, fields: dict[bytes, bytes], field: bytes, value: bytes, event: bytes
) -> None:
    """HINCRBY/HINCRBYFLOAT: set one field, creating the hash if needed."""
    created = not fields
    fields[field] = value
    _commit(ctx, key, fields, created, event)


def _random_count(count: bytes, options: tuple[bytes, ...]) -> tuple[int, bool]:
    """HRANDFIELD's count and WITHVALUES, checked in Redis's order before any lookup."""
    number = to_int(count)
    if number == INT64_MIN:
        raise CommandError(COUNT_OUT_OF_RANGE)
    if len(options) > 1 or (options and options[0].lower() != b"withvalues"):
        raise CommandError(SYNTAX)
    if options and abs(number) > INT64_MAX // 2:
        raise CommandError(OUT_OF_RANGE)
    return number, bool(options)


def _largest_pick(fields: dict[bytes, bytes], with_values: bool) -> int:
    """The most reply bytes one HRANDFIELD pick can take."""
    if with_values:
        longest = max(len(f) + len(v) for f, v in fields.items()) + _BULK_OVERHEAD
    else:
        longest = max(map(len, fields))
    return longest + _BULK_OVERHEAD


@command(
    "hrandfield",
    "key [count [WITHVALUES]]",
    arity=-2,
    flags="readonly",
    keys=(1, 1, 1),
    group="hash",
    since="6.2.0",
    summary="Get one or multiple random fields from a hash",
    complexity="O(N) where N is the number of fields returned",
    tips="nondeterministic_output",
)
def hrandfield(ctx: Client, key: bytes, *args: bytes) -> object:
    """Reply with random fields: one (or null) without a count; with a count, that many distinct
    fields, or with a negative count that many with repeats; WITHVALUES adds each value."""
    if not args:
        fields = ctx.db.get_hash(key)
        return None if fields is None else random.choice(list(fields))
    count, with_values = _random_count(args[0], args[1:])
    fields = ctx.db.get_hash(key)
    if fields is None or count == 0:
        return []
    if count < 0 and -count * _largest_pick(fields, with_values) > MAX_RANDOM_REPLY:
        raise CommandError(OUT_OF_RANGE)
    items = list(fields.items())
    if count < 0:
        chosen = random.choices(items, k=-count)
    else:
        # Distinct fields, in hash order as Redis returns them from a small hash.
        picked = random.sample(range(len(items)), min(count, len(items)))
        chosen = [items[i] for i in sorted(picked)]
    if not with_values:
        return [name for name, _ in chosen]
    if ctx.resp == 3:
        return [list(pair) for pair in chosen]
    return [part for pair in chosen for part in pair]
