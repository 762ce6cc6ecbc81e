"""Connection commands. https://redis.io/docs/latest/commands/?group=connection

HELLO, AUTH, RESET and the CLIENT family act on the calling connection (``ctx``) or, for
CLIENT LIST/KILL, on the other clients the server holds. Users and their passwords are the ACL's
(respserver/acl.py); ``requirepass`` is the ``default`` user's password.
"""

from __future__ import annotations

import time

from respserver.commands.server import help_reply
from respserver.commands.transactions import end_transaction
from respserver.core.state import Client
from respserver.core.tracking import Mode
from respserver.errors import (
    BAD_CLIENT_ID,
    CACHING_NO_NOT_OPTOUT,
    CACHING_NOT_TRACKING,
    CACHING_YES_NOT_OPTIN,
    CLIENT_NAME_CHARACTERS,
    DB_INDEX_OUT_OF_RANGE,
    HELLO_NOAUTH,
    INVALID_CLIENT_ID,
    NO_PASSWORD_SET,
    NO_SUCH_CLIENT,
    NOPROTO,
    PAUSE_MODE,
    PROTOCOL_VERSION_NOT_INTEGER,
    SYNTAX,
    TIMEOUT_NEGATIVE,
    TIMEOUT_NOT_INTEGER,
    TRACKING_OPTIN_AND_OPTOUT,
    TRACKING_OPTIONS_AND_BCAST,
    TRACKING_PREFIX_WITHOUT_BCAST,
    TRACKING_REDIRECT_MISSING,
    TRACKING_REDIRECT_TWICE,
    TRACKING_SWITCH_BCAST,
    TRACKING_SWITCH_OPTIN_OPTOUT,
    UNBLOCK_REASON,
    WRONGPASS,
    CommandError,
    SubcommandMisuse,
    attribute_characters,
    hello_syntax,
    no_such_user,
    prefixes_overlap,
    unknown_client_type,
    unrecognized_option,
    wrong_arity,
)
from respserver.numbers import to_int
from respserver.registry import command, container
from respserver.resp.types import OK, PONG, Replies, RespSet, SimpleString, Verbatim

CLIENT_TYPES = ("normal", "slave", "replica", "master", "pubsub")

_CONNECTION = "noscript loading stale fast no_auth allow_busy"


@command(
    "ping",
    "[message]",
    arity=-1,
    flags="fast",
    group="connection",
    since="1.0.0",
    summary="Ping the server",
    tips="request_policy:all_shards response_policy:all_succeeded",
)
def ping(ctx: Client, *message: bytes) -> object:
    """PONG, or the message; a RESP2 subscriber gets ["pong", message or ""]."""
    if len(message) > 1:
        raise wrong_arity("ping")
    if not ctx.plain and ctx.subscriptions and ctx.resp == 2:
        return [b"pong", message[0] if message else b""]
    return message[0] if message else PONG


@command(
    "echo",
    "message",
    arity=2,
    flags="loading stale fast",
    group="connection",
    since="1.0.0",
    summary="Echo the given string",
)
def echo(ctx: Client, message: bytes) -> bytes:
    """The message."""
    return message


@command(
    "select",
    "index",
    arity=2,
    flags="loading stale fast",
    group="connection",
    since="1.0.0",
    summary="Change the selected database for the current connection",
)
def select(ctx: Client, index: bytes) -> SimpleString:
    """Switch the connection to database ``index``."""
    number = to_int(index)
    if not 0 <= number < len(ctx.server.databases):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    ctx.db = ctx.server.databases[number]
    return OK


@command(
    "quit",
    arity=-1,
    flags=_CONNECTION,
    group="connection",
    since="1.0.0",
    summary="Close the connection",
)
def quit(ctx: Client, *_: bytes) -> SimpleString:
    """OK, then the connection closes."""
    ctx.closing = True
    return OK


# --- authentication and handshake ---------------------------------------------------------------


def authenticate(ctx: Client, command: bytes, username: bytes, password: bytes) -> None:
    """Log in as ``username``, or raise WRONGPASS (and note the failure in the ACL log)."""
    user = ctx.server.users.authenticate(username, password)
    if user is None:
        ctx.log_denial("auth", command, command.lower().decode(), username)
        raise CommandError(WRONGPASS)
    ctx.user, ctx.authenticated = user, True


@command(
    "auth",
    "[username] password",
    arity=-2,
    flags=_CONNECTION,
    group="connection",
    since="1.0.0",
    summary="Authenticate to the server",
    complexity="O(N) where N is the number of passwords defined for the user",
    history=(("6.0.0", "Added ACL style (username and password)."),),
)
def auth(ctx: Client, *args: bytes) -> SimpleString:
    """Authenticate as ``default`` (one argument) or as ``username``."""
    if len(args) > 2:
        raise CommandError(SYNTAX)
    if len(args) == 1:
        if ctx.server.users.default.nopass:
            raise CommandError(NO_PASSWORD_SET)
        args = (b"default", *args)
    authenticate(ctx, b"AUTH", *args)
    return OK


@command(
    "hello",
    "[protover [AUTH username password] [SETNAME clientname]]",
    arity=-1,
    flags=_CONNECTION,
    group="connection",
    since="6.0.0",
    summary="Handshake with Redis",
    history=(
        (
            "6.2.0",
            "`protover` made optional; when called without arguments the command "
            "reports the current connection's context.",
        ),
    ),
)
def hello(ctx: Client, *args: bytes) -> dict:
    """Switch protocol (2 or 3), optionally authenticating and naming the connection; reply
    with the server's description."""
    version = 0
    if args:
        version = to_int(args[0], PROTOCOL_VERSION_NOT_INTEGER)
        if version not in (2, 3):
            raise CommandError(NOPROTO)
    # Redis 7.0 applies each option as it reads it: an error stops there, earlier ones stay.
    i = 1
    while i < len(args):
        option, more = args[i].lower(), len(args) - 1 - i
        if option == b"auth" and more >= 2:
            authenticate(ctx, b"HELLO", args[i + 1], args[i + 2])
            i += 3
        elif option == b"setname" and more >= 1:
            _set_name(ctx, args[i + 1])
            i += 2
        else:
            raise hello_syntax(_text(args[i]))
    if not ctx.authenticated and not ctx.server.users.default_open:
        raise CommandError(HELLO_NOAUTH)
    if version:
        ctx.resp = version
    return {
        b"server": b"redis",
        b"version": ctx.server.config.redis_version.encode(),
        b"proto": ctx.resp,
        b"id": ctx.id,
        b"mode": b"standalone",
        b"role": b"master",
        b"modules": [],
    }


@command(
    "reset",
    arity=1,
    flags=_CONNECTION,
    group="connection",
    since="6.2.0",
    summary="Reset the connection",
)
def reset(ctx: Client) -> SimpleString:
    """Back to a fresh connection's state: database 0, RESP2, no name, no MULTI, no WATCH,
    no subscriptions, no MONITOR, replies on."""
    ctx.server.pubsub.drop(ctx)
    ctx.server.tracking.disable(ctx)
    ctx.server.monitors.pop(ctx, None)
    ctx.monitor = False
    ctx.reply_mode = None
    ctx.db = ctx.server.databases[0]
    ctx.resp = 2
    ctx.name = b""
    ctx.reset_user()
    end_transaction(ctx)
    return SimpleString(b"RESET")


# --- CLIENT --------------------------------------------------------------------------------------

container(
    "client",
    arity=-2,
    group="connection",
    since="2.4.0",
    summary="A container for client connection commands",
)

_CLIENT = "noscript loading stale"
_CLIENT_ADMIN = "admin noscript loading stale"


@command(
    "client|id",
    arity=2,
    flags=_CLIENT,
    group="connection",
    since="5.0.0",
    summary="Returns the client ID for the current connection",
)
def client_id(ctx: Client) -> int:
    """This connection's id."""
    return ctx.id


@command(
    "client|setname",
    "connection-name",
    arity=3,
    flags=_CLIENT,
    group="connection",
    since="2.6.9",
    summary="Set the current connection name",
)
def client_setname(ctx: Client, name: bytes) -> SimpleString:
    """Name this connection (an empty name removes it)."""
    _set_name(ctx, name)
    return OK


@command(
    "client|reply",
    "<ON | OFF | SKIP>",
    arity=3,
    flags=_CLIENT,
    group="connection",
    since="3.2.0",
    summary="Instruct the server whether to reply to commands",
    complexity="O(1)",
)
def client_reply(ctx: Client, mode: bytes) -> object:
    """ON: replies again (OK); OFF: no replies from now on; SKIP: none for the next command.
    Messages (pub/sub) still arrive. OFF and SKIP answer nothing themselves."""
    mode = mode.lower()
    if mode == b"on":
        ctx.reply_mode = None
        return OK
    if mode == b"off":
        ctx.reply_mode = "off"
    elif mode == b"skip":
        if ctx.reply_mode != "off":
            ctx.reply_mode = "skip next"
    else:
        raise CommandError(SYNTAX)
    return Replies()


@command(
    "client|no-evict",
    "<ON | OFF>",
    arity=3,
    flags=_CLIENT_ADMIN,
    group="connection",
    since="7.0.0",
    summary="Set client eviction mode for the current connection",
    complexity="O(1)",
)
def client_no_evict(ctx: Client, mode: bytes) -> SimpleString:
    """Exempt this connection from client eviction (ON) or not (OFF). There is no client
    eviction here (maxmemory-clients), so it only shows, as CLIENT LIST's flag e."""
    mode = mode.lower()
    if mode not in (b"on", b"off"):
        raise CommandError(SYNTAX)
    ctx.no_evict = mode == b"on"
    return OK


@command(
    "client|tracking",
    "<ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] "
    "[OPTIN] [OPTOUT] [NOLOOP]",
    arity=-3,
    flags=_CLIENT,
    group="connection",
    since="6.0.0",
    summary="Enable or disable server assisted client side caching support",
    complexity="O(1). Some options may introduce additional complexity.",
)
def client_tracking(ctx: Client, status: bytes, *options: bytes) -> SimpleString:
    """Client-side caching (core/tracking.py): ON with its options, checked in Redis's order
    (the options first, then how they combine with each other and with the current mode)."""
    mode = _tracking_mode(ctx, options)
    tracking = ctx.server.tracking
    status = status.lower()
    if status == b"off":
        tracking.disable(ctx)
        return OK
    if status != b"on":
        raise CommandError(SYNTAX)
    if mode.prefixes and not mode.bcast:
        raise CommandError(TRACKING_PREFIX_WITHOUT_BCAST)
    current = ctx.tracking
    if current is not None and current.bcast != mode.bcast:
        raise CommandError(TRACKING_SWITCH_BCAST)
    if mode.bcast and (mode.optin or mode.optout):
        raise CommandError(TRACKING_OPTIONS_AND_BCAST)
    if mode.optin and mode.optout:
        raise CommandError(TRACKING_OPTIN_AND_OPTOUT)
    if current is not None and (mode.optin and current.optout or mode.optout and current.optin):
        raise CommandError(TRACKING_SWITCH_OPTIN_OPTOUT)
    if mode.bcast:
        prefix, other, existing = tracking.overlapping(ctx, list(mode.prefixes))
        if prefix or other:
            raise prefixes_overlap(prefix, other, existing)
    tracking.enable(ctx, mode)
    return OK


def _tracking_mode(ctx: Client, options: tuple[bytes, ...]) -> Mode:
    """CLIENT TRACKING's options, read in order as Redis reads them."""
    mode = Mode()
    i = 0
    while i < len(options):
        option = options[i].lower()
        more = i + 1 < len(options)
        if option == b"redirect" and more:
            i += 1
            if mode.redirect:
                raise CommandError(TRACKING_REDIRECT_TWICE)
            mode.redirect = to_int(options[i])
            if mode.redirect not in ctx.server.clients:
                raise CommandError(TRACKING_REDIRECT_MISSING)
        elif option == b"prefix" and more:
            i += 1
            mode.prefixes[options[i]] = None
        elif option in (b"bcast", b"optin", b"optout", b"noloop"):
            setattr(mode, option.decode(), True)
        else:
            raise CommandError(SYNTAX)
        i += 1
    return mode


@command(
    "client|caching",
    "<YES | NO>",
    arity=3,
    flags=_CLIENT,
    group="connection",
    since="6.0.0",
    summary="Instruct the server about tracking or not keys in the next request",
    complexity="O(1)",
)
def client_caching(ctx: Client, mode: bytes) -> SimpleString:
    """OPTIN: cache the keys of the next command (YES); OPTOUT: do not (NO)."""
    tracking = ctx.tracking
    if tracking is None:
        raise CommandError(CACHING_NOT_TRACKING)
    mode = mode.lower()
    if mode == b"yes":
        if not tracking.optin:
            raise CommandError(CACHING_YES_NOT_OPTIN)
    elif mode == b"no":
        if not tracking.optout:
            raise CommandError(CACHING_NO_NOT_OPTOUT)
    else:
        raise CommandError(SYNTAX)
    tracking.caching = True
    return OK


@command(
    "client|getredir",
    arity=2,
    flags=_CLIENT,
    group="connection",
    since="6.0.0",
    summary="Get tracking notifications redirection client ID if any",
    complexity="O(1)",
)
def client_getredir(ctx: Client) -> int:
    """The client invalidations go to: 0 for this one, -1 when not tracking."""
    return -1 if ctx.tracking is None else ctx.tracking.redirect


@command(
    "client|trackinginfo",
    arity=2,
    flags=_CLIENT,
    group="connection",
    since="6.2.0",
    summary="Return information about server assisted client side caching for the current "
    "connection",
    complexity="O(1)",
)
def client_trackinginfo(ctx: Client) -> dict[bytes, object]:
    """Tracking's flags, redirect and prefixes for this connection."""
    mode = ctx.tracking
    if mode is None:
        return {b"flags": RespSet([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if mode.bcast:
        flags.append(b"bcast")
    if mode.optin:
        flags += [b"optin", b"caching-yes"] if mode.caching else [b"optin"]
    if mode.optout:
        flags += [b"optout", b"caching-no"] if mode.caching else [b"optout"]
    if mode.noloop:
        flags.append(b"noloop")
    if mode.broken:
        flags.append(b"broken_redirect")
    return {
        b"flags": RespSet(flags),
        b"redirect": mode.redirect,
        b"prefixes": sorted(mode.prefixes),
    }


@command(
    "client|pause",
    "timeout [WRITE | ALL]",
    arity=-3,
    flags=_CLIENT_ADMIN,
    group="connection",
    since="2.9.50",
    summary="Stop processing commands from clients for some time",
    complexity="O(1)",
    history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),),
)
def client_pause(ctx: Client, timeout: bytes, *mode: bytes) -> SimpleString:
    """Hold every command (ALL), or those that may change data (WRITE), for ``timeout`` ms:
    they run when the pause ends or CLIENT UNPAUSE comes (core/blocking.postpone)."""
    if len(mode) > 1:
        raise SubcommandMisuse()
    if mode and mode[0].lower() not in (b"write", b"all"):
        raise CommandError(PAUSE_MODE)
    milliseconds = to_int(timeout, TIMEOUT_NOT_INTEGER)
    if milliseconds < 0:
        raise CommandError(TIMEOUT_NEGATIVE)
    writes_only = bool(mode) and mode[0].lower() == b"write"
    ctx.server.pause(time.monotonic() + milliseconds / 1000, writes_only)
    return OK


@command(
    "client|unpause",
    arity=2,
    flags=_CLIENT_ADMIN,
    group="connection",
    since="6.2.0",
    summary="Resume processing of clients that were paused",
    complexity="O(N) Where N is the number of paused clients",
)
def client_unpause(ctx: Client) -> SimpleString:
    """End a pause: the commands it held run now, in the order they came."""
    ctx.server.unpause()
    return OK


@command(
    "client|getname",
    arity=2,
    flags=_CLIENT,
    group="connection",
    since="2.6.9",
    summary="Get the current connection name",
)
def client_getname(ctx: Client) -> bytes | None:
    """This connection's name, or null."""
    return ctx.name or None


@command(
    "client|setinfo",
    "<LIB-NAME libname | LIB-VER libver>",
    arity=4,
    flags=_CLIENT,
    group="connection",
    since="7.2.0",
    summary="Sets information specific to the client or connection.",
)
def client_setinfo(ctx: Client, attribute: bytes, value: bytes) -> SimpleString:
    """Record the client library's name or version (Redis 7.2), shown by CLIENT LIST."""
    field = {b"lib-name": "lib_name", b"lib-ver": "lib_ver"}.get(attribute.lower())
    if field is None:
        raise unrecognized_option(_text(attribute))
    if not _printable(value):
        raise attribute_characters(_text(attribute))
    setattr(ctx, field, value)
    return OK


@command(
    "client|info",
    arity=2,
    flags=_CLIENT,
    group="connection",
    since="6.2.0",
    summary="Returns information about the current client connection.",
    tips="nondeterministic_output",
)
def client_info(ctx: Client) -> Verbatim:
    """This connection's CLIENT LIST line."""
    return Verbatim(ctx.describe("client|info") + b"\n")


@command(
    "client|list",
    "[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]",
    arity=-2,
    flags=_CLIENT_ADMIN,
    group="connection",
    since="2.4.0",
    summary="Get the list of client connections",
    complexity="O(N) where N is the number of client connections",
    tips="nondeterministic_output",
    history=(
        ("2.8.12", "Added unique client `id` field."),
        ("5.0.0", "Added optional `TYPE` filter."),
        ("6.0.0", "Added `user` field."),
        (
            "6.2.0",
            "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
        ),
        ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
        ("7.0.3", "Added `ssub` field."),
    ),
)
def client_list(ctx: Client, *args: bytes) -> Verbatim:
    """One line per connection, optionally only those of a TYPE or with the given IDs."""
    clients = ctx.server.clients
    if not args:
        chosen = list(clients.values())
    elif len(args) == 2 and args[0].lower() == b"type":
        kind = _client_type(args[1])
        chosen = [c for c in clients.values() if _type_of(c) == kind]
    elif len(args) > 1 and args[0].lower() == b"id":
        ids = [to_int(arg, INVALID_CLIENT_ID) for arg in args[1:]]
        chosen = [clients[i] for i in ids if i in clients]
    else:
        raise CommandError(SYNTAX)
    return Verbatim(b"".join(c.describe("client|list" if c is ctx else "") + b"\n" for c in chosen))


@command(
    "client|kill",
    "ip:port | <ID client-id | TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB> | "
    "USER username | ADDR ip:port | LADDR ip:port | SKIPME <YES | NO>> ...",
    arity=-3,
    flags=_CLIENT_ADMIN,
    group="connection",
    since="2.4.0",
    summary="Kill the connection of a client",
    complexity="O(N) where N is the number of client connections",
    history=(
        ("2.8.12", "Added new filter format."),
        ("2.8.12", "`ID` option."),
        ("3.2.0", "Added `master` type in for `TYPE` option."),
        (
            "5.0.0",
            "Replaced `slave` `TYPE` with `replica`. `slave` still supported for "
            "backward compatibility.",
        ),
        ("6.2.0", "`LADDR` option."),
    ),
)
def client_kill(ctx: Client, *args: bytes) -> object:
    """Close the connections matching every filter given (the old form: the one at ip:port)."""
    if len(args) == 1:
        # Old form: one address, and the caller may kill itself; +OK or an error.
        if not _kill(ctx, {"addr": args[0].decode("utf-8", "replace")}, skipme=False):
            raise CommandError(NO_SUCH_CLIENT)
        return OK
    filters, skipme = _kill_filters(ctx, args)
    return _kill(ctx, filters, skipme)


def _kill_filters(ctx: Client, args: tuple[bytes, ...]) -> tuple[dict[str, object], bool]:
    """Parse CLIENT KILL's option/value pairs, checking each as Redis does, in order."""
    filters: dict[str, object] = {}
    skipme = True
    for i in range(0, len(args), 2):
        option = args[i].lower()
        if i + 1 >= len(args):
            raise CommandError(SYNTAX)
        value = args[i + 1]
        if option == b"id":
            filters["id"] = to_int(value, BAD_CLIENT_ID)
            if filters["id"] < 1:
                raise CommandError(BAD_CLIENT_ID)
        elif option == b"type":
            filters["type"] = _client_type(value)
        elif option in (b"addr", b"laddr"):
            filters[option.decode()] = value.decode("utf-8", "replace")
        elif option == b"user":
            filters["user"] = ctx.server.users.get(value)
            if filters["user"] is None:
                raise no_such_user(_text(value))
        elif option == b"skipme" and value.lower() in (b"yes", b"no"):
            skipme = value.lower() == b"yes"
        else:
            raise CommandError(SYNTAX)
    return filters, skipme


def _kill(ctx: Client, filters: dict[str, object], skipme: bool) -> int:
    """End every client matching ``filters``; the caller itself only after its reply."""
    server = ctx.server
    killed = 0
    for client in list(server.clients.values()):
        if (
            ("addr" in filters and client.addr != filters["addr"])
            or ("laddr" in filters and client.laddr != filters["laddr"])
            or ("type" in filters and _type_of(client) != filters["type"])
            or ("id" in filters and client.id != filters["id"])
            or ("user" in filters and client.user is not filters["user"])
            or (client is ctx and skipme)
        ):
            continue
        server.disconnect(client, ctx)
        killed += 1
    return killed


@command(
    "client|unblock",
    "client-id [TIMEOUT | ERROR]",
    arity=-3,
    flags="admin noscript loading stale",
    group="connection",
    since="5.0.0",
    summary="Unblock a client blocked in a blocking command from a different connection",
    complexity="O(log N) where N is the number of client connections",
)
def client_unblock(ctx: Client, client_id: bytes, *reason: bytes) -> int:
    """End the wait of a client blocked in BLPOP and the like, as a timeout would, or with
    an UNBLOCKED error: 1, or 0 when that client does not wait."""
    if len(reason) > 1:
        raise SubcommandMisuse()
    error = False
    if reason:
        if reason[0].lower() not in (b"timeout", b"error"):
            raise CommandError(UNBLOCK_REASON)
        error = reason[0].lower() == b"error"
    target = ctx.server.clients.get(to_int(client_id))
    return int(target is not None and ctx.server.blocking.release(target, error))


@command(
    "client|help",
    arity=2,
    flags="loading stale",
    group="connection",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
)
def client_help(ctx: Client) -> list:
    """The CLIENT subcommands, as Redis 7.0 describes them."""
    return help_reply("CLIENT", _CLIENT_HELP)


_CLIENT_HELP = (
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
)


# --- helpers -------------------------------------------------------------------------------------


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _printable(value: bytes) -> bool:
    """Redis's rule for names: only the characters '!' to '~' (no spaces or newlines)."""
    return all(33 <= c <= 126 for c in value)


def _set_name(ctx: Client, name: bytes) -> None:
    if not _printable(name):
        raise CommandError(CLIENT_NAME_CHARACTERS)
    ctx.name = name


def _client_type(name: bytes) -> str:
    kind = name.lower().decode("utf-8", "replace")
    if kind not in CLIENT_TYPES:
        raise unknown_client_type(_text(name))
    return "slave" if kind == "replica" else kind


def _type_of(client: Client) -> str:
    # No replication and no pub/sub yet: every connection is a normal client.
    return "normal"
