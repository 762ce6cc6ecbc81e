"""Embedding respserver: from Trio (open_server, nursery.start(serve)) and from sync code."""

from __future__ import annotations

import collections
import weakref

import redis
import trio

import respserver


async def ping(port: int) -> bytes:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(b"PING\r\n")
        return await stream.receive_some(100)


async def test_open_server_in_trio():
    async with respserver.open_server(port=0) as server:
        assert server.port > 0
        assert await ping(server.port) == b"+PONG\r\n"


async def test_nursery_start_serve_and_stop():
    async with trio.open_nursery() as nursery:
        server = await nursery.start(respserver.serve, 0)
        assert server.address == ("127.0.0.1", server.port)
        assert await ping(server.port) == b"+PONG\r\n"
        server.stop()


def test_servers_in_one_process_share_nothing():
    with respserver.ServerThread(port=0) as one, respserver.ServerThread(port=0) as two:
        a, b = redis.Redis(port=one.port), redis.Redis(port=two.port)
        a.set("only-here", "1")
        assert b.get("only-here") is None
        assert a.get("only-here") == b"1"
        a.close()
        b.close()


def test_thread_server_stops_cleanly():
    server = respserver.ServerThread(port=0).start()
    port = server.port
    assert redis.Redis(port=port).ping()
    server.stop()
    try:
        redis.Redis(port=port, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pass
    else:
        raise AssertionError("server still answers after stop()")


def _big_hash(r: redis.Redis, key: str, tag: str) -> set[bytes]:
    """A hash too big for a one-shot HSCAN reply (so a cursor walk keeps state)."""
    fields = {f"{tag}-{i}": "v" for i in range(1000)}
    r.hset(key, mapping=fields)
    return {name.encode() for name in fields}


def _hscan_step(r: redis.Redis, key: str, cursor: int) -> tuple[int, set[bytes]]:
    cursor, page = r.hscan(key, cursor, count=50)
    return cursor, set(page)


def test_interleaved_hscans_on_two_servers_see_only_their_own_hash():
    with respserver.ServerThread(port=0) as one, respserver.ServerThread(port=0) as two:
        a, b = redis.Redis(port=one.port), redis.Redis(port=two.port)
        want_a, want_b = _big_hash(a, "h", "a"), _big_hash(b, "h", "b")
        got_a, got_b = set(), set()
        cursor_a = cursor_b = None
        for _ in range(10_000):
            if cursor_a != 0:
                cursor_a, page = _hscan_step(a, "h", cursor_a or 0)
                got_a |= page
            if cursor_b != 0:
                cursor_b, page = _hscan_step(b, "h", cursor_b or 0)
                got_b |= page
            if cursor_a == cursor_b == 0:
                break
        assert (got_a, got_b) == (want_a, want_b)
        # Each walk's snapshot is its own server's.
        mine, theirs = one.running.state.hscan_snapshots, two.running.state.hscan_snapshots
        assert list(mine) == [(0, b"h")]
        assert mine[0, b"h"] is not theirs[0, b"h"]
        a.close()
        b.close()


_MUTABLE = (dict, list, set, bytearray, collections.deque, weakref.WeakKeyDictionary)
# Module-level containers that may change while a server runs: caches of what every server
# shares by design (the command table), never state of one server.
_SHARED_CACHES = {("respserver.core.dispatch", "_SPELLINGS")}


def _module_state() -> dict[tuple[str, str], str]:
    import sys

    found = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("respserver") or module is None:
            continue
        for name, value in vars(module).items():
            if name == "__warningregistry__":
                continue  # Python's: a warning met while this module's code ran (a GC'd socket)
            if isinstance(value, _MUTABLE) and (module_name, name) not in _SHARED_CACHES:
                items = value.items() if hasattr(value, "items") else value
                found[module_name, name] = repr(list(items))
    return found


def test_serving_changes_no_module_level_state():
    """Every piece of per-server state lives on the server: running a mix of commands on two
    servers leaves every module-level container of the package as it was."""
    before = _module_state()
    assert ("respserver.registry", "COMMANDS") in before  # the scan sees module globals
    with respserver.ServerThread(port=0) as one, respserver.ServerThread(port=0) as two:
        for server in (one, two):
            r = redis.Redis(port=server.port, protocol=3)
            _big_hash(r, "big", "f")
            r.hscan("big", 0, count=10)
            r.hset("instance:1", mapping={"id": "1", "status": "running"})
            r.execute_command("QUERY", "MATCH", "instance:*", "WHERE", "status", "=", "running")
            r.set("s", "v", ex=100)
            r.info()
            r.info()
            r.client_setname("c")
            r.client_list()
            r.acl_setuser("u", enabled=True, nopass=True)
            r.config_set("maxmemory", "100mb")
            r.close()
    assert _module_state() == before
