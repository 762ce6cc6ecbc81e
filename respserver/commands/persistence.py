"""Persistence commands: SAVE, BGSAVE, BGREWRITEAOF and SHUTDOWN (the machinery:
respserver/persistence/durability.py)."""

from __future__ import annotations

import logging

from respserver.core.state import Client
from respserver.errors import NO_SHUTDOWN, SYNTAX, CommandError
from respserver.registry import command
from respserver.resp.types import OK, Encoded, SimpleString

log = logging.getLogger("respserver")


@command(
    "bgrewriteaof",
    arity=1,
    flags="admin noscript no_async_loading",
    group="server",
    since="1.0.0",
    summary="Asynchronously rewrite the append-only file",
    complexity="O(1)",
)
def bgrewriteaof(ctx: Client) -> SimpleString:
    """Rewrite the AOF from the data set in a forked child, while clients keep being served."""
    return SimpleString(ctx.server.persistence.start_rewrite().encode())


@command(
    "save",
    arity=1,
    flags="admin noscript no_async_loading no_multi",
    group="server",
    since="1.0.0",
    summary="Synchronously save the dataset to disk",
    complexity="O(N) where N is the total number of keys in all databases",
)
def save(ctx: Client) -> SimpleString:
    """Write the snapshot now; everything waits for it, as with Redis."""
    ctx.server.persistence.save()
    return OK


@command(
    "bgsave",
    "[SCHEDULE]",
    arity=-1,
    flags="admin noscript no_async_loading",
    group="server",
    since="1.0.0",
    summary="Asynchronously save the dataset to disk",
    complexity="O(1)",
    history=(("3.2.2", "Added the `SCHEDULE` option."),),
)
def bgsave(ctx: Client, *options: bytes) -> SimpleString:
    """Write the snapshot from a forked child, while clients keep being served."""
    if len(options) > 1 or (options and options[0].lower() != b"schedule"):
        raise CommandError(SYNTAX)
    return SimpleString(ctx.server.persistence.start_bgsave(schedule=bool(options)).encode())


@command(
    "shutdown",
    "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
    arity=-1,
    flags="admin noscript loading stale no_multi allow_busy",
    group="server",
    since="1.0.0",
    summary="Synchronously save the dataset to disk and then shut down the server",
    complexity="O(N) when saving, where N is the total number of keys in all databases when"
    " saving data, otherwise O(1)",
    history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),),
)
def shutdown(ctx: Client, *options: bytes) -> Encoded:
    """Stop the server; the AOF is written and fsynced on the way out. No reply, as in Redis:
    the connection closes."""
    chosen = {option.lower() for option in options}
    if not chosen <= {b"nosave", b"save", b"now", b"force", b"abort"} or (
        b"abort" in chosen and len(chosen) > 1 or {b"nosave", b"save"} <= chosen
    ):
        raise CommandError(SYNTAX)
    if b"abort" in chosen:
        raise CommandError(NO_SHUTDOWN)
    log.warning("User requested shutdown...")
    if chosen & {b"save", b"nosave"}:
        ctx.server.persistence.save_on_exit = b"save" in chosen
    ctx.server.stop()
    ctx.closing = True
    return Encoded(b"")
