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
from respserver.connection import make_handler
from respserver.owner import Owner
from respserver.persistence import Persistence
from respserver.state import Server

log = logging.getLogger("respserver")

# shared/PERFORMANCE.md: with a backlog of 5, 50 clients connecting at once lose SYNs.
BACKLOG = 511


@dataclass
class RunningServer:
    """A started server: where it listens, its state, and how to stop it."""

    host: str
    port: int
    state: Server
    cancel_scope: trio.CancelScope

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def stop(self) -> None:
        self.cancel_scope.cancel()


async def serve(
    port: int = 6379,
    bind: str = "127.0.0.1",
    databases: int = 16,
    config: dict[str, str] | None = None,
    *,
    task_status: trio.TaskStatus[RunningServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve RESP on ``bind`` (one or more addresses separated by spaces) and ``port``.

    With ``port=0`` the kernel picks a free port; ``nursery.start(serve, ...)`` returns a
    RunningServer that names it. Runs until cancelled (or ``RunningServer.stop()``).
    """
    state = Server(databases, config)
    owner = Owner(state)
    handler = make_handler(state, owner)
    try:
        await _serve(state, owner, handler, port, bind, task_status)
    finally:
        state.persistence.close()  # write and fsync what the log holds


async def _serve(
    state: Server,
    owner: Owner,
    handler: object,
    port: int,
    bind: str,
    task_status: trio.TaskStatus[RunningServer],
) -> None:
    with trio.CancelScope() as scope:
        state.stop = scope.cancel
        async with trio.open_nursery() as nursery:
            nursery.start_soon(owner.run)
            nursery.start_soon(owner.run_cron, 1 / int(state.config["hz"]))
            nursery.start_soon(fsync_every_second, state.persistence)
            listeners = []
            for host in bind.split():
                listeners += await nursery.start(
                    partial(trio.serve_tcp, handler, port, host=host, backlog=BACKLOG)
                )
                port = port or listeners[0].socket.getsockname()[1]
            if state.config["unixsocket"]:
                unix = unix_listener(state.config["unixsocket"], state.config["unixsocketperm"])
                await nursery.start(trio.serve_listeners, handler, [unix])
            bound_host, bound_port = listeners[0].socket.getsockname()[:2]
            state.config["port"] = str(bound_port)
            state.config["bind"] = bind
            task_status.started(RunningServer(bound_host, bound_port, state, scope))


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
    port: int = 0,
    bind: str = "127.0.0.1",
    databases: int = 16,
    config: dict[str, str] | None = None,
) -> AsyncIterator[RunningServer]:
    """``async with open_server(port=0) as server:`` runs a server for the block's duration."""
    async with trio.open_nursery() as nursery:
        running: RunningServer = await nursery.start(partial(serve, port, bind, databases, config))
        try:
            yield running
        finally:
            running.stop()


class ServerThread:
    """A server in a background thread, for sync code and tests::

    with ServerThread(port=0) as server:
        redis.Redis(port=server.port).ping()
    """

    def __init__(
        self,
        port: int = 0,
        bind: str = "127.0.0.1",
        databases: int = 16,
        config: dict[str, str] | None = None,
    ) -> None:
        self._args = (port, bind, databases, config)
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self.running: RunningServer | None = None

    @property
    def host(self) -> str:
        assert self.running is not None
        return self.running.host

    @property
    def port(self) -> int:
        assert self.running is not None
        return self.running.port

    def start(self) -> ServerThread:
        started: queue.Queue = queue.Queue()

        async def main() -> None:
            self._token = trio.lowlevel.current_trio_token()
            try:
                async with trio.open_nursery() as nursery:
                    started.put(await nursery.start(partial(serve, *self._args)))
            except BaseException as exc:
                started.put(exc)
                raise

        self._thread = threading.Thread(
            target=trio.run, args=(main,), name="respserver", daemon=True
        )
        self._thread.start()
        result = started.get(timeout=30)
        if isinstance(result, BaseException):
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
