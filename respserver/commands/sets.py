"""Set commands. https://redis.io/docs/latest/commands/?group=set

Handlers reach a set through ``ctx.db.get_set``/``set_for_write`` and change it through
``SetValue``'s methods and the algebra of keyspace/sets.py, then tell the database: ``store``
for a new set, ``modified`` for one changed in place, ``delete`` for one left empty (Redis
deletes an empty set), each counting what Redis adds to its dirty count (one per member added
or removed; one per stored result). Each change then names its keyspace event as Redis's
t_set.c does ("sadd", "srem", "spop", "sinterstore"..., and a generic "del" when the set went);
a command that changes nothing names none. Replies Redis sends as a set (``~`` in RESP3) are
``RespSet``s; the order of members is no promise, as in Redis.
"""

from __future__ import annotations

from respserver.commands.hashes_scan import scan_step
from respserver.commands.keys import parse_scan_options
from respserver.core.state import Client
from respserver.errors import (
    LIMIT_NEGATIVE,
    MORE_KEYS_THAN_ARGS,
    MUST_BE_POSITIVE,
    NUMKEYS_NOT_POSITIVE,
    SYNTAX,
    CommandError,
    out_of_range_between,
)
from respserver.keyspace.events import GENERIC, SET
from respserver.keyspace.scan import parse_cursor
from respserver.keyspace.sets import (
    SetValue,
    difference,
    intersection,
    intersection_size,
    union,
)
from respserver.numbers import INT64_MAX, to_int, to_int_at_least
from respserver.registry import command
from respserver.resp.types import RespSet

_INTSET_LIMIT = 1 << 30  # Redis caps set-max-intset-entries there (intset internals)

# What the commands over several sets declare alike.
_ALGEBRA = dict(
    arity=-2,
    flags="readonly",
    keys=(1, -1, 1),
    key_flags="RO access",
    group="set",
    since="1.0.0",
    tips="nondeterministic_output_order",
)
_STORE = dict(
    arity=-3,
    flags="write denyoom",
    keys=(1, -1, 1),
    group="set",
    since="1.0.0",
)
_INTER_COMPLEXITY = (
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."
)
_UNION_COMPLEXITY = "O(N) where N is the total number of elements in all given sets."


def _changed(ctx: Client, key: bytes, members: SetValue, dirty: int, event: bytes) -> None:
    """After ``members`` (stored at ``key``) lost some: delete the key if it is empty; the
    change is ``event``, then "del" if the set went."""
    if members:
        ctx.db.modified(key, dirty)
        ctx.db.notify(SET, event, key)
    else:
        _emptied(ctx, key, dirty, event)


def _emptied(ctx: Client, key: bytes, dirty: int, event: bytes) -> None:
    """Delete the set at ``key``, which lost its last members: ``event``, then "del"."""
    ctx.db.delete(key, dirty)
    ctx.db.notify(SET, event, key)
    ctx.db.notify(GENERIC, b"del", key)


def _sets(ctx: Client, keys: tuple[bytes, ...]) -> list[SetValue | None]:
    """The sets at ``keys`` (None for a missing key), every key type-checked first."""
    return [ctx.db.get_set(key) for key in keys]


def _all_present(ctx: Client, keys: tuple[bytes, ...]) -> list[SetValue] | None:
    """The sets at ``keys``, or None if a key is missing: an empty set, so is the
    intersection (every key is type-checked all the same, as Redis does)."""
    sets = _sets(ctx, keys)
    present = [s for s in sets if s is not None]
    return present if len(present) == len(sets) else None


def _inter(ctx: Client, keys: tuple[bytes, ...]) -> SetValue:
    present = _all_present(ctx, keys)
    return SetValue() if present is None else intersection(present)


def _union(ctx: Client, keys: tuple[bytes, ...]) -> SetValue:
    return union(s for s in _sets(ctx, keys) if s is not None)


def _diff(ctx: Client, keys: tuple[bytes, ...]) -> SetValue:
    first, *rest = _sets(ctx, keys)
    if first is None:
        return SetValue()
    return difference(first, (s for s in rest if s is not None))


def _store(ctx: Client, destination: bytes, result: SetValue, event: bytes) -> int:
    """Put a result at ``destination`` (replacing any value and its time to live), the change
    named ``event``, or delete it when the result is empty ("del" if there was one); the
    result's size."""
    db = ctx.db
    if result:
        db.store(destination, result)
        db.notify(SET, event, destination)
    elif db.delete(destination):
        db.notify(GENERIC, b"del", destination)
    return len(result)


# --- members -----------------------------------------------------------------------------------


@command(
    "sadd",
    "key member [member ...]",
    arity=-3,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW insert",
    group="set",
    since="1.0.0",
    summary="Add one or more members to a set",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is "
    "called with multiple arguments.",
    history=(("2.4.0", "Accepts multiple `member` arguments."),),
)
def sadd(ctx: Client, key: bytes, *members: bytes) -> int:
    """Add members; reply with how many were new."""
    current = ctx.db.set_for_write(key)
    created = not current
    added = current.add(members)
    if created:
        ctx.db.store(key, current, keep_ttl=True, dirty=added)
    elif added:
        ctx.db.modified(key, added)
    if added:
        ctx.db.notify(SET, b"sadd", key)
    return added


@command(
    "srem",
    "key member [member ...]",
    arity=-3,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="set",
    since="1.0.0",
    summary="Remove one or more members from a set",
    complexity="O(N) where N is the number of members to be removed.",
    history=(("2.4.0", "Accepts multiple `member` arguments."),),
)
def srem(ctx: Client, key: bytes, *members: bytes) -> int:
    """Remove members; reply with how many were there."""
    current = ctx.db.get_set(key)
    if current is None:
        return 0
    removed = current.remove(members)
    if removed:
        _changed(ctx, key, current, removed, b"srem")
    return removed


@command(
    "smembers",
    "key",
    arity=2,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="set",
    since="1.0.0",
    summary="Get all the members in a set",
    complexity="O(N) where N is the set cardinality.",
    tips="nondeterministic_output_order",
)
def smembers(ctx: Client, key: bytes) -> RespSet:
    """Every member (an empty set if there is none)."""
    members = ctx.db.get_set(key)
    return RespSet(() if members is None else members)


@command(
    "sismember",
    "key member",
    arity=3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="set",
    since="1.0.0",
    summary="Determine if a given value is a member of a set",
    complexity="O(1)",
)
def sismember(ctx: Client, key: bytes, member: bytes) -> int:
    """1 if ``member`` is in the set, else 0."""
    members = ctx.db.get_set(key)
    return int(members is not None and member in members)


@command(
    "smismember",
    "key member [member ...]",
    arity=-3,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="set",
    since="6.2.0",
    summary="Returns the membership associated with the given elements for a set",
    complexity="O(N) where N is the number of elements being checked for membership",
)
def smismember(ctx: Client, key: bytes, *candidates: bytes) -> list[int]:
    """SISMEMBER for each candidate, as an array of 1s and 0s."""
    members = ctx.db.get_set(key)
    if members is None:
        return [0] * len(candidates)
    return [int(candidate in members) for candidate in candidates]


@command(
    "scard",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="set",
    since="1.0.0",
    summary="Get the number of members in a set",
    complexity="O(1)",
)
def scard(ctx: Client, key: bytes) -> int:
    """The number of members (0 if there is no set)."""
    members = ctx.db.get_set(key)
    return 0 if members is None else len(members)


@command(
    "smove",
    "source destination member",
    arity=4,
    flags="write fast",
    keys=(1, 2, 1),
    key_flags="RW access delete | RW insert",
    group="set",
    since="1.0.0",
    summary="Move a member from one set to another",
    complexity="O(1)",
)
def smove(ctx: Client, source: bytes, destination: bytes, member: bytes) -> int:
    """Move ``member`` from ``source`` to ``destination``: 1 if it was in ``source``. A
    missing source answers 0 before the destination's type is looked at, as in Redis."""
    db = ctx.db
    origin = db.get_set(source)
    if origin is None:
        return 0
    target = db.get_set(destination)
    if source == destination:
        return int(member in origin)
    if not origin.discard(member):
        return 0
    _changed(ctx, source, origin, 1, b"srem")
    if target is None:
        db.store(destination, SetValue((member,)), keep_ttl=True)
    elif target.add((member,)):
        db.modified(destination)  # a second change: Redis counts the addition too
    else:
        return 1  # the destination had it already: no change there
    db.notify(SET, b"sadd", destination)
    return 1


# --- random members ----------------------------------------------------------------------------


@command(
    "spop",
    "key [count]",
    arity=-2,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW access delete",
    group="set",
    since="1.0.0",
    summary="Remove and return one or multiple random members from a set",
    complexity="Without the count argument O(1), otherwise O(N) where N is the value of the "
    "passed count.",
    tips="nondeterministic_output",
    history=(("3.2.0", "Added the `count` argument."),),
)
def spop(ctx: Client, key: bytes, *count: bytes) -> object:
    """Remove a random member and reply with it, or up to ``count`` of them as a set. Logged
    as Redis 7.0 propagates it: an SREM per member (in MULTI/EXEC when there are several),
    or DEL when the count takes the whole set."""
    if len(count) > 1:
        raise CommandError(SYNTAX)
    if not count:
        members = ctx.db.get_set(key)
        if members is None:
            return None
        (member,) = members.pop(1)
        _changed(ctx, key, members, 1, b"spop")
        ctx.propagate_as([b"SREM", key, member])
        return member
    many = to_int_at_least(count[0], 0, MUST_BE_POSITIVE)
    members = ctx.db.get_set(key)
    if members is None or many == 0:
        return RespSet()
    if many >= len(members):
        everything = RespSet(members)
        _emptied(ctx, key, len(everything), b"spop")
        ctx.propagate_as([b"DEL", key])
        return everything
    popped = members.pop(many)
    _changed(ctx, key, members, many, b"spop")
    ctx.propagate_as(*([b"SREM", key, member] for member in popped))
    return RespSet(popped)


@command(
    "srandmember",
    "key [count]",
    arity=-2,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="set",
    since="1.0.0",
    summary="Get one or multiple random members from a set",
    complexity="Without the count argument O(1), otherwise O(N) where N is the absolute value "
    "of the passed count.",
    tips="nondeterministic_output",
    history=(("2.6.0", "Added the optional `count` argument."),),
)
def srandmember(ctx: Client, key: bytes, *count: bytes) -> object:
    """A random member, or with ``count`` an array: up to ``count`` distinct members, or for
    a negative count exactly -``count`` members, repeats possible."""
    if len(count) > 1:
        raise CommandError(SYNTAX)
    if not count:
        members = ctx.db.get_set(key)
        return None if members is None else members.choices(1)[0]
    many = to_int(count[0])
    if many < -INT64_MAX:  # Redis's range is -LONG_MAX..LONG_MAX: -count must fit
        raise CommandError(out_of_range_between(-INT64_MAX, INT64_MAX))
    members = ctx.db.get_set(key)
    if members is None or many == 0:
        return []
    return members.sample(many) if many > 0 else members.choices(-many)


# --- several sets ------------------------------------------------------------------------------


@command(
    "sinter",
    "key [key ...]",
    **_ALGEBRA,
    summary="Intersect multiple sets",
    complexity=_INTER_COMPLEXITY,
)
def sinter(ctx: Client, *keys: bytes) -> RespSet:
    """The members every set holds (a missing key is an empty set)."""
    return RespSet(_inter(ctx, keys))


@command(
    "sunion",
    "key [key ...]",
    **_ALGEBRA,
    summary="Add multiple sets",
    complexity=_UNION_COMPLEXITY,
)
def sunion(ctx: Client, *keys: bytes) -> RespSet:
    """The members any of the sets holds."""
    return RespSet(_union(ctx, keys))


@command(
    "sdiff",
    "key [key ...]",
    **_ALGEBRA,
    summary="Subtract multiple sets",
    complexity=_UNION_COMPLEXITY,
)
def sdiff(ctx: Client, *keys: bytes) -> RespSet:
    """The members of the first set that none of the others holds."""
    return RespSet(_diff(ctx, keys))


@command(
    "sinterstore",
    "destination key [key ...]",
    **_STORE,
    key_flags="RW update | RO access",
    summary="Intersect multiple sets and store the resulting set in a key",
    complexity=_INTER_COMPLEXITY,
)
def sinterstore(ctx: Client, destination: bytes, *keys: bytes) -> int:
    """SINTER into ``destination`` (deleted if the result is empty); the result's size."""
    return _store(ctx, destination, _inter(ctx, keys), b"sinterstore")


@command(
    "sunionstore",
    "destination key [key ...]",
    **_STORE,
    key_flags="OW update | RO access",
    summary="Add multiple sets and store the resulting set in a key",
    complexity=_UNION_COMPLEXITY,
)
def sunionstore(ctx: Client, destination: bytes, *keys: bytes) -> int:
    """SUNION into ``destination``; the result's size."""
    return _store(ctx, destination, _union(ctx, keys), b"sunionstore")


@command(
    "sdiffstore",
    "destination key [key ...]",
    **_STORE,
    key_flags="OW update | RO access",
    summary="Subtract multiple sets and store the resulting set in a key",
    complexity=_UNION_COMPLEXITY,
)
def sdiffstore(ctx: Client, destination: bytes, *keys: bytes) -> int:
    """SDIFF into ``destination``; the result's size."""
    return _store(ctx, destination, _diff(ctx, keys), b"sdiffstore")


@command(
    "sintercard",
    "numkeys key [key ...] [LIMIT limit]",
    arity=-3,
    flags="readonly movablekeys",
    key_count=(1, 0, 1, 1),
    key_flags="RO access",
    group="set",
    since="7.0.0",
    summary="Intersect multiple sets and return the cardinality of the result",
    complexity=_INTER_COMPLEXITY,
)
def sintercard(ctx: Client, numkeys: bytes, *args: bytes) -> int:
    """The size of SINTER's result, counting no further than LIMIT (0: no limit)."""
    count_of_keys = to_int_at_least(numkeys, 1, NUMKEYS_NOT_POSITIVE)
    if count_of_keys > len(args):
        raise CommandError(MORE_KEYS_THAN_ARGS)
    keys, options = args[:count_of_keys], args[count_of_keys:]
    limit = 0
    i = 0
    while i < len(options):
        if options[i].lower() == b"limit" and i + 1 < len(options):
            limit = to_int_at_least(options[i + 1], 0, LIMIT_NEGATIVE)
            i += 2
        else:
            raise CommandError(SYNTAX)
    present = _all_present(ctx, keys)
    return 0 if present is None else intersection_size(present, limit)


# --- iteration ---------------------------------------------------------------------------------


@command(
    "sscan",
    "key cursor [MATCH pattern] [COUNT count]",
    arity=-3,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="set",
    since="2.8.0",
    summary="Incrementally iterate Set elements",
    complexity="O(1) for every call. O(N) for a complete iteration, including enough command "
    "calls for the cursor to return back to 0. N is the number of elements inside "
    "the collection..",
    tips="nondeterministic_output",
)
def sscan(ctx: Client, key: bytes, cursor: bytes, *options: bytes) -> list[object]:
    """One step of an iteration over a set: the next cursor and some members. A set Redis
    would keep as an intset comes whole, in ascending order, with cursor 0, as there."""
    position = parse_cursor(cursor)
    members = ctx.db.get_set(key)
    if members is None:
        return [b"0", []]  # Redis does not even read the options then
    opts = parse_scan_options(options, allow_type=False)
    limit = min(ctx.server.config.set_max_intset_entries, _INTSET_LIMIT)
    whole = members.intset_order(limit)
    if whole is not None:
        position, found = 0, whole
    else:
        position, found = scan_step(ctx, key, members, position, opts.count)
    glob = opts.glob
    reply = [m for m in found if m in members and (glob is None or glob.match(m))]
    return [b"%d" % position, reply]
