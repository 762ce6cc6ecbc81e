"""SORT and SORT_RO: a list, set or sorted set sorted by its elements or by keys they name
(BY), as numbers or strings (ALPHA), cut by LIMIT, projected through GET patterns, replied or
stored as a list (STORE). https://redis.io/docs/latest/commands/sort/

Patterns, as Redis's lookupKeyByPattern reads them: the first ``*`` is replaced by the element;
``key->field`` reads a hash field; a pattern without ``*`` names nothing (but ``BY nosort``
skips the sort), and ``#`` is the element itself.
"""

from __future__ import annotations

from respserver.core.state import Client
from respserver.errors import SCORES_NOT_DOUBLES, SORT_DENIED, SYNTAX, WRONGTYPE, CommandError
from respserver.keyspace.events import GENERIC, LIST
from respserver.keyspace.lists import ListValue
from respserver.keyspace.sets import SetValue
from respserver.keyspace.zsets import ZSetValue
from respserver.numbers import strtod, to_int
from respserver.registry import COMMANDS, command

_SKIPPED = {b"limit": 2, b"get": 1, b"by": 1}  # what sortGetKeys steps over


def _sort_keys(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """Redis's sortGetKeys: the sorted key, and the last STORE's destination."""
    found = [(1, ("RO", "access"))]
    store = None
    i = 2
    while i < len(argv):
        word = argv[i].lower()
        if word in _SKIPPED:
            i += _SKIPPED[word]
        elif word == b"store" and i + 1 < len(argv):
            store = i + 1
        i += 1
    return found + ([(store, ("OW", "update"))] if store is not None else [])


class _Options:
    __slots__ = ("desc", "alpha", "start", "count", "by", "gets", "store", "dontsort")

    def __init__(self, args: tuple[bytes, ...], readonly: bool, may_read: bool) -> None:
        self.desc = self.alpha = self.dontsort = False
        self.start, self.count = 0, -1
        self.by: bytes | None = None
        self.gets: list[bytes] = []
        self.store: bytes | None = None
        i = 0
        while i < len(args):
            word, left = args[i].lower(), len(args) - i - 1
            if word in (b"asc", b"desc"):
                self.desc = word == b"desc"
            elif word == b"alpha":
                self.alpha = True
            elif word == b"limit" and left >= 2:
                self.start, self.count = to_int(args[i + 1]), to_int(args[i + 2])
                i += 2
            elif word == b"store" and left >= 1 and not readonly:
                self.store = args[i + 1]
                i += 1
            elif word == b"by" and left >= 1:
                self.by = args[i + 1]
                self.dontsort = b"*" not in self.by
                if not self.dontsort and not may_read:
                    raise CommandError(SORT_DENIED.format("BY"))
                i += 1
            elif word == b"get" and left >= 1:
                if not may_read:
                    raise CommandError(SORT_DENIED.format("GET"))
                self.gets.append(args[i + 1])
                i += 1
            else:
                raise CommandError(SYNTAX)
            i += 1


def _lookup(ctx: Client, pattern: bytes, element: bytes) -> bytes | None:
    """The string (or hash field) a GET/BY pattern names for ``element``."""
    if pattern == b"#":
        return element
    star = pattern.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    field = None
    if arrow >= 0 and arrow + 2 < len(pattern):
        pattern, field = pattern[:arrow], pattern[arrow + 2 :]
    value = ctx.db.get(pattern[:star] + element + pattern[star + 1 :])
    if field is None:
        return value if type(value) is bytes else None
    return value.get(field) if type(value) is dict else None


def _score(text: bytes) -> float:
    """An element (or BY value) as SORT's strtod reads it: up to a NUL, leading spaces
    skipped, "" is 0; anything else, out of range or NaN fails the whole SORT."""
    text = text.split(b"\0", 1)[0]
    if not text:
        return 0.0
    parsed = strtod(text.lstrip()) if text.strip() else None  # (bytes strip C's isspace)
    if parsed is None or parsed[1]:
        raise CommandError(SCORES_NOT_DOUBLES)
    return parsed[0]


def _window(size: int, start: int, count: int) -> tuple[int, int]:
    """LIMIT's [start, end] over ``size`` elements, clamped as Redis clamps it."""
    start = min(max(start, 0), size)
    count = min(max(count, -1), size)
    end = size - 1 if count < 0 else start + count - 1
    if start >= size:
        start, end = size - 1, size - 2
    return start, min(end, size - 1)


def _sorted(ctx: Client, value: object, options: _Options) -> list[bytes]:
    """The elements, in SORT's order, LIMIT applied."""
    if type(value) is SetValue and options.dontsort and options.store is not None:
        options.dontsort, options.alpha, options.by = False, True, None  # replicable order
    elements = list(value) if value is not None else []
    start, end = _window(len(elements), options.start, options.count)
    if options.dontsort:
        if options.desc and type(value) is not SetValue:
            elements.reverse()
        return elements[start : end + 1]
    by = options.by
    if options.alpha:
        if by is None:
            ordered = sorted(elements, reverse=options.desc)
        else:
            weights = {e: _lookup(ctx, by, e) for e in elements}
            # Missing weights first; equal weights keep no order Redis promises.
            ordered = sorted(
                elements,
                key=lambda e: (weights[e] is not None, weights[e] or b""),
                reverse=options.desc,
            )
    else:
        scores = {e: _score(_lookup(ctx, by, e) or b"") if by else _score(e) for e in elements}
        # Equal scores by the elements' bytes, as Redis's sortCompare.
        ordered = sorted(elements, key=lambda e: (scores[e], e), reverse=options.desc)
    return ordered[start : end + 1]


def _sort(ctx: Client, key: bytes, args: tuple[bytes, ...], readonly: bool) -> object:
    name = b"sort_ro" if readonly else b"sort"
    user = ctx.user
    may_read = user.unrestricted or user.may_read_every_key(COMMANDS[name], [name, key, *args])
    options = _Options(args, readonly, may_read)
    value = ctx.db.get(key)
    if value is not None and type(value) not in (ListValue, SetValue, ZSetValue):
        raise CommandError(WRONGTYPE)
    chosen = _sorted(ctx, value, options)
    if options.gets:
        reply: list = [_lookup(ctx, g, e) for e in chosen for g in options.gets]
    else:
        reply = chosen
    if options.store is None:
        return reply
    stored = [b"" if item is None else item for item in reply]
    if stored:
        ctx.db.store(options.store, ListValue(stored), dirty=len(stored))
        ctx.db.notify(LIST, b"sortstore", options.store)
    elif ctx.db.delete(options.store):
        ctx.db.notify(GENERIC, b"del", options.store)
    return len(stored)


_SORT_NOTES = (
    "| For the optional BY/GET keyword. It is marked 'unknown' because the key names derive "
    "from the content of the key we sort"
)
_COMPLEXITY = (
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "
    "number of returned elements. When the elements are not sorted, complexity is O(N)."
)


@command(
    "sort",
    "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] "
    "[ALPHA] [STORE destination]",
    arity=-2,
    flags="write denyoom movablekeys",
    keys=(1, 1, 1),
    key_flags="RO access | RO access | OW update",
    key_notes=_SORT_NOTES + " | For the optional STORE keyword. It is marked 'unknown' "
    "because the keyword can appear anywhere in the argument array",
    unknown_keys=2,
    getkeys=_sort_keys,
    categories="dangerous list set sortedset",
    group="generic",
    since="1.0.0",
    summary="Sort the elements in a list, set or sorted set",
    complexity=_COMPLEXITY,
)
def sort(ctx: Client, key: bytes, *args: bytes) -> object:
    """The sorted elements (or what GET patterns name), or with STORE their count, stored
    as a list at the destination (deleted when there are none)."""
    return _sort(ctx, key, args, readonly=False)


@command(
    "sort_ro",
    "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]",
    arity=-2,
    flags="readonly movablekeys",
    keys=(1, 1, 1),
    key_flags="RO access | RO access",
    key_notes=_SORT_NOTES,
    unknown_keys=1,
    getkeys=lambda argv: [(1, ("RO", "access"))],
    categories="dangerous list set sortedset",
    group="generic",
    since="7.0.0",
    summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    complexity=_COMPLEXITY,
)
def sort_ro(ctx: Client, key: bytes, *args: bytes) -> object:
    """SORT without STORE."""
    return _sort(ctx, key, args, readonly=True)
