"""The sorted-set type: distinct strings (members), each with a score, ordered by score and,
among equal scores, by the members' bytes (as Redis's skiplist orders them).

Its representation (a member -> score dict beside a ``SortedList`` of (score, member)) is
private to this module: handlers, persistence and eviction use ``ZSetValue``'s methods only, so a
compact encoding (Redis's listpack for small sorted sets) can replace it without touching them,
as t_zset.c hides its encodings behind zset*. Ranks, ranges and counts are found by bisection,
O(log N), and read or removed in O(log N + M).

Redis keeps a small sorted set in a listpack, a big one in a skiplist, and the two differ in
ways a client sees: a listpack stores an integral score as an integer, so -0 comes back as 0,
and ZSCAN replies a listpack whole. ``compact`` follows Redis's choice: true while the set has
never grown past ``Limits`` (zset-max-listpack-entries and -value), as Redis converts one way
only; a set built whole (a store, a load) is compact if it fits.

Every range form is one engine: a form (by rank, by score, by lex) becomes a span of positions
in the order, which is then read in either direction, with an offset and a limit, or removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from sortedcontainers import SortedList

from respserver.resp.encoder import format_double

Item = tuple[bytes, float]  # (member, score), as the ranges reply them


class _Top:
    """Sorts after every member: (score, _TOP) comes after each (score, member)."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return other is not self


_TOP = _Top()


class ScoreRange(NamedTuple):
    """ZRANGEBYSCORE's min and max, each inclusive or exclusive ("(")."""

    low: float
    low_open: bool
    high: float
    high_open: bool

    def is_empty(self) -> bool:
        return self.low > self.high or (self.low == self.high and (self.low_open or self.high_open))


# A lex range's bound: a member, or "-" (before all) or "+" (after all).
LEX_MIN, LEX_MAX = -1, 1


class LexRange(NamedTuple):
    """ZRANGEBYLEX's min and max: a member (``[`` inclusive, ``(`` exclusive), or LEX_MIN or
    LEX_MAX for "-" and "+"."""

    low: bytes | int
    low_open: bool
    high: bytes | int
    high_open: bool

    def is_empty(self) -> bool:
        order = _lex_compare(self.low, self.high)
        return order > 0 or (order == 0 and (self.low_open or self.high_open))

    def above_low(self, member: bytes) -> bool:
        if type(self.low) is int:
            return self.low == LEX_MIN
        return member > self.low if self.low_open else member >= self.low

    def below_high(self, member: bytes) -> bool:
        if type(self.high) is int:
            return self.high == LEX_MAX
        return member < self.high if self.high_open else member <= self.high


def _lex_compare(a: bytes | int, b: bytes | int) -> int:
    """Redis's sdscmplex: "-" before every string, "+" after."""
    if type(a) is int or type(b) is int:
        rank_a = a if type(a) is int else 0
        rank_b = b if type(b) is int else 0
        return (rank_a > rank_b) - (rank_a < rank_b)
    return (a > b) - (a < b)


class Limits(NamedTuple):
    """zset-max-listpack-entries and zset-max-listpack-value."""

    entries: int = 128
    value: int = 64


DEFAULT_LIMITS = Limits()
NEVER_COMPACT = Limits(-1, -1)  # a skiplist from the start, as a ZUNION's result in Redis


def score_text(score: float, as_listpack: bool = False) -> bytes:
    """A score as text: as Redis prints a double (%.17g, inf, -inf), or as a listpack holds it
    (an integer up to 2**62 as an integer, so never -0)."""
    if as_listpack and abs(score) <= 2**62 and score == int(score):
        return b"%d" % int(score)
    return format_double(score)


class ZSetValue:
    """A Redis sorted set. Never empty once stored: the caller deletes the key when it empties."""

    __slots__ = ("_scores", "_order", "_compact")

    def __init__(self, items: Iterable[Item] = (), limits: Limits = DEFAULT_LIMITS) -> None:
        self._scores: dict[bytes, float] = dict(items)
        self._compact = len(self._scores) <= limits.entries and self._longest() <= limits.value
        if self._compact:
            for member, score in self._scores.items():
                if score == 0:
                    self._scores[member] = 0.0  # no -0 in a listpack
        self._order = SortedList((score, member) for member, score in self._scores.items())

    def __len__(self) -> int:
        return len(self._scores)

    def __iter__(self) -> Iterator[bytes]:
        """The members, in order."""
        return (member for _, member in self._order)

    def __contains__(self, member: object) -> bool:
        return member in self._scores

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZSetValue) and self._scores == other._scores

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"ZSetValue({self.items()!r})"

    def copy(self) -> ZSetValue:
        duplicate = ZSetValue()
        duplicate._scores, duplicate._order = dict(self._scores), self._order.copy()
        duplicate._compact = self._compact
        return duplicate

    @property
    def compact(self) -> bool:
        """Whether Redis would hold this sorted set as a listpack."""
        return self._compact

    def payload(self) -> int:
        """The bytes of its members (the memory estimate adds the per-member overhead)."""
        return sum(map(len, self._scores))

    def items(self) -> list[Item]:
        """Every (member, score), in order."""
        return [(member, score) for score, member in self._order]

    def _longest(self) -> int:
        return max(map(len, self._scores), default=0)

    # -- members -------------------------------------------------------------------------------

    def score(self, member: bytes) -> float | None:
        return self._scores.get(member)

    def set(self, member: bytes, score: float, limits: Limits = DEFAULT_LIMITS) -> bool:
        """Give ``member`` this score, adding it if new (True) or moving it. A new member past
        ``limits`` makes the set no longer compact."""
        old = self._scores.get(member)
        if self._compact:
            if old is None and (len(self._scores) >= limits.entries or len(member) > limits.value):
                self._compact = False
            elif score == 0:
                score = 0.0
        if old is not None:
            if old == score:
                return False
            self._order.remove((old, member))
        self._scores[member] = score
        self._order.add((score, member))
        return old is None

    def remove(self, member: bytes) -> bool:
        score = self._scores.pop(member, None)
        if score is None:
            return False
        self._order.remove((score, member))
        return True

    def rank(self, member: bytes, reverse: bool = False) -> int | None:
        """The 0-based position of ``member`` from the lowest (or the highest), or None."""
        score = self._scores.get(member)
        if score is None:
            return None
        position = self._order.index((score, member))
        return len(self._order) - 1 - position if reverse else position

    def at(self, position: int) -> Item:
        """The (member, score) at a 0-based position from the lowest."""
        score, member = self._order[position]
        return member, score

    # -- spans: a range form as positions [start, stop) in the order -------------------------

    def rank_span(self, start: int, stop: int, reverse: bool = False) -> tuple[int, int]:
        """ZRANGE's indexes, clamped as Redis clamps them (negative: from the end)."""
        size = len(self._order)
        if start < 0:
            start = max(start + size, 0)
        if stop < 0:
            stop += size
        if start > stop or start >= size:
            return 0, 0
        stop = min(stop, size - 1)
        if reverse:
            return size - 1 - stop, size - start
        return start, stop + 1

    def score_span(self, bounds: ScoreRange) -> tuple[int, int]:
        if bounds.is_empty():
            return 0, 0
        order = self._order
        if bounds.low_open:
            start = order.bisect_right((bounds.low, _TOP))
        else:
            start = order.bisect_left((bounds.low, b""))
        if bounds.high_open:
            stop = order.bisect_left((bounds.high, b""))
        else:
            stop = order.bisect_right((bounds.high, _TOP))
        return start, max(start, stop)

    def lex_span(self, bounds: LexRange, reverse: bool = False) -> tuple[int, int]:
        """Meaningful when all scores are equal: members are then in byte order, so each bound
        is found by bisection on its test. With unequal scores Redis's answer is "undefined":
        a listpack's is its walk (from the end when reversed), followed here for a compact set;
        a skiplist's depends on its random levels, so a big set gets the bisection's."""
        order = self._order
        if bounds.is_empty() or not order:
            return 0, 0
        if self._compact:
            return self._lex_walk([member for _, member in order], bounds, reverse)
        start = self._first(bounds.above_low, 0)
        stop = self._first(lambda member: not bounds.below_high(member), start)
        return start, stop

    @staticmethod
    def _lex_walk(members: list[bytes], bounds: LexRange, reverse: bool) -> tuple[int, int]:
        """zzlFirstInLexRange / zzlLastInLexRange and the walk on from there."""
        above, below = bounds.above_low, bounds.below_high
        if not above(members[-1]) or not below(members[0]):
            return 0, 0
        if reverse:
            stop = len(members)
            while stop and not below(members[stop - 1]):
                stop -= 1
            start = stop
            while start and above(members[start - 1]):
                start -= 1
            return start, stop
        start = 0
        while start < len(members) and not above(members[start]):
            start += 1
        stop = start
        while stop < len(members) and below(members[stop]):
            stop += 1
        return start, stop

    def _first(self, passes: Callable[[bytes], bool], low: int) -> int:
        """The first position from ``low`` whose member passes a test that, along the order,
        fails and then passes."""
        order, high = self._order, len(self._order)
        while low < high:
            middle = (low + high) // 2
            if passes(order[middle][1]):
                high = middle
            else:
                low = middle + 1
        return low

    # -- reading and removing a span -----------------------------------------------------------

    def read(
        self, span: tuple[int, int], reverse: bool = False, offset: int = 0, limit: int = -1
    ) -> list[Item]:
        """The span's items from its low end (or its high end), skipping ``offset`` (negative:
        none left, as Redis walks off the end), at most ``limit`` (negative: all)."""
        start, stop = span
        if offset < 0:
            return []
        if reverse:
            stop -= offset
            if limit >= 0:
                start = max(start, stop - limit)
        else:
            start += offset
            if limit >= 0:
                stop = min(stop, start + limit)
        if start >= stop:
            return []
        return [(m, s) for s, m in self._order.islice(start, stop, reverse=reverse)]

    def delete(self, span: tuple[int, int]) -> int:
        """Remove the span's members; how many went."""
        start, stop = span
        if start >= stop:
            return 0
        for _, member in self._order.islice(start, stop):
            del self._scores[member]
        del self._order[start:stop]
        return stop - start

    def pop(self, highest: bool, count: int) -> list[Item]:
        """Up to ``count`` members from the lowest (or the highest) end, as they come off."""
        size = len(self._order)
        span = (max(size - count, 0), size) if highest else (0, min(count, size))
        popped = self.read(span, reverse=highest)
        self.delete(span)
        return popped
