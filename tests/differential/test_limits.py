"""Limits against redis-server: maxclients refuses the next connection with Redis's bytes,
protected mode denies non-loopback clients as Redis does, and CONFIG SET of the limits' and
persistence parameters refuses what Redis refuses. (Limits on respserver alone:
tests/e2e/test_limits.py.)"""

from __future__ import annotations

import socket
import time

import redis

from respserver import ServerThread
from tests.conftest import RawConnection, redis_server_on
from tests.helpers.net import outward_address


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


def test_client_output_buffer_limit_config_matches_redis(diff):
    for value in ["normal 1mb 512kb 10", "normal 1mb 512kb", "foo 1 2 3", "normal x 2 3",
                  "master 1 2 3", "", "replica 1 2 3 pubsub 4 5 6", "normal 0 0 0"]:  # fmt: skip
        diff.do("CONFIG", "SET", "client-output-buffer-limit", value)
        diff.do("CONFIG", "GET", "client-output-buffer-limit")
    diff.do(
        "CONFIG", "SET", "client-output-buffer-limit",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    )  # fmt: skip


def test_protected_mode_denies_non_loopback_clients_like_redis(tmp_path):
    """Both servers listen on loopback and on this host's own address; a client arriving on
    the latter is not on loopback (and the traffic never leaves the machine)."""
    outward = outward_address()
    bind = f"127.0.0.1 {outward}"
    with ServerThread(port=0, bind=bind) as server, redis_server_on(tmp_path, bind=bind) as port:
        settings = (
            [],
            [("CONFIG", "SET", "requirepass", "s3cret")],
            [("CONFIG", "SET", "protected-mode", "no")],
            [("ACL", "SETUSER", "default", "resetpass", ">s3cret")],  # a password by ACL
        )
        for config in settings:
            replies = []
            for target in (server.port, port):
                admin = RawConnection(target)
                for command in config:
                    assert admin.call(*command) == b"+OK\r\n"
                outsider = socket.create_connection((outward, target), timeout=5)
                outsider.sendall(b"PING\r\n")
                replies.append(outsider.recv(4096))
                outsider.close()
                assert admin.call("PING") == b"+PONG\r\n"  # loopback: always let in
                for command in (
                    ("CONFIG", "SET", "requirepass", ""),
                    ("ACL", "SETUSER", "default", "nopass"),
                    ("CONFIG", "SET", "protected-mode", "yes"),
                ):
                    admin.call(*command)
                admin.close()
            assert replies[0] == replies[1], config
            if not config:
                assert replies[0].startswith(b"-DENIED Redis is running in protected mode")


def test_config_set_of_limits_and_persistence_parameters_matches_redis(diff):
    """What CONFIG SET refuses, and why, for the parameters issues 4 and 5 added."""
    for name, value in [
        ("maxclients", "0"),
        ("maxclients", "100000000000"),
        ("timeout", "-1"),
        ("protected-mode", "maybe"),
        ("unixsocket", "/tmp/x"),
        ("unixsocketperm", "700"),
        ("appendfilename", "x.aof"),
        ("dbfilename", "x.rdb"),
        ("dir", "/nonexistent"),
        ("aof-load-truncated", "maybe"),
        ("auto-aof-rewrite-percentage", "-1"),
        ("auto-aof-rewrite-min-size", "1x"),
        ("save", "10"),
        ("appendonly", "maybe"),
        ("appendfsync", "sometimes"),
    ]:
        diff.do("CONFIG", "SET", name, value)
    shown = ["maxclients", "timeout", "protected-mode", "unixsocket", "unixsocketperm"]
    shown += ["aof-load-truncated", "auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size"]
    for name in shown:
        diff.do("CONFIG", "GET", name)
