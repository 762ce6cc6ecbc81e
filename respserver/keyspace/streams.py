"""The stream type: an append-only log of entries, each a unique ID and a list of field-value
pairs, with consumer groups that hand entries out to consumers and track what they have not
acknowledged. https://redis.io/docs/latest/develop/data-types/streams/

An entry ID is two unsigned 64-bit integers, milliseconds and a sequence number, held as the
tuple ``(ms, seq)`` so that tuples compare as IDs do; its text form is ``ms-seq``.

What Redis keeps per stream (t_stream.c's ``stream`` struct) and shows in XINFO, all here:
``last_id`` (the greatest ID ever added, which XADD must exceed and XSETID may raise),
``max_deleted_id`` (the greatest ID XDEL deleted: trims leave it, as in Redis 7.0),
``entries_added`` (every entry ever added, deletions not subtracted) and the groups; and
``nodes``, where Redis's listpack nodes would split the entries (``Node``: what "~" trims
remove, what an RDB file's nodes hold). A group (``ConsumerGroup``) keeps its
``last_id`` (the last entry delivered with ``>``), ``entries_read`` (how many entries of the
stream it has read, or None when Redis's counter is unknown: its -1, SCG_INVALID_ENTRIES_READ),
its pending entries list (PEL: ID -> ``PendingEntry``, ordered by ID) and its consumers
(name -> ``Consumer``). A consumer keeps its own PEL, the same ``PendingEntry`` objects as
its group's, and ``seen_time`` (ms of its last interaction).

No Trio and no wire text here: errors are raised as CommandError with Redis's wording.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import islice

from sortedcontainers import SortedDict

from respserver.errors import (
    INVALID_END_INTERVAL,
    INVALID_START_INTERVAL,
    INVALID_STREAM_ID,
    XADD_ELEMENTS_TOO_LARGE,
    XADD_ID_TOO_SMALL,
    CommandError,
)

StreamID = tuple[int, int]  # (milliseconds, sequence), each 0 .. 2**64-1

UINT64_MAX = 2**64 - 1
MIN_ID: StreamID = (0, 0)
MAX_ID: StreamID = (UINT64_MAX, UINT64_MAX)


def format_id(stream_id: StreamID) -> bytes:
    """``ms-seq``, as Redis writes an ID."""
    return b"%d-%d" % stream_id


def _id_after(stream_id: StreamID) -> StreamID | None:
    """The next ID (Redis's streamIncrID), or None past the greatest."""
    ms, seq = stream_id
    if seq < UINT64_MAX:
        return (ms, seq + 1)
    return (ms + 1, 0) if ms < UINT64_MAX else None


def _id_before(stream_id: StreamID) -> StreamID | None:
    """The previous ID (Redis's streamDecrID), or None before 0-0."""
    ms, seq = stream_id
    if seq:
        return (ms, seq - 1)
    return (ms - 1, UINT64_MAX) if ms else None


_UNSIGNED = re.compile(rb"([ \t\n\v\f\r]*)([+-]?)([0-9]+)\Z")
_CANONICAL = re.compile(rb"-?[1-9][0-9]*\Z|0\Z")


def _unsigned(text: bytes) -> int | None:
    """One part of an ID as Redis's string2ull reads it: a canonical integer that is not
    negative, else whatever C's strtoull takes whole (leading blanks, a sign, leading zeros;
    a negative number it cannot read as a long long wraps around, as strtoull's does)."""
    match = _UNSIGNED.match(text)
    if match is None:
        return None
    blanks, sign, digits = match.groups()
    value = int(digits)
    if value > UINT64_MAX:
        return None
    if sign == b"-":
        if not blanks and _CANONICAL.match(text) and value <= 2**63:
            return None  # a long long, and negative
        return -value % 2**64
    return value


def parse_id(
    arg: bytes, missing_seq: int = 0, strict: bool = False, auto_seq: bool = False
) -> tuple[StreamID, bool]:
    """An ID as a client writes it (Redis's streamGenericParseIDOrReply): ``ms-seq``, ``ms``
    alone (sequence ``missing_seq``), ``-`` and ``+`` (the least and greatest IDs; invalid when
    ``strict``) and, with ``auto_seq``, ``ms-*``. Returns the ID and whether the sequence was
    given (False only for ``ms-*``, whose sequence reads 0)."""
    if len(arg) > 127:
        raise CommandError(INVALID_STREAM_ID)
    text = arg.split(b"\0", 1)[0]  # Redis reads it as a C string
    if text == b"-" or text == b"+":
        if strict:
            raise CommandError(INVALID_STREAM_ID)
        return (MIN_ID if text == b"-" else MAX_ID), True
    ms_text, dash, seq_text = text.partition(b"-")
    ms = _unsigned(ms_text)
    if ms is None:
        raise CommandError(INVALID_STREAM_ID)
    if not dash:
        return (ms, missing_seq), True
    if auto_seq and seq_text == b"*":
        return (ms, 0), False
    seq = _unsigned(seq_text)
    if seq is None:
        raise CommandError(INVALID_STREAM_ID)
    return (ms, seq), True


def parse_strict_id(arg: bytes, missing_seq: int = 0) -> StreamID:
    """An ID where ``-`` and ``+`` mean nothing (XDEL's, XREAD's, MINID's...)."""
    return parse_id(arg, missing_seq, strict=True)[0]


def parse_range_start(arg: bytes) -> StreamID:
    """XRANGE's start: ``ms`` alone is ms-0, ``(id`` excludes the ID."""
    if len(arg) > 1 and arg[:1] == b"(":
        start = _id_after(parse_strict_id(arg[1:]))
        if start is None:
            raise CommandError(INVALID_START_INTERVAL)
        return start
    return parse_id(arg)[0]


def parse_range_end(arg: bytes) -> StreamID:
    """XRANGE's end: ``ms`` alone is ms-(2^64-1), ``(id`` excludes the ID."""
    if len(arg) > 1 and arg[:1] == b"(":
        end = _id_before(parse_strict_id(arg[1:], UINT64_MAX))
        if end is None:
            raise CommandError(INVALID_END_INTERVAL)
        return end
    return parse_id(arg, UINT64_MAX)[0]


# --- Redis's listpack nodes, for what "~" trims -------------------------------------------------
#
# Redis keeps a stream's entries in listpacks of at most stream-node-max-entries entries and
# stream-node-max-bytes bytes, deletes an entry by flagging it (a tombstone, still in its node)
# and frees a node only when its last live entry goes. A "~" trim removes whole nodes only, so
# which entries it removes depends on where the node boundaries fall: they are modelled here
# exactly, listpack sizes included (src/listpack.c's encodings).

LISTPACK_MAX_SIZE = 1 << 30  # Redis's STREAM_LISTPACK_MAX_SIZE
_INT64 = re.compile(rb"-?[1-9][0-9]{0,19}\Z|0\Z")


def _backlen(size: int) -> int:
    """The bytes of an element's back-length (lpEncodeBacklen)."""
    for width, bound in enumerate((128, 16383, 2097151, 268435455), 1):
        if size < bound:
            return width
    return 5


def lp_int_size(value: int) -> int:
    """The bytes an integer takes in a listpack, its back-length included."""
    if 0 <= value <= 127:
        return 2
    if -4096 <= value <= 4095:
        return 3
    if -32768 <= value <= 32767:
        return 4
    if -8388608 <= value <= 8388607:
        return 5
    return 6 if -(2**31) <= value < 2**31 else 10


def lp_string_size(text: bytes) -> int:
    """The bytes a string takes in a listpack (as an integer when it reads as one)."""
    n = len(text)
    if 0 < n < 21 and text[0] in _INTEGER_START and _INT64.match(text):
        value = int(text)
        if -(2**63) <= value < 2**63:
            return lp_int_size(value)
    if n < 64:
        return n + 2  # a 1-byte header, a 1-byte back-length
    size = 2 + n if n < 4096 else 5 + n
    return size + _backlen(size)


_INTEGER_START = frozenset(b"-0123456789")


def _signed(value: int) -> int:
    """A difference of two unsigned 64-bit numbers as C stores it in an int64."""
    return (value + 2**63) % 2**64 - 2**63


class Node:
    """One of Redis's listpack nodes: its master entry's ID (the first entry added to it) and
    field names, the IDs of every entry added to it in order (deleted ones too: Redis flags
    them), how many of them are live, and ``size``, its listpack's bytes bar the two counters
    of live and deleted entries (``byte_size`` adds them)."""

    __slots__ = ("master", "fields", "ids", "live", "size")

    def __init__(self, master: StreamID, fields: list[bytes]) -> None:
        self.master = master
        self.fields = fields
        self.ids: list[StreamID] = []
        self.live = 0
        # header and end, master's field count, fields and terminator
        self.size = 7 + lp_int_size(len(fields)) + sum(map(lp_string_size, fields)) + 2

    def byte_size(self) -> int:
        """Redis's lpBytes of the node."""
        return self.size + lp_int_size(self.live) + lp_int_size(len(self.ids) - self.live)

    def add(self, entry_id: StreamID, pairs: Sequence[bytes]) -> None:
        """Append an entry (``pairs``: field, value, ...), as streamAppendItem lays it out."""
        fields = self.fields
        same = len(pairs) == 2 * len(fields) and list(pairs[0::2]) == fields
        master_ms, master_seq = self.master
        size = 2 + lp_int_size(_signed(entry_id[0] - master_ms))
        size += lp_int_size(_signed(entry_id[1] - master_seq))
        if same:  # the values alone, then their count and the 3 fixed parts
            size += sum(map(lp_string_size, pairs[1::2])) + lp_int_size(len(fields) + 3)
        else:  # the field count, fields and values, then their count and the 4 fixed parts
            size += lp_int_size(len(pairs) // 2) + sum(map(lp_string_size, pairs))
            size += lp_int_size(len(pairs) + 4)
        self.size += size
        self.ids.append(entry_id)
        self.live += 1

    def copy(self) -> Node:
        node = Node.__new__(Node)
        node.master, node.fields, node.ids = self.master, self.fields, list(self.ids)
        node.live, node.size = self.live, self.size
        return node


class PendingEntry:
    """An entry delivered to a consumer of a group and not yet acknowledged (Redis's
    streamNACK): when it was last delivered (unix ms), how many times, and to whom."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, delivery_time: int, delivery_count: int, consumer: Consumer) -> None:
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count
        self.consumer = consumer


class Consumer:
    """A consumer of a group (streamConsumer): its name, when it was last seen (unix ms), and
    its pending entries (ID -> PendingEntry, by ID; the same objects as its group's PEL)."""

    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, seen_time: int) -> None:
        self.name = name
        self.seen_time = seen_time
        self.pel: SortedDict = SortedDict()


class ConsumerGroup:
    """A consumer group (streamCG). ``consumers`` is kept in insertion order; Redis lists them
    in name order (a radix tree), so sort by name where a reply lists them."""

    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers")

    def __init__(self, name: bytes, last_id: StreamID, entries_read: int | None) -> None:
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read  # None: unknown (Redis's -1)
        self.pel: SortedDict = SortedDict()  # StreamID -> PendingEntry
        self.consumers: dict[bytes, Consumer] = {}

    def copy(self) -> ConsumerGroup:
        """An independent copy (COPY of its stream): the consumers and both levels of PEL,
        each pending entry one object shared by the group's PEL and its consumer's."""
        group = ConsumerGroup(self.name, self.last_id, self.entries_read)
        for name, consumer in self.consumers.items():
            twin = group.consumers[name] = Consumer(name, consumer.seen_time)
            for entry_id, pending in consumer.pel.items():
                copied = PendingEntry(pending.delivery_time, pending.delivery_count, twin)
                twin.pel[entry_id] = group.pel[entry_id] = copied
        return group


class StreamValue:
    """A Redis stream. Unlike the other collections, an empty stream is a value like any other:
    a key holding a stream is deleted only by DEL and its kind, never for being empty."""

    __slots__ = ("entries", "last_id", "max_deleted_id", "entries_added", "groups", "nodes")

    def __init__(self, entries: Iterable[tuple[StreamID, list[bytes]]] = ()) -> None:
        # StreamID -> [field, value, field, value, ...], in ID order.
        self.entries: SortedDict = SortedDict()
        self.last_id: StreamID = MIN_ID
        self.max_deleted_id: StreamID = MIN_ID
        self.entries_added = 0
        self.groups: dict[bytes, ConsumerGroup] = {}  # by name; Redis lists them in name order
        # Redis's listpack nodes, oldest first: where "~" trims may cut (see ``Node``).
        self.nodes: list[Node] = []
        for entry_id, fields in entries:
            self.append(entry_id, fields)

    def __len__(self) -> int:
        return len(self.entries)

    def first_id(self) -> StreamID:
        """The first entry's ID, or 0-0 for an empty stream (as XINFO shows it)."""
        return self.entries.peekitem(0)[0] if self.entries else MIN_ID

    def payload(self) -> int:
        """The bytes of the entries' fields and values (memory estimates)."""
        return sum(len(item) for pairs in self.entries.values() for item in pairs)

    def last_entry_id(self) -> StreamID:
        """The last live entry's ID (Redis's streamLastValidID), 0-0 when empty: unlike
        ``last_id``, not raised by XSETID nor kept when the entry is deleted."""
        return self.entries.peekitem(-1)[0] if self.entries else MIN_ID

    def next_id(self, wanted: StreamID | None, seq_given: bool, now_ms: int) -> StreamID:
        """The ID XADD adds with: ``wanted`` (None for ``*``: the clock's ms, or the last ID's
        successor when the clock is not ahead of it; with ``seq_given`` False, ``ms-*``: the
        next sequence in that ms). It must exceed ``last_id``, as Redis's streamAppendItem
        checks."""
        last = self.last_id
        if wanted is None:
            new = (now_ms, 0) if now_ms > last[0] else _id_after(last) or MIN_ID
        elif not seq_given and wanted[0] == last[0]:
            if last[1] == UINT64_MAX:
                # Redis fails here without setting errno, so XADD reports its other error.
                raise CommandError(XADD_ELEMENTS_TOO_LARGE)
            new = (last[0], last[1] + 1)
        else:
            new = wanted
        if new <= last:
            raise CommandError(XADD_ID_TOO_SMALL)
        return new

    def append(
        self,
        entry_id: StreamID,
        pairs: Sequence[bytes],
        max_entries: int = 100,
        max_bytes: int = 4096,
    ) -> None:
        """Add an entry after every other (``entry_id`` from ``next_id``): to the last node, or
        to a new one when the last has ``max_entries`` entries, deleted ones included, or would
        reach ``max_bytes`` (stream-node-max-entries/-bytes; 0: no limit but Redis's own)."""
        total = sum(map(len, pairs))
        if total > LISTPACK_MAX_SIZE:
            raise CommandError(XADD_ELEMENTS_TOO_LARGE)
        node = self.nodes[-1] if self.nodes else None
        if node is not None:
            limit = max_bytes if 0 < max_bytes <= LISTPACK_MAX_SIZE else LISTPACK_MAX_SIZE
            if node.byte_size() + total >= limit or (max_entries and len(node.ids) >= max_entries):
                node = None
        if node is None:
            node = Node(entry_id, list(pairs[0::2]))
            self.nodes.append(node)
        node.add(entry_id, pairs)
        self.entries[entry_id] = list(pairs)
        self.entries_added += 1
        self.last_id = entry_id

    def range(
        self, start: StreamID, end: StreamID, count: int = 0, reverse: bool = False
    ) -> list[tuple[StreamID, list[bytes]]]:
        """The entries from ``start`` to ``end`` (both included), at most ``count`` (0: all),
        from the last one when ``reverse``."""
        if start > end:
            return []
        ids = self.entries.irange(start, end, reverse=reverse)
        entries = self.entries
        return [(i, entries[i]) for i in islice(ids, count or None)]

    def delete(self, ids: Iterable[StreamID]) -> int:
        """XDEL: delete the entries with these IDs; how many there were. A node whose last live
        entry goes is freed, as Redis frees it."""
        deleted = 0
        nodes = self.nodes
        for entry_id in ids:
            if self.entries.pop(entry_id, None) is None:
                continue
            at = bisect_right(nodes, entry_id, key=_master) - 1
            node = nodes[at]
            node.live -= 1
            if not node.live:
                del nodes[at]
            self.max_deleted_id = max(self.max_deleted_id, entry_id)
            deleted += 1
        return deleted

    def trim(
        self, maxlen: int | None, minid: StreamID | None, approx: bool = False, limit: int = 0
    ) -> int:
        """Redis's streamTrim: delete the oldest entries until at most ``maxlen`` are left, or
        none before ``minid``; how many went. From the first node on: a node that can go whole
        goes (not when that takes the count past ``limit``, if not 0); at the first that cannot,
        an exact trim (not ``approx``) deletes what it must from within it, and stops."""
        entries, nodes = self.entries, self.nodes
        deleted = gone = 0
        for node in nodes:
            if maxlen is not None and len(entries) <= maxlen:
                break
            if limit and deleted + node.live > limit:
                break
            if maxlen is not None:
                whole = len(entries) - node.live >= maxlen
            else:
                whole = node.ids[-1] < minid
            if whole:
                for entry_id in node.ids:
                    entries.pop(entry_id, None)
                deleted += node.live
                gone += 1
                continue
            if not approx:
                for entry_id in node.ids:
                    if len(entries) <= maxlen if maxlen is not None else entry_id >= minid:
                        break
                    if entries.pop(entry_id, None) is not None:
                        node.live -= 1
                        deleted += 1
            break
        del nodes[:gone]
        return deleted

    def first_id_kept(self) -> StreamID:
        """The first entry's ID, deleted or not (the greatest ID when there is none): what
        Redis logs as the MINID of a "~" trim."""
        return self.nodes[0].ids[0] if self.nodes else MAX_ID

    def copy(self) -> StreamValue:
        """An independent copy (COPY), consumer groups included."""
        stream = StreamValue()
        stream.entries = self.entries.copy()
        stream.last_id, stream.max_deleted_id = self.last_id, self.max_deleted_id
        stream.entries_added = self.entries_added
        stream.nodes = [node.copy() for node in self.nodes]
        for name, group in self.groups.items():
            stream.groups[name] = group.copy()
        return stream


def _master(node: Node) -> StreamID:
    return node.master
