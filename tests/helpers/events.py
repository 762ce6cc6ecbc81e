"""Keyspace events seen by a subscriber on respserver and on redis-server alike: a command
sequence runs on one client of each server and a third client, subscribed to every keyspace
and keyevent channel, must receive the same messages in the same order, byte for byte."""

from __future__ import annotations

import hiredis

from tests.conftest import RawConnection
from tests.helpers.clients import Clients

END = "events:end"  # a channel the test publishes to after its commands: the events end there


class Events:
    """A subscriber to ``__key*__:*`` on both servers, with ``notify-keyspace-events`` set."""

    def __init__(self, clients: Clients, classes: str = "KEA") -> None:
        self.clients = clients
        self.configure(classes)
        clients.call("events", "PSUBSCRIBE", "__key*__:*")
        clients.call("events", "SUBSCRIBE", END)

    def configure(self, classes: str) -> None:
        self.clients.call("admin", "CONFIG", "SET", "notify-keyspace-events", classes)

    def run(self, *commands: tuple[object, ...], client: str = "w") -> list[tuple[bytes, ...]]:
        """Run each command on ``client`` (replies equal on both servers), then return the
        events the subscriber received meanwhile (equal on both): (channel, message) pairs."""
        for command in commands:
            self.clients.call(client, *command)
        return self.seen()

    def seen(self) -> list[tuple[bytes, ...]]:
        """The events received since the last look, equal on both servers, in order."""
        self.clients.call("admin", "PUBLISH", END, "")
        (ours, frames), (real, expected) = (_until_end(c) for c in self.clients.conn("events"))
        assert frames == expected, f"respserver:   {frames}\nredis-server: {expected}"
        assert ours == real, f"respserver:   {ours!r}\nredis-server: {real!r}"
        return frames

    def close(self) -> None:
        self.configure("")
        self.clients.close()


def _until_end(conn: RawConnection) -> tuple[bytes, list[tuple[bytes, ...]]]:
    """The bytes received up to the END message, and the events among them: (channel, message)
    of each, the pattern left out."""
    reader = hiredis.Reader()
    raw = bytearray()
    frames = []
    while True:
        frame = reader.gets()
        while frame is not False:
            if frame[0] == b"message" and frame[1] == END.encode():
                return bytes(raw), frames
            frames.append(tuple(frame[2:]))
            frame = reader.gets()
        chunk = conn.sock.recv(65536)
        assert chunk, "closed"
        raw += chunk
        reader.feed(chunk)
