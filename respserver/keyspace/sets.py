"""The set type: an unordered collection of distinct strings.

Its representation is private to this module: handlers, persistence and eviction use
``SetValue``'s methods and the algebra below only, so a compact encoding (Redis's intset for
small all-integer sets, listpack in later versions) can replace it without touching them, as
Redis's t_set.c hides its encodings behind setType*. Today it is a list of the members, for
random picks in O(1) (SPOP, SRANDMEMBER: a Python ``set`` has no random access, and copying
one to pick from costs O(n) per pick), and a dict from each member to its place in the list,
for membership; a removal moves the last member into the hole. Iterating a set yields its
members in no particular order, as in Redis.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from itertools import chain, islice

from respserver.errors import CommandError
from respserver.numbers import to_int


class SetValue:
    """A Redis set. Never empty once stored: the caller deletes the key when it empties."""

    __slots__ = ("_members", "_places", "_payload")

    def __init__(self, members: Iterable[bytes] = ()) -> None:
        self._members: list[bytes] = list(dict.fromkeys(members))  # once each
        self._places: dict[bytes, int] = {m: i for i, m in enumerate(self._members)}
        self._payload = sum(map(len, self._members))

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._members)

    def __contains__(self, member: object) -> bool:
        return member in self._places

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SetValue) and self._places.keys() == other._places.keys()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"SetValue({sorted(self._members)!r})"

    def copy(self) -> SetValue:
        return SetValue(self._members)

    def payload(self) -> int:
        """The bytes of its members (the memory estimate adds the per-member overhead): kept
        as members come and go, so maxmemory's estimate of a big set costs O(1) per write."""
        return self._payload

    # -- members -------------------------------------------------------------------------------

    def add(self, members: Iterable[bytes]) -> int:
        """SADD: how many of ``members`` were not there yet."""
        places, items = self._places, self._members
        before = len(items)
        for member in members:
            if member not in places:
                places[member] = len(items)
                items.append(member)
                self._payload += len(member)
        return len(items) - before

    def remove(self, members: Iterable[bytes]) -> int:
        """SREM: how many of ``members`` were there (and are gone)."""
        return sum(map(self.discard, members))

    def discard(self, member: bytes) -> bool:
        """Remove one member; True if it was there. The last member fills its place."""
        place = self._places.pop(member, None)
        if place is None:
            return False
        self._payload -= len(member)
        last = self._members.pop()
        if place < len(self._members):
            self._members[place] = last
            self._places[last] = place
        return True

    # -- random members ------------------------------------------------------------------------

    def sample(self, count: int) -> list[bytes]:
        """Up to ``count`` distinct members chosen at random (SRANDMEMBER with a positive
        count); all of them, in no particular order, when ``count`` covers the set."""
        if count >= len(self._members):
            return list(self._members)
        return random.sample(self._members, count)

    def choices(self, count: int) -> list[bytes]:
        """``count`` members chosen at random, each independently, so repeats are possible
        (SRANDMEMBER with a negative count)."""
        if not self._members:
            return []
        return random.choices(self._members, k=count)

    def pop(self, count: int) -> list[bytes]:
        """SPOP: up to ``count`` distinct members removed at random."""
        chosen = self.sample(count)
        if len(chosen) == len(self._members):
            self._members, self._places, self._payload = [], {}, 0
        else:
            for member in chosen:
                self.discard(member)
        return chosen

    # -- encoding ------------------------------------------------------------------------------

    def intset_order(self, max_entries: int) -> list[bytes] | None:
        """The members in ascending numeric order if Redis 7.0 would keep this set as an
        intset (at most ``max_entries`` members, every one a 64-bit integer written as
        string2ll reads it), else None: SSCAN then replies with all of them at once, in that
        order, as Redis does. (Redis also keeps a set in a hash table once it has held a
        non-integer; a set remembers no history here.)"""
        if len(self._members) > max_entries:
            return None
        try:
            return sorted(self._members, key=to_int)
        except CommandError:  # a member that is no integer
            return None


# -- algebra ---------------------------------------------------------------------------------------


def _common(sets: list[SetValue]) -> Iterator[bytes]:
    """The members every one of ``sets`` (at least one) holds, found from the smallest."""
    smallest, *rest = sorted(sets, key=len)
    others = [s._places for s in rest]
    return (m for m in smallest._members if all(m in places for places in others))


def intersection(sets: list[SetValue]) -> SetValue:
    """The members common to every one of ``sets`` (at least one)."""
    return SetValue(_common(sets))


def intersection_size(sets: list[SetValue], limit: int = 0) -> int:
    """SINTERCARD: how many members every one of ``sets`` (at least one) holds, counting no
    further than ``limit`` (0: no limit)."""
    return sum(1 for _ in islice(_common(sets), limit or None))


def union(sets: Iterable[SetValue]) -> SetValue:
    """The members of any of ``sets``."""
    return SetValue(chain.from_iterable(s._members for s in sets))


def difference(first: SetValue, others: Iterable[SetValue]) -> SetValue:
    """The members of ``first`` that are in none of ``others``."""
    subtracted = [s._places for s in others]
    return SetValue(m for m in first._members if not any(m in places for places in subtracted))
