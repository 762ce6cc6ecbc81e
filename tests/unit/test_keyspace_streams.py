"""Streams on their own (keyspace/streams.py): IDs read as Redis reads them (C's strtoull
quirks included), ID generation, the listpack nodes that "~" trims cut along, and COPY's
independence. (Against a real redis-server: tests/differential/test_streams.py.)"""

from __future__ import annotations

import pytest

from respserver.errors import (
    INVALID_END_INTERVAL,
    INVALID_START_INTERVAL,
    INVALID_STREAM_ID,
    XADD_ELEMENTS_TOO_LARGE,
    XADD_ID_TOO_SMALL,
    CommandError,
)
from respserver.keyspace.streams import (
    MAX_ID,
    UINT64_MAX,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    StreamValue,
    lp_string_size,
    parse_id,
    parse_range_end,
    parse_range_start,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"1-2", ((1, 2), True)),
        (b"7", ((7, 0), True)),
        (b"-", ((0, 0), True)),
        (b"+", (MAX_ID, True)),
        (b" 7-+3", ((7, 3), True)),  # strtoull: blanks and a plus sign
        (b"007-010", ((7, 10), True)),
        (b"1--0", ((1, 0), True)),
        (b"1--05", ((1, 2**64 - 5), True)),  # not a long long, so strtoull wraps it
        (b"1-18446744073709551615", ((1, UINT64_MAX), True)),
        (b"1-2\x00junk", ((1, 2), True)),  # read as a C string
    ],
)
def test_ids_are_read_as_redis_reads_them(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [b"", b"x", b"1-x", b"1--5", b"-1", b"1-2-3", b"18446744073709551616", b"1-*", b"9" * 128],
)
def test_invalid_ids(text):
    with pytest.raises(CommandError, match=INVALID_STREAM_ID):
        parse_id(text)


def test_strict_and_auto_sequence_forms():
    assert parse_id(b"5-*", auto_seq=True) == ((5, 0), False)
    with pytest.raises(CommandError):
        parse_id(b"+", strict=True)
    assert parse_range_start(b"(1-5") == (1, 6)
    assert parse_range_start(b"(1-18446744073709551615") == (2, 0)
    assert parse_range_end(b"3") == (3, UINT64_MAX)
    assert parse_range_end(b"(3-0") == (2, UINT64_MAX)
    with pytest.raises(CommandError, match=INVALID_START_INTERVAL):
        parse_range_start(b"(18446744073709551615-18446744073709551615")
    with pytest.raises(CommandError, match=INVALID_END_INTERVAL):
        parse_range_end(b"(0-0")


def test_next_id():
    stream = StreamValue([((5, 5), [b"f", b"v"])])
    assert stream.next_id(None, True, now_ms=9) == (9, 0)
    assert stream.next_id(None, True, now_ms=3) == (5, 6)  # the clock is behind
    assert stream.next_id((5, 0), False, now_ms=0) == (5, 6)
    assert stream.next_id((6, 0), False, now_ms=0) == (6, 0)
    for wanted, seq_given in (((5, 5), True), ((4, 0), False)):
        with pytest.raises(CommandError, match=XADD_ID_TOO_SMALL):
            stream.next_id(wanted, seq_given, now_ms=0)
    stream.last_id = (5, UINT64_MAX)
    with pytest.raises(CommandError, match=XADD_ELEMENTS_TOO_LARGE):  # as Redis answers it
        stream.next_id((5, 0), False, now_ms=0)


def test_listpack_sizes():
    assert lp_string_size(b"127") == 2 and lp_string_size(b"128") == 3
    assert lp_string_size(b"-0") == 4 and lp_string_size(b"01") == 4  # strings, not integers
    assert lp_string_size(b"x" * 63) == 65 and lp_string_size(b"x" * 64) == 67
    assert lp_string_size(b"9223372036854775807") == 10
    assert lp_string_size(b"9223372036854775808") == 21


def _stream(count: int) -> StreamValue:
    return StreamValue([((ms, 0), [b"f", b"v"]) for ms in range(1, count + 1)])


def test_nodes_split_at_the_entry_limit_and_survive_deletions():
    stream = _stream(250)
    assert [len(node.ids) for node in stream.nodes] == [100, 100, 50]
    stream.delete([(ms, 0) for ms in range(1, 100)])
    assert len(stream.nodes) == 3 and stream.nodes[0].live == 1  # tombstones stay
    stream.delete([(100, 0)])
    assert len(stream.nodes) == 2 and stream.max_deleted_id == (100, 0)


def test_trims():
    stream = _stream(250)
    assert stream.trim(200, None, approx=True) == 0  # one node would leave 150
    assert stream.trim(120, None, approx=True, limit=100) == 100
    assert stream.trim(100, None) == 50 and len(stream) == 100
    assert stream.trim(None, (240, 0), approx=True) == 50  # the node 101-200, half flagged
    assert stream.trim(None, (240, 0)) == 39
    assert stream.first_id() == (240, 0) and stream.first_id_kept() == (201, 0)
    assert stream.max_deleted_id == (0, 0)  # trims do not count as deletions


def test_copy_is_independent_groups_included():
    stream = _stream(3)
    group = stream.groups[b"g"] = ConsumerGroup(b"g", (2, 0), 2)
    consumer = group.consumers[b"c"] = Consumer(b"c", 100)
    pending = PendingEntry(50, 1, consumer)
    group.pel[(1, 0)] = consumer.pel[(1, 0)] = pending
    twin = stream.copy()
    twin.delete([(1, 0)])
    twin.append((9, 0), [b"f", b"v"])
    twin_group = twin.groups[b"g"]
    assert twin_group.pel[(1, 0)] is twin_group.consumers[b"c"].pel[(1, 0)]
    assert twin_group.pel[(1, 0)].consumer is twin_group.consumers[b"c"]
    twin_group.pel.clear()
    assert len(stream) == 3 and stream.last_id == (3, 0) and len(stream.nodes[0].ids) == 3
    assert group.pel[(1, 0)] is pending
