"""Starting and stopping a server: from Trio (``serve``, ``open_server``) or from sync code
(``ServerThread``). Every server is its own instance: two in one process share nothing."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import trio

import respserver.commands  # noqa: F401  (registers every command)
from respserver.core.state import Server
from respserver.persistence.durability import Persistence
from respserver.runtime.connection import make_handler, make_tls_handler
from respserver.runtime.owner import Owner
from respserver.security.tls import REBUILT_BY, TLS

log = logging.getLogger("respserver")

# shared/PERFORMANCE.md: with a backlog of 5, 50 clients connecting at once lose SYNs.
BACKLOG = 511


@dataclass
class RunningServer:
    """A started server: where it listens, its state, and how to stop it. ``port`` is None
    when there is no plain TCP listener, ``tls_port`` when there is no TLS one."""

    host: str
    port: int | None
    state: Server
    cancel_scope: trio.CancelScope
    tls_port: int | None = None

    @property
    def address(self) -> tuple[str, int | None]:
        return (self.host, self.port)

    def stop(self) -> None:
        self.cancel_scope.cancel()


async def serve(
    port: int | None = 6379,
    bind: str = "127.0.0.1",
    databases: int = 16,
    config: dict[str, str] | None = None,
    *,
    tls_port: int | None = None,
    task_status: trio.TaskStatus[RunningServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve RESP on ``bind`` (one or more addresses separated by spaces) and ``port``.

    With ``port=0`` the kernel picks a free port; ``nursery.start(serve, ...)`` returns a
    RunningServer that names it. ``port=None``: no plain TCP listener. ``tls_port`` serves
    TLS (0: the kernel picks) with the tls-* parameters of ``config``; left None, the config's
    ``tls-port`` decides (0 there: no TLS, as in Redis). Runs until cancelled (or
    ``RunningServer.stop()``). Raises TLSConfigError when TLS is asked for but its context
    cannot be built, ValueError when nothing would listen.
    """
    state = Server(databases, config)
    try:
        if tls_port is None and state.config.tls_port:
            tls_port = state.config.tls_port
        if port is None and tls_port is None and not state.config.unixsocket:
            raise ValueError("Configured to not listen anywhere, exiting.")
        tls = TLS(state.config) if tls_port is not None else None
        if tls is not None:
            state.config_appliers.update(dict.fromkeys(REBUILT_BY, tls.reconfigure))
        owner = Owner(state)
        await _serve(state, owner, port, bind, tls_port, tls, task_status)
    finally:
        state.persistence.close()  # write and fsync what the log holds


async def _serve(
    state: Server,
    owner: Owner,
    port: int | None,
    bind: str,
    tls_port: int | None,
    tls: TLS | None,
    task_status: trio.TaskStatus[RunningServer],
) -> None:
    with trio.CancelScope() as scope:
        state.stop = scope.cancel
        async with trio.open_nursery() as nursery:
            nursery.start_soon(owner.run)
            nursery.start_soon(owner.run_cron, 1 / state.config.hz)
            nursery.start_soon(fsync_every_second, state.persistence)
            handler = make_handler(state, owner)
            plain = [] if port is None else await _listen(nursery, handler, port, bind)
            secure = []
            if tls is not None:
                tls_handler = make_tls_handler(state, owner, tls)
                secure = await _listen(nursery, tls_handler, tls_port, bind)
            if state.config.unixsocket:
                unix = unix_listener(state.config.unixsocket, state.config.unixsocketperm)
                await nursery.start(trio.serve_listeners, handler, [unix])
            bound_port = plain[0].socket.getsockname()[1] if plain else None
            bound_tls = secure[0].socket.getsockname()[1] if secure else None
            state.config["port"] = str(bound_port or 0)
            state.config["tls-port"] = str(bound_tls or 0)
            state.config["bind"] = bind
            listeners = plain or secure
            host = listeners[0].socket.getsockname()[0] if listeners else bind
            task_status.started(RunningServer(host, bound_port, state, scope, bound_tls))


async def _listen(
    nursery: trio.Nursery, handler: object, port: int, bind: str
) -> list[trio.SocketListener]:
    """Listen on ``port`` at each address of ``bind``; port 0: one the kernel picks, the same
    for every address."""
    listeners: list[trio.SocketListener] = []
    for host in bind.split():
        listeners += await nursery.start(
            partial(trio.serve_tcp, handler, port, host=host, backlog=BACKLOG)
        )
        port = port or listeners[0].socket.getsockname()[1]
    return listeners


def unix_listener(path: str, permissions: str) -> trio.SocketListener:
    """Listen on the unix socket ``path`` (replacing a stale one), with ``unixsocketperm``'s
    octal mode when it is not 0, as redis-server does."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    if int(permissions, 8):
        os.chmod(path, int(permissions, 8))
    sock.listen(BACKLOG)
    return trio.SocketListener(trio.socket.from_stdlib_socket(sock))


async def fsync_every_second(persistence: Persistence) -> None:
    """``appendfsync everysec``: fsync the AOF in a worker thread once a second, so a power
    failure loses at most about a second of acknowledged writes while the owner keeps going."""
    while True:
        await trio.sleep(1)
        fd = persistence.handle_to_sync()
        if fd is not None:
            await trio.to_thread.run_sync(_fsync_and_close, fd)


def _fsync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@asynccontextmanager
async def open_server(
    port: int | None = 0,
    bind: str = "127.0.0.1",
    databases: int = 16,
    config: dict[str, str] | None = None,
    *,
    tls_port: int | None = None,
) -> AsyncIterator[RunningServer]:
    """``async with open_server(port=0) as server:`` runs a server for the block's duration
    (``serve`` says what the arguments mean)."""
    async with trio.open_nursery() as nursery:
        running: RunningServer = await nursery.start(
            partial(serve, port, bind, databases, config, tls_port=tls_port)
        )
        try:
            yield running
        finally:
            running.stop()


class ServerThread:
    """A server in a background thread, for sync code and tests::

    with ServerThread(port=0) as server:
        redis.Redis(port=server.port).ping()

    ``serve`` says what the arguments mean (``tls_port=0``: TLS on a port the kernel picks).
    """

    def __init__(
        self,
        port: int | None = 0,
        bind: str = "127.0.0.1",
        databases: int = 16,
        config: dict[str, str] | None = None,
        *,
        tls_port: int | None = None,
    ) -> None:
        self._serve = partial(serve, port, bind, databases, config, tls_port=tls_port)
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self.running: RunningServer | None = None

    @property
    def host(self) -> str:
        assert self.running is not None
        return self.running.host

    @property
    def port(self) -> int | None:
        assert self.running is not None
        return self.running.port

    @property
    def tls_port(self) -> int | None:
        assert self.running is not None
        return self.running.tls_port

    def start(self) -> ServerThread:
        started: queue.Queue = queue.Queue()

        async def main() -> None:
            self._token = trio.lowlevel.current_trio_token()
            running = None
            try:
                async with trio.open_nursery() as nursery:
                    running = await nursery.start(self._serve)
                    started.put(running)
            except BaseException as exc:
                if running is not None:
                    raise
                started.put(exc)  # a failure to start: raised in the caller's thread

        self._thread = threading.Thread(
            target=trio.run, args=(main,), name="respserver", daemon=True
        )
        self._thread.start()
        result = started.get(timeout=30)
        # A failure to start is one error (TLSConfigError, LoadError...): raise it, not the
        # nurseries' groups around it.
        while isinstance(result, BaseExceptionGroup) and len(result.exceptions) == 1:
            result = result.exceptions[0]
        if isinstance(result, BaseException):
            self._thread.join(timeout=30)
            raise result
        self.running = result
        return self

    def stop(self) -> None:
        if self._thread is None or self.running is None:
            return
        with contextlib.suppress(trio.RunFinishedError):  # already stopped: SHUTDOWN
            trio.from_thread.run_sync(self.running.stop, trio_token=self._token)
        self._thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
