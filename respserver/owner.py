"""The table owner: the one task that applies commands to the data, in the order they arrive.

Connection tasks hand it a ``Batch`` (every complete command one read produced) over a bounded
memory channel; it runs them all and hands the encoded replies to the batch's ``deliver``.
Handlers are synchronous, so each command (and each EXEC) is atomic; this task is also where
indexes, persistence and notifications hook in, because every write passes through ``execute``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from time import perf_counter_ns

import trio

from respserver import protocol
from respserver.errors import CommandError, unknown_command, unknown_subcommand, wrong_arity
from respserver.registry import COMMANDS, Command
from respserver.state import Client, CommandStats, Server

log = logging.getLogger("respserver")

# Commands that run at once inside MULTI instead of being queued.
_NOT_QUEUED = frozenset((b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"))

EXPIRE_TICK = object()


class Batch:
    """Commands from one read of one client, and where their encoded replies go."""

    __slots__ = ("client", "commands", "deliver")

    def __init__(
        self, client: Client, commands: list[list[bytes]], deliver: Callable[[bytearray], None]
    ) -> None:
        self.client = client
        self.commands = commands
        self.deliver = deliver


# Command names as clients spell them ("GET", "get") -> their spec; saves a lower() per command.
_SPELLINGS: dict[bytes, Command] = {}
_MAX_SPELLINGS = 4096


def resolve(argv: list[bytes]) -> Command | CommandError:
    """Find the command (or subcommand) ``argv`` names and check its arity, in Redis's order."""
    spec = _SPELLINGS.get(argv[0])
    if spec is None:
        spec = COMMANDS.get(argv[0].lower())
        if spec is None:
            return unknown_command(argv[0], argv[1:])
        if len(_SPELLINGS) < _MAX_SPELLINGS:
            _SPELLINGS[argv[0]] = spec
    if spec.subcommands and (len(argv) > 1 or spec.handler is None):  # plain COMMAND runs
        if len(argv) < 2:
            return wrong_arity(spec.name)
        sub = spec.subcommands.get(argv[1].lower())
        if sub is None:
            return unknown_subcommand(argv[1], spec.name)
        spec = sub
    if not spec.arity_ok(len(argv)):
        return wrong_arity(spec.name)
    return spec


def execute(client: Client, argv: list[bytes]) -> object:
    """Run one command for ``client`` and return its reply (a CommandError for an error)."""
    server = client.server
    spec = resolve(argv)
    if type(spec) is not Command:
        _stats(server, argv).rejected_calls += 1
        if argv[0].lower() == b"exec":
            return _abort_exec(client, spec)
        if client.multi is not None:
            client.multi_failed = True
        return spec
    if client.multi is not None and argv[0].lower() not in _NOT_QUEUED:
        client.multi.append(argv)
        return protocol.QUEUED
    return call(client, spec, argv)


def _abort_exec(client: Client, error: CommandError) -> CommandError:
    """Redis's execCommandAbort: a refused EXEC (wrong arity), inside MULTI or not, ends any
    transaction and unwatches, naming the reason."""
    client.multi = None
    client.multi_failed = False
    client.unwatch()
    reason = error.message.removeprefix("ERR ")
    return CommandError(f"EXECABORT Transaction discarded because of: {reason}")


def call(client: Client, spec: Command, argv: list[bytes]) -> object:
    """Invoke a resolved command's handler, counting it in INFO commandstats."""
    commandstats = client.server.commandstats
    stats = commandstats.get(spec.name)
    if stats is None:
        stats = commandstats[spec.name] = CommandStats()
    started = perf_counter_ns()
    try:
        reply = spec.invoke(client, argv)
    except CommandError as exc:
        reply = exc
        stats.failed_calls += 1
    except Exception:
        log.exception("internal error running %r", argv[:3])
        reply = CommandError("ERR internal error; see the server log")
        stats.failed_calls += 1
    stats.nsec += perf_counter_ns() - started
    stats.calls += 1
    client.last_command = spec.name
    return reply


def _stats(server: Server, argv: list[bytes]) -> CommandStats:
    spec = COMMANDS.get(argv[0].lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        spec = spec.subcommands.get(argv[1].lower())  # as Redis: 'config|get', or none if unknown
    name = spec.name if spec is not None else "unknown"
    return server.commandstats.setdefault(name, CommandStats())


def run_batch(client: Client, commands: list[list[bytes]]) -> bytearray:
    """Apply a batch and return its replies encoded for the client's protocol version."""
    out = bytearray()
    encode_into = protocol.encode_into
    spellings = _SPELLINGS
    client.last_interaction = time.time()
    for argv in commands:
        if client.closing:
            break  # after QUIT, or killed by CLIENT KILL while this batch waited: nothing runs
        # The common case inline: a known plain command, right arity, outside MULTI.
        spec = spellings.get(argv[0])
        if (
            spec is not None
            and spec.plain
            and client.multi is None
            and (len(argv) == spec.arity if spec.arity >= 0 else len(argv) >= -spec.arity)
        ):
            reply = call(client, spec, argv)
        else:
            reply = execute(client, argv)
        encode_into(out, reply, client.resp == 3)
    return out


class Owner:
    """Runs in its own task; ``submit`` is how connection tasks reach it."""

    def __init__(self, server: Server, queue_size: int = 1024) -> None:
        self.server = server
        self._send, self._receive = trio.open_memory_channel(queue_size)

    async def run(self) -> None:
        async with self._receive:
            while True:
                try:
                    batch = await self._receive.receive()
                except trio.EndOfChannel:
                    return
                # Take everything already queued before yielding again: under load the
                # replies then leave in bursts, with one scheduler round trip per burst.
                while True:
                    self._apply(batch)
                    try:
                        batch = self._receive.receive_nowait()
                    except trio.WouldBlock:
                        break

    def _apply(self, batch: Batch | object) -> None:
        if batch is EXPIRE_TICK:
            self.server.expire_cycle()
            return
        batch.deliver(run_batch(batch.client, batch.commands))

    async def submit(
        self, client: Client, commands: list[list[bytes]], deliver: Callable[[bytearray], None]
    ) -> None:
        """Queue a batch; the owner calls ``deliver`` with its encoded replies once applied."""
        batch = Batch(client, commands, deliver)
        try:
            self._send.send_nowait(batch)
        except trio.WouldBlock:
            await self._send.send(batch)  # the owner is behind: wait our turn (backpressure)

    async def run_expiry(self, interval: float = 0.1) -> None:
        """Ask the owner for an active-expiry cycle ``hz`` times a second."""
        while True:
            await trio.sleep(interval)
            try:
                self._send.send_nowait(EXPIRE_TICK)
            except trio.WouldBlock:
                pass  # busy owner: lazy expiry still applies, and the next tick comes soon
