"""Helpers of the differential tests: replies that may differ a little (TTLs keep ticking),
whole SCAN iterations, whose keys are compared as sets, and the count of changes each write
makes."""

from __future__ import annotations

from tests.conftest import parse
from tests.helpers.respshape import bulk_text, info_sections


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


def _changes(raw: bytes) -> int:
    return int(info_sections(bulk_text(raw))["Persistence"]["rdb_changes_since_last_save"])


def assert_changes_as_redis(diff, steps: list[tuple[str, ...]]) -> None:
    """Each step adds to server.dirty (INFO's rdb_changes_since_last_save) what it adds to
    redis-server's."""
    before = [_changes(raw) for raw in diff.both("INFO", "persistence")]
    for args in steps:
        diff.do(*args)
        after = [_changes(raw) for raw in diff.both("INFO", "persistence")]
        assert after[0] - before[0] == after[1] - before[1], (args, before, after)
        before = after
