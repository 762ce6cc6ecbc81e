"""Dispatch: how one command line runs for a client, in Redis's order of checks (lookup and
arity, NOAUTH, MULTI's refusals, ACL, OOM, MISCONF, LOADING, queueing inside MULTI), with its
statistics and its feed to the AOF; and ``run_batch``, which applies a batch of them and encodes
the replies. Synchronous and free of I/O: the runtime's owner task calls it.
"""

from __future__ import annotations

import logging
import time
from time import perf_counter_ns

from respserver.core import monitor
from respserver.core.blocking import Block, postpone
from respserver.core.state import Client, CommandStats, Server
from respserver.errors import (
    ACL_CHANGED_IN_MULTI,
    INTERNAL,
    LOADING,
    MONITOR_KEYSPACE,
    NO_LONGER_ALLOWED,
    NOAUTH,
    NOPERM_CHANNEL,
    NOPERM_COMMAND,
    NOPERM_KEY,
    NOT_IN_MULTI,
    OOM,
    CommandError,
    QuotesArgv,
    exec_aborted_because,
    subscriber_context,
    unknown_command,
    unknown_subcommand,
    wrong_arity,
)
from respserver.keyspace.events import KEY_MISS
from respserver.registry import COMMANDS, Command, keys_of
from respserver.resp.encoder import encode as encode_bytes
from respserver.resp.encoder import encode_into
from respserver.resp.types import QUEUED, Encoded, Replies
from respserver.security.acl import Denied

log = logging.getLogger("respserver")

# Commands that run at once inside MULTI instead of being queued.
_NOT_QUEUED = frozenset((b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"))

NOPERM = {"command": NOPERM_COMMAND, "key": NOPERM_KEY, "channel": NOPERM_CHANNEL}
# Commands MONITOR does not show (Redis: too dangerous to show).
_UNMONITORED = frozenset(("admin", "skip_monitor"))
_MAY_REPLICATE = frozenset(("write", "may_replicate"))
# What a RESP2 client with subscriptions may still send.
_SUBSCRIBER_COMMANDS = frozenset(
    ("subscribe", "ssubscribe", "psubscribe", "unsubscribe", "sunsubscribe", "punsubscribe")
    + ("ping", "quit", "reset")
)
# A batch whose replies pass this size in one round stops there; the rest of it runs after
# what other clients sent meanwhile. So a pipeline of big replies (GET of a large value,
# thousands of times) never holds the others for long, yet gets all its replies.
ROUND_OUTPUT = 256 * 1024
CHECK_EVERY = 8  # commands between two looks at the round's output (a look costs on the hot path)


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
    queued = client.queued_flags if client.multi is not None else None
    if (
        server.check_memory
        and not client.loader
        and server.memory.refuses(spec.name, spec.flags, queued)
    ):
        error = _reject(client, argv, CommandError(OOM))
        return _abort_exec(client, error) if spec.name == "exec" else error
    if server.disk_error is not None and _writes(client, spec):
        error = _reject(client, argv, CommandError(server.disk_error))
        return _abort_exec(client, error) if spec.name == "exec" else error
    if not client.plain:  # monitoring, or a RESP2 subscriber: a narrower set of commands
        refused = _refused_by_mode(client, spec)
        if refused is not None:
            return _reject(client, argv, refused)
    if server.loading and not client.loader and "loading" not in spec.flags:
        return CommandError(LOADING)
    if server.paused_until and _paused(client, spec):
        return postpone(server.paused_until, lambda: execute(client, argv))
    if client.multi is not None and argv[0].lower() not in _NOT_QUEUED:
        client.multi.append(argv)
        client.queued_flags.update(spec.flags)
        return QUEUED
    return call(client, spec, argv)


def _refused_by_mode(client: Client, spec: Command) -> CommandError | None:
    """A monitoring client may not touch the keyspace (to Redis it is a replica); a RESP2
    client with subscriptions may only (un)subscribe, PING, QUIT or RESET."""
    if client.monitor and (spec.write or "readonly" in spec.flags or "may_replicate" in spec.flags):
        return CommandError(MONITOR_KEYSPACE)
    if client.subscriptions and client.resp == 2 and spec.name not in _SUBSCRIBER_COMMANDS:
        return subscriber_context(spec.name)
    return None


def _paused(client: Client, spec: Command) -> bool:
    """Whether CLIENT PAUSE holds this command: every command under ALL; under WRITE, those
    that may change data (a write, a command flagged may_replicate, an EXEC with one queued)."""
    server = client.server
    if time.monotonic() >= server.paused_until:
        server.paused_until = 0.0  # its time is over (the held commands' waits end with it)
        return False
    if server.pause_writes_only and not (
        spec.write
        or "may_replicate" in spec.flags
        or (spec.name == "exec" and not client.queued_flags.isdisjoint(_MAY_REPLICATE))
    ):
        return False
    return not client.loader


def _writes(client: Client, spec: Command) -> bool:
    """What Redis refuses while the disk fails: a write, PING (so monitoring notices), and an
    EXEC whose queue holds a write."""
    if spec.write or spec.name == "ping":
        return True
    return spec.name == "exec" and client.multi is not None and "write" in client.queued_flags


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
    return exec_aborted_because(error)


def call(client: Client, spec: Command, argv: list[bytes]) -> object:
    """Invoke a resolved command's handler, counting it in INFO commandstats; a write (or a
    command flagged may_replicate) that changed something (the databases' write API counted
    it) is fed to the AOF, as its handler's ``propagate_as`` form if it set one."""
    server = client.server
    commandstats = server.commandstats
    stats = commandstats.get(spec.name)
    if stats is None:
        stats = commandstats[spec.name] = CommandStats()
    changes = server.changes
    dirty = changes.dirty
    misses = changes.events & KEY_MISS
    if misses:
        changes.misses = "readonly" in spec.flags  # a read's lookup of no key is an event
    tracking = server.tracking
    top = tracking.clients > 0 and tracking.begin(client)  # client-side caching (core/tracking)
    client.rewritten = None
    started = perf_counter_ns()
    try:
        reply = spec.invoke(client, argv)
    except CommandError as exc:
        reply = exc.about(argv) if isinstance(exc, QuotesArgv) else exc
        stats.failed_calls += 1
    except Exception:
        log.exception("internal error running %r", argv[:3])
        reply = CommandError(INTERNAL)
        stats.failed_calls += 1
    stats.nsec += perf_counter_ns() - started
    stats.calls += 1
    if misses:
        changes.misses = False
    if server.live.touched and not client.deny_blocking:  # (deny_blocking: inside EXEC)
        server.live.flush()  # live queries hear of the command's writes, before its reply
    client.last_command = spec.name
    if client.pushes and type(reply) is not Block:
        reply = _after_pushes(client, reply)
    if top or tracking.clients:
        _tracked(client, spec, argv, top)
    if changes.dirty != dirty and (spec.write or "may_replicate" in spec.flags):
        # A read flagged may_replicate logs what it changed too (PFCOUNT's cached count).
        # propagate_as() with nothing logs nothing (XREADGROUP reading its history).
        logged = [argv] if client.rewritten is None else client.rewritten
        if logged:
            server.persistence.feed(client.db.index, logged)
    if server.monitors and not server.loading and _UNMONITORED.isdisjoint(spec.flags):
        line = monitor.line(client.db.index, client.addr, monitor.shown(spec.name, argv))
        shown = encode_bytes(line)  # a status line: the same bytes in RESP2 and RESP3
        for watcher in server.monitors:
            watcher.push_encoded(shown, shown)
    return reply


def _tracked(client: Client, spec: Command, argv: list[bytes], top: bool) -> None:
    """Client-side caching after a command: a tracking client may cache the keys it read;
    after a top-level command (not one inside EXEC), its own invalidations follow its reply."""
    tracking = client.server.tracking
    if client.tracking is not None and "readonly" in spec.flags and "pubsub" not in spec.flags:
        tracking.remember(client, [argv[at] for at, _ in keys_of(spec, argv)])
    if top:
        tracking.end(client, client.multi is not None or spec.name.startswith("client"))


def _after_pushes(client: Client, reply: object) -> Replies:
    """A reply preceded by the messages the command published to its own client (PUBLISH to a
    channel it listens to, a keyspace event of its write), as Redis writes those into its
    output as they happen."""
    pushes = Encoded(client.take_pushes())
    return Replies([pushes, *reply]) if type(reply) is Replies else Replies([pushes, reply])


def _stats(server: Server, argv: list[bytes]) -> CommandStats:
    spec = COMMANDS.get(argv[0].lower())
    if spec is not None and spec.subcommands and len(argv) > 1:
        spec = spec.subcommands.get(argv[1].lower())  # as Redis: 'config|get', or none if unknown
    name = spec.name if spec is not None else "unknown"
    return server.commandstats.setdefault(name, CommandStats())


def run_batch(client: Client, commands: list[list[bytes]]) -> tuple[bytearray, int]:
    """Apply a batch until its replies pass ROUND_OUTPUT (looked at every CHECK_EVERY
    commands) or a command blocks the client; return the replies, encoded for the client's
    protocol version, and how many commands ran (all of them when the client is closing:
    nothing of the rest will run). After each command that made a key ready, the clients
    blocked on it are served, as Redis does after each command it processes."""
    out = bytearray()
    encode = encode_into  # a local: looked up once per batch
    server = client.server
    spellings = {} if server.loading else _SPELLINGS  # loading: every command checked
    limited = server.output_limited
    ready = server.changes.ready  # changed in place, never replaced
    client.last_interaction = time.time()
    for start in range(0, len(commands), CHECK_EVERY):
        if len(out) > ROUND_OUTPUT:
            return out, start
        for ran, argv in enumerate(commands[start : start + CHECK_EVERY], start + 1):
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
                and client.plain
                and not server.check_memory
                and server.disk_error is None
                and not server.paused_until
                and (len(argv) == spec.arity if spec.arity >= 0 else len(argv) >= -spec.arity)
            ):
                reply = call(client, spec, argv)
            else:
                reply = execute(client, argv)
            if type(reply) is Block:
                server.blocking.block(client, reply, argv)
                return out, ran  # what follows waits until the client is served
            if client.plain:
                encode(out, reply, client.resp == 3)
            else:  # subscribed, monitoring or under CLIENT REPLY
                client.reply_unplainly(out, reply)
            if ready:
                server.blocking.serve_ready()
            if limited and client.over_output_limit(client.pending_output + len(out)):
                return bytearray(), len(commands)  # the client is closed: its replies go nowhere
    return out, len(commands)


def run_transaction(ctx: Client, queued: list[list[bytes]]) -> list[Encoded]:
    """EXEC's body: run the queued commands as one block, each reply encoded as its command
    runs (Redis writes each reply then: a reply may share a value, a hash, that a later
    command of the transaction changes)."""
    replies = []
    persistence = ctx.server.persistence
    persistence.begin_exec()  # the block's writes reach the AOF as one MULTI ... EXEC
    ctx.deny_blocking = True  # a blocking command answers as if it timed out
    try:
        for argv in queued:
            spec = resolve(argv)
            reply = _run_queued(ctx, spec, argv) if type(spec) is Command else spec
            # Encoded now, as Redis writes each reply as its command runs: a reply may share a
            # value (a hash) that a later command of the transaction changes.
            replies.append(Encoded(encode_bytes(reply, ctx.resp == 3)))
    finally:
        ctx.deny_blocking = False
        persistence.end_exec()
    return replies


def _run_queued(ctx: Client, spec: Command, argv: list[bytes]) -> object:
    """Run one queued command, checking again that its user may: ACL rules can change between
    MULTI and EXEC."""
    if not ctx.user.unrestricted:
        denied = permission_denied(ctx, spec, argv, "multi")
        if denied is not None:
            reason = NO_LONGER_ALLOWED[denied.reason]
            return CommandError(ACL_CHANGED_IN_MULTI.format(reason))
    return call(ctx, spec, argv)
