"""MULTI/EXEC/DISCARD/WATCH/UNWATCH against redis-server: one and two connections per server,
RESP2 and RESP3, and every command flagged no_multi refused inside MULTI. (redis-py's pipelines
and check-and-set loops on respserver alone: tests/e2e/test_transactions.py.)"""

from __future__ import annotations

import shlex
import time

import pytest

from respserver import ServerThread
from tests.conftest import Diff, RawConnection
from tests.helpers.commands import NO_MULTI
from tests.helpers.respshape import bulk_text, info_sections


def play(diff, script: str) -> None:
    """Send each line of ``script`` (shell-quoted words) to both servers; replies must match."""
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            diff.do(*shlex.split(line))


class TwoClients:
    """Connections a (the ``diff`` fixture's) and b (a second one) to each server; every
    step goes to both servers and their raw replies must be identical."""

    def __init__(self, diff, resp_port: int, redis_port: int) -> None:
        self.diff = diff
        self.b_ours, self.b_real = RawConnection(resp_port), RawConnection(redis_port)
        for conn in (self.b_ours, self.b_real):
            conn.call("HELLO", str(diff.protocol))

    def run(self, script: str) -> list[bytes]:
        """Lines are "a CMD ...", "b CMD ..." or "sleep SECONDS"; returns a's replies."""
        replies = []
        for line in script.strip().splitlines():
            who, *args = shlex.split(line)
            if who == "sleep":
                time.sleep(float(args[0]))
            elif who == "a":
                replies.append(self.diff.do(*args))
            else:
                ours, real = self.b_ours.call(*args), self.b_real.call(*args)
                assert ours == real, f"b {args!r}:\n  respserver: {ours!r}\n  redis: {real!r}"
        return replies

    def close(self) -> None:
        self.b_ours.close()
        self.b_real.close()


@pytest.fixture
def two(diff, resp_port, redis_port):
    pair = TwoClients(diff, resp_port, redis_port)
    yield pair
    pair.close()


def _exec_reply(diff, expected_resp2: bytes) -> None:
    """Run EXEC on both; a failed one is a null array, *-1 in RESP2 and _ in RESP3."""
    raw = diff.do("EXEC")
    if expected_resp2 == b"*-1\r\n" and diff.protocol == 3:
        assert raw == b"_\r\n"
    else:
        assert raw == expected_resp2


# --- MULTI / EXEC / DISCARD -----------------------------------------------------------------


def test_multi_exec(diff):
    play(
        diff,
        """
        MULTI
        SET k 1
        INCR k
        HSET h f v
        GET k
        HGETALL h
        PING
        EXEC
        GET k
        """,
    )


def test_empty_transaction(diff):
    diff.do("MULTI")
    assert diff.do("EXEC") == b"*0\r\n"


def test_runtime_errors_are_replies_in_the_array(diff):
    play(
        diff,
        """
        SET s x
        MULTI
        INCR s
        HSET s f v
        SET k 1
        HINCRBY k f 1
        HINCRBYFLOAT h f abc
        GET k
        EXEC
        GET k
        """,
    )


def test_state_errors(diff):
    play(
        diff,
        """
        EXEC
        DISCARD
        MULTI
        MULTI
        WATCH k
        SET k 1
        EXEC
        GET k
        EXEC
        """,
    )


def test_arity_errors_outside_multi(diff):
    play(
        diff,
        """
        MULTI x
        EXEC x
        DISCARD x
        WATCH
        UNWATCH x
        """,
    )


def test_refused_command_aborts_exec(diff):
    """An unknown command or a wrong arity while queuing makes EXEC fail and discard all."""
    play(
        diff,
        """
        MULTI
        SET k 1
        NOSUCHCOMMAND a b
        SET k
        HSET h f v f2
        INCR k
        EXEC
        GET k
        EXISTS h
        EXEC
        """,
    )


def test_refused_multi_and_discard_arity_inside_multi(diff):
    play(
        diff,
        """
        MULTI
        MULTI x
        SET k 1
        EXEC
        MULTI
        DISCARD x
        DISCARD
        EXEC
        GET k
        """,
    )


def test_exec_with_arguments_inside_multi_ends_the_transaction(diff):
    play(
        diff,
        """
        MULTI
        SET k 1
        EXEC x
        EXEC
        GET k
        """,
    )


def test_exec_with_arguments_outside_multi_unwatches(two, diff):
    """Redis aborts a refused EXEC even without MULTI, which drops the watched keys too."""
    two.run(
        """
        a WATCH k
        a EXEC x
        b SET k 1
        a MULTI
        a PING
        a ExEc x y
        a EXEC
        """
    )


def test_errors_of_multi_and_watch_inside_multi_do_not_abort(diff):
    play(
        diff,
        """
        MULTI
        SET k 1
        MULTI
        WATCH k
        INCR k
        EXEC
        """,
    )


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A respserver of these tests' own: were SHUTDOWN queued and run, the others would not
    lose theirs."""
    with ServerThread(port=0, config={"dir": str(tmp_path_factory.mktemp("own"))}) as server:
        yield server


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("line", NO_MULTI, ids=[" ".join(line) for line in NO_MULTI])
def test_no_multi_commands_are_refused_inside_multi_and_abort_exec(
    own_server, redis_port, line, protocol
):
    """Redis refuses a no_multi command inside MULTI without queueing it; EXEC then fails."""
    diff = Diff(own_server.port, redis_port, protocol)
    diff.do("MULTI")
    raw = diff.do(*line)
    assert raw == b"-ERR Command not allowed inside a transaction\r\n"
    diff.do("SET", "k", "1")
    assert diff.do("EXEC").startswith(b"-EXECABORT")
    diff.do("GET", "k")  # nothing ran
    assert diff.do("PING") == b"+PONG\r\n"  # and both servers still serve
    diff.close()


def test_discard(diff):
    play(
        diff,
        """
        MULTI
        SET k 1
        DISCARD
        GET k
        EXEC
        DISCARD
        multi
        set k 2
        exec
        GET k
        """,
    )


def test_unwatch_and_select_are_queued(diff):
    play(
        diff,
        """
        MULTI
        UNWATCH
        SELECT 3
        SET k in3
        EXEC
        GET k
        SELECT 0
        GET k
        """,
    )


def test_commandstats_count_queued_commands_as_if_run_alone(diff):
    """Queued commands count in INFO commandstats when EXEC runs them (calls, failed_calls);
    refused ones count as rejected_calls when queued."""
    diff.do("SET", "s", "x")
    diff.do("CONFIG", "RESETSTAT")
    play(
        diff,
        """
        MULTI
        SET k 1
        INCR k
        INCR s
        HSET k f v
        EXEC
        MULTI
        INCR k
        INCR k k
        EXEC
        """,
    )
    ours, real = (
        info_sections(bulk_text(raw))["Commandstats"] for raw in diff.both("INFO", "commandstats")
    )
    for name in ("cmdstat_set", "cmdstat_incr", "cmdstat_hset", "cmdstat_exec", "cmdstat_multi"):
        assert _counts(ours[name]) == _counts(real[name]), (name, ours[name], real[name])


def _counts(stat: str) -> dict[str, str]:
    fields = dict(part.split("=") for part in stat.split(","))
    return {k: v for k, v in fields.items() if "usec" not in k}


# --- WATCH with two connections ----------------------------------------------------------------


def test_watch_unmodified_key(two):
    two.run(
        """
        a SET k 1
        a WATCH k
        b GET k
        b SET other 1
        a MULTI
        a INCR k
        a EXEC
        """
    )


def test_watch_modified_by_another_client(two, diff):
    two.run(
        """
        a WATCH k
        b SET k 1
        a MULTI
        a SET k 2
        """
    )
    _exec_reply(diff, b"*-1\r\n")
    diff.do("GET", "k")


def test_watch_modified_by_the_same_client(two, diff):
    two.run(
        """
        a WATCH k
        a SET k 1
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")


@pytest.mark.parametrize(
    "change",
    [
        "b HSET h f v",
        "b HSET h a 1",
        "b HDEL h a",
        "b HINCRBY h a 1",
        "b HINCRBYFLOAT h a 1",
        "b HSETNX h z 1",
        "b DEL h",
        "b EXPIRE h 100",
        "b HMSET h a 1",
    ],
)
def test_watch_sees_every_kind_of_hash_write(two, diff, change):
    two.run(
        f"""
        a HSET h a 1
        a WATCH h
        {change}
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")


@pytest.mark.parametrize(
    "no_change",
    [
        "b HDEL h nofield",
        "b HSETNX h a 2",
        "b HINCRBY h a x",
        "b HINCRBYFLOAT h a inf",
        "b HGETALL h",
        "b DEL nokey",
        "b HSET other f v",
    ],
)
def test_watch_ignores_no_ops_and_errors(two, diff, no_change):
    two.run(
        f"""
        a HSET h a 1
        a WATCH h
        {no_change}
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*1\r\n+PONG\r\n")


def test_watch_several_keys_and_twice(two, diff):
    two.run(
        """
        a WATCH k j
        a WATCH k
        b SET j 1
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")


def test_watch_missing_key_then_created(two, diff):
    two.run(
        """
        a WATCH k
        b HSET k f v
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")


def test_unwatch_forgets(two, diff):
    two.run(
        """
        a WATCH k
        b SET k 1
        a UNWATCH
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*1\r\n+PONG\r\n")


def test_exec_and_discard_unwatch(two, diff):
    two.run(
        """
        a WATCH k
        a MULTI
        a PING
        a EXEC
        b SET k 1
        a MULTI
        a PING
        a EXEC
        a WATCH k
        a MULTI
        b SET k 2
        a DISCARD
        a MULTI
        a PING
        a EXEC
        a WATCH k
        b SET k 3
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")
    two.run(
        """
        b SET k 4
        a MULTI
        a PING
        a EXEC
        """
    )


def test_failed_exec_still_needs_a_new_multi(two, diff):
    two.run(
        """
        a WATCH k
        b SET k 1
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")
    two.run(
        """
        a EXEC
        a DISCARD
        """
    )


def test_aborted_exec_reports_queue_errors_before_watch(two, diff):
    two.run(
        """
        a WATCH k
        b SET k 1
        a MULTI
        a NOSUCHCOMMAND
        a EXEC
        a MULTI
        a PING
        a EXEC
        """
    )


def test_watch_is_per_database(two, diff):
    two.run(
        """
        a SELECT 1
        a WATCH k
        a SELECT 0
        b SET k same-name-in-db0
        a MULTI
        a PING
        a EXEC
        a SELECT 1
        a WATCH k
        a SELECT 0
        b SELECT 1
        b SET k in-db1
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")


def test_watched_key_expiring_before_exec_fails_it(two, diff):
    two.run(
        """
        a SET k v PX 40
        a WATCH k
        sleep 0.12
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")


def test_watched_key_expiring_during_multi_fails_exec(two, diff):
    two.run(
        """
        a HSET k f v
        a PEXPIRE k 40
        a WATCH k
        a MULTI
        a PING
        sleep 0.12
        """
    )
    _exec_reply(diff, b"*-1\r\n")


def test_key_already_expired_at_watch_counts_as_absent(two, diff):
    two.run(
        """
        a SET k v PX 10
        sleep 0.08
        a WATCH k
        b GET k
        b EXISTS k
        a MULTI
        a PING
        a EXEC
        a SET j v PX 10
        sleep 0.08
        a WATCH j
        b SET j new
        a MULTI
        a PING
        """
    )
    _exec_reply(diff, b"*-1\r\n")


@pytest.mark.parametrize(
    ("script", "fails"),
    [
        ("a SET k v\na WATCH k\nb FLUSHDB", True),
        ("a SET j v\na WATCH k\nb FLUSHDB", False),
        ("a SET k v\na WATCH k\nb SELECT 1\nb FLUSHDB", False),
        ("a SET k v\na WATCH k\nb FLUSHALL", True),
        ("b SELECT 1\nb SET k v\na WATCH k\nb FLUSHALL", False),
        ("a SELECT 1\na SET k v\na WATCH k\na SELECT 0\nb FLUSHALL", True),
        ("b SELECT 1\nb SET k v\na WATCH k\nb SWAPDB 0 1", True),
        ("a SET k v\na WATCH k\nb SWAPDB 1 0", True),
        ("b SELECT 1\nb SET j v\na WATCH k\nb SWAPDB 0 1", False),
        ("a SET k v\na WATCH k\nb SWAPDB 0 0", False),
        ("a SET k v\na WATCH k\nb SWAPDB 2 1", False),
        ("b SELECT 1\nb SET k v PX 10\nsleep 0.08\na WATCH k\nb SWAPDB 0 1", False),
        ("a SET k v PX 10\nb SELECT 1\nb SET k v\nsleep 0.08\na WATCH k\nb SWAPDB 0 1", True),
        ("a SET k v PX 10\nsleep 0.08\na WATCH k\nb FLUSHDB", False),
    ],
    ids=[
        "flushdb-existing",
        "flushdb-missing",
        "flushdb-other-db",
        "flushall",
        "flushall-missing-in-watched-db",
        "flushall-watched-in-db1",
        "swapdb-brings-key",
        "swapdb-takes-key",
        "swapdb-neither-has-it",
        "swapdb-same-db",
        "swapdb-other-dbs",
        "swapdb-brings-expired-key",
        "swapdb-expired-replaced-by-live",
        "flushdb-expired-at-watch",
    ],
)
def test_flush_and_swap_touch_watched_keys(two, diff, script, fails):
    two.run(script)
    two.run("a SELECT 0\na MULTI\na PING")
    _exec_reply(diff, b"*-1\r\n" if fails else b"*1\r\n+PONG\r\n")


def test_exec_of_one_client_dirties_another(two, diff):
    two.run(
        """
        a WATCH counter
        b MULTI
        b INCR counter
        b EXEC
        a MULTI
        a INCR counter
        """
    )
    _exec_reply(diff, b"*-1\r\n")


def test_multi_is_per_connection(two):
    two.run(
        """
        a MULTI
        b SET k from-b
        a GET k
        b GET k
        a EXEC
        b EXEC
        """
    )
