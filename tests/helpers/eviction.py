"""Helpers of the eviction tests: the maxmemory policies, and a limit that holds a given number
of strings."""

from __future__ import annotations

from respserver.security.eviction import BASELINE, BOOKKEEPING, value_size

VOLATILE = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]
ALLKEYS = ["allkeys-lru", "allkeys-lfu", "allkeys-random"]


def room_for(keys: int, size: int = 100) -> int:
    """A maxmemory holding about ``keys`` strings named by ``names`` of ``size`` bytes."""
    return BASELINE + keys * (value_size(b"k00000", b"x" * size, False) + BOOKKEEPING)
