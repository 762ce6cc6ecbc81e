"""Helpers of the differential tests: replies that may differ a little (TTLs keep ticking) and
whole SCAN iterations, whose keys are compared as sets."""

from __future__ import annotations

from tests.conftest import parse


def close_ints(diff, *args: object, tolerance: int) -> int:
    """Both replies are integers within ``tolerance`` of each other (TTLs keep ticking)."""
    ours, real = (parse(raw) for raw in diff.both(*args))
    assert isinstance(ours, int) and isinstance(real, int), (ours, real)
    assert abs(ours - real) <= tolerance, (args, ours, real)
    return ours


def scan_union(conn, *options: object) -> set[bytes]:
    """The keys a whole SCAN iteration returns (a bounded number of calls)."""
    cursor, seen = b"0", set()
    for _ in range(100_000):
        cursor, items = parse(conn.call("SCAN", cursor, *options))
        seen.update(items)
        if cursor == b"0":
            return seen
    raise AssertionError("SCAN did not finish")
