"""Server commands. https://redis.io/docs/latest/commands/?group=server

The COMMAND family renders the command table (registry.py) in Redis 7.0's shapes, so clients
that read COMMAND INFO/DOCS (redis-cli's hints, redis-py's parse_command) see this server as
it is. INFO's text comes from respserver/info.py and CONFIG's rules from respserver/config.py.
"""

from __future__ import annotations

import time

from respserver import config
from respserver.core import info
from respserver.core.state import Client
from respserver.errors import (
    DB_INDEX_OUT_OF_RANGE,
    INVALID_ARGUMENT_COUNT,
    INVALID_ARGUMENTS,
    INVALID_COMMAND,
    MONITOR_DENIED,
    NO_CONFIG_FILE,
    NO_KEY_ARGUMENTS,
    SYNTAX,
    CommandError,
    invalid_db_index,
)
from respserver.keyspace.glob import stringmatch
from respserver.numbers import to_int
from respserver.registry import (
    COMMANDS,
    HIDDEN_FLAGS,
    Arg,
    Command,
    KeySpec,
    command,
    container,
    keys_of,
)
from respserver.resp.types import OK, Replies, RespSet, SimpleString, Verbatim

# --- COMMAND: the command table, as Redis renders it ---------------------------------------------


def help_reply(name: str, lines: tuple[str, ...]) -> list[SimpleString]:
    """A ``<NAME> HELP`` reply framed as Redis's ``addReplyHelp`` frames it."""
    head = f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return [SimpleString(line.encode()) for line in (head, *lines, "HELP", "    Prints this help.")]


def _symbols(names: tuple[str, ...] | list[str], prefix: str = "") -> RespSet:
    return RespSet(SimpleString(f"{prefix}{n}".encode()) for n in names)


def command_info(spec: Command) -> list:
    """COMMAND INFO's 10 elements: name, arity, flags, first/last/step, ACL categories, tips,
    key specs, subcommands."""
    return [
        spec.name.encode(),
        spec.arity,
        _symbols([f for f in spec.flags if f not in HIDDEN_FLAGS]),
        spec.first_key,
        spec.last_key,
        spec.key_step,
        _symbols(spec.categories, "@"),
        RespSet(tip.encode() for tip in spec.tips),
        RespSet(_key_spec_info(ks) for ks in spec.key_specs),
        [command_info(sub) for sub in spec.subcommands.values()] if spec.subcommands else RespSet(),
    ]


def _key_spec_info(ks: KeySpec) -> dict:
    info: dict = {b"notes": ks.notes.encode()} if ks.notes else {}
    info[b"flags"] = _symbols(ks.flags)
    if ks.unknown:
        info[b"begin_search"] = {b"type": b"unknown", b"spec": {}}
        info[b"find_keys"] = {b"type": b"unknown", b"spec": {}}
        return info
    if ks.keyword is not None:
        keyword, startfrom = ks.keyword
        search = {b"keyword": keyword.encode(), b"startfrom": startfrom}
        info[b"begin_search"] = {b"type": b"keyword", b"spec": search}
    else:
        info[b"begin_search"] = {b"type": b"index", b"spec": {b"index": ks.index}}
    if ks.keynum is not None:
        keynumidx, firstkey = ks.keynum
        spec = {b"keynumidx": keynumidx, b"firstkey": firstkey, b"keystep": ks.keystep}
        info[b"find_keys"] = {b"type": b"keynum", b"spec": spec}
    else:
        spec = {b"lastkey": ks.lastkey, b"keystep": ks.keystep, b"limit": ks.limit}
        info[b"find_keys"] = {b"type": b"range", b"spec": spec}
    return info


def command_docs(spec: Command) -> dict:
    """COMMAND DOCS' map for one command, in Redis 7.0.15's field order."""
    docs: dict = {
        b"summary": spec.summary.encode(),
        b"since": spec.since.encode(),
        b"group": spec.group.encode(),
    }
    if spec.complexity:  # MONITOR's docs name none
        docs[b"complexity"] = spec.complexity.encode()
    if spec.doc_flags:
        docs[b"doc_flags"] = _symbols(spec.doc_flags)
    if spec.deprecated:
        docs[b"deprecated_since"], docs[b"replaced_by"] = (x.encode() for x in spec.deprecated)
    if spec.history:
        docs[b"history"] = RespSet([v.encode(), text.encode()] for v, text in spec.history)
    if spec.arguments:
        docs[b"arguments"] = [_arg_docs(arg) for arg in spec.arguments]
    if spec.subcommands:
        docs[b"subcommands"] = {s.name.encode(): command_docs(s) for s in spec.subcommands.values()}
    return docs


def _arg_docs(arg: Arg) -> dict:
    docs: dict = {b"name": arg.name.encode(), b"type": arg.type.encode()}
    if arg.key_spec_index is not None:
        docs[b"key_spec_index"] = arg.key_spec_index
    if arg.token is not None:
        docs[b"token"] = arg.token.encode()
    flags = [f for f in ("optional", "multiple", "multiple_token") if getattr(arg, f)]
    if flags:
        docs[b"flags"] = _symbols(flags)
    if arg.type in ("oneof", "block"):
        docs[b"arguments"] = [_arg_docs(a) for a in arg.arguments]
    return docs


def find_command(name: bytes) -> Command | None:
    """A command or ``parent|sub`` subcommand by name, case-insensitively."""
    parent, bar, sub = name.lower().partition(b"|")
    spec = COMMANDS.get(parent)
    if bar and spec is not None:
        return spec.subcommands.get(sub)
    return spec


def _all_commands() -> list[Command]:
    """Every command and subcommand, each container followed by its subcommands."""
    return [s for spec in COMMANDS.values() for s in (spec, *spec.subcommands.values())]


def _all_info(ctx: Client) -> list:
    """Plain COMMAND: every command's COMMAND INFO."""
    return [command_info(spec) for spec in COMMANDS.values()]


container(
    "command",
    arity=-1,
    flags="loading stale",
    categories="connection",
    group="server",
    since="2.8.13",
    summary="Get array of Redis command details",
    complexity="O(N) where N is the total number of Redis commands",
    tips="nondeterministic_output_order",
    handler=_all_info,
)
_COMMAND = {"flags": "loading stale", "categories": "connection", "group": "server"}


@command(
    "command|count",
    arity=2,
    since="2.8.13",
    summary="Get total number of Redis commands",
    **_COMMAND,
)
def command_count(ctx: Client) -> int:
    """How many commands there are (subcommands not counted)."""
    return len(COMMANDS)


@command(
    "command|info",
    "[command-name [command-name ...]]",
    arity=-2,
    since="2.8.13",
    summary="Get array of specific Redis command details, or all when no argument is given.",
    complexity="O(N) where N is the number of commands to look up",
    tips="nondeterministic_output_order",
    history=(("7.0.0", "Allowed to be called with no argument to get info on all commands."),),
    **_COMMAND,
)
def command_info_(ctx: Client, *names: bytes) -> list:
    """COMMAND INFO for each name (null for an unknown one), or for every command."""
    if not names:
        return _all_info(ctx)
    specs = (find_command(name) for name in names)
    return [None if spec is None else command_info(spec) for spec in specs]


@command(
    "command|docs",
    "[command-name [command-name ...]]",
    arity=-2,
    since="7.0.0",
    summary="Get array of specific Redis command documentation",
    complexity="O(N) where N is the number of commands to look up",
    tips="nondeterministic_output_order",
    **_COMMAND,
)
def command_docs_(ctx: Client, *names: bytes) -> dict:
    """Documentation for each known name, or for every command."""
    specs = [find_command(n) for n in names] if names else list(COMMANDS.values())
    return {spec.name.encode(): command_docs(spec) for spec in specs if spec is not None}


@command(
    "command|list",
    "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
    arity=-2,
    since="7.0.0",
    summary="Get an array of Redis command names",
    complexity="O(N) where N is the total number of Redis commands",
    tips="nondeterministic_output_order",
    **_COMMAND,
)
def command_list(ctx: Client, *args: bytes) -> list[bytes]:
    """Every command and subcommand name, or those a FILTERBY selects."""
    specs = _all_commands()
    if args:
        kind = args[1].lower() if len(args) == 3 and args[0].lower() == b"filterby" else None
        value = args[-1]
        if kind == b"module":
            specs = []  # no modules
        elif kind == b"aclcat":
            specs = [s for s in specs if value.lower().decode("utf-8", "replace") in s.categories]
        elif kind == b"pattern":
            specs = [s for s in specs if stringmatch(value, s.name.encode(), nocase=True)]
        else:
            raise CommandError(SYNTAX)
    return [spec.name.encode() for spec in specs]


def _keys(argv: tuple[bytes, ...]) -> list[tuple[int, tuple[str, ...]]]:
    """Where the keys of the command line ``argv`` are, with COMMAND GETKEYS' errors."""
    spec = COMMANDS.get(argv[0].lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        spec = spec.subcommands.get(argv[1].lower())
    if spec is None:
        raise CommandError(INVALID_COMMAND)
    if all("not_key" in ks.flags for ks in spec.key_specs):  # none, or shard channels only
        raise CommandError(NO_KEY_ARGUMENTS)
    if not spec.arity_ok(len(argv)):
        raise CommandError(INVALID_ARGUMENT_COUNT)
    try:
        return keys_of(spec, list(argv), strict=True)
    except ValueError:
        raise CommandError(INVALID_ARGUMENTS) from None


@command(
    "command|getkeys",
    "command arg [arg ...]",
    arity=-4,
    since="2.8.13",
    summary="Extract keys given a full Redis command",
    complexity="O(N) where N is the number of arguments to the command",
    **_COMMAND,
)
def command_getkeys(ctx: Client, *argv: bytes) -> list[bytes]:
    """The keys a full command line would touch."""
    return [argv[position] for position, _ in _keys(argv)]


@command(
    "command|getkeysandflags",
    "command arg [arg ...]",
    arity=-4,
    since="7.0.0",
    summary="Extract keys and access flags given a full Redis command",
    complexity="O(N) where N is the number of arguments to the command",
    **_COMMAND,
)
def command_getkeysandflags(ctx: Client, *argv: bytes) -> list:
    """The keys a full command line would touch, each with its key-spec flags."""
    return [[argv[position], _symbols(flags)] for position, flags in _keys(argv)]


@command(
    "command|help",
    arity=2,
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    **_COMMAND,
)
def command_help(ctx: Client) -> list:
    """The COMMAND subcommands."""
    return help_reply(
        "COMMAND",
        (
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ),
    )


# --- keyspace-wide commands ----------------------------------------------------------------------

_FLUSH_HISTORY = (
    ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
    ("6.2.0", "Added the `SYNC` flushing mode modifier."),
)
_ALL_SHARDS = "request_policy:all_shards response_policy:all_succeeded"


@command(
    "dbsize",
    arity=1,
    flags="readonly fast",
    categories="keyspace",
    group="server",
    since="1.0.0",
    summary="Return the number of keys in the selected database",
    tips="request_policy:all_shards response_policy:agg_sum",
)
def dbsize(ctx: Client) -> int:
    """The number of keys in the selected database (not yet reaped expired ones included)."""
    return len(ctx.db)


def _flush_mode(args: tuple[bytes, ...]) -> None:
    # ASYNC and SYNC are accepted; freeing is immediate either way.
    if len(args) > 1 or (args and args[0].lower() not in (b"async", b"sync")):
        raise CommandError(SYNTAX)


@command(
    "flushdb",
    "[ASYNC | SYNC]",
    arity=-1,
    flags="write",
    categories="keyspace dangerous",
    group="server",
    since="1.0.0",
    summary="Remove all keys from the current database",
    complexity="O(N) where N is the number of keys in the selected database",
    tips=_ALL_SHARDS,
    history=_FLUSH_HISTORY,
)
def flushdb(ctx: Client, *mode: bytes) -> SimpleString:
    """Delete every key of the selected database."""
    _flush_mode(mode)
    ctx.db.reset()
    return OK


@command(
    "flushall",
    "[ASYNC | SYNC]",
    arity=-1,
    flags="write",
    categories="keyspace dangerous",
    group="server",
    since="1.0.0",
    summary="Remove all keys from all databases",
    complexity="O(N) where N is the total number of keys in all databases",
    tips=_ALL_SHARDS,
    history=_FLUSH_HISTORY,
)
def flushall(ctx: Client, *mode: bytes) -> SimpleString:
    """Delete every key of every database."""
    _flush_mode(mode)
    for db in ctx.server.databases:
        db.reset()
    return OK


def _db_index(value: bytes, which: str) -> int:
    index = to_int(value, invalid_db_index(which))
    if not -(2**31) <= index < 2**31:  # Redis reads it as a C int
        raise CommandError(invalid_db_index(which))
    return index


@command(
    "swapdb",
    "index1 index2",
    arity=3,
    flags="write fast",
    categories="keyspace dangerous",
    group="server",
    since="4.0.0",
    summary="Swaps two Redis databases",
    complexity="O(N) where N is the count of clients watching or blocking on keys from both "
    "databases.",
)
def swapdb(ctx: Client, first: bytes, second: bytes) -> SimpleString:
    """Exchange the contents of two databases; connections stay on their database number."""
    a, b = _db_index(first, "first"), _db_index(second, "second")
    databases = ctx.server.databases
    if not (0 <= a < len(databases) and 0 <= b < len(databases)):
        raise CommandError(DB_INDEX_OUT_OF_RANGE)
    databases[a].swap_with(databases[b])
    return OK


@command(
    "time",
    arity=1,
    flags="loading stale fast",
    categories="",
    group="server",
    since="2.6.0",
    summary="Return the current server time",
    tips="nondeterministic_output",
)
def time_(ctx: Client) -> list[bytes]:
    """Unix time in seconds and the microseconds within that second."""
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    return [str(seconds).encode(), str(micros).encode()]


@command(
    "lastsave",
    arity=1,
    flags="loading stale fast",
    categories="admin dangerous",
    group="server",
    since="1.0.0",
    summary="Get the UNIX time stamp of the last successful save to disk",
    tips="nondeterministic_output",
)
def lastsave(ctx: Client) -> int:
    """When the data was last saved (never: the server's start)."""
    return ctx.server.last_save


@command(
    "info",
    "[section [section ...]]",
    arity=-1,
    flags="loading stale",
    categories="dangerous",
    group="server",
    since="1.0.0",
    summary="Get information and statistics about the server",
    tips="nondeterministic_output request_policy:all_shards response_policy:special",
    history=(("7.0.0", "Added support for taking multiple section arguments."),),
)
def info_(ctx: Client, *sections: bytes) -> Verbatim:
    """Redis's INFO text for the sections asked (default: the default sections)."""
    return Verbatim(info.render(ctx.server, sections))


# --- CONFIG --------------------------------------------------------------------------------------

container(
    "config",
    arity=-2,
    group="server",
    since="2.0.0",
    summary="A container for server configuration commands",
)
_CONFIG = {"flags": "admin noscript loading stale", "group": "server"}


@command(
    "config|get",
    "parameter [parameter ...]",
    arity=-3,
    since="2.0.0",
    summary="Get the values of configuration parameters",
    complexity="O(N) when N is the number of configuration parameters provided",
    history=(("7.0.0", "Added the ability to pass multiple pattern parameters in one call"),),
    **_CONFIG,
)
def config_get(ctx: Client, *patterns: bytes) -> dict[bytes, bytes]:
    """Each parameter a name or glob pattern matches, with its value."""
    values = ctx.server.config
    found: dict[bytes, bytes] = {}
    seen: set[bytes] = set()

    def add(name: bytes, param: str) -> None:
        if name.lower() not in seen:
            seen.add(name.lower())
            found[name] = config.shown(values, param).encode()

    for pattern in patterns:
        if not any(c in pattern for c in b"[*?"):
            param = config.canonical(pattern)
            if param is not None:
                add(pattern, param)  # an exact name is echoed as the client spelled it
            continue
        for name in config.names():
            if stringmatch(pattern, name.encode(), nocase=True):
                add(name.encode(), config.canonical(name.encode()))
    return found


@command(
    "config|set",
    "parameter value [parameter value ...]",
    arity=-4,
    since="2.0.0",
    summary="Set configuration parameters to the given values",
    complexity="O(N) when N is the number of configuration parameters provided",
    tips="request_policy:all_nodes response_policy:all_succeeded",
    history=(("7.0.0", "Added the ability to set multiple parameters in one call."),),
    **_CONFIG,
)
def config_set(ctx: Client, *args: bytes) -> SimpleString:
    """Set parameters, all or none."""
    config.set_many(ctx.server.config, args, ctx.server.config_appliers)
    ctx.server.config_changed()
    return OK


@command(
    "config|resetstat",
    arity=2,
    since="2.0.0",
    summary="Reset the stats returned by INFO",
    **_CONFIG,
)
def config_resetstat(ctx: Client) -> SimpleString:
    """Zero INFO's counters and commandstats."""
    server = ctx.server
    for stats in server.commandstats.values():  # zeroed in place: this call is counted after
        stats.calls = stats.nsec = stats.rejected_calls = stats.failed_calls = 0
    server.total_connections = server.rejected_connections = 0
    server.keyspace_hits = server.keyspace_misses = 0
    server.net_input_bytes = server.net_output_bytes = 0
    for db in server.databases:
        db.expired_count = 0
    server.memory.reset_stats()
    return OK


@command(
    "config|rewrite",
    arity=2,
    since="2.8.0",
    summary="Rewrite the configuration file with the in memory configuration",
    **_CONFIG,
)
def config_rewrite(ctx: Client) -> SimpleString:
    """Refused: there is no configuration file to rewrite."""
    raise CommandError(NO_CONFIG_FILE)


@command(
    "config|help",
    arity=2,
    flags="loading stale",
    group="server",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
)
def config_help(ctx: Client) -> list:
    """The CONFIG subcommands."""
    return help_reply(
        "CONFIG",
        (
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ),
    )


# --- MONITOR -------------------------------------------------------------------------------------


@command(
    "monitor",
    arity=1,
    flags="admin noscript loading stale",
    group="server",
    since="1.0.0",
    summary="Listen for all requests received by the server in real time",
    complexity="",
)
def monitor(ctx: Client) -> object:
    """From now on, receive a line for each command the server runs (core/monitor.py); OK,
    or nothing at all for a client already monitoring, as Redis answers."""
    if ctx.deny_blocking:
        raise CommandError(MONITOR_DENIED)
    if ctx.monitor:
        return Replies()
    ctx.monitor = True
    ctx.server.monitors[ctx] = None
    return OK
