"""List commands. https://redis.io/docs/latest/commands/?group=list

Handlers reach a list through ``ctx.db.get_list``/``list_for_write`` and change it through
``ListValue``'s methods (keyspace/lists.py), then tell the database: ``store`` for a new list,
``modified`` for one changed in place, ``delete`` for one left empty (Redis deletes an empty
list), each counting what Redis adds to its dirty count (one per element pushed or popped).
"""

from __future__ import annotations

from respserver.core.state import Client
from respserver.errors import (
    COUNT_NEGATIVE,
    COUNT_NOT_POSITIVE,
    INDEX_OUT_OF_RANGE,
    MAXLEN_NEGATIVE,
    MUST_BE_POSITIVE,
    NO_SUCH_KEY,
    NUMKEYS_NOT_POSITIVE,
    RANK_ZERO,
    SYNTAX,
    CommandError,
    wrong_arity,
)
from respserver.keyspace.lists import ListValue
from respserver.numbers import to_int
from respserver.registry import command
from respserver.resp.types import NULL_ARRAY, OK, SimpleString

# What the four push commands and the two pops declare alike.
_PUSH = dict(
    syntax="key element [element ...]",
    arity=-3,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW insert",
    group="list",
    complexity="O(1) for each element added, so O(N) to add N elements when the command is called "
    "with multiple arguments.",
)
_POP = dict(
    syntax="key [count]",
    arity=-2,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW access delete",
    group="list",
    complexity="O(N) where N is the number of elements returned",
    history=(("6.2.0", "Added the `count` argument."),),
)


def _changed(ctx: Client, key: bytes, items: ListValue, dirty: int) -> None:
    """After ``items`` (stored at ``key``) lost elements: delete the key if it is empty."""
    if items:
        ctx.db.modified(key, dirty)
    else:
        ctx.db.delete(key, dirty)


def _push(
    ctx: Client, key: bytes, elements: tuple[bytes, ...], left: bool, only_existing: bool
) -> int:
    if only_existing:
        items = ctx.db.get_list(key)
        if items is None:
            return 0
    else:
        items = ctx.db.list_for_write(key)
    created = not items
    length = items.push(elements, left)
    if created:
        ctx.db.store(key, items, keep_ttl=True, dirty=len(elements))
    else:
        ctx.db.modified(key, len(elements))
    return length


def _pop(ctx: Client, name: str, key: bytes, count: tuple[bytes, ...], left: bool) -> object:
    if len(count) > 1:
        raise wrong_arity(name)
    many = _at_least(count[0], 0, MUST_BE_POSITIVE) if count else None
    items = ctx.db.get_list(key)
    if items is None:
        return None if many is None else NULL_ARRAY
    if many == 0:
        return []
    popped = items.pop(left, 1 if many is None else many)
    _changed(ctx, key, items, len(popped))
    return popped[0] if many is None else popped


def _at_least(value: bytes, least: int, error: str) -> int:
    """Redis's getRangeLongFromObjectOrReply(least, LONG_MAX), whose one message serves a
    value that is no integer and one below ``least`` (getPositiveLong...: ``least`` 0)."""
    number = to_int(value, error)
    if number < least:
        raise CommandError(error)
    return number


def _lpos_options(options: tuple[bytes, ...]) -> tuple[int, int | None, int]:
    rank, count, maxlen = 1, None, 0
    i = 0
    while i < len(options):
        option = options[i].lower()
        more = i + 1 < len(options)
        if option == b"rank" and more:
            rank = to_int(options[i + 1])
            if rank == 0:
                raise CommandError(RANK_ZERO)
        elif option == b"count" and more:
            count = _at_least(options[i + 1], 0, COUNT_NEGATIVE)
        elif option == b"maxlen" and more:
            maxlen = _at_least(options[i + 1], 0, MAXLEN_NEGATIVE)
        else:
            raise CommandError(SYNTAX)
        i += 2
    return rank, count, maxlen


def _side(where: bytes) -> bool:
    """LEFT (True) or RIGHT (False)."""
    side = where.lower()
    if side not in (b"left", b"right"):
        raise CommandError(SYNTAX)
    return side == b"left"


def _move(
    ctx: Client, source: bytes, destination: bytes, from_left: bool, to_left: bool
) -> bytes | None:
    """LMOVE's body: one change, counted once."""
    db = ctx.db
    items = db.get_list(source)
    if items is None:
        return None
    target = items if destination == source else db.get_list(destination)
    (value,) = items.pop(from_left)
    if target is None:
        db.store(destination, ListValue((value,)), dirty=0)
    else:
        target.push((value,), to_left)
        db.modified(destination, 0)
    _changed(ctx, source, items, 1)  # one change; with itself, the list is never left empty
    return value


@command(
    "lpush",
    **_PUSH,
    since="1.0.0",
    summary="Prepend one or multiple elements to a list",
    history=(("2.4.0", "Accepts multiple `element` arguments."),),
)
def lpush(ctx: Client, key: bytes, *elements: bytes) -> int:
    """Push elements at the head, each in turn; reply with the new length."""
    return _push(ctx, key, elements, left=True, only_existing=False)


@command(
    "rpush",
    **_PUSH,
    since="1.0.0",
    summary="Append one or multiple elements to a list",
    history=(("2.4.0", "Accepts multiple `element` arguments."),),
)
def rpush(ctx: Client, key: bytes, *elements: bytes) -> int:
    """Push elements at the tail; reply with the new length."""
    return _push(ctx, key, elements, left=False, only_existing=False)


@command(
    "lpushx",
    **_PUSH,
    since="2.2.0",
    summary="Prepend an element to a list, only if the list exists",
    history=(("4.0.0", "Accepts multiple `element` arguments."),),
)
def lpushx(ctx: Client, key: bytes, *elements: bytes) -> int:
    """LPUSH only onto an existing list; 0 if there is none."""
    return _push(ctx, key, elements, left=True, only_existing=True)


@command(
    "rpushx",
    **_PUSH,
    since="2.2.0",
    summary="Append an element to a list, only if the list exists",
    history=(("4.0.0", "Accepts multiple `element` arguments."),),
)
def rpushx(ctx: Client, key: bytes, *elements: bytes) -> int:
    """RPUSH only onto an existing list; 0 if there is none."""
    return _push(ctx, key, elements, left=False, only_existing=True)


@command(
    "lpop",
    **_POP,
    since="1.0.0",
    summary="Remove and get the first elements in a list",
)
def lpop(ctx: Client, key: bytes, *count: bytes) -> object:
    """Pop from the head: one element, or up to ``count`` as an array."""
    return _pop(ctx, "lpop", key, count, left=True)


@command(
    "rpop",
    **_POP,
    since="1.0.0",
    summary="Remove and get the last elements in a list",
)
def rpop(ctx: Client, key: bytes, *count: bytes) -> object:
    """Pop from the tail: one element, or up to ``count`` as an array."""
    return _pop(ctx, "rpop", key, count, left=False)


@command(
    "lrange",
    "key start stop",
    arity=4,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="list",
    since="1.0.0",
    summary="Get a range of elements from a list",
    complexity="O(S+N) where S is the distance of start offset from HEAD for small lists, from "
    "nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the "
    "specified range.",
)
def lrange(ctx: Client, key: bytes, start: bytes, stop: bytes) -> list[bytes]:
    """The elements from ``start`` to ``stop``, inclusive (negative: from the tail)."""
    first, last = to_int(start), to_int(stop)
    items = ctx.db.get_list(key)
    return [] if items is None else items.range(first, last)


@command(
    "llen",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="list",
    since="1.0.0",
    summary="Get the length of a list",
    complexity="O(1)",
)
def llen(ctx: Client, key: bytes) -> int:
    """The length of the list (0 if there is none)."""
    items = ctx.db.get_list(key)
    return 0 if items is None else len(items)


@command(
    "lindex",
    "key index",
    arity=3,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="list",
    since="1.0.0",
    summary="Get an element from a list by its index",
    complexity="O(N) where N is the number of elements to traverse to get to the element at index. "
    "This makes asking for the first or the last element of the list O(1).",
)
def lindex(ctx: Client, key: bytes, index: bytes) -> bytes | None:
    """The element at ``index``, or nil."""
    items = ctx.db.get_list(key)
    if items is None:
        return None
    return items.index(to_int(index))


@command(
    "lset",
    "key index element",
    arity=4,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="list",
    since="1.0.0",
    summary="Set the value of an element in a list by its index",
    complexity="O(N) where N is the length of the list. Setting either the first or the last "
    "element of the list is O(1).",
)
def lset(ctx: Client, key: bytes, index: bytes, element: bytes) -> SimpleString:
    """Replace the element at ``index``."""
    items = ctx.db.get_list(key)
    if items is None:
        raise CommandError(NO_SUCH_KEY)
    if not items.set(to_int(index), element):
        raise CommandError(INDEX_OUT_OF_RANGE)
    ctx.db.modified(key)
    return OK


@command(
    "lrem",
    "key count element",
    arity=4,
    flags="write",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="list",
    since="1.0.0",
    summary="Remove elements from a list",
    complexity="O(N+M) where N is the length of the list and M is the number of elements removed.",
)
def lrem(ctx: Client, key: bytes, count: bytes, element: bytes) -> int:
    """Remove occurrences of ``element`` (count > 0 from the head, < 0 from the tail, 0 all);
    reply with how many went."""
    how_many = to_int(count)
    items = ctx.db.get_list(key)
    if items is None:
        return 0
    removed = items.remove(element, how_many)
    if removed:
        _changed(ctx, key, items, removed)
    return removed


@command(
    "ltrim",
    "key start stop",
    arity=4,
    flags="write",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="list",
    since="1.0.0",
    summary="Trim a list to the specified range",
    complexity="O(N) where N is the number of elements to be removed by the operation.",
)
def ltrim(ctx: Client, key: bytes, start: bytes, stop: bytes) -> SimpleString:
    """Keep only the elements from ``start`` to ``stop``."""
    first, last = to_int(start), to_int(stop)
    items = ctx.db.get_list(key)
    if items is not None:
        before = len(items)
        items.trim(first, last)
        _changed(ctx, key, items, before - len(items))
    return OK


@command(
    "linsert",
    "key <BEFORE | AFTER> pivot element",
    arity=5,
    flags="write denyoom",
    keys=(1, 1, 1),
    key_flags="RW insert",
    group="list",
    since="2.2.0",
    summary="Insert an element before or after another element in a list",
    complexity="O(N) where N is the number of elements to traverse before seeing the value pivot. "
    "This means that inserting somewhere on the left end on the list (head) can be "
    "considered O(1) and inserting somewhere on the right end (tail) is O(N).",
)
def linsert(ctx: Client, key: bytes, where: bytes, pivot: bytes, element: bytes) -> int:
    """Insert before or after the first ``pivot``: the new length, -1 without the pivot, 0
    without the list."""
    place = where.lower()
    if place not in (b"before", b"after"):
        raise CommandError(SYNTAX)
    items = ctx.db.get_list(key)
    if items is None:
        return 0
    if not items.insert(pivot, element, before=place == b"before"):
        return -1
    ctx.db.modified(key)
    return len(items)


@command(
    "lpos",
    "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
    arity=-3,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="list",
    since="6.0.6",
    summary="Return the index of matching elements on a list",
    complexity="O(N) where N is the number of elements in the list, for the average case. When "
    "searching for elements near the head or the tail of the list, or when the MAXLEN "
    "option is provided, the command may run in constant time.",
)
def lpos(ctx: Client, key: bytes, element: bytes, *options: bytes) -> object:
    """The index of the first match (RANK: the rank-th, from the tail if negative), or with
    COUNT an array of up to that many (0: all); MAXLEN bounds how many are compared."""
    rank, count, maxlen = _lpos_options(options)
    items = ctx.db.get_list(key)
    if items is None:
        return None if count is None else []
    found = items.positions(element, rank, 1 if count is None else count, maxlen)
    if count is None:
        return found[0] if found else None
    return found


@command(
    "lmove",
    "source destination <LEFT | RIGHT> <LEFT | RIGHT>",
    arity=5,
    flags="write denyoom",
    keys=(1, 2, 1),
    key_flags="RW access delete | RW insert",
    group="list",
    since="6.2.0",
    summary="Pop an element from a list, push it to another list and return it",
    complexity="O(1)",
)
def lmove(
    ctx: Client, source: bytes, destination: bytes, wherefrom: bytes, whereto: bytes
) -> bytes | None:
    """Pop from one end of ``source``, push at one end of ``destination``; the element."""
    return _move(ctx, source, destination, _side(wherefrom), _side(whereto))


@command(
    "rpoplpush",
    "source destination",
    arity=3,
    flags="write denyoom",
    keys=(1, 2, 1),
    key_flags="RW access delete | RW insert",
    group="list",
    since="1.2.0",
    summary="Remove the last element in a list, prepend it to another list and return it",
    complexity="O(1)",
)
def rpoplpush(ctx: Client, source: bytes, destination: bytes) -> bytes | None:
    """LMOVE source destination RIGHT LEFT."""
    return _move(ctx, source, destination, from_left=False, to_left=True)


@command(
    "lmpop",
    "numkeys key [key ...] <LEFT | RIGHT> [COUNT count]",
    arity=-4,
    flags="write movablekeys",
    key_count=(1, 0, 1, 1),
    key_flags="RW access delete",
    group="list",
    since="7.0.0",
    summary="Pop elements from a list",
    complexity="O(N+M) where N is the number of provided keys and M is the number of elements "
    "returned.",
)
def lmpop(ctx: Client, numkeys: bytes, *args: bytes) -> object:
    """Pop up to COUNT (1) elements from the first non-empty list of the keys: [key,
    [elements]], or a null array; logged as the LPOP or RPOP it amounts to."""
    keys, left, count = _mpop_arguments(numkeys, args)
    for key in keys:
        items = ctx.db.get_list(key)
        if items is None:
            continue
        popped = items.pop(left, count)
        _changed(ctx, key, items, len(popped))
        ctx.propagate_as([b"LPOP" if left else b"RPOP", key, b"%d" % len(popped)])
        return [key, popped]
    return NULL_ARRAY


def _mpop_arguments(numkeys: bytes, args: tuple[bytes, ...]) -> tuple[tuple[bytes, ...], bool, int]:
    """LMPOP's (and BLMPOP's) numkeys, keys, side and COUNT, checked in Redis's order."""
    count_of_keys = _at_least(numkeys, 1, NUMKEYS_NOT_POSITIVE)
    if count_of_keys >= len(args):
        raise CommandError(SYNTAX)
    keys, side, options = args[:count_of_keys], args[count_of_keys], args[count_of_keys + 1 :]
    left = _side(side)
    count = None
    i = 0
    while i < len(options):
        if count is None and options[i].lower() == b"count" and i + 1 < len(options):
            count = _at_least(options[i + 1], 1, COUNT_NOT_POSITIVE)
            i += 2
        else:
            raise CommandError(SYNTAX)
    return keys, left, 1 if count is None else count
