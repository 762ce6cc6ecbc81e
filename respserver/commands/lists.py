"""List commands. https://redis.io/docs/latest/commands/?group=list

Handlers reach a list through ``ctx.db.get_list``/``list_for_write`` and change it through
``ListValue``'s methods (keyspace/lists.py), then tell the database: ``store`` for a new list,
``modified`` for one changed in place, ``delete`` for one left empty (Redis deletes an empty
list), each counting what Redis adds to its dirty count (one per element pushed or popped).
Each change then names its keyspace event as Redis's t_list.c does ("lpush", "lpop"..., and a
generic "del" when the list went).
"""

from __future__ import annotations

from respserver.commands.arguments import mpop_arguments
from respserver.core.blocking import deadline_after, take_or_wait, wait_for
from respserver.core.state import Client
from respserver.errors import (
    COUNT_NEGATIVE,
    INDEX_OUT_OF_RANGE,
    MAXLEN_NEGATIVE,
    MUST_BE_POSITIVE,
    NO_SUCH_KEY,
    RANK_ZERO,
    SYNTAX,
    CommandError,
    wrong_arity,
)
from respserver.keyspace.events import GENERIC, LIST
from respserver.keyspace.lists import ListValue
from respserver.numbers import to_int, to_int_at_least
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


def _changed(ctx: Client, key: bytes, items: ListValue, dirty: int, event: bytes) -> None:
    """After ``items`` (stored at ``key``) lost elements: delete the key if it is empty; the
    change is ``event``, then "del" if the list went."""
    db = ctx.db
    if items:
        db.modified(key, dirty)
    else:
        db.delete(key, dirty)
    db.notify(LIST, event, key)
    if not items:
        db.notify(GENERIC, b"del", key)


def _pop_event(left: bool) -> bytes:
    """The event of a pop from the head (left) or the tail."""
    return b"lpop" if left else b"rpop"


def _pushed(
    ctx: Client, key: bytes, items: ListValue, created: bool, left: bool, dirty: int
) -> None:
    """After ``items`` got elements pushed at one end: store it if it is new to the keyspace
    (a "new" event), then the "lpush" or "rpush" event."""
    if created:
        ctx.db.store(key, items, keep_ttl=True, dirty=dirty)
    else:
        ctx.db.modified(key, dirty)
    ctx.db.notify(LIST, b"lpush" if left else b"rpush", key)


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
    _pushed(ctx, key, items, created, left, len(elements))
    return length


def _pop(ctx: Client, name: str, key: bytes, count: tuple[bytes, ...], left: bool) -> object:
    if len(count) > 1:
        raise wrong_arity(name)
    many = to_int_at_least(count[0], 0, MUST_BE_POSITIVE) if count else None
    items = ctx.db.get_list(key)
    if items is None:
        return None if many is None else NULL_ARRAY
    if many == 0:
        return []
    popped = items.pop(left, 1 if many is None else many)
    _changed(ctx, key, items, len(popped), _pop_event(left))
    return popped[0] if many is None else popped


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
            count = to_int_at_least(options[i + 1], 0, COUNT_NEGATIVE)
        elif option == b"maxlen" and more:
            maxlen = to_int_at_least(options[i + 1], 0, MAXLEN_NEGATIVE)
        else:
            raise CommandError(SYNTAX)
        i += 2
    return rank, count, maxlen


_SIDES = (b"left", b"right")


def _side(where: bytes) -> bool:
    """LEFT (True) or RIGHT (False)."""
    side = where.lower()
    if side not in (b"left", b"right"):
        raise CommandError(SYNTAX)
    return side == b"left"


def _move(
    ctx: Client, source: bytes, destination: bytes, from_left: bool, to_left: bool
) -> bytes | None:
    """LMOVE's body: one change, counted once; the push's event comes before the pop's, as in
    Redis."""
    db = ctx.db
    items = db.get_list(source)
    if items is None:
        return None
    target = items if destination == source else db.get_list(destination)
    (value,) = items.pop(from_left)
    created = target is None
    if created:
        target = ListValue()
    target.push((value,), to_left)
    _pushed(ctx, destination, target, created, to_left, 0)
    # One change; with itself, the list is never left empty.
    _changed(ctx, source, items, 1, _pop_event(from_left))
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
    ctx.db.notify(LIST, b"lset", key)
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
        _changed(ctx, key, items, removed, b"lrem")
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
        _changed(ctx, key, items, before - len(items), b"ltrim")
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
    ctx.db.notify(LIST, b"linsert", key)
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
    deprecated=("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
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
    keys, left, count = mpop_arguments(numkeys, args, _SIDES)
    for key in keys:
        items = ctx.db.get_list(key)
        if items is not None:
            return _pop_with_key(ctx, key, items, left, count)
    return NULL_ARRAY


def _pop_with_key(
    ctx: Client, key: bytes, items: ListValue, left: bool, count: int | None
) -> list[object]:
    """Pop from the list at ``key`` for BLPOP/BRPOP ([key, element]: ``count`` None) or
    LMPOP/BLMPOP ([key, [elements]]); logged as the LPOP or RPOP it amounts to, as Redis
    propagates it."""
    popped = items.pop(left, 1 if count is None else count)
    _changed(ctx, key, items, len(popped), _pop_event(left))
    pop = b"LPOP" if left else b"RPOP"
    if count is None:
        ctx.propagate_as([pop, key])
        return [key, popped[0]]
    ctx.propagate_as([pop, key, b"%d" % len(popped)])
    return [key, popped]


# --- blocking ------------------------------------------------------------------------------------
#
# Each takes at once when it can, as its plain form would; otherwise it waits (core/blocking.py)
# with a ``serve`` that takes from the key that became ready, or declines when that key holds
# another type. (BLMOVE served while its destination holds another type answers WRONGTYPE.)


def _blocking_pop(
    ctx: Client, keys: tuple[bytes, ...], timeout: bytes, left: bool, count: int | None = None
) -> object:
    def take(key: bytes, items: ListValue) -> object:
        return _pop_with_key(ctx, key, items, left, count)

    return take_or_wait(ctx, keys, timeout, ListValue, take)


_BLOCKING_POP = dict(
    syntax="key [key ...] timeout",
    arity=-3,
    flags="write noscript blocking",
    keys=(1, -2, 1),
    key_flags="RW access delete",
    group="list",
    since="2.0.0",
    complexity="O(N) where N is the number of provided keys.",
    history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
)


@command(
    "blpop",
    **_BLOCKING_POP,
    summary="Remove and get the first element in a list, or block until one is available",
)
def blpop(ctx: Client, *args: bytes) -> object:
    """LPOP from the first non-empty list of the keys as [key, element], or wait for one."""
    return _blocking_pop(ctx, args[:-1], args[-1], left=True)


@command(
    "brpop",
    **_BLOCKING_POP,
    summary="Remove and get the last element in a list, or block until one is available",
)
def brpop(ctx: Client, *args: bytes) -> object:
    """RPOP from the first non-empty list of the keys as [key, element], or wait for one."""
    return _blocking_pop(ctx, args[:-1], args[-1], left=False)


@command(
    "blmpop",
    "timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]",
    arity=-5,
    flags="write blocking movablekeys",
    key_count=(2, 0, 1, 1),
    key_flags="RW access delete",
    group="list",
    since="7.0.0",
    summary="Pop elements from a list, or block until one is available",
    complexity="O(N+M) where N is the number of provided keys and M is the number of elements "
    "returned.",
)
def blmpop(ctx: Client, timeout: bytes, numkeys: bytes, *args: bytes) -> object:
    """LMPOP that waits for a list when every key is empty (the timeout is checked last)."""
    keys, left, count = mpop_arguments(numkeys, args, _SIDES)
    return _blocking_pop(ctx, keys, timeout, left, count)


def _blocking_move(
    ctx: Client,
    source: bytes,
    destination: bytes,
    sides: tuple[bool, bool],
    timeout: bytes,
    logged: tuple[list[bytes], list[bytes]],
) -> object:
    """BLMOVE's body; ``logged`` is what the AOF gets when it moves at once, then when it
    moves once served."""
    deadline = deadline_after(timeout)
    if ctx.db.get_list(source) is not None:
        ctx.propagate_as(logged[0])
        return _move(ctx, source, destination, *sides)

    def serve(key: bytes) -> object:
        if type(ctx.db.get(source)) is not ListValue:
            return None
        ctx.propagate_as(logged[1])
        return _move(ctx, source, destination, *sides)  # WRONGTYPE for the destination's type

    return wait_for(ctx, (source,), deadline, serve, denied=None)


@command(
    "blmove",
    "source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout",
    arity=6,
    flags="write denyoom noscript blocking",
    keys=(1, 2, 1),
    key_flags="RW access delete | RW insert",
    group="list",
    since="6.2.0",
    summary="Pop an element from a list, push it to another list and return it; or block "
    "until one is available",
    complexity="O(1)",
)
def blmove(
    ctx: Client, source: bytes, destination: bytes, wherefrom: bytes, whereto: bytes, timeout: bytes
) -> object:
    """LMOVE, or wait for ``source`` to hold a list; logged as LMOVE."""
    sides = _side(wherefrom), _side(whereto)
    words = [b"left" if side else b"right" for side in sides]
    at_once = [b"LMOVE", source, destination, wherefrom, whereto]
    return _blocking_move(
        ctx, source, destination, sides, timeout, (at_once, [*at_once[:3], *words])
    )


@command(
    "brpoplpush",
    "source destination timeout",
    arity=4,
    flags="write denyoom noscript blocking",
    keys=(1, 2, 1),
    key_flags="RW access delete | RW insert",
    group="list",
    since="2.2.0",
    summary="Pop an element from a list, push it to another list and return it; or block "
    "until one is available",
    complexity="O(1)",
    history=(("6.0.0", "`timeout` is interpreted as a double instead of an integer."),),
    deprecated=("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
)
def brpoplpush(ctx: Client, source: bytes, destination: bytes, timeout: bytes) -> object:
    """RPOPLPUSH, or wait for ``source`` to hold a list; logged as RPOPLPUSH."""
    logged = [b"RPOPLPUSH", source, destination]
    return _blocking_move(ctx, source, destination, (False, True), timeout, (logged, logged))
