"""Connection commands. https://redis.io/docs/latest/commands/?group=connection"""

from __future__ import annotations

from respserver.commands.common import to_int
from respserver.errors import DB_INDEX_OUT_OF_RANGE, CommandError, wrong_arity
from respserver.protocol import OK, PONG, SimpleString
from respserver.registry import command
from respserver.state import Client


@command("ping", "[message]", arity=-1, flags="fast", group="connection", since="1.0.0",
         summary="Returns the server's liveliness response.")
def ping(ctx: Client, *message: bytes) -> object:
    if len(message) > 1:
        raise wrong_arity("ping")
    return message[0] if message else PONG


@command("echo", "message", arity=2, flags="fast", group="connection", since="1.0.0",
         summary="Returns the given string.")
def echo(ctx: Client, message: bytes) -> bytes:
    return message


@command("select", "index", arity=2, flags="loading stale fast", group="connection",
         since="1.0.0", summary="Changes the selected database.")
def select(ctx: Client, index: bytes) -> SimpleString:
    number = to_int(index, "ERR value is not an integer or out of range")
    if not 0 <= number < len(ctx.server.databases):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    ctx.db = ctx.server.databases[number]
    return OK


@command("quit", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="1.0.0", summary="Closes the connection.")
def quit(ctx: Client, *_: bytes) -> SimpleString:
    ctx.closing = True
    return OK
