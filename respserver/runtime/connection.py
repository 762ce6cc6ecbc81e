"""Transport: one Trio task per client moves bytes between its socket and the owner.

It knows nothing of command semantics: it parses what it reads into commands, hands the whole
batch to the owner, and writes all the replies with one send. A plain socket is driven directly
(non-blocking stdlib calls tried first, ``wait_readable``/``wait_writable`` only when they would
block): shared/PERFORMANCE.md measured Trio's SocketStream wrapper as most of a request's cost.
TLS goes through ``trio.SSLStream``, slower; both share ``Connection``'s logic.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from functools import partial

import trio

from respserver import errors
from respserver.core.state import Server
from respserver.errors import CommandError
from respserver.resp.encoder import encode
from respserver.resp.parser import QueryBufferLimit, RequestParser
from respserver.runtime.owner import Owner
from respserver.security.tls import TLS, describe

log = logging.getLogger("respserver")

READ_SIZE = 64 * 1024
# Reads that complete without blocking never yield to Trio; force a checkpoint this often so
# one busy client cannot starve the others.
CHECKPOINT_EVERY = 16
# The most a TLS connection encrypts and sends in one go from its outbox.
TLS_SEND_SIZE = 256 * 1024
# How long closing a TLS session may wait to send its close_notify.
CLOSE_TIMEOUT = 1.0


def _address(sockaddr: tuple | str, path: str = "") -> str:
    """``host:port`` as CLIENT LIST shows it; a unix socket's peer as ``path:0``, as Redis."""
    if not isinstance(sockaddr, tuple):
        return f"{path or sockaddr}:0"
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Connection:
    """One client's session, whatever carries its bytes. Its task reads and parses; the owner
    applies each batch and hands the encoded replies to ``deliver``, which writes what the
    transport takes at once. So the common round trip (read, apply, write) wakes this task only
    for reading. Replies the transport does not take wait in ``outbox`` for a flusher task,
    while this task goes on reading, as Redis does: a client may write any number of commands
    before it reads a reply (redis-py's pipelines do) and gets every reply. What bounds a
    client that never reads is client-output-buffer-limit; meanwhile ``outbox`` is its output
    buffer, counted as Redis counts one (CLIENT LIST's omem, INFO's used_memory).

    A subclass moves the bytes: ``_receive``, ``_send_now`` (synchronous: what the transport
    takes without waiting), ``_send_some`` and ``_stop_reading``.
    """

    def __init__(self, sock: socket.socket | trio.socket.SocketType, server: Server, owner: Owner):
        self.server = server
        self.owner = owner
        local = sock.getsockname()
        self.client = server.new_client(
            _address(sock.getpeername(), local), _address(local), sock.fileno()
        )
        self.cancel_scope = trio.CancelScope()
        self.client.kill = self.cancel_scope.cancel
        self.client.push_out = self.push
        self.nursery: trio.Nursery | None = None  # where a flusher runs when one is needed
        self.outbox = bytearray()
        self.in_flight = False  # a batch is with the owner: at most one per client
        self.parked: trio.lowlevel.Task | None = None  # this task, waiting on the two above
        self.closed = False

    async def _receive(self) -> bytes:
        """The next bytes from the client; b"" once it sent all it will."""
        raise NotImplementedError

    def _send_now(self, data: bytes | bytearray) -> int:
        """Write what the transport takes without waiting (OSError: the peer is gone)."""
        raise NotImplementedError

    async def _send_some(self, data: bytes | bytearray | memoryview) -> int:
        """Write some of ``data``, waiting until the transport takes any."""
        raise NotImplementedError

    def _stop_reading(self) -> None:
        """Make ``_receive`` return b"" (QUIT: the replies are written, then the end)."""
        raise NotImplementedError

    def deliver(self, replies: bytearray, done: bool = True) -> None:
        """Called by the owner with a batch's replies (synchronously, in the owner's task);
        ``done`` is False when more of the batch's replies follow in a later round."""
        self.in_flight = not done
        self._write(replies)
        self._unpark()

    def push(self, messages: bytearray, done: bool = True) -> None:
        """Called by the owner with messages for this client (pub/sub), between replies."""
        self._write(messages)

    def _write(self, replies: bytearray) -> None:
        """Send what the transport takes now; the rest waits in ``outbox`` for a flusher."""
        if replies and not self.closed:  # (none: a batch whose client blocked at once)
            self.server.net_output_bytes += len(replies)
            if self.outbox:
                self.outbox += replies
            else:
                try:
                    sent = self._send_now(replies)
                except OSError:
                    sent = len(replies)  # the peer is gone; this task's next read says so
                if sent < len(replies):
                    self.outbox += memoryview(replies)[sent:]
                    self.nursery.start_soon(self._until_gone, self._flush)
            if self.outbox or self.client.pending_output:
                self.client.buffers(self.client.query_buffer, len(self.outbox))
            if self.outbox and (self.server.output_limited or not self.client.plain):
                self.client.over_output_limit(len(self.outbox))
            if self.client.closing:
                self._stop_reading()  # QUIT: as an EOF would, once the replies are out

    async def run(self) -> None:
        try:
            with self.cancel_scope:
                async with trio.open_nursery() as self.nursery:
                    await self._until_gone(self._serve)
        finally:
            self.closed = True
            # The session ends in the owner, after whatever this client had queued.
            self.owner.post(partial(self.server.drop_client, self.client))

    async def _until_gone(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except (OSError, trio.BrokenResourceError) as exc:
            # Reset by peer, broken pipe: this client is gone, and no one else is hurt.
            log.debug("client %s: %s", self.client.addr, exc)
            self.cancel_scope.cancel()

    async def _serve(self) -> None:
        client, server = self.client, self.server
        parser = RequestParser(
            server.config.proto_max_bulk_len,
            server.config.client_query_buffer_limit,
        )
        submit = self.owner.submit
        receive = self._receive
        while True:
            data = await receive()
            if not data:
                await self._settle()  # a half-closed client still gets its replies
                return  # (a blocked one is dropped: its wait ends with the session)
            server.net_input_bytes += len(data)
            try:
                commands = parser.feed(data)
            except QueryBufferLimit:
                log.warning("closing client %s that reached max query buffer length", client.addr)
                return
            if parser.buffered != client.query_buffer:
                client.buffers(parser.buffered, client.pending_output)
            if commands:
                while self.in_flight:
                    await self._park()
                self.in_flight = True
                await submit(client, commands, self.deliver)
            if parser.error is not None:
                await self._settle()
                await self._send(encode(parser.error.reply))
                return

    async def _send(self, data: bytes) -> None:
        """Write all of ``data``; a client that stops reading parks only its own task here."""
        view = memoryview(data)
        while view:
            view = view[await self._send_some(view) :]

    async def _settle(self) -> None:
        """Wait until the batch in flight is applied and every reply is written, or its
        client blocks (BLPOP...): a client gone need not wait for that."""
        while (self.in_flight or self.outbox) and self.client.blocked is None:
            await self._park()

    async def _flush(self) -> None:
        while self.outbox:
            sent = await self._send_some(self.outbox)
            del self.outbox[:sent]
            self.client.buffers(self.client.query_buffer, len(self.outbox))
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


class SocketConnection(Connection):
    """A plain TCP or unix socket, driven directly (see the module doc)."""

    def __init__(self, sock: socket.socket, server: Server, owner: Owner) -> None:
        super().__init__(sock, server, owner)
        self.sock = sock
        self.more_waiting = False  # the last read filled the buffer
        self.unwaited = 0  # reads since the last checkpoint that did not wait

    async def _receive(self) -> bytes:
        sock = self.sock
        while True:
            # A read that filled the buffer suggests more is queued: read again at once.
            # Otherwise wait for readability first; an immediate recv would mostly fail
            # (a client waits for its replies), costing a syscall per batch.
            if not self.more_waiting:
                await trio.lowlevel.wait_readable(sock)
            else:
                self.unwaited += 1
                if self.unwaited >= CHECKPOINT_EVERY:
                    self.unwaited = 0
                    await trio.lowlevel.checkpoint()
            try:
                data = sock.recv(READ_SIZE)
            except BlockingIOError:
                self.more_waiting = False
                continue
            self.more_waiting = len(data) == READ_SIZE
            return data

    def _send_now(self, data: bytes | bytearray) -> int:
        try:
            return self.sock.send(data)
        except BlockingIOError:
            return 0

    async def _send_some(self, data: bytes | bytearray | memoryview) -> int:
        await trio.lowlevel.wait_writable(self.sock)
        return self._send_now(data)

    def _stop_reading(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RD)


class TLSConnection(Connection):
    """A TLS client on a ``trio.SSLStream``: the slower path, with Redis's TLS accept steps
    (the handshake, then protected mode) before the session starts."""

    def __init__(self, stream: trio.SSLStream, server: Server, owner: Owner) -> None:
        self.tcp = stream.transport_stream.socket
        super().__init__(self.tcp, server, owner)
        self.stream = stream
        self.established = False  # the handshake completed
        self.reading: trio.CancelScope | None = None  # around a read, for _stop_reading
        self.reading_stopped = False

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            if self.established:
                # close_notify, as Redis sends; bounded, so a peer that reads nothing cannot
                # hold this task.
                with trio.move_on_after(CLOSE_TIMEOUT):
                    await self.stream.aclose()

    async def _serve(self) -> None:
        server = self.server
        try:
            await self.stream.do_handshake()
        except trio.BrokenResourceError as exc:
            log.warning("Error accepting a client connection: %s", describe(exc.__cause__ or exc))
            server.total_connections -= 1  # Redis counts the clients it lets in
            return
        self.established = True
        if _denied(server, self.tcp):
            server.total_connections -= 1
            server.rejected_connections += 1
            await self._send(DENIED)
            return
        await super()._serve()

    async def _receive(self) -> bytes:
        with trio.CancelScope() as self.reading:
            if self.reading_stopped:
                return b""
            try:
                return await self.stream.receive_some(READ_SIZE)
            except trio.BrokenResourceError as exc:
                if isinstance(exc.__cause__, ssl.SSLEOFError):
                    return b""  # closed without close_notify, as most clients close
                raise
        return b""  # _stop_reading cancelled the read (no data is lost: the end was asked)

    def _send_now(self, data: bytes | bytearray) -> int:
        return 0  # an SSLStream writes only from a task: the flusher

    async def _send_some(self, data: bytes | bytearray | memoryview) -> int:
        # A copy (deliver may grow the outbox while this waits), a slice at a time: a big
        # outbox is not copied whole.
        data = bytes(memoryview(data)[:TLS_SEND_SIZE])
        await self.stream.send_all(data)
        return len(data)

    def _stop_reading(self) -> None:
        self.reading_stopped = True
        if self.reading is not None:
            self.reading.cancel()


# The refusals a connection gets before its session starts, as Redis sends them.
MAX_CLIENTS = encode(CommandError(errors.MAX_CLIENTS))
DENIED = encode(CommandError(errors.DENIED))


def _full(server: Server) -> bool:
    return len(server.clients) >= server.config.maxclients


def _denied(server: Server, sock: socket.socket | trio.socket.SocketType) -> bool:
    """Protected mode turns the peer away: the default user needs no password, and the peer
    is not on loopback."""
    if server.config.protected_mode and server.users.default.nopass:
        peer = sock.getpeername()  # a unix socket's peer (not a tuple) is local
        return isinstance(peer, tuple) and not ipaddress.ip_address(peer[0]).is_loopback
    return False


def make_handler(server: Server, owner: Owner):
    """The per-connection handler for ``trio.serve_tcp`` on the plain port (and unix socket)."""

    async def handle(stream: trio.SocketStream) -> None:
        # Take the file descriptor out of Trio's wrapper and drive it directly (see module doc).
        family = stream.socket.family
        fd = stream.socket.detach()
        sock = socket.socket(family, socket.SOCK_STREAM, fileno=fd)
        sock.setblocking(False)
        try:
            # Told why, then closed, as Redis does (maxclients first, as Redis checks).
            refusal = MAX_CLIENTS if _full(server) else DENIED if _denied(server, sock) else None
            if refusal is not None:
                server.rejected_connections += 1
                with contextlib.suppress(OSError):
                    sock.send(refusal)
                return
            await SocketConnection(sock, server, owner).run()
        finally:
            trio.lowlevel.notify_closing(sock)
            sock.close()

    return handle


def make_tls_handler(server: Server, owner: Owner, tls: TLS):
    """The per-connection handler for ``trio.serve_tcp`` on the TLS port."""

    async def handle(stream: trio.SocketStream) -> None:
        if _full(server):
            # Refused before the handshake, as Redis does: with no session yet, the client
            # is told nothing. (serve_tcp closes the stream.)
            server.rejected_connections += 1
            return
        context = tls.connection_context()
        tls_stream = trio.SSLStream(stream, context, server_side=True, https_compatible=False)
        await TLSConnection(tls_stream, server, owner).run()

    return handle
