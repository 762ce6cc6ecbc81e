"""Transaction commands. https://redis.io/docs/latest/commands/?group=transactions

While ``ctx.multi`` is a list the dispatcher (``core.dispatch.execute``) queues commands into it
and flags ``ctx.multi_failed`` when one is refused; EXEC then runs the queue through
``core.dispatch.run_transaction``, so statistics and errors are those of commands run alone, and
the whole queue runs inside one synchronous call: nothing else interleaves. WATCH registers the
client in ``db.watchers``; ``Database.modified`` (and FLUSHDB/SWAPDB) set ``ctx.dirty_cas``.
"""

from __future__ import annotations

from respserver.core.dispatch import run_transaction
from respserver.core.state import Client
from respserver.errors import (
    DISCARD_WITHOUT_MULTI,
    EXEC_ABORTED,
    EXEC_WITHOUT_MULTI,
    MULTI_NESTED,
    WATCH_INSIDE_MULTI,
    CommandError,
)
from respserver.registry import command
from respserver.resp.types import NULL_ARRAY, OK, SimpleString


def end_transaction(ctx: Client) -> None:
    """Leave MULTI state and forget watched keys (EXEC and DISCARD always do both)."""
    ctx.multi = None
    ctx.multi_failed = False
    ctx.unwatch()


def _expire_watched_keys(ctx: Client) -> None:
    """Look each watched key up, so one that expired since WATCH is deleted now, which marks
    the client dirty: Redis fails EXEC when a watched key has expired in between."""
    for db, key in ctx.watched:
        db.get(key)


@command(
    "multi",
    arity=1,
    flags="noscript loading stale fast allow_busy",
    group="transactions",
    since="1.2.0",
    summary="Mark the start of a transaction block",
)
def multi(ctx: Client) -> SimpleString:
    """Start queuing commands for EXEC."""
    if ctx.multi is not None:
        raise CommandError(MULTI_NESTED)
    ctx.multi = []
    ctx.queued_flags = set()
    ctx.multi_failed = False
    return OK


@command(
    "exec",
    arity=1,
    flags="noscript loading stale skip_slowlog",
    group="transactions",
    since="1.2.0",
    summary="Execute all commands issued after MULTI",
    complexity="Depends on commands in the transaction",
)
def exec_(ctx: Client) -> object:
    """Run the queued commands and reply with their replies; a null array if a watched key
    changed, EXECABORT if a command was refused while queuing."""
    if ctx.multi is None:
        raise CommandError(EXEC_WITHOUT_MULTI)
    queued, refused = ctx.multi, ctx.multi_failed
    _expire_watched_keys(ctx)
    changed = ctx.dirty_cas
    end_transaction(ctx)
    if refused:
        raise CommandError(EXEC_ABORTED)
    if changed:
        return NULL_ARRAY
    return run_transaction(ctx, queued)


@command(
    "discard",
    arity=1,
    flags="noscript loading stale fast allow_busy",
    group="transactions",
    since="2.0.0",
    summary="Discard all commands issued after MULTI",
    complexity="O(N), when N is the number of queued commands",
)
def discard(ctx: Client) -> SimpleString:
    """Drop the queued commands and the watched keys."""
    if ctx.multi is None:
        raise CommandError(DISCARD_WITHOUT_MULTI)
    end_transaction(ctx)
    return OK


@command(
    "watch",
    "key [key ...]",
    arity=-2,
    flags="noscript loading stale fast allow_busy",
    keys=(1, -1, 1),
    key_flags="RO",
    group="transactions",
    since="2.2.0",
    summary="Watch the given keys to determine execution of the MULTI/EXEC block",
    complexity="O(1) for every key.",
)
def watch(ctx: Client, *keys: bytes) -> SimpleString:
    """Make the next EXEC fail if any of these keys changes before it."""
    if ctx.multi is not None:
        raise CommandError(WATCH_INSIDE_MULTI)
    db = ctx.db
    for key in keys:
        # A key already expired is deleted first: Redis treats its later removal as no change.
        db.get(key)
        clients = db.watchers.setdefault(key, set())
        if ctx not in clients:
            clients.add(ctx)
            ctx.watched.append((db, key))
    return OK


@command(
    "unwatch",
    arity=1,
    flags="noscript loading stale fast allow_busy",
    group="transactions",
    since="2.2.0",
    summary="Forget about all watched keys",
)
def unwatch(ctx: Client) -> SimpleString:
    """Forget every watched key."""
    ctx.unwatch()
    return OK
