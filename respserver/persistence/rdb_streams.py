"""A stream's entries as Redis keeps them, and so as RDB files and DUMP payloads carry them: a
radix tree of listpack nodes, each keyed by its master ID (16 bytes, milliseconds then sequence,
big-endian), each node a listpack (t_stream.c's layout)::

    master entry:  count | deleted | num-fields | field_1 ... field_N | 0
    each entry:    flags | ms-delta | seq-delta | [num-fields | field_1] value_1 ... | lp-count

``count`` and ``deleted`` are the node's live and deleted entries; an entry's ID is the master ID
plus its deltas (64-bit wrap-around arithmetic); with the SAMEFIELDS flag the entry has the
master entry's fields and only its values are stored; a DELETED entry is a tombstone left by
XDEL or an exact XTRIM; ``lp-count`` is the number of the entry's elements before it, flags
included (what lets Redis walk the listpack backwards).

Where the nodes start and end is the stream model's (``StreamValue.nodes``, cut as
redis-server cuts them), so that a file we write gives redis-server the same structure as its
own, and one it wrote gives us its structure, tombstones included. A tombstone's fields and
values are gone once XDEL runs here: ``encode_node`` writes it with the master entry's fields
and empty values (a shape Redis could have written); every other element is byte for byte what
Redis writes. Plain Python values in and out; damage raises ValueError (or IndexError), which
the RDB reader turns into RDBError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

from respserver.keyspace.streams import Node, StreamID, StreamValue, lp_int_size
from respserver.persistence.rdb_encodings import listpack, listpack_element, listpack_items

FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2

_U64 = 1 << 64
_ID = struct.Struct(">QQ")

Entries = list[tuple[StreamID, list[bytes]]]


def encode_id(stream_id: StreamID) -> bytes:
    """An ID as Redis's rax keys and PELs hold it: 128 bits, big-endian."""
    return _ID.pack(*stream_id)


def decode_id(raw: bytes) -> StreamID:
    if len(raw) != 16:
        raise ValueError(f"a stream ID of {len(raw)} bytes")
    return _ID.unpack(raw)


def _signed(delta: int) -> int:
    """A 64-bit difference as the int64 Redis stores it (lpAppendInteger)."""
    delta %= _U64
    return delta - _U64 if delta >= 1 << 63 else delta


def stream_nodes(stream: StreamValue) -> Iterator[tuple[bytes, bytes]]:
    """(rax key, listpack) of each node of ``stream``, oldest first. Nodes that do not hold
    every entry (which the model keeps them doing) are not trusted: the entries are then cut
    into nodes afresh, as successive XADDs would cut them."""
    nodes = stream.nodes
    if sum(node.live for node in nodes) != len(stream):
        nodes = StreamValue(stream.entries.items()).nodes
    entries = stream.entries
    for node in nodes:
        layout = [(stream_id, entries.get(stream_id)) for stream_id in node.ids]
        yield encode_id(node.master), encode_node(node.master, node.fields, layout)


def encode_node(
    master: StreamID, fields: list[bytes], entries: list[tuple[StreamID, Sequence[bytes] | None]]
) -> bytes:
    """A node's listpack: the master entry, then each entry (None: a tombstone)."""
    live = sum(pairs is not None for _, pairs in entries)
    items: list[bytes | int] = [live, len(entries) - live, len(fields), *fields, 0]
    master_ms, master_seq = master
    for (ms, seq), pairs in entries:
        same = pairs is None or pairs[0::2] == fields
        flags = (FLAG_SAMEFIELDS if same else 0) | (FLAG_DELETED if pairs is None else 0)
        items += (flags, _signed(ms - master_ms), _signed(seq - master_seq))
        if pairs is None:
            items += [b""] * len(fields)
            items.append(len(fields) + 3)
        elif same:
            items += pairs[1::2]
            items.append(len(fields) + 3)
        else:
            items.append(len(pairs) // 2)
            items += pairs
            items.append(len(pairs) + 4)
    return listpack([listpack_element(item) for item in items])


def decode_node(key: bytes, blob: bytes) -> tuple[Node, Entries]:
    """A node as the model holds it (master, fields, every ID, deleted ones included, and its
    size) and its live entries in ID order; ValueError or IndexError if it is damaged."""
    master = decode_id(key)
    items = listpack_items(blob)
    if not items:
        raise ValueError("an empty stream node")
    count, deleted, nfields = int(items[0]), int(items[1]), int(items[2])
    fields = items[3 : 3 + nfields]
    if len(fields) != nfields or int(items[3 + nfields]) != 0:
        raise ValueError("bad master entry")
    node = Node(master, fields)
    entries: Entries = []
    p = 4 + nfields
    while p < len(items):
        flags = int(items[p])
        stream_id = ((master[0] + int(items[p + 1])) % _U64, (master[1] + int(items[p + 2])) % _U64)
        p += 3
        if flags & FLAG_SAMEFIELDS:
            values = items[p : p + nfields]
            if len(values) != nfields:
                raise ValueError("an entry runs past the end of its node")
            p += nfields
            pairs = fields + values  # the right length; interleaved next
            pairs[0::2], pairs[1::2] = fields, values
            lp_count = nfields + 3
        else:
            n = int(items[p])
            pairs = items[p + 1 : p + 1 + 2 * n]
            p += 1 + 2 * n
            if len(pairs) != 2 * n:
                raise ValueError("an entry runs past the end of its node")
            lp_count = 2 * n + 4
        if int(items[p]) != lp_count:
            raise ValueError("bad entry length")
        p += 1
        if node.ids and stream_id <= node.ids[-1] or stream_id < master:
            raise ValueError("entries out of order")
        node.ids.append(stream_id)
        if not flags & FLAG_DELETED:
            entries.append((stream_id, pairs))
    if not node.ids:
        raise ValueError("a stream node without entries")
    if len(entries) != count or len(node.ids) - count != deleted:
        raise ValueError("master entry counts do not match the entries")
    node.live = count
    node.size = len(blob) - lp_int_size(count) - lp_int_size(deleted)
    return node, entries
