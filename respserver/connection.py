"""Transport: one Trio task per client moves bytes between its socket and the owner.

It knows nothing of command semantics: it parses what it reads into commands, hands the whole
batch to the owner, and writes all the replies with one send. The socket is driven directly
(non-blocking stdlib calls tried first, ``wait_readable``/``wait_writable`` only when they would
block): shared/PERFORMANCE.md measured Trio's SocketStream wrapper as most of a request's cost.
"""

from __future__ import annotations

import logging
import socket

import trio

from respserver import protocol
from respserver.owner import Owner
from respserver.protocol import QueryBufferLimit, RequestParser
from respserver.state import Server

log = logging.getLogger("respserver")

READ_SIZE = 64 * 1024
# Reads that complete without blocking never yield to Trio; force a checkpoint this often so
# one busy client cannot starve the others.
CHECKPOINT_EVERY = 16


def _address(sockaddr: tuple) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def send_all(sock: socket.socket, data: bytes) -> None:
    """Write all of ``data``; a client that stops reading parks only its own task here."""
    try:
        sent = sock.send(data)
    except BlockingIOError:
        sent = 0
    if sent == len(data):
        return
    view = memoryview(data)[sent:]
    while view:
        await trio.lowlevel.wait_writable(sock)
        try:
            sent = sock.send(view)
        except BlockingIOError:
            continue
        view = view[sent:]


class Connection:
    def __init__(self, sock: socket.socket, server: Server, owner: Owner) -> None:
        self.sock = sock
        self.server = server
        self.owner = owner
        self.client = server.new_client(
            _address(sock.getpeername()), _address(sock.getsockname()), sock.fileno()
        )
        self.cancel_scope = trio.CancelScope()
        self.client.kill = self.cancel_scope.cancel

    async def run(self) -> None:
        try:
            with self.cancel_scope:
                await self._serve()
        except OSError as exc:
            # Reset by peer, broken pipe: this client is gone, and no one else is hurt.
            log.debug("client %s: %s", self.client.addr, exc)
        finally:
            self.server.drop_client(self.client)

    async def _serve(self) -> None:
        sock, client, server = self.sock, self.client, self.server
        parser = RequestParser(
            int(server.config["proto-max-bulk-len"]),
            int(server.config["client-query-buffer-limit"]),
        )
        submit = self.owner.submit
        unchecked = 0
        more_waiting = False
        while True:
            # A read that filled the buffer suggests more is queued: read again at once.
            # Otherwise wait for readability first; an immediate recv would mostly fail
            # (a client waits for its replies), costing a syscall per batch.
            if not more_waiting:
                await trio.lowlevel.wait_readable(sock)
            try:
                data = sock.recv(READ_SIZE)
            except BlockingIOError:
                more_waiting = False
                continue
            if not data:
                return
            more_waiting = len(data) == READ_SIZE
            server.net_input_bytes += len(data)
            try:
                commands = parser.feed(data)
            except QueryBufferLimit:
                log.warning("closing client %s that reached max query buffer length", client.addr)
                return
            out = await submit(client, commands) if commands else b""
            if parser.error is not None:
                out += protocol.encode(parser.error.reply)
            if out:
                server.net_output_bytes += len(out)
                await send_all(sock, out)
            if parser.error is not None or client.closing:
                return
            if not commands:
                unchecked += 1
                if unchecked >= CHECKPOINT_EVERY:
                    unchecked = 0
                    await trio.lowlevel.checkpoint()


def make_handler(server: Server, owner: Owner):
    """The per-connection handler for ``trio.serve_tcp``."""

    async def handle(stream: trio.SocketStream) -> None:
        # Take the file descriptor out of Trio's wrapper and drive it directly (see module doc).
        family = stream.socket.family
        fd = stream.socket.detach()
        sock = socket.socket(family, socket.SOCK_STREAM, fileno=fd)
        sock.setblocking(False)
        try:
            await Connection(sock, server, owner).run()
        finally:
            trio.lowlevel.notify_closing(sock)
            sock.close()

    return handle
