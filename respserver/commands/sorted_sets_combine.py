"""Sorted sets combined and sampled: ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD and
ZRANDMEMBER. https://redis.io/docs/latest/commands/?group=sorted-set

The inputs of the combining commands may be sorted sets or plain sets (each member scoring 1),
as in Redis. Scores combine as t_zset.c combines them: each input's score times its weight,
the product 0 when it is NaN (0 * inf), aggregated by SUM (inf + -inf is 0), MIN or MAX, the
inputs taken from the smallest to the largest (ZDIFF: in the order given).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from respserver.commands.sorted_sets import scored
from respserver.commands.sorted_sets_ranges import store_result
from respserver.core.state import Client
from respserver.errors import (
    LIMIT_NEGATIVE,
    OUT_OF_RANGE,
    SYNTAX,
    WEIGHT_NOT_FLOAT,
    WRONGTYPE,
    CommandError,
    no_input_key,
    out_of_range_between,
)
from respserver.keyspace.sets import SetValue
from respserver.keyspace.zsets import NEVER_COMPACT, Item, ZSetValue
from respserver.numbers import INT64_MAX, to_double, to_int
from respserver.registry import command

_UNION, _INTER, _DIFF = "union", "inter", "diff"


class _Input:
    """One input of a combining command: a sorted set, a set (scores 1) or nothing."""

    __slots__ = ("value", "weight")

    def __init__(self, value: ZSetValue | SetValue | None) -> None:
        self.value = value
        self.weight = 1.0

    def __len__(self) -> int:
        return 0 if self.value is None else len(self.value)

    def items(self) -> Iterator[Item]:
        value = self.value
        if type(value) is ZSetValue:
            return iter(value.items())
        return ((member, 1.0) for member in value or ())

    def score(self, member: bytes) -> float | None:
        value = self.value
        if type(value) is ZSetValue:
            return value.score(member)
        return 1.0 if value is not None and member in value else None


def _sum(total: float, value: float) -> float:
    total += value
    return 0.0 if total != total else total


_AGGREGATES: dict[bytes, Callable[[float, float], float]] = {
    b"sum": _sum,
    b"min": lambda total, value: value if value < total else total,
    b"max": lambda total, value: value if value > total else total,
}


def _weighted(score: float, weight: float) -> float:
    product = score * weight
    return 0.0 if product != product else product


class _Combination:
    """A combining command's inputs and options, parsed and checked in Redis's order: numkeys,
    the keys' types, then WEIGHTS, AGGREGATE, WITHSCORES or LIMIT as the command allows."""

    def __init__(
        self, ctx: Client, name: str, numkeys: bytes, args: tuple[bytes, ...], op: str
    ) -> None:
        count = to_int(numkeys)
        if count < 1:
            raise no_input_key(name)
        if count > len(args):
            raise CommandError(SYNTAX)
        self.inputs = [_Input(_input_value(ctx, key)) for key in args[:count]]
        self.aggregate = _sum
        self.withscores = False
        self.limit = 0
        self._options(args[count:], op, name)

    def _options(self, options: tuple[bytes, ...], op: str, name: str) -> None:
        combine = op != _DIFF and name != "zintercard"
        i = 0
        while i < len(options):
            word, left = options[i].lower(), len(options) - i
            if combine and word == b"weights" and left > len(self.inputs):
                for source in self.inputs:
                    i += 1
                    source.weight = to_double(options[i], WEIGHT_NOT_FLOAT)
            elif combine and word == b"aggregate" and left >= 2:
                i += 1
                aggregate = _AGGREGATES.get(options[i].lower())
                if aggregate is None:
                    raise CommandError(SYNTAX)
                self.aggregate = aggregate
            elif word == b"withscores" and name in ("zunion", "zinter", "zdiff"):
                self.withscores = True
            elif word == b"limit" and name == "zintercard" and left >= 2:
                i += 1
                self.limit = to_int(options[i], LIMIT_NEGATIVE)
                if self.limit < 0:
                    raise CommandError(LIMIT_NEGATIVE)
            else:
                raise CommandError(SYNTAX)
            i += 1

    def members(self, op: str) -> Iterator[Item]:
        """The combination's (member, score)s, in no particular order."""
        if op == _DIFF:
            first, *others = self.inputs
            for member, score in first.items():
                if all(other.score(member) is None for other in others):
                    yield member, score
            return
        inputs = sorted(self.inputs, key=len)  # stable, as Redis's qsort of them
        if op == _INTER:
            yield from self._intersection(inputs)
            return
        totals: dict[bytes, float] = {}
        aggregate = self.aggregate
        for source in inputs:
            for member, score in source.items():
                value = _weighted(score, source.weight)
                total = totals.get(member)
                totals[member] = value if total is None else aggregate(total, value)
        yield from totals.items()

    def _intersection(self, inputs: list[_Input]) -> Iterator[Item]:
        first, *others = inputs
        aggregate = self.aggregate
        for member, score in first.items():
            total = _weighted(score, first.weight)
            for other in others:
                found = other.score(member)
                if found is None:
                    break
                total = aggregate(total, found * other.weight)  # unchecked, as in Redis
            else:
                yield member, total


def _input_value(ctx: Client, key: bytes) -> ZSetValue | SetValue | None:
    value = ctx.db.get(key)
    if value is not None and type(value) is not ZSetValue and type(value) is not SetValue:
        raise CommandError(WRONGTYPE)
    return value


def _combined(ctx: Client, name: str, op: str, numkeys: bytes, args: tuple[bytes, ...]) -> object:
    combination = _Combination(ctx, name, numkeys, args, op)
    result = ZSetValue(combination.members(op), NEVER_COMPACT)  # so -0 stays -0
    return scored(ctx, result.items(), combination.withscores)


def _combined_store(
    ctx: Client, name: str, op: str, destination: bytes, numkeys: bytes, args: tuple[bytes, ...]
) -> int:
    combination = _Combination(ctx, name, numkeys, args, op)
    result = ZSetValue(combination.members(op), NEVER_COMPACT)
    return store_result(ctx, destination, result.items(), name.encode())  # the event: its name


_READ_META = dict(
    arity=-3,
    flags="readonly movablekeys",
    key_count=(1, 0, 1, 1),
    key_flags="RO access",
    group="sorted-set",
)
_STORE_META = dict(
    arity=-4,
    flags="write denyoom movablekeys",
    keys=(1, 1, 1),
    key_count=(2, 0, 1, 1),
    key_flags="OW update | RO access",
    group="sorted-set",
)
_UNION_COST = (
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
    "the number of elements in the resulting sorted set."
)
_INTER_COST = (
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
    "number of input sorted sets and M being the number of elements in the resulting sorted set."
)
_DIFF_COST = (
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is "
    "the size of the first set, and K is the size of the result set."
)
_COMBINE_SYNTAX = "[WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]"


@command(
    "zunion",
    f"numkeys key [key ...] {_COMBINE_SYNTAX} [WITHSCORES]",
    **_READ_META,
    since="6.2.0",
    summary="Add multiple sorted sets",
    complexity=_UNION_COST,
)
def zunion(ctx: Client, numkeys: bytes, *args: bytes) -> object:
    """The union of the inputs, scores aggregated."""
    return _combined(ctx, "zunion", _UNION, numkeys, args)


@command(
    "zinter",
    f"numkeys key [key ...] {_COMBINE_SYNTAX} [WITHSCORES]",
    **_READ_META,
    since="6.2.0",
    summary="Intersect multiple sorted sets",
    complexity=_INTER_COST,
)
def zinter(ctx: Client, numkeys: bytes, *args: bytes) -> object:
    """The members in every input, scores aggregated."""
    return _combined(ctx, "zinter", _INTER, numkeys, args)


@command(
    "zdiff",
    "numkeys key [key ...] [WITHSCORES]",
    **_READ_META,
    since="6.2.0",
    summary="Subtract multiple sorted sets",
    complexity=_DIFF_COST,
)
def zdiff(ctx: Client, numkeys: bytes, *args: bytes) -> object:
    """The members of the first input in none of the others, with their scores."""
    return _combined(ctx, "zdiff", _DIFF, numkeys, args)


@command(
    "zunionstore",
    f"destination numkeys key [key ...] {_COMBINE_SYNTAX}",
    **_STORE_META,
    since="2.0.0",
    summary="Add multiple sorted sets and store the resulting sorted set in a new key",
    complexity=_UNION_COST.replace("M*log(M)", "M log(M)"),
)
def zunionstore(ctx: Client, destination: bytes, numkeys: bytes, *args: bytes) -> int:
    """ZUNION stored at ``destination``: its size."""
    return _combined_store(ctx, "zunionstore", _UNION, destination, numkeys, args)


@command(
    "zinterstore",
    f"destination numkeys key [key ...] {_COMBINE_SYNTAX}",
    **_STORE_META,
    since="2.0.0",
    summary="Intersect multiple sorted sets and store the resulting sorted set in a new key",
    complexity=_INTER_COST,
)
def zinterstore(ctx: Client, destination: bytes, numkeys: bytes, *args: bytes) -> int:
    """ZINTER stored at ``destination``: its size."""
    return _combined_store(ctx, "zinterstore", _INTER, destination, numkeys, args)


@command(
    "zdiffstore",
    "destination numkeys key [key ...]",
    **_STORE_META,
    since="6.2.0",
    summary="Subtract multiple sorted sets and store the resulting sorted set in a new key",
    complexity=_DIFF_COST,
)
def zdiffstore(ctx: Client, destination: bytes, numkeys: bytes, *args: bytes) -> int:
    """ZDIFF stored at ``destination``: its size."""
    return _combined_store(ctx, "zdiffstore", _DIFF, destination, numkeys, args)


@command(
    "zintercard",
    "numkeys key [key ...] [LIMIT limit]",
    **_READ_META,
    since="7.0.0",
    summary="Intersect multiple sorted sets and return the cardinality of the result",
    complexity="O(N*K) worst case with N being the smallest input sorted set, K being the "
    "number of input sorted sets.",
)
def zintercard(ctx: Client, numkeys: bytes, *args: bytes) -> int:
    """How many members are in every input, counting up to LIMIT (0: all)."""
    combination = _Combination(ctx, "zintercard", numkeys, args, _INTER)
    found = 0
    for _ in combination.members(_INTER):
        found += 1
        if found == combination.limit:
            break
    return found


# --- ZRANDMEMBER ----------------------------------------------------------------------------------

LONG_MAX = INT64_MAX


def _random_items(zset: ZSetValue, count: int) -> list[Item]:
    """``count`` random members: distinct when positive (all of them, from the highest score
    down as Redis walks them, when ``count`` reaches the size), drawn independently (repeats
    allowed) when negative."""
    size = len(zset)
    if count < 0:
        return [zset.at(random.randrange(size)) for _ in range(-count)]
    if count >= size:
        return zset.items()[::-1]
    return [zset.at(position) for position in random.sample(range(size), count)]


@command(
    "zrandmember",
    "key [count [WITHSCORES]]",
    arity=-2,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="sorted-set",
    since="6.2.0",
    summary="Get one or multiple random elements from a sorted set",
    complexity="O(N) where N is the number of elements returned",
    tips="nondeterministic_output",
)
def zrandmember(ctx: Client, key: bytes, *args: bytes) -> object:
    """A random member; with ``count``, that many distinct ones (negative: that many with
    repeats), WITHSCORES adding their scores."""
    if not args:
        zset = ctx.db.get_zset(key)
        return None if zset is None else zset.at(random.randrange(len(zset)))[0]
    count = to_int(args[0])
    if count < -LONG_MAX:
        raise CommandError(out_of_range_between(-LONG_MAX, LONG_MAX))
    withscores = len(args) == 2 and args[1].lower() == b"withscores"
    if len(args) > 2 or (len(args) == 2 and not withscores):
        raise CommandError(SYNTAX)
    if withscores and abs(count) > LONG_MAX // 2:
        raise CommandError(OUT_OF_RANGE)
    zset = ctx.db.get_zset(key)
    if zset is None or count == 0:
        return []
    return scored(ctx, _random_items(zset, count), withscores)
