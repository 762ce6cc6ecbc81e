"""Stream consumer group commands: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
and XINFO. https://redis.io/docs/latest/commands/?group=stream

What a group does to its pending entries lists lives in keyspace/stream_groups.py; here are
the arguments, the replies and what the AOF gets. Redis propagates a group read not as the
command but as what it did: an XCLAIM ... FORCE JUSTID LASTID per entry made pending, an
XGROUP SETID where NOACK moved the group on, an XGROUP CREATECONSUMER for a consumer NOACK
created, and nothing for a read of the consumer's history (``propagate_as()`` with nothing).
Delivery and idle times are the server's clock, so replies showing them differ from run to
run (XPENDING's idle, XINFO's seen-time), as they do in Redis.
"""

from __future__ import annotations

import struct
import time
from itertools import islice

from respserver.commands.server import help_reply
from respserver.commands.streams import (
    BLOCKED_DEFAULT_COUNT,
    ReadOptions,
    entries_reply,
    read_options,
    read_reply,
)
from respserver.core.blocking import wait_for
from respserver.core.state import Client
from respserver.errors import (
    AUTOCLAIM_COUNT,
    BUSYGROUP,
    ENTRIES_READ_NEGATIVE,
    NO_SUCH_KEY,
    NOGROUP_BLOCKED,
    STREAM_KEY_DELETED,
    SYNTAX,
    XGROUP_NEEDS_KEY,
    XREADGROUP_DOLLAR,
    XREADGROUP_NEEDS_GROUP,
    CommandError,
    SubcommandMisuse,
    invalid_claim_argument,
    no_group,
    no_such_group,
    unrecognized_claim_option,
)
from respserver.keyspace import stream_groups as groups
from respserver.keyspace.database import now_ms
from respserver.keyspace.events import STREAM
from respserver.keyspace.streams import (
    MAX_ID,
    MIN_ID,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    StreamID,
    StreamValue,
    format_id,
    parse_id,
    parse_range_end,
    parse_range_start,
    parse_strict_id,
)
from respserver.numbers import to_int, to_int_at_least
from respserver.registry import command, container
from respserver.resp.types import NULL_ARRAY, OK

# XREADGROUP's ID for "entries no consumer of the group got yet".
NEW_ENTRIES = b">"
# A node's key in Redis's radix tree: its master ID, milliseconds then sequence, big-endian.
_NODE_KEY = struct.Struct(">QQ")
# XAUTOCLAIM's greatest COUNT: LONG_MAX over the bytes of an ID, what it allocates per entry.
_AUTOCLAIM_MAX_COUNT = (2**63 - 1) // 16


# --- shared pieces --------------------------------------------------------------------------------


def _group_or_fail(ctx: Client, key: bytes, name: bytes) -> tuple[StreamValue, ConsumerGroup]:
    """The stream at ``key`` and its group ``name``: WRONGTYPE, or NOGROUP if either is
    missing (XPENDING, XCLAIM, XAUTOCLAIM)."""
    stream = ctx.db.get_stream(key)
    group = None if stream is None else stream.groups.get(name)
    if group is None:
        raise no_group(key, name)
    return stream, group


def _consumer(
    ctx: Client, key: bytes, group: ConsumerGroup, name: bytes, now: int
) -> tuple[Consumer, bool]:
    """The named consumer, seen now; created (an "xgroup-createconsumer", one change) if new,
    as XREADGROUP, XCLAIM and XAUTOCLAIM create them. Returns it and whether it is new."""
    consumer = groups.consumer_of(group, name, now)
    if consumer is not None:
        return consumer, False
    consumer = groups.create_consumer(group, name, now)
    ctx.db.modified(key)
    ctx.db.notify(STREAM, b"xgroup-createconsumer", key)
    return consumer, True


def _entry(stream_id: StreamID, fields: list[bytes] | None) -> list[object]:
    """An entry as Redis replies with it: [id, [field, value, ...]], or [id, null] for an
    entry deleted since it was delivered."""
    return [format_id(stream_id), NULL_ARRAY if fields is None else fields]


def _claimed_as(
    key: bytes,
    group: ConsumerGroup,
    id_arg: bytes,
    pending: PendingEntry,
    last_id: StreamID | None = None,
) -> list[bytes]:
    """The XCLAIM that recreates a pending entry as it now is, and the group's last delivered
    ID as it was then (``last_id``; the group's now unless given), as streamPropagateXCLAIM."""
    last_id = group.last_id if last_id is None else last_id
    return [
        b"XCLAIM", key, group.name, pending.consumer.name, b"0", id_arg,
        b"TIME", b"%d" % pending.delivery_time,
        b"RETRYCOUNT", b"%d" % pending.delivery_count,
        b"FORCE", b"JUSTID", b"LASTID", format_id(last_id),
    ]  # fmt: skip


def _group_moved_as(key: bytes, group: ConsumerGroup) -> list[bytes]:
    """The XGROUP SETID that moves a group on as NOACK reads did (streamPropagateGroupID)."""
    read = -1 if group.entries_read is None else group.entries_read
    last_id = format_id(group.last_id)
    return [b"XGROUP", b"SETID", key, group.name, last_id, b"ENTRIESREAD", b"%d" % read]


# --- XGROUP ---------------------------------------------------------------------------------------

container(
    "xgroup",
    arity=-2,
    group="stream",
    since="5.0.0",
    summary="A container for consumer groups commands",
)

_XGROUP_HELP = (
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
)


def _xgroup_options(options: tuple[bytes, ...], create: bool) -> tuple[bool, int | None]:
    """CREATE's MKSTREAM and ENTRIESREAD, SETID's ENTRIESREAD: (mkstream, entries_read),
    None meaning unknown (-1); anything else is a subcommand syntax error."""
    mkstream, entries_read = False, None
    i = 0
    while i < len(options):
        option = options[i].lower()
        if create and option == b"mkstream":
            mkstream = True
            i += 1
        elif option == b"entriesread" and i + 1 < len(options):
            read = to_int(options[i + 1])
            if read < -1:
                raise CommandError(ENTRIES_READ_NEGATIVE)
            entries_read = None if read == -1 else read
            i += 2
        else:
            raise SubcommandMisuse()
    return mkstream, entries_read


def _xgroup_stream(ctx: Client, key: bytes, mkstream: bool = False) -> StreamValue | None:
    """The stream an XGROUP subcommand works on: it must exist, unless CREATE MKSTREAM."""
    stream = ctx.db.get_stream(key)
    if stream is None and not mkstream:
        raise CommandError(XGROUP_NEEDS_KEY)
    return stream


def _xgroup_group(ctx: Client, key: bytes, name: bytes) -> ConsumerGroup:
    """The group an XGROUP subcommand works on (SETID, CREATECONSUMER, DELCONSUMER)."""
    group = _xgroup_stream(ctx, key).groups.get(name)
    if group is None:
        raise no_such_group(name, key)
    return group


def _group_start(stream: StreamValue | None, id_arg: bytes, strict: bool) -> StreamID:
    """A group's last delivered ID as XGROUP CREATE/SETID take it: ``$`` for the stream's
    last ID, else an ID (``-`` and ``+`` too, unless ``strict``)."""
    if id_arg == b"$":
        return MIN_ID if stream is None else stream.last_id
    return parse_strict_id(id_arg) if strict else parse_id(id_arg)[0]


@command(
    "xgroup|create",
    "key groupname <id | $> [MKSTREAM] [ENTRIESREAD entries_read]",
    arity=-5,
    flags="write denyoom",
    keys=(2, 2, 1),
    key_flags="RW insert",
    group="stream",
    since="5.0.0",
    summary="Create a consumer group.",
    complexity="O(1)",
    history=(("7.0.0", "Added the `entries_read` named argument."),),
)
def xgroup_create(ctx: Client, key: bytes, name: bytes, id_arg: bytes, *options: bytes) -> object:
    """Create a group whose last delivered ID is ``id`` (``$``: the stream's last), the
    stream too with MKSTREAM."""
    mkstream, entries_read = _xgroup_options(options, create=True)
    stream = _xgroup_stream(ctx, key, mkstream)
    if len(options) > 3:
        raise SubcommandMisuse()
    last_id = _group_start(stream, id_arg, strict=True)
    if stream is None:
        stream = StreamValue()
        ctx.db.store(key, stream, dirty=0)
    if name in stream.groups:
        raise CommandError(BUSYGROUP)
    stream.groups[name] = ConsumerGroup(name, last_id, entries_read)
    ctx.db.modified(key)
    ctx.db.notify(STREAM, b"xgroup-create", key)
    return OK


@command(
    "xgroup|setid",
    "key groupname <id | $> [ENTRIESREAD entries_read]",
    arity=-5,
    flags="write",
    keys=(2, 2, 1),
    key_flags="RW update",
    group="stream",
    since="5.0.0",
    summary="Set a consumer group to an arbitrary last delivered ID value.",
    complexity="O(1)",
    history=(("7.0.0", "Added the optional `entries_read` argument."),),
)
def xgroup_setid(ctx: Client, key: bytes, name: bytes, id_arg: bytes, *options: bytes) -> object:
    """Move a group's last delivered ID (and set its read counter, unknown if not given)."""
    _, entries_read = _xgroup_options(options, create=False)
    group = _xgroup_group(ctx, key, name)
    if len(options) not in (0, 2):
        raise SubcommandMisuse()
    group.last_id = _group_start(ctx.db.get_stream(key), id_arg, strict=False)
    group.entries_read = entries_read
    ctx.db.modified(key)
    ctx.db.notify(STREAM, b"xgroup-setid", key)
    return OK


@command(
    "xgroup|destroy",
    "key groupname",
    arity=4,
    flags="write",
    keys=(2, 2, 1),
    key_flags="RW delete",
    group="stream",
    since="5.0.0",
    summary="Destroy a consumer group.",
    complexity="O(N) where N is the number of entries in the group's pending entries list (PEL).",
)
def xgroup_destroy(ctx: Client, key: bytes, name: bytes) -> int:
    """Remove a group; 1 if there was one. Its blocked readers get NOGROUP."""
    stream = _xgroup_stream(ctx, key)
    if stream.groups.pop(name, None) is None:
        return 0
    ctx.db.modified(key)
    ctx.db.notify(STREAM, b"xgroup-destroy", key)
    ctx.db.signal_ready(key)  # its readers blocked get NOGROUP
    return 1


@command(
    "xgroup|createconsumer",
    "key groupname consumername",
    arity=5,
    flags="write denyoom",
    keys=(2, 2, 1),
    key_flags="RW insert",
    group="stream",
    since="6.2.0",
    summary="Create a consumer in a consumer group.",
    complexity="O(1)",
)
def xgroup_createconsumer(ctx: Client, key: bytes, name: bytes, consumer: bytes) -> int:
    """Add a consumer to a group; 1 if it is new."""
    group = _xgroup_group(ctx, key, name)
    if groups.create_consumer(group, consumer, now_ms()) is None:
        return 0
    ctx.db.modified(key)
    ctx.db.notify(STREAM, b"xgroup-createconsumer", key)
    return 1


@command(
    "xgroup|delconsumer",
    "key groupname consumername",
    arity=5,
    flags="write",
    keys=(2, 2, 1),
    key_flags="RW delete",
    group="stream",
    since="5.0.0",
    summary="Delete a consumer from a consumer group.",
    complexity="O(1)",
)
def xgroup_delconsumer(ctx: Client, key: bytes, name: bytes, consumer: bytes) -> int:
    """Remove a consumer and its pending entries; how many it had pending."""
    group = _xgroup_group(ctx, key, name)
    found = group.consumers.get(consumer)
    if found is None:
        return 0
    pending = groups.delete_consumer(group, found)
    ctx.db.modified(key)
    ctx.db.notify(STREAM, b"xgroup-delconsumer", key)
    return pending


@command(
    "xgroup|help",
    arity=2,
    flags="loading stale",
    group="stream",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
)
def xgroup_help(ctx: Client) -> list:
    """XGROUP's subcommands."""
    return help_reply("XGROUP", _XGROUP_HELP)


# --- XREADGROUP -----------------------------------------------------------------------------------


def _new_entries(
    ctx: Client,
    key: bytes,
    stream: StreamValue,
    group: ConsumerGroup,
    options: ReadOptions,
    count: int,
    logged: list[list[bytes]],
) -> list[list[object]]:
    """Deliver the entries after the group's last one to the consumer (created if new), each
    logged as the XCLAIM that makes it pending, or with NOACK the group's move logged as an
    XGROUP SETID."""
    now = now_ms()
    consumer, created = _consumer(ctx, key, group, options.group[1], now)
    if created and options.noack:
        logged.append([b"XGROUP", b"CREATECONSUMER", key, group.name, consumer.name])
    before = group.last_id
    delivered = groups.deliver_new(stream, group, consumer, count, options.noack, now)
    if options.noack:
        if group.last_id != before:
            logged.append(_group_moved_as(key, group))
    else:
        for stream_id, _ in delivered:  # each read moved the group on to it
            entry_id = format_id(stream_id)
            logged.append(_claimed_as(key, group, entry_id, group.pel[stream_id], stream_id))
    return entries_reply(delivered)


def _history(
    ctx: Client,
    key: bytes,
    stream: StreamValue,
    group: ConsumerGroup,
    options: ReadOptions,
    after: StreamID,
) -> list[list[object]]:
    """The consumer's pending entries after ``after``, each delivered again (not logged)."""
    now = now_ms()
    consumer, _ = _consumer(ctx, key, group, options.group[1], now)
    found = groups.history(stream, consumer, after, options.count, now)
    return [_entry(stream_id, fields) for stream_id, fields in found]


@command(
    "xreadgroup",
    "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] "
    "id [id ...]",
    arity=-7,
    flags="write blocking movablekeys",
    key_flags="RO access",
    keyword_keys=(("STREAMS", 4, 2),),
    group="stream",
    since="5.0.0",
    summary="Return new entries from a stream using a consumer group, or access the history "
    "of the pending entries for a given consumer. Can block.",
    complexity="For each stream mentioned: O(M) with M being the number of elements returned. "
    "If M is constant (e.g. always asking for the first 10 elements with COUNT), you can "
    "consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time "
    "in order to serve the N clients blocked on the stream getting new data.",
)
def xreadgroup(ctx: Client, *args: bytes) -> object:
    """Read as a consumer of a group: with ``>`` the entries no consumer of the group got yet
    (waiting for some with BLOCK), with an ID the consumer's own pending entries after it."""
    options = read_options(args, group=True)
    if options.group is None:
        raise CommandError(XREADGROUP_NEEDS_GROUP)
    name = options.group[0]
    found = []
    for key, id_arg in zip(options.keys, options.ids, strict=True):
        stream = ctx.db.get_stream(key)
        group = None if stream is None else stream.groups.get(name)
        if group is None:
            raise no_group(key, name, " in XREADGROUP with GROUP option")
        if id_arg == b"$":
            raise CommandError(XREADGROUP_DOLLAR)
        after = None if id_arg == NEW_ENTRIES else parse_strict_id(id_arg)
        if after == MAX_ID:
            after = None  # Redis marks ">" with the greatest ID: that ID reads as ">" too
        found.append((key, stream, group, after))
    logged: list[list[bytes]] = []
    served = []
    for key, stream, group, after in found:
        if after is not None:
            entries = _history(ctx, key, stream, group, options, after)
        elif stream.last_entry_id() > group.last_id:
            entries = _new_entries(ctx, key, stream, group, options, options.count, logged)
        else:
            continue
        served.append((key, entries))
        ctx.db.modified(key)
    ctx.propagate_as(*logged)
    if served:
        return read_reply(ctx, served)
    if options.block is None:
        return NULL_ARRAY
    return _wait_for_new(ctx, options)


def _wait_for_new(ctx: Client, options: ReadOptions) -> object:
    """Block until one of the keys gets entries the group has not delivered; the client then
    gets those of the first such key, up to COUNT (1000 without). A group destroyed meanwhile
    ends the wait with NOGROUP, a key deleted or overwritten with UNBLOCKED."""
    deadline = time.monotonic() + options.block / 1000 if options.block else None
    count = options.count or BLOCKED_DEFAULT_COUNT

    def serve(key: bytes) -> object:
        stream = ctx.db.get(key)
        if type(stream) is not StreamValue:
            raise CommandError(STREAM_KEY_DELETED)
        group = stream.groups.get(options.group[0])
        if group is None:
            raise CommandError(NOGROUP_BLOCKED)
        if stream.last_id <= group.last_id:
            return None
        logged: list[list[bytes]] = []
        entries = _new_entries(ctx, key, stream, group, options, count, logged)
        ctx.db.modified(key)
        ctx.propagate_as(*logged)
        return read_reply(ctx, [(key, entries)])

    return wait_for(ctx, options.keys, deadline, serve)


# --- XACK, XPENDING -------------------------------------------------------------------------------


@command(
    "xack",
    "key group id [id ...]",
    arity=-4,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="stream",
    since="5.0.0",
    summary="Marks a pending message as correctly processed, effectively removing it from "
    "the pending entries list of the consumer group. Return value of the command is "
    "the number of messages successfully acknowledged, that is, the IDs we were "
    "actually able to resolve in the PEL.",
    complexity="O(1) for each message ID processed.",
)
def xack(ctx: Client, key: bytes, name: bytes, *id_args: bytes) -> int:
    """Acknowledge entries: drop them from the group's PEL; how many were pending. Every ID
    is checked before any is acknowledged, all or nothing."""
    stream = ctx.db.get_stream(key)
    group = None if stream is None else stream.groups.get(name)
    if group is None:
        return 0
    ids = [parse_strict_id(id_arg) for id_arg in id_args]
    acknowledged = sum(groups.release(group, stream_id) is not None for stream_id in ids)
    if acknowledged:
        ctx.db.modified(key, acknowledged)
    return acknowledged


def _pending_summary(group: ConsumerGroup) -> list[object]:
    """XPENDING key group: the count, the first and last pending IDs, and each consumer with
    pending entries and how many."""
    if not group.pel:
        return [0, None, None, NULL_ARRAY]
    owners = [
        [consumer.name, b"%d" % len(consumer.pel)]
        for consumer in groups.by_name(group.consumers)
        if consumer.pel
    ]
    first, last = group.pel.peekitem(0)[0], group.pel.peekitem(-1)[0]
    return [len(group.pel), format_id(first), format_id(last), owners]


@command(
    "xpending",
    "key group [[IDLE min-idle-time] start end count [consumer]]",
    arity=-3,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="stream",
    since="5.0.0",
    summary="Return information and entries from a stream consumer group pending entries "
    "list, that are messages fetched but never acknowledged.",
    complexity="O(N) with N being the number of elements returned, so asking for a small fixed "
    "number of entries per call is O(1). O(M), where M is the total number of "
    "entries scanned when used with the IDLE filter. When the command returns just "
    "the summary and the list of consumers is small, it runs in O(1) time; "
    "otherwise, an additional O(N) time for iterating every consumer.",
    tips="nondeterministic_output",
    history=(("6.2.0", "Added the `IDLE` option and exclusive range intervals."),),
)
def xpending(ctx: Client, key: bytes, name: bytes, *args: bytes) -> object:
    """The group's pending entries: a summary, or with a range each entry (from a consumer,
    idle at least IDLE ms) as [id, consumer, idle ms, deliveries]."""
    if args and not 3 <= len(args) <= 6:
        raise CommandError(SYNTAX)
    min_idle = 0
    if args and args[0].lower() == b"idle":
        min_idle = to_int(args[1])
        if len(args) < 5:
            raise CommandError(SYNTAX)
        args = args[2:]
    if args:
        count = max(to_int(args[2]), 0)
        start, end = parse_range_start(args[0]), parse_range_end(args[1])
    stream, group = _group_or_fail(ctx, key, name)
    if not args:
        return _pending_summary(group)
    pel = group.pel
    if len(args) > 3:
        consumer = group.consumers.get(args[3])
        if consumer is None:
            return []
        pel = consumer.pel
    now, found = now_ms(), []
    for stream_id in pel.irange(start, end):
        pending = pel[stream_id]
        if len(found) == count:
            break
        if min_idle and now - pending.delivery_time < min_idle:
            continue
        idle = groups.idle(pending, now)
        found.append([format_id(stream_id), pending.consumer.name, idle, pending.delivery_count])
    return found


# --- XCLAIM, XAUTOCLAIM ---------------------------------------------------------------------------


class _Claim:
    """XCLAIM's options after its IDs: the delivery time to set (IDLE/TIME; None: now), the
    RETRYCOUNT (None: counted up), FORCE, JUSTID and LASTID."""

    __slots__ = ("delivery_time", "retry_count", "force", "justid", "last_id")

    def __init__(self, options: tuple[bytes, ...], now: int) -> None:
        self.delivery_time = self.retry_count = None
        self.force = self.justid = False
        self.last_id = MIN_ID
        i = 0
        while i < len(options):
            option, more = options[i].lower(), i + 1 < len(options)
            if option == b"force":
                self.force = True
            elif option == b"justid":
                self.justid = True
            elif option == b"idle" and more:
                i += 1
                idle = to_int(options[i], invalid_claim_argument("IDLE option", "XCLAIM"))
                self.delivery_time = now - idle
            elif option == b"time" and more:
                i += 1
                self.delivery_time = to_int(
                    options[i], invalid_claim_argument("TIME option", "XCLAIM")
                )
            elif option == b"retrycount" and more:
                i += 1
                self.retry_count = to_int(
                    options[i], invalid_claim_argument("RETRYCOUNT option", "XCLAIM")
                )
            elif option == b"lastid" and more:
                i += 1
                self.last_id = parse_strict_id(options[i])
            else:
                raise unrecognized_claim_option(options[i])
            i += 1
        # A time in the future or before 1970 is taken as now rather than refused.
        if self.delivery_time is None or not 0 <= self.delivery_time <= now:
            self.delivery_time = now
        if self.retry_count is not None and self.retry_count < 0:
            self.retry_count = None


def _min_idle(value: bytes, command_name: str) -> int:
    return max(to_int(value, invalid_claim_argument("min-idle-time", command_name)), 0)


def _leading_ids(args: tuple[bytes, ...]) -> list[tuple[bytes, StreamID]]:
    """XCLAIM's IDs: the arguments up to the first that is no ID (its options start there)."""
    ids = []
    for arg in args:
        try:
            ids.append((arg, parse_strict_id(arg)))
        except CommandError:
            break
    return ids


def _take(
    stream: StreamValue,
    group: ConsumerGroup,
    stream_id: StreamID,
    pending: PendingEntry,
    owner: Consumer,
    justid: bool,
) -> object:
    """Give a pending entry to ``owner`` (made by the caller, delivery time and count set):
    the entry as the claim replies with it."""
    groups.assign(group, stream_id, pending, owner)
    if justid:
        return format_id(stream_id)
    return _entry(stream_id, stream.entries[stream_id])


@command(
    "xclaim",
    "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME "
    "unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]",
    arity=-6,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="stream",
    since="5.0.0",
    summary="Changes (or acquires) ownership of a message in a consumer group, as if the "
    "message was delivered to the specified consumer.",
    complexity="O(log N) with N being the number of messages in the PEL of the consumer group.",
    tips="nondeterministic_output",
)
def xclaim(ctx: Client, key: bytes, name: bytes, consumer_name: bytes, *args: bytes) -> object:
    """Give pending entries idle at least min-idle-time ms to ``consumer`` (FORCE: make
    entries of the stream pending that were not); entries deleted from the stream leave the
    PEL instead. Each change is logged as the XCLAIM that recreates it."""
    stream, group = _group_or_fail(ctx, key, name)
    min_idle = _min_idle(args[0], "XCLAIM")
    ids = _leading_ids(args[1:])
    now = now_ms()
    options = _Claim(args[1 + len(ids) :], now)
    logged: list[list[bytes]] = []
    moved = options.last_id > group.last_id
    if moved:
        group.last_id = options.last_id
    owner, claimed, changes = None, [], 0
    for id_arg, stream_id in ids:
        pending = group.pel.get(stream_id)
        if stream_id not in stream.entries:
            if pending is not None:
                logged.append(_claimed_as(key, group, id_arg, pending))
                groups.release(group, stream_id)
                changes += 1
            continue
        if pending is None:
            if not options.force:
                continue
            pending = PendingEntry(now, 1, None)  # as Redis's streamCreateNACK
        elif min_idle and now - pending.delivery_time < min_idle:
            continue
        if owner is None:
            owner, _ = _consumer(ctx, key, group, consumer_name, now)
        pending.delivery_time = options.delivery_time
        if options.retry_count is not None:
            pending.delivery_count = options.retry_count
        elif not options.justid:
            pending.delivery_count += 1
        claimed.append(_take(stream, group, stream_id, pending, owner, options.justid))
        logged.append(_claimed_as(key, group, id_arg, pending))
        changes += 1
    if moved and not logged:
        logged.append(_group_moved_as(key, group))
        changes += 1
    if changes:
        ctx.db.modified(key, changes)
    ctx.propagate_as(*logged)
    return claimed


@command(
    "xautoclaim",
    "key group consumer min-idle-time start [COUNT count] [JUSTID]",
    arity=-6,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="stream",
    since="6.2.0",
    summary="Changes (or acquires) ownership of messages in a consumer group, as if the "
    "messages were delivered to the specified consumer.",
    complexity="O(1) if COUNT is small.",
    tips="nondeterministic_output",
    history=(
        (
            "7.0.0",
            "Added an element to the reply array, containing deleted entries the command "
            "cleared from the PEL",
        ),
    ),
)
def xautoclaim(
    ctx: Client, key: bytes, name: bytes, consumer_name: bytes, *args: bytes
) -> list[object]:
    """XCLAIM the group's pending entries idle at least min-idle-time ms from ``start`` on,
    up to COUNT (100), looking at ten times as many at most: [the cursor to go on from (0-0
    at the end), the entries, the IDs deleted from the stream that left the PEL]."""
    min_idle = _min_idle(args[0], "XAUTOCLAIM")
    start = parse_range_start(args[1])
    count, justid = 100, False
    i = 2
    while i < len(args):
        option = args[i].lower()
        if option == b"count" and i + 1 < len(args):
            count = to_int_at_least(args[i + 1], 1, AUTOCLAIM_COUNT)
            if count > _AUTOCLAIM_MAX_COUNT:
                raise CommandError(AUTOCLAIM_COUNT)
            i += 1
        elif option == b"justid":
            justid = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    stream, group = _group_or_fail(ctx, key, name)
    now = now_ms()
    attempts = count * 10
    owner, claimed, deleted, logged = None, [], [], []
    cursor = MIN_ID
    for stream_id in list(islice(group.pel.irange(start), attempts + 1)):
        if not attempts or not count:
            cursor = stream_id
            break
        attempts -= 1
        pending = group.pel[stream_id]
        if stream_id not in stream.entries:
            logged.append(_claimed_as(key, group, format_id(stream_id), pending))
            groups.release(group, stream_id)
            deleted.append(format_id(stream_id))
            count -= 1
            continue
        if min_idle and now - pending.delivery_time < min_idle:
            continue
        if owner is None:
            owner, _ = _consumer(ctx, key, group, consumer_name, now)
        pending.delivery_time = now
        if not justid:
            pending.delivery_count += 1
        claimed.append(_take(stream, group, stream_id, pending, owner, justid))
        logged.append(_claimed_as(key, group, format_id(stream_id), pending))
        count -= 1
    if logged:
        ctx.db.modified(key, len(logged))
    ctx.propagate_as(*logged)
    return [format_id(cursor), claimed, deleted]


# --- XINFO ----------------------------------------------------------------------------------------

container(
    "xinfo",
    arity=-2,
    group="stream",
    since="5.0.0",
    summary="A container for stream introspection commands",
)

_XINFO_HELP = (
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
)


def _info_stream(ctx: Client, key: bytes) -> StreamValue:
    """The stream XINFO describes: ERR no such key, or WRONGTYPE."""
    stream = ctx.db.get_stream(key)
    if stream is None:
        raise CommandError(NO_SUCH_KEY)
    return stream


def _tree(stream: StreamValue) -> tuple[int, int]:
    """radix-tree-keys and radix-tree-nodes: the stream's listpack nodes (keyspace/streams.py
    models them as Redis cuts them) and the radix tree nodes keyed by their master IDs."""
    keys = [_NODE_KEY.pack(*node.master) for node in stream.nodes]
    return len(keys), groups.radix_tree_nodes(keys)


@command(
    "xinfo|stream",
    "key [FULL [COUNT count]]",
    arity=-3,
    flags="readonly",
    keys=(2, 2, 1),
    key_flags="RO access",
    group="stream",
    since="5.0.0",
    summary="Get information about a stream",
    complexity="O(1)",
    history=(
        ("6.0.0", "Added the `FULL` modifier."),
        (
            "7.0.0",
            "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, "
            "`entries-read` and `lag` fields",
        ),
    ),
)
def xinfo_stream(ctx: Client, key: bytes, *options: bytes) -> dict[bytes, object]:
    """The stream's counters, then its groups' count and first and last entries; with FULL
    its entries (COUNT, 10; 0: all) and every group with its PEL and consumers."""
    stream = _info_stream(ctx, key)
    full, count = _full_options(options)
    tree_keys, tree_nodes = _tree(stream)
    info: dict[bytes, object] = {
        b"length": len(stream),
        b"radix-tree-keys": tree_keys,
        b"radix-tree-nodes": tree_nodes,
        b"last-generated-id": format_id(stream.last_id),
        b"max-deleted-entry-id": format_id(stream.max_deleted_id),
        b"entries-added": stream.entries_added,
        b"recorded-first-entry-id": format_id(stream.first_id()),
    }
    entries = stream.entries
    if not full:
        info[b"groups"] = len(stream.groups)
        info[b"first-entry"] = _entry(*entries.peekitem(0)) if entries else None
        info[b"last-entry"] = _entry(*entries.peekitem(-1)) if entries else None
        return info
    shown = entries.islice(stop=count or None)
    info[b"entries"] = [_entry(stream_id, entries[stream_id]) for stream_id in shown]
    info[b"groups"] = [_full_group(stream, group, count) for group in groups.by_name(stream.groups)]
    return info


def _full_options(options: tuple[bytes, ...]) -> tuple[bool, int]:
    """XINFO STREAM's [FULL [COUNT count]]: whether FULL, and the count (10 unless given,
    a negative one too; 0: everything)."""
    if not options:
        return False, 10
    if len(options) not in (1, 3) or options[0].lower() != b"full":
        raise SubcommandMisuse()
    if len(options) == 1:
        return True, 10
    if options[1].lower() != b"count":
        raise SubcommandMisuse()
    count = to_int(options[2])
    return True, 10 if count < 0 else count


def _full_group(stream: StreamValue, group: ConsumerGroup, count: int) -> dict[bytes, object]:
    """A group in XINFO STREAM FULL: its counters, its PEL and its consumers with theirs
    (each PEL up to ``count`` entries; 0: all)."""
    limit = count or None
    pel = [
        [format_id(stream_id), pending.consumer.name, pending.delivery_time, pending.delivery_count]
        for stream_id, pending in group.pel.items()[:limit]
    ]
    consumers = [
        {
            b"name": consumer.name,
            b"seen-time": consumer.seen_time,
            b"pel-count": len(consumer.pel),
            b"pending": [
                [format_id(stream_id), pending.delivery_time, pending.delivery_count]
                for stream_id, pending in consumer.pel.items()[:limit]
            ],
        }
        for consumer in groups.by_name(group.consumers)
    ]
    return {
        b"name": group.name,
        b"last-delivered-id": format_id(group.last_id),
        b"entries-read": group.entries_read,
        b"lag": groups.lag(stream, group),
        b"pel-count": len(group.pel),
        b"pending": pel,
        b"consumers": consumers,
    }


@command(
    "xinfo|groups",
    "key",
    arity=3,
    flags="readonly",
    keys=(2, 2, 1),
    key_flags="RO access",
    group="stream",
    since="5.0.0",
    summary="List the consumer groups of a stream",
    complexity="O(1)",
    history=(("7.0.0", "Added the `entries-read` and `lag` fields"),),
)
def xinfo_groups(ctx: Client, key: bytes) -> list[dict[bytes, object]]:
    """Each group (by name): its consumers, pending entries, last delivered ID, read counter
    and lag."""
    stream = _info_stream(ctx, key)
    return [
        {
            b"name": group.name,
            b"consumers": len(group.consumers),
            b"pending": len(group.pel),
            b"last-delivered-id": format_id(group.last_id),
            b"entries-read": group.entries_read,
            b"lag": groups.lag(stream, group),
        }
        for group in groups.by_name(stream.groups)
    ]


@command(
    "xinfo|consumers",
    "key groupname",
    arity=4,
    flags="readonly",
    keys=(2, 2, 1),
    key_flags="RO access",
    group="stream",
    since="5.0.0",
    summary="List the consumers in a consumer group",
    complexity="O(1)",
    tips="nondeterministic_output",
)
def xinfo_consumers(ctx: Client, key: bytes, name: bytes) -> list[dict[bytes, object]]:
    """Each consumer of the group (by name): its pending entries and ms since it was seen."""
    group = _info_stream(ctx, key).groups.get(name)
    if group is None:
        raise no_such_group(name, key)
    now = now_ms()
    return [
        {b"name": c.name, b"pending": len(c.pel), b"idle": max(now - c.seen_time, 0)}
        for c in groups.by_name(group.consumers)
    ]


@command(
    "xinfo|help",
    arity=2,
    flags="loading stale",
    group="stream",
    since="5.0.0",
    summary="Show helpful text about the different subcommands",
    complexity="O(1)",
)
def xinfo_help(ctx: Client) -> list:
    """XINFO's subcommands."""
    return help_reply("XINFO", _XINFO_HELP)
