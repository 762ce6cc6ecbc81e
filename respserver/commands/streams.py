"""Stream commands but the consumer groups' (commands/stream_groups.py).
https://redis.io/docs/latest/commands/?group=stream

Handlers reach a stream through ``ctx.db.get_stream``/``stream_for_write`` and change it through
``StreamValue``'s methods (keyspace/streams.py: ID parsing, ID generation, ranges, deletion and
trimming), then tell the database: ``store`` for a new stream, ``modified`` for one changed in
place, each counting what Redis adds to its dirty count (1 per XADD, one per entry XDEL or XTRIM
removed). Unlike the other collections, a stream left empty stays. Each change names its
keyspace event as t_stream.c does ("xadd", "xtrim", "xdel", "xsetid").

What the AOF gets is what replays to the same stream, as Redis propagates it: XADD with the ID
it generated for ``*`` or ``ms-*``, and a ``~`` trim rewritten as the exact trim of what it
removed (``MAXLEN = <length left>``, ``MINID = <first ID left>``).

XREAD replies with [key, entries] pairs (an array in RESP2, a map in RESP3), each entry
[id, [field, value, ...]]; with BLOCK and nothing to read it waits (core/blocking.py) until XADD
adds after the ID it asked for to one of its streams.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from respserver.core.blocking import wait_for
from respserver.core.state import Client
from respserver.errors import (
    NO_SUCH_KEY,
    STREAM_EXHAUSTED,
    SYNTAX,
    TIMEOUT_NEGATIVE,
    TIMEOUT_NOT_INTEGER,
    TRIM_BOTH_STRATEGIES,
    TRIM_LIMIT_NEGATIVE,
    TRIM_LIMIT_WITHOUT_APPROX,
    TRIM_LIMIT_WITHOUT_STRATEGY,
    TRIM_MAXLEN_NEGATIVE,
    XADD_ID_ZERO,
    XREAD_GREATER_ID,
    XREAD_GROUP_OPTION,
    XREAD_NOACK_OPTION,
    XREAD_UNBALANCED,
    XSETID_BELOW_MAX_DELETED,
    XSETID_BELOW_TOP,
    XSETID_ENTRIES_ADDED_BELOW_LENGTH,
    XSETID_ENTRIES_ADDED_NEGATIVE,
    XTRIM_WITHOUT_STRATEGY,
    CommandError,
    wrong_arity,
)
from respserver.keyspace.database import now_ms
from respserver.keyspace.events import STREAM
from respserver.keyspace.streams import (
    MAX_ID,
    MIN_ID,
    UINT64_MAX,
    StreamID,
    StreamValue,
    format_id,
    parse_id,
    parse_range_end,
    parse_range_start,
    parse_strict_id,
)
from respserver.numbers import to_int
from respserver.registry import command
from respserver.resp.types import NULL_ARRAY, OK, Encoded, Replies, SimpleString

# XREAD's COUNT when it blocks without one (XREAD_BLOCKED_DEFAULT_COUNT).
BLOCKED_DEFAULT_COUNT = 1000


def entries_reply(entries: list[tuple[StreamID, list[bytes]]]) -> list[list[object]]:
    """Entries as Redis replies with them: [id, [field, value, ...]] each."""
    return [[format_id(entry_id), pairs] for entry_id, pairs in entries]


# --- trimming options (XADD, XTRIM) --------------------------------------------------------------


@dataclass(slots=True)
class Trim:
    """XADD's and XTRIM's options, as Redis's streamParseAddOrTrimArgsOrReply reads them.
    Positions are in the arguments after the key."""

    maxlen: int | None = None
    minid: StreamID | None = None
    approx: bool = False
    limit: int = 0
    at: int = -1  # where the threshold is (its "~" or "=" just before, when given)
    nomkstream: bool = False
    id: StreamID | None = None  # XADD's ID; None for "*"
    seq_given: bool = True  # False for "ms-*"
    id_at: int = 0  # where XADD's ID is

    @property
    def strategy(self) -> bool:
        return self.maxlen is not None or self.minid is not None

    def apply(self, stream: StreamValue) -> int:
        return stream.trim(self.maxlen, self.minid, self.approx, self.limit)

    def exact_threshold(self, stream: StreamValue) -> bytes:
        """What a "~" trim did, as the exact threshold Redis logs: the length left, or the
        first ID left (a deleted one included)."""
        if self.maxlen is not None:
            return b"%d" % len(stream)
        return format_id(stream.first_id_kept())


def trim_options(ctx: Client, args: tuple[bytes, ...], xadd: bool) -> Trim:
    """Read the options (XADD's up to its ID, which ends them), then check them together, in
    Redis's order. A client replaying a log (the AOF) has no default LIMIT for "~", and may
    give LIMIT with "=", as Redis logs them."""
    trim = Trim()
    limit_given = False
    at = 0
    while at < len(args):
        more = len(args) - 1 - at
        option = args[at].lower()
        if xadd and option == b"*":
            break
        if (option == b"maxlen" or option == b"minid") and more:
            if trim.strategy:
                raise CommandError(TRIM_BOTH_STRATEGIES)
            trim.approx = False
            if more >= 2 and args[at + 1] in (b"~", b"="):
                trim.approx = args[at + 1] == b"~"
                at += 1
            at += 1
            if option == b"maxlen":
                trim.maxlen = to_int(args[at])
                if trim.maxlen < 0:
                    raise CommandError(TRIM_MAXLEN_NEGATIVE)
            else:
                trim.minid = parse_strict_id(args[at])
            trim.at = at
        elif option == b"limit" and more:
            trim.limit = to_int(args[at + 1])
            if trim.limit < 0:
                raise CommandError(TRIM_LIMIT_NEGATIVE)
            limit_given = True
            at += 1
        elif xadd and option == b"nomkstream":
            trim.nomkstream = True
        elif xadd:
            trim.id, trim.seq_given = parse_id(args[at], strict=True, auto_seq=True)
            break
        else:
            raise CommandError(SYNTAX)
        at += 1
    trim.id_at = at
    if trim.limit and not trim.strategy:
        raise CommandError(TRIM_LIMIT_WITHOUT_STRATEGY)
    if not xadd and not trim.strategy:
        raise CommandError(XTRIM_WITHOUT_STRATEGY)
    if ctx.loader:
        trim.limit = 0
    elif limit_given:
        if not trim.approx:
            raise CommandError(TRIM_LIMIT_WITHOUT_APPROX)
    elif trim.approx:  # at most 100 nodes' worth
        trim.limit = min(100 * ctx.server.config.stream_node_max_entries, 1_000_000) or 10_000
    return trim


def _rewrite_trim(argv: list[bytes], trim: Trim, stream: StreamValue) -> None:
    """Log a "~" trim (in ``argv``, the whole command line) as the exact one it came to
    (Redis's streamRewriteTrimArgument)."""
    argv[trim.at + 1] = b"="
    argv[trim.at + 2] = trim.exact_threshold(stream)


# --- XADD, XTRIM, XDEL, XSETID -------------------------------------------------------------------


@command(
    "xadd",
    "key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> "
    "field value [field value ...]",
    arity=-5,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW update",
    key_notes="UPDATE instead of INSERT because of the optional trimming feature",
    group="stream",
    since="5.0.0",
    summary="Appends a new entry to a stream",
    complexity="O(1) when adding a new entry, O(N) when trimming where N being the number of "
    "entries evicted.",
    tips="nondeterministic_output",
    history=(
        (
            "6.2.0",
            "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option.",
        ),
        ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
    ),  # fmt: skip
)
def xadd(ctx: Client, key: bytes, *args: bytes) -> object:
    """Append an entry (its ID given or generated), then trim if asked: the new entry's ID,
    or nil with NOMKSTREAM and no stream."""
    trim = trim_options(ctx, args, xadd=True)
    pairs = args[trim.id_at + 1 :]
    if len(pairs) < 2 or len(pairs) % 2:
        raise wrong_arity("xadd")
    if trim.id == MIN_ID and trim.seq_given:
        raise CommandError(XADD_ID_ZERO)
    db = ctx.db
    stream = db.get_stream(key)
    created = stream is None
    if stream is None:
        if trim.nomkstream:
            return None
        stream = StreamValue()
    if stream.last_id == MAX_ID:
        raise CommandError(STREAM_EXHAUSTED)
    entry_id = stream.next_id(trim.id, trim.seq_given, now_ms())
    config = ctx.server.config  # read raw: every XADD asks
    max_entries, max_bytes = config["stream-node-max-entries"], config["stream-node-max-bytes"]
    stream.append(entry_id, pairs, int(max_entries), int(max_bytes))
    if created:
        db.store(key, stream)  # "new" before "xadd", as Redis's dbAdd tells it
    db.notify(STREAM, b"xadd", key)
    logged = [b"XADD", key, *args]
    trimmed = trim.strategy and trim.apply(stream)
    if trimmed:
        db.notify(STREAM, b"xtrim", key)
    if trim.approx:
        _rewrite_trim(logged, trim, stream)
    if trimmed or not created:  # the change once trimmed; one change, trimmed or not
        db.modified(key, 0 if created else 1)
    if trim.id is None or not trim.seq_given:
        logged[trim.id_at + 2] = format_id(entry_id)
    if logged[2:] != list(args):
        ctx.propagate_as(logged)
    db.signal_ready(key)
    return format_id(entry_id)


@command(
    "xtrim",
    "key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]",
    arity=-4,
    flags="write",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="stream",
    since="5.0.0",
    summary="Trims the stream to (approximately if '~' is passed) a certain size",
    complexity="O(N), with N being the number of evicted entries. Constant times are very "
    "small however, since entries are organized in macro nodes containing multiple "
    "entries that can be released with a single deallocation.",
    tips="nondeterministic_output",
    history=(("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."),),
)
def xtrim(ctx: Client, key: bytes, *args: bytes) -> int:
    """Delete the oldest entries past MAXLEN, or before MINID: how many went."""
    trim = trim_options(ctx, args, xadd=False)
    stream = ctx.db.get_stream(key)
    if stream is None:
        return 0
    deleted = trim.apply(stream)
    if deleted:
        ctx.db.notify(STREAM, b"xtrim", key)
        if trim.approx:
            logged = [b"XTRIM", key, *args]
            _rewrite_trim(logged, trim, stream)
            ctx.propagate_as(logged)
        ctx.db.modified(key, deleted)
    return deleted


@command(
    "xdel",
    "key id [id ...]",
    arity=-3,
    flags="write fast",
    keys=(1, 1, 1),
    key_flags="RW delete",
    group="stream",
    since="5.0.0",
    summary="Removes the specified entries from the stream. Returns the number of items "
    "actually deleted, that may be different from the number of IDs passed in case "
    "certain IDs do not exist.",
    complexity="O(1) for each single item to delete in the stream, regardless of the stream size.",
)
def xdel(ctx: Client, key: bytes, *ids: bytes) -> int:
    """Delete the entries with these IDs (every ID checked first): how many there were."""
    stream = ctx.db.get_stream(key)
    if stream is None:
        return 0
    deleted = stream.delete([parse_strict_id(arg) for arg in ids])
    if deleted:
        ctx.db.modified(key, deleted)
        ctx.db.notify(STREAM, b"xdel", key)
    return deleted


@command(
    "xsetid",
    "key last-id [ENTRIESADDED entries_added] [MAXDELETEDID max_deleted_entry_id]",
    arity=-3,
    flags="write denyoom fast",
    keys=(1, 1, 1),
    key_flags="RW update",
    group="stream",
    since="5.0.0",
    summary="An internal command for replicating stream values",
    complexity="O(1)",
    history=(("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."),),
)
def xsetid(ctx: Client, key: bytes, last_id: bytes, *options: bytes) -> SimpleString:
    """Set a stream's last ID (never below its last entry's), and with the options its count
    of entries ever added and its greatest deleted ID, as replication and the AOF do."""
    new_id = parse_strict_id(last_id)
    entries_added = max_deleted = None
    at = 0
    while at < len(options):
        option = options[at].lower()
        if option == b"entriesadded" and at + 1 < len(options):
            entries_added = to_int(options[at + 1])
            if entries_added < 0:
                raise CommandError(XSETID_ENTRIES_ADDED_NEGATIVE)
        elif option == b"maxdeletedid" and at + 1 < len(options):
            max_deleted = parse_strict_id(options[at + 1])
            if new_id < max_deleted:
                raise CommandError(XSETID_BELOW_MAX_DELETED)
        else:
            raise CommandError(SYNTAX)
        at += 2
    stream = ctx.db.get_stream(key)
    if stream is None:
        raise CommandError(NO_SUCH_KEY)
    if stream:
        if new_id < stream.last_entry_id():
            raise CommandError(XSETID_BELOW_TOP)
        if entries_added is not None and len(stream) > entries_added:
            raise CommandError(XSETID_ENTRIES_ADDED_BELOW_LENGTH)
    stream.last_id = new_id
    if entries_added is not None:
        stream.entries_added = entries_added
    if max_deleted is not None and max_deleted != MIN_ID:
        stream.max_deleted_id = max_deleted
    ctx.db.modified(key)
    ctx.db.notify(STREAM, b"xsetid", key)
    return OK


# --- XLEN, XRANGE, XREVRANGE ---------------------------------------------------------------------


@command(
    "xlen",
    "key",
    arity=2,
    flags="readonly fast",
    keys=(1, 1, 1),
    key_flags="RO",
    group="stream",
    since="5.0.0",
    summary="Return the number of entries in a stream",
)
def xlen(ctx: Client, key: bytes) -> int:
    stream = ctx.db.get_stream(key)
    return 0 if stream is None else len(stream)


def _range(
    ctx: Client, key: bytes, start: bytes, end: bytes, options: tuple, reverse: bool
) -> object:
    """XRANGE's and XREVRANGE's body: the bounds, then COUNT, then the key, in Redis's order;
    COUNT 0 (or less) is a null array."""
    low, high = parse_range_start(start), parse_range_end(end)
    count = -1
    at = 0
    while at < len(options):
        if options[at].lower() == b"count" and at + 1 < len(options):
            count = max(to_int(options[at + 1]), 0)
            at += 2
        else:
            raise CommandError(SYNTAX)
    stream = ctx.db.get_stream(key)
    if stream is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return entries_reply(stream.range(low, high, max(count, 0), reverse))


_RANGE = dict(
    arity=-4,
    flags="readonly",
    keys=(1, 1, 1),
    key_flags="RO access",
    group="stream",
    since="5.0.0",
    history=(("6.2.0", "Added exclusive ranges."),),
)


@command(
    "xrange",
    "key start end [COUNT count]",
    summary="Return a range of elements in a stream, with IDs matching the specified IDs interval",
    complexity="O(N) with N being the number of elements being returned. If N is constant "
    "(e.g. always asking for the first 10 elements with COUNT), you can consider it "
    "O(1).",
    **_RANGE,
)
def xrange(ctx: Client, key: bytes, start: bytes, end: bytes, *options: bytes) -> object:
    """The entries from ``start`` to ``end``, oldest first."""
    return _range(ctx, key, start, end, options, reverse=False)


@command(
    "xrevrange",
    "key end start [COUNT count]",
    summary="Return a range of elements in a stream, with IDs matching the specified IDs "
    "interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    complexity="O(N) with N being the number of elements returned. If N is constant (e.g. "
    "always asking for the first 10 elements with COUNT), you can consider it O(1).",
    **_RANGE,
)
def xrevrange(ctx: Client, key: bytes, end: bytes, start: bytes, *options: bytes) -> object:
    """The entries from ``end`` down to ``start``, newest first."""
    return _range(ctx, key, start, end, options, reverse=True)


# --- XREAD ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class ReadOptions:
    """XREAD's (and XREADGROUP's) options: COUNT (0: none), BLOCK (ms; None: not given), the
    keys and their IDs as written, and XREADGROUP's GROUP and NOACK."""

    count: int = 0
    block: int | None = None
    keys: tuple[bytes, ...] = ()
    ids: tuple[bytes, ...] = ()
    group: tuple[bytes, bytes] | None = None
    noack: bool = False


def read_options(args: tuple[bytes, ...], group: bool) -> ReadOptions:
    """XREAD's options, up to STREAMS, as Redis's xreadCommand reads them (``group``: for
    XREADGROUP, which alone takes GROUP and NOACK)."""
    options = ReadOptions()
    streams = -1
    at = 0
    while at < len(args):
        more = len(args) - at - 1
        option = args[at].lower()
        if option == b"block" and more:
            at += 1
            options.block = to_int(args[at], TIMEOUT_NOT_INTEGER)
            if options.block < 0:
                raise CommandError(TIMEOUT_NEGATIVE)
        elif option == b"count" and more:
            at += 1
            options.count = max(to_int(args[at]), 0)
        elif option == b"streams" and more:
            streams = at + 1
            if (len(args) - streams) % 2:
                raise CommandError(XREAD_UNBALANCED)
            break
        elif option == b"group" and more >= 2:
            if not group:
                raise CommandError(XREAD_GROUP_OPTION)
            options.group = (args[at + 1], args[at + 2])
            at += 2
        elif option == b"noack":
            if not group:
                raise CommandError(XREAD_NOACK_OPTION)
            options.noack = True
        else:
            raise CommandError(SYNTAX)
        at += 1
    if streams < 0:
        raise CommandError(SYNTAX)
    half = (len(args) - streams) // 2
    options.keys = args[streams : streams + half]
    options.ids = args[streams + half :]
    return options


def read_reply(ctx: Client, served: list[tuple[bytes, list[list[object]]]]) -> object:
    """XREAD's reply: [key, entries] pairs in RESP2, a map in RESP3 (one key twice, as Redis
    allows, is written twice)."""
    if ctx.resp == 2:
        return [[key, entries] for key, entries in served]
    reply = dict(served)
    if len(reply) == len(served):
        return reply
    return Replies([Encoded(b"%%%d\r\n" % len(served)), *(x for pair in served for x in pair)])


@command(
    "xread",
    "[COUNT count] [BLOCK milliseconds] STREAMS <key [key ...] id [id ...]>",
    arity=-4,
    flags="readonly blocking movablekeys",
    key_flags="RO access",
    keyword_keys=(("STREAMS", 1, 2),),
    group="stream",
    since="5.0.0",
    summary="Return never seen elements in multiple streams, with IDs greater than the ones "
    "reported by the caller for each stream. Can block.",
    complexity="For each stream mentioned: O(N) with N being the number of elements being "
    "returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when "
    "the BLOCK option is used, XADD will pay O(M) time in order to serve the M "
    "clients blocked on the stream getting new data.",
)
def xread(ctx: Client, *args: bytes) -> object:
    """The entries after each ID (``$``: the stream's last ID) of the streams that have any;
    with none, nil, or with BLOCK a wait until XADD adds after one of the IDs."""
    options = read_options(args, group=False)
    db = ctx.db
    after: list[StreamID] = []
    for key, arg in zip(options.keys, options.ids, strict=True):
        stream = db.get_stream(key)
        if arg == b"$":
            after.append(MIN_ID if stream is None else stream.last_id)
        elif arg == b">":
            raise CommandError(XREAD_GREATER_ID)
        else:
            after.append(parse_strict_id(arg))
    served = []
    for key, gt in zip(options.keys, after, strict=True):
        stream = db.get_stream(key)
        if stream and stream.last_entry_id() > gt:
            served.append((key, entries_reply(_after(stream, gt, options.count))))
    if served:
        return read_reply(ctx, served)
    if options.block is None:
        return NULL_ARRAY
    waiting: dict[bytes, StreamID] = {}
    for key, gt in zip(options.keys, after, strict=True):
        waiting.setdefault(key, gt)  # a key given twice waits for its first ID
    count = options.count or BLOCKED_DEFAULT_COUNT

    def serve(key: bytes) -> object:
        stream = db.get(key)
        gt = waiting[key]
        if type(stream) is not StreamValue or not stream.last_id > gt:
            return None
        return read_reply(ctx, [(key, entries_reply(_after(stream, gt, count)))])

    deadline = time.monotonic() + options.block / 1000 if options.block else None
    return wait_for(ctx, options.keys, deadline, serve)


def _after(stream: StreamValue, gt: StreamID, count: int) -> list[tuple[StreamID, list[bytes]]]:
    """The entries after ``gt``, at most ``count`` (0: all)."""
    if gt == MAX_ID:
        return []
    start = (gt[0], gt[1] + 1) if gt[1] < UINT64_MAX else (gt[0] + 1, 0)
    return stream.range(start, MAX_ID, count)
