"""Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP) against
redis-server 7.0.15,
with several real connections per server: who is served, in which order, with what reply, and
what the server says of its blocked clients meanwhile. Every step runs on both servers and the
raw replies must be equal, RESP2 and RESP3."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import parse, redis_server_on
from tests.helpers.clients import Clients, pack
from tests.helpers.persistence import logged, persistent, port_of, redis_logged

pytestmark = pytest.mark.differential


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def clients(request, resp_port: int, redis_port: int):
    c = Clients(resp_port, redis_port, request.param)
    yield c
    c.close()
    # Nobody may stay blocked into the next test.
    c2 = Clients(resp_port, redis_port, 2)
    c2.blocked(0)
    c2.close()


def test_clients_blocked_on_one_list_are_served_first_come_first_served(clients):
    for name in "abc":
        clients.block(name, "BLPOP", "q", 0)
    assert clients.call("pusher", "RPUSH", "q", "1", "2") == 2
    assert clients.read("a") in ([b"q", b"1"], ["q", "1"])
    clients.read("b")
    clients.blocked(1)
    clients.call("pusher", "LPUSH", "q", "3")
    clients.read("c")
    clients.call("pusher", "EXISTS", "q")
    clients.blocked(0)


def test_a_wait_on_several_keys_is_served_from_the_key_made_ready_first(clients):
    clients.block("a", "BLPOP", "k1", "k2", 0)
    clients.block("b", "BRPOP", "k2", "k1", "k2", 0)
    clients.call("pusher", "MULTI")
    clients.call("pusher", "RPUSH", "k2", "x", "y")
    clients.call("pusher", "RPUSH", "k1", "z")
    clients.call("pusher", "EXEC")
    clients.read("a")
    clients.read("b")
    clients.call("pusher", "LRANGE", "k1", 0, -1)
    clients.call("pusher", "LRANGE", "k2", 0, -1)


def test_a_push_and_pop_in_one_transaction_leave_nothing_to_serve(clients):
    clients.block("a", "BLPOP", "q", 0)
    for command in (("MULTI",), ("RPUSH", "q", "x"), ("LPOP", "q"), ("EXEC",)):
        clients.call("pusher", *command)
    clients.blocked(1)
    clients.call("pusher", "RPUSH", "q", "later")
    clients.read("a")


def test_a_pop_pipelined_after_the_push_comes_second(clients):
    """The blocked client is served right after the command that made the key ready, before
    the pushing client's next command."""
    clients.block("a", "BLPOP", "q", 0)
    for conn in clients.conn("pusher"):
        conn.send_raw(pack(("RPUSH", "q", "x")) + pack(("LPOP", "q")))
    clients.read_many("pusher", 2)
    clients.read("a")


def test_commands_pipelined_behind_a_blocked_one_wait_for_it(clients):
    for conn in clients.conn("a"):
        conn.send_raw(pack(("BLPOP", "q", 0)) + pack(("PING",)) + pack(("LLEN", "q")))
    clients.blocked(1)
    clients.call("pusher", "RPUSH", "q", "x", "y")
    clients.read_many("a", 3)


@pytest.mark.parametrize(
    "command",
    [
        ("BLPOP", "q", "0.05"),
        ("BRPOP", "q", "q2", "0.05"),
        ("BLMOVE", "q", "d", "LEFT", "RIGHT", "0.05"),
        ("BRPOPLPUSH", "q", "d", "0.05"),
        ("BLMPOP", "0.05", "2", "q", "q2", "RIGHT", "COUNT", "3"),
        ("BZPOPMIN", "q", "0.05"),
        ("BZPOPMAX", "q", "z2", "0.05"),
        ("BZMPOP", "0.05", "1", "q", "MAX"),
    ],
)
def test_a_timeout_answers_a_null_array(clients, command):
    clients.send("a", *command)
    clients.read("a")
    clients.call("a", "PING")  # the connection goes on


@pytest.mark.parametrize(
    "command",
    [
        ("BLPOP", "q", 0),
        ("BLMOVE", "q", "d", "RIGHT", "LEFT", 0),
        ("BRPOPLPUSH", "q", "d", 0),
        ("BLMPOP", 0, 1, "q", "LEFT"),
        ("BZPOPMIN", "q", 0),
        ("BZMPOP", 0, 1, "q", "MIN", "COUNT", 2),
    ],
)
def test_inside_multi_a_blocking_command_does_not_wait(clients, command):
    clients.call("a", "MULTI")
    clients.call("a", *command)
    clients.call("a", "RPUSH", "d", "x")
    clients.call("a", *command)
    clients.call("a", "EXEC")


_LISTS = (
    ("RPUSH", "q", "a", "b", "c"),
    ("RPUSH", "q", "x", "y"),
    [("LRANGE", key, 0, -1) for key in ("q", "d", "r")],
)
_ZSETS = (
    ("ZADD", "z", 1, "a", 2.5, "b", 3, "c"),
    ("ZADD", "z", "-inf", "x", 1.1, "y"),
    [("ZRANGE", "z", 0, -1, "WITHSCORES")],
)


@pytest.mark.parametrize(
    ("command", "data"),
    [
        (("BLPOP", "q", "r", 0), _LISTS),
        (("BRPOP", "q", 0), _LISTS),
        (("BLMPOP", 0, 2, "q", "r", "LEFT", "COUNT", 2), _LISTS),
        (("BLMPOP", 0, 1, "q", "RIGHT", "COUNT", 9), _LISTS),
        (("BLMOVE", "q", "d", "RIGHT", "LEFT", 0), _LISTS),
        (("BLMOVE", "q", "q", "LEFT", "RIGHT", 0), _LISTS),
        (("BRPOPLPUSH", "q", "d", 0), _LISTS),
        (("BZPOPMIN", "z", "r", 0), _ZSETS),
        (("BZPOPMAX", "z", 0), _ZSETS),
        (("BZMPOP", 0, 2, "r", "z", "MIN", "COUNT", 2), _ZSETS),
        (("BZMPOP", 0, 1, "z", "MAX", "COUNT", 9), _ZSETS),
    ],
)
def test_each_command_served_at_once_and_after_waiting(clients, command, data):
    """``data``: the write that fills the key before, the one that wakes the client, and
    the reads compared after."""
    fill, wake, reads = data
    clients.call("pusher", *fill)
    clients.call("a", *command)
    clients.call("pusher", "DEL", fill[1])
    clients.block("a", *command)
    clients.call("pusher", *wake)
    clients.read("a")
    for read in reads:
        clients.call("pusher", *read)


def test_a_sorted_set_wait_is_not_served_by_a_list_nor_a_list_wait_by_a_zset(clients):
    clients.block("a", "BZPOPMIN", "k", 0)
    clients.block("b", "BLPOP", "k", 0)
    clients.call("pusher", "RPUSH", "k", "x")
    clients.read("b")
    clients.blocked(1)
    clients.call("pusher", "ZADD", "k", 1, "m")
    clients.read("a")


def test_a_blmove_chain_passes_the_element_along(clients):
    clients.block("a", "BLMOVE", "q1", "q2", "LEFT", "LEFT", 0)
    clients.block("b", "BRPOPLPUSH", "q2", "q3", 0)
    clients.block("c", "BLPOP", "q3", 0)
    clients.call("pusher", "RPUSH", "q1", "job")
    for name in "abc":
        clients.read(name)
    for key in ("q1", "q2", "q3"):
        clients.call("pusher", "EXISTS", key)


def test_blmove_served_while_its_destination_holds_another_type_answers_wrongtype(clients):
    clients.call("pusher", "SET", "d", "string")
    clients.block("a", "BLMOVE", "q", "d", "LEFT", "LEFT", 0)
    clients.call("pusher", "RPUSH", "q", "x")
    clients.read("a")
    clients.blocked(0)
    clients.call("pusher", "LRANGE", "q", 0, -1)


def test_a_key_that_becomes_another_type_does_not_serve(clients):
    clients.block("a", "BLPOP", "k", 0)
    clients.call("pusher", "SET", "k", "v")
    clients.call("pusher", "DEL", "k")
    clients.call("pusher", "HSET", "k", "f", "v")
    clients.blocked(1)
    clients.call("pusher", "DEL", "k")
    clients.call("pusher", "RPUSH", "k", "x")
    clients.read("a")


def test_wrong_types_and_argument_errors(clients):
    clients.call("a", "SET", "s", "v")
    for command in (
        ("BLPOP", "nokey", "s", 0),
        ("BLPOP", "s", "x"),
        ("BLPOP", "q", "-1"),
        ("BLPOP", "q", "inf"),
        ("BLPOP", "q", "nan"),
        ("BLPOP", "q", " 1"),
        ("BLPOP", "q", "1e400"),
        ("BLPOP", "q"),
        ("BRPOP", "s", 0),
        ("BLMOVE", "s", "d", "LEFT", "LEFT", 0),
        ("BLMOVE", "q", "d", "UP", "LEFT", 0),
        ("BLMOVE", "q", "d", "LEFT", "LEFT", "x"),
        ("RPUSH", "q", "a"),
        ("BLMOVE", "q", "s", "LEFT", "LEFT", 0),
        ("BRPOPLPUSH", "q", "s", 0),
        ("BRPOPLPUSH", "q", "d", "-0.5"),
        ("BLMPOP", "x", 1, "q", "LEFT"),
        ("BLMPOP", "x", 0, "q", "LEFT"),
        ("BLMPOP", 0, 1, "q", "UP"),
        ("BLMPOP", 0, 1, "q", "LEFT", "COUNT", 0),
        ("BLMPOP", 0, 1, "q", "LEFT", "COUNT"),
        ("BLMPOP", 0, 3, "q", "LEFT"),
        ("BLMPOP", 0, 1, "s", "LEFT"),
        ("BLMPOP", 0, 1),
        ("BZPOPMIN", "s", 0),
        ("BZPOPMAX", "z", "x"),
        ("BZMPOP", "x", 1, "z", "MIN"),
        ("BZMPOP", 0, 1, "z", "LEFT"),
        ("BZMPOP", 0, 0, "z", "MIN"),
        ("BZMPOP", 0, 1, "z", "MIN", "COUNT", -1),
        ("BZMPOP", 0, 1, "s", "MIN"),
    ):
        clients.call("a", *command)


def _ids_of(clients: Clients, name: str) -> list[int]:
    """The client id ``name`` has on each server (read from CLIENT LIST by its address)."""
    ids = []
    for admin, conn in zip(clients.admin, clients.conn(name), strict=True):
        port = conn.sock.getsockname()[1]
        listing = parse(admin.call("CLIENT", "LIST"))
        listing = listing.decode() if isinstance(listing, bytes) else str(listing)
        (line,) = [line for line in listing.splitlines() if f":{port} " in line]
        ids.append(int(re.search(r"id=(\d+)", line).group(1)))
    return ids


def _client_field(clients: Clients, name: str, field: str) -> list[str]:
    found = []
    for admin, conn in zip(clients.admin, clients.conn(name), strict=True):
        port = conn.sock.getsockname()[1]
        listing = parse(admin.call("CLIENT", "LIST"))
        listing = listing.decode() if isinstance(listing, bytes) else str(listing)
        (line,) = [line for line in listing.splitlines() if f":{port} " in line]
        found.append(re.search(rf" {field}=(\S*)", line).group(1))
    return found


def test_client_unblock_ends_a_wait_as_a_timeout_or_an_error(clients):
    clients.block("a", "BLPOP", "q", 0)
    clients.block("b", "BLMOVE", "q", "d", "LEFT", "LEFT", 5)
    assert _client_field(clients, "a", "flags") == ["b", "b"]
    assert _client_field(clients, "a", "cmd") == ["blpop", "blpop"]
    for admin in clients.admin:
        text = parse(admin.call("INFO", "clients"))
        text = text.decode() if isinstance(text, bytes) else str(text)
        assert "clients_in_timeout_table:1" in text
    for reason, name in (("TIMEOUT", "a"), ("ERROR", "b")):
        replies = [
            parse(admin.call("CLIENT", "UNBLOCK", ident, reason))
            for admin, ident in zip(clients.admin, _ids_of(clients, name), strict=True)
        ]
        assert replies == [1, 1]
        clients.read(name)
    assert _client_field(clients, "a", "flags") == ["N", "N"]
    for admin, ident in zip(clients.admin, _ids_of(clients, "a"), strict=True):
        assert parse(admin.call("CLIENT", "UNBLOCK", ident)) == 0  # it waits no more
    for command in (
        ("CLIENT", "UNBLOCK", "x"),
        ("CLIENT", "UNBLOCK", 99999, "FOO"),
        ("CLIENT", "UNBLOCK", 99999, "ERROR"),
        ("CLIENT", "UNBLOCK", 1, "TIMEOUT", "x"),
        ("CLIENT", "UNBLOCK"),
    ):
        clients.call("admin", *command)


def test_a_client_gone_while_blocked_takes_nothing(clients):
    clients.block("a", "BLPOP", "q", 0)
    clients.block("b", "BLPOP", "q", 0)
    for conn in clients.conns.pop("a"):
        conn.close()
    clients.blocked(1)
    clients.call("pusher", "RPUSH", "q", "x", "y")
    clients.read("b")
    clients.call("pusher", "LRANGE", "q", 0, -1)


def test_client_kill_ends_a_wait(clients):
    clients.block("a", "BLPOP", "q", 0)
    for admin, ident in zip(clients.admin, _ids_of(clients, "a"), strict=True):
        assert parse(admin.call("CLIENT", "KILL", "ID", ident)) == 1
    clients.blocked(0)
    clients.call("pusher", "RPUSH", "q", "x")
    clients.call("pusher", "LLEN", "q")


def test_a_key_moved_renamed_or_swapped_in_serves(clients):
    clients.block("a", "BLPOP", "q", 0)
    clients.call("pusher", "RPUSH", "other", "1")
    clients.call("pusher", "RENAME", "other", "q")
    clients.read("a")
    clients.block("a", "BLPOP", "q", 0)
    clients.call("pusher", "SELECT", 1)
    clients.call("pusher", "RPUSH", "q", "2")
    clients.call("pusher", "MOVE", "q", 0)
    clients.read("a")
    clients.block("a", "BLPOP", "q", 0)
    clients.call("pusher", "RPUSH", "q", "3")
    clients.call("pusher", "SWAPDB", 0, 1)
    clients.read("a")
    clients.call("pusher", "SWAPDB", 0, 1)
    clients.call("pusher", "SELECT", 0)
    clients.block("a", "BRPOP", "q", 0)
    clients.call("pusher", "RPUSH", "src", "4", "5")
    clients.call("pusher", "LMOVE", "src", "q", "LEFT", "LEFT")
    clients.read("a")
    clients.block("a", "BLPOP", "q", 0)
    clients.call("pusher", "COPY", "src", "q")
    clients.read("a")
    clients.call("pusher", "FLUSHALL")


def test_statistics_count_blocking_commands_as_redis_does(clients):
    clients.call("admin", "CONFIG", "RESETSTAT")
    clients.block("a", "BLPOP", "q", 0)
    clients.call("pusher", "RPUSH", "q", "x")
    clients.read("a")
    clients.send("a", "BLPOP", "q", "0.01")
    clients.read("a")
    stats = []
    for admin in clients.admin:
        text = parse(admin.call("INFO", "commandstats"))
        text = text.decode() if isinstance(text, bytes) else str(text)
        stats.append(sorted(re.findall(r"cmdstat_(blpop|rpush):calls=(\d+)", text)))
    assert stats[0] == stats[1]


def test_a_thousand_clients_on_one_list_are_woken_one_per_push(resp_port, redis_port):
    clients = Clients(resp_port, redis_port, 2)
    try:
        names = [f"w{i}" for i in range(1000)]
        for name in names:
            clients.send(name, "BLPOP", "q", 0)
        clients.blocked(1000)
        for i in range(1000):
            clients.call("pusher", "RPUSH", "q", i)
        for i, name in enumerate(names):
            assert clients.read(name) == [b"q", str(i).encode()]
        clients.blocked(0)
    finally:
        clients.close()


def test_the_aof_logs_what_redis_logs_for_served_and_immediate_waits(tmp_path: Path):
    """A served BLPOP is logged as LPOP, BLMOVE as LMOVE, BLMPOP as LPOP/RPOP COUNT: the two
    servers' logs of one scenario hold the same commands."""
    ours_dir, real_dir = tmp_path / "ours", tmp_path / "real"
    ours_dir.mkdir()
    real_dir.mkdir()
    with persistent(ours_dir) as ours, redis_server_on(real_dir, appendonly="yes") as real_port:
        clients = Clients(port_of(ours), real_port, 2, flush=False)  # fresh servers
        try:
            clients.call("p", "RPUSH", "q", "a", "b", "c", "d")
            clients.call("a", "BLPOP", "q", 0)
            clients.call("a", "BLMOVE", "q", "d", "left", "Right", 0)
            clients.call("a", "BRPOPLPUSH", "q", "d", 0)
            clients.call("a", "BLMPOP", 0, 1, "q", "RIGHT", "COUNT", 5)
            for command in (
                ("BLPOP", "q", 0),
                ("BRPOP", "q", 0),
                ("BLMOVE", "q", "d", "RIGHT", "LEFT", 0),
                ("BRPOPLPUSH", "q", "d", 0),
                ("BLMPOP", 0, 1, "q", "LEFT", "COUNT", 2),
            ):
                clients.block("a", *command)
                clients.call("p", "RPUSH", "q", "x", "y", "z")
                clients.read("a")
                clients.call("p", "DEL", "q")
            clients.call("p", "ZADD", "z", 1, "a", 2, "b", 3, "c")
            clients.call("a", "BZPOPMIN", "z", 0)
            clients.call("a", "BZMPOP", 0, 1, "z", "MAX", "COUNT", 5)
            for command in (
                ("BZPOPMAX", "z", 0),
                ("BZMPOP", 0, 1, "z", "MIN", "COUNT", 2),
            ):
                clients.block("a", *command)
                clients.call("p", "ZADD", "z", 1, "x", 2, "y", 3, "w")
                clients.read("a")
                clients.call("p", "DEL", "z")
            clients.call("p", "DEL", "q", "d")
        finally:
            clients.close()
        real_logged = redis_logged(real_dir)
    assert logged(ours_dir) == real_logged
    assert [b"LMOVE", b"q", b"d", b"right", b"left"] in real_logged
