"""Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, later BZPOPMIN...), kept as Redis's
blocked.c keeps them.

A blocking handler that finds nothing to take returns ``wait_for(...)``: a ``Block`` that the
dispatcher parks here, the client queued on each of its keys in the database's ``blocking`` map
(first come, first served), with its deadline. A write that stores a value at a key someone waits
on marks the key ready (``Database.store``). After the command that did it (a whole EXEC
counts as one), ``serve_ready`` offers each ready key to its waiters in the order they came,
each through its ``Block.serve``, until the key is gone; a served BLMOVE's push can make another
key ready, served in the same pass, as Redis does. No I/O here: what a served, timed-out or
released client gets goes to the runtime through ``on_unblocked``.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any, Protocol

from respserver.errors import (
    TIMEOUT_NEGATIVE,
    TIMEOUT_NOT_FLOAT,
    UNBLOCKED,
    WRONGTYPE,
    CommandError,
)
from respserver.numbers import to_long_double
from respserver.resp.types import NULL_ARRAY

if TYPE_CHECKING:
    from respserver.keyspace.database import Changes, Database


class Client(Protocol):
    """What blocking needs of a session (core/state.py's Client)."""

    db: Database
    blocked: Block | None
    deny_blocking: bool
    loader: bool
    rewritten: list[list[bytes]] | None


class Log(Protocol):
    def feed(self, db: int, commands: list[list[bytes]]) -> None: ...


class Server(Protocol):
    """What blocking needs of the server (core/state.py's Server)."""

    changes: Changes
    persistence: Log  # where a served command's writes are logged


# What a client whose wait ends without a value gets: a timeout, CLIENT UNBLOCK (TIMEOUT).
# Redis answers every list and sorted-set wait so, BLMOVE's included.
TIMED_OUT = NULL_ARRAY


@dataclass(eq=False, slots=True)
class Block:
    """A handler's answer when its client must wait: the keys (in order, without repeats),
    the monotonic deadline (None: forever) and ``serve(key)``, which takes from a ready key
    what the command wants and returns the reply, or None if it cannot (the key holds
    another type, BLMOVE's destination does), leaving the client waiting."""

    keys: tuple[bytes, ...]
    deadline: float | None
    serve: Callable[[bytes], object]
    db: Database | None = None  # where the client waits: set by ``Blocking.block``
    argv: list[bytes] = field(default_factory=list)
    resume: Any = None  # the runtime's: what the client had queued behind the command
    # What the wait's end runs instead of answering TIMED_OUT: a command postponed by CLIENT
    # PAUSE runs then (``postpone``), and its reply is the client's.
    rerun: Callable[[], object] | None = None


def postpone(until: float, rerun: Callable[[], object]) -> Block:
    """A command held while clients are paused (CLIENT PAUSE): it runs (is processed again)
    when the pause ends or CLIENT UNPAUSE comes (``Blocking.resume_postponed``)."""
    return Block((), until, _never, rerun=rerun)


def _never(key: bytes) -> None:
    return None


def deadline_after(timeout: bytes) -> float | None:
    """A blocking command's timeout in seconds (a double, Redis's long double rounded up to a
    millisecond) as a monotonic deadline; 0 waits forever. As Redis: one whose milliseconds
    pass a long long counts as negative."""
    if timeout.isdigit() and len(timeout) < 16:  # whole seconds, the common case: exact
        seconds = int(timeout)
        return None if seconds == 0 else time.monotonic() + seconds
    seconds = to_long_double(timeout, TIMEOUT_NOT_FLOAT)
    if type(seconds) is float:  # ±inf
        raise CommandError(TIMEOUT_NEGATIVE)
    milliseconds = math.ceil(seconds * 1000)
    if milliseconds < 0 or milliseconds >= 1 << 63:
        raise CommandError(TIMEOUT_NEGATIVE)
    return None if milliseconds == 0 else time.monotonic() + milliseconds / 1000


def wait_for(
    ctx: Client,
    keys: tuple[bytes, ...],
    deadline: float | None,
    serve: Callable[[bytes], object],
    denied: object = NULL_ARRAY,
) -> object:
    """What a blocking command replies when there is nothing to take: a ``Block``, or
    ``denied`` where a client may not block (inside MULTI/EXEC, while loading)."""
    if ctx.deny_blocking or ctx.loader:
        return denied
    return Block(tuple(dict.fromkeys(keys)), deadline, serve)


def take_or_wait(
    ctx: Client,
    keys: tuple[bytes, ...],
    timeout: bytes,
    kind: type,
    take: Callable[[bytes, Any], object],
    denied: object = NULL_ARRAY,
) -> object:
    """The blocking pops' shape (BLPOP, BLMPOP, BZPOPMIN, BZMPOP): the timeout checked, then
    ``take(key, value)`` from the first key holding a ``kind`` (WRONGTYPE for another type),
    or a wait on all of them, served by the first that gets one."""
    deadline = deadline_after(timeout)
    for key in keys:
        value = ctx.db.get(key)
        if value is not None:
            if type(value) is not kind:
                raise CommandError(WRONGTYPE)
            return take(key, value)

    def serve(key: bytes) -> object:
        value = ctx.db.get(key)
        return take(key, value) if type(value) is kind else None

    return wait_for(ctx, keys, deadline, serve, denied)


class Blocking:
    """The server's blocked clients: who waits on what, until when."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.clients: dict[Client, Block] = {}
        self._deadlines: list[tuple[float, int, Client, Block]] = []  # a heap
        self._order = count()
        # The runtime's: hand a client whose wait ended its reply (and its Block's resume).
        self.on_unblocked: Callable[[Client, object, Any], None] = lambda c, r, b: None

    @property
    def with_timeout(self) -> int:
        """INFO's clients_in_timeout_table: the blocked clients with a deadline."""
        return sum(1 for block in self.clients.values() if block.deadline is not None)

    def block(self, client: Client, block: Block, argv: list[bytes]) -> None:
        """Park ``client`` on the Block its command returned."""
        block.db, block.argv = client.db, argv
        client.blocked = block
        self.clients[client] = block
        waiting = client.db.blocking
        for key in block.keys:
            waiting.setdefault(key, {})[client] = None
        if block.deadline is not None:
            heapq.heappush(self._deadlines, (block.deadline, next(self._order), client, block))

    def unblock(self, client: Client) -> Block | None:
        """End ``client``'s wait, if it waits (disconnected, served, timed out)."""
        block = self.clients.pop(client, None)
        if block is None:
            return None
        client.blocked = None
        waiting = block.db.blocking
        for key in block.keys:
            clients = waiting.get(key)
            if clients is not None:
                clients.pop(client, None)
                if not clients:
                    del waiting[key]
        return block

    def release(self, client: Client, error: bool) -> bool:
        """CLIENT UNBLOCK: end a wait as a timeout would, or with an UNBLOCKED error."""
        block = self.unblock(client)
        if block is None:
            return False
        reply = CommandError(UNBLOCKED) if error else TIMED_OUT
        self.on_unblocked(client, reply, block.resume)
        return True

    def next_deadline(self) -> float | None:
        """The soonest deadline of a client still waiting."""
        heap = self._deadlines
        while heap and heap[0][2].blocked is not heap[0][3]:
            heapq.heappop(heap)  # that wait ended otherwise
        return heap[0][0] if heap else None

    def expire(self, now: float) -> None:
        """Answer the clients whose deadline has passed, the earliest first."""
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            _, _, client, block = heapq.heappop(heap)
            if client.blocked is block:
                self.unblock(client)
                self._ended(client, block, block.rerun() if block.rerun else TIMED_OUT)

    def resume_postponed(self) -> None:
        """CLIENT UNPAUSE: the commands held by the pause run now, in the order they came."""
        for client, block in list(self.clients.items()):
            if block.rerun is not None and client.blocked is block:
                self.unblock(client)
                self._ended(client, block, block.rerun())

    def _ended(self, client: Client, block: Block, reply: object) -> None:
        """A postponed command's outcome, or a timeout's: the reply goes out, unless the
        command waits again (paused anew, or a blocking command with nothing to take); keys
        its write made ready are served."""
        if type(reply) is Block:
            reply.resume = block.resume
            self.block(client, reply, block.argv)
        else:
            self.on_unblocked(client, reply, block.resume)
        if self.server.changes.ready:
            self.serve_ready()

    def serve_ready(self) -> None:
        """Offer every key made ready since the last call to its waiters, first come first
        served, until the key is gone; keys a serving makes ready are served in turn."""
        ready = self.server.changes.ready
        while ready:
            keys = list(ready)
            ready.clear()
            for db, key in keys:
                # Each waiter's serve decides, the key gone included: an XREADGROUP then
                # fails (Redis's unblockDeletedStreamReadgroupClients), the others wait on.
                for client in list(db.blocking.get(key, ())):
                    if client.blocked is not None:
                        self._serve(client, key)

    def _serve(self, client: Client, key: bytes) -> None:
        block = client.blocked
        server = self.server
        dirty = server.changes.dirty
        client.rewritten = None
        try:
            reply = block.serve(key)
        except CommandError as error:
            reply = error
        if reply is None:
            return  # it cannot take from this key: still waiting
        self.unblock(client)
        logged = [block.argv] if client.rewritten is None else client.rewritten
        if server.changes.dirty != dirty and logged:
            server.persistence.feed(block.db.index, logged)
        self.on_unblocked(client, reply, block.resume)
