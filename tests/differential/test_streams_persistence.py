"""Streams through every kind of persistence, against redis-server 7.0.15: its RDB files load
here and ours load there (entries, tombstones and node layout, groups, PELs with delivery times
and counts, consumers with seen times), DUMP payloads move both ways (byte for byte the same as
redis-server's where no tombstone is involved), and an AOF rewrite writes the commands Redis's
rewriteStreamObject writes, which rebuild the same streams here and in redis-server. What is
compared is XINFO STREAM [FULL], XRANGE and what further XADDs do (the node layout), raw bytes.
(The codec alone: tests/unit/test_rdb_streams.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hiredis
import pytest
import redis

from respserver import ServerThread
from tests.conftest import RawConnection, parse, redis_server_on
from tests.helpers.persistence import (
    logged,
    persistent,
    port_of,
    rewrite_done,
    snapshotting,
    wait_loaded,
)

pytestmark = pytest.mark.differential

FILL = [
    # "s": several nodes (cut by count and by bytes), entries with other fields, integers of
    # every listpack width, tombstones, two groups, pending entries of three consumers
    ("XADD", "s", "1-1", "a", "1", "b", "x"),
    *[("XADD", "s", f"{i}-{i % 3}", "a", str(i * 37), "b", "y" * (i % 50)) for i in range(2, 230)],
    ("XADD", "s", "230-0", "c", "v" * 3000, "d", "-12"),
    ("XADD", "s", "231-0", "a", "9223372036854775808", "b", "-4097"),
    ("XADD", "s", "232-0", "a", "-9223372036854775808", "b", "8388608", "e", ""),
    ("XDEL", "s", "7-1", "100-1", "150-0"),
    ("XGROUP", "CREATE", "s", "g1", "5-0"),
    ("XGROUP", "CREATE", "s", "g0", "0", "ENTRIESREAD", "0"),
    ("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "s", ">"),
    ("XGROUP", "CREATECONSUMER", "s", "g1", "carol"),
    ("XCLAIM", "s", "g1", "carol", "0", "6-0"),
    ("XACK", "s", "g1", "8-2"),
    # "plain": no deletion, no group: its DUMP payload is redis-server's byte for byte
    *[("XADD", "plain", f"{i}-0", "f", "v" * (i % 90), "n", str(-i)) for i in range(1, 160)],
    ("XADD", "plain", "9223372036854775813-18446744073709551615", "f", "last", "n", "0"),
    # "emptied": its only entry deleted; "mk": made by XGROUP CREATE MKSTREAM; "trimmed": an
    # exact XTRIM's tombstone and a group whose entries-read is unknown; "raised": XSETID
    ("XADD", "emptied", "5-5", "f", "v"),
    ("XDEL", "emptied", "5-5"),
    ("XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"),
    ("XADD", "trimmed", "5-5", "f", "v"),
    ("XADD", "trimmed", "6-5", "f", "v"),
    ("XTRIM", "trimmed", "MAXLEN", "1"),
    ("XGROUP", "CREATE", "trimmed", "gg", "0-0"),
    ("XADD", "raised", "1-0", "f", "v"),
    ("XSETID", "raised", "99-0", "ENTRIESADDED", "7", "MAXDELETEDID", "50-0"),
]
KEYS = ["s", "plain", "emptied", "mk", "trimmed", "raised"]
NO_TOMBSTONES = ["plain", "emptied", "mk", "raised"]
MORE = [("XADD", key, "*", "a", "1", "b", "x") for key in KEYS for _ in range(120)]


def run(conn: RawConnection, commands: list[tuple[str, ...]]) -> None:
    for args in commands:
        reply = conn.call(*args)
        assert not reply.startswith(b"-"), (args, reply)


def observed(conn: RawConnection, key: str) -> list[bytes]:
    """The raw replies that show everything a stream holds."""
    return [
        conn.call("TYPE", key),
        conn.call("XINFO", "STREAM", key),
        conn.call("XINFO", "STREAM", key, "FULL"),
        conn.call("XRANGE", key, "-", "+"),
    ]


def layout(conn: RawConnection) -> dict[str, object]:
    """After more XADDs on every stream: their lengths and node layout (radix-tree-keys)."""
    run(conn, MORE)
    return {key: parse(conn.call("XINFO", "STREAM", key))[:4] for key in KEYS}


def without_seen_times(raw: bytes) -> object:
    """XINFO STREAM FULL with the consumers' seen times zeroed (a replay sets them anew)."""
    reply = parse(raw)
    for group in reply[reply.index(b"groups") + 1]:
        for consumer in group[group.index(b"consumers") + 1]:
            consumer[consumer.index(b"seen-time") + 1] = 0
    return reply


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """A respserver and a redis-server of this module's own, filled with FILL; redis-server
    without rdbcompression (payloads comparable) and checking every payload it restores
    (sanitize-dump-payload: our tombstones and PELs pass its deep checks)."""
    work = tmp_path_factory.mktemp("streams")
    options = {"rdbcompression": "no", "sanitize-dump-payload": "yes"}
    with (
        ServerThread(port=0, config={"dir": str(work)}) as ours,
        redis_server_on(work, **options) as real,
    ):
        for port in (ours.port, real):
            conn = RawConnection(port)
            run(conn, FILL)
            conn.close()
        yield ours.port, real


def test_redis_files_load_here(tmp_path: Path) -> None:
    with redis_server_on(tmp_path) as port:
        real = RawConnection(port)
        run(real, FILL)
        assert real.call("SAVE") == b"+OK\r\n"
        want = {key: observed(real, key) for key in KEYS}
        grown = layout(real)
    with snapshotting(tmp_path) as server:
        wait_loaded(redis.Redis(port=server.port))
        ours = RawConnection(server.port)
        assert {key: observed(ours, key) for key in KEYS} == want
        assert layout(ours) == grown


def test_our_files_load_in_redis(tmp_path: Path) -> None:
    with snapshotting(tmp_path) as server:
        ours = RawConnection(server.port)
        run(ours, FILL)
        assert ours.call("SAVE") == b"+OK\r\n"
        want = {key: observed(ours, key) for key in KEYS}
        grown = layout(ours)
    with redis_server_on(tmp_path) as port:
        real = RawConnection(port)
        assert {key: observed(real, key) for key in KEYS} == want
        assert layout(real) == grown


@pytest.mark.parametrize("direction", ["redis-to-ours", "ours-to-redis"])
def test_dump_and_restore_both_ways(servers: tuple[int, int], direction: str) -> None:
    ours, real = (RawConnection(port) for port in servers)
    source, target = (real, ours) if direction == "redis-to-ours" else (ours, real)
    for key in KEYS:
        payload = parse(source.call("DUMP", key))
        assert target.call("RESTORE", f"{key}:copy", "0", payload, "REPLACE") == b"+OK\r\n"
        assert observed(target, f"{key}:copy") == observed(source, key)


def test_payloads_are_redis_s_byte_for_byte(servers: tuple[int, int]) -> None:
    """Node layout, listpack encodings, metadata: all as redis-server writes them. (A tombstone
    keeps its values in Redis; here they are gone, so streams with one differ there.)"""
    ours, real = (RawConnection(port) for port in servers)
    for key in NO_TOMBSTONES:
        assert ours.call("DUMP", key) == real.call("DUMP", key), key


def test_payloads_follow_the_configured_node_limits(servers: tuple[int, int]) -> None:
    ours, real = (RawConnection(port) for port in servers)
    adds = [("XADD", "small-nodes", f"{i}-1", "f", "v" * (i * 7 % 120)) for i in range(1, 60)]
    for conn in (ours, real):
        run(conn, [("CONFIG", "SET", "stream-node-max-entries", "7")])
        run(conn, [("CONFIG", "SET", "stream-node-max-bytes", "300")])
        run(conn, adds)
        run(conn, [("CONFIG", "SET", "stream-node-max-entries", "100")])
        run(conn, [("CONFIG", "SET", "stream-node-max-bytes", "4096")])
    assert ours.call("DUMP", "small-nodes") == real.call("DUMP", "small-nodes")
    assert observed(ours, "small-nodes") == observed(real, "small-nodes")


def rewritten_streams(commands: list[list[bytes]]) -> list[list[bytes]]:
    """A rewrite's stream commands, XCLAIM's TIME zeroed (each server stamped its own)."""
    streams = [argv for argv in commands if argv[0] in (b"XADD", b"XSETID", b"XGROUP", b"XCLAIM")]
    for argv in streams:
        if argv[0] == b"XCLAIM":
            argv[argv.index(b"TIME") + 1] = b"0"
    return streams


def redis_rewrite(directory: Path) -> list[list[bytes]]:
    """The commands redis-server's rewrite writes (no RDB preamble) for FILL."""
    options = {"appendonly": "yes", "aof-use-rdb-preamble": "no"}
    with redis_server_on(directory, **options) as port:
        run(RawConnection(port), FILL)
        client = redis.Redis(port=port)
        client.bgrewriteaof()
        rewrite_done(client)
        manifest = (directory / "appendonlydir" / "appendonly.aof.manifest").read_text()
    (base,) = [line.split()[1] for line in manifest.splitlines() if line.endswith(" type b")]
    reader = hiredis.Reader()
    reader.feed((directory / "appendonlydir" / base).read_bytes())
    commands = []
    while (argv := reader.gets()) is not False:
        commands.append(argv)
    return commands


def test_the_aof_rewrite_is_redis_s_and_replays_in_both(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    theirs = redis_rewrite(tmp_path / "real")
    with persistent(tmp_path) as r:
        ours = RawConnection(port_of(r))
        run(ours, FILL)
        r.bgrewriteaof()
        rewrite_done(r)
        want = replayed(ours)
    assert sorted(map(repr, rewritten_streams(logged(tmp_path)))) == sorted(
        map(repr, rewritten_streams(theirs))
    )
    with persistent(tmp_path) as r:
        assert replayed(RawConnection(port_of(r))) == want
    with redis_server_on(tmp_path, appendonly="yes") as port:
        assert replayed(RawConnection(port)) == want


def replayed(conn: RawConnection) -> dict[str, list]:
    """``observed`` of every key, seen times masked in XINFO STREAM FULL."""
    return {
        key: [
            without_seen_times(raw) if i == 2 else raw for i, raw in enumerate(observed(conn, key))
        ]
        for key in KEYS
    }
