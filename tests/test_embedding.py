"""Embedding respserver: from Trio (open_server, nursery.start(serve)) and from sync code."""

from __future__ import annotations

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
