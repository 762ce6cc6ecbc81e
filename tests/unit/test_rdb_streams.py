"""Streams in the RDB codec and the AOF rewrite, no server: the listpack writer, stream nodes
cut as redis-server cuts them, round trips of streams with groups, PELs and consumers through
files and DUMP payloads, the older (Redis 5/6) and newer (7.2) stream types, tombstones, damage,
and the commands a rewrite emits. (Against redis-server: tests/differential/
test_streams_persistence.py.)"""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from respserver.keyspace.streams import (
    Consumer,
    ConsumerGroup,
    PendingEntry,
    StreamValue,
    lp_string_size,
)
from respserver.persistence import aof, rdb
from respserver.persistence.rdb import RDBError, dump_payload, encode_length, load_payload
from respserver.persistence.rdb_encodings import listpack, listpack_element, listpack_items
from respserver.persistence.rdb_streams import decode_node, encode_id, stream_nodes
from tests.helpers.rdb import as_dumps, assert_every_bit_flip_fails, dump, read

NOW = 1_700_000_000_000
U64 = 2**64 - 1


def stream_state(stream: StreamValue) -> tuple:
    """Everything a stream holds, as plain values (PEL entries by their fields and owner)."""
    groups = {}
    for name, group in stream.groups.items():
        pel = {
            i: (p.delivery_time, p.delivery_count, p.consumer.name) for i, p in group.pel.items()
        }
        consumers = {
            c.name: (c.seen_time, [(i, p is group.pel[i]) for i, p in c.pel.items()])
            for c in group.consumers.values()
        }
        groups[name] = (group.last_id, group.entries_read, pel, consumers)
    entries = [(i, list(pairs)) for i, pairs in stream.entries.items()]
    nodes = [(n.master, n.fields, n.ids, n.live) for n in stream.nodes]
    return entries, nodes, stream.last_id, stream.max_deleted_id, stream.entries_added, groups


def with_group(stream: StreamValue, name: bytes, last_id, read, consumers) -> ConsumerGroup:
    """Add a group; ``consumers`` maps a name to (seen time, {pending ID: (time, count)})."""
    group = stream.groups[name] = ConsumerGroup(name, last_id, read)
    for consumer_name, (seen, pending) in consumers.items():
        consumer = group.consumers[consumer_name] = Consumer(consumer_name, seen)
        for stream_id, (when, count) in pending.items():
            entry = PendingEntry(when, count, consumer)
            group.pel[stream_id] = consumer.pel[stream_id] = entry
    return group


def sample_stream() -> StreamValue:
    stream = StreamValue(
        [
            ((1, 1), [b"a", b"1", b"b", b"x"]),
            ((5, 0), [b"a", b"2", b"b", b"y"]),
            ((6, 0), [b"a", b"3", b"b", b"z"]),
            ((7, U64), [b"other", b"-7"]),
        ]
    )
    stream.delete([(6, 0)])
    stream.last_id, stream.max_deleted_id, stream.entries_added = (9, 0), (6, 0), 5
    with_group(
        stream,
        b"g1",
        (5, 0),
        2,
        {
            b"bob": (NOW, {(5, 0): (NOW - 5, 2)}),
            b"alice": (NOW + 1, {(1, 1): (NOW - 9, 1), (7, U64): (-1, U64)}),
            b"idle": (NOW + 2, {}),
        },
    )
    with_group(stream, b"123", (0, 0), None, {})  # an integer-like name, no consumers
    return stream


# -- the listpack writer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "encoded"),
    [
        (b"0", b"\x00\x01"),
        (127, b"\x7f\x01"),
        (b"128", b"\xc0\x80\x02"),
        (-1, b"\xdf\xff\x02"),
        (b"-4096", b"\xd0\x00\x02"),
        (4096, b"\xf1\x00\x10\x03"),
        (-32768, b"\xf1\x00\x80\x03"),
        (b"8388607", b"\xf2\xff\xff\x7f\x04"),
        (-(2**31), b"\xf3\x00\x00\x00\x80\x05"),
        (b"9223372036854775807", b"\xf4" + b"\xff" * 7 + b"\x7f\x09"),
        (b"-0", b"\x82-0\x03"),  # not canonical: strings
        (b"007", b"\x83007\x04"),
        (b"9223372036854775808", b"\x939223372036854775808\x14"),
        (b"", b"\x80\x01"),
        (b"x" * 64, b"\xe0\x40" + b"x" * 64 + b"\x42"),
        (b"x" * 126, b"\xe0\x7e" + b"x" * 126 + b"\x01\x80"),  # a 2-byte back-length: 128
    ],
)
def test_listpack_elements_as_redis_encodes_them(item: bytes | int, encoded: bytes) -> None:
    assert listpack_element(item) == encoded


@pytest.mark.parametrize("size", [127, 128, 16382, 16383, 16384, 2097150, 2097151])
def test_listpack_back_lengths_at_their_limits(size: int) -> None:
    """A string whose element is ``size`` bytes (a 32-bit length: 5 + n), read back."""
    s = b"s" * (size - 5)
    blob = listpack([listpack_element(s), listpack_element(b"7")])
    assert listpack_items(blob) == [s, b"7"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=5000),
            st.integers(-(2**63), 2**63 - 1).map(lambda i: b"%d" % i),
            st.sampled_from([b"-0", b"007", b"1e3", b"-", b"+1", b"18446744073709551615"]),
        ),
        max_size=40,
    )
)
def test_listpack_round_trip(items: list[bytes]) -> None:
    """Read back equal, and each element as long as the stream model reckons (its node sizes
    decide where nodes are cut)."""
    assert listpack_items(listpack([listpack_element(x) for x in items])) == items
    assert [len(listpack_element(x)) for x in items] == [lp_string_size(x) for x in items]


# -- stream nodes -----------------------------------------------------------------------------


def entries_of(count: int, value: bytes = b"v") -> list[tuple[tuple[int, int], list[bytes]]]:
    return [((i, 0), [b"f", value]) for i in range(1, count + 1)]


def nodes_of(entries: list[tuple[tuple[int, int], list[bytes]]]) -> list[tuple[bytes, bytes]]:
    return list(stream_nodes(StreamValue(entries)))


def test_nodes_hold_at_most_100_entries() -> None:
    nodes = nodes_of(entries_of(250))
    assert [key for key, _ in nodes] == [
        encode_id((1, 0)),
        encode_id((101, 0)),
        encode_id((201, 0)),
    ]
    assert [len(decode_node(*node)[1]) for node in nodes] == [100, 100, 50]


def test_nodes_stop_short_of_4096_bytes() -> None:
    """A node takes an entry while its listpack's bytes plus the entry's fields and values stay
    under 4096 (the model's sizes are the listpacks' written here); the first entry of a node
    goes in whatever its size."""
    stream = StreamValue(entries_of(40, b"v" * 200))
    nodes = list(stream_nodes(stream))
    sizes = [len(blob) for _, blob in nodes]
    assert sum(len(decode_node(*node)[1]) for node in nodes) == 40 and len(nodes) > 1
    assert all(size + 201 >= 4096 for size in sizes[:-1])
    assert sizes == [node.byte_size() for node in stream.nodes]
    ((_, huge),) = nodes_of([((1, 0), [b"f", b"x" * 10_000])])
    assert len(huge) > 10_000


def test_entries_with_other_fields_and_far_ids_in_one_node() -> None:
    """Deltas wrap around 64 bits (a later ID with a smaller sequence, ms far apart); entries
    whose fields differ from the master entry's carry them."""
    entries = [
        ((5, 7), [b"a", b"1"]),
        ((6, 0), [b"a", b"2"]),
        ((U64, U64), [b"b", b"3", b"c", b""]),
    ]
    ((key, blob),) = nodes_of(entries)
    assert key == encode_id((5, 7))
    node, live = decode_node(key, blob)
    assert live == entries and node.ids == [i for i, _ in entries] and node.live == 3
    items = listpack_items(blob)
    # master: count 3, deleted 0, one field "a", terminator; first entry: SAMEFIELDS, 0, 0
    assert items[:9] == [b"3", b"0", b"1", b"a", b"0", b"2", b"0", b"0", b"1"]
    assert items[9:11] == [b"4", b"2"]  # lp-count of the first entry (1 value + 3)


def tombstoned_node() -> tuple[bytes, bytes]:
    """A node as XDEL leaves it: the middle entry flagged deleted, the counts updated."""
    elements = [1, 1, 1, b"f", 0]  # count 1 live, 1 deleted, fields [f], terminator
    elements += [2, 0, 0, b"v1", 4]  # 10-0 (SAMEFIELDS)
    elements += [2 | 1, 0, 1, b"v2", 4]  # 10-1, deleted
    return encode_id((10, 0)), listpack([listpack_element(e) for e in elements])


def test_tombstones_are_skipped_but_kept_in_the_node() -> None:
    key, blob = tombstoned_node()
    node, live = decode_node(key, blob)
    assert live == [((10, 0), [b"f", b"v1"])]
    assert (node.master, node.fields, node.ids, node.live) == (
        (10, 0),
        [b"f"],
        [(10, 0), (10, 1)],
        1,
    )
    assert node.byte_size() == len(blob)


def test_deleted_entries_are_written_as_tombstones() -> None:
    """After XDEL the node keeps its deleted entries (Redis's tombstones): written with the
    master entry's fields and empty values, flagged deleted, counted as deleted."""
    stream = StreamValue(entries_of(5) + [((6, 0), [b"g", b"w"])])
    stream.delete([(1, 0), (3, 0), (6, 0)])
    ((key, blob),) = stream_nodes(stream)
    items = listpack_items(blob)
    assert items[:2] == [b"3", b"3"]
    assert items[5:10] == [b"3", b"0", b"0", b"", b"4"]  # 1-0: SAMEFIELDS | DELETED
    assert items[-5:] == [b"3", b"5", b"0", b"", b"4"]  # 6-0 had other fields
    node, live = decode_node(key, blob)
    assert live == list(stream.entries.items())
    assert (node.master, node.ids, node.live) == ((1, 0), [(i, 0) for i in range(1, 7)], 3)


def test_a_stream_whose_nodes_miss_entries_is_cut_afresh() -> None:
    """Nodes that do not account for every entry are not trusted (data must not be lost)."""
    stream = StreamValue(entries_of(3))
    stream.entries[(9, 0)] = [b"f", b"late"]  # not through append: no node holds it
    ((key, blob),) = stream_nodes(stream)
    assert decode_node(key, blob)[1] == list(stream.entries.items())


# -- round trips ------------------------------------------------------------------------------


def test_a_stream_round_trips_through_a_payload_and_a_file() -> None:
    stream = sample_stream()
    loaded = load_payload(dump_payload(stream))
    assert stream_state(loaded) == stream_state(stream)
    assert list(loaded.groups) == [b"123", b"g1"]  # name order, as Redis writes them
    assert list(loaded.groups[b"g1"].consumers) == [b"alice", b"bob", b"idle"]
    (entry,) = read(dump([(0, {b"s": stream}, {b"s": NOW + 1000})], now_ms=NOW))
    assert entry[::3] == (0, NOW + 1000) and stream_state(entry[2]) == stream_state(stream)


def test_an_empty_stream_is_kept() -> None:
    """Unlike empty collections, an empty stream is a value: written, and read back."""
    empty = StreamValue()
    emptied = StreamValue()
    emptied.last_id, emptied.max_deleted_id, emptied.entries_added = (5, 5), (5, 5), 1
    with_group(emptied, b"g", (5, 5), 1, {b"c": (NOW, {})})
    got = as_dumps(read(dump([(0, {b"e": empty, b"d": emptied}, {})], now_ms=NOW)))
    assert {k: stream_state(v) for k, v in got[0][0].items()} == {
        b"e": stream_state(empty),
        b"d": stream_state(emptied),
    }
    assert stream_state(load_payload(dump_payload(empty))) == stream_state(empty)


ids = st.tuples(st.integers(0, U64), st.integers(0, U64))
words = st.sampled_from([b"a", b"b", b"12", b"-5", b"", b"x" * 70])
pairs = st.lists(st.tuples(words, words), min_size=1, max_size=3).map(
    lambda items: [x for pair in items for x in pair]
)


@st.composite
def streams(draw: st.DrawFn) -> StreamValue:
    keys = sorted(draw(st.sets(ids, max_size=250)))
    fields = draw(pairs)
    stream = StreamValue((i, draw(st.one_of(st.just(fields), pairs))) for i in keys)
    stream.delete(draw(st.sets(st.sampled_from(keys), max_size=len(keys) // 2)) if keys else ())
    stream.last_id = max(draw(ids), stream.last_id)
    stream.max_deleted_id = draw(ids)
    stream.entries_added = draw(st.integers(len(stream), U64))
    for name in draw(st.sets(st.sampled_from([b"g", b"1", b"h" * 40]), max_size=3)):
        consumers = {}
        pending = draw(st.sets(st.sampled_from(keys), max_size=10)) if keys else set()
        for consumer_name in draw(st.sets(st.sampled_from([b"c1", b"c2", b"-3"]), max_size=3)):
            mine = {
                i: (draw(st.integers(-(2**63), 2**63 - 1)), draw(st.integers(0, U64)))
                for i in pending
            }
            consumers[consumer_name] = (draw(st.integers(0, 2**50)), mine)
            pending = set()
        read_count = draw(st.one_of(st.none(), st.integers(0, 2**63 - 1)))
        with_group(stream, name, draw(ids), read_count, consumers)
    return stream


@settings(max_examples=60, deadline=None)
@given(streams())
def test_stream_round_trip(stream: StreamValue) -> None:
    assert stream_state(load_payload(dump_payload(stream))) == stream_state(stream)


# -- other stream types, damage ---------------------------------------------------------------


def lengths(*numbers: int) -> bytes:
    return b"".join(encode_length(n) for n in numbers)


def raw(s: bytes) -> bytes:
    return encode_length(len(s)) + s


def payload(type_byte: int, body: bytes) -> bytes:
    data = bytes([type_byte]) + body + struct.pack("<H", 10)
    return data + struct.pack("<Q", rdb.crc64(data))


def nodes_body(entries) -> bytes:
    nodes = nodes_of(entries)
    return encode_length(len(nodes)) + b"".join(raw(key) + raw(blob) for key, blob in nodes)


def consumer_body(name: bytes, seen: int, ids_: list, active: int | None = None) -> bytes:
    times = struct.pack("<q", seen) + (b"" if active is None else struct.pack("<q", active))
    return raw(name) + times + encode_length(len(ids_)) + b"".join(map(encode_id, ids_))


@pytest.mark.parametrize(
    ("group_id", "estimate"),
    [((0, 0), 0), ((2, 0), 1), ((3, 0), None), ((4, 0), 3), ((5, 0), None)],
)
def test_redis_6_streams_estimate_entries_read(group_id, estimate) -> None:
    """Type 15 (Redis 5/6) has no first ID, max deleted ID, entries added, entries read:
    entries added is the length, and a group's entries read is estimated as Redis does."""
    entries = [((2, 0), [b"f", b"1"]), ((3, 0), [b"f", b"2"]), ((4, 0), [b"f", b"3"])]
    body = nodes_body(entries) + lengths(3, 4, 0, 1)
    body += raw(b"g") + lengths(*group_id, 1) + encode_id((3, 0)) + struct.pack("<q", NOW)
    body += lengths(2, 1) + consumer_body(b"c", NOW + 1, [(3, 0)])
    stream = load_payload(payload(rdb.TYPE_STREAM_LISTPACKS, body))
    assert (stream.last_id, stream.max_deleted_id, stream.entries_added) == ((4, 0), (0, 0), 3)
    group = stream.groups[b"g"]
    assert (group.last_id, group.entries_read) == (group_id, estimate)
    pending = group.pel[(3, 0)]
    assert (pending.delivery_time, pending.delivery_count, pending.consumer.name) == (NOW, 2, b"c")


def test_redis_7_2_streams_carry_an_active_time() -> None:
    """Type 21 (Redis 7.2) adds each consumer's active time, which respserver does not keep."""
    body = nodes_body(entries_of(2)) + lengths(2, 2, 0, 1, 0, 0, 0, 2, 1)
    body += raw(b"g") + lengths(2, 0, 2, 0, 2) + consumer_body(b"a", 5, [], 6)
    body += consumer_body(b"b", 7, [], 8)
    stream = load_payload(payload(rdb.TYPE_STREAM_LISTPACKS_3, body))
    assert [(c.name, c.seen_time) for c in stream.groups[b"g"].consumers.values()] == [
        (b"a", 5),
        (b"b", 7),
    ]


def test_a_node_with_tombstones_loads_its_live_entries() -> None:
    key, blob = tombstoned_node()
    body = lengths(1) + raw(key) + raw(blob) + lengths(1, 10, 1, 10, 0, 10, 1, 2, 0)
    stream = load_payload(payload(rdb.TYPE_STREAM_LISTPACKS_2, body))
    assert list(stream.entries.items()) == [((10, 0), [b"f", b"v1"])]
    assert (stream.last_id, stream.max_deleted_id, stream.entries_added) == ((10, 1), (10, 1), 2)


def group_body(pel: list, consumers: list[tuple[bytes, list]]) -> bytes:
    body = raw(b"g") + lengths(0, 0, 0, len(pel))
    body += b"".join(encode_id(i) + struct.pack("<q", 0) + lengths(1) for i in pel)
    body += encode_length(len(consumers))
    return body + b"".join(consumer_body(name, 0, mine) for name, mine in consumers)


def unordered_node() -> bytes:
    elements = [2, 0, 1, b"f", 0, 2, 0, 1, b"a", 4, 2, 0, 0, b"b", 4]  # 1-1, then 1-0
    return listpack([listpack_element(e) for e in elements])


HEAD = nodes_body(entries_of(2)) + lengths(2, 2, 0, 1, 0, 0, 0, 2)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (nodes_body(entries_of(2)) + lengths(3, 2, 0, 1, 0, 0, 0, 2, 0), "3 entries announced"),
        (nodes_body(entries_of(2)) + lengths(2, 1, 5, 1, 0, 0, 0, 2, 0), "last ID is before"),
        (lengths(2) + nodes_body(entries_of(2))[1:] * 2, "nodes out of order"),
        (lengths(1) + raw(encode_id((1, 0))) + raw(unordered_node()), "entries out of order"),
        (HEAD + lengths(1) + group_body([(1, 0)], []), "pending entries without a consumer"),
        (HEAD + lengths(1) + group_body([], [(b"c", [(1, 0)])]), "has an unknown entry"),
        (HEAD + lengths(1) + group_body([(1, 0)] * 2, []), "a pending entry twice"),
        (HEAD + lengths(1) + group_body([], [(b"c", []), (b"c", [])]), "consumer b'c' twice"),
        (HEAD + lengths(2) + group_body([], []) * 2, "group b'g' twice"),
        (lengths(1) + raw(b"short") + raw(listpack([])), "a stream ID of 5 bytes"),
        (lengths(1) + raw(encode_id((1, 0))) + raw(listpack([])), "an empty stream node"),
    ],
)
def test_damaged_streams(body: bytes, what: str) -> None:
    with pytest.raises(RDBError, match=what):
        load_payload(payload(rdb.TYPE_STREAM_LISTPACKS_2, body + lengths(0)))


def test_every_bit_flip_in_a_stream_is_an_error() -> None:
    assert_every_bit_flip_fails(dump([(0, {b"s": sample_stream()}, {})], now_ms=NOW))


def test_a_file_with_streams_loads_whole() -> None:
    blob = dump([(2, {b"s": sample_stream(), b"x": b"y"}, {})], now_ms=NOW)
    ((db, data, _),) = rdb.load_rdb(io.BytesIO(blob))
    assert db == 2 and stream_state(data[b"s"]) == stream_state(sample_stream())


# -- the AOF rewrite --------------------------------------------------------------------------


def test_the_rewrite_of_a_stream_is_redis_s() -> None:
    """rewriteStreamObject's commands: XADD per entry, XSETID, then per group (name order)
    XGROUP CREATE ... ENTRIESREAD, and per consumer (name order) XCLAIM ... JUSTID FORCE per
    pending entry, or XGROUP CREATECONSUMER."""
    assert aof.stream_commands(b"s", sample_stream()) == [
        [b"XADD", b"s", b"1-1", b"a", b"1", b"b", b"x"],
        [b"XADD", b"s", b"5-0", b"a", b"2", b"b", b"y"],
        [b"XADD", b"s", b"7-%d" % U64, b"other", b"-7"],
        [b"XSETID", b"s", b"9-0", b"ENTRIESADDED", b"5", b"MAXDELETEDID", b"6-0"],
        [b"XGROUP", b"CREATE", b"s", b"123", b"0-0", b"ENTRIESREAD", b"-1"],
        [b"XGROUP", b"CREATE", b"s", b"g1", b"5-0", b"ENTRIESREAD", b"2"],
        claim(b"alice", b"1-1", NOW - 9, 1),
        claim(b"alice", b"7-%d" % U64, -1, U64),
        claim(b"bob", b"5-0", NOW - 5, 2),
        [b"XGROUP", b"CREATECONSUMER", b"s", b"g1", b"idle"],
    ]


def claim(consumer: bytes, stream_id: bytes, when: int, count: int) -> list[bytes]:
    return [b"XCLAIM", b"s", b"g1", consumer, b"0", stream_id, b"TIME", b"%d" % when] + [
        b"RETRYCOUNT",
        b"%d" % count,
        b"JUSTID",
        b"FORCE",
    ]


def test_the_rewrite_of_an_empty_stream_adds_and_trims_a_dummy() -> None:
    stream = StreamValue()
    stream.last_id, stream.max_deleted_id, stream.entries_added = (3, 4), (3, 4), 7
    chunks = list(aof.snapshot([(1, {b"e": stream}, {b"e": NOW + 5})], NOW))
    commands = [argv for c in chunks for argv in aof.parse_commands(c.split(b"\r\n", 1)[1], 0)]
    assert commands == [
        [b"SELECT", b"1"],
        [b"XADD", b"e", b"MAXLEN", b"0", b"0-1", b"x", b"y"],
        [b"XSETID", b"e", b"3-4", b"ENTRIESADDED", b"7", b"MAXDELETEDID", b"3-4"],
        [b"PEXPIREAT", b"e", b"%d" % (NOW + 5)],
    ]
