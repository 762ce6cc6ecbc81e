"""Limits and authentication that hold per connection: maxclients refuses the next connection
as Redis does, timeout closes idle clients, requirepass holds from the first byte."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from respserver import ServerThread
from tests.conftest import RawConnection
from tests.test_aof import redis_server_on


def test_maxclients_refuses_the_next_connection_like_redis(tmp_path):
    with ServerThread(port=0, config={"maxclients": "3"}) as server:
        with redis_server_on(tmp_path, maxclients="3") as redis_port:
            replies = []
            for port in (server.port, redis_port):
                held = [RawConnection(port) for _ in range(3)]
                assert all(conn.call("PING") == b"+PONG\r\n" for conn in held)
                extra = socket.create_connection(("127.0.0.1", port), timeout=5)
                replies.append(extra.recv(100))
                assert extra.recv(100) == b""  # then closed
                extra.close()
                held.pop().close()
                time.sleep(0.1)
                again = RawConnection(port)  # room again
                assert again.call("PING") == b"+PONG\r\n"
                for conn in [*held, again]:
                    conn.close()
            assert replies[0] == replies[1] == b"-ERR max number of clients reached\r\n"
        info = redis.Redis(port=server.port).info("stats")
        assert info["rejected_connections"] == 1


def test_timeout_closes_idle_clients_only(tmp_path):
    with ServerThread(port=0, config={"timeout": "1"}) as server:
        idle, busy = RawConnection(server.port), RawConnection(server.port)
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            assert busy.call("PING") == b"+PONG\r\n"
            time.sleep(0.2)
        idle.sock.settimeout(5)
        assert idle.sock.recv(100) == b""  # closed by the server
        assert busy.call("PING") == b"+PONG\r\n"
        busy.close()
        idle.close()


def test_requirepass_from_the_start_and_redis_py(tmp_path):
    with ServerThread(port=0, config={"requirepass": "s3cret"}) as server:
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=server.port).get("k")  # NOAUTH
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=server.port, password="wrong").get("k")  # WRONGPASS
        for protocol in (2, 3):
            r = redis.Redis(port=server.port, password="s3cret", protocol=protocol)
            assert r.set("k", "v") and r.get("k") == b"v"
            r.close()
