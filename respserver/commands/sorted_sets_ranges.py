"""Sorted-set ranges: ZRANGE in all its forms (by rank, score or lex, reversed, limited,
stored: ZRANGESTORE) and the older commands it absorbed (ZRANGEBYSCORE, ZREVRANGE...), the
counts (ZCOUNT, ZLEXCOUNT) and the removals (ZREMRANGEBY*). One parser reads every form's
arguments in Redis's order of checks, and one engine serves them all: a form becomes a span of
positions in the order (``ZSetValue``'s rank_span, score_span, lex_span), which is read, with
an offset and a limit, or removed. https://redis.io/docs/latest/commands/zrange/
"""

from __future__ import annotations

from typing import NamedTuple

from respserver.commands.sorted_sets import changed, limits, scored
from respserver.core.state import Client
from respserver.errors import (
    LIMIT_WITHOUT_BY,
    RANGE_NOT_FLOAT,
    RANGE_NOT_LEX,
    SYNTAX,
    WITHSCORES_WITH_BYLEX,
    CommandError,
)
from respserver.keyspace.events import GENERIC, ZSET
from respserver.keyspace.zsets import LEX_MAX, LEX_MIN, Item, LexRange, ScoreRange, ZSetValue
from respserver.numbers import range_double, to_int
from respserver.registry import command

_RANK, _SCORE, _LEX = "rank", "score", "lex"


# --- ranges: parsing ----------------------------------------------------------------------------


def _score_bound(text: bytes) -> tuple[float, bool]:
    if text[:1] == b"(":
        return range_double(text[1:], RANGE_NOT_FLOAT), True
    return range_double(text, RANGE_NOT_FLOAT), False


def score_range(low: bytes, high: bytes) -> ScoreRange:
    """``min max`` as zslParseRange reads them ("(" exclusive, -inf/+inf)."""
    return ScoreRange(*_score_bound(low), *_score_bound(high))


def _lex_bound(text: bytes) -> tuple[bytes | int, bool]:
    first, rest = text[:1], text[1:]
    if first in (b"+", b"-") and rest[:1] in (b"", b"\0"):  # C stops reading at a NUL
        return (LEX_MAX if first == b"+" else LEX_MIN), True
    if first in (b"(", b"["):
        return rest, first == b"("
    raise CommandError(RANGE_NOT_LEX)


def lex_range(low: bytes, high: bytes) -> LexRange:
    """``min max`` as zslParseLexRange reads them ("[a", "(a", "-", "+")."""
    return LexRange(*_lex_bound(low), *_lex_bound(high))


class _Range(NamedTuple):
    """A parsed ZRANGE: its form, bounds, direction, options."""

    form: str
    bounds: tuple[int, int] | ScoreRange | LexRange
    reverse: bool
    withscores: bool
    offset: int
    limit: int


def _parse_range(
    low: bytes,
    high: bytes,
    options: tuple[bytes, ...],
    form: str | None,
    reverse: bool | None,
    store: bool,
) -> _Range:
    """ZRANGE's options and bounds, checked in Redis's order. ``form`` and ``reverse`` are
    fixed by the older commands (ZRANGEBYSCORE...), None where ZRANGE's options choose."""
    withscores = False
    offset, limit = 0, -1
    i = 0
    while i < len(options):
        word = options[i].lower()
        if word == b"withscores" and not store:
            withscores = True
        elif word == b"limit" and i + 2 < len(options):
            offset, limit = to_int(options[i + 1]), to_int(options[i + 2])
            i += 2
        elif word == b"rev" and reverse is None:
            reverse = True
        elif word in (b"byscore", b"bylex") and form is None:
            form = _SCORE if word == b"byscore" else _LEX
        else:
            raise CommandError(SYNTAX)
        i += 1
    form = form or _RANK
    if limit != -1 and form == _RANK:
        raise CommandError(LIMIT_WITHOUT_BY)
    if withscores and form == _LEX:
        raise CommandError(WITHSCORES_WITH_BYLEX)
    reverse = bool(reverse)
    if reverse and form != _RANK:
        low, high = high, low  # given as max min
    bounds: tuple[int, int] | ScoreRange | LexRange
    if form == _RANK:
        bounds = (to_int(low), to_int(high))
    elif form == _SCORE:
        bounds = score_range(low, high)
    else:
        bounds = lex_range(low, high)
    return _Range(form, bounds, reverse, withscores, offset, limit)


def span(zset: ZSetValue, form: str, bounds: object, reverse: bool = False) -> tuple[int, int]:
    """The positions a range form covers, read from its high end if ``reverse`` (rank bounds
    then count from the highest score)."""
    if form == _RANK:
        start, stop = bounds  # type: ignore[misc]
        return zset.rank_span(start, stop, reverse)
    if form == _SCORE:
        return zset.score_span(bounds)  # type: ignore[arg-type]
    return zset.lex_span(bounds, reverse)  # type: ignore[arg-type]


def _range_items(zset: ZSetValue, query: _Range) -> list[Item]:
    positions = span(zset, query.form, query.bounds, query.reverse)
    return zset.read(positions, query.reverse, query.offset, query.limit)


def _range_reply(
    ctx: Client,
    key: bytes,
    low: bytes,
    high: bytes,
    options: tuple[bytes, ...],
    form: str | None = None,
    reverse: bool | None = None,
) -> list[object]:
    query = _parse_range(low, high, options, form, reverse, store=False)
    zset = ctx.db.get_zset(key)
    if zset is None:
        return []
    return scored(ctx, _range_items(zset, query), query.withscores)


def store_result(
    ctx: Client, destination: bytes, items: list[Item], event: bytes, dirty: int = 1
) -> int:
    """Put a computed sorted set at ``destination`` (replacing any value and its TTL): an
    ``event`` (zrangestore, zunionstore, geosearchstore...) and ``dirty`` changes; or, if it
    has no members, delete the destination: "del" and one change if there was one. Its size."""
    db = ctx.db
    if items:
        db.store(destination, ZSetValue(items, limits(ctx)), dirty=dirty)
        db.notify(ZSET, event, destination)
    elif db.delete(destination):
        db.notify(GENERIC, b"del", destination)
    return len(items)


# --- ranges: the commands -------------------------------------------------------------------------

_RANGE_META = dict(
    arity=-4,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="sorted-set",
)
_LIMITED = (
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
    "with LIMIT), you can consider it O(log(N))."
)
_BY_META = dict(**_RANGE_META, complexity=_LIMITED)  # the older BYSCORE and BYLEX commands


@command(
    "zrange",
    "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
    **_RANGE_META,
    since="1.2.0",
    summary="Return a range of members in a sorted set",
    complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the "
    "number of elements returned.",
    history=(("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),),
)
def zrange(ctx: Client, key: bytes, start: bytes, stop: bytes, *options: bytes) -> list[object]:
    """Members by rank, or BYSCORE / BYLEX, REV, LIMIT offset count, WITHSCORES."""
    return _range_reply(ctx, key, start, stop, options)


@command(
    "zrangestore",
    "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]",
    arity=-5,
    flags="write denyoom",
    keys=(1, 2, 1),
    key_flags="OW update | RO access",
    group="sorted-set",
    since="6.2.0",
    summary="Store a range of members from sorted set into another key",
    complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the "
    "number of elements stored into the destination key.",
)
def zrangestore(
    ctx: Client, dst: bytes, src: bytes, low: bytes, high: bytes, *options: bytes
) -> int:
    """ZRANGE's members and scores stored at ``dst``: how many."""
    query = _parse_range(low, high, options, None, None, store=True)
    zset = ctx.db.get_zset(src)
    items = [] if zset is None else _range_items(zset, query)
    return store_result(ctx, dst, items, b"zrangestore")


@command(
    "zrangebyscore",
    "key min max [WITHSCORES] [LIMIT offset count]",
    **_BY_META,
    since="1.0.5",
    summary="Return a range of members in a sorted set, by score",
    history=(("2.0.0", "Added the `WITHSCORES` modifier."),),
    deprecated=("6.2.0", "`ZRANGE` with the `BYSCORE` argument"),
)
def zrangebyscore(ctx: Client, key: bytes, low: bytes, high: bytes, *options: bytes) -> object:
    """ZRANGE key min max BYSCORE."""
    return _range_reply(ctx, key, low, high, options, _SCORE, False)


@command(
    "zrevrangebyscore",
    "key max min [WITHSCORES] [LIMIT offset count]",
    **_BY_META,
    since="2.2.0",
    summary="Return a range of members in a sorted set, by score, with scores ordered from "
    "high to low",
    history=(("2.1.6", "`min` and `max` can be exclusive."),),
    deprecated=("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"),
)
def zrevrangebyscore(ctx: Client, key: bytes, high: bytes, low: bytes, *options: bytes) -> object:
    """ZRANGE key max min BYSCORE REV."""
    return _range_reply(ctx, key, high, low, options, _SCORE, True)


@command(
    "zrangebylex",
    "key min max [LIMIT offset count]",
    **_BY_META,
    since="2.8.9",
    summary="Return a range of members in a sorted set, by lexicographical range",
    deprecated=("6.2.0", "`ZRANGE` with the `BYLEX` argument"),
)
def zrangebylex(ctx: Client, key: bytes, low: bytes, high: bytes, *options: bytes) -> object:
    """ZRANGE key min max BYLEX."""
    return _range_reply(ctx, key, low, high, options, _LEX, False)


@command(
    "zrevrangebylex",
    "key max min [LIMIT offset count]",
    **_BY_META,
    since="2.8.9",
    summary="Return a range of members in a sorted set, by lexicographical range, ordered "
    "from higher to lower strings.",
    deprecated=("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"),
)
def zrevrangebylex(ctx: Client, key: bytes, high: bytes, low: bytes, *options: bytes) -> object:
    """ZRANGE key max min BYLEX REV."""
    return _range_reply(ctx, key, high, low, options, _LEX, True)


@command(
    "zrevrange",
    "key start stop [WITHSCORES]",
    **_RANGE_META,
    since="1.2.0",
    summary="Return a range of members in a sorted set, by index, with scores ordered from "
    "high to low",
    complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the "
    "number of elements returned.",
    deprecated=("6.2.0", "`ZRANGE` with the `REV` argument"),
)
def zrevrange(ctx: Client, key: bytes, start: bytes, stop: bytes, *options: bytes) -> object:
    """ZRANGE key start stop REV."""
    return _range_reply(ctx, key, start, stop, options, _RANK, True)


_COUNT_META = dict(
    arity=4,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="sorted-set",
    complexity="O(log(N)) with N being the number of elements in the sorted set.",
)


def _count(ctx: Client, key: bytes, form: str, bounds: ScoreRange | LexRange) -> int:
    zset = ctx.db.get_zset(key)
    if zset is None:
        return 0
    start, stop = span(zset, form, bounds)
    return stop - start


@command(
    "zcount",
    "key min max",
    **_COUNT_META,
    since="2.0.0",
    summary="Count the members in a sorted set with scores within the given values",
)
def zcount(ctx: Client, key: bytes, low: bytes, high: bytes) -> int:
    """How many members have a score in [min, max]."""
    return _count(ctx, key, _SCORE, score_range(low, high))


@command(
    "zlexcount",
    "key min max",
    **_COUNT_META,
    since="2.8.9",
    summary="Count the number of members in a sorted set between a given lexicographical range",
)
def zlexcount(ctx: Client, key: bytes, low: bytes, high: bytes) -> int:
    """How many members lie in the lex range."""
    return _count(ctx, key, _LEX, lex_range(low, high))


def _remove_range(ctx: Client, key: bytes, form: str, bounds: object) -> int:
    """ZREMRANGEBYRANK, ZREMRANGEBYSCORE or ZREMRANGEBYLEX (``form``): how many went."""
    zset = ctx.db.get_zset(key)
    if zset is None:
        return 0
    removed = zset.delete(span(zset, form, bounds))
    changed(ctx, key, zset, removed, b"zremrangeby" + form.encode())
    return removed


_REMOVE_META = dict(
    arity=4,
    flags="write",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="sorted-set",
    complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the "
    "number of elements removed by the operation.",
)


@command(
    "zremrangebyscore",
    "key min max",
    **_REMOVE_META,
    since="1.2.0",
    summary="Remove all members in a sorted set within the given scores",
)
def zremrangebyscore(ctx: Client, key: bytes, low: bytes, high: bytes) -> int:
    """Remove the members with a score in the range: how many went."""
    return _remove_range(ctx, key, _SCORE, score_range(low, high))


@command(
    "zremrangebyrank",
    "key start stop",
    **_REMOVE_META,
    since="2.0.0",
    summary="Remove all members in a sorted set within the given indexes",
)
def zremrangebyrank(ctx: Client, key: bytes, start: bytes, stop: bytes) -> int:
    """Remove the members from rank ``start`` to ``stop``: how many went."""
    return _remove_range(ctx, key, _RANK, (to_int(start), to_int(stop)))


@command(
    "zremrangebylex",
    "key min max",
    **_REMOVE_META,
    since="2.8.9",
    summary="Remove all members in a sorted set between the given lexicographical range",
)
def zremrangebylex(ctx: Client, key: bytes, low: bytes, high: bytes) -> int:
    """Remove the members in the lex range: how many went."""
    return _remove_range(ctx, key, _LEX, lex_range(low, high))
