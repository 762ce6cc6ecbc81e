"""Consumer groups of a stream (keyspace/streams.py holds the data model): what a group's
reads, acknowledgements and claims do to its pending entries lists (PELs), and the counters
XINFO shows, as Redis's t_stream.c keeps them.

A group hands out each entry once with ``>`` (``deliver_new``), advancing its ``last_id``
and its ``entries_read`` (the logical read counter, None while unknown: Redis's -1), and
records each delivery in the group's PEL and its consumer's, one ``PendingEntry`` shared by
both, until XACK removes it (``release``). XCLAIM and XAUTOCLAIM move an entry to another
consumer (``assign``). Times are unix milliseconds the caller passes in (``now``), so nothing
here reads a clock. ``radix_tree_nodes`` counts what XINFO STREAM calls radix-tree-nodes: the
nodes of Redis's radix tree over a stream's listpack nodes.

No Trio and no wire text here.
"""

from __future__ import annotations

from respserver.keyspace.streams import (
    MIN_ID,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    StreamID,
    StreamValue,
)

Entry = tuple[StreamID, list[bytes]]


# --- the logical read counter ---------------------------------------------------------------------


def has_tombstones_after(stream: StreamValue, start: StreamID) -> bool:
    """Whether an entry deleted from the stream may lie at or after ``start`` (Redis's
    streamRangeHasTombstones up to the end): only the greatest deleted ID is known."""
    deleted = stream.max_deleted_id
    if not stream.entries or deleted == MIN_ID or stream.first_id() > deleted:
        return False
    return start <= deleted


def entries_read_at(stream: StreamValue, stream_id: StreamID) -> int | None:
    """How many entries the stream had added up to ``stream_id``, where that can be known
    (streamEstimateDistanceFromFirstEverEntry): at its last ID, at or before its first entry
    when nothing was deleted in between, or in a stream never added to; else None."""
    added = stream.entries_added
    if not added:
        return 0
    if not stream.entries and stream_id <= stream.last_id:
        return added
    if stream_id == stream.last_id:
        return added
    if stream_id > stream.last_id:
        return None
    first = stream.first_id()
    if stream.max_deleted_id == MIN_ID or stream.max_deleted_id < first:
        if stream_id < first:
            return added - len(stream)
        if stream_id == first:
            return added - len(stream) + 1
    return None


def lag(stream: StreamValue, group: ConsumerGroup) -> int | None:
    """The entries not yet delivered to the group (XINFO's lag), or None when the deletions
    ahead of it make the count unknowable (streamReplyWithCGLag)."""
    if not stream.entries_added:
        return 0
    if group.entries_read is not None and not has_tombstones_after(stream, group.last_id):
        return stream.entries_added - group.entries_read
    read = entries_read_at(stream, group.last_id)
    return None if read is None else stream.entries_added - read


def _advance(stream: StreamValue, group: ConsumerGroup, stream_id: StreamID) -> None:
    """The group's last delivered ID moves on to ``stream_id``, its read counter with it."""
    if group.entries_read is not None and not has_tombstones_after(stream, stream_id):
        group.entries_read += 1
    elif stream.entries_added:
        group.entries_read = entries_read_at(stream, stream_id)
    group.last_id = stream_id


# --- consumers ------------------------------------------------------------------------------------


def consumer_of(
    group: ConsumerGroup, name: bytes, now: int, refresh: bool = True
) -> Consumer | None:
    """The named consumer, seen ``now`` unless not ``refresh`` (streamLookupConsumer)."""
    consumer = group.consumers.get(name)
    if consumer is not None and refresh:
        consumer.seen_time = now
    return consumer


def create_consumer(group: ConsumerGroup, name: bytes, now: int) -> Consumer | None:
    """A new consumer, or None if the group has one of that name."""
    if name in group.consumers:
        return None
    consumer = group.consumers[name] = Consumer(name, now)
    return consumer


def delete_consumer(group: ConsumerGroup, consumer: Consumer) -> int:
    """Remove a consumer and its pending entries from the group; how many it had."""
    for stream_id in consumer.pel:
        del group.pel[stream_id]
    del group.consumers[consumer.name]
    return len(consumer.pel)


def by_name(named: dict[bytes, object]) -> list:
    """Groups or consumers in Redis's order, a radix tree's: by name, bytewise."""
    return [named[name] for name in sorted(named)]


# --- pending entries ------------------------------------------------------------------------------


def release(group: ConsumerGroup, stream_id: StreamID) -> PendingEntry | None:
    """Drop an entry from the group's PEL and its consumer's (XACK); the entry, if it was."""
    pending = group.pel.pop(stream_id, None)
    if pending is not None and pending.consumer is not None:
        pending.consumer.pel.pop(stream_id, None)
    return pending


def assign(
    group: ConsumerGroup, stream_id: StreamID, pending: PendingEntry, consumer: Consumer
) -> None:
    """Make ``consumer`` the owner of a pending entry of the group (a new one included)."""
    group.pel[stream_id] = pending
    if pending.consumer is not consumer:
        if pending.consumer is not None:
            pending.consumer.pel.pop(stream_id, None)
        pending.consumer = consumer
    consumer.pel[stream_id] = pending


def deliver_new(
    stream: StreamValue,
    group: ConsumerGroup,
    consumer: Consumer,
    count: int,
    noack: bool,
    now: int,
) -> list[Entry]:
    """XREADGROUP ``>``: up to ``count`` (0: all) entries after the group's last delivered
    one, which moves on to the last of them; each becomes pending for ``consumer`` (taken
    from another consumer if an XGROUP SETID made it pending already) unless ``noack``."""
    delivered = []
    for stream_id in stream.entries.irange(group.last_id, inclusive=(False, True)):
        _advance(stream, group, stream_id)
        delivered.append((stream_id, stream.entries[stream_id]))
        if not noack:
            pending = group.pel.get(stream_id)
            if pending is None:
                pending = PendingEntry(now, 1, consumer)
            else:
                pending.delivery_time, pending.delivery_count = now, 1
            assign(group, stream_id, pending, consumer)
        if len(delivered) == count:
            break
    return delivered


def history(
    stream: StreamValue, consumer: Consumer, after: StreamID, count: int, now: int
) -> list[tuple[StreamID, list[bytes] | None]]:
    """XREADGROUP with an ID: the consumer's own pending entries after ``after``, up to
    ``count`` (0: all), each delivered once more; an entry deleted since comes as None."""
    found: list[tuple[StreamID, list[bytes] | None]] = []
    for stream_id in consumer.pel.irange(after, inclusive=(False, True)):
        if count and len(found) == count:
            break
        fields = stream.entries.get(stream_id)
        if fields is not None:
            pending = consumer.pel[stream_id]
            pending.delivery_time = now
            pending.delivery_count += 1
        found.append((stream_id, fields))
    return found


def idle(pending: PendingEntry, now: int) -> int:
    """Milliseconds since the entry was last delivered (XPENDING: never negative)."""
    return max(now - pending.delivery_time, 0)


# --- XINFO's view of the radix tree ---------------------------------------------------------------


def radix_tree_nodes(keys: list[bytes]) -> int:
    """How many nodes Redis's radix tree (rax.c) has holding these keys (distinct, sorted,
    none a prefix of another, as a stream's 16-byte node IDs are): the root, a node where
    paths branch, one per run of single-child steps (a compressed node), one per key's end."""

    def count(low: int, high: int, depth: int) -> int:
        # keys[low:high] share their first ``depth`` bytes; one node starts here.
        if high - low == 1 and depth == len(keys[low]):
            return 1
        first, last = keys[low], keys[high - 1]
        if first[depth] == last[depth]:  # a single child: one compressed node up to a fork
            shared = depth
            while shared < len(first) and first[shared] == last[shared]:
                shared += 1
            return 1 + count(low, high, shared) if shared < len(first) else 2
        nodes, start = 1, low
        for i in range(low + 1, high + 1):
            if i == high or keys[i][depth] != keys[start][depth]:
                nodes += count(start, i, depth + 1)
                start = i
        return nodes

    return count(0, len(keys), 0) if keys else 1
