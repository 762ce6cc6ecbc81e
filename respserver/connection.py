"""Transport: one Trio task per client moves bytes between its socket and the owner.

It knows nothing of command semantics: it parses what it reads into commands, hands the whole
batch to the owner, and writes all the replies with one send. The socket is driven directly
(non-blocking stdlib calls tried first, ``wait_readable``/``wait_writable`` only when they would
block): shared/PERFORMANCE.md measured Trio's SocketStream wrapper as most of a request's cost.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable

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


def _address(sockaddr: tuple | str, path: str = "") -> str:
    """``host:port`` as CLIENT LIST shows it; a unix socket's peer as ``path:0``, as Redis."""
    if not isinstance(sockaddr, tuple):
        return f"{path or sockaddr}:0"
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def send_all(sock: socket.socket, data: bytes | bytearray) -> None:
    """Write all of ``data``; a client that stops reading parks only its own task here."""
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except BlockingIOError:
            await trio.lowlevel.wait_writable(sock)
            continue
        view = view[sent:]


class Connection:
    """One client's socket. Its task reads and parses; the owner applies each batch and hands
    the encoded replies to ``deliver``, which writes what the socket takes at once. So the
    common round trip (read, apply, write) wakes this task only for reading. Replies the socket
    does not take wait in ``outbox`` for a flusher task, and this task reads nothing more until
    they are written: a client that does not read its replies holds one batch of them at most.
    """

    def __init__(self, sock: socket.socket, server: Server, owner: Owner) -> None:
        self.sock = sock
        self.server = server
        self.owner = owner
        local = sock.getsockname()
        self.client = server.new_client(
            _address(sock.getpeername(), local), _address(local), sock.fileno()
        )
        self.cancel_scope = trio.CancelScope()
        self.client.kill = self.cancel_scope.cancel
        self.nursery: trio.Nursery | None = None  # where a flusher runs when one is needed
        self.outbox = bytearray()
        self.in_flight = False  # a batch is with the owner: at most one per client
        self.parked: trio.lowlevel.Task | None = None  # this task, waiting on the two above
        self.closed = False

    def deliver(self, replies: bytearray) -> None:
        """Called by the owner with a batch's replies (synchronously, in the owner's task)."""
        self.in_flight = False
        if not self.closed:
            self.server.net_output_bytes += len(replies)
            if self.outbox:
                self.outbox += replies
            else:
                try:
                    sent = self.sock.send(replies)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    sent = len(replies)  # the peer is gone; this task's next read says so
                if sent < len(replies):
                    self.outbox += memoryview(replies)[sent:]
                    self.nursery.start_soon(self._until_gone, self._flush)
            self.client.pending_output = len(self.outbox)
            if self.outbox and self.server.output_limited:
                self.client.over_output_limit(len(self.outbox))
            if self.client.closing:
                # QUIT: the replies are out (or in the outbox); end the reads, as an EOF would.
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RD)
        self._unpark()

    async def run(self) -> None:
        try:
            with self.cancel_scope:
                async with trio.open_nursery() as self.nursery:
                    await self._until_gone(self._serve)
        finally:
            self.closed = True
            self.server.drop_client(self.client)

    async def _until_gone(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except OSError as exc:
            # Reset by peer, broken pipe: this client is gone, and no one else is hurt.
            log.debug("client %s: %s", self.client.addr, exc)
            self.cancel_scope.cancel()

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
            while self.outbox:
                await self._park()
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
                await self._settle()  # a half-closed client still gets its replies
                return
            more_waiting = len(data) == READ_SIZE
            server.net_input_bytes += len(data)
            try:
                commands = parser.feed(data)
            except QueryBufferLimit:
                log.warning("closing client %s that reached max query buffer length", client.addr)
                return
            if commands:
                while self.in_flight:
                    await self._park()
                self.in_flight = True
                await submit(client, commands, self.deliver)
            else:
                unchecked += 1
                if unchecked >= CHECKPOINT_EVERY:
                    unchecked = 0
                    await trio.lowlevel.checkpoint()
            if parser.error is not None:
                await self._settle()
                await send_all(sock, protocol.encode(parser.error.reply))
                return

    async def _settle(self) -> None:
        """Wait until the batch in flight is applied and every reply is written."""
        while self.in_flight or self.outbox:
            await self._park()

    async def _flush(self) -> None:
        while self.outbox:
            await trio.lowlevel.wait_writable(self.sock)
            try:
                sent = self.sock.send(self.outbox)
            except BlockingIOError:
                continue
            del self.outbox[:sent]
            self.client.pending_output = len(self.outbox)
        self._unpark()

    async def _park(self) -> None:
        """Sleep until ``deliver`` or the flusher has news; callers re-check their condition."""
        self.parked = trio.lowlevel.current_task()

        def abort(_: object) -> trio.lowlevel.Abort:
            self.parked = None
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def _unpark(self) -> None:
        if self.parked is not None:
            task, self.parked = self.parked, None
            trio.lowlevel.reschedule(task)


MAX_CLIENTS = b"-ERR max number of clients reached\r\n"
# Redis 7.0's text, word for word (its "Setup a an" included): clients match on it.
DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no"
    b" password is set for the default user. In this mode connections are only accepted from"
    b" the loopback interface. If you want to connect from external computers to Redis you may"
    b" adopt one of the following solutions: 1) Just disable protected mode sending the command"
    b" 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from"
    b" the same host the server is running, however MAKE SURE Redis is not publicly accessible"
    b" from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2)"
    b" Alternatively you can just disable the protected mode by editing the Redis configuration"
    b" file, and setting the protected mode option to 'no', and then restarting the server. 3)"
    b" If you started the server manually just for testing, restart it with the"
    b" '--protected-mode no' option. 4) Setup a an authentication password for the default"
    b" user. NOTE: You only need to do one of the above things in order for the server to start"
    b" accepting connections from the outside.\r\n"
)


def _refusal(server: Server, sock: socket.socket) -> bytes | None:
    """Why a new connection is turned away, in Redis's words, or None: protected mode (no
    password, and the peer is not on loopback), then maxclients."""
    config = server.config
    if config["protected-mode"] == "yes" and not config["requirepass"]:
        peer = sock.getpeername()  # a unix socket's peer (not a tuple) is local
        if isinstance(peer, tuple) and not ipaddress.ip_address(peer[0]).is_loopback:
            return DENIED
    if len(server.clients) >= int(config["maxclients"]):
        return MAX_CLIENTS
    return None


def make_handler(server: Server, owner: Owner):
    """The per-connection handler for ``trio.serve_tcp``."""

    async def handle(stream: trio.SocketStream) -> None:
        # Take the file descriptor out of Trio's wrapper and drive it directly (see module doc).
        family = stream.socket.family
        fd = stream.socket.detach()
        sock = socket.socket(family, socket.SOCK_STREAM, fileno=fd)
        sock.setblocking(False)
        try:
            refusal = _refusal(server, sock)
            if refusal is not None:
                server.rejected_connections += 1  # told why, then closed, as Redis does
                with contextlib.suppress(OSError):
                    sock.send(refusal)
                return
            await Connection(sock, server, owner).run()
        finally:
            trio.lowlevel.notify_closing(sock)
            sock.close()

    return handle
