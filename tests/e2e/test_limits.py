"""Limits and authentication that hold per connection, on respserver alone: timeout closes idle
clients, requirepass holds from the first byte, the output-buffer limits cut off a client that
does not read, 5,000 idle clients are held, a unix socket gets its permissions, and a gigabyte
of pipelined commands passes through a server of bounded memory. (maxclients, protected mode and
CONFIG SET against redis-server: tests/differential/test_limits.py.)"""

from __future__ import annotations

import contextlib
import resource
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis

from respserver import ServerThread
from tests.conftest import RawConnection, free_port, wait_for_ping
from tests.helpers.net import outward_address


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


def read_until_closed(sock: socket.socket) -> int:
    """Bytes received until the server closes the connection (a reset counts as a close)."""
    total = 0
    sock.settimeout(15)
    try:
        while chunk := sock.recv(65536):
            total += len(chunk)
    except ConnectionResetError:
        pass
    return total


@contextlib.contextmanager
def reader_of_big_values(limits: str) -> Iterator[tuple[redis.Redis, socket.socket]]:
    """A server with ``client-output-buffer-limit`` = ``limits`` and a 100 kB string at
    ``big``: a redis-py client, and a raw socket with a small receive buffer."""
    with ServerThread(port=0, config={"client-output-buffer-limit": limits}) as server:
        r = redis.Redis(port=server.port, protocol=2)
        r.set("big", "x" * 100_000)
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        yield r, sock
        sock.close()
        r.close()


def test_a_client_that_does_not_read_is_cut_off_at_the_hard_limit():
    with reader_of_big_values("normal 1mb 0 0") as (r, hog):
        with contextlib.suppress(OSError):  # the server may close it while we still send
            hog.sendall(b"GET big\r\n" * 3000)  # 300 MB of replies, never read in time
        time.sleep(0.5)
        assert read_until_closed(hog) < 5_000_000, "the server kept sending past its limit"
        assert r.get("big") == b"x" * 100_000  # everyone else is served


def test_soft_limit_closes_a_client_that_stays_over_it():
    with reader_of_big_values("normal 0 200kb 1") as (r, slow):
        slow.sendall(b"GET big\r\n" * 10)  # 1 MB of replies, mostly left in the server
        time.sleep(2.5)  # past the soft limit for more than a second
        assert read_until_closed(slow) < 1_000_000
        pipe = r.pipeline(transaction=False)  # the same, read at once: not cut off
        for _ in range(10):
            pipe.get("big")
        assert pipe.execute() == [b"x" * 100_000] * 10
        assert r.ping()
        r.close()


def test_five_thousand_idle_connections_then_maxclients_refuses():
    """5,000 idle clients are held (the fd limit raised for the test's own sockets); with
    maxclients at 5,000 the next connection is refused and an existing one still works."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * 5_000 + 200  # both ends live in this process
    assert hard >= needed, f"the hard fd limit {hard} is below {needed}"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    held: list[socket.socket] = []
    try:
        with ServerThread(port=0, config={"maxclients": "5000"}) as server:
            for _ in range(5_000):
                held.append(socket.create_connection(("127.0.0.1", server.port), timeout=30))
            deadline = time.monotonic() + 60
            while True:  # the server registers each connection as its task starts
                extra = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                reply = extra.recv(100)
                extra.close()
                if reply == b"-ERR max number of clients reached\r\n":
                    break
                assert time.monotonic() < deadline, reply
            held[0].sendall(b"PING\r\n")
            assert held[0].recv(10) == b"+PONG\r\n"
    finally:
        for sock in held:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_unixsocket_with_its_permissions(tmp_path):
    path = tmp_path / "respserver.sock"
    config = {"unixsocket": str(path), "unixsocketperm": "700"}
    with ServerThread(port=0, config=config):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
        r = redis.Redis(unix_socket_path=str(path), protocol=2)
        assert r.set("k", "v") and r.get("k") == b"v"
        info = r.client_info()
        assert info["addr"] == f"{path}:0"
        assert r.config_get("unixsocket") == {"unixsocket": str(path)}
        r.close()
    # Protected mode with a non-loopback bind: a unix socket counts as local, as loopback does.
    other = tmp_path / "other.sock"
    with ServerThread(port=0, bind=outward_address(), config={"unixsocket": str(other)}):
        r = redis.Redis(unix_socket_path=str(other), protocol=2)
        assert r.ping()
        r.close()


# --- a gigabyte of pipelined commands, never read ------------------------------------------------

GIGABYTE = 1 << 30
RSS_ALLOWANCE = 128 << 20  # what the server may grow by while the gigabyte passes


def _peak_rss(pid: int) -> int:
    """The process's peak resident size so far (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@contextlib.contextmanager
def server_process(tmp_path, *args: str) -> Iterator[tuple[int, int]]:
    """respserver in a process of its own (so its memory is its own): its port and pid."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "respserver", "--port", str(port), "--dir", str(tmp_path), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_ping(port)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _send_unread(port: int, command: bytes, total: int, deadline: float) -> tuple[int, bool]:
    """Pipeline ``command`` until ``total`` bytes are sent, reading nothing; how many bytes
    went out, and whether the server closed the connection first."""
    chunk = command * max(1, (1 << 20) // len(command))
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(max(1.0, deadline - time.monotonic()))
    sent = 0
    try:
        while sent < total and time.monotonic() < deadline:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:  # reset or broken pipe: the server cut us off
        return sent, True
    finally:
        sock.close()
    return sent, False


def test_a_gigabyte_of_writes_passes_through_a_bounded_server(tmp_path):
    """1 GB of 64 kB SETs, replies never read: they are applied as they come, the replies
    (a few bytes each) wait in the socket, and the server's peak RSS grows by far less."""
    value = b"v" * 65536
    command = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n" % (len(value), value)
    with server_process(tmp_path) as (port, pid):
        before = _peak_rss(pid)
        sent, cut_off = _send_unread(port, command, GIGABYTE, time.monotonic() + 120)
        assert sent >= GIGABYTE and not cut_off
        r = redis.Redis(port=port)
        deadline = time.monotonic() + 30
        while r.info("stats")["total_commands_processed"] < sent // len(command):
            assert time.monotonic() < deadline, "the server stopped applying the pipeline"
            time.sleep(0.05)
        assert r.get("k") == value
        r.close()
        assert _peak_rss(pid) - before < RSS_ALLOWANCE


def test_a_gigabyte_of_reads_never_read_is_cut_off(tmp_path):
    """1 GB of pipelined GETs of a 1 MB value, replies never read, under an output limit of
    16 MB: the client is closed long before, and the server never holds much more."""
    with server_process(tmp_path, "--client-output-buffer-limit", "normal 16mb 0 0") as (
        port,
        pid,
    ):
        r = redis.Redis(port=port)
        r.set("big", b"x" * (1 << 20))
        before = _peak_rss(pid)
        sent, cut_off = _send_unread(port, b"GET big\r\n", GIGABYTE, time.monotonic() + 60)
        assert cut_off and sent < GIGABYTE
        assert r.get("big") == b"x" * (1 << 20)  # everyone else is served
        assert _peak_rss(pid) - before < RSS_ALLOWANCE
        r.close()
