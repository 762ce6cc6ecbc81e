"""Helpers of the differential tests: replies that may differ a little (TTLs keep ticking),
whole SCAN iterations, whose keys are compared as sets, the count of changes each write
makes, and random command sequences (hypothesis state machines) run on both servers."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine

from tests.conftest import Diff, parse
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


def assert_changes_as_redis(
    diff, steps: list[tuple[str, ...]], send: Callable[..., object] | None = None
) -> None:
    """Each step adds to server.dirty (INFO's rdb_changes_since_last_save) what it adds to
    redis-server's. Steps go through ``send(diff, *args)``, which compares the replies
    (``diff.do`` unless given: chance's replies need a looser comparison)."""
    before = [_changes(raw) for raw in diff.both("INFO", "persistence")]
    for args in steps:
        if send is None:
            diff.do(*args)
        else:
            send(diff, *args)
        after = [_changes(raw) for raw in diff.both("INFO", "persistence")]
        assert after[0] - before[0] == after[1] - before[1], (args, before, after)
        before = after


def run_on_both(
    machine: type[RuleBasedStateMachine], resp_port: int, redis_port: int, protocol: int
) -> None:
    """Run a hypothesis state machine of random commands whose rules send them through
    ``self.diff`` (a fresh ``Diff`` on both servers, flushed, per example)."""

    class OnBoth(machine):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            super().__init__()
            self.diff = Diff(resp_port, redis_port, protocol)

        def teardown(self) -> None:
            self.diff.close()

    OnBoth.TestCase.settings = settings(
        max_examples=60,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    OnBoth.TestCase().runTest()
