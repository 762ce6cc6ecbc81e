"""The list type: a sequence of strings, pushed and popped at both ends.

Its representation (a ``deque`` today) is private to this module: handlers, persistence and
eviction use ``ListValue``'s methods only, so a compact encoding can replace it without
touching them (as Redis's t_list.c hides quicklist and listpack). Indexes follow Redis: 0 is
the head, -1 the tail; ranges are inclusive and clamped as LRANGE clamps them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice


class ListValue:
    """A Redis list. Never empty once stored: the caller deletes the key when it empties."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[bytes] = ()) -> None:
        self._items: deque[bytes] = deque(items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ListValue) and self._items == other._items

    def __repr__(self) -> str:
        return f"ListValue({list(self._items)!r})"

    def copy(self) -> ListValue:
        return ListValue(self._items)

    def payload(self) -> int:
        """The bytes of its elements (the memory estimate adds the per-element overhead)."""
        return sum(map(len, self._items))

    # -- ends ----------------------------------------------------------------------------------

    def push(self, values: Iterable[bytes], left: bool) -> int:
        """LPUSH (each value in turn at the head) or RPUSH; the new length."""
        (self._items.extendleft if left else self._items.extend)(values)
        return len(self._items)

    def pop(self, left: bool, count: int = 1) -> list[bytes]:
        """Up to ``count`` elements from the head or the tail, in the order they come off."""
        take = self._items.popleft if left else self._items.pop
        return [take() for _ in range(min(count, len(self._items)))]

    # -- positions -----------------------------------------------------------------------------

    def _position(self, index: int) -> int | None:
        """A Redis index as a position, or None when it is out of range."""
        size = len(self._items)
        position = index + size if index < 0 else index
        return position if 0 <= position < size else None

    def index(self, index: int) -> bytes | None:
        position = self._position(index)
        return None if position is None else self._items[position]

    def set(self, index: int, value: bytes) -> bool:
        """LSET: False when the index is out of range."""
        position = self._position(index)
        if position is None:
            return False
        self._items[position] = value
        return True

    def range(self, start: int, stop: int) -> list[bytes]:
        """LRANGE's elements from ``start`` to ``stop`` inclusive, Redis's clamping."""
        low, high = self._clamped(start, stop)
        if low > high:
            return []
        if low > len(self._items) // 2:  # nearer the tail: walk from there
            size = len(self._items)
            return list(islice(reversed(self._items), size - 1 - high, size - low))[::-1]
        return list(islice(self._items, low, high + 1))

    def trim(self, start: int, stop: int) -> None:
        """LTRIM: keep only ``start`` to ``stop`` (possibly nothing)."""
        low, high = self._clamped(start, stop)
        if low > high:
            self._items.clear()
            return
        for _ in range(len(self._items) - 1 - high):
            self._items.pop()
        for _ in range(low):
            self._items.popleft()

    def _clamped(self, start: int, stop: int) -> tuple[int, int]:
        size = len(self._items)
        if start < 0:
            start = max(start + size, 0)
        if stop < 0:
            stop += size
        return start, min(stop, size - 1)

    # -- by value ------------------------------------------------------------------------------

    def remove(self, value: bytes, count: int) -> int:
        """LREM: remove up to ``count`` occurrences from the head (count > 0), from the tail
        (count < 0) or all (0); how many went."""
        items = self._items
        limit = abs(count) or len(items)
        kept: list[bytes] = []
        removed = 0
        source = reversed(items) if count < 0 else iter(items)
        for item in source:
            if removed < limit and item == value:
                removed += 1
            else:
                kept.append(item)
        if removed:
            self._items = deque(reversed(kept) if count < 0 else kept)
        return removed

    def insert(self, pivot: bytes, value: bytes, before: bool) -> bool:
        """LINSERT: put ``value`` before or after the first ``pivot``; False if none."""
        for position, item in enumerate(self._items):
            if item == pivot:
                self._items.insert(position if before else position + 1, value)
                return True
        return False

    def positions(self, value: bytes, rank: int, count: int, maxlen: int) -> list[int]:
        """LPOS: the indexes of ``value``, skipping the first |rank| - 1 matches, from the
        tail when ``rank`` < 0; at most ``count`` (0: all), looking at most ``maxlen``
        elements (0: all)."""
        items = self._items
        size = len(items)
        limit = maxlen or size
        skip = abs(rank) - 1
        found: list[int] = []
        if rank > 0:
            walk: Iterable[tuple[int, bytes]] = enumerate(islice(items, limit))
        else:
            walk = ((size - 1 - i, item) for i, item in enumerate(islice(reversed(items), limit)))
        for position, item in walk:
            if item == value:
                if skip:
                    skip -= 1
                    continue
                found.append(position)
                if count and len(found) == count:
                    break
        return found
