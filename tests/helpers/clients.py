"""Named connections to respserver and to redis-server, driven alike, for tests that need
several clients (blocking commands, pub/sub): every reply is read on both sides and must be
equal byte for byte."""

from __future__ import annotations

import re
import time

import hiredis

from tests.conftest import RawConnection, parse

WAIT = 5.0  # seconds a step may take to reach a state (a bound, never a measurement)


class Clients:
    """Named connections, each one to respserver and one to redis-server, driven alike."""

    def __init__(self, resp_port: int, redis_port: int, protocol: int, flush: bool = True) -> None:
        self.ports = (resp_port, redis_port)
        self.protocol = protocol
        self.conns: dict[str, tuple[RawConnection, RawConnection]] = {}
        self.admin = self.connect("admin")
        if flush:
            self.call("admin", "FLUSHALL")

    def connect(self, name: str) -> tuple[RawConnection, RawConnection]:
        pair = (RawConnection(self.ports[0]), RawConnection(self.ports[1]))
        for conn in pair:
            conn.call("HELLO", str(self.protocol))
        self.conns[name] = pair
        return pair

    def conn(self, name: str) -> tuple[RawConnection, RawConnection]:
        return self.conns.get(name) or self.connect(name)

    def send(self, name: str, *args: object) -> None:
        """Send a command and read nothing (it may block)."""
        for conn in self.conn(name):
            conn.send_raw(pack(args))

    def read(self, name: str) -> object:
        """Read one reply on both sides; they must be equal byte for byte."""
        ours, real = (conn.read_reply() for conn in self.conn(name))
        assert ours == real, f"{name}:\n  respserver:   {ours!r}\n  redis-server: {real!r}"
        return parse(ours)

    def read_many(self, name: str, count: int) -> list[object]:
        """Read ``count`` pipelined replies on both sides, equal byte for byte together."""
        raws = [read_replies(conn, count) for conn in self.conn(name)]
        assert raws[0] == raws[1], f"{name}:\n  respserver:   {raws[0]!r}\n  redis: {raws[1]!r}"
        reader = hiredis.Reader()
        reader.feed(raws[0])
        return [reader.gets() for _ in range(count)]

    def call(self, name: str, *args: object) -> object:
        self.send(name, *args)
        return self.read(name)

    def blocked(self, count: int) -> None:
        """Wait until both servers report ``count`` blocked clients."""
        deadline = time.monotonic() + WAIT
        while True:
            found = [_info_field(conn, "blocked_clients") for conn in self.admin]
            if found == [count, count]:
                return
            assert time.monotonic() < deadline, f"blocked_clients {found}, wanted {count}"
            time.sleep(0.005)

    def block(self, name: str, *args: object) -> None:
        """Send a blocking command and wait until the client is blocked on both servers."""
        before = _info_field(self.admin[0], "blocked_clients")
        self.send(name, *args)
        self.blocked(before + 1)

    def close(self) -> None:
        for pair in self.conns.values():
            for conn in pair:
                conn.close()


def read_replies(conn: RawConnection, count: int) -> bytes:
    reader = hiredis.Reader()
    raw = bytearray()
    parsed = 0
    while True:
        while parsed < count and reader.gets() is not False:
            parsed += 1
        if parsed == count:
            return bytes(raw)
        chunk = conn.sock.recv(65536)
        assert chunk, "closed"
        raw += chunk
        reader.feed(chunk)


def pack(args: tuple[object, ...]) -> bytes:
    parts = [str(a).encode() if not isinstance(a, bytes) else a for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def _info_field(conn: RawConnection, name: str) -> int:
    text = parse(conn.call("INFO", "clients"))
    text = text.decode() if isinstance(text, bytes) else str(text)
    return int(re.search(rf"^{name}:(\d+)", text, re.M).group(1))
