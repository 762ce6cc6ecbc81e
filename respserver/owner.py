"""The table owner: the one task that applies commands to the data, in the order they arrive.

Connection tasks hand it a ``Batch`` (every complete command one read produced) over a bounded
memory channel; it runs them all and hands the encoded replies to the batch's ``deliver``.
Handlers are synchronous, so each command (and each EXEC) is atomic; this task is also where
indexes, persistence and notifications hook in, because every write passes through ``execute``.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from time import perf_counter_ns

import trio

from respserver import protocol
from respserver.acl import Denied
from respserver.errors import (
    NOT_IN_MULTI,
    CommandError,
    SubcommandMisuse,
    unknown_command,
    unknown_subcommand,
    wrong_arity,
)
from respserver.eviction import OOM
from respserver.persistence import LoadError, read_snapshot, replay_aof
from respserver.registry import COMMANDS, Command
from respserver.state import Client, CommandStats, Server

log = logging.getLogger("respserver")

# Commands that run at once inside MULTI instead of being queued.
_NOT_QUEUED = frozenset((b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"))

LOADING = "LOADING Redis is loading the dataset in memory"
NOAUTH = "NOAUTH Authentication required."
NOPERM = {
    "command": "NOPERM this user has no permissions to run the '{}' command",
    "key": "NOPERM this user has no permissions to access one of the keys used as arguments",
}
LOAD_SLICE = 0.005  # seconds of loading between two looks at waiting clients
# A batch whose replies pass this size in one round stops there; the rest of it runs after
# what other clients sent meanwhile. So a pipeline of big replies (GET of a large value,
# thousands of times) never holds the others for long, yet gets all its replies.
ROUND_OUTPUT = 256 * 1024
CHECK_EVERY = 8  # commands between two looks at the round's output (a look costs on the hot path)


def _replay(loader: Client, argv: list[bytes]) -> None:
    """Apply one command of a log being loaded; one the table does not know stops the load."""
    reply = execute(loader, argv)
    if type(reply) is CommandError and reply.message.startswith("ERR unknown command"):
        raise LoadError(f"Unknown command '{argv[0].decode(errors='replace')}' in the AOF")


# Where a batch's encoded replies go: deliver(replies, done); done is False for the replies of
# a batch that stopped at ROUND_OUTPUT and goes on in a later round.
Deliver = Callable[[bytearray, bool], None]


class Batch:
    """Commands from one read of one client, and where their encoded replies go."""

    __slots__ = ("client", "commands", "deliver")

    def __init__(self, client: Client, commands: list[list[bytes]], deliver: Deliver) -> None:
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
    if not client.authenticated and not server.users.default_open and "no_auth" not in spec.flags:
        return _reject(client, argv, CommandError(NOAUTH))
    if client.multi is not None and "no_multi" in spec.flags:
        return _reject(client, argv, CommandError(NOT_IN_MULTI))
    if not client.user.unrestricted:
        denied = permission_denied(client, spec, argv)
        if denied is not None:
            return _reject(client, argv, CommandError(NOPERM[denied.reason].format(spec.name)))
    if server.check_memory and server.memory.refuses(client, spec):
        error = _reject(client, argv, CommandError(OOM))
        return _abort_exec(client, error) if spec.name == "exec" else error
    if server.disk_error is not None and _writes(client, spec):
        error = _reject(client, argv, CommandError(server.disk_error))
        return _abort_exec(client, error) if spec.name == "exec" else error
    if server.loading and not client.loader and "loading" not in spec.flags:
        return CommandError(LOADING)
    if client.multi is not None and argv[0].lower() not in _NOT_QUEUED:
        client.multi.append(argv)
        return protocol.QUEUED
    return call(client, spec, argv)


def _writes(client: Client, spec: Command) -> bool:
    """What Redis refuses while the disk fails: a write, PING (so monitoring notices), and an
    EXEC whose queue holds a write."""
    if spec.write or spec.name == "ping":
        return True
    return (
        spec.name == "exec"
        and client.multi is not None
        and any(getattr(resolve(argv), "write", False) for argv in client.multi)
    )


def _reject(client: Client, argv: list[bytes], error: CommandError) -> CommandError:
    """Redis's rejectCommand: counted as rejected, and a transaction being queued fails."""
    _stats(client.server, argv).rejected_calls += 1
    if client.multi is not None:
        client.multi_failed = True
    return error


def permission_denied(
    client: Client, spec: Command, argv: list[bytes], context: str = ""
) -> Denied | None:
    """Whether the client's user may not run this command line; a refusal is logged."""
    try:
        client.user.check(spec, argv)
    except Denied as denied:
        obj = spec.name.encode() if denied.reason == "command" else argv[denied.position]
        client.log_denial(denied.reason, obj, spec.name, context=context)
        return denied
    return None


def _abort_exec(client: Client, error: CommandError) -> CommandError:
    """Redis's execCommandAbort: a refused EXEC (wrong arity), inside MULTI or not, ends any
    transaction and unwatches, naming the reason."""
    client.multi = None
    client.multi_failed = False
    client.unwatch()
    reason = error.message.removeprefix("ERR ")
    return CommandError(f"EXECABORT Transaction discarded because of: {reason}")


def call(client: Client, spec: Command, argv: list[bytes]) -> object:
    """Invoke a resolved command's handler, counting it in INFO commandstats; a write that
    changed something is fed to the AOF, as its handler's ``propagate_as`` form if it set one."""
    server = client.server
    commandstats = server.commandstats
    stats = commandstats.get(spec.name)
    if stats is None:
        stats = commandstats[spec.name] = CommandStats()
    dirty = server.dirty
    client.rewritten = None
    started = perf_counter_ns()
    try:
        reply = spec.invoke(client, argv)
    except CommandError as exc:
        reply = exc.about(argv) if type(exc) is SubcommandMisuse else exc
        stats.failed_calls += 1
    except Exception:
        log.exception("internal error running %r", argv[:3])
        reply = CommandError("ERR internal error; see the server log")
        stats.failed_calls += 1
    stats.nsec += perf_counter_ns() - started
    stats.calls += 1
    client.last_command = spec.name
    if server.dirty != dirty and spec.write:
        server.persistence.feed(client.db.index, client.rewritten or [argv])
    return reply


def _stats(server: Server, argv: list[bytes]) -> CommandStats:
    spec = COMMANDS.get(argv[0].lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        spec = spec.subcommands.get(argv[1].lower())  # as Redis: 'config|get', or none if unknown
    name = spec.name if spec is not None else "unknown"
    return server.commandstats.setdefault(name, CommandStats())


def run_batch(client: Client, commands: list[list[bytes]]) -> tuple[bytearray, int]:
    """Apply a batch until its replies pass ROUND_OUTPUT (looked at every CHECK_EVERY
    commands); return the replies, encoded for the client's protocol version, and how many
    commands ran (all of them when the client is closing: nothing of the rest will run)."""
    out = bytearray()
    encode_into = protocol.encode_into
    server = client.server
    spellings = {} if server.loading else _SPELLINGS  # loading: every command checked
    limited = server.output_limited
    client.last_interaction = time.time()
    for start in range(0, len(commands), CHECK_EVERY):
        if len(out) > ROUND_OUTPUT:
            return out, start
        for argv in commands[start : start + CHECK_EVERY]:
            if client.closing:
                return out, len(commands)  # after QUIT, or killed by CLIENT KILL meanwhile
            # The common case inline: a known plain command, right arity, outside MULTI.
            spec = spellings.get(argv[0])
            if (
                spec is not None
                and spec.plain
                and client.multi is None
                and client.authenticated
                and client.user.unrestricted
                and not server.check_memory
                and server.disk_error is None
                and (len(argv) == spec.arity if spec.arity >= 0 else len(argv) >= -spec.arity)
            ):
                reply = call(client, spec, argv)
            else:
                reply = execute(client, argv)
            encode_into(out, reply, client.resp == 3)
            if limited and client.over_output_limit(client.pending_output + len(out)):
                return bytearray(), len(commands)  # the client is closed: its replies go nowhere
    return out, len(commands)


class Owner:
    """Runs in its own task; ``submit`` is how connection tasks reach it."""

    def __init__(self, server: Server, queue_size: int = 1024) -> None:
        self.server = server
        self._send, self._receive = trio.open_memory_channel(queue_size)
        self._unfinished: deque[Batch] = deque()  # batches that stopped at ROUND_OUTPUT

    async def run(self) -> None:
        await self._load()
        async with self._receive:
            while True:
                if self._unfinished:
                    # Let the connections queue what they read, then go on with the oldest
                    # unfinished batch after it.
                    await trio.lowlevel.checkpoint()
                    item = self._next() or self._unfinished.popleft()
                else:
                    try:
                        item = await self._receive.receive()
                    except trio.EndOfChannel:
                        return
                # Take everything already queued before yielding again: under load the
                # replies then leave in bursts, with one scheduler round trip per burst, and
                # with the AOF on, one write (and fsync) per burst.
                held: list[tuple[Deliver, bytearray, bool]] = []
                while True:
                    self._apply(item, held)
                    try:
                        item = self._receive.receive_nowait()
                    except trio.WouldBlock:
                        break
                await self._commit(held)

    def _next(self) -> Batch | Callable[[], None] | None:
        try:
            return self._receive.receive_nowait()
        except trio.WouldBlock:
            return None

    def _apply(self, item: Batch | Callable[[], None], held: list) -> None:
        if type(item) is not Batch:
            item()  # an owner job: the expiry cycle, persistence housekeeping
            return
        out, ran = run_batch(item.client, item.commands)
        done = ran == len(item.commands)
        if not done:
            item.commands = item.commands[ran:]
            self._unfinished.append(item)
        if self.server.persistence.aof is None:
            item.deliver(out, done)
        else:
            held.append((item.deliver, out, done))  # replies wait for the log

    async def _commit(self, held: list) -> None:
        """Write the round's writes to the AOF (and fsync them under ``appendfsync always``)
        before its replies leave: nothing is acknowledged before it is logged."""
        persistence = self.server.persistence
        if persistence.flush():
            await trio.to_thread.run_sync(persistence.aof.fsync)
        for deliver, out, done in held:
            deliver(out, done)

    async def _load(self) -> None:
        """Replay the AOF (when ``appendonly yes``) before anything else runs, serving clients
        between chunks (they get -LOADING), then open it for appending."""
        server, persistence = self.server, self.server.persistence
        if server.config["appendonly"] != "yes":
            if os.path.exists(persistence.rdb_path):
                await self._load_snapshot(persistence.rdb_path)
            return
        path = persistence.aof_path
        if os.path.exists(path) and os.path.getsize(path):
            server.loading = True
            for db in server.databases:
                db.frozen = True
            loader = Client(server, 0, "", "", loader=True)
            truncated_ok = server.config["aof-load-truncated"] == "yes"
            paused = logged = time.monotonic()
            progress = None
            for progress in replay_aof(path, partial(_replay, loader), truncated_ok):
                now = time.monotonic()
                if now - paused > LOAD_SLICE:
                    self._answer_waiting()
                    await trio.sleep(0)
                    paused = time.monotonic()
                if now - logged > 1:
                    log.info("%s", progress.line())
                    logged = now
            for db in server.databases:
                db.frozen = False
            server.loading = False
            server.dirty = 0
            if progress is not None:
                log.info("%s", progress.line())
            log.info("DB loaded from append only file")
        persistence.open_aof()

    async def _load_snapshot(self, path: str) -> None:
        """Load the RDB file (``appendonly no``, as Redis does) in a worker thread, answering
        clients meanwhile; the data set is swapped in once the whole file, checksum included,
        is verified."""
        server = self.server
        server.loading = True
        started = logged = time.monotonic()
        size = os.path.getsize(path)
        log.info("Loading %s (%d bytes); progress every second", path, size)
        loaded: list = []
        keys_read = [0]  # written by the reading thread, read here for the log
        done = trio.Event()
        with open(path, "rb") as file:

            async def read() -> None:
                try:
                    count = partial(keys_read.__setitem__, 0)
                    loaded.extend(await trio.to_thread.run_sync(read_snapshot, path, file, count))
                finally:
                    done.set()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                while not done.is_set():
                    self._answer_waiting()
                    with trio.move_on_after(LOAD_SLICE):
                        await done.wait()
                    if time.monotonic() - logged > 1:
                        logged = time.monotonic()
                        log.info(
                            "Loading %s: %d keys, %.0f%%, %.0f keys/s",
                            path,
                            keys_read[0],
                            100 * file.tell() / max(size, 1),
                            keys_read[0] / (logged - started),
                        )
        for number, data, expires in loaded:
            if number < len(server.databases):
                server.databases[number].replace_contents(data, expires)
        server.loading = False
        server.dirty = 0
        keys = sum(len(data) for _, data, _ in loaded)
        seconds = time.monotonic() - started
        log.info(
            "DB loaded from disk: %d keys in %.3f seconds (%.0f keys/s)",
            keys,
            seconds,
            keys / max(seconds, 1e-9),
        )

    def _answer_waiting(self) -> None:
        """While loading: run what clients sent meanwhile (most of it earns -LOADING)."""
        while True:
            try:
                item = self._receive.receive_nowait()
            except trio.WouldBlock:
                return
            self._apply(item, [])

    async def submit(self, client: Client, commands: list[list[bytes]], deliver: Deliver) -> None:
        """Queue a batch; the owner calls ``deliver`` with its encoded replies as it applies
        it (more than once for a batch of large replies: ``done`` says the last time)."""
        batch = Batch(client, commands, deliver)
        try:
            self._send.send_nowait(batch)
        except trio.WouldBlock:
            await self._send.send(batch)  # the owner is behind: wait our turn (backpressure)

    async def run_cron(self, interval: float = 0.1) -> None:
        """Ask the owner for its periodic job (active expiry, persistence) ``hz`` times a
        second."""
        while True:
            await trio.sleep(interval)
            try:
                self._send.send_nowait(self.server.cron)
            except trio.WouldBlock:
                pass  # busy owner: lazy expiry still applies, and the next tick comes soon
