"""The table owner: the one task that applies commands to the data, in the order they arrive.

Connection tasks hand it a ``Batch`` (every complete command one read produced) over a bounded
memory channel; it runs them with ``core.dispatch.run_batch`` and hands the encoded replies to
the batch's ``deliver``. Handlers are synchronous, so each command (and each EXEC) is atomic;
this task is also where loading and the periodic jobs run.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable
from functools import partial

import trio

from respserver.core.dispatch import execute, run_batch
from respserver.core.state import Client, Server
from respserver.errors import CommandError, is_unknown_command
from respserver.persistence.durability import LoadError, read_snapshot, replay_aof
from respserver.resp.encoder import encode_into

log = logging.getLogger("respserver")

LOAD_SLICE = 0.005  # seconds of loading between two looks at waiting clients


def _replay(loader: Client, argv: list[bytes]) -> None:
    """Apply one command of a log being loaded; one the table does not know stops the load."""
    reply = execute(loader, argv)
    if type(reply) is CommandError and is_unknown_command(reply):
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


class Owner:
    """Runs in its own task; ``submit`` is how connection tasks reach it."""

    def __init__(self, server: Server, queue_size: int = 1024) -> None:
        self.server = server
        self._send, self._receive = trio.open_memory_channel(queue_size)
        self._unfinished: deque[Batch] = deque()  # batches that stopped at ROUND_OUTPUT
        self._late: deque[Callable[[], None]] = deque()  # posted jobs the full queue refused
        # Where this round's replies go: delivered at once, or held for the AOF (``_commit``).
        self._held: list[tuple[Deliver, bytearray, bool]] = []
        server.blocking.on_unblocked = self._unblocked

    async def run(self) -> None:
        await self._load()
        blocking = self.server.blocking
        async with self._receive:
            while True:
                if self._unfinished:
                    # Let the connections queue what they read, then go on with the oldest
                    # unfinished batch after it.
                    await trio.lowlevel.checkpoint()
                    item = self._next() or self._unfinished.popleft()
                else:
                    try:
                        item = await self._wait(blocking.next_deadline())
                    except trio.EndOfChannel:
                        return
                # Take everything already queued before yielding again: under load the
                # replies then leave in bursts, with one scheduler round trip per burst, and
                # with the AOF on, one write (and fsync) per burst.
                held = self._held = []
                while self._late:
                    self._late.popleft()()
                if blocking.clients:
                    blocking.expire(time.monotonic())
                    if self.server.live.touched:
                        self.server.live.flush()
                    if self.server.pushed:
                        self._push()
                while item is not None:
                    self._apply(item)
                    if self.server.pushed:
                        self._push()
                    item = self._next()
                if self.server.live.touched:  # an owner job's writes (not one run by _apply)
                    self.server.live.flush()
                if self.server.tracking.prefixes:  # BCAST: once a round, as before Redis sleeps
                    self.server.tracking.broadcast()
                if self.server.pushed:
                    self._push()
                await self._commit(held)

    async def _wait(self, deadline: float | None) -> Batch | Callable[[], None] | None:
        """The next batch or job; None when the deadline (monotonic) of a blocked client
        comes first."""
        if deadline is None:
            return await self._receive.receive()
        with trio.move_on_at(trio.current_time() + deadline - time.monotonic()):
            return await self._receive.receive()
        return None

    def _next(self) -> Batch | Callable[[], None] | None:
        try:
            return self._receive.receive_nowait()
        except trio.WouldBlock:
            return None

    def _apply(self, item: Batch | Callable[[], None]) -> None:
        if type(item) is not Batch:
            item()  # an owner job: the expiry cycle, persistence housekeeping
            if self.server.live.touched:
                self.server.live.flush()
            return
        client = item.client
        out, ran = run_batch(client, item.commands)
        if self.server.live.touched:  # writes after a command: a served blocked client's
            self.server.live.flush()
        if self.server.pushed:
            # What the batch told others (a message, an invalidation) is on their sockets
            # before its own replies: a client that hears back from a write and reads at
            # once through another connection finds the invalidation already there.
            self._push()
        if client.blocked is not None:
            # Its blocking command waits; what it sent after waits behind it (``_unblocked``).
            item.commands = item.commands[ran:]
            client.blocked.resume = item
            self._out(item.deliver, out, False)  # even empty: the connection looks again
            return
        done = ran == len(item.commands)
        if not done:
            item.commands = item.commands[ran:]
            self._unfinished.append(item)
        self._out(item.deliver, out, done)

    def _push(self) -> None:
        """Hand the messages the last batch sent to other clients (PUBLISH) to their
        transports, in order with their replies."""
        pushed = self.server.pushed
        for client in pushed:
            if client.pushes:
                self._out(client.push_out, client.take_pushes(), True)
        pushed.clear()

    def _out(self, deliver: Deliver, out: bytearray, done: bool) -> None:
        if self.server.persistence.aof is None:
            deliver(out, done)
        else:
            self._held.append((deliver, out, done))  # replies wait for the log

    def _unblocked(self, client: Client, reply: object, batch: Batch) -> None:
        """A blocked client's wait ended (served, timed out, CLIENT UNBLOCK): its reply goes
        out, and the rest of its batch runs after what is queued, as Redis reprocesses an
        unblocked client's input before it sleeps."""
        done = not batch.commands
        if not done:
            self._unfinished.append(batch)
        out = bytearray()
        encode_into(out, reply, client.resp == 3)
        self._out(batch.deliver, out, done)

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
        if not server.config.appendonly:
            if os.path.exists(persistence.rdb_path):
                await self._load_snapshot(persistence.rdb_path)
            return
        path = persistence.aof_path
        if os.path.exists(path) and os.path.getsize(path):
            server.loading = True
            for db in server.databases:
                db.frozen = True
            loader = Client(server, 0, "", "", loader=True)
            truncated_ok = server.config.aof_load_truncated
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
            self._apply(item)  # no AOF is open while loading: delivered at once

    async def submit(self, client: Client, commands: list[list[bytes]], deliver: Deliver) -> None:
        """Queue a batch; the owner calls ``deliver`` with its encoded replies as it applies
        it (more than once for a batch of large replies: ``done`` says the last time)."""
        batch = Batch(client, commands, deliver)
        try:
            self._send.send_nowait(batch)
        except trio.WouldBlock:
            await self._send.send(batch)  # the owner is behind: wait our turn (backpressure)

    def post(self, job: Callable[[], None]) -> None:
        """Have the owner run ``job`` after what is queued (a client gone: its session ends
        there). Never waits, so a task being cancelled can post: when the queue is full, the
        job waits in ``_late``, which the owner, then busy, looks at every round."""
        try:
            self._send.send_nowait(job)
        except trio.WouldBlock:
            self._late.append(job)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the owner has stopped: the server is going away

    async def run_cron(self, interval: float = 0.1) -> None:
        """Ask the owner for its periodic job (active expiry, persistence) ``hz`` times a
        second."""
        while True:
            await trio.sleep(interval)
            try:
                self._send.send_nowait(self.server.cron)
            except trio.WouldBlock:
                pass  # busy owner: lazy expiry still applies, and the next tick comes soon
